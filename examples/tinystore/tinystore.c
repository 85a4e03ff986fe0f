/*
 * tinystore — a store in one file, using only the installed headers
 * (<booking/booking.h> and <booking/sys/backend.h>): what a third party
 * writes to keep libbooking's data in storage of its own. It passes the
 * conformance kit (examples/tinystore/conformance.c runs it).
 *
 * Every table is a singly linked list behind one mutex, kept in the order
 * its list member returns rows (movies by creation, reservations newest first,
 * events by position, ...), as a database keeps an index: a list member is
 * one walk. Lookups are linear walks too. Fine for tests and a few
 * thousand rows, not for a box office.
 *
 * What <booking/sys/store.h> asks, and how this file does it:
 * - Each member is one critical section under the mutex: that is its
 *   transaction, so a concurrent caller sees all of a write or none of it.
 * - On an error nothing is written, running out of memory included: a
 *   write checks what it must and allocates every new row first, then
 *   changes rows in steps that cannot fail.
 * - The store decides nothing. hold() asks the core's rule,
 *   booking_store_seat_claimable(), which seats may be claimed; apply()
 *   compares the guards the core built and copies the writes; the reads
 *   that filter by a state are given it (reservation_list_by_status,
 *   payment_list_by_status, payment_attempts). No reservation or payment state
 *   is named here.
 * - A row keeps its record as the core gets it: the public struct laid out
 *   as the matching booking_*_free() expects (the struct and each of its
 *   strings and arrays, all from booking_malloc()). Handing one out through
 *   `out` is copying it with the same *_dup() function. Records given to a
 *   callback are borrowed for the call.
 * - Callbacks run under the mutex: a callback must not call back into the
 *   store (the core's only collect rows).
 * - An event gets its sequence (1 + its aggregate's last) and its position
 *   (a counter bumped under the mutex, so strictly increasing in commit
 *   order) when it is written.
 * SPDX-License-Identifier: MIT
 */
#include "tinystore.h"

#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <pthread.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Rows: one struct per table, each a link of its table's list.
 * ------------------------------------------------------------------------ */

typedef struct movie_row {
	struct movie_row *next;
	booking_movie *rec;
} movie_row;

typedef struct theater_row {
	struct theater_row *next;
	booking_theater *rec;
} theater_row;

typedef struct screen_row {
	struct screen_row *next;
	booking_screen *rec;
} screen_row;

/* A showtime and its seat rows, in layout order (the array is fixed when inserted). */
typedef struct showtime_row {
	struct showtime_row *next;
	booking_showtime *rec;
	size_t seat_count;
	booking_store_seat *seats;
} showtime_row;

/* A reservation is on two lists: newest first (next), and by expiry (next_due). */
typedef struct booking_row {
	struct booking_row *next, *next_due;
	booking_reservation *rec;
} booking_row;

typedef struct payment_row {
	struct payment_row *next;
	booking_payment *rec;
} payment_row;

/* A user's idempotency key and the payment it started. */
typedef struct key_row {
	struct key_row *next;
	char *user_id, *key, *request_hash;
	char payment_id[BOOKING_ID_SIZE];
	bool completed;
	int replay_error;
} key_row;

/* An outbox event: `rec`'s strings point at the row's own copies. */
typedef struct event_row {
	struct event_row *next;
	booking_event_record rec;
	char *type, *aggregate_type, *correlation_id, *traceparent, *data_json;
} event_row;

typedef struct cursor_row {
	struct cursor_row *next;
	char *group;
	int64_t position;
} cursor_row;

typedef struct inbox_row {
	struct inbox_row *next;
	char *group, *event_id;
} inbox_row;

typedef struct dead_row {
	struct dead_row *next;
	char *group, *event_id, *reason, *envelope;
	int64_t dead_at;
} dead_row;

typedef struct user_row {
	struct user_row *next;
	booking_user *rec;
	char *password_hash;
} user_row;

typedef struct revoked_row {
	struct revoked_row *next;
	char *jti;
	int64_t expires_at;
} revoked_row;

typedef struct tiny_store {
	booking_store parent; /* first: the core sees a booking_store */
	pthread_mutex_t mu;
	movie_row *movies;       /* by created_at, then id */
	theater_row *theaters;   /* newest first (theater_list promises no order) */
	screen_row *screens;     /* newest first */
	showtime_row *showtimes; /* by starts_at, then id */
	booking_row *bookings;   /* newest first: created_at, then id, both descending */
	booking_row *due;        /* the same rows by expires_at, then id (through next_due) */
	payment_row *payments;   /* by created_at, then id */
	key_row *keys;           /* newest first */
	event_row *events;       /* by position: appended at *events_end */
	event_row **events_end;
	int64_t last_position;
	cursor_row *cursors;
	inbox_row *inbox;
	dead_row *dead;          /* by dead_at, then arrival */
	user_row *users;
	revoked_row *revoked;
} tiny_store;

/* ------------------------------------------------------------------------
 * Helpers.
 * ------------------------------------------------------------------------ */

static tiny_store *tiny(booking_store *st)
{
	return (tiny_store *)st;
}

static void lock(tiny_store *ts)
{
	pthread_mutex_lock(&ts->mu);
}

static void unlock(tiny_store *ts)
{
	pthread_mutex_unlock(&ts->mu);
}

static bool same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* (time a, id a) comes before (time b, id b): the order of most lists here. */
static bool earlier(int64_t time_a, const char *id_a, int64_t time_b, const char *id_b)
{
	return time_a < time_b || (time_a == time_b && strcmp(id_a, id_b) < 0);
}

/* A copy of `s` from booking_malloc(), NULL taken as "". NULL when out of memory. */
static char *text(const char *s)
{
	return booking_strdup(s ? s : "");
}

/* `src` into a fixed-size field, cut to fit and always terminated. */
static void set_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * A copy of the `n` records of `size` bytes that `src` points at, laid out
 * as the public records hold arrays: a pointer per record, in one
 * booking_record_array_new() block (NULL when n is 0, or when out of memory).
 */
static void *records_dup(const void *src, size_t n, size_t size)
{
	void **a = NULL;
	if (n && booking_record_array_new(&a, n, size) == 0)
		for (size_t i = 0; i < n; i++)
			memcpy(a[i], ((const void *const *)src)[i], size);
	return a;
}

static int oom(void)
{
	return booking_error_oom();
}

/* ------------------------------------------------------------------------
 * Records as the core frees them. Each *_dup() returns a copy of a record
 * in the layout its booking_*_free() expects, or NULL when out of memory.
 * ------------------------------------------------------------------------ */

static booking_movie *movie_dup(const booking_movie *src)
{
	booking_movie *m = booking_malloc(sizeof(*m));
	if (!m)
		return NULL;
	*m = *src;
	m->title = text(src->title);
	if (!m->title) {
		booking_movie_free(m);
		return NULL;
	}
	return m;
}

static booking_theater *theater_dup(const booking_theater *src)
{
	booking_theater *t = booking_malloc(sizeof(*t));
	if (!t)
		return NULL;
	*t = *src;
	t->name = text(src->name);
	t->city = text(src->city);
	if (!t->name || !t->city) {
		booking_theater_free(t);
		return NULL;
	}
	return t;
}

static booking_screen *screen_dup(const booking_screen *src)
{
	booking_screen *s = booking_malloc(sizeof(*s));
	if (!s)
		return NULL;
	*s = *src;
	s->name = text(src->name);
	s->seats = records_dup(src->seats, src->seat_count, sizeof(**src->seats));
	if (!s->name || (src->seat_count && !s->seats)) {
		booking_screen_free(s);
		return NULL;
	}
	return s;
}

static booking_showtime *showtime_dup(const booking_showtime *src)
{
	booking_showtime *s = booking_malloc(sizeof(*s));
	if (!s)
		return NULL;
	*s = *src;
	s->prices = records_dup(src->prices, src->price_count, sizeof(**src->prices));
	if (src->price_count && !s->prices) {
		booking_showtime_free(s);
		return NULL;
	}
	return s;
}

static booking_reservation *reservation_dup(const booking_reservation *src)
{
	booking_reservation *r = booking_malloc(sizeof(*r));
	if (!r)
		return NULL;
	*r = *src;
	r->seats = records_dup(src->seats, src->seat_count, sizeof(**src->seats));
	if (src->seat_count && !r->seats) {
		booking_reservation_free(r);
		return NULL;
	}
	return r;
}

static booking_payment *payment_dup(const booking_payment *src)
{
	booking_payment *p = booking_malloc(sizeof(*p));
	if (p)
		*p = *src;
	return p;
}

/* user_get()'s layout: the struct, and `email` its own block. */
static booking_user *user_dup(const booking_user *src)
{
	booking_user *u = booking_malloc(sizeof(*u));
	if (!u)
		return NULL;
	*u = *src;
	u->email = text(src->email);
	if (!u->email) {
		booking_user_free(u);
		return NULL;
	}
	return u;
}

/* ------------------------------------------------------------------------
 * Freeing rows (each takes NULL).
 * ------------------------------------------------------------------------ */

static void movie_row_free(movie_row *r)
{
	if (r)
		booking_movie_free(r->rec);
	booking_free(r);
}

static void theater_row_free(theater_row *r)
{
	if (r)
		booking_theater_free(r->rec);
	booking_free(r);
}

static void screen_row_free(screen_row *r)
{
	if (r)
		booking_screen_free(r->rec);
	booking_free(r);
}

static void showtime_row_free(showtime_row *r)
{
	if (r) {
		booking_showtime_free(r->rec);
		booking_free(r->seats);
	}
	booking_free(r);
}

static void booking_row_free(booking_row *r)
{
	if (r)
		booking_reservation_free(r->rec);
	booking_free(r);
}

static void payment_row_free(payment_row *r)
{
	if (r)
		booking_payment_free(r->rec);
	booking_free(r);
}

static void key_row_free(key_row *r)
{
	if (r) {
		booking_free(r->user_id);
		booking_free(r->key);
		booking_free(r->request_hash);
	}
	booking_free(r);
}

static void event_row_free(event_row *r)
{
	if (r) {
		booking_free(r->type);
		booking_free(r->aggregate_type);
		booking_free(r->correlation_id);
		booking_free(r->traceparent);
		booking_free(r->data_json);
	}
	booking_free(r);
}

static void cursor_row_free(cursor_row *r)
{
	if (r)
		booking_free(r->group);
	booking_free(r);
}

static void inbox_row_free(inbox_row *r)
{
	if (r) {
		booking_free(r->group);
		booking_free(r->event_id);
	}
	booking_free(r);
}

static void dead_row_free(dead_row *r)
{
	if (r) {
		booking_free(r->group);
		booking_free(r->event_id);
		booking_free(r->reason);
		booking_free(r->envelope);
	}
	booking_free(r);
}

static void user_row_free(user_row *r)
{
	if (r) {
		booking_user_free(r->rec);
		booking_free(r->password_hash);
	}
	booking_free(r);
}

static void revoked_row_free(revoked_row *r)
{
	if (r)
		booking_free(r->jti);
	booking_free(r);
}

/* Free every row of a list, leaving its head NULL. */
#define FREE_LIST(head, free_row)         \
	do {                                  \
		while (head) {                    \
			void *row_ = (head);          \
			(head) = (head)->next;        \
			free_row(row_);               \
		}                                 \
	} while (0)

/* ------------------------------------------------------------------------
 * Finding rows: linear walks (the caller holds the mutex).
 * ------------------------------------------------------------------------ */

static movie_row *find_movie(tiny_store *ts, const char *id)
{
	movie_row *r = ts->movies;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static theater_row *find_theater(tiny_store *ts, const char *id)
{
	theater_row *r = ts->theaters;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static screen_row *find_screen(tiny_store *ts, const char *id)
{
	screen_row *r = ts->screens;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static showtime_row *find_showtime(tiny_store *ts, const char *id)
{
	showtime_row *r = ts->showtimes;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static booking_store_seat *find_seat(showtime_row *show, const char *label)
{
	for (size_t i = 0; i < show->seat_count; i++)
		if (same(show->seats[i].label, label))
			return &show->seats[i];
	return NULL;
}

static booking_row *find_booking(tiny_store *ts, const char *id)
{
	booking_row *r = ts->bookings;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static payment_row *find_payment(tiny_store *ts, const char *id)
{
	payment_row *r = ts->payments;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static key_row *find_key(tiny_store *ts, const char *user_id, const char *key)
{
	key_row *r = ts->keys;
	while (r && !(same(r->user_id, user_id) && same(r->key, key)))
		r = r->next;
	return r;
}

static key_row *find_key_of_payment(tiny_store *ts, const char *payment_id)
{
	key_row *r = ts->keys;
	while (r && !same(r->payment_id, payment_id))
		r = r->next;
	return r;
}

static event_row *find_event(event_row *list, const char *id)
{
	while (list && !same(list->rec.id, id))
		list = list->next;
	return list;
}

static cursor_row *find_cursor(tiny_store *ts, const char *group)
{
	cursor_row *r = ts->cursors;
	while (r && !same(r->group, group))
		r = r->next;
	return r;
}

static inbox_row *find_inbox(tiny_store *ts, const char *group, const char *event_id)
{
	inbox_row *r = ts->inbox;
	while (r && !(same(r->group, group) && same(r->event_id, event_id)))
		r = r->next;
	return r;
}

static dead_row *find_dead(tiny_store *ts, const char *group, const char *event_id)
{
	dead_row *r = ts->dead;
	while (r && !(same(r->group, group) && same(r->event_id, event_id)))
		r = r->next;
	return r;
}

static user_row *find_user(tiny_store *ts, const char *id)
{
	user_row *r = ts->users;
	while (r && !same(r->rec->id, id))
		r = r->next;
	return r;
}

static user_row *find_user_by_email(tiny_store *ts, const char *email)
{
	user_row *r = ts->users;
	while (r && !same(r->rec->email, email))
		r = r->next;
	return r;
}

static revoked_row *find_revoked(tiny_store *ts, const char *jti)
{
	revoked_row *r = ts->revoked;
	while (r && !same(r->jti, jti))
		r = r->next;
	return r;
}

/* ------------------------------------------------------------------------
 * Events: a write's events are copied and checked first (events_prepare),
 * then appended to the outbox with their sequence and position
 * (events_write, which cannot fail).
 * ------------------------------------------------------------------------ */

static event_row *event_row_new(const booking_event_record *src)
{
	event_row *e = booking_calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->type = text(src->type);
	e->aggregate_type = text(src->aggregate_type);
	e->correlation_id = text(src->correlation_id);
	e->traceparent = text(src->traceparent);
	e->data_json = text(src->data_json);
	if (!e->type || !e->aggregate_type || !e->correlation_id || !e->traceparent || !e->data_json) {
		event_row_free(e);
		return NULL;
	}
	e->rec = *src;
	e->rec.type = e->type;
	e->rec.aggregate_type = e->aggregate_type;
	e->rec.correlation_id = e->correlation_id;
	e->rec.traceparent = e->traceparent;
	e->rec.data_json = e->data_json;
	e->rec.published = false;
	return e;
}

/* Copies of `n` events, linked in the order given, in `*out`. An event id is its key: BOOKING_EEXISTS. */
static int events_prepare(tiny_store *ts, const booking_event_record *evs, size_t n, event_row **out)
{
	event_row *first = NULL, **end = &first;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (find_event(ts->events, evs[i].id) || find_event(first, evs[i].id))
			rc = booking_error_set(BOOKING_EEXISTS, NULL, "tinystore: event %s exists already", evs[i].id);
		else if (!(*end = event_row_new(&evs[i])))
			rc = oom();
		else
			end = &(*end)->next;
	}
	if (rc < 0)
		FREE_LIST(first, event_row_free);
	*out = first;
	return rc;
}

static int64_t last_sequence(tiny_store *ts, const char *aggregate_id)
{
	int64_t last = 0;
	for (const event_row *e = ts->events; e; e = e->next)
		if (same(e->rec.aggregate_id, aggregate_id))
			last = e->rec.sequence;
	return last;
}

static void events_write(tiny_store *ts, event_row *e)
{
	while (e) {
		event_row *next = e->next;
		e->rec.sequence = last_sequence(ts, e->rec.aggregate_id) + 1;
		e->rec.position = ++ts->last_position;
		e->next = NULL;
		*ts->events_end = e;
		ts->events_end = &e->next;
		e = next;
	}
}

/* ------------------------------------------------------------------------
 * The catalog.
 * ------------------------------------------------------------------------ */

static int movie_insert(booking_store *st, const booking_movie *m)
{
	tiny_store *ts = tiny(st);
	movie_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->rec = movie_dup(m))) {
		movie_row_free(row);
		return oom();
	}
	lock(ts);
	int rc = 0;
	if (find_movie(ts, m->id)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "movie %s exists already", m->id);
	} else {
		movie_row **at = &ts->movies; /* by created_at, then id */
		while (*at && earlier((*at)->rec->created_at, (*at)->rec->id, m->created_at, m->id))
			at = &(*at)->next;
		row->next = *at;
		*at = row;
		row = NULL;
	}
	unlock(ts);
	movie_row_free(row);
	return rc;
}

static int movie_get(booking_movie **out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const movie_row *r = find_movie(ts, id);
	*out = r ? movie_dup(r->rec) : NULL;
	unlock(ts);
	if (!r)
		return booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	return *out ? 0 : oom();
}

static int movie_list(booking_store *st, booking_store_movie_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	int rc = 0;
	lock(ts);
	for (const movie_row *r = ts->movies; r && rc == 0; r = r->next)
		rc = cb(r->rec, payload);
	unlock(ts);
	return rc;
}

static int theater_insert(booking_store *st, const booking_theater *t)
{
	tiny_store *ts = tiny(st);
	theater_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->rec = theater_dup(t))) {
		theater_row_free(row);
		return oom();
	}
	lock(ts);
	int rc = 0;
	if (find_theater(ts, t->id)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "theater %s exists already", t->id);
	} else {
		row->next = ts->theaters;
		ts->theaters = row;
		row = NULL;
	}
	unlock(ts);
	theater_row_free(row);
	return rc;
}

static int theater_get(booking_theater **out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const theater_row *r = find_theater(ts, id);
	*out = r ? theater_dup(r->rec) : NULL;
	unlock(ts);
	if (!r)
		return booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	return *out ? 0 : oom();
}

static int theater_list(booking_store *st, booking_store_theater_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	int rc = 0;
	lock(ts);
	for (const theater_row *r = ts->theaters; r && rc == 0; r = r->next)
		rc = cb(r->rec, payload);
	unlock(ts);
	return rc;
}

static int screen_insert(booking_store *st, const booking_screen *s)
{
	tiny_store *ts = tiny(st);
	screen_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->rec = screen_dup(s))) {
		screen_row_free(row);
		return oom();
	}
	lock(ts);
	int rc = 0;
	if (!find_theater(ts, s->theater_id)) {
		rc = booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	} else if (find_screen(ts, s->id)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "screen %s exists already", s->id);
	} else {
		row->next = ts->screens;
		ts->screens = row;
		row = NULL;
	}
	unlock(ts);
	screen_row_free(row);
	return rc;
}

static int screen_get(booking_screen **out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const screen_row *r = find_screen(ts, id);
	*out = r ? screen_dup(r->rec) : NULL;
	unlock(ts);
	if (!r)
		return booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	return *out ? 0 : oom();
}

/* The showtime's row, with one FREE seat row per seat of its screen (categories from the screen). */
static showtime_row *showtime_row_new(const booking_showtime *s, const booking_screen *screen)
{
	showtime_row *row = booking_calloc(1, sizeof(*row));
	if (!row)
		return NULL;
	row->rec = showtime_dup(s);
	row->seat_count = screen->seat_count;
	row->seats = screen->seat_count ? booking_calloc(screen->seat_count, sizeof(*row->seats)) : NULL;
	if (!row->rec || (screen->seat_count && !row->seats)) {
		showtime_row_free(row);
		return NULL;
	}
	for (size_t i = 0; i < screen->seat_count; i++) {
		set_text(row->seats[i].label, sizeof(row->seats[i].label), screen->seats[i]->label);
		set_text(row->seats[i].category, sizeof(row->seats[i].category), screen->seats[i]->category);
		row->seats[i].status = BOOKING_SEAT_FREE;
	}
	return row;
}

static int showtime_insert(booking_store *st, const booking_showtime *s)
{
	tiny_store *ts = tiny(st);
	const screen_row *screen = NULL;
	showtime_row *row = NULL;
	int rc = 0;
	lock(ts);
	if (!find_movie(ts, s->movie_id)) {
		rc = booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	} else if (!(screen = find_screen(ts, s->screen_id))) {
		rc = booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	} else if (find_showtime(ts, s->id)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "showtime %s exists already", s->id);
	} else if (!(row = showtime_row_new(s, screen->rec))) {
		rc = oom();
	} else {
		showtime_row **at = &ts->showtimes; /* by starts_at, then id */
		while (*at && earlier((*at)->rec->starts_at, (*at)->rec->id, s->starts_at, s->id))
			at = &(*at)->next;
		row->next = *at;
		*at = row;
	}
	unlock(ts);
	return rc;
}

static int showtime_get(booking_showtime **out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const showtime_row *r = find_showtime(ts, id);
	*out = r ? showtime_dup(r->rec) : NULL;
	unlock(ts);
	if (!r)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	return *out ? 0 : oom();
}

static int showtime_list(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	int rc = 0;
	lock(ts);
	for (const showtime_row *r = ts->showtimes; r && rc == 0; r = r->next)
		if (!movie_id || same(r->rec->movie_id, movie_id))
			rc = cb(r->rec, payload);
	unlock(ts);
	return rc;
}

static int seat_list(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	int rc = 0;
	lock(ts);
	showtime_row *show = find_showtime(ts, showtime_id);
	if (!show)
		rc = booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	for (size_t i = 0; show && i < show->seat_count && rc == 0; i++)
		rc = cb(&show->seats[i], payload);
	unlock(ts);
	return rc;
}

/* ------------------------------------------------------------------------
 * The ledger: holds and reservations.
 * ------------------------------------------------------------------------ */

/* What hold() checks before it writes: the showtime, a new reservation id, every label, every seat claimable. */
static int hold_check(tiny_store *ts, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count)
{
	const booking_reservation *b = req->reservation;
	showtime_row *show = find_showtime(ts, b->showtime_id);
	if (!show)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	if (find_booking(ts, b->id))
		return booking_error_set(BOOKING_EEXISTS, NULL, "reservation %s exists already", b->id);
	for (size_t i = 0; i < b->seat_count; i++) {
		if (!find_seat(show, b->seats[i]->label)) { /* name the label: the core words the refusal */
			if (taken)
				taken[0] = *b->seats[i];
			if (taken_count)
				*taken_count = 1;
			return booking_error_set(BOOKING_EVALIDATION, NULL, "tinystore: unknown seat");
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < b->seat_count; i++) {
		const booking_store_seat *seat = find_seat(show, b->seats[i]->label);
		if (booking_store_seat_claimable(seat->status, seat->hold_until, req->now))
			continue;
		if (taken)
			taken[n] = *b->seats[i];
		n++;
	}
	if (taken_count)
		*taken_count = n;
	if (n)
		return booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, NULL, "tinystore: seats taken");
	return 0;
}

/* Link a new reservation into both of its lists. */
static void booking_link(tiny_store *ts, booking_row *row)
{
	const booking_reservation *b = row->rec;
	booking_row **at = &ts->bookings; /* newest first */
	while (*at && earlier(b->created_at, b->id, (*at)->rec->created_at, (*at)->rec->id))
		at = &(*at)->next;
	row->next = *at;
	*at = row;
	at = &ts->due; /* by expires_at, then id */
	while (*at && earlier((*at)->rec->expires_at, (*at)->rec->id, b->expires_at, b->id))
		at = &(*at)->next_due;
	row->next_due = *at;
	*at = row;
}

static int hold(booking_seat_ref *taken, size_t *taken_count, booking_store *st, const booking_store_hold *req)
{
	tiny_store *ts = tiny(st);
	const booking_reservation *b = req->reservation;
	event_row *ev = NULL;
	if (taken_count)
		*taken_count = 0;
	booking_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->rec = reservation_dup(b))) {
		booking_row_free(row);
		return oom();
	}
	lock(ts);
	int rc = hold_check(ts, req, taken, taken_count);
	if (rc == 0)
		rc = events_prepare(ts, req->event, req->event ? 1 : 0, &ev);
	if (rc == 0) {
		showtime_row *show = find_showtime(ts, b->showtime_id);
		for (size_t i = 0; i < b->seat_count; i++) {
			booking_store_seat *seat = find_seat(show, b->seats[i]->label);
			seat->status = BOOKING_SEAT_HELD;
			set_text(seat->reservation_id, sizeof(seat->reservation_id), b->id);
			seat->hold_until = b->expires_at;
			seat->version++;
		}
		booking_link(ts, row);
		row = NULL;
		events_write(ts, ev);
	}
	unlock(ts);
	booking_row_free(row);
	return rc;
}

static int reservation_get(booking_reservation **out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const booking_row *r = find_booking(ts, id);
	*out = r ? reservation_dup(r->rec) : NULL;
	unlock(ts);
	if (!r)
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	return *out ? 0 : oom();
}

/* The walk passes every reservation of other users; a store with an index on (user_id, created_at, id) would not. */
static int reservation_list_by_user(booking_store *st, const char *user_id, int64_t after_created_at,
                                const char *after_id, size_t max, booking_store_reservation_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	size_t sent = 0;
	int rc = 0;
	lock(ts);
	for (const booking_row *r = ts->bookings; r && sent < max && rc == 0; r = r->next) {
		const booking_reservation *b = r->rec;
		/* newest first: "strictly after the key" is strictly earlier than it */
		if (!same(b->user_id, user_id) || (after_id && !earlier(b->created_at, b->id, after_created_at, after_id)))
			continue;
		rc = cb(b, payload);
		sent++;
	}
	unlock(ts);
	return rc;
}

static int reservation_list_by_status(booking_store *st, booking_reservation_status status, int64_t expires_before, size_t max,
                                  booking_store_reservation_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	size_t sent = 0;
	int rc = 0;
	lock(ts);
	for (const booking_row *r = ts->due; r && r->rec->expires_at <= expires_before && sent < max && rc == 0;
	     r = r->next_due) {
		if (r->rec->status == status) {
			rc = cb(r->rec, payload);
			sent++;
		}
	}
	unlock(ts);
	return rc;
}

/* ------------------------------------------------------------------------
 * The ledger: apply, the change the core decided.
 * ------------------------------------------------------------------------ */

/* Guard SEATS_OWNED: every seat of reservation `b` is its own and has status `status`. */
static bool seats_owned(tiny_store *ts, const booking_reservation *b, int64_t status)
{
	showtime_row *show = find_showtime(ts, b->showtime_id);
	for (size_t i = 0; show && i < b->seat_count; i++) {
		const booking_store_seat *seat = find_seat(show, b->seats[i]->label);
		if (!seat || (int64_t)seat->status != status || !same(seat->reservation_id, b->id))
			return false;
	}
	return show != NULL;
}

/* 1 when guard `g` holds, 0 when it does not, < 0 for a guard this store does not know. */
static int guard_holds(tiny_store *ts, const booking_store_guard *g)
{
	const booking_row *b;
	const payment_row *p;
	switch (g->kind) {
	case BOOKING_GUARD_RESERVATION_VERSION:
		b = find_booking(ts, g->id);
		return b && b->rec->version == g->value;
	case BOOKING_GUARD_PAYMENT_STATUS:
		p = find_payment(ts, g->id);
		return p && (int64_t)p->rec->status == g->value;
	case BOOKING_GUARD_SEATS_OWNED:
		b = find_booking(ts, g->id);
		return b && seats_owned(ts, b->rec, g->value);
	case BOOKING_GUARD_KEY_UNUSED:
		return find_key(ts, g->id, g->key) == NULL;
	case BOOKING_GUARD_USER_SEATS: /* ledger versions 3 and 4: tinystore declares 1, the core never sends them */
	case BOOKING_GUARD_USER_HOLDS:
		break;
	}
	return booking_error_set(BOOKING_EVALIDATION, NULL, "tinystore: unknown guard kind %d", (int)g->kind);
}

/* The rows a starting payment adds: its payment and its idempotency record. */
static int start_prepare(tiny_store *ts, const booking_store_payment_start *s, payment_row **pay_out,
                         key_row **key_out)
{
	*pay_out = NULL;
	*key_out = NULL;
	if (find_key(ts, s->user_id, s->idempotency_key) || find_payment(ts, s->payment->id))
		return booking_error_set(BOOKING_EEXISTS, NULL, "tinystore: the idempotency key or the payment exists already");
	payment_row *p = booking_calloc(1, sizeof(*p));
	key_row *k = booking_calloc(1, sizeof(*k));
	if (p)
		p->rec = payment_dup(s->payment);
	if (k) {
		k->user_id = text(s->user_id);
		k->key = text(s->idempotency_key);
		k->request_hash = text(s->request_hash);
		set_text(k->payment_id, sizeof(k->payment_id), s->payment->id);
	}
	if (!p || !p->rec || !k || !k->user_id || !k->key || !k->request_hash) {
		payment_row_free(p);
		key_row_free(k);
		return oom();
	}
	*pay_out = p;
	*key_out = k;
	return 0;
}

static void payment_link(tiny_store *ts, payment_row *row)
{
	const booking_payment *p = row->rec;
	payment_row **at = &ts->payments; /* by created_at, then id */
	while (*at && earlier((*at)->rec->created_at, (*at)->rec->id, p->created_at, p->id))
		at = &(*at)->next;
	row->next = *at;
	*at = row;
}

/* The seats of reservation `b` in status `mv->from` go to `mv->to`. */
static void move_seats(tiny_store *ts, const booking_reservation *b, const booking_store_seat_move *mv)
{
	showtime_row *show = find_showtime(ts, b->showtime_id);
	for (size_t i = 0; show && i < b->seat_count; i++) {
		booking_store_seat *seat = find_seat(show, b->seats[i]->label);
		if (!seat || seat->status != mv->from || !same(seat->reservation_id, b->id))
			continue;
		seat->status = mv->to;
		seat->hold_until = mv->to == BOOKING_SEAT_FREE ? 0 : mv->hold_until;
		if (mv->to == BOOKING_SEAT_FREE)
			seat->reservation_id[0] = '\0';
		seat->version++;
	}
}

static void set_payment(booking_payment *p, const booking_store_payment_set *set)
{
	p->status = set->status;
	if (set->gateway_ref)
		set_text(p->gateway_ref, sizeof(p->gateway_ref), set->gateway_ref);
	if (set->failure_code)
		set_text(p->failure_code, sizeof(p->failure_code), set->failure_code);
	if (set->refunded_amount >= 0)
		p->refunded_amount = set->refunded_amount;
	p->updated_at = set->updated_at;
}

/* The rows a change writes to. The core guards each one; a missing one is its mistake, refused here. */
typedef struct targets {
	booking_row *reservation, *seats_of;
	payment_row *payment;
	key_row *key;
} targets;

static int find_targets(tiny_store *ts, const booking_store_change *c, targets *t)
{
	t->reservation = c->reservation ? find_booking(ts, c->reservation->id) : NULL;
	t->seats_of = c->seats ? find_booking(ts, c->seats->reservation_id) : NULL;
	t->payment = c->payment ? find_payment(ts, c->payment->id) : NULL;
	t->key = c->idempotency ? find_key_of_payment(ts, c->idempotency->payment_id) : NULL;
	if ((c->reservation && !t->reservation) || (c->seats && !t->seats_of))
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	if (c->payment && !t->payment)
		return booking_store_not_found(BOOKING_EPAYMENT_NOT_FOUND);
	if (c->idempotency && !t->key)
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "tinystore: the change names a missing idempotency record");
	return 0;
}

static int apply_locked(tiny_store *ts, const booking_store_change *c, size_t *failed_guard_out)
{
	for (size_t i = 0; i < c->guard_count; i++) {
		int holds = guard_holds(ts, &c->guards[i]);
		if (holds < 0)
			return holds;
		if (!holds) {
			if (failed_guard_out)
				*failed_guard_out = i;
			return booking_error_set(BOOKING_EINVALID_STATE, NULL, "tinystore: guard %zu of the change does not hold",
			                         i);
		}
	}
	targets t;
	payment_row *new_payment = NULL;
	key_row *new_key = NULL;
	event_row *evs = NULL;
	int rc = find_targets(ts, c, &t);
	if (rc == 0 && c->start)
		rc = start_prepare(ts, c->start, &new_payment, &new_key);
	if (rc == 0)
		rc = events_prepare(ts, c->events, c->event_count, &evs);
	if (rc < 0) {
		payment_row_free(new_payment);
		key_row_free(new_key);
		return rc;
	}

	/* Everything is checked and allocated: from here on nothing fails. */
	if (t.seats_of)
		move_seats(ts, t.seats_of->rec, c->seats);
	if (t.reservation) {
		booking_reservation *b = t.reservation->rec;
		b->status = c->reservation->status;
		b->saga = c->reservation->saga;
		b->version++;
		b->updated_at = c->reservation->updated_at;
	}
	if (t.payment)
		set_payment(t.payment->rec, c->payment);
	if (t.key) {
		t.key->completed = true;
		t.key->replay_error = c->idempotency->replay_error;
	}
	if (new_payment) {
		payment_link(ts, new_payment);
		new_key->next = ts->keys;
		ts->keys = new_key;
	}
	events_write(ts, evs);
	return 0;
}

static int apply(size_t *failed_guard_out, booking_store *st, const booking_store_change *change)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	int rc = apply_locked(ts, change, failed_guard_out);
	unlock(ts);
	return rc;
}

/* ------------------------------------------------------------------------
 * The ledger: payments and their idempotency records.
 * ------------------------------------------------------------------------ */

static int idempotency_get(booking_store_idempotency_record *out, booking_store *st, const char *user_id,
                           const char *key)
{
	tiny_store *ts = tiny(st);
	memset(out, 0, sizeof(*out));
	lock(ts);
	const key_row *k = find_key(ts, user_id, key);
	if (k) {
		set_text(out->request_hash, sizeof(out->request_hash), k->request_hash);
		set_text(out->payment_id, sizeof(out->payment_id), k->payment_id);
		out->completed = k->completed;
		out->replay_error = k->replay_error;
	}
	unlock(ts);
	return k ? 0 : booking_error_set(BOOKING_ENOTFOUND, NULL, "tinystore: no idempotency record for this key");
}

static int payment_get(booking_payment **out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const payment_row *r = find_payment(ts, id);
	*out = r ? payment_dup(r->rec) : NULL;
	unlock(ts);
	if (!r)
		return booking_store_not_found(BOOKING_EPAYMENT_NOT_FOUND);
	return *out ? 0 : oom();
}

static int payment_list_by_status(booking_store *st, booking_payment_status status, int64_t created_before, size_t max,
                                  booking_store_payment_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	size_t sent = 0;
	int rc = 0;
	lock(ts);
	for (const payment_row *r = ts->payments; r && r->rec->created_at <= created_before && sent < max && rc == 0;
	     r = r->next) {
		if (r->rec->status == status) {
			rc = cb(r->rec, payload);
			sent++;
		}
	}
	unlock(ts);
	return rc;
}

static int payment_attempts(booking_store_payment_attempts *out, booking_store *st, const char *user_id,
                            const char *idempotency_key, const char *reservation_id, booking_payment_status status,
                            int64_t since)
{
	tiny_store *ts = tiny(st);
	memset(out, 0, sizeof(*out));
	lock(ts);
	out->key_used = find_key(ts, user_id, idempotency_key) != NULL;
	for (const payment_row *r = ts->payments; r; r = r->next) {
		const booking_payment *p = r->rec;
		if (p->status != status)
			continue;
		if (same(p->reservation_id, reservation_id))
			out->reservation_count++;
		if (same(p->user_id, user_id) && p->created_at >= since)
			out->user_count++;
	}
	unlock(ts);
	return 0;
}

/* ------------------------------------------------------------------------
 * The outbox and its consumers.
 * ------------------------------------------------------------------------ */

static int outbox_unpublished(booking_store *st, size_t max, booking_store_event_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	size_t sent = 0;
	int rc = 0;
	lock(ts);
	for (const event_row *e = ts->events; e && sent < max && rc == 0; e = e->next) {
		if (!e->rec.published) {
			rc = cb(&e->rec, payload);
			sent++;
		}
	}
	unlock(ts);
	return rc;
}

static int outbox_mark_published(booking_store *st, const char *const *event_ids, size_t n)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	for (size_t i = 0; i < n; i++) {
		event_row *e = find_event(ts->events, event_ids[i]);
		if (e)
			e->rec.published = true;
	}
	unlock(ts);
	return 0;
}

static int outbox_read(booking_store *st, int64_t after, size_t max, booking_store_event_cb cb, void *payload)
{
	tiny_store *ts = tiny(st);
	size_t sent = 0;
	int rc = 0;
	lock(ts);
	for (const event_row *e = ts->events; e && sent < max && rc == 0; e = e->next) {
		if (e->rec.position > after) {
			rc = cb(&e->rec, payload);
			sent++;
		}
	}
	unlock(ts);
	return rc;
}

static int cursor_get(int64_t *position_out, booking_store *st, const char *group)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const cursor_row *c = find_cursor(ts, group);
	*position_out = c ? c->position : 0;
	unlock(ts);
	return 0;
}

static int cursor_advance_locked(tiny_store *ts, const char *group, int64_t expected, int64_t position)
{
	cursor_row *c = find_cursor(ts, group);
	int64_t current = c ? c->position : 0;
	if (current != expected)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "tinystore: the cursor of %s is at %lld, not %lld",
		                         group, (long long)current, (long long)expected);
	if (!c) {
		c = booking_calloc(1, sizeof(*c));
		if (!c || !(c->group = text(group))) {
			cursor_row_free(c);
			return oom();
		}
		c->next = ts->cursors;
		ts->cursors = c;
	}
	c->position = position;
	return 0;
}

static int cursor_advance(booking_store *st, const char *group, int64_t expected, int64_t position)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	int rc = cursor_advance_locked(ts, group, expected, position);
	unlock(ts);
	return rc;
}

static int inbox_seen(bool *seen_out, booking_store *st, const char *group, const char *event_id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	*seen_out = find_inbox(ts, group, event_id) != NULL;
	unlock(ts);
	return 0;
}

static int inbox_mark(booking_store *st, const char *group, const char *event_id, int64_t now)
{
	tiny_store *ts = tiny(st);
	(void)now; /* no member reads back when an event was applied */
	inbox_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->group = text(group)) || !(row->event_id = text(event_id))) {
		inbox_row_free(row);
		return oom();
	}
	lock(ts);
	int rc = 0;
	if (find_inbox(ts, group, event_id)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "tinystore: %s applied event %s already", group, event_id);
	} else {
		row->next = ts->inbox;
		ts->inbox = row;
		row = NULL;
	}
	unlock(ts);
	inbox_row_free(row);
	return rc;
}

static int dead_letter_put(booking_store *st, const char *group, const char *event_id, const char *reason,
                           const char *envelope_json, int64_t now)
{
	tiny_store *ts = tiny(st);
	dead_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->group = text(group)) || !(row->event_id = text(event_id)) || !(row->reason = text(reason)) ||
	    !(row->envelope = text(envelope_json))) {
		dead_row_free(row);
		return oom();
	}
	row->dead_at = now;
	lock(ts);
	if (!find_dead(ts, group, event_id)) { /* idempotent: the first put stays */
		dead_row **at = &ts->dead;     /* by dead_at, then arrival */
		while (*at && (*at)->dead_at <= now)
			at = &(*at)->next;
		row->next = *at;
		*at = row;
		row = NULL;
	}
	unlock(ts);
	dead_row_free(row);
	return 0;
}

static int dead_letter_list(booking_store *st, const char *group,
                            int (*cb)(const char *group, const char *event_id, const char *reason,
                                      const char *envelope_json, int64_t dead_at, void *payload),
                            void *payload)
{
	tiny_store *ts = tiny(st);
	int rc = 0;
	lock(ts);
	for (const dead_row *d = ts->dead; d && rc == 0; d = d->next)
		if (!group || same(d->group, group))
			rc = cb(d->group, d->event_id, d->reason, d->envelope, d->dead_at, payload);
	unlock(ts);
	return rc;
}

/* ------------------------------------------------------------------------
 * Users and token revocations.
 * ------------------------------------------------------------------------ */

static int user_insert(booking_store *st, const booking_store_user_insert *req)
{
	tiny_store *ts = tiny(st);
	event_row *ev = NULL;
	user_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->rec = user_dup(req->user)) || !(row->password_hash = text(req->password_hash))) {
		user_row_free(row);
		return oom();
	}
	lock(ts);
	int rc = 0;
	if (find_user(ts, req->user->id) || find_user_by_email(ts, req->user->email)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "tinystore: a user with this id or email exists");
	} else if ((rc = events_prepare(ts, req->event, 1, &ev)) == 0) {
		row->next = ts->users;
		ts->users = row;
		row = NULL;
		events_write(ts, ev);
	}
	unlock(ts);
	user_row_free(row);
	return rc;
}

/* What user_get() and user_get_by_email() hand out for row `u` (NULL: no such user). Under the mutex. */
static int user_out(const user_row *u, booking_user **out, char **hash_out)
{
	*out = NULL;
	if (hash_out)
		*hash_out = NULL;
	if (!u)
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "tinystore: no such user");
	booking_user *copy = user_dup(u->rec);
	char *hash = hash_out ? text(u->password_hash) : NULL;
	if (!copy || (hash_out && !hash)) {
		booking_user_free(copy);
		booking_free(hash);
		return oom();
	}
	*out = copy;
	if (hash_out)
		*hash_out = hash;
	return 0;
}

static int user_get(booking_user **out, char **password_hash_out, booking_store *st, const char *id)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	int rc = user_out(find_user(ts, id), out, password_hash_out);
	unlock(ts);
	return rc;
}

static int user_get_by_email(booking_user **out, char **password_hash_out, booking_store *st, const char *email)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	int rc = user_out(find_user_by_email(ts, email), out, password_hash_out);
	unlock(ts);
	return rc;
}

static int user_set_password_hash(booking_store *st, const char *id, const char *expected_hash, const char *new_hash,
                                  int64_t now)
{
	tiny_store *ts = tiny(st);
	char *hash = text(new_hash);
	if (!hash)
		return oom();
	lock(ts);
	user_row *u = find_user(ts, id);
	int rc = 0;
	if (!u) {
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "tinystore: no such user");
	} else if (expected_hash && !same(u->password_hash, expected_hash)) {
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "tinystore: the password hash changed meanwhile");
	} else {
		char *old = u->password_hash;
		u->password_hash = hash;
		u->rec->updated_at = now;
		hash = old;
	}
	unlock(ts);
	booking_free(hash); /* the old hash, or the new one when nothing changed */
	return rc;
}

static int token_revoke(booking_store *st, const char *jti, int64_t expires_at, int64_t now)
{
	tiny_store *ts = tiny(st);
	revoked_row *row = booking_calloc(1, sizeof(*row));
	if (!row || !(row->jti = text(jti))) {
		revoked_row_free(row);
		return oom();
	}
	row->expires_at = expires_at;
	lock(ts);
	/* forget the revocations of tokens no verifier accepts any more */
	for (revoked_row **at = &ts->revoked; *at;) {
		revoked_row *r = *at;
		if (r->expires_at <= now) {
			*at = r->next;
			revoked_row_free(r);
		} else {
			at = &r->next;
		}
	}
	revoked_row *known = find_revoked(ts, jti);
	if (known && expires_at > known->expires_at) {
		known->expires_at = expires_at; /* revoking again keeps the later expiry */
	} else if (!known && expires_at > now) {
		row->next = ts->revoked;
		ts->revoked = row;
		row = NULL;
	}
	unlock(ts);
	revoked_row_free(row);
	return 0;
}

static int token_is_revoked(bool *revoked_out, booking_store *st, const char *jti, int64_t now)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	const revoked_row *r = find_revoked(ts, jti);
	*revoked_out = r && r->expires_at > now;
	unlock(ts);
	return 0;
}

/* ------------------------------------------------------------------------
 * The root: free, migrate, scan; the tables and the constructor.
 * ------------------------------------------------------------------------ */

static void tiny_free(booking_store *st)
{
	tiny_store *ts = tiny(st);
	if (!ts)
		return;
	FREE_LIST(ts->movies, movie_row_free);
	FREE_LIST(ts->theaters, theater_row_free);
	FREE_LIST(ts->screens, screen_row_free);
	FREE_LIST(ts->showtimes, showtime_row_free);
	ts->due = NULL; /* the same rows as ts->bookings */
	FREE_LIST(ts->bookings, booking_row_free);
	FREE_LIST(ts->payments, payment_row_free);
	FREE_LIST(ts->keys, key_row_free);
	FREE_LIST(ts->events, event_row_free);
	FREE_LIST(ts->cursors, cursor_row_free);
	FREE_LIST(ts->inbox, inbox_row_free);
	FREE_LIST(ts->dead, dead_row_free);
	FREE_LIST(ts->users, user_row_free);
	FREE_LIST(ts->revoked, revoked_row_free);
	pthread_mutex_destroy(&ts->mu);
	booking_free(ts);
}

/* Nothing to create or upgrade: the tables are the lists. */
static int tiny_migrate(int *version_out, booking_store *st)
{
	(void)st;
	if (version_out)
		*version_out = 1;
	return 0;
}

/* Every table for booking_check(), under the mutex: one consistent snapshot. */
static int scan_locked(tiny_store *ts, const booking_store_scan_cbs *cbs, void *payload)
{
	int rc = 0;
	for (const showtime_row *s = ts->showtimes; s && cbs->showtime_seat && rc == 0; s = s->next)
		for (size_t i = 0; i < s->seat_count && rc == 0; i++)
			rc = cbs->showtime_seat(s->rec->id, &s->seats[i], payload);
	for (const booking_row *b = ts->bookings; b && cbs->reservation && rc == 0; b = b->next)
		rc = cbs->reservation(b->rec, payload);
	for (const payment_row *p = ts->payments; p && cbs->payment && rc == 0; p = p->next)
		rc = cbs->payment(p->rec, payload);
	for (const key_row *k = ts->keys; k && cbs->idempotency && rc == 0; k = k->next) {
		booking_store_idempotency rec = {k->user_id, k->key, k->payment_id, k->completed};
		rc = cbs->idempotency(&rec, payload);
	}
	for (const event_row *e = ts->events; e && cbs->event && rc == 0; e = e->next)
		rc = cbs->event(&e->rec, payload);
	for (const inbox_row *r = ts->inbox; r && cbs->inbox && rc == 0; r = r->next) {
		booking_store_inbox rec = {r->group, r->event_id};
		rc = cbs->inbox(&rec, payload);
	}
	return rc;
}

static int tiny_scan(booking_store *st, const booking_store_scan_cbs *cbs, void *payload)
{
	tiny_store *ts = tiny(st);
	lock(ts);
	int rc = scan_locked(ts, cbs, payload);
	unlock(ts);
	return rc;
}

static const booking_store_catalog tiny_catalog = {
	.version = 1 /* catalog version 2: columns and blocks, not yet */,
	.movie_insert = movie_insert,
	.movie_get = movie_get,
	.movie_list = movie_list,
	.theater_insert = theater_insert,
	.theater_get = theater_get,
	.theater_list = theater_list,
	.screen_insert = screen_insert,
	.screen_get = screen_get,
	.showtime_insert = showtime_insert,
	.showtime_get = showtime_get,
	.showtime_list = showtime_list,
	.seat_list = seat_list,
};

static const booking_store_ledger tiny_ledger = {
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

static const booking_store_outbox tiny_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = outbox_unpublished,
	.outbox_mark_published = outbox_mark_published,
	.outbox_read = outbox_read,
	.cursor_get = cursor_get,
	.cursor_advance = cursor_advance,
	.inbox_seen = inbox_seen,
	.inbox_mark = inbox_mark,
	.dead_letter_put = dead_letter_put,
	.dead_letter_list = dead_letter_list,
};

static const booking_store_users tiny_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = user_insert,
	.user_get = user_get,
	.user_get_by_email = user_get_by_email,
	.user_set_password_hash = user_set_password_hash,
	.token_revoke = token_revoke,
	.token_is_revoked = token_is_revoked,
};

/* The constructor the registry calls for a "tinystore:" store URL. */
static int tinystore_open(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)clock; /* time comes with each call; no settings: one would travel in the URL (sys/url.h) */
	(void)payload;
	*out = NULL;
	if (!same(url, "tinystore:"))
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}",
		                         "store_url: tinystore takes \"tinystore:\" and nothing after the colon");
	tiny_store *ts = booking_calloc(1, sizeof(*ts));
	if (!ts)
		return oom();
	if (pthread_mutex_init(&ts->mu, NULL) != 0) {
		booking_free(ts);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "tinystore: cannot create a mutex");
	}
	ts->events_end = &ts->events;
	ts->parent.version = BOOKING_STORE_VERSION;
	ts->parent.free = tiny_free;
	ts->parent.migrate = tiny_migrate;
	ts->parent.scan = tiny_scan;
	ts->parent.catalog = &tiny_catalog;
	ts->parent.ledger = &tiny_ledger;
	ts->parent.outbox = &tiny_outbox;
	ts->parent.users = &tiny_users;
	*out = &ts->parent;
	return 0;
}

int tinystore_register(void)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = "tinystore";
	def.store = tinystore_open;
	return booking_backend_register(&def);
}
