/*
 * libbooking — authentication: users with argon2id password hashes, and
 * access tokens other systems can verify (JWT signed EdDSA/Ed25519,
 * RFC 7519 + RFC 8037, keys as JWK files).
 *
 * A handle issues tokens when its options name a private key
 * (jwt_private_key_file) and verifies them with the public keys of
 * jwt_public_keys_file plus the public half of its own private key. A
 * service that only verifies needs the public key set alone, and may use
 * booking_jwt_verify() without a handle. No key has a default.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_AUTH_H
#define BOOKING_AUTH_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/** Largest normalised e-mail address (254 bytes, RFC 5321) plus NUL. */
#define BOOKING_EMAIL_SIZE 255
/**
 * The largest clock-skew leeway any verifier of this library accepts
 * (options jwt_leeway_seconds and booking_jwt_verify_options). A revoked
 * token is remembered until its `exp` plus this much, so no verifier can
 * accept it again once its revocation is forgotten.
 */
#define BOOKING_JWT_LEEWAY_MAX_SECONDS 300

/** Password length bounds, in bytes of UTF-8. */
#define BOOKING_PASSWORD_MIN 12
#define BOOKING_PASSWORD_MAX 128

/** A registered user. A snapshot the caller owns: booking_user_free(). */
typedef struct booking_user {
	char id[BOOKING_ID_SIZE]; /**< UUIDv7: the token's `sub` and the ctx's user_id */
	char *email;              /**< normalised: see booking_email_normalize() */
	booking_role role;        /**< BOOKING_ROLE_CUSTOMER or BOOKING_ROLE_ADMIN */
	int64_t created_at;       /**< UTC ms */
	int64_t updated_at;       /**< UTC ms: last password (re)hash */
} booking_user;

/** What a verified token says. Caller owns: booking_token_free(). */
typedef struct booking_token {
	char *subject;      /**< `sub`: the user id */
	booking_role role;  /**< `role`: CUSTOMER or ADMIN (a token never carries SYSTEM) */
	char *jti;          /**< `jti`: the token's id (what revocation names) */
	char *issuer;       /**< `iss` */
	char *audience;     /**< the `aud` entry that matched the expected audience */
	char *kid;          /**< the header's `kid`: the key that signed it */
	int64_t issued_at;  /**< `iat` in UTC ms, 0 when absent */
	int64_t not_before; /**< `nbf` in UTC ms, 0 when absent */
	int64_t expires_at; /**< `exp` in UTC ms */
} booking_token;

/* ------------------------------------------------------------------------ */
/* Users and passwords                                                       */

/**
 * Normalise and validate an e-mail address: more than 254 bytes is refused
 * before anything else (white space included); surrounding white space is
 * trimmed and the WHOLE address is lower-cased (so "Alice@Example.COM" and
 * "alice@example.com" are one account). Accepted: ASCII dot-atom local part
 * (1..64 bytes of letters, digits and !\#$%&'*+/=?^_\`{|}~- with single
 * inner dots) '@' a domain of at least two dot-separated labels of
 * letters, digits and inner hyphens (1..63 bytes each); 254 bytes at most.
 * Internationalised addresses must be given in ASCII (punycode domain).
 *
 * @param out   set to the normalised address; caller owns, booking_free();
 *              NULL after a failure.
 * @param email the address as typed; borrowed.
 * @return 0, BOOKING_EVALIDATION (details: {"field":"email"}; also NULL
 *         `out`), BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_email_normalize(char **out, const char *email);

/**
 * Check a password against the policy: BOOKING_PASSWORD_MIN..MAX bytes of
 * valid UTF-8 without control characters; characters from at least two of
 * the classes lower-case letters, upper-case letters, digits, others; not
 * equal to the e-mail address (compared case-insensitively; `email` may
 * be NULL). Never echoes the password.
 * @param password the candidate; borrowed; NULL fails the "length" rule.
 * @param email    the account's address, borrowed; may be NULL.
 * Thread-safe; needs no handle.
 *
 * @return 0 or BOOKING_EVALIDATION with details {"field":"password","rule":
 *         "length"|"utf8"|"control"|"classes"|"email"}.
 */
BOOKING_EXTERN(booking_error_code) booking_password_check(const char *password, const char *email);

/**
 * Register a user: normalise the e-mail address, check the password, hash
 * it with argon2id (options password_opslimit / password_memlimit_kib) and
 * store the user with its `user.registered` event in one transaction.
 *
 * Anyone may register a customer (an anonymous ctx will do); an ADMIN
 * user needs an admin or system ctx.
 *
 * @param out      the new user (may be NULL); caller owns: booking_user_free().
 *                 NULL after a failure.
 * @param bk       the handle; borrowed.
 * @param ctx      who asks (tracing; the role matters for role ADMIN);
 *                 borrowed for the call; NULL: anonymous.
 * @param email    the address; borrowed (normalised: booking_email_normalize()).
 * @param password borrowed; checked by booking_password_check(); never stored.
 * @param role     BOOKING_ROLE_CUSTOMER or BOOKING_ROLE_ADMIN.
 * @return 0, BOOKING_EVALIDATION (email, password, role), BOOKING_EEXISTS
 *         (the address is taken), BOOKING_EFORBIDDEN, BOOKING_ENOTSUPPORTED
 *         (the store has no users), BOOKING_EUNAVAILABLE (store unreachable,
 *         deadline passed), BOOKING_EINTERNAL (hashing failed),
 *         BOOKING_ENOMEM, store errors.
 * Thread-safe. Takes the time of one argon2id hash.
 */
BOOKING_EXTERN(booking_error_code) booking_auth_register(booking_user **out, booking_handle *bk, const booking_ctx *ctx, const char *email,
                                          const char *password, booking_role role);

/**
 * Log in: check the password and issue an access token (lifetime
 * access_token_ttl_seconds). A stored hash weaker than the handle's
 * parameters (less memory or fewer passes, and none of them more; or not
 * argon2id) is rehashed with them; a stronger one is kept: a login never
 * lowers a hash's cost.
 *
 * "No such user" and "wrong password" are one failure: BOOKING_EUNAUTHORIZED
 * with the same message, after a comparable time: a dummy hash with the
 * handle's parameters is verified when the address is unknown, and a wrong
 * password for an account hashed with other parameters is held back until
 * a verification with the handle's would have ended. (An account hashed
 * with a costlier setting than the handle's still takes its own, longer
 * time: keep the configured cost at or above every stored one.)
 *
 * @param token_out the token in compact form; caller owns: booking_free().
 *                  NULL after a failure.
 * @param user_out  the user (may be NULL); caller owns: booking_user_free().
 *                  NULL after a failure.
 * @param bk        the handle; borrowed.
 * @param ctx       tracing only; may be NULL; borrowed for the call.
 * @param email     borrowed.
 * @param password  borrowed; never stored, never logged.
 * @return 0, BOOKING_EUNAUTHORIZED, BOOKING_ENOTSUPPORTED (no private key
 *         configured, or the store has no users), BOOKING_EVALIDATION
 *         (NULL `token_out` or `bk`, a bad ctx), BOOKING_EUNAVAILABLE,
 *         BOOKING_ENOMEM, store errors.
 * Thread-safe. Takes the time of one argon2id verification.
 */
BOOKING_EXTERN(booking_error_code) booking_auth_login(char **token_out, booking_user **user_out, booking_handle *bk, const booking_ctx *ctx,
                                       const char *email, const char *password);

/**
 * Verify a token: EdDSA only, signature by a known `kid`, `exp`/`nbf`
 * (and `iat` not in the future) with jwt_leeway_seconds, `iss` ==
 * jwt_issuer, `aud` contains jwt_audience, and not revoked.
 *
 * @param out   set to what the token says; caller owns: booking_token_free().
 *              NULL after a failure.
 * @param bk    the handle; borrowed.
 * @param token the compact JWT; borrowed.
 * @return 0, BOOKING_EUNAUTHORIZED (details {"reason":...}: "malformed",
 *         "algorithm", "unknown_kid", "signature", "expired", "not_yet_valid",
 *         "issued_in_future", "issuer", "audience", "claims", "revoked"),
 *         BOOKING_ENOTSUPPORTED (no keys configured), BOOKING_EVALIDATION
 *         (NULL `out` or `bk`), BOOKING_EUNAVAILABLE (the revocation list
 *         cannot be read), BOOKING_ENOMEM, store errors.
 * Thread-safe.
 * Host-only, no ctx: it is how a ctx is made from a token.
 */
BOOKING_EXTERN(booking_error_code) booking_auth_verify(booking_token **out, booking_handle *bk, const char *token);

/**
 * Verify a token and fill `ctx_out` for the user it names (user_id and
 * role; correlation id, traceparent and deadline cleared: set them after).
 * The ctx borrows its user_id from `*tok_out`: keep the token until the
 * ctx is no longer used, then booking_token_free() it.
 *
 * @param ctx_out the caller's ctx to fill; may be NULL (BOOKING_EVALIDATION).
 *                After a failure it is an anonymous ctx.
 * @param tok_out set to the token (caller owns: booking_token_free(), after
 *                the last use of the ctx); NULL after a failure.
 * @param bk      the handle; borrowed.
 * @param token   the compact JWT; borrowed for the call.
 * @return 0, or as booking_auth_verify(): BOOKING_EUNAUTHORIZED,
 *         BOOKING_ENOTSUPPORTED, BOOKING_EVALIDATION (also NULL `ctx_out`
 *         or `tok_out`), BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_auth_ctx(booking_ctx *ctx_out, booking_token **tok_out, booking_handle *bk, const char *token);

/**
 * Log out: revoke `token` (by its `jti`). The revocation is kept until the
 * token's `exp` plus BOOKING_JWT_LEEWAY_MAX_SECONDS, past which no verifier
 * of this library accepts it whatever its leeway; a token inside its leeway
 * window after `exp` is revoked like any other. The token must verify (a
 * token already revoked is fine: revoking is idempotent).
 *
 * @param bk    the handle; borrowed.
 * @param ctx   tracing only; may be NULL; borrowed for the call.
 * @param token the compact JWT; borrowed.
 * @return 0, BOOKING_EUNAUTHORIZED (the token does not verify),
 *         BOOKING_ENOTSUPPORTED (no keys, or the store keeps no
 *         revocations), BOOKING_EVALIDATION (NULL `bk`, a bad ctx),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_auth_revoke(booking_handle *bk, const booking_ctx *ctx, const char *token);

/**
 * A user by id: the actor itself, or any user for admins and the system.
 * @param out     caller owns: booking_user_free(). NULL after a failure.
 * @param bk      the handle; borrowed.
 * @param ctx     who asks; borrowed for the call.
 * @param user_id borrowed; NULL: the actor (ctx->user_id).
 * @return 0, BOOKING_ENOTFOUND, BOOKING_EFORBIDDEN (another user's, not
 *         admin), BOOKING_EUNAUTHORIZED (no ctx, or no signed-in user),
 *         BOOKING_EVALIDATION (NULL `out` or `bk`, a bad ctx),
 *         BOOKING_ENOTSUPPORTED (the store has no users),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_user_get(booking_user **out, booking_handle *bk, const booking_ctx *ctx, const char *user_id);

/**
 * Free a user record and its email: one from booking_auth_register(),
 * booking_auth_login(), booking_user_get() or booking_user_copy().
 * @param u the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_user_free(booking_user *u);

/**
 * Free a token record from booking_auth_verify(), booking_auth_ctx() or
 * booking_jwt_verify(). A ctx that borrowed its user_id from it must no
 * longer be used.
 * @param t the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_token_free(booking_token *t);

/**
 * The stable name of a role: "customer", "admin", "system", "none".
 * @param role a booking_role; other numbers give "none".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_role_name(booking_role role);

/* ------------------------------------------------------------------------ */
/* Keys (JWK, RFC 7517 / RFC 8037: kty OKP, crv Ed25519)                     */

/** A private signing key. Opaque; booking_signing_key_free(). */
typedef struct booking_signing_key booking_signing_key;
/** A set of public keys by kid. Opaque; booking_jwk_set_free(). */
typedef struct booking_jwk_set booking_jwk_set;

/**
 * Generate an Ed25519 key pair as JWK text.
 * @param kid NULL: the RFC 7638 thumbprint of the public key; borrowed.
 * @param private_jwk_out {"kty":"OKP","crv":"Ed25519","x":..,"d":..,"kid":..,"alg":"EdDSA","use":"sig"};
 *        caller owns: booking_free(); may be NULL; NULL after a failure.
 * @param public_jwk_out  the same without "d"; caller owns: booking_free();
 *        may be NULL; NULL after a failure.
 * The private text is wiped by nobody: keep it short-lived.
 * @return 0, BOOKING_EVALIDATION (kid), BOOKING_EINTERNAL (libsodium failed
 *         to initialise), BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_jwk_generate(char **private_jwk_out, char **public_jwk_out, const char *kid);

/**
 * Generate a key pair into two new files: the private JWK into
 * `private_path` (mode 0600) and a new public set {"libbooking":1,
 * "keys":[its public JWK]} into `public_path` (mode 0644). Neither file may
 * exist (BOOKING_EEXISTS): an existing set is never merged into here, only
 * by booking_jwk_rotate_files(). Both files are written to a temporary name
 * and linked into place; the directories they go in must pass the checks
 * of booking_signing_key_load().
 *
 * @param kid NULL: the thumbprint; borrowed.
 * @param kid_out (may be NULL) the kid; caller owns, booking_free(); NULL after a failure.
 * @param private_path the new private key file; borrowed.
 * @param public_path  the new public set file; borrowed.
 * @return 0, BOOKING_EEXISTS (either file exists), BOOKING_EVALIDATION
 *         (kid; an unsafe directory, details as for booking_signing_key_load()),
 *         BOOKING_EINTERNAL (I/O, message names the file), BOOKING_ENOMEM.
 * Thread-safe as far as the files are: no two calls on the same paths at once.
 */
BOOKING_EXTERN(booking_error_code) booking_jwk_generate_files(char **kid_out, const char *private_path, const char *public_path,
                                               const char *kid);

/**
 * Rotate: generate a key pair, the private JWK into the new file
 * `private_path` (mode 0600; an existing file is BOOKING_EEXISTS: move the
 * old key away first) and its public JWK added to the existing set at
 * `public_path`, which is rewritten (temporary file renamed into place) with
 * its other keys kept, so tokens the old keys signed stay valid.
 *
 * Only a set this library wrote is extended: it carries the top-level
 * member "libbooking": 1 (JWK set readers ignore members they do not
 * know). A set without it — written by hand or by another system — is
 * refused, as is a set file that fails the checks of booking_jwk_set_load().
 *
 * @param kid NULL: the thumbprint; borrowed.
 * @param kid_out (may be NULL) the kid; caller owns, booking_free(); NULL after a failure.
 * @param private_path the new private key file; borrowed.
 * @param public_path  the existing public set, rewritten; borrowed.
 * @return 0, BOOKING_EEXISTS (private_path exists), BOOKING_ENOTFOUND (no set
 *         at public_path), BOOKING_EVALIDATION (kid taken or bad; unusable set;
 *         details {"field":"jwt_public_keys_file","file":..,"reason":"foreign_set"}
 *         for a set this library did not write; unsafe file or directory,
 *         details as for booking_jwk_set_load()), BOOKING_EINTERNAL (I/O),
 *         BOOKING_ENOMEM.
 * Not thread-safe on one set file: rotations of the same `public_path` at
 * once (threads or processes) may lose one of the new keys.
 */
BOOKING_EXTERN(booking_error_code) booking_jwk_rotate_files(char **kid_out, const char *private_path, const char *public_path,
                                             const char *kid);

/**
 * Parse a private OKP/Ed25519 JWK (with "d"; "x", when given, must match).
 * @param out      set to the key; caller owns: booking_signing_key_free().
 *                 NULL after a failure.
 * @param jwk_json the JWK text; borrowed.
 * @return 0, BOOKING_EVALIDATION (NULL `out`, not JSON, not an Ed25519
 *         private key, "x" does not match "d"), BOOKING_EINTERNAL
 *         (libsodium failed to initialise), BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_signing_key_parse(booking_signing_key **out, const char *jwk_json);
/**
 * booking_signing_key_parse() of a file, read only when nobody else could
 * have read or changed it: the file is a regular file owned by this
 * process's effective user or by root, with no permission for group or
 * others (0600 or 0400), and the directory it is in (after resolving
 * links) is owned by this user or root and not writable by group or others
 * (no exception for sticky directories such as /tmp). The file is checked
 * with fstat() on the descriptor that is read.
 * @param out  set to the key; caller owns: booking_signing_key_free().
 *             NULL after a failure.
 * @param path the file; borrowed.
 * Thread-safe; needs no handle.
 *
 * @return 0; BOOKING_EVALIDATION naming the file when unreadable or refused:
 *         a refusal has details {"field":"jwt_private_key_file","file":path,
 *         "reason":"readable_by_others"|"group_or_world_writable"|"owner"},
 *         plus "directory" when the directory is at fault; BOOKING_ENOMEM.
 */
BOOKING_EXTERN(booking_error_code) booking_signing_key_load(booking_signing_key **out, const char *path);
/**
 * The key's kid.
 * @param key the key; borrowed; NULL gives NULL.
 * @return the kid, borrowed: valid while the key lives. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_signing_key_kid(const booking_signing_key *key);
/**
 * The public JWK of the key (JSON text, no "d").
 * @param key the key; borrowed.
 * @param json_out set to the text, which the caller frees with
 *        booking_free(); NULL after a failure.
 * @return 0, BOOKING_EVALIDATION (NULL argument), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_signing_key_public_jwk(char **json_out, const booking_signing_key *key);
/**
 * Wipe a signing key's secret from memory and free it.
 * @param key from booking_signing_key_parse() or booking_signing_key_load(),
 *            freed here; NULL is a no-op.
 * Thread-safe, for a key no other thread uses.
 */
BOOKING_EXTERN(void) booking_signing_key_free(booking_signing_key *key);

/**
 * Parse a public key set: {"keys":[JWK,...]} or one JWK. Keys of another
 * kty/crv are skipped (a set may carry other algorithms' keys); an OKP
 * Ed25519 key must have a kid and a 32-byte "x"; kids are unique; a key
 * with "d" (a private key) is refused: public sets are published.
 * @param out  set to the set; caller owns: booking_jwk_set_free(). NULL after a failure.
 * @param json the set's text; borrowed.
 * @return 0, BOOKING_EVALIDATION, BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_jwk_set_parse(booking_jwk_set **out, const char *json);
/**
 * booking_jwk_set_parse() of a file, read only when nobody else could have
 * changed it (anyone who can add a key can forge tokens): the file is
 * owned by this process's effective user or root and not writable by group
 * or others; its directory as for booking_signing_key_load(). Readable by
 * all is fine: the keys are public.
 * @param out  set to the set; caller owns: booking_jwk_set_free(). NULL after a failure.
 * @param path the file; borrowed.
 * Thread-safe; needs no handle.
 * @return 0; BOOKING_EVALIDATION naming the file when unreadable, bad or
 *         refused (details {"field":"jwt_public_keys_file","file":path,
 *         "reason":"group_or_world_writable"|"owner"[,"directory":dir]});
 *         BOOKING_ENOMEM.
 */
BOOKING_EXTERN(booking_error_code) booking_jwk_set_load(booking_jwk_set **out, const char *path);
/**
 * Number of usable (Ed25519) keys.
 * @param set the set; borrowed; NULL gives 0.
 * Thread-safe.
 */
BOOKING_EXTERN(size_t) booking_jwk_set_count(const booking_jwk_set *set);

/**
 * Free a key set from booking_jwk_set_parse() or booking_jwk_set_load().
 * @param set the set, freed here; NULL is a no-op.
 * Thread-safe, for a set no other thread uses.
 */
BOOKING_EXTERN(void) booking_jwk_set_free(booking_jwk_set *set);

/* ------------------------------------------------------------------------ */
/* Tokens without a handle                                                   */

#define BOOKING_JWT_CLAIMS_VERSION 1

/** What booking_jwt_sign() puts in a token. Strings borrowed for the call. */
typedef struct booking_jwt_claims {
	unsigned int version;  /**< BOOKING_JWT_CLAIMS_VERSION */
	const char *subject;   /**< sub, required */
	booking_role role;     /**< CUSTOMER or ADMIN */
	const char *issuer;    /**< iss, required */
	const char *audience;  /**< aud, required */
	const char *jti;       /**< NULL: a new UUIDv7 */
	int64_t issued_at;     /**< iat and nbf, UTC ms (rounded down to seconds) */
	int64_t expires_at;    /**< exp, UTC ms (rounded down to seconds), > issued_at */
} booking_jwt_claims;

#define BOOKING_JWT_CLAIMS_INIT {BOOKING_JWT_CLAIMS_VERSION, NULL, BOOKING_ROLE_CUSTOMER, NULL, NULL, NULL, 0, 0}

/**
 * Sign a token: header {"alg":"EdDSA","typ":"JWT","kid":...}, claims sub,
 * role, iat, nbf, exp, jti, iss, aud.
 * @param out    the token in compact form; caller owns: booking_free().
 *               NULL after a failure.
 * @param key    the signing key; borrowed.
 * @param claims what the token says; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `key`; claims missing or
 *         out of range), BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_jwt_sign(char **out, const booking_signing_key *key, const booking_jwt_claims *claims);

#define BOOKING_JWT_VERIFY_OPTIONS_VERSION 1

/** Options of booking_jwt_verify(). Start from BOOKING_JWT_VERIFY_OPTIONS_INIT. */
typedef struct booking_jwt_verify_options {
	unsigned int version;  /**< BOOKING_JWT_VERIFY_OPTIONS_VERSION */
	const char *issuer;    /**< required: `iss` must equal it */
	const char *audience;  /**< required: `aud` must be or contain it */
	int leeway_seconds;    /**< clock skew allowed on exp/nbf/iat, 0..BOOKING_JWT_LEEWAY_MAX_SECONDS (300) */
	int64_t now;           /**< UTC ms; 0: the system clock */
} booking_jwt_verify_options;

#define BOOKING_JWT_VERIFY_OPTIONS_INIT {BOOKING_JWT_VERIFY_OPTIONS_VERSION, NULL, NULL, 0, 0}

/**
 * Initialise `opts` as BOOKING_JWT_VERIFY_OPTIONS_INIT does (`issuer` and
 * `audience` must still be set).
 * @param opts    the caller's struct to fill.
 * @param version BOOKING_JWT_VERIFY_OPTIONS_VERSION, as the caller was compiled.
 * @return 0, or BOOKING_EVALIDATION (NULL `opts` or an unknown version:
 *         `opts` is untouched). Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_jwt_verify_options_init(booking_jwt_verify_options *opts, unsigned int version);

/**
 * Verify a token against a public key set: the checks of
 * booking_auth_verify() except revocation (which needs a store).
 * @param out   set to what the token says; caller owns: booking_token_free().
 *              NULL after a failure.
 * @param keys  the public keys; borrowed.
 * @param token the compact JWT; borrowed.
 * @param opts  issuer, audience, leeway and time; borrowed for the call.
 * @return 0, BOOKING_EUNAUTHORIZED (details {"reason":...}), BOOKING_EVALIDATION
 *         (NULL `out` or `opts`; options out of range), BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_jwt_verify(booking_token **out, const booking_jwk_set *keys, const char *token,
                                       const booking_jwt_verify_options *opts);

BOOKING_END_DECL

#endif
