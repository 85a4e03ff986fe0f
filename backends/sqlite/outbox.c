/*
 * SQLite store — the events hold and apply append in their transaction
 * (the outbox's reads and other writes are shared: sql/).
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
