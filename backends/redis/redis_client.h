/*
 * libbooking — what the Redis lock manager and the Redis Streams publisher
 * share: the URL, a small pool of hiredis connections, and Lua scripts run
 * with EVALSHA (loaded on first use, reloaded after a NOSCRIPT reply).
 *
 * Everything here maps hiredis failures and Redis error replies onto
 * booking error codes: nothing above this file sees a hiredis code.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_REDIS_CLIENT_H
#define BOOKING_REDIS_CLIENT_H

#include "backends.h"

#include <hiredis/hiredis.h>

/*
 * redis://[[user]:password@]host[:port][/db][?key=value&...]: the
 * parameters (stream, maxlen, max_deliveries, pool, connect_timeout_ms,
 * timeout_ms, cluster), their ranges and defaults are in doc/backends.md ("The
 * built-ins' parameters"). They are read with <booking/sys/url.h>:
 * percent-decoded, an unknown or out-of-range one refused naming the URL's
 * field. User and password are taken as written (no percent-decoding).
 */
#define RD_STREAM_MAX 200 /* bytes of a stream name */

typedef struct rd_config {
	char *text;           /* the URL after "redis://", split in place: host, user and password point into it */
	const char *host;
	int port;
	int db;
	const char *user;     /* NULL: none */
	const char *password; /* NULL: no AUTH */
	char stream[RD_STREAM_MAX + 1];
	int64_t maxlen;
	int max_deliveries;
	int pool;
	int connect_timeout_ms;
	int timeout_ms;
	int cluster; /* 1: a Redis Cluster, the host one of its nodes (see client.c) */
} rd_config;

/* A Lua script run by SHA. `sha` is filled on first use (under the client's mutex). */
typedef struct rd_script {
	const char *name;   /* for error messages */
	const char *source; /* static */
	char sha[41];       /* "" until loaded */
} rd_script;

#define RD_SCRIPT_INIT(name, source) {(name), (source), ""}

typedef struct rd_client rd_client;

/*
 * Parse `url` and set up an (empty) pool: no connection is made until the
 * first command, so a Redis that is down at open time only makes the calls
 * fail with BOOKING_EUNAVAILABLE. `who` prefixes error messages
 * ("redis lock manager"); errors about the URL name `field` ("lock_url").
 * Caller owns *out (rd_client_free).
 * @return 0, BOOKING_EVALIDATION (bad URL), BOOKING_ENOMEM, BOOKING_EINTERNAL.
 */
int rd_client_new(rd_client **out, const char *url, const char *who, const char *field);
void rd_client_free(rd_client *c);
const rd_config *rd_client_config(const rd_client *c);

/*
 * Run one command (argv of C strings). *out is the reply, never an error
 * reply (those are mapped to codes); the caller frees it with
 * freeReplyObject. `out` NULL: the reply is only checked, and freed. A
 * reply not of `type` (REDIS_REPLY_*; a status counts as a string) is
 * refused as unexpected. A connection that turns out broken is closed and
 * the command retried once on a fresh one (a restarted server); timeouts
 * are not retried. On a cluster argv[1] is the key that routes the command
 * (every caller's command has its one key there), MOVED and ASK are
 * followed, up to 5 redirections.
 * @return 0; BOOKING_EUNAVAILABLE (unreachable, timeout, server loading or
 *         busy); BOOKING_EEXTERNAL (another error reply, or an unexpected
 *         one); BOOKING_ENOMEM.
 */
int rd_command(rd_client *c, redisReply **out, int type, int argc, const char **argv);

/*
 * EVALSHA `script` with `nkeys` KEYS and `nargs` ARGV: SCRIPT LOAD on first
 * use and again after a NOSCRIPT reply (SCRIPT FLUSH, a restarted or
 * failed-over server; on a cluster, on the node that answered NOSCRIPT).
 * On a cluster the keys must share one slot (one hash tag), else
 * BOOKING_EVALIDATION; the call goes to that slot's node. Errors as
 * rd_command.
 */
int rd_eval(rd_client *c, rd_script *script, redisReply **out, size_t nkeys, const char *const *keys,
            size_t nargs, const char *const *args);

#endif
