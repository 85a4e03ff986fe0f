/*
 * Payments: Stripe-style idempotency keys, the PENDING → PAYMENT_PROCESSING
 * → CONFIRMED saga, decline policy, refunds, recovery of interrupted payments.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void booking_payment_free(booking_payment *p)
{
	booking_free(p);
}

/* ---------- input ---------- */

static int check_key(const char *key)
{
	if (!key || !*key)
		return booking__error_field("idempotency_key", "is required");
	size_t len = strnlen(key, 256);
	if (len > 255)
		return booking__error_field("idempotency_key", "must be 1..255 characters");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)key[i] < 0x20 || (unsigned char)key[i] > 0x7e)
			return booking__error_field("idempotency_key", "must be printable ASCII");
	return 0;
}

/* Digits of the card (spaces dropped), Luhn-checked. Never logged. */
static int check_card(const char *card, char digits[20])
{
	size_t n = 0;
	if (!card)
		return booking__error_field("card_number", "is required");
	for (const char *p = card; *p; p++) {
		if (*p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n >= 19)
			return booking__error_field("card_number", "must be 13..19 digits");
		digits[n++] = *p;
	}
	digits[n] = '\0';
	if (n < 13)
		return booking__error_field("card_number", "must be 13..19 digits");
	int sum = 0;
	for (size_t i = 0; i < n; i++) {
		int d = digits[n - 1 - i] - '0';
		if (i % 2 == 1 && (d *= 2) > 9)
			d -= 9;
		sum += d;
	}
	if (sum % 10 != 0)
		return booking__error_field("card_number", "fails the Luhn check");
	return 0;
}

/* ---------- the payment key ---------- */

static int key_file_error(const char *path, const char *reason, const char *msg)
{
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:s}", "field", "payment_key_file", "file", path, "reason", reason),
	                           "payment_key_file: %s: %s", path, msg);
}

/*
 * Load the secret that keys request fingerprints: 64 hex digits in a file
 * nobody but its owner (this user or root) may read or write, in a
 * directory nobody else may write (the checks of the token keys: jwk.c).
 */
int booking__payment_open(booking_handle *bk)
{
	const char *path = bk->cfg.payment_key_file;
	if (!path)
		return 0;
	char *text = NULL;
	size_t len = 0;
	int rc = booking__read_key_file(&text, &len, path, BOOKING__KEY_PAYMENT);
	if (rc < 0)
		return rc;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	size_t bin_len = 0;
	bool ok = len == 2 * sizeof(bk->payment_key) &&
	          sodium_hex2bin(bk->payment_key, sizeof(bk->payment_key), text, len, NULL, &bin_len, NULL) == 0 &&
	          bin_len == sizeof(bk->payment_key);
	sodium_memzero(text, len);
	booking_free(text);
	if (!ok) {
		sodium_memzero(bk->payment_key, sizeof(bk->payment_key));
		return key_file_error(path, "format", "must hold 64 hex digits (32 random bytes)");
	}
	bk->has_payment_key = true;
	return 0;
}

booking_error_code booking_payment_key_generate_file(const char *path)
{
	if (!path || !*path)
		return booking__error_field("path", "is required");
	if (sodium_init() < 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "libsodium failed to initialise");
	unsigned char key[32];
	char hex[2 * sizeof(key) + 2];
	randombytes_buf(key, sizeof(key));
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	size_t len = strlen(hex);
	hex[len++] = '\n';
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		sodium_memzero(hex, sizeof(hex));
		return e == EEXIST ? booking_error_set(BOOKING_EEXISTS, NULL, "%s exists: not overwritten", path)
		                   : booking_error_set(BOOKING_EINTERNAL, NULL, "cannot create %s: %s", path, strerror(e));
	}
	bool ok = fchmod(fd, 0600) == 0 && write(fd, hex, len) == (ssize_t)len && fsync(fd) == 0;
	int e = errno;
	sodium_memzero(hex, sizeof(hex));
	if (close(fd) != 0 || !ok) {
		unlink(path);
		return booking_error_set(BOOKING_EINTERNAL, NULL, "cannot write %s: %s", path, strerror(e));
	}
	return 0;
}

/*
 * What makes two requests "the same": the reservation and the card. Keyed
 * (HMAC-SHA256 under the payment key, which is not in the database), so the
 * stored fingerprint cannot be brute-forced back into a card number from
 * the reservation id and the last four digits beside it. "hmac-sha256:" + hex.
 */
#define REQUEST_HASH_PREFIX "hmac-sha256:"
#define REQUEST_HASH_SIZE (sizeof(REQUEST_HASH_PREFIX) - 1 + (size_t)2 * crypto_auth_hmacsha256_BYTES + 1)

static void request_hash(const booking_handle *bk, char out[REQUEST_HASH_SIZE], const char *reservation_id, const char *card_digits)
{
	unsigned char h[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, bk->payment_key, sizeof(bk->payment_key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)reservation_id, strlen(reservation_id));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)card_digits, strlen(card_digits));
	crypto_auth_hmacsha256_final(&st, h);
	sodium_memzero(&st, sizeof(st));
	memcpy(out, REQUEST_HASH_PREFIX, sizeof(REQUEST_HASH_PREFIX) - 1);
	sodium_bin2hex(out + sizeof(REQUEST_HASH_PREFIX) - 1, 2 * sizeof(h) + 1, h, sizeof(h));
}

/* ---------- finishing ---------- */

/* How a payment ends. */
typedef enum pay_outcome {
	PAY_OUTCOME_SUCCEEDED = 1, /* the charge succeeded: confirm, if the reservation still holds its seats */
	PAY_OUTCOME_DECLINED = 2,  /* the gateway said no, or never charged */
	PAY_OUTCOME_REFUNDED = 3   /* charged after the seats were lost, and refunded */
} pay_outcome;

/* Error for a payment that ended with `code`, carrying its ids. */
static int payment_error(int code, const booking_payment *p)
{
	json_t *d = json_pack("{s:s,s:s}", "payment_id", p->id, "reservation_id", p->reservation_id);
	if (d && p->failure_code[0])
		json_object_set_new(d, code == BOOKING_EPAYMENT_DECLINED ? "decline_code" : "reason",
		                    json_string(p->failure_code));
	switch (code) {
	case BOOKING_EPAYMENT_DECLINED:
		return booking__error_json(code, d, "the payment was declined (%s)", p->failure_code);
	case BOOKING_EEXPIRED:
		return booking__error_json(code, d, "the hold expired before the payment completed; the charge was refunded");
	default:
		return booking__error_json(code, d, "the payment could not be completed; nothing was charged");
	}
}

/* Append the events of an outcome. Returns count or <0. */
static int outcome_events(booking__event *evs, booking_handle *bk, const booking_ctx *ctx, const booking_payment *p,
                          const booking_reservation *b, pay_outcome outcome)
{
	booking_payment pa = *p;
	booking_reservation ba = *b;
	int n = 0, rc = 0;
	switch (outcome) {
	case PAY_OUTCOME_SUCCEEDED:
		pa.status = BOOKING_PAYMENT_SUCCEEDED;
		ba.status = BOOKING_RESERVATION_CONFIRMED;
		if ((rc = booking__event_init(&evs[n], bk, ctx, "payment.completed", "payment", p->id,
		                              booking__payment_event_data(&pa, NULL))) == 0 &&
		    ++n &&
		    (rc = booking__event_init_text(&evs[n], bk, ctx, "reservation.confirmed", "reservation", b->id,
		                              booking__reservation_event_text(&ba, NULL))) == 0)
			n++;
		break;
	case PAY_OUTCOME_DECLINED:
		pa.status = BOOKING_PAYMENT_FAILED;
		if ((rc = booking__event_init(&evs[n], bk, ctx, "payment.failed", "payment", p->id,
		                              booking__payment_event_data(&pa, p->failure_code))) == 0)
			n++;
		if (rc == 0 && bk->cfg.decline_policy == BOOKING_DECLINE_RELEASE && b->status == BOOKING_RESERVATION_PAYMENT_PROCESSING) {
			ba.status = BOOKING_RESERVATION_CANCELLED;
			if ((rc = booking__event_init_text(&evs[n], bk, ctx, "reservation.cancelled", "reservation", b->id,
			                              booking__reservation_event_text(&ba, "payment failed"))) == 0)
				n++;
		}
		break;
	case PAY_OUTCOME_REFUNDED:
		pa.status = BOOKING_PAYMENT_SUCCEEDED;
		if ((rc = booking__event_init(&evs[n], bk, ctx, "payment.completed", "payment", p->id,
		                              booking__payment_event_data(&pa, NULL))) == 0)
			n++;
		pa.status = BOOKING_PAYMENT_REFUNDED;
		if (rc == 0 && (rc = booking__event_init(&evs[n], bk, ctx, "payment.refunded", "payment", p->id,
		                                         booking__payment_event_data(&pa, "seats lost before the charge landed"))) == 0)
			n++;
		ba.status = BOOKING_RESERVATION_EXPIRED;
		if (rc == 0 && b->status == BOOKING_RESERVATION_PAYMENT_PROCESSING &&
		    (rc = booking__event_init_text(&evs[n], bk, ctx, "reservation.expired", "reservation", b->id,
		                              booking__reservation_event_text(&ba, "hold expired during payment"))) == 0)
			n++;
		break;
	}
	if (rc < 0) {
		for (int i = 0; i < n; i++)
			booking__event_clear(&evs[i]);
		return rc;
	}
	return n;
}

/* How often a change is decided again when the reservation moved under it, before giving up. */
#define FINISH_ATTEMPTS 8

/*
 * The payment's outcome as one change, decided here: what the reservation, its
 * seats, the payment and its idempotency record become (the rules of the
 * saga), guarded by what the decision saw — the payment still PROCESSING,
 * the reservation at its version and, to confirm, every seat still held by it.
 */
static void outcome_change(booking_store_change *c, booking_store_guard g[3], booking_store_reservation_set *set,
                           booking_store_seat_move *seats, booking_store_payment_set *pay,
                           booking_store_idempotency_set *idem, const booking_handle *bk, const booking_payment *p,
                           const booking_reservation *b, pay_outcome outcome, const char *gateway_ref,
                           const char *failure_code, int replay_error, int64_t now)
{
	memset(c, 0, sizeof(*c));
	g[0] = (booking_store_guard){BOOKING_GUARD_PAYMENT_STATUS, p->id, BOOKING_PAYMENT_PROCESSING, NULL};
	g[1] = (booking_store_guard){BOOKING_GUARD_RESERVATION_VERSION, b->id, b->version, NULL};
	c->guards = g;
	c->guard_count = 2;
	*pay = (booking_store_payment_set){p->id, BOOKING_PAYMENT_SUCCEEDED, gateway_ref, NULL, -1, now};
	*idem = (booking_store_idempotency_set){p->id, replay_error};
	c->payment = pay;
	c->idempotency = idem;
	bool processing = b->status == BOOKING_RESERVATION_PAYMENT_PROCESSING;
	switch (outcome) {
	case PAY_OUTCOME_SUCCEEDED:
		g[2] = (booking_store_guard){BOOKING_GUARD_SEATS_OWNED, b->id, BOOKING_SEAT_HELD, NULL};
		c->guard_count = 3;
		*seats = (booking_store_seat_move){b->id, BOOKING_SEAT_HELD, BOOKING_SEAT_SOLD, 0};
		*set = (booking_store_reservation_set){.id = b->id, .status = BOOKING_RESERVATION_CONFIRMED, .saga = BOOKING_SAGA_CONFIRMED, .updated_at = now};
		c->seats = seats;
		c->reservation = set;
		idem->replay_error = 0;
		break;
	case PAY_OUTCOME_DECLINED:
		pay->status = BOOKING_PAYMENT_FAILED;
		pay->failure_code = failure_code ? failure_code : "";
		if (!processing)
			break;
		if (bk->cfg.decline_policy == BOOKING_DECLINE_RELEASE) {
			*seats = (booking_store_seat_move){b->id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
			*set = (booking_store_reservation_set){.id = b->id, .status = BOOKING_RESERVATION_CANCELLED, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = now};
		} else { /* the hold goes on until its own expiry */
			*seats = (booking_store_seat_move){b->id, BOOKING_SEAT_HELD, BOOKING_SEAT_HELD, b->expires_at};
			*set = (booking_store_reservation_set){.id = b->id, .status = BOOKING_RESERVATION_PENDING, .saga = BOOKING_SAGA_SEATS_RESERVED, .updated_at = now};
		}
		c->seats = seats;
		c->reservation = set;
		break;
	case PAY_OUTCOME_REFUNDED:
		pay->status = BOOKING_PAYMENT_REFUNDED;
		pay->failure_code = failure_code ? failure_code : "";
		pay->refunded_amount = p->amount;
		*seats = (booking_store_seat_move){b->id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
		c->seats = seats;
		if (processing) {
			*set = (booking_store_reservation_set){.id = b->id, .status = BOOKING_RESERVATION_EXPIRED, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = now};
			c->reservation = set;
		}
		break;
	}
}

/*
 * Record the outcome of a payment. 0; BOOKING_EEXPIRED when a charge
 * succeeded but the reservation no longer holds its seats (the caller refunds);
 * BOOKING_EINVALID_STATE when the payment was finished by someone else.
 */
static int finish_run(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p, pay_outcome outcome,
                      const char *gateway_ref, const char *failure_code, int replay_error);

static int finish(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p, pay_outcome outcome,
                  const char *gateway_ref, const char *failure_code, int replay_error)
{
	/*
	 * What the gateway did is recorded even when the caller has given up:
	 * its deadline does not apply to the reads and the change of finishing.
	 */
	booking__scope *sc = booking__scope_current(bk);
	int64_t deadline = sc ? sc->deadline_ms : 0;
	if (sc)
		sc->deadline_ms = 0;
	int rc = finish_run(bk, ctx, p, outcome, gateway_ref, failure_code, replay_error);
	if (sc)
		sc->deadline_ms = deadline;
	return rc;
}

static int finish_run(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p, pay_outcome outcome,
                      const char *gateway_ref, const char *failure_code, int replay_error)
{
	int rc = 0;
	for (int attempt = 0; attempt < FINISH_ATTEMPTS; attempt++) {
		booking_reservation *b = NULL;
		if ((rc = booking__reservation_read(bk, p->reservation_id, &b)) < 0)
			return rc;
		if (outcome == PAY_OUTCOME_SUCCEEDED && b->status != BOOKING_RESERVATION_PAYMENT_PROCESSING) {
			/*
			 * Another finisher may have recorded this very payment (the reservation
			 * CONFIRMED by it): that is no lost hold to refund. Only a payment
			 * still PROCESSING whose reservation moved on has lost its seats.
			 */
			booking_payment *now_p = NULL;
			if ((rc = bk->store->ledger->payment_get(&now_p, bk->store, p->id)) < 0) {
				booking_reservation_free(b);
				return rc;
			}
			bool processing = now_p->status == BOOKING_PAYMENT_PROCESSING;
			booking_payment_free(now_p);
			rc = processing ? booking_error_set(BOOKING_EEXPIRED, NULL, "reservation %s no longer holds its seats", b->id)
			                : booking_error_set(BOOKING_EINVALID_STATE, NULL, "payment %s is not PROCESSING", p->id);
			booking_reservation_free(b);
			return rc;
		}
		booking_payment pc = *p;
		booking__copy(pc.gateway_ref, sizeof(pc.gateway_ref), gateway_ref);
		booking__copy(pc.failure_code, sizeof(pc.failure_code), failure_code);
		booking__event evs[3];
		int n = outcome_events(evs, bk, ctx, &pc, b, outcome);
		if (n < 0) {
			booking_reservation_free(b);
			return n;
		}
		booking_event_record recs[3];
		for (int i = 0; i < n; i++)
			recs[i] = evs[i].rec;
		booking_store_change c;
		booking_store_guard g[3];
		booking_store_reservation_set set;
		booking_store_seat_move seats;
		booking_store_payment_set pay;
		booking_store_idempotency_set idem;
		outcome_change(&c, g, &set, &seats, &pay, &idem, bk, p, b, outcome, gateway_ref ? gateway_ref : "",
		               failure_code, replay_error, booking__now(bk));
		c.event_count = (size_t)n;
		c.events = recs;
		size_t failed = SIZE_MAX;
		rc = bk->store->ledger->apply(&failed, bk->store, &c);
		for (int i = 0; i < n; i++)
			booking__event_clear(&evs[i]);
		char bid[BOOKING_ID_SIZE], sid[BOOKING_ID_SIZE];
		booking__copy(bid, sizeof(bid), b->id);
		booking__copy(sid, sizeof(sid), b->showtime_id);
		bool freed = rc == 0 && c.seats && c.seats->to == BOOKING_SEAT_FREE;
		if (freed) /* the hold's seats are free before its expiry: so are their keys */
			booking__marks_drop_all(bk, ctx, b);
		else if (rc == 0 && c.seats && c.seats->to == BOOKING_SEAT_SOLD) /* past the payment's window */
			booking__marks_sold(bk, ctx, b);
		booking_reservation_free(b);
		if (freed) /* seats came back: the waiting list's turn */
			booking__waitlist_returned(bk, sid);
		if (rc != BOOKING_EINVALID_STATE || failed == SIZE_MAX)
			return rc;
		if (failed == 0)
			return booking_error_set(BOOKING_EINVALID_STATE, NULL, "payment %s is not PROCESSING", p->id);
		if (failed == 2)
			return booking_error_set(BOOKING_EEXPIRED, NULL, "reservation %s no longer holds its seats", bid);
		/* the reservation moved: decide again */
	}
	return booking_error_set(BOOKING_ELOCK_FAILED, NULL, "the reservation kept changing; try again");
}

/*
 * A charge succeeded: confirm, or — when the seats were lost meanwhile —
 * refund and record that. Returns 0 (confirmed), BOOKING_EEXPIRED (refunded)
 * or an error (left PROCESSING for recovery).
 */
static int settle_success(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p, const char *charge_id)
{
	int rc = finish(bk, ctx, p, PAY_OUTCOME_SUCCEEDED, charge_id, "", 0);
	if (rc != BOOKING_EEXPIRED)
		return rc;
	char key[64];
	snprintf(key, sizeof(key), "refund:%s", p->id);
	if ((rc = bk->gateway->refund(bk->gateway, charge_id, p->amount, key)) < 0) {
		booking__log(bk, ctx, BOOKING_LOG_ERROR, "refund of an orphaned charge failed; recovery will retry",
		             json_pack("{s:s}", "payment_id", p->id));
		return rc;
	}
	if ((rc = finish(bk, ctx, p, PAY_OUTCOME_REFUNDED, charge_id, "seats_lost", BOOKING_EEXPIRED)) < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_WARNING, "charge landed after the seats were gone; refunded",
	             json_pack("{s:s,s:s}", "payment_id", p->id, "reservation_id", p->reservation_id));
	return BOOKING_EEXPIRED;
}

static int settle_decline(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p, const char *code,
                          int replay_error)
{
	return finish(bk, ctx, p, PAY_OUTCOME_DECLINED, "", code, replay_error);
}

/*
 * Charge. An unknown outcome (timeout, lost reply) is retried with the same
 * key — the gateway charges a key once — by the gateway decorator:
 * gateway_max_retries times, gateway_retry_delay_ms apart, within the ctx
 * deadline and the gateway's circuit breaker (resilient.c).
 */
static int charge(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p, const char *card,
                  booking_charge_result *res)
{
	booking_charge_request req = {p->id, p->amount, p->currency, card, p->reservation_id};
	memset(res, 0, sizeof(*res));
	int rc = bk->gateway->charge(res, bk->gateway, &req);
	if (rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE)
		booking__log(bk, ctx, BOOKING_LOG_WARNING, "payment gateway failed; outcome unknown",
		             json_pack("{s:s,s:s}", "payment_id", p->id, "error", booking_error_last()->message));
	return rc;
}

/* Read back the payment after the saga ended, and answer like the first time. */
static int answer(booking_payment **out, booking_handle *bk, const char *payment_id, int result)
{
	booking_payment *p = NULL;
	int rc = bk->store->ledger->payment_get(&p, bk->store, payment_id);
	if (rc < 0)
		return rc;
	if (result < 0) {
		rc = payment_error(result, p);
		booking_payment_free(p);
		return rc;
	}
	if (out)
		*out = p;
	else
		booking_payment_free(p);
	return 0;
}

/*
 * Card testing: a reservation may fail max_failed_payments_per_reservation payments
 * and a user max_failed_payments_per_user_hour in the last hour; past that,
 * a NEW payment attempt is refused with BOOKING_ERATE_LIMITED (429) before
 * the gateway is called. A retry with a key already used is not an attempt:
 * it goes on to answer what that key answered. Per reservation the limit is
 * exact (a reservation has one payment in flight at a time); per user, racing
 * payments of several reservations may each pass the check before any of them
 * fails, so the count can end above the limit by at most the number of
 * payments the user had in flight at once.
 */
static int check_attempts(booking_handle *bk, const booking_ctx *ctx, const char *reservation_id, const char *key)
{
	int per_booking = bk->cfg.max_failed_payments_per_reservation, per_user = bk->cfg.max_failed_payments_per_user_hour;
	if ((per_booking <= 0 && per_user <= 0))
		return 0;
	int64_t now = booking__now(bk), hour = INT64_C(3600) * 1000;
	booking_store_payment_attempts a;
	memset(&a, 0, sizeof(a));
	int rc = bk->store->ledger->payment_attempts(&a, bk->store, ctx->user_id, key, reservation_id, BOOKING_PAYMENT_FAILED,
	                                             now - hour);
	if (rc < 0 || a.key_used)
		return rc;
	const char *limit = NULL;
	int max = 0, retry_after = 0;
	if (per_booking > 0 && a.reservation_count >= (size_t)per_booking) {
		limit = "max_failed_payments_per_reservation";
		max = per_booking;
		retry_after = -1; /* this reservation takes no more attempts */
	} else if (per_user > 0 && a.user_count >= (size_t)per_user) {
		limit = "max_failed_payments_per_user_hour";
		max = per_user;
		retry_after = 3600; /* an upper bound: the oldest failure of the hour leaves the window by then */
	}
	if (!limit)
		return 0;
	booking__log(bk, ctx, BOOKING_LOG_WARNING, "payment attempt refused: too many failed payments",
	             json_pack("{s:s,s:s,s:i}", "reservation_id", reservation_id, "limit", limit, "max", max));
	json_t *d = json_pack("{s:s,s:i,s:s}", "limit", limit, "max", max, "reservation_id", reservation_id);
	if (d && retry_after > 0)
		json_object_set_new(d, "retry_after_seconds", json_integer(retry_after));
	return booking__error_json(BOOKING_ERATE_LIMITED, d, "too many failed payments (%s = %d)%s", limit, max,
	                           retry_after > 0 ? "; try again later" : "; this reservation takes no more payment attempts");
}

/*
 * A replay of a payment that succeeded answers 0 only while that is still
 * true: the payment SUCCEEDED and its reservation CONFIRMED. When either
 * changed since (a refund, a cancellation), the replay answers
 * BOOKING_EINVALID_STATE with {"replayed":true} and both states, so 0
 * always means "this reservation is paid and confirmed now".
 */
static int replay_still_paid(booking_handle *bk, const booking_payment *p)
{
	booking_reservation *b = NULL;
	int rc = booking__reservation_read(bk, p->reservation_id, &b);
	if (rc < 0)
		return rc;
	booking_reservation_status bs = b->status;
	booking_reservation_free(b);
	if (p->status == BOOKING_PAYMENT_SUCCEEDED && bs == BOOKING_RESERVATION_CONFIRMED)
		return 0;
	return booking__error_json(BOOKING_EINVALID_STATE,
	                           json_pack("{s:b,s:s,s:s,s:s,s:s}", "replayed", 1, "payment_id", p->id, "reservation_id",
	                                     p->reservation_id, "payment_status", booking_payment_status_name(p->status),
	                                     "booking_reservation_status", booking_reservation_status_name(bs)),
	                           "this idempotency key paid for the reservation, but it has changed since: payment %s, "
	                           "reservation %s",
	                           booking_payment_status_name(p->status), booking_reservation_status_name(bs));
}

/*
 * Why a reservation cannot be paid, from what is stored, so the answer does not
 * depend on whether the expiry sweep ran: a hold whose time is up is
 * RESERVATION_EXPIRED (410) whether it is still PENDING or already EXPIRED; any
 * other state than a live PENDING hold is BOOKING_EINVALID_STATE (409)
 * naming it. 0 when it can be paid.
 */
static int payable(const booking_reservation *b, int64_t now)
{
	booking_reservation_status s = b->status;
	if (s == BOOKING_RESERVATION_PENDING && b->expires_at > now)
		return 0;
	if (s == BOOKING_RESERVATION_EXPIRED || s == BOOKING_RESERVATION_PENDING)
		return booking__error_json(BOOKING_EEXPIRED, json_pack("{s:s}", "reservation_id", b->id), "the hold has expired");
	return booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s,s:s}", "reservation_id", b->id, "status",
	                                                             booking_reservation_status_name(s)),
	                           "%s %s reservation cannot be paid", booking__article(booking_reservation_status_name(s)),
	                           booking_reservation_status_name(s));
}

typedef enum begin_kind { BEGIN_STARTED = 1, BEGIN_REPLAY = 2 } begin_kind;

/*
 * Start a payment, decided here. A key used before answers for that use:
 * another request → IDEMPOTENCY_KEY_REUSED, still running →
 * PAYMENT_IN_PROGRESS, else a replay of the stored payment and what it
 * answered. A new key may pay only the user's own live PENDING hold. The
 * change: the payment and its key, the reservation PAYMENT_PROCESSING, its seats
 * held through the payment window — guarded by the reservation's version and
 * the key still unused; when either moved, read and decide again. `first`
 * is the caller's read of the reservation (taken over, freed), used the first time.
 */
static int begin(booking_handle *bk, const booking_ctx *ctx, booking_reservation *first, const booking_payment *p,
                 const char *key, const char *hash, int64_t hold_until, begin_kind *kind, booking_payment **replayed,
                 int *replay_error)
{
	for (int attempt = 0; attempt < FINISH_ATTEMPTS; attempt++) {
		/*
		 * The reservation first, then the key: a start writes both at once, so a
		 * reservation seen changed by a twin request implies its key is seen too.
		 */
		booking_reservation *b = first;
		first = NULL;
		int rc = b ? 0 : booking__reservation_read(bk, p->reservation_id, &b);
		if (rc < 0)
			return rc;
		booking_store_idempotency_record rec;
		memset(&rec, 0, sizeof(rec));
		rc = bk->store->ledger->idempotency_get(&rec, bk->store, ctx->user_id, key);
		if (rc == 0)
			booking_reservation_free(b);
		if (rc == 0) {
			if (strcmp(rec.request_hash, hash) != 0)
				return booking_error_set(BOOKING_EIDEMPOTENCY_KEY_REUSED, NULL,
				                         "the idempotency key was used for a different request");
			if (!rec.completed)
				return booking_error_set(BOOKING_EPAYMENT_IN_PROGRESS, NULL,
				                         "a payment with this idempotency key is in progress");
			if ((rc = bk->store->ledger->payment_get(replayed, bk->store, rec.payment_id)) < 0)
				return rc;
			*kind = BEGIN_REPLAY;
			*replay_error = rec.replay_error;
			return 0;
		}
		if (rc != BOOKING_ENOTFOUND) {
			booking_reservation_free(b);
			return rc;
		}
		if (strcmp(b->user_id, ctx->user_id) != 0)
			rc = booking_error_set(BOOKING_EFORBIDDEN, NULL, "the reservation belongs to another user");
		else
			rc = payable(b, booking__now(bk));
		if (rc < 0) {
			booking_reservation_free(b);
			return rc;
		}
		booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, b->id, b->version, NULL},
		                            {BOOKING_GUARD_KEY_UNUSED, ctx->user_id, 0, key}};
		booking_store_reservation_set set = {.id = b->id, .status = BOOKING_RESERVATION_PAYMENT_PROCESSING, .saga = BOOKING_SAGA_PAYMENT_PENDING, .updated_at = booking__now(bk)};
		booking_store_seat_move seats = {b->id, BOOKING_SEAT_HELD, BOOKING_SEAT_HELD, hold_until};
		booking_store_payment_start start = {p, ctx->user_id, key, hash};
		booking_store_change change = {.guard_count = 2, .guards = g, .reservation = &set, .seats = &seats, .start = &start};
		size_t failed = SIZE_MAX;
		rc = bk->store->ledger->apply(&failed, bk->store, &change);
		if (rc == 0) /* the seats are held for the payment's window now: no mark may outlast it */
			booking__marks_until(bk, ctx, b, hold_until);
		booking_reservation_free(b);
		if (rc == 0) {
			*kind = BEGIN_STARTED;
			return 0;
		}
		/* the reservation moved, or a twin request took the key meanwhile: decide again */
		if (!((rc == BOOKING_EINVALID_STATE && failed != SIZE_MAX) || rc == BOOKING_EEXISTS))
			return rc;
	}
	return booking_error_set(BOOKING_ELOCK_FAILED, NULL, "the reservation kept changing; try again");
}

static int pay_rate(booking_handle *bk, const booking_ctx *ctx, const char *key)
{
	booking_store_idempotency_record rec;
	memset(&rec, 0, sizeof(rec));
	int rc = bk->store->ledger->idempotency_get(&rec, bk->store, ctx->user_id, key);
	if (rc == 0)
		return 0;
	if (rc != BOOKING_ENOTFOUND)
		return rc;
	booking_error_clear();
	return booking__rate_take(bk, ctx, BOOKING__RATE_PAYMENT, ctx->user_id);
}

static int pay_run(booking_payment **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id,
                const char *idempotency_key, const char *card_number)
{
	if (out)
		*out = NULL;
	int rc;
	char digits[20];
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if ((rc = booking__require_user(ctx)) < 0 || (rc = booking__ctx_deadline(bk, ctx)) < 0 ||
	    (rc = check_key(idempotency_key)) < 0 || (rc = check_card(card_number, digits)) < 0)
		return rc;
	if (!bk->has_payment_key) {
		sodium_memzero(digits, sizeof(digits));
		return booking__error_json(BOOKING_ENOTSUPPORTED, json_pack("{s:s}", "field", "payment_key_file"),
		                           "this handle takes no payments: set payment_key_file (the secret that keys "
		                           "payment fingerprints; it has no default)");
	}
	if (booking__check_id("reservation_id", reservation_id) < 0)
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	booking_reservation *b = NULL;
	if ((rc = booking__reservation_read(bk, reservation_id, &b)) < 0)
		return rc;
	/* another's reservation: begin() refuses it (FORBIDDEN) without saying how it was paid for */
	if (strcmp(b->user_id, ctx->user_id) == 0 && (rc = check_attempts(bk, ctx, reservation_id, idempotency_key)) < 0) {
		sodium_memzero(digits, sizeof(digits));
		booking_reservation_free(b);
		return rc;
	}
	/* the payment rate limit counts new attempts: a replay of a used key is free */
	if (bk->cfg.rate_payments_per_minute && (rc = pay_rate(bk, ctx, idempotency_key)) < 0) {
		sodium_memzero(digits, sizeof(digits));
		booking_reservation_free(b);
		return rc;
	}
	int64_t now = booking__now(bk);
	booking_payment p = {0};
	booking_uuid_v7(p.id, now);
	booking__copy(p.reservation_id, sizeof(p.reservation_id), reservation_id);
	booking__copy(p.user_id, sizeof(p.user_id), ctx->user_id);
	p.status = BOOKING_PAYMENT_PROCESSING;
	p.amount = b->total_amount;
	booking__copy(p.currency, sizeof(p.currency), b->currency);
	booking__copy(p.card_last4, sizeof(p.card_last4), digits + strlen(digits) - 4);
	p.created_at = p.updated_at = now;

	char hash[REQUEST_HASH_SIZE];
	request_hash(bk, hash, reservation_id, digits);
	begin_kind kind = BEGIN_STARTED;
	booking_payment *replayed = NULL;
	int replay_error = 0;
	if ((rc = begin(bk, ctx, b, &p, idempotency_key, hash, now + (int64_t)bk->cfg.payment_window_seconds * 1000, &kind,
	                &replayed, &replay_error)) < 0) {
		sodium_memzero(digits, sizeof(digits));
		return rc;
	}
	if (kind == BEGIN_REPLAY) {
		sodium_memzero(digits, sizeof(digits));
		booking__log(bk, ctx, BOOKING_LOG_INFO, "payment replayed",
		             json_pack("{s:s,s:s}", "payment_id", replayed->id, "reservation_id", reservation_id));
		rc = replay_error < 0 ? payment_error(replay_error, replayed) : replay_still_paid(bk, replayed);
		if (rc == 0 && out)
			*out = replayed;
		else
			booking_payment_free(replayed);
		return rc;
	}

	booking_charge_result cr = {0};
	rc = charge(bk, ctx, &p, digits, &cr);
	sodium_memzero(digits, sizeof(digits));
	if (rc < 0) {
		/* Outcome unknown: the payment stays PROCESSING for booking_payment_recover(). */
		return booking__error_json(rc == BOOKING_EUNAVAILABLE ? BOOKING_EUNAVAILABLE : BOOKING_EEXTERNAL,
		                           json_pack("{s:s,s:s}", "payment_id", p.id, "service", "payment_gateway"),
		                           "the payment gateway did not answer; the outcome will be resolved by recovery");
	}
	int result;
	if (cr.status == BOOKING_CHARGE_SUCCEEDED) {
		result = settle_success(bk, ctx, &p, cr.charge_id);
	} else {
		result = settle_decline(bk, ctx, &p, cr.decline_code[0] ? cr.decline_code : "declined",
		                        BOOKING_EPAYMENT_DECLINED);
		if (result == 0)
			result = BOOKING_EPAYMENT_DECLINED;
	}
	if (result < 0 && result != BOOKING_EEXPIRED && result != BOOKING_EPAYMENT_DECLINED &&
	    result != BOOKING_EINVALID_STATE)
		return result; /* the store failed: left PROCESSING, recovery resolves it */
	if (result == BOOKING_EINVALID_STATE)
		result = 0; /* recovery finished it first: answer with what it recorded */
	booking__log(bk, ctx, result == 0 ? BOOKING_LOG_INFO : BOOKING_LOG_WARNING,
	             result == 0 ? "payment completed" : "payment not completed",
	             json_pack("{s:s,s:s,s:s}", "payment_id", p.id, "reservation_id", reservation_id, "outcome",
	                       result == 0 ? "SUCCEEDED" : booking_error_name(result)));
	if (result == 0) {
		booking_payment *stored = NULL;
		if ((rc = bk->store->ledger->payment_get(&stored, bk->store, p.id)) < 0)
			return rc;
		if (stored->status == BOOKING_PAYMENT_FAILED)
			result = BOOKING_EPAYMENT_DECLINED;
		else if (stored->status == BOOKING_PAYMENT_REFUNDED)
			result = BOOKING_EEXPIRED;
		booking_payment_free(stored);
	}
	return answer(out, bk, p.id, result);
}

booking_error_code booking_pay(booking_payment **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id,
                const char *idempotency_key, const char *card_number)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_PAY);
	return booking__scope_end(&sc, pay_run(out, bk, ctx, reservation_id, idempotency_key, card_number));
}

static int payment_get_run(booking_payment **out, booking_handle *bk, const booking_ctx *ctx, const char *payment_id)
{
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	int rc = booking__ctx_check(ctx);
	if (rc < 0)
		return rc;
	if (!booking__is_privileged(ctx) && (rc = booking__require_user(ctx)) < 0)
		return rc;
	if (booking__check_id("payment_id", payment_id) < 0)
		return booking_store_not_found(BOOKING_EPAYMENT_NOT_FOUND);
	booking_payment *p = NULL;
	if ((rc = bk->store->ledger->payment_get(&p, bk->store, payment_id)) < 0)
		return rc;
	if (!booking__is_privileged(ctx) && strcmp(p->user_id, ctx->user_id) != 0) {
		booking_payment_free(p);
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "not your payment");
	}
	*out = p;
	return 0;
}

booking_error_code booking_payment_get(booking_payment **out, booking_handle *bk, const booking_ctx *ctx, const char *payment_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_PAYMENT_GET);
	return booking__scope_end(&sc, payment_get_run(out, bk, ctx, payment_id));
}

static int refund_run(booking_payment **out, booking_handle *bk, const booking_ctx *ctx, const char *payment_id)
{
	if (out)
		*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc = booking__require_admin(ctx);
	if (rc < 0)
		return rc;
	booking_payment *p = NULL;
	booking_reservation *b = NULL;
	if ((rc = booking_payment_get(&p, bk, ctx, payment_id)) < 0)
		return rc;
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): the analyzer cannot see that booking_error_set() returns its negative code */
	if (p->status != BOOKING_PAYMENT_SUCCEEDED) {
		rc = booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "status", booking_payment_status_name(p->status)),
		                         "only a SUCCEEDED payment can be refunded");
		goto done;
	}
	if ((rc = booking__reservation_read(bk, p->reservation_id, &b)) < 0)
		goto done;
	if (b->status != BOOKING_RESERVATION_CONFIRMED) {
		rc = booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "status", booking_reservation_status_name(b->status)),
		                         "only the payment of a CONFIRMED reservation can be refunded");
		goto done;
	}
	char key[64];
	snprintf(key, sizeof(key), "refund:%s", p->id);
	if ((rc = bk->gateway->refund(bk->gateway, p->gateway_ref, p->amount, key)) < 0)
		goto done;
	booking_payment pa = *p;
	pa.status = BOOKING_PAYMENT_REFUNDED;
	booking_reservation ba = *b;
	ba.status = BOOKING_RESERVATION_CANCELLED;
	booking__event evs[2];
	if ((rc = booking__event_init(&evs[0], bk, ctx, "payment.refunded", "payment", p->id,
	                              booking__payment_event_data(&pa, "refunded by admin"))) < 0)
		goto done;
	if ((rc = booking__event_init_text(&evs[1], bk, ctx, "reservation.cancelled", "reservation", b->id,
	                              booking__reservation_event_text(&ba, "refunded"))) < 0) {
		booking__event_clear(&evs[0]);
		goto done;
	}
	booking_event_record recs[2] = {evs[0].rec, evs[1].rec};
	/* payment REFUNDED, reservation CANCELLED, its seats free: guarded by what was decided on */
	int64_t now = booking__now(bk);
	booking_store_guard g[2] = {{BOOKING_GUARD_PAYMENT_STATUS, p->id, BOOKING_PAYMENT_SUCCEEDED, NULL},
	                            {BOOKING_GUARD_RESERVATION_VERSION, b->id, b->version, NULL}};
	booking_store_reservation_set set = {.id = b->id, .status = BOOKING_RESERVATION_CANCELLED, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = now};
	booking_store_seat_move seats = {b->id, BOOKING_SEAT_SOLD, BOOKING_SEAT_FREE, 0};
	booking_store_payment_set pay = {p->id, BOOKING_PAYMENT_REFUNDED, NULL, NULL, p->amount, now};
	booking_store_change change = {.guard_count = 2, .guards = g, .reservation = &set, .seats = &seats, .event_count = 2, .events = recs, .payment = &pay};
	size_t failed = SIZE_MAX;
	rc = bk->store->ledger->apply(&failed, bk->store, &change);
	if (rc == BOOKING_EINVALID_STATE && failed != SIZE_MAX)
		/* refunded or changed meanwhile: the gateway's refund key makes the money move once */
		rc = booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "payment_id", p->id),
		                         "the payment or its reservation changed while it was refunded; read it again");
	booking__event_clear(&evs[0]);
	booking__event_clear(&evs[1]);
	if (rc == 0) {
		booking__marks_drop_all(bk, ctx, b); /* sold seats free again, maybe before the hold's expiry */
		booking__log(bk, ctx, BOOKING_LOG_INFO, "payment refunded", json_pack("{s:s}", "payment_id", p->id));
		booking__waitlist_returned(bk, b->showtime_id);
		if (out)
			rc = bk->store->ledger->payment_get(out, bk->store, p->id);
	}
done:
	booking_payment_free(p);
	booking_reservation_free(b);
	return rc;
}

booking_error_code booking_payment_refund(booking_payment **out, booking_handle *bk, const booking_ctx *ctx, const char *payment_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_REFUND);
	return booking__scope_end(&sc, refund_run(out, bk, ctx, payment_id));
}

/* ---------- recovery ---------- */

typedef struct stuck_list {
	booking_payment *items;
	size_t count, max;
} stuck_list;

static int collect_stuck(const booking_payment *p, void *payload)
{
	stuck_list *l = payload;
	if (l->count < l->max)
		l->items[l->count++] = *p;
	return 0;
}

/* Resolve one interrupted payment by asking the gateway. 1 resolved, 0 not yet, <0 error. */
static int recover_one(booking_handle *bk, const booking_ctx *ctx, const booking_payment *p)
{
	booking_charge_result cr;
	memset(&cr, 0, sizeof(cr));
	int rc = bk->gateway->lookup(&cr, bk->gateway, p->id);
	if (rc == BOOKING_ENOTFOUND) {
		rc = settle_decline(bk, ctx, p, "not_charged", BOOKING_EEXTERNAL);
	} else if (rc < 0) {
		return 0; /* gateway still unreachable: try again next pass */
	} else if (cr.status == BOOKING_CHARGE_SUCCEEDED) {
		rc = settle_success(bk, ctx, p, cr.charge_id);
		if (rc == BOOKING_EEXPIRED)
			rc = 0;
	} else {
		rc = settle_decline(bk, ctx, p, cr.decline_code[0] ? cr.decline_code : "declined", BOOKING_EPAYMENT_DECLINED);
	}
	if (rc == BOOKING_EINVALID_STATE)
		return 0; /* someone else finished it */
	if (rc < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "interrupted payment resolved",
	             json_pack("{s:s,s:s}", "payment_id", p->id, "gateway", rc == 0 ? "answered" : "?"));
	return 1;
}

static int recover_run(booking_handle *bk, const booking_ctx *ctx, int64_t min_age_ms, size_t *resolved_out)
{
	if (resolved_out)
		*resolved_out = 0;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc = booking__require_admin(ctx);
	if (rc < 0)
		return rc;
	if (min_age_ms < 0)
		min_age_ms = 0;
	stuck_list l = {booking_calloc(256, sizeof(booking_payment)), 0, 256};
	if (!l.items)
		return booking_error_oom();
	size_t resolved = 0;
	if ((rc = bk->store->ledger->payment_list_by_status(bk->store, BOOKING_PAYMENT_PROCESSING, booking__now(bk) - min_age_ms, l.max, collect_stuck, &l)) < 0)
		goto done;
	for (size_t i = 0; i < l.count; i++) {
		int r = recover_one(bk, ctx, &l.items[i]);
		if (r < 0) {
			rc = r;
			goto done;
		}
		resolved += (size_t)r;
	}
done:
	if (resolved_out)
		*resolved_out = resolved; /* those resolved before a failure too */
	booking_free(l.items);
	return rc;
}

booking_error_code booking_payment_recover(size_t *resolved_out, booking_handle *bk, const booking_ctx *ctx, int64_t min_age_ms)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_RECOVER);
	return booking__scope_end(&sc, recover_run(bk, ctx, min_age_ms, resolved_out));
}
