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
 * Redis Cluster (URL ?cluster=1). The URL's host is the seed: the client
 * reads the slot map from CLUSTER SLOTS (at the first command, and again
 * after every MOVED), keeps one such pool per node, and sends each
 * command to the node of its key's slot (CRC16 of the key or of its hash
 * tag {...}, mod 16384). A MOVED reply updates the map and the command
 * goes to the named node; an ASK reply sends it once to the named node
 * after ASKING. A node that cannot be reached makes the next command read
 * the map again (a failover gave its slots to another node). After
 * RD_MAX_REDIRECTS redirections the call fails with
 * BOOKING_EUNAVAILABLE. The routing is run()'s alone: rd_command routes by
 * argv[1], rd_eval by its keys, which must share one slot (refused
 * otherwise), and SCRIPT LOAD goes to the node that will run, or just
 * answered NOSCRIPT to, the EVALSHA. Without ?cluster=1 there is one node
 * and no reply is taken for a redirection (MOVED is "unavailable").
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

#define RD_SLOTS 16384
#define RD_MAX_NODES 64     /* nodes a client knows, over its life */
#define RD_MAX_REDIRECTS 5  /* MOVED/ASK followed per command */

typedef struct rd_node {
	rd_client *client;
	char host[256];
	int port;
	booking_pool *pool; /* of rd_conn (sys/pool.h) */
	int64_t down_until; /* monotonic ms: no connect attempt before this (under the client's mu) */
} rd_node;

struct rd_client {
	rd_config cfg;
	const char *who; /* static */
	pthread_mutex_t mu; /* guards the scripts' sha, the nodes' down_until, nnodes and slots */
	rd_node *nodes[RD_MAX_NODES]; /* [0]: the URL's host; more are added (never removed) as a cluster names them */
	size_t nnodes;
	int16_t *slots; /* cluster only: the index in nodes of each slot's master, -1 unknown */
	bool map_loaded; /* cluster only: CLUSTER SLOTS was read once */
	bool map_stale;  /* cluster only: a node could not be reached: read the map again before the next command */
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
		} else if (booking_url_query_is(&q, "cluster")) {
			rc = booking_url_query_int(&cfg->cluster, &q, 0, 1);
		} else {
			rc = booking_url_query_unknown(&q, "stream, maxlen, max_deliveries, pool, connect_timeout_ms, "
			                                   "timeout_ms, cluster");
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
	int rc = parse_query(cfg, url, who, field);
	if (rc == 0 && cfg->cluster && cfg->db)
		return bad_url(who, field, "a Redis Cluster has database 0 only (cluster=1 with /db)");
	return rc;
}

/* ---------- errors ---------- */

/* "<who>: redis <host>:<port>" (the node's) then `fmt`, with `code`. */
static int fail(const rd_node *n, int code, const char *fmt, ...)
{
	char tail[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tail, sizeof tail, fmt, ap);
	va_end(ap);
	return booking_error_set(code, NULL, "%s: redis %s:%d%s", n->client->who, n->host, n->port, tail);
}

static bool starts_with(const char *s, size_t n, const char *prefix)
{
	size_t pl = strlen(prefix);
	return n >= pl && memcmp(s, prefix, pl) == 0 && (n == pl || s[pl] == ' ');
}

/* An error reply → a booking code. Conditions that pass (or that a retry elsewhere may fix) are "unavailable". */
static int reply_error(const rd_node *node, const redisReply *r)
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
	return fail(node, code, ": %.*s", (int)(n < 300 ? n : 300), s);
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
 * A reply of run() from `node`: an error reply becomes its code, one not of `type` (0: any; a status counts as
 * a string) is unexpected; either is freed, as is every reply when `out` is NULL. Any other is handed out.
 */
static int take_reply(rd_client *c, const rd_node *node, redisReply *r, int type, const char *what,
                      redisReply **out)
{
	int rc = !r || !node ? missing(c, "reply") : r->type == REDIS_REPLY_ERROR ? reply_error(node, r) : 0;
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
static int setup_command(rd_node *n, redisContext *ctx, int argc, const char **argv, const char *what)
{
	redisReply *r = redisCommandArgv(ctx, argc, argv, NULL);
	if (!r)
		return fail(n, BOOKING_EUNAVAILABLE, ": %s: %s", what, ctx->errstr);
	int rc = r->type == REDIS_REPLY_ERROR ? reply_error(n, r) : 0;
	freeReplyObject(r);
	return rc;
}

static int connect_one(rd_node *n, redisContext **out)
{
	const rd_config *cfg = &n->client->cfg;
	*out = NULL;
	redisContext *ctx = redisConnectWithTimeout(n->host, n->port, ms_tv(cfg->connect_timeout_ms));
	if (!ctx)
		return booking_error_oom();
	int rc = 0;
	if (ctx->err)
		rc = booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: cannot connect to redis %s:%d: %s", n->client->who,
		                       n->host, n->port, ctx->errstr);
	else if (redisSetTimeout(ctx, ms_tv(cfg->timeout_ms)) != REDIS_OK)
		rc = fail(n, BOOKING_EUNAVAILABLE, ": cannot set the timeout: %s", ctx->errstr);
	if (rc == 0)
		(void)redisEnableKeepAlive(ctx); /* best effort: finds peers that vanished */
	if (rc == 0 && cfg->password) {
		const char *auth[3] = {"AUTH", cfg->user ? cfg->user : cfg->password, cfg->password};
		rc = setup_command(n, ctx, cfg->user ? 3 : 2, auth, "AUTH");
	}
	if (rc == 0 && cfg->db) {
		char db[16];
		snprintf(db, sizeof db, "%d", cfg->db);
		const char *sel[2] = {"SELECT", db};
		rc = setup_command(n, ctx, 2, sel, "SELECT");
	}
	if (rc < 0) {
		redisFree(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/*
 * sys/pool.h's open: a new connection to the node, refused while a
 * connect to it timed out less than one connect timeout ago.
 */
static int pool_open(void **conn_out, void *payload)
{
	rd_node *n = payload;
	rd_client *c = n->client;
	int64_t now = mono_ms();
	pthread_mutex_lock(&c->mu);
	int64_t left = n->down_until - now;
	pthread_mutex_unlock(&c->mu);
	if (left > 0)
		return fail(n, BOOKING_EUNAVAILABLE, " did not answer a connect within %d ms; next attempt in %lld ms",
		            c->cfg.connect_timeout_ms, (long long)left);
	rd_conn *conn = booking_calloc(1, sizeof *conn);
	if (!conn)
		return booking_error_oom();
	int rc = connect_one(n, &conn->ctx);
	if (rc < 0) {
		booking_free(conn);
		if ((mono_ms() - now) * 2 >= c->cfg.connect_timeout_ms) { /* timed out, not refused: back off */
			pthread_mutex_lock(&c->mu);
			n->down_until = mono_ms() + c->cfg.connect_timeout_ms;
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

/* ---------- nodes ---------- */

static void node_free(rd_node *n)
{
	if (!n)
		return;
	booking_pool_free(n->pool);
	booking_free(n);
}

/* The node host:port and its index, added when new. Caller holds c->mu (or is rd_client_new). */
static int node_get_locked(rd_client *c, const char *host, size_t hostlen, int port, rd_node **out)
{
	*out = NULL;
	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i]->port == port && strlen(c->nodes[i]->host) == hostlen &&
		    memcmp(c->nodes[i]->host, host, hostlen) == 0) {
			*out = c->nodes[i];
			return (int)i;
		}
	if (c->nnodes == RD_MAX_NODES)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "%s: redis cluster: more than %d nodes", c->who,
		                         RD_MAX_NODES);
	if (hostlen == 0 || hostlen >= sizeof c->nodes[0]->host)
		return booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: redis cluster: a node's host is empty or too long",
		                         c->who);
	rd_node *n = booking_calloc(1, sizeof *n);
	if (!n)
		return booking_error_oom();
	n->client = c;
	memcpy(n->host, host, hostlen);
	n->port = port;
	booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
	cfg.name = c->who;
	cfg.size = (size_t)c->cfg.pool;
	cfg.wait_ms = c->cfg.timeout_ms;
	cfg.open = pool_open;
	cfg.close = pool_close;
	cfg.payload = n;
	int rc = booking_pool_new(&n->pool, &cfg);
	if (rc < 0) {
		booking_free(n);
		return rc;
	}
	c->nodes[c->nnodes] = *out = n;
	return (int)c->nnodes++;
}

/*
 * Send one command to node `n`, after ASKING when `asking`; *out is the
 * reply, error replies included. A reused connection that broke is retried
 * once on a fresh one. A broken connection goes back closed, together
 * with every idle one of the node.
 */
static int run_on(rd_node *n, redisReply **out, int argc, const char **argv, bool asking)
{
	rd_client *c = n->client;
	*out = NULL;
	for (int attempt = 0;; attempt++) {
		void *pooled = NULL;
		int rc = booking_pool_acquire(&pooled, n->pool);
		if (rc < 0)
			return rc;
		rd_conn *conn = pooled;
		if (!conn || !conn->ctx)
			return missing(c, "connection");
		bool fresh = !conn->used;
		conn->used = true;
		errno = 0;
		redisReply *ask = NULL;
		if (asking) { /* its reply (+OK) only matters when there is none: a broken connection */
			const char *asking_argv[1] = {"ASKING"};
			ask = redisCommandArgv(conn->ctx, 1, asking_argv, NULL);
		}
		*out = !asking || ask ? redisCommandArgv(conn->ctx, argc, argv, NULL) : NULL;
		if (ask)
			freeReplyObject(ask);
		int err = conn->ctx->err, sys_errno = errno;
		char msg[128];
		snprintf(msg, sizeof msg, "%s", conn->ctx->errstr);
		booking_pool_release(n->pool, conn, !*out);
		if (*out)
			return 0;
		booking_pool_close_idle(n->pool);
		if (err == REDIS_ERR_OOM)
			return booking_error_oom();
		bool timeout = err == REDIS_ERR_IO && (sys_errno == EAGAIN || sys_errno == EWOULDBLOCK ||
		                                       sys_errno == ETIMEDOUT || sys_errno == EINPROGRESS);
		if (timeout)
			return fail(n, BOOKING_EUNAVAILABLE, ": %s timed out after %d ms", argv[0], c->cfg.timeout_ms);
		if (fresh || attempt > 0)
			return fail(n, BOOKING_EUNAVAILABLE, ": %s: %s", argv[0], msg[0] ? msg : "connection lost");
	}
}

/* ---------- the slot map (cluster) ---------- */

/* CRC16-CCITT (XMODEM), as Redis Cluster hashes keys. */
static uint16_t crc16(const char *s, size_t n)
{
	uint16_t crc = 0;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)((unsigned char)s[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

/* The slot of a key: of its hash tag (the bytes between the first '{' and the next '}', when not empty), else of all of it. */
static int key_slot(const char *key)
{
	size_t n = strlen(key);
	const char *open = strchr(key, '{');
	const char *close = open ? strchr(open + 1, '}') : NULL;
	if (close && close > open + 1)
		return crc16(open + 1, (size_t)(close - open - 1)) % RD_SLOTS;
	return crc16(key, n) % RD_SLOTS;
}

/* One entry of CLUSTER SLOTS: [start, end, [host, port, ...], replicas...]; false when it is not one. */
static bool slot_entry(const redisReply *e, long long *start, long long *end, const redisReply **host, long long *port)
{
	if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
	    e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
	    e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
	    e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
		return false;
	*start = e->element[0]->integer;
	*end = e->element[1]->integer;
	*host = e->element[2]->element[0];
	*port = e->element[2]->element[1]->integer;
	return *start >= 0 && *start <= *end && *end < RD_SLOTS && *port > 0 && *port <= 65535;
}

/*
 * Read the slot map with CLUSTER SLOTS from `first`, or, when it cannot
 * answer, from another known node. A master named with an empty host (a
 * node that does not know its address) is taken to be on the host asked.
 */
static int refresh_map(rd_client *c, rd_node *first)
{
	const char *argv[2] = {"CLUSTER", "SLOTS"};
	int rc = 0;
	pthread_mutex_lock(&c->mu);
	size_t known = c->nnodes;
	pthread_mutex_unlock(&c->mu);
	for (size_t i = 0; i <= known; i++) {
		rd_node *from = first;
		if (i > 0) {
			pthread_mutex_lock(&c->mu);
			from = c->nodes[i - 1];
			pthread_mutex_unlock(&c->mu);
			if (from == first)
				continue;
		}
		redisReply *r = NULL;
		if ((rc = run_on(from, &r, 2, argv, false)) < 0)
			continue; /* unreachable: ask another node */
		if ((rc = take_reply(c, from, r, REDIS_REPLY_ARRAY, "CLUSTER SLOTS", &r)) < 0)
			return rc; /* not a cluster, or refusing: no other node will say better */
		pthread_mutex_lock(&c->mu);
		for (size_t j = 0; j < r->elements && rc == 0; j++) {
			long long start, end, port;
			const redisReply *host;
			rd_node *n;
			if (!slot_entry(r->element[j], &start, &end, &host, &port)) {
				rc = booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: CLUSTER SLOTS gave an unexpected reply",
				                       c->who);
				break;
			}
			const char *h = host->len ? host->str : from->host;
			int idx = node_get_locked(c, h, host->len ? host->len : strlen(h), (int)port, &n);
			if (idx < 0)
				rc = idx;
			for (long long s = start; idx >= 0 && s <= end; s++)
				c->slots[s] = (int16_t)idx;
		}
		c->map_loaded = c->map_loaded || rc == 0;
		c->map_stale = c->map_stale && rc < 0;
		pthread_mutex_unlock(&c->mu);
		freeReplyObject(r);
		return rc;
	}
	return rc;
}

/*
 * The node for `slot` (-1: any, the seed). On a cluster the map is read at
 * first use, and again after a node could not be reached (a failover moves
 * its slots; a map that cannot be read then is kept); a slot it does not
 * know goes to the seed, which redirects.
 */
static int route(rd_client *c, int slot, rd_node **out)
{
	*out = c->nodes[0];
	if (!c->slots || slot < 0)
		return 0;
	pthread_mutex_lock(&c->mu);
	bool loaded = c->map_loaded, stale = c->map_stale;
	pthread_mutex_unlock(&c->mu);
	int rc = loaded && !stale ? 0 : refresh_map(c, c->nodes[0]);
	if (rc < 0 && !loaded)
		return rc;
	pthread_mutex_lock(&c->mu);
	if (c->slots[slot] >= 0)
		*out = c->nodes[c->slots[slot]];
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/*
 * "MOVED <slot> <host>:<port>" or "ASK <slot> <host>:<port>": 1 (moved) or 2 (ask), with the slot and the node
 * (added when new); 0 for any other reply; < 0 when the node cannot be added.
 */
static int redirection(rd_client *c, const redisReply *r, int *slot, rd_node **to)
{
	if (!r || r->type != REDIS_REPLY_ERROR || !r->str)
		return 0;
	int kind = starts_with(r->str, r->len, "MOVED") ? 1 : starts_with(r->str, r->len, "ASK") ? 2 : 0;
	const char *p = kind ? strchr(r->str, ' ') : NULL;
	char *end = NULL;
	long s = p ? strtol(p + 1, &end, 10) : -1;
	const char *addr = end && *end == ' ' ? end + 1 : NULL;
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	int port = 0;
	if (!kind || s < 0 || s >= RD_SLOTS || !colon || !parse_num(colon + 1, 1, 65535, &port))
		return 0;
	pthread_mutex_lock(&c->mu);
	/* an empty host ("MOVED 1 :6380") is the host asked: the seed's, as every node here */
	int idx = colon > addr ? node_get_locked(c, addr, (size_t)(colon - addr), port, to)
	                       : node_get_locked(c, c->nodes[0]->host, strlen(c->nodes[0]->host), port, to);
	if (idx >= 0 && kind == 1)
		c->slots[s] = (int16_t)idx;
	pthread_mutex_unlock(&c->mu);
	*slot = (int)s;
	return idx < 0 ? idx : kind;
}

/*
 * Send one command for `slot` (-1: no key) to the node the map names, or
 * to `pin` when not NULL; *out is the reply, error replies included, and
 * *at the node that gave it. On a cluster, MOVED and ASK are followed (see
 * the top of the file); the reply after the last redirection is handed out
 * as it is.
 */
static int run(rd_client *c, redisReply **out, rd_node **at, int argc, const char **argv, int slot, rd_node *pin)
{
	*out = NULL;
	*at = NULL;
	rd_node *n = pin;
	int rc = n ? 0 : route(c, slot, &n);
	bool asking = false;
	for (int redirects = 0; rc == 0; redirects++) {
		if ((rc = run_on(n, out, argc, argv, asking)) < 0) {
			if (c->slots && rc == BOOKING_EUNAVAILABLE) {
				pthread_mutex_lock(&c->mu);
				c->map_stale = true;
				pthread_mutex_unlock(&c->mu);
			}
			break;
		}
		*at = n;
		rd_node *to = NULL;
		int kind = c->slots && !pin ? redirection(c, *out, &slot, &to) : 0;
		if (kind == 0)
			return 0;
		if (kind < 0 || redirects == RD_MAX_REDIRECTS) {
			if (kind > 0)
				rc = fail(n, BOOKING_EUNAVAILABLE, ": %s: still redirected after %d redirections (%.100s)", argv[0],
				          RD_MAX_REDIRECTS, (*out)->str);
			else
				rc = kind;
			break;
		}
		freeReplyObject(*out);
		*out = NULL;
		if (kind == 1)
			(void)refresh_map(c, to); /* best effort: the MOVED slot is already mapped */
		n = to;
		asking = kind == 2;
	}
	if (*out)
		freeReplyObject(*out);
	*out = NULL;
	return rc;
}

int rd_command(rd_client *c, redisReply **out, int type, int argc, const char **argv)
{
	redisReply *r = NULL;
	rd_node *at = NULL;
	if (out)
		*out = NULL;
	int rc = run(c, &r, &at, argc, argv, argc > 1 ? key_slot(argv[1]) : -1, NULL);
	return rc < 0 ? rc : take_reply(c, at, r, type, argv[0], out);
}

/* ---------- scripts ---------- */

/* SCRIPT LOAD on `pin`, or on the node of `slot`. */
static int script_load(rd_client *c, rd_script *s, char sha[41], int slot, rd_node *pin)
{
	const char *argv[3] = {"SCRIPT", "LOAD", s->source};
	redisReply *r = NULL;
	rd_node *at = NULL;
	int rc = run(c, &r, &at, 3, argv, slot, pin);
	if (rc == 0)
		rc = take_reply(c, at, r, REDIS_REPLY_STRING, "SCRIPT LOAD", &r);
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
	int slot = nkeys ? key_slot(keys[0]) : -1;
	for (size_t i = 1; c->slots && i < nkeys; i++)
		if (key_slot(keys[i]) != slot)
			return booking_error_set(BOOKING_EVALIDATION, NULL,
			                         "%s: script %s: keys %s and %s are in different cluster slots (a script "
			                         "runs on one node: give its keys one hash tag)",
			                         c->who, s->name, keys[0], keys[i]);
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
	rd_node *pin = NULL; /* the node that answered NOSCRIPT */
	for (int loads = 0; rc == 0;) {
		if (!sha[0]) {
			if ((rc = script_load(c, s, sha, slot, pin)) < 0)
				break;
			loads++;
		}
		redisReply *r = NULL;
		rd_node *at = NULL;
		if ((rc = run(c, &r, &at, (int)argc, argv, slot, NULL)) < 0)
			break;
		if (r && r->type == REDIS_REPLY_ERROR && r->str && starts_with(r->str, r->len, "NOSCRIPT") && loads < 2) {
			freeReplyObject(r); /* flushed, restarted, failed over, another node: load again, there */
			sha[0] = '\0';
			pin = at;
			continue;
		}
		rc = take_reply(c, at, r, 0, "EVALSHA", out);
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
	for (size_t i = 0; i < c->nnodes; i++)
		node_free(c->nodes[i]);
	booking_free(c->slots);
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
	rd_node *seed = NULL;
	int rc = parse_url(&c->cfg, url, who, field);
	if (rc == 0 && c->cfg.cluster) {
		c->slots = booking_malloc(RD_SLOTS * sizeof *c->slots);
		if (!c->slots)
			rc = booking_error_oom();
		for (size_t i = 0; c->slots && i < RD_SLOTS; i++)
			c->slots[i] = -1;
	}
	if (rc == 0) {
		rc = node_get_locked(c, c->cfg.host, strlen(c->cfg.host), c->cfg.port, &seed);
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0) {
		rd_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
