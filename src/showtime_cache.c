/*
 * A per-handle cache of what a hold needs to know about a showtime: its
 * seat labels with their prices and layout positions, its currency, start
 * and status.
 * Showtimes are immutable once scheduled (no API changes them), so the
 * cache never goes stale; it saves a hold from reading every seat row of
 * the showtime (O(seats)) — the store's guarded update still decides who
 * gets each seat.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 1024 /* power of two; when full the cache starts over */

typedef struct cached_seat {
	char label[BOOKING_LABEL_SIZE];
	int64_t price;
	int position; /* index in the showtime's seat rows: layout order */
} cached_seat;

typedef struct cached_showtime {
	char id[BOOKING_ID_SIZE];
	int64_t starts_at;
	booking_showtime_status status;
	char currency[BOOKING_CURRENCY_SIZE];
	size_t nseats;
	cached_seat *seats; /* sorted by label */
} cached_showtime;

struct booking_showtime_cache {
	pthread_rwlock_t lock;
	cached_showtime *slots[CACHE_SLOTS];
	size_t count;
};

static void entry_free(cached_showtime *e)
{
	if (e) {
		booking_free(e->seats);
		booking_free(e);
	}
}

int booking__showtime_cache_new(booking_showtime_cache **out)
{
	booking_showtime_cache *c = booking_calloc(1, sizeof(*c));
	if (!c)
		return booking_error_oom();
	if (pthread_rwlock_init(&c->lock, NULL) != 0) {
		booking_free(c);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "cannot create a lock");
	}
	*out = c;
	return 0;
}

void booking__showtime_cache_free(booking_showtime_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		entry_free(c->slots[i]);
	pthread_rwlock_destroy(&c->lock);
	booking_free(c);
}

static size_t slot_of(const char *id)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return (size_t)(h & (CACHE_SLOTS - 1));
}

/* Linear probing; callers hold the lock. */
static cached_showtime **find_slot(booking_showtime_cache *c, const char *id)
{
	size_t i = slot_of(id);
	for (size_t k = 0; k < CACHE_SLOTS; k++, i = (i + 1) & (CACHE_SLOTS - 1))
		if (!c->slots[i] || strcmp(c->slots[i]->id, id) == 0)
			return &c->slots[i];
	return NULL;
}

static int cmp_cached_seat(const void *a, const void *b)
{
	return strcmp(((const cached_seat *)a)->label, ((const cached_seat *)b)->label);
}

typedef struct loader {
	cached_showtime *e;
	size_t cap;
	const booking_showtime *st;
} loader;

static int load_seat(const booking_store_seat *seat, void *payload)
{
	loader *l = payload;
	if (l->e->nseats == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		cached_seat *n = booking_realloc(l->e->seats, ncap * sizeof(*n));
		if (!n)
			return booking_error_oom();
		l->e->seats = n;
		l->cap = ncap;
	}
	cached_seat *s = &l->e->seats[l->e->nseats++];
	booking__copy(s->label, sizeof(s->label), seat->label);
	s->price = booking__price_of(l->st, seat->category);
	s->position = (int)(l->e->nseats - 1);
	return 0;
}

static int load(booking_handle *bk, const char *showtime_id, cached_showtime **out)
{
	booking_showtime *st = NULL;
	int rc = bk->store->catalog->showtime_get(&st, bk->store, showtime_id);
	if (rc < 0)
		return rc;
	cached_showtime *e = booking_calloc(1, sizeof(*e));
	if (!e) {
		booking_showtime_free(st);
		return booking_error_oom();
	}
	booking__copy(e->id, sizeof(e->id), st->id);
	e->starts_at = st->starts_at;
	e->status = st->status;
	booking__copy(e->currency, sizeof(e->currency), st->currency);
	loader l = {e, 0, st};
	rc = bk->store->catalog->seat_list(bk->store, showtime_id, load_seat, &l);
	booking_showtime_free(st);
	if (rc < 0) {
		entry_free(e);
		return rc;
	}
	qsort(e->seats, e->nseats, sizeof(*e->seats), cmp_cached_seat);
	*out = e;
	return 0;
}

/* Price the reservation's seats and set their positions from entry `e`; the caller holds the read lock. */
static int price(const cached_showtime *e, booking_reservation *r, int64_t now)
{
	if (e->status != BOOKING_SHOWTIME_SCHEDULED)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the showtime is cancelled");
	if (e->starts_at <= now)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the showtime has started");
	r->total_amount = 0;
	for (size_t i = 0; i < r->seat_count; i++) {
		cached_seat key;
		booking__copy(key.label, sizeof(key.label), r->seats[i]->label);
		const cached_seat *s = bsearch(&key, e->seats, e->nseats, sizeof(key), cmp_cached_seat);
		if (!s)
			return booking__seat_unknown_error(r->seats[i]->label);
		r->total_amount += s->price;
		r->seats[i]->position = s->position;
	}
	booking__copy(r->currency, sizeof(r->currency), e->currency);
	return 0;
}

int booking__seat_unknown_error(const char *label)
{
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "seats", "label", label),
	                           "seats: the showtime has no seat %s", label);
}

int booking__showtime_price(booking_handle *bk, const char *showtime_id, booking_reservation *r, int64_t now)
{
	booking_showtime_cache *c = bk->showtimes;
	pthread_rwlock_rdlock(&c->lock);
	cached_showtime **slot = find_slot(c, showtime_id);
	if (slot && *slot) {
		int rc = price(*slot, r, now);
		pthread_rwlock_unlock(&c->lock);
		return rc;
	}
	pthread_rwlock_unlock(&c->lock);

	cached_showtime *e = NULL;
	int rc = load(bk, showtime_id, &e); /* outside the lock: it talks to the store */
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&c->lock);
	if (c->count >= CACHE_SLOTS / 2) { /* keep probes short: start over */
		for (size_t i = 0; i < CACHE_SLOTS; i++) {
			entry_free(c->slots[i]);
			c->slots[i] = NULL;
		}
		c->count = 0;
	}
	slot = find_slot(c, showtime_id);
	if (*slot) {
		entry_free(e); /* another thread loaded it first */
	} else {
		*slot = e;
		c->count++;
	}
	rc = price(*slot, r, now);
	pthread_rwlock_unlock(&c->lock);
	return rc;
}
