/*
 * Conformance suite of a booking_store (include/booking/sys/store.h), run on
 * the URL in BOOKING_TEST_STORE_URL (default "memory:"). Part one calls every
 * member directly, per its header comment: guards, error codes, nothing
 * written on error, sequence and position rules, cursor CAS, inbox dedupe,
 * dead letters, scan. Part two runs the public flows (hold, pay, cancel,
 * expire, relay, consume, check) on a handle opened on the same URL.
 * Written against the vtable only, so every store backend runs it unchanged.
 * SPDX-License-Identifier: MIT
 */
#include "suites.h"

#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>

#define HOLD_MS (15 * FX_MINUTE)

static booking_store *st;
static char url[512], file[512];

static void setup(void)
{
	int rc, v = 0;

	fx_fresh_url(url, sizeof(url), fx_store_url(), file, sizeof(file));
	rc = booking_store_open(&st, url, NULL);
	ck_assert_msg(rc == 0, "booking_store_open(%s): %s: %s", url, booking_error_name(rc),
	              booking_error_last()->message);
	ck_assert_ok(booking_store_validate(st));
	ck_assert_ok(st->migrate(&v, st));
	ck_assert_int_gt(v, 0);
}

static void teardown(void)
{
	st->free(st);
	fx_remove_db(file);
}

/* --- builders ---------------------------------------------------------- */

static void new_id(char id[BOOKING_ID_SIZE])
{
	booking_uuid_v7(id, FX_T0);
}

static void add_movie(char id[BOOKING_ID_SIZE], const char *title, int64_t created_at)
{
	booking_movie m;

	memset(&m, 0, sizeof(m));
	new_id(m.id);
	m.title = (char *)title;
	m.duration_minutes = 100;
	m.created_at = created_at;
	ck_assert_ok(st->catalog->movie_insert(st, &m));
	snprintf(id, BOOKING_ID_SIZE, "%s", m.id);
}

static void add_theater(char id[BOOKING_ID_SIZE], const char *city)
{
	booking_theater t;

	memset(&t, 0, sizeof(t));
	new_id(t.id);
	t.name = (char *)"Odeon";
	t.city = (char *)city;
	t.created_at = FX_T0;
	ck_assert_ok(st->catalog->theater_insert(st, &t));
	snprintf(id, BOOKING_ID_SIZE, "%s", t.id);
}

static void add_screen(char id[BOOKING_ID_SIZE], const char *theater_id, const char *layout)
{
	booking_screen s;
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, layout, sizeof *seats));
	booking_seat **ptrs = calloc(n, sizeof(*ptrs)); /* a screen's seats are an array of pointers */
	ck_assert_ptr_nonnull(ptrs);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &seats[i];
	memset(&s, 0, sizeof(s));
	new_id(s.id);
	snprintf(s.theater_id, sizeof(s.theater_id), "%s", theater_id);
	s.name = (char *)"Screen";
	s.seat_count = n;
	s.seats = ptrs;
	s.created_at = FX_T0;
	ck_assert_ok(st->catalog->screen_insert(st, &s));
	snprintf(id, BOOKING_ID_SIZE, "%s", s.id);
	free(ptrs);
	booking_free(seats);
}

static int insert_showtime(char id[BOOKING_ID_SIZE], const char *movie, const char *screen, int64_t starts_at)
{
	booking_showtime s;
	booking_price prices[2] = {{"standard", FX_PRICE}, {"premium", 2 * FX_PRICE}};
	booking_price *ptrs[2] = {&prices[0], &prices[1]};

	memset(&s, 0, sizeof(s));
	new_id(s.id);
	snprintf(s.movie_id, sizeof(s.movie_id), "%s", movie);
	snprintf(s.screen_id, sizeof(s.screen_id), "%s", screen);
	s.starts_at = starts_at;
	snprintf(s.currency, sizeof(s.currency), "EUR");
	s.price_count = 2;
	s.prices = ptrs;
	s.status = BOOKING_SHOWTIME_SCHEDULED;
	s.created_at = FX_T0;
	snprintf(id, BOOKING_ID_SIZE, "%s", s.id);
	return st->catalog->showtime_insert(st, &s);
}

/* A showtime of "A-C:10" (standard) and "D:2:premium". */
static char movie_id[BOOKING_ID_SIZE], theater_id[BOOKING_ID_SIZE], screen_id[BOOKING_ID_SIZE],
    showtime_id[BOOKING_ID_SIZE];

static void seed(void)
{
	add_movie(movie_id, "Seat Keeper", FX_T0);
	add_theater(theater_id, "Lyon");
	add_screen(screen_id, theater_id, "A-C:10,D:2:premium");
	ck_assert_ok(insert_showtime(showtime_id, movie_id, screen_id, FX_T0 + FX_DAY));
}

typedef struct bk {
	booking_reservation r;
	booking_seat_ref seats[16];
	booking_seat_ref *seat_ptrs[16]; /* r.seats: a pointer each (bk_point) */
	booking_event_record ev;
} bk;

/* Point the reservation's seat array at this bk's seats (again after a copy of the bk). */
static void bk_point(bk *b)
{
	for (size_t i = 0; i < 16; i++)
		b->seat_ptrs[i] = &b->seats[i];
	b->r.seats = b->seat_ptrs;
}

static void make_event(booking_event_record *ev, const char *type, const char *aggregate_type,
                       const char *aggregate_id, int64_t now)
{
	memset(ev, 0, sizeof(*ev));
	booking_uuid_v7(ev->id, now);
	ev->type = type;
	ev->aggregate_type = aggregate_type;
	snprintf(ev->aggregate_id, sizeof(ev->aggregate_id), "%s", aggregate_id);
	ev->occurred_at = now;
	ev->correlation_id = "corr-test";
	ev->traceparent = "";
	ev->data_json = "{\"test\":true}";
}

/* A PENDING reservation of `user` for `labels_csv` of the seeded showtime, made at `now`. */
static void make_booking(bk *b, const char *user, const char *labels_csv, int64_t now)
{
	char labels[16][BOOKING_LABEL_SIZE];
	const char *ptrs[16];
	size_t n = fx_split(labels_csv, labels, ptrs, 16);

	memset(b, 0, sizeof(*b));
	new_id(b->r.id);
	snprintf(b->r.user_id, sizeof(b->r.user_id), "%s", user);
	snprintf(b->r.showtime_id, sizeof(b->r.showtime_id), "%s", showtime_id);
	b->r.status = BOOKING_RESERVATION_PENDING;
	b->r.saga = BOOKING_SAGA_SEATS_RESERVED;
	for (size_t i = 0; i < n; i++)
		memcpy(b->seats[i].label, labels[i], BOOKING_LABEL_SIZE);
	b->r.seat_count = n;
	bk_point(b);
	b->r.total_amount = (int64_t)n * FX_PRICE;
	snprintf(b->r.currency, sizeof(b->r.currency), "EUR");
	b->r.created_at = now;
	b->r.updated_at = now;
	b->r.expires_at = now + HOLD_MS;
	b->r.version = 1;
	make_event(&b->ev, "reservation.created", "reservation", b->r.id, now);
}

static int hold_at(bk *b, int64_t now, booking_seat_ref *taken, size_t *taken_count)
{
	booking_store_hold req = {.reservation = &b->r, .now = now, .event = &b->ev}; /* no user_seat_limit */
	booking_seat_ref scratch[16];
	size_t scratch_n = 0;

	return st->ledger->hold(taken ? taken : scratch, taken_count ? taken_count : &scratch_n, st, &req);
}

static void hold_ok(bk *b, const char *user, const char *labels, int64_t now)
{
	make_booking(b, user, labels, now);
	ck_assert_ok(hold_at(b, now, NULL, NULL));
}

/* --- readers ----------------------------------------------------------- */

typedef struct seats_read {
	booking_store_seat s[64];
	size_t n;
} seats_read;

static int read_seat(const booking_store_seat *seat, void *p)
{
	seats_read *r = p;
	if (r->n < 64)
		r->s[r->n] = *seat;
	r->n++;
	return 0;
}

/* Seat `label` of showtime `sid`. */
static booking_store_seat seat_in(const char *sid, const char *label)
{
	seats_read r = {.n = 0};
	ck_assert_ok(st->catalog->seat_list(st, sid, read_seat, &r));
	for (size_t i = 0; i < r.n && i < 64; i++)
		if (strcmp(r.s[i].label, label) == 0)
			return r.s[i];
	ck_abort_msg("seat %s not found", label);
	return r.s[0];
}

static booking_store_seat seat_of(const char *label)
{
	return seat_in(showtime_id, label);
}

static booking_reservation *get_booking(const char *id)
{
	booking_reservation *r = NULL;
	ck_assert_ok(st->ledger->reservation_get(&r, st, id));
	ck_assert_ptr_nonnull(r);
	return r;
}

static booking_reservation_status status_of(const char *id)
{
	booking_reservation *r = get_booking(id);
	booking_reservation_status s = r->status;
	booking_reservation_free(r);
	return s;
}

typedef struct ev_copy {
	char id[BOOKING_ID_SIZE];
	char type[48];
	char aggregate_type[16];
	char aggregate_id[BOOKING_ID_SIZE];
	int64_t sequence, position, occurred_at;
	char correlation_id[64];
	char data_json[128];
	bool published;
} ev_copy;

typedef struct events_read {
	ev_copy e[256];
	size_t n;
	int stop_after; /* return non-zero from the callback after this many (0: never) */
} events_read;

static int read_event(const booking_event_record *e, void *p)
{
	events_read *r = p;
	if (r->n < 256) {
		ev_copy *c = &r->e[r->n];
		snprintf(c->id, sizeof(c->id), "%s", e->id);
		snprintf(c->type, sizeof(c->type), "%s", e->type);
		snprintf(c->aggregate_type, sizeof(c->aggregate_type), "%s", e->aggregate_type);
		snprintf(c->aggregate_id, sizeof(c->aggregate_id), "%s", e->aggregate_id);
		snprintf(c->correlation_id, sizeof(c->correlation_id), "%s", e->correlation_id);
		snprintf(c->data_json, sizeof(c->data_json), "%s", e->data_json);
		c->sequence = e->sequence;
		c->position = e->position;
		c->occurred_at = e->occurred_at;
		c->published = e->published;
	}
	r->n++;
	if (r->stop_after && (int)r->n >= r->stop_after)
		return 42;
	return 0;
}

static void all_events(events_read *r)
{
	memset(r, 0, sizeof(*r));
	ck_assert_ok(st->outbox->outbox_read(st, 0, 1000, read_event, r));
}

static size_t event_count(void)
{
	events_read *r = malloc(sizeof(*r));
	size_t n;
	all_events(r);
	n = r->n;
	free(r);
	return n;
}

/* =========================================================================
 * Part one: the members
 * ========================================================================= */

START_TEST(migrate_is_idempotent)
{
	int v1 = 0, v2 = 0;

	ck_assert_ok(st->migrate(&v1, st));
	ck_assert_ok(st->migrate(&v2, st));
	ck_assert_int_eq(v1, v2);
	ck_assert_ok(st->migrate(NULL, st));
}
END_TEST

/*
 * clock_now (optional): a store that has it reads its
 * server's time in UTC milliseconds, and the time moves forward. A host
 * clock may be minutes off the server's, never a day.
 */
START_TEST(the_store_clock_reads_utc_milliseconds_and_moves_forward)
{
	int64_t t1 = 0, t2 = 0, host;
	struct timespec pause = {0, 20 * 1000 * 1000};

	if (!st->clock_now)
		return; /* no clock of its own: the host's is the deployment's */
	ck_assert_ok(st->clock_now(&t1, st));
	host = booking_clock_system()->now_ms(booking_clock_system());
	ck_assert_msg(t1 > host - FX_DAY && t1 < host + FX_DAY, "clock_now %lld, host %lld", (long long)t1,
	              (long long)host);
	nanosleep(&pause, NULL);
	ck_assert_ok(st->clock_now(&t2, st));
	ck_assert_int_ge(t2 - t1, 15);
	ck_assert_int_lt(t2 - t1, 10 * FX_SECOND);
}
END_TEST

START_TEST(validate_refuses_bad_versions_and_missing_members)
{
	booking_store copy = *st;

	copy.version = 0;
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	copy.version = BOOKING_STORE_VERSION + 1;
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	copy.version = 5; /* before outputs first: its members would be called wrongly */
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "predates version 6"));

	/* a required member of a group */
	booking_store_ledger ledger = *st->ledger;
	copy = *st;
	ledger.hold = NULL;
	copy.ledger = &ledger;
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	ck_assert_str_eq(booking_error_last()->message, "store.ledger: required member hold is NULL");

	/* a group's version this library does not know */
	ledger = *st->ledger;
	ledger.version = BOOKING_STORE_LEDGER_VERSION + 1;
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	ledger.version = 0;
	ck_assert_int_lt(booking_store_validate(&copy), 0);

	/* a required group */
	copy = *st;
	copy.catalog = NULL;
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	copy = *st;
	copy.outbox = NULL;
	ck_assert_int_lt(booking_store_validate(&copy), 0);

	/* the optional group: none is fine, part of it is not */
	copy = *st;
	copy.users = NULL;
	ck_assert_ok(booking_store_validate(&copy));
	if (st->users) {
		booking_store_users users = *st->users;
		users.token_is_revoked = NULL;
		copy.users = &users;
		ck_assert_int_lt(booking_store_validate(&copy), 0);
		ck_assert_str_eq(booking_error_last()->message, "store.users: required member token_is_revoked is NULL");
	}

	copy = *st;
	copy.free = NULL;
	ck_assert_int_lt(booking_store_validate(&copy), 0);
	ck_assert_ok(booking_store_validate(st));
}
END_TEST

/* --- catalog ------------------------------------------------------------ */

typedef struct names {
	char v[16][64];
	size_t n;
} names;

static int movie_name(const booking_movie *m, void *p)
{
	names *n = p;
	if (n->n < 16)
		snprintf(n->v[n->n], 64, "%s", m->title);
	n->n++;
	return 0;
}

static int movie_stop(const booking_movie *m, void *p)
{
	(void)m;
	(*(int *)p)++;
	return 7;
}

START_TEST(movie_insert_get_list)
{
	char a[BOOKING_ID_SIZE], b[BOOKING_ID_SIZE];
	booking_movie *m = NULL, dup;
	names n = {.n = 0};
	int calls = 0;

	add_movie(b, "Second", FX_T0 + 10);
	add_movie(a, "First", FX_T0);
	ck_assert_ok(st->catalog->movie_get(&m, st, a));
	ck_assert_str_eq(m->id, a);
	ck_assert_str_eq(m->title, "First");
	ck_assert_int_eq(m->duration_minutes, 100);
	ck_assert_int_eq(m->created_at, FX_T0);
	booking_movie_free(m);
	ck_assert_ok(st->catalog->movie_list(st, movie_name, &n));
	ck_assert_uint_eq(n.n, 2);
	ck_assert_str_eq(n.v[0], "First"); /* by created_at */
	ck_assert_str_eq(n.v[1], "Second");
	/* a non-zero return stops the iteration and is returned */
	ck_assert_int_eq(st->catalog->movie_list(st, movie_stop, &calls), 7);
	ck_assert_int_eq(calls, 1);
	/* duplicate id */
	memset(&dup, 0, sizeof(dup));
	snprintf(dup.id, sizeof(dup.id), "%s", a);
	dup.title = (char *)"Again";
	dup.duration_minutes = 1;
	ck_assert_code(st->catalog->movie_insert(st, &dup), "ALREADY_EXISTS");
	m = NULL;
	ck_assert_code(st->catalog->movie_get(&m, st, "01900000-0000-7000-8000-000000000000"), "MOVIE_NOT_FOUND");
	ck_assert_str_eq(booking_error_last()->message, "movie not found"); /* the core's words, on every store */
	ck_assert_ptr_null(m);
}
END_TEST

static int theater_count(const booking_theater *t, void *p)
{
	names *n = p;
	if (n->n < 16)
		snprintf(n->v[n->n], 64, "%s|%s", t->name, t->city);
	n->n++;
	return 0;
}

START_TEST(theater_insert_get_list)
{
	char a[BOOKING_ID_SIZE], b[BOOKING_ID_SIZE];
	booking_theater *t = NULL, dup;
	names n = {.n = 0};

	add_theater(a, "");
	add_theater(b, "Paris");
	ck_assert_ok(st->catalog->theater_get(&t, st, a));
	ck_assert_str_eq(t->name, "Odeon");
	ck_assert_str_eq(t->city, "");
	booking_theater_free(t);
	ck_assert_ok(st->catalog->theater_list(st, theater_count, &n));
	ck_assert_uint_eq(n.n, 2);
	memset(&dup, 0, sizeof(dup));
	snprintf(dup.id, sizeof(dup.id), "%s", b);
	dup.name = (char *)"x";
	dup.city = (char *)"";
	ck_assert_code(st->catalog->theater_insert(st, &dup), "ALREADY_EXISTS");
	t = NULL;
	ck_assert_code(st->catalog->theater_get(&t, st, "01900000-0000-7000-8000-000000000000"), "THEATER_NOT_FOUND");
	ck_assert_str_eq(booking_error_last()->message, "theater not found"); /* the core's words, on every store */
}
END_TEST

START_TEST(screen_insert_keeps_seats_and_needs_its_theater)
{
	char theater[BOOKING_ID_SIZE], screen[BOOKING_ID_SIZE];
	booking_screen *s = NULL, orphan;
	booking_seat seat = {.label = "A1", .category = "standard"};
	booking_seat *seat_ptr = &seat;

	add_theater(theater, "Lyon");
	add_screen(screen, theater, "B:2,A:1:premium");
	ck_assert_ok(st->catalog->screen_get(&s, st, screen));
	ck_assert_str_eq(s->theater_id, theater);
	ck_assert_str_eq(s->name, "Screen");
	ck_assert_uint_eq(s->seat_count, 3);
	ck_assert_str_eq(s->seats[0]->label, "B1");
	ck_assert_str_eq(s->seats[1]->label, "B2");
	ck_assert_str_eq(s->seats[2]->label, "A1");
	ck_assert_str_eq(s->seats[2]->category, "premium");
	booking_screen_free(s);

	memset(&orphan, 0, sizeof(orphan));
	new_id(orphan.id);
	snprintf(orphan.theater_id, sizeof(orphan.theater_id), "01900000-0000-7000-8000-000000000000");
	orphan.name = (char *)"Orphan";
	orphan.seat_count = 1;
	orphan.seats = &seat_ptr;
	ck_assert_code(st->catalog->screen_insert(st, &orphan), "THEATER_NOT_FOUND");
	s = NULL;
	ck_assert_code(st->catalog->screen_get(&s, st, orphan.id), "SCREEN_NOT_FOUND");
	ck_assert_str_eq(booking_error_last()->message, "screen not found"); /* the core's words, on every store */
	ck_assert_ptr_null(s);
}
END_TEST

typedef struct ids {
	char v[16][BOOKING_ID_SIZE];
	size_t n;
} ids;

static int showtime_id_of(const booking_showtime *s, void *p)
{
	ids *x = p;
	if (x->n < 16)
		snprintf(x->v[x->n], BOOKING_ID_SIZE, "%s", s->id);
	x->n++;
	return 0;
}

START_TEST(showtime_insert_creates_one_free_seat_row_per_seat)
{
	booking_showtime *s = NULL;
	seats_read r = {.n = 0};

	seed();
	ck_assert_ok(st->catalog->showtime_get(&s, st, showtime_id));
	ck_assert_str_eq(s->movie_id, movie_id);
	ck_assert_str_eq(s->screen_id, screen_id);
	ck_assert_int_eq(s->starts_at, FX_T0 + FX_DAY);
	ck_assert_str_eq(s->currency, "EUR");
	ck_assert_int_eq(s->status, BOOKING_SHOWTIME_SCHEDULED);
	ck_assert_uint_eq(s->price_count, 2);
	booking_showtime_free(s);

	ck_assert_ok(st->catalog->seat_list(st, showtime_id, read_seat, &r));
	ck_assert_uint_eq(r.n, 32);
	ck_assert_str_eq(r.s[0].label, "A1");
	ck_assert_str_eq(r.s[10].label, "B1");
	ck_assert_str_eq(r.s[30].label, "D1");
	ck_assert_str_eq(r.s[30].category, "premium");
	ck_assert_str_eq(r.s[0].category, "standard");
	for (size_t i = 0; i < r.n; i++) {
		ck_assert_int_eq(r.s[i].status, BOOKING_SEAT_FREE);
		ck_assert_str_eq(r.s[i].reservation_id, "");
	}
}
END_TEST

START_TEST(showtime_needs_its_movie_and_screen)
{
	char id[BOOKING_ID_SIZE];
	booking_showtime *s = NULL;
	seats_read r = {.n = 0};

	seed();
	ck_assert_code(insert_showtime(id, "01900000-0000-7000-8000-000000000000", screen_id, FX_T0),
	               "MOVIE_NOT_FOUND");
	ck_assert_code(st->catalog->showtime_get(&s, st, id), "SHOWTIME_NOT_FOUND");
	ck_assert_str_eq(booking_error_last()->message, "showtime not found"); /* the core's words, on every store */
	ck_assert_code(insert_showtime(id, movie_id, "01900000-0000-7000-8000-000000000000", FX_T0),
	               "SCREEN_NOT_FOUND");
	ck_assert_code(st->catalog->seat_list(st, id, read_seat, &r), "SHOWTIME_NOT_FOUND");
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(showtime_list_orders_by_start_and_filters_by_movie)
{
	char other[BOOKING_ID_SIZE], early[BOOKING_ID_SIZE], late[BOOKING_ID_SIZE], o1[BOOKING_ID_SIZE];
	ids x = {.n = 0};

	seed();
	ck_assert_ok(insert_showtime(late, movie_id, screen_id, FX_T0 + 3 * FX_DAY));
	ck_assert_ok(insert_showtime(early, movie_id, screen_id, FX_T0 + FX_HOUR));
	add_movie(other, "Other", FX_T0);
	ck_assert_ok(insert_showtime(o1, other, screen_id, FX_T0 + 2 * FX_DAY));
	ck_assert_ok(st->catalog->showtime_list(st, NULL, showtime_id_of, &x));
	ck_assert_uint_eq(x.n, 4);
	ck_assert_str_eq(x.v[0], early);
	ck_assert_str_eq(x.v[1], showtime_id);
	ck_assert_str_eq(x.v[2], o1);
	ck_assert_str_eq(x.v[3], late);
	x.n = 0;
	ck_assert_ok(st->catalog->showtime_list(st, movie_id, showtime_id_of, &x));
	ck_assert_uint_eq(x.n, 3);
	ck_assert_str_eq(x.v[2], late);
}
END_TEST

/* --- hold --------------------------------------------------------------- */

START_TEST(hold_claims_the_seats_inserts_the_booking_and_its_event)
{
	bk b;
	booking_store_seat s1, s2;
	booking_reservation *r;
	events_read *ev = malloc(sizeof(*ev));
	int64_t v_before;

	seed();
	v_before = seat_of("A1").version;
	hold_ok(&b, "alice", "A1,A2", FX_T0);
	s1 = seat_of("A1");
	s2 = seat_of("A2");
	ck_assert_int_eq(s1.status, BOOKING_SEAT_HELD);
	ck_assert_str_eq(s1.reservation_id, b.r.id);
	ck_assert_int_eq(s1.hold_until, b.r.expires_at);
	ck_assert_int_gt(s1.version, v_before);
	ck_assert_int_eq(s2.status, BOOKING_SEAT_HELD);
	ck_assert_int_eq(seat_of("A3").status, BOOKING_SEAT_FREE);

	r = get_booking(b.r.id);
	ck_assert_str_eq(r->user_id, "alice");
	ck_assert_str_eq(r->showtime_id, showtime_id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_SEATS_RESERVED);
	ck_assert_uint_eq(r->seat_count, 2);
	ck_assert_str_eq(r->seats[0]->label, "A1");
	ck_assert_str_eq(r->seats[1]->label, "A2");
	ck_assert_int_eq(r->total_amount, 2 * FX_PRICE);
	ck_assert_str_eq(r->currency, "EUR");
	ck_assert_int_eq(r->created_at, FX_T0);
	ck_assert_int_eq(r->expires_at, FX_T0 + HOLD_MS);
	ck_assert_int_eq(r->version, 1);
	booking_reservation_free(r);

	all_events(ev);
	ck_assert_uint_eq(ev->n, 1);
	ck_assert_str_eq(ev->e[0].id, b.ev.id);
	ck_assert_str_eq(ev->e[0].type, "reservation.created");
	ck_assert_str_eq(ev->e[0].aggregate_type, "reservation");
	ck_assert_str_eq(ev->e[0].aggregate_id, b.r.id);
	ck_assert_int_eq(ev->e[0].sequence, 1);
	ck_assert_int_gt(ev->e[0].position, 0);
	ck_assert_str_eq(ev->e[0].correlation_id, "corr-test");
	ck_assert_str_eq(ev->e[0].data_json, "{\"test\":true}");
	ck_assert(!ev->e[0].published);
	free(ev);
}
END_TEST

START_TEST(hold_of_a_taken_seat_writes_nothing_and_names_the_taken_seats)
{
	bk first, second;
	booking_seat_ref taken[16];
	size_t taken_n = 0;
	booking_reservation *r = NULL;
	booking_store_seat a3_before;

	seed();
	hold_ok(&first, "bob", "A2,A4", FX_T0);
	a3_before = seat_of("A3");
	make_booking(&second, "alice", "A2,A3,A4", FX_T0 + 1);
	ck_assert_code(hold_at(&second, FX_T0 + 1, taken, &taken_n), "SEAT_ALREADY_BOOKED");
	ck_assert_uint_eq(taken_n, 2);
	ck_assert(strcmp(taken[0].label, "A2") == 0 || strcmp(taken[1].label, "A2") == 0);
	ck_assert(strcmp(taken[0].label, "A4") == 0 || strcmp(taken[1].label, "A4") == 0);
	/* nothing written */
	ck_assert_code(st->ledger->reservation_get(&r, st, second.r.id), "RESERVATION_NOT_FOUND");
	ck_assert_str_eq(booking_error_last()->message, "reservation not found"); /* the core's words, on every store */
	ck_assert_int_eq(seat_of("A3").status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(seat_of("A3").version, a3_before.version);
	ck_assert_str_eq(seat_of("A2").reservation_id, first.r.id);
	ck_assert_uint_eq(event_count(), 1);
}
END_TEST

/*
 * The seat refused comes after one the store could claim (in label order, the order a store takes them in):
 * the earlier seat is left as it was too (PostgreSQL: booking_hold_claim() has written it when it meets the
 * taken one, and its call is rolled back whole).
 */
START_TEST(hold_refused_at_a_later_seat_leaves_the_earlier_ones_as_they_were)
{
	bk first, second;
	booking_seat_ref taken[16];
	size_t taken_n = 0;
	booking_reservation *r = NULL;
	booking_store_seat a1_before, a2_before;

	seed();
	hold_ok(&first, "bob", "A3", FX_T0);
	a1_before = seat_of("A1");
	a2_before = seat_of("A2");
	make_booking(&second, "alice", "A1,A2,A3", FX_T0 + 1);
	ck_assert_code(hold_at(&second, FX_T0 + 1, taken, &taken_n), "SEAT_ALREADY_BOOKED");
	ck_assert_uint_eq(taken_n, 1);
	ck_assert_str_eq(taken[0].label, "A3");
	ck_assert_code(st->ledger->reservation_get(&r, st, second.r.id), "RESERVATION_NOT_FOUND");
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(seat_of("A1").version, a1_before.version);
	ck_assert_int_eq(seat_of("A2").status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(seat_of("A2").version, a2_before.version);
	ck_assert_str_eq(seat_of("A3").reservation_id, first.r.id);
	ck_assert_uint_eq(event_count(), 1);
	/* and the seats it left are claimable: the same hold without A3 takes them */
	make_booking(&second, "alice", "A1,A2", FX_T0 + 2);
	ck_assert_ok(hold_at(&second, FX_T0 + 2, taken, &taken_n));
	ck_assert_str_eq(seat_of("A1").reservation_id, second.r.id);
}
END_TEST

START_TEST(hold_of_an_unknown_label_writes_nothing)
{
	bk b;
	booking_reservation *r = NULL;

	seed();
	booking_seat_ref refused[4];
	size_t refused_n = 0;
	make_booking(&b, "alice", "A1,Z9", FX_T0);
	ck_assert_code(hold_at(&b, FX_T0, refused, &refused_n), "VALIDATION_ERROR");
	ck_assert_uint_eq(refused_n, 1); /* the store names the label; the core words the refusal */
	ck_assert_str_eq(refused[0].label, "Z9");
	ck_assert_code(st->ledger->reservation_get(&r, st, b.r.id), "RESERVATION_NOT_FOUND");
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
	ck_assert_uint_eq(event_count(), 0);
}
END_TEST

START_TEST(hold_claims_a_seat_whose_hold_expired)
{
	bk old, fresh, early;

	seed();
	hold_ok(&old, "alice", "B1", FX_T0);
	make_booking(&early, "bob", "B1", FX_T0 + HOLD_MS - 1);
	ck_assert_code(hold_at(&early, FX_T0 + HOLD_MS - 1, NULL, NULL), "SEAT_ALREADY_BOOKED");
	/* hold_until <= now: claimable */
	hold_ok(&fresh, "bob", "B1", FX_T0 + HOLD_MS);
	ck_assert_str_eq(seat_of("B1").reservation_id, fresh.r.id);
	ck_assert_int_eq(seat_of("B1").hold_until, FX_T0 + 2 * HOLD_MS);
	/* the old reservation stays PENDING until expired (apply) */
	ck_assert_int_eq(status_of(old.r.id), BOOKING_RESERVATION_PENDING);
}
END_TEST

/* Every seat of `b` names its layout position in the seeded "A-C:10,D:2:premium" (A10 9, B2 11, D1 30). */
static int check_positions(const booking_reservation *b, void *payload)
{
	size_t *checked = payload;
	ck_assert_uint_eq(b->seat_count, 3);
	for (size_t i = 0; i < b->seat_count; i++) {
		const char *l = b->seats[i]->label;
		int want = strcmp(l, "A10") == 0 ? 9 : strcmp(l, "B2") == 0 ? 11 : strcmp(l, "D1") == 0 ? 30 : -1;
		ck_assert_msg(want >= 0, "unexpected seat %s", l);
		ck_assert_int_eq(b->seats[i]->position, want);
	}
	(*checked)++;
	return 0;
}

START_TEST(booking_reads_give_each_seat_its_layout_position)
{
	bk b;
	booking_reservation *r;
	size_t checked = 0;
	booking_store_scan_cbs cbs = {.reservation = check_positions};

	seed();
	/* as the core hands them over: in layout order, each with its position */
	make_booking(&b, "alice", "A10,B2,D1", FX_T0);
	b.seats[0].position = 9;
	b.seats[1].position = 11;
	b.seats[2].position = 30;
	ck_assert_ok(hold_at(&b, FX_T0, NULL, NULL));
	r = get_booking(b.r.id);
	check_positions(r, &checked);
	booking_reservation_free(r);
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", 0, NULL, 10, check_positions, &checked));
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_PENDING, FX_T0 + HOLD_MS, 10, check_positions,
	                                                &checked));
	ck_assert_ok(st->scan(st, &cbs, &checked));
	ck_assert_uint_eq(checked, 4);
}
END_TEST

START_TEST(duplicate_booking_id_is_refused)
{
	bk b, again;

	seed();
	hold_ok(&b, "alice", "C1", FX_T0);
	again = b;
	bk_point(&again);
	snprintf(again.seats[0].label, BOOKING_LABEL_SIZE, "C2");
	booking_uuid_v7(again.ev.id, FX_T0);
	ck_assert_int_lt(hold_at(&again, FX_T0, NULL, NULL), 0);
	ck_assert_int_eq(seat_of("C2").status, BOOKING_SEAT_FREE);
}
END_TEST

typedef struct blist {
	char v[16][BOOKING_ID_SIZE];
	size_t n;
} blist;

static int booking_id_of(const booking_reservation *b, void *p)
{
	blist *l = p;
	if (l->n < 16)
		snprintf(l->v[l->n], BOOKING_ID_SIZE, "%s", b->id);
	l->n++;
	return 0;
}

START_TEST(bookings_of_a_user_come_newest_first)
{
	bk b1, b2, b3, other;
	blist l = {.n = 0};

	seed();
	hold_ok(&b1, "alice", "A1", FX_T0);
	hold_ok(&other, "bob", "A2", FX_T0 + 1);
	hold_ok(&b2, "alice", "A3", FX_T0 + 2);
	hold_ok(&b3, "alice", "A4", FX_T0 + 3);
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", 0, NULL, 100, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0], b3.r.id);
	ck_assert_str_eq(l.v[1], b2.r.id);
	ck_assert_str_eq(l.v[2], b1.r.id);
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "nobody", 0, NULL, 100, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

/* A reservation's paging key, for sorting what a test made into the order a store must give. */
typedef struct key_of {
	int64_t created_at;
	char id[BOOKING_ID_SIZE];
} key_of;

/* Newest first: created_at, then id, both descending (ids bytewise). */
static int cmp_newest(const void *a, const void *b)
{
	const key_of *x = a, *y = b;
	if (x->created_at != y->created_at)
		return x->created_at > y->created_at ? -1 : 1;
	return -strcmp(x->id, y->id);
}

START_TEST(bookings_of_a_user_resume_strictly_after_a_key_and_stop_at_max)
{
	/* three share a millisecond: the id orders them, and a key inside the tie must split it */
	static const int64_t at[6] = {0, 1, 1, 1, 2, 3};
	static const char *const seats[6] = {"A1", "A2", "A3", "A4", "A5", "A6"};
	bk b[6], other;
	key_of want[6];
	blist l = {.n = 0};

	seed();
	for (int i = 0; i < 6; i++) {
		hold_ok(&b[i], "alice", seats[i], FX_T0 + at[i]);
		want[i].created_at = b[i].r.created_at;
		memcpy(want[i].id, b[i].r.id, BOOKING_ID_SIZE);
	}
	hold_ok(&other, "bob", "B1", FX_T0 + 1);
	qsort(want, 6, sizeof want[0], cmp_newest);

	ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", 0, NULL, 6, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(l.v[i], want[i].id);

	/* max bounds what the store hands over */
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", 0, NULL, 2, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0], want[0].id);
	ck_assert_str_eq(l.v[1], want[1].id);

	/* after every key: exactly the older ones, in order, at most max */
	for (size_t k = 0; k < 6; k++) {
		size_t left = 5 - k, expect = left < 3 ? left : 3;
		l.n = 0;
		ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", want[k].created_at, want[k].id, 3, booking_id_of, &l));
		ck_assert_uint_eq(l.n, expect);
		for (size_t i = 0; i < expect; i++)
			ck_assert_str_eq(l.v[i], want[k + 1 + i].id);
	}

	/* a key older than everything, and another user's key, give nothing of bob's */
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", FX_T0 - 1, want[0].id, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 0);
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "bob", FX_T0 + 2, want[0].id, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], other.r.id);
}
END_TEST

/* --- apply: a change the core decided ---------------------------------------- */

/* Cancel `b` as the core would: guard its version, set the status, free its held seats, one event. */
static int apply_status(const char *reservation_id, int64_t version, booking_reservation_status to, int64_t now,
                        booking_event_record *ev, size_t *failed)
{
	make_event(ev, to == BOOKING_RESERVATION_CANCELLED ? "reservation.cancelled" : "reservation.expired", "reservation", reservation_id,
	           now);
	booking_store_guard g = {BOOKING_GUARD_RESERVATION_VERSION, reservation_id, version, NULL};
	booking_store_reservation_set set = {.id = reservation_id, .status = to, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = now};
	booking_store_seat_move move = {reservation_id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
	booking_store_change c = {.guard_count = 1, .guards = &g, .reservation = &set, .seats = &move, .event_count = 1, .events = ev};
	return st->ledger->apply(failed, st, &c);
}

START_TEST(apply_writes_the_booking_its_seats_and_its_events_at_once)
{
	bk b;
	booking_event_record ev;
	events_read *e = malloc(sizeof(*e));
	size_t failed = 99;

	seed();
	hold_ok(&b, "alice", "A1,A2", FX_T0);
	ck_assert_ok(apply_status(b.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0 + FX_MINUTE, &ev, &failed));
	ck_assert_uint_eq(failed, 99); /* untouched on success */
	booking_reservation *r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_COMPENSATED);
	ck_assert_int_eq(r->version, 2);
	ck_assert_int_eq(r->updated_at, FX_T0 + FX_MINUTE);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
	ck_assert_str_eq(seat_of("A1").reservation_id, "");
	ck_assert_int_eq(seat_of("A2").status, BOOKING_SEAT_FREE);
	all_events(e);
	ck_assert_uint_eq(e->n, 2);
	ck_assert_str_eq(e->e[1].id, ev.id);
	ck_assert_str_eq(e->e[1].type, "reservation.cancelled");
	ck_assert_int_eq(e->e[1].sequence, 2);
	ck_assert_int_gt(e->e[1].position, e->e[0].position);
	free(e);
}
END_TEST

START_TEST(apply_with_a_guard_that_no_longer_holds_writes_nothing_and_names_it)
{
	bk b;
	booking_event_record ev;
	size_t failed = 99;

	seed();
	hold_ok(&b, "alice", "A1", FX_T0);
	/* a stale version */
	ck_assert_code(apply_status(b.r.id, 2, BOOKING_RESERVATION_CANCELLED, FX_T0 + 1, &ev, &failed), "INVALID_STATE");
	ck_assert_uint_eq(failed, 0);
	ck_assert_int_eq(status_of(b.r.id), BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_HELD);
	ck_assert_uint_eq(event_count(), 1);
	/* a missing booking_handle */
	failed = 99;
	ck_assert_code(apply_status("01900000-0000-7000-8000-000000000000", 1, BOOKING_RESERVATION_EXPIRED, FX_T0 + 1, &ev,
	                            &failed),
	               "INVALID_STATE");
	ck_assert_uint_eq(failed, 0);
	/* the second guard fails: a payment that does not exist; the first held, still nothing is written */
	make_event(&ev, "reservation.cancelled", "reservation", b.r.id, FX_T0 + 2);
	booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, b.r.id, 1, NULL},
	                            {BOOKING_GUARD_PAYMENT_STATUS, "01900000-0000-7000-8000-0000000000ff", 1, NULL}};
	booking_store_reservation_set set = {.id = b.r.id, .status = BOOKING_RESERVATION_CANCELLED, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = FX_T0 + 2};
	booking_store_seat_move move = {b.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
	booking_store_change c = {.guard_count = 2, .guards = g, .reservation = &set, .seats = &move, .event_count = 1, .events = &ev};
	failed = 99;
	ck_assert_code(st->ledger->apply(&failed, st, &c), "INVALID_STATE");
	ck_assert_uint_eq(failed, 1);
	ck_assert_int_eq(status_of(b.r.id), BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_HELD);
	ck_assert_uint_eq(event_count(), 1);
	/* with the current version it applies, once: the version moved */
	ck_assert_ok(apply_status(b.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0 + 3, &ev, NULL));
	ck_assert_code(apply_status(b.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0 + 4, &ev, NULL), "INVALID_STATE");
	ck_assert_uint_eq(event_count(), 2);
}
END_TEST

START_TEST(apply_moves_only_the_seats_the_booking_has_in_the_given_state)
{
	bk old, fresh;
	booking_event_record ev;

	seed();
	hold_ok(&old, "alice", "A1,A2", FX_T0);
	hold_ok(&fresh, "bob", "A2", FX_T0 + HOLD_MS); /* A2's hold ran out: bob has it now */
	ck_assert_ok(apply_status(old.r.id, 1, BOOKING_RESERVATION_EXPIRED, FX_T0 + HOLD_MS, &ev, NULL));
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(seat_of("A2").status, BOOKING_SEAT_HELD);
	ck_assert_str_eq(seat_of("A2").reservation_id, fresh.r.id);
	/* HELD -> SOLD keeps the owner; a move from a state no seat is in changes nothing */
	make_event(&ev, "reservation.confirmed", "reservation", fresh.r.id, FX_T0 + HOLD_MS + 1);
	booking_store_seat_move sell = {fresh.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_SOLD, 0};
	booking_store_change c = {.seats = &sell, .event_count = 1, .events = &ev};
	ck_assert_ok(st->ledger->apply(NULL, st, &c));
	ck_assert_int_eq(seat_of("A2").status, BOOKING_SEAT_SOLD);
	ck_assert_str_eq(seat_of("A2").reservation_id, fresh.r.id);
	make_event(&ev, "reservation.noop", "reservation", fresh.r.id, FX_T0 + HOLD_MS + 2);
	booking_store_seat_move none = {fresh.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
	c.seats = &none;
	ck_assert_ok(st->ledger->apply(NULL, st, &c));
	ck_assert_int_eq(seat_of("A2").status, BOOKING_SEAT_SOLD);
	/* a new hold_until for seats kept HELD */
	bk third;
	hold_ok(&third, "carol", "B1", FX_T0 + HOLD_MS);
	make_event(&ev, "reservation.extended", "reservation", third.r.id, FX_T0 + HOLD_MS + 3);
	booking_store_seat_move rehold = {third.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_HELD, FX_T0 + 3 * HOLD_MS};
	c.seats = &rehold;
	ck_assert_ok(st->ledger->apply(NULL, st, &c));
	ck_assert_int_eq(seat_of("B1").status, BOOKING_SEAT_HELD);
	ck_assert_int_eq(seat_of("B1").hold_until, FX_T0 + 3 * HOLD_MS);
}
END_TEST

/* The expiry sweep's read (PENDING, expires_at <= now); the status is the caller's: the store knows none. */
START_TEST(booking_list_by_status_gives_the_bookings_in_that_status_by_expiry)
{
	bk b1, b2, b3, b4;
	booking_event_record ev;
	blist l = {.n = 0};

	seed();
	hold_ok(&b1, "alice", "A1", FX_T0 + 2);
	hold_ok(&b2, "alice", "A2", FX_T0);
	hold_ok(&b3, "alice", "A3", FX_T0 + 1);
	hold_ok(&b4, "alice", "A4", FX_T0 + FX_MINUTE);
	ck_assert_ok(apply_status(b3.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0 + 5, &ev, NULL));
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_PENDING, FX_T0 + HOLD_MS + 10, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0], b2.r.id);
	ck_assert_str_eq(l.v[1], b1.r.id);
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_PENDING, FX_T0 + HOLD_MS + 10, 1, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], b2.r.id);
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_PENDING, FX_T0 + HOLD_MS, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 1); /* expires_at <= expires_before */
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_PENDING, FX_T0 + FX_MINUTE + HOLD_MS, 10,
	                                        booking_id_of, &l));
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[2], b4.r.id);
	/* another status: only the reservations in it, by the same bound */
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_CANCELLED, FX_T0 + HOLD_MS + 10, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], b3.r.id);
	l.n = 0;
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_CANCELLED, FX_T0 + HOLD_MS, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ok(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_CONFIRMED, FX_T0 + FX_HOUR, 10, booking_id_of, &l));
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

/* --- payments ------------------------------------------------------------ */

/* What the core asks of a payment that starts, and what it gets (the store's part: idempotency_get, apply). */
enum { BOOKING_PAY_BEGIN_STARTED = 1, BOOKING_PAY_BEGIN_REPLAY = 2 };

typedef struct pay_req {
	const char *user_id, *idempotency_key, *request_hash;
	const booking_payment *payment;
	int64_t now, seats_hold_until;
} pay_req;

typedef struct pay_res {
	int kind;
	booking_payment *payment;
	int replay_error;
} pay_res;

typedef struct pay {
	booking_payment p;
	pay_req req;
	pay_res res;
} pay;

static void make_payment(pay *x, const bk *b, const char *user, const char *key, const char *hash, int64_t now)
{
	memset(x, 0, sizeof(*x));
	new_id(x->p.id);
	snprintf(x->p.reservation_id, sizeof(x->p.reservation_id), "%s", b->r.id);
	snprintf(x->p.user_id, sizeof(x->p.user_id), "%s", user);
	x->p.status = BOOKING_PAYMENT_PROCESSING;
	x->p.amount = b->r.total_amount;
	snprintf(x->p.currency, sizeof(x->p.currency), "EUR");
	snprintf(x->p.card_last4, sizeof(x->p.card_last4), "4242");
	x->p.created_at = now;
	x->p.updated_at = now;
	x->req.user_id = user;
	x->req.idempotency_key = key;
	x->req.request_hash = hash;
	x->req.payment = &x->p;
	x->req.now = now;
	x->req.seats_hold_until = now + 2 * FX_MINUTE;
}

/*
 * Start a payment as the core does (src/payment.c begin()): the key's
 * record first (reuse, in progress, replay), then the reservation (owner, a live
 * PENDING hold), then one change guarded by the reservation's version and the
 * key still unused. What this file tests is the store's part: the record it
 * reads back, and the change applied whole or not at all.
 */
static int pay_begin(pay *x)
{
	memset(&x->res, 0, sizeof(x->res));
	booking_store_idempotency_record rec;
	int rc = st->ledger->idempotency_get(&rec, st, x->req.user_id, x->req.idempotency_key);
	if (rc == 0) {
		if (strcmp(rec.request_hash, x->req.request_hash) != 0)
			return booking_error_set(BOOKING_EIDEMPOTENCY_KEY_REUSED, NULL, "key reused");
		if (!rec.completed)
			return booking_error_set(BOOKING_EPAYMENT_IN_PROGRESS, NULL, "in progress");
		if ((rc = st->ledger->payment_get(&x->res.payment, st, rec.payment_id)) < 0)
			return rc;
		x->res.kind = BOOKING_PAY_BEGIN_REPLAY;
		x->res.replay_error = rec.replay_error;
		return 0;
	}
	ck_assert_int_eq(rc, BOOKING_ENOTFOUND);
	booking_reservation *b = NULL;
	if ((rc = st->ledger->reservation_get(&b, st, x->p.reservation_id)) < 0)
		return rc;
	if (strcmp(b->user_id, x->req.user_id) != 0)
		rc = booking_error_set(BOOKING_EFORBIDDEN, NULL, "another's reservation");
	else if (b->status == BOOKING_RESERVATION_EXPIRED || (b->status == BOOKING_RESERVATION_PENDING && b->expires_at <= x->req.now))
		rc = booking_error_set(BOOKING_EEXPIRED, NULL, "expired");
	else if (b->status != BOOKING_RESERVATION_PENDING)
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "not PENDING");
	if (rc == 0) {
		booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, b->id, b->version, NULL},
		                            {BOOKING_GUARD_KEY_UNUSED, x->req.user_id, 0, x->req.idempotency_key}};
		booking_store_reservation_set set = {.id = b->id, .status = BOOKING_RESERVATION_PAYMENT_PROCESSING, .saga = BOOKING_SAGA_PAYMENT_PENDING, .updated_at = x->req.now};
		booking_store_seat_move seats = {b->id, BOOKING_SEAT_HELD, BOOKING_SEAT_HELD, x->req.seats_hold_until};
		booking_store_payment_start start = {&x->p, x->req.user_id, x->req.idempotency_key, x->req.request_hash};
		booking_store_change c = {.guard_count = 2, .guards = g, .reservation = &set, .seats = &seats, .start = &start};
		rc = st->ledger->apply(NULL, st, &c);
	}
	booking_reservation_free(b);
	if (rc == 0) {
		x->res.kind = BOOKING_PAY_BEGIN_STARTED;
		rc = st->ledger->payment_get(&x->res.payment, st, x->p.id);
	}
	return rc;
}

static void pay_begin_ok(pay *x, const bk *b, const char *key, int64_t now)
{
	make_payment(x, b, b->r.user_id, key, "hash-1", now);
	ck_assert_ok(pay_begin(x));
	ck_assert_int_eq(x->res.kind, BOOKING_PAY_BEGIN_STARTED);
	ck_assert_ptr_nonnull(x->res.payment);
	booking_payment_free(x->res.payment);
	x->res.payment = NULL;
}

/* How a payment ends (the core's decision; here to compose the change a store applies). */
typedef enum outcome { OUTCOME_SUCCEEDED = 1, OUTCOME_DECLINED, OUTCOME_REFUNDED } outcome;

/* The guard that failed in the last finish()/refund_change() (SIZE_MAX: none). */
static size_t last_failed;

/*
 * Finish a payment as the core does: one change guarded by the payment
 * still PROCESSING, the reservation at the version read now and, to confirm,
 * every seat still held by it.
 */
static int pay_finish(const pay *x, outcome out, const char *code, booking_decline_policy policy, int64_t now,
                      int replay_error, booking_event_record *evs, size_t nev)
{
	booking_reservation *b = get_booking(x->p.reservation_id);
	bool processing = b->status == BOOKING_RESERVATION_PAYMENT_PROCESSING;
	booking_store_guard g[3] = {{BOOKING_GUARD_PAYMENT_STATUS, x->p.id, BOOKING_PAYMENT_PROCESSING, NULL},
	                            {BOOKING_GUARD_RESERVATION_VERSION, x->p.reservation_id, b->version, NULL},
	                            {BOOKING_GUARD_SEATS_OWNED, x->p.reservation_id, BOOKING_SEAT_HELD, NULL}};
	booking_store_reservation_set set = {.id = x->p.reservation_id, .status = BOOKING_RESERVATION_CONFIRMED, .saga = BOOKING_SAGA_CONFIRMED, .updated_at = now};
	booking_store_seat_move seats = {x->p.reservation_id, BOOKING_SEAT_HELD, BOOKING_SEAT_SOLD, 0};
	booking_store_payment_set pset = {x->p.id, BOOKING_PAYMENT_SUCCEEDED, "ch_test_1", NULL, -1, now};
	booking_store_idempotency_set idem = {x->p.id, replay_error};
	booking_store_change c = {.guard_count = 2, .guards = g, .event_count = nev, .events = evs, .payment = &pset, .idempotency = &idem};
	if (out == OUTCOME_SUCCEEDED) {
		c.guard_count = 3;
		c.reservation = &set;
		c.seats = &seats;
	} else if (out == OUTCOME_DECLINED) {
		pset.status = BOOKING_PAYMENT_FAILED;
		pset.gateway_ref = "";
		pset.failure_code = code;
		if (processing) {
			bool release = policy == BOOKING_DECLINE_RELEASE;
			set.status = release ? BOOKING_RESERVATION_CANCELLED : BOOKING_RESERVATION_PENDING;
			set.saga = release ? BOOKING_SAGA_COMPENSATED : BOOKING_SAGA_SEATS_RESERVED;
			seats.to = release ? BOOKING_SEAT_FREE : BOOKING_SEAT_HELD;
			seats.hold_until = release ? 0 : b->expires_at;
			c.reservation = &set;
			c.seats = &seats;
		}
	} else {
		pset.status = BOOKING_PAYMENT_REFUNDED;
		pset.failure_code = code;
		pset.refunded_amount = x->p.amount;
		seats.to = BOOKING_SEAT_FREE;
		c.seats = &seats;
		if (processing) {
			set.status = BOOKING_RESERVATION_EXPIRED;
			set.saga = BOOKING_SAGA_COMPENSATED;
			c.reservation = &set;
		}
	}
	booking_reservation_free(b);
	last_failed = SIZE_MAX;
	return st->ledger->apply(&last_failed, st, &c);
}

/* Refund as the core does: payment SUCCEEDED and the reservation at its version, then CANCELLED with its seats free. */
static int refund_change(const pay *x, int64_t now, booking_event_record *evs, size_t nev)
{
	booking_reservation *b = NULL;
	int64_t version = -1;
	if (st->ledger->reservation_get(&b, st, x->p.reservation_id) == 0) {
		version = b->version;
		booking_reservation_free(b);
	}
	booking_store_guard g[2] = {{BOOKING_GUARD_PAYMENT_STATUS, x->p.id, BOOKING_PAYMENT_SUCCEEDED, NULL},
	                            {BOOKING_GUARD_RESERVATION_VERSION, x->p.reservation_id, version, NULL}};
	booking_store_reservation_set set = {.id = x->p.reservation_id, .status = BOOKING_RESERVATION_CANCELLED, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = now};
	booking_store_seat_move seats = {x->p.reservation_id, BOOKING_SEAT_SOLD, BOOKING_SEAT_FREE, 0};
	booking_store_payment_set pset = {x->p.id, BOOKING_PAYMENT_REFUNDED, NULL, NULL, x->p.amount, now};
	booking_store_change c = {.guard_count = 2, .guards = g, .reservation = &set, .seats = &seats, .event_count = nev, .events = evs, .payment = &pset};
	last_failed = SIZE_MAX;
	return st->ledger->apply(&last_failed, st, &c);
}

static booking_payment *get_payment(const char *id)
{
	booking_payment *p = NULL;
	ck_assert_ok(st->ledger->payment_get(&p, st, id));
	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(pay_begin_starts_a_payment_and_extends_the_seat_holds)
{
	bk b;
	pay x;
	booking_reservation *r;
	booking_payment *p;

	seed();
	hold_ok(&b, "alice", "A1,A2", FX_T0);
	make_payment(&x, &b, "alice", "key-1", "hash-1", FX_T0 + FX_MINUTE);
	x.req.seats_hold_until = FX_T0 + HOLD_MS + FX_MINUTE;
	ck_assert_ok(pay_begin(&x));
	ck_assert_int_eq(x.res.kind, BOOKING_PAY_BEGIN_STARTED);
	ck_assert_str_eq(x.res.payment->id, x.p.id);
	ck_assert_int_eq(x.res.payment->status, BOOKING_PAYMENT_PROCESSING);
	ck_assert_int_eq(x.res.replay_error, 0);
	booking_payment_free(x.res.payment);

	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PAYMENT_PROCESSING);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_PAYMENT_PENDING);
	ck_assert_int_eq(r->version, 2);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("A1").hold_until, FX_T0 + HOLD_MS + FX_MINUTE);
	ck_assert_int_eq(seat_of("A2").hold_until, FX_T0 + HOLD_MS + FX_MINUTE);
	ck_assert_str_eq(seat_of("A2").reservation_id, b.r.id);
	p = get_payment(x.p.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_PROCESSING);
	ck_assert_str_eq(p->reservation_id, b.r.id);
	ck_assert_int_eq(p->amount, 2 * FX_PRICE);
	ck_assert_str_eq(p->card_last4, "4242");
	booking_payment_free(p);
}
END_TEST

START_TEST(pay_begin_with_a_running_key_is_in_progress_and_another_request_is_key_reuse)
{
	bk b;
	pay x, again, other;

	seed();
	hold_ok(&b, "alice", "A1", FX_T0);
	pay_begin_ok(&x, &b, "key-1", FX_T0);
	make_payment(&again, &b, "alice", "key-1", "hash-1", FX_T0 + 1);
	ck_assert_code(pay_begin(&again), "PAYMENT_IN_PROGRESS");
	make_payment(&other, &b, "alice", "key-1", "hash-2", FX_T0 + 1);
	ck_assert_code(pay_begin(&other), "IDEMPOTENCY_KEY_REUSED");
	ck_assert_code(st->ledger->payment_get(&(booking_payment *){NULL}, st, again.p.id), "PAYMENT_NOT_FOUND");
}
END_TEST

START_TEST(pay_begin_guards_write_nothing)
{
	bk b, expired, cancelled;
	pay x;
	booking_event_record ev;
	booking_reservation *r;

	seed();
	hold_ok(&b, "alice", "A1", FX_T0);
	/* unknown booking_handle */
	make_payment(&x, &b, "alice", "key-1", "hash-1", FX_T0);
	snprintf(x.p.reservation_id, sizeof(x.p.reservation_id), "01900000-0000-7000-8000-000000000000");
	ck_assert_code(pay_begin(&x), "RESERVATION_NOT_FOUND");
	/* someone else's booking_handle */
	make_payment(&x, &b, "mallory", "key-1", "hash-1", FX_T0);
	ck_assert_code(pay_begin(&x), "FORBIDDEN");
	/* expired */
	make_payment(&x, &b, "alice", "key-1", "hash-1", FX_T0 + HOLD_MS);
	ck_assert_code(pay_begin(&x), "RESERVATION_EXPIRED");
	/* not PENDING */
	hold_ok(&cancelled, "alice", "A3", FX_T0);
	ck_assert_ok(apply_status(cancelled.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0, &ev, NULL));
	make_payment(&x, &cancelled, "alice", "key-1", "hash-1", FX_T0);
	ck_assert_code(pay_begin(&x), "INVALID_STATE");
	hold_ok(&expired, "alice", "A4", FX_T0);
	ck_assert_ok(apply_status(expired.r.id, 1, BOOKING_RESERVATION_EXPIRED, FX_T0 + HOLD_MS, &ev, NULL));
	make_payment(&x, &expired, "alice", "key-1", "hash-1", FX_T0 + HOLD_MS);
	ck_assert_int_lt(pay_begin(&x), 0);

	/* none of those recorded the key, the payment or a state change */
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(r->version, 1);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("A1").hold_until, FX_T0 + HOLD_MS);
	ck_assert_code(st->ledger->payment_get(&(booking_payment *){NULL}, st, x.p.id), "PAYMENT_NOT_FOUND");
	make_payment(&x, &b, "alice", "key-1", "another-hash", FX_T0 + 1);
	ck_assert_ok(pay_begin(&x));
	ck_assert_int_eq(x.res.kind, BOOKING_PAY_BEGIN_STARTED);
	booking_payment_free(x.res.payment);
}
END_TEST

START_TEST(keys_are_per_user)
{
	bk a, b;
	pay pa, pb;

	seed();
	hold_ok(&a, "alice", "A1", FX_T0);
	hold_ok(&b, "bob", "A2", FX_T0);
	pay_begin_ok(&pa, &a, "same-key", FX_T0);
	make_payment(&pb, &b, "bob", "same-key", "hash-other", FX_T0);
	ck_assert_ok(pay_begin(&pb));
	ck_assert_int_eq(pb.res.kind, BOOKING_PAY_BEGIN_STARTED);
	booking_payment_free(pb.res.payment);
}
END_TEST

START_TEST(pay_finish_succeeded_confirms_sells_and_completes_the_key)
{
	bk b;
	pay x, replay;
	booking_event_record evs[2];
	booking_reservation *r;
	booking_payment *p;
	events_read *e = malloc(sizeof(*e));

	seed();
	hold_ok(&b, "alice", "A1,A2", FX_T0);
	pay_begin_ok(&x, &b, "key-1", FX_T0 + 1);
	make_event(&evs[0], "payment.completed", "payment", x.p.id, FX_T0 + 2);
	make_event(&evs[1], "reservation.confirmed", "reservation", b.r.id, FX_T0 + 2);
	ck_assert_ok(pay_finish(&x, OUTCOME_SUCCEEDED, "", BOOKING_DECLINE_KEEP_HOLD, FX_T0 + 2, 0, evs, 2));
	p = get_payment(x.p.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_SUCCEEDED);
	ck_assert_str_eq(p->gateway_ref, "ch_test_1");
	booking_payment_free(p);
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_CONFIRMED);
	ck_assert_int_eq(r->version, 3);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_SOLD);
	ck_assert_str_eq(seat_of("A1").reservation_id, b.r.id);
	ck_assert_int_eq(seat_of("A2").status, BOOKING_SEAT_SOLD);

	all_events(e);
	ck_assert_uint_eq(e->n, 3);
	ck_assert_str_eq(e->e[1].type, "payment.completed");
	ck_assert_int_eq(e->e[1].sequence, 1);
	ck_assert_str_eq(e->e[2].type, "reservation.confirmed");
	ck_assert_int_eq(e->e[2].sequence, 2);

	/* the key now replays */
	make_payment(&replay, &b, "alice", "key-1", "hash-1", FX_T0 + 3);
	ck_assert_ok(pay_begin(&replay));
	ck_assert_int_eq(replay.res.kind, BOOKING_PAY_BEGIN_REPLAY);
	ck_assert_str_eq(replay.res.payment->id, x.p.id);
	ck_assert_int_eq(replay.res.payment->status, BOOKING_PAYMENT_SUCCEEDED);
	ck_assert_int_eq(replay.res.replay_error, 0);
	booking_payment_free(replay.res.payment);
	/* a finished payment cannot finish again */
	ck_assert_code(pay_finish(&x, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_KEEP_HOLD,
	                          FX_T0 + 4, BOOKING_EPAYMENT_DECLINED, NULL, 0),
	               "INVALID_STATE");
	ck_assert_uint_eq(last_failed, 0); /* the payment guard */
	ck_assert_uint_eq(event_count(), 3);
	free(e);
}
END_TEST

START_TEST(pay_finish_succeeded_after_the_seats_were_lost_is_expired_and_writes_nothing)
{
	bk b, thief;
	pay x;
	booking_event_record evs[2], refund_ev[1];
	booking_reservation *r;
	booking_payment *p;
	size_t before;

	seed();
	hold_ok(&b, "alice", "B1,B2", FX_T0);
	make_payment(&x, &b, "alice", "key-1", "hash-1", FX_T0 + HOLD_MS - FX_MINUTE);
	x.req.seats_hold_until = FX_T0 + HOLD_MS + FX_MINUTE;
	ck_assert_ok(pay_begin(&x));
	booking_payment_free(x.res.payment);
	hold_ok(&thief, "bob", "B2", FX_T0 + HOLD_MS + FX_MINUTE); /* the payment window ran out */
	before = event_count();
	make_event(&evs[0], "payment.completed", "payment", x.p.id, FX_T0 + HOLD_MS + 2 * FX_MINUTE);
	make_event(&evs[1], "reservation.confirmed", "reservation", b.r.id, FX_T0 + HOLD_MS + 2 * FX_MINUTE);
	ck_assert_code(pay_finish(&x, OUTCOME_SUCCEEDED, "", BOOKING_DECLINE_KEEP_HOLD,
	                          FX_T0 + HOLD_MS + 2 * FX_MINUTE, 0, evs, 2),
	               "INVALID_STATE");
	ck_assert_uint_eq(last_failed, 2); /* the seats guard: B2 is bob's */
	p = get_payment(x.p.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_PROCESSING);
	booking_payment_free(p);
	ck_assert_int_eq(status_of(b.r.id), BOOKING_RESERVATION_PAYMENT_PROCESSING);
	ck_assert_uint_eq(event_count(), before);

	/* the core refunds and finishes with REFUNDED */
	make_event(&refund_ev[0], "payment.refunded", "payment", x.p.id, FX_T0 + HOLD_MS + 3 * FX_MINUTE);
	ck_assert_ok(pay_finish(&x, OUTCOME_REFUNDED, "seats_lost", BOOKING_DECLINE_KEEP_HOLD,
	                        FX_T0 + HOLD_MS + 3 * FX_MINUTE, BOOKING_EEXPIRED, refund_ev, 1));
	p = get_payment(x.p.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_REFUNDED);
	ck_assert_int_eq(p->refunded_amount, p->amount);
	booking_payment_free(p);
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_EXPIRED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_COMPENSATED);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("B1").status, BOOKING_SEAT_FREE);
	ck_assert_str_eq(seat_of("B2").reservation_id, thief.r.id);
	ck_assert_int_eq(seat_of("B2").status, BOOKING_SEAT_HELD);
	ck_assert_uint_eq(event_count(), before + 1);
}
END_TEST

START_TEST(pay_finish_declined_keeps_the_hold_and_replays_the_decline)
{
	bk b;
	pay x, replay;
	booking_event_record ev[1];
	booking_reservation *r;
	booking_payment *p;

	seed();
	hold_ok(&b, "alice", "C1", FX_T0);
	pay_begin_ok(&x, &b, "key-1", FX_T0 + 1);
	ck_assert_int_eq(seat_of("C1").hold_until, FX_T0 + 1 + 2 * FX_MINUTE);
	make_event(&ev[0], "payment.failed", "payment", x.p.id, FX_T0 + 2);
	ck_assert_ok(pay_finish(&x, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_KEEP_HOLD, FX_T0 + 2,
	                        BOOKING_EPAYMENT_DECLINED, ev, 1));
	p = get_payment(x.p.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_FAILED);
	ck_assert_str_eq(p->failure_code, "card_declined");
	booking_payment_free(p);
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_SEATS_RESERVED);
	ck_assert_int_eq(r->version, 3);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("C1").status, BOOKING_SEAT_HELD);
	ck_assert_int_eq(seat_of("C1").hold_until, FX_T0 + HOLD_MS);

	make_payment(&replay, &b, "alice", "key-1", "hash-1", FX_T0 + 3);
	ck_assert_ok(pay_begin(&replay));
	ck_assert_int_eq(replay.res.kind, BOOKING_PAY_BEGIN_REPLAY);
	ck_assert_str_eq(replay.res.payment->id, x.p.id);
	ck_assert_int_eq(replay.res.replay_error, BOOKING_EPAYMENT_DECLINED);
	booking_payment_free(replay.res.payment);
	/* a new key pays again */
	pay_begin_ok(&replay, &b, "key-2", FX_T0 + 4);
}
END_TEST

START_TEST(pay_finish_declined_with_release_cancels_and_frees)
{
	bk b;
	pay x;
	booking_event_record ev[2];
	booking_reservation *r;

	seed();
	hold_ok(&b, "alice", "C1,C2", FX_T0);
	pay_begin_ok(&x, &b, "key-1", FX_T0 + 1);
	make_event(&ev[0], "payment.failed", "payment", x.p.id, FX_T0 + 2);
	make_event(&ev[1], "reservation.cancelled", "reservation", b.r.id, FX_T0 + 2);
	ck_assert_ok(pay_finish(&x, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_RELEASE, FX_T0 + 2,
	                        BOOKING_EPAYMENT_DECLINED, ev, 2));
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_COMPENSATED);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("C1").status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(seat_of("C2").status, BOOKING_SEAT_FREE);
	ck_assert_uint_eq(event_count(), 3);
}
END_TEST

START_TEST(refund_of_a_confirmed_booking_frees_its_seats)
{
	bk b;
	pay x;
	booking_event_record evs[2], rev[2];
	booking_reservation *r;
	booking_payment *p;

	seed();
	hold_ok(&b, "alice", "D1", FX_T0);
	pay_begin_ok(&x, &b, "key-1", FX_T0 + 1);
	make_event(&evs[0], "payment.completed", "payment", x.p.id, FX_T0 + 2);
	make_event(&evs[1], "reservation.confirmed", "reservation", b.r.id, FX_T0 + 2);
	ck_assert_ok(pay_finish(&x, OUTCOME_SUCCEEDED, "", BOOKING_DECLINE_KEEP_HOLD, FX_T0 + 2, 0, evs, 2));
	make_event(&rev[0], "payment.refunded", "payment", x.p.id, FX_T0 + 3);
	make_event(&rev[1], "reservation.cancelled", "reservation", b.r.id, FX_T0 + 3);
	ck_assert_ok(refund_change(&x, FX_T0 + 3, rev, 2));
	p = get_payment(x.p.id);
	ck_assert_int_eq(p->status, BOOKING_PAYMENT_REFUNDED);
	ck_assert_int_eq(p->refunded_amount, p->amount);
	booking_payment_free(p);
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("D1").status, BOOKING_SEAT_FREE);
	ck_assert_uint_eq(event_count(), 5);
	/* twice: the payment guard fails, nothing written */
	make_event(&rev[0], "payment.refunded", "payment", x.p.id, FX_T0 + 4);
	make_event(&rev[1], "reservation.cancelled", "reservation", b.r.id, FX_T0 + 4);
	ck_assert_code(refund_change(&x, FX_T0 + 4, rev, 2), "INVALID_STATE");
	ck_assert_uint_eq(last_failed, 0);
	ck_assert_uint_eq(event_count(), 5);
}
END_TEST

START_TEST(refund_of_a_processing_payment_is_invalid_state)
{
	bk b;
	pay x;
	booking_event_record rev[1];

	seed();
	hold_ok(&b, "alice", "D2", FX_T0);
	pay_begin_ok(&x, &b, "key-1", FX_T0 + 1);
	make_event(&rev[0], "payment.refunded", "payment", x.p.id, FX_T0 + 3);
	ck_assert_code(refund_change(&x, FX_T0 + 3, rev, 1), "INVALID_STATE");
	ck_assert_uint_eq(last_failed, 0);
	ck_assert_int_eq(seat_of("D2").status, BOOKING_SEAT_HELD);
	snprintf(x.p.id, sizeof(x.p.id), "%s", "01900000-0000-7000-8000-000000000000");
	ck_assert_int_lt(refund_change(&x, FX_T0 + 3, rev, 1), 0);
}
END_TEST

typedef struct plist {
	char v[16][BOOKING_ID_SIZE];
	size_t n;
} plist;

static int payment_id_of(const booking_payment *p, void *payload)
{
	plist *l = payload;
	if (l->n < 16)
		snprintf(l->v[l->n], BOOKING_ID_SIZE, "%s", p->id);
	l->n++;
	return 0;
}

/* Recovery's read (PROCESSING, old enough); the status is the caller's: the store knows none. */
START_TEST(payment_list_by_status_gives_the_payments_in_that_status_oldest_first)
{
	bk b1, b2, b3;
	pay x1, x2, x3;
	plist l = {.n = 0};

	seed();
	hold_ok(&b1, "alice", "A1", FX_T0);
	hold_ok(&b2, "alice", "A2", FX_T0);
	hold_ok(&b3, "alice", "A3", FX_T0);
	pay_begin_ok(&x2, &b2, "k2", FX_T0 + 20);
	pay_begin_ok(&x1, &b1, "k1", FX_T0 + 10);
	pay_begin_ok(&x3, &b3, "k3", FX_T0 + 30);
	ck_assert_ok(pay_finish(&x3, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_KEEP_HOLD,
	                        FX_T0 + 31, BOOKING_EPAYMENT_DECLINED, NULL, 0));
	ck_assert_ok(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_PROCESSING, FX_T0 + 100, 10, payment_id_of, &l));
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0], x1.p.id);
	ck_assert_str_eq(l.v[1], x2.p.id);
	l.n = 0;
	ck_assert_ok(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_PROCESSING, FX_T0 + 10, 10, payment_id_of, &l));
	ck_assert_uint_eq(l.n, 1); /* created_at <= created_before */
	l.n = 0;
	ck_assert_ok(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_PROCESSING, FX_T0 + 100, 1, payment_id_of, &l));
	ck_assert_uint_eq(l.n, 1);
	/* another status: only the payments in it, by the same bound */
	l.n = 0;
	ck_assert_ok(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_FAILED, FX_T0 + 100, 10, payment_id_of, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], x3.p.id);
	l.n = 0;
	ck_assert_ok(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_FAILED, FX_T0 + 29, 10, payment_id_of, &l));
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ok(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_SUCCEEDED, FX_T0 + 100, 10, payment_id_of, &l));
	ck_assert_uint_eq(l.n, 0);
	ck_assert_code(st->ledger->payment_get(&(booking_payment *){NULL}, st, "01900000-0000-7000-8000-000000000000"),
	               "PAYMENT_NOT_FOUND");
}
END_TEST

static booking_store_payment_attempts attempts(const char *user, const char *key, const char *reservation_id,
                                               booking_payment_status status, int64_t since)
{
	booking_store_payment_attempts a;
	memset(&a, 0xff, sizeof(a));
	ck_assert_ok(st->ledger->payment_attempts(&a, st, user, key, reservation_id, status, since));
	return a;
}

/*
 * What the payment attempt limits read: whether a key was used, and the
 * payments in the status asked of a reservation, and of a user since a time.
 * The core asks for FAILED; the store counts whatever status it is given.
 */
START_TEST(payment_attempts_counts_the_payments_in_the_status_asked)
{
	bk b1, b2, b3;
	pay x1, x2, x3, x4;

	seed();
	hold_ok(&b1, "alice", "A1", FX_T0);
	hold_ok(&b2, "alice", "A2", FX_T0);
	hold_ok(&b3, "bob", "A3", FX_T0);
	pay_begin_ok(&x1, &b1, "k1", FX_T0 + 10);
	ck_assert_ok(pay_finish(&x1, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_KEEP_HOLD, FX_T0 + 11,
	                        BOOKING_EPAYMENT_DECLINED, NULL, 0));
	pay_begin_ok(&x2, &b1, "k2", FX_T0 + 20);
	ck_assert_ok(pay_finish(&x2, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_KEEP_HOLD, FX_T0 + 21,
	                        BOOKING_EPAYMENT_DECLINED, NULL, 0));
	pay_begin_ok(&x3, &b2, "k3", FX_T0 + 30);
	pay_begin_ok(&x4, &b3, "k1", FX_T0 + 40);
	ck_assert_ok(pay_finish(&x4, OUTCOME_DECLINED, "card_declined", BOOKING_DECLINE_KEEP_HOLD, FX_T0 + 41,
	                        BOOKING_EPAYMENT_DECLINED, NULL, 0));

	booking_store_payment_attempts a = attempts("alice", "k1", b1.r.id, BOOKING_PAYMENT_FAILED, FX_T0);
	ck_assert(a.key_used);
	ck_assert_uint_eq(a.reservation_count, 2);
	ck_assert_uint_eq(a.user_count, 2); /* bob's failure is not alice's */
	a = attempts("alice", "k9", b1.r.id, BOOKING_PAYMENT_FAILED, FX_T0 + 15);
	ck_assert(!a.key_used);
	ck_assert_uint_eq(a.reservation_count, 2); /* a reservation's count has no time bound */
	ck_assert_uint_eq(a.user_count, 1);    /* created at or after `since` */
	a = attempts("alice", "k9", b2.r.id, BOOKING_PAYMENT_FAILED, FX_T0);
	ck_assert_uint_eq(a.reservation_count, 0);
	ck_assert_uint_eq(a.user_count, 2);
	/* another status: the payments in it */
	a = attempts("alice", "k3", b2.r.id, BOOKING_PAYMENT_PROCESSING, FX_T0);
	ck_assert(a.key_used);
	ck_assert_uint_eq(a.reservation_count, 1);
	ck_assert_uint_eq(a.user_count, 1);
	a = attempts("alice", "k2", b1.r.id, BOOKING_PAYMENT_SUCCEEDED, FX_T0);
	ck_assert_uint_eq(a.reservation_count, 0);
	ck_assert_uint_eq(a.user_count, 0);
	a = attempts("bob", "k2", b3.r.id, BOOKING_PAYMENT_FAILED, FX_T0);
	ck_assert(!a.key_used); /* keys are per user */
	ck_assert_uint_eq(a.reservation_count, 1);
	ck_assert_uint_eq(a.user_count, 1);
}
END_TEST

/* --- outbox, cursors, inbox, dead letters --------------------------------- */

START_TEST(sequences_count_per_aggregate_and_positions_increase)
{
	bk a, b;
	booking_event_record ev;
	events_read *e = malloc(sizeof(*e));

	seed();
	hold_ok(&a, "alice", "A1", FX_T0);
	hold_ok(&b, "bob", "A2", FX_T0);
	ck_assert_ok(apply_status(a.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0 + 1, &ev, NULL));
	ck_assert_ok(apply_status(b.r.id, 1, BOOKING_RESERVATION_EXPIRED, FX_T0 + HOLD_MS, &ev, NULL));
	all_events(e);
	ck_assert_uint_eq(e->n, 4);
	ck_assert_str_eq(e->e[0].aggregate_id, a.r.id);
	ck_assert_int_eq(e->e[0].sequence, 1);
	ck_assert_str_eq(e->e[1].aggregate_id, b.r.id);
	ck_assert_int_eq(e->e[1].sequence, 1);
	ck_assert_int_eq(e->e[2].sequence, 2);
	ck_assert_int_eq(e->e[3].sequence, 2);
	for (size_t i = 1; i < e->n; i++)
		ck_assert_int_gt(e->e[i].position, e->e[i - 1].position);
	free(e);
}
END_TEST

START_TEST(outbox_read_pages_by_position)
{
	bk b[5];
	events_read *all = malloc(sizeof(*all)), *page = malloc(sizeof(*page));
	char labels[5][4] = {"A1", "A2", "A3", "A4", "A5"};

	seed();
	for (int i = 0; i < 5; i++)
		hold_ok(&b[i], "alice", labels[i], FX_T0 + i);
	all_events(all);
	ck_assert_uint_eq(all->n, 5);
	memset(page, 0, sizeof(*page));
	ck_assert_ok(st->outbox->outbox_read(st, all->e[1].position, 2, read_event, page));
	ck_assert_uint_eq(page->n, 2);
	ck_assert_str_eq(page->e[0].id, all->e[2].id);
	ck_assert_str_eq(page->e[1].id, all->e[3].id);
	memset(page, 0, sizeof(*page));
	ck_assert_ok(st->outbox->outbox_read(st, all->e[4].position, 10, read_event, page));
	ck_assert_uint_eq(page->n, 0);
	/* a non-zero return stops and is returned */
	memset(page, 0, sizeof(*page));
	page->stop_after = 2;
	ck_assert_int_eq(st->outbox->outbox_read(st, 0, 10, read_event, page), 42);
	ck_assert_uint_eq(page->n, 2);
	free(all);
	free(page);
}
END_TEST

START_TEST(outbox_unpublished_and_mark_published)
{
	bk b[3];
	events_read *e = malloc(sizeof(*e));
	char labels[3][4] = {"B1", "B2", "B3"};
	const char *mark[3];

	seed();
	for (int i = 0; i < 3; i++)
		hold_ok(&b[i], "alice", labels[i], FX_T0 + i);
	memset(e, 0, sizeof(*e));
	ck_assert_ok(st->outbox->outbox_unpublished(st, 2, read_event, e));
	ck_assert_uint_eq(e->n, 2);
	ck_assert_str_eq(e->e[0].id, b[0].ev.id);
	ck_assert_str_eq(e->e[1].id, b[1].ev.id);
	mark[0] = b[0].ev.id;
	mark[1] = "01900000-0000-7000-8000-000000000000"; /* unknown: ignored */
	mark[2] = b[2].ev.id;
	ck_assert_ok(st->outbox->outbox_mark_published(st, mark, 3));
	memset(e, 0, sizeof(*e));
	ck_assert_ok(st->outbox->outbox_unpublished(st, 10, read_event, e));
	ck_assert_uint_eq(e->n, 1);
	ck_assert_str_eq(e->e[0].id, b[1].ev.id);
	all_events(e);
	ck_assert(e->e[0].published);
	ck_assert(!e->e[1].published);
	ck_assert(e->e[2].published);
	ck_assert_ok(st->outbox->outbox_mark_published(st, mark, 0));
	free(e);
}
END_TEST

START_TEST(cursor_moves_by_compare_and_set)
{
	int64_t pos = -1;

	ck_assert_ok(st->outbox->cursor_get(&pos, st, "mailer"));
	ck_assert_int_eq(pos, 0);
	ck_assert_ok(st->outbox->cursor_advance(st, "mailer", 0, 5));
	ck_assert_ok(st->outbox->cursor_get(&pos, st, "mailer"));
	ck_assert_int_eq(pos, 5);
	ck_assert_code(st->outbox->cursor_advance(st, "mailer", 0, 9), "INVALID_STATE");
	ck_assert_ok(st->outbox->cursor_get(&pos, st, "mailer"));
	ck_assert_int_eq(pos, 5);
	ck_assert_ok(st->outbox->cursor_advance(st, "mailer", 5, 9));
	ck_assert_ok(st->outbox->cursor_get(&pos, st, "other"));
	ck_assert_int_eq(pos, 0);
	ck_assert_ok(st->outbox->cursor_get(&pos, st, "mailer"));
	ck_assert_int_eq(pos, 9);
}
END_TEST

typedef struct cas_race {
	pthread_barrier_t *barrier;
	int wins;
} cas_race;

static void *cas_once(void *p)
{
	cas_race *r = p;

	pthread_barrier_wait(r->barrier);
	for (int i = 0; i < 50; i++) {
		int64_t pos = 0;
		if (st->outbox->cursor_get(&pos, st, "race") == 0 && st->outbox->cursor_advance(st, "race", pos, pos + 1) == 0)
			r->wins++;
	}
	return NULL;
}

START_TEST(cursor_compare_and_set_lets_one_writer_win_each_step)
{
	pthread_barrier_t barrier;
	pthread_t t[4];
	cas_race r[4];
	int64_t pos = 0;
	int wins = 0;

	pthread_barrier_init(&barrier, NULL, 4);
	for (int i = 0; i < 4; i++) {
		r[i] = (cas_race){&barrier, 0};
		pthread_create(&t[i], NULL, cas_once, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		wins += r[i].wins;
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_ok(st->outbox->cursor_get(&pos, st, "race"));
	ck_assert_int_eq(pos, wins); /* every success moved it exactly one step */
}
END_TEST

START_TEST(inbox_records_each_event_once_per_group)
{
	char ev[BOOKING_ID_SIZE];
	bool seen = true;

	new_id(ev);
	ck_assert_ok(st->outbox->inbox_seen(&seen, st, "mailer", ev));
	ck_assert(!seen);
	ck_assert_ok(st->outbox->inbox_mark(st, "mailer", ev, FX_T0));
	ck_assert_ok(st->outbox->inbox_seen(&seen, st, "mailer", ev));
	ck_assert(seen);
	ck_assert_code(st->outbox->inbox_mark(st, "mailer", ev, FX_T0 + 1), "ALREADY_EXISTS");
	ck_assert_ok(st->outbox->inbox_seen(&seen, st, "audit", ev));
	ck_assert(!seen);
	ck_assert_ok(st->outbox->inbox_mark(st, "audit", ev, FX_T0));
}
END_TEST

typedef struct inbox_race {
	pthread_barrier_t *barrier;
	const char *event_id;
	int wins, exists, other;
} inbox_race;

static void *inbox_mark_once(void *p)
{
	inbox_race *r = p;
	int rc;

	pthread_barrier_wait(r->barrier);
	rc = st->outbox->inbox_mark(st, "race", r->event_id, FX_T0);
	if (rc == 0)
		r->wins++;
	else if (rc == BOOKING_EEXISTS)
		r->exists++;
	else
		r->other++;
	return NULL;
}

START_TEST(concurrent_inbox_marks_of_one_event_let_exactly_one_win)
{
	char ev[BOOKING_ID_SIZE];
	pthread_barrier_t barrier;
	pthread_t t[4];
	inbox_race r[4];
	int wins = 0, exists = 0;

	new_id(ev);
	pthread_barrier_init(&barrier, NULL, 4);
	for (int i = 0; i < 4; i++) {
		r[i] = (inbox_race){&barrier, ev, 0, 0, 0};
		pthread_create(&t[i], NULL, inbox_mark_once, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		wins += r[i].wins;
		exists += r[i].exists;
		ck_assert_int_eq(r[i].other, 0);
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_int_eq(wins, 1);
	ck_assert_int_eq(exists, 3);
}
END_TEST

typedef struct dls {
	char group[16][64], event[16][BOOKING_ID_SIZE], reason[16][64];
	int64_t at[16];
	size_t n;
} dls;

static int dead_letter_of(const char *group, const char *event_id, const char *reason, const char *envelope,
                          int64_t dead_at, void *p)
{
	dls *d = p;
	(void)envelope;
	if (d->n < 16) {
		snprintf(d->group[d->n], 64, "%s", group);
		snprintf(d->event[d->n], BOOKING_ID_SIZE, "%s", event_id);
		snprintf(d->reason[d->n], 64, "%s", reason);
		d->at[d->n] = dead_at;
	}
	d->n++;
	return 0;
}

START_TEST(dead_letters_are_idempotent_and_listed_oldest_first)
{
	char e1[BOOKING_ID_SIZE], e2[BOOKING_ID_SIZE];
	dls d;

	new_id(e1);
	new_id(e2);
	ck_assert_ok(st->outbox->dead_letter_put(st, "mailer", e2, "smtp down", "{\"id\":\"x\"}", FX_T0 + 5));
	ck_assert_ok(st->outbox->dead_letter_put(st, "mailer", e1, "bad address", "{}", FX_T0 + 9));
	ck_assert_ok(st->outbox->dead_letter_put(st, "mailer", e2, "smtp down again", "{}", FX_T0 + 20));
	ck_assert_ok(st->outbox->dead_letter_put(st, "audit", e1, "audit failed", "{}", FX_T0 + 1));
	memset(&d, 0, sizeof(d));
	ck_assert_ok(st->outbox->dead_letter_list(st, "mailer", dead_letter_of, &d));
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(d.event[0], e2);
	ck_assert_str_eq(d.reason[0], "smtp down");
	ck_assert_int_eq(d.at[0], FX_T0 + 5);
	ck_assert_str_eq(d.event[1], e1);
	memset(&d, 0, sizeof(d));
	ck_assert_ok(st->outbox->dead_letter_list(st, NULL, dead_letter_of, &d));
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(d.group[0], "audit");
	memset(&d, 0, sizeof(d));
	ck_assert_ok(st->outbox->dead_letter_list(st, "nobody", dead_letter_of, &d));
	ck_assert_uint_eq(d.n, 0);
}
END_TEST

/* --- scan ------------------------------------------------------------------ */

typedef struct tally {
	size_t seats, bookings, payments, idempotency, events, inbox;
	int stop_at_booking;
} tally;

static int t_seat(const char *sid, const booking_store_seat *s, void *p)
{
	(void)sid;
	(void)s;
	((tally *)p)->seats++;
	return 0;
}
static int t_booking(const booking_reservation *b, void *p)
{
	tally *t = p;
	(void)b;
	t->bookings++;
	return t->stop_at_booking && (int)t->bookings >= t->stop_at_booking ? 9 : 0;
}
static int t_payment(const booking_payment *x, void *p)
{
	(void)x;
	((tally *)p)->payments++;
	return 0;
}
static int t_idem(const booking_store_idempotency *r, void *p)
{
	(void)r;
	((tally *)p)->idempotency++;
	return 0;
}
static int t_event(const booking_event_record *e, void *p)
{
	(void)e;
	((tally *)p)->events++;
	return 0;
}
static int t_inbox(const booking_store_inbox *r, void *p)
{
	(void)r;
	((tally *)p)->inbox++;
	return 0;
}

START_TEST(scan_walks_every_table_and_skips_null_callbacks)
{
	bk a, b;
	pay x;
	booking_store_scan_cbs cbs = {t_seat, t_booking, t_payment, t_idem, t_event, t_inbox};
	booking_store_scan_cbs only_bookings = {NULL, t_booking, NULL, NULL, NULL, NULL};
	tally t;

	seed();
	hold_ok(&a, "alice", "A1", FX_T0);
	hold_ok(&b, "bob", "A2", FX_T0);
	pay_begin_ok(&x, &a, "k1", FX_T0 + 1);
	ck_assert_ok(st->outbox->inbox_mark(st, "mailer", a.ev.id, FX_T0));
	memset(&t, 0, sizeof(t));
	ck_assert_ok(st->scan(st, &cbs, &t));
	ck_assert_uint_eq(t.seats, 32);
	ck_assert_uint_eq(t.bookings, 2);
	ck_assert_uint_eq(t.payments, 1);
	ck_assert_uint_eq(t.idempotency, 1);
	ck_assert_uint_eq(t.events, 2);
	ck_assert_uint_eq(t.inbox, 1);
	memset(&t, 0, sizeof(t));
	ck_assert_ok(st->scan(st, &only_bookings, &t));
	ck_assert_uint_eq(t.bookings, 2);
	ck_assert_uint_eq(t.seats + t.payments + t.events, 0);
	memset(&t, 0, sizeof(t));
	t.stop_at_booking = 1;
	ck_assert_int_eq(st->scan(st, &cbs, &t), 9);
	ck_assert_uint_eq(t.bookings, 1);
}
END_TEST

/* --- the box office's primitives: catalog and ledger version 2 --------------- */

START_TEST(screen_insert_keeps_each_seats_column)
{
	char theater[BOOKING_ID_SIZE], screen[BOOKING_ID_SIZE];
	booking_screen s, *got = NULL;
	/* an aisle between A2 and A3 (columns 2 and 4); B1 gives none (0) */
	booking_seat seats[4] = {{.label = "A1", .category = "standard", .row = "A", .number = 1, .column = 1},
	                         {.label = "A2", .category = "standard", .row = "A", .number = 2, .column = 2},
	                         {.label = "A3", .category = "premium", .row = "A", .number = 3, .column = 4},
	                         {.label = "B1", .category = "standard", .row = "B", .number = 1, .column = 0}};
	booking_seat *ptrs[4] = {&seats[0], &seats[1], &seats[2], &seats[3]};
	static const int want[4] = {1, 2, 4, 0};

	add_theater(theater, "Lyon");
	memset(&s, 0, sizeof(s));
	new_id(s.id);
	snprintf(s.theater_id, sizeof(s.theater_id), "%s", theater);
	s.name = (char *)"Aisles";
	s.seat_count = 4;
	s.seats = ptrs;
	s.created_at = FX_T0;
	ck_assert_ok(st->catalog->screen_insert(st, &s));
	snprintf(screen, sizeof(screen), "%s", s.id);
	ck_assert_ok(st->catalog->screen_get(&got, st, screen));
	ck_assert_uint_eq(got->seat_count, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_str_eq(got->seats[i]->label, seats[i].label);
		ck_assert_str_eq(got->seats[i]->category, seats[i].category);
		ck_assert_int_eq(got->seats[i]->column, want[i]);
	}
	booking_screen_free(got);
}
END_TEST

/* The layout position of a seat of the seeded "A-C:10,D:2:premium" ("A1" 0, "B2" 11, "D1" 30). */
static int seeded_position(const char *label)
{
	return (label[0] - 'A') * 10 + atoi(label + 1) - 1;
}

/* Give every seat of `b` its layout position, as the core hands seats over. */
static void bk_positions(bk *b)
{
	for (size_t i = 0; i < b->r.seat_count; i++)
		b->seats[i].position = seeded_position(b->seats[i].label);
}

/* A seat write that expects `label` claimable and makes it HELD by `holder` until `until`. */
static booking_store_seat_write sw_claim(const char *label, const char *holder, int64_t until)
{
	booking_store_seat_write w = {.label = label,
	                              .expect = BOOKING_SEAT_EXPECT_CLAIMABLE,
	                              .write = true,
	                              .status = BOOKING_SEAT_HELD,
	                              .reservation_id = holder,
	                              .hold_until = until};
	return w;
}

/* A guard only: `label` has status `status` and holder `holder` (NULL or "": none). */
static booking_store_seat_write sw_expect(const char *label, booking_seat_status status, const char *holder)
{
	booking_store_seat_write w = {.label = label,
	                              .expect = BOOKING_SEAT_EXPECT_STATUS,
	                              .expect_status = status,
	                              .expect_reservation = holder};
	return w;
}

/* `w`, now also writing status `to`, holder `holder`, hold_until `until` and note `note`. */
static booking_store_seat_write sw_then(booking_store_seat_write w, booking_seat_status to, const char *holder,
                                        int64_t until, const char *note)
{
	w.write = true;
	w.status = to;
	w.reservation_id = holder;
	w.hold_until = until;
	w.note = note;
	return w;
}

/* One change over the seeded showtime: seat writes at `now`, maybe an insert and a key, and the event `ev`. */
static int apply_v2(size_t *failed, int64_t now, const booking_store_seat_write *w, size_t n,
                    const booking_reservation *insert, const booking_store_key_record *key,
                    const booking_event_record *ev)
{
	booking_store_change c = {.showtime_id = showtime_id,
	                          .now = now,
	                          .seat_write_count = n,
	                          .seat_writes = w,
	                          .insert = insert,
	                          .key = key,
	                          .event_count = ev ? 1 : 0,
	                          .events = ev};
	return st->ledger->apply(failed, st, &c);
}

/* A hold made by apply, as the best-available hold makes it: claim each seat of `b` and insert it. */
static int claim_at(bk *b, int64_t now, const booking_store_key_record *key, size_t *failed)
{
	booking_store_seat_write w[16];

	bk_positions(b);
	for (size_t i = 0; i < b->r.seat_count; i++)
		w[i] = sw_claim(b->seats[i].label, b->r.id, b->r.expires_at);
	return apply_v2(failed, now, w, b->r.seat_count, &b->r, key, &b->ev);
}

static void claim_ok(bk *b, const char *user, const char *labels, int64_t now)
{
	make_booking(b, user, labels, now);
	ck_assert_ok(claim_at(b, now, NULL, NULL));
}

static void all_seats(seats_read *r)
{
	r->n = 0;
	ck_assert_ok(st->catalog->seat_list(st, showtime_id, read_seat, r));
	ck_assert_uint_le(r->n, 64);
}

/* Every seat row as it was: status, holder, hold time, note and version. */
static void assert_seats_unchanged(const seats_read *before)
{
	seats_read now;

	all_seats(&now);
	ck_assert_uint_eq(now.n, before->n);
	for (size_t i = 0; i < now.n; i++) {
		const booking_store_seat *a = &before->s[i], *b = &now.s[i];
		ck_assert_str_eq(b->label, a->label);
		ck_assert_msg(b->status == a->status && strcmp(b->reservation_id, a->reservation_id) == 0 &&
		                  b->hold_until == a->hold_until && b->version == a->version &&
		                  strcmp(b->note, a->note) == 0,
		              "seat %s changed", a->label);
	}
}

static void assert_no_reservation(const char *id)
{
	booking_reservation *r = NULL;
	ck_assert_code(st->ledger->reservation_get(&r, st, id), "RESERVATION_NOT_FOUND");
	ck_assert_ptr_null(r);
}

static void assert_no_key(const char *user, const char *key)
{
	booking_store_idempotency_record rec;
	ck_assert_code(st->ledger->idempotency_get(&rec, st, user, key), "NOT_FOUND");
}

START_TEST(seat_writes_claim_the_claimable_seats_for_the_reservation_they_insert)
{
	bk old, b;
	booking_reservation *r;
	events_read *ev = malloc(sizeof(*ev));
	seats_read before;
	size_t failed = 99;

	seed();
	hold_ok(&old, "bob", "B1", FX_T0);
	all_seats(&before);
	/* A1 and A2 are FREE, B1's hold runs out exactly now (hold_until <= now: claimable) */
	make_booking(&b, "alice", "A1,A2,B1", FX_T0 + HOLD_MS);
	ck_assert_ok(claim_at(&b, FX_T0 + HOLD_MS, NULL, &failed));
	ck_assert_uint_eq(failed, 99); /* untouched on success */
	for (size_t i = 0; i < 3; i++) {
		booking_store_seat s = seat_of(b.seats[i].label);
		ck_assert_int_eq(s.status, BOOKING_SEAT_HELD);
		ck_assert_str_eq(s.reservation_id, b.r.id);
		ck_assert_int_eq(s.hold_until, b.r.expires_at);
		ck_assert_str_eq(s.note, "");
		ck_assert_int_eq(s.version, before.s[seeded_position(b.seats[i].label)].version + 1);
	}
	ck_assert_int_eq(seat_of("A3").status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(seat_of("A3").version, before.s[2].version);

	/* the inserted reservation, its seats with their positions, and its event */
	r = get_booking(b.r.id);
	ck_assert_str_eq(r->user_id, "alice");
	ck_assert_str_eq(r->showtime_id, showtime_id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(r->version, 1);
	ck_assert_int_eq(r->expires_at, FX_T0 + 2 * HOLD_MS);
	ck_assert_int_eq(r->total_amount, 3 * FX_PRICE);
	ck_assert_uint_eq(r->seat_count, 3);
	for (size_t i = 0; i < 3; i++) {
		bool found = false;
		for (size_t k = 0; k < 3; k++)
			if (strcmp(r->seats[k]->label, b.seats[i].label) == 0) {
				ck_assert_int_eq(r->seats[k]->position, b.seats[i].position);
				found = true;
			}
		ck_assert_msg(found, "seat %s missing", b.seats[i].label);
	}
	booking_reservation_free(r);
	all_events(ev);
	ck_assert_uint_eq(ev->n, 2);
	ck_assert_str_eq(ev->e[1].id, b.ev.id);
	ck_assert_str_eq(ev->e[1].aggregate_id, b.r.id);
	ck_assert_int_eq(ev->e[1].sequence, 1);
	free(ev);

	/* one millisecond early, a live hold is not claimable */
	bk early;
	make_booking(&early, "carol", "A1", FX_T0 + 2 * HOLD_MS - 1);
	ck_assert_code(claim_at(&early, FX_T0 + 2 * HOLD_MS - 1, NULL, NULL), "INVALID_STATE");
	ck_assert_str_eq(seat_of("A1").reservation_id, b.r.id);
}
END_TEST

/*
 * A change whose seat write `bad` (after A1's, which holds) does not hold at
 * `now`: failed guard 1 + 1 (after one guard, which holds), nothing written.
 */
static void assert_refused(const char *bad, int64_t now)
{
	bk b;
	seats_read before;
	size_t failed = 99, events = event_count();
	booking_store_key_record key = {"alice", "hold-key", "hash-1", NULL};
	booking_store_seat_write w[2];
	booking_store_guard g = {BOOKING_GUARD_KEY_UNUSED, "dave", 0, "never-used"};
	booking_store_change c;

	all_seats(&before);
	make_booking(&b, "alice", "A1", now);
	bk_positions(&b);
	snprintf(b.seats[1].label, BOOKING_LABEL_SIZE, "%s", bad);
	b.seats[1].position = 31;
	b.r.seat_count = 2;
	key.reservation_id = b.r.id;
	w[0] = sw_claim("A1", b.r.id, b.r.expires_at);
	w[1] = sw_claim(bad, b.r.id, b.r.expires_at);
	c = (booking_store_change){.guard_count = 1,
	                           .guards = &g,
	                           .showtime_id = showtime_id,
	                           .now = now,
	                           .seat_write_count = 2,
	                           .seat_writes = w,
	                           .insert = &b.r,
	                           .key = &key,
	                           .event_count = 1,
	                           .events = &b.ev};
	ck_assert_code(st->ledger->apply(&failed, st, &c), "INVALID_STATE");
	ck_assert_msg(failed == 2, "seat %s: failed guard %zu, not 2", bad, failed);
	assert_seats_unchanged(&before);
	assert_no_reservation(b.r.id);
	assert_no_key("alice", "hold-key");
	ck_assert_uint_eq(event_count(), events);

	/* a guard that fails is reported before any seat write */
	g = (booking_store_guard){BOOKING_GUARD_RESERVATION_VERSION, "01900000-0000-7000-8000-000000000000", 1, NULL};
	failed = 99;
	ck_assert_code(st->ledger->apply(&failed, st, &c), "INVALID_STATE");
	ck_assert_uint_eq(failed, 0);
	assert_seats_unchanged(&before);
	ck_assert_uint_eq(event_count(), events);
}

START_TEST(a_seat_write_that_does_not_hold_is_failed_guard_count_plus_its_index_and_writes_nothing)
{
	bk live, sold;
	booking_event_record ev;

	seed();
	/* a live hold */
	hold_ok(&live, "bob", "B1", FX_T0);
	assert_refused("B1", FX_T0 + 1);
	/* a sold seat, even long after its hold time */
	hold_ok(&sold, "bob", "B2", FX_T0);
	make_event(&ev, "reservation.confirmed", "reservation", sold.r.id, FX_T0 + 1);
	booking_store_seat_move sell = {sold.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_SOLD, 0};
	booking_store_change c = {.seats = &sell, .event_count = 1, .events = &ev};
	ck_assert_ok(st->ledger->apply(NULL, st, &c));
	assert_refused("B2", FX_T0 + 10 * HOLD_MS);
	/* a blocked seat */
	booking_store_seat_write block =
	    sw_then(sw_expect("B3", BOOKING_SEAT_FREE, NULL), BOOKING_SEAT_BLOCKED, NULL, 0, "press");
	make_event(&ev, "seats.blocked", "showtime", showtime_id, FX_T0 + 2);
	ck_assert_ok(apply_v2(NULL, FX_T0 + 2, &block, 1, NULL, NULL, &ev));
	assert_refused("B3", FX_T0 + 10 * HOLD_MS);
	/* a seat the showtime does not have */
	assert_refused("Z9", FX_T0 + 3);
	/* and the claims that do hold still apply afterwards */
	bk fine;
	claim_ok(&fine, "alice", "A1,A2", FX_T0 + 4);
	ck_assert_str_eq(seat_of("A2").reservation_id, fine.r.id);
}
END_TEST

START_TEST(seat_writes_expecting_a_status_compare_the_status_and_the_holder)
{
	bk b;
	booking_event_record ev;
	seats_read before;
	size_t failed = 99, events;

	seed();
	hold_ok(&b, "alice", "A1", FX_T0);
	struct {
		booking_store_seat_write w;
		bool holds;
	} cases[] = {
		{sw_expect("A1", BOOKING_SEAT_HELD, b.r.id), true},
		{sw_expect("A1", BOOKING_SEAT_HELD, "01900000-0000-7000-8000-0000000000aa"), false},
		{sw_expect("A1", BOOKING_SEAT_HELD, NULL), false},    /* it has a holder */
		{sw_expect("A1", BOOKING_SEAT_HELD, ""), false},
		{sw_expect("A1", BOOKING_SEAT_SOLD, b.r.id), false},
		{sw_expect("A2", BOOKING_SEAT_FREE, NULL), true},
		{sw_expect("A2", BOOKING_SEAT_FREE, ""), true},
		{sw_expect("A2", BOOKING_SEAT_FREE, b.r.id), false}, /* it has none */
		{sw_expect("A2", BOOKING_SEAT_HELD, NULL), false},
		{sw_expect("Z9", BOOKING_SEAT_FREE, NULL), false},   /* no such seat */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* write = false: a guard only; the change's event tells whether it applied */
		all_seats(&before);
		events = event_count();
		make_event(&ev, "showtime.checked", "showtime", showtime_id, FX_T0 + 1 + (int64_t)i);
		failed = 99;
		int rc = apply_v2(&failed, FX_T0 + 1, &cases[i].w, 1, NULL, NULL, &ev);
		if (cases[i].holds) {
			ck_assert_msg(rc == 0, "case %zu: %s", i, booking_error_name(rc));
			ck_assert_uint_eq(event_count(), events + 1);
		} else {
			ck_assert_msg(rc == BOOKING_EINVALID_STATE, "case %zu: %s", i, booking_error_name(rc));
			ck_assert_uint_eq(failed, 0);
			ck_assert_uint_eq(event_count(), events);
		}
		assert_seats_unchanged(&before);
	}
	/* hold_until is not compared: a hold whose time is up is still HELD by its reservation */
	booking_store_seat_write w = sw_expect("A1", BOOKING_SEAT_HELD, b.r.id);
	make_event(&ev, "showtime.checked", "showtime", showtime_id, FX_T0 + 100);
	ck_assert_ok(apply_v2(NULL, FX_T0 + 10 * HOLD_MS, &w, 1, NULL, NULL, &ev));
	/* and written: the values given, version + 1 */
	all_seats(&before);
	w = sw_then(sw_expect("A1", BOOKING_SEAT_HELD, b.r.id), BOOKING_SEAT_FREE, NULL, 0, NULL);
	make_event(&ev, "reservation.cancelled", "reservation", b.r.id, FX_T0 + 101);
	ck_assert_ok(apply_v2(NULL, FX_T0 + 101, &w, 1, NULL, NULL, &ev));
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
	ck_assert_str_eq(seat_of("A1").reservation_id, "");
	ck_assert_int_eq(seat_of("A1").hold_until, 0);
	ck_assert_int_eq(seat_of("A1").version, before.s[0].version + 1);
}
END_TEST

static int scan_seat_of(const char *sid, const booking_store_seat *s, void *p)
{
	booking_store_seat *want = p;
	if (strcmp(sid, showtime_id) == 0 && strcmp(s->label, want->label) == 0)
		*want = *s;
	return 0;
}

START_TEST(blocked_seats_keep_their_note_in_seat_list_and_scan_until_unblocked)
{
	static const char long_note[] = "a-note-of-thirty-one-bytes-long"; /* the most a note holds */
	booking_event_record ev;
	seats_read before;
	booking_store_seat a5, scanned;
	booking_store_scan_cbs cbs = {.showtime_seat = scan_seat_of};
	bk b;

	ck_assert_uint_eq(strlen(long_note), BOOKING_CATEGORY_SIZE - 1);
	seed();
	all_seats(&before);
	booking_store_seat_write w[2] = {
		sw_then(sw_expect("A5", BOOKING_SEAT_FREE, NULL), BOOKING_SEAT_BLOCKED, NULL, 0, "wheelchair"),
		sw_then(sw_expect("B7", BOOKING_SEAT_FREE, ""), BOOKING_SEAT_BLOCKED, "", 0, long_note)};
	make_event(&ev, "seats.blocked", "showtime", showtime_id, FX_T0 + 1);
	ck_assert_ok(apply_v2(NULL, FX_T0 + 1, w, 2, NULL, NULL, &ev));
	a5 = seat_of("A5");
	ck_assert_int_eq(a5.status, BOOKING_SEAT_BLOCKED);
	ck_assert_str_eq(a5.note, "wheelchair");
	ck_assert_str_eq(a5.reservation_id, "");
	ck_assert_int_eq(a5.hold_until, 0);
	ck_assert_int_eq(a5.version, before.s[4].version + 1);
	ck_assert_str_eq(seat_of("B7").note, long_note);
	memset(&scanned, 0, sizeof(scanned));
	snprintf(scanned.label, sizeof(scanned.label), "A5");
	ck_assert_ok(st->scan(st, &cbs, &scanned));
	ck_assert_int_eq(scanned.status, BOOKING_SEAT_BLOCKED);
	ck_assert_str_eq(scanned.note, "wheelchair");

	/* neither a hold nor a claim takes a blocked seat */
	make_booking(&b, "alice", "A4,A5", FX_T0 + 2);
	ck_assert_code(hold_at(&b, FX_T0 + 2, NULL, NULL), "SEAT_ALREADY_BOOKED");
	ck_assert_code(claim_at(&b, FX_T0 + 2, NULL, NULL), "INVALID_STATE");

	/* unblock: FREE again, the note cleared */
	w[0] = sw_then(sw_expect("A5", BOOKING_SEAT_BLOCKED, NULL), BOOKING_SEAT_FREE, NULL, 0, NULL);
	make_event(&ev, "seats.unblocked", "showtime", showtime_id, FX_T0 + 3);
	ck_assert_ok(apply_v2(NULL, FX_T0 + 3, w, 1, NULL, NULL, &ev));
	a5 = seat_of("A5");
	ck_assert_int_eq(a5.status, BOOKING_SEAT_FREE);
	ck_assert_str_eq(a5.note, "");
	ck_assert_int_eq(a5.version, before.s[4].version + 2);
	ck_assert_int_eq(seat_of("B7").status, BOOKING_SEAT_BLOCKED);
	memset(&scanned, 0, sizeof(scanned));
	snprintf(scanned.label, sizeof(scanned.label), "A5");
	ck_assert_ok(st->scan(st, &cbs, &scanned));
	ck_assert_int_eq(scanned.status, BOOKING_SEAT_FREE);
	ck_assert_str_eq(scanned.note, "");
	claim_ok(&b, "alice", "A4,A5", FX_T0 + 4);
}
END_TEST

typedef struct states_read {
	booking_store_seat_state s[64];
	size_t n;
} states_read;

static int read_state(const booking_store_seat_state *seat, void *p)
{
	states_read *r = p;
	if (r->n < 64)
		r->s[r->n] = *seat;
	r->n++;
	return 0;
}

/* The row of `label` among `r`, NULL when it is not there; fails when it is there twice. */
static const booking_store_seat_state *state_of(const states_read *r, const char *label)
{
	const booking_store_seat_state *found = NULL;
	for (size_t i = 0; i < r->n && i < 64; i++)
		if (strcmp(r->s[i].label, label) == 0) {
			ck_assert_ptr_null(found);
			found = &r->s[i];
		}
	return found;
}

START_TEST(seat_states_hands_on_each_row_not_in_the_status_given_as_seat_list_has_it)
{
	booking_event_record ev;
	seats_read all;
	states_read r = {.n = 0};
	bk b;

	seed();
	hold_ok(&b, "alice", "A1,A2", FX_T0 + 1);
	booking_store_seat_write w = sw_then(sw_expect("A5", BOOKING_SEAT_FREE, NULL), BOOKING_SEAT_BLOCKED, NULL, 0, "press");
	make_event(&ev, "seats.blocked", "showtime", showtime_id, FX_T0 + 2);
	ck_assert_ok(apply_v2(NULL, FX_T0 + 2, &w, 1, NULL, NULL, &ev));
	all_seats(&all);

	/* all but the FREE rows: the two held, the blocked one, each once, as seat_list gives them */
	ck_assert_ok(st->catalog->seat_states(st, showtime_id, BOOKING_SEAT_FREE, read_state, &r));
	ck_assert_uint_eq(r.n, 3);
	for (size_t i = 0; i < all.n; i++) {
		const booking_store_seat_state *x = state_of(&r, all.s[i].label);
		if (all.s[i].status == BOOKING_SEAT_FREE) {
			ck_assert_ptr_null(x);
			continue;
		}
		ck_assert_ptr_nonnull(x);
		ck_assert_int_eq(x->status, all.s[i].status);
		ck_assert_str_eq(x->reservation_id, all.s[i].reservation_id);
		ck_assert_int_eq(x->hold_until, all.s[i].hold_until);
		ck_assert_str_eq(x->note, all.s[i].note);
	}
	ck_assert_int_eq(state_of(&r, "A1")->status, BOOKING_SEAT_HELD);
	ck_assert_str_eq(state_of(&r, "A2")->reservation_id, b.r.id);
	ck_assert_int_eq(state_of(&r, "A2")->hold_until, b.r.expires_at);
	ck_assert_str_eq(state_of(&r, "A5")->note, "press");

	/* all but the HELD ones: every other row */
	r.n = 0;
	ck_assert_ok(st->catalog->seat_states(st, showtime_id, BOOKING_SEAT_HELD, read_state, &r));
	ck_assert_uint_eq(r.n, all.n - 2);
	ck_assert_ptr_null(state_of(&r, "A1"));
	ck_assert_int_eq(state_of(&r, "A5")->status, BOOKING_SEAT_BLOCKED);
	ck_assert_int_eq(state_of(&r, "A3")->status, BOOKING_SEAT_FREE);

	/* a showtime the store does not have: no rows */
	r.n = 0;
	ck_assert_ok(st->catalog->seat_states(st, "no-such-showtime", BOOKING_SEAT_FREE, read_state, &r));
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(an_inserted_reservation_keeps_its_seats_and_a_duplicate_id_writes_nothing)
{
	bk b, again;
	booking_reservation *r;
	seats_read before;
	size_t events;

	seed();
	/* an insert alone: the seats are the change's other business */
	make_booking(&b, "alice", "A10,B2,D1", FX_T0);
	bk_positions(&b);
	ck_assert_ok(apply_v2(NULL, FX_T0, NULL, 0, &b.r, NULL, &b.ev));
	r = get_booking(b.r.id);
	size_t checked = 0;
	check_positions(r, &checked);
	ck_assert_int_eq(r->created_at, FX_T0);
	ck_assert_int_eq(r->version, 1);
	booking_reservation_free(r);
	ck_assert_ok(st->ledger->reservation_list_by_user(st, "alice", 0, NULL, 10, check_positions, &checked));
	ck_assert_uint_eq(checked, 2);

	/* the same id again, with seat writes that hold: EEXISTS, nothing written */
	all_seats(&before);
	events = event_count();
	again = b;
	bk_point(&again);
	again.r.seat_count = 1;
	snprintf(again.seats[0].label, BOOKING_LABEL_SIZE, "C5");
	booking_uuid_v7(again.ev.id, FX_T0 + 1);
	ck_assert_code(claim_at(&again, FX_T0 + 1, NULL, NULL), "ALREADY_EXISTS");
	assert_seats_unchanged(&before);
	ck_assert_uint_eq(event_count(), events);
	r = get_booking(b.r.id);
	ck_assert_uint_eq(r->seat_count, 3);
	booking_reservation_free(r);
}
END_TEST

START_TEST(a_holds_key_reads_back_as_its_idempotency_record_once_per_user_and_key)
{
	bk b, twin, theirs;
	booking_store_idempotency_record rec;
	booking_store_key_record key = {"alice", "key-1", "hash-1", NULL};
	seats_read before;
	size_t events;

	seed();
	make_booking(&b, "alice", "A1", FX_T0);
	key.reservation_id = b.r.id;
	ck_assert_ok(claim_at(&b, FX_T0, &key, NULL));
	memset(&rec, 0, sizeof(rec));
	ck_assert_ok(st->ledger->idempotency_get(&rec, st, "alice", "key-1"));
	ck_assert_str_eq(rec.payment_id, b.r.id);
	ck_assert_str_eq(rec.request_hash, "hash-1");
	ck_assert(rec.completed);
	ck_assert_int_eq(rec.replay_error, 0);

	/* a twin request of (alice, key-1): EEXISTS, and nothing of it is written */
	all_seats(&before);
	events = event_count();
	make_booking(&twin, "alice", "A2", FX_T0 + 1);
	booking_store_key_record twin_key = {"alice", "key-1", "hash-2", twin.r.id};
	ck_assert_code(claim_at(&twin, FX_T0 + 1, &twin_key, NULL), "ALREADY_EXISTS");
	assert_seats_unchanged(&before);
	assert_no_reservation(twin.r.id);
	ck_assert_uint_eq(event_count(), events);
	ck_assert_ok(st->ledger->idempotency_get(&rec, st, "alice", "key-1"));
	ck_assert_str_eq(rec.payment_id, b.r.id);
	ck_assert_str_eq(rec.request_hash, "hash-1");

	/* keys are per user */
	make_booking(&theirs, "bob", "A3", FX_T0 + 2);
	booking_store_key_record bob_key = {"bob", "key-1", "hash-3", theirs.r.id};
	ck_assert_ok(claim_at(&theirs, FX_T0 + 2, &bob_key, NULL));
	ck_assert_ok(st->ledger->idempotency_get(&rec, st, "bob", "key-1"));
	ck_assert_str_eq(rec.payment_id, theirs.r.id);

	/* one table of keys: a payment cannot start under a hold's key, nor a hold take a payment's key */
	pay x;
	make_payment(&x, &b, "alice", "key-1", "hash-p", FX_T0 + 3);
	booking_store_payment_start start = {&x.p, "alice", "key-1", "hash-p"};
	booking_store_change c = {.start = &start};
	ck_assert_code(st->ledger->apply(NULL, st, &c), "ALREADY_EXISTS");
	booking_store_guard unused = {BOOKING_GUARD_KEY_UNUSED, "alice", 0, "key-1"};
	size_t failed = 99;
	c = (booking_store_change){.guard_count = 1, .guards = &unused};
	ck_assert_code(st->ledger->apply(&failed, st, &c), "INVALID_STATE");
	ck_assert_uint_eq(failed, 0);
	pay_begin_ok(&x, &b, "key-2", FX_T0 + 4);
	make_booking(&twin, "alice", "A4", FX_T0 + 5);
	booking_store_key_record paid_key = {"alice", "key-2", "hash-4", twin.r.id};
	ck_assert_code(claim_at(&twin, FX_T0 + 5, &paid_key, NULL), "ALREADY_EXISTS");
	assert_no_reservation(twin.r.id);
	ck_assert_int_eq(seat_of("A4").status, BOOKING_SEAT_FREE);
	ck_assert_ok(st->ledger->idempotency_get(&rec, st, "alice", "key-2"));
	ck_assert_str_eq(rec.payment_id, x.p.id);
	ck_assert(!rec.completed);
}
END_TEST

START_TEST(reservation_set_gives_a_new_expiry_and_new_seats_and_total)
{
	bk b;
	booking_reservation *r;
	booking_event_record ev;
	size_t failed = 99;

	seed();
	claim_ok(&b, "alice", "A1,A2", FX_T0);

	/* extend: a new expires_at, the seats' hold_until with it (a move), version + 1 */
	booking_store_guard g = {BOOKING_GUARD_RESERVATION_VERSION, b.r.id, 1, NULL};
	booking_store_reservation_set set = {.id = b.r.id,
	                                     .status = BOOKING_RESERVATION_PENDING,
	                                     .saga = BOOKING_SAGA_SEATS_RESERVED,
	                                     .updated_at = FX_T0 + 1,
	                                     .expires_at = FX_T0 + 2 * HOLD_MS};
	booking_store_seat_move rehold = {b.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_HELD, FX_T0 + 2 * HOLD_MS};
	make_event(&ev, "reservation.extended", "reservation", b.r.id, FX_T0 + 1);
	booking_store_change c = {
		.guard_count = 1, .guards = &g, .reservation = &set, .seats = &rehold, .event_count = 1, .events = &ev};
	ck_assert_ok(st->ledger->apply(NULL, st, &c));
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->expires_at, FX_T0 + 2 * HOLD_MS);
	ck_assert_int_eq(r->version, 2);
	ck_assert_int_eq(r->updated_at, FX_T0 + 1);
	ck_assert_uint_eq(r->seat_count, 2);
	ck_assert_int_eq(r->total_amount, 2 * FX_PRICE);
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("A2").hold_until, FX_T0 + 2 * HOLD_MS);

	/* change seats: A1, A2 given back, B1, B2, D1 claimed; the reservation's seats and total replaced */
	booking_seat_ref refs[3] = {{.label = "B1", .position = 10}, {.label = "B2", .position = 11},
	                            {.label = "D1", .position = 30}};
	booking_seat_ref *const ref_ptrs[3] = {&refs[0], &refs[1], &refs[2]};
	booking_store_seat_write w[5] = {
		sw_then(sw_expect("A1", BOOKING_SEAT_HELD, b.r.id), BOOKING_SEAT_FREE, NULL, 0, NULL),
		sw_then(sw_expect("A2", BOOKING_SEAT_HELD, b.r.id), BOOKING_SEAT_FREE, NULL, 0, NULL),
		sw_claim("B1", b.r.id, FX_T0 + 2 * HOLD_MS),
		sw_claim("B2", b.r.id, FX_T0 + 2 * HOLD_MS),
		sw_claim("D1", b.r.id, FX_T0 + 2 * HOLD_MS),
	};
	g.value = 2;
	set = (booking_store_reservation_set){.id = b.r.id,
	                                      .status = BOOKING_RESERVATION_PENDING,
	                                      .saga = BOOKING_SAGA_SEATS_RESERVED,
	                                      .updated_at = FX_T0 + 2,
	                                      .seat_count = 3,
	                                      .seats = ref_ptrs,
	                                      .total_amount = 4 * FX_PRICE};
	make_event(&ev, "reservation.seats_changed", "reservation", b.r.id, FX_T0 + 2);
	c = (booking_store_change){.guard_count = 1,
	                           .guards = &g,
	                           .reservation = &set,
	                           .showtime_id = showtime_id,
	                           .now = FX_T0 + 2,
	                           .seat_write_count = 5,
	                           .seat_writes = w,
	                           .event_count = 1,
	                           .events = &ev};
	ck_assert_ok(st->ledger->apply(&failed, st, &c));
	r = get_booking(b.r.id);
	ck_assert_int_eq(r->version, 3);
	ck_assert_int_eq(r->expires_at, FX_T0 + 2 * HOLD_MS); /* 0: unchanged */
	ck_assert_int_eq(r->total_amount, 4 * FX_PRICE);
	ck_assert_uint_eq(r->seat_count, 3);
	for (size_t i = 0; i < 3; i++) {
		bool found = false;
		for (size_t k = 0; k < 3; k++)
			if (strcmp(r->seats[k]->label, refs[i].label) == 0) {
				ck_assert_int_eq(r->seats[k]->position, refs[i].position);
				found = true;
			}
		ck_assert_msg(found, "seat %s missing", refs[i].label);
	}
	booking_reservation_free(r);
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
	ck_assert_str_eq(seat_of("A1").reservation_id, "");
	ck_assert_int_eq(seat_of("D1").status, BOOKING_SEAT_HELD);
	ck_assert_str_eq(seat_of("D1").reservation_id, b.r.id);

	/* the guards and moves that follow go by the new seats */
	booking_store_guard owned = {BOOKING_GUARD_SEATS_OWNED, b.r.id, BOOKING_SEAT_HELD, NULL};
	booking_store_seat_move sell = {b.r.id, BOOKING_SEAT_HELD, BOOKING_SEAT_SOLD, 0};
	make_event(&ev, "reservation.confirmed", "reservation", b.r.id, FX_T0 + 3);
	c = (booking_store_change){.guard_count = 1, .guards = &owned, .seats = &sell, .event_count = 1, .events = &ev};
	ck_assert_ok(st->ledger->apply(NULL, st, &c));
	ck_assert_int_eq(seat_of("B1").status, BOOKING_SEAT_SOLD);
	ck_assert_int_eq(seat_of("D1").status, BOOKING_SEAT_SOLD);
	ck_assert_int_eq(seat_of("A1").status, BOOKING_SEAT_FREE);
}
END_TEST

static int stop_reservations(const booking_reservation *b, void *p)
{
	(void)b;
	(*(int *)p)++;
	return 7;
}

/* What reservation_list_by_showtime gives, collected. */
static int list_showtime(const char *sid, booking_reservation_status status, const key_of *after, size_t max,
                         blist *l)
{
	l->n = 0;
	return st->ledger->reservation_list_by_showtime(st, sid, status, after ? after->created_at : 0,
	                                                after ? after->id : NULL, max, booking_id_of, l);
}

START_TEST(reservations_of_a_showtime_come_newest_first_in_a_status_and_in_pages)
{
	/* three share a millisecond: the id orders them */
	static const int64_t at[6] = {0, 1, 1, 1, 2, 3};
	static const char *const seats[6] = {"A1", "A2", "A3", "A4", "A5", "A6"};
	char other_showtime[BOOKING_ID_SIZE];
	bk b[6], elsewhere;
	key_of want[6], pending[5];
	blist l;
	booking_event_record ev;
	size_t np = 0;

	seed();
	for (int i = 0; i < 6; i++) {
		hold_ok(&b[i], i % 2 ? "alice" : "bob", seats[i], FX_T0 + at[i]);
		want[i].created_at = b[i].r.created_at;
		memcpy(want[i].id, b[i].r.id, BOOKING_ID_SIZE);
	}
	ck_assert_ok(insert_showtime(other_showtime, movie_id, screen_id, FX_T0 + 2 * FX_DAY));
	make_booking(&elsewhere, "alice", "A1", FX_T0 + 1);
	snprintf(elsewhere.r.showtime_id, sizeof(elsewhere.r.showtime_id), "%s", other_showtime);
	ck_assert_ok(hold_at(&elsewhere, FX_T0 + 1, NULL, NULL));
	qsort(want, 6, sizeof want[0], cmp_newest);
	/* the third newest is cancelled */
	ck_assert_ok(apply_status(want[2].id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0 + 10, &ev, NULL));
	for (size_t i = 0; i < 6; i++)
		if (i != 2)
			pending[np++] = want[i];

	/* any status (0): all six of this showtime, newest first */
	ck_assert_ok(list_showtime(showtime_id, 0, NULL, 10, &l));
	ck_assert_uint_eq(l.n, 6);
	for (size_t i = 0; i < 6; i++)
		ck_assert_str_eq(l.v[i], want[i].id);
	/* max bounds what the store hands over */
	ck_assert_ok(list_showtime(showtime_id, 0, NULL, 2, &l));
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[1], want[1].id);
	/* after every key: exactly the older ones, in order, at most max */
	for (size_t k = 0; k < 6; k++) {
		size_t left = 5 - k, expect = left < 3 ? left : 3;
		ck_assert_ok(list_showtime(showtime_id, 0, &want[k], 3, &l));
		ck_assert_uint_eq(l.n, expect);
		for (size_t i = 0; i < expect; i++)
			ck_assert_str_eq(l.v[i], want[k + 1 + i].id);
	}
	/* in a status: the cancelled one left out, pages as well */
	ck_assert_ok(list_showtime(showtime_id, BOOKING_RESERVATION_PENDING, NULL, 10, &l));
	ck_assert_uint_eq(l.n, 5);
	for (size_t i = 0; i < 5; i++)
		ck_assert_str_eq(l.v[i], pending[i].id);
	ck_assert_ok(list_showtime(showtime_id, BOOKING_RESERVATION_PENDING, &pending[1], 2, &l));
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[0], pending[2].id);
	ck_assert_str_eq(l.v[1], pending[3].id);
	ck_assert_ok(list_showtime(showtime_id, BOOKING_RESERVATION_CANCELLED, NULL, 10, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], want[2].id);
	ck_assert_ok(list_showtime(showtime_id, BOOKING_RESERVATION_CONFIRMED, NULL, 10, &l));
	ck_assert_uint_eq(l.n, 0);
	/* only that showtime's */
	ck_assert_ok(list_showtime(other_showtime, 0, NULL, 10, &l));
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], elsewhere.r.id);
	ck_assert_ok(list_showtime("01900000-0000-7000-8000-000000000000", 0, NULL, 10, &l));
	ck_assert_uint_eq(l.n, 0);
	/* what it gives is whole: its seats with their positions */
	size_t checked = 0;
	bk three;
	make_booking(&three, "carol", "A10,B2,D1", FX_T0 + 20);
	bk_positions(&three);
	ck_assert_ok(hold_at(&three, FX_T0 + 20, NULL, NULL));
	ck_assert_ok(
	    st->ledger->reservation_list_by_showtime(st, showtime_id, 0, 0, NULL, 1, check_positions, &checked));
	ck_assert_uint_eq(checked, 1);
	/* a non-zero return from the callback stops the iteration and is returned */
	int calls = 0;
	ck_assert_int_eq(st->ledger->reservation_list_by_showtime(st, showtime_id, 0, 0, NULL, 10, stop_reservations,
	                                                          &calls),
	                 7);
	ck_assert_int_eq(calls, 1);
}
END_TEST

/* --- concurrent holds on one store --------------------------------------- */

typedef struct hold_racer {
	pthread_barrier_t *barrier;
	bk b;
	int rc;
} hold_racer;

static void *race_hold(void *p)
{
	hold_racer *h = p;

	pthread_barrier_wait(h->barrier);
	h->rc = hold_at(&h->b, FX_T0, NULL, NULL);
	return NULL;
}

START_TEST(concurrent_holds_of_one_seat_let_exactly_one_win)
{
	pthread_barrier_t barrier;
	pthread_t t[6];
	hold_racer *h = calloc(6, sizeof(*h));
	int wins = 0;
	const char *winner = NULL;

	seed();
	pthread_barrier_init(&barrier, NULL, 6);
	for (int i = 0; i < 6; i++) {
		char user[16];
		snprintf(user, sizeof(user), "user-%d", i);
		make_booking(&h[i].b, user, i % 2 ? "C5,C6" : "C6,C7", FX_T0);
		bk_point(&h[i].b);
		h[i].barrier = &barrier;
	}
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, race_hold, &h[i]);
	for (int i = 0; i < 6; i++) {
		pthread_join(t[i], NULL);
		if (h[i].rc == 0) {
			wins++;
			winner = h[i].b.r.id;
		} else {
			ck_assert_code(h[i].rc, "SEAT_ALREADY_BOOKED");
		}
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_int_eq(wins, 1); /* every request wants C6 */
	ck_assert_str_eq(seat_of("C6").reservation_id, winner);
	ck_assert_uint_eq(event_count(), 1);
	free(h);
}
END_TEST

typedef struct claim_racer {
	pthread_barrier_t *barrier;
	bk b;
	booking_store_key_record key;
	int rc;
} claim_racer;

static void *race_claim(void *p)
{
	claim_racer *h = p;

	pthread_barrier_wait(h->barrier);
	h->rc = claim_at(&h->b, FX_T0, &h->key, NULL);
	return NULL;
}

/* Six claims by apply (ledger version 2): three want C6, three (on other seats) share one user's key. */
START_TEST(concurrent_claims_of_one_seat_or_one_key_let_exactly_one_win)
{
	static const char *const seats[6] = {"C5,C6", "C6,C7", "C6", "A1", "A2,A3", "B1"};
	pthread_barrier_t barrier;
	pthread_t t[6];
	claim_racer *h = calloc(6, sizeof(*h));
	int seat_wins = 0, key_wins = 0;
	const char *seat_winner = NULL;

	seed();
	pthread_barrier_init(&barrier, NULL, 6);
	for (int i = 0; i < 6; i++) {
		char user[16] = "carol";
		if (i < 3)
			snprintf(user, sizeof(user), "user-%d", i);
		make_booking(&h[i].b, user, seats[i], FX_T0);
		h[i].key = (booking_store_key_record){h[i].b.r.user_id, i < 3 ? "own-key" : "shared-key", "hash", h[i].b.r.id};
		h[i].barrier = &barrier;
	}
	for (int i = 0; i < 6; i++)
		pthread_create(&t[i], NULL, race_claim, &h[i]);
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < 6; i++) {
		if (i < 3 && h[i].rc == 0) {
			seat_wins++;
			seat_winner = h[i].b.r.id;
		} else if (i < 3) {
			ck_assert_code(h[i].rc, "INVALID_STATE");
		} else if (h[i].rc == 0) {
			key_wins++;
		} else {
			ck_assert_code(h[i].rc, "ALREADY_EXISTS");
			assert_no_reservation(h[i].b.r.id);
		}
	}
	ck_assert_int_eq(seat_wins, 1);
	ck_assert_int_eq(key_wins, 1);
	ck_assert_str_eq(seat_of("C6").reservation_id, seat_winner);
	ck_assert_uint_eq(event_count(), 2);
	free(h);
}
END_TEST

/* --- ledger version 3: per-buyer seat limits ------------------------------------ */

/* A hold of `b` at `now` under a limit of `limit` taken seats for its user in its showtime (0: none). */
static int hold_limited(bk *b, int64_t now, size_t limit)
{
	booking_store_hold req = {.reservation = &b->r, .now = now, .event = &b->ev, .user_seat_limit = limit};
	booking_seat_ref taken[16];
	size_t ntaken = 0;

	return st->ledger->hold(taken, &ntaken, st, &req);
}

/* Sell the held seat `label` of `b` (as a confirmation does: HELD by it, then SOLD by it). */
static void sell(const bk *b, const char *label, int64_t now)
{
	booking_store_seat_write w = sw_then(sw_expect(label, BOOKING_SEAT_HELD, b->r.id), BOOKING_SEAT_SOLD, b->r.id,
	                                     0, NULL);
	ck_assert_ok(apply_v2(NULL, now, &w, 1, NULL, NULL, NULL));
}

/*
 * Alice's seats around the seeded showtime, at FX_T0: A1, A2 held and C1 sold (3 taken); A3 held by a hold
 * that expired at FX_T0 (not taken); bob's B1-B3 and her own seats in `other` (another showtime) not hers here.
 */
static void seed_taken(char other[BOOKING_ID_SIZE])
{
	bk b;

	seed();
	ck_assert_ok(insert_showtime(other, movie_id, screen_id, FX_T0 + 2 * FX_DAY));
	hold_ok(&b, "alice", "A1,A2", FX_T0);
	hold_ok(&b, "alice", "A3", FX_T0 - HOLD_MS); /* expires_at = FX_T0: claimable at FX_T0 */
	hold_ok(&b, "alice", "C1", FX_T0);
	sell(&b, "C1", FX_T0);
	hold_ok(&b, "bob", "B1,B2,B3", FX_T0);
	make_booking(&b, "alice", "A1,A2,A3,A4,A5", FX_T0);
	snprintf(b.r.showtime_id, sizeof(b.r.showtime_id), "%s", other);
	ck_assert_ok(hold_at(&b, FX_T0, NULL, NULL));
}

START_TEST(a_hold_over_the_users_seat_limit_is_limit_reached_and_writes_nothing)
{
	char other[BOOKING_ID_SIZE];
	seats_read before;
	bk b;

	seed_taken(other);
	size_t events = event_count();
	all_seats(&before);
	/* 3 taken + 2 > 4: refused, nothing written (not even the expired A3 it could claim) */
	make_booking(&b, "alice", "A3,B5", FX_T0);
	ck_assert_code(hold_limited(&b, FX_T0, 4), "LIMIT_REACHED");
	assert_seats_unchanged(&before);
	assert_no_reservation(b.r.id);
	ck_assert_uint_eq(event_count(), events);
	/* 3 taken + 2 == 5: the limit is a maximum, reached is allowed; the expired hold, bob's seats and her
	 * seats of the other showtime did not count */
	ck_assert_ok(hold_limited(&b, FX_T0, 5));
	ck_assert_str_eq(seat_of("A3").reservation_id, b.r.id);
	ck_assert_str_eq(seat_of("B5").reservation_id, b.r.id);
	ck_assert_uint_eq(event_count(), events + 1);
	/* now 5 taken: one more is over 5, fits under 6 */
	make_booking(&b, "alice", "B6", FX_T0);
	ck_assert_code(hold_limited(&b, FX_T0, 5), "LIMIT_REACHED");
	assert_no_reservation(b.r.id);
	ck_assert_int_eq(seat_of("B6").status, BOOKING_SEAT_FREE);
	ck_assert_ok(hold_limited(&b, FX_T0, 6));
	/* another user, or 0 (no limit), is not held back by alice's seats */
	make_booking(&b, "carol", "B7,B8", FX_T0);
	ck_assert_ok(hold_limited(&b, FX_T0, 2));
	make_booking(&b, "alice", "B9,B10", FX_T0);
	ck_assert_ok(hold_limited(&b, FX_T0, 0));
	/* later, once alice's held seats expired, only the sold C1 still counts: 1 + 3 <= 4 */
	int64_t later = FX_T0 + HOLD_MS;
	make_booking(&b, "alice", "C2,C3,C4", later);
	ck_assert_ok(hold_limited(&b, later, 4));
	make_booking(&b, "alice", "C5", later);
	ck_assert_code(hold_limited(&b, later, 4), "LIMIT_REACHED");
	/* a seat refused as taken is still answered as such under a limit it fits */
	make_booking(&b, "alice", "C2", later);
	ck_assert_code(hold_limited(&b, later, 10), "SEAT_ALREADY_BOOKED");
}
END_TEST

/* A claim of `b` by apply (as claim_at, in b's showtime) with the guards `g[n]` first and the change's `live`. */
static int claim_live(bk *b, int64_t now, const booking_store_guard *g, size_t n, size_t *failed,
                      booking_reservation_status live)
{
	booking_store_seat_write w[16];

	bk_positions(b);
	for (size_t i = 0; i < b->r.seat_count; i++)
		w[i] = sw_claim(b->seats[i].label, b->r.id, b->r.expires_at);
	booking_store_change c = {.guard_count = n,
	                          .guards = g,
	                          .showtime_id = b->r.showtime_id,
	                          .now = now,
	                          .seat_write_count = b->r.seat_count,
	                          .seat_writes = w,
	                          .insert = &b->r,
	                          .event_count = 1,
	                          .events = &b->ev,
	                          .live_status = live};
	return st->ledger->apply(failed, st, &c);
}

static int claim_guarded(bk *b, int64_t now, const booking_store_guard *g, size_t n, size_t *failed)
{
	return claim_live(b, now, g, n, failed, 0);
}

START_TEST(the_user_seats_guard_holds_while_the_user_has_at_most_value_taken_seats_before_the_change)
{
	char other[BOOKING_ID_SIZE];
	seats_read before;
	bk b, first;
	size_t failed = 99;

	seed_taken(other);
	hold_ok(&first, "dave", "D1", FX_T0);
	size_t events = event_count();
	all_seats(&before);
	/* alice has 3 taken seats here: at most 2 fails, with its index, and nothing is written */
	make_booking(&b, "alice", "B5,B6", FX_T0);
	booking_store_guard g[3] = {{BOOKING_GUARD_RESERVATION_VERSION, first.r.id, 1, NULL},
	                            {BOOKING_GUARD_USER_SEATS, "alice", 2, showtime_id},
	                            {BOOKING_GUARD_USER_SEATS, "alice", 5, other}};
	ck_assert_code(claim_guarded(&b, FX_T0, g, 3, &failed), "INVALID_STATE");
	ck_assert_uint_eq(failed, 1);
	assert_seats_unchanged(&before);
	assert_no_reservation(b.r.id);
	ck_assert_uint_eq(event_count(), events);
	/* in the other showtime she has 5: at most 4 fails as guard 2 */
	g[1].value = 3;
	g[2].value = 4;
	failed = 99;
	ck_assert_code(claim_guarded(&b, FX_T0, g, 3, &failed), "INVALID_STATE");
	ck_assert_uint_eq(failed, 2);
	assert_seats_unchanged(&before);
	assert_no_reservation(b.r.id);
	/* at most 3 here and 5 there: the change is made (the value is before the change, not after) */
	g[2].value = 5;
	failed = 99;
	ck_assert_ok(claim_guarded(&b, FX_T0, g, 3, &failed));
	ck_assert_uint_eq(failed, 99);
	ck_assert_str_eq(seat_of("B5").reservation_id, b.r.id);
	ck_assert_uint_eq(event_count(), events + 1);
	/* a user with no seat has 0; once her holds expired alice has only the sold C1 */
	booking_store_guard none = {BOOKING_GUARD_USER_SEATS, "nobody", 0, showtime_id};
	make_booking(&b, "erin", "B7", FX_T0);
	ck_assert_ok(claim_guarded(&b, FX_T0, &none, 1, NULL));
	booking_store_guard one = {BOOKING_GUARD_USER_SEATS, "alice", 1, showtime_id};
	make_booking(&b, "alice", "B8", FX_T0 + HOLD_MS);
	ck_assert_ok(claim_guarded(&b, FX_T0 + HOLD_MS, &one, 1, NULL));
	one.value = 0;
	make_booking(&b, "alice", "B9", FX_T0 + HOLD_MS);
	ck_assert_code(claim_guarded(&b, FX_T0 + HOLD_MS, &one, 1, &failed), "INVALID_STATE");
	ck_assert_uint_eq(failed, 0);
}
END_TEST

/* How a racer of race_one_user() asks: a hold or a guarded claim by apply, under a seat limit or a live-hold limit. */
enum { SEATS_BY_HOLD, SEATS_BY_APPLY, LIVE_BY_HOLD, LIVE_BY_APPLY };

static int hold_live_limited(bk *b, int64_t now, size_t limit, size_t *taken_out);

typedef struct limit_racer {
	pthread_barrier_t *barrier;
	bk b;
	int mode;
	int rc;
} limit_racer;

#define LIMIT_RACERS 16

static void *race_limited(void *p)
{
	limit_racer *h = p;
	booking_store_guard g = {BOOKING_GUARD_USER_SEATS, h->b.r.user_id, 3, showtime_id};

	if (h->mode == LIVE_BY_APPLY)
		g = (booking_store_guard){BOOKING_GUARD_USER_HOLDS, h->b.r.user_id, 3, NULL};
	pthread_barrier_wait(h->barrier);
	if (h->mode == SEATS_BY_HOLD)
		h->rc = hold_limited(&h->b, FX_T0, 4);
	else if (h->mode == LIVE_BY_HOLD)
		h->rc = hold_live_limited(&h->b, FX_T0, 4, NULL);
	else
		h->rc = claim_live(&h->b, FX_T0, &g, 1, NULL, BOOKING_RESERVATION_PENDING);
	return NULL;
}

/*
 * `n` racers of `user`, each for one seat from row `row` on (A1..A10, B1..B6; C1..C10, D1, D2), the odd ones in
 * showtime `other` when it is not NULL: 4 must win.
 */
static void race_one_user(const char *user, char row, int n, int mode, const char *other)
{
	pthread_barrier_t barrier;
	pthread_t t[LIMIT_RACERS];
	limit_racer *h = calloc(LIMIT_RACERS, sizeof(*h));
	int wins = 0;

	pthread_barrier_init(&barrier, NULL, (unsigned int)n);
	for (int i = 0; i < n; i++) {
		char label[16];
		snprintf(label, sizeof(label), "%c%d", row + i / 10, i % 10 + 1);
		make_booking(&h[i].b, user, label, FX_T0);
		if (other && i % 2)
			snprintf(h[i].b.r.showtime_id, sizeof(h[i].b.r.showtime_id), "%s", other);
		h[i].barrier = &barrier;
		h[i].mode = mode;
	}
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, race_limited, &h[i]);
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		bk_point(&h[i].b);
		booking_store_seat seat = seat_in(h[i].b.r.showtime_id, h[i].b.seats[0].label);
		if (h[i].rc == 0) {
			wins++;
			ck_assert_str_eq(seat.reservation_id, h[i].b.r.id);
		} else {
			ck_assert_code(h[i].rc, mode % 2 ? "INVALID_STATE" : "LIMIT_REACHED");
			assert_no_reservation(h[i].b.r.id);
			ck_assert_int_eq(seat.status, BOOKING_SEAT_FREE);
		}
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_int_eq(wins, 4);
	free(h);
}

/* 16 holds of one seat each by one user under a limit of 4 (then 12 claims guarded by at most 3): 4 win. */
START_TEST(concurrent_holds_of_one_user_under_a_seat_limit_let_exactly_the_limit_win)
{
	seed();
	race_one_user("alice", 'A', LIMIT_RACERS, SEATS_BY_HOLD, NULL);
	ck_assert_uint_eq(event_count(), 4);
	race_one_user("bob", 'C', 12, SEATS_BY_APPLY, NULL);
	ck_assert_uint_eq(event_count(), 8);
}
END_TEST

/* --- ledger version 4: the live-hold limit ---------------------------------------- */

/* A hold of `b` at `now` under a limit of `limit` live PENDING holds of its user (0: none); `taken_out` may be NULL. */
static int hold_live_limited(bk *b, int64_t now, size_t limit, size_t *taken_out)
{
	booking_store_hold req = {.reservation = &b->r, .now = now, .event = &b->ev, .user_hold_limit = limit,
	                          .live_status = BOOKING_RESERVATION_PENDING};
	booking_seat_ref taken[16];
	size_t scratch = 0;

	return st->ledger->hold(taken, taken_out ? taken_out : &scratch, st, &req);
}

/*
 * Alice's reservations at FX_T0: live PENDING holds of A1 here and of A1 in `other` (2 live); a PENDING hold
 * of A3 that expired at FX_T0 and a cancelled one of A4 whose expires_at is still ahead (neither counts).
 * Bob holds B1.
 */
static void seed_live(char other[BOOKING_ID_SIZE])
{
	booking_event_record ev;
	bk b;

	seed();
	ck_assert_ok(insert_showtime(other, movie_id, screen_id, FX_T0 + 2 * FX_DAY));
	hold_ok(&b, "alice", "A1", FX_T0);
	make_booking(&b, "alice", "A1", FX_T0);
	snprintf(b.r.showtime_id, sizeof(b.r.showtime_id), "%s", other);
	ck_assert_ok(hold_at(&b, FX_T0, NULL, NULL));
	hold_ok(&b, "alice", "A3", FX_T0 - HOLD_MS);
	hold_ok(&b, "alice", "A4", FX_T0);
	ck_assert_ok(apply_status(b.r.id, 1, BOOKING_RESERVATION_CANCELLED, FX_T0, &ev, NULL));
	hold_ok(&b, "bob", "B1", FX_T0);
}

START_TEST(a_hold_over_the_users_live_hold_limit_is_limit_reached_and_writes_nothing)
{
	char other[BOOKING_ID_SIZE];
	seats_read before;
	size_t taken = 99;
	bk b;

	seed_live(other);
	size_t events = event_count();
	all_seats(&before);
	/* 2 live + 1 > 2: refused, no seat named, nothing written */
	make_booking(&b, "alice", "B5", FX_T0);
	ck_assert_code(hold_live_limited(&b, FX_T0, 2, &taken), "LIMIT_REACHED");
	ck_assert_uint_eq(taken, 0);
	assert_seats_unchanged(&before);
	assert_no_reservation(b.r.id);
	ck_assert_uint_eq(event_count(), events);
	/* 2 + 1 <= 3: the expired hold, the cancelled one and bob's did not count */
	ck_assert_ok(hold_live_limited(&b, FX_T0, 3, NULL));
	ck_assert_str_eq(seat_of("B5").reservation_id, b.r.id);
	ck_assert_uint_eq(event_count(), events + 1);
	/* 3 live now: a fourth is over 3; no limit (0), or another user, is not held back */
	make_booking(&b, "alice", "B6", FX_T0);
	ck_assert_code(hold_live_limited(&b, FX_T0, 3, NULL), "LIMIT_REACHED");
	assert_no_reservation(b.r.id);
	ck_assert_int_eq(seat_of("B6").status, BOOKING_SEAT_FREE);
	ck_assert_ok(hold_live_limited(&b, FX_T0, 0, NULL));
	make_booking(&b, "carol", "B7", FX_T0);
	ck_assert_ok(hold_live_limited(&b, FX_T0, 1, NULL));
	/* once her holds expired (expires_at <= now) none counts */
	int64_t later = FX_T0 + HOLD_MS;
	make_booking(&b, "alice", "C1", later);
	ck_assert_ok(hold_live_limited(&b, later, 1, NULL));
	make_booking(&b, "alice", "C2", later);
	ck_assert_code(hold_live_limited(&b, later, 1, NULL), "LIMIT_REACHED");
	/* a taken seat is still answered as such under a limit it fits */
	make_booking(&b, "alice", "C1", later);
	ck_assert_code(hold_live_limited(&b, later, 10, NULL), "SEAT_ALREADY_BOOKED");
}
END_TEST

START_TEST(the_user_holds_guard_holds_while_the_user_has_at_most_value_live_holds_before_the_change)
{
	char other[BOOKING_ID_SIZE];
	seats_read before;
	bk b, first;
	size_t failed = 99;

	seed_live(other);
	hold_ok(&first, "dave", "D1", FX_T0);
	size_t events = event_count();
	all_seats(&before);
	/* alice has 2 live holds (in two showtimes): at most 1 fails, with its index, and nothing is written */
	make_booking(&b, "alice", "B5", FX_T0);
	booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, first.r.id, 1, NULL},
	                            {BOOKING_GUARD_USER_HOLDS, "alice", 1, NULL}};
	ck_assert_code(claim_live(&b, FX_T0, g, 2, &failed, BOOKING_RESERVATION_PENDING), "INVALID_STATE");
	ck_assert_uint_eq(failed, 1);
	assert_seats_unchanged(&before);
	assert_no_reservation(b.r.id);
	ck_assert_uint_eq(event_count(), events);
	/* at most 2: the change is made (the value is before the change) */
	g[1].value = 2;
	failed = 99;
	ck_assert_ok(claim_live(&b, FX_T0, g, 2, &failed, BOOKING_RESERVATION_PENDING));
	ck_assert_uint_eq(failed, 99);
	ck_assert_str_eq(seat_of("B5").reservation_id, b.r.id);
	ck_assert_uint_eq(event_count(), events + 1);
	/* the status that counts is the change's: alice has no live CONFIRMED reservation */
	booking_store_guard zero = {BOOKING_GUARD_USER_HOLDS, "alice", 0, NULL};
	make_booking(&b, "alice", "B6", FX_T0);
	ck_assert_ok(claim_live(&b, FX_T0, &zero, 1, NULL, BOOKING_RESERVATION_CONFIRMED));
	/* a user with none has 0; alice has 4 now, and none once they expired at the change's `now` */
	booking_store_guard none = {BOOKING_GUARD_USER_HOLDS, "nobody", 0, NULL};
	make_booking(&b, "erin", "B7", FX_T0);
	ck_assert_ok(claim_live(&b, FX_T0, &none, 1, NULL, BOOKING_RESERVATION_PENDING));
	make_booking(&b, "alice", "B8", FX_T0);
	g[1].value = 3;
	ck_assert_code(claim_live(&b, FX_T0, g, 2, &failed, BOOKING_RESERVATION_PENDING), "INVALID_STATE");
	ck_assert_uint_eq(failed, 1);
	make_booking(&b, "alice", "B8", FX_T0 + HOLD_MS);
	ck_assert_ok(claim_live(&b, FX_T0 + HOLD_MS, &zero, 1, NULL, BOOKING_RESERVATION_PENDING));
}
END_TEST

/*
 * 16 holds of one user, one seat each, half of them in another showtime, under a limit of 4 live holds (then
 * 12 claims guarded by at most 3): 4 win. The limit is the user's, in every showtime.
 */
START_TEST(concurrent_holds_of_one_user_under_a_live_hold_limit_let_exactly_the_limit_win)
{
	char other[BOOKING_ID_SIZE];

	seed();
	ck_assert_ok(insert_showtime(other, movie_id, screen_id, FX_T0 + 2 * FX_DAY));
	race_one_user("alice", 'A', LIMIT_RACERS, LIVE_BY_HOLD, other);
	ck_assert_uint_eq(event_count(), 4);
	race_one_user("bob", 'C', 12, LIVE_BY_APPLY, other);
	ck_assert_uint_eq(event_count(), 8);
}
END_TEST

/* --- store version 7: the kv group -------------------------------------------------- */

/* A put of (ns, key) at `now` resting on version `expected`: `value` (NULL: delete), rank, expiry and `nev` events. */
static int put_kv(int64_t *version, const char *ns, const char *key, int64_t expected, const char *value,
                  int64_t rank, int64_t expires_at, int64_t now, const booking_event_record *evs, size_t nev)
{
	booking_store_kv_put req = {ns, key, expected, value, rank, expires_at, now, nev, evs};

	return st->kv->kv_put(version, st, &req);
}

typedef struct kv_copy {
	char key[64];
	char value[64];
	int64_t version, rank, expires_at;
} kv_copy;

/* kv_get of (ns, key) at `now` into `out`; a miss leaves the record zeroed. */
static int get_kv(kv_copy *out, const char *ns, const char *key, int64_t now)
{
	booking_store_kv_record rec;

	memset(&rec, 0x5a, sizeof(rec));
	memset(out, 0, sizeof(*out));
	int rc = st->kv->kv_get(&rec, st, ns, key, now);
	if (rc == 0) {
		ck_assert_ptr_nonnull(rec.value);
		snprintf(out->key, sizeof(out->key), "%s", key);
		snprintf(out->value, sizeof(out->value), "%s", rec.value);
		out->version = rec.version;
		out->rank = rec.rank;
		out->expires_at = rec.expires_at;
		booking_free(rec.value);
	} else {
		ck_assert_ptr_null(rec.value);
		ck_assert_int_eq(rec.version, 0);
	}
	return rc;
}

typedef struct kv_read {
	kv_copy r[16];
	size_t n;
	size_t stop_after; /* 0: never */
} kv_read;

static int read_kv(const char *key, const booking_store_kv_record *rec, void *p)
{
	kv_read *l = p;
	if (l->n < 16) {
		kv_copy *c = &l->r[l->n];
		snprintf(c->key, sizeof(c->key), "%s", key);
		snprintf(c->value, sizeof(c->value), "%s", rec->value);
		c->version = rec->version;
		c->rank = rec->rank;
		c->expires_at = rec->expires_at;
	}
	l->n++;
	return l->stop_after && l->n >= l->stop_after ? 7 : 0;
}

static void list_kv(kv_read *l, const char *ns, int64_t now, size_t max)
{
	memset(l, 0, sizeof(*l));
	ck_assert_ok(st->kv->kv_list(st, ns, now, max, read_kv, l));
	ck_assert_uint_le(l->n, 16);
}

START_TEST(kv_put_compares_the_version_and_writes_the_value_rank_and_expiry)
{
	int64_t v = -1;
	kv_copy r;

	ck_assert_code(get_kv(&r, "wait", "k1", FX_T0), "NOT_FOUND");
	ck_assert_ok(put_kv(&v, "wait", "k1", 0, "one", 5, FX_T0 + FX_HOUR, FX_T0, NULL, 0));
	ck_assert_int_eq(v, 1);
	ck_assert_ok(get_kv(&r, "wait", "k1", FX_T0));
	ck_assert_str_eq(r.value, "one");
	ck_assert_int_eq(r.version, 1);
	ck_assert_int_eq(r.rank, 5);
	ck_assert_int_eq(r.expires_at, FX_T0 + FX_HOUR);
	/* a put resting on another version writes nothing and answers the live one */
	v = -1;
	ck_assert_code(put_kv(&v, "wait", "k1", 0, "zero", 1, 0, FX_T0, NULL, 0), "INVALID_STATE");
	ck_assert_int_eq(v, 1);
	v = -1;
	ck_assert_code(put_kv(&v, "wait", "k1", 2, "two", 1, 0, FX_T0, NULL, 0), "INVALID_STATE");
	ck_assert_int_eq(v, 1);
	ck_assert_ok(get_kv(&r, "wait", "k1", FX_T0));
	ck_assert_str_eq(r.value, "one");
	ck_assert_int_eq(r.version, 1);
	ck_assert_int_eq(r.rank, 5);
	/* on the live version: version 2 with the new value, rank and expiry (0: never) */
	ck_assert_ok(put_kv(&v, "wait", "k1", 1, "two", -3, 0, FX_T0, NULL, 0));
	ck_assert_int_eq(v, 2);
	ck_assert_ok(get_kv(&r, "wait", "k1", FX_T0 + 400 * FX_DAY));
	ck_assert_str_eq(r.value, "two");
	ck_assert_int_eq(r.version, 2);
	ck_assert_int_eq(r.rank, -3);
	ck_assert_int_eq(r.expires_at, 0);
	/* an empty value is a value; version_out may be NULL */
	ck_assert_ok(put_kv(NULL, "wait", "k1", 2, "", 0, 0, FX_T0, NULL, 0));
	ck_assert_ok(get_kv(&r, "wait", "k1", FX_T0));
	ck_assert_str_eq(r.value, "");
	ck_assert_int_eq(r.version, 3);
	/* the same key in another namespace is another record */
	ck_assert_code(get_kv(&r, "rate", "k1", FX_T0), "NOT_FOUND");
	ck_assert_ok(put_kv(&v, "rate", "k1", 0, "x", 0, 0, FX_T0, NULL, 0));
	ck_assert_int_eq(v, 1);
	ck_assert_ok(get_kv(&r, "wait", "k1", FX_T0));
	ck_assert_int_eq(r.version, 3);
}
END_TEST

START_TEST(kv_put_without_a_value_deletes_the_record)
{
	int64_t v = -1;
	kv_copy r;
	kv_read *l = malloc(sizeof(*l));

	ck_assert_ok(put_kv(&v, "wait", "k", 0, "a", 1, 0, FX_T0, NULL, 0));
	ck_assert_ok(put_kv(&v, "wait", "k", 1, "b", 1, 0, FX_T0, NULL, 0));
	ck_assert_int_eq(v, 2);
	/* a delete resting on a stale version writes nothing */
	v = -1;
	ck_assert_code(put_kv(&v, "wait", "k", 1, NULL, 0, 0, FX_T0, NULL, 0), "INVALID_STATE");
	ck_assert_int_eq(v, 2);
	ck_assert_ok(get_kv(&r, "wait", "k", FX_T0));
	ck_assert_str_eq(r.value, "b");
	/* on the live version: gone, version 0 */
	v = -1;
	ck_assert_ok(put_kv(&v, "wait", "k", 2, NULL, 0, 0, FX_T0, NULL, 0));
	ck_assert_int_eq(v, 0);
	ck_assert_code(get_kv(&r, "wait", "k", FX_T0), "NOT_FOUND");
	list_kv(l, "wait", FX_T0, 10);
	ck_assert_uint_eq(l->n, 0);
	/* absent: only a put expecting none writes it again, as version 1 */
	v = -1;
	ck_assert_code(put_kv(&v, "wait", "k", 2, "c", 0, 0, FX_T0, NULL, 0), "INVALID_STATE");
	ck_assert_int_eq(v, 0);
	ck_assert_ok(put_kv(&v, "wait", "k", 0, "c", 0, 0, FX_T0, NULL, 0));
	ck_assert_int_eq(v, 1);
	list_kv(l, "wait", FX_T0, 10);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->r[0].key, "k");
	ck_assert_str_eq(l->r[0].value, "c");
	ck_assert_int_eq(l->r[0].version, 1);
	free(l);
}
END_TEST

START_TEST(kv_records_that_expired_are_absent_and_a_new_record_takes_their_place)
{
	int64_t v = -1, at = FX_T0 + FX_MINUTE;
	kv_copy r;
	kv_read *l = malloc(sizeof(*l));

	ck_assert_ok(put_kv(&v, "wait", "k", 0, "old", 1, at, FX_T0, NULL, 0));
	ck_assert_ok(put_kv(&v, "wait", "keep", 0, "kept", 2, 0, FX_T0, NULL, 0));
	ck_assert_ok(get_kv(&r, "wait", "k", at - 1));
	ck_assert_str_eq(r.value, "old");
	list_kv(l, "wait", at - 1, 10);
	ck_assert_uint_eq(l->n, 2);
	/* at its expiry it is gone for get and list */
	ck_assert_code(get_kv(&r, "wait", "k", at), "NOT_FOUND");
	list_kv(l, "wait", at, 10);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->r[0].key, "keep");
	/* a put resting on the expired version is refused (live version 0), one expecting none writes version 1 */
	v = -1;
	ck_assert_code(put_kv(&v, "wait", "k", 1, "late", 1, 0, at, NULL, 0), "INVALID_STATE");
	ck_assert_int_eq(v, 0);
	ck_assert_ok(put_kv(&v, "wait", "k", 0, "new", 3, 0, at, NULL, 0));
	ck_assert_int_eq(v, 1);
	ck_assert_ok(get_kv(&r, "wait", "k", at));
	ck_assert_str_eq(r.value, "new");
	ck_assert_int_eq(r.version, 1);
	ck_assert_int_eq(r.rank, 3);
	/* many records that expired (more than one put purges) never come back, in any namespace */
	for (int i = 0; i < 150; i++) {
		char key[16];
		snprintf(key, sizeof(key), "gone-%d", i);
		ck_assert_ok(put_kv(NULL, i % 2 ? "wait" : "rate", key, 0, "x", i, at + 1, at, NULL, 0));
	}
	for (int i = 0; i < 10; i++) {
		char key[16];
		snprintf(key, sizeof(key), "later-%d", i);
		ck_assert_ok(put_kv(NULL, "other", key, 0, "y", 0, 0, at + 1, NULL, 0));
	}
	list_kv(l, "wait", at + 1, 100);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->r[0].key, "keep");
	ck_assert_str_eq(l->r[1].key, "k");
	list_kv(l, "rate", at + 1, 100);
	ck_assert_uint_eq(l->n, 0);
	ck_assert_code(get_kv(&r, "rate", "gone-0", at + 1), "NOT_FOUND");
	ck_assert_ok(put_kv(&v, "rate", "gone-0", 0, "again", 0, 0, at + 1, NULL, 0));
	ck_assert_int_eq(v, 1);
	free(l);
}
END_TEST

START_TEST(kv_list_orders_by_rank_then_key_up_to_max_in_one_namespace)
{
	static const struct {
		const char *key;
		int64_t rank;
	} recs[] = {{"k2", 5}, {"k1", 5}, {"k0", 9}, {"k3", -1}, {"k10", 5}};
	static const char *const order[] = {"k3", "k1", "k10", "k2", "k0"};
	kv_read *l = malloc(sizeof(*l));

	for (size_t i = 0; i < 5; i++) {
		char value[16];
		snprintf(value, sizeof(value), "v-%s", recs[i].key);
		ck_assert_ok(put_kv(NULL, "wait", recs[i].key, 0, value, recs[i].rank, FX_T0 + FX_HOUR, FX_T0, NULL, 0));
	}
	ck_assert_ok(put_kv(NULL, "wait", "k1", 1, "v-k1", 5, FX_T0 + FX_HOUR, FX_T0, NULL, 0)); /* version 2 */
	ck_assert_ok(put_kv(NULL, "other", "a", 0, "v-a", 0, 0, FX_T0, NULL, 0));
	ck_assert_ok(put_kv(NULL, "waiting", "k", 0, "v-k", 0, 0, FX_T0, NULL, 0));
	list_kv(l, "wait", FX_T0, 10);
	ck_assert_uint_eq(l->n, 5);
	for (size_t i = 0; i < 5; i++) {
		char value[16];
		snprintf(value, sizeof(value), "v-%s", order[i]);
		ck_assert_str_eq(l->r[i].key, order[i]);
		ck_assert_str_eq(l->r[i].value, value);
		ck_assert_int_eq(l->r[i].version, strcmp(order[i], "k1") == 0 ? 2 : 1);
		ck_assert_int_eq(l->r[i].expires_at, FX_T0 + FX_HOUR);
	}
	ck_assert_int_eq(l->r[0].rank, -1);
	ck_assert_int_eq(l->r[4].rank, 9);
	/* at most max */
	list_kv(l, "wait", FX_T0, 2);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->r[0].key, "k3");
	ck_assert_str_eq(l->r[1].key, "k1");
	/* namespaces do not mix */
	list_kv(l, "other", FX_T0, 10);
	ck_assert_uint_eq(l->n, 1);
	ck_assert_str_eq(l->r[0].key, "a");
	list_kv(l, "none", FX_T0, 10);
	ck_assert_uint_eq(l->n, 0);
	/* a non-zero return of the callback stops the list and is returned */
	memset(l, 0, sizeof(*l));
	l->stop_after = 1;
	ck_assert_int_eq(st->kv->kv_list(st, "wait", FX_T0, 10, read_kv, l), 7);
	ck_assert_uint_eq(l->n, 1);
	free(l);
}
END_TEST

START_TEST(kv_put_appends_its_events_with_the_write_and_none_when_it_is_refused)
{
	booking_event_record ev[2], late;
	char agg[BOOKING_ID_SIZE];
	events_read *e = malloc(sizeof(*e));
	int64_t v = -1;
	bk b;

	seed();
	hold_ok(&b, "alice", "A1", FX_T0);
	size_t events = event_count();
	new_id(agg);
	make_event(&ev[0], "waitlist.joined", "waitlist", agg, FX_T0);
	make_event(&ev[1], "waitlist.offered", "waitlist", agg, FX_T0);
	ck_assert_ok(put_kv(&v, "wait", "k", 0, "a", 0, 0, FX_T0, ev, 2));
	all_events(e);
	ck_assert_uint_eq(e->n, events + 2);
	ck_assert_str_eq(e->e[events].id, ev[0].id);
	ck_assert_str_eq(e->e[events].type, "waitlist.joined");
	ck_assert_str_eq(e->e[events].aggregate_id, agg);
	ck_assert_int_eq(e->e[events].sequence, 1);
	ck_assert_str_eq(e->e[events + 1].id, ev[1].id);
	ck_assert_int_eq(e->e[events + 1].sequence, 2);
	ck_assert_int_gt(e->e[events + 1].position, e->e[events].position);
	memset(e, 0, sizeof(*e));
	ck_assert_ok(st->outbox->outbox_unpublished(st, 100, read_event, e));
	ck_assert_uint_eq(e->n, events + 2);
	ck_assert_str_eq(e->e[events + 1].id, ev[1].id);
	ck_assert(!e->e[events + 1].published);
	/* a put whose compare fails appends nothing */
	make_event(&late, "waitlist.left", "waitlist", agg, FX_T0);
	ck_assert_code(put_kv(&v, "wait", "k", 0, "b", 0, 0, FX_T0, &late, 1), "INVALID_STATE");
	ck_assert_uint_eq(event_count(), events + 2);
	ck_assert_code(put_kv(&v, "wait", "k", 5, NULL, 0, 0, FX_T0, &late, 1), "INVALID_STATE");
	ck_assert_uint_eq(event_count(), events + 2);
	/* a delete carries its events too */
	ck_assert_ok(put_kv(&v, "wait", "k", 1, NULL, 0, 0, FX_T0, &late, 1));
	all_events(e);
	ck_assert_uint_eq(e->n, events + 3);
	ck_assert_str_eq(e->e[events + 2].id, late.id);
	ck_assert_int_eq(e->e[events + 2].sequence, 3);
	free(e);
}
END_TEST

#define KV_RACERS 8
#define KV_ROUNDS 25

typedef struct kv_racer {
	pthread_barrier_t *barrier;
	char agg[BOOKING_ID_SIZE];
	int done, refused, rc;
} kv_racer;

/* Increment the counter KV_ROUNDS times by get and put, again on each refusal; one event per increment. */
static void *race_kv(void *p)
{
	kv_racer *h = p;

	pthread_barrier_wait(h->barrier);
	while (h->done < KV_ROUNDS && h->rc == 0) {
		booking_store_kv_record rec = {NULL, 0, 0, 0};
		booking_event_record ev;
		char next[24];
		int rc = st->kv->kv_get(&rec, st, "race", "counter", FX_T0);

		if (rc < 0 && rc != BOOKING_ENOTFOUND) {
			h->rc = rc;
			break;
		}
		snprintf(next, sizeof(next), "%ld", (rc == 0 ? strtol(rec.value, NULL, 10) : 0) + 1);
		booking_free(rec.value);
		make_event(&ev, "counter.incremented", "counter", h->agg, FX_T0);
		rc = put_kv(NULL, "race", "counter", rec.version, next, 0, 0, FX_T0, &ev, 1);
		if (rc == 0)
			h->done++;
		else if (rc == BOOKING_EINVALID_STATE)
			h->refused++;
		else
			h->rc = rc;
	}
	return NULL;
}

START_TEST(concurrent_kv_increments_by_compare_and_set_lose_no_update)
{
	pthread_barrier_t barrier;
	pthread_t t[KV_RACERS];
	kv_racer h[KV_RACERS];
	kv_copy r;
	char want[24];

	pthread_barrier_init(&barrier, NULL, KV_RACERS);
	for (int i = 0; i < KV_RACERS; i++) {
		h[i] = (kv_racer){&barrier, "", 0, 0, 0};
		new_id(h[i].agg);
		pthread_create(&t[i], NULL, race_kv, &h[i]);
	}
	for (int i = 0; i < KV_RACERS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(h[i].rc == 0, "racer %d: %s", i, booking_error_name(h[i].rc));
		ck_assert_int_eq(h[i].done, KV_ROUNDS);
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_ok(get_kv(&r, "race", "counter", FX_T0));
	snprintf(want, sizeof(want), "%d", KV_RACERS * KV_ROUNDS);
	ck_assert_str_eq(r.value, want);
	ck_assert_int_eq(r.version, KV_RACERS * KV_ROUNDS);
	ck_assert_uint_eq(event_count(), KV_RACERS * KV_ROUNDS); /* the refused puts appended nothing */
}
END_TEST

/* =========================================================================
 * Part two: the public flows on a handle opened on this URL
 * ========================================================================= */

static fx f;

static void flows_setup(void)
{
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	fx_open(&f, &o);
	fx_seed(&f);
}

static void flows_teardown(void)
{
	fx_close(&f);
}

static int count_event(const booking_event *e, void *payload)
{
	(void)e;
	(*(int *)payload)++;
	return 0;
}

START_TEST(flow_hold_pay_cancel_expire_relay_consume_check)
{
	char paid[BOOKING_ID_SIZE], cancelled[BOOKING_ID_SIZE], expired[BOOKING_ID_SIZE], declined[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice"), sys = fx_system();
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	booking_payment *p = NULL;
	booking_check_report *r = NULL;
	size_t relayed = 0, handled = 0, n = 0;
	int applied = 0;

	fx_hold_ok(&f, "alice", "A1,A2", paid);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2,A3"), "SEAT_ALREADY_BOOKED");
	ck_assert_ok(fx_pay(&f, &p, "alice", paid, "k1", FX_CARD_OK));
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_SOLD);
	fx_hold_ok(&f, "alice", "B1", cancelled);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, cancelled));
	fx_hold_ok(&f, "bob", "C1", expired);
	fx_hold_ok(&f, "carol", "C2", declined);
	ck_assert_code(fx_pay(&f, NULL, "carol", declined, "k2", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	fx_advance(&f, HOLD_MS);
	ck_assert_ok(booking_expire_due(&n, f.bk, &sys, 10));
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(fx_seat_status(&f, "C1"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&f, NULL, "dave", "C1"));

	ck_assert_ok(booking_outbox_relay(&relayed, f.bk, 1000));
	ck_assert_uint_ge(relayed, 9);
	co.group = "audit";
	co.batch = 100;
	ck_assert_ok(booking_consume(&handled, f.bk, &co, count_event, &applied));
	ck_assert_uint_eq(handled, relayed);
	ck_assert_int_eq(applied, (int)relayed);
	ck_assert_ok(booking_consume(&handled, f.bk, &co, count_event, &applied));
	ck_assert_uint_eq(handled, 0);

	ck_assert_ok(booking_check(&r, f.bk));
	ck_assert_uint_eq(r->count, 0);
	ck_assert_uint_eq(r->reservations, 5);
	ck_assert_uint_eq(r->payments, 2);
	booking_check_report_free(r);
	booking_payment_free(p);
}
END_TEST

START_TEST(flow_data_survives_reopening_a_file_store)
{
	booking_options o;
	booking_handle *again = NULL;
	char b[BOOKING_ID_SIZE];
	booking_ctx admin = fx_admin();
	booking_reservation *r = NULL;

	if (!f.file[0])
		return; /* only a file-backed store outlives its handle */
	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_OK));
	booking_close(f.bk);
	f.bk = NULL;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.clock = f.clock;
	snprintf(url, sizeof(url), "sqlite://%.480s", f.file);
	o.store_url = url;
	ck_assert_ok(booking_open(&again, &o));
	f.bk = again;
	ck_assert_ok(booking_reservation_get(&r, f.bk, &admin, b));
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED);
	booking_reservation_free(r);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_SOLD);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

/* --- paging a user's reservations through the public call --------------------- */

/* Hold one seat each for `user`, `n` times; some share a millisecond. Ids into `ids`. */
static void hold_many(const char *user, int first_seat, int n, char ids[][BOOKING_ID_SIZE])
{
	for (int i = 0; i < n; i++) {
		char label[8];
		snprintf(label, sizeof label, "%c%d", 'A' + (first_seat + i) / 10, 1 + (first_seat + i) % 10);
		fx_hold_ok(&f, user, label, ids[i]);
		if (i % 3 != 1) /* holds 1 and 2, 4 and 5, ... are made in the same millisecond */
			fx_advance(&f, 1);
	}
}

/* One page of alice's reservations (must succeed); appends its ids to `seen` and returns the page. */
static booking_reservation_list *page_of_alice(size_t limit, const char *cursor, char seen[][BOOKING_ID_SIZE],
                                               size_t *n_seen, size_t cap)
{
	booking_ctx alice = fx_customer("alice");
	booking_reservation_list *l = NULL;
	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, limit, cursor));
	ck_assert_ptr_nonnull(l);
	for (size_t i = 0; i < l->count; i++) {
		ck_assert_uint_lt(*n_seen, cap);
		snprintf(seen[(*n_seen)++], BOOKING_ID_SIZE, "%s", l->items[i]->id);
	}
	return l;
}

static bool listed(char v[][BOOKING_ID_SIZE], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], id) == 0)
			return true;
	return false;
}

/* Every id of `made` once in `seen`, nothing else. */
static void assert_same_ids_once(char seen[][BOOKING_ID_SIZE], size_t n_seen, char made[][BOOKING_ID_SIZE],
                                 size_t n_made)
{
	ck_assert_uint_eq(n_seen, n_made);
	for (size_t i = 0; i < n_seen; i++) {
		ck_assert_msg(listed(made, n_made, seen[i]), "page gave %s, not one of alice's", seen[i]);
		ck_assert_msg(!listed(seen, i, seen[i]), "%s came twice", seen[i]);
	}
}

/* "J9 J10 J11 A10 B2": the labels of `r` in order, each with its row, number and position ("J:12,A-B:12"). */
static void assert_layout_order(const booking_reservation *r)
{
	static const char *const labels[5] = {"J9", "J10", "J11", "A10", "B2"}, *const rows[5] = {"J", "J", "J", "A", "B"};
	static const int numbers[5] = {9, 10, 11, 10, 2}, positions[5] = {8, 9, 10, 21, 25};

	ck_assert_uint_eq(r->seat_count, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_str_eq(r->seats[i]->label, labels[i]);
		ck_assert_str_eq(r->seats[i]->row, rows[i]);
		ck_assert_int_eq(r->seats[i]->number, numbers[i]);
		ck_assert_int_eq(r->seats[i]->position, positions[i]);
	}
}

/* The data of the reservation.created event of `created_id`: does it list the seats in layout order? */
typedef struct created_event {
	const char *created_id;
	int found, in_layout_order;
} created_event;

static int find_created(const booking_event_record *e, void *payload)
{
	created_event *c = payload;
	if (strcmp(e->type, "reservation.created") == 0 && strcmp(e->aggregate_id, c->created_id) == 0) {
		c->found++;
		/* event data is compact JSON (JSON_COMPACT | JSON_SORT_KEYS): the seats read as written */
		c->in_layout_order = strstr(e->data_json, "\"seats\":[\"J9\",\"J10\",\"J11\",\"A10\",\"B2\"]") != NULL;
	}
	return 0;
}

START_TEST(bookings_and_seat_maps_show_seats_in_layout_order_with_rows_and_numbers)
{
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	const char *const held[5] = {"J10", "B2", "J11", "A10", "J9"};
	booking_price price = {.category = "standard", .amount = FX_PRICE};
	booking_seat *seats = NULL;
	size_t n = 0;
	booking_screen *scr = NULL;
	booking_showtime *st_ = NULL;
	booking_seat_map *m = NULL;
	booking_reservation *r = NULL, *g = NULL, *c = NULL;
	booking_reservation_list *l = NULL;

	ck_assert_ok(booking_layout_parse(&seats, &n, "J:12,A-B:12", sizeof *seats));
	ck_assert_ok(booking_screen_create(&scr, f.bk, &admin, f.theater_id, "Layout", seats, n, sizeof *seats));
	booking_free(seats);
	ck_assert_ok(booking_showtime_create(&st_, f.bk, &admin, f.movie_id, scr->id, FX_T0 + FX_DAY, "EUR", &price, 1, sizeof price));
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &alice, st_->id));
	ck_assert_uint_eq(m->count, 36);
	ck_assert_str_eq(m->seats[10]->label, "J11");
	ck_assert_str_eq(m->seats[10]->row, "J");
	ck_assert_int_eq(m->seats[10]->number, 11);
	ck_assert_str_eq(m->seats[25]->row, "B");
	ck_assert_int_eq(m->seats[25]->number, 2);

	ck_assert_ok(booking_hold(&r, f.bk, &alice, st_->id, held, 5));
	assert_layout_order(r);
	created_event ev = {r->id, 0, 0};
	booking_store_scan_cbs cbs = {.event = find_created};
	ck_assert_ok(f.store->scan(f.store, &cbs, &ev));
	ck_assert_int_eq(ev.found, 1);
	ck_assert_msg(ev.in_layout_order, "the reservation.created event does not list J9 J10 J11 A10 B2 in that order");
	ck_assert_ok(booking_reservation_get(&g, f.bk, &alice, r->id));
	assert_layout_order(g);
	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 0, NULL));
	ck_assert_uint_eq(l->count, 1);
	assert_layout_order(l->items[0]);
	ck_assert_ok(booking_reservation_cancel(&c, f.bk, &alice, r->id));
	assert_layout_order(c);
	booking_reservation_list_free(l);
	booking_reservation_free(c);
	booking_reservation_free(g);
	booking_reservation_free(r);
	booking_seat_map_free(m);
	booking_showtime_free(st_);
	booking_screen_free(scr);
}
END_TEST

START_TEST(bookings_come_in_pages_of_the_limit_newest_first_until_no_cursor)
{
	char made[7][BOOKING_ID_SIZE], seen[16][BOOKING_ID_SIZE], bob_id[BOOKING_ID_SIZE];
	size_t n = 0;
	booking_reservation_list *all, *p1, *p2, *p3;

	hold_many("alice", 0, 7, made);
	fx_hold_ok(&f, "bob", "C10", bob_id);

	p1 = page_of_alice(3, NULL, seen, &n, 16);
	ck_assert_uint_eq(p1->count, 3);
	ck_assert_ptr_nonnull(p1->next_cursor);
	ck_assert_uint_lt(strlen(p1->next_cursor), BOOKING_CURSOR_SIZE);
	p2 = page_of_alice(3, p1->next_cursor, seen, &n, 16);
	ck_assert_uint_eq(p2->count, 3);
	ck_assert_ptr_nonnull(p2->next_cursor);
	p3 = page_of_alice(3, p2->next_cursor, seen, &n, 16);
	ck_assert_uint_eq(p3->count, 1);
	ck_assert_ptr_null(p3->next_cursor);
	assert_same_ids_once(seen, n, made, 7);

	/* the pages, end to end, are the whole list in its order: newest first, ties by id */
	n = 0;
	all = page_of_alice(0, "", seen + 7, &n, 9);
	ck_assert_uint_eq(all->count, 7);
	ck_assert_ptr_null(all->next_cursor);
	for (size_t i = 0; i < 7; i++)
		ck_assert_str_eq(seen[i], seen[7 + i]);
	for (size_t i = 1; i < 7; i++) {
		const booking_reservation *newer = all->items[i - 1], *older = all->items[i];
		ck_assert(newer->created_at > older->created_at ||
		          (newer->created_at == older->created_at && strcmp(newer->id, older->id) > 0));
	}
	ck_assert_str_eq(all->items[0]->id, made[6]);
	ck_assert_str_eq(all->items[6]->id, made[0]);

	/* a page exactly as long as what is left has no next page */
	n = 0;
	booking_reservation_list_free(p3);
	p3 = page_of_alice(7, NULL, seen, &n, 16);
	ck_assert_uint_eq(p3->count, 7);
	ck_assert_ptr_null(p3->next_cursor);

	booking_reservation_list_free(all);
	booking_reservation_list_free(p1);
	booking_reservation_list_free(p2);
	booking_reservation_list_free(p3);
}
END_TEST

START_TEST(a_booking_made_between_pages_neither_repeats_nor_skips_older_ones)
{
	char made[7][BOOKING_ID_SIZE], seen[16][BOOKING_ID_SIZE], later[2][BOOKING_ID_SIZE];
	size_t n = 0;
	booking_reservation_list *p1, *p2, *p3;

	hold_many("alice", 0, 7, made);
	p1 = page_of_alice(3, NULL, seen, &n, 16);
	ck_assert_ptr_nonnull(p1->next_cursor);
	/* made while alice walks her pages: newer than the cursor, so they wait for the next walk */
	fx_hold_ok(&f, "alice", "C1", later[0]);
	fx_advance(&f, FX_SECOND);
	fx_hold_ok(&f, "alice", "C2", later[1]);
	p2 = page_of_alice(3, p1->next_cursor, seen, &n, 16);
	ck_assert_ptr_nonnull(p2->next_cursor);
	p3 = page_of_alice(3, p2->next_cursor, seen, &n, 16);
	ck_assert_ptr_null(p3->next_cursor);
	assert_same_ids_once(seen, n, made, 7);
	ck_assert(!listed(seen, n, later[0]) && !listed(seen, n, later[1]));
	/* and a walk started now shows them first */
	booking_reservation_list_free(p1);
	n = 0;
	p1 = page_of_alice(2, NULL, seen, &n, 16);
	ck_assert_str_eq(p1->items[0]->id, later[1]);
	ck_assert_str_eq(p1->items[1]->id, later[0]);

	booking_reservation_list_free(p1);
	booking_reservation_list_free(p2);
	booking_reservation_list_free(p3);
}
END_TEST

static void assert_validation_names(int rc, const char *field)
{
	char want[64];
	ck_assert_code(rc, "VALIDATION_ERROR");
	snprintf(want, sizeof want, "{\"field\":\"%s\"}", field);
	ck_assert_str_eq(booking_error_last()->details_json, want);
}

START_TEST(a_limit_above_the_maximum_or_a_cursor_not_made_by_the_listing_is_a_validation_error)
{
	static const char *const bad[] = {
		"x",
		"1767225600000",
		"1767225600000.",
		".01900000-0000-7000-8000-000000000000",
		"01767225600000.01900000-0000-7000-8000-000000000000",  /* leading zero */
		"-0.01900000-0000-7000-8000-000000000000",
		"+1.01900000-0000-7000-8000-000000000000",
		"9223372036854775808.01900000-0000-7000-8000-000000000000", /* INT64_MAX + 1 */
		"99999999999999999999.01900000-0000-7000-8000-000000000000",
		"17672256000x0.01900000-0000-7000-8000-000000000000",
		"1767225600000.01900000-0000-7000-8000-00000000000",    /* short id */
		"1767225600000.01900000-0000-7000-8000-0000000000000",  /* long id */
		"1767225600000.01900000-0000-7000-8000-00000000000G",
		"1767225600000.01900000-0000-7000-8000-00000000000A",   /* upper case */
		"1767225600000.01900000_0000-7000-8000-000000000000",
		"1767225600000.01900000-0000-7000-8000-000000000000.1",
		"1767225600000 01900000-0000-7000-8000-000000000000",
		"1767225600000.01900000-0000-7000-8000-000000000000 ",
		"1767225600000.01900000-0000-7000-8000-000000000000'; DROP TABLE bookings; --",
	};
	booking_ctx alice = fx_customer("alice");
	booking_reservation_list *l = (booking_reservation_list *)&l;
	char made[1][BOOKING_ID_SIZE], longest[BOOKING_CURSOR_SIZE + 8];

	hold_many("alice", 0, 1, made);
	assert_validation_names(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, BOOKING_PAGE_MAX + 1, NULL),
	                        "limit");
	ck_assert_ptr_null(l);
	assert_validation_names(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, (size_t)-1, NULL), "limit");
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		l = (booking_reservation_list *)&l;
		assert_validation_names(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 0, bad[i]), "cursor");
		ck_assert_ptr_null(l);
	}
	memset(longest, '1', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';
	assert_validation_names(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 0, longest), "cursor");

	/* the bounds themselves are fine; a well-formed key that is no reservation's just positions the page */
	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, BOOKING_PAGE_MAX, NULL));
	ck_assert_uint_eq(l->count, 1);
	booking_reservation_list_free(l);
	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 1,
	                                               "9223372036854775807.ffffffff-ffff-7fff-bfff-ffffffffffff"));
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0]->id, made[0]);
	booking_reservation_list_free(l);
	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 1,
	                                               "0.00000000-0000-7000-8000-000000000000"));
	ck_assert_uint_eq(l->count, 0);
	ck_assert_ptr_null(l->next_cursor);
	booking_reservation_list_free(l);
}
END_TEST

/* --- a consumer polling while writers commit ------------------------------ */

typedef struct seen_ids {
	pthread_mutex_t mu;
	char (*ids)[BOOKING_ID_SIZE];
	size_t n, cap;
	int duplicates;
} seen_ids;

static int remember(const booking_event *e, void *payload)
{
	seen_ids *s = payload;

	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], e->id) == 0)
			s->duplicates++;
	if (s->n < s->cap)
		snprintf(s->ids[s->n++], BOOKING_ID_SIZE, "%s", e->id);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

typedef struct writer {
	int id;
	int errors;
} writer;

static void *write_events(void *p)
{
	writer *w = p;
	char user[16];

	snprintf(user, sizeof(user), "writer-%d", w->id);
	for (int i = 0; i < 20; i++) {
		char label[8];
		booking_reservation *r = NULL;
		booking_ctx me = fx_customer(user);
		int rc;

		snprintf(label, sizeof(label), "%c%d", 'A' + w->id % 3, 1 + (i + w->id) % 10);
		rc = fx_hold(&f, &r, user, label);
		if (rc == BOOKING_ESEAT_ALREADY_BOOKED)
			continue;
		if (rc != 0) {
			w->errors++;
			continue;
		}
		if (booking_reservation_cancel(NULL, f.bk, &me, r->id) != 0)
			w->errors++;
		booking_reservation_free(r);
	}
	return NULL;
}

typedef struct poller {
	atomic_int done; /* the writers finished */
	int errors;
	seen_ids *seen;
} poller;

static void *poll_events(void *p)
{
	poller *pl = p;
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;

	co.group = "tail";
	co.batch = 7;
	while (!atomic_load(&pl->done))
		if (booking_consume(NULL, f.bk, &co, remember, pl->seen) != 0)
			pl->errors++;
	return NULL;
}

START_TEST(consumer_polling_during_concurrent_writes_sees_every_event_once)
{
	pthread_t wt[4], ct;
	writer w[4];
	seen_ids *seen = calloc(1, sizeof(*seen));
	poller poll_arg;
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	size_t handled = 1, total;

	pthread_mutex_init(&seen->mu, NULL);
	seen->cap = 1024;
	seen->ids = calloc(seen->cap, BOOKING_ID_SIZE);
	atomic_init(&poll_arg.done, 0);
	poll_arg.errors = 0;
	poll_arg.seen = seen;
	pthread_create(&ct, NULL, poll_events, &poll_arg);
	for (int i = 0; i < 4; i++) {
		w[i] = (writer){i, 0};
		pthread_create(&wt[i], NULL, write_events, &w[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(wt[i], NULL);
		ck_assert_int_eq(w[i].errors, 0);
	}
	atomic_store(&poll_arg.done, 1);
	pthread_join(ct, NULL);
	ck_assert_int_eq(poll_arg.errors, 0);
	co.group = "tail";
	co.batch = 7;
	while (handled > 0)
		ck_assert_ok(booking_consume(&handled, f.bk, &co, remember, seen));

	total = 0;
	{
		booking_store_scan_cbs cbs = {NULL, NULL, NULL, NULL, t_event, NULL};
		tally t;
		memset(&t, 0, sizeof(t));
		ck_assert_ok(f.store->scan(f.store, &cbs, &t));
		total = t.events;
	}
	ck_assert_uint_gt(total, 0);
	ck_assert_int_eq(seen->duplicates, 0);
	ck_assert_uint_eq(seen->n, total);
	pthread_mutex_destroy(&seen->mu);
	free(seen->ids);
	free(seen);
}
END_TEST

/*
 * The versions of the catalog and ledger groups the store under test
 * declares, and whether it has the kv group (store version 7), read from
 * a store opened (on a fresh URL) and closed again while the suite is
 * made. A store that does not open is taken to have every version and
 * group: its cases then fail in their setup, as all the others do.
 */
static void store_versions(unsigned int *catalog, unsigned int *ledger, bool *kv, bool *states)
{
	char u[512], f[512];
	booking_store *probe = NULL;

	*catalog = *ledger = UINT_MAX;
	*kv = *states = true;
	fx_fresh_url(u, sizeof(u), fx_store_url(), f, sizeof(f));
	if (booking_store_open(&probe, u, NULL) == 0 && probe) {
		*catalog = probe->catalog ? probe->catalog->version : 0;
		*ledger = probe->ledger ? probe->ledger->version : 0;
		*kv = probe->version >= 7 && probe->kv;
		*states = probe->catalog && probe->catalog->version >= 3 && probe->catalog->seat_states;
		probe->free(probe);
	}
	fx_remove_db(f);
}

/*
 * The test cases by group (include/booking/sys/conformance.h). Part one's
 * members run on a store of their own (setup, teardown), part two's flows on
 * a handle (flows_setup, flows_teardown).
 */
void fx_store_suite_add(Suite *s, unsigned int groups)
{
	static const struct {
		unsigned int group;
		bool flow;
		const TTest *const *test;
	} cases[] = {
		{BOOKING_CONFORMANCE_CATALOG, false, &migrate_is_idempotent},
		{BOOKING_CONFORMANCE_CATALOG, false, &validate_refuses_bad_versions_and_missing_members},
		{BOOKING_CONFORMANCE_CATALOG, false, &the_store_clock_reads_utc_milliseconds_and_moves_forward},
		{BOOKING_CONFORMANCE_CATALOG, false, &movie_insert_get_list},
		{BOOKING_CONFORMANCE_CATALOG, false, &theater_insert_get_list},
		{BOOKING_CONFORMANCE_CATALOG, false, &screen_insert_keeps_seats_and_needs_its_theater},
		{BOOKING_CONFORMANCE_CATALOG, false, &showtime_insert_creates_one_free_seat_row_per_seat},
		{BOOKING_CONFORMANCE_CATALOG, false, &showtime_needs_its_movie_and_screen},
		{BOOKING_CONFORMANCE_CATALOG, false, &showtime_list_orders_by_start_and_filters_by_movie},
		{BOOKING_CONFORMANCE_LEDGER, false, &hold_claims_the_seats_inserts_the_booking_and_its_event},
		{BOOKING_CONFORMANCE_LEDGER, false, &hold_of_a_taken_seat_writes_nothing_and_names_the_taken_seats},
		{BOOKING_CONFORMANCE_LEDGER, false, &hold_refused_at_a_later_seat_leaves_the_earlier_ones_as_they_were},
		{BOOKING_CONFORMANCE_LEDGER, false, &hold_of_an_unknown_label_writes_nothing},
		{BOOKING_CONFORMANCE_LEDGER, false, &hold_claims_a_seat_whose_hold_expired},
		{BOOKING_CONFORMANCE_LEDGER, false, &booking_reads_give_each_seat_its_layout_position},
		{BOOKING_CONFORMANCE_LEDGER, false, &duplicate_booking_id_is_refused},
		{BOOKING_CONFORMANCE_LEDGER, false, &bookings_of_a_user_come_newest_first},
		{BOOKING_CONFORMANCE_LEDGER, false, &bookings_of_a_user_resume_strictly_after_a_key_and_stop_at_max},
		{BOOKING_CONFORMANCE_LEDGER, false, &apply_writes_the_booking_its_seats_and_its_events_at_once},
		{BOOKING_CONFORMANCE_LEDGER, false, &apply_with_a_guard_that_no_longer_holds_writes_nothing_and_names_it},
		{BOOKING_CONFORMANCE_LEDGER, false, &apply_moves_only_the_seats_the_booking_has_in_the_given_state},
		{BOOKING_CONFORMANCE_LEDGER, false, &booking_list_by_status_gives_the_bookings_in_that_status_by_expiry},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_begin_starts_a_payment_and_extends_the_seat_holds},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_begin_with_a_running_key_is_in_progress_and_another_request_is_key_reuse},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_begin_guards_write_nothing},
		{BOOKING_CONFORMANCE_LEDGER, false, &keys_are_per_user},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_finish_succeeded_confirms_sells_and_completes_the_key},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_finish_succeeded_after_the_seats_were_lost_is_expired_and_writes_nothing},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_finish_declined_keeps_the_hold_and_replays_the_decline},
		{BOOKING_CONFORMANCE_LEDGER, false, &pay_finish_declined_with_release_cancels_and_frees},
		{BOOKING_CONFORMANCE_LEDGER, false, &refund_of_a_confirmed_booking_frees_its_seats},
		{BOOKING_CONFORMANCE_LEDGER, false, &refund_of_a_processing_payment_is_invalid_state},
		{BOOKING_CONFORMANCE_LEDGER, false, &payment_list_by_status_gives_the_payments_in_that_status_oldest_first},
		{BOOKING_CONFORMANCE_LEDGER, false, &payment_attempts_counts_the_payments_in_the_status_asked},
		{BOOKING_CONFORMANCE_LEDGER, false, &scan_walks_every_table_and_skips_null_callbacks},
		{BOOKING_CONFORMANCE_LEDGER, true, &flow_hold_pay_cancel_expire_relay_consume_check},
		{BOOKING_CONFORMANCE_LEDGER, true, &flow_data_survives_reopening_a_file_store},
		{BOOKING_CONFORMANCE_LEDGER, true, &bookings_and_seat_maps_show_seats_in_layout_order_with_rows_and_numbers},
		{BOOKING_CONFORMANCE_LEDGER, true, &bookings_come_in_pages_of_the_limit_newest_first_until_no_cursor},
		{BOOKING_CONFORMANCE_LEDGER, true, &a_booking_made_between_pages_neither_repeats_nor_skips_older_ones},
		{BOOKING_CONFORMANCE_LEDGER, true, &a_limit_above_the_maximum_or_a_cursor_not_made_by_the_listing_is_a_validation_error},
		{BOOKING_CONFORMANCE_OUTBOX, false, &sequences_count_per_aggregate_and_positions_increase},
		{BOOKING_CONFORMANCE_OUTBOX, false, &outbox_read_pages_by_position},
		{BOOKING_CONFORMANCE_OUTBOX, false, &outbox_unpublished_and_mark_published},
		{BOOKING_CONFORMANCE_CONSUMERS, false, &cursor_moves_by_compare_and_set},
		{BOOKING_CONFORMANCE_CONSUMERS, false, &inbox_records_each_event_once_per_group},
		{BOOKING_CONFORMANCE_CONSUMERS, false, &dead_letters_are_idempotent_and_listed_oldest_first},
		{BOOKING_CONFORMANCE_RACES, false, &cursor_compare_and_set_lets_one_writer_win_each_step},
		{BOOKING_CONFORMANCE_RACES, false, &concurrent_inbox_marks_of_one_event_let_exactly_one_win},
		{BOOKING_CONFORMANCE_RACES, false, &concurrent_holds_of_one_seat_let_exactly_one_win},
		{BOOKING_CONFORMANCE_RACES, true, &consumer_polling_during_concurrent_writes_sees_every_event_once},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].flow)
			fx_add_case(s, groups, cases[i].group, *cases[i].test, flows_setup, flows_teardown, 60);
		else
			fx_add_case(s, groups, cases[i].group, *cases[i].test, setup, teardown, 30);
	}

	/* the box office's primitives (version 2) and per-buyer limits (ledger version 3): on a store that declares them */
	static const struct {
		unsigned int group, catalog, ledger; /* the versions the case needs */
		const TTest *const *test;
	} v2[] = {
		{BOOKING_CONFORMANCE_CATALOG, 2, 0, &screen_insert_keeps_each_seats_column},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &seat_writes_claim_the_claimable_seats_for_the_reservation_they_insert},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2,
		 &a_seat_write_that_does_not_hold_is_failed_guard_count_plus_its_index_and_writes_nothing},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &seat_writes_expecting_a_status_compare_the_status_and_the_holder},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &blocked_seats_keep_their_note_in_seat_list_and_scan_until_unblocked},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &an_inserted_reservation_keeps_its_seats_and_a_duplicate_id_writes_nothing},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &a_holds_key_reads_back_as_its_idempotency_record_once_per_user_and_key},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &reservation_set_gives_a_new_expiry_and_new_seats_and_total},
		{BOOKING_CONFORMANCE_LEDGER, 2, 2, &reservations_of_a_showtime_come_newest_first_in_a_status_and_in_pages},
		{BOOKING_CONFORMANCE_RACES, 2, 2, &concurrent_claims_of_one_seat_or_one_key_let_exactly_one_win},
		/* ledger version 3: per-buyer seat limits */
		{BOOKING_CONFORMANCE_LEDGER, 2, 3, &a_hold_over_the_users_seat_limit_is_limit_reached_and_writes_nothing},
		{BOOKING_CONFORMANCE_LEDGER, 2, 3,
		 &the_user_seats_guard_holds_while_the_user_has_at_most_value_taken_seats_before_the_change},
		{BOOKING_CONFORMANCE_RACES, 2, 3, &concurrent_holds_of_one_user_under_a_seat_limit_let_exactly_the_limit_win},
		/* ledger version 4: the live-hold limit */
		{BOOKING_CONFORMANCE_LEDGER, 2, 4, &a_hold_over_the_users_live_hold_limit_is_limit_reached_and_writes_nothing},
		{BOOKING_CONFORMANCE_LEDGER, 2, 4,
		 &the_user_holds_guard_holds_while_the_user_has_at_most_value_live_holds_before_the_change},
		{BOOKING_CONFORMANCE_RACES, 2, 4, &concurrent_holds_of_one_user_under_a_live_hold_limit_let_exactly_the_limit_win},
	};
	/* the kv group (store version 7, optional): on a store that has it */
	static const struct {
		unsigned int group;
		const TTest *const *test;
	} kv_cases[] = {
		{BOOKING_CONFORMANCE_LEDGER, &kv_put_compares_the_version_and_writes_the_value_rank_and_expiry},
		{BOOKING_CONFORMANCE_LEDGER, &kv_put_without_a_value_deletes_the_record},
		{BOOKING_CONFORMANCE_LEDGER, &kv_records_that_expired_are_absent_and_a_new_record_takes_their_place},
		{BOOKING_CONFORMANCE_LEDGER, &kv_list_orders_by_rank_then_key_up_to_max_in_one_namespace},
		{BOOKING_CONFORMANCE_OUTBOX, &kv_put_appends_its_events_with_the_write_and_none_when_it_is_refused},
		{BOOKING_CONFORMANCE_RACES, &concurrent_kv_increments_by_compare_and_set_lose_no_update},
	};
	unsigned int catalog = 0, ledger = 0;
	bool kv = false, states = false;

	if (groups & (BOOKING_CONFORMANCE_CATALOG | BOOKING_CONFORMANCE_LEDGER | BOOKING_CONFORMANCE_OUTBOX |
	              BOOKING_CONFORMANCE_RACES))
		store_versions(&catalog, &ledger, &kv, &states);
	/* seat_states (catalog version 3, optional): on a store that has it */
	if (states && ledger >= 2)
		fx_add_case(s, groups, BOOKING_CONFORMANCE_CATALOG,
		            seat_states_hands_on_each_row_not_in_the_status_given_as_seat_list_has_it, setup, teardown, 30);
	for (size_t i = 0; i < sizeof(v2) / sizeof(v2[0]); i++)
		if (catalog >= v2[i].catalog && ledger >= v2[i].ledger)
			fx_add_case(s, groups, v2[i].group, *v2[i].test, setup, teardown, 30);
	for (size_t i = 0; kv && i < sizeof(kv_cases) / sizeof(kv_cases[0]); i++)
		fx_add_case(s, groups, kv_cases[i].group, *kv_cases[i].test, setup, teardown, 30);
}

#ifndef FX_NO_MAIN
int main(void)
{
	Suite *s = suite_create("conformance_store");

	fx_store_suite_add(s, BOOKING_CONFORMANCE_ALL);
	return fx_run(s);
}
#endif
