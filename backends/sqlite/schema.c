/*
 * SQLite store — versioned schema migrations: the statements of each
 * version and the hooks of the shared engine (sql/migrate.c).
 *
 * The version is recorded in schema_migrations (one row per applied
 * version) and mirrored in PRAGMA user_version; the larger of the two is
 * the database's version. The shared engine (sql/migrate.c) applies every
 * missing version in one BEGIN IMMEDIATE transaction and re-reads the
 * version inside it, so processes that start together apply each version
 * exactly once. Migrations are appended, never edited, with one kind of
 * exception: an index a later version drops may be taken out of an
 * earlier one (version 5 did so).
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_store.h"

/* Version 1: the whole model. One string per statement. */
static const char *const SCHEMA_V1[] = {
	SQL_SCHEMA_MOVIES_THEATERS(SQL_LITE),
	"CREATE TABLE screens ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" theater_id TEXT NOT NULL REFERENCES theaters(id),"
	" name TEXT NOT NULL,"
	" created_at INTEGER NOT NULL)",
	"CREATE INDEX screens_theater ON screens(theater_id)",
	"CREATE TABLE screen_seats ("
	" screen_id TEXT NOT NULL REFERENCES screens(id),"
	" position INTEGER NOT NULL,"
	" label TEXT NOT NULL,"
	" category TEXT NOT NULL,"
	" PRIMARY KEY (screen_id, position),"
	" UNIQUE (screen_id, label)) WITHOUT ROWID",
	"CREATE TABLE showtimes ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" movie_id TEXT NOT NULL REFERENCES movies(id),"
	" screen_id TEXT NOT NULL REFERENCES screens(id),"
	" starts_at INTEGER NOT NULL,"
	" currency TEXT NOT NULL,"
	" status INTEGER NOT NULL,"
	" created_at INTEGER NOT NULL)",
	"CREATE INDEX showtimes_movie ON showtimes(movie_id, starts_at)",
	"CREATE INDEX showtimes_starts ON showtimes(starts_at)",
	"CREATE INDEX showtimes_screen ON showtimes(screen_id)",
	"CREATE TABLE showtime_prices ("
	" showtime_id TEXT NOT NULL REFERENCES showtimes(id),"
	" position INTEGER NOT NULL,"
	" category TEXT NOT NULL,"
	" amount INTEGER NOT NULL,"
	" PRIMARY KEY (showtime_id, position),"
	" UNIQUE (showtime_id, category)) WITHOUT ROWID",
	SQL_SCHEMA_SHOWTIME_SEATS(SQL_LITE),
	"CREATE TABLE bookings ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" user_id TEXT NOT NULL,"
	" showtime_id TEXT NOT NULL REFERENCES showtimes(id),"
	" status INTEGER NOT NULL,"
	" saga INTEGER NOT NULL,"
	" seat_count INTEGER NOT NULL,"
	" total_amount INTEGER NOT NULL,"
	" currency TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" version INTEGER NOT NULL)",
	"CREATE INDEX bookings_user ON bookings(user_id, created_at)",
	"CREATE INDEX bookings_showtime ON bookings(showtime_id)",
	"CREATE TABLE booking_seats ("
	" booking_id TEXT NOT NULL REFERENCES bookings(id),"
	" position INTEGER NOT NULL,"
	" label TEXT NOT NULL,"
	" PRIMARY KEY (booking_id, position)) WITHOUT ROWID",
	"CREATE TABLE payments ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" booking_id TEXT NOT NULL REFERENCES bookings(id),"
	" user_id TEXT NOT NULL,"
	" status INTEGER NOT NULL,"
	" amount INTEGER NOT NULL,"
	" currency TEXT NOT NULL,"
	" card_last4 TEXT NOT NULL DEFAULT '',"
	" gateway_ref TEXT NOT NULL DEFAULT '',"
	" failure_code TEXT NOT NULL DEFAULT '',"
	" refunded_amount INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL)",
	"CREATE INDEX payments_booking ON payments(booking_id)",
	"CREATE TABLE idempotency_keys ("
	" user_id TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" request_hash TEXT NOT NULL,"
	" payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),"
	" completed INTEGER NOT NULL DEFAULT 0,"
	" replay_error INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY (user_id, key)) WITHOUT ROWID",
	"CREATE TABLE outbox ("
	" position INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" type TEXT NOT NULL,"
	" aggregate_type TEXT NOT NULL,"
	" aggregate_id TEXT NOT NULL,"
	" sequence INTEGER NOT NULL,"
	" occurred_at INTEGER NOT NULL,"
	" correlation_id TEXT NOT NULL DEFAULT '',"
	" traceparent TEXT NOT NULL DEFAULT '',"
	" data_json TEXT NOT NULL,"
	" published INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (aggregate_id, sequence))",
	"CREATE INDEX outbox_unpublished ON outbox(position) WHERE published = 0",
	SQL_SCHEMA_CURSORS_INBOX(SQL_LITE),
	"CREATE TABLE dead_letters ("
	" group_name TEXT NOT NULL,"
	" event_id TEXT NOT NULL,"
	" reason TEXT NOT NULL,"
	" envelope_json TEXT NOT NULL,"
	" dead_at INTEGER NOT NULL,"
	" PRIMARY KEY (group_name, event_id))",
	"CREATE INDEX dead_letters_time ON dead_letters(dead_at)",
	NULL,
};

/* Version 2: users and revoked tokens (sql/sql.h). */
static const char *const SCHEMA_V2[] = {
	SQL_SCHEMA_USERS(SQL_LITE),
	NULL,
};

/*
 * Version 3: a user's bookings are read a page at a time, newest first by
 * (created_at, id); the index carries id so a page after a key is a range
 * scan that stops at the page size instead of sorting all of the user's rows.
 */
static const char *const SCHEMA_V3[] = {
	"DROP INDEX bookings_user",
	"CREATE INDEX bookings_user ON bookings(user_id, created_at, id)",
	NULL,
};

/*
 * Version 4: payment request fingerprints are keyed (HMAC under a secret
 * outside the database, "hmac-sha256:..."); the unkeyed SHA-256 of earlier
 * versions could be brute-forced back into a card number, so it is erased
 * (a retry of such a key answers IDEMPOTENCY_KEY_REUSED: nothing is charged
 * twice). (It created the index the payment attempt limits count with too,
 * payments_user_failed, which version 5 replaces.)
 */
static const char *const SCHEMA_V4[] = {
	/* overwrite the old bytes in the pages too (the after hook checkpoints the WAL afterwards) */
	"PRAGMA secure_delete = ON",
	SQL_SCHEMA_ERASE_HASHES,
	"PRAGMA secure_delete = OFF",
	SQL_SCHEMA_REVOKED_LEEWAY,
	NULL,
};

/*
 * Version 5: no state of the domain in the schema. The reads that listed
 * PENDING bookings and PROCESSING payments and counted FAILED ones are
 * given the status by the core now, so the partial indexes that named
 * those states (WHERE status = N) become full indexes led by status: the
 * same range scan for the status asked for. Versions 1 and 4 no longer
 * create the partial indexes; on an older file they exist and go here.
 * A booking's payments are counted by status too, and the planner (which
 * has no statistics) would pick the status index over payments_booking for
 * that: (booking_id, status) replaces it. Idempotent, like every version.
 */
static const char *const SCHEMA_V5[] = {
	"DROP INDEX IF EXISTS bookings_pending_due",
	"CREATE INDEX IF NOT EXISTS bookings_status_expiry ON bookings(status, expires_at)",
	"DROP INDEX IF EXISTS payments_processing",
	"CREATE INDEX IF NOT EXISTS payments_status_created ON payments(status, created_at)",
	"DROP INDEX IF EXISTS payments_user_failed",
	"CREATE INDEX IF NOT EXISTS payments_user_status ON payments(user_id, status, created_at)",
	"DROP INDEX IF EXISTS payments_booking",
	"CREATE INDEX IF NOT EXISTS payments_booking_status ON payments(booking_id, status)",
	NULL,
};

/*
 * Version 6: the box office (catalog and ledger version 2, sys/store.h).
 * - A screen's seats keep their column (aisles counted): screen_seats.seat_column, 0 when not given.
 * - A seat may be BLOCKED (status 3) and has a note (a block's reason).
 *   SQLite cannot alter a CHECK, so showtime_seats is rebuilt as its
 *   documentation says (lang_altertable.html, "Making Other Kinds Of Table
 *   Schema Changes"): the new table created, the rows copied, the old one
 *   dropped, the new one renamed and the old one's index created again.
 *   Foreign keys stay on (the pragma is a no-op in the migration's
 *   transaction); no table references showtime_seats, so the drop checks
 *   nothing and the rename rewrites no reference.
 * - A hold's idempotency record names its reservation where a payment's
 *   names the payment (payment_id): the key of a user names one request,
 *   a hold or a payment. The reference to payments goes, by the same
 *   rebuild (nothing references idempotency_keys); PostgreSQL's table never
 *   had it.
 * - A showtime's reservations are listed a page at a time, newest first by
 *   (created_at, id) (reservation_list_by_showtime): bookings_showtime is
 *   led by showtime_id as before and carries (created_at, id) now.
 * A new file runs this too: a new and an upgraded file are the same.
 */
static const char *const SCHEMA_V6[] = {
	"ALTER TABLE screen_seats ADD COLUMN seat_column INTEGER NOT NULL DEFAULT 0",
	"CREATE TABLE showtime_seats_v6 ("
	" showtime_id TEXT NOT NULL REFERENCES showtimes (id),"
	" label TEXT NOT NULL,"
	" category TEXT NOT NULL,"
	" position INTEGER NOT NULL,"
	" status INTEGER NOT NULL DEFAULT 0 " SQL_SCHEMA_SEAT_STATUSES ","
	" booking_id TEXT,"
	" hold_until INTEGER NOT NULL DEFAULT 0,"
	" version INTEGER NOT NULL DEFAULT 0,"
	" " SQL_SCHEMA_SEAT_NOTE ","
	" PRIMARY KEY (showtime_id, label)) WITHOUT ROWID",
	"INSERT INTO showtime_seats_v6 (showtime_id, label, category, position, status, booking_id, hold_until, version)"
	" SELECT showtime_id, label, category, position, status, booking_id, hold_until, version FROM showtime_seats",
	"DROP TABLE showtime_seats",
	"ALTER TABLE showtime_seats_v6 RENAME TO showtime_seats",
	"CREATE UNIQUE INDEX showtime_seats_position ON showtime_seats (showtime_id, position)",
	"CREATE TABLE idempotency_keys_v6 ("
	" user_id TEXT NOT NULL,"
	" key TEXT NOT NULL,"
	" request_hash TEXT NOT NULL,"
	" payment_id TEXT NOT NULL UNIQUE,"
	" completed INTEGER NOT NULL DEFAULT 0,"
	" replay_error INTEGER NOT NULL DEFAULT 0,"
	" created_at INTEGER NOT NULL,"
	" PRIMARY KEY (user_id, key)) WITHOUT ROWID",
	"INSERT INTO idempotency_keys_v6 (user_id, key, request_hash, payment_id, completed, replay_error, created_at)"
	" SELECT user_id, key, request_hash, payment_id, completed, replay_error, created_at FROM idempotency_keys",
	"DROP TABLE idempotency_keys",
	"ALTER TABLE idempotency_keys_v6 RENAME TO idempotency_keys",
	"DROP INDEX IF EXISTS bookings_showtime",
	"CREATE INDEX bookings_showtime ON bookings(showtime_id, created_at, id)",
	NULL,
};

/*
 * Version 7: per-buyer limits (ledger version 3, sys/store.h). A hold with a
 * limit, and the guard USER_SEATS, count the seats a user has taken in a
 * showtime inside the write transaction: from the user's reservations of
 * that showtime (this index), through their seat lists, to the seat rows.
 * Without it the count would walk every reservation the user ever made.
 * Idempotent, like every version: a new and an upgraded file are the same.
 */
static const char *const SCHEMA_V7[] = {
	"CREATE INDEX IF NOT EXISTS bookings_user_showtime ON bookings(user_id, showtime_id)",
	NULL,
};

/* Version 8: the kv group (store version 7, sys/store.h): its table and indexes (sql/sql.h). Idempotent. */
static const char *const SCHEMA_V8[] = {
	SQL_SCHEMA_KV(SQL_LITE),
	NULL,
};

/*
 * Version 9: the live-hold limit (ledger version 4, sys/store.h): a hold
 * with a limit, and the guard USER_HOLDS, count a user's live holds in
 * the write transaction on this index (sql/sql.h). Idempotent.
 */
static const char *const SCHEMA_V9[] = {
	SQL_SCHEMA_USER_HOLDS,
	NULL,
};

/*
 * Version 10: fewer pages per hold. An event's position is the outbox's
 * rowid without AUTOINCREMENT: AUTOINCREMENT rewrote the outbox's row of
 * sqlite_sequence in every write that added an event, one page of the 14
 * a hold wrote. A plain rowid is max(position) + 1 and is reused only if
 * the row holding the largest position is deleted; no outbox row is ever
 * deleted (events are marked published, never removed), so positions still
 * only grow, in commit order (reservation.c). A purge added later must keep
 * the newest row. The table is rebuilt as version 6 rebuilt showtime_seats
 * (nothing references outbox), every row kept with its position, and its
 * index created again; its unique constraints come with it.
 * And bookings WITHOUT ROWID, keyed by id: the table and its id index were
 * two B-trees, each a page of every hold; one now. Its indexes hold the id
 * where they held the rowid (bookings_user and bookings_showtime held both),
 * and ties the rowid broke (the due reservations of one expiry, the scan)
 * are broken by id, the order its indexes keep (sql/sql.h: BOOKING_TIE).
 * booking_seats and payments reference bookings, and a rebuild inside the
 * migration's transaction cannot turn foreign keys off (the pragma is a
 * no-op there), nor rename bookings (the references would follow it): so
 * the rows are copied aside, the table dropped and created again and the
 * rows put back under defer_foreign_keys (the drop counts each reference
 * as a violation, putting the row back settles it; the pragma ends with the
 * transaction), then its indexes are created again.
 * A new file runs this too: a new and an upgraded file are the same.
 */
static const char *const SCHEMA_V10[] = {
	"CREATE TABLE outbox_v10 ("
	" position INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" type TEXT NOT NULL,"
	" aggregate_type TEXT NOT NULL,"
	" aggregate_id TEXT NOT NULL,"
	" sequence INTEGER NOT NULL,"
	" occurred_at INTEGER NOT NULL,"
	" correlation_id TEXT NOT NULL DEFAULT '',"
	" traceparent TEXT NOT NULL DEFAULT '',"
	" data_json TEXT NOT NULL,"
	" published INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (aggregate_id, sequence))",
	"INSERT INTO outbox_v10 (position, id, type, aggregate_type, aggregate_id, sequence, occurred_at,"
	" correlation_id, traceparent, data_json, published)"
	" SELECT position, id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id,"
	" traceparent, data_json, published FROM outbox ORDER BY position",
	"DROP TABLE outbox",
	"ALTER TABLE outbox_v10 RENAME TO outbox",
	"CREATE INDEX outbox_unpublished ON outbox(position) WHERE published = 0",
	"PRAGMA defer_foreign_keys = ON",
	"CREATE TEMP TABLE bookings_v9 AS SELECT id, user_id, showtime_id, status, saga, seat_count, total_amount,"
	" currency, created_at, expires_at, updated_at, version FROM bookings",
	"DROP TABLE bookings",
	"CREATE TABLE bookings ("
	" id TEXT PRIMARY KEY NOT NULL,"
	" user_id TEXT NOT NULL,"
	" showtime_id TEXT NOT NULL REFERENCES showtimes(id),"
	" status INTEGER NOT NULL,"
	" saga INTEGER NOT NULL,"
	" seat_count INTEGER NOT NULL,"
	" total_amount INTEGER NOT NULL,"
	" currency TEXT NOT NULL,"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" version INTEGER NOT NULL) WITHOUT ROWID",
	"INSERT INTO bookings (id, user_id, showtime_id, status, saga, seat_count, total_amount, currency, created_at,"
	" expires_at, updated_at, version) SELECT id, user_id, showtime_id, status, saga, seat_count, total_amount,"
	" currency, created_at, expires_at, updated_at, version FROM temp.bookings_v9",
	"DROP TABLE temp.bookings_v9",
	"CREATE INDEX bookings_user ON bookings(user_id, created_at, id)",
	"CREATE INDEX bookings_showtime ON bookings(showtime_id, created_at, id)",
	"CREATE INDEX bookings_status_expiry ON bookings(status, expires_at)",
	"CREATE INDEX bookings_user_showtime ON bookings(user_id, showtime_id)",
	SQL_SCHEMA_USER_HOLDS,
	NULL,
};

/*
 * Version 11: a reservation's seats are a column of its row, as PostgreSQL's
 * bookings.seats (a text[] there): the labels as a JSON array, in the order
 * the hold gave them ('["A2","A1"]': a label is letters, digits and '-',
 * booking__check_label(), so it needs no escape and reads back exactly).
 * A hold wrote booking_seats' B-tree and ran a statement for it, one page of
 * the 12 it wrote; it writes the row alone now. The reads walk the column
 * with json_each (its key is the position). Every reservation's labels are
 * copied in their positions' order, then booking_seats goes (it references
 * bookings; nothing references it). The column's default, '[]', is a
 * reservation without seats (none is written without them).
 * A new file runs this too: a new and an upgraded file are the same.
 */
static const char *const SCHEMA_V11[] = {
	"ALTER TABLE bookings ADD COLUMN seats TEXT NOT NULL DEFAULT '[]'",
	"UPDATE bookings SET seats = (SELECT json_group_array(label) FROM (SELECT label FROM booking_seats"
	" WHERE booking_id = bookings.id ORDER BY position))"
	" WHERE EXISTS (SELECT 1 FROM booking_seats WHERE booking_id = bookings.id)",
	"DROP TABLE booking_seats",
	NULL,
};

/* Index i holds the script that brings version i to version i + 1. */
static const char *const *const MIGRATIONS[SQ_SCHEMA_VERSION] = {
	SCHEMA_V1,
	SCHEMA_V2,
	SCHEMA_V3,
	SCHEMA_V4,
	SCHEMA_V5,
	SCHEMA_V6,
	SCHEMA_V7,
	SCHEMA_V8,
	SCHEMA_V9,
	SCHEMA_V10,
	SCHEMA_V11,
};

static const char *const LOCK[] = {
	"BEGIN IMMEDIATE", /* the lock */
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version INTEGER PRIMARY KEY NOT NULL,"
	" applied_at INTEGER NOT NULL)",
	NULL,
};

/* The larger of the recorded version and user_version; the first alone before schema_migrations exists. */
static int version(void *conn, int *version_out)
{
	sq_conn *c = conn;
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(c->db,
	                            "SELECT max(user_version, (SELECT coalesce(max(version), 0) FROM schema_migrations))"
	                            " FROM pragma_user_version", -1, &s, NULL);

	if (rc != SQLITE_OK) /* no such table (yet) */
		rc = sqlite3_prepare_v2(c->db, "SELECT user_version FROM pragma_user_version", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	*version_out = v > INT32_MAX ? INT32_MAX : v < 0 ? 0 : (int)v;
	rc = rc == SQLITE_ROW ? 0 : sq_error(c, rc);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Version 4 erased card fingerprints: checkpoint so the pages that held
 * them are rewritten in the database file and the WAL is emptied. Best
 * effort: a busy database checkpoints later.
 */
static void after(sql_store *st, int from, int to)
{
	sq_conn *c;

	if (from < 4 && to >= 4 && !((sq_store *)st)->memory && sq_acquire((sq_store *)st, &c) == 0) {
		(void)sqlite3_exec(c->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sq_release((sq_store *)st, c);
	}
}

const sql_schema sq_schema = {
	SQ_SCHEMA_VERSION,
	MIGRATIONS,
	LOCK,
	/* the version, also mirrored in user_version; applied_at in milliseconds */
	"INSERT INTO schema_migrations (version, applied_at) VALUES (%d,"
	" CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)); PRAGMA user_version = %d",
	version,
	after,
};
