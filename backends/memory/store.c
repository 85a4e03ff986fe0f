/*
 * Memory store — the store object: shared helpers (tables, strings, errors), free,
 * migrate, the integrity scan, and the constructor that assembles the vtable.
 * See memory_store.h for the model (one mutex, writes that cannot half-fail).
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

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

static void plain_free(void *p)
{
	booking_free(p);
}

/* ------------------------------------------------------------------------
 * Lifecycle.
 * ------------------------------------------------------------------------ */

static void st_free(booking_store *base)
{
	mem_store *st = mem_impl(base);
	if (!st)
		return;
	table_clear(&st->movies, mem_movie_free);
	table_clear(&st->theaters, mem_theater_free);
	table_clear(&st->screens, mem_screen_free);
	table_clear(&st->showtimes, mem_showtime_free);
	table_clear(&st->bookings, mem_reservation_free);
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
		for (size_t i = 0; i < st->showtimes.len; i++) {
			const mem_showtime *m = st->showtimes.items[i];
			for (size_t j = 0; j < m->seat_count; j++) {
				/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): seat_total counts these seats, so seats is allocated */
				s->seats[s->seat_n].showtime_id = m->rec->id;
				s->seats[s->seat_n++].seat = m->seats[j].s;
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

static const booking_store_catalog mem_store_catalog = {
	.version = BOOKING_STORE_CATALOG_VERSION,
	.movie_insert = mem_movie_insert,
	.movie_get = mem_movie_get,
	.movie_list = mem_movie_list,
	.theater_insert = mem_theater_insert,
	.theater_get = mem_theater_get,
	.theater_list = mem_theater_list,
	.screen_insert = mem_screen_insert,
	.screen_get = mem_screen_get,
	.showtime_insert = mem_showtime_insert,
	.showtime_get = mem_showtime_get,
	.showtime_list = mem_showtime_list,
	.seat_list = mem_seat_list,
};

static const booking_store_ledger mem_store_ledger = {
	.version = BOOKING_STORE_LEDGER_VERSION,
	.hold = mem_hold,
	.booking_get = mem_booking_get,
	.booking_list_by_user = mem_booking_list_by_user,
	.apply = mem_apply,
	.booking_list_by_status = mem_booking_list_by_status,
	.idempotency_get = mem_idempotency_get,
	.payment_get = mem_payment_get,
	.payment_list_by_status = mem_payment_list_by_status,
	.payment_attempts = mem_payment_attempts,
};

static const booking_store_outbox mem_store_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = mem_outbox_unpublished,
	.outbox_mark_published = mem_outbox_mark_published,
	.outbox_read = mem_outbox_read,
	.cursor_get = mem_cursor_get,
	.cursor_advance = mem_cursor_advance,
	.inbox_seen = mem_inbox_seen,
	.inbox_mark = mem_inbox_mark,
	.dead_letter_put = mem_dead_letter_put,
	.dead_letter_list = mem_dead_letter_list,
};

static const booking_store_users mem_store_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = mem_user_insert,
	.user_get = mem_user_get,
	.user_get_by_email = mem_user_get_by_email,
	.user_set_password_hash = mem_user_set_password_hash,
	.token_revoke = mem_token_revoke,
	.token_is_revoked = mem_token_is_revoked,
};

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
