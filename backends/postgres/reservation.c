/*
 * PostgreSQL store — reservations: hold, read, cancel/expire, due holds;
 * and the kv group's put.
 *
 * A hold is one round trip: booking_hold_claim() (schema.c, version 12)
 * claims the requested seats in label order, inserts the reservation (its
 * labels as a text[] column) and its event, or has booking_hold() explain
 * why not having written nothing. When it had claimed some seats before
 * one refused it raises PG_HOLD_RECHECK, which rolls its call back, and a
 * second round trip asks booking_hold(), which locks before it writes and
 * explains (or holds). With a user seat limit (ledger version 3) it first
 * serialises on (user, showtime) and counts the user's taken seats
 * (schema version 8); with a live-hold limit (ledger version 4), on the
 * user before that, and counts the user's live holds (schema version 10).
 * No per-seat round trips.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const pg_query Q_HOLD = {PGQ_HOLD,
	"SELECT rc, array_to_json(labels) FROM booking_hold_claim($1, $2, $3, $4::smallint, $5::smallint, $6::text[],"
	" $7::bigint, $8, $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::bigint, $15::bigint,"
	" $16::smallint, $17::text[], $18::text[], $19::text[], $20::text[], $21::bigint[], $22::text[], $23::text[],"
	" $24::text[])"};
static const pg_query Q_HOLD_CHECKED = {PGQ_HOLD_CHECKED,
	"SELECT rc, array_to_json(labels) FROM booking_hold($1, $2, $3, $4::smallint, $5::smallint, $6::text[], $7::bigint, $8,"
	" $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::bigint, $15::bigint, $16::smallint,"
	" $17::text[], $18::text[], $19::text[], $20::text[], $21::bigint[], $22::text[], $23::text[], $24::text[])"};
static const pg_query Q_BOOKING_EXISTS = {PGQ_BOOKING_EXISTS, "SELECT 1 FROM bookings WHERE id = $1"};
static const pg_query Q_APPLY = {PGQ_APPLY,
	"SELECT booking_apply($1::smallint[], $2::text[], $3::bigint[], $4::text[], $5, $6::smallint, $7::smallint,"
	" $8::bigint, $9::bigint, $10::text[], $11::bigint, $12, $13::smallint, $14::smallint, $15::bigint, $16,"
	" $17::smallint, $18, $19, $20::bigint, $21::bigint, $22, $23::integer, $24, $25, $26, $27::smallint,"
	" $28::bigint, $29, $30, $31, $32, $33::bigint, $34::bigint, $35::bigint, $36, $37, $38, $39::bigint,"
	" $40::text[], $41::smallint[], $42::smallint[], $43::text[], $44::boolean[], $45::smallint[], $46::text[],"
	" $47::bigint[], $48::text[], $49, $50, $51, $52::smallint, $53::smallint, $54::text[], $55::bigint, $56,"
	" $57::bigint, $58::bigint, $59::bigint, $60::bigint, $61, $62, $63, $64, $65::text[], $66::text[],"
	" $67::text[], $68::text[], $69::bigint[], $70::text[], $71::text[], $72::text[], $73::smallint)"};

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
	/* ledger version 3 and 4: the user's seat and live-hold limits (0: none); one no count can pass is none */
	const int64_t limit = req->user_seat_limit > (size_t)INT64_MAX ? 0 : (int64_t)req->user_seat_limit;
	const int64_t holds = req->user_hold_limit > (size_t)INT64_MAX ? 0 : (int64_t)req->user_hold_limit;
	events(arr, req->event, 1);
	arr[8] = sql_array(b->seats, b->seat_count, 0, 0, sizeof b->seats[0]->label - 1, 's', true);
	int rc = made(arr, 9);
	if (rc == 0) {
		const sql_arg a[] = {SQL_T(b->id),           SQL_T(b->user_id),    SQL_T(b->showtime_id), SQL_I(b->status),
		                     SQL_I(b->saga),         SQL_A(arr[8]),        SQL_I(b->total_amount), SQL_E(b->currency),
		                     SQL_I(b->created_at),   SQL_I(b->expires_at), SQL_I(b->updated_at),  SQL_I(b->version),
		                     SQL_I(req->now),        SQL_I(limit),         SQL_I(holds),          SQL_I(req->live_status),
		                     SQL_A(arr[0]),          SQL_A(arr[1]),        SQL_A(arr[2]),         SQL_A(arr[3]),
		                     SQL_A(arr[4]),          SQL_A(arr[5]),        SQL_A(arr[6]),         SQL_A(arr[7])};
		const pg_resolver resolve = {&Q_BOOKING_EXISTS, a, 1}; /* the booking_handle */
		rc = pg_run((pg_store *)base, &Q_HOLD, a, sizeof a / sizeof a[0], &r, &resolve);
		if (rc == PG_RECHECK) /* it wrote seats before one refused: rolled back; the answer is the checked hold's */
			rc = pg_run((pg_store *)base, &Q_HOLD_CHECKED, a, sizeof a / sizeof a[0], &r, &resolve);
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
	if (code == BOOKING_ELIMIT_REACHED) /* the core words it (the limit it gave, the seats it asked) */
		return booking_error_set(code, NULL, "the user's seat or live-hold limit is reached");
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
 * Apply a change the core decided: booking_apply() (schema version 10).
 * ------------------------------------------------------------------------ */

static const pg_query Q_PAYMENT_EXISTS = {PGQ_PAYMENT_EXISTS, "SELECT 1 FROM payments WHERE id = $1"};
static const pg_query Q_EVENT_EXISTS = {PGQ_EVENT_EXISTS, "SELECT 1 FROM outbox WHERE id = $1"};

/* The seat writes' `write` flags as a boolean[] literal; NULL when out of memory (the error set). */
static char *write_flags(const booking_store_seat_write *w, size_t n)
{
	char *s = booking_malloc(2 * n + 3);
	size_t at = 0;

	if (!s) {
		booking_error_oom();
		return NULL;
	}
	s[at++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			s[at++] = ',';
		s[at++] = w[i].write ? 't' : 'f';
	}
	s[at++] = '}';
	s[at] = '\0';
	return s;
}

/* What the store needs of a change of ledger version 2 besides its pointers: 0, or the caller's mistake (set). */
static int check_v2(const booking_store_change *change)
{
	const booking_reservation *ins = change->insert;
	const booking_store_key_record *key = change->key;

	if (change->seat_write_count > 0 && (!change->seat_writes || !change->showtime_id))
		return sql_missing("the seat writes and their showtime");
	for (size_t i = 0; i < change->seat_write_count; i++) {
		const booking_store_seat_write *w = &change->seat_writes[i];
		if (!w->label)
			return sql_missing("a seat write's label");
		if (w->expect != BOOKING_SEAT_EXPECT_CLAIMABLE && w->expect != BOOKING_SEAT_EXPECT_STATUS)
			return booking_error_set(BOOKING_EVALIDATION, NULL, "store: seat write %zu: unknown expectation %d", i,
			                         (int)w->expect);
	}
	if (ins && ins->seat_count && !ins->seats)
		return sql_missing("the inserted reservation's seats");
	if (key && (!key->user_id || !key->key || !key->reservation_id))
		return sql_missing("the key's user, key and reservation");
	return 0;
}

/* BOOKING_EEXISTS from booking_apply(): which row it was, by the unique index that refused it. */
static int exists_error(const booking_store_change *change)
{
	const char *msg = booking_error_last()->message;

	if (change->insert && strstr(msg, "(bookings_pkey)"))
		return booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", change->insert->id);
	if (strstr(msg, "(idempotency_keys_pkey)"))
		return booking_error_set(BOOKING_EEXISTS, NULL, "the idempotency key already has a record");
	return booking_error_set(BOOKING_EEXISTS, NULL, "a row the change adds already exists");
}

/* The arrays pg_apply() hands over as array literals, by where they start in its `arr`. */
enum {
	A_EVENTS = 0,      /* 8: booking_append_events()'s */
	A_GUARDS = 8,      /* 4: kind, id, value, key */
	A_WRITES = 12,     /* 9: the seat writes' members, in booking_apply()'s order */
	A_MADE = 21,       /* the arrays above are always made; the two below when their record has seats */
	A_SET_SEATS = 21,  /* the reservation set's new seats */
	A_INSERT_SEATS,    /* the inserted reservation's */
	A_COUNT
};

int pg_apply(size_t *failed_guard_out, booking_store *base, const booking_store_change *change)
{
	if (!change)
		return sql_missing("change");
	int rc = check_v2(change);
	if (rc < 0)
		return rc;
	char *arr[A_COUNT] = {NULL};
	PGresult *r = NULL;
	const booking_store_seat_write *sw = change->seat_writes;
	const size_t nw = change->seat_write_count;
#define GUARD(member, kind)                                                                                    \
	sql_array(change->guards, change->guard_count, sizeof(booking_store_guard),                            \
	          offsetof(booking_store_guard, member), 0, kind, true)
	arr[A_GUARDS + 0] = GUARD(kind, 'e');
	arr[A_GUARDS + 1] = GUARD(id, 'p');
	arr[A_GUARDS + 2] = GUARD(value, 'i');
	arr[A_GUARDS + 3] = GUARD(key, 'p');
#undef GUARD
#define WRITE(member, kind)                                                                                    \
	sql_array(sw, nw, sizeof *sw, offsetof(booking_store_seat_write, member), 0, kind, true)
	arr[A_WRITES + 0] = WRITE(label, 'p');
	arr[A_WRITES + 1] = WRITE(expect, 'e');
	arr[A_WRITES + 2] = WRITE(expect_status, 'e');
	arr[A_WRITES + 3] = WRITE(expect_reservation, 'p');
	arr[A_WRITES + 4] = write_flags(sw, nw);
	arr[A_WRITES + 5] = WRITE(status, 'e');
	arr[A_WRITES + 6] = WRITE(reservation_id, 'p');
	arr[A_WRITES + 7] = WRITE(hold_until, 'i');
	arr[A_WRITES + 8] = WRITE(note, 'p');
#undef WRITE
	const booking_store_reservation_set *b = change->reservation;
	const booking_store_seat_move *s = change->seats;
	const booking_store_payment_set *pay = change->payment;
	const booking_store_idempotency_set *idem = change->idempotency;
	const booking_store_payment_start *st = change->start;
	const booking_payment *np = st ? st->payment : NULL;
	const booking_reservation *ins = change->insert;
	const booking_store_key_record *key = change->key;
	const bool set_seats = b && b->seats;
	events(arr + A_EVENTS, change->events, change->event_count);
	if (set_seats)
		arr[A_SET_SEATS] = sql_array(b->seats, b->seat_count, 0, 0, sizeof b->seats[0]->label - 1, 's', true);
	if (ins)
		arr[A_INSERT_SEATS] = sql_array(ins->seats, ins->seat_count, 0, 0, sizeof ins->seats[0]->label - 1, 's', true);
	rc = made(arr, A_MADE);
	if (rc == 0 && ((set_seats && !arr[A_SET_SEATS]) || (ins && !arr[A_INSERT_SEATS])))
		rc = BOOKING_ENOMEM;
	if (rc == 0) {
		char *const *w = arr + A_WRITES;
		const sql_arg a[] = {
			/* the guards */
			SQL_A(arr[A_GUARDS]), SQL_A(arr[A_GUARDS + 1]), SQL_A(arr[A_GUARDS + 2]), SQL_A(arr[A_GUARDS + 3]),
			/* the reservation set */
			SQL_T(b ? b->id : NULL), SQL_I(b ? b->status : 0), SQL_I(b ? b->saga : 0), SQL_I(b ? b->updated_at : 0),
			SQL_I(b ? b->expires_at : 0), SQL_A(arr[A_SET_SEATS]), SQL_I(set_seats ? b->total_amount : 0),
			/* the seat move */
			SQL_T(s ? s->reservation_id : NULL), SQL_I(s ? s->from : 0), SQL_I(s ? s->to : 0),
			SQL_I(s ? s->hold_until : 0),
			/* the payment set, the idempotency completion, the payment start */
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
			/* the seat writes */
			SQL_T(change->showtime_id), SQL_I(change->now), SQL_A(w[0]), SQL_A(w[1]), SQL_A(w[2]), SQL_A(w[3]),
			SQL_A(w[4]), SQL_A(w[5]), SQL_A(w[6]), SQL_A(w[7]), SQL_A(w[8]),
			/* the inserted reservation */
			SQL_T(ins ? ins->id : NULL), SQL_T(ins ? ins->user_id : NULL), SQL_T(ins ? ins->showtime_id : NULL),
			SQL_I(ins ? ins->status : 0), SQL_I(ins ? ins->saga : 0), SQL_A(arr[A_INSERT_SEATS]),
			SQL_I(ins ? ins->total_amount : 0), SQL_E(ins ? ins->currency : NULL),
			SQL_I(ins ? ins->created_at : 0), SQL_I(ins ? ins->expires_at : 0), SQL_I(ins ? ins->updated_at : 0),
			SQL_I(ins ? ins->version : 0),
			/* the hold's key */
			SQL_T(key ? key->user_id : NULL), SQL_T(key ? key->key : NULL), SQL_E(key ? key->request_hash : NULL),
			SQL_T(key ? key->reservation_id : NULL),
			/* the events */
			SQL_A(arr[A_EVENTS]), SQL_A(arr[A_EVENTS + 1]), SQL_A(arr[A_EVENTS + 2]), SQL_A(arr[A_EVENTS + 3]),
			SQL_A(arr[A_EVENTS + 4]), SQL_A(arr[A_EVENTS + 5]), SQL_A(arr[A_EVENTS + 6]), SQL_A(arr[A_EVENTS + 7]),
			/* ledger version 4: the status USER_HOLDS counts */
			SQL_I(change->live_status)};
		_Static_assert(sizeof a / sizeof a[0] == 73, "booking_apply() takes 73 arguments");
		/*
		 * A lost reply: the change committed when a row it created is
		 * there: the reservation it inserts, else its first event, else
		 * the payment it starts. A change that creates none cannot be told.
		 */
		const pg_query *q = ins ? &Q_BOOKING_EXISTS
		                  : change->event_count > 0 ? &Q_EVENT_EXISTS
		                  : np ? &Q_PAYMENT_EXISTS : NULL;
		const sql_arg created[] = {SQL_T(ins ? ins->id : change->event_count > 0 ? change->events[0].id
		                                                 : np ? np->id : NULL)};
		const pg_resolver resolve = {q, created, 1};
		rc = pg_run((pg_store *)base, &Q_APPLY, a, sizeof a / sizeof a[0], &r, &resolve);
	}
	free_all(arr, A_COUNT);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc == BOOKING_EEXISTS ? exists_error(change) : rc;
	int64_t failed = PQntuples(r) == 1 ? pg_i64(r, 0, 0) : -1;
	PQclear(r);
	if (failed == 0)
		return 0;
	if (failed < 0 || (size_t)failed > change->guard_count + nw)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_apply answered %lld", (long long)failed);
	if (failed_guard_out)
		*failed_guard_out = (size_t)failed - 1;
	return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's guard %lld does not hold", (long long)failed - 1);
}

/* ------------------------------------------------------------------------
 * The kv group's put: booking_kv_put() (schema version 9), one round trip.
 * ------------------------------------------------------------------------ */

static const pg_query Q_KV_PUT = {PGQ_KV_PUT,
	"SELECT ok, live FROM booking_kv_put($1, $2, $3, $4, $5, $6, $7, $8::text[], $9::text[], $10::text[],"
	" $11::text[], $12::bigint[], $13::text[], $14::text[], $15::text[])"};

int pg_kv_put(sql_store *base, const booking_store_kv_put *req, bool *written, int64_t *live)
{
	char *arr[8] = {NULL};
	PGresult *r = NULL;
	events(arr, req->events, req->event_count);
	int rc = made(arr, 8);
	if (rc == 0) {
		const sql_arg a[] = {SQL_T(req->ns),   SQL_T(req->key),        SQL_I(req->expected_version),
		                     SQL_T(req->value), SQL_I(req->rank),      SQL_I(req->expires_at),
		                     SQL_I(req->now),  SQL_A(arr[0]),          SQL_A(arr[1]),
		                     SQL_A(arr[2]),    SQL_A(arr[3]),          SQL_A(arr[4]),
		                     SQL_A(arr[5]),    SQL_A(arr[6]),          SQL_A(arr[7])};
		/* a lost reply: the put committed when its first event is there (without events it cannot be told) */
		const sql_arg first[] = {SQL_T(req->event_count > 0 ? req->events[0].id : NULL)};
		const pg_resolver resolve = {req->event_count > 0 ? &Q_EVENT_EXISTS : NULL, first, 1};
		rc = pg_run((pg_store *)base, &Q_KV_PUT, a, sizeof a / sizeof a[0], &r, &resolve);
	}
	free_all(arr, 8);
	if (rc == PG_COMMITTED) {
		*written = true;
		*live = req->value ? req->expected_version + 1 : 0;
		return 0;
	}
	if (rc == 0 && PQntuples(r) == 1) {
		*written = pg_i64(r, 0, 0) == 1;
		*live = pg_i64(r, 0, 1);
	} else if (rc == 0) {
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_kv_put() returned no row");
	}
	PQclear(r);
	return rc;
}
