/*
 * libbooking core internals shared by auth.c, jwt.c and jwk.c.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_AUTH_INTERNAL_H
#define BOOKING_AUTH_INTERNAL_H

#include "internal.h"

#include <sodium.h>
#include <stdatomic.h>

/* Longest kid and jti accepted (bytes). */
#define BOOKING__KID_MAX 128
#define BOOKING__JTI_MAX 128
/* Longest token accepted (bytes): ours are ~400. */
#define BOOKING__TOKEN_MAX 8192

struct booking_signing_key {
	unsigned char sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key, as libsodium keeps it */
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char *kid;
};

typedef struct booking__jwk {
	char *kid;
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
} booking__jwk;

struct booking_jwk_set {
	size_t count;
	booking__jwk *keys;
};

/* The auth state of a handle. */
struct booking__auth {
	booking_signing_key *signing; /* NULL: this handle issues no tokens */
	booking_jwk_set *keys;        /* what verifies: the file's keys and the signing key's; NULL: none */
	/* A hash with the handle's parameters that no password matches, verified
	 * when a login names an unknown address so both failures take as long. */
	char dummy_hash[crypto_pwhash_STRBYTES];
	/* How long verifying a hash with the handle's parameters takes (ns, a
	 * moving average; 0 until measured): failed logins last at least this. */
	_Atomic int64_t verify_ns;
};

/* jwk.c: base64url without padding (RFC 7515 §2). */
/* Characters for n bytes (no NUL). */
size_t booking__b64url_len(size_t n);
/* Encode n bytes into out (booking__b64url_len(n) + 1 bytes, NUL-terminated). */
void booking__b64url_encode(char *out, const unsigned char *in, size_t n);
/*
 * Strict decode of in[0..n): only [A-Za-z0-9_-], no padding, no white
 * space, unused trailing bits zero (so each byte string has exactly one
 * spelling). At most `cap` bytes are written. 0, or -1 on any defect.
 */
int booking__b64url_decode(unsigned char *out, size_t cap, size_t *len_out, const char *in, size_t n);

/* jwk.c: the public key of `kid`, or NULL. */
const booking__jwk *booking__jwk_set_find(const booking_jwk_set *set, const char *kid);
/* jwk.c: a new set: `base` (may be NULL) plus the public half of `key` (may be NULL) unless its kid is there. */
int booking__jwk_set_merge(booking_jwk_set **out, const booking_jwk_set *base, const booking_signing_key *key);
/*
 * jwk.c: read a whole (small) key file after checking that it is safe to
 * trust: it and its directory belong to this user (or root) and are not
 * writable by group or others; a `secret` (private key) file is not
 * readable by them either. A refusal is VALIDATION_ERROR with details
 * {"field","file","reason"[,"directory"]}. Caller frees with booking_free
 * (wipe first if secret).
 */

/* jwt.c: verify everything but revocation. `now` in ms. */
int booking__jwt_verify(booking_token **out, const booking_jwk_set *keys, const char *token, const char *issuer,
                        const char *audience, int leeway_seconds, int64_t now);
/* jwt.c: an UNAUTHORIZED error with {"reason": reason}. */
int booking__token_error(const char *reason, const char *message);

#endif
