/*
 * libbooking — the `postgresql://` store (libpq).
 *
 * The store object: the connection parameters (the URL merged with our
 * defaults) and the pool. hold and apply live in reservation.c; the
 * other writes, the reads, the scan and the group tables in the shared
 * layer (sql/); the pool, query plumbing and the shared layer's driver
 * in pool.c; the schema and its PL/pgSQL functions in schema.c.
 *
 * The store's own URL parameters (doc/backends.md), taken out of the URL
 * before the rest reaches libpq, each optional:
 *   pool=N               connections, 1..50, default 10
 *   pool_timeout=S       wait for a free connection, seconds, 5..120, default 30
 *   statement_timeout=S  the server's statement_timeout, seconds, 1..600,
 *                        default 30 (a longer wait means something is wrong: 503)
 * Every other parameter is libpq's and reaches it as written.
 *
 * Every connection gets, unless the URL says otherwise:
 *   connect_timeout    pool_timeout, at most 5 s
 *   statement_timeout  as above
 *   idle_in_transaction_session_timeout 60 s, TCP keepalives, UTF8,
 *   default_transaction_isolation read committed (the functions rely on
 *   READ COMMITTED re-checks after a row lock wait).
 * Server options the URL gives (`options=-c...`) are appended after ours,
 * so they win.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <stdio.h>
#include <string.h>

#define PG_CONNECT_TIMEOUT_MAX 5
#define PG_DEFAULT_POOL_SIZE 10
#define PG_DEFAULT_POOL_TIMEOUT_S 30
#define PG_DEFAULT_STATEMENT_TIMEOUT_S 30
#define PG_SERVER_OPTIONS_FORMAT                                                                               \
	"-c statement_timeout=%d -c idle_in_transaction_session_timeout=60000 "                                \
	"-c default_transaction_isolation=read\\ committed"

/* What the URL sets for the store itself. */
typedef struct pg_settings {
	int pool_size;
	int pool_timeout_s;
	int statement_timeout_s;
} pg_settings;

static void st_free(booking_store *base)
{
	pg_store *st = (pg_store *)base;
	if (!st)
		return;
	booking_pool_free(st->pool);
	booking_free(st->url);
	booking_free(st->options);
	booking_free(st);
}

/*
 * Take the store's own parameters out of `url` into *set; *libpq_url_out
 * is the URL with libpq's parameters only, as written (caller frees).
 */
static int split_url(const char *url, pg_settings *set, char **libpq_url_out)
{
	*libpq_url_out = NULL;
	set->pool_size = PG_DEFAULT_POOL_SIZE;
	set->pool_timeout_s = PG_DEFAULT_POOL_TIMEOUT_S;
	set->statement_timeout_s = PG_DEFAULT_STATEMENT_TIMEOUT_S;
	size_t base = booking_url_base_len(url);
	char *out = booking_malloc(strlen(url) + 1); /* what is kept is never longer */
	if (!out)
		return booking_error_oom();
	memcpy(out, url, base);
	size_t at = base;
	booking_url_query q;
	int rc;
	booking_url_query_init(&q, url, "store_url");
	while ((rc = booking_url_query_next(&q)) > 0) {
		if (booking_url_query_is(&q, "pool")) {
			rc = booking_url_query_int(&set->pool_size, &q, 1, 50);
		} else if (booking_url_query_is(&q, "pool_timeout")) {
			rc = booking_url_query_int(&set->pool_timeout_s, &q, 5, 120);
		} else if (booking_url_query_is(&q, "statement_timeout")) {
			rc = booking_url_query_int(&set->statement_timeout_s, &q, 1, 600);
		} else { /* libpq's: it checks them (PQconninfoParse) */
			out[at] = at == base ? '?' : '&';
			memcpy(out + at + 1, q.param.text, q.param.text_len);
			at += 1 + q.param.text_len;
		}
		if (rc < 0)
			break;
	}
	if (rc < 0) { /* a bad parameter, or a malformed one booking_url_query_next() refused */
		booking_free(out);
		return rc;
	}
	out[at] = '\0';
	*libpq_url_out = out;
	return 0;
}

/*
 * The keyword/value arrays for PQconnectdbParams(), which expands the URL
 * (libpq's parameters only) given as dbname: our defaults before it, so
 * the URL's settings win, then `options` after it: ours followed by the
 * URL's. The URL is only parsed here to check it and to find its options.
 */
static const char *const pg_keywords[PG_PARAMS] = {
	"connect_timeout", "fallback_application_name", "client_encoding", "keepalives",
	"keepalives_idle", "keepalives_interval",       "keepalives_count", "dbname",
	"options",         NULL,
};

static int build_params(pg_store *st, const pg_settings *set)
{
	char *err = NULL;
	PQconninfoOption *info = PQconninfoParse(st->url, &err);
	if (!info) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s", err ? err : "out of memory");
		msg[strcspn(msg, "\n")] = '\0';
		PQfreemem(err);
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}",
		                         "store_url: not a PostgreSQL URL: %s", msg);
	}
	const char *user_options = "";
	for (PQconninfoOption *o = info; o->keyword; o++)
		if (o->val && strcmp(o->keyword, "options") == 0)
			user_options = o->val;
	size_t len = sizeof PG_SERVER_OPTIONS_FORMAT + 16 + strlen(user_options);
	if ((st->options = booking_malloc(len)) != NULL)
		snprintf(st->options, len, PG_SERVER_OPTIONS_FORMAT "%s%s", set->statement_timeout_s * 1000,
		         *user_options ? " " : "", user_options);
	PQconninfoFree(info);
	if (!st->options)
		return booking_error_oom();
	int timeout = set->pool_timeout_s;
	snprintf(st->timeout_text, sizeof st->timeout_text, "%d",
	         timeout < PG_CONNECT_TIMEOUT_MAX ? timeout : PG_CONNECT_TIMEOUT_MAX);
	const char *const values[PG_PARAMS] = {st->timeout_text, "libbooking", "UTF8", "1", "30", "10", "3",
	                                       st->url,          st->options,  NULL};
	memcpy(st->values, values, sizeof values);
	st->keywords = pg_keywords;
	return 0;
}

/*
 * The server's clock is the deployment's: every process that shares this
 * database decides by it (the core samples it; doc/rulebook.md).
 * clock_timestamp(), not now(): the time of the call, not of a
 * transaction's start.
 */
static const pg_query Q_CLOCK_NOW = {PGQ_CLOCK_NOW,
                                     "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint"};

static int pg_clock_now(int64_t *now_ms_out, booking_store *base)
{
	PGresult *r;
	int rc = pg_run((pg_store *)base, &Q_CLOCK_NOW, NULL, 0, &r, NULL);
	if (rc < 0)
		return rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql clock: no row");
	}
	*now_ms_out = pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

/* catalog version 2 (the box office): schema version 7; ledger version 4 (the live-hold limit): schema version 10 */
static const booking_store_ledger pg_store_ledger = SQL_LEDGER(BOOKING_STORE_LEDGER_VERSION, pg_hold, pg_apply);

int booking__pg_store_new(booking_store **out, const char *url)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: out is NULL");
	*out = NULL;
	if (!url)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}", "store_url is NULL");
	pg_settings set;
	char *libpq_url = NULL;
	int rc = split_url(url, &set, &libpq_url);
	if (rc < 0)
		return rc;
	pg_store *st = booking_calloc(1, sizeof *st);
	if (!st) {
		booking_free(libpq_url);
		return booking_error_oom();
	}
	sql_store_init((sql_store *)st, &pg_sql_driver, BOOKING_STORE_CATALOG_VERSION, &pg_store_ledger, st_free);
	st->parent.clock_now = pg_clock_now;
	st->url = libpq_url;
	rc = build_params(st, &set);
	if (rc == 0)
		rc = pg_pool_init(st, (size_t)set.pool_size, (int64_t)set.pool_timeout_s * 1000);
	if (rc < 0) {
		st_free(&st->parent);
		return rc;
	}
	/* Connect once now: an unreachable server is reported by the open, not by the first use. */
	pg_conn *c;
	rc = pg_acquire(st, &c);
	if (rc < 0) {
		st_free(&st->parent);
		return rc;
	}
	pg_release(st, c);
	*out = &st->parent;
	return 0;
}
