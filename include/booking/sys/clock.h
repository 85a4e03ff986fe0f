/*
 * libbooking backend API — the clock.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_CLOCK_H
#define BOOKING_SYS_CLOCK_H

#include "../common.h"
#include "../options.h"

BOOKING_BEGIN_DECL

#define BOOKING_CLOCK_VERSION 1

/**
 * A clock. Borrowed by the handle (booking_options.clock), never freed by
 * it. Called from many threads at once.
 */
struct booking_clock {
	unsigned int version; /**< BOOKING_CLOCK_VERSION */
	/** required: UTC milliseconds since the epoch. */
	int64_t (*now_ms)(const booking_clock *clock);
	/** optional: wait `ms` (backoff between retries). NULL: a real sleep. A manual clock may just advance. */
	void (*sleep_ms)(const booking_clock *clock, int64_t ms);
};

/**
 * The system clock (CLOCK_REALTIME, real sleeps).
 * @return static; never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const booking_clock *) booking_clock_system(void);

/**
 * A manual clock for tests: time moves only with booking_clock_manual_advance()
 * and booking_clock_manual_set() (and its sleep_ms advances it instead of
 * sleeping). Thread-safe: reads and moves are atomic.
 * @param start_ms its time at first, UTC ms.
 * @return the clock (caller owns; free with booking_clock_manual_free(),
 *         after every handle that borrows it is closed); NULL when out of
 *         memory (BOOKING_ENOMEM set).
 */
BOOKING_EXTERN(booking_clock *) booking_clock_manual_new(int64_t start_ms);

/**
 * Move a manual clock forward (or back, with a negative `ms`).
 * @param clock a clock from booking_clock_manual_new(); borrowed. Any other
 *              clock, or NULL, is left alone.
 * @param ms    milliseconds to add.
 * Thread-safe.
 */
BOOKING_EXTERN(void) booking_clock_manual_advance(booking_clock *clock, int64_t ms);

/**
 * Set a manual clock's time.
 * @param clock a clock from booking_clock_manual_new(); borrowed. Any other
 *              clock, or NULL, is left alone.
 * @param now_ms its new time, UTC ms.
 * Thread-safe.
 */
BOOKING_EXTERN(void) booking_clock_manual_set(booking_clock *clock, int64_t now_ms);

/**
 * Free a manual clock.
 * @param clock a clock from booking_clock_manual_new(), freed here (the
 *              caller's ownership ends); NULL or any other clock is left alone.
 * Not thread-safe: no handle or thread may use the clock any more.
 */
BOOKING_EXTERN(void) booking_clock_manual_free(booking_clock *clock);

BOOKING_END_DECL

#endif
