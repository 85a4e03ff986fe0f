/*
 * booking_check(): the six invariants of DESIGN.md §3, the box office's
 * (doc/boxoffice.md) and the waiting lists' (doc/fairness.md), over the whole
 * store, like SQLite's PRAGMA integrity_check.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- growable arrays of copied rows ---------- */

typedef struct seat_row {
	char showtime_id[BOOKING_ID_SIZE];
	booking_store_seat seat;
} seat_row;

typedef struct idem_row {
	char *user_id, *key;
	char payment_id[BOOKING_ID_SIZE];
	bool completed;
} idem_row;

typedef struct event_row {
	char id[BOOKING_ID_SIZE];
	char type[64];
	char aggregate_type[32];
	char aggregate_id[BOOKING_ID_SIZE];
	int64_t sequence;
} event_row;

typedef struct wl_event {
	char showtime_id[BOOKING_ID_SIZE];
	char type[32];
	int64_t position; /* commit order */
	char *data_json;
} wl_event;

typedef struct inbox_row {
	char group[64];
	char event_id[BOOKING_ID_SIZE];
} inbox_row;

#define ARRAY(T) struct { T *items; size_t count, cap; }

typedef struct snapshot {
	ARRAY(seat_row) seats;
	ARRAY(booking_reservation) bookings;
	ARRAY(booking_payment) payments;
	ARRAY(idem_row) idem;
	ARRAY(event_row) events;
	ARRAY(inbox_row) inbox;
	ARRAY(wl_event) waitlist; /* the events of waiting lists, with their data */
	ARRAY(booking_violation) found; /* handed out as the report's items at the end (found_finish) */
	booking_check_report *report;
	int64_t now;
	int64_t hold_max_ms; /* the checking handle's hold_max_minutes */
} snapshot;

static void *grow(void *items, size_t *cap, size_t count, size_t size)
{
	if (count < *cap)
		return items;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *n = booking_realloc(items, ncap * size);
	if (n)
		*cap = ncap;
	return n;
}

#define PUSH(arr, out)                                                                       \
	do {                                                                                     \
		void *n_ = grow((arr).items, &(arr).cap, (arr).count, sizeof(*(arr).items));         \
		if (!n_)                                                                             \
			return booking_error_oom();                                                      \
		(arr).items = n_;                                                                    \
		(out) = &(arr).items[(arr).count];                                                   \
	} while (0)

static int on_seat(const char *showtime_id, const booking_store_seat *seat, void *payload)
{
	snapshot *s = payload;
	seat_row *r;
	PUSH(s->seats, r);
	booking__copy(r->showtime_id, sizeof(r->showtime_id), showtime_id);
	r->seat = *seat;
	s->seats.count++;
	return 0;
}

static int on_booking(const booking_reservation *b, void *payload)
{
	snapshot *s = payload;
	booking_reservation *r;
	PUSH(s->bookings, r);
	void **seats;
	*r = *b;
	r->seats = NULL;
	if (booking__record_array_dup(&seats, (const void *const *)b->seats, b->seat_count, sizeof(booking_seat_ref)) < 0)
		return BOOKING_ENOMEM;
	r->seats = (booking_seat_ref **)seats;
	s->bookings.count++;
	return 0;
}

static int on_payment(const booking_payment *p, void *payload)
{
	snapshot *s = payload;
	booking_payment *r;
	PUSH(s->payments, r);
	*r = *p;
	s->payments.count++;
	return 0;
}

static int on_idem(const booking_store_idempotency *rec, void *payload)
{
	snapshot *s = payload;
	idem_row *r;
	PUSH(s->idem, r);
	r->user_id = booking_strdup(rec->user_id ? rec->user_id : "");
	r->key = booking_strdup(rec->key ? rec->key : "");
	if (!r->user_id || !r->key) {
		booking_free(r->user_id);
		booking_free(r->key);
		return booking_error_oom();
	}
	booking__copy(r->payment_id, sizeof(r->payment_id), rec->payment_id);
	r->completed = rec->completed;
	s->idem.count++;
	return 0;
}

static int on_event(const booking_event_record *e, void *payload)
{
	snapshot *s = payload;
	event_row *r;
	PUSH(s->events, r);
	booking__copy(r->id, sizeof(r->id), e->id);
	booking__copy(r->type, sizeof(r->type), e->type);
	booking__copy(r->aggregate_type, sizeof(r->aggregate_type), e->aggregate_type);
	booking__copy(r->aggregate_id, sizeof(r->aggregate_id), e->aggregate_id);
	r->sequence = e->sequence;
	s->events.count++;
	if (strcmp(e->aggregate_type, "waitlist") == 0) {
		wl_event *w;
		PUSH(s->waitlist, w);
		memset(w, 0, sizeof(*w));
		json_t *d = json_loads(e->data_json ? e->data_json : "{}", 0, NULL);
		booking__copy(w->showtime_id, sizeof(w->showtime_id), json_string_value(json_object_get(d, "showtime_id")));
		json_decref(d);
		booking__copy(w->type, sizeof(w->type), e->type);
		w->position = e->position;
		if (!(w->data_json = booking_strdup(e->data_json ? e->data_json : "{}")))
			return booking_error_oom();
		s->waitlist.count++;
	}
	return 0;
}

static int on_inbox(const booking_store_inbox *row, void *payload)
{
	snapshot *s = payload;
	inbox_row *r;
	PUSH(s->inbox, r);
	booking__copy(r->group, sizeof(r->group), row->group);
	booking__copy(r->event_id, sizeof(r->event_id), row->event_id);
	s->inbox.count++;
	return 0;
}

static void snapshot_free(snapshot *s)
{
	for (size_t i = 0; i < s->bookings.count; i++)
		booking_free(s->bookings.items[i].seats);
	for (size_t i = 0; i < s->found.count; i++)
		booking_free(s->found.items[i].message);
	for (size_t i = 0; i < s->idem.count; i++) {
		booking_free(s->idem.items[i].user_id);
		booking_free(s->idem.items[i].key);
	}
	booking_free(s->seats.items);
	booking_free(s->bookings.items);
	booking_free(s->payments.items);
	booking_free(s->idem.items);
	booking_free(s->events.items);
	booking_free(s->inbox.items);
	for (size_t i = 0; i < s->waitlist.count; i++)
		booking_free(s->waitlist.items[i].data_json);
	booking_free(s->waitlist.items);
	booking_free(s->found.items);
}

/* The violations found become the report's items (an array of pointers); then the snapshot no longer has them. */
static int found_finish(snapshot *s)
{
	if (s->found.count == 0)
		return 0;
	void **items = booking__record_array_adopt(s->found.items, s->found.count, sizeof(booking_violation));
	if (!items)
		return BOOKING_ENOMEM;
	s->report->items = (booking_violation **)items;
	s->report->count = s->found.count;
	s->found.items = NULL;
	s->found.count = 0;
	return 0;
}

/* ---------- reporting ---------- */

static int violation(snapshot *s, booking_invariant inv, const char *entity, const char *fmt, ...)
{
	booking_violation *v;
	PUSH(s->found, v);
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memset(v, 0, sizeof(*v));
	v->invariant = inv;
	booking__copy(v->entity_id, sizeof(v->entity_id), entity ? entity : "");
	v->message = booking_strdup(msg);
	if (!v->message)
		return booking_error_oom();
	s->found.count++;
	return 0;
}

#define REPORT(...)                                      \
	do {                                                 \
		int rc_ = violation(__VA_ARGS__);                \
		if (rc_ < 0)                                     \
			return rc_;                                  \
	} while (0)

/* ---------- lookups (sorted arrays + bsearch) ---------- */

/*
 * qsort() and bsearch() must not be given a NULL array, even with no rows
 * (UBSan: nonnull argument); an empty store has NULL arrays here.
 */
static void sort_rows(void *items, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(items, n, size, cmp);
}

static void *find_row(const void *key, const void *items, size_t n, size_t size,
                      int (*cmp)(const void *, const void *))
{
	return n ? bsearch(key, items, n, size, cmp) : NULL;
}

static int cmp_seat_row(const void *a, const void *b)
{
	const seat_row *x = a, *y = b;
	int c = strcmp(x->showtime_id, y->showtime_id);
	return c ? c : strcmp(x->seat.label, y->seat.label);
}

static int cmp_booking(const void *a, const void *b)
{
	return strcmp(((const booking_reservation *)a)->id, ((const booking_reservation *)b)->id);
}

static int cmp_payment_booking(const void *a, const void *b)
{
	const booking_payment *x = a, *y = b;
	int c = strcmp(x->reservation_id, y->reservation_id);
	return c ? c : strcmp(x->id, y->id);
}

static int cmp_event_aggregate(const void *a, const void *b)
{
	const event_row *x = a, *y = b;
	int c = strcmp(x->aggregate_id, y->aggregate_id);
	if (c)
		return c;
	return x->sequence < y->sequence ? -1 : x->sequence > y->sequence;
}

static int cmp_event_id(const void *a, const void *b)
{
	return strcmp(((const event_row *)a)->id, ((const event_row *)b)->id);
}

static int cmp_idem_payment(const void *a, const void *b)
{
	return strcmp(((const idem_row *)a)->payment_id, ((const idem_row *)b)->payment_id);
}

static int cmp_inbox(const void *a, const void *b)
{
	const inbox_row *x = a, *y = b;
	int c = strcmp(x->group, y->group);
	return c ? c : strcmp(x->event_id, y->event_id);
}

static const seat_row *find_seat(const snapshot *s, const char *showtime_id, const char *label)
{
	seat_row key;
	memset(&key, 0, sizeof(key));
	booking__copy(key.showtime_id, sizeof(key.showtime_id), showtime_id);
	booking__copy(key.seat.label, sizeof(key.seat.label), label);
	return find_row(&key, s->seats.items, s->seats.count, sizeof(key), cmp_seat_row);
}

static const booking_reservation *find_booking(const snapshot *s, const char *id)
{
	booking_reservation key;
	memset(&key, 0, sizeof(key));
	booking__copy(key.id, sizeof(key.id), id);
	return find_row(&key, s->bookings.items, s->bookings.count, sizeof(key), cmp_booking);
}

/* Events of one aggregate: [first, first+count) in the aggregate-sorted array. */
static const event_row *aggregate_events(const snapshot *s, const char *aggregate_id, size_t *count)
{
	size_t lo = 0, hi = s->events.count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(s->events.items[mid].aggregate_id, aggregate_id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t end = lo;
	while (end < s->events.count && strcmp(s->events.items[end].aggregate_id, aggregate_id) == 0)
		end++;
	*count = end - lo;
	return &s->events.items[lo];
}

static size_t count_type(const event_row *evs, size_t n, const char *type)
{
	size_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += strcmp(evs[i].type, type) == 0;
	return c;
}

/* ---------- the invariants ---------- */

/* Is the reservation's claim on its seats still in force? */
static bool booking_live(const snapshot *s, const booking_reservation *b)
{
	switch (b->status) {
	case BOOKING_RESERVATION_CONFIRMED: return true;
	case BOOKING_RESERVATION_PENDING: return b->expires_at > s->now;
	case BOOKING_RESERVATION_PAYMENT_PROCESSING:
		/* live while its extended holds last; once they lapse the seats may be re-sold */
		for (size_t i = 0; i < b->seat_count; i++) {
			const seat_row *r = find_seat(s, b->showtime_id, b->seats[i]->label);
			if (r && strcmp(r->seat.reservation_id, b->id) == 0 &&
			    !booking_store_seat_claimable(r->seat.status, r->seat.hold_until, s->now))
				return true;
		}
		return false;
	default: return false;
	}
}

static int check_seats(snapshot *s)
{
	for (size_t i = 0; i < s->bookings.count; i++) {
		const booking_reservation *b = &s->bookings.items[i];
		if (!booking_live(s, b))
			continue;
		for (size_t k = 0; k < b->seat_count; k++) {
			const seat_row *r = find_seat(s, b->showtime_id, b->seats[k]->label);
			if (!r)
				REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, b->id, "reservation %s holds seat %s that its showtime lacks",
				       b->id, b->seats[k]->label);
			else if (strcmp(r->seat.reservation_id, b->id) != 0)
				REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, b->id,
				       "seat %s of showtime %s belongs to %s but live %s reservation %s claims it", b->seats[k]->label,
				       b->showtime_id, r->seat.reservation_id[0] ? r->seat.reservation_id : "nobody",
				       booking_reservation_status_name(b->status), b->id);
			else if ((b->status == BOOKING_RESERVATION_CONFIRMED) != (r->seat.status == BOOKING_SEAT_SOLD))
				REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, b->id, "seat %s is %s but its reservation %s is %s",
				       b->seats[k]->label, r->seat.status == BOOKING_SEAT_SOLD ? "SOLD" : "not sold", b->id,
				       booking_reservation_status_name(b->status));
		}
	}
	for (size_t i = 0; i < s->seats.count; i++) {
		const seat_row *r = &s->seats.items[i];
		if (r->seat.status == BOOKING_SEAT_FREE)
			continue;
		if (r->seat.status == BOOKING_SEAT_BLOCKED) { /* out of sale: neither held nor sold */
			if (r->seat.reservation_id[0])
				REPORT(s, BOOKING_INV_BOX_OFFICE, r->seat.reservation_id,
				       "seat %s of showtime %s is BLOCKED and taken by reservation %s", r->seat.label, r->showtime_id,
				       r->seat.reservation_id);
			continue;
		}
		const booking_reservation *b = find_booking(s, r->seat.reservation_id);
		if (!b) {
			REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, r->seat.reservation_id, "seat %s of showtime %s is taken by unknown reservation %s",
			       r->seat.label, r->showtime_id, r->seat.reservation_id);
			continue;
		}
		bool listed = false;
		for (size_t k = 0; k < b->seat_count && !listed; k++)
			listed = strcmp(b->seats[k]->label, r->seat.label) == 0 && strcmp(b->showtime_id, r->showtime_id) == 0;
		if (!listed)
			REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, b->id, "seat %s is taken by reservation %s, which did not ask for it",
			       r->seat.label, b->id);
		if (r->seat.status == BOOKING_SEAT_SOLD && b->status != BOOKING_RESERVATION_CONFIRMED)
			REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, b->id, "seat %s is SOLD to reservation %s, which is %s", r->seat.label,
			       b->id, booking_reservation_status_name(b->status));
		if (r->seat.status == BOOKING_SEAT_HELD && b->status != BOOKING_RESERVATION_PENDING &&
		    b->status != BOOKING_RESERVATION_PAYMENT_PROCESSING)
			REPORT(s, BOOKING_INV_SEAT_SINGLE_OWNER, b->id, "seat %s is still HELD by %s reservation %s", r->seat.label,
			       booking_reservation_status_name(b->status), b->id);
	}
	return 0;
}

static int check_payments(snapshot *s)
{
	/* payments sorted by reservation: walk each reservation's run */
	size_t i = 0;
	for (size_t bi = 0; bi < s->bookings.count; bi++) {
		const booking_reservation *b = &s->bookings.items[bi];
		while (i < s->payments.count && strcmp(s->payments.items[i].reservation_id, b->id) < 0) {
			REPORT(s, BOOKING_INV_CONFIRMED_PAID, s->payments.items[i].id, "payment %s is for unknown reservation %s",
			       s->payments.items[i].id, s->payments.items[i].reservation_id);
			i++;
		}
		size_t succeeded = 0;
		for (; i < s->payments.count && strcmp(s->payments.items[i].reservation_id, b->id) == 0; i++) {
			const booking_payment *p = &s->payments.items[i];
			succeeded += p->status == BOOKING_PAYMENT_SUCCEEDED;
			if (p->amount != b->total_amount || strcmp(p->currency, b->currency) != 0)
				REPORT(s, BOOKING_INV_MONEY, p->id, "payment %s charges %lld %s for a reservation of %lld %s", p->id,
				       (long long)p->amount, p->currency, (long long)b->total_amount, b->currency);
		}
		if (b->status == BOOKING_RESERVATION_CONFIRMED && succeeded != 1)
			REPORT(s, BOOKING_INV_CONFIRMED_PAID, b->id, "CONFIRMED reservation %s has %zu succeeded payments", b->id,
			       succeeded);
		if (b->status != BOOKING_RESERVATION_CONFIRMED && succeeded != 0)
			REPORT(s, BOOKING_INV_CONFIRMED_PAID, b->id, "%s reservation %s has a succeeded, unrefunded payment",
			       booking_reservation_status_name(b->status), b->id);
	}
	for (; i < s->payments.count; i++)
		REPORT(s, BOOKING_INV_CONFIRMED_PAID, s->payments.items[i].id, "payment %s is for unknown reservation %s",
		       s->payments.items[i].id, s->payments.items[i].reservation_id);
	return 0;
}

/* The box office's own: a live hold within its lifetime cap (blocked seats: check_seats). */
static int check_box_office(snapshot *s)
{
	for (size_t i = 0; i < s->bookings.count; i++) {
		const booking_reservation *b = &s->bookings.items[i];
		if (b->status == BOOKING_RESERVATION_PENDING && b->expires_at - b->created_at > s->hold_max_ms)
			REPORT(s, BOOKING_INV_BOX_OFFICE, b->id, "hold %s lives %lld min, past the cap of %lld min", b->id,
			       (long long)((b->expires_at - b->created_at) / 60000), (long long)(s->hold_max_ms / 60000));
	}
	return 0;
}

static bool is_payment(const snapshot *s, const char *id)
{
	for (size_t k = 0; k < s->payments.count; k++)
		if (strcmp(s->payments.items[k].id, id) == 0)
			return true;
	return false;
}

static int check_idempotency(snapshot *s)
{
	/* a hold's key names a reservation of its user, completed at once */
	for (size_t i = 0; i < s->idem.count; i++) {
		const idem_row *r = &s->idem.items[i];
		if (is_payment(s, r->payment_id))
			continue;
		const booking_reservation *b = find_booking(s, r->payment_id);
		if (!b)
			REPORT(s, BOOKING_INV_IDEMPOTENCY, r->payment_id, "an idempotency key of user %s names %s, no payment or reservation",
			       r->user_id, r->payment_id);
		else if (strcmp(b->user_id, r->user_id) != 0 || !r->completed)
			REPORT(s, BOOKING_INV_BOX_OFFICE, b->id, "the key of hold %s is %s", b->id,
			       r->completed ? "another user's" : "not completed");
	}
	for (size_t i = 0; i < s->idem.count; i++) {
		const idem_row *r = &s->idem.items[i];
		if (i && strcmp(s->idem.items[i - 1].payment_id, r->payment_id) == 0)
			REPORT(s, BOOKING_INV_IDEMPOTENCY, r->payment_id, "payment %s is claimed by two idempotency keys",
			       r->payment_id);
		for (size_t j = i + 1; j < s->idem.count; j++)
			if (strcmp(s->idem.items[j].user_id, r->user_id) == 0 && strcmp(s->idem.items[j].key, r->key) == 0)
				REPORT(s, BOOKING_INV_IDEMPOTENCY, r->payment_id, "an idempotency key of user %s maps to two payments",
				       r->user_id);
	}
	for (size_t i = 0; i < s->payments.count; i++) {
		const booking_payment *p = &s->payments.items[i];
		idem_row key;
		memset(&key, 0, sizeof(key));
		booking__copy(key.payment_id, sizeof(key.payment_id), p->id);
		const idem_row *r = find_row(&key, s->idem.items, s->idem.count, sizeof(key), cmp_idem_payment);
		if (!r)
			REPORT(s, BOOKING_INV_IDEMPOTENCY, p->id, "payment %s has no idempotency record", p->id);
		else if (strcmp(r->user_id, p->user_id) != 0)
			REPORT(s, BOOKING_INV_IDEMPOTENCY, p->id, "payment %s is recorded under another user's key", p->id);
		else if (r->completed != (p->status != BOOKING_PAYMENT_PROCESSING))
			REPORT(s, BOOKING_INV_IDEMPOTENCY, p->id, "payment %s is %s but its key is %s", p->id,
			       booking_payment_status_name(p->status), r->completed ? "completed" : "in progress");
	}
	return 0;
}

static int expect_events(snapshot *s, const char *id, const event_row *evs, size_t n, const char *type, size_t want)
{
	size_t got = count_type(evs, n, type);
	if (got != want)
		REPORT(s, BOOKING_INV_OUTBOX, id, "%s has %zu %s events, expected %zu", id, got, type, want);
	return 0;
}

#define EXPECT(...)                              \
	do {                                         \
		int rc_ = expect_events(__VA_ARGS__);    \
		if (rc_ < 0)                             \
			return rc_;                          \
	} while (0)

static int check_outbox(snapshot *s)
{
	for (size_t i = 0; i < s->bookings.count; i++) {
		const booking_reservation *b = &s->bookings.items[i];
		size_t n;
		const event_row *evs = aggregate_events(s, b->id, &n);
		for (size_t k = 0; k < n; k++)
			if (evs[k].sequence != (int64_t)k + 1)
				REPORT(s, BOOKING_INV_OUTBOX, b->id, "events of reservation %s are not numbered 1..%zu", b->id, n);
		EXPECT(s, b->id, evs, n, "reservation.created", 1);
		EXPECT(s, b->id, evs, n, "reservation.confirmed", b->status == BOOKING_RESERVATION_CONFIRMED ||
		                                                   (b->status == BOOKING_RESERVATION_CANCELLED &&
		                                                    count_type(evs, n, "reservation.confirmed") == 1)
		                                                  ? 1 : 0);
		EXPECT(s, b->id, evs, n, "reservation.cancelled", b->status == BOOKING_RESERVATION_CANCELLED);
		EXPECT(s, b->id, evs, n, "reservation.expired", b->status == BOOKING_RESERVATION_EXPIRED);
	}
	for (size_t i = 0; i < s->payments.count; i++) {
		const booking_payment *p = &s->payments.items[i];
		size_t n;
		const event_row *evs = aggregate_events(s, p->id, &n);
		for (size_t k = 0; k < n; k++)
			if (evs[k].sequence != (int64_t)k + 1)
				REPORT(s, BOOKING_INV_OUTBOX, p->id, "events of payment %s are not numbered 1..%zu", p->id, n);
		bool charged = p->status == BOOKING_PAYMENT_SUCCEEDED || p->status == BOOKING_PAYMENT_REFUNDED;
		EXPECT(s, p->id, evs, n, "payment.completed", charged);
		EXPECT(s, p->id, evs, n, "payment.failed", p->status == BOOKING_PAYMENT_FAILED);
		EXPECT(s, p->id, evs, n, "payment.refunded", p->status == BOOKING_PAYMENT_REFUNDED);
	}
	/* no event without its change: every booking/payment event names an existing aggregate */
	for (size_t i = 0; i < s->events.count; i++) {
		const event_row *e = &s->events.items[i];
		bool exists = true;
		if (strcmp(e->aggregate_type, "reservation") == 0) {
			exists = find_booking(s, e->aggregate_id) != NULL;
		} else if (strcmp(e->aggregate_type, "payment") == 0) {
			exists = false;
			for (size_t k = 0; k < s->payments.count && !exists; k++)
				exists = strcmp(s->payments.items[k].id, e->aggregate_id) == 0;
		}
		if (!exists)
			REPORT(s, BOOKING_INV_OUTBOX, e->id, "event %s (%s) is about %s %s, which does not exist", e->id, e->type,
			       e->aggregate_type, e->aggregate_id);
	}
	return 0;
}

static int check_inbox(snapshot *s)
{
	sort_rows(s->events.items, s->events.count, sizeof(event_row), cmp_event_id);
	for (size_t i = 0; i < s->inbox.count; i++) {
		const inbox_row *r = &s->inbox.items[i];
		if (i && cmp_inbox(&s->inbox.items[i - 1], r) == 0)
			REPORT(s, BOOKING_INV_INBOX, r->event_id, "group %s applied event %s twice", r->group, r->event_id);
		event_row key;
		memset(&key, 0, sizeof(key));
		booking__copy(key.id, sizeof(key.id), r->event_id);
		if (!find_row(&key, s->events.items, s->events.count, sizeof(key), cmp_event_id))
			REPORT(s, BOOKING_INV_INBOX, r->event_id, "group %s applied event %s, which is not in the outbox", r->group,
			       r->event_id);
	}
	return 0;
}

/* Per currency: succeeded (incl. later refunded) − refunds = confirmed totals. */
typedef struct money {
	char currency[BOOKING_CURRENCY_SIZE];
	int64_t paid, refunded, confirmed;
} money;

static money *money_for(money *m, size_t *n, const char *currency)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(m[i].currency, currency) == 0)
			return &m[i];
	if (*n >= 64)
		return NULL;
	memset(&m[*n], 0, sizeof(m[*n]));
	booking__copy(m[*n].currency, sizeof(m[*n].currency), currency);
	return &m[(*n)++];
}

static int check_money(snapshot *s)
{
	money m[64];
	size_t n = 0;
	for (size_t i = 0; i < s->payments.count; i++) {
		const booking_payment *p = &s->payments.items[i];
		money *x = money_for(m, &n, p->currency);
		if (!x)
			continue;
		if (p->status == BOOKING_PAYMENT_SUCCEEDED || p->status == BOOKING_PAYMENT_REFUNDED)
			x->paid += p->amount;
		x->refunded += p->refunded_amount;
		if (p->status == BOOKING_PAYMENT_REFUNDED && p->refunded_amount != p->amount)
			REPORT(s, BOOKING_INV_MONEY, p->id, "REFUNDED payment %s refunded %lld of %lld", p->id,
			       (long long)p->refunded_amount, (long long)p->amount);
	}
	for (size_t i = 0; i < s->bookings.count; i++) {
		const booking_reservation *b = &s->bookings.items[i];
		if (b->status != BOOKING_RESERVATION_CONFIRMED)
			continue;
		money *x = money_for(m, &n, b->currency);
		if (x)
			x->confirmed += b->total_amount;
	}
	for (size_t i = 0; i < n; i++)
		if (m[i].paid - m[i].refunded != m[i].confirmed)
			REPORT(s, BOOKING_INV_MONEY, NULL, "%s: paid %lld - refunded %lld != confirmed %lld", m[i].currency,
			       (long long)m[i].paid, (long long)m[i].refunded, (long long)m[i].confirmed);
	return 0;
}

/* ---------- waiting lists ---------- */

typedef struct wl_party {
	char entry_id[BOOKING_ID_SIZE];
	char user_id[BOOKING_ID_SIZE];
	int64_t joined_at;
	int64_t joined_position; /* where its waitlist.joined event stands in commit order */
	int passes;
	bool offered;
	char reservation_id[BOOKING_ID_SIZE];
	json_t *seats; /* offered: the seats of the offer */
} wl_party;

typedef struct wl_replay {
	wl_party *p;
	size_t n, cap;
} wl_replay;

static int cmp_wl_event(const void *a, const void *b)
{
	const wl_event *x = a, *y = b;
	int c = strcmp(x->showtime_id, y->showtime_id);
	return c ? c : (x->position > y->position) - (x->position < y->position);
}

static wl_party *wl_find(wl_replay *r, const char *entry_id)
{
	for (size_t i = 0; entry_id && i < r->n; i++)
		if (strcmp(r->p[i].entry_id, entry_id) == 0)
			return &r->p[i];
	return NULL;
}

static void wl_remove(wl_replay *r, wl_party *p)
{
	json_decref(p->seats);
	*p = r->p[--r->n];
}

static bool in_array(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(arr, i, v)
	if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
		return true;
	return false;
}

/* Does the party before `e` in line (join order, then user id) come first? */
static bool ahead(const wl_party *x, const wl_party *e)
{
	return x->joined_at < e->joined_at || (x->joined_at == e->joined_at && strcmp(x->user_id, e->user_id) < 0);
}

/* One event of a showtime's list, replayed; violations are reported on the entry. */
static int wl_apply(snapshot *s, wl_replay *r, const wl_event *ev)
{
	json_t *d = json_loads(ev->data_json, 0, NULL);
	if (!d)
		return 0;
	const char *entry = json_string_value(json_object_get(d, "entry_id"));
	wl_party *p = wl_find(r, entry);
	int rc = 0;
	if (!entry) {
		/* an event without its entry: nothing to replay */
	} else if (strcmp(ev->type, "waitlist.joined") == 0) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 16;
			wl_party *np = booking_realloc(r->p, cap * sizeof(*np));
			if (!np) {
				json_decref(d);
				return booking_error_oom();
			}
			r->p = np;
			r->cap = cap;
		}
		wl_party *n = &r->p[r->n++];
		memset(n, 0, sizeof(*n));
		booking__copy(n->entry_id, sizeof(n->entry_id), entry);
		booking__copy(n->user_id, sizeof(n->user_id), json_string_value(json_object_get(d, "user_id")));
		n->joined_at = json_integer_value(json_object_get(d, "joined_at"));
		n->joined_position = ev->position;
	} else if (!p) {
		rc = violation(s, BOOKING_INV_WAITLIST, entry, "waiting list of %s: %s for entry %s, which is not in line",
		               ev->showtime_id, ev->type, entry);
	} else if (strcmp(ev->type, "waitlist.offered") == 0) {
		json_t *over = json_object_get(d, "passed_over"), *seats = json_object_get(d, "seats");
		int max = (int)json_integer_value(json_object_get(d, "max_passes"));
		if (p->offered)
			rc = violation(s, BOOKING_INV_WAITLIST, entry, "entry %s was offered seats twice at once", entry);
		for (size_t i = 0; i < r->n && rc == 0; i++) {
			wl_party *x = &r->p[i];
			if (x == p)
				continue;
			size_t k;
			json_t *seat;
			if (x->offered)
				json_array_foreach(seats, k, seat)
				if (json_is_string(seat) && in_array(x->seats, json_string_value(seat)))
					rc = violation(s, BOOKING_INV_WAITLIST, entry, "seat %s offered to entries %s and %s at once",
					               json_string_value(seat), x->entry_id, entry);
			/*
			 * A party ahead in line whose join committed before this
			 * party's: whoever offered could see it, so it must have been
			 * passed over (one whose join committed later may not have been
			 * seen yet: a join's time is taken before it commits).
			 */
			if (rc == 0 && !x->offered && ahead(x, p) && x->joined_position < p->joined_position) {
				if (!in_array(over, x->entry_id))
					rc = violation(s, BOOKING_INV_WAITLIST, entry,
					               "entry %s was offered seats before entry %s, ahead of it, without passing it over",
					               entry, x->entry_id);
				else if (x->passes >= max)
					rc = violation(s, BOOKING_INV_WAITLIST, entry,
					               "entry %s passed over entry %s %d times, past the limit of %d", entry, x->entry_id,
					               x->passes + 1, max);
				x->passes++;
			}
		}
		p->offered = true;
		booking__copy(p->reservation_id, sizeof(p->reservation_id),
		              json_string_value(json_object_get(d, "reservation_id")));
		json_decref(p->seats);
		p->seats = json_incref(seats);
	} else if (strcmp(ev->type, "waitlist.left") == 0 || strcmp(ev->type, "waitlist.lapsed") == 0 ||
	           strcmp(ev->type, "waitlist.fulfilled") == 0) {
		wl_remove(r, p);
	}
	json_decref(d);
	return rc < 0 ? rc : 0;
}

typedef struct wl_stored {
	snapshot *s;
	wl_replay *r;
	const char *showtime_id;
	size_t seen;
	int rc;
} wl_stored;

/* Every stored entry is one the events left in line, in the same state; an offer is its party's live hold. */
static int wl_stored_entry(const char *user_id, const booking_store_kv_record *rec, void *payload)
{
	wl_stored *w = payload;
	json_t *d = json_loads(rec->value ? rec->value : "", 0, NULL);
	const char *id = json_string_value(json_object_get(d, "id"));
	const char *status = json_string_value(json_object_get(d, "status"));
	const char *rid = json_string_value(json_object_get(d, "reservation_id"));
	wl_party *p = wl_find(w->r, id);
	bool offered = status && strcmp(status, "offered") == 0;
	int rc = 0;
	w->seen++;
	if (!p || strcmp(p->user_id, user_id) != 0 || p->offered != offered)
		rc = violation(w->s, BOOKING_INV_WAITLIST, id ? id : user_id,
		               "waiting list of %s: entry %s of user %s is not as its events left it", w->showtime_id,
		               id ? id : "?", user_id);
	else if (offered) {
		const booking_reservation *b = find_booking(w->s, rid ? rid : "");
		if (!b || strcmp(b->user_id, user_id) != 0 || strcmp(b->showtime_id, w->showtime_id) != 0)
			rc = violation(w->s, BOOKING_INV_WAITLIST, id, "the offer of entry %s is not a hold of its user (%s)", id,
			               rid ? rid : "");
	}
	json_decref(d);
	if (rc < 0)
		w->rc = rc;
	return rc < 0 ? 1 : 0;
}

static int check_waitlist(snapshot *s, booking_handle *bk)
{
	const booking_store_kv *kv = booking__store_kv(bk->store);
	sort_rows(s->waitlist.items, s->waitlist.count, sizeof(wl_event), cmp_wl_event);
	int rc = 0;
	for (size_t i = 0; i < s->waitlist.count && rc == 0;) {
		size_t end = i;
		while (end < s->waitlist.count && strcmp(s->waitlist.items[end].showtime_id, s->waitlist.items[i].showtime_id) == 0)
			end++;
		wl_replay r = {0};
		for (size_t k = i; k < end && rc == 0; k++)
			rc = wl_apply(s, &r, &s->waitlist.items[k]);
		const char *showtime_id = s->waitlist.items[i].showtime_id;
		if (rc == 0 && kv) {
			char ns[64];
			snprintf(ns, sizeof(ns), "waitlist/%s", showtime_id);
			wl_stored w = {s, &r, showtime_id, 0, 0};
			rc = kv->kv_list(bk->store, ns, s->now, (size_t)bk->cfg.waitlist_max_entries + 16, wl_stored_entry, &w);
			if (rc >= 0 && w.rc < 0)
				rc = w.rc;
			if (rc >= 0 && w.seen != r.n)
				rc = violation(s, BOOKING_INV_WAITLIST, showtime_id,
				               "waiting list of %s: %zu entries stored, %zu by its events", showtime_id, w.seen, r.n);
		}
		for (size_t k = 0; k < r.n; k++)
			json_decref(r.p[k].seats);
		booking_free(r.p);
		i = end;
	}
	return rc < 0 ? rc : 0;
}

static int check_run(booking_check_report **out, booking_handle *bk)
{
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	snapshot s;
	memset(&s, 0, sizeof(s));
	s.report = booking_calloc(1, sizeof(*s.report));
	if (!s.report)
		return booking_error_oom();
	s.now = booking__now(bk);
	s.hold_max_ms = (int64_t)bk->cfg.hold_max_minutes * 60000;
	booking_store_scan_cbs cbs = {on_seat, on_booking, on_payment, on_idem, on_event, on_inbox};
	int rc = bk->store->scan(bk->store, &cbs, &s);
	if (rc == 0) {
		sort_rows(s.seats.items, s.seats.count, sizeof(seat_row), cmp_seat_row);
		sort_rows(s.bookings.items, s.bookings.count, sizeof(booking_reservation), cmp_booking);
		sort_rows(s.payments.items, s.payments.count, sizeof(booking_payment), cmp_payment_booking);
		sort_rows(s.idem.items, s.idem.count, sizeof(idem_row), cmp_idem_payment);
		sort_rows(s.events.items, s.events.count, sizeof(event_row), cmp_event_aggregate);
		sort_rows(s.inbox.items, s.inbox.count, sizeof(inbox_row), cmp_inbox);
		s.report->reservations = s.bookings.count;
		s.report->seats = s.seats.count;
		s.report->payments = s.payments.count;
		s.report->events = s.events.count;
	}
	if (rc == 0)
		rc = check_seats(&s);
	if (rc == 0)
		rc = check_payments(&s);
	if (rc == 0)
		rc = check_idempotency(&s);
	if (rc == 0)
		rc = check_outbox(&s);
	if (rc == 0)
		rc = check_inbox(&s); /* re-sorts events by id: last user of the aggregate order */
	if (rc == 0)
		rc = check_money(&s);
	if (rc == 0)
		rc = check_box_office(&s);
	if (rc == 0)
		rc = check_waitlist(&s, bk);
	if (rc == 0)
		rc = found_finish(&s);
	snapshot_free(&s);
	if (rc < 0) {
		booking_check_report_free(s.report);
		return rc;
	}
	if (s.report->count)
		booking__log(bk, NULL, BOOKING_LOG_ERROR, "invariant violations found",
		             json_pack("{s:i}", "count", (int)s.report->count));
	*out = s.report;
	return 0;
}

booking_error_code booking_check(booking_check_report **out, booking_handle *bk)
{
	booking__scope sc;
	booking__scope_begin(&sc, bk, NULL, BOOKING__OP_CHECK);
	return booking__scope_end(&sc, check_run(out, bk));
}

void booking_check_report_free(booking_check_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->count; i++)
		booking_free(r->items[i]->message);
	booking_free(r->items);
	booking_free(r);
}

booking_error_code booking_check_report_to_json(char **json_out, const booking_check_report *r)
{
	if (json_out)
		*json_out = NULL;
	if (!json_out || !r)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "check_report_to_json: NULL argument");
	unsigned long failures = booking__json_failures();
	json_t *list = json_array();
	for (size_t i = 0; list && i < r->count; i++)
		json_array_append_new(list, json_pack("{s:i,s:s,s:s}", "invariant", (int)r->items[i]->invariant, "entity_id",
		                                      r->items[i]->entity_id, "message", r->items[i]->message));
	json_t *o = json_pack("{s:b,s:o,s:{s:I,s:I,s:I,s:I}}", "ok", r->count == 0, "violations", list, "examined",
	                      "reservations", (json_int_t)r->reservations, "seats", (json_int_t)r->seats, "payments",
	                      (json_int_t)r->payments, "events", (json_int_t)r->events);
	return booking__json_out(json_out, o, failures);
}
