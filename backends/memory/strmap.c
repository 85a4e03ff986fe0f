/*
 * A string-keyed open-addressing hash table for the in-process backends.
 * SPDX-License-Identifier: MIT
 */
#include "memory/strmap.h"

#include <stdbool.h>
#include <string.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t hash_add(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h;
}

static uint64_t hash_key(const char *a, const char *b)
{
	uint64_t h = hash_add(FNV_OFFSET, a);
	if (b) {
		h ^= (unsigned char)'\n';
		h *= FNV_PRIME;
		h = hash_add(h, b);
	}
	/* finalise (murmur3 fmix64) so the low bits used as index are well mixed */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static bool key_equal(const char *key, const char *a, const char *b)
{
	if (!b)
		return strcmp(key, a) == 0;
	size_t la = strlen(a);
	return strncmp(key, a, la) == 0 && key[la] == '\n' && strcmp(key + la + 1, b) == 0;
}

void *booking__strmap_get(const booking__strmap *m, const char *a, const char *b)
{
	if (m->count == 0 || !a)
		return NULL;
	uint64_t h = hash_key(a, b);
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const booking__strmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->hash == h && key_equal(s->key, a, b))
			return s->val;
	}
}

static void map_place(booking__strmap_slot *slots, size_t cap, const char *key, uint64_t h, void *val)
{
	size_t mask = cap - 1;
	size_t i = (size_t)h & mask;
	while (slots[i].key)
		i = (i + 1) & mask;
	slots[i].key = key;
	slots[i].hash = h;
	slots[i].val = val;
}

/* Make room for `extra` more entries at a load factor <= 0.7. -1 when out of memory. */
int booking__strmap_reserve(booking__strmap *m, size_t extra)
{
	size_t need = m->count + extra;
	if (m->cap && need <= m->cap / 10 * 7)
		return 0;
	size_t cap = m->cap ? m->cap : 16;
	while (need > cap / 10 * 7) {
		if (cap > SIZE_MAX / 4)
			return -1;
		cap *= 2;
	}
	booking__strmap_slot *slots = booking_calloc(cap, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			map_place(slots, cap, m->slots[i].key, m->slots[i].hash, m->slots[i].val);
	booking_free(m->slots);
	m->slots = slots;
	m->cap = cap;
	return 0;
}

/* After map_reserve(); `key` must not be present and must outlive the entry. */
void booking__strmap_put(booking__strmap *m, const char *key, void *val)
{
	map_place(m->slots, m->cap, key, hash_key(key, NULL), val);
	m->count++;
}

void booking__strmap_clear(booking__strmap *m)
{
	booking_free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}

