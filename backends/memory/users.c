/*
 * Memory store — users and token revocations (store version 2).
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

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
