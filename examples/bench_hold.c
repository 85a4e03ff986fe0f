/*
 * bench-hold — how many holds per second a store takes.
 *
 *   bench-hold [STORE_URL] [THREADS] [HOLDS_PER_THREAD]
 *
 * Defaults: memory:, 4 threads, 1000 holds per thread. Other settings come
 * from the BOOKING_* environment (BOOKING_LOCK_URL=memory: adds the lock
 * manager). Two variants, each for 1, 2, 4, ... THREADS threads:
 *   distinct   every thread holds pairs of seats on showtimes of its own:
 *              no two threads ever want the same seat (no conflicts);
 *   contended  all threads hold random pairs on one showtime at a time,
 *              racing for the same seats (conflicts are counted);
 *   best       all threads ask for the best 2 seats available
 *              (booking_hold_with() with `best`) on one 200-seat showtime at
 *              a time: the library reads the seat map, chooses, and claims;
 *              a block taken meanwhile is replaced by the next best. Its
 *              holds/s beside distinct's (named seats) is the price of
 *              choosing.
 * Each row prints the latency of one try (one booking_hold call, won or
 * refused), p50 and p99 in microseconds, from every try of every thread
 * (each thread times its own, the run merges and sorts them).
 *
 * On an SQLite file (sqlite:///path.db) the same run prints the raw floor
 * beside the library, on a second file of the same kind (PATH.floor: the
 * library's schema, WAL, the same synchronous setting, foreign keys on),
 * one thread, HOLDS_PER_THREAD transactions each, through sqlite3 itself
 * with prepared statements:
 *   raw-hold   the cheapest transaction that writes the rows of a hold:
 *              BEGIN IMMEDIATE, 2 guarded seat updates (status = 0), the
 *              booking row, its outbox event, COMMIT (the library writes
 *              the labels of its seats in the booking row too; the floor
 *              leaves that column at its default);
 *   one-row    BEGIN IMMEDIATE, one INSERT of one small row, COMMIT;
 * and the ratios of the library's distinct hold at 1 thread to each
 * (issue 16's goals: >= 0.9 of raw-hold, >= 1/3 of one-row).
 * After the table, "scaling:" sets distinct at THREADS threads beside
 * distinct at 1 thread, holds/s with p50/p99, and their ratio (issue 16's
 * goal on an SQLite file, where writers of one process share transactions
 * by group commit: >= 3 x at 8 threads).
 * A benchmark, not a test: it prints figures and always succeeds unless
 * the library fails.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>

#ifdef BENCH_HOLD_SQLITE
#include <sqlite3.h>
#include <unistd.h>
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEATS_PER_HOLD 2
#define DISTINCT_LAYOUT "A-J:20"      /* 200 seats: 100 holds per showtime */
#define DISTINCT_PAIRS 100
#define CONTENDED_LAYOUT "A-T:100"    /* 2000 seats, 1000 pairs */
#define CONTENDED_PAIRS 1000
#define CONTENDED_FILL 500            /* move to the next showtime at half full */

typedef struct bench bench;

typedef struct worker {
	bench *b;
	pthread_t thread;
	size_t index;
	char user[32];
	uint64_t rng;
	size_t holds, conflicts, errors;
	int first_error;
	double *lat; /* seconds, one per try */
	size_t nlat;
} worker;

struct bench {
	booking_handle *bk;
	booking_ctx admin;
	bool contended, best;
	size_t threads, count;
	size_t nshowtimes;
	char (*showtimes)[BOOKING_ID_SIZE];
	booking_seat *seats; /* of the screen in use */
	size_t seat_count;
	atomic_size_t filled; /* contended: successful holds so far */
	pthread_barrier_t start;
	worker *w;
	double distinct1; /* holds/s of distinct at 1 thread, for the floor's ratios */
	/* distinct at 1 thread ([0]) and at THREADS ([1]): holds/s, p50 and p99 in microseconds */
	double scale_rate[2], scale_p50[2], scale_p99[2];
	size_t scale_threads;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The p-th percentile (nearest rank) of n sorted values; 0 when none. */
static double percentile(const double *sorted, size_t n, double p)
{
	if (n == 0)
		return 0.0;
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	return sorted[(rank > n ? n : rank) - 1];
}

static uint64_t next_random(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int fail(const char *what)
{
	const booking_error *e = booking_error_last();
	fprintf(stderr, "bench-hold: %s: %s: %s\n", what, e->name, e->message);
	return 1;
}

/* A theater, a screen with `layout`, a movie and `n` showtimes on it. */
static int make_showtimes(bench *b, const char *layout, size_t n)
{
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_movie *m = NULL;
	int rc = 0;
	booking_free(b->seats);
	b->seats = NULL;
	if (booking_layout_parse(&b->seats, &b->seat_count, layout, sizeof *b->seats) != 0 ||
	    booking_theater_create(&t, b->bk, &b->admin, "Bench", NULL) != 0 ||
	    booking_screen_create(&s, b->bk, &b->admin, t->id, "Bench", b->seats, b->seat_count, sizeof *b->seats) != 0 ||
	    booking_movie_create(&m, b->bk, &b->admin, "Bench", 90) != 0) {
		rc = fail("catalog");
		goto out;
	}
	free(b->showtimes);
	b->showtimes = calloc(n, sizeof *b->showtimes);
	b->nshowtimes = n;
	const booking_price price = {"standard", 1000};
	for (size_t i = 0; b->showtimes && i < n; i++) {
		booking_showtime *st = NULL;
		if (booking_showtime_create(&st, b->bk, &b->admin, m->id, s->id, booking_now(b->bk) + 86400000, "EUR",
		                            &price, 1, sizeof(booking_price)) != 0) {
			rc = fail("showtime");
			goto out;
		}
		memcpy(b->showtimes[i], st->id, BOOKING_ID_SIZE);
		booking_showtime_free(st);
	}
	if (!b->showtimes)
		rc = 1;
out:
	booking_theater_free(t);
	booking_screen_free(s);
	booking_movie_free(m);
	return rc;
}

static void hold_pair(worker *w, const booking_ctx *ctx, const char *showtime, size_t pair)
{
	const char *labels[SEATS_PER_HOLD] = {w->b->seats[2 * pair].label, w->b->seats[2 * pair + 1].label};
	double t0 = now_seconds();
	int rc = booking_hold(NULL, w->b->bk, ctx, showtime, labels, SEATS_PER_HOLD);
	w->lat[w->nlat++] = now_seconds() - t0;
	if (rc == 0) {
		w->holds++;
		atomic_fetch_add(&w->b->filled, 1);
	} else if (rc == BOOKING_ESEAT_ALREADY_BOOKED) {
		w->conflicts++;
	} else {
		w->errors++;
		if (!w->first_error)
			w->first_error = rc;
	}
}

static void hold_best(worker *w, const booking_ctx *ctx, const char *showtime)
{
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = showtime;
	q.best = SEATS_PER_HOLD;
	double t0 = now_seconds();
	int rc = booking_hold_with(NULL, w->b->bk, ctx, &q, sizeof q);
	w->lat[w->nlat++] = now_seconds() - t0;
	if (rc == 0) {
		w->holds++;
		atomic_fetch_add(&w->b->filled, 1);
	} else if (rc == BOOKING_ENOT_ENOUGH_SEATS) {
		w->conflicts++; /* the showtime filled up under this thread: the next one */
	} else {
		w->errors++;
		if (!w->first_error)
			w->first_error = rc;
	}
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	bench *b = w->b;
	booking_ctx ctx;
	booking_ctx_init(&ctx, w->user, BOOKING_ROLE_CUSTOMER);
	size_t per_thread = (b->count + DISTINCT_PAIRS - 1) / DISTINCT_PAIRS;
	pthread_barrier_wait(&b->start);
	for (size_t i = 0; i < b->count; i++) {
		if (b->best) {
			size_t st = atomic_load(&b->filled) / DISTINCT_PAIRS;
			hold_best(w, &ctx, b->showtimes[st < b->nshowtimes ? st : b->nshowtimes - 1]);
		} else if (b->contended) {
			size_t st = atomic_load(&b->filled) / CONTENDED_FILL;
			if (st >= b->nshowtimes)
				st = b->nshowtimes - 1;
			hold_pair(w, &ctx, b->showtimes[st], (size_t)(next_random(&w->rng) % CONTENDED_PAIRS));
		} else {
			const char *st = b->showtimes[w->index * per_thread + i / DISTINCT_PAIRS];
			hold_pair(w, &ctx, st, i % DISTINCT_PAIRS);
		}
	}
	return NULL;
}

/* variant 0 distinct, 1 contended, 2 best */
static int run(bench *b, int variant, size_t threads)
{
	bool contended = variant == 1;
	b->contended = contended;
	b->best = variant == 2;
	b->threads = threads;
	atomic_store(&b->filled, 0);
	size_t n = contended ? (threads * b->count) / CONTENDED_FILL + 2
	           : b->best ? (threads * b->count) / DISTINCT_PAIRS + 2
	                     : threads * ((b->count + DISTINCT_PAIRS - 1) / DISTINCT_PAIRS);
	if (make_showtimes(b, contended ? CONTENDED_LAYOUT : DISTINCT_LAYOUT, n) != 0)
		return 1;
	b->w = calloc(threads, sizeof *b->w);
	double *lat = malloc(threads * b->count * sizeof *lat);
	if (!b->w || !lat) {
		free(b->w);
		free(lat);
		return 1;
	}
	pthread_barrier_init(&b->start, NULL, (unsigned)threads + 1);
	for (size_t i = 0; i < threads; i++) {
		worker *w = &b->w[i];
		w->b = b;
		w->index = i;
		w->lat = lat + i * b->count;
		w->rng = 0x5eed + i;
		snprintf(w->user, sizeof w->user, "bench-%zu", i + 1);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			fprintf(stderr, "bench-hold: cannot start thread %zu\n", i + 1);
			exit(1); /* the others wait at the barrier: nothing to unwind */
		}
	}
	pthread_barrier_wait(&b->start);
	double t0 = now_seconds();
	for (size_t i = 0; i < threads; i++)
		pthread_join(b->w[i].thread, NULL);
	double secs = now_seconds() - t0;
	pthread_barrier_destroy(&b->start);
	size_t holds = 0, conflicts = 0, errors = 0, nlat = 0;
	int first_error = 0;
	for (size_t i = 0; i < threads; i++) { /* the tries' latencies packed to the front, then sorted */
		memmove(lat + nlat, b->w[i].lat, b->w[i].nlat * sizeof *lat);
		nlat += b->w[i].nlat;
		holds += b->w[i].holds;
		conflicts += b->w[i].conflicts;
		errors += b->w[i].errors;
		if (!first_error)
			first_error = b->w[i].first_error;
	}
	qsort(lat, nlat, sizeof *lat, cmp_double);
	if (variant == 0 && threads == 1)
		b->distinct1 = secs > 0 ? (double)holds / secs : 0.0;
	if (variant == 0) { /* the last row of distinct is the most threads */
		int k = threads == 1 ? 0 : 1;
		b->scale_rate[k] = secs > 0 ? (double)holds / secs : 0.0;
		b->scale_p50[k] = percentile(lat, nlat, 50) * 1e6;
		b->scale_p99[k] = percentile(lat, nlat, 99) * 1e6;
		b->scale_threads = threads;
	}
	printf("%-10s %7zu %8zu %9zu %6zu %8.3f %10.0f %10.0f %8.1f %8.1f%s%s\n",
	       b->best ? "best" : contended ? "contended" : "distinct", threads,
	       holds, conflicts, errors, secs, secs > 0 ? (double)(holds + conflicts + errors) / secs : 0.0,
	       secs > 0 ? (double)holds / secs : 0.0, percentile(lat, nlat, 50) * 1e6, percentile(lat, nlat, 99) * 1e6,
	       first_error ? "  " : "", first_error ? booking_error_name(first_error) : "");
	fflush(stdout);
	free(lat);
	free(b->w);
	b->w = NULL;
	return 0;
}

#ifdef BENCH_HOLD_SQLITE
/*
 * The file of an SQLite URL as the store reads it (sqlite:///abs.db → /abs.db,
 * sqlite:///./rel.db → ./rel.db), *query its parameters; NULL for :memory: and file: URIs.
 */
static char *sqlite_path(const char *url, const char **query)
{
	if (strncmp(url, "sqlite://", 9) != 0)
		return NULL;
	const char *p = url + 9;
	if (strncmp(p, "/./", 3) == 0 || strncmp(p, "/../", 4) == 0)
		p++;
	size_t n = strcspn(p, "?");
	*query = p + n;
	char *path = n ? malloc(n + 1) : NULL;
	if (path) {
		memcpy(path, p, n);
		path[n] = '\0';
	}
	return path;
}

static void remove_db(const char *path)
{
	char f[4096];
	unlink(path);
	snprintf(f, sizeof f, "%s-wal", path);
	unlink(f);
	snprintf(f, sizeof f, "%s-shm", path);
	unlink(f);
}

static int sq_fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench-hold: sqlite floor: %s: %s\n", what, sqlite3_errmsg(db));
	return 1;
}

/* One statement stepped to its end and reset; SQLITE_DONE → 0. */
static int sq_step(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc;
}

static void floor_row(const char *name, size_t n, double secs, double *lat)
{
	qsort(lat, n, sizeof *lat, cmp_double);
	printf("%-10s %8zu %8.3f %10.0f %8.1f %8.1f\n", name, n, secs, secs > 0 ? (double)n / secs : 0.0,
	       percentile(lat, n, 50) * 1e6, percentile(lat, n, 99) * 1e6);
}

/*
 * The raw floor on PATH.floor (see the top of this file): the library makes
 * the schema and the showtimes (booking_open, make_showtimes), then closes;
 * sqlite3 alone writes the holds, one thread, and the one-row transactions.
 */
static int sqlite_floor(bench *lib, const booking_options *opts, const char *url)
{
	const char *query = "";
	char *path = sqlite_path(url, &query);
	if (!path)
		return 0;
	size_t n = lib->count;
	char fpath[4096], furl[4200];
	snprintf(fpath, sizeof fpath, "%s.floor", path);
	snprintf(furl, sizeof furl, "sqlite://%s%s", fpath, query);
	free(path);
	remove_db(fpath);

	bench b;
	memset(&b, 0, sizeof b);
	b.count = n;
	b.admin = lib->admin;
	booking_options o = *opts;
	o.store_url = furl;
	o.lock_url = NULL;
	int rc = booking_open(&b.bk, &o) != 0 ? fail("floor open") : make_showtimes(&b, DISTINCT_LAYOUT, (n + DISTINCT_PAIRS - 1) / DISTINCT_PAIRS);
	booking_close(b.bk);
	b.bk = NULL;

	sqlite3 *db = NULL;
	sqlite3_stmt *begin = NULL, *commit = NULL, *rollback = NULL, *claim = NULL, *booking = NULL, *event = NULL,
	             *one = NULL;
	double *lat = malloc(n * sizeof *lat);
	bool full = strstr(query, "synchronous=full") != NULL;
	if (rc == 0 && !lat)
		rc = 1;
	if (rc == 0 && sqlite3_open_v2(fpath, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		rc = sq_fail(db, "open");
	if (rc == 0) {
		sqlite3_busy_timeout(db, 30000);
		if (sqlite3_exec(db, full ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"
		                          : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
		                 NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "CREATE TABLE bench_one_row (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)", NULL, NULL,
		                 NULL) != SQLITE_OK)
			rc = sq_fail(db, "pragmas");
	}
	if (rc == 0 &&
	    (sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "COMMIT", -1, &commit, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "ROLLBACK", -1, &rollback, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "UPDATE showtime_seats SET status = 1, booking_id = ?2, hold_until = ?3,"
	                            " version = version + 1 WHERE showtime_id = ?1 AND label = ?4 AND status = 0",
	                        -1, &claim, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "INSERT INTO bookings (id, user_id, showtime_id, status, saga, seat_count,"
	                            " total_amount, currency, created_at, expires_at, updated_at, version)"
	                            " VALUES (?1, 'bench-1', ?2, 1, 0, 2, 2000, 'EUR', ?3, ?4, ?3, 1)",
	                        -1, &booking, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at,"
	                            " data_json) VALUES (?1, 'reservation.held', 'reservation', ?2, 1, ?3, ?4)",
	                        -1, &event, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "INSERT INTO bench_one_row (v) VALUES (?1)", -1, &one, NULL) != SQLITE_OK))
		rc = sq_fail(db, "prepare");

	double hold_rate = 0, one_rate = 0;
	if (rc == 0) {
		printf("\nsqlite floor: raw sqlite3 on %s (WAL, synchronous=%s, foreign keys on), 1 thread\n", fpath,
		       full ? "FULL" : "NORMAL");
		printf("%-10s %8s %8s %10s %8s %8s\n", "floor", "txns", "seconds", "txns/s", "p50_us", "p99_us");
		int64_t base_ms = (int64_t)(now_seconds() * 1000);
		double t0 = now_seconds();
		for (size_t i = 0; rc == 0 && i < n; i++) {
			const char *st = b.showtimes[i / DISTINCT_PAIRS];
			size_t pair = i % DISTINCT_PAIRS;
			char id[BOOKING_ID_SIZE], ev[BOOKING_ID_SIZE], data[512];
			int64_t now = base_ms + (int64_t)i;
			double t = now_seconds();
			snprintf(id, sizeof id, "%08llx-%04llx-7000-8000-%012llx", (unsigned long long)(now >> 16) & 0xffffffffULL,
			         (unsigned long long)(now & 0xffff), (unsigned long long)i & 0xffffffffffffULL);
			snprintf(ev, sizeof ev, "%08llx-%04llx-7000-9000-%012llx", (unsigned long long)(now >> 16) & 0xffffffffULL,
			         (unsigned long long)(now & 0xffff), (unsigned long long)i & 0xffffffffffffULL);
			snprintf(data, sizeof data,
			         "{\"reservation_id\":\"%s\",\"showtime_id\":\"%s\",\"user_id\":\"bench-1\",\"seats\":[\"%s\",\"%s\"],"
			         "\"total_amount\":2000,\"currency\":\"EUR\",\"expires_at\":%lld}",
			         id, st, b.seats[2 * pair].label, b.seats[2 * pair + 1].label, (long long)now + 600000LL);
			rc = sq_step(begin);
			for (int k = 0; rc == 0 && k < SEATS_PER_HOLD; k++) {
				sqlite3_bind_text(claim, 1, st, -1, SQLITE_STATIC);
				sqlite3_bind_text(claim, 2, id, -1, SQLITE_STATIC);
				sqlite3_bind_int64(claim, 3, now + 600000);
				sqlite3_bind_text(claim, 4, b.seats[2 * pair + (size_t)k].label, -1, SQLITE_STATIC);
				rc = sq_step(claim);
				if (rc == 0 && sqlite3_changes(db) != 1)
					rc = -1; /* a seat not free: cannot happen on a fresh file */
			}
			if (rc == 0) {
				sqlite3_bind_text(booking, 1, id, -1, SQLITE_STATIC);
				sqlite3_bind_text(booking, 2, st, -1, SQLITE_STATIC);
				sqlite3_bind_int64(booking, 3, now);
				sqlite3_bind_int64(booking, 4, now + 600000);
				rc = sq_step(booking);
			}
			if (rc == 0) {
				sqlite3_bind_text(event, 1, ev, -1, SQLITE_STATIC);
				sqlite3_bind_text(event, 2, id, -1, SQLITE_STATIC);
				sqlite3_bind_int64(event, 3, now);
				sqlite3_bind_text(event, 4, data, -1, SQLITE_STATIC);
				rc = sq_step(event);
			}
			rc = rc == 0 ? sq_step(commit) : (sq_step(rollback), rc);
			lat[i] = now_seconds() - t;
		}
		double secs = now_seconds() - t0;
		if (rc != 0)
			rc = sq_fail(db, "raw hold");
		else {
			hold_rate = secs > 0 ? (double)n / secs : 0.0;
			floor_row("raw-hold", n, secs, lat);
		}
		t0 = now_seconds();
		for (size_t i = 0; rc == 0 && i < n; i++) {
			double t = now_seconds();
			rc = sq_step(begin);
			sqlite3_bind_int64(one, 1, (sqlite3_int64)i);
			if (rc == 0)
				rc = sq_step(one);
			rc = rc == 0 ? sq_step(commit) : (sq_step(rollback), rc);
			lat[i] = now_seconds() - t;
		}
		secs = now_seconds() - t0;
		if (rc != 0)
			rc = sq_fail(db, "one-row transaction");
		else {
			one_rate = secs > 0 ? (double)n / secs : 0.0;
			floor_row("one-row", n, secs, lat);
		}
	}
	if (rc == 0 && hold_rate > 0 && one_rate > 0)
		printf("ratio: library distinct hold at 1 thread %.0f/s = %.2f x raw-hold (goal >= 0.9), %.2f x one-row "
		       "(goal >= 0.33); raw-hold = %.2f x one-row\n",
		       lib->distinct1, lib->distinct1 / hold_rate, lib->distinct1 / one_rate, hold_rate / one_rate);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	sqlite3_finalize(rollback);
	sqlite3_finalize(claim);
	sqlite3_finalize(booking);
	sqlite3_finalize(event);
	sqlite3_finalize(one);
	sqlite3_close(db);
	remove_db(fpath);
	free(lat);
	booking_free(b.seats);
	free(b.showtimes);
	return rc;
}
#endif

int main(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		printf("usage: bench-hold [STORE_URL] [THREADS] [HOLDS_PER_THREAD]\n"
		       "defaults: memory: 4 1000; BOOKING_* variables apply (e.g. BOOKING_LOCK_URL=memory:)\n");
		return 0;
	}
	const char *url = argc > 1 ? argv[1] : "memory:";
	long threads = argc > 2 ? strtol(argv[2], NULL, 10) : 4;
	long count = argc > 3 ? strtol(argv[3], NULL, 10) : 1000;
	if (threads < 1 || threads > 512 || count < 1 || count > 1000000) {
		fprintf(stderr, "bench-hold: THREADS 1..512, HOLDS_PER_THREAD 1..1000000\n");
		return 2;
	}
	booking_options *env = NULL;
	if (booking_options_from_env(&env) != 0)
		return fail("environment");
	booking_options opts = *env;
	opts.store_url = url;
	if (opts.log_level == 0) /* BOOKING_LOG_LEVEL unset: keep the table clean */
		opts.log_level = BOOKING_LOG_WARNING;
	if (opts.max_seats_per_user_showtime == 0) /* each thread is one buyer holding a whole showtime: no per-buyer limit */
		opts.max_seats_per_user_showtime = -1;
	bench b;
	memset(&b, 0, sizeof b);
	b.count = (size_t)count;
	booking_ctx_init(&b.admin, "bench-admin", BOOKING_ROLE_ADMIN);
	int rc = 0;
	if (booking_open(&b.bk, &opts) != 0) {
		rc = fail("open");
		goto out;
	}
	printf("bench-hold: store %s, locks %s, %ld holds of %d seats per thread\n\n", url,
	       opts.lock_url && opts.lock_url[0] ? opts.lock_url : "none", count, SEATS_PER_HOLD);
	printf("%-10s %7s %8s %9s %6s %8s %10s %10s %8s %8s\n", "variant", "threads", "holds", "conflicts", "errors",
	       "seconds", "tries/s", "holds/s", "p50_us", "p99_us");
	for (int variant = 0; variant <= 2 && rc == 0; variant++)
		for (size_t t = 1; rc == 0; t *= 2) {
			size_t n = t < (size_t)threads ? t : (size_t)threads;
			rc = run(&b, variant, n);
			if (n == (size_t)threads)
				break;
		}
	if (rc == 0 && b.scale_threads > 1 && b.scale_rate[0] > 0)
		printf("\nscaling: distinct hold at %zu threads %.0f/s (p50 %.1f us, p99 %.1f us) = %.2f x 1 thread "
		       "%.0f/s (p50 %.1f us, p99 %.1f us) (goal on an SQLite file: >= 3 x at 8 threads)\n",
		       b.scale_threads, b.scale_rate[1], b.scale_p50[1], b.scale_p99[1], b.scale_rate[1] / b.scale_rate[0],
		       b.scale_rate[0], b.scale_p50[0], b.scale_p99[0]);
#ifdef BENCH_HOLD_SQLITE
	if (rc == 0)
		rc = sqlite_floor(&b, &opts, url);
#endif
out:
	booking_close(b.bk);
	booking_options_free(env);
	booking_free(b.seats);
	free(b.showtimes);
	return rc;
}
