/*
 * Retry policy: exponential backoff with full jitter (the AWS Architecture
 * Blog's "full jitter": sleep = random(0, min(cap, base * 2^n))), for
 * transient errors only, bounded by the number of attempts and by the
 * call's deadline. Domain errors are answers, never retried.
 * SPDX-License-Identifier: MIT
 */
#include "resilience.h"

bool booking__retry_transient(int rc)
{
	return rc == BOOKING_EUNAVAILABLE || rc == BOOKING_EEXTERNAL;
}

int64_t booking__retry_backoff(const booking__retry_policy *p, int failed, booking__random_fn rnd, void *rnd_payload)
{
	if (p->fixed)
		return p->base_ms > 0 ? p->base_ms : 0;
	int64_t cap = p->base_ms > 0 ? p->base_ms : 1;
	int64_t max = p->max_ms > 0 ? p->max_ms : INT64_C(60000);
	for (int i = 1; i < failed && cap < max; i++)
		cap *= 2;
	if (cap > max)
		cap = max;
	return (int64_t)rnd(rnd_payload, (uint64_t)cap + 1);
}

bool booking__retry_next(const booking__retry_policy *p, int failed, int rc, int64_t now, int64_t deadline_ms,
                         booking__random_fn rnd, void *rnd_payload, int64_t *delay_out)
{
	*delay_out = 0;
	if (!booking__retry_transient(rc) || failed >= p->attempts)
		return false;
	int64_t delay = booking__retry_backoff(p, failed, rnd, rnd_payload);
	if (deadline_ms > 0 && now + delay >= deadline_ms)
		return false; /* the retry could not start before the caller gives up */
	*delay_out = delay;
	return true;
}
