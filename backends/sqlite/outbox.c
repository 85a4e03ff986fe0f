/*
 * SQLite store — outbox, consumer cursors, inbox and dead letters.
 *
 * Positions come from outbox.position (INTEGER PRIMARY KEY AUTOINCREMENT),
 * assigned inside the write transaction. SQLite has one writer at a time,
 * so positions increase in commit order: a reader never sees a later
 * position before an earlier one has committed.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "sqlite_store.h"

static const char SQL_EVENT_INSERT[] =
	"INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id,"
	" traceparent, data_json, published)"
	" VALUES (?1, ?2, ?3, ?4,"
	" (SELECT coalesce(max(sequence), 0) + 1 FROM outbox WHERE aggregate_id = ?4),"
	" ?5, ?6, ?7, ?8, 0)";
static const char SQL_MARK_PUBLISHED[] = "UPDATE outbox SET published = 1 WHERE id = ?1 AND published = 0";
static const char SQL_CURSOR_GET[] = "SELECT position FROM consumer_cursors WHERE group_name = ?1";
static const char SQL_CURSOR_SET[] =
	"INSERT INTO consumer_cursors (group_name, position) VALUES (?1, ?2)"
	" ON CONFLICT (group_name) DO UPDATE SET position = excluded.position";
static const char SQL_INBOX_MARK[] = "INSERT INTO inbox (group_name, event_id, applied_at) VALUES (?1, ?2, ?3)";
static const char SQL_DEAD_PUT[] =
	"INSERT INTO dead_letters (group_name, event_id, reason, envelope_json, dead_at) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (group_name, event_id) DO NOTHING";

/* --- events ----------------------------------------------------------------------- */

int sq_event_insert(sq_conn *c, const booking_event_record *ev)
{
	int rc = sq_run(c, SQL_EVENT_INSERT, "ttttieet", ev->id, ev->type, ev->aggregate_type, ev->aggregate_id,
	                ev->occurred_at, ev->correlation_id, ev->traceparent,
	                ev->data_json ? ev->data_json : "{}");

	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "event %s already exists", ev->id);
	return rc;
}

int sq_events_insert(sq_conn *c, const booking_event_record *events, size_t n)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && events != NULL && i < n; i++)
		rc = sq_event_insert(c, &events[i]);
	return rc;
}

struct mark_arg {
	const char *const *ids;
	size_t n;
};

static int mark_published_tx(sq_conn *c, void *arg)
{
	struct mark_arg *a = arg;
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < a->n; i++) {
		if (a->ids[i] != NULL)
			rc = sq_run(c, SQL_MARK_PUBLISHED, "t", a->ids[i]);
	}
	return rc;
}

int sq_outbox_mark_published(booking_store *st, const char *const *event_ids, size_t n)
{
	struct mark_arg a = {event_ids, n};

	if (n == 0 || event_ids == NULL)
		return 0;
	return sq_write((sq_store *)st, mark_published_tx, &a);
}

/* --- cursors ------------------------------------------------------------------------- */

struct cursor_arg {
	const char *group;
	int64_t expected;
	int64_t position;
};

static int cursor_advance_tx(sq_conn *c, void *arg)
{
	struct cursor_arg *a = arg;
	int64_t current = 0;
	int rc = sq_query_i64(c, SQL_CURSOR_GET, &current, NULL, "t", a->group);

	if (rc != 0)
		return rc;
	if (current != a->expected) {
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "cursor moved: it is at %lld, not %lld",
		                         (long long)current, (long long)a->expected);
	}
	return sq_run(c, SQL_CURSOR_SET, "ti", a->group, a->position);
}

int sq_cursor_advance(booking_store *st, const char *group, int64_t expected, int64_t position)
{
	struct cursor_arg a = {group, expected, position};

	return sq_write((sq_store *)st, cursor_advance_tx, &a);
}

/* --- inbox ----------------------------------------------------------------------------- */

struct inbox_arg {
	const char *group;
	const char *event_id;
	int64_t now;
};

static int inbox_mark_tx(sq_conn *c, void *arg)
{
	struct inbox_arg *a = arg;
	int rc = sq_run(c, SQL_INBOX_MARK, "tti", a->group, a->event_id, a->now);

	if (rc == BOOKING_EEXISTS)
		return booking_error_set(BOOKING_EEXISTS, NULL, "event already applied by this group");
	return rc;
}

int sq_inbox_mark(booking_store *st, const char *group, const char *event_id, int64_t now)
{
	struct inbox_arg a = {group, event_id, now};

	return sq_write((sq_store *)st, inbox_mark_tx, &a);
}

/* --- dead letters ------------------------------------------------------------------------- */

struct dead_arg {
	const char *group;
	const char *event_id;
	const char *reason;
	const char *envelope_json;
	int64_t now;
};

static int dead_put_tx(sq_conn *c, void *arg)
{
	struct dead_arg *a = arg;

	return sq_run(c, SQL_DEAD_PUT, "tteei", a->group, a->event_id, a->reason, a->envelope_json, a->now);
}

int sq_dead_letter_put(booking_store *st, const char *group, const char *event_id, const char *reason,
                       const char *envelope_json, int64_t now)
{
	struct dead_arg a = {group, event_id, reason, envelope_json, now};

	return sq_write((sq_store *)st, dead_put_tx, &a);
}
