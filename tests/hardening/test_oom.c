/*
 * libbooking hardening — allocation-failure injection (SQLite's malloc
 * tests, jansson's test_chaos.c).
 *
 * Every public flow runs with allocation N failing, for N = 1, 2, ... until
 * the flow gets through without meeting the failure. Each run must return
 * (no crash, no abort), answer an error (or succeed when the failed
 * allocation was one the library may do without, such as a log line), leak
 * nothing (the allocator counts live blocks: after the flow and closing the
 * handle it is back at the baseline) and leave a store on which
 * booking_check() finds no violation. Two modes: a transient failure (only
 * allocation N fails) and a persistent one (N and every later one fail, so
 * error paths that allocate fail too).
 *
 * The store, lock and events URLs come from BOOKING_TEST_STORE_URL,
 * BOOKING_TEST_LOCK_URL and BOOKING_TEST_EVENTS_URL, the mode from
 * OOM_MODE (meson registers one test per combination). OOM_FLOW=name runs
 * one flow, OOM_VERBOSE=1 prints every run. Tokens are covered through the
 * handle-less API (sign, verify, key sets); login/register are not (each
 * run would cost an argon2id hash).
 *
 * SPDX-License-Identifier: MIT
 */
#include <booking/auth.h>
#include <booking/booking.h>
#include <booking/sys/backend.h>

#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * The counting, failing allocator
 * ------------------------------------------------------------------------ */

static atomic_long alloc_live;     /* blocks handed out and not freed */
static atomic_long alloc_count;    /* allocation attempts so far */
static atomic_long alloc_fail_at;  /* attempt number that fails first; 0: none */
static atomic_bool alloc_persist;  /* every attempt from fail_at on fails */
static atomic_long alloc_injected; /* failures injected since armed */

static bool alloc_should_fail(void)
{
	long n = atomic_fetch_add(&alloc_count, 1) + 1;
	long at = atomic_load(&alloc_fail_at);
	if (at == 0 || n < at || (n > at && !atomic_load(&alloc_persist)))
		return false;
	atomic_fetch_add(&alloc_injected, 1);
	return true;
}

static void *t_malloc(size_t size)
{
	if (alloc_should_fail())
		return NULL;
	void *p = malloc(size);
	if (p)
		atomic_fetch_add(&alloc_live, 1);
	return p;
}

static void *t_realloc(void *ptr, size_t size)
{
	if (alloc_should_fail())
		return NULL;
	void *p = realloc(ptr, size);
	if (p && !ptr)
		atomic_fetch_add(&alloc_live, 1);
	return p;
}

static void t_free(void *ptr)
{
	if (ptr) {
		atomic_fetch_sub(&alloc_live, 1);
		free(ptr);
	}
}

/* Fail allocation `n` from now on (1: the next one). */
static void alloc_arm(long n, bool persistent)
{
	atomic_store(&alloc_injected, 0);
	atomic_store(&alloc_persist, persistent);
	atomic_store(&alloc_fail_at, atomic_load(&alloc_count) + n);
}

static void alloc_disarm(void)
{
	atomic_store(&alloc_fail_at, 0);
}

/*
 * Run `call` (an expression) with the injection paused: allocations it
 * makes are not counted towards N.
 */
#define alloc_disarm_while(call)                                                                             \
	do {                                                                                                     \
		long saved_at_ = atomic_exchange(&alloc_fail_at, 0);                                                 \
		long saved_count_ = atomic_load(&alloc_count);                                                       \
		int paused_rc_ = (call);                                                                             \
		ck_assert_msg(paused_rc_ == 0, "paused step failed: %s", booking_error_last()->message);             \
		atomic_store(&alloc_count, saved_count_);                                                            \
		atomic_store(&alloc_fail_at, saved_at_);                                                             \
	} while (0)

/* ------------------------------------------------------------------------
 * A world a flow runs in: a handle with a manual clock and what was seeded.
 * ------------------------------------------------------------------------ */

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define MINUTE INT64_C(60000)
#define DAY (24 * 60 * MINUTE)

#define CARD_OK "4242424242424242"
#define CARD_DECLINED "4000000000000002"
#define CARD_LOST_REPLY "4000000000000259"

#define MAX_SEEN 256
/* longer than a consumer's default claim_idle_ms (30 s) */
#define CLAIM_IDLE (31 * INT64_C(1000))

typedef struct world {
	booking_clock *clock;
	booking_handle *bk;
	booking_store *store; /* borrowed from bk (for scan) */
	char movie_id[BOOKING_ID_SIZE], theater_id[BOOKING_ID_SIZE], screen_id[BOOKING_ID_SIZE];
	char showtime_id[BOOKING_ID_SIZE];
	char reservation_id[BOOKING_ID_SIZE];
	char payment_id[BOOKING_ID_SIZE];
	char env_file[64];
	/* what handlers saw: event ids (plain memory, never the library's) */
	char seen[MAX_SEEN][BOOKING_ID_SIZE];
	size_t seen_count;
	bool handler_fails;
} world;

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);
	return v && *v ? v : def;
}

static const char *store_url(void)
{
	return env_or("BOOKING_TEST_STORE_URL", "memory:");
}

static const char *lock_url(void)
{
	return env_or("BOOKING_TEST_LOCK_URL", "");
}

static const char *events_url(void)
{
	return env_or("BOOKING_TEST_EVENTS_URL", "store:");
}

static void quiet_log(booking_log_level level, const char *line, void *payload)
{
	(void)level;
	(void)line;
	(void)payload;
}

/* The payment key: one file per process, made before any failure is injected. */
static char paykey_dir[256], paykey_path[300];

static void paykey_remove(void)
{
	unlink(paykey_path);
	rmdir(paykey_dir);
}

static const char *paykey_file(void)
{
	if (!paykey_path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(paykey_dir, sizeof(paykey_dir), "%s/booking-oom-key.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		ck_assert_ptr_nonnull(mkdtemp(paykey_dir));
		snprintf(paykey_path, sizeof(paykey_path), "%s/payment.key", paykey_dir);
		ck_assert_int_eq(booking_payment_key_generate_file(paykey_path), 0);
		atexit(paykey_remove);
	}
	return paykey_path;
}

static void world_options(world *w, booking_options *o)
{
	booking_options_init(o, BOOKING_OPTIONS_VERSION);
	o->payment_key_file = paykey_file();
	o->clock = w->clock;
	o->lock_url = lock_url();
	o->events_url = events_url();
	/* Logging at DEBUG into a sink that drops the lines: the log path runs (and allocates) too. */
	o->log_level = BOOKING_LOG_DEBUG;
	o->log_fn = quiet_log;
	o->consumer_retry_base_ms = 1;
	o->consumer_max_deliveries = 2;
}

static booking_ctx ctx_admin(void)
{
	booking_ctx c;
	booking_ctx_init(&c, "admin-1", BOOKING_ROLE_ADMIN);
	return c;
}

static booking_ctx ctx_alice(void)
{
	booking_ctx c;
	booking_ctx_init(&c, "alice", BOOKING_ROLE_CUSTOMER);
	c.correlation_id = "oom-test";
	c.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	return c;
}

static void fail_setup(const char *what, int rc)
{
	ck_abort_msg("setup: %s failed: %s (%d): %s", what, booking_error_name(rc), rc, booking_error_last()->message);
}

#define SETUP(what, call)                                                                                    \
	do {                                                                                                     \
		int setup_rc_ = (call);                                                                              \
		if (setup_rc_ != 0)                                                                                  \
			fail_setup(what, setup_rc_);                                                                     \
	} while (0)

static void world_open(world *w)
{
	if (!w->clock)
		w->clock = booking_clock_manual_new(T0);
	ck_assert_ptr_nonnull(w->clock);
	booking_options o;
	world_options(w, &o);
	SETUP("booking_store_open", booking_store_open(&w->store, store_url(), o.clock));
	o.store = w->store;
	SETUP("booking_open", booking_open(&w->bk, &o));
}

static void world_catalog(world *w)
{
	booking_ctx admin = ctx_admin();
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;
	SETUP("movie", booking_movie_create(&m, w->bk, &admin, "Alien", 117));
	SETUP("theater", booking_theater_create(&t, w->bk, &admin, "Rex", "Bern"));
	SETUP("layout", booking_layout_parse(&seats, &n, "A-B:5,C:4:premium", sizeof *seats));
	SETUP("screen", booking_screen_create(&s, w->bk, &admin, t->id, "One", seats, n, sizeof *seats));
	booking_price prices[] = {{"standard", 1250}, {"premium", 1800}};
	SETUP("showtime", booking_showtime_create(&st, w->bk, &admin, m->id, s->id, T0 + DAY, "EUR", prices, 2, sizeof *prices));
	snprintf(w->movie_id, sizeof(w->movie_id), "%s", m->id);
	snprintf(w->theater_id, sizeof(w->theater_id), "%s", t->id);
	snprintf(w->screen_id, sizeof(w->screen_id), "%s", s->id);
	snprintf(w->showtime_id, sizeof(w->showtime_id), "%s", st->id);
	booking_free(seats);
	booking_movie_free(m);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_showtime_free(st);
}

static const char *const hold_labels[] = {"A1", "A2", "C3"};

static int do_hold(world *w, const char *const *labels, size_t n)
{
	booking_ctx alice = ctx_alice();
	booking_reservation *r = NULL;
	int rc = booking_hold(&r, w->bk, &alice, w->showtime_id, labels, n);
	if (rc == 0) {
		snprintf(w->reservation_id, sizeof(w->reservation_id), "%s", r->id);
		booking_reservation_free(r);
	}
	return rc;
}

static int do_pay(world *w, const char *key, const char *card)
{
	booking_ctx alice = ctx_alice();
	booking_payment *p = NULL;
	int rc = booking_pay(&p, w->bk, &alice, w->reservation_id, key, card);
	if (p) {
		snprintf(w->payment_id, sizeof(w->payment_id), "%s", p->id);
		booking_payment_free(p);
	}
	return rc;
}

static void world_close(world *w)
{
	booking_close(w->bk);
	w->bk = NULL;
	w->store = NULL;
	booking_clock_manual_free(w->clock);
	w->clock = NULL;
	if (w->env_file[0])
		unlink(w->env_file);
	w->env_file[0] = '\0';
}

/* ---- consumers' handlers: they record event ids in plain memory ---- */

static void seen_add(world *w, const char *id)
{
	for (size_t i = 0; i < w->seen_count; i++)
		if (strcmp(w->seen[i], id) == 0)
			return;
	if (w->seen_count < MAX_SEEN)
		snprintf(w->seen[w->seen_count++], BOOKING_ID_SIZE, "%s", id);
}

static int record_event(const booking_event *ev, void *payload)
{
	world *w = payload;
	if (w->handler_fails)
		return booking_error_set(BOOKING_EEXTERNAL, NULL, "handler refuses %s", ev->type);
	seen_add(w, ev->id);
	return 0;
}

static int record_notification(const booking_notification *n, void *payload)
{
	seen_add(payload, n->event_id);
	return 0;
}

static int consume_once(world *w, const char *group)
{
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	co.group = group;
	return booking_consume(NULL, w->bk, &co, record_event, w);
}

/* ------------------------------------------------------------------------
 * The flows. setup runs with the allocator healthy; run under injection.
 * ------------------------------------------------------------------------ */

typedef struct flow {
	const char *name;
	void (*setup)(world *w);
	int (*run)(world *w);
	/* extra checks after the run, allocator healthy (may be NULL) */
	void (*verify)(world *w, int rc);
} flow;

static void setup_none(world *w)
{
	(void)w;
}

static void setup_open(world *w)
{
	world_open(w);
}

static void setup_catalog(world *w)
{
	world_open(w);
	world_catalog(w);
}

static void setup_held(world *w)
{
	setup_catalog(w);
	SETUP("hold", do_hold(w, hold_labels, 3));
}

static void setup_paid(world *w)
{
	setup_held(w);
	SETUP("pay", do_pay(w, "key-1", CARD_OK));
}

static void setup_expired(world *w)
{
	setup_held(w);
	booking_clock_manual_advance(w->clock, 20 * MINUTE);
}

static void setup_lost_reply(world *w)
{
	setup_held(w);
	int rc = do_pay(w, "key-lost", CARD_LOST_REPLY);
	ck_assert_msg(rc < 0, "a lost reply must fail the payment, got %d", rc);
	booking_clock_manual_advance(w->clock, MINUTE);
}

/* Events of every kind in the outbox: created, confirmed, completed, cancelled, failed. */
static void setup_events(world *w)
{
	setup_paid(w);
	static const char *const two[] = {"B1", "B2"};
	SETUP("hold 2", do_hold(w, two, 2));
	int rc = do_pay(w, "key-2", CARD_DECLINED);
	ck_assert_msg(rc == BOOKING_EPAYMENT_DECLINED, "setup: decline expected, got %d", rc);
	booking_ctx alice = ctx_alice();
	SETUP("cancel", booking_reservation_cancel(NULL, w->bk, &alice, w->reservation_id));
}

static void setup_relayed(world *w)
{
	setup_events(w);
	SETUP("relay", booking_outbox_relay(NULL, w->bk, 100));
}

/* Fewer events (created, completed, confirmed): each consumed event costs ~200 runs. */
static void setup_paid_relayed(world *w)
{
	setup_paid(w);
	SETUP("relay", booking_outbox_relay(NULL, w->bk, 100));
}

static void setup_env_file(world *w)
{
	snprintf(w->env_file, sizeof(w->env_file), "/tmp/booking-oom-env-XXXXXX");
	int fd = mkstemp(w->env_file);
	ck_assert_int_ge(fd, 0);
	static const char text[] = "# comment\n"
	                           "BOOKING_STORE_URL=memory:\n"
	                           "export BOOKING_LOCK_URL=\"memory:\"\n"
	                           "BOOKING_EVENTS_URL='store:'\n"
	                           "BOOKING_EXPIRY_MINUTES=20\n"
	                           "BOOKING_GATEWAY_MAX_RETRIES=0\n"
	                           "BOOKING_DECLINE_POLICY=release\n"
	                           "BOOKING_LOG_LEVEL=warning\n"
	                           "BOOKING_SERVICE_NAME=kiosk\n"
	                           "BOOKING_EXPIRY_MINUTES=25\n";
	ck_assert_int_eq(write(fd, text, sizeof(text) - 1), (long)(sizeof(text) - 1));
	close(fd);
}

static int run_open(world *w)
{
	booking_options o;
	world_options(w, &o);
	o.store_url = store_url();
	return booking_open(&w->bk, &o);
}

static void setup_clock(world *w)
{
	w->clock = booking_clock_manual_new(T0);
	ck_assert_ptr_nonnull(w->clock);
}

static int run_catalog_create(world *w)
{
	booking_ctx admin = ctx_admin();
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;
	int rc;
	if ((rc = booking_movie_create(&m, w->bk, &admin, "Alien", 117)) < 0)
		goto out;
	if ((rc = booking_theater_create(&t, w->bk, &admin, "Rex", NULL)) < 0)
		goto out;
	if ((rc = booking_layout_parse(&seats, &n, "A-B:5,C:4:premium", sizeof *seats)) < 0)
		goto out;
	if ((rc = booking_screen_create(&s, w->bk, &admin, t->id, "One", seats, n, sizeof *seats)) < 0)
		goto out;
	booking_price prices[] = {{"standard", 1250}, {"premium", 1800}};
	rc = booking_showtime_create(&st, w->bk, &admin, m->id, s->id, T0 + DAY, "EUR", prices, 2, sizeof *prices);
out:
	booking_free(seats);
	booking_movie_free(m);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_showtime_free(st);
	return rc;
}

static int run_catalog_read(world *w)
{
	booking_ctx anon = BOOKING_CTX_INIT;
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_movie_list *ml = NULL;
	booking_theater_list *tl = NULL;
	booking_showtime_list *sl = NULL;
	booking_seat_map *map = NULL;
	int rc;
	if ((rc = booking_movie_get(&m, w->bk, &anon, w->movie_id)) < 0 ||
	    (rc = booking_theater_get(&t, w->bk, &anon, w->theater_id)) < 0 ||
	    (rc = booking_screen_get(&s, w->bk, &anon, w->screen_id)) < 0 ||
	    (rc = booking_showtime_get(&st, w->bk, &anon, w->showtime_id)) < 0 ||
	    (rc = booking_movie_list_all(&ml, w->bk, &anon)) < 0 ||
	    (rc = booking_theater_list_all(&tl, w->bk, &anon)) < 0 ||
	    (rc = booking_showtime_list_all(&sl, w->bk, &anon, w->movie_id)) < 0 ||
	    (rc = booking_seat_map_get(&map, w->bk, &anon, w->showtime_id)) < 0) {
		/* outputs of a failed call must be NULL */
	}
	booking_movie_free(m);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_showtime_free(st);
	booking_movie_list_free(ml);
	booking_theater_list_free(tl);
	booking_showtime_list_free(sl);
	booking_seat_map_free(map);
	return rc;
}

static int run_hold(world *w)
{
	return do_hold(w, hold_labels, 3);
}

/* --- the box office (boxoffice.h): each call's decisions and its apply() --- */

static int run_hold_best(world *w)
{
	booking_ctx alice = ctx_alice();
	booking_reservation *r = NULL;
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = w->showtime_id;
	q.best = 3;
	q.idempotency_key = "best-1";
	int rc = booking_hold_with(&r, w->bk, &alice, &q, sizeof q);
	booking_reservation_free(r);
	return rc;
}

static int run_extend(world *w)
{
	booking_ctx alice = ctx_alice();
	booking_reservation *r = NULL;
	int rc = booking_reservation_extend(&r, w->bk, &alice, w->reservation_id, 5);
	booking_reservation_free(r);
	return rc;
}

static int run_change(world *w)
{
	booking_ctx alice = ctx_alice();
	booking_reservation *r = NULL;
	static const char *const add[] = {"B4", "B5"}, *const rem[] = {"A1"};
	int rc = booking_reservation_change(&r, w->bk, &alice, w->reservation_id, add, 2, rem, 1);
	booking_reservation_free(r);
	return rc;
}

static int run_block(world *w)
{
	booking_ctx admin = ctx_admin();
	static const char *const seats[] = {"C1", "C2"};
	int rc = booking_seats_block(w->bk, &admin, w->showtime_id, seats, 2, "wheelchair");
	return rc == 0 ? booking_seats_unblock(w->bk, &admin, w->showtime_id, seats, 2) : rc;
}

static int run_door_list(world *w)
{
	booking_ctx admin = ctx_admin();
	booking_reservation_list *l = NULL;
	int rc = booking_reservation_list_for_showtime(&l, w->bk, &admin, w->showtime_id, 0, 10, NULL);
	booking_reservation_list_free(l);
	return rc;
}

static int run_hold_taken(world *w)
{
	/* A2 is held already: the answer is SEAT_ALREADY_BOOKED with details, or an allocation failure. */
	static const char *const labels[] = {"A2", "A3"};
	int rc = do_hold(w, labels, 2);
	return rc == BOOKING_ESEAT_ALREADY_BOOKED ? 0 : (rc == 0 ? BOOKING_EINTERNAL : rc);
}

static int run_reservation_read(world *w)
{
	booking_ctx alice = ctx_alice();
	booking_reservation *r = NULL;
	booking_reservation_list *l = NULL;
	int rc = booking_reservation_get(&r, w->bk, &alice, w->reservation_id);
	if (rc == 0)
		rc = booking_reservation_list_for_user(&l, w->bk, &alice, NULL, 0, NULL);
	booking_reservation_free(r);
	booking_reservation_list_free(l);
	return rc;
}

static int run_cancel(world *w)
{
	booking_ctx alice = ctx_alice();
	booking_reservation *r = NULL;
	int rc = booking_reservation_cancel(&r, w->bk, &alice, w->reservation_id);
	booking_reservation_free(r);
	return rc;
}

static int run_expire(world *w)
{
	size_t n = 0;
	int rc = booking_expire_due(&n, w->bk, booking_ctx_system(), 100);
	return rc;
}

static int run_pay(world *w)
{
	return do_pay(w, "key-9", CARD_OK);
}

static int run_pay_declined(world *w)
{
	int rc = do_pay(w, "key-9", CARD_DECLINED);
	return rc == BOOKING_EPAYMENT_DECLINED ? 0 : (rc == 0 ? BOOKING_EINTERNAL : rc);
}

static int run_pay_replay(world *w)
{
	return do_pay(w, "key-1", CARD_OK);
}

static int run_payment_get(world *w)
{
	booking_ctx alice = ctx_alice();
	booking_payment *p = NULL;
	int rc = booking_payment_get(&p, w->bk, &alice, w->payment_id);
	booking_payment_free(p);
	return rc;
}

static int run_refund(world *w)
{
	booking_ctx admin = ctx_admin();
	booking_payment *p = NULL;
	int rc = booking_payment_refund(&p, w->bk, &admin, w->payment_id);
	booking_payment_free(p);
	return rc;
}

static int run_recover(world *w)
{
	size_t n = 0;
	int rc = booking_payment_recover(&n, w->bk, booking_ctx_system(), 0);
	return rc;
}

static int run_relay(world *w)
{
	size_t n = 0;
	return booking_outbox_relay(&n, w->bk, 100);
}

static int run_consume(world *w)
{
	return consume_once(w, "oom-consumer");
}

static int run_consume_failing(world *w)
{
	w->handler_fails = true;
	int rc = consume_once(w, "oom-consumer");
	w->handler_fails = false;
	return rc;
}

static int run_notify(world *w)
{
	size_t sent = 0;
	return booking_notify(&sent, w->bk, record_notification, w);
}

static int run_dead_letters(world *w)
{
	booking_dead_letter_list *l = NULL;
	int rc = booking_dead_letters(&l, w->bk, NULL);
	booking_dead_letter_list_free(l);
	return rc;
}

static int run_check(world *w)
{
	booking_check_report *r = NULL;
	int rc = booking_check(&r, w->bk);
	if (rc == 0) {
		char *json = NULL;
		rc = booking_check_report_to_json(&json, r);
		booking_free(json);
	}
	booking_check_report_free(r);
	return rc;
}

static int run_describe(world *w)
{
	char *s = NULL;
	int rc = booking_describe(&s, w->bk);
	booking_free(s);
	if (rc < 0)
		return rc;
	return 0;
}

static int run_error_json(world *w)
{
	(void)w;
	booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, "{\"seats\":[\"A1\",\"A2\"]}", "seats taken");
	char *s = NULL;
	int rc = booking_error_to_json(&s, NULL);
	booking_free(s);
	if (rc < 0)
		return booking_error_oom(); /* it only returns its failure: the record is the caller's */
	return 0;
}

static int run_options_load(world *w)
{
	booking_options *o = NULL;
	int rc = booking_options_load(&o, w->env_file);
	if (rc == 0 && (o->hold_expiry_minutes != 25 || !o->lock_url || strcmp(o->lock_url, "memory:") != 0))
		rc = BOOKING_EINTERNAL;
	booking_options_free(o);
	return rc;
}

static int run_layout(world *w)
{
	(void)w;
	booking_seat *seats = NULL;
	size_t n = 0;
	int rc = booking_layout_parse(&seats, &n, "A-H:15,J:10:premium,K-M:40:box", sizeof *seats);
	if (rc == 0 && n != 8 * 15 + 10 + 3 * 40)
		rc = BOOKING_EINTERNAL;
	booking_free(seats);
	return rc;
}

static int run_clock(world *w)
{
	(void)w;
	booking_clock *c = booking_clock_manual_new(T0);
	if (!c)
		return booking_error_oom(); /* NULL is its only failure */
	booking_clock_manual_free(c);
	return 0;
}

/* Every record copy of <booking/sys/records.h>: all or nothing, nothing leaked. */
static int run_record_copy(world *w)
{
	(void)w;
	booking_seat seats[2] = {{.label = "A1", .category = "standard"}, {.label = "A2", .category = "premium"}};
	booking_price prices[1] = {{"standard", 1250}};
	booking_seat_ref refs[2] = {{.label = "A1"}, {.label = "A2"}};
	booking_seat *seat_ptrs[2] = {&seats[0], &seats[1]};
	booking_price *price_ptrs[1] = {&prices[0]};
	booking_seat_ref *ref_ptrs[2] = {&refs[0], &refs[1]};
	booking_movie m = {"m1", (char *)"The Matrix", 136, T0};
	booking_theater t = {"t1", (char *)"Le Grand Rex", (char *)"Paris", T0};
	booking_screen sc = {"s1", "t1", (char *)"Salle 1", 2, seat_ptrs, T0};
	booking_showtime sh = {"sh1", "m1", "s1", T0, "EUR", 1, price_ptrs, BOOKING_SHOWTIME_SCHEDULED, T0};
	booking_reservation r = {0};
	booking_payment p = {0};
	booking_user u = {"u1", (char *)"alice@example.com", BOOKING_ROLE_CUSTOMER, T0, T0};
	r.seat_count = 2;
	r.seats = ref_ptrs;
	booking_movie *mc = NULL;
	booking_theater *tc = NULL;
	booking_screen *scc = NULL;
	booking_showtime *shc = NULL;
	booking_reservation *rc_ = NULL;
	booking_payment *pc = NULL;
	booking_user *uc = NULL;
	int rc = booking_movie_copy(&mc, &m);
	if (rc == 0)
		rc = booking_theater_copy(&tc, &t);
	if (rc == 0)
		rc = booking_screen_copy(&scc, &sc);
	if (rc == 0)
		rc = booking_showtime_copy(&shc, &sh);
	if (rc == 0)
		rc = booking_reservation_copy(&rc_, &r);
	if (rc == 0)
		rc = booking_payment_copy(&pc, &p);
	if (rc == 0)
		rc = booking_user_copy(&uc, &u);
	if (rc < 0 && (mc && tc && scc && shc && rc_ && pc && uc))
		rc = BOOKING_EINTERNAL; /* a failed copy must hand out nothing */
	booking_movie_free(mc);
	booking_theater_free(tc);
	booking_screen_free(scc);
	booking_showtime_free(shc);
	booking_reservation_free(rc_);
	booking_payment_free(pc);
	booking_user_free(uc);
	return rc;
}

/* ---- tokens: issue and verify with a fixed test key (handle-less API) ---- */

#define TEST_PRIVATE_JWK                                                                                     \
	"{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"hWU6lCgA0Z_BD8kHLQX0y4z-fb3OemAuh_ylG5I4onc\","        \
	"\"d\":\"9g0exT5FKs4YjcG3JvXEopItEPNqjEoraAASCzGvagw\",\"kid\":\"fuzz-key-1\",\"alg\":\"EdDSA\",\"use\":\"sig\"}"
#define TEST_PUBLIC_SET                                                                                      \
	"{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"hWU6lCgA0Z_BD8kHLQX0y4z-fb3OemAuh_ylG5I4onc\"," \
	"\"kid\":\"fuzz-key-1\",\"alg\":\"EdDSA\",\"use\":\"sig\"}]}"

static int issue_token(char **token)
{
	booking_signing_key *key = NULL;
	int rc = booking_signing_key_parse(&key, TEST_PRIVATE_JWK);
	if (rc < 0)
		return rc;
	booking_jwt_claims c = BOOKING_JWT_CLAIMS_INIT;
	c.subject = "alice";
	c.issuer = "libbooking";
	c.audience = "booking-api";
	c.issued_at = T0;
	c.expires_at = T0 + DAY;
	rc = booking_jwt_sign(token, key, &c);
	booking_signing_key_free(key);
	return rc;
}

static int run_token_issue(world *w)
{
	(void)w;
	char *token = NULL;
	int rc = issue_token(&token);
	booking_free(token);
	return rc;
}

static int run_token_verify(world *w)
{
	(void)w;
	char *token = NULL;
	alloc_disarm_while(issue_token(&token));
	booking_jwk_set *keys = NULL;
	int rc = booking_jwk_set_parse(&keys, TEST_PUBLIC_SET);
	if (rc == 0) {
		booking_jwt_verify_options o = BOOKING_JWT_VERIFY_OPTIONS_INIT;
		o.issuer = "libbooking";
		o.audience = "booking-api";
		o.now = T0 + MINUTE;
		booking_token *t = NULL;
		rc = booking_jwt_verify(&t, keys, token, &o);
		if (rc == 0 && strcmp(t->subject, "alice") != 0)
			rc = BOOKING_EINTERNAL;
		booking_token_free(t);
	}
	booking_jwk_set_free(keys);
	booking_free(token);
	return rc;
}

static int run_jwk_generate(world *w)
{
	(void)w;
	char *priv = NULL, *pub = NULL;
	int rc = booking_jwk_generate(&priv, &pub, NULL);
	booking_free(priv);
	booking_free(pub);
	return rc;
}

/* ---- verifications after the run (allocator healthy) ---- */

/* Dead letters of every group; the reason of the first goes to `reason` (may be NULL). */
static size_t count_dead_letters_why(world *w, char *reason, size_t reason_size)
{
	booking_dead_letter_list *l = NULL;
	int rc = booking_dead_letters(&l, w->bk, NULL);
	ck_assert_msg(rc == 0, "dead_letters: %s", booking_error_last()->message);
	size_t n = l->count;
	if (reason)
		snprintf(reason, reason_size, "%s (%s)", n ? l->items[0]->reason : "", n ? l->items[0]->group : "");
	booking_dead_letter_list_free(l);
	return n;
}

static size_t count_dead_letters(world *w)
{
	return count_dead_letters_why(w, NULL, 0);
}

static void assert_no_dead_letter(world *w)
{
	char why[512];
	size_t n = count_dead_letters_why(w, why, sizeof(why));
	ck_assert_msg(n == 0, "an allocation failure dead-lettered %zu good event(s): %s", n, why);
}

static int count_event(const booking_event_record *e, void *payload)
{
	(void)e;
	(*(size_t *)payload)++;
	return 0;
}

static size_t outbox_events(world *w)
{
	size_t n = 0;
	booking_store_scan_cbs cbs = {0};
	cbs.event = count_event;
	int rc = w->store->scan(w->store, &cbs, &n);
	ck_assert_msg(rc == 0, "scan: %s", booking_error_last()->message);
	return n;
}

/*
 * Whatever an allocation failure did to a relay or a poll, a healthy relay
 * and poll afterwards deliver every event, and no good event was
 * dead-lettered because memory ran out.
 */
static void verify_delivery(world *w, int rc)
{
	(void)rc;
	assert_no_dead_letter(w);
	ck_assert_int_eq(booking_outbox_relay(NULL, w->bk, 100), 0);
	for (int i = 0; i < 3; i++) {
		/* deliveries a failed poll left pending are claimed again once idle long enough */
		booking_clock_manual_advance(w->clock, CLAIM_IDLE);
		ck_assert_msg(consume_once(w, "oom-consumer") == 0, "consume: %s", booking_error_last()->message);
	}
	size_t events = outbox_events(w);
	ck_assert_msg(w->seen_count == events, "the consumer saw %zu of %zu events", w->seen_count, events);
	assert_no_dead_letter(w);
}

/* Dead-lettering under failure: afterwards each event is dead-lettered or still pending, once. */
static void verify_dead_letters(world *w, int rc)
{
	(void)rc;
	for (int i = 0; i < 3; i++) {
		booking_clock_manual_advance(w->clock, CLAIM_IDLE);
		ck_assert_msg(run_consume_failing(w) == 0, "consume: %s", booking_error_last()->message);
	}
	ck_assert_uint_eq(count_dead_letters(w), outbox_events(w));
}

static void verify_notify(world *w, int rc)
{
	(void)rc;
	assert_no_dead_letter(w);
	for (int i = 0; i < 3; i++) {
		booking_clock_manual_advance(w->clock, CLAIM_IDLE);
		ck_assert_msg(booking_notify(NULL, w->bk, record_notification, w) == 0, "notify: %s",
		              booking_error_last()->message);
	}
	/* confirmed, payment failed, cancelled: three notifications, each once */
	ck_assert_uint_eq(w->seen_count, 3);
}

/* A reservation's state after a failed payment is one a user can go on from. */
static void verify_pay(world *w, int rc)
{
	booking_ctx admin = ctx_admin();
	booking_reservation *r = NULL;
	ck_assert_int_eq(booking_reservation_get(&r, w->bk, &admin, w->reservation_id), 0);
	booking_reservation_status st = r->status;
	booking_reservation_free(r);
	if (rc == 0)
		ck_assert_msg(st == BOOKING_RESERVATION_CONFIRMED || st == BOOKING_RESERVATION_PENDING, "status %s after success",
		              booking_reservation_status_name(st));
}

static const flow flows[] = {
	{"open", setup_clock, run_open, NULL},
	{"clock", setup_none, run_clock, NULL},
	{"layout_parse", setup_none, run_layout, NULL},
	{"record_copy", setup_none, run_record_copy, NULL},
	{"options_load", setup_env_file, run_options_load, NULL},
	{"error_to_json", setup_none, run_error_json, NULL},
	{"describe", setup_open, run_describe, NULL},
	{"catalog_create", setup_open, run_catalog_create, NULL},
	{"catalog_read", setup_catalog, run_catalog_read, NULL},
	{"hold", setup_catalog, run_hold, NULL},
	{"hold_taken", setup_held, run_hold_taken, NULL},
	{"hold_best", setup_catalog, run_hold_best, NULL},
	{"extend", setup_held, run_extend, NULL},
	{"change", setup_held, run_change, NULL},
	{"block", setup_catalog, run_block, NULL},
	{"door_list", setup_held, run_door_list, NULL},
	{"reservation_read", setup_held, run_reservation_read, NULL},
	{"cancel", setup_held, run_cancel, NULL},
	{"expire", setup_expired, run_expire, NULL},
	{"pay", setup_held, run_pay, verify_pay},
	{"pay_declined", setup_held, run_pay_declined, verify_pay},
	{"pay_replay", setup_paid, run_pay_replay, NULL},
	{"payment_get", setup_paid, run_payment_get, NULL},
	{"refund", setup_paid, run_refund, NULL},
	{"recover", setup_lost_reply, run_recover, NULL},
	{"relay", setup_events, run_relay, verify_delivery},
	{"consume", setup_paid_relayed, run_consume, verify_delivery},
	{"consume_dead_letter", setup_paid_relayed, run_consume_failing, verify_dead_letters},
	{"notify", setup_relayed, run_notify, verify_notify},
	{"dead_letters", setup_relayed, run_dead_letters, NULL},
	{"check", setup_events, run_check, NULL},
	{"token_issue", setup_none, run_token_issue, NULL},
	{"token_verify", setup_none, run_token_verify, NULL},
	{"jwk_generate", setup_none, run_jwk_generate, NULL},
};

#define N_FLOWS (sizeof(flows) / sizeof(flows[0]))

/*
 * Every event in the outbox is whole: a reservation event names each seat of
 * its reservation, events that explain themselves carry their reason. (An
 * allocation failure while building event data used to commit the event
 * with a seat or the reason missing.)
 */
/* Events copied out of a scan (a store need not take calls from inside its scan callbacks). */
typedef struct audited_event {
	char id[BOOKING_ID_SIZE], type[64], aggregate_type[64], aggregate_id[BOOKING_ID_SIZE];
	char *data_json;
	bool has_correlation_id;
} audited_event;

typedef struct event_audit {
	audited_event *items;
	size_t count, cap;
} event_audit;

static bool has_text(const char *json, const char *needle)
{
	return json && strstr(json, needle) != NULL;
}

static int collect_event(const booking_event_record *e, void *payload)
{
	event_audit *a = payload;
	if (a->count == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->items = realloc(a->items, a->cap * sizeof(*a->items));
		ck_assert_ptr_nonnull(a->items);
	}
	audited_event *x = &a->items[a->count++];
	snprintf(x->id, sizeof(x->id), "%s", e->id);
	snprintf(x->type, sizeof(x->type), "%s", e->type);
	snprintf(x->aggregate_type, sizeof(x->aggregate_type), "%s", e->aggregate_type);
	snprintf(x->aggregate_id, sizeof(x->aggregate_id), "%s", e->aggregate_id);
	x->data_json = e->data_json ? strdup(e->data_json) : NULL;
	x->has_correlation_id = e->correlation_id && e->correlation_id[0];
	return 0;
}

/* The seats an event names are its reservation's seats as of that event: current unless a later change moved them. */
static bool seats_changed_later(const event_audit *a, size_t i)
{
	for (size_t k = 0; k < a->count; k++)
		if (k != i && strcmp(a->items[k].type, "reservation.changed") == 0 &&
		    strcmp(a->items[k].aggregate_id, a->items[i].aggregate_id) == 0 &&
		    (strcmp(a->items[i].type, "reservation.changed") != 0 || k > i))
			return true;
	return false;
}

static void audit_event(world *w, const audited_event *e, bool seats_current)
{
	ck_assert_msg(e->data_json && e->data_json[0] == '{', "event %s %s: data %s", e->id, e->type,
	              e->data_json ? e->data_json : "NULL");
	ck_assert_msg(e->has_correlation_id, "event %s: no correlation id", e->id);
	ck_assert_msg(has_text(e->data_json, "\"status\":"), "event %s %s: no status in %s", e->id, e->type,
	              e->data_json);
	bool needs_reason = strcmp(e->type, "reservation.cancelled") == 0 || strcmp(e->type, "reservation.expired") == 0 ||
	                    strcmp(e->type, "payment.failed") == 0 || strcmp(e->type, "payment.refunded") == 0;
	if (needs_reason)
		ck_assert_msg(has_text(e->data_json, "\"reason\":"), "event %s %s: no reason in %s", e->id, e->type,
		              e->data_json);
	if (strcmp(e->aggregate_type, "reservation") == 0 && seats_current) {
		booking_ctx admin = ctx_admin();
		booking_reservation *r = NULL;
		int rc = booking_reservation_get(&r, w->bk, &admin, e->aggregate_id);
		ck_assert_msg(rc == 0, "event %s: its reservation: %s", e->id, booking_error_last()->message);
		for (size_t i = 0; i < r->seat_count; i++) {
			char quoted[BOOKING_LABEL_SIZE + 2];
			snprintf(quoted, sizeof(quoted), "\"%s\"", r->seats[i]->label);
			ck_assert_msg(has_text(e->data_json, quoted), "event %s %s: seat %s missing from %s", e->id, e->type,
			              r->seats[i]->label, e->data_json);
		}
		booking_reservation_free(r);
	}
}

/*
 * Every event in the outbox is whole: a reservation event names each seat of
 * its reservation, events that explain themselves carry their reason. (An
 * allocation failure while building event data used to commit the event
 * with a seat or the reason missing.)
 */
static void audit_events(world *w)
{
	if (!w->store)
		return;
	event_audit a = {NULL, 0, 0};
	booking_store_scan_cbs cbs = {0};
	cbs.event = collect_event;
	ck_assert_int_eq(w->store->scan(w->store, &cbs, &a), 0);
	for (size_t i = 0; i < a.count; i++)
		audit_event(w, &a.items[i], !seats_changed_later(&a, i));
	for (size_t i = 0; i < a.count; i++)
		free(a.items[i].data_json);
	free(a.items);
}

/* After a run: the store answers booking_check() with no violation. */
static void check_store(world *w, const char *flow_name, long n)
{
	if (!w->bk)
		return;
	/* A payment interrupted by the failure is resolved the documented way first. */
	int rc = booking_payment_recover(NULL, w->bk, booking_ctx_system(), 0);
	ck_assert_msg(rc == 0, "%s N=%ld: recover after the run: %s", flow_name, n, booking_error_last()->message);
	booking_check_report *r = NULL;
	rc = booking_check(&r, w->bk);
	ck_assert_msg(rc == 0, "%s N=%ld: booking_check: %s", flow_name, n, booking_error_last()->message);
	if (r->count) {
		for (size_t i = 0; i < r->count; i++)
			fprintf(stderr, "  invariant %d: %s %s\n", (int)r->items[i]->invariant, r->items[i]->entity_id,
			        r->items[i]->message);
	}
	size_t count = r->count;
	booking_check_report_free(r);
	ck_assert_msg(count == 0, "%s N=%ld: booking_check found %zu violation(s)", flow_name, n, count);
}

typedef struct tally {
	long runs, errors, enomem, survived;
	long other_code;
} tally;

static double seconds_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void run_flow(const flow *f, bool persistent)
{
	tally t = {0};
	double started = seconds_now();
	/* OOM_FLOW=name runs one flow only; OOM_VERBOSE=1 prints every run. */
	const char *only = getenv("OOM_FLOW");
	bool verbose = getenv("OOM_VERBOSE") != NULL;
	if (only && *only && strcmp(only, f->name) != 0)
		return;
	for (long n = 1;; n++) {
		ck_assert_msg(n < 200000, "%s: the flow never completes", f->name);
		world *w = calloc(1, sizeof(*w));
		ck_assert_ptr_nonnull(w);
		long base = atomic_load(&alloc_live);
		f->setup(w);
		booking_error_clear();
		alloc_arm(n, persistent);
		int rc = f->run(w);
		alloc_disarm();
		long injected = atomic_load(&alloc_injected);
		if (verbose)
			printf("%s N=%ld: %s (%s)\n", f->name, n, booking_error_name(rc), booking_error_last()->message);
		if (rc < 0) {
			ck_assert_msg(strcmp(booking_error_name(rc), "UNKNOWN_ERROR") != 0, "%s N=%ld: unknown code %d",
			              f->name, n, rc);
			/* INTERNAL_ERROR is a bug; the flows also answer it for a damaged result */
			ck_assert_msg(rc != BOOKING_EINTERNAL, "%s N=%ld: INTERNAL_ERROR: %s", f->name, n,
			              booking_error_last()->message);
		}
		if (injected > 0 && rc == BOOKING_ENOMEM)
			ck_assert_msg(booking_error_last()->code == BOOKING_ENOMEM,
			              "%s N=%ld: returned OUT_OF_MEMORY but the last error is %s", f->name, n,
			              booking_error_last()->name);
		if (f->verify && w->bk)
			f->verify(w, rc);
		check_store(w, f->name, n);
		audit_events(w);
		world_close(w);
		free(w);
		long live = atomic_load(&alloc_live);
		ck_assert_msg(live == base, "%s N=%ld (%s): %ld block(s) leaked (rc %s)", f->name, n,
		              persistent ? "persistent" : "transient", live - base, booking_error_name(rc));
		if (injected == 0) {
			ck_assert_msg(rc == 0, "%s: fails without any injected failure: %s: %s", f->name,
			              booking_error_name(rc), booking_error_last()->message);
			break;
		}
		t.runs++;
		if (rc == 0) {
			t.survived++;
		} else {
			t.errors++;
			if (rc == BOOKING_ENOMEM)
				t.enomem++;
			else
				t.other_code++;
		}
	}
	printf("oom %-20s %-10s store=%s locks=%s events=%s: %ld runs, %ld errors (%ld OUT_OF_MEMORY, %ld other), "
	       "%ld completed despite the failure (%.1f s)\n",
	       f->name, persistent ? "persistent" : "transient", store_url(), lock_url()[0] ? lock_url() : "none",
	       events_url(), t.runs, t.errors, t.enomem, t.other_code, t.survived, seconds_now() - started);
	fflush(stdout);
	ck_assert_msg(t.runs > 0, "%s: no allocation at all?", f->name);
}

START_TEST(transient_failure_of_each_allocation)
{
	run_flow(&flows[_i], false);
}
END_TEST

START_TEST(persistent_failure_from_each_allocation)
{
	run_flow(&flows[_i], true);
}
END_TEST

int main(void)
{
	/* Before any other libbooking call: every block the library ever holds is counted. */
	booking_set_allocator(t_malloc, t_realloc, t_free);

	Suite *s = suite_create("oom");
	TCase *tc = tcase_create("flows");
	tcase_set_timeout(tc, 600);
	/* OOM_MODE=transient or persistent runs one mode (meson runs the two in parallel). */
	const char *mode = getenv("OOM_MODE");
	if (!mode || strcmp(mode, "persistent") != 0)
		tcase_add_loop_test(tc, transient_failure_of_each_allocation, 0, (int)N_FLOWS);
	if (!mode || strcmp(mode, "transient") != 0)
		tcase_add_loop_test(tc, persistent_failure_from_each_allocation, 0, (int)N_FLOWS);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
