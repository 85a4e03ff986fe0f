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
 * Reservation states: PENDING (seats held until expires_at) → PAYMENT_PROCESSING
 * → CONFIRMED; PENDING/PAYMENT_PROCESSING → CANCELLED | EXPIRED.
 */
typedef enum booking_reservation_status {
	BOOKING_RESERVATION_PENDING = 1,
	BOOKING_RESERVATION_PAYMENT_PROCESSING = 2,
	BOOKING_RESERVATION_CONFIRMED = 3,
	BOOKING_RESERVATION_CANCELLED = 4,
	BOOKING_RESERVATION_EXPIRED = 5
} booking_reservation_status;

/** Where the reservation's payment saga stands, kept so an interrupted payment can be resumed. */
typedef enum booking_saga_state {
	BOOKING_SAGA_SEATS_RESERVED = 1,
	BOOKING_SAGA_PAYMENT_PENDING = 2,
	BOOKING_SAGA_CONFIRMED = 3,
	BOOKING_SAGA_COMPENSATED = 4,
	BOOKING_SAGA_FAILED = 5
} booking_saga_state;

/**
 * A seat inside a reservation: its label, and its row, number and position
 * in the screen's layout (see booking_seat).
 */
typedef struct booking_seat_ref {
	char label[BOOKING_LABEL_SIZE];
	char row[BOOKING_LABEL_SIZE]; /**< from the label ("J"), maybe "" */
	int number;                   /**< from the label (10), 0 when it has none */
	int position;                 /**< index of the seat in its screen's layout order (0-based) */
} booking_seat_ref;

/** A reservation: seats of one showtime held or bought by one user. Caller owns: booking_reservation_free(). */
typedef struct booking_reservation {
	char id[BOOKING_ID_SIZE];
	char user_id[BOOKING_USER_ID_SIZE];
	char showtime_id[BOOKING_ID_SIZE];
	booking_reservation_status status;
	booking_saga_state saga;
	size_t seat_count;
	booking_seat_ref **seats; /**< `seat_count` pointers, in layout order (by position): J9 J10 J11, not J10 J11 J9 */
	int64_t total_amount;     /**< minor units */
	char currency[BOOKING_CURRENCY_SIZE];
	int64_t created_at;
	int64_t expires_at;       /**< end of the hold */
	int64_t updated_at;
	int64_t version;          /**< number of recorded state changes (1 after the hold) */
} booking_reservation;

/** A page of reservations (booking_reservation_list_for_user). */
typedef struct booking_reservation_list {
	size_t count;
	booking_reservation **items; /**< `count` pointers: `items[i]->id` */
	/**
	 * Cursor of the following page (pass it back as `cursor`), or NULL on
	 * the last page. Opaque, at most BOOKING_CURSOR_SIZE - 1 bytes; owned
	 * by the list (freed by booking_reservation_list_free).
	 */
	char *next_cursor;
} booking_reservation_list;

/**
 * The stable name of a reservation status ("PENDING", ...).
 * @param status a booking_reservation_status; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_reservation_status_name(booking_reservation_status status);
/**
 * The stable name of a saga state ("PAYMENT_PENDING", ...).
 * @param state a booking_saga_state; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_saga_state_name(booking_saga_state state);

/**
 * Hold seats of a showtime for the acting user, all or nothing.
 *
 * 1..max_seats_per_reservation labels, no duplicates, each must exist; the
 * showtime must be scheduled and not started. Seats held by a reservation whose
 * hold expired are claimable at once. The reservation and its
 * `reservation.created` event commit together. Under an orphan policy
 * (booking_options.orphan_policy) the hold is decided as booking_hold_with()
 * decides it; booking_hold_with() also takes a client key, best available
 * and holds for another user.
 *
 * @param out         set to the new reservation (caller owns,
 *                    booking_reservation_free()); may be NULL. NULL after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         a signed-in user (customer or admin) with a user id;
 *                    borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @param seat_labels `seat_count` seat labels ("C7"); borrowed for the call.
 * @param seat_count  1..max_seats_per_reservation.
 * @return 0, BOOKING_EVALIDATION (NULL `bk`, a bad ctx, too few or too many
 *         seats, duplicate or unknown labels: details name them),
 *         BOOKING_EUNAUTHORIZED (no ctx, or no signed-in user), BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_EINVALID_STATE (showtime cancelled or started),
 *         BOOKING_ESEAT_ALREADY_BOOKED (details: {"seats":[...]}),
 *         BOOKING_EORPHAN_SEAT (under an orphan policy, the hold would
 *         leave a single seat alone: details {"seat":...}; doc/boxoffice.md),
 *         BOOKING_ELIMIT_REACHED (the per-buyer seat limit, or the cooldown
 *         after a cancel: details name the limit; doc/configuration.md),
 *         BOOKING_ELOCK_FAILED (the lock manager kept refusing: retry),
 *         BOOKING_EUNAVAILABLE (store unreachable, circuit open, or the ctx
 *         deadline passed), BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_hold(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                 const char *showtime_id, const char *const *seat_labels, size_t seat_count);

/**
 * Read a reservation: its owner, or an admin or system ctx.
 * @param out        set to the reservation (caller owns, booking_reservation_free());
 *                   NULL after a failure.
 * @param bk         the handle; borrowed.
 * @param ctx        the owner, or admin/system; borrowed for the call.
 * @param reservation_id the reservation; borrowed.
 * @return 0, BOOKING_ERESERVATION_NOT_FOUND, BOOKING_EFORBIDDEN (another user's),
 *         BOOKING_EUNAUTHORIZED (no ctx; a customer ctx without a user id),
 *         BOOKING_EVALIDATION (NULL `out` or `bk`, a bad ctx),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_get(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                            const char *reservation_id);

/**
 * One page of the reservations of `user_id`, newest first (by created_at, then
 * by id, both descending).
 *
 * Paging is by key, not by offset: the cursor names the last reservation of the
 * previous page and the next page starts strictly after it, so reservations
 * made between two calls neither repeat nor push older ones out of the
 * walk (they are newer and show on a walk started afterwards).
 *
 * @param out      caller owns, booking_reservation_list_free(). Its
 *                 `next_cursor` is NULL on the last page. NULL after a failure.
 * @param bk       the handle; borrowed.
 * @param ctx      the user themselves, or an admin/system for anyone;
 *                 borrowed for the call.
 * @param user_id  borrowed; NULL: the actor's own reservations.
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
BOOKING_EXTERN(booking_error_code) booking_reservation_list_for_user(booking_reservation_list **out, booking_handle *bk, const booking_ctx *ctx,
                                                      const char *user_id, size_t limit, const char *cursor);

/**
 * Cancel a PENDING reservation and release its seats (owner or admin), with its
 * `reservation.cancelled` event.
 * @param out        set to the cancelled reservation (caller owns,
 *                   booking_reservation_free()); may be NULL. NULL after a failure.
 * @param bk         the handle; borrowed.
 * @param ctx        the owner, or admin/system; borrowed for the call.
 * @param reservation_id the reservation; borrowed.
 * @return 0, BOOKING_ERESERVATION_NOT_FOUND, BOOKING_EFORBIDDEN,
 *         BOOKING_EINVALID_STATE (paid, paying, already cancelled/expired),
 *         BOOKING_EEXPIRED (the hold ran out: expiry records it),
 *         BOOKING_ELOCK_FAILED (the reservation kept changing under the call: retry),
 *         BOOKING_EUNAUTHORIZED, BOOKING_EVALIDATION (NULL `bk`, a bad ctx),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_cancel(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                               const char *reservation_id);

/**
 * Mark up to `max` overdue PENDING reservations EXPIRED and emit
 * `reservation.expired` for each (bookkeeping and notifications: their seats
 * were claimable already). System or admin. A reservation that a concurrent
 * payment or cancellation took first is skipped. At most 10000 per call.
 * @param expired_out set to how many were expired; may be NULL. After a
 *                    failure, how many were expired before it (as
 *                    booking_outbox_relay() and booking_consume() count).
 * @param bk          the handle; borrowed.
 * @param ctx         admin or system (booking_ctx_system()); borrowed for the call.
 * @param max         the most to expire; 0 does nothing.
 * @return 0, BOOKING_EFORBIDDEN (not admin/system), BOOKING_EUNAUTHORIZED
 *         (NULL `ctx`), BOOKING_EVALIDATION (NULL `bk`, a bad ctx),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe: sweepers on many threads or hosts may run at once.
 */
BOOKING_EXTERN(booking_error_code) booking_expire_due(size_t *expired_out, booking_handle *bk, const booking_ctx *ctx, size_t max);

/**
 * Free a reservation and its seats: one from booking_hold(),
 * booking_reservation_get(), booking_reservation_cancel() or booking_reservation_copy().
 * @param r the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_reservation_free(booking_reservation *r);

/**
 * Free a page of reservations from booking_reservation_list_for_user(), its
 * items and its `next_cursor`.
 * @param l the list, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a list no other thread uses.
 */
BOOKING_EXTERN(void) booking_reservation_list_free(booking_reservation_list *l);

BOOKING_END_DECL

#endif
