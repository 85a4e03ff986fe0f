/*
 * bench-flash — a flash sale: many buyers, several processes, one showtime.
 *
 *   bench-flash [-s SEATS] [-b BUYERS] [-p PROCS] [-t THREADS] [-l LOCK_URL]
 *               [-r PAY_PERCENT] [-n] [-a] [STORE_URL]
 *
 * Defaults: 2 000 seats, 4 000 buyers, 4 processes of 8 threads (a run
 * of seconds on a 2-core machine; the full size of issue 16 is -s 50000
 * -b 100000), the store and lock manager of BOOKING_STORE_URL /
 * BOOKING_LOCK_URL (STORE_URL and -l win; -l "" for no contention guard),
 * 80 % of holds paid. A postgresql:// URL without a pool gets pool=THREADS.
 *
 * The parent creates one showtime of SEATS seats (rows of 500: "A-CV:500"
 * for 50 000) and a small one for the warm-up, closes its handle and forks
 * PROCS children. Each opens its own handle and warms it up as a server is
 * warm when a sale opens (each thread holds and cancels a seat of the small
 * showtime and reads the sale's seat map: the pool's connections are open,
 * the lock manager's scripts loaded, the showtime cached; those calls are
 * not counted), then all start together: THREADS threads each serve their
 * share of the buyers, one after another, each a distinct user
 * ("flash-<proc>-<thread>-<n>") asking once for the best 1..4 seats
 * (booking_hold_with(), `best`; fewer when fewer are left, again when beaten
 * to them, up to 8 tries) or, with -n, for a random named pair (up to 8
 * random pairs), then paying for PAY_PERCENT % of its holds (the simulated
 * gateway's approving test card) and walking away from the rest (their
 * seats stay held until the hold expires). A buyer who arrives after the
 * sale is sold out is turned away without asking (a sale page saying "sold
 * out"); with -a every buyer asks anyway (the refusals are measured too).
 *
 * Sold out: the first NOT_ENOUGH_SEATS with 0 seats available seen by any
 * process, or the moment holds have taken every seat, whichever comes
 * first (shared memory between the processes, CLOCK_MONOTONIC). Each child
 * sends its counters and latency histograms (log-linear, 1/64 resolution)
 * to the parent through a pipe; the parent merges them and prints buyers,
 * holds made, seats sold, holds/s, p50/p99 of holds, refusals and payments,
 * the time until sold out, the seat map the store ends with, and
 * booking_check()'s violations. Exit status 1 when booking_check() finds a
 * violation or a process fails, 2 on a bad argument.
 * A benchmark, not a test. SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>

#include "bench_layout.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROCS 64
#define MAX_THREADS 64
#define MAX_TRIES 8
#define MAX_PARTY 4
#define HIST 2304 /* log-linear microsecond buckets: 1/64 resolution up to 2^40 us */
#define CARD_OK "4242424242424242"

enum { H_HOLD, H_REFUSED, H_PAY, H_COUNT };

/* What one process sends its parent. */
typedef struct result {
	uint64_t buyers, turned_away, holds, seats_held, refused, conflicts, errors, paid, seats_sold, walked,
	    pay_errors;
	uint64_t store_calls, lock_calls; /* calls to each dependency (booking_metrics(): one attempt, one call) */
	int first_error;
	uint64_t hist[H_COUNT][HIST];
} result;

/* Shared by every process (MAP_SHARED), lock-free. */
typedef struct shared {
	_Atomic int64_t sold_out_ns; /* 0 until sold out */
	_Atomic int64_t seats_taken;
} shared;

typedef struct config {
	size_t seats, buyers, procs, threads;
	int pay_percent;
	bool named, all_ask;
	booking_options opts;
	char store_url[2048];
	char showtime_id[BOOKING_ID_SIZE];
	char warm_id[BOOKING_ID_SIZE]; /* a showtime of PROCS x THREADS seats for the warm-up */
	booking_seat *layout; /* the venue's seats, for named pairs */
	size_t layout_count;
	shared *sh;
	int64_t seats_total;
} config;

typedef struct worker {
	const config *cfg;
	booking_handle *bk;
	size_t proc, thread, first, count;
	uint64_t rng;
	result r; /* this thread's share */
} worker;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t hist_index(uint64_t us)
{
	if (us < 128)
		return (size_t)us;
	int msb = 63 - __builtin_clzll(us);
	int shift = msb - 6;
	size_t i = 128 + (size_t)(shift - 1) * 64 + (size_t)((us >> shift) - 64);
	return i < HIST ? i : HIST - 1;
}

/* The middle of bucket i, in microseconds. */
static double hist_value(size_t i)
{
	if (i < 128)
		return (double)i + 0.5;
	size_t shift = (i - 128) / 64 + 1, top = (i - 128) % 64 + 64;
	return (double)(top << shift) + (double)((uint64_t)1 << shift) / 2.0;
}

static void hist_add(uint64_t *h, int64_t ns)
{
	h[hist_index(ns > 0 ? (uint64_t)ns / 1000 : 0)]++;
}

/* The q-quantile (0..1) of a histogram, in milliseconds; -1 when empty. */
static double hist_quantile(const uint64_t *h, double q)
{
	uint64_t n = 0;
	for (size_t i = 0; i < HIST; i++)
		n += h[i];
	if (n == 0)
		return -1.0;
	uint64_t rank = (uint64_t)(q * (double)n + 0.999999), seen = 0;
	if (rank < 1)
		rank = 1;
	for (size_t i = 0; i < HIST; i++) {
		seen += h[i];
		if (seen >= rank)
			return hist_value(i) / 1000.0;
	}
	return hist_value(HIST - 1) / 1000.0;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void mark_sold_out(shared *sh)
{
	int64_t zero = 0;
	atomic_compare_exchange_strong(&sh->sold_out_ns, &zero, now_ns());
}

static void note_error(result *r, int code)
{
	r->errors++;
	if (!r->first_error)
		r->first_error = code;
}

static void took(worker *w, const booking_reservation *res)
{
	w->r.holds++;
	w->r.seats_held += res->seat_count;
	if (atomic_fetch_add(&w->cfg->sh->seats_taken, (int64_t)res->seat_count) + (int64_t)res->seat_count >=
	    w->cfg->seats_total)
		mark_sold_out(w->cfg->sh);
}

/* One hold call, timed into the hold or refusal histogram. */
static int timed_hold(worker *w, booking_reservation **res, const booking_ctx *ctx, const booking_hold_request *q)
{
	int64_t t0 = now_ns();
	int rc = booking_hold_with(res, w->bk, ctx, q, sizeof *q);
	hist_add(w->r.hist[rc == 0 ? H_HOLD : H_REFUSED], now_ns() - t0);
	return rc;
}

/* Best available: fewer when fewer are left, again when beaten to them. */
static booking_reservation *hold_best(worker *w, const booking_ctx *ctx)
{
	size_t want = 1 + (size_t)(rnd(&w->rng) % MAX_PARTY);
	for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
		booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
		q.showtime_id = w->cfg->showtime_id;
		q.best = want;
		booking_reservation *res = NULL;
		int rc = timed_hold(w, &res, ctx, &q);
		if (rc == 0)
			return res;
		if (rc == BOOKING_ENOT_ENOUGH_SEATS) {
			const char *avail = booking_error_detail(NULL, "available");
			long left = avail ? strtol(avail, NULL, 10) : 0;
			w->r.refused++;
			if (left <= 0) {
				mark_sold_out(w->cfg->sh);
				return NULL;
			}
			if ((size_t)left >= want) /* no fit: give up */
				return NULL;
			want = (size_t)left;
		} else if (rc == BOOKING_ESEAT_ALREADY_BOOKED || rc == BOOKING_ELOCK_FAILED || rc == BOOKING_EORPHAN_SEAT) {
			w->r.conflicts++;
		} else {
			note_error(&w->r, rc);
			return NULL;
		}
	}
	return NULL;
}

/* A random named pair (seats 2k and 2k+1 of the layout), another when taken. */
static booking_reservation *hold_pair(worker *w, const booking_ctx *ctx)
{
	size_t pairs = w->cfg->layout_count / 2;
	for (int attempt = 0; attempt < MAX_TRIES; attempt++) {
		size_t k = (size_t)(rnd(&w->rng) % pairs);
		const char *labels[2] = {w->cfg->layout[2 * k].label, w->cfg->layout[2 * k + 1].label};
		booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
		q.showtime_id = w->cfg->showtime_id;
		q.seats = labels;
		q.seat_count = 2;
		booking_reservation *res = NULL;
		int rc = timed_hold(w, &res, ctx, &q);
		if (rc == 0)
			return res;
		if (rc == BOOKING_ESEAT_ALREADY_BOOKED || rc == BOOKING_ELOCK_FAILED || rc == BOOKING_EORPHAN_SEAT) {
			w->r.conflicts++;
			if (atomic_load(&w->cfg->sh->sold_out_ns) != 0)
				return NULL;
		} else {
			note_error(&w->r, rc);
			return NULL;
		}
	}
	return NULL;
}

static void pay(worker *w, const booking_ctx *ctx, const booking_reservation *res)
{
	if ((int)(rnd(&w->rng) % 100) >= w->cfg->pay_percent) {
		w->r.walked++;
		return;
	}
	char key[80];
	snprintf(key, sizeof key, "flash-pay-%s", res->id);
	int64_t t0 = now_ns();
	int rc = booking_pay(NULL, w->bk, ctx, res->id, key, CARD_OK);
	hist_add(w->r.hist[H_PAY], now_ns() - t0);
	if (rc == 0) {
		w->r.paid++;
		w->r.seats_sold += res->seat_count;
	} else {
		w->r.pay_errors++;
		if (!w->r.first_error)
			w->r.first_error = rc;
	}
}

static void *buyer_thread(void *arg)
{
	worker *w = arg;
	for (size_t n = 0; n < w->count; n++) {
		if (!w->cfg->all_ask && atomic_load(&w->cfg->sh->sold_out_ns) != 0) {
			w->r.turned_away += w->count - n;
			break;
		}
		char user[64];
		snprintf(user, sizeof user, "flash-%zu-%zu-%zu", w->proc, w->thread, n);
		booking_ctx ctx;
		booking_ctx_init(&ctx, user, BOOKING_ROLE_CUSTOMER);
		w->r.buyers++;
		booking_reservation *res = w->cfg->named ? hold_pair(w, &ctx) : hold_best(w, &ctx);
		if (res) {
			took(w, res);
			pay(w, &ctx, res);
			booking_reservation_free(res);
		}
	}
	return NULL;
}

static void merge(result *into, const result *r)
{
	into->buyers += r->buyers;
	into->turned_away += r->turned_away;
	into->holds += r->holds;
	into->seats_held += r->seats_held;
	into->refused += r->refused;
	into->conflicts += r->conflicts;
	into->errors += r->errors;
	into->paid += r->paid;
	into->store_calls += r->store_calls;
	into->lock_calls += r->lock_calls;
	into->seats_sold += r->seats_sold;
	into->walked += r->walked;
	into->pay_errors += r->pay_errors;
	if (!into->first_error)
		into->first_error = r->first_error;
	for (int h = 0; h < H_COUNT; h++)
		for (size_t i = 0; i < HIST; i++)
			into->hist[h][i] += r->hist[h][i];
}

/* All `len` bytes through the pipe: written (`out`) or read, across short transfers and EINTR; -1 on EOF or error. */
static int move_all(int fd, void *buf, size_t len, bool out)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	return move_all(fd, (void *)(uintptr_t)buf, len, true);
}

static int read_all(int fd, void *buf, size_t len)
{
	return move_all(fd, buf, len, false);
}

/* A share of `total` for part `i` of `parts`: the first `total % parts` take one more. */
static void share_of(size_t total, size_t parts, size_t i, size_t *first, size_t *count)
{
	size_t base = total / parts, extra = total % parts;
	*count = base + (i < extra);
	*first = i * base + (i < extra ? i : extra);
}

/*
 * The handle's calls to the store and to the lock manager: the sums of
 * booking_backend_calls_total{dependency="store"|"locks",...} in
 * booking_metrics() (one line a dependency, operation and result).
 */
static void dependency_calls(booking_handle *bk, result *r)
{
	static const char family[] = "booking_backend_calls_total{dependency=\"";
	char *text = NULL;
	if (booking_metrics(&text, bk) != 0)
		return;
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, family, sizeof family - 1) != 0)
			continue;
		const char *dep = line + sizeof family - 1, *end = strchr(line, '}');
		unsigned long long v = end ? strtoull(end + 1, NULL, 10) : 0;
		if (strncmp(dep, "store\"", 6) == 0)
			r->store_calls += v;
		else if (strncmp(dep, "locks\"", 6) == 0)
			r->lock_calls += v;
	}
	booking_free(text);
}

/*
 * Before the start, each thread of a child holds its own seat of the warm-up showtime and cancels it, at once:
 * the pool's connections are opened, the lock manager's scripts loaded and the sale's showtime read into the
 * handle's cache (its seat map), as they are in a server that was up before the sale opened. Its calls are
 * not counted in the sale's.
 */
typedef struct warmer {
	const config *cfg;
	booking_handle *bk;
	size_t index; /* the seat: proc * THREADS + thread */
	int rc;
} warmer;

static void *warm_thread(void *arg)
{
	warmer *wm = arg;
	booking_seat_map *m = NULL;
	booking_reservation *r = NULL;
	char user[64];
	snprintf(user, sizeof user, "warm-%zu", wm->index);
	booking_ctx ctx;
	booking_ctx_init(&ctx, user, BOOKING_ROLE_CUSTOMER);
	char row[3], label[16];
	bench_row_name(wm->index / BENCH_ROW_SEATS, row); /* the layout of bench_layout_of() */
	snprintf(label, sizeof label, "%s%zu", row, wm->index % BENCH_ROW_SEATS + 1);
	const char *seat = label;
	wm->rc = booking_hold(&r, wm->bk, &ctx, wm->cfg->warm_id, &seat, 1);
	if (wm->rc == 0)
		wm->rc = booking_reservation_cancel(NULL, wm->bk, &ctx, r->id);
	if (wm->rc == 0)
		wm->rc = booking_seat_map_get(&m, wm->bk, &ctx, wm->cfg->showtime_id);
	booking_reservation_free(r);
	booking_seat_map_free(m);
	return NULL;
}

/* One child: open a handle, say ready, wait for the start, run the threads, send the result. */
static int child(const config *cfg, size_t proc, int out_fd, int go_fd)
{
	booking_options opts = cfg->opts;
	opts.store_url = cfg->store_url;
	booking_handle *bk = NULL;
	if (booking_open(&bk, &opts) != 0) {
		const booking_error *e = booking_error_last();
		fprintf(stderr, "bench-flash[%zu]: open: %s: %s\n", proc, e->name, e->message);
		return 1;
	}
	worker *w = calloc(cfg->threads, sizeof *w);
	pthread_t *tid = calloc(cfg->threads, sizeof *tid);
	result *r = calloc(1, sizeof *r);
	warmer *wm = calloc(cfg->threads, sizeof *wm);
	result warm = {0};
	char ready = 'R', go;
	int rc = 1;
	if (!w || !tid || !r || !wm)
		goto out;
	for (size_t t = 0; t < cfg->threads; t++) {
		wm[t] = (warmer){cfg, bk, proc * cfg->threads + t, -1};
		if (pthread_create(&tid[t], NULL, warm_thread, &wm[t]) != 0)
			goto out; /* the others finish on their own: the process exits */
	}
	for (size_t t = 0; t < cfg->threads; t++)
		pthread_join(tid[t], NULL);
	for (size_t t = 0; t < cfg->threads; t++)
		if (wm[t].rc != 0) {
			fprintf(stderr, "bench-flash[%zu]: warm-up: %s: %s\n", proc, booking_error_name(wm[t].rc),
			        booking_error_last()->message);
			goto out;
		}
	dependency_calls(bk, &warm); /* taken off the sale's counts */
	if (write_all(out_fd, &ready, 1) != 0)
		goto out;
	while (read(go_fd, &go, 1) < 0 && errno == EINTR) /* EOF: go */
		;
	size_t pfirst, pcount, started = 0;
	share_of(cfg->buyers, cfg->procs, proc, &pfirst, &pcount);
	for (size_t t = 0; t < cfg->threads; t++) {
		w[t].cfg = cfg;
		w[t].bk = bk;
		w[t].proc = proc;
		w[t].thread = t;
		share_of(pcount, cfg->threads, t, &w[t].first, &w[t].count);
		w[t].rng = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)proc << 32) ^ ((uint64_t)t + 1) * 0xBF58476D1CE4E5B9ULL;
		if (pthread_create(&tid[t], NULL, buyer_thread, &w[t]) != 0)
			break;
		started++;
	}
	for (size_t t = 0; t < started; t++) {
		pthread_join(tid[t], NULL);
		merge(r, &w[t].r);
	}
	dependency_calls(bk, r);
	r->store_calls -= warm.store_calls;
	r->lock_calls -= warm.lock_calls;
	if (started == cfg->threads && write_all(out_fd, r, sizeof *r) == 0)
		rc = 0;
out:
	booking_close(bk);
	free(w);
	free(tid);
	free(r);
	free(wm);
	return rc;
}

static int fail(const char *what)
{
	const booking_error *e = booking_error_last();
	fprintf(stderr, "bench-flash: %s: %s: %s\n", what, e->name, e->message);
	return 1;
}


/* The warm-up's showtime: one seat for each thread of every process, on a screen of its own. */
static int create_warm_showtime(config *cfg, booking_handle *bk, const booking_ctx *admin, const char *theater_id,
                                const char *movie_id, const booking_price *price)
{
	char spec[64];
	booking_seat *seats = NULL;
	size_t n = 0;
	booking_screen *sc = NULL;
	booking_showtime *st = NULL;
	int rc = 0;
	bench_layout_of(cfg->procs * cfg->threads, spec, sizeof spec);
	if (booking_layout_parse(&seats, &n, spec, sizeof *seats) != 0 ||
	    booking_screen_create(&sc, bk, admin, theater_id, "Warm-up room", seats, n, sizeof *seats) != 0 ||
	    booking_showtime_create(&st, bk, admin, movie_id, sc->id, booking_now(bk) + 86400000, "EUR", price, 1,
	                            sizeof *price) != 0)
		rc = fail("warm-up showtime");
	else
		memcpy(cfg->warm_id, st->id, sizeof cfg->warm_id);
	booking_free(seats);
	booking_screen_free(sc);
	booking_showtime_free(st);
	return rc;
}

/* The showtime of the sale, made by an admin on a handle closed before the fork. */
static int create_showtime(config *cfg)
{
	char spec[64];
	bench_layout_of(cfg->seats, spec, sizeof spec);
	if (booking_layout_parse(&cfg->layout, &cfg->layout_count, spec, sizeof *cfg->layout) != 0)
		return fail("layout");
	booking_options opts = cfg->opts;
	opts.store_url = cfg->store_url;
	booking_handle *bk = NULL;
	booking_theater *th = NULL;
	booking_screen *sc = NULL;
	booking_movie *mv = NULL;
	booking_showtime *st = NULL;
	booking_ctx admin;
	booking_ctx_init(&admin, "flash-admin", BOOKING_ROLE_ADMIN);
	const booking_price price = {"standard", 5000};
	int rc = 0;
	int64_t t0 = now_ns();
	if (booking_open(&bk, &opts) != 0)
		rc = fail("open");
	else if (booking_theater_create(&th, bk, &admin, "Flash arena", NULL) != 0 ||
	         booking_movie_create(&mv, bk, &admin, "Flash sale", 120) != 0)
		rc = fail("catalog");
	else if (booking_screen_create(&sc, bk, &admin, th->id, "Flash hall", cfg->layout, cfg->layout_count,
	                               sizeof *cfg->layout) != 0)
		rc = fail("screen");
	else if (booking_showtime_create(&st, bk, &admin, mv->id, sc->id, booking_now(bk) + 86400000, "EUR", &price, 1,
	                                 sizeof price) != 0)
		rc = fail("showtime");
	else {
		memcpy(cfg->showtime_id, st->id, sizeof cfg->showtime_id);
		printf("showtime    %s: %zu seats (layout \"%s\"), created in %.0f ms\n", st->id, cfg->layout_count, spec,
		       (double)(now_ns() - t0) / 1e6);
		rc = create_warm_showtime(cfg, bk, &admin, th->id, mv->id, &price);
	}
	booking_theater_free(th);
	booking_screen_free(sc);
	booking_movie_free(mv);
	booking_showtime_free(st);
	booking_close(bk);
	return rc;
}

/* After the sale: the store's seat map and booking_check(). Returns the violations, or -1. */
static long audit(const config *cfg)
{
	booking_options opts = cfg->opts;
	opts.store_url = cfg->store_url;
	booking_handle *bk = NULL;
	booking_seat_map *m = NULL;
	booking_check_report *rep = NULL;
	long violations = -1;
	if (booking_open(&bk, &opts) != 0) {
		fail("open");
		return -1;
	}
	if (booking_seat_map_get(&m, bk, booking_ctx_system(), cfg->showtime_id) == 0) {
		printf("store       %zu seats: %zu sold, %zu held, %zu free\n", m->count, m->sold_count, m->held_count,
		       m->free_count);
		booking_seat_map_free(m);
	} else {
		fail("seat map");
	}
	int64_t t0 = now_ns();
	if (booking_check(&rep, bk) != 0) {
		fail("booking_check");
	} else {
		violations = (long)rep->count;
		printf("check       booking_check(): %zu violations (%zu reservations, %zu seats, %zu payments, %zu events"
		       " examined in %.1f s)\n",
		       rep->count, rep->reservations, rep->seats, rep->payments, rep->events,
		       (double)(now_ns() - t0) / 1e9);
		for (size_t i = 0; i < rep->count && i < 10; i++)
			printf("  %s %s: %s\n", booking_invariant_name(rep->items[i]->invariant), rep->items[i]->entity_id,
			       rep->items[i]->message);
		booking_check_report_free(rep);
	}
	booking_close(bk);
	return violations;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench-flash [-s SEATS] [-b BUYERS] [-p PROCS] [-t THREADS] [-l LOCK_URL]\n"
	           "                   [-r PAY_PERCENT] [-n] [-a] [STORE_URL]\n"
	           "defaults: 2000 seats, 4000 buyers, 4 processes x 8 threads, 80 %% paid (full size: -s 50000 -b 100000),\n"
	           "the BOOKING_STORE_URL and BOOKING_LOCK_URL of the environment (-l \"\": no guard);\n"
	           "-n: named random pairs instead of the best 1..4; -a: buyers ask after sold out too\n");
}

static bool parse_size(const char *s, size_t lo, size_t hi, size_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < (long long)lo || v > (long long)hi)
		return false;
	*out = (size_t)v;
	return true;
}

int main(int argc, char **argv)
{
	static config cfg; /* large; shared read-only with the children */
	cfg.seats = 2000;
	cfg.buyers = 4000;
	cfg.procs = 4;
	cfg.threads = 8;
	cfg.pay_percent = 80;
	const char *lock_url = NULL, *store_url = NULL;
	bool lock_set = false;
	int opt;
	size_t pct = 80;
	while ((opt = getopt(argc, argv, "s:b:p:t:l:r:nah")) != -1) {
		bool ok = true;
		switch (opt) {
		case 's': ok = parse_size(optarg, 2, 100000, &cfg.seats); break;
		case 'b': ok = parse_size(optarg, 1, 10000000, &cfg.buyers); break;
		case 'p': ok = parse_size(optarg, 1, MAX_PROCS, &cfg.procs); break;
		case 't': ok = parse_size(optarg, 1, MAX_THREADS, &cfg.threads); break;
		case 'l': lock_url = optarg; lock_set = true; break;
		case 'r': ok = parse_size(optarg, 0, 100, &pct); break;
		case 'n': cfg.named = true; break;
		case 'a': cfg.all_ask = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (!ok) {
			usage(stderr);
			return 2;
		}
	}
	cfg.pay_percent = (int)pct;
	if (optind < argc)
		store_url = argv[optind++];
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	booking_options *env = NULL;
	if (booking_options_from_env(&env) != 0)
		return fail("environment");
	cfg.opts = *env;
	if (!store_url)
		store_url = env->store_url ? env->store_url : "memory:";
	if (lock_set)
		cfg.opts.lock_url = lock_url;
	if (cfg.opts.log_level == 0)
		cfg.opts.log_level = BOOKING_LOG_WARNING;
	if (strncmp(store_url, "postgresql://", 13) == 0 && !strstr(store_url, "pool="))
		snprintf(cfg.store_url, sizeof cfg.store_url, "%s%cpool=%zu", store_url, strchr(store_url, '?') ? '&' : '?',
		         cfg.threads);
	else
		snprintf(cfg.store_url, sizeof cfg.store_url, "%s", store_url);
	if (strncmp(cfg.store_url, "memory:", 7) == 0 || strstr(cfg.store_url, ":memory:")) {
		fprintf(stderr, "bench-flash: the processes need a shared store (postgresql:// or sqlite:///file)\n");
		booking_options_free(env);
		return 2;
	}

	/* The payment key every process pays with, in a private directory. */
	char keydir[] = "/tmp/bench-flash.XXXXXX", keyfile[64];
	if (!mkdtemp(keydir)) {
		perror("bench-flash: mkdtemp");
		booking_options_free(env);
		return 1;
	}
	snprintf(keyfile, sizeof keyfile, "%s/payment.key", keydir);
	int rc = 1;
	if (booking_payment_key_generate_file(keyfile) != 0) {
		fail("payment key");
		goto out_key;
	}
	cfg.opts.payment_key_file = keyfile;

	const char *guard = cfg.opts.lock_url && cfg.opts.lock_url[0] ? cfg.opts.lock_url : "none";
	printf("bench-flash: store %s, lock %s\n", cfg.store_url, guard);
	printf("sale        %zu buyers, %zu processes x %zu threads, %s, %d %% of holds paid%s\n", cfg.buyers, cfg.procs,
	       cfg.threads, cfg.named ? "a random named pair each" : "the best 1-4 seats each", cfg.pay_percent,
	       cfg.all_ask ? ", every buyer asks" : "");
	fflush(stdout);
	if (create_showtime(&cfg) != 0)
		goto out_key;
	cfg.seats_total = (int64_t)cfg.layout_count;
	cfg.sh = mmap(NULL, sizeof *cfg.sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cfg.sh == MAP_FAILED) {
		perror("bench-flash: mmap");
		goto out_key;
	}
	atomic_init(&cfg.sh->sold_out_ns, 0);
	atomic_init(&cfg.sh->seats_taken, 0);

	int go[2], out[MAX_PROCS];
	pid_t pid[MAX_PROCS];
	size_t forked = 0;
	if (pipe(go) != 0) {
		perror("bench-flash: pipe");
		goto out_map;
	}
	for (size_t p = 0; p < cfg.procs; p++) {
		int fds[2];
		if (pipe(fds) != 0) {
			perror("bench-flash: pipe");
			break;
		}
		pid[p] = fork();
		if (pid[p] < 0) {
			perror("bench-flash: fork");
			close(fds[0]);
			close(fds[1]);
			break;
		}
		if (pid[p] == 0) {
			close(fds[0]);
			close(go[1]);
			for (size_t q = 0; q < p; q++)
				close(out[q]);
			_exit(child(&cfg, p, fds[1], go[0]));
		}
		close(fds[1]);
		out[p] = fds[0];
		forked++;
	}
	close(go[0]);
	bool ok = forked == cfg.procs;
	for (size_t p = 0; p < forked && ok; p++) { /* every handle open */
		char ready;
		ok = read_all(out[p], &ready, 1) == 0;
	}
	int64_t start = now_ns();
	close(go[1]); /* go */
	static result total, one;
	for (size_t p = 0; p < forked; p++) {
		if (ok && read_all(out[p], &one, sizeof one) == 0)
			merge(&total, &one);
		else
			ok = false;
		close(out[p]);
	}
	for (size_t p = 0; p < forked; p++) {
		int status;
		while (waitpid(pid[p], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = false;
	}
	double secs = (double)(now_ns() - start) / 1e9;
	if (!ok) {
		fprintf(stderr, "bench-flash: a buyer process failed\n");
		goto out_map;
	}
	int64_t sold_ns = atomic_load(&cfg.sh->sold_out_ns);
	double sold_s = sold_ns ? (double)(sold_ns - start) / 1e9 : 0.0;
	uint64_t hold_calls = 0;
	for (size_t i = 0; i < HIST; i++)
		hold_calls += total.hist[H_HOLD][i] + total.hist[H_REFUSED][i];

	printf("buyers      %llu asked, %llu turned away after sold out\n", (unsigned long long)total.buyers,
	       (unsigned long long)total.turned_away);
	printf("holds       %llu made (%llu seats), %llu hold calls: %llu not enough seats, %llu conflicts, %llu errors\n",
	       (unsigned long long)total.holds, (unsigned long long)total.seats_held, (unsigned long long)hold_calls,
	       (unsigned long long)total.refused, (unsigned long long)total.conflicts, (unsigned long long)total.errors);
	printf("paid        %llu holds, %llu seats sold; %llu walked away, %llu payment errors\n",
	       (unsigned long long)total.paid, (unsigned long long)total.seats_sold, (unsigned long long)total.walked,
	       (unsigned long long)total.pay_errors);
	if (total.first_error)
		printf("first error %s\n", booking_error_name(total.first_error));
	printf("rate        %.0f holds/s over the sale (%.2f s), %.0f hold calls/s\n", (double)total.holds / secs, secs,
	       (double)hold_calls / secs);
	if (sold_ns)
		printf("sold out    after %.2f s: %.0f holds/s until then\n", sold_s, (double)total.holds / sold_s);
	else
		printf("sold out    not reached (%lld of %lld seats taken)\n", (long long)atomic_load(&cfg.sh->seats_taken),
		       (long long)cfg.seats_total);
	printf("calls       store %llu (%.1f a buyer), lock manager %llu (%.1f a buyer)\n",
	       (unsigned long long)total.store_calls, total.buyers ? (double)total.store_calls / (double)total.buyers : 0.0,
	       (unsigned long long)total.lock_calls, total.buyers ? (double)total.lock_calls / (double)total.buyers : 0.0);
	static const char *const names[H_COUNT] = {"hold", "refused", "pay"};
	for (int h = 0; h < H_COUNT; h++)
		if (hist_quantile(total.hist[h], 0.5) >= 0)
			printf("latency     %-8s p50 %8.2f ms   p99 %8.2f ms\n", names[h], hist_quantile(total.hist[h], 0.5),
			       hist_quantile(total.hist[h], 0.99));
	static uint64_t calls[HIST]; /* every hold call, made or refused: what a buyer waits for */
	for (size_t i = 0; i < HIST; i++)
		calls[i] = total.hist[H_HOLD][i] + total.hist[H_REFUSED][i];
	if (hist_quantile(calls, 0.5) >= 0)
		printf("latency     %-8s p50 %8.2f ms   p99 %8.2f ms\n", "any hold", hist_quantile(calls, 0.5),
		       hist_quantile(calls, 0.99));
	fflush(stdout);
	long violations = audit(&cfg);
	rc = violations == 0 ? 0 : 1;
out_map:
	munmap(cfg.sh, sizeof *cfg.sh);
out_key:
	remove(keyfile);
	rmdir(keydir);
	booking_free(cfg.layout);
	booking_options_free(env);
	return rc;
}
