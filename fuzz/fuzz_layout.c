/*
 * Fuzz target: seat layouts ("A-H:15,J:10:premium"), which admins type and
 * hosts pass through from forms.
 *
 * The input is the layout text. Checked: booking_layout_parse() answers 0
 * or VALIDATION_ERROR; what it accepts has 1..100000 seats with valid,
 * unique labels and valid categories, and booking_screen_create() accepts
 * exactly those seats (the parser never produces a screen the catalog
 * refuses).
 * SPDX-License-Identifier: MIT
 */
#include "fuzz.h"

#include <booking/booking.h>
#include <booking/sys/backend.h>

#include <string.h>

#define T0 INT64_C(1767225600000)

static int cmp_label(const void *a, const void *b)
{
	return strcmp(((const booking_seat *)a)->label, ((const booking_seat *)b)->label);
}

static bool label_ok(const char *s)
{
	size_t n = strnlen(s, BOOKING_LABEL_SIZE);
	if (n == 0 || n >= BOOKING_LABEL_SIZE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-'))
			return false;
	return true;
}

static bool category_ok(const char *s)
{
	size_t n = strnlen(s, BOOKING_CATEGORY_SIZE);
	if (n == 0 || n >= BOOKING_CATEGORY_SIZE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static void create_screen(const booking_seat *seats, size_t n)
{
	booking_clock *clock = booking_clock_manual_new(T0);
	FUZZ_CHECK(clock != NULL, "clock");
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.clock = clock;
	o.log_level = BOOKING_LOG_CRITICAL;
	booking_handle *bk = NULL;
	FUZZ_CHECK(booking_open(&bk, &o) == 0, "open");
	booking_ctx admin;
	booking_ctx_init(&admin, "admin", BOOKING_ROLE_ADMIN);
	booking_theater *t = NULL;
	FUZZ_CHECK(booking_theater_create(&t, bk, &admin, "Fuzz", NULL) == 0, "theater");
	booking_screen *s = NULL;
	int rc = booking_screen_create(&s, bk, &admin, t->id, "Screen", seats, n, sizeof *seats);
	FUZZ_CHECK(rc == 0, "a parsed layout of %zu seats is refused: %s", n, booking_error_last()->message);
	FUZZ_CHECK(s->seat_count == n, "screen has %zu of %zu seats", s->seat_count, n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(strcmp(s->seats[i]->label, seats[i].label) == 0, "seat %zu reordered", i);
	booking_screen_free(s);
	booking_theater_free(t);
	booking_close(bk);
	booking_clock_manual_free(clock);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *spec = fuzz_text(data, size);
	booking_seat *seats = NULL;
	size_t n = 0;
	int rc = booking_layout_parse(&seats, &n, spec, sizeof *seats);
	FUZZ_CHECK(rc == 0 || rc == BOOKING_EVALIDATION, "parse answered %s", booking_error_name(rc));
	if (rc < 0) {
		FUZZ_CHECK(seats == NULL && n == 0, "outputs set on failure");
		FUZZ_CHECK(strstr(booking_error_last()->details_json, "\"field\"") != NULL, "details name the field: %s",
		           booking_error_last()->details_json);
		free(spec);
		return 0;
	}
	FUZZ_CHECK(seats != NULL && n >= 1 && n <= 100000, "%zu seats", n);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(label_ok(seats[i].label), "label %zu", i);
		FUZZ_CHECK(category_ok(seats[i].category), "category %zu", i);
	}
	booking_seat *sorted = malloc(n * sizeof(*sorted));
	FUZZ_CHECK(sorted != NULL, "malloc");
	memcpy(sorted, seats, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_label);
	for (size_t i = 1; i < n; i++)
		FUZZ_CHECK(strcmp(sorted[i - 1].label, sorted[i].label) != 0, "label %s twice", sorted[i].label);
	free(sorted);
	create_screen(seats, n);
	booking_free(seats);
	free(spec);
	return 0;
}
