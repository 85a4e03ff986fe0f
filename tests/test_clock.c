/*
 * Unit tests: one clock per deployment (doc/rulebook.md). A store with a
 * clock of its own (clock_now) gives a handle whose host
 * injected no clock its time — at open and as it is sampled again — and
 * every decision follows it; an injected clock still wins; a store clock
 * that cannot be read fails the open; a store without one keeps the host's.
 *
 * The store is the memory store behind the fixture's decorator, given a
 * clock_now that reads this host's wall clock plus an offset the test
 * sets (a server minutes away from this host).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The fake server's clock: this host's wall clock + offset_ms; or an error. */
typedef struct fake_clock {
	_Atomic int64_t offset_ms;
	atomic_int calls;
	atomic_int fail; /* non-zero: answer SERVICE_UNAVAILABLE */
	_Atomic int64_t answer; /* non-zero: answer this instead */
} fake_clock;

static fake_clock fake;

static int64_t host_ms(void)
{
	return booking_clock_system()->now_ms(booking_clock_system());
}

static int fake_clock_now(int64_t *now_ms_out, booking_store *st)
{
	(void)st;
	atomic_fetch_add(&fake.calls, 1);
	if (atomic_load(&fake.fail))
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "fake: the server is gone");
	int64_t a = atomic_load(&fake.answer);
	*now_ms_out = a ? a : host_ms() + atomic_load(&fake.offset_ms);
	return 0;
}

static void setup(void)
{
	atomic_store(&fake.offset_ms, 0);
	atomic_store(&fake.calls, 0);
	atomic_store(&fake.fail, 0);
	atomic_store(&fake.answer, 0);
}

/* A memory store with the fake clock. */
static booking_store *store_with_clock(void)
{
	booking_store *inner = NULL;
	ck_assert_ok(booking_store_open(&inner, "memory:", NULL));
	fx_store_wrap *w = fx_store_wrap_new(inner);
	w->parent.clock_now = fake_clock_now;
	return &w->parent;
}

/* Open f->bk on a store with the fake clock; `clock` NULL: none injected. */
static int open_on(fx *f, booking_clock *clock)
{
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store = store_with_clock();
	o.clock = clock;
	o.payment_key_file = fx_payment_key_file();
	o.log_level = BOOKING_LOG_CRITICAL;
	memset(f, 0, sizeof(*f));
	f->clock = clock;
	return booking_open(&f->bk, &o);
}

/* |a - b| <= tolerance */
#define ck_assert_near(a, b, tolerance)                                                                       \
	ck_assert_msg(llabs((long long)(a) - (long long)(b)) <= (tolerance), "%s = %lld, expected %s = %lld ± %lld", \
	              #a, (long long)(a), #b, (long long)(b), (long long)(tolerance))

START_TEST(a_handle_without_an_injected_clock_follows_the_store_clock)
{
	fx f;

	atomic_store(&fake.offset_ms, 15 * FX_MINUTE); /* the server is 15 minutes ahead of this host */
	ck_assert_ok(open_on(&f, NULL));
	int calls = atomic_load(&fake.calls);
	ck_assert_int_ge(calls, 1);
	ck_assert_near(booking_now(f.bk), host_ms() + 15 * FX_MINUTE, FX_SECOND);

	/* a new hold expires by the store's clock */
	booking_reservation *r = NULL;
	fx_seed(&f);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	ck_assert_near(r->expires_at, host_ms() + 15 * FX_MINUTE + 15 * FX_MINUTE, FX_SECOND);
	ck_assert_near(r->created_at, host_ms() + 15 * FX_MINUTE, FX_SECOND);
	booking_reservation_free(r);
	fx_close(&f);
}
END_TEST

START_TEST(an_injected_clock_wins_over_the_store_clock)
{
	fx f;
	booking_clock *manual = booking_clock_manual_new(FX_T0);

	atomic_store(&fake.offset_ms, 15 * FX_MINUTE);
	ck_assert_ok(open_on(&f, manual));
	ck_assert_int_eq(booking_now(f.bk), FX_T0);
	booking_clock_manual_advance(manual, FX_MINUTE);
	ck_assert_int_eq(booking_now(f.bk), FX_T0 + FX_MINUTE);
	int calls = atomic_load(&fake.calls);
	ck_assert_int_eq(calls, 0);
	fx_close(&f);
}
END_TEST

/* A store without a clock of its own (memory, SQLite): the host's is the deployment's. */
START_TEST(a_store_without_a_clock_keeps_the_host_clock)
{
	booking_handle *bk = NULL;
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "memory:";
	o.log_level = BOOKING_LOG_CRITICAL;
	ck_assert_ok(booking_open(&bk, &o));
	ck_assert_near(booking_now(bk), host_ms(), FX_SECOND);
	booking_close(bk);
}
END_TEST

START_TEST(the_open_fails_when_the_store_clock_cannot_be_read)
{
	fx f;

	atomic_store(&fake.fail, 1);
	int rc = open_on(&f, NULL);
	ck_assert_code(rc, "SERVICE_UNAVAILABLE");
	ck_assert_ptr_null(f.bk);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "the store's clock could not be read"));
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "the server is gone"));
	ck_assert_str_eq(booking_error_last()->details_json, "{\"reason\":\"store_clock\"}");
}
END_TEST

START_TEST(the_open_fails_when_the_store_clock_answers_no_time)
{
	fx f;

	atomic_store(&fake.answer, -1);
	ck_assert_code(open_on(&f, NULL), "INTERNAL_ERROR");
	ck_assert_ptr_null(f.bk);
}
END_TEST

/* Wait (real time, at most `limit_ms`) until the handle's time is `target` ± 1 s. */
static bool wait_for_time(booking_handle *bk, int64_t offset_ms, int64_t limit_ms)
{
	int64_t end = host_ms() + limit_ms;
	struct timespec pause = {0, 50 * 1000 * 1000};

	while (host_ms() < end) {
		if (llabs((long long)(booking_now(bk) - (host_ms() + offset_ms))) <= FX_SECOND)
			return true;
		nanosleep(&pause, NULL);
	}
	return false;
}

/*
 * The store's clock is sampled again while the handle is open (every few
 * seconds: this test waits for one refresh in real time), and the decisions
 * follow: a hold that is live by this host's clock but over by the store's
 * is expired at payment time and by the sweep, and its seat is free.
 */
START_TEST(decisions_follow_the_store_clock_as_it_is_sampled_again)
{
	fx f;
	char id[BOOKING_ID_SIZE];
	size_t expired = 0;
	booking_ctx sys = fx_system();

	ck_assert_ok(open_on(&f, NULL));
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1,A2", id);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SEAT_ALREADY_BOOKED");

	/* the server's clock moves 20 minutes ahead (the hold lasts 15) */
	atomic_store(&fake.offset_ms, 20 * FX_MINUTE);
	ck_assert_msg(wait_for_time(f.bk, 20 * FX_MINUTE, 15 * FX_SECOND),
	              "the handle's time did not follow the store's within 15 s: %lld ms off",
	              (long long)(booking_now(f.bk) - host_ms()));

	ck_assert_code(fx_pay(&f, NULL, "alice", id, "k1", FX_CARD_OK), "RESERVATION_EXPIRED");
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_FREE);
	ck_assert_ok(booking_expire_due(&expired, f.bk, &sys, 100));
	ck_assert_uint_eq(expired, 1);
	ck_assert_ok(fx_hold(&f, NULL, "bob", "A2"));
	fx_close(&f);
}
END_TEST

/* A store clock that stops answering: the handle keeps its last estimate, and time goes on. */
START_TEST(a_store_clock_that_stops_answering_keeps_the_last_estimate)
{
	fx f;

	atomic_store(&fake.offset_ms, -15 * FX_MINUTE);
	ck_assert_ok(open_on(&f, NULL));
	atomic_store(&fake.fail, 1);
	int calls = atomic_load(&fake.calls);
	int64_t end = host_ms() + 15 * FX_SECOND;
	struct timespec pause = {0, 50 * 1000 * 1000};
	while (atomic_load(&fake.calls) == calls && host_ms() < end)
		nanosleep(&pause, NULL);
	int later = atomic_load(&fake.calls);
	ck_assert_int_gt(later, calls); /* it was asked again, and failed */
	ck_assert_near(booking_now(f.bk), host_ms() - 15 * FX_MINUTE, FX_SECOND);
	fx_close(&f);
}
END_TEST

/*
 * A handle must not be used in a child forked after its open, but a child
 * that closes it (atexit cleanups do) must not hang waiting for the clock's
 * thread, which stayed in the parent.
 */
START_TEST(closing_in_a_forked_child_does_not_wait_for_the_parents_thread)
{
	fx f;
	int status = 0;

	ck_assert_ok(open_on(&f, NULL));
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		booking_close(f.bk);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid); /* a child that hangs fails the test by its timeout */
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_near(booking_now(f.bk), host_ms(), FX_SECOND); /* the parent's clock goes on */
	fx_close(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clock");
	TCase *tc = tcase_create("clock");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, a_handle_without_an_injected_clock_follows_the_store_clock);
	tcase_add_test(tc, an_injected_clock_wins_over_the_store_clock);
	tcase_add_test(tc, a_store_without_a_clock_keeps_the_host_clock);
	tcase_add_test(tc, the_open_fails_when_the_store_clock_cannot_be_read);
	tcase_add_test(tc, the_open_fails_when_the_store_clock_answers_no_time);
	tcase_add_test(tc, decisions_follow_the_store_clock_as_it_is_sampled_again);
	tcase_add_test(tc, a_store_clock_that_stops_answering_keeps_the_last_estimate);
	tcase_add_test(tc, closing_in_a_forked_child_does_not_wait_for_the_parents_thread);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
