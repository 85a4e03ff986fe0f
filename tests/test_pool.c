/*
 * Unit tests: the connection pool backends share (sys/pool.h), over fake
 * connections that notice when two threads use one at the same time.
 * The waits are real (the pool waits on the monotonic clock) and short.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <booking/sys/pool.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fake_conn {
	int id;
	atomic_bool in_use;
} fake_conn;

typedef struct fakes {
	atomic_int opens, closes, checks;
	atomic_int fail_open; /* the next opens to fail */
	atomic_bool check_says_broken;
} fakes;

static int fake_open(void **conn_out, void *payload)
{
	fakes *f = payload;
	if (atomic_load(&f->fail_open) > 0) {
		atomic_fetch_sub(&f->fail_open, 1);
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "fake: cannot connect");
	}
	fake_conn *c = calloc(1, sizeof *c);
	if (!c)
		return booking_error_oom();
	c->id = atomic_fetch_add(&f->opens, 1) + 1;
	*conn_out = c;
	return 0;
}

static void fake_close(void *conn, void *payload)
{
	fakes *f = payload;
	atomic_fetch_add(&f->closes, 1);
	free(conn);
}

static bool fake_check(void *conn, void *payload)
{
	fakes *f = payload;
	(void)conn;
	atomic_fetch_add(&f->checks, 1);
	return !atomic_load(&f->check_says_broken);
}

static booking_pool *pool_of(fakes *f, size_t size, int64_t wait_ms)
{
	booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
	booking_pool *p = NULL;
	memset(f, 0, sizeof *f);
	cfg.name = "fake";
	cfg.size = size;
	cfg.wait_ms = wait_ms;
	cfg.open = fake_open;
	cfg.close = fake_close;
	cfg.check = fake_check;
	cfg.payload = f;
	ck_assert_ok(booking_pool_new(&p, &cfg));
	ck_assert_ptr_nonnull(p);
	return p;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void pause_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------------- */

enum { THREADS = 8, ROUNDS = 200, CONNS = 3 };

typedef struct worker {
	booking_pool *p;
	int served, shared, failed;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < ROUNDS; i++) {
		void *conn = NULL;
		if (booking_pool_acquire(&conn, w->p) != 0) {
			w->failed++;
			continue;
		}
		fake_conn *c = conn;
		if (atomic_exchange(&c->in_use, true))
			w->shared++;
		if (i % 16 == 0)
			pause_ms(1);
		atomic_store(&c->in_use, false);
		booking_pool_release(w->p, conn, false);
		w->served++;
	}
	return NULL;
}

START_TEST(more_threads_than_connections_all_get_served_one_at_a_time_per_connection)
{
	fakes f;
	booking_pool *p = pool_of(&f, CONNS, 5000);
	worker w[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){.p = p};
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		ck_assert_int_eq(w[i].failed, 0);
		ck_assert_int_eq(w[i].shared, 0);
		ck_assert_int_eq(w[i].served, ROUNDS);
	}
	ck_assert_int_le(atomic_load(&f.opens), CONNS);
	ck_assert_int_eq(atomic_load(&f.checks), THREADS * ROUNDS);
	booking_pool_free(p);
	ck_assert_int_eq(atomic_load(&f.closes), atomic_load(&f.opens));
}
END_TEST

START_TEST(connections_open_lazily_and_the_last_released_is_reused)
{
	fakes f;
	booking_pool *p = pool_of(&f, 4, 0);
	void *a = NULL, *b = NULL, *again = NULL;
	ck_assert_int_eq(atomic_load(&f.opens), 0);
	ck_assert_ok(booking_pool_acquire(&a, p));
	ck_assert_ok(booking_pool_acquire(&b, p));
	ck_assert_int_eq(atomic_load(&f.opens), 2);
	booking_pool_release(p, a, false);
	booking_pool_release(p, b, false);
	ck_assert_ok(booking_pool_acquire(&again, p));
	ck_assert_ptr_eq(again, b);
	booking_pool_release(p, again, false);
	ck_assert_int_eq(atomic_load(&f.opens), 2);
	booking_pool_free(p);
	ck_assert_int_eq(atomic_load(&f.closes), 2);
}
END_TEST

typedef struct waiter {
	booking_pool *p;
	void *conn;
	int rc;
	char message[256];
	double waited;
} waiter;

static void *acquire_in_thread(void *arg)
{
	waiter *w = arg;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	w->rc = booking_pool_acquire(&w->conn, w->p);
	w->waited = seconds_since(&t0);
	if (w->rc != 0)
		snprintf(w->message, sizeof w->message, "%s", booking_error_last()->message);
	return NULL;
}

START_TEST(a_caller_that_finds_none_free_gets_unavailable_after_the_wait)
{
	fakes f;
	booking_pool *p = pool_of(&f, 1, 300);
	void *held = NULL;
	waiter w = {.p = p};
	pthread_t t;
	ck_assert_ok(booking_pool_acquire(&held, p));
	ck_assert_int_eq(pthread_create(&t, NULL, acquire_in_thread, &w), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_code(w.rc, "SERVICE_UNAVAILABLE");
	ck_assert_ptr_null(w.conn);
	ck_assert_str_eq(w.message, "fake: no free connection after 300 ms (pool of 1)");
	ck_assert_msg(w.waited >= 0.29 && w.waited < 3.0, "waited %.3f s", w.waited);
	booking_pool_release(p, held, false);
	booking_pool_free(p);
}
END_TEST

START_TEST(a_waiting_caller_gets_the_connection_released_meanwhile)
{
	fakes f;
	booking_pool *p = pool_of(&f, 1, 5000);
	void *held = NULL;
	waiter w = {.p = p};
	pthread_t t;
	ck_assert_ok(booking_pool_acquire(&held, p));
	ck_assert_int_eq(pthread_create(&t, NULL, acquire_in_thread, &w), 0);
	pause_ms(100);
	booking_pool_release(p, held, false);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_ok(w.rc);
	ck_assert_ptr_eq(w.conn, held);
	ck_assert_msg(w.waited < 3.0, "waited %.3f s", w.waited);
	booking_pool_release(p, w.conn, false);
	booking_pool_free(p);
}
END_TEST

START_TEST(a_broken_connection_is_closed_and_replaced)
{
	fakes f;
	booking_pool *p = pool_of(&f, 1, 0);
	void *conn = NULL;
	ck_assert_ok(booking_pool_acquire(&conn, p));
	ck_assert_int_eq(((fake_conn *)conn)->id, 1);
	booking_pool_release(p, conn, true);
	ck_assert_int_eq(atomic_load(&f.closes), 1);
	ck_assert_int_eq(atomic_load(&f.checks), 0); /* a broken one is not checked */
	ck_assert_ok(booking_pool_acquire(&conn, p));
	ck_assert_int_eq(((fake_conn *)conn)->id, 2);
	ck_assert_int_eq(atomic_load(&f.opens), 2);
	booking_pool_release(p, conn, false);
	booking_pool_free(p);
	ck_assert_int_eq(atomic_load(&f.closes), 2);
}
END_TEST

START_TEST(a_connection_that_fails_its_check_is_replaced)
{
	fakes f;
	booking_pool *p = pool_of(&f, 1, 0);
	void *conn = NULL;
	ck_assert_ok(booking_pool_acquire(&conn, p));
	atomic_store(&f.check_says_broken, true);
	booking_pool_release(p, conn, false);
	ck_assert_int_eq(atomic_load(&f.closes), 1);
	atomic_store(&f.check_says_broken, false);
	ck_assert_ok(booking_pool_acquire(&conn, p));
	ck_assert_int_eq(((fake_conn *)conn)->id, 2);
	booking_pool_release(p, conn, false);
	booking_pool_free(p);
}
END_TEST

START_TEST(a_failed_open_answers_its_error_and_gives_the_slot_back)
{
	fakes f;
	booking_pool *p = pool_of(&f, 1, 0);
	void *conn = NULL;
	atomic_store(&f.fail_open, 1);
	ck_assert_code(booking_pool_acquire(&conn, p), "SERVICE_UNAVAILABLE");
	ck_assert_str_eq(booking_error_last()->message, "fake: cannot connect");
	ck_assert_ptr_null(conn);
	ck_assert_ok(booking_pool_acquire(&conn, p));
	booking_pool_release(p, conn, false);
	booking_pool_free(p);
}
END_TEST

START_TEST(a_caller_holding_every_connection_is_refused_at_once)
{
	fakes f;
	booking_pool *p = pool_of(&f, 2, 60000);
	void *a = NULL, *b = NULL, *c = NULL;
	struct timespec t0;
	ck_assert_ok(booking_pool_acquire(&a, p));
	ck_assert_ok(booking_pool_acquire(&b, p));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_code(booking_pool_acquire(&c, p), "INTERNAL_ERROR");
	ck_assert_msg(seconds_since(&t0) < 1.0, "waited for itself");
	booking_pool_release(p, a, false);
	booking_pool_release(p, b, false);
	booking_pool_free(p);
}
END_TEST

START_TEST(close_idle_closes_idle_connections_only)
{
	fakes f;
	booking_pool *p = pool_of(&f, 3, 0);
	void *a = NULL, *b = NULL, *c = NULL;
	ck_assert_ok(booking_pool_acquire(&a, p));
	ck_assert_ok(booking_pool_acquire(&b, p));
	ck_assert_ok(booking_pool_acquire(&c, p));
	booking_pool_release(p, a, false);
	booking_pool_release(p, b, false);
	booking_pool_close_idle(p);
	ck_assert_int_eq(atomic_load(&f.closes), 2);
	/* the two slots are free again; the one checked out still works */
	ck_assert_ok(booking_pool_acquire(&a, p));
	ck_assert_ok(booking_pool_acquire(&b, p));
	ck_assert_int_eq(atomic_load(&f.opens), 5);
	booking_pool_release(p, c, false);
	booking_pool_release(p, a, false);
	booking_pool_release(p, b, false);
	booking_pool_free(p);
	ck_assert_int_eq(atomic_load(&f.closes), 5);
}
END_TEST

START_TEST(free_with_connections_checked_out_closes_them_too)
{
	fakes f;
	booking_pool *p = pool_of(&f, 3, 0);
	void *a = NULL, *b = NULL;
	ck_assert_ok(booking_pool_acquire(&a, p));
	ck_assert_ok(booking_pool_acquire(&b, p));
	booking_pool_release(p, a, false);
	booking_pool_free(p); /* b is still out: closed all the same, nothing leaks */
	ck_assert_int_eq(atomic_load(&f.closes), 2);
	booking_pool_free(NULL);
}
END_TEST

START_TEST(a_bad_configuration_is_refused)
{
	fakes f;
	booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
	booking_pool *p = (booking_pool *)&f;
	memset(&f, 0, sizeof f);
	cfg.name = "fake";
	cfg.size = 1;
	cfg.open = fake_open;
	cfg.close = fake_close;
	cfg.payload = &f;

	ck_assert_code(booking_pool_new(&p, NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(p);
	cfg.version = 0;
	ck_assert_code(booking_pool_new(&p, &cfg), "VALIDATION_ERROR");
	cfg.version = BOOKING_POOL_CONFIG_VERSION + 1;
	ck_assert_code(booking_pool_new(&p, &cfg), "VALIDATION_ERROR");
	cfg.version = BOOKING_POOL_CONFIG_VERSION;
	cfg.size = 0;
	ck_assert_code(booking_pool_new(&p, &cfg), "VALIDATION_ERROR");
	cfg.size = 1;
	cfg.wait_ms = -1;
	ck_assert_code(booking_pool_new(&p, &cfg), "VALIDATION_ERROR");
	cfg.wait_ms = 0;
	cfg.close = NULL;
	ck_assert_code(booking_pool_new(&p, &cfg), "VALIDATION_ERROR");
	cfg.close = fake_close;
	cfg.name = "";
	ck_assert_code(booking_pool_new(&p, &cfg), "VALIDATION_ERROR");
	cfg.name = "fake";
	ck_assert_ok(booking_pool_new(&p, &cfg));
	booking_pool_free(p);
	ck_assert_int_eq(atomic_load(&f.opens), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pool");
	TCase *tc = tcase_create("pool");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, more_threads_than_connections_all_get_served_one_at_a_time_per_connection);
	tcase_add_test(tc, connections_open_lazily_and_the_last_released_is_reused);
	tcase_add_test(tc, a_caller_that_finds_none_free_gets_unavailable_after_the_wait);
	tcase_add_test(tc, a_waiting_caller_gets_the_connection_released_meanwhile);
	tcase_add_test(tc, a_broken_connection_is_closed_and_replaced);
	tcase_add_test(tc, a_connection_that_fails_its_check_is_replaced);
	tcase_add_test(tc, a_failed_open_answers_its_error_and_gives_the_slot_back);
	tcase_add_test(tc, a_caller_holding_every_connection_is_refused_at_once);
	tcase_add_test(tc, close_idle_closes_idle_connections_only);
	tcase_add_test(tc, free_with_connections_checked_out_closes_them_too);
	tcase_add_test(tc, a_bad_configuration_is_refused);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
