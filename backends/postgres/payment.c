/*
 * PostgreSQL store — payments: idempotency records, reads, attempt counts.
 * Every change, a payment that starts included, is one call of
 * booking_apply (reservation.c, schema.c): one round trip.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_IDEM_GET = {PGQ_IDEM_GET, 2,
	"SELECT request_hash, payment_id, completed::int, replay_error FROM idempotency_keys WHERE user_id = $1 AND key = $2"};
static const pg_query Q_PAYMENT_GET = {PGQ_PAYMENT_GET, 1,
	"SELECT " PG_PAYMENT_COLUMNS " FROM payments WHERE id = $1"};
/* index payments_status_created (schema version 5) */
static const pg_query Q_PAYMENT_LIST_STATUS = {PGQ_PAYMENT_LIST_STATUS, 3,
	"SELECT " PG_PAYMENT_COLUMNS " FROM payments WHERE status = $1::smallint AND created_at <= $2::bigint"
	" ORDER BY created_at, id LIMIT $3::bigint"};

/* indexes payments_booking and payments_user_status (schema version 5) */
static const pg_query Q_PAYMENT_ATTEMPTS = {PGQ_PAYMENT_ATTEMPTS, 5,
	"SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2)::int,"
	" (SELECT count(*) FROM payments WHERE booking_id = $3 AND status = $4::smallint),"
	" (SELECT count(*) FROM payments WHERE user_id = $1 AND status = $4::smallint AND created_at >= $5::bigint)"};

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: %s is required", what);
}

void pg_payment_from_row(const PGresult *r, int row, int col, booking_payment *p)
{
	memset(p, 0, sizeof *p);
	pg_copy(p->id, sizeof p->id, r, row, col + 0);
	pg_copy(p->booking_id, sizeof p->booking_id, r, row, col + 1);
	pg_copy(p->user_id, sizeof p->user_id, r, row, col + 2);
	p->status = (booking_payment_status)pg_i64(r, row, col + 3);
	p->amount = pg_i64(r, row, col + 4);
	pg_copy(p->currency, sizeof p->currency, r, row, col + 5);
	pg_copy(p->card_last4, sizeof p->card_last4, r, row, col + 6);
	pg_copy(p->gateway_ref, sizeof p->gateway_ref, r, row, col + 7);
	pg_copy(p->failure_code, sizeof p->failure_code, r, row, col + 8);
	p->refunded_amount = pg_i64(r, row, col + 9);
	p->created_at = pg_i64(r, row, col + 10);
	p->updated_at = pg_i64(r, row, col + 11);
}

static booking_payment *payment_dup(const booking_payment *src)
{
	booking_payment *p = booking_malloc(sizeof *p);
	if (p)
		*p = *src;
	return p;
}

/* ------------------------------------------------------------------------
 * Begin.
 * ------------------------------------------------------------------------ */

int pg_idempotency_get(booking_store *base, const char *user_id, const char *key, booking_store_idempotency_record *out)
{
	if (!out || !user_id || !key)
		return missing("out, user_id and key");
	memset(out, 0, sizeof(*out));
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_str(&p, user_id);
	pp_str(&p, key);
	int rc = pg_run(pg_impl(base), &Q_IDEM_GET, &p, &r, NULL, NULL);
	pp_free(&p);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "no idempotency record");
	}
	pg_copy(out->request_hash, sizeof out->request_hash, r, 0, 0);
	pg_copy(out->payment_id, sizeof out->payment_id, r, 0, 1);
	out->completed = pg_i64(r, 0, 2) != 0;
	out->replay_error = (int)pg_i64(r, 0, 3);
	PQclear(r);
	return 0;
}

int pg_payment_get(booking_store *base, const char *id, booking_payment **out)
{
	if (!out)
		return missing("out");
	*out = NULL;
	PGresult *r;
	int rc = pg_get_one(base, &Q_PAYMENT_GET, id, BOOKING_EPAYMENT_NOT_FOUND, "payment_get", &r);
	if (rc < 0)
		return rc;
	booking_payment row;
	pg_payment_from_row(r, 0, 0, &row);
	PQclear(r);
	if (!(*out = payment_dup(&row)))
		return booking_error_oom();
	return 0;
}

int pg_payment_list_by_status(booking_store *base, booking_payment_status status, int64_t created_before, size_t max,
                              booking_store_payment_cb cb, void *payload)
{
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_i64(&p, (int64_t)status);
	pp_i64(&p, created_before);
	pp_i64(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	int rc = pg_run(pg_impl(base), &Q_PAYMENT_LIST_STATUS, &p, &r, NULL, NULL);
	pp_free(&p);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(r); i < n && cb && rc == 0; i++) {
		booking_payment pay;
		pg_payment_from_row(r, i, 0, &pay);
		rc = cb(&pay, payload);
	}
	PQclear(r);
	return rc;
}

int pg_payment_attempts(booking_store *base, booking_store_payment_attempts *out, const char *user_id,
                        const char *idempotency_key, const char *booking_id, booking_payment_status status,
                        int64_t since)
{
	if (!out || !user_id || !idempotency_key || !booking_id)
		return missing("out, user_id, idempotency_key and booking_id");
	memset(out, 0, sizeof(*out));
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_str(&p, user_id);
	pp_str(&p, idempotency_key);
	pp_str(&p, booking_id);
	pp_i64(&p, (int64_t)status);
	pp_i64(&p, since);
	int rc = pg_run(pg_impl(base), &Q_PAYMENT_ATTEMPTS, &p, &r, NULL, NULL);
	pp_free(&p);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 1) {
		int64_t booking = pg_i64(r, 0, 1), user = pg_i64(r, 0, 2);
		out->key_used = pg_i64(r, 0, 0) != 0;
		out->booking_count = booking > 0 ? (size_t)booking : 0;
		out->user_count = user > 0 ? (size_t)user : 0;
	}
	PQclear(r);
	return 0;
}
