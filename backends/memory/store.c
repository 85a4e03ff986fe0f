/*
 * Memory store — the store object: shared helpers (tables, strings, errors), free,
 * migrate, the integrity scan, and the constructor that assembles the vtable.
 * See memory_store.h for the model (one mutex, writes that cannot half-fail).
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

int mem_table_reserve(table *t, size_t extra)
{
	if (map_reserve(&t->index, extra) < 0)
		return -1;
	if (t->len + extra <= t->cap)
		return 0;
	size_t cap = t->cap ? t->cap : 16;
	while (cap < t->len + extra) {
		if (cap > SIZE_MAX / 2 / sizeof(void *))
			return -1;
		cap *= 2;
	}
	void **items = booking_realloc(t->items, cap * sizeof *items);
	if (!items)
		return -1;
	t->items = items;
	t->cap = cap;
	return 0;
}

/* After mem_table_reserve(). */
void mem_table_add(table *t, const char *key, void *val)
{
	map_put(&t->index, key, val);
	t->items[t->len++] = val;
}

int mem_add_unique(table *t, const char *id, void *row, const char *what)
{
	if (mem_find(t, id))
		return booking_error_set(BOOKING_EEXISTS, NULL, "%s %s already exists", what, id);
	if (mem_table_reserve(t, 1) < 0)
		return mem_oom();
	mem_table_add(t, id, row);
	return 0;
}

int mem_insert(mem_store *st, table *t, const char *id, void *row, const char *what)
{
	mem_lock_store(st);
	int rc = mem_add_unique(t, id, row, what);
	mem_unlock_store(st);
	return rc;
}

const void *mem_get(mem_store *st, const table *t, const char *id)
{
	mem_lock_store(st);
	const void *row = mem_find(t, id);
	mem_unlock_store(st);
	return row;
}

void *mem_snapshot(mem_store *st, const table *t, size_t size, bool (*keep)(const void *row, const void *arg),
                   const void *arg, int (*cmp)(const void *, const void *), size_t *n_out, int *rc)
{
	char *snap = NULL;
	size_t n = 0;
	*rc = 0;
	mem_lock_store(st);
	for (size_t i = 0; i < t->len; i++) {
		if (keep && !keep(t->items[i], arg))
			continue;
		if (!snap && !(snap = booking_calloc(t->len - i, size))) { /* only when a row is kept */
			*rc = mem_oom();
			break;
		}
		memcpy(snap + n++ * size, t->items[i], size);
	}
	mem_unlock_store(st);
	if (n > 1)
		qsort(snap, n, size, cmp);
	*n_out = n;
	return snap;
}

static void table_clear(table *t, void (*free_item)(void *))
{
	for (size_t i = 0; i < t->len; i++)
		free_item(t->items[i]);
	booking_free(t->items);
	t->items = NULL;
	t->len = t->cap = 0;
	map_clear(&t->index);
}

/* ------------------------------------------------------------------------
 * Helpers: strings, errors.
 * ------------------------------------------------------------------------ */

void mem_copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(mem_or_empty(src));
	if (n >= size)
		n = size - 1;
	memcpy(dst, mem_or_empty(src), n);
	dst[n] = '\0';
}

/*
 * One block: a zeroed struct of `head` bytes followed by copies of the `n`
 * strings (NULL copied as ""); *dst[i] points at the copy of src[i].
 */
void *mem_pack(size_t head, size_t n, const char *const *src, char **const *dst)
{
	size_t total = head;
	for (size_t i = 0; i < n; i++)
		total += strlen(mem_or_empty(src[i])) + 1;
	char *block = booking_malloc(total);
	if (!block)
		return NULL;
	memset(block, 0, head);
	char *p = block + head;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(mem_or_empty(src[i]));
		memcpy(p, mem_or_empty(src[i]), len + 1);
		*dst[i] = p;
		p += len + 1;
	}
	return block;
}

/* a "\n" b in a fresh block, or NULL when out of memory. */
char *mem_key_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *k = booking_malloc(la + lb + 2);
	if (!k)
		return NULL;
	memcpy(k, a, la); /* NOLINT(bugprone-not-null-terminated-result): the NUL comes with b below */
	k[la] = '\n';
	memcpy(k + la + 1, b, lb + 1);
	return k;
}

int mem_oom(void)
{
	return booking_error_oom();
}

int mem_missing_arg(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: %s is required", what);
}

/* The rows' free functions, as table_clear() calls them. */
static void plain_free(void *p)
{
	booking_free(p);
}

static void movie_free(void *p)
{
	booking_movie_free(p);
}

static void theater_free(void *p)
{
	booking_theater_free(p);
}

static void screen_free(void *p)
{
	booking_screen_free(p);
}

static void showtime_free(void *p)
{
	booking_showtime_free(p);
}

static void reservation_free(void *p)
{
	booking_reservation_free(p);
}

/* ------------------------------------------------------------------------
 * Lifecycle.
 * ------------------------------------------------------------------------ */

static void st_free(booking_store *base)
{
	mem_store *st = mem_impl(base);
	if (!st)
		return;
	table_clear(&st->movies, movie_free);
	table_clear(&st->theaters, theater_free);
	table_clear(&st->screens, screen_free);
	table_clear(&st->showtimes, showtime_free);
	table_clear(&st->seat_rows, plain_free);
	table_clear(&st->bookings, reservation_free);
	table_clear(&st->payments, plain_free);
	table_clear(&st->idem, plain_free);
	table_clear(&st->events, plain_free);
	table_clear(&st->aggs, plain_free);
	table_clear(&st->inbox, plain_free);
	table_clear(&st->dead, plain_free);
	table_clear(&st->cursors, plain_free);
	map_clear(&st->seats);
	map_clear(&st->idem_by_payment);
	table_clear(&st->users, plain_free);
	map_clear(&st->users_by_email);
	booking_free(st->revoked);
	pthread_mutex_destroy(&st->mu);
	booking_free(st);
}

static int st_migrate(booking_store *base, int *version_out)
{
	(void)base;
	if (version_out)
		*version_out = 1;
	return 0;
}

/* ------------------------------------------------------------------------
 * Integrity scan: one snapshot of every table asked for, taken under the
 * mutex, then walked without it.
 * ------------------------------------------------------------------------ */

typedef struct scan_seat {
	const char *showtime_id;
	booking_store_seat seat;
} scan_seat;

typedef struct scan_snapshot {
	scan_seat *seats;
	size_t seat_n;
	booking_reservation *bookings;
	size_t booking_n;
	booking_payment *payments;
	size_t payment_n;
	booking_store_idempotency *idem;
	size_t idem_n;
	booking_event_record *events;
	size_t event_n;
	booking_store_inbox *inbox;
	size_t inbox_n;
} scan_snapshot;

static void scan_snapshot_clear(scan_snapshot *s)
{
	booking_free(s->seats);
	booking_free(s->bookings);
	booking_free(s->payments);
	booking_free(s->idem);
	booking_free(s->events);
	booking_free(s->inbox);
	memset(s, 0, sizeof *s);
}

/* calloc of n items, where n == 0 is a valid empty answer. */
static bool alloc_items(void **out, size_t n, size_t size)
{
	*out = n ? booking_calloc(n, size) : NULL;
	return n == 0 || *out != NULL;
}

static int scan_take(mem_store *st, const booking_store_scan_cbs *cbs, scan_snapshot *s)
{
	void *p;
	if (cbs->showtime_seat) {
		if (!alloc_items(&p, st->seat_total, sizeof *s->seats))
			return mem_oom();
		s->seats = p;
		for (size_t i = 0; i < st->seat_rows.len; i++) {
			const booking_showtime *sh = st->showtimes.items[i];
			const mem_seats *rows = st->seat_rows.items[i];
			for (size_t j = 0; j < rows->count; j++) {
				/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): seat_total counts these seats, so seats is allocated */
				s->seats[s->seat_n].showtime_id = sh->id;
				s->seats[s->seat_n++].seat = rows->seat[j].s;
			}
		}
	}
	if (cbs->booking) {
		if (!alloc_items(&p, st->bookings.len, sizeof *s->bookings))
			return mem_oom();
		s->bookings = p;
		for (size_t i = 0; i < st->bookings.len; i++)
			s->bookings[s->booking_n++] = *(const booking_reservation *)st->bookings.items[i];
	}
	if (cbs->payment) {
		if (!alloc_items(&p, st->payments.len, sizeof *s->payments))
			return mem_oom();
		s->payments = p;
		for (size_t i = 0; i < st->payments.len; i++)
			s->payments[s->payment_n++] = *(const booking_payment *)st->payments.items[i];
	}
	if (cbs->idempotency) {
		if (!alloc_items(&p, st->idem.len, sizeof *s->idem))
			return mem_oom();
		s->idem = p;
		for (size_t i = 0; i < st->idem.len; i++) {
			const mem_idem *r = st->idem.items[i];
			booking_store_idempotency *o = &s->idem[s->idem_n++];
			o->user_id = r->user_id;
			o->key = r->idem_key;
			o->payment_id = r->payment_id;
			o->completed = r->completed;
		}
	}
	if (cbs->event) {
		if (!alloc_items(&p, st->events.len, sizeof *s->events))
			return mem_oom();
		s->events = p;
		for (size_t i = 0; i < st->events.len; i++)
			s->events[s->event_n++] = ((const mem_event *)st->events.items[i])->rec;
	}
	if (cbs->inbox) {
		if (!alloc_items(&p, st->inbox.len, sizeof *s->inbox))
			return mem_oom();
		s->inbox = p;
		for (size_t i = 0; i < st->inbox.len; i++) {
			const mem_inbox *r = st->inbox.items[i];
			s->inbox[s->inbox_n].group = r->group;
			s->inbox[s->inbox_n++].event_id = r->event_id;
		}
	}
	return 0;
}

static int scan_walk(const booking_store_scan_cbs *cbs, const scan_snapshot *s, void *payload)
{
	int rc = 0;
	for (size_t i = 0; i < s->seat_n && rc == 0; i++)
		rc = cbs->showtime_seat(s->seats[i].showtime_id, &s->seats[i].seat, payload);
	for (size_t i = 0; i < s->booking_n && rc == 0; i++)
		rc = cbs->booking(&s->bookings[i], payload);
	for (size_t i = 0; i < s->payment_n && rc == 0; i++)
		rc = cbs->payment(&s->payments[i], payload);
	for (size_t i = 0; i < s->idem_n && rc == 0; i++)
		rc = cbs->idempotency(&s->idem[i], payload);
	for (size_t i = 0; i < s->event_n && rc == 0; i++)
		rc = cbs->event(&s->events[i], payload);
	for (size_t i = 0; i < s->inbox_n && rc == 0; i++)
		rc = cbs->inbox(&s->inbox[i], payload);
	return rc;
}

static int st_scan(booking_store *base, const booking_store_scan_cbs *cbs, void *payload)
{
	mem_store *st = mem_impl(base);
	if (!cbs)
		return 0;
	scan_snapshot snap;
	memset(&snap, 0, sizeof snap);
	mem_lock_store(st);
	int rc = scan_take(st, cbs, &snap);
	mem_unlock_store(st);
	if (rc == 0)
		rc = scan_walk(cbs, &snap, payload);
	scan_snapshot_clear(&snap);
	return rc;
}

/* ------------------------------------------------------------------------
 * Constructor.
 * ------------------------------------------------------------------------ */

int booking__memory_store_new(booking_store **out)
{
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	mem_store *st = booking_calloc(1, sizeof *st);
	if (!st)
		return mem_oom();
	if (pthread_mutex_init(&st->mu, NULL) != 0) {
		booking_free(st);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "memory store: cannot create a mutex");
	}
	booking_store *b = &st->parent;
	b->version = BOOKING_STORE_VERSION;
	b->free = st_free;
	b->migrate = st_migrate;
	b->catalog = &mem_store_catalog;
	b->ledger = &mem_store_ledger;
	b->outbox = &mem_store_outbox;
	b->users = &mem_store_users;
	b->scan = st_scan;
	*out = b;
	return 0;
}
