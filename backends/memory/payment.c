/*
 * Memory store — payments: begin, finish, refund, reads and attempt counts.
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

static bool booking_owns_seats(mem_store *st, const booking_reservation *b)
{
	for (size_t i = 0; i < b->seat_count; i++)
		if (!mem_seat_held_by(mem_seat_of(st, b->showtime_id, b->seats[i].label), b))
			return false;
	return true;
}

static void sell_seats(mem_store *st, const booking_reservation *b)
{
	for (size_t i = 0; i < b->seat_count; i++) {
		mem_seat *seat = mem_seat_of(st, b->showtime_id, b->seats[i].label);
		if (!mem_seat_held_by(seat, b))
			continue;
		seat->s.status = BOOKING_SEAT_SOLD;
		seat->s.hold_until = 0;
		seat->s.version++;
	}
}

static int pay_finish_locked(mem_store *st, const booking_store_pay_finish *req)
{
	booking_payment *p = mem_table_get(&st->payments, req->payment_id, NULL);
	if (!p)
		return booking_error_set(BOOKING_EPAYMENT_NOT_FOUND, NULL, "payment %s not found", req->payment_id);
	if (p->status != BOOKING_PAYMENT_PROCESSING)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "payment %s is not PROCESSING", p->id);
	booking_reservation *b = mem_table_get(&st->bookings, p->booking_id, NULL);
	if (!b)
		return booking_error_set(BOOKING_EBOOKING_NOT_FOUND, NULL, "booking %s not found", p->booking_id);
	if (req->outcome != BOOKING_PAY_OUTCOME_SUCCEEDED && req->outcome != BOOKING_PAY_OUTCOME_DECLINED &&
	    req->outcome != BOOKING_PAY_OUTCOME_REFUNDED)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "unknown payment outcome %d", (int)req->outcome);
	if (req->outcome == BOOKING_PAY_OUTCOME_SUCCEEDED &&
	    (b->status != BOOKING_STATUS_PAYMENT_PROCESSING || !booking_owns_seats(st, b)))
		return booking_error_set(BOOKING_EEXPIRED, NULL, "booking %s no longer holds its seats", b->id);

	ev_batch batch;
	int rc = mem_ev_batch_prepare(st, req->events, req->event_count, &batch);
	if (rc < 0)
		return rc;

	if (req->gateway_ref)
		mem_copy_text(p->gateway_ref, sizeof p->gateway_ref, req->gateway_ref);
	p->updated_at = req->now;
	switch (req->outcome) {
	case BOOKING_PAY_OUTCOME_SUCCEEDED:
		p->status = BOOKING_PAYMENT_SUCCEEDED;
		sell_seats(st, b);
		mem_booking_set_status(b, BOOKING_STATUS_CONFIRMED, BOOKING_SAGA_CONFIRMED, req->now);
		break;
	case BOOKING_PAY_OUTCOME_DECLINED:
		p->status = BOOKING_PAYMENT_FAILED;
		mem_copy_text(p->failure_code, sizeof p->failure_code, req->failure_code);
		if (b->status != BOOKING_STATUS_PAYMENT_PROCESSING)
			break;
		if (req->decline_policy == BOOKING_DECLINE_RELEASE) {
			mem_release_held_seats(st, b);
			mem_booking_set_status(b, BOOKING_STATUS_CANCELLED, BOOKING_SAGA_COMPENSATED, req->now);
		} else {
			rehold_seats(st, b, b->expires_at);
			mem_booking_set_status(b, BOOKING_STATUS_PENDING, BOOKING_SAGA_SEATS_RESERVED, req->now);
		}
		break;
	default: /* REFUNDED */
		p->status = BOOKING_PAYMENT_REFUNDED;
		p->refunded_amount = p->amount;
		mem_copy_text(p->failure_code, sizeof p->failure_code, req->failure_code);
		mem_release_held_seats(st, b);
		if (b->status == BOOKING_STATUS_PAYMENT_PROCESSING)
			mem_booking_set_status(b, BOOKING_STATUS_EXPIRED, BOOKING_SAGA_COMPENSATED, req->now);
		break;
	}
	mem_idem *idem = map_get(&st->idem_by_payment, p->id, NULL);
	if (idem) {
		idem->completed = true;
		idem->replay_error = req->replay_error;
	}
	mem_ev_batch_commit(st, &batch);
	return 0;
}

int mem_pay_finish(booking_store *base, const booking_store_pay_finish *req)
{
	mem_store *st = mem_impl(base);
	if (!req || !req->payment_id)
		return mem_missing_arg("payment_id");
	mem_lock_store(st);
	int rc = pay_finish_locked(st, req);
	mem_unlock_store(st);
	return rc;
}

static int refund_locked(mem_store *st, const booking_store_refund *req)
{
	booking_payment *p = mem_table_get(&st->payments, req->payment_id, NULL);
	if (!p)
		return booking_error_set(BOOKING_EPAYMENT_NOT_FOUND, NULL, "payment %s not found", req->payment_id);
	if (p->status != BOOKING_PAYMENT_SUCCEEDED)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "payment %s is not SUCCEEDED", p->id);
	booking_reservation *b = mem_table_get(&st->bookings, p->booking_id, NULL);
	if (!b || b->status != BOOKING_STATUS_CONFIRMED)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "booking %s is not CONFIRMED", p->booking_id);

	ev_batch batch;
	int rc = mem_ev_batch_prepare(st, req->events, req->event_count, &batch);
	if (rc < 0)
		return rc;
	p->status = BOOKING_PAYMENT_REFUNDED;
	p->refunded_amount = p->amount;
	p->updated_at = req->now;
	for (size_t i = 0; i < b->seat_count; i++) {
		mem_seat *seat = mem_seat_of(st, b->showtime_id, b->seats[i].label);
		if (seat && seat->s.status == BOOKING_SEAT_SOLD && strcmp(seat->s.booking_id, b->id) == 0)
			mem_seat_free_row(seat);
	}
	mem_booking_set_status(b, BOOKING_STATUS_CANCELLED, BOOKING_SAGA_COMPENSATED, req->now);
	mem_ev_batch_commit(st, &batch);
	return 0;
}

int mem_refund(booking_store *base, const booking_store_refund *req)
{
	mem_store *st = mem_impl(base);
	if (!req || !req->payment_id)
		return mem_missing_arg("payment_id");
	mem_lock_store(st);
	int rc = refund_locked(st, req);
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
