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
 * Rows are kept in the layout the public booking_*_free() expect, so a
 * row is made, handed out and freed by <booking/sys/records.h> and those
 * functions. Records are never deleted (but kv records, which reads copy
 * whole under the mutex) and the immutable parts of a
 * record (ids, strings, catalog entries) never change once stored; a
 * reservation's seat list is replaced (a change of seats) but the old one
 * is kept until the store is freed (`retired`). So list members copy plain
 * structs (borrowing those strings and arrays) under the mutex and call the
 * callbacks after releasing it: a callback may call back into the store; a
 * get copies its row under the mutex (MEM_GET).
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
#include <string.h>

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

/* A seat row of a showtime. */
typedef struct mem_seat {
	booking_store_seat s;
} mem_seat;

/*
 * The seat rows of a showtime, in layout order, in one block that never moves, with their index by label (its
 * keys are the rows' labels): a hold looks its seats up in its showtime's index, small and warm, not in one
 * index of every seat of the store.
 */
typedef struct mem_seats {
	map index;
	size_t count;
	mem_seat seat[];
} mem_seats;

/* An idempotency record; `v` is the view a scan hands out. */
typedef struct mem_idem {
	char *key; /* user_id "\n" idempotency key */
	booking_store_idempotency v;
	char *request_hash;
	int replay_error;
} mem_idem;

/* A payment (in the layout of booking_payment: a get copies it) and the idempotency record that started it. */
typedef struct mem_payment {
	booking_payment p;
	mem_idem idem;
} mem_payment;

typedef struct mem_inbox {
	char *key; /* group "\n" event_id */
	booking_store_inbox v;
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

/* Every reservation of one user, in insertion order (items only: `bookings` owns them); `key` is the user id. */
typedef struct mem_user_rows {
	table rows;
	char key[];
} mem_user_rows;

typedef struct mem_store {
	booking_store parent;
	pthread_mutex_t mu;
	table movies;     /* booking_movie */
	table theaters;   /* booking_theater */
	table screens;    /* booking_screen */
	table showtimes;  /* booking_showtime */
	table seat_rows;  /* mem_seats by showtime id, in the order of showtimes */
	table bookings;   /* booking_reservation */
	map by_user;      /* mem_user_rows by user id, owned: the per-buyer limits count a user's rows, not the store's */
	table payments;   /* mem_payment */
	table idem;       /* mem_idem by user "\n" key (owned by payments, or by hold_keys) */
	table events;     /* booking_event_record by id, its strings in its block; items[i] has position i + 1 */
	map aggs;         /* the newest event of each aggregate id */
	table inbox;      /* mem_inbox */
	table dead;       /* mem_dead */
	table cursors;    /* mem_cursor */
	size_t seat_total;
	size_t first_unpublished; /* every event before this index is published */
	/* users and token revocations (store version 2) */
	table users;      /* mem_user by id */
	map users_by_email; /* mem_user by normalised email (owned by users) */
	map revoked;      /* mem_revoked by jti, owned; expired ones purged on revoke */
	/* ledger version 2 */
	table hold_keys;  /* mem_idem of holds, one block each (items only: idem indexes them) */
	table retired;    /* replaced seat arrays of reservations (items only), freed with the store */
	/* kv records (store version 7) */
	map kv;           /* mem_kv by ns "\n" key, owned; the one map whose rows are replaced and deleted */
	size_t kv_sweep;  /* the slot where the next put's purge of expired records starts */
} mem_store;

/* --- inline helpers --------------------------------------------------- */

static inline mem_store *mem_impl(booking_store *st)
{
	return (mem_store *)st;
}

/* The row under `id` (a NULL id has none); the caller holds the lock. */
static inline void *mem_find(const table *t, const char *id)
{
	return id ? map_get(&t->index, id, NULL) : NULL;
}

/* Seat `label` of showtime `showtime_id`; NULL when either is unknown. The caller holds the lock. */
static inline mem_seat *mem_seat_find(const mem_store *st, const char *showtime_id, const char *label)
{
	const mem_seats *rows = mem_find(&st->seat_rows, showtime_id);
	return rows && label ? map_get(&rows->index, label, NULL) : NULL;
}

/* The order of rows by a time, then by id. */
static inline int mem_cmp_at(int64_t a, int64_t b, const char *ida, const char *idb)
{
	return a != b ? (a < b ? -1 : 1) : strcmp(ida, idb);
}

/*
 * A get member: a copy of the row under `id` (type##_copy() of <booking/sys/records.h>), taken
 * under the lock; `code` when there is none.
 */
/* NOLINTBEGIN(bugprone-macro-parentheses): `type` names a type */
#define MEM_GET(name, type, tbl, code)                                                                           \
	static int name(type **out, booking_store *base, const char *id)                                       \
	{                                                                                                      \
		mem_store *st = mem_impl(base);                                                                \
		pthread_mutex_lock(&st->mu);                                                                   \
		const type *row = mem_find(&st->tbl, id);                                                      \
		int rc = row || !out ? type##_copy(out, row) : booking_store_not_found(code);                  \
		pthread_mutex_unlock(&st->mu);                                                                 \
		if (!row && out)                                                                               \
			*out = NULL;                                                                           \
		return rc;                                                                                     \
	}
/* NOLINTEND(bugprone-macro-parentheses) */

/* --- store.c: tables, strings, errors ----------------------------------- */

/** Room for `extra` more rows (index and items); -1 when out of memory, nothing changed. */
int mem_table_reserve(table *t, size_t extra);
/** Room for `extra` more items (not in the index: a table that only owns blocks); -1 when out of memory. */
int mem_items_reserve(table *t, size_t extra);
/** Append an item (no index entry); only after mem_items_reserve(), so it cannot fail. */
static inline void mem_items_add(table *t, void *val)
{
	t->items[t->len++] = val;
}
/** Free the index and the item array, and with `rows` every row (booking_free()). */
void mem_table_free(table *t, bool rows);
/** Add a row under `key`; only after mem_table_reserve(), so it cannot fail. */
void mem_table_add(table *t, const char *key, void *val);
/** Under the lock: add `row` under `key` unless the key is taken: 0 added, 1 taken, or BOOKING_ENOMEM (error set). */
int mem_add_new(table *t, const char *key, void *row);
/** Under the lock: add `row` under `id` unless the id is taken ("<what> <id> already exists"); on failure the caller keeps it. */
int mem_add_unique(table *t, const char *id, void *row, const char *what);
/**
 * Copies (the `size` bytes at `off` of each row) of the rows of `t` that
 * `keep` accepts (all when NULL); the caller holds the lock. They borrow
 * the rows' strings and arrays. The caller frees the result; NULL with
 * *n_out 0 when none is kept, or when out of memory (then *rc is set).
 */
void *mem_rows_copy(const table *t, size_t off, size_t size, bool (*keep)(const void *row, const void *arg),
                    const void *arg, size_t *n_out, int *rc);
/** mem_rows_copy() of whole rows (`size` bytes) under the lock, then sorted by `cmp`. */
void *mem_snapshot(mem_store *st, const table *t, size_t size, bool (*keep)(const void *row, const void *arg),
                   const void *arg, int (*cmp)(const void *, const void *), size_t *n_out, int *rc);
/** Copy `src` (NULL as "") into a fixed buffer, truncated, always terminated. */
void mem_copy_text(char *dst, size_t size, const char *src);
/** One block: a zeroed struct of `head` bytes, then copies of the `n` strings (see store.c). */
void *mem_pack(size_t head, size_t n, const char *const *src, const size_t *off, bool keyed);
/** Set BOOKING_EVALIDATION "memory store: <what> is required" and return its code. */
int mem_missing_arg(const char *what);

/* --- outbox.c: event batches, prepared (checked, allocated) before a write and committed with it -- */

/** Check ids, allocate the copies and the table room for `n` events; nothing to drop after a failure. */
int mem_ev_batch_prepare(mem_store *st, const booking_event_record *recs, size_t n);
/** Append the `n` events prepared last (sequence and position assigned); cannot fail. */
void mem_ev_batch_commit(mem_store *st, size_t n);

/* --- the groups, one file each (catalog.c, ledger.c, outbox.c, users.c with kv) -- */

extern const booking_store_catalog mem_store_catalog;
extern const booking_store_ledger mem_store_ledger;
extern const booking_store_outbox mem_store_outbox;
extern const booking_store_users mem_store_users;
extern const booking_store_kv mem_store_kv;

#endif
