/*
 * libbooking tests — helpers of the SQLite suites.
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_test.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void sqt_db_init(sqt_db *db, const char *name)
{
	const char *tmp = getenv("TMPDIR");

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	snprintf(db->dir, sizeof db->dir, "%s/libbooking-sqlite-XXXXXX", tmp);
	ck_assert_msg(mkdtemp(db->dir) != NULL, "mkdtemp %s failed", db->dir);
	snprintf(db->path, sizeof db->path, "%s/%s.db", db->dir, name);
	snprintf(db->url, sizeof db->url, "sqlite://%s", db->path);
}

void sqt_db_cleanup(sqt_db *db)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char file[400];

	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		snprintf(file, sizeof file, "%s%s", db->path, suffixes[i]);
		unlink(file);
	}
	rmdir(db->dir);
}

booking_handle *sqt_open(const sqt_db *db, booking_store **store_out)
{
	booking_options opts;
	booking_handle *bk = NULL;

	booking_options_init(&opts, BOOKING_OPTIONS_VERSION);
	opts.store_url = db->url;
	opts.log_level = BOOKING_LOG_CRITICAL;
	if (store_out != NULL) {
		booking_store *st = NULL;

		sqt_assert_ok(booking_store_open(&st, db->url, opts.clock));
		opts.store = st; /* the handle owns it now */
		*store_out = st;
	}
	sqt_assert_ok(booking_open(&bk, &opts));
	return bk;
}

booking_ctx sqt_admin(void)
{
	booking_ctx ctx;

	booking_ctx_init(&ctx, "admin", BOOKING_ROLE_ADMIN);
	return ctx;
}

booking_ctx sqt_customer(const char *user_id)
{
	booking_ctx ctx;

	booking_ctx_init(&ctx, user_id, BOOKING_ROLE_CUSTOMER);
	return ctx;
}

void sqt_seed(booking_handle *bk, const char *layout, char showtime_id[BOOKING_ID_SIZE])
{
	booking_ctx admin = sqt_admin();
	booking_movie *movie = NULL;
	booking_theater *theater = NULL;
	booking_screen *screen = NULL;
	booking_showtime *showtime = NULL;
	booking_seat *seats = NULL;
	size_t seat_count = 0;
	booking_price price = {"standard", 1000};

	sqt_assert_ok(booking_movie_create(&movie, bk, &admin, "The Race", 120));
	sqt_assert_ok(booking_theater_create(&theater, bk, &admin, "Odeon", "Lyon"));
	sqt_assert_ok(booking_layout_parse(&seats, &seat_count, layout, sizeof *seats));
	sqt_assert_ok(booking_screen_create(&screen, bk, &admin, theater->id, "Screen 1", seats, seat_count, sizeof *seats));
	sqt_assert_ok(booking_showtime_create(&showtime, bk, &admin, movie->id, screen->id,
	                                      booking_now(bk) + INT64_C(86400000), "EUR", &price, 1, sizeof(booking_price)));
	memcpy(showtime_id, showtime->id, BOOKING_ID_SIZE);
	booking_showtime_free(showtime);
	booking_screen_free(screen);
	booking_free(seats);
	booking_theater_free(theater);
	booking_movie_free(movie);
}

static sqlite3 *sql_open(const char *path)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

	ck_assert_msg(rc == SQLITE_OK, "sqlite3_open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	sqlite3_busy_timeout(db, 30000);
	return db;
}

void sqt_sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path);
	char *err = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : sqlite3_errstr(rc));
	sqlite3_close(db);
}

static sqlite3_stmt *sql_row(sqlite3 *db, const char *sql, int *rc_out)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);

	ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(s);
	ck_assert_msg(rc == SQLITE_ROW || rc == SQLITE_DONE, "%s: %s", sql, sqlite3_errmsg(db));
	*rc_out = rc;
	return s;
}

int64_t sqt_sql_int(const char *path, const char *sql)
{
	sqlite3 *db = sql_open(path);
	int rc;
	sqlite3_stmt *s = sql_row(db, sql, &rc);
	int64_t v = rc == SQLITE_ROW ? (int64_t)sqlite3_column_int64(s, 0) : -1;

	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

void sqt_sql_text(const char *path, const char *sql, char *out, size_t n)
{
	sqlite3 *db = sql_open(path);
	int rc;
	sqlite3_stmt *s = sql_row(db, sql, &rc);
	const unsigned char *text = rc == SQLITE_ROW ? sqlite3_column_text(s, 0) : NULL;

	snprintf(out, n, "%s", text ? (const char *)text : "");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

size_t sqt_check_violations(booking_handle *bk)
{
	booking_check_report *r = NULL;
	size_t n;

	sqt_assert_ok(booking_check(&r, bk));
	n = r->count;
	for (size_t i = 0; i < r->count; i++)
		fprintf(stderr, "violation %d on %s: %s\n", (int)r->items[i]->invariant, r->items[i]->entity_id,
		        r->items[i]->message);
	booking_check_report_free(r);
	return n;
}

void sqt_label(int index, char out[BOOKING_LABEL_SIZE])
{
	snprintf(out, BOOKING_LABEL_SIZE, "%c%d", 'A' + index / 10, index % 10 + 1);
}
