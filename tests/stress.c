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
#include <time.h>

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

void fx_stress_suite_add(Suite *s, unsigned int groups)
{
	static const TTest *const *const tests[] = {
		&sixteen_threads_racing_for_thirty_seats_never_share_one,
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
