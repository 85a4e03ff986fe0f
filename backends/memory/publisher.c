/*
 * libbooking — the `memory:` event publisher: an append-only stream with
 * consumer groups, in process (Redis Streams semantics, minus trimming).
 *
 * Message i (0-based) has msg_id "i+1", its key in the stream's table. Messages are immutable once
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
#include "memory_store.h"

#include <stdio.h>

/* A message, its three strings in the same block (mem_pack). */
typedef struct pub_msg {
	char *msg_id;
	char *event_id;
	char *envelope;
	size_t index; /* in the stream */
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
	char *name; /* in the same block (mem_pack) */
} pub_group;

typedef struct mem_publisher {
	booking_event_publisher parent;
	pthread_mutex_t mu;
	const booking_clock *clock;
	table msgs;   /* pub_msg by msg_id, in stream order */
	table groups; /* pub_group by name */
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

/* The group, created on first use. NULL when out of memory (error set). */
static pub_group *group_get(mem_publisher *p, const char *name)
{
	pub_group *g = mem_find(&p->groups, name);
	if (g)
		return g;
	static const size_t off[1] = {offsetof(pub_group, name)};
	g = mem_pack(sizeof *g, 1, &name, off, false);
	if ((g ? mem_add_new(&p->groups, g->name, g) : booking_error_oom()) < 0) {
		booking_free(g);
		return NULL;
	}
	return g;
}

/* Message index of a msg_id, or SIZE_MAX when it is not one of ours. */
static size_t msg_index(const mem_publisher *p, const char *msg_id)
{
	const pub_msg *m = mem_find(&p->msgs, msg_id);
	return m ? m->index : SIZE_MAX;
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
			pub_pending *pe = &d->group->pending[msg_index(p, d->msgs[j].msg_id)];
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
	const pub_msg *m = p->msgs.items[i];
	d->msgs[d->n++] = (booking_message){m->msg_id, m->event_id, m->envelope, pe->deliveries};
}

static int pub_publish(booking_event_publisher *base, const char *event_id, const char *type,
                       const char *envelope_json)
{
	mem_publisher *p = (mem_publisher *)base;
	(void)type;
	if (!event_id || !envelope_json)
		return missing("event_id and envelope");
	static const size_t off[3] = {offsetof(pub_msg, msg_id), offsetof(pub_msg, event_id),
	                              offsetof(pub_msg, envelope)};
	char id[32];
	pthread_mutex_lock(&p->mu);
	snprintf(id, sizeof id, "%zu", p->msgs.len + 1);
	const char *strs[3] = {id, event_id, envelope_json};
	pub_msg *m = mem_pack(sizeof *m, 3, strs, off, false);
	int rc = 0;
	if (!m || mem_table_reserve(&p->msgs, 1) < 0) {
		booking_free(m);
		rc = booking_error_oom();
	} else {
		m->index = p->msgs.len;
		mem_table_add(&p->msgs, m->msg_id, m);
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
	size_t n_new = claim ? 0 : p->msgs.len - g->next;
	if (n_new > max - n_old)
		n_new = max - n_old;
	if (n_old + n_new == 0)
		return 0;
	if (g->pending_cap < g->next + n_new) { /* room for every message: the stream's capacity */
		pub_pending *pend = booking_realloc(g->pending, p->msgs.cap * sizeof *pend);
		if (!pend)
			return booking_error_oom();
		g->pending = pend;
		g->pending_cap = p->msgs.cap;
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
	pub_group *g = mem_find(&p->groups, group);
	size_t i = msg_index(p, msg_id);
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
	for (size_t i = 0; i < p->groups.len; i++)
		booking_free(((pub_group *)p->groups.items[i])->pending);
	mem_table_free(&p->msgs, true);
	mem_table_free(&p->groups, true);
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
