/*
 * UUIDv7 (RFC 9562): 48-bit Unix ms timestamp, version 7, 74 random bits.
 * Time-ordered, so B-tree indexes stay friendly.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

void booking_uuid_v7(char out[BOOKING_ID_SIZE], int64_t now_ms)
{
	unsigned char b[16];
	if (sodium_init() < 0) /* idempotent and thread-safe */
		memset(b, 0, sizeof(b));
	uint64_t ts = (uint64_t)(now_ms < 0 ? 0 : now_ms);
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ts >> (40 - 8 * i));
	randombytes_buf(b + 6, 10);
	b[6] = (unsigned char)(0x70 | (b[6] & 0x0f));
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	snprintf(out, BOOKING_ID_SIZE,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
	         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}
