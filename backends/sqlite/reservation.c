/*
 * SQLite store — hold and apply, with the events and payment rows they
 * add (the reads and other writes are shared: sql/).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

/*
 * --- events: positions come from outbox.position (INTEGER PRIMARY KEY
 * AUTOINCREMENT), assigned inside the write transaction. SQLite has one
 * writer at a time, so positions increase in commit order: a reader never
 * sees a later position before an earlier one has committed.
 */

static int event_insert(sq_conn *c, const booking_event_record *ev)
{
	int rc = sq_run(c, SQ_EVENT_INSERT, "ttttieet", ev->id, ev->type, ev->aggregate_type, ev->aggregate_id,
	                ev->occurred_at, ev->correlation_id, ev->traceparent,
	                ev->data_json ? ev->data_json : "{}");

	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "event %s already exists", ev->id);
	return rc;
}

static int events_insert(sq_conn *c, const booking_event_record *events, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && events != NULL && i < n; i++)
		rc = event_insert(c, &events[i]);
	return rc;
}

/* A payment that starts: its row and its idempotency record. */
static int payment_start(sq_conn *c, const booking_store_payment_start *start)
{
	const booking_payment *p = start->payment;
	if (!p || !start->user_id || !start->idempotency_key || !start->request_hash)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: start needs a payment, user, key and hash");
	int rc = sq_run(c, SQ_PAYMENT_INSERT, "tttiittttiii", p->id, p->booking_id, p->user_id, (int64_t)p->status,
	                p->amount, p->currency, p->card_last4, p->gateway_ref, p->failure_code, p->refunded_amount,
	                p->created_at, p->updated_at);
	if (rc == 0)
		rc = sq_run(c, SQ_IDEM_INSERT, "tttti", start->user_id, start->idempotency_key, start->request_hash, p->id,
		            p->created_at);
	return rc;
}

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

	rc = sq_query_i64(c, SQ_SHOWTIME_EXISTS, &one, &found, "t", b->showtime_id);
	if (rc == 0 && !found)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	if (rc == 0)
		rc = sq_query_i64(c, SQ_BOOKING_EXISTS, &one, &found, "t", b->id);
	if (rc == 0 && found)
		return booking_error_set(BOOKING_EEXISTS, NULL, "booking %s already exists", b->id);
	if (rc != 0)
		return rc;

	/* the labels the showtime lacks, else the seats taken: the core words the refusal */
	rc = sq_stmt(c, SQ_HOLD_MISSING, &s);
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
		rc = sq_stmt(c, SQ_HOLD_TAKEN, &s);
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

	rc = sq_run(c, SQ_HOLD_SAVEPOINT, NULL);
	if (rc == 0)
		rc = sq_run(c, SQ_HOLD_CLAIM, "ttiti", b->showtime_id, b->id, b->expires_at, a->labels_json,
		            a->req->now);
	if (rc != 0)
		return rc;
	if (sq_changes(c) != (int64_t)b->seat_count) {
		rc = sq_run(c, SQ_HOLD_UNDO, NULL);
		return rc != 0 ? rc : hold_explain(c, a);
	}
	rc = sq_run(c, SQ_BOOKING_INSERT, "tttiizitiiii", b->id, b->user_id, b->showtime_id, (int64_t)b->status,
	            (int64_t)b->saga, b->seat_count, b->total_amount, b->currency, b->created_at, b->expires_at,
	            b->updated_at, b->version);
	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "booking %s already exists", b->id);
	if (rc == 0)
		rc = sq_run(c, SQ_BOOKING_SEATS_INSERT, "tt", b->id, a->labels_json);
	if (rc == 0 && a->req->event != NULL)
		rc = event_insert(c, a->req->event);
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
		const int q = g->kind == BOOKING_GUARD_BOOKING_VERSION ? SQ_GUARD_BOOKING
		              : g->kind == BOOKING_GUARD_PAYMENT_STATUS ? SQ_GUARD_PAYMENT
		              : g->kind == BOOKING_GUARD_SEATS_OWNED    ? SQ_GUARD_SEATS
		              : g->kind == BOOKING_GUARD_KEY_UNUSED     ? SQ_GUARD_KEY
		                                                        : -1;
		if (q < 0)
			return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: unknown guard kind %d", (int)g->kind);
		if (g->kind == BOOKING_GUARD_KEY_UNUSED)
			rc = sq_query_i64(conn, (sq_qid)q, &one, &found, "tt", g->id, g->key);
		else
			rc = sq_query_i64(conn, (sq_qid)q, &one, &found, "ti", g->id, g->value);
		if (rc == 0 && !found) {
			if (a->failed)
				*a->failed = i;
			return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's guard %zu does not hold", i);
		}
	}
	if (rc == 0 && c->start)
		rc = payment_start(conn, c->start);
	if (rc == 0 && c->booking)
		rc = sq_run(conn, SQ_APPLY_BOOKING, "tiii", c->booking->id, (int64_t)c->booking->status,
		            (int64_t)c->booking->saga, c->booking->updated_at);
	if (rc == 0 && c->seats)
		rc = sq_run(conn, SQ_APPLY_SEATS, "tiii", c->seats->booking_id, (int64_t)c->seats->from,
		            (int64_t)c->seats->to, c->seats->to == BOOKING_SEAT_FREE ? 0 : c->seats->hold_until);
	if (rc == 0 && c->payment)
		rc = sq_run(conn, SQ_APPLY_PAYMENT, "tittii", c->payment->id, (int64_t)c->payment->status,
		            c->payment->gateway_ref, c->payment->failure_code, c->payment->refunded_amount,
		            c->payment->updated_at);
	if (rc == 0 && c->idempotency)
		rc = sq_run(conn, SQ_APPLY_IDEMPOTENCY, "ti", c->idempotency->payment_id, (int64_t)c->idempotency->replay_error);
	if (rc == 0 && c->event_count)
		rc = events_insert(conn, c->events, c->event_count);
	return rc;
}

int sq_apply(booking_store *st, const booking_store_change *change, size_t *failed_guard_out)
{
	if (!change)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: change is required");
	struct apply_arg a = {change, failed_guard_out};
	return sq_write((sq_store *)st, apply_tx, &a);
}
