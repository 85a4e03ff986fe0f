/*
 * hold_and_pay — the smallest complete libbooking program, on the path a
 * real host takes: keys, an admin and a customer who register and log in,
 * and every call made with a ctx verified from a token — never one forged
 * with booking_ctx_init(). Then a catalog, a hold of two seats, a payment.
 * Copy it to start.
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

/* Log in and turn the token into a verified ctx. The ctx borrows from *tok: free it after the ctx. */
static int log_in(booking_handle *bk, const char *email, const char *password, char **token, booking_token **tok,
                  booking_ctx *ctx)
{
	if (booking_auth_login(token, NULL, bk, NULL, email, password) != 0)
		return fail("login");
	if (booking_auth_ctx(ctx, tok, bk, *token) != 0) /* what a server does with each request's bearer token */
		return fail("verify");
	return 0;
}

int main(void)
{
	/*
	 * Secrets have no defaults: a payment key (keys the fingerprints of
	 * payment requests, never in the database) and a signing key pair for
	 * access tokens. A real deployment makes them once (`booking init`)
	 * and names them in BOOKING_PAYMENT_KEY_FILE and BOOKING_JWT_*; this
	 * example makes throwaway ones in a private directory.
	 */
	char dir[] = "/tmp/booking-example-XXXXXX", paykey[64], priv[64], pub[64];
	if (!mkdtemp(dir)) /* mode 0700: the key loaders refuse a directory others can write */
		return fail("mkdtemp");
	snprintf(paykey, sizeof paykey, "%s/payment.key", dir);
	snprintf(priv, sizeof priv, "%s/jwt.private.json", dir);
	snprintf(pub, sizeof pub, "%s/jwt.public.json", dir);
	if (booking_payment_key_generate_file(paykey) != 0 || booking_jwk_generate_files(NULL, priv, pub, NULL) != 0)
		return fail("keys");

	booking_options opts = BOOKING_OPTIONS_INIT;
	opts.store_url = "memory:"; /* or "sqlite:///var/lib/app/booking.db" */
	opts.payment_key_file = paykey;
	opts.jwt_private_key_file = priv;
	opts.jwt_public_keys_file = pub;
	booking_handle *bk = NULL;
	if (booking_open(&bk, &opts) != 0)
		return fail("open");

	/* The first admin is made by the host itself (the system ctx); anyone may register as a customer. */
	const char *admin_pw = "a long admin passphrase", *alice_pw = "alice's own passphrase";
	booking_ctx anonymous = BOOKING_CTX_INIT, admin, alice;
	char *admin_token = NULL, *alice_token = NULL;
	booking_token *admin_tok = NULL, *alice_tok = NULL;
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
	if (booking_auth_register(NULL, bk, booking_ctx_system(), "admin@example.com", admin_pw, BOOKING_ROLE_ADMIN) != 0 ||
	    booking_auth_register(NULL, bk, &anonymous, "alice@example.com", alice_pw, BOOKING_ROLE_CUSTOMER) != 0) {
		fail("register");
	} else if (log_in(bk, "admin@example.com", admin_pw, &admin_token, &admin_tok, &admin) != 0 ||
	           log_in(bk, "alice@example.com", alice_pw, &alice_token, &alice_tok, &alice) != 0) {
		/* reported */
	} else if (booking_layout_parse(&seats, &nseats, "A-E:10", sizeof *seats) != 0 || /* 5 rows x 10 seats */
	           booking_theater_create(&t, bk, &admin, "Odeon", "Lyon") != 0 ||
	           booking_screen_create(&scr, bk, &admin, t->id, "Screen 1", seats, nseats, sizeof *seats) != 0 ||
	           booking_movie_create(&m, bk, &admin, "Metropolis", 153) != 0 ||
	           booking_showtime_create(&st, bk, &admin, m->id, scr->id, booking_now(bk) + (int64_t)2 * 3600 * 1000,
	                                   "EUR", &price, 1, sizeof(booking_price)) != 0) {
		fail("catalog");
	} else if (booking_hold(&r, bk, &alice, st->id, wanted, 2) != 0) {
		fail("hold"); /* SEAT_ALREADY_BOOKED when someone was faster */
	} else if (booking_pay(&p, bk, &alice, r->id, "order-1", "4242424242424242") != 0) {
		fail("pay"); /* retrying with the same key never charges twice */
	} else if (booking_reservation_get(&done, bk, &alice, r->id) != 0) {
		fail("get");
	} else if (booking_auth_revoke(bk, &alice, alice_token) != 0) { /* log out: the token is refused from now on */
		fail("logout");
	} else {
		printf("reservation %s: %s, seats %s %s, %lld.%02lld %s, payment %s\n", done->id,
		       booking_reservation_status_name(done->status), done->seats[0]->label, done->seats[1]->label,
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
	booking_token_free(alice_tok); /* after the last use of the ctx that borrows from it */
	booking_token_free(admin_tok);
	booking_free(alice_token);
	booking_free(admin_token);
	booking_close(bk);
	unlink(paykey);
	unlink(priv);
	unlink(pub);
	rmdir(dir);
	return rc;
}
