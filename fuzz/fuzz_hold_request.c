/*
 * Fuzz target: what a customer sends to book — user id, seat labels,
 * idempotency key, card number, correlation id and traceparent — through
 * hold, pay, a rival's hold, read, cancel, expiry and recovery on a fresh
 * memory: handle, then booking_check().
 *
 * Input, one field per line:
 *   user id / labels,comma,separated / idempotency key / card number /
 *   correlation id / traceparent / role digit (0..3)
 * Checked: every call answers a known error code; a successful hold has
 * the seats asked for, sorted, and the right total; a seat in a live
 * reservation is never granted to another user; booking_check() finds no
 * violation at the end.
 * SPDX-License-Identifier: MIT
 */
#include "fuzz.h"

#include <booking/booking.h>
#include <booking/sys/backend.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1767225600000)
#define HOUR INT64_C(3600000)
#define MAX_LABELS 64
#define N_FIELDS 7

typedef struct world {
	booking_clock *clock;
	booking_handle *bk;
	char showtime_id[BOOKING_ID_SIZE];
} world;

static void known(int rc, const char *what)
{
	FUZZ_CHECK(rc <= 0 && strcmp(booking_error_name(rc), "UNKNOWN_ERROR") != 0, "%s answered %d", what, rc);
	FUZZ_CHECK(rc != BOOKING_EINTERNAL, "%s: INTERNAL_ERROR: %s", what, booking_error_last()->message);
}

static char *fuzz_key_paths[2];

static void remove_key(void)
{
	if (fuzz_key_paths[0])
		unlink(fuzz_key_paths[0]);
	if (fuzz_key_paths[1])
		rmdir(fuzz_key_paths[1]);
}

static void world_open(world *w)
{
	w->clock = booking_clock_manual_new(T0);
	FUZZ_CHECK(w->clock != NULL, "clock");
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.clock = w->clock;
	o.log_level = BOOKING_LOG_CRITICAL;
	o.lock_url = "memory:";
	/* one payment key per process, made on first use (removed at exit) */
	static char keydir[] = "/tmp/booking-fuzz-XXXXXX", keyfile[64];
	if (!keyfile[0]) {
		FUZZ_CHECK(mkdtemp(keydir) != NULL, "mkdtemp");
		snprintf(keyfile, sizeof keyfile, "%s/payment.key", keydir);
		FUZZ_CHECK(booking_payment_key_generate_file(keyfile) == 0, "payment key");
		fuzz_key_paths[0] = keyfile;
		fuzz_key_paths[1] = keydir;
		atexit(remove_key);
	}
	o.payment_key_file = keyfile;
	FUZZ_CHECK(booking_open(&w->bk, &o) == 0, "open: %s", booking_error_last()->message);
	booking_ctx admin;
	booking_ctx_init(&admin, "admin", BOOKING_ROLE_ADMIN);
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;
	FUZZ_CHECK(booking_movie_create(&m, w->bk, &admin, "Fuzz", 90) == 0, "movie");
	FUZZ_CHECK(booking_theater_create(&t, w->bk, &admin, "Rex", "Bern") == 0, "theater");
	FUZZ_CHECK(booking_layout_parse(&seats, &n, "A-C:5,D:3:premium", sizeof *seats) == 0, "layout");
	FUZZ_CHECK(booking_screen_create(&s, w->bk, &admin, t->id, "One", seats, n, sizeof *seats) == 0, "screen");
	booking_price prices[] = {{"standard", 1000}, {"premium", 1500}};
	FUZZ_CHECK(booking_showtime_create(&st, w->bk, &admin, m->id, s->id, T0 + 24 * HOUR, "EUR", prices, 2, sizeof *prices) == 0,
	           "showtime");
	memcpy(w->showtime_id, st->id, sizeof(w->showtime_id));
	booking_free(seats);
	booking_movie_free(m);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_showtime_free(st);
}

static void world_close(world *w)
{
	booking_close(w->bk);
	booking_clock_manual_free(w->clock);
}

static int64_t price_of(const char *label)
{
	return label[0] == 'D' ? 1500 : 1000;
}

static void check_hold(const booking_reservation *r, const char *const *labels, size_t n)
{
	FUZZ_CHECK(r->seat_count == n, "%zu seats held of %zu", r->seat_count, n);
	int64_t total = 0;
	for (size_t i = 0; i < n; i++) {
		bool asked = false;
		for (size_t k = 0; k < n && !asked; k++)
			asked = strcmp(r->seats[i]->label, labels[k]) == 0;
		FUZZ_CHECK(asked, "seat %s was not asked for", r->seats[i]->label);
		if (i)
			FUZZ_CHECK(strcmp(r->seats[i - 1]->label, r->seats[i]->label) < 0, "seats not sorted");
		total += price_of(r->seats[i]->label);
	}
	FUZZ_CHECK(r->total_amount == total, "total %lld, expected %lld", (long long)r->total_amount, (long long)total);
	FUZZ_CHECK(r->status == BOOKING_RESERVATION_PENDING && strcmp(r->currency, "EUR") == 0, "state");
}

static void check_store(world *w)
{
	booking_check_report *report = NULL;
	int rc = booking_check(&report, w->bk);
	FUZZ_CHECK(rc == 0, "check: %s", booking_error_last()->message);
	for (size_t i = 0; i < report->count; i++)
		fprintf(stderr, "invariant %d: %s\n", (int)report->items[i]->invariant, report->items[i]->message);
	FUZZ_CHECK(report->count == 0, "%zu violation(s)", report->count);
	booking_check_report_free(report);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	const char *field[N_FIELDS] = {"", "", "", "", "", "", ""};
	char *p = text;
	for (size_t i = 0; i < N_FIELDS && p; i++) {
		field[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	const char *labels[MAX_LABELS];
	size_t n = 0;
	char *lp = (char *)field[1];
	while (lp && n < MAX_LABELS) {
		labels[n++] = lp;
		lp = strchr(lp, ',');
		if (lp)
			*lp++ = '\0';
	}
	int role_digit = field[6][0] >= '0' && field[6][0] <= '3' ? field[6][0] - '0' : 1;

	world w;
	memset(&w, 0, sizeof(w));
	world_open(&w);
	booking_ctx ctx;
	booking_ctx_init(&ctx, field[0], (booking_role)role_digit);
	ctx.correlation_id = field[4][0] ? field[4] : NULL;
	ctx.traceparent = field[5][0] ? field[5] : NULL;

	booking_reservation *r = NULL;
	int rc = booking_hold(&r, w.bk, &ctx, w.showtime_id, labels, n);
	known(rc, "hold");
	FUZZ_CHECK((rc == 0) == (r != NULL), "out iff success");
	if (r) {
		check_hold(r, labels, n);
		char id[BOOKING_ID_SIZE];
		memcpy(id, r->id, sizeof(id));

		booking_payment *pay = NULL;
		rc = booking_pay(&pay, w.bk, &ctx, id, field[2], field[3]);
		known(rc, "pay");
		if (rc == 0)
			FUZZ_CHECK(pay && pay->status == BOOKING_PAYMENT_SUCCEEDED && pay->amount == r->total_amount, "payment");
		booking_payment_free(pay);

		/* Nobody else gets these seats while the reservation lives. */
		booking_ctx rival;
		booking_ctx_init(&rival, "rival-user", BOOKING_ROLE_CUSTOMER);
		booking_reservation *other = NULL;
		rc = booking_hold(&other, w.bk, &rival, w.showtime_id, labels, n);
		FUZZ_CHECK(rc == BOOKING_ESEAT_ALREADY_BOOKED, "rival's hold answered %s", booking_error_name(rc));
		booking_reservation_free(other);

		booking_reservation *got = NULL;
		known(booking_reservation_get(&got, w.bk, &ctx, id), "get");
		booking_reservation_free(got);
		booking_reservation_list *list = NULL;
		known(booking_reservation_list_for_user(&list, w.bk, &ctx, NULL, 0, NULL), "list");
		booking_reservation_list_free(list);
		booking_reservation *cancelled = NULL;
		known(booking_reservation_cancel(&cancelled, w.bk, &ctx, id), "cancel");
		booking_reservation_free(cancelled);
		booking_reservation_free(r);
	}
	booking_clock_manual_advance(w.clock, HOUR);
	known(booking_expire_due(NULL, w.bk, booking_ctx_system(), 100), "expire");
	known(booking_payment_recover(NULL, w.bk, booking_ctx_system(), 0), "recover");
	known(booking_outbox_relay(NULL, w.bk, 100), "relay");
	check_store(&w);
	world_close(&w);
	free(text);
	return 0;
}
