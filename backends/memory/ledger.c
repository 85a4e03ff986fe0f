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

/* The user's reservations, NULL when the user has none. */
static mem_user_rows *user_rows(mem_store *st, const char *user_id)
{
	return user_id ? map_get(&st->by_user, user_id, NULL) : NULL;
}

/* Room for one more reservation of `user_id` (its entry made when new): 0, or -1 when out of memory. */
static int user_rows_reserve(mem_store *st, const char *user_id)
{
	mem_user_rows *u = user_rows(st, user_id);
	if (!u) {
		size_t n = strlen(user_id) + 1;
		if (map_reserve(&st->by_user, 1) < 0 || !(u = booking_calloc(1, sizeof *u + n)))
			return -1;
		memcpy(u->key, user_id, n);
		map_put(&st->by_user, u->key, u);
	}
	return mem_items_reserve(&u->rows, 1);
}

/* After user_rows_reserve(): cannot fail. */
static void user_rows_add(mem_store *st, booking_reservation *b)
{
	mem_items_add(&user_rows(st, b->user_id)->rows, b);
}

/*
 * Ledger version 3: how many seats of showtime `showtime_id` user `user_id` has taken at `now` (those whose
 * holder is a reservation of the user and that are not claimable); the caller holds the lock, which is what
 * serialises the count with the write that follows it. A reservation names every seat it holds: the user's
 * reservations of the showtime are read, not the showtime's seats.
 */
static size_t user_taken(mem_store *st, const char *user_id, const char *showtime_id, int64_t now)
{
	const mem_user_rows *u = user_rows(st, user_id);
	size_t n = 0;
	for (size_t i = 0; u && i < u->rows.len; i++) {
		const booking_reservation *b = u->rows.items[i];
		if (strcmp(b->showtime_id, showtime_id) != 0)
			continue;
		for (size_t k = 0; k < b->seat_count; k++) {
			const mem_seat *seat = mem_seat_find(st, showtime_id, b->seats[k]->label);
			n += seat && strcmp(seat->s.reservation_id, b->id) == 0 &&
			     !booking_store_seat_claimable(seat->s.status, seat->s.hold_until, now);
		}
	}
	return n;
}

/* Ledger version 4: how many reservations of `user_id` are in `status` with expires_at > `now`, in every showtime. */
static size_t user_live(mem_store *st, const char *user_id, booking_reservation_status status, int64_t now)
{
	const mem_user_rows *u = user_rows(st, user_id);
	size_t n = 0;
	for (size_t i = 0; u && i < u->rows.len; i++) {
		const booking_reservation *b = u->rows.items[i];
		n += b->status == status && b->expires_at > now;
	}
	return n;
}

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
	mem_seat *few[8], **seats = b->seat_count <= 8 ? few : booking_calloc(b->seat_count, sizeof *seats);
	if (!seats)
		return booking_error_oom();
	int rc = booking_reservation_copy(&copy, b);
	if (rc < 0) {
		if (seats != few)
			booking_free(seats);
		return rc;
	}
	pthread_mutex_lock(&st->mu);
	if (!mem_find(&st->showtimes, b->showtime_id))
		rc = booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	else if (mem_find(&st->bookings, b->id))
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", b->id);
	size_t ntaken = 0;
	for (size_t i = 0; i < b->seat_count && rc == 0; i++) {
		mem_seat *seat = seats[i] = mem_seat_find(st, b->showtime_id, b->seats[i]->label);
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
	if (rc == 0 && req->user_seat_limit &&
	    user_taken(st, b->user_id, b->showtime_id, req->now) + b->seat_count > req->user_seat_limit)
		rc = booking_error_set(BOOKING_ELIMIT_REACHED, NULL, "the user's seat limit is reached");
	if (rc == 0 && req->user_hold_limit &&
	    user_live(st, b->user_id, req->live_status, req->now) + 1 > req->user_hold_limit)
		rc = booking_error_set(BOOKING_ELIMIT_REACHED, NULL, "the user's hold limit is reached");
	if (taken_count)
		*taken_count = ntaken;
	if (rc == 0 && (mem_table_reserve(&st->bookings, 1) < 0 || user_rows_reserve(st, b->user_id) < 0))
		rc = booking_error_oom();
	if (rc == 0 && (rc = mem_ev_batch_prepare(st, req->event, req->event ? 1 : 0)) == 0) {
		for (size_t i = 0; i < b->seat_count; i++) {
			mem_seat *seat = seats[i]; /* found above, under the same lock (rc would not be 0 without it) */
			if (!seat)
				continue;
			seat->s.status = BOOKING_SEAT_HELD;
			mem_copy_text(seat->s.reservation_id, sizeof seat->s.reservation_id, b->id);
			seat->s.hold_until = b->expires_at;
			seat->s.version++;
		}
		mem_table_add(&st->bookings, copy->id, copy);
		user_rows_add(st, copy);
		mem_ev_batch_commit(st, req->event ? 1 : 0);
		copy = NULL;
	}
	pthread_mutex_unlock(&st->mu);
	booking_reservation_free(copy);
	if (seats != few)
		booking_free(seats);
	return rc;
}

MEM_GET(reservation_get, booking_reservation, bookings, BOOKING_ERESERVATION_NOT_FOUND)
MEM_GET(payment_get, booking_payment, payments, BOOKING_EPAYMENT_NOT_FOUND)

/*
 * A page of reservations: at most `cap` of those of a user or of a showtime (the other NULL), in a status (0:
 * any), strictly after the key, newest first.
 */
typedef struct page {
	const char *user_id;
	const char *showtime_id;
	int status;
	int64_t after_created_at;
	const char *after_id; /* NULL: from the newest */
	booking_reservation *top; /* copies, sorted newest first, `n` of `cap` (seat arrays borrowed: see memory_store.h) */
	size_t n, cap;
} page;

static bool page_wants(const page *pg, const booking_reservation *b)
{
	if (pg->user_id && strcmp(b->user_id, pg->user_id) != 0)
		return false;
	if (pg->showtime_id && strcmp(b->showtime_id, pg->showtime_id) != 0)
		return false;
	if (pg->status && (int)b->status != pg->status)
		return false;
	if (!pg->after_id)
		return true;
	return b->created_at < pg->after_created_at ||
	       (b->created_at == pg->after_created_at && strcmp(b->id, pg->after_id) < 0);
}

/* Keep the `cap` newest seen so far: memory bounded by the page, not by the history. */
static void page_offer(page *pg, const booking_reservation *b)
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

/* Fill the page under the lock, then hand it to `cb` without it. */
static int page_list(mem_store *st, page *pg, booking_store_reservation_cb cb, void *payload)
{
	int rc = 0;
	pthread_mutex_lock(&st->mu);
	if (pg->cap > st->bookings.len)
		pg->cap = st->bookings.len;
	if (pg->cap && !(pg->top = booking_calloc(pg->cap, sizeof *pg->top)))
		rc = booking_error_oom();
	/* newest rows were inserted last: walking back, most others fail the first compare */
	for (size_t i = st->bookings.len; pg->top && i-- > 0;)
		if (page_wants(pg, st->bookings.items[i]))
			page_offer(pg, st->bookings.items[i]);
	pthread_mutex_unlock(&st->mu);
	for (size_t i = 0; i < pg->n && cb && rc == 0; i++)
		rc = cb(&pg->top[i], payload);
	booking_free(pg->top);
	return rc;
}

static int reservation_list_by_user(booking_store *base, const char *user_id, int64_t after_created_at,
                             const char *after_id, size_t max, booking_store_reservation_cb cb, void *payload)
{
	if (!user_id)
		return mem_missing_arg("user_id");
	page pg = {user_id, NULL, 0, after_created_at, after_id, NULL, 0, max};
	return page_list(mem_impl(base), &pg, cb, payload);
}

static int reservation_list_by_showtime(booking_store *base, const char *showtime_id,
                                        booking_reservation_status status, int64_t after_created_at,
                                        const char *after_id, size_t max, booking_store_reservation_cb cb,
                                        void *payload)
{
	if (!showtime_id)
		return mem_missing_arg("showtime_id");
	page pg = {NULL, showtime_id, (int)status, after_created_at, after_id, NULL, 0, max};
	return page_list(mem_impl(base), &pg, cb, payload);
}

/* --- apply: guards, then writes; no rule of the domain here --- */

/* What apply allocates before it takes the lock; what the change does not take is freed after. */
typedef struct apply_prep {
	booking_reservation *insert; /* the row of c->insert */
	mem_idem *key;               /* the row of c->key */
	booking_seat_ref **seats;    /* the new seat array of c->reservation */
} apply_prep;

static int apply_prepare(apply_prep *pp, const booking_store_change *c)
{
	const booking_store_reservation_set *set = c->reservation;
	if (c->seat_write_count && (!c->seat_writes || !c->showtime_id))
		return mem_missing_arg("seat writes: showtime_id and seat_writes");
	if (c->insert && c->insert->seat_count && !c->insert->seats)
		return mem_missing_arg("insert seats");
	if (c->key && (!c->key->user_id || !c->key->key || !c->key->reservation_id))
		return mem_missing_arg("key: user_id, key and reservation_id");
	int rc = c->insert ? booking_reservation_copy(&pp->insert, c->insert) : 0;
	void **refs = NULL;
	if (rc == 0 && set && set->seats && set->seat_count &&
	    (rc = booking_record_array_new(&refs, set->seat_count, sizeof **pp->seats)) == 0) {
		pp->seats = (booking_seat_ref **)refs;
		for (size_t i = 0; i < set->seat_count; i++)
			*pp->seats[i] = *set->seats[i];
	}
	if (rc == 0 && c->key) {
		static const size_t off[5] = {offsetof(mem_idem, key), offsetof(mem_idem, v.key),
		                              offsetof(mem_idem, v.user_id), offsetof(mem_idem, request_hash),
		                              offsetof(mem_idem, v.payment_id)};
		const char *strs[5] = {c->key->user_id, c->key->key, c->key->user_id, c->key->request_hash,
		                       c->key->reservation_id};
		if (!(pp->key = mem_pack(sizeof *pp->key, 5, strs, off, true)))
			return booking_error_oom();
		pp->key->v.completed = true; /* a hold's record names its reservation from the start */
	}
	return rc;
}

/* Whether seat `seat` (NULL: the showtime has none) is as seat write `w` expects at `now`; -1: unknown expectation. */
static int seat_as_expected(const mem_seat *seat, const booking_store_seat_write *w, int64_t now)
{
	if (w->expect != BOOKING_SEAT_EXPECT_CLAIMABLE && w->expect != BOOKING_SEAT_EXPECT_STATUS)
		return -1;
	if (!seat)
		return 0;
	if (w->expect == BOOKING_SEAT_EXPECT_CLAIMABLE)
		return booking_store_seat_claimable(seat->s.status, seat->s.hold_until, now);
	return seat->s.status == w->expect_status &&
	       strcmp(seat->s.reservation_id, w->expect_reservation ? w->expect_reservation : "") == 0;
}

/* The reservation `id`: stored, or the one this change inserts. */
static booking_reservation *booking_of(mem_store *st, const char *id, booking_reservation *inserted)
{
	booking_reservation *b = mem_find(&st->bookings, id);
	return b || !id || !inserted || strcmp(inserted->id, id) != 0 ? b : inserted;
}

static int check_guards(mem_store *st, const booking_store_change *c, size_t *failed)
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
		} else if (g->kind == BOOKING_GUARD_USER_SEATS) {
			holds = g->id && g->key && g->value >= 0 &&
			        user_taken(st, g->id, g->key, c->now) <= (uint64_t)g->value;
		} else if (g->kind == BOOKING_GUARD_USER_HOLDS) {
			holds = g->id && g->value >= 0 && user_live(st, g->id, c->live_status, c->now) <= (uint64_t)g->value;
		} else if (g->kind == BOOKING_GUARD_SEATS_OWNED) {
			const booking_reservation *b = mem_find(&st->bookings, g->id);
			holds = b != NULL;
			for (size_t k = 0; holds && k < b->seat_count; k++) {
				const mem_seat *seat = mem_seat_find(st, b->showtime_id, b->seats[k]->label);
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
	for (size_t i = 0; i < c->seat_write_count; i++) {
		const booking_store_seat_write *w = &c->seat_writes[i];
		const mem_seat *seat = w->label ? mem_seat_find(st, c->showtime_id, w->label) : NULL;
		int as_expected = seat_as_expected(seat, w, c->now);
		if (as_expected < 0)
			return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: unknown seat expectation %d",
			                         (int)w->expect);
		if (!as_expected) {
			if (failed)
				*failed = c->guard_count + i;
			return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the change's seat write %zu does not hold", i);
		}
	}
	return 0;
}

/* A key that (user, key) of a payment start or of a hold would take twice. */
static bool key_taken(mem_store *st, const booking_store_change *c)
{
	const booking_store_key_record *k = c->key;
	return k && (map_get(&st->idem.index, k->user_id, k->key) ||
	             (c->start && c->start->user_id && c->start->idempotency_key &&
	              strcmp(c->start->user_id, k->user_id) == 0 && strcmp(c->start->idempotency_key, k->key) == 0));
}

/*
 * Write the reservation set `set` on row `b`; new seats are those `pp` prepared, the old array is retired (kept
 * until the store is freed: a list may still be reading it, see memory_store.h).
 */
static void reservation_write(mem_store *st, booking_reservation *b, const booking_store_reservation_set *set,
                              apply_prep *pp)
{
	b->status = set->status;
	b->saga = set->saga;
	b->version++;
	b->updated_at = set->updated_at;
	if (set->expires_at > 0)
		b->expires_at = set->expires_at;
	if (set->seats) {
		if (b->seats)
			mem_items_add(&st->retired, b->seats);
		b->seats = pp->seats;
		b->seat_count = pp->seats ? set->seat_count : 0;
		b->total_amount = set->total_amount;
		pp->seats = NULL;
	}
}

static void seat_write(mem_seat *seat, const booking_store_seat_write *w)
{
	seat->s.status = w->status;
	mem_copy_text(seat->s.reservation_id, sizeof seat->s.reservation_id, w->reservation_id);
	seat->s.hold_until = w->hold_until;
	mem_copy_text(seat->s.note, sizeof seat->s.note, w->note);
	seat->s.version++;
}

static int apply_locked(mem_store *st, const booking_store_change *c, size_t *failed, apply_prep *pp)
{
	int rc = check_guards(st, c, failed);
	if (rc < 0)
		return rc;
	booking_reservation *ins = pp->insert;
	if (ins && mem_find(&st->bookings, ins->id))
		return booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s already exists", ins->id);
	if (key_taken(st, c))
		return booking_error_set(BOOKING_EEXISTS, NULL, "this idempotency key has a record");
	booking_reservation *b = c->reservation ? booking_of(st, c->reservation->id, ins) : NULL;
	booking_reservation *sb = c->seats ? booking_of(st, c->seats->reservation_id, ins) : NULL;
	if ((c->reservation && !b) || (c->seats && !sb))
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	booking_payment *pay = c->payment ? mem_find(&st->payments, c->payment->id) : NULL;
	if (c->payment && !pay)
		return booking_store_not_found(BOOKING_EPAYMENT_NOT_FOUND);
	mem_payment *of_idem = c->idempotency ? mem_find(&st->payments, c->idempotency->payment_id) : NULL;

	/* everything the writes need, allocated: from here on nothing fails */
	mem_payment *started = NULL;
	rc = c->start ? payment_start_prepare(st, c->start, &started) : 0;
	if (rc == 0 && ((ins && (mem_table_reserve(&st->bookings, 1) < 0 || user_rows_reserve(st, ins->user_id) < 0)) ||
	                (pp->key && (mem_table_reserve(&st->idem, started ? 2 : 1) < 0 ||
	                             mem_items_reserve(&st->hold_keys, 1) < 0)) ||
	                (b && c->reservation->seats && b->seats && mem_items_reserve(&st->retired, 1) < 0)))
		rc = booking_error_oom();
	if (rc < 0 || (rc = mem_ev_batch_prepare(st, c->events, c->event_count)) < 0) {
		booking_free(started);
		return rc;
	}

	/* the writes, in the order of store.h */
	if (ins) {
		mem_table_add(&st->bookings, ins->id, ins);
		user_rows_add(st, ins);
		pp->insert = NULL;
	}
	if (pp->key) {
		mem_table_add(&st->idem, pp->key->key, pp->key);
		mem_items_add(&st->hold_keys, pp->key);
		pp->key = NULL;
	}
	if (started) {
		mem_table_add(&st->idem, started->idem.key, &started->idem);
		mem_table_add(&st->payments, started->p.id, started);
	}
	if (b)
		reservation_write(st, b, c->reservation, pp);
	for (size_t i = 0; sb && i < sb->seat_count; i++) {
		mem_seat *seat = mem_seat_find(st, sb->showtime_id, sb->seats[i]->label);
		if (!seat || seat->s.status != c->seats->from || strcmp(seat->s.reservation_id, sb->id) != 0)
			continue;
		bool to_free = c->seats->to == BOOKING_SEAT_FREE; /* FREE: no holder and no hold time (store.h) */
		seat->s.status = c->seats->to;
		seat->s.hold_until = to_free ? 0 : c->seats->hold_until;
		if (to_free)
			seat->s.reservation_id[0] = '\0';
		seat->s.version++;
	}
	for (size_t i = 0; i < c->seat_write_count; i++)
		if (c->seat_writes[i].write)
			seat_write(mem_seat_find(st, c->showtime_id, c->seat_writes[i].label), &c->seat_writes[i]);
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
	mem_ev_batch_commit(st, c->event_count);
	return 0;
}

static int apply(size_t *failed_guard_out, booking_store *base, const booking_store_change *change)
{
	mem_store *st = mem_impl(base);
	if (!change)
		return mem_missing_arg("change");
	apply_prep pp = {NULL, NULL, NULL};
	int rc = apply_prepare(&pp, change);
	if (rc == 0) {
		pthread_mutex_lock(&st->mu);
		rc = apply_locked(st, change, failed_guard_out, &pp);
		pthread_mutex_unlock(&st->mu);
	}
	booking_reservation_free(pp.insert);
	booking_free(pp.key);
	booking_free(pp.seats);
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
	.version = BOOKING_STORE_LEDGER_VERSION,
	.hold = hold,
	.reservation_get = reservation_get,
	.reservation_list_by_user = reservation_list_by_user,
	.apply = apply,
	.reservation_list_by_status = reservation_list_by_status,
	.idempotency_get = idempotency_get,
	.payment_get = payment_get,
	.payment_list_by_status = payment_list_by_status,
	.payment_attempts = payment_attempts,
	.reservation_list_by_showtime = reservation_list_by_showtime,
};
