/*
 * Resilience and observability internals: circuit breakers (breaker.c),
 * retry policy (retry.c), metrics (metrics.c), spans and use-case scopes
 * (trace.c), and the decorator backends that put them around every call to
 * a dependency (resilient.c). Core-internal; see doc/observability.md.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_RESILIENCE_H
#define BOOKING_RESILIENCE_H

#include "internal.h"

/* ------------------------------------------------------------------ */
/* Dependencies                                                          */

typedef enum booking__dep {
	BOOKING__DEP_STORE = 0,
	BOOKING__DEP_LOCKS = 1,
	BOOKING__DEP_EVENTS = 2,
	BOOKING__DEP_GATEWAY = 3,
	BOOKING__DEP_COUNT = 4
} booking__dep;

/* "store", "locks", "events", "gateway". */
const char *booking__dep_name(booking__dep dep);

/* ------------------------------------------------------------------ */
/* breaker.c: CLOSED → OPEN after N consecutive failures → HALF_OPEN after
 * the recovery time → CLOSED after M successful trial calls (a failed trial
 * reopens). Thread-safe; time comes from the caller (the handle's clock).  */

typedef enum booking__breaker_state {
	BOOKING__BREAKER_CLOSED = 0,
	BOOKING__BREAKER_OPEN = 1,
	BOOKING__BREAKER_HALF_OPEN = 2
} booking__breaker_state;

/* What an answer means for the breaker. */
typedef enum booking__outcome {
	BOOKING__OUTCOME_SUCCESS = 0, /* the dependency answered (domain errors included) */
	BOOKING__OUTCOME_FAILURE = 1, /* EUNAVAILABLE, EEXTERNAL, EINTERNAL */
	BOOKING__OUTCOME_IGNORE = 2   /* says nothing about the dependency (ENOMEM) */
} booking__outcome;

booking__outcome booking__breaker_classify(int rc);
const char *booking__breaker_state_name(booking__breaker_state s); /* "CLOSED", "OPEN", "HALF_OPEN" */

/* Called, outside the breaker's mutex, on every state change. */
struct booking__breaker;
typedef void (*booking__breaker_transition_fn)(void *payload, const struct booking__breaker *b,
                                               booking__breaker_state from, booking__breaker_state to,
                                               int consecutive_failures, const char *last_error);

#define BOOKING__BREAKER_ERROR_MAX 200

typedef struct booking__breaker {
	pthread_mutex_t mu;
	const char *name; /* static: the dependency */
	int failure_threshold, success_threshold;
	int64_t recovery_ms;
	booking__breaker_transition_fn on_transition;
	void *payload;
	atomic_bool quiet; /* CLOSED without failures: calls pass, successes change nothing (no mutex) */
	/* under mu */
	booking__breaker_state state;
	int consecutive_failures;
	int half_open_successes;
	int probes_in_flight;
	int64_t opened_at;
	int last_error_code;
	int64_t last_error_at;
	char last_error[BOOKING__BREAKER_ERROR_MAX];
} booking__breaker;

typedef struct booking__breaker_status {
	booking__breaker_state state;
	int consecutive_failures;
	int failure_threshold, success_threshold;
	int64_t recovery_ms;
	int64_t opened_at; /* 0 when CLOSED */
	int last_error_code; /* 0: none yet */
	int64_t last_error_at;
	char last_error[BOOKING__BREAKER_ERROR_MAX];
} booking__breaker_status;

int booking__breaker_init(booking__breaker *b, const char *name, int failure_threshold, int success_threshold,
                          int64_t recovery_ms, booking__breaker_transition_fn on_transition, void *payload);
void booking__breaker_destroy(booking__breaker *b);
/*
 * May a call go to the dependency at `now`? 0 (and *probe_out: it is one of
 * the HALF_OPEN trial calls) or BOOKING_EUNAVAILABLE, set as the thread's
 * error with details {"reason":"circuit_open","dependency":...}.
 */
int booking__breaker_acquire(booking__breaker *b, int64_t now, bool *probe_out);
/* The answer of a call acquire() let through; `message` is its error message (rc < 0). */
void booking__breaker_release(booking__breaker *b, int64_t now, bool probe, int rc, const char *message);
void booking__breaker_status_get(booking__breaker *b, booking__breaker_status *out);
/* Was the thread's last error a breaker's refusal? (retrying it at once is pointless) */
bool booking__breaker_refused(void);

/* ------------------------------------------------------------------ */
/* retry.c: exponential backoff with full jitter, for transient errors only. */

typedef struct booking__retry_policy {
	int attempts;   /* calls in all, >= 1 */
	int base_ms;    /* the first backoff's cap; doubles per attempt */
	int max_ms;     /* cap of any backoff */
	bool fixed;     /* every backoff is base_ms exactly (the guide's gateway: 2x, fixed 1 s) */
} booking__retry_policy;

/* BOOKING_EUNAVAILABLE and BOOKING_EEXTERNAL: worth another try. Never a domain error. */
bool booking__retry_transient(int rc);
/* Uniform random integer in [0, n) (n > 0). */
typedef uint64_t (*booking__random_fn)(void *payload, uint64_t n);
/* Full jitter: uniform in [0, min(max_ms, base_ms * 2^(failed - 1))]; base_ms when `fixed`. */
int64_t booking__retry_backoff(const booking__retry_policy *p, int failed, booking__random_fn rnd, void *rnd_payload);
/*
 * Attempt number `failed` (1-based) just failed with `rc` at `now`. true
 * with the backoff in *delay_out when another attempt should follow: the
 * error is transient, attempts are left, and the retry would start before
 * `deadline_ms` (0 = none).
 */
bool booking__retry_next(const booking__retry_policy *p, int failed, int rc, int64_t now, int64_t deadline_ms,
                         booking__random_fn rnd, void *rnd_payload, int64_t *delay_out);

/* ------------------------------------------------------------------ */
/* metrics.c: counters and histograms, lock-free, fixed at open.          */

/* The use cases measured (and traced) as a whole. */
typedef enum booking__op {
	BOOKING__OP_HOLD = 0,
	BOOKING__OP_PAY,
	BOOKING__OP_CANCEL,
	BOOKING__OP_EXPIRE_DUE,
	BOOKING__OP_RESERVATION_GET,
	BOOKING__OP_RESERVATION_LIST,
	BOOKING__OP_PAYMENT_GET,
	BOOKING__OP_REFUND,
	BOOKING__OP_RECOVER,
	BOOKING__OP_RELAY,
	BOOKING__OP_CONSUME,
	BOOKING__OP_NOTIFY,
	BOOKING__OP_CHECK,
	BOOKING__OP_REGISTER,
	BOOKING__OP_LOGIN,
	BOOKING__OP_HOLD_WITH,
	BOOKING__OP_EXTEND,
	BOOKING__OP_CHANGE,
	BOOKING__OP_BLOCK,
	BOOKING__OP_UNBLOCK,
	BOOKING__OP_LIST_FOR_SHOWTIME,
	BOOKING__OP_WAITLIST_JOIN,
	BOOKING__OP_WAITLIST_LEAVE,
	BOOKING__OP_WAITLIST_LIST,
	BOOKING__OP_WAITLIST_PROCESS,
	BOOKING__OP_COUNT
} booking__op;

const char *booking__op_name(booking__op op); /* "booking_hold", ... */

#define BOOKING__HIST_BUCKETS 15 /* 14 bounds + Inf */
#define BOOKING__CODES 32        /* 0 and -1..-30, and one for unknown codes */
#define BOOKING__MAX_DEP_OPS 48

typedef struct booking__histogram {
	atomic_uint_fast64_t buckets[BOOKING__HIST_BUCKETS]; /* not cumulative */
	atomic_uint_fast64_t sum_us;
} booking__histogram;

void booking__histogram_observe(booking__histogram *h, int64_t us);

/* Results of a backend call, for booking_backend_calls_total{result}. */
typedef enum booking__call_result {
	BOOKING__RESULT_OK = 0,      /* 0 */
	BOOKING__RESULT_ERROR = 1,   /* a domain answer (not found, taken, busy, ...) */
	BOOKING__RESULT_FAILURE = 2, /* transient: counted by the breaker */
	BOOKING__RESULT_REJECTED = 3 /* not called: circuit open or deadline passed */
} booking__call_result;

typedef struct booking__dep_metrics {
	const char *const *op_names; /* "store.hold", ... (static); NULL: dependency absent */
	size_t op_count;
	atomic_uint_fast64_t calls[BOOKING__MAX_DEP_OPS][4];
	booking__histogram latency[BOOKING__MAX_DEP_OPS];
	atomic_uint_fast64_t retries;
	atomic_uint_fast64_t transitions[3]; /* by the state entered */
} booking__dep_metrics;

typedef struct booking__metrics {
	atomic_uint_fast64_t use_case_calls[BOOKING__OP_COUNT][BOOKING__CODES];
	booking__histogram use_case_latency[BOOKING__OP_COUNT];
	booking__dep_metrics deps[BOOKING__DEP_COUNT];
	atomic_uint_fast64_t lock_contention;      /* ELOCKED answers of the lock manager */
	atomic_uint_fast64_t outbox_relayed;       /* events marked published */
	atomic_int_fast64_t outbox_unpublished;    /* seen by the last relay (bounded by its max) */
	atomic_int_fast64_t outbox_oldest_age_ms;  /* age of the oldest of them at that relay */
	atomic_uint_fast64_t consumer_redeliveries; /* deliveries after the first, and handler retries */
	atomic_uint_fast64_t consumer_duplicates;  /* events the inbox had seen: skipped */
	atomic_uint_fast64_t consumer_dead_letters;
} booking__metrics;

/* Index into use_case_calls' second dimension. */
size_t booking__code_index(int rc);
/* Prometheus text of `bk` (its obs). Caller frees. NULL on OOM (error set). */
char *booking__metrics_render(booking_handle *bk);

/* ------------------------------------------------------------------ */
/* The handle's observability state (resilient.c).                       */

typedef struct booking__obs {
	booking_handle *bk;                 /* borrowed back-pointer: clock, config, locks_degraded */
	bool present[BOOKING__DEP_COUNT];
	booking__breaker breakers[BOOKING__DEP_COUNT];
	bool breaker_ready[BOOKING__DEP_COUNT];
	booking__retry_policy retry[BOOKING__DEP_COUNT];
	booking__metrics m;
} booking__obs;

/* Create bk->obs (from bk->cfg) and wrap bk's backends in the decorators. */
int booking__resilience_wrap(booking_handle *bk);
/* Free bk->obs, after the backends are freed. NULL-safe. */
void booking__obs_free(booking__obs *obs);
/*
 * The store behind the decorator (borrowed, freed with it); `st` itself
 * when it is not one. For the store clock's samples (store_clock.c): a
 * background measurement that no breaker, retry or metric should see.
 */
booking_store *booking__store_undecorated(booking_store *st);

/* Count a retry made outside the decorators (the payment.c charge loop). */
void booking__metric_retry(booking_handle *bk, booking__dep dep);
/* Count a consumer handler retry (events.c). */
void booking__metric_redelivery(booking_handle *bk);

/* "postgresql://user:secret@host/db" → "postgresql://user:***@host/db", into buf. */
const char *booking__url_redact(const char *url, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* trace.c: spans and use-case scopes.                                   */

/*
 * Parse a W3C traceparent ("00-<32 hex>-<16 hex>-<2 hex>"): false when it
 * is absent or invalid (then a new trace starts).
 */
bool booking__traceparent_parse(const char *tp, char trace_id[33], char parent_id[17], unsigned int *flags);

/* Fill `sp` for a new span: a child of (trace_id, parent_id) or, when trace_id is NULL, a new root. */
void booking__span_init(booking_span *sp, booking_span_kind kind, const char *name, const char *dependency,
                        const char *trace_id, const char *parent_id, unsigned int flags, const char *correlation_id,
                        int64_t start_ms);
/* Call the host's start / end callback, keeping the thread's error record intact. */
void booking__span_emit_start(const booking_handle *bk, booking_span *sp);
void booking__span_emit_end(const booking_handle *bk, booking_span *sp);
bool booking__tracing(const booking_handle *bk);

/* Monotonic nanoseconds. */
int64_t booking__mono_ns(void);

/*
 * A use case in progress on this thread: times it, counts its result,
 * traces it, and gives the backend calls it makes its deadline and its
 * span as their parent. Lives on the caller's stack between begin and end.
 */
typedef struct booking__scope {
	struct booking__scope *prev;
	booking_handle *bk;        /* NULL: inactive (bk was NULL) */
	booking__op op;
	int64_t deadline_ms;
	int64_t t0_ns;
	bool traced;
	booking_ctx ctx;    /* the caller's ctx with the correlation id and (traced) traceparent filled in */
	bool has_ctx;
	char correlation_id[BOOKING_ID_SIZE];
	booking_span span;
} booking__scope;

/*
 * Start a use case. Returns the ctx the use case should run with: the
 * caller's, with a correlation id generated when it has none and, when
 * tracing, the use case's span as traceparent (so logs and events carry
 * it). Returns `ctx` itself when it is NULL or of an unknown version.
 */
const booking_ctx *booking__scope_begin(booking__scope *sc, booking_handle *bk, const booking_ctx *ctx, booking__op op);
/* End it with the use case's result; returns `rc`. */
int booking__scope_end(booking__scope *sc, int rc);
/* The innermost scope of this thread for handle `bk`, or NULL. */
booking__scope *booking__scope_current(const booking_handle *bk);

#endif
