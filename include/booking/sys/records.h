/*
 * libbooking backend API — record copies.
 *
 * A store hands the core records it owns through `out` (sys/store.h): one
 * booking_malloc() block for the struct, and one block for each string and
 * each array it points at (a movie's title, a theater's name and city, a
 * screen's name and seats, a showtime's prices, a reservation's seats, a user's
 * email), so the public booking_*_free() frees them. An array of records is
 * an array of pointers to records (doc/decisions.md, "Records and the ABI"),
 * in the block booking_record_array_new() makes. These calls make such
 * a record from a borrowed view — a stored row, or a struct on the stack
 * whose pointers point into a result row — so a backend fills the view
 * and is done. They copy fields and decide nothing.
 *
 * The record ABI promise (appending a field keeps old callers working)
 * covers the public headers, not this backend interface: a backend fills
 * and reads records with the sizes of the headers it was built against, so
 * it is built against the headers of the library it runs in, and a release
 * that appends a field to a record a backend exchanges raises
 * BOOKING_STORE_VERSION, so that booking_open() refuses an older backend
 * instead of misreading it. The sys/ structs (booking_store_change's guards
 * and events, the `taken` seats of a hold) are arrays of structs for the
 * same reason: their layout is versioned with the library.
 *
 * Each returns 0 and sets `*out` to a record the caller owns (free it with
 * the matching booking_*_free()), or BOOKING_ENOMEM (error set, `*out`
 * NULL, nothing allocated). `src` is borrowed for the call. A NULL string
 * is copied as "". An array is copied when its count is non-zero (then its
 * pointer and each of its `count` pointers must be valid; the view's array
 * may be laid out any way) and is NULL otherwise. Thread-safe.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_RECORDS_H
#define BOOKING_SYS_RECORDS_H

#include "../common.h"
#include "../errors.h"
#include "../catalog.h"
#include "../reservation.h"
#include "../payment.h"
#include "../auth.h"

BOOKING_BEGIN_DECL

/**
 * An array of `count` records of `size` bytes in the layout the public
 * records hold: one booking_malloc() block with `count` pointers followed
 * by the records (zeroed), pointer i pointing at record i. booking_free()
 * on `*out` frees it all; the records' own strings are the caller's to free.
 * @param out   set to the pointer array (caller owns; booking_free()); NULL
 *              when `count` is 0 and after a failure.
 * @param count the number of records.
 * @param size  sizeof the record (sizeof(booking_seat), ...).
 * @return 0, BOOKING_EVALIDATION (NULL `out`, `size` 0), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_record_array_new(void ***out, size_t count, size_t size);

/**
 * Copy a movie and its title.
 * @param out set to the copy (caller owns; booking_movie_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_movie_copy(booking_movie **out, const booking_movie *src);
/**
 * Copy a theater, its name and its city.
 * @param out set to the copy (caller owns; booking_theater_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_theater_copy(booking_theater **out, const booking_theater *src);
/**
 * Copy a screen, its name and its `seat_count` seats.
 * @param out set to the copy (caller owns; booking_screen_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_screen_copy(booking_screen **out, const booking_screen *src);
/**
 * Copy a showtime and its `price_count` prices.
 * @param out set to the copy (caller owns; booking_showtime_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_showtime_copy(booking_showtime **out, const booking_showtime *src);
/**
 * Copy a reservation and its `seat_count` seats.
 * @param out set to the copy (caller owns; booking_reservation_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_copy(booking_reservation **out, const booking_reservation *src);
/**
 * Copy a payment (one block: it points at nothing).
 * @param out set to the copy (caller owns; booking_payment_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_payment_copy(booking_payment **out, const booking_payment *src);
/**
 * Copy a user and its email.
 * @param out set to the copy (caller owns; booking_user_free()); NULL after a failure.
 * @param src the view to copy; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `src`), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_user_copy(booking_user **out, const booking_user *src);

BOOKING_END_DECL

#endif
