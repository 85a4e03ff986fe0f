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
 * booking_*_free(). Fields are only ever appended in later versions, and
 * that keeps the ABI because no caller depends on a record's size
 * (doc/decisions.md, "Records and the ABI"):
 *  - an array of records the library hands out is an array of pointers to
 *    records (`items[i]->title`, `seats[i]->label`), so where record i is
 *    does not depend on sizeof the record;
 *  - an array of records the caller hands in comes with the size of its
 *    records (`sizeof *seats`): the library reads the fields that fit in it
 *    and takes the fields a newer release appended as zero. So does
 *    booking_layout_parse(), which builds such an array for the caller.
 */

/** A movie of the catalog. Caller owns: booking_movie_free(). */
typedef struct booking_movie {
	char id[BOOKING_ID_SIZE];
	char *title;              /**< UTF-8, 1..200 bytes */
	int duration_minutes;     /**< 1..1000 */
	int64_t created_at;       /**< UTC ms */
} booking_movie;

/** A theater of the catalog. Caller owns: booking_theater_free(). */
typedef struct booking_theater {
	char id[BOOKING_ID_SIZE];
	char *name;               /**< UTF-8, 1..200 bytes */
	char *city;               /**< UTF-8, 0..200 bytes */
	int64_t created_at;
} booking_theater;

/**
 * One seat of a screen: its label ("A12"), its price category ("standard"),
 * and the row ("A") and number (12) its label names.
 *
 * A seat's position is its index in its screen's layout order (the order
 * booking_layout_parse() gives and booking_screen_create() takes); seat
 * maps and reservations show seats in that order.
 *
 * Row and number come from the label, by one rule: the row is the label's
 * leading letters ("" when it starts with a digit), the number the value
 * of the digits that follow when they run to the end of the label (at most
 * 9 of them), else 0: "A12" is row "A" number 12, "AA7" row "AA" number 7,
 * "12" row "" number 12, "BOX" row "BOX" number 0, "A-2" and "2B" have
 * number 0 (rows "A" and ""). The library fills them in every seat it
 * returns; a caller of booking_screen_create() may leave them empty (row ""
 * and number 0) or give the values the rule gives.
 */
typedef struct booking_seat {
	char label[BOOKING_LABEL_SIZE];       /**< [A-Za-z0-9-], 1..15 bytes, unique within the screen */
	char category[BOOKING_CATEGORY_SIZE]; /**< [a-z0-9_-], 1..31 bytes */
	char row[BOOKING_LABEL_SIZE];         /**< the label's leading letters ("A"), maybe "" */
	int number;                           /**< the label's trailing number (12), 0 when it has none */
	/**
	 * The seat's place across its row, counting aisles and gaps as places:
	 * two seats of one row are side by side when their columns differ by 1.
	 * booking_layout_parse() numbers them ("A:4+6" puts an aisle between A4
	 * (column 4) and A5 (column 6)). 0: not given; the seat's number stands
	 * in for it (no aisles). Added after 1.0's first records: a caller that
	 * passes an older, smaller record size leaves it 0.
	 */
	int column;
} booking_seat;

/** A screen of a theater with its seat layout. Caller owns: booking_screen_free(). */
typedef struct booking_screen {
	char id[BOOKING_ID_SIZE];
	char theater_id[BOOKING_ID_SIZE];
	char *name;
	size_t seat_count;
	booking_seat **seats;     /**< `seat_count` pointers, in layout order: `seats[i]` is at position i */
	int64_t created_at;
} booking_screen;

/** The price of one seat category at a showtime, in minor units of the showtime's currency. */
typedef struct booking_price {
	char category[BOOKING_CATEGORY_SIZE];
	int64_t amount;           /**< >= 0, minor units (cents) */
} booking_price;

/** Whether a showtime still sells seats. */
typedef enum booking_showtime_status {
	BOOKING_SHOWTIME_SCHEDULED = 1,
	BOOKING_SHOWTIME_CANCELLED = 2
} booking_showtime_status;

/**
 * The stable name of a showtime status: the constant without its prefix ("SCHEDULED").
 * @param status a booking_showtime_status; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_showtime_status_name(booking_showtime_status status);

/** A showtime: a movie on a screen at a time, with its prices. Caller owns: booking_showtime_free(). */
typedef struct booking_showtime {
	char id[BOOKING_ID_SIZE];
	char movie_id[BOOKING_ID_SIZE];
	char screen_id[BOOKING_ID_SIZE];
	int64_t starts_at;        /**< UTC ms */
	char currency[BOOKING_CURRENCY_SIZE]; /**< ISO 4217, e.g. "EUR" */
	size_t price_count;
	booking_price **prices;   /**< `price_count` pointers, one per seat category of the screen */
	booking_showtime_status status;
	int64_t created_at;
} booking_showtime;

/** Movies, `items[0..count)` pointers (`items[i]->title`); caller owns; free with booking_movie_list_free(). */
typedef struct booking_movie_list { size_t count; booking_movie **items; } booking_movie_list;
/** Theaters, `items[0..count)` pointers (`items[i]->name`); caller owns; free with booking_theater_list_free(). */
typedef struct booking_theater_list { size_t count; booking_theater **items; } booking_theater_list;
/** Showtimes, `items[0..count)` pointers (`items[i]->id`); caller owns; free with booking_showtime_list_free(). */
typedef struct booking_showtime_list { size_t count; booking_showtime **items; } booking_showtime_list;

/**
 * Parse a seat layout: comma-separated groups `ROWS:COUNT[:CATEGORY]`, where
 * ROWS is one row or a range ("A-J"), COUNT seats per row (1..999) and
 * CATEGORY defaults to "standard". A row is one or two capital letters,
 * ordered as spreadsheet columns: A..Z, AA..AZ, BA..BZ, ..., ZZ, so a range
 * may cross from one letter to two ("Y-AB" is Y, Z, AA, AB; "A-DZ:999" is
 * 130 rows of 999 seats). Labels are row + number: "A-H:15,J:10:premium"
 * gives A1..H15 standard then J1..J10 premium, each with its row ("A") and
 * number (1) filled; row AB's seats are AB1, AB2, ...
 *
 * Rows are listed from the screen outward: the first row listed is the
 * nearest the screen ("A-H" puts A in front; "J:11,A-B:2" puts J in front
 * of A, B behind A), and the layout order keeps that order.
 *
 * COUNT may be blocks of seats joined by '+', each at least 1, with an
 * aisle between two blocks: "A-H:4+8+4" gives 16 seats per row numbered
 * 1..16, with aisles after seat 4 and after seat 12. Each seat's `column`
 * is its place across the row counting an aisle as one empty place: A1..A4
 * have columns 1..4, A5..A12 columns 6..13, A13..A16 columns 15..18.
 * Without '+' a seat's column is its number.
 * A row may appear once; a row has at most 999 seats, a layout at most
 * 100000 (a screen's limit) and the spec at most 4096 bytes.
 *
 * The seats are made for booking_screen_create(): an array of records of
 * the caller's size `seat_size`, which the caller passes on with them
 * (fields past `seat_size` are not written; fields of the caller's record
 * this library does not know are zero).
 *
 * @param seats_out set to `*count_out` seats in layout order, `seat_size`
 *                  bytes apart; caller owns, free with booking_free();
 *                  NULL after a failure.
 * @param count_out set to the number of seats; 0 after a failure.
 * @param spec      the layout text; borrowed.
 * @param seat_size sizeof(booking_seat) as the caller knows it (`sizeof **seats_out`).
 * @return 0, BOOKING_EVALIDATION (NULL output, empty or too long spec, bad
 *         group, such as an empty block in "4++4", "+4" or "4+": the message
 *         says where and the details give field "layout" and its "offset";
 *         field "seat_size" smaller than the first release's booking_seat),
 *         BOOKING_ENOMEM.
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_layout_parse(booking_seat **seats_out, size_t *count_out, const char *spec,
                                                        size_t seat_size);

/**
 * Create a movie (admin or system).
 * @param out   set to the new movie (caller owns; booking_movie_free());
 *              may be NULL. NULL after a failure.
 * @param bk    the handle; borrowed.
 * @param ctx   an admin or system ctx; borrowed for the call.
 * @param title UTF-8, 1..200 bytes; copied.
 * @param duration_minutes 1..1000.
 * @return 0,
 *         BOOKING_EVALIDATION (NULL `bk`, a ctx of unknown version or role,
 *         an argument out of range: the details name the field),
 *         BOOKING_EUNAUTHORIZED (NULL `ctx`), BOOKING_EFORBIDDEN (not admin
 *         or system), BOOKING_EUNAVAILABLE (the store is unreachable or its
 *         circuit is open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 *         When only the read-back into `out` fails, the record was created.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_movie_create(booking_movie **out, booking_handle *bk, const booking_ctx *ctx,
                                         const char *title, int duration_minutes);

/**
 * Read one movie by id. Anyone may read the catalog (an anonymous ctx will do).
 * @param out set to the movie (caller owns; free with booking_movie_free()); NULL after a failure.
 * @param bk  the handle; borrowed.
 * @param ctx who asks; borrowed for the call.
 * @param id  the movie's id; borrowed. Text that is no id answers BOOKING_EMOVIE_NOT_FOUND.
 * @return 0, BOOKING_EMOVIE_NOT_FOUND, BOOKING_EVALIDATION (NULL `out` or `bk`, a ctx of
 *         unknown version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_movie_get(booking_movie **out, booking_handle *bk, const booking_ctx *ctx, const char *id);

/**
 * Every movie of the catalog, by creation time. Anyone may read it.
 * @param out set to the list (caller owns; free with booking_movie_list_free()); NULL after a failure.
 * @param bk  the handle; borrowed.
 * @param ctx who asks; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `bk`, a ctx of unknown
 *         version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_movie_list_all(booking_movie_list **out, booking_handle *bk, const booking_ctx *ctx);

/**
 * Free a movie and everything it points at: one from booking_movie_get(),
 * booking_movie_create() or booking_movie_copy().
 * @param m the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_movie_free(booking_movie *m);

/**
 * Free a movie list and everything it points at: one from booking_movie_list_all().
 * @param l the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_movie_list_free(booking_movie_list *l);

/**
 * Create a theater (admin or system).
 * @param out  set to the new theater (caller owns; booking_theater_free());
 *             may be NULL. NULL after a failure.
 * @param bk   the handle; borrowed.
 * @param ctx  an admin or system ctx; borrowed for the call.
 * @param name UTF-8, 1..200 bytes; copied.
 * @param city UTF-8, 0..200 bytes; copied; may be NULL (stored as "").
 * @return 0,
 *         BOOKING_EVALIDATION (NULL `bk`, a ctx of unknown version or role,
 *         an argument out of range: the details name the field),
 *         BOOKING_EUNAUTHORIZED (NULL `ctx`), BOOKING_EFORBIDDEN (not admin
 *         or system), BOOKING_EUNAVAILABLE (the store is unreachable or its
 *         circuit is open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 *         When only the read-back into `out` fails, the record was created.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_theater_create(booking_theater **out, booking_handle *bk, const booking_ctx *ctx,
                                           const char *name, const char *city);
/**
 * Read one theater by id. Anyone may read the catalog (an anonymous ctx will do).
 * @param out set to the theater (caller owns; free with booking_theater_free()); NULL after a failure.
 * @param bk  the handle; borrowed.
 * @param ctx who asks; borrowed for the call.
 * @param id  the theater's id; borrowed. Text that is no id answers BOOKING_ETHEATER_NOT_FOUND.
 * @return 0, BOOKING_ETHEATER_NOT_FOUND, BOOKING_EVALIDATION (NULL `out` or `bk`, a ctx of
 *         unknown version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_theater_get(booking_theater **out, booking_handle *bk, const booking_ctx *ctx, const char *id);

/**
 * Every theater of the catalog. Anyone may read it.
 * @param out set to the list (caller owns; free with booking_theater_list_free()); NULL after a failure.
 * @param bk  the handle; borrowed.
 * @param ctx who asks; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `bk`, a ctx of unknown
 *         version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_theater_list_all(booking_theater_list **out, booking_handle *bk, const booking_ctx *ctx);

/**
 * Free a theater and everything it points at: one from booking_theater_get(),
 * booking_theater_create() or booking_theater_copy().
 * @param t the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_theater_free(booking_theater *t);

/**
 * Free a theater list and everything it points at: one from booking_theater_list_all().
 * @param l the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_theater_list_free(booking_theater_list *l);

/**
 * Create a screen of a theater with its seats (admin or system): 1..100000
 * seats, unique labels.
 * @param out        set to the new screen (caller owns; booking_screen_free());
 *                   may be NULL. NULL after a failure.
 * @param bk         the handle; borrowed.
 * @param ctx        an admin or system ctx; borrowed for the call.
 * @param theater_id the theater; borrowed.
 * @param name       UTF-8, 1..200 bytes; copied.
 * @param seats      `seat_count` seats, `seat_size` bytes apart (booking_layout_parse()
 *                   makes them); copied, borrowed for the call.
 * @param seat_count 1..100000.
 * @param seat_size  sizeof(booking_seat) as the caller knows it (`sizeof *seats`):
 *                   fields past it are taken as zero.
 * @return 0, BOOKING_ETHEATER_NOT_FOUND (no such theater, or `theater_id` is no id),
 *         BOOKING_EVALIDATION (NULL `bk`, a ctx of unknown version or role,
 *         an argument out of range: the details name the field; field
 *         "seat_size" smaller than the first release's booking_seat),
 *         BOOKING_EUNAUTHORIZED (NULL `ctx`), BOOKING_EFORBIDDEN (not admin
 *         or system), BOOKING_EUNAVAILABLE (the store is unreachable or its
 *         circuit is open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 *         When only the read-back into `out` fails, the record was created.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_screen_create(booking_screen **out, booking_handle *bk, const booking_ctx *ctx,
                                          const char *theater_id, const char *name,
                                          const booking_seat *seats, size_t seat_count, size_t seat_size);
/**
 * Read one screen by id. Anyone may read the catalog (an anonymous ctx will do).
 * @param out set to the screen (caller owns; free with booking_screen_free()); NULL after a failure.
 * @param bk  the handle; borrowed.
 * @param ctx who asks; borrowed for the call.
 * @param id  the screen's id; borrowed. Text that is no id answers BOOKING_ESCREEN_NOT_FOUND.
 * @return 0, BOOKING_ESCREEN_NOT_FOUND, BOOKING_EVALIDATION (NULL `out` or `bk`, a ctx of
 *         unknown version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_screen_get(booking_screen **out, booking_handle *bk, const booking_ctx *ctx, const char *id);

/**
 * Free a screen and everything it points at: one from booking_screen_get(),
 * booking_screen_create() or booking_screen_copy().
 * @param s the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_screen_free(booking_screen *s);

/**
 * Schedule a showtime of a movie on a screen (admin or system). `prices`
 * must name every seat category of the screen once (others are refused).
 * The showtime gets one seat row per seat of the screen, all free.
 * @param out         set to the new showtime (caller owns; booking_showtime_free());
 *                    may be NULL. NULL after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         an admin or system ctx; borrowed for the call.
 * @param movie_id    the movie; borrowed.
 * @param screen_id   the screen; borrowed.
 * @param starts_at   UTC ms, after booking_now().
 * @param currency    ISO 4217 code ("EUR"); copied.
 * @param prices      `price_count` prices, one per seat category, `price_size`
 *                    bytes apart; copied, borrowed for the call.
 * @param price_count 1..64.
 * @param price_size  sizeof(booking_price) as the caller knows it (`sizeof *prices`):
 *                    fields past it are taken as zero.
 * @return 0, BOOKING_EMOVIE_NOT_FOUND, BOOKING_ESCREEN_NOT_FOUND,
 *         BOOKING_EVALIDATION (NULL `bk`, a ctx of unknown version or role,
 *         an argument out of range: the details name the field; field
 *         "price_size" smaller than the first release's booking_price),
 *         BOOKING_EUNAUTHORIZED (NULL `ctx`), BOOKING_EFORBIDDEN (not admin
 *         or system), BOOKING_EUNAVAILABLE (the store is unreachable or its
 *         circuit is open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 *         When only the read-back into `out` fails, the record was created.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_showtime_create(booking_showtime **out, booking_handle *bk, const booking_ctx *ctx,
                                            const char *movie_id, const char *screen_id, int64_t starts_at,
                                            const char *currency, const booking_price *prices,
                                            size_t price_count, size_t price_size);
/**
 * Read one showtime by id. Anyone may read the catalog (an anonymous ctx will do).
 * @param out set to the showtime (caller owns; free with booking_showtime_free()); NULL after a failure.
 * @param bk  the handle; borrowed.
 * @param ctx who asks; borrowed for the call.
 * @param id  the showtime's id; borrowed. Text that is no id answers BOOKING_ESHOWTIME_NOT_FOUND.
 * @return 0, BOOKING_ESHOWTIME_NOT_FOUND, BOOKING_EVALIDATION (NULL `out` or `bk`, a ctx of
 *         unknown version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_showtime_get(booking_showtime **out, booking_handle *bk, const booking_ctx *ctx,
                                         const char *id);
/**
 * Showtimes, optionally of one movie, ordered by start time. Anyone may read them.
 * @param out      set to the list (caller owns; free with
 *                 booking_showtime_list_free()); NULL after a failure.
 * @param bk       the handle; borrowed.
 * @param ctx      who asks; borrowed for the call.
 * @param movie_id borrowed; NULL: every movie's. Text that is no id answers
 *                 BOOKING_EMOVIE_NOT_FOUND (an unknown id: an empty list).
 * @return 0, BOOKING_EMOVIE_NOT_FOUND, BOOKING_EVALIDATION (NULL `out` or
 *         `bk`, a ctx of unknown version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_showtime_list_all(booking_showtime_list **out, booking_handle *bk, const booking_ctx *ctx,
                                              const char *movie_id);
/**
 * Free a showtime and everything it points at: one from booking_showtime_get(),
 * booking_showtime_create() or booking_showtime_copy().
 * @param s the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_showtime_free(booking_showtime *s);

/**
 * Free a showtime list and everything it points at: one from booking_showtime_list_all().
 * @param l the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_showtime_list_free(booking_showtime_list *l);

/** The state of one seat at a showtime. */
typedef enum booking_seat_status {
	BOOKING_SEAT_FREE = 0,
	BOOKING_SEAT_HELD = 1,  /**< held by a live (unexpired) booking_handle */
	BOOKING_SEAT_SOLD = 2,
	BOOKING_SEAT_BLOCKED = 3 /**< taken out of sale by an admin (booking_seats_block()): neither held nor sold */
} booking_seat_status;

/**
 * The stable name of a seat status: the constant without its prefix ("HELD").
 * @param status a booking_seat_status; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_seat_status_name(booking_seat_status status);

/** One seat of a seat map: its state and price at this moment. */
typedef struct booking_seat_state {
	char label[BOOKING_LABEL_SIZE];
	char category[BOOKING_CATEGORY_SIZE];
	booking_seat_status status;
	int64_t price;            /**< minor units */
	char row[BOOKING_LABEL_SIZE]; /**< from the label, as booking_seat's; maybe "" */
	int number;               /**< from the label, as booking_seat's; 0 when it has none */
	int column;               /**< as booking_seat's: aisles counted; the number when the screen gave none */
	char reason[BOOKING_CATEGORY_SIZE]; /**< BLOCKED: why ("wheelchair", "press", ...); else "" */
} booking_seat_state;

/** The seats of a showtime and their states. Caller owns: booking_seat_map_free(). */
typedef struct booking_seat_map {
	char showtime_id[BOOKING_ID_SIZE];
	char currency[BOOKING_CURRENCY_SIZE];
	size_t count;
	booking_seat_state **seats; /**< `count` pointers, in layout order: `seats[i]` is the seat at position i */
	size_t free_count, held_count, sold_count;
	size_t blocked_count;     /**< seats in BOOKING_SEAT_BLOCKED */
} booking_seat_map;

/**
 * The seat map of a showtime at this moment: a seat whose hold expired is
 * shown free (it is claimable at once). Anyone may read it.
 * @param out         set to the map (caller owns; booking_seat_map_free());
 *                    NULL after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         who asks; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @return 0, BOOKING_ESHOWTIME_NOT_FOUND, BOOKING_EVALIDATION (NULL `out`
 *         or `bk`, a ctx of unknown version or role), BOOKING_EUNAUTHORIZED (NULL `ctx`),
 *         BOOKING_EUNAVAILABLE (the store is unreachable or its circuit is
 *         open), BOOKING_ENOMEM, store errors (BOOKING_EINTERNAL).
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_seat_map_get(booking_seat_map **out, booking_handle *bk, const booking_ctx *ctx,
                                         const char *showtime_id);
/**
 * Free a seat map and everything it points at: one from booking_seat_map_get().
 * @param m the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_seat_map_free(booking_seat_map *m);

BOOKING_END_DECL

#endif
