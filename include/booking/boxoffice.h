/*
 * libbooking — the box office: best available seats, holds that are
 * idempotent, extended or changed, blocked seats, a showtime's door list.
 * doc/boxoffice.md explains each rule.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_BOXOFFICE_H
#define BOOKING_BOXOFFICE_H

#include "common.h"
#include "errors.h"
#include "reservation.h"

BOOKING_BEGIN_DECL

/**
 * What a hold asks for (booking_hold_with()): named seats, or a number of
 * seats the library chooses (best available), optionally with a client
 * request key, optionally for another user (admins).
 *
 * Fields are only appended; pass `sizeof(booking_hold_request)` as
 * booking_hold_with()'s `request_size`, and start from
 * BOOKING_HOLD_REQUEST_INIT (or zero the struct).
 */
typedef struct booking_hold_request {
	const char *showtime_id;   /**< the showtime; required */
	const char *const *seats;  /**< `seat_count` labels to hold; NULL when `best` is set */
	size_t seat_count;         /**< 1..max_seats_per_reservation, or 0 with `best` */
	/**
	 * > 0: the library chooses this many seats (1..max_seats_per_reservation):
	 * side by side in one row nearest the screen's focal point (the middle
	 * of the row at best_row_depth_percent), never across an aisle; then
	 * side by side stranding a seat (when the orphan policy lets it); then
	 * split over neighbouring rows; then the best scattered seats; else
	 * BOOKING_ENOT_ENOUGH_SEATS. Deterministic for a given seat map; a block
	 * taken meanwhile by another buyer is replaced by the next best (up to
	 * 64 tries).
	 */
	size_t best;
	const char *category;      /**< best: only seats of this category; NULL: any */
	int64_t max_price;         /**< best: only seats priced at most this (minor units); 0: any */
	/**
	 * NULL: none. Else 1..255 printable ASCII bytes naming this request of
	 * the user (for_user_id's when set): the same key with the same request
	 * answers the reservation it made the first time (after a lost reply
	 * too, in any process); with another request, IDEMPOTENCY_KEY_REUSED.
	 * Holds and payments share a user's keys: a key names one request.
	 */
	const char *idempotency_key;
	/**
	 * NULL: the acting user. Else (admin or system ctx only) the user the
	 * reservation is for; such a hold may also take BLOCKED seats: an admin
	 * selling a blocked seat to a named user on purpose.
	 */
	const char *for_user_id;
} booking_hold_request;

#ifdef __cplusplus
#define BOOKING_HOLD_REQUEST_INIT booking_hold_request()
#else
#define BOOKING_HOLD_REQUEST_INIT {0}
#endif

/**
 * Hold seats as `request` says (named, or best available), all or nothing,
 * under the orphan policy (booking_options.orphan_policy). The reservation
 * and its `reservation.created` event commit together, with the request's
 * key when it has one. Named seats for the acting user, without a key and
 * with the orphan policy off, are booking_hold() exactly (one write).
 *
 * @param out          set to the reservation (caller owns,
 *                     booking_reservation_free()); may be NULL. NULL after a failure.
 * @param bk           the handle; borrowed.
 * @param ctx          a signed-in user (for_user_id: admin or system); borrowed for the call.
 * @param request      what to hold; borrowed for the call.
 * @param request_size sizeof(booking_hold_request) of the caller's header.
 * @return 0, BOOKING_EVALIDATION (a bad request: details name the field),
 *         BOOKING_EUNAUTHORIZED, BOOKING_EFORBIDDEN (for_user_id without
 *         admin), BOOKING_ESHOWTIME_NOT_FOUND, BOOKING_EINVALID_STATE
 *         (showtime cancelled or started), BOOKING_ESEAT_ALREADY_BOOKED
 *         (named seats taken or blocked; details {"seats":[...]}),
 *         BOOKING_EORPHAN_SEAT (the hold would strand a seat: details
 *         {"seat":"C5"}), BOOKING_ENOT_ENOUGH_SEATS (best: no such seats),
 *         BOOKING_ELIMIT_REACHED (the per-buyer seat limit or the cooldown
 *         after a cancel; not for an admin's hold for a user),
 *         BOOKING_EIDEMPOTENCY_KEY_REUSED, BOOKING_ELOCK_FAILED (the seats
 *         kept changing: retry), BOOKING_ENOTSUPPORTED (the store has no
 *         box office: ledger version 1), BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_hold_with(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                                     const booking_hold_request *request, size_t request_size);

/**
 * Extend a live hold (PENDING, not expired) by `minutes`, up to its
 * lifetime cap: created_at + hold_max_minutes. The hold's seats stay held
 * as long. Emits `reservation.extended`.
 * @param out            set to the reservation after the change (caller owns,
 *                       booking_reservation_free()); may be NULL. NULL after a failure.
 * @param bk             the handle; borrowed.
 * @param ctx            the owner, or admin/system; borrowed for the call.
 * @param reservation_id the reservation; borrowed.
 * @param minutes        1..hold_expiry_minutes; 0: hold_expiry_minutes.
 * @return 0, BOOKING_EHOLD_LIMIT (the hold is at its cap already: details
 *         max_expires_at), BOOKING_EEXPIRED (the hold ran out),
 *         BOOKING_EINVALID_STATE (not PENDING), BOOKING_ERESERVATION_NOT_FOUND,
 *         BOOKING_EFORBIDDEN, BOOKING_EVALIDATION (minutes out of range),
 *         BOOKING_ELOCK_FAILED, BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_extend(booking_reservation **out, booking_handle *bk,
                                                              const booking_ctx *ctx, const char *reservation_id,
                                                              int minutes);

/**
 * Change the seats of a live hold in one step: add seats, remove seats, or
 * both (a swap). Either the new set is held — priced again, and held until
 * the later of its expiry and now + hold_expiry_minutes, within the cap —
 * or nothing changes; the buyer never holds neither. Emits
 * `reservation.changed`.
 * @param out            set to the reservation after the change (caller owns,
 *                       booking_reservation_free()); may be NULL. NULL after a failure.
 * @param bk             the handle; borrowed.
 * @param ctx            the owner, or admin/system; borrowed for the call.
 * @param reservation_id the reservation; borrowed.
 * @param add            `add_count` labels to add (not in the hold); may be NULL when 0.
 * @param add_count      how many.
 * @param remove         `remove_count` labels of the hold to give up; may be NULL when 0.
 * @param remove_count   how many; the hold keeps at least one seat.
 * @return 0, BOOKING_ESEAT_ALREADY_BOOKED (an added seat is taken),
 *         BOOKING_EORPHAN_SEAT, BOOKING_EVALIDATION (nothing to change, a
 *         label twice, a removed seat not in the hold, an added one in it,
 *         no seat left, too many), BOOKING_EEXPIRED, BOOKING_EINVALID_STATE,
 *         BOOKING_ERESERVATION_NOT_FOUND, BOOKING_EFORBIDDEN,
 *         BOOKING_ELOCK_FAILED, BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_change(booking_reservation **out, booking_handle *bk,
                                                              const booking_ctx *ctx, const char *reservation_id,
                                                              const char *const *add, size_t add_count,
                                                              const char *const *remove, size_t remove_count);

/**
 * Block seats of a showtime (admin or system): they are neither held nor
 * sold, and show as BLOCKED with `reason` in the seat map, until
 * unblocked. All or nothing: every seat must be free (or its hold run out).
 * Emits `seats.blocked`. An admin sells a blocked seat with
 * booking_hold_with() and `for_user_id`.
 * @param bk          the handle; borrowed.
 * @param ctx         admin or system; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @param seats       `seat_count` labels; borrowed for the call.
 * @param seat_count  1..1000.
 * @param reason      1..31 bytes of [a-z0-9_-]: "wheelchair", "press", "broken", "house", ...; borrowed.
 * @return 0, BOOKING_ESEAT_ALREADY_BOOKED (details: the seats held, sold or
 *         blocked already), BOOKING_EVALIDATION, BOOKING_EFORBIDDEN,
 *         BOOKING_EUNAUTHORIZED, BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_ELOCK_FAILED, BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_seats_block(booking_handle *bk, const booking_ctx *ctx,
                                                       const char *showtime_id, const char *const *seats,
                                                       size_t seat_count, const char *reason);

/**
 * Release blocked seats (admin or system): they become free. All or
 * nothing. Emits `seats.unblocked`.
 * @param bk          the handle; borrowed.
 * @param ctx         admin or system; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @param seats       `seat_count` labels; borrowed for the call.
 * @param seat_count  1..1000.
 * @return 0, BOOKING_EINVALID_STATE (a seat is not blocked: details name
 *         it), BOOKING_EVALIDATION, BOOKING_EFORBIDDEN, BOOKING_EUNAUTHORIZED,
 *         BOOKING_ESHOWTIME_NOT_FOUND, BOOKING_ELOCK_FAILED,
 *         BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_seats_unblock(booking_handle *bk, const booking_ctx *ctx,
                                                         const char *showtime_id, const char *const *seats,
                                                         size_t seat_count);

/**
 * One page of the reservations of a showtime (admin or system): the box
 * office's door list, newest first (by created_at, then id, both
 * descending), optionally only those in one status. Paged by key as
 * booking_reservation_list_for_user().
 * @param out         caller owns, booking_reservation_list_free(); NULL after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         admin or system; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @param status      a booking_reservation_status, or 0 for all.
 * @param limit       0 for BOOKING_PAGE_DEFAULT, at most BOOKING_PAGE_MAX.
 * @param cursor      NULL or "" for the first page, else a `next_cursor` of
 *                    this call for the same showtime and status; borrowed.
 * @return 0, BOOKING_EFORBIDDEN, BOOKING_EUNAUTHORIZED, BOOKING_EVALIDATION
 *         (status, limit, cursor), BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE, BOOKING_ENOMEM.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_reservation_list_for_showtime(booking_reservation_list **out, booking_handle *bk,
                                                                         const booking_ctx *ctx, const char *showtime_id,
                                                                         int status, size_t limit, const char *cursor);

BOOKING_END_DECL

#endif
