/*
 * The SQL stores' root and group tables, once (sql.h): the catalog, the
 * outbox and its consumers, users and kv are the shared members; the ledger
 * is each store's (SQL_LEDGER), for its own hold and apply.
 * SPDX-License-Identifier: MIT
 */
#include "sql/sql.h"

/* The catalog, at each version a store may declare (sql_store_init). */
#define SQL_CATALOG(version_)                                                                                  \
	{                                                                                                      \
		.version = (version_), .movie_insert = sql_movie_insert, .movie_get = sql_movie_get,           \
		.movie_list = sql_movie_list, .theater_insert = sql_theater_insert, .theater_get = sql_theater_get, \
		.theater_list = sql_theater_list, .screen_insert = sql_screen_insert, .screen_get = sql_screen_get, \
		.showtime_insert = sql_showtime_insert, .showtime_get = sql_showtime_get,                      \
		.showtime_list = sql_showtime_list, .seat_list = sql_seat_list, .seat_states = sql_seat_states, \
	}
static const booking_store_catalog sql_catalog_v1 = SQL_CATALOG(1);
static const booking_store_catalog sql_catalog = SQL_CATALOG(BOOKING_STORE_CATALOG_VERSION);
#undef SQL_CATALOG

static const booking_store_outbox sql_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = sql_outbox_unpublished,
	.outbox_mark_published = sql_outbox_mark_published,
	.outbox_read = sql_outbox_read,
	.cursor_get = sql_cursor_get,
	.cursor_advance = sql_cursor_advance,
	.inbox_seen = sql_inbox_seen,
	.inbox_mark = sql_inbox_mark,
	.dead_letter_put = sql_dead_letter_put,
	.dead_letter_list = sql_dead_letter_list,
};

static const booking_store_users sql_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = sql_user_insert,
	.user_get = sql_user_get,
	.user_get_by_email = sql_user_get_by_email,
	.user_set_password_hash = sql_user_set_password_hash,
	.token_revoke = sql_token_revoke,
	.token_is_revoked = sql_token_is_revoked,
};

static const booking_store_kv sql_kv = {
	.version = BOOKING_STORE_KV_VERSION,
	.kv_get = sql_kv_get,
	.kv_put = sql_kv_put,
	.kv_list = sql_kv_list,
};

void sql_store_init(sql_store *st, const sql_driver *driver, unsigned int catalog_version,
                    const booking_store_ledger *ledger, void (*free_fn)(booking_store *))
{
	st->driver = driver;
	st->parent.version = BOOKING_STORE_VERSION;
	st->parent.free = free_fn;
	st->parent.migrate = sql_migrate;
	st->parent.scan = sql_scan;
	st->parent.catalog = catalog_version >= BOOKING_STORE_CATALOG_VERSION ? &sql_catalog : &sql_catalog_v1;
	st->parent.ledger = ledger;
	st->parent.outbox = &sql_outbox;
	st->parent.users = &sql_users;
	st->parent.kv = driver->kv_put != NULL ? &sql_kv : NULL;
}
