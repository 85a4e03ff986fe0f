/*
 * Stress: 16 threads x 200 attempts on overlapping seats of one 30-seat
 * showtime (random 1-4 seats; some pay, some decline, some cancel; the clock
 * jumps now and then so holds expire), on the store in BOOKING_TEST_STORE_URL.
 * Afterwards booking_check() must find nothing, and every successful hold's
 * seats must have been its own for as long as it held them: the ownership
 * intervals of the reservations of a seat never overlap.
 *
 * Time moves only between operations (an epoch lock: operations share it,
 * the clock jump takes it alone), so each reservation's created_at, updated_at
 * and expires_at order it exactly against the others.
 * SPDX-License-Identifier: MIT
 */
#include "suites.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 16
#define ATTEMPTS 200
#define JUMP (5 * FX_MINUTE)

typedef struct held {
	char id[BOOKING_ID_SIZE];
	char payment_id[BOOKING_ID_SIZE]; /* "" unless paid */
	int seats[4];
	int n;
	bool refunded;
} held;

typedef struct worker {
	int id;
	pthread_barrier_t *barrier;
	held holds[ATTEMPTS];
	int n_holds;
	int taken, paid, declined, cancelled, refunded, late, jumps;
	int unexpected;
	char first_unexpected[200];
} worker;

static fx f;
static pthread_rwlock_t epoch;

/*
 * Widen the window between the core's pre-checks and the store's guarded
 * writes, so other threads interleave there and the store has to decide.
 */
static void widen_the_race(fx_store_wrap *w, const char *member)
{
	struct timespec pause = {0, 100 * 1000};

	(void)w;
	(void)member;
	nanosleep(&pause, NULL);
}

static void unexpected(worker *w, const char *what, int rc)
{
	if (w->unexpected++ == 0)
		snprintf(w->first_unexpected, sizeof(w->first_unexpected), "%s: %s: %s", what, booking_error_name(rc),
		         booking_error_last()->message);
}

static void label(int seat, char out[BOOKING_LABEL_SIZE])
{
	snprintf(out, BOOKING_LABEL_SIZE, "%c%d", 'A' + seat / 10, seat % 10 + 1);
}

static void attempt(worker *w, unsigned *seed, int i)
{
	char user[32], labels[4][BOOKING_LABEL_SIZE], key[48];
	const char *ptrs[4];
	int seats[4], n = 1 + (int)(rand_r(seed) % 4);
	booking_ctx me;
	booking_reservation *r = NULL;
	int rc, action;

	snprintf(user, sizeof(user), "user-%d", w->id);
	booking_ctx_init(&me, user, BOOKING_ROLE_CUSTOMER);
	for (int k = 0; k < n; k++) {
		bool dup;
		do {
			seats[k] = (int)(rand_r(seed) % FX_SEATS);
			dup = false;
			for (int j = 0; j < k; j++)
				dup = dup || seats[j] == seats[k];
		} while (dup);
		label(seats[k], labels[k]);
		ptrs[k] = labels[k];
	}

	pthread_rwlock_rdlock(&epoch);
	rc = booking_hold(&r, f.bk, &me, f.showtime_id, ptrs, (size_t)n);
	if (rc == BOOKING_ESEAT_ALREADY_BOOKED) {
		w->taken++;
	} else if (rc != 0) {
		unexpected(w, "hold", rc);
	} else {
		held *h = &w->holds[w->n_holds++];
		snprintf(h->id, sizeof(h->id), "%s", r->id);
		memcpy(h->seats, seats, sizeof(seats));
		h->n = n;
		/* the seats are not free the moment the hold returns */
		for (int k = 0; k < n; k++)
			if (fx_seat_status(&f, labels[k]) == BOOKING_SEAT_FREE)
				unexpected(w, "seat free right after its hold", 0);
		booking_reservation_free(r);
	}
	pthread_rwlock_unlock(&epoch);
	if (rc != 0)
		return;

	action = (int)(rand_r(seed) % 20);
	pthread_rwlock_rdlock(&epoch);
	if (action < 5) {
		/* pay; one in five with a card that is declined */
		held *h = &w->holds[w->n_holds - 1];
		booking_payment *p = NULL;
		const char *card = action == 0 ? FX_CARD_DECLINED : FX_CARD_OK;
		snprintf(key, sizeof(key), "pay-%d-%d", w->id, i);
		rc = booking_pay(&p, f.bk, &me, h->id, key, card);
		if (rc == 0) {
			w->paid++;
			snprintf(h->payment_id, sizeof(h->payment_id), "%s", p->id);
			booking_payment_free(p);
		} else if (rc == BOOKING_EPAYMENT_DECLINED && action == 0) {
			w->declined++;
		} else if (rc == BOOKING_EEXPIRED || rc == BOOKING_EINVALID_STATE) {
			w->late++; /* other threads jumped the clock past the hold (and maybe swept it) */
		} else {
			unexpected(w, "pay", rc);
		}
	} else if (action < 10) {
		rc = booking_reservation_cancel(NULL, f.bk, &me, w->holds[w->n_holds - 1].id);
		if (rc == 0)
			w->cancelled++;
		else if (rc == BOOKING_EEXPIRED || rc == BOOKING_EINVALID_STATE)
			w->late++;
		else
			unexpected(w, "cancel", rc);
	}
	pthread_rwlock_unlock(&epoch);
}

/* Between attempts: time jumps (holds run out), the sweeper runs, or a sale is refunded (seats come back). */
static void meanwhile(worker *w, unsigned *seed)
{
	int action = (int)(rand_r(seed) % 100), rc;

	if (action < 2) {
		pthread_rwlock_wrlock(&epoch);
		fx_advance(&f, JUMP);
		w->jumps++;
		pthread_rwlock_unlock(&epoch);
	} else if (action < 4) {
		booking_ctx sys = fx_system();
		pthread_rwlock_rdlock(&epoch);
		rc = booking_expire_due(NULL, f.bk, &sys, 50);
		if (rc != 0)
			unexpected(w, "expire_due", rc);
		pthread_rwlock_unlock(&epoch);
	} else if (action < 9) {
		booking_ctx admin = fx_admin();
		for (int k = w->n_holds - 1; k >= 0; k--) {
			held *h = &w->holds[k];
			if (h->payment_id[0] && !h->refunded) {
				pthread_rwlock_rdlock(&epoch);
				rc = booking_payment_refund(NULL, f.bk, &admin, h->payment_id);
				pthread_rwlock_unlock(&epoch);
				if (rc == 0) {
					h->refunded = true;
					w->refunded++;
				} else {
					unexpected(w, "refund", rc);
				}
				break;
			}
		}
	}
}

static void *work(void *p)
{
	worker *w = p;
	unsigned seed = 2654435761u * (unsigned)(w->id + 1);

	pthread_barrier_wait(w->barrier);
	for (int i = 0; i < ATTEMPTS; i++) {
		attempt(w, &seed, i);
		meanwhile(w, &seed);
	}
	return NULL;
}

/* [start, end) during which a reservation owned its seats. */
typedef struct interval {
	int64_t start, end;
	const char *id;
} interval;

static int64_t owned_until(const booking_reservation *r, const held *h)
{
	if (h->refunded)
		return r->updated_at; /* sold until the refund */
	switch (r->status) {
	case BOOKING_RESERVATION_CONFIRMED:
		return INT64_MAX;
	case BOOKING_RESERVATION_CANCELLED:
		return r->updated_at < r->expires_at ? r->updated_at : r->expires_at;
	default: /* PENDING (maybe declined once), EXPIRED: the hold ran out at expires_at */
		return r->expires_at;
	}
}

START_TEST(sixteen_threads_racing_for_thirty_seats_never_share_one)
{
	pthread_rwlockattr_t attr;
	pthread_barrier_t barrier;
	pthread_t t[THREADS];
	worker *w = calloc(THREADS, sizeof(*w));
	interval *by_seat[FX_SEATS];
	size_t n_seat[FX_SEATS] = {0};
	int holds = 0, paid = 0, taken = 0, cancelled = 0, declined = 0, refunded = 0, jumps = 0, confirmed = 0;
	int64_t now;
	booking_check_report *report = NULL;

	fx_setup(&f);
	f.wrap->before = widen_the_race;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&epoch, &attr);
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		w[i].id = i;
		w[i].barrier = &barrier;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	pthread_rwlock_destroy(&epoch);
	pthread_rwlockattr_destroy(&attr);

	for (int i = 0; i < THREADS; i++) {
		ck_assert_msg(w[i].unexpected == 0, "thread %d: %d unexpected results, first: %s", i, w[i].unexpected,
		              w[i].first_unexpected);
		holds += w[i].n_holds;
		paid += w[i].paid;
		taken += w[i].taken;
		cancelled += w[i].cancelled;
		declined += w[i].declined;
		refunded += w[i].refunded;
		jumps += w[i].jumps;
	}
	fprintf(stderr,
	        "stress on %s: %d holds, %d taken, %d paid, %d declined, %d cancelled, %d refunded, %d clock jumps\n",
	        f.url, holds, taken, paid, declined, cancelled, refunded, jumps);
	ck_assert_int_eq(holds + taken, THREADS * ATTEMPTS);
	ck_assert_int_gt(holds, 0);
	ck_assert_int_gt(taken, 0);
	ck_assert_int_gt(paid, 0);
	ck_assert_int_gt(jumps, 0);

	/* the invariants hold */
	ck_assert_ok(booking_check(&report, f.bk));
	for (size_t i = 0; i < report->count; i++)
		fprintf(stderr, "violation of invariant %d on %s: %s\n", (int)report->items[i]->invariant,
		        report->items[i]->entity_id, report->items[i]->message);
	ck_assert_uint_eq(report->count, 0);
	ck_assert_uint_eq(report->reservations, (size_t)holds);
	booking_check_report_free(report);

	/* ownership intervals never overlap on a seat */
	for (int s = 0; s < FX_SEATS; s++)
		by_seat[s] = calloc((size_t)holds, sizeof(interval));
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < w[i].n_holds; k++) {
			held *h = &w[i].holds[k];
			booking_reservation *r = fx_booking(&f, h->id);
			interval iv = {r->created_at, owned_until(r, h), h->id};
			confirmed += r->status == BOOKING_RESERVATION_CONFIRMED;
			ck_assert_uint_eq(r->seat_count, (size_t)h->n);
			for (int j = 0; j < h->n; j++) {
				int seat = h->seats[j];
				for (size_t m = 0; m < n_seat[seat]; m++) {
					interval *o = &by_seat[seat][m];
					ck_assert_msg(iv.end <= o->start || o->end <= iv.start,
					              "seat %d: reservation %s [%lld, %lld) overlaps %s [%lld, %lld)", seat, iv.id,
					              (long long)iv.start, (long long)iv.end, o->id, (long long)o->start,
					              (long long)o->end);
				}
				by_seat[seat][n_seat[seat]++] = iv;
			}
			booking_reservation_free(r);
		}
	ck_assert_int_eq(confirmed, paid - refunded);

	/* and the seat map agrees with who owns each seat now */
	now = booking_now(f.bk);
	for (int s = 0; s < FX_SEATS; s++) {
		char l[BOOKING_LABEL_SIZE];
		booking_seat_status want = BOOKING_SEAT_FREE;
		for (size_t m = 0; m < n_seat[s]; m++)
			if (by_seat[s][m].start <= now && now < by_seat[s][m].end)
				want = by_seat[s][m].end == INT64_MAX ? BOOKING_SEAT_SOLD : BOOKING_SEAT_HELD;
		label(s, l);
		ck_assert_msg(fx_seat_status(&f, l) == want, "seat %s: status %d, expected %d", l,
		              (int)fx_seat_status(&f, l), (int)want);
		free(by_seat[s]);
	}
	free(w);
	fx_close(&f);
}
END_TEST

/* --- the box office: buyers ask for the best N seats at once ------------------ */

#define BEST_BUYERS 32
#define BEST_PROCS 4

typedef struct best_buyer {
	int id;
	const char *showtime_id;
	booking_handle *bk;
	pthread_barrier_t *barrier;
	int want;
	int rc;
	char reservation_id[BOOKING_ID_SIZE];
} best_buyer;

static void *best_work(void *arg)
{
	best_buyer *b = arg;
	char user[32];
	booking_reservation *r = NULL;
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;

	snprintf(user, sizeof user, "buyer-%d", b->id);
	booking_ctx c = fx_customer(user);
	q.showtime_id = b->showtime_id;
	q.best = (size_t)b->want;
	pthread_barrier_wait(b->barrier);
	b->rc = booking_hold_with(&r, b->bk, &c, &q, sizeof q);
	if (b->rc == 0)
		snprintf(b->reservation_id, sizeof b->reservation_id, "%s", r->id);
	booking_reservation_free(r);
	return NULL;
}

/* Race `n` buyers (2..6 seats each) on `bk`, each on a thread of its own. */
static void best_race(booking_handle *bk, const char *showtime_id, best_buyer *b, int n, int first_id)
{
	pthread_barrier_t barrier;
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	pthread_barrier_init(&barrier, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		b[i] = (best_buyer){.id = first_id + i, .showtime_id = showtime_id, .bk = bk, .barrier = &barrier,
		                    .want = 2 + (first_id + i) % 5};
		pthread_create(&t[i], NULL, best_work, &b[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	free(t);
}

/* Free seats of the map left alone: both sides (same row, column +-1) taken or absent. */
static int orphans_on(booking_seat_map *m)
{
	int n = 0;
	for (size_t i = 0; i < m->count; i++) {
		const booking_seat_state *s = m->seats[i];
		if (s->status != BOOKING_SEAT_FREE)
			continue;
		bool company = false;
		for (size_t k = 0; k < m->count && !company; k++) {
			const booking_seat_state *o = m->seats[k];
			company = o->status == BOOKING_SEAT_FREE && strcmp(o->row, s->row) == 0 &&
			          (o->column == s->column - 1 || o->column == s->column + 1);
		}
		n += !company;
	}
	return n;
}

/* Every buyer got its N seats side by side in one row, no seat twice; the map agrees. */
static int best_verify(const best_buyer *b, int n, const char *showtime_id, bool ample)
{
	int ok = 0, none = 0, busy = 0, held = 0;
	char (*seen)[BOOKING_LABEL_SIZE] = calloc(6 * (size_t)n, BOOKING_LABEL_SIZE);
	size_t nseen = 0;
	for (int i = 0; i < n; i++) {
		if (b[i].rc == BOOKING_ENOT_ENOUGH_SEATS) {
			none++;
			continue;
		}
		if (b[i].rc == BOOKING_ELOCK_FAILED && !ample) {
			busy++;
			continue;
		}
		ck_assert_msg(b[i].rc == 0, "buyer %d: %s", b[i].id, booking_error_name(b[i].rc));
		booking_reservation *r = fx_booking(&f, b[i].reservation_id);
		ck_assert_str_eq(r->showtime_id, showtime_id);
		ck_assert_int_eq((int)r->seat_count, b[i].want);
		for (size_t k = 0; k < r->seat_count; k++) {
			if (ample && k) { /* room enough: side by side in one row, every one of them */
				ck_assert_str_eq(r->seats[k]->row, r->seats[0]->row);
				ck_assert_int_eq(r->seats[k]->number, r->seats[k - 1]->number + 1);
			}
			for (size_t j = 0; j < nseen; j++)
				ck_assert_msg(strcmp(seen[j], r->seats[k]->label) != 0, "seat %s sold twice", r->seats[k]->label);
			snprintf(seen[nseen++], BOOKING_LABEL_SIZE, "%s", r->seats[k]->label);
		}
		held += (int)r->seat_count;
		booking_reservation_free(r);
		ok++;
	}
	free(seen);
	booking_seat_map *m = NULL;
	booking_ctx anyone = fx_customer("door");
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anyone, showtime_id));
	ck_assert_int_eq((int)m->held_count, held);
	int orphans = orphans_on(m);
	fprintf(stderr, "best available on %s: %d buyers, %d got seats (%d seats), %d no seats, %d busy; %d single seats on the map\n",
	        f.url, n, ok, held, none, busy, orphans);
	if (ample)
		ck_assert_int_eq(orphans, 0); /* room enough: no stranding was unavoidable */
	booking_seat_map_free(m);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	return ok;
}

/* false: the store has no box office (ledger version 1), which answers so */
static bool best_setup(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.orphan_policy = BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE;
	fx_open(&f, &o);
	fx_seed(&f);
	if (f.bk && f.store->ledger->version >= 2)
		return true;
	booking_ctx c = fx_customer("buyer");
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = f.showtime_id;
	q.best = 2;
	ck_assert_code(booking_hold_with(NULL, f.bk, &c, &q, sizeof q), "NOT_SUPPORTED");
	fx_close(&f);
	return false;
}

/* A store other processes can open too (a file, a server), not one process's memory. */
static bool shared_store(const char *url)
{
	return strncmp(url, "sqlite:///", 10) == 0 || strncmp(url, "postgres", 8) == 0;
}

START_TEST(thirty_two_buyers_asking_for_the_best_seats_get_them_side_by_side)
{
	best_buyer b[BEST_BUYERS];
	char hall[BOOKING_ID_SIZE];

	if (!best_setup())
		return;
	f.wrap->before = widen_the_race;
	fx_add_hall(&f, "A-P:20", hall); /* 320 seats for at most 192 */
	best_race(f.bk, hall, b, BEST_BUYERS, 0);
	ck_assert_int_eq(best_verify(b, BEST_BUYERS, hall, true), BEST_BUYERS);
	fx_close(&f);
}
END_TEST

START_TEST(thirty_two_buyers_for_too_few_seats_never_share_one)
{
	best_buyer b[BEST_BUYERS];
	char hall[BOOKING_ID_SIZE];

	if (!best_setup())
		return;
	f.wrap->before = widen_the_race;
	fx_add_hall(&f, "A-D:4+4", hall); /* 32 seats for about 128 */
	best_race(f.bk, hall, b, BEST_BUYERS, 0);
	int ok = best_verify(b, BEST_BUYERS, hall, false);
	ck_assert_int_gt(ok, 0);
	ck_assert_int_lt(ok, BEST_BUYERS);
	fx_close(&f);
}
END_TEST

/*
 * Processes: BEST_PROCS children, each its own handle on the same store,
 * race BEST_BUYERS / BEST_PROCS buyers each (a store one process keeps in
 * its own memory has no other processes to race: the threads above do).
 */
START_TEST(processes_asking_for_the_best_seats_never_share_one)
{
	best_buyer b[BEST_BUYERS];
	char hall[BOOKING_ID_SIZE];
	int fds[BEST_PROCS][2];
	pid_t pids[BEST_PROCS];
	const int per = BEST_BUYERS / BEST_PROCS;

	if (!best_setup())
		return;
	fx_add_hall(&f, "A-P:20", hall);
	if (!shared_store(f.url)) { /* one process's store: its threads race (one handle per buyer group) */
		for (int p = 0; p < BEST_PROCS; p++)
			best_race(f.bk, hall, &b[p * per], per, p * per);
		ck_assert_int_eq(best_verify(b, BEST_BUYERS, hall, true), BEST_BUYERS);
		fx_close(&f);
		return;
	}
	for (int p = 0; p < BEST_PROCS; p++) {
		ck_assert_int_eq(pipe(fds[p]), 0);
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			booking_options o = BOOKING_OPTIONS_INIT;
			booking_handle *bk = NULL;
			o.store_url = f.url;
			o.orphan_policy = BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE;
			o.clock = f.clock;
			close(fds[p][0]);
			if (booking_open(&bk, &o) != 0)
				_exit(2);
			best_race(bk, hall, b, per, p * per);
			ssize_t w = write(fds[p][1], b, sizeof(best_buyer) * (size_t)per);
			booking_close(bk);
			_exit(w == (ssize_t)(sizeof(best_buyer) * (size_t)per) ? 0 : 3);
		}
		close(fds[p][1]);
	}
	for (int p = 0; p < BEST_PROCS; p++) {
		ssize_t got = 0, want = (ssize_t)(sizeof(best_buyer) * (size_t)per);
		while (got < want) {
			ssize_t r = read(fds[p][0], (char *)&b[p * per] + got, (size_t)(want - got));
			if (r <= 0)
				break;
			got += r;
		}
		int status = 0;
		waitpid(pids[p], &status, 0);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d ended with %d", p, status);
		ck_assert_int_eq((int)got, (int)want);
		close(fds[p][0]);
	}
	ck_assert_int_eq(best_verify(b, BEST_BUYERS, hall, true), BEST_BUYERS);
	fx_close(&f);
}
END_TEST

void fx_stress_suite_add(Suite *s, unsigned int groups)
{
	static const TTest *const *const tests[] = {
		&sixteen_threads_racing_for_thirty_seats_never_share_one,
		&thirty_two_buyers_asking_for_the_best_seats_get_them_side_by_side,
		&thirty_two_buyers_for_too_few_seats_never_share_one,
		&processes_asking_for_the_best_seats_never_share_one,
	};


	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		fx_add_case(s, groups, BOOKING_CONFORMANCE_RACES, *tests[i], NULL, NULL, 200);
}

#ifndef FX_NO_MAIN
int main(void)
{
	Suite *s = suite_create("stress");

	fx_stress_suite_add(s, BOOKING_CONFORMANCE_ALL);
	return fx_run(s);
}
#endif
