/*
 * libbooking resilience tests (unit): the circuit breaker's state machine on
 * a manual clock, the retry policy, deadlines, the Prometheus page, health,
 * and the tracing hooks with W3C trace context.
 *
 * The dependency is a real memory store whose members count their calls and
 * fail on demand (the "flaky store"): a fake that behaves, so the tests can
 * prove that an open circuit answers without calling it.
 * SPDX-License-Identifier: MIT
 */
#include "../fixture.h"

#include <jansson.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdlib.h>

#define TRACE_ID "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT_ID "00f067aa0ba902b7"
#define TRACEPARENT "00-" TRACE_ID "-" PARENT_ID "-01"

/* ------------------------------------------------------------------ */
/* The flaky store: a memory store with counting members that fail on demand */

typedef struct flaky {
	atomic_int fail; /* the code every instrumented member answers; 0: the real store answers */
	atomic_int hold, reservation_get, apply, scan;
	int (*hold_fn)(booking_seat_ref *, size_t *, booking_store *, const booking_store_hold *);
	int (*booking_get_fn)(booking_reservation **, booking_store *, const char *);
	int (*apply_fn)(size_t *, booking_store *, const booking_store_change *);
	int (*scan_fn)(booking_store *, const booking_store_scan_cbs *, void *);
	booking_store_ledger ledger; /* the store's ledger with the members above swapped */
} flaky;

static flaky F; /* one per test process: Check forks each test */

static int injected(void)
{
	int code = atomic_load(&F.fail);
	return booking_error_set(code, NULL, "flaky store: injected %s", booking_error_name(code));
}

static int fl_hold(booking_seat_ref *taken, size_t *n, booking_store *st, const booking_store_hold *req)
{
	atomic_fetch_add(&F.hold, 1);
	return atomic_load(&F.fail) ? injected() : F.hold_fn(taken, n, st, req);
}

static int fl_reservation_get(booking_reservation **out, booking_store *st, const char *id)
{
	atomic_fetch_add(&F.reservation_get, 1);
	return atomic_load(&F.fail) ? injected() : F.booking_get_fn(out, st, id);
}

static int fl_apply(size_t *failed, booking_store *st, const booking_store_change *change)
{
	atomic_fetch_add(&F.apply, 1);
	return atomic_load(&F.fail) ? injected() : F.apply_fn(failed, st, change);
}

static int fl_scan(booking_store *st, const booking_store_scan_cbs *cbs, void *payload)
{
	atomic_fetch_add(&F.scan, 1);
	return atomic_load(&F.fail) ? injected() : F.scan_fn(st, cbs, payload);
}

static booking_store *flaky_store(void)
{
	booking_store *st = NULL;
	ck_assert_ok(booking_store_open(&st, "memory:", NULL));
	memset(&F, 0, sizeof(F));
	F.hold_fn = st->ledger->hold;
	F.booking_get_fn = st->ledger->reservation_get;
	F.apply_fn = st->ledger->apply;
	F.scan_fn = st->scan;
	F.ledger = *st->ledger; /* the store's table is shared and const: patch a copy */
	F.ledger.hold = fl_hold;
	F.ledger.reservation_get = fl_reservation_get;
	F.ledger.apply = fl_apply;
	st->ledger = &F.ledger;
	st->scan = fl_scan;
	return st;
}

/* Options for a handle on the flaky store: threshold 3, 2 successes to close, 10 s recovery. */
static void flaky_options(booking_options *o)
{
	booking_options_init(o, BOOKING_OPTIONS_VERSION);
	o->payment_key_file = fx_payment_key_file();
	o->store = flaky_store();
	o->circuit_breaker_failure_threshold = 3;
	o->circuit_breaker_success_threshold = 2;
	o->circuit_breaker_recovery_seconds = 10;
	o->store_retry_attempts = 1;
}

/* ------------------------------------------------------------------ */
/* Reading health and metrics                                            */

static json_t *health(fx *f)
{
	char *text = NULL;
	ck_assert_ok(booking_health(&text, f->bk));
	json_error_t err;
	json_t *h = json_loads(text, 0, &err);
	ck_assert_msg(h != NULL, "health is not JSON: %s", text);
	booking_free(text);
	return h;
}

static const char *store_state(fx *f, char buf[32])
{
	json_t *h = health(f);
	const char *s = json_string_value(json_object_get(json_object_get(json_object_get(h, "dependencies"), "store"), "state"));
	ck_assert_ptr_nonnull(s);
	snprintf(buf, 32, "%s", s);
	json_decref(h);
	return buf;
}

#define ck_assert_store_state(f, want) \
	do { \
		char b_[32]; \
		ck_assert_str_eq(store_state((f), b_), (want)); \
	} while (0)

/* The value of the sample `series` (name with labels, exactly as printed), or -1 when absent. */
static double metric(fx *f, const char *series)
{
	char *text = NULL;
	ck_assert_ok(booking_metrics(&text, f->bk));
	ck_assert_ptr_nonnull(text);
	double v = -1;
	size_t n = strlen(series);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
		if (!end)
			break;
		line = end + 1;
	}
	booking_free(text);
	return v;
}

static bool refused_by_breaker(void)
{
	const booking_error *e = booking_error_last();
	return e->code == BOOKING_EUNAVAILABLE && strstr(e->details_json, "\"circuit_open\"") != NULL;
}

static fx f;

static void teardown(void)
{
	fx_close(&f);
}

/* ------------------------------------------------------------------ */
/* The breaker                                                           */

START_TEST(breaker_opens_after_n_failures_and_then_answers_without_calling_the_store)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];
	int64_t t0;

	flaky_options(&o);
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b); /* the showtime is cached now: a hold is one store call */
	ck_assert_store_state(&f, "CLOSED");

	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	for (int i = 0; i < 3; i++) {
		int before = atomic_load(&F.hold);
		ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE");
		ck_assert_msg(!refused_by_breaker(), "failure %d came from the breaker, not the store", i + 1);
		ck_assert_int_eq(atomic_load(&F.hold), before + 1);
	}
	ck_assert_store_state(&f, "OPEN");

	/* open: SERVICE_UNAVAILABLE at once, and the store is never called */
	int holds = atomic_load(&F.hold), gets = atomic_load(&F.reservation_get);
	for (int i = 0; i < 5; i++) {
		ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE");
		ck_assert_msg(refused_by_breaker(), "refusal %d: %s", i, booking_error_last()->details_json);
	}
	booking_reservation *r = NULL;
	booking_ctx alice = fx_customer("alice");
	ck_assert_code(booking_reservation_get(&r, f.bk, &alice, b), "SERVICE_UNAVAILABLE");
	ck_assert_int_eq(atomic_load(&F.hold), holds);
	ck_assert_int_eq(atomic_load(&F.reservation_get), gets);

	json_t *h = health(&f);
	ck_assert_str_eq(json_string_value(json_object_get(h, "status")), "unavailable");
	json_t *st = json_object_get(json_object_get(h, "dependencies"), "store");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "consecutive_failures")), 3);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(st, "last_error"), "code")),
	                 "SERVICE_UNAVAILABLE");
	ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_object_get(st, "last_error"), "message")),
	                             "flaky store"));
	json_decref(h);
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_state{dependency=\"store\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"OPEN\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_backend_calls_total{dependency=\"store\",op=\"hold\",result=\"rejected\"}"), 5);
	ck_assert_int_eq((int)metric(&f, "booking_backend_calls_total{dependency=\"store\",op=\"hold\",result=\"failure\"}"), 3);

	/* still open just before the recovery time */
	t0 = booking_now(f.bk);
	fx_advance(&f, 10 * FX_SECOND - 1);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE");
	ck_assert(refused_by_breaker());
	ck_assert_int_eq(atomic_load(&F.hold), holds);
	(void)t0;
}
END_TEST

START_TEST(breaker_half_opens_after_recovery_and_closes_after_m_successes)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];

	flaky_options(&o);
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	for (int i = 0; i < 3; i++)
		fx_hold(&f, NULL, "bob", "A2");
	ck_assert_store_state(&f, "OPEN");

	/* the dependency is back, and the recovery time has passed: trial calls go through */
	atomic_store(&F.fail, 0);
	fx_advance(&f, 10 * FX_SECOND);
	int holds = atomic_load(&F.hold);
	fx_hold_ok(&f, "bob", "A2", b);
	ck_assert_int_eq(atomic_load(&F.hold), holds + 1);
	ck_assert_store_state(&f, "HALF_OPEN"); /* one success of the two needed */
	fx_hold_ok(&f, "bob", "A3", b);
	ck_assert_store_state(&f, "CLOSED");
	fx_hold_ok(&f, "bob", "A4", b);

	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"OPEN\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"HALF_OPEN\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"CLOSED\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_state{dependency=\"store\"}"), 0);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(a_failed_trial_call_reopens_the_circuit_for_another_recovery_time)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];

	flaky_options(&o);
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	for (int i = 0; i < 3; i++)
		fx_hold(&f, NULL, "bob", "A2");
	fx_advance(&f, 10 * FX_SECOND);
	int holds = atomic_load(&F.hold);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE"); /* the trial call, failing */
	ck_assert(!refused_by_breaker());
	ck_assert_int_eq(atomic_load(&F.hold), holds + 1);
	ck_assert_store_state(&f, "OPEN");
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE");
	ck_assert(refused_by_breaker());
	ck_assert_int_eq(atomic_load(&F.hold), holds + 1);
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"OPEN\"}"), 2);
	/* another full recovery time from the failed trial */
	fx_advance(&f, 9 * FX_SECOND);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE");
	ck_assert(refused_by_breaker());
	atomic_store(&F.fail, 0);
	fx_advance(&f, FX_SECOND);
	fx_hold_ok(&f, "bob", "A2", b);
}
END_TEST

START_TEST(domain_errors_never_open_the_circuit)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];

	flaky_options(&o);
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	/* the store answers, with a domain error: it works */
	atomic_store(&F.fail, BOOKING_ESEAT_ALREADY_BOOKED);
	for (int i = 0; i < 10; i++)
		ck_assert_code(fx_hold(&f, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	atomic_store(&F.fail, BOOKING_ERESERVATION_NOT_FOUND);
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;
	for (int i = 0; i < 10; i++)
		ck_assert_code(booking_reservation_get(&r, f.bk, &alice, b), "RESERVATION_NOT_FOUND");
	ck_assert_store_state(&f, "CLOSED");
	ck_assert_int_eq(atomic_load(&F.hold), 11);
	/* and a success in between resets the count of consecutive failures */
	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	fx_hold(&f, NULL, "bob", "A2");
	fx_hold(&f, NULL, "bob", "A2");
	atomic_store(&F.fail, 0);
	fx_hold_ok(&f, "bob", "A2", b);
	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	fx_hold(&f, NULL, "bob", "A3");
	fx_hold(&f, NULL, "bob", "A3");
	ck_assert_store_state(&f, "CLOSED");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Retries and deadlines                                                  */

START_TEST(transient_read_failures_are_retried_up_to_the_attempts)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;

	flaky_options(&o);
	o.store_retry_attempts = 3;
	o.store_retry_base_ms = 40;
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	int64_t before = booking_now(f.bk);
	ck_assert_code(booking_reservation_get(&r, f.bk, &alice, b), "SERVICE_UNAVAILABLE");
	ck_assert_int_eq(atomic_load(&F.reservation_get), 3);
	ck_assert_int_eq((int)metric(&f, "booking_retries_total{dependency=\"store\"}"), 2);
	/* full jitter: each backoff is at most 40 ms, then 80 ms (the manual clock moved that much at most) */
	ck_assert_int_le(booking_now(f.bk) - before, 120);
	/* retries count once for the breaker: one failed call */
	json_t *h = health(&f);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(json_object_get(h, "dependencies"), "store"), "consecutive_failures")),
	                 1);
	json_decref(h);
	/* the retry that succeeds answers the caller */
	atomic_store(&F.fail, 0);
	ck_assert_ok(booking_reservation_get(&r, f.bk, &alice, b));
	booking_reservation_free(r);
}
END_TEST

START_TEST(domain_errors_and_writes_are_never_retried)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;

	flaky_options(&o);
	o.store_retry_attempts = 5;
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	atomic_store(&F.fail, BOOKING_ERESERVATION_NOT_FOUND);
	ck_assert_code(booking_reservation_get(&r, f.bk, &alice, b), "RESERVATION_NOT_FOUND");
	ck_assert_int_eq(atomic_load(&F.reservation_get), 1);
	/* a hold may have committed before its answer was lost: never blindly repeated */
	int holds = atomic_load(&F.hold);
	atomic_store(&F.fail, BOOKING_EUNAVAILABLE);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2"), "SERVICE_UNAVAILABLE");
	ck_assert_int_eq(atomic_load(&F.hold), holds + 1);
	ck_assert_int_eq((int)metric(&f, "booking_retries_total{dependency=\"store\"}"), 0);
}
END_TEST

START_TEST(a_passed_deadline_answers_service_unavailable_without_calling_the_store)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;

	flaky_options(&o);
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	alice.deadline_ms = booking_now(f.bk);
	ck_assert_code(booking_reservation_get(&r, f.bk, &alice, b), "SERVICE_UNAVAILABLE");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->details_json, "deadline"));
	ck_assert_int_eq(atomic_load(&F.reservation_get), 0);
	/* a deadline in the future lets it through */
	alice.deadline_ms = booking_now(f.bk) + FX_SECOND;
	ck_assert_ok(booking_reservation_get(&r, f.bk, &alice, b));
	booking_reservation_free(r);
	/* a passed deadline is no failure of the store */
	ck_assert_store_state(&f, "CLOSED");
}
END_TEST

/* The charge takes the caller past its deadline: the gateway said yes meanwhile. */
static void charge_past_the_deadline(fx_gateway_wrap *g, const booking_charge_request *req)
{
	(void)req;
	fx_advance(g->user, 10 * FX_SECOND);
}

/* A charge that went through is recorded even when the caller's deadline passed during it. */
START_TEST(a_charge_that_went_through_is_recorded_past_the_deadline)
{
	booking_options o;
	fx_gateway_wrap *gw = fx_gateway_wrap_new();
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.gateway = &gw->parent;
	fx_open(&f, &o);
	fx_seed(&f);
	gw->user = &f;
	gw->before_charge = charge_past_the_deadline;
	fx_hold_ok(&f, "alice", "A1", b);
	alice.deadline_ms = booking_now(f.bk) + 5 * FX_SECOND;
	(void)booking_pay(NULL, f.bk, &alice, b, "late-key", FX_CARD_OK);
	ck_assert_int_eq(fx_gateway_charges(gw), 1);
	booking_reservation *r = fx_booking(&f, b);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CONFIRMED); /* not left PAYMENT_PROCESSING */
	booking_reservation_free(r);
	booking_payment p[2];
	ck_assert_uint_eq(fx_payments_of(&f, b, p, 2), 1);
	ck_assert_int_eq(p[0].status, BOOKING_PAYMENT_SUCCEEDED);
}
END_TEST

/* Charges retried a fixed delay apart, and only while the deadline allows (the manual clock sleeps). */
START_TEST(gateway_retries_are_fixed_delay_bounded_by_attempts_and_deadline)
{
	booking_options o;
	fx_gateway_wrap *gw = fx_gateway_wrap_new();
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE], b3[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);

	o.payment_key_file = fx_payment_key_file();
	o.gateway = &gw->parent;
	o.gateway_max_retries = 5;
	o.gateway_retry_delay_ms = 1000;
	o.circuit_breaker_failure_threshold = 20;
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b1);
	fx_hold_ok(&f, "alice", "A2", b2);
	fx_hold_ok(&f, "alice", "A3", b3);

	/* no deadline: 1 + 5 charges, 1 s apart */
	int64_t t = booking_now(f.bk);
	int rc = fx_pay(&f, NULL, "alice", b1, "k1", FX_CARD_TIMEOUT);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "%s", booking_error_name(rc));
	ck_assert_int_eq(fx_gateway_charges(gw), 6);
	ck_assert_int_eq(booking_now(f.bk) - t, 5000);

	/* a deadline 2.5 s away: charges at +0, +1 s, +2 s; the next could not start in time */
	t = booking_now(f.bk);
	alice.deadline_ms = t + 2500;
	rc = booking_pay(NULL, f.bk, &alice, b2, "k2", FX_CARD_TIMEOUT);
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "%s", booking_error_name(rc));
	ck_assert_int_eq(fx_gateway_charges(gw), 6 + 3);
	ck_assert_int_lt(booking_now(f.bk), alice.deadline_ms);

	/* a decline is an answer: charged once */
	ck_assert_code(fx_pay(&f, NULL, "alice", b3, "k3", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	ck_assert_int_eq(fx_gateway_charges(gw), 10);
	ck_assert_int_eq((int)metric(&f, "booking_retries_total{dependency=\"gateway\"}"), 5 + 2);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The Prometheus page                                                   */

static void run_some_flows(fx *fx_)
{
	char b[BOOKING_ID_SIZE], c[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	fx_hold_ok(fx_, "alice", "A1,A2", b);
	ck_assert_code(fx_hold(fx_, NULL, "bob", "A2"), "SEAT_ALREADY_BOOKED");
	ck_assert_ok(fx_pay(fx_, NULL, "alice", b, "k-1", FX_CARD_OK));
	fx_hold_ok(fx_, "bob", "B1", c);
	ck_assert_code(fx_pay(fx_, NULL, "bob", c, "k-2", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	ck_assert_ok(booking_outbox_relay(NULL, fx_->bk, 100));
	ck_assert_ok(booking_expire_due(NULL, fx_->bk, &sys, 10));
	ck_assert_uint_eq(fx_check_violations(fx_), 0);
}

START_TEST(prometheus_page_parses_line_by_line)
{
	booking_options o;
	regex_t sample, comment;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.lock_url = "memory:";
	o.events_url = "memory:";
	fx_open(&f, &o);
	fx_seed(&f);
	run_some_flows(&f);

	ck_assert_int_eq(regcomp(&sample,
	                         "^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\]*\""
	                         "(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"\\\\]*\")*\\})? "
	                         "(-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|\\+Inf|-Inf|NaN)$",
	                         REG_EXTENDED),
	                 0);
	ck_assert_int_eq(regcomp(&comment,
	                         "^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+|TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
	                         "(counter|gauge|histogram|summary|untyped))$",
	                         REG_EXTENDED),
	                 0);
	char *text = NULL;
	ck_assert_ok(booking_metrics(&text, f.bk));
	ck_assert_ptr_nonnull(text);
	ck_assert_msg(strlen(text) > 0 && text[strlen(text) - 1] == '\n', "the page ends with a newline");
	char typed[128][96];
	size_t ntyped = 0, samples = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[8];
		if (line[0] == '#') {
			ck_assert_msg(regexec(&comment, line, 8, m, 0) == 0, "bad comment line: %s", line);
			if (m[2].rm_so >= 0 && ntyped < 128)
				snprintf(typed[ntyped++], 96, "%.*s", (int)(m[2].rm_eo - m[2].rm_so), line + m[2].rm_so);
			continue;
		}
		ck_assert_msg(regexec(&sample, line, 8, m, 0) == 0, "bad sample line: %s", line);
		samples++;
		/* every sample belongs to a family declared above it */
		char name[96];
		snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so), line);
		bool declared = false;
		for (size_t i = 0; i < ntyped && !declared; i++) {
			size_t tl = strlen(typed[i]);
			declared = strcmp(name, typed[i]) == 0 ||
			           (strncmp(name, typed[i], tl) == 0 &&
			            (!strcmp(name + tl, "_bucket") || !strcmp(name + tl, "_sum") || !strcmp(name + tl, "_count")));
		}
		ck_assert_msg(declared, "sample before its # TYPE: %s", line);
	}
	ck_assert_uint_gt(samples, 50);
	booking_free(text);
	regfree(&sample);
	regfree(&comment);

	ck_assert_int_eq((int)metric(&f, "booking_holds_total{outcome=\"ok\"}"), 2);
	ck_assert_int_eq((int)metric(&f, "booking_holds_total{outcome=\"conflict\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_payments_total{outcome=\"succeeded\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_payments_total{outcome=\"declined\"}"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_use_case_calls_total{op=\"booking_hold\",code=\"OK\"}"), 2);
	ck_assert_int_eq((int)metric(&f, "booking_use_case_duration_seconds_count{op=\"booking_hold\"}"), 3);
	ck_assert_int_eq((int)metric(&f, "booking_use_case_duration_seconds_bucket{op=\"booking_hold\",le=\"+Inf\"}"), 3);
	ck_assert_int_gt((int)metric(&f, "booking_outbox_relayed_total"), 3);
	ck_assert_int_eq((int)metric(&f, "booking_outbox_unpublished"), (int)metric(&f, "booking_outbox_relayed_total"));
	ck_assert_int_eq((int)metric(&f, "booking_circuit_breaker_state{dependency=\"locks\"}"), 0);
	ck_assert_int_eq((int)metric(&f, "booking_lock_manager_degraded"), 0);
	ck_assert_int_ge((int)metric(&f, "booking_backend_calls_total{dependency=\"locks\",op=\"acquire_all\",result=\"ok\"}"), 2);
	ck_assert_int_ge((int)metric(&f, "booking_backend_calls_total{dependency=\"events\",op=\"publish\",result=\"ok\"}"), 3);
	ck_assert_int_eq((int)metric(&f, "booking_use_case_calls_total{op=\"booking_check\",code=\"OK\"}"), 1);
}
END_TEST

START_TEST(outbox_lag_is_the_age_of_the_oldest_unpublished_event)
{
	char b[BOOKING_ID_SIZE];
	fx_open(&f, NULL);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	fx_advance(&f, 90 * FX_SECOND);
	fx_hold_ok(&f, "alice", "A2", b);
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 100));
	ck_assert_int_eq((int)metric(&f, "booking_outbox_unpublished"), 2);
	ck_assert_int_eq((int)metric(&f, "booking_outbox_oldest_unpublished_age_seconds"), 90);
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 100));
	ck_assert_int_eq((int)metric(&f, "booking_outbox_unpublished"), 0);
	ck_assert_int_eq((int)metric(&f, "booking_outbox_oldest_unpublished_age_seconds"), 0);
}
END_TEST

static int fail_twice(const booking_event *ev, void *payload)
{
	(void)payload;
	if (strcmp(ev->type, "reservation.created") == 0 && ev->delivery < 3)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "not yet");
	return 0;
}

static int always_fail(const booking_event *ev, void *payload)
{
	(void)ev;
	(void)payload;
	return booking_error_set(BOOKING_EINTERNAL, NULL, "poison");
}

START_TEST(consumer_redeliveries_duplicates_and_dead_letters_are_counted)
{
	booking_options o;
	char b[BOOKING_ID_SIZE];
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	size_t handled = 0;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);

	o.payment_key_file = fx_payment_key_file();
	o.consumer_retry_base_ms = 1;
	fx_open(&f, &o);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	co.group = "g1";
	ck_assert_ok(booking_consume(&handled, f.bk, &co, fail_twice, NULL));
	ck_assert_uint_eq(handled, 1);
	ck_assert_int_eq((int)metric(&f, "booking_consumer_redeliveries_total"), 2);
	co.group = "g2";
	co.max_deliveries = 2;
	ck_assert_ok(booking_consume(&handled, f.bk, &co, always_fail, NULL));
	ck_assert_int_eq((int)metric(&f, "booking_consumer_dead_letters_total"), 1);
	ck_assert_int_eq((int)metric(&f, "booking_consumer_redeliveries_total"), 3);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Health                                                                */

START_TEST(health_lists_each_dependency_and_the_degraded_lock_manager)
{
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.lock_url = "memory:";
	fx_open(&f, &o);
	json_t *h = health(&f);
	ck_assert_str_eq(json_string_value(json_object_get(h, "status")), "ok");
	ck_assert(json_is_false(json_object_get(h, "lock_manager_degraded")));
	json_t *deps = json_object_get(h, "dependencies");
	ck_assert_ptr_nonnull(json_object_get(deps, "store"));
	ck_assert_ptr_nonnull(json_object_get(deps, "locks"));
	ck_assert_ptr_nonnull(json_object_get(deps, "gateway"));
	ck_assert_ptr_null(json_object_get(deps, "events")); /* the store: transport is the store */
	json_t *st = json_object_get(deps, "store");
	ck_assert_str_eq(json_string_value(json_object_get(st, "state")), "CLOSED");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "failure_threshold")), 5);
	ck_assert_int_eq(json_integer_value(json_object_get(st, "success_threshold")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(st, "recovery_seconds")), 30);
	ck_assert(json_is_null(json_object_get(st, "last_error")));
	ck_assert(json_is_false(json_object_get(json_object_get(deps, "locks"), "degraded")));
	json_decref(h);
	char *text = NULL;
	ck_assert_code(booking_health(&text, NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(text);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Tracing                                                               */

typedef struct span_rec {
	char name[48];
	booking_span_kind kind;
	char dependency[16];
	char trace_id[33], span_id[17], parent[17], traceparent[56];
	int status, attempts;
	bool ended, host_data_ok;
} span_rec;

typedef struct span_log {
	pthread_mutex_t mu;
	span_rec recs[256];
	size_t n;
} span_log;

static void on_start(booking_span *sp, void *payload)
{
	span_log *l = payload;
	pthread_mutex_lock(&l->mu);
	if (l->n < 256) {
		span_rec *r = &l->recs[l->n];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", sp->name);
		r->kind = sp->kind;
		snprintf(r->dependency, sizeof(r->dependency), "%s", sp->dependency ? sp->dependency : "");
		memcpy(r->trace_id, sp->trace_id, 33);
		memcpy(r->span_id, sp->span_id, 17);
		memcpy(r->parent, sp->parent_span_id, 17);
		memcpy(r->traceparent, sp->traceparent, 56);
		ck_assert_ptr_null(sp->host_data);
		sp->host_data = r;
		l->n++;
	}
	pthread_mutex_unlock(&l->mu);
}

static void on_end(booking_span *sp, void *payload)
{
	span_log *l = payload;
	pthread_mutex_lock(&l->mu);
	span_rec *r = sp->host_data;
	if (r) {
		r->host_data_ok = strcmp(r->span_id, sp->span_id) == 0;
		r->status = sp->status;
		r->attempts = sp->attempts;
		r->ended = true;
	}
	pthread_mutex_unlock(&l->mu);
	booking_error_set(BOOKING_EINTERNAL, NULL, "a host callback that clobbers the error"); /* must not leak out */
}

static const span_rec *find_span(const span_log *l, const char *name, size_t nth)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->recs[i].name, name) == 0 && nth-- == 0)
			return &l->recs[i];
	return NULL;
}

typedef struct seen_event {
	char type[40], traceparent[64], correlation_id[64];
} seen_event;

static int keep_event(const booking_event *ev, void *payload)
{
	seen_event *s = payload;
	if (strcmp(ev->type, "reservation.created") == 0) {
		snprintf(s->type, sizeof(s->type), "%s", ev->type);
		snprintf(s->traceparent, sizeof(s->traceparent), "%s", ev->traceparent);
		snprintf(s->correlation_id, sizeof(s->correlation_id), "%s", ev->correlation_id);
	}
	return 0;
}

START_TEST(spans_continue_the_callers_trace_and_reach_the_consumers)
{
	booking_options o;
	span_log *l = calloc(1, sizeof(*l));
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;
	const char *labels[] = {"A1"};

	pthread_mutex_init(&l->mu, NULL);
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.span_start_fn = on_start;
	o.span_end_fn = on_end;
	o.span_payload = l;
	fx_open(&f, &o);
	fx_seed(&f);
	ck_assert_ptr_nonnull(find_span(l, "store.migrate", 0)); /* outside any use case: a root span */
	ck_assert_str_eq(find_span(l, "store.migrate", 0)->parent, "");

	size_t first = l->n;
	alice.traceparent = TRACEPARENT;
	alice.correlation_id = "corr-42";
	booking_error_clear();
	ck_assert_ok(booking_hold(&r, f.bk, &alice, f.showtime_id, labels, 1));
	ck_assert_int_eq(booking_error_last()->code, 0); /* the callback's error did not leak */
	snprintf(b, sizeof(b), "%s", r->id);
	booking_reservation_free(r);

	const span_rec *hold = NULL, *store_hold = NULL;
	for (size_t i = first; i < l->n; i++) {
		if (!strcmp(l->recs[i].name, "booking_hold"))
			hold = &l->recs[i];
		if (!strcmp(l->recs[i].name, "store.hold"))
			store_hold = &l->recs[i];
	}
	ck_assert_ptr_nonnull(hold);
	ck_assert_ptr_nonnull(store_hold);
	ck_assert_int_eq(hold->kind, BOOKING_SPAN_INTERNAL);
	ck_assert_str_eq(hold->trace_id, TRACE_ID);
	ck_assert_str_eq(hold->parent, PARENT_ID);
	ck_assert_str_ne(hold->span_id, PARENT_ID);
	ck_assert(hold->ended && hold->host_data_ok);
	ck_assert_int_eq(hold->status, 0);
	ck_assert_int_eq(store_hold->kind, BOOKING_SPAN_CLIENT);
	ck_assert_str_eq(store_hold->dependency, "store");
	ck_assert_str_eq(store_hold->trace_id, TRACE_ID);
	ck_assert_str_eq(store_hold->parent, hold->span_id);
	ck_assert_int_eq(store_hold->attempts, 1);
	ck_assert(store_hold->ended);

	/* a failing use case ends its span with its code */
	ck_assert_code(fx_hold(&f, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	const span_rec *conflict = find_span(l, "booking_hold", 1);
	ck_assert_ptr_nonnull(conflict);
	ck_assert_int_eq(conflict->status, BOOKING_ESEAT_ALREADY_BOOKED);
	ck_assert_str_ne(conflict->trace_id, TRACE_ID); /* no traceparent: a new trace */

	/* the event carries the hold's span as traceparent, and the caller's correlation id */
	seen_event seen = {{0}, {0}, {0}};
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	co.group = "trace-test";
	ck_assert_ok(booking_consume(NULL, f.bk, &co, keep_event, &seen));
	ck_assert_str_eq(seen.traceparent, hold->traceparent);
	ck_assert_str_eq(seen.correlation_id, "corr-42");
	ck_assert_ptr_nonnull(find_span(l, "booking_consume", 0));

	/* every span started has ended */
	for (size_t i = 0; i < l->n; i++)
		ck_assert_msg(l->recs[i].ended, "span %s never ended", l->recs[i].name);
	fx_close(&f);
	memset(&f, 0, sizeof(f));
	free(l);
}
END_TEST

START_TEST(invalid_traceparents_start_a_new_trace)
{
	booking_options o;
	span_log *l = calloc(1, sizeof(*l));
	booking_ctx alice = fx_customer("alice");
	const char *labels[] = {"A1"};
	static const char *const bad[] = {
		"00-00000000000000000000000000000000-" PARENT_ID "-01", /* zero trace id */
		"00-" TRACE_ID "-0000000000000000-01",                   /* zero parent */
		"ff-" TRACE_ID "-" PARENT_ID "-01",                      /* version ff */
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT_ID "-01", /* upper case */
		"00-" TRACE_ID "-" PARENT_ID "-01-extra",               /* version 00 is exactly 55 */
		"garbage",
	};

	pthread_mutex_init(&l->mu, NULL);
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.span_start_fn = on_start;
	o.span_end_fn = on_end;
	o.span_payload = l;
	fx_open(&f, &o);
	fx_seed(&f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		booking_reservation *r = NULL;
		alice.traceparent = bad[i];
		int rc = booking_hold(&r, f.bk, &alice, f.showtime_id, labels, 1);
		(void)rc;
		booking_reservation_free(r);
		const span_rec *s = find_span(l, "booking_hold", i);
		ck_assert_ptr_nonnull(s);
		ck_assert_str_ne(s->trace_id, TRACE_ID);
		ck_assert_str_eq(s->parent, "");
		ck_assert_uint_eq(strlen(s->trace_id), 32);
		ck_assert_uint_eq(strlen(s->traceparent), 55);
	}
	/* a later version with more fields is understood */
	alice.traceparent = "01-" TRACE_ID "-" PARENT_ID "-01-whatever";
	booking_reservation *r = NULL;
	(void)booking_hold(&r, f.bk, &alice, f.showtime_id, labels, 1);
	booking_reservation_free(r);
	const span_rec *s = find_span(l, "booking_hold", sizeof(bad) / sizeof(bad[0]));
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->trace_id, TRACE_ID);
	fx_close(&f);
	memset(&f, 0, sizeof(f));
	free(l);
}
END_TEST

START_TEST(options_of_version_2_are_still_accepted)
{
	/* a struct laid out like version 2 ends before the span hooks: never read past it */
	size_t size = offsetof(booking_options, circuit_breaker_success_threshold);
	unsigned char *o = calloc(1, size); /* under valgrind, a read past its end is an error */
	unsigned int version = 2;
	booking_handle *bk = NULL;
	memcpy(o, &version, sizeof(version));
	ck_assert_ok(booking_open(&bk, (const booking_options *)(void *)o));
	char *text = NULL;
	ck_assert_ok(booking_health(&text, bk));
	ck_assert_ptr_nonnull(strstr(text, "\"success_threshold\":2"));
	booking_free(text);
	booking_close(bk);
	free(o);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("resilience");
	TCase *tc = tcase_create("breaker");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, breaker_opens_after_n_failures_and_then_answers_without_calling_the_store);
	tcase_add_test(tc, breaker_half_opens_after_recovery_and_closes_after_m_successes);
	tcase_add_test(tc, a_failed_trial_call_reopens_the_circuit_for_another_recovery_time);
	tcase_add_test(tc, domain_errors_never_open_the_circuit);
	suite_add_tcase(s, tc);
	tc = tcase_create("retry");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, transient_read_failures_are_retried_up_to_the_attempts);
	tcase_add_test(tc, domain_errors_and_writes_are_never_retried);
	tcase_add_test(tc, a_passed_deadline_answers_service_unavailable_without_calling_the_store);
	tcase_add_test(tc, gateway_retries_are_fixed_delay_bounded_by_attempts_and_deadline);
	tcase_add_test(tc, a_charge_that_went_through_is_recorded_past_the_deadline);
	suite_add_tcase(s, tc);
	tc = tcase_create("metrics");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, prometheus_page_parses_line_by_line);
	tcase_add_test(tc, outbox_lag_is_the_age_of_the_oldest_unpublished_event);
	tcase_add_test(tc, consumer_redeliveries_duplicates_and_dead_letters_are_counted);
	tcase_add_test(tc, health_lists_each_dependency_and_the_degraded_lock_manager);
	suite_add_tcase(s, tc);
	tc = tcase_create("tracing");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, spans_continue_the_callers_trace_and_reach_the_consumers);
	tcase_add_test(tc, invalid_traceparents_start_a_new_trace);
	tcase_add_test(tc, options_of_version_2_are_still_accepted);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fx_run(suite());
}
