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
	return map_reserve(&t->index, extra) < 0 ? -1 : mem_items_reserve(t, extra);
}

int mem_items_reserve(table *t, size_t extra)
{
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

void mem_table_free(table *t, bool rows)
{
	for (size_t i = 0; rows && i < t->len; i++)
		booking_free(t->items[i]);
	booking_free(t->items);
	map_clear(&t->index);
}

/* After mem_table_reserve(). */
void mem_table_add(table *t, const char *key, void *val)
{
	map_put(&t->index, key, val);
	t->items[t->len++] = val;
}

int mem_add_new(table *t, const char *key, void *row)
{
	if (mem_find(t, key))
		return 1;
	if (mem_table_reserve(t, 1) < 0)
		return booking_error_oom();
	mem_table_add(t, key, row);
	return 0;
}

int mem_add_unique(table *t, const char *id, void *row, const char *what)
{
	int rc = mem_add_new(t, id, row);
	return rc > 0 ? booking_error_set(BOOKING_EEXISTS, NULL, "%s %s already exists", what, id) : rc;
}

void *mem_rows_copy(const table *t, size_t off, size_t size, bool (*keep)(const void *row, const void *arg),
                    const void *arg, size_t *n_out, int *rc)
{
	char *snap = NULL;
	size_t n = 0;
	*rc = 0;
	for (size_t i = 0; i < t->len; i++) {
		if (keep && !keep(t->items[i], arg))
			continue;
		if (!snap && !(snap = booking_calloc(t->len - i, size))) { /* only when a row is kept */
			*rc = booking_error_oom();
			break;
		}
		memcpy(snap + n++ * size, (const char *)t->items[i] + off, size);
	}
	*n_out = n;
	return snap;
}

void *mem_snapshot(mem_store *st, const table *t, size_t size, bool (*keep)(const void *row, const void *arg),
                   const void *arg, int (*cmp)(const void *, const void *), size_t *n_out, int *rc)
{
	pthread_mutex_lock(&st->mu);
	void *snap = mem_rows_copy(t, 0, size, keep, arg, n_out, rc);
	pthread_mutex_unlock(&st->mu);
	if (*n_out > 1)
		qsort(snap, *n_out, size, cmp);
	return snap;
}

/* ------------------------------------------------------------------------
 * Helpers: strings, errors.
 * ------------------------------------------------------------------------ */

void mem_copy_text(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

/*
 * One block: a zeroed struct of `head` bytes followed by copies of the `n`
 * strings (NULL copied as ""), one after the other, each with its NUL; the
 * copy of src[i] is stored in the char * at byte off[i] of the struct.
 * `keyed`: the first two copies are joined, src[0] "\n" src[1], into the
 * row's composite key (at off[0]), the second staying a string of its own.
 */
void *mem_pack(size_t head, size_t n, const char *const *src, const size_t *off, bool keyed)
{
	size_t total = head;
	for (size_t i = 0; i < n; i++)
		total += (src[i] ? strlen(src[i]) : 0) + 1;
	char *block = booking_malloc(total);
	if (!block)
		return NULL;
	memset(block, 0, head);
	char *p = block + head;
	for (size_t i = 0; i < n; i++) {
		size_t len = src[i] ? strlen(src[i]) : 0;
		memcpy(p, src[i] ? src[i] : "", len + 1);
		memcpy(block + off[i], &p, sizeof p);
		p += len + 1;
	}
	if (keyed)
		block[head + strlen(block + head)] = '\n';
	return block;
}

int mem_missing_arg(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "memory store: %s is required", what);
}

/* ------------------------------------------------------------------------
 * Lifecycle.
 * ------------------------------------------------------------------------ */

static void st_free(booking_store *base)
{
	mem_store *st = mem_impl(base);
	if (!st)
		return;
	/* the rows in the layout of the public records go to their free functions, the others are one block each */
	for (size_t i = 0; i < st->movies.len; i++)
		booking_movie_free(st->movies.items[i]);
	for (size_t i = 0; i < st->theaters.len; i++)
		booking_theater_free(st->theaters.items[i]);
	for (size_t i = 0; i < st->screens.len; i++)
		booking_screen_free(st->screens.items[i]);
	for (size_t i = 0; i < st->showtimes.len; i++)
		booking_showtime_free(st->showtimes.items[i]);
	for (size_t i = 0; i < st->bookings.len; i++)
		booking_reservation_free(st->bookings.items[i]);
	for (size_t i = 0; i < st->seat_rows.len; i++)
		map_clear(&((mem_seats *)st->seat_rows.items[i])->index);
	table *tables[] = {&st->movies,    &st->theaters, &st->screens,   &st->showtimes, &st->bookings,
	                   &st->idem,      &st->seat_rows, &st->payments, &st->events,    &st->inbox,
	                   &st->dead,      &st->cursors,  &st->users,    &st->hold_keys, &st->retired};
	/* the first five are freed above, an idempotency record with its payment or in hold_keys */
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++)
		mem_table_free(tables[i], i >= 6);
	for (size_t i = 0; i < st->by_user.cap; i++) {
		mem_user_rows *u = st->by_user.slots[i].key ? st->by_user.slots[i].val : NULL;
		if (u) {
			mem_table_free(&u->rows, false);
			booking_free(u);
		}
	}
	map_clear(&st->by_user);
	map_clear(&st->aggs);
	map_clear(&st->users_by_email);
	booking__strmap_free_all(&st->revoked);
	booking__strmap_free_all(&st->kv);
	pthread_mutex_destroy(&st->mu);
	booking_free(st);
}

static int st_migrate(int *version_out, booking_store *base)
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

/* The copied rows of one table; a scan has six: seats, reservations, payments, idempotency records, events, inbox. */
typedef struct scan_part {
	void *rows;
	size_t n;
} scan_part;

static int scan_take(mem_store *st, const booking_store_scan_cbs *cbs, scan_part *part)
{
	if (cbs->showtime_seat && st->seat_total) {
		scan_seat *seats = part[0].rows = booking_calloc(st->seat_total, sizeof *seats);
		if (!seats)
			return booking_error_oom();
		for (size_t i = 0; i < st->seat_rows.len; i++) {
			const booking_showtime *sh = st->showtimes.items[i];
			const mem_seats *rows = st->seat_rows.items[i];
			for (size_t j = 0; j < rows->count; j++) {
				seats[part[0].n].showtime_id = sh->id;
				seats[part[0].n++].seat = rows->seat[j].s;
			}
		}
	}
	const struct {
		bool wanted;
		const table *t;
		size_t off, size;
	} from[] = {
		{cbs->reservation != NULL, &st->bookings, 0, sizeof(booking_reservation)},
		{cbs->payment != NULL, &st->payments, 0, sizeof(booking_payment)},
		{cbs->idempotency != NULL, &st->idem, offsetof(mem_idem, v), sizeof(booking_store_idempotency)},
		{cbs->event != NULL, &st->events, 0, sizeof(booking_event_record)},
		{cbs->inbox != NULL, &st->inbox, offsetof(mem_inbox, v), sizeof(booking_store_inbox)},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof from / sizeof *from && rc == 0; i++)
		if (from[i].wanted)
			part[i + 1].rows = mem_rows_copy(from[i].t, from[i].off, from[i].size, NULL, NULL, &part[i + 1].n, &rc);
	return rc;
}

static int scan_walk(const booking_store_scan_cbs *cbs, const scan_part *part, void *payload)
{
	const scan_seat *seats = part[0].rows;
	const booking_reservation *bookings = part[1].rows;
	const booking_payment *payments = part[2].rows;
	const booking_store_idempotency *idem = part[3].rows;
	const booking_event_record *events = part[4].rows;
	const booking_store_inbox *inbox = part[5].rows;
	int rc = 0;
	for (size_t i = 0; i < part[0].n && rc == 0; i++)
		rc = cbs->showtime_seat(seats[i].showtime_id, &seats[i].seat, payload);
	for (size_t i = 0; i < part[1].n && rc == 0; i++)
		rc = cbs->reservation(&bookings[i], payload);
	for (size_t i = 0; i < part[2].n && rc == 0; i++)
		rc = cbs->payment(&payments[i], payload);
	for (size_t i = 0; i < part[3].n && rc == 0; i++)
		rc = cbs->idempotency(&idem[i], payload);
	for (size_t i = 0; i < part[4].n && rc == 0; i++)
		rc = cbs->event(&events[i], payload);
	for (size_t i = 0; i < part[5].n && rc == 0; i++)
		rc = cbs->inbox(&inbox[i], payload);
	return rc;
}

static int st_scan(booking_store *base, const booking_store_scan_cbs *cbs, void *payload)
{
	mem_store *st = mem_impl(base);
	if (!cbs)
		return 0;
	scan_part part[6] = {{NULL, 0}};
	pthread_mutex_lock(&st->mu);
	int rc = scan_take(st, cbs, part);
	pthread_mutex_unlock(&st->mu);
	if (rc == 0)
		rc = scan_walk(cbs, part, payload);
	for (size_t i = 0; i < 6; i++)
		booking_free(part[i].rows);
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
		return booking_error_oom();
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
	b->kv = &mem_store_kv;
	b->scan = st_scan;
	*out = b;
	return 0;
}
