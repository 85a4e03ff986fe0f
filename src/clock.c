/*
 * Clocks: the system clock and a manual clock for tests.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <time.h>

static int64_t system_now(const booking_clock *clock)
{
	(void)clock;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void system_sleep(const booking_clock *clock, int64_t ms)
{
	(void)clock;
	if (ms <= 0)
		return;
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static const booking_clock system_clock = {BOOKING_CLOCK_VERSION, system_now, system_sleep};

const booking_clock *booking_clock_system(void)
{
	return &system_clock;
}

typedef struct manual_clock {
	booking_clock parent;
	_Atomic int64_t now;
} manual_clock;

static int64_t manual_now(const booking_clock *clock)
{
	return atomic_load(&((manual_clock *)(uintptr_t)clock)->now);
}

static void manual_sleep(const booking_clock *clock, int64_t ms)
{
	if (ms > 0)
		atomic_fetch_add(&((manual_clock *)(uintptr_t)clock)->now, ms);
}

booking_clock *booking_clock_manual_new(int64_t start_ms)
{
	manual_clock *c = booking_malloc(sizeof(*c));
	if (!c) {
		booking_error_oom();
		return NULL;
	}
	c->parent.version = BOOKING_CLOCK_VERSION;
	c->parent.now_ms = manual_now;
	c->parent.sleep_ms = manual_sleep;
	atomic_init(&c->now, start_ms);
	return &c->parent;
}

void booking_clock_manual_advance(booking_clock *clock, int64_t ms)
{
	if (clock && clock->now_ms == manual_now)
		atomic_fetch_add(&((manual_clock *)clock)->now, ms);
}

void booking_clock_manual_set(booking_clock *clock, int64_t now_ms)
{
	if (clock && clock->now_ms == manual_now)
		atomic_store(&((manual_clock *)clock)->now, now_ms);
}

void booking_clock_manual_free(booking_clock *clock)
{
	if (clock && clock->now_ms == manual_now)
		booking_free(clock);
}
