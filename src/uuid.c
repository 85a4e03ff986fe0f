/*
 * UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version 7, 74 random bits.
 * Time-ordered, so B-tree indexes stay friendly.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

/*
 * Random bytes for identifiers (ids, trace and span ids): the kernel's
 * CSPRNG (randombytes_buf), drawn 4 KiB at a time into a buffer of the
 * thread's, so that an id costs no system call (one in about 400 ids). A forked child must not
 * hand out the bytes its parent buffered (the same ids in two processes):
 * a fork bumps a generation and a buffer of an older one is drawn again.
 * Not for secrets (keys, salts): those draw from randombytes_buf directly.
 */
#define POOL_SIZE 4096

static atomic_uint pool_generation = 1;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int sodium_ready = -1; /* sodium_init()'s answer, once (pool_init) */

static void pool_forked(void)
{
	atomic_fetch_add(&pool_generation, 1);
}

static void pool_init(void)
{
	sodium_ready = sodium_init(); /* thread-safe and idempotent, but it takes a lock: once, not per id */
	(void)pthread_atfork(NULL, NULL, pool_forked);
}

void booking__random_id_bytes(void *out, size_t n)
{
	static _Thread_local unsigned char pool[POOL_SIZE];
	static _Thread_local size_t left;
	static _Thread_local unsigned int generation;

	pthread_once(&pool_once, pool_init);
	if (sodium_ready < 0) { /* never on Linux */
		memset(out, 0, n);
		return;
	}
	if (n > POOL_SIZE / 4) { /* large requests draw directly */
		randombytes_buf(out, n);
		return;
	}
	unsigned int g = atomic_load(&pool_generation);
	if (generation != g || left < n) {
		randombytes_buf(pool, sizeof pool);
		left = sizeof pool;
		generation = g;
	}
	memcpy(out, pool + sizeof pool - left, n);
	sodium_memzero(pool + sizeof pool - left, n); /* handed out once */
	left -= n;
}

void booking_uuid_v7(char out[BOOKING_ID_SIZE], int64_t now_ms)
{
	static const char hex[] = "0123456789abcdef";
	/* the byte index each character pair comes from, the dashes after bytes 3, 5, 7 and 9 */
	static const signed char at[36] = {0, 0, 1, 1, 2, 2, 3, 3, -1, 4, 4, 5, 5, -1, 6, 6, 7, 7, -1,
	                                   8, 8, 9, 9, -1, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15};
	unsigned char b[16];
	uint64_t ts = (uint64_t)(now_ms < 0 ? 0 : now_ms);
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ts >> (40 - 8 * i));
	booking__random_id_bytes(b + 6, 10);
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	for (int k = 0; k < 36; k += at[k] < 0 ? 1 : 2) {
		if (at[k] < 0) {
			out[k] = '-';
			continue;
		}
		out[k] = hex[b[at[k]] >> 4];
		out[k + 1] = hex[b[at[k]] & 15];
	}
	out[36] = '\0';
}
