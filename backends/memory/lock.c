/*
 * libbooking — the `memory:` lock manager: keys → (owner, expires_at) in a
 * hash table behind one mutex. Time comes from the injected clock, so a
 * test moves a TTL forward without sleeping. Expired entries are swept
 * out now and then (amortised O(1) per call) so they do not accumulate.
 *
 * SPDX-License-Identifier: MIT
 */
#include "backends.h"

#include <pthread.h>
#include <string.h>

/* One held key. Key and owner live in the same block, after the struct. */
typedef struct lk_entry {
	int64_t expires_at;
	uint64_t hash;
	char *owner;
	char key[];
} lk_entry;

/*
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), so the table stays short however many keys come and go.
 */
typedef struct lk_map {
	lk_entry **slots;
	size_t cap; /* 0 or a power of two */
	size_t count;
} lk_map;

typedef struct mem_locks {
	booking_lock_manager parent;
	pthread_mutex_t mu;
	const booking_clock *clock;
	lk_map keys;
	size_t ops_since_sweep;
} mem_locks;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 14695981039346656037ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Index of the slot holding `key`, or SIZE_MAX. */
static size_t map_find(const lk_map *m, const char *key, uint64_t h)
{
	if (m->count == 0)
		return SIZE_MAX;
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const lk_entry *e = m->slots[i];
		if (!e)
			return SIZE_MAX;
		if (e->hash == h && strcmp(e->key, key) == 0)
			return i;
	}
}

static void map_place(lk_entry **slots, size_t cap, lk_entry *e)
{
	size_t mask = cap - 1;
	size_t i = (size_t)e->hash & mask;
	while (slots[i])
		i = (i + 1) & mask;
	slots[i] = e;
}

static int map_reserve(lk_map *m, size_t extra)
{
	size_t need = m->count + extra;
	if (m->cap && need <= m->cap / 10 * 7)
		return 0;
	size_t cap = m->cap ? m->cap : 16;
	while (need > cap / 10 * 7) {
		if (cap > SIZE_MAX / 4)
			return -1;
		cap *= 2;
	}
	lk_entry **slots = booking_calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i])
			map_place(slots, cap, m->slots[i]);
	booking_free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* Remove and free the entry at slot i, shifting back the probe chain behind it. */
static void map_remove_at(lk_map *m, size_t i)
{
	size_t mask = m->cap - 1;
	booking_free(m->slots[i]);
	m->slots[i] = NULL;
	m->count--;
	for (size_t j = (i + 1) & mask; m->slots[j]; j = (j + 1) & mask) {
		size_t home = (size_t)m->slots[j]->hash & mask;
		/* the entry at j may move to the hole at i if its home is not in (i, j] (cyclically) */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j] = NULL;
		i = j;
	}
}

static void sweep_expired(mem_locks *lm, int64_t now)
{
	lk_map *m = &lm->keys;
	size_t i = 0;
	while (i < m->cap) {
		/* after a removal, slot i may hold a shifted-back entry: look at it again */
		if (m->slots[i] && m->slots[i]->expires_at <= now)
			map_remove_at(m, i);
		else
			i++;
	}
	lm->ops_since_sweep = 0;
}

/* Sweep once the calls since the last sweep outnumber the entries: amortised O(1). */
static void maybe_sweep(mem_locks *lm, int64_t now)
{
	if (++lm->ops_since_sweep >= 64 && lm->ops_since_sweep >= lm->keys.count)
		sweep_expired(lm, now);
}

static lk_entry *entry_new(const char *key, uint64_t h, const char *owner, int64_t expires_at)
{
	size_t kl = strlen(key), ol = strlen(owner);
	lk_entry *e = booking_malloc(sizeof *e + kl + 1 + ol + 1);
	if (!e)
		return NULL;
	e->expires_at = expires_at;
	e->hash = h;
	memcpy(e->key, key, kl + 1);
	e->owner = e->key + kl + 1;
	memcpy(e->owner, owner, ol + 1);
	return e;
}

static int64_t now_ms(const mem_locks *lm)
{
	return lm->clock->now_ms(lm->clock);
}

static int check_args(const char *const *keys, size_t n, const char *owner)
{
	if (!owner || (n && !keys))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "lock manager: keys and owner are required");
	for (size_t i = 0; i < n; i++)
		if (!keys[i])
			return booking_error_set(BOOKING_EVALIDATION, NULL, "lock manager: key %zu is NULL", i);
	return 0;
}

static int locked_error(const char *key)
{
	return booking_error_set(BOOKING_ELOCKED, NULL, "lock %s is held by another owner", key);
}

static int acquire_locked(mem_locks *lm, const char *const *keys, size_t n, const char *owner, int64_t now,
                          int64_t expires_at, uint64_t *hashes, lk_entry **fresh)
{
	lk_map *m = &lm->keys;
	for (size_t i = 0; i < n; i++) {
		hashes[i] = hash_str(keys[i]);
		size_t at = map_find(m, keys[i], hashes[i]);
		if (at != SIZE_MAX) {
			const lk_entry *e = m->slots[at];
			if (e->expires_at > now && strcmp(e->owner, owner) != 0)
				return locked_error(keys[i]);
		}
	}
	/* allocate first: after this point nothing can fail */
	for (size_t i = 0; i < n; i++) {
		fresh[i] = entry_new(keys[i], hashes[i], owner, expires_at);
		if (!fresh[i])
			return booking_error_oom();
	}
	if (map_reserve(m, n) < 0)
		return booking_error_oom();
	for (size_t i = 0; i < n; i++) {
		size_t at = map_find(m, keys[i], hashes[i]);
		if (at == SIZE_MAX) {
			map_place(m->slots, m->cap, fresh[i]);
			m->count++;
			fresh[i] = NULL;
		} else if (strcmp(m->slots[at]->owner, owner) == 0) {
			m->slots[at]->expires_at = expires_at; /* ours (or a repeated key): refresh */
		} else {
			booking_free(m->slots[at]); /* another owner's, expired: take it over */
			m->slots[at] = fresh[i];
			fresh[i] = NULL;
		}
	}
	return 0;
}

static int lk_acquire_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                          int64_t ttl_ms)
{
	mem_locks *lm = (mem_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0 || n == 0)
		return rc;
	uint64_t *hashes = booking_calloc(n, sizeof *hashes);
	lk_entry **fresh = booking_calloc(n, sizeof *fresh);
	if (!hashes || !fresh) {
		booking_free(hashes);
		booking_free(fresh);
		return booking_error_oom();
	}
	int64_t now = now_ms(lm);
	pthread_mutex_lock(&lm->mu);
	maybe_sweep(lm, now);
	rc = acquire_locked(lm, keys, n, owner, now, now + ttl_ms, hashes, fresh);
	pthread_mutex_unlock(&lm->mu);
	for (size_t i = 0; i < n; i++)
		booking_free(fresh[i]);
	booking_free(fresh);
	booking_free(hashes);
	return rc;
}

static int lk_release_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner)
{
	mem_locks *lm = (mem_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0)
		return rc;
	int64_t now = now_ms(lm);
	pthread_mutex_lock(&lm->mu);
	for (size_t i = 0; i < n; i++) {
		size_t at = map_find(&lm->keys, keys[i], hash_str(keys[i]));
		if (at != SIZE_MAX && strcmp(lm->keys.slots[at]->owner, owner) == 0)
			map_remove_at(&lm->keys, at);
	}
	maybe_sweep(lm, now);
	pthread_mutex_unlock(&lm->mu);
	return 0;
}

static int lk_extend(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                     int64_t ttl_ms)
{
	mem_locks *lm = (mem_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0)
		return rc;
	int64_t now = now_ms(lm);
	pthread_mutex_lock(&lm->mu);
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t at = map_find(&lm->keys, keys[i], hash_str(keys[i]));
		const lk_entry *e = at == SIZE_MAX ? NULL : lm->keys.slots[at];
		if (!e || e->expires_at <= now || strcmp(e->owner, owner) != 0)
			rc = booking_error_set(BOOKING_ELOCKED, NULL, "lock %s is not held by this owner", keys[i]);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t at = map_find(&lm->keys, keys[i], hash_str(keys[i]));
		lm->keys.slots[at]->expires_at = now + ttl_ms;
	}
	pthread_mutex_unlock(&lm->mu);
	return rc;
}

static void lk_free(booking_lock_manager *base)
{
	mem_locks *lm = (mem_locks *)base;
	if (!lm)
		return;
	for (size_t i = 0; i < lm->keys.cap; i++)
		booking_free(lm->keys.slots[i]);
	booking_free(lm->keys.slots);
	pthread_mutex_destroy(&lm->mu);
	booking_free(lm);
}

int booking__memory_lock_manager_new(booking_lock_manager **out, const booking_clock *clock)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "lock manager: out is required");
	*out = NULL;
	mem_locks *lm = booking_calloc(1, sizeof *lm);
	if (!lm)
		return booking_error_oom();
	if (pthread_mutex_init(&lm->mu, NULL) != 0) {
		booking_free(lm);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "lock manager: cannot create a mutex");
	}
	lm->clock = clock ? clock : booking_clock_system();
	lm->parent.version = BOOKING_LOCK_MANAGER_VERSION;
	lm->parent.free = lk_free;
	lm->parent.acquire_all = lk_acquire_all;
	lm->parent.release_all = lk_release_all;
	lm->parent.extend = lk_extend;
	*out = &lm->parent;
	return 0;
}
