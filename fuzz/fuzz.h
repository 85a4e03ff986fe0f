/*
 * libbooking fuzz targets: the libFuzzer entry point each target defines,
 * and the checks a target makes on what the library answered. A failed
 * check prints and aborts (libFuzzer and the replay driver report it).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_FUZZ_H
#define BOOKING_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                                \
	do {                                                                                                     \
		if (!(cond)) {                                                                                       \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);                         \
			fprintf(stderr, __VA_ARGS__);                                                                    \
			fputc('\n', stderr);                                                                             \
			abort();                                                                                         \
		}                                                                                                    \
	} while (0)

/* A NUL-terminated copy of the input (malloc'd; free it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
