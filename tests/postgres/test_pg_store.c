/*
 * PostgreSQL store — what only this backend has to get right: migrations
 * run by many processes at once, a schema newer than the code, lost
 * connections (reported, then replaced), writes whose reply was lost
 * (settled by looking, through a TCP proxy that drops a reply or a
 * request), statement and pool timeouts, and outbox positions that no
 * reader can skip while many writers commit.
 *
 * Each test works in a schema of its own (options=-csearch_path=...), on
 * the server whose URL is BOOKING_TEST_STORE_URL (tests/postgres/with-pg.sh).
 * libpq is used directly only to play the administrator.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <check.h>
#include <libpq-fe.h>

/* The schema version this libbooking writes, and one beyond it. */
#define PG_SCHEMA_CURRENT 12
#define PG_SCHEMA_NEWER "13"


#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 INT64_C(1767225600000)
#define MINUTE INT64_C(60000)

/* ------------------------------------------------------------------------
 * URLs and the administrator's connection.
 * ------------------------------------------------------------------------ */

static const char *base_url(void)
{
	const char *u = getenv("BOOKING_TEST_STORE_URL");
	ck_assert_msg(u && *u, "BOOKING_TEST_STORE_URL is not set (run through tests/postgres/with-pg.sh)");
	return u;
}

/* The base URL in schema `schema`, with extra server options (e.g. "-cstatement_timeout%3D300"). */
static void schema_url(char *out, size_t n, const char *schema, const char *extra_options)
{
	const char *u = base_url();
	snprintf(out, n, "%s%coptions=-csearch_path%%3D%s%s%s", u, strchr(u, '?') ? '&' : '?', schema,
	         extra_options ? "%20" : "", extra_options ? extra_options : "");
}

static PGconn *admin(void)
{
	PGconn *c = PQconnectdb(base_url());
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "admin connection: %s", PQerrorMessage(c));
	return c;
}

static void admin_exec(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql,
	              PQerrorMessage(c));
	PQclear(r);
}

static long admin_count(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
	long n = atol(PQgetvalue(r, 0, 0));
	PQclear(r);
	return n;
}

#define ck_assert_code(rc, code)                                                                             \
	do {                                                                                                 \
		int rc_ = (rc);                                                                              \
		ck_assert_msg(rc_ == (code), "expected %s, got %s: %s", booking_error_name(code),            \
		              booking_error_name(rc_), rc_ ? booking_error_last()->message : "");           \
	} while (0)
#define ck_assert_ok(rc) ck_assert_code(rc, 0)

/* A store of `url` with the pool its parameters ask for (the URL's own parameters kept). */
static booking_store *open_store(const char *url, int pool_size, int pool_timeout_s)
{
	char with_pool[1024];
	booking_store *st = NULL;
	int v = 0;
	snprintf(with_pool, sizeof with_pool, "%s%cpool=%d&pool_timeout=%d", url, strchr(url, '?') ? '&' : '?',
	         pool_size, pool_timeout_s);
	ck_assert_ok(booking_store_open(&st, with_pool, NULL));
	ck_assert_ok(st->migrate(&v, st));
	ck_assert_int_eq(v, PG_SCHEMA_CURRENT);
	return st;
}

/* ------------------------------------------------------------------------
 * A catalog and holds through the vtable.
 * ------------------------------------------------------------------------ */

typedef struct world {
	booking_store *st;
	char showtime_id[BOOKING_ID_SIZE];
} world;

static void seed(world *w, const char *layout)
{
	booking_movie m = {{0}, (char *)"Proxy", 100, T0};
	booking_theater t = {{0}, (char *)"Odeon", (char *)"", T0};
	booking_screen s;
	booking_showtime sh;
	booking_price price = {"standard", 1000};
	booking_price *price_ptr = &price;
	booking_seat *seats = NULL;
	size_t n = 0;

	booking_uuid_v7(m.id, T0);
	booking_uuid_v7(t.id, T0);
	ck_assert_ok(w->st->catalog->movie_insert(w->st, &m));
	ck_assert_ok(w->st->catalog->theater_insert(w->st, &t));
	ck_assert_ok(booking_layout_parse(&seats, &n, layout, sizeof *seats));
	memset(&s, 0, sizeof s);
	booking_uuid_v7(s.id, T0);
	memcpy(s.theater_id, t.id, BOOKING_ID_SIZE);
	s.name = (char *)"One";
	s.seat_count = n;
	booking_seat **ptrs = calloc(n, sizeof *ptrs); /* a screen's seats are an array of pointers */
	ck_assert_ptr_nonnull(ptrs);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = &seats[i];
	s.seats = ptrs;
	s.created_at = T0;
	ck_assert_ok(w->st->catalog->screen_insert(w->st, &s));
	free(ptrs);
	booking_free(seats);
	memset(&sh, 0, sizeof sh);
	booking_uuid_v7(sh.id, T0);
	memcpy(sh.movie_id, m.id, BOOKING_ID_SIZE);
	memcpy(sh.screen_id, s.id, BOOKING_ID_SIZE);
	sh.starts_at = T0 + 24 * 60 * MINUTE;
	memcpy(sh.currency, "EUR", 4);
	sh.price_count = 1;
	sh.prices = &price_ptr;
	sh.status = BOOKING_SHOWTIME_SCHEDULED;
	sh.created_at = T0;
	ck_assert_ok(w->st->catalog->showtime_insert(w->st, &sh));
	memcpy(w->showtime_id, sh.id, BOOKING_ID_SIZE);
}

typedef struct hold_req {
	booking_reservation r;
	booking_seat_ref seat;
	booking_seat_ref *seat_ptr; /* r.seats: one pointer, to `seat` */
	booking_event_record ev;
	booking_store_hold req;
} hold_req;

/* A hold of one seat, ready to send. */
static void hold_init(hold_req *h, const world *w, const char *user, const char *label)
{
	memset(h, 0, sizeof *h);
	booking_uuid_v7(h->r.id, T0);
	snprintf(h->r.user_id, sizeof h->r.user_id, "%s", user);
	memcpy(h->r.showtime_id, w->showtime_id, BOOKING_ID_SIZE);
	h->r.status = BOOKING_RESERVATION_PENDING;
	h->r.saga = BOOKING_SAGA_SEATS_RESERVED;
	snprintf(h->seat.label, sizeof h->seat.label, "%s", label);
	h->r.seat_count = 1;
	h->seat_ptr = &h->seat;
	h->r.seats = &h->seat_ptr;
	h->r.total_amount = 1000;
	memcpy(h->r.currency, "EUR", 4);
	h->r.created_at = h->r.updated_at = T0;
	h->r.expires_at = T0 + 15 * MINUTE;
	h->r.version = 1;
	booking_uuid_v7(h->ev.id, T0);
	h->ev.type = "reservation.created";
	h->ev.aggregate_type = "reservation";
	memcpy(h->ev.aggregate_id, h->r.id, BOOKING_ID_SIZE);
	h->ev.occurred_at = T0;
	h->ev.correlation_id = "c";
	h->ev.traceparent = "";
	h->ev.data_json = "{}";
	h->req.reservation = &h->r;
	h->req.now = T0;
	h->req.event = &h->ev;
}

static int hold_send(booking_store *st, hold_req *h)
{
	booking_seat_ref taken[1];
	size_t n = 0;
	return st->ledger->hold(taken, &n, st, &h->req);
}

static int cancel_send(booking_store *st, const char *reservation_id)
{
	booking_event_record ev;
	memset(&ev, 0, sizeof ev);
	booking_uuid_v7(ev.id, T0);
	ev.type = "reservation.cancelled";
	ev.aggregate_type = "reservation";
	snprintf(ev.aggregate_id, sizeof ev.aggregate_id, "%s", reservation_id);
	ev.occurred_at = T0 + 1;
	ev.correlation_id = "c";
	ev.traceparent = "";
	ev.data_json = "{}";
	booking_store_guard g = {BOOKING_GUARD_RESERVATION_VERSION, reservation_id, 1, NULL};
	booking_store_reservation_set set = {.id = reservation_id, .status = BOOKING_RESERVATION_CANCELLED, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = T0 + 1};
	booking_store_seat_move move = {reservation_id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
	booking_store_change c = {.guard_count = 1, .guards = &g, .reservation = &set, .seats = &move, .event_count = 1, .events = &ev};
	return st->ledger->apply(NULL, st, &c);
}

static bool booking_exists(booking_store *st, const char *id)
{
	booking_reservation *r = NULL;
	int rc = st->ledger->reservation_get(&r, st, id);
	booking_reservation_free(r);
	ck_assert_msg(rc == 0 || rc == BOOKING_ERESERVATION_NOT_FOUND, "reservation_get: %s", booking_error_name(rc));
	return rc == 0;
}

/*
 * A hold as the box office makes it (ledger version 2): one change whose
 * seat writes claim the seats (each expected claimable at `now`), which
 * inserts the reservation and its key and appends its event.
 */
enum { V2_SEATS = 4 };
typedef struct v2_hold {
	booking_reservation r;
	booking_seat_ref seat[V2_SEATS];
	booking_seat_ref *seat_ptr[V2_SEATS];
	booking_store_seat_write w[V2_SEATS];
	booking_event_record ev;
	char key[40];
	booking_store_key_record k;
	booking_store_change c;
} v2_hold;

static void v2_hold_init(v2_hold *h, const world *w, const char *user, const char *const *labels, size_t n,
                         int64_t now)
{
	static atomic_int keys;
	memset(h, 0, sizeof *h);
	ck_assert_uint_le(n, V2_SEATS);
	booking_uuid_v7(h->r.id, now);
	snprintf(h->r.user_id, sizeof h->r.user_id, "%s", user);
	memcpy(h->r.showtime_id, w->showtime_id, BOOKING_ID_SIZE);
	h->r.status = BOOKING_RESERVATION_PENDING;
	h->r.saga = BOOKING_SAGA_SEATS_RESERVED;
	for (size_t i = 0; i < n; i++) {
		snprintf(h->seat[i].label, sizeof h->seat[i].label, "%s", labels[i]);
		h->seat_ptr[i] = &h->seat[i];
		h->w[i] = (booking_store_seat_write){.label = h->seat[i].label,
		                                     .expect = BOOKING_SEAT_EXPECT_CLAIMABLE,
		                                     .write = true,
		                                     .status = BOOKING_SEAT_HELD,
		                                     .reservation_id = h->r.id,
		                                     .hold_until = now + 15 * MINUTE};
	}
	h->r.seat_count = n;
	h->r.seats = h->seat_ptr;
	h->r.total_amount = 1000 * (int64_t)n;
	memcpy(h->r.currency, "EUR", 4);
	h->r.created_at = h->r.updated_at = now;
	h->r.expires_at = now + 15 * MINUTE;
	h->r.version = 1;
	booking_uuid_v7(h->ev.id, now);
	h->ev.type = "reservation.created";
	h->ev.aggregate_type = "reservation";
	memcpy(h->ev.aggregate_id, h->r.id, BOOKING_ID_SIZE);
	h->ev.occurred_at = now;
	h->ev.correlation_id = "c";
	h->ev.traceparent = "";
	h->ev.data_json = "{}";
	snprintf(h->key, sizeof h->key, "hold-%d", atomic_fetch_add(&keys, 1));
	h->k = (booking_store_key_record){h->r.user_id, h->key, "hmac-sha256:00", h->r.id};
	h->c = (booking_store_change){.event_count = 1,
	                              .events = &h->ev,
	                              .showtime_id = h->r.showtime_id,
	                              .now = now,
	                              .seat_write_count = n,
	                              .seat_writes = h->w,
	                              .insert = &h->r,
	                              .key = &h->k};
}

static int v2_send(booking_store *st, v2_hold *h, size_t *failed)
{
	return st->ledger->apply(failed, st, &h->c);
}

/* ------------------------------------------------------------------------
 * Migrations.
 * ------------------------------------------------------------------------ */

START_TEST(migrations_from_many_processes_at_once_apply_each_version_once)
{
	enum { PROCS = 8 };
	char url[1024];
	int go[2];
	pid_t pids[PROCS];

	schema_url(url, sizeof url, "mig_many", NULL);
	ck_assert_int_eq(pipe(go), 0);
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			char byte;
			booking_store *st = NULL;
			int v = 0, rc;
			close(go[1]);
			if (read(go[0], &byte, 1) < 0)
				_exit(2);
			rc = booking_store_open(&st, url, NULL);
			if (rc == 0)
				rc = st->migrate(&v, st);
			if (rc != 0)
				fprintf(stderr, "migrate: %s: %s\n", booking_error_name(rc), booking_error_last()->message);
			if (st)
				st->free(st);
			_exit(rc == 0 && v == PG_SCHEMA_CURRENT ? 0 : 1);
		}
	}
	close(go[0]);
	close(go[1]); /* all at once */
	for (int p = 0; p < PROCS; p++) {
		int status = 0;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d: status %d", p, status);
	}
	PGconn *a = admin();
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_many.schema_migrations"), PG_SCHEMA_CURRENT);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
	                                " WHERE n.nspname = 'mig_many' AND p.proname = 'booking_hold'"),
	                 1);
	PQfinish(a);
}
END_TEST

START_TEST(a_schema_newer_than_the_code_is_refused)
{
	char url[1024];
	booking_store *st;
	int v = -1;

	schema_url(url, sizeof url, "mig_newer", NULL);
	st = open_store(url, 2, 5);
	st->free(st);
	PGconn *a = admin();
	admin_exec(a, "INSERT INTO mig_newer.schema_migrations (version) VALUES (" PG_SCHEMA_NEWER ")");
	PQfinish(a);

	ck_assert_ok(booking_store_open(&st, url, NULL));
	ck_assert_code(st->migrate(&v, st), BOOKING_ESCHEMA);
	st->free(st);

	booking_options o;
	booking_handle *bk = NULL;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = url;
	o.log_level = BOOKING_LOG_CRITICAL;
	ck_assert_code(booking_open(&bk, &o), BOOKING_ESCHEMA);
	ck_assert_ptr_null(bk);
}
END_TEST

/*
 * Security item 2: schema version 3 erases the unkeyed SHA-256 request
 * fingerprints of earlier versions (a card number could be brute-forced
 * back from them) and keeps keyed ones.
 */
START_TEST(migration_3_erases_unkeyed_payment_fingerprints)
{
	char url[1024];
	booking_store *st;
	int v = -1;

	schema_url(url, sizeof url, "mig_erase", NULL);
	st = open_store(url, 2, 5);
	st->free(st);
	PGconn *a = admin();
	/* as a version 2 database left them: one unkeyed digest, one keyed */
	admin_exec(a, "INSERT INTO mig_erase.idempotency_keys (user_id, key, request_hash, payment_id, created_at)"
	              " VALUES ('u1', 'k-old', '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592',"
	              " '00000000-0000-7000-8000-000000000001', 0),"
	              " ('u1', 'k-new', 'hmac-sha256:00ff', '00000000-0000-7000-8000-000000000002', 0)");
	admin_exec(a, "INSERT INTO mig_erase.revoked_tokens (jti, expires_at) VALUES ('jti-1', 1000)");
	admin_exec(a, "DELETE FROM mig_erase.schema_migrations WHERE version >= 3"); /* back to version 2 */
	st = open_store(url, 2, 5); /* migrates to 3 again */
	ck_assert_ok(st->migrate(&v, st));
	ck_assert_int_eq(v, PG_SCHEMA_CURRENT);
	st->free(st);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_erase.idempotency_keys WHERE request_hash ~ '^[0-9a-f]{64}$'"),
	                 0);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_erase.idempotency_keys WHERE key = 'k-old'"
	                                " AND request_hash = 'erased'"),
	                 1);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_erase.idempotency_keys WHERE key = 'k-new'"
	                                " AND request_hash = 'hmac-sha256:00ff'"),
	                 1);
	/* a revocation kept until exp is kept until exp + the largest leeway */
	ck_assert_int_eq(admin_count(a, "SELECT expires_at FROM mig_erase.revoked_tokens WHERE jti = 'jti-1'"), 301000);
	PQfinish(a);
}
END_TEST

/*
 * Issue 11: no state of the domain in the schema. Version 5 replaces the
 * partial indexes that named states (PENDING reservations, PROCESSING and
 * FAILED payments) with indexes led by status, on a new schema and on one
 * that version 4 left; a new schema never has the functions that decided.
 */
#define STATE_INDEXES                                                                                                \
	"SELECT count(*) FROM pg_indexes WHERE schemaname = 'mig_states' AND indexdef LIKE '% WHERE %status%'"
#define STATUS_INDEXES                                                                                               \
	"SELECT count(*) FROM pg_indexes WHERE schemaname = 'mig_states' AND indexname IN"                           \
	" ('bookings_status_expiry', 'payments_status_created', 'payments_user_status')"

START_TEST(migration_5_replaces_the_indexes_that_named_states)
{
	char url[1024];
	booking_store *st;
	int v = -1;

	schema_url(url, sizeof url, "mig_states", NULL);
	st = open_store(url, 2, 5);
	st->free(st);
	PGconn *a = admin();
	ck_assert_int_eq(admin_count(a, STATE_INDEXES), 0);
	ck_assert_int_eq(admin_count(a, STATUS_INDEXES), 3);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
	                                " WHERE n.nspname = 'mig_states' AND p.proname IN ('booking_transition',"
	                                " 'booking_pay_begin', 'booking_pay_finish', 'booking_refund')"),
	                 0);
	/* as version 4 left a schema: the partial indexes, and nothing of version 5 */
	admin_exec(a, "DROP INDEX mig_states.bookings_status_expiry, mig_states.payments_status_created,"
	              " mig_states.payments_user_status");
	admin_exec(a, "CREATE INDEX bookings_due ON mig_states.bookings (expires_at, created_at, id) WHERE status = 1");
	admin_exec(a, "CREATE INDEX payments_processing ON mig_states.payments (created_at, id) WHERE status = 1");
	admin_exec(a, "CREATE INDEX payments_user_failed ON mig_states.payments (user_id, created_at) WHERE status = 3");
	admin_exec(a, "DELETE FROM mig_states.schema_migrations WHERE version >= 5");
	ck_assert_int_eq(admin_count(a, STATE_INDEXES), 3);
	st = open_store(url, 2, 5); /* migrates to 5 again */
	ck_assert_ok(st->migrate(&v, st));
	ck_assert_int_eq(v, PG_SCHEMA_CURRENT);
	st->free(st);
	ck_assert_int_eq(admin_count(a, STATE_INDEXES), 0);
	ck_assert_int_eq(admin_count(a, STATUS_INDEXES), 3);
	PQfinish(a);
}
END_TEST

/*
 * S3: version 6 drops the functions that answered the catalog's and the
 * users' writes with bare codes (they are single statements of the shared
 * layer now); a new schema never has them, one that version 5 left loses
 * them, and its data stays.
 */
#define CODE_FUNCTIONS                                                                                               \
	"SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'mig_six'"  \
	" AND p.proname IN ('booking_screen_insert', 'booking_showtime_insert', 'booking_cursor_advance',"          \
	" 'booking_user_insert', 'booking_user_set_hash', 'booking_token_revoke')"

START_TEST(migration_6_drops_the_functions_that_answered_codes)
{
	char url[1024];
	booking_store *st;
	int v = -1;

	schema_url(url, sizeof url, "mig_six", NULL);
	st = open_store(url, 2, 5);
	st->free(st);
	PGconn *a = admin();
	ck_assert_int_eq(admin_count(a, CODE_FUNCTIONS), 0);
	/* as version 5 left a schema: the six functions (their bodies do not matter here), no version 6 */
	admin_exec(a, "CREATE FUNCTION mig_six.booking_screen_insert(text, text, text, text[], text[], bigint)"
	              " RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "CREATE FUNCTION mig_six.booking_showtime_insert(text, text, text, bigint, text, smallint, text[],"
	              " bigint[], bigint) RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "CREATE FUNCTION mig_six.booking_cursor_advance(text, bigint, bigint)"
	              " RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "CREATE FUNCTION mig_six.booking_user_insert(text, text, smallint, text, bigint, bigint, text[],"
	              " text[], text[], text[], bigint[], text[], text[], text[]) RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "CREATE FUNCTION mig_six.booking_user_set_hash(text, text, text, bigint)"
	              " RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "CREATE FUNCTION mig_six.booking_token_revoke(text, bigint, bigint)"
	              " RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "INSERT INTO mig_six.movies (id, title, duration_minutes, created_at) VALUES ('m1', 'Kept', 90, 0)");
	admin_exec(a, "DELETE FROM mig_six.schema_migrations WHERE version >= 6");
	ck_assert_int_eq(admin_count(a, CODE_FUNCTIONS), 6);
	st = open_store(url, 2, 5); /* migrates to 6 again */
	ck_assert_ok(st->migrate(&v, st));
	ck_assert_int_eq(v, PG_SCHEMA_CURRENT);
	st->free(st);
	ck_assert_int_eq(admin_count(a, CODE_FUNCTIONS), 0);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_six.schema_migrations WHERE version = 6"), 1);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_six.movies WHERE id = 'm1'"), 1);
	PQfinish(a);
}
END_TEST

/*
 * Version 7 (the box office): a schema that version 6 left gets what a
 * new one has: screens.seat_columns, showtime_seats.note, BLOCKED allowed,
 * bookings_showtime, the booking_apply() of ledger version 2 and its
 * parts, and no booking_apply() of version 4; its rows stay (an older
 * screen's seats have column 0, "not given", and every seat the note '').
 */
static char *describe(PGconn *a, const char *schema)
{
	static const char sql[] =
		"SELECT string_agg(replace(x, $1 || '.', ''), E'\n' ORDER BY replace(x, $1 || '.', '')) FROM ("
		" SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' '"
		"  || coalesce(column_default, '-') || ' ' || is_nullable || ' ' || coalesce(collation_name, '-')"
		"  FROM information_schema.columns WHERE table_schema = $1"
		" UNION ALL SELECT 'constraint ' || c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)"
		"  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE k.connamespace = $1::regnamespace"
		" UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = $1"
		" UNION ALL SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') '"
		"  || md5(p.prosrc) FROM pg_proc p WHERE p.pronamespace = $1::regnamespace) AS t(x)";
	const char *v[1] = {schema};
	PGresult *r = PQexecParams(a, sql, 1, NULL, v, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "describe: %s", PQerrorMessage(a));
	char *out = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	ck_assert_ptr_nonnull(out);
	return out;
}

static int note_of(const booking_store_seat *seat, void *payload)
{
	char *notes = payload;
	if (seat->label[0] != '\0')
		snprintf(notes + strlen(notes), 256 - strlen(notes), "%s=%d:%s;", seat->label, (int)seat->status, seat->note);
	return 0;
}

START_TEST(migration_7_gives_an_older_schema_what_a_new_one_has)
{
	char url[1024], fresh[1024], notes[256] = "";
	world w;
	int v = -1;

	schema_url(url, sizeof url, "mig_seven", NULL);
	schema_url(fresh, sizeof fresh, "mig_seven_new", NULL);
	w.st = open_store(fresh, 2, 5);
	w.st->free(w.st);
	w.st = open_store(url, 2, 5);
	seed(&w, "A:4");
	ck_assert_ok(w.st->catalog->seat_list(w.st, w.showtime_id, note_of, notes));
	ck_assert_str_eq(notes, "A1=0:;A2=0:;A3=0:;A4=0:;");
	notes[0] = '\0';
	w.st->free(w.st);
	PGconn *a = admin();
	/* the columns the screen was given (the layout's, or 0s), to be lost */
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM mig_seven.screens WHERE seat_columns IS NOT NULL"), 1);
	/* as version 6 left a schema: none of version 7, and version 4's booking_apply() (its body does not matter) */
	admin_exec(a, "ALTER TABLE mig_seven.screens DROP COLUMN seat_columns");
	admin_exec(a, "ALTER TABLE mig_seven.showtime_seats DROP COLUMN note");
	admin_exec(a, "ALTER TABLE mig_seven.showtime_seats DROP CONSTRAINT showtime_seats_status_check");
	admin_exec(a, "ALTER TABLE mig_seven.showtime_seats ADD CONSTRAINT showtime_seats_status_check"
	              " CHECK (status IN (0, 1, 2))");
	admin_exec(a, "DROP INDEX mig_seven.bookings_showtime");
	admin_exec(a, "DROP FUNCTION mig_seven.booking_apply, mig_seven.booking_guards, mig_seven.booking_seats_check,"
	              " mig_seven.booking_seats_write");
	admin_exec(a, "CREATE FUNCTION mig_seven.booking_apply(smallint[], text[], bigint[], text[], text, smallint,"
	              " smallint, bigint, text, smallint, smallint, bigint, text, smallint, text, text, bigint, bigint,"
	              " text, integer, text, text, text, smallint, bigint, text, text, text, text, bigint, bigint, bigint,"
	              " text, text, text[], text[], text[], text[], bigint[], text[], text[], text[])"
	              " RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "DELETE FROM mig_seven.schema_migrations WHERE version >= 7");
	char *before = describe(a, "mig_seven"), *want = describe(a, "mig_seven_new");
	ck_assert_str_ne(before, want);
	free(before);

	w.st = open_store(url, 2, 5); /* migrates to 7 again */
	ck_assert_ok(w.st->migrate(&v, w.st));
	ck_assert_int_eq(v, PG_SCHEMA_CURRENT);
	char *after = describe(a, "mig_seven");
	ck_assert_msg(strcmp(after, want) == 0, "upgraded:\n%s\n\nnew:\n%s", after, want);
	free(after);
	free(want);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
	                                " WHERE n.nspname = 'mig_seven' AND p.proname = 'booking_apply'"),
	                 1);
	/* the rows stayed: the screen's seats lost their columns (0: not given), every note is '' */
	PGresult *r = PQexec(a, "SELECT id FROM mig_seven.screens");
	ck_assert_int_eq(PQntuples(r), 1);
	booking_screen *sc = NULL;
	ck_assert_ok(w.st->catalog->screen_get(&sc, w.st, PQgetvalue(r, 0, 0)));
	PQclear(r);
	ck_assert_uint_eq(sc->seat_count, 4);
	for (size_t i = 0; i < sc->seat_count; i++)
		ck_assert_int_eq(sc->seats[i]->column, 0);
	booking_screen_free(sc);
	ck_assert_ok(w.st->catalog->seat_list(w.st, w.showtime_id, note_of, notes));
	ck_assert_str_eq(notes, "A1=0:;A2=0:;A3=0:;A4=0:;");
	/* and a seat of it can be blocked, with a note */
	booking_event_record ev = {0};
	booking_uuid_v7(ev.id, T0);
	ev.type = "seats.blocked";
	ev.aggregate_type = "showtime";
	memcpy(ev.aggregate_id, w.showtime_id, BOOKING_ID_SIZE);
	ev.correlation_id = ev.traceparent = "";
	ev.data_json = "{}";
	const booking_store_seat_write block = {.label = "A3",
	                                        .expect = BOOKING_SEAT_EXPECT_STATUS,
	                                        .expect_status = BOOKING_SEAT_FREE,
	                                        .write = true,
	                                        .status = BOOKING_SEAT_BLOCKED,
	                                        .note = "press"};
	const booking_store_change c = {.event_count = 1, .events = &ev, .showtime_id = w.showtime_id, .now = T0,
	                                .seat_write_count = 1, .seat_writes = &block};
	ck_assert_ok(w.st->ledger->apply(NULL, w.st, &c));
	notes[0] = '\0';
	ck_assert_ok(w.st->catalog->seat_list(w.st, w.showtime_id, note_of, notes));
	ck_assert_str_eq(notes, "A1=0:;A2=0:;A3=3:press;A4=0:;");
	w.st->free(w.st);
	PQfinish(a);
}
END_TEST

/*
 * Version 8 (per-buyer limits): a schema that version 7 left gets what a
 * new one has: the booking_hold() that takes the user seat limit, the
 * booking_guards() that takes the change's now, and neither of the
 * signatures they replace.
 */
START_TEST(migration_8_gives_an_older_schema_what_a_new_one_has)
{
	char url[1024], fresh[1024];
	world w;
	int v = -1;

	schema_url(url, sizeof url, "mig_eight", NULL);
	schema_url(fresh, sizeof fresh, "mig_eight_new", NULL);
	w.st = open_store(fresh, 2, 5);
	w.st->free(w.st);
	w.st = open_store(url, 2, 5);
	seed(&w, "A:4");
	w.st->free(w.st);
	PGconn *a = admin();
	/* as version 7 left a schema: version 1's booking_hold(), version 7's booking_guards() (bodies do not matter) */
	admin_exec(a, "DROP FUNCTION mig_eight.booking_hold, mig_eight.booking_guards");
	admin_exec(a, "CREATE FUNCTION mig_eight.booking_hold(text, text, text, smallint, smallint, text[], bigint, text,"
	              " bigint, bigint, bigint, bigint, bigint, text[], text[], text[], text[], bigint[], text[], text[],"
	              " text[], OUT rc integer, OUT labels text[]) LANGUAGE sql AS 'SELECT 0, NULL::text[]'");
	admin_exec(a, "CREATE FUNCTION mig_eight.booking_guards(smallint[], text[], bigint[], text[], text, text[])"
	              " RETURNS integer LANGUAGE sql AS 'SELECT 0'");
	admin_exec(a, "DELETE FROM mig_eight.schema_migrations WHERE version >= 8");
	char *before = describe(a, "mig_eight"), *want = describe(a, "mig_eight_new");
	ck_assert_str_ne(before, want);
	free(before);

	w.st = open_store(url, 2, 5); /* migrates to 8 again */
	ck_assert_ok(w.st->migrate(&v, w.st));
	ck_assert_int_eq(v, PG_SCHEMA_CURRENT);
	char *after = describe(a, "mig_eight");
	ck_assert_msg(strcmp(after, want) == 0, "upgraded:\n%s\n\nnew:\n%s", after, want);
	free(after);
	free(want);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
	                                " WHERE n.nspname = 'mig_eight' AND p.proname IN ('booking_hold', 'booking_guards')"),
	                 2);
	/* and the upgraded schema holds under a limit */
	hold_req h;
	hold_init(&h, &w, "u1", "A1");
	h.req.user_seat_limit = 1;
	ck_assert_ok(hold_send(w.st, &h));
	hold_init(&h, &w, "u1", "A2");
	h.req.user_seat_limit = 1;
	ck_assert_code(hold_send(w.st, &h), BOOKING_ELIMIT_REACHED);
	ck_assert(!booking_exists(w.st, h.r.id));
	w.st->free(w.st);
	PQfinish(a);
}
END_TEST

START_TEST(bad_and_unreachable_urls)
{
	booking_store *st = NULL;
	ck_assert_code(booking_store_open(&st, "postgresql://host/db?nosuchparameter=1", NULL), BOOKING_EVALIDATION);
	ck_assert_ptr_null(st);
	/* nothing listens on port 1: refused at once */
	ck_assert_code(booking_store_open(&st, "postgresql://postgres@127.0.0.1:1/x", NULL), BOOKING_EUNAVAILABLE);
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(bad_store_parameters_are_refused_naming_the_field_before_connecting)
{
	static const struct {
		const char *url, *parameter, *says;
	} bad[] = {
	    /* nothing listens on port 1: a URL that got as far as connecting would be UNAVAILABLE */
	    {"postgresql://127.0.0.1:1/x?pool=0", "pool", "must be an integer in 1..50"},
	    {"postgresql://127.0.0.1:1/x?pool=51", "pool", "must be an integer in 1..50"},
	    {"postgresql://127.0.0.1:1/x?pool_timeout=4", "pool_timeout", "must be an integer in 5..120"},
	    {"postgresql://127.0.0.1:1/x?pool_timeout=121", "pool_timeout", "must be an integer in 5..120"},
	    {"postgresql://127.0.0.1:1/x?statement_timeout=0", "statement_timeout", "must be an integer in 1..600"},
	    {"postgres://127.0.0.1:1/x?sslmode=disable&statement_timeout=601", "statement_timeout",
	     "must be an integer in 1..600"},
	    {"postgresql://127.0.0.1:1/x?pool=%zz", "pool=%zz", "malformed percent-encoding"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		booking_store *st = (booking_store *)&st;
		char parameter[64];
		ck_assert_code(booking_store_open(&st, bad[i].url, NULL), BOOKING_EVALIDATION);
		ck_assert_ptr_null(st);
		const booking_error *e = booking_error_last();
		ck_assert_msg(strncmp(e->message, "store_url: ", 11) == 0 && strstr(e->message, bad[i].says), "%s: %s",
		              bad[i].url, e->message);
		snprintf(parameter, sizeof parameter, "\"parameter\":\"%s\"", bad[i].parameter);
		ck_assert_msg(strstr(e->details_json, "\"field\":\"store_url\"") && strstr(e->details_json, parameter),
		              "%s: %s", bad[i].url, e->details_json);
	}
	/* a parameter neither ours nor libpq's: libpq refuses it, naming it */
	booking_store *st = NULL;
	ck_assert_code(booking_store_open(&st, "postgresql://127.0.0.1:1/x?pool=2&pol=3", NULL), BOOKING_EVALIDATION);
	ck_assert_msg(strstr(booking_error_last()->message, "pol") && strstr(booking_error_last()->details_json, "store_url"),
	              "%s", booking_error_last()->message);
}
END_TEST

START_TEST(libpq_parameters_reach_libpq_beside_the_store_s_own)
{
	char url[1024], with[1200];
	booking_store *st = NULL;

	schema_url(url, sizeof url, "passthrough", NULL);
	/* ours first, between and last: libpq would refuse any of them it were given */
	snprintf(with, sizeof with,
	         "%s&pool=2&application_name=bk%%5Fpassthrough&pool_timeout=5&connect_timeout=3&statement_timeout=20", url);
	ck_assert_ok(booking_store_open(&st, with, NULL));
	ck_assert_ok(st->migrate(NULL, st));
	PGconn *a = admin();
	ck_assert_int_ge(admin_count(a, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bk_passthrough'"),
	                 1);
	PQfinish(a);
	st->free(st);
}
END_TEST

START_TEST(the_url_statement_timeout_ends_a_blocked_statement)
{
	char url[1024], with[1200];
	world w;
	hold_req h;
	struct timespec t0, t1;

	schema_url(url, sizeof url, "stimeout", NULL);
	snprintf(with, sizeof with, "%s&statement_timeout=1", url); /* seconds; the default is 30 */
	ck_assert_ok(booking_store_open(&w.st, with, NULL));
	ck_assert_ok(w.st->migrate(NULL, w.st));
	seed(&w, "A:5");
	PGconn *a = admin();
	admin_exec(a, "BEGIN");
	admin_exec(a, "SELECT 1 FROM stimeout.showtime_seats WHERE label = 'A1' FOR UPDATE");
	hold_init(&h, &w, "u1", "A1");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_code(hold_send(w.st, &h), BOOKING_EUNAVAILABLE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(strstr(booking_error_last()->message, "timeout"), "message: %s", booking_error_last()->message);
	ck_assert_msg(waited >= 0.9 && waited < 5, "waited %.2f s", waited);
	admin_exec(a, "ROLLBACK");
	PQfinish(a);
	ck_assert_ok(hold_send(w.st, &h));
	w.st->free(w.st);
}
END_TEST

/* ------------------------------------------------------------------------
 * Lost connections.
 * ------------------------------------------------------------------------ */

static int count_movie(const booking_movie *m, void *p)
{
	(void)m;
	(*(int *)p)++;
	return 0;
}

START_TEST(a_lost_connection_is_unavailable_once_then_replaced)
{
	char url[1024];
	world w;
	int n = 0;

	schema_url(url, sizeof url, "lost", NULL);
	w.st = open_store(url, 1, 5);
	seed(&w, "A:5");
	ck_assert_ok(w.st->catalog->movie_list(w.st, count_movie, &n));
	ck_assert_int_eq(n, 1);

	/* the administrator ends every libbooking session (a failover, a restart, a kill) */
	PGconn *a = admin();
	admin_exec(a, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
	              " WHERE application_name = 'libbooking' AND pid <> pg_backend_pid()");
	PQfinish(a);

	n = 0;
	ck_assert_code(w.st->catalog->movie_list(w.st, count_movie, &n), BOOKING_EUNAVAILABLE);
	/* the next call reconnects */
	n = 0;
	ck_assert_ok(w.st->catalog->movie_list(w.st, count_movie, &n));
	ck_assert_int_eq(n, 1);
	w.st->free(w.st);
}
END_TEST

/*
 * A TCP proxy between the store and the server that can, once, cut the
 * connection right after the server's next reply arrives (the statement
 * ran and committed; the client never hears it) or right when the
 * client's next request arrives (the statement never ran).
 */
enum { PASS = 0, DROP_REPLY = 1, DROP_REQUEST = 2 };
enum { MAX_PAIRS = 16 };

typedef struct proxy {
	int listen_fd, port, target_port;
	atomic_int mode;
	atomic_bool stop;
	atomic_int cuts;
	pthread_t thread;
	int client[MAX_PAIRS], server[MAX_PAIRS];
} proxy;

static bool write_all(int fd, const char *buf, ssize_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);
		if (w <= 0)
			return false;
		buf += w;
		n -= w;
	}
	return true;
}

static void pair_close(proxy *p, int i)
{
	close(p->client[i]);
	close(p->server[i]);
	p->client[i] = p->server[i] = -1;
}

static void proxy_accept(proxy *p)
{
	int c = accept(p->listen_fd, NULL, NULL);
	if (c < 0)
		return;
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in to = {0};
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)p->target_port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) < 0) {
		close(c);
		if (s >= 0)
			close(s);
		return;
	}
	for (int i = 0; i < MAX_PAIRS; i++)
		if (p->client[i] < 0) {
			p->client[i] = c;
			p->server[i] = s;
			return;
		}
	close(c);
	close(s);
}

static void *proxy_run(void *arg)
{
	proxy *p = arg;
	char buf[65536];
	while (!atomic_load(&p->stop)) {
		struct pollfd fds[1 + 2 * MAX_PAIRS];
		int n = 0;
		fds[n++] = (struct pollfd){p->listen_fd, POLLIN, 0};
		for (int i = 0; i < MAX_PAIRS; i++) {
			fds[n++] = (struct pollfd){p->client[i], POLLIN, 0}; /* -1: ignored by poll */
			fds[n++] = (struct pollfd){p->server[i], POLLIN, 0};
		}
		if (poll(fds, (nfds_t)n, 50) <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			proxy_accept(p);
		for (int i = 0; i < MAX_PAIRS; i++) {
			for (int side = 0; side < 2 && p->client[i] >= 0; side++) {
				struct pollfd *f = &fds[1 + 2 * i + side];
				if (f->fd < 0 || !(f->revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				int from = side == 0 ? p->client[i] : p->server[i];
				int to = side == 0 ? p->server[i] : p->client[i];
				int cut = side == 0 ? DROP_REQUEST : DROP_REPLY;
				ssize_t r = read(from, buf, sizeof buf);
				if (r <= 0) {
					pair_close(p, i);
					break;
				}
				int want = cut;
				if (atomic_compare_exchange_strong(&p->mode, &want, PASS)) {
					atomic_fetch_add(&p->cuts, 1);
					pair_close(p, i);
					break;
				}
				if (!write_all(to, buf, r)) {
					pair_close(p, i);
					break;
				}
			}
		}
	}
	for (int i = 0; i < MAX_PAIRS; i++)
		if (p->client[i] >= 0)
			pair_close(p, i);
	return NULL;
}

static void proxy_start(proxy *p, int target_port)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < MAX_PAIRS; i++)
		p->client[i] = p->server[i] = -1;
	p->target_port = target_port;
	p->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(p->listen_fd, 0);
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(p->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(p->listen_fd, 16), 0);
	socklen_t len = sizeof a;
	ck_assert_int_eq(getsockname(p->listen_fd, (struct sockaddr *)&a, &len), 0);
	p->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&p->thread, NULL, proxy_run, p), 0);
}

static void proxy_stop(proxy *p)
{
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
}

/* The URL of the server behind the proxy, in schema `schema`. */
static void proxied_url(char *out, size_t n, const proxy *p, const char *schema)
{
	PQconninfoOption *opts = PQconninfoParse(base_url(), NULL);
	const char *user = "postgres", *db = "booking_test";
	ck_assert_ptr_nonnull(opts);
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val && strcmp(o->keyword, "user") == 0)
			user = o->val;
		if (o->val && strcmp(o->keyword, "dbname") == 0)
			db = o->val;
	}
	snprintf(out, n, "postgresql://%s@127.0.0.1:%d/%s?options=-csearch_path%%3D%s", user, p->port, db, schema);
	PQconninfoFree(opts);
}

static int server_port(void)
{
	PQconninfoOption *opts = PQconninfoParse(base_url(), NULL);
	int port = 5432;
	ck_assert_ptr_nonnull(opts);
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && strcmp(o->keyword, "port") == 0)
			port = atoi(o->val);
	PQconninfoFree(opts);
	return port;
}

START_TEST(a_hold_whose_reply_was_lost_is_settled_as_committed)
{
	proxy p;
	char url[1024];
	world w;
	hold_req warm, h;

	proxy_start(&p, server_port());
	proxied_url(url, sizeof url, &p, "settle_commit");
	w.st = open_store(url, 1, 5);
	seed(&w, "A:5");
	hold_init(&warm, &w, "u1", "A1");
	ck_assert_ok(hold_send(w.st, &warm)); /* the hold statement is prepared on this connection now */

	hold_init(&h, &w, "u2", "A2");
	atomic_store(&p.mode, DROP_REPLY);
	ck_assert_ok(hold_send(w.st, &h)); /* committed, reply lost, settled: success */
	ck_assert_int_eq(atomic_load(&p.cuts), 1);
	ck_assert(booking_exists(w.st, h.r.id));
	/* and the seat is its */
	hold_req again;
	hold_init(&again, &w, "u3", "A2");
	ck_assert_code(hold_send(w.st, &again), BOOKING_ESEAT_ALREADY_BOOKED);
	w.st->free(w.st);
	proxy_stop(&p);
}
END_TEST

START_TEST(a_hold_whose_request_was_lost_is_reported_not_applied)
{
	proxy p;
	char url[1024];
	world w;
	hold_req warm, h;

	proxy_start(&p, server_port());
	proxied_url(url, sizeof url, &p, "settle_lost");
	w.st = open_store(url, 1, 5);
	seed(&w, "A:5");
	hold_init(&warm, &w, "u1", "A1");
	ck_assert_ok(hold_send(w.st, &warm));

	hold_init(&h, &w, "u2", "A2");
	atomic_store(&p.mode, DROP_REQUEST);
	int rc = hold_send(w.st, &h);
	ck_assert_code(rc, BOOKING_EUNAVAILABLE);
	ck_assert_msg(strstr(booking_error_last()->message, "not applied"), "message: %s", booking_error_last()->message);
	ck_assert_int_eq(atomic_load(&p.cuts), 1);
	ck_assert(!booking_exists(w.st, h.r.id));
	/* the same request again goes through */
	ck_assert_ok(hold_send(w.st, &h));
	ck_assert(booking_exists(w.st, h.r.id));
	w.st->free(w.st);
	proxy_stop(&p);
}
END_TEST

/*
 * A change of ledger version 2 that inserts a reservation is settled by
 * that reservation after a lost reply; one whose request was lost is
 * reported not applied and goes through when sent again. A duplicate
 * reservation id or (user, key) is BOOKING_EEXISTS and writes nothing.
 */
START_TEST(a_box_office_hold_whose_reply_or_request_was_lost_is_settled)
{
	static const char *const a1[] = {"A1"}, *const a23[] = {"A3", "A2"}, *const a4[] = {"A4"}, *const a5[] = {"A5"};
	proxy p;
	char url[1024];
	world w;
	v2_hold warm, h, lost, twin;
	size_t failed = 99;

	proxy_start(&p, server_port());
	proxied_url(url, sizeof url, &p, "settle_v2");
	w.st = open_store(url, 1, 5);
	seed(&w, "A:5");
	v2_hold_init(&warm, &w, "u1", a1, 1, T0);
	ck_assert_ok(v2_send(w.st, &warm, NULL)); /* booking_apply() is prepared on this connection now */

	v2_hold_init(&h, &w, "u2", a23, 2, T0);
	atomic_store(&p.mode, DROP_REPLY);
	ck_assert_ok(v2_send(w.st, &h, NULL)); /* committed, reply lost, settled: success */
	ck_assert_int_eq(atomic_load(&p.cuts), 1);
	ck_assert(booking_exists(w.st, h.r.id));
	/* sent again: its seats are its now, the first seat write fails */
	ck_assert_code(v2_send(w.st, &h, &failed), BOOKING_EINVALID_STATE);
	ck_assert_uint_eq(failed, 0);

	v2_hold_init(&lost, &w, "u3", a4, 1, T0);
	atomic_store(&p.mode, DROP_REQUEST);
	ck_assert_code(v2_send(w.st, &lost, NULL), BOOKING_EUNAVAILABLE);
	ck_assert_msg(strstr(booking_error_last()->message, "not applied"), "message: %s", booking_error_last()->message);
	ck_assert(!booking_exists(w.st, lost.r.id));
	ck_assert_ok(v2_send(w.st, &lost, NULL));
	ck_assert(booking_exists(w.st, lost.r.id));

	/* a twin: the same reservation id, free seats */
	v2_hold_init(&twin, &w, "u4", a5, 1, T0);
	memcpy(twin.r.id, h.r.id, BOOKING_ID_SIZE);
	twin.w[0].reservation_id = twin.r.id;
	ck_assert_code(v2_send(w.st, &twin, NULL), BOOKING_EEXISTS);
	ck_assert_msg(strstr(booking_error_last()->message, "reservation"), "message: %s", booking_error_last()->message);
	/* a twin: the same user and key, a new reservation */
	v2_hold_init(&twin, &w, "u2", a5, 1, T0);
	twin.k.key = h.key;
	ck_assert_code(v2_send(w.st, &twin, NULL), BOOKING_EEXISTS);
	ck_assert(!booking_exists(w.st, twin.r.id));
	booking_reservation *r = NULL;
	ck_assert_ok(w.st->ledger->reservation_get(&r, w.st, h.r.id));
	ck_assert_str_eq(r->user_id, "u2"); /* the first twin wrote nothing either */
	booking_reservation_free(r);
	booking_store_idempotency_record rec;
	memset(&rec, 0, sizeof rec);
	ck_assert_ok(w.st->ledger->idempotency_get(&rec, w.st, "u2", h.key));
	ck_assert_str_eq(rec.payment_id, h.r.id);
	ck_assert(rec.completed);
	w.st->free(w.st);
	proxy_stop(&p);
}
END_TEST

/*
 * A shared write whose reply was lost is settled by its resolver, a read of
 * the write's row run with the write's arguments. That read must not take
 * the plain read's prepared statement (prepared then with the write's
 * parameter count, a later read of one argument on the connection would be
 * refused): the pool has one connection, so the read after the settle
 * reuses the very session that settled.
 */
START_TEST(a_movie_whose_reply_was_lost_is_settled_and_reads_go_on)
{
	proxy p;
	char url[1024];
	world w;

	proxy_start(&p, server_port());
	proxied_url(url, sizeof url, &p, "settle_movie");
	w.st = open_store(url, 1, 5);
	booking_movie m = {{0}, (char *)"Lost reply", 90, T0}, warm = {{0}, (char *)"Warm", 90, T0};
	booking_uuid_v7(warm.id, T0);
	booking_uuid_v7(m.id, T0 + 1);
	ck_assert_ok(w.st->catalog->movie_insert(w.st, &warm)); /* the insert is prepared on this connection */
	atomic_store(&p.mode, DROP_REPLY);
	ck_assert_ok(w.st->catalog->movie_insert(w.st, &m)); /* committed, reply lost, settled: success */
	ck_assert_int_eq(atomic_load(&p.cuts), 1);
	for (int i = 0; i < 2; i++) { /* the read, on the connection that settled */
		booking_movie *got = NULL;
		ck_assert_ok(w.st->catalog->movie_get(&got, w.st, i ? warm.id : m.id));
		ck_assert_str_eq(got->title, i ? "Warm" : "Lost reply");
		booking_movie_free(got);
	}
	w.st->free(w.st);
	proxy_stop(&p);
}
END_TEST

START_TEST(a_cancel_whose_reply_was_lost_is_settled_as_committed)
{
	proxy p;
	char url[1024];
	world w;
	hold_req a, b;

	proxy_start(&p, server_port());
	proxied_url(url, sizeof url, &p, "settle_cancel");
	w.st = open_store(url, 1, 5);
	seed(&w, "A:5");
	hold_init(&a, &w, "u1", "A1");
	hold_init(&b, &w, "u1", "A2");
	ck_assert_ok(hold_send(w.st, &a));
	ck_assert_ok(hold_send(w.st, &b));
	ck_assert_ok(cancel_send(w.st, a.r.id)); /* prepares the statement */
	atomic_store(&p.mode, DROP_REPLY);
	ck_assert_ok(cancel_send(w.st, b.r.id));
	ck_assert_int_eq(atomic_load(&p.cuts), 1);
	booking_reservation *r = NULL;
	ck_assert_ok(w.st->ledger->reservation_get(&r, w.st, b.r.id));
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	booking_reservation_free(r);
	w.st->free(w.st);
	proxy_stop(&p);
}
END_TEST

/* ------------------------------------------------------------------------
 * Timeouts.
 * ------------------------------------------------------------------------ */

START_TEST(a_statement_over_its_timeout_is_unavailable)
{
	char url[1024];
	world w;
	hold_req h;

	schema_url(url, sizeof url, "timeout", "-cstatement_timeout%3D300");
	w.st = open_store(url, 2, 5);
	seed(&w, "A:5");
	PGconn *a = admin();
	admin_exec(a, "BEGIN");
	admin_exec(a, "SELECT 1 FROM timeout.showtime_seats WHERE label = 'A1' FOR UPDATE");
	hold_init(&h, &w, "u1", "A1");
	ck_assert_code(hold_send(w.st, &h), BOOKING_EUNAVAILABLE);
	ck_assert_msg(strstr(booking_error_last()->message, "timeout"), "message: %s", booking_error_last()->message);
	admin_exec(a, "ROLLBACK");
	PQfinish(a);
	ck_assert(!booking_exists(w.st, h.r.id));
	ck_assert_ok(hold_send(w.st, &h));
	w.st->free(w.st);
}
END_TEST

typedef struct blocked_hold {
	booking_store *st;
	hold_req *h;
	int rc;
} blocked_hold;

static void *run_blocked_hold(void *arg)
{
	blocked_hold *b = arg;
	b->rc = hold_send(b->st, b->h);
	return NULL;
}

START_TEST(a_caller_waits_for_a_free_connection_then_gets_unavailable)
{
	char url[1024];
	world w;
	hold_req h;
	pthread_t t;
	struct timespec t0, t1;

	schema_url(url, sizeof url, "poolwait", NULL);
	w.st = open_store(url, 1, 5); /* one connection; wait at most 5 s */
	seed(&w, "A:5");
	PGconn *a = admin();
	admin_exec(a, "BEGIN");
	admin_exec(a, "SELECT 1 FROM poolwait.showtime_seats WHERE label = 'A1' FOR UPDATE");
	hold_init(&h, &w, "u1", "A1");
	blocked_hold b = {w.st, &h, 1};
	ck_assert_int_eq(pthread_create(&t, NULL, run_blocked_hold, &b), 0); /* takes the one connection, waits */
	usleep(300 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int n = 0;
	ck_assert_code(w.st->catalog->movie_list(w.st, count_movie, &n), BOOKING_EUNAVAILABLE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(waited >= 4.9 && waited < 8, "waited %.2f s", waited);
	admin_exec(a, "ROLLBACK"); /* the blocked hold proceeds */
	pthread_join(t, NULL);
	ck_assert_ok(b.rc);
	ck_assert_ok(w.st->catalog->movie_list(w.st, count_movie, &n));
	PQfinish(a);
	w.st->free(w.st);
}
END_TEST

/* ------------------------------------------------------------------------
 * Outbox positions under concurrent writers and readers.
 * ------------------------------------------------------------------------ */

enum { WRITERS = 6, ROUNDS = 60, READERS = 2 };

typedef struct writer {
	world *w;
	int row;
	int events; /* written */
	int failures;
} writer;

static void *run_writer(void *arg)
{
	writer *wr = arg;
	for (int i = 0; i < ROUNDS; i++) {
		hold_req h;
		char label[8];
		snprintf(label, sizeof label, "%c%d", 'A' + wr->row, i % 10 + 1);
		hold_init(&h, wr->w, "writer", label);
		if (hold_send(wr->w->st, &h) != 0) {
			wr->failures++;
			continue;
		}
		wr->events++;
		if (cancel_send(wr->w->st, h.r.id) != 0) {
			wr->failures++;
			continue;
		}
		wr->events++;
	}
	return NULL;
}

typedef struct reader {
	world *w;
	atomic_bool *writers_done;
	int64_t cursor;
	long seen;
	long gaps; /* a position that was not cursor + 1 */
} reader;

static int read_event(const booking_event_record *e, void *payload)
{
	reader *r = payload;
	if (e->position != r->cursor + 1)
		r->gaps++;
	r->cursor = e->position;
	r->seen++;
	return 0;
}

static void *run_reader(void *arg)
{
	reader *r = arg;
	for (;;) {
		bool done = atomic_load(r->writers_done); /* read before: a last pass after the writers finish */
		long before = r->seen;
		int rc = r->w->st->outbox->outbox_read(r->w->st, r->cursor, 7, read_event, r);
		if (rc != 0) {
			r->gaps = -1000000;
			return NULL;
		}
		if (done && r->seen == before)
			return NULL;
	}
}

START_TEST(outbox_readers_see_every_event_once_in_position_order_while_writers_commit)
{
	char url[1024];
	world w;
	writer wr[WRITERS];
	reader rd[READERS];
	pthread_t wt[WRITERS], rt[READERS];
	atomic_bool done = false;

	schema_url(url, sizeof url, "outbox_race", NULL);
	w.st = open_store(url, WRITERS + READERS, 10);
	seed(&w, "A-F:10");
	for (int i = 0; i < READERS; i++) {
		rd[i] = (reader){&w, &done, 0, 0, 0};
		ck_assert_int_eq(pthread_create(&rt[i], NULL, run_reader, &rd[i]), 0);
	}
	for (int i = 0; i < WRITERS; i++) {
		wr[i] = (writer){&w, i, 0, 0};
		ck_assert_int_eq(pthread_create(&wt[i], NULL, run_writer, &wr[i]), 0);
	}
	long written = 0;
	for (int i = 0; i < WRITERS; i++) {
		pthread_join(wt[i], NULL);
		ck_assert_int_eq(wr[i].failures, 0);
		written += wr[i].events;
	}
	atomic_store(&done, true);
	for (int i = 0; i < READERS; i++) {
		pthread_join(rt[i], NULL);
		ck_assert_msg(rd[i].gaps == 0, "reader %d saw %ld out-of-order positions", i, rd[i].gaps);
		ck_assert_int_eq(rd[i].seen, written);
		ck_assert_int_eq(rd[i].cursor, written); /* positions 1..n, none skipped */
	}
	ck_assert_int_eq(written, 2 * WRITERS * ROUNDS);
	w.st->free(w.st);
}
END_TEST

/* ------------------------------------------------------------------------
 * Seat locks: changes with seat writes and holds never deadlock.
 * ------------------------------------------------------------------------ */

enum { RACERS = 6, RACE_OPS = 120, RACE_SEATS = 10, RACE_LIVE = 64 };

typedef struct live {
	char id[BOOKING_ID_SIZE];
	int64_t version;
	char labels[V2_SEATS][BOOKING_LABEL_SIZE];
	size_t n;
} live;

typedef struct racer {
	world *w;
	unsigned int seed;
	live mine[RACE_LIVE];
	size_t nmine;
	int wins, refusals;
	char error[300];
} racer;

/* k distinct seats of A1..A10 in a random order (so seldom in label order), none of `avoid`. */
static size_t pick(racer *rc, char (*out)[BOOKING_LABEL_SIZE], size_t k, const live *avoid)
{
	size_t n = 0;
	for (int tries = 0; n < k && tries < 50; tries++) {
		char label[BOOKING_LABEL_SIZE];
		bool dup = false;
		snprintf(label, sizeof label, "A%d", 1 + rand_r(&rc->seed) % RACE_SEATS);
		for (size_t i = 0; i < n; i++)
			dup = dup || strcmp(out[i], label) == 0;
		for (size_t i = 0; avoid && i < avoid->n; i++)
			dup = dup || strcmp(avoid->labels[i], label) == 0;
		if (!dup)
			memcpy(out[n++], label, sizeof label);
	}
	return n;
}

static void keep(racer *rc, const booking_reservation *r)
{
	if (rc->nmine == RACE_LIVE)
		return;
	live *l = &rc->mine[rc->nmine++];
	memcpy(l->id, r->id, BOOKING_ID_SIZE);
	l->version = r->version;
	l->n = r->seat_count;
	for (size_t i = 0; i < r->seat_count; i++)
		memcpy(l->labels[i], r->seats[i]->label, BOOKING_LABEL_SIZE);
}

static void race_fail(racer *rc, const char *what, int code)
{
	if (rc->error[0] == '\0')
		snprintf(rc->error, sizeof rc->error, "%s: %s: %s", what, booking_error_name(code),
		         booking_error_last()->message);
}

/* A version 2 hold, or a plain one, of 1..3 seats given in a random order. */
static void race_hold(racer *rc, bool v2)
{
	char labels[3][BOOKING_LABEL_SIZE];
	const char *ptrs[3];
	size_t n = pick(rc, labels, 1 + (size_t)(rand_r(&rc->seed) % 3), NULL);
	v2_hold h;
	for (size_t i = 0; i < n; i++)
		ptrs[i] = labels[i];
	v2_hold_init(&h, rc->w, "racer", ptrs, n, T0);
	int code;
	if (v2) {
		code = v2_send(rc->w->st, &h, NULL);
	} else {
		booking_store_hold req = {.reservation = &h.r, .now = T0, .event = &h.ev};
		code = rc->w->st->ledger->hold(NULL, NULL, rc->w->st, &req);
	}
	if (code == 0) {
		rc->wins++;
		keep(rc, &h.r);
	} else if (code == (v2 ? BOOKING_EINVALID_STATE : BOOKING_ESEAT_ALREADY_BOOKED)) {
		rc->refusals++;
	} else {
		race_fail(rc, v2 ? "box office hold" : "hold", code);
	}
}

/*
 * One of this racer's reservations: released (guarded by its version, its
 * seats written FREE), or moved to other seats (guarded by its version and
 * its seats HELD by it, its seats FREE, the new ones claimed, its seats and
 * total replaced) — seat writes in a random order.
 */
static void race_change(racer *rc, bool release)
{
	if (rc->nmine == 0)
		return;
	size_t at = (size_t)rand_r(&rc->seed) % rc->nmine;
	live *l = &rc->mine[at];
	char fresh[3][BOOKING_LABEL_SIZE];
	size_t nf = release ? 0 : pick(rc, fresh, 1 + (size_t)(rand_r(&rc->seed) % 3), l);
	booking_store_seat_write w[V2_SEATS + 3];
	booking_seat_ref refs[3], *ref_ptrs[3];
	size_t nw = 0;
	for (size_t i = 0; i < l->n; i++)
		w[nw++] = (booking_store_seat_write){.label = l->labels[i],
		                                     .expect = BOOKING_SEAT_EXPECT_STATUS,
		                                     .expect_status = BOOKING_SEAT_HELD,
		                                     .expect_reservation = l->id,
		                                     .write = true,
		                                     .status = BOOKING_SEAT_FREE};
	for (size_t i = 0; i < nf; i++) {
		w[nw++] = (booking_store_seat_write){.label = fresh[i],
		                                     .expect = BOOKING_SEAT_EXPECT_CLAIMABLE,
		                                     .write = true,
		                                     .status = BOOKING_SEAT_HELD,
		                                     .reservation_id = l->id,
		                                     .hold_until = T0 + 15 * MINUTE};
		memset(&refs[i], 0, sizeof refs[i]);
		memcpy(refs[i].label, fresh[i], BOOKING_LABEL_SIZE);
		ref_ptrs[i] = &refs[i];
	}
	for (size_t i = nw; i > 1; i--) { /* shuffled */
		size_t j = (size_t)rand_r(&rc->seed) % i;
		booking_store_seat_write t = w[i - 1];
		w[i - 1] = w[j];
		w[j] = t;
	}
	booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, l->id, l->version, NULL},
	                            {BOOKING_GUARD_SEATS_OWNED, l->id, BOOKING_SEAT_HELD, NULL}};
	booking_store_reservation_set set = {.id = l->id, .updated_at = T0 + 1};
	set.status = release ? BOOKING_RESERVATION_CANCELLED : BOOKING_RESERVATION_PENDING;
	set.saga = release ? BOOKING_SAGA_COMPENSATED : BOOKING_SAGA_SEATS_RESERVED;
	if (!release) {
		set.seats = ref_ptrs;
		set.seat_count = nf;
		set.total_amount = 1000 * (int64_t)nf;
	}
	booking_store_change c = {.guard_count = release ? 1 : 2,
	                          .guards = g,
	                          .reservation = &set,
	                          .showtime_id = rc->w->showtime_id,
	                          .now = T0,
	                          .seat_write_count = nw,
	                          .seat_writes = w};
	int code = rc->w->st->ledger->apply(NULL, rc->w->st, &c);
	if (code == 0) {
		rc->wins++;
		l->version++;
		if (release) {
			*l = rc->mine[--rc->nmine];
		} else {
			l->n = nf;
			for (size_t i = 0; i < nf; i++)
				memcpy(l->labels[i], fresh[i], BOOKING_LABEL_SIZE);
		}
	} else if (code == BOOKING_EINVALID_STATE && !release) {
		rc->refusals++; /* a new seat was taken */
	} else {
		race_fail(rc, release ? "release" : "move", code);
	}
}

static void *run_racer(void *arg)
{
	racer *rc = arg;
	for (int i = 0; i < RACE_OPS && rc->error[0] == '\0'; i++) {
		int op = rand_r(&rc->seed) % 4;
		if (op < 2)
			race_hold(rc, op == 0);
		else
			race_change(rc, op == 2);
	}
	return NULL;
}

static long deadlocks(PGconn *a)
{
	return admin_count(a, "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
}

static int held_by(const booking_store_seat *seat, void *payload)
{
	int *held = payload;
	if (seat->status == BOOKING_SEAT_HELD)
		(*held)++;
	return 0;
}

START_TEST(changes_with_seat_writes_and_holds_on_shared_seats_never_deadlock)
{
	char url[1024];
	world w;
	racer rc[RACERS];
	pthread_t t[RACERS];
	PGconn *a = admin();
	long before = deadlocks(a);

	schema_url(url, sizeof url, "seat_locks", NULL);
	w.st = open_store(url, RACERS, 30);
	seed(&w, "A:10");
	for (int i = 0; i < RACERS; i++) {
		memset(&rc[i], 0, sizeof rc[i]);
		rc[i].w = &w;
		rc[i].seed = 1234u + (unsigned int)i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, run_racer, &rc[i]), 0);
	}
	int wins = 0, refusals = 0, live_seats = 0, held = 0;
	for (int i = 0; i < RACERS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(rc[i].error[0] == '\0', "racer %d: %s", i, rc[i].error);
		wins += rc[i].wins;
		refusals += rc[i].refusals;
		for (size_t k = 0; k < rc[i].nmine; k++) {
			booking_reservation *r = NULL;
			ck_assert_ok(w.st->ledger->reservation_get(&r, w.st, rc[i].mine[k].id));
			ck_assert_uint_eq(r->seat_count, rc[i].mine[k].n);
			ck_assert_int_eq(r->version, rc[i].mine[k].version);
			booking_reservation_free(r);
			live_seats += (int)rc[i].mine[k].n;
		}
	}
	ck_assert_ok(w.st->catalog->seat_list(w.st, w.showtime_id, held_by, &held));
	ck_assert_int_eq(held, live_seats); /* every held seat is a live reservation's */
	ck_assert_int_gt(wins, RACERS * RACE_OPS / 10);
	ck_assert_int_gt(refusals, 0); /* they did contend */
	w.st->free(w.st); /* the sessions end: their statistics reach pg_stat_database */
	struct timespec pause = {1, 500000000L};
	nanosleep(&pause, NULL);
	ck_assert_int_eq(deadlocks(a) - before, 0);
	PQfinish(a);
}
END_TEST

/* ------------------------------------------------------------------------
 * Per-buyer limits (ledger version 3, schema version 8).
 * ------------------------------------------------------------------------ */

enum { LIMIT_PROCS = 16, USER_LIMIT = 4 };

/*
 * Process p's try: seat p of "A-B:10" for `user`, by a hold under the
 * limit, or (by_apply and p odd) by a box office change guarded by
 * USER_SEATS (at most limit - 1 taken before it). Exit 0: won, 1: refused
 * for the limit (LIMIT_REACHED, or the guard failed), 2: anything else.
 */
static void limited_try(const char *url, const world *w0, const char *user, int p, bool by_apply, int go)
{
	world w = *w0;
	char byte, label[BOOKING_LABEL_SIZE];
	int rc = booking_store_open(&w.st, url, NULL);
	snprintf(label, sizeof label, "%c%d", p < 10 ? 'A' : 'B', p % 10 + 1);
	if (rc == 0 && read(go, &byte, 1) < 0)
		_exit(2);
	if (rc == 0 && by_apply && p % 2 == 1) {
		v2_hold h;
		const char *labels[1] = {label};
		size_t failed = 99;
		v2_hold_init(&h, &w, user, labels, 1, T0);
		snprintf(h.key, sizeof h.key, "limit-%d", p); /* the key counter is the same in every process */
		booking_store_guard g = {BOOKING_GUARD_USER_SEATS, h.r.user_id, USER_LIMIT - 1, h.r.showtime_id};
		h.c.guard_count = 1;
		h.c.guards = &g;
		rc = v2_send(w.st, &h, &failed);
		if (rc == BOOKING_EINVALID_STATE && failed == 0)
			rc = BOOKING_ELIMIT_REACHED;
	} else if (rc == 0) {
		hold_req h;
		hold_init(&h, &w, user, label);
		h.req.user_seat_limit = USER_LIMIT;
		rc = hold_send(w.st, &h);
	}
	if (rc != 0 && rc != BOOKING_ELIMIT_REACHED)
		fprintf(stderr, "%s %d: %s: %s\n", user, p, booking_error_name(rc), booking_error_last()->message);
	if (w.st)
		w.st->free(w.st);
	_exit(rc == 0 ? 0 : rc == BOOKING_ELIMIT_REACHED ? 1 : 2);
}

/* LIMIT_PROCS processes (one connection each) race limited_try(): the number that won. */
static int race_limited(const char *url, const world *w, const char *user, bool by_apply)
{
	int go[2], wins = 0;
	pid_t pids[LIMIT_PROCS];

	ck_assert_int_eq(pipe(go), 0);
	for (int p = 0; p < LIMIT_PROCS; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			close(go[1]);
			limited_try(url, w, user, p, by_apply, go[0]);
		}
	}
	close(go[0]);
	struct timespec settle = {0, 300000000L}; /* let them connect */
	nanosleep(&settle, NULL);
	close(go[1]); /* all at once */
	for (int p = 0; p < LIMIT_PROCS; p++) {
		int status = 0;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "%s %d: status %d", user, p, status);
		wins += WEXITSTATUS(status) == 0;
	}
	return wins;
}

/* The seats of the showtime held by the reservations of `user` (the admin's count). */
static long held_seats_of(PGconn *a, const char *schema, const char *user)
{
	char sql[400];
	snprintf(sql, sizeof sql,
	         "SELECT count(*) FROM %s.showtime_seats s JOIN %s.bookings b ON b.id = s.booking_id"
	         " WHERE b.user_id = '%s'",
	         schema, schema, user);
	return admin_count(a, sql);
}

/*
 * 16 processes of one user hold one seat each at once under a limit of 4:
 * exactly 4 win, the others are LIMIT_REACHED having written nothing. Then
 * another user's 16, half of them box office changes guarded by USER_SEATS
 * (at most 3 taken before): holds and changes serialise with each other.
 */
START_TEST(racing_holds_of_one_user_under_a_seat_limit_let_exactly_the_limit_win)
{
	char url[1024];
	world w;

	schema_url(url, sizeof url, "user_limit", NULL);
	w.st = open_store(url, 2, 5);
	seed(&w, "A-B:10");
	PGconn *a = admin();
	ck_assert_int_eq(race_limited(url, &w, "alice", false), USER_LIMIT);
	ck_assert_int_eq(held_seats_of(a, "user_limit", "alice"), USER_LIMIT);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM user_limit.bookings WHERE user_id = 'alice'"), USER_LIMIT);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM user_limit.outbox"), USER_LIMIT);
	/* the seats alice lost are still free: bob races for them, by holds and by changes */
	admin_exec(a, "DELETE FROM user_limit.outbox");
	admin_exec(a, "UPDATE user_limit.showtime_seats SET status = 0, booking_id = NULL, hold_until = 0");
	ck_assert_int_eq(race_limited(url, &w, "bob", true), USER_LIMIT);
	ck_assert_int_eq(held_seats_of(a, "user_limit", "bob"), USER_LIMIT);
	ck_assert_int_eq(admin_count(a, "SELECT count(*) FROM user_limit.outbox"), USER_LIMIT);
	PQfinish(a);
	w.st->free(w.st);
}
END_TEST

/*
 * The serialisation is an advisory lock on (user, showtime), taken only
 * under a limit: while another session holds it, a limited hold or a
 * USER_SEATS change of that user in that showtime waits (here until the
 * statement timeout); an unlimited hold, or another user's, does not.
 */
START_TEST(a_limited_hold_waits_for_the_users_lock_and_an_unlimited_one_does_not)
{
	char url[1024], with[1200], sql[300];
	world w;
	hold_req h;
	struct timespec t0, t1;

	schema_url(url, sizeof url, "user_lock", NULL);
	snprintf(with, sizeof with, "%s&statement_timeout=1", url); /* seconds */
	ck_assert_ok(booking_store_open(&w.st, with, NULL));
	ck_assert_ok(w.st->migrate(NULL, w.st));
	seed(&w, "A:6");
	PGconn *a = admin();
	admin_exec(a, "BEGIN");
	snprintf(sql, sizeof sql, "SELECT pg_advisory_xact_lock(hashtextextended('carol' || '/' || '%s', 0))",
	         w.showtime_id);
	admin_exec(a, sql);
	hold_init(&h, &w, "carol", "A1");
	h.req.user_seat_limit = 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_code(hold_send(w.st, &h), BOOKING_EUNAVAILABLE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double waited = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	ck_assert_msg(waited >= 0.9 && waited < 5, "waited %.2f s", waited);
	ck_assert(!booking_exists(w.st, h.r.id));
	/* a box office change guarded by carol's seats waits too */
	v2_hold v;
	const char *labels[1] = {"A2"};
	size_t failed = 99;
	v2_hold_init(&v, &w, "carol", labels, 1, T0);
	booking_store_guard g = {BOOKING_GUARD_USER_SEATS, v.r.user_id, 1, v.r.showtime_id};
	v.c.guard_count = 1;
	v.c.guards = &g;
	ck_assert_code(v2_send(w.st, &v, &failed), BOOKING_EUNAVAILABLE);
	ck_assert(!booking_exists(w.st, v.r.id));
	/* without a limit carol does not wait; dave, under one, does not either */
	hold_init(&h, &w, "carol", "A3");
	ck_assert_ok(hold_send(w.st, &h));
	hold_init(&h, &w, "dave", "A4");
	h.req.user_seat_limit = 2;
	ck_assert_ok(hold_send(w.st, &h));
	admin_exec(a, "ROLLBACK");
	/* the lock gone: carol holds A1 under 2 (A3 and A1), then a third seat is over it */
	hold_init(&h, &w, "carol", "A1");
	h.req.user_seat_limit = 2;
	ck_assert_ok(hold_send(w.st, &h));
	hold_init(&h, &w, "carol", "A2");
	h.req.user_seat_limit = 2;
	ck_assert_code(hold_send(w.st, &h), BOOKING_ELIMIT_REACHED);
	/* the guard: carol has 2 taken, at most 1 fails as guard 0; at most 2 holds */
	v2_hold_init(&v, &w, "carol", labels, 1, T0);
	booking_store_guard g1 = {BOOKING_GUARD_USER_SEATS, v.r.user_id, 1, v.r.showtime_id};
	v.c.guard_count = 1;
	v.c.guards = &g1;
	ck_assert_code(v2_send(w.st, &v, &failed), BOOKING_EINVALID_STATE);
	ck_assert_uint_eq(failed, 0);
	ck_assert(!booking_exists(w.st, v.r.id));
	g1.value = 2;
	ck_assert_ok(v2_send(w.st, &v, &failed));
	PQfinish(a);
	w.st->free(w.st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("postgresql-store");
	TCase *tc = tcase_create("postgresql");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, migrations_from_many_processes_at_once_apply_each_version_once);
	tcase_add_test(tc, a_schema_newer_than_the_code_is_refused);
	tcase_add_test(tc, migration_3_erases_unkeyed_payment_fingerprints);
	tcase_add_test(tc, migration_5_replaces_the_indexes_that_named_states);
	tcase_add_test(tc, migration_6_drops_the_functions_that_answered_codes);
	tcase_add_test(tc, migration_7_gives_an_older_schema_what_a_new_one_has);
	tcase_add_test(tc, migration_8_gives_an_older_schema_what_a_new_one_has);
	tcase_add_test(tc, bad_and_unreachable_urls);
	tcase_add_test(tc, bad_store_parameters_are_refused_naming_the_field_before_connecting);
	tcase_add_test(tc, libpq_parameters_reach_libpq_beside_the_store_s_own);
	tcase_add_test(tc, the_url_statement_timeout_ends_a_blocked_statement);
	tcase_add_test(tc, a_lost_connection_is_unavailable_once_then_replaced);
	tcase_add_test(tc, a_hold_whose_reply_was_lost_is_settled_as_committed);
	tcase_add_test(tc, a_hold_whose_request_was_lost_is_reported_not_applied);
	tcase_add_test(tc, a_cancel_whose_reply_was_lost_is_settled_as_committed);
	tcase_add_test(tc, a_box_office_hold_whose_reply_or_request_was_lost_is_settled);
	tcase_add_test(tc, a_movie_whose_reply_was_lost_is_settled_and_reads_go_on);
	tcase_add_test(tc, a_statement_over_its_timeout_is_unavailable);
	tcase_add_test(tc, a_caller_waits_for_a_free_connection_then_gets_unavailable);
	tcase_add_test(tc, outbox_readers_see_every_event_once_in_position_order_while_writers_commit);
	tcase_add_test(tc, changes_with_seat_writes_and_holds_on_shared_seats_never_deadlock);
	tcase_add_test(tc, racing_holds_of_one_user_under_a_seat_limit_let_exactly_the_limit_win);
	tcase_add_test(tc, a_limited_hold_waits_for_the_users_lock_and_an_unlimited_one_does_not);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
