/*
 * Fair sales under racing processes (doc/fairness.md): several processes
 * of several threads, one store (a SQLite file, or PostgreSQL with or
 * without Redis as BOOKING_TEST_LOCK_URL), the real clock.
 *
 * 1. One buyer, 16 racing holds of one seat each, a seat limit of 4: exactly 4.
 * 2. One buyer, 16 racing holds, 6 holds a minute with a burst of 3: exactly 3
 *    (the rate limit's state is shared: the store's kv group, or Redis).
 * 3. A sold-out showtime of 10 seats with 20 parties in line: the holder
 *    gives all 10 back from racing threads of every process; afterwards the
 *    first 10 parties in join order hold one seat each, no seat twice, the
 *    other 10 still wait, and booking_check() finds nothing.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { PROCS = 4, THREADS = 4, RACERS = PROCS * THREADS, LIMIT = 4, BURST = 3, WAITERS = 20, SMALL = 10 };

static char url[700];
static char showtime_id[BOOKING_ID_SIZE], small_id[BOOKING_ID_SIZE];
static char whale[SMALL][BOOKING_ID_SIZE];

typedef struct tally {
	int ok, limited, rated, other;
	char first_error[160];
} tally;

typedef struct racer {
	booking_handle *limits, *rates;
	int index; /* 0..RACERS-1 over every process */
	tally t;
} racer;

static booking_handle *open_handle(int seat_limit, int rate)
{
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = url;
	o.lock_url = fx_env("BOOKING_TEST_LOCK_URL", NULL);
	o.log_level = BOOKING_LOG_CRITICAL;
	o.max_seats_per_user_showtime = seat_limit;
	o.rate_holds_per_minute = rate;
	o.rate_burst = BURST;
	booking_handle *bk = NULL;
	int rc = booking_open(&bk, &o);
	if (rc != 0) {
		fprintf(stderr, "open %s: %s: %s\n", url, booking_error_name(rc), booking_error_last()->message);
		return NULL;
	}
	return bk;
}

static void note(tally *t, int rc, const char *what)
{
	if (rc == 0)
		t->ok++;
	else if (rc == BOOKING_ELIMIT_REACHED)
		t->limited++;
	else if (rc == BOOKING_ERATE_LIMITED)
		t->rated++;
	else if (t->other++ == 0)
		snprintf(t->first_error, sizeof(t->first_error), "%s: %s: %s", what, booking_error_name(rc),
		         booking_error_last()->message);
}

static int phase; /* 1, 2, 3: which race the threads run */

static void *run(void *arg)
{
	racer *r = arg;
	booking_reservation *b = NULL;
	char label[8];
	if (phase == 1 || phase == 2) {
		/* phase 1: rows A and B; phase 2: rows C and D — one seat each, distinct */
		snprintf(label, sizeof(label), "%c%d", (phase == 1 ? 'A' : 'C') + r->index / 10, r->index % 10 + 1);
		const char *one[] = {label};
		booking_ctx c = fx_customer(phase == 1 ? "bot" : "spammer");
		note(&r->t, booking_hold(&b, phase == 1 ? r->limits : r->rates, &c, showtime_id, one, 1), "hold");
		booking_reservation_free(b);
	} else if (r->index < SMALL) {
		booking_ctx w = fx_customer("whale");
		note(&r->t, booking_reservation_cancel(NULL, r->limits, &w, whale[r->index]), "cancel");
	}
	return NULL;
}

/* A child: open the handles, wait for the start, race, write the tally. */
static int child(int proc, int go_fd, int result_fd)
{
	tally total = {0};
	racer racers[THREADS];
	pthread_t t[THREADS];
	booking_handle *limits = open_handle(LIMIT, 0), *rates = open_handle(-1, 6);
	char byte;
	if (read(go_fd, &byte, 1) < 0 || !limits || !rates) {
		total.other = 1;
		snprintf(total.first_error, sizeof(total.first_error), "child %d could not start", proc);
	} else {
		for (int i = 0; i < THREADS; i++) {
			racers[i] = (racer){limits, rates, proc * THREADS + i, {0}};
			pthread_create(&t[i], NULL, run, &racers[i]);
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(t[i], NULL);
			total.ok += racers[i].t.ok;
			total.limited += racers[i].t.limited;
			total.rated += racers[i].t.rated;
			if (racers[i].t.other && !total.other)
				memcpy(total.first_error, racers[i].t.first_error, sizeof(total.first_error));
			total.other += racers[i].t.other;
		}
	}
	booking_close(limits);
	booking_close(rates);
	if (write(result_fd, &total, sizeof(total)) != (ssize_t)sizeof(total))
		return 3;
	return total.other ? 1 : 0;
}

/* Race phase `p` in PROCS processes; the sum of their tallies. */
static tally race(int p)
{
	int go[2], results[2];
	pid_t pids[PROCS];
	tally sum = {0};
	phase = p;
	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(results), 0);
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		ck_assert_int_ge(pids[i], 0);
		if (pids[i] == 0) {
			close(go[1]);
			close(results[0]);
			_exit(child(i, go[0], results[1]));
		}
	}
	close(go[0]);
	close(results[1]);
	usleep(200 * 1000); /* every child has opened its handles */
	close(go[1]);
	for (int i = 0; i < PROCS; i++) {
		tally t;
		int status = 0;
		ck_assert_int_eq(read(results[0], &t, sizeof(t)), (ssize_t)sizeof(t));
		ck_assert_msg(t.other == 0, "phase %d: %d unexpected answers, first: %s", p, t.other, t.first_error);
		sum.ok += t.ok;
		sum.limited += t.limited;
		sum.rated += t.rated;
		ck_assert_int_eq(waitpid(pids[i], &status, 0) > 0, 1);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
	}
	close(results[0]);
	return sum;
}

/* A showtime tomorrow (by the real clock) on a screen of `layout`. */
static void make_showtime(booking_handle *bk, const char *layout, char id_out[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;
	booking_price price;
	memset(&price, 0, sizeof(price));
	snprintf(price.category, sizeof(price.category), "standard");
	price.amount = 1000;
	ck_assert_int_eq(booking_movie_create(&m, bk, &admin, "Race", 100), 0);
	ck_assert_int_eq(booking_theater_create(&t, bk, &admin, "Race", "Paris"), 0);
	ck_assert_int_eq(booking_layout_parse(&seats, &n, layout, sizeof *seats), 0);
	ck_assert_int_eq(booking_screen_create(&s, bk, &admin, t->id, "Hall", seats, n, sizeof *seats), 0);
	ck_assert_int_eq(booking_showtime_create(&st, bk, &admin, m->id, s->id, booking_now(bk) + FX_DAY, "EUR", &price, 1,
	                                         sizeof(booking_price)),
	                 0);
	snprintf(id_out, BOOKING_ID_SIZE, "%s", st->id);
	booking_free(seats);
	booking_movie_free(m);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_showtime_free(st);
}

START_TEST(limits_and_the_waiting_list_hold_across_processes)
{
	char file[600];
	fx_fresh_url(url, sizeof(url), fx_store_url(), file, sizeof(file));
	booking_handle *bk = open_handle(-1, 0);
	ck_assert_ptr_nonnull(bk);
	booking_ctx admin = fx_admin();
	make_showtime(bk, "A-D:10", showtime_id);
	make_showtime(bk, "A:10", small_id);

	tally one = race(1);
	ck_assert_int_eq(one.ok, LIMIT);
	ck_assert_int_eq(one.limited, RACERS - LIMIT);
	tally two = race(2);
	ck_assert_int_eq(two.ok, BURST);
	ck_assert_int_eq(two.rated, RACERS - BURST);

	/* the small showtime sold out to the whale, one hold per seat, and 20 parties in line */
	for (int i = 0; i < SMALL; i++) {
		char label[8];
		snprintf(label, sizeof(label), "A%d", i + 1);
		const char *seat[] = {label};
		booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
		q.showtime_id = small_id;
		q.seats = seat;
		q.seat_count = 1;
		q.for_user_id = "whale";
		booking_reservation *r = NULL;
		ck_assert_int_eq(booking_hold_with(&r, bk, &admin, &q, sizeof(q)), 0);
		snprintf(whale[i], sizeof(whale[i]), "%s", r->id);
		booking_reservation_free(r);
	}
	char users[WAITERS][16];
	for (int i = 0; i < WAITERS; i++) {
		snprintf(users[i], sizeof(users[i]), "waiter%02d", i);
		booking_ctx c = fx_customer(users[i]);
		booking_waitlist_entry *e = NULL;
		int rc = booking_waitlist_join(&e, bk, &c, small_id, 1, NULL);
		ck_assert_msg(rc == 0, "join: %s: %s", booking_error_name(rc), booking_error_last()->message);
		ck_assert_int_eq(e->status, BOOKING_WAITLIST_WAITING);
		booking_waitlist_entry_free(e);
		usleep(2000); /* distinct join times */
	}
	tally three = race(3);
	ck_assert_int_eq(three.ok, SMALL);
	size_t offers = 0;
	ck_assert_int_eq(booking_waitlist_process(&offers, bk, &admin, small_id), 0);
	booking_waitlist *l = NULL;
	ck_assert_int_eq(booking_waitlist_list(&l, bk, &admin, small_id), 0);
	ck_assert_uint_eq(l->count, WAITERS);
	char seen[SMALL][BOOKING_LABEL_SIZE];
	for (size_t i = 0; i < l->count; i++) {
		const booking_waitlist_entry *e = l->items[i];
		ck_assert_str_eq(e->user_id, users[i]); /* join order */
		ck_assert_int_eq(e->status, i < SMALL ? BOOKING_WAITLIST_OFFERED : BOOKING_WAITLIST_WAITING);
		if (i >= SMALL)
			continue;
		booking_reservation *r = NULL;
		ck_assert_int_eq(booking_reservation_get(&r, bk, &admin, e->reservation_id), 0);
		ck_assert_str_eq(r->user_id, users[i]);
		ck_assert_uint_eq(r->seat_count, 1);
		snprintf(seen[i], sizeof(seen[i]), "%s", r->seats[0]->label);
		for (size_t k = 0; k < i; k++)
			ck_assert_str_ne(seen[k], seen[i]);
		booking_reservation_free(r);
	}
	booking_waitlist_free(l);
	booking_check_report *rep = NULL;
	ck_assert_int_eq(booking_check(&rep, bk), 0);
	for (size_t i = 0; i < rep->count; i++)
		fprintf(stderr, "violation: %s\n", rep->items[i]->message);
	ck_assert_uint_eq(rep->count, 0);
	booking_check_report_free(rep);
	fprintf(stderr, "fair race: seat limit %d of %d, rate burst %d of %d, %d parties offered %d returned seats\n",
	        one.ok, RACERS, two.ok, RACERS, SMALL, SMALL);
	booking_close(bk);
	fx_remove_db(file);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fair-race");
	TCase *tc = tcase_create("race");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, limits_and_the_waiting_list_hold_across_processes);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
