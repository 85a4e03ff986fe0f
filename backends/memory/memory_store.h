/*
 * libbooking — the `memory:` store: what the files of backends/memory/
 * share (the store object, its tables and rows, helpers, the members).
 *
 * Every table lives in process memory for as long as the store object.
 * One mutex covers the whole store: each member is one critical section,
 * and that critical section is its transaction. Writes follow one pattern
 * so that "on an error nothing is written" holds even when memory runs
 * out: check the guards, allocate everything the write needs (records,
 * hash-table capacity), and only then apply changes that cannot fail.
 *
 * Records are never deleted and the immutable parts of a record (ids,
 * strings, a booking's seat list, catalog entries) never change once
 * stored, so list members copy plain structs (borrowing those strings)
 * under the mutex and call the callbacks after releasing it: a callback
 * may call back into the store.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_MEMORY_STORE_H
#define BOOKING_MEMORY_STORE_H

#include "backends.h"
#include "memory/strmap.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The hash index (memory/strmap.c), under the short names these files use. */
typedef booking__strmap map;
#define map_get booking__strmap_get
#define map_reserve booking__strmap_reserve
#define map_put booking__strmap_put
#define map_clear booking__strmap_clear

/* ------------------------------------------------------------------------
 * A table: the hash index plus every value in insertion order (the owner
 * of the values, and the order of scans).
 * ------------------------------------------------------------------------ */

typedef struct table {
	map index;
	void **items;
	size_t len, cap;
} table;

/* ------------------------------------------------------------------------
 * Stored rows.
 * ------------------------------------------------------------------------ */

/* A seat row of a showtime; `key` is showtime_id "\n" label. */
typedef struct mem_seat {
	booking_store_seat s;
	char key[BOOKING_ID_SIZE + BOOKING_LABEL_SIZE];
} mem_seat;

typedef struct mem_showtime {
	booking_showtime *rec;
	size_t seat_count;
	mem_seat *seats; /* layout order; never reallocated (the seat index points into it) */
} mem_showtime;

/* An outbox event; its strings live in the same block, after the struct. */
typedef struct mem_event {
	booking_event_record rec;
} mem_event;

/* Last sequence of an aggregate. */
typedef struct mem_agg {
	char id[BOOKING_ID_SIZE];
	int64_t last;
} mem_agg;

typedef struct mem_idem {
	char *key; /* user_id "\n" idempotency key */
	char *user_id;
	char *idem_key;
	char *request_hash;
	char payment_id[BOOKING_ID_SIZE];
	bool completed;
	int replay_error;
} mem_idem;

typedef struct mem_inbox {
	char *key; /* group "\n" event_id */
	char *group;
	char *event_id;
	int64_t at;
} mem_inbox;

typedef struct mem_dead {
	char *key; /* group "\n" event_id */
	char *group;
	char *event_id;
	char *reason;
	char *envelope;
	int64_t dead_at;
	size_t seq;
} mem_dead;

typedef struct mem_cursor {
	char *group;
	int64_t position;
} mem_cursor;

typedef struct mem_store {
	booking_store parent;
	pthread_mutex_t mu;
	table movies;     /* booking_movie */
	table theaters;   /* booking_theater */
	table screens;    /* booking_screen */
	table showtimes;  /* mem_showtime */
	table bookings;   /* booking_reservation */
	table payments;   /* booking_payment */
	table idem;       /* mem_idem by user "\n" key */
	table events;     /* mem_event by id; items[i] has position i + 1 */
	table aggs;       /* mem_agg */
	table inbox;      /* mem_inbox */
	table dead;       /* mem_dead */
	table cursors;    /* mem_cursor */
	map seats;        /* mem_seat by showtime "\n" label (owned by the showtimes) */
	map idem_by_payment; /* mem_idem by payment id */
	size_t seat_total;
	size_t first_unpublished; /* every event before this index is published */
	/* users and token revocations (store version 2) */
	table users;      /* mem_user by id */
	map users_by_email; /* mem_user by normalised email (owned by users) */
	struct mem_revoked *revoked; /* live revocations, unordered; expired ones purged on revoke */
	size_t revoked_len, revoked_cap;
} mem_store;

/* ------------------------------------------------------------------------
 * Outbox events: a batch is prepared (allocated, checked) before the
 * write and committed (sequence and position assigned) with it.
 * ------------------------------------------------------------------------ */

typedef struct ev_batch {
	size_t n;
	mem_event **evs;
	mem_agg **new_aggs; /* per event: an aggregate first seen in this batch, or NULL */
} ev_batch;

/* --- inline helpers --------------------------------------------------- */

static inline mem_store *mem_impl(booking_store *st)
{
	return (mem_store *)st;
}

static inline void mem_lock_store(mem_store *st)
{
	pthread_mutex_lock(&st->mu);
}

static inline void mem_unlock_store(mem_store *st)
{
	pthread_mutex_unlock(&st->mu);
}

static inline void *mem_table_get(const table *t, const char *a, const char *b)
{
	return map_get(&t->index, a, b);
}

static inline const char *mem_or_empty(const char *s)
{
	return s ? s : "";
}

static inline mem_seat *mem_seat_of(mem_store *st, const char *showtime_id, const char *label)
{
	return map_get(&st->seats, showtime_id, label);
}

static inline int mem_cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* --- store.c: tables, strings, errors ----------------------------------- */

/** Room for `extra` more rows (index and items); -1 when out of memory, nothing changed. */
int mem_table_reserve(table *t, size_t extra);
/** Add a row under `key`; only after mem_table_reserve(), so it cannot fail. */
void mem_table_add(table *t, const char *key, void *val);
/** Copy `src` (NULL as "") into a fixed buffer, truncated, always terminated. */
void mem_copy_text(char *dst, size_t size, const char *src);
/** One block: a zeroed struct of `head` bytes, then copies of the `n` strings (see store.c). */
void *mem_pack(size_t head, size_t n, const char *const *src, char **const *dst);
/** a "\n" b in a fresh block, or NULL when out of memory. */
char *mem_key_join(const char *a, const char *b);
/** Set the out-of-memory error and return its code. */
int mem_oom(void);
/** Set BOOKING_EVALIDATION "memory store: <what> is required" and return its code. */
int mem_missing_arg(const char *what);

/* --- catalog.c ---------------------------------------------------------- */

void mem_movie_free(void *p);
void mem_theater_free(void *p);
void mem_screen_free(void *p);
void mem_showtime_free(void *p);

/* --- reservation.c ------------------------------------------------------ */

void mem_reservation_free(void *p);
/** The seat is HELD by `b`. */
/** Make the seat free: no booking, no hold; its version moves on. */
void mem_seat_free_row(mem_seat *seat);
/** Free the seats of `b` that are still HELD by it. */
void mem_booking_set_status(booking_reservation *b, booking_status to, booking_saga_state saga, int64_t now);

/* --- outbox.c: event batches -------------------------------------------- */

/** Check ids, allocate the copies and the table room for `n` events. */
int mem_ev_batch_prepare(mem_store *st, const booking_event_record *recs, size_t n, ev_batch *b);
/** Append a prepared batch (sequence and position assigned); cannot fail. */
void mem_ev_batch_commit(mem_store *st, ev_batch *b);
/** Drop a prepared batch. */
void mem_ev_batch_abort(ev_batch *b);

/* --- the members, by file ----------------------------------------------- */

/* catalog.c */
int mem_movie_insert(booking_store *base, const booking_movie *m);
int mem_movie_get(booking_store *base, const char *id, booking_movie **out);
int mem_movie_list(booking_store *base, booking_store_movie_cb cb, void *payload);
int mem_theater_insert(booking_store *base, const booking_theater *t);
int mem_theater_get(booking_store *base, const char *id, booking_theater **out);
int mem_theater_list(booking_store *base, booking_store_theater_cb cb, void *payload);
int mem_screen_insert(booking_store *base, const booking_screen *s);
int mem_screen_get(booking_store *base, const char *id, booking_screen **out);
int mem_showtime_insert(booking_store *base, const booking_showtime *s);
int mem_showtime_get(booking_store *base, const char *id, booking_showtime **out);
int mem_showtime_list(booking_store *base, const char *movie_id, booking_store_showtime_cb cb, void *payload);
int mem_seat_list(booking_store *base, const char *showtime_id, booking_store_seat_cb cb, void *payload);

/* reservation.c */
int mem_hold(booking_store *base, const booking_store_hold *req, booking_seat_ref *taken, size_t *taken_count);
int mem_booking_get(booking_store *base, const char *id, booking_reservation **out);
int mem_booking_list_by_user(booking_store *base, const char *user_id, int64_t after_created_at,
                             const char *after_id, size_t max, booking_store_booking_cb cb, void *payload);
int mem_apply(booking_store *base, const booking_store_change *change, size_t *failed_guard_out);
int mem_booking_list_by_status(booking_store *base, booking_status status, int64_t expires_before, size_t max,
                               booking_store_booking_cb cb, void *payload);

/* payment.c */
int mem_idempotency_get(booking_store *base, const char *user_id, const char *key, booking_store_idempotency_record *out);
/* The rows of a payment that starts (apply): allocated first, then committed (cannot fail) or aborted. */
typedef struct mem_payment_start {
	mem_idem *idem;
	booking_payment *payment;
} mem_payment_start;
int mem_payment_start_prepare(mem_store *st, const booking_store_payment_start *start, mem_payment_start *out);
void mem_payment_start_commit(mem_store *st, mem_payment_start *ps);
void mem_payment_start_abort(mem_payment_start *ps);
int mem_payment_get(booking_store *base, const char *id, booking_payment **out);
int mem_payment_attempts(booking_store *base, booking_store_payment_attempts *out, const char *user_id,
                         const char *idempotency_key, const char *booking_id, booking_payment_status status,
                         int64_t since);
int mem_payment_list_by_status(booking_store *base, booking_payment_status status, int64_t created_before, size_t max,
                               booking_store_payment_cb cb, void *payload);

/* outbox.c */
int mem_outbox_unpublished(booking_store *base, size_t max, booking_store_event_cb cb, void *payload);
int mem_outbox_mark_published(booking_store *base, const char *const *event_ids, size_t n);
int mem_outbox_read(booking_store *base, int64_t after, size_t max, booking_store_event_cb cb, void *payload);
int mem_cursor_get(booking_store *base, const char *group, int64_t *position_out);
int mem_cursor_advance(booking_store *base, const char *group, int64_t expected, int64_t position);
int mem_inbox_seen(booking_store *base, const char *group, const char *event_id, bool *seen_out);
int mem_inbox_mark(booking_store *base, const char *group, const char *event_id, int64_t now);
int mem_dead_letter_put(booking_store *base, const char *group, const char *event_id, const char *reason,
                        const char *envelope_json, int64_t now);
int mem_dead_letter_list(booking_store *base, const char *group,
                         int (*cb)(const char *group, const char *event_id, const char *reason,
                                   const char *envelope_json, int64_t dead_at, void *payload),
                         void *payload);

/* users.c */
int mem_user_insert(booking_store *base, const booking_store_user_insert *req);
int mem_user_get(booking_store *base, const char *id, booking_user **out, char **password_hash_out);
int mem_user_get_by_email(booking_store *base, const char *email, booking_user **out, char **password_hash_out);
int mem_user_set_password_hash(booking_store *base, const char *id, const char *expected_hash,
                               const char *new_hash, int64_t now);
int mem_token_revoke(booking_store *base, const char *jti, int64_t expires_at, int64_t now);
int mem_token_is_revoked(booking_store *base, const char *jti, int64_t now, bool *revoked_out);

#endif
