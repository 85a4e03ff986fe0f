/*
 * Record copies (<booking/sys/records.h>): a caller-owned record from a
 * borrowed view, in the layout the public booking_*_free() expect (the
 * struct, each string and each array its own block). Copying, no rule.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <string.h>

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

/* A copy of n items of `size` bytes; NULL when n is 0 (or out of memory). */
static void *dup_array(const void *src, size_t n, size_t size)
{
	void *p = n ? booking_calloc(n, size) : NULL;
	if (p)
		memcpy(p, src, n * size);
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
		s->seats = dup_array(src->seats, src->seat_count, sizeof *s->seats);
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
	if (s && !(s->prices = dup_array(src->prices, src->price_count, sizeof *s->prices)) && src->price_count) {
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
	if (r && !(r->seats = dup_array(src->seats, src->seat_count, sizeof *r->seats)) && src->seat_count) {
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
