/*
 * Memory store — the catalog: movies, theaters, screens, showtimes, seat rows.
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mem_movie_free(void *p)
{
	booking_movie *m = p;
	if (m)
		booking_free(m->title);
	booking_free(m);
}

static booking_movie *movie_dup(const booking_movie *src)
{
	booking_movie *m = booking_malloc(sizeof *m);
	if (!m)
		return NULL;
	*m = *src;
	m->title = booking_strdup(mem_or_empty(src->title));
	if (!m->title) {
		booking_free(m);
		return NULL;
	}
	return m;
}

void mem_theater_free(void *p)
{
	booking_theater *t = p;
	if (t) {
		booking_free(t->name);
		booking_free(t->city);
	}
	booking_free(t);
}

static booking_theater *theater_dup(const booking_theater *src)
{
	booking_theater *t = booking_malloc(sizeof *t);
	if (!t)
		return NULL;
	*t = *src;
	t->name = booking_strdup(mem_or_empty(src->name));
	t->city = booking_strdup(mem_or_empty(src->city));
	if (!t->name || !t->city) {
		mem_theater_free(t);
		return NULL;
	}
	return t;
}

void mem_screen_free(void *p)
{
	booking_screen *s = p;
	if (s) {
		booking_free(s->name);
		booking_free(s->seats);
	}
	booking_free(s);
}

static booking_screen *screen_dup(const booking_screen *src)
{
	booking_screen *s = booking_malloc(sizeof *s);
	if (!s)
		return NULL;
	*s = *src;
	s->seats = NULL;
	s->name = booking_strdup(mem_or_empty(src->name));
	if (!s->name) {
		booking_free(s);
		return NULL;
	}
	if (src->seat_count) {
		s->seats = booking_calloc(src->seat_count, sizeof *s->seats);
		if (!s->seats) {
			mem_screen_free(s);
			return NULL;
		}
		memcpy(s->seats, src->seats, src->seat_count * sizeof *s->seats);
	}
	return s;
}

static void showtime_rec_free(booking_showtime *s)
{
	if (s)
		booking_free(s->prices);
	booking_free(s);
}

static booking_showtime *showtime_dup(const booking_showtime *src)
{
	booking_showtime *s = booking_malloc(sizeof *s);
	if (!s)
		return NULL;
	*s = *src;
	s->prices = NULL;
	if (src->price_count) {
		s->prices = booking_calloc(src->price_count, sizeof *s->prices);
		if (!s->prices) {
			booking_free(s);
			return NULL;
		}
		memcpy(s->prices, src->prices, src->price_count * sizeof *s->prices);
	}
	return s;
}

void mem_showtime_free(void *p)
{
	mem_showtime *m = p;
	if (m) {
		showtime_rec_free(m->rec);
		booking_free(m->seats);
	}
	booking_free(m);
}

static int cmp_movie(const void *a, const void *b)
{
	const booking_movie *x = a, *y = b;
	int c = mem_cmp_i64(x->created_at, y->created_at);
	return c ? c : strcmp(x->id, y->id);
}

static int cmp_theater(const void *a, const void *b)
{
	const booking_theater *x = a, *y = b;
	int c = mem_cmp_i64(x->created_at, y->created_at);
	return c ? c : strcmp(x->id, y->id);
}

static int cmp_showtime(const void *a, const void *b)
{
	const booking_showtime *x = a, *y = b;
	int c = mem_cmp_i64(x->starts_at, y->starts_at);
	return c ? c : strcmp(x->id, y->id);
}

/* ------------------------------------------------------------------------
 * Catalog.
 * ------------------------------------------------------------------------ */

int mem_movie_insert(booking_store *base, const booking_movie *m)
{
	mem_store *st = mem_impl(base);
	if (!m)
		return mem_missing_arg("movie");
	int rc = 0;
	mem_lock_store(st);
	if (mem_table_get(&st->movies, m->id, NULL)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "movie %s already exists", m->id);
	} else {
		booking_movie *copy = movie_dup(m);
		if (!copy || mem_table_reserve(&st->movies, 1) < 0) {
			mem_movie_free(copy);
			rc = mem_oom();
		} else {
			mem_table_add(&st->movies, copy->id, copy);
		}
	}
	mem_unlock_store(st);
	return rc;
}

int mem_movie_get(booking_store *base, const char *id, booking_movie **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const booking_movie *m = id ? mem_table_get(&st->movies, id, NULL) : NULL;
	if (!m)
		rc = booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	else if (!(*out = movie_dup(m)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

int mem_movie_list(booking_store *base, booking_store_movie_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	mem_lock_store(st);
	size_t n = st->movies.len;
	booking_movie *snap = n ? booking_calloc(n, sizeof *snap) : NULL;
	if (n && !snap) {
		mem_unlock_store(st);
		return mem_oom();
	}
	for (size_t i = 0; i < n; i++)
		snap[i] = *(const booking_movie *)st->movies.items[i];
	mem_unlock_store(st);
	if (n)
		qsort(snap, n, sizeof *snap, cmp_movie);
	int rc = 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

int mem_theater_insert(booking_store *base, const booking_theater *t)
{
	mem_store *st = mem_impl(base);
	if (!t)
		return mem_missing_arg("theater");
	int rc = 0;
	mem_lock_store(st);
	if (mem_table_get(&st->theaters, t->id, NULL)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "theater %s already exists", t->id);
	} else {
		booking_theater *copy = theater_dup(t);
		if (!copy || mem_table_reserve(&st->theaters, 1) < 0) {
			mem_theater_free(copy);
			rc = mem_oom();
		} else {
			mem_table_add(&st->theaters, copy->id, copy);
		}
	}
	mem_unlock_store(st);
	return rc;
}

int mem_theater_get(booking_store *base, const char *id, booking_theater **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const booking_theater *t = id ? mem_table_get(&st->theaters, id, NULL) : NULL;
	if (!t)
		rc = booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	else if (!(*out = theater_dup(t)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

int mem_theater_list(booking_store *base, booking_store_theater_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	mem_lock_store(st);
	size_t n = st->theaters.len;
	booking_theater *snap = n ? booking_calloc(n, sizeof *snap) : NULL;
	if (n && !snap) {
		mem_unlock_store(st);
		return mem_oom();
	}
	for (size_t i = 0; i < n; i++)
		snap[i] = *(const booking_theater *)st->theaters.items[i];
	mem_unlock_store(st);
	if (n)
		qsort(snap, n, sizeof *snap, cmp_theater);
	int rc = 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

/* Seat labels of a screen must be unique: the seat index of a showtime relies on it. */
static int check_unique_labels(const booking_screen *s)
{
	if (s->seat_count < 2)
		return 0;
	map seen = {0};
	int rc = 0;
	if (map_reserve(&seen, s->seat_count) < 0)
		return mem_oom();
	for (size_t i = 0; i < s->seat_count && rc == 0; i++) {
		if (map_get(&seen, s->seats[i].label, NULL))
			rc = booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}",
			                       "seat label %.15s appears twice in the screen", s->seats[i].label);
		else
			map_put(&seen, s->seats[i].label, (void *)&s->seats[i]);
	}
	map_clear(&seen);
	return rc;
}

int mem_screen_insert(booking_store *base, const booking_screen *s)
{
	mem_store *st = mem_impl(base);
	if (!s)
		return mem_missing_arg("screen");
	if (s->seat_count && !s->seats)
		return mem_missing_arg("screen seats");
	int rc = 0;
	mem_lock_store(st);
	if (!mem_table_get(&st->theaters, s->theater_id, NULL)) {
		rc = booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	} else if (mem_table_get(&st->screens, s->id, NULL)) {
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "screen %s already exists", s->id);
	} else if ((rc = check_unique_labels(s)) == 0) {
		booking_screen *copy = screen_dup(s);
		if (!copy || mem_table_reserve(&st->screens, 1) < 0) {
			mem_screen_free(copy);
			rc = mem_oom();
		} else {
			mem_table_add(&st->screens, copy->id, copy);
		}
	}
	mem_unlock_store(st);
	return rc;
}

int mem_screen_get(booking_store *base, const char *id, booking_screen **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const booking_screen *s = id ? mem_table_get(&st->screens, id, NULL) : NULL;
	if (!s)
		rc = booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	else if (!(*out = screen_dup(s)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

static int showtime_insert_locked(mem_store *st, const booking_showtime *s)
{
	if (!mem_table_get(&st->movies, s->movie_id, NULL))
		return booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	const booking_screen *scr = mem_table_get(&st->screens, s->screen_id, NULL);
	if (!scr)
		return booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	if (mem_table_get(&st->showtimes, s->id, NULL))
		return booking_error_set(BOOKING_EEXISTS, NULL, "showtime %s already exists", s->id);

	mem_showtime *m = booking_calloc(1, sizeof *m);
	if (!m)
		return mem_oom();
	m->rec = showtime_dup(s);
	m->seat_count = scr->seat_count;
	if (scr->seat_count)
		m->seats = booking_calloc(scr->seat_count, sizeof *m->seats);
	if (!m->rec || (scr->seat_count && !m->seats) || mem_table_reserve(&st->showtimes, 1) < 0 ||
	    map_reserve(&st->seats, scr->seat_count) < 0) {
		mem_showtime_free(m);
		return mem_oom();
	}
	for (size_t i = 0; i < scr->seat_count; i++) {
		mem_seat *seat = &m->seats[i];
		mem_copy_text(seat->s.label, sizeof seat->s.label, scr->seats[i].label);
		mem_copy_text(seat->s.category, sizeof seat->s.category, scr->seats[i].category);
		seat->s.status = BOOKING_SEAT_FREE;
		seat->s.booking_id[0] = '\0';
		seat->s.hold_until = 0;
		seat->s.version = 0;
		snprintf(seat->key, sizeof seat->key, "%s\n%s", m->rec->id, seat->s.label);
		map_put(&st->seats, seat->key, seat);
	}
	mem_table_add(&st->showtimes, m->rec->id, m);
	st->seat_total += m->seat_count;
	return 0;
}

int mem_showtime_insert(booking_store *base, const booking_showtime *s)
{
	mem_store *st = mem_impl(base);
	if (!s)
		return mem_missing_arg("showtime");
	if (s->price_count && !s->prices)
		return mem_missing_arg("showtime prices");
	mem_lock_store(st);
	int rc = showtime_insert_locked(st, s);
	mem_unlock_store(st);
	return rc;
}

int mem_showtime_get(booking_store *base, const char *id, booking_showtime **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const mem_showtime *m = id ? mem_table_get(&st->showtimes, id, NULL) : NULL;
	if (!m)
		rc = booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	else if (!(*out = showtime_dup(m->rec)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

int mem_showtime_list(booking_store *base, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	mem_lock_store(st);
	size_t total = st->showtimes.len, n = 0;
	booking_showtime *snap = total ? booking_calloc(total, sizeof *snap) : NULL;
	if (total && !snap) {
		mem_unlock_store(st);
		return mem_oom();
	}
	for (size_t i = 0; i < total; i++) {
		const mem_showtime *m = st->showtimes.items[i];
		if (!movie_id || strcmp(m->rec->movie_id, movie_id) == 0)
			snap[n++] = *m->rec;
	}
	mem_unlock_store(st);
	if (n)
		qsort(snap, n, sizeof *snap, cmp_showtime);
	int rc = 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

int mem_seat_list(booking_store *base, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	mem_lock_store(st);
	const mem_showtime *m = showtime_id ? mem_table_get(&st->showtimes, showtime_id, NULL) : NULL;
	if (!m) {
		mem_unlock_store(st);
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	}
	size_t n = m->seat_count;
	booking_store_seat *snap = n ? booking_calloc(n, sizeof *snap) : NULL;
	if (n && !snap) {
		mem_unlock_store(st);
		return mem_oom();
	}
	for (size_t i = 0; i < n; i++)
		snap[i] = m->seats[i].s;
	mem_unlock_store(st);
	int rc = 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}
