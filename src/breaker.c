/*
 * The circuit breaker of one dependency (the guide's §7.2, made thread-safe
 * and bounded in HALF_OPEN):
 *
 *   CLOSED     calls pass; `failure_threshold` consecutive failures → OPEN
 *   OPEN       calls are refused at once with SERVICE_UNAVAILABLE, without
 *              touching the dependency; after `recovery_ms` → HALF_OPEN
 *   HALF_OPEN  at most `success_threshold` trial calls at a time pass, the
 *              others are refused; `success_threshold` successes → CLOSED,
 *              one failure → OPEN again (the recovery time starts over)
 *
 * Only transient answers are failures: SERVICE_UNAVAILABLE,
 * EXTERNAL_SERVICE_ERROR and INTERNAL_ERROR. A domain answer (seat taken,
 * not found, lock busy) proves the dependency works; OUT_OF_MEMORY is ours
 * and says nothing about it.
 * SPDX-License-Identifier: MIT
 */
#include "resilience.h"

#include <stdio.h>
#include <string.h>

booking__outcome booking__breaker_classify(int rc)
{
	switch (rc) {
	case BOOKING_EUNAVAILABLE:
	case BOOKING_EEXTERNAL:
	case BOOKING_EINTERNAL:
		return BOOKING__OUTCOME_FAILURE;
	case BOOKING_ENOMEM:
		return BOOKING__OUTCOME_IGNORE;
	default:
		return BOOKING__OUTCOME_SUCCESS;
	}
}

const char *booking__breaker_state_name(booking__breaker_state s)
{
	switch (s) {
	case BOOKING__BREAKER_CLOSED: return "CLOSED";
	case BOOKING__BREAKER_OPEN: return "OPEN";
	case BOOKING__BREAKER_HALF_OPEN: return "HALF_OPEN";
	}
	return "UNKNOWN";
}

int booking__breaker_init(booking__breaker *b, const char *name, int failure_threshold, int success_threshold,
                          int64_t recovery_ms, booking__breaker_transition_fn on_transition, void *payload)
{
	memset(b, 0, sizeof(*b));
	if (pthread_mutex_init(&b->mu, NULL) != 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "circuit breaker: cannot create a mutex");
	b->name = name;
	b->failure_threshold = failure_threshold > 0 ? failure_threshold : 1;
	b->success_threshold = success_threshold > 0 ? success_threshold : 1;
	b->recovery_ms = recovery_ms > 0 ? recovery_ms : 0;
	b->on_transition = on_transition;
	b->payload = payload;
	b->state = BOOKING__BREAKER_CLOSED;
	atomic_init(&b->quiet, true);
	return 0;
}

/* After every change under the mutex: may the lock-free paths skip it? */
static void update_quiet(booking__breaker *b)
{
	atomic_store_explicit(&b->quiet, b->state == BOOKING__BREAKER_CLOSED && b->consecutive_failures == 0,
	                      memory_order_release);
}

void booking__breaker_destroy(booking__breaker *b)
{
	pthread_mutex_destroy(&b->mu);
}

/* A state change to report once the mutex is released. */
typedef struct transition {
	bool happened;
	booking__breaker_state from, to;
	int failures;
	char last_error[BOOKING__BREAKER_ERROR_MAX];
} transition;

static void move(booking__breaker *b, transition *t, booking__breaker_state to, int64_t now)
{
	t->happened = true;
	t->from = b->state;
	t->to = to;
	t->failures = b->consecutive_failures;
	memcpy(t->last_error, b->last_error, sizeof(t->last_error));
	b->state = to;
	b->half_open_successes = 0;
	if (to == BOOKING__BREAKER_OPEN)
		b->opened_at = now;
	else if (to == BOOKING__BREAKER_CLOSED) {
		b->opened_at = 0;
		b->consecutive_failures = 0;
	}
}

static void report(booking__breaker *b, const transition *t)
{
	if (t->happened && b->on_transition)
		b->on_transition(b->payload, b, t->from, t->to, t->failures, t->last_error);
}

int booking__breaker_acquire(booking__breaker *b, int64_t now, bool *probe_out)
{
	transition t = {0};
	bool allowed = true;
	int64_t retry_in = 0;
	int failures = 0;
	char last[BOOKING__BREAKER_ERROR_MAX];
	*probe_out = false;
	if (atomic_load_explicit(&b->quiet, memory_order_acquire))
		return 0; /* the common case: no lock */
	pthread_mutex_lock(&b->mu);
	if (b->state == BOOKING__BREAKER_OPEN && now - b->opened_at >= b->recovery_ms)
		move(b, &t, BOOKING__BREAKER_HALF_OPEN, now);
	switch (b->state) {
	case BOOKING__BREAKER_CLOSED:
		break;
	case BOOKING__BREAKER_OPEN:
		allowed = false;
		retry_in = b->opened_at + b->recovery_ms - now;
		break;
	case BOOKING__BREAKER_HALF_OPEN:
		if (b->probes_in_flight < b->success_threshold - b->half_open_successes) {
			b->probes_in_flight++;
			*probe_out = true;
		} else {
			allowed = false; /* enough trial calls are on their way */
		}
		break;
	}
	if (!allowed) {
		failures = b->consecutive_failures;
		memcpy(last, b->last_error, sizeof(last));
	}
	update_quiet(b);
	pthread_mutex_unlock(&b->mu);
	report(b, &t);
	if (allowed)
		return 0;
	char details[160];
	snprintf(details, sizeof(details), "{\"reason\":\"circuit_open\",\"dependency\":\"%s\",\"retry_after_ms\":%lld}",
	         b->name, (long long)(retry_in > 0 ? retry_in : 0));
	return booking_error_set(BOOKING_EUNAVAILABLE, details,
	                         "%s unavailable: circuit open after %d consecutive failures (last: %s)", b->name,
	                         failures, last[0] ? last : "none");
}

void booking__breaker_release(booking__breaker *b, int64_t now, bool probe, int rc, const char *message)
{
	booking__outcome outcome = booking__breaker_classify(rc);
	transition t = {0};
	if (outcome != BOOKING__OUTCOME_FAILURE && !probe && atomic_load_explicit(&b->quiet, memory_order_acquire))
		return; /* a success of a closed circuit without failures changes nothing */
	pthread_mutex_lock(&b->mu);
	if (probe && b->probes_in_flight > 0)
		b->probes_in_flight--;
	if (outcome == BOOKING__OUTCOME_FAILURE) {
		b->consecutive_failures++;
		b->last_error_code = rc;
		b->last_error_at = now;
		snprintf(b->last_error, sizeof(b->last_error), "%s", message && *message ? message : booking_error_name(rc));
		bool too_many = b->state == BOOKING__BREAKER_CLOSED && b->consecutive_failures >= b->failure_threshold;
		bool trial_failed = b->state == BOOKING__BREAKER_HALF_OPEN && probe;
		if (too_many || trial_failed)
			move(b, &t, BOOKING__BREAKER_OPEN, now);
	} else if (outcome == BOOKING__OUTCOME_SUCCESS) {
		if (b->state == BOOKING__BREAKER_CLOSED) {
			b->consecutive_failures = 0;
		} else if (b->state == BOOKING__BREAKER_HALF_OPEN && probe &&
		           ++b->half_open_successes >= b->success_threshold) {
			move(b, &t, BOOKING__BREAKER_CLOSED, now);
		}
		/* a straggler admitted before the circuit opened proves little: OPEN stays OPEN */
	}
	update_quiet(b);
	pthread_mutex_unlock(&b->mu);
	report(b, &t);
}

void booking__breaker_status_get(booking__breaker *b, booking__breaker_status *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&b->mu);
	out->state = b->state;
	out->consecutive_failures = b->consecutive_failures;
	out->failure_threshold = b->failure_threshold;
	out->success_threshold = b->success_threshold;
	out->recovery_ms = b->recovery_ms;
	out->opened_at = b->state == BOOKING__BREAKER_CLOSED ? 0 : b->opened_at;
	out->last_error_code = b->last_error_code;
	out->last_error_at = b->last_error_at;
	memcpy(out->last_error, b->last_error, sizeof(out->last_error));
	pthread_mutex_unlock(&b->mu);
}

bool booking__breaker_refused(void)
{
	const booking_error *e = booking_error_last();
	return e->code == BOOKING_EUNAVAILABLE && e->details_json && strstr(e->details_json, "\"circuit_open\"") != NULL;
}
