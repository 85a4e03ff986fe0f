/*
 * Fuzz target: tokens and keys from outside — a bearer token (JWT, EdDSA)
 * checked by booking_jwt_verify(), a published key set
 * (booking_jwk_set_parse) and a private key file (booking_signing_key_parse).
 *
 * The first byte picks what the rest is:
 *   0 mod 3: a token, verified against the fixed test key set below;
 *   1 mod 3: a public JWK set;
 *   2 mod 3: a private JWK, which when accepted must sign a token that its
 *            own public key verifies (round trip).
 * Checked: verify answers 0 or UNAUTHORIZED and what it accepts has every
 * claim; the parsers answer 0 or VALIDATION_ERROR; nothing crashes.
 * SPDX-License-Identifier: MIT
 */
#include "fuzz.h"

#include <booking/booking.h>
#include <booking/auth.h>

#include <string.h>

/* A key made for this target only (booking_jwk_generate), never used elsewhere. */
#define TEST_PUBLIC_SET                                                                                      \
	"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"hWU6lCgA0Z_BD8kHLQX0y4z-fb3OemAuh_ylG5I4onc\"," \
	"\"kid\":\"fuzz-key-1\",\"alg\":\"EdDSA\",\"use\":\"sig\"}]}"
#define ISSUER "libbooking"
#define AUDIENCE "booking-api"
#define NOW INT64_C(1767227400000) /* 2026-01-01T00:30:00Z */

static booking_jwk_set *test_keys(void)
{
	static booking_jwk_set *keys;
	if (!keys)
		FUZZ_CHECK(booking_jwk_set_parse(&keys, TEST_PUBLIC_SET) == 0 && booking_jwk_set_count(keys) == 1,
		           "test key set: %s", booking_error_last()->message);
	return keys;
}

static void verify_token(const char *token)
{
	booking_jwt_verify_options o = BOOKING_JWT_VERIFY_OPTIONS_INIT;
	o.issuer = ISSUER;
	o.audience = AUDIENCE;
	o.leeway_seconds = 30;
	o.now = NOW;
	booking_token *t = NULL;
	int rc = booking_jwt_verify(&t, test_keys(), token, &o);
	FUZZ_CHECK(rc == 0 || rc == BOOKING_EUNAUTHORIZED, "verify answered %s", booking_error_name(rc));
	FUZZ_CHECK((rc == 0) == (t != NULL), "token iff success");
	if (t) {
		FUZZ_CHECK(t->subject && t->subject[0] && t->jti && t->issuer && strcmp(t->issuer, ISSUER) == 0 &&
		               t->audience && strcmp(t->audience, AUDIENCE) == 0 && t->kid,
		           "claims");
		FUZZ_CHECK(t->role == BOOKING_ROLE_CUSTOMER || t->role == BOOKING_ROLE_ADMIN, "role %d", (int)t->role);
		FUZZ_CHECK(t->expires_at + 30000 > NOW, "expired token accepted");
	}
	booking_token_free(t);
}

static void parse_set(const char *json)
{
	booking_jwk_set *set = NULL;
	int rc = booking_jwk_set_parse(&set, json);
	FUZZ_CHECK(rc == 0 || rc == BOOKING_EVALIDATION, "set parse answered %s", booking_error_name(rc));
	FUZZ_CHECK((rc == 0) == (set != NULL), "set iff success");
	booking_jwk_set_free(set);
}

static void parse_private(const char *json)
{
	booking_signing_key *key = NULL;
	int rc = booking_signing_key_parse(&key, json);
	FUZZ_CHECK(rc == 0 || rc == BOOKING_EVALIDATION, "key parse answered %s", booking_error_name(rc));
	FUZZ_CHECK((rc == 0) == (key != NULL), "key iff success");
	if (!key)
		return;
	char *pub = NULL;
	FUZZ_CHECK(booking_signing_key_public_jwk(&pub, key) == 0 && pub != NULL, "public jwk");
	booking_jwk_set *set = NULL;
	rc = booking_jwk_set_parse(&set, pub);
	FUZZ_CHECK(rc == 0 && booking_jwk_set_count(set) == 1, "own public key refused: %s: %s",
	           booking_error_last()->message, pub);
	booking_jwt_claims c = BOOKING_JWT_CLAIMS_INIT;
	c.subject = "alice";
	c.issuer = ISSUER;
	c.audience = AUDIENCE;
	c.issued_at = NOW;
	c.expires_at = NOW + 3600000;
	char *token = NULL;
	rc = booking_jwt_sign(&token, key, &c);
	FUZZ_CHECK(rc == 0, "sign: %s", booking_error_last()->message);
	booking_jwt_verify_options o = BOOKING_JWT_VERIFY_OPTIONS_INIT;
	o.issuer = ISSUER;
	o.audience = AUDIENCE;
	o.now = NOW;
	booking_token *t = NULL;
	rc = booking_jwt_verify(&t, set, token, &o);
	FUZZ_CHECK(rc == 0 && strcmp(t->subject, "alice") == 0, "round trip: %s", booking_error_last()->message);
	booking_token_free(t);
	booking_free(token);
	booking_jwk_set_free(set);
	booking_free(pub);
	booking_signing_key_free(key);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	char *text = fuzz_text(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: verify_token(text); break;
	case 1: parse_set(text); break;
	default: parse_private(text); break;
	}
	free(text);
	return 0;
}
