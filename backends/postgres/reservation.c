/*
 * PostgreSQL store — reservations: hold, read, cancel/expire, due holds.
 *
 * A hold is one round trip: booking_hold() (schema.c) locks the claimable
 * requested seats in label order, claims them, inserts the booking (its
 * labels as a text[] column) and its event, or explains why not having
 * written nothing. No per-seat round trips.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const pg_query Q_HOLD = {PGQ_HOLD, 21,
	"SELECT rc, array_to_json(labels) FROM booking_hold($1, $2, $3, $4::smallint, $5::smallint, $6::text[], $7::bigint, $8,"
	" $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::text[], $15::text[], $16::text[],"
	" $17::text[], $18::bigint[], $19::text[], $20::text[], $21::text[])"};
static const pg_query Q_BOOKING_EXISTS = {PGQ_BOOKING_EXISTS, 1, "SELECT 1 FROM bookings WHERE id = $1"};
static const pg_query Q_APPLY = {PGQ_APPLY, 42,
	"SELECT booking_apply($1::smallint[], $2::text[], $3::bigint[], $4::text[], $5, $6::smallint, $7::smallint,"
	" $8::bigint, $9, $10::smallint, $11::smallint, $12::bigint, $13, $14::smallint, $15, $16, $17::bigint,"
	" $18::bigint, $19, $20::integer, $21, $22, $23, $24::smallint, $25::bigint, $26, $27, $28, $29,"
	" $30::bigint, $31::bigint, $32::bigint, $33, $34, $35::text[], $36::text[], $37::text[], $38::text[],"
	" $39::bigint[], $40::text[], $41::text[], $42::text[])"};

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: %s is required", what);
}

/* ------------------------------------------------------------------------
 * Hold.
 * ------------------------------------------------------------------------ */

static int hold_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const booking_reservation *b = arg;
	pg_params p;
	pp_init(&p);
	pp_text(&p, b->id);
	int rc = pg_exists(c, &Q_BOOKING_EXISTS, &p);
	pp_free(&p);
	return rc;
}

/* The labels that refused the hold (taken, or unknown to the showtime): the core words the refusal. */
static int hold_refused(int code, const booking_reservation *b, const booking_seat_ref *labels, size_t n,
                        booking_seat_ref *taken, size_t *taken_count)
{
	if (n == 0)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}", "a seat is requested twice");
	size_t k = n < b->seat_count ? n : b->seat_count;
	if (taken)
		memcpy(taken, labels, k * sizeof(*taken));
	if (taken_count)
		*taken_count = k;
	return booking_error_set(code, NULL, "hold refused");
}

int pg_hold(booking_store *base, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count)
{
	if (taken_count)
		*taken_count = 0;
	if (!req || !req->booking)
		return missing("booking");
	const booking_reservation *b = req->booking;
	if (b->seat_count && !b->seats)
		return missing("booking seats");

	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, b->id);
	pp_text(&p, b->user_id);
	pp_text(&p, b->showtime_id);
	pp_i64(&p, (int64_t)b->status);
	pp_i64(&p, (int64_t)b->saga);
	pp_text_array(&p, b->seats, b->seat_count, sizeof *b->seats, offsetof(booking_seat_ref, label), 's');
	pp_i64(&p, b->total_amount);
	pp_str(&p, b->currency);
	pp_i64(&p, b->created_at);
	pp_i64(&p, b->expires_at);
	pp_i64(&p, b->updated_at);
	pp_i64(&p, b->version);
	pp_i64(&p, req->now);
	pp_events(&p, req->event, req->event ? 1 : 0);
	int rc = pg_run(pg_impl(base), &Q_HOLD, &p, &r, hold_committed, b);
	pp_free(&p);
	if (rc == PG_COMMITTED)
		return 0;
	if (rc < 0)
		return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "booking %s (or its event) already exists", b->id)
		                             : rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_hold() returned no row");
	}
	int code = (int)pg_i64(r, 0, 0);
	void *labels = NULL;
	size_t n = 0;
	if (code == BOOKING_ESEAT_ALREADY_BOOKED || code == BOOKING_EVALIDATION) {
		const sql_rows row = {(sql_store *)base, NULL, r, 0, 1};
		rc = sql_json_items(&row, 1, &labels, &n, sizeof(booking_seat_ref), 0, BOOKING_LABEL_SIZE);
		if (rc < 0) {
			PQclear(r);
			return rc;
		}
	}
	PQclear(r);
	switch (code) {
	case 0:
		rc = 0;
		break;
	case BOOKING_ESEAT_ALREADY_BOOKED:
	case BOOKING_EVALIDATION:
		rc = hold_refused(code, b, labels, n, taken, taken_count);
		break;
	case BOOKING_EEXISTS:
		rc = booking_error_set(code, NULL, "booking %s already exists", b->id);
		break;
	case BOOKING_ESHOWTIME_NOT_FOUND:
		rc = booking_store_not_found(code);
		break;
	default:
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: booking_hold answered %d", code);
		break;
	}
	booking_free(labels);
	return rc;
}

/* ------------------------------------------------------------------------
 * Apply a change the core decided: booking_apply() (schema version 4).
 * ------------------------------------------------------------------------ */

static const pg_query Q_PAYMENT_EXISTS = {PGQ_PAYMENT_EXISTS, 1, "SELECT 1 FROM payments WHERE id = $1"};
static const pg_query Q_EVENT_EXISTS = {PGQ_EVENT_EXISTS, 1, "SELECT 1 FROM outbox WHERE id = $1"};

/*
 * A lost reply: the change committed when what it created is there — its
 * first event, or the payment it started (a start has no event).
 */
static int apply_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const booking_store_change *ch = arg;
	if (ch->event_count > 0 || (ch->start && ch->start->payment)) {
		pg_params p;
		pp_init(&p);
		pp_text(&p, ch->event_count > 0 ? ch->events[0].id : ch->start->payment->id);
		int rc = pg_exists(c, ch->event_count > 0 ? &Q_EVENT_EXISTS : &Q_PAYMENT_EXISTS, &p);
		pp_free(&p);
		return rc;
	}
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: the connection was lost; the outcome is unknown");
}

int pg_apply(booking_store *base, const booking_store_change *change, size_t *failed_guard_out)
{
	if (!change)
		return missing("change");
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
#define GUARD(member) change->guards, change->guard_count, sizeof(booking_store_guard), offsetof(booking_store_guard, member)
	pp_i64_array(&p, GUARD(kind), 'e');
	pp_text_array(&p, GUARD(id), 'p');
	pp_i64_array(&p, GUARD(value), 'i');
	pp_text_array(&p, GUARD(key), 'p');
#undef GUARD
	const booking_store_booking_set *b = change->booking;
	pp_text(&p, b ? b->id : NULL);
	pp_i64(&p, b ? (int64_t)b->status : 0);
	pp_i64(&p, b ? (int64_t)b->saga : 0);
	pp_i64(&p, b ? b->updated_at : 0);
	const booking_store_seat_move *s = change->seats;
	pp_text(&p, s ? s->booking_id : NULL);
	pp_i64(&p, s ? (int64_t)s->from : 0);
	pp_i64(&p, s ? (int64_t)s->to : 0);
	pp_i64(&p, s ? s->hold_until : 0);
	const booking_store_payment_set *pay = change->payment;
	pp_text(&p, pay ? pay->id : NULL);
	pp_i64(&p, pay ? (int64_t)pay->status : 0);
	pp_text(&p, pay ? pay->gateway_ref : NULL);
	pp_text(&p, pay ? pay->failure_code : NULL);
	pp_i64(&p, pay ? pay->refunded_amount : -1);
	pp_i64(&p, pay ? pay->updated_at : 0);
	pp_text(&p, change->idempotency ? change->idempotency->payment_id : NULL);
	pp_i64(&p, change->idempotency ? (int64_t)change->idempotency->replay_error : 0);
	const booking_store_payment_start *st = change->start;
	const booking_payment *np = st ? st->payment : NULL;
	pp_text(&p, np ? np->id : NULL);
	pp_text(&p, np ? np->booking_id : NULL);
	pp_text(&p, np ? np->user_id : NULL);
	pp_i64(&p, np ? (int64_t)np->status : 0);
	pp_i64(&p, np ? np->amount : 0);
	pp_text(&p, np ? np->currency : NULL);
	pp_text(&p, np ? np->card_last4 : NULL);
	pp_text(&p, np ? np->gateway_ref : NULL);
	pp_text(&p, np ? np->failure_code : NULL);
	pp_i64(&p, np ? np->refunded_amount : 0);
	pp_i64(&p, np ? np->created_at : 0);
	pp_i64(&p, np ? np->updated_at : 0);
	pp_text(&p, st ? st->idempotency_key : NULL);
	pp_text(&p, st ? st->request_hash : NULL);
	pp_events(&p, change->events, change->event_count);
	int rc = pg_run(pg_impl(base), &Q_APPLY, &p, &r, apply_committed, change);
	pp_free(&p);
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
