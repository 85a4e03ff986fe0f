/*
 * A string-keyed open-addressing hash table (linear probing), shared by the
 * in-process backends (memory store, simulated gateway). Keys are borrowed
 * from the values (each value outlives its entry). A lookup may name a
 * two-part key (a, b) meaning the string a "\n" b, so composite keys are
 * found without building them. Insertion happens after
 * booking__strmap_reserve(), so booking__strmap_put() cannot fail.
 * Removal shifts the probe chain back (no tombstones), so a table whose
 * keys come and go (the lock manager's) stays short. The *_hashed calls
 * take the key's booking__strmap_hash(), for a caller that looks a key up
 * more than once.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_MEMORY_STRMAP_H
#define BOOKING_MEMORY_STRMAP_H

#include "backends.h"

typedef struct booking__strmap_slot {
	const char *key; /* NULL: empty slot */
	uint64_t hash;
	void *val;
} booking__strmap_slot;

typedef struct booking__strmap {
	booking__strmap_slot *slots;
	size_t cap; /* 0 or a power of two */
	size_t count;
} booking__strmap;

/* The value under key `a` (b NULL) or `a "\n" b`; NULL when absent. */
void *booking__strmap_get(const booking__strmap *m, const char *a, const char *b);
/* Make room for `extra` more entries (load factor <= 0.7). -1 when out of memory. */
int booking__strmap_reserve(booking__strmap *m, size_t extra);
/* After booking__strmap_reserve(); `key` must not be present and must outlive the entry. */
void booking__strmap_put(booking__strmap *m, const char *key, void *val);
/* The hash of key `a` (b NULL) or `a "\n" b`. */
uint64_t booking__strmap_hash(const char *a, const char *b);
void *booking__strmap_get_hashed(const booking__strmap *m, uint64_t h, const char *a, const char *b);
void booking__strmap_put_hashed(booking__strmap *m, uint64_t h, const char *key, void *val);
/* Remove the key's entry and return its value (not freed); NULL when absent. */
void *booking__strmap_remove(booking__strmap *m, uint64_t h, const char *a, const char *b);
/* Remove the entry in slot i; a later entry may move into slot i (look at it again). */
void booking__strmap_remove_at(booking__strmap *m, size_t i);
/* Free the index (not the values). */
void booking__strmap_clear(booking__strmap *m);
/* Free the index and every value (booking_free()): for a map that owns its values. */
void booking__strmap_free_all(booking__strmap *m);
/* Remove every entry whose value `gone` accepts, and free (booking_free()) its value. */
void booking__strmap_sweep(booking__strmap *m, bool (*gone)(const void *val, const void *arg), const void *arg);

#endif
