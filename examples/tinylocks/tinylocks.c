/*
 * tinylocks — a lock manager in one file, using only the backend API
 * (<booking/sys/backend.h>): what a third party writes to plug its own
 * lock service into libbooking. Keys → (owner, expires_at) in an array
 * behind one mutex, linear scans: fine for a few thousand keys.
 *
 * The contract (sys/lock.h): take all keys or none, an owner may re-take
 * its keys, an expired key is free, release and extend touch only the
 * owner's keys. Time comes from the clock the core hands over, so tests
 * move a TTL forward without sleeping.
 * SPDX-License-Identifier: MIT
 */
#include "tinylocks.h"

#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_KEYS 4096

/* One held key; key and owner live in the same block, after the struct. */
typedef struct held {
	int64_t expires_at;
	char *owner;
	char key[];
} held;

typedef struct tiny_locks {
	booking_lock_manager parent; /* first: the core sees a booking_lock_manager */
	pthread_mutex_t mu;
	const booking_clock *clock;
	tinylocks_stats *stats; /* may be NULL */
	held **keys;
	size_t n, cap, max_keys;
} tiny_locks;

static held *held_new(const char *key, const char *owner, int64_t expires_at)
{
	size_t kl = strlen(key), ol = strlen(owner);
	held *h = booking_malloc(sizeof(*h) + kl + 1 + ol + 1); /* the library's allocator: OOM tests reach us */
	if (!h)
		return NULL;
	h->expires_at = expires_at;
	memcpy(h->key, key, kl + 1);
	h->owner = h->key + kl + 1;
	memcpy(h->owner, owner, ol + 1);
	return h;
}

static size_t find(const tiny_locks *tl, const char *key)
{
	for (size_t i = 0; i < tl->n; i++)
		if (strcmp(tl->keys[i]->key, key) == 0)
			return i;
	return SIZE_MAX;
}

static void remove_at(tiny_locks *tl, size_t i)
{
	booking_free(tl->keys[i]);
	tl->keys[i] = tl->keys[--tl->n];
}

static void drop_expired(tiny_locks *tl, int64_t now)
{
	for (size_t i = 0; i < tl->n;)
		if (tl->keys[i]->expires_at <= now)
			remove_at(tl, i);
		else
			i++;
}

static int check_args(const char *const *keys, size_t n, const char *owner)
{
	if (!owner || (n && !keys))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "tinylocks: keys and owner are required");
	for (size_t i = 0; i < n; i++)
		if (!keys[i])
			return booking_error_set(BOOKING_EVALIDATION, NULL, "tinylocks: key %zu is NULL", i);
	return 0;
}

static void count(atomic_long *counter)
{
	atomic_fetch_add(counter, 1);
}

/* Under the mutex. Every allocation happens before the first change, so a failure changes nothing. */
static int acquire_locked(tiny_locks *tl, const char *const *keys, size_t n, const char *owner, int64_t now,
                          int64_t ttl_ms, held **fresh)
{
	drop_expired(tl, now);
	for (size_t i = 0; i < n; i++) {
		size_t at = find(tl, keys[i]);
		if (at != SIZE_MAX && strcmp(tl->keys[at]->owner, owner) != 0) {
			if (tl->stats)
				count(&tl->stats->refused);
			return booking_error_set(BOOKING_ELOCKED, NULL, "tinylocks: %s is held by another owner", keys[i]);
		}
	}
	if (tl->n + n > tl->max_keys)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "tinylocks: more than max_keys=%zu keys held",
		                         tl->max_keys);
	if (tl->n + n > tl->cap) {
		size_t cap = (tl->n + n) * 2;
		held **grown = booking_realloc(tl->keys, cap * sizeof(*grown));
		if (!grown)
			return booking_error_oom();
		tl->keys = grown;
		tl->cap = cap;
	}
	for (size_t i = 0; i < n; i++)
		if (!(fresh[i] = held_new(keys[i], owner, now + ttl_ms)))
			return booking_error_oom();
	for (size_t i = 0; i < n; i++) {
		size_t at = find(tl, keys[i]);
		if (at == SIZE_MAX) {
			tl->keys[tl->n++] = fresh[i];
			fresh[i] = NULL;
		} else {
			tl->keys[at]->expires_at = now + ttl_ms; /* ours already (or a key named twice): refresh */
		}
	}
	if (tl->stats)
		count(&tl->stats->acquired);
	return 0;
}

static int tl_acquire_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                          int64_t ttl_ms)
{
	tiny_locks *tl = (tiny_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0 || n == 0)
		return rc;
	held **fresh = booking_calloc(n, sizeof(*fresh));
	if (!fresh)
		return booking_error_oom();
	int64_t now = tl->clock->now_ms(tl->clock);
	pthread_mutex_lock(&tl->mu);
	rc = acquire_locked(tl, keys, n, owner, now, ttl_ms, fresh);
	pthread_mutex_unlock(&tl->mu);
	for (size_t i = 0; i < n; i++)
		booking_free(fresh[i]); /* those not taken into the table */
	booking_free(fresh);
	return rc;
}

static int tl_release_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner)
{
	tiny_locks *tl = (tiny_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&tl->mu);
	for (size_t i = 0; i < n; i++) {
		size_t at = find(tl, keys[i]);
		if (at != SIZE_MAX && strcmp(tl->keys[at]->owner, owner) == 0)
			remove_at(tl, at);
	}
	pthread_mutex_unlock(&tl->mu);
	return 0;
}

static int tl_extend(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                     int64_t ttl_ms)
{
	tiny_locks *tl = (tiny_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0)
		return rc;
	int64_t now = tl->clock->now_ms(tl->clock);
	pthread_mutex_lock(&tl->mu);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t at = find(tl, keys[i]);
		if (at == SIZE_MAX || tl->keys[at]->expires_at <= now || strcmp(tl->keys[at]->owner, owner) != 0)
			rc = booking_error_set(BOOKING_ELOCKED, NULL, "tinylocks: %s is not held by this owner", keys[i]);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		tl->keys[find(tl, keys[i])]->expires_at = now + ttl_ms;
	pthread_mutex_unlock(&tl->mu);
	return rc;
}

static void tl_free(booking_lock_manager *base)
{
	tiny_locks *tl = (tiny_locks *)base;
	if (!tl)
		return;
	for (size_t i = 0; i < tl->n; i++)
		booking_free(tl->keys[i]);
	booking_free(tl->keys);
	pthread_mutex_destroy(&tl->mu);
	booking_free(tl);
}

/*
 * "tinylocks:" or "tinylocks:?max_keys=N": the backend's settings travel in
 * its URL, read with <booking/sys/url.h> (range-checked, percent-decoded,
 * errors naming lock_url and the parameter).
 */
static int parse_url(const char *url, size_t *max_keys)
{
	*max_keys = DEFAULT_MAX_KEYS;
	if (booking_url_base_len(url) != strlen("tinylocks:"))
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"lock_url\"}",
		                         "lock_url: tinylocks takes \"tinylocks:\" or \"tinylocks:?max_keys=N\"");
	booking_url_query q;
	int rc, v;
	booking_url_query_init(&q, url, "lock_url");
	while ((rc = booking_url_query_next(&q)) > 0) {
		if (booking_url_query_is(&q, "max_keys")) {
			if ((rc = booking_url_query_int(&v, &q, 1, 1000000)) == 0)
				*max_keys = (size_t)v;
		} else {
			rc = booking_url_query_unknown(&q, "max_keys");
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* The constructor the registry calls for a "tinylocks:" lock URL. */
static int tinylocks_open(booking_lock_manager **out, const char *url, const booking_clock *clock, void *payload)
{
	*out = NULL;
	size_t max_keys;
	int rc = parse_url(url, &max_keys);
	if (rc < 0)
		return rc;
	tiny_locks *tl = booking_calloc(1, sizeof(*tl));
	if (!tl)
		return booking_error_oom();
	if (pthread_mutex_init(&tl->mu, NULL) != 0) {
		booking_free(tl);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "tinylocks: cannot create a mutex");
	}
	tl->clock = clock ? clock : booking_clock_system();
	tl->stats = payload;
	tl->max_keys = max_keys;
	tl->parent.version = 2; /* no acquire_all_why nor settle (version 3): the core falls back */
	tl->parent.free = tl_free;
	tl->parent.acquire_all = tl_acquire_all;
	tl->parent.release_all = tl_release_all;
	tl->parent.extend = tl_extend;
	*out = &tl->parent;
	return 0;
}

int tinylocks_register(tinylocks_stats *stats)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = "tinylocks";
	def.lock_manager = tinylocks_open;
	def.payload = stats;
	return booking_backend_register(&def);
}
