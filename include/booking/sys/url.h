/*
 * libbooking backend API — the settings in a backend's URL.
 *
 * A backend's settings travel in its URL's query, not in booking_options:
 * "scheme:...?key=value&key=value" (doc/backends.md lists the built-ins').
 * These calls walk the parameters, percent-decode them, and read bounded
 * integers, choices and text, refusing bad ones with BOOKING_EVALIDATION
 * errors of one shape for every backend: the message and the details name
 * the URL's field ("store_url", "lock_url", ...) and the parameter, and
 * quote the offending text escaped and cut short (URLs come from
 * configuration: untrusted text). They know no backend and allocate
 * nothing.
 *
 * The query is the text after the URL's first '?'; parameters are
 * separated by '&', a key from its value by the first '='. A '%', '&',
 * '=', '#' or '?' that belongs to a key or value is written %XX. '+' is
 * a plus sign, not a space. A parameter given twice is seen twice (the
 * backend decides; the built-ins keep the last).
 *
 *     booking_url_query q;
 *     booking_url_query_init(&q, url, "store_url");
 *     while ((rc = booking_url_query_next(&q)) > 0) {
 *         if (booking_url_query_is(&q, "pool"))
 *             rc = booking_url_query_int(&pool, &q, 1, 50);
 *         else
 *             rc = booking_url_query_unknown(&q, "pool");
 *         if (rc < 0)
 *             break;
 *     }
 *     if (rc < 0)
 *         return rc;
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_URL_H
#define BOOKING_SYS_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common.h"
#include "../errors.h"

BOOKING_BEGIN_DECL

/** Longest key or value, once decoded, that booking_url_query_next() accepts, in bytes. */
#define BOOKING_URL_PARAM_MAX 1024

/** One parameter as it is written in the URL: not NUL-terminated, still percent-encoded. */
typedef struct booking_url_param {
	const char *key;
	size_t key_len;
	const char *value; /**< after the first '='; empty when the parameter has none */
	size_t value_len;
	const char *text;  /**< the whole "key=value", to hand on verbatim (to a client library) */
	size_t text_len;
} booking_url_param;

/** A walk over the parameters of one URL. Start it with booking_url_query_init(). */
typedef struct booking_url_query {
	const char *field;       /**< the option the URL came from, named by every error */
	booking_url_param param; /**< the current parameter, after booking_url_query_next() answered 1 */
	const char *next;        /**< private: where the next parameter starts */
} booking_url_query;

/**
 * The length of `url` before its query: up to its first '?', or all of it.
 * @param url borrowed; NULL gives 0.
 * Thread-safe.
 */
BOOKING_EXTERN(size_t) booking_url_base_len(const char *url);

/**
 * Start a walk over the query of `url`.
 * @param q     the caller's walk (usually on the stack), filled; NULL: nothing is done.
 * @param url   borrowed; must outlive the walk. NULL: no parameters.
 * @param field what errors name, e.g. "store_url"; borrowed, must outlive the walk. NULL: "url".
 * Thread-safe: a walk is the caller's; one walk is used by one thread at a time.
 */
BOOKING_EXTERN(void) booking_url_query_init(booking_url_query *q, const char *url, const char *field);

/**
 * Move to the next parameter (empty ones, as in "a=1&&b=2", are skipped).
 * @param q the walk; borrowed.
 * Thread-safe, as booking_url_query_init().
 * @return 1 with q->param set; 0 at the end; BOOKING_EVALIDATION when its
 *         key is empty, or its key or value has a malformed %-escape, an
 *         escaped NUL (%00) or more than BOOKING_URL_PARAM_MAX bytes.
 */
BOOKING_EXTERN(int) booking_url_query_next(booking_url_query *q);

/**
 * Whether the current parameter's key, decoded, is `name` (exactly: keys are case-sensitive).
 * @param q    the walk; borrowed; NULL gives false.
 * @param name borrowed; NULL gives false.
 * Thread-safe, as booking_url_query_init().
 */
BOOKING_EXTERN(bool) booking_url_query_is(const booking_url_query *q, const char *name);

/**
 * The current value, decoded, NUL-terminated into `out`.
 * @param out  the caller's buffer of `size` bytes; "" after a failure
 *             for a value too long, untouched after one for a NULL
 *             argument or a `size` of 0.
 * @param size its size, NUL included (0: BOOKING_EVALIDATION).
 * @param q    the walk; borrowed.
 * Thread-safe, as booking_url_query_init().
 * @return its length (>= 0); BOOKING_EVALIDATION when it needs more than
 *         `size` bytes with the NUL (the message says the most).
 */
BOOKING_EXTERN(int) booking_url_query_text(char *out, size_t size, const booking_url_query *q);

/**
 * The current value as a decimal integer in min..max: digits with an
 * optional leading '-', nothing else (no sign '+', no spaces).
 * @param out the caller's variable, set to the value; untouched after a failure.
 * @param q   the walk; borrowed.
 * @param min the smallest value allowed.
 * @param max the largest value allowed.
 * @return 0 with *out set; BOOKING_EVALIDATION otherwise (NULL `q` or
 *         `out` too), details {"field","parameter","min","max"}.
 * Thread-safe, as booking_url_query_init().
 */
BOOKING_EXTERN(booking_error_code) booking_url_query_int(int *out, const booking_url_query *q, int min, int max);

/**
 * As booking_url_query_int(), for 64-bit ranges.
 * @param out the caller's variable, set to the value; untouched after a failure.
 * @param q   the walk; borrowed.
 * @param min the smallest value allowed.
 * @param max the largest value allowed.
 * @return 0 with *out set; BOOKING_EVALIDATION otherwise.
 * Thread-safe, as booking_url_query_init().
 */
BOOKING_EXTERN(booking_error_code) booking_url_query_int64(int64_t *out, const booking_url_query *q, int64_t min,
                                                           int64_t max);

/**
 * The current value as one of `names` (`n` of them), compared without
 * regard to ASCII case.
 * @param index_out the caller's variable, set to the index of the match;
 *                  untouched after a failure.
 * @param q         the walk; borrowed.
 * @param names     `n` allowed values; borrowed for the call.
 * @param n         how many.
 * @return 0 with *index_out set to its index; BOOKING_EVALIDATION
 *         otherwise, details {"field","parameter","allowed"}.
 * Thread-safe, as booking_url_query_init().
 */
BOOKING_EXTERN(booking_error_code) booking_url_query_choice(size_t *index_out, const booking_url_query *q,
                                                            const char *const *names, size_t n);

/**
 * Refuse the current parameter as one the backend does not know.
 * @param q       the walk; borrowed.
 * @param allowed the parameters it knows, for the message ("pool,
 *                pool_timeout"); borrowed; NULL: "".
 * @return BOOKING_EVALIDATION, always; details {"field","parameter","allowed"}.
 * Thread-safe, as booking_url_query_init().
 */
BOOKING_EXTERN(booking_error_code) booking_url_query_unknown(const booking_url_query *q, const char *allowed);

BOOKING_END_DECL

#endif
