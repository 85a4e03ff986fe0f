/*
 * PostgreSQL store — reservations: hold, read, cancel/expire, due holds.
 *
 * A hold is one round trip: booking_hold() (schema.c) locks the claimable
 * requested seats in label order, claims them, inserts the reservation (its
 * labels as a text[] column) and its event, or explains why not having
 * written nothing. No per-seat round trips.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const pg_query Q_HOLD = {PGQ_HOLD,
	"SELECT rc, array_to_json(labels) FROM booking_hold($1, $2, $3, $4::smallint, $5::smallint, $6::text[], $7::bigint, $8,"
	" $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::text[], $15::text[], $16::text[],"
	" $17::text[], $18::bigint[], $19::text[], $20::text[], $21::text[])"};
static const pg_query Q_BOOKING_EXISTS = {PGQ_BOOKING_EXISTS, "SELECT 1 FROM bookings WHERE id = $1"};
static const pg_query Q_APPLY = {PGQ_APPLY,
	"SELECT booking_apply($1::smallint[], $2::text[], $3::bigint[], $4::text[], $5, $6::smallint, $7::smallint,"
	" $8::bigint, $9, $10::smallint, $11::smallint, $12::bigint, $13, $14::smallint, $15, $16, $17::bigint,"
	" $18::bigint, $19, $20::integer, $21, $22, $23, $24::smallint, $25::bigint, $26, $27, $28, $29,"
	" $30::bigint, $31::bigint, $32::bigint, $33, $34, $35::text[], $36::text[], $37::text[], $38::text[],"
	" $39::bigint[], $40::text[], $41::text[], $42::text[])"};

/* The eight arrays of an event batch, in booking_append_events() order, as array literals into a[0..8). */
static void events(char **a, const booking_event_record *evs, size_t n)
{
#define EV(member, max, kind)                                                                                  \
	sql_array(evs, evs != NULL ? n : 0, sizeof *evs, offsetof(booking_event_record, member), max, kind, true)
	a[0] = EV(id, sizeof evs->id - 1, 's');
	a[1] = EV(type, 0, 'p');
	a[2] = EV(aggregate_type, 0, 'p');
	a[3] = EV(aggregate_id, sizeof evs->aggregate_id - 1, 's');
	a[4] = EV(occurred_at, 0, 'i');
	a[5] = EV(correlation_id, 0, 'p');
	a[6] = EV(traceparent, 0, 'p');
	a[7] = EV(data_json, 0, 'j');
#undef EV
}

/* 0 when the n array literals at `a` were made, else BOOKING_ENOMEM (the error set). */
static int made(char *const *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] == NULL)
			return BOOKING_ENOMEM;
	return 0;
}

static void free_all(char **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		booking_free(a[i]);
}

/* ------------------------------------------------------------------------
 * Hold.
 * ------------------------------------------------------------------------ */

int pg_hold(booking_seat_ref *taken, size_t *taken_count, booking_store *base, const booking_store_hold *req)
{
	if (taken_count)
		*taken_count = 0;
	if (!req || !req->reservation)
		return sql_missing("reservation");
	const booking_reservation *b = req->reservation;
	if (b->seat_count && !b->seats)
		return sql_missing("reservation seats");

	char *arr[9] = {NULL};
	PGresult *r = NULL;
	events(arr, req->event, 1);
	arr[8] = sql_array(b->seats, b->seat_count, 0, 0, sizeof b->seats[0]->label - 1, 's', true);
	int rc = made(arr, 9);
	if (rc == 0) {
		const sql_arg a[] = {SQL_T(b->id),           SQL_T(b->user_id),    SQL_T(b->showtime_id), SQL_I(b->status),
		                     SQL_I(b->saga),         SQL_A(arr[8]),        SQL_I(b->total_amount), SQL_E(b->currency),
		                     SQL_I(b->created_at),   SQL_I(b->expires_at), SQL_I(b->updated_at),  SQL_I(b->version),
		                     SQL_I(req->now),        SQL_A(arr[0]),        SQL_A(arr[1]),         SQL_A(arr[2]),
		                     SQL_A(arr[3]),          SQL_A(arr[4]),        SQL_A(arr[5]),         SQL_A(arr[6]),
		                     SQL_A(arr[7])};
		const pg_resolver resolve = {&Q_BOOKING_EXISTS, a, 1}; /* the booking_handle */
		rc = pg_run((pg_store *)base, &Q_HOLD, a, 21, &r, &resolve);
	}
	free_all(arr, 9);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "reservation %s (or its event) already exists", b->id)
		                             : rc;
	const int rows = PQntuples(r), code = rows == 1 ? (int)pg_i64(r, 0, 0) : 0;
	const sql_rows row = {(sql_store *)base, NULL, r, 0, 1};
	void **labels = NULL;
	size_t n = 0, k;
	if (code == BOOKING_ESEAT_ALREADY_BOOKED || code == BOOKING_EVALIDATION)
		rc = sql_json_items(&row, 1, &labels, &n, sizeof(booking_seat_ref), 0, BOOKING_LABEL_SIZE);
	PQclear(r);
	if (rc < 0 || (code == 0 && rows == 1))
		return rc;
	if (rows != 1)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_hold() returned no row");
	if (code == BOOKING_EEXISTS)
		return booking_error_set(code, NULL, "reservation %s already exists", b->id);
	if (code == BOOKING_ESHOWTIME_NOT_FOUND)
		return booking_store_not_found(code);
	if (code != BOOKING_ESEAT_ALREADY_BOOKED && code != BOOKING_EVALIDATION)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_hold answered %d", code);
	/* the labels that refused the hold (taken, or unknown to the showtime): the core words the refusal */
	if (n == 0)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}", "a seat is requested twice");
	k = n < b->seat_count ? n : b->seat_count;
	for (size_t i = 0; taken && i < k; i++)
		taken[i] = *(const booking_seat_ref *)labels[i];
	if (taken_count)
		*taken_count = k;
	booking_free(labels);
	return booking_error_set(code, NULL, "hold refused");
}

/* ------------------------------------------------------------------------
 * Apply a change the core decided: booking_apply() (schema version 4).
 * ------------------------------------------------------------------------ */

static const pg_query Q_PAYMENT_EXISTS = {PGQ_PAYMENT_EXISTS, "SELECT 1 FROM payments WHERE id = $1"};
static const pg_query Q_EVENT_EXISTS = {PGQ_EVENT_EXISTS, "SELECT 1 FROM outbox WHERE id = $1"};

int pg_apply(size_t *failed_guard_out, booking_store *base, const booking_store_change *change)
{
	if (!change)
		return sql_missing("change");
	char *arr[12] = {NULL};
	PGresult *r = NULL;
#define GUARD(member, kind)                                                                                    \
	sql_array(change->guards, change->guard_count, sizeof(booking_store_guard),                            \
	          offsetof(booking_store_guard, member), 0, kind, true)
	arr[8] = GUARD(kind, 'e');
	arr[9] = GUARD(id, 'p');
	arr[10] = GUARD(value, 'i');
	arr[11] = GUARD(key, 'p');
#undef GUARD
	const booking_store_reservation_set *b = change->reservation;
	const booking_store_seat_move *s = change->seats;
	const booking_store_payment_set *pay = change->payment;
	const booking_store_idempotency_set *idem = change->idempotency;
	const booking_store_payment_start *st = change->start;
	const booking_payment *np = st ? st->payment : NULL;
	events(arr, change->events, change->event_count);
	int rc = made(arr, 12);
	if (rc == 0) {
		const sql_arg a[] = {
			SQL_A(arr[8]), SQL_A(arr[9]), SQL_A(arr[10]), SQL_A(arr[11]),
			SQL_T(b ? b->id : NULL), SQL_I(b ? b->status : 0), SQL_I(b ? b->saga : 0), SQL_I(b ? b->updated_at : 0),
			SQL_T(s ? s->reservation_id : NULL), SQL_I(s ? s->from : 0), SQL_I(s ? s->to : 0),
			SQL_I(s ? s->hold_until : 0),
			SQL_T(pay ? pay->id : NULL), SQL_I(pay ? pay->status : 0), SQL_T(pay ? pay->gateway_ref : NULL),
			SQL_T(pay ? pay->failure_code : NULL), SQL_I(pay ? pay->refunded_amount : -1),
			SQL_I(pay ? pay->updated_at : 0),
			SQL_T(idem ? idem->payment_id : NULL), SQL_I(idem ? idem->replay_error : 0),
			SQL_T(np ? np->id : NULL), SQL_T(np ? np->reservation_id : NULL), SQL_T(np ? np->user_id : NULL),
			SQL_I(np ? np->status : 0), SQL_I(np ? np->amount : 0), SQL_T(np ? np->currency : NULL),
			SQL_T(np ? np->card_last4 : NULL), SQL_T(np ? np->gateway_ref : NULL),
			SQL_T(np ? np->failure_code : NULL), SQL_I(np ? np->refunded_amount : 0),
			SQL_I(np ? np->created_at : 0), SQL_I(np ? np->updated_at : 0),
			SQL_T(st ? st->idempotency_key : NULL), SQL_T(st ? st->request_hash : NULL),
			SQL_A(arr[0]), SQL_A(arr[1]), SQL_A(arr[2]), SQL_A(arr[3]),
			SQL_A(arr[4]), SQL_A(arr[5]), SQL_A(arr[6]), SQL_A(arr[7])};
		/* a lost reply: the change committed when what it created is there (a start has no event) */
		const sql_arg created[] = {SQL_T(change->event_count > 0 ? change->events[0].id : np ? np->id : NULL)};
		const pg_resolver resolve = {change->event_count > 0 ? &Q_EVENT_EXISTS : np ? &Q_PAYMENT_EXISTS : NULL,
		                             created, 1};
		rc = pg_run((pg_store *)base, &Q_APPLY, a, 42, &r, &resolve);
	}
	free_all(arr, 12);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "a row the change adds already exists") : rc;
	int64_t failed = PQntuples(r) == 1 ? pg_i64(r, 0, 0) : -1;
	PQclear(r);
	if (failed == 0)
		return 0;
	if (failed < 0 || (size_t)failed > change->guard_count)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_apply answered %lld", (long long)failed);
	if (failed_guard_out)
		*failed_guard_out = (size_t)failed - 1;
	return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's guard %lld does not hold", (long long)failed - 1);
}
