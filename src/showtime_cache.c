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

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 1024 /* power of two; when full the cache starts over */

typedef struct cached_seat {
	char label[BOOKING_LABEL_SIZE];
	int64_t price;
	int position; /* index in the showtime's seat rows: layout order */
} cached_seat;

/*
 * An entry is the showtime's facts (internal.h) and its seats sorted by
 * label. Shared: the cache holds one reference, every reader of the facts
 * another (an entry dropped when the cache starts over lives on until its
 * last reader lets go).
 */
typedef struct cached_showtime {
	booking__showtime_facts facts; /* first: the facts are the entry */
	atomic_int refs;
	pthread_mutex_t turn; /* best-available holds of the showtime take turns (boxoffice.c) */
	_Atomic int64_t contended_until; /* the guard's contended-only mode: ms by the handle's clock; 0 never */
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
		pthread_mutex_destroy(&e->turn);
		booking_free(e->seats);
		booking_free(e->facts.seats);
		booking_free(e);
	}
}

static void entry_release(cached_showtime *e)
{
	if (e && atomic_fetch_sub(&e->refs, 1) == 1)
		entry_free(e);
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
		entry_release(c->slots[i]);
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
		if (!c->slots[i] || strcmp(c->slots[i]->facts.id, id) == 0)
			return &c->slots[i];
	return NULL;
}

static int cmp_cached_seat(const void *a, const void *b)
{
	return strcmp(((const cached_seat *)a)->label, ((const cached_seat *)b)->label);
}

typedef struct loader {
	booking__showtime_facts *f;
	size_t cap;
	const booking_showtime *st;
} loader;

static int load_seat(const booking_store_seat *seat, void *payload)
{
	loader *l = payload;
	booking__showtime_facts *f = l->f;
	if (f->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		booking__seat_facts *n = booking_realloc(f->seats, ncap * sizeof(*n));
		if (!n)
			return booking_error_oom();
		f->seats = n;
		l->cap = ncap;
	}
	booking__seat_facts *s = &f->seats[f->count++];
	memset(s, 0, sizeof(*s));
	booking__copy(s->label, sizeof(s->label), seat->label);
	booking__copy(s->category, sizeof(s->category), seat->category);
	s->price = booking__price_of(l->st, seat->category);
	return 0;
}

static const char *fact_label_at(const void *seats, size_t i)
{
	return ((const booking__seat_facts *)seats)[i].label;
}

/*
 * Rows are numbered from the screen in the order the layout first names
 * them (doc/boxoffice.md); columns come from the screen (aisles counted),
 * or are the seats' numbers when the screen has none.
 */
static int load_layout(booking_handle *bk, booking__showtime_facts *f)
{
	int *columns = booking_calloc(f->count ? f->count : 1, sizeof(*columns));
	if (!columns)
		return booking_error_oom();
	int rc = booking__screen_columns(bk, f->screen_id, f->count, fact_label_at, f->seats, columns);
	char last_row[BOOKING_LABEL_SIZE] = "";
	int row = -1;
	for (size_t i = 0; rc == 0 && i < f->count; i++) {
		char r[BOOKING_LABEL_SIZE];
		int number = 0;
		booking__seat_split(f->seats[i].label, r, &number);
		if (row < 0 || strcmp(r, last_row) != 0) {
			/* a row named again later (an odd layout) counts as a row of its own where it reappears */
			row++;
			booking__copy(last_row, sizeof(last_row), r);
		}
		f->seats[i].row = row;
		f->seats[i].column = columns[i] > 0 ? columns[i] : number;
	}
	booking_free(columns);
	return rc;
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
	atomic_init(&e->refs, 1);
	atomic_init(&e->contended_until, 0);
	pthread_mutex_init(&e->turn, NULL);
	booking__showtime_facts *f = &e->facts;
	booking__copy(f->id, sizeof(f->id), st->id);
	booking__copy(f->screen_id, sizeof(f->screen_id), st->screen_id);
	f->starts_at = st->starts_at;
	f->status = st->status;
	booking__copy(f->currency, sizeof(f->currency), st->currency);
	loader l = {f, 0, st};
	rc = bk->store->catalog->seat_list(bk->store, showtime_id, load_seat, &l);
	booking_showtime_free(st);
	if (rc == 0)
		rc = load_layout(bk, f);
	cached_seat *sorted = rc == 0 ? booking_calloc(f->count ? f->count : 1, sizeof(*sorted)) : NULL;
	if (rc == 0 && !sorted)
		rc = booking_error_oom();
	if (rc < 0 || !sorted) {
		entry_free(e);
		return rc;
	}
	const booking__seat_facts *by_position = f->seats;
	for (size_t i = 0; by_position && i < f->count; i++) {
		booking__copy(sorted[i].label, sizeof(sorted[i].label), by_position[i].label);
		sorted[i].price = by_position[i].price;
		sorted[i].position = (int)i;
	}
	qsort(sorted, f->count, sizeof(*sorted), cmp_cached_seat);
	e->seats = sorted;
	e->nseats = f->count;
	*out = e;
	return 0;
}

/* Price the reservation's seats and set their positions from entry `e`; the caller holds the read lock. */
static int price(const cached_showtime *e, booking_reservation *r, int64_t now)
{
	if (e->facts.status != BOOKING_SHOWTIME_SCHEDULED)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the showtime is cancelled");
	if (e->facts.starts_at <= now)
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
	booking__copy(r->currency, sizeof(r->currency), e->facts.currency);
	return 0;
}

int booking__seat_unknown_error(const char *label)
{
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "seats", "label", label),
	                           "seats: the showtime has no seat %s", label);
}

/* The cache's entry of a showtime, with a reference taken; loaded when missing. */
static int entry_get(booking_handle *bk, const char *showtime_id, cached_showtime **out)
{
	booking_showtime_cache *c = bk->showtimes;
	pthread_rwlock_rdlock(&c->lock);
	cached_showtime **slot = find_slot(c, showtime_id);
	if (slot && *slot) {
		atomic_fetch_add(&(*slot)->refs, 1);
		*out = *slot;
		pthread_rwlock_unlock(&c->lock);
		return 0;
	}
	pthread_rwlock_unlock(&c->lock);

	cached_showtime *e = NULL;
	int rc = load(bk, showtime_id, &e); /* outside the lock: it talks to the store */
	if (rc < 0)
		return rc;
	pthread_rwlock_wrlock(&c->lock);
	if (c->count >= CACHE_SLOTS / 2) { /* keep probes short: start over */
		for (size_t i = 0; i < CACHE_SLOTS; i++) {
			entry_release(c->slots[i]);
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
	atomic_fetch_add(&(*slot)->refs, 1);
	*out = *slot;
	pthread_rwlock_unlock(&c->lock);
	return 0;
}

int booking__showtime_price(booking_handle *bk, const char *showtime_id, booking_reservation *r, int64_t now)
{
	cached_showtime *e = NULL;
	int rc = entry_get(bk, showtime_id, &e);
	if (rc < 0)
		return rc;
	rc = price(e, r, now);
	entry_release(e);
	return rc;
}

bool booking__showtime_contended(booking_handle *bk, const char *showtime_id, int64_t now)
{
	cached_showtime *e = NULL;
	if (entry_get(bk, showtime_id, &e) < 0)
		return false; /* the hold's own read of the showtime answers */
	bool hot = now < atomic_load(&e->contended_until);
	entry_release(e);
	return hot;
}

void booking__showtime_contention(booking_handle *bk, const char *showtime_id, int64_t now)
{
	cached_showtime *e = NULL;
	if (!bk->cfg.lock_contended_seconds || entry_get(bk, showtime_id, &e) < 0)
		return;
	atomic_store(&e->contended_until, now + (int64_t)bk->cfg.lock_contended_seconds * 1000);
	entry_release(e);
}

int booking__showtime_facts_get(booking_handle *bk, const char *showtime_id, const booking__showtime_facts **out)
{
	cached_showtime *e = NULL;
	int rc = entry_get(bk, showtime_id, &e);
	*out = rc == 0 ? &e->facts : NULL;
	return rc;
}

void booking__showtime_facts_release(const booking__showtime_facts *f)
{
	/* the facts are the entry's first member */
	entry_release((cached_showtime *)(void *)(uintptr_t)f);
}

long booking__showtime_facts_find(const booking__showtime_facts *f, const char *label)
{
	/* the facts are the entry's first member; its seats sorted by label are immutable */
	const cached_showtime *e = (const cached_showtime *)(const void *)f;
	cached_seat key;
	if (strnlen(label, sizeof(key.label)) >= sizeof(key.label))
		return -1;
	booking__copy(key.label, sizeof(key.label), label);
	const cached_seat *s = bsearch(&key, e->seats, e->nseats, sizeof(key), cmp_cached_seat);
	return s ? (long)s->position : -1;
}

pthread_mutex_t *booking__showtime_turn(const booking__showtime_facts *f)
{
	/* the facts are the entry's first member; the mutex is the one thing of it that changes */
	return &((cached_showtime *)(void *)(uintptr_t)f)->turn;
}
