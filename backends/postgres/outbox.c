/*
 * PostgreSQL store — the outbox (relay and the store: transport), consumer
 * cursors, the inbox, dead letters, and the integrity scan.
 *
 * Outbox positions are given after commit by the readers themselves (see
 * booking_outbox_sequence() in schema.c for why and how): outbox_read and
 * outbox_unpublished number what committed since the last reader, then
 * read, in one round trip.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_EVENT_EXISTS = {PGQ_EVENT_EXISTS, 1, "SELECT 1 FROM outbox WHERE id = $1"};
static const pg_query Q_OUTBOX_MARK = {PGQ_OUTBOX_MARK, 1,
	"UPDATE outbox SET published = true WHERE id = ANY ($1::text[]) AND NOT published"};
static const pg_query Q_OUTBOX_SEQUENCE = {PGQ_OUTBOX_SEQUENCE, 0, "SELECT booking_outbox_sequence()"};
static const pg_query Q_CURSOR_GET = {PGQ_CURSOR_GET, 1,
	"SELECT position FROM consumer_cursors WHERE group_name = $1"};
static const pg_query Q_CURSOR_ADVANCE = {PGQ_CURSOR_ADVANCE, 3,
	"SELECT ok, at_position FROM booking_cursor_advance($1, $2::bigint, $3::bigint)"};
static const pg_query Q_INBOX_SEEN = {PGQ_INBOX_SEEN, 2,
	"SELECT 1 FROM inbox WHERE group_name = $1 AND event_id = $2"};
static const pg_query Q_INBOX_MARK = {PGQ_INBOX_MARK, 3,
	"INSERT INTO inbox (group_name, event_id, applied_at) VALUES ($1, $2, $3::bigint) ON CONFLICT DO NOTHING"};
static const pg_query Q_DEAD_PUT = {PGQ_DEAD_PUT, 5,
	"INSERT INTO dead_letters (group_name, event_id, reason, envelope_json, dead_at)"
	" VALUES ($1, $2, $3, $4, $5::bigint) ON CONFLICT DO NOTHING"};

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: %s is required", what);
}

int pg_event_exists(pg_conn *c, const char *event_id)
{
	pg_params p;
	pp_init(&p);
	pp_text(&p, event_id);
	int rc = pg_exists(c, &Q_EVENT_EXISTS, &p);
	pp_free(&p);
	return rc;
}

/* ------------------------------------------------------------------------
 * Outbox.
 * ------------------------------------------------------------------------ */

static const char *id_at(const void *b, size_t i)
{
	return ((const char *const *)b)[i];
}

/* Marking is idempotent: settle a lost reply by marking again. */
static int mark_again(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	PGresult *r;
	int rc = pg_exec(c, &Q_OUTBOX_MARK, arg, &r);
	if (rc < 0)
		return rc;
	PQclear(r);
	return 1;
}

int pg_outbox_mark_published(booking_store *base, const char *const *event_ids, size_t n)
{
	if (n && !event_ids)
		return missing("event_ids");
	if (n == 0)
		return 0;
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text_array(&p, event_ids, n, id_at);
	int rc = pg_run(pg_impl(base), &Q_OUTBOX_MARK, &p, &r, mark_again, &p);
	pp_free(&p);
	PQclear(r);
	return rc == PG_COMMITTED ? 0 : rc;
}

/* ------------------------------------------------------------------------
 * Cursors and inbox.
 * ------------------------------------------------------------------------ */

typedef struct cursor_move {
	const char *group;
	int64_t position;
} cursor_move;

static int cursor_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const cursor_move *m = arg;
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_text(&p, m->group);
	int rc = pg_exec(c, &Q_CURSOR_GET, &p, &r);
	pp_free(&p);
	if (rc < 0)
		return rc;
	rc = PQntuples(r) == 1 && pg_i64(r, 0, 0) == m->position;
	PQclear(r);
	return rc;
}

int pg_cursor_advance(booking_store *base, const char *group, int64_t expected, int64_t position)
{
	if (!group)
		return missing("group");
	cursor_move m = {group, position};
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, group);
	pp_i64(&p, expected);
	pp_i64(&p, position);
	int rc = pg_run(pg_impl(base), &Q_CURSOR_ADVANCE, &p, &r, cursor_committed, &m);
	pp_free(&p);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc;
	bool ok = PQntuples(r) == 1 && pg_bool(r, 0, 0);
	int64_t current = PQntuples(r) == 1 ? pg_i64(r, 0, 1) : 0;
	PQclear(r);
	if (!ok)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "cursor of %s is at %lld, not %lld", group,
		                         (long long)current, (long long)expected);
	return 0;
}

typedef struct inbox_key {
	const char *group;
	const char *event_id;
} inbox_key;

/*
 * The row is there: ours committed, or it was there before and ours was a
 * duplicate. Both leave the inbox as the caller wants it; answer success.
 */
static int inbox_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const inbox_key *k = arg;
	pg_params p;
	pp_init(&p);
	pp_text(&p, k->group);
	pp_text(&p, k->event_id);
	int rc = pg_exists(c, &Q_INBOX_SEEN, &p);
	pp_free(&p);
	return rc;
}

int pg_inbox_mark(booking_store *base, const char *group, const char *event_id, int64_t now)
{
	if (!group || !event_id)
		return missing("group and event_id");
	inbox_key k = {group, event_id};
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, group);
	pp_text(&p, event_id);
	pp_i64(&p, now);
	int rc = pg_run(pg_impl(base), &Q_INBOX_MARK, &p, &r, inbox_committed, &k);
	pp_free(&p);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc;
	bool inserted = strcmp(PQcmdTuples(r), "1") == 0;
	PQclear(r);
	if (!inserted)
		return booking_error_set(BOOKING_EEXISTS, NULL, "event %s was already applied by %s", event_id, group);
	return 0;
}

static int dead_again(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	PGresult *r;
	int rc = pg_exec(c, &Q_DEAD_PUT, arg, &r);
	if (rc < 0)
		return rc;
	PQclear(r);
	return 1;
}

int pg_dead_letter_put(booking_store *base, const char *group, const char *event_id, const char *reason,
                       const char *envelope_json, int64_t now)
{
	if (!group || !event_id)
		return missing("group and event_id");
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, group);
	pp_text(&p, event_id);
	pp_str(&p, reason);
	pp_str(&p, envelope_json);
	pp_i64(&p, now);
	int rc = pg_run(pg_impl(base), &Q_DEAD_PUT, &p, &r, dead_again, &p);
	pp_free(&p);
	PQclear(r);
	return rc == PG_COMMITTED ? 0 : rc;
}

/* ------------------------------------------------------------------------
 * Integrity scan: one REPEATABLE READ snapshot, every table asked for read
 * in it, the connection given back, then the rows walked.
 * ------------------------------------------------------------------------ */

enum { SCAN_SEATS, SCAN_BOOKINGS, SCAN_PAYMENTS, SCAN_IDEM, SCAN_EVENTS, SCAN_INBOX, SCAN_TABLES };

static const char *const SCAN_SQL[SCAN_TABLES] = {
	"SELECT showtime_id, " SQL_SEAT_COLUMNS " FROM showtime_seats ORDER BY showtime_id, position",
	SQL_BOOKINGS(SQL_PG) " ORDER BY created_at, id",
	"SELECT " SQL_PAYMENT_COLUMNS " FROM payments ORDER BY created_at, id",
	"SELECT user_id, key, payment_id, completed FROM idempotency_keys ORDER BY created_at, user_id, key",
	"SELECT " SQL_EVENT_COLUMNS " FROM outbox ORDER BY position NULLS LAST, seq",
	"SELECT group_name, event_id FROM inbox ORDER BY applied_at, group_name, event_id",
};

static int scan_read(pg_store *st, const bool want[SCAN_TABLES], PGresult *res[SCAN_TABLES])
{
	pg_conn *c;
	int rc = pg_acquire(st, &c);
	if (rc < 0)
		return rc;
	rc = pg_exec_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL);
	for (int t = 0; t < SCAN_TABLES && rc == 0; t++)
		if (want[t])
			rc = pg_exec_sql(c, SCAN_SQL[t], &res[t]);
	if (rc == 0)
		rc = pg_exec_sql(c, "COMMIT", NULL);
	pg_release(st, c);
	return rc;
}

/* The rows are read by the shared mappers (sql/sql.h). */
static int scan_walk(sql_store *st, const booking_store_scan_cbs *cbs, PGresult *const res[SCAN_TABLES],
                     void *payload)
{
	int rc = 0;
	sql_rows r = {st, NULL, NULL, 0, 0};
	if (cbs->showtime_seat && (r.res = res[SCAN_SEATS]))
		for (r.row = 0, r.count = PQntuples(r.res); r.row < r.count && rc == 0; r.row++) {
			booking_store_seat s;
			sql_seat_from_row(&r, 1, &s);
			rc = cbs->showtime_seat(pg_str(r.res, r.row, 0), &s, payload);
		}
	if (cbs->booking && (r.res = res[SCAN_BOOKINGS]))
		for (r.row = 0, r.count = PQntuples(r.res); r.row < r.count && rc == 0; r.row++) {
			booking_reservation b;
			rc = sql_booking_from_row(&r, &b);
			if (rc == 0)
				rc = cbs->booking(&b, payload);
			booking_free(b.seats);
		}
	if (cbs->payment && (r.res = res[SCAN_PAYMENTS]))
		for (r.row = 0, r.count = PQntuples(r.res); r.row < r.count && rc == 0; r.row++) {
			booking_payment p;
			sql_payment_from_row(&r, &p);
			rc = cbs->payment(&p, payload);
		}
	if (cbs->idempotency && (r.res = res[SCAN_IDEM]))
		for (int i = 0, n = PQntuples(r.res); i < n && rc == 0; i++) {
			booking_store_idempotency k = {pg_str(r.res, i, 0), pg_str(r.res, i, 1), pg_str(r.res, i, 2),
			                               pg_bool(r.res, i, 3)};
			rc = cbs->idempotency(&k, payload);
		}
	if (cbs->event && (r.res = res[SCAN_EVENTS]))
		for (r.row = 0, r.count = PQntuples(r.res); r.row < r.count && rc == 0; r.row++) {
			booking_event_record e;
			sql_event_from_row(&r, &e);
			rc = cbs->event(&e, payload);
		}
	if (cbs->inbox && (r.res = res[SCAN_INBOX]))
		for (int i = 0, n = PQntuples(r.res); i < n && rc == 0; i++) {
			booking_store_inbox row = {pg_str(r.res, i, 0), pg_str(r.res, i, 1)};
			rc = cbs->inbox(&row, payload);
		}
	return rc;
}

int pg_scan(booking_store *base, const booking_store_scan_cbs *cbs, void *payload)
{
	pg_store *st = pg_impl(base);
	if (!cbs)
		return 0;
	const bool want[SCAN_TABLES] = {cbs->showtime_seat != NULL, cbs->booking != NULL, cbs->payment != NULL,
	                                cbs->idempotency != NULL,   cbs->event != NULL,   cbs->inbox != NULL};
	PGresult *res[SCAN_TABLES] = {NULL};
	int rc = 0;
	if (cbs->event) {
		/* number what committed so far, so the snapshot shows positions (later commits show 0) */
		PGresult *r = NULL;
		rc = pg_run(st, &Q_OUTBOX_SEQUENCE, NULL, &r, NULL, NULL);
		PQclear(r);
	}
	if (rc == 0)
		rc = scan_read(st, want, res);
	if (rc == 0)
		rc = scan_walk((sql_store *)base, cbs, res, payload);
	for (int t = 0; t < SCAN_TABLES; t++)
		PQclear(res[t]);
	return rc;
}
