/*
 * Users, passwords (argon2id) and the handle's side of tokens: keys
 * loaded at open, login, verification with revocation, logout.
 * SPDX-License-Identifier: MIT
 */
#include "auth_internal.h"
#include "resilience.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_HAS(st, member) ((st)->users != NULL && (st)->users->member != NULL)

/* One message for every login failure: the caller learns nothing about which. */
#define LOGIN_FAILED "invalid email or password"

static int not_supported(void)
{
	return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "this store keeps no users (store version 2 needed)");
}

static size_t memlimit_bytes(const booking_handle *bk)
{
	return (size_t)bk->cfg.password_memlimit_kib * 1024u;
}

/* ------------------------------------------------------------------ */
/* records                                                              */

void booking_user_free(booking_user *u)
{
	if (!u)
		return;
	booking_free(u->email);
	booking_free(u);
}

/* ------------------------------------------------------------------ */
/* e-mail and password policy                                           */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int email_error(const char *msg)
{
	return booking__error_field("email", "%s", msg);
}

static bool local_char(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

static int check_local(const char *s, size_t n)
{
	if (n == 0 || n > 64)
		return email_error("the part before @ must be 1..64 characters");
	if (s[0] == '.' || s[n - 1] == '.')
		return email_error("the part before @ must not start or end with a dot");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.' ? s[i + 1] == '.' : !(c < 0x80 && local_char(c)))
			return email_error(c == '.' ? "two dots in a row" : "an invalid character before @");
	}
	return 0;
}

static int check_domain(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return email_error("the domain must be 1..253 characters");
	size_t labels = 0, start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			unsigned char c = (unsigned char)s[i];
			if (!(c < 0x80 && (isalnum(c) || c == '-')))
				return email_error("the domain has an invalid character (internationalised domains go in punycode)");
			continue;
		}
		size_t len = i - start;
		if (len == 0 || len > 63)
			return email_error("each label of the domain must be 1..63 characters");
		if (s[start] == '-' || s[i - 1] == '-')
			return email_error("a label of the domain must not start or end with a hyphen");
		labels++;
		start = i + 1;
	}
	if (labels < 2)
		return email_error("the domain needs a dot (example.com)");
	return 0;
}

booking_error_code booking_email_normalize(char **out, const char *email)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	if (!email)
		return email_error("is required");
	/* bounded before anything else: white space around the address counts too */
	size_t len = strnlen(email, BOOKING_EMAIL_SIZE);
	if (len > BOOKING_EMAIL_SIZE - 1)
		return email_error("must be 3..254 characters");
	size_t b = 0, e = len;
	while (b < e && is_space(email[b]))
		b++;
	while (e > b && is_space(email[e - 1]))
		e--;
	size_t n = e - b;
	if (n < 3 || n > BOOKING_EMAIL_SIZE - 1)
		return email_error("must be 3..254 characters");
	const char *s = email + b;
	const char *at = memchr(s, '@', n);
	if (!at || memchr(at + 1, '@', n - (size_t)(at + 1 - s)))
		return email_error("must contain exactly one @");
	char *norm = booking_malloc(n + 1);
	if (!norm)
		return booking_error_oom();
	for (size_t i = 0; i < n; i++)
		norm[i] = (char)tolower((unsigned char)s[i]);
	norm[n] = '\0';
	size_t local = (size_t)(at - s);
	int rc;
	if ((rc = check_local(norm, local)) < 0 || (rc = check_domain(norm + local + 1, n - local - 1)) < 0) {
		booking_free(norm);
		return rc;
	}
	*out = norm;
	return 0;
}

static int password_error(const char *rule, const char *msg)
{
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:i,s:i}", "field", "password", "rule", rule, "min",
	                                     BOOKING_PASSWORD_MIN, "max", BOOKING_PASSWORD_MAX),
	                           "password: %s", msg);
}

booking_error_code booking_password_check(const char *password, const char *email)
{
	if (!password)
		return password_error("length", "is required");
	size_t n = strnlen(password, BOOKING_PASSWORD_MAX + 1);
	if (n < BOOKING_PASSWORD_MIN || n > BOOKING_PASSWORD_MAX)
		return password_error("length", "must be 12..128 bytes");
	if (!booking__utf8_valid(password, n))
		return password_error("utf8", "must be valid UTF-8");
	bool lower = false, upper = false, digit = false, other = false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)password[i];
		if (c < 0x20 || c == 0x7f)
			return password_error("control", "must not contain control characters");
		if (c >= 'a' && c <= 'z')
			lower = true;
		else if (c >= 'A' && c <= 'Z')
			upper = true;
		else if (c >= '0' && c <= '9')
			digit = true;
		else
			other = true;
	}
	if ((int)lower + (int)upper + (int)digit + (int)other < 2)
		return password_error("classes",
		                      "must mix at least two of: lower-case letters, upper-case letters, digits, other characters");
	if (email && strcasecmp(password, email) == 0)
		return password_error("email", "must not be the e-mail address");
	return 0;
}

/* ------------------------------------------------------------------ */
/* hashing                                                              */

static int hash_password(const booking_handle *bk, const char *password, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str_alg(out, password, strlen(password), (unsigned long long)bk->cfg.password_opslimit,
	                          memlimit_bytes(bk), crypto_pwhash_ALG_ARGON2ID13) != 0)
		return booking_error_set(BOOKING_ENOMEM, NULL, "argon2id: out of memory (password_memlimit_kib=%d)",
		                         bk->cfg.password_memlimit_kib);
	return 0;
}

static bool hash_is_current(const booking_handle *bk, const char *hash)
{
	return hash && strncmp(hash, "$argon2id$", 10) == 0 &&
	       crypto_pwhash_str_needs_rehash(hash, (unsigned long long)bk->cfg.password_opslimit, memlimit_bytes(bk)) == 0;
}

/* The m (KiB) and t of an argon2 PHC string, or false when it has none. */
static bool hash_cost(const char *hash, long *m_out, long *t_out)
{
	const char *m = hash ? strstr(hash, "$m=") : NULL;
	const char *t = m ? strstr(m, ",t=") : NULL;
	if (!m || !t)
		return false;
	char *end;
	long mv = strtol(m + 3, &end, 10);
	if (end != t)
		return false;
	long tv = strtol(t + 3, &end, 10);
	if (*end != ',' || mv <= 0 || tv <= 0)
		return false;
	*m_out = mv;
	*t_out = tv;
	return true;
}

/*
 * Rehash on login only to make the hash stronger: the handle's cost is at
 * least the stored one in both memory and passes (and more in one, or the
 * stored hash is not argon2id). A handle configured weaker than a stored
 * hash leaves it as it is: a login never lowers what an attacker who steals
 * the hash has to pay.
 */
static bool rehash_strengthens(const booking_handle *bk, const char *hash)
{
	long m, t;
	if (!hash || hash_is_current(bk, hash) || !hash_cost(hash, &m, &t))
		return false;
	long cm = bk->cfg.password_memlimit_kib, ct = bk->cfg.password_opslimit;
	if (cm < m || ct < t)
		return false;
	return cm > m || ct > t || strncmp(hash, "$argon2id$", 10) != 0;
}

/*
 * OWASP's minimum for argon2id (Password Storage Cheat Sheet): one of
 * m=47104 t=1, m=19456 t=2, m=12288 t=3, m=9216 t=4, m=7168 t=5 (KiB).
 */
static bool cost_below_owasp(int memlimit_kib, int opslimit)
{
	static const struct {
		int m, t;
	} min[] = {{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}};
	for (size_t i = 0; i < sizeof(min) / sizeof(min[0]); i++)
		if (memlimit_kib >= min[i].m && opslimit >= min[i].t)
			return false;
	return true;
}

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Fold one measured verification (handle's parameters) into the estimate. */
static void note_verify_ns(booking__auth *a, int64_t ns)
{
	int64_t old = atomic_load(&a->verify_ns);
	atomic_store(&a->verify_ns, old ? old + (ns - old) / 8 : ns);
}

/* Verify the dummy hash (handle's parameters), measuring it. The outcome is failure whatever it says. */
static void verify_dummy(booking__auth *a, const char *password, size_t len)
{
	int64_t t0 = mono_ns();
	int ignored = crypto_pwhash_str_verify(a->dummy_hash, password, len);
	(void)ignored;
	note_verify_ns(a, mono_ns() - t0);
}

/* Sleep until `t0` + the time a verification with the handle's parameters takes. */
static void pad_failure(booking__auth *a, int64_t t0, const char *password, size_t len)
{
	if (atomic_load(&a->verify_ns) == 0)
		verify_dummy(a, password, len); /* first time: measure (this failure takes longer, once) */
	int64_t until = t0 + atomic_load(&a->verify_ns);
	for (int64_t now = mono_ns(); now < until; now = mono_ns()) {
		struct timespec ts = {(time_t)((until - now) / 1000000000), (long)((until - now) % 1000000000)};
		nanosleep(&ts, NULL);
	}
}

/*
 * A hash no password matches, with the handle's parameters: verifying it
 * costs what verifying a real one does. Built, not computed (that would
 * cost a hash at every open): random salt and random "hash".
 */
static int dummy_hash(const booking_handle *bk, char out[crypto_pwhash_STRBYTES])
{
	unsigned char salt[crypto_pwhash_SALTBYTES], tag[32];
	char salt64[64], tag64[64];
	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(tag, sizeof(tag));
	sodium_bin2base64(salt64, sizeof(salt64), salt, sizeof(salt), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(tag64, sizeof(tag64), tag, sizeof(tag), sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	int n = snprintf(out, crypto_pwhash_STRBYTES, "$argon2id$v=19$m=%d,t=%d,p=1$%s$%s", bk->cfg.password_memlimit_kib,
	                 bk->cfg.password_opslimit, salt64, tag64);
	if (n < 0 || n >= (int)crypto_pwhash_STRBYTES)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "dummy hash does not fit");
	return 0;
}

/* ------------------------------------------------------------------ */
/* keys at open                                                         */

/* Prefix the last error's message with the option's name, keeping its code and details ("file", "reason"). */
static int option_error(int rc, const char *field)
{
	const booking_error *e = booking_error_last();
	if (rc == BOOKING_ENOMEM)
		return rc;
	char msg[512];
	snprintf(msg, sizeof(msg), "%s", e->message ? e->message : "");
	bool oom = false;
	json_t *details = e->details_json ? booking__json_loads(e->details_json, 0, NULL, &oom) : NULL;
	if (oom)
		return booking_error_oom();
	if (!json_is_object(details)) {
		json_decref(details);
		details = json_object();
	}
	if (details)
		json_object_set_new(details, "field", json_string(field));
	return booking__error_json(rc, details, "%s: %s", field, msg);
}

int booking__auth_open(booking_handle *bk)
{
	booking__auth *a = booking_calloc(1, sizeof(*a));
	if (!a)
		return booking_error_oom();
	bk->auth = a;
	int rc;
	if ((rc = dummy_hash(bk, a->dummy_hash)) < 0)
		return rc;
	booking_jwk_set *file_keys = NULL;
	const char *priv = bk->cfg.jwt_private_key_file, *pub = bk->cfg.jwt_public_keys_file;
	if (priv) {
		/* refused, not warned about, when others could read or replace it */
		if ((rc = booking_signing_key_load(&a->signing, priv)) < 0)
			return option_error(rc, "jwt_private_key_file");
	}
	if (pub && (rc = booking_jwk_set_load(&file_keys, pub)) < 0)
		return option_error(rc, "jwt_public_keys_file");
	if (cost_below_owasp(bk->cfg.password_memlimit_kib, bk->cfg.password_opslimit))
		booking__log(bk, NULL, BOOKING_LOG_WARNING,
		             "the password hashing cost is below OWASP's minimum for argon2id (e.g. m=19456 KiB, t=2)",
		             json_pack("{s:i,s:i}", "password_memlimit_kib", bk->cfg.password_memlimit_kib,
		                       "password_opslimit", bk->cfg.password_opslimit));
	if (priv || pub)
		rc = booking__jwk_set_merge(&a->keys, file_keys, a->signing);
	booking_jwk_set_free(file_keys);
	return rc;
}

void booking__auth_close(booking_handle *bk)
{
	if (!bk || !bk->auth)
		return;
	booking_signing_key_free(bk->auth->signing);
	booking_jwk_set_free(bk->auth->keys);
	booking_free(bk->auth);
	bk->auth = NULL;
}

/* ------------------------------------------------------------------ */
/* register                                                             */

static const booking_ctx anonymous_ctx = BOOKING_CTX_INIT;

/* NULL means anonymous for the calls that need no one. */
static int ctx_or_anonymous(const booking_ctx **ctx)
{
	if (!*ctx)
		*ctx = &anonymous_ctx;
	return booking__ctx_check(*ctx);
}

static json_t *user_event_data(const booking_user *u)
{
	return json_pack("{s:s,s:s,s:s,s:I}", "user_id", u->id, "email", u->email, "role", booking_role_name(u->role),
	                 "registered_at", (json_int_t)u->created_at);
}

static int insert_user(booking_handle *bk, const booking_ctx *ctx, const booking_user *u, const char *hash)
{
	booking__event ev;
	int rc = booking__event_init(&ev, bk, ctx, "user.registered", "user", u->id, user_event_data(u));
	if (rc < 0)
		return rc;
	booking_store_user_insert req = {u, hash, &ev.rec};
	rc = bk->store->users->user_insert(bk->store, &req);
	booking__event_clear(&ev);
	if (rc == BOOKING_EEXISTS)
		rc = booking__error_json(BOOKING_EEXISTS, json_pack("{s:s}", "field", "email"),
		                         "email: an account with this address exists");
	return rc;
}

static int register_run(booking_user **out, booking_handle *bk, const booking_ctx *ctx, const char *email,
                          const char *password, booking_role role)
{
	if (out)
		*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc;
	if ((rc = ctx_or_anonymous(&ctx)) < 0 || (rc = booking__ctx_deadline(bk, ctx)) < 0)
		return rc;
	if (role != BOOKING_ROLE_CUSTOMER && role != BOOKING_ROLE_ADMIN)
		return booking__error_field("role", "must be CUSTOMER or ADMIN");
	if (role == BOOKING_ROLE_ADMIN && !booking__is_privileged(ctx))
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "only an admin may register an admin");
	if (!STORE_HAS(bk->store, user_insert))
		return not_supported();
	booking_user u;
	memset(&u, 0, sizeof(u));
	if ((rc = booking_email_normalize(&u.email, email)) < 0)
		return rc;
	char hash[crypto_pwhash_STRBYTES];
	if ((rc = booking_password_check(password, u.email)) < 0 || (rc = hash_password(bk, password, hash)) < 0) {
		booking_free(u.email);
		return rc;
	}
	int64_t now = booking__now(bk);
	booking_uuid_v7(u.id, now);
	u.role = role;
	u.created_at = u.updated_at = now;
	if ((rc = insert_user(bk, ctx, &u, hash)) == 0) {
		booking__log(bk, ctx, BOOKING_LOG_INFO, "user registered",
		             json_pack("{s:s,s:s}", "user_id", u.id, "role", booking_role_name(role)));
		if (out)
			rc = booking_user_copy(out, &u);
	}
	sodium_memzero(hash, sizeof(hash));
	booking_free(u.email);
	return rc;
}

booking_error_code booking_auth_register(booking_user **out, booking_handle *bk, const booking_ctx *ctx, const char *email,
                          const char *password, booking_role role)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_REGISTER);
	return booking__scope_end(&sc, register_run(out, bk, ctx, email, password, role));
}

/* ------------------------------------------------------------------ */
/* login                                                                */

/* Keep the hash current: a failure only postpones it to the next login. */
static void maybe_rehash(booking_handle *bk, const booking_ctx *ctx, const booking_user *u, const char *old_hash,
                         const char *password)
{
	if (!rehash_strengthens(bk, old_hash))
		return;
	char fresh[crypto_pwhash_STRBYTES];
	int rc = hash_password(bk, password, fresh);
	if (rc == 0)
		rc = bk->store->users->user_set_password_hash(bk->store, u->id, old_hash, fresh, booking__now(bk));
	sodium_memzero(fresh, sizeof(fresh));
	booking__log(bk, ctx, rc == 0 ? BOOKING_LOG_INFO : BOOKING_LOG_WARNING,
	             rc == 0 ? "password rehashed with the current parameters" : "password rehash failed",
	             json_pack("{s:s,s:s}", "user_id", u->id, "error", booking_error_name(rc)));
}

static int issue_token(char **out, booking_handle *bk, const booking_user *u)
{
	booking_jwt_claims c = BOOKING_JWT_CLAIMS_INIT;
	c.subject = u->id;
	c.role = u->role;
	c.issuer = bk->cfg.jwt_issuer;
	c.audience = bk->cfg.jwt_audience;
	c.issued_at = booking__now(bk);
	c.expires_at = c.issued_at + (int64_t)bk->cfg.access_token_ttl_seconds * 1000;
	return booking_jwt_sign(out, bk->auth->signing, &c);
}

/*
 * Find the user and check the password. Every failure that says something
 * about the account is LOGIN_FAILED, after one argon2id verification.
 */
static int check_credentials(booking_handle *bk, const char *email, const char *password, booking_user **user_out,
                             char **hash_out)
{
	char *norm = NULL;
	booking_user *u = NULL;
	char *hash = NULL;
	int rc = 0;
	size_t pwlen = password ? strnlen(password, BOOKING_PASSWORD_MAX + 1) : 0;
	bool usable = password && pwlen <= BOOKING_PASSWORD_MAX;
	if (booking_email_normalize(&norm, email) == 0) {
		rc = bk->store->users->user_get_by_email(&u, &hash, bk->store, norm);
		booking_free(norm);
		if (rc < 0 && rc != BOOKING_ENOTFOUND)
			return rc; /* the store failed: not a verdict on the credentials */
	}
	bool ok = false;
	int64_t t0 = mono_ns();
	if (u && usable) {
		bool current = hash_is_current(bk, hash);
		ok = crypto_pwhash_str_verify(hash, password, pwlen) == 0;
		if (current)
			note_verify_ns(bk->auth, mono_ns() - t0);
		else if (!ok)
			/* a hash of other parameters verifies in another time: fail in the handle's time */
			pad_failure(bk->auth, t0, password, pwlen);
	} else {
		/* the same work as for a real account; the outcome is failure whatever it says */
		verify_dummy(bk->auth, usable ? password : "", usable ? pwlen : 0);
	}
	if (!ok) {
		booking_user_free(u);
		booking_free(hash);
		return booking__error_json(BOOKING_EUNAUTHORIZED, json_pack("{s:s}", "reason", "credentials"), LOGIN_FAILED);
	}
	*user_out = u;
	*hash_out = hash;
	return 0;
}

static int login_run(char **token_out, booking_user **user_out, booking_handle *bk, const booking_ctx *ctx,
                       const char *email, const char *password)
{
	if (token_out)
		*token_out = NULL;
	if (user_out)
		*user_out = NULL;
	if (!token_out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	int rc;
	if ((rc = ctx_or_anonymous(&ctx)) < 0 || (rc = booking__ctx_deadline(bk, ctx)) < 0)
		return rc;
	if (!bk->auth->signing)
		return booking__error_json(BOOKING_ENOTSUPPORTED, json_pack("{s:s}", "field", "jwt_private_key_file"),
		                           "this handle issues no tokens: set jwt_private_key_file");
	if (!STORE_HAS(bk->store, user_get_by_email) || !STORE_HAS(bk->store, user_set_password_hash))
		return not_supported();
	if (bk->cfg.rate_logins_per_minute) { /* per email tried (case folded) and per client */
		char who[330];
		size_t i = 0;
		for (; email && email[i] && i + 1 < sizeof(who); i++)
			who[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] + ('a' - 'A') : email[i]);
		who[i] = '\0';
		if ((rc = booking__rate_take(bk, ctx, BOOKING__RATE_LOGIN, who)) < 0)
			return rc;
	}
	booking_user *u = NULL;
	char *hash = NULL;
	if ((rc = check_credentials(bk, email, password, &u, &hash)) < 0 || !u) {
		if (rc == 0) /* cannot happen: a success names its user */
			rc = booking_error_set(BOOKING_EINTERNAL, NULL, "login: no user");
		booking__log(bk, ctx, BOOKING_LOG_WARNING, "login failed", json_pack("{s:s}", "error", booking_error_name(rc)));
		return rc;
	}
	maybe_rehash(bk, ctx, u, hash, password);
	booking_free(hash);
	if ((rc = issue_token(token_out, bk, u)) < 0) {
		booking_user_free(u);
		return rc;
	}
	booking__log(bk, ctx, BOOKING_LOG_INFO, "user logged in", json_pack("{s:s}", "user_id", u->id));
	if (user_out)
		*user_out = u;
	else
		booking_user_free(u);
	return 0;
}

booking_error_code booking_auth_login(char **token_out, booking_user **user_out, booking_handle *bk, const booking_ctx *ctx,
                       const char *email, const char *password)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_LOGIN);
	return booking__scope_end(&sc, login_run(token_out, user_out, bk, ctx, email, password));
}

/* ------------------------------------------------------------------ */
/* tokens on a handle                                                   */

static int verify_signed(booking_token **out, booking_handle *bk, const char *token)
{
	*out = NULL;
	if (!bk->auth->keys)
		return booking__error_json(BOOKING_ENOTSUPPORTED, json_pack("{s:s}", "field", "jwt_public_keys_file"),
		                           "this handle verifies no tokens: set jwt_public_keys_file or jwt_private_key_file");
	return booking__jwt_verify(out, bk->auth->keys, token, bk->cfg.jwt_issuer, bk->cfg.jwt_audience,
	                           bk->cfg.jwt_leeway_seconds, booking__now(bk));
}

booking_error_code booking_auth_verify(booking_token **out, booking_handle *bk, const char *token)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	booking_token *t = NULL;
	int rc = verify_signed(&t, bk, token);
	if (rc < 0 || !t)
		return rc < 0 ? rc : booking_error_set(BOOKING_EINTERNAL, NULL, "verify: no token");
	/* A store without revocations has none to find: nothing could be revoked in it. */
	if (STORE_HAS(bk->store, token_is_revoked)) {
		bool revoked = false;
		if ((rc = bk->store->users->token_is_revoked(&revoked, bk->store, t->jti, booking__now(bk))) < 0) {
			booking_token_free(t);
			return rc;
		}
		if (revoked) {
			booking_token_free(t);
			return booking__token_error("revoked", "token revoked");
		}
	}
	*out = t;
	return 0;
}

booking_error_code booking_auth_ctx(booking_ctx *ctx_out, booking_token **tok_out, booking_handle *bk, const char *token)
{
	if (ctx_out)
		booking_ctx_init(ctx_out, NULL, BOOKING_ROLE_NONE);
	if (!ctx_out || !tok_out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	int rc = booking_auth_verify(tok_out, bk, token);
	if (rc < 0 || !*tok_out)
		return rc < 0 ? rc : booking_error_set(BOOKING_EINTERNAL, NULL, "verify: no token");
	booking_ctx_init(ctx_out, (*tok_out)->subject, (*tok_out)->role);
	return 0;
}

booking_error_code booking_auth_revoke(booking_handle *bk, const booking_ctx *ctx, const char *token)
{
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc;
	if ((rc = ctx_or_anonymous(&ctx)) < 0)
		return rc;
	if (!STORE_HAS(bk->store, token_revoke))
		return not_supported();
	booking_token *t = NULL;
	if ((rc = verify_signed(&t, bk, token)) < 0 || !t)
		return rc < 0 ? rc : booking_error_set(BOOKING_EINTERNAL, NULL, "verify: no token");
	/*
	 * Keep it while any verifier could still accept the token: until exp
	 * plus the largest leeway the library allows (not this handle's: another
	 * process may verify with more).
	 */
	int64_t keep_until = t->expires_at + (int64_t)BOOKING_JWT_LEEWAY_MAX_SECONDS * 1000;
	rc = bk->store->users->token_revoke(bk->store, t->jti, keep_until, booking__now(bk));
	if (rc == 0)
		booking__log(bk, ctx, BOOKING_LOG_INFO, "token revoked", json_pack("{s:s,s:s}", "user_id", t->subject, "jti", t->jti));
	booking_token_free(t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* reading users                                                        */

booking_error_code booking_user_get(booking_user **out, booking_handle *bk, const booking_ctx *ctx, const char *user_id)
{
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	int rc = booking__ctx_check(ctx);
	if (rc < 0)
		return rc;
	if (!user_id) {
		if ((rc = booking__require_user(ctx)) < 0)
			return rc;
		user_id = ctx->user_id;
	} else if (!booking__is_privileged(ctx)) {
		if ((rc = booking__require_user(ctx)) < 0)
			return rc;
		if (strcmp(ctx->user_id, user_id) != 0)
			return booking_error_set(BOOKING_EFORBIDDEN, NULL, "only admins may read other users");
	}
	if (!STORE_HAS(bk->store, user_get))
		return not_supported();
	if (booking__check_id("user_id", user_id) < 0)
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "user not found");
	return bk->store->users->user_get(out, NULL, bk->store, user_id);
}
