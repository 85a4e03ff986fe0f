/*
 * bench-venue — what a large venue costs: a showtime of 1 000, 10 000 and
 * 100 000 seats created, its seat map read and holds made on it.
 *
 *   bench-venue [STORE_URL] [SIZES] [READS] [HOLDS]
 *
 * Defaults: memory:, 1000,10000,100000, 20 seat-map reads and 50 holds of
 * each kind per size. Other settings come from the BOOKING_* environment.
 * For each size, one new screen (rows of 500 seats: "A-GR:500" for
 * 100 000) and one showtime on it:
 *   create     booking_screen_create() + booking_showtime_create();
 *   seat map   booking_seat_map_get(), p50/p99 over READS reads;
 *   named hold booking_hold() of 2 named seats, p50/p99 over HOLDS holds
 *              spread over the venue;
 *   best hold  booking_hold_with() of the best 2, p50/p99 over HOLDS holds
 *              (it reads the seat map to choose: it grows with the venue).
 * On a SQLite file each is printed beside its floor, measured in the same
 * run through sqlite3 directly: the rows a screen and a showtime write,
 * inserted by one prepared statement in one transaction each (in a scratch
 * file of the same schema); the raw SELECT of the showtime's seat rows
 * (in key order, unsorted: the cheapest read of them);
 * and a raw guarded UPDATE of 2 seats in its own transaction. "ratio" is
 * floor / libbooking (1.0: as cheap as the raw SQL).
 * The goals (issue 16) close the output: a 100 000-seat map within 50 ms
 * on SQLite, and a hold's time independent of the venue's size (named
 * hold p50 at the largest size / at the smallest).
 * A benchmark, not a test: it prints figures and always succeeds unless
 * the library fails.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>

#include "bench_layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef BENCH_SQLITE
#include <sqlite3.h>
#endif

#define MAX_SIZES 8

typedef struct figures {
	size_t seats;
	double create_ms, floor_create_ms;
	double map_p50, map_p99, floor_map_p50, floor_map_p99;
	double named_p50, named_p99, floor_hold_p50, floor_hold_p99;
	double best_p50, best_p99;
	bool floor;
} figures;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* p50 and p99 of t[0..n) (sorted here) */
static void percentiles(double *t, size_t n, double *p50, double *p99)
{
	qsort(t, n, sizeof *t, cmp_double);
	*p50 = t[(n - 1) / 2];
	*p99 = t[(n * 99 + 99) / 100 - 1];
}

static int fail(const char *what)
{
	const booking_error *e = booking_error_last();
	fprintf(stderr, "bench-venue: %s: %s: %s\n", what, e->name, e->message);
	return 1;
}


/* ---------- the SQLite floor ---------- */

#ifdef BENCH_SQLITE
/* The file of a "sqlite://PATH[?...]" URL, or NULL (memory, or another store). */
static char *sqlite_path(const char *url)
{
	if (strncmp(url, "sqlite://", 9) != 0 || strncmp(url, "sqlite::memory:", 15) == 0)
		return NULL;
	const char *p = url + 9;
	size_t len = strcspn(p, "?");
	if (len == 0 || strncmp(p, ":memory:", 8) == 0)
		return NULL;
	char *path = malloc(len + 1);
	if (path) {
		memcpy(path, p, len);
		path[len] = '\0';
	}
	return path;
}

static int sq_fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench-venue: floor: %s: %s\n", what, sqlite3_errmsg(db));
	return 1;
}

/*
 * The floor of creating the venue: n screen_seats rows inserted by one
 * prepared statement in one transaction, then the showtime's n rows copied
 * from them, in a scratch file of the same tables (the library's schema).
 */
static int floor_create(const char *path, size_t n, const booking_seat *seats, double *ms)
{
	char scratch[4096];
	snprintf(scratch, sizeof scratch, "%s.floor", path);
	remove(scratch);
	sqlite3 *lib = NULL, *db = NULL;
	sqlite3_stmt *q = NULL;
	int rc = 1;
	if (sqlite3_open_v2(path, &lib, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open(scratch, &db) != SQLITE_OK)
		goto out;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(lib,
	                       "SELECT sql FROM sqlite_master WHERE tbl_name IN ('screen_seats', 'showtime_seats')"
	                       " AND sql IS NOT NULL ORDER BY type = 'index'",
	                       -1, &q, NULL) != SQLITE_OK) {
		rc = sq_fail(lib, "schema");
		goto out;
	}
	while (sqlite3_step(q) == SQLITE_ROW)
		if (sqlite3_exec(db, (const char *)sqlite3_column_text(q, 0), NULL, NULL, NULL) != SQLITE_OK) {
			rc = sq_fail(db, "schema");
			goto out;
		}
	sqlite3_finalize(q);
	q = NULL;
	double t0 = now_ms();
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
	                       "INSERT INTO screen_seats (screen_id, position, label, category, seat_column)"
	                       " VALUES ('floor', ?1, ?2, ?3, ?4)",
	                       -1, &q, NULL) != SQLITE_OK) {
		rc = sq_fail(db, "insert");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(q, 1, (sqlite3_int64)i);
		sqlite3_bind_text(q, 2, seats[i].label, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, seats[i].category, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 4, seats[i].column);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = sq_fail(db, "insert");
			goto out;
		}
		sqlite3_reset(q);
	}
	if (sqlite3_exec(db, "COMMIT; BEGIN; INSERT INTO showtime_seats (showtime_id, label, category, position)"
	                     " SELECT 'floor', label, category, position FROM screen_seats WHERE screen_id = 'floor';"
	                     " COMMIT",
	                 NULL, NULL, NULL) != SQLITE_OK) {
		rc = sq_fail(db, "copy");
		goto out;
	}
	*ms = now_ms() - t0;
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	sqlite3_close(lib);
	remove(scratch);
	char side[4200];
	snprintf(side, sizeof side, "%s-wal", scratch);
	remove(side);
	snprintf(side, sizeof side, "%s-shm", scratch);
	remove(side);
	return rc;
}

/* The floor of a seat map: the showtime's seat rows, every column read, in the table's order (its cheapest). */
static int floor_map(sqlite3 *db, const char *showtime, size_t n, size_t reads, double *t)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
	                       "SELECT label, category, status, booking_id, hold_until, version, note, position"
	                       " FROM showtime_seats WHERE showtime_id = ?1",
	                       -1, &q, NULL) != SQLITE_OK)
		return sq_fail(db, "select");
	for (size_t r = 0; r < reads; r++) {
		double t0 = now_ms();
		size_t rows = 0, bytes = 0;
		sqlite3_bind_text(q, 1, showtime, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW) {
			bytes += (size_t)sqlite3_column_bytes(q, 0) + (size_t)sqlite3_column_bytes(q, 1);
			bytes += (size_t)sqlite3_column_int(q, 2) + (size_t)sqlite3_column_bytes(q, 3);
			bytes += (size_t)sqlite3_column_int64(q, 4) + (size_t)sqlite3_column_int64(q, 5);
			bytes += (size_t)sqlite3_column_bytes(q, 6) + (size_t)sqlite3_column_int64(q, 7);
			(void)sqlite3_column_text(q, 0);
			(void)sqlite3_column_text(q, 1);
			(void)sqlite3_column_text(q, 6);
			rows++;
		}
		sqlite3_reset(q);
		t[r] = now_ms() - t0;
		if (rows != n) {
			sqlite3_finalize(q);
			fprintf(stderr, "bench-venue: floor: %zu rows, not %zu (%zu)\n", rows, n, bytes);
			return 1;
		}
	}
	sqlite3_finalize(q);
	return 0;
}

/* The floor of a hold: a guarded UPDATE of 2 seats in its own transaction (pair i of `labels`). */
static int floor_hold(sqlite3 *db, const char *showtime, const char *const *labels, size_t holds, int64_t now,
                      double *t)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
	                       "UPDATE showtime_seats SET status = 1, booking_id = ?2, hold_until = ?3, version = version + 1"
	                       " WHERE showtime_id = ?1 AND label IN (?4, ?5)"
	                       " AND (status = 0 OR (status = 1 AND hold_until <= ?6))", /* the stores' claimable */
	                       -1, &q, NULL) != SQLITE_OK)
		return sq_fail(db, "update");
	for (size_t i = 0; i < holds; i++) {
		double t0 = now_ms();
		char id[40];
		snprintf(id, sizeof id, "floor-%zu", i);
		sqlite3_bind_text(q, 1, showtime, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 3, now + 600000);
		sqlite3_bind_text(q, 4, labels[2 * i], -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 5, labels[2 * i + 1], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 6, now);
		int ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
		         sqlite3_step(q) == SQLITE_DONE && sqlite3_changes(db) == 2 &&
		         sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK;
		sqlite3_reset(q);
		t[i] = now_ms() - t0;
		if (!ok) {
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			sqlite3_finalize(q);
			return sq_fail(db, "guarded update");
		}
	}
	sqlite3_finalize(q);
	return 0;
}
#endif

/* ---------- one size ---------- */

typedef struct bench {
	booking_handle *bk;
	booking_ctx admin, buyer;
	const char *url;
	size_t reads, holds;
	double *t, *ft;
} bench;

static int measure(bench *b, size_t n, figures *f)
{
	char spec[64], id[BOOKING_ID_SIZE];
	booking_seat *seats = NULL;
	size_t count = 0;
	booking_theater *th = NULL;
	booking_screen *sc = NULL;
	booking_movie *mv = NULL;
	booking_showtime *st = NULL;
	const char **named = NULL, **raw = NULL;
	int rc = 0;
	memset(f, 0, sizeof *f);
	f->seats = n;
	bench_layout_of(n, spec, sizeof spec);
	if (booking_layout_parse(&seats, &count, spec, sizeof *seats) != 0)
		return fail("layout");
	printf("== %zu seats (layout \"%s\")\n", n, spec);

	/* create */
	if (booking_theater_create(&th, b->bk, &b->admin, "Venue", NULL) != 0 ||
	    booking_movie_create(&mv, b->bk, &b->admin, "Venue", 120) != 0) {
		rc = fail("catalog");
		goto out;
	}
	const booking_price price = {"standard", 1000};
	double t0 = now_ms();
	if (booking_screen_create(&sc, b->bk, &b->admin, th->id, "Venue", seats, count, sizeof *seats) != 0) {
		rc = fail("screen");
		goto out;
	}
	double t1 = now_ms();
	if (booking_showtime_create(&st, b->bk, &b->admin, mv->id, sc->id, booking_now(b->bk) + 86400000, "EUR", &price,
	                            1, sizeof price) != 0) {
		rc = fail("showtime");
		goto out;
	}
	double t2 = now_ms();
	memcpy(id, st->id, sizeof id);
	f->create_ms = t2 - t0;
	printf("create      %9.2f ms (screen %.2f, showtime %.2f)", f->create_ms, t1 - t0, t2 - t1);

#ifdef BENCH_SQLITE
	char *path = sqlite_path(b->url);
	sqlite3 *db = NULL;
	if (path) {
		if (floor_create(path, count, seats, &f->floor_create_ms) != 0 ||
		    sqlite3_open(path, &db) != SQLITE_OK) {
			rc = 1;
			goto out_sqlite;
		}
		sqlite3_busy_timeout(db, 5000);
		sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL); /* the store's default */
		f->floor = true;
		printf("   floor %9.2f ms   ratio %.2f", f->floor_create_ms, f->floor_create_ms / f->create_ms);
	}
#endif
	printf("\n");

	/* seat map */
	for (size_t r = 0; r < b->reads; r++) {
		booking_seat_map *m = NULL;
		double s0 = now_ms();
		if (booking_seat_map_get(&m, b->bk, &b->buyer, id) != 0) {
			rc = fail("seat map");
			goto out_sqlite;
		}
		b->t[r] = now_ms() - s0;
		if (m->count != n) {
			fprintf(stderr, "bench-venue: seat map of %zu seats, not %zu\n", m->count, n);
			booking_seat_map_free(m);
			rc = 1;
			goto out_sqlite;
		}
		booking_seat_map_free(m);
	}
	percentiles(b->t, b->reads, &f->map_p50, &f->map_p99);
	printf("seat map    p50 %9.2f ms p99 %9.2f ms", f->map_p50, f->map_p99);
#ifdef BENCH_SQLITE
	if (f->floor) {
		if ((rc = floor_map(db, id, n, b->reads, b->ft)) != 0)
			goto out_sqlite;
		percentiles(b->ft, b->reads, &f->floor_map_p50, &f->floor_map_p99);
		printf("   floor p50 %8.2f ms p99 %8.2f ms   ratio %.2f", f->floor_map_p50, f->floor_map_p99,
		       f->floor_map_p50 / f->map_p50);
	}
#endif
	printf("   (%zu reads)\n", b->reads);

	/* named holds: pair k * stride, spread over the venue; the floor takes the pair after each */
	size_t stride = n / 2 / b->holds;
	named = calloc(2 * b->holds, sizeof *named);
	raw = calloc(2 * b->holds, sizeof *raw);
	if (!named || !raw || stride < 2) {
		fprintf(stderr, "bench-venue: %zu holds do not fit %zu seats\n", b->holds, n);
		rc = 1;
		goto out_sqlite;
	}
	for (size_t i = 0; i < b->holds; i++) {
		size_t p = i * stride;
		named[2 * i] = seats[2 * p].label;
		named[2 * i + 1] = seats[2 * p + 1].label;
		raw[2 * i] = seats[2 * p + 2].label;
		raw[2 * i + 1] = seats[2 * p + 3].label;
	}
	for (size_t i = 0; i < b->holds; i++) {
		double s0 = now_ms();
		if (booking_hold(NULL, b->bk, &b->buyer, id, named + 2 * i, 2) != 0) {
			rc = fail("named hold");
			goto out_sqlite;
		}
		b->t[i] = now_ms() - s0;
	}
	percentiles(b->t, b->holds, &f->named_p50, &f->named_p99);
	printf("named hold  p50 %9.3f ms p99 %9.3f ms", f->named_p50, f->named_p99);
#ifdef BENCH_SQLITE
	if (f->floor) {
		if ((rc = floor_hold(db, id, raw, b->holds, booking_now(b->bk), b->ft)) != 0)
			goto out_sqlite;
		percentiles(b->ft, b->holds, &f->floor_hold_p50, &f->floor_hold_p99);
		printf("   floor p50 %8.3f ms p99 %8.3f ms   ratio %.2f", f->floor_hold_p50, f->floor_hold_p99,
		       f->floor_hold_p50 / f->named_p50);
	}
#endif
	printf("   (%zu holds of 2)\n", b->holds);

	/* best-available holds */
	for (size_t i = 0; i < b->holds; i++) {
		booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
		q.showtime_id = id;
		q.best = 2;
		double s0 = now_ms();
		if (booking_hold_with(NULL, b->bk, &b->buyer, &q, sizeof q) != 0) {
			rc = fail("best hold");
			goto out_sqlite;
		}
		b->t[i] = now_ms() - s0;
	}
	percentiles(b->t, b->holds, &f->best_p50, &f->best_p99);
	printf("best hold   p50 %9.3f ms p99 %9.3f ms   (%zu holds of the best 2: reads the seat map)\n\n", f->best_p50,
	       f->best_p99, b->holds);
out_sqlite:
#ifdef BENCH_SQLITE
	sqlite3_close(db);
	free(path);
#endif
out:
	fflush(stdout);
	free(named);
	free(raw);
	booking_free(seats);
	booking_theater_free(th);
	booking_screen_free(sc);
	booking_movie_free(mv);
	booking_showtime_free(st);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: bench-venue [STORE_URL] [SIZES] [READS] [HOLDS]\n"
		       "defaults: memory: 1000,10000,100000 20 50; BOOKING_* variables apply\n");
		return 0;
	}
	const char *url = argc > 1 ? argv[1] : "memory:";
	const char *sizes_arg = argc > 2 ? argv[2] : "1000,10000,100000";
	long reads = argc > 3 ? strtol(argv[3], NULL, 10) : 20;
	long holds = argc > 4 ? strtol(argv[4], NULL, 10) : 50;
	size_t sizes[MAX_SIZES], nsizes = 0;
	for (const char *p = sizes_arg; *p && nsizes < MAX_SIZES;) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p || v < 1 || v > 100000) {
			fprintf(stderr, "bench-venue: SIZES is a list of 1..100000, such as 1000,10000,100000\n");
			return 2;
		}
		sizes[nsizes++] = (size_t)v;
		p = *end == ',' ? end + 1 : end;
	}
	if (nsizes == 0 || reads < 1 || reads > 10000 || holds < 1 || holds > 10000) {
		fprintf(stderr, "bench-venue: READS 1..10000, HOLDS 1..10000\n");
		return 2;
	}
	booking_options *env = NULL;
	if (booking_options_from_env(&env) != 0)
		return fail("environment");
	booking_options opts = *env;
	opts.store_url = url;
	if (opts.log_level == 0)
		opts.log_level = BOOKING_LOG_WARNING;
	if (opts.max_seats_per_user_showtime == 0) /* one buyer makes every hold */
		opts.max_seats_per_user_showtime = -1;
	bench b;
	memset(&b, 0, sizeof b);
	b.url = url;
	b.reads = (size_t)reads;
	b.holds = (size_t)holds;
	b.t = calloc((size_t)(reads > holds ? reads : holds), sizeof *b.t);
	b.ft = calloc((size_t)(reads > holds ? reads : holds), sizeof *b.ft);
	booking_ctx_init(&b.admin, "bench-admin", BOOKING_ROLE_ADMIN);
	booking_ctx_init(&b.buyer, "bench-buyer", BOOKING_ROLE_CUSTOMER);
	figures f[MAX_SIZES];
	int rc = 0;
	if (!b.t || !b.ft) {
		rc = 1;
		goto out;
	}
	if (booking_open(&b.bk, &opts) != 0) {
		rc = fail("open");
		goto out;
	}
	printf("bench-venue: store %s, %ld seat-map reads and %ld holds of 2 per size\n\n", url, reads, holds);
	for (size_t i = 0; i < nsizes && rc == 0; i++)
		rc = measure(&b, sizes[i], &f[i]);
	if (rc != 0)
		goto out;
	figures *small = &f[0], *big = &f[nsizes - 1];
	printf("goal: seat map of %zu seats p50 %.2f ms p99 %.2f ms", big->seats, big->map_p50, big->map_p99);
	if (strncmp(url, "sqlite:", 7) == 0)
		printf(" (<= 50 ms on SQLite: %s)", big->map_p99 <= 50.0 ? "met" : big->map_p50 <= 50.0 ? "met at p50" : "missed");
	printf("\n");
	if (nsizes > 1) {
		printf("goal: hold time independent of venue size: named hold p50 %zu/%zu seats = %.2f (p99 %.2f)\n",
		       big->seats, small->seats, big->named_p50 / small->named_p50, big->named_p99 / small->named_p99);
		printf("      best hold (reads the map) p50 %zu/%zu seats = %.2f; seat map p50 %zu/%zu seats = %.2f\n",
		       big->seats, small->seats, big->best_p50 / small->best_p50, big->seats, small->seats,
		       big->map_p50 / small->map_p50);
	}
out:
	booking_close(b.bk);
	booking_options_free(env);
	free(b.t);
	free(b.ft);
	return rc;
}
