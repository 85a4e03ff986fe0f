/*
 * PostgreSQL store — payments: begin (idempotency keys), finish, refund,
 * reads. Each write is one call of a PL/pgSQL function (schema.c), one
 * round trip.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_PAY_BEGIN = {PGQ_PAY_BEGIN, 16,
	"SELECT r.rc, r.kind, r.replay_error, (r.pay).* FROM booking_pay_begin($1, $2, $3, $4, $5, $6::smallint,"
	" $7::bigint, $8, $9, $10, $11, $12::bigint, $13::bigint, $14::bigint, $15::bigint, $16::bigint) r"};
static const pg_query Q_PAY_BEGIN_RESOLVE = {PGQ_PAY_BEGIN_RESOLVE, 3,
	"SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND payment_id = $3"};
static const pg_query Q_PAYMENT_GET = {PGQ_PAYMENT_GET, 1,
	"SELECT " PG_PAYMENT_COLUMNS " FROM payments WHERE id = $1"};
static const pg_query Q_LIST_PROCESSING = {PGQ_LIST_PROCESSING, 2,
	"SELECT " PG_PAYMENT_COLUMNS " FROM payments WHERE status = 1 AND created_at <= $1::bigint"
	" ORDER BY created_at, id LIMIT $2::bigint"};

static const pg_query Q_PAYMENT_ATTEMPTS = {PGQ_PAYMENT_ATTEMPTS, 4,
	"SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2)::int,"
	" (SELECT count(*) FROM payments WHERE booking_id = $3 AND status = 3),"
	" (SELECT count(*) FROM payments WHERE user_id = $1 AND status = 3 AND created_at >= $4::bigint)"};

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

static int pay_begin_committed(pg_store *st, pg_conn *c, const void *arg)
{
	(void)st;
	const booking_store_pay_begin *req = arg;
	pg_params p;
	pp_init(&p);
	pp_text(&p, req->user_id);
	pp_text(&p, req->idempotency_key);
	pp_text(&p, req->payment->id);
	int rc = pg_exists(c, &Q_PAY_BEGIN_RESOLVE, &p);
	pp_free(&p);
	return rc;
}

static int pay_begin_error(int code, const booking_store_pay_begin *req)
{
	const char *booking_id = req->payment->booking_id;
	switch (code) {
	case BOOKING_EINVALID_STATE:
		return booking_error_set(code, NULL, "booking %s is not PENDING", booking_id);
	case BOOKING_EEXPIRED:
		return booking_error_set(code, NULL, "the hold of booking %s has expired", booking_id);
	case BOOKING_EINTERNAL:
		return booking_error_set(code, NULL, "idempotency record without its payment");
	default:
		return pg_domain_error(code, "pay", booking_id);
	}
}

int pg_pay_begin(booking_store *base, const booking_store_pay_begin *req, booking_store_pay_begin_result *res)
{
	if (!res)
		return missing("result");
	memset(res, 0, sizeof *res);
	if (!req || !req->payment || !req->user_id || !req->idempotency_key)
		return missing("payment, user_id and idempotency_key");
	const booking_payment *np = req->payment;
	/* allocated before the write, so nothing can fail once the payment has begun */
	booking_payment *out = booking_malloc(sizeof *out);
	if (!out)
		return booking_error_oom();
	pg_params p;
	PGresult *r = NULL;
	pp_init(&p);
	pp_text(&p, req->user_id);
	pp_text(&p, req->idempotency_key);
	pp_str(&p, req->request_hash);
	pp_text(&p, np->id);
	pp_text(&p, np->booking_id);
	pp_i64(&p, (int64_t)np->status);
	pp_i64(&p, np->amount);
	pp_str(&p, np->currency);
	pp_str(&p, np->card_last4);
	pp_str(&p, np->gateway_ref);
	pp_str(&p, np->failure_code);
	pp_i64(&p, np->refunded_amount);
	pp_i64(&p, np->created_at);
	pp_i64(&p, np->updated_at);
	pp_i64(&p, req->now);
	pp_i64(&p, req->seats_hold_until);
	int rc = pg_run(pg_impl(base), &Q_PAY_BEGIN, &p, &r, pay_begin_committed, req);
	pp_free(&p);
	if (rc == PG_COMMITTED) {
		*out = *np;
		res->payment = out;
		res->kind = BOOKING_PAY_BEGIN_STARTED;
		return 0;
	}
	if (rc < 0) {
		booking_free(out);
		return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "payment %s already exists", np->id) : rc;
	}
	int code = PQntuples(r) == 1 ? (int)pg_i64(r, 0, 0) : BOOKING_EINTERNAL;
	int kind = PQntuples(r) == 1 ? (int)pg_i64(r, 0, 1) : 0;
	if (code != 0) {
		PQclear(r);
		booking_free(out);
		return pay_begin_error(code, req);
	}
	if (kind == BOOKING_PAY_BEGIN_REPLAY) {
		pg_payment_from_row(r, 0, 3, out);
		res->replay_error = (int)pg_i64(r, 0, 2);
		res->kind = BOOKING_PAY_BEGIN_REPLAY;
	} else {
		*out = *np;
		res->kind = BOOKING_PAY_BEGIN_STARTED;
	}
	PQclear(r);
	res->payment = out;
	return 0;
}


/* ------------------------------------------------------------------------
 * Reads.
 * ------------------------------------------------------------------------ */

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

int pg_list_processing(booking_store *base, int64_t before, size_t max, booking_store_payment_cb cb, void *payload)
{
	pg_params p;
	PGresult *r;
	pp_init(&p);
	pp_i64(&p, before);
	pp_i64(&p, max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max);
	int rc = pg_run(pg_impl(base), &Q_LIST_PROCESSING, &p, &r, NULL, NULL);
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
                        const char *idempotency_key, const char *booking_id, int64_t since)
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
	pp_i64(&p, since);
	int rc = pg_run(pg_impl(base), &Q_PAYMENT_ATTEMPTS, &p, &r, NULL, NULL);
	pp_free(&p);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 1) {
		int64_t booking = pg_i64(r, 0, 1), user = pg_i64(r, 0, 2);
		out->key_used = pg_i64(r, 0, 0) != 0;
		out->booking_failed = booking > 0 ? (size_t)booking : 0;
		out->user_failed = user > 0 ? (size_t)user : 0;
	}
	PQclear(r);
	return 0;
}
