/*
 * SQLite store — the catalog's writes: movies, theaters, screens, showtimes
 * (the reads are shared: sql/reads.c).
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

/* --- movies ------------------------------------------------------------------ */

static const char SQL_MOVIE_INSERT[] =
	"INSERT INTO movies (id, title, duration_minutes, created_at) VALUES (?1, ?2, ?3, ?4)";

static int movie_insert_tx(sq_conn *c, void *arg)
{
	const booking_movie *m = arg;

	return sq_run(c, SQL_MOVIE_INSERT, "teii", m->id, m->title, (int64_t)m->duration_minutes, m->created_at);
}

int sq_movie_insert(booking_store *st, const booking_movie *m)
{
	return sq_write((sq_store *)st, movie_insert_tx, (void *)(uintptr_t)m);
}

/* --- theaters -------------------------------------------------------------------- */

static const char SQL_THEATER_INSERT[] =
	"INSERT INTO theaters (id, name, city, created_at) VALUES (?1, ?2, ?3, ?4)";

static int theater_insert_tx(sq_conn *c, void *arg)
{
	const booking_theater *t = arg;

	return sq_run(c, SQL_THEATER_INSERT, "teei", t->id, t->name, t->city, t->created_at);
}

int sq_theater_insert(booking_store *st, const booking_theater *t)
{
	return sq_write((sq_store *)st, theater_insert_tx, (void *)(uintptr_t)t);
}

/* --- screens --------------------------------------------------------------------- */

static const char SQL_THEATER_EXISTS[] = "SELECT 1 FROM theaters WHERE id = ?1";
static const char SQL_SCREEN_INSERT[] =
	"INSERT INTO screens (id, theater_id, name, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_SCREEN_SEAT_INSERT[] =
	"INSERT INTO screen_seats (screen_id, position, label, category) VALUES (?1, ?2, ?3, ?4)";

static int screen_insert_tx(sq_conn *c, void *arg)
{
	const booking_screen *sc = arg;
	sqlite3_stmt *s;
	bool found;
	int64_t one;
	int rc;

	rc = sq_query_i64(c, SQL_THEATER_EXISTS, &one, &found, "t", sc->theater_id);
	if (rc != 0)
		return rc;
	if (!found)
		return booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	rc = sq_run(c, SQL_SCREEN_INSERT, "ttei", sc->id, sc->theater_id, sc->name, sc->created_at);
	if (rc != 0)
		return rc;
	rc = sq_stmt(c, SQL_SCREEN_SEAT_INSERT, &s);
	for (size_t i = 0; rc == 0 && i < sc->seat_count; i++) {
		char label[BOOKING_LABEL_SIZE], category[BOOKING_CATEGORY_SIZE];

		/* The record's arrays need not be terminated: copy them bounded. */
		snprintf(label, sizeof label, "%.*s", (int)(sizeof label - 1), sc->seats[i].label);
		snprintf(category, sizeof category, "%.*s", (int)(sizeof category - 1), sc->seats[i].category);
		sqlite3_reset(s);
		rc = sq_bind(c, s, "tztt", sc->id, i, label, category);
		if (rc == 0)
			rc = sq_step(c, s);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc == BOOKING_EEXISTS)
			rc = booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}",
			                       "duplicate seat label in the screen");
	}
	sqlite3_reset(s);
	return rc;
}

int sq_screen_insert(booking_store *st, const booking_screen *s)
{
	return sq_write((sq_store *)st, screen_insert_tx, (void *)(uintptr_t)s);
}

/* --- showtimes ------------------------------------------------------------------- */

static const char SQL_MOVIE_EXISTS[] = "SELECT 1 FROM movies WHERE id = ?1";
static const char SQL_SCREEN_EXISTS[] = "SELECT 1 FROM screens WHERE id = ?1";
static const char SQL_SHOWTIME_INSERT[] =
	"INSERT INTO showtimes (id, movie_id, screen_id, starts_at, currency, status, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_PRICE_INSERT[] =
	"INSERT INTO showtime_prices (showtime_id, position, category, amount) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_SHOWTIME_SEATS_CREATE[] =
	"INSERT INTO showtime_seats (showtime_id, label, category, position, status, booking_id, hold_until, version)"
	" SELECT ?1, label, category, position, 0, NULL, 0, 0 FROM screen_seats WHERE screen_id = ?2";

static int showtime_insert_tx(sq_conn *c, void *arg)
{
	const booking_showtime *sh = arg;
	char currency[BOOKING_CURRENCY_SIZE];
	sqlite3_stmt *s;
	bool found;
	int64_t one;
	int rc;

	rc = sq_query_i64(c, SQL_MOVIE_EXISTS, &one, &found, "t", sh->movie_id);
	if (rc == 0 && !found)
		return booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	if (rc == 0)
		rc = sq_query_i64(c, SQL_SCREEN_EXISTS, &one, &found, "t", sh->screen_id);
	if (rc == 0 && !found)
		return booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	snprintf(currency, sizeof currency, "%.*s", (int)(sizeof currency - 1), sh->currency);
	if (rc == 0)
		rc = sq_run(c, SQL_SHOWTIME_INSERT, "tttitii", sh->id, sh->movie_id, sh->screen_id, sh->starts_at,
		            currency, (int64_t)sh->status, sh->created_at);
	if (rc == 0)
		rc = sq_stmt(c, SQL_PRICE_INSERT, &s);
	for (size_t i = 0; rc == 0 && i < sh->price_count; i++) {
		char category[BOOKING_CATEGORY_SIZE];

		snprintf(category, sizeof category, "%.*s", (int)(sizeof category - 1), sh->prices[i].category);
		sqlite3_reset(s);
		rc = sq_bind(c, s, "tzti", sh->id, i, category, sh->prices[i].amount);
		if (rc == 0)
			rc = sq_step(c, s);
		if (rc == SQLITE_DONE)
			rc = 0;
		else if (rc == BOOKING_EEXISTS)
			rc = booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"prices\"}",
			                       "duplicate price category");
		sqlite3_reset(s);
	}
	if (rc == 0)
		rc = sq_run(c, SQL_SHOWTIME_SEATS_CREATE, "tt", sh->id, sh->screen_id);
	return rc;
}

int sq_showtime_insert(booking_store *st, const booking_showtime *s)
{
	return sq_write((sq_store *)st, showtime_insert_tx, (void *)(uintptr_t)s);
}
