/*
 * Memory store — bookings: hold, reads, apply (changes the core decided), the list by status and
 * expiry, and the seat helpers payments share.
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

/* Copy `s` with its NUL at p; returns the position of that NUL (the end of the text). */
static char *put_text(char *p, const char *s)
{
	size_t n = strlen(s);
	memcpy(p, s, n + 1);
	return p + n;
}

/* Append `s` as a JSON string (quotes included) at p; returns the new end. */
static char *json_str(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	*p++ = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			*p++ = '\\';
			*p++ = (char)*c;
		} else if (*c < 0x20) {
			*p++ = '\\';
			*p++ = 'u';
			*p++ = '0';
			*p++ = '0';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		} else {
			*p++ = (char)*c;
		}
	}
	*p++ = '"';
	return p;
}

void mem_reservation_free(void *p)
{
	booking_reservation *r = p;
	if (r)
		booking_free(r->seats);
	booking_free(r);
}

static booking_reservation *reservation_dup(const booking_reservation *src)
{
	booking_reservation *r = booking_malloc(sizeof *r);
	if (!r)
		return NULL;
	*r = *src;
	r->seats = NULL;
	if (src->seat_count) {
		r->seats = booking_calloc(src->seat_count, sizeof *r->seats);
		if (!r->seats) {
			booking_free(r);
			return NULL;
		}
		memcpy(r->seats, src->seats, src->seat_count * sizeof *r->seats);
	}
	return r;
}

/* ------------------------------------------------------------------------
 * Seats of a booking.
 * ------------------------------------------------------------------------ */

void mem_seat_free_row(mem_seat *seat)
{
	seat->s.status = BOOKING_SEAT_FREE;
	seat->s.booking_id[0] = '\0';
	seat->s.hold_until = 0;
	seat->s.version++;
}

void mem_booking_set_status(booking_reservation *b, booking_status to, booking_saga_state saga, int64_t now)
{
	b->status = to;
	b->saga = saga;
	b->version++;
	b->updated_at = now;
}

static int cmp_booking_newest(const void *a, const void *b)
{
	const booking_reservation *x = a, *y = b;
	int c = mem_cmp_i64(y->created_at, x->created_at);
	return c ? c : strcmp(y->id, x->id);
}

static int cmp_booking_expiry(const void *a, const void *b)
{
	const booking_reservation *x = a, *y = b;
	int c = mem_cmp_i64(x->expires_at, y->expires_at);
	if (!c)
		c = mem_cmp_i64(x->created_at, y->created_at);
	return c ? c : strcmp(x->id, y->id);
}

/* ------------------------------------------------------------------------
 * Reservations.
 * ------------------------------------------------------------------------ */

static bool seat_claimable(const mem_seat *seat, int64_t now)
{
	return booking_store_seat_claimable(seat->s.status, seat->s.hold_until, now);
}

static int seat_taken_error(const booking_reservation *b, mem_seat *const *seats, int64_t now, size_t ntaken)
{
	/* {"seats":["A1",...]}: each label at most 15 bytes, 6 bytes per escaped byte */
	char *details = booking_malloc(16 + ntaken * (6 * BOOKING_LABEL_SIZE + 4));
	if (details) {
		char *p = details;
		p = put_text(p, "{\"seats\":[");
		bool first = true;
		for (size_t i = 0; i < b->seat_count; i++) {
			if (seat_claimable(seats[i], now))
				continue;
			if (!first)
				*p++ = ',';
			first = false;
			p = json_str(p, seats[i]->s.label);
		}
		put_text(p, "]}");
	}
	int rc = booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, details, "%zu of the requested seats are taken",
	                           ntaken);
	booking_free(details);
	return rc;
}

static int hold_locked(mem_store *st, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count)
{
	const booking_reservation *b = req->booking;
	if (!mem_table_get(&st->showtimes, b->showtime_id, NULL))
		return booking_error_set(BOOKING_ESHOWTIME_NOT_FOUND, NULL, "showtime %s not found", b->showtime_id);
	if (mem_table_get(&st->bookings, b->id, NULL))
		return booking_error_set(BOOKING_EEXISTS, NULL, "booking %s already exists", b->id);

	mem_seat **seats = NULL;
	if (b->seat_count) {
		seats = booking_calloc(b->seat_count, sizeof *seats);
		if (!seats)
			return mem_oom();
	}
	for (size_t i = 0; i < b->seat_count; i++) {
		seats[i] = mem_seat_of(st, b->showtime_id, b->seats[i].label);
		if (!seats[i]) {
			char details[64 + 6 * BOOKING_LABEL_SIZE];
			char *p = details;
			p = put_text(p, "{\"field\":\"seats\",\"seat\":");
			p = json_str(p, b->seats[i].label);
			put_text(p, "}");
			booking_free(seats);
			return booking_error_set(BOOKING_EVALIDATION, details, "seat %.15s does not exist at showtime %s",
			                         b->seats[i].label, b->showtime_id);
		}
	}
	size_t ntaken = 0;
	for (size_t i = 0; i < b->seat_count; i++) {
		if (seat_claimable(seats[i], req->now))
			continue;
		if (taken)
			taken[ntaken] = b->seats[i];
		ntaken++;
	}
	if (ntaken) {
		if (taken_count)
			*taken_count = ntaken;
		int rc = seat_taken_error(b, seats, req->now, ntaken);
		booking_free(seats);
		return rc;
	}

	ev_batch batch;
	booking_reservation *copy = reservation_dup(b);
	if (!copy || mem_table_reserve(&st->bookings, 1) < 0) {
		mem_reservation_free(copy);
		booking_free(seats);
		return mem_oom();
	}
	int rc = mem_ev_batch_prepare(st, req->event, req->event ? 1 : 0, &batch);
	if (rc < 0) {
		mem_reservation_free(copy);
		booking_free(seats);
		return rc;
	}
	/* commit */
	for (size_t i = 0; i < b->seat_count; i++) {
		mem_seat *seat = seats[i];
		seat->s.status = BOOKING_SEAT_HELD;
		mem_copy_text(seat->s.booking_id, sizeof seat->s.booking_id, b->id);
		seat->s.hold_until = b->expires_at;
		seat->s.version++;
	}
	mem_table_add(&st->bookings, copy->id, copy);
	mem_ev_batch_commit(st, &batch);
	booking_free(seats);
	return 0;
}

int mem_hold(booking_store *base, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count)
{
	mem_store *st = mem_impl(base);
	if (taken_count)
		*taken_count = 0;
	if (!req || !req->booking)
		return mem_missing_arg("booking");
	if (req->booking->seat_count && !req->booking->seats)
		return mem_missing_arg("booking seats");
	mem_lock_store(st);
	int rc = hold_locked(st, req, taken, taken_count);
	mem_unlock_store(st);
	return rc;
}

int mem_booking_get(booking_store *base, const char *id, booking_reservation **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const booking_reservation *b = id ? mem_table_get(&st->bookings, id, NULL) : NULL;
	if (!b)
		rc = booking_error_set(BOOKING_EBOOKING_NOT_FOUND, NULL, "booking %s not found", mem_or_empty(id));
	else if (!(*out = reservation_dup(b)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

/*
 * Snapshot the bookings that `keep` accepts (plain copies: a booking's seat
 * array never changes once stored, so it is borrowed), sorted by `cmp`.
 */
static int booking_snapshot(mem_store *st, bool (*keep)(const booking_reservation *, const void *), const void *arg,
                            int (*cmp)(const void *, const void *), booking_reservation **snap_out, size_t *n_out)
{
	size_t total = st->bookings.len, n = 0;
	booking_reservation *snap = NULL;
	*snap_out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < total; i++) {
		const booking_reservation *b = st->bookings.items[i];
		if (!keep(b, arg))
			continue;
		if (!snap) {
			snap = booking_calloc(total - i, sizeof *snap);
			if (!snap)
				return mem_oom();
		}
		snap[n++] = *b;
	}
	if (n)
		qsort(snap, n, sizeof *snap, cmp);
	*snap_out = snap;
	*n_out = n;
	return 0;
}

/* A user's page: at most `max` of their bookings strictly after the key, newest first. */
typedef struct user_page {
	const char *user_id;
	int64_t after_created_at;
	const char *after_id; /* NULL: from the newest */
	const booking_reservation **top; /* sorted newest first, `n` of `cap` */
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
		if (cmp_booking_newest(pg->top[mid], b) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == pg->cap)
		return;
	size_t keep = pg->n < pg->cap ? pg->n : pg->cap - 1;
	memmove(&pg->top[lo + 1], &pg->top[lo], (keep - lo) * sizeof *pg->top);
	pg->top[lo] = b;
	if (pg->n < pg->cap)
		pg->n++;
}

/* Under the store lock: pick the page and copy it (seat arrays never change once stored: borrowed). */
static int page_snapshot_locked(mem_store *st, user_page *pg, booking_reservation **snap_out)
{
	*snap_out = NULL;
	if (pg->cap > st->bookings.len)
		pg->cap = st->bookings.len;
	if (pg->cap == 0)
		return 0;
	pg->top = booking_calloc(pg->cap, sizeof *pg->top);
	if (!pg->top)
		return mem_oom();
	/* newest rows were inserted last: walking back, most others fail the first compare */
	for (size_t i = st->bookings.len; i-- > 0;) {
		const booking_reservation *b = st->bookings.items[i];
		if (page_wants(pg, b))
			page_offer(pg, b);
	}
	int rc = 0;
	if (pg->n) {
		booking_reservation *snap = booking_calloc(pg->n, sizeof *snap);
		if (!snap) {
			rc = mem_oom();
		} else {
			for (size_t i = 0; i < pg->n; i++)
				snap[i] = *pg->top[i];
			*snap_out = snap;
		}
	}
	booking_free(pg->top);
	pg->top = NULL;
	return rc;
}

int mem_booking_list_by_user(booking_store *base, const char *user_id, int64_t after_created_at,
                             const char *after_id, size_t max, booking_store_booking_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	if (!user_id)
		return mem_missing_arg("user_id");
	user_page pg = {user_id, after_created_at, after_id, NULL, 0, max};
	booking_reservation *snap;
	mem_lock_store(st);
	int rc = page_snapshot_locked(st, &pg, &snap);
	mem_unlock_store(st);
	for (size_t i = 0; i < pg.n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

/* --- apply: guards, then writes; no rule of the domain here --- */

static int apply_locked(mem_store *st, const booking_store_change *c, size_t *failed)
{
	for (size_t i = 0; i < c->guard_count; i++) {
		const booking_store_guard *g = &c->guards[i];
		bool holds;
		if (g->kind == BOOKING_GUARD_BOOKING_VERSION) {
			const booking_reservation *b = g->id ? mem_table_get(&st->bookings, g->id, NULL) : NULL;
			holds = b && b->version == g->value;
		} else if (g->kind == BOOKING_GUARD_PAYMENT_STATUS) {
			const booking_payment *p = g->id ? mem_table_get(&st->payments, g->id, NULL) : NULL;
			holds = p && (int64_t)p->status == g->value;
		} else if (g->kind == BOOKING_GUARD_KEY_UNUSED) {
			holds = g->id && g->key && !map_get(&st->idem.index, g->id, g->key);
		} else if (g->kind == BOOKING_GUARD_SEATS_OWNED) {
			const booking_reservation *b = g->id ? mem_table_get(&st->bookings, g->id, NULL) : NULL;
			holds = b != NULL;
			for (size_t k = 0; holds && k < b->seat_count; k++) {
				const mem_seat *seat = mem_seat_of(st, b->showtime_id, b->seats[k].label);
				holds = seat && (int64_t)seat->s.status == g->value && strcmp(seat->s.booking_id, b->id) == 0;
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
	booking_reservation *b = c->booking ? mem_table_get(&st->bookings, c->booking->id, NULL) : NULL;
	booking_reservation *sb = c->seats ? mem_table_get(&st->bookings, c->seats->booking_id, NULL) : NULL;
	if ((c->booking && !b) || (c->seats && !sb))
		return booking_error_set(BOOKING_EBOOKING_NOT_FOUND, NULL, "memory store: the change names a missing booking");
	booking_payment *pay = c->payment ? mem_table_get(&st->payments, c->payment->id, NULL) : NULL;
	if (c->payment && !pay)
		return booking_error_set(BOOKING_EPAYMENT_NOT_FOUND, NULL, "memory store: the change names a missing payment");
	mem_idem *idem = c->idempotency ? map_get(&st->idem_by_payment, c->idempotency->payment_id, NULL) : NULL;
	mem_payment_start ps = {NULL, NULL};
	int rc = c->start ? mem_payment_start_prepare(st, c->start, &ps) : 0;
	if (rc < 0)
		return rc;
	ev_batch batch;
	if ((rc = mem_ev_batch_prepare(st, c->events, c->event_count, &batch)) < 0) {
		mem_payment_start_abort(&ps);
		return rc;
	}
	if (sb) {
		for (size_t i = 0; i < sb->seat_count; i++) {
			mem_seat *seat = mem_seat_of(st, sb->showtime_id, sb->seats[i].label);
			if (!seat || seat->s.status != c->seats->from || strcmp(seat->s.booking_id, sb->id) != 0)
				continue;
			if (c->seats->to == BOOKING_SEAT_FREE) {
				mem_seat_free_row(seat);
				continue;
			}
			seat->s.status = c->seats->to;
			seat->s.hold_until = c->seats->hold_until;
			seat->s.version++;
		}
	}
	if (b)
		mem_booking_set_status(b, c->booking->status, c->booking->saga, c->booking->updated_at);
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
	if (idem) {
		idem->completed = true;
		idem->replay_error = c->idempotency->replay_error;
	}
	if (c->start)
		mem_payment_start_commit(st, &ps);
	mem_ev_batch_commit(st, &batch);
	return 0;
}

int mem_apply(booking_store *base, const booking_store_change *change, size_t *failed_guard_out)
{
	mem_store *st = mem_impl(base);
	if (!change)
		return mem_missing_arg("change");
	mem_lock_store(st);
	int rc = apply_locked(st, change, failed_guard_out);
	mem_unlock_store(st);
	return rc;
}

typedef struct status_expiry {
	booking_status status;
	int64_t expires_before;
} status_expiry;

static bool keep_status_expiry(const booking_reservation *b, const void *arg)
{
	const status_expiry *f = arg;
	return b->status == f->status && b->expires_at <= f->expires_before;
}

int mem_booking_list_by_status(booking_store *base, booking_status status, int64_t expires_before, size_t max,
                               booking_store_booking_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	booking_reservation *snap;
	size_t n;
	status_expiry f = {status, expires_before};
	mem_lock_store(st);
	int rc = booking_snapshot(st, keep_status_expiry, &f, cmp_booking_expiry, &snap, &n);
	mem_unlock_store(st);
	for (size_t i = 0; i < n && i < max && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}
