/*
 * libbooking backend API — a pool of connections.
 *
 * What a networked or file store needs around its connections, written
 * once: at most `size` of them, opened lazily by the backend's callback; a
 * caller that finds them all checked out waits up to `wait_ms` for one and
 * then gets BOOKING_EUNAVAILABLE; a connection released as broken is closed
 * and its slot opened afresh on a later acquire. The pool knows nothing of
 * what a connection is: it hands out the `void *` the backend's `open`
 * made.
 *
 * Waiting is measured on the monotonic clock, not on a booking_clock: a
 * manual clock (tests) must neither end every wait at once nor make it last
 * forever, and the use case's ctx deadline is enforced by the core before
 * it calls the backend (a backend never sees it), so the pool does not
 * look at it either.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_POOL_H
#define BOOKING_SYS_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common.h"
#include "../errors.h"

BOOKING_BEGIN_DECL

/** A pool of connections. Opaque; create with booking_pool_new(). */
typedef struct booking_pool booking_pool;

#define BOOKING_POOL_CONFIG_VERSION 1

/**
 * How to make, check and close a connection, and how many to keep.
 * Members are appended, never reordered.
 */
typedef struct booking_pool_config {
	unsigned int version; /**< BOOKING_POOL_CONFIG_VERSION */
	/** required: names the pool in error messages ("postgresql"); copied. */
	const char *name;
	/** required: the most connections open at once, 1..4096. */
	size_t size;
	/** how long booking_pool_acquire() waits for a free connection, in ms; 0: not at all. */
	int64_t wait_ms;
	/**
	 * required: open a connection into *conn_out. Called outside the
	 * pool's lock (it may take a connect timeout), from the thread that
	 * acquires. On failure return a negative booking code with the error
	 * set (booking_error_set); the slot is given back.
	 */
	int (*open)(void **conn_out, void *payload);
	/** required: close a connection `open` made. Called outside the pool's lock. */
	void (*close)(void *conn, void *payload);
	/**
	 * optional: on booking_pool_release() of a connection not released as
	 * broken, put it back in a state the next user can rely on (roll back
	 * an open transaction, reset statements). Return false when it cannot
	 * be used again: it is then closed like a broken one. Called outside
	 * the pool's lock, from the releasing thread. NULL: kept as it is.
	 */
	bool (*check)(void *conn, void *payload);
	/** passed last to each callback; borrowed, must outlive the pool. */
	void *payload;
} booking_pool_config;

#ifdef __cplusplus
/* C++17 has no designated initialisers: value-initialise, then set the version (-Wextra stays quiet). */
static inline booking_pool_config booking_pool_config_init_value(void)
{
	booking_pool_config v = {};
	v.version = BOOKING_POOL_CONFIG_VERSION;
	return v;
}
#define BOOKING_POOL_CONFIG_INIT booking_pool_config_init_value()
#else
#define BOOKING_POOL_CONFIG_INIT {.version = BOOKING_POOL_CONFIG_VERSION}
#endif

/**
 * Create a pool. No connection is opened until the first acquire.
 * @param out receives the pool (caller owns, free with booking_pool_free); NULL on failure.
 * @param cfg copied (`name` too); `payload` stays borrowed.
 * @return 0; BOOKING_EVALIDATION (NULL, version 0 or newer than this
 *         library, no name, size 0 or above 4096, wait_ms < 0, open or
 *         close missing); BOOKING_ENOMEM; BOOKING_EINTERNAL (no mutex).
 * Thread-safe (the pool it makes is too).
 */
BOOKING_EXTERN(booking_error_code) booking_pool_new(booking_pool **out, const booking_pool_config *cfg);

/**
 * Check a connection out for the calling thread: an idle one (the most
 * recently released), else a new one opened with `open` while fewer than
 * `size` are open, else wait up to `wait_ms` for one to be released.
 * Thread-safe.
 * @param conn_out receives the connection, borrowed until
 *        booking_pool_release(); NULL on failure.
 * @param p the pool; borrowed.
 * @return 0; what `open` returned when it failed; BOOKING_EUNAVAILABLE
 *         "<name>: no free connection after <wait_ms> ms (pool of <size>)"
 *         when none came free in time; BOOKING_EINTERNAL at once when every
 *         connection is already checked out by the calling thread (a call
 *         made again from inside a callback: waiting would never end).
 */
BOOKING_EXTERN(booking_error_code) booking_pool_acquire(void **conn_out, booking_pool *p);

/**
 * Give back a connection booking_pool_acquire() handed out. `broken`: it
 * must not be used again (lost, in an unknown state): it is closed and its
 * slot freed, so a later acquire opens a new one. Otherwise `check` runs
 * (when set) and the connection becomes idle. Wakes one waiting caller.
 * @param p      the pool; borrowed.
 * @param conn   what booking_pool_acquire() handed out; the caller's loan
 *               of it ends here (the pool owns it again).
 * @param broken whether it must be closed.
 * Thread-safe.
 */
BOOKING_EXTERN(void) booking_pool_release(booking_pool *p, void *conn, bool broken);

/**
 * Close every idle connection (checked-out ones are left to their users):
 * for a backend that learns from one broken connection that all of them are
 * (a restarted server).
 * @param p the pool; borrowed.
 * Thread-safe.
 */
BOOKING_EXTERN(void) booking_pool_close_idle(booking_pool *p);

/**
 * Free the pool and close every connection it opened, idle or still
 * checked out: nothing leaks, but a checked-out connection is closed under
 * its user, so call it only when no other thread uses the pool (a store's
 * `free`).
 * @param p the pool from booking_pool_new(), freed here (the caller's
 *          ownership ends); NULL does nothing.
 * Not thread-safe: no other thread may use the pool.
 */
BOOKING_EXTERN(void) booking_pool_free(booking_pool *p);

BOOKING_END_DECL

#endif
