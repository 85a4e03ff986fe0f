/*
 * Record copies (<booking/sys/records.h>): a caller-owned record from a
 * borrowed view, in the layout the public booking_*_free() expect (the
 * struct, each string and each array its own block). Copying, no rule.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

/* ---------- arrays of records (doc/decisions.md, "Records and the ABI") ---------- */

/* Where the records start in a handed-out block: after the pointers, aligned for any record. */
static size_t records_offset(size_t count)
{
	const size_t a = alignof(max_align_t);
	return (count * sizeof(void *) + a - 1) / a * a;
}

/* Point the `count` pointers at the start of `block` at the records after them. */
static void **point(void *block, size_t count, size_t size)
{
	void **ptrs = block;
	char *rec = (char *)block + records_offset(count);
	for (size_t i = 0; i < count; i++)
		ptrs[i] = rec + i * size;
	return ptrs;
}

/* The block's size, 0 when it would overflow. */
static size_t block_size(size_t count, size_t size)
{
	if (size == 0 || count > (SIZE_MAX / 2 - alignof(max_align_t)) / (size + sizeof(void *)))
		return 0;
	return records_offset(count) + count * size;
}

booking_error_code booking_record_array_new(void ***out, size_t count, size_t size)
{
	if (!out || size == 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "record array: out and size are required");
	*out = NULL;
	if (count == 0)
		return 0;
	size_t total = block_size(count, size);
	void *block = total ? booking_calloc(1, total) : NULL;
	if (!block)
		return booking_error_oom();
	*out = point(block, count, size);
	return 0;
}

void **booking__record_array_adopt(void *records, size_t count, size_t size)
{
	if (count == 0)
		return NULL;
	size_t total = block_size(count, size), off = records_offset(count);
	void *block = total ? booking_realloc(records, total) : NULL;
	if (!block) {
		booking_error_oom();
		return NULL;
	}
	memmove((char *)block + off, block, count * size);
	return point(block, count, size);
}

int booking__record_array_dup(void ***out, const void *const *src, size_t count, size_t size)
{
	void **a = NULL;
	int rc = booking_record_array_new(&a, count, size);
	for (size_t i = 0; a && i < count; i++)
		memcpy(a[i], src[i], size);
	*out = a;
	return rc;
}

void booking__record_convert(void *dst, size_t dst_size, const void *src, size_t src_size)
{
	size_t common = dst_size < src_size ? dst_size : src_size;
	memcpy(dst, src, common);
	memset((char *)dst + common, 0, dst_size - common);
}

int booking__record_array_in(void ***out, const void *src, size_t count, size_t src_size, size_t size, size_t min_size,
                             const char *size_field)
{
	*out = NULL;
	if (src_size < min_size)
		return booking__error_field(size_field, "is %zu: a record is at least %zu bytes (pass sizeof the record)",
		                            src_size, min_size);
	void **a = NULL;
	int rc = booking_record_array_new(&a, count, size);
	for (size_t i = 0; a && i < count; i++)
		booking__record_convert(a[i], size, (const char *)src + i * src_size, src_size);
	*out = a;
	return rc;
}

/* The struct in a block of its own; NULL when out of memory or when an argument is missing. */
static void *start(void *out, const void *src, size_t size)
{
	void *p = out && src ? booking_malloc(size) : NULL;
	if (p)
		memcpy(p, src, size);
	return p;
}

/* Why there is no record, if there is none (a record that lost a part was freed). */
static int done(const void *out, const void *src, const void *rec)
{
	if (!out || !src)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "record copy: out and src are required");
	return rec ? 0 : booking_error_oom();
}

static char *dup_text(const char *s)
{
	return booking_strdup(s ? s : "");
}

/* A handed-out copy of the n records `src` points at; NULL when n is 0 (or out of memory). */
static void *dup_array(const void *src, size_t n, size_t size)
{
	void **p = NULL;
	if (n)
		(void)booking__record_array_dup(&p, (const void *const *)src, n, size); /* NULL p: done() reports it */
	return p;
}

booking_error_code booking_movie_copy(booking_movie **out, const booking_movie *src)
{
	booking_movie *m = start(out, src, sizeof *src);
	if (m && !(m->title = dup_text(src->title))) {
		booking_free(m);
		m = NULL;
	}
	if (out)
		*out = m;
	return done(out, src, m);
}

booking_error_code booking_theater_copy(booking_theater **out, const booking_theater *src)
{
	booking_theater *t = start(out, src, sizeof *src);
	if (t) {
		t->name = dup_text(src->name);
		t->city = dup_text(src->city);
		if (!t->name || !t->city) {
			booking_theater_free(t);
			t = NULL;
		}
	}
	if (out)
		*out = t;
	return done(out, src, t);
}

booking_error_code booking_screen_copy(booking_screen **out, const booking_screen *src)
{
	booking_screen *s = start(out, src, sizeof *src);
	if (s) {
		s->name = dup_text(src->name);
		s->seats = dup_array(src->seats, src->seat_count, sizeof **s->seats);
		if (!s->name || (src->seat_count && !s->seats)) {
			booking_screen_free(s);
			s = NULL;
		}
	}
	if (out)
		*out = s;
	return done(out, src, s);
}

booking_error_code booking_showtime_copy(booking_showtime **out, const booking_showtime *src)
{
	booking_showtime *s = start(out, src, sizeof *src);
	if (s && !(s->prices = dup_array(src->prices, src->price_count, sizeof **s->prices)) && src->price_count) {
		booking_free(s);
		s = NULL;
	}
	if (out)
		*out = s;
	return done(out, src, s);
}

booking_error_code booking_reservation_copy(booking_reservation **out, const booking_reservation *src)
{
	booking_reservation *r = start(out, src, sizeof *src);
	if (r && !(r->seats = dup_array(src->seats, src->seat_count, sizeof **r->seats)) && src->seat_count) {
		booking_free(r);
		r = NULL;
	}
	if (out)
		*out = r;
	return done(out, src, r);
}

booking_error_code booking_payment_copy(booking_payment **out, const booking_payment *src)
{
	booking_payment *p = start(out, src, sizeof *src);
	if (out)
		*out = p;
	return done(out, src, p);
}

booking_error_code booking_user_copy(booking_user **out, const booking_user *src)
{
	booking_user *u = start(out, src, sizeof *src);
	if (u && !(u->email = dup_text(src->email))) {
		booking_free(u);
		u = NULL;
	}
	if (out)
		*out = u;
	return done(out, src, u);
}
