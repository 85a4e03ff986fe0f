/*
 * booking-server — route table, header values and JSON bodies (request.h).
 * SPDX-License-Identifier: MIT
 */
#include "request.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* ---- the routes ----------------------------------------------------------- */

static const srv_field f_credentials[] = {
	{"email", SRV_STRING, true, 254}, {"password", SRV_STRING, true, 1024}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_none[] = {{NULL, SRV_STRING, false, 0}};
static const srv_field f_movie[] = {
	{"title", SRV_STRING, true, 1024}, {"duration_minutes", SRV_INT, true, 0}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_theater[] = {
	{"name", SRV_STRING, true, 1024}, {"city", SRV_STRING, false, 1024}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_screen[] = {
	{"name", SRV_STRING, true, 1024}, {"layout", SRV_STRING, true, 8192}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_showtime[] = {{"movie_id", SRV_STRING, true, 64},
                                       {"screen_id", SRV_STRING, true, 64},
                                       {"starts_at", SRV_TIME, true, 64},
                                       {"currency", SRV_STRING, true, 3},
                                       {"prices", SRV_PRICES, true, 64},
                                       {NULL, SRV_STRING, false, 0}};
static const srv_field f_hold[] = {{"showtime_id", SRV_STRING, true, 64}, {"seat_ids", SRV_STRINGS, false, 50},
                                   {"best", SRV_INT, false, 0},           {"category", SRV_STRING, false, 31},
                                   {"max_price", SRV_INT, false, 0},      {"for_user_id", SRV_STRING, false, 64},
                                   {NULL, SRV_STRING, false, 0}};
static const srv_field f_extend[] = {{"minutes", SRV_INT, false, 0}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_change[] = {
	{"add", SRV_STRINGS, false, 50}, {"remove", SRV_STRINGS, false, 50}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_block[] = {
	{"seats", SRV_STRINGS, true, 5000}, {"reason", SRV_STRING, true, 31}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_unblock[] = {{"seats", SRV_STRINGS, true, 5000}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_waitlist[] = {
	{"party_size", SRV_INT, true, 0}, {"category", SRV_STRING, false, 31}, {NULL, SRV_STRING, false, 0}};
static const srv_field f_pay[] = {{"booking_id", SRV_STRING, true, 64},
                                  {"card_number", SRV_STRING, true, 32},
                                  {"idempotency_key", SRV_STRING, false, 255},
                                  {NULL, SRV_STRING, false, 0}};

const srv_route srv_routes[R_COUNT] = {
	[R_REGISTER] = {"POST", "/api/v1/auth/register", SRV_AUTH_NONE, f_credentials},
	[R_LOGIN] = {"POST", "/api/v1/auth/login", SRV_AUTH_NONE, f_credentials},
	[R_LOGOUT] = {"POST", "/api/v1/auth/logout", SRV_AUTH_USER, f_none},
	[R_ME] = {"GET", "/api/v1/auth/me", SRV_AUTH_USER, NULL},
	[R_JWKS] = {"GET", "/.well-known/jwks.json", SRV_AUTH_NONE, NULL},
	[R_MOVIES_LIST] = {"GET", "/api/v1/movies", SRV_AUTH_NONE, NULL},
	[R_MOVIES_CREATE] = {"POST", "/api/v1/movies", SRV_AUTH_USER, f_movie},
	[R_THEATERS_LIST] = {"GET", "/api/v1/theaters", SRV_AUTH_NONE, NULL},
	[R_THEATERS_CREATE] = {"POST", "/api/v1/theaters", SRV_AUTH_USER, f_theater},
	[R_SCREENS_CREATE] = {"POST", "/api/v1/theaters/{id}/screens", SRV_AUTH_USER, f_screen},
	[R_SCREEN_GET] = {"GET", "/api/v1/screens/{id}", SRV_AUTH_NONE, NULL},
	[R_SHOWTIMES_LIST] = {"GET", "/api/v1/showtimes", SRV_AUTH_NONE, NULL},
	[R_SHOWTIMES_CREATE] = {"POST", "/api/v1/showtimes", SRV_AUTH_USER, f_showtime},
	[R_SHOWTIME_GET] = {"GET", "/api/v1/showtimes/{id}", SRV_AUTH_NONE, NULL},
	[R_SEATS] = {"GET", "/api/v1/showtimes/{id}/seats", SRV_AUTH_NONE, NULL},
	[R_EVENTS] = {"GET", "/api/v1/showtimes/{id}/events", SRV_AUTH_NONE, NULL},
	[R_BOOKINGS_CREATE] = {"POST", "/api/v1/bookings", SRV_AUTH_USER, f_hold},
	[R_BOOKINGS_LIST] = {"GET", "/api/v1/bookings", SRV_AUTH_USER, NULL},
	[R_BOOKING_GET] = {"GET", "/api/v1/bookings/{id}", SRV_AUTH_USER, NULL},
	[R_BOOKING_CANCEL] = {"POST", "/api/v1/bookings/{id}/cancel", SRV_AUTH_USER, f_none},
	[R_BOOKING_EXTEND] = {"POST", "/api/v1/bookings/{id}/extend", SRV_AUTH_USER, f_extend},
	[R_BOOKING_CHANGE] = {"POST", "/api/v1/bookings/{id}/change", SRV_AUTH_USER, f_change},
	[R_DOOR_LIST] = {"GET", "/api/v1/showtimes/{id}/bookings", SRV_AUTH_USER, NULL},
	[R_BLOCK] = {"POST", "/api/v1/showtimes/{id}/block", SRV_AUTH_USER, f_block},
	[R_UNBLOCK] = {"POST", "/api/v1/showtimes/{id}/unblock", SRV_AUTH_USER, f_unblock},
	[R_WAITLIST_JOIN] = {"POST", "/api/v1/showtimes/{id}/waitlist", SRV_AUTH_USER, f_waitlist},
	[R_WAITLIST_LIST] = {"GET", "/api/v1/showtimes/{id}/waitlist", SRV_AUTH_USER, NULL},
	[R_WAITLIST_LEAVE] = {"DELETE", "/api/v1/showtimes/{id}/waitlist", SRV_AUTH_USER, NULL},
	[R_WAITLIST_PROCESS] = {"POST", "/api/v1/showtimes/{id}/waitlist/process", SRV_AUTH_USER, f_none},
	[R_LIMITS] = {"GET", "/api/v1/limits", SRV_AUTH_NONE, NULL},
	[R_PAY] = {"POST", "/api/v1/payments", SRV_AUTH_USER, f_pay},
	[R_PAYMENT_GET] = {"GET", "/api/v1/payments/{id}", SRV_AUTH_USER, NULL},
	[R_REFUND] = {"POST", "/api/v1/payments/{id}/refund", SRV_AUTH_USER, f_none},
	[R_HEALTH] = {"GET", "/health", SRV_AUTH_NONE, NULL},
	[R_READY] = {"GET", "/ready", SRV_AUTH_NONE, NULL},
	[R_METRICS] = {"GET", "/metrics", SRV_AUTH_NONE, NULL},
	[R_OPENAPI] = {"GET", "/openapi.json", SRV_AUTH_NONE, NULL},
};

static bool id_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* Does `path` fit `pattern`? The {id} segment is copied into id_out. */
static bool pattern_fits(const char *pattern, const char *path, char *id_out)
{
	const char *p = pattern, *s = path;
	while (*p) {
		if (strncmp(p, "{id}", 4) == 0) {
			size_t n = 0;
			while (s[n] && s[n] != '/') {
				if (!id_char(s[n]) || n + 1 >= SRV_ID_SIZE)
					return false;
				n++;
			}
			if (n == 0)
				return false;
			memcpy(id_out, s, n);
			id_out[n] = '\0';
			s += n;
			p += 4;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return *s == '\0';
}

srv_match_result srv_route_match(const char *method, const char *path, srv_route_id *route_out, char *id_out)
{
	bool path_known = false;
	char id[SRV_ID_SIZE];
	id_out[0] = '\0';
	if (!method || !path)
		return SRV_MATCH_NOT_FOUND;
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	for (int i = 0; i < R_COUNT; i++) {
		id[0] = '\0';
		if (!pattern_fits(srv_routes[i].pattern, path, id))
			continue;
		path_known = true;
		if (strcmp(srv_routes[i].method, m) == 0) {
			*route_out = (srv_route_id)i;
			memcpy(id_out, id, strlen(id) + 1);
			return SRV_MATCH_OK;
		}
	}
	return path_known ? SRV_MATCH_METHOD : SRV_MATCH_NOT_FOUND;
}

void srv_route_allow(const char *path, char *out, size_t size)
{
	char id[SRV_ID_SIZE];
	size_t used = 0;
	if (size)
		out[0] = '\0';
	for (int i = 0; path && i < R_COUNT; i++) {
		if (!pattern_fits(srv_routes[i].pattern, path, id) || strstr(out, srv_routes[i].method))
			continue;
		int n = snprintf(out + used, size - used, "%s%s", used ? ", " : "", srv_routes[i].method);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
		if (strcmp(srv_routes[i].method, "GET") == 0) {
			n = snprintf(out + used, size - used, ", HEAD");
			if (n < 0 || (size_t)n >= size - used)
				break;
			used += (size_t)n;
		}
	}
}

/* ---- header values ------------------------------------------------------- */

bool srv_correlation_id_valid(const char *s)
{
	size_t n = 0;
	if (!s)
		return false;
	for (; s[n]; n++)
		if (!id_char(s[n]) || n >= SRV_CID_MAX)
			return false;
	return n > 0;
}

static bool lower_hex(const char *s, size_t n, bool *all_zero)
{
	*all_zero = true;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
		if (s[i] != '0')
			*all_zero = false;
	}
	return true;
}

bool srv_traceparent_valid(const char *s)
{
	bool zero;
	if (!s || strlen(s) != SRV_TRACEPARENT_LEN || s[2] != '-' || s[35] != '-' || s[52] != '-')
		return false;
	if (!lower_hex(s, 2, &zero) || strncmp(s, "ff", 2) == 0)
		return false;
	if (!lower_hex(s + 3, 32, &zero) || zero)
		return false;
	if (!lower_hex(s + 36, 16, &zero) || zero)
		return false;
	return lower_hex(s + 53, 2, &zero);
}

const char *srv_bearer_token(const char *header)
{
	if (!header || strncasecmp(header, "Bearer ", 7) != 0)
		return NULL;
	const char *t = header + 7;
	while (*t == ' ')
		t++;
	size_t n = 0;
	for (; t[n]; n++) {
		char c = t[n];
		if (!(isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.') || n >= SRV_TOKEN_MAX)
			return NULL;
	}
	return n > 0 ? t : NULL;
}

/* ---- bodies -------------------------------------------------------------- */

static bool problem(srv_problem *p, int status, const char *code, const char *field, const char *message)
{
	p->status = status;
	p->code = code;
	snprintf(p->field, sizeof p->field, "%s", field ? field : "");
	snprintf(p->message, sizeof p->message, "%s", message);
	return false;
}

/* Valid UTF-8 without NUL, overlongs or surrogates (jansson checks too; this names the fault first). */
static bool utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned int cp;
		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1Fu;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0Fu;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07u;
		} else {
			return false;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (s[i + k] & 0xC0u) != 0x80u)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3Fu);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n + 1;
	}
	return true;
}

static const srv_field *field_named(const srv_field *fields, const char *name)
{
	for (size_t i = 0; fields && fields[i].name; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

static bool string_fits(const json_t *v, size_t max)
{
	return json_is_string(v) && (max == 0 || json_string_length(v) <= max);
}

static bool value_fits(const srv_field *f, const json_t *v)
{
	size_t i;
	const char *k;
	json_t *e;
	switch (f->type) {
	case SRV_STRING:
		return string_fits(v, f->max);
	case SRV_INT:
		return json_is_integer(v);
	case SRV_TIME:
		return json_is_integer(v) || string_fits(v, f->max);
	case SRV_STRINGS:
		if (!json_is_array(v) || (f->max && json_array_size(v) > f->max))
			return false;
		json_array_foreach (v, i, e)
			if (!string_fits(e, 64))
				return false;
		return true;
	case SRV_PRICES:
		if (!json_is_object(v) || (f->max && json_object_size(v) > f->max))
			return false;
		json_object_foreach ((json_t *)v, k, e)
			if (!json_is_integer(e) || strlen(k) > 64)
				return false;
		return true;
	}
	return false;
}

bool srv_body_parse(json_t **out, const char *body, size_t len, const srv_field *fields, srv_problem *p)
{
	*out = NULL;
	json_t *o;
	if (len == 0) {
		o = json_object();
	} else {
		if (!utf8_valid((const unsigned char *)body, len))
			return problem(p, 400, "BAD_REQUEST", NULL, "the body is not valid UTF-8");
		json_error_t err;
		o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &err);
		if (!o) {
			char msg[200];
			snprintf(msg, sizeof msg, "malformed JSON at line %d column %d", err.line, err.column);
			return problem(p, 400, "BAD_REQUEST", NULL, msg);
		}
	}
	if (!json_is_object(o)) {
		json_decref(o);
		return problem(p, 400, "BAD_REQUEST", NULL, "the body must be a JSON object");
	}
	const char *key;
	json_t *v;
	json_object_foreach (o, key, v) {
		const srv_field *f = field_named(fields, key);
		char safe[64];
		/* the name as given, cut and with other bytes than [A-Za-z0-9._-] as '?': it is echoed back */
		snprintf(safe, sizeof safe, "%s", key[0] ? key : "(empty)");
		for (char *c = safe; *c; c++)
			if (!id_char(*c) && strcmp(safe, "(empty)") != 0)
				*c = '?';
		if (!f) {
			json_decref(o);
			return problem(p, 422, "VALIDATION_ERROR", safe, "unknown field");
		}
		if (!value_fits(f, v)) {
			json_decref(o);
			return problem(p, 422, "VALIDATION_ERROR", f->name, "wrong type or too long");
		}
	}
	for (size_t i = 0; fields && fields[i].name; i++) {
		if (fields[i].required && !json_object_get(o, fields[i].name)) {
			json_decref(o);
			return problem(p, 422, "VALIDATION_ERROR", fields[i].name, "required field missing");
		}
	}
	*out = o;
	return true;
}

bool srv_parse_long(const char *s, long min, long max, long *out)
{
	if (!s || !*s || strlen(s) > 18)
		return false;
	for (const char *c = s; *c; c++)
		if (*c < '0' || *c > '9')
			return false;
	errno = 0;
	long v = strtol(s, NULL, 10);
	if (errno || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* `n` digits at s into *out. */
static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

bool srv_parse_iso(const char *s, long long *ms_out)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
	if (!s || strlen(s) < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	    !digits(s + 8, 2, &d))
		return false;
	const char *p = s + 10;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (strlen(p) < 6 || !digits(p + 1, 2, &h) || p[3] != ':' || !digits(p + 4, 2, &mi))
			return false;
		p += 6;
		if (*p == ':') {
			if (!digits(p + 1, 2, &sec))
				return false;
			p += 3;
			if (*p == '.') {
				int scale = 100;
				for (p++; *p >= '0' && *p <= '9'; p++) {
					ms += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (strcmp(p, "+00:00") == 0)
		p += 6;
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970)
		return false;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*ms_out = (long long)t * 1000 + ms;
	return true;
}
