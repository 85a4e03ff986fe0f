/*
 * The SQL stores' writes, once for SQLite and PostgreSQL (sql.h), but hold
 * and apply (the hot paths, each store's own). Each is one write of
 * SQL_WRITES: one transaction, one round trip on PostgreSQL. Where a write
 * changed nothing, a read on that path only tells the core why.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sql/sql.h"

static int write(booking_store *bst, sql_qid q, const sql_arg *args, size_t n, int64_t *changed)
{
	sql_store *st = (sql_store *)bst;

	*changed = 0;
	return st->driver->write(st, q, args, n, changed);
}

static int exists_error(int rc, const char *what, const char *id)
{
	return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "%s %s already exists", what, id) : rc;
}

/* --- arrays ---------------------------------------------------------------------- */

/* An array's text, written at out + len (out NULL: only measured). */
struct buf {
	char *out;
	size_t len;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->out != NULL)
		memcpy(b->out + b->len, s, n);
	b->len += n;
}

/* s (len bytes) quoted: `"` and `\` escaped; a control character too in JSON (\u00XX), as it is in PostgreSQL. */
static void put_string(struct buf *b, const char *s, size_t len, bool pg)
{
	char esc[8];

	put(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			put(b, "\\", 1);
		if (ch < 0x20 && !pg)
			put(b, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch));
		else
			put(b, s + i, 1);
	}
	put(b, "\"", 1);
}

char *sql_array(const void *base, size_t n, size_t stride, size_t off, size_t max, char kind, bool pg)
{
	struct buf b = {NULL, 0};

	for (;;) { /* measures, allocates, then writes */
		b.len = 0;
		put(&b, pg ? "{" : "[", 1);
		for (size_t i = 0; i < n; i++) {
			const char *rec = stride ? (const char *)base + i * stride : ((const char *const *)base)[i];
			const char *field = rec + off;
			const char *s = field;
			char num[24];
			int64_t v = 0;
			int e = 0;

			if (kind == 'p' || kind == 'j')
				memcpy(&s, field, sizeof s);
			if (s == NULL && kind == 'p' && !pg)
				continue;
			if (s == NULL)
				s = kind == 'j' ? "{}" : "";
			if (b.len > 1)
				put(&b, ",", 1);
			if (kind == 'e')
				memcpy(&e, field, sizeof e);
			if (kind == 'i')
				memcpy(&v, field, sizeof v);
			if (kind == 'i' || kind == 'e')
				put(&b, num, (size_t)snprintf(num, sizeof num, "%lld", kind == 'e' ? (long long)e : (long long)v));
			else
				put_string(&b, s, kind == 's' ? strnlen(s, max) : strlen(s), pg);
		}
		put(&b, pg ? "}" : "]", 2); /* with the terminating NUL */
		if (b.out != NULL)
			return b.out;
		if ((b.out = booking_malloc(b.len)) == NULL) {
			booking_error_oom();
			return NULL;
		}
	}
}

/* --- the catalog ----------------------------------------------------------------- */

int sql_movie_insert(booking_store *st, const booking_movie *m)
{
	int64_t changed;

	if (m == NULL)
		return sql_missing("movie");
	const sql_arg a[] = {SQL_T(m->id), SQL_E(m->title), SQL_I(m->duration_minutes), SQL_I(m->created_at)};
	return exists_error(write(st, SQLQ_MOVIE_INSERT, a, 4, &changed), "movie", m->id);
}

int sql_theater_insert(booking_store *st, const booking_theater *t)
{
	int64_t changed;

	if (t == NULL)
		return sql_missing("theater");
	const sql_arg a[] = {SQL_T(t->id), SQL_E(t->name), SQL_E(t->city), SQL_I(t->created_at)};
	return exists_error(write(st, SQLQ_THEATER_INSERT, a, 4, &changed), "theater", t->id);
}

int sql_screen_insert(booking_store *st, const booking_screen *s)
{
	int64_t changed = 0;
	bool theater = false;
	char *labels, *categories, *columns;
	int rc;

	if (s == NULL || (s->seat_count && s->seats == NULL))
		return sql_missing("screen and its seats");
	labels = sql_array(s->seats, s->seat_count, 0, offsetof(booking_seat, label), sizeof s->seats[0]->label - 1, 's',
	                   false);
	categories = sql_array(s->seats, s->seat_count, 0, offsetof(booking_seat, category),
	                       sizeof s->seats[0]->category - 1, 's', false);
	columns = sql_array(s->seats, s->seat_count, 0, offsetof(booking_seat, column), 0, 'e', false);
	if (labels == NULL || categories == NULL || columns == NULL) {
		rc = BOOKING_ENOMEM;
	} else {
		const sql_arg a[] = {SQL_T(s->id),  SQL_T(s->theater_id), SQL_E(s->name),    SQL_J(labels),
		                     SQL_J(categories), SQL_I(s->created_at), SQL_J(columns)};
		rc = exists_error(write(st, SQLQ_SCREEN_INSERT, a, 7, &changed), "screen", s->id);
	}
	booking_free(labels);
	booking_free(categories);
	booking_free(columns);
	if (rc != 0 || changed > 0)
		return rc;
	const sql_arg theater_id[] = {SQL_T(s->theater_id)};
	if ((rc = sql_first(st, SQLQ_THEATER_GET, theater_id, 1, &theater, NULL)) != 0)
		return rc;
	if (!theater)
		return booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}", "a seat label appears twice in the screen");
}

int sql_showtime_insert(booking_store *st, const booking_showtime *s)
{
	char currency[BOOKING_CURRENCY_SIZE];
	int64_t changed = 0;
	bool movie = false;
	char *categories, *amounts;
	int rc;

	if (s == NULL || (s->price_count && s->prices == NULL))
		return sql_missing("showtime and its prices");
	snprintf(currency, sizeof currency, "%.*s", (int)(sizeof currency - 1), s->currency);
	categories = sql_array(s->prices, s->price_count, 0, offsetof(booking_price, category),
	                       sizeof s->prices[0]->category - 1, 's', false);
	amounts = sql_array(s->prices, s->price_count, 0, offsetof(booking_price, amount), 0, 'i', false);
	if (categories == NULL || amounts == NULL) {
		rc = BOOKING_ENOMEM;
	} else {
		const sql_arg a[] = {SQL_T(s->id),          SQL_T(s->movie_id), SQL_T(s->screen_id),
		                     SQL_I(s->starts_at),   SQL_T(currency),    SQL_I(s->status),
		                     SQL_J(categories),     SQL_J(amounts),     SQL_I(s->created_at)};
		rc = exists_error(write(st, SQLQ_SHOWTIME_INSERT, a, 9, &changed), "showtime", s->id);
	}
	booking_free(categories);
	booking_free(amounts);
	if (rc != 0 || changed > 0)
		return rc;
	const sql_arg movie_id[] = {SQL_T(s->movie_id)};
	if ((rc = sql_first(st, SQLQ_MOVIE_GET, movie_id, 1, &movie, NULL)) != 0)
		return rc;
	return booking_store_not_found(movie ? BOOKING_ESCREEN_NOT_FOUND : BOOKING_EMOVIE_NOT_FOUND);
}

/* --- the outbox and its consumers ----------------------------------------------- */

int sql_outbox_mark_published(booking_store *st, const char *const *event_ids, size_t n)
{
	int64_t changed;
	char *ids;
	int rc;

	if (n == 0 || event_ids == NULL)
		return 0;
	if ((ids = sql_array(event_ids, n, sizeof *event_ids, 0, 0, 'p', false)) == NULL)
		return BOOKING_ENOMEM;
	const sql_arg a[] = {SQL_J(ids)};
	rc = write(st, SQLQ_OUTBOX_MARK, a, 1, &changed);
	booking_free(ids);
	return rc;
}

int sql_cursor_advance(booking_store *st, const char *group, int64_t expected, int64_t position)
{
	const sql_arg a[] = {SQL_T(group), SQL_I(expected), SQL_I(position)};
	int64_t changed = 0, at = 0;
	int rc;

	if (group == NULL)
		return sql_missing("group");
	if ((rc = write(st, SQLQ_CURSOR_ADVANCE, a, 3, &changed)) != 0 || changed > 0)
		return rc;
	if ((rc = sql_cursor_get(&at, st, group)) != 0)
		return rc;
	return booking_error_set(BOOKING_EINVALID_STATE, NULL, "cursor of %s is at %lld, not %lld", group, (long long)at,
	                         (long long)expected);
}

int sql_inbox_mark(booking_store *st, const char *group, const char *event_id, int64_t now)
{
	const sql_arg a[] = {SQL_T(group), SQL_T(event_id), SQL_I(now)};
	int64_t changed = 0;
	int rc;

	if (group == NULL || event_id == NULL)
		return sql_missing("group and event_id");
	if ((rc = write(st, SQLQ_INBOX_MARK, a, 3, &changed)) != 0 || changed > 0)
		return rc;
	return booking_error_set(BOOKING_EEXISTS, NULL, "event %s was already applied by %s", event_id, group);
}

int sql_dead_letter_put(booking_store *st, const char *group, const char *event_id, const char *reason,
                        const char *envelope_json, int64_t now)
{
	const sql_arg a[] = {SQL_T(group), SQL_T(event_id), SQL_E(reason), SQL_E(envelope_json), SQL_I(now)};
	int64_t changed;

	if (group == NULL || event_id == NULL)
		return sql_missing("group and event_id");
	return write(st, SQLQ_DEAD_LETTER_PUT, a, 5, &changed);
}

/* --- users and tokens --------------------------------------------------------------- */

int sql_user_insert(booking_store *st, const booking_store_user_insert *req)
{
	int64_t changed;
	int rc;

	if (req == NULL || req->user == NULL || req->user->email == NULL || req->password_hash == NULL ||
	    req->event == NULL)
		return sql_missing("user, email, password hash and event");
	const booking_user *u = req->user;
	const booking_event_record *e = req->event;
	const sql_arg a[] = {SQL_T(u->id),           SQL_T(u->email),         SQL_I(u->role),
	                     SQL_T(req->password_hash), SQL_I(u->created_at), SQL_I(u->updated_at),
	                     SQL_T(e->id),           SQL_E(e->type),          SQL_E(e->aggregate_type),
	                     SQL_T(e->aggregate_id), SQL_I(e->occurred_at),   SQL_E(e->correlation_id),
	                     SQL_E(e->traceparent),  SQL_T(e->data_json ? e->data_json : "{}")};
	rc = write(st, SQLQ_USER_INSERT, a, 14, &changed);
	if (rc == BOOKING_EEXISTS) /* the id or the address is taken (or the event's id) */
		return booking_error_set(rc, NULL, "a user with this id or email exists");
	return rc;
}

int sql_user_set_password_hash(booking_store *st, const char *id, const char *expected_hash, const char *new_hash,
                               int64_t now)
{
	const sql_arg a[] = {SQL_T(id), SQL_T(expected_hash), SQL_T(new_hash), SQL_I(now)};
	int64_t changed = 0;
	bool user = false;
	int rc;

	if (id == NULL || new_hash == NULL)
		return sql_missing("user id and hash");
	if ((rc = write(st, SQLQ_USER_SET_HASH, a, 4, &changed)) != 0 || changed > 0)
		return rc;
	if ((rc = sql_first(st, SQLQ_USER_GET, a, 1, &user, NULL)) != 0)
		return rc;
	if (!user)
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "user not found");
	return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the password hash changed meanwhile");
}

int sql_token_revoke(booking_store *st, const char *jti, int64_t expires_at, int64_t now)
{
	const sql_arg a[] = {SQL_T(jti), SQL_I(expires_at), SQL_I(now)};
	int64_t changed;

	if (jti == NULL || jti[0] == '\0')
		return sql_missing("jti");
	return write(st, SQLQ_TOKEN_REVOKE, a, 3, &changed);
}

/* --- the kv group ------------------------------------------------------------------- */

int sql_kv_put(int64_t *version_out, booking_store *bst, const booking_store_kv_put *req)
{
	sql_store *st = (sql_store *)bst;
	bool written = false;
	int64_t live = 0;
	int rc;

	if (version_out != NULL)
		*version_out = 0;
	if (req == NULL || req->ns == NULL || req->key == NULL || (req->event_count && req->events == NULL))
		return sql_missing("a put's namespace, key and events");
	if ((rc = st->driver->kv_put(st, req, &written, &live)) != 0)
		return rc;
	if (version_out != NULL)
		*version_out = live;
	if (written)
		return 0;
	return booking_error_set(BOOKING_EINVALID_STATE, NULL, "record %s/%s is at version %lld, not %lld", req->ns,
	                         req->key, (long long)live, (long long)req->expected_version);
}
