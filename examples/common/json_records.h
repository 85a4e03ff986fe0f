/*
 * Records as JSON: the shapes of the CLI's --json and of booking-server's
 * responses (doc/cli.md), shared so both answer alike.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_EXAMPLES_JSON_RECORDS_H
#define BOOKING_EXAMPLES_JSON_RECORDS_H

#include <booking/booking.h>
#include <jansson.h>
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

#endif
