/*
 * SQLite store (`sqlite:///path/file.db`, `sqlite::memory:`): the
 * constructor, the vtable and the integrity scan. The members live in
 * catalog.c, reservation.c, payment.c and outbox.c; connections and
 * transactions in pool.c; migrations in schema.c.
 *
 * Every write member is one BEGIN IMMEDIATE transaction (ROLLBACK on any
 * error, so nothing is written on error); reads run in one deferred
 * transaction each (one snapshot). The database runs in WAL mode with
 * synchronous=NORMAL (FULL on request), foreign keys on and a busy timeout
 * of db_pool_timeout_seconds. See sqlite_store.h for the connection model.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "sqlite_store.h"

#define SQ_DEFAULT_POOL_SIZE 10
#define SQ_DEFAULT_TIMEOUT_SECONDS 30

/* --- scan ------------------------------------------------------------------------ */

static const char SQL_SCAN_SEATS[] =
	"SELECT showtime_id, " SQ_SEAT_COLUMNS " FROM showtime_seats ORDER BY showtime_id, position";
static const char SQL_SCAN_BOOKINGS[] = "SELECT " SQ_BOOKING_COLUMNS " FROM bookings ORDER BY rowid";
static const char SQL_SCAN_PAYMENTS[] = "SELECT " SQ_PAYMENT_COLUMNS " FROM payments ORDER BY rowid";
static const char SQL_SCAN_IDEMPOTENCY[] =
	"SELECT user_id, key, payment_id, completed FROM idempotency_keys ORDER BY user_id, key";
static const char SQL_SCAN_EVENTS[] = "SELECT " SQ_EVENT_COLUMNS " FROM outbox ORDER BY position";
static const char SQL_SCAN_INBOX[] = "SELECT group_name, event_id FROM inbox ORDER BY group_name, event_id";

struct scan_arg {
	const booking_store_scan_cbs *cbs;
	void *payload;
};

static int scan_seats(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_SEATS, &s);

	while (sq_next(c, s, &rc)) {
		char showtime_id[BOOKING_ID_SIZE];
		booking_store_seat seat;

		sq_col_copy(s, 0, showtime_id, sizeof showtime_id);
		sq_seat_from_row(s, 1, &seat);
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
		booking_reservation *r;

		rc = sq_booking_from_row(c, s, &r);
		if (rc == 0) {
			rc = a->cbs->booking(r, a->payload);
			booking_free(r->seats);
			booking_free(r);
		}
	}
	sqlite3_reset(s);
	return rc;
}

static int scan_payments(sq_conn *c, struct scan_arg *a)
{
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCAN_PAYMENTS, &s);

	while (sq_next(c, s, &rc)) {
		booking_payment p;

		sq_payment_from_row(s, &p);
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
		booking_event_record ev;

		sq_event_from_row(s, &ev);
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
	struct scan_arg a = {cbs, payload};

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
	.movie_insert = sq_movie_insert,
	.movie_get = sq_movie_get,
	.movie_list = sq_movie_list,
	.theater_insert = sq_theater_insert,
	.theater_get = sq_theater_get,
	.theater_list = sq_theater_list,
	.screen_insert = sq_screen_insert,
	.screen_get = sq_screen_get,
	.showtime_insert = sq_showtime_insert,
	.showtime_get = sq_showtime_get,
	.showtime_list = sq_showtime_list,
	.seat_list = sq_seat_list,
};

static const booking_store_ledger sq_store_ledger = {
	.version = BOOKING_STORE_LEDGER_VERSION,
	.hold = sq_hold,
	.booking_get = sq_booking_get,
	.booking_list_by_user = sq_booking_list_by_user,
	.apply = sq_apply,
	.booking_list_by_status = sq_booking_list_by_status,
	.idempotency_get = sq_idempotency_get,
	.payment_get = sq_payment_get,
	.payment_list_by_status = sq_payment_list_by_status,
	.payment_attempts = sq_payment_attempts,
};

static const booking_store_outbox sq_store_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = sq_outbox_unpublished,
	.outbox_mark_published = sq_outbox_mark_published,
	.outbox_read = sq_outbox_read,
	.cursor_get = sq_cursor_get,
	.cursor_advance = sq_cursor_advance,
	.inbox_seen = sq_inbox_seen,
	.inbox_mark = sq_inbox_mark,
	.dead_letter_put = sq_dead_letter_put,
	.dead_letter_list = sq_dead_letter_list,
};

static const booking_store_users sq_store_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = sq_user_insert,
	.user_get = sq_user_get,
	.user_get_by_email = sq_user_get_by_email,
	.user_set_password_hash = sq_user_set_password_hash,
	.token_revoke = sq_token_revoke,
	.token_is_revoked = sq_token_is_revoked,
};

static void vtable_init(booking_store *v)
{
	v->version = BOOKING_STORE_VERSION;
	v->free = sq_free;
	v->migrate = sq_migrate;
	v->catalog = &sq_store_catalog;
	v->ledger = &sq_store_ledger;
	v->outbox = &sq_store_outbox;
	v->users = &sq_store_users;
	v->scan = sq_scan;
}

/*
 * SQLite is built with URI file names enabled here: a relative name that
 * starts with "file:" would be parsed as a URI, so it gets a "./" prefix.
 */
static char *path_dup(const char *path)
{
	size_t n;
	char *out;

	if (strncmp(path, "file:", 5) != 0)
		return booking_strdup(path);
	n = strlen(path);
	out = booking_malloc(n + 3);
	if (out != NULL) {
		out[0] = '.';
		out[1] = '/';
		memcpy(out + 2, path, n + 1);
	}
	return out;
}

int booking__sqlite_store_new(booking_store **out, const char *path, const booking_options *opts)
{
	sq_store *st;
	sq_conn *c;
	int rc;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}", "sqlite: no database path");
	if (sqlite3_threadsafe() == 0)
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "sqlite: the library was built without threads");
	st = booking_calloc(1, sizeof *st);
	if (st == NULL)
		return booking_error_oom();
	st->memory = strcmp(path, ":memory:") == 0;
	st->path = path_dup(path);
	if (st->path == NULL) {
		booking_free(st);
		return booking_error_oom();
	}
	st->busy_ms = 1000 * (opts != NULL && opts->db_pool_timeout_seconds > 0 ? opts->db_pool_timeout_seconds
	                                                                        : SQ_DEFAULT_TIMEOUT_SECONDS);
	st->sync_full = opts != NULL && opts->sqlite_synchronous_full != 0;
	/* One connection holds a private memory database: it is the database. */
	st->pool_max = st->memory ? 1
	                          : (size_t)(opts != NULL && opts->db_pool_size > 0 ? opts->db_pool_size
	                                                                            : SQ_DEFAULT_POOL_SIZE);
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
