/*
 * libbooking — the waiting list: buyers who found a showtime sold out wait
 * in line; seats that come back are offered to them in join order as holds
 * of their own (doc/fairness.md explains the rule).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_WAITLIST_H
#define BOOKING_WAITLIST_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/** Where a party stands in a waiting list. */
typedef enum booking_waitlist_status {
	BOOKING_WAITLIST_WAITING = 1, /**< in line */
	BOOKING_WAITLIST_OFFERED = 2  /**< seats are held for the party: `reservation_id`, until offer_expires_at */
} booking_waitlist_status;

/**
 * The stable name of a waiting-list status ("WAITING", "OFFERED").
 * @param status a booking_waitlist_status; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_waitlist_status_name(booking_waitlist_status status);

/** A party in a showtime's waiting list. Fields are only appended. */
typedef struct booking_waitlist_entry {
	char id[BOOKING_ID_SIZE];          /**< the entry (a UUID) */
	char showtime_id[BOOKING_ID_SIZE];
	char user_id[BOOKING_ID_SIZE];     /**< one entry per user and showtime */
	size_t party_size;                 /**< seats wanted, side by side where the map allows (best available) */
	char category[BOOKING_CATEGORY_SIZE]; /**< only seats of this category; "" any */
	booking_waitlist_status status;
	size_t position;                   /**< 1-based place in line among the showtime's entries, by join order */
	int passes;                        /**< how often a later, smaller party was offered seats first */
	int64_t joined_at;                 /**< UTC ms */
	char reservation_id[BOOKING_ID_SIZE]; /**< OFFERED: the hold made for the party; "" otherwise */
	int64_t offer_expires_at;          /**< OFFERED: when the hold runs out and the seats pass on; 0 otherwise */
} booking_waitlist_entry;

/** A showtime's waiting list, in join order (booking_waitlist_list()). */
typedef struct booking_waitlist {
	size_t count;
	booking_waitlist_entry **items; /**< `count` pointers */
} booking_waitlist;

/**
 * Join the waiting list of a showtime for a party of `party_size`. When
 * seats are free already the library offers them at once (the entry comes
 * back OFFERED with its reservation). A user has one entry per showtime:
 * joining again answers BOOKING_EEXISTS. The `waitlist.joined` event
 * commits with the entry (and `waitlist.offered` with an offer).
 * @param out         set to the entry (caller owns, booking_waitlist_entry_free()); may be NULL; NULL after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         a signed-in user; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @param party_size  1..max_seats_per_reservation, and within max_seats_per_user_showtime.
 * @param category    NULL or "": any seat; else only seats of this category; borrowed.
 * @return 0, BOOKING_EVALIDATION, BOOKING_EUNAUTHORIZED, BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_EINVALID_STATE (the showtime is cancelled or started), BOOKING_EEXISTS,
 *         BOOKING_ELIMIT_REACHED (waitlist_max_entries parties wait already),
 *         BOOKING_ENOTSUPPORTED (the store keeps no kv records), BOOKING_EUNAVAILABLE.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_waitlist_join(booking_waitlist_entry **out, booking_handle *bk,
                                                         const booking_ctx *ctx, const char *showtime_id,
                                                         size_t party_size, const char *category);

/**
 * Leave a waiting list. An entry that was OFFERED gives its offer up: the
 * held reservation is cancelled and the seats pass to the next party.
 * Emits `waitlist.left`.
 * @param bk          the handle; borrowed.
 * @param ctx         the user, or an admin; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @param user_id     NULL: the acting user; another user's (admins only); borrowed.
 * @return 0, BOOKING_ENOTFOUND (no entry), BOOKING_EUNAUTHORIZED, BOOKING_EFORBIDDEN,
 *         BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_waitlist_leave(booking_handle *bk, const booking_ctx *ctx,
                                                          const char *showtime_id, const char *user_id);

/**
 * A showtime's waiting list, in join order, each entry with its place in
 * line. Admins see every entry; a customer sees only their own (count 0
 * or 1). Offers that were paid for, ran out or were given up are settled
 * first (as booking_waitlist_process() does).
 * @param out         set to the list (caller owns, booking_waitlist_free()); NULL after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         a signed-in user; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @return 0, BOOKING_EVALIDATION, BOOKING_EUNAUTHORIZED, BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_waitlist_list(booking_waitlist **out, booking_handle *bk,
                                                         const booking_ctx *ctx, const char *showtime_id);

/**
 * Settle a showtime's waiting list now: offers that were paid for leave
 * the list (`waitlist.fulfilled`), offers that ran out or were cancelled
 * leave it (`waitlist.lapsed`), then free seats are offered to the parties
 * in line (`waitlist.offered`). The library calls it itself whenever seats
 * of a showtime come back (a hold expires or is cancelled, a payment fails
 * and releases its seats, a refund, an unblock, a change that gives seats
 * up) and when a party joins; a host need not, but may (a cron job).
 * @param offers_out  set to the number of offers made; may be NULL; 0 after a failure.
 * @param bk          the handle; borrowed.
 * @param ctx         an admin or the system; borrowed for the call.
 * @param showtime_id the showtime; borrowed.
 * @return 0, BOOKING_EVALIDATION, BOOKING_EFORBIDDEN, BOOKING_ESHOWTIME_NOT_FOUND,
 *         BOOKING_ENOTSUPPORTED, BOOKING_EUNAVAILABLE. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_waitlist_process(size_t *offers_out, booking_handle *bk,
                                                            const booking_ctx *ctx, const char *showtime_id);

/**
 * Free an entry booking_waitlist_join() returned.
 * @param e the entry; NULL is ignored. Thread-safe.
 */
BOOKING_EXTERN(void) booking_waitlist_entry_free(booking_waitlist_entry *e);

/**
 * Free a list booking_waitlist_list() returned, entries included.
 * @param l the list; NULL is ignored. Thread-safe.
 */
BOOKING_EXTERN(void) booking_waitlist_free(booking_waitlist *l);

BOOKING_END_DECL

#endif
