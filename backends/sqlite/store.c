/*
 * SQLite store (`sqlite:///path/file.db`, `sqlite::memory:`): the
 * constructor and its URL. hold and apply live in reservation.c (with
 * the events and payments they add); the other writes, the reads, the
 * scan and the group tables in the shared layer (sql/); connections,
 * statements, transactions and the shared layer's driver in pool.c;
 * migrations in schema.c.
 *
 * Every write member is one BEGIN IMMEDIATE transaction (ROLLBACK on any
 * error, so nothing is written on error); a read is one statement (one
 * snapshot), the scan (shared) one deferred transaction. The database runs in WAL mode with
 * synchronous=NORMAL (FULL on request), foreign keys on and a busy timeout
 * of pool_timeout seconds. See sqlite_store.h for the connection model.
 *
 * The URL's parameters (doc/backends.md), each optional:
 *   pool=N            connections, 1..50, default 10 (always 1 for :memory:);
 *                     a file has one more, its writer (pool.c)
 *   pool_timeout=S    wait for a free connection, and the busy timeout, in
 *                     seconds, 5..120, default 30
 *   synchronous=full  PRAGMA synchronous=FULL; "normal" (the default) NORMAL
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

#define SQ_DEFAULT_POOL_SIZE 10
#define SQ_DEFAULT_TIMEOUT_SECONDS 30

/* --- construction ------------------------------------------------------------------ */

static void sq_free(booking_store *bst)
{
	sq_store *st = (sq_store *)bst;

	if (st == NULL)
		return;
	sq_pool_close(st);
	booking_free(st->path);
	booking_free(st);
}

static const booking_store_ledger sq_store_ledger = SQL_LEDGER(BOOKING_STORE_LEDGER_VERSION, sq_hold, sq_apply);

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * The path of the URL, up to its parameters: sqlite:///abs/path.db →
 * /abs/path.db; sqlite:///./rel.db and sqlite:///../rel.db → relative to
 * the working directory (the CLI's default, sqlite:///./booking-data/booking.db);
 * sqlite::memory: → a private in-memory database. The path is taken as
 * written (no percent-decoding); it ends at the first '?'.
 */
static int url_path(const char *url, const char **path_out, size_t *len_out)
{
	const char *p = url + strlen("sqlite:");
	size_t n = booking_url_base_len(url) - strlen("sqlite:");
	if (n == strlen(":memory:") && has_prefix(p, ":memory:")) {
		*path_out = p;
		*len_out = n;
		return 0;
	}
	if (has_prefix(p, "//")) {
		p += 2;
		n -= 2;
	}
	if (has_prefix(p, "/./") || has_prefix(p, "/../")) {
		p += 1;
		n -= 1;
	}
	*path_out = p;
	*len_out = n;
	if (n == 0)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}",
		                         "store_url: sqlite URL without a path (sqlite:///path/file.db or sqlite::memory:)");
	return 0;
}

/* The URL's settings into the store: pool_max, busy_ms, sync_full. */
static int url_settings(const char *url, sq_store *st)
{
	static const char *const sync_names[] = {"normal", "full"};
	int pool_size = SQ_DEFAULT_POOL_SIZE, timeout_s = SQ_DEFAULT_TIMEOUT_SECONDS;
	size_t sync = 0;
	booking_url_query q;
	int rc;

	booking_url_query_init(&q, url, "store_url");
	while ((rc = booking_url_query_next(&q)) > 0) {
		if (booking_url_query_is(&q, "pool"))
			rc = booking_url_query_int(&pool_size, &q, 1, 50);
		else if (booking_url_query_is(&q, "pool_timeout"))
			rc = booking_url_query_int(&timeout_s, &q, 5, 120);
		else if (booking_url_query_is(&q, "synchronous"))
			rc = booking_url_query_choice(&sync, &q, sync_names, 2);
		else
			rc = booking_url_query_unknown(&q, "pool, pool_timeout, synchronous");
		if (rc < 0)
			return rc;
	}
	st->pool_max = (size_t)pool_size;
	st->busy_ms = 1000 * timeout_s;
	st->sync_full = sync == 1;
	return rc;
}

/*
 * SQLite is built with URI file names enabled here: a relative name that
 * starts with "file:" would be parsed as a URI, so it gets a "./" prefix.
 */
static char *path_dup(const char *path, size_t n)
{
	char *out = booking_malloc(n + 3);

	if (out != NULL)
		snprintf(out, n + 3, "%s%.*s", n >= 5 && has_prefix(path, "file:") ? "./" : "", (int)n, path);
	return out;
}

int booking__sqlite_store_new(booking_store **out, const char *url)
{
	sq_store *st;
	sq_conn *c;
	const char *path = NULL;
	size_t path_len = 0;
	int rc;

	*out = NULL;
	if (url == NULL || !has_prefix(url, "sqlite:"))
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}", "sqlite: not a sqlite: URL");
	if ((rc = url_path(url, &path, &path_len)) < 0)
		return rc;
	if (sqlite3_threadsafe() == 0)
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "sqlite: the library was built without threads");
	st = booking_calloc(1, sizeof *st);
	if (st == NULL)
		return booking_error_oom();
	sql_store_init((sql_store *)st, &sq_sql_driver, BOOKING_STORE_CATALOG_VERSION, &sq_store_ledger, sq_free);
	if ((rc = url_settings(url, st)) == 0 && (st->path = path_dup(path, path_len)) == NULL)
		rc = booking_error_oom();
	if (rc == 0) {
		st->memory = strcmp(st->path, ":memory:") == 0;
		/* One connection holds a private memory database: it is the database. */
		st->pool_max = st->memory ? 1 : st->pool_max;
		rc = sq_pool_init(st);
	}
	/* Open one connection now: a bad path fails here, not on first use. */
	if (rc == 0 && (rc = sq_acquire(st, &c)) == 0)
		sq_release(st, c);
	if (rc != 0) {
		sq_free(&st->parent);
		return rc;
	}
	*out = &st->parent;
	return 0;
}
