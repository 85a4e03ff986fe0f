/*
 * Unit tests: payments, idempotency keys, declines, refunds and recovery of
 * interrupted payments (simulated gateway test cards).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNKNOWN_ID "01900000-0000-7000-8000-000000000000"
#define HOLD_MS (15 * FX_MINUTE)
#define WINDOW_MS (120 * FX_SECOND) /* default payment_window_seconds */

static fx f;

static void setup(void)
{
	fx_setup(&f);
}

static void teardown(void)
{
	fx_close(&f);
}

static booking_reservation_status status_of(const char *id)
{
	booking_reservation *r = fx_booking(&f, id);
	booking_reservation_status s = r->status;

	booking_reservation_free(r);
	return s;
}

/* The one payment of a reservation (there must be exactly one). */
static booking_payment only_payment(const char *reservation_id)
{
	booking_payment p[4];
	size_t n = fx_payments_of(&f, reservation_id, p, 4);

	ck_assert_msg(n == 1, "reservation %s has %zu payments, expected 1", reservation_id, n);
	return p[0];
}

static char *details_string(const char *key)
{
	json_error_t jerr;
	json_t *d = json_loads(booking_error_last()->details_json, 0, &jerr);
	char *v = NULL;

	ck_assert_ptr_nonnull(d);
	if (json_is_string(json_object_get(d, key)))
		v = strdup(json_string_value(json_object_get(d, key)));
	json_decref(d);
	ck_assert_msg(v != NULL, "details lack %s: %s", key, booking_error_last()->details_json);
	return v;
}

START_TEST(successful_payment_confirms_the_booking_and_sells_its_seats)
{
	char b[BOOKING_ID_SIZE];
	booking_payment *p = NULL;
	booking_reservation *r;

	fx_hold_ok(&f, "alice", "A1,A2", b);
	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "order-1", FX_CARD_OK));
	ck_assert_uint_eq(strlen(p->id), 36);
	ck_assert_str_eq(p->reservation_id, b);
	ck_assert_str_eq(p->user_id, "alice");
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_SUCCEEDED);
	ck_assert_int_eq(p->amount, 2 * FX_PRICE);
	ck_assert_str_eq(p->currency, "EUR");
	ck_assert_str_eq(p->card_last4, "4242");
	ck_assert_msg(p->gateway_ref[0] != '\0', "a succeeded payment has the gateway's charge id");
	ck_assert_str_eq(p->failure_code, "");
	ck_assert_int_eq(p->refunded_amount, 0);

	r = fx_booking(&f, b);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_CONFIRMED);
	ck_assert_int_eq(r->version, 3); /* held, paying, confirmed */
	booking_reservation_free(r);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_SOLD);
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_SOLD);
	ck_assert_uint_eq(fx_payment_count(&f), 1);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	booking_payment_free(p);
}
END_TEST

START_TEST(card_number_with_spaces_is_accepted_and_only_last4_kept)
{
	char b[BOOKING_ID_SIZE];
	booking_payment *p = NULL;

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "order-1", "4242 4242 4242 4242"));
	ck_assert_str_eq(p->card_last4, "4242");
	booking_payment_free(p);
}
END_TEST

START_TEST(replay_with_the_same_key_returns_the_same_payment)
{
	char b[BOOKING_ID_SIZE];
	booking_payment *p1 = NULL, *p2 = NULL;

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, &p1, "alice", b, "order-1", FX_CARD_OK));
	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(fx_pay(&f, &p2, "alice", b, "order-1", FX_CARD_OK));
	ck_assert_str_eq(p2->id, p1->id);
	ck_assert_int_eq(p2->status, BOOKING_PAYMENT_SUCCEEDED);
	ck_assert_uint_eq(fx_payment_count(&f), 1);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);
	booking_payment_free(p1);
	booking_payment_free(p2);
}
END_TEST

START_TEST(key_reused_for_another_booking_fails_with_idempotency_key_reused)
{
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE];
	booking_payment *p = (booking_payment *)&p;

	fx_hold_ok(&f, "alice", "A1", b1);
	fx_hold_ok(&f, "alice", "A2", b2);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b1, "order-1", FX_CARD_OK));
	ck_assert_code(fx_pay(&f, &p, "alice", b2, "order-1", FX_CARD_OK), "IDEMPOTENCY_KEY_REUSED");
	ck_assert_ptr_null(p);
	ck_assert_int_eq(status_of(b2), BOOKING_RESERVATION_PENDING);
	ck_assert_uint_eq(fx_payment_count(&f), 1);
}
END_TEST

START_TEST(key_reused_with_another_card_fails_with_idempotency_key_reused)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "order-1", FX_CARD_OK));
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "order-1", "5555555555554444"), "IDEMPOTENCY_KEY_REUSED");
	ck_assert_uint_eq(fx_payment_count(&f), 1);
}
END_TEST

START_TEST(keys_belong_to_their_user)
{
	char a[BOOKING_ID_SIZE], b[BOOKING_ID_SIZE];
	booking_payment *pa = NULL, *pb = NULL;

	fx_hold_ok(&f, "alice", "A1", a);
	fx_hold_ok(&f, "bob", "A2", b);
	ck_assert_ok(fx_pay(&f, &pa, "alice", a, "checkout", FX_CARD_OK));
	ck_assert_ok(fx_pay(&f, &pb, "bob", b, "checkout", FX_CARD_OK));
	ck_assert_str_ne(pa->id, pb->id);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);
	booking_payment_free(pa);
	booking_payment_free(pb);
}
END_TEST

START_TEST(declined_payment_keeps_the_hold_and_the_user_may_retry_with_a_new_key)
{
	char b[BOOKING_ID_SIZE], *pid, *code, *pid2;
	booking_payment *p = (booking_payment *)&p, failed;
	booking_reservation *r;

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_code(fx_pay(&f, &p, "alice", b, "try-1", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	ck_assert_ptr_null(p);
	pid = details_string("payment_id");
	code = details_string("decline_code");
	ck_assert_str_eq(code, "card_declined");

	r = fx_booking(&f, b);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_SEATS_RESERVED);
	booking_reservation_free(r);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_HELD);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");

	failed = only_payment(b);
	ck_assert_str_eq(failed.id, pid);
	ck_assert_int_eq(failed.status, BOOKING_PAYMENT_FAILED);
	ck_assert_str_eq(failed.failure_code, "card_declined");
	ck_assert_str_eq(failed.card_last4, "0002");

	/* the same key replays the decline */
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "try-1", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	pid2 = details_string("payment_id");
	ck_assert_str_eq(pid2, pid);
	ck_assert_uint_eq(fx_payment_count(&f), 1);

	/* a new key may succeed */
	p = NULL;
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "try-2", FX_CARD_OK));
	ck_assert_str_ne(p->id, pid);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);
	ck_assert_uint_eq(fx_payment_count(&f), 2);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	booking_payment_free(p);
	free(pid);
	free(pid2);
	free(code);
}
END_TEST

START_TEST(insufficient_funds_is_a_decline_with_its_code)
{
	char b[BOOKING_ID_SIZE], *code;

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "try-1", FX_CARD_NO_FUNDS), "PAYMENT_DECLINED");
	code = details_string("decline_code");
	ck_assert_str_eq(code, "insufficient_funds");
	free(code);
}
END_TEST

START_TEST(decline_policy_release_cancels_and_frees_the_seats)
{
	booking_options o;
	fx g;
	char b[BOOKING_ID_SIZE];
	booking_reservation *r;

	teardown();
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.decline_policy = BOOKING_DECLINE_RELEASE;
	fx_open(&g, &o);
	fx_seed(&g);
	fx_hold_ok(&g, "alice", "A1,A2", b);
	ck_assert_code(fx_pay(&g, NULL, "alice", b, "try-1", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	r = fx_booking(&g, b);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_COMPENSATED);
	booking_reservation_free(r);
	ck_assert_int_eq(fx_seat_status(&g, "A1"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&g, NULL, "bob", "A1,A2"));
	ck_assert_code(fx_pay(&g, NULL, "alice", b, "try-2", FX_CARD_OK), "INVALID_STATE");
	ck_assert_uint_eq(fx_check_violations(&g), 0);
	fx_close(&g);
	setup();
}
END_TEST

START_TEST(payment_after_expiry_fails_with_reservation_expired)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b);
	fx_advance(&f, HOLD_MS);
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "late", FX_CARD_OK), "RESERVATION_EXPIRED");
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PENDING); /* the sweep records it */
	ck_assert_uint_eq(fx_payment_count(&f), 0);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	/* nothing was recorded under the key: it is still usable */
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "late", FX_CARD_OK), "RESERVATION_EXPIRED");
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(payment_of_an_expired_and_swept_booking_fails)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	int rc;

	fx_hold_ok(&f, "alice", "A1", b);
	fx_advance(&f, HOLD_MS + FX_SECOND);
	ck_assert_ok(booking_expire_due(NULL, f.bk, &sys, 10));
	rc = fx_pay(&f, NULL, "alice", b, "late", FX_CARD_OK);
	ck_assert_msg(rc == BOOKING_EEXPIRED || rc == BOOKING_EINVALID_STATE, "got %s", booking_error_name(rc));
	ck_assert_uint_eq(fx_payment_count(&f), 0);
}
END_TEST

START_TEST(payment_by_another_user_is_forbidden)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_code(fx_pay(&f, NULL, "bob", b, "k", FX_CARD_OK), "FORBIDDEN");
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PENDING);
	ck_assert_uint_eq(fx_payment_count(&f), 0);
}
END_TEST

START_TEST(payment_of_unknown_booking_fails_with_booking_not_found)
{
	ck_assert_code(fx_pay(&f, NULL, "alice", UNKNOWN_ID, "k", FX_CARD_OK), "RESERVATION_NOT_FOUND");
}
END_TEST

START_TEST(payment_of_a_confirmed_or_cancelled_booking_fails_with_invalid_state)
{
	char b[BOOKING_ID_SIZE], c[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_OK));
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k2", FX_CARD_OK), "INVALID_STATE");
	fx_hold_ok(&f, "alice", "A2", c);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, c));
	ck_assert_code(fx_pay(&f, NULL, "alice", c, "k3", FX_CARD_OK), "INVALID_STATE");
	ck_assert_uint_eq(fx_payment_count(&f), 1);
}
END_TEST

START_TEST(payment_input_is_validated)
{
	char b[BOOKING_ID_SIZE], long_key[257];

	memset(long_key, 'k', 256);
	long_key[256] = '\0';
	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k", "4242424242424241"), "VALIDATION_ERROR"); /* Luhn */
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k", "424242424242"), "VALIDATION_ERROR");     /* 12 digits */
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k", "42424242424242424242"), "VALIDATION_ERROR"); /* 20 */
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k", "4242x4242y4242z4242"), "VALIDATION_ERROR");
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k", NULL), "VALIDATION_ERROR");
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "", FX_CARD_OK), "VALIDATION_ERROR");
	ck_assert_code(fx_pay(&f, NULL, "alice", b, NULL, FX_CARD_OK), "VALIDATION_ERROR");
	ck_assert_code(fx_pay(&f, NULL, "alice", b, long_key, FX_CARD_OK), "VALIDATION_ERROR");
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "key\nwith-newline", FX_CARD_OK), "VALIDATION_ERROR");
	long_key[255] = '\0';
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, long_key, FX_CARD_OK));
	ck_assert_uint_eq(fx_payment_count(&f), 1);
}
END_TEST

START_TEST(payment_get_is_for_its_owner_or_an_admin)
{
	char b[BOOKING_ID_SIZE];
	booking_payment *p = NULL, *g = (booking_payment *)&g;
	booking_ctx alice = fx_customer("alice"), bob = fx_customer("bob");

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "k1", FX_CARD_OK));
	ck_assert_code(booking_payment_get(&g, f.bk, &bob, p->id), "FORBIDDEN");
	ck_assert_ptr_null(g);
	ck_assert_ok(booking_payment_get(&g, f.bk, &alice, p->id));
	ck_assert_str_eq(g->id, p->id);
	ck_assert_int_eq(g->status, BOOKING_PAYMENT_SUCCEEDED);
	booking_payment_free(g);
	g = fx_payment(&f, p->id);
	booking_payment_free(g);
	ck_assert_code(booking_payment_get(&g, f.bk, &alice, UNKNOWN_ID), "PAYMENT_NOT_FOUND");
	booking_payment_free(p);
}
END_TEST

START_TEST(gateway_timeout_before_charging_is_resolved_as_failed_by_recover)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	booking_payment pending, *after, *ok = NULL;
	size_t resolved = 0;
	int rc;

	fx_hold_ok(&f, "alice", "A1", b);
	rc = fx_pay(&f, NULL, "alice", b, "slow-1", FX_CARD_TIMEOUT);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PAYMENT_PROCESSING);
	pending = only_payment(b);
	ck_assert_int_eq(pending.status, BOOKING_PAYMENT_PROCESSING);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_HELD);

	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(booking_payment_recover(&resolved, f.bk, &sys, 30 * FX_SECOND));
	ck_assert_uint_eq(resolved, 1);
	after = fx_payment(&f, pending.id);
	ck_assert_int_eq(after->status, BOOKING_PAYMENT_FAILED);
	booking_payment_free(after);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PENDING);
	ck_assert_uint_eq(fx_check_violations(&f), 0);

	/* the hold survived: the user pays again with a new key */
	ck_assert_ok(fx_pay(&f, &ok, "alice", b, "slow-2", FX_CARD_OK));
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);
	booking_payment_free(ok);
	ck_assert_ok(booking_payment_recover(&resolved, f.bk, &sys, 0));
	ck_assert_uint_eq(resolved, 0);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(recover_skips_payments_younger_than_min_age)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	size_t resolved = 9;
	int rc;

	fx_hold_ok(&f, "alice", "A1", b);
	rc = fx_pay(&f, NULL, "alice", b, "slow-1", FX_CARD_TIMEOUT);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	ck_assert_ok(booking_payment_recover(&resolved, f.bk, &sys, FX_HOUR));
	ck_assert_uint_eq(resolved, 0);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PAYMENT_PROCESSING);
}
END_TEST

START_TEST(lost_reply_of_a_charge_is_confirmed_by_recover)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	booking_payment pending, *after;
	size_t resolved = 0;
	int rc;

	fx_hold_ok(&f, "alice", "A1,A2", b);
	rc = fx_pay(&f, NULL, "alice", b, "lost-1", FX_CARD_LOST_REPLY);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PAYMENT_PROCESSING);
	pending = only_payment(b);

	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(booking_payment_recover(&resolved, f.bk, &sys, 0));
	ck_assert_uint_eq(resolved, 1);
	after = fx_payment(&f, pending.id);
	ck_assert_int_eq(after->status, BOOKING_PAYMENT_SUCCEEDED);
	ck_assert_msg(after->gateway_ref[0] != '\0', "the recovered charge id is recorded");
	booking_payment_free(after);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_SOLD);
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_SOLD);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(retry_with_the_same_key_after_a_lost_reply_answers_the_resolved_payment)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	booking_payment pending, *p = NULL;
	int rc;

	fx_hold_ok(&f, "alice", "A1", b);
	rc = fx_pay(&f, NULL, "alice", b, "lost-1", FX_CARD_LOST_REPLY);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	pending = only_payment(b);
	/* while the outcome is unknown, the key is still running */
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "lost-1", FX_CARD_LOST_REPLY), "PAYMENT_IN_PROGRESS");
	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(booking_payment_recover(NULL, f.bk, &sys, 0));
	/* resolved: the retry answers the first (now known) result */
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "lost-1", FX_CARD_LOST_REPLY));
	ck_assert_str_eq(p->id, pending.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_SUCCEEDED);
	ck_assert_uint_eq(fx_payment_count(&f), 1);
	booking_payment_free(p);
}
END_TEST

START_TEST(charge_landing_after_the_seats_were_taken_is_refunded_never_confirmed)
{
	char b[BOOKING_ID_SIZE], other[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	booking_payment pending, *after;
	booking_reservation *r;
	size_t resolved = 0;
	int rc;

	fx_hold_ok(&f, "alice", "B1,B2", b);
	fx_advance(&f, 14 * FX_MINUTE); /* one minute of hold left when paying */
	rc = fx_pay(&f, NULL, "alice", b, "lost-1", FX_CARD_LOST_REPLY);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	pending = only_payment(b);

	/* past the hold and the payment window: the seats are claimable */
	fx_advance(&f, FX_MINUTE + WINDOW_MS + FX_SECOND);
	fx_hold_ok(&f, "bob", "B2,B3", other);

	ck_assert_ok(booking_payment_recover(&resolved, f.bk, &sys, 0));
	ck_assert_uint_eq(resolved, 1);
	after = fx_payment(&f, pending.id);
	ck_assert_int_eq(after->status, BOOKING_PAYMENT_REFUNDED);
	ck_assert_int_eq(after->refunded_amount, after->amount);
	booking_payment_free(after);
	r = fx_booking(&f, b);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_EXPIRED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_COMPENSATED);
	booking_reservation_free(r);
	/* bob keeps his seats; alice's other seat is free */
	ck_assert_int_eq(status_of(other), BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(fx_seat_status(&f, "B2"), BOOKING_SEAT_HELD);
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_FREE);
	ck_assert_code(fx_hold(&f, NULL, "carol", "B2"), "SEAT_ALREADY_BOOKED");
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(admin_refunds_a_confirmed_booking)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	booking_payment *p = NULL, *r = NULL;
	booking_reservation *bk;

	fx_hold_ok(&f, "alice", "C1,C2", b);
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "k1", FX_CARD_OK));
	ck_assert_code(booking_payment_refund(NULL, f.bk, &alice, p->id), "FORBIDDEN");
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);

	fx_advance(&f, FX_HOUR);
	ck_assert_ok(booking_payment_refund(&r, f.bk, &admin, p->id));
	ck_assert_str_eq(r->id, p->id);
	ck_assert_int_eq(r->status, BOOKING_PAYMENT_REFUNDED);
	ck_assert_int_eq(r->refunded_amount, 2 * FX_PRICE);
	bk = fx_booking(&f, b);
	ck_assert_int_eq(bk->status, BOOKING_RESERVATION_CANCELLED);
	booking_reservation_free(bk);
	ck_assert_int_eq(fx_seat_status(&f, "C1"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(fx_seat_status(&f, "C2"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&f, NULL, "bob", "C1"));

	ck_assert_code(booking_payment_refund(NULL, f.bk, &admin, p->id), "INVALID_STATE");
	ck_assert_code(booking_payment_refund(NULL, f.bk, &admin, UNKNOWN_ID), "PAYMENT_NOT_FOUND");
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	booking_payment_free(p);
	booking_payment_free(r);
}
END_TEST

START_TEST(refund_of_a_failed_payment_fails_with_invalid_state)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx admin = fx_admin();
	booking_payment failed;

	fx_hold_ok(&f, "alice", "C1", b);
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	failed = only_payment(b);
	ck_assert_code(booking_payment_refund(NULL, f.bk, &admin, failed.id), "INVALID_STATE");
}
END_TEST

START_TEST(gateway_outage_opens_the_circuit_and_then_fails_fast_with_service_unavailable)
{
	booking_options o;
	fx g;
	fx_gateway_wrap *gw = fx_gateway_wrap_new();
	int first_fast = -1;

	teardown();
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.circuit_breaker_failure_threshold = 2;
	o.circuit_breaker_recovery_seconds = 10;
	o.gateway = &gw->parent;
	fx_open(&g, &o);
	fx_seed(&g);

	/* the gateway times out on every call: after the threshold the breaker opens */
	for (int i = 0; i < 6; i++) {
		char b[BOOKING_ID_SIZE], label[8], key[16];
		int before = fx_gateway_charges(gw), rc;

		snprintf(label, sizeof(label), "A%d", i + 1);
		snprintf(key, sizeof(key), "k%d", i);
		fx_hold_ok(&g, "alice", label, b);
		rc = fx_pay(&g, NULL, "alice", b, key, FX_CARD_TIMEOUT);
		if (first_fast < 0 && rc == BOOKING_EUNAVAILABLE && fx_gateway_charges(gw) == before)
			first_fast = i;
		if (first_fast >= 0) {
			ck_assert_msg(rc == BOOKING_EUNAVAILABLE, "pay %d after the circuit opened: %s", i,
			              booking_error_name(rc));
			ck_assert_msg(fx_gateway_charges(gw) == before, "pay %d reached the gateway through an open circuit",
			              i);
		} else {
			ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "pay %d: %s", i,
			              booking_error_name(rc));
		}
	}
	ck_assert_msg(first_fast >= 0 && first_fast <= 2,
	              "the circuit never opened: every pay called the gateway (%d charges for 6 pays)",
	              fx_gateway_charges(gw));

	/* after the recovery time a trial call goes through, and a good card pays */
	fx_advance(&g, 10 * FX_SECOND);
	{
		char b[BOOKING_ID_SIZE];
		fx_hold_ok(&g, "bob", "C1", b);
		ck_assert_ok(fx_pay(&g, NULL, "bob", b, "ok-1", FX_CARD_OK));
		fx_hold_ok(&g, "bob", "C2", b);
		ck_assert_ok(fx_pay(&g, NULL, "bob", b, "ok-2", FX_CARD_OK));
	}
	fx_close(&g);
	setup();
}
END_TEST

typedef struct log_sink {
	pthread_mutex_t mu;
	char *lines[512];
	size_t n;
} log_sink;

static void keep_line(booking_log_level level, const char *json_line, void *payload)
{
	log_sink *l = payload;

	(void)level;
	pthread_mutex_lock(&l->mu);
	if (l->n < 512)
		l->lines[l->n++] = strdup(json_line);
	pthread_mutex_unlock(&l->mu);
}

START_TEST(card_numbers_never_reach_the_logs)
{
	booking_options o;
	fx g;
	log_sink *l = calloc(1, sizeof(*l));
	static const char *const cards[] = {FX_CARD_OK, FX_CARD_DECLINED, FX_CARD_TIMEOUT, FX_CARD_LOST_REPLY};
	booking_ctx sys = fx_system();

	teardown();
	pthread_mutex_init(&l->mu, NULL);
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.log_level = BOOKING_LOG_DEBUG;
	o.log_fn = keep_line;
	o.log_payload = l;
	fx_open(&g, &o);
	fx_seed(&g);
	for (int i = 0; i < 4; i++) {
		char b[BOOKING_ID_SIZE], label[8], key[16];
		snprintf(label, sizeof(label), "B%d", i + 1);
		snprintf(key, sizeof(key), "k%d", i);
		fx_hold_ok(&g, "alice", label, b);
		fx_pay(&g, NULL, "alice", b, key, cards[i]);
	}
	fx_advance(&g, FX_MINUTE);
	ck_assert_ok(booking_payment_recover(NULL, g.bk, &sys, 0));
	fx_close(&g);

	ck_assert_uint_gt(l->n, 0);
	for (size_t i = 0; i < l->n; i++) {
		json_error_t jerr;
		json_t *line = json_loads(l->lines[i], 0, &jerr);
		ck_assert_msg(line && json_is_object(line), "log line is not a JSON object: %s", l->lines[i]);
		ck_assert_msg(json_is_string(json_object_get(line, "message")), "log line without message: %s",
		              l->lines[i]);
		ck_assert_msg(json_object_get(line, "timestamp") && json_object_get(line, "level"),
		              "log line without timestamp/level: %s", l->lines[i]);
		json_decref(line);
		for (int c = 0; c < 4; c++)
			ck_assert_msg(strstr(l->lines[i], cards[c]) == NULL, "a card number was logged: %s", l->lines[i]);
		free(l->lines[i]);
	}
	pthread_mutex_destroy(&l->mu);
	free(l);
	setup();
}
END_TEST

/* ---- security item 2: the payment key ---------------------------------- */

/* A handle whose options end before payment_key_file (version 3) has no payment key: no payments. */
START_TEST(pay_without_a_payment_key_is_not_supported)
{
	fx g;
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.version = 3; /* an older struct: no payment_key_file, so none is set */
	fx_open(&g, &o);
	fx_seed(&g);
	char b[BOOKING_ID_SIZE];
	fx_hold_ok(&g, "alice", "A1", b);
	booking_ctx alice = fx_customer("alice");
	ck_assert_code(booking_pay(NULL, g.bk, &alice, b, "k1", FX_CARD_OK), "NOT_SUPPORTED");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->details_json, "payment_key_file"));
	ck_assert_uint_eq(fx_payments_of(&g, b, NULL, 0), 0);
	fx_close(&g);
}
END_TEST

static char keydir[256];

static const char *key_path(const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/%s", keydir, name);
	return buf;
}

static int open_with_key(const char *path)
{
	booking_options o;
	booking_handle *bk = NULL;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.log_level = BOOKING_LOG_CRITICAL;
	o.payment_key_file = path;
	int rc = booking_open(&bk, &o);
	booking_close(bk);
	return rc;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static void assert_refused(const char *path, const char *reason)
{
	ck_assert_code(open_with_key(path), "VALIDATION_ERROR");
	const char *d = booking_error_last()->details_json;
	ck_assert_msg(strstr(d, "payment_key_file") && strstr(d, reason), "%s: %s", reason, d);
}

START_TEST(a_payment_key_file_is_made_private_and_never_over_another)
{
	snprintf(keydir, sizeof(keydir), "%s/booking-paykey.XXXXXX", fx_env("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(keydir));
	char p[400], q[400];
	ck_assert_ok(booking_payment_key_generate_file(key_path("payment.key", p, sizeof(p))));
	struct stat sb;
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sb.st_size, 65); /* 64 hex digits and a newline */
	ck_assert_code(booking_payment_key_generate_file(p), "ALREADY_EXISTS");
	ck_assert_ok(open_with_key(p));
	/* two keys are two secrets */
	ck_assert_ok(booking_payment_key_generate_file(key_path("other.key", q, sizeof(q))));
	char a[80] = "", b[80] = "";
	FILE *fa = fopen(p, "r"), *fb = fopen(q, "r");
	ck_assert_ptr_nonnull(fgets(a, sizeof(a), fa));
	ck_assert_ptr_nonnull(fgets(b, sizeof(b), fb));
	fclose(fa);
	fclose(fb);
	ck_assert_str_ne(a, b);
	unlink(p);
	unlink(q);
	rmdir(keydir);
}
END_TEST

START_TEST(a_payment_key_file_others_could_read_or_of_another_form_is_refused)
{
	snprintf(keydir, sizeof(keydir), "%s/booking-paykey.XXXXXX", fx_env("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(keydir));
	char p[400];
	const char *good = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	write_text(key_path("k", p, sizeof(p)), good, 0600);
	ck_assert_ok(open_with_key(p));
	ck_assert_int_eq(chmod(p, 0644), 0);
	assert_refused(p, "readable_by_others");
	ck_assert_int_eq(chmod(p, 0620), 0);
	assert_refused(p, "group_or_world_writable");
	write_text(p, "00112233", 0600);
	assert_refused(p, "format");
	write_text(p, "zz112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", 0600);
	assert_refused(p, "format");
	write_text(p, good, 0600);
	ck_assert_int_eq(chmod(keydir, 0777), 0); /* anyone could swap the key in its directory */
	assert_refused(p, "group_or_world_writable");
	ck_assert_int_eq(chmod(keydir, 0700), 0);
	ck_assert_code(open_with_key(key_path("missing", p, sizeof(p))), "VALIDATION_ERROR");
	unlink(key_path("k", p, sizeof(p)));
	rmdir(keydir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("payment");
	TCase *tc = tcase_create("payment");

	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, successful_payment_confirms_the_booking_and_sells_its_seats);
	tcase_add_test(tc, pay_without_a_payment_key_is_not_supported);
	tcase_add_test(tc, a_payment_key_file_is_made_private_and_never_over_another);
	tcase_add_test(tc, a_payment_key_file_others_could_read_or_of_another_form_is_refused);
	tcase_add_test(tc, card_number_with_spaces_is_accepted_and_only_last4_kept);
	tcase_add_test(tc, replay_with_the_same_key_returns_the_same_payment);
	tcase_add_test(tc, key_reused_for_another_booking_fails_with_idempotency_key_reused);
	tcase_add_test(tc, key_reused_with_another_card_fails_with_idempotency_key_reused);
	tcase_add_test(tc, keys_belong_to_their_user);
	tcase_add_test(tc, declined_payment_keeps_the_hold_and_the_user_may_retry_with_a_new_key);
	tcase_add_test(tc, insufficient_funds_is_a_decline_with_its_code);
	tcase_add_test(tc, decline_policy_release_cancels_and_frees_the_seats);
	tcase_add_test(tc, payment_after_expiry_fails_with_reservation_expired);
	tcase_add_test(tc, payment_of_an_expired_and_swept_booking_fails);
	tcase_add_test(tc, payment_by_another_user_is_forbidden);
	tcase_add_test(tc, payment_of_unknown_booking_fails_with_booking_not_found);
	tcase_add_test(tc, payment_of_a_confirmed_or_cancelled_booking_fails_with_invalid_state);
	tcase_add_test(tc, payment_input_is_validated);
	tcase_add_test(tc, payment_get_is_for_its_owner_or_an_admin);
	tcase_add_test(tc, gateway_timeout_before_charging_is_resolved_as_failed_by_recover);
	tcase_add_test(tc, recover_skips_payments_younger_than_min_age);
	tcase_add_test(tc, lost_reply_of_a_charge_is_confirmed_by_recover);
	tcase_add_test(tc, retry_with_the_same_key_after_a_lost_reply_answers_the_resolved_payment);
	tcase_add_test(tc, charge_landing_after_the_seats_were_taken_is_refunded_never_confirmed);
	tcase_add_test(tc, admin_refunds_a_confirmed_booking);
	tcase_add_test(tc, refund_of_a_failed_payment_fails_with_invalid_state);
	tcase_add_test(tc, gateway_outage_opens_the_circuit_and_then_fails_fast_with_service_unavailable);
	tcase_add_test(tc, card_numbers_never_reach_the_logs);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
