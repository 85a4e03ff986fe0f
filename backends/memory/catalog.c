/*
 * Memory store — the catalog: movies, theaters, screens, showtimes, seat rows.
 * Catalog rows never change once stored.
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdio.h>
#include <string.h>

static int cmp_showtime(const void *a, const void *b)
{
	const booking_showtime *x = a, *y = b;
	return mem_cmp_at(x->starts_at, y->starts_at, x->id, y->id);
}

/* The members of a table listed by (created_at, id), movies and theaters: insert, get and list. */
/* NOLINTBEGIN(bugprone-macro-parentheses): `type` names a type */
#define CATALOG_TABLE(kind, type, tbl, not_found)                                                               \
	static int cmp_##kind(const void *a, const void *b)                                                    \
	{                                                                                                      \
		const type *x = a, *y = b;                                                                     \
		return mem_cmp_at(x->created_at, y->created_at, x->id, y->id);                                \
	}                                                                                                      \
	static int kind##_insert(booking_store *base, const type *src)                                         \
	{                                                                                                      \
		mem_store *st = mem_impl(base);                                                                \
		type *row = NULL;                                                                              \
		int rc = type##_copy(&row, src);                                                               \
		if (rc < 0)                                                                                    \
			return rc;                                                                             \
		pthread_mutex_lock(&st->mu);                                                                   \
		rc = mem_add_unique(&st->tbl, row->id, row, #kind);                                            \
		pthread_mutex_unlock(&st->mu);                                                                 \
		if (rc < 0)                                                                                    \
			type##_free(row);                                                                      \
		return rc;                                                                                     \
	}                                                                                                      \
	MEM_GET(kind##_get, type, tbl, not_found)                                                              \
	static int kind##_list(booking_store *base, int (*cb)(const type *, void *), void *payload)             \
	{                                                                                                      \
		mem_store *st = mem_impl(base);                                                                \
		size_t n;                                                                                      \
		int rc;                                                                                        \
		type *snap = mem_snapshot(st, &st->tbl, sizeof *snap, NULL, NULL, cmp_##kind, &n, &rc);        \
		for (size_t i = 0; i < n && cb && rc == 0; i++)                                                \
			rc = cb(&snap[i], payload);                                                            \
		booking_free(snap);                                                                            \
		return rc;                                                                                     \
	}
/* NOLINTEND(bugprone-macro-parentheses) */

CATALOG_TABLE(movie, booking_movie, movies, BOOKING_EMOVIE_NOT_FOUND)
CATALOG_TABLE(theater, booking_theater, theaters, BOOKING_ETHEATER_NOT_FOUND)
MEM_GET(screen_get, booking_screen, screens, BOOKING_ESCREEN_NOT_FOUND)
MEM_GET(showtime_get, booking_showtime, showtimes, BOOKING_ESHOWTIME_NOT_FOUND)

/* Seat labels of a screen must be unique: the seat index of a showtime relies on it. */
static int check_unique_labels(const booking_screen *s)
{
	if (s->seat_count < 2)
		return 0;
	map seen = {0};
	int rc = 0;
	if (map_reserve(&seen, s->seat_count) < 0)
		return booking_error_oom();
	for (size_t i = 0; i < s->seat_count && rc == 0; i++) {
		if (map_get(&seen, s->seats[i]->label, NULL))
			rc = booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"seats\"}",
			                       "seat label %.15s appears twice in the screen", s->seats[i]->label);
		else
			map_put(&seen, s->seats[i]->label, (void *)s->seats[i]);
	}
	map_clear(&seen);
	return rc;
}

static int screen_insert(booking_store *base, const booking_screen *s)
{
	mem_store *st = mem_impl(base);
	if (s && s->seat_count && !s->seats)
		return mem_missing_arg("screen seats");
	booking_screen *row = NULL;
	int rc = booking_screen_copy(&row, s);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->mu);
	if (!mem_find(&st->theaters, s->theater_id))
		rc = booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	else if ((rc = check_unique_labels(s)) == 0)
		rc = mem_add_unique(&st->screens, row->id, row, "screen");
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		booking_screen_free(row);
	return rc;
}

/* The showtime's seat rows, all free, in the screen's layout order. */
static void mem_seats_free(mem_seats *rows)
{
	if (rows) {
		map_clear(&rows->index);
		booking_free(rows);
	}
}

static mem_seats *seat_rows_new(const booking_screen *scr)
{
	mem_seats *rows = booking_malloc(sizeof *rows + scr->seat_count * sizeof rows->seat[0]);
	if (!rows)
		return NULL;
	memset(&rows->index, 0, sizeof rows->index);
	if (map_reserve(&rows->index, scr->seat_count) < 0) {
		booking_free(rows);
		return NULL;
	}
	rows->count = scr->seat_count;
	for (size_t i = 0; i < scr->seat_count; i++) {
		mem_seat *seat = &rows->seat[i];
		memset(&seat->s, 0, sizeof seat->s); /* FREE, no reservation, no hold, version 0 */
		seat->s.status = BOOKING_SEAT_FREE;
		mem_copy_text(seat->s.label, sizeof seat->s.label, scr->seats[i]->label);
		mem_copy_text(seat->s.category, sizeof seat->s.category, scr->seats[i]->category);
		map_put(&rows->index, seat->s.label, seat);
	}
	return rows;
}

static int showtime_insert(booking_store *base, const booking_showtime *s)
{
	mem_store *st = mem_impl(base);
	if (s && s->price_count && !s->prices)
		return mem_missing_arg("showtime prices");
	booking_showtime *row = NULL;
	mem_seats *rows = NULL;
	int rc = booking_showtime_copy(&row, s);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&st->mu);
	const booking_screen *scr = mem_find(&st->screens, row->screen_id);
	if (!mem_find(&st->movies, row->movie_id))
		rc = booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	else if (!scr)
		rc = booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	else if (mem_find(&st->showtimes, row->id))
		rc = booking_error_set(BOOKING_EEXISTS, NULL, "showtime %s already exists", row->id);
	else if (!(rows = seat_rows_new(scr)) || mem_table_reserve(&st->showtimes, 1) < 0 ||
	         mem_table_reserve(&st->seat_rows, 1) < 0)
		rc = booking_error_oom();
	else {
		mem_table_add(&st->showtimes, row->id, row);
		mem_table_add(&st->seat_rows, row->id, rows);
		st->seat_total += rows->count;
	}
	pthread_mutex_unlock(&st->mu);
	if (rc < 0) {
		booking_showtime_free(row);
		mem_seats_free(rows);
	}
	return rc;
}

static bool of_movie(const void *row, const void *movie_id)
{
	return !movie_id || strcmp(((const booking_showtime *)row)->movie_id, movie_id) == 0;
}

static int showtime_list(booking_store *base, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	size_t n;
	int rc;
	booking_showtime *snap = mem_snapshot(st, &st->showtimes, sizeof *snap, of_movie, movie_id, cmp_showtime, &n, &rc);
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

static int seat_list(booking_store *base, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	pthread_mutex_lock(&st->mu);
	const mem_seats *rows = mem_find(&st->seat_rows, showtime_id);
	size_t n = rows ? rows->count : 0;
	booking_store_seat *snap = n ? booking_calloc(n, sizeof *snap) : NULL;
	for (size_t i = 0; i < n && snap; i++)
		snap[i] = rows->seat[i].s;
	pthread_mutex_unlock(&st->mu);
	int rc = !rows ? booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND) : n && !snap ? booking_error_oom() : 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

static int seat_states(booking_store *base, const char *showtime_id, booking_seat_status except,
                       booking_store_seat_state_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	pthread_mutex_lock(&st->mu);
	const mem_seats *rows = mem_find(&st->seat_rows, showtime_id);
	size_t n = 0, total = rows ? rows->count : 0;
	for (size_t i = 0; i < total; i++)
		n += rows->seat[i].s.status != except;
	booking_store_seat_state *snap = n ? booking_calloc(n, sizeof *snap) : NULL;
	for (size_t i = 0, k = 0; i < total && snap; i++) {
		const booking_store_seat *s = &rows->seat[i].s;
		if (s->status == except)
			continue;
		booking_store_seat_state *o = &snap[k++];
		o->status = s->status;
		o->hold_until = s->hold_until;
		memcpy(o->label, s->label, sizeof o->label);
		memcpy(o->reservation_id, s->reservation_id, sizeof o->reservation_id);
		memcpy(o->note, s->note, sizeof o->note);
	}
	pthread_mutex_unlock(&st->mu);
	int rc = n && !snap ? booking_error_oom() : 0;
	for (size_t i = 0; i < n && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}

const booking_store_catalog mem_store_catalog = {
	.version = BOOKING_STORE_CATALOG_VERSION,
	.movie_insert = movie_insert,
	.movie_get = movie_get,
	.movie_list = movie_list,
	.theater_insert = theater_insert,
	.theater_get = theater_get,
	.theater_list = theater_list,
	.screen_insert = screen_insert,
	.screen_get = screen_get,
	.showtime_insert = showtime_insert,
	.showtime_get = showtime_get,
	.showtime_list = showtime_list,
	.seat_list = seat_list,
	.seat_states = seat_states,
};
