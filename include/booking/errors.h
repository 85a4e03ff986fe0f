/*
 * libbooking — error codes and the thread-local last-error record.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_ERRORS_H
#define BOOKING_ERRORS_H

#include "common.h"

BOOKING_BEGIN_DECL

/**
 * Every call returns 0 or one of these negative codes. The numbers and the
 * names given by booking_error_name() are stable across releases.
 */
typedef enum booking_error_code {
	BOOKING_OK = 0,
	BOOKING_EVALIDATION = -1,            /**< VALIDATION_ERROR (422) */
	BOOKING_EUNAUTHORIZED = -2,          /**< UNAUTHORIZED (401) */
	BOOKING_EFORBIDDEN = -3,             /**< FORBIDDEN (403) */
	BOOKING_ENOTFOUND = -4,              /**< NOT_FOUND (404), generic */
	BOOKING_EMOVIE_NOT_FOUND = -5,       /**< MOVIE_NOT_FOUND (404) */
	BOOKING_ETHEATER_NOT_FOUND = -6,     /**< THEATER_NOT_FOUND (404) */
	BOOKING_ESCREEN_NOT_FOUND = -7,      /**< SCREEN_NOT_FOUND (404) */
	BOOKING_ESHOWTIME_NOT_FOUND = -8,    /**< SHOWTIME_NOT_FOUND (404) */
	BOOKING_ERESERVATION_NOT_FOUND = -9,     /**< RESERVATION_NOT_FOUND (404) */
	BOOKING_EPAYMENT_NOT_FOUND = -10,    /**< PAYMENT_NOT_FOUND (404) */
	BOOKING_ESEAT_ALREADY_BOOKED = -11,  /**< SEAT_ALREADY_BOOKED (409); details list the seats */
	BOOKING_EINVALID_STATE = -12,        /**< INVALID_STATE (409) */
	BOOKING_EEXPIRED = -13,              /**< RESERVATION_EXPIRED (410) */
	BOOKING_EPAYMENT_DECLINED = -14,     /**< PAYMENT_DECLINED (402) */
	BOOKING_EPAYMENT_IN_PROGRESS = -15,  /**< PAYMENT_IN_PROGRESS (409, retry) */
	BOOKING_EIDEMPOTENCY_KEY_REUSED = -16, /**< IDEMPOTENCY_KEY_REUSED (422) */
	BOOKING_ELOCK_FAILED = -17,          /**< LOCK_ACQUISITION_FAILED (503, retry) */
	BOOKING_EUNAVAILABLE = -18,          /**< SERVICE_UNAVAILABLE (503) */
	BOOKING_EEXTERNAL = -19,             /**< EXTERNAL_SERVICE_ERROR (502) */
	BOOKING_EINTERNAL = -20,             /**< INTERNAL_ERROR (500) */
	BOOKING_ENOMEM = -21,                /**< OUT_OF_MEMORY (503) */
	BOOKING_ENOTSUPPORTED = -22,         /**< NOT_SUPPORTED (501) */
	BOOKING_EEXISTS = -23,               /**< ALREADY_EXISTS (409) */
	BOOKING_ESCHEMA = -24,               /**< SCHEMA_TOO_NEW (500): data written by a newer libbooking */
	BOOKING_ELOCKED = -25,               /**< LOCK_BUSY (409): a lock is held by another owner (lock managers) */
	BOOKING_ERATE_LIMITED = -26,         /**< RATE_LIMITED (429): a limit was reached; details name it and carry retry_after_seconds */
	BOOKING_EORPHAN_SEAT = -27,          /**< ORPHAN_SEAT (409): the hold would leave a single seat alone; details name it ({"seat":"C5"}) */
	BOOKING_ENOT_ENOUGH_SEATS = -28,     /**< NOT_ENOUGH_SEATS (409): best available found no N seats (details: requested, available) */
	BOOKING_EHOLD_LIMIT = -29,           /**< HOLD_LIMIT_REACHED (409): the hold may not be extended past its lifetime cap (details: max_expires_at) */
	BOOKING_ELIMIT_REACHED = -30         /**< LIMIT_REACHED (409): a per-buyer limit (details: limit, max) */
} booking_error_code;

/** The details of the last failure on the calling thread. */
typedef struct booking_error {
	int code;                 /**< a booking_error_code, 0 when there was none */
	const char *name;         /**< stable code name, e.g. "SEAT_ALREADY_BOOKED" */
	const char *message;      /**< human-readable, never contains secrets */
	const char *details_json; /**< a JSON object, "{}" when there are no details */
} booking_error;

/**
 * The last error set on this thread. Never NULL; `code` is 0 when no call
 * failed since the last booking_error_clear(). Borrowed: valid until the
 * next libbooking call on this thread.
 *
 * **A success does not clear it** (as errno and libgit2's git_error_last()):
 * after a call that returned 0 it still describes the last call that
 * failed. Look at a call's return code first and read this record only when
 * the code is negative, or call booking_error_clear() before the call.
 * booking_error_last(), booking_error_clear(), booking_error_name(),
 * booking_error_from_name(), booking_error_http_status(),
 * booking_error_to_json() and the booking_error_detail*() readers never
 * replace the record; every other call that fails does.
 */
BOOKING_EXTERN(const booking_error *) booking_error_last(void);

/** Forget the last error of this thread (booking_error_last() then has code 0). Thread-local. */
BOOKING_EXTERN(void) booking_error_clear(void);

/**
 * A detail of an error, without parsing its JSON: the value of the top-level
 * key `key` of `err->details_json` (NULL `err`: the last error of this
 * thread) as text — a string as it is, a number or boolean as JSON writes
 * it — e.g. "payment_id" and "decline_code" of BOOKING_EPAYMENT_DECLINED,
 * "field" of BOOKING_EVALIDATION, "retry_after_seconds" of
 * BOOKING_ERATE_LIMITED.
 * @param err the record to read; borrowed; NULL: booking_error_last().
 * @param key the top-level key; borrowed; NULL gives NULL.
 * @return the text, borrowed: valid until the next booking_error_detail*()
 *         call on this thread; NULL when the key is absent, null, an array
 *         or an object (or memory ran out). Never changes the error record.
 * Thread-safe: the returned text lives in a thread-local buffer.
 */
BOOKING_EXTERN(const char *) booking_error_detail(const booking_error *err, const char *key);

/**
 * How many elements the array detail `key` has: "seats" of
 * BOOKING_ESEAT_ALREADY_BOOKED lists the seats that were taken. 0 when the
 * key is absent or not an array (or `key` is NULL, or memory ran out).
 * Never changes the error record.
 * @param err the record to read; borrowed; NULL: booking_error_last().
 * @param key the top-level key; borrowed.
 * Thread-safe.
 */
BOOKING_EXTERN(size_t) booking_error_detail_count(const booking_error *err, const char *key);

/**
 * Element `index` of the array detail `key`, as booking_error_detail() gives
 * a value (borrowed until the next booking_error_detail*() call on this
 * thread); NULL when there is no such element or it is not a scalar.
 * @param err   the record to read; borrowed; NULL: booking_error_last().
 * @param key   the top-level key naming an array; borrowed; NULL gives NULL.
 * @param index from 0; past the end gives NULL.
 * Thread-safe: the returned text lives in a thread-local buffer.
 */
BOOKING_EXTERN(const char *) booking_error_detail_item(const booking_error *err, const char *key, size_t index);

/**
 * The stable name of `code` ("SEAT_ALREADY_BOOKED"; "OK" for 0);
 * "UNKNOWN_ERROR" for unknown codes.
 * @return static text, never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_error_name(int code);

/**
 * The code for a stable name, the inverse of booking_error_name().
 * @param name the stable name ("SEAT_ALREADY_BOOKED"), compared exactly; borrowed; NULL is unknown.
 * @return the code (0 for "OK"), or 1 (not an error code) when the name is
 *         unknown. Sets no error record. Thread-safe.
 */
BOOKING_EXTERN(int) booking_error_from_name(const char *name);

/**
 * The HTTP status a host should answer with for `code`.
 * @return the status: 200 for 0, the one in each code's comment above
 *         (422, 401, 403, 404, 409, 410, 402, 503, 502, 500, 501, 429), 500
 *         for an unknown code. Sets no error record. Thread-safe.
 */
BOOKING_EXTERN(int) booking_error_http_status(int code);

/**
 * `{"error":{"code":NAME,"message":...,"details":{...}}}` for `err` (NULL:
 * the last error of this thread), its text made safe to show.
 * @param err the record to describe; borrowed; NULL: booking_error_last().
 * @param json_out set to the text, which the caller frees with
 *        booking_free(); NULL after a failure.
 * @return 0, BOOKING_EVALIDATION (NULL `json_out`) or BOOKING_ENOMEM —
 *         returned only: this call never replaces the error record it may
 *         be describing. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_error_to_json(char **json_out, const booking_error *err);

BOOKING_END_DECL

#endif
