/*
 * libbooking core internals. Never included by backends or examples.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_INTERNAL_H
#define BOOKING_INTERNAL_H

#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "booking_config.h"

/* Resolved, validated configuration (strings owned). */
typedef struct booking_config {
	char *store_url, *lock_url, *events_url, *gateway_url, *service_name;
	int hold_expiry_minutes;
	int max_seats_per_reservation;
	int payment_window_seconds;
	booking_decline_policy decline_policy;
	int lock_ttl_seconds, lock_retry_count, lock_retry_delay_ms;
	int gateway_max_retries;
	int consumer_max_deliveries, consumer_retry_base_ms;
	int circuit_breaker_failure_threshold, circuit_breaker_recovery_seconds;
	booking_log_level log_level;
	booking_log_fn log_fn;
	void *log_payload;
	/* authentication (options version 2; see auth.c) */
	int password_opslimit, password_memlimit_kib;
	int access_token_ttl_seconds, jwt_leeway_seconds;
	char *jwt_private_key_file, *jwt_public_keys_file, *jwt_issuer, *jwt_audience;
	/* resilience and observability (options version 3; see resilient.c) */
	int circuit_breaker_success_threshold;
	int store_retry_attempts, store_retry_base_ms, locks_retry_attempts, locks_retry_base_ms;
	int events_retry_attempts, events_retry_base_ms, gateway_retry_delay_ms;
	booking_span_fn span_start_fn, span_end_fn;
	void *span_payload;
	/* payment security (options version 4; see payment.c) */
	char *payment_key_file;
	int max_failed_payments_per_reservation, max_failed_payments_per_user_hour;
	/* the box office (options version 6; see boxoffice.c) */
	booking_orphan_policy orphan_policy;
	int hold_max_minutes, best_row_depth_percent;
	/* fair sales (options version 7): 0 = no limit */
	int max_seats_per_user_showtime;
	int hold_cooldown_seconds; /* 0: none */
	/* fair sales, continued (options version 8): 0 = none */
	int max_live_holds_per_user;
	int rate_holds_per_minute, rate_payments_per_minute, rate_logins_per_minute, rate_burst;
	int waitlist_max_passes; /* 0: strict join order */
	int waitlist_max_entries;
	/* the contention guard, continued (options version 9): 0 = every named hold */
	int lock_contended_seconds;
} booking_config;
/* reservation.c: 0, or LIMIT_REACHED when `user_id` had a hold cancelled less than hold_cooldown_seconds ago. */
int booking__cooldown_check(booking_handle *bk, const char *user_id, int64_t now);
/* The per-buyer seat limit as the store takes it (0: none; ledger version 3), and its refusal, worded once. */
size_t booking__user_seat_limit(const booking_handle *bk);
int booking__limit_error(const booking_handle *bk, size_t wanted);
/* The live-hold limit as the store takes it (0: none; ledger version 4), and its refusal. */
size_t booking__user_hold_limit(const booking_handle *bk);
int booking__hold_limit_error(const booking_handle *bk);

/* The store's kv group (store version 7), NULL when it has none. */
static inline const booking_store_kv *booking__store_kv(const booking_store *st)
{
	return st && st->version >= 7 ? st->kv : NULL;
}

typedef struct booking__auth booking__auth;
typedef struct booking__rate_cache booking__rate_cache;

/* ratelimit.c: the rate limits (doc/fairness.md). */
typedef enum booking__rate_action { BOOKING__RATE_HOLD = 0, BOOKING__RATE_PAYMENT = 1, BOOKING__RATE_LOGIN = 2 } booking__rate_action;
/* At open: refuse limits nothing can keep; make the handle's cache. */
int booking__rate_open(booking_handle *bk);
void booking__rate_close(booking_handle *bk);
/* 0, or RATE_LIMITED when `user` (may be NULL) or the ctx's client key is over the action's limit. Admins and system pass. */
int booking__rate_take(booking_handle *bk, const booking_ctx *ctx, booking__rate_action a, const char *user);

typedef struct booking_showtime_cache booking_showtime_cache;

typedef struct booking__store_clock booking__store_clock;

struct booking_handle {
	booking_config cfg;
	const booking_clock *clock;       /* the host's: options.clock or the system clock */
	booking__store_clock *store_clock; /* the store's, sampled; NULL: `clock` is the handle's time (store_clock.c) */
	booking_store *store;
	booking_lock_manager *locks;      /* NULL: no contention guard */
	booking_event_publisher *publisher; /* NULL: the store: transport */
	booking_payment_gateway *gateway;
	pthread_mutex_t consume_lock;     /* one store: consumer per handle at a time */
	atomic_bool locks_degraded;       /* lock manager down: logged once, until it answers again */
	booking_showtime_cache *showtimes; /* what holds need to know of each showtime */
	booking__auth *auth;              /* keys and the dummy hash (auth.c); NULL before open */
	booking__rate_cache *rate;        /* the rate limits' expectations (ratelimit.c); NULL: no rate limit */
	struct booking__obs *obs;         /* breakers, metrics, tracing (resilient.c); NULL before open */
	unsigned char payment_key[32];    /* keys payment request fingerprints (payment.c) */
	bool has_payment_key;             /* payment_key_file was loaded */
};

/* auth.c: load the keys the options name (at open), free them (at close). */
int booking__auth_open(booking_handle *bk);
/* jwk.c: the files keys live in; a key file is trusted only when nobody else could read (secret) or change it. */
typedef enum booking__key_kind {
	BOOKING__KEY_PUBLIC = 0,  /* a public JWK set */
	BOOKING__KEY_PRIVATE = 1, /* a private JWK */
	BOOKING__KEY_PAYMENT = 2  /* the payment key */
} booking__key_kind;
/*
 * Read a (small) key file after checking it and its directory: owned by
 * this user or root, nobody else may write either, and a secret one nobody
 * else may read. VALIDATION_ERROR {"field","file","reason"} otherwise.
 * Caller frees *out with booking_free (wipe it first when secret).
 */
int booking__read_key_file(char **out, size_t *len_out, const char *path, booking__key_kind secret);
/* payment.c: load the payment key (payment_key_file) at open. */
int booking__payment_open(booking_handle *bk);
void booking__auth_close(booking_handle *bk);

/* options.c: defaults, range checks, copying. */
void booking__options_defaults(booking_options *o);
/*
 * The body of every *_options_init(opts, version): refuse a NULL struct or a
 * version outside 1..current (BOOKING_EVALIDATION naming `what`), else zero
 * the first end[version] bytes and set the version.
 */
int booking__struct_init(void *opts, unsigned int version, unsigned int current, const size_t *end,
                         const char *what);
/* Fill `cfg` from `opts` (0 fields → defaults), validating ranges. */
int booking__config_from_options(booking_config *cfg, const booking_options *opts);
void booking__config_clear(booking_config *cfg);

/* error.c */
/* Set an error whose details is a jansson object (stolen, may be NULL). */
int booking__error_json(int code, json_t *details, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;
/* VALIDATION_ERROR naming `field`. */
int booking__error_field(const char *field, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* alloc.c */
void booking__alloc_install_jansson(void);
/* json_dumps() that fails whole on an allocation failure (jansson's can return damaged text). booking_free(). */
char *booking__json_dumps(const json_t *json, size_t flags);
/*
 * The end of every `int f(char **json_out, ...)`: take `json` (owned, may be
 * NULL), write its compact text to *json_out and return 0; or return
 * BOOKING_ENOMEM (set) when it is NULL, when an allocation of jansson's
 * failed on this thread since `failures_before` (booking__json_failures():
 * a tree built while one failed may silently lack members), or when the
 * text cannot be made.
 */
int booking__json_out(char **json_out, json_t *json, unsigned long failures_before);
/*
 * json_loads() that returns NULL, with *oom_out true, when an allocation
 * failed while loading (jansson's can return a damaged tree instead).
 * Detected when the allocator was set with booking_set_allocator().
 */
json_t *booking__json_loads(const char *text, size_t flags, json_error_t *error, bool *oom_out);
/* jansson allocations that failed on this thread so far (counted as above): compare before and after. */
unsigned long booking__json_failures(void);

/* handle.c */
/* The handle's time (UTC ms): the store's clock when it follows it, else the host's (`clock`). */
int64_t booking__now(const booking_handle *bk);
void booking__sleep(const booking_handle *bk, int64_t ms);
/* Uniform random integer in [0, n) for jitter (n > 0). */
uint64_t booking__random(booking_handle *bk, uint64_t n);
/* Context checks: a ctx must be non-NULL with a known version. */
int booking__ctx_check(const booking_ctx *ctx);
int booking__require_admin(const booking_ctx *ctx);           /* admin or system */
int booking__require_user(const booking_ctx *ctx);            /* a user id (customer/admin) */
bool booking__is_privileged(const booking_ctx *ctx);          /* admin or system */
/* Deadline passed → BOOKING_EUNAVAILABLE. */
int booking__ctx_deadline(const booking_handle *bk, const booking_ctx *ctx);

/*
 * store_clock.c: the deployment's clock. At open, when the host injected
 * no clock and the store has clock_now: read it (failing the open when it
 * cannot be read) and keep it sampled from a thread of the handle's own.
 * Close stops that thread; call it before the store is freed.
 */
int booking__store_clock_open(booking_handle *bk, const booking_options *opts);
void booking__store_clock_close(booking_handle *bk);
/* The store's time now, from the last estimate: no round trip, no lock. */
int64_t booking__store_clock_now(const booking__store_clock *c);

/* registry.c: URL → backend. */
int booking__open_backends(booking_handle *bk);

/* schemes.c: the registered URL schemes (sys/registry.h). */
typedef enum booking__backend_kind {
	BOOKING__STORE,
	BOOKING__LOCK_MANAGER,
	BOOKING__EVENT_PUBLISHER,
	BOOKING__PAYMENT_GATEWAY
} booking__backend_kind;
/*
 * Is a `kind` registered for the scheme of `url` (the text before its
 * first ':')? When so and `out` is not NULL, a copy of its def (scheme
 * member NULL) to call the constructor through.
 */
bool booking__backend_find(booking__backend_kind kind, const char *url, booking_backend_def *out);
/* "memory:, sqlite:, ..." — the schemes registered for `kind`, in registration order, for messages. */
void booking__backend_schemes(booking__backend_kind kind, char *buf, size_t size);
/*
 * Defined in backends/builtin.c: registers the built-in backends through
 * booking_backend_register(). schemes.c calls it once, on the table's first
 * use. The core's one link to backends/, and it names no backend.
 */
void booking__backends_register_builtin(void);

/* log.c: one JSON line to the sink. `fields` is stolen (may be NULL). */
void booking__log_emit(const booking_handle *bk, const booking_ctx *ctx, booking_log_level level, const char *msg,
                       json_t *fields);
static inline bool booking__log_wanted(const booking_handle *bk, booking_log_level level)
{
	return bk && bk->cfg.log_fn && level >= bk->cfg.log_level;
}
/*
 * booking__log(bk, ctx, level, msg, fields): booking__log_emit() when the host has a sink that takes `level`;
 * otherwise `fields` (usually a json_pack() call) is not evaluated at all, so a quiet handle builds no JSON.
 */
#define booking__log(bk, ctx, level, msg, fields) \
	do { \
		if (booking__log_wanted((bk), (level))) \
			booking__log_emit((bk), (ctx), (level), (msg), (fields)); \
	} while (0)

/* validate.c */
bool booking__utf8_valid(const char *s, size_t len);
/* The code point of the UTF-8 character at s (1..4 bytes), or 0 when malformed. */
size_t booking__utf8_next(const char *s, size_t len, uint32_t *cp_out);
/* C0/C1 controls, DEL, bidi overrides/isolates/marks, line separators: never in names or on a terminal. */
bool booking__cp_is_unsafe(uint32_t cp);
/*
 * An untrusted value made safe for a message: at most `max_chars`
 * characters (then "…"), unsafe characters as \uXXXX, malformed bytes as
 * \xNN, backslash doubled; cut only between characters; always
 * NUL-terminated valid UTF-8. Returns the length written.
 */
size_t booking__quote(char *out, size_t cap, const char *s, size_t max_chars);
/* The same over s[0..len), backslashes kept as they are unless escape_backslash. */
size_t booking__sanitize(char *out, size_t cap, const char *s, size_t len, size_t max_chars, bool escape_backslash);
int booking__check_text(const char *field, const char *s, size_t min, size_t max);
int booking__check_id(const char *field, const char *id);           /* canonical UUID text */
int booking__check_user_id(const char *field, const char *user_id);
int booking__check_label(const char *field, const char *label);
int booking__check_category(const char *field, const char *category);
int booking__check_currency(const char *field, const char *currency);
int booking__check_group(const char *field, const char *group);
/* "an" before a word that starts with a vowel (EXPIRED), else "a": for messages naming a state. */
const char *booking__article(const char *word);
/* Copy `src` into fixed buffer `dst` of `size` (must fit: validated before). */
void booking__copy(char *dst, size_t size, const char *src);

/* outbox.c: build an event record for the store. Strings are owned by `ev` (free with booking__event_clear). */
typedef struct booking__event {
	booking_event_record rec;
	char *type, *aggregate_type, *correlation_id, *traceparent, *data_json;
} booking__event;
int booking__event_init(booking__event *ev, const booking_handle *bk, const booking_ctx *ctx, const char *type,
                        const char *aggregate_type, const char *aggregate_id, json_t *data /* stolen */);
/* booking__event_init() with the data already JSON text (stolen; NULL: out of memory). */
int booking__event_init_text(booking__event *ev, const booking_handle *bk, const booking_ctx *ctx, const char *type,
                             const char *aggregate_type, const char *aggregate_id, char *data_json /* stolen */);
void booking__event_clear(booking__event *ev);
/* The envelope JSON of a stored event. Caller frees with booking_free(). */
char *booking__event_envelope(const booking_event_record *rec);
/* Parse an envelope into a booking_event (strings borrowed from *root_out, keep it alive). */
int booking__event_parse(booking_event *out, json_t **root_out, const char *envelope_json);
/* Data objects of the reservation and payment events. */
json_t *booking__reservation_event_data(const booking_reservation *b, const char *reason);
/* booking__reservation_event_data() as the text an event keeps (compact, keys sorted), built without a JSON tree when no text needs escaping. Caller frees; NULL: out of memory. */
char *booking__reservation_event_text(const booking_reservation *b, const char *reason);
/* `d`, or NULL (d freed) when a jansson allocation failed on this thread since `json_failures_before`: an event's data is whole or missing. */
json_t *booking__event_data_checked(json_t *d, unsigned long json_failures_before);
json_t *booking__payment_event_data(const booking_payment *p, const char *reason);

/*
 * reservation.c: a reservation from the store as the library shows it: its
 * seats in layout order (by position), with their rows and numbers. Every
 * read of a reservation goes through it. Caller owns *out (booking_reservation_free()).
 */
int booking__reservation_read(booking_handle *bk, const char *id, booking_reservation **out);
/*
 * A change lost its guard because the reservation moved: free *r and read it
 * again for attempt + 1, or answer LOCK_ACQUISITION_FAILED ("WHAT; try
 * again") once `attempts` are spent. *r is NULL after a failure.
 */
int booking__reservation_reread(booking_handle *bk, booking_reservation **r, int attempt, int attempts,
                                const char *what);
/*
 * reservation.c: booking_hold() itself: named seats through the store's
 * hold primitive (one write; the contention guard around it), or, under an
 * orphan policy, through the box office.
 */
int booking__hold_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                      const char *const *seat_labels, size_t seat_count);
/* boxoffice.c: booking_hold() under an orphan policy (the hold's neighbours are part of the decision). */
/*
 * boxoffice.c: a waiting list's offer: the best `party` seats held for
 * `user_id` with `key` (system ctx, never a blocked seat, under the buyer's
 * seat and live-hold limits); *replayed: the key named a hold made before.
 */
int booking__hold_offer(booking_reservation **out, bool *replayed, booking_handle *bk, const char *showtime_id,
                        const char *user_id, size_t party, const char *category, const char *key);
/* waitlist.c: seats of `showtime_id` came back: settle its waiting list and offer them (errors are logged, not returned). */
void booking__waitlist_returned(booking_handle *bk, const char *showtime_id);
int booking__hold_named(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                        const char *const *seat_labels, size_t seat_count);
/*
 * reservation.c: the contention guard's marks (doc/scaling.md). A named hold's seat keys stay in the lock
 * manager after the store accepted it, owned by "held:<reservation id>" until the hold's expiry, so later
 * buyers of those seats are refused without asking the store. Call after a store change freed seats of
 * `reservation_id` before that expiry (`labels`: the freed seats); a failure is logged, the marks lapse.
 */
void booking__marks_drop(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                         const char *reservation_id, const char *const *labels, size_t n);
/* booking__marks_drop() of every seat of `r`. */
void booking__marks_drop_all(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r);
/* The seats of `r` are now held only until `until` (a payment's window): its marks lapse then at the latest. */
void booking__marks_until(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r, int64_t until);
/* The seats of `r` were sold: its marks stand again until the hold's own expiry (a refund drops them). */
void booking__marks_sold(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r);

/* reservation.c / payment.c record helpers */
json_t *booking__reservation_json(const booking_reservation *r);
json_t *booking__payment_json(const booking_payment *p);

/* events.c: one poll; `seen_out` counts every message read (for draining). */
int booking__consume_poll(booking_handle *bk, const booking_consumer_options *opts, booking_event_handler handler,
                          void *payload, size_t *handled_out, size_t *seen_out);

/*
 * showtime_cache.c: what never changes about a showtime once scheduled
 * (no API changes one), read from the store once per handle: its screen,
 * start, status, currency, and every seat by position with its label,
 * category, price, row (counted from the screen) and column (aisles
 * counted). Shared and read-only: release each one got.
 */
typedef struct booking__seat_facts {
	char label[BOOKING_LABEL_SIZE];
	char category[BOOKING_CATEGORY_SIZE];
	int64_t price; /* -1: the showtime prices no such category */
	int row, column;
} booking__seat_facts;
typedef struct booking__showtime_facts {
	char id[BOOKING_ID_SIZE];
	char screen_id[BOOKING_ID_SIZE];
	int64_t starts_at;
	booking_showtime_status status;
	char currency[BOOKING_CURRENCY_SIZE];
	size_t count;
	booking__seat_facts *seats; /* by position */
} booking__showtime_facts;
int booking__showtime_facts_get(booking_handle *bk, const char *showtime_id, const booking__showtime_facts **out);
void booking__showtime_facts_release(const booking__showtime_facts *f);
/* uuid.c: random bytes for identifiers (ids, trace ids), from a buffer of the thread's; never for secrets. */
void booking__random_id_bytes(void *out, size_t n);
/*
 * The showtime's turn: best-available holds of one showtime take turns
 * within a handle (boxoffice.c), one mutex per showtime, held by whoever
 * holds a reference to the facts.
 */
pthread_mutex_t *booking__showtime_turn(const booking__showtime_facts *f);
/* The position of the seat `label` in the facts (log n), -1 when the showtime has none. */
long booking__showtime_facts_find(const booking__showtime_facts *f, const char *label);
/* showtime_cache.c: validate the showtime and the labels of `r`, set its total, currency and seat positions. */
int booking__showtime_cache_new(booking_showtime_cache **out);
void booking__showtime_cache_free(booking_showtime_cache *c);
int booking__showtime_price(booking_handle *bk, const char *showtime_id, booking_reservation *r, int64_t now);
/*
 * The contention guard's contended-only mode (lock_contended_seconds): whether a hold of the showtime met a
 * taken or locked seat in this handle in the last lock_contended_seconds (false when it is not cached), and
 * booking__showtime_contention() records that one did at `now`.
 */
bool booking__showtime_contended(booking_handle *bk, const char *showtime_id, int64_t now);
void booking__showtime_contention(booking_handle *bk, const char *showtime_id, int64_t now);
/* "seats: the showtime has no seat LABEL", VALIDATION with {"field":"seats","label":LABEL}: the one wording of an unknown seat. */
int booking__seat_unknown_error(const char *label);

/*
 * layout.c: the row and number a seat label names, the one rule of
 * catalog.h (booking_seat): row = the leading letters, number = the digits
 * after them when they run to the end (at most 9), else 0.
 */
void booking__seat_split(const char *label, char row[BOOKING_LABEL_SIZE], int *number);

/* catalog.c: the price of a category at a showtime, -1 if none. */
/*
 * catalog.c: the columns of a showtime's `count` seats (label_at(seats, i)
 * names seat i) from its screen: aisles counted; 0 where the screen gives
 * none (a store of catalog version 1, or a screen that does not match).
 */
int booking__screen_columns(booking_handle *bk, const char *screen_id, size_t count, const char *(*label_at)(const void *, size_t),
                            const void *seats, int *columns);
int64_t booking__price_of(const booking_showtime *s, const char *category);

/*
 * records.c: arrays of records (doc/decisions.md, "Records and the ABI").
 * Handed out: booking_record_array_new()'s layout, a pointer per record.
 * Handed in: the caller's records, `src_size` bytes apart.
 */
/* The first release's size of a record: the end of its last field then. */
#define BOOKING__RECORD_END(type, last_field) (offsetof(type, last_field) + sizeof(((type *)0)->last_field))
#define BOOKING__SEAT_SIZE_V1 BOOKING__RECORD_END(booking_seat, category)
#define BOOKING__PRICE_SIZE_V1 BOOKING__RECORD_END(booking_price, amount)
/*
 * Turn `count` contiguous records of `size` bytes (a booking_malloc'd block,
 * `records`) into the handed-out layout, in place (one realloc). NULL when
 * out of memory (error set); `records` is then still the caller's. NULL for 0 records too.
 */
void **booking__record_array_adopt(void *records, size_t count, size_t size);
/* A handed-out copy of `count` records of `size` bytes that `src` points at; 0 or BOOKING_ENOMEM. */
int booking__record_array_dup(void ***out, const void *const *src, size_t count, size_t size);
/*
 * A handed-out array of `count` records of the library's `size` from the
 * caller's `src`, whose records are `src_size` bytes apart: the fields that
 * fit in `src_size` are copied, later fields are zero. BOOKING_EVALIDATION
 * naming `size_field` when `src_size` < `min_size` (the first release's
 * record); BOOKING_ENOMEM. `*out` NULL after a failure.
 */
int booking__record_array_in(void ***out, const void *src, size_t count, size_t src_size, size_t size, size_t min_size,
                             const char *size_field);
/* Copy one record of `src_size` bytes into one of `dst_size`: the common prefix, the rest zero. */
void booking__record_convert(void *dst, size_t dst_size, const void *src, size_t src_size);

/* Correlation id of a ctx, or a generated one into buf. */
const char *booking__correlation_id(const booking_handle *bk, const booking_ctx *ctx, char buf[BOOKING_ID_SIZE]);

#endif
