/*
 * The connection pool backends share (include/booking/sys/pool.h).
 *
 * Each of `size` slots is free, being opened, idle, checked out or being
 * closed. Opening and closing happen outside the mutex (a connect may take
 * its whole timeout), with the slot counted as taken meanwhile, so the pool
 * never holds more than `size` connections. Idle slots are a stack: the
 * most recently released connection is handed out first, and the others
 * stay cold.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#define POOL_SIZE_MAX 4096

typedef enum slot_state { SLOT_FREE, SLOT_OPENING, SLOT_IDLE, SLOT_OUT, SLOT_CLOSING } slot_state;

typedef struct pool_slot {
	void *conn;       /* set while IDLE or OUT (and CLOSING) */
	slot_state state;
	pthread_t owner;  /* valid while OUT */
	size_t next;      /* the chain booking_pool_close_idle() walks, while CLOSING */
} pool_slot;

struct booking_pool {
	booking_pool_config cfg; /* cfg.name points at `name` */
	char *name;
	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* signalled whenever a slot becomes idle or free */
	pool_slot *slots;
	size_t *idle;       /* indexes of IDLE slots; the top is the most recently released */
	size_t idle_count;
	size_t taken;       /* slots that are not FREE */
};

/* --- time --------------------------------------------------------------- */

static int64_t mono_ms(void)
{
	return booking__mono_ns() / 1000000;
}

static struct timespec mono_timespec(int64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
	return ts;
}

/*
 * Wait on the condition variable until `deadline` (monotonic ms). Returns
 * false once it has passed: the caller re-checks its condition after every
 * true, since a wakeup may be spurious or won by another thread.
 */
static bool wait_until(booking_pool *p, int64_t deadline)
{
	if (mono_ms() >= deadline)
		return false;
	struct timespec ts = mono_timespec(deadline);
	(void)pthread_cond_timedwait(&p->cv, &p->mu, &ts);
	return true;
}

/* --- construction --------------------------------------------------------- */

static int config_check(const booking_pool_config *cfg)
{
	const char *why = NULL;
	if (!cfg)
		why = "no configuration";
	else if (cfg->version == 0 || cfg->version > BOOKING_POOL_CONFIG_VERSION)
		why = "unknown configuration version";
	else if (!cfg->name || !cfg->name[0])
		why = "no name";
	else if (cfg->size == 0 || cfg->size > POOL_SIZE_MAX)
		why = "size must be 1..4096";
	else if (cfg->wait_ms < 0)
		why = "wait_ms must not be negative";
	else if (!cfg->open || !cfg->close)
		why = "open and close are required";
	if (!why)
		return 0;
	return booking_error_set(BOOKING_EVALIDATION, NULL, "connection pool: %s", why);
}

static int sync_init(booking_pool *p)
{
	pthread_condattr_t attr;
	bool cv_ok = false;
	if (pthread_condattr_init(&attr) == 0) {
		cv_ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&p->cv, &attr) == 0;
		pthread_condattr_destroy(&attr);
	}
	if (cv_ok && pthread_mutex_init(&p->mu, NULL) == 0)
		return 0;
	if (cv_ok)
		pthread_cond_destroy(&p->cv);
	return booking_error_set(BOOKING_EINTERNAL, NULL, "%s: cannot create the connection pool's mutex", p->name);
}

booking_error_code booking_pool_new(booking_pool **out, const booking_pool_config *cfg)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "connection pool: out is NULL");
	*out = NULL;
	int rc = config_check(cfg);
	if (rc < 0)
		return rc;
	booking_pool *p = booking_calloc(1, sizeof *p);
	if (!p)
		return booking_error_oom();
	p->cfg = *cfg;
	p->name = booking_strdup(cfg->name);
	p->slots = booking_calloc(cfg->size, sizeof *p->slots);
	p->idle = booking_calloc(cfg->size, sizeof *p->idle);
	if (!p->name || !p->slots || !p->idle) {
		rc = booking_error_oom();
	} else {
		p->cfg.name = p->name;
		rc = sync_init(p);
	}
	if (rc < 0) {
		booking_free(p->idle);
		booking_free(p->slots);
		booking_free(p->name);
		booking_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void booking_pool_free(booking_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cfg.size; i++)
		if (p->slots[i].state == SLOT_IDLE || p->slots[i].state == SLOT_OUT)
			p->cfg.close(p->slots[i].conn, p->cfg.payload);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	booking_free(p->idle);
	booking_free(p->slots);
	booking_free(p->name);
	booking_free(p);
}

/* --- acquire and release ---------------------------------------------------- */

/* Every slot is checked out by the calling thread: waiting for one would never end. */
static bool all_held_by_self(const booking_pool *p)
{
	pthread_t self = pthread_self();
	for (size_t i = 0; i < p->cfg.size; i++)
		if (p->slots[i].state != SLOT_OUT || !pthread_equal(p->slots[i].owner, self))
			return false;
	return true;
}

static void check_out(booking_pool *p, size_t i, void **conn_out)
{
	p->slots[i].state = SLOT_OUT;
	p->slots[i].owner = pthread_self();
	*conn_out = p->slots[i].conn;
}

static size_t free_slot(const booking_pool *p)
{
	size_t i = 0;
	while (p->slots[i].state != SLOT_FREE)
		i++; /* one exists: taken < size */
	return i;
}

/* Open a connection into free slot `i`; called and returns with the mutex held. */
static int open_into(booking_pool *p, size_t i, void **conn_out)
{
	void *conn = NULL;
	p->slots[i].state = SLOT_OPENING;
	p->taken++;
	pthread_mutex_unlock(&p->mu);
	int rc = p->cfg.open(&conn, p->cfg.payload);
	if (rc == 0 && !conn)
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "%s: opening a connection gave none", p->name);
	pthread_mutex_lock(&p->mu);
	if (rc < 0) {
		p->slots[i].state = SLOT_FREE;
		p->taken--;
		pthread_cond_signal(&p->cv); /* another waiter may open it */
		return rc;
	}
	p->slots[i].conn = conn;
	check_out(p, i, conn_out);
	return 0;
}

booking_error_code booking_pool_acquire(void **conn_out, booking_pool *p)
{
	if (!p || !conn_out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "connection pool: no pool or no conn_out");
	int64_t now = mono_ms();
	int64_t deadline = p->cfg.wait_ms > INT64_MAX - now ? INT64_MAX : now + p->cfg.wait_ms;
	int rc = 0;
	*conn_out = NULL;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		if (p->idle_count) {
			check_out(p, p->idle[--p->idle_count], conn_out);
			break;
		}
		if (p->taken < p->cfg.size) {
			rc = open_into(p, free_slot(p), conn_out);
			break;
		}
		if (all_held_by_self(p)) {
			rc = booking_error_set(BOOKING_EINTERNAL, NULL,
			                       "%s: called again from inside one of its callbacks while every connection "
			                       "is in use",
			                       p->name);
			break;
		}
		if (!wait_until(p, deadline)) {
			rc = booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: no free connection after %lld ms (pool of %zu)",
			                       p->name, (long long)p->cfg.wait_ms, p->cfg.size);
			break;
		}
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static size_t slot_of(const booking_pool *p, const void *conn)
{
	for (size_t i = 0; i < p->cfg.size; i++)
		if (p->slots[i].state == SLOT_OUT && p->slots[i].conn == conn)
			return i;
	return p->cfg.size;
}

void booking_pool_release(booking_pool *p, void *conn, bool broken)
{
	if (!p || !conn)
		return;
	if (!broken && p->cfg.check && !p->cfg.check(conn, p->cfg.payload))
		broken = true;
	pthread_mutex_lock(&p->mu);
	size_t i = slot_of(p, conn);
	if (i == p->cfg.size) { /* not checked out from this pool: leave it alone */
		pthread_mutex_unlock(&p->mu);
		return;
	}
	if (broken) {
		p->slots[i].conn = NULL;
		p->slots[i].state = SLOT_FREE;
		p->taken--;
	} else {
		p->slots[i].state = SLOT_IDLE;
		p->idle[p->idle_count++] = i;
	}
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (broken)
		p->cfg.close(conn, p->cfg.payload);
}

void booking_pool_close_idle(booking_pool *p)
{
	if (!p)
		return;
	/* The slots leave the idle stack as a private chain: CLOSING slots belong to this call alone. */
	size_t head = p->cfg.size;
	pthread_mutex_lock(&p->mu);
	while (p->idle_count) {
		size_t i = p->idle[--p->idle_count];
		p->slots[i].state = SLOT_CLOSING; /* still taken: no one opens in its place yet */
		p->slots[i].next = head;
		head = i;
	}
	pthread_mutex_unlock(&p->mu);
	if (head == p->cfg.size)
		return;
	for (size_t i = head; i != p->cfg.size; i = p->slots[i].next)
		p->cfg.close(p->slots[i].conn, p->cfg.payload);
	pthread_mutex_lock(&p->mu);
	for (size_t i = head; i != p->cfg.size; i = p->slots[i].next) {
		p->slots[i].state = SLOT_FREE;
		p->slots[i].conn = NULL;
		p->taken--;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
