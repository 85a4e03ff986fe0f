/*
 * Unit tests: the notification consumer and its sink.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdlib.h>

#define HOLD_MS (15 * FX_MINUTE)

typedef struct note {
	booking_notification_kind kind;
	char event_id[BOOKING_ID_SIZE];
	char user_id[BOOKING_USER_ID_SIZE];
	char reservation_id[BOOKING_ID_SIZE];
	bool has_subject, has_body;
} note;

typedef struct inbox {
	note notes[64];
	size_t n;
	size_t calls;
	int fail_first; /* fail this many calls first (a flaky mail server) */
} inbox;

static int sink(const booking_notification *n, void *payload)
{
	inbox *in = payload;
	note *x;

	in->calls++;
	if (in->fail_first > 0) {
		in->fail_first--;
		return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "mail server busy");
	}
	ck_assert_uint_lt(in->n, 64);
	x = &in->notes[in->n++];
	x->kind = n->kind;
	snprintf(x->event_id, sizeof(x->event_id), "%s", n->event_id ? n->event_id : "");
	snprintf(x->user_id, sizeof(x->user_id), "%s", n->user_id ? n->user_id : "");
	snprintf(x->reservation_id, sizeof(x->reservation_id), "%s", n->reservation_id ? n->reservation_id : "");
	x->has_subject = n->subject && *n->subject;
	x->has_body = n->body && *n->body;
	return 0;
}

static fx f;
static const char *const transports[] = {"store:", "memory:"};

static void open_on(int i)
{
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.events_url = transports[i];
	fx_open(&f, &o);
	fx_seed(&f);
}

/* Relay and notify until quiet; returns notifications sent. */
static size_t notify_all(inbox *in)
{
	size_t total = 0;
	int quiet = 0;

	for (int i = 0; i < 100 && quiet < 3; i++) {
		size_t sent = 0, calls = in->calls;
		int rc;

		ck_assert_ok(booking_outbox_relay(NULL, f.bk, 1000));
		rc = booking_notify(&sent, f.bk, sink, in);
		ck_assert_msg(rc == 0 || in->calls > calls, "booking_notify: %s", booking_error_name(rc));
		total += rc == 0 ? sent : 0;
		quiet = (sent == 0 && in->calls == calls) ? quiet + 1 : 0;
		fx_advance(&f, FX_MINUTE);
	}
	return total;
}

static const note *note_for(const inbox *in, booking_notification_kind kind, const char *reservation_id)
{
	const note *found = NULL;

	for (size_t i = 0; i < in->n; i++)
		if (in->notes[i].kind == kind && strcmp(in->notes[i].reservation_id, reservation_id) == 0) {
			ck_assert_msg(found == NULL, "notification %d for %s sent twice", (int)kind, reservation_id);
			found = &in->notes[i];
		}
	ck_assert_msg(found != NULL, "no notification %d for %s", (int)kind, reservation_id);
	return found;
}

START_TEST(each_outcome_is_notified_once_to_its_user)
{
	inbox *in = calloc(1, sizeof(*in));
	booking_ctx alice = fx_customer("alice"), sys = fx_system();
	char confirmed[BOOKING_ID_SIZE], cancelled[BOOKING_ID_SIZE], expired[BOOKING_ID_SIZE],
	    declined[BOOKING_ID_SIZE];
	const note *n;

	open_on(_i);
	fx_hold_ok(&f, "alice", "A1", confirmed);
	ck_assert_ok(fx_pay(&f, NULL, "alice", confirmed, "k1", FX_CARD_OK));
	fx_hold_ok(&f, "alice", "A2", cancelled);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, cancelled));
	fx_hold_ok(&f, "bob", "A3", expired);
	fx_advance(&f, HOLD_MS);
	ck_assert_ok(booking_expire_due(NULL, f.bk, &sys, 10));
	fx_hold_ok(&f, "carol", "A4", declined);
	ck_assert_code(fx_pay(&f, NULL, "carol", declined, "k2", FX_CARD_DECLINED), "PAYMENT_DECLINED");

	ck_assert_uint_eq(notify_all(in), 4);
	ck_assert_uint_eq(in->n, 4);
	n = note_for(in, BOOKING_NOTIFY_RESERVATION_CONFIRMED, confirmed);
	ck_assert_str_eq(n->user_id, "alice");
	ck_assert(n->has_subject && n->has_body);
	ck_assert_uint_eq(strlen(n->event_id), 36);
	n = note_for(in, BOOKING_NOTIFY_RESERVATION_CANCELLED, cancelled);
	ck_assert_str_eq(n->user_id, "alice");
	n = note_for(in, BOOKING_NOTIFY_RESERVATION_EXPIRED, expired);
	ck_assert_str_eq(n->user_id, "bob");
	n = note_for(in, BOOKING_NOTIFY_PAYMENT_FAILED, declined);
	ck_assert_str_eq(n->user_id, "carol");
	ck_assert(n->has_subject && n->has_body);

	/* nothing twice */
	ck_assert_uint_eq(notify_all(in), 0);
	ck_assert_uint_eq(in->n, 4);
	fx_close(&f);
	free(in);
}
END_TEST

START_TEST(refund_is_notified)
{
	inbox *in = calloc(1, sizeof(*in));
	booking_ctx admin = fx_admin();
	booking_payment *p = NULL;
	char b[BOOKING_ID_SIZE];

	open_on(_i);
	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, &p, "alice", b, "k1", FX_CARD_OK));
	ck_assert_ok(booking_payment_refund(NULL, f.bk, &admin, p->id));
	notify_all(in);
	ck_assert_str_eq(note_for(in, BOOKING_NOTIFY_RESERVATION_CONFIRMED, b)->user_id, "alice");
	ck_assert_str_eq(note_for(in, BOOKING_NOTIFY_PAYMENT_REFUNDED, b)->user_id, "alice");
	booking_payment_free(p);
	fx_close(&f);
	free(in);
}
END_TEST

START_TEST(a_failing_sink_is_retried_and_delivers_once)
{
	inbox *in = calloc(1, sizeof(*in));
	char b[BOOKING_ID_SIZE];

	open_on(_i);
	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_OK));
	in->fail_first = 2;
	notify_all(in);
	ck_assert_uint_eq(in->n, 1);
	ck_assert_uint_eq(in->calls, 3);
	note_for(in, BOOKING_NOTIFY_RESERVATION_CONFIRMED, b);
	fx_close(&f);
	free(in);
}
END_TEST

START_TEST(holds_alone_notify_nobody)
{
	inbox *in = calloc(1, sizeof(*in));
	size_t sent = 99;

	open_on(_i);
	fx_hold_ok(&f, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	fx_hold_ok(&f, "alice", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 100));
	ck_assert_ok(booking_notify(&sent, f.bk, sink, in));
	ck_assert_uint_eq(sent, 0);
	ck_assert_uint_eq(in->calls, 0);
	fx_close(&f);
	free(in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_set_timeout(tc, 20);
	tcase_add_loop_test(tc, each_outcome_is_notified_once_to_its_user, 0, 2);
	tcase_add_loop_test(tc, refund_is_notified, 0, 2);
	tcase_add_loop_test(tc, a_failing_sink_is_retried_and_delivers_once, 0, 2);
	tcase_add_loop_test(tc, holds_alone_notify_nobody, 0, 2);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
