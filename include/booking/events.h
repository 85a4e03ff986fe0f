/*
 * libbooking — domain events: the outbox relay, consumers, notifications.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_EVENTS_H
#define BOOKING_EVENTS_H

#include "common.h"
#include "errors.h"

BOOKING_BEGIN_DECL

/** A delivered event, as a consumer sees it. Borrowed for the duration of the handler call. */
typedef struct booking_event {
	const char *id;             /**< UUIDv7 of the event */
	const char *type;           /**< "reservation.created", ... */
	const char *aggregate_type; /**< "reservation", "payment", "user" */
	const char *aggregate_id;
	int64_t sequence;           /**< per aggregate, from 1 */
	int64_t occurred_at;        /**< UTC ms */
	const char *correlation_id;
	const char *traceparent;    /**< may be "" */
	const char *data_json;      /**< the event's data object */
	const char *envelope_json;  /**< the whole envelope as published */
	int delivery;               /**< 1 on first delivery, then 2, 3, ... */
} booking_event;

/**
 * Move up to `max` unpublished outbox events to the events transport
 * (`memory:`; with `store:` consumers read the outbox itself and the relay
 * only marks them published). Safe to run from many threads and processes:
 * at-least-once, consumers dedupe. At most 10000 per call.
 * @param relayed_out set to how many events were relayed; may be NULL.
 *        After a failure it holds how many were relayed before the
 *        transport failed (0 when the store failed first).
 * @param bk  the handle; borrowed.
 * @param max the most to relay; 0 does nothing.
 * @return 0, BOOKING_EVALIDATION (NULL `bk`), BOOKING_EUNAVAILABLE (store
 *         or transport unreachable, circuit open), BOOKING_ENOMEM, store
 *         and transport errors. What was not relayed stays for the next call.
 * Thread-safe.
 * Host-only, no ctx: background work of the host (a relay loop), acting for nobody.
 */
BOOKING_EXTERN(booking_error_code) booking_outbox_relay(size_t *relayed_out, booking_handle *bk, size_t max);

/**
 * A consumer's handler. Return 0 when the event is applied; a negative
 * code to have it retried (with backoff) and, after max deliveries,
 * dead-lettered with the error's message as the reason; BOOKING_ENOMEM
 * ends the poll instead (the event is delivered again later, never parked).
 * @param event   the event; borrowed for the call only (copy what you keep).
 * @param payload booking_consume()'s, unchanged.
 * Called on the thread that called booking_consume(), one event at a time.
 * With the `store:` transport the handle's consumer lock is held during the
 * call: the handler must not call booking_consume() or booking_notify() on
 * the same handle (it would deadlock).
 */
typedef int (*booking_event_handler)(const booking_event *event, void *payload);

#define BOOKING_CONSUMER_OPTIONS_VERSION 1

/** Options of booking_consume(). Start from BOOKING_CONSUMER_OPTIONS_INIT. */
typedef struct booking_consumer_options {
	unsigned int version;   /**< BOOKING_CONSUMER_OPTIONS_VERSION */
	const char *group;      /**< consumer group, [A-Za-z0-9._-]{1,63}; required */
	const char *consumer;   /**< this consumer's name in the group; NULL = "c1" */
	size_t batch;           /**< events per poll, 0 = 64 */
	int max_deliveries;     /**< 0 = the handle's consumer_max_deliveries */
	int retry_base_ms;      /**< 0 = the handle's consumer_retry_base_ms */
	int64_t claim_idle_ms;  /**< take over deliveries idle this long (crashed consumers); 0 = 30000 */
} booking_consumer_options;

#ifdef __cplusplus
/* C++17 has no designated initialisers: value-initialise, then set the version (-Wextra stays quiet). */
static inline booking_consumer_options booking_consumer_options_init_value(void)
{
	booking_consumer_options v = {};
	v.version = BOOKING_CONSUMER_OPTIONS_VERSION;
	return v;
}
#define BOOKING_CONSUMER_OPTIONS_INIT booking_consumer_options_init_value()
#else
#define BOOKING_CONSUMER_OPTIONS_INIT {.version = BOOKING_CONSUMER_OPTIONS_VERSION}
#endif

/**
 * Initialise `opts` as BOOKING_CONSUMER_OPTIONS_INIT does (every field 0 or
 * NULL: the defaults; `group` must still be set).
 * @param opts    the caller's struct to fill.
 * @param version BOOKING_CONSUMER_OPTIONS_VERSION, as the caller was compiled.
 * @return 0, or BOOKING_EVALIDATION (NULL `opts` or an unknown version:
 *         `opts` is untouched). Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_consumer_options_init(booking_consumer_options *opts, unsigned int version);

/**
 * Run one poll of a consumer: read up to `batch` events for the group, skip
 * those its inbox has seen, call `handler` for the others, record each
 * success in the inbox so no event is applied twice, retry failures with
 * exponential backoff and dead-letter an event after max deliveries.
 *
 * @param handled_out events applied by this poll (not counting duplicates),
 *        may be NULL. After a failure it holds how many were applied before it.
 * @param bk      the handle; borrowed.
 * @param opts    borrowed for the call; `group` is required.
 * @param handler called for each new event; required.
 * @param payload handed to `handler`; borrowed, may be NULL.
 * @return 0, BOOKING_EVALIDATION (NULL `bk`, `opts` or `handler`; an
 *         options version or group name or range out of bounds),
 *         BOOKING_EUNAVAILABLE (store or transport unreachable, circuit
 *         open), BOOKING_ENOMEM (also when the handler returned it),
 *         store and transport errors. A handler's other failures are not
 *         returned: they are retried and dead-lettered.
 * Thread-safe. With the `store:` transport the polls of one handle run one
 * at a time (a per-handle lock, held while handlers run).
 * Host-only, no ctx: background work of the host (a consumer loop), acting for nobody.
 */
BOOKING_EXTERN(booking_error_code) booking_consume(size_t *handled_out, booking_handle *bk,
                                    const booking_consumer_options *opts, booking_event_handler handler, void *payload);

/** A dead-lettered event. */
typedef struct booking_dead_letter {
	char event_id[BOOKING_ID_SIZE];
	char group[64];
	char *reason;
	char *envelope_json;
	int64_t dead_at;
} booking_dead_letter;

/**
 * Dead letters, `items[0..count)` pointers (`items[i]->reason`); caller owns;
 * free with booking_dead_letter_list_free().
 */
typedef struct booking_dead_letter_list { size_t count; booking_dead_letter **items; } booking_dead_letter_list;

/**
 * Dead letters of `group`, oldest first.
 * @param out   set to the list (caller owns, booking_dead_letter_list_free());
 *              NULL after a failure.
 * @param bk    the handle; borrowed.
 * @param group a consumer group; borrowed; NULL: all groups.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `bk`, a bad group name),
 *         BOOKING_EUNAVAILABLE, BOOKING_ENOMEM, store errors.
 * Thread-safe.
 * Host-only, no ctx: operations data for the host; expose it to admins only.
 */
BOOKING_EXTERN(booking_error_code) booking_dead_letters(booking_dead_letter_list **out, booking_handle *bk, const char *group);

/**
 * Free a list from booking_dead_letters() and the strings it holds.
 * @param l the list, freed here (the caller's ownership ends); NULL is a no-op.
 * Thread-safe, for a list no other thread uses.
 */
BOOKING_EXTERN(void) booking_dead_letter_list_free(booking_dead_letter_list *l);

/** Kinds of notification the notification consumer produces. */
typedef enum booking_notification_kind {
	BOOKING_NOTIFY_RESERVATION_CONFIRMED = 1,
	BOOKING_NOTIFY_RESERVATION_CANCELLED = 2,
	BOOKING_NOTIFY_RESERVATION_EXPIRED = 3,
	BOOKING_NOTIFY_PAYMENT_FAILED = 4,
	BOOKING_NOTIFY_PAYMENT_REFUNDED = 5,
	BOOKING_NOTIFY_WAITLIST_OFFERED = 6  /**< seats were held for a waiting party: pay before the hold runs out */
} booking_notification_kind;

/**
 * The stable name of a notification kind: the constant without its prefix ("RESERVATION_CONFIRMED").
 * @param kind a booking_notification_kind; other numbers give "UNKNOWN".
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_notification_kind_name(booking_notification_kind kind);

/** A notification for a user; borrowed for the duration of the sink call. */
typedef struct booking_notification {
	booking_notification_kind kind;
	const char *event_id;
	const char *user_id;
	const char *reservation_id;
	const char *subject;
	const char *body;
} booking_notification;

/**
 * Delivers a notification (e-mail, push, ...). Return 0 on success,
 * negative to retry (as a booking_event_handler's failure).
 * @param n       the notification; borrowed for the call only.
 * @param payload booking_notify()'s, unchanged.
 * Called on the thread that called booking_notify(), under the same rules
 * as a booking_event_handler (no booking_consume()/booking_notify() on the
 * same handle from inside it).
 */
typedef int (*booking_notification_sink)(const booking_notification *n, void *payload);

/**
 * Drain the notification consumer (group "notifications"): polls until
 * nothing new is left, turning
 * reservation.confirmed/cancelled/expired and payment.failed/refunded events into
 * notifications for `sink`, each at most once per event. Other event types
 * are acknowledged and skipped.
 * @param sent_out set to how many notifications `sink` accepted; may be NULL.
 *        After a failure it holds how many were sent before it.
 * @param bk      the handle; borrowed.
 * @param sink    the delivery callback; required.
 * @param payload handed to `sink`; borrowed, may be NULL.
 * @return 0, BOOKING_EVALIDATION (NULL `bk` or `sink`), BOOKING_EUNAVAILABLE,
 *         BOOKING_ENOMEM, store and transport errors (as booking_consume()).
 * Thread-safe, as booking_consume().
 * Host-only, no ctx: background work of the host (the notification consumer), acting for nobody.
 */
BOOKING_EXTERN(booking_error_code) booking_notify(size_t *sent_out, booking_handle *bk, booking_notification_sink sink, void *payload);

BOOKING_END_DECL

#endif
