/*
 * SQLite store — group commit (backends/sqlite/pool.c): many threads of one
 * process write through one store at once, so their writes share
 * transactions, and some of the writes fail. Each write is still all or
 * nothing on its own, and each thread gets its own answer: its own code,
 * error message, refused guard and taken seats, never a neighbour's.
 *
 * Each thread t, in a loop, through the store's ledger:
 *   insert     apply() inserting reservation g-t-i and the key k-t-i: succeeds;
 *   guard      apply() whose guard number t % 4 does not hold (the ones before
 *              it do): INVALID_STATE, *failed_guard = t % 4, nothing written;
 *   late       apply() inserting reservation x-t-i, then the key k-t-0 again:
 *              ALREADY_EXISTS after a row was written; x-t-i must not exist;
 *   again      apply() inserting g-t-(i-1) again: ALREADY_EXISTS naming it;
 *   hold       hold() of seat t of row i % ROWS for reservation h-t-i: the first
 *              time it succeeds, the second time it is refused, naming that seat.
 * Then the rows are counted: exactly the successful writes are there.
 * The store syncs every commit (synchronous=full), so while one batch
 * commits the other threads queue: most writes run in batches of several.
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum {
	THREADS = 12,
	ROUNDS = 40,
	ROWS = 8, /* layout "A-H:12": seat t of a row per thread */
};
#define LAYOUT "A-H:12"

typedef struct worker {
	booking_store *st;
	const char *showtime_id;
	int t;
	int inserted, held, failures;
	char first_failure[300];
} worker;

static void failure(worker *w, const char *fmt, const char *a, const char *b)
{
	if (w->failures++ == 0)
		snprintf(w->first_failure, sizeof w->first_failure, fmt, a, b);
}

static void reservation_init(booking_reservation *r, const char *id, const char *user, const char *showtime,
                             booking_seat_ref **seats, size_t n)
{
	int64_t now = (int64_t)time(NULL) * 1000;

	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->user_id, sizeof r->user_id, "%s", user);
	snprintf(r->showtime_id, sizeof r->showtime_id, "%s", showtime);
	r->status = BOOKING_RESERVATION_PENDING;
	r->seat_count = n;
	r->seats = seats;
	r->total_amount = 1000 * (int64_t)n;
	snprintf(r->currency, sizeof r->currency, "EUR");
	r->created_at = r->updated_at = now;
	r->expires_at = now + 600000;
	r->version = 1;
}

/* apply() of an insert of reservation `id` and the key `key` of user u-t; guards as given. */
static int insert(worker *w, const char *id, const char *key, const booking_store_guard *guards, size_t ng,
                  size_t *failed)
{
	booking_reservation r;
	char user[32];

	snprintf(user, sizeof user, "u-%d", w->t);
	reservation_init(&r, id, user, w->showtime_id, NULL, 0);
	const booking_store_key_record k = {user, key, "hash", id};
	const booking_store_change c = {.guard_count = ng, .guards = guards, .showtime_id = w->showtime_id,
	                                .now = r.created_at, .insert = &r, .key = &k};
	return w->st->ledger->apply(failed, w->st, &c);
}

static void expect_error(worker *w, int rc, int code, const char *what, const char *needle)
{
	const booking_error *e = booking_error_last();

	if (rc != code)
		failure(w, "%s: got %s", what, booking_error_name(rc));
	else if (e->code != code || (needle != NULL && strstr(e->message, needle) == NULL))
		failure(w, "%s: the thread's error says: %s", what, e->message);
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	char id[64], key[64], first_key[64], label[BOOKING_LABEL_SIZE], text[96];
	int rc;

	snprintf(first_key, sizeof first_key, "k-%d-0", w->t);
	for (int i = 0; i < ROUNDS && w->failures == 0; i++) {
		/* insert: succeeds */
		snprintf(id, sizeof id, "g-%d-%d", w->t, i);
		snprintf(key, sizeof key, "k-%d-%d", w->t, i);
		booking_error_set(BOOKING_EINTERNAL, NULL, "before insert %s", id);
		if ((rc = insert(w, id, key, NULL, 0, NULL)) != 0)
			failure(w, "insert %s: %s", id, booking_error_last()->message);
		else if (booking_error_last()->code != BOOKING_EINTERNAL ||
		         strstr(booking_error_last()->message, id) == NULL) /* a success leaves the record alone */
			failure(w, "insert %s: the thread's error became: %s", id, booking_error_last()->message);
		w->inserted += rc == 0;

		/* guard: number t % 4 fails, the ones before it hold */
		booking_store_guard guards[4];
		size_t failed = 99, fail_at = (size_t)(w->t % 4);
		char user[32];

		snprintf(user, sizeof user, "u-%d", w->t);
		for (size_t g = 0; g < fail_at; g++)
			guards[g] = (booking_store_guard){BOOKING_GUARD_KEY_UNUSED, user, 0, "never-used"};
		guards[fail_at] = (booking_store_guard){BOOKING_GUARD_KEY_UNUSED, user, 0, first_key};
		snprintf(id, sizeof id, "n-%d-%d", w->t, i);
		snprintf(key, sizeof key, "n-%d-%d", w->t, i);
		rc = insert(w, id, key, guards, fail_at + 1, &failed);
		snprintf(text, sizeof text, "guard %zu does not hold", fail_at);
		expect_error(w, rc, BOOKING_EINVALID_STATE, id, text);
		if (failed != fail_at)
			failure(w, "%s: refused guard %s", id, failed == 99 ? "unset" : "another");

		/* late: the reservation row is written, then the key fails: the row goes too */
		snprintf(id, sizeof id, "x-%d-%d", w->t, i);
		rc = insert(w, id, first_key, NULL, 0, NULL);
		expect_error(w, rc, BOOKING_EEXISTS, id, "idempotency key");

		/* again: the reservation of the previous round, named in this thread's error */
		if (i > 0) {
			snprintf(id, sizeof id, "g-%d-%d", w->t, i - 1);
			snprintf(key, sizeof key, "a-%d-%d", w->t, i);
			rc = insert(w, id, key, NULL, 0, NULL);
			snprintf(text, sizeof text, "reservation %s already exists", id);
			expect_error(w, rc, BOOKING_EEXISTS, id, text);
		}

		/* hold: seat t of row i % ROWS, twice (the second time it is taken: by this thread) */
		snprintf(label, sizeof label, "%c%d", 'A' + i % ROWS, w->t + 1);
		for (int k = 0; k < 2 && i < ROWS; k++) {
			booking_seat_ref seat, taken[1];
			booking_seat_ref *seats[1] = {&seat};
			booking_reservation r;
			size_t ntaken = 99;
			char user2[32];

			memset(&seat, 0, sizeof seat);
			memset(taken, 0, sizeof taken);
			snprintf(seat.label, sizeof seat.label, "%s", label);
			snprintf(user2, sizeof user2, "u-%d", w->t);
			snprintf(id, sizeof id, "h-%d-%d-%d", w->t, i, k);
			reservation_init(&r, id, user2, w->showtime_id, seats, 1);
			const booking_store_hold req = {.reservation = &r, .now = r.created_at,
			                                .live_status = BOOKING_RESERVATION_PENDING};
			rc = w->st->ledger->hold(taken, &ntaken, w->st, &req);
			if (k == 0 && rc != 0)
				failure(w, "hold %s: %s", id, booking_error_last()->message);
			w->held += k == 0 && rc == 0;
			if (k == 1 && (rc != BOOKING_ESEAT_ALREADY_BOOKED || ntaken != 1 || strcmp(taken[0].label, label) != 0))
				failure(w, "second hold of %s: refused for %s", label, ntaken == 1 ? taken[0].label : "no seat");
		}
	}
	return NULL;
}

static int64_t count(const sqt_db *db, const char *sql)
{
	return sqt_sql_int(db->path, sql);
}

START_TEST(concurrent_writers_each_get_their_own_all_or_nothing_answer)
{
	char showtime_id[BOOKING_ID_SIZE], sql[400];
	worker workers[THREADS];
	pthread_t threads[THREADS];
	booking_handle *bk;
	booking_store *st = NULL;
	int inserted = 0, held = 0;
	sqt_db db;

	sqt_db_init(&db, "group");
	bk = sqt_open(&db, NULL);
	sqt_seed(bk, LAYOUT, showtime_id);
	booking_close(bk);

	snprintf(sql, sizeof sql, "%s?pool=%d&synchronous=full", db.url, THREADS); /* a sync per commit: batches form */
	sqt_assert_ok(booking_store_open(&st, sql, NULL));
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (worker){.st = st, .showtime_id = showtime_id, .t = t};
		ck_assert_int_eq(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		ck_assert_int_eq(pthread_join(threads[t], NULL), 0);
		ck_assert_msg(workers[t].failures == 0, "thread %d failed %d times, first: %s", t, workers[t].failures,
		              workers[t].first_failure);
		inserted += workers[t].inserted;
		held += workers[t].held;
	}
	st->free(st);

	ck_assert_int_eq(inserted, THREADS * ROUNDS);
	ck_assert_int_eq(held, THREADS * ROWS);
	/* exactly the successful writes: no n-*, no x-*, no second hold */
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM bookings WHERE id LIKE 'g-%'"), THREADS * ROUNDS);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'k-%'"), THREADS * ROUNDS);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM bookings WHERE id LIKE 'h-%-0'"), THREADS * ROWS);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM bookings"), THREADS * (ROUNDS + ROWS));
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM idempotency_keys"), THREADS * ROUNDS);
	/* each held reservation's seats in its row (schema version 11) */
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM bookings, json_each(bookings.seats)"), THREADS * ROWS);
	ck_assert_int_eq(count(&db, "SELECT count(*) FROM showtime_seats WHERE status <> 0"), THREADS * ROWS);
	sqt_db_cleanup(&db); /* no booking_check(): these rows are written raw, without the events the core adds */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite-group");
	TCase *tc = tcase_create("group");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, concurrent_writers_each_get_their_own_all_or_nothing_answer);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
