/*
 * jwt_tool — libbooking's side of the interoperability test with `jose`
 * (interop.mjs drives it). Public API only.
 *
 *   jwt_tool issue DIR ISSUER AUDIENCE
 *       Generate DIR/private.jwk and DIR/public.jwks (when absent), register
 *       a customer on a memory store, log in, and print
 *       {"token":..,"sub":..,"kid":..} on stdout.
 *   jwt_tool verify PUBLIC_JWKS TOKEN ISSUER AUDIENCE
 *       Verify TOKEN with a handle that holds only the public key set and
 *       print {"ok":true,"sub":..,"role":..,"kid":..,"jti":..} (exit 0) or
 *       {"ok":false,"code":..,"reason":..,"message":..} (exit 1).
 *
 * Exit 2 on a usage or setup error.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what)
{
	fprintf(stderr, "jwt_tool: %s: %s: %s\n", what, booking_error_last()->name, booking_error_last()->message);
	return 2;
}

static void print_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);
	puts(s ? s : "{}");
	free(s);
	json_decref(o);
}

static int issue(const char *dir, const char *issuer, const char *audience)
{
	char priv[4096], pub[4096];
	snprintf(priv, sizeof(priv), "%s/private.jwk", dir);
	snprintf(pub, sizeof(pub), "%s/public.jwks", dir);
	if (access(priv, F_OK) != 0 && booking_jwk_generate_files(NULL, priv, pub, NULL) != 0)
		return fail("generating keys");
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "memory:";
	o.log_level = BOOKING_LOG_CRITICAL;
	o.jwt_private_key_file = priv;
	o.jwt_public_keys_file = pub;
	o.jwt_issuer = issuer;
	o.jwt_audience = audience;
	o.password_opslimit = 1;
	o.password_memlimit_kib = 8;
	booking_handle *bk = NULL;
	if (booking_open(&bk, &o) != 0)
		return fail("opening");
	booking_user *u = NULL;
	char *token = NULL;
	booking_token *t = NULL;
	int rc = 2;
	if (booking_auth_register(&u, bk, NULL, "interop@example.com", "Interop password 1", BOOKING_ROLE_CUSTOMER) != 0)
		rc = fail("registering");
	else if (booking_auth_login(&token, NULL, bk, NULL, "interop@example.com", "Interop password 1") != 0)
		rc = fail("logging in");
	else if (booking_auth_verify(&t, bk, token) != 0)
		rc = fail("verifying its own token");
	else {
		print_json(json_pack("{s:s,s:s,s:s}", "token", token, "sub", u->id, "kid", t->kid));
		rc = 0;
	}
	booking_token_free(t);
	booking_free(token);
	booking_user_free(u);
	booking_close(bk);
	return rc;
}

static int verify(const char *jwks, const char *token, const char *issuer, const char *audience)
{
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "memory:";
	o.log_level = BOOKING_LOG_CRITICAL;
	o.jwt_public_keys_file = jwks;
	o.jwt_issuer = issuer;
	o.jwt_audience = audience;
	booking_handle *bk = NULL;
	if (booking_open(&bk, &o) != 0)
		return fail("opening");
	booking_token *t = NULL;
	int rc;
	if (booking_auth_verify(&t, bk, token) == 0) {
		print_json(json_pack("{s:b,s:s,s:s,s:s,s:s}", "ok", 1, "sub", t->subject, "role", booking_role_name(t->role),
		                     "kid", t->kid, "jti", t->jti));
		rc = 0;
	} else {
		const booking_error *e = booking_error_last();
		json_t *d = json_loads(e->details_json, 0, NULL);
		json_t *reason = d ? json_object_get(d, "reason") : NULL;
		print_json(json_pack("{s:b,s:s,s:s,s:s}", "ok", 0, "code", e->name, "reason",
		                     json_is_string(reason) ? json_string_value(reason) : "", "message", e->message));
		json_decref(d);
		rc = 1;
	}
	booking_token_free(t);
	booking_close(bk);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "issue") == 0)
		return issue(argv[2], argv[3], argv[4]);
	if (argc == 6 && strcmp(argv[1], "verify") == 0)
		return verify(argv[2], argv[3], argv[4], argv[5]);
	fprintf(stderr, "usage: jwt_tool issue DIR ISSUER AUDIENCE | verify PUBLIC_JWKS TOKEN ISSUER AUDIENCE\n");
	return 2;
}
