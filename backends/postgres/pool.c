/*
 * PostgreSQL store — the connection pool, prepared queries (their
 * arguments sql_arg, sql/sql.h), results, and the mapping of SQLSTATEs onto booking errors.
 *
 * Connections are pooled by sys/pool.h: opened lazily, up to the URL's
 * pool=N; a caller waits up to pool_timeout=S for a free one, then gets
 * BOOKING_EUNAVAILABLE.
 * Each connection prepares a query the first time it runs it (PQprepare
 * once per connection, PQexecPrepared after). A lost connection is marked
 * broken, closed when released and replaced by a new one, so the caller
 * that saw the loss gets BOOKING_EUNAVAILABLE and the next call works again.
 *
 * A write whose reply was lost has an unknown outcome. It is settled, not
 * guessed: on a fresh connection the lost session is ended first (so its
 * transaction can no longer commit behind our back), then the write's
 * resolver looks for its effect (the reservation, the event, the idempotency
 * record it created) and the caller answers accordingly.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Attempts of a transaction that lost a deadlock or a serialisation race. */
#define PG_ATTEMPTS 4

/* ------------------------------------------------------------------------
 * Results.
 * ------------------------------------------------------------------------ */

int64_t pg_i64(const PGresult *r, int row, int col)
{
	const char *v = PQgetvalue(r, row, col); /* "" for NULL */

	return v[0] == 't' ? 1 : (int64_t)strtoll(v, NULL, 10);
}

/* ------------------------------------------------------------------------
 * Errors.
 * ------------------------------------------------------------------------ */

/* The first line of a libpq message, without its newline. */
static void first_line(char *dst, size_t size, const char *msg)
{
	size_t n = 0;
	if (!msg)
		msg = "";
	while (msg[n] && msg[n] != '\n' && n + 1 < size)
		n++;
	memcpy(dst, msg, n);
	dst[n] = '\0';
}

static bool connection_lost_state(const char *state)
{
	/* 08: connection exception; 57P01..57P03: admin/crash shutdown, cannot connect now */
	return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
	       strcmp(state, "57P03") == 0;
}

int pg_error(pg_conn *c, const PGresult *r, const char *what)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[300];

	c->retry = false;
	first_line(msg, sizeof msg, primary ? primary : (c->conn ? PQerrorMessage(c->conn) : "no connection"));
	if (!c->conn || PQstatus(c->conn) == CONNECTION_BAD || !state || connection_lost_state(state)) {
		c->broken = true;
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: connection lost (%s): %s", what, msg);
	}
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
		c->retry = true;
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: %s: %s (retried %d times)", what, msg,
		                         PG_ATTEMPTS - 1);
	}
	if (strcmp(state, "0A000") == 0 && strstr(msg, "cached plan")) {
		/* the schema changed under a prepared statement: prepare again on a new session */
		c->broken = true;
		c->retry = true;
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: %s: %s", what, msg);
	}
	if (strcmp(state, PG_HOLD_RECHECK) == 0)
		return PG_RECHECK; /* not an error: the caller asks again (reservation.c) */
	if (strcmp(state, "57014") == 0)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: %s: statement timeout", what);
	if (strncmp(state, "53", 2) == 0 || strcmp(state, "55P03") == 0 || strcmp(state, "55006") == 0)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: %s: %s", what, msg);
	if (strcmp(state, "23505") == 0) {
		const char *constraint = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
		return booking_error_set(BOOKING_EEXISTS, NULL, "%s: already exists (%s)", what,
		                         constraint ? constraint : "unique");
	}
	return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: %s: %s (SQLSTATE %s)", what, msg, state);
}

/* ------------------------------------------------------------------------
 * Connections.
 * ------------------------------------------------------------------------ */

static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message; /* "relation already exists, skipping" and the like: not for the host's stderr */
}

static int conn_connect(pg_store *st, pg_conn *c)
{
	if (c->conn)
		PQfinish(c->conn);
	memset(c, 0, sizeof *c); /* a new session: nothing prepared, not broken */
	c->conn = PQconnectdbParams(st->keywords, st->values, 1);
	if (!c->conn)
		return booking_error_oom();
	if (PQstatus(c->conn) != CONNECTION_OK) {
		char msg[300];
		first_line(msg, sizeof msg, PQerrorMessage(c->conn));
		PQfinish(c->conn);
		c->conn = NULL;
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "postgresql: cannot connect: %s", msg);
	}
	PQsetNoticeProcessor(c->conn, quiet_notices, NULL);
	c->pid = PQbackendPID(c->conn);
	/* who this session is, so a lost write can be settled by ending exactly this session */
	PGresult *r = PQexec(c->conn, "SELECT backend_start::text FROM pg_stat_activity WHERE pid = pg_backend_pid()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		snprintf(c->started, sizeof c->started, "%s", PQgetvalue(r, 0, 0));
	} else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = pg_error(c, r, "connect");
		PQclear(r);
		return rc;
	}
	PQclear(r);
	return 0;
}

static void pool_close(void *conn, void *payload)
{
	pg_conn *c = conn;
	(void)payload;
	if (c->conn)
		PQfinish(c->conn);
	booking_free(c);
}

/* The pool (sys/pool.h) opens a pg_conn per slot, connected. */
static int pool_open(void **conn_out, void *payload)
{
	pg_conn *c = booking_calloc(1, sizeof *c);
	if (!c)
		return booking_error_oom();
	int rc = conn_connect(payload, c);
	if (rc < 0) {
		pool_close(c, NULL);
		return rc;
	}
	*conn_out = c;
	return 0;
}

/* Roll back what the caller left open; a session that cannot be trusted is replaced. */
static bool pool_check(void *conn, void *payload)
{
	pg_conn *c = conn;
	(void)payload;
	if (!c->conn || c->broken || PQstatus(c->conn) != CONNECTION_OK)
		return false;
	PGTransactionStatusType ts = PQtransactionStatus(c->conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
		PGresult *r = PQexec(c->conn, "ROLLBACK");
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		return ok;
	}
	return ts == PQTRANS_IDLE;
}

int pg_pool_init(pg_store *st, size_t size, int64_t wait_ms)
{
	booking_pool_config cfg = BOOKING_POOL_CONFIG_INIT;
	cfg.name = "postgresql";
	cfg.size = size;
	cfg.wait_ms = wait_ms;
	cfg.open = pool_open;
	cfg.close = pool_close;
	cfg.check = pool_check;
	cfg.payload = st;
	return booking_pool_new(&st->pool, &cfg);
}

int pg_acquire(pg_store *st, pg_conn **out)
{
	void *conn = NULL;
	int rc = booking_pool_acquire(&conn, st->pool);
	*out = conn;
	if (rc < 0)
		return rc;
	(*out)->retry = false;
	(*out)->sent = false;
	return 0;
}

void pg_release(pg_store *st, pg_conn *c)
{
	bool broken = c->broken;
	booking_pool_release(st->pool, c, broken);
	/*
	 * A lost session usually means the server restarted or terminated
	 * backends: the idle sessions are most likely gone too. Close them, so
	 * the next callers connect afresh instead of each failing once on one.
	 */
	if (broken)
		booking_pool_close_idle(st->pool);
}

/* ------------------------------------------------------------------------
 * Executing.
 * ------------------------------------------------------------------------ */

static bool is_prepared(const pg_conn *c, pg_query_id id)
{
	return (c->prepared[id / 64] >> (id % 64)) & 1u;
}

static int pg_exec(pg_conn *c, const pg_query *q, const sql_arg *args, size_t n, PGresult **res)
{
	const char *v[PG_MAX_PARAMS];
	char num[PG_MAX_PARAMS][24];
	Oid types[PG_MAX_PARAMS];
	char name[16];
	*res = NULL;
	c->sent = false;
	if (n > PG_MAX_PARAMS)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "postgresql: %zu parameters", n);
	for (size_t i = 0; i < n; i++) {
		/* int8, json, text, or unknown: an array literal, typed by its cast (the OIDs of pg_type.h) */
		types[i] = args[i].type == 'i' ? 20 : args[i].type == 'j' ? 114 : args[i].type == 'a' ? 0 : 25;
		v[i] = args[i].text;
		if (args[i].type == 'i') {
			snprintf(num[i], sizeof num[i], "%lld", (long long)args[i].i64);
			v[i] = num[i];
		}
	}
	snprintf(name, sizeof name, "bk%d", (int)q->id);
	if (!is_prepared(c, q->id)) {
		PGresult *r = PQprepare(c->conn, name, q->sql, (int)n, types);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			int rc = pg_error(c, r, "prepare");
			PQclear(r);
			return rc;
		}
		PQclear(r);
		c->prepared[q->id / 64] |= (uint64_t)1 << (q->id % 64);
	}
	c->sent = true;
	PGresult *r = PQexecPrepared(c->conn, name, (int)n, v, NULL, NULL, 0);
	ExecStatusType s = PQresultStatus(r);
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		*res = r;
		return 0;
	}
	int rc = pg_error(c, r, "query");
	PQclear(r);
	return rc;
}

int pg_exec_sql(pg_conn *c, const char *sql, PGresult **res)
{
	PGresult *r = PQexec(c->conn, sql);
	ExecStatusType s = PQresultStatus(r);
	if (res)
		*res = NULL;
	if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return 0;
	}
	int rc = pg_error(c, r, "statement");
	PQclear(r);
	return rc;
}

static const pg_query Q_END_SESSION = {PGQ_END_SESSION, "SELECT booking_end_session($1::integer, $2::text)"};

/*
 * The connection broke while a write was on the wire. Reconnect, end the
 * old session (waiting until it is gone, so its transaction either
 * committed already or never will), then ask the resolver.
 */
static int settle(pg_store *st, pg_conn *c, const pg_query *q, const pg_resolver *resolve)
{
	int old_pid = c->pid;
	char started[sizeof c->started];
	memcpy(started, c->started, sizeof started);

	if (conn_connect(st, c) < 0)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL,
		                         "postgresql: connection lost during a write and the server cannot be reached: "
		                         "its outcome is unknown");
	int rc = 0;
	if (old_pid && started[0]) {
		const sql_arg a[] = {SQL_I(old_pid), SQL_T(started)};
		PGresult *r = NULL;
		rc = pg_exec(c, &Q_END_SESSION, a, 2, &r);
		if (rc == 0 && !(PQntuples(r) == 1 && pg_i64(r, 0, 0) == 1))
			rc = -1;
		PQclear(r);
	}
	if (rc == 0 && resolve->q == NULL)
		rc = -1;
	if (rc == 0) {
		PGresult *r = NULL;
		if ((rc = pg_exec(c, resolve->q, resolve->args, resolve->n, &r)) == 0)
			rc = resolve->q->id == q->id || PQntuples(r) > 0;
		PQclear(r);
	}
	if (rc == 1)
		return PG_COMMITTED;
	if (rc == 0)
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL,
		                         "postgresql: connection lost; the change was not applied (retry)");
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL,
	                         "postgresql: connection lost during a write; its outcome is unknown");
}

static void backoff(int attempt)
{
	struct timespec now, ts;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* 2, 4, 8 ms plus up to as much again of jitter (from the clock: no shared state) */
	long base = 2000000L << attempt;
	ts.tv_sec = 0;
	ts.tv_nsec = base + (long)((unsigned long)now.tv_nsec % (unsigned long)base);
	nanosleep(&ts, NULL);
}

int pg_run(pg_store *st, const pg_query *q, const sql_arg *args, size_t n, PGresult **res, const pg_resolver *resolve)
{
	*res = NULL;
	for (int attempt = 0;; attempt++) {
		pg_conn *c;
		int rc = pg_acquire(st, &c);
		if (rc < 0)
			return rc;
		rc = pg_exec(c, q, args, n, res);
		if (rc < 0 && c->broken && !c->retry && c->sent && resolve)
			rc = settle(st, c, q, resolve);
		bool again = rc < 0 && c->retry && attempt + 1 < PG_ATTEMPTS;
		pg_release(st, c);
		if (!again)
			return rc;
		backoff(attempt);
	}
}

/* ------------------------------------------------------------------------
 * The shared layer's driver (sql/sql.h): a statement is prepared once per
 * connection with its parameters' types, run in one round trip, and its
 * connection given back before the rows are walked.
 * ------------------------------------------------------------------------ */

static const char *const pg_texts[SQLQ_COUNT] = SQL_TEXTS(SQL_PG);
static const sql_qid pg_resolvers[SQLQ_COUNT] = SQL_RESOLVERS;

static int pgd_query(sql_store *st, sql_qid q, const sql_arg *args, size_t n, sql_rows *rows)
{
	const pg_query pq = {(pg_query_id)(PGQ_COUNT + q), pg_texts[q]};
	PGresult *r = NULL;
	int rc = pg_run((pg_store *)st, &pq, args, n, &r, NULL);

	*rows = (sql_rows){st, NULL, r, -1, r ? PQntuples(r) : 0};
	return rc;
}

static int pgd_write(sql_store *st, sql_qid q, const sql_arg *args, size_t n, int64_t *changed)
{
	const pg_query pq = {(pg_query_id)(PGQ_COUNT + q), pg_texts[q]};
	/*
	 * The write's resolver with the write's arguments, prepared under a name
	 * of its own: the plain read of the same text takes fewer parameters.
	 */
	const pg_query rq = {(pg_query_id)(PGQ_COUNT + SQLQ_COUNT + pg_resolvers[q]), pg_texts[pg_resolvers[q]]};
	const pg_resolver resolve = {&rq, args, n};
	PGresult *r = NULL;
	int rc = pg_run((pg_store *)st, &pq, args, n, &r, &resolve);

	*changed = rc == PG_COMMITTED ? 1 : r != NULL ? strtoll(PQcmdTuples(r), NULL, 10) : 0;
	PQclear(r);
	return rc == PG_COMMITTED ? 0 : rc;
}

static const pg_query Q_OUTBOX_SEQUENCE = {PGQ_OUTBOX_SEQUENCE, "SELECT booking_outbox_sequence()"};

/* Every result read in one REPEATABLE READ snapshot, the connection given back, then the rows walked. */
static int pgd_snapshot(sql_store *base, const sql_qid *qs, size_t n, int (*walk)(sql_qid q, sql_rows *rows, void *arg),
                        void *arg)
{
	pg_store *st = (pg_store *)base;
	PGresult *res[SQL_SNAPSHOT_MAX] = {NULL};
	pg_conn *c;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (qs[i] == SQLQ_SCAN_EVENTS) { /* number what committed so far (schema.c) */
			PGresult *r = NULL;
			rc = pg_run(st, &Q_OUTBOX_SEQUENCE, NULL, 0, &r, NULL);
			PQclear(r);
		}
	if (rc == 0 && (rc = pg_acquire(st, &c)) == 0) {
		rc = pg_exec_sql(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = pg_exec_sql(c, pg_texts[qs[i]], &res[i]);
		if (rc == 0)
			rc = pg_exec_sql(c, "COMMIT", NULL);
		pg_release(st, c);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		sql_rows rows = {base, NULL, res[i], -1, PQntuples(res[i])};
		rc = walk(qs[i], &rows, arg);
	}
	for (size_t i = 0; i < n; i++)
		PQclear(res[i]);
	return rc;
}

static int pgd_next(sql_rows *r)
{
	return ++r->row < r->count;
}

static int64_t pgd_i64(const sql_rows *r, int col)
{
	return pg_i64(r->res, r->row, col);
}

static const char *pgd_text(const sql_rows *r, int col)
{
	return PQgetvalue(r->res, r->row, col);
}

static void pgd_done(sql_rows *r)
{
	PQclear(r->res);
}

static int pgd_acquire(sql_store *st, void **conn_out)
{
	pg_conn *c = NULL;
	int rc = pg_acquire((pg_store *)st, &c);

	*conn_out = c;
	return rc;
}

static void pgd_release(sql_store *st, void *conn)
{
	pg_release((pg_store *)st, conn);
}

static int pgd_exec(void *conn, const char *sql)
{
	return pg_exec_sql(conn, sql, NULL);
}

const sql_driver pg_sql_driver = {pgd_query,    pgd_next,    pgd_i64,     pgd_text, pgd_done,   pgd_write,
                                  pgd_snapshot, pgd_acquire, pgd_release, pgd_exec, &pg_schema, pg_kv_put};
