/*
 * libbooking backend API — allocation, errors and ids for backend authors.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_ALLOC_H
#define BOOKING_SYS_ALLOC_H

#include "../common.h"
#include "../errors.h"

BOOKING_BEGIN_DECL

/** Allocate through the library's allocator (booking_set_allocator()). NULL when out of memory. */
BOOKING_EXTERN(void *) booking_malloc(size_t size);
/** Zeroed allocation of n*size bytes, overflow-checked. */
BOOKING_EXTERN(void *) booking_calloc(size_t n, size_t size);
/** Resize a block from booking_malloc(); on failure the old block is untouched and NULL returned. */
BOOKING_EXTERN(void *) booking_realloc(void *ptr, size_t size);
/** Duplicate a string (NULL gives NULL without error). */
BOOKING_EXTERN(char *) booking_strdup(const char *s);
BOOKING_EXTERN(char *) booking_strndup(const char *s, size_t n);

/**
 * Set the calling thread's last error and return `code`, so backends write
 * `return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "sqlite: %s", msg);`.
 * `details_json` is a JSON object text or NULL. Never fails (a failure to
 * format degrades the message).
 */
BOOKING_EXTERN(booking_error_code) booking_error_set(int code, const char *details_json, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/** Set BOOKING_ENOMEM as the last error and return it. */
BOOKING_EXTERN(booking_error_code) booking_error_oom(void);

/** Write a new UUIDv7 (time-ordered) in text form into `out` (37 bytes). */
BOOKING_EXTERN(void) booking_uuid_v7(char out[BOOKING_ID_SIZE], int64_t now_ms);

BOOKING_END_DECL

#endif
