/*
 * libbooking tests — logs keep secrets out. Every log line of whole flows
 * (register, log in with a right and a wrong password, verify and revoke a
 * token, hold, pay with each test card, replay a key, recover, refund,
 * cancel, expire, relay, consume, notify, check), at DEBUG level, is
 * captured, and none may contain a card number, an idempotency key, a
 * password, a token (or any JWT: "eyJ"), the private key, or the password
 * of a backend URL. The error messages and details the calls answer are
 * checked the same way.
 * SPDX-License-Identifier: MIT
 */
#include "../fixture.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#define PASSWORD "Tr0ub4dor&3-horse-staple"
#define WRONG_PASSWORD "Wr0ng-But-Plausible-99"
#define URL_PASSWORD "Redis-S3cret-Pass"
#define KEY_PREFIX "idem-K3Y-f00d"

typedef struct sink {
	pthread_mutex_t mu;
	char **lines;
	size_t n, cap;
} sink;

static void keep(booking_log_level level, const char *line, void *payload)
{
	sink *s = payload;
	(void)level;
	pthread_mutex_lock(&s->mu);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->lines = realloc(s->lines, s->cap * sizeof(*s->lines));
	}
	s->lines[s->n++] = strdup(line);
	pthread_mutex_unlock(&s->mu);
}

/* Secrets no line may contain. */
static const char *secrets[32];
static size_t nsecrets;

static void secret(const char *s)
{
	if (s && *s && nsecrets < sizeof(secrets) / sizeof(secrets[0]))
		secrets[nsecrets++] = strdup(s);
}

static void assert_clean(const char *where, const char *text)
{
	if (!text)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		ck_assert_msg(strstr(text, secrets[i]) == NULL, "%s contains a secret (%s): %s", where, secrets[i], text);
	ck_assert_msg(strstr(text, "eyJ") == NULL, "%s contains a JWT: %s", where, text);
}

/* After each call: what it answered must be clean too. */
static int answered(int rc)
{
	if (rc < 0) {
		assert_clean("an error message", booking_error_last()->message);
		assert_clean("error details", booking_error_last()->details_json);
	}
	return rc;
}

static int sent(const booking_notification *n, void *payload)
{
	sink *s = payload;
	(void)s;
	assert_clean("a notification", n->body);
	return 0;
}

static int applied(const booking_event *ev, void *payload)
{
	(void)payload;
	assert_clean("an event envelope", ev->envelope_json);
	return 0;
}

/* The private key's secret part ("d"), read from its JWK file. */
static void secret_of_key_file(const char *path)
{
	json_error_t err;
	json_t *jwk = json_load_file(path, 0, &err);
	ck_assert_ptr_nonnull(jwk);
	secret(json_string_value(json_object_get(jwk, "d")));
	json_decref(jwk);
}

START_TEST(no_log_line_contains_a_card_a_key_a_password_or_a_token)
{
	static const char *const cards[] = {"4242424242424242", "4000000000000002", "4000000000009995", "4000000000000119",
	                                    "4000000000000259"};
	sink *s = calloc(1, sizeof(*s));
	char dir[256], priv[300], pub[300], lock_url[128];
	booking_options o;
	booking_store *st = NULL;
	fx f;

	pthread_mutex_init(&s->mu, NULL);
	snprintf(dir, sizeof(dir), "%s/booking-logs.XXXXXX", fx_env("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(priv, sizeof(priv), "%s/private.jwk", dir);
	snprintf(pub, sizeof(pub), "%s/public.jwks", dir);
	ck_assert_ok(booking_jwk_generate_files(NULL, priv, pub, NULL));
	secret_of_key_file(priv);
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++)
		secret(cards[i]);
	secret("4242 4242 4242 4242");
	secret(KEY_PREFIX);
	secret(PASSWORD);
	secret(WRONG_PASSWORD);
	secret(URL_PASSWORD);

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);

	o.payment_key_file = fx_payment_key_file();
	o.log_level = BOOKING_LOG_DEBUG;
	o.log_fn = keep;
	o.log_payload = s;
	o.jwt_private_key_file = priv;
	o.jwt_public_keys_file = pub;
	o.password_opslimit = 1;
	o.password_memlimit_kib = 8;
	o.decline_policy = BOOKING_DECLINE_KEEP_HOLD;
	/* a lock manager whose URL carries a password (nothing listens on port 1: holds degrade to the store) */
	snprintf(lock_url, sizeof(lock_url), "redis://:%s@127.0.0.1:1/0?connect_timeout_ms=50", URL_PASSWORD);
	o.lock_url = lock_url;
	ck_assert_ok(booking_store_open(&st, fx_store_url(), o.clock));
	o.store = st;
	{
		/* without Redis in the build, the memory lock manager (the URL's password still went through open) */
		booking_handle *probe = NULL;
		booking_options p = o;
		p.store = NULL;
		p.store_url = "memory:";
		p.log_fn = NULL;
		p.log_level = BOOKING_LOG_CRITICAL;
		if (booking_open(&probe, &p) == BOOKING_ENOTSUPPORTED)
			o.lock_url = "memory:";
		booking_close(probe);
	}
	fx_open(&f, &o);
	fx_seed(&f);

	booking_ctx anon = fx_anonymous(), sys = fx_system(), admin = fx_admin();
	booking_user *u = NULL;
	char *token = NULL;
	ck_assert_ok(answered(booking_auth_register(&u, f.bk, &anon, "Alice@Example.com", PASSWORD, BOOKING_ROLE_CUSTOMER)));
	ck_assert_code(answered(booking_auth_login(&token, NULL, f.bk, &anon, "alice@example.com", WRONG_PASSWORD)),
	               "UNAUTHORIZED");
	ck_assert_code(answered(booking_auth_login(&token, NULL, f.bk, &anon, "nobody@example.com", PASSWORD)),
	               "UNAUTHORIZED");
	ck_assert_ok(answered(booking_auth_login(&token, NULL, f.bk, &anon, "alice@example.com", PASSWORD)));
	secret(token);
	secret(strrchr(token, '.') + 1); /* the signature alone */
	booking_token *tok = NULL;
	booking_ctx alice;
	ck_assert_ok(answered(booking_auth_ctx(&alice, &tok, f.bk, token)));
	char tampered[2048];
	snprintf(tampered, sizeof(tampered), "%sA", token);
	booking_token *bad = NULL;
	ck_assert_int_lt(answered(booking_auth_verify(&bad, f.bk, tampered)), 0);
	alice.correlation_id = "corr-logs";

	/* a hold and a payment per card, each with its own key; then the same key again (a replay) */
	char ids[5][BOOKING_ID_SIZE];
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++) {
		char label[8], key[64];
		booking_reservation *r = NULL;
		const char *labels[1] = {label};
		snprintf(label, sizeof(label), "A%zu", i + 1);
		snprintf(key, sizeof(key), KEY_PREFIX "-%zu", i);
		ck_assert_ok(answered(booking_hold(&r, f.bk, &alice, f.showtime_id, labels, 1)));
		snprintf(ids[i], sizeof(ids[i]), "%s", r->id);
		booking_reservation_free(r);
		(void)answered(booking_pay(NULL, f.bk, &alice, ids[i], key, cards[i]));
	}
	booking_payment *p = NULL;
	ck_assert_ok(answered(booking_pay(&p, f.bk, &alice, ids[0], KEY_PREFIX "-0", "4242 4242 4242 4242")));
	ck_assert_code(answered(booking_pay(NULL, f.bk, &alice, ids[0], KEY_PREFIX "-0", "4000000000000002")),
	               "IDEMPOTENCY_KEY_REUSED");
	ck_assert_code(answered(booking_pay(NULL, f.bk, &alice, ids[1], "bad\001key", cards[0])), "VALIDATION_ERROR");
	ck_assert_code(answered(booking_pay(NULL, f.bk, &alice, ids[1], KEY_PREFIX "-x", "4242424242424241")),
	               "VALIDATION_ERROR");
	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(answered(booking_payment_recover(NULL, f.bk, &sys, 0)));
	ck_assert_ok(answered(booking_payment_refund(NULL, f.bk, &admin, p->id)));
	booking_payment_free(p);
	(void)answered(booking_reservation_cancel(NULL, f.bk, &alice, ids[1]));
	ck_assert_ok(answered(booking_auth_revoke(f.bk, &alice, token)));
	fx_advance(&f, FX_HOUR);
	ck_assert_ok(answered(booking_expire_due(NULL, f.bk, &sys, 100)));
	ck_assert_ok(answered(booking_outbox_relay(NULL, f.bk, 1000)));
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	co.group = "audit";
	ck_assert_ok(answered(booking_consume(NULL, f.bk, &co, applied, NULL)));
	ck_assert_ok(answered(booking_notify(NULL, f.bk, sent, s)));
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	char *health = NULL, *metrics = NULL;
	ck_assert_ok(booking_metrics(&metrics, f.bk));
	ck_assert_ok(booking_health(&health, f.bk));
	assert_clean("health", health);
	assert_clean("metrics", metrics);
	booking_free(health);
	booking_free(metrics);
	booking_token_free(tok);
	booking_free(token);
	booking_user_free(u);
	fx_close(&f);

	ck_assert_uint_gt(s->n, 20);
	bool saw_opened = false, saw_payment = false;
	for (size_t i = 0; i < s->n; i++) {
		json_error_t err;
		json_t *line = json_loads(s->lines[i], 0, &err);
		ck_assert_msg(json_is_object(line), "not a JSON object: %s", s->lines[i]);
		assert_clean("a log line", s->lines[i]);
		const char *msg = json_string_value(json_object_get(line, "message"));
		saw_opened |= msg && strcmp(msg, "opened") == 0;
		saw_payment |= msg && strstr(msg, "payment") != NULL;
		json_decref(line);
		free(s->lines[i]);
	}
	ck_assert_msg(saw_opened && saw_payment, "the flows were logged (%zu lines)", s->n);
	free(s->lines);
	free(s);
	for (size_t i = 0; i < nsecrets; i++)
		free((void *)secrets[i]);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log_hygiene");
	TCase *tc = tcase_create("logs");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, no_log_line_contains_a_card_a_key_a_password_or_a_token);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
