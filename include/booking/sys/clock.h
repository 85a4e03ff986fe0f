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

/** The system clock (CLOCK_REALTIME, real sleeps). Static; never freed. */
BOOKING_EXTERN(const booking_clock *) booking_clock_system(void);

/**
 * A manual clock for tests: time moves only with booking_clock_manual_advance()
 * (and its sleep_ms advances it instead of sleeping). Thread-safe.
 * Free with booking_clock_manual_free().
 */
BOOKING_EXTERN(booking_clock *) booking_clock_manual_new(int64_t start_ms);
BOOKING_EXTERN(void) booking_clock_manual_advance(booking_clock *clock, int64_t ms);
BOOKING_EXTERN(void) booking_clock_manual_set(booking_clock *clock, int64_t now_ms);
BOOKING_EXTERN(void) booking_clock_manual_free(booking_clock *clock);

BOOKING_END_DECL

#endif
