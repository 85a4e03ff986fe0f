/*
 * libbooking — the catalog: movies, theaters, screens with seat layouts,
 * showtimes with prices.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_CATALOG_H
#define BOOKING_CATALOG_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/*
 * Records returned by the library are plain value structs (like libgit2's
 * git_signature): a snapshot, owned by the caller, freed with the matching
 * booking_*_free(). Fields are only ever appended in later versions.
 */

typedef struct booking_movie {
	char id[BOOKING_ID_SIZE];
	char *title;              /**< UTF-8, 1..200 bytes */
	int duration_minutes;     /**< 1..1000 */
	int64_t created_at;       /**< UTC ms */
} booking_movie;

typedef struct booking_theater {
	char id[BOOKING_ID_SIZE];
	char *name;               /**< UTF-8, 1..200 bytes */
	char *city;               /**< UTF-8, 0..200 bytes */
	int64_t created_at;
} booking_theater;

/** One seat of a screen: its label ("A12") and its price category ("standard"). */
typedef struct booking_seat {
	char label[BOOKING_LABEL_SIZE];       /**< [A-Za-z0-9-], 1..15 bytes, unique within the screen */
	char category[BOOKING_CATEGORY_SIZE]; /**< [a-z0-9_-], 1..31 bytes */
} booking_seat;

typedef struct booking_screen {
	char id[BOOKING_ID_SIZE];
	char theater_id[BOOKING_ID_SIZE];
	char *name;
	size_t seat_count;
	booking_seat *seats;      /**< in layout order */
	int64_t created_at;
} booking_screen;

/** The price of one seat category at a showtime, in minor units of the showtime's currency. */
typedef struct booking_price {
	char category[BOOKING_CATEGORY_SIZE];
	int64_t amount;           /**< >= 0, minor units (cents) */
} booking_price;

typedef enum booking_showtime_status {
	BOOKING_SHOWTIME_SCHEDULED = 1,
	BOOKING_SHOWTIME_CANCELLED = 2
} booking_showtime_status;

/** The stable name of a showtime status: the constant without its prefix ("SCHEDULED"); "UNKNOWN" for other numbers. Static. */
BOOKING_EXTERN(const char *) booking_showtime_status_name(booking_showtime_status status);

typedef struct booking_showtime {
	char id[BOOKING_ID_SIZE];
	char movie_id[BOOKING_ID_SIZE];
	char screen_id[BOOKING_ID_SIZE];
	int64_t starts_at;        /**< UTC ms */
	char currency[BOOKING_CURRENCY_SIZE]; /**< ISO 4217, e.g. "EUR" */
	size_t price_count;
	booking_price *prices;    /**< one per seat category of the screen */
	booking_showtime_status status;
	int64_t created_at;
} booking_showtime;

/** A list of records. `items[0..count)`; caller owns; free with the matching *_list_free(). */
typedef struct booking_movie_list { size_t count; booking_movie *items; } booking_movie_list;
typedef struct booking_theater_list { size_t count; booking_theater *items; } booking_theater_list;
typedef struct booking_showtime_list { size_t count; booking_showtime *items; } booking_showtime_list;

/**
 * Parse a seat layout: comma-separated groups `ROWS:COUNT[:CATEGORY]`, where
 * ROWS is one row letter or a range ("A-J"), COUNT seats per row (1..999)
 * and CATEGORY defaults to "standard". Labels are row letter + number:
 * "A-H:15,J:10:premium" gives A1..H15 standard then J1..J10 premium.
 * A row may appear once; a layout has at most 5000 seats (a screen's limit)
 * and the spec at most 4096 bytes.
 *
 * @param seats_out caller owns; free with booking_free().
 * @return 0, BOOKING_EVALIDATION (the message says where), BOOKING_ENOMEM.
 */
BOOKING_EXTERN(booking_error_code) booking_layout_parse(booking_seat **seats_out, size_t *count_out, const char *spec);

/** Create a movie (admin). `out` may be NULL. */
BOOKING_EXTERN(booking_error_code) booking_movie_create(booking_movie **out, booking *bk, const booking_ctx *ctx,
                                         const char *title, int duration_minutes);
BOOKING_EXTERN(booking_error_code) booking_movie_get(booking_movie **out, booking *bk, const booking_ctx *ctx, const char *id);
BOOKING_EXTERN(booking_error_code) booking_movie_list_all(booking_movie_list **out, booking *bk, const booking_ctx *ctx);
BOOKING_EXTERN(void) booking_movie_free(booking_movie *m);
BOOKING_EXTERN(void) booking_movie_list_free(booking_movie_list *l);

/** Create a theater (admin). `city` may be NULL. `out` may be NULL. */
BOOKING_EXTERN(booking_error_code) booking_theater_create(booking_theater **out, booking *bk, const booking_ctx *ctx,
                                           const char *name, const char *city);
BOOKING_EXTERN(booking_error_code) booking_theater_get(booking_theater **out, booking *bk, const booking_ctx *ctx, const char *id);
BOOKING_EXTERN(booking_error_code) booking_theater_list_all(booking_theater_list **out, booking *bk, const booking_ctx *ctx);
BOOKING_EXTERN(void) booking_theater_free(booking_theater *t);
BOOKING_EXTERN(void) booking_theater_list_free(booking_theater_list *l);

/**
 * Create a screen of a theater with its seats (admin): 1..5000 seats, unique
 * labels. The seats are copied. `out` may be NULL.
 * @return 0, BOOKING_EVALIDATION, BOOKING_ETHEATER_NOT_FOUND, BOOKING_EFORBIDDEN, ...
 */
BOOKING_EXTERN(booking_error_code) booking_screen_create(booking_screen **out, booking *bk, const booking_ctx *ctx,
                                          const char *theater_id, const char *name,
                                          const booking_seat *seats, size_t seat_count);
BOOKING_EXTERN(booking_error_code) booking_screen_get(booking_screen **out, booking *bk, const booking_ctx *ctx, const char *id);
BOOKING_EXTERN(void) booking_screen_free(booking_screen *s);

/**
 * Schedule a showtime of a movie on a screen (admin). `prices` must name
 * every seat category of the screen (others are refused). The showtime gets
 * one seat row per seat of the screen, all free. `out` may be NULL.
 * @return 0, BOOKING_EVALIDATION, BOOKING_EMOVIE_NOT_FOUND, BOOKING_ESCREEN_NOT_FOUND, BOOKING_EFORBIDDEN, ...
 */
BOOKING_EXTERN(booking_error_code) booking_showtime_create(booking_showtime **out, booking *bk, const booking_ctx *ctx,
                                            const char *movie_id, const char *screen_id, int64_t starts_at,
                                            const char *currency, const booking_price *prices,
                                            size_t price_count);
BOOKING_EXTERN(booking_error_code) booking_showtime_get(booking_showtime **out, booking *bk, const booking_ctx *ctx,
                                         const char *id);
/** Showtimes, optionally of one movie (`movie_id` NULL: all), ordered by start time. */
BOOKING_EXTERN(booking_error_code) booking_showtime_list_all(booking_showtime_list **out, booking *bk, const booking_ctx *ctx,
                                              const char *movie_id);
BOOKING_EXTERN(void) booking_showtime_free(booking_showtime *s);
BOOKING_EXTERN(void) booking_showtime_list_free(booking_showtime_list *l);

/** The state of one seat at a showtime. */
typedef enum booking_seat_status {
	BOOKING_SEAT_FREE = 0,
	BOOKING_SEAT_HELD = 1,  /**< held by a live (unexpired) booking */
	BOOKING_SEAT_SOLD = 2
} booking_seat_status;

/** The stable name of a seat status: the constant without its prefix ("HELD"); "UNKNOWN" for other numbers. Static. */
BOOKING_EXTERN(const char *) booking_seat_status_name(booking_seat_status status);

typedef struct booking_seat_state {
	char label[BOOKING_LABEL_SIZE];
	char category[BOOKING_CATEGORY_SIZE];
	booking_seat_status status;
	int64_t price;            /**< minor units */
} booking_seat_state;

typedef struct booking_seat_map {
	char showtime_id[BOOKING_ID_SIZE];
	char currency[BOOKING_CURRENCY_SIZE];
	size_t count;
	booking_seat_state *seats; /**< in layout order */
	size_t free_count, held_count, sold_count;
} booking_seat_map;

/**
 * The seat map of a showtime at this moment: a seat whose hold expired is
 * shown free (it is claimable at once). Anyone may read it.
 */
BOOKING_EXTERN(booking_error_code) booking_seat_map_get(booking_seat_map **out, booking *bk, const booking_ctx *ctx,
                                         const char *showtime_id);
BOOKING_EXTERN(void) booking_seat_map_free(booking_seat_map *m);

BOOKING_END_DECL

#endif
