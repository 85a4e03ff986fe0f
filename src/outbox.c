/*
 * Outbox events: built by the core, stored by the store in the same
 * transaction as the change, rendered as envelopes for transports.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <inttypes.h>

#include <string.h>

#define EVENT_SCHEMA_VERSION 1

void booking__event_clear(booking__event *ev)
{
	booking_free(ev->type);
	booking_free(ev->aggregate_type);
	booking_free(ev->correlation_id);
	booking_free(ev->traceparent);
	booking_free(ev->data_json);
	memset(ev, 0, sizeof(*ev));
}

int booking__event_init(booking__event *ev, const booking_handle *bk, const booking_ctx *ctx, const char *type,
                        const char *aggregate_type, const char *aggregate_id, json_t *data)
{
	char *text = data ? booking__json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(data);
	return booking__event_init_text(ev, bk, ctx, type, aggregate_type, aggregate_id, text);
}

int booking__event_init_text(booking__event *ev, const booking_handle *bk, const booking_ctx *ctx, const char *type,
                             const char *aggregate_type, const char *aggregate_id, char *data_json)
{
	memset(ev, 0, sizeof(*ev));
	char corr[BOOKING_ID_SIZE];
	int64_t now = booking__now(bk);
	booking_uuid_v7(ev->rec.id, now);
	booking__copy(ev->rec.aggregate_id, sizeof(ev->rec.aggregate_id), aggregate_id);
	ev->rec.occurred_at = now;
	ev->type = booking_strdup(type);
	ev->aggregate_type = booking_strdup(aggregate_type);
	ev->correlation_id = booking_strdup(booking__correlation_id(bk, ctx, corr));
	ev->traceparent = booking_strdup(ctx && ctx->traceparent ? ctx->traceparent : "");
	ev->data_json = data_json;
	if (!ev->type || !ev->aggregate_type || !ev->correlation_id || !ev->traceparent || !ev->data_json) {
		booking__event_clear(ev);
		return booking_error_oom();
	}
	ev->rec.type = ev->type;
	ev->rec.aggregate_type = ev->aggregate_type;
	ev->rec.correlation_id = ev->correlation_id;
	ev->rec.traceparent = ev->traceparent;
	ev->rec.data_json = ev->data_json;
	return 0;
}

char *booking__event_envelope(const booking_event_record *rec)
{
	bool oom = false;
	json_t *data = booking__json_loads(rec->data_json ? rec->data_json : "{}", 0, NULL, &oom);
	if (oom)
		return NULL; /* never an envelope with its data lost */
	if (!data)
		data = json_object();
	json_t *env = json_pack("{s:s,s:s,s:i,s:I,s:s,s:s,s:I,s:s,s:s,s:o}", "id", rec->id, "type", rec->type,
	                        "version", EVENT_SCHEMA_VERSION, "occurred_at", (json_int_t)rec->occurred_at,
	                        "aggregate_type", rec->aggregate_type, "aggregate_id", rec->aggregate_id, "sequence",
	                        (json_int_t)rec->sequence, "correlation_id",
	                        rec->correlation_id ? rec->correlation_id : "", "traceparent",
	                        rec->traceparent ? rec->traceparent : "", "data", data);
	if (!env)
		return NULL;
	char *s = booking__json_dumps(env, JSON_COMPACT);
	json_decref(env);
	return s;
}

/*
 * A consumer dead-letters a malformed envelope, so an allocation failure
 * must never look like one: jansson reports some of its failures as syntax
 * errors (json_loads) or as a mismatch (json_unpack). Its failures are
 * counted when the host set an allocator; otherwise a failed 4 KiB probe
 * says memory is short.
 */
static bool memory_short(unsigned long json_failures_before)
{
	if (booking__json_failures() != json_failures_before)
		return true;
	void *probe = booking_malloc(4096);
	booking_free(probe);
	return probe == NULL;
}

int booking__event_parse(booking_event *out, json_t **root_out, const char *envelope_json)
{
	memset(out, 0, sizeof(*out));
	*root_out = NULL;
	json_error_t jerr;
	unsigned long failures = booking__json_failures();
	json_t *root = envelope_json ? json_loads(envelope_json, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (root && booking__json_failures() != failures) {
		json_decref(root); /* jansson's lexer drops bytes it failed to store: a damaged tree */
		root = NULL;
	}
	if (!root && envelope_json && memory_short(failures))
		return booking_error_oom();
	if (!root)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event envelope: not JSON");
	json_t *data = NULL;
	json_int_t seq = 0, at = 0, version = 0;
	const char *id, *type, *atype, *aid, *corr = "", *tp = "";
	if (json_unpack_ex(root, &jerr, 0, "{s:s,s:s,s:I,s:I,s:s,s:s,s:I,s?s,s?s,s:o}", "id", &id, "type",
	                   &type, "version", &version, "occurred_at", &at, "aggregate_type", &atype, "aggregate_id",
	                   &aid, "sequence", &seq, "correlation_id", &corr, "traceparent", &tp, "data", &data) != 0 ||
	    !json_is_object(data) || version < 1) {
		json_decref(root);
		if (memory_short(failures))
			return booking_error_oom();
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event envelope: %s", jerr.text);
	}
	if (booking__check_id("id", id) < 0 || booking__check_text("type", type, 1, 64) < 0 ||
	    booking__check_text("aggregate_type", atype, 1, 64) < 0 || booking__check_text("aggregate_id", aid, 1, 64) < 0) {
		json_decref(root);
		return booking_error_set(BOOKING_EVALIDATION, NULL, "event envelope: bad field");
	}
	char *data_text = booking__json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS);
	if (!data_text) {
		json_decref(root);
		return booking_error_oom();
	}
	/* Keep the rendered data alive with the root. */
	if (json_object_set_new(root, "__data_text", json_string(data_text)) != 0) {
		booking_free(data_text);
		json_decref(root);
		return booking_error_oom();
	}
	booking_free(data_text);
	out->id = id;
	out->type = type;
	out->aggregate_type = atype;
	out->aggregate_id = aid;
	out->sequence = seq;
	out->occurred_at = at;
	out->correlation_id = corr;
	out->traceparent = tp;
	out->data_json = json_string_value(json_object_get(root, "__data_text"));
	out->envelope_json = envelope_json;
	out->delivery = 1;
	*root_out = root;
	return 0;
}

/*
 * The data builders below ignore the results of json_array_append_new()
 * and json_object_set_new(); a failed allocation would commit an event
 * with a seat or a field missing, so a build that saw one fails whole.
 */
json_t *booking__event_data_checked(json_t *d, unsigned long json_failures_before)
{
	if (d && booking__json_failures() != json_failures_before) {
		json_decref(d);
		return NULL;
	}
	return d;
}

json_t *booking__reservation_event_data(const booking_reservation *b, const char *reason)
{
	/* the data has one definition, booking__reservation_event_text(): here it is parsed */
	char *text = booking__reservation_event_text(b, reason);
	bool oom = false;
	json_t *d = text ? booking__json_loads(text, 0, NULL, &oom) : NULL;
	booking_free(text);
	return d;
}

/* Append the n bytes of `s` at *at (bounded by end); false when they do not fit. */
static bool put_n(char **at, const char *end, const char *s, size_t n)
{
	if ((size_t)(end - *at) <= n)
		return false;
	memcpy(*at, s, n);
	*at += n;
	return true;
}

#define PUT(at, end, lit) put_n(at, end, lit, sizeof(lit) - 1) /* a string literal */

/* `v` in decimal, as jansson writes an integer. */
static bool put_int(char **at, const char *end, int64_t v)
{
	char digits[24], *p = digits + sizeof digits;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	return put_n(at, end, p, (size_t)(digits + sizeof digits - p));
}

/*
 * `s` as a JSON string, as jansson dumps it: quoted, copied as it is when it is printable ASCII but '"' and
 * '\\' (what JSON writes unescaped), otherwise escaped by jansson.
 */
static bool put_string(char **at, const char *end, const char *s)
{
	size_t n = strlen(s), i = 0;
	char *p = *at;
	if ((size_t)(end - p) <= n + 2)
		return false; /* not even plain, it would not fit */
	for (; i < n && (unsigned char)(s[i] - 0x20) < 0x5f && s[i] != '"' && s[i] != '\\'; i++)
		p[i + 1] = s[i];
	if (i == n) { /* plain: copied as it is */
		p[0] = '"';
		p[n + 1] = '"';
		*at = p + n + 2;
		return true;
	}
	json_t *j = json_string(s); /* NULL: not UTF-8 */
	char *quoted = j ? booking__json_dumps(j, JSON_ENCODE_ANY) : NULL;
	json_decref(j);
	bool ok = quoted && put_n(at, end, quoted, strlen(quoted));
	booking_free(quoted);
	return ok;
}

char *booking__reservation_event_text(const booking_reservation *b, const char *reason)
{
	/*
	 * The data of a reservation's events, compact with its keys sorted (as
	 * jansson dumps it with JSON_SORT_KEYS), written without building a JSON
	 * tree or calling printf: a hold's event costs neither. Strings that need
	 * escaping are escaped by jansson.
	 */
	const char *status = booking_reservation_status_name(b->status);
	size_t text = strlen(b->id) + strlen(b->user_id) + strlen(b->showtime_id) + strlen(b->currency) + strlen(status) +
	              (reason ? strlen(reason) : 0);
	for (size_t i = 0; i < b->seat_count; i++)
		text += strlen(b->seats[i]->label) + 3;
	size_t size = 256 + 6 * text; /* an escape is at most 6 bytes a byte (\u00XX) */
	char *buf = booking_malloc(size);
	if (!buf)
		return NULL;
	char *at = buf;
	const char *end = buf + size;
	/* keys in byte order: currency, expires_at, reason, reservation_id, seats, showtime_id, status, total_amount, user_id */
	bool ok = PUT(&at, end, "{\"currency\":") && put_string(&at, end, b->currency) && PUT(&at, end, ",\"expires_at\":") &&
	          put_int(&at, end, b->expires_at);
	if (ok && reason)
		ok = PUT(&at, end, ",\"reason\":") && put_string(&at, end, reason);
	ok = ok && PUT(&at, end, ",\"reservation_id\":") && put_string(&at, end, b->id) && PUT(&at, end, ",\"seats\":[");
	for (size_t i = 0; ok && i < b->seat_count; i++)
		ok = (i == 0 || PUT(&at, end, ",")) && put_string(&at, end, b->seats[i]->label);
	ok = ok && PUT(&at, end, "],\"showtime_id\":") && put_string(&at, end, b->showtime_id) &&
	     PUT(&at, end, ",\"status\":") && put_string(&at, end, status) && PUT(&at, end, ",\"total_amount\":") &&
	     put_int(&at, end, b->total_amount) && PUT(&at, end, ",\"user_id\":") && put_string(&at, end, b->user_id) &&
	     PUT(&at, end, "}");
	if (!ok) { /* text that is not UTF-8, or out of memory */
		booking_free(buf);
		return NULL;
	}
	*at = '\0';
	return buf;
}

json_t *booking__payment_event_data(const booking_payment *p, const char *reason)
{
	unsigned long failures = booking__json_failures();
	json_t *d = json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:s}", "payment_id", p->id, "reservation_id", p->reservation_id,
	                      "user_id", p->user_id, "amount", (json_int_t)p->amount, "currency", p->currency,
	                      "status", booking_payment_status_name(p->status), "card_last4", p->card_last4);
	if (d && p->gateway_ref[0])
		json_object_set_new(d, "gateway_ref", json_string(p->gateway_ref));
	if (d && reason)
		json_object_set_new(d, "reason", json_string(reason));
	return booking__event_data_checked(d, failures);
}
