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

#include <stdio.h>
#include <string.h>

static const pg_query Q_HOLD = {PGQ_HOLD, 21,
	"SELECT rc, labels FROM booking_hold($1, $2, $3, $4::smallint, $5::smallint, $6::text[], $7::bigint, $8,"
	" $9::bigint, $10::bigint, $11::bigint, $12::bigint, $13::bigint, $14::text[], $15::text[], $16::text[],"
	" $17::text[], $18::bigint[], $19::text[], $20::text[], $21::text[])"};
static const pg_query Q_BOOKING_GET = {PGQ_BOOKING_GET, 1,
	"SELECT " PG_BOOKING_COLUMNS " FROM bookings WHERE id = $1"};
static const pg_query Q_BOOKING_EXISTS = {PGQ_BOOKING_EXISTS, 1, "SELECT 1 FROM bookings WHERE id = $1"};
/* A page of a user's bookings: the first, or the one after a (created_at, id) key; index bookings_user. */
static const pg_query Q_BOOKING_LIST_USER = {PGQ_BOOKING_LIST_USER, 2,
	"SELECT " PG_BOOKING_COLUMNS " FROM bookings WHERE user_id = $1"
	" ORDER BY created_at DESC, id DESC LIMIT $2::bigint"};
static const pg_query Q_BOOKING_LIST_USER_AFTER = {PGQ_BOOKING_LIST_USER_AFTER, 4,
	"SELECT " PG_BOOKING_COLUMNS " FROM bookings WHERE user_id = $1 AND (created_at, id) < ($2::bigint, $3)"
	" ORDER BY created_at DESC, id DESC LIMIT $4::bigint"};
static const pg_query Q_APPLY = {PGQ_APPLY, 42,
	"SELECT booking_apply($1::smallint[], $2::text[], $3::bigint[], $4::text[], $5, $6::smallint, $7::smallint,"
	" $8::bigint, $9, $10::smallint, $11::smallint, $12::bigint, $13, $14::smallint, $15, $16, $17::bigint,"
	" $18::bigint, $19, $20::integer, $21, $22, $23, $24::smallint, $25::bigint, $26, $27, $28, $29,"
	" $30::bigint, $31::bigint, $32::bigint, $33, $34, $35::text[], $36::text[], $37::text[], $38::text[],"
	" $39::bigint[], $40::text[], $41::text[], $42::text[])"};
/* index bookings_status_expiry (schema version 5) */
static const pg_query Q_BOOKING_LIST_STATUS = {PGQ_BOOKING_LIST_STATUS, 3,
	"SELECT " PG_BOOKING_COLUMNS " FROM bookings WHERE status = $1::smallint AND expires_at <= $2::bigint"
	" ORDER BY expires_at, created_at, id LIMIT $3::bigint"};

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: %s is required", what);
}

/* ------------------------------------------------------------------------
 * Rows.
 * ------------------------------------------------------------------------ */

int pg_booking_from_row(const PGresult *r, int row, int col, booking_reservation *b)
{
	void *seats = NULL;
	size_t n = 0;
	memset(b, 0, sizeof *b);
	pg_copy(b->id, sizeof b->id, r, row, col + 0);
	pg_copy(b->user_id, sizeof b->user_id, r, row, col + 1);
	pg_copy(b->showtime_id, sizeof b->showtime_id, r, row, col + 2);
	b->status = (booking_status)pg_i64(r, row, col + 3);
	b->saga = (booking_saga_state)pg_i64(r, row, col + 4);
	int rc = pg_parse_text_array(pg_str(r, row, col + 5), &seats, &n, sizeof(booking_seat_ref), BOOKING_LABEL_SIZE);
	if (rc < 0)
		return rc;
	b->seats = seats;
	b->seat_count = n;
	b->total_amount = pg_i64(r, row, col + 6);
	pg_copy(b->currency, sizeof b->currency, r, row, col + 7);
	b->created_at = pg_i64(r, row, col + 8);
	b->expires_at = pg_i64(r, row, col + 9);
	b->updated_at = pg_i64(r, row, col + 10);
	b->version = pg_i64(r, row, col + 11);
	return 0;
}

/* Append `s` as a JSON string at p (room: 6 bytes per input byte + 2); returns the new end. */
static char *json_str(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	*p++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*p++ = '\\';
			*p++ = (char)*c;
		} else if (*c < 0x20) {
			p += sprintf(p, "\\u00%c%c", hex[*c >> 4], hex[*c & 15]);
		} else {
			*p++ = (char)*c;
		}
	}
	*p++ = '"';
	return p;
}

/* ------------------------------------------------------------------------
 * Hold.
 * ------------------------------------------------------------------------ */

static const char *ref_label(const void *b, size_t i)
{
	return ((const booking_seat_ref *)b)[i].label;
}

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

static int hold_taken(const booking_reservation *b, const booking_seat_ref *labels, size_t n,
                      booking_seat_ref *taken, size_t *taken_count)
{
	char *details = booking_malloc(16 + n * (6 * BOOKING_LABEL_SIZE + 4));
	size_t k = 0;
	if (details) {
		char *p = details + sprintf(details, "{\"seats\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				*p++ = ',';
			p = json_str(p, labels[i].label);
		}
		strcpy(p, "]}");
	}
	for (size_t i = 0; i < n && i < b->seat_count; i++) {
		if (taken)
			taken[k] = labels[i];
		k++;
	}
	if (taken_count)
		*taken_count = k;
	int rc = booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, details, "%zu of the requested seats are taken", k);
	booking_free(details);
	return rc;
}

static int hold_missing(const booking_reservation *b, const booking_seat_ref *labels, size_t n)
{
	if (n == 0)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}", "a seat is requested twice");
	char details[64 + 6 * BOOKING_LABEL_SIZE];
	char *p = details + sprintf(details, "{\"field\":\"seats\",\"seat\":");
	p = json_str(p, labels[0].label);
	strcpy(p, "}");
	return booking_error_set(BOOKING_EVALIDATION, details, "seat %s does not exist at showtime %s", labels[0].label,
	                         b->showtime_id);
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
	pp_text_array(&p, b->seats, b->seat_count, ref_label);
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
		rc = pg_parse_text_array(pg_str(r, 0, 1), &labels, &n, sizeof(booking_seat_ref), BOOKING_LABEL_SIZE);
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
		rc = hold_taken(b, labels, n, taken, taken_count);
		break;
	case BOOKING_EVALIDATION:
		rc = hold_missing(b, labels, n);
		break;
	case BOOKING_EEXISTS:
		rc = booking_error_set(code, NULL, "booking %s already exists", b->id);
		break;
	default:
		rc = pg_domain_error(code, "hold", b->showtime_id);
		break;
	}
	booking_free(labels);
	return rc;
}

/* ------------------------------------------------------------------------
 * Reads.
 * ------------------------------------------------------------------------ */

int pg_booking_get(booking_store *base, const char *id, booking_reservation **out)
{
	if (!out)
		return missing("out");
	*out = NULL;
	PGresult *r;
	int rc = pg_get_one(base, &Q_BOOKING_GET, id, BOOKING_EBOOKING_NOT_FOUND, "booking_get", &r);
	if (rc < 0)
		return rc;
	booking_reservation *b = booking_malloc(sizeof *b);
	rc = b ? pg_booking_from_row(r, 0, 0, b) : booking_error_oom();
	PQclear(r);
	if (rc < 0) {
		booking_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

/* Call `cb` for each booking row of `r`, then free it. */
static int deliver_bookings(PGresult *r, booking_store_booking_cb cb, void *payload)
{
	int rc = 0;
	for (int i = 0, n = PQntuples(r); i < n && cb && rc == 0; i++) {
		booking_reservation b;
		rc = pg_booking_from_row(r, i, 0, &b);
		if (rc == 0)
			rc = cb(&b, payload);
		booking_free(b.seats);
	}
	PQclear(r);
	return rc;
}

int pg_booking_list_by_user(booking_store *base, const char *user_id, int64_t after_created_at, const char *after_id,
                            size_t max, booking_store_booking_cb cb, void *payload)
{
	if (!user_id)
		return missing("user_id");
	if (max == 0)
		return 0;
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_text(&p, user_id);
	if (after_id) {
		pp_i64(&p, after_created_at);
		pp_text(&p, after_id);
	}
	pp_i64(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	int rc = pg_run(pg_impl(base), after_id ? &Q_BOOKING_LIST_USER_AFTER : &Q_BOOKING_LIST_USER, &p, &r, NULL, NULL);
	pp_free(&p);
	return rc < 0 ? rc : deliver_bookings(r, cb, payload);
}

int pg_booking_list_by_status(booking_store *base, booking_status status, int64_t expires_before, size_t max,
                              booking_store_booking_cb cb, void *payload)
{
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_i64(&p, (int64_t)status);
	pp_i64(&p, expires_before);
	pp_i64(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	int rc = pg_run(pg_impl(base), &Q_BOOKING_LIST_STATUS, &p, &r, NULL, NULL);
	pp_free(&p);
	return rc < 0 ? rc : deliver_bookings(r, cb, payload);
}


/* ------------------------------------------------------------------------
 * Apply a change the core decided: booking_apply() (schema version 4).
 * ------------------------------------------------------------------------ */

static int64_t guard_kind(const void *base, size_t i)
{
	return (int64_t)((const booking_store_guard *)base)[i].kind;
}

static const char *guard_id(const void *base, size_t i)
{
	return ((const booking_store_guard *)base)[i].id;
}

static int64_t guard_value(const void *base, size_t i)
{
	return ((const booking_store_guard *)base)[i].value;
}

static const char *guard_key(const void *base, size_t i)
{
	const char *k = ((const booking_store_guard *)base)[i].key;
	return k ? k : "";
}

static const pg_query Q_PAYMENT_EXISTS = {PGQ_PAYMENT_EXISTS, 1, "SELECT 1 FROM payments WHERE id = $1"};

/*
 * A lost reply: the change committed when what it created is there — its
 * first event, or the payment it started (a start has no event).
 */
static int apply_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const booking_store_change *ch = arg;
	if (ch->event_count > 0)
		return pg_event_exists(c, ch->events[0].id);
	if (ch->start && ch->start->payment) {
		pg_params p;
		pp_init(&p);
		pp_text(&p, ch->start->payment->id);
		int rc = pg_exists(c, &Q_PAYMENT_EXISTS, &p);
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
	pp_i64_array(&p, change->guards, change->guard_count, guard_kind);
	pp_text_array(&p, change->guards, change->guard_count, guard_id);
	pp_i64_array(&p, change->guards, change->guard_count, guard_value);
	pp_text_array(&p, change->guards, change->guard_count, guard_key);
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
