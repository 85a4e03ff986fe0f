/*
 * libbooking backend API — the event publisher (transport of outbox events).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_EVENTS_H
#define BOOKING_SYS_EVENTS_H

#include "../common.h"
#include "../errors.h"
#include "../options.h"

BOOKING_BEGIN_DECL

#define BOOKING_EVENT_PUBLISHER_VERSION 1

/** A message delivered to a consumer group. Borrowed for the callback. */
typedef struct booking_message {
	const char *msg_id;        /**< the transport's id (used to ack) */
	const char *event_id;
	const char *envelope_json;
	int deliveries;            /**< how many times it was delivered to the group, this one included */
} booking_message;

/**
 * Receives one message from read_group() or claim_stale(). Return 0 to go
 * on; a non-zero return stops the delivery and is returned by the member.
 * @param msg     the message; borrowed for the call only.
 * @param payload the member's `payload`, unchanged.
 * Called on the thread that called the member, one message at a time.
 */
typedef int (*booking_message_cb)(const booking_message *msg, void *payload);

/**
 * A transport with consumer groups (Redis Streams semantics): each group
 * sees every message; a read delivers new messages to one consumer of the
 * group and keeps them pending until acked. Every member is called from
 * many threads at once.
 */
struct booking_event_publisher {
	unsigned int version; /**< BOOKING_EVENT_PUBLISHER_VERSION */

	/** required */
	void (*free)(booking_event_publisher *pub);

	/** required: append a message. */
	int (*publish)(booking_event_publisher *pub, const char *event_id, const char *type,
	               const char *envelope_json);

	/** required: deliver up to `max` never-delivered messages of `group` to `consumer`. */
	int (*read_group)(booking_event_publisher *pub, const char *group, const char *consumer, size_t max,
	                  booking_message_cb cb, void *payload);

	/** required: the group is done with the message. */
	int (*ack)(booking_event_publisher *pub, const char *group, const char *msg_id);

	/**
	 * required: take over up to `max` messages pending in `group` (delivered
	 * but not acked) for at least `min_idle_ms`, deliver them again to
	 * `consumer` (deliveries+1).
	 */
	int (*claim_stale)(booking_event_publisher *pub, const char *group, const char *consumer,
	                   int64_t min_idle_ms, size_t max, booking_message_cb cb, void *payload);
};

/**
 * Open a publisher by URL ("memory:", "redis://...", or a scheme registered
 * with booking_backend_register(), sys/registry.h). `clock` is borrowed
 * (NULL: system). "store:" is not a publisher: the core reads the store's
 * outbox itself.
 * @param out set to the object (caller owns; free it with its `free`
 *            member); NULL after a failure.
 * @param url the publisher's URL; borrowed for the call.
 * @param clock borrowed, must outlive the publisher; NULL: the system clock.
 * @return 0, BOOKING_EVALIDATION (NULL `out` or `url`, unknown scheme, bad
 *         URL or parameter, an invalid publisher), BOOKING_ENOTSUPPORTED
 *         (backend not built), BOOKING_EUNAVAILABLE (server unreachable),
 *         BOOKING_EINTERNAL (a constructor answered 0 and no object),
 *         BOOKING_ENOMEM, or what the scheme's constructor answered.
 * Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_event_publisher_open(booking_event_publisher **out, const char *url,
                                                 const booking_clock *clock);

BOOKING_END_DECL

#endif
