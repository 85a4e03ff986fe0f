/*
 * Fuzz target: event envelopes, as a consumer receives them from a
 * transport (Redis streams carry whatever was written there).
 *
 * The input is one envelope. It goes through the parser consumers use
 * (booking__event_parse, internal), then through the whole consumer path:
 * published on a memory: transport and consumed by the notification
 * consumer and by a plain consumer, on a fresh handle each time. Checked:
 * the parser answers 0 or VALIDATION_ERROR, never another code; what it
 * accepts is well-formed (a UUID id, text fields, a JSON object as data);
 * a poll answers 0 whatever the envelope (a malformed one is dead-lettered
 * with a reason, never crashes the consumer) and handles it at most once.
 * SPDX-License-Identifier: MIT
 */
#include "fuzz.h"
#include "internal.h"

#include <string.h>

#define T0 INT64_C(1767225600000)
#define FALLBACK_ID "019b76da-a800-7000-8000-000000000000"

typedef struct seen {
	size_t notifications, events;
} seen;

static int sink(const booking_notification *n, void *payload)
{
	FUZZ_CHECK(n->event_id && n->user_id && n->reservation_id && n->subject && n->body, "notification field NULL");
	FUZZ_CHECK(strlen(n->body) < 512, "notification body too long");
	((seen *)payload)->notifications++;
	return 0;
}

static int handler(const booking_event *ev, void *payload)
{
	FUZZ_CHECK(ev->id && ev->type && ev->aggregate_type && ev->aggregate_id && ev->correlation_id &&
	               ev->traceparent && ev->data_json && ev->envelope_json,
	           "event field NULL");
	FUZZ_CHECK(ev->delivery >= 1, "delivery %d", ev->delivery);
	((seen *)payload)->events++;
	return 0;
}

static void check_parsed(const booking_event *ev, const char *text)
{
	FUZZ_CHECK(ev->id && strlen(ev->id) == BOOKING_ID_SIZE - 1, "id");
	FUZZ_CHECK(ev->type && ev->type[0] && ev->aggregate_type && ev->aggregate_type[0] && ev->aggregate_id &&
	               ev->aggregate_id[0],
	           "text fields");
	FUZZ_CHECK(ev->correlation_id && ev->traceparent, "optional fields must be \"\" when absent");
	FUZZ_CHECK(ev->envelope_json == text, "envelope_json is the input");
	json_error_t jerr;
	json_t *data = json_loads(ev->data_json, 0, &jerr);
	FUZZ_CHECK(json_is_object(data), "data_json is not a JSON object: %s", ev->data_json);
	json_decref(data);
}

static size_t dead_letters(booking_handle *bk)
{
	booking_dead_letter_list *l = NULL;
	int rc = booking_dead_letters(&l, bk, NULL);
	FUZZ_CHECK(rc == 0, "dead_letters: %s", booking_error_last()->message);
	size_t n = l->count;
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(l->items[i]->reason && l->items[i]->reason[0], "dead letter without a reason");
	booking_dead_letter_list_free(l);
	return n;
}

static void consume(const char *event_id, const char *type, const char *text)
{
	booking_clock *clock = booking_clock_manual_new(T0);
	booking_event_publisher *pub = NULL;
	FUZZ_CHECK(clock && booking_event_publisher_open(&pub, "memory:", clock) == 0, "publisher");
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.clock = clock;
	o.log_level = BOOKING_LOG_CRITICAL;
	o.consumer_max_deliveries = 2;
	o.consumer_retry_base_ms = 1;
	o.publisher = pub;
	booking_handle *bk = NULL;
	int rc = booking_open(&bk, &o);
	FUZZ_CHECK(rc == 0, "booking_open: %s", booking_error_last()->message);
	FUZZ_CHECK(pub->publish(pub, event_id, type, text) == 0, "publish");

	seen s = {0, 0};
	size_t sent = 0;
	rc = booking_notify(&sent, bk, sink, &s);
	FUZZ_CHECK(rc == 0, "booking_notify: %s: %s", booking_error_name(rc), booking_error_last()->message);
	FUZZ_CHECK(sent == s.notifications && sent <= 1, "sent %zu, sink saw %zu", sent, s.notifications);
	size_t parked = dead_letters(bk);
	FUZZ_CHECK(sent + parked <= 1, "sent %zu and dead-lettered %zu", sent, parked);

	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	co.group = "fuzz";
	size_t handled = 0;
	rc = booking_consume(&handled, bk, &co, handler, &s);
	FUZZ_CHECK(rc == 0, "booking_consume: %s: %s", booking_error_name(rc), booking_error_last()->message);
	FUZZ_CHECK(handled == s.events && handled <= 1, "handled %zu", handled);
	/* a second poll finds nothing new */
	rc = booking_consume(&handled, bk, &co, handler, &s);
	FUZZ_CHECK(rc == 0 && handled == 0, "second poll handled %zu", handled);

	booking_close(bk);
	booking_clock_manual_free(clock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	booking_event ev;
	json_t *root = NULL;
	int rc = booking__event_parse(&ev, &root, text);
	FUZZ_CHECK(rc == 0 || rc == BOOKING_EVALIDATION, "parse answered %s", booking_error_name(rc));
	if (rc == 0) {
		check_parsed(&ev, text);
		consume(ev.id, ev.type, text);
	} else {
		FUZZ_CHECK(root == NULL, "root set on failure");
		consume(FALLBACK_ID, "reservation.confirmed", text);
	}
	json_decref(root);
	free(text);
	return 0;
}
