/*
 * booking-server — libmicrohttpd glue: one thread per connection, bodies
 * read up to the limit, the request checked (route, auth, body) before its
 * handler runs, and every response given X-Correlation-ID and counted.
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROUTE_STATIC R_COUNT
#define ROUTE_UNMATCHED (R_COUNT + 1)

/* What we keep of a connection's current request between the calls of the access handler. */
typedef struct conn_state {
	char *body;
	size_t len, cap;
	bool too_large;
	struct timespec t0;
} conn_state;

const char *srv_query(const srv_req *r, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *srv_header(const srv_req *r, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, name);
}

void srv_etag(char *etag, const char *text, size_t len)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 1099511628211ULL;
	}
	snprintf(etag, 48, "\"%016llx-%zx\"", (unsigned long long)h, len);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A random (v4) UUID for a request that brought no usable correlation id. */
static void new_uuid(char out[37])
{
	unsigned char b[16];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)((uint64_t)t.tv_nsec >> (i % 8) ^ (uint64_t)i * 131u);
	}
	b[6] = (unsigned char)((b[6] & 0x0Fu) | 0x40u);
	b[8] = (unsigned char)((b[8] & 0x3Fu) | 0x80u);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
	         b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- sending ---------------------------------------------------------------- */

static enum MHD_Result send_response(struct MHD_Connection *c, struct MHD_Response *resp, int status,
                                     const char *cid, const char *content_type)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "X-Correlation-ID", cid);
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	enum MHD_Result rc = MHD_queue_response(c, (unsigned int)status, resp);
	MHD_destroy_response(resp);
	return rc;
}

/* Send `out` (its json or text), freeing what it holds. */
static enum MHD_Result send_resp(struct MHD_Connection *c, srv_resp *out, const char *cid)
{
	char *text = out->text;
	const char *type = out->content_type;
	if (!text && out->json) {
		text = json_dumps(out->json, JSON_COMPACT);
		type = "application/json";
	}
	json_decref(out->json);
	out->json = NULL;
	out->text = NULL;
	struct MHD_Response *resp;
	if (text)
		resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	else
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	if (out->etag[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, out->etag);
	if (out->allow[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, out->allow);
	if (out->retry_after[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, out->retry_after);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return send_response(c, resp, out->status, cid, text ? type : NULL);
}

static enum MHD_Result send_error(srv *s, struct MHD_Connection *c, conn_state *st, int route, const char *method,
                                  const char *cid, int status, const char *code, const char *message, const char *field)
{
	srv_resp out = {0};
	srv_error(&out, status, code, message, field && field[0] ? json_pack("{s:s}", "field", field) : NULL);
	srv_metrics_record(s, route, method, status, seconds_since(&st->t0));
	return send_resp(c, &out, cid);
}

/* ---- the page's files ---------------------------------------------------------- */

static const char *content_type_of(const char *path)
{
	static const char *const types[][2] = {
		{".html", "text/html; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
		{".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
		{".ico", "image/x-icon"}, {".txt", "text/plain; charset=utf-8"}, {".webmanifest", "application/manifest+json"},
		{".woff2", "font/woff2"}};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

/* A request path the page's directory may answer: segments of [A-Za-z0-9._-], none starting with '.'. */
static bool static_path_ok(const char *path)
{
	if (path[0] != '/' || strlen(path) > 255)
		return false;
	for (const char *p = path; *p; p++) {
		if (*p == '/') {
			if (p[1] == '/' || p[1] == '.')
				return false;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	}
	return true;
}

/* Open the file of `path` under the page's directory (never outside it); -1 when none. */
static int open_static(const srv *s, const char *path, off_t *size)
{
	char want[PATH_MAX], real[PATH_MAX], root[PATH_MAX];
	if (!s->cfg.www || !static_path_ok(path) || !realpath(s->cfg.www, root))
		return -1;
	if (snprintf(want, sizeof want, "%s%s", root, strcmp(path, "/") == 0 ? "/index.html" : path) >= (int)sizeof want)
		return -1;
	size_t n = strlen(root);
	if (!realpath(want, real) || strncmp(real, root, n) != 0 || real[n] != '/')
		return -1;
	int fd = open(real, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	*size = sb.st_size;
	return fd;
}

static enum MHD_Result serve_static(srv *s, struct MHD_Connection *c, conn_state *st, const char *url,
                                    const char *method, const char *cid)
{
	off_t size = 0;
	int fd = open_static(s, url, &size);
	if (fd < 0)
		return send_error(s, c, st, ROUTE_UNMATCHED, method, cid, 404, "NOT_FOUND", "no such route or file", NULL);
	struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	const char *file = strcmp(url, "/") == 0 ? "/index.html" : url;
	srv_metrics_record(s, ROUTE_STATIC, method, 200, seconds_since(&st->t0));
	return send_response(c, resp, 200, cid, content_type_of(file));
}

/* ---- a request ------------------------------------------------------------------ */

/* At most cfg.threads handlers at once. */
static void work_enter(srv *s)
{
	pthread_mutex_lock(&s->work_mu);
	while (s->working >= s->cfg.threads)
		pthread_cond_wait(&s->work_cv, &s->work_mu);
	s->working++;
	pthread_mutex_unlock(&s->work_mu);
}

static void work_leave(srv *s)
{
	pthread_mutex_lock(&s->work_mu);
	s->working--;
	pthread_cond_signal(&s->work_cv);
	pthread_mutex_unlock(&s->work_mu);
}

/*
 * The client's IP address as text ("192.0.2.7", "2001:db8::1"): the ctx's
 * client_key, so the rate limits count per client as well as per user.
 * "" when libmicrohttpd cannot tell (the limits then count per user only).
 */
static void client_address(struct MHD_Connection *c, char *out, size_t size)
{
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = info ? info->client_addr : NULL;
	out[0] = '\0';
	if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	socklen_t len = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (getnameinfo(sa, len, out, (socklen_t)size, NULL, 0, NI_NUMERICHOST) != 0)
		out[0] = '\0';
}

/* The actor: a bearer token verified (revocation included) into r->ctx. 0, or the status to refuse with. */
static int authenticate(srv_req *r, srv_resp *out, booking_token **tok)
{
	const char *auth = srv_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	booking_ctx_init(&r->ctx, NULL, BOOKING_ROLE_NONE);
	if (!auth) {
		if (srv_routes[r->route].auth == SRV_AUTH_USER) {
			srv_error(out, 401, "UNAUTHORIZED", "a bearer token is required (Authorization: Bearer ...)", NULL);
			return 401;
		}
		return 0;
	}
	r->token = srv_bearer_token(auth);
	if (!r->token) {
		srv_error(out, 401, "UNAUTHORIZED", "the Authorization header is not a bearer token", NULL);
		return 401;
	}
	if (booking_auth_ctx(&r->ctx, tok, r->s->bk, r->token) != 0) {
		srv_fail(out);
		return out->status;
	}
	return 0;
}

static enum MHD_Result dispatch(srv *s, struct MHD_Connection *c, conn_state *st, const char *url, const char *method)
{
	char cid[SRV_CID_MAX + 1];
	const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Correlation-ID");
	if (srv_correlation_id_valid(given))
		snprintf(cid, sizeof cid, "%s", given);
	else
		new_uuid(cid);
	const char *tp = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "traceparent");

	srv_req r;
	memset(&r, 0, sizeof r);
	r.s = s;
	r.conn = c;
	r.method = method;
	switch (srv_route_match(method, url, &r.route, r.id)) {
	case SRV_MATCH_NOT_FOUND:
		if ((strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) && strncmp(url, "/api/", 5) != 0)
			return serve_static(s, c, st, url, method, cid);
		return send_error(s, c, st, ROUTE_UNMATCHED, method, cid, 404, "NOT_FOUND", "no such route", NULL);
	case SRV_MATCH_METHOD: {
		char allow[64];
		srv_resp out;
		memset(&out, 0, sizeof out);
		srv_route_allow(url, allow, sizeof allow);
		srv_error(&out, 405, "METHOD_NOT_ALLOWED", "the route does not take this method", NULL);
		snprintf(out.allow, sizeof out.allow, "%s", allow);
		srv_metrics_record(s, ROUTE_UNMATCHED, method, 405, seconds_since(&st->t0));
		return send_resp(c, &out, cid);
	}
	case SRV_MATCH_OK:
		break;
	}
	if (st->too_large)
		return send_error(s, c, st, (int)r.route, method, cid, 413, "PAYLOAD_TOO_LARGE", "the body is too large",
		                  NULL);
	if (r.route == R_EVENTS) {
		srv_resp out;
		memset(&out, 0, sizeof out);
		struct MHD_Response *resp = srv_sse_response(s, r.id, cid, &out);
		srv_metrics_record(s, (int)r.route, method, resp ? 200 : out.status, seconds_since(&st->t0));
		if (!resp)
			return send_resp(c, &out, cid);
		return send_response(c, resp, 200, cid, "text/event-stream; charset=utf-8");
	}

	srv_resp out;
	memset(&out, 0, sizeof out);
	booking_token *tok = NULL;
	atomic_fetch_add(&s->inflight, 1);
	work_enter(s);
	if (authenticate(&r, &out, &tok) == 0) {
		srv_problem p;
		r.ctx.correlation_id = cid;
		r.ctx.traceparent = srv_traceparent_valid(tp) ? tp : NULL;
		client_address(c, r.client_key, sizeof r.client_key);
		r.ctx.client_key = r.client_key[0] ? r.client_key : NULL;
		if (srv_routes[r.route].fields && !srv_body_parse(&r.body, st->body ? st->body : "", st->len,
		                                                  srv_routes[r.route].fields, &p)) {
			srv_error(&out, p.status, p.code, p.message, p.field[0] ? json_pack("{s:s}", "field", p.field) : NULL);
		} else {
			r.started_ms = booking_now(s->bk);
			srv_handle(&r, &out);
		}
	}
	work_leave(s);
	json_decref(r.body);
	booking_token_free(tok);
	srv_metrics_record(s, (int)r.route, method, out.status, seconds_since(&st->t0));
	enum MHD_Result rc = send_resp(c, &out, cid);
	atomic_fetch_sub(&s->inflight, 1);
	return rc;
}

/* Keep up to max_body bytes of the body; past it only remember that it was too large. */
static void take_body(srv *s, conn_state *st, const char *data, size_t size)
{
	if (st->too_large)
		return;
	if (st->len + size > (size_t)s->cfg.max_body) {
		st->too_large = true;
		free(st->body);
		st->body = NULL;
		st->len = st->cap = 0;
		return;
	}
	if (st->len + size + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 1024;
		while (cap < st->len + size + 1)
			cap *= 2;
		char *b = realloc(st->body, cap);
		if (!b) {
			st->too_large = true; /* answered as 413: nothing more of it is kept */
			return;
		}
		st->body = b;
		st->cap = cap;
	}
	memcpy(st->body + st->len, data, size);
	st->len += size;
	st->body[st->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	srv *s = cls;
	conn_state *st = *con_cls;
	(void)version;
	if (!st) {
		st = calloc(1, sizeof *st);
		if (!st)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &st->t0);
		*con_cls = st;
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		long n = 0;
		if (cl && (!srv_parse_long(cl, 0, LONG_MAX / 2, &n) || n > s->cfg.max_body)) {
			/* refused before reading it: the connection closes after the answer */
			char cid[SRV_CID_MAX + 1];
			const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Correlation-ID");
			if (srv_correlation_id_valid(given))
				snprintf(cid, sizeof cid, "%s", given);
			else
				new_uuid(cid);
			st->too_large = true;
			return send_error(s, c, st, ROUTE_UNMATCHED, method, cid, 413, "PAYLOAD_TOO_LARGE",
			                  "the body is larger than the server accepts", NULL);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		take_body(s, st, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	return dispatch(s, c, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	conn_state *st = *con_cls;
	if (st) {
		free(st->body);
		free(st);
	}
	*con_cls = NULL;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	const srv *s = cls;
	if (s->cfg.verbose) {
		fprintf(stderr, SRV_NAME ": ");
		vfprintf(stderr, fmt, ap);
	}
}

int srv_http_start(srv *s, void **daemon_out, unsigned int *port_out)
{
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr *addr;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
	                     MHD_USE_POLL | MHD_USE_ERROR_LOG;
	memset(&v4, 0, sizeof v4);
	memset(&v6, 0, sizeof v6);
	if (inet_pton(AF_INET, s->cfg.host, &v4.sin_addr) == 1) {
		v4.sin_family = AF_INET;
		v4.sin_port = htons((uint16_t)s->cfg.port);
		addr = (struct sockaddr *)&v4;
	} else if (inet_pton(AF_INET6, s->cfg.host, &v6.sin6_addr) == 1) {
		v6.sin6_family = AF_INET6;
		v6.sin6_port = htons((uint16_t)s->cfg.port);
		addr = (struct sockaddr *)&v6;
		flags |= MHD_USE_IPv6;
	} else {
		fprintf(stderr, SRV_NAME ": --listen: %s is not an IP address\n", s->cfg.host);
		return -1;
	}
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, (uint16_t)s->cfg.port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, s,
		MHD_OPTION_SOCK_ADDR, addr,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->cfg.timeout, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)s->cfg.max_connections, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, SRV_NAME ": cannot listen on %s\n", s->cfg.listen);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	*port_out = info ? info->port : s->cfg.port;
	*daemon_out = d;
	return 0;
}

void srv_http_quiesce(void *daemon)
{
	MHD_socket fd = MHD_quiesce_daemon(daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

void srv_http_stop(void *daemon)
{
	MHD_stop_daemon(daemon);
}
