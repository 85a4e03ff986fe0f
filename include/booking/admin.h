/*
 * libbooking — administration: migrations and the invariant checker.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_ADMIN_H
#define BOOKING_ADMIN_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/** The invariants booking_check() verifies, numbered as in its report. */
typedef enum booking_invariant {
	BOOKING_INV_SEAT_SINGLE_OWNER = 1,   /**< a seat belongs to at most one live booking_handle */
	BOOKING_INV_CONFIRMED_PAID = 2,      /**< CONFIRMED iff one unrefunded succeeded payment, seats sold to it */
	BOOKING_INV_IDEMPOTENCY = 3,         /**< a key maps to at most one payment */
	BOOKING_INV_OUTBOX = 4,              /**< every state change has its event and vice versa */
	BOOKING_INV_INBOX = 5,               /**< a consumer applies an event at most once */
	BOOKING_INV_MONEY = 6,               /**< succeeded − refunded = confirmed totals */
	BOOKING_INV_BOX_OFFICE = 7,          /**< a BLOCKED seat has no holder; a PENDING hold lives no longer than hold_max_minutes; a hold's key names its user's reservation */
	BOOKING_INV_WAITLIST = 8             /**< waiting lists: offers in join order (passing only parties that did not fit, within waitlist_max_passes), no seat offered to two parties, each offer its party's hold, the lists as their events left them */
} booking_invariant;

/**
 * The stable name of an invariant: the constant without its prefix ("SEAT_SINGLE_OWNER").
 * @param invariant a booking_invariant; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_invariant_name(booking_invariant invariant);

/** One violation booking_check() found. */
typedef struct booking_violation {
	booking_invariant invariant;
	char entity_id[BOOKING_ID_SIZE]; /**< the booking/payment/event concerned, "" if none */
	char *message;
} booking_violation;

/** What booking_check() found. Caller owns: booking_check_report_free(). */
typedef struct booking_check_report {
	size_t count;                 /**< violations found; 0 means all eight invariants hold */
	booking_violation **items;    /**< `count` pointers: `items[i]->message` */
	size_t reservations, seats, payments, events; /**< what was examined */
} booking_check_report;

/**
 * Verify the eight invariants over the whole store, like SQLite's
 * `PRAGMA integrity_check`, and report every violation found. Run it when
 * the system is quiet: a payment in flight is not a violation, but a
 * half-finished one looks like one until booking_payment_recover() runs.
 *
 * @param out caller owns; booking_check_report_free(). NULL after a failure.
 * @param bk  the handle; borrowed.
 * @return 0 when the check ran (whatever it found), or an error running it:
 *         BOOKING_EVALIDATION (NULL `out` or `bk`), BOOKING_EUNAVAILABLE
 *         (store unreachable or its circuit open), BOOKING_ENOMEM, store errors.
 * Thread-safe; it reads the whole store, so it is slow on a large one.
 * Host-only, no ctx: an operator's audit of the whole store, run by the host process (the CLI
 * asks for an admin login first).
 */
BOOKING_EXTERN(booking_error_code) booking_check(booking_check_report **out, booking_handle *bk);

/**
 * Free a report of booking_check() and its messages.
 * @param r the report, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a report no other thread uses.
 */
BOOKING_EXTERN(void) booking_check_report_free(booking_check_report *r);

/**
 * A report as JSON text: {"ok":bool,"violations":[{"invariant":n,
 * "entity_id":..,"message":..}],"examined":{...}}.
 * @param r the report; borrowed.
 * @param json_out set to the text, which the caller frees with
 *        booking_free(); NULL after a failure.
 * @return 0, BOOKING_EVALIDATION (NULL argument), BOOKING_ENOMEM. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_check_report_to_json(char **json_out, const booking_check_report *r);

/**
 * Bring the store's schema up to date (booking_open() does it too).
 * @param version_out the schema version afterwards; may be NULL. 0 after
 *        a failure.
 * @param bk the handle; borrowed.
 * @return 0, BOOKING_ESCHEMA (written by a newer libbooking),
 *         BOOKING_EVALIDATION (NULL `bk`), BOOKING_EUNAVAILABLE, store errors.
 * Thread-safe: stores migrate safely when several processes do it at once.
 * Host-only, no ctx: schema upgrades belong to whoever deploys the store.
 */
BOOKING_EXTERN(booking_error_code) booking_migrate(int *version_out, booking_handle *bk);

/**
 * The backend URLs the handle runs on, passwords masked, as JSON
 * {"store":..,"locks":..,"events":..,"gateway":..}.
 * @param bk the handle; borrowed.
 * @param json_out set to the text, which the caller frees with
 *        booking_free(); NULL after a failure.
 * @return 0, BOOKING_EVALIDATION (NULL argument), BOOKING_ENOMEM. Thread-safe.
 * Host-only, no ctx: configuration of the host's own handle, passwords masked.
 */
BOOKING_EXTERN(booking_error_code) booking_describe(char **json_out, booking_handle *bk);

BOOKING_END_DECL

#endif
