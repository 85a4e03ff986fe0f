/*
 * SQLite store — hold, apply and the kv group's put, with the events and
 * payment rows they add (the reads and other writes are shared: sql/).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

/*
 * --- events: positions come from outbox.position (INTEGER PRIMARY KEY: the
 * rowid, max + 1; no outbox row is deleted, so none is reused: schema.c,
 * version 10), assigned inside the write transaction. SQLite has one
 * writer at a time, so positions increase in commit order: a reader never
 * sees a later position before an earlier one has committed.
 */

static int events_insert(sq_conn *c, const booking_event_record *events, size_t n)
{
	int rc = 0;

	for (const booking_event_record *ev = events; rc == 0 && events != NULL && ev < events + n; ev++) {
		const sql_arg a[] = {SQL_T(ev->id),          SQL_T(ev->type),          SQL_T(ev->aggregate_type),
		                     SQL_T(ev->aggregate_id), SQL_I(ev->occurred_at),   SQL_E(ev->correlation_id),
		                     SQL_E(ev->traceparent),  SQL_T(ev->data_json ? ev->data_json : "{}")};

		if ((rc = sq_run(c, SQ_EVENT_INSERT, a, 8, NULL)) == BOOKING_EEXISTS)
			return booking_error_set(BOOKING_EEXISTS, NULL, "event %s already exists", ev->id);
	}
	return rc;
}

/* A payment that starts: its row and its idempotency record. */
static int payment_start(sq_conn *c, const booking_store_payment_start *start)
{
	const booking_payment *p = start->payment;
	if (!p || !start->user_id || !start->idempotency_key || !start->request_hash)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: start needs a payment, user, key and hash");
	const sql_arg a[] = {SQL_T(p->id),          SQL_T(p->reservation_id),    SQL_T(p->user_id),
	                     SQL_I(p->status),      SQL_I(p->amount),        SQL_T(p->currency),
	                     SQL_T(p->card_last4),  SQL_T(p->gateway_ref),   SQL_T(p->failure_code),
	                     SQL_I(p->refunded_amount), SQL_I(p->created_at), SQL_I(p->updated_at)};
	const sql_arg k[] = {SQL_T(start->user_id), SQL_T(start->idempotency_key), SQL_T(start->request_hash),
	                     SQL_T(p->id), SQL_I(p->created_at)};
	int rc = sq_run(c, SQ_PAYMENT_INSERT, a, 12, NULL);
	if (rc == 0)
		rc = sq_run(c, SQ_IDEM_INSERT, k, 5, NULL);
	return rc;
}

/*
 * *out = the first column of the first row `q` answers (0: none): a count of a limit (ledger version 3, 4),
 * a record's version (kv). Run in the write transaction (BEGIN IMMEDIATE: the one writer), so the count and
 * the write it allows are serialised with every other write.
 */
static int first_int(sq_conn *c, int q, const sql_arg *a, size_t n, int64_t *out)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, q, &s);

	*out = 0;
	if (rc == 0)
		rc = sq_bind(c, s, a, n);
	if (rc == 0 && (rc = sq_step(c, s)) == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc < 0 ? rc : 0;
}

/*
 * *out = what user `user` has at `now`: (ledger version 3) the seats of showtime `showtime` it has taken, or
 * (`holds`, ledger version 4) its live holds, its reservations in status `live` not yet expired.
 */
static int user_count(sq_conn *c, bool holds, const char *user, const char *showtime, int64_t now, int live,
                      int64_t *out)
{
	const sql_arg a[] = {SQL_T(user), SQL_T(showtime), SQL_I(now), SQL_I(live)};

	return first_int(c, holds ? SQ_USER_HOLDS : SQ_USER_TAKEN, a, 4, out);
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
 * showtime is missing, the reservation id exists, a label the showtime lacks,
 * seats taken; else a label was requested twice.
 */
static int hold_explain(sq_conn *c, struct hold_arg *a)
{
	const booking_reservation *b = a->req->reservation;
	size_t cap = b->seat_count, n = 0;
	sqlite3_stmt *s;
	const sql_arg showtime[] = {SQL_T(b->showtime_id)}, id[] = {SQL_T(b->id)};
	const sql_arg labels[] = {SQL_T(b->showtime_id), SQL_T(a->labels_json), SQL_I(a->req->now)};
	int code = BOOKING_EVALIDATION;
	bool found;
	int rc;

	rc = sq_run(c, SQ_SHOWTIME_EXISTS, showtime, 1, &found);
	if (rc == 0 && !found)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	if (rc == 0)
		rc = sq_run(c, SQ_BOOKING_EXISTS, id, 1, &found);
	if (rc == 0 && found)
		return booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", b->id);

	/* the labels the showtime lacks, else the seats taken: the core words the refusal */
	for (int q = SQ_HOLD_MISSING; rc == 0 && n == 0 && q <= SQ_HOLD_TAKEN; q++) {
		code = q == SQ_HOLD_MISSING ? BOOKING_EVALIDATION : BOOKING_ESEAT_ALREADY_BOOKED;
		if ((rc = sq_stmt(c, q, &s)) == 0)
			rc = sq_bind(c, s, labels, 3);
		while (rc == 0 && n < cap && (rc = sq_step(c, s)) == SQLITE_ROW) {
			const unsigned char *label = sqlite3_column_text(s, 0);

			if (a->taken != NULL)
				snprintf(a->taken[n].label, sizeof a->taken[n].label, "%s", label ? (const char *)label : "");
			n++;
			rc = 0;
		}
		rc = rc == SQLITE_DONE ? 0 : rc;
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
	const booking_reservation *b = a->req->reservation;
	const sql_arg check[] = {SQL_T(b->showtime_id), SQL_T(a->labels_json), SQL_I(a->req->now)};
	const sql_arg row[] = {SQL_T(b->id),           SQL_T(b->user_id),    SQL_T(b->showtime_id), SQL_I(b->status),
	                       SQL_I(b->saga),         SQL_I(b->seat_count), SQL_I(b->total_amount), SQL_T(b->currency),
	                       SQL_I(b->created_at),   SQL_I(b->expires_at), SQL_I(b->updated_at),  SQL_I(b->version),
	                       SQL_T(a->labels_json)};
	int rc;

	int64_t claimable = 0;

	rc = first_int(c, SQ_HOLD_CLAIMABLE, check, 3, &claimable);
	if (rc != 0)
		return rc;
	if (claimable != (int64_t)b->seat_count) /* all or nothing: nothing changed, the seats are as they were */
		return hold_explain(c, a);
	for (size_t i = 0; i < b->seat_count; i++) {
		const sql_arg claim[] = {SQL_T(b->showtime_id), SQL_T(b->id), SQL_I(b->expires_at),
		                         SQL_T(b->seats[i]->label), SQL_I(a->req->now)};

		if ((rc = sq_run(c, SQ_HOLD_CLAIM, claim, 5, NULL)) != 0)
			return rc;
		if (c->changed != 1) /* claimed by this hold already: sq_write undoes the seats claimed before */
			return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}", "a seat label is requested twice");
	}
	/* the limits, once the seats are known to be free: this hold is not counted yet (b is not inserted) */
	int64_t taken = 0, live = 0;
	if (a->req->user_seat_limit)
		rc = user_count(c, false, b->user_id, b->showtime_id, a->req->now, 0, &taken);
	if (rc == 0 && a->req->user_hold_limit)
		rc = user_count(c, true, b->user_id, NULL, a->req->now, (int)a->req->live_status, &live);
	if (rc != 0)
		return rc;
	if ((a->req->user_seat_limit && (uint64_t)taken + b->seat_count > a->req->user_seat_limit) ||
	    (a->req->user_hold_limit && (uint64_t)live + 1 > a->req->user_hold_limit)) /* sq_write rolls back */
		return booking_error_set(BOOKING_ELIMIT_REACHED, NULL, "the user's seat or live-hold limit is reached");
	rc = sq_run(c, SQ_BOOKING_INSERT, row, 13, NULL);
	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", b->id);
	if (rc == 0)
		rc = events_insert(c, a->req->event, 1);
	return rc;
}

int sq_hold(booking_seat_ref *taken, size_t *taken_count, booking_store *st, const booking_store_hold *req)
{
	struct hold_arg a = {req, NULL, taken, taken_count};
	int rc;

	if (taken_count != NULL)
		*taken_count = 0;
	if (req == NULL || req->reservation == NULL)
		return sql_missing("reservation");
	a.labels_json = sql_array(req->reservation->seats, req->reservation->seat_count, 0, 0,
	                          BOOKING_LABEL_SIZE - 1, 's', false);
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
	const char *insert_labels; /* the inserted reservation's labels, JSON */
	const char *set_labels;    /* the reservation set's new labels, JSON */
};

/* Guard i (a seat write's: guard_count + its index) does not hold: nothing is written. */
static int refused(const struct apply_arg *a, size_t i)
{
	if (a->failed)
		*a->failed = i;
	return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's guard %zu does not hold", i);
}

/* The change's guards, then its seat writes' expectations, in order. */
static int apply_checks(sq_conn *conn, const struct apply_arg *a)
{
	const booking_store_change *c = a->c;
	bool found = false;
	int rc;

	for (size_t i = 0; i < c->guard_count; i++) {
		const booking_store_guard *g = &c->guards[i];
		const bool holds = g->kind == BOOKING_GUARD_USER_HOLDS;
		if (holds || g->kind == BOOKING_GUARD_USER_SEATS) {
			int64_t n = 0;
			if (!g->id || (!holds && !g->key))
				return sql_missing("the guard's user (USER_SEATS: and showtime)");
			rc = user_count(conn, holds, g->id, g->key, c->now, (int)c->live_status, &n);
			if (rc != 0)
				return rc;
			if (n > g->value)
				return refused(a, i);
			continue;
		}
		const int q = g->kind == BOOKING_GUARD_RESERVATION_VERSION ? SQ_GUARD_BOOKING
		              : g->kind == BOOKING_GUARD_PAYMENT_STATUS ? SQ_GUARD_PAYMENT
		              : g->kind == BOOKING_GUARD_SEATS_OWNED    ? SQ_GUARD_SEATS
		              : g->kind == BOOKING_GUARD_KEY_UNUSED     ? SQ_GUARD_KEY
		                                                        : -1;
		if (q < 0)
			return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: unknown guard kind %d", (int)g->kind);
		const sql_arg ga[] = {SQL_T(g->id), g->kind == BOOKING_GUARD_KEY_UNUSED ? (sql_arg)SQL_T(g->key)
		                                                                        : (sql_arg)SQL_I(g->value)};
		if ((rc = sq_run(conn, q, ga, 2, &found)) != 0)
			return rc;
		if (!found)
			return refused(a, i);
	}
	for (size_t i = 0; i < c->seat_write_count; i++) {
		const booking_store_seat_write *w = &c->seat_writes[i];
		const bool claimable = w->expect == BOOKING_SEAT_EXPECT_CLAIMABLE;

		if (!claimable && w->expect != BOOKING_SEAT_EXPECT_STATUS)
			return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: unknown seat expectation %d",
			                         (int)w->expect);
		const sql_arg sa[] = {SQL_T(c->showtime_id), SQL_T(w->label),
		                      claimable ? (sql_arg)SQL_I(c->now) : (sql_arg)SQL_I(w->expect_status),
		                      SQL_E(w->expect_reservation)};
		if ((rc = sq_run(conn, claimable ? SQ_SEAT_CLAIMABLE : SQ_SEAT_IS, sa, 4, &found)) != 0)
			return rc;
		if (!found)
			return refused(a, c->guard_count + i);
	}
	return 0;
}

/* A new reservation row with its seats (ledger version 2). */
static int apply_insert(sq_conn *conn, const booking_reservation *b, const char *labels)
{
	const sql_arg row[] = {SQL_T(b->id),           SQL_T(b->user_id),    SQL_T(b->showtime_id), SQL_I(b->status),
	                       SQL_I(b->saga),         SQL_I(b->seat_count), SQL_I(b->total_amount), SQL_T(b->currency),
	                       SQL_I(b->created_at),   SQL_I(b->expires_at), SQL_I(b->updated_at),  SQL_I(b->version),
	                       SQL_T(labels)};
	int rc = sq_run(conn, SQ_BOOKING_INSERT, row, 13, NULL);

	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", b->id);
	return rc;
}

/* A hold's idempotency record (ledger version 2): with the payments' records, one per (user, key). */
static int apply_key(sq_conn *conn, const booking_store_key_record *k, int64_t now)
{
	if (!k->user_id || !k->key || !k->request_hash || !k->reservation_id)
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "sqlite store: a key needs a user, key, hash and reservation");
	const sql_arg a[] = {SQL_T(k->user_id), SQL_T(k->key), SQL_T(k->request_hash), SQL_T(k->reservation_id),
	                     SQL_I(now)};
	int rc = sq_run(conn, SQ_KEY_INSERT, a, 5, NULL);

	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "the idempotency key already has a record");
	return rc;
}

static int apply_tx(sq_conn *conn, void *arg)
{
	struct apply_arg *a = arg;
	const booking_store_change *c = a->c;
	int rc = apply_checks(conn, a);

	if (rc == 0 && c->insert)
		rc = apply_insert(conn, c->insert, a->insert_labels);
	if (rc == 0 && c->key)
		rc = apply_key(conn, c->key, c->now);
	if (rc == 0 && c->start)
		rc = payment_start(conn, c->start);
	if (rc == 0 && c->reservation) {
		const booking_store_reservation_set *w = c->reservation;
		const sql_arg args[] = {SQL_T(w->id), SQL_I(w->status), SQL_I(w->saga), SQL_I(w->updated_at),
		                        SQL_I(w->expires_at)};
		const sql_arg seats[] = {SQL_T(w->id), SQL_T(a->set_labels), SQL_I(w->total_amount)};

		rc = sq_run(conn, SQ_APPLY_BOOKING, args, 5, NULL);
		if (rc == 0 && w->seats)
			rc = sq_run(conn, SQ_APPLY_BOOKING_SEATS, seats, 3, NULL);
	}
	if (rc == 0 && c->seats) {
		const sql_arg args[] = {SQL_T(c->seats->reservation_id), SQL_I(c->seats->from), SQL_I(c->seats->to),
		                        SQL_I(c->seats->to == BOOKING_SEAT_FREE ? 0 : c->seats->hold_until)};
		rc = sq_run(conn, SQ_APPLY_SEATS, args, 4, NULL);
	}
	for (size_t i = 0; rc == 0 && i < c->seat_write_count; i++) {
		const booking_store_seat_write *w = &c->seat_writes[i];
		const sql_arg args[] = {SQL_T(c->showtime_id), SQL_T(w->label), SQL_I(w->status),
		                        SQL_E(w->reservation_id), SQL_I(w->hold_until), SQL_E(w->note)};

		if (w->write)
			rc = sq_run(conn, SQ_SEAT_WRITE, args, 6, NULL);
	}
	if (rc == 0 && c->payment) {
		const sql_arg args[] = {SQL_T(c->payment->id),          SQL_I(c->payment->status),
		                        SQL_T(c->payment->gateway_ref), SQL_T(c->payment->failure_code),
		                        SQL_I(c->payment->refunded_amount), SQL_I(c->payment->updated_at)};
		rc = sq_run(conn, SQ_APPLY_PAYMENT, args, 6, NULL);
	}
	if (rc == 0 && c->idempotency) {
		const sql_arg args[] = {SQL_T(c->idempotency->payment_id), SQL_I(c->idempotency->replay_error)};
		rc = sq_run(conn, SQ_APPLY_IDEMPOTENCY, args, 2, NULL);
	}
	if (rc == 0 && c->event_count)
		rc = events_insert(conn, c->events, c->event_count);
	return rc;
}

/* The labels of `n` seat references as a JSON array (NULL and no error when there are none to give). */
static int labels_json(char **out, booking_seat_ref *const *seats, size_t n, bool given)
{
	*out = NULL;
	if (!given)
		return 0;
	if (n > 0 && seats == NULL)
		return sql_missing("the seats of a reservation");
	*out = sql_array(seats, n, 0, offsetof(booking_seat_ref, label), BOOKING_LABEL_SIZE - 1, 's', false);
	return *out == NULL ? BOOKING_ENOMEM : 0;
}

int sq_apply(size_t *failed_guard_out, booking_store *st, const booking_store_change *change)
{
	if (!change)
		return sql_missing("change");
	if ((change->seat_write_count && !change->seat_writes) || (change->guard_count && !change->guards))
		return sql_missing("the change's guards and seat writes");
	const booking_store_reservation_set *set = change->reservation;
	char *insert_labels = NULL, *set_labels = NULL;
	int rc = change->insert ? labels_json(&insert_labels, (booking_seat_ref *const *)change->insert->seats,
	                                      change->insert->seat_count, true)
	                        : 0;

	if (rc == 0 && set)
		rc = labels_json(&set_labels, set->seats, set->seat_count, set->seats != NULL);
	if (rc == 0) {
		struct apply_arg a = {change, failed_guard_out, insert_labels, set_labels};
		rc = sq_write((sq_store *)st, apply_tx, &a);
	}
	booking_free(insert_labels);
	booking_free(set_labels);
	return rc;
}

/* --- kv_put: the live version compared, then the write, the events and the purge (sql/sql.h) --- */

struct kv_arg {
	const booking_store_kv_put *req;
	bool *written;
	int64_t *live;
};

static int kv_put_tx(sq_conn *c, void *arg)
{
	const struct kv_arg *a = arg;
	const booking_store_kv_put *r = a->req;
	const sql_arg k[] = {SQL_T(r->ns),   SQL_T(r->key),  SQL_I(r->now),       SQL_I(r->expected_version),
	                     SQL_T(r->value), SQL_I(r->rank), SQL_I(r->expires_at)};
	int rc = first_int(c, SQ_KV_VERSION, k, 7, a->live);

	if (rc != 0 || *a->live != r->expected_version)
		return rc; /* nothing written */
	*a->written = true;
	*a->live = r->value != NULL ? r->expected_version + 1 : 0;
	rc = sq_run(c, r->value != NULL ? SQ_KV_SET : SQ_KV_DELETE, k, 7, NULL);
	if (rc == 0)
		rc = events_insert(c, r->events, r->event_count);
	return rc == 0 ? sq_run(c, SQ_KV_PURGE, k, 7, NULL) : rc;
}

int sq_kv_put(sql_store *st, const booking_store_kv_put *req, bool *written, int64_t *live)
{
	const struct kv_arg a = {req, written, live};

	return sq_write((sq_store *)st, kv_put_tx, (void *)&a);
}
