/*
 * Metrics: lock-free counters and latency histograms fixed at open (no
 * allocation on the hot path), rendered in the Prometheus text exposition
 * format (version 0.0.4) by booking_metrics(). Series whose value is still
 * zero are left out of the per-operation families to keep the page short;
 * the per-dependency ones are always there.
 * SPDX-License-Identifier: MIT
 */
#include "resilience.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Histogram bounds in microseconds: 0.5 ms .. 10 s, then +Inf. */
static const int64_t bucket_us[BOOKING__HIST_BUCKETS - 1] = {500,    1000,   2500,    5000,    10000,
                                                             25000,  50000,  100000,  250000,  500000,
                                                             1000000, 2500000, 5000000, 10000000};
static const char *const bucket_le[BOOKING__HIST_BUCKETS] = {"0.0005", "0.001", "0.0025", "0.005", "0.01",
                                                             "0.025",  "0.05",  "0.1",    "0.25",  "0.5",
                                                             "1",      "2.5",   "5",      "10",    "+Inf"};

static const char *const op_names[BOOKING__OP_COUNT] = {
	"booking_hold",          "booking_pay",          "booking_reservation_cancel",
	"booking_expire_due",    "booking_reservation_get", "booking_reservation_list_for_user",
	"booking_payment_get",   "booking_payment_refund", "booking_payment_recover",
	"booking_outbox_relay",  "booking_consume",      "booking_notify",
	"booking_check",         "booking_auth_register", "booking_auth_login",
	"booking_hold_with",     "booking_reservation_extend", "booking_reservation_change",
	"booking_seats_block",   "booking_seats_unblock", "booking_reservation_list_for_showtime",
	"booking_waitlist_join", "booking_waitlist_leave", "booking_waitlist_list",
	"booking_waitlist_process",
};

const char *booking__op_name(booking__op op)
{
	return op >= 0 && op < BOOKING__OP_COUNT ? op_names[op] : "unknown";
}

void booking__histogram_observe(booking__histogram *h, int64_t us)
{
	size_t i = 0;
	if (us < 0)
		us = 0;
	while (i < BOOKING__HIST_BUCKETS - 1 && us > bucket_us[i])
		i++;
	atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, (uint_fast64_t)us, memory_order_relaxed);
}

size_t booking__code_index(int rc)
{
	if (rc > 0)
		rc = 0;
	if (rc < -(BOOKING__CODES - 2))
		return BOOKING__CODES - 1; /* unknown */
	return (size_t)-rc;
}

/* The code of an index (the inverse of booking__code_index), 1 for "unknown". */
static int index_code(size_t i)
{
	return i == BOOKING__CODES - 1 ? 1 : -(int)i;
}

/* ---------- the text ---------- */

typedef struct text {
	char *buf;
	size_t len, cap;
	bool oom;
} text;

static void put(text *t, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

static void put(text *t, const char *fmt, ...)
{
	if (t->oom)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = true;
			return;
		}
		if (t->buf && t->len + (size_t)n < t->cap) {
			t->len += (size_t)n;
			return;
		}
		size_t ncap = t->cap ? t->cap * 2 : 16384;
		while (ncap < t->len + (size_t)n + 1)
			ncap *= 2;
		char *nb = booking_realloc(t->buf, ncap);
		if (!nb) {
			t->oom = true;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
}

static uint64_t get(const atomic_uint_fast64_t *c)
{
	return (uint64_t)atomic_load_explicit(c, memory_order_relaxed);
}

static void family(text *t, const char *name, const char *type, const char *help)
{
	put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One histogram series; `labels` is "k=\"v\",..." (without braces). */
static void histogram(text *t, const char *name, const char *labels, const booking__histogram *h)
{
	uint64_t cum = 0;
	for (size_t i = 0; i < BOOKING__HIST_BUCKETS; i++) {
		cum += get(&h->buckets[i]);
		put(t, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, bucket_le[i], (unsigned long long)cum);
	}
	uint64_t sum = get(&h->sum_us);
	put(t, "%s_sum{%s} %llu.%06llu\n", name, labels, (unsigned long long)(sum / 1000000),
	    (unsigned long long)(sum % 1000000));
	put(t, "%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
}

static uint64_t histogram_count(const booking__histogram *h)
{
	uint64_t n = 0;
	for (size_t i = 0; i < BOOKING__HIST_BUCKETS; i++)
		n += get(&h->buckets[i]);
	return n;
}

static void render_use_cases(text *t, const booking__metrics *m)
{
	family(t, "booking_use_case_calls_total", "counter", "Use-case calls by result code.");
	for (size_t op = 0; op < BOOKING__OP_COUNT; op++)
		for (size_t c = 0; c < BOOKING__CODES; c++) {
			uint64_t v = get(&m->use_case_calls[op][c]);
			if (v)
				put(t, "booking_use_case_calls_total{op=\"%s\",code=\"%s\"} %llu\n", op_names[op],
				    booking_error_name(index_code(c)), (unsigned long long)v);
		}
	family(t, "booking_use_case_duration_seconds", "histogram", "Use-case latency.");
	for (size_t op = 0; op < BOOKING__OP_COUNT; op++) {
		if (!histogram_count(&m->use_case_latency[op]))
			continue;
		char labels[96];
		snprintf(labels, sizeof(labels), "op=\"%s\"", op_names[op]);
		histogram(t, "booking_use_case_duration_seconds", labels, &m->use_case_latency[op]);
	}
}

static uint64_t calls_with(const booking__metrics *m, booking__op op, int code)
{
	return get(&m->use_case_calls[op][booking__code_index(code)]);
}

static uint64_t calls_all(const booking__metrics *m, booking__op op)
{
	uint64_t n = 0;
	for (size_t c = 0; c < BOOKING__CODES; c++)
		n += get(&m->use_case_calls[op][c]);
	return n;
}

static void render_domain(text *t, const booking__metrics *m)
{
	uint64_t ok = calls_with(m, BOOKING__OP_HOLD, 0), conflict = calls_with(m, BOOKING__OP_HOLD, BOOKING_ESEAT_ALREADY_BOOKED),
	         busy = calls_with(m, BOOKING__OP_HOLD, BOOKING_ELOCK_FAILED);
	family(t, "booking_holds_total", "counter", "Holds by outcome (conflict: a seat was taken; lock_failed: contention guard busy).");
	put(t, "booking_holds_total{outcome=\"ok\"} %llu\n", (unsigned long long)ok);
	put(t, "booking_holds_total{outcome=\"conflict\"} %llu\n", (unsigned long long)conflict);
	put(t, "booking_holds_total{outcome=\"lock_failed\"} %llu\n", (unsigned long long)busy);
	put(t, "booking_holds_total{outcome=\"error\"} %llu\n",
	    (unsigned long long)(calls_all(m, BOOKING__OP_HOLD) - ok - conflict - busy));

	static const struct {
		const char *outcome;
		int code;
	} pay[] = {{"succeeded", 0},
	           {"declined", BOOKING_EPAYMENT_DECLINED},
	           {"expired", BOOKING_EEXPIRED},
	           {"in_progress", BOOKING_EPAYMENT_IN_PROGRESS},
	           {"key_reused", BOOKING_EIDEMPOTENCY_KEY_REUSED},
	           {"unavailable", BOOKING_EUNAVAILABLE},
	           {"external_error", BOOKING_EEXTERNAL}};
	family(t, "booking_payments_total", "counter",
	       "Payments by outcome (unavailable/external_error: outcome unknown, left to recovery, or never started).");
	uint64_t known = 0;
	for (size_t i = 0; i < sizeof(pay) / sizeof(pay[0]); i++) {
		uint64_t v = calls_with(m, BOOKING__OP_PAY, pay[i].code);
		known += v;
		put(t, "booking_payments_total{outcome=\"%s\"} %llu\n", pay[i].outcome, (unsigned long long)v);
	}
	put(t, "booking_payments_total{outcome=\"error\"} %llu\n",
	    (unsigned long long)(calls_all(m, BOOKING__OP_PAY) - known));

	family(t, "booking_lock_contention_total", "counter", "Lock manager answers LOCK_BUSY (a seat key held by another reservation).");
	put(t, "booking_lock_contention_total %llu\n", (unsigned long long)get(&m->lock_contention));
	family(t, "booking_outbox_relayed_total", "counter", "Outbox events marked published by relays.");
	put(t, "booking_outbox_relayed_total %llu\n", (unsigned long long)get(&m->outbox_relayed));
	family(t, "booking_outbox_unpublished", "gauge", "Unpublished outbox events the last relay found (bounded by its batch).");
	put(t, "booking_outbox_unpublished %lld\n",
	    (long long)atomic_load_explicit(&m->outbox_unpublished, memory_order_relaxed));
	int64_t age = atomic_load_explicit(&m->outbox_oldest_age_ms, memory_order_relaxed);
	family(t, "booking_outbox_oldest_unpublished_age_seconds", "gauge",
	       "Age of the oldest unpublished event at the last relay (outbox lag).");
	put(t, "booking_outbox_oldest_unpublished_age_seconds %lld.%03lld\n", (long long)(age / 1000),
	    (long long)(age % 1000));
	family(t, "booking_consumer_redeliveries_total", "counter",
	       "Events delivered again to a consumer: transport redeliveries and handler retries.");
	put(t, "booking_consumer_redeliveries_total %llu\n", (unsigned long long)get(&m->consumer_redeliveries));
	family(t, "booking_consumer_duplicates_total", "counter", "Deliveries skipped because the consumer's inbox had applied the event.");
	put(t, "booking_consumer_duplicates_total %llu\n", (unsigned long long)get(&m->consumer_duplicates));
	family(t, "booking_consumer_dead_letters_total", "counter", "Events parked in the dead-letter place.");
	put(t, "booking_consumer_dead_letters_total %llu\n", (unsigned long long)get(&m->consumer_dead_letters));
}

static const char *const result_names[4] = {"ok", "error", "failure", "rejected"};

static void render_backends(text *t, booking__obs *obs)
{
	const booking__metrics *m = &obs->m;
	family(t, "booking_backend_calls_total", "counter",
	       "Calls to dependencies by result (error: a domain answer; failure: transient, counted by the breaker; "
	       "rejected: not made, circuit open or deadline passed).");
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++) {
		const booking__dep_metrics *dm = &m->deps[d];
		for (size_t op = 0; dm->op_names && op < dm->op_count; op++)
			for (size_t r = 0; r < 4; r++) {
				uint64_t v = get(&dm->calls[op][r]);
				if (v)
					put(t, "booking_backend_calls_total{dependency=\"%s\",op=\"%s\",result=\"%s\"} %llu\n",
					    booking__dep_name((booking__dep)d), strchr(dm->op_names[op], '.') + 1, result_names[r],
					    (unsigned long long)v);
			}
	}
	family(t, "booking_backend_call_duration_seconds", "histogram", "Latency of each call to a dependency (one attempt).");
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++) {
		const booking__dep_metrics *dm = &m->deps[d];
		for (size_t op = 0; dm->op_names && op < dm->op_count; op++) {
			if (!histogram_count(&dm->latency[op]))
				continue;
			char labels[128];
			snprintf(labels, sizeof(labels), "dependency=\"%s\",op=\"%s\"", booking__dep_name((booking__dep)d),
			         strchr(dm->op_names[op], '.') + 1);
			histogram(t, "booking_backend_call_duration_seconds", labels, &dm->latency[op]);
		}
	}
	family(t, "booking_retries_total", "counter", "Retries of calls to a dependency after a transient error.");
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++)
		if (obs->present[d])
			put(t, "booking_retries_total{dependency=\"%s\"} %llu\n", booking__dep_name((booking__dep)d),
			    (unsigned long long)get(&m->deps[d].retries));

	booking__breaker_status st[BOOKING__DEP_COUNT];
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++)
		if (obs->present[d])
			booking__breaker_status_get(&obs->breakers[d], &st[d]);
	family(t, "booking_circuit_breaker_state", "gauge", "Circuit state per dependency: 0 CLOSED, 1 OPEN, 2 HALF_OPEN.");
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++)
		if (obs->present[d])
			put(t, "booking_circuit_breaker_state{dependency=\"%s\"} %d\n", booking__dep_name((booking__dep)d),
			    (int)st[d].state);
	family(t, "booking_circuit_breaker_consecutive_failures", "gauge", "Consecutive transient failures per dependency.");
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++)
		if (obs->present[d])
			put(t, "booking_circuit_breaker_consecutive_failures{dependency=\"%s\"} %d\n",
			    booking__dep_name((booking__dep)d), st[d].consecutive_failures);
	family(t, "booking_circuit_breaker_transitions_total", "counter", "Circuit state changes, by the state entered.");
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++)
		for (int s = 0; obs->present[d] && s < 3; s++)
			put(t, "booking_circuit_breaker_transitions_total{dependency=\"%s\",to=\"%s\"} %llu\n",
			    booking__dep_name((booking__dep)d), booking__breaker_state_name((booking__breaker_state)s),
			    (unsigned long long)get(&m->deps[d].transitions[s]));
	family(t, "booking_lock_manager_degraded", "gauge", "1 while the lock manager is unreachable and holds go through the store alone.");
	put(t, "booking_lock_manager_degraded %d\n", atomic_load(&obs->bk->locks_degraded) ? 1 : 0);
}

char *booking__metrics_render(booking_handle *bk)
{
	text t = {0};
	family(&t, "booking_build_info", "gauge", "The libbooking version.");
	put(&t, "booking_build_info{version=\"%s\"} 1\n", booking_version());
	render_use_cases(&t, &bk->obs->m);
	render_domain(&t, &bk->obs->m);
	render_backends(&t, bk->obs);
	if (t.oom) {
		booking_free(t.buf);
		booking_error_oom();
		return NULL;
	}
	return t.buf;
}

booking_error_code booking_metrics(char **text_out, booking_handle *bk)
{
	if (text_out)
		*text_out = NULL;
	if (!text_out || !bk || !bk->obs)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "metrics: NULL argument");
	*text_out = booking__metrics_render(bk); /* sets BOOKING_ENOMEM when it fails */
	return *text_out ? 0 : BOOKING_ENOMEM;
}
