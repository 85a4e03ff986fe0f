/*
 * SQLite store — reservations: hold and apply (the reads are shared: sql/reads.c).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

/*
 * The claim: one guarded UPDATE over the requested labels. A seat is
 * claimable when free or held by a hold that ran out; sqlite3_changes()
 * tells whether every requested seat was claimed.
 */
static const char SQL_HOLD_CLAIM[] =
	"UPDATE showtime_seats SET status = 1, booking_id = ?2, hold_until = ?3, version = version + 1"
	" WHERE showtime_id = ?1 AND label IN (SELECT value FROM json_each(?4))"
	" AND " BOOKING_SEAT_CLAIMABLE_SQL("", "?5");
static const char SQL_HOLD_MISSING[] =
	"SELECT j.value FROM json_each(?2) AS j"
	" WHERE NOT EXISTS (SELECT 1 FROM showtime_seats AS s WHERE s.showtime_id = ?1 AND s.label = j.value)"
	" ORDER BY j.key";
static const char SQL_HOLD_TAKEN[] =
	"SELECT s.label FROM json_each(?2) AS j"
	" JOIN showtime_seats AS s ON s.showtime_id = ?1 AND s.label = j.value"
	" WHERE NOT " BOOKING_SEAT_CLAIMABLE_SQL("s.", "?3") " ORDER BY j.key";
/* A failed claim is undone to here, so the explanation sees the seats as they were. */
static const char SQL_HOLD_SAVEPOINT[] = "SAVEPOINT hold";
static const char SQL_HOLD_UNDO[] = "ROLLBACK TO hold";
static const char SQL_SHOWTIME_EXISTS[] = "SELECT 1 FROM showtimes WHERE id = ?1";
static const char SQL_BOOKING_EXISTS[] = "SELECT 1 FROM bookings WHERE id = ?1";
static const char SQL_BOOKING_INSERT[] =
	"INSERT INTO bookings (" SQ_BOOKING_COLUMNS ")"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char SQL_BOOKING_SEATS_INSERT[] =
	"INSERT INTO booking_seats (booking_id, position, label) SELECT ?1, key, value FROM json_each(?2)";

/* --- hold -------------------------------------------------------------------------- */

struct hold_arg {
	const booking_store_hold *req;
	const char *labels_json;
	booking_seat_ref *taken;
	size_t *taken_count;
};

/*
 * Why the claim fell short, in the order the checks are documented: the
 * showtime is missing, the booking id exists, a label the showtime lacks,
 * seats taken; else a label was requested twice.
 */
static int hold_explain(sq_conn *c, struct hold_arg *a)
{
	const booking_reservation *b = a->req->booking;
	size_t cap = b->seat_count, n = 0;
	sqlite3_stmt *s;
	bool found;
	int64_t one;
	int rc;

	rc = sq_query_i64(c, SQL_SHOWTIME_EXISTS, &one, &found, "t", b->showtime_id);
	if (rc == 0 && !found)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	if (rc == 0)
		rc = sq_query_i64(c, SQL_BOOKING_EXISTS, &one, &found, "t", b->id);
	if (rc == 0 && found)
		return booking_error_set(BOOKING_EEXISTS, NULL, "booking %s already exists", b->id);
	if (rc != 0)
		return rc;

	/* the labels the showtime lacks, else the seats taken: the core words the refusal */
	rc = sq_stmt(c, SQL_HOLD_MISSING, &s);
	if (rc == 0)
		rc = sq_bind(c, s, "tt", b->showtime_id, a->labels_json);
	int code = BOOKING_EVALIDATION;
	while (n < cap && sq_next(c, s, &rc)) {
		if (a->taken != NULL)
			sq_col_copy(s, 0, a->taken[n].label, sizeof a->taken[n].label);
		n++;
	}
	sqlite3_reset(s);
	if (rc == 0 && n == 0) {
		code = BOOKING_ESEAT_ALREADY_BOOKED;
		rc = sq_stmt(c, SQL_HOLD_TAKEN, &s);
		if (rc == 0)
			rc = sq_bind(c, s, "tti", b->showtime_id, a->labels_json, a->req->now);
		while (n < cap && sq_next(c, s, &rc)) {
			if (a->taken != NULL)
				sq_col_copy(s, 0, a->taken[n].label, sizeof a->taken[n].label);
			n++;
		}
		sqlite3_reset(s);
	}
	if (rc != 0)
		return rc;
	if (a->taken_count != NULL)
		*a->taken_count = n;
	if (n == 0)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}", "a seat label is requested twice");
	return booking_error_set(code, NULL, "hold refused");
}

static int hold_tx(sq_conn *c, void *arg)
{
	struct hold_arg *a = arg;
	const booking_reservation *b = a->req->booking;
	int rc;

	rc = sq_run(c, SQL_HOLD_SAVEPOINT, NULL);
	if (rc == 0)
		rc = sq_run(c, SQL_HOLD_CLAIM, "ttiti", b->showtime_id, b->id, b->expires_at, a->labels_json,
		            a->req->now);
	if (rc != 0)
		return rc;
	if (sq_changes(c) != (int64_t)b->seat_count) {
		rc = sq_run(c, SQL_HOLD_UNDO, NULL);
		return rc != 0 ? rc : hold_explain(c, a);
	}
	rc = sq_run(c, SQL_BOOKING_INSERT, "tttiizitiiii", b->id, b->user_id, b->showtime_id, (int64_t)b->status,
	            (int64_t)b->saga, b->seat_count, b->total_amount, b->currency, b->created_at, b->expires_at,
	            b->updated_at, b->version);
	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "booking %s already exists", b->id);
	if (rc == 0)
		rc = sq_run(c, SQL_BOOKING_SEATS_INSERT, "tt", b->id, a->labels_json);
	if (rc == 0 && a->req->event != NULL)
		rc = sq_event_insert(c, a->req->event);
	return rc;
}

int sq_hold(booking_store *st, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count)
{
	struct hold_arg a = {req, NULL, taken, taken_count};
	int rc;

	if (taken_count != NULL)
		*taken_count = 0;
	if (req == NULL || req->booking == NULL)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "hold: no booking");
	a.labels_json = sql_json_array(req->booking->seats, req->booking->seat_count, sizeof(booking_seat_ref), 0,
	                               BOOKING_LABEL_SIZE - 1, 's');
	if (a.labels_json == NULL)
		return BOOKING_ENOMEM;
	rc = sq_write((sq_store *)st, hold_tx, &a);
	booking_free((char *)a.labels_json);
	if (rc != BOOKING_ESEAT_ALREADY_BOOKED && rc != BOOKING_EVALIDATION && taken_count != NULL)
		*taken_count = 0;
	return rc;
}

/* --- apply: guards, then writes; no rule of the domain here ----------------------------- */

static const char SQL_GUARD_BOOKING[] = "SELECT 1 FROM bookings WHERE id = ?1 AND version = ?2";
static const char SQL_GUARD_PAYMENT[] = "SELECT 1 FROM payments WHERE id = ?1 AND status = ?2";
/* 1 when the booking exists and none of its seats is in another state or another booking's */
static const char SQL_GUARD_SEATS[] =
	"SELECT 1 FROM bookings AS b WHERE b.id = ?1 AND NOT EXISTS (SELECT 1 FROM booking_seats AS bs"
	" LEFT JOIN showtime_seats AS s ON s.showtime_id = b.showtime_id AND s.label = bs.label"
	" WHERE bs.booking_id = b.id AND (s.label IS NULL OR s.booking_id IS NOT b.id OR s.status <> ?2))";
static const char SQL_APPLY_PAYMENT[] =
	"UPDATE payments SET status = ?2, gateway_ref = coalesce(?3, gateway_ref), failure_code = coalesce(?4, failure_code),"
	" refunded_amount = CASE WHEN ?5 < 0 THEN refunded_amount ELSE ?5 END, updated_at = ?6 WHERE id = ?1";
static const char SQL_APPLY_IDEMPOTENCY[] =
	"UPDATE idempotency_keys SET completed = 1, replay_error = ?2 WHERE payment_id = ?1";
static const char SQL_GUARD_KEY[] =
	"SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = ?1 AND key = ?2)";
static const char SQL_APPLY_BOOKING[] =
	"UPDATE bookings SET status = ?2, saga = ?3, version = version + 1, updated_at = ?4 WHERE id = ?1";
static const char SQL_APPLY_SEATS[] =
	"UPDATE showtime_seats SET status = ?3, booking_id = CASE WHEN ?3 = 0 THEN NULL ELSE booking_id END,"
	" hold_until = ?4, version = version + 1"
	" WHERE showtime_id = (SELECT showtime_id FROM bookings WHERE id = ?1)"
	" AND label IN (SELECT label FROM booking_seats WHERE booking_id = ?1) AND booking_id = ?1 AND status = ?2";

struct apply_arg {
	const booking_store_change *c;
	size_t *failed;
};

static int apply_tx(sq_conn *conn, void *arg)
{
	struct apply_arg *a = arg;
	const booking_store_change *c = a->c;
	int rc = 0;
	for (size_t i = 0; i < c->guard_count && rc == 0; i++) {
		const booking_store_guard *g = &c->guards[i];
		int64_t one = 0;
		bool found = false;
		const char *sql = g->kind == BOOKING_GUARD_BOOKING_VERSION ? SQL_GUARD_BOOKING
		                  : g->kind == BOOKING_GUARD_PAYMENT_STATUS ? SQL_GUARD_PAYMENT
		                  : g->kind == BOOKING_GUARD_SEATS_OWNED    ? SQL_GUARD_SEATS
		                  : g->kind == BOOKING_GUARD_KEY_UNUSED     ? SQL_GUARD_KEY
		                                                            : NULL;
		if (!sql)
			return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: unknown guard kind %d", (int)g->kind);
		if (g->kind == BOOKING_GUARD_KEY_UNUSED)
			rc = sq_query_i64(conn, sql, &one, &found, "tt", g->id, g->key);
		else
			rc = sq_query_i64(conn, sql, &one, &found, "ti", g->id, g->value);
		if (rc == 0 && !found) {
			if (a->failed)
				*a->failed = i;
			return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's guard %zu does not hold", i);
		}
	}
	if (rc == 0 && c->start)
		rc = sq_payment_start(conn, c->start);
	if (rc == 0 && c->booking)
		rc = sq_run(conn, SQL_APPLY_BOOKING, "tiii", c->booking->id, (int64_t)c->booking->status,
		            (int64_t)c->booking->saga, c->booking->updated_at);
	if (rc == 0 && c->seats)
		rc = sq_run(conn, SQL_APPLY_SEATS, "tiii", c->seats->booking_id, (int64_t)c->seats->from,
		            (int64_t)c->seats->to, c->seats->to == BOOKING_SEAT_FREE ? 0 : c->seats->hold_until);
	if (rc == 0 && c->payment)
		rc = sq_run(conn, SQL_APPLY_PAYMENT, "tittii", c->payment->id, (int64_t)c->payment->status,
		            c->payment->gateway_ref, c->payment->failure_code, c->payment->refunded_amount,
		            c->payment->updated_at);
	if (rc == 0 && c->idempotency)
		rc = sq_run(conn, SQL_APPLY_IDEMPOTENCY, "ti", c->idempotency->payment_id, (int64_t)c->idempotency->replay_error);
	if (rc == 0 && c->event_count)
		rc = sq_events_insert(conn, c->events, c->event_count);
	return rc;
}

int sq_apply(booking_store *st, const booking_store_change *change, size_t *failed_guard_out)
{
	if (!change)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: change is required");
	struct apply_arg a = {change, failed_guard_out};
	return sq_write((sq_store *)st, apply_tx, &a);
}
