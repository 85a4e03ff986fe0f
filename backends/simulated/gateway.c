/*
 * libbooking — the `simulated:` payment gateway, driven by test cards:
 *
 *   4000000000000002  declined, card_declined
 *   4000000000009995  declined, insufficient_funds
 *   4000000000000119  times out before charging: BOOKING_EEXTERNAL, nothing recorded
 *   4000000000000259  charges, then the reply is lost: BOOKING_EEXTERNAL, the
 *                     charge is recorded once; every later charge with the key
 *                     loses its reply too (never charging again), so only
 *                     lookup() learns the outcome — the case recovery exists for
 *   anything else     succeeds (4242424242424242 is the usual one)
 *
 * Charges are idempotent per key: a repeated key returns the first recorded
 * result (same charge id), declines included, and never charges twice.
 * Refunds are idempotent per key and may not exceed what is left of the
 * charge. State lives in the object, behind one mutex.
 *
 * SPDX-License-Identifier: MIT
 */
#include "backends.h"
#include "memory/strmap.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CARD_DECLINED "4000000000000002"
#define CARD_INSUFFICIENT "4000000000009995"
#define CARD_TIMEOUT "4000000000000119"
#define CARD_REPLY_LOST "4000000000000259"

/* A recorded charge; its idempotency key lives in the same block. */
typedef struct sim_charge {
	booking_charge_result result;
	int64_t amount;
	int64_t refunded;
	bool reply_lost; /* made with the lost-reply card: every charge answer for the key is lost */
	char key[];
} sim_charge;

typedef struct sim_gateway {
	booking_payment_gateway parent;
	pthread_mutex_t mu;
	booking__strmap by_key;       /* idempotency key → sim_charge (owns it) */
	booking__strmap by_charge_id; /* charge id → sim_charge */
	booking__strmap refund_keys;  /* refund idempotency key → the key itself (owns the block) */
	uint64_t next_charge;
} sim_gateway;

/* The card number's digits (spaces and dashes dropped) into buf. */
static void card_digits(char *buf, size_t size, const char *card)
{
	size_t n = 0;
	for (const char *c = card ? card : ""; *c && n + 1 < size; c++)
		if (*c >= '0' && *c <= '9')
			buf[n++] = *c;
	buf[n] = '\0';
}

static int gw_charge_locked(sim_gateway *gw, const booking_charge_request *req, const char *card,
                            booking_charge_result *out)
{
	const sim_charge *seen = booking__strmap_get(&gw->by_key, req->idempotency_key, NULL);
	if (seen) {
		if (seen->reply_lost)
			return booking_error_set(BOOKING_EEXTERNAL, NULL, "gateway reply lost");
		*out = seen->result;
		return 0;
	}
	if (strcmp(card, CARD_TIMEOUT) == 0)
		return booking_error_set(BOOKING_EEXTERNAL, NULL, "gateway timeout");

	size_t kl = strlen(req->idempotency_key);
	sim_charge *c = booking_calloc(1, sizeof *c + kl + 1);
	if (!c || booking__strmap_reserve(&gw->by_key, 1) < 0 || booking__strmap_reserve(&gw->by_charge_id, 1) < 0) {
		booking_free(c);
		return booking_error_oom();
	}
	memcpy(c->key, req->idempotency_key, kl + 1);
	c->amount = req->amount;
	snprintf(c->result.charge_id, sizeof c->result.charge_id, "ch_sim_%llu",
	         (unsigned long long)++gw->next_charge);
	const char *decline = strcmp(card, CARD_DECLINED) == 0       ? "card_declined"
	                      : strcmp(card, CARD_INSUFFICIENT) == 0 ? "insufficient_funds"
	                                                             : NULL;
	c->result.status = decline ? BOOKING_CHARGE_DECLINED : BOOKING_CHARGE_SUCCEEDED;
	if (decline)
		snprintf(c->result.decline_code, sizeof c->result.decline_code, "%s", decline);
	c->reply_lost = strcmp(card, CARD_REPLY_LOST) == 0;
	booking__strmap_put(&gw->by_key, c->key, c);
	booking__strmap_put(&gw->by_charge_id, c->result.charge_id, c);

	if (c->reply_lost)
		return booking_error_set(BOOKING_EEXTERNAL, NULL, "gateway reply lost");
	*out = c->result;
	return 0;
}

static int gw_charge(booking_charge_result *out, booking_payment_gateway *base, const booking_charge_request *req)
{
	sim_gateway *gw = (sim_gateway *)base;
	if (!req || !out || !req->idempotency_key || !*req->idempotency_key)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "gateway: an idempotency key is required");
	if (req->amount < 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "gateway: negative amount");
	char card[32];
	card_digits(card, sizeof card, req->card_number);
	pthread_mutex_lock(&gw->mu);
	int rc = gw_charge_locked(gw, req, card, out);
	pthread_mutex_unlock(&gw->mu);
	return rc;
}

static int gw_refund_locked(sim_gateway *gw, const char *charge_id, int64_t amount, const char *key)
{
	if (booking__strmap_get(&gw->refund_keys, key, NULL))
		return 0; /* a retry of a refund already made */
	sim_charge *c = booking__strmap_get(&gw->by_charge_id, charge_id, NULL);
	if (!c)
		return booking_error_set(BOOKING_ENOTFOUND, NULL, "gateway: no charge %s", charge_id);
	if (c->result.status != BOOKING_CHARGE_SUCCEEDED)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "gateway: charge %s was declined", charge_id);
	if (amount <= 0 || amount > c->amount - c->refunded)
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "gateway: refund of %lld exceeds the %lld left of charge %s", (long long)amount,
		                         (long long)(c->amount - c->refunded), charge_id);
	char *k = booking_strdup(key);
	if (!k || booking__strmap_reserve(&gw->refund_keys, 1) < 0) {
		booking_free(k);
		return booking_error_oom();
	}
	booking__strmap_put(&gw->refund_keys, k, k);
	c->refunded += amount;
	return 0;
}

static int gw_refund(booking_payment_gateway *base, const char *charge_id, int64_t amount, const char *key)
{
	sim_gateway *gw = (sim_gateway *)base;
	if (!charge_id || !key || !*key)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "gateway: charge id and idempotency key are required");
	pthread_mutex_lock(&gw->mu);
	int rc = gw_refund_locked(gw, charge_id, amount, key);
	pthread_mutex_unlock(&gw->mu);
	return rc;
}

static int gw_lookup(booking_charge_result *out, booking_payment_gateway *base, const char *key)
{
	sim_gateway *gw = (sim_gateway *)base;
	if (!key || !out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "gateway: an idempotency key is required");
	int rc = 0;
	pthread_mutex_lock(&gw->mu);
	const sim_charge *c = booking__strmap_get(&gw->by_key, key, NULL);
	if (c)
		*out = c->result;
	else
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "gateway: no charge was made with this key");
	pthread_mutex_unlock(&gw->mu);
	return rc;
}

static void gw_free(booking_payment_gateway *base)
{
	sim_gateway *gw = (sim_gateway *)base;
	if (!gw)
		return;
	booking__strmap_free_all(&gw->by_key);
	booking__strmap_clear(&gw->by_charge_id);
	booking__strmap_free_all(&gw->refund_keys);
	pthread_mutex_destroy(&gw->mu);
	booking_free(gw);
}

int booking__simulated_gateway_new(booking_payment_gateway **out)
{
	sim_gateway *gw = booking_calloc(1, sizeof *gw);
	if (!gw)
		return booking_error_oom();
	if (pthread_mutex_init(&gw->mu, NULL) != 0) {
		booking_free(gw);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "gateway: cannot create a mutex");
	}
	gw->parent.version = BOOKING_PAYMENT_GATEWAY_VERSION;
	gw->parent.free = gw_free;
	gw->parent.charge = gw_charge;
	gw->parent.refund = gw_refund;
	gw->parent.lookup = gw_lookup;
	*out = &gw->parent;
	return 0;
}
