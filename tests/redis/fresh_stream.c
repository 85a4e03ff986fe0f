/*
 * Per-test streams for tests/conformance_events.c on a shared Redis.
 *
 * That suite makes its group names unique per test, but a new group starts
 * at the beginning of the stream (XGROUP CREATE ... 0), so on one shared
 * stream every test would also see the events of the tests before it. The
 * Redis build of the suite is compiled with -Dfx_env=redis_fx_env_fresh_stream:
 * each read of BOOKING_TEST_EVENTS_URL (once per test, in its setup) gets
 * a stream of its own, "test:<pid>:<n>", the way fx_fresh_url gives each
 * SQLite test its own file.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <unistd.h>

#undef fx_env
const char *fx_env(const char *name, const char *def);

const char *redis_fx_env_fresh_stream(const char *name, const char *def)
{
	static char urls[4][640];
	static int counter;
	const char *v = fx_env(name, def);

	if (!v || strcmp(name, "BOOKING_TEST_EVENTS_URL") != 0 || strncmp(v, "redis://", 8) != 0)
		return v;
	counter++;
	char *out = urls[counter % 4];
	snprintf(out, sizeof(urls[0]), "%s%sstream=test:%ld:%d", v, strchr(v, '?') ? "&" : "?", (long)getpid(),
	         counter);
	return out;
}
