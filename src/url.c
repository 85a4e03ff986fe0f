/*
 * The settings in a backend's URL (sys/url.h): one parser of query
 * parameters for every backend, with one shape of error. It knows no
 * backend: the names and ranges are the caller's.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Untrusted text quoted in a message: at most this many characters, then "…". */
#define QUOTE_CHARS 64

_Static_assert(BOOKING_URL_PARAM_MAX == 1024, "booking_url_query_next()'s message says 1024");

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into out (cap bytes, NUL included; out may be
 * NULL to only measure). Returns the decoded length, -1 for a malformed
 * escape or an escaped NUL, -2 when it does not fit in cap - 1 bytes.
 */
static long decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '%') {
			int h = i + 2 < n ? hex_digit(s[i + 1]) : -1, l = i + 2 < n ? hex_digit(s[i + 2]) : -1;
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (o + 1 >= cap && out)
			return -2;
		if (out)
			out[o] = c;
		o++;
	}
	if (out && cap)
		out[o] = '\0';
	return (long)o;
}

static const char *field_of(const booking_url_query *q)
{
	return q->field ? q->field : "url";
}

/* Text of the current parameter (its key or value), decoded when it can be, made safe for a message. */
static void quoted(const char *text, size_t len, char *out, size_t cap)
{
	char decoded[BOOKING_URL_PARAM_MAX + 1];
	long n = decode(text, len, decoded, sizeof(decoded));
	if (n >= 0)
		booking__sanitize(out, cap, decoded, (size_t)n, QUOTE_CHARS, true);
	else
		booking__sanitize(out, cap, text, len, QUOTE_CHARS, true);
}

static void quoted_key(const booking_url_query *q, char *out, size_t cap)
{
	quoted(q->param.key, q->param.key_len, out, cap);
}

static void quoted_value(const booking_url_query *q, char *out, size_t cap)
{
	quoted(q->param.value, q->param.value_len, out, cap);
}

size_t booking_url_base_len(const char *url)
{
	return url ? strcspn(url, "?") : 0;
}

void booking_url_query_init(booking_url_query *q, const char *url, const char *field)
{
	if (!q)
		return;
	memset(q, 0, sizeof(*q));
	q->field = field;
	const char *mark = url ? strchr(url, '?') : NULL;
	q->next = mark ? mark + 1 : NULL;
}

/* A parameter that cannot be read at all: its text as written, quoted. */
static int bad_param(const booking_url_query *q, const char *why)
{
	char text[QUOTE_CHARS * 6 + 8];
	booking__sanitize(text, sizeof(text), q->param.text, q->param.text_len, QUOTE_CHARS, true);
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", field_of(q), "parameter", text),
	                           "%s: parameter \"%s\": %s", field_of(q), text, why);
}

int booking_url_query_next(booking_url_query *q)
{
	if (!q)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "url query: NULL argument");
	while (q->next && *q->next) {
		const char *s = q->next;
		size_t n = strcspn(s, "&");
		q->next = s[n] ? s + n + 1 : s + n;
		if (n == 0)
			continue;
		const char *eq = memchr(s, '=', n);
		booking_url_param *p = &q->param;
		p->text = s;
		p->text_len = n;
		p->key = s;
		p->key_len = eq ? (size_t)(eq - s) : n;
		p->value = eq ? eq + 1 : s + n;
		p->value_len = eq ? n - p->key_len - 1 : 0;
		if (p->key_len == 0)
			return bad_param(q, "no name before the '='");
		long k = decode(p->key, p->key_len, NULL, 0), v = decode(p->value, p->value_len, NULL, 0);
		if (k < 0 || v < 0)
			return bad_param(q, "malformed percent-encoding (%XX, two hex digits, never %00)");
		if (k > BOOKING_URL_PARAM_MAX || v > BOOKING_URL_PARAM_MAX)
			return bad_param(q, "longer than 1024 bytes once decoded");
		return 1;
	}
	q->next = NULL;
	memset(&q->param, 0, sizeof(q->param));
	return 0;
}

bool booking_url_query_is(const booking_url_query *q, const char *name)
{
	if (!q || !name || !q->param.key)
		return false;
	char key[BOOKING_URL_PARAM_MAX + 1];
	long n = decode(q->param.key, q->param.key_len, key, sizeof(key));
	return n >= 0 && (size_t)n == strlen(name) && memcmp(key, name, (size_t)n) == 0;
}

int booking_url_query_text(char *out, size_t size, const booking_url_query *q)
{
	if (!q || !out || size == 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "url query: NULL argument");
	long n = decode(q->param.value, q->param.value_len, out, size);
	if (n >= 0)
		return (int)n;
	out[0] = '\0';
	char key[QUOTE_CHARS * 6 + 8], value[QUOTE_CHARS * 6 + 8];
	quoted_key(q, key, sizeof(key));
	quoted_value(q, value, sizeof(value));
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:I}", "field", field_of(q), "parameter", key, "max_bytes",
	                                     (json_int_t)(size - 1)),
	                           "%s: %s=\"%s\": longer than %zu bytes", field_of(q), key, value, size - 1);
}

booking_error_code booking_url_query_int64(int64_t *out, const booking_url_query *q, int64_t min, int64_t max)
{
	if (!q || !out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "url query: NULL argument");
	char text[32];
	long n = decode(q->param.value, q->param.value_len, text, sizeof(text));
	bool ok = n > 0;
	for (long i = 0; ok && i < n; i++)
		ok = (text[i] >= '0' && text[i] <= '9') || (i == 0 && text[i] == '-' && n > 1);
	if (ok) {
		char *end;
		errno = 0;
		long long v = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0' && v >= min && v <= max) {
			*out = (int64_t)v;
			return 0;
		}
	}
	char key[QUOTE_CHARS * 6 + 8], value[QUOTE_CHARS * 6 + 8];
	quoted_key(q, key, sizeof(key));
	quoted_value(q, value, sizeof(value));
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:I,s:I}", "field", field_of(q), "parameter", key, "min",
	                                     (json_int_t)min, "max", (json_int_t)max),
	                           "%s: %s=\"%s\": must be an integer in %lld..%lld", field_of(q), key, value,
	                           (long long)min, (long long)max);
}

booking_error_code booking_url_query_int(int *out, const booking_url_query *q, int min, int max)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "url query: NULL argument");
	int64_t v = 0;
	int rc = booking_url_query_int64(&v, q, min, max);
	if (rc == 0)
		*out = (int)v;
	return rc;
}

/* names joined with ", " into out (cut short when it does not fit). */
static void join(char *out, size_t cap, const char *const *names, size_t n)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && at < cap; i++) {
		int w = snprintf(out + at, cap - at, "%s%s", i ? ", " : "", names[i] ? names[i] : "");
		if (w < 0)
			break;
		at += (size_t)w;
	}
}

booking_error_code booking_url_query_choice(size_t *index_out, const booking_url_query *q, const char *const *names, size_t n)
{
	if (!q || (!names && n) || !index_out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "url query: NULL argument");
	char text[128];
	long len = decode(q->param.value, q->param.value_len, text, sizeof(text));
	for (size_t i = 0; len >= 0 && i < n; i++)
		if (names[i] && strcasecmp(text, names[i]) == 0) {
			*index_out = i;
			return 0;
		}
	char key[QUOTE_CHARS * 6 + 8], value[QUOTE_CHARS * 6 + 8], allowed[256];
	quoted_key(q, key, sizeof(key));
	quoted_value(q, value, sizeof(value));
	join(allowed, sizeof(allowed), names, n);
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:s}", "field", field_of(q), "parameter", key, "allowed", allowed),
	                           "%s: %s=\"%s\": must be one of %s", field_of(q), key, value, allowed);
}

booking_error_code booking_url_query_unknown(const booking_url_query *q, const char *allowed)
{
	if (!q)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "url query: NULL argument");
	char key[QUOTE_CHARS * 6 + 8];
	quoted_key(q, key, sizeof(key));
	const char *a = allowed ? allowed : "";
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:s,s:s}", "field", field_of(q), "parameter", key, "allowed", a),
	                           "%s: unknown parameter \"%s\" (allowed: %s)", field_of(q), key, a);
}
