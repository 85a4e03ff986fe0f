/*
 * libbooking backend API — the payment gateway.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_GATEWAY_H
#define BOOKING_SYS_GATEWAY_H

#include "../common.h"
#include "../errors.h"
#include "../options.h"

BOOKING_BEGIN_DECL

/**
 * 2 put the outputs first in charge() and lookup(), in place (the result,
 * then the gateway, then the inputs, as the public calls). A gateway must
 * declare 2: the core refuses one built against an older header (its
 * members would be called with the wrong arguments).
 */
#define BOOKING_PAYMENT_GATEWAY_VERSION 2

/** What a gateway's charge() is asked; every string borrowed for the call. */
typedef struct booking_charge_request {
	const char *idempotency_key; /**< the same key twice charges once (the payment id) */
	int64_t amount;              /**< minor units */
	const char *currency;
	const char *card_number;     /**< digits only */
	const char *description;
} booking_charge_request;

/** How a charge ended, when the gateway answered. */
typedef enum booking_charge_status {
	BOOKING_CHARGE_SUCCEEDED = 1,
	BOOKING_CHARGE_DECLINED = 2
} booking_charge_status;

/**
 * The stable name of a charge status: the constant without its prefix ("DECLINED").
 * @param status a booking_charge_status; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_charge_status_name(booking_charge_status status);

/** What a gateway's charge() or lookup() answers; the caller's struct, filled by the gateway. */
typedef struct booking_charge_result {
	booking_charge_status status;
	char charge_id[64];
	char decline_code[64];   /**< DECLINED: "card_declined", "insufficient_funds", ... */
} booking_charge_result;

/**
 * A payment gateway. Every member is called from many threads at once. A
 * member's outputs come first, then the gateway, then its inputs.
 */
struct booking_payment_gateway {
	unsigned int version; /**< BOOKING_PAYMENT_GATEWAY_VERSION */

	/** required */
	void (*free)(booking_payment_gateway *gw);

	/**
	 * required: charge, idempotently by key (a retry with the key returns
	 * the first outcome). 0 with `out` filled (succeeded or declined);
	 * BOOKING_EEXTERNAL or BOOKING_EUNAVAILABLE when the outcome is unknown
	 * (timeout, lost reply): lookup() resolves it later.
	 */
	int (*charge)(booking_charge_result *out, booking_payment_gateway *gw, const booking_charge_request *req);

	/** required: refund a charge in full, idempotently by key. 0 or an error. */
	int (*refund)(booking_payment_gateway *gw, const char *charge_id, int64_t amount, const char *idempotency_key);

	/**
	 * required: the outcome of the charge made with `idempotency_key`:
	 * 0 with `out`, BOOKING_ENOTFOUND when no charge was made, or an error.
	 */
	int (*lookup)(booking_charge_result *out, booking_payment_gateway *gw, const char *idempotency_key);
};

/**
 * Open a gateway by URL: "simulated:" or a scheme registered with
 * booking_backend_register() (sys/registry.h). Caller owns the result (free
 * member). "simulated:" is an in-process gateway driven by test card numbers:
 *   4242424242424242  succeeds (so does any other Luhn-valid number)
 *   4000000000000002  declined, card_declined
 *   4000000000009995  declined, insufficient_funds
 *   4000000000000119  times out before charging (outcome: not charged)
 *   4000000000000259  charges, then every reply for that key is lost (outcome: charged;
 *                     lookup() finds it, so booking_payment_recover() confirms it)
 * @param out set to the object (caller owns; free it with its `free`
 *            member); NULL after a failure.
 * @param url the gateway's URL; borrowed for the call.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `url`, unknown scheme, bad
 *         URL, an invalid gateway), BOOKING_EINTERNAL (a constructor
 *         answered 0 and no object), BOOKING_ENOMEM, or what the scheme's
 *         constructor answered.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_payment_gateway_open(booking_payment_gateway **out, const char *url);

BOOKING_END_DECL

#endif
