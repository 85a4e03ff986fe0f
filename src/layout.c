/*
 * Seat layouts: "A-H:15,J:10:premium" → A1..H15 standard, J1..J10 premium.
 *
 * Rows come in the order the spec lists them, and that order is the one
 * from the screen outward: the first row listed is the nearest the screen
 * ("A-H" puts A in front, "J:11,A-B:2" puts J in front of A). The seat
 * picker (seatpick.c) reads depth that way.
 *
 * A seat count may be blocks joined by '+', with an aisle between two
 * blocks: "A:4+8+4" is A1..A16 with an aisle after A4 and after A12. Seats
 * are numbered across the aisles; their `column` counts each aisle as one
 * empty place (A1..A4 columns 1..4, A5..A12 columns 6..13, A13..A16 columns
 * 15..18), so two seats are side by side exactly when their columns differ
 * by 1. Without '+' the column is the number.
 *
 * A row is one or two capital letters, in the order of spreadsheet columns:
 * A..Z, then AA..AZ, BA..BZ, ..., ZZ (702 rows), so "A-DZ:999" is 130 rows
 * of 999 seats. A range runs in that order ("Y-AB" is Y, Z, AA, AB). A
 * label is the row then the number ("AB12"), and booking__seat_split()
 * reads the row back as the label's leading letters.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define LAYOUT_MAX_SEATS 100000
#define LAYOUT_MAX_SPEC 4096
#define LAYOUT_ROWS (26 + 26 * 26) /* A..Z, AA..ZZ */

void booking__seat_split(const char *label, char row[BOOKING_LABEL_SIZE], int *number)
{
	size_t letters = 0, digits = 0;
	while (letters < BOOKING_LABEL_SIZE - 1 && isalpha((unsigned char)label[letters]))
		letters++;
	while (letters + digits < BOOKING_LABEL_SIZE - 1 && isdigit((unsigned char)label[letters + digits]))
		digits++;
	memcpy(row, label, letters);
	row[letters] = '\0';
	*number = 0;
	if (digits == 0 || digits > 9 || label[letters + digits] != '\0')
		return; /* "BOX", "A-2", "2B": no number */
	for (size_t i = letters; i < letters + digits; i++)
		*number = *number * 10 + (label[i] - '0');
}

static int layout_error(const char *spec, const char *p, const char *what)
{
	return booking__error_json(BOOKING_EVALIDATION,
	                           json_pack("{s:s,s:i}", "field", "layout", "offset", (int)(p - spec)),
	                           "layout: %s at offset %d", what, (int)(p - spec));
}

/*
 * A row's seat count: COUNT or blocks COUNT+COUNT+... (each at least 1, at
 * most 999 seats in all). Sets *total; advances *pp past it.
 */
static int parse_counts(const char *spec, const char **pp, int *total)
{
	const char *p = *pp;
	int sum = 0;
	for (;;) {
		if (!isdigit((unsigned char)*p))
			return layout_error(spec, p, sum ? "expected a seat count after '+'" : "expected a seat count");
		int n = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (sum + n > 999)
				return layout_error(spec, p, "seat count above 999");
		}
		if (n < 1)
			return layout_error(spec, p, "seat count must be at least 1");
		sum += n;
		if (*p != '+')
			break;
		p++;
	}
	*total = sum;
	*pp = p;
	return 0;
}

/*
 * A row: one or two capital letters. Sets *index to its place in the order
 * A..Z, AA..AZ, ..., ZZ (0..LAYOUT_ROWS-1); advances *pp past it.
 */
static int parse_row(const char *spec, const char **pp, int *index, const char *what)
{
	const char *p = *pp;
	if (!isupper((unsigned char)*p))
		return layout_error(spec, p, what);
	int i = *p++ - 'A';
	if (isupper((unsigned char)*p))
		i = 26 + i * 26 + (*p++ - 'A');
	if (isalpha((unsigned char)*p))
		return layout_error(spec, p, "a row is one or two capital letters");
	*index = i;
	*pp = p;
	return 0;
}

/* The name of row `index` (see parse_row()): "A", "Z", "AA", "ZZ". */
static void row_name(int index, char name[3])
{
	if (index < 26) {
		name[0] = (char)('A' + index);
		name[1] = '\0';
	} else {
		name[0] = (char)('A' + (index - 26) / 26);
		name[1] = (char)('A' + (index - 26) % 26);
		name[2] = '\0';
	}
}

/*
 * One group: ROWS:COUNT[+COUNT...][:CATEGORY], ROWS a row or FIRST-LAST.
 * Advances *pp past it; *counts points at the (checked) count text, which
 * append_row() reads again.
 */
static int parse_group(const char *spec, const char **pp, int *first, int *last, const char **counts, int *count,
                       char *category)
{
	const char *p = *pp;
	int rc = parse_row(spec, &p, first, "expected a row: one or two capital letters");
	if (rc < 0)
		return rc;
	*last = *first;
	if (*p == '-') {
		p++;
		const char *at = p;
		if ((rc = parse_row(spec, &p, last, "expected a row after '-'")) < 0)
			return rc;
		if (*last < *first)
			return layout_error(spec, at, "the last row of a range comes before the first");
	}
	if (*p++ != ':')
		return layout_error(spec, p - 1, "expected ':' after the rows");
	*counts = p;
	if ((rc = parse_counts(spec, &p, count)) < 0)
		return rc;
	strcpy(category, "standard");
	if (*p == ':') {
		p++;
		size_t len = 0;
		while (p[len] && p[len] != ',' && p[len] != ' ')
			len++;
		if (len == 0 || len >= BOOKING_CATEGORY_SIZE)
			return layout_error(spec, p, "category must be 1..31 characters");
		memcpy(category, p, len);
		category[len] = '\0';
		if (booking__check_category("layout.category", category) < 0)
			return layout_error(spec, p, "category must be lower-case letters, digits, '_' or '-'");
		p += len;
	}
	*pp = p;
	return 0;
}

/*
 * Write one row's seats as records of `seat_size` bytes from `out`, reading
 * the blocks of `counts` (checked by parse_counts()): numbers run on across
 * the aisles, columns skip one place at each.
 */
static void append_row(char *out, size_t seat_size, const char row[3], const char *counts,
                       const char category[BOOKING_CATEGORY_SIZE])
{
	int number = 0, column = 0;
	const char *p = counts;
	for (;;) {
		int block = 0;
		while (isdigit((unsigned char)*p))
			block = block * 10 + (*p++ - '0');
		for (int i = 0; i < block; i++) {
			booking_seat seat = {0};
			number++;
			column++;
			snprintf(seat.label, sizeof(seat.label), "%s%d", row, number);
			memcpy(seat.row, row, strlen(row));
			seat.number = number;
			seat.column = column;
			memcpy(seat.category, category, sizeof(seat.category));
			booking__record_convert(out, seat_size, &seat, sizeof(seat));
			out += seat_size;
		}
		if (*p++ != '+')
			break;
		column++; /* the aisle */
	}
}

booking_error_code booking_layout_parse(booking_seat **seats_out, size_t *count_out, const char *spec, size_t seat_size)
{
	if (!seats_out || !count_out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "layout: NULL output");
	*seats_out = NULL;
	*count_out = 0;
	if (seat_size < BOOKING__SEAT_SIZE_V1 || seat_size > SIZE_MAX / ((size_t)4 * LAYOUT_MAX_SEATS))
		return booking__error_field("seat_size", "is %zu: a seat is at least %zu bytes (pass sizeof(booking_seat))",
		                            seat_size, (size_t)BOOKING__SEAT_SIZE_V1);
	if (!spec || !*spec)
		return booking__error_field("layout", "is empty");
	if (strnlen(spec, LAYOUT_MAX_SPEC + 1) > LAYOUT_MAX_SPEC)
		return booking__error_field("layout", "is longer than %d bytes", LAYOUT_MAX_SPEC);
	char *seats = NULL; /* records of the caller's `seat_size` */
	size_t n = 0, cap = 0;
	bool used_rows[LAYOUT_ROWS] = {false};
	const char *p = spec;
	int rc = 0;
	while (rc == 0) {
		while (*p == ' ')
			p++;
		int first = 0, last = 0;
		char category[BOOKING_CATEGORY_SIZE];
		const char *counts = ""; /* with count 0 until parse_group() sets both */
		int count = 0;
		if ((rc = parse_group(spec, &p, &first, &last, &counts, &count, category)) < 0)
			break;
		for (int row = first; row <= last && rc == 0; row++) {
			if (used_rows[row]) {
				rc = layout_error(spec, p, "a row appears twice");
				break;
			}
			used_rows[row] = true;
			if (n + (size_t)count > LAYOUT_MAX_SEATS) {
				rc = layout_error(spec, p, "more than 100000 seats");
				break;
			}
			if (n + (size_t)count > cap) {
				size_t ncap = cap ? cap * 2 : 64;
				while (ncap < n + (size_t)count)
					ncap *= 2;
				char *ns = booking_realloc(seats, ncap * seat_size);
				if (!ns) {
					rc = booking_error_oom();
					break;
				}
				seats = ns;
				cap = ncap;
			}
			char name[3];
			row_name(row, name);
			append_row(seats + n * seat_size, seat_size, name, counts, category);
			n += (size_t)count;
		}
		while (*p == ' ')
			p++;
		if (rc < 0 || *p == '\0')
			break;
		if (*p != ',') {
			rc = layout_error(spec, p, "expected ',' between groups");
			break;
		}
		p++;
	}
	if (rc < 0) {
		booking_free(seats);
		return rc;
	}
	*seats_out = (booking_seat *)(void *)seats;
	*count_out = n;
	return 0;
}
