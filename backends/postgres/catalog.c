/*
 * PostgreSQL store — the catalog's writes: movies, theaters, screens,
 * showtimes (the reads are shared: sql/reads.c).
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_MOVIE_INSERT = {PGQ_MOVIE_INSERT, 4,
	"INSERT INTO movies (id, title, duration_minutes, created_at) VALUES ($1, $2, $3::integer, $4::bigint)"};
static const pg_query Q_MOVIE_EXISTS = {PGQ_MOVIE_EXISTS, 1, "SELECT 1 FROM movies WHERE id = $1"};

static const pg_query Q_THEATER_INSERT = {PGQ_THEATER_INSERT, 4,
	"INSERT INTO theaters (id, name, city, created_at) VALUES ($1, $2, $3, $4::bigint)"};
static const pg_query Q_THEATER_EXISTS = {PGQ_THEATER_EXISTS, 1, "SELECT 1 FROM theaters WHERE id = $1"};

static const pg_query Q_SCREEN_INSERT = {PGQ_SCREEN_INSERT, 6,
	"SELECT booking_screen_insert($1, $2, $3, $4::text[], $5::text[], $6::bigint)"};
static const pg_query Q_SCREEN_EXISTS = {PGQ_SCREEN_EXISTS, 1, "SELECT 1 FROM screens WHERE id = $1"};

static const pg_query Q_SHOWTIME_INSERT = {PGQ_SHOWTIME_INSERT, 9,
	"SELECT booking_showtime_insert($1, $2, $3, $4::bigint, $5, $6::smallint, $7::text[], $8::bigint[],"
	" $9::bigint)"};
static const pg_query Q_SHOWTIME_EXISTS = {PGQ_SHOWTIME_EXISTS, 1, "SELECT 1 FROM showtimes WHERE id = $1"};

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "postgresql store: %s is required", what);
}

/* ------------------------------------------------------------------------
 * Resolvers: after a lost reply, did the insert commit? (ids are unique)
 * ------------------------------------------------------------------------ */

static int id_exists(pg_conn *c, const pg_query *q, const char *id)
{
	pg_params p;
	pp_init(&p);
	pp_text(&p, id);
	int rc = pg_exists(c, q, &p);
	pp_free(&p);
	return rc;
}

static int movie_committed(pg_store *st, pg_conn *c, const void *id)
{
	(void)st;
	return id_exists(c, &Q_MOVIE_EXISTS, id);
}

static int theater_committed(pg_store *st, pg_conn *c, const void *id)
{
	(void)st;
	return id_exists(c, &Q_THEATER_EXISTS, id);
}

static int screen_committed(pg_store *st, pg_conn *c, const void *id)
{
	(void)st;
	return id_exists(c, &Q_SCREEN_EXISTS, id);
}

static int showtime_committed(pg_store *st, pg_conn *c, const void *id)
{
	(void)st;
	return id_exists(c, &Q_SHOWTIME_EXISTS, id);
}

/* Run a write; PG_COMMITTED counts as success. */
static int run_write(pg_store *st, const pg_query *q, pg_params *p, PGresult **res, pg_resolve_fn resolve,
                     const void *arg)
{
	int rc = pg_run(st, q, p, res, resolve, arg);
	pp_free(p);
	return rc == PG_COMMITTED ? 0 : rc;
}

/* A function's integer answer: 0, or the domain error it names. */
static int function_rc(PGresult *r, const char *what, const char *id)
{
	if (!r)
		return 0; /* settled as committed */
	int code = PQntuples(r) == 1 ? (int)pg_i64(r, 0, 0) : BOOKING_EINTERNAL;
	PQclear(r);
	return code == 0 ? 0 : pg_domain_error(code, what, id);
}

/* ------------------------------------------------------------------------
 * Movies and theaters.
 * ------------------------------------------------------------------------ */

int pg_movie_insert(booking_store *base, const booking_movie *m)
{
	pg_params p;
	PGresult *r = NULL;
	if (!m)
		return missing("movie");
	pp_init(&p);
	pp_text(&p, m->id);
	pp_str(&p, m->title);
	pp_i64(&p, m->duration_minutes);
	pp_i64(&p, m->created_at);
	int rc = run_write(pg_impl(base), &Q_MOVIE_INSERT, &p, &r, movie_committed, m->id);
	if (rc == BOOKING_EEXISTS)
		return booking_error_set(rc, NULL, "movie %s already exists", m->id);
	PQclear(r);
	return rc;
}

int pg_theater_insert(booking_store *base, const booking_theater *t)
{
	pg_params p;
	PGresult *r = NULL;
	if (!t)
		return missing("theater");
	pp_init(&p);
	pp_text(&p, t->id);
	pp_str(&p, t->name);
	pp_str(&p, t->city);
	pp_i64(&p, t->created_at);
	int rc = run_write(pg_impl(base), &Q_THEATER_INSERT, &p, &r, theater_committed, t->id);
	if (rc == BOOKING_EEXISTS)
		return booking_error_set(rc, NULL, "theater %s already exists", t->id);
	PQclear(r);
	return rc;
}

/* ------------------------------------------------------------------------
 * Screens.
 * ------------------------------------------------------------------------ */

static const char *seat_label(const void *b, size_t i)
{
	return ((const booking_seat *)b)[i].label;
}

static const char *seat_category(const void *b, size_t i)
{
	return ((const booking_seat *)b)[i].category;
}

int pg_screen_insert(booking_store *base, const booking_screen *s)
{
	pg_params p;
	PGresult *r = NULL;
	if (!s)
		return missing("screen");
	if (s->seat_count && !s->seats)
		return missing("screen seats");
	pp_init(&p);
	pp_text(&p, s->id);
	pp_text(&p, s->theater_id);
	pp_str(&p, s->name);
	pp_text_array(&p, s->seats, s->seat_count, seat_label);
	pp_text_array(&p, s->seats, s->seat_count, seat_category);
	pp_i64(&p, s->created_at);
	int rc = run_write(pg_impl(base), &Q_SCREEN_INSERT, &p, &r, screen_committed, s->id);
	if (rc < 0)
		return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "screen %s already exists", s->id) : rc;
	if (r && PQntuples(r) == 1) {
		int code = (int)pg_i64(r, 0, 0);
		PQclear(r);
		if (code == BOOKING_ETHEATER_NOT_FOUND)
			return pg_domain_error(code, "screen_insert", s->theater_id);
		if (code == BOOKING_EVALIDATION)
			return booking_error_set(code, "{\"field\":\"seats\"}", "a seat label appears twice in the screen");
		return code ? pg_domain_error(code, "screen", s->id) : 0;
	}
	return function_rc(r, "screen_insert", s->id);
}

/* ------------------------------------------------------------------------
 * Showtimes.
 * ------------------------------------------------------------------------ */

static const char *price_category(const void *b, size_t i)
{
	return ((const booking_price *)b)[i].category;
}

static int64_t price_amount(const void *b, size_t i)
{
	return ((const booking_price *)b)[i].amount;
}

int pg_showtime_insert(booking_store *base, const booking_showtime *s)
{
	pg_params p;
	PGresult *r = NULL;
	if (!s)
		return missing("showtime");
	if (s->price_count && !s->prices)
		return missing("showtime prices");
	pp_init(&p);
	pp_text(&p, s->id);
	pp_text(&p, s->movie_id);
	pp_text(&p, s->screen_id);
	pp_i64(&p, s->starts_at);
	pp_str(&p, s->currency);
	pp_i64(&p, (int64_t)s->status);
	pp_text_array(&p, s->prices, s->price_count, price_category);
	pp_i64_array(&p, s->prices, s->price_count, price_amount);
	pp_i64(&p, s->created_at);
	int rc = run_write(pg_impl(base), &Q_SHOWTIME_INSERT, &p, &r, showtime_committed, s->id);
	if (rc < 0)
		return rc == BOOKING_EEXISTS ? booking_error_set(rc, NULL, "showtime %s already exists", s->id) : rc;
	if (r && PQntuples(r) == 1) {
		int code = (int)pg_i64(r, 0, 0);
		PQclear(r);
		if (code == BOOKING_EMOVIE_NOT_FOUND)
			return pg_domain_error(code, "showtime_insert", s->movie_id);
		if (code == BOOKING_ESCREEN_NOT_FOUND)
			return pg_domain_error(code, "showtime_insert", s->screen_id);
		return code ? pg_domain_error(code, "showtime", s->id) : 0;
	}
	return function_rc(r, "showtime_insert", s->id);
}
