/*
 * booking-server — the parts of a request that are pure parsing: the route
 * table and its matching, header values (X-Correlation-ID, traceparent,
 * Authorization), and JSON bodies checked against a route's fields. No
 * sockets and no handle here, so fuzz/fuzz_http_request.c can drive it all.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SERVER_REQUEST_H
#define BOOKING_SERVER_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Largest path parameter ({id}): UUIDs are 36 bytes; room for other ids. */
#define SRV_ID_SIZE 80
/* Largest bearer token accepted (a compact JWT of this library is ~400 bytes). */
#define SRV_TOKEN_MAX 4096
/* Largest correlation id: [A-Za-z0-9._-]{1,64}. */
#define SRV_CID_MAX 64
/* A W3C traceparent is exactly 55 characters. */
#define SRV_TRACEPARENT_LEN 55

/* Who may call a route. */
typedef enum srv_auth {
	SRV_AUTH_NONE = 0, /* anyone; a bearer token, when sent, is still verified */
	SRV_AUTH_USER = 1  /* a verified bearer token is required (401 without); the library checks roles */
} srv_auth;

/* The JSON type of a body field. */
typedef enum srv_type {
	SRV_STRING,       /* a string */
	SRV_INT,          /* an integer (not a real, not a bool) */
	SRV_STRINGS,      /* an array of strings */
	SRV_PRICES,       /* an object of integer values {"standard":1250} */
	SRV_TIME          /* an ISO 8601 string or epoch milliseconds */
} srv_type;

typedef struct srv_field {
	const char *name;
	srv_type type;
	bool required;
	size_t max; /* strings: most bytes; arrays and objects: most entries; 0: no bound of its own */
} srv_field;

/* Routes, in the order of srv_routes[]. */
typedef enum srv_route_id {
	R_REGISTER, R_LOGIN, R_LOGOUT, R_ME, R_JWKS,
	R_MOVIES_LIST, R_MOVIES_CREATE, R_THEATERS_LIST, R_THEATERS_CREATE, R_SCREENS_CREATE, R_SCREEN_GET,
	R_SHOWTIMES_LIST, R_SHOWTIMES_CREATE, R_SHOWTIME_GET, R_SEATS, R_EVENTS,
	R_BOOKINGS_CREATE, R_BOOKINGS_LIST, R_BOOKING_GET, R_BOOKING_CANCEL, R_BOOKING_EXTEND, R_BOOKING_CHANGE,
	R_DOOR_LIST, R_BLOCK, R_UNBLOCK,
	R_WAITLIST_JOIN, R_WAITLIST_LIST, R_WAITLIST_LEAVE, R_WAITLIST_PROCESS, R_LIMITS,
	R_PAY, R_PAYMENT_GET, R_REFUND,
	R_HEALTH, R_READY, R_METRICS, R_OPENAPI,
	R_COUNT
} srv_route_id;

typedef struct srv_route {
	const char *method;        /* "GET", "POST" */
	const char *pattern;       /* "/api/v1/showtimes/{id}/seats": its name in metrics too */
	srv_auth auth;
	const srv_field *fields;   /* the body's fields (NULL: no body is read; a sent one is ignored) */
} srv_route;

extern const srv_route srv_routes[R_COUNT];

/* What matching a method and path found. */
typedef enum srv_match_result {
	SRV_MATCH_OK,        /* *route_out and id_out set */
	SRV_MATCH_NOT_FOUND, /* no route has this path: 404 (the page's static files are tried first by the caller) */
	SRV_MATCH_METHOD     /* a route has this path, not with this method: 405 */
} srv_match_result;

/*
 * Match `method` and `path` (no query string) against srv_routes[]. A
 * `{id}` segment matches 1..SRV_ID_SIZE-1 bytes of [A-Za-z0-9._-], copied
 * into id_out (SRV_ID_SIZE bytes). HEAD matches GET routes.
 */
srv_match_result srv_route_match(const char *method, const char *path, srv_route_id *route_out, char *id_out);

/* The methods the routes of `path` take, as an Allow header value ("GET, HEAD, POST") into out. */
void srv_route_allow(const char *path, char *out, size_t size);

/* An X-Correlation-ID we keep: [A-Za-z0-9._-]{1,64}. NULL is not valid. */
bool srv_correlation_id_valid(const char *s);
/* A W3C traceparent: 2 hex "-" 32 hex "-" 16 hex "-" 2 hex, lower case, ids not all zero, version not ff. */
bool srv_traceparent_valid(const char *s);

/*
 * The token of "Bearer <token>" (scheme case-insensitive, one or more
 * spaces), borrowed from `header`; NULL when the header is not a bearer
 * credential of base64url and dots, 1..SRV_TOKEN_MAX bytes.
 */
const char *srv_bearer_token(const char *header);

/* Why a request was refused before any handler ran. */
typedef struct srv_problem {
	int status;        /* 400, 413, 422 ... */
	const char *code;  /* "BAD_REQUEST", "VALIDATION_ERROR" */
	char message[256];
	char field[64];    /* the field for VALIDATION_ERROR, "" otherwise */
} srv_problem;

/*
 * Parse `len` bytes of `body` as the JSON object `fields` describe: bad
 * UTF-8, a NUL, malformed JSON, or not an object → 400 BAD_REQUEST; an
 * unknown field, a field of the wrong type or too long, a missing required
 * field → 422 VALIDATION_ERROR naming the field. An empty body is `{}`.
 * @param out set to the object (caller owns: json_decref) on success; NULL otherwise.
 * @return true on success, false with `problem` filled.
 */
bool srv_body_parse(json_t **out, const char *body, size_t len, const srv_field *fields, srv_problem *problem);

/* A query or header integer in [min, max]: digits only. */
bool srv_parse_long(const char *s, long min, long max, long *out);

/* Epoch ms from an ISO 8601 UTC string ("2030-06-01T20:00:00Z", ".123", "+00:00") ; false when it is not one. */
bool srv_parse_iso(const char *s, long long *ms_out);

#endif
