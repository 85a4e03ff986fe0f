/*
 * PostgreSQL store — versioned schema migrations: the statements of each
 * version and the hooks of the shared engine (sql/migrate.c).
 *
 * schema_migrations holds one row per applied version. Opening a store
 * reads the version (one query); when it is behind, one transaction takes
 * pg_advisory_xact_lock(PG_LOCK_MIGRATE), re-reads the version under the
 * lock and applies what is missing, so processes that start together
 * apply each version exactly once and the others wait, then see it done.
 * A database with a version newer than PG_SCHEMA_VERSION is refused with
 * BOOKING_ESCHEMA. Migrations are appended, never edited, with one kind of
 * exception: what a later version drops may be taken out of an earlier one
 * (version 1 lost the functions version 4 drops, versions 1 and 3 the
 * indexes version 5 drops, versions 1 and 2 the functions version 6
 * drops, version 4 the booking_apply() version 7 replaces, version 7 the
 * booking_apply() version 8 replaces, version 8 the booking_hold(),
 * booking_guards() and booking_apply() version 10 replaces, versions 1, 7
 * and 10 the booking_seats_set(), booking_seats_check(),
 * booking_seats_write(), booking_hold() and booking_guards() version 11
 * replaces), since every
 * missing version is applied in the one transaction and no database is
 * ever seen between them.
 *
 * The tables live in the first schema of the session's search_path
 * (libpq `options=-csearch_path=NAME` in the URL selects one); it is
 * created when missing, so one database can hold several stores.
 *
 * Version 1 also creates the PL/pgSQL functions of the hold and of what
 * apply (version 4) calls, and the outbox's (one round trip each): they
 * lock what they change in a fixed order — payment, then booking, then
 * seats by label — and return 0 or a negative booking error code. Only a
 * duplicate id (23505) escapes as an exception, which rolls the whole call
 * back. The other writes are single statements (sql/sql.h). None compares
 * a booking or payment status: the
 * core hands over the states to write and the values to compare
 * (booking_apply, version 7), and a hold's claim tests seats with
 * BOOKING_SEAT_CLAIMABLE_SQL (tests/hardening/check_backend_states.py
 * fails on a state in backends/). Version 1 created the functions that
 * decided too (booking_transition, booking_pay_begin, booking_pay_finish,
 * booking_refund); version 4 drops them, and a new database never gets
 * them.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The one event of a write (e_* arrays of one): appended with the next
 * sequence of its aggregate. booking_append_events() (version 1) and
 * booking_hold_claim() (version 12) insert it with this one text.
 */
#define PG_APPEND_ONE_EVENT                                                                                   \
	"   INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id,"   \
	"    traceparent, data_json)"                                                                            \
	"   VALUES (e_id[1], e_type[1], e_agg_type[1], e_agg_id[1],"                                             \
	"    coalesce((SELECT max(o.sequence) FROM outbox o WHERE o.aggregate_id = e_agg_id[1]), 0) + 1,"       \
	"    e_occurred[1], e_corr[1], e_tp[1], e_data[1]);"

/* All text that is compared, sorted or joined is COLLATE "C": byte order (like strcmp), and fast. */
static const char *const SCHEMA_V1[] = {
	/* --- catalog ----------------------------------------------------------- */
	SQL_SCHEMA_MOVIES_THEATERS(SQL_PG),
	/* a screen's seats in layout order, as two parallel arrays */
	"CREATE TABLE screens ("
	" id text COLLATE \"C\" PRIMARY KEY,"
	" theater_id text COLLATE \"C\" NOT NULL REFERENCES theaters (id),"
	" name text NOT NULL,"
	" seat_labels text[] COLLATE \"C\" NOT NULL,"
	" seat_categories text[] NOT NULL,"
	" created_at bigint NOT NULL);",
	"CREATE INDEX screens_theater ON screens (theater_id);",
	"CREATE TABLE showtimes ("
	" id text COLLATE \"C\" PRIMARY KEY,"
	" movie_id text COLLATE \"C\" NOT NULL REFERENCES movies (id),"
	" screen_id text COLLATE \"C\" NOT NULL REFERENCES screens (id),"
	" starts_at bigint NOT NULL,"
	" currency text NOT NULL,"
	" status smallint NOT NULL,"
	" price_categories text[] NOT NULL,"
	" price_amounts bigint[] NOT NULL,"
	" created_at bigint NOT NULL);",
	"CREATE INDEX showtimes_movie ON showtimes (movie_id, starts_at, id);",
	"CREATE INDEX showtimes_starts ON showtimes (starts_at, id);",
	SQL_SCHEMA_SHOWTIME_SEATS(SQL_PG),
	/* --- reservations and payments ----------------------------------------
	 * No foreign keys on the hot tables: every writer is a function that
	 * checks what it references, and a key check would take a KEY SHARE lock
	 * on the showtime row in every hold (multixacts under a flash sale). */
	"CREATE TABLE bookings ("
	" id text COLLATE \"C\" PRIMARY KEY,"
	" user_id text COLLATE \"C\" NOT NULL,"
	" showtime_id text COLLATE \"C\" NOT NULL,"
	" status smallint NOT NULL,"
	" saga smallint NOT NULL,"
	" seats text[] COLLATE \"C\" NOT NULL,"
	" total_amount bigint NOT NULL,"
	" currency text NOT NULL,"
	" created_at bigint NOT NULL,"
	" expires_at bigint NOT NULL,"
	" updated_at bigint NOT NULL,"
	" version bigint NOT NULL);",
	"CREATE INDEX bookings_user ON bookings (user_id, created_at DESC, id DESC);",
	"CREATE TABLE payments ("
	" id text COLLATE \"C\" PRIMARY KEY,"
	" booking_id text COLLATE \"C\" NOT NULL,"
	" user_id text COLLATE \"C\" NOT NULL,"
	" status smallint NOT NULL,"
	" amount bigint NOT NULL,"
	" currency text NOT NULL,"
	" card_last4 text NOT NULL,"
	" gateway_ref text NOT NULL,"
	" failure_code text NOT NULL,"
	" refunded_amount bigint NOT NULL,"
	" created_at bigint NOT NULL,"
	" updated_at bigint NOT NULL);",
	"CREATE INDEX payments_booking ON payments (booking_id);",
	"CREATE TABLE idempotency_keys ("
	" user_id text COLLATE \"C\" NOT NULL,"
	" key text COLLATE \"C\" NOT NULL,"
	" request_hash text NOT NULL,"
	" payment_id text COLLATE \"C\" NOT NULL UNIQUE,"
	" completed boolean NOT NULL DEFAULT false,"
	" replay_error integer NOT NULL DEFAULT 0,"
	" created_at bigint NOT NULL,"
	" PRIMARY KEY (user_id, key));",
	/* --- outbox, consumers ------------------------------------------------
	 * seq: insertion order. position: the store: transport's cursor, NULL
	 * until booking_outbox_sequence() gives it (see there why). */
	"CREATE TABLE outbox ("
	" seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	" id text COLLATE \"C\" NOT NULL UNIQUE,"
	" type text NOT NULL,"
	" aggregate_type text NOT NULL,"
	" aggregate_id text COLLATE \"C\" NOT NULL,"
	" sequence bigint NOT NULL,"
	" occurred_at bigint NOT NULL,"
	" correlation_id text NOT NULL,"
	" traceparent text NOT NULL,"
	" data_json text NOT NULL,"
	" position bigint UNIQUE,"
	" published boolean NOT NULL DEFAULT false,"
	" UNIQUE (aggregate_id, sequence));",
	"CREATE INDEX outbox_unsequenced ON outbox (seq) WHERE position IS NULL;",
	"CREATE INDEX outbox_unpublished ON outbox (position) WHERE NOT published;",
	SQL_SCHEMA_CURSORS_INBOX(SQL_PG),
	"CREATE TABLE dead_letters ("
	" seq bigint GENERATED ALWAYS AS IDENTITY,"
	" group_name text COLLATE \"C\" NOT NULL,"
	" event_id text COLLATE \"C\" NOT NULL,"
	" reason text NOT NULL,"
	" envelope_json text NOT NULL,"
	" dead_at bigint NOT NULL,"
	" PRIMARY KEY (group_name, event_id));",
	"CREATE INDEX dead_letters_time ON dead_letters (dead_at, seq);",

	/* --- functions -------------------------------------------------------- */

	/* Append events: sequence = 1 + the aggregate's last (the caller holds the aggregate's row lock). */
	"CREATE FUNCTION booking_append_events(e_id text[], e_type text[], e_agg_type text[], e_agg_id text[],"
	" e_occurred bigint[], e_corr text[], e_tp text[], e_data text[]) RETURNS void LANGUAGE plpgsql AS $f$"
	" BEGIN" /* plpgsql, not sql: its plan is cached per session */
	"  IF cardinality(e_id) = 0 THEN RETURN; END IF;"
	"  IF cardinality(e_id) = 1 THEN" /* the usual case, without the batch machinery */
	PG_APPEND_ONE_EVENT
	"   RETURN;"
	"  END IF;"
	"  INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id,"
	"   traceparent, data_json)"
	"  SELECT e.id, e.type, e.agg_type, e.agg_id,"
	"   coalesce((SELECT max(o.sequence) FROM outbox o WHERE o.aggregate_id = e.agg_id), 0)"
	"    + row_number() OVER (PARTITION BY e.agg_id ORDER BY e.ord),"
	"   e.occurred, e.corr, e.tp, e.data"
	"  FROM unnest(e_id, e_type, e_agg_type, e_agg_id, e_occurred, e_corr, e_tp, e_data) WITH ORDINALITY"
	"   AS e(id, type, agg_type, agg_id, occurred, corr, tp, data, ord)"
	"  ORDER BY e.ord;"
	" END $f$;",

	/*
	 * Outbox positions. Readers of the store: transport must never skip an
	 * event, so a position may only become visible after every smaller one.
	 * A sequence or identity drawn at insert does not give that: a writer
	 * that drew 7 may commit after one that drew 8, and a reader that saw 8
	 * moves its cursor past 7 for good. Taking a lock from the insert to the
	 * commit would give it, but would serialise every commit — WAL flush
	 * included — of every write in the database.
	 *
	 * So writers insert with position NULL and never wait for each other;
	 * positions are handed out after commit by whoever reads the outbox,
	 * under pg_advisory_xact_lock(PG_LOCK_OUTBOX): the statement after the
	 * lock sees every earlier sequencing committed, numbers the committed
	 * rows still without a position after the largest one, and commits
	 * before the next sequencer can start. Positions therefore become
	 * visible in increasing order (1, 2, 3, ... with no gaps), and an event
	 * committed later always gets a larger position than any a reader has
	 * seen. Only readers ever wait on that lock.
	 */
	"CREATE FUNCTION booking_outbox_sequence() RETURNS void LANGUAGE plpgsql AS $f$"
	" DECLARE base bigint;"
	" BEGIN"
	"  IF NOT EXISTS (SELECT 1 FROM outbox WHERE position IS NULL) THEN RETURN; END IF;"
	"  PERFORM pg_advisory_xact_lock(" PG_LOCK_OUTBOX ");"
	"  SELECT coalesce(max(position), 0) INTO base FROM outbox;"
	"  UPDATE outbox o SET position = base + n.rn"
	"  FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS rn FROM outbox WHERE position IS NULL) n"
	"  WHERE o.seq = n.seq;"
	" END $f$;",

	"CREATE FUNCTION booking_outbox_read(p_after bigint, p_max bigint) RETURNS SETOF outbox"
	" LANGUAGE plpgsql AS $f$"
	" BEGIN"
	"  PERFORM booking_outbox_sequence();"
	"  RETURN QUERY SELECT * FROM outbox WHERE position > p_after ORDER BY position LIMIT p_max;"
	" END $f$;",

	"CREATE FUNCTION booking_outbox_unpublished(p_max bigint) RETURNS SETOF outbox LANGUAGE plpgsql AS $f$"
	" BEGIN"
	"  PERFORM booking_outbox_sequence();"
	"  RETURN QUERY SELECT * FROM outbox WHERE NOT published AND position IS NOT NULL"
	"   ORDER BY position LIMIT p_max;"
	" END $f$;",

	/*
	 * Hold: lock the requested seats that are claimable, in label order (two
	 * holds of overlapping seats queue instead of deadlocking; one that waited
	 * re-checks the row it waited for and skips it if it is taken now). If
	 * all of them were locked, claim them and insert the booking and its
	 * event; otherwise explain, having written nothing: -8 no showtime,
	 * -23 booking exists, -1 labels the showtime lacks, -11 labels taken.
	 */
	"CREATE FUNCTION booking_hold(p_id text, p_user text, p_showtime text, p_status smallint, p_saga smallint,"
	" p_seats text[], p_total bigint, p_currency text, p_created bigint, p_expires bigint, p_updated bigint,"
	" p_version bigint, p_now bigint,"
	" e_id text[], e_type text[], e_agg_type text[], e_agg_id text[], e_occurred bigint[], e_corr text[],"
	" e_tp text[], e_data text[], OUT rc integer, OUT labels text[]) LANGUAGE plpgsql AS $f$"
	" DECLARE locked text[];"
	" BEGIN"
	"  SELECT coalesce(array_agg(x.label), '{}') INTO locked FROM ("
	"   SELECT s.label FROM showtime_seats s WHERE s.showtime_id = p_showtime AND s.label = ANY (p_seats)"
	"    AND " BOOKING_SEAT_CLAIMABLE_SQL("s.", "p_now")
	"   ORDER BY s.label FOR UPDATE) x;"
	"  IF cardinality(locked) = cardinality(p_seats)"
	"   AND (cardinality(p_seats) > 0 OR EXISTS (SELECT 1 FROM showtimes WHERE id = p_showtime)) THEN"
	"   UPDATE showtime_seats SET status = 1, booking_id = p_id, hold_until = p_expires, version = version + 1"
	"   WHERE showtime_id = p_showtime AND label = ANY (p_seats);"
	"   INSERT INTO bookings (id, user_id, showtime_id, status, saga, seats, total_amount, currency,"
	"    created_at, expires_at, updated_at, version)"
	"   VALUES (p_id, p_user, p_showtime, p_status, p_saga, p_seats, p_total, p_currency, p_created,"
	"    p_expires, p_updated, p_version);"
	"   PERFORM booking_append_events(e_id, e_type, e_agg_type, e_agg_id, e_occurred, e_corr, e_tp, e_data);"
	"   rc := 0;"
	"   RETURN;"
	"  END IF;"
	"  IF NOT EXISTS (SELECT 1 FROM showtimes WHERE id = p_showtime) THEN rc := -8; RETURN; END IF;"
	"  IF EXISTS (SELECT 1 FROM bookings WHERE id = p_id) THEN rc := -23; RETURN; END IF;"
	"  labels := ARRAY(SELECT u.l FROM unnest(p_seats) WITH ORDINALITY u(l, o)"
	"   WHERE NOT EXISTS (SELECT 1 FROM showtime_seats s WHERE s.showtime_id = p_showtime AND s.label = u.l)"
	"   ORDER BY u.o);"
	"  IF cardinality(labels) > 0 THEN rc := -1; RETURN; END IF;"
	"  labels := ARRAY(SELECT u.l FROM unnest(p_seats) WITH ORDINALITY u(l, o)"
	"   WHERE u.l <> ALL (locked) ORDER BY u.o);"
	/* nothing taken and nothing missing: a label was requested twice */
	"  rc := CASE WHEN cardinality(labels) > 0 THEN -11 ELSE -1 END;"
	" END $f$;",

	/*
	 * Settling a write whose connection was lost: end the session that ran
	 * it (only that one: same pid and start time) and wait until it is gone.
	 * True when it is gone.
	 */
	"CREATE FUNCTION booking_end_session(p_pid integer, p_started text) RETURNS boolean"
	" LANGUAGE plpgsql AS $f$"
	" BEGIN"
	"  IF NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = p_pid AND backend_start::text = p_started)"
	"  THEN RETURN true; END IF;"
	"  RETURN pg_terminate_backend(p_pid, 10000);"
	" END $f$;",
	NULL,
};

/* Version 2: users and revoked tokens (sql/sql.h). */
static const char *const SCHEMA_V2[] = {
	SQL_SCHEMA_USERS(SQL_PG),
	NULL,
};

/*
 * Version 3: payment request fingerprints are keyed (HMAC under a secret
 * outside the database); the unkeyed SHA-256 of earlier versions could be
 * brute-forced back into a card number, so it is erased. (It created the
 * index the payment attempt limits count with too, payments_user_failed,
 * which version 5 replaces.)
 */
static const char *const SCHEMA_V3[] = {
	SQL_SCHEMA_ERASE_HASHES,
	SQL_SCHEMA_REVOKED_LEEWAY,
	NULL,
};

/*
 * Version 4: the generic apply of a change the core decided (store.h,
 * booking_store_change), booking_apply(). Version 7 replaces it with the
 * one that also writes seats, inserts a reservation and a hold's key (see
 * there), so this version no longer creates it: a database that version 4
 * left has it and version 7 drops it.
 */
static const char *const SCHEMA_V4[] = {
	/* the core decides cancel, expire, a payment's outcome and refunds now (apply): the functions that did go */
	"DROP FUNCTION IF EXISTS booking_transition(text, smallint, bigint, text[], text[], text[], text[], bigint[], text[],"
	" text[], text[]);",
	"DROP FUNCTION IF EXISTS booking_pay_begin(text, text, text, text, text, smallint, bigint, text, text, text, text,"
	" bigint, bigint, bigint, bigint, bigint);",
	"DROP FUNCTION IF EXISTS booking_pay_finish(text, integer, text, text, integer, bigint, integer, text[], text[],"
	" text[], text[], bigint[], text[], text[], text[]);",
	"DROP FUNCTION IF EXISTS booking_refund(text, bigint, text[], text[], text[], text[], bigint[], text[], text[],"
	" text[]);",
	NULL,
};

/*
 * Version 5: no state of the domain in the schema. The reads that listed
 * PENDING bookings and PROCESSING payments and counted FAILED ones are
 * given the status by the core now, so the partial indexes that named
 * those states (WHERE status = N) become full indexes led by status: the
 * same range scan for the status asked for. Versions 1 and 3 no longer
 * create the partial indexes: on an older database they exist and go
 * here. Idempotent, like every version.
 */
static const char *const SCHEMA_V5[] = {
	"DROP INDEX IF EXISTS bookings_due;",
	"CREATE INDEX IF NOT EXISTS bookings_status_expiry ON bookings (status, expires_at, created_at, id);",
	"DROP INDEX IF EXISTS payments_processing;",
	"CREATE INDEX IF NOT EXISTS payments_status_created ON payments (status, created_at, id);",
	"DROP INDEX IF EXISTS payments_user_failed;",
	"CREATE INDEX IF NOT EXISTS payments_user_status ON payments (user_id, status, created_at);",
	NULL,
};

/*
 * Version 6: the catalog's and the users' writes are single statements of
 * the shared SQL layer now (sql/sql.h, SQL_WRITES: CTEs where SQLite runs
 * several), so the functions versions 1 and 2 created for them go, with
 * their bare return codes. Versions 1 and 2 no longer create them.
 */
static const char *const SCHEMA_V6[] = {
	"DROP FUNCTION IF EXISTS booking_screen_insert(text, text, text, text[], text[], bigint);",
	"DROP FUNCTION IF EXISTS booking_showtime_insert(text, text, text, bigint, text, smallint, text[], bigint[],"
	" bigint);",
	"DROP FUNCTION IF EXISTS booking_cursor_advance(text, bigint, bigint);",
	"DROP FUNCTION IF EXISTS booking_user_insert(text, text, smallint, text, bigint, bigint, text[], text[], text[],"
	" text[], bigint[], text[], text[], text[]);",
	"DROP FUNCTION IF EXISTS booking_user_set_hash(text, text, text, bigint);",
	"DROP FUNCTION IF EXISTS booking_token_revoke(text, bigint, bigint);",
	NULL,
};

/*
 * Version 7: the box office (catalog and ledger version 2, sys/store.h).
 *
 * A screen keeps each seat's column (aisles counted) beside its label and
 * category; a screen of an earlier version has none (NULL: every column
 * 0, the core falls back to the seat numbers). A seat row may be BLOCKED
 * (3) and keeps the note a seat write gave it (a block's reason). The
 * door list of a showtime (reservation_list_by_showtime) pages newest
 * first as a user's list does, on an index of its own.
 *
 * booking_apply() takes the change of ledger version 2: after the guards
 * (as version 4's: g_kind 1 a booking's version, 2 a payment's status,
 * 3 every seat of a booking is its and in a status, 4 a user has no
 * idempotency record for a key) it locks the seats of the seat writes in
 * label order and checks each one's expectation (w_expect 1: claimable at
 * w_now, BOOKING_SEAT_CLAIMABLE_SQL; 2: the given status and holder, ''
 * none), returning the 1-based index of the first that fails, guards first
 * (seat write i is guard_count + i + 1). Then it writes, in store.h's
 * order: the new reservation and the hold's key (a duplicate id or (user,
 * key) raises 23505: the call is rolled back, BOOKING_EEXISTS), the
 * payment start, the reservation set (with its expiry, seats and total
 * when given), the seat move, the seat writes, the payment, the
 * idempotency completion, the events. It compares only what it is given
 * and names no state. One round trip. Its parts are functions of their
 * own (booking_guards, booking_seats_check, booking_seats_write): one C
 * string literal holds at most 4095 bytes.
 *
 * Seats are locked in label order, as the hold locks them: a kind-3 guard
 * locks its booking's seats together with the seat writes' (of the same
 * showtime), and the seat check locks the seat writes' with the seat
 * move's. So the seats a change touches (of one kind-3 guard, its seat
 * writes, its move) are locked in one label-ordered pass, and two changes,
 * or a change and a hold, queue instead of deadlocking. (Two kind-3
 * guards of different reservations lock one after the other; the core
 * never gives such a change, and a deadlock would be retried.)
 *
 * (Version 8 makes this booking_apply(), its guards given the change's
 * now, and version 11 booking_seats_check() and booking_seats_write();
 * version 7 no longer does.)
 *
 * Idempotent, like every version (a test replays it on a database that
 * has it): each statement checks or replaces what it makes.
 */
static const char *const SCHEMA_V7[] = {
	"ALTER TABLE screens ADD COLUMN IF NOT EXISTS seat_columns integer[];",
	"ALTER TABLE showtime_seats ADD COLUMN IF NOT EXISTS " SQL_SCHEMA_SEAT_NOTE ";",
	/* the seat status domain gains BLOCKED: version 1's constraint (PostgreSQL named it so), again */
	"ALTER TABLE showtime_seats DROP CONSTRAINT IF EXISTS showtime_seats_status_check;",
	"ALTER TABLE showtime_seats ADD CONSTRAINT showtime_seats_status_check " SQL_SCHEMA_SEAT_STATUSES ";",
	"CREATE INDEX IF NOT EXISTS bookings_showtime ON bookings (showtime_id, created_at DESC, id DESC);",
	/* version 4's signature */
	"DROP FUNCTION IF EXISTS booking_apply(smallint[], text[], bigint[], text[], text, smallint, smallint, bigint,"
	" text, smallint, smallint, bigint, text, smallint, text, text, bigint, bigint, text, integer, text, text, text,"
	" smallint, bigint, text, text, text, text, bigint, bigint, bigint, text, text, text[], text[], text[], text[],"
	" bigint[], text[], text[], text[]);",
	/* the guards, in order: 0, or the 1-based index of the first that fails; p_seats: see kind 3 */
	"CREATE OR REPLACE FUNCTION booking_guards(g_kind smallint[], g_id text[], g_value bigint[], g_key text[],"
	" p_showtime text, p_seats text[]) RETURNS integer LANGUAGE plpgsql AS $f$"
	" DECLARE sb bookings%ROWTYPE; n integer;"
	" BEGIN"
	"  FOR i IN 1 .. coalesce(array_length(g_kind, 1), 0) LOOP"
	"   IF g_kind[i] = 1 THEN"
	"    PERFORM 1 FROM bookings WHERE id = g_id[i] AND version = g_value[i] FOR UPDATE;"
	"    IF NOT FOUND THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 2 THEN"
	"    PERFORM 1 FROM payments WHERE id = g_id[i] AND status = g_value[i] FOR UPDATE;"
	"    IF NOT FOUND THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 3 THEN" /* the booking's seats locked with the seat writes' (p_seats, of p_showtime) */
	"    SELECT * INTO sb FROM bookings WHERE id = g_id[i];"
	"    IF NOT FOUND THEN RETURN i; END IF;"
	"    SELECT count(*) FILTER (WHERE x.label = ANY (sb.seats) AND x.status = g_value[i] AND x.booking_id = sb.id)"
	"    INTO n FROM (SELECT s.label, s.status, s.booking_id FROM showtime_seats s"
	"     WHERE s.showtime_id = sb.showtime_id AND s.label = ANY (sb.seats"
	"      || CASE WHEN sb.showtime_id = p_showtime THEN p_seats ELSE '{}' END)"
	"     ORDER BY s.label FOR UPDATE) x;"
	"    IF n <> cardinality(sb.seats) THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 4 THEN"
	"    PERFORM 1 FROM idempotency_keys WHERE user_id = g_id[i] AND key = g_key[i];"
	"    IF FOUND THEN RETURN i; END IF;"
	"   ELSE RAISE EXCEPTION 'booking_apply: unknown guard kind %', g_kind[i];"
	"   END IF;"
	"  END LOOP;"
	"  RETURN 0;"
	" END $f$;",
	/* booking_apply(): version 8 makes it (its guards take the change's now) */
	NULL,
};

/*
 * Version 8: per-buyer limits (ledger version 3, sys/store.h).
 *
 * booking_hold() takes p_limit, the hold's user_seat_limit (0: none).
 * With a limit it first takes pg_advisory_xact_lock on a key of (user,
 * showtime), before it locks any seat, so two holds (or a hold and a
 * change with a USER_SEATS guard) of one user in one showtime run one
 * after the other; then, when the seats can be claimed, it counts the
 * user's taken seats of the showtime (held by a booking of the user and
 * not claimable at p_now, BOOKING_SEAT_CLAIMABLE_SQL): taken + this
 * hold's seats over the limit answers -30 (BOOKING_ELIMIT_REACHED),
 * nothing written. The count is a statement after the lock, so (READ
 * COMMITTED) it sees what a hold that held the lock before committed.
 *
 * booking_guards() takes the change's now and a guard g_kind 5 (USER_SEATS:
 * user g_id has at most g_value taken seats in showtime g_key). Before it
 * checks any guard it takes the advisory locks of all its kind-5 guards,
 * in key order: advisory locks are always taken before seat rows, by a
 * hold and by a change, so they queue instead of deadlocking.
 * booking_apply() kept version 7's signature and handed its guards w_now
 * (version 7 no longer makes it: see the top).
 *
 * The signatures this version replaces are dropped: booking_hold's of
 * version 1, booking_guards' of version 7. (Version 10 makes the three
 * functions, with the live-hold limit; this version no longer does.)
 * Idempotent, like every version.
 */
#define PG_USER_SHOWTIME_LOCK(user, showtime) "hashtextextended(" user " || '/' || " showtime ", 0)"
#define PG_USER_TAKEN_SQL(user, showtime, now)                                                                 \
	"SELECT count(*) FROM showtime_seats s WHERE s.showtime_id = " showtime                                \
	" AND s.booking_id IN (SELECT b.id FROM bookings b WHERE b.user_id = " user ")"                        \
	" AND NOT " BOOKING_SEAT_CLAIMABLE_SQL("s.", now)
static const char *const SCHEMA_V8[] = {
	"DROP FUNCTION IF EXISTS booking_hold(text, text, text, smallint, smallint, text[], bigint, text, bigint, bigint,"
	" bigint, bigint, bigint, text[], text[], text[], text[], bigint[], text[], text[], text[]);",
	"DROP FUNCTION IF EXISTS booking_guards(smallint[], text[], bigint[], text[], text, text[]);",
	NULL,
};

/*
 * Version 9: the kv group (store version 7, sys/store.h): its table and
 * indexes (sql/sql.h), and booking_kv_put(), a put in one round trip. It
 * locks the record when there is one and compares its live version (0:
 * absent or expired) with p_expected: unequal, ok is false and live that
 * version, nothing written. Equal, it deletes the record (p_value NULL) or
 * writes it; an absent record another put inserted meanwhile is not
 * overwritten (the upsert compares again: ok false). Then it appends the
 * events, under an advisory lock per aggregate (no row of theirs is
 * locked here, and booking_append_events() numbers each aggregate's
 * events), and purges a few expired records that no one has locked. It
 * compares only what it is given. Idempotent.
 */
static const char *const SCHEMA_V9[] = {
	SQL_SCHEMA_KV(SQL_PG),
	"CREATE OR REPLACE FUNCTION booking_kv_put(p_ns text, p_key text, p_expected bigint, p_value text,"
	" p_rank bigint, p_expires bigint, p_now bigint, e_id text[], e_type text[], e_agg_type text[], e_agg_id text[],"
	" e_occurred bigint[], e_corr text[], e_tp text[], e_data text[], OUT ok boolean, OUT live bigint)"
	" LANGUAGE plpgsql AS $f$"
	" BEGIN"
	"  SELECT " SQL_KV_VERSION("", "p_now") " INTO live FROM kv WHERE ns = p_ns AND key = p_key FOR UPDATE;"
	"  live := coalesce(live, 0);"
	"  ok := live = p_expected;"
	"  IF ok AND p_value IS NULL THEN"
	"   " SQL_KV_DELETE("p_ns", "p_key", "p_expected", "p_now") ";"
	"   live := 0;"
	"  ELSIF ok THEN"
	"   " SQL_KV_SET("p_ns", "p_key", "p_expected", "p_value", "p_rank", "p_expires", "p_now") ";"
	"   ok := FOUND;"
	"   live := CASE WHEN ok THEN p_expected + 1 ELSE (SELECT " SQL_KV_VERSION("", "p_now")
	"    FROM kv WHERE ns = p_ns AND key = p_key) END;"
	"  END IF;"
	"  IF NOT ok THEN RETURN; END IF;"
	"  PERFORM pg_advisory_xact_lock(x.k) FROM (SELECT DISTINCT hashtextextended(a, 2) AS k FROM unnest(e_agg_id) AS a"
	"   ORDER BY k) x;"
	"  PERFORM booking_append_events(e_id, e_type, e_agg_type, e_agg_id, e_occurred, e_corr, e_tp, e_data);"
	"  " SQL_KV_PURGE(SQL_PG, "p_now") ";"
	" END $f$;",
	NULL,
};

/*
 * Version 10: the live-hold limit (ledger version 4, sys/store.h).
 *
 * booking_hold() takes p_hold_limit, the hold's user_hold_limit (0:
 * none), and p_live, the status that counts. With a limit it first takes
 * pg_advisory_xact_lock on a key of the user, before the (user, showtime)
 * key of version 8 and before any seat: the order is always user, then
 * user and showtime, then rows. When the seats can be claimed (and the
 * seat limit allows), it counts the user's reservations in p_live with
 * expires_at > p_now, in every showtime (SQL_USER_HOLDS, on index
 * bookings_user_status): that count + 1 over the limit answers -30
 * (BOOKING_ELIMIT_REACHED), nothing written.
 *
 * booking_guards() takes p_live, and a guard g_kind 6 (USER_HOLDS: user
 * g_id has at most g_value such reservations, counted with the change's
 * now and p_live); it takes the user locks of its kind-6 guards, in key
 * order, before the (user, showtime) locks of its kind-5 ones.
 * booking_apply() takes w_live, the change's live_status, last.
 *
 * The three replace version 8's, whose signatures are dropped; version 8
 * no longer makes them (every missing version runs in one transaction).
 * (Version 11 makes booking_hold() and booking_guards(), each seat by its
 * key; this version no longer does.)
 * Idempotent, like every version.
 */
#define PG_USER_LOCK(user) "hashtextextended(" user ", 1)"
static const char *const SCHEMA_V10[] = {
	SQL_SCHEMA_USER_HOLDS,
	"DROP FUNCTION IF EXISTS booking_hold(text, text, text, smallint, smallint, text[], bigint, text, bigint, bigint,"
	" bigint, bigint, bigint, bigint, text[], text[], text[], text[], bigint[], text[], text[], text[]);",
	"DROP FUNCTION IF EXISTS booking_guards(smallint[], text[], bigint[], text[], text, text[], bigint);",
	"DROP FUNCTION IF EXISTS booking_apply(smallint[], text[], bigint[], text[], text, smallint, smallint, bigint,"
	" bigint, text[], bigint, text, smallint, smallint, bigint, text, smallint, text, text, bigint, bigint, text,"
	" integer, text, text, text, smallint, bigint, text, text, text, text, bigint, bigint, bigint, text, text, text,"
	" bigint, text[], smallint[], smallint[], text[], boolean[], smallint[], text[], bigint[], text[], text, text,"
	" text, smallint, smallint, text[], bigint, text, bigint, bigint, bigint, bigint, text, text, text, text, text[],"
	" text[], text[], text[], bigint[], text[], text[], text[]);",
	"CREATE OR REPLACE FUNCTION booking_apply(g_kind smallint[], g_id text[], g_value bigint[], g_key text[],"
	" b_id text, b_status smallint, b_saga smallint, b_updated bigint, b_expires bigint, b_seats text[],"
	" b_total bigint,"
	" s_booking text, s_from smallint, s_to smallint, s_hold_until bigint,"
	" p_id text, p_status smallint, p_gateway_ref text, p_failure text, p_refunded bigint, p_updated bigint,"
	" i_payment text, i_replay integer,"
	" n_id text, n_booking text, n_user text, n_status smallint, n_amount bigint, n_currency text, n_last4 text,"
	" n_gateway_ref text, n_failure text, n_refunded bigint, n_created bigint, n_updated bigint,"
	" n_key text, n_hash text,"
	" w_showtime text, w_now bigint, w_label text[], w_expect smallint[], w_expect_status smallint[],"
	" w_expect_holder text[], w_write boolean[], w_status smallint[], w_holder text[], w_hold_until bigint[],"
	" w_note text[],"
	" r_id text, r_user text, r_showtime text, r_status smallint, r_saga smallint, r_seats text[], r_total bigint,"
	" r_currency text, r_created bigint, r_expires bigint, r_updated bigint, r_version bigint,"
	" k_user text, k_key text, k_hash text, k_reservation text,"
	" e_id text[], e_type text[], e_agg_type text[], e_agg_id text[], e_occurred bigint[], e_corr text[],"
	" e_tp text[], e_data text[], w_live smallint) RETURNS integer LANGUAGE plpgsql AS $f$"
	" DECLARE sb bookings%ROWTYPE; bad bigint; writes text[] := coalesce(w_label, '{}');"
	" BEGIN"
	"  bad := booking_guards(g_kind, g_id, g_value, g_key, w_showtime, writes, w_now, w_live);"
	"  IF bad > 0 THEN RETURN bad; END IF;"
	"  IF cardinality(writes) > 0 THEN"
	"   bad := booking_seats_check(w_showtime, w_now, s_booking, writes, w_expect, w_expect_status, w_expect_holder);"
	"   IF bad > 0 THEN RETURN coalesce(array_length(g_kind, 1), 0) + bad; END IF;"
	"  END IF;"
	"  IF r_id IS NOT NULL THEN"
	"   INSERT INTO bookings (id, user_id, showtime_id, status, saga, seats, total_amount, currency,"
	"    created_at, expires_at, updated_at, version)"
	"   VALUES (r_id, r_user, r_showtime, r_status, r_saga, r_seats, r_total, r_currency, r_created,"
	"    r_expires, r_updated, r_version);"
	"  END IF;"
	"  IF k_user IS NOT NULL THEN"
	"   INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, completed, replay_error, created_at)"
	"   VALUES (k_user, k_key, k_hash, k_reservation, true, 0, w_now);"
	"  END IF;"
	"  IF n_id IS NOT NULL THEN"
	"   INSERT INTO payments (id, booking_id, user_id, status, amount, currency, card_last4, gateway_ref,"
	"    failure_code, refunded_amount, created_at, updated_at)"
	"   VALUES (n_id, n_booking, n_user, n_status, n_amount, n_currency, n_last4, n_gateway_ref, n_failure,"
	"    n_refunded, n_created, n_updated);"
	"   INSERT INTO idempotency_keys (user_id, key, request_hash, payment_id, created_at)"
	"   VALUES (n_user, n_key, n_hash, n_id, n_created);"
	"  END IF;"
	"  IF b_id IS NOT NULL THEN"
	"   UPDATE bookings SET status = b_status, saga = b_saga, version = version + 1, updated_at = b_updated,"
	"    expires_at = CASE WHEN b_expires > 0 THEN b_expires ELSE expires_at END,"
	"    seats = coalesce(b_seats, seats),"
	"    total_amount = CASE WHEN b_seats IS NULL THEN total_amount ELSE b_total END"
	"   WHERE id = b_id;"
	"  END IF;"
	"  IF s_booking IS NOT NULL THEN"
	"   SELECT * INTO sb FROM bookings WHERE id = s_booking;"
	"   IF FOUND THEN"
	"    PERFORM booking_seats_set(sb.id, sb.showtime_id, sb.seats, s_from, s_to,"
	"     CASE WHEN s_to = 0 THEN 0 ELSE s_hold_until END);"
	"   END IF;"
	"  END IF;"
	"  IF cardinality(writes) > 0 THEN"
	"   PERFORM booking_seats_write(w_showtime, writes, w_write, w_status, w_holder, w_hold_until, w_note);"
	"  END IF;"
	"  IF p_id IS NOT NULL THEN"
	"   UPDATE payments SET status = p_status, gateway_ref = coalesce(p_gateway_ref, gateway_ref),"
	"    failure_code = coalesce(p_failure, failure_code),"
	"    refunded_amount = CASE WHEN p_refunded < 0 THEN refunded_amount ELSE p_refunded END, updated_at = p_updated"
	"   WHERE id = p_id;"
	"  END IF;"
	"  IF i_payment IS NOT NULL THEN"
	"   UPDATE idempotency_keys SET completed = true, replay_error = i_replay WHERE payment_id = i_payment;"
	"  END IF;"
	"  PERFORM booking_append_events(e_id, e_type, e_agg_type, e_agg_id, e_occurred, e_corr, e_tp, e_data);"
	"  RETURN 0;"
	" END $f$;",
	NULL,
};


/*
 * Version 11: each seat by its whole key (showtime_id, label).
 *
 * The functions of the hold and of a change looked a showtime's seats up
 * as showtime_id = $1 AND label = ANY ($2). A showtime created after
 * showtime_seats was last analysed is not in its statistics, which put it
 * at 1 row; the planner then took the showtime's seats by showtime_id
 * alone and filtered the labels: a named hold of 2 seats on a new showtime
 * of 100 000 read 100 000 rows, twice (doc/boxoffice.md, "Large venues").
 * These functions now take each seat by itself, in a loop over the
 * distinct labels in label order (COLLATE "C", the column's: the lock
 * order of every function is the same), with a statement whose WHERE is
 * the whole primary key: an equality on every column of a unique index is
 * one row for any statistics. That alone is not enough: with the showtime
 * at 1 row, the planner's plan for the actual values ties the primary key
 * with showtime_seats_position taken by showtime_id alone, and takes the
 * latter (auto_explain: 99 999 rows removed by the filter, per label). So
 * the functions run with plan_cache_mode = force_generic_plan (PG_BY_KEY):
 * a generic plan does not look at the value, its showtime_id = $1 is the
 * table's rows per showtime on average, and the whole key (1 row) wins;
 * each seat is a primary-key lookup. The locks,
 * their order and what each answers are version 10's (version 1's for
 * booking_seats_set, version 7's for the seat check and write); a label
 * that appears twice is locked and counted once, as ANY did. Still one
 * round trip: the loops run in the function.
 *
 * booking_hold() and booking_guards() (version 10's), booking_seats_check()
 * and booking_seats_write() (version 7's) and booking_seats_set() (version
 * 1's) are replaced with the same signatures (booking_apply() calls them
 * by name); the earlier versions no longer make them. Idempotent, like
 * every version. (Version 12 adds booking_hold_claim(), which writes as
 * it checks and leaves to this booking_hold() what it cannot claim.)
 */
#define PG_BY_KEY " SET plan_cache_mode = force_generic_plan"
#define PG_SEATS_IN_ORDER(seats) "SELECT DISTINCT x.l COLLATE \"C\" FROM unnest(" seats ") AS x(l) ORDER BY 1"
static const char *const SCHEMA_V11[] = {
	/* Lock, in label order, the seats of a booking in `p_status` held by it; then set them. */
	"CREATE OR REPLACE FUNCTION booking_seats_set(p_booking text, p_showtime text, p_seats text[],"
	" p_status smallint, p_new_status smallint, p_hold_until bigint) RETURNS integer LANGUAGE plpgsql" PG_BY_KEY " AS $f$"
	" DECLARE n integer := 0; v_label text;"
	" BEGIN"
	"  FOR v_label IN " PG_SEATS_IN_ORDER("p_seats") " LOOP"
	"   UPDATE showtime_seats SET status = p_new_status,"
	"    booking_id = CASE WHEN p_new_status = 0 THEN NULL ELSE booking_id END,"
	"    hold_until = p_hold_until, version = version + 1"
	"   WHERE showtime_id = p_showtime AND label = v_label AND status = p_status AND booking_id = p_booking;"
	"   IF FOUND THEN n := n + 1; END IF;"
	"  END LOOP;"
	"  RETURN n;"
	" END $f$;",
	"CREATE OR REPLACE FUNCTION booking_hold(p_id text, p_user text, p_showtime text, p_status smallint,"
	" p_saga smallint, p_seats text[], p_total bigint, p_currency text, p_created bigint, p_expires bigint,"
	" p_updated bigint, p_version bigint, p_now bigint, p_limit bigint, p_hold_limit bigint, p_live smallint,"
	" e_id text[], e_type text[], e_agg_type text[], e_agg_id text[], e_occurred bigint[], e_corr text[],"
	" e_tp text[], e_data text[], OUT rc integer, OUT labels text[]) LANGUAGE plpgsql" PG_BY_KEY " AS $f$"
	" DECLARE locked text[] := '{}'; taken bigint; v_label text;"
	" BEGIN"
	"  IF p_hold_limit > 0 THEN PERFORM pg_advisory_xact_lock(" PG_USER_LOCK("p_user") "); END IF;"
	"  IF p_limit > 0 THEN PERFORM pg_advisory_xact_lock(" PG_USER_SHOWTIME_LOCK("p_user", "p_showtime") "); END IF;"
	"  FOR v_label IN " PG_SEATS_IN_ORDER("p_seats") " LOOP"
	"   PERFORM 1 FROM showtime_seats s WHERE s.showtime_id = p_showtime AND s.label = v_label"
	"    AND " BOOKING_SEAT_CLAIMABLE_SQL("s.", "p_now") " FOR UPDATE;"
	"   IF FOUND THEN locked := locked || v_label; END IF;"
	"  END LOOP;"
	"  IF cardinality(locked) = cardinality(p_seats)"
	"   AND (cardinality(p_seats) > 0 OR EXISTS (SELECT 1 FROM showtimes WHERE id = p_showtime)) THEN"
	"   IF p_limit > 0 THEN"
	"    " PG_USER_TAKEN_SQL("p_user", "p_showtime", "p_now") " INTO taken;"
	"    IF taken + cardinality(p_seats) > p_limit THEN rc := -30; RETURN; END IF;"
	"   END IF;"
	"   IF p_hold_limit > 0 THEN"
	"    " SQL_USER_HOLDS("p_user", "p_live", "p_now") " INTO taken;"
	"    IF taken + 1 > p_hold_limit THEN rc := -30; RETURN; END IF;"
	"   END IF;"
	"   FOREACH v_label IN ARRAY locked LOOP"
	"    UPDATE showtime_seats SET status = 1, booking_id = p_id, hold_until = p_expires, version = version + 1"
	"    WHERE showtime_id = p_showtime AND label = v_label;"
	"   END LOOP;"
	"   INSERT INTO bookings (id, user_id, showtime_id, status, saga, seats, total_amount, currency,"
	"    created_at, expires_at, updated_at, version)"
	"   VALUES (p_id, p_user, p_showtime, p_status, p_saga, p_seats, p_total, p_currency, p_created,"
	"    p_expires, p_updated, p_version);"
	"   PERFORM booking_append_events(e_id, e_type, e_agg_type, e_agg_id, e_occurred, e_corr, e_tp, e_data);"
	"   rc := 0;"
	"   RETURN;"
	"  END IF;"
	"  IF NOT EXISTS (SELECT 1 FROM showtimes WHERE id = p_showtime) THEN rc := -8; RETURN; END IF;"
	"  IF EXISTS (SELECT 1 FROM bookings WHERE id = p_id) THEN rc := -23; RETURN; END IF;"
	"  labels := '{}';"
	"  FOREACH v_label IN ARRAY p_seats LOOP"
	"   IF v_label <> ALL (locked)"
	"    AND NOT EXISTS (SELECT 1 FROM showtime_seats s WHERE s.showtime_id = p_showtime AND s.label = v_label) THEN"
	"    labels := labels || v_label;"
	"   END IF;"
	"  END LOOP;"
	"  IF cardinality(labels) > 0 THEN rc := -1; RETURN; END IF;"
	"  labels := ARRAY(SELECT u.l FROM unnest(p_seats) WITH ORDINALITY u(l, o)"
	"   WHERE u.l <> ALL (locked) ORDER BY u.o);"
	"  rc := CASE WHEN cardinality(labels) > 0 THEN -11 ELSE -1 END;"
	" END $f$;",
	"CREATE OR REPLACE FUNCTION booking_guards(g_kind smallint[], g_id text[], g_value bigint[], g_key text[],"
	" p_showtime text, p_seats text[], p_now bigint, p_live smallint) RETURNS integer LANGUAGE plpgsql" PG_BY_KEY " AS $f$"
	" DECLARE sb bookings%ROWTYPE; n bigint; v_label text; v_status smallint; v_holder text;"
	" BEGIN"
	"  PERFORM pg_advisory_xact_lock(x.k) FROM (SELECT DISTINCT g_kind[i] AS kind, CASE WHEN g_kind[i] = 6 THEN "
	PG_USER_LOCK("g_id[i]") " ELSE " PG_USER_SHOWTIME_LOCK("g_id[i]", "g_key[i]") " END AS k"
	"   FROM generate_subscripts(g_kind, 1) AS i WHERE g_kind[i] IN (5, 6) ORDER BY kind DESC, k) x;"
	"  FOR i IN 1 .. coalesce(array_length(g_kind, 1), 0) LOOP"
	"   IF g_kind[i] = 1 THEN"
	"    PERFORM 1 FROM bookings WHERE id = g_id[i] AND version = g_value[i] FOR UPDATE;"
	"    IF NOT FOUND THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 2 THEN"
	"    PERFORM 1 FROM payments WHERE id = g_id[i] AND status = g_value[i] FOR UPDATE;"
	"    IF NOT FOUND THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 3 THEN" /* the booking's seats locked with the seat writes' (p_seats, of p_showtime) */
	"    SELECT * INTO sb FROM bookings WHERE id = g_id[i];"
	"    IF NOT FOUND THEN RETURN i; END IF;"
	"    n := 0;"
	"    FOR v_label IN " PG_SEATS_IN_ORDER("sb.seats || CASE WHEN sb.showtime_id = p_showtime THEN p_seats ELSE '{}' END")
	"    LOOP"
	"     SELECT s.status, s.booking_id INTO v_status, v_holder FROM showtime_seats s"
	"     WHERE s.showtime_id = sb.showtime_id AND s.label = v_label FOR UPDATE;"
	"     IF FOUND AND v_label = ANY (sb.seats) AND v_status = g_value[i] AND v_holder = sb.id THEN n := n + 1; END IF;"
	"    END LOOP;"
	"    IF n <> cardinality(sb.seats) THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 4 THEN"
	"    PERFORM 1 FROM idempotency_keys WHERE user_id = g_id[i] AND key = g_key[i];"
	"    IF FOUND THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 5 THEN" /* locked above */
	"    " PG_USER_TAKEN_SQL("g_id[i]", "g_key[i]", "p_now") " INTO n;"
	"    IF n > g_value[i] THEN RETURN i; END IF;"
	"   ELSIF g_kind[i] = 6 THEN" /* locked above */
	"    " SQL_USER_HOLDS("g_id[i]", "p_live", "p_now") " INTO n;"
	"    IF n > g_value[i] THEN RETURN i; END IF;"
	"   ELSE RAISE EXCEPTION 'booking_apply: unknown guard kind %', g_kind[i];"
	"   END IF;"
	"  END LOOP;"
	"  RETURN 0;"
	" END $f$;",
	/*
	 * Lock the seats p_label of a showtime, with those of booking p_move
	 * (the change's seat move, NULL: none) when it is of the showtime, in
	 * label order; then check each of p_label: 0, or the 1-based index of
	 * the first that fails. Each statement after the locks has their last
	 * committed versions.
	 */
	"CREATE OR REPLACE FUNCTION booking_seats_check(p_showtime text, p_now bigint, p_move text, p_label text[],"
	" p_expect smallint[], p_expect_status smallint[], p_expect_holder text[]) RETURNS bigint"
	" LANGUAGE plpgsql" PG_BY_KEY " AS $f$"
	" DECLARE moved text[]; v_label text; s showtime_seats%ROWTYPE;"
	" BEGIN"
	"  IF p_move IS NOT NULL THEN"
	"   SELECT seats INTO moved FROM bookings WHERE id = p_move AND showtime_id = p_showtime;"
	"  END IF;"
	"  FOR v_label IN " PG_SEATS_IN_ORDER("p_label || coalesce(moved, '{}')") " LOOP"
	"   PERFORM 1 FROM showtime_seats WHERE showtime_id = p_showtime AND label = v_label FOR UPDATE;"
	"  END LOOP;"
	"  FOR o IN 1 .. coalesce(cardinality(p_label), 0) LOOP"
	"   SELECT * INTO s FROM showtime_seats WHERE showtime_id = p_showtime AND label = p_label[o];"
	"   IF NOT FOUND OR NOT (CASE WHEN p_expect[o] = 1 THEN " BOOKING_SEAT_CLAIMABLE_SQL("s.", "p_now")
	"    ELSE s.status = p_expect_status[o] AND coalesce(s.booking_id, '') = coalesce(p_expect_holder[o], '') END)"
	"   THEN RETURN o; END IF;"
	"  END LOOP;"
	"  RETURN 0;"
	" END $f$;",
	/* Write the seats p_label of a showtime whose p_write is true (booking_apply() has them locked). */
	"CREATE OR REPLACE FUNCTION booking_seats_write(p_showtime text, p_label text[], p_write boolean[],"
	" p_status smallint[], p_holder text[], p_hold_until bigint[], p_note text[]) RETURNS void"
	" LANGUAGE plpgsql" PG_BY_KEY " AS $f$"
	" BEGIN"
	"  FOR o IN 1 .. coalesce(cardinality(p_label), 0) LOOP"
	"   IF p_write[o] THEN"
	"    UPDATE showtime_seats SET status = p_status[o], booking_id = nullif(p_holder[o], ''),"
	"     hold_until = p_hold_until[o], note = coalesce(p_note[o], ''), version = version + 1"
	"    WHERE showtime_id = p_showtime AND label = p_label[o];"
	"   END IF;"
	"  END LOOP;"
	" END $f$;",
	NULL,
};

/*
 * Version 12: a hold that writes as it checks (issue 16: closer to the one
 * statement a hold's writes take).
 *
 * booking_hold_claim() (booking_hold()'s signature, which the client calls
 * now) takes the requested seats in label order (COLLATE "C"; the
 * request's order when it is already so, else sorted once) and claims each
 * with one UPDATE by its whole key guarded by BOOKING_SEAT_CLAIMABLE_SQL:
 * the row is locked and written in one statement, where booking_hold()
 * locks it with a reading statement and writes it with a second one. A
 * seat waited for is checked again on the version it waited for (READ
 * COMMITTED's re-check of an UPDATE's WHERE), as FOR UPDATE does; the lock
 * order is booking_hold()'s. With a limit it takes booking_hold()'s
 * advisory locks and counts before it claims any seat (the same count: a
 * seat it can claim is claimable, which the count leaves out, and the
 * locks keep the user's other holds out). When every seat is claimed it
 * inserts the reservation and, when the hold has one event, its outbox row
 * directly (its sequence numbered as booking_append_events() does; several
 * still go through that function).
 *
 * What it cannot claim it does not answer itself: when nothing is written
 * yet (no seat asked, a label asked twice, a limit reached, the first seat
 * in label order not claimable) it returns what booking_hold() (version
 * 11's, unchanged) answers, in the same call; when some seats are written
 * already (a later seat not claimable) it raises SQLSTATE PG_HOLD_RECHECK:
 * the statement is rolled back whole, with no subtransaction, and the
 * client calls booking_hold() with the same arguments, which locks before
 * it writes and answers -8, -23, -1, -11 or -30 with the labels, or holds
 * (the seat may be free again by then). So every answer is version 11's,
 * and a hold that claims every seat pays one statement per seat, one
 * insert of the reservation and one of its event. (The raise is logged by
 * the server as an error: one line per such refusal.) booking_hold()
 * keeps its name and body, so a process of the previous release still
 * holds as it did on a database at this version.
 *
 * Idempotent, like every version.
 */
#define PG_HOLD_ARGS                                                                                           \
	"p_id, p_user, p_showtime, p_status, p_saga, p_seats, p_total, p_currency, p_created, p_expires,"      \
	" p_updated, p_version, p_now, p_limit, p_hold_limit, p_live, e_id, e_type, e_agg_type, e_agg_id,"     \
	" e_occurred, e_corr, e_tp, e_data"
static const char *const SCHEMA_V12[] = {
	"CREATE OR REPLACE FUNCTION booking_hold_claim(p_id text, p_user text, p_showtime text, p_status smallint,"
	" p_saga smallint, p_seats text[], p_total bigint, p_currency text, p_created bigint, p_expires bigint,"
	" p_updated bigint, p_version bigint, p_now bigint, p_limit bigint, p_hold_limit bigint, p_live smallint,"
	" e_id text[], e_type text[], e_agg_type text[], e_agg_id text[], e_occurred bigint[], e_corr text[],"
	" e_tp text[], e_data text[], OUT rc integer, OUT labels text[]) LANGUAGE plpgsql" PG_BY_KEY " AS $f$"
	" DECLARE n integer := coalesce(cardinality(p_seats), 0); ordered text[] := p_seats; taken bigint;"
	" BEGIN"
	"  FOR i IN 2 .. n LOOP"
	"   IF p_seats[i] COLLATE \"C\" <= p_seats[i - 1] THEN ordered := ARRAY(" PG_SEATS_IN_ORDER("p_seats") "); EXIT;"
	"   END IF;"
	"  END LOOP;"
	"  IF p_hold_limit > 0 THEN PERFORM pg_advisory_xact_lock(" PG_USER_LOCK("p_user") "); END IF;"
	"  IF p_limit > 0 THEN PERFORM pg_advisory_xact_lock(" PG_USER_SHOWTIME_LOCK("p_user", "p_showtime") "); END IF;"
	"  IF p_limit > 0 AND n > 0 THEN"
	"   " PG_USER_TAKEN_SQL("p_user", "p_showtime", "p_now") " INTO taken;"
	"   IF taken + n > p_limit THEN n := 0; END IF;"
	"  END IF;"
	"  IF p_hold_limit > 0 AND n > 0 THEN"
	"   " SQL_USER_HOLDS("p_user", "p_live", "p_now") " INTO taken;"
	"   IF taken + 1 > p_hold_limit THEN n := 0; END IF;"
	"  END IF;"
	"  IF n = 0 OR cardinality(ordered) <> n THEN"
	"   SELECT h.rc, h.labels INTO rc, labels FROM booking_hold(" PG_HOLD_ARGS ") h;"
	"   RETURN;"
	"  END IF;"
	"  FOR i IN 1 .. n LOOP"
	"   UPDATE showtime_seats SET status = 1, booking_id = p_id, hold_until = p_expires, version = version + 1"
	"   WHERE showtime_id = p_showtime AND label = ordered[i] AND " BOOKING_SEAT_CLAIMABLE_SQL("", "p_now") ";"
	"   IF NOT FOUND THEN"
	"    IF i = 1 THEN"
	"     SELECT h.rc, h.labels INTO rc, labels FROM booking_hold(" PG_HOLD_ARGS ") h;"
	"     RETURN;"
	"    END IF;"
	"    RAISE EXCEPTION 'booking_hold_claim: a seat was taken' USING ERRCODE = '" PG_HOLD_RECHECK "';"
	"   END IF;"
	"  END LOOP;"
	"  INSERT INTO bookings (id, user_id, showtime_id, status, saga, seats, total_amount, currency,"
	"   created_at, expires_at, updated_at, version)"
	"  VALUES (p_id, p_user, p_showtime, p_status, p_saga, p_seats, p_total, p_currency, p_created,"
	"   p_expires, p_updated, p_version);"
	"  IF cardinality(e_id) = 1 THEN"
	PG_APPEND_ONE_EVENT
	"  ELSE"
	"   PERFORM booking_append_events(e_id, e_type, e_agg_type, e_agg_id, e_occurred, e_corr, e_tp, e_data);"
	"  END IF;"
	"  rc := 0;"
	" END $f$;",
	NULL,
};

/* Index i holds the statements that bring version i to version i + 1. */
static const char *const *const MIGRATIONS[PG_SCHEMA_VERSION] = {
	SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8, SCHEMA_V9, SCHEMA_V10,
	SCHEMA_V11, SCHEMA_V12,
};

/*
 * Create the schema named first in search_path when it does not exist,
 * so a URL with options=-csearch_path=NAME gets its own set of tables.
 */
static const char SQL_ENSURE_SCHEMA[] =
	"DO $f$ DECLARE s text; BEGIN"
	" IF current_schema() IS NULL THEN"
	"  s := trim(split_part(current_setting('search_path'), ',', 1));"
	"  IF s LIKE '\"%\"' THEN s := replace(substr(s, 2, length(s) - 2), '\"\"', '\"'); END IF;"
	"  IF s = '' OR s = '$user' THEN s := current_user; END IF;"
	"  EXECUTE format('CREATE SCHEMA IF NOT EXISTS %I', s);"
	" END IF; END $f$";

static const char *const LOCK[] = {
	"BEGIN",
	"SET LOCAL statement_timeout = '10min'",
	"SELECT pg_advisory_xact_lock(" PG_LOCK_MIGRATE ")",
	SQL_ENSURE_SCHEMA,
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	" version integer PRIMARY KEY,"
	" applied_at timestamptz NOT NULL DEFAULT now())",
	NULL,
};

/* The recorded version, or 0 when there is no schema_migrations table. */
static int version(void *conn, int *version_out)
{
	pg_conn *c = conn;
	PGresult *r = PQexec(c->conn, "SELECT coalesce(max(version), 0) FROM schema_migrations");
	*version_out = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		int64_t v = pg_i64(r, 0, 0);
		*version_out = v > 1000000 ? 1000000 : (int)v;
		PQclear(r);
		return 0;
	}
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	/* 42P01: no such table; 3F000: the search_path schema does not exist yet */
	if (state && (strcmp(state, "42P01") == 0 || strcmp(state, "3F000") == 0)) {
		PQclear(r);
		return 0;
	}
	int rc = pg_error(c, r, "migrate");
	PQclear(r);
	return rc;
}

const sql_schema pg_schema = {
	PG_SCHEMA_VERSION, MIGRATIONS, LOCK, "INSERT INTO schema_migrations (version) VALUES (%d)", version, NULL,
};
