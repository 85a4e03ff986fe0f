/*
 * Fuzz target: configuration from outside — an env file (BOOKING_ENV_FILE,
 * KEY=VALUE lines) read by booking_options_load(), its integer ranges,
 * choices and backend URLs, and then booking_open() on what it accepted.
 *
 * The input is the env file. Checked: the loader answers 0 or
 * VALIDATION_ERROR; what it accepts is in range and opens (or is refused by
 * booking_open with VALIDATION_ERROR / NOT_SUPPORTED, e.g. "memory:x"),
 * never crashes. URLs that would reach outside the process (files,
 * PostgreSQL, Redis) are loaded but not opened; "sqlite::memory:" is, with
 * the parameters it carries (their parser, sys/url.h, is fuzzed through it).
 * SPDX-License-Identifier: MIT
 */
#include "fuzz.h"

#include <booking/booking.h>
#include <booking/sys/backend.h>

#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1767225600000)

extern char **environ;

static char env_path[64];

static void setup(void)
{
	if (env_path[0])
		return;
	/* The environment wins over the file: none of ours may leak in. */
	for (;;) {
		char **e = environ;
		while (e && *e && strncmp(*e, "BOOKING_", 8) != 0)
			e++;
		if (!e || !*e)
			break;
		char name[256];
		size_t n = strcspn(*e, "=");
		if (n >= sizeof(name))
			abort();
		memcpy(name, *e, n);
		name[n] = '\0';
		unsetenv(name);
	}
	snprintf(env_path, sizeof(env_path), "/tmp/booking-fuzz-env-%ld", (long)getpid());
}

static bool stays_in_process(const char *url)
{
	return !url || !*url || strncmp(url, "memory:", 7) == 0 || strncmp(url, "store:", 6) == 0 ||
	       strncmp(url, "simulated:", 10) == 0 || strcmp(url, "sqlite::memory:") == 0 ||
	       strncmp(url, "sqlite::memory:?", 16) == 0;
}

static void quiet(booking_log_level level, const char *line, void *payload)
{
	(void)level;
	(void)payload;
	FUZZ_CHECK(line && line[0] == '{', "log line is not a JSON object");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	FILE *f = fopen(env_path, "wb");
	FUZZ_CHECK(f != NULL, "cannot write %s", env_path);
	FUZZ_CHECK(fwrite(data, 1, size, f) == size, "short write");
	fclose(f);

	booking_options *o = NULL;
	int rc = booking_options_load(&o, env_path);
	FUZZ_CHECK(rc == 0 || rc == BOOKING_EVALIDATION, "load answered %s", booking_error_name(rc));
	if (rc < 0) {
		FUZZ_CHECK(o == NULL, "options set on failure");
		FUZZ_CHECK(booking_error_last()->message[0], "a refusal says why");
		unlink(env_path);
		return 0;
	}
	FUZZ_CHECK(o->version == BOOKING_OPTIONS_VERSION, "version");
	FUZZ_CHECK(o->hold_expiry_minutes == 0 || (o->hold_expiry_minutes >= 5 && o->hold_expiry_minutes <= 60),
	           "expiry %d", o->hold_expiry_minutes);
	FUZZ_CHECK(o->max_seats_per_reservation == 0 || (o->max_seats_per_reservation >= 1 && o->max_seats_per_reservation <= 50),
	           "max seats %d", o->max_seats_per_reservation);
	FUZZ_CHECK(o->decline_policy == BOOKING_DECLINE_KEEP_HOLD || o->decline_policy == BOOKING_DECLINE_RELEASE,
	           "decline policy %d", (int)o->decline_policy);

	if (stays_in_process(o->store_url) && stays_in_process(o->lock_url) && stays_in_process(o->events_url) &&
	    stays_in_process(o->gateway_url)) {
		booking_clock *clock = booking_clock_manual_new(T0);
		FUZZ_CHECK(clock != NULL, "clock");
		o->clock = clock;
		o->log_fn = quiet;
		booking_handle *bk = NULL;
		rc = booking_open(&bk, o);
		FUZZ_CHECK(rc == 0 || rc == BOOKING_EVALIDATION || rc == BOOKING_ENOTSUPPORTED, "open answered %s: %s",
		           booking_error_name(rc), booking_error_last()->message);
		FUZZ_CHECK((rc == 0) == (bk != NULL), "handle iff success");
		if (bk) {
			char *d = NULL;
			FUZZ_CHECK(booking_describe(&d, bk) == 0 && d != NULL, "describe");
			booking_free(d);
		}
		booking_close(bk);
		booking_clock_manual_free(clock);
	}
	booking_options_free(o);
	unlink(env_path);
	return 0;
}
