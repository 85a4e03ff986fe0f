/*
 * A string-keyed open-addressing hash table for the in-process backends.
 * SPDX-License-Identifier: MIT
 */
#include "memory/strmap.h"

#include <stdbool.h>
#include <string.h>

#define SEED 0x9e3779b97f4a7c15ULL
#define MUL 0xff51afd7ed558ccdULL

static uint64_t absorb(uint64_t h, uint64_t w)
{
	h = (h ^ w) * MUL;
	return h ^ (h >> 32);
}

/* The bytes s[0..n) eight at a time, then the tail and the length. */
static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	size_t len = n;
	for (; n >= 8; s += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = absorb(h, w);
	}
	uint64_t w = 0;
	memcpy(&w, s, n);
	return absorb(h, w ^ ((uint64_t)len << 56));
}

/*
 * A string, segment by segment: each run of bytes up to a '\n' (or the end), then a step of its own for each
 * '\n'. So hashing a, then a '\n' step, then b equals hashing the string a "\n" b, however many '\n' a or b
 * holds: a composite key hashes the same whether it is given whole or in two parts.
 */
static uint64_t hash_add(uint64_t h, const char *s)
{
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		h = hash_bytes(h, s, n);
		if (!nl)
			return h;
		h = absorb(h, 0x0aULL << 60);
		s = nl + 1;
	}
}

uint64_t booking__strmap_hash(const char *a, const char *b)
{
	uint64_t h = hash_add(SEED, a);
	if (b)
		h = hash_add(absorb(h, 0x0aULL << 60), b);
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

/* The slot of the key, or SIZE_MAX. */
static size_t find(const booking__strmap *m, uint64_t h, const char *a, const char *b)
{
	if (m->count == 0 || !a)
		return SIZE_MAX;
	size_t mask = m->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		const booking__strmap_slot *s = &m->slots[i];
		if (!s->key)
			return SIZE_MAX;
		if (s->hash == h && key_equal(s->key, a, b))
			return i;
	}
}

void *booking__strmap_get_hashed(const booking__strmap *m, uint64_t h, const char *a, const char *b)
{
	size_t i = find(m, h, a, b);
	return i == SIZE_MAX ? NULL : m->slots[i].val;
}

void *booking__strmap_get(const booking__strmap *m, const char *a, const char *b)
{
	if (m->count == 0 || !a)
		return NULL;
	return booking__strmap_get_hashed(m, booking__strmap_hash(a, b), a, b);
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

void booking__strmap_put(booking__strmap *m, const char *key, void *val)
{
	booking__strmap_put_hashed(m, booking__strmap_hash(key, NULL), key, val);
}

void booking__strmap_put_hashed(booking__strmap *m, uint64_t h, const char *key, void *val)
{
	map_place(m->slots, m->cap, key, h, val);
	m->count++;
}

/* Backward-shift deletion: the probe chain behind the hole moves up, so no tombstones are needed. */
void booking__strmap_remove_at(booking__strmap *m, size_t i)
{
	size_t mask = m->cap - 1;
	m->slots[i].key = NULL;
	m->count--;
	for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = (size_t)m->slots[j].hash & mask;
		/* the entry at j may move to the hole at i if its home is not in (i, j] (cyclically) */
		bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].key = NULL;
		i = j;
	}
}

void *booking__strmap_remove(booking__strmap *m, uint64_t h, const char *a, const char *b)
{
	size_t i = find(m, h, a, b);
	if (i == SIZE_MAX)
		return NULL;
	void *val = m->slots[i].val;
	booking__strmap_remove_at(m, i);
	return val;
}

void booking__strmap_clear(booking__strmap *m)
{
	booking_free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}


void booking__strmap_free_all(booking__strmap *m)
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			booking_free(m->slots[i].val);
	booking__strmap_clear(m);
}

void booking__strmap_sweep(booking__strmap *m, bool (*gone)(const void *val, const void *arg), const void *arg)
{
	size_t i = 0;
	while (i < m->cap) {
		void *val = m->slots[i].key ? m->slots[i].val : NULL;
		/* after a removal, slot i may hold a shifted-back entry: look at it again */
		if (val && gone(val, arg)) {
			booking__strmap_remove_at(m, i);
			booking_free(val);
		} else {
			i++;
		}
	}
}
