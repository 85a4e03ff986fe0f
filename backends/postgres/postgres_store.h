/*
 * PostgreSQL store — what the files of backends/postgres/ share: the
 * store object, its connection pool and prepared queries.
 *
 * Every use case is one prepared statement, one round trip and one
 * implicit transaction under READ COMMITTED: hold and apply call their
 * PL/pgSQL function (schema.c), which locks the rows it changes in a fixed
 * order (reservation → seats by label), checks every guard before writing and
 * answers a refusal with a return code instead of an exception, so "on an
 * error nothing is written" needs no rollback; the other writes are the
 * shared layer's single statements (sql/sql.h).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_POSTGRES_STORE_H
#define BOOKING_POSTGRES_STORE_H

#include "backends.h"
#include "sql/sql.h"

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

/* The schema version this code writes (schema.c). */
#define PG_SCHEMA_VERSION 12

/* Advisory lock keys (pg_advisory_xact_lock): "BKMIGRAT", "BKOUTBOX" in ASCII. */
#define PG_LOCK_MIGRATE "4776996806881067348"
#define PG_LOCK_OUTBOX "4776999057660989272"

/* The SQLSTATE booking_hold_claim() raises when it wrote seats it must undo: ask booking_hold() (schema.c, v12). */
#define PG_HOLD_RECHECK "BK001"

/* Every prepared query of this store's own, one bit each in a connection's `prepared` set (after them: sql_qid). */
typedef enum pg_query_id {
	PGQ_HOLD,
	PGQ_BOOKING_EXISTS,
	PGQ_APPLY,
	PGQ_PAYMENT_EXISTS,
	PGQ_EVENT_EXISTS,
	PGQ_OUTBOX_SEQUENCE,
	PGQ_END_SESSION,
	PGQ_CLOCK_NOW,
	PGQ_KV_PUT,
	PGQ_HOLD_CHECKED,
	PGQ_COUNT
} pg_query_id;

typedef struct pg_query {
	pg_query_id id;
	const char *sql;
} pg_query;

typedef struct pg_conn {
	PGconn *conn;          /* NULL until first used, or after a failed connect */
	bool broken;           /* lost: reconnect before the next use */
	bool retry;            /* the last failure is worth another attempt (deadlock, stale plan) */
	bool sent;             /* the last statement reached the wire: its outcome may be unknown */
	int pid;               /* server process of this session, for settling a lost write */
	char started[64];      /* its backend_start, so a reused pid is never mistaken for it */
	uint64_t prepared[(PGQ_COUNT + 2 * SQLQ_COUNT + 63) / 64]; /* our own, the shared ones, their resolvers */
} pg_conn;

/* The connection parameters: 9 and the terminating NULL. */
#define PG_PARAMS 10

typedef struct pg_store {
	booking_store parent; /* these two first: sql_store (sql/sql.h) */
	const sql_driver *driver;
	/* connection parameters for PQconnectdbParams() (store.c), and what their strings are in */
	const char *const *keywords;
	const char *values[PG_PARAMS];
	char *url;              /* the URL with libpq's parameters only, expanded as dbname */
	char *options;          /* ours, then the URL's */
	char timeout_text[16]; /* connect_timeout: pool_timeout, at most 5 s */
	booking_pool *pool; /* of pg_conn (sys/pool.h) */
} pg_store;

_Static_assert(offsetof(pg_store, driver) == offsetof(sql_store, driver), "pg_store starts as sql_store");

/* The shared layer's driver (sql/sql.h). */
extern const sql_driver pg_sql_driver;

/* The most arguments of a statement. */
#define PG_MAX_PARAMS 80

/* --- results ----------------------------------------------------------- */

/* An integer, or a boolean as 1 or 0; 0 for NULL. */
int64_t pg_i64(const PGresult *r, int row, int col);

/* --- running queries --------------------------------------------------- */

/*
 * How to learn, after the connection was lost while a write was in
 * flight, whether that write committed: on a fresh connection, `q` with
 * `args` answers a row when it did; a write that is its own resolver is
 * settled by running it again. q NULL: it cannot be told.
 */
typedef struct pg_resolver {
	const pg_query *q;
	const sql_arg *args;
	size_t n;
} pg_resolver;

/* pg_run() answered for a write whose reply was lost but which committed. */
#define PG_COMMITTED 1
/* pg_run() answered for booking_hold_claim() that raised PG_HOLD_RECHECK (rolled back: nothing written). */
#define PG_RECHECK 2

/*
 * Run a prepared query once, on a pooled connection, as its own implicit
 * transaction; deadlocks and serialisation failures are retried a few
 * times. On success returns 0 with *res (caller PQclear()s). A lost
 * connection answers BOOKING_EUNAVAILABLE, unless `resolve` is given and
 * settles the write: PG_COMMITTED with *res NULL when it committed.
 */
int pg_run(pg_store *st, const pg_query *q, const sql_arg *args, size_t n, PGresult **res, const pg_resolver *resolve);

/* Create the (empty) pool: `size` connections at most, a caller waits `wait_ms` for one. */
int pg_pool_init(pg_store *st, size_t size, int64_t wait_ms);
/* Pool access for multi-statement work (migrations, scan). */
int pg_acquire(pg_store *st, pg_conn **out);
void pg_release(pg_store *st, pg_conn *c);
/* A plain SQL text on a held connection (simple protocol; may hold several statements). */
int pg_exec_sql(pg_conn *c, const char *sql, PGresult **res);

/* Map a failed result (NULL: the connection failed) to a booking error and set it. */
int pg_error(pg_conn *c, const PGresult *r, const char *what);


/* --- members, by file ---------------------------------------------------- */

/* The schema and its migration hooks (sql/sql.h). */
extern const sql_schema pg_schema;

int pg_hold(booking_seat_ref *taken, size_t *taken_count, booking_store *st, const booking_store_hold *req);
int pg_apply(size_t *failed_guard_out, booking_store *st, const booking_store_change *change);
/* The driver's kv_put (sql/sql.h): booking_kv_put() (schema.c). */
int pg_kv_put(sql_store *st, const booking_store_kv_put *req, bool *written, int64_t *live);

#endif
