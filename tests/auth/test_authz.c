/*
 * libbooking — authorization with real tokens, on the store under test
 * (BOOKING_TEST_STORE_URL): customers act on their own reservations only,
 * catalog changes need an admin, and users, revocations and the
 * user.registered event live in every store.
 * SPDX-License-Identifier: MIT
 */
#include "auth_fixture.h"
#include "../suites.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static ax A;
static char alice_id[BOOKING_ID_SIZE], bob_id[BOOKING_ID_SIZE], admin_id[BOOKING_ID_SIZE];
static char *alice_token, *bob_token, *admin_token;
static booking_token *alice_tok, *bob_tok, *admin_tok;
static booking_ctx alice, bob, admin;

static void setup(void)
{
	ax_setup(&A);
	ax_register(&A, "alice@example.com", false, alice_id);
	ax_register(&A, "bob@example.com", false, bob_id);
	ax_register(&A, "root@example.com", true, admin_id);
	alice_token = ax_login(&A, "alice@example.com");
	bob_token = ax_login(&A, "bob@example.com");
	admin_token = ax_login(&A, "root@example.com");
	alice = ax_ctx(&A, alice_token, &alice_tok);
	bob = ax_ctx(&A, bob_token, &bob_tok);
	admin = ax_ctx(&A, admin_token, &admin_tok);
}

static void teardown(void)
{
	booking_token_free(alice_tok);
	booking_token_free(bob_tok);
	booking_token_free(admin_tok);
	booking_free(alice_token);
	booking_free(bob_token);
	booking_free(admin_token);
	alice_token = bob_token = admin_token = NULL;
	alice_tok = bob_tok = admin_tok = NULL;
	ax_close(&A);
}

/* Close the setup's handle and open a fresh store with new keys and `o` (ax_options plus the test's changes). */
static void reopen(void (*adjust)(booking_options *o))
{
	teardown();
	booking_options o;
	ax_keys(&A, NULL);
	ax_options(&A, &o);
	adjust(&o);
	ax_open_with(&A, &o);
}

static void short_tokens_long_leeway(booking_options *o)
{
	o->access_token_ttl_seconds = 60;
	o->jwt_leeway_seconds = 300;
}

static void no_booking_attempt_limit(booking_options *o)
{
	o->max_failed_payments_per_reservation = -1;
}

static void hold_as(const booking_ctx *ctx, const char *label, char id_out[BOOKING_ID_SIZE])
{
	booking_reservation *r = NULL;
	ck_assert_ok(booking_hold(&r, A.f.bk, ctx, A.f.showtime_id, &label, 1));
	snprintf(id_out, BOOKING_ID_SIZE, "%s", r->id);
	booking_reservation_free(r);
}

START_TEST(a_customer_cannot_cancel_another_customers_booking)
{
	char b[BOOKING_ID_SIZE];
	hold_as(&alice, "A1", b);
	booking_reservation *r = NULL;
	ck_assert_code(booking_reservation_cancel(&r, A.f.bk, &bob, b), "FORBIDDEN");
	ck_assert_code(booking_reservation_get(&r, A.f.bk, &bob, b), "FORBIDDEN");
	ck_assert_code(booking_pay(NULL, A.f.bk, &bob, b, "bob-pays", FX_CARD_OK), "FORBIDDEN");
	ck_assert_int_eq(fx_seat_status(&A.f, "A1"), BOOKING_SEAT_HELD);
	ck_assert_ok(booking_reservation_cancel(&r, A.f.bk, &alice, b));
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	booking_reservation_free(r);
	ck_assert_uint_eq(fx_check_violations(&A.f), 0);
}
END_TEST

START_TEST(a_customer_cannot_add_a_showtime_but_an_admin_can)
{
	booking_price price = {"standard", 900};
	booking_showtime *s = NULL;
	int64_t starts = booking_now(A.f.bk) + 2 * FX_DAY;
	ck_assert_code(booking_showtime_create(&s, A.f.bk, &alice, A.f.movie_id, A.f.screen_id, starts, "EUR", &price, 1, sizeof(booking_price)),
	               "FORBIDDEN");
	ck_assert_code(booking_movie_create(NULL, A.f.bk, &alice, "Bootleg", 80), "FORBIDDEN");
	ck_assert_code(booking_theater_create(NULL, A.f.bk, &alice, "Garage", NULL), "FORBIDDEN");
	ck_assert_ok(booking_showtime_create(&s, A.f.bk, &admin, A.f.movie_id, A.f.screen_id, starts, "EUR", &price, 1, sizeof(booking_price)));
	booking_showtime_free(s);
}
END_TEST

START_TEST(an_admin_may_cancel_any_booking_and_list_anyones)
{
	char b[BOOKING_ID_SIZE];
	hold_as(&alice, "B2", b);
	booking_reservation_list *l = NULL;
	ck_assert_code(booking_reservation_list_for_user(&l, A.f.bk, &bob, alice_id, 0, NULL), "FORBIDDEN");
	ck_assert_ok(booking_reservation_list_for_user(&l, A.f.bk, &admin, alice_id, 0, NULL));
	ck_assert_uint_eq(l->count, 1);
	booking_reservation_list_free(l);
	ck_assert_ok(booking_reservation_cancel(NULL, A.f.bk, &admin, b));
}
END_TEST

START_TEST(a_customer_holds_pays_and_reads_its_own_booking)
{
	char b[BOOKING_ID_SIZE];
	hold_as(&alice, "C5", b);
	booking_payment *p = NULL;
	ck_assert_ok(booking_pay(&p, A.f.bk, &alice, b, "order-1", FX_CARD_OK));
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_SUCCEEDED);
	booking_payment_free(p);
	booking_reservation *r = NULL;
	ck_assert_ok(booking_reservation_get(&r, A.f.bk, &alice, b));
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED);
	ck_assert_str_eq(r->user_id, alice_id);
	booking_reservation_free(r);
	ck_assert_uint_eq(fx_check_violations(&A.f), 0);
}
END_TEST

START_TEST(a_logged_out_token_no_longer_acts)
{
	ck_assert_ok(booking_auth_revoke(A.f.bk, &bob, bob_token));
	booking_ctx ctx;
	booking_token *t = NULL;
	ck_assert_code(booking_auth_ctx(&ctx, &t, A.f.bk, bob_token), "UNAUTHORIZED");
	ck_assert_str_eq(ax_reason(), "revoked");
	/* the other users' tokens still act */
	ck_assert_ok(booking_auth_verify(&t, A.f.bk, alice_token));
	booking_token_free(t);
}
END_TEST

START_TEST(users_and_emails_are_unique_in_the_store)
{
	ck_assert_code(booking_auth_register(NULL, A.f.bk, NULL, "Alice@Example.com", "Some other pass 1",
	                                     BOOKING_ROLE_CUSTOMER),
	               "ALREADY_EXISTS");
	booking_user *u = NULL;
	char *hash = NULL;
	ck_assert_ok(A.f.store->users->user_get_by_email(&u, &hash, A.f.store, "alice@example.com"));
	ck_assert_str_eq(u->id, alice_id);
	ck_assert_int_eq(u->role, BOOKING_ROLE_CUSTOMER);
	ck_assert_ptr_nonnull(strstr(hash, "$argon2id$"));
	booking_user_free(u);
	booking_free(hash);
	ck_assert_ok(A.f.store->users->user_get(&u, NULL, A.f.store, admin_id));
	ck_assert_int_eq(u->role, BOOKING_ROLE_ADMIN);
	ck_assert_str_eq(u->email, "root@example.com");
	booking_user_free(u);
	ck_assert_code(A.f.store->users->user_get(&u, NULL, A.f.store, "01890000-0000-7000-8000-000000000000"), "NOT_FOUND");
	ck_assert_code(A.f.store->users->user_get_by_email(&u, NULL, A.f.store, "nobody@example.com"), "NOT_FOUND");
	/* compare-and-set of the hash */
	ck_assert_code(A.f.store->users->user_set_password_hash(A.f.store, alice_id, "not the hash", "$argon2id$x", 1),
	               "INVALID_STATE");
	ck_assert_code(A.f.store->users->user_set_password_hash(A.f.store, "01890000-0000-7000-8000-000000000000", NULL,
	                                                 "$argon2id$x", 1),
	               "NOT_FOUND");
	ck_assert_uint_eq(fx_check_violations(&A.f), 0); /* user.registered events are not orphans */
}
END_TEST

START_TEST(revocations_live_in_the_store_until_expiry)
{
	int64_t now = booking_now(A.f.bk);
	bool revoked = false;
	ck_assert_ok(A.f.store->users->token_revoke(A.f.store, "jti-a", now + FX_MINUTE, now));
	ck_assert_ok(A.f.store->users->token_revoke(A.f.store, "jti-a", now + FX_MINUTE, now)); /* idempotent */
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, "jti-a", now));
	ck_assert(revoked);
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, "jti-a", now + FX_MINUTE));
	ck_assert(!revoked);
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, "jti-b", now));
	ck_assert(!revoked);
	ck_assert_ok(A.f.store->users->token_revoke(A.f.store, "jti-b", now + 10 * FX_MINUTE, now + 2 * FX_MINUTE));
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, "jti-a", now));
	ck_assert(!revoked); /* purged by the later revoke */
}
END_TEST

/*
 * Security item 1: a logged-out token never works again, in the leeway
 * window after its exp included (TTL 60 s, leeway 300 s), and a logout
 * inside that window is recorded. Every store.
 */
START_TEST(a_revocation_outlives_the_leeway_window)
{
	reopen(short_tokens_long_leeway);
	char id[BOOKING_ID_SIZE];
	ax_register(&A, "carol@example.com", false, id);
	char *early = ax_login(&A, "carol@example.com"), *late = ax_login(&A, "carol@example.com");
	booking_token *t = NULL;

	ck_assert_ok(booking_auth_revoke(A.f.bk, NULL, early));
	fx_advance(&A.f, 62 * FX_SECOND); /* past exp, inside the leeway */
	ck_assert_code(booking_auth_verify(&t, A.f.bk, early), "UNAUTHORIZED");
	ck_assert_str_eq(ax_reason(), "revoked");

	/* `late` is past its exp but still accepted through the leeway: a logout now must hold */
	ck_assert_ok(booking_auth_verify(&t, A.f.bk, late));
	booking_token_free(t);
	ck_assert_ok(booking_auth_revoke(A.f.bk, NULL, late));
	ck_assert_code(booking_auth_verify(&t, A.f.bk, late), "UNAUTHORIZED");
	ck_assert_str_eq(ax_reason(), "revoked");
	fx_advance(&A.f, 200 * FX_SECOND); /* t = 262 s: still inside exp + 300 s */
	ck_assert_code(booking_auth_verify(&t, A.f.bk, early), "UNAUTHORIZED");
	ck_assert_str_eq(ax_reason(), "revoked");

	/* the store keeps both until exp + the largest leeway, then purges them */
	int64_t now = booking_now(A.f.bk);
	bool revoked = false;
	booking_token *pt = NULL;
	booking_jwk_set *keys = NULL;
	ck_assert_ok(booking_jwk_set_load(&keys, A.pub));
	booking_jwt_verify_options vo = BOOKING_JWT_VERIFY_OPTIONS_INIT;
	vo.issuer = AX_ISSUER;
	vo.audience = AX_AUDIENCE;
	vo.leeway_seconds = 300;
	vo.now = FX_T0;
	ck_assert_ok(booking_jwt_verify(&pt, keys, early, &vo));
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, pt->jti, now));
	ck_assert(revoked);
	int64_t dead = pt->expires_at + (int64_t)BOOKING_JWT_LEEWAY_MAX_SECONDS * FX_SECOND;
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, pt->jti, dead - 1));
	ck_assert(revoked);
	ck_assert_ok(A.f.store->users->token_is_revoked(&revoked, A.f.store, pt->jti, dead));
	ck_assert(!revoked);
	booking_token_free(pt);
	booking_jwk_set_free(keys);
	fx_advance(&A.f, dead - now);
	ck_assert_code(booking_auth_verify(&t, A.f.bk, early), "UNAUTHORIZED");
	ck_assert_str_eq(ax_reason(), "expired");
	booking_free(early);
	booking_free(late);
}
END_TEST

/* Security item 9: a replay answers 0 only while the reservation is paid and confirmed. Every store. */
START_TEST(a_replay_after_a_refund_says_the_payment_changed)
{
	char b[BOOKING_ID_SIZE];
	hold_as(&alice, "A1", b);
	booking_payment *p = NULL;
	ck_assert_ok(booking_pay(&p, A.f.bk, &alice, b, "alice-order-1", FX_CARD_OK));
	char pid[BOOKING_ID_SIZE];
	snprintf(pid, sizeof(pid), "%s", p->id);
	booking_payment_free(p);
	p = NULL;
	ck_assert_ok(booking_pay(&p, A.f.bk, &alice, b, "alice-order-1", FX_CARD_OK)); /* still paid: replay is 0 */
	ck_assert_str_eq(p->id, pid);
	booking_payment_free(p);
	p = NULL;
	ck_assert_ok(booking_payment_refund(NULL, A.f.bk, &admin, pid));
	ck_assert_code(booking_pay(&p, A.f.bk, &alice, b, "alice-order-1", FX_CARD_OK), "INVALID_STATE");
	ck_assert_ptr_null(p);
	json_t *d = json_loads(booking_error_last()->details_json, 0, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert(json_is_true(json_object_get(d, "replayed")));
	ck_assert_str_eq(json_string_value(json_object_get(d, "payment_id")), pid);
	ck_assert_str_eq(json_string_value(json_object_get(d, "payment_status")), "REFUNDED");
	ck_assert_str_eq(json_string_value(json_object_get(d, "booking_reservation_status")), "CANCELLED");
	json_decref(d);
	ck_assert_int_eq(fx_seat_status(&A.f, "A1"), BOOKING_SEAT_FREE); /* nothing was charged or held again */
}
END_TEST

/* Security item 11: failed payment attempts are capped per reservation and per user per hour. Every store. */
START_TEST(failed_payment_attempts_are_capped_per_booking_and_per_user_hour)
{
	char b[BOOKING_ID_SIZE], key[64];
	hold_as(&alice, "A1", b);
	for (int i = 0; i < 5; i++) { /* the default: 5 failed payments per booking_handle */
		snprintf(key, sizeof(key), "try-%d", i);
		ck_assert_code(booking_pay(NULL, A.f.bk, &alice, b, key, FX_CARD_DECLINED), "PAYMENT_DECLINED");
	}
	ck_assert_code(booking_pay(NULL, A.f.bk, &alice, b, "try-5", FX_CARD_OK), "RATE_LIMITED");
	ck_assert_int_eq(booking_error_http_status(BOOKING_ERATE_LIMITED), 429);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->details_json, "max_failed_payments_per_reservation"));
	/* a retry of a key already used is not an attempt: it answers what the key answered */
	ck_assert_code(booking_pay(NULL, A.f.bk, &alice, b, "try-0", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	/* the refused attempt reached nobody: no payment was recorded for it */
	booking_payment *p = NULL;
	ck_assert_code(booking_pay(&p, A.f.bk, &alice, b, "try-6", FX_CARD_OK), "RATE_LIMITED");
	ck_assert_int_eq(fx_seat_status(&A.f, "A1"), BOOKING_SEAT_HELD);

	/* per user and hour: 20 by default, across reservations */
	char seat[16];
	int failed = 5;
	for (int k = 0; failed < 20; k++) {
		char bk2[BOOKING_ID_SIZE];
		snprintf(seat, sizeof(seat), "B%d", k + 1);
		hold_as(&alice, seat, bk2);
		for (int i = 0; i < 4 && failed < 20; i++, failed++) {
			snprintf(key, sizeof(key), "user-%d-%d", k, i);
			ck_assert_code(booking_pay(NULL, A.f.bk, &alice, bk2, key, FX_CARD_DECLINED), "PAYMENT_DECLINED");
		}
	}
	char fresh[BOOKING_ID_SIZE];
	hold_as(&alice, "C1", fresh);
	ck_assert_code(booking_pay(NULL, A.f.bk, &alice, fresh, "user-next", FX_CARD_OK), "RATE_LIMITED");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->details_json, "max_failed_payments_per_user_hour"));
	ck_assert_ptr_nonnull(strstr(booking_error_last()->details_json, "retry_after_seconds"));
	/* bob is not alice */
	char bobs[BOOKING_ID_SIZE];
	hold_as(&bob, "C2", bobs);
	ck_assert_ok(booking_pay(NULL, A.f.bk, &bob, bobs, "bob-1", FX_CARD_OK));
	/* an hour later the user's failures have left the window (the reservation's stay) */
	fx_advance(&A.f, FX_HOUR + FX_SECOND);
	char later[BOOKING_ID_SIZE];
	hold_as(&alice, "C3", later);
	ck_assert_ok(booking_pay(NULL, A.f.bk, &alice, later, "user-later", FX_CARD_OK));
}
END_TEST

/* The limits are options, range-checked; -1 turns one off. */
START_TEST(payment_attempt_limits_are_range_checked_and_can_be_off)
{
	booking_options o;
	booking_handle *bk = NULL;
	ax_options(&A, &o);
	o.payment_key_file = fx_payment_key_file();
	o.max_failed_payments_per_reservation = 101;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "max_failed_payments_per_reservation"));
	o.max_failed_payments_per_reservation = 0;
	o.max_failed_payments_per_user_hour = 1001;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "max_failed_payments_per_user_hour"));

	/* 0 in a BOOKING_* variable is "no limit": -1 in the struct */
	booking_options *env = NULL;
	setenv("BOOKING_MAX_FAILED_PAYMENTS_PER_RESERVATION", "0", 1);
	setenv("BOOKING_MAX_FAILED_PAYMENTS_PER_USER_HOUR", "7", 1);
	ck_assert_ok(booking_options_from_env(&env));
	unsetenv("BOOKING_MAX_FAILED_PAYMENTS_PER_RESERVATION");
	unsetenv("BOOKING_MAX_FAILED_PAYMENTS_PER_USER_HOUR");
	ck_assert_int_eq(env->max_failed_payments_per_reservation, -1);
	ck_assert_int_eq(env->max_failed_payments_per_user_hour, 7);
	booking_options_free(env);

	/* with the per-booking limit off, a reservation takes any number of attempts (the store under test) */
	reopen(no_booking_attempt_limit);
	fx_seed(&A.f);
	booking_ctx carol = fx_customer("carol");
	const char *seat = "A1";
	booking_reservation *r = NULL;
	ck_assert_ok(booking_hold(&r, A.f.bk, &carol, A.f.showtime_id, &seat, 1));
	char key[32];
	for (int i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "carol-%d", i);
		ck_assert_code(booking_pay(NULL, A.f.bk, &carol, r->id, key, FX_CARD_DECLINED), "PAYMENT_DECLINED");
	}
	ck_assert_ok(booking_pay(NULL, A.f.bk, &carol, r->id, "carol-ok", FX_CARD_OK));
	booking_reservation_free(r);
}
END_TEST

/*
 * One rulebook: a late payment answers RESERVATION_EXPIRED (410) with one
 * message whether or not the expiry sweep ran, and the refusals the core
 * decides read the same on every store.
 */
START_TEST(a_late_payment_answers_the_same_whether_or_not_the_sweep_ran)
{
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE];
	hold_as(&alice, "A1", b1);
	hold_as(&alice, "A2", b2);
	fx_advance(&A.f, 16 * FX_MINUTE); /* both holds ran out; nobody swept */
	ck_assert_code(booking_pay(NULL, A.f.bk, &alice, b1, "late-1", FX_CARD_OK), "RESERVATION_EXPIRED");
	char before[512];
	snprintf(before, sizeof(before), "%s", booking_error_last()->message);
	size_t n = 0;
	ck_assert_ok(booking_expire_due(&n, A.f.bk, booking_ctx_system(), 100));
	ck_assert_uint_eq(n, 2);
	ck_assert_code(booking_pay(NULL, A.f.bk, &alice, b2, "late-2", FX_CARD_OK), "RESERVATION_EXPIRED");
	ck_assert_str_eq(booking_error_last()->message, before);
	ck_assert_int_eq(booking_error_http_status(BOOKING_EEXPIRED), 410);
	/* a cancelled reservation: the same words on every store */
	char b3[BOOKING_ID_SIZE];
	hold_as(&alice, "A3", b3);
	ck_assert_ok(booking_reservation_cancel(NULL, A.f.bk, &alice, b3));
	ck_assert_code(booking_pay(NULL, A.f.bk, &alice, b3, "late-3", FX_CARD_OK), "INVALID_STATE");
	ck_assert_str_eq(booking_error_last()->message, "a CANCELLED reservation cannot be paid");
	ck_assert_code(booking_reservation_cancel(NULL, A.f.bk, &alice, b3), "INVALID_STATE");
	ck_assert_str_eq(booking_error_last()->message, "a CANCELLED reservation cannot be cancelled");
	ck_assert_code(booking_reservation_cancel(NULL, A.f.bk, &alice, b1), "INVALID_STATE");
	ck_assert_str_eq(booking_error_last()->message, "an EXPIRED reservation cannot be cancelled");
}
END_TEST

typedef struct twin {
	booking_handle *bk;
	fx_rendezvous *go;
	int rc;
} twin;

static void *register_twin(void *arg)
{
	twin *t = arg;
	fx_rendezvous_wait(t->go);
	t->rc = booking_auth_register(NULL, t->bk, NULL, "twin@example.com", AX_PASSWORD, BOOKING_ROLE_CUSTOMER);
	return NULL;
}

START_TEST(concurrent_registrations_of_one_address_make_one_user)
{
	enum { N = 6 };
	pthread_t th[N];
	twin t[N];
	fx_rendezvous go;
	fx_rendezvous_init(&go, N, 5000);
	for (int i = 0; i < N; i++) {
		t[i].bk = A.f.bk;
		t[i].go = &go;
		t[i].rc = 1;
		ck_assert_int_eq(pthread_create(&th[i], NULL, register_twin, &t[i]), 0);
	}
	int ok = 0, exists = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		ok += t[i].rc == 0;
		exists += t[i].rc == BOOKING_EEXISTS;
	}
	fx_rendezvous_destroy(&go);
	ck_assert_int_eq(ok, 1);
	ck_assert_int_eq(exists, N - 1);
	ck_assert_uint_eq(fx_check_violations(&A.f), 0); /* one user, one user.registered event */
}
END_TEST

/* A store another handle can open too (a file or a server), or NULL. */
static bool shared_store(void)
{
	return strncmp(A.f.url, "sqlite:///", 10) == 0 || strncmp(A.f.url, "postgres", 8) == 0;
}

START_TEST(a_logout_on_one_handle_is_seen_by_another)
{
	if (!shared_store())
		return; /* memory stores belong to one handle */
	booking_options o;
	ax_options(&A, &o);
	o.store_url = A.f.url;
	o.clock = A.f.clock;
	o.log_level = BOOKING_LOG_CRITICAL;
	booking_handle *other = NULL;
	ck_assert_ok(booking_open(&other, &o));
	booking_token *t = NULL;
	ck_assert_ok(booking_auth_verify(&t, other, bob_token));
	booking_token_free(t);
	ck_assert_ok(booking_auth_revoke(A.f.bk, NULL, bob_token));
	ck_assert_code(booking_auth_verify(&t, other, bob_token), "UNAUTHORIZED");
	ck_assert_str_eq(ax_reason(), "revoked");
	/* and a user registered through one handle logs in through the other */
	char *token = NULL;
	ck_assert_ok(booking_auth_login(&token, NULL, other, NULL, "alice@example.com", AX_PASSWORD));
	booking_free(token);
	booking_close(other);
}
END_TEST

void fx_authz_suite_add(Suite *s, unsigned int groups)
{
	static const TTest *const *const tests[] = {
		&a_customer_cannot_cancel_another_customers_booking,
		&a_customer_cannot_add_a_showtime_but_an_admin_can,
		&an_admin_may_cancel_any_booking_and_list_anyones,
		&a_customer_holds_pays_and_reads_its_own_booking,
		&a_logged_out_token_no_longer_acts,
		&users_and_emails_are_unique_in_the_store,
		&revocations_live_in_the_store_until_expiry,
		&a_revocation_outlives_the_leeway_window,
		&a_replay_after_a_refund_says_the_payment_changed,
		&failed_payment_attempts_are_capped_per_booking_and_per_user_hour,
		&payment_attempt_limits_are_range_checked_and_can_be_off,
		&a_late_payment_answers_the_same_whether_or_not_the_sweep_ran,
		&concurrent_registrations_of_one_address_make_one_user,
		&a_logout_on_one_handle_is_seen_by_another,
	};

	/* the one race of the users' contract runs with the other races */
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		bool race = *tests[i] == concurrent_registrations_of_one_address_make_one_user;
		fx_add_case(s, groups, race ? BOOKING_CONFORMANCE_RACES : BOOKING_CONFORMANCE_USERS, *tests[i], setup,
		            teardown, 60);
	}
}

#ifndef FX_NO_MAIN
int main(void)
{
	Suite *s = suite_create("authz");

	fx_authz_suite_add(s, BOOKING_CONFORMANCE_ALL);
	return fx_run(s);
}
#endif
