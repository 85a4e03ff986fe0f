/*
 * URL → backend, through the registered schemes (schemes.c,
 * sys/registry.h). The core names no backend here: the built-ins register
 * themselves from backends/builtin.c.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <stdio.h>
#include <string.h>

static int lock_manager_validate(const booking_lock_manager *lm);
static int publisher_validate(const booking_event_publisher *p);
static int gateway_validate(const booking_payment_gateway *g);

static int unknown_scheme(booking__backend_kind kind, const char *field)
{
	char schemes[256];
	/* "store:" events are the store's outbox (booking__open_backends), not a registered publisher */
	size_t at = kind == BOOKING__EVENT_PUBLISHER ? (size_t)snprintf(schemes, sizeof(schemes), "store:, ") : 0;
	booking__backend_schemes(kind, schemes + at, sizeof(schemes) - at);
	char details[64];
	snprintf(details, sizeof(details), "{\"field\":\"%s\"}", field);
	return booking_error_set(BOOKING_EVALIDATION, details, "%s: unknown scheme (%s)", field, schemes);
}

/* A constructor that answered 0 must have made something. */
static int made(const void *obj, const char *what, const char *url)
{
	if (obj)
		return 0;
	const char *colon = strchr(url, ':');
	return booking_error_set(BOOKING_EINTERNAL, NULL, "the %s constructor of \"%.*s:\" returned success and no %s", what,
	                         (int)(colon - url), url, what);
}

booking_error_code booking_store_open(booking_store **out, const char *url, const booking_clock *clock)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "store_open: NULL argument");
	*out = NULL;
	booking_backend_def def;
	if (!booking__backend_find(BOOKING__STORE, url, &def))
		return unknown_scheme(BOOKING__STORE, "store_url");
	int rc = def.store(out, url, clock, def.payload);
	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	if ((rc = made(*out, "store", url)) < 0 || (rc = booking_store_validate(*out)) < 0) {
		if (*out && (*out)->free)
			(*out)->free(*out);
		*out = NULL;
	}
	return rc;
}

booking_error_code booking_lock_manager_open(booking_lock_manager **out, const char *url, const booking_clock *clock)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "lock_manager_open: NULL argument");
	*out = NULL;
	booking_backend_def def;
	if (!booking__backend_find(BOOKING__LOCK_MANAGER, url, &def))
		return unknown_scheme(BOOKING__LOCK_MANAGER, "lock_url");
	int rc = def.lock_manager(out, url, clock, def.payload);
	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	if ((rc = made(*out, "lock manager", url)) < 0 || (rc = lock_manager_validate(*out)) < 0) {
		if (*out && (*out)->free)
			(*out)->free(*out);
		*out = NULL;
	}
	return rc;
}

booking_error_code booking_event_publisher_open(booking_event_publisher **out, const char *url, const booking_clock *clock)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event_publisher_open: NULL argument");
	*out = NULL;
	booking_backend_def def;
	if (!booking__backend_find(BOOKING__EVENT_PUBLISHER, url, &def))
		return unknown_scheme(BOOKING__EVENT_PUBLISHER, "events_url");
	int rc = def.event_publisher(out, url, clock, def.payload);
	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	if ((rc = made(*out, "event publisher", url)) < 0 || (rc = publisher_validate(*out)) < 0) {
		if (*out && (*out)->free)
			(*out)->free(*out);
		*out = NULL;
	}
	return rc;
}

booking_error_code booking_payment_gateway_open(booking_payment_gateway **out, const char *url)
{
	if (!out || !url)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "payment_gateway_open: NULL argument");
	*out = NULL;
	booking_backend_def def;
	if (!booking__backend_find(BOOKING__PAYMENT_GATEWAY, url, &def))
		return unknown_scheme(BOOKING__PAYMENT_GATEWAY, "gateway_url");
	int rc = def.payment_gateway(out, url, def.payload);
	if (rc < 0) {
		*out = NULL;
		return rc;
	}
	if ((rc = made(*out, "payment gateway", url)) < 0 || (rc = gateway_validate(*out)) < 0) {
		if (*out && (*out)->free)
			(*out)->free(*out);
		*out = NULL;
	}
	return rc;
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

/* BOOKING_SEAT_CLAIMABLE_SQL writes the seat statuses as these numbers */
_Static_assert(BOOKING_SEAT_FREE == 0 && BOOKING_SEAT_HELD == 1 && BOOKING_SEAT_SOLD == 2,
               "BOOKING_SEAT_CLAIMABLE_SQL spells the seat statuses as 0, 1, 2");

booking_error_code booking_store_not_found(int code)
{
	const char *what;
	switch (code) {
	case BOOKING_EMOVIE_NOT_FOUND: what = "movie "; break;
	case BOOKING_ETHEATER_NOT_FOUND: what = "theater "; break;
	case BOOKING_ESCREEN_NOT_FOUND: what = "screen "; break;
	case BOOKING_ESHOWTIME_NOT_FOUND: what = "showtime "; break;
	case BOOKING_ERESERVATION_NOT_FOUND: what = "reservation "; break;
	case BOOKING_EPAYMENT_NOT_FOUND: what = "payment "; break;
	default: what = ""; code = BOOKING_ENOTFOUND; break;
	}
	return booking_error_set(code, NULL, "%snot found", what);
}

booking_error_code booking_store_validate(const booking_store *st)
{
	const char *what = "store";
	if (!st)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "store is NULL");
	int rc = check_version(st->version, BOOKING_STORE_VERSION, what);
	if (rc < 0)
		return rc;
	/* versions 3 to 6 changed members and records in place (paging, apply, groups, outputs first, arrays of pointers):
	 * an older store would be called wrongly; 7 only appended the kv group */
	if (st->version < 6)
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "store: version %u predates version 6: "
		                         "rebuild the store against this <booking/sys/store.h>",
		                         st->version);
	REQUIRE(st, free);
	REQUIRE(st, migrate);
	REQUIRE(st, scan);

	const booking_store_catalog *cat = st->catalog;
	what = "store.catalog";
	if (!cat)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: required group is NULL", what);
	if ((rc = check_version(cat->version, BOOKING_STORE_CATALOG_VERSION, what)) < 0)
		return rc;
	REQUIRE(cat, movie_insert);
	REQUIRE(cat, movie_get);
	REQUIRE(cat, movie_list);
	REQUIRE(cat, theater_insert);
	REQUIRE(cat, theater_get);
	REQUIRE(cat, theater_list);
	REQUIRE(cat, screen_insert);
	REQUIRE(cat, screen_get);
	REQUIRE(cat, showtime_insert);
	REQUIRE(cat, showtime_get);
	REQUIRE(cat, showtime_list);
	REQUIRE(cat, seat_list);

	const booking_store_ledger *led = st->ledger;
	what = "store.ledger";
	if (!led)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: required group is NULL", what);
	if ((rc = check_version(led->version, BOOKING_STORE_LEDGER_VERSION, what)) < 0)
		return rc;
	REQUIRE(led, hold);
	REQUIRE(led, reservation_get);
	REQUIRE(led, reservation_list_by_user);
	REQUIRE(led, apply);
	REQUIRE(led, reservation_list_by_status);
	REQUIRE(led, idempotency_get);
	REQUIRE(led, payment_get);
	REQUIRE(led, payment_list_by_status);
	REQUIRE(led, payment_attempts);
	if (led->version >= 2)
		REQUIRE(led, reservation_list_by_showtime);

	const booking_store_outbox *ob = st->outbox;
	what = "store.outbox";
	if (!ob)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: required group is NULL", what);
	if ((rc = check_version(ob->version, BOOKING_STORE_OUTBOX_VERSION, what)) < 0)
		return rc;
	REQUIRE(ob, outbox_unpublished);
	REQUIRE(ob, outbox_mark_published);
	REQUIRE(ob, outbox_read);
	REQUIRE(ob, cursor_get);
	REQUIRE(ob, cursor_advance);
	REQUIRE(ob, inbox_seen);
	REQUIRE(ob, inbox_mark);
	REQUIRE(ob, dead_letter_put);
	REQUIRE(ob, dead_letter_list);

	/* the optional group: all of it or none */
	const booking_store_users *us = st->users;
	what = "store.users";
	if (us) {
		if ((rc = check_version(us->version, BOOKING_STORE_USERS_VERSION, what)) < 0)
			return rc;
		REQUIRE(us, user_insert);
		REQUIRE(us, user_get);
		REQUIRE(us, user_get_by_email);
		REQUIRE(us, user_set_password_hash);
		REQUIRE(us, token_revoke);
		REQUIRE(us, token_is_revoked);
	}
	const booking_store_kv *kv = booking__store_kv(st);
	what = "store.kv";
	if (kv) {
		if ((rc = check_version(kv->version, BOOKING_STORE_KV_VERSION, what)) < 0)
			return rc;
		REQUIRE(kv, kv_get);
		REQUIRE(kv, kv_put);
		REQUIRE(kv, kv_list);
	}
	return 0;
}

static int lock_manager_validate(const booking_lock_manager *lm)
{
	const char *what = "lock manager";
	if (!lm)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s is NULL", what);
	int rc = check_version(lm->version, BOOKING_LOCK_MANAGER_VERSION, what);
	if (rc < 0)
		return rc;
	REQUIRE(lm, free);
	REQUIRE(lm, acquire_all);
	REQUIRE(lm, release_all);
	REQUIRE(lm, extend);
	/* optional (version 3), both or neither: a manager that settles marks must also say who holds a key */
	if (lm->version >= 3 && !lm->acquire_all_why != !lm->settle)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: acquire_all_why and settle come together "
		                         "(both or neither)", what);
	return 0;
}

static int publisher_validate(const booking_event_publisher *p)
{
	const char *what = "event publisher";
	if (!p)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s is NULL", what);
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
	if (!g)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s is NULL", what);
	int rc = check_version(g->version, BOOKING_PAYMENT_GATEWAY_VERSION, what);
	if (rc < 0)
		return rc;
	/* version 2 put the outputs first in place: an older gateway would be called wrongly */
	if (g->version < 2)
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "payment gateway: version %u predates the parameter order of version 2: "
		                         "rebuild the gateway against this <booking/sys/gateway.h>",
		                         g->version);
	REQUIRE(g, free);
	REQUIRE(g, charge);
	REQUIRE(g, refund);
	REQUIRE(g, lookup);
	return 0;
}

/* Open what the options name by URL; validate what the host handed over. */
int booking__open_backends(booking_handle *bk)
{
	int rc;
	if (bk->store) {
		if ((rc = booking_store_validate(bk->store)) < 0)
			return rc;
	} else if ((rc = booking_store_open(&bk->store, bk->cfg.store_url, bk->clock)) < 0) {
		return rc;
	}
	/* each URL reaches its constructor as given: the backend reads its settings from it */
	if (bk->locks) {
		if ((rc = lock_manager_validate(bk->locks)) < 0)
			return rc;
	} else if (bk->cfg.lock_url[0] &&
	           (rc = booking_lock_manager_open(&bk->locks, bk->cfg.lock_url, bk->clock)) < 0) {
		return rc;
	}
	if (bk->publisher) {
		if ((rc = publisher_validate(bk->publisher)) < 0)
			return rc;
	} else if (strcmp(bk->cfg.events_url, "store:") != 0 &&
	           (rc = booking_event_publisher_open(&bk->publisher, bk->cfg.events_url, bk->clock)) < 0) {
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
