/*
 * The SQL stores' shared layer: what the SQLite and PostgreSQL stores have
 * in common, written once over a small driver interface.
 *
 * - A driver runs one statement of the table below with typed arguments
 *   and hands back its rows: query, next, the column getters, done. The
 *   PostgreSQL driver runs it as one prepared statement in one round trip
 *   (parameter types from the arguments) and gives the connection back
 *   before the rows are walked, so a callback may call the store again.
 *   The SQLite driver keeps its connection until done() (the statement
 *   steps as the rows are walked), outside any BEGIN: one statement is
 *   one snapshot.
 * - The statements are two lists, SQL_STATEMENTS (reads) and SQL_WRITES
 *   (writes, each with the read that settles it after a lost reply), with
 *   $1..$N placeholders (SQLite binds each by its name, so a statement may
 *   use any of its arguments, in any order: tests/sqlite/test_sqlite_store.c
 *   checks every statement) and no ::casts; the PostgreSQL driver declares
 *   each parameter's type from its argument (a JSON array is `json`).
 *   Where the dialects differ, the text names a fragment, D(NAME),
 *   that each driver defines as SQL_PG_NAME or SQL_LITE_NAME: a reservation's
 *   seats are a column of its row in both, a text[] in PostgreSQL and a
 *   JSON array in SQLite (schema version 11), both read as one JSON array; ties are broken by id or rowid, as each
 *   store's indexes are ordered.
 * - The members in sql/reads.c are the stores' reads, once, and those
 *   in sql/writes.c their writes but hold and apply (each store's own);
 *   kv_put is shared around the driver's transaction (driver.kv_put).
 *
 * A store using the layer starts with the members of sql_store, in that
 * order (each checks it with a static assertion).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SQL_H
#define BOOKING_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends.h"

/* --- the statements ------------------------------------------------------ */

#define SQL_EVENT_COLUMNS                                                                                      \
	"id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id, traceparent, data_json, " \
	"position, published"
#define SQL_PAYMENT_COLUMNS                                                                                    \
	"id, booking_id, user_id, status, amount, currency, card_last4, gateway_ref, failure_code, "          \
	"refunded_amount, created_at, updated_at"
/* A seat row of showtime_seats AS s; its note (catalog version 2) is the dialect's SEAT_NOTE. */
#define SQL_SEAT_COLUMNS(D) "s.label, s.category, s.status, s.booking_id, s.hold_until, s.version, " D(SEAT_NOTE)
#define SQL_BOOKINGS(D)                                                                                        \
	"SELECT id, user_id, showtime_id, status, saga, " D(BOOKING_SEATS) ", total_amount, currency, created_at, " \
	"expires_at, updated_at, version FROM bookings AS b"
#define SQL_SHOWTIMES(D)                                                                                       \
	"SELECT id, movie_id, screen_id, starts_at, currency, status, created_at, " D(PRICES) " FROM showtimes AS t"
#define SQL_USERS "SELECT id, email, role, password_hash, created_at, updated_at FROM users"
#define SQL_DEAD_LETTERS "SELECT group_name, event_id, reason, envelope_json, dead_at FROM dead_letters"

/* X(ID, text): every statement of the shared members, in one list. */
#define SQL_STATEMENTS(X, D)                                                                                   \
	X(MOVIE_GET, "SELECT id, title, duration_minutes, created_at FROM movies WHERE id = $1")               \
	X(MOVIE_LIST, "SELECT id, title, duration_minutes, created_at FROM movies ORDER BY created_at, " D(TIE)) \
	X(THEATER_GET, "SELECT id, name, city, created_at FROM theaters WHERE id = $1")                         \
	X(THEATER_LIST, "SELECT id, name, city, created_at FROM theaters ORDER BY created_at, " D(TIE))         \
	X(SCREEN_GET, "SELECT id, theater_id, name, created_at, " D(SCREEN_SEATS) " FROM screens AS s WHERE id = $1") \
	X(SHOWTIME_GET, SQL_SHOWTIMES(D) " WHERE id = $1")                                                     \
	X(SHOWTIME_LIST_ALL, SQL_SHOWTIMES(D) " ORDER BY starts_at, " D(TIE))                                  \
	X(SHOWTIME_LIST_MOVIE, SQL_SHOWTIMES(D) " WHERE movie_id = $1 ORDER BY starts_at, " D(TIE))            \
	/* No row: no showtime. One row with a NULL label: a showtime without seats. */                        \
	/* with each seat's position: sql_seat_list() hands them on in that order (D(SEAT_ORDER) reads) */      \
	X(SEAT_LIST, "SELECT " SQL_SEAT_COLUMNS(D) ", s.position"                                              \
	             " FROM showtimes AS t LEFT JOIN showtime_seats AS s ON s.showtime_id = t.id"               \
	             " WHERE t.id = $1 ORDER BY " D(SEAT_ORDER))                                               \
	/* the seat rows not in status $2, in any order (the primary key's prefix: one range) */               \
	X(SEAT_STATES, "SELECT s.label, s.status, s.booking_id, s.hold_until, " D(SEAT_NOTE)                   \
	               " FROM showtime_seats AS s WHERE s.showtime_id = $1 AND s.status <> $2")                \
	X(BOOKING_GET, SQL_BOOKINGS(D) " WHERE id = $1")                                                       \
	/* A page of a user's reservations: the first, or the one after a (created_at, id) key; index bookings_user */ \
	X(BOOKING_BY_USER, SQL_BOOKINGS(D) " WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2")   \
	X(BOOKING_BY_USER_AFTER, SQL_BOOKINGS(D) " WHERE user_id = $1 AND (created_at, id) < ($2, $3)"         \
	                         " ORDER BY created_at DESC, id DESC LIMIT $4")                                \
	/* A page of a showtime's reservations in status $2 (0: any), paged as a user's; index bookings_showtime */ \
	X(BOOKING_BY_SHOWTIME, SQL_BOOKINGS(D) " WHERE showtime_id = $1 AND ($2 = 0 OR status = $2)"           \
	                       " ORDER BY created_at DESC, id DESC LIMIT $3")                                  \
	X(BOOKING_BY_SHOWTIME_AFTER, SQL_BOOKINGS(D) " WHERE showtime_id = $1 AND ($2 = 0 OR status = $2)"     \
	                             " AND (created_at, id) < ($3, $4) ORDER BY created_at DESC, id DESC LIMIT $5") \
	/* index bookings_status_expiry */                                                                     \
	X(BOOKING_BY_STATUS, SQL_BOOKINGS(D) " WHERE status = $1 AND expires_at <= $2"                         \
	                     " ORDER BY expires_at, " D(BOOKING_TIE) " LIMIT $3")                              \
	X(IDEMPOTENCY_GET, "SELECT request_hash, payment_id, completed, replay_error FROM idempotency_keys"    \
	                   " WHERE user_id = $1 AND key = $2")                                                 \
	X(PAYMENT_GET, "SELECT " SQL_PAYMENT_COLUMNS " FROM payments WHERE id = $1")                           \
	/* index payments_status_created */                                                                    \
	X(PAYMENT_BY_STATUS, "SELECT " SQL_PAYMENT_COLUMNS " FROM payments WHERE status = $1 AND created_at <= $2" \
	                     " ORDER BY created_at, " D(TIE) " LIMIT $3")                                      \
	/* indexes payments_booking_status and payments_user_status */                                         \
	X(PAYMENT_ATTEMPTS, "SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = $2),"  \
	                    " (SELECT count(*) FROM payments WHERE booking_id = $3 AND status = $4),"          \
	                    " (SELECT count(*) FROM payments WHERE user_id = $1 AND status = $4 AND created_at >= $5)") \
	X(OUTBOX_UNPUBLISHED, "SELECT " SQL_EVENT_COLUMNS " FROM " D(UNPUBLISHED))                             \
	X(OUTBOX_READ, "SELECT " SQL_EVENT_COLUMNS " FROM " D(OUTBOX_READ))                                    \
	X(CURSOR_GET, "SELECT position FROM consumer_cursors WHERE group_name = $1")                           \
	X(INBOX_SEEN, "SELECT 1 FROM inbox WHERE group_name = $1 AND event_id = $2")                           \
	X(DEAD_LETTERS_ALL, SQL_DEAD_LETTERS " ORDER BY dead_at, " D(SEQ))                                     \
	X(DEAD_LETTERS_GROUP, SQL_DEAD_LETTERS " WHERE group_name = $1 ORDER BY dead_at, " D(SEQ))             \
	X(USER_GET, SQL_USERS " WHERE id = $1")                                                                \
	X(USER_GET_BY_EMAIL, SQL_USERS " WHERE email = $1")                                                    \
	X(TOKEN_IS_REVOKED, "SELECT 1 FROM revoked_tokens WHERE jti = $1 AND expires_at > $2")                 \
	/* the kv group's live records (store version 7): kv_get, and kv_list by index kv_rank */              \
	X(KV_GET, "SELECT key, value, version, rank, expires_at FROM kv WHERE ns = $1 AND key = $2"            \
	          " AND (expires_at = 0 OR expires_at > $3)")                                                  \
	X(KV_LIST, "SELECT key, value, version, rank, expires_at FROM kv WHERE ns = $1"                        \
	           " AND (expires_at = 0 OR expires_at > $2) ORDER BY rank, key LIMIT $3")                     \
	/* the resolvers of writes (with the write's arguments) */                                             \
	X(CURSOR_AT, "SELECT 1 FROM consumer_cursors WHERE group_name = $1 AND position = $3")                 \
	X(USER_HASH_IS, "SELECT 1 FROM users WHERE id = $1 AND password_hash = $3")                           \
	X(TOKEN_REVOKED_UNTIL, "SELECT 1 WHERE $2 <= $3 OR EXISTS (SELECT 1 FROM revoked_tokens"                \
	                       " WHERE jti = $1 AND expires_at >= $2)")                                        \
	/* the scan's tables, read in one snapshot (the driver's snapshot) */                                  \
	X(SCAN_SEATS, "SELECT s.showtime_id, " SQL_SEAT_COLUMNS(D) " FROM showtime_seats AS s"                  \
	              " ORDER BY s.showtime_id, s.position")                                                   \
	X(SCAN_BOOKINGS, SQL_BOOKINGS(D) " ORDER BY " D(BOOKING_TIE))                                          \
	X(SCAN_PAYMENTS, "SELECT " SQL_PAYMENT_COLUMNS " FROM payments ORDER BY " D(DUE_TIE))                  \
	X(SCAN_IDEMPOTENCY, "SELECT user_id, key, payment_id, completed FROM idempotency_keys"                 \
	                    " ORDER BY " D(SCAN_IDEMPOTENCY))                                                  \
	X(SCAN_EVENTS, "SELECT " SQL_EVENT_COLUMNS " FROM outbox ORDER BY " D(SCAN_EVENTS))                    \
	X(SCAN_INBOX, "SELECT group_name, event_id FROM inbox ORDER BY " D(SCAN_INBOX))

/*
 * W(ID, text, RESOLVE): every write of the shared members. A write is one
 * statement on PostgreSQL (what SQLite runs as several is a CTE there);
 * on SQLite its text may hold several statements, run in order in one
 * transaction. Its answer is the number of rows it changed: the
 * PostgreSQL statement's, SQLite's first statement's. RESOLVE is the
 * statement that tells, after a lost reply on PostgreSQL, whether the
 * write committed (a row: yes), run with the write's arguments; a write
 * that is its own resolver is idempotent and settled by running it again.
 */
/* VALUES with a scalar subquery, not INSERT ... SELECT: SQLite would first copy a SELECT from the table it inserts into */
#define SQL_EVENT_INSERT(id, type, agg_type, agg_id, occurred, corr, tp, data)                                 \
	"INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id,"   \
	" traceparent, data_json) VALUES (" id ", " type ", " agg_type ", " agg_id ","                         \
	" (SELECT coalesce(max(sequence), 0) + 1 FROM outbox WHERE aggregate_id = " agg_id "), "              \
	occurred ", " corr ", " tp ", " data ")"
/* Are the strings of the JSON array p distinct? (each: the dialect's JSON_EACH) */
#define SQL_DISTINCT(each, p) "(SELECT count(DISTINCT value) FROM " each "(" p ")) = json_array_length(" p ")"
#define SQL_WRITES(W, D)                                                                                       \
	W(MOVIE_INSERT, "INSERT INTO movies (id, title, duration_minutes, created_at) VALUES ($1, $2, $3, $4)",  \
	  MOVIE_GET)                                                                                           \
	W(THEATER_INSERT, "INSERT INTO theaters (id, name, city, created_at) VALUES ($1, $2, $3, $4)", THEATER_GET) \
	/* $4, $5, $7: labels, categories, columns (JSON); no row when the theater is missing or a label repeats */ \
	W(SCREEN_INSERT, D(SCREEN_INSERT), SCREEN_GET)                                                         \
	/* $7, $8: the price categories and amounts as JSON arrays; no row when the movie or screen is missing */ \
	W(SHOWTIME_INSERT, D(SHOWTIME_INSERT), SHOWTIME_GET)                                                   \
	W(OUTBOX_MARK, "UPDATE outbox SET published = true WHERE id IN (SELECT value FROM " D(JSON_EACH) "($1))" \
	               " AND NOT published", OUTBOX_MARK)                                                      \
	/* compare-and-set: no row when the cursor is not at $2 (a missing cursor is at 0) */                  \
	W(CURSOR_ADVANCE, "INSERT INTO consumer_cursors (group_name, position) SELECT $1, $3"                  \
	                  " WHERE $2 = 0 OR EXISTS (SELECT 1 FROM consumer_cursors WHERE group_name = $1)"      \
	                  " ON CONFLICT (group_name) DO UPDATE SET position = excluded.position"                \
	                  " WHERE consumer_cursors.position = $2", CURSOR_AT)                                  \
	W(INBOX_MARK, "INSERT INTO inbox (group_name, event_id, applied_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", \
	  INBOX_SEEN)                                                                                          \
	W(DEAD_LETTER_PUT, "INSERT INTO dead_letters (group_name, event_id, reason, envelope_json, dead_at)"      \
	                   " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", DEAD_LETTER_PUT)            \
	/* the user, then its event ($7..$14) */                                                               \
	W(USER_INSERT, D(BEFORE) "INSERT INTO users (id, email, role, password_hash, created_at, updated_at)"   \
	               " VALUES ($1, $2, $3, $4, $5, $6)" D(THEN)                                              \
	               SQL_EVENT_INSERT("$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14"), USER_GET)       \
	/* no row when the user is missing or its hash is not $2 (NULL: any) */                                \
	W(USER_SET_HASH, "UPDATE users SET password_hash = $3, updated_at = $4"                                 \
	                 " WHERE id = $1 AND ($2 IS NULL OR password_hash = $2)", USER_HASH_IS)                \
	/* forget dead revocations, keep this one until its token expires (the later expiry wins) */           \
	W(TOKEN_REVOKE, D(BEFORE) "DELETE FROM revoked_tokens WHERE expires_at <= $3 AND jti <> $1" D(THEN)     \
	                "INSERT INTO revoked_tokens (jti, expires_at) SELECT $1, $2 WHERE $2 > $3"              \
	                " ON CONFLICT (jti) DO UPDATE SET expires_at = " D(GREATEST) "(revoked_tokens.expires_at," \
	                " excluded.expires_at)", TOKEN_REVOKED_UNTIL)

/* The fragments, per dialect: D(NAME) is SQL_PG_NAME or SQL_LITE_NAME. */
#define SQL_PG(name) SQL_PG_##name
#define SQL_LITE(name) SQL_LITE_##name
/*
 * The order a showtime's seat rows are read in. SQLite's showtime_seats is
 * keyed (showtime_id, label) WITHOUT ROWID: read by position, each row is a
 * search of the position index and then of the table (100 000 seats: 62 ms);
 * read in key order, one pass over the table's pages (22 ms). The rows are
 * put in position order after (sql_seat_list()).
 */
#define SQL_PG_SEAT_ORDER "s.position"
#define SQL_LITE_SEAT_ORDER "s.label"
#define SQL_PG_TIE "id"
#define SQL_LITE_TIE "rowid"
#define SQL_PG_DUE_TIE "created_at, id"
#define SQL_LITE_DUE_TIE "rowid"
/* SQLite's bookings have no rowid (schema version 10): keyed by id, and each of their indexes ends with it. */
#define SQL_PG_BOOKING_TIE SQL_PG_DUE_TIE
#define SQL_LITE_BOOKING_TIE "id"
#define SQL_PG_SEQ "seq"
#define SQL_LITE_SEQ "rowid"
#define SQL_PG_SCAN_IDEMPOTENCY "created_at, user_id, key"
#define SQL_LITE_SCAN_IDEMPOTENCY "user_id, key"
#define SQL_PG_SCAN_EVENTS "position NULLS LAST, seq" /* unnumbered: committed after the snapshot's numbering */
#define SQL_LITE_SCAN_EVENTS "position"
#define SQL_PG_SCAN_INBOX "applied_at, group_name, event_id"
#define SQL_LITE_SCAN_INBOX "group_name, event_id"
/*
 * A reservation's seats: two JSON arrays, its labels as the hold gave them and
 * each label's position in the layout (its showtime seat row's, 0-based:
 * PostgreSQL numbered the rows from 1), in the same order.
 */
#define SQL_PG_BOOKING_SEATS                                                                                   \
	"array_to_json(seats), array_to_json(ARRAY(SELECT s.position - 1 FROM unnest(b.seats) WITH ORDINALITY"   \
	" AS u(label, n) JOIN showtime_seats AS s ON s.showtime_id = b.showtime_id AND s.label = u.label"        \
	" ORDER BY u.n))"
#define SQL_LITE_BOOKING_SEATS                                                                                 \
	"b.seats, (SELECT json_group_array((SELECT s.position FROM showtime_seats AS s"                         \
	" WHERE s.showtime_id = b.showtime_id AND s.label = bs.value))"                                        \
	" FROM (SELECT value FROM json_each(b.seats) ORDER BY key) AS bs)"
/*
 * A screen's seats: three JSON arrays, its labels, categories and columns
 * (catalog version 2; a PostgreSQL screen from before schema version 7 has
 * no seat_columns: '[]' leaves them 0, "not given").
 */
#define SQL_PG_SCREEN_SEATS                                                                                    \
	"array_to_json(seat_labels), array_to_json(seat_categories), coalesce(array_to_json(seat_columns), '[]')"
#define SQL_LITE_SCREEN_SEATS                                                                                  \
	SQL_LITE_JSON("label", "screen_seats", "screen_id = s.id") ", "                                        \
	SQL_LITE_JSON("category", "screen_seats", "screen_id = s.id") ", "                                     \
	SQL_LITE_JSON("seat_column", "screen_seats", "screen_id = s.id")
/* A seat's note (catalog version 2): showtime_seats has it since SQLite's schema version 6, PostgreSQL's 7. */
#define SQL_PG_SEAT_NOTE "s.note"
#define SQL_LITE_SEAT_NOTE "s.note"
#define SQL_PG_PRICES "array_to_json(price_categories), array_to_json(price_amounts)"
#define SQL_LITE_PRICES                                                                                        \
	SQL_LITE_JSON("category", "showtime_prices", "showtime_id = t.id") ", "                                \
	SQL_LITE_JSON("amount", "showtime_prices", "showtime_id = t.id")
/* A column of child rows as one JSON array, in position order. */
#define SQL_LITE_JSON(column, table, where)                                                                    \
	"(SELECT json_group_array(" column ") FROM (SELECT " column " FROM " table " WHERE " where               \
	" ORDER BY position))"
/* PostgreSQL numbers the outbox after commit, as its readers read (postgres/schema.c). */
#define SQL_PG_UNPUBLISHED "booking_outbox_unpublished($1)"
#define SQL_LITE_UNPUBLISHED "outbox WHERE published = 0 ORDER BY position LIMIT $1"
#define SQL_PG_OUTBOX_READ "booking_outbox_read($1, $2)"
#define SQL_LITE_OUTBOX_READ "outbox WHERE position > $1 ORDER BY position LIMIT $2"

/* A write's statements: SQLite runs them one after the other, PostgreSQL the first as a CTE of the second. */
#define SQL_PG_BEFORE "WITH w AS ("
#define SQL_PG_THEN ") "
#define SQL_LITE_BEFORE ""
#define SQL_LITE_THEN "; "
#define SQL_PG_GREATEST "greatest"
#define SQL_LITE_GREATEST "max"
/* The elements of a JSON array (a text argument) as rows of one column, `value`. */
#define SQL_PG_JSON_EACH "json_array_elements_text"
#define SQL_LITE_JSON_EACH "json_each"
/* The JSON array $n in order, as a PostgreSQL array. */
#define SQL_PG_ARRAY(n, type)                                                                                  \
	"ARRAY(SELECT value" type " FROM json_array_elements_text(" n ") WITH ORDINALITY AS j(value, n) ORDER BY n)"
#define SQL_PG_SCREEN_INSERT                                                                                   \
	"INSERT INTO screens (id, theater_id, name, seat_labels, seat_categories, seat_columns, created_at)"   \
	" SELECT $1, $2, $3, " SQL_PG_ARRAY("$4", "") ", " SQL_PG_ARRAY("$5", "") ", "                         \
	SQL_PG_ARRAY("$7", "::integer") ", $6"                                                                 \
	" WHERE EXISTS (SELECT 1 FROM theaters WHERE id = $2) AND " SQL_DISTINCT(SQL_PG_JSON_EACH, "$4")
#define SQL_LITE_SCREEN_INSERT                                                                                 \
	"INSERT INTO screens (id, theater_id, name, created_at) SELECT $1, $2, $3, $6"                          \
	" WHERE EXISTS (SELECT 1 FROM theaters WHERE id = $2) AND " SQL_DISTINCT(SQL_LITE_JSON_EACH, "$4") "; "          \
	"INSERT INTO screen_seats (screen_id, position, label, category, seat_column)"                          \
	" SELECT $1, l.key, l.value, c.value, coalesce(k.value, 0) FROM json_each($4) AS l"                     \
	" CROSS JOIN (SELECT key, value FROM json_each($5) LIMIT -1) AS c ON c.key = l.key"                    \
	" LEFT JOIN (SELECT key, value FROM json_each($7) LIMIT -1) AS k ON k.key = l.key"                     \
	" WHERE EXISTS (SELECT 1 FROM screens WHERE id = $1)"
/* The labels scanned once (CROSS JOIN keeps them outermost), the categories and columns materialized
 * (LIMIT -1) and searched by key through SQLite's automatic index: n log n. A plain join of two
 * json_each, or json_extract($5, '$[k]') per seat, is n * n (50 s for 100 000 seats). */
#define SQL_PG_SHOWTIME_INSERT                                                                                 \
	"WITH seats AS (INSERT INTO showtime_seats (showtime_id, label, category, position)"                  \
	" SELECT $1, u.label, u.category, u.ord FROM screens AS s,"                                             \
	" unnest(s.seat_labels, s.seat_categories) WITH ORDINALITY AS u(label, category, ord)"                 \
	" WHERE s.id = $3 AND EXISTS (SELECT 1 FROM movies WHERE id = $2))"                                      \
	" INSERT INTO showtimes (id, movie_id, screen_id, starts_at, currency, status, price_categories,"       \
	" price_amounts, created_at) SELECT $1, $2, $3, $4, $5, $6, " SQL_PG_ARRAY("$7", "") ", "              \
	SQL_PG_ARRAY("$8", "::bigint") ", $9"                                                                  \
	" WHERE EXISTS (SELECT 1 FROM movies WHERE id = $2) AND EXISTS (SELECT 1 FROM screens WHERE id = $3)"
#define SQL_LITE_SHOWTIME_INSERT                                                                               \
	"INSERT INTO showtimes (id, movie_id, screen_id, starts_at, currency, status, created_at)"              \
	" SELECT $1, $2, $3, $4, $5, $6, $9"                                                                   \
	" WHERE EXISTS (SELECT 1 FROM movies WHERE id = $2) AND EXISTS (SELECT 1 FROM screens WHERE id = $3); " \
	"INSERT INTO showtime_prices (showtime_id, position, category, amount) SELECT $1, c.key, c.value, a.value" \
	" FROM json_each($7) AS c JOIN json_each($8) AS a ON a.key = c.key"                                    \
	" WHERE EXISTS (SELECT 1 FROM showtimes WHERE id = $1); "                                              \
	"INSERT INTO showtime_seats (showtime_id, label, category, position)"                                  \
	" SELECT $1, label, category, position FROM screen_seats"                                              \
	" WHERE screen_id = $3 AND EXISTS (SELECT 1 FROM showtimes WHERE id = $1)"

/*
 * --- the tables both schemas define alike (each store's schema.c takes
 * them into its version 1 or 2), one definition, with the dialect's
 * fragments D(NAME). Column types are PostgreSQL's; SQLite gives
 * smallint, integer and bigint INTEGER affinity, text TEXT. A PostgreSQL
 * PRIMARY KEY is NOT NULL anyway, SQLite's only when it says so.
 */
/* A text compared, sorted or joined: COLLATE "C" in PostgreSQL (byte order, like strcmp, and fast). */
#define SQL_PG_KEY "text COLLATE \"C\""
#define SQL_LITE_KEY "text"
/* An index ordered by creation: PostgreSQL's ends with id, SQLite's with the rowid every index holds. */
#define SQL_PG_BY_ID ", id"
#define SQL_LITE_BY_ID ""
/* A table looked up by its primary key only: SQLite keeps it in the key's B-tree, without a rowid. */
#define SQL_PG_KEYED ""
#define SQL_LITE_KEYED " WITHOUT ROWID"
/*
 * The seats of a showtime. PostgreSQL: no index covers the columns a hold
 * changes, and the fill factor leaves room on each page, so claiming a
 * seat is a HOT update.
 */
#define SQL_PG_SEATS_STORAGE " WITH (fillfactor = 70)"
#define SQL_LITE_SEATS_STORAGE " WITHOUT ROWID"

#define SQL_SCHEMA_MOVIES_THEATERS(D)                                                                          \
	"CREATE TABLE movies ("                                                                                \
	" id " D(KEY) " PRIMARY KEY NOT NULL,"                                                                 \
	" title text NOT NULL,"                                                                                \
	" duration_minutes integer NOT NULL,"                                                                  \
	" created_at bigint NOT NULL)",                                                                        \
	"CREATE INDEX movies_created ON movies (created_at" D(BY_ID) ")",                                      \
	"CREATE TABLE theaters ("                                                                              \
	" id " D(KEY) " PRIMARY KEY NOT NULL,"                                                                 \
	" name text NOT NULL,"                                                                                 \
	" city text NOT NULL DEFAULT '',"                                                                      \
	" created_at bigint NOT NULL)",                                                                        \
	"CREATE INDEX theaters_created ON theaters (created_at" D(BY_ID) ")"
/* status: 0 FREE, 1 HELD (claimable again once hold_until <= now), 2 SOLD; booking_id NULL when free. */
#define SQL_SCHEMA_SHOWTIME_SEATS(D)                                                                           \
	"CREATE TABLE showtime_seats ("                                                                        \
	" showtime_id " D(KEY) " NOT NULL REFERENCES showtimes (id),"                                          \
	" label " D(KEY) " NOT NULL,"                                                                          \
	" category text NOT NULL,"                                                                             \
	" position integer NOT NULL,"                                                                          \
	" status smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),"                                     \
	" booking_id " D(KEY) ","                                                                              \
	" hold_until bigint NOT NULL DEFAULT 0,"                                                               \
	" version bigint NOT NULL DEFAULT 0,"                                                                  \
	" PRIMARY KEY (showtime_id, label))" D(SEATS_STORAGE),                                                 \
	"CREATE UNIQUE INDEX showtime_seats_position ON showtime_seats (showtime_id, position)"
/*
 * Catalog version 2 (a later migration of each store): a seat's status
 * may be 3 BLOCKED too (taken out of sale: no holder), and a seat has the
 * note the last seat write gave it (a block's reason), '' when none.
 */
#define SQL_SCHEMA_SEAT_STATUSES "CHECK (status IN (0, 1, 2, 3))"
#define SQL_SCHEMA_SEAT_NOTE "note text NOT NULL DEFAULT ''"
#define SQL_SCHEMA_CURSORS_INBOX(D)                                                                            \
	"CREATE TABLE consumer_cursors ("                                                                      \
	" group_name " D(KEY) " PRIMARY KEY NOT NULL,"                                                         \
	" position bigint NOT NULL)",                                                                          \
	"CREATE TABLE inbox ("                                                                                 \
	" group_name " D(KEY) " NOT NULL,"                                                                     \
	" event_id " D(KEY) " NOT NULL,"                                                                       \
	" applied_at bigint NOT NULL,"                                                                         \
	" PRIMARY KEY (group_name, event_id))" D(KEYED)
/* Users (email normalised by the core, unique; role 1 customer, 2 admin: booking_role) and revoked tokens until their expiry. */
#define SQL_SCHEMA_USERS(D)                                                                                    \
	"CREATE TABLE users ("                                                                                 \
	" id " D(KEY) " PRIMARY KEY NOT NULL,"                                                                 \
	" email " D(KEY) " NOT NULL UNIQUE,"                                                                   \
	" role smallint NOT NULL CHECK (role IN (1, 2)),"                                                      \
	" password_hash text NOT NULL,"                                                                        \
	" created_at bigint NOT NULL,"                                                                         \
	" updated_at bigint NOT NULL)",                                                                        \
	"CREATE TABLE revoked_tokens ("                                                                        \
	" jti " D(KEY) " PRIMARY KEY NOT NULL,"                                                                \
	" expires_at bigint NOT NULL)" D(KEYED),                                                               \
	"CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at)"
/*
 * The kv group's records (store version 7): a namespace's live ones in
 * (rank, key) order, the expired ones (expires_at > 0) by expiry for the
 * purge. Then what each store's put runs (SQLite's in its write
 * transaction, PostgreSQL's in booking_kv_put()): a record's live version
 * (0 when expired; `p` prefixes its columns); its write and its delete,
 * each only while its live version is `exp`; the purge of a few expired
 * records of any namespace (PostgreSQL: of those no one has locked).
 */
#define SQL_SCHEMA_KV(D)                                                                                       \
	"CREATE TABLE IF NOT EXISTS kv ("                                                                      \
	" ns " D(KEY) " NOT NULL,"                                                                             \
	" key " D(KEY) " NOT NULL,"                                                                            \
	" value text NOT NULL,"                                                                                \
	" version bigint NOT NULL,"                                                                            \
	" rank bigint NOT NULL,"                                                                               \
	" expires_at bigint NOT NULL,"                                                                         \
	" PRIMARY KEY (ns, key))" D(KEYED),                                                                    \
	"CREATE INDEX IF NOT EXISTS kv_rank ON kv (ns, rank, key)",                                            \
	"CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at) WHERE expires_at > 0"
#define SQL_KV_VERSION(p, now) "CASE WHEN " p "expires_at = 0 OR " p "expires_at > " now " THEN " p "version ELSE 0 END"
#define SQL_KV_SET(ns, key, exp, value, rank, expires, now)                                                    \
	"INSERT INTO kv (ns, key, value, version, rank, expires_at) VALUES (" ns ", " key ", " value ", " exp " + 1, " \
	rank ", " expires ") ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, version = excluded.version," \
	" rank = excluded.rank, expires_at = excluded.expires_at WHERE " SQL_KV_VERSION("kv.", now) " = " exp
#define SQL_KV_DELETE(ns, key, exp, now)                                                                       \
	"DELETE FROM kv WHERE ns = " ns " AND key = " key " AND " SQL_KV_VERSION("", now) " = " exp
#define SQL_KV_PURGE(D, now)                                                                                   \
	"DELETE FROM kv WHERE (ns, key) IN (SELECT ns, key FROM kv WHERE expires_at > 0 AND expires_at <= " now    \
	" LIMIT 32" D(SKIP_LOCKED) ")"
#define SQL_PG_SKIP_LOCKED " FOR UPDATE SKIP LOCKED"
#define SQL_LITE_SKIP_LOCKED ""
/*
 * Ledger version 4: the live holds of `user`, in every showtime: its
 * reservations in `status` (the core's) with expires_at > `now`, counted
 * in the write (SQLite's transaction, PostgreSQL's booking_hold() and
 * booking_guards()) on this index.
 */
#define SQL_USER_HOLDS(user, status, now)                                                                      \
	"SELECT count(*) FROM bookings WHERE user_id = " user " AND status = " status " AND expires_at > " now
#define SQL_SCHEMA_USER_HOLDS "CREATE INDEX IF NOT EXISTS bookings_user_status ON bookings (user_id, status, expires_at)"
/* Unkeyed request fingerprints erased; revocations kept the largest leeway (300 s) past exp (schema.c says why). */
#define SQL_SCHEMA_ERASE_HASHES                                                                                \
	"UPDATE idempotency_keys SET request_hash = 'erased' WHERE request_hash NOT LIKE 'hmac-sha256:%'"
#define SQL_SCHEMA_REVOKED_LEEWAY "UPDATE revoked_tokens SET expires_at = expires_at + 300000"

#define SQL_ID(id, text) SQLQ_##id,
#define SQL_WID(id, text, resolve) SQLQ_##id,
typedef enum sql_qid { SQL_STATEMENTS(SQL_ID, SQL_PG) SQL_WRITES(SQL_WID, SQL_PG) SQLQ_COUNT } sql_qid;
#undef SQL_ID
#undef SQL_WID

/* The texts of one dialect, indexed by sql_qid: SQL_TEXTS(SQL_PG) or SQL_TEXTS(SQL_LITE). */
#define SQL_TEXT(id, text) [SQLQ_##id] = (text),
#define SQL_WTEXT(id, text, resolve) [SQLQ_##id] = (text),
#define SQL_TEXTS(D) {SQL_STATEMENTS(SQL_TEXT, D) SQL_WRITES(SQL_WTEXT, D)}
/* Each write's resolver, indexed by sql_qid (reads: 0). */
#define SQL_RESOLVER(id, text, resolve) [SQLQ_##id] = SQLQ_##resolve,
#define SQL_RESOLVERS {SQL_WRITES(SQL_RESOLVER, SQL_PG)}
/* The most statements a write's text holds on SQLite. */
#define SQL_MAX_PARTS 3

/* --- arguments, rows and the driver ---------------------------------------- */

/*
 * An argument: text (NULL is SQL NULL), a JSON array (text), a PostgreSQL
 * array literal (text, its type the statement's cast) or a 64-bit integer.
 */
typedef struct sql_arg {
	char type; /* 't', 'j', 'a' or 'i' */
	const char *text;
	int64_t i64;
} sql_arg;

#define SQL_T(s) {'t', (s), 0}
#define SQL_E(s) {'t', (s) != NULL ? (s) : "", 0} /* NULL as "" */
#define SQL_J(s) {'j', (s), 0}
#define SQL_A(s) {'a', (s), 0}
#define SQL_I(v) {'i', NULL, (int64_t)(v)}

typedef struct sql_store sql_store;

/* The rows of a query; the fields are the driver's. */
typedef struct sql_rows {
	sql_store *st;
	void *conn;     /* SQLite: the connection, held until done() */
	void *res;      /* sqlite3_stmt * or PGresult * */
	int row, count; /* PostgreSQL: the current row and the number of rows */
} sql_rows;

/*
 * A store's schema, for the one migration engine (migrate.c). On a
 * connection of the store's: read the version (the usual case: up to
 * date, one read); when it is behind, run `lock` (it begins the write
 * transaction, takes the migration lock, creates schema_migrations), read
 * it again, apply each missing version's statements, record it and
 * COMMIT: every missing version in one transaction, so processes starting
 * together apply each once and no database is seen between two versions.
 * On an error the connection goes back to the pool, which rolls back.
 */
typedef struct sql_schema {
	int latest;                      /* the version this code writes */
	const char *const *const *steps; /* steps[v]: the statements from version v to v + 1, NULL-terminated */
	const char *const *lock;         /* run first, NULL-terminated; the first begins the transaction */
	const char *record;              /* the statement(s) recording version %d (printf, given twice) */
	/* The recorded version on `conn` (0: none yet). */
	int (*version)(void *conn, int *version_out);
	/* Called after a migration from `from` to `to` (optional). */
	void (*after)(sql_store *st, int from, int to);
} sql_schema;

typedef struct sql_driver {
	/* Run statement `q` with `n` arguments; on 0, `rows` is ready for next() and must be done(). */
	int (*query)(sql_store *st, sql_qid q, const sql_arg *args, size_t n, sql_rows *rows);
	/* 1: at the next row; 0: no more rows; < 0: an error (set). */
	int (*next)(sql_rows *rows);
	int64_t (*i64)(const sql_rows *rows, int col); /* a boolean as 1 or 0; 0 for NULL */
	/* NULL or "" for NULL; borrowed until the next next() or done() */
	const char *(*text)(const sql_rows *rows, int col);
	void (*done)(sql_rows *rows);
	/*
	 * Run write `q` (SQL_WRITES) as one transaction: SQLite takes the
	 * writer lock and runs its statements in BEGIN IMMEDIATE; PostgreSQL
	 * runs its one statement, retried after a deadlock and settled by its
	 * resolver after a lost reply. *changed: the rows it changed (a write
	 * settled as committed: 1).
	 */
	int (*write)(sql_store *st, sql_qid q, const sql_arg *args, size_t n, int64_t *changed);
	/*
	 * Run the reads qs[0..n) (no arguments, at most SQL_SNAPSHOT_MAX) in
	 * one read-only snapshot and hand each one's rows to walk() in turn,
	 * which steps them with next() (never done()); the first non-zero
	 * answer stops. SQLite: BEGIN DEFERRED on one connection, walk()
	 * running with it checked out; PostgreSQL: booking_outbox_sequence()
	 * first when SCAN_EVENTS is asked (what committed so far is numbered;
	 * later commits show position 0), then REPEATABLE READ READ ONLY, the
	 * results read and the connection given back before walk() runs.
	 */
	int (*snapshot)(sql_store *st, const sql_qid *qs, size_t n, int (*walk)(sql_qid q, sql_rows *rows, void *arg),
	                void *arg);
	/* Check a connection out of the store's pool; give it back (an open transaction is rolled back). */
	int (*acquire)(sql_store *st, void **conn_out);
	void (*release)(sql_store *st, void *conn);
	/* Run a statement text (no arguments, no rows) on a checked-out connection. */
	int (*exec)(void *conn, const char *sql);
	const sql_schema *schema;
	/*
	 * The kv group's put (store version 7; NULL: the store has no kv
	 * group), req checked: in one transaction, compare the record's live
	 * version with req->expected_version and, equal, write or delete it,
	 * append the events and purge (SQL_KV_*); *written whether it did,
	 * *live the record's version after it (not written: the live one).
	 */
	int (*kv_put)(sql_store *st, const booking_store_kv_put *req, bool *written, int64_t *live);
} sql_driver;

#define SQL_SNAPSHOT_MAX 8

struct sql_store {
	booking_store parent;
	const sql_driver *driver;
};

/* --- the store (store.c) ---------------------------------------------------- */

/*
 * The root of a store on the layer: `driver`, the store's own free, the
 * shared migrate and scan, and the group tables: the catalog, outbox,
 * users and kv (when the driver has a kv_put) are the shared ones (the
 * catalog at `catalog_version`: 1, or BOOKING_STORE_CATALOG_VERSION once
 * the store's schema keeps seat columns, blocks and notes), the ledger
 * the store's (SQL_LEDGER: the shared members with the store's hold and
 * apply).
 */
void sql_store_init(sql_store *st, const sql_driver *driver, unsigned int catalog_version,
                    const booking_store_ledger *ledger, void (*free_fn)(booking_store *));
/* The migration engine (migrate.c), with the driver's schema. */
int sql_migrate(int *version_out, booking_store *st);
/*
 * A store's ledger: the shared members with its hold and apply, at
 * `version` (BOOKING_STORE_LEDGER_VERSION once its apply takes the
 * version 2 change; reservation_list_by_showtime is there either way).
 */
#define SQL_LEDGER(version_, hold_fn, apply_fn)                                                                \
	{                                                                                                      \
		.version = (version_), .hold = (hold_fn), .reservation_get = sql_reservation_get,              \
		.reservation_list_by_user = sql_reservation_list_by_user, .apply = (apply_fn),                 \
		.reservation_list_by_status = sql_reservation_list_by_status, .idempotency_get = sql_idempotency_get, \
		.payment_get = sql_payment_get, .payment_list_by_status = sql_payment_list_by_status,          \
		.payment_attempts = sql_payment_attempts,                                                      \
		.reservation_list_by_showtime = sql_reservation_list_by_showtime,                              \
	}

/* --- the shared members (reads.c) ------------------------------------------ */

int sql_movie_get(booking_movie **out, booking_store *st, const char *id);
int sql_movie_list(booking_store *st, booking_store_movie_cb cb, void *payload);
int sql_theater_get(booking_theater **out, booking_store *st, const char *id);
int sql_theater_list(booking_store *st, booking_store_theater_cb cb, void *payload);
int sql_screen_get(booking_screen **out, booking_store *st, const char *id);
int sql_showtime_get(booking_showtime **out, booking_store *st, const char *id);
int sql_showtime_list(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *payload);
int sql_seat_list(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *payload);
int sql_seat_states(booking_store *st, const char *showtime_id, booking_seat_status except,
                    booking_store_seat_state_cb cb, void *payload);

int sql_reservation_get(booking_reservation **out, booking_store *st, const char *id);
int sql_reservation_list_by_user(booking_store *st, const char *user_id, int64_t after_created_at, const char *after_id,
                             size_t max, booking_store_reservation_cb cb, void *payload);
int sql_reservation_list_by_status(booking_store *st, booking_reservation_status status, int64_t expires_before, size_t max,
                               booking_store_reservation_cb cb, void *payload);
int sql_reservation_list_by_showtime(booking_store *st, const char *showtime_id, booking_reservation_status status,
                                     int64_t after_created_at, const char *after_id, size_t max,
                                     booking_store_reservation_cb cb, void *payload);
int sql_idempotency_get(booking_store_idempotency_record *out, booking_store *st, const char *user_id,
                        const char *key);
int sql_payment_get(booking_payment **out, booking_store *st, const char *id);
int sql_payment_list_by_status(booking_store *st, booking_payment_status status, int64_t created_before, size_t max,
                               booking_store_payment_cb cb, void *payload);
int sql_payment_attempts(booking_store_payment_attempts *out, booking_store *st, const char *user_id,
                         const char *idempotency_key, const char *reservation_id, booking_payment_status status,
                         int64_t since);

int sql_outbox_unpublished(booking_store *st, size_t max, booking_store_event_cb cb, void *payload);
int sql_outbox_read(booking_store *st, int64_t after, size_t max, booking_store_event_cb cb, void *payload);
int sql_cursor_get(int64_t *position_out, booking_store *st, const char *group);
/* BOOKING_EVALIDATION: "store: <what> is required". */
int sql_missing(const char *what);
/* Run read `q`: *found whether it answers a row, *value (may be NULL) the row's first column as an integer. */
int sql_first(booking_store *st, sql_qid q, const sql_arg *args, size_t n, bool *found, int64_t *value);
int sql_inbox_seen(bool *seen_out, booking_store *st, const char *group, const char *event_id);
/* The integrity scan: the tables its callbacks ask for, in one snapshot (the driver's). */
int sql_scan(booking_store *st, const booking_store_scan_cbs *cbs, void *payload);
int sql_dead_letter_list(booking_store *st, const char *group,
                         int (*cb)(const char *group, const char *event_id, const char *reason,
                                   const char *envelope_json, int64_t dead_at, void *payload),
                         void *payload);

/*
 * Read the JSON array in column `col` into records of `record_size` bytes:
 * element i goes to offset `off` of record i, a string in `size` bytes, an
 * integer (size 0) as an int64_t. With *items NULL, one record per element
 * is allocated as a record array (booking_record_array_new(): a pointer
 * each, as the public records hold them; none when empty) and *count set;
 * otherwise the first *count records are filled.
 */
int sql_json_items(const sql_rows *r, int col, void ***items, size_t *count, size_t record_size, size_t off,
                   size_t size);

/*
 * An array of n elements of the records at `base`, `stride` bytes apart
 * (stride 0: `base` is an array of n pointers to the records, as the
 * public records' arrays are),
 * each at offset `off`: kind 's' a string of at most `max` bytes in place,
 * 'p' a const char * (NULL: left out of JSON, "" in PostgreSQL), 'j' one
 * (NULL: "{}"), 'i' an int64_t, 'e' an int. A JSON array, or with `pg` a
 * PostgreSQL array literal. booking_malloc'd; NULL when out of memory (the
 * error set).
 */
char *sql_array(const void *base, size_t n, size_t stride, size_t off, size_t max, char kind, bool pg);

/* --- the shared writes (writes.c) ------------------------------------------ */

int sql_movie_insert(booking_store *st, const booking_movie *m);
int sql_theater_insert(booking_store *st, const booking_theater *t);
int sql_screen_insert(booking_store *st, const booking_screen *s);
int sql_showtime_insert(booking_store *st, const booking_showtime *s);
int sql_outbox_mark_published(booking_store *st, const char *const *event_ids, size_t n);
int sql_cursor_advance(booking_store *st, const char *group, int64_t expected, int64_t position);
int sql_inbox_mark(booking_store *st, const char *group, const char *event_id, int64_t now);
int sql_dead_letter_put(booking_store *st, const char *group, const char *event_id, const char *reason,
                        const char *envelope_json, int64_t now);
int sql_user_insert(booking_store *st, const booking_store_user_insert *req);
int sql_user_set_password_hash(booking_store *st, const char *id, const char *expected_hash, const char *new_hash,
                               int64_t now);
int sql_token_revoke(booking_store *st, const char *jti, int64_t expires_at, int64_t now);

int sql_user_get(booking_user **out, char **password_hash_out, booking_store *st, const char *id);
int sql_user_get_by_email(booking_user **out, char **password_hash_out, booking_store *st, const char *email);
int sql_token_is_revoked(bool *revoked_out, booking_store *st, const char *jti, int64_t now);

int sql_kv_get(booking_store_kv_record *out, booking_store *st, const char *ns, const char *key, int64_t now);
int sql_kv_list(booking_store *st, const char *ns, int64_t now, size_t max, booking_store_kv_cb cb, void *payload);
int sql_kv_put(int64_t *version_out, booking_store *st, const booking_store_kv_put *req);

#endif
