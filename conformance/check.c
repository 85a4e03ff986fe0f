/*
 * libbooking conformance kit — the check group: a flow through the public
 * API on a fresh store, then booking_check(). Written without Check (it runs
 * in the caller's process, after the suites): each step that goes wrong is
 * reported and counted, and the flow stops; booking_check() runs whenever
 * the handle opened, and each violation it reports counts as a failure.
 * SPDX-License-Identifier: MIT
 */
#include "conformance_kit.h"
#include "fixture.h"

#include <booking/sys/clock.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z, as the suites' clocks */
#define MINUTE INT64_C(60000)

typedef struct flow {
	FILE *out;
	booking_handle *bk;
	booking_clock *clock;
	char url[600], file[600];
	char key_dir[300], key_file[400];
	char movie[BOOKING_ID_SIZE], theater[BOOKING_ID_SIZE], screen[BOOKING_ID_SIZE], showtime[BOOKING_ID_SIZE];
	int verbosity;
	int failed; /* steps that went wrong (the flow stops at the first) */
} flow;

/* Count a step that went wrong; say what, unless quiet. */
static void flow_fail(flow *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void flow_fail(flow *f, const char *fmt, ...)
{
	va_list ap;

	f->failed++;
	if (f->verbosity < 1)
		return;
	fprintf(f->out, "FAIL check/%s: ", KIT_CHECK_NAME);
	va_start(ap, fmt);
	vfprintf(f->out, fmt, ap);
	va_end(ap);
	fputc('\n', f->out);
}

/* Report a step whose code is not `want` (a booking_error_name); true when it is. */
static bool step(flow *f, const char *what, int rc, const char *want)
{
	if (strcmp(booking_error_name(rc), want) == 0)
		return true;
	flow_fail(f, "%s: expected %s, got %s: %s", what, want, booking_error_name(rc),
	     rc ? booking_error_last()->message : "no error");
	return false;
}

static bool ok(flow *f, const char *what, int rc)
{
	return step(f, what, rc, "OK");
}

static bool fresh_url(flow *f, const char *store_url, const booking_conformance_options *o)
{
	static unsigned int seq = 1000000; /* apart from the suites' numbers */

	if (o->fresh) {
		if (o->fresh(f->url, sizeof(f->url), store_url, ++seq, o->payload) == 0)
			return true;
		flow_fail(f, "the fresh-URL callback failed for %s", store_url);
		return false;
	}
	fx_use_fresh(NULL, NULL); /* the rule, without a callback: nothing in it asserts */
	fx_fresh_url(f->url, sizeof(f->url), store_url, f->file, sizeof(f->file));
	return true;
}

static bool open_handle(flow *f, const char *store_url, const booking_conformance_options *o)
{
	booking_options bo;

	if (!fresh_url(f, store_url, o))
		return false;
	snprintf(f->key_dir, sizeof(f->key_dir), "%s/booking-conformance.XXXXXX", fx_env("TMPDIR", "/tmp"));
	if (!mkdtemp(f->key_dir)) {
		f->key_dir[0] = '\0';
		flow_fail(f, "cannot make a temporary directory");
		return false;
	}
	snprintf(f->key_file, sizeof(f->key_file), "%s/payment.key", f->key_dir);
	if (!ok(f, "booking_payment_key_generate_file", booking_payment_key_generate_file(f->key_file)))
		return false;
	f->clock = booking_clock_manual_new(T0);
	booking_options_init(&bo, BOOKING_OPTIONS_VERSION);
	bo.clock = f->clock;
	bo.store_url = f->url;
	bo.payment_key_file = f->key_file;
	bo.log_level = BOOKING_LOG_CRITICAL;
	return ok(f, "booking_open", booking_open(&f->bk, &bo));
}

static bool seed(flow *f)
{
	booking_ctx admin;
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_seat *seats = NULL;
	booking_price price;
	size_t n = 0;
	bool good;

	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	if (!ok(f, "booking_movie_create", booking_movie_create(&m, f->bk, &admin, "The Seat Keeper", 120)))
		return false;
	snprintf(f->movie, sizeof(f->movie), "%s", m->id);
	booking_movie_free(m);
	if (!ok(f, "booking_theater_create", booking_theater_create(&t, f->bk, &admin, "Odeon", "Lyon")))
		return false;
	snprintf(f->theater, sizeof(f->theater), "%s", t->id);
	booking_theater_free(t);
	if (!ok(f, "booking_layout_parse", booking_layout_parse(&seats, &n, "A-C:10", sizeof *seats)))
		return false;
	good = ok(f, "booking_screen_create",
	          booking_screen_create(&s, f->bk, &admin, f->theater, "Screen 1", seats, n, sizeof *seats));
	booking_free(seats);
	if (!good)
		return false;
	snprintf(f->screen, sizeof(f->screen), "%s", s->id);
	booking_screen_free(s);
	memset(&price, 0, sizeof(price));
	snprintf(price.category, sizeof(price.category), "standard");
	price.amount = 1250;
	if (!ok(f, "booking_showtime_create",
	        booking_showtime_create(&st, f->bk, &admin, f->movie, f->screen, booking_now(f->bk) + 24 * 60 * MINUTE,
	                                "EUR", &price, 1, sizeof(booking_price))))
		return false;
	snprintf(f->showtime, sizeof(f->showtime), "%s", st->id);
	booking_showtime_free(st);
	return true;
}

/* Hold one or two seats as `user`; the reservation id into `id_out` on success. */
static int hold(flow *f, const char *user, const char *a, const char *b, char id_out[BOOKING_ID_SIZE])
{
	const char *labels[2] = {a, b};
	booking_reservation *r = NULL;
	booking_ctx c;
	int rc;

	booking_ctx_init(&c, user, BOOKING_ROLE_CUSTOMER);
	rc = booking_hold(&r, f->bk, &c, f->showtime, labels, b ? 2 : 1);
	if (rc == 0 && id_out)
		snprintf(id_out, BOOKING_ID_SIZE, "%s", r->id);
	booking_reservation_free(r);
	return rc;
}

static int pay(flow *f, const char *user, const char *reservation_id, const char *key, const char *card,
               char payment_out[BOOKING_ID_SIZE])
{
	booking_payment *p = NULL;
	booking_ctx c;
	int rc;

	booking_ctx_init(&c, user, BOOKING_ROLE_CUSTOMER);
	rc = booking_pay(&p, f->bk, &c, reservation_id, key, card);
	if (rc == 0 && payment_out)
		snprintf(payment_out, BOOKING_ID_SIZE, "%s", p->id);
	booking_payment_free(p);
	return rc;
}

static int count_event(const booking_event *e, void *payload)
{
	(void)e;
	(*(size_t *)payload)++;
	return 0;
}

/* Every kind of change a store records, through the public calls. */
static void traffic(flow *f)
{
	char paid[BOOKING_ID_SIZE], refunded[BOOKING_ID_SIZE], cancelled[BOOKING_ID_SIZE], expired[BOOKING_ID_SIZE],
	    declined[BOOKING_ID_SIZE], payment[BOOKING_ID_SIZE];
	booking_ctx alice, admin, sys = *booking_ctx_system();
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	size_t n = 0, relayed = 0, handled = 0, applied = 0;

	booking_ctx_init(&alice, "alice", BOOKING_ROLE_CUSTOMER);
	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	if (!seed(f) || !ok(f, "hold A1 A2", hold(f, "alice", "A1", "A2", paid)) ||
	    !step(f, "hold A2 A3 while A2 is held", hold(f, "bob", "A2", "A3", NULL), "SEAT_ALREADY_BOOKED") ||
	    !ok(f, "pay A1 A2", pay(f, "alice", paid, "k1", "4242424242424242", NULL)) ||
	    !ok(f, "hold A5", hold(f, "erin", "A5", NULL, refunded)) ||
	    !ok(f, "pay A5", pay(f, "erin", refunded, "k1", "4242424242424242", payment)) ||
	    !ok(f, "refund A5", booking_payment_refund(NULL, f->bk, &admin, payment)) ||
	    !ok(f, "hold B1", hold(f, "alice", "B1", NULL, cancelled)) ||
	    !ok(f, "cancel B1", booking_reservation_cancel(NULL, f->bk, &alice, cancelled)) ||
	    !ok(f, "hold C1", hold(f, "bob", "C1", NULL, expired)) || !ok(f, "hold C2", hold(f, "carol", "C2", NULL, declined)) ||
	    !step(f, "pay C2 with a declined card", pay(f, "carol", declined, "k2", "4000000000000002", NULL),
	          "PAYMENT_DECLINED"))
		return;
	booking_clock_manual_advance(f->clock, 16 * MINUTE); /* past every hold */
	if (!ok(f, "booking_expire_due", booking_expire_due(&n, f->bk, &sys, 10)) ||
	    !ok(f, "hold C1 after its hold expired", hold(f, "dave", "C1", NULL, NULL)) ||
	    !ok(f, "booking_outbox_relay", booking_outbox_relay(&relayed, f->bk, 1000)))
		return;
	co.group = "conformance";
	co.batch = 100;
	if (!ok(f, "booking_consume", booking_consume(&handled, f->bk, &co, count_event, &applied)))
		return;
	if (n != 2 || relayed == 0 || handled != relayed) {
		flow_fail(f, "expected 2 expired reservations and every relayed event consumed; got %zu expired, %zu relayed, %zu consumed",
		     n, relayed, handled);
	}
}

/* booking_check() on the flow's store: each violation counts. */
static int check(flow *f)
{
	booking_check_report *r = NULL;
	int violations;

	if (!ok(f, "booking_check", booking_check(&r, f->bk)))
		return 0;
	for (size_t i = 0; i < r->count && f->verbosity >= 1; i++)
		fprintf(f->out, "FAIL check/%s: booking_check: invariant %d on %s: %s\n", KIT_CHECK_NAME,
		        (int)r->items[i]->invariant, r->items[i]->entity_id,
		        r->items[i]->message ? r->items[i]->message : "");
	violations = (int)r->count;
	booking_check_report_free(r);
	return violations;
}

static void cleanup(flow *f)
{
	booking_close(f->bk);
	booking_clock_manual_free(f->clock);
	if (f->key_file[0])
		unlink(f->key_file);
	if (f->key_dir[0])
		rmdir(f->key_dir);
	fx_remove_db(f->file);
}

void kit_check_flow(const char *store_url, const booking_conformance_options *o, FILE *out, kit_tally *t)
{
	flow f;
	int violations = 0;

	memset(&f, 0, sizeof(f));
	f.out = out;
	f.verbosity = o->verbosity;
	if (open_handle(&f, store_url, o)) {
		traffic(&f);
		violations = check(&f);
	}
	cleanup(&f);
	if (f.failed == 0 && violations == 0) {
		t->passed++;
		if (o->verbosity >= 2)
			fprintf(out, "ok   check/%s\n", KIT_CHECK_NAME);
		return;
	}
	t->failed += f.failed + violations;
}
