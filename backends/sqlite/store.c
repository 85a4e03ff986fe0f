/*
 * SQLite store (`sqlite:///path/file.db`, `sqlite::memory:`): the
 * constructor, the vtable and the integrity scan. The writes live in
 * reservation.c, payment.c and outbox.c (hold and apply), the other writes
 * and the reads in the shared layer (sql/); connections, transactions and the shared
 * layer's driver in pool.c; migrations in schema.c.
 *
 * Every write member is one BEGIN IMMEDIATE transaction (ROLLBACK on any
 * error, so nothing is written on error); a read is one statement (one
 * snapshot), the scan one deferred transaction. The database runs in WAL mode with
 * synchronous=NORMAL (FULL on request), foreign keys on and a busy timeout
 * of pool_timeout seconds. See sqlite_store.h for the connection model.
 *
 * The URL's parameters (doc/backends.md), each optional:
 *   pool=N            connections, 1..50, default 10 (always 1 for :memory:)
 *   pool_timeout=S    wait for a free connection, and the busy timeout, in
 *                     seconds, 5..120, default 30
 *   synchronous=full  PRAGMA synchronous=FULL; "normal" (the default) NORMAL
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "sqlite_store.h"

#define SQ_DEFAULT_POOL_SIZE 10
#define SQ_DEFAULT_TIMEOUT_SECONDS 30

/* What the URL sets. */
typedef struct sq_settings {
	int pool_size;
	int pool_timeout_s;
	bool sync_full;
} sq_settings;

/* --- scan ------------------------------------------------------------------------ */

static const char SQL_SCAN_SEATS[] =
	"SELECT showtime_id, " SQL_SEAT_COLUMNS " FROM showtime_seats ORDER BY showtime_id, position";
static const char SQL_SCAN_BOOKINGS[] = SQL_BOOKINGS(SQL_LITE) " ORDER BY rowid";
static const char SQL_SCAN_PAYMENTS[] = "SELECT " SQL_PAYMENT_COLUMNS " FROM payments ORDER BY rowid";
static const char SQL_SCAN_IDEMPOTENCY[] =
	"SELECT user_id, key, payment_id, completed FROM idempotency_keys ORDER BY user_id, key";
static const char SQL_SCAN_EVENTS[] = "SELECT " SQL_EVENT_COLUMNS " FROM outbox ORDER BY position";
static const char SQL_SCAN_INBOX[] = "SELECT group_name, event_id FROM inbox ORDER BY group_name, event_id";

struct scan_arg {
	const booking_store_scan_cbs *cbs;
	void *payload;
	sql_store *st; /* the rows are read by the shared mappers (sql/sql.h) */
};

static int scan_seats(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_SEATS, &s);

	while (sq_next(c, s, &rc)) {
		const sql_rows row = {a->st, c, s, 0, 0};
		char showtime_id[BOOKING_ID_SIZE];
		booking_store_seat seat;

		sq_col_copy(s, 0, showtime_id, sizeof showtime_id);
		sql_seat_from_row(&row, 1, &seat);
		rc = a->cbs->showtime_seat(showtime_id, &seat, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_bookings(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_BOOKINGS, &s);

	while (sq_next(c, s, &rc)) {
		const sql_rows row = {a->st, c, s, 0, 0};
		booking_reservation r;

		rc = sql_booking_from_row(&row, &r);
		if (rc == 0)
			rc = a->cbs->booking(&r, a->payload);
		booking_free(r.seats);
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_payments(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_PAYMENTS, &s);

	while (sq_next(c, s, &rc)) {
		const sql_rows row = {a->st, c, s, 0, 0};
		booking_payment p;

		sql_payment_from_row(&row, &p);
		rc = a->cbs->payment(&p, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_idempotency(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_IDEMPOTENCY, &s);

	while (sq_next(c, s, &rc)) {
		booking_store_idempotency rec;

		rec.user_id = sq_col_text(s, 0);
		rec.key = sq_col_text(s, 1);
		rec.payment_id = sq_col_text(s, 2);
		rec.completed = sqlite3_column_int(s, 3) != 0;
		rc = a->cbs->idempotency(&rec, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_events(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_EVENTS, &s);

	while (sq_next(c, s, &rc)) {
		const sql_rows row = {a->st, c, s, 0, 0};
		booking_event_record ev;

		sql_event_from_row(&row, &ev);
		rc = a->cbs->event(&ev, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_inbox(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_INBOX, &s);

	while (sq_next(c, s, &rc)) {
		booking_store_inbox row;

		row.group = sq_col_text(s, 0);
		row.event_id = sq_col_text(s, 1);
		rc = a->cbs->inbox(&row, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_tx(sq_conn *c, void *arg)
{
	struct scan_arg *a = arg;
	int rc = 0;

	if (rc == 0 && a->cbs->showtime_seat != NULL)
		rc = scan_seats(c, a);
	if (rc == 0 && a->cbs->booking != NULL)
		rc = scan_bookings(c, a);
	if (rc == 0 && a->cbs->payment != NULL)
		rc = scan_payments(c, a);
	if (rc == 0 && a->cbs->idempotency != NULL)
		rc = scan_idempotency(c, a);
	if (rc == 0 && a->cbs->event != NULL)
		rc = scan_events(c, a);
	if (rc == 0 && a->cbs->inbox != NULL)
		rc = scan_inbox(c, a);
	return rc;
}

int sq_scan(booking_store *st, const booking_store_scan_cbs *cbs, void *payload)
{
	struct scan_arg a = {cbs, payload, (sql_store *)st};

	if (cbs == NULL)
		return 0;
	return sq_read((sq_store *)st, scan_tx, &a);
}

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

static const booking_store_catalog sq_store_catalog = {
	.version = BOOKING_STORE_CATALOG_VERSION,
	.movie_insert = sql_movie_insert,
	.movie_get = sql_movie_get,
	.movie_list = sql_movie_list,
	.theater_insert = sql_theater_insert,
	.theater_get = sql_theater_get,
	.theater_list = sql_theater_list,
	.screen_insert = sql_screen_insert,
	.screen_get = sql_screen_get,
	.showtime_insert = sql_showtime_insert,
	.showtime_get = sql_showtime_get,
	.showtime_list = sql_showtime_list,
	.seat_list = sql_seat_list,
};

static const booking_store_ledger sq_store_ledger = {
	.version = BOOKING_STORE_LEDGER_VERSION,
	.hold = sq_hold,
	.booking_get = sql_booking_get,
	.booking_list_by_user = sql_booking_list_by_user,
	.apply = sq_apply,
	.booking_list_by_status = sql_booking_list_by_status,
	.idempotency_get = sql_idempotency_get,
	.payment_get = sql_payment_get,
	.payment_list_by_status = sql_payment_list_by_status,
	.payment_attempts = sql_payment_attempts,
};

static const booking_store_outbox sq_store_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = sql_outbox_unpublished,
	.outbox_mark_published = sql_outbox_mark_published,
	.outbox_read = sql_outbox_read,
	.cursor_get = sql_cursor_get,
	.cursor_advance = sql_cursor_advance,
	.inbox_seen = sql_inbox_seen,
	.inbox_mark = sql_inbox_mark,
	.dead_letter_put = sql_dead_letter_put,
	.dead_letter_list = sql_dead_letter_list,
};

static const booking_store_users sq_store_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = sql_user_insert,
	.user_get = sql_user_get,
	.user_get_by_email = sql_user_get_by_email,
	.user_set_password_hash = sql_user_set_password_hash,
	.token_revoke = sql_token_revoke,
	.token_is_revoked = sql_token_is_revoked,
};

static void vtable_init(booking_store *v)
{
	((sq_store *)v)->driver = &sq_sql_driver;
	v->version = BOOKING_STORE_VERSION;
	v->free = sq_free;
	v->migrate = sq_migrate;
	v->catalog = &sq_store_catalog;
	v->ledger = &sq_store_ledger;
	v->outbox = &sq_store_outbox;
	v->users = &sq_store_users;
	v->scan = sq_scan;
}

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

static int url_synchronous(const booking_url_query *q, bool *full_out)
{
	static const char *const names[] = {"normal", "full"};
	size_t i = 0;
	int rc = booking_url_query_choice(q, names, 2, &i);
	if (rc == 0)
		*full_out = i == 1;
	return rc;
}

static int url_settings(const char *url, sq_settings *out)
{
	booking_url_query q;
	int rc;

	out->pool_size = SQ_DEFAULT_POOL_SIZE;
	out->pool_timeout_s = SQ_DEFAULT_TIMEOUT_SECONDS;
	out->sync_full = false;
	booking_url_query_init(&q, url, "store_url");
	while ((rc = booking_url_query_next(&q)) > 0) {
		if (booking_url_query_is(&q, "pool"))
			rc = booking_url_query_int(&q, 1, 50, &out->pool_size);
		else if (booking_url_query_is(&q, "pool_timeout"))
			rc = booking_url_query_int(&q, 5, 120, &out->pool_timeout_s);
		else if (booking_url_query_is(&q, "synchronous"))
			rc = url_synchronous(&q, &out->sync_full);
		else
			rc = booking_url_query_unknown(&q, "pool, pool_timeout, synchronous");
		if (rc < 0)
			return rc;
	}
	return rc;
}

/*
 * SQLite is built with URI file names enabled here: a relative name that
 * starts with "file:" would be parsed as a URI, so it gets a "./" prefix.
 */
static char *path_dup(const char *path, size_t n)
{
	bool uri = n >= 5 && has_prefix(path, "file:");
	char *out = booking_malloc(n + (uri ? 3 : 1));
	if (out != NULL) {
		size_t at = 0;
		if (uri) {
			out[at++] = '.';
			out[at++] = '/';
		}
		memcpy(out + at, path, n);
		out[at + n] = '\0';
	}
	return out;
}

int booking__sqlite_store_new(booking_store **out, const char *url)
{
	sq_store *st;
	sq_conn *c;
	sq_settings set;
	const char *path = NULL;
	size_t path_len = 0;
	int rc;

	*out = NULL;
	if (url == NULL || !has_prefix(url, "sqlite:"))
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}", "sqlite: not a sqlite: URL");
	if ((rc = url_path(url, &path, &path_len)) < 0 || (rc = url_settings(url, &set)) < 0)
		return rc;
	if (sqlite3_threadsafe() == 0)
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "sqlite: the library was built without threads");
	st = booking_calloc(1, sizeof *st);
	if (st == NULL)
		return booking_error_oom();
	st->path = path_dup(path, path_len);
	if (st->path == NULL) {
		booking_free(st);
		return booking_error_oom();
	}
	st->memory = strcmp(st->path, ":memory:") == 0;
	st->busy_ms = 1000 * set.pool_timeout_s;
	st->sync_full = set.sync_full;
	/* One connection holds a private memory database: it is the database. */
	st->pool_max = st->memory ? 1 : (size_t)set.pool_size;
	rc = sq_pool_init(st);
	if (rc != 0) {
		booking_free(st->path);
		booking_free(st);
		return rc;
	}
	vtable_init(&st->parent);
	/* Open one connection now: a bad path fails here, not on first use. */
	rc = sq_acquire(st, &c);
	if (rc != 0) {
		sq_free(&st->parent);
		return rc;
	}
	sq_release(st, c);
	*out = &st->parent;
	return 0;
}
