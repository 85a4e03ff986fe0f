/*
 * SQLite store — schema migrations: a new file migrates to the current
 * version, a second migrate changes nothing, a file written by a newer
 * libbooking is refused, and processes migrating one new file at once all
 * succeed.
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* The schema version this libbooking writes, learnt from a scratch file. */
static int current_version(void)
{
	sqt_db db;
	booking_store *st = NULL;
	int version = -1;

	sqt_db_init(&db, "probe");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	sqt_db_cleanup(&db);
	ck_assert_int_ge(version, 1);
	return version;
}

/*
 * Turn a file of the current version back into one that version 10 left:
 * each reservation's seats rows of booking_seats again (as version 1 made
 * the table), in their order, the bookings without the seats column.
 */
static void as_version_10(const char *path)
{
	sqt_sql_exec(path, "BEGIN;"
	                   "CREATE TABLE booking_seats (booking_id TEXT NOT NULL REFERENCES bookings(id),"
	                   " position INTEGER NOT NULL, label TEXT NOT NULL,"
	                   " PRIMARY KEY (booking_id, position)) WITHOUT ROWID;"
	                   "INSERT INTO booking_seats SELECT b.id, j.key, j.value FROM bookings AS b, json_each(b.seats) AS j;"
	                   "ALTER TABLE bookings DROP COLUMN seats;"
	                   "DELETE FROM schema_migrations WHERE version >= 11;"
	                   "PRAGMA user_version = 10;"
	                   "COMMIT");
}

/*
 * Turn a file of the current version back into one that version 5 left,
 * so an older file's migrations run again: version 6's columns, its
 * seat statuses and its idempotency_keys table (with the reference to
 * payments) as they were, its index undone, the versions after 5 forgotten.
 */
static void as_version_5(const char *path)
{
	as_version_10(path);
	sqt_sql_exec(path, "BEGIN;"
	                   "ALTER TABLE screen_seats DROP COLUMN seat_column;"
	                   "CREATE TABLE seats_v5 ("
	                   " showtime_id text NOT NULL REFERENCES showtimes (id), label text NOT NULL,"
	                   " category text NOT NULL, position integer NOT NULL,"
	                   " status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)), booking_id text,"
	                   " hold_until bigint NOT NULL DEFAULT 0, version bigint NOT NULL DEFAULT 0,"
	                   " PRIMARY KEY (showtime_id, label)) WITHOUT ROWID;"
	                   "INSERT INTO seats_v5 SELECT showtime_id, label, category, position, status, booking_id,"
	                   " hold_until, version FROM showtime_seats;"
	                   "DROP TABLE showtime_seats;"
	                   "ALTER TABLE seats_v5 RENAME TO showtime_seats;"
	                   "CREATE UNIQUE INDEX showtime_seats_position ON showtime_seats (showtime_id, position);"
	                   "CREATE TABLE keys_v5 ("
	                   " user_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,"
	                   " payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),"
	                   " completed INTEGER NOT NULL DEFAULT 0, replay_error INTEGER NOT NULL DEFAULT 0,"
	                   " created_at INTEGER NOT NULL, PRIMARY KEY (user_id, key)) WITHOUT ROWID;"
	                   "INSERT INTO keys_v5 SELECT * FROM idempotency_keys;"
	                   "DROP TABLE idempotency_keys;"
	                   "ALTER TABLE keys_v5 RENAME TO idempotency_keys;"
	                   "DROP INDEX bookings_showtime;"
	                   "CREATE INDEX bookings_showtime ON bookings(showtime_id);"
	                   "DELETE FROM schema_migrations WHERE version >= 6;"
	                   "PRAGMA user_version = 5;"
	                   "COMMIT");
}

START_TEST(new_file_migrates_to_the_current_version)
{
	sqt_db db;
	booking_store *st = NULL;
	int version = -1, expected = current_version();

	sqt_db_init(&db, "fresh");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	ck_assert_int_eq(version, expected);
	st->free(st);

	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT max(version) FROM schema_migrations"), expected);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM schema_migrations"), expected);
	ck_assert_int_eq(sqt_sql_int(db.path, "PRAGMA user_version"), expected);
	ck_assert_int_eq(sqt_sql_int(db.path,
	                             "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
	                             "('movies','theaters','screens','screen_seats','showtimes','showtime_prices',"
	                             "'showtime_seats','bookings','payments','idempotency_keys',"
	                             "'outbox','consumer_cursors','inbox','dead_letters')"),
	                 14);
	/* a reservation's seats are a column of its row (version 11), no table of their own */
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE name = 'booking_seats'"), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_table_info('bookings') WHERE name = 'seats'"),
	                 1);
	sqt_db_cleanup(&db);
}
END_TEST

START_TEST(migrate_twice_changes_nothing)
{
	sqt_db db;
	booking_store *st = NULL;
	int first = -1, second = -1;
	int64_t objects;

	sqt_db_init(&db, "twice");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&first, st));
	st->free(st);
	objects = sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master");

	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&second, st));
	sqt_assert_ok(st->migrate(NULL, st));
	st->free(st);
	ck_assert_int_eq(first, second);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM schema_migrations"), first);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master"), objects);
	sqt_db_cleanup(&db);
}
END_TEST

START_TEST(data_survives_reopening_and_migrating_again)
{
	sqt_db db;
	booking_ctx admin = sqt_admin();
	booking_movie *m = NULL, *again = NULL;
	booking_handle *bk;

	sqt_db_init(&db, "reopen");
	bk = sqt_open(&db, NULL);
	sqt_assert_ok(booking_movie_create(&m, bk, &admin, "Kept", 90));
	booking_close(bk);
	bk = sqt_open(&db, NULL);
	sqt_assert_ok(booking_movie_get(&again, bk, &admin, m->id));
	ck_assert_str_eq(again->title, "Kept");
	booking_movie_free(again);
	booking_movie_free(m);
	booking_close(bk);
	sqt_db_cleanup(&db);
}
END_TEST

/*
 * Security item 2: schema version 4 erases the unkeyed SHA-256 request
 * fingerprints earlier versions stored (a card number could be brute-forced
 * back from them) and keeps keyed ones.
 */
START_TEST(migration_4_erases_unkeyed_payment_fingerprints)
{
	sqt_db db;
	booking_store *st = NULL;
	int version = -1;

	sqt_db_init(&db, "erase");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	sqt_sql_exec(db.path, "INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, completed,"
	                      " replay_error, created_at) VALUES ('u1', 'k-old',"
	                      " '5d41402abc4b2a76b9719d911017c5925d41402abc4b2a76b9719d911017c592', 'p1', 1, 0, 0),"
	                      " ('u1', 'k-new', 'hmac-sha256:00ff', 'p2', 1, 0, 0)");
	sqt_sql_exec(db.path, "INSERT INTO revoked_tokens (jti, expires_at) VALUES ('jti-1', 1000)");
	/* as a version 3 database: the version 4 script (and those after it) run again */
	as_version_5(db.path);
	sqt_sql_exec(db.path, "DELETE FROM schema_migrations WHERE version >= 4");
	sqt_sql_exec(db.path, "PRAGMA user_version = 3");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	ck_assert_int_eq(version, current_version());
	st->free(st);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM idempotency_keys WHERE key = 'k-old'"
	                                      " AND request_hash = 'erased'"),
	                 1);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM idempotency_keys WHERE key = 'k-new'"
	                                      " AND request_hash = 'hmac-sha256:00ff'"),
	                 1);
	/* a revocation kept until exp is kept until exp + the largest leeway */
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT expires_at FROM revoked_tokens WHERE jti = 'jti-1'"), 301000);
	/* the erased bytes are gone from the files, not only from the row */
	char wal[400];
	snprintf(wal, sizeof(wal), "%s-wal", db.path);
	const char *files[] = {db.path, wal};
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "rb");
		if (!f)
			continue; /* no WAL left */
		static char buf[1 << 20];
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		ck_assert_msg(memmem(buf, n, "5d41402abc4b2a76b9719d911017c592", 32) == NULL, "the old digest is in %s",
		              files[i]);
	}
	sqt_db_cleanup(&db);
}
END_TEST

/* Indexes whose definition names a state: WHERE status = N. */
static const char SQL_STATE_INDEXES[] =
	"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE status%'";
static const char SQL_STATUS_INDEXES[] =
	"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
	" ('bookings_status_expiry', 'payments_status_created', 'payments_user_status', 'payments_booking_status')";

/*
 * Issue 11: no state of the domain in the schema. Version 5 replaces the
 * partial indexes that named states (PENDING reservations, PROCESSING and
 * FAILED payments) with indexes led by status, on a new file and on one
 * that version 4 left.
 */
START_TEST(migration_5_replaces_the_indexes_that_named_states)
{
	sqt_db db;
	booking_store *st = NULL;
	int version = -1;

	sqt_db_init(&db, "stateidx");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	ck_assert_int_eq(sqt_sql_int(db.path, SQL_STATE_INDEXES), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, SQL_STATUS_INDEXES), 4);

	/* as version 4 left a file: the partial indexes, and nothing of version 5 */
	as_version_5(db.path);
	sqt_sql_exec(db.path, "DROP INDEX bookings_status_expiry");
	sqt_sql_exec(db.path, "DROP INDEX payments_status_created");
	sqt_sql_exec(db.path, "DROP INDEX payments_user_status");
	sqt_sql_exec(db.path, "DROP INDEX payments_booking_status");
	sqt_sql_exec(db.path, "CREATE INDEX payments_booking ON payments(booking_id)");
	sqt_sql_exec(db.path, "CREATE INDEX bookings_pending_due ON bookings(expires_at) WHERE status = 1");
	sqt_sql_exec(db.path, "CREATE INDEX payments_processing ON payments(created_at) WHERE status = 1");
	sqt_sql_exec(db.path, "CREATE INDEX payments_user_failed ON payments(user_id, created_at) WHERE status = 3");
	sqt_sql_exec(db.path, "DELETE FROM schema_migrations WHERE version >= 5");
	sqt_sql_exec(db.path, "PRAGMA user_version = 4");
	ck_assert_int_eq(sqt_sql_int(db.path, SQL_STATE_INDEXES), 3);
	ck_assert_int_eq(sqt_sql_int(db.path, SQL_STATUS_INDEXES), 0);

	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	ck_assert_int_eq(version, current_version());
	st->free(st);
	ck_assert_int_eq(sqt_sql_int(db.path, SQL_STATE_INDEXES), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, SQL_STATUS_INDEXES), 4);
	sqt_db_cleanup(&db);
}
END_TEST

/* The schema of a file as text: every table and index, by name. */
static const char SQL_SCHEMA_TEXT[] =
	"SELECT group_concat(type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, ''), char(10))"
	" FROM (SELECT * FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name)";

/* A version 5 file's rows: a screen of two seats, a showtime with A1 held and A2 sold by b1, its payment and key. */
static const char SQL_V5_ROWS[] =
	"INSERT INTO movies VALUES ('m1', 'Kept', 90, 1);"
	"INSERT INTO theaters VALUES ('t1', 'Odeon', 'Lyon', 1);"
	"INSERT INTO screens VALUES ('s1', 't1', 'Screen 1', 1);"
	"INSERT INTO screen_seats VALUES ('s1', 0, 'A1', 'standard'), ('s1', 1, 'A2', 'standard');"
	"INSERT INTO showtimes VALUES ('sh1', 'm1', 's1', 86400000, 'EUR', 1, 1);"
	"INSERT INTO showtime_prices VALUES ('sh1', 0, 'standard', 1000);"
	"INSERT INTO showtime_seats VALUES ('sh1', 'A1', 'standard', 0, 1, 'b1', 5000, 3),"
	" ('sh1', 'A2', 'standard', 1, 2, 'b1', 0, 4);"
	"INSERT INTO bookings VALUES ('b1', 'u1', 'sh1', 1, 1, 2, 2000, 'EUR', 10, 5000, 10, 1);"
	"INSERT INTO booking_seats VALUES ('b1', 0, 'A2'), ('b1', 1, 'A1');"
	"INSERT INTO payments VALUES ('p1', 'b1', 'u1', 1, 2000, 'EUR', '4242', '', '', 0, 11, 11);"
	"INSERT INTO idempotency_keys VALUES ('u1', 'k1', 'hmac-sha256:00ff', 'p1', 1, 0, 11)";

static int first_reservation(const booking_reservation *r, void *payload)
{
	booking_reservation *out = payload;

	ck_assert_uint_eq(r->seat_count, 2);
	*out = *r;
	out->seats = NULL;
	ck_assert_str_eq(r->seats[0]->label, "A2");
	ck_assert_int_eq(r->seats[0]->position, 1);
	ck_assert_str_eq(r->seats[1]->label, "A1");
	ck_assert_int_eq(r->seats[1]->position, 0);
	return 0;
}

static int seat_row(const booking_store_seat *seat, void *payload)
{
	booking_store_seat *seats = payload;

	seats[seat->label[1] - '1'] = *seat;
	return 0;
}

/* The seat rows of a three-seat showtime by position: A1, A2, A-3. */
static int seat_row3(const booking_store_seat *seat, void *payload)
{
	booking_store_seat *seats = payload;

	seats[strcmp(seat->label, "A-3") == 0 ? 2 : seat->label[1] - '1'] = *seat;
	return 0;
}

/*
 * The box office (version 6): a file that version 5 left keeps every row,
 * its seats gain an empty note and its screen seats column 0, a hold's key
 * may name a reservation, a seat may be BLOCKED; and the upgraded file's
 * schema is the new file's.
 */
START_TEST(migration_6_keeps_the_rows_and_gives_the_new_files_schema)
{
	sqt_db fresh, db;
	booking_store *st = NULL;
	booking_screen *screen = NULL;
	booking_store_idempotency_record key;
	booking_store_seat seats[2];
	booking_reservation listed;
	char want[8192], got[8192];
	int version = -1;

	sqt_db_init(&fresh, "fresh6");
	sqt_assert_ok(booking_store_open(&st, fresh.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	sqt_sql_text(fresh.path, SQL_SCHEMA_TEXT, want, sizeof want);
	ck_assert_msg(strstr(want, "note") != NULL && strstr(want, "seat_column") != NULL, "%s", want);

	sqt_db_init(&db, "upgrade6");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	as_version_5(db.path);
	sqt_sql_exec(db.path, SQL_V5_ROWS);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_table_info('showtime_seats')"
	                                      " WHERE name = 'note'"),
	                 0);
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	ck_assert_int_eq(version, current_version());

	/* every row kept, read through the store */
	memset(seats, 0, sizeof seats);
	sqt_assert_ok(st->catalog->seat_list(st, "sh1", seat_row, seats));
	ck_assert_int_eq(seats[0].status, BOOKING_SEAT_HELD);
	ck_assert_str_eq(seats[0].reservation_id, "b1");
	ck_assert_int_eq(seats[0].hold_until, 5000);
	ck_assert_int_eq(seats[0].version, 3);
	ck_assert_str_eq(seats[0].note, "");
	ck_assert_int_eq(seats[1].status, BOOKING_SEAT_SOLD);
	ck_assert_int_eq(seats[1].version, 4);
	sqt_assert_ok(st->catalog->screen_get(&screen, st, "s1"));
	ck_assert_uint_eq(screen->seat_count, 2);
	ck_assert_str_eq(screen->seats[1]->label, "A2");
	ck_assert_int_eq(screen->seats[1]->column, 0);
	booking_screen_free(screen);
	sqt_assert_ok(st->ledger->idempotency_get(&key, st, "u1", "k1"));
	ck_assert_str_eq(key.payment_id, "p1");
	ck_assert(key.completed);
	memset(&listed, 0, sizeof listed);
	sqt_assert_ok(st->ledger->reservation_list_by_showtime(st, "sh1", 0, 0, NULL, 10, first_reservation, &listed));
	ck_assert_str_eq(listed.id, "b1");
	ck_assert_int_eq(listed.total_amount, 2000);
	st->free(st);

	/* a key names a reservation (foreign keys on), a seat may be blocked with a note, and no more */
	sqt_sql_exec(db.path, "PRAGMA foreign_keys = ON;"
	                      "INSERT INTO idempotency_keys VALUES ('u1', 'k2', 'hmac-sha256:01', 'b1', 1, 0, 12);"
	                      "UPDATE showtime_seats SET status = 3, booking_id = NULL, note = 'press'"
	                      " WHERE showtime_id = 'sh1' AND label = 'A1'");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM showtime_seats WHERE note = 'press'"), 1);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE name = 'showtime_seats'"
	                                      " AND sql LIKE '%CHECK (status IN (0, 1, 2, 3))%'"),
	                 1);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_foreign_key_list('idempotency_keys')"), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_index_info('bookings_showtime')"), 3);
	sqt_sql_text(db.path, "PRAGMA integrity_check", got, sizeof got);
	ck_assert_str_eq(got, "ok");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

	sqt_sql_text(db.path, SQL_SCHEMA_TEXT, got, sizeof got);
	ck_assert_str_eq(got, want);
	sqt_db_cleanup(&fresh);
	sqt_db_cleanup(&db);
}
END_TEST

/* Outbox events seen through the store: their positions and ids, in the order given. */
struct seen_events {
	int n;
	int64_t position[8];
	char id[8][BOOKING_ID_SIZE];
};

static int seen_event(const booking_event_record *e, void *payload)
{
	struct seen_events *seen = payload;

	ck_assert_int_lt(seen->n, 8);
	seen->position[seen->n] = e->position;
	snprintf(seen->id[seen->n], sizeof seen->id[0], "%s", e->id);
	seen->n++;
	return 0;
}

/*
 * Version 10: the outbox without AUTOINCREMENT, bookings without a rowid.
 * A file that version 9 left (both tables as version 1 made them, events at
 * positions 1, 2 and 5, version 5's rows: a reservation with its seats, a
 * payment and a key referencing it) keeps every event at its position,
 * published or not, and the next event comes after the largest;
 * sqlite_sequence no longer counts the outbox; the reservation keeps its
 * seats and its payment, every reference holds.
 */
START_TEST(migration_10_keeps_the_events_at_their_positions)
{
	sqt_db db;
	booking_store *st = NULL;
	struct seen_events all = {0}, unpublished = {0};
	booking_reservation listed;
	char got[64];
	int version = -1;

	sqt_db_init(&db, "upgrade10");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	as_version_10(db.path);
	sqt_sql_exec(db.path, "BEGIN;"
	                      "DROP TABLE outbox;"
	                      "CREATE TABLE outbox (position INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	                      " type TEXT NOT NULL, aggregate_type TEXT NOT NULL, aggregate_id TEXT NOT NULL,"
	                      " sequence INTEGER NOT NULL, occurred_at INTEGER NOT NULL,"
	                      " correlation_id TEXT NOT NULL DEFAULT '', traceparent TEXT NOT NULL DEFAULT '',"
	                      " data_json TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0,"
	                      " UNIQUE (aggregate_id, sequence));"
	                      "CREATE INDEX outbox_unpublished ON outbox(position) WHERE published = 0;"
	                      "DROP TABLE bookings;"
	                      "CREATE TABLE bookings (id TEXT PRIMARY KEY NOT NULL, user_id TEXT NOT NULL,"
	                      " showtime_id TEXT NOT NULL REFERENCES showtimes(id), status INTEGER NOT NULL,"
	                      " saga INTEGER NOT NULL, seat_count INTEGER NOT NULL, total_amount INTEGER NOT NULL,"
	                      " currency TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
	                      " updated_at INTEGER NOT NULL, version INTEGER NOT NULL);"
	                      "CREATE INDEX bookings_user ON bookings(user_id, created_at, id);"
	                      "CREATE INDEX bookings_showtime ON bookings(showtime_id, created_at, id);"
	                      "CREATE INDEX bookings_status_expiry ON bookings(status, expires_at);"
	                      "CREATE INDEX bookings_user_showtime ON bookings(user_id, showtime_id);"
	                      "CREATE INDEX bookings_user_status ON bookings (user_id, status, expires_at);"
	                      "INSERT INTO outbox (position, id, type, aggregate_type, aggregate_id, sequence, occurred_at,"
	                      " data_json, published) VALUES"
	                      " (1, 'e1', 'reservation.created', 'reservation', 'b1', 1, 10, '{}', 1),"
	                      " (2, 'e2', 'reservation.confirmed', 'reservation', 'b1', 2, 11, '{}', 0),"
	                      " (5, 'e5', 'reservation.created', 'reservation', 'b2', 1, 12, '{\"n\":5}', 0);"
	                      "DELETE FROM schema_migrations WHERE version >= 10;"
	                      "PRAGMA user_version = 9;"
	                      "COMMIT");
	/* version 5's rows, in version 9's columns */
	sqt_sql_exec(db.path, "INSERT INTO movies VALUES ('m1', 'Kept', 90, 1);"
	                      "INSERT INTO theaters VALUES ('t1', 'Odeon', 'Lyon', 1);"
	                      "INSERT INTO screens VALUES ('s1', 't1', 'Screen 1', 1);"
	                      "INSERT INTO screen_seats (screen_id, position, label, category) VALUES"
	                      " ('s1', 0, 'A1', 'standard'), ('s1', 1, 'A2', 'standard');"
	                      "INSERT INTO showtimes VALUES ('sh1', 'm1', 's1', 86400000, 'EUR', 1, 1);"
	                      "INSERT INTO showtime_prices VALUES ('sh1', 0, 'standard', 1000);"
	                      "INSERT INTO showtime_seats (showtime_id, label, category, position, status, booking_id,"
	                      " hold_until, version) VALUES ('sh1', 'A1', 'standard', 0, 1, 'b1', 5000, 3),"
	                      " ('sh1', 'A2', 'standard', 1, 2, 'b1', 0, 4);"
	                      "INSERT INTO bookings VALUES ('b1', 'u1', 'sh1', 1, 1, 2, 2000, 'EUR', 10, 5000, 10, 1);"
	                      "INSERT INTO booking_seats VALUES ('b1', 0, 'A2'), ('b1', 1, 'A1');"
	                      "INSERT INTO payments VALUES ('p1', 'b1', 'u1', 1, 2000, 'EUR', '4242', '', '', 0, 11, 11);"
	                      "INSERT INTO idempotency_keys VALUES ('u1', 'k1', 'hmac-sha256:00ff', 'p1', 1, 0, 11)");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'"), 5);

	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	ck_assert_int_eq(version, current_version());
	sqt_assert_ok(st->outbox->outbox_read(st, 0, 8, seen_event, &all));
	ck_assert_int_eq(all.n, 3);
	ck_assert_int_eq(all.position[0], 1);
	ck_assert_str_eq(all.id[0], "e1");
	ck_assert_int_eq(all.position[1], 2);
	ck_assert_str_eq(all.id[1], "e2");
	ck_assert_int_eq(all.position[2], 5);
	ck_assert_str_eq(all.id[2], "e5");
	sqt_assert_ok(st->outbox->outbox_unpublished(st, 8, seen_event, &unpublished));
	ck_assert_int_eq(unpublished.n, 2);
	ck_assert_str_eq(unpublished.id[0], "e2");
	ck_assert_str_eq(unpublished.id[1], "e5");
	memset(&listed, 0, sizeof listed);
	sqt_assert_ok(st->ledger->reservation_list_by_showtime(st, "sh1", 0, 0, NULL, 10, first_reservation, &listed));
	ck_assert_str_eq(listed.id, "b1");
	ck_assert_int_eq(listed.total_amount, 2000);
	ck_assert_int_eq(listed.expires_at, 5000);
	st->free(st);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM payments WHERE booking_id = 'b1'"), 1);
	sqt_sql_text(db.path, "SELECT seats FROM bookings WHERE id = 'b1'", got, sizeof got); /* version 11 */
	ck_assert_str_eq(got, "[\"A2\",\"A1\"]");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE name = 'bookings'"
	                                      " AND sql LIKE '%WITHOUT ROWID'"),
	                 1);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
	                                      " AND tbl_name = 'bookings' AND name LIKE 'bookings_%'"),
	                 5);

	sqt_sql_exec(db.path, "INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at, data_json)"
	                      " VALUES ('e6', 'reservation.created', 'reservation', 'b3', 1, 13, '{}')");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT position FROM outbox WHERE id = 'e6'"), 6);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_sequence WHERE name = 'outbox'"), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox'"
	                                      " AND sql LIKE '%AUTOINCREMENT%'"),
	                 0);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE name = 'outbox_unpublished'"), 1);
	sqt_sql_text(db.path, "PRAGMA integrity_check", got, sizeof got);
	ck_assert_str_eq(got, "ok");
	sqt_db_cleanup(&db);
}
END_TEST

/*
 * Version 11: a reservation's seats move into its row. A file that version
 * 10 left (booking_seats rows, put in out of position order) keeps every
 * reservation's labels in their positions' order, read back with their
 * layout positions; the store's seat guard, seat move and per-buyer count
 * work on the moved seats; booking_seats is gone and the file's schema is
 * a new file's.
 */
START_TEST(migration_11_moves_the_seats_into_the_booking_row)
{
	sqt_db fresh, db;
	booking_store *st = NULL;
	booking_reservation *r = NULL;
	booking_store_seat seats[3];
	char want[8192], got[8192];
	int version = -1;
	size_t failed = 99;

	sqt_db_init(&fresh, "fresh11");
	sqt_assert_ok(booking_store_open(&st, fresh.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	sqt_sql_text(fresh.path, SQL_SCHEMA_TEXT, want, sizeof want);

	sqt_db_init(&db, "upgrade11");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);
	as_version_10(db.path);
	sqt_sql_exec(db.path, "INSERT INTO movies VALUES ('m1', 'Kept', 90, 1);"
	                      "INSERT INTO theaters VALUES ('t1', 'Odeon', 'Lyon', 1);"
	                      "INSERT INTO screens VALUES ('s1', 't1', 'Screen 1', 1);"
	                      "INSERT INTO screen_seats (screen_id, position, label, category) VALUES"
	                      " ('s1', 0, 'A1', 'standard'), ('s1', 1, 'A2', 'standard'), ('s1', 2, 'A-3', 'standard');"
	                      "INSERT INTO showtimes VALUES ('sh1', 'm1', 's1', 86400000, 'EUR', 1, 1);"
	                      "INSERT INTO showtime_prices VALUES ('sh1', 0, 'standard', 1000);"
	                      "INSERT INTO showtime_seats (showtime_id, label, category, position, status, booking_id,"
	                      " hold_until, version) VALUES ('sh1', 'A1', 'standard', 0, 1, 'b1', 9000000000000, 3),"
	                      " ('sh1', 'A2', 'standard', 1, 2, 'b2', 0, 4), ('sh1', 'A-3', 'standard', 2, 1, 'b1',"
	                      " 9000000000000, 5);"
	                      "INSERT INTO bookings VALUES ('b1', 'u1', 'sh1', 1, 1, 2, 2000, 'EUR', 10, 9000000000000,"
	                      " 10, 1), ('b2', 'u2', 'sh1', 2, 2, 1, 1000, 'EUR', 11, 5000, 11, 3);"
	                      "INSERT INTO booking_seats VALUES ('b1', 1, 'A1'), ('b2', 0, 'A2'), ('b1', 0, 'A-3');"
	                      "INSERT INTO payments VALUES ('p1', 'b2', 'u2', 1, 1000, 'EUR', '4242', '', '', 0, 11, 11)");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM booking_seats"), 3);

	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	ck_assert_int_eq(version, current_version());
	sqt_assert_ok(st->ledger->reservation_get(&r, st, "b1"));
	ck_assert_uint_eq(r->seat_count, 2);
	ck_assert_str_eq(r->seats[0]->label, "A-3");
	ck_assert_int_eq(r->seats[0]->position, 2);
	ck_assert_str_eq(r->seats[1]->label, "A1");
	ck_assert_int_eq(r->seats[1]->position, 0);
	booking_reservation_free(r);
	r = NULL;
	sqt_assert_ok(st->ledger->reservation_get(&r, st, "b2"));
	ck_assert_uint_eq(r->seat_count, 1);
	ck_assert_str_eq(r->seats[0]->label, "A2");
	ck_assert_int_eq(r->seats[0]->position, 1);
	booking_reservation_free(r);

	/* the seat guard and the seat move read the moved seats */
	const booking_store_guard sold = {BOOKING_GUARD_SEATS_OWNED, "b1", BOOKING_SEAT_SOLD, NULL};
	const booking_store_change refused = {.guard_count = 1, .guards = &sold};
	sqt_assert_code(st->ledger->apply(&failed, st, &refused), BOOKING_EINVALID_STATE);
	ck_assert_uint_eq(failed, 0);
	const booking_store_guard held = {BOOKING_GUARD_SEATS_OWNED, "b1", BOOKING_SEAT_HELD, NULL};
	const booking_store_seat_move sell = {"b1", BOOKING_SEAT_HELD, BOOKING_SEAT_SOLD, 0};
	const booking_store_change confirm = {.guard_count = 1, .guards = &held, .seats = &sell};
	sqt_assert_ok(st->ledger->apply(NULL, st, &confirm));
	memset(seats, 0, sizeof seats);
	sqt_assert_ok(st->catalog->seat_list(st, "sh1", seat_row3, seats));
	ck_assert_int_eq(seats[0].status, BOOKING_SEAT_SOLD);
	ck_assert_str_eq(seats[0].reservation_id, "b1");
	ck_assert_int_eq(seats[1].status, BOOKING_SEAT_SOLD);
	ck_assert_str_eq(seats[1].reservation_id, "b2");
	ck_assert_int_eq(seats[2].status, BOOKING_SEAT_SOLD);
	ck_assert_str_eq(seats[2].reservation_id, "b1");
	/* user u1 has taken 2 seats of sh1: at most 1 is refused, at most 2 holds */
	const booking_store_guard one = {BOOKING_GUARD_USER_SEATS, "u1", 1, "sh1"};
	const booking_store_change over = {.guard_count = 1, .guards = &one, .now = 20};
	sqt_assert_code(st->ledger->apply(NULL, st, &over), BOOKING_EINVALID_STATE);
	const booking_store_guard two = {BOOKING_GUARD_USER_SEATS, "u1", 2, "sh1"};
	const booking_store_change within = {.guard_count = 1, .guards = &two, .now = 20};
	sqt_assert_ok(st->ledger->apply(NULL, st, &within));
	st->free(st);

	sqt_sql_text(db.path, "SELECT group_concat(id || seats, ' ') FROM bookings", got, sizeof got);
	ck_assert_str_eq(got, "b1[\"A-3\",\"A1\"] b2[\"A2\"]");
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM sqlite_master WHERE name = 'booking_seats'"), 0);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM payments WHERE booking_id = 'b2'"), 1);
	ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	sqt_sql_text(db.path, "PRAGMA integrity_check", got, sizeof got);
	ck_assert_str_eq(got, "ok");
	sqt_sql_text(db.path, SQL_SCHEMA_TEXT, got, sizeof got);
	ck_assert_str_eq(got, want);
	sqt_db_cleanup(&fresh);
	sqt_db_cleanup(&db);
}
END_TEST

static void expect_schema_refused(const sqt_db *db, int newer)
{
	char want[160];
	booking_store *st = NULL;
	booking_options opts;
	booking_handle *bk = NULL;
	int version = -1;

	snprintf(want, sizeof want, "database schema version %d is newer than this libbooking (%d)", newer,
	         current_version());
	sqt_assert_ok(booking_store_open(&st, db->url, NULL));
	sqt_assert_code(st->migrate(&version, st), BOOKING_ESCHEMA);
	ck_assert_str_eq(booking_error_last()->message, want);
	st->free(st);

	booking_options_init(&opts, BOOKING_OPTIONS_VERSION);
	opts.store_url = db->url;
	opts.log_level = BOOKING_LOG_CRITICAL;
	sqt_assert_code(booking_open(&bk, &opts), BOOKING_ESCHEMA);
	ck_assert_ptr_null(bk);
}

START_TEST(file_recorded_by_a_newer_schema_is_refused)
{
	sqt_db db;
	booking_store *st = NULL;
	int version = -1;
	char sql[128];

	sqt_db_init(&db, "newer");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);

	snprintf(sql, sizeof sql, "INSERT INTO schema_migrations (version, applied_at) VALUES (%d, 0)", version + 1);
	sqt_sql_exec(db.path, sql);
	expect_schema_refused(&db, version + 1);
	sqt_db_cleanup(&db);
}
END_TEST

START_TEST(file_with_a_newer_user_version_is_refused)
{
	sqt_db db;
	booking_store *st = NULL;
	int version = -1;
	char sql[64];

	sqt_db_init(&db, "newer-pragma");
	sqt_assert_ok(booking_store_open(&st, db.url, NULL));
	sqt_assert_ok(st->migrate(&version, st));
	st->free(st);

	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", version + 5);
	sqt_sql_exec(db.path, sql);
	expect_schema_refused(&db, version + 5);
	sqt_db_cleanup(&db);
}
END_TEST

/* Children block on `go` until the parent closes it, then migrate at once. */
static int migrate_child(const char *url, int go_fd, int expected)
{
	booking_store *st = NULL;
	char byte;
	int version = -1, rc;

	if (read(go_fd, &byte, 1) < 0)
		return 2;
	rc = booking_store_open(&st, url, NULL);
	if (rc == 0)
		rc = st->migrate(&version, st);
	if (rc != 0)
		fprintf(stderr, "child %d: %s: %s\n", (int)getpid(), booking_error_name(rc), booking_error_last()->message);
	if (st != NULL)
		st->free(st);
	return rc == 0 && version == expected ? 0 : 1;
}

START_TEST(four_processes_migrating_one_new_file_all_succeed)
{
	enum { CHILDREN = 4 };
	int expected = current_version();
	pid_t pids[CHILDREN];
	int go[2];
	sqt_db db;

	for (int round = 0; round < 5; round++) {
		sqt_db_init(&db, "together");
		ck_assert_int_eq(pipe(go), 0);
		for (int i = 0; i < CHILDREN; i++) {
			pids[i] = fork();
			ck_assert_int_ge(pids[i], 0);
			if (pids[i] == 0) {
				close(go[1]);
				_exit(migrate_child(db.url, go[0], expected));
			}
		}
		close(go[0]);
		close(go[1]); /* go */
		for (int i = 0; i < CHILDREN; i++) {
			int status = 0;

			ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
			ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d failed (status %d)", i,
			              status);
		}
		ck_assert_int_eq(sqt_sql_int(db.path, "SELECT count(*) FROM schema_migrations"), expected);
		ck_assert_int_eq(sqt_sql_int(db.path, "SELECT max(version) FROM schema_migrations"), expected);
		sqt_db_cleanup(&db);
	}
}
END_TEST

START_TEST(file_runs_in_wal_mode)
{
	sqt_db db;
	booking_handle *bk;
	char mode[16];

	sqt_db_init(&db, "wal");
	bk = sqt_open(&db, NULL);
	sqt_sql_text(db.path, "PRAGMA journal_mode", mode, sizeof mode);
	ck_assert_str_eq(mode, "wal");
	booking_close(bk);
	sqt_db_cleanup(&db);
}
END_TEST

START_TEST(unopenable_file_is_unavailable)
{
	booking_store *st = NULL;

	sqt_assert_code(booking_store_open(&st, "sqlite:///nonexistent-libbooking-dir/sub/x.db", NULL),
	                BOOKING_EUNAVAILABLE);
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(file_that_is_not_a_database_is_unavailable)
{
	sqt_db db;
	booking_store *st = NULL;
	FILE *f;

	sqt_db_init(&db, "garbage");
	f = fopen(db.path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 512; i++)
		fputs("this is not an SQLite database. ", f);
	fclose(f);
	sqt_assert_code(booking_store_open(&st, db.url, NULL), BOOKING_EUNAVAILABLE);
	ck_assert_ptr_null(st);
	sqt_db_cleanup(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite-migrate");
	TCase *tc = tcase_create("migrate");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, new_file_migrates_to_the_current_version);
	tcase_add_test(tc, migrate_twice_changes_nothing);
	tcase_add_test(tc, data_survives_reopening_and_migrating_again);
	tcase_add_test(tc, migration_4_erases_unkeyed_payment_fingerprints);
	tcase_add_test(tc, migration_5_replaces_the_indexes_that_named_states);
	tcase_add_test(tc, migration_6_keeps_the_rows_and_gives_the_new_files_schema);
	tcase_add_test(tc, migration_10_keeps_the_events_at_their_positions);
	tcase_add_test(tc, migration_11_moves_the_seats_into_the_booking_row);
	tcase_add_test(tc, file_recorded_by_a_newer_schema_is_refused);
	tcase_add_test(tc, file_with_a_newer_user_version_is_refused);
	tcase_add_test(tc, four_processes_migrating_one_new_file_all_succeed);
	tcase_add_test(tc, file_runs_in_wal_mode);
	tcase_add_test(tc, unopenable_file_is_unavailable);
	tcase_add_test(tc, file_that_is_not_a_database_is_unavailable);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
