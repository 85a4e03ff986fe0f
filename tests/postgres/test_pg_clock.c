/*
 * PostgreSQL store — one clock per deployment (doc/rulebook.md): processes
 * whose host clocks are 15 minutes fast or slow decide by the database
 * server's clock, against a real server.
 *
 * The skewed processes are this program run again as a child under
 * libfaketime (`faketime -f +15m` / `-15m`: every clock of the child is
 * moved, the wall clock and the monotonic one), doing one thing each —
 * hold, pay, run the expiry sweep — on a handle with no injected clock, and
 * printing what it got. The test process (a true clock) arranges, reads
 * the database's clock with its own connection, and judges. Each child
 * first shows that its clock really is skewed, so a libfaketime that did
 * nothing fails the test instead of passing it.
 *
 * Holds last 10 minutes. A fast host (+15) would see every live hold as
 * over; a slow one (-15) would keep holds over for 5 to 15 minutes alive.
 *
 * URL: BOOKING_TEST_STORE_URL and BOOKING_TEST_PG_URL (tests/postgres/with-pg.sh).
 * Needs `faketime` on PATH (Debian package faketime; scripts/install-deps.sh).
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <check.h>
#include <libpq-fe.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MINUTES 10
#define MINUTE INT64_C(60000)
#define SECOND INT64_C(1000)
#define SKEW (15 * MINUTE)
#define CARD_OK "4242424242424242"

/* The child calls this too: no ck_assert here (Check reports each one to its runner). */
static const char *store_url(void)
{
	const char *u = getenv("BOOKING_TEST_STORE_URL");
	return u && *u ? u : "BOOKING_TEST_STORE_URL is not set (run through tests/postgres/with-pg.sh)";
}

static int64_t host_ms(void)
{
	return booking_clock_system()->now_ms(booking_clock_system());
}

/* The database server's clock, read on a connection of our own. */
static int64_t db_ms(void)
{
	PGconn *c = PQconnectdb(store_url());
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connection: %s", PQerrorMessage(c));
	PGresult *r = PQexec(c, "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint");
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "clock: %s", PQerrorMessage(c));
	int64_t t = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return t;
}

static int open_handle(booking_handle **out, const booking_clock *clock)
{
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = store_url();
	o.payment_key_file = getenv("BOOKING_TEST_PAYMENT_KEY");
	o.hold_expiry_minutes = HOLD_MINUTES;
	o.log_level = BOOKING_LOG_WARNING; /* a skewed child logs how far off its clock is */
	o.clock = clock;
	return booking_open(out, &o);
}

/* ----------------------------------------------------------------------
 * The child: `test_pg_clock --child WHAT ARGS...`, run under faketime.
 * Prints one line: host=<its wall clock> now=<booking_now> rc=<error name>
 * id=<reservation id or -> expires_at=<ms> n=<count>.
 * ---------------------------------------------------------------------- */

static int child_main(int argc, char **argv)
{
	booking_handle *bk = NULL;
	booking_reservation *r = NULL;
	size_t n = 0;
	int rc = open_handle(&bk, NULL);
	if (rc < 0) {
		fprintf(stderr, "child: open: %s: %s\n", booking_error_name(rc), booking_error_last()->message);
		return 1;
	}
	const char *what = argv[2];
	if (strcmp(what, "now") == 0) {
		rc = 0;
	} else if (strcmp(what, "hold") == 0 && argc >= 6) { /* hold SHOWTIME USER LABEL... */
		booking_ctx ctx;
		booking_ctx_init(&ctx, argv[4], BOOKING_ROLE_CUSTOMER);
		rc = booking_hold(&r, bk, &ctx, argv[3], (const char *const *)&argv[5], (size_t)(argc - 5));
	} else if (strcmp(what, "pay") == 0 && argc == 6) { /* pay BOOKING USER KEY */
		booking_ctx ctx;
		booking_ctx_init(&ctx, argv[4], BOOKING_ROLE_CUSTOMER);
		rc = booking_pay(NULL, bk, &ctx, argv[3], argv[5], CARD_OK);
	} else if (strcmp(what, "expire") == 0) {
		rc = booking_expire_due(&n, bk, booking_ctx_system(), 1000);
	} else {
		fprintf(stderr, "child: bad arguments\n");
		booking_close(bk);
		return 2;
	}
	printf("host=%" PRId64 " now=%" PRId64 " rc=%s id=%s expires_at=%" PRId64 " n=%zu\n", host_ms(), booking_now(bk),
	       rc ? booking_error_name(rc) : "OK", r ? r->id : "-", r ? r->expires_at : INT64_C(0), n);
	if (rc < 0)
		fprintf(stderr, "child: %s: %s: %s\n", what, booking_error_name(rc), booking_error_last()->message);
	booking_reservation_free(r);
	booking_close(bk);
	return 0;
}

/* What a child printed, and the true clocks around its run. */
typedef struct child_result {
	int64_t host, now, expires_at;
	char rc[64], id[64];
	size_t n;
	int64_t host_before, host_after; /* this process's clock (true) */
	int64_t db_before, db_after;     /* the database's */
} child_result;

static char self_exe[PATH_MAX];

/* Run `--child ARGS` with its clocks moved by `skew` ("+15m", "-15m"). */
static child_result run_child(const char *skew, const char *args)
{
	child_result res;
	char cmd[PATH_MAX + 1024], line[512];

	memset(&res, 0, sizeof(res));
	snprintf(cmd, sizeof(cmd), "faketime -f '%s' '%s' --child %s", skew, self_exe, args);
	res.db_before = db_ms();
	res.host_before = host_ms();
	FILE *p = popen(cmd, "r");
	ck_assert_msg(p != NULL, "popen %s", cmd);
	bool got = fgets(line, sizeof(line), p) != NULL;
	int status = pclose(p);
	res.host_after = host_ms();
	res.db_after = db_ms();
	ck_assert_msg(got && WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: no answer (exit status %d)", cmd,
	              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	long long host, now, exp;
	ck_assert_msg(sscanf(line, "host=%lld now=%lld rc=%63s id=%63s expires_at=%lld n=%zu", &host, &now, res.rc,
	                     res.id, &exp, &res.n) == 6,
	              "%s: unexpected answer: %s", cmd, line);
	res.host = host;
	res.now = now;
	res.expires_at = exp;
	return res;
}

/* The child's clock really was off by `skew_ms`: without it the test proves nothing. */
static void assert_skewed(const child_result *r, int64_t skew_ms)
{
	ck_assert_msg(r->host >= r->host_before + skew_ms - 5 * SECOND && r->host <= r->host_after + skew_ms + 5 * SECOND,
	              "the child's clock is %+lld ms off ours, expected %+lld (does faketime work?)",
	              (long long)(r->host - r->host_after), (long long)skew_ms);
}

/* The child's handle's time was the database's. */
static void assert_following_db(const child_result *r)
{
	ck_assert_msg(r->now >= r->db_before - SECOND && r->now <= r->db_after + SECOND,
	              "the child's handle says %lld, the database %lld..%lld", (long long)r->now,
	              (long long)r->db_before, (long long)r->db_after);
}

/* A hold the child made lasts HOLD_MINUTES by the database's clock. */
static void assert_expires_by_db_clock(const child_result *r)
{
	int64_t lo = r->db_before + HOLD_MINUTES * MINUTE - SECOND, hi = r->db_after + HOLD_MINUTES * MINUTE + SECOND;
	ck_assert_msg(r->expires_at >= lo && r->expires_at <= hi,
	              "the hold expires at %lld: %+lld ms from the database's now + %d min", (long long)r->expires_at,
	              (long long)(r->expires_at - (r->db_after + HOLD_MINUTES * MINUTE)), HOLD_MINUTES);
}

/* ---------------------------------------------------------------------- */

static booking_handle *bk;
static char showtime_id[BOOKING_ID_SIZE];
static char key_dir[256], key_path[300];

static void setup(void)
{
	booking_ctx admin;
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_seat *seats = NULL;
	booking_price price;
	size_t n = 0;

	ck_assert_msg(system("command -v faketime >/dev/null 2>&1") == 0,
	              "faketime is not installed (Debian package faketime; scripts/install-deps.sh installs it)");
	ck_assert_msg(readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1) > 0, "readlink /proc/self/exe");

	const char *tmp = getenv("TMPDIR");
	snprintf(key_dir, sizeof(key_dir), "%s/booking-clock-key.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(key_dir));
	snprintf(key_path, sizeof(key_path), "%s/payment.key", key_dir);
	ck_assert_int_eq(booking_payment_key_generate_file(key_path), 0);
	setenv("BOOKING_TEST_PAYMENT_KEY", key_path, 1);

	ck_assert_int_eq(open_handle(&bk, NULL), 0);
	booking_ctx_init(&admin, "admin", BOOKING_ROLE_ADMIN);
	ck_assert_int_eq(booking_movie_create(&m, bk, &admin, "Clockwork", 120), 0);
	ck_assert_int_eq(booking_theater_create(&t, bk, &admin, "Odeon", "Lyon"), 0);
	ck_assert_int_eq(booking_layout_parse(&seats, &n, "A-B:10", sizeof *seats), 0);
	ck_assert_int_eq(booking_screen_create(&s, bk, &admin, t->id, "Screen 1", seats, n, sizeof *seats), 0);
	memset(&price, 0, sizeof(price));
	snprintf(price.category, sizeof(price.category), "standard");
	price.amount = 1250;
	ck_assert_int_eq(
	    booking_showtime_create(&st, bk, &admin, m->id, s->id, booking_now(bk) + 24 * 60 * MINUTE, "EUR", &price, 1, sizeof(booking_price)), 0);
	snprintf(showtime_id, sizeof(showtime_id), "%s", st->id);
	booking_showtime_free(st);
	booking_screen_free(s);
	booking_free(seats);
	booking_theater_free(t);
	booking_movie_free(m);
}

static void teardown(void)
{
	booking_close(bk);
	bk = NULL;
	unlink(key_path);
	rmdir(key_dir);
}

static booking_reservation_status status_of(const char *id)
{
	booking_reservation *r = NULL;
	ck_assert_int_eq(booking_reservation_get(&r, bk, booking_ctx_system(), id), 0);
	booking_reservation_status s = r->status;
	booking_reservation_free(r);
	return s;
}

/* Hold `labels` (NULL-terminated) as `user` on `h`; returns the reservation id in `id`. */
static void hold_on(booking_handle *h, const char *user, const char *const *labels, size_t n, char id[BOOKING_ID_SIZE])
{
	booking_ctx ctx;
	booking_reservation *r = NULL;
	booking_ctx_init(&ctx, user, BOOKING_ROLE_CUSTOMER);
	int rc = booking_hold(&r, h, &ctx, showtime_id, labels, n);
	ck_assert_msg(rc == 0, "hold: %s: %s", booking_error_name(rc), booking_error_last()->message);
	snprintf(id, BOOKING_ID_SIZE, "%s", r->id);
	booking_reservation_free(r);
}

START_TEST(a_fast_host_does_not_take_seats_whose_hold_is_live_by_the_database_clock)
{
	char id[BOOKING_ID_SIZE], args[512];
	const char *labels[] = {"A1", "A2"};

	hold_on(bk, "alice", labels, 2, id); /* live for 10 minutes by the database's clock */

	/* +15 min: by its own clock the hold ran out 5 minutes ago */
	snprintf(args, sizeof(args), "hold %s mallory A2 A3", showtime_id);
	child_result r = run_child("+15m", args);
	assert_skewed(&r, SKEW);
	ck_assert_str_eq(r.rc, "SEAT_ALREADY_BOOKED");
	assert_following_db(&r);

	/* nor does its sweep expire it */
	r = run_child("+15m", "expire");
	assert_skewed(&r, SKEW);
	ck_assert_str_eq(r.rc, "OK");
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(status_of(id), BOOKING_RESERVATION_PENDING);

	/* a hold it makes lasts 10 minutes by the database's clock, not 25 */
	snprintf(args, sizeof(args), "hold %s mallory A3", showtime_id);
	r = run_child("+15m", args);
	assert_skewed(&r, SKEW);
	ck_assert_str_eq(r.rc, "OK");
	assert_expires_by_db_clock(&r);
	assert_following_db(&r);

	/* and alice can still pay for hers */
	booking_ctx alice;
	booking_ctx_init(&alice, "alice", BOOKING_ROLE_CUSTOMER);
	int rc = booking_pay(NULL, bk, &alice, id, "alice-1", CARD_OK);
	ck_assert_msg(rc == 0, "pay: %s: %s", booking_error_name(rc), booking_error_last()->message);
}
END_TEST

START_TEST(a_slow_host_does_not_keep_a_hold_that_is_over_by_the_database_clock)
{
	char id[BOOKING_ID_SIZE], args[512];
	const char *labels[] = {"B1", "B2"};

	/* a hold that ran out a minute ago: made 11 minutes ago (a manual clock wins over the store's) */
	booking_clock *past = booking_clock_manual_new(db_ms() - 11 * MINUTE);
	booking_handle *old = NULL;
	ck_assert_int_eq(open_handle(&old, past), 0);
	hold_on(old, "carol", labels, 2, id);
	booking_close(old);
	booking_clock_manual_free(past);

	/* -15 min: by its own clock the hold has 14 minutes left */
	snprintf(args, sizeof(args), "pay %s carol carol-1", id);
	child_result r = run_child("-15m", args);
	assert_skewed(&r, -SKEW);
	ck_assert_str_eq(r.rc, "RESERVATION_EXPIRED");
	assert_following_db(&r);

	/* its seats can be claimed, by the slow host too */
	snprintf(args, sizeof(args), "hold %s dave B2 B3", showtime_id);
	r = run_child("-15m", args);
	assert_skewed(&r, -SKEW);
	ck_assert_str_eq(r.rc, "OK");
	/* which holds them for 10 minutes by the database's clock, not -5 */
	assert_expires_by_db_clock(&r);
	char dave[sizeof(r.id)];
	memcpy(dave, r.id, sizeof(dave));

	/* its sweep expires the dead hold, not the live one */
	r = run_child("-15m", "expire");
	assert_skewed(&r, -SKEW);
	ck_assert_str_eq(r.rc, "OK");
	ck_assert_uint_ge(r.n, 1);
	ck_assert_int_eq(status_of(id), BOOKING_RESERVATION_EXPIRED);
	ck_assert_int_eq(status_of(dave), BOOKING_RESERVATION_PENDING);
	assert_following_db(&r);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);

	Suite *s = suite_create("postgresql-clock");
	TCase *tc = tcase_create("clock");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_fast_host_does_not_take_seats_whose_hold_is_live_by_the_database_clock);
	tcase_add_test(tc, a_slow_host_does_not_keep_a_hold_that_is_over_by_the_database_clock);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
