/*
 * Memory store — the ledger: holds, reservations and the changes the core decided (apply), payments, their
 * idempotency records and attempt counts. No rule of the domain here: apply compares guards and writes.
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

static int cmp_payment(const void *a, const void *b)
{
	const booking_payment *x = a, *y = b;
	return mem_cmp_at(x->created_at, y->created_at, x->id, y->id);
}

/* ------------------------------------------------------------------------
 * Payments.
 * ------------------------------------------------------------------------ */

/*
 * The row of a payment that starts, with its idempotency record, allocated
 * (with the table room) before anything changes, so that adding it cannot fail.
 */
static int payment_start_prepare(mem_store *st, const booking_store_payment_start *start, mem_payment **out)
{
	const booking_payment *np = start->payment;
	if (!np || !start->user_id || !start->idempotency_key || !start->request_hash)
		return mem_missing_arg("start: payment, user_id, idempotency_key and request_hash");
	if (map_get(&st->idem.index, start->user_id, start->idempotency_key))
		return booking_error_set(BOOKING_EEXISTS, NULL, "this idempotency key has a record");
	if (mem_find(&st->payments, np->id))
		return booking_error_set(BOOKING_EEXISTS, NULL, "payment %s already exists", np->id);
	static const size_t off[4] = {offsetof(mem_payment, idem.key), offsetof(mem_payment, idem.v.key),
	                              offsetof(mem_payment, idem.v.user_id), offsetof(mem_payment, idem.request_hash)};
	const char *strs[4] = {start->user_id, start->idempotency_key, start->user_id, start->request_hash};
	mem_payment *row = mem_pack(sizeof *row, 4, strs, off, true);
	if (!row || mem_table_reserve(&st->idem, 1) < 0 || mem_table_reserve(&st->payments, 1) < 0) {
		booking_free(row);
		return booking_error_oom();
	}
	row->p = *np;
	row->idem.v.payment_id = row->p.id;
	*out = row;
	return 0;
}

static int cmp_booking_newest(const void *a, const void *b)
{
	const booking_reservation *x = a, *y = b;
	return mem_cmp_at(y->created_at, x->created_at, y->id, x->id);
}

static int cmp_booking_expiry(const void *a, const void *b)
{
	const booking_reservation *x = a, *y = b;
	if (x->expires_at != y->expires_at)
		return x->expires_at < y->expires_at ? -1 : 1;
	return mem_cmp_at(x->created_at, y->created_at, x->id, y->id);
}

/* ------------------------------------------------------------------------
 * Reservations.
 * ------------------------------------------------------------------------ */

static int hold(booking_seat_ref *taken, size_t *taken_count, booking_store *base, const booking_store_hold *req)
{
	mem_store *st = mem_impl(base);
	if (taken_count)
		*taken_count = 0;
	if (!req || !req->reservation)
		return mem_missing_arg("reservation");
	const booking_reservation *b = req->reservation;
	if (b->seat_count && !b->seats)
		return mem_missing_arg("reservation seats");
	booking_reservation *copy = NULL;
	int rc = booking_reservation_copy(&copy, b);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->mu);
	if (!mem_find(&st->showtimes, b->showtime_id))
		rc = booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	else if (mem_find(&st->bookings, b->id))
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", b->id);
	size_t ntaken = 0;
	for (size_t i = 0; i < b->seat_count && rc == 0; i++) {
		const mem_seat *seat = map_get(&st->seats, b->showtime_id, b->seats[i]->label);
		if (seat && booking_store_seat_claimable(seat->s.status, seat->s.hold_until, req->now))
			continue;
		if (!seat) { /* the core words the refusal: this seat alone is reported */
			ntaken = 0;
			rc = booking_error_set(BOOKING_EVALIDATION, NULL, "hold refused");
		}
		if (taken)
			taken[ntaken] = *b->seats[i];
		ntaken++;
	}
	if (ntaken && rc == 0)
		rc = booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, NULL, "hold refused");
	if (taken_count)
		*taken_count = ntaken;
	if (rc == 0 && mem_table_reserve(&st->bookings, 1) < 0)
		rc = booking_error_oom();
	if (rc == 0 && (rc = mem_ev_batch_prepare(st, req->event, req->event ? 1 : 0)) == 0) {
		for (size_t i = 0; i < b->seat_count; i++) {
			mem_seat *seat = map_get(&st->seats, b->showtime_id, b->seats[i]->label);
			seat->s.status = BOOKING_SEAT_HELD;
			mem_copy_text(seat->s.reservation_id, sizeof seat->s.reservation_id, b->id);
			seat->s.hold_until = b->expires_at;
			seat->s.version++;
		}
		mem_table_add(&st->bookings, copy->id, copy);
		mem_ev_batch_commit(st, req->event ? 1 : 0);
		copy = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	booking_reservation_free(copy);
	return rc;
}

MEM_GET(reservation_get, booking_reservation, bookings, BOOKING_ERESERVATION_NOT_FOUND)
MEM_GET(payment_get, booking_payment, payments, BOOKING_EPAYMENT_NOT_FOUND)

/* A user's page: at most `cap` of their reservations strictly after the key, newest first. */
typedef struct user_page {
	const char *user_id;
	int64_t after_created_at;
	const char *after_id; /* NULL: from the newest */
	booking_reservation *top; /* copies, sorted newest first, `n` of `cap` (seat arrays borrowed: they never change) */
	size_t n, cap;
} user_page;

static bool page_wants(const user_page *pg, const booking_reservation *b)
{
	if (strcmp(b->user_id, pg->user_id) != 0)
		return false;
	if (!pg->after_id)
		return true;
	return b->created_at < pg->after_created_at ||
	       (b->created_at == pg->after_created_at && strcmp(b->id, pg->after_id) < 0);
}

/* Keep the `cap` newest seen so far: memory bounded by the page, not by the user's history. */
static void page_offer(user_page *pg, const booking_reservation *b)
{
	size_t lo = 0, hi = pg->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_booking_newest(&pg->top[mid], b) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == pg->cap)
		return;
	size_t keep = pg->n < pg->cap ? pg->n : pg->cap - 1;
	memmove(&pg->top[lo + 1], &pg->top[lo], (keep - lo) * sizeof *pg->top);
	pg->top[lo] = *b;
	if (pg->n < pg->cap)
		pg->n++;
}

static int reservation_list_by_user(booking_store *base, const char *user_id, int64_t after_created_at,
                             const char *after_id, size_t max, booking_store_reservation_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	if (!user_id)
		return mem_missing_arg("user_id");
	user_page pg = {user_id, after_created_at, after_id, NULL, 0, max};
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	if (pg.cap > st->bookings.len)
		pg.cap = st->bookings.len;
	if (pg.cap && !(pg.top = booking_calloc(pg.cap, sizeof *pg.top)))
		rc = booking_error_oom();
	/* newest rows were inserted last: walking back, most others fail the first compare */
	for (size_t i = st->bookings.len; pg.top && i-- > 0;)
		if (page_wants(&pg, st->bookings.items[i]))
			page_offer(&pg, st->bookings.items[i]);
	pthread_mutex_unlock(&st->mu);
	for (size_t i = 0; i < pg.n && cb && rc == 0; i++)
		rc = cb(&pg.top[i], payload);
	booking_free(pg.top);
	return rc;
}

/* --- apply: guards, then writes; no rule of the domain here --- */

static int apply_locked(mem_store *st, const booking_store_change *c, size_t *failed)
{
	for (size_t i = 0; i < c->guard_count; i++) {
		const booking_store_guard *g = &c->guards[i];
		bool holds;
		if (g->kind == BOOKING_GUARD_RESERVATION_VERSION) {
			const booking_reservation *b = mem_find(&st->bookings, g->id);
			holds = b && b->version == g->value;
		} else if (g->kind == BOOKING_GUARD_PAYMENT_STATUS) {
			const booking_payment *p = mem_find(&st->payments, g->id);
			holds = p && (int64_t)p->status == g->value;
		} else if (g->kind == BOOKING_GUARD_KEY_UNUSED) {
			holds = g->id && g->key && !map_get(&st->idem.index, g->id, g->key);
		} else if (g->kind == BOOKING_GUARD_SEATS_OWNED) {
			const booking_reservation *b = mem_find(&st->bookings, g->id);
			holds = b != NULL;
			for (size_t k = 0; holds && k < b->seat_count; k++) {
				const mem_seat *seat = map_get(&st->seats, b->showtime_id, b->seats[k]->label);
				holds = seat && (int64_t)seat->s.status == g->value && strcmp(seat->s.reservation_id, b->id) == 0;
			}
		} else {
			return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: unknown guard kind %d", (int)g->kind);
		}
		if (!holds) {
			if (failed)
				*failed = i;
			return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's guard %zu does not hold", i);
		}
	}
	booking_reservation *b = c->reservation ? mem_find(&st->bookings, c->reservation->id) : NULL;
	booking_reservation *sb = c->seats ? mem_find(&st->bookings, c->seats->reservation_id) : NULL;
	if ((c->reservation && !b) || (c->seats && !sb))
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	booking_payment *pay = c->payment ? mem_find(&st->payments, c->payment->id) : NULL;
	if (c->payment && !pay)
		return booking_store_not_found(BOOKING_EPAYMENT_NOT_FOUND);
	mem_payment *of_idem = c->idempotency ? mem_find(&st->payments, c->idempotency->payment_id) : NULL;
	mem_payment *started = NULL;
	int rc = c->start ? payment_start_prepare(st, c->start, &started) : 0;
	if (rc < 0 || (rc = mem_ev_batch_prepare(st, c->events, c->event_count)) < 0) {
		booking_free(started);
		return rc;
	}
	for (size_t i = 0; sb && i < sb->seat_count; i++) {
		mem_seat *seat = map_get(&st->seats, sb->showtime_id, sb->seats[i]->label);
		if (!seat || seat->s.status != c->seats->from || strcmp(seat->s.reservation_id, sb->id) != 0)
			continue;
		bool to_free = c->seats->to == BOOKING_SEAT_FREE; /* FREE: no holder and no hold time (store.h) */
		seat->s.status = c->seats->to;
		seat->s.hold_until = to_free ? 0 : c->seats->hold_until;
		if (to_free)
			seat->s.reservation_id[0] = '\0';
		seat->s.version++;
	}
	if (b) {
		b->status = c->reservation->status;
		b->saga = c->reservation->saga;
		b->version++;
		b->updated_at = c->reservation->updated_at;
	}
	if (pay) {
		pay->status = c->payment->status;
		if (c->payment->gateway_ref)
			mem_copy_text(pay->gateway_ref, sizeof pay->gateway_ref, c->payment->gateway_ref);
		if (c->payment->failure_code)
			mem_copy_text(pay->failure_code, sizeof pay->failure_code, c->payment->failure_code);
		if (c->payment->refunded_amount >= 0)
			pay->refunded_amount = c->payment->refunded_amount;
		pay->updated_at = c->payment->updated_at;
	}
	if (of_idem) {
		of_idem->idem.v.completed = true;
		of_idem->idem.replay_error = c->idempotency->replay_error;
	}
	if (started) {
		mem_table_add(&st->idem, started->idem.key, &started->idem);
		mem_table_add(&st->payments, started->p.id, started);
	}
	mem_ev_batch_commit(st, c->event_count);
	return 0;
}

static int apply(size_t *failed_guard_out, booking_store *base, const booking_store_change *change)
{
	mem_store *st = mem_impl(base);
	if (!change)
		return mem_missing_arg("change");
	pthread_mutex_lock(&st->mu);
	int rc = apply_locked(st, change, failed_guard_out);
	pthread_mutex_unlock(&st->mu);
	return rc;
}

/*
 * A list by status: the rows of `tbl` in `status` whose `field` (expiry, creation) is at or before `before`, in
 * the order of `cmp`, at most `max` of them.
 */
typedef struct status_before {
	int status;
	int64_t before;
} status_before;

/* NOLINTBEGIN(bugprone-macro-parentheses): `type` names a type, `field` a member */
#define LIST_BY_STATUS(name, type, status_type, tbl, field, cmp, cb_type)                                          \
	static bool keep_##name(const void *row, const void *arg)                                              \
	{                                                                                                      \
		const type *r = row;                                                                           \
		const status_before *f = arg;                                                                  \
		return (int)r->status == f->status && r->field <= f->before;                                   \
	}                                                                                                      \
	static int name(booking_store *base, status_type status, int64_t before, size_t max, cb_type cb,       \
	                void *payload)                                                                         \
	{                                                                                                      \
		mem_store *st = mem_impl(base);                                                                \
		size_t n;                                                                                      \
		int rc;                                                                                        \
		status_before f = {(int)status, before};                                                       \
		type *snap = mem_snapshot(st, &st->tbl, sizeof *snap, keep_##name, &f, cmp, &n, &rc);          \
		for (size_t i = 0; i < n && i < max && cb && rc == 0; i++)                                     \
			rc = cb(&snap[i], payload);                                                            \
		booking_free(snap);                                                                            \
		return rc;                                                                                     \
	}
/* NOLINTEND(bugprone-macro-parentheses) */

LIST_BY_STATUS(reservation_list_by_status, booking_reservation, booking_reservation_status, bookings, expires_at,
               cmp_booking_expiry, booking_store_reservation_cb)
LIST_BY_STATUS(payment_list_by_status, booking_payment, booking_payment_status, payments, created_at, cmp_payment,
               booking_store_payment_cb)

static int idempotency_get(booking_store_idempotency_record *out, booking_store *base, const char *user_id, const char *key)
{
	mem_store *st = mem_impl(base);
	if (!out || !user_id || !key)
		return mem_missing_arg("out, user_id and key");
	memset(out, 0, sizeof(*out));
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	const mem_idem *rec = map_get(&st->idem.index, user_id, key);
	if (!rec) {
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "no idempotency record");
	} else {
		mem_copy_text(out->request_hash, sizeof out->request_hash, rec->request_hash);
		mem_copy_text(out->payment_id, sizeof out->payment_id, rec->v.payment_id);
		out->completed = rec->v.completed;
		out->replay_error = rec->replay_error;
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int payment_attempts(booking_store_payment_attempts *out, booking_store *base, const char *user_id,
                         const char *idempotency_key, const char *reservation_id, booking_payment_status status,
                         int64_t since)
{
	mem_store *st = mem_impl(base);
	if (!out || !user_id || !idempotency_key || !reservation_id)
		return mem_missing_arg("out, user_id, idempotency_key and booking_id");
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->mu);
	out->key_used = map_get(&st->idem.index, user_id, idempotency_key) != NULL;
	for (size_t i = 0; i < st->payments.len; i++) {
		const booking_payment *p = st->payments.items[i];
		if (p->status != status)
			continue;
		if (strcmp(p->reservation_id, reservation_id) == 0)
			out->reservation_count++;
		if (strcmp(p->user_id, user_id) == 0 && p->created_at >= since)
			out->user_count++;
	}
	pthread_mutex_unlock(&st->mu);
	return 0;
}

const booking_store_ledger mem_store_ledger = {
	.version = 1 /* ledger version 2: the box office, not yet */,
	.hold = hold,
	.reservation_get = reservation_get,
	.reservation_list_by_user = reservation_list_by_user,
	.apply = apply,
	.reservation_list_by_status = reservation_list_by_status,
	.idempotency_get = idempotency_get,
	.payment_get = payment_get,
	.payment_list_by_status = payment_list_by_status,
	.payment_attempts = payment_attempts,
};
