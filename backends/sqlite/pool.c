/*
 * SQLite store — its connections (pooled by sys/pool.h), the per-connection
 * statements (prepared once per connection, found by number), error
 * mapping and transactions.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sqlite_store.h"

#define SQ_TEXT(id, text) [SQ_##id] = (text),
/* Every statement's text: the shared layer's (SQLite's dialect), then this store's own. */
static const char *const texts[SQ_COUNT] = {SQL_STATEMENTS(SQL_TEXT, SQL_LITE) SQL_WRITES(SQL_WTEXT, SQL_LITE)
                                                SQ_STATEMENTS(SQ_TEXT)};

/* --- errors ------------------------------------------------------------- */

int sq_error(sq_conn *c, int rc)
{
	const char *msg = (c != NULL && c->db != NULL) ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "sqlite: database is busy: %s", msg);
	case SQLITE_NOMEM:
		return booking_error_oom();
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_PRIMARYKEY || rc == SQLITE_CONSTRAINT_UNIQUE)
			return booking_error_set(BOOKING_EEXISTS, NULL, "sqlite: %s", msg);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: %s", msg);
	default:
		return booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: %s", msg);
	}
}

/* --- statements ------------------------------------------------------------ */

/* Prepare, once per connection, every statement of the text of `q`. */
static int prepare(sq_conn *c, int q)
{
	const char *at = texts[q];

	for (int k = 0; k < SQL_MAX_PARTS && *at != '\0'; k++) {
		int rc = sqlite3_prepare_v3(c->db, at, -1, SQLITE_PREPARE_PERSISTENT, &c->stmts[q][k], &at);

		if (rc != SQLITE_OK) { /* all or none: a write must not run only its first statements */
			rc = sq_error(c, rc);
			for (k = 0; k < SQL_MAX_PARTS; k++) {
				sqlite3_finalize(c->stmts[q][k]);
				c->stmts[q][k] = NULL;
			}
			return rc;
		}
		while (*at == ' ' || *at == ';')
			at++;
	}
	return 0;
}

int sq_stmt(sq_conn *c, int q, sqlite3_stmt **out)
{
	int rc = c->stmts[q][0] == NULL ? prepare(c, q) : 0;

	*out = c->stmts[q][0];
	if (rc == 0) {
		sqlite3_reset(*out);
		sqlite3_clear_bindings(*out);
	}
	return rc;
}

int sq_bind(sq_conn *c, sqlite3_stmt *s, const sql_arg *args, size_t n)
{
	for (int i = 1; i <= sqlite3_bind_parameter_count(s); i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		/* ?N is parameter N (SQLite numbers it so); $N is numbered in order of appearance: its name says */
		long k = name == NULL ? 0 : name[0] == '?' ? i : strtol(name + 1, NULL, 10);
		const sql_arg *a;
		int rc;

		if (k < 1 || (size_t)k > n)
			return booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: no argument for parameter %s", name);
		a = &args[k - 1];
		rc = a->type == 'i'      ? sqlite3_bind_int64(s, i, (sqlite3_int64)a->i64)
		     : a->text != NULL ? sqlite3_bind_text(s, i, a->text, -1, SQLITE_STATIC)
		                       : sqlite3_bind_null(s, i);
		if (rc != SQLITE_OK)
			return sq_error(c, rc);
	}
	return 0;
}

int sq_step(sq_conn *c, sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return rc;
	rc = sq_error(c, rc);
	sqlite3_reset(s);
	return rc;
}

int sq_run(sq_conn *c, int q, const sql_arg *args, size_t n, bool *row_out)
{
	int rc = c->stmts[q][0] == NULL ? prepare(c, q) : 0;

	if (row_out != NULL)
		*row_out = false;
	for (int k = 0; rc == 0 && k < SQL_MAX_PARTS && c->stmts[q][k] != NULL; k++) {
		sqlite3_stmt *s = c->stmts[q][k];

		rc = sq_bind(c, s, args, n);
		while (rc == 0 && (rc = sq_step(c, s)) == SQLITE_ROW) {
			if (row_out != NULL)
				*row_out = true;
			rc = 0;
		}
		rc = rc == SQLITE_DONE ? 0 : rc;
		sqlite3_reset(s);
		if (rc == 0 && k == 0)
			c->changed = (int64_t)sqlite3_changes64(c->db);
	}
	return rc;
}

/* --- connections ---------------------------------------------------------- */

/* The pool's close (sys/pool.h). */
static void conn_close(void *conn, void *payload)
{
	sq_conn *c = conn;

	(void)payload;
	if (c == NULL)
		return;
	for (int q = 0; q < SQ_COUNT; q++)
		for (int k = 0; k < SQL_MAX_PARTS; k++)
			sqlite3_finalize(c->stmts[q][k]);
	sqlite3_close(c->db);
	booking_free(c);
}

int sq_exec(void *conn, const char *sql)
{
	sq_conn *c = conn;
	int rc = sqlite3_exec(c->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : sq_error(c, rc);
}

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Switching a new file to WAL upgrades a shared lock to an exclusive one;
 * SQLite answers SQLITE_BUSY at once there rather than risk a deadlock in
 * the busy handler, so processes opening a new file together retry here,
 * with jitter, within the busy timeout. The mode is persistent in the
 * file: once it is WAL this is a no-op.
 */
static int conn_set_wal(sq_store *st, sq_conn *c)
{
	int64_t deadline = monotonic_ms() + st->busy_ms;
	unsigned int jitter = (unsigned int)(uintptr_t)c ^ (unsigned int)monotonic_ms();

	for (int attempt = 0;; attempt++) {
		int rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		struct timespec pause;
		long ms;

		if (rc == SQLITE_OK)
			return 0;
		if (((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) || monotonic_ms() >= deadline)
			return sq_error(c, rc);
		jitter = jitter * 1103515245u + 12345u;
		ms = 1 + (long)((jitter >> 16) % (unsigned int)(attempt < 6 ? 2 << attempt : 100));
		pause.tv_sec = 0;
		pause.tv_nsec = ms * 1000000L;
		nanosleep(&pause, NULL);
	}
}

static int conn_configure(sq_store *st, sq_conn *c)
{
	int rc;

	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, st->busy_ms);
	rc = st->memory ? 0 : conn_set_wal(st, c);
	if (rc == 0)
		rc = sq_exec(c, st->sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
	if (rc == 0)
		rc = sq_exec(c, "PRAGMA foreign_keys=ON");
	/*
	 * Statement and savepoint journals (a group commit's member savepoints,
	 * a multi-row statement's) in memory: on a temporary file, SQLite spills
	 * one past 64 KiB, about the 15-16 pages a hold writes, so every other
	 * hold created, wrote and unlinked a file in /var/tmp.
	 */
	if (rc == 0)
		rc = sq_exec(c, "PRAGMA temp_store=MEMORY");
	return rc;
}

/*
 * A database file this store creates is private (0600), whatever the
 * umask: it holds password hashes. SQLite gives its -wal, -shm and journal
 * files the database file's mode. An existing file keeps its mode.
 */
static int create_private(const sq_store *st)
{
	if (st->memory || strncmp(st->path, "file:", 5) == 0)
		return 0;
	int fd = open(st->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "sqlite: cannot create the database file: %s",
	                         strerror(errno));
}

/* The pool's open (sys/pool.h). */
static int conn_open(void **out, void *payload)
{
	const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	sq_store *st = payload;
	sq_conn *c = booking_calloc(1, sizeof *c);
	int rc;

	*out = NULL;
	if (c == NULL)
		return booking_error_oom();
	if ((rc = create_private(st)) < 0) {
		booking_free(c);
		return rc;
	}
	rc = sqlite3_open_v2(st->path, &c->db, flags, NULL);
	if (rc != SQLITE_OK)
		rc = c->db == NULL || (rc & 0xff) == SQLITE_NOMEM ? booking_error_oom() : BOOKING_EINTERNAL;
	else
		rc = conn_configure(st, c);
	if (rc == BOOKING_EINTERNAL) /* e.g. "file is not a database": the store cannot be used at all */
		rc = booking_error_set(BOOKING_EUNAVAILABLE, NULL, "sqlite: cannot open the database: %s",
		                       sqlite3_errmsg(c->db));
	if (rc != 0)
		conn_close(c, NULL);
	else
		*out = c;
	return rc;
}

/* --- the pool (sys/pool.h) ------------------------------------------------ */

/*
 * Back to a state the next caller can rely on. Never "broken": with
 * `sqlite::memory:` the connection is the database.
 */
static bool pool_check(void *conn, void *payload)
{
	sq_conn *c = conn;

	(void)payload;
	/* A statement left stepping would hold a read snapshot open. */
	for (int q = 0; q < SQ_COUNT; q++)
		if (c->stmts[q][0] != NULL && sqlite3_stmt_busy(c->stmts[q][0]))
			sqlite3_reset(c->stmts[q][0]);
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	return true;
}

int sq_pool_init(sq_store *st)
{
	booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
	int rc;

	cfg.name = "sqlite";
	cfg.size = st->pool_max;
	cfg.wait_ms = st->busy_ms;
	cfg.open = conn_open;
	cfg.close = conn_close;
	cfg.check = pool_check;
	cfg.payload = st;
	rc = booking_pool_new(&st->pool, &cfg);
	if (rc != 0)
		return rc;
	if (pthread_mutex_init(&st->writer, NULL) != 0) {
		booking_pool_free(st->pool);
		st->pool = NULL;
		return booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: cannot initialise the connection pool");
	}
	return 0;
}

void sq_pool_close(sq_store *st)
{
	if (st->pool == NULL)
		return;
	booking_pool_free(st->pool);
	st->pool = NULL;
	conn_close(st->wconn, NULL);
	st->wconn = NULL;
	pthread_mutex_destroy(&st->writer);
}

int sq_acquire(sq_store *st, sq_conn **out)
{
	void *conn = NULL;
	int rc = booking_pool_acquire(&conn, st->pool);

	*out = conn;
	return rc;
}

static int lite_acquire(sql_store *st, void **conn_out)
{
	return booking_pool_acquire(conn_out, ((sq_store *)st)->pool);
}

static void lite_release(sql_store *st, void *conn)
{
	booking_pool_release(((sq_store *)st)->pool, conn, false);
}

void sq_release(sq_store *st, sq_conn *c)
{
	lite_release((sql_store *)st, c);
}

/* --- transactions --------------------------------------------------------- */

/* ROLLBACK without touching the thread's error: the failure being reported matters. */
static void rollback_quietly(sq_conn *c)
{
	sqlite3_stmt *s;

	if (sqlite3_get_autocommit(c->db))
		return;
	if (sq_stmt(c, SQ_ROLLBACK, &s) == 0) {
		sqlite3_step(s);
		sqlite3_reset(s);
	}
	if (!sqlite3_get_autocommit(c->db))
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* --- group commit ----------------------------------------------------------- */

/*
 * The writers of a process queue on the store, in arrival order. The head
 * is the leader: it takes the queue as it stands (up to SQ_BATCH_MAX
 * writers, itself first) as its batch, runs BEGIN IMMEDIATE, each member's
 * body, and one COMMIT; the writers that queue while the bodies run join
 * the batch (up to SQ_BATCH_MAX), so the more writers wait, the more one
 * commit (one WAL sync with synchronous=full) serves. Then it answers every
 * member; when writers queued meanwhile it leads their batch too, up to
 * SQ_LEAD_MAX bodies in all, and only then wakes the next head (a handoff
 * is a wakeup the store waits for). A writer alone at the start runs the
 * transaction of a lone writer (no savepoint); every other body runs inside
 * SAVEPOINT member: a body that fails is rolled back to it alone, and its
 * error reaches its own thread; the others go on. Should SQLite lose the
 * whole transaction (it rolls back by itself after an I/O error or a full
 * disk), or COMMIT fail, every member whose body had succeeded is answered
 * with that failure: none is told a change was written that was not.
 * On a file every batch runs on one connection of the store, the writer
 * connection (opened by the first leader, outside the pool): its page cache
 * stays valid from one batch to the next, where each writer's own pooled
 * connection found the file changed by another and read its pages again;
 * and its automatic checkpoint, run in the COMMIT of one leader at a time,
 * never overlaps a commit of this process (SQLite before 3.51.3 can corrupt
 * a database when a checkpoint on one connection races another's write that
 * resets the WAL: a checkpoint on a second connection beside the writer
 * corrupted a bench file within seconds). With sqlite::memory: the
 * connection is the database: each writer checks it out before it queues,
 * as before, and the leader runs the batch on its own; a thread holding it
 * (inside a callback) is still answered at once.
 */

/* A thread's error record, carried to another thread (the leader runs a follower's body). */
typedef struct sq_error_copy {
	int code;
	char message[512];
	char details[2048];
} sq_error_copy;

typedef struct sq_writer {
	sq_body_fn fn;
	void *arg;
	int rc;
	bool taken; /* in a leader's batch: it will be answered, it waits for that */
	bool done;
	pthread_cond_t wake;
	struct sq_writer *next;
	sq_error_copy error; /* the body's, when rc != 0 */
} sq_writer;

static void error_save(sq_error_copy *e)
{
	const booking_error *last = booking_error_last();

	e->code = last->code;
	snprintf(e->message, sizeof e->message, "%s", last->message != NULL ? last->message : "");
	snprintf(e->details, sizeof e->details, "%s", last->details_json != NULL ? last->details_json : "{}");
}

static void error_restore(const sq_error_copy *e)
{
	booking_error_set(e->code, e->details, "%s", e->message);
}

/* Member w failed with rc; the thread's error record is its error. */
static void member_failed(sq_writer *w, int rc)
{
	w->rc = rc;
	error_save(&w->error);
}

/* Every member of b[0..n) whose body succeeded is answered with rc, worded as the thread's error now. */
static void unwritten(sq_writer **b, size_t n, int rc)
{
	for (size_t k = 0; k < n; k++)
		if (b[k]->rc == 0)
			member_failed(b[k], rc);
}

/* The writers queued behind b[n-1] since the batch was taken join it, up to SQ_BATCH_MAX; answers its size. */
static size_t join(sq_store *st, sq_writer **b, size_t n)
{
	pthread_mutex_lock(&st->writer);
	for (sq_writer *m = b[n - 1]->next; m != NULL && n < SQ_BATCH_MAX; m = m->next) {
		m->taken = true;
		m->rc = 0;
		b[n++] = m;
	}
	pthread_mutex_unlock(&st->writer);
	return n;
}

/*
 * The batch b[0..*n) in one transaction on c, joined by the writers that
 * queue while it runs (*n grows); answers how many members were answered
 * (the rest queue on).
 */
static size_t run_batch(sq_store *st, sq_conn *c, sq_writer **b, size_t *n)
{
	int rc = sq_run(c, SQ_BEGIN_IMMEDIATE, NULL, 0, NULL);
	size_t i = 0;

	for (size_t k = 0; k < *n; k++)
		b[k]->rc = 0;
	if (rc != 0) {
		unwritten(b, *n, rc);
		return *n;
	}
	if (*n == 1) { /* alone: the transaction of a lone writer, no savepoint */
		if ((rc = b[0]->fn(c, b[0]->arg)) != 0) {
			member_failed(b[0], rc);
			rollback_quietly(c);
			return 1;
		}
		i = 1;
	}
	for (;; i++) {
		if (i == *n && (*n = join(st, b, *n)) == i)
			break;
		if ((rc = sq_run(c, SQ_MEMBER_SAVEPOINT, NULL, 0, NULL)) == 0 && (rc = b[i]->fn(c, b[i]->arg)) == 0)
			rc = sq_run(c, SQ_MEMBER_RELEASE, NULL, 0, NULL);
		if (rc == 0)
			continue;
		member_failed(b[i], rc);
		if (!sqlite3_get_autocommit(c->db) && sq_run(c, SQ_MEMBER_UNDO, NULL, 0, NULL) == 0 &&
		    sq_run(c, SQ_MEMBER_RELEASE, NULL, 0, NULL) == 0)
			continue; /* this member alone undone */
		/* the transaction is lost: the members before this one are not written; those after queue on */
		rollback_quietly(c);
		booking_error_set(BOOKING_EUNAVAILABLE, NULL, "sqlite: the write was rolled back with its batch: %s",
		                  b[i]->error.message);
		unwritten(b, i, BOOKING_EUNAVAILABLE);
		return i + 1;
	}
	if ((rc = sq_run(c, SQ_COMMIT, NULL, 0, NULL)) != 0) {
		unwritten(b, *n, rc);
		rollback_quietly(c);
	}
	return *n;
}

static void deadline_in(struct timespec *deadline, int ms)
{
	long ns;

	clock_gettime(CLOCK_REALTIME, deadline);
	ns = deadline->tv_nsec + (long)(ms % 1000) * 1000000L;
	deadline->tv_sec += ms / 1000 + ns / 1000000000L;
	deadline->tv_nsec = ns % 1000000000L;
}

/*
 * Queue w and wait, up to the busy timeout, to lead or be taken into a
 * batch (then until answered): 1 when it leads, 0 when another answered it,
 * else the failure (it never reached the head).
 */
static int queue_wait(sq_store *st, sq_writer *w)
{
	struct timespec deadline;
	bool late = false;

	deadline_in(&deadline, st->busy_ms);
	pthread_mutex_lock(&st->writer);
	if (st->queue_tail != NULL)
		st->queue_tail->next = w;
	else
		st->queue = w;
	st->queue_tail = w;
	while (!w->done && (st->queue != w || w->taken) && !late) {
		if (w->taken) /* a leader runs it: its answer comes, however long the batch takes */
			pthread_cond_wait(&w->wake, &st->writer);
		else
			late = pthread_cond_timedwait(&w->wake, &st->writer, &deadline) == ETIMEDOUT && !w->taken;
	}
	if (late && !w->done && st->queue != w) { /* out of the queue: no leader has it */
		sq_writer **at = &st->queue, *prev = NULL;

		while (*at != w) {
			prev = *at;
			at = &(*at)->next;
		}
		*at = w->next;
		if (st->queue_tail == w)
			st->queue_tail = prev;
		pthread_mutex_unlock(&st->writer);
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL,
		                         "sqlite: database is busy: no write slot after %d ms", st->busy_ms);
	}
	pthread_mutex_unlock(&st->writer);
	return w->done ? 0 : 1;
}

/* Take the queue from m, its head, as the next batch (the caller holds st->writer); answers its size. */
static size_t take_batch(sq_writer *m, sq_writer **batch)
{
	size_t n = 0;

	do {
		m->taken = true;
		batch[n++] = m;
		m = m->next;
	} while (m != NULL && n < SQ_BATCH_MAX);
	return n;
}

/*
 * w is the head: take the batch, run it, answer its members. While writers
 * queued meanwhile, lead their batch too, up to SQ_LEAD_MAX bodies in all,
 * then wake the next head. c: the leader's connection (sqlite::memory:), or
 * NULL (a file: the writer connection).
 */
static void lead(sq_store *st, sq_conn *c, sq_writer *w)
{
	sq_writer *batch[SQ_BATCH_MAX];
	sq_error_copy own;
	size_t n, answered;
	size_t led = 0;

	error_save(&own); /* the others' bodies write this thread's error record: its own is kept */
	pthread_mutex_lock(&st->writer);
	n = take_batch(w, batch); /* w is the head */
	for (;;) {
		sq_conn *on = c != NULL ? c : st->wconn;
		void *opened = NULL;
		int rc = 0;

		pthread_mutex_unlock(&st->writer);
		if (on == NULL && (rc = conn_open(&opened, st)) == 0 && opened != NULL)
			on = st->wconn = opened; /* the first leader opens the writer connection */
		if (on == NULL) {
			unwritten(batch, n, rc != 0 ? rc : BOOKING_EINTERNAL);
			answered = n;
		} else {
			answered = run_batch(st, on, batch, &n);
			if (c == NULL)
				pool_check(on, NULL);
		}

		pthread_mutex_lock(&st->writer);
		st->queue = batch[answered - 1]->next;
		if (st->queue == NULL)
			st->queue_tail = NULL;
		for (size_t k = 0; k < n; k++) {
			batch[k]->taken = k < answered ? batch[k]->taken : false;
			batch[k]->done = k < answered;
			if (k < answered && batch[k] != w)
				pthread_cond_signal(&batch[k]->wake);
		}
		led += answered;
		if (st->queue == NULL || led >= SQ_LEAD_MAX)
			break;
		n = take_batch(st->queue, batch);
	}
	if (st->queue != NULL)
		pthread_cond_signal(&st->queue->wake);
	pthread_mutex_unlock(&st->writer);
	if (w->rc == 0)
		error_restore(&own);
}

int sq_write(sq_store *st, sq_body_fn fn, void *arg)
{
	sq_conn *c = NULL;
	sq_writer w;
	int rc = st->memory ? sq_acquire(st, &c) : 0;

	if (rc != 0)
		return rc;
	w.fn = fn;
	w.arg = arg;
	w.rc = 0;
	w.taken = w.done = false;
	w.next = NULL;
	if (pthread_cond_init(&w.wake, NULL) != 0) {
		if (c != NULL)
			sq_release(st, c);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: cannot queue a write");
	}
	if ((rc = queue_wait(st, &w)) >= 0) {
		if (rc == 1)
			lead(st, c, &w);
		if ((rc = w.rc) != 0)
			error_restore(&w.error);
	}
	pthread_cond_destroy(&w.wake);
	if (c != NULL)
		sq_release(st, c);
	return rc;
}

/* --- the shared layer's driver (sql/sql.h) ------------------------------------ */

static void lite_done(sql_rows *r)
{
	if (r->res != NULL)
		sqlite3_reset(r->res);
	sq_release((sq_store *)r->st, r->conn);
}

/* The connection stays checked out, the statement stepping, until done(). */
static int lite_query(sql_store *st, sql_qid q, const sql_arg *args, size_t n, sql_rows *rows)
{
	sqlite3_stmt *s = NULL;
	sq_conn *c = NULL;
	int rc = sq_acquire((sq_store *)st, &c);

	if (rc == 0 && (rc = sq_stmt(c, (int)q, &s)) == 0)
		rc = sq_bind(c, s, args, n);
	*rows = (sql_rows){st, c, s, 0, 0};
	if (rc != 0 && c != NULL)
		lite_done(rows);
	return rc;
}

struct lite_write_arg {
	sql_qid q;
	const sql_arg *args;
	size_t n;
	int64_t *changed;
};

/* Each statement of the write in turn; the answer is what the first changed. */
static int lite_write_tx(sq_conn *c, void *arg)
{
	const struct lite_write_arg *w = arg;
	int rc = sq_run(c, (int)w->q, w->args, w->n, NULL);

	*w->changed = c->changed;
	return rc;
}

static int lite_write(sql_store *st, sql_qid q, const sql_arg *args, size_t n, int64_t *changed)
{
	struct lite_write_arg w = {q, args, n, changed};

	return sq_write((sq_store *)st, lite_write_tx, &w);
}

/* One deferred transaction: its first read fixes the snapshot every later one sees. */
static int lite_snapshot(sql_store *st, const sql_qid *qs, size_t n, int (*walk)(sql_qid q, sql_rows *rows, void *arg),
                         void *arg)
{
	sq_conn *c = NULL;
	int rc = sq_acquire((sq_store *)st, &c);

	if (rc != 0)
		return rc;
	rc = sq_exec(c, "BEGIN");
	for (size_t i = 0; i < n && rc == 0; i++) {
		sqlite3_stmt *s = NULL;

		if ((rc = sq_stmt(c, (int)qs[i], &s)) == 0) {
			sql_rows rows = {st, c, s, 0, 0};

			rc = walk(qs[i], &rows, arg);
			sqlite3_reset(rows.res);
		}
	}
	if (rc == 0)
		rc = sq_exec(c, "COMMIT");
	sq_release((sq_store *)st, c); /* on an error, the pool rolls back */
	return rc;
}

static int lite_next(sql_rows *r)
{
	int rc = sq_step(r->conn, r->res);

	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : rc;
}

static int64_t lite_i64(const sql_rows *r, int col)
{
	return (int64_t)sqlite3_column_int64(r->res, col);
}

static const char *lite_text(const sql_rows *r, int col)
{
	return (const char *)sqlite3_column_text(r->res, col);
}

const sql_driver sq_sql_driver = {lite_query,    lite_next,    lite_i64,     lite_text, lite_done,  lite_write,
                                  lite_snapshot, lite_acquire, lite_release, sq_exec,   &sq_schema, sq_kv_put};
