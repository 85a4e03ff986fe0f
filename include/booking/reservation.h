/*
 * libbooking — reservations: hold seats, read, cancel, expire.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_RESERVATION_H
#define BOOKING_RESERVATION_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/**
 * Booking states: PENDING (seats held until expires_at) → PAYMENT_PROCESSING
 * → CONFIRMED; PENDING/PAYMENT_PROCESSING → CANCELLED | EXPIRED.
 */
typedef enum booking_status {
	BOOKING_STATUS_PENDING = 1,
	BOOKING_STATUS_PAYMENT_PROCESSING = 2,
	BOOKING_STATUS_CONFIRMED = 3,
	BOOKING_STATUS_CANCELLED = 4,
	BOOKING_STATUS_EXPIRED = 5
} booking_status;

/** Where the booking's payment saga stands, kept so an interrupted payment can be resumed. */
typedef enum booking_saga_state {
	BOOKING_SAGA_SEATS_RESERVED = 1,
	BOOKING_SAGA_PAYMENT_PENDING = 2,
	BOOKING_SAGA_CONFIRMED = 3,
	BOOKING_SAGA_COMPENSATED = 4,
	BOOKING_SAGA_FAILED = 5
} booking_saga_state;

/** A seat label inside a reservation. */
typedef struct booking_seat_ref {
	char label[BOOKING_LABEL_SIZE];
} booking_seat_ref;

typedef struct booking_reservation {
	char id[BOOKING_ID_SIZE];
	char user_id[BOOKING_USER_ID_SIZE];
	char showtime_id[BOOKING_ID_SIZE];
	booking_status status;
	booking_saga_state saga;
	size_t seat_count;
	booking_seat_ref *seats;  /**< sorted by label */
	int64_t total_amount;     /**< minor units */
	char currency[BOOKING_CURRENCY_SIZE];
	int64_t created_at;
	int64_t expires_at;       /**< end of the hold */
	int64_t updated_at;
	int64_t version;          /**< number of recorded state changes (1 after the hold) */
} booking_reservation;

/** A page of bookings (booking_reservation_list_for_user). */
typedef struct booking_reservation_list {
	size_t count;
	booking_reservation *items;
	/**
	 * Cursor of the following page (pass it back as `cursor`), or NULL on
	 * the last page. Opaque, at most BOOKING_CURSOR_SIZE - 1 bytes; owned
	 * by the list (freed by booking_reservation_list_free).
	 */
	char *next_cursor;
} booking_reservation_list;

/** Name of a status ("PENDING", ...). Static. */
BOOKING_EXTERN(const char *) booking_status_name(booking_status status);
/** Name of a saga state ("PAYMENT_PENDING", ...). Static. */
BOOKING_EXTERN(const char *) booking_saga_state_name(booking_saga_state state);

/**
 * Hold seats of a showtime for the acting user, all or nothing.
 *
 * 1..max_seats_per_booking labels, no duplicates, each must exist; the
 * showtime must be scheduled and not started. Seats held by a booking whose
 * hold expired are claimable at once. The booking and its
 * `booking.created` event commit together.
 *
 * @param out    caller owns, booking_reservation_free(); may be NULL.
 * @param ctx    a customer (or admin) with a user id.
 * @return 0, BOOKING_EVALIDATION, BOOKING_EUNAUTHORIZED, BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_EINVALID_STATE (showtime cancelled or started),
 *         BOOKING_ESEAT_ALREADY_BOOKED (details: {"seats":[...]}),
 *         BOOKING_ELOCK_FAILED, BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_hold(booking_reservation **out, booking *bk, const booking_ctx *ctx,
                                 const char *showtime_id, const char *const *seat_labels, size_t seat_count);

/** Read a booking: its owner or an admin/system. @return ..., BOOKING_EBOOKING_NOT_FOUND, BOOKING_EFORBIDDEN. */
BOOKING_EXTERN(booking_error_code) booking_reservation_get(booking_reservation **out, booking *bk, const booking_ctx *ctx,
                                            const char *booking_id);

/**
 * One page of the bookings of `user_id`, newest first (by created_at, then
 * by id, both descending).
 *
 * Paging is by key, not by offset: the cursor names the last booking of the
 * previous page and the next page starts strictly after it, so bookings
 * made between two calls neither repeat nor push older ones out of the
 * walk (they are newer and show on a walk started afterwards).
 *
 * @param out      caller owns, booking_reservation_list_free(). Its
 *                 `next_cursor` is NULL on the last page.
 * @param ctx      the user themselves, or an admin/system for anyone.
 * @param user_id  NULL: the actor's own bookings.
 * @param limit    rows in the page: 0 for BOOKING_PAGE_DEFAULT (50), at most
 *                 BOOKING_PAGE_MAX (500).
 * @param cursor   NULL or "" for the first page, else a `next_cursor` this
 *                 call returned for the same user (borrowed).
 * @return 0, BOOKING_EVALIDATION (field "limit" above BOOKING_PAGE_MAX,
 *         field "cursor" not one this call produced, field "user_id"),
 *         BOOKING_EUNAUTHORIZED, BOOKING_EFORBIDDEN (another user's, not
 *         admin), BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_list_for_user(booking_reservation_list **out, booking *bk, const booking_ctx *ctx,
                                                      const char *user_id, size_t limit, const char *cursor);

/**
 * Cancel a PENDING booking and release its seats (owner or admin).
 * @return 0, BOOKING_EBOOKING_NOT_FOUND, BOOKING_EFORBIDDEN,
 *         BOOKING_EINVALID_STATE (paid, paying, already cancelled/expired),
 *         BOOKING_EEXPIRED (the hold ran out: expiry records it),
 *         BOOKING_ELOCK_FAILED (the booking kept changing under the call: retry).
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_cancel(booking_reservation **out, booking *bk, const booking_ctx *ctx,
                                               const char *booking_id);

/**
 * Mark up to `max` overdue PENDING bookings EXPIRED and emit
 * `booking.expired` for each (bookkeeping and notifications: their seats
 * were claimable already). System or admin. `expired_out` may be NULL.
 */
BOOKING_EXTERN(booking_error_code) booking_expire_due(size_t *expired_out, booking *bk, const booking_ctx *ctx, size_t max);

BOOKING_EXTERN(void) booking_reservation_free(booking_reservation *r);
BOOKING_EXTERN(void) booking_reservation_list_free(booking_reservation_list *l);

BOOKING_END_DECL

#endif
