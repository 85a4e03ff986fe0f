/*
 * libbooking — common definitions shared by every public header.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_COMMON_H
#define BOOKING_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define BOOKING_BEGIN_DECL extern "C" {
#define BOOKING_END_DECL }
#else
#define BOOKING_BEGIN_DECL
#define BOOKING_END_DECL
#endif

#if defined(__GNUC__) || defined(__clang__)
#define BOOKING_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define BOOKING_EXTERN(type) extern type
#endif

BOOKING_BEGIN_DECL

#define BOOKING_VERSION_MAJOR 0
#define BOOKING_VERSION_MINOR 1
#define BOOKING_VERSION_PATCH 0
#define BOOKING_VERSION_STRING "0.1.0"

/** Size of a UUID in text form, including the terminating NUL. */
#define BOOKING_ID_SIZE 37
/** Largest user id (bytes, including NUL). */
#define BOOKING_USER_ID_SIZE 64
/** Largest seat label ("A12"), including NUL. */
#define BOOKING_LABEL_SIZE 16
/** Largest price-category name, including NUL. */
#define BOOKING_CATEGORY_SIZE 32
/** ISO 4217 currency code plus NUL. */
#define BOOKING_CURRENCY_SIZE 4

/*
 * Paging. A list that a customer can grow (their reservations) comes in pages:
 * the caller asks for `limit` rows (0 means BOOKING_PAGE_DEFAULT) and gets
 * an opaque `next_cursor` to pass back for the following page, so no call
 * ever builds more than BOOKING_PAGE_MAX rows.
 */
/** Rows in a page when the caller passes limit 0. */
#define BOOKING_PAGE_DEFAULT 50
/** Largest page: a larger limit fails with BOOKING_EVALIDATION naming "limit". */
#define BOOKING_PAGE_MAX 500
/** Largest page cursor the library produces or accepts, including NUL. */
#define BOOKING_CURSOR_SIZE 64

/** A library handle: storage, locks, events, payments and the rules. Opaque. */
typedef struct booking_handle booking_handle;

/** Who acts. */
typedef enum booking_role {
	BOOKING_ROLE_NONE = 0,     /**< anonymous: may read the catalog only */
	BOOKING_ROLE_CUSTOMER = 1, /**< acts on its own reservations */
	BOOKING_ROLE_ADMIN = 2,    /**< catalog changes, any booking_handle */
	BOOKING_ROLE_SYSTEM = 3    /**< the host's internals (sweepers, relays) */
} booking_role;

#define BOOKING_CTX_VERSION 2 /**< 2 appended client_key */

/**
 * The context of one call: who acts, and how the call is traced.
 *
 * A plain struct the host fills (usually on the stack); every string is
 * borrowed for the duration of the call only.
 */
typedef struct booking_ctx {
	unsigned int version;       /**< BOOKING_CTX_VERSION */
	const char *user_id;        /**< the actor; NULL for anonymous/system */
	booking_role role;          /**< the actor's role */
	const char *correlation_id; /**< optional; one is generated when NULL */
	const char *traceparent;    /**< optional W3C traceparent */
	int64_t deadline_ms;        /**< optional absolute deadline (UTC ms by booking_now()), 0 = none */
	/**
	 * version 2, optional: who is asking, as the host sees it (an IP
	 * address, an API key's name), 1..128 printable ASCII bytes. The rate
	 * limits count it apart from the user (doc/fairness.md); NULL: none.
	 */
	const char *client_key;
} booking_ctx;

#define BOOKING_CTX_INIT {BOOKING_CTX_VERSION, NULL, BOOKING_ROLE_NONE, NULL, NULL, 0, NULL}

/**
 * Fill `ctx` for `user_id` acting as `role`; the other fields are cleared
 * and `version` is set to BOOKING_CTX_VERSION of the caller's header. A
 * macro over booking_ctx_init_sized() (sizeof(booking_ctx) of the caller's header);
 * `(booking_ctx_init)(...)` is the version 1 function programs built
 * against an older header call.
 * @param ctx     the struct to fill (caller's, usually on the stack); NULL: nothing is done.
 * @param user_id the actor, or NULL for anonymous/system; borrowed: the ctx
 *                keeps the pointer, so the string must outlive every use of the ctx.
 * @param role    the actor's role.
 * Thread-safe (writes only `ctx`).
 */
BOOKING_EXTERN(void) booking_ctx_init(booking_ctx *ctx, const char *user_id, booking_role role);
/**
 * booking_ctx_init() for a struct of `size` bytes (sizeof(booking_ctx) of
 * the caller's header): clears that much of it and sets the version that
 * size has.
 * @param ctx     the caller's struct; NULL: nothing is done.
 * @param size    sizeof(booking_ctx) as the caller's header has it.
 * @param user_id the actor, or NULL; borrowed: the ctx keeps the pointer.
 * @param role    the actor's role.
 * Thread-safe (writes only `ctx`).
 */
BOOKING_EXTERN(void) booking_ctx_init_sized(booking_ctx *ctx, size_t size, const char *user_id, booking_role role);
#define booking_ctx_init(ctx, user_id, role) booking_ctx_init_sized((ctx), sizeof(booking_ctx), (user_id), (role))

/**
 * A static context for the host's internals (role SYSTEM, no user id).
 * @return never NULL; static: never free it. Thread-safe (read-only).
 */
BOOKING_EXTERN(const booking_ctx *) booking_ctx_system(void);

/**
 * Free memory the library returned as `char *` (JSON text, tokens, kids and
 * the like) or allocated with booking_malloc() and friends, through the
 * library's allocator (booking_set_allocator()).
 * @param ptr the block; NULL is a no-op. Ownership ends here.
 * Thread-safe, for a block no other thread uses.
 */
BOOKING_EXTERN(void) booking_free(void *ptr);

/**
 * The library version as "MAJOR.MINOR.PATCH" (BOOKING_VERSION_STRING of the
 * library that runs, which may differ from the header's).
 * @return static text; never NULL, never freed. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_version(void);

/**
 * Text made safe to show on a terminal or in a log line, by the rule the
 * library's own error messages follow: C0 and C1 controls, DEL, bidi
 * overrides, isolates and marks, and line separators become `\uXXXX`;
 * malformed UTF-8 bytes `\xNN`; text that does not fit is cut between
 * characters and ends with "…". `out` is always NUL-terminated valid UTF-8
 * (when size > 0). Data read from a store may hold anything: a host that
 * prints it should pass it through this.
 * @param out  the caller's buffer of `size` bytes, written into; nothing is
 *             written when `out` is NULL or `size` is 0.
 * @param size the size of `out` in bytes, NUL included.
 * @param text the text to escape; borrowed; NULL is taken as "".
 * @return the length written, without the NUL (0 when nothing is written).
 * Thread-safe; allocates nothing and never sets the error record.
 */
BOOKING_EXTERN(size_t) booking_text_escape(char *out, size_t size, const char *text);

BOOKING_END_DECL

#endif
