/*
 * libbooking — observability: metrics in Prometheus text form, the health of
 * each dependency (circuit breakers), and tracing hooks a host bridges to
 * OpenTelemetry or anything else. See doc/observability.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_OBSERVABILITY_H
#define BOOKING_OBSERVABILITY_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/**
 * The handle's metrics in the Prometheus text exposition format (0.0.4):
 * counters and latency histograms of use cases and backend calls, holds and
 * payments by outcome, lock contention, retries, circuit breaker states and
 * transitions, outbox lag, consumer redeliveries and dead letters.
 * Reading them does no I/O.
 *
 * @param bk the handle; borrowed.
 * @param text_out set to the text, which the caller frees with
 *        booking_free(); NULL after a failure.
 * @return 0, BOOKING_EVALIDATION (NULL argument), BOOKING_ENOMEM. Thread-safe.
 * Host-only, no ctx: operations data for the host; expose it to admins or a scraper only.
 */
BOOKING_EXTERN(booking_error_code) booking_metrics(char **text_out, booking_handle *bk);

/**
 * The health of each dependency of the handle as JSON, without any I/O:
 *
 *     {"status":"ok"|"degraded"|"unavailable",
 *      "lock_manager_degraded":false,
 *      "dependencies":{"store":{"state":"CLOSED"|"OPEN"|"HALF_OPEN",
 *          "consecutive_failures":0,"failure_threshold":5,
 *          "recovery_seconds":30,"opened_at":null|ms,
 *          "last_error":null|{"code":"SERVICE_UNAVAILABLE","message":..,"at":ms}},
 *       "locks":{...},"events":{...},"gateway":{...}}}
 *
 * "locks" is absent without a lock manager, "events" with the `store:`
 * transport. "unavailable": the store's circuit is OPEN; "degraded": another
 * circuit is not CLOSED or the lock manager is unreachable (holds go through
 * the store alone).
 *
 * @param json_out set to the text, which the caller frees with
 *        booking_free(); NULL after a failure.
 * @param bk the handle; borrowed.
 * @return 0, BOOKING_EVALIDATION (NULL argument), BOOKING_ENOMEM. Thread-safe.
 * Host-only, no ctx: liveness and readiness of the host's own handle.
 */
BOOKING_EXTERN(booking_error_code) booking_health(char **json_out, booking_handle *bk);

/** What a span covers. */
typedef enum booking_span_kind {
	BOOKING_SPAN_INTERNAL = 0, /**< a use case: booking_hold, booking_pay, ... */
	BOOKING_SPAN_CLIENT = 1    /**< one call to a dependency: "store.hold", "locks.acquire_all", ... */
} booking_span_kind;

/**
 * The stable name of a span kind: the constant without its prefix ("CLIENT").
 * @param kind a booking_span_kind; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_span_kind_name(booking_span_kind kind);

#define BOOKING_SPAN_VERSION 1

/**
 * A span, handed to the host's start and end callbacks. The library owns it;
 * it is valid from the start call to the end call (same pointer), and the
 * host may keep its own pointer in `host_data` in between.
 *
 * Trace context (W3C Trace Context): a use case continues the trace of the
 * ctx's `traceparent` when it is valid (its span id becomes the parent),
 * else starts a new trace; a backend call is a child of the use case running
 * on the calling thread, or a root span when none runs.
 */
typedef struct booking_span {
	unsigned int version;        /**< BOOKING_SPAN_VERSION */
	booking_span_kind kind;
	const char *name;            /**< "booking_hold", "store.pay_begin", ... (static) */
	const char *dependency;      /**< CLIENT: "store", "locks", "events" or "gateway"; INTERNAL: NULL */
	char trace_id[33];           /**< 32 lower-case hex digits */
	char span_id[17];            /**< 16 lower-case hex digits, new for this span */
	char parent_span_id[17];     /**< "" for a root span */
	char traceparent[56];        /**< this span as a traceparent: "00-<trace_id>-<span_id>-<flags>" */
	unsigned int trace_flags;    /**< W3C flags of the parent (01 = sampled); 01 for a new trace */
	const char *correlation_id;  /**< the ctx's correlation id, NULL when none; borrowed */
	int64_t start_ms;            /**< handle clock, UTC ms */
	/* set before the end callback */
	int64_t duration_us;         /**< wall time (monotonic) */
	int status;                  /**< 0 or the booking_error_code the call returned */
	int attempts;                /**< CLIENT: calls made to the dependency (1 + retries; 0 when refused) */
	void *host_data;             /**< the host's, NULL at start */
} booking_span;

/**
 * A span callback (options span_start_fn / span_end_fn). Called from any
 * thread, synchronously around the work: keep it short and thread-safe. It
 * must not call back into the same handle.
 * @param span    owned by the library: valid from the start call to the end
 *                call; the host may set `span->host_data` only.
 * @param payload booking_options.span_payload, unchanged.
 */
typedef void (*booking_span_fn)(booking_span *span, void *payload);

BOOKING_END_DECL

#endif
