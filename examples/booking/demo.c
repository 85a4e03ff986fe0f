/*
 * booking — `booking demo`: seed a catalog and run a flash sale, many
 * buyer threads racing for the same seats (each asks for the best N
 * available under the orphan policy unless-unavoidable; with --named, picks
 * seats off the map and names them, as before the box office), then expire
 * the abandoned holds, relay the events, send the notifications, count the
 * single seats left stranded and check the invariants.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <booking/sys/clock.h> /* a clock of our own, to expire holds without waiting */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEMO_DEFAULT_DIR CLI_DEFAULT_DATA_DIR "/demo"
#define DEMO_DB "demo.db"
#define DEMO_ROW_WIDTH 15
#define DEMO_MAX_ROWS 26
#define DEMO_MAX_ATTEMPTS 4   /* a buyer tries this often before giving up */
#define DEMO_MAX_PARTY 4      /* seats per buyer: 1..4 */
#define DEMO_PRICE_PREMIUM 1850
#define DEMO_PRICE_STANDARD 1200
#define DEMO_CURRENCY "EUR"
#define DEMO_MAX_TYPES 16
/* The demo's administrator: registered by the system on the first run, then logged in. */
#define DEMO_ADMIN_EMAIL "admin@demo.invalid"
#define DEMO_ADMIN_PASSWORD "Demo admin password 1"

/* What one buyer did. Summed into the totals after the sale. */
typedef struct buyer_stats {
	size_t attempts, holds, seats_held, conflicts, sold_out, errors;
	size_t paid, declined, abandoned, pay_errors;
	int64_t revenue;
	int first_error; /* code of the first unexpected error */
} buyer_stats;

typedef struct demo demo;

typedef struct buyer {
	demo *d;
	pthread_t thread;
	char user[32];
	uint64_t rng;
	buyer_stats st;
} buyer;

/*
 * The demo's clock: real time plus an offset the demo moves forward to
 * expire abandoned holds without waiting. Sleeps (retry backoff) are real,
 * so buyers backing off from a busy lock really wait for it, as they would
 * in production; a manual clock would make them retry instantly.
 */
typedef struct demo_clock {
	booking_clock parent;
	_Atomic int64_t offset_ms;
} demo_clock;

static int64_t demo_clock_now(const booking_clock *c)
{
	demo_clock *dc = (demo_clock *)(uintptr_t)c;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&dc->offset_ms);
}

struct demo {
	booking_handle *bk;
	booking_clock *clock;
	demo_clock clock_store;
	char showtime_id[BOOKING_ID_SIZE];
	size_t seat_count, row_width;
	pthread_barrier_t start;
	atomic_size_t done, holds, conflicts; /* live counters for the progress line */
	size_t buyers;
	buyer *buyer;
	bool named;                  /* --named: buyers pick seats off the map and name them */
	bool quiet;                  /* the comparison's sale: no catalog lines, no progress line */
	booking_ctx admin;           /* from the demo admin's token */
	booking_token *admin_token;  /* backs admin.user_id */
};

/* ---- randomness (per buyer, reproducible from --seed) ------------------ */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static size_t rnd(uint64_t *state, size_t n)
{
	return (size_t)(splitmix64(state) % n);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the catalog --------------------------------------------------------- */

/* Seats in rows of 15 (wider rows past 26 of them); rows A-B premium when there are 3+ rows. */
static booking_seat *demo_layout(size_t seat_count, size_t *row_width_out, bool *premium_out)
{
	size_t width = DEMO_ROW_WIDTH;
	if (seat_count > (size_t)DEMO_ROW_WIDTH * DEMO_MAX_ROWS)
		width = (seat_count + DEMO_MAX_ROWS - 1) / DEMO_MAX_ROWS;
	size_t rows = (seat_count + width - 1) / width;
	booking_seat *seats = calloc(seat_count, sizeof *seats);
	if (!seats)
		return NULL;
	for (size_t i = 0; i < seat_count; i++) {
		size_t row = i / width;
		snprintf(seats[i].label, sizeof seats[i].label, "%c%u", (char)('A' + row), (unsigned)(i % width + 1));
		snprintf(seats[i].category, sizeof seats[i].category, "%s", rows >= 3 && row < 2 ? "premium" : "standard");
	}
	*row_width_out = width;
	*premium_out = rows >= 3;
	return seats;
}

/*
 * The demo's keys: DIR/jwt-private.jwk (mode 0600) and DIR/jwt-public.jwks,
 * made on the first run and kept. *made tells which.
 */
static int demo_keys(const char *dir, char *priv, char *pub, size_t size, bool *made)
{
	*made = false;
	if (snprintf(priv, size, "%s/%s", dir, CLI_PRIVATE_KEY_FILE) >= (int)size ||
	    snprintf(pub, size, "%s/%s", dir, CLI_PUBLIC_KEYS_FILE) >= (int)size)
		return BOOKING_EVALIDATION;
	if (access(priv, F_OK) == 0)
		return 0;
	int rc = booking_jwk_generate_files(NULL, priv, pub, NULL);
	*made = rc == 0;
	return rc;
}

/* The payment key of the demo's directory, made the first time. */
static int demo_payment_key(const char *dir, char *path, size_t size)
{
	if (snprintf(path, size, "%s/%s", dir, CLI_PAYMENT_KEY_FILE) >= (int)size)
		return BOOKING_EVALIDATION;
	if (access(path, F_OK) == 0)
		return 0;
	return booking_payment_key_generate_file(path);
}

/*
 * The admin who seeds the catalog acts with a real token: registered by
 * the system (once per database), logged in, verified into a ctx. The
 * buyers act through contexts the demo builds itself, as a host that
 * authenticates its own users would (a ctx is trusted, a token is checked).
 */
static int demo_admin(demo *d)
{
	int rc = booking_auth_register(NULL, d->bk, booking_ctx_system(), DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD,
	                               BOOKING_ROLE_ADMIN);
	if (rc != 0 && rc != BOOKING_EEXISTS)
		return rc;
	char *token = NULL;
	if ((rc = booking_auth_login(&token, NULL, d->bk, NULL, DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD)) != 0)
		return rc;
	rc = booking_auth_ctx(&d->admin, &d->admin_token, d->bk, token);
	booking_free(token);
	return rc;
}

static int demo_seed_catalog(demo *d, const cli *c, int64_t now)
{
	booking_ctx admin = d->admin;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_movie *m = NULL;
	booking_showtime *st = NULL;
	bool premium = false;
	int rc = 0;
	booking_seat *seats = demo_layout(d->seat_count, &d->row_width, &premium);
	if (!seats) {
		fprintf(stderr, "booking: out of memory\n");
		return BOOKING_ENOMEM;
	}
	booking_price prices[2] = {{"standard", DEMO_PRICE_STANDARD}, {"premium", DEMO_PRICE_PREMIUM}};
	if ((rc = booking_theater_create(&t, d->bk, &admin, "Le Grand Rex", "Paris")) != 0 ||
	    (rc = booking_screen_create(&s, d->bk, &admin, t->id, "Salle 1", seats, d->seat_count, sizeof *seats)) != 0 ||
	    (rc = booking_movie_create(&m, d->bk, &admin, "The Flash Sale", 118)) != 0 ||
	    (rc = booking_showtime_create(&st, d->bk, &admin, m->id, s->id, now + INT64_C(2) * 3600 * 1000, DEMO_CURRENCY, prices,
	                                  premium ? 2 : 1, sizeof *prices)) != 0)
		goto out;
	memcpy(d->showtime_id, st->id, sizeof d->showtime_id);
	if (!c->json && !d->quiet) {
		char when[40], p1[32], p2[32];
		printf("catalog: \"%s\" at %s, %s (%s); screen \"%s\", %zu seats\n", tsafe(m->title),
		       fmt_time(when, sizeof when, st->starts_at), tsafe(t->name), tsafe(t->city), tsafe(s->name), s->seat_count);
		if (premium)
			printf("         rows A-B premium %s, the rest standard %s\n",
			       fmt_money(p1, sizeof p1, DEMO_PRICE_PREMIUM, DEMO_CURRENCY),
			       fmt_money(p2, sizeof p2, DEMO_PRICE_STANDARD, DEMO_CURRENCY));
		printf("showtime %s\n", st->id);
	}
out:
	free(seats);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_movie_free(m);
	booking_showtime_free(st);
	return rc;
}

/* ---- a buyer ----------------------------------------------------------- */

/*
 * Pick `want` free seats from the map: a random free seat, then its free
 * neighbours in the row (right, then left), then any free seats. Returns
 * how many were picked (0: sold out).
 */
static size_t pick_seats(buyer *b, const booking_seat_map *m, size_t want, const char **labels)
{
	size_t nfree = 0, picked = 0;
	size_t *free_idx = malloc(m->count * sizeof *free_idx);
	bool *taken = calloc(m->count, sizeof *taken);
	if (!free_idx || !taken)
		goto out;
	for (size_t i = 0; i < m->count; i++)
		if (m->seats[i]->status == BOOKING_SEAT_FREE)
			free_idx[nfree++] = i;
	if (nfree == 0)
		goto out;
	if (want > nfree)
		want = nfree;
	size_t width = b->d->row_width;
	size_t first = free_idx[rnd(&b->rng, nfree)];
	size_t row = first / width;
	taken[first] = true;
	labels[picked++] = m->seats[first]->label;
	for (size_t i = first + 1; picked < want && i < m->count && i / width == row && m->seats[i]->status == BOOKING_SEAT_FREE; i++) {
		taken[i] = true;
		labels[picked++] = m->seats[i]->label;
	}
	for (size_t i = first; picked < want && i-- > 0 && i / width == row && m->seats[i]->status == BOOKING_SEAT_FREE;) {
		taken[i] = true;
		labels[picked++] = m->seats[i]->label;
	}
	while (picked < want) { /* no room in the row: scattered seats will do */
		size_t i = free_idx[rnd(&b->rng, nfree)];
		if (!taken[i]) {
			taken[i] = true;
			labels[picked++] = m->seats[i]->label;
		}
	}
out:
	free(free_idx);
	free(taken);
	return picked;
}

static void note_error(buyer_stats *st, int code)
{
	if (!st->first_error)
		st->first_error = code;
}

/*
 * Ask for the best `want` seats (booking_hold_with(), `best`): the library
 * chooses them side by side without stranding a seat when it can. Fewer
 * left than wanted: take what is left; beaten to them: ask again.
 */
static booking_reservation *buyer_hold_best(buyer *b, const booking_ctx *ctx, size_t want)
{
	demo *d = b->d;
	for (int attempt = 0; attempt < DEMO_MAX_ATTEMPTS; attempt++) {
		booking_hold_request req = BOOKING_HOLD_REQUEST_INIT;
		req.showtime_id = d->showtime_id;
		req.best = want;
		booking_reservation *r = NULL;
		b->st.attempts++;
		int rc = booking_hold_with(&r, d->bk, ctx, &req, sizeof req);
		if (rc == 0) {
			b->st.holds++;
			b->st.seats_held += r->seat_count;
			atomic_fetch_add(&d->holds, 1);
			return r;
		}
		if (rc == BOOKING_ENOT_ENOUGH_SEATS) {
			const char *avail = booking_error_detail(NULL, "available");
			long left = avail ? strtol(avail, NULL, 10) : 0;
			if (left <= 0 || (size_t)left >= want) { /* sold out (or no fit at all): give up */
				b->st.sold_out++;
				return NULL;
			}
			want = (size_t)left;
		} else if (rc == BOOKING_ESEAT_ALREADY_BOOKED || rc == BOOKING_ELOCK_FAILED || rc == BOOKING_EORPHAN_SEAT) {
			b->st.conflicts++;
			atomic_fetch_add(&d->conflicts, 1);
		} else {
			b->st.errors++;
			note_error(&b->st, rc);
		}
	}
	return NULL;
}

/* Look at the seat map, pick seats, hold them; retry with other seats when beaten to them. */
static booking_reservation *buyer_hold(buyer *b, const booking_ctx *ctx)
{
	demo *d = b->d;
	size_t want = 1 + rnd(&b->rng, DEMO_MAX_PARTY);
	if (!d->named)
		return buyer_hold_best(b, ctx, want);
	for (int attempt = 0; attempt < DEMO_MAX_ATTEMPTS; attempt++) {
		booking_seat_map *m = NULL;
		const char *labels[DEMO_MAX_PARTY];
		if (booking_seat_map_get(&m, d->bk, ctx, d->showtime_id) != 0) {
			b->st.errors++;
			note_error(&b->st, booking_error_last()->code);
			continue;
		}
		size_t n = pick_seats(b, m, want, labels);
		if (n == 0) {
			booking_seat_map_free(m);
			b->st.sold_out++;
			return NULL;
		}
		booking_reservation *r = NULL;
		b->st.attempts++;
		int rc = booking_hold(&r, d->bk, ctx, d->showtime_id, labels, n);
		booking_seat_map_free(m);
		if (rc == 0) {
			b->st.holds++;
			b->st.seats_held += r->seat_count;
			atomic_fetch_add(&d->holds, 1);
			return r;
		}
		/* ORPHAN_SEAT: under an orphan policy from the environment; other seats may do */
		if (rc == BOOKING_ESEAT_ALREADY_BOOKED || rc == BOOKING_EORPHAN_SEAT) {
			b->st.conflicts++;
			atomic_fetch_add(&d->conflicts, 1);
		} else {
			b->st.errors++;
			note_error(&b->st, rc);
		}
	}
	return NULL;
}

/* ~70% pay, ~10% pay with a card that is declined (and give up), ~20% walk away. */
static void buyer_pay(buyer *b, const booking_ctx *ctx, const booking_reservation *r)
{
	size_t dice = rnd(&b->rng, 100);
	if (dice >= 80) {
		b->st.abandoned++;
		return;
	}
	const char *card = dice < 70 ? CLI_DEFAULT_CARD : CLI_DECLINING_CARD;
	char key[64];
	snprintf(key, sizeof key, "demo-%s", r->id);
	booking_payment *p = NULL;
	int rc = booking_pay(&p, b->d->bk, ctx, r->id, key, card);
	if (rc == 0) {
		b->st.paid++;
		b->st.revenue += p->amount;
	} else if (rc == BOOKING_EPAYMENT_DECLINED) {
		b->st.declined++;
	} else {
		b->st.pay_errors++;
		note_error(&b->st, rc);
	}
	booking_payment_free(p);
}

static void *buyer_main(void *arg)
{
	buyer *b = arg;
	booking_ctx ctx;
	booking_ctx_init(&ctx, b->user, BOOKING_ROLE_CUSTOMER);
	pthread_barrier_wait(&b->d->start); /* everyone rushes in at once */
	booking_reservation *r = buyer_hold(b, &ctx);
	if (r)
		buyer_pay(b, &ctx, r);
	booking_reservation_free(r);
	atomic_fetch_add(&b->d->done, 1);
	return NULL;
}

/* ---- the sale ---------------------------------------------------------- */

static void progress_line(demo *d, bool final)
{
	size_t done = atomic_load(&d->done), width = 30;
	size_t filled = d->buyers ? done * width / d->buyers : width;
	char bar[64];
	for (size_t i = 0; i < width; i++)
		bar[i] = i < filled ? '#' : '.';
	bar[width] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu buyers done, %zu holds, %zu conflicts%s", bar, done, d->buyers,
	        atomic_load(&d->holds), atomic_load(&d->conflicts), final ? "\n" : "");
	fflush(stderr);
}

/* Start the buyers together, show progress, wait for all. 0, or -1 when a thread could not start. */
static int run_sale(demo *d, double *elapsed)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, (size_t)1024 * 1024);
	pthread_barrier_init(&d->start, NULL, (unsigned)d->buyers + 1);
	for (size_t i = 0; i < d->buyers; i++) {
		int err = pthread_create(&d->buyer[i].thread, &attr, buyer_main, &d->buyer[i]);
		if (err) {
			/* The started threads wait at the barrier forever; returning ends the process. */
			fprintf(stderr, "booking: cannot start buyer %zu: %s (try fewer --buyers)\n", i + 1, strerror(err));
			pthread_attr_destroy(&attr);
			return -1;
		}
	}
	pthread_attr_destroy(&attr);
	bool tty = isatty(STDERR_FILENO) && !d->quiet;
	double t0 = now_seconds();
	pthread_barrier_wait(&d->start);
	const struct timespec tick = {0, 50L * 1000 * 1000};
	double last = 0;
	while (atomic_load(&d->done) < d->buyers) {
		nanosleep(&tick, NULL);
		if (tty && now_seconds() - last >= 0.25) {
			progress_line(d, false);
			last = now_seconds();
		}
	}
	for (size_t i = 0; i < d->buyers; i++)
		pthread_join(d->buyer[i].thread, NULL);
	*elapsed = now_seconds() - t0;
	if (tty)
		progress_line(d, true);
	pthread_barrier_destroy(&d->start);
	return 0;
}

static void sum_stats(const demo *d, buyer_stats *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < d->buyers; i++) {
		const buyer_stats *s = &d->buyer[i].st;
		t->attempts += s->attempts;
		t->holds += s->holds;
		t->seats_held += s->seats_held;
		t->conflicts += s->conflicts;
		t->sold_out += s->sold_out;
		t->errors += s->errors;
		t->paid += s->paid;
		t->declined += s->declined;
		t->abandoned += s->abandoned;
		t->pay_errors += s->pay_errors;
		t->revenue += s->revenue;
		if (!t->first_error)
			t->first_error = s->first_error;
	}
}

/* ---- after the sale: events and notifications --------------------------- */

typedef struct type_count {
	size_t n;
	char type[DEMO_MAX_TYPES][40];
	size_t count[DEMO_MAX_TYPES];
	size_t total;
} type_count;

static void count_type(type_count *tc, const char *type)
{
	tc->total++;
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->type[i], type) == 0) {
			tc->count[i]++;
			return;
		}
	if (tc->n < DEMO_MAX_TYPES) {
		snprintf(tc->type[tc->n], sizeof tc->type[tc->n], "%s", type);
		tc->count[tc->n++] = 1;
	}
}

static size_t type_get(const type_count *tc, const char *type)
{
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->type[i], type) == 0)
			return tc->count[i];
	return 0;
}

static int count_event(const booking_event *ev, void *payload)
{
	count_type(payload, ev->type);
	return 0;
}

static int count_notification(const booking_notification *n, void *payload)
{
	static const char *const kinds[] = {"", "reservation_confirmed", "reservation_cancelled", "reservation_expired",
	                                    "payment_failed", "payment_refunded"};
	count_type(payload, (size_t)n->kind < sizeof kinds / sizeof kinds[0] ? kinds[n->kind] : "other");
	return 0;
}

/* Read every event once through a consumer group of our own, to count them by type. */
static int count_events(booking_handle *bk, type_count *tc)
{
	booking_consumer_options o = BOOKING_CONSUMER_OPTIONS_INIT;
	o.group = "demo-stats";
	o.batch = 256;
	size_t handled;
	do {
		handled = 0;
		int rc = booking_consume(&handled, bk, &o, count_event, tc);
		if (rc != 0)
			return rc;
	} while (handled > 0);
	return 0;
}

/* ---- orphans ------------------------------------------------------------ */

/* A seat's column across its row (aisles counted), as the seat map printer reads it. */
static int orphan_column(const booking_seat_state *s, size_t index_in_row)
{
	return s->column > 0 ? s->column : s->number > 0 ? s->number : (int)index_in_row + 1;
}

/*
 * Single seats left stranded: free seats whose neighbours on both sides
 * (same row, column - 1 and column + 1) are each taken (held, sold,
 * blocked) or absent (the row's end, an aisle), at least one of them taken:
 * a seat alone in its row from the start is not one the sale stranded.
 */
static size_t count_orphans(const booking_seat_map *m)
{
	size_t orphans = 0;
	if (!m)
		return 0;
	for (size_t i = 0; i < m->count;) {
		size_t end = i + 1;
		while (end < m->count && strcmp(m->seats[end]->row, m->seats[i]->row) == 0)
			end++;
		for (size_t k = i; k < end; k++) {
			if (m->seats[k]->status != BOOKING_SEAT_FREE)
				continue;
			int colno = orphan_column(m->seats[k], k - i);
			int side_free = 0, side_taken = 0;
			for (size_t j = i; j < end; j++) {
				int other = orphan_column(m->seats[j], j - i);
				if (j == k || (other != colno - 1 && other != colno + 1))
					continue;
				if (m->seats[j]->status == BOOKING_SEAT_FREE)
					side_free++;
				else
					side_taken++;
			}
			if (side_free == 0 && side_taken > 0)
				orphans++;
		}
		i = end;
	}
	return orphans;
}

/* ---- the demo command ---------------------------------------------------- */

typedef struct demo_args {
	const char *dir;
	long buyers, seats;
	uint64_t seed;
	bool named; /* --named: the buyers name seats (the old way) instead of asking for the best */
	bool compare; /* not --no-compare: the same buyers the other way too, on a memory: store */
	long bots;    /* --bots N: the fairness comparison, N threads of one bot account (0: none) */
} demo_args;

static int parse_demo_args(cli *c, const cli_command *cmd, int argc, char **argv, demo_args *da)
{
	static const char *const known[] = {"--dir=", "--buyers=", "--seats=", "--seed=", "--named", "--no-compare",
	                                    "--bots=", NULL};
	cli_args a;
	int rc;
	da->dir = DEMO_DEFAULT_DIR;
	da->buyers = 200;
	da->seats = 150;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "demo takes no positional arguments");
	const char *dir = args_get(&a, "--dir");
	if (dir)
		da->dir = dir;
	da->named = args_has(&a, "--named");
	da->compare = !args_has(&a, "--no-compare");
	long seed = 0;
	if (args_get(&a, "--buyers") && !args_int(args_get(&a, "--buyers"), 1, 2000, &da->buyers))
		return cli_usage_error(c, cmd, "--buyers wants 1..2000");
	if (args_get(&a, "--seats") && !args_int(args_get(&a, "--seats"), 1, 2000, &da->seats))
		return cli_usage_error(c, cmd, "--seats wants 1..2000");
	if (args_get(&a, "--bots") && !args_int(args_get(&a, "--bots"), 1, 200, &da->bots))
		return cli_usage_error(c, cmd, "--bots wants 1..200");
	if (args_get(&a, "--seed")) {
		if (!args_int(args_get(&a, "--seed"), 0, LONG_MAX, &seed))
			return cli_usage_error(c, cmd, "--seed wants a non-negative number");
		da->seed = (uint64_t)seed;
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		da->seed = ((uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid()) % 1000000000u;
	}
	return ARGS_OK;
}

/* mkdir -p for a relative or absolute path. */
static int make_dirs(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		return errno;
	return 0;
}

/* A fresh sqlite file in `dir`: the old demo database and its WAL files go. */
static int demo_store_url(const char *dir, char *url, size_t size)
{
	char cwd[4096], path[4200];
	int err = make_dirs(dir);
	if (err) {
		fprintf(stderr, "booking: cannot create %s: %s\n", dir, strerror(err));
		return EXIT_DOMAIN;
	}
	if (dir[0] == '/')
		snprintf(path, sizeof path, "%s/%s", dir, DEMO_DB);
	else if (getcwd(cwd, sizeof cwd))
		snprintf(path, sizeof path, "%s/%s/%s", cwd, dir, DEMO_DB);
	else
		return EXIT_DOMAIN;
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char f[4300];
		snprintf(f, sizeof f, "%s%s", path, suffixes[i]);
		if (unlink(f) != 0 && errno != ENOENT) {
			fprintf(stderr, "booking: cannot remove %s: %s\n", f, strerror(errno));
			return EXIT_DOMAIN;
		}
	}
	snprintf(url, size, "sqlite://%s", path);
	return EXIT_OK;
}

typedef struct demo_result {
	buyer_stats t;
	double elapsed;
	size_t expired, relayed;
	type_count events, notes;
	booking_seat_map *after_sale, *final;
	booking_orphan_policy orphan_policy; /* the one the sale ran under */
	/* The comparison: the same buyers the other way (named seats, or best available). */
	struct {
		bool ran;           /* asked for and done */
		int error;          /* its failure, 0 when it ran */
		bool named;         /* how its buyers chose */
		booking_orphan_policy orphan_policy;
		size_t holds, orphans_after_sale, orphans;
	} cmp;
	booking_check_report *check;
	int64_t advanced_ms;
	struct fair_result {
		bool ran;
		int error;             /* the library's error when the run failed */
		size_t bot_seats;      /* seats the bots bought */
		size_t bot_attempts, bot_refused; /* their holds, and those refused by a limit (LIMIT_REACHED, RATE_LIMITED) */
		size_t human_seats;    /* seats the other buyers bought, waiting list included */
		size_t sold;           /* seats sold in all */
		size_t waiters;        /* buyers who found it sold out and joined the waiting list */
		size_t waiters_served; /* of them, those the waiting list offered seats to and who paid */
		size_t waiter_seats;
		size_t violations;
	} fair[2]; /* limits off, limits on */
} demo_result;

static json_t *json_counts(const type_count *tc)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < tc->n; i++)
		json_object_set_new(o, tc->type[i], json_integer((json_int_t)tc->count[i]));
	return o;
}

static json_t *json_fairness(const demo_args *da, const demo_result *res);

static int print_json_summary(cli *c, const demo_args *da, const demo *d, const char *store, demo_result *res)
{
	const buyer_stats *t = &res->t;
	char *check_text = NULL;
	int crc = booking_check_report_to_json(&check_text, res->check);
	json_t *check = json_from_library(crc, check_text);
	json_t *o = json_pack("{s:I,s:I,s:I,s:s,s:s}", "seed", (json_int_t)da->seed, "buyers", (json_int_t)da->buyers,
	                      "seats", (json_int_t)da->seats, "store", store, "showtime_id", d->showtime_id);
	if (!o)
		return cli_json(c, NULL);
	json_object_set_new(o, "hold_attempts", json_integer((json_int_t)t->attempts));
	json_object_set_new(o, "holds", json_integer((json_int_t)t->holds));
	json_object_set_new(o, "seats_held", json_integer((json_int_t)t->seats_held));
	json_object_set_new(o, "conflicts", json_integer((json_int_t)t->conflicts));
	json_object_set_new(o, "sold_out_buyers", json_integer((json_int_t)t->sold_out));
	json_object_set_new(o, "errors", json_integer((json_int_t)t->errors + (json_int_t)t->pay_errors));
	json_object_set_new(o, "payments_succeeded", json_integer((json_int_t)t->paid));
	json_object_set_new(o, "payments_declined", json_integer((json_int_t)t->declined));
	json_object_set_new(o, "abandoned", json_integer((json_int_t)t->abandoned));
	json_object_set_new(o, "reservations_expired", json_integer((json_int_t)res->expired));
	json_object_set_new(o, "refunds", json_integer((json_int_t)type_get(&res->events, "payment.refunded")));
	json_object_set_new(o, "sold_seats", json_integer((json_int_t)(res->final ? res->final->sold_count : 0)));
	json_object_set_new(o, "free_seats", json_integer((json_int_t)(res->final ? res->final->free_count : 0)));
	json_object_set_new(o, "mode", json_string(da->named ? "named" : "best"));
	json_object_set_new(o, "orphan_policy", json_string(booking_orphan_policy_name(res->orphan_policy)));
	json_object_set_new(o, "orphans_after_sale", json_integer((json_int_t)count_orphans(res->after_sale)));
	json_object_set_new(o, "orphans", json_integer((json_int_t)count_orphans(res->final)));
	json_t *cmp = NULL;
	if (res->cmp.ran)
		cmp = json_pack("{s:s,s:s,s:I,s:I,s:I}", "mode", res->cmp.named ? "named" : "best", "orphan_policy",
		                booking_orphan_policy_name(res->cmp.orphan_policy), "holds", (json_int_t)res->cmp.holds,
		                "orphans_after_sale", (json_int_t)res->cmp.orphans_after_sale, "orphans",
		                (json_int_t)res->cmp.orphans);
	else if (res->cmp.error)
		cmp = json_pack("{s:s}", "error", booking_error_name(res->cmp.error));
	json_object_set_new(o, "compared", cmp ? cmp : json_null());
	json_object_set_new(o, "revenue", json_integer((json_int_t)t->revenue));
	json_object_set_new(o, "currency", json_string(DEMO_CURRENCY));
	json_object_set_new(o, "events_published", json_integer((json_int_t)res->relayed));
	json_object_set_new(o, "events_by_type", json_counts(&res->events));
	json_object_set_new(o, "notifications_sent", json_integer((json_int_t)res->notes.total));
	json_object_set_new(o, "notifications_by_kind", json_counts(&res->notes));
	json_object_set_new(o, "clock_advanced_ms", json_integer((json_int_t)res->advanced_ms));
	json_object_set_new(o, "elapsed_ms", json_integer((json_int_t)(res->elapsed * 1000.0)));
	json_object_set_new(o, "holds_per_second",
	                    json_real(res->elapsed > 0 ? (double)t->holds / res->elapsed : 0.0));
	json_object_set_new(o, "check", check ? check : json_null());
	if (da->bots)
		json_object_set_new(o, "fairness", json_fairness(da, res));
	return cli_json(c, o);
}

static void print_summary(cli *c, const demo_args *da, demo_result *res)
{
	const buyer_stats *t = &res->t;
	char money[48];
	const booking_seat_map *f = res->final;
	printf("\n%ssummary%s (seed %llu)\n", col(c, ANSI_BOLD), col(c, ANSI_RESET), (unsigned long long)da->seed);
	printf("  buyers          %ld: %zu got seats, %zu did not (%zu saw it sold out)\n", da->buyers, t->holds,
	       (size_t)da->buyers - t->holds, t->sold_out);
	printf("  holds           %zu holds of %zu seats in %zu attempts, %zu conflicts (SEAT_ALREADY_BOOKED)\n",
	       t->holds, t->seats_held, t->attempts, t->conflicts);
	if (t->errors || t->pay_errors)
		printf("  errors          %zu (first: %s)\n", t->errors + t->pay_errors, booking_error_name(t->first_error));
	if (res->after_sale)
		printf("  after the sale  %zu sold, %zu held, %zu free\n", res->after_sale->sold_count,
		       res->after_sale->held_count, res->after_sale->free_count);
	printf("  payments        %zu succeeded, %zu declined; %zu holders walked away\n", t->paid, t->declined,
	       t->abandoned);
	printf("  expired         %zu reservations (clock moved %lld min ahead)\n", res->expired,
	       (long long)(res->advanced_ms / 60000));
	printf("  refunds         %zu\n", type_get(&res->events, "payment.refunded"));
	if (f)
		printf("  sold seats      %zu of %zu, revenue %s\n", f->sold_count, f->count,
		       fmt_money(money, sizeof money, t->revenue, DEMO_CURRENCY));
	printf("  orphans         %s %zu after the sale, %zu at the end", da->named ? "named seats" : "best available",
	       count_orphans(res->after_sale), count_orphans(f));
	if (res->cmp.ran)
		printf("; %s %zu after the sale, %zu at the end", res->cmp.named ? "named seats" : "best available",
		       res->cmp.orphans_after_sale, res->cmp.orphans);
	else if (res->cmp.error)
		printf("; the comparison failed: %s", booking_error_name(res->cmp.error));
	printf("\n");
	printf("  events          %zu published:", res->relayed);
	for (size_t i = 0; i < res->events.n; i++)
		printf("%s %s %zu", i ? "," : "", res->events.type[i], res->events.count[i]);
	printf("\n  notifications   %zu sent:", res->notes.total);
	for (size_t i = 0; i < res->notes.n; i++)
		printf("%s %s %zu", i ? "," : "", res->notes.type[i], res->notes.count[i]);
	printf("\n  elapsed         %.2f s, %.0f holds/s\n", res->elapsed,
	       res->elapsed > 0 ? (double)t->holds / res->elapsed : 0.0);
}

/* Everything after the buyers: move time on, expire, relay, notify, check. */
static int demo_aftermath(demo *d, const booking_options *opts, demo_result *res)
{
	booking_ctx reader;
	booking_ctx_init(&reader, NULL, BOOKING_ROLE_NONE);
	if (booking_seat_map_get(&res->after_sale, d->bk, &reader, d->showtime_id) != 0)
		return -1;
	/* The abandoned and declined holds run out: jump past the hold and the payment window. */
	int expiry_min = opts->hold_expiry_minutes ? opts->hold_expiry_minutes : 15;
	int window_s = opts->payment_window_seconds ? opts->payment_window_seconds : 120;
	res->advanced_ms = ((int64_t)expiry_min * 60 + window_s + 60) * 1000;
	atomic_fetch_add(&d->clock_store.offset_ms, res->advanced_ms);
	size_t n;
	do {
		n = 0;
		if (booking_expire_due(&n, d->bk, booking_ctx_system(), 500) != 0)
			return -1;
		res->expired += n;
	} while (n == 500);
	if (relay_all(d->bk, &res->relayed) != 0)
		return -1;
	size_t sent = 0;
	if (drain_notifications(d->bk, count_notification, &res->notes, 0, &sent) != 0)
		return -1;
	if (count_events(d->bk, &res->events) != 0)
		return -1;
	if (booking_seat_map_get(&res->final, d->bk, &reader, d->showtime_id) != 0)
		return -1;
	if (booking_check(&res->check, d->bk) != 0)
		return -1;
	return 0;
}

/* The demo's clock, at real time. */
static void demo_clock_init(demo *d)
{
	d->clock_store.parent.version = BOOKING_CLOCK_VERSION;
	d->clock_store.parent.now_ms = demo_clock_now;
	d->clock_store.parent.sleep_ms = NULL; /* real sleeps */
	atomic_init(&d->clock_store.offset_ms, 0);
	d->clock = &d->clock_store.parent;
}

/* The buyers of a seed: the same users and parties in every sale of that seed. */
static void demo_buyers_init(demo *d, uint64_t seed)
{
	for (size_t i = 0; i < d->buyers; i++) {
		d->buyer[i].d = d;
		d->buyer[i].rng = seed * 0x9E3779B97F4A7C15ULL + i + 1;
		snprintf(d->buyer[i].user, sizeof d->buyer[i].user, "buyer-%04zu", i + 1);
	}
}

/*
 * The comparison: the same sale (seed, buyers, their parties) the other
 * way — named seats after a best-available sale, best available after a
 * --named one — quietly, on a memory: store of its own, so that the summary
 * shows both orphan counts; its abandoned holds run out as the main sale's.
 * Nothing of it reaches the main store. 0; -1 when a buyer thread could not
 * start (see run_sale); else the library's error, which the summary names.
 */
static int demo_compare(const cli *c, const demo_args *da, const booking_options *main_opts, demo_result *res)
{
	demo d;
	memset(&d, 0, sizeof d);
	demo_clock_init(&d);
	d.buyers = (size_t)da->buyers;
	d.named = !da->named;
	d.quiet = true;
	d.seat_count = (size_t)da->seats;
	booking_options opts = *main_opts;
	opts.store_url = "memory:";
	opts.lock_url = NULL;
	opts.events_url = "store:";
	opts.clock = d.clock;
	opts.orphan_policy = d.named ? c->env_opts->orphan_policy : BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE;
	booking_ctx reader;
	booking_ctx_init(&reader, NULL, BOOKING_ROLE_NONE);
	booking_seat_map *after = NULL, *final = NULL;
	double elapsed = 0;
	int rc = 0;
	if (!(d.buyer = calloc(d.buyers > 0 ? d.buyers : 1, sizeof *d.buyer))) /* buyers is 1..2000 */
		return BOOKING_ENOMEM;
	if ((rc = booking_open(&d.bk, &opts)) != 0 || (rc = demo_admin(&d)) != 0 ||
	    (rc = demo_seed_catalog(&d, c, booking_now(d.bk))) != 0)
		goto out;
	demo_buyers_init(&d, da->seed);
	if (run_sale(&d, &elapsed) != 0)
		return -1; /* threads stuck at the barrier: leave everything to exit() */
	if ((rc = booking_seat_map_get(&after, d.bk, &reader, d.showtime_id)) != 0)
		goto out;
	atomic_fetch_add(&d.clock_store.offset_ms, res->advanced_ms);
	size_t n;
	do {
		n = 0;
		if ((rc = booking_expire_due(&n, d.bk, booking_ctx_system(), 500)) != 0)
			goto out;
	} while (n == 500);
	if ((rc = booking_seat_map_get(&final, d.bk, &reader, d.showtime_id)) != 0)
		goto out;
	res->cmp.ran = true;
	res->cmp.named = d.named;
	res->cmp.orphan_policy = opts.orphan_policy;
	for (size_t i = 0; i < d.buyers; i++)
		res->cmp.holds += d.buyer[i].st.holds;
	res->cmp.orphans_after_sale = count_orphans(after);
	res->cmp.orphans = count_orphans(final);
out:
	if (rc != 0)
		res->cmp.error = rc;
	booking_seat_map_free(after);
	booking_seat_map_free(final);
	booking_token_free(d.admin_token);
	booking_close(d.bk);
	free(d.buyer);
	return rc;
}

/* ---- the fairness comparison (--bots) ------------------------------------- */

/* One buyer of the fairness sales: a bot thread (all of one account) or a fan. */
typedef struct fair_actor {
	demo *d;
	pthread_t thread;
	bool bot;
	char user[32];
	uint64_t rng;
	size_t want;
	size_t seats, attempts, refused;
	bool waiting, abandoned;
	char reservation_id[BOOKING_ID_SIZE]; /* a fan who walked away: the hold that will run out */
	int error;
} fair_actor;

#define FAIR_BOT_ATTEMPTS 200 /* a bot retries at once, this often at most */
#define FAIR_BOT_PARTY 4
#define FAIR_FAN_ARRIVAL_MS 100 /* the fans come in over the sale's first tenth of a second */

static bool fair_pay(fair_actor *a, const booking_ctx *ctx, const booking_reservation *r)
{
	char key[64];
	snprintf(key, sizeof key, "fair-%s", r->id);
	booking_payment *p = NULL;
	int rc = booking_pay(&p, a->d->bk, ctx, r->id, key, CLI_DEFAULT_CARD);
	booking_payment_free(p);
	if (rc == 0)
		a->seats += r->seat_count;
	else if (!a->error)
		a->error = rc;
	return rc == 0;
}

static void *fair_main(void *arg)
{
	fair_actor *a = arg;
	booking_ctx ctx;
	booking_ctx_init(&ctx, a->user, BOOKING_ROLE_CUSTOMER);
	pthread_barrier_wait(&a->d->start);
	if (!a->bot) { /* fans arrive over the sale's first FAIR_FAN_ARRIVAL_MS; the bots are there the moment it opens */
		uint64_t us = rnd(&a->rng, (size_t)FAIR_FAN_ARRIVAL_MS * 1000);
		struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
	size_t want = a->want;
	int tries = a->bot ? FAIR_BOT_ATTEMPTS : DEMO_MAX_ATTEMPTS;
	for (int i = 0; i < tries; i++) {
		booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
		q.showtime_id = a->d->showtime_id;
		q.best = want;
		booking_reservation *r = NULL;
		a->attempts++;
		int rc = booking_hold_with(&r, a->d->bk, &ctx, &q, sizeof q);
		if (rc == 0) {
			/* a bot buys everything it gets; one fan in five walks away from the hold */
			if (!a->bot && rnd(&a->rng, 100) >= 80) {
				a->abandoned = true;
				snprintf(a->reservation_id, sizeof a->reservation_id, "%s", r->id);
			} else {
				fair_pay(a, &ctx, r);
			}
			booking_reservation_free(r);
			if (!a->bot)
				break;
			continue;
		}
		if (rc == BOOKING_ELIMIT_REACHED || rc == BOOKING_ERATE_LIMITED) {
			a->refused++; /* a bot tries again at once */
			if (!a->bot)
				break;
			continue;
		}
		if (rc == BOOKING_ENOT_ENOUGH_SEATS) {
			const char *avail = booking_error_detail(NULL, "available");
			long left = avail ? strtol(avail, NULL, 10) : 0;
			if (left <= 0 || (size_t)left >= want)
				break; /* sold out */
			want = (size_t)left;
			continue;
		}
		if (rc != BOOKING_ESEAT_ALREADY_BOOKED && rc != BOOKING_ELOCK_FAILED && rc != BOOKING_EORPHAN_SEAT) {
			if (!a->error)
				a->error = rc;
			break;
		}
	}
	/* a fan who found it sold out waits in line for seats that come back */
	if (!a->bot && a->seats == 0 && !a->abandoned) {
		booking_waitlist_entry *e = NULL;
		if (booking_waitlist_join(&e, a->d->bk, &ctx, a->d->showtime_id, a->want, NULL) == 0)
			a->waiting = true;
		booking_waitlist_entry_free(e);
	}
	atomic_fetch_add(&a->d->done, 1);
	return NULL;
}

/*
 * One fairness sale on a memory: store of its own: the demo's fans (their
 * parties as the seed gives them) and `bots` threads of one account that
 * asks for the best 4 seats again and again, all at once; then the holds
 * fans walked away from run out, the waiting list offers their seats, and
 * the fans it offers them to pay.
 */
/* 0 (out->error names a failure of the library), or 1 when a buyer thread could not start. */
static int fair_sale(const cli *c, const demo_args *da, const booking_options *base, bool limits, struct fair_result *out)
{
	demo d;
	memset(&d, 0, sizeof d);
	demo_clock_init(&d);
	d.quiet = true;
	d.seat_count = (size_t)da->seats;
	size_t fans = (size_t)da->buyers, n = fans + (size_t)da->bots;
	fair_actor *a = calloc(n, sizeof *a);
	if (!a)
		return BOOKING_ENOMEM;
	booking_options o = *base;
	o.store_url = "memory:";
	o.lock_url = NULL;
	o.events_url = "store:";
	o.clock = d.clock;
	o.orphan_policy = BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE;
	if (limits) { /* the defaults (10 seats a buyer a showtime) and brakes a flash sale would add */
		o.max_seats_per_user_showtime = 0;
		o.max_live_holds_per_user = 2;
		o.rate_holds_per_minute = 30;
		o.rate_burst = 5;
	} else {
		o.max_seats_per_user_showtime = -1;
		o.max_live_holds_per_user = 0;
		o.rate_holds_per_minute = 0;
	}
	int rc;
	if ((rc = booking_open(&d.bk, &o)) != 0 || (rc = demo_admin(&d)) != 0 ||
	    (rc = demo_seed_catalog(&d, c, booking_now(d.bk))) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		a[i].d = &d;
		a[i].bot = i >= fans;
		a[i].rng = da->seed * 0x9E3779B97F4A7C15ULL + i + 1;
		a[i].want = a[i].bot ? FAIR_BOT_PARTY : 1 + rnd(&a[i].rng, DEMO_MAX_PARTY);
		if (a[i].bot)
			snprintf(a[i].user, sizeof a[i].user, "bot");
		else
			snprintf(a[i].user, sizeof a[i].user, "fan-%04zu", i + 1);
	}
	pthread_barrier_init(&d.start, NULL, (unsigned)n + 1);
	size_t started = 0;
	for (; started < n; started++)
		if (pthread_create(&a[started].thread, NULL, fair_main, &a[started]) != 0)
			break;
	if (started < n) {
		fprintf(stderr, "booking: cannot start the fairness buyers (try fewer --buyers or --bots)\n");
		return 1; /* threads stuck at the barrier: leave everything to exit() */
	}
	pthread_barrier_wait(&d.start);
	for (size_t i = 0; i < n; i++)
		pthread_join(a[i].thread, NULL);
	pthread_barrier_destroy(&d.start);
	/* the walked-away holds run out: their seats go to the waiting list */
	atomic_fetch_add(&d.clock_store.offset_ms, (int64_t)(o.hold_expiry_minutes ? o.hold_expiry_minutes : 15) * 60000 + 60000);
	size_t expired;
	do {
		expired = 0;
		if ((rc = booking_expire_due(&expired, d.bk, booking_ctx_system(), 500)) != 0)
			goto out;
	} while (expired == 500);
	for (size_t i = 0; i < n; i++) {
		if (!a[i].waiting)
			continue;
		out->waiters++;
		booking_ctx ctx;
		booking_ctx_init(&ctx, a[i].user, BOOKING_ROLE_CUSTOMER);
		booking_waitlist *l = NULL;
		if ((rc = booking_waitlist_list(&l, d.bk, &ctx, d.showtime_id)) != 0)
			goto out;
		if (l->count && l->items[0]->status == BOOKING_WAITLIST_OFFERED) {
			booking_reservation *r = NULL;
			if (booking_reservation_get(&r, d.bk, &ctx, l->items[0]->reservation_id) == 0 && fair_pay(&a[i], &ctx, r)) {
				out->waiters_served++;
				out->waiter_seats += r->seat_count;
			}
			booking_reservation_free(r);
		}
		booking_waitlist_free(l);
	}
	for (size_t i = 0; i < n; i++) {
		if (a[i].bot) {
			out->bot_seats += a[i].seats;
			out->bot_attempts += a[i].attempts;
			out->bot_refused += a[i].refused;
		} else {
			out->human_seats += a[i].seats;
		}
		if (a[i].error && !out->error)
			out->error = a[i].error;
	}
	out->sold = out->bot_seats + out->human_seats;
	booking_check_report *rep = NULL;
	if ((rc = booking_check(&rep, d.bk)) != 0)
		goto out;
	out->violations = rep->count;
	booking_check_report_free(rep);
	out->ran = true;
out:
	if (rc != 0)
		out->error = rc;
	booking_token_free(d.admin_token);
	booking_close(d.bk);
	free(a);
	return 0;
}

static void print_fairness(cli *c, const demo_args *da, const demo_result *res)
{
	printf("\n%sfairness%s (--bots %ld: %ld threads of one account there when the sale opens, best 4 seats, retrying at "
	       "once; the fans come in over its first %d ms)\n",
	       col(c, ANSI_BOLD), col(c, ANSI_RESET), da->bots, da->bots, FAIR_FAN_ARRIVAL_MS);
	for (int k = 0; k < 2; k++) {
		const struct fair_result *f = &res->fair[k];
		const char *name = k ? "limits on " : "limits off";
		if (!f->ran) {
			printf("  %s  failed: %s\n", name, booking_error_name(f->error));
			continue;
		}
		printf("  %s  bots bought %zu of %zu seats sold (%.0f%%), %zu of their %zu holds refused; "
		       "%zu fans waited in line, %zu got %zu seat%s from it; check: %zu violation%s\n",
		       name, f->bot_seats, f->sold, f->sold ? 100.0 * (double)f->bot_seats / (double)f->sold : 0.0,
		       f->bot_refused, f->bot_attempts, f->waiters, f->waiters_served, f->waiter_seats,
		       f->waiter_seats == 1 ? "" : "s", f->violations, f->violations == 1 ? "" : "s");
	}
	printf("  (limits on: at most 10 seats a buyer a showtime, 2 live holds, 30 holds a minute in bursts of 5)\n");
}

static json_t *json_fairness(const demo_args *da, const demo_result *res)
{
	json_t *o = json_pack("{s:I}", "bots", (json_int_t)da->bots);
	for (int k = 0; o && k < 2; k++) {
		const struct fair_result *f = &res->fair[k];
		json_t *r = f->ran ? json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bot_seats", (json_int_t)f->bot_seats,
		                               "sold", (json_int_t)f->sold, "bot_holds", (json_int_t)f->bot_attempts,
		                               "bot_holds_refused", (json_int_t)f->bot_refused, "fan_seats",
		                               (json_int_t)f->human_seats, "waiters", (json_int_t)f->waiters,
		                               "waiters_served", (json_int_t)f->waiters_served, "waiter_seats",
		                               (json_int_t)f->waiter_seats, "violations", (json_int_t)f->violations)
		                   : json_pack("{s:s}", "error", booking_error_name(f->error));
		json_object_set_new(o, k ? "limits_on" : "limits_off", r);
	}
	return o;
}

int cmd_demo(cli *c, const cli_command *cmd, int argc, char **argv)
{
	demo_args da;
	memset(&da, 0, sizeof da);
	int rc;
	if ((rc = parse_demo_args(c, cmd, argc, argv, &da)) != ARGS_OK)
		return rc;

	char url[4400] = "";
	if (!c->store_url && (rc = demo_store_url(da.dir, url, sizeof url)))
		return rc;
	booking_options opts;
	if ((rc = cli_options(c, &opts, url)))
		return rc;
	opts.store_url = c->store_url ? c->store_url : url; /* the demo's own file, not $BOOKING_STORE_URL */
	char priv[4300], pub[4300];
	bool keys_made = false;
	int kerr = make_dirs(da.dir);
	if (kerr) {
		fprintf(stderr, "booking: cannot create %s: %s\n", da.dir, strerror(kerr));
		return EXIT_DOMAIN;
	}
	char paykey[4300];
	if (demo_keys(da.dir, priv, pub, sizeof priv, &keys_made) != 0 ||
	    demo_payment_key(da.dir, paykey, sizeof paykey) != 0)
		return cli_fail(c);
	opts.jwt_private_key_file = priv;
	opts.jwt_public_keys_file = pub;
	opts.payment_key_file = paykey;
	/* Best available never strands a seat unless no choice avoids it; --named keeps the policy of the environment. */
	if (!da.named)
		opts.orphan_policy = BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE;

	demo d;
	memset(&d, 0, sizeof d);
	demo_clock_init(&d);
	d.buyers = (size_t)da.buyers;
	d.named = da.named;
	d.seat_count = (size_t)da.seats;
	d.buyer = calloc(d.buyers > 0 ? d.buyers : 1, sizeof *d.buyer); /* buyers is 1..2000: never 0 bytes */
	if (!d.buyer) {
		fprintf(stderr, "booking: out of memory\n");
		return EXIT_DOMAIN;
	}
	opts.clock = d.clock;
	demo_result res;
	memset(&res, 0, sizeof res);
	res.orphan_policy = opts.orphan_policy;
	if (!c->json)
		printf("%sbooking demo%s: a flash sale, %ld buyers for %ld seats (seed %llu)\nstore:   %s\n"
		       "buyers:  %s (orphan policy %s)\n",
		       col(c, ANSI_BOLD), col(c, ANSI_RESET), da.buyers, da.seats, (unsigned long long)da.seed,
		       opts.store_url,
		       da.named ? "pick seats off the map and name them (--named)" : "ask for the best N available",
		       booking_orphan_policy_name(opts.orphan_policy));
	if (!c->json)
		printf("keys:    %s (%s)\n", priv, keys_made ? "made now, mode 0600" : "kept from an earlier run");
	if (booking_open(&d.bk, &opts) != 0 || demo_admin(&d) != 0) {
		rc = cli_fail(c);
		goto out;
	}
	if (!c->json)
		printf("admin:   %s, logged in (token kid %s)\n", DEMO_ADMIN_EMAIL, d.admin_token->kid);
	if (demo_seed_catalog(&d, c, booking_now(d.bk)) != 0) {
		rc = cli_fail(c);
		goto out;
	}
	demo_buyers_init(&d, da.seed);
	if (!c->json)
		fflush(stdout);
	if (run_sale(&d, &res.elapsed) != 0)
		return EXIT_DOMAIN; /* threads stuck at the barrier: leave everything to exit() */
	sum_stats(&d, &res.t);
	if (demo_aftermath(&d, &opts, &res) != 0) {
		rc = cli_fail(c);
		goto out;
	}
	rc = res.check->count ? EXIT_DOMAIN : EXIT_OK;
	if (da.compare && demo_compare(c, &da, &opts, &res) < 0)
		return EXIT_DOMAIN; /* threads stuck at the barrier: leave everything to exit() */
	for (int k = 0; da.bots && k < 2; k++)
		if (fair_sale(c, &da, &opts, k == 1, &res.fair[k]) != 0)
			return EXIT_DOMAIN; /* threads stuck at the barrier: leave everything to exit() */
	for (int k = 0; da.bots && k < 2; k++)
		if (!res.fair[k].ran || res.fair[k].violations)
			rc = EXIT_DOMAIN;
	if (c->json) {
		if (print_json_summary(c, &da, &d, opts.store_url, &res) != EXIT_OK)
			rc = EXIT_DOMAIN;
	} else {
		printf("\n");
		seatmap_print(c, stdout, res.final);
		print_summary(c, &da, &res);
		if (da.bots)
			print_fairness(c, &da, &res);
		print_check_report(c, res.check);
	}
out:
	booking_seat_map_free(res.after_sale);
	booking_seat_map_free(res.final);
	booking_check_report_free(res.check);
	booking_token_free(d.admin_token);
	booking_close(d.bk);
	free(d.buyer);
	return rc;
}
