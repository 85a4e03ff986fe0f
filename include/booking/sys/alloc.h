/*
 * libbooking backend API — allocation, errors and ids for backend authors.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_ALLOC_H
#define BOOKING_SYS_ALLOC_H

#include "../common.h"
#include "../errors.h"

BOOKING_BEGIN_DECL

/**
 * Allocate through the library's allocator (booking_set_allocator()).
 * @param size bytes; 0 is taken as 1.
 * @return the block, which the caller owns and frees with booking_free();
 *         NULL when out of memory (the error record is not set: call
 *         booking_error_oom()). Thread-safe.
 */
BOOKING_EXTERN(void *) booking_malloc(size_t size);

/**
 * Zeroed allocation of `n` * `size` bytes, overflow-checked.
 * @param n    number of elements.
 * @param size bytes per element.
 * @return the block (caller owns; booking_free()), or NULL when out of
 *         memory or when `n` * `size` overflows (no error record set). Thread-safe.
 */
BOOKING_EXTERN(void *) booking_calloc(size_t n, size_t size);

/**
 * Resize a block from booking_malloc(), booking_calloc() or booking_realloc().
 * @param ptr  the block (NULL: a new one); on success it is no longer valid.
 * @param size bytes; 0 is taken as 1.
 * @return the block, which the caller owns (booking_free()); on failure
 *         NULL, and the old block is untouched and still the caller's.
 *         Thread-safe.
 */
BOOKING_EXTERN(void *) booking_realloc(void *ptr, size_t size);

/**
 * Duplicate a string through the library's allocator.
 * @param s the string; borrowed; NULL gives NULL without error.
 * @return the copy (caller owns; booking_free()); NULL when out of memory
 *         (no error record set). Thread-safe.
 */
BOOKING_EXTERN(char *) booking_strdup(const char *s);

/**
 * Duplicate at most `n` bytes of a string, NUL-terminated.
 * @param s the string; borrowed; NULL gives NULL without error.
 * @param n the most bytes to copy (a NUL before ends it).
 * @return the copy (caller owns; booking_free()); NULL when out of memory
 *         (no error record set). Thread-safe.
 */
BOOKING_EXTERN(char *) booking_strndup(const char *s, size_t n);

/**
 * Set the calling thread's last error and return `code`, so backends write
 * `return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "sqlite: %s", msg);`.
 * Never fails (a failure to format degrades the message).
 * @param code         the code to record and return (0 records "no error").
 * @param details_json a JSON object text or NULL ("{}"); copied (a text of
 *        2048 bytes or more is replaced by "{}"); borrowed for the call.
 * @param fmt          printf format of the message (NULL: the code's name);
 *        borrowed; the message is cut to 511 bytes and made safe to show.
 * @return `code`, always: 0 or the BOOKING_E* code given (e.g. BOOKING_EUNAVAILABLE).
 * Thread-safe: writes the calling thread's record only.
 */
BOOKING_EXTERN(booking_error_code) booking_error_set(int code, const char *details_json, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/**
 * Set BOOKING_ENOMEM ("out of memory") as the calling thread's last error.
 * Allocates nothing.
 * @return BOOKING_ENOMEM, always. Thread-safe (thread-local record).
 */
BOOKING_EXTERN(booking_error_code) booking_error_oom(void);

/**
 * Write a new UUIDv7 (time-ordered, random below the time) in text form.
 * @param out    the caller's buffer of BOOKING_ID_SIZE (37) bytes, written in full.
 * @param now_ms the time to encode, UTC ms (booking_now()).
 * Thread-safe.
 */
BOOKING_EXTERN(void) booking_uuid_v7(char out[BOOKING_ID_SIZE], int64_t now_ms);

BOOKING_END_DECL

#endif
