/*
 * Memory store — payments: begin, reads and attempt counts (outcomes and refunds
 * are changes the core decides: mem_apply in reservation.c).
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

static booking_payment *payment_dup(const booking_payment *src)
{
	booking_payment *p = booking_malloc(sizeof *p);
	if (p)
		*p = *src;
	return p;
}

/* Set hold_until of the seats of `b` still HELD by it. */
static void rehold_seats(mem_store *st, const booking_reservation *b, int64_t until)
{
	for (size_t i = 0; i < b->seat_count; i++) {
		mem_seat *seat = mem_seat_of(st, b->showtime_id, b->seats[i].label);
		if (mem_seat_held_by(seat, b)) {
			seat->s.hold_until = until;
			seat->s.version++;
		}
	}
}

static int cmp_payment(const void *a, const void *b)
{
	const booking_payment *x = a, *y = b;
	int c = mem_cmp_i64(x->created_at, y->created_at);
	return c ? c : strcmp(x->id, y->id);
}

/* ------------------------------------------------------------------------
 * Payments.
 * ------------------------------------------------------------------------ */

static int pay_begin_locked(mem_store *st, const booking_store_pay_begin *req, booking_store_pay_begin_result *res)
{
	const mem_idem *rec = map_get(&st->idem.index, req->user_id, req->idempotency_key);
	if (rec) {
		if (strcmp(rec->request_hash, mem_or_empty(req->request_hash)) != 0)
			return booking_error_set(BOOKING_EIDEMPOTENCY_KEY_REUSED, NULL,
			                         "the idempotency key was used for a different request");
		if (!rec->completed)
			return booking_error_set(BOOKING_EPAYMENT_IN_PROGRESS, NULL,
			                         "a payment with this idempotency key is in progress");
		const booking_payment *p = mem_table_get(&st->payments, rec->payment_id, NULL);
		if (!p)
			return booking_error_set(BOOKING_EINTERNAL, NULL, "idempotency record without its payment");
		if (!(res->payment = payment_dup(p)))
			return mem_oom();
		res->kind = BOOKING_PAY_BEGIN_REPLAY;
		res->replay_error = rec->replay_error;
		return 0;
	}

	const booking_payment *np = req->payment;
	booking_reservation *b = mem_table_get(&st->bookings, np->booking_id, NULL);
	if (!b)
		return booking_error_set(BOOKING_EBOOKING_NOT_FOUND, NULL, "booking %s not found", np->booking_id);
	if (strcmp(b->user_id, req->user_id) != 0)
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "booking %s belongs to another user", b->id);
	if (b->status != BOOKING_STATUS_PENDING)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "booking %s is not PENDING", b->id);
	if (b->expires_at <= req->now)
		return booking_error_set(BOOKING_EEXPIRED, NULL, "the hold of booking %s has expired", b->id);
	if (mem_table_get(&st->payments, np->id, NULL))
		return booking_error_set(BOOKING_EEXISTS, NULL, "payment %s already exists", np->id);

	/* allocate everything, then commit */
	char *key = mem_key_join(req->user_id, req->idempotency_key);
	if (!key)
		return mem_oom();
	mem_idem *idem;
	char *k = NULL, *u = NULL, *ik = NULL, *h = NULL;
	const char *strs[4] = {key, req->user_id, req->idempotency_key, req->request_hash};
	char **dst[4] = {&k, &u, &ik, &h};
	idem = mem_pack(sizeof *idem, 4, strs, dst);
	booking_free(key);
	booking_payment *stored = payment_dup(np);
	booking_payment *result = payment_dup(np);
	if (!idem || !stored || !result || mem_table_reserve(&st->idem, 1) < 0 || mem_table_reserve(&st->payments, 1) < 0 ||
	    map_reserve(&st->idem_by_payment, 1) < 0) {
		booking_free(idem);
		booking_free(stored);
		booking_free(result);
		return mem_oom();
	}
	idem->key = k;
	idem->user_id = u;
	idem->idem_key = ik;
	idem->request_hash = h;
	mem_copy_text(idem->payment_id, sizeof idem->payment_id, np->id);
	idem->completed = false;
	idem->replay_error = 0;

	mem_table_add(&st->idem, idem->key, idem);
	map_put(&st->idem_by_payment, idem->payment_id, idem);
	mem_table_add(&st->payments, stored->id, stored);
	mem_booking_set_status(b, BOOKING_STATUS_PAYMENT_PROCESSING, BOOKING_SAGA_PAYMENT_PENDING, req->now);
	rehold_seats(st, b, req->seats_hold_until);
	res->kind = BOOKING_PAY_BEGIN_STARTED;
	res->payment = result;
	res->replay_error = 0;
	return 0;
}

int mem_pay_begin(booking_store *base, const booking_store_pay_begin *req, booking_store_pay_begin_result *res)
{
	mem_store *st = mem_impl(base);
	if (!res)
		return mem_missing_arg("result");
	memset(res, 0, sizeof *res);
	if (!req || !req->payment || !req->user_id || !req->idempotency_key)
		return mem_missing_arg("payment, user_id and idempotency_key");
	mem_lock_store(st);
	int rc = pay_begin_locked(st, req, res);
	mem_unlock_store(st);
	return rc;
}

int mem_payment_get(booking_store *base, const char *id, booking_payment **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const booking_payment *p = id ? mem_table_get(&st->payments, id, NULL) : NULL;
	if (!p)
		rc = booking_error_set(BOOKING_EPAYMENT_NOT_FOUND, NULL, "payment %s not found", mem_or_empty(id));
	else if (!(*out = payment_dup(p)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

int mem_payment_attempts(booking_store *base, booking_store_payment_attempts *out, const char *user_id,
                         const char *idempotency_key, const char *booking_id, int64_t since)
{
	mem_store *st = mem_impl(base);
	if (!out || !user_id || !idempotency_key || !booking_id)
		return mem_missing_arg("out, user_id, idempotency_key and booking_id");
	memset(out, 0, sizeof(*out));
	mem_lock_store(st);
	out->key_used = map_get(&st->idem.index, user_id, idempotency_key) != NULL;
	for (size_t i = 0; i < st->payments.len; i++) {
		const booking_payment *p = st->payments.items[i];
		if (p->status != BOOKING_PAYMENT_FAILED)
			continue;
		if (strcmp(p->booking_id, booking_id) == 0)
			out->booking_failed++;
		if (strcmp(p->user_id, user_id) == 0 && p->created_at >= since)
			out->user_failed++;
	}
	mem_unlock_store(st);
	return 0;
}

int mem_list_processing(booking_store *base, int64_t before, size_t max, booking_store_payment_cb cb,
                        void *payload)
{
	mem_store *st = mem_impl(base);
	booking_payment *snap = NULL;
	size_t n = 0;
	mem_lock_store(st);
	size_t total = st->payments.len;
	for (size_t i = 0; i < total; i++) {
		const booking_payment *p = st->payments.items[i];
		if (p->status != BOOKING_PAYMENT_PROCESSING || p->created_at > before)
			continue;
		if (!snap && !(snap = booking_calloc(total - i, sizeof *snap))) {
			mem_unlock_store(st);
			return mem_oom();
		}
		snap[n++] = *p;
	}
	mem_unlock_store(st);
	if (n)
		qsort(snap, n, sizeof *snap, cmp_payment);
	int rc = 0;
	for (size_t i = 0; i < n && i < max && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}
