/*
 * libbooking — the library handle: open, close, and its clock.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_HANDLE_H
#define BOOKING_HANDLE_H

#include "common.h"
#include "errors.h"
#include "options.h"

BOOKING_BEGIN_DECL

/**
 * Open a handle.
 *
 * @param out  set to the new handle (caller owns; close with
 *             booking_close()), or NULL on failure.
 * @param opts NULL: read the environment (booking_options_from_env()).
 *             Borrowed for the call (its strings too; the clock must
 *             outlive the handle); the custom backends it names are taken
 *             over: ownership passes to the handle even when the open fails.
 * @return 0, BOOKING_EVALIDATION (bad option or URL), BOOKING_EUNAVAILABLE
 *         (backend unreachable), BOOKING_ESCHEMA, BOOKING_ENOMEM,
 *         BOOKING_ENOTSUPPORTED (a backend this library was built without),
 *         BOOKING_EINTERNAL (libsodium failed to initialise), or what a
 *         backend's constructor answered. A key file (JWK, payment key) that
 *         cannot be read or is refused is BOOKING_EVALIDATION naming it.
 *
 * The handle is thread-safe: any number of threads may use it at once.
 * Opening runs the store's schema migrations. On a store with a clock of
 * its own (PostgreSQL) and no clock in `opts`, it reads that clock (which
 * must answer: BOOKING_EUNAVAILABLE or the store's error otherwise) and
 * starts a thread that samples it every few seconds, stopped by
 * booking_close().
 */
BOOKING_EXTERN(booking_error_code) booking_open(booking_handle **out, const booking_options *opts);

/**
 * Close a handle, its backends and connections, and stop its store clock
 * thread.
 * @param bk the handle from booking_open(), freed here; NULL is a no-op.
 * Not thread-safe on `bk`: no call may be running on it, nor start after.
 * Host-only, no ctx: ends the host's own handle.
 */
BOOKING_EXTERN(void) booking_close(booking_handle *bk);

/**
 * The handle's time in UTC milliseconds, by which it decides: the injected
 * clock when one is set, else the store's clock when the store has one (a
 * shared store: the database server's), else the system clock. Compute
 * booking_ctx.deadline_ms from it.
 * @param bk the handle (borrowed); NULL: the system clock.
 * Thread-safe. Host-only, no ctx: reads the handle's clock.
 */
BOOKING_EXTERN(int64_t) booking_now(const booking_handle *bk);

BOOKING_END_DECL

#endif
