/*
 * custom_backend — a backend that is not part of libbooking, registered at
 * run time: the tinylocks lock manager (tinylocks/tinylocks.c, written only
 * against <booking/sys/backend.h>) under the scheme "tinylocks", then used
 * by URL like a built-in one — from BOOKING_LOCK_URL through
 * booking_options_from_env(), and by booking_open(). Two customers then
 * hold seats; the second one's overlapping hold is refused.
 * doc/backends.md explains the registration.
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, setenv */
#include "tinylocks/tinylocks.h"

#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what)
{
	const booking_error *e = booking_error_last();
	fprintf(stderr, "%s failed: %s: %s\n", what, e->name, e->message);
	return 1;
}

static int sell(booking_handle *bk, tinylocks_stats *stats)
{
	booking_ctx admin, alice, bob;
	booking_ctx_init(&admin, "admin", BOOKING_ROLE_ADMIN);
	booking_ctx_init(&alice, "alice", BOOKING_ROLE_CUSTOMER);
	booking_ctx_init(&bob, "bob", BOOKING_ROLE_CUSTOMER);

	booking_seat *seats = NULL;
	size_t nseats = 0;
	booking_theater *t = NULL;
	booking_screen *scr = NULL;
	booking_movie *m = NULL;
	booking_showtime *st = NULL;
	booking_reservation *r = NULL, *r2 = NULL;
	const booking_price price = {"standard", 900};
	const char *alices[] = {"B3", "B4"}, *bobs[] = {"B4", "B5"};
	int rc = 1, taken;
	if (booking_layout_parse(&seats, &nseats, "A-C:8", sizeof *seats) != 0 ||
	    booking_theater_create(&t, bk, &admin, "Rex", "Paris") != 0 ||
	    booking_screen_create(&scr, bk, &admin, t->id, "Salle 1", seats, nseats, sizeof *seats) != 0 ||
	    booking_movie_create(&m, bk, &admin, "Playtime", 124) != 0 ||
	    booking_showtime_create(&st, bk, &admin, m->id, scr->id, booking_now(bk) + (int64_t)3600 * 1000, "EUR",
	                            &price, 1, sizeof(booking_price)) != 0) {
		fail("catalog");
	} else if (booking_hold(&r, bk, &alice, st->id, alices, 2) != 0) {
		fail("alice's hold");
	} else if ((taken = booking_hold(&r2, bk, &bob, st->id, bobs, 2)) != BOOKING_ESEAT_ALREADY_BOOKED) {
		fprintf(stderr, "bob's hold of a taken seat answered %s, not SEAT_ALREADY_BOOKED\n",
		        booking_error_name(taken));
	} else if (atomic_load(&stats->acquired) < 1) {
		fprintf(stderr, "the holds never went through tinylocks\n");
	} else {
		printf("alice holds %s %s (reservation %s); bob's B4 B5: %s\n", r->seats[0]->label, r->seats[1]->label, r->id,
		       booking_error_name(taken));
		printf("tinylocks: %ld acquisitions, %ld refused\n", atomic_load(&stats->acquired),
		       atomic_load(&stats->refused));
		rc = 0;
	}
	booking_reservation_free(r2);
	booking_reservation_free(r);
	booking_showtime_free(st);
	booking_movie_free(m);
	booking_screen_free(scr);
	booking_theater_free(t);
	booking_free(seats);
	return rc;
}

int main(void)
{
	static tinylocks_stats stats; /* outlives the registration: the process */
	if (tinylocks_register(&stats) != 0)
		return fail("register tinylocks");

	/* Registered, the scheme is a lock URL like "memory:" or "redis://": the environment may name it. */
	setenv("BOOKING_LOCK_URL", "tinylocks:?max_keys=1000", 0);
	setenv("BOOKING_LOG_LEVEL", "WARNING", 0);
	booking_options *opts = NULL;
	if (booking_options_from_env(&opts) != 0)
		return fail("options");

	/* a throwaway payment key for this run, as in hold_and_pay.c */
	char keydir[] = "/tmp/booking-example-XXXXXX", keyfile[64] = "";
	if (!opts->payment_key_file) {
		if (!mkdtemp(keydir))
			return fail("mkdtemp");
		snprintf(keyfile, sizeof keyfile, "%s/payment.key", keydir);
		if (booking_payment_key_generate_file(keyfile) != 0)
			return fail("payment key");
		opts->payment_key_file = keyfile;
	}
	booking_handle *bk = NULL;
	int rc = booking_open(&bk, opts) != 0 ? fail("open") : sell(bk, &stats);
	booking_close(bk);
	if (keyfile[0]) {
		unlink(keyfile);
		rmdir(keydir);
	}
	booking_options_free(opts);
	return rc;
}
