/*
 * The deployment's clock: the store's, sampled (doc/rulebook.md, "One
 * clock per deployment").
 *
 * A store that many hosts share has a clock of its own (clock_now, a root
 * member of booking_store). When the host injected no clock, the handle's time is the
 * store's: this host's monotonic clock plus an offset, estimated at open
 * and every REFRESH_MS after by a thread of the handle's own. Reading the
 * time costs no round trip and takes no lock (one atomic load); the host's
 * wall clock plays no part, so a host clock minutes off, or stepped
 * between two refreshes, does not move the handle's time.
 *
 * The estimate: the server's answer is taken to be the time at the middle
 * of the round trip, so its error is at most half of it; of SAMPLES round
 * trips the shortest is kept. Samples go to the store itself, not through
 * the resilience decorator: a background measurement must neither open nor
 * close the store's circuit, nor be retried, nor count as a call.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES 3
#define REFRESH_MS 5000
/* A refresh whose best round trip took longer keeps the previous offset (error up to half of it). */
#define REFRESH_MAX_RTT_MS 500
/* A host clock this far off the store's is worth a warning at open. */
#define SKEW_WARN_MS 2000
#define NS_PER_MS INT64_C(1000000)

struct booking__store_clock {
	booking_handle *bk;
	booking_store *store; /* the handle's, undecorated: no breaker, retry or metric sees a clock read */
	_Atomic int64_t offset_ns; /* store time − this host's monotonic time */
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	bool stop;
	bool failing; /* the last refresh failed: logged once per outage */
	pthread_t thread;
	pid_t pid; /* the process the thread runs in (a forked child has none) */
};

typedef struct clock_sample {
	int64_t offset_ns; /* store − monotonic, at the round trip's middle */
	int64_t skew_ms;   /* this host's wall clock − the store's */
	int64_t rtt_ns;
} clock_sample;

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t booking__store_clock_now(const booking__store_clock *c)
{
	int64_t t = clock_ns(CLOCK_MONOTONIC) + atomic_load_explicit(&c->offset_ns, memory_order_relaxed);
	return t / NS_PER_MS;
}

/* The shortest of SAMPLES round trips to the store's clock. */
static int sample(booking_store *st, clock_sample *best)
{
	memset(best, 0, sizeof(*best));
	for (int i = 0; i < SAMPLES; i++) {
		int64_t server_ms = 0;
		int64_t r0 = clock_ns(CLOCK_REALTIME), t0 = clock_ns(CLOCK_MONOTONIC);
		int rc = st->clock_now(&server_ms, st);
		int64_t t1 = clock_ns(CLOCK_MONOTONIC), r1 = clock_ns(CLOCK_REALTIME);
		if (rc < 0)
			return rc;
		if (server_ms <= 0 || server_ms > INT64_MAX / NS_PER_MS)
			return booking_error_set(BOOKING_EINTERNAL, NULL, "the store's clock answered %" PRId64 " ms",
			                         server_ms);
		clock_sample s = {server_ms * NS_PER_MS - (t0 + (t1 - t0) / 2), (r0 + (r1 - r0) / 2) / NS_PER_MS - server_ms,
		                  t1 - t0};
		if (i == 0 || s.rtt_ns < best->rtt_ns)
			*best = s;
	}
	return 0;
}

static void refresh(booking__store_clock *c)
{
	booking_handle *bk = c->bk;
	clock_sample s;
	int rc = sample(c->store, &s);
	if (rc < 0) {
		if (!c->failing)
			booking__log(bk, NULL, BOOKING_LOG_WARNING, "the store's clock could not be read: keeping the last estimate",
			             json_pack("{s:s,s:s}", "error", booking_error_name(rc), "detail",
			                       booking_error_last()->message));
		c->failing = true;
		return;
	}
	if (c->failing)
		booking__log(bk, NULL, BOOKING_LOG_INFO, "the store's clock answers again", NULL);
	c->failing = false;
	if (s.rtt_ns > REFRESH_MAX_RTT_MS * NS_PER_MS)
		return;
	atomic_store_explicit(&c->offset_ns, s.offset_ns, memory_order_relaxed);
}

static void *refresher(void *arg)
{
	booking__store_clock *c = arg;
	pthread_mutex_lock(&c->mu);
	while (!c->stop) {
		int64_t at = clock_ns(CLOCK_MONOTONIC) + REFRESH_MS * NS_PER_MS;
		struct timespec ts = {(time_t)(at / 1000000000), (long)(at % 1000000000)};
		while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
			;
		if (c->stop)
			break;
		pthread_mutex_unlock(&c->mu);
		refresh(c);
		pthread_mutex_lock(&c->mu);
	}
	pthread_mutex_unlock(&c->mu);
	return NULL;
}

static void store_clock_free(booking__store_clock *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	booking_free(c);
}

/* NULL with the thread's error set when it cannot be made. */
static booking__store_clock *store_clock_new(booking_handle *bk)
{
	booking__store_clock *c = booking_calloc(1, sizeof(*c));
	if (!c) {
		booking_error_oom();
		return NULL;
	}
	c->bk = bk;
	c->store = booking__store_undecorated(bk->store);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	int err = pthread_cond_init(&c->cv, &attr);
	pthread_condattr_destroy(&attr);
	if (err) {
		booking_free(c);
		booking_error_set(BOOKING_EINTERNAL, NULL, "store clock: pthread_cond_init: %s", strerror(err));
		return NULL;
	}
	pthread_mutex_init(&c->mu, NULL);
	return c;
}

/* The refresher takes no signal: the host's handlers run on its own threads. */
static int start_refresher(booking__store_clock *c)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&c->thread, NULL, refresher, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "store clock: cannot start its thread: %s", strerror(err));
	return 0;
}

static void log_skew(booking_handle *bk, const clock_sample *s)
{
	int64_t skew = s->skew_ms;
	bool far = skew >= SKEW_WARN_MS || skew <= -SKEW_WARN_MS;
	booking__log(bk, NULL, far ? BOOKING_LOG_WARNING : BOOKING_LOG_DEBUG,
	             far ? "this host's clock is off the store's: the handle follows the store's clock"
	                 : "the handle follows the store's clock",
	             json_pack("{s:I,s:I}", "host_minus_store_ms", (json_int_t)skew, "round_trip_us",
	                       (json_int_t)(s->rtt_ns / 1000)));
}

int booking__store_clock_open(booking_handle *bk, const booking_options *opts)
{
	booking_store *st = booking__store_undecorated(bk->store);
	if (opts->clock || !st->clock_now)
		return 0; /* an injected clock wins; a store without a clock: the host's is the deployment's */
	booking__store_clock *c = store_clock_new(bk);
	if (!c)
		return booking_error_last()->code;
	int rc;
	clock_sample s;
	if ((rc = sample(c->store, &s)) < 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s", booking_error_last()->message);
		store_clock_free(c);
		return booking_error_set(rc, "{\"reason\":\"store_clock\"}",
		                         "the store's clock could not be read (it is the deployment's clock): %s", why);
	}
	atomic_init(&c->offset_ns, s.offset_ns);
	c->pid = getpid();
	bk->store_clock = c; /* before the thread starts: it reads the time through bk (its logs) */
	if ((rc = start_refresher(c)) < 0) {
		bk->store_clock = NULL;
		store_clock_free(c);
		return rc;
	}
	log_skew(bk, &s);
	return 0;
}

void booking__store_clock_close(booking_handle *bk)
{
	booking__store_clock *c = bk->store_clock;
	if (!c)
		return;
	if (c->pid != getpid()) {
		/* closed in a child forked after the open: the thread stayed in the parent, and its lock may be held */
		bk->store_clock = NULL;
		booking_free(c);
		return;
	}
	pthread_mutex_lock(&c->mu);
	c->stop = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	bk->store_clock = NULL;
	store_clock_free(c);
}
