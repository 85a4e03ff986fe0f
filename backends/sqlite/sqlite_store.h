/*
 * SQLite store — shared by the files of backends/sqlite/ only.
 *
 * Connections: a pool per store (sys/pool.h; not a thread-local connection). Each call
 * checks a connection out for its duration and returns it, so a connection
 * is only ever used by one thread at a time (SQLITE_OPEN_NOMUTEX), a thread
 * that exits leaves nothing behind, and free() owns every connection. The
 * pool opens connections lazily up to the URL's pool=N and makes a caller
 * wait (pool_timeout=S) when all are busy.
 *
 * `sqlite::memory:` uses exactly one connection for the life of the store:
 * one database shared by every thread, calls serialised by the pool. (A
 * shared-cache URI with several connections was rejected: shared-cache
 * table locks answer SQLITE_LOCKED at once, bypassing the busy timeout, and
 * a memory database has no I/O for several connections to overlap.) Each
 * store is its own database: two `sqlite::memory:` stores share nothing.
 *
 * A callback of an iterating member runs while its connection is checked
 * out; it may call the store again (another connection serves it), except
 * when every connection is already held by that thread (always the case
 * with `sqlite::memory:`): that answers BOOKING_EINTERNAL at once instead
 * of waiting for itself.
 *
 * Writers of one process also queue on a store mutex before BEGIN IMMEDIATE:
 * SQLite's busy handler polls with sleeps, a mutex hands over at once.
 * Other processes are still arbitrated by SQLite's lock and busy timeout.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SQLITE_STORE_H
#define BOOKING_SQLITE_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "backends.h"
#include "sql/sql.h"

/** The schema version this code writes (see schema.c). */
#define SQ_SCHEMA_VERSION 5

/** A prepared statement cached on a connection, keyed by the address of its SQL text. */
typedef struct sq_stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
} sq_stmt_slot;

typedef struct sq_conn {
	sqlite3 *db;
	sq_stmt_slot *slots;   /* open-addressing table, slot_cap a power of two */
	size_t slot_cap;
	size_t slot_count;
	bool holds_writer;     /* holds the store's writer mutex */
	/* the shared layer's statements, by sql_qid, each part of a write's text */
	sqlite3_stmt *by_id[SQLQ_COUNT][SQL_MAX_PARTS];
} sq_conn;

typedef struct sq_store {
	booking_store parent;    /* these two first: sql_store (sql/sql.h) */
	const sql_driver *driver;
	char *path;            /* file name, or ":memory:" */
	bool memory;
	int busy_ms;
	bool sync_full;
	size_t pool_max;

	booking_pool *pool;    /* of sq_conn (sys/pool.h) */

	pthread_mutex_t writer; /* one BEGIN IMMEDIATE at a time within the process */
} sq_store;

_Static_assert(offsetof(sq_store, driver) == offsetof(sql_store, driver), "sq_store starts as sql_store");

/* --- pool.c: connections, statements, errors, transactions ------------ */

/** The shared layer's driver (sql/sql.h). */
extern const sql_driver sq_sql_driver;

/** Create the pool (no connection yet) and the writer mutex. */
int sq_pool_init(sq_store *st);
void sq_pool_close(sq_store *st);
int sq_acquire(sq_store *st, sq_conn **out);
void sq_release(sq_store *st, sq_conn *c);

/** Set the thread's error for SQLite result `rc` on `c` and return the booking code. */
int sq_error(sq_conn *c, int rc);

/** The cached statement for `sql` (a static string: its address is the key), reset and unbound. */
int sq_stmt(sq_conn *c, const char *sql, sqlite3_stmt **out);

/**
 * Bind parameters 1.. from `fmt`: 't' const char * (NULL binds NULL),
 * 'e' const char * (NULL binds ""), 'i' int64_t, 'z' size_t, 'b' bool/int (as 0/1).
 */
int sq_bind(sq_conn *c, sqlite3_stmt *s, const char *fmt, ...);

/** Step: SQLITE_ROW or SQLITE_DONE, or a negative booking code (the statement is reset). */
int sq_step(sq_conn *c, sqlite3_stmt *s);

/**
 * Step a row loop: `while (sq_next(c, s, &rc)) { ...; rc = cb(...); }`.
 * Returns false when *rc is already non-zero, at the end (*rc = 0) or on
 * an error (*rc = the booking code).
 */
bool sq_next(sq_conn *c, sqlite3_stmt *s, int *rc);

/** Prepare (cached), bind per `fmt` and run `sql` to completion. */
int sq_run(sq_conn *c, const char *sql, const char *fmt, ...);

/** Run a statement returning one integer row: *found_out false when there is no row (may be NULL). */
int sq_query_i64(sq_conn *c, const char *sql, int64_t *value_out, bool *found_out, const char *fmt, ...);

/** sqlite3_changes() of the last statement. */
int64_t sq_changes(sq_conn *c);

typedef int (*sq_body_fn)(sq_conn *c, void *arg);

/** Check out a connection, BEGIN IMMEDIATE, run `fn`, COMMIT (ROLLBACK when it fails). */
int sq_write(sq_store *st, sq_body_fn fn, void *arg);
/** On a checked-out connection: take the writer lock and BEGIN IMMEDIATE. */
int sq_begin(sq_store *st, sq_conn *c);
/** COMMIT when rc is 0 (else, or when that fails, ROLLBACK), and let the writer lock go. */
int sq_end(sq_store *st, sq_conn *c, int rc);
/** Run a statement text (several allowed) with sqlite3_exec. */
int sq_exec(sq_conn *c, const char *sql);

/* --- text helpers ------------------------------------------------------ */

/** Copy column `i` into a fixed buffer (truncated, always terminated; NULL → ""). */
void sq_col_copy(sqlite3_stmt *s, int i, char *dst, size_t cap);
/** Column text or "" (borrowed until the next step/reset). */
const char *sq_col_text(sqlite3_stmt *s, int i);

/* --- schema.c ----------------------------------------------------------- */

/** The schema and its migration hooks (sql/sql.h). */
extern const sql_schema sq_schema;

/* --- outbox.c ----------------------------------------------------------- */

/** Append an event inside the caller's write transaction (sequence = 1 + the last of its aggregate_id). */
int sq_event_insert(sq_conn *c, const booking_event_record *ev);
/** Append `n` events. */
int sq_events_insert(sq_conn *c, const booking_event_record *events, size_t n);

/* --- the members, by file ---------------------------------------------- */

int sq_hold(booking_store *st, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count);
int sq_apply(booking_store *st, const booking_store_change *change, size_t *failed_guard_out);
#define SQ_BOOKING_COLUMNS \
	"id, user_id, showtime_id, status, saga, seat_count, total_amount, currency, created_at, " \
	"expires_at, updated_at, version"
/* apply: insert the payment and the idempotency record of a payment that starts. */
int sq_payment_start(sq_conn *c, const booking_store_payment_start *start);
#define SQ_PAYMENT_COLUMNS \
	"id, booking_id, user_id, status, amount, currency, card_last4, gateway_ref, failure_code, " \
	"refunded_amount, created_at, updated_at"

#endif
