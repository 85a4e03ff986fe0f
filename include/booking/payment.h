/*
 * libbooking — payments with idempotency keys, the payment saga, refunds
 * and recovery of interrupted payments.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_PAYMENT_H
#define BOOKING_PAYMENT_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/** Where a payment stands. */
typedef enum booking_payment_status {
	BOOKING_PAYMENT_PROCESSING = 1, /**< the gateway was (maybe) called; outcome pending */
	BOOKING_PAYMENT_SUCCEEDED = 2,
	BOOKING_PAYMENT_FAILED = 3,
	BOOKING_PAYMENT_REFUNDED = 4
} booking_payment_status;

/** A payment of a reservation. Caller owns: booking_payment_free(). */
typedef struct booking_payment {
	char id[BOOKING_ID_SIZE];
	char reservation_id[BOOKING_ID_SIZE];
	char user_id[BOOKING_USER_ID_SIZE];
	booking_payment_status status;
	int64_t amount;                    /**< minor units */
	char currency[BOOKING_CURRENCY_SIZE];
	char card_last4[5];
	char gateway_ref[64];              /**< the gateway's charge id, "" until charged */
	char failure_code[64];             /**< decline code or refund reason, "" otherwise */
	int64_t refunded_amount;
	int64_t created_at;
	int64_t updated_at;
} booking_payment;

/**
 * The stable name of a payment status ("SUCCEEDED", ...).
 * @param status a booking_payment_status; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_payment_status_name(booking_payment_status status);

/**
 * Pay for a PENDING reservation (its owner), Stripe-style.
 *
 * `idempotency_key` (1..255 printable ASCII) makes the call safe to retry:
 * the same key and the same request return the first result again (the same
 * payment id, or the same decline); the same key with a different request
 * fails with BOOKING_EIDEMPOTENCY_KEY_REUSED; a call with the key still
 * running fails with BOOKING_EPAYMENT_IN_PROGRESS. Keys are per user.
 *
 * The card number (13..19 digits, Luhn-checked; spaces allowed) goes to
 * the gateway only; the library keeps its last four digits.
 *
 * @param out             caller owns, booking_payment_free(); may be NULL.
 *                        Set on success only: NULL after a failure (a
 *                        decline too: its payment id is in the details).
 * @param bk              the handle; borrowed.
 * @param ctx             the reservation's owner, signed in; borrowed for the call.
 * @param reservation_id      the reservation; borrowed.
 * @param idempotency_key borrowed; see above.
 * @param card_number     borrowed; never stored, never logged.
 * @return 0 (reservation CONFIRMED), BOOKING_EPAYMENT_DECLINED (details carry
 *         payment_id and decline_code; by default the hold stays and the user
 *         may retry with a new key), BOOKING_EEXPIRED, BOOKING_EINVALID_STATE,
 *         BOOKING_ERESERVATION_NOT_FOUND, BOOKING_EFORBIDDEN,
 *         BOOKING_EIDEMPOTENCY_KEY_REUSED, BOOKING_EPAYMENT_IN_PROGRESS,
 *         BOOKING_EEXTERNAL / BOOKING_EUNAVAILABLE (the gateway failed: the
 *         outcome is resolved by booking_payment_recover(); retry with the
 *         same key), BOOKING_EVALIDATION, BOOKING_ERATE_LIMITED (too many
 *         failed payments), BOOKING_ENOTSUPPORTED (no payment_key_file),
 *         BOOKING_ELOCK_FAILED (the reservation kept changing: retry with the same key).
 *         A replay whose payment or reservation changed since (refunded,
 *         cancelled) answers BOOKING_EINVALID_STATE with {"replayed":true}.
 *         Also BOOKING_EUNAUTHORIZED (no signed-in user), BOOKING_ENOMEM and store errors.
 * Thread-safe: concurrent calls with one key pay once.
 */
BOOKING_EXTERN(booking_error_code) booking_pay(booking_payment **out, booking_handle *bk, const booking_ctx *ctx,
                                const char *reservation_id, const char *idempotency_key, const char *card_number);

/**
 * Read a payment: its owner, or an admin or system ctx.
 * @param out        set to the payment (caller owns, booking_payment_free());
 *                   NULL after a failure.
 * @param bk         the handle; borrowed.
 * @param ctx        the owner, or admin/system; borrowed for the call.
 * @param payment_id the payment; borrowed.
 * @return 0, BOOKING_EPAYMENT_NOT_FOUND, BOOKING_EFORBIDDEN (another user's),
 *         BOOKING_EUNAUTHORIZED, BOOKING_EVALIDATION (NULL `out` or `bk`, a
 *         bad ctx), BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_payment_get(booking_payment **out, booking_handle *bk, const booking_ctx *ctx,
                                        const char *payment_id);

/**
 * Refund a succeeded payment in full (admin): the gateway refunds, the
 * payment becomes REFUNDED, the reservation CANCELLED and its seats free; with
 * `payment.refunded` and `reservation.cancelled` events. The gateway refund is
 * keyed by the payment, so a retry never refunds twice.
 * @param out        set to the refunded payment (caller owns,
 *                   booking_payment_free()); may be NULL. NULL after a failure.
 * @param bk         the handle; borrowed.
 * @param ctx        admin or system; borrowed for the call.
 * @param payment_id the payment; borrowed.
 * @return 0, BOOKING_EPAYMENT_NOT_FOUND, BOOKING_EINVALID_STATE (not
 *         SUCCEEDED, its reservation not CONFIRMED, or either changed during the
 *         call), BOOKING_EFORBIDDEN (not admin), BOOKING_EUNAUTHORIZED,
 *         BOOKING_EVALIDATION (NULL `bk`, a bad ctx), BOOKING_EEXTERNAL /
 *         BOOKING_EUNAVAILABLE (the gateway or the store failed: retry),
 *         BOOKING_ENOMEM, store errors.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_payment_refund(booking_payment **out, booking_handle *bk, const booking_ctx *ctx,
                                           const char *payment_id);

/**
 * Resolve payments left PROCESSING by an interrupted booking_pay() (a crash,
 * a gateway timeout, a lost reply) that are older than `min_age_ms`: ask
 * the gateway about each, then confirm, fail, or refund a charge whose seats
 * are gone. System or admin. At most 256 payments per call; a payment the
 * gateway still cannot answer for is left for a later call.
 * @param resolved_out set to how many were resolved; may be NULL. After a
 *                     failure, how many were resolved before it.
 * @param bk           the handle; borrowed.
 * @param ctx          admin or system (booking_ctx_system()); borrowed for the call.
 * @param min_age_ms   only payments started at least this long ago (negative: 0).
 * @return 0, BOOKING_EFORBIDDEN, BOOKING_EUNAUTHORIZED, BOOKING_EVALIDATION
 *         (NULL `bk`, a bad ctx), BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe: recoverers on many threads or hosts may run at once.
 */
BOOKING_EXTERN(booking_error_code) booking_payment_recover(size_t *resolved_out, booking_handle *bk, const booking_ctx *ctx,
                                            int64_t min_age_ms);

/**
 * Free a payment: one from booking_pay(), booking_payment_get(),
 * booking_payment_refund() or booking_payment_copy().
 * @param p the record, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a record no other thread uses.
 */
BOOKING_EXTERN(void) booking_payment_free(booking_payment *p);

/**
 * Make a payment key file for the option payment_key_file: 32 random bytes
 * as 64 hex digits and a newline, created with mode 0600 (never over an
 * existing file). Keep it out of the database and out of backups of it;
 * give every process that pays against one store the same file.
 * @param path the file to create; borrowed.
 * @return 0, BOOKING_EEXISTS, BOOKING_EVALIDATION (NULL or unusable path),
 *         BOOKING_EINTERNAL (I/O, the message names the file; or libsodium
 *         failed to initialise).
 * Thread-safe; needs no handle.
 */
BOOKING_EXTERN(booking_error_code) booking_payment_key_generate_file(const char *path);

BOOKING_END_DECL

#endif
