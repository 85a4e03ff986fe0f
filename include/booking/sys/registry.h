/*
 * libbooking backend API — open registration of backends by URL scheme.
 *
 * A URL names its backend by its scheme, the text before the first ':'
 * ("memory" in "memory:", "postgresql" in "postgresql://db/x"). A backend
 * registers its scheme with the constructors it provides; booking_open(),
 * booking_store_open() and the other *_open() calls, and
 * booking_options_from_env(), then accept URLs of that scheme. The
 * built-in backends (memory, sqlite, postgresql and postgres, redis,
 * simulated) register through this same call when the registry is first
 * used. doc/backends.md tells how to write one.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_REGISTRY_H
#define BOOKING_SYS_REGISTRY_H

#include "../common.h"
#include "../errors.h"
#include "../options.h"

BOOKING_BEGIN_DECL

/**
 * Constructors. Each makes one object for `url` (the whole URL, scheme
 * included, borrowed for the call) and returns 0 with `*out` set — the
 * caller owns it and frees it with its `free` member — or a negative
 * booking_error_code with `*out` NULL and the thread's error set with
 * booking_error_set(). A URL the backend cannot use (a missing path, an
 * unknown parameter) is BOOKING_EVALIDATION naming the field. The core
 * validates what a constructor returns (version, required members) and
 * frees it on failure. `payload` is the def's, unchanged. Constructors
 * are called from any thread, possibly at once.
 *
 * A backend's settings (pool sizes, timeouts, ...) are parameters of its
 * URL, read with <booking/sys/url.h>; booking_options holds none. `clock`
 * is the host's clock of the handle (booking_options.clock; borrowed,
 * outlives the object) and may be NULL, meaning booking_clock_system().
 * (The time the core decides by may be a shared store's own:
 * booking_store.clock_now.)
 */
typedef int (*booking_store_ctor)(booking_store **out, const char *url, const booking_clock *clock, void *payload);
/** Makes a lock manager for `url`, as booking_store_ctor makes a store (`out`, `clock`, `payload` alike); any thread. */
typedef int (*booking_lock_manager_ctor)(booking_lock_manager **out, const char *url, const booking_clock *clock,
                                         void *payload);
/** Makes an event publisher for `url`, as booking_store_ctor makes a store (`out`, `clock`, `payload` alike); any thread. */
typedef int (*booking_event_publisher_ctor)(booking_event_publisher **out, const char *url,
                                            const booking_clock *clock, void *payload);
/** Makes a payment gateway for `url`, as booking_store_ctor makes a store (`out`, `payload` alike; no clock); any thread. */
typedef int (*booking_payment_gateway_ctor)(booking_payment_gateway **out, const char *url, void *payload);

/**
 * 2: the store constructor takes the handle's clock where it took
 * booking_options. A version 1 def is still accepted when it provides no
 * store (its other constructors have not changed).
 */
#define BOOKING_BACKEND_DEF_VERSION 2

/** Longest scheme a def may register, in bytes (without the ':'). */
#define BOOKING_BACKEND_SCHEME_MAX 31

/** How many defs the registry holds at once, built-ins included. */
#define BOOKING_BACKEND_MAX 32

/**
 * A backend: its URL scheme and a constructor for each kind of object it
 * provides (NULL for the kinds it does not provide; at least one is set).
 * Start from BOOKING_BACKEND_DEF_INIT; members are appended, never
 * reordered, in later versions.
 */
typedef struct booking_backend_def {
	unsigned int version; /**< BOOKING_BACKEND_DEF_VERSION */
	/**
	 * required: the scheme without its ':', e.g. "mystore" for URLs
	 * "mystore:..." — a lower-case letter, then lower-case letters, digits,
	 * '+', '-' or '.', at most BOOKING_BACKEND_SCHEME_MAX bytes. Copied.
	 * Matching is exact and case-sensitive.
	 */
	const char *scheme;
	booking_store_ctor store;                     /**< optional: store URLs (store_url) */
	booking_lock_manager_ctor lock_manager;       /**< optional: lock URLs (lock_url) */
	booking_event_publisher_ctor event_publisher; /**< optional: events URLs (events_url); "store" is reserved */
	booking_payment_gateway_ctor payment_gateway; /**< optional: gateway URLs (gateway_url) */
	void *payload; /**< optional: handed to every constructor; borrowed, must outlive the registration */
} booking_backend_def;

#ifdef __cplusplus
/* C++17 has no designated initialisers: value-initialise, then set the version (-Wextra stays quiet). */
static inline booking_backend_def booking_backend_def_init_value(void)
{
	booking_backend_def v = {};
	v.version = BOOKING_BACKEND_DEF_VERSION;
	return v;
}
#define BOOKING_BACKEND_DEF_INIT booking_backend_def_init_value()
#else
#define BOOKING_BACKEND_DEF_INIT {.version = BOOKING_BACKEND_DEF_VERSION}
#endif

/**
 * Register a backend for the whole process. From then on a URL of
 * `def->scheme` opens through the def's constructors, for the kinds it
 * provides, in every handle (open handles keep the backends they have).
 *
 * @param def borrowed for the call; the scheme is copied. The constructors
 *        and `payload` must stay valid until booking_backend_unregister()
 *        (for a plugin: do not unload its code while it is registered).
 * @return 0; BOOKING_EVALIDATION when `def` is NULL, its version is 0 or
 *         newer than this library's, it is a version 1 def with a store
 *         constructor (built for the old constructor type), its scheme is
 *         not a valid one, or it provides no constructor; BOOKING_EEXISTS when a kind it provides
 *         is already registered under its scheme (the built-ins included;
 *         nothing is registered then); BOOKING_ENOMEM when
 *         BOOKING_BACKEND_MAX defs are registered already.
 *
 * Thread-safe. Allocates nothing (a fixed table), so it may be called
 * before booking_set_allocator() as well as after.
 */
BOOKING_EXTERN(booking_error_code) booking_backend_register(const booking_backend_def *def);

/**
 * Unregister every kind registered under `scheme` (the built-ins too, if
 * asked). URLs of that scheme are then unknown again. Objects opened
 * before stay valid; an *_open() already running in another thread may
 * still call the old constructor, so a host unloading a plugin's code
 * must first make sure no open is in progress.
 * @param scheme the scheme without its ':'; borrowed for the call.
 *
 * @return 0; BOOKING_EVALIDATION when `scheme` is NULL; BOOKING_ENOTFOUND
 *         when nothing is registered under it. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_backend_unregister(const char *scheme);

BOOKING_END_DECL

#endif
