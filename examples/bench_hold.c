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
 * A benchmark, not a test: it prints figures and always succeeds unless
 * the library fails.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>

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
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
	int rc = booking_hold(NULL, w->b->bk, ctx, showtime, labels, SEATS_PER_HOLD);
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
	int rc = booking_hold_with(NULL, w->b->bk, ctx, &q, sizeof q);
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
	if (!b->w)
		return 1;
	pthread_barrier_init(&b->start, NULL, (unsigned)threads + 1);
	for (size_t i = 0; i < threads; i++) {
		worker *w = &b->w[i];
		w->b = b;
		w->index = i;
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
	size_t holds = 0, conflicts = 0, errors = 0;
	int first_error = 0;
	for (size_t i = 0; i < threads; i++) {
		holds += b->w[i].holds;
		conflicts += b->w[i].conflicts;
		errors += b->w[i].errors;
		if (!first_error)
			first_error = b->w[i].first_error;
	}
	printf("%-10s %7zu %8zu %9zu %6zu %8.3f %10.0f %10.0f%s%s\n",
	       b->best ? "best" : contended ? "contended" : "distinct", threads,
	       holds, conflicts, errors, secs, secs > 0 ? (double)(holds + conflicts + errors) / secs : 0.0,
	       secs > 0 ? (double)holds / secs : 0.0, first_error ? "  " : "",
	       first_error ? booking_error_name(first_error) : "");
	fflush(stdout);
	free(b->w);
	b->w = NULL;
	return 0;
}

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
	printf("%-10s %7s %8s %9s %6s %8s %10s %10s\n", "variant", "threads", "holds", "conflicts", "errors", "seconds",
	       "tries/s", "holds/s");
	for (int variant = 0; variant <= 2 && rc == 0; variant++)
		for (size_t t = 1; rc == 0; t *= 2) {
			size_t n = t < (size_t)threads ? t : (size_t)threads;
			rc = run(&b, variant, n);
			if (n == (size_t)threads)
				break;
		}
out:
	booking_close(b.bk);
	booking_options_free(env);
	booking_free(b.seats);
	free(b.showtimes);
	return rc;
}
