/*
 * booking-server — the HTTP host of libbooking: shared state and the
 * functions the files of examples/server/ offer each other.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SERVER_H
#define BOOKING_SERVER_H

#include <booking/booking.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "request.h"

#define SRV_NAME "booking-server"

/* The command line and BOOKING_HTTP_* variables. */
typedef struct srv_config {
	const char *listen;      /* ADDR:PORT */
	char host[64];           /* parsed from listen */
	unsigned int port;
	long threads;            /* requests handled at once */
	long max_body;           /* bytes; larger → 413 */
	long timeout;            /* connection idle timeout, seconds */
	long max_connections;
	const char *www;         /* the page's directory */
	const char *openapi;     /* the OpenAPI document's file */
	const char *store_url;   /* --store */
	const char *data_dir;    /* --data-dir: key files made by `booking init` */
	long sweep_seconds, relay_seconds, notify_seconds, recover_seconds;
	bool verbose;
} srv_config;

/* HTTP metrics: counters by route, method and status; latency histograms by route. */
#define SRV_METRIC_SERIES 512
#define SRV_BUCKETS 12
typedef struct srv_series {
	const char *route; /* a pattern of srv_routes[] or "static", "unmatched" (static strings) */
	const char *method;
	int status;
	uint64_t count;
} srv_series;
typedef struct srv_latency {
	uint64_t buckets[SRV_BUCKETS + 1]; /* the last is +Inf */
	double sum;
	uint64_t count;
} srv_latency;

typedef struct srv {
	srv_config cfg;
	booking_handle *bk;
	char *jwks;             /* {"keys":[...]} text, or NULL when this server has no keys */
	char *limits;           /* {"limits":{...}} text: the fair-sale limits the handle was opened with */
	atomic_bool stopping;   /* SIGTERM/SIGINT seen */
	atomic_long inflight;   /* requests being handled */
	atomic_long sse_open;   /* event streams open: the events consumer runs only while some are */

	/* requests handled at once: at most cfg.threads */
	pthread_mutex_t work_mu;
	pthread_cond_t work_cv;
	long working;

	/* seat changes: bumped by the events thread; SSE connections wait on it */
	pthread_mutex_t ev_mu;
	pthread_cond_t ev_cv;
	uint64_t ev_generation;

	pthread_mutex_t metrics_mu;
	srv_series series[SRV_METRIC_SERIES];
	size_t series_count;
	srv_latency latency[R_COUNT + 2]; /* routes, then static, then unmatched */
} srv;

/* One request as the handlers see it. */
typedef struct srv_resp srv_resp;

typedef struct srv_req {
	srv *s;
	void *conn;                 /* struct MHD_Connection * */
	srv_route_id route;
	const char *method;
	char id[SRV_ID_SIZE];       /* the {id} of the path */
	json_t *body;               /* the parsed body (routes with fields) */
	const char *token;          /* the bearer token (borrowed from the headers) or NULL */
	booking_ctx ctx;            /* the actor, the correlation id, traceparent and client key */
	char client_key[64];        /* the client's IP address (ctx.client_key): the rate limits count per client */
	int64_t started_ms;         /* booking_now() when the handler began */
} srv_req;

/* A response the handler built. */
struct srv_resp {
	int status;
	json_t *json;           /* the body, or NULL for none (204, 304) */
	char *text;             /* a body of text instead (malloc'd), e.g. metrics */
	const char *content_type;
	char etag[48];          /* "" when none */
	char allow[64];         /* the Allow header of a 405, "" otherwise */
	char retry_after[24];   /* the Retry-After header (seconds) of a 429, "" otherwise */
};

/* http.c: a query argument or a request header of r, borrowed; NULL when absent. */
const char *srv_query(const srv_req *r, const char *name);
const char *srv_header(const srv_req *r, const char *name);

/* routes.c: run the handler of r->route (the result is in `out`; returns 0, as the helpers below). */
int srv_handle(srv_req *r, srv_resp *out);
/* routes.c: the response for the thread's last library error. */
int srv_fail(srv_resp *out);
/* routes.c: an error body {"error":{code,message,details}} with `details` stolen (may be NULL). */
int srv_error(srv_resp *out, int status, const char *code, const char *message, json_t *details);

/* http.c: start MHD; 0 or -1 (printed). */
int srv_http_start(srv *s, void **daemon_out, unsigned int *port_out);
void srv_http_quiesce(void *daemon);
void srv_http_stop(void *daemon);

/* metrics.c */
void srv_metrics_record(srv *s, int route_index, const char *method, int status, double seconds);
/* The library's metrics followed by the HTTP ones; malloc'd text or NULL. */
char *srv_metrics_text(srv *s);

/*
 * events.c: an SSE response (a struct MHD_Response *) for a showtime, its
 * first event the current seat map; NULL with `out` filled (e.g. 404
 * SHOWTIME_NOT_FOUND) when there is none to stream.
 */
void *srv_sse_response(srv *s, const char *showtime_id, const char *correlation_id, srv_resp *out);
/* events.c: the background threads (events for SSE, expiry, relay, notifications, recovery). */
int srv_background_start(srv *s);
void srv_background_stop(srv *s);
/* Wake every SSE connection (a seat change, or shutdown). */
void srv_events_bump(srv *s);

/* A content hash of `text` as an ETag value ("\"…\"") into etag (48 bytes). */
void srv_etag(char *etag, const char *text, size_t len);

#endif
