/*
 * libbooking backend API — the lock manager (contention guard).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_LOCK_H
#define BOOKING_SYS_LOCK_H

#include "../common.h"
#include "../errors.h"
#include "../options.h"

BOOKING_BEGIN_DECL

/**
 * 2 appended register_swap (optional); 3 appended acquire_all_why and
 * settle (both optional: the core falls back to acquire_all and
 * release_all without them).
 */
#define BOOKING_LOCK_MANAGER_VERSION 3

/**
 * A lock manager takes sets of keys all-or-nothing for an owner token with
 * a TTL. It only reduces contention: safety rests on the store's guarded
 * updates. Every member is called from many threads at once.
 */
struct booking_lock_manager {
	unsigned int version; /**< BOOKING_LOCK_MANAGER_VERSION */

	/** required: release everything; called once by booking_close(). */
	void (*free)(booking_lock_manager *lm);

	/**
	 * required: take all `n` keys for `owner` for `ttl_ms`, or none.
	 * A key already held by `owner` is re-taken (TTL refreshed).
	 * @return 0; BOOKING_ELOCKED when any key is held by another live
	 *         owner (nothing taken); BOOKING_EUNAVAILABLE when the manager
	 *         cannot be reached.
	 */
	int (*acquire_all)(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner,
	                   int64_t ttl_ms);

	/** required: release the keys held by `owner`; keys of other owners are left alone. 0 or an error. */
	int (*release_all)(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner);

	/**
	 * required: extend the TTL of all keys if `owner` holds every one of
	 * them; BOOKING_ELOCKED (nothing changed) otherwise.
	 */
	int (*extend)(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner,
	              int64_t ttl_ms);

	/**
	 * optional (version 2): compare-and-set a register, in one round trip
	 * (Redis: one EVALSHA), shared by every process using the manager.
	 * When `key`'s value is `expected` (NULL: the key is absent), set it
	 * to `value` with a time to live of `ttl_ms` (> 0) and return 0;
	 * otherwise change nothing and return BOOKING_EINVALID_STATE with the
	 * current value in *current_out (booking_malloc'd, the caller frees
	 * it; NULL when absent). `current_out` may be NULL. Keys are at most
	 * 255 bytes, values at most 64; registers live in a namespace of their
	 * own (they never meet the lock keys). The core's rate limits use it
	 * when a lock manager has it. BOOKING_EUNAVAILABLE when unreachable.
	 */
	int (*register_swap)(char **current_out, booking_lock_manager *lm, const char *key, const char *expected,
	                     const char *value, int64_t ttl_ms);

	/**
	 * optional (version 3): exactly acquire_all, in one round trip (Redis:
	 * one EVALSHA), and on BOOKING_ELOCKED it also says who stood in the
	 * way: *blocked_out = the index (in `keys`) of a key held by another
	 * live owner, and `blocker_out` that owner's token, NUL-terminated and
	 * truncated to `blocker_size` bytes. `blocked_out` and `blocker_out`
	 * may be NULL (blocker_size 0); they are left alone on other answers.
	 * The core uses it to tell a seat held by a live hold (its mark, owner
	 * "held:<reservation id>", see settle) from a hold in flight.
	 */
	int (*acquire_all_why)(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner,
	                       int64_t ttl_ms, size_t *blocked_out, char *blocker_out, size_t blocker_size);

	/**
	 * optional (version 3): for every key held by `owner`, make `new_owner`
	 * its owner with a fresh TTL of `ttl_ms` (> 0), in one round trip;
	 * keys held by other owners, or by none, are left alone. 0, or
	 * BOOKING_EVALIDATION / BOOKING_EUNAVAILABLE. The core hands a held
	 * seat's key from the hold in flight to the hold's mark with it.
	 */
	int (*settle)(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner,
	              const char *new_owner, int64_t ttl_ms);
};

/**
 * Open a lock manager by URL ("memory:", "redis://...", or a scheme
 * registered with booking_backend_register(), sys/registry.h). `clock` is
 * borrowed, must outlive the lock manager (NULL: the system clock).
 * @param out set to the object (caller owns; free it with its `free`
 *            member); NULL after a failure.
 * @param url the lock manager's URL; borrowed for the call.
 * @param clock borrowed, must outlive the lock manager; NULL: the system clock.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `url`, unknown scheme, bad
 *         URL or an invalid lock manager), BOOKING_ENOTSUPPORTED (backend
 *         not built), BOOKING_EUNAVAILABLE (server unreachable),
 *         BOOKING_EINTERNAL (a constructor answered 0 and no object), BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_lock_manager_open(booking_lock_manager **out, const char *url,
                                              const booking_clock *clock);

BOOKING_END_DECL

#endif
