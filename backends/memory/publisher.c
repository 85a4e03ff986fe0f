/*
 * libbooking — the `memory:` event publisher: an append-only stream with
 * consumer groups, in process (Redis Streams semantics, minus trimming).
 *
 * Message i (0-based) has msg_id "i+1". Messages are immutable once
 * appended and live as long as the publisher, so a delivery copies only
 * pointers under the mutex and calls the callback after releasing it (a
 * handler may publish, ack or read again).
 *
 * Each group keeps the index of the next message it has never delivered
 * and, per delivered message, its pending state (consumer, delivered_at,
 * deliveries). Groups are created on first use and start at the beginning
 * of the stream.
 *
 * A delivery counts once the callback accepts it. When a callback returns
 * non-zero, that message and the rest of the batch it never saw go back to
 * the group ("returned": pending with no consumer, deliveries not counted),
 * and the next read_group hands them out before new messages. A consumer
 * that fails to take a batch (out of memory while copying it) therefore
 * loses nothing, as with the store: transport whose cursor does not move.
 *
 * SPDX-License-Identifier: MIT
 */
#include "backends.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pub_msg {
	char *msg_id;
	char *event_id;
	char *envelope;
	char buf[]; /* the three strings */
} pub_msg;

#define PEND_NONE (-1)     /* not pending: acked (or never delivered) */
#define PEND_RETURNED (-2) /* pending, refused by the callback: read_group hands it out again first */

typedef struct pub_pending {
	int64_t delivered_at;
	int deliveries;
	int consumer;  /* index into the group's consumers, PEND_NONE or PEND_RETURNED */
} pub_pending;

typedef struct pub_group {
	char *name;
	size_t next;          /* first message never delivered to this group */
	pub_pending *pending; /* [0, next) */
	size_t pending_cap;
	size_t first_pending; /* every message before this one is acked */
	size_t pending_count; /* entries not PEND_NONE (returned ones included) */
	size_t returned_count;
	char **consumers;
	size_t consumer_count;
} pub_group;

typedef struct mem_publisher {
	booking_event_publisher parent;
	pthread_mutex_t mu;
	const booking_clock *clock;
	pub_msg **msgs;
	size_t msg_count, msg_cap;
	pub_group **groups;
	size_t group_count;
} mem_publisher;

/* A delivery prepared under the mutex. Strings borrowed from the stream. */
typedef struct delivery {
	pub_group *group;     /* groups live as long as the publisher */
	int consumer;
	int64_t at;
	booking_message *msgs;
	size_t *idx;          /* message index of msgs[i] */
	size_t n;
} delivery;

static mem_publisher *impl(booking_event_publisher *p)
{
	return (mem_publisher *)p;
}

static int64_t now_ms(const mem_publisher *p)
{
	return p->clock->now_ms(p->clock);
}

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "memory publisher: %s is required", what);
}

static void group_free(pub_group *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->consumer_count; i++)
		booking_free(g->consumers[i]);
	booking_free(g->consumers);
	booking_free(g->pending);
	booking_free(g->name);
	booking_free(g);
}

static pub_group *group_find(mem_publisher *p, const char *name)
{
	for (size_t i = 0; i < p->group_count; i++)
		if (strcmp(p->groups[i]->name, name) == 0)
			return p->groups[i];
	return NULL;
}

/* The group, created on first use. NULL when out of memory (error set). */
static pub_group *group_get(mem_publisher *p, const char *name)
{
	pub_group *g = group_find(p, name);
	if (g)
		return g;
	g = booking_calloc(1, sizeof *g);
	pub_group **groups = booking_realloc(p->groups, (p->group_count + 1) * sizeof *groups);
	if (groups)
		p->groups = groups;
	if (!g || !groups || !(g->name = booking_strdup(name))) {
		group_free(g);
		booking_error_oom();
		return NULL;
	}
	p->groups[p->group_count++] = g;
	return g;
}

/* Index of `consumer` in the group, added when new; -1 when out of memory. */
static int consumer_index(pub_group *g, const char *consumer)
{
	for (size_t i = 0; i < g->consumer_count; i++)
		if (strcmp(g->consumers[i], consumer) == 0)
			return (int)i;
	if (g->consumer_count >= (size_t)INT32_MAX)
		return -1;
	char **cs = booking_realloc(g->consumers, (g->consumer_count + 1) * sizeof *cs);
	if (!cs)
		return -1;
	g->consumers = cs;
	if (!(cs[g->consumer_count] = booking_strdup(consumer)))
		return -1;
	return (int)g->consumer_count++;
}

static int pending_reserve(pub_group *g, size_t need)
{
	if (need <= g->pending_cap)
		return 0;
	size_t cap = g->pending_cap ? g->pending_cap : 64;
	while (cap < need)
		cap *= 2;
	pub_pending *pend = booking_realloc(g->pending, cap * sizeof *pend);
	if (!pend)
		return -1;
	g->pending = pend;
	g->pending_cap = cap;
	return 0;
}

static void fill_message(booking_message *m, const pub_msg *src, int deliveries)
{
	m->msg_id = src->msg_id;
	m->event_id = src->event_id;
	m->envelope_json = src->envelope;
	m->deliveries = deliveries;
}

static void delivery_free(delivery *d)
{
	booking_free(d->msgs);
	booking_free(d->idx);
	d->msgs = NULL;
	d->idx = NULL;
	d->n = 0;
}

static int delivery_alloc(delivery *d, size_t n)
{
	d->msgs = booking_calloc(n, sizeof *d->msgs);
	d->idx = booking_calloc(n, sizeof *d->idx);
	if (!d->msgs || !d->idx) {
		delivery_free(d);
		return booking_error_oom();
	}
	return 0;
}

/* Hand msgs[from..n) back to the group, unless someone took them over meanwhile. */
static void give_back(mem_publisher *p, delivery *d, size_t from)
{
	pthread_mutex_lock(&p->mu);
	pub_group *g = d->group;
	for (size_t j = from; j < d->n; j++) {
		pub_pending *pe = &g->pending[d->idx[j]];
		if (pe->consumer != d->consumer || pe->delivered_at != d->at || pe->deliveries != d->msgs[j].deliveries)
			continue;
		pe->consumer = PEND_RETURNED;
		pe->deliveries--;
		g->returned_count++;
	}
	pthread_mutex_unlock(&p->mu);
}

/* Call the callback without the mutex; what it refuses (and what follows) goes back to the group. */
static int deliver(mem_publisher *p, delivery *d, booking_message_cb cb, void *payload)
{
	int rc = 0;
	size_t i = 0;
	while (cb && i < d->n && rc == 0)
		rc = cb(&d->msgs[i++], payload);
	if (rc != 0)
		give_back(p, d, i - 1);
	delivery_free(d);
	return rc;
}

/* Record msgs[d->n] as delivered now to d->consumer. */
static void hand_out(mem_publisher *p, pub_group *g, delivery *d, size_t i)
{
	pub_pending *pe = &g->pending[i];
	pe->consumer = d->consumer;
	pe->delivered_at = d->at;
	if (pe->deliveries < INT32_MAX)
		pe->deliveries++;
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): idx has room for every message handed out (delivery_alloc) */
	d->idx[d->n] = i;
	fill_message(&d->msgs[d->n++], p->msgs[i], pe->deliveries);
}

static int pub_publish(booking_event_publisher *base, const char *event_id, const char *type,
                       const char *envelope_json)
{
	mem_publisher *p = impl(base);
	(void)type;
	if (!event_id || !envelope_json)
		return missing("event_id and envelope");
	size_t el = strlen(event_id), vl = strlen(envelope_json);
	char id[32];
	int rc = 0;
	pthread_mutex_lock(&p->mu);
	snprintf(id, sizeof id, "%zu", p->msg_count + 1);
	size_t il = strlen(id);
	pub_msg *m = booking_malloc(sizeof *m + il + 1 + el + 1 + vl + 1);
	if (m && p->msg_count == p->msg_cap) {
		size_t cap = p->msg_cap ? p->msg_cap * 2 : 64;
		pub_msg **msgs = booking_realloc(p->msgs, cap * sizeof *msgs);
		if (msgs) {
			p->msgs = msgs;
			p->msg_cap = cap;
		}
	}
	if (!m || p->msg_count == p->msg_cap) {
		booking_free(m);
		rc = booking_error_oom();
	} else {
		m->msg_id = m->buf;
		memcpy(m->msg_id, id, il + 1);
		m->event_id = m->msg_id + il + 1;
		memcpy(m->event_id, event_id, el + 1);
		m->envelope = m->event_id + el + 1;
		memcpy(m->envelope, envelope_json, vl + 1);
		p->msgs[p->msg_count++] = m;
	}
	pthread_mutex_unlock(&p->mu);
	return rc;
}

static int read_locked(mem_publisher *p, const char *group, const char *consumer, size_t max, int64_t now,
                       delivery *d)
{
	pub_group *g = group_get(p, group);
	if (!g)
		return BOOKING_ENOMEM;
	size_t n_ret = g->returned_count < max ? g->returned_count : max;
	size_t n_new = p->msg_count - g->next;
	if (n_new > max - n_ret)
		n_new = max - n_ret;
	if (n_ret + n_new == 0)
		return 0;
	int ci = consumer_index(g, consumer);
	if (ci < 0)
		return booking_error_oom();
	if (pending_reserve(g, g->next + n_new) < 0)
		return booking_error_oom();
	int rc = delivery_alloc(d, n_ret + n_new);
	if (rc < 0)
		return rc;
	d->group = g;
	d->consumer = ci;
	d->at = now;
	/* messages handed back earlier come first, in stream order */
	for (size_t i = g->first_pending; i < g->next && d->n < n_ret; i++) {
		if (g->pending[i].consumer != PEND_RETURNED)
			continue;
		g->returned_count--;
		hand_out(p, g, d, i);
	}
	for (size_t k = 0; k < n_new; k++) {
		size_t i = g->next++;
		g->pending[i].deliveries = 0;
		g->pending_count++;
		hand_out(p, g, d, i);
	}
	return 0;
}

static int pub_read_group(booking_event_publisher *base, const char *group, const char *consumer, size_t max,
                          booking_message_cb cb, void *payload)
{
	mem_publisher *p = impl(base);
	if (!group || !consumer)
		return missing("group and consumer");
	delivery d;
	memset(&d, 0, sizeof d);
	int64_t now = now_ms(p);
	pthread_mutex_lock(&p->mu);
	int rc = read_locked(p, group, consumer, max, now, &d);
	pthread_mutex_unlock(&p->mu);
	if (rc < 0) {
		delivery_free(&d);
		return rc;
	}
	return deliver(p, &d, cb, payload);
}

/* Message index of a msg_id, or SIZE_MAX when it is not one of ours. */
static size_t parse_msg_id(const char *msg_id, size_t msg_count)
{
	if (!msg_id || *msg_id < '1' || *msg_id > '9')
		return SIZE_MAX;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(msg_id, &end, 10);
	if (errno || *end || v == 0 || v > msg_count)
		return SIZE_MAX;
	return (size_t)(v - 1);
}

static int pub_ack(booking_event_publisher *base, const char *group, const char *msg_id)
{
	mem_publisher *p = impl(base);
	if (!group || !msg_id)
		return missing("group and msg_id");
	pthread_mutex_lock(&p->mu);
	pub_group *g = group_find(p, group);
	size_t i = parse_msg_id(msg_id, p->msg_count);
	if (g && i != SIZE_MAX && i < g->next && g->pending[i].consumer != PEND_NONE) {
		if (g->pending[i].consumer == PEND_RETURNED)
			g->returned_count--;
		g->pending[i].consumer = PEND_NONE;
		g->pending_count--;
		while (g->first_pending < g->next && g->pending[g->first_pending].consumer == PEND_NONE)
			g->first_pending++;
	}
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static int claim_locked(mem_publisher *p, const char *group, const char *consumer, int64_t min_idle_ms,
                        size_t max, int64_t now, delivery *d)
{
	pub_group *g = group_get(p, group);
	if (!g)
		return BOOKING_ENOMEM;
	size_t n = g->pending_count < max ? g->pending_count : max;
	if (n == 0)
		return 0;
	int ci = consumer_index(g, consumer);
	if (ci < 0)
		return booking_error_oom();
	int rc = delivery_alloc(d, n);
	if (rc < 0)
		return rc;
	d->group = g;
	d->consumer = ci;
	d->at = now;
	for (size_t i = g->first_pending; i < g->next && d->n < n; i++) {
		const pub_pending *pe = &g->pending[i];
		if (pe->consumer == PEND_NONE)
			continue;
		/* a returned message is claimable at once: nobody holds it */
		if (pe->consumer == PEND_RETURNED)
			g->returned_count--;
		else if (now - pe->delivered_at < min_idle_ms)
			continue;
		hand_out(p, g, d, i);
	}
	return 0;
}

static int pub_claim_stale(booking_event_publisher *base, const char *group, const char *consumer,
                           int64_t min_idle_ms, size_t max, booking_message_cb cb, void *payload)
{
	mem_publisher *p = impl(base);
	if (!group || !consumer)
		return missing("group and consumer");
	delivery d;
	memset(&d, 0, sizeof d);
	int64_t now = now_ms(p);
	pthread_mutex_lock(&p->mu);
	int rc = claim_locked(p, group, consumer, min_idle_ms, max, now, &d);
	pthread_mutex_unlock(&p->mu);
	if (rc < 0) {
		delivery_free(&d);
		return rc;
	}
	return deliver(p, &d, cb, payload);
}

static void pub_free(booking_event_publisher *base)
{
	mem_publisher *p = impl(base);
	if (!p)
		return;
	for (size_t i = 0; i < p->msg_count; i++)
		booking_free(p->msgs[i]);
	booking_free(p->msgs);
	for (size_t i = 0; i < p->group_count; i++)
		group_free(p->groups[i]);
	booking_free(p->groups);
	pthread_mutex_destroy(&p->mu);
	booking_free(p);
}

int booking__memory_publisher_new(booking_event_publisher **out, const booking_clock *clock)
{
	if (!out)
		return missing("out");
	*out = NULL;
	mem_publisher *p = booking_calloc(1, sizeof *p);
	if (!p)
		return booking_error_oom();
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		booking_free(p);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "memory publisher: cannot create a mutex");
	}
	p->clock = clock ? clock : booking_clock_system();
	p->parent.version = BOOKING_EVENT_PUBLISHER_VERSION;
	p->parent.free = pub_free;
	p->parent.publish = pub_publish;
	p->parent.read_group = pub_read_group;
	p->parent.ack = pub_ack;
	p->parent.claim_stale = pub_claim_stale;
	*out = &p->parent;
	return 0;
}
