/*
 * SQLite store — payments: the rows a starting payment adds (every change is applied
 * by apply, reservation.c; the reads are shared: sql/reads.c).
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "sqlite_store.h"

static const char SQL_IDEM_INSERT[] =
	"INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, completed, replay_error, created_at)"
	" VALUES (?1, ?2, ?3, ?4, 0, 0, ?5)";
static const char SQL_PAYMENT_INSERT[] =
	"INSERT INTO payments (" SQ_PAYMENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
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
