/*
 * libbooking — opening a handle and its options.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_OPTIONS_H
#define BOOKING_OPTIONS_H

#include "common.h"
#include "errors.h"
#include "observability.h"

BOOKING_BEGIN_DECL

/* Backend types, defined for backend authors in <booking/sys/...>. */
typedef struct booking_store booking_store;
typedef struct booking_lock_manager booking_lock_manager;
typedef struct booking_event_publisher booking_event_publisher;
typedef struct booking_payment_gateway booking_payment_gateway;
typedef struct booking_clock booking_clock;

/** Log levels, the numbers of Python's logging module. */
typedef enum booking_log_level {
	BOOKING_LOG_DEBUG = 10,
	BOOKING_LOG_INFO = 20,
	BOOKING_LOG_WARNING = 30,
	BOOKING_LOG_ERROR = 40,
	BOOKING_LOG_CRITICAL = 50
} booking_log_level;

/**
 * The stable name of a log level: the constant without its prefix ("WARNING").
 * @param level a booking_log_level; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_log_level_name(booking_log_level level);

/**
 * A log sink (booking_options.log_fn): receives one JSON object per line
 * (no trailing newline).
 * @param level     the line's level; lines below booking_options.log_level are not sent.
 * @param json_line the line; borrowed for the call only (copy it to keep it).
 * @param payload   booking_options.log_payload, unchanged.
 * Called from any thread (the handle's own store clock thread too); must be
 * thread-safe.
 */
typedef void (*booking_log_fn)(booking_log_level level, const char *json_line, void *payload);

/**
 * A ready-made sink: writes each line and a newline to stderr. The library
 * logs nothing unless the host sets a sink (booking_options.log_fn) — this
 * one, or its own; booking_options_from_env() sets this one when
 * BOOKING_LOG_LEVEL is set.
 * @param level     unused (the handle filtered already).
 * @param json_line the line, borrowed for the call; NULL writes nothing.
 * @param payload   unused; may be NULL.
 * Thread-safe: one write per line, so lines of concurrent threads do not interleave.
 */
BOOKING_EXTERN(void) booking_log_to_stderr(booking_log_level level, const char *json_line, void *payload);

/** What a declined payment does to its reservation. */
typedef enum booking_decline_policy {
	BOOKING_DECLINE_KEEP_HOLD = 0, /**< back to PENDING: the user may retry until the hold expires */
	BOOKING_DECLINE_RELEASE = 1    /**< cancel the reservation and release its seats (compensation) */
} booking_decline_policy;

/**
 * The stable name of a decline policy: the constant without its prefix ("KEEP_HOLD").
 * @param policy a booking_decline_policy; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_decline_policy_name(booking_decline_policy policy);

/**
 * Single empty seats a hold may leave (doc/boxoffice.md, "No orphans"): a
 * seat left alone between taken seats, or between a taken seat and a row's
 * end or an aisle, rarely sells.
 */
typedef enum booking_orphan_policy {
	BOOKING_ORPHANS_OFF = 0,    /**< holds may strand seats (the default: as before) */
	BOOKING_ORPHANS_REFUSE = 1, /**< a hold that would strand a seat is refused (ORPHAN_SEAT) */
	BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE = 2 /**< refused, unless no choice of as many seats would strand none (the last seats of a show still sell) */
} booking_orphan_policy;

/**
 * The stable name of an orphan policy: the constant without its prefix ("REFUSE").
 * @param policy a booking_orphan_policy; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_orphan_policy_name(booking_orphan_policy policy);

/**
 * 2 added the authentication fields at the end, 3 the resilience and
 * observability fields after them, 4 the payment secret and the payment
 * attempt limits; 5 retired the backend settings (pool sizes, timeouts,
 * SQLite synchronous), which travel in the backends' URLs now; 6 added the
 * box office's settings (orphan policy, hold lifetime cap, preferred row);
 * 7 the per-buyer seat limit; 8 the live-hold limit, rate limits and the
 * waiting list; 9 the contention guard's contended-only mode
 * (lock_contended_seconds). Version 1 to 8 structs are still accepted.
 */
#define BOOKING_OPTIONS_VERSION 9

/**
 * Everything booking_open() needs. Start from BOOKING_OPTIONS_INIT or
 * booking_options_init(), or from the environment with
 * booking_options_from_env(). Strings are borrowed for the duration of
 * booking_open() only. Integer fields left at 0 take their default.
 *
 * Each field documents its range; booking_open() refuses a value out
 * of range with BOOKING_EVALIDATION naming the field.
 *
 * Versioning: fields are only appended. A struct whose version is 1 ends at
 * `gateway`, one whose version is 2 at `jwt_leeway_seconds`, one whose
 * version is 3 at `span_payload`: the library
 * never reads the fields after its end and uses their defaults.
 *
 * Settings of one backend are not here: they are parameters of its URL
 * ("sqlite:///var/lib/booking.db?synchronous=full&pool=10",
 * "postgresql://host/db?pool=10&statement_timeout=30",
 * "redis://host:6379?timeout_ms=2000"), listed per backend in
 * doc/backends.md. The fields that held them until version 4 are kept as
 * `retired_*` slots, so that structs of every version line up; they must
 * be 0.
 */
typedef struct booking_options {
	unsigned int version; /**< BOOKING_OPTIONS_VERSION */

	/* --- backends, by URL, each with its settings as URL parameters ---- */
	const char *store_url;   /**< "memory:", "sqlite:///path.db", "sqlite::memory:", "postgresql://..."; NULL = "memory:"; "" is refused */
	const char *lock_url;    /**< "memory:" or NULL/"" = no contention guard (the store alone decides) */
	const char *events_url;  /**< "store:" (default: consumers read the outbox) or "memory:" */
	const char *gateway_url; /**< "simulated:" (default): test cards decide the outcome */

	/* --- business rules ----------------------------------------------- */
	int hold_expiry_minutes;    /**< hold lifetime, 5..60, default 15 */
	int max_seats_per_reservation;     /**< 1..50, default 10 */
	int payment_window_seconds;    /**< seats stay held this long once payment starts, 30..900, default 120 */
	booking_decline_policy decline_policy; /**< default BOOKING_DECLINE_KEEP_HOLD */

	/* --- contention guard --------------------------------------------- */
	int lock_ttl_seconds;      /**< 5..300, default 30 */
	int lock_retry_count;      /**< 1..20, default 5 */
	int lock_retry_delay_ms;   /**< 10..1000, default 100 (jittered) */

	/**
	 * Retired in version 5, must be 0: db_pool_size, db_pool_timeout_seconds,
	 * sqlite_synchronous_full and gateway_timeout_seconds until version 4.
	 * booking_open() refuses a struct that sets one (BOOKING_EVALIDATION
	 * naming the old field): set the backend's URL parameter instead.
	 */
	int retired_v1[4];

	/* --- payments and consumers --------------------------------------- */
	int gateway_max_retries;       /**< retries of a charge whose outcome is unknown (same key), 0..10, default 2; -1 for none */
	int consumer_max_deliveries;   /**< attempts before a message is dead-lettered, 1..100, default 5 */
	int consumer_retry_base_ms;    /**< first retry backoff, 1..60000, default 100 */

	/* --- resilience --------------------------------------------------- */
	int circuit_breaker_failure_threshold; /**< 1..20, default 5 */
	int circuit_breaker_recovery_seconds;  /**< 10..300, default 30 */

	/* --- observability ------------------------------------------------ */
	const char *service_name;  /**< logger name in log lines, default "libbooking" */
	booking_log_level log_level; /**< 0 = BOOKING_LOG_INFO */
	booking_log_fn log_fn;     /**< NULL: no logging (the default); booking_log_to_stderr: JSON lines on stderr */
	void *log_payload;

	/* --- hooks -------------------------------------------------------- */
	/**
	 * borrowed, must outlive the handle. NULL: the deployment's clock — the
	 * store's when it has one (PostgreSQL: the database server's, sampled;
	 * the open fails when it cannot be read), else the system clock
	 * (doc/rulebook.md, "One clock per deployment"). A clock set here wins
	 * on every store (tests inject a manual one).
	 */
	const booking_clock *clock;

	/* --- custom backends (take precedence over the URLs) -------------- */
	booking_store *store;                 /**< ownership passes to booking_open(), even when it fails */
	booking_lock_manager *lock_manager;   /**< ditto */
	booking_event_publisher *publisher;   /**< ditto */
	booking_payment_gateway *gateway;     /**< ditto */

	/* --- since version 2: authentication (doc/auth.md) ---------------- */
	int password_opslimit;      /**< argon2id passes, 1..10, default 2 */
	int password_memlimit_kib;  /**< argon2id memory in KiB, 8..4194304, default 65536 (64 MiB) */
	const char *jwt_private_key_file;  /**< private JWK that signs tokens; NULL: this handle issues none.
	                                        Refused at open unless owned by this user (or root), mode 0600/0400,
	                                        in a directory no one else may write: see booking_signing_key_load() */
	const char *jwt_public_keys_file;  /**< public JWK set {"keys":[...]} that verifies tokens (plus the private key's own).
	                                        Refused at open when group/world-writable or another user's, or in such
	                                        a directory: see booking_jwk_set_load() */
	const char *jwt_issuer;     /**< `iss` issued and required, 1..200 bytes, default "libbooking" */
	const char *jwt_audience;   /**< `aud` issued and required, 1..200 bytes, default "libbooking" */
	int access_token_ttl_seconds; /**< token lifetime, 60..86400, default 900 (15 min) */
	int jwt_leeway_seconds;     /**< clock skew tolerated on exp/nbf/iat, 0..300, default 30; -1 for none */

	/* --- since version 3: resilience and observability (doc/observability.md) */
	int circuit_breaker_success_threshold; /**< successes in HALF_OPEN that close a circuit, 1..20, default 2 */
	int store_retry_attempts;   /**< attempts of an idempotent store call on a transient error, 1..10, default 2 */
	int store_retry_base_ms;    /**< first backoff before a store retry (doubling, full jitter), 1..10000, default 50 */
	int locks_retry_attempts;   /**< attempts of a lock manager call on a transient error, 1..10, default 3 */
	int locks_retry_base_ms;    /**< 1..10000, default 100 */
	int events_retry_attempts;  /**< attempts of an event publisher call on a transient error, 1..10, default 3 */
	int events_retry_base_ms;   /**< 1..10000, default 500 */
	int gateway_retry_delay_ms; /**< fixed wait between charge retries (gateway_max_retries), 1..60000, default 1000 */
	/**
	 * Retired in version 5, must be 0, as retired_v1:
	 * gateway_connect_timeout_seconds, db_connect_timeout_seconds,
	 * db_statement_timeout_seconds, redis_connect_timeout_ms and
	 * redis_timeout_ms until version 4.
	 */
	int retired_v3[5];
	booking_span_fn span_start_fn;    /**< tracing: a use case or backend call starts; NULL: none */
	booking_span_fn span_end_fn;      /**< tracing: it ended (status, duration); NULL: none */
	void *span_payload;               /**< passed to both */

	/* --- since version 4: payment security (doc/security.md) ----------- */
	/**
	 * A file holding the secret that keys the idempotency fingerprint of a
	 * payment request (HMAC-SHA256 over the reservation and the card number):
	 * 64 hex digits (32 random bytes; booking_payment_key_generate_file()
	 * makes one), mode 0600, owned by the process's user. It must not live in
	 * the database. No default: without it booking_pay() answers
	 * BOOKING_ENOTSUPPORTED. Every process that pays against one store needs
	 * the same key, or retries between them answer IDEMPOTENCY_KEY_REUSED.
	 */
	const char *payment_key_file;
	int max_failed_payments_per_reservation;   /**< failed payments a reservation may have before more are refused, 1..100, default 5; -1 for no limit */
	int max_failed_payments_per_user_hour; /**< failed payments a user may have in the last hour, 1..1000, default 20; -1 for no limit */

	/* --- since version 6: the box office (doc/boxoffice.md) ------------ */
	booking_orphan_policy orphan_policy; /**< default BOOKING_ORPHANS_OFF */
	/**
	 * The longest a hold may live, extensions included, counted from the
	 * hold: hold_expiry_minutes..240; 0: twice hold_expiry_minutes.
	 */
	int hold_max_minutes;
	/**
	 * Best available: the preferred row, as a share of the way from the
	 * row nearest the screen (0) to the farthest (100); 1..100, default 60
	 * (a cinema's middle-back); -1 for the front row (a theatre's choice).
	 */
	int best_row_depth_percent;

	/* --- since version 7: fair sales (doc/configuration.md) ------------- */
	/**
	 * The most seats one buyer may hold plus have bought of one showtime,
	 * 1..1000, default 10; -1 for no limit. A hold over it fails with
	 * BOOKING_ELIMIT_REACHED, decided in the hold's own transaction (store
	 * ledger version 3). An admin's hold for a user (for_user_id) is not
	 * limited.
	 */
	int max_seats_per_user_showtime;
	/**
	 * After a buyer's hold is cancelled, how long before the same buyer may
	 * hold again, 1..3600 seconds; 0 (the default): no cooldown. A hold
	 * within it fails with BOOKING_ELIMIT_REACHED (details
	 * retry_after_seconds). Judged from the buyer's 20 newest reservations;
	 * an admin's hold for a user is not held back.
	 */
	int hold_cooldown_seconds;

	/* --- since version 8: fair sales, continued (doc/fairness.md) ------- */
	/**
	 * The most live holds (pending reservations not yet expired) one buyer
	 * may have at once, over every showtime, 1..1000; 0 (the default): no
	 * limit. Decided in the hold's own transaction (store ledger version
	 * 4); BOOKING_ELIMIT_REACHED names it. An admin's hold for a user and
	 * a waiting-list offer are not limited.
	 */
	int max_live_holds_per_user;
	/**
	 * Rate limits, per minute, each for one user and, separately, for one
	 * client key (booking_ctx.client_key: an IP address, say): holds,
	 * payments (each new payment attempt; replays are free) and logins.
	 * 1..100000; 0 (the default): no limit. Over it: BOOKING_ERATE_LIMITED
	 * with details limit, key (user or client) and retry_after_seconds. Shared by every process of a
	 * deployment: in the lock manager when it keeps registers (Redis), else
	 * in the store (its kv group).
	 */
	int rate_holds_per_minute;
	int rate_payments_per_minute; /**< as rate_holds_per_minute, for payments */
	int rate_logins_per_minute;   /**< as rate_holds_per_minute, for logins */
	/** How many requests a rate limit lets through at once before it paces them, 1..1000, default 5. */
	int rate_burst;
	/**
	 * The waiting list: how often a waiting party may be passed over by a
	 * later, smaller party that fits, 1..100, default 3; -1: never (strict
	 * join order). A party passed over that often stops the line behind it
	 * until it is offered seats or leaves (doc/fairness.md).
	 */
	int waitlist_max_passes;
	/** The most parties waiting for one showtime, 1..100000, default 1000. */
	int waitlist_max_entries;

	/* --- since version 9: the contention guard, continued (doc/configuration.md) */
	/**
	 * 0 (the default): the contention guard (lock_url) takes the seat keys
	 * of every named hold. 1..3600: only of holds of a contended showtime:
	 * a showtime is contended, for this handle, from the moment one of its
	 * holds meets a seat already taken or locked until this many seconds
	 * pass without another; an uncontended hold goes to the store alone
	 * (one round trip instead of three) and leaves no mark. Always safe:
	 * the store decides either way.
	 */
	int lock_contended_seconds;
} booking_options;

#ifdef __cplusplus
/* C++17 has no designated initialisers: value-initialise, then set the version (-Wextra stays quiet). */
static inline booking_options booking_options_init_value(void)
{
	booking_options v = {};
	v.version = BOOKING_OPTIONS_VERSION;
	return v;
}
#define BOOKING_OPTIONS_INIT booking_options_init_value()
#else
#define BOOKING_OPTIONS_INIT {.version = BOOKING_OPTIONS_VERSION}
#endif

/**
 * Initialise `opts` to the defaults, as BOOKING_OPTIONS_INIT does: every
 * field 0 or NULL (a 0 takes the field's default at booking_open()) and
 * `version` set.
 * @param opts the caller's struct to fill; only the fields of `version` are written.
 * @param version BOOKING_OPTIONS_VERSION of the header the caller was
 *        compiled with (1..BOOKING_OPTIONS_VERSION: an older program's
 *        smaller struct is filled as far as it reaches, no further).
 * @return 0, or BOOKING_EVALIDATION (NULL `opts`, or a version this library
 *         does not know: `opts` is untouched). Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_options_init(booking_options *opts, unsigned int version);

/**
 * Read options from `BOOKING_*` environment variables, after those of the
 * env file named by BOOKING_ENV_FILE (KEY=VALUE lines) when it is set; the
 * environment wins over the file. See doc/configuration.md for the list.
 *
 * @param out caller owns the result; free with booking_options_free(). The
 *            strings it points to belong to it. NULL after a failure.
 * @return 0, BOOKING_EVALIDATION (NULL `out`; the env file cannot be read
 *         (field BOOKING_ENV_FILE) or has a bad line; a value out of range:
 *         the message names the variable and its allowed range),
 *         BOOKING_ENOMEM.
 * Thread-safe as far as the environment is: it reads `environ`, which no
 * other thread may change meanwhile (setenv()).
 */
BOOKING_EXTERN(booking_error_code) booking_options_from_env(booking_options **out);

/**
 * As booking_options_from_env(), with an explicit env file instead of
 * BOOKING_ENV_FILE.
 * @param out      caller owns the result; free with booking_options_free();
 *                 NULL after a failure.
 * @param env_file KEY=VALUE lines read before the environment; borrowed;
 *                 NULL or "": none.
 * @return 0, BOOKING_EVALIDATION (NULL `out`; the env file cannot be read
 *         or has a bad line; a value out of range), BOOKING_ENOMEM.
 * Thread-safe as far as the environment is (see booking_options_from_env()).
 */
BOOKING_EXTERN(booking_error_code) booking_options_load(booking_options **out, const char *env_file);

/**
 * Free options from booking_options_from_env() or booking_options_load(),
 * with the strings they hold.
 * @param opts only a struct one of those two returned (a struct the caller
 *             filled itself must not be passed); NULL is a no-op.
 * Thread-safe, for options no other thread uses.
 */
BOOKING_EXTERN(void) booking_options_free(booking_options *opts);

/**
 * Route every allocation of the library (and of jansson) through these
 * functions. Process-wide, like sqlite3_config(SQLITE_CONFIG_MALLOC): call it
 * before any other libbooking call, from one thread. Pass all three, or all
 * NULL to restore the C library's allocator (any NULL restores it).
 * @param malloc_fn  as malloc(); never asked for 0 bytes.
 * @param realloc_fn as realloc(); never asked for 0 bytes.
 * @param free_fn    as free(); frees what the other two returned.
 * The functions are kept (not copied): they must stay valid while the
 * library runs, and be thread-safe themselves.
 * Not thread-safe: process-wide state, set while no other thread uses the library.
 */
BOOKING_EXTERN(void) booking_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                                          void (*free_fn)(void *));

BOOKING_END_DECL

#endif
