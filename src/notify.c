/*
 * The notification consumer: turns reservation and payment events into
 * messages for the host's sink, at most once per event (inbox).
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <stdio.h>
#include <string.h>

#define NOTIFY_GROUP "notifications"
#define NOTIFY_MAX_POLLS 10000

typedef struct notify_state {
	booking_notification_sink sink;
	void *payload;
	size_t sent;
} notify_state;

typedef struct kind_info {
	const char *type;
	booking_notification_kind kind;
	const char *subject;
	const char *verb;
} kind_info;

static const kind_info kinds[] = {
	{"reservation.confirmed", BOOKING_NOTIFY_RESERVATION_CONFIRMED, "Your reservation is confirmed", "is confirmed"},
	{"reservation.cancelled", BOOKING_NOTIFY_RESERVATION_CANCELLED, "Your reservation was cancelled", "was cancelled"},
	{"reservation.expired", BOOKING_NOTIFY_RESERVATION_EXPIRED, "Your hold expired", "expired before payment"},
	{"payment.failed", BOOKING_NOTIFY_PAYMENT_FAILED, "Your payment failed", "could not be paid"},
	{"payment.refunded", BOOKING_NOTIFY_PAYMENT_REFUNDED, "Your payment was refunded", "was refunded"},
	{"waitlist.offered", BOOKING_NOTIFY_WAITLIST_OFFERED, "Seats are waiting for you",
	 "is held for you from the waiting list: pay before it runs out"},
};

/* "A1, A2" from the data's seats array (reservation events only). */
static void seats_text(char *buf, size_t size, json_t *seats)
{
	size_t i;
	json_t *s;
	buf[0] = '\0';
	json_array_foreach(seats, i, s)
	{
		if (!json_is_string(s) || strlen(buf) + strlen(json_string_value(s)) + 3 >= size)
			break;
		strcat(buf, i ? ", " : "");
		strcat(buf, json_string_value(s));
	}
}

static int notify_handler(const booking_event *ev, void *payload)
{
	notify_state *st = payload;
	const kind_info *k = NULL;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !k; i++)
		if (strcmp(ev->type, kinds[i].type) == 0)
			k = &kinds[i];
	if (!k)
		return 0; /* not for users: acknowledged and skipped */
	bool oom = false;
	json_t *data = booking__json_loads(ev->data_json, 0, NULL, &oom);
	if (oom)
		return booking_error_oom();
	if (!data)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event data is not JSON");
	const char *user = json_string_value(json_object_get(data, "user_id"));
	const char *reservation_id = json_string_value(json_object_get(data, "reservation_id"));
	json_int_t amount = json_integer_value(
		json_object_get(data, json_object_get(data, "total_amount") ? "total_amount" : "amount"));
	const char *currency = json_string_value(json_object_get(data, "currency"));
	if (!user || !reservation_id) {
		json_decref(data);
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event data lacks user_id or reservation_id");
	}
	char seats[200], body[512];
	seats_text(seats, sizeof(seats), json_object_get(data, "seats"));
	snprintf(body, sizeof(body), "Reservation %s%s%s (%lld.%02lld %s) %s.", reservation_id, seats[0] ? ", seats " : "",
	         seats, (long long)(amount / 100), (long long)(amount % 100), currency ? currency : "", k->verb);
	booking_notification n = {k->kind, ev->id, user, reservation_id, k->subject, body};
	int rc = st->sink(&n, st->payload);
	json_decref(data);
	if (rc == 0)
		st->sent++;
	return rc;
}

static int notify_run(booking_handle *bk, booking_notification_sink sink, void *payload, size_t *sent_out)
{
	if (sent_out)
		*sent_out = 0;
	if (!bk || !sink)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "notify: NULL argument");
	notify_state st = {sink, payload, 0};
	booking_consumer_options opts = BOOKING_CONSUMER_OPTIONS_INIT;
	opts.group = NOTIFY_GROUP;
	opts.consumer = "notifier";
	/* Drain what is there now: poll until a poll finds nothing new. */
	int rc = 0;
	for (int polls = 0; rc == 0 && polls < NOTIFY_MAX_POLLS; polls++) {
		size_t seen = 0;
		rc = booking__consume_poll(bk, &opts, notify_handler, &st, NULL, &seen);
		if (seen == 0)
			break;
	}
	if (sent_out)
		*sent_out = st.sent;
	return rc;
}

booking_error_code booking_notify(size_t *sent_out, booking_handle *bk, booking_notification_sink sink, void *payload)
{
	booking__scope sc;
	booking__scope_begin(&sc, bk, NULL, BOOKING__OP_NOTIFY);
	return booking__scope_end(&sc, notify_run(bk, sink, payload, sent_out));
}
