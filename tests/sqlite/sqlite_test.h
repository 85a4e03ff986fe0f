/*
 * libbooking tests — helpers of the SQLite suites: a scratch database
 * file, a handle on it, a seeded showtime, and direct SQL on the file.
 *
 * These suites use the public API (and booking/sys/store.h for raw reads);
 * they run on the real system clock because several processes share one
 * database file.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SQLITE_TEST_H
#define BOOKING_SQLITE_TEST_H

#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <check.h>
#include <stdint.h>
#include <string.h>

/* A scratch directory holding one database file. */
typedef struct sqt_db {
	char dir[256];
	char path[320]; /* <dir>/<name>.db */
	char url[340];  /* sqlite://<path> */
} sqt_db;

/* Create a fresh directory under $TMPDIR (or /tmp) for `name`.db. */
void sqt_db_init(sqt_db *db, const char *name);
/* Remove the database, its -wal/-shm/-journal files and the directory. */
void sqt_db_cleanup(sqt_db *db);

/*
 * Open a handle on the file (migrating it). Logging is silenced. When
 * `store_out` is not NULL it receives a borrowed pointer to the handle's
 * store (the test opens the store itself and hands it over) for raw reads.
 */
booking_handle *sqt_open(const sqt_db *db, booking_store **store_out);

/* Seed a movie, theater, screen `layout` and a showtime tomorrow; writes its id. */
void sqt_seed(booking_handle *bk, const char *layout, char showtime_id[BOOKING_ID_SIZE]);

booking_ctx sqt_admin(void);
booking_ctx sqt_customer(const char *user_id);

/* Run one SQL statement on the file with a separate sqlite3 connection. */
void sqt_sql_exec(const char *path, const char *sql);
/* The first column of the first row of `sql` as an integer (-1 when no row). */
int64_t sqt_sql_int(const char *path, const char *sql);
/* The first column of the first row of `sql` as text into out ("" when no row). */
void sqt_sql_text(const char *path, const char *sql, char *out, size_t n);

/* Number of violations booking_check() reports (each printed to stderr). */
size_t sqt_check_violations(booking_handle *bk);

/* A label of a layout "A-?:10" by index: 0 → A1, 13 → B4. */
void sqt_label(int index, char out[BOOKING_LABEL_SIZE]);

/* Assert success, printing the last error otherwise. */
#define sqt_assert_ok(rc)                                                                                   \
	do {                                                                                                    \
		int sqt_rc_ = (rc);                                                                                 \
		ck_assert_msg(sqt_rc_ == 0, "expected success, got %s (%d): %s", booking_error_name(sqt_rc_),     \
		              sqt_rc_, booking_error_last()->message);                                              \
	} while (0)

/* Assert the code, printing the last error otherwise. */
#define sqt_assert_code(rc, code)                                                                           \
	do {                                                                                                    \
		int sqt_rc_ = (rc);                                                                                 \
		ck_assert_msg(sqt_rc_ == (code), "expected %s, got %s (%d): %s", booking_error_name(code),         \
		              booking_error_name(sqt_rc_), sqt_rc_,                                                 \
		              sqt_rc_ ? booking_error_last()->message : "no error");                               \
	} while (0)

#endif
