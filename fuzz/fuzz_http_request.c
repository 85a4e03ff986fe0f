/*
 * Fuzz target: what an HTTP client sends booking-server before any handler
 * runs (examples/server/request.c) — the method and path matched against
 * the route table, the X-Correlation-ID, traceparent and Authorization
 * headers, and the body checked against the fields of every route.
 *
 * Input: five lines (method, path, X-Correlation-ID, traceparent,
 * Authorization), then the body (the rest, NULs and bad UTF-8 included).
 * Checked: a path some route has gets an Allow list; a matched route has the method (HEAD for GET) and an {id} of
 * [A-Za-z0-9._-] only; a kept correlation id is 1..64 such bytes; a bearer
 * token lies inside its header and is base64url and dots; a body is either
 * an object whose members all are fields of the route, of their type, with
 * the required ones present, or refused with 400 BAD_REQUEST or 422
 * VALIDATION_ERROR naming a field; numbers and times parse or are refused.
 * SPDX-License-Identifier: MIT
 */
#include "fuzz.h"

#include "request.h"

#include <ctype.h>
#include <string.h>

#define N_LINES 5

static bool id_chars(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

static void check_route(const char *method, const char *path)
{
	srv_route_id route = R_COUNT;
	char id[SRV_ID_SIZE];
	srv_match_result m = srv_route_match(method, path, &route, id);
	FUZZ_CHECK(m == SRV_MATCH_OK || m == SRV_MATCH_NOT_FOUND || m == SRV_MATCH_METHOD, "match %d", (int)m);
	char allow[64];
	srv_route_allow(path, allow, sizeof allow);
	FUZZ_CHECK(strlen(allow) < sizeof allow, "allow overflow");
	FUZZ_CHECK((m == SRV_MATCH_NOT_FOUND) == (allow[0] == '\0'), "allow \"%s\" for match %d", allow, (int)m);
	if (m != SRV_MATCH_OK)
		return;
	FUZZ_CHECK(route < R_COUNT, "route %d", (int)route);
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	FUZZ_CHECK(strcmp(srv_routes[route].method, want) == 0, "%s matched a %s route", method,
	           srv_routes[route].method);
	FUZZ_CHECK(strlen(id) < SRV_ID_SIZE && id_chars(id), "id %s", id);
	FUZZ_CHECK((strstr(srv_routes[route].pattern, "{id}") != NULL) == (id[0] != '\0'), "id and pattern %s",
	           srv_routes[route].pattern);
}

static void check_headers(const char *cid, const char *traceparent, const char *auth)
{
	if (srv_correlation_id_valid(cid))
		FUZZ_CHECK(strlen(cid) >= 1 && strlen(cid) <= SRV_CID_MAX && id_chars(cid), "cid %s", cid);
	if (srv_traceparent_valid(traceparent))
		FUZZ_CHECK(strlen(traceparent) == SRV_TRACEPARENT_LEN, "traceparent %s", traceparent);
	const char *token = srv_bearer_token(auth);
	if (token) {
		FUZZ_CHECK(token > auth && token < auth + strlen(auth), "token outside its header");
		FUZZ_CHECK(strlen(token) <= SRV_TOKEN_MAX && id_chars(token), "token %s", token);
	}
}

static const srv_field *field_named(const srv_field *fields, const char *name)
{
	for (size_t i = 0; fields[i].name; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

static void check_body(const char *body, size_t len, const srv_field *fields)
{
	json_t *o = NULL;
	srv_problem p;
	memset(&p, 0, sizeof p);
	if (!srv_body_parse(&o, body, len, fields, &p)) {
		FUZZ_CHECK(o == NULL, "an object with a problem");
		FUZZ_CHECK((p.status == 400 && strcmp(p.code, "BAD_REQUEST") == 0) ||
		               (p.status == 422 && strcmp(p.code, "VALIDATION_ERROR") == 0 && p.field[0]),
		           "problem %d %s field %s", p.status, p.code ? p.code : "(null)", p.field);
		return;
	}
	FUZZ_CHECK(json_is_object(o), "not an object");
	const char *key;
	json_t *v;
	json_object_foreach (o, key, v) {
		const srv_field *f = field_named(fields, key);
		FUZZ_CHECK(f != NULL, "unknown field %s accepted", key);
		if (f->type == SRV_STRING)
			FUZZ_CHECK(json_is_string(v) && (!f->max || json_string_length(v) <= f->max), "field %s", key);
		if (f->type == SRV_INT)
			FUZZ_CHECK(json_is_integer(v), "field %s", key);
		if (f->type == SRV_STRINGS)
			FUZZ_CHECK(json_is_array(v), "field %s", key);
		if (f->type == SRV_PRICES)
			FUZZ_CHECK(json_is_object(v), "field %s", key);
		if (f->type == SRV_TIME) {
			long long ms;
			FUZZ_CHECK(json_is_integer(v) || json_is_string(v), "field %s", key);
			if (json_is_string(v) && srv_parse_iso(json_string_value(v), &ms))
				FUZZ_CHECK(ms >= 0, "time before 1970 from %s", json_string_value(v));
		}
	}
	for (size_t i = 0; fields[i].name; i++)
		FUZZ_CHECK(!fields[i].required || json_object_get(o, fields[i].name), "%s missing", fields[i].name);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	char *line[N_LINES];
	char *p = text;
	for (int i = 0; i < N_LINES; i++) {
		line[i] = p;
		char *nl = memchr(p, '\n', size - (size_t)(p - text));
		if (nl) {
			*nl = '\0';
			p = nl + 1;
		} else {
			p += strlen(p);
		}
	}
	size_t body_len = size - (size_t)(p - text);
	check_route(line[0], line[1]);
	check_headers(line[2], line[3], line[4]);
	long v;
	if (srv_parse_long(line[2], 0, 500, &v))
		FUZZ_CHECK(v >= 0 && v <= 500, "long %ld", v);
	for (int r = 0; r < R_COUNT; r++)
		if (srv_routes[r].fields)
			check_body(p, body_len, srv_routes[r].fields);
	free(text);
	return 0;
}
