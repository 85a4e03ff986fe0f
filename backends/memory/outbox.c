/*
 * Memory store — the outbox (and the event batches every write appends), consumer
 * cursors, the inbox and dead letters.
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

static booking_event_record *event_pack(const booking_event_record *src)
{
	static const size_t off[5] = {
		offsetof(booking_event_record, type),           offsetof(booking_event_record, aggregate_type),
		offsetof(booking_event_record, correlation_id), offsetof(booking_event_record, traceparent),
		offsetof(booking_event_record, data_json)};
	const char *strs[5] = {src->type, src->aggregate_type, src->correlation_id, src->traceparent, src->data_json};
	booking_event_record *e = mem_pack(sizeof *e, 5, strs, off, false);
	if (!e)
		return NULL;
	/* sequence, position and published stay 0: the commit assigns them */
	memcpy(e->id, src->id, sizeof e->id);
	memcpy(e->aggregate_id, src->aggregate_id, sizeof e->aggregate_id);
	e->occurred_at = src->occurred_at;
	return e;
}

/*
 * Check ids, make the table room and copies of the `n` events: the copies
 * wait in that room, past the table's length, for mem_ev_batch_commit().
 */
int mem_ev_batch_prepare(mem_store *st, const booking_event_record *recs, size_t n)
{
	if (n == 0)
		return 0;
	if (!recs)
		return mem_missing_arg("event");
	for (size_t i = 0; i < n; i++) {
		if (mem_find(&st->events, recs[i].id))
			return booking_error_set(BOOKING_EEXISTS, NULL, "event %s already exists", recs[i].id);
		for (size_t j = 0; j < i; j++)
			if (strcmp(recs[i].id, recs[j].id) == 0)
				return booking_error_set(BOOKING_EEXISTS, NULL, "event %s given twice", recs[i].id);
	}
	/* room for an aggregate per event, whether it is new or not */
	if (mem_table_reserve(&st->events, n) < 0 || map_reserve(&st->aggs, n) < 0)
		return booking_error_oom();
	void **staged = st->events.items + st->events.len;
	for (size_t i = 0; i < n; i++) {
		if (!(staged[i] = event_pack(&recs[i]))) {
			while (i-- > 0)
				booking_free(staged[i]);
			return booking_error_oom();
		}
	}
	return 0;
}

/* Each event takes the next position and its aggregate's next sequence, and becomes the aggregate's newest. */
void mem_ev_batch_commit(mem_store *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		booking_event_record *e = st->events.items[st->events.len];
		uint64_t h = booking__strmap_hash(e->aggregate_id, NULL);
		const booking_event_record *last = booking__strmap_remove(&st->aggs, h, e->aggregate_id, NULL);
		e->sequence = last ? last->sequence + 1 : 1;
		booking__strmap_put_hashed(&st->aggs, h, e->aggregate_id, e);
		e->position = (int64_t)st->events.len + 1;
		mem_table_add(&st->events, e->id, e);
	}
}

/* ------------------------------------------------------------------------
 * Outbox, cursors, inbox, dead letters.
 * ------------------------------------------------------------------------ */

/*
 * Up to `max` events copied under the lock, then delivered: the unpublished
 * ones (from the published prefix on), or those after position `after`.
 */
static int events_deliver(mem_store *st, bool unpublished, int64_t after, size_t max, booking_store_event_cb cb,
                          void *payload)
{
	booking_event_record *snap = NULL;
	size_t n = 0;
	pthread_mutex_lock(&st->mu);
	size_t total = st->events.len, first = total;
	if (unpublished) { /* move the hint past the published prefix */
		first = st->first_unpublished;
		while (first < total && ((const booking_event_record *)st->events.items[first])->published)
			first++;
		st->first_unpublished = first;
	} else if (after < 0 || (uint64_t)after < total) { /* the event at index i has position i + 1 */
		first = after < 0 ? 0 : (size_t)after;
	}
	size_t cap = total - first < max ? total - first : max;
	if (cap && !(snap = booking_calloc(cap, sizeof *snap))) {
		pthread_mutex_unlock(&st->mu);
		return booking_error_oom();
	}
	for (size_t i = first; i < total && n < cap; i++) {
		const booking_event_record *e = st->events.items[i];
		if (!unpublished || !e->published)
			snap[n++] = *e;
	}
	pthread_mutex_unlock(&st->mu);
	int rc = 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

static int outbox_unpublished(booking_store *base, size_t max, booking_store_event_cb cb, void *payload)
{
	return events_deliver(mem_impl(base), true, 0, max, cb, payload);
}

static int outbox_mark_published(booking_store *base, const char *const *event_ids, size_t n)
{
	mem_store *st = mem_impl(base);
	if (n && !event_ids)
		return mem_missing_arg("event_ids");
	pthread_mutex_lock(&st->mu);
	for (size_t i = 0; i < n; i++) {
		booking_event_record *e = mem_find(&st->events, event_ids[i]);
		if (e)
			e->published = true;
	}
	pthread_mutex_unlock(&st->mu);
	return 0;
}

static int outbox_read(booking_store *base, int64_t after, size_t max, booking_store_event_cb cb, void *payload)
{
	return events_deliver(mem_impl(base), false, after, max, cb, payload);
}

static int cursor_get(int64_t *position_out, booking_store *base, const char *group)
{
	mem_store *st = mem_impl(base);
	if (!group || !position_out)
		return mem_missing_arg("group");
	pthread_mutex_lock(&st->mu);
	const mem_cursor *c = mem_find(&st->cursors, group);
	*position_out = c ? c->position : 0;
	pthread_mutex_unlock(&st->mu);
	return 0;
}

static int cursor_advance(booking_store *base, const char *group, int64_t expected, int64_t position)
{
	mem_store *st = mem_impl(base);
	if (!group)
		return mem_missing_arg("group");
	static const size_t off[1] = {offsetof(mem_cursor, group)};
	pthread_mutex_lock(&st->mu);
	mem_cursor *c = mem_find(&st->cursors, group);
	int64_t current = c ? c->position : 0;
	int rc = 0;
	if (current != expected) {
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "cursor of %s is at %lld, not %lld", group,
		                       (long long)current, (long long)expected);
	} else if (c) {
		c->position = position;
	} else if ((c = mem_pack(sizeof *c, 1, &group, off, false)) != NULL) {
		c->position = position;
		if ((rc = mem_add_new(&st->cursors, c->group, c)) < 0)
			booking_free(c);
	} else {
		rc = booking_error_oom();
	}
	pthread_mutex_unlock(&st->mu);
	return rc;
}

static int inbox_seen(bool *seen_out, booking_store *base, const char *group, const char *event_id)
{
	mem_store *st = mem_impl(base);
	if (!group || !event_id || !seen_out)
		return mem_missing_arg("group and event_id");
	pthread_mutex_lock(&st->mu);
	*seen_out = map_get(&st->inbox.index, group, event_id) != NULL;
	pthread_mutex_unlock(&st->mu);
	return 0;
}

static int inbox_mark(booking_store *base, const char *group, const char *event_id, int64_t now)
{
	mem_store *st = mem_impl(base);
	if (!group || !event_id)
		return mem_missing_arg("group and event_id");
	(void)now; /* nothing reads when an inbox row was written */
	static const size_t off[3] = {offsetof(mem_inbox, key), offsetof(mem_inbox, v.event_id),
	                              offsetof(mem_inbox, v.group)};
	const char *strs[3] = {group, event_id, group};
	mem_inbox *row = mem_pack(sizeof *row, 3, strs, off, true);
	pthread_mutex_lock(&st->mu);
	int rc = row ? mem_add_new(&st->inbox, row->key, row) : booking_error_oom();
	pthread_mutex_unlock(&st->mu);
	if (rc != 0)
		booking_free(row);
	if (rc > 0)
		return booking_error_set(BOOKING_EEXISTS, NULL, "event %s was already applied by %s", event_id, group);
	return rc;
}

/* A dead letter already put for the (group, event) stays as it is. */
static int dead_letter_put(booking_store *base, const char *group, const char *event_id, const char *reason,
                        const char *envelope_json, int64_t now)
{
	mem_store *st = mem_impl(base);
	if (!group || !event_id)
		return mem_missing_arg("group and event_id");
	static const size_t off[5] = {offsetof(mem_dead, key), offsetof(mem_dead, event_id), offsetof(mem_dead, group),
	                              offsetof(mem_dead, reason), offsetof(mem_dead, envelope)};
	const char *strs[5] = {group, event_id, group, reason, envelope_json};
	mem_dead *d = mem_pack(sizeof *d, 5, strs, off, true);
	if (!d)
		return booking_error_oom();
	d->dead_at = now;
	pthread_mutex_lock(&st->mu);
	d->seq = st->dead.len;
	int rc = mem_add_new(&st->dead, d->key, d);
	pthread_mutex_unlock(&st->mu);
	if (rc != 0)
		booking_free(d);
	return rc < 0 ? rc : 0;
}

static int cmp_dead(const void *a, const void *b)
{
	const mem_dead *x = a, *y = b;
	if (x->dead_at != y->dead_at)
		return x->dead_at < y->dead_at ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static bool of_group(const void *row, const void *group)
{
	return !group || strcmp(((const mem_dead *)row)->group, group) == 0;
}

static int dead_letter_list(booking_store *base, const char *group,
                            int (*cb)(const char *group, const char *event_id, const char *reason,
                                      const char *envelope_json, int64_t dead_at, void *payload),
                            void *payload)
{
	mem_store *st = mem_impl(base);
	size_t n;
	int rc;
	/* dead letters are immutable and live as long as the store: the copies borrow their strings */
	mem_dead *snap = mem_snapshot(st, &st->dead, sizeof *snap, of_group, group, cmp_dead, &n, &rc);
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(snap[i].group, snap[i].event_id, snap[i].reason, snap[i].envelope, snap[i].dead_at, payload);
	booking_free(snap);
	return rc;
}

const booking_store_outbox mem_store_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = outbox_unpublished,
	.outbox_mark_published = outbox_mark_published,
	.outbox_read = outbox_read,
	.cursor_get = cursor_get,
	.cursor_advance = cursor_advance,
	.inbox_seen = inbox_seen,
	.inbox_mark = inbox_mark,
	.dead_letter_put = dead_letter_put,
	.dead_letter_list = dead_letter_list,
};
