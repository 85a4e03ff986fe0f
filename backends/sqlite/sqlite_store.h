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
 * Writers of one process queue on the store (group commit, pool.c) before
 * BEGIN IMMEDIATE: SQLite's busy handler polls with sleeps, the queue hands
 * over at once, and the writer at its head (the leader) runs the bodies of
 * the writers queued behind it (up to SQ_BATCH_MAX) in its one transaction,
 * each inside its own savepoint, so one COMMIT (one WAL sync) serves them
 * all; on a file, on one writer connection the store keeps beside its
 * pool. Other processes are still arbitrated by SQLite's lock and busy timeout.
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
#define SQ_SCHEMA_VERSION 11

/*
 * X(ID, text): this store's own statements (transactions, hold, apply),
 * numbered after the shared layer's (sql_qid); each is prepared once per
 * connection and found by number (sq_stmt, sq_run).
 */
#define SQ_STATEMENTS(X)                                                                                        \
	X(BEGIN_IMMEDIATE, "BEGIN IMMEDIATE")                                                                   \
	X(COMMIT, "COMMIT")                                                                                     \
	X(ROLLBACK, "ROLLBACK")                                                                                 \
	/* group commit (pool.c): each member of a batch of two or more is all-or-nothing within the batch */   \
	X(MEMBER_SAVEPOINT, "SAVEPOINT member")                                                                 \
	X(MEMBER_RELEASE, "RELEASE member")                                                                     \
	X(MEMBER_UNDO, "ROLLBACK TO member")                                                                    \
	/* The claim, all or nothing: HOLD_CLAIMABLE counts the requested labels (?2, JSON) that are claimable  \
	 * seats of showtime ?1 at ?3; only when all are does HOLD_CLAIM claim each label (?4) in turn, so a     \
	 * refused claim has nothing to undo and the hold needs no savepoint (a savepoint copies every page the  \
	 * hold then writes into its journal). A join from json_each seeking the primary key, and one UPDATE per \
	 * label by its key: `label IN (SELECT value FROM json_each(...))` built an ephemeral B-tree per use, two \
	 * per hold, about a tenth of the hold's instructions. A label requested twice counts twice here and     \
	 * its second UPDATE changes nothing: the hold fails and its transaction (or savepoint) is undone. */    \
	X(HOLD_CLAIMABLE, "SELECT count(*) FROM json_each(?2) AS j CROSS JOIN showtime_seats AS s"              \
	                  " ON s.showtime_id = ?1 AND s.label = j.value WHERE " BOOKING_SEAT_CLAIMABLE_SQL("s.", "?3")) \
	X(HOLD_CLAIM, "UPDATE showtime_seats SET status = 1, booking_id = ?2, hold_until = ?3, version = version + 1" \
	              " WHERE showtime_id = ?1 AND label = ?4 AND " BOOKING_SEAT_CLAIMABLE_SQL("", "?5"))         \
	X(HOLD_MISSING, "SELECT j.value FROM json_each(?2) AS j"                                                \
	                " WHERE NOT EXISTS (SELECT 1 FROM showtime_seats AS s WHERE s.showtime_id = ?1 AND s.label = j.value)" \
	                " ORDER BY j.key")                                                                      \
	X(HOLD_TAKEN, "SELECT s.label FROM json_each(?2) AS j"                                                  \
	              " JOIN showtime_seats AS s ON s.showtime_id = ?1 AND s.label = j.value"                   \
	              " WHERE NOT " BOOKING_SEAT_CLAIMABLE_SQL("s.", "?3") " ORDER BY j.key")                   \
	X(SHOWTIME_EXISTS, "SELECT 1 FROM showtimes WHERE id = ?1")                                             \
	X(BOOKING_EXISTS, "SELECT 1 FROM bookings WHERE id = ?1")                                               \
	/* the row and its seats (?13: the labels, a JSON array, in the hold's order; schema version 11) */     \
	X(BOOKING_INSERT, "INSERT INTO bookings (id, user_id, showtime_id, status, saga, seat_count, total_amount,"   \
	                  " currency, created_at, expires_at, updated_at, version, seats)"                          \
	                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)")                   \
	X(GUARD_BOOKING, "SELECT 1 FROM bookings WHERE id = ?1 AND version = ?2")                               \
	X(GUARD_PAYMENT, "SELECT 1 FROM payments WHERE id = ?1 AND status = ?2")                                \
	/* 1 when the reservation exists and none of its seats is in another state or another reservation's */          \
	X(GUARD_SEATS, "SELECT 1 FROM bookings AS b WHERE b.id = ?1 AND NOT EXISTS (SELECT 1 FROM json_each(b.seats) AS bs" \
	               " LEFT JOIN showtime_seats AS s ON s.showtime_id = b.showtime_id AND s.label = bs.value" \
	               " WHERE s.label IS NULL OR s.booking_id IS NOT b.id OR s.status <> ?2)")               \
	X(APPLY_PAYMENT, "UPDATE payments SET status = ?2, gateway_ref = coalesce(?3, gateway_ref), failure_code = coalesce(?4, failure_code)," \
	                 " refunded_amount = CASE WHEN ?5 < 0 THEN refunded_amount ELSE ?5 END, updated_at = ?6 WHERE id = ?1") \
	X(APPLY_IDEMPOTENCY, "UPDATE idempotency_keys SET completed = 1, replay_error = ?2 WHERE payment_id = ?1") \
	X(GUARD_KEY, "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = ?1 AND key = ?2)") \
	/* ledger version 3: the seats of showtime ?2 that user ?1 has taken at ?3 (held by a reservation of the  \
	 * user, through its seat list, and not claimable). CROSS JOIN keeps this order (SQLite does not reorder  \
	 * it): the user's reservations of the showtime by bookings_user_showtime (schema version 7), their      \
	 * seats (json_each of the row's list, schema version 11), their seat rows; left to itself the planner    \
	 * walks every seat row of the showtime instead. */                                                       \
	X(USER_TAKEN, "SELECT count(*) FROM bookings AS b CROSS JOIN json_each(b.seats) AS bs"                  \
	              " CROSS JOIN showtime_seats AS s ON s.showtime_id = b.showtime_id AND s.label = bs.value" \
	              " WHERE b.user_id = ?1 AND b.showtime_id = ?2 AND s.booking_id = b.id"                   \
	              " AND NOT " BOOKING_SEAT_CLAIMABLE_SQL("s.", "?3"))                                       \
	/* ledger version 4: user $1's live holds in status $4 at $3 (sql/sql.h; schema version 9's index) */  \
	X(USER_HOLDS, SQL_USER_HOLDS("$1", "$4", "$3"))                                                         \
	/* ?5 > 0: a new expires_at */                                                                          \
	X(APPLY_BOOKING, "UPDATE bookings SET status = ?2, saga = ?3, version = version + 1, updated_at = ?4,"  \
	                 " expires_at = CASE WHEN ?5 > 0 THEN ?5 ELSE expires_at END WHERE id = ?1")           \
	/* a reservation's seats (?2, labels as JSON) and total replaced */                                     \
	X(APPLY_BOOKING_SEATS, "UPDATE bookings SET seats = ?2, seat_count = json_array_length(?2), total_amount = ?3" \
	                       " WHERE id = ?1")                                                                \
	/* seat writes (ledger version 2): the two expectations, then the write (?4: the holder, "" for none) */ \
	X(SEAT_CLAIMABLE, "SELECT 1 FROM showtime_seats WHERE showtime_id = ?1 AND label = ?2"                  \
	                  " AND " BOOKING_SEAT_CLAIMABLE_SQL("", "?3"))                                         \
	X(SEAT_IS, "SELECT 1 FROM showtime_seats WHERE showtime_id = ?1 AND label = ?2 AND status = ?3"         \
	           " AND coalesce(booking_id, '') = ?4")                                                        \
	X(SEAT_WRITE, "UPDATE showtime_seats SET status = ?3, booking_id = nullif(?4, ''), hold_until = ?5, note = ?6," \
	              " version = version + 1 WHERE showtime_id = ?1 AND label = ?2")                           \
	X(APPLY_SEATS, "UPDATE showtime_seats SET status = ?3, booking_id = CASE WHEN ?3 = 0 THEN NULL ELSE booking_id END," \
	               " hold_until = ?4, version = version + 1"                                                \
	               " WHERE showtime_id = (SELECT showtime_id FROM bookings WHERE id = ?1)"                  \
	               " AND label IN (SELECT value FROM json_each((SELECT seats FROM bookings WHERE id = ?1)))" \
	               " AND booking_id = ?1 AND status = ?2")                                                  \
	X(IDEM_INSERT, "INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, completed, replay_error, created_at)" \
	               " VALUES (?1, ?2, ?3, ?4, 0, 0, ?5)")                                                    \
	/* a hold's key: it names the reservation, done */                                                     \
	X(KEY_INSERT, "INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, completed, replay_error," \
	              " created_at) VALUES (?1, ?2, ?3, ?4, 1, 0, ?5)")                                         \
	X(PAYMENT_INSERT, "INSERT INTO payments (" SQL_PAYMENT_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)") \
	X(EVENT_INSERT, SQL_EVENT_INSERT("?1", "?2", "?3", "?4", "?5", "?6", "?7", "?8"))                      \
	/* kv_put (store version 7): $1 ns, $2 key, $3 now, $4 the expected version, $5 value, $6 rank, $7 expiry */ \
	X(KV_VERSION, "SELECT " SQL_KV_VERSION("", "$3") " FROM kv WHERE ns = $1 AND key = $2")                 \
	X(KV_SET, SQL_KV_SET("$1", "$2", "$4", "$5", "$6", "$7", "$3"))                                         \
	X(KV_DELETE, SQL_KV_DELETE("$1", "$2", "$4", "$3"))                                                     \
	X(KV_PURGE, SQL_KV_PURGE(SQL_LITE, "$3")) /* named: ?3 alone would leave ?1 and ?2 nameless */
#define SQ_ID(id, text) SQ_##id,
typedef enum sq_qid { SQ_FIRST = SQLQ_COUNT - 1, SQ_STATEMENTS(SQ_ID) SQ_COUNT } sq_qid;
#undef SQ_ID

typedef struct sq_conn {
	sqlite3 *db;
	int64_t changed;   /* the rows the first statement of the last sq_run() changed */
	/* every statement, by sql_qid or sq_qid, each part of a write's text */
	sqlite3_stmt *stmts[SQ_COUNT][SQL_MAX_PARTS];
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

	/* the writers of this process, in arrival order; the head leads the next transaction (pool.c) */
	pthread_mutex_t writer;
	struct sq_writer *queue, *queue_tail;
	sq_conn *wconn; /* a file's writer connection, opened by the first leader; only the leader uses it */
} sq_store;

/** The most bodies one transaction of the group commit runs (pool.c). */
#define SQ_BATCH_MAX 64
/** The most bodies one leader runs, batch after batch, before it wakes the next head (pool.c). */
#define SQ_LEAD_MAX 64

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

/** Statement `q` (sql_qid or sq_qid; its first part), prepared once per connection, reset and unbound. */
int sq_stmt(sq_conn *c, int q, sqlite3_stmt **out);

/** Bind each parameter of `s` by its name: $N or ?N is args[N - 1]. */
int sq_bind(sq_conn *c, sqlite3_stmt *s, const sql_arg *args, size_t n);

/** Step: SQLITE_ROW or SQLITE_DONE, or a negative booking code (the statement is reset). */
int sq_step(sq_conn *c, sqlite3_stmt *s);

/** Run each statement of `q` with `args` to completion; *row_out (may be NULL): whether one answered a row. */
int sq_run(sq_conn *c, int q, const sql_arg *args, size_t n, bool *row_out);

typedef int (*sq_body_fn)(sq_conn *c, void *arg);

/*
 * Queue as a writer, BEGIN IMMEDIATE, run `fn`, COMMIT (ROLLBACK when it fails); on a file the
 * transaction runs on the store's writer connection, with sqlite::memory: on a connection checked out
 * before queueing. Writers queued together share one transaction (group commit): `fn` may run on another
 * thread, inside a savepoint; its error record reaches the caller's thread. So a body reads nothing
 * thread-local and touches only its connection and `arg`.
 */
int sq_write(sq_store *st, sq_body_fn fn, void *arg);
/** Run a statement text (several allowed) with sqlite3_exec. */
int sq_exec(void *conn, const char *sql);

/* --- schema.c ----------------------------------------------------------- */

/** The schema and its migration hooks (sql/sql.h). */
extern const sql_schema sq_schema;

/* --- reservation.c: hold, apply and kv_put ---------------------------- */

int sq_hold(booking_seat_ref *taken, size_t *taken_count, booking_store *st, const booking_store_hold *req);
int sq_apply(size_t *failed_guard_out, booking_store *st, const booking_store_change *change);
/* The driver's kv_put (sql/sql.h). */
int sq_kv_put(sql_store *st, const booking_store_kv_put *req, bool *written, int64_t *live);

#endif
