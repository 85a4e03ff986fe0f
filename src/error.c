/*
 * Error codes, names, HTTP statuses and the thread-local last-error record.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct error_info {
	int code;
	const char *name;
	int http;
} error_info;

static const error_info error_table[] = {
	{BOOKING_OK, "OK", 200},
	{BOOKING_EVALIDATION, "VALIDATION_ERROR", 422},
	{BOOKING_EUNAUTHORIZED, "UNAUTHORIZED", 401},
	{BOOKING_EFORBIDDEN, "FORBIDDEN", 403},
	{BOOKING_ENOTFOUND, "NOT_FOUND", 404},
	{BOOKING_EMOVIE_NOT_FOUND, "MOVIE_NOT_FOUND", 404},
	{BOOKING_ETHEATER_NOT_FOUND, "THEATER_NOT_FOUND", 404},
	{BOOKING_ESCREEN_NOT_FOUND, "SCREEN_NOT_FOUND", 404},
	{BOOKING_ESHOWTIME_NOT_FOUND, "SHOWTIME_NOT_FOUND", 404},
	{BOOKING_ERESERVATION_NOT_FOUND, "RESERVATION_NOT_FOUND", 404},
	{BOOKING_EPAYMENT_NOT_FOUND, "PAYMENT_NOT_FOUND", 404},
	{BOOKING_ESEAT_ALREADY_BOOKED, "SEAT_ALREADY_BOOKED", 409},
	{BOOKING_EINVALID_STATE, "INVALID_STATE", 409},
	{BOOKING_EEXPIRED, "RESERVATION_EXPIRED", 410},
	{BOOKING_EPAYMENT_DECLINED, "PAYMENT_DECLINED", 402},
	{BOOKING_EPAYMENT_IN_PROGRESS, "PAYMENT_IN_PROGRESS", 409},
	{BOOKING_EIDEMPOTENCY_KEY_REUSED, "IDEMPOTENCY_KEY_REUSED", 422},
	{BOOKING_ELOCK_FAILED, "LOCK_ACQUISITION_FAILED", 503},
	{BOOKING_EUNAVAILABLE, "SERVICE_UNAVAILABLE", 503},
	{BOOKING_EEXTERNAL, "EXTERNAL_SERVICE_ERROR", 502},
	{BOOKING_EINTERNAL, "INTERNAL_ERROR", 500},
	{BOOKING_ENOMEM, "OUT_OF_MEMORY", 503},
	{BOOKING_ENOTSUPPORTED, "NOT_SUPPORTED", 501},
	{BOOKING_EEXISTS, "ALREADY_EXISTS", 409},
	{BOOKING_ESCHEMA, "SCHEMA_TOO_NEW", 500},
	{BOOKING_ELOCKED, "LOCK_BUSY", 409},
	{BOOKING_ERATE_LIMITED, "RATE_LIMITED", 429},
	{BOOKING_EORPHAN_SEAT, "ORPHAN_SEAT", 409},
	{BOOKING_ENOT_ENOUGH_SEATS, "NOT_ENOUGH_SEATS", 409},
	{BOOKING_EHOLD_LIMIT, "HOLD_LIMIT_REACHED", 409},
	{BOOKING_ELIMIT_REACHED, "LIMIT_REACHED", 409},
};

static const error_info *error_lookup(int code)
{
	for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
		if (error_table[i].code == code)
			return &error_table[i];
	return NULL;
}

const char *booking_error_name(int code)
{
	const error_info *e = error_lookup(code);
	return e ? e->name : "UNKNOWN_ERROR";
}

int booking_error_from_name(const char *name)
{
	if (!name)
		return 1;
	for (size_t i = 0; i < sizeof(error_table) / sizeof(error_table[0]); i++)
		if (strcmp(error_table[i].name, name) == 0)
			return error_table[i].code;
	return 1;
}

int booking_error_http_status(int code)
{
	const error_info *e = error_lookup(code);
	return e ? e->http : 500;
}

/*
 * The record keeps its strings in fixed thread-local buffers so that setting
 * an error never allocates (it must work when allocation is what failed).
 */
#define MSG_MAX 512
#define DETAILS_MAX 2048

typedef struct error_state {
	booking_error err;
	char message[MSG_MAX];
	char details[DETAILS_MAX];
} error_state;

static _Thread_local error_state tls_error = {{0, "OK", "", "{}"}, "", "{}"};

static void error_fix_pointers(void)
{
	tls_error.err.message = tls_error.message;
	tls_error.err.details_json = tls_error.details;
	tls_error.err.name = booking_error_name(tls_error.err.code);
}

const booking_error *booking_error_last(void)
{
	error_fix_pointers();
	return &tls_error.err;
}

void booking_error_clear(void)
{
	tls_error.err.code = 0;
	tls_error.message[0] = '\0';
	strcpy(tls_error.details, "{}");
	error_fix_pointers();
}

static int error_vset(int code, const char *details_json, const char *fmt, va_list ap)
{
	tls_error.err.code = code;
	/*
	 * Messages may quote untrusted text: whatever was formatted, the record
	 * keeps valid UTF-8 without control characters, cut between characters,
	 * so its JSON form never fails and a terminal never sees raw escapes.
	 */
	char raw[MSG_MAX];
	int n = fmt ? vsnprintf(raw, sizeof(raw), fmt, ap) : snprintf(raw, sizeof(raw), "%s", booking_error_name(code));
	size_t len = n < 0 ? 0 : (size_t)n >= sizeof(raw) ? sizeof(raw) - 1 : (size_t)n;
	booking__sanitize(tls_error.message, sizeof(tls_error.message), raw, len, SIZE_MAX, false);
	if (details_json && strlen(details_json) < sizeof(tls_error.details))
		strcpy(tls_error.details, details_json);
	else
		strcpy(tls_error.details, "{}");
	error_fix_pointers();
	return code;
}

booking_error_code booking_error_set(int code, const char *details_json, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = error_vset(code, details_json, fmt, ap);
	va_end(ap);
	return rc;
}

booking_error_code booking_error_oom(void)
{
	return booking_error_set(BOOKING_ENOMEM, NULL, "out of memory");
}

int booking__error_json(int code, json_t *details, const char *fmt, ...)
{
	char *text = details ? booking__json_dumps(details, JSON_COMPACT) : NULL;
	json_decref(details);
	va_list ap;
	va_start(ap, fmt);
	int rc = error_vset(code, text, fmt, ap);
	va_end(ap);
	booking_free(text);
	return rc;
}

int booking__error_field(const char *field, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *d = json_pack("{s:s}", "field", field);
	return booking__error_json(BOOKING_EVALIDATION, d, "%s: %s", field, msg);
}

/* --- details without JSON: booking_error_detail*() -------------------------- */

static _Thread_local char tls_detail[DETAILS_MAX];

/* The details of `err` parsed (NULL when not JSON, not an object, or out of memory). */
static json_t *details_of(const booking_error *err)
{
	if (!err)
		err = booking_error_last();
	bool oom = false;
	json_t *d = booking__json_loads(err->details_json ? err->details_json : "{}", 0, NULL, &oom);
	if (d && !json_is_object(d)) {
		json_decref(d);
		d = NULL;
	}
	return d;
}

/* A scalar as text in tls_detail; NULL for anything else. */
static const char *scalar_text(const json_t *v)
{
	if (json_is_string(v))
		snprintf(tls_detail, sizeof tls_detail, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(tls_detail, sizeof tls_detail, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(tls_detail, sizeof tls_detail, "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(tls_detail, sizeof tls_detail, "%s", json_is_true(v) ? "true" : "false");
	else
		return NULL;
	return tls_detail;
}

const char *booking_error_detail(const booking_error *err, const char *key)
{
	json_t *d = key ? details_of(err) : NULL;
	const char *text = d ? scalar_text(json_object_get(d, key)) : NULL;
	json_decref(d);
	return text;
}

size_t booking_error_detail_count(const booking_error *err, const char *key)
{
	json_t *d = key ? details_of(err) : NULL;
	size_t n = d ? json_array_size(json_object_get(d, key)) : 0; /* 0 for a non-array */
	json_decref(d);
	return n;
}

const char *booking_error_detail_item(const booking_error *err, const char *key, size_t index)
{
	json_t *d = key ? details_of(err) : NULL;
	const char *text = d ? scalar_text(json_array_get(json_object_get(d, key), index)) : NULL;
	json_decref(d);
	return text;
}

booking_error_code booking_error_to_json(char **json_out, const booking_error *err)
{
	/* never touches the thread's record, which it may be describing: failures are only returned */
	if (!json_out)
		return BOOKING_EVALIDATION;
	*json_out = NULL;
	if (!err)
		err = booking_error_last();
	bool oom = false;
	json_t *details = booking__json_loads(err->details_json ? err->details_json : "{}", 0, NULL, &oom);
	if (oom)
		return BOOKING_ENOMEM;
	if (!details || !json_is_object(details)) {
		json_decref(details);
		details = json_object();
	}
	/* A record the caller filled may hold anything: only content-safe text goes in. */
	char msg[MSG_MAX], name[64];
	const char *m = err->message ? err->message : "";
	booking__sanitize(msg, sizeof(msg), m, strnlen(m, sizeof(msg) - 1), SIZE_MAX, false);
	const char *nm = err->name ? err->name : booking_error_name(err->code);
	booking__sanitize(name, sizeof(name), nm, strnlen(nm, sizeof(name) - 1), SIZE_MAX, false);
	json_t *root = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", name, "message", msg, "details", details);
	if (!root)
		return BOOKING_ENOMEM;
	*json_out = booking__json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return *json_out ? 0 : BOOKING_ENOMEM;
}
