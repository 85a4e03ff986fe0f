/*
 * PostgreSQL store — round trips: a hold, a change (apply: a version 1
 * change and one with seat writes, an insert and a key), every read and
 * every other write, and a read of the server's clock, is one statement
 * on the wire, so one round trip (issue 11; the shared
 * SQL layer must not add BEGIN/COMMIT or a second query). Counted by
 * interposing libpq's calls that reach the server (PQexec, PQexecPrepared,
 * PQexecParams, PQprepare): the library's calls resolve to the definitions
 * below, which count and forward to libpq. A statement is prepared once
 * per connection (its first use there), so each member is called twice:
 * the second call is exactly one execution and no prepare.
 *
 * Runs on the server whose URL is BOOKING_TEST_STORE_URL (with-pg.sh).
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <check.h>
#include <dlfcn.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int executions, prepares;

/* Forward to libpq's own definition (the next one in the lookup order). */
#define REAL(name, ...)                                                                                      \
	static union {                                                                                       \
		void *object;                                                                                \
		name##_fn fn;                                                                                \
	} real;                                                                                              \
	if (real.object == NULL)                                                                             \
		real.object = dlsym(RTLD_NEXT, #name);                                                       \
	return real.fn(__VA_ARGS__)

typedef PGresult *(*PQexec_fn)(PGconn *, const char *);
typedef PGresult *(*PQexecPrepared_fn)(PGconn *, const char *, int, const char *const *, const int *, const int *,
                                       int);
typedef PGresult *(*PQexecParams_fn)(PGconn *, const char *, int, const Oid *, const char *const *, const int *,
                                     const int *, int);
typedef PGresult *(*PQprepare_fn)(PGconn *, const char *, const char *, int, const Oid *);

PGresult *PQexec(PGconn *conn, const char *query)
{
	executions++;
	REAL(PQexec, conn, query);
}

PGresult *PQexecPrepared(PGconn *conn, const char *name, int n, const char *const *values, const int *lengths,
                         const int *formats, int result_format)
{
	executions++;
	REAL(PQexecPrepared, conn, name, n, values, lengths, formats, result_format);
}

PGresult *PQexecParams(PGconn *conn, const char *command, int n, const Oid *types, const char *const *values,
                       const int *lengths, const int *formats, int result_format)
{
	executions++;
	REAL(PQexecParams, conn, command, n, types, values, lengths, formats, result_format);
}

PGresult *PQprepare(PGconn *conn, const char *name, const char *query, int n, const Oid *types)
{
	prepares++;
	REAL(PQprepare, conn, name, query, n, types);
}

#define assert_ok(rc) ck_assert_msg((rc) == 0, "%s: %s", #rc, booking_error_last()->message)

/* `call` twice: one execution each, a prepare at most the first time. */
#define ONE_ROUND_TRIP(call)                                                                                 \
	do {                                                                                                 \
		for (int pass = 0; pass < 2; pass++) {                                                       \
			executions = prepares = 0;                                                           \
			(void)(call);                                                                        \
			ck_assert_msg(executions == 1 && prepares <= 1 - pass,                               \
			              "%s (call %d): %d executions, %d prepares", #call, pass + 1, executions, \
			              prepares);                                                             \
		}                                                                                            \
	} while (0)

/* A write `call` twice, each succeeding: one execution each, a prepare at most the first time. */
#define ONE_ROUND_TRIP_WRITE(call)                                                                           \
	do {                                                                                                 \
		for (int pass = 0; pass < 2; pass++) {                                                       \
			int rc_;                                                                             \
			executions = prepares = 0;                                                           \
			rc_ = (call);                                                                        \
			ck_assert_msg(rc_ == 0, "%s (call %d): %s", #call, pass + 1, booking_error_last()->message); \
			ck_assert_msg(executions == 1 && prepares <= 1 - pass,                               \
			              "%s (call %d): %d executions, %d prepares", #call, pass + 1, executions, \
			              prepares);                                                             \
		}                                                                                            \
	} while (0)

/* The catalog's and the users' writes, each with a new id (and address) per call. */
static int new_movie(booking_store *st, booking_movie *m, int64_t now)
{
	booking_uuid_v7(m->id, now);
	return st->catalog->movie_insert(st, m);
}

static int new_theater(booking_store *st, booking_theater *t, int64_t now)
{
	booking_uuid_v7(t->id, now);
	return st->catalog->theater_insert(st, t);
}

static int new_screen(booking_store *st, booking_screen *s, int64_t now)
{
	booking_uuid_v7(s->id, now);
	return st->catalog->screen_insert(st, s);
}

static int new_showtime(booking_store *st, booking_showtime *s, int64_t now)
{
	booking_uuid_v7(s->id, now);
	return st->catalog->showtime_insert(st, s);
}

static int new_user(booking_store *st, booking_user *u, booking_event_record *e, int64_t now)
{
	char email[80];
	booking_store_user_insert req = {u, "$argon2id$v=19$m=1,t=1,p=1$x$y", e};

	booking_uuid_v7(u->id, now);
	snprintf(email, sizeof email, "%s@example.com", u->id);
	u->email = email;
	booking_uuid_v7(e->id, now);
	snprintf(e->aggregate_id, sizeof e->aggregate_id, "%s", u->id);
	return st->users->user_insert(st, &req);
}

static int new_inbox_mark(booking_store *st, int64_t now)
{
	char id[BOOKING_ID_SIZE];

	booking_uuid_v7(id, now);
	return st->outbox->inbox_mark(st, "group", id, now);
}

#define COUNTER(name, type)                                                                                  \
	static int name(const type *record, void *payload)                                                   \
	{                                                                                                    \
		(void)record;                                                                                \
		++*(int *)payload;                                                                           \
		return 0;                                                                                    \
	}
COUNTER(movie_cb, booking_movie)
COUNTER(theater_cb, booking_theater)
COUNTER(showtime_cb, booking_showtime)
COUNTER(seat_cb, booking_store_seat)
COUNTER(booking_cb, booking_reservation)
COUNTER(payment_cb, booking_payment)
COUNTER(event_cb, booking_event_record)

static int dead_cb(const char *group, const char *event_id, const char *reason, const char *envelope_json,
                   int64_t dead_at, void *payload)
{
	(void)group, (void)event_id, (void)reason, (void)envelope_json, (void)dead_at;
	++*(int *)payload;
	return 0;
}

static void event_init(booking_event_record *e, const char *type, const char *aggregate, const char *id, int64_t now)
{
	memset(e, 0, sizeof *e);
	booking_uuid_v7(e->id, now);
	e->type = type;
	e->aggregate_type = aggregate;
	snprintf(e->aggregate_id, sizeof e->aggregate_id, "%s", id);
	e->occurred_at = now;
	e->correlation_id = "";
	e->traceparent = "";
	e->data_json = "{}";
}

/*
 * A hold as the box office makes it (ledger version 2): one change that
 * claims seat `label` with a seat write, inserts the reservation and its
 * key, and appends its event. Each call holds the seat a millisecond
 * later than the last, for a millisecond: the next finds it claimable.
 */
static int new_v2_hold(booking_store *st, const booking_reservation *like, const char *label, int64_t now)
{
	static int64_t at;
	booking_seat_ref seat = {.position = 1};
	booking_seat_ref *seats[1] = {&seat};
	booking_reservation r = *like;
	booking_event_record e;
	char key[40];

	at = at >= now ? at + 2 : now;
	snprintf(seat.label, sizeof seat.label, "%s", label);
	booking_uuid_v7(r.id, at);
	r.seats = seats;
	r.seat_count = 1;
	r.created_at = r.updated_at = at;
	r.expires_at = at + 1;
	snprintf(key, sizeof key, "hold-%lld", (long long)at);
	event_init(&e, "reservation.created", "reservation", r.id, at);
	const booking_store_seat_write w = {.label = label,
	                                    .expect = BOOKING_SEAT_EXPECT_CLAIMABLE,
	                                    .write = true,
	                                    .status = BOOKING_SEAT_HELD,
	                                    .reservation_id = r.id,
	                                    .hold_until = r.expires_at};
	const booking_store_key_record k = {r.user_id, key, "hmac-sha256:00", r.id};
	const booking_store_change c = {.event_count = 1,
	                                .events = &e,
	                                .showtime_id = r.showtime_id,
	                                .now = at,
	                                .seat_write_count = 1,
	                                .seat_writes = &w,
	                                .insert = &r,
	                                .key = &k};
	return st->ledger->apply(NULL, st, &c);
}

START_TEST(a_hold_a_change_every_read_and_every_write_are_one_round_trip_each)
{
	const int64_t now = (int64_t)time(NULL) * 1000;
	const char *url = getenv("BOOKING_TEST_STORE_URL");
	booking_seat seats[2] = {{.label = "A1", .category = "standard"}, {.label = "A2", .category = "premium"}};
	booking_price prices[2] = {{"standard", 1200}, {"premium", 1850}};
	booking_seat_ref held[1] = {{.label = "A1"}};
	/* the records' arrays are arrays of pointers */
	booking_seat *seat_ptrs[2] = {&seats[0], &seats[1]};
	booking_price *price_ptrs[2] = {&prices[0], &prices[1]};
	booking_seat_ref *held_ptrs[1] = {&held[0]};
	booking_movie movie = {0}, *m = NULL;
	booking_theater theater = {0}, *t = NULL;
	booking_screen screen = {0}, *sc = NULL;
	booking_showtime showtime = {0}, *sh = NULL;
	booking_reservation b = {0}, *r = NULL;
	booking_user user = {0}, *u = NULL;
	booking_payment *p = NULL;
	booking_event_record created, registered;
	booking_store_idempotency_record idem;
	booking_store_payment_attempts attempts;
	booking_store *st = NULL;
	int64_t position, server_now;
	bool flag;
	int n = 0;

	ck_assert_msg(url && *url, "BOOKING_TEST_STORE_URL is not set (run through tests/postgres/with-pg.sh)");
	assert_ok(booking_store_open(&st, url, NULL));
	assert_ok(st->migrate(NULL, st));

	booking_uuid_v7(movie.id, now);
	movie.title = "Round Trips";
	movie.duration_minutes = 90;
	movie.created_at = now;
	assert_ok(st->catalog->movie_insert(st, &movie));
	booking_uuid_v7(theater.id, now);
	theater.name = "Rex";
	theater.city = "Paris";
	theater.created_at = now;
	assert_ok(st->catalog->theater_insert(st, &theater));
	booking_uuid_v7(screen.id, now);
	memcpy(screen.theater_id, theater.id, sizeof screen.theater_id);
	screen.name = "1";
	screen.seats = seat_ptrs;
	screen.seat_count = 2;
	screen.created_at = now;
	assert_ok(st->catalog->screen_insert(st, &screen));
	booking_uuid_v7(showtime.id, now);
	memcpy(showtime.movie_id, movie.id, sizeof showtime.movie_id);
	memcpy(showtime.screen_id, screen.id, sizeof showtime.screen_id);
	showtime.starts_at = now + 86400000;
	memcpy(showtime.currency, "EUR", 4);
	showtime.status = BOOKING_SHOWTIME_SCHEDULED;
	showtime.prices = price_ptrs;
	showtime.price_count = 2;
	showtime.created_at = now;
	assert_ok(st->catalog->showtime_insert(st, &showtime));
	booking_uuid_v7(user.id, now);
	user.email = "round@example.com";
	user.role = BOOKING_ROLE_CUSTOMER;
	user.created_at = user.updated_at = now;
	event_init(&registered, "user.registered", "user", user.id, now);
	booking_store_user_insert ui = {&user, "$argon2id$v=19$m=1,t=1,p=1$x$y", &registered};
	assert_ok(st->users->user_insert(st, &ui));

	/* the hold and a change */
	booking_uuid_v7(b.id, now);
	memcpy(b.user_id, user.id, sizeof b.user_id);
	memcpy(b.showtime_id, showtime.id, sizeof b.showtime_id);
	b.status = BOOKING_RESERVATION_PENDING;
	b.saga = BOOKING_SAGA_SEATS_RESERVED;
	b.seats = held_ptrs;
	b.seat_count = 1;
	b.total_amount = 1200;
	memcpy(b.currency, "EUR", 4);
	b.created_at = b.updated_at = now;
	b.expires_at = now + 900000;
	b.version = 1;
	event_init(&created, "reservation.created", "reservation", b.id, now);
	booking_store_hold hold = {.reservation = &b, .now = now, .event = &created};
	executions = prepares = 0;
	assert_ok(st->ledger->hold(NULL, NULL, st, &hold));
	ck_assert_msg(executions == 1 && prepares <= 1, "hold: %d executions, %d prepares", executions, prepares);
	for (int64_t version = 1; version <= 2; version++) {
		booking_store_guard guard = {0};
		booking_store_reservation_set set = {.id = b.id, .status = BOOKING_RESERVATION_PENDING, .saga = BOOKING_SAGA_SEATS_RESERVED, .updated_at = now};
		booking_store_change change = {0};

		guard.kind = BOOKING_GUARD_RESERVATION_VERSION;
		guard.id = b.id;
		guard.value = version;
		change.guard_count = 1;
		change.guards = &guard;
		change.reservation = &set;
		executions = prepares = 0;
		assert_ok(st->ledger->apply(NULL, st, &change));
		ck_assert_msg(executions == 1 && prepares <= 2 - version, "apply: %d executions, %d prepares", executions,
		              prepares);
	}

	/* the catalog */
	ONE_ROUND_TRIP((st->catalog->movie_get(&m, st, movie.id), booking_movie_free(m)));
	ONE_ROUND_TRIP(st->catalog->movie_list(st, movie_cb, &n));
	ONE_ROUND_TRIP((st->catalog->theater_get(&t, st, theater.id), booking_theater_free(t)));
	ONE_ROUND_TRIP(st->catalog->theater_list(st, theater_cb, &n));
	ONE_ROUND_TRIP((st->catalog->screen_get(&sc, st, screen.id), booking_screen_free(sc)));
	ONE_ROUND_TRIP((st->catalog->showtime_get(&sh, st, showtime.id), booking_showtime_free(sh)));
	ONE_ROUND_TRIP(st->catalog->showtime_list(st, NULL, showtime_cb, &n));
	ONE_ROUND_TRIP(st->catalog->showtime_list(st, movie.id, showtime_cb, &n));
	ONE_ROUND_TRIP(st->catalog->seat_list(st, showtime.id, seat_cb, &n));
	/* the ledger */
	ONE_ROUND_TRIP((st->ledger->reservation_get(&r, st, b.id), booking_reservation_free(r)));
	ONE_ROUND_TRIP(st->ledger->reservation_list_by_user(st, user.id, 0, NULL, 10, booking_cb, &n));
	ONE_ROUND_TRIP(st->ledger->reservation_list_by_showtime(st, showtime.id, 0, 0, NULL, 10, booking_cb, &n));
	ONE_ROUND_TRIP(st->ledger->reservation_list_by_showtime(st, showtime.id, BOOKING_RESERVATION_PENDING, now + 1,
	                                                        b.id, 10, booking_cb, &n));
	ONE_ROUND_TRIP(st->ledger->reservation_list_by_user(st, user.id, now + 1, b.id, 10,
	                                                booking_cb, &n));
	ONE_ROUND_TRIP(st->ledger->reservation_list_by_status(st, BOOKING_RESERVATION_PENDING, now + 900000, 10,
	                                                  booking_cb, &n));
	ONE_ROUND_TRIP(st->ledger->idempotency_get(&idem, st, user.id, "key-1"));
	ONE_ROUND_TRIP(st->ledger->payment_get(&p, st, b.id));
	ONE_ROUND_TRIP(st->ledger->payment_list_by_status(st, BOOKING_PAYMENT_FAILED, now, 10,
	                                                  payment_cb, &n));
	ONE_ROUND_TRIP(st->ledger->payment_attempts(&attempts, st, user.id, "key-1", b.id, BOOKING_PAYMENT_FAILED, 0));
	/* the outbox and its consumers */
	ONE_ROUND_TRIP(st->outbox->outbox_unpublished(st, 10, event_cb, &n));
	ONE_ROUND_TRIP(st->outbox->outbox_read(st, 0, 10, event_cb, &n));
	ONE_ROUND_TRIP(st->outbox->cursor_get(&position, st, "group"));
	ONE_ROUND_TRIP(st->outbox->inbox_seen(&flag, st, "group", created.id));
	ONE_ROUND_TRIP(st->outbox->dead_letter_list(st, NULL, dead_cb, &n));
	ONE_ROUND_TRIP(st->outbox->dead_letter_list(st, "group", dead_cb, &n));
	/* users and tokens */
	ONE_ROUND_TRIP((st->users->user_get(&u, NULL, st, user.id), booking_user_free(u)));
	ONE_ROUND_TRIP((st->users->user_get_by_email(&u, NULL, st, user.email), booking_user_free(u)));
	ONE_ROUND_TRIP(st->users->token_is_revoked(&flag, st, "jti-1", now));
	/* the server's clock (one clock per deployment) */
	ONE_ROUND_TRIP(st->clock_now(&server_now, st));

	/* the other writes: one statement each */
	ONE_ROUND_TRIP_WRITE(new_movie(st, &movie, now));
	ONE_ROUND_TRIP_WRITE(new_theater(st, &theater, now));
	ONE_ROUND_TRIP_WRITE(new_screen(st, &screen, now));
	ONE_ROUND_TRIP_WRITE(new_showtime(st, &showtime, now));
	ONE_ROUND_TRIP_WRITE(new_user(st, &user, &registered, now));
	ONE_ROUND_TRIP_WRITE(st->users->user_set_password_hash(st, user.id, NULL, "$argon2id$new", now));
	ONE_ROUND_TRIP_WRITE(st->users->token_revoke(st, "jti-1", now + 60000, now));
	ONE_ROUND_TRIP_WRITE(st->outbox->outbox_mark_published(st, (const char *const[]){created.id}, 1));
	ONE_ROUND_TRIP_WRITE(st->outbox->cursor_advance(st, "group", pass, pass + 1));
	ONE_ROUND_TRIP_WRITE(new_inbox_mark(st, now));
	/* a change with a seat write, a reservation insert and a key (ledger version 2): one round trip too */
	ONE_ROUND_TRIP_WRITE(new_v2_hold(st, &b, "A2", now));
	/* a hold under a user seat limit (ledger version 3): one round trip, refused or made */
	{
		booking_reservation lr = b;
		booking_seat_ref a2 = {.label = "A2"};
		booking_seat_ref *a2_ptr[1] = {&a2};
		booking_event_record lev;
		const int64_t later = now + 60000; /* A2's holds above are over, A1's (b's) is not */
		booking_uuid_v7(lr.id, later);
		lr.seats = a2_ptr;
		lr.created_at = lr.updated_at = later;
		lr.expires_at = later + 900000;
		event_init(&lev, "reservation.created", "reservation", lr.id, later);
		booking_store_hold limited = {.reservation = &lr, .now = later, .event = &lev, .user_seat_limit = 1};
		int refused = 0;
		ONE_ROUND_TRIP(refused += st->ledger->hold(NULL, NULL, st, &limited) == BOOKING_ELIMIT_REACHED);
		ck_assert_int_eq(refused, 2);
		limited.user_seat_limit = 2;
		executions = prepares = 0;
		assert_ok(st->ledger->hold(NULL, NULL, st, &limited));
		ck_assert_msg(executions == 1 && prepares == 0, "limited hold: %d executions, %d prepares", executions,
		              prepares);
	}
	ONE_ROUND_TRIP_WRITE(st->outbox->dead_letter_put(st, "group", created.id, "reason", "{}", now));
	assert_ok(st->catalog->seat_list(st, showtime.id, seat_cb, &n)); /* the last showtime has its seats */
	assert_ok(st->outbox->cursor_get(&position, st, "group"));
	ck_assert_int_eq(position, 2);
	assert_ok(st->users->token_is_revoked(&flag, st, "jti-1", now));
	ck_assert(flag);

	/* what they read (the arrays come back as JSON on this store) */
	assert_ok(st->catalog->screen_get(&sc, st, screen.id));
	ck_assert_uint_eq(sc->seat_count, 2);
	ck_assert_str_eq(sc->seats[1]->label, "A2");
	ck_assert_str_eq(sc->seats[1]->category, "premium");
	booking_screen_free(sc);
	assert_ok(st->catalog->showtime_get(&sh, st, showtime.id));
	ck_assert_uint_eq(sh->price_count, 2);
	ck_assert_str_eq(sh->prices[1]->category, "premium");
	ck_assert_int_eq(sh->prices[1]->amount, 1850);
	booking_showtime_free(sh);
	assert_ok(st->ledger->reservation_get(&r, st, b.id));
	ck_assert_uint_eq(r->seat_count, 1);
	ck_assert_str_eq(r->seats[0]->label, "A1");
	ck_assert_int_eq(r->version, 3);
	booking_reservation_free(r);
	st->free(st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("postgresql-round-trips");
	TCase *tc = tcase_create("round trips");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, a_hold_a_change_every_read_and_every_write_are_one_round_trip_each);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
