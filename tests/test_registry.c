/*
 * Unit tests: open registration of backends (sys/registry.h) — a custom
 * scheme registered at run time opens through booking_open() and the
 * *_open() calls and is accepted in BOOKING_*_URL; bad defs and duplicate
 * schemes are refused; unknown schemes answer as they always did.
 *
 * Each test registers its own schemes and unregisters them, so the tests
 * also pass in one process (CK_FORK=no).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdatomic.h>
#include <stdlib.h>

/* What a constructor saw, through the def's payload. */
typedef struct seen {
	atomic_int calls;
	char url[128];
	const booking_clock *clock;
} seen;

/* A store of scheme "x" that is the memory store, counting its openings. */
static int forwarding_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	seen *s = payload;
	atomic_fetch_add(&s->calls, 1);
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->clock = clock;
	return booking_store_open(out, "memory:", clock);
}

static int forwarding_locks(booking_lock_manager **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)url;
	atomic_fetch_add(&((seen *)payload)->calls, 1);
	return booking_lock_manager_open(out, "memory:", clock);
}

static int forwarding_events(booking_event_publisher **out, const char *url, const booking_clock *clock,
                             void *payload)
{
	(void)url;
	atomic_fetch_add(&((seen *)payload)->calls, 1);
	return booking_event_publisher_open(out, "memory:", clock);
}

static int forwarding_gateway(booking_payment_gateway **out, const char *url, void *payload)
{
	(void)url;
	atomic_fetch_add(&((seen *)payload)->calls, 1);
	return booking_payment_gateway_open(out, "simulated:");
}

static booking_backend_def store_def(const char *scheme, seen *s)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = scheme;
	def.store = forwarding_store;
	def.payload = s;
	return def;
}

static void setup(void)
{
	unsetenv("BOOKING_STORE_URL");
	unsetenv("BOOKING_ENV_FILE");
}

static const char *detail_field(void)
{
	const char *d = booking_error_last()->details_json;
	return d ? d : "";
}

START_TEST(registered_store_scheme_opens_through_booking_open)
{
	seen s = {0};
	booking_backend_def def = store_def("teststore", &s);
	ck_assert_ok(booking_backend_register(&def));

	booking_clock *clock = booking_clock_manual_new(FX_T0);
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "teststore://somewhere/db?x=1";
	o.clock = clock;
	booking_handle *bk = NULL;
	ck_assert_ok(booking_open(&bk, &o));
	ck_assert_int_eq(atomic_load(&s.calls), 1);
	ck_assert_str_eq(s.url, "teststore://somewhere/db?x=1"); /* the whole URL, scheme included */
	ck_assert_ptr_eq(s.clock, clock);                          /* the handle's clock */

	/* the handle works on it: a catalog write and read */
	booking_ctx admin = fx_admin();
	booking_movie *m = NULL;
	ck_assert_ok(booking_movie_create(&m, bk, &admin, "Registered", 90));
	ck_assert_str_eq(m->title, "Registered");
	booking_movie_free(m);
	booking_close(bk);

	booking_clock_manual_free(clock);

	/* booking_store_open hands on the clock it is given, NULL too */
	booking_store *st = NULL;
	s.clock = booking_clock_system();
	ck_assert_ok(booking_store_open(&st, "teststore:", NULL));
	ck_assert_ptr_null(s.clock);
	st->free(st);

	ck_assert_ok(booking_backend_unregister("teststore"));
	ck_assert_code(booking_store_open(&st, "teststore:", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(registered_scheme_is_accepted_in_booking_store_url)
{
	booking_options *o = NULL;
	setenv("BOOKING_STORE_URL", "envstore:", 1);
	ck_assert_code(booking_options_from_env(&o), "VALIDATION_ERROR");
	ck_assert_ptr_null(o);

	seen s = {0};
	booking_backend_def def = store_def("envstore", &s);
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_ok(booking_options_from_env(&o));
	ck_assert_str_eq(o->store_url, "envstore:");
	booking_handle *bk = NULL;
	ck_assert_ok(booking_open(&bk, o));
	ck_assert_int_eq(atomic_load(&s.calls), 1);
	booking_close(bk);
	booking_options_free(o);

	/* the refusal lists what is registered, the new scheme included */
	setenv("BOOKING_STORE_URL", "ftp://example.com/db", 1);
	o = NULL;
	ck_assert_code(booking_options_from_env(&o), "VALIDATION_ERROR");
	ck_assert_msg(strstr(booking_error_last()->message, "envstore:") != NULL, "%s", booking_error_last()->message);
	ck_assert_msg(strstr(booking_error_last()->message, "memory:") != NULL, "%s", booking_error_last()->message);

	ck_assert_ok(booking_backend_unregister("envstore"));
	setenv("BOOKING_STORE_URL", "envstore:", 1);
	ck_assert_code(booking_options_from_env(&o), "VALIDATION_ERROR");
}
END_TEST

/* A memory: lock manager of version 3 with settle taken away (payload non-NULL) or with both members. */
static int half_marks_locks(booking_lock_manager **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)url;
	int rc = booking_lock_manager_open(out, "memory:", clock);
	if (rc == 0 && payload)
		(*out)->settle = NULL;
	return rc;
}

START_TEST(a_lock_manager_has_acquire_all_why_and_settle_both_or_neither)
{
	static int drop = 1;
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	booking_lock_manager *lm = NULL;

	def.scheme = "halfmarks";
	def.lock_manager = half_marks_locks;
	def.payload = &drop;
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_code(booking_lock_manager_open(&lm, "halfmarks:", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(lm);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "both or neither"));
	ck_assert_ok(booking_backend_unregister("halfmarks"));
	def.payload = NULL;
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_ok(booking_lock_manager_open(&lm, "halfmarks:", NULL));
	ck_assert_uint_eq(lm->version, 3);
	lm->free(lm);
	ck_assert_ok(booking_backend_unregister("halfmarks"));
}
END_TEST

START_TEST(every_kind_opens_through_a_registered_scheme)
{
	seen s = {0};
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = "fwd";
	def.store = forwarding_store;
	def.lock_manager = forwarding_locks;
	def.event_publisher = forwarding_events;
	def.payment_gateway = forwarding_gateway;
	def.payload = &s;
	ck_assert_ok(booking_backend_register(&def));

	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "fwd:";
	o.lock_url = "fwd:";
	o.events_url = "fwd:";
	o.gateway_url = "fwd:";
	booking_handle *bk = NULL;
	ck_assert_ok(booking_open(&bk, &o));
	ck_assert_int_eq(atomic_load(&s.calls), 4);
	booking_close(bk);
	ck_assert_ok(booking_backend_unregister("fwd"));
}
END_TEST

START_TEST(a_scheme_registered_twice_for_a_kind_is_refused)
{
	seen s = {0};
	booking_backend_def def = store_def("dup", &s);
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_code(booking_backend_register(&def), "ALREADY_EXISTS");

	/* the built-ins hold their schemes */
	def.scheme = "memory";
	ck_assert_code(booking_backend_register(&def), "ALREADY_EXISTS");
	def.scheme = "postgres";
	ck_assert_code(booking_backend_register(&def), "ALREADY_EXISTS");

	/* "store:" events are the core's */
	booking_backend_def events = BOOKING_BACKEND_DEF_INIT;
	events.scheme = "store";
	events.event_publisher = forwarding_events;
	events.payload = &s;
	ck_assert_code(booking_backend_register(&events), "ALREADY_EXISTS");

	/* another kind under a taken scheme is fine; a def with one taken kind registers nothing */
	booking_backend_def gw = BOOKING_BACKEND_DEF_INIT;
	gw.scheme = "dup";
	gw.payment_gateway = forwarding_gateway;
	gw.store = forwarding_store;
	gw.payload = &s;
	ck_assert_code(booking_backend_register(&gw), "ALREADY_EXISTS");
	booking_payment_gateway *g = NULL;
	ck_assert_code(booking_payment_gateway_open(&g, "dup:"), "VALIDATION_ERROR");
	gw.store = NULL;
	ck_assert_ok(booking_backend_register(&gw));
	ck_assert_ok(booking_payment_gateway_open(&g, "dup:"));
	g->free(g);

	/* unregistering a scheme removes all its kinds */
	ck_assert_ok(booking_backend_unregister("dup"));
	ck_assert_code(booking_payment_gateway_open(&g, "dup:"), "VALIDATION_ERROR");
	ck_assert_code(booking_backend_unregister("dup"), "NOT_FOUND");
	ck_assert_code(booking_backend_unregister(NULL), "VALIDATION_ERROR");
}
END_TEST

START_TEST(an_invalid_def_is_refused)
{
	seen s = {0};
	booking_backend_def def;

	ck_assert_code(booking_backend_register(NULL), "VALIDATION_ERROR");

	def = store_def("bad", &s);
	def.version = 0;
	ck_assert_code(booking_backend_register(&def), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(detail_field(), "version"));
	def.version = BOOKING_BACKEND_DEF_VERSION + 1;
	ck_assert_code(booking_backend_register(&def), "VALIDATION_ERROR");
	/* a version 1 def's store constructor took booking_options: it would be called wrongly */
	def.version = 1;
	ck_assert_code(booking_backend_register(&def), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(detail_field(), "version"));
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "rebuild"));

	static const char *const bad_schemes[] = {
		"", "Upper", "1abc", "with:colon", "memory:", "sp ace", "_x",
		"abcdefghijklmnopqrstuvwxyz012345", /* 32 bytes, one too many */
	};
	def = store_def(NULL, &s);
	ck_assert_code(booking_backend_register(&def), "VALIDATION_ERROR");
	for (size_t i = 0; i < sizeof(bad_schemes) / sizeof(bad_schemes[0]); i++) {
		def.scheme = bad_schemes[i];
		ck_assert_code(booking_backend_register(&def), "VALIDATION_ERROR");
		ck_assert_msg(strstr(detail_field(), "scheme") != NULL, "\"%s\": %s", bad_schemes[i], detail_field());
	}
	def.scheme = "abcdefghijklmnopqrstuvwxyz01234"; /* 31 bytes: the longest */
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_ok(booking_backend_unregister(def.scheme));

	/* a version 1 def without a store: its constructors are those of today */
	booking_backend_def v1 = BOOKING_BACKEND_DEF_INIT;
	v1.version = 1;
	v1.scheme = "v1locks";
	v1.lock_manager = forwarding_locks;
	v1.payload = &s;
	ck_assert_ok(booking_backend_register(&v1));
	booking_lock_manager *lm = NULL;
	ck_assert_ok(booking_lock_manager_open(&lm, "v1locks:", NULL));
	lm->free(lm);
	ck_assert_ok(booking_backend_unregister("v1locks"));

	booking_backend_def empty = BOOKING_BACKEND_DEF_INIT;
	empty.scheme = "empty";
	ck_assert_code(booking_backend_register(&empty), "VALIDATION_ERROR");

	/* none of them was registered */
	booking_store *st = NULL;
	ck_assert_code(booking_store_open(&st, "bad:", NULL), "VALIDATION_ERROR");
	ck_assert_code(booking_backend_unregister("empty"), "NOT_FOUND");
}
END_TEST

START_TEST(unknown_scheme_errors_are_unchanged)
{
	booking_store *st = (booking_store *)&st;
	ck_assert_code(booking_store_open(&st, "ftp://nowhere", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(st);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "store_url: unknown scheme ("));
	ck_assert_ptr_nonnull(strstr(detail_field(), "store_url"));
	ck_assert_code(booking_store_open(&st, "memory", NULL), "VALIDATION_ERROR"); /* no colon at all */
	ck_assert_code(booking_store_open(&st, "MEMORY:", NULL), "VALIDATION_ERROR"); /* exact, as before */
	ck_assert_code(booking_store_open(&st, "sqlitex::memory:", NULL), "VALIDATION_ERROR");
	ck_assert_code(booking_store_open(&st, "redis://localhost", NULL), "VALIDATION_ERROR"); /* not a store */
	ck_assert_code(booking_store_open(&st, "memory:x", NULL), "VALIDATION_ERROR"); /* memory: is bare */
	ck_assert_ptr_nonnull(strstr(detail_field(), "store_url"));

	booking_lock_manager *lm = NULL;
	ck_assert_code(booking_lock_manager_open(&lm, "zookeeper://x", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(detail_field(), "lock_url"));
	booking_event_publisher *p = NULL;
	ck_assert_code(booking_event_publisher_open(&p, "kafka://x", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "events_url: unknown scheme (store:, memory:"));
	booking_payment_gateway *g = NULL;
	ck_assert_code(booking_payment_gateway_open(&g, "stripe://x"), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(detail_field(), "gateway_url"));
	ck_assert_code(booking_payment_gateway_open(&g, "simulated:x"), "VALIDATION_ERROR");

	/* and the built-ins still open */
	ck_assert_ok(booking_store_open(&st, "memory:", NULL));
	st->free(st);
	ck_assert_ok(booking_payment_gateway_open(&g, "simulated:"));
	g->free(g);
}
END_TEST

/* A constructor that makes a store the core must refuse (version 0). */
static atomic_int bad_store_freed;
static void bad_store_free(booking_store *st)
{
	atomic_fetch_add(&bad_store_freed, 1);
	free(st);
}
static int bad_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)url, (void)clock, (void)payload;
	booking_store *st = calloc(1, sizeof(*st));
	if (!st)
		return booking_error_set(BOOKING_ENOMEM, NULL, "calloc");
	st->free = bad_store_free; /* version 0 */
	*out = st;
	return 0;
}
static int no_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)out, (void)url, (void)clock, (void)payload;
	return 0; /* success, and nothing made */
}

START_TEST(what_a_constructor_makes_is_validated)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = "badstore";
	def.store = bad_store;
	ck_assert_ok(booking_backend_register(&def));
	booking_store *st = NULL;
	ck_assert_code(booking_store_open(&st, "badstore:", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(st);
	ck_assert_int_eq(atomic_load(&bad_store_freed), 1);

	def.scheme = "nostore";
	def.store = no_store;
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_code(booking_store_open(&st, "nostore:", NULL), "INTERNAL_ERROR");
	ck_assert_ptr_null(st);

	ck_assert_ok(booking_backend_unregister("badstore"));
	ck_assert_ok(booking_backend_unregister("nostore"));
}
END_TEST

/* A gateway that declares version 1: built before charge() and lookup() took their result first. */
static int old_gateway(booking_payment_gateway **out, const char *url, void *payload)
{
	(void)url, (void)payload;
	int rc = booking_payment_gateway_open(out, "simulated:");
	if (rc == 0)
		(*out)->version = 1;
	return rc;
}

START_TEST(a_gateway_of_the_old_parameter_order_is_refused)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = "oldgw";
	def.payment_gateway = old_gateway;
	ck_assert_ok(booking_backend_register(&def));
	booking_payment_gateway *g = NULL;
	ck_assert_code(booking_payment_gateway_open(&g, "oldgw:"), "VALIDATION_ERROR");
	ck_assert_ptr_null(g);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "predates the parameter order of version 2"));
	ck_assert_ok(booking_backend_unregister("oldgw"));
}
END_TEST

/* Threads racing to register one scheme: exactly one wins. */
#define RACERS 8
static seen race_seen;
static atomic_int race_wins, race_dups;
static void *race(void *arg)
{
	(void)arg;
	booking_backend_def def = store_def("race", &race_seen);
	int rc = booking_backend_register(&def);
	if (rc == 0)
		atomic_fetch_add(&race_wins, 1);
	else if (rc == BOOKING_EEXISTS)
		atomic_fetch_add(&race_dups, 1);
	return NULL;
}

START_TEST(concurrent_registrations_of_one_scheme_let_exactly_one_win)
{
	pthread_t t[RACERS];
	for (int i = 0; i < RACERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, race, NULL), 0);
	for (int i = 0; i < RACERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&race_wins), 1);
	ck_assert_int_eq(atomic_load(&race_dups), RACERS - 1);
	ck_assert_ok(booking_backend_unregister("race"));
}
END_TEST

/* Registration allocates nothing, so it may come before booking_set_allocator(). */
static atomic_int allocations;
static void *counting_malloc(size_t n)
{
	atomic_fetch_add(&allocations, 1);
	return malloc(n);
}
static void *counting_realloc(void *p, size_t n)
{
	atomic_fetch_add(&allocations, 1);
	return realloc(p, n);
}

START_TEST(registration_allocates_nothing)
{
	booking_set_allocator(counting_malloc, counting_realloc, free);
	seen s = {0};
	booking_backend_def def = store_def("noalloc", &s);
	ck_assert_ok(booking_backend_register(&def));
	ck_assert_ok(booking_backend_unregister("noalloc"));
	ck_assert_int_eq(atomic_load(&allocations), 0);
	booking_set_allocator(NULL, NULL, NULL);
}
END_TEST

/* The URLs the constructors of taken-over built-in schemes were handed. */
typedef struct urls_seen {
	char store[128], locks[128], events[128];
} urls_seen;

static int recording_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	snprintf(((urls_seen *)payload)->store, sizeof(((urls_seen *)payload)->store), "%s", url);
	return booking_store_open(out, "memory:", clock);
}

static int recording_locks(booking_lock_manager **out, const char *url, const booking_clock *clock, void *payload)
{
	snprintf(((urls_seen *)payload)->locks, sizeof(((urls_seen *)payload)->locks), "%s", url);
	return booking_lock_manager_open(out, "memory:", clock);
}

static int recording_events(booking_event_publisher **out, const char *url, const booking_clock *clock,
                            void *payload)
{
	snprintf(((urls_seen *)payload)->events, sizeof(((urls_seen *)payload)->events), "%s", url);
	return booking_event_publisher_open(out, "memory:", clock);
}

/*
 * The core builds no backend URL: each reaches its constructor as the host
 * wrote it, settings and all (it used to add timeouts to redis: and
 * postgresql: URLs). The built-in schemes are taken over by recorders for
 * this (last) test; Check runs each test in a process of its own.
 */
START_TEST(the_core_hands_every_url_on_as_given)
{
	urls_seen u;
	ck_assert_ok(booking_backend_unregister("redis"));
	ck_assert_ok(booking_backend_unregister("postgresql"));
	booking_backend_def redis = BOOKING_BACKEND_DEF_INIT;
	redis.scheme = "redis";
	redis.lock_manager = recording_locks;
	redis.event_publisher = recording_events;
	redis.payload = &u;
	ck_assert_ok(booking_backend_register(&redis));
	booking_backend_def pg = BOOKING_BACKEND_DEF_INIT;
	pg.scheme = "postgresql";
	pg.store = recording_store;
	pg.payload = &u;
	ck_assert_ok(booking_backend_register(&pg));

	for (unsigned int version = 3; version <= BOOKING_OPTIONS_VERSION; version++) {
		booking_options o;
		booking_options_init(&o, BOOKING_OPTIONS_VERSION);
		o.version = version;
		o.store_url = "postgresql://db.example/booking";
		o.lock_url = "redis://locks.example:6379/0";
		o.events_url = "redis://events.example:6379/1?stream=s";
		o.log_level = BOOKING_LOG_CRITICAL;
		memset(&u, 0, sizeof(u));
		booking_handle *bk = NULL;
		ck_assert_ok(booking_open(&bk, &o));
		ck_assert_str_eq(u.store, "postgresql://db.example/booking");
		ck_assert_str_eq(u.locks, "redis://locks.example:6379/0");
		ck_assert_str_eq(u.events, "redis://events.example:6379/1?stream=s");
		booking_close(bk);
	}
	ck_assert_ok(booking_backend_unregister("redis"));
	ck_assert_ok(booking_backend_unregister("postgresql"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("registry");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, NULL);
	/* first, so that in one process (CK_FORK=no) it also covers the built-ins' registration */
	tcase_add_test(tc, registration_allocates_nothing);
	tcase_add_test(tc, registered_store_scheme_opens_through_booking_open);
	tcase_add_test(tc, registered_scheme_is_accepted_in_booking_store_url);
	tcase_add_test(tc, every_kind_opens_through_a_registered_scheme);
	tcase_add_test(tc, a_scheme_registered_twice_for_a_kind_is_refused);
	tcase_add_test(tc, an_invalid_def_is_refused);
	tcase_add_test(tc, unknown_scheme_errors_are_unchanged);
	tcase_add_test(tc, what_a_constructor_makes_is_validated);
	tcase_add_test(tc, a_gateway_of_the_old_parameter_order_is_refused);
	tcase_add_test(tc, concurrent_registrations_of_one_scheme_let_exactly_one_win);
	/* last: it takes the built-in redis and postgresql schemes over */
	tcase_add_test(tc, the_core_hands_every_url_on_as_given);
	tcase_add_test(tc, a_lock_manager_has_acquire_all_why_and_settle_both_or_neither);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
