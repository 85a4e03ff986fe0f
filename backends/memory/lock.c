/*
 * libbooking — the `memory:` lock manager: keys → (owner, expires_at) in a
 * hash table behind one mutex. Time comes from the injected clock, so a
 * test moves a TTL forward without sleeping. Expired entries are swept
 * out now and then (amortised O(1) per call) so they do not accumulate.
 * Registers (version 2) are entries of a map of their own: key → value.
 * settle (version 3) hands a live key to a new owner with a fresh TTL.
 *
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdio.h>

/* A held key, or a register (its value as owner): key and owner in one block (mem_pack), the index borrows the key. */
typedef struct lk_entry {
	int64_t expires_at;
	char *key;
	char *owner;
} lk_entry;

typedef struct mem_locks {
	booking_lock_manager parent;
	pthread_mutex_t mu;
	const booking_clock *clock;
	booking__strmap keys; /* lk_entry by key */
	booking__strmap regs; /* lk_entry by register key: apart from the locks */
	size_t ops_since_sweep;
} mem_locks;

static bool expired(const void *entry, const void *now)
{
	return ((const lk_entry *)entry)->expires_at <= *(const int64_t *)now;
}

/* Sweep out the expired entries once the calls since the last sweep outnumber the entries: amortised O(1). */
static void maybe_sweep(mem_locks *lm, int64_t now)
{
	if (++lm->ops_since_sweep < 64 || lm->ops_since_sweep < lm->keys.count + lm->regs.count)
		return;
	booking__strmap_sweep(&lm->keys, expired, &now);
	booking__strmap_sweep(&lm->regs, expired, &now);
	lm->ops_since_sweep = 0;
}

static lk_entry *entry_new(const char *key, const char *owner, int64_t expires_at)
{
	static const size_t off[2] = {offsetof(lk_entry, key), offsetof(lk_entry, owner)};
	const char *strs[2] = {key, owner};
	lk_entry *e = mem_pack(sizeof *e, 2, strs, off, false);
	if (e)
		e->expires_at = expires_at;
	return e;
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

/* Who stood in the way of an acquire (acquire_all_why): the key's index and its owner's token. */
typedef struct lk_blocker {
	size_t *index;
	char *owner;
	size_t owner_size;
} lk_blocker;

static int acquire_locked(mem_locks *lm, const char *const *keys, size_t n, const char *owner, int64_t now,
                          int64_t expires_at, lk_entry **fresh, const lk_blocker *why)
{
	booking__strmap *m = &lm->keys;
	for (size_t i = 0; i < n; i++) {
		const lk_entry *e = booking__strmap_get(m, keys[i], NULL);
		if (e && e->expires_at > now && strcmp(e->owner, owner) != 0) {
			if (why && why->index)
				*why->index = i;
			if (why && why->owner && why->owner_size)
				snprintf(why->owner, why->owner_size, "%s", e->owner);
			return booking_error_set(BOOKING_ELOCKED, NULL, "lock %s is held by another owner", keys[i]);
		}
	}
	/* allocate first: after this point nothing can fail */
	for (size_t i = 0; i < n; i++) {
		fresh[i] = entry_new(keys[i], owner, expires_at);
		if (!fresh[i])
			return booking_error_oom();
	}
	if (booking__strmap_reserve(m, n) < 0)
		return booking_error_oom();
	for (size_t i = 0; i < n; i++) {
		uint64_t h = booking__strmap_hash(keys[i], NULL);
		lk_entry *e = booking__strmap_get_hashed(m, h, keys[i], NULL);
		if (e && strcmp(e->owner, owner) == 0) {
			e->expires_at = expires_at; /* ours (or a repeated key): refresh */
			continue;
		}
		if (e) { /* another owner's, expired: take it over */
			booking__strmap_remove(m, h, keys[i], NULL);
			booking_free(e);
		}
		booking__strmap_put_hashed(m, h, fresh[i]->key, fresh[i]);
		fresh[i] = NULL;
	}
	return 0;
}

static int acquire(mem_locks *lm, const char *const *keys, size_t n, const char *owner, int64_t ttl_ms,
                   const lk_blocker *why)
{
	int rc = check_args(keys, n, owner);
	if (rc < 0 || n == 0)
		return rc;
	lk_entry **fresh = booking_calloc(n, sizeof *fresh);
	if (!fresh)
		return booking_error_oom();
	int64_t now = lm->clock->now_ms(lm->clock);
	pthread_mutex_lock(&lm->mu);
	maybe_sweep(lm, now);
	rc = acquire_locked(lm, keys, n, owner, now, now + ttl_ms, fresh, why);
	pthread_mutex_unlock(&lm->mu);
	for (size_t i = 0; i < n; i++)
		booking_free(fresh[i]);
	booking_free(fresh);
	return rc;
}

static int lk_acquire_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                          int64_t ttl_ms)
{
	return acquire((mem_locks *)base, keys, n, owner, ttl_ms, NULL);
}

static int lk_acquire_all_why(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                              int64_t ttl_ms, size_t *blocked_out, char *blocker_out, size_t blocker_size)
{
	lk_blocker why = {blocked_out, blocker_out, blocker_size};
	return acquire((mem_locks *)base, keys, n, owner, ttl_ms, &why);
}

/* Hand the live keys `owner` holds to `new_owner` with a fresh TTL: a new entry each (key and owner share a block). */
static int lk_settle(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                     const char *new_owner, int64_t ttl_ms)
{
	mem_locks *lm = (mem_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0)
		return rc;
	if (!new_owner || ttl_ms <= 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "lock manager: settle needs a new owner and a ttl > 0");
	if (n == 0)
		return 0;
	lk_entry **fresh = booking_calloc(n, sizeof *fresh);
	if (!fresh)
		return booking_error_oom();
	int64_t now = lm->clock->now_ms(lm->clock);
	for (size_t i = 0; i < n && rc == 0; i++)
		if (!(fresh[i] = entry_new(keys[i], new_owner, now + ttl_ms)))
			rc = booking_error_oom();
	pthread_mutex_lock(&lm->mu);
	if (rc == 0 && booking__strmap_reserve(&lm->keys, n) < 0)
		rc = booking_error_oom();
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t h = booking__strmap_hash(keys[i], NULL);
		lk_entry *e = booking__strmap_get_hashed(&lm->keys, h, keys[i], NULL);
		if (!e || e->expires_at <= now || strcmp(e->owner, owner) != 0)
			continue; /* another owner's, lapsed or absent (or a repeated key, already handed over) */
		booking__strmap_remove(&lm->keys, h, keys[i], NULL);
		booking_free(e);
		booking__strmap_put_hashed(&lm->keys, h, fresh[i]->key, fresh[i]);
		fresh[i] = NULL;
	}
	maybe_sweep(lm, now);
	pthread_mutex_unlock(&lm->mu);
	for (size_t i = 0; i < n; i++)
		booking_free(fresh[i]);
	booking_free(fresh);
	return rc;
}

static int lk_release_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner)
{
	mem_locks *lm = (mem_locks *)base;
	int rc = check_args(keys, n, owner);
	if (rc < 0)
		return rc;
	int64_t now = lm->clock->now_ms(lm->clock);
	pthread_mutex_lock(&lm->mu);
	for (size_t i = 0; i < n; i++) {
		uint64_t h = booking__strmap_hash(keys[i], NULL);
		lk_entry *e = booking__strmap_get_hashed(&lm->keys, h, keys[i], NULL);
		if (e && strcmp(e->owner, owner) == 0) {
			booking__strmap_remove(&lm->keys, h, keys[i], NULL);
			booking_free(e);
		}
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
	int64_t now = lm->clock->now_ms(lm->clock);
	pthread_mutex_lock(&lm->mu);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const lk_entry *e = booking__strmap_get(&lm->keys, keys[i], NULL);
		if (!e || e->expires_at <= now || strcmp(e->owner, owner) != 0)
			rc = booking_error_set(BOOKING_ELOCKED, NULL, "lock %s is not held by this owner", keys[i]);
	}
	for (size_t i = 0; i < n && rc == 0; i++)
		((lk_entry *)booking__strmap_get(&lm->keys, keys[i], NULL))->expires_at = now + ttl_ms;
	pthread_mutex_unlock(&lm->mu);
	return rc;
}

static int lk_register_swap(char **current_out, booking_lock_manager *base, const char *key, const char *expected,
                            const char *value, int64_t ttl_ms)
{
	mem_locks *lm = (mem_locks *)base;
	if (current_out)
		*current_out = NULL;
	if (!key || !*key || strlen(key) > 255 || !value || strlen(value) > 64 || ttl_ms <= 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "lock manager: a register needs a key of 1..255 bytes, "
		                                                    "a value of at most 64 and a ttl > 0");
	int64_t now = lm->clock->now_ms(lm->clock);
	lk_entry *fresh = entry_new(key, value, now + ttl_ms);
	if (!fresh)
		return booking_error_oom();
	int rc = 0;
	uint64_t h = booking__strmap_hash(key, NULL);
	pthread_mutex_lock(&lm->mu);
	maybe_sweep(lm, now);
	lk_entry *e = booking__strmap_get_hashed(&lm->regs, h, key, NULL);
	const char *cur = e && e->expires_at > now ? e->owner : NULL;
	if (cur ? !expected || strcmp(cur, expected) != 0 : expected != NULL) {
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "register %s does not have the value expected", key);
		if (current_out && cur && !(*current_out = booking_strdup(cur)))
			rc = booking_error_oom();
	} else if (booking__strmap_reserve(&lm->regs, 1) < 0) {
		rc = booking_error_oom();
	} else {
		booking_free(booking__strmap_remove(&lm->regs, h, key, NULL)); /* its old value, if any */
		booking__strmap_put_hashed(&lm->regs, h, fresh->key, fresh);
		fresh = NULL;
	}
	pthread_mutex_unlock(&lm->mu);
	booking_free(fresh);
	return rc;
}

static void lk_free(booking_lock_manager *base)
{
	mem_locks *lm = (mem_locks *)base;
	if (!lm)
		return;
	booking__strmap_free_all(&lm->keys);
	booking__strmap_free_all(&lm->regs);
	pthread_mutex_destroy(&lm->mu);
	booking_free(lm);
}

int booking__memory_lock_manager_new(booking_lock_manager **out, const booking_clock *clock)
{
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
	lm->parent.register_swap = lk_register_swap;
	lm->parent.acquire_all_why = lk_acquire_all_why;
	lm->parent.settle = lk_settle;
	*out = &lm->parent;
	return 0;
}
