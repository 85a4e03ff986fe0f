/*
 * libbooking auth tests — a handle with keys: the shared fixture's handle
 * (manual clock, seeded catalog) on the store under test, opened with a
 * fresh Ed25519 key pair in a temporary directory and a cheap argon2id.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_TEST_AUTH_FIXTURE_H
#define BOOKING_TEST_AUTH_FIXTURE_H

#include "../fixture.h"

#define AX_ISSUER "https://auth.test.invalid"
#define AX_AUDIENCE "booking-api"
#define AX_PASSWORD "correct horse battery 9"
/* The cheapest argon2id libsodium accepts: tests are about behaviour, not cost. */
#define AX_OPSLIMIT 1
#define AX_MEMLIMIT_KIB 8

typedef struct ax {
	fx f;
	char dir[256];      /* temporary directory of the key files, removed by ax_close */
	char priv[512];     /* private JWK file */
	char pub[512];      /* public JWK set file */
} ax;

/* Fill `o` with the test defaults: keys of `a`, issuer, audience, cheap hashing. */
void ax_options(ax *a, booking_options *o);
/* Make the key directory and one key pair in it (kid NULL: thumbprint). */
void ax_keys(ax *a, const char *kid);
/*
 * Open a->f on a fresh store of the URL under test (BOOKING_TEST_STORE_URL)
 * with `o` (NULL: ax_options), without the fixture's decorator (it forwards
 * no auth members); a->f.store is the store, borrowed.
 */
void ax_open_with(ax *a, booking_options *o);
/* ax_keys + ax_open_with(NULL) + fx_seed. */
void ax_setup(ax *a);
void ax_close(ax *a);

/* Register (customer unless admin) and return the user id; the user must be new. */
void ax_register(ax *a, const char *email, bool admin, char id_out[BOOKING_ID_SIZE]);
/* Log in with AX_PASSWORD; returns the token (booking_free). */
char *ax_login(ax *a, const char *email);
/* A ctx from `token`; *tok_out must be freed after the ctx is last used. */
booking_ctx ax_ctx(ax *a, const char *token, booking_token **tok_out);

/* The reason in the last error's details ("expired", ...), or "" */
const char *ax_reason(void);

#endif
