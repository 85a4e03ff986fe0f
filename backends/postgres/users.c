/*
 * PostgreSQL store — users and token revocations (store version 2, schema
 * version 2: the tables `users` and `revoked_tokens` and the functions
 * booking_user_insert, booking_user_set_hash and booking_token_revoke).
 *
 * As everywhere in this store, each write is one function call in one
 * round trip; a write whose reply was lost is settled by looking for what
 * it wrote.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_USER_INSERT = {PGQ_USER_INSERT, 14,
	"SELECT booking_user_insert($1, $2, $3::smallint, $4, $5::bigint, $6::bigint, $7::text[], $8::text[],"
	" $9::text[], $10::text[], $11::bigint[], $12::text[], $13::text[], $14::text[])"};
static const pg_query Q_USER_EXISTS = {PGQ_USER_EXISTS, 1, "SELECT 1 FROM users WHERE id = $1"};
static const pg_query Q_USER_SET_HASH = {PGQ_USER_SET_HASH, 4,
	"SELECT booking_user_set_hash($1, $2, $3, $4::bigint)"};
static const pg_query Q_USER_HASH_IS = {PGQ_USER_HASH_IS, 2,
	"SELECT 1 FROM users WHERE id = $1 AND password_hash = $2"};
static const pg_query Q_TOKEN_REVOKE = {PGQ_TOKEN_REVOKE, 3,
	"SELECT booking_token_revoke($1, $2::bigint, $3::bigint)"};
/* settling a lost revoke: the row is there with at least that expiry (or it was already dead) */
static const pg_query Q_TOKEN_REVOKED_UNTIL = {PGQ_TOKEN_REVOKED_UNTIL, 2,
	"SELECT 1 FROM revoked_tokens WHERE jti = $1 AND expires_at >= $2::bigint"};

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: %s is required", what);
}

/* 1, 0 or an error: does `q` with parameters a (text) and b (text) or bi (bigint), when given, return a row? */
static int exists2(pg_conn *c, const pg_query *q, const char *a, const char *b, const int64_t *bi)
{
	pg_params p;
	pp_init(&p);
	pp_text(&p, a);
	if (bi)
		pp_i64(&p, *bi);
	else if (b)
		pp_text(&p, b);
	int rc = pg_exists(c, q, &p);
	pp_free(&p);
	return rc;
}

static int user_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const booking_store_user_insert *req = arg;
	/* the user and its event commit together: either one tells */
	return exists2(c, &Q_USER_EXISTS, req->user->id, NULL, NULL);
}

int pg_user_insert(booking_store *base, const booking_store_user_insert *req)
{
	if (!req || !req->user || !req->user->email || !req->password_hash || !req->event)
		return missing("user, email, password hash and event");
	const booking_user *u = req->user;
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, u->id);
	pp_text(&p, u->email);
	pp_i64(&p, (int64_t)u->role);
	pp_text(&p, req->password_hash);
	pp_i64(&p, u->created_at);
	pp_i64(&p, u->updated_at);
	pp_events(&p, req->event, 1);
	int rc = pg_run(pg_impl(base), &Q_USER_INSERT, &p, &r, user_committed, req);
	pp_free(&p);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc == BOOKING_EEXISTS) /* a concurrent insert of the same address won the unique index */
		return booking_error_set(rc, NULL, "a user with this id or email exists");
	if (rc < 0)
		return rc;
	int code = PQntuples(r) == 1 ? (int)pg_i64(r, 0, 0) : BOOKING_EINTERNAL;
	PQclear(r);
	if (code == BOOKING_EEXISTS)
		return booking_error_set(code, NULL, "a user with this id or email exists");
	if (code != 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_user_insert answered %d", code);
	return 0;
}

struct set_hash_arg {
	const char *id, *fresh;
};

static int hash_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const struct set_hash_arg *a = arg;
	return exists2(c, &Q_USER_HASH_IS, a->id, a->fresh, NULL);
}

int pg_user_set_password_hash(booking_store *base, const char *id, const char *expected_hash, const char *new_hash,
                              int64_t now)
{
	if (!id || !new_hash)
		return missing("user id and hash");
	struct set_hash_arg a = {id, new_hash};
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, id);
	pp_text(&p, expected_hash);
	pp_text(&p, new_hash);
	pp_i64(&p, now);
	int rc = pg_run(pg_impl(base), &Q_USER_SET_HASH, &p, &r, hash_committed, &a);
	pp_free(&p);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc;
	int code = PQntuples(r) == 1 ? (int)pg_i64(r, 0, 0) : BOOKING_EINTERNAL;
	PQclear(r);
	switch (code) {
	case 0:
		return 0;
	case BOOKING_ENOTFOUND:
		return booking_error_set(code, NULL, "user not found");
	case BOOKING_EINVALID_STATE:
		return booking_error_set(code, NULL, "the password hash changed meanwhile");
	default:
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_user_set_hash answered %d", code);
	}
}

struct revoke_arg {
	const char *jti;
	int64_t expires_at, now;
};

static int revoke_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const struct revoke_arg *a = arg;
	if (a->expires_at <= a->now)
		return 1; /* nothing to keep: either way the outcome is the same */
	return exists2(c, &Q_TOKEN_REVOKED_UNTIL, a->jti, NULL, &a->expires_at);
}

int pg_token_revoke(booking_store *base, const char *jti, int64_t expires_at, int64_t now)
{
	if (!jti || !*jti)
		return missing("jti");
	struct revoke_arg a = {jti, expires_at, now};
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, jti);
	pp_i64(&p, expires_at);
	pp_i64(&p, now);
	int rc = pg_run(pg_impl(base), &Q_TOKEN_REVOKE, &p, &r, revoke_committed, &a);
	pp_free(&p);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc;
	PQclear(r);
	return 0;
}
