/*
 * Rate limits: holds, payments and logins per user and per client key,
 * shared by every process of a deployment (doc/fairness.md).
 *
 * GCRA (the generic cell rate algorithm, a token bucket kept as one
 * number): a limit of `rate` a minute lets one request through every
 * T = 60 000 000 / rate µs, and up to `burst` at once. The state of a key is its
 * theoretical arrival time TAT. A request at `now` passes when
 * max(TAT, now) - now <= T * (burst - 1), and moves TAT to max(TAT, now) + T;
 * otherwise it may retry after max(TAT, now) - now - T * (burst - 1) ms. A
 * TAT in the past says nothing more than an absent key: each key expires
 * when its TAT passes, so the state of idle clients costs nothing.
 *
 * The rule lives here only. Where the TAT lives is a register: the lock
 * manager's (register_swap, Redis: one EVALSHA) when it keeps them, else a
 * record of the store's kv group; both are compare-and-set, and the core
 * retries a lost race by deciding again from the value that won. A small
 * cache of the last value this handle wrote for a key is the expectation
 * of the next swap, so a busy key costs one round trip, not two.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE_NS "rate"
#define RATE_CACHE 256   /* slots of the expectation cache */
#define RATE_ATTEMPTS 8  /* compare-and-set rounds before giving up */

typedef struct rate_slot {
	char key[64];
	char value[24];  /* the TAT as written, "" when unknown */
	int64_t version; /* kv: its version */
} rate_slot;

struct booking__rate_cache {
	pthread_mutex_t lock;
	rate_slot slots[RATE_CACHE];
};

static const char *action_name(booking__rate_action a)
{
	return a == BOOKING__RATE_HOLD ? "hold" : a == BOOKING__RATE_PAYMENT ? "payment" : "login";
}

static int rate_of(const booking_handle *bk, booking__rate_action a)
{
	switch (a) {
	case BOOKING__RATE_HOLD: return bk->cfg.rate_holds_per_minute;
	case BOOKING__RATE_PAYMENT: return bk->cfg.rate_payments_per_minute;
	case BOOKING__RATE_LOGIN: return bk->cfg.rate_logins_per_minute;
	}
	return 0;
}

static const char *limit_name(booking__rate_action a)
{
	switch (a) {
	case BOOKING__RATE_HOLD: return "rate_holds_per_minute";
	case BOOKING__RATE_PAYMENT: return "rate_payments_per_minute";
	case BOOKING__RATE_LOGIN: return "rate_logins_per_minute";
	}
	return "rate";
}

static bool use_registers(const booking_handle *bk)
{
	return bk->locks && bk->locks->version >= 2 && bk->locks->register_swap;
}

int booking__rate_open(booking_handle *bk)
{
	bool any = bk->cfg.rate_holds_per_minute || bk->cfg.rate_payments_per_minute || bk->cfg.rate_logins_per_minute;
	if (!any)
		return 0;
	if (!use_registers(bk) && !booking__store_kv(bk->store))
		return booking__error_field("rate_holds_per_minute",
		                            "rate limits need a store with the kv group or a lock manager with registers");
	booking__rate_cache *c = booking_calloc(1, sizeof(*c));
	if (!c)
		return booking_error_oom();
	pthread_mutex_init(&c->lock, NULL);
	bk->rate = c;
	return 0;
}

void booking__rate_close(booking_handle *bk)
{
	if (!bk->rate)
		return;
	pthread_mutex_destroy(&bk->rate->lock);
	booking_free(bk->rate);
	bk->rate = NULL;
}

/*
 * The register's name: the action, whose it is (u: a user, c: a client
 * key) and a hash of the name, so that neither an email nor an address is
 * kept in the clear and every key has the same short length.
 */
static void key_for(char out[64], booking__rate_action a, char who, const char *name)
{
	unsigned char h[16];
	char hex[33];
	crypto_generichash(h, sizeof(h), (const unsigned char *)name, strlen(name), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 64, "%s:%c:%s", action_name(a), who, hex);
}

static rate_slot *slot_of(booking__rate_cache *c, const char *key)
{
	uint32_t h = 2166136261u;
	for (const char *p = key; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return &c->slots[h % RATE_CACHE];
}

static void cache_get(booking__rate_cache *c, const char *key, char value[24], int64_t *version)
{
	pthread_mutex_lock(&c->lock);
	rate_slot *s = slot_of(c, key);
	bool hit = strcmp(s->key, key) == 0;
	booking__copy(value, 24, hit ? s->value : "");
	*version = hit ? s->version : 0;
	pthread_mutex_unlock(&c->lock);
}

static void cache_put(booking__rate_cache *c, const char *key, const char *value, int64_t version)
{
	pthread_mutex_lock(&c->lock);
	rate_slot *s = slot_of(c, key);
	booking__copy(s->key, sizeof(s->key), key);
	booking__copy(s->value, sizeof(s->value), value ? value : "");
	s->version = version;
	pthread_mutex_unlock(&c->lock);
}

/* One compare-and-set of the register: 0 written, 1 lost (value/version now hold the winner's), < 0 an error. */
static int swap(booking_handle *bk, const char *key, char value[24], int64_t *version, const char *next,
                int64_t expires_at, int64_t now)
{
	if (use_registers(bk)) {
		char *cur = NULL;
		int rc = bk->locks->register_swap(&cur, bk->locks, key, value[0] ? value : NULL, next, expires_at - now + 1);
		if (rc == BOOKING_EINVALID_STATE) {
			booking__copy(value, 24, cur ? cur : "");
			booking_free(cur);
			return 1;
		}
		booking_free(cur);
		return rc;
	}
	const booking_store_kv *kv = booking__store_kv(bk->store);
	booking_store_kv_put put = {.ns = RATE_NS, .key = key, .expected_version = *version, .value = next,
	                            .expires_at = expires_at, .now = now};
	int64_t v = 0;
	int rc = kv->kv_put(&v, bk->store, &put);
	if (rc != BOOKING_EINVALID_STATE) {
		*version = v;
		return rc;
	}
	/* lost: read what won (absent or expired: version 0, no value) */
	booking_store_kv_record rec;
	memset(&rec, 0, sizeof(rec));
	rc = kv->kv_get(&rec, bk->store, RATE_NS, key, now);
	if (rc < 0 && rc != BOOKING_ENOTFOUND)
		return rc;
	booking__copy(value, 24, rc == 0 && rec.value ? rec.value : "");
	*version = rc == 0 ? rec.version : 0;
	booking_free(rec.value);
	return 1;
}

/*
 * Take one request from the limit of `key`: 0, or *retry_ms_out > 0 when
 * over it. Times in microseconds (T = 60e6 / rate: exact for every rate up
 * to 100000 a minute); the register holds the TAT in microseconds.
 */
static int take(booking_handle *bk, const char *key, int rate, int64_t *retry_ms_out)
{
	int64_t t = INT64_C(60000000) / rate;
	int64_t tau = t * (bk->cfg.rate_burst - 1);
	char value[24];
	int64_t version;
	cache_get(bk->rate, key, value, &version);
	*retry_ms_out = 0;
	int64_t now = booking__now(bk) * 1000;
	/*
	 * A cached TAT that has passed names a record that may have expired
	 * since: its version may have started again from 1 in another handle,
	 * so neither is an expectation any more.
	 */
	if (value[0] && strtoll(value, NULL, 10) <= now) {
		value[0] = '\0';
		version = 0;
	}
	for (int attempt = 0; attempt < RATE_ATTEMPTS; attempt++) {
		now = booking__now(bk) * 1000;
		int64_t tat = value[0] ? strtoll(value, NULL, 10) : 0;
		if (tat < now || tat > now + t + tau) /* absent, or not a value this rule wrote (a damaged register) */
			tat = now;
		if (tat - now > tau) {
			*retry_ms_out = (tat - now - tau + 999) / 1000;
			return 0;
		}
		char next[24];
		snprintf(next, sizeof(next), "%" PRId64, tat + t);
		/* the record lives as long as its TAT is ahead: an expired one says no more than an absent one */
		int rc = swap(bk, key, value, &version, next, (tat + t) / 1000 + 1, now / 1000);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			cache_put(bk->rate, key, next, version);
			return 0;
		}
		cache_put(bk->rate, key, value, version); /* decide again from the value that won */
	}
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "rate limit: the register kept changing; retry");
}

static int over(booking_handle *bk, const booking_ctx *ctx, booking__rate_action a, const char *who, int64_t retry_ms)
{
	int64_t retry_s = (retry_ms + 999) / 1000;
	booking__log(bk, ctx, BOOKING_LOG_WARNING, "rate limited",
	             json_pack("{s:s,s:s,s:I}", "limit", limit_name(a), "key", who, "retry_after_ms", (json_int_t)retry_ms));
	return booking__error_json(BOOKING_ERATE_LIMITED,
	                           json_pack("{s:s,s:i,s:s,s:I,s:I}", "limit", limit_name(a), "max", rate_of(bk, a), "key",
	                                     who, "retry_after_seconds", (json_int_t)retry_s, "retry_after_ms",
	                                     (json_int_t)retry_ms),
	                           "too many %s requests (%s = %d): retry in %lld s", action_name(a), limit_name(a),
	                           rate_of(bk, a), (long long)retry_s);
}

int booking__rate_take(booking_handle *bk, const booking_ctx *ctx, booking__rate_action a, const char *user)
{
	int rate = rate_of(bk, a);
	if (!rate || !bk->rate || (ctx && (ctx->role == BOOKING_ROLE_ADMIN || ctx->role == BOOKING_ROLE_SYSTEM)))
		return 0; /* off, or the box office's own staff */
	const char *client = ctx && ctx->version >= 2 ? ctx->client_key : NULL;
	char key[64];
	int64_t retry = 0;
	int rc;
	if (user && *user) {
		key_for(key, a, 'u', user);
		if ((rc = take(bk, key, rate, &retry)) < 0)
			return rc;
		if (retry)
			return over(bk, ctx, a, "user", retry);
	}
	if (client && *client) {
		key_for(key, a, 'c', client);
		if ((rc = take(bk, key, rate, &retry)) < 0)
			return rc;
		if (retry)
			return over(bk, ctx, a, "client", retry);
	}
	return 0;
}
