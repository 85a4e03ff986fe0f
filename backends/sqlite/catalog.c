/*
 * SQLite store — the catalog: movies, theaters, screens, showtimes, seat rows.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_store.h"

/* --- movies ------------------------------------------------------------------ */

static const char SQL_MOVIE_INSERT[] =
	"INSERT INTO movies (id, title, duration_minutes, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_MOVIE_GET[] = "SELECT id, title, duration_minutes, created_at FROM movies WHERE id = ?1";
static const char SQL_MOVIE_LIST[] =
	"SELECT id, title, duration_minutes, created_at FROM movies ORDER BY created_at, rowid";

static int movie_insert_tx(sq_conn *c, void *arg)
{
	const booking_movie *m = arg;

	return sq_run(c, SQL_MOVIE_INSERT, "teii", m->id, m->title, (int64_t)m->duration_minutes, m->created_at);
}

int sq_movie_insert(booking_store *st, const booking_movie *m)
{
	return sq_write((sq_store *)st, movie_insert_tx, (void *)(uintptr_t)m);
}

static int movie_from_row(sqlite3_stmt *s, booking_movie **out)
{
	booking_movie *m = booking_calloc(1, sizeof *m);

	if (m == NULL)
		return booking_error_oom();
	sq_col_copy(s, 0, m->id, sizeof m->id);
	m->title = sq_col_dup(s, 1);
	if (m->title == NULL) {
		booking_free(m);
		return booking_error_oom();
	}
	m->duration_minutes = sqlite3_column_int(s, 2);
	m->created_at = (int64_t)sqlite3_column_int64(s, 3);
	*out = m;
	return 0;
}

struct get_arg {
	const char *id;
	void *out;
};

static int movie_get_tx(sq_conn *c, void *arg)
{
	struct get_arg *a = arg;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_MOVIE_GET, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", a->id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_ROW)
		rc = movie_from_row(s, (booking_movie **)a->out);
	else if (rc == SQLITE_DONE)
		rc = booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	sqlite3_reset(s);
	return rc;
}

int sq_movie_get(booking_store *st, const char *id, booking_movie **out)
{
	struct get_arg a = {id, out};

	*out = NULL;
	return sq_read((sq_store *)st, movie_get_tx, &a);
}

struct list_arg {
	const char *key;
	void *cb;
	void *payload;
};

static int movie_list_tx(sq_conn *c, void *arg)
{
	struct list_arg *a = arg;
	booking_store_movie_cb cb = (booking_store_movie_cb)(uintptr_t)a->cb;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_MOVIE_LIST, &s);

	while (sq_next(c, s, &rc)) {
		booking_movie m = {0};

		sq_col_copy(s, 0, m.id, sizeof m.id);
		m.title = (char *)sq_col_text(s, 1);
		m.duration_minutes = sqlite3_column_int(s, 2);
		m.created_at = (int64_t)sqlite3_column_int64(s, 3);
		rc = cb(&m, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

int sq_movie_list(booking_store *st, booking_store_movie_cb cb, void *payload)
{
	struct list_arg a = {NULL, (void *)(uintptr_t)cb, payload};

	return sq_read((sq_store *)st, movie_list_tx, &a);
}

/* --- theaters -------------------------------------------------------------------- */

static const char SQL_THEATER_INSERT[] =
	"INSERT INTO theaters (id, name, city, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_THEATER_GET[] = "SELECT id, name, city, created_at FROM theaters WHERE id = ?1";
static const char SQL_THEATER_LIST[] = "SELECT id, name, city, created_at FROM theaters ORDER BY created_at, rowid";

static int theater_insert_tx(sq_conn *c, void *arg)
{
	const booking_theater *t = arg;

	return sq_run(c, SQL_THEATER_INSERT, "teei", t->id, t->name, t->city, t->created_at);
}

int sq_theater_insert(booking_store *st, const booking_theater *t)
{
	return sq_write((sq_store *)st, theater_insert_tx, (void *)(uintptr_t)t);
}

static int theater_get_tx(sq_conn *c, void *arg)
{
	struct get_arg *a = arg;
	booking_theater *t;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_THEATER_GET, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", a->id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_DONE) {
		rc = booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	} else if (rc == SQLITE_ROW) {
		rc = 0;
		t = booking_calloc(1, sizeof *t);
		if (t != NULL) {
			sq_col_copy(s, 0, t->id, sizeof t->id);
			t->name = sq_col_dup(s, 1);
			t->city = sq_col_dup(s, 2);
			t->created_at = (int64_t)sqlite3_column_int64(s, 3);
		}
		if (t == NULL || t->name == NULL || t->city == NULL) {
			if (t != NULL) {
				booking_free(t->name);
				booking_free(t->city);
				booking_free(t);
			}
			rc = booking_error_oom();
		} else {
			*(booking_theater **)a->out = t;
		}
	}
	sqlite3_reset(s);
	return rc;
}

int sq_theater_get(booking_store *st, const char *id, booking_theater **out)
{
	struct get_arg a = {id, out};

	*out = NULL;
	return sq_read((sq_store *)st, theater_get_tx, &a);
}

static int theater_list_tx(sq_conn *c, void *arg)
{
	struct list_arg *a = arg;
	booking_store_theater_cb cb = (booking_store_theater_cb)(uintptr_t)a->cb;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_THEATER_LIST, &s);

	while (sq_next(c, s, &rc)) {
		booking_theater t = {0};

		sq_col_copy(s, 0, t.id, sizeof t.id);
		t.name = (char *)sq_col_text(s, 1);
		t.city = (char *)sq_col_text(s, 2);
		t.created_at = (int64_t)sqlite3_column_int64(s, 3);
		rc = cb(&t, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

int sq_theater_list(booking_store *st, booking_store_theater_cb cb, void *payload)
{
	struct list_arg a = {NULL, (void *)(uintptr_t)cb, payload};

	return sq_read((sq_store *)st, theater_list_tx, &a);
}

/* --- screens --------------------------------------------------------------------- */

static const char SQL_THEATER_EXISTS[] = "SELECT 1 FROM theaters WHERE id = ?1";
static const char SQL_SCREEN_INSERT[] =
	"INSERT INTO screens (id, theater_id, name, created_at) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_SCREEN_SEAT_INSERT[] =
	"INSERT INTO screen_seats (screen_id, position, label, category) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_SCREEN_GET[] = "SELECT id, theater_id, name, created_at FROM screens WHERE id = ?1";
static const char SQL_SCREEN_SEAT_COUNT[] = "SELECT count(*) FROM screen_seats WHERE screen_id = ?1";
static const char SQL_SCREEN_SEATS[] =
	"SELECT label, category FROM screen_seats WHERE screen_id = ?1 ORDER BY position";

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

static void screen_free(booking_screen *sc)
{
	if (sc != NULL) {
		booking_free(sc->name);
		booking_free(sc->seats);
		booking_free(sc);
	}
}

static int screen_seats_load(sq_conn *c, booking_screen *sc)
{
	sqlite3_stmt *s;
	int64_t count = 0;
	size_t n = 0;
	int rc;

	rc = sq_query_i64(c, SQL_SCREEN_SEAT_COUNT, &count, NULL, "t", sc->id);
	if (rc != 0)
		return rc;
	if (count > 0) {
		sc->seats = booking_calloc((size_t)count, sizeof *sc->seats);
		if (sc->seats == NULL)
			return booking_error_oom();
	}
	rc = sq_stmt(c, SQL_SCREEN_SEATS, &s);
	if (rc == 0)
		rc = sq_bind(c, s, "t", sc->id);
	while (n < (size_t)count && sq_next(c, s, &rc)) {
		sq_col_copy(s, 0, sc->seats[n].label, sizeof sc->seats[n].label);
		sq_col_copy(s, 1, sc->seats[n].category, sizeof sc->seats[n].category);
		n++;
	}
	sqlite3_reset(s);
	sc->seat_count = n;
	return rc;
}

static int screen_get_tx(sq_conn *c, void *arg)
{
	struct get_arg *a = arg;
	booking_screen *sc = NULL;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SCREEN_GET, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", a->id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_DONE) {
		rc = booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	} else if (rc == SQLITE_ROW) {
		sc = booking_calloc(1, sizeof *sc);
		if (sc != NULL) {
			sq_col_copy(s, 0, sc->id, sizeof sc->id);
			sq_col_copy(s, 1, sc->theater_id, sizeof sc->theater_id);
			sc->name = sq_col_dup(s, 2);
			sc->created_at = (int64_t)sqlite3_column_int64(s, 3);
		}
		rc = (sc == NULL || sc->name == NULL) ? booking_error_oom() : 0;
	}
	sqlite3_reset(s);
	if (rc != 0) {
		screen_free(sc);
		return rc;
	}
	if (sc == NULL)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: unexpected step result");
	rc = screen_seats_load(c, sc);
	if (rc != 0) {
		screen_free(sc);
		return rc;
	}
	*(booking_screen **)a->out = sc;
	return 0;
}

int sq_screen_get(booking_store *st, const char *id, booking_screen **out)
{
	struct get_arg a = {id, out};

	*out = NULL;
	return sq_read((sq_store *)st, screen_get_tx, &a);
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
#define SHOWTIME_COLUMNS "id, movie_id, screen_id, starts_at, currency, status, created_at"
static const char SQL_SHOWTIME_GET[] = "SELECT " SHOWTIME_COLUMNS " FROM showtimes WHERE id = ?1";
static const char SQL_SHOWTIME_LIST_ALL[] =
	"SELECT " SHOWTIME_COLUMNS " FROM showtimes ORDER BY starts_at, rowid";
static const char SQL_SHOWTIME_LIST_MOVIE[] =
	"SELECT " SHOWTIME_COLUMNS " FROM showtimes WHERE movie_id = ?1 ORDER BY starts_at, rowid";
static const char SQL_PRICE_COUNT[] = "SELECT count(*) FROM showtime_prices WHERE showtime_id = ?1";
static const char SQL_PRICES[] =
	"SELECT category, amount FROM showtime_prices WHERE showtime_id = ?1 ORDER BY position";

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

static void showtime_from_row(sqlite3_stmt *s, booking_showtime *sh)
{
	sq_col_copy(s, 0, sh->id, sizeof sh->id);
	sq_col_copy(s, 1, sh->movie_id, sizeof sh->movie_id);
	sq_col_copy(s, 2, sh->screen_id, sizeof sh->screen_id);
	sh->starts_at = (int64_t)sqlite3_column_int64(s, 3);
	sq_col_copy(s, 4, sh->currency, sizeof sh->currency);
	sh->status = (booking_showtime_status)sqlite3_column_int(s, 5);
	sh->created_at = (int64_t)sqlite3_column_int64(s, 6);
}

/* Load the prices of sh->id into sh->prices (booking_malloc'd, NULL when none). */
static int prices_load(sq_conn *c, booking_showtime *sh)
{
	sqlite3_stmt *s;
	int64_t count = 0;
	size_t n = 0;
	int rc;

	sh->prices = NULL;
	sh->price_count = 0;
	rc = sq_query_i64(c, SQL_PRICE_COUNT, &count, NULL, "t", sh->id);
	if (rc != 0 || count <= 0)
		return rc;
	sh->prices = booking_calloc((size_t)count, sizeof *sh->prices);
	if (sh->prices == NULL)
		return booking_error_oom();
	rc = sq_stmt(c, SQL_PRICES, &s);
	if (rc == 0)
		rc = sq_bind(c, s, "t", sh->id);
	while (n < (size_t)count && sq_next(c, s, &rc)) {
		sq_col_copy(s, 0, sh->prices[n].category, sizeof sh->prices[n].category);
		sh->prices[n].amount = (int64_t)sqlite3_column_int64(s, 1);
		n++;
	}
	sqlite3_reset(s);
	sh->price_count = n;
	if (rc != 0) {
		booking_free(sh->prices);
		sh->prices = NULL;
		sh->price_count = 0;
	}
	return rc;
}

static int showtime_get_tx(sq_conn *c, void *arg)
{
	struct get_arg *a = arg;
	booking_showtime *sh = NULL;
	sqlite3_stmt *s;
	int rc = sq_stmt(c, SQL_SHOWTIME_GET, &s);

	if (rc == 0)
		rc = sq_bind(c, s, "t", a->id);
	if (rc == 0)
		rc = sq_step(c, s);
	if (rc == SQLITE_DONE) {
		rc = booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	} else if (rc == SQLITE_ROW) {
		sh = booking_calloc(1, sizeof *sh);
		rc = sh ? 0 : booking_error_oom();
		if (sh != NULL)
			showtime_from_row(s, sh);
	}
	sqlite3_reset(s);
	if (rc == 0 && sh == NULL)
		rc = booking_error_set(BOOKING_EINTERNAL, NULL, "sqlite: unexpected step result");
	if (rc == 0)
		rc = prices_load(c, sh);
	if (rc != 0) {
		booking_free(sh);
		return rc;
	}
	*(booking_showtime **)a->out = sh;
	return 0;
}

int sq_showtime_get(booking_store *st, const char *id, booking_showtime **out)
{
	struct get_arg a = {id, out};

	*out = NULL;
	return sq_read((sq_store *)st, showtime_get_tx, &a);
}

static int showtime_list_tx(sq_conn *c, void *arg)
{
	struct list_arg *a = arg;
	booking_store_showtime_cb cb = (booking_store_showtime_cb)(uintptr_t)a->cb;
	sqlite3_stmt *s;
	int rc;

	if (a->key != NULL) {
		rc = sq_stmt(c, SQL_SHOWTIME_LIST_MOVIE, &s);
		if (rc == 0)
			rc = sq_bind(c, s, "t", a->key);
	} else {
		rc = sq_stmt(c, SQL_SHOWTIME_LIST_ALL, &s);
	}
	while (sq_next(c, s, &rc)) {
		booking_showtime sh = {0};

		showtime_from_row(s, &sh);
		/* Prices use other statements: the list statement stays open meanwhile. */
		rc = prices_load(c, &sh);
		if (rc == 0)
			rc = cb(&sh, a->payload);
		booking_free(sh.prices);
	}
	sqlite3_reset(s);
	return rc;
}

int sq_showtime_list(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	struct list_arg a = {movie_id, (void *)(uintptr_t)cb, payload};

	return sq_read((sq_store *)st, showtime_list_tx, &a);
}

/* --- seat rows ------------------------------------------------------------------- */

static const char SQL_SHOWTIME_EXISTS[] = "SELECT 1 FROM showtimes WHERE id = ?1";
static const char SQL_SEAT_LIST[] =
	"SELECT " SQ_SEAT_COLUMNS " FROM showtime_seats WHERE showtime_id = ?1 ORDER BY position";

void sq_seat_from_row(sqlite3_stmt *s, int first, booking_store_seat *seat)
{
	memset(seat, 0, sizeof *seat);
	sq_col_copy(s, first, seat->label, sizeof seat->label);
	sq_col_copy(s, first + 1, seat->category, sizeof seat->category);
	seat->status = (booking_seat_status)sqlite3_column_int(s, first + 2);
	sq_col_copy(s, first + 3, seat->booking_id, sizeof seat->booking_id);
	seat->hold_until = (int64_t)sqlite3_column_int64(s, first + 4);
	seat->version = (int64_t)sqlite3_column_int64(s, first + 5);
}

static int seat_list_tx(sq_conn *c, void *arg)
{
	struct list_arg *a = arg;
	booking_store_seat_cb cb = (booking_store_seat_cb)(uintptr_t)a->cb;
	sqlite3_stmt *s;
	bool found;
	int64_t one;
	int rc;

	rc = sq_query_i64(c, SQL_SHOWTIME_EXISTS, &one, &found, "t", a->key);
	if (rc != 0)
		return rc;
	if (!found)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	rc = sq_stmt(c, SQL_SEAT_LIST, &s);
	if (rc == 0)
		rc = sq_bind(c, s, "t", a->key);
	while (sq_next(c, s, &rc)) {
		booking_store_seat seat;

		sq_seat_from_row(s, 0, &seat);
		rc = cb(&seat, a->payload);
	}
	sqlite3_reset(s);
	return rc;
}

int sq_seat_list(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	struct list_arg a = {showtime_id, (void *)(uintptr_t)cb, payload};

	return sq_read((sq_store *)st, seat_list_tx, &a);
}
