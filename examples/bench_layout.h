/*
 * The benchmarks' large venues (bench-venue, bench-flash): a layout of n
 * seats in rows of BENCH_ROW_SEATS, the rows named as the layout syntax
 * orders them (A..Z, then AA..ZZ).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_BENCH_LAYOUT_H
#define BOOKING_BENCH_LAYOUT_H

#include <stddef.h>
#include <stdio.h>

#define BENCH_ROW_SEATS 500

/* Row `i` of a layout: A..Z, then AA..ZZ. */
static inline void bench_row_name(size_t i, char name[3])
{
	if (i < 26) {
		name[0] = (char)('A' + i);
		name[1] = '\0';
	} else {
		name[0] = (char)('A' + (i - 26) / 26);
		name[1] = (char)('A' + (i - 26) % 26);
		name[2] = '\0';
	}
}

/* n seats in rows of BENCH_ROW_SEATS: "A-GR:500" for 100 000, "A-CV:500" for 50 000, "A:300" for 300. */
static inline void bench_layout_of(size_t n, char *spec, size_t size)
{
	size_t rows = n / BENCH_ROW_SEATS, rest = n % BENCH_ROW_SEATS;
	char last[3], next[3];
	int len = 0;
	spec[0] = '\0';
	if (rows > 0) {
		bench_row_name(rows - 1, last);
		len = snprintf(spec, size, rows > 1 ? "A-%s:%d" : "%s:%d", last, BENCH_ROW_SEATS);
	}
	if (rest > 0) {
		bench_row_name(rows, next);
		snprintf(spec + len, size - (size_t)len, "%s%s:%zu", rows ? "," : "", next, rest);
	}
}

#endif
