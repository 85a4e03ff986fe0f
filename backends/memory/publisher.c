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
 * and, per delivered message, its pending state (holder, delivered_at,
 * deliveries). The holder is the batch (one read_group or claim_stale) that
 * has the message: consumer names are not kept, since nothing reads them.
 * Groups are created on first use and start at the beginning of the stream.
 *
 * A delivery counts once the callback accepts it. When a callback returns
 * non-zero, that message and the rest of the batch it never saw go back to
 * the group ("returned": pending with no holder, deliveries not counted),
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

#define HELD_NONE 0     /* not pending: acked (or never delivered) */
#define HELD_RETURNED 1 /* pending, refused by the callback: read_group hands it out again first */

typedef struct pub_pending {
	int64_t delivered_at;
	int deliveries;
	uint64_t holder; /* the batch that has it (> HELD_RETURNED), HELD_NONE or HELD_RETURNED */
} pub_pending;

typedef struct pub_group {
	size_t next;          /* first message never delivered to this group */
	pub_pending *pending; /* [0, next) */
	size_t pending_cap;
	size_t first_pending; /* every message before this one is acked */
	size_t pending_count; /* entries not HELD_NONE (returned ones included) */
	size_t returned_count;
	char name[];
} pub_group;

typedef struct mem_publisher {
	booking_event_publisher parent;
	pthread_mutex_t mu;
	const booking_clock *clock;
	pub_msg **msgs;
	size_t msg_count, msg_cap;
	pub_group **groups;
	size_t group_count;
	uint64_t batches; /* the last batch handed out; starts at HELD_RETURNED */
} mem_publisher;

/* A delivery prepared under the mutex. Strings borrowed from the stream. */
typedef struct delivery {
	pub_group *group; /* groups live as long as the publisher */
	uint64_t batch;
	int64_t at;
	booking_message *msgs;
	size_t n;
} delivery;

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "memory publisher: %s is required", what);
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
	size_t len = strlen(name);
	g = booking_calloc(1, sizeof *g + len + 1);
	pub_group **groups = booking_realloc(p->groups, (p->group_count + 1) * sizeof *groups);
	if (groups)
		p->groups = groups;
	if (!g || !groups) {
		booking_free(g);
		booking_error_oom();
		return NULL;
	}
	memcpy(g->name, name, len + 1);
	p->groups[p->group_count++] = g;
	return g;
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

/* Call the callback without the mutex; what it refuses (and what follows) goes back to the group. */
static int deliver(mem_publisher *p, delivery *d, booking_message_cb cb, void *payload)
{
	int rc = 0;
	size_t i = 0;
	while (cb && i < d->n && rc == 0)
		rc = cb(&d->msgs[i++], payload);
	if (rc != 0) {
		/* hand msgs[i - 1..n) back, unless another batch took them over meanwhile */
		pthread_mutex_lock(&p->mu);
		for (size_t j = i - 1; j < d->n; j++) {
			pub_pending *pe = &d->group->pending[parse_msg_id(d->msgs[j].msg_id, p->msg_count)];
			if (pe->holder != d->batch)
				continue;
			pe->holder = HELD_RETURNED;
			pe->deliveries--;
			d->group->returned_count++;
		}
		pthread_mutex_unlock(&p->mu);
	}
	booking_free(d->msgs);
	return rc;
}

/* Record message i as msgs[d->n], delivered now to d's batch. */
static void hand_out(mem_publisher *p, pub_group *g, delivery *d, size_t i)
{
	pub_pending *pe = &g->pending[i];
	pe->holder = d->batch;
	pe->delivered_at = d->at;
	if (pe->deliveries < INT32_MAX)
		pe->deliveries++;
	const pub_msg *m = p->msgs[i];
	d->msgs[d->n++] = (booking_message){m->msg_id, m->event_id, m->envelope, pe->deliveries};
}

static int pub_publish(booking_event_publisher *base, const char *event_id, const char *type,
                       const char *envelope_json)
{
	mem_publisher *p = (mem_publisher *)base;
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

/*
 * Under the mutex, hand up to `max` messages of `group` to a new batch:
 * read_group takes the returned ones (in stream order), then new ones;
 * claim_stale takes pending ones idle for at least `min_idle_ms`, and
 * returned ones at once (nobody holds them).
 */
static int take_locked(mem_publisher *p, const char *group, bool claim, int64_t min_idle_ms, size_t max,
                       int64_t now, delivery *d)
{
	pub_group *g = group_get(p, group);
	if (!g)
		return BOOKING_ENOMEM;
	size_t n_old = claim ? g->pending_count : g->returned_count;
	n_old = n_old < max ? n_old : max;
	size_t n_new = claim ? 0 : p->msg_count - g->next;
	if (n_new > max - n_old)
		n_new = max - n_old;
	if (n_old + n_new == 0)
		return 0;
	if (g->pending_cap < g->next + n_new) { /* room for every message: the stream's capacity */
		pub_pending *pend = booking_realloc(g->pending, p->msg_cap * sizeof *pend);
		if (!pend)
			return booking_error_oom();
		g->pending = pend;
		g->pending_cap = p->msg_cap;
	}
	if (!(d->msgs = booking_calloc(n_old + n_new, sizeof *d->msgs)))
		return booking_error_oom();
	d->group = g;
	d->batch = ++p->batches;
	d->at = now;
	for (size_t i = g->first_pending; i < g->next && d->n < n_old; i++) {
		const pub_pending *pe = &g->pending[i];
		bool returned = pe->holder == HELD_RETURNED;
		if (pe->holder == HELD_NONE || (!returned && (!claim || now - pe->delivered_at < min_idle_ms)))
			continue;
		if (returned)
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

static int take(booking_event_publisher *base, const char *group, const char *consumer, bool claim,
                int64_t min_idle_ms, size_t max, booking_message_cb cb, void *payload)
{
	mem_publisher *p = (mem_publisher *)base;
	if (!group || !consumer)
		return missing("group and consumer");
	delivery d = {0};
	int64_t now = p->clock->now_ms(p->clock);
	pthread_mutex_lock(&p->mu);
	int rc = take_locked(p, group, claim, min_idle_ms, max, now, &d);
	pthread_mutex_unlock(&p->mu);
	return rc < 0 ? rc : deliver(p, &d, cb, payload); /* take_locked allocates d.msgs last */
}

static int pub_read_group(booking_event_publisher *base, const char *group, const char *consumer, size_t max,
                          booking_message_cb cb, void *payload)
{
	return take(base, group, consumer, false, 0, max, cb, payload);
}

static int pub_claim_stale(booking_event_publisher *base, const char *group, const char *consumer,
                           int64_t min_idle_ms, size_t max, booking_message_cb cb, void *payload)
{
	return take(base, group, consumer, true, min_idle_ms, max, cb, payload);
}

static int pub_ack(booking_event_publisher *base, const char *group, const char *msg_id)
{
	mem_publisher *p = (mem_publisher *)base;
	if (!group || !msg_id)
		return missing("group and msg_id");
	pthread_mutex_lock(&p->mu);
	pub_group *g = group_find(p, group);
	size_t i = parse_msg_id(msg_id, p->msg_count);
	if (g && i != SIZE_MAX && i < g->next && g->pending[i].holder != HELD_NONE) {
		if (g->pending[i].holder == HELD_RETURNED)
			g->returned_count--;
		g->pending[i].holder = HELD_NONE;
		g->pending_count--;
		while (g->first_pending < g->next && g->pending[g->first_pending].holder == HELD_NONE)
			g->first_pending++;
	}
	pthread_mutex_unlock(&p->mu);
	return 0;
}

static void pub_free(booking_event_publisher *base)
{
	mem_publisher *p = (mem_publisher *)base;
	if (!p)
		return;
	for (size_t i = 0; i < p->msg_count; i++)
		booking_free(p->msgs[i]);
	booking_free(p->msgs);
	for (size_t i = 0; i < p->group_count; i++) {
		booking_free(p->groups[i]->pending);
		booking_free(p->groups[i]);
	}
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
	p->batches = HELD_RETURNED;
	p->parent.version = BOOKING_EVENT_PUBLISHER_VERSION;
	p->parent.free = pub_free;
	p->parent.publish = pub_publish;
	p->parent.read_group = pub_read_group;
	p->parent.ack = pub_ack;
	p->parent.claim_stale = pub_claim_stale;
	*out = &p->parent;
	return 0;
}
