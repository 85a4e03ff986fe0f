/*
 * Records as JSON: the shapes of the CLI's --json and of booking-server's
 * responses (doc/cli.md), shared so both answer alike.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_EXAMPLES_JSON_RECORDS_H
#define BOOKING_EXAMPLES_JSON_RECORDS_H

#include <booking/booking.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "2025-06-01T20:00:00.000Z" (UTC ms) into buf; returns buf. */
const char *fmt_iso(char *buf, size_t size, int64_t ms);

/* Records as JSON: new references, NULL when memory ran out. Records are borrowed. */
json_t *json_time(int64_t ms);
json_t *json_movie(const booking_movie *m);
json_t *json_theater(const booking_theater *t);
json_t *json_screen(const booking_screen *s);
json_t *json_showtime(const booking_showtime *s);
json_t *json_reservation(const booking_reservation *r);
json_t *json_payment(const booking_payment *p);
json_t *json_seat_map(const booking_seat_map *m);
/* {id,email,role,created_at,updated_at} */
json_t *json_user(const booking_user *u);
/*
 * A waiting list's entry: {id, showtime_id, user_id, party_size, category
 * ("" any), status (WAITING, OFFERED), position, passes, joined_at,
 * reservation_id, offer_expires_at}; the last two are null unless OFFERED.
 */
json_t *json_waitlist_entry(const booking_waitlist_entry *e);

/*
 * The fair-sale limits (doc/fairness.md) a host opens the library with,
 * each with its default filled in, as `booking limits` and
 * GET /api/v1/limits show them.
 */
typedef struct fair_limit {
	const char *name;     /* the option: "rate_holds_per_minute" */
	const char *variable; /* its variable: "BOOKING_RATE_HOLDS_PER_MINUTE" */
	const char *unit;     /* "seats", "/min", "s", ... */
	const char *error;    /* the error it answers (RATE_LIMITED...), NULL when it refuses nothing itself */
	int value;            /* in effect; 0 when off */
	int def;              /* the default */
	bool off;             /* the limit does not apply */
	bool set;             /* the options set it (else its default applies) */
} fair_limit;

#define FAIR_LIMIT_COUNT 9

/* Fill `out` from `opts` (booking_options_from_env()'s, or a host's own); returns FAIR_LIMIT_COUNT. */
size_t fair_limits(const booking_options *opts, fair_limit out[FAIR_LIMIT_COUNT]);
/* {"limits":{NAME:{value, off, default, unit, variable, set, error, status}}}: a new reference, NULL when memory ran out. */
json_t *json_limits(const booking_options *opts);

#endif
