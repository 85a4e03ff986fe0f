/*
 * PostgreSQL store — the integrity scan, and the outbox lookup the apply
 * resolver uses (the outbox's reads and writes are shared: sql/).
 *
 * Outbox positions are given after commit by the readers themselves (see
 * booking_outbox_sequence() in schema.c for why and how): the scan numbers
 * what committed so far before its snapshot.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_EVENT_EXISTS = {PGQ_EVENT_EXISTS, 1, "SELECT 1 FROM outbox WHERE id = $1"};
static const pg_query Q_OUTBOX_SEQUENCE = {PGQ_OUTBOX_SEQUENCE, 0, "SELECT booking_outbox_sequence()"};

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
