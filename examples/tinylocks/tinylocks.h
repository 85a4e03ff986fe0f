/*
 * tinylocks — an out-of-tree lock manager for libbooking, written only
 * against <booking/sys/backend.h>: keys in an array behind one mutex.
 * doc/backends.md walks through it.
 * SPDX-License-Identifier: MIT
 */
#ifndef TINYLOCKS_H
#define TINYLOCKS_H

#include <stdatomic.h>

/** What every tinylocks manager did, for the host to print or export. */
typedef struct tinylocks_stats {
	atomic_long acquired; /**< acquire_all calls that took their keys */
	atomic_long refused;  /**< acquire_all calls refused with BOOKING_ELOCKED */
} tinylocks_stats;

/**
 * Register the scheme "tinylocks" for lock managers, process-wide:
 * lock URLs "tinylocks:" and "tinylocks:?max_keys=N" (at most N keys held
 * at once, default 4096; beyond that acquire_all answers
 * BOOKING_EUNAVAILABLE). `stats` (may be NULL) is borrowed and must outlive
 * the registration. Returns booking_backend_register()'s code.
 */
int tinylocks_register(tinylocks_stats *stats);

#endif
