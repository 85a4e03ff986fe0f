/*
 * Memory store — users and token revocations (store version 2), kv records (store version 7).
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Users and token revocations (store version 2). A user's password hash is
 * the one mutable part of its row: a fixed buffer, so replacing it cannot
 * fail. Revocations are the one table that shrinks: a revocation is kept
 * until the token expires, then purged by the next revoke.
 * ------------------------------------------------------------------------ */

#define MEM_HASH_SIZE 256
#define MEM_JTI_SIZE 129

typedef struct mem_user {
	booking_user rec; /* rec.email lives in the same block, after the struct */
	char hash[MEM_HASH_SIZE];
} mem_user;

/* A revocation, its jti in the same block (mem_pack). */
typedef struct mem_revoked {
	char *jti;
	int64_t expires_at;
} mem_revoked;

static int user_out(const mem_user *u, booking_user **out, char **hash_out)
{
	char *hash = hash_out ? booking_strdup(u->hash) : NULL;
	int rc = hash_out && !hash ? booking_error_oom() : booking_user_copy(out, &u->rec);
	if (rc < 0)
		booking_free(hash);
	else if (hash_out)
		*hash_out = hash;
	return rc;
}

static int user_insert(booking_store *base, const booking_store_user_insert *req)
{
	mem_store *st = mem_impl(base);
	if (!req || !req->user || !req->user->email || !req->password_hash || !req->event)
		return mem_missing_arg("user, email, password hash and event");
	if (strlen(req->password_hash) >= MEM_HASH_SIZE)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: password hash too long");
	static const size_t off[1] = {offsetof(mem_user, rec.email)};
	const char *strs[1] = {req->user->email};
	mem_user *u = mem_pack(sizeof *u, 1, strs, off, false);
	if (!u)
		return booking_error_oom();
	char *email = u->rec.email;
	u->rec = *req->user;
	u->rec.email = email;
	mem_copy_text(u->hash, sizeof u->hash, req->password_hash);
	pthread_mutex_lock(&st->mu);
	int rc = 0;
	if (mem_find(&st->users, u->rec.id) || map_get(&st->users_by_email, email, NULL))
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "a user with this id or email exists");
	else if (mem_table_reserve(&st->users, 1) < 0 || map_reserve(&st->users_by_email, 1) < 0)
		rc = booking_error_oom();
	else if ((rc = mem_ev_batch_prepare(st, req->event, 1)) == 0) {
		mem_table_add(&st->users, u->rec.id, u);
		map_put(&st->users_by_email, u->rec.email, u);
		mem_ev_batch_commit(st, 1);
		u = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	booking_free(u);
	return rc;
}

static int user_lookup(booking_store *base, const char *id, const char *email, booking_user **out, char **hash_out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	if (hash_out)
		*hash_out = NULL;
	pthread_mutex_lock(&st->mu);
	const mem_user *u =
		id ? mem_find(&st->users, id) : email ? map_get(&st->users_by_email, email, NULL) : NULL;
	int rc = u ? user_out(u, out, hash_out) : booking_error_set(BOOKING_ENOTFOUND, NULL, "user not found");
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int user_get(booking_user **out, char **password_hash_out, booking_store *base, const char *id)
{
	if (!id)
		return mem_missing_arg("id");
	return user_lookup(base, id, NULL, out, password_hash_out);
}

static int user_get_by_email(booking_user **out, char **password_hash_out, booking_store *base, const char *email)
{
	if (!email)
		return mem_missing_arg("email");
	return user_lookup(base, NULL, email, out, password_hash_out);
}

static int user_set_password_hash(booking_store *base, const char *id, const char *expected_hash,
                               const char *new_hash, int64_t now)
{
	mem_store *st = mem_impl(base);
	if (!id || !new_hash)
		return mem_missing_arg("id and new hash");
	if (strlen(new_hash) >= MEM_HASH_SIZE)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: password hash too long");
	pthread_mutex_lock(&st->mu);
	mem_user *u = mem_find(&st->users, id);
	int rc = 0;
	if (!u)
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "user not found");
	else if (expected_hash && strcmp(u->hash, expected_hash) != 0)
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "the password hash changed meanwhile");
	else {
		mem_copy_text(u->hash, sizeof u->hash, new_hash);
		u->rec.updated_at = now;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static bool revocation_over(const void *r, const void *now)
{
	return ((const mem_revoked *)r)->expires_at <= *(const int64_t *)now;
}

static int token_revoke(booking_store *base, const char *jti, int64_t expires_at, int64_t now)
{
	mem_store *st = mem_impl(base);
	if (!jti || !*jti || strlen(jti) >= MEM_JTI_SIZE)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: jti must be 1..128 bytes");
	static const size_t off[1] = {offsetof(mem_revoked, jti)};
	pthread_mutex_lock(&st->mu);
	booking__strmap_sweep(&st->revoked, revocation_over, &now); /* purge the expired ones first */
	mem_revoked *r = map_get(&st->revoked, jti, NULL);
	int rc = 0;
	if (r) {
		if (expires_at > r->expires_at)
			r->expires_at = expires_at;
	} else if (expires_at > now) {
		if (!(r = mem_pack(sizeof *r, 1, &jti, off, false)) || map_reserve(&st->revoked, 1) < 0) {
			booking_free(r);
			rc = booking_error_oom();
		} else {
			r->expires_at = expires_at;
			map_put(&st->revoked, r->jti, r);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int token_is_revoked(bool *revoked_out, booking_store *base, const char *jti, int64_t now)
{
	mem_store *st = mem_impl(base);
	if (!jti || !revoked_out)
		return mem_missing_arg("jti and revoked_out");
	pthread_mutex_lock(&st->mu);
	const mem_revoked *r = map_get(&st->revoked, jti, NULL);
	*revoked_out = r && r->expires_at > now;
	pthread_mutex_unlock(&st->mu);
	return 0;
}

const booking_store_users mem_store_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = user_insert,
	.user_get = user_get,
	.user_get_by_email = user_get_by_email,
	.user_set_password_hash = user_set_password_hash,
	.token_revoke = token_revoke,
	.token_is_revoked = token_is_revoked,
};

/* ------------------------------------------------------------------------
 * kv records (store version 7). A put replaces its record's block whole
 * (or deletes it), so the reads copy what they hand out under the lock.
 * ------------------------------------------------------------------------ */

/* A record, its strings in its block (mem_pack, keyed): id is ns "\n" key, the index's key. */
typedef struct mem_kv {
	char *id;
	char *key;
	booking_store_kv_record rec;
} mem_kv;

static mem_kv *kv_pack(const char *ns, const char *key, const char *value)
{
	static const size_t off[3] = {offsetof(mem_kv, id), offsetof(mem_kv, key), offsetof(mem_kv, rec.value)};
	const char *strs[3] = {ns, key, value};
	return mem_pack(sizeof(mem_kv), 3, strs, off, true);
}

static bool kv_live(const mem_kv *r, int64_t now)
{
	return r->rec.expires_at == 0 || r->rec.expires_at > now;
}

static int kv_check(const char *ns, const char *key)
{
	size_t n = ns ? strlen(ns) : 0, k = key ? strlen(key) : 0;
	if (n < 1 || n > 64 || k < 1 || k > 200 || strchr(ns, '\n'))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: kv namespace 1..64, key 1..200 bytes");
	return 0;
}

static int kv_get(booking_store_kv_record *out, booking_store *base, const char *ns, const char *key, int64_t now)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	memset(out, 0, sizeof *out);
	int rc = kv_check(ns, key);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->mu);
	const mem_kv *r = map_get(&st->kv, ns, key);
	if (!r || !kv_live(r, now))
		rc = booking_store_not_found(BOOKING_ENOTFOUND);
	else if (!(out->value = booking_strdup(r->rec.value)))
		rc = booking_error_oom();
	else
		*out = (booking_store_kv_record){out->value, r->rec.version, r->rec.rank, r->rec.expires_at};
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/* Delete at most 32 expired records in the next 64 slots of the index (from where the last purge stopped). */
static void kv_purge(mem_store *st, int64_t now)
{
	map *m = &st->kv;
	for (size_t seen = 0, gone = 0; m->cap && seen < 64 && gone < 32; seen++) {
		size_t i = st->kv_sweep++ & (m->cap - 1);
		mem_kv *r = m->slots[i].key ? m->slots[i].val : NULL;
		if (r && !kv_live(r, now)) {
			booking__strmap_remove_at(m, i); /* a later entry may move into slot i: look at it again */
			booking_free(r);
			st->kv_sweep = i;
			gone++;
		}
	}
}

static int kv_put(int64_t *version_out, booking_store *base, const booking_store_kv_put *req)
{
	mem_store *st = mem_impl(base);
	if (!req)
		return mem_missing_arg("req");
	int rc = kv_check(req->ns, req->key);
	if (rc == 0 && req->value && strlen(req->value) > 4096)
		rc = booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: a kv value is at most 4096 bytes");
	mem_kv *fresh = rc == 0 && req->value ? kv_pack(req->ns, req->key, req->value) : NULL;
	if (rc < 0 || (req->value && !fresh))
		return rc < 0 ? rc : booking_error_oom();
	pthread_mutex_lock(&st->mu);
	kv_purge(st, req->now);
	mem_kv *old = map_get(&st->kv, req->ns, req->key);
	int64_t version = old && kv_live(old, req->now) ? old->rec.version : 0;
	if (version != req->expected_version)
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "kv record %s/%s is at version %lld", req->ns,
		                       req->key, (long long)version);
	else if (fresh && map_reserve(&st->kv, 1) < 0)
		rc = booking_error_oom();
	else if ((rc = mem_ev_batch_prepare(st, req->events, req->event_count)) == 0) {
		if (old)
			booking_free(booking__strmap_remove(&st->kv, booking__strmap_hash(old->id, NULL), old->id, NULL));
		version = fresh ? version + 1 : 0;
		if (fresh) {
			fresh->rec = (booking_store_kv_record){fresh->rec.value, version, req->rank, req->expires_at};
			map_put(&st->kv, fresh->id, fresh);
			fresh = NULL;
		}
		mem_ev_batch_commit(st, req->event_count);
	}
	pthread_mutex_unlock(&st->mu);
	booking_free(fresh);
	if (version_out)
		*version_out = version;
	return rc;
}

static int kv_cmp(const void *a, const void *b)
{
	const mem_kv *x = *(const mem_kv *const *)a, *y = *(const mem_kv *const *)b;
	return mem_cmp_at(x->rec.rank, y->rec.rank, x->key, y->key);
}

static int kv_list(booking_store *base, const char *ns, int64_t now, size_t max, booking_store_kv_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	int rc = kv_check(ns, "-");
	size_t n = 0, nlen = ns ? strlen(ns) : 0;
	pthread_mutex_lock(&st->mu);
	mem_kv **rows = rc == 0 && st->kv.count ? booking_calloc(st->kv.count, sizeof *rows) : NULL;
	for (size_t i = 0; rows && i < st->kv.cap; i++) { /* the live records of ns, then sorted, then copied */
		mem_kv *r = st->kv.slots[i].key ? st->kv.slots[i].val : NULL;
		if (r && kv_live(r, now) && strncmp(r->id, ns, nlen) == 0 && r->id[nlen] == '\n')
			rows[n++] = r;
	}
	if (rc == 0 && st->kv.count && !rows)
		rc = booking_error_oom();
	if (n > 1)
		qsort(rows, n, sizeof *rows, kv_cmp);
	n = n < max ? n : max;
	for (size_t i = 0; i < n; i++) { /* rows[0..n) become copies: the callbacks run without the lock */
		mem_kv *r = rows[i], *copy = kv_pack(ns, r->key, r->rec.value);
		if (!copy) {
			n = i;
			rc = booking_error_oom();
			break;
		}
		*copy = (mem_kv){copy->id, copy->key, {copy->rec.value, r->rec.version, r->rec.rank, r->rec.expires_at}};
		rows[i] = copy;
	}
	pthread_mutex_unlock(&st->mu);
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(rows[i]->key, &rows[i]->rec, payload);
	for (size_t i = 0; i < n; i++)
		booking_free(rows[i]);
	booking_free(rows);
	return rc;
}

const booking_store_kv mem_store_kv = {
	.version = BOOKING_STORE_KV_VERSION,
	.kv_get = kv_get,
	.kv_put = kv_put,
	.kv_list = kv_list,
};
