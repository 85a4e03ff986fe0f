/*
 * SQLite store — payments: idempotent start, reads, recovery list, attempt counts (outcomes and
 * refunds are changes the core decides: apply, reservation.c).
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
static const char SQL_PROCESSING[] =
	"SELECT " SQ_PAYMENT_COLUMNS " FROM payments WHERE status = 1 AND created_at <= ?1"
	" ORDER BY created_at, rowid LIMIT ?2";
static const char SQL_BOOKING_PAY_STATE[] =
	"SELECT user_id, status, expires_at, showtime_id FROM bookings WHERE id = ?1";
static const char SQL_BOOKING_SET[] =
	"UPDATE bookings SET status = ?2, saga = ?3, version = version + 1, updated_at = ?4 WHERE id = ?1";
static const char SQL_SEATS_HOLD_UNTIL[] =
	"UPDATE showtime_seats SET hold_until = ?3, version = version + 1"
	" WHERE showtime_id = ?1 AND label IN (SELECT label FROM booking_seats WHERE booking_id = ?2)"
	" AND booking_id = ?2 AND status = 1";

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

/* The booking a payment acts on. */
typedef struct pay_booking {
	char user_id[BOOKING_USER_ID_SIZE];
	char showtime_id[BOOKING_ID_SIZE];
	int status;
	int64_t expires_at;
} pay_booking;

static int pay_booking_read(sq_conn *c, const char *booking_id, pay_booking *b)
{
	sqlite3_stmt *s;
	int rc;

	memset(b, 0, sizeof *b);
	rc = sq_stmt(c, SQL_BOOKING_PAY_STATE, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", booking_id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_ROW) {
		sq_col_copy(s, 0, b->user_id, sizeof b->user_id);
		b->status = sqlite3_column_int(s, 1);
		b->expires_at = (int64_t)sqlite3_column_int64(s, 2);
		sq_col_copy(s, 3, b->showtime_id, sizeof b->showtime_id);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = booking_error_set(BOOKING_EBOOKING_NOT_FOUND, NULL, "booking not found");
	}
	sqlite3_reset(s);
	return rc;
}

static int booking_set(sq_conn *c, const char *booking_id, booking_status status, booking_saga_state saga,
                       int64_t now)
{
	return sq_run(c, SQL_BOOKING_SET, "tiii", booking_id, (int64_t)status, (int64_t)saga, now);
}

/* --- pay_begin ----------------------------------------------------------------- */

struct pay_begin_arg {
	const booking_store_pay_begin *req;
	booking_store_pay_begin_result *res;
	booking_payment *record; /* allocated up front: a commit is never followed by a failure */
};

/* The key was used before: decide between reuse, in progress and replay. */
static int pay_begin_replay(sq_conn *c, struct pay_begin_arg *a, sqlite3_stmt *s)
{
	const char *hash = sq_col_text(s, 0);
	char payment_id[BOOKING_ID_SIZE];
	bool completed = sqlite3_column_int(s, 2) != 0;
	int replay_error = sqlite3_column_int(s, 3);
	int rc;

	if (strcmp(hash, a->req->request_hash ? a->req->request_hash : "") != 0) {
		sqlite3_reset(s);
		return booking_error_set(BOOKING_EIDEMPOTENCY_KEY_REUSED, NULL,
		                         "the idempotency key was used with a different request");
	}
	if (!completed) {
		sqlite3_reset(s);
		return booking_error_set(BOOKING_EPAYMENT_IN_PROGRESS, NULL,
		                         "a payment with this idempotency key is in progress");
	}
	sq_col_copy(s, 1, payment_id, sizeof payment_id);
	sqlite3_reset(s);
	rc = payment_read(c, payment_id, a->record);
	if (rc != 0)
		return rc;
	a->res->kind = BOOKING_PAY_BEGIN_REPLAY;
	a->res->replay_error = replay_error;
	return 0;
}

static int pay_begin_tx(sq_conn *c, void *arg)
{
	struct pay_begin_arg *a = arg;
	const booking_store_pay_begin *req = a->req;
	const booking_payment *p = req->payment;
	pay_booking b;
	sqlite3_stmt *s;
	int rc;

	rc = sq_stmt(c, SQL_IDEM_GET, &s);
	if (rc == 0)
		rc = sq_bind(c, s, "tt", req->user_id, req->idempotency_key);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_ROW)
		return pay_begin_replay(c, a, s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return rc;

	rc = pay_booking_read(c, p->booking_id, &b);
	if (rc != 0)
		return rc;
	if (strcmp(b.user_id, req->user_id ? req->user_id : "") != 0)
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "the booking belongs to another user");
	if (b.status != BOOKING_STATUS_PENDING)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "booking is not PENDING");
	if (b.expires_at <= req->now)
		return booking_error_set(BOOKING_EEXPIRED, NULL, "the hold has expired");

	rc = sq_run(c, SQL_PAYMENT_INSERT, "tttiittttiii", p->id, p->booking_id, p->user_id, (int64_t)p->status,
	            p->amount, p->currency, p->card_last4, p->gateway_ref, p->failure_code, p->refunded_amount,
	            p->created_at, p->updated_at);
	if (rc == 0)
		rc = sq_run(c, SQL_IDEM_INSERT, "tttti", req->user_id, req->idempotency_key, req->request_hash, p->id,
		            req->now);
	if (rc == 0)
		rc = booking_set(c, p->booking_id, BOOKING_STATUS_PAYMENT_PROCESSING, BOOKING_SAGA_PAYMENT_PENDING,
		                 req->now);
	if (rc == 0)
		rc = sq_run(c, SQL_SEATS_HOLD_UNTIL, "tti", b.showtime_id, p->booking_id, req->seats_hold_until);
	if (rc == 0) {
		*a->record = *p;
		a->res->kind = BOOKING_PAY_BEGIN_STARTED;
		a->res->replay_error = 0;
	}
	return rc;
}

int sq_pay_begin(booking_store *st, const booking_store_pay_begin *req, booking_store_pay_begin_result *res)
{
	struct pay_begin_arg a = {req, res, NULL};
	int rc;

	memset(res, 0, sizeof *res);
	if (req == NULL || req->payment == NULL)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "pay_begin: no payment");
	a.record = booking_calloc(1, sizeof *a.record);
	if (a.record == NULL)
		return booking_error_oom();
	rc = sq_write((sq_store *)st, pay_begin_tx, &a);
	if (rc != 0) {
		booking_free(a.record);
		memset(res, 0, sizeof *res);
		return rc;
	}
	res->payment = a.record;
	return 0;
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

struct processing_arg {
	int64_t before;
	size_t max;
	booking_store_payment_cb cb;
	void *payload;
};

static int list_processing_tx(sq_conn *c, void *arg)
{
	struct processing_arg *a = arg;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_PROCESSING, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "iz", a->before, a->max);
	while (sq_next(c, s, &rc)) {
		booking_payment p;

		sq_payment_from_row(s, &p);
		rc = a->cb(&p, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

int sq_list_processing(booking_store *st, int64_t before, size_t max, booking_store_payment_cb cb, void *payload)
{
	struct processing_arg a = {before, max, cb, payload};

	if (max == 0)
		return 0;
	return sq_read((sq_store *)st, list_processing_tx, &a);
}

/* --- payment attempts (store version 3) --------------------------------------------- */

static const char SQL_ATTEMPT_KEY[] = "SELECT count(*) FROM idempotency_keys WHERE user_id = ?1 AND key = ?2";
static const char SQL_ATTEMPT_BOOKING[] = "SELECT count(*) FROM payments WHERE booking_id = ?1 AND status = 3";
static const char SQL_ATTEMPT_USER[] =
	"SELECT count(*) FROM payments WHERE user_id = ?1 AND status = 3 AND created_at >= ?2";

struct attempts_arg {
	booking_store_payment_attempts *out;
	const char *user_id, *key, *booking_id;
	int64_t since;
};

static int attempts_tx(sq_conn *c, void *arg)
{
	struct attempts_arg *a = arg;
	int64_t key = 0, booking = 0, user = 0;
	int rc = sq_query_i64(c, SQL_ATTEMPT_KEY, &key, NULL, "tt", a->user_id, a->key);
	if (rc == 0)
		rc = sq_query_i64(c, SQL_ATTEMPT_BOOKING, &booking, NULL, "t", a->booking_id);
	if (rc == 0)
		rc = sq_query_i64(c, SQL_ATTEMPT_USER, &user, NULL, "ti", a->user_id, a->since);
	if (rc == 0) {
		a->out->key_used = key > 0;
		a->out->booking_failed = booking > 0 ? (size_t)booking : 0;
		a->out->user_failed = user > 0 ? (size_t)user : 0;
	}
	return rc;
}

int sq_payment_attempts(booking_store *st, booking_store_payment_attempts *out, const char *user_id,
                        const char *idempotency_key, const char *booking_id, int64_t since)
{
	if (!out || !user_id || !idempotency_key || !booking_id)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "sqlite store: payment_attempts arguments are required");
	memset(out, 0, sizeof(*out));
	struct attempts_arg a = {out, user_id, idempotency_key, booking_id, since};
	return sq_read((sq_store *)st, attempts_tx, &a);
}
