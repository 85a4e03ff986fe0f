/*
 * Integration tests: the guide's §10.3 scenarios, on the store in
 * BOOKING_TEST_STORE_URL (memory:, sqlite, ...), with real threads racing.
 * After every scenario booking_check() must find nothing.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <pthread.h>
#include <stdlib.h>

#define HOLD_MS (15 * FX_MINUTE)
#define ROUNDS 20

static fx f;

/*
 * Line the racers up at the store: both have passed the core's pre-checks
 * before either reaches the store, so the store's guarded update decides.
 * (A racer that never comes, say one the lock guard turned away, releases
 * the others after the timeout.)
 */
static fx_rendezvous gate;
static const char *gate_members[2];

static void at_the_store(fx_store_wrap *w, const char *member)
{
	(void)w;
	for (int i = 0; i < 2; i++)
		if (gate_members[i] && strcmp(member, gate_members[i]) == 0)
			fx_rendezvous_wait(&gate);
}

static void gate_on(int parties, const char *m1, const char *m2)
{
	fx_rendezvous_init(&gate, parties, 200);
	gate_members[0] = m1;
	gate_members[1] = m2;
	f.wrap->before = at_the_store;
}

static void gate_off(void)
{
	f.wrap->before = NULL;
	fx_rendezvous_destroy(&gate);
}

/* _i selects the contention guard: 0 none (the store alone decides), 1 memory: locks. */
static void open_with_guard(int guard)
{
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);

	o.payment_key_file = fx_payment_key_file();
	o.lock_url = guard ? "memory:" : NULL;
	o.lock_retry_delay_ms = 10;
	fx_open(&f, &o);
	fx_seed(&f);
}

static void label_of(int i, char out[BOOKING_LABEL_SIZE])
{
	snprintf(out, BOOKING_LABEL_SIZE, "%c%d", 'A' + (i / 10) % 3, i % 10 + 1);
}

/* --- two buyers, one seat ------------------------------------------------ */

typedef struct buyer {
	pthread_barrier_t *barrier;
	const char *user;
	const char *labels;
	int rc;
	char reservation_id[BOOKING_ID_SIZE];
} buyer;

static void *buy(void *p)
{
	buyer *b = p;
	booking_reservation *r = NULL;

	pthread_barrier_wait(b->barrier);
	b->rc = fx_hold(&f, &r, b->user, b->labels);
	if (b->rc == 0) {
		snprintf(b->reservation_id, sizeof(b->reservation_id), "%s", r->id);
		booking_reservation_free(r);
	} else if (b->rc != BOOKING_ESEAT_ALREADY_BOOKED && b->rc != BOOKING_ELOCK_FAILED) {
		fprintf(stderr, "%s: unexpected %s: %s\n", b->user, booking_error_name(b->rc),
		        booking_error_last()->message);
	}
	return NULL;
}

START_TEST(two_buyers_for_the_same_seat_at_the_same_moment_one_wins)
{
	open_with_guard(_i);
	for (int round = 0; round < ROUNDS; round++) {
		pthread_barrier_t barrier;
		pthread_t t[2];
		char label[BOOKING_LABEL_SIZE];
		buyer b[2] = {{&barrier, "user-a", NULL, -99, ""}, {&barrier, "user-b", NULL, -99, ""}};
		booking_reservation *r;

		label_of(round, label);
		b[0].labels = b[1].labels = label;
		pthread_barrier_init(&barrier, NULL, 2);
		if (round % 2)
			gate_on(2, "hold", NULL); /* odd rounds: both reach the store together */
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, buy, &b[i]);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		if (round % 2)
			gate_off();
		pthread_barrier_destroy(&barrier);

		ck_assert_msg((b[0].rc == 0) != (b[1].rc == 0), "round %d: exactly one wins (%s, %s)", round,
		              booking_error_name(b[0].rc), booking_error_name(b[1].rc));
		/* with a guard, a loser whose lock retries ran out while the winner held the keys may be told
		 * LOCK_ACQUISITION_FAILED (the manual clock makes backoff sleeps instant) */
		for (int i = 0; i < 2; i++)
			if (b[i].rc != 0)
				ck_assert_msg(b[i].rc == BOOKING_ESEAT_ALREADY_BOOKED || (_i && b[i].rc == BOOKING_ELOCK_FAILED),
				              "round %d: loser got %s", round, booking_error_name(b[i].rc));
		ck_assert_int_eq(fx_seat_status(&f, label), BOOKING_SEAT_HELD);
		r = fx_booking(&f, b[0].rc == 0 ? b[0].reservation_id : b[1].reservation_id);
		ck_assert_str_eq(r->user_id, b[0].rc == 0 ? "user-a" : "user-b");
		ck_assert_str_eq(r->seats[0]->label, label);
		booking_reservation_free(r);
	}
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fx_close(&f);
}
END_TEST

START_TEST(overlapping_requests_are_all_or_nothing_under_contention)
{
	open_with_guard(_i);
	for (int round = 0; round < ROUNDS / 2; round++) {
		pthread_barrier_t barrier;
		pthread_t t[3];
		char l1[BOOKING_LABEL_SIZE], l2[BOOKING_LABEL_SIZE], l3[BOOKING_LABEL_SIZE];
		char ab[64], bc[64], abc[64];
		buyer b[3];
		int wins = 0;

		label_of(3 * round, l1);
		label_of(3 * round + 1, l2);
		label_of(3 * round + 2, l3);
		snprintf(ab, sizeof(ab), "%s,%s", l1, l2);
		snprintf(bc, sizeof(bc), "%s,%s", l2, l3);
		snprintf(abc, sizeof(abc), "%s,%s,%s", l3, l2, l1);
		b[0] = (buyer){&barrier, "user-a", ab, -99, ""};
		b[1] = (buyer){&barrier, "user-b", bc, -99, ""};
		b[2] = (buyer){&barrier, "user-c", abc, -99, ""};
		pthread_barrier_init(&barrier, NULL, 3);
		if (round % 2)
			gate_on(3, "hold", NULL);
		for (int i = 0; i < 3; i++)
			pthread_create(&t[i], NULL, buy, &b[i]);
		for (int i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		if (round % 2)
			gate_off();
		pthread_barrier_destroy(&barrier);
		for (int i = 0; i < 3; i++) {
			if (b[i].rc == 0)
				wins++;
			else
				ck_assert_msg(b[i].rc == BOOKING_ESEAT_ALREADY_BOOKED || (_i && b[i].rc == BOOKING_ELOCK_FAILED),
				              "round %d: loser got %s", round, booking_error_name(b[i].rc));
		}
		/* every request wants the middle seat */
		ck_assert_int_eq(wins, 1);
		if (b[0].rc == 0) {
			ck_assert_int_eq(fx_seat_status(&f, l3), BOOKING_SEAT_FREE);
		} else if (b[1].rc == 0) {
			ck_assert_int_eq(fx_seat_status(&f, l1), BOOKING_SEAT_FREE);
		} else {
			ck_assert_int_eq(fx_seat_status(&f, l1), BOOKING_SEAT_HELD);
			ck_assert_int_eq(fx_seat_status(&f, l3), BOOKING_SEAT_HELD);
		}
	}
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fx_close(&f);
}
END_TEST

/* --- the same idempotency key twice -------------------------------------- */

START_TEST(same_idempotency_key_twice_makes_one_payment)
{
	char b[BOOKING_ID_SIZE];
	booking_payment *p1 = NULL, *p2 = NULL;

	open_with_guard(0);
	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, &p1, "alice", b, "KEY1", FX_CARD_OK));
	ck_assert_ok(fx_pay(&f, &p2, "alice", b, "KEY1", FX_CARD_OK));
	ck_assert_str_eq(p1->id, p2->id);
	ck_assert_uint_eq(fx_payment_count(&f), 1);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	booking_payment_free(p1);
	booking_payment_free(p2);
	fx_close(&f);
}
END_TEST

typedef struct payer {
	pthread_barrier_t *barrier;
	const char *reservation_id;
	int rc;
	char payment_id[BOOKING_ID_SIZE];
} payer;

static void *pay_same_key(void *p)
{
	payer *x = p;
	booking_payment *pay = NULL;

	char key[64];

	snprintf(key, sizeof(key), "KEY-%s", x->reservation_id); /* one key per reservation, shared by both threads */
	pthread_barrier_wait(x->barrier);
	x->rc = fx_pay(&f, &pay, "alice", x->reservation_id, key, FX_CARD_OK);
	if (x->rc == 0) {
		snprintf(x->payment_id, sizeof(x->payment_id), "%s", pay->id);
		booking_payment_free(pay);
	}
	return NULL;
}

START_TEST(same_idempotency_key_from_two_threads_makes_one_payment)
{
	open_with_guard(0);
	for (int round = 0; round < ROUNDS; round++) {
		pthread_barrier_t barrier;
		pthread_t t[2];
		payer x[2];
		char b[BOOKING_ID_SIZE], label[BOOKING_LABEL_SIZE];
		booking_payment only;
		booking_reservation *r;

		label_of(round, label);
		fx_hold_ok(&f, "alice", label, b);
		pthread_barrier_init(&barrier, NULL, 2);
		if (round % 2)
			gate_on(2, "apply", NULL);
		for (int i = 0; i < 2; i++) {
			x[i] = (payer){&barrier, b, -99, ""};
			pthread_create(&t[i], NULL, pay_same_key, &x[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		if (round % 2)
			gate_off();
		pthread_barrier_destroy(&barrier);

		ck_assert_msg(x[0].rc == 0 || x[1].rc == 0, "round %d: one call pays (%s, %s)", round,
		              booking_error_name(x[0].rc), booking_error_name(x[1].rc));
		for (int i = 0; i < 2; i++)
			ck_assert_msg(x[i].rc == 0 || x[i].rc == BOOKING_EPAYMENT_IN_PROGRESS,
			              "round %d: a concurrent replay answers the payment or PAYMENT_IN_PROGRESS, not %s",
			              round, booking_error_name(x[i].rc));
		if (x[0].rc == 0 && x[1].rc == 0)
			ck_assert_str_eq(x[0].payment_id, x[1].payment_id);
		ck_assert_uint_eq(fx_payments_of(&f, b, &only, 1), 1);
		ck_assert_str_eq(only.id, x[0].rc == 0 ? x[0].payment_id : x[1].payment_id);
		ck_assert_int_eq(only.status, BOOKING_PAYMENT_SUCCEEDED);
		r = fx_booking(&f, b);
		ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED);
		booking_reservation_free(r);
	}
	ck_assert_uint_eq(fx_payment_count(&f), ROUNDS);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fx_close(&f);
}
END_TEST

/* --- payment after expiry -------------------------------------------------- */

START_TEST(payment_after_expiry_fails_with_reservation_expired)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	int rc;

	open_with_guard(0);
	fx_hold_ok(&f, "alice", "A1", b);
	fx_advance(&f, HOLD_MS + FX_SECOND);
	ck_assert_code(fx_pay(&f, NULL, "alice", b, "KEY1", FX_CARD_OK), "RESERVATION_EXPIRED");
	/* after the sweep ran: still no payment */
	ck_assert_ok(booking_expire_due(NULL, f.bk, &sys, 100));
	rc = fx_pay(&f, NULL, "alice", b, "KEY1", FX_CARD_OK);
	ck_assert_msg(rc == BOOKING_EEXPIRED || rc == BOOKING_EINVALID_STATE, "got %s", booking_error_name(rc));
	ck_assert_uint_eq(fx_payment_count(&f), 0);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fx_close(&f);
}
END_TEST

/* --- expiry racing payment -------------------------------------------------- */

typedef struct racer {
	pthread_barrier_t *barrier;
	const char *reservation_id;
	int rc;
	size_t expired;
} racer;

static void *race_pay(void *p)
{
	racer *r = p;

	char key[64];

	snprintf(key, sizeof(key), "KEY-%s", r->reservation_id);
	pthread_barrier_wait(r->barrier);
	r->rc = fx_pay(&f, NULL, "alice", r->reservation_id, key, FX_CARD_OK);
	return NULL;
}

static void *race_expire(void *p)
{
	racer *r = p;
	booking_ctx sys = fx_system();

	pthread_barrier_wait(r->barrier);
	fx_advance(&f, 1); /* the hold ends now */
	r->rc = booking_expire_due(&r->expired, f.bk, &sys, 100);
	return NULL;
}

START_TEST(expiry_racing_payment_has_exactly_one_clean_winner)
{
	int paid = 0, expired = 0;

	open_with_guard(0);
	for (int round = 0; round < ROUNDS; round++) {
		pthread_barrier_t barrier;
		pthread_t tp, te;
		racer rp, re;
		char b[BOOKING_ID_SIZE], label[BOOKING_LABEL_SIZE];
		booking_reservation *r;

		label_of(round, label);
		fx_hold_ok(&f, "alice", label, b);
		fx_advance(&f, HOLD_MS - 1); /* one millisecond of hold left */
		pthread_barrier_init(&barrier, NULL, 2);
		if (round % 2)
			gate_on(2, "apply", NULL);
		rp = (racer){&barrier, b, -99, 0};
		re = (racer){&barrier, b, -99, 0};
		pthread_create(&tp, NULL, race_pay, &rp);
		pthread_create(&te, NULL, race_expire, &re);
		pthread_join(tp, NULL);
		pthread_join(te, NULL);
		if (round % 2)
			gate_off();
		pthread_barrier_destroy(&barrier);

		ck_assert_msg(re.rc == 0, "round %d: booking_expire_due failed: %s", round, booking_error_name(re.rc));
		r = fx_booking(&f, b);
		if (rp.rc == 0) {
			ck_assert_msg(re.expired == 0, "round %d: paid and expired", round);
			ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED);
			ck_assert_int_eq(fx_seat_status(&f, label), BOOKING_SEAT_SOLD);
			paid++;
		} else {
			ck_assert_msg(rp.rc == BOOKING_EEXPIRED || rp.rc == BOOKING_EINVALID_STATE,
			              "round %d: payment lost the race with %s", round, booking_error_name(rp.rc));
			ck_assert_int_eq(fx_payments_of(&f, b, NULL, 0), 0);
			ck_assert_int_eq(fx_seat_status(&f, label), BOOKING_SEAT_FREE);
			ck_assert_msg(r->status == BOOKING_RESERVATION_EXPIRED || (r->status == BOOKING_RESERVATION_PENDING &&
			                                                      re.expired == 0),
			              "round %d: status %s", round, booking_reservation_status_name(r->status));
			if (r->status == BOOKING_RESERVATION_PENDING) {
				/* payment saw the hold end before the sweep did: sweep again */
				booking_ctx sys = fx_system();
				size_t n = 0;
				ck_assert_ok(booking_expire_due(&n, f.bk, &sys, 100));
				ck_assert_uint_eq(n, 1);
			}
			expired++;
		}
		booking_reservation_free(r);
		ck_assert_uint_eq(fx_check_violations(&f), 0);
	}
	fprintf(stderr, "expiry vs payment: %d paid, %d expired\n", paid, expired);
	fx_close(&f);
}
END_TEST

/* --- two recovery passes at once ------------------------------------------- */

typedef struct recoverer {
	pthread_barrier_t *barrier;
	int rc;
	size_t resolved;
} recoverer;

static void *recover(void *p)
{
	recoverer *r = p;
	booking_ctx sys = fx_system();

	pthread_barrier_wait(r->barrier);
	r->rc = booking_payment_recover(&r->resolved, f.bk, &sys, 0);
	return NULL;
}

START_TEST(two_recovery_passes_at_once_settle_each_payment_once)
{
	char kept[BOOKING_ID_SIZE], lost[BOOKING_ID_SIZE], other[BOOKING_ID_SIZE];
	pthread_barrier_t barrier;
	pthread_t t[2];
	recoverer r[2];
	booking_payment pk, pl, *now;
	booking_reservation *b;
	int rc;

	open_with_guard(0);
	/* a charge whose reply was lost and whose seats were taken meanwhile... */
	fx_hold_ok(&f, "alice", "B1", lost);
	fx_advance(&f, HOLD_MS - FX_MINUTE);
	rc = fx_pay(&f, NULL, "alice", lost, "lost-seats", FX_CARD_LOST_REPLY);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	fx_advance(&f, 10 * FX_MINUTE);
	fx_hold_ok(&f, "bob", "B1", other);
	/* ...and one whose reply was lost with its seats still held */
	fx_hold_ok(&f, "alice", "A1", kept);
	rc = fx_pay(&f, NULL, "alice", kept, "kept-seats", FX_CARD_LOST_REPLY);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	ck_assert_uint_eq(fx_payments_of(&f, lost, &pl, 1), 1);
	ck_assert_uint_eq(fx_payments_of(&f, kept, &pk, 1), 1);

	pthread_barrier_init(&barrier, NULL, 2);
	gate_on(2, "apply", NULL); /* both passes reach the store with the same payment */
	for (int i = 0; i < 2; i++) {
		r[i] = (recoverer){&barrier, -99, 0};
		pthread_create(&t[i], NULL, recover, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	gate_off();
	pthread_barrier_destroy(&barrier);

	for (int i = 0; i < 2; i++)
		ck_assert_msg(r[i].rc == 0, "recovery pass %d: %s", i, booking_error_name(r[i].rc));
	ck_assert_uint_ge(r[0].resolved + r[1].resolved, 2);
	now = fx_payment(&f, pl.id);
	ck_assert_int_eq(now->status, BOOKING_PAYMENT_REFUNDED);
	booking_payment_free(now);
	b = fx_booking(&f, lost);
	ck_assert_int_eq(b->status, BOOKING_RESERVATION_EXPIRED);
	booking_reservation_free(b);
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_HELD); /* bob's */
	now = fx_payment(&f, pk.id);
	ck_assert_int_eq(now->status, BOOKING_PAYMENT_SUCCEEDED);
	booking_payment_free(now);
	b = fx_booking(&f, kept);
	ck_assert_int_eq(b->status, BOOKING_RESERVATION_CONFIRMED);
	booking_reservation_free(b);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_SOLD);
	ck_assert_uint_eq(fx_payment_count(&f), 2);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fx_close(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("integration");
	TCase *tc = tcase_create("scenarios");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, two_buyers_for_the_same_seat_at_the_same_moment_one_wins, 0, 2);
	tcase_add_loop_test(tc, overlapping_requests_are_all_or_nothing_under_contention, 0, 2);
	tcase_add_test(tc, same_idempotency_key_twice_makes_one_payment);
	tcase_add_test(tc, same_idempotency_key_from_two_threads_makes_one_payment);
	tcase_add_test(tc, payment_after_expiry_fails_with_reservation_expired);
	tcase_add_test(tc, expiry_racing_payment_has_exactly_one_clean_winner);
	tcase_add_test(tc, two_recovery_passes_at_once_settle_each_payment_once);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
