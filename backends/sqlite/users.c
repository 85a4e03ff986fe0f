/*
 * SQLite store — users and token revocations (store version 2, schema
 * version 2): the tables `users` (email unique) and `revoked_tokens`.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "sqlite_store.h"

static const char SQL_USER_INSERT[] =
	"INSERT INTO users (id, email, role, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char SQL_USER_HASH[] = "SELECT password_hash FROM users WHERE id = ?1";
static const char SQL_USER_SET_HASH[] = "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1";
static const char SQL_REVOKED_PURGE[] = "DELETE FROM revoked_tokens WHERE expires_at <= ?1";
static const char SQL_REVOKE[] =
	"INSERT INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2)"
	" ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)";

static int user_insert_tx(sq_conn *c, void *arg)
{
	const booking_store_user_insert *req = arg;
	const booking_user *u = req->user;
	int rc = sq_run(c, SQL_USER_INSERT, "ttitii", u->id, u->email, (int64_t)u->role, req->password_hash,
	                u->created_at, u->updated_at);

	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "a user with this id or email exists");
	if (rc == 0)
		rc = sq_event_insert(c, req->event);
	return rc;
}

int sq_user_insert(booking_store *st, const booking_store_user_insert *req)
{
	if (req == NULL || req->user == NULL || req->user->email == NULL || req->password_hash == NULL ||
	    req->event == NULL)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite: user, email, hash and event are required");
	return sq_write((sq_store *)st, user_insert_tx, (void *)(uintptr_t)req);
}

struct set_hash_arg {
	const char *id, *expected, *fresh;
	int64_t now;
};

static int set_hash_tx(sq_conn *c, void *arg)
{
	struct set_hash_arg *a = arg;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_USER_HASH, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", a->id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_DONE)
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "user not found");
	else if (rc == SQLITE_ROW)
		rc = a->expected != NULL && strcmp(sq_col_text(s, 0), a->expected) != 0
		         ? booking_error_set(BOOKING_EINVALID_STATE, NULL, "the password hash changed meanwhile")
		         : 0;
	sqlite3_reset(s);
	if (rc == 0)
		rc = sq_run(c, SQL_USER_SET_HASH, "tti", a->id, a->fresh, a->now);
	return rc;
}

int sq_user_set_password_hash(booking_store *st, const char *id, const char *expected_hash, const char *new_hash,
                              int64_t now)
{
	struct set_hash_arg a = {id, expected_hash, new_hash, now};

	if (id == NULL || new_hash == NULL)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite: user id and hash are required");
	return sq_write((sq_store *)st, set_hash_tx, &a);
}

struct revoke_arg {
	const char *jti;
	int64_t expires_at, now;
};

static int revoke_tx(sq_conn *c, void *arg)
{
	struct revoke_arg *a = arg;
	int rc = sq_run(c, SQL_REVOKED_PURGE, "i", a->now);

	if (rc == 0 && a->expires_at > a->now)
		rc = sq_run(c, SQL_REVOKE, "ti", a->jti, a->expires_at);
	return rc;
}

int sq_token_revoke(booking_store *st, const char *jti, int64_t expires_at, int64_t now)
{
	struct revoke_arg a = {jti, expires_at, now};

	if (jti == NULL || jti[0] == '\0')
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite: jti is required");
	return sq_write((sq_store *)st, revoke_tx, &a);
}
