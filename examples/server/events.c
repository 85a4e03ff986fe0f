/*
 * booking-server — Server-Sent Events of seat maps, and the background
 * threads: the events consumer that wakes them, expiry sweep, outbox relay,
 * notification delivery and payment recovery.
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include "json_records.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Seconds between keepalive comments of an SSE stream (less when the idle timeout is shorter). */
#define SSE_KEEPALIVE_SECONDS 15

/* ---- SSE ------------------------------------------------------------------- */

typedef struct sse {
	srv *s;
	char showtime[SRV_ID_SIZE];
	char cid[SRV_CID_MAX + 1];
	uint64_t seen;        /* the generation the last map was read at */
	char etag[48];        /* of the last map sent */
	time_t last_write;
	char *pending;        /* text not yet handed to MHD */
	size_t pending_len, pending_off;
} sse;

/* "event: seats\ndata: MAP\n\n" when the map changed since the last one sent; NULL otherwise (or on failure). */
static char *map_event(sse *e)
{
	booking_ctx ctx;
	booking_seat_map *m = NULL;
	booking_ctx_init(&ctx, NULL, BOOKING_ROLE_NONE);
	ctx.correlation_id = e->cid;
	if (booking_seat_map_get(&m, e->s->bk, &ctx, e->showtime) != 0)
		return NULL;
	json_t *j = json_seat_map(m);
	booking_seat_map_free(m);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return NULL;
	char etag[48];
	srv_etag(etag, text, strlen(text));
	if (strcmp(etag, e->etag) == 0) {
		free(text);
		return NULL;
	}
	memcpy(e->etag, etag, sizeof etag);
	size_t n = strlen(text) + 32;
	char *ev = malloc(n);
	if (ev)
		snprintf(ev, n, "event: seats\ndata: %s\n\n", text);
	free(text);
	return ev;
}

static ssize_t copy_pending(sse *e, char *buf, size_t max)
{
	size_t n = e->pending_len - e->pending_off;
	if (n > max)
		n = max;
	memcpy(buf, e->pending + e->pending_off, n);
	e->pending_off += n;
	if (e->pending_off == e->pending_len) {
		free(e->pending);
		e->pending = NULL;
	}
	e->last_write = time(NULL);
	return (ssize_t)n;
}

static void set_pending(sse *e, char *text)
{
	e->pending = text;
	e->pending_len = strlen(text);
	e->pending_off = 0;
}

/* MHD asks for more of the stream: block (this connection has its own thread) until there is some. */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	sse *e = cls;
	srv *s = e->s;
	(void)pos;
	long keepalive = s->cfg.timeout / 2 < SSE_KEEPALIVE_SECONDS ? (s->cfg.timeout / 2 > 0 ? s->cfg.timeout / 2 : 1)
	                                                            : SSE_KEEPALIVE_SECONDS;
	for (;;) {
		if (e->pending)
			return copy_pending(e, buf, max);
		if (atomic_load(&s->stopping))
			return MHD_CONTENT_READER_END_OF_STREAM;
		pthread_mutex_lock(&s->ev_mu);
		uint64_t gen = s->ev_generation;
		pthread_mutex_unlock(&s->ev_mu);
		if (gen != e->seen) {
			e->seen = gen;
			char *ev = map_event(e);
			if (ev) {
				set_pending(e, ev);
				continue;
			}
		}
		if (time(NULL) - e->last_write >= keepalive) {
			char *k = strdup(": keepalive\n\n");
			if (!k)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			set_pending(e, k);
			continue;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&s->ev_mu);
		while (s->ev_generation == e->seen && !atomic_load(&s->stopping))
			if (pthread_cond_timedwait(&s->ev_cv, &s->ev_mu, &until) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&s->ev_mu);
	}
}

static void sse_free(void *cls)
{
	sse *e = cls;
	atomic_fetch_sub(&e->s->sse_open, 1);
	free(e->pending);
	free(e);
}

void *srv_sse_response(srv *s, const char *showtime_id, const char *correlation_id, srv_resp *out)
{
	sse *e = calloc(1, sizeof *e);
	if (!e) {
		srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
		return NULL;
	}
	e->s = s;
	atomic_fetch_add(&s->sse_open, 1); /* sse_free() counts it out */
	snprintf(e->showtime, sizeof e->showtime, "%s", showtime_id);
	snprintf(e->cid, sizeof e->cid, "%s", correlation_id);
	pthread_mutex_lock(&s->ev_mu);
	e->seen = s->ev_generation;
	pthread_mutex_unlock(&s->ev_mu);
	char *first = map_event(e);
	if (!first) {
		srv_fail(out); /* SHOWTIME_NOT_FOUND and the like, as JSON before the stream starts */
		sse_free(e);
		return NULL;
	}
	set_pending(e, first);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, e, sse_free);
	if (!resp) {
		sse_free(e);
		srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return resp;
}

void srv_events_bump(srv *s)
{
	pthread_mutex_lock(&s->ev_mu);
	s->ev_generation++;
	pthread_cond_broadcast(&s->ev_cv);
	pthread_mutex_unlock(&s->ev_mu);
}

/* ---- background work ------------------------------------------------------------ */

typedef struct task {
	srv *s;
	const char *name;
	long interval_ms;
	int (*run)(srv *s, void *state);
	pthread_t thread;
	bool started;
} task;

static pthread_mutex_t stop_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cv = PTHREAD_COND_INITIALIZER;

static void *task_main(void *arg)
{
	task *t = arg;
	char group[64];
	snprintf(group, sizeof group, "booking-server-sse-%ld-%lx", (long)getpid(), (unsigned long)time(NULL));
	while (!atomic_load(&t->s->stopping)) {
		if (t->run(t->s, group) != 0 && t->s->cfg.verbose) {
			const booking_error *e = booking_error_last();
			fprintf(stderr, SRV_NAME ": %s: %s: %s\n", t->name, e->name ? e->name : "?", e->message ? e->message : "");
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += t->interval_ms / 1000;
		until.tv_nsec += (t->interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&stop_mu);
		while (!atomic_load(&t->s->stopping))
			if (pthread_cond_timedwait(&stop_cv, &stop_mu, &until) == ETIMEDOUT)
				break;
		pthread_mutex_unlock(&stop_mu);
	}
	return NULL;
}

/* Seat-changing events wake the SSE connections. */
static int on_event(const booking_event *ev, void *payload)
{
	if (strncmp(ev->type, "reservation.", 12) == 0 || strncmp(ev->type, "seats.", 6) == 0)
		srv_events_bump(payload);
	return 0;
}

/*
 * Wake the streams on seat-changing events. Only while a stream is open:
 * with nobody watching, the consumer costs the store nothing (no reads, no
 * inbox writes). A stream that opens later first sends the map as it is,
 * and the consumer, catching up from its cursor, wakes it with the first
 * batch: the map it reads then is the current one.
 */
static int run_events(srv *s, void *state)
{
	if (atomic_load(&s->sse_open) == 0)
		return 0;
	booking_consumer_options opts = BOOKING_CONSUMER_OPTIONS_INIT;
	opts.group = state;
	opts.batch = 256;
	size_t n = 0;
	int rc;
	do
		rc = booking_consume(&n, s->bk, &opts, on_event, s);
	while (rc == 0 && n == opts.batch && !atomic_load(&s->stopping));
	return rc;
}

static int run_expiry(srv *s, void *state)
{
	(void)state;
	return booking_expire_due(NULL, s->bk, booking_ctx_system(), 1000);
}

static int run_relay(srv *s, void *state)
{
	(void)state;
	return booking_outbox_relay(NULL, s->bk, 1000);
}

static int deliver(const booking_notification *n, void *payload)
{
	const srv *s = payload;
	if (s->cfg.verbose) {
		char subject[256];
		booking_text_escape(subject, sizeof subject, n->subject);
		fprintf(stderr, SRV_NAME ": notification %s for %s: %s\n", booking_notification_kind_name(n->kind),
		        n->user_id ? n->user_id : "-", subject);
	}
	return 0;
}

static int run_notify(srv *s, void *state)
{
	(void)state;
	return booking_notify(NULL, s->bk, deliver, s);
}

static int run_recover(srv *s, void *state)
{
	(void)state;
	return booking_payment_recover(NULL, s->bk, booking_ctx_system(), 60000);
}

static task tasks[5];

int srv_background_start(srv *s)
{
	const task defs[] = {{s, "events", 200, run_events, 0, false},
	                     {s, "expiry", s->cfg.sweep_seconds * 1000, run_expiry, 0, false},
	                     {s, "relay", s->cfg.relay_seconds * 1000, run_relay, 0, false},
	                     {s, "notify", s->cfg.notify_seconds * 1000, run_notify, 0, false},
	                     {s, "recover", s->cfg.recover_seconds * 1000, run_recover, 0, false}};
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
		tasks[i] = defs[i];
		if (pthread_create(&tasks[i].thread, NULL, task_main, &tasks[i]) != 0) {
			fprintf(stderr, SRV_NAME ": cannot start the %s thread\n", tasks[i].name);
			return -1;
		}
		tasks[i].started = true;
	}
	return 0;
}

void srv_background_stop(srv *s)
{
	atomic_store(&s->stopping, true);
	pthread_mutex_lock(&stop_mu);
	pthread_cond_broadcast(&stop_cv);
	pthread_mutex_unlock(&stop_mu);
	srv_events_bump(s);
	for (size_t i = 0; i < sizeof tasks / sizeof tasks[0]; i++)
		if (tasks[i].started) {
			pthread_join(tasks[i].thread, NULL);
			tasks[i].started = false;
		}
}
