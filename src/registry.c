/*
 * URL → backend. The only place that knows which backends were built.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include "backends.h"

#include <string.h>

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * sqlite:///abs/path.db → /abs/path.db; sqlite:///./rel.db and
 * sqlite:///../rel.db → relative to the working directory (the CLI's
 * default, sqlite:///./booking-data/booking.db); sqlite::memory: → a
 * private in-memory database.
 */
static int sqlite_path(const char *url, const char **path_out)
{
	const char *p = url + strlen("sqlite:");
	if (strcmp(p, ":memory:") == 0) {
		*path_out = ":memory:";
		return 0;
	}
	if (has_prefix(p, "//"))
		p += 2;
	if (has_prefix(p, "/./") || has_prefix(p, "/../"))
		p += 1;
	if (!*p)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}",
		                         "store_url: sqlite URL without a path (sqlite:///path/file.db or sqlite::memory:)");
	*path_out = p;
	return 0;
}

int booking_store_open(booking_store **out, const char *url, const booking_options *opts)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "store_open: NULL argument");
	*out = NULL;
	if (strcmp(url, "memory:") == 0)
		return booking__memory_store_new(out);
	if (has_prefix(url, "sqlite:")) {
#if HAVE_SQLITE
		const char *path = NULL;
		int rc = sqlite_path(url, &path);
		if (rc < 0)
			return rc;
		booking_options defaults;
		if (!opts) {
			booking_options_init(&defaults);
			opts = &defaults;
		}
		return booking__sqlite_store_new(out, path, opts);
#else
		(void)sqlite_path;
		(void)opts;
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "store_url: this libbooking was built without SQLite");
#endif
	}
	if (has_prefix(url, "postgresql:") || has_prefix(url, "postgres:")) {
#if HAVE_POSTGRESQL
		booking_options defaults;
		if (!opts) {
			booking_options_init(&defaults);
			opts = &defaults;
		}
		char *timed = NULL; /* the options' timeouts as URL parameters, unless the URL sets them */
		int rc = booking__pg_url_with_timeouts(&timed, url, opts);
		if (rc == 0)
			rc = booking__pg_store_new(out, timed ? timed : url, opts);
		booking_free(timed);
		return rc;
#else
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL,
		                         "store_url: this libbooking was built without PostgreSQL");
#endif
	}
	return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}",
	                         "store_url: unknown scheme (memory:, sqlite:, postgresql:)");
}

int booking_lock_manager_open(booking_lock_manager **out, const char *url, const booking_clock *clock)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "lock_manager_open: NULL argument");
	*out = NULL;
	if (strcmp(url, "memory:") == 0)
		return booking__memory_lock_manager_new(out, clock);
	if (has_prefix(url, "redis:")) {
#if HAVE_REDIS
		return booking__redis_lock_manager_new(out, url, clock);
#else
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "lock_url: this libbooking was built without Redis");
#endif
	}
	return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"lock_url\"}", "lock_url: unknown scheme (memory:, redis:)");
}

int booking_event_publisher_open(booking_event_publisher **out, const char *url, const booking_clock *clock)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event_publisher_open: NULL argument");
	*out = NULL;
	if (strcmp(url, "memory:") == 0)
		return booking__memory_publisher_new(out, clock);
	if (has_prefix(url, "redis:")) {
#if HAVE_REDIS
		return booking__redis_publisher_new(out, url, clock);
#else
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "events_url: this libbooking was built without Redis");
#endif
	}
	return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"events_url\"}",
	                         "events_url: unknown scheme (store:, memory:, redis:)");
}

int booking_payment_gateway_open(booking_payment_gateway **out, const char *url)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "payment_gateway_open: NULL argument");
	*out = NULL;
	if (strcmp(url, "simulated:") == 0)
		return booking__simulated_gateway_new(out);
	return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"gateway_url\"}",
	                         "gateway_url: unknown scheme (simulated:)");
}

#define REQUIRE(obj, member) \
	do { \
		if (!(obj)->member) \
			return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: required member %s is NULL", what, #member); \
	} while (0)

static int check_version(unsigned int version, unsigned int max, const char *what)
{
	if (version == 0 || version > max)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: version %u not supported (1..%u)", what, version, max);
	return 0;
}

int booking_store_validate(const booking_store *st)
{
	const char *what = "store";
	if (!st)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "store is NULL");
	int rc = check_version(st->version, BOOKING_STORE_VERSION, what);
	if (rc < 0)
		return rc;
	/* version 3 changed booking_list_by_user in place (paging): an older store would be called wrongly */
	if (st->version < 3)
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "store: version %u predates the paged booking_list_by_user of version 3: "
		                         "rebuild the store against this <booking/sys/store.h>",
		                         st->version);
	REQUIRE(st, free);
	REQUIRE(st, migrate);
	REQUIRE(st, movie_insert);
	REQUIRE(st, movie_get);
	REQUIRE(st, movie_list);
	REQUIRE(st, theater_insert);
	REQUIRE(st, theater_get);
	REQUIRE(st, theater_list);
	REQUIRE(st, screen_insert);
	REQUIRE(st, screen_get);
	REQUIRE(st, showtime_insert);
	REQUIRE(st, showtime_get);
	REQUIRE(st, showtime_list);
	REQUIRE(st, seat_list);
	REQUIRE(st, hold);
	REQUIRE(st, booking_get);
	REQUIRE(st, booking_list_by_user);
	REQUIRE(st, apply);
	REQUIRE(st, list_due);
	REQUIRE(st, pay_begin);
	REQUIRE(st, pay_finish);
	REQUIRE(st, refund);
	REQUIRE(st, payment_get);
	REQUIRE(st, list_processing);
	REQUIRE(st, outbox_unpublished);
	REQUIRE(st, outbox_mark_published);
	REQUIRE(st, outbox_read);
	REQUIRE(st, cursor_get);
	REQUIRE(st, cursor_advance);
	REQUIRE(st, inbox_seen);
	REQUIRE(st, inbox_mark);
	REQUIRE(st, dead_letter_put);
	REQUIRE(st, dead_letter_list);
	REQUIRE(st, scan);
	return 0;
}

static int lock_manager_validate(const booking_lock_manager *lm)
{
	const char *what = "lock manager";
	int rc = check_version(lm->version, BOOKING_LOCK_MANAGER_VERSION, what);
	if (rc < 0)
		return rc;
	REQUIRE(lm, free);
	REQUIRE(lm, acquire_all);
	REQUIRE(lm, release_all);
	REQUIRE(lm, extend);
	return 0;
}

static int publisher_validate(const booking_event_publisher *p)
{
	const char *what = "event publisher";
	int rc = check_version(p->version, BOOKING_EVENT_PUBLISHER_VERSION, what);
	if (rc < 0)
		return rc;
	REQUIRE(p, free);
	REQUIRE(p, publish);
	REQUIRE(p, read_group);
	REQUIRE(p, ack);
	REQUIRE(p, claim_stale);
	return 0;
}

static int gateway_validate(const booking_payment_gateway *g)
{
	const char *what = "payment gateway";
	int rc = check_version(g->version, BOOKING_PAYMENT_GATEWAY_VERSION, what);
	if (rc < 0)
		return rc;
	REQUIRE(g, free);
	REQUIRE(g, charge);
	REQUIRE(g, refund);
	REQUIRE(g, lookup);
	return 0;
}

/* Open what the options name by URL; validate what the host handed over. */
int booking__open_backends(booking *bk, const booking_options *opts)
{
	int rc;
	if (bk->store) {
		if ((rc = booking_store_validate(bk->store)) < 0)
			return rc;
	} else if ((rc = booking_store_open(&bk->store, bk->cfg.store_url, opts)) < 0) {
		return rc;
	}
	char *timed = NULL; /* redis:// with the options' timeouts, unless the URL sets them */
	if (bk->locks) {
		if ((rc = lock_manager_validate(bk->locks)) < 0)
			return rc;
	} else if (bk->cfg.lock_url[0]) {
		if ((rc = booking__redis_url_with_timeouts(&timed, bk->cfg.lock_url, &bk->cfg)) == 0)
			rc = booking_lock_manager_open(&bk->locks, timed ? timed : bk->cfg.lock_url, bk->clock);
		booking_free(timed);
		if (rc < 0)
			return rc;
	}
	if (bk->publisher) {
		if ((rc = publisher_validate(bk->publisher)) < 0)
			return rc;
	} else if (strcmp(bk->cfg.events_url, "store:") != 0) {
		if ((rc = booking__redis_url_with_timeouts(&timed, bk->cfg.events_url, &bk->cfg)) == 0)
			rc = booking_event_publisher_open(&bk->publisher, timed ? timed : bk->cfg.events_url, bk->clock);
		booking_free(timed);
		if (rc < 0)
			return rc;
	}
	if (bk->gateway) {
		if ((rc = gateway_validate(bk->gateway)) < 0)
			return rc;
	} else if ((rc = booking_payment_gateway_open(&bk->gateway, bk->cfg.gateway_url)) < 0) {
		return rc;
	}
	/* last: breakers, retries, deadlines, metrics and spans around every backend call */
	return booking__resilience_wrap(bk);
}
