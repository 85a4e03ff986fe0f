/*
 * hold_and_pay — the smallest complete libbooking program: a catalog, a
 * hold of two seats, a payment. Copy it to start.
 *   cc hold_and_pay.c $(pkg-config --cflags --libs libbooking) -o hold_and_pay
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <booking/booking.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fail(const char *what)
{
	const booking_error *e = booking_error_last();
	fprintf(stderr, "%s failed: %s: %s\n", what, e->name, e->message);
	return 1;
}

int main(void)
{
	booking_options opts = BOOKING_OPTIONS_INIT;
	opts.store_url = "memory:";            /* or "sqlite:///var/lib/app/booking.db" */
	opts.log_level = BOOKING_LOG_WARNING;
	/*
	 * Payments need a secret of their own that keys the fingerprints of
	 * payment requests (never in the database, no default): the file
	 * $BOOKING_PAYMENT_KEY_FILE names, else a throwaway one for this run.
	 */
	char keydir[] = "/tmp/booking-example-XXXXXX", keyfile[64] = "";
	opts.payment_key_file = getenv("BOOKING_PAYMENT_KEY_FILE");
	if (!opts.payment_key_file || !*opts.payment_key_file) {
		if (!mkdtemp(keydir))
			return fail("mkdtemp");
		snprintf(keyfile, sizeof keyfile, "%s/payment.key", keydir);
		if (booking_payment_key_generate_file(keyfile) != 0)
			return fail("payment key");
		opts.payment_key_file = keyfile;
	}
	booking *bk = NULL;
	if (booking_open(&bk, &opts) != 0)
		return fail("open");

	booking_ctx admin, alice;
	booking_ctx_init(&admin, "admin", BOOKING_ROLE_ADMIN);
	booking_ctx_init(&alice, "alice", BOOKING_ROLE_CUSTOMER);

	/* The catalog: a theater, a screen of 5 rows x 10 seats, a movie, a showtime in two hours. */
	booking_seat *seats = NULL;
	size_t nseats = 0;
	booking_theater *t = NULL;
	booking_screen *scr = NULL;
	booking_movie *m = NULL;
	booking_showtime *st = NULL;
	booking_reservation *r = NULL, *done = NULL;
	booking_payment *p = NULL;
	const booking_price price = {"standard", 1250}; /* 12.50 EUR */
	const char *wanted[] = {"C5", "C6"};
	int rc = 1;
	if (booking_layout_parse(&seats, &nseats, "A-E:10") != 0 ||
	    booking_theater_create(&t, bk, &admin, "Odeon", "Lyon") != 0 ||
	    booking_screen_create(&scr, bk, &admin, t->id, "Screen 1", seats, nseats) != 0 ||
	    booking_movie_create(&m, bk, &admin, "Metropolis", 153) != 0 ||
	    booking_showtime_create(&st, bk, &admin, m->id, scr->id, booking_now(bk) + (int64_t)2 * 3600 * 1000, "EUR", &price,
	                            1) != 0) {
		fail("catalog");
	} else if (booking_hold(&r, bk, &alice, st->id, wanted, 2) != 0) {
		fail("hold"); /* SEAT_ALREADY_BOOKED when someone was faster */
	} else if (booking_pay(&p, bk, &alice, r->id, "order-1", "4242424242424242") != 0) {
		fail("pay"); /* retrying with the same key never charges twice */
	} else if (booking_reservation_get(&done, bk, &alice, r->id) != 0) {
		fail("get");
	} else {
		printf("booking %s: %s, seats %s %s, %lld.%02lld %s, payment %s\n", done->id,
		       booking_status_name(done->status), done->seats[0].label, done->seats[1].label,
		       (long long)(done->total_amount / 100), (long long)(done->total_amount % 100), done->currency, p->id);
		rc = 0;
	}
	booking_payment_free(p);
	booking_reservation_free(done);
	booking_reservation_free(r);
	booking_showtime_free(st);
	booking_movie_free(m);
	booking_screen_free(scr);
	booking_theater_free(t);
	booking_free(seats);
	booking_close(bk);
	if (keyfile[0]) {
		unlink(keyfile);
		rmdir(keydir);
	}
	return rc;
}
