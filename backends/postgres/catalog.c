/*
 * PostgreSQL store — the catalog: movies, theaters, screens, showtimes
 * and the seat rows of a showtime.
 *
 * Lists fetch their rows, give the connection back, then call the
 * callback once per row: a callback may call back into the store.
 * SPDX-License-Identifier: MIT
 */
#include "postgres_store.h"

#include <string.h>

static const pg_query Q_MOVIE_INSERT = {PGQ_MOVIE_INSERT, 4,
	"INSERT INTO movies (id, title, duration_minutes, created_at) VALUES ($1, $2, $3::integer, $4::bigint)"};
static const pg_query Q_MOVIE_GET = {PGQ_MOVIE_GET, 1,
	"SELECT id, title, duration_minutes, created_at FROM movies WHERE id = $1"};
static const pg_query Q_MOVIE_LIST = {PGQ_MOVIE_LIST, 0,
	"SELECT id, title, duration_minutes, created_at FROM movies ORDER BY created_at, id"};
static const pg_query Q_MOVIE_EXISTS = {PGQ_MOVIE_EXISTS, 1, "SELECT 1 FROM movies WHERE id = $1"};

static const pg_query Q_THEATER_INSERT = {PGQ_THEATER_INSERT, 4,
	"INSERT INTO theaters (id, name, city, created_at) VALUES ($1, $2, $3, $4::bigint)"};
static const pg_query Q_THEATER_GET = {PGQ_THEATER_GET, 1,
	"SELECT id, name, city, created_at FROM theaters WHERE id = $1"};
static const pg_query Q_THEATER_LIST = {PGQ_THEATER_LIST, 0,
	"SELECT id, name, city, created_at FROM theaters ORDER BY created_at, id"};
static const pg_query Q_THEATER_EXISTS = {PGQ_THEATER_EXISTS, 1, "SELECT 1 FROM theaters WHERE id = $1"};

static const pg_query Q_SCREEN_INSERT = {PGQ_SCREEN_INSERT, 6,
	"SELECT booking_screen_insert($1, $2, $3, $4::text[], $5::text[], $6::bigint)"};
static const pg_query Q_SCREEN_GET = {PGQ_SCREEN_GET, 1,
	"SELECT id, theater_id, name, seat_labels, seat_categories, created_at FROM screens WHERE id = $1"};
static const pg_query Q_SCREEN_EXISTS = {PGQ_SCREEN_EXISTS, 1, "SELECT 1 FROM screens WHERE id = $1"};

static const pg_query Q_SHOWTIME_INSERT = {PGQ_SHOWTIME_INSERT, 9,
	"SELECT booking_showtime_insert($1, $2, $3, $4::bigint, $5, $6::smallint, $7::text[], $8::bigint[],"
	" $9::bigint)"};
#define SHOWTIME_COLUMNS "id, movie_id, screen_id, starts_at, currency, status, price_categories, price_amounts, created_at"
static const pg_query Q_SHOWTIME_GET = {PGQ_SHOWTIME_GET, 1,
	"SELECT " SHOWTIME_COLUMNS " FROM showtimes WHERE id = $1"};
static const pg_query Q_SHOWTIME_LIST_ALL = {PGQ_SHOWTIME_LIST_ALL, 0,
	"SELECT " SHOWTIME_COLUMNS " FROM showtimes ORDER BY starts_at, id"};
static const pg_query Q_SHOWTIME_LIST_MOVIE = {PGQ_SHOWTIME_LIST_MOVIE, 1,
	"SELECT " SHOWTIME_COLUMNS " FROM showtimes WHERE movie_id = $1 ORDER BY starts_at, id"};
static const pg_query Q_SHOWTIME_EXISTS = {PGQ_SHOWTIME_EXISTS, 1, "SELECT 1 FROM showtimes WHERE id = $1"};

/* No row: no showtime. One row with a NULL label: a showtime without seats. */
static const pg_query Q_SEAT_LIST = {PGQ_SEAT_LIST, 1,
	"SELECT s.label, s.category, s.status, s.booking_id, s.hold_until, s.version"
	" FROM showtimes t LEFT JOIN showtime_seats s ON s.showtime_id = t.id"
	" WHERE t.id = $1 ORDER BY s.position"};

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

static void movie_from_row(const PGresult *r, int row, booking_movie *m)
{
	pg_copy(m->id, sizeof m->id, r, row, 0);
	m->title = (char *)pg_str(r, row, 1); /* borrowed; movie_get copies it */
	m->duration_minutes = (int)pg_i64(r, row, 2);
	m->created_at = pg_i64(r, row, 3);
}

int pg_movie_get(booking_store *base, const char *id, booking_movie **out)
{
	PGresult *r;
	if (!out)
		return missing("out");
	*out = NULL;
	int rc = pg_get_one(base, &Q_MOVIE_GET, id, BOOKING_EMOVIE_NOT_FOUND, "movie_get", &r);
	if (rc < 0)
		return rc;
	booking_movie *m = booking_malloc(sizeof *m);
	if (m) {
		movie_from_row(r, 0, m);
		m->title = booking_strdup(m->title);
	}
	PQclear(r);
	if (!m || !m->title) {
		booking_free(m);
		return booking_error_oom();
	}
	*out = m;
	return 0;
}

/* Run a list query; the rows are the caller's (PQclear). */
static int list_rows(booking_store *base, const pg_query *q, pg_params *p, PGresult **res)
{
	int rc = pg_run(pg_impl(base), q, p, res, NULL, NULL);
	if (p)
		pp_free(p);
	return rc;
}

int pg_movie_list(booking_store *base, booking_store_movie_cb cb, void *payload)
{
	PGresult *r;
	int rc = list_rows(base, &Q_MOVIE_LIST, NULL, &r);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(r); i < n && cb && rc == 0; i++) {
		booking_movie m;
		movie_from_row(r, i, &m);
		rc = cb(&m, payload);
	}
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

static void theater_from_row(const PGresult *r, int row, booking_theater *t)
{
	pg_copy(t->id, sizeof t->id, r, row, 0);
	t->name = (char *)pg_str(r, row, 1);
	t->city = (char *)pg_str(r, row, 2);
	t->created_at = pg_i64(r, row, 3);
}

int pg_theater_get(booking_store *base, const char *id, booking_theater **out)
{
	PGresult *r;
	if (!out)
		return missing("out");
	*out = NULL;
	int rc = pg_get_one(base, &Q_THEATER_GET, id, BOOKING_ETHEATER_NOT_FOUND, "theater_get", &r);
	if (rc < 0)
		return rc;
	booking_theater *t = booking_malloc(sizeof *t);
	if (t) {
		theater_from_row(r, 0, t);
		t->name = booking_strdup(t->name);
		t->city = booking_strdup(t->city);
	}
	PQclear(r);
	if (!t || !t->name || !t->city) {
		if (t) {
			booking_free(t->name);
			booking_free(t->city);
		}
		booking_free(t);
		return booking_error_oom();
	}
	*out = t;
	return 0;
}

int pg_theater_list(booking_store *base, booking_store_theater_cb cb, void *payload)
{
	PGresult *r;
	int rc = list_rows(base, &Q_THEATER_LIST, NULL, &r);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(r); i < n && cb && rc == 0; i++) {
		booking_theater t;
		theater_from_row(r, i, &t);
		rc = cb(&t, payload);
	}
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

int pg_screen_get(booking_store *base, const char *id, booking_screen **out)
{
	PGresult *r;
	if (!out)
		return missing("out");
	*out = NULL;
	int rc = pg_get_one(base, &Q_SCREEN_GET, id, BOOKING_ESCREEN_NOT_FOUND, "screen_get", &r);
	if (rc < 0)
		return rc;
	booking_screen *s = booking_calloc(1, sizeof *s);
	char(*cats)[BOOKING_CATEGORY_SIZE] = NULL;
	size_t ncats = 0;
	void *labels = NULL;
	if (!s) {
		PQclear(r);
		return booking_error_oom();
	}
	pg_copy(s->id, sizeof s->id, r, 0, 0);
	pg_copy(s->theater_id, sizeof s->theater_id, r, 0, 1);
	s->created_at = pg_i64(r, 0, 5);
	s->name = booking_strdup(pg_str(r, 0, 2));
	rc = s->name ? 0 : booking_error_oom();
	/* labels straight into the seat structs (label is their first member); categories beside */
	if (rc == 0)
		rc = pg_parse_text_array(pg_str(r, 0, 3), &labels, &s->seat_count, sizeof(booking_seat), BOOKING_LABEL_SIZE);
	s->seats = labels;
	if (rc == 0) {
		void *tmp = NULL;
		rc = pg_parse_text_array(pg_str(r, 0, 4), &tmp, &ncats, BOOKING_CATEGORY_SIZE, BOOKING_CATEGORY_SIZE);
		cats = tmp;
	}
	if (rc == 0)
		for (size_t i = 0; i < s->seat_count && i < ncats; i++)
			memcpy(s->seats[i].category, cats[i], BOOKING_CATEGORY_SIZE);
	booking_free(cats);
	PQclear(r);
	if (rc < 0) {
		booking_free(s->name);
		booking_free(s->seats);
		booking_free(s);
		return rc;
	}
	*out = s;
	return 0;
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

/* The row's fields into `s`; s->prices is allocated (NULL when there are none). */
static int showtime_from_row(const PGresult *r, int row, booking_showtime *s)
{
	memset(s, 0, sizeof *s);
	pg_copy(s->id, sizeof s->id, r, row, 0);
	pg_copy(s->movie_id, sizeof s->movie_id, r, row, 1);
	pg_copy(s->screen_id, sizeof s->screen_id, r, row, 2);
	s->starts_at = pg_i64(r, row, 3);
	pg_copy(s->currency, sizeof s->currency, r, row, 4);
	s->status = (booking_showtime_status)pg_i64(r, row, 5);
	s->created_at = pg_i64(r, row, 8);
	void *prices = NULL;
	int64_t *amounts = NULL;
	size_t n = 0, na = 0;
	int rc = pg_parse_text_array(pg_str(r, row, 6), &prices, &n, sizeof(booking_price), BOOKING_CATEGORY_SIZE);
	if (rc == 0)
		rc = pg_parse_i64_array(pg_str(r, row, 7), &amounts, &na);
	if (rc < 0) {
		booking_free(prices);
		return rc;
	}
	s->prices = prices;
	s->price_count = n;
	for (size_t i = 0; i < n; i++)
		s->prices[i].amount = i < na ? amounts[i] : 0;
	booking_free(amounts);
	return 0;
}

int pg_showtime_get(booking_store *base, const char *id, booking_showtime **out)
{
	PGresult *r;
	if (!out)
		return missing("out");
	*out = NULL;
	int rc = pg_get_one(base, &Q_SHOWTIME_GET, id, BOOKING_ESHOWTIME_NOT_FOUND, "showtime_get", &r);
	if (rc < 0)
		return rc;
	booking_showtime *s = booking_malloc(sizeof *s);
	rc = s ? showtime_from_row(r, 0, s) : booking_error_oom();
	PQclear(r);
	if (rc < 0) {
		booking_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int pg_showtime_list(booking_store *base, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	PGresult *r;
	pg_params p;
	pp_init(&p);
	if (movie_id)
		pp_text(&p, movie_id);
	int rc = list_rows(base, movie_id ? &Q_SHOWTIME_LIST_MOVIE : &Q_SHOWTIME_LIST_ALL, &p, &r);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(r); i < n && cb && rc == 0; i++) {
		booking_showtime s;
		rc = showtime_from_row(r, i, &s);
		if (rc == 0)
			rc = cb(&s, payload);
		booking_free(s.prices);
	}
	PQclear(r);
	return rc;
}

int pg_seat_list(booking_store *base, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	PGresult *r;
	if (!showtime_id)
		return pg_domain_error(BOOKING_ESHOWTIME_NOT_FOUND, "seat_list", "");
	int rc = pg_get_one(base, &Q_SEAT_LIST, showtime_id, BOOKING_ESHOWTIME_NOT_FOUND, "seat_list", &r);
	if (rc < 0)
		return rc;
	for (int i = 0, n = PQntuples(r); i < n && cb && rc == 0; i++) {
		booking_store_seat seat;
		if (PQgetisnull(r, i, 0))
			continue; /* the showtime has no seats */
		pg_copy(seat.label, sizeof seat.label, r, i, 0);
		pg_copy(seat.category, sizeof seat.category, r, i, 1);
		seat.status = (booking_seat_status)pg_i64(r, i, 2);
		pg_copy(seat.booking_id, sizeof seat.booking_id, r, i, 3);
		seat.hold_until = pg_i64(r, i, 4);
		seat.version = pg_i64(r, i, 5);
		rc = cb(&seat, payload);
	}
	PQclear(r);
	return rc;
}
