/*
 * libbooking — the Redis client shared by the redis:// lock manager and
 * publisher: URL parsing, a small connection pool, error mapping and
 * EVALSHA with NOSCRIPT reload. See redis_client.h.
 *
 * The pool (sys/pool.h) holds at most `pool` connections. A caller takes
 * an idle one, or opens a new one while under the limit, or waits up to
 * the command timeout. A connection on which hiredis reports an error is
 * unusable: it is closed with every idle one (a server restart breaks them
 * all), and the next call connects afresh. When a connect attempt times
 * out (a host that drops packets), further attempts are refused for one
 * connect timeout, so a dead Redis costs callers at most one connect
 * timeout per interval instead of one per call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis_client.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define RD_DEFAULT_STREAM "booking:events"
#define RD_DEFAULT_MAXLEN 100000
#define RD_DEFAULT_MAX_DELIVERIES 10
#define RD_DEFAULT_POOL 8
#define RD_DEFAULT_CONNECT_TIMEOUT_MS 1000
#define RD_DEFAULT_TIMEOUT_MS 2000

struct rd_client {
	rd_config cfg;
	const char *who; /* static */
	booking_pool *pool; /* of rd_conn (sys/pool.h) */
	pthread_mutex_t mu; /* guards the scripts' sha and down_until */
	int64_t down_until; /* monotonic ms: no connect attempt before this */
};

/* A pooled connection; `used` false until its first command (a broken fresh one is not retried). */
typedef struct rd_conn {
	redisContext *ctx;
	bool used;
} rd_conn;

/* ---------- small helpers ---------- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timeval ms_tv(int ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	return tv;
}

/* ---------- URL ---------- */

static int bad_url(const char *who, const char *field, const char *what)
{
	char details[64];
	snprintf(details, sizeof details, "{\"field\":\"%s\"}", field);
	return booking_error_set(BOOKING_EVALIDATION, details,
	                         "%s: %s: %s (redis://[[user]:password@]host[:port][/db][?key=value&...])", field, who,
	                         what);
}

/* A whole string of digits in [lo, hi]. */
static bool parse_num(const char *s, int lo, int hi, int *out)
{
	size_t n = strspn(s, "0123456789");
	long long v = n && n < 24 && !s[n] ? strtoll(s, NULL, 10) : -1;
	if (v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* The URL's parameters (see redis_client.h), read with sys/url.h. */
static int parse_query(rd_config *cfg, const char *url, const char *who, const char *field)
{
	booking_url_query q;
	int rc;
	booking_url_query_init(&q, url, field);
	while ((rc = booking_url_query_next(&q)) > 0) {
		if (booking_url_query_is(&q, "stream")) {
			rc = booking_url_query_text(cfg->stream, sizeof cfg->stream, &q);
			if (rc == 0)
				rc = bad_url(who, field, "stream must be 1..200 characters");
		} else if (booking_url_query_is(&q, "maxlen")) {
			rc = booking_url_query_int64(&cfg->maxlen, &q, 1, INT64_C(1000000000000));
		} else if (booking_url_query_is(&q, "max_deliveries")) {
			rc = booking_url_query_int(&cfg->max_deliveries, &q, 1, 1000);
		} else if (booking_url_query_is(&q, "pool")) {
			rc = booking_url_query_int(&cfg->pool, &q, 1, 64);
		} else if (booking_url_query_is(&q, "connect_timeout_ms")) {
			rc = booking_url_query_int(&cfg->connect_timeout_ms, &q, 10, 60000);
		} else if (booking_url_query_is(&q, "timeout_ms")) {
			rc = booking_url_query_int(&cfg->timeout_ms, &q, 10, 60000);
		} else {
			rc = booking_url_query_unknown(&q, "stream, maxlen, max_deliveries, pool, connect_timeout_ms, "
			                                   "timeout_ms");
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

/*
 * Split a copy of the URL in place: user info, host, port and database
 * point into cfg->text (nothing percent-decoded); the query is read from
 * the URL itself.
 */
static int parse_url(rd_config *cfg, const char *url, const char *who, const char *field)
{
	static const char scheme[] = "redis://";
	*cfg = (rd_config){.host = "127.0.0.1", .port = 6379, .stream = RD_DEFAULT_STREAM,
	                   .maxlen = RD_DEFAULT_MAXLEN, .max_deliveries = RD_DEFAULT_MAX_DELIVERIES,
	                   .pool = RD_DEFAULT_POOL, .connect_timeout_ms = RD_DEFAULT_CONNECT_TIMEOUT_MS,
	                   .timeout_ms = RD_DEFAULT_TIMEOUT_MS};
	if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0)
		return bad_url(who, field, "the URL must start with redis://");
	char *s = cfg->text = booking_strdup(url + sizeof scheme - 1);
	if (!s)
		return booking_error_oom();
	s[strcspn(s, "?")] = '\0';
	char *db = s + strcspn(s, "/"), *at = NULL, *port = NULL;
	if (*db)
		*db++ = '\0';
	if ((at = strrchr(s, '@'))) {
		char *colon = strchr(s, ':');
		if (!colon || colon > at)
			return bad_url(who, field, "user info needs a password (user:password@ or :password@)");
		*colon = *at = '\0';
		cfg->user = colon > s ? s : NULL;
		cfg->password = colon + 1;
		s = at + 1;
	}
	if (*s == '[') { /* [IPv6]:port */
		char *close = strchr(s, ']');
		if (!close)
			return bad_url(who, field, "unterminated [IPv6] host");
		if (close[1] && close[1] != ':')
			return bad_url(who, field, "junk after the [IPv6] host");
		port = close[1] ? close + 2 : NULL;
		*close = '\0';
		s++;
	} else if ((port = strchr(s, ':'))) {
		*port++ = '\0';
	}
	if (*s)
		cfg->host = s;
	if (port && !parse_num(port, 1, 65535, &cfg->port))
		return bad_url(who, field, "port must be 1..65535");
	if (*db && !parse_num(db, 0, 65535, &cfg->db))
		return bad_url(who, field, "the database must be a number 0..65535");
	return parse_query(cfg, url, who, field);
}

/* ---------- errors ---------- */

/* "<who>: redis <host>:<port>" then `fmt`, with `code`. */
static int fail(const rd_client *c, int code, const char *fmt, ...)
{
	char tail[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tail, sizeof tail, fmt, ap);
	va_end(ap);
	return booking_error_set(code, NULL, "%s: redis %s:%d%s", c->who, c->cfg.host, c->cfg.port, tail);
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && memcmp(s, prefix, pl) == 0 && (n == pl || s[pl] == ' ');
}

/* An error reply → a booking code. Conditions that pass (or that a retry elsewhere may fix) are "unavailable". */
static int reply_error(const rd_client *c, const redisReply *r)
{
	static const char *const unavailable[] = {"LOADING", "BUSY",  "MASTERDOWN", "READONLY", "TRYAGAIN",  "CLUSTERDOWN",
	                                          "NOAUTH",  "WRONGPASS", "NOPERM", "OOM",      "MISCONF",  "NOREPLICAS",
	                                          "MOVED",   "ASK"};
	const char *s = r->str ? r->str : "";
	size_t n = r->str ? r->len : 0;
	int code = BOOKING_EEXTERNAL;
	for (size_t i = 0; i < sizeof unavailable / sizeof unavailable[0]; i++)
		if (starts_with(s, n, unavailable[i]))
			code = BOOKING_EUNAVAILABLE;
	return fail(c, code, ": %.*s", (int)(n < 300 ? n : 300), s);
}

/*
 * A reply or connection that must be there is not. Cannot happen (each
 * producer sets its out-parameter whenever it returns 0); the guard makes
 * that visible to readers and to the analyser.
 */
static int missing(const rd_client *c, const char *what)
{
	booking_error_set(BOOKING_EINTERNAL, NULL, "%s: redis: no %s", c->who, what);
	return BOOKING_EINTERNAL;
}

/*
 * A reply of run(): an error reply becomes its code, one not of `type` (0: any; a status counts as a string)
 * is unexpected; either is freed, as is every reply when `out` is NULL. Any other is handed out.
 */
static int take_reply(rd_client *c, redisReply *r, int type, const char *what, redisReply **out)
{
	int rc = !r ? missing(c, "reply") : r->type == REDIS_REPLY_ERROR ? reply_error(c, r) : 0;
	if (rc == 0 && type && r->type != type && !(type == REDIS_REPLY_STRING && r->type == REDIS_REPLY_STATUS))
		rc = booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: %s gave an unexpected reply", c->who, what);
	if (rc == 0 && out)
		*out = r;
	else if (r)
		freeReplyObject(r);
	return rc;
}

/* ---------- connections ---------- */

/* A command during connection setup; `what` names it in errors. */
static int setup_command(rd_client *c, redisContext *ctx, int argc, const char **argv, const char *what)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
	if (!r)
		return fail(c, BOOKING_EUNAVAILABLE, ": %s: %s", what, ctx->errstr);
	int rc = r->type == REDIS_REPLY_ERROR ? reply_error(c, r) : 0;
	freeReplyObject(r);
	return rc;
}

static int connect_one(rd_client *c, redisContext **out)
{
	*out = NULL;
	redisContext *ctx = redisConnectWithTimeout(c->cfg.host, c->cfg.port, ms_tv(c->cfg.connect_timeout_ms));
	if (!ctx)
		return booking_error_oom();
	int rc = 0;
	if (ctx->err)
		rc = booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: cannot connect to redis %s:%d: %s", c->who,
		                       c->cfg.host, c->cfg.port, ctx->errstr);
	else if (redisSetTimeout(ctx, ms_tv(c->cfg.timeout_ms)) != REDIS_OK)
		rc = fail(c, BOOKING_EUNAVAILABLE, ": cannot set the timeout: %s", ctx->errstr);
	if (rc == 0)
		(void)redisEnableKeepAlive(ctx); /* best effort: finds peers that vanished */
	if (rc == 0 && c->cfg.password) {
		const char *auth[3] = {"AUTH", c->cfg.user ? c->cfg.user : c->cfg.password, c->cfg.password};
		rc = setup_command(c, ctx, c->cfg.user ? 3 : 2, auth, "AUTH");
	}
	if (rc == 0 && c->cfg.db) {
		char db[16];
		snprintf(db, sizeof db, "%d", c->cfg.db);
		const char *sel[2] = {"SELECT", db};
		rc = setup_command(c, ctx, 2, sel, "SELECT");
	}
	if (rc < 0) {
		redisFree(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/*
 * sys/pool.h's open: a new connection, refused while a connect timed out
 * less than one connect timeout ago.
 */
static int pool_open(void **conn_out, void *payload)
{
	rd_client *c = payload;
	int64_t now = mono_ms();
	pthread_mutex_lock(&c->mu);
	int64_t left = c->down_until - now;
	pthread_mutex_unlock(&c->mu);
	if (left > 0)
		return fail(c, BOOKING_EUNAVAILABLE, " did not answer a connect within %d ms; next attempt in %lld ms",
		            c->cfg.connect_timeout_ms, (long long)left);
	rd_conn *conn = booking_calloc(1, sizeof *conn);
	if (!conn)
		return booking_error_oom();
	int rc = connect_one(c, &conn->ctx);
	if (rc < 0) {
		booking_free(conn);
		if ((mono_ms() - now) * 2 >= c->cfg.connect_timeout_ms) { /* timed out, not refused: back off */
			pthread_mutex_lock(&c->mu);
			c->down_until = mono_ms() + c->cfg.connect_timeout_ms;
			pthread_mutex_unlock(&c->mu);
		}
		return rc;
	}
	*conn_out = conn;
	return 0;
}

static void pool_close(void *conn, void *payload)
{
	rd_conn *rc = conn;
	(void)payload;
	redisFree(rc->ctx);
	booking_free(rc);
}

/*
 * Send one command; *out is the reply, error replies included. A reused
 * connection that broke is retried once on a fresh one. A broken
 * connection goes back closed, together with every idle one.
 */
static int run(rd_client *c, redisReply **out, int argc, const char **argv)
{
	*out = NULL;
	for (int attempt = 0;; attempt++) {
		void *pooled = NULL;
		int rc = booking_pool_acquire(&pooled, c->pool);
		if (rc < 0)
			return rc;
		rd_conn *conn = pooled;
		if (!conn || !conn->ctx)
			return missing(c, "connection");
		bool fresh = !conn->used;
		conn->used = true;
		errno = 0;
		*out = redisCommandArgv(conn->ctx, argc, argv, NULL);
		int err = conn->ctx->err, sys_errno = errno;
		char msg[128];
		snprintf(msg, sizeof msg, "%s", conn->ctx->errstr);
		booking_pool_release(c->pool, conn, !*out);
		if (*out)
			return 0;
		booking_pool_close_idle(c->pool);
		if (err == REDIS_ERR_OOM)
			return booking_error_oom();
		bool timeout = err == REDIS_ERR_IO && (sys_errno == EAGAIN || sys_errno == EWOULDBLOCK ||
		                                       sys_errno == ETIMEDOUT || sys_errno == EINPROGRESS);
		if (timeout)
			return fail(c, BOOKING_EUNAVAILABLE, ": %s timed out after %d ms", argv[0], c->cfg.timeout_ms);
		if (fresh || attempt > 0)
			return fail(c, BOOKING_EUNAVAILABLE, ": %s: %s", argv[0], msg[0] ? msg : "connection lost");
	}
}

int rd_command(rd_client *c, redisReply **out, int type, int argc, const char **argv)
{
	redisReply *r = NULL;
	if (out)
		*out = NULL;
	int rc = run(c, &r, argc, argv);
	return rc < 0 ? rc : take_reply(c, r, type, argv[0], out);
}

/* ---------- scripts ---------- */

static int script_load(rd_client *c, rd_script *s, char sha[41])
{
	const char *argv[3] = {"SCRIPT", "LOAD", s->source};
	redisReply *r = NULL;
	int rc = rd_command(c, &r, REDIS_REPLY_STRING, 3, argv);
	if (rc < 0)
		return rc;
	if (!r)
		return missing(c, "reply");
	if (r->len != 40) {
		freeReplyObject(r);
		return booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: SCRIPT LOAD of %s gave an unexpected reply", c->who,
		                         s->name);
	}
	memcpy(sha, r->str, 40);
	sha[40] = '\0';
	freeReplyObject(r);
	pthread_mutex_lock(&c->mu);
	memcpy(s->sha, sha, 41);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int rd_eval(rd_client *c, rd_script *s, redisReply **out, size_t nkeys, const char *const *keys, size_t nargs,
            const char *const *args)
{
	*out = NULL;
	if (nkeys > (size_t)INT_MAX - 3 || nargs > (size_t)INT_MAX - 3 - nkeys)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: too many script arguments", c->who);
	size_t argc = 3 + nkeys + nargs;
	const char **argv = booking_calloc(argc, sizeof *argv);
	if (!argv)
		return booking_error_oom();
	char sha[41], numkeys[24];
	pthread_mutex_lock(&c->mu);
	memcpy(sha, s->sha, sizeof sha);
	pthread_mutex_unlock(&c->mu);
	snprintf(numkeys, sizeof numkeys, "%zu", nkeys);
	argv[0] = "EVALSHA";
	argv[1] = sha;
	argv[2] = numkeys;
	memcpy(argv + 3, keys, nkeys * sizeof *argv);
	memcpy(argv + 3 + nkeys, args, nargs * sizeof *argv);
	int rc = 0;
	for (int loads = 0; rc == 0;) {
		if (!sha[0]) {
			if ((rc = script_load(c, s, sha)) < 0)
				break;
			loads++;
		}
		redisReply *r = NULL;
		if ((rc = run(c, &r, (int)argc, argv)) < 0)
			break;
		if (r && r->type == REDIS_REPLY_ERROR && r->str && starts_with(r->str, r->len, "NOSCRIPT") && loads < 2) {
			freeReplyObject(r); /* flushed, restarted, failed over: load again */
			sha[0] = '\0';
			continue;
		}
		rc = take_reply(c, r, 0, "EVALSHA", out);
		break;
	}
	booking_free(argv);
	return rc;
}

/* ---------- the client ---------- */

const rd_config *rd_client_config(const rd_client *c)
{
	return &c->cfg;
}

void rd_client_free(rd_client *c)
{
	if (!c)
		return;
	booking_pool_free(c->pool);
	pthread_mutex_destroy(&c->mu);
	booking_free(c->cfg.text);
	booking_free(c);
}

int rd_client_new(rd_client **out, const char *url, const char *who, const char *field)
{
	*out = NULL;
	rd_client *c = booking_calloc(1, sizeof *c);
	if (!c)
		return booking_error_oom();
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		booking_free(c);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "%s: cannot create a mutex", who);
	}
	c->who = who;
	int rc = parse_url(&c->cfg, url, who, field);
	if (rc == 0) {
		booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
		cfg.name = who;
		cfg.size = (size_t)c->cfg.pool;
		cfg.wait_ms = c->cfg.timeout_ms;
		cfg.open = pool_open;
		cfg.close = pool_close;
		cfg.payload = c;
		rc = booking_pool_new(&c->pool, &cfg);
	}
	if (rc < 0) {
		rd_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
