/*
 * Unit tests of the per-buyer seat limit (max_seats_per_user_showtime):
 * holds, best available and changes of one buyer against it. On every
 * store the unit flows run on (memory, SQLite; PostgreSQL by its suite).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#define LIMIT 4

static fx f;

static void setup(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.max_seats_per_user_showtime = LIMIT;
	fx_open(&f, &o);
	fx_seed(&f);
}

static void teardown(void)
{
	fx_close(&f);
}

static void assert_limit_error(void)
{
	json_error_t jerr;
	json_t *d = json_loads(booking_error_last()->details_json, 0, &jerr);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "limit")), "max_seats_per_user_showtime");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "max")), LIMIT);
	json_decref(d);
}

START_TEST(a_buyer_holds_and_buys_at_most_the_limit)
{
	booking_reservation *a = NULL, *b = NULL;
	ck_assert_ok(fx_hold(&f, &a, "alice", "A1,A2,A3"));
	ck_assert_code(fx_hold(&f, &b, "alice", "B1,B2"), "LIMIT_REACHED");
	assert_limit_error();
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_FREE); /* nothing held */
	ck_assert_ok(fx_hold(&f, &b, "alice", "B1"));                   /* 4 of 4 */
	booking_reservation_free(b);
	ck_assert_code(fx_hold(&f, &b, "alice", "B2"), "LIMIT_REACHED");
	ck_assert_ok(fx_hold(&f, &b, "bob", "B2,B3,B4,B5")); /* every buyer has their own */
	booking_reservation_free(b);
	/* a bought seat counts; a cancelled hold gives its seats back to the count */
	booking_payment *p = NULL;
	ck_assert_ok(fx_pay(&f, &p, "alice", a->id, "pay-a", FX_CARD_OK));
	booking_payment_free(p);
	ck_assert_code(fx_hold(&f, &b, "alice", "C1"), "LIMIT_REACHED");
	booking_reservation_free(a);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(expired_and_cancelled_holds_do_not_count_nor_other_showtimes)
{
	booking_reservation *a = NULL, *b = NULL;
	booking_ctx alice = fx_customer("alice");
	ck_assert_ok(fx_hold(&f, &a, "alice", "A1,A2,A3,A4"));
	char other[BOOKING_ID_SIZE];
	fx_add_showtime(&f, 2 * FX_DAY, other);
	const char *seats[] = {"A1", "A2", "A3", "A4"};
	ck_assert_ok(booking_hold(&b, f.bk, &alice, other, seats, 4)); /* another showtime: a count of its own */
	booking_reservation_free(b);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, a->id));
	ck_assert_ok(fx_hold(&f, &b, "alice", "C1,C2"));
	booking_reservation_free(b);
	fx_advance(&f, 16 * FX_MINUTE); /* both holds of this showtime ran out */
	ck_assert_ok(fx_hold(&f, &b, "alice", "B1,B2,B3,B4"));
	booking_reservation_free(b);
	booking_reservation_free(a);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(best_available_keyed_holds_and_changes_obey_the_limit)
{
	booking_reservation *a = NULL, *b = NULL;
	booking_ctx alice = fx_customer("alice"), admin = fx_admin();
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = f.showtime_id;
	q.best = 3;
	ck_assert_ok(booking_hold_with(&a, f.bk, &alice, &q, sizeof q));
	q.best = 2;
	q.idempotency_key = "second";
	ck_assert_code(booking_hold_with(&b, f.bk, &alice, &q, sizeof q), "LIMIT_REACHED");
	q.best = 5;
	q.idempotency_key = NULL;
	ck_assert_code(booking_hold_with(&b, f.bk, &alice, &q, sizeof q), "LIMIT_REACHED"); /* more than the limit alone */
	const char *two[] = {"C9", "C10"}, *one[] = {"C9"};
	ck_assert_code(booking_reservation_change(&b, f.bk, &alice, a->id, two, 2, NULL, 0), "LIMIT_REACHED");
	ck_assert_ok(booking_reservation_change(&b, f.bk, &alice, a->id, one, 1, NULL, 0)); /* 4 of 4 */
	booking_reservation_free(b);
	/* an admin's hold for a user is a sale on purpose: not limited */
	booking_hold_request sell = BOOKING_HOLD_REQUEST_INIT;
	const char *b1[] = {"B1"};
	sell.showtime_id = f.showtime_id;
	sell.seats = b1;
	sell.seat_count = 1;
	sell.for_user_id = "alice";
	ck_assert_ok(booking_hold_with(&b, f.bk, &admin, &sell, sizeof sell));
	booking_reservation_free(b);
	booking_reservation_free(a);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

static void setup_cooldown(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.max_seats_per_user_showtime = -1;
	o.hold_cooldown_seconds = 60;
	fx_open(&f, &o);
	fx_seed(&f);
}

START_TEST(a_cancel_holds_the_buyer_back_for_the_cooldown)
{
	booking_reservation *a = NULL, *b = NULL;
	booking_ctx alice = fx_customer("alice"), admin = fx_admin();
	ck_assert_ok(fx_hold(&f, &a, "alice", "A1"));
	ck_assert_ok(fx_hold(&f, &b, "alice", "A2")); /* no cancel yet: no cooldown */
	booking_reservation_free(b);
	fx_advance(&f, 10 * FX_SECOND);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, a->id));
	fx_advance(&f, 15 * FX_SECOND);
	ck_assert_code(fx_hold(&f, &b, "alice", "B1"), "LIMIT_REACHED");
	json_error_t jerr;
	json_t *d = json_loads(booking_error_last()->details_json, 0, &jerr);
	ck_assert_str_eq(json_string_value(json_object_get(d, "limit")), "hold_cooldown_seconds");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "retry_after_seconds")), 45);
	json_decref(d);
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = f.showtime_id;
	q.best = 2;
	ck_assert_code(booking_hold_with(&b, f.bk, &alice, &q, sizeof q), "LIMIT_REACHED"); /* best available too */
	ck_assert_ok(fx_hold(&f, &b, "bob", "B1"));                                        /* only the buyer who cancelled */
	booking_reservation_free(b);
	const char *b2[] = {"B2"};
	booking_hold_request sell = BOOKING_HOLD_REQUEST_INIT;
	sell.showtime_id = f.showtime_id;
	sell.seats = b2;
	sell.seat_count = 1;
	sell.for_user_id = "alice";
	ck_assert_ok(booking_hold_with(&b, f.bk, &admin, &sell, sizeof sell)); /* an admin's sale is not held back */
	booking_reservation_free(b);
	fx_advance(&f, 46 * FX_SECOND);
	ck_assert_ok(fx_hold(&f, &b, "alice", "B3"));
	booking_reservation_free(b);
	booking_reservation_free(a);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

typedef struct racer {
	pthread_barrier_t *barrier;
	const char *label;
	int rc;
} racer;

static void *race_one(void *arg)
{
	racer *r = arg;
	booking_ctx alice = fx_customer("alice");
	const char *seat[] = {r->label};
	pthread_barrier_wait(r->barrier);
	r->rc = booking_hold(NULL, f.bk, &alice, f.showtime_id, seat, 1);
	return NULL;
}

START_TEST(sixteen_racing_holds_of_one_buyer_get_exactly_the_limit)
{
	enum { N = 16 };
	static const char *const labels[N] = {"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8",
	                                      "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8"};
	pthread_barrier_t barrier;
	pthread_t t[N];
	racer r[N];
	int ok = 0, refused = 0;
	pthread_barrier_init(&barrier, NULL, N);
	for (int i = 0; i < N; i++) {
		r[i] = (racer){&barrier, labels[i], 0};
		pthread_create(&t[i], NULL, race_one, &r[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < N; i++) {
		ok += r[i].rc == 0;
		refused += r[i].rc == BOOKING_ELIMIT_REACHED;
	}
	ck_assert_int_eq(ok, LIMIT);
	ck_assert_int_eq(refused, N - LIMIT);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("default");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, a_buyer_holds_and_buys_at_most_the_limit);
	tcase_add_test(tc, expired_and_cancelled_holds_do_not_count_nor_other_showtimes);
	tcase_add_test(tc, best_available_keyed_holds_and_changes_obey_the_limit);
	tcase_add_test(tc, sixteen_racing_holds_of_one_buyer_get_exactly_the_limit);
	suite_add_tcase(s, tc);
	TCase *cool = tcase_create("cooldown");
	tcase_add_checked_fixture(cool, setup_cooldown, teardown);
	tcase_set_timeout(cool, 60);
	tcase_add_test(cool, a_cancel_holds_the_buyer_back_for_the_cooldown);
	suite_add_tcase(s, cool);
	return s;
}

int main(void)
{
	return fx_run(suite());
}
