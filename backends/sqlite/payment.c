/*
 * SQLite store — payments: the rows a starting payment adds, idempotency records,
 * reads, payments by status, attempt counts (every change is applied by apply, reservation.c).
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "sqlite_store.h"

static const char SQL_IDEM_GET[] =
	"SELECT request_hash, payment_id, completed, replay_error FROM idempotency_keys"
	" WHERE user_id = ?1 AND key = ?2";
static const char SQL_IDEM_INSERT[] =
	"INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, completed, replay_error, created_at)"
	" VALUES (?1, ?2, ?3, ?4, 0, 0, ?5)";
static const char SQL_PAYMENT_GET[] = "SELECT " SQ_PAYMENT_COLUMNS " FROM payments WHERE id = ?1";
static const char SQL_PAYMENT_INSERT[] =
	"INSERT INTO payments (" SQ_PAYMENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
/* Payments in a status by age; index payments_status_created. */
static const char SQL_PAYMENT_BY_STATUS[] =
	"SELECT " SQ_PAYMENT_COLUMNS " FROM payments WHERE status = ?1 AND created_at <= ?2"
	" ORDER BY created_at, rowid LIMIT ?3";

void sq_payment_from_row(sqlite3_stmt *s, booking_payment *p)
{
	memset(p, 0, sizeof *p);
	sq_col_copy(s, 0, p->id, sizeof p->id);
	sq_col_copy(s, 1, p->booking_id, sizeof p->booking_id);
	sq_col_copy(s, 2, p->user_id, sizeof p->user_id);
	p->status = (booking_payment_status)sqlite3_column_int(s, 3);
	p->amount = (int64_t)sqlite3_column_int64(s, 4);
	sq_col_copy(s, 5, p->currency, sizeof p->currency);
	sq_col_copy(s, 6, p->card_last4, sizeof p->card_last4);
	sq_col_copy(s, 7, p->gateway_ref, sizeof p->gateway_ref);
	sq_col_copy(s, 8, p->failure_code, sizeof p->failure_code);
	p->refunded_amount = (int64_t)sqlite3_column_int64(s, 9);
	p->created_at = (int64_t)sqlite3_column_int64(s, 10);
	p->updated_at = (int64_t)sqlite3_column_int64(s, 11);
}

/* Read payment `id` into `p` (caller's memory). */
static int payment_read(sq_conn *c, const char *id, booking_payment *p)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_PAYMENT_GET, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_ROW) {
		sq_payment_from_row(s, p);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = booking_error_set(BOOKING_EPAYMENT_NOT_FOUND, NULL, "payment not found");
	}
	sqlite3_reset(s);
	return rc;
}

/* --- a payment that starts (apply) and idempotency records --------------------------- */

int sq_payment_start(sq_conn *c, const booking_store_payment_start *start)
{
	const booking_payment *p = start->payment;
	if (!p || !start->user_id || !start->idempotency_key || !start->request_hash)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: start needs a payment, user, key and hash");
	int rc = sq_run(c, SQL_PAYMENT_INSERT, "tttiittttiii", p->id, p->booking_id, p->user_id, (int64_t)p->status,
	                p->amount, p->currency, p->card_last4, p->gateway_ref, p->failure_code, p->refunded_amount,
	                p->created_at, p->updated_at);
	if (rc == 0)
		rc = sq_run(c, SQL_IDEM_INSERT, "tttti", start->user_id, start->idempotency_key, start->request_hash, p->id,
		            p->created_at);
	return rc;
}

struct idem_get_arg {
	const char *user_id, *key;
	booking_store_idempotency_record *out;
};

static int idem_get_tx(sq_conn *c, void *arg)
{
	struct idem_get_arg *a = arg;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_IDEM_GET, &s);
	if (rc == 0)
		rc = sq_bind(c, s, "tt", a->user_id, a->key);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_ROW) {
		sq_col_copy(s, 0, a->out->request_hash, sizeof a->out->request_hash);
		sq_col_copy(s, 1, a->out->payment_id, sizeof a->out->payment_id);
		a->out->completed = sqlite3_column_int(s, 2) != 0;
		a->out->replay_error = sqlite3_column_int(s, 3);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "no idempotency record");
	}
	sqlite3_reset(s);
	return rc;
}

int sq_idempotency_get(booking_store *st, const char *user_id, const char *key, booking_store_idempotency_record *out)
{
	if (!out || !user_id || !key)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: idempotency_get arguments are required");
	memset(out, 0, sizeof(*out));
	struct idem_get_arg a = {user_id, key, out};
	return sq_read((sq_store *)st, idem_get_tx, &a);
}

/* --- reads ------------------------------------------------------------------------- */

struct payment_get_arg {
	const char *id;
	booking_payment *p;
};

static int payment_get_tx(sq_conn *c, void *arg)
{
	struct payment_get_arg *a = arg;

	return payment_read(c, a->id, a->p);
}

int sq_payment_get(booking_store *st, const char *id, booking_payment **out)
{
	struct payment_get_arg a = {id, NULL};
	int rc;

	*out = NULL;
	a.p = booking_calloc(1, sizeof *a.p);
	if (a.p == NULL)
		return booking_error_oom();
	rc = sq_read((sq_store *)st, payment_get_tx, &a);
	if (rc != 0) {
		booking_free(a.p);
		return rc;
	}
	*out = a.p;
	return 0;
}

struct payment_list_arg {
	int64_t status;
	int64_t created_before;
	size_t max;
	booking_store_payment_cb cb;
	void *payload;
};

static int payment_list_by_status_tx(sq_conn *c, void *arg)
{
	struct payment_list_arg *a = arg;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_PAYMENT_BY_STATUS, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "iiz", a->status, a->created_before, a->max);
	while (sq_next(c, s, &rc)) {
		booking_payment p;

		sq_payment_from_row(s, &p);
		rc = a->cb(&p, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

int sq_payment_list_by_status(booking_store *st, booking_payment_status status, int64_t created_before, size_t max,
                              booking_store_payment_cb cb, void *payload)
{
	struct payment_list_arg a = {(int64_t)status, created_before, max, cb, payload};

	if (max == 0)
		return 0;
	return sq_read((sq_store *)st, payment_list_by_status_tx, &a);
}

/* --- payment attempts (store version 3) --------------------------------------------- */

static const char SQL_ATTEMPT_KEY[] = "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1 AND key = ?2";
/* index payments_booking_status */
static const char SQL_ATTEMPT_BOOKING[] = "SELECT count(*) FROM payments WHERE booking_id = ?1 AND status = ?2";
/* index payments_user_status */
static const char SQL_ATTEMPT_USER[] =
	"SELECT count(*) FROM payments WHERE user_id = ?1 AND status = ?2 AND created_at >= ?3";

struct attempts_arg {
	booking_store_payment_attempts *out;
	const char *user_id, *key, *booking_id;
	int64_t status;
	int64_t since;
};

static int attempts_tx(sq_conn *c, void *arg)
{
	struct attempts_arg *a = arg;
	int64_t key = 0, booking = 0, user = 0;
	int rc = sq_query_i64(c, SQL_ATTEMPT_KEY, &key, NULL, "tt", a->user_id, a->key);
	if (rc == 0)
		rc = sq_query_i64(c, SQL_ATTEMPT_BOOKING, &booking, NULL, "ti", a->booking_id, a->status);
	if (rc == 0)
		rc = sq_query_i64(c, SQL_ATTEMPT_USER, &user, NULL, "tii", a->user_id, a->status, a->since);
	if (rc == 0) {
		a->out->key_used = key > 0;
		a->out->booking_count = booking > 0 ? (size_t)booking : 0;
		a->out->user_count = user > 0 ? (size_t)user : 0;
	}
	return rc;
}

int sq_payment_attempts(booking_store *st, booking_store_payment_attempts *out, const char *user_id,
                        const char *idempotency_key, const char *booking_id, booking_payment_status status,
                        int64_t since)
{
	if (!out || !user_id || !idempotency_key || !booking_id)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: payment_attempts arguments are required");
	memset(out, 0, sizeof(*out));
	struct attempts_arg a = {out, user_id, idempotency_key, booking_id, (int64_t)status, since};
	return sq_read((sq_store *)st, attempts_tx, &a);
}
