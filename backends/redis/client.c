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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define RD_DEFAULT_STREAM "booking:events"
#define RD_STREAM_MAX 200
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

char *rd_strndup(const char *s, size_t n)
{
	if (n == SIZE_MAX)
		return NULL;
	char *d = booking_malloc(n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int bad_url(const char *who, const char *field, const char *what)
{
	char details[64];
	snprintf(details, sizeof details, "{\"field\":\"%s\"}", field);
	return booking_error_set(BOOKING_EVALIDATION, details,
	                         "%s: %s: %s (redis://[[user]:password@]host[:port][/db][?key=value&...])", field, who,
	                         what);
}

/* Whole-string decimal in [lo, hi]. */
static bool parse_num(const char *s, size_t n, long long lo, long long hi, long long *out)
{
	char buf[24];
	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return false;
	errno = 0;
	char *end;
	long long v = strtoll(buf, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* ---------- URL ---------- */

static void config_clear(rd_config *cfg)
{
	booking_free(cfg->host);
	booking_free(cfg->user);
	booking_free(cfg->password);
	booking_free(cfg->stream);
	memset(cfg, 0, sizeof *cfg);
}

static int parse_userinfo(rd_config *cfg, const char *s, size_t n, const char *who, const char *field)
{
	const char *colon = memchr(s, ':', n);
	if (!colon)
		return bad_url(who, field, "user info needs a password (user:password@ or :password@)");
	size_t ul = (size_t)(colon - s);
	if (ul && !(cfg->user = rd_strndup(s, ul)))
		return booking_error_oom();
	if (!(cfg->password = rd_strndup(colon + 1, n - ul - 1)))
		return booking_error_oom();
	return 0;
}

static int parse_hostport(rd_config *cfg, const char *s, size_t n, const char *who, const char *field)
{
	const char *host = s, *port = NULL;
	size_t hl;
	if (n && s[0] == '[') { /* [IPv6]:port */
		const char *close = memchr(s, ']', n);
		if (!close)
			return bad_url(who, field, "unterminated [IPv6] host");
		host = s + 1;
		hl = (size_t)(close - host);
		const char *after = close + 1;
		if (after < s + n) {
			if (*after != ':')
				return bad_url(who, field, "junk after the [IPv6] host");
			port = after + 1;
		}
	} else {
		const char *colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		if (colon)
			port = colon + 1;
	}
	cfg->host = hl ? rd_strndup(host, hl) : booking_strdup("127.0.0.1");
	if (!cfg->host)
		return booking_error_oom();
	if (port) {
		long long v;
		if (!parse_num(port, (size_t)(s + n - port), 1, 65535, &v))
			return bad_url(who, field, "port must be 1..65535");
		cfg->port = (int)v;
	}
	return 0;
}

static int parse_stream(rd_config *cfg, const booking_url_query *q, const char *who, const char *field)
{
	char name[RD_STREAM_MAX + 1];
	int n = booking_url_query_text(q, name, sizeof name);
	if (n < 0)
		return n;
	if (n == 0)
		return bad_url(who, field, "stream must be 1..200 characters");
	booking_free(cfg->stream);
	if (!(cfg->stream = booking_strdup(name)))
		return booking_error_oom();
	return 0;
}

/* The URL's parameters (see redis_client.h), read with sys/url.h. */
static int parse_query(rd_config *cfg, const char *url, const char *who, const char *field)
{
	booking_url_query q;
	int rc;
	booking_url_query_init(&q, url, field);
	while ((rc = booking_url_query_next(&q)) > 0) {
		int pool = 0;
		int64_t maxlen = 0;
		if (booking_url_query_is(&q, "stream")) {
			rc = parse_stream(cfg, &q, who, field);
		} else if (booking_url_query_is(&q, "maxlen")) {
			if ((rc = booking_url_query_int64(&q, 1, INT64_C(1000000000000), &maxlen)) == 0)
				cfg->maxlen = (long long)maxlen;
		} else if (booking_url_query_is(&q, "max_deliveries")) {
			rc = booking_url_query_int(&q, 1, 1000, &cfg->max_deliveries);
		} else if (booking_url_query_is(&q, "pool")) {
			if ((rc = booking_url_query_int(&q, 1, 64, &pool)) == 0)
				cfg->pool_size = (size_t)pool;
		} else if (booking_url_query_is(&q, "connect_timeout_ms")) {
			rc = booking_url_query_int(&q, 10, 60000, &cfg->connect_timeout_ms);
		} else if (booking_url_query_is(&q, "timeout_ms")) {
			rc = booking_url_query_int(&q, 10, 60000, &cfg->timeout_ms);
		} else {
			rc = booking_url_query_unknown(&q, "stream, maxlen, max_deliveries, pool, connect_timeout_ms, "
			                                   "timeout_ms");
		}
		if (rc < 0)
			return rc;
	}
	return rc;
}

static int parse_url(rd_config *cfg, const char *url, const char *who, const char *field)
{
	static const char scheme[] = "redis://";
	memset(cfg, 0, sizeof *cfg);
	cfg->port = 6379;
	cfg->maxlen = RD_DEFAULT_MAXLEN;
	cfg->max_deliveries = RD_DEFAULT_MAX_DELIVERIES;
	cfg->pool_size = RD_DEFAULT_POOL;
	cfg->connect_timeout_ms = RD_DEFAULT_CONNECT_TIMEOUT_MS;
	cfg->timeout_ms = RD_DEFAULT_TIMEOUT_MS;
	if (!url || strncmp(url, scheme, sizeof scheme - 1) != 0)
		return bad_url(who, field, "the URL must start with redis://");
	const char *auth = url + sizeof scheme - 1;
	size_t al = strcspn(auth, "/?");
	const char *at = NULL;
	for (const char *p = auth; p < auth + al; p++)
		if (*p == '@')
			at = p;
	int rc = 0;
	if (at)
		rc = parse_userinfo(cfg, auth, (size_t)(at - auth), who, field);
	const char *hp = at ? at + 1 : auth;
	if (rc == 0)
		rc = parse_hostport(cfg, hp, (size_t)(auth + al - hp), who, field);
	const char *rest = auth + al;
	if (rc == 0 && *rest == '/') {
		rest++;
		size_t dl = strcspn(rest, "?");
		long long db = 0;
		if (dl && !parse_num(rest, dl, 0, 65535, &db))
			rc = bad_url(who, field, "the database must be a number 0..65535");
		cfg->db = (int)db;
		rest += dl;
	}
	if (rc == 0 && *rest == '?')
		rc = parse_query(cfg, url, who, field);
	if (rc == 0 && !cfg->stream) {
		cfg->stream = booking_strdup(RD_DEFAULT_STREAM);
		if (!cfg->stream) {
			rc = booking_error_oom();
			config_clear(cfg);
			return rc;
		}
	}
	if (rc == 0 && (!cfg->stream[0] || strlen(cfg->stream) > RD_STREAM_MAX))
		rc = bad_url(who, field, "stream must be 1..200 characters");
	if (rc < 0)
		config_clear(cfg);
	return rc;
}

/* ---------- errors ---------- */

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
	for (size_t i = 0; i < sizeof unavailable / sizeof unavailable[0]; i++)
		if (starts_with(s, n, unavailable[i]))
			return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: redis %s:%d: %.*s", c->who, c->cfg.host,
			                         c->cfg.port, (int)(n < 300 ? n : 300), s);
	return booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: redis %s:%d: %.*s", c->who, c->cfg.host, c->cfg.port,
	                         (int)(n < 300 ? n : 300), s);
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

static bool is_error(const redisReply *r, const char *code)
{
	return r->type == REDIS_REPLY_ERROR && r->str && starts_with(r->str, r->len, code);
}

/* ---------- connections ---------- */

/* A command during connection setup; `what` names it in errors. */
static int setup_command(rd_client *c, redisContext *ctx, int argc, const char **argv, const char *what)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
	if (!r)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: redis %s:%d: %s: %s", c->who, c->cfg.host,
		                         c->cfg.port, what, ctx->errstr);
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
		rc = booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: redis %s:%d: cannot set the timeout: %s", c->who,
		                       c->cfg.host, c->cfg.port, ctx->errstr);
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

/* Refused while a connect timed out less than one connect timeout ago. */
static int connect_allowed(rd_client *c, int64_t now)
{
	pthread_mutex_lock(&c->mu);
	int64_t left = c->down_until - now;
	pthread_mutex_unlock(&c->mu);
	if (left <= 0)
		return 0;
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL,
	                         "%s: redis %s:%d did not answer a connect within %d ms; next attempt in %lld ms", c->who,
	                         c->cfg.host, c->cfg.port, c->cfg.connect_timeout_ms, (long long)left);
}

static int pool_open(void **conn_out, void *payload)
{
	rd_client *c = payload;
	int64_t now = mono_ms();
	int rc = connect_allowed(c, now);
	if (rc < 0)
		return rc;
	rd_conn *conn = booking_calloc(1, sizeof *conn);
	if (!conn)
		return booking_error_oom();
	rc = connect_one(c, &conn->ctx);
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

/* Give a connection back; a broken one is closed together with every idle one. */
static void pool_put(rd_client *c, rd_conn *conn, bool broken)
{
	booking_pool_release(c->pool, conn, broken);
	if (broken)
		booking_pool_close_idle(c->pool);
}

/*
 * Send one command; *out is the reply, error replies included. A reused
 * connection that broke is retried once on a fresh one.
 */
static int run(rd_client *c, redisReply **out, int argc, const char **argv, const size_t *lens)
{
	*out = NULL;
	for (int attempt = 0;; attempt++) {
		void *pooled = NULL;
		int rc = booking_pool_acquire(c->pool, &pooled);
		if (rc < 0)
			return rc;
		rd_conn *conn = pooled;
		if (!conn || !conn->ctx)
			return missing(c, "connection");
		redisContext *ctx = conn->ctx;
		bool fresh = !conn->used;
		conn->used = true;
		errno = 0;
		redisReply *r = redisCommandArgv(ctx, argc, argv, lens);
		if (r) {
			pool_put(c, conn, false);
			*out = r;
			return 0;
		}
		int err = ctx->err, sys_errno = errno;
		char msg[128];
		snprintf(msg, sizeof msg, "%s", ctx->errstr);
		pool_put(c, conn, true);
		if (err == REDIS_ERR_OOM)
			return booking_error_oom();
		bool timeout = err == REDIS_ERR_IO && (sys_errno == EAGAIN || sys_errno == EWOULDBLOCK ||
		                                       sys_errno == ETIMEDOUT || sys_errno == EINPROGRESS);
		if (timeout)
			return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: redis %s:%d: %s timed out after %d ms",
			                         c->who, c->cfg.host, c->cfg.port, argv[0], c->cfg.timeout_ms);
		if (fresh || attempt > 0)
			return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: redis %s:%d: %s: %s", c->who, c->cfg.host,
			                         c->cfg.port, argv[0], msg[0] ? msg : "connection lost");
	}
}

int rd_command(rd_client *c, redisReply **out, int argc, const char **argv, const size_t *lens)
{
	redisReply *r = NULL;
	*out = NULL;
	int rc = run(c, &r, argc, argv, lens);
	if (rc < 0)
		return rc;
	if (!r)
		return missing(c, "reply");
	if (r->type == REDIS_REPLY_ERROR) {
		rc = reply_error(c, r);
		freeReplyObject(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---------- scripts ---------- */

static int script_load(rd_client *c, rd_script *s, char sha[41])
{
	const char *argv[3] = {"SCRIPT", "LOAD", s->source};
	redisReply *r = NULL;
	int rc = rd_command(c, &r, 3, argv, NULL);
	if (rc < 0)
		return rc;
	if (!r)
		return missing(c, "reply");
	if (r->type != REDIS_REPLY_STRING || r->len != 40) {
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
	for (size_t i = 0; i < nkeys; i++)
		argv[3 + i] = keys[i];
	for (size_t i = 0; i < nargs; i++)
		argv[3 + nkeys + i] = args[i];
	int rc = 0;
	for (int loads = 0;;) {
		if (!sha[0]) {
			if ((rc = script_load(c, s, sha)) < 0)
				break;
			loads++;
		}
		redisReply *r = NULL;
		if ((rc = run(c, &r, (int)argc, argv, NULL)) < 0)
			break;
		if (!r) {
			rc = missing(c, "reply");
			break;
		}
		if (is_error(r, "NOSCRIPT") && loads < 2) { /* flushed, restarted, failed over: load again */
			freeReplyObject(r);
			sha[0] = '\0';
			continue;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			rc = reply_error(c, r);
			freeReplyObject(r);
		} else {
			*out = r;
		}
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
	config_clear(&c->cfg);
	booking_free(c);
}

static int pool_init(rd_client *c)
{
	booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
	cfg.name = c->who;
	cfg.size = c->cfg.pool_size;
	cfg.wait_ms = c->cfg.timeout_ms;
	cfg.open = pool_open;
	cfg.close = pool_close;
	cfg.payload = c;
	return booking_pool_new(&c->pool, &cfg);
}

int rd_client_new(rd_client **out, const char *url, const char *who, const char *field)
{
	*out = NULL;
	rd_client *c = booking_calloc(1, sizeof *c);
	if (!c)
		return booking_error_oom();
	c->who = who;
	int rc = parse_url(&c->cfg, url, who, field);
	if (rc < 0) {
		booking_free(c);
		return rc;
	}
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		config_clear(&c->cfg);
		booking_free(c);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "%s: cannot create a mutex", who);
	}
	rc = pool_init(c);
	if (rc < 0) {
		rd_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
