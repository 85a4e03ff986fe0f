/*
 * JWT (RFC 7519) in compact form, signed EdDSA with Ed25519 (RFC 8037).
 *
 * Verification pins the algorithm: the header's "alg" must be "EdDSA"
 * before any key is looked at, so "none", "HS256" signed with the public
 * key as an HMAC secret, RS256 and the like are refused whatever else the
 * token says (the algorithm-confusion attacks).
 * SPDX-License-Identifier: MIT
 */
#include "auth_internal.h"

#include <math.h>
#include <string.h>
#include <strings.h>

/* Seconds of the year 9999: NumericDates past it are refused (and ms never overflow). */
#define NUMERIC_DATE_MAX INT64_C(253402300799)

int booking__token_error(const char *reason, const char *message)
{
	return booking__error_json(BOOKING_EUNAUTHORIZED, json_pack("{s:s}", "reason", reason), "%s", message);
}

void booking_token_free(booking_token *t)
{
	if (!t)
		return;
	booking_free(t->subject);
	booking_free(t->jti);
	booking_free(t->issuer);
	booking_free(t->audience);
	booking_free(t->kid);
	booking_free(t);
}

const char *booking_role_name(booking_role role)
{
	switch (role) {
	case BOOKING_ROLE_CUSTOMER:
		return "customer";
	case BOOKING_ROLE_ADMIN:
		return "admin";
	case BOOKING_ROLE_SYSTEM:
		return "system";
	case BOOKING_ROLE_NONE:
		break;
	}
	return "none";
}

/* ------------------------------------------------------------------ */
/* signing                                                              */

/* base64url of a JSON object's compact text into a new string. */
static char *b64_json(const json_t *o)
{
	char *text = booking__json_dumps(o, JSON_COMPACT);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *b = booking_malloc(booking__b64url_len(n) + 1);
	if (b)
		booking__b64url_encode(b, (const unsigned char *)text, n);
	booking_free(text);
	return b;
}

static int check_claims(const booking_jwt_claims *c)
{
	if (!c || c->version == 0 || c->version > BOOKING_JWT_CLAIMS_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"claims.version\"}", "claims: unsupported version");
	int rc;
	if ((rc = booking__check_user_id("claims.subject", c->subject)) < 0 ||
	    (rc = booking__check_text("claims.issuer", c->issuer, 1, 200)) < 0 ||
	    (rc = booking__check_text("claims.audience", c->audience, 1, 200)) < 0 ||
	    (c->jti && (rc = booking__check_text("claims.jti", c->jti, 1, BOOKING__JTI_MAX)) < 0))
		return rc;
	if (c->role != BOOKING_ROLE_CUSTOMER && c->role != BOOKING_ROLE_ADMIN)
		return booking__error_field("claims.role", "must be CUSTOMER or ADMIN");
	if (c->issued_at <= 0 || c->issued_at / 1000 > NUMERIC_DATE_MAX || c->expires_at / 1000 > NUMERIC_DATE_MAX ||
	    c->expires_at / 1000 <= c->issued_at / 1000)
		return booking__error_field("claims.expires_at", "must be a time after issued_at (by a second at least)");
	return 0;
}

booking_error_code booking_jwt_sign(char **out, const booking_signing_key *key, const booking_jwt_claims *claims)
{
	if (!out || !key)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	int rc = check_claims(claims);
	if (rc < 0)
		return rc;
	char jti[BOOKING_ID_SIZE];
	if (!claims->jti)
		booking_uuid_v7(jti, claims->issued_at);
	json_int_t iat = (json_int_t)(claims->issued_at / 1000), exp = (json_int_t)(claims->expires_at / 1000);
	json_t *header = json_pack("{s:s,s:s,s:s}", "alg", "EdDSA", "typ", "JWT", "kid", key->kid);
	json_t *payload = json_pack("{s:s,s:s,s:I,s:I,s:I,s:s,s:s,s:s}", "sub", claims->subject, "role",
	                            booking_role_name(claims->role), "iat", iat, "nbf", iat, "exp", exp, "jti",
	                            claims->jti ? claims->jti : jti, "iss", claims->issuer, "aud", claims->audience);
	char *h = header ? b64_json(header) : NULL;
	char *p = payload ? b64_json(payload) : NULL;
	json_decref(header);
	json_decref(payload);
	char *token = NULL;
	if (h && p) {
		size_t hl = strlen(h), pl = strlen(p), sl = booking__b64url_len(crypto_sign_BYTES);
		size_t size = hl + 1 + pl + 1 + sl + 1;
		token = booking_malloc(size);
		if (token) {
			snprintf(token, size, "%s.%s", h, p); /* the signing input */
			unsigned char sig[crypto_sign_BYTES];
			crypto_sign_detached(sig, NULL, (const unsigned char *)token, hl + 1 + pl, key->sk);
			token[hl + 1 + pl] = '.';
			booking__b64url_encode(token + hl + 1 + pl + 1, sig, sizeof(sig));
		}
	}
	booking_free(h);
	booking_free(p);
	if (!token)
		return booking_error_oom();
	*out = token;
	return 0;
}

/* ------------------------------------------------------------------ */
/* verification                                                         */

/* Decode one base64url part into a JSON object. 0, OOM, or UNAUTHORIZED "malformed". */
static int decode_json_part(json_t **out, const char *part, size_t n, const char *what)
{
	*out = NULL;
	unsigned char *buf = booking_malloc(n + 1);
	if (!buf)
		return booking_error_oom();
	size_t len = 0;
	int rc = 0;
	if (booking__b64url_decode(buf, n, &len, part, n) != 0) {
		booking_free(buf);
		char msg[96];
		snprintf(msg, sizeof(msg), "malformed token: the %s is not base64url", what);
		return booking__token_error("malformed", msg);
	}
	buf[len] = '\0';
	bool oom = false;
	json_t *j = NULL;
	if (memchr(buf, '\0', len) == NULL && booking__utf8_valid((const char *)buf, len))
		j = booking__json_loads((const char *)buf, JSON_REJECT_DUPLICATES, NULL, &oom);
	booking_free(buf);
	if (oom)
		return booking_error_oom();
	if (!json_is_object(j)) {
		json_decref(j);
		char msg[96];
		snprintf(msg, sizeof(msg), "malformed token: the %s is not a JSON object", what);
		rc = booking__token_error("malformed", msg);
		return rc;
	}
	*out = j;
	return 0;
}

/* The header: alg pinned to EdDSA, a kid, typ JWT if any, no crit. */
static int check_header(json_t *h, const char **kid_out)
{
	json_t *alg = json_object_get(h, "alg");
	if (!json_is_string(alg) || strcmp(json_string_value(alg), "EdDSA") != 0) {
		/* the value is the attacker's: bounded, escaped, cut between characters */
		char quoted[128], msg[192];
		if (json_is_string(alg))
			booking__quote(quoted, sizeof(quoted), json_string_value(alg), 32);
		snprintf(msg, sizeof(msg), "token algorithm %s%s%s is not accepted (EdDSA only)",
		         json_is_string(alg) ? "\"" : "", json_is_string(alg) ? quoted : "(none)",
		         json_is_string(alg) ? "\"" : "");
		return booking__token_error("algorithm", msg);
	}
	json_t *typ = json_object_get(h, "typ");
	if (typ && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
		return booking__token_error("malformed", "malformed token: \"typ\" is not JWT");
	if (json_object_get(h, "crit"))
		return booking__token_error("malformed", "malformed token: critical header extensions are not supported");
	json_t *kid = json_object_get(h, "kid");
	if (!json_is_string(kid) || json_string_length(kid) == 0 || json_string_length(kid) > BOOKING__KID_MAX)
		return booking__token_error("unknown_kid", "token has no usable \"kid\"");
	*kid_out = json_string_value(kid);
	return 0;
}

/* A NumericDate claim in ms: 0 absent, 1 present, -1 not a date. */
static int numeric_date(json_t *claims, const char *name, int64_t *ms_out)
{
	json_t *v = json_object_get(claims, name);
	*ms_out = 0;
	if (!v)
		return 0;
	double d;
	if (json_is_integer(v))
		d = (double)json_integer_value(v);
	else if (json_is_real(v))
		d = json_real_value(v);
	else
		return -1;
	if (!isfinite(d) || d < 0 || d > (double)NUMERIC_DATE_MAX)
		return -1;
	*ms_out = (int64_t)floor(d) * 1000;
	return 1;
}

static bool audience_matches(json_t *aud, const char *audience, const char **matched)
{
	if (json_is_string(aud)) {
		*matched = json_string_value(aud);
		return strcmp(*matched, audience) == 0;
	}
	if (!json_is_array(aud))
		return false;
	for (size_t i = 0; i < json_array_size(aud); i++) {
		json_t *a = json_array_get(aud, i);
		if (json_is_string(a) && strcmp(json_string_value(a), audience) == 0) {
			*matched = json_string_value(a);
			return true;
		}
	}
	return false;
}

typedef struct claim_set {
	const char *sub, *role, *jti, *iss, *aud;
	booking_role r;
	int64_t iat, nbf, exp;
} claim_set;

static int check_claim_types(json_t *c, claim_set *cs)
{
	json_t *sub = json_object_get(c, "sub"), *role = json_object_get(c, "role"), *jti = json_object_get(c, "jti"),
	       *iss = json_object_get(c, "iss");
	if (!json_is_string(sub) || booking__check_user_id("sub", json_string_value(sub)) < 0)
		return booking__token_error("claims", "token claim \"sub\" is missing or not a user id");
	if (!json_is_string(jti) || json_string_length(jti) == 0 || json_string_length(jti) > BOOKING__JTI_MAX ||
	    booking__check_text("jti", json_string_value(jti), 1, BOOKING__JTI_MAX) < 0)
		return booking__token_error("claims", "token claim \"jti\" is missing or not 1..128 bytes of text");
	if (!json_is_string(role))
		return booking__token_error("claims", "token claim \"role\" is missing");
	cs->role = json_string_value(role);
	if (strcmp(cs->role, "customer") == 0)
		cs->r = BOOKING_ROLE_CUSTOMER;
	else if (strcmp(cs->role, "admin") == 0)
		cs->r = BOOKING_ROLE_ADMIN;
	else
		return booking__token_error("claims", "token claim \"role\" must be \"customer\" or \"admin\"");
	int has_exp = numeric_date(c, "exp", &cs->exp), has_nbf = numeric_date(c, "nbf", &cs->nbf),
	    has_iat = numeric_date(c, "iat", &cs->iat);
	if (has_exp <= 0)
		return booking__token_error("claims", "token claim \"exp\" is missing or not a NumericDate");
	if (has_nbf < 0 || has_iat < 0)
		return booking__token_error("claims", "token claims \"nbf\" and \"iat\" must be NumericDates");
	if (!json_is_string(iss))
		return booking__token_error("issuer", "token has no issuer (\"iss\")");
	cs->sub = json_string_value(sub);
	cs->jti = json_string_value(jti);
	cs->iss = json_string_value(iss);
	return 0;
}

static int check_claim_values(json_t *c, claim_set *cs, const char *issuer, const char *audience, int leeway_seconds,
                              int64_t now)
{
	if (!cs->iss || strcmp(cs->iss, issuer) != 0)
		return booking__token_error("issuer", "token issuer is not the expected one");
	if (!audience_matches(json_object_get(c, "aud"), audience, &cs->aud))
		return booking__token_error("audience", "token audience does not include the expected one");
	int64_t leeway = (int64_t)leeway_seconds * 1000;
	if (now >= cs->exp + leeway)
		return booking__token_error("expired", "token expired");
	if (cs->nbf && now + leeway < cs->nbf)
		return booking__token_error("not_yet_valid", "token is not valid yet (nbf)");
	if (cs->iat && now + leeway < cs->iat)
		return booking__token_error("issued_in_future", "token was issued in the future (iat)");
	return 0;
}

static int token_new(booking_token **out, const claim_set *cs, const char *kid)
{
	booking_token *t = booking_calloc(1, sizeof(*t));
	if (!t)
		return booking_error_oom();
	t->subject = booking_strdup(cs->sub);
	t->jti = booking_strdup(cs->jti);
	t->issuer = booking_strdup(cs->iss);
	t->audience = booking_strdup(cs->aud);
	t->kid = booking_strdup(kid);
	t->role = cs->r;
	t->issued_at = cs->iat;
	t->not_before = cs->nbf;
	t->expires_at = cs->exp;
	if (!t->subject || !t->jti || !t->issuer || !t->audience || !t->kid) {
		booking_token_free(t);
		return booking_error_oom();
	}
	*out = t;
	return 0;
}

int booking__jwt_verify(booking_token **out, const booking_jwk_set *keys, const char *token, const char *issuer,
                        const char *audience, int leeway_seconds, int64_t now)
{
	*out = NULL;
	if (!token || !*token)
		return booking__token_error("malformed", "no token");
	size_t len = strnlen(token, BOOKING__TOKEN_MAX + 1);
	if (len > BOOKING__TOKEN_MAX)
		return booking__token_error("malformed", "malformed token: too long");
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	/* an empty signature is left to the algorithm check: "alg":"none" is refused as such */
	if (!dot1 || !dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) || dot1 == token ||
	    dot2 == dot1 + 1)
		return booking__token_error("malformed", "malformed token: expected three parts (header.payload.signature)");
	json_t *header = NULL, *claims = NULL;
	int rc;
	const char *kid = NULL;
	if ((rc = decode_json_part(&header, token, (size_t)(dot1 - token), "header")) < 0)
		return rc;
	if ((rc = check_header(header, &kid)) < 0)
		goto out;
	const booking__jwk *key = booking__jwk_set_find(keys, kid);
	if (!key) {
		rc = booking__token_error("unknown_kid", "token signed with an unknown key (kid)");
		goto out;
	}
	unsigned char sig[crypto_sign_BYTES];
	size_t siglen = 0;
	const char *s64 = dot2 + 1;
	size_t s64len = len - (size_t)(s64 - token);
	if (s64len != booking__b64url_len(sizeof(sig)) || booking__b64url_decode(sig, sizeof(sig), &siglen, s64, s64len) != 0 ||
	    siglen != sizeof(sig)) {
		rc = booking__token_error("malformed", "malformed token: the signature is not 64 bytes of base64url");
		goto out;
	}
	if (crypto_sign_verify_detached(sig, (const unsigned char *)token, (unsigned long long)(dot2 - token), key->pk) != 0) {
		rc = booking__token_error("signature", "token signature does not verify");
		goto out;
	}
	if ((rc = decode_json_part(&claims, dot1 + 1, (size_t)(dot2 - dot1 - 1), "payload")) < 0)
		goto out;
	claim_set cs;
	memset(&cs, 0, sizeof(cs));
	if ((rc = check_claim_types(claims, &cs)) < 0 ||
	    (rc = check_claim_values(claims, &cs, issuer, audience, leeway_seconds, now)) < 0)
		goto out;
	rc = token_new(out, &cs, kid);
out:
	json_decref(header);
	json_decref(claims);
	return rc;
}

booking_error_code booking_jwt_verify_options_init(booking_jwt_verify_options *opts, unsigned int version)
{
	static const size_t end[BOOKING_JWT_VERIFY_OPTIONS_VERSION + 1] = {0, sizeof(booking_jwt_verify_options)};
	return booking__struct_init(opts, version, BOOKING_JWT_VERIFY_OPTIONS_VERSION, end, "verify options");
}

booking_error_code booking_jwt_verify(booking_token **out, const booking_jwk_set *keys, const char *token,
                       const booking_jwt_verify_options *opts)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	if (!opts || opts->version == 0 || opts->version > BOOKING_JWT_VERIFY_OPTIONS_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"opts.version\"}", "verify options: unsupported version");
	int rc;
	if ((rc = booking__check_text("opts.issuer", opts->issuer, 1, 200)) < 0 ||
	    (rc = booking__check_text("opts.audience", opts->audience, 1, 200)) < 0)
		return rc;
	if (opts->leeway_seconds < 0 || opts->leeway_seconds > BOOKING_JWT_LEEWAY_MAX_SECONDS)
		return booking__error_field("opts.leeway_seconds", "must be 0..%d", BOOKING_JWT_LEEWAY_MAX_SECONDS);
	if (sodium_init() < 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "libsodium failed to initialise");
	int64_t now = opts->now ? opts->now : booking_clock_system()->now_ms(booking_clock_system());
	return booking__jwt_verify(out, keys, token, opts->issuer, opts->audience, opts->leeway_seconds, now);
}
