/*
 * The outbox relay and the consumer runner: at-least-once delivery, inbox
 * dedupe, retries with backoff, dead letters.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <stdio.h>
#include <string.h>

#define RELAY_MAX 10000
#define DEFAULT_BATCH 64
#define DEFAULT_CLAIM_IDLE_MS 30000

/* ---------- relay ---------- */

typedef struct pending_event {
	char id[BOOKING_ID_SIZE];
	char *type;
	char *envelope;
} pending_event;

typedef struct pending_list {
	pending_event *items;
	size_t count, cap;
} pending_list;

static void pending_free(pending_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		booking_free(l->items[i].type);
		booking_free(l->items[i].envelope);
	}
	booking_free(l->items);
}

static int collect_pending(const booking_event_record *e, void *payload)
{
	pending_list *l = payload;
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		pending_event *n = booking_realloc(l->items, ncap * sizeof(*n));
		if (!n)
			return booking_error_oom();
		l->items = n;
		l->cap = ncap;
	}
	pending_event *pe = &l->items[l->count];
	booking__copy(pe->id, sizeof(pe->id), e->id);
	pe->type = booking_strdup(e->type);
	pe->envelope = booking__event_envelope(e);
	if (!pe->type || !pe->envelope) {
		booking_free(pe->type);
		booking_free(pe->envelope);
		return booking_error_oom();
	}
	l->count++;
	return 0;
}

static int relay_run(booking_handle *bk, size_t max, size_t *relayed_out)
{
	if (relayed_out)
		*relayed_out = 0;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if (max == 0)
		return 0;
	if (max > RELAY_MAX)
		max = RELAY_MAX;
	pending_list l = {0};
	int rc = bk->store->outbox->outbox_unpublished(bk->store, max, collect_pending, &l);
	if (rc < 0)
		goto done;
	const char **ids = booking_calloc(l.count ? l.count : 1, sizeof(*ids));
	if (!ids) {
		rc = booking_error_oom();
		goto done;
	}
	size_t n = 0;
	for (size_t i = 0; i < l.count; i++) {
		if (bk->publisher &&
		    (rc = bk->publisher->publish(bk->publisher, l.items[i].id, l.items[i].type, l.items[i].envelope)) < 0)
			break; /* the rest stays unpublished; a later relay retries it */
		ids[n++] = l.items[i].id;
	}
	int mrc = n ? bk->store->outbox->outbox_mark_published(bk->store, ids, n) : 0;
	booking_free(ids);
	if (rc == 0)
		rc = mrc;
	if (n)
		booking__log(bk, NULL, BOOKING_LOG_DEBUG, "outbox relayed", json_pack("{s:i}", "count", (int)n));
	if (relayed_out)
		*relayed_out = n;
done:
	pending_free(&l);
	return rc;
}

booking_error_code booking_outbox_relay(size_t *relayed_out, booking_handle *bk, size_t max)
{
	booking__scope sc;
	booking__scope_begin(&sc, bk, NULL, BOOKING__OP_RELAY);
	return booking__scope_end(&sc, relay_run(bk, max, relayed_out));
}

/* ---------- consuming ---------- */

typedef struct consumer {
	booking_handle *bk;
	const char *group;
	const char *name;
	size_t batch;
	int max_deliveries;
	int retry_base_ms;
	int64_t claim_idle_ms;
	booking_event_handler handler;
	void *payload;
	size_t handled;
	size_t seen; /* messages read this poll, duplicates and dead letters included */
} consumer;

/* A message copied out of a transport callback. */
typedef struct message {
	char *msg_id, *event_id, *envelope;
	int deliveries;
	int64_t position;
} message;

typedef struct message_list {
	message *items;
	size_t count, cap;
	int64_t last_position;
} message_list;

static void messages_free(message_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		booking_free(l->items[i].msg_id);
		booking_free(l->items[i].event_id);
		booking_free(l->items[i].envelope);
	}
	booking_free(l->items);
	memset(l, 0, sizeof(*l));
}

static int messages_add(message_list *l, const char *msg_id, const char *event_id, const char *envelope,
                        int deliveries, int64_t position)
{
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 32;
		message *n = booking_realloc(l->items, ncap * sizeof(*n));
		if (!n)
			return booking_error_oom();
		l->items = n;
		l->cap = ncap;
	}
	message *m = &l->items[l->count];
	m->msg_id = booking_strdup(msg_id);
	m->event_id = booking_strdup(event_id);
	m->envelope = booking_strdup(envelope);
	m->deliveries = deliveries;
	m->position = position;
	if (!m->msg_id || !m->event_id || !m->envelope) {
		booking_free(m->msg_id);
		booking_free(m->event_id);
		booking_free(m->envelope);
		return booking_error_oom();
	}
	l->count++;
	return 0;
}

static int collect_message(const booking_message *msg, void *payload)
{
	return messages_add(payload, msg->msg_id, msg->event_id, msg->envelope_json, msg->deliveries, 0);
}

static int collect_outbox(const booking_event_record *e, void *payload)
{
	message_list *l = payload;
	char *env = booking__event_envelope(e);
	if (!env)
		return booking_error_oom();
	char pos[32];
	snprintf(pos, sizeof(pos), "%lld", (long long)e->position);
	int rc = messages_add(l, pos, e->id, env, 1, e->position);
	booking_free(env);
	if (rc == 0 && e->position > l->last_position)
		l->last_position = e->position;
	return rc;
}

/* Full-jitter exponential backoff before delivery `attempt` (2, 3, ...). */
static void backoff(consumer *c, int attempt)
{
	int shift = attempt - 2 < 10 ? attempt - 2 : 10;
	uint64_t cap = (uint64_t)c->retry_base_ms << shift;
	booking__sleep(c->bk, (int64_t)booking__random(c->bk, cap + 1));
}

static int dead_letter(consumer *c, const message *m, const char *reason)
{
	booking_handle *bk = c->bk;
	int rc = bk->store->outbox->dead_letter_put(bk->store, c->group, m->event_id, reason, m->envelope, booking__now(bk));
	booking__log(bk, NULL, BOOKING_LOG_ERROR, "event dead-lettered",
	             json_pack("{s:s,s:s,s:s}", "group", c->group, "event_id", m->event_id, "reason", reason));
	return rc;
}

/*
 * Apply one message: skip it if the inbox saw it, else run the handler with
 * retries and record it; park it after max deliveries. 0 when the message
 * is done with (applied, duplicate or dead-lettered), <0 on a store error.
 */
static int apply_message(consumer *c, const message *m)
{
	booking_handle *bk = c->bk;
	booking_event ev;
	json_t *root = NULL;
	int rc = booking__event_parse(&ev, &root, m->envelope);
	if (rc == BOOKING_ENOMEM)
		return rc; /* not the envelope's fault: delivered again later, never parked */
	if (rc < 0)
		return dead_letter(c, m, "malformed envelope");
	bool seen = false;
	if ((rc = bk->store->outbox->inbox_seen(&seen, bk->store, c->group, ev.id)) < 0 || seen) {
		json_decref(root);
		return rc;
	}
	for (int delivery = m->deliveries > 0 ? m->deliveries : 1;; delivery++) {
		ev.delivery = delivery;
		booking_error_clear();
		int hrc = c->handler(&ev, c->payload);
		if (hrc == 0) {
			rc = bk->store->outbox->inbox_mark(bk->store, c->group, ev.id, booking__now(bk));
			if (rc == 0)
				c->handled++;
			else if (rc == BOOKING_EEXISTS)
				rc = 0; /* a racing consumer recorded it first */
			break;
		}
		if (hrc == BOOKING_ENOMEM) {
			rc = hrc; /* memory is short here, the event is fine: deliver it again later, never park it */
			break;
		}
		char reason[300];
		const booking_error *e = booking_error_last();
		snprintf(reason, sizeof(reason), "%s: %s", booking_error_name(hrc),
		         e->code == hrc && e->message[0] ? e->message : "handler failed");
		if (delivery >= c->max_deliveries) {
			rc = dead_letter(c, m, reason);
			break;
		}
		booking__log(bk, NULL, BOOKING_LOG_WARNING, "event handler failed; retrying",
		             json_pack("{s:s,s:s,s:i,s:s}", "group", c->group, "event_id", ev.id, "delivery", delivery,
		                       "reason", reason));
		booking__metric_redelivery(bk);
		backoff(c, delivery + 1);
	}
	json_decref(root);
	return rc;
}

static int consume_publisher(consumer *c)
{
	booking_event_publisher *pub = c->bk->publisher;
	message_list l = {0};
	int rc = pub->claim_stale(pub, c->group, c->name, c->claim_idle_ms, c->batch, collect_message, &l);
	if (rc == 0 && l.count < c->batch)
		rc = pub->read_group(pub, c->group, c->name, c->batch - l.count, collect_message, &l);
	c->seen = l.count;
	for (size_t i = 0; rc == 0 && i < l.count; i++)
		if ((rc = apply_message(c, &l.items[i])) == 0)
			rc = pub->ack(pub, c->group, l.items[i].msg_id);
	messages_free(&l);
	return rc;
}

static int consume_store(consumer *c)
{
	booking_handle *bk = c->bk;
	int64_t cursor = 0;
	message_list l = {0};
	pthread_mutex_lock(&bk->consume_lock);
	int rc = bk->store->outbox->cursor_get(&cursor, bk->store, c->group);
	if (rc == 0)
		rc = bk->store->outbox->outbox_read(bk->store, cursor, c->batch, collect_outbox, &l);
	c->seen = l.count;
	int64_t done_upto = cursor;
	for (size_t i = 0; rc == 0 && i < l.count; i++)
		if ((rc = apply_message(c, &l.items[i])) == 0)
			done_upto = l.items[i].position;
	if (done_upto > cursor) {
		int arc = bk->store->outbox->cursor_advance(bk->store, c->group, cursor, done_upto);
		if (arc < 0 && arc != BOOKING_EINVALID_STATE && rc == 0)
			rc = arc; /* EINVALID_STATE: another process moved it; the inbox kept us from applying twice */
	}
	pthread_mutex_unlock(&bk->consume_lock);
	messages_free(&l);
	return rc;
}

booking_error_code booking_consumer_options_init(booking_consumer_options *opts, unsigned int version)
{
	static const size_t end[BOOKING_CONSUMER_OPTIONS_VERSION + 1] = {0, sizeof(booking_consumer_options)};
	return booking__struct_init(opts, version, BOOKING_CONSUMER_OPTIONS_VERSION, end, "consumer options");
}

booking_error_code booking_consume(size_t *handled_out, booking_handle *bk, const booking_consumer_options *opts, booking_event_handler handler,
                    void *payload)
{
	booking__scope sc;
	booking__scope_begin(&sc, bk, NULL, BOOKING__OP_CONSUME);
	return booking__scope_end(&sc, booking__consume_poll(bk, opts, handler, payload, handled_out, NULL));
}

int booking__consume_poll(booking_handle *bk, const booking_consumer_options *opts, booking_event_handler handler,
                          void *payload, size_t *handled_out, size_t *seen_out)
{
	if (handled_out)
		*handled_out = 0;
	if (seen_out)
		*seen_out = 0;
	if (!bk || !opts || !handler)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "consume: NULL argument");
	if (opts->version == 0 || opts->version > BOOKING_CONSUMER_OPTIONS_VERSION)
		return booking__error_field("version", "unsupported consumer options version");
	int rc;
	const char *name = opts->consumer ? opts->consumer : "c1";
	if ((rc = booking__check_group("group", opts->group)) < 0 || (rc = booking__check_group("consumer", name)) < 0)
		return rc;
	if (opts->max_deliveries < 0 || opts->max_deliveries > 100 || opts->retry_base_ms < 0 || opts->retry_base_ms > 60000 ||
	    opts->claim_idle_ms < 0 || opts->batch > 10000)
		return booking__error_field("consumer_options", "out of range");
	consumer c = {bk,
	              opts->group,
	              name,
	              opts->batch ? opts->batch : DEFAULT_BATCH,
	              opts->max_deliveries ? opts->max_deliveries : bk->cfg.consumer_max_deliveries,
	              opts->retry_base_ms ? opts->retry_base_ms : bk->cfg.consumer_retry_base_ms,
	              opts->claim_idle_ms ? opts->claim_idle_ms : DEFAULT_CLAIM_IDLE_MS,
	              handler,
	              payload,
	              0,
	              0};
	rc = bk->publisher ? consume_publisher(&c) : consume_store(&c);
	if (handled_out)
		*handled_out = c.handled;
	if (seen_out)
		*seen_out = c.seen;
	return rc;
}

/* ---------- dead letters ---------- */

/* The letters grow contiguous in `items` and are handed out as pointers at the end. */
typedef struct dl_collector {
	booking_dead_letter *items;
	size_t count, cap;
} dl_collector;

static void dl_collector_clear(dl_collector *c)
{
	for (size_t i = 0; i < c->count; i++) {
		booking_free(c->items[i].reason);
		booking_free(c->items[i].envelope_json);
	}
	booking_free(c->items);
}

static int collect_dead_letter(const char *group, const char *event_id, const char *reason, const char *envelope,
                               int64_t dead_at, void *payload)
{
	dl_collector *c = payload;
	if (c->count == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		booking_dead_letter *n = booking_realloc(c->items, ncap * sizeof(*n));
		if (!n)
			return booking_error_oom();
		c->items = n;
		c->cap = ncap;
	}
	booking_dead_letter *d = &c->items[c->count];
	memset(d, 0, sizeof(*d));
	booking__copy(d->event_id, sizeof(d->event_id), event_id);
	booking__copy(d->group, sizeof(d->group), group);
	d->reason = booking_strdup(reason ? reason : "");
	d->envelope_json = booking_strdup(envelope ? envelope : "");
	d->dead_at = dead_at;
	if (!d->reason || !d->envelope_json) {
		booking_free(d->reason);
		booking_free(d->envelope_json);
		return booking_error_oom();
	}
	c->count++;
	return 0;
}

booking_error_code booking_dead_letters(booking_dead_letter_list **out, booking_handle *bk, const char *group)
{
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	int rc;
	if (group && (rc = booking__check_group("group", group)) < 0)
		return rc;
	booking_dead_letter_list *l = booking_calloc(1, sizeof(*l));
	if (!l)
		return booking_error_oom();
	dl_collector c = {NULL, 0, 0};
	rc = bk->store->outbox->dead_letter_list(bk->store, group, collect_dead_letter, &c);
	if (rc == 0 && c.count &&
	    !(l->items = (booking_dead_letter **)booking__record_array_adopt(c.items, c.count, sizeof(*c.items))))
		rc = BOOKING_ENOMEM;
	if (rc < 0) {
		dl_collector_clear(&c);
		booking_free(l);
		return rc;
	}
	if (c.count == 0)
		booking_free(c.items);
	l->count = c.count;
	*out = l;
	return 0;
}

void booking_dead_letter_list_free(booking_dead_letter_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++) {
		booking_free(l->items[i]->reason);
		booking_free(l->items[i]->envelope_json);
	}
	booking_free(l->items);
	booking_free(l);
}
