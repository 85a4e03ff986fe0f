/*
 * Unit tests: booking_check() finds nothing on a healthy store and reports
 * planted violations by their invariant number.
 *
 * Violations are planted through the fixture's decorator store: every member
 * forwards to the real store under test, and its scan() alters what it
 * reports (a second live reservation on a held seat, a CONFIRMED reservation without
 * payment, a state change without its event, ...), the way a buggy backend
 * would.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdlib.h>

typedef enum plant {
	PLANT_NOTHING,
	PLANT_SECOND_LIVE_BOOKING_ON_A_HELD_SEAT,
	PLANT_CONFIRMED_WITHOUT_PAYMENT,
	PLANT_SECOND_PAYMENT_FOR_AN_IDEMPOTENCY_KEY,
	PLANT_STATE_CHANGE_WITHOUT_EVENT,
	PLANT_EVENT_WITHOUT_STATE_CHANGE,
	PLANT_INBOX_APPLIED_TWICE,
	PLANT_MONEY_NOT_ADDING_UP,
} plant;

typedef struct tamper {
	plant plant;
	char target[BOOKING_ID_SIZE]; /* the reservation (or payment) to tamper with */
	char fake[BOOKING_ID_SIZE];   /* id of a planted record */
} tamper;

/* --- the tampering scan ------------------------------------------------ */

typedef struct scan_ctx {
	tamper *ts;
	const booking_store_scan_cbs *cbs;
	void *payload;
	/* what the real scan showed, for planting */
	booking_reservation target;
	booking_seat_ref target_seats[16];
	booking_seat_ref *target_ptrs[16]; /* target.seats: a pointer each */
	bool have_target;
	booking_store_idempotency idem;
	char idem_user[BOOKING_USER_ID_SIZE], idem_key[256], idem_payment[BOOKING_ID_SIZE];
	bool have_idem;
	booking_payment payment;
	bool have_payment;
	booking_store_inbox inbox;
	char inbox_group[64], inbox_event[BOOKING_ID_SIZE];
	bool have_inbox;
} scan_ctx;

static int s_seat(const char *showtime_id, const booking_store_seat *seat, void *p)
{
	scan_ctx *c = p;
	return c->cbs->showtime_seat(showtime_id, seat, c->payload);
}

static int s_booking(const booking_reservation *b, void *p)
{
	scan_ctx *c = p;
	booking_reservation copy;

	if (strcmp(b->id, c->ts->target) == 0) {
		c->target = *b;
		c->target.seat_count = b->seat_count < 16 ? b->seat_count : 16;
		for (size_t i = 0; i < c->target.seat_count; i++) {
			c->target_seats[i] = *b->seats[i];
			c->target_ptrs[i] = &c->target_seats[i];
		}
		c->target.seats = c->target_ptrs;
		c->have_target = true;
		if (c->ts->plant == PLANT_CONFIRMED_WITHOUT_PAYMENT) {
			copy = *b;
			copy.status = BOOKING_RESERVATION_CONFIRMED;
			copy.saga = BOOKING_SAGA_CONFIRMED;
			return c->cbs->reservation(&copy, c->payload);
		}
	}
	return c->cbs->reservation(b, c->payload);
}

static int s_payment(const booking_payment *pay, void *p)
{
	scan_ctx *c = p;

	if (!c->have_payment && strcmp(pay->reservation_id, c->ts->target) == 0) {
		c->payment = *pay;
		c->have_payment = true;
	}
	if (c->ts->plant == PLANT_MONEY_NOT_ADDING_UP && strcmp(pay->reservation_id, c->ts->target) == 0) {
		booking_payment copy = *pay;
		copy.amount += 500; /* charged more than the reservation's total */
		return c->cbs->payment(&copy, c->payload);
	}
	return c->cbs->payment(pay, c->payload);
}

static int s_idempotency(const booking_store_idempotency *rec, void *p)
{
	scan_ctx *c = p;

	if (!c->have_idem) {
		snprintf(c->idem_user, sizeof(c->idem_user), "%s", rec->user_id);
		snprintf(c->idem_key, sizeof(c->idem_key), "%s", rec->key);
		snprintf(c->idem_payment, sizeof(c->idem_payment), "%s", rec->payment_id ? rec->payment_id : "");
		c->idem = *rec;
		c->idem.user_id = c->idem_user;
		c->idem.key = c->idem_key;
		c->idem.payment_id = c->idem_payment;
		c->have_idem = true;
	}
	return c->cbs->idempotency(rec, c->payload);
}

static int s_event(const booking_event_record *e, void *p)
{
	scan_ctx *c = p;

	if (c->ts->plant == PLANT_STATE_CHANGE_WITHOUT_EVENT && strcmp(e->aggregate_id, c->ts->target) == 0 &&
	    e->sequence == 2)
		return 0; /* the reservation's second change lost its event */
	return c->cbs->event(e, c->payload);
}

static int s_inbox(const booking_store_inbox *row, void *p)
{
	scan_ctx *c = p;

	if (!c->have_inbox) {
		snprintf(c->inbox_group, sizeof(c->inbox_group), "%s", row->group);
		snprintf(c->inbox_event, sizeof(c->inbox_event), "%s", row->event_id);
		c->inbox.group = c->inbox_group;
		c->inbox.event_id = c->inbox_event;
		c->have_inbox = true;
	}
	return c->cbs->inbox(row, c->payload);
}

static int t_scan(fx_store_wrap *w, const booking_store_scan_cbs *cbs, void *payload)
{
	tamper *ts = w->user;
	scan_ctx c;
	booking_store_scan_cbs mine;
	int rc;

	memset(&c, 0, sizeof(c));
	c.ts = ts;
	c.cbs = cbs;
	c.payload = payload;
	memset(&mine, 0, sizeof(mine));
	mine.showtime_seat = cbs->showtime_seat ? s_seat : NULL;
	mine.reservation = cbs->reservation ? s_booking : NULL;
	mine.payment = cbs->payment ? s_payment : NULL;
	mine.idempotency = cbs->idempotency ? s_idempotency : NULL;
	mine.event = cbs->event ? s_event : NULL;
	mine.inbox = cbs->inbox ? s_inbox : NULL;
	rc = w->inner->scan(w->inner, &mine, &c);
	if (rc != 0)
		return rc;

	switch (ts->plant) {
	case PLANT_SECOND_LIVE_BOOKING_ON_A_HELD_SEAT:
		/* another PENDING, unexpired reservation claiming the target's seats, with its event */
		if (c.have_target && cbs->reservation) {
			booking_reservation twin = c.target;
			booking_event_record ev;
			snprintf(twin.id, sizeof(twin.id), "%s", ts->fake);
			snprintf(twin.user_id, sizeof(twin.user_id), "mallory");
			twin.status = BOOKING_RESERVATION_PENDING;
			twin.saga = BOOKING_SAGA_SEATS_RESERVED;
			twin.version = 1;
			if ((rc = cbs->reservation(&twin, payload)) != 0)
				return rc;
			if (cbs->event) {
				memset(&ev, 0, sizeof(ev));
				booking_uuid_v7(ev.id, twin.created_at);
				ev.type = "reservation.created";
				ev.aggregate_type = "reservation";
				snprintf(ev.aggregate_id, sizeof(ev.aggregate_id), "%s", twin.id);
				ev.sequence = 1;
				ev.occurred_at = twin.created_at;
				ev.correlation_id = "planted";
				ev.traceparent = "";
				ev.data_json = "{}";
				ev.position = INT64_MAX - 1;
				if ((rc = cbs->event(&ev, payload)) != 0)
					return rc;
			}
		}
		break;
	case PLANT_SECOND_PAYMENT_FOR_AN_IDEMPOTENCY_KEY:
		/* the same (user, key) recorded again for another payment */
		if (c.have_idem && cbs->idempotency) {
			booking_store_idempotency dup = c.idem;
			dup.payment_id = ts->fake;
			if ((rc = cbs->idempotency(&dup, payload)) != 0)
				return rc;
		}
		break;
	case PLANT_EVENT_WITHOUT_STATE_CHANGE:
		/* a reservation.confirmed event for a reservation that never changed */
		if (c.have_target && cbs->event) {
			booking_event_record ev;
			memset(&ev, 0, sizeof(ev));
			booking_uuid_v7(ev.id, c.target.created_at);
			ev.type = "reservation.confirmed";
			ev.aggregate_type = "reservation";
			snprintf(ev.aggregate_id, sizeof(ev.aggregate_id), "%s", c.target.id);
			ev.sequence = c.target.version + 1;
			ev.occurred_at = c.target.created_at;
			ev.correlation_id = "planted";
			ev.traceparent = "";
			ev.data_json = "{}";
			ev.position = INT64_MAX - 1;
			if ((rc = cbs->event(&ev, payload)) != 0)
				return rc;
		}
		break;
	case PLANT_INBOX_APPLIED_TWICE:
		if (c.have_inbox && cbs->inbox && (rc = cbs->inbox(&c.inbox, payload)) != 0)
			return rc;
		break;
	default:
		break;
	}
	return 0;
}

static fx f;
static tamper the_tamper;
static tamper *ts = &the_tamper;

static void setup(void)
{
	memset(ts, 0, sizeof(*ts));
	fx_setup(&f);
	f.wrap->user = ts;
	f.wrap->scan = t_scan;
}

static void teardown(void)
{
	fx_close(&f);
}

/* A store with some of everything: a confirmed, a cancelled, a pending reservation, an applied event. */
static void busy_day(char confirmed[BOOKING_ID_SIZE], char pending[BOOKING_ID_SIZE])
{
	booking_ctx alice = fx_customer("alice");
	char cancelled[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1,A2", confirmed);
	ck_assert_ok(fx_pay(&f, NULL, "alice", confirmed, "k1", FX_CARD_OK));
	fx_hold_ok(&f, "alice", "B1", cancelled);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, cancelled));
	fx_hold_ok(&f, "bob", "C1,C2", pending);
}

static int accept_all(const booking_event *e, void *payload)
{
	(void)e;
	(void)payload;
	return 0;
}

static void consume_some(void)
{
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;

	co.group = "audit";
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 100));
	ck_assert_ok(booking_consume(NULL, f.bk, &co, accept_all, NULL));
}

static bool reported(booking_invariant inv, const char *entity)
{
	booking_check_report *r = NULL;
	bool found = false;

	ck_assert_ok(booking_check(&r, f.bk));
	for (size_t i = 0; i < r->count; i++) {
		fprintf(stderr, "  reported: invariant %d on %s: %s\n", (int)r->items[i]->invariant, r->items[i]->entity_id,
		        r->items[i]->message ? r->items[i]->message : "");
		if (r->items[i]->invariant == inv && (!entity || strcmp(r->items[i]->entity_id, entity) == 0))
			found = true;
	}
	booking_check_report_free(r);
	return found;
}

START_TEST(healthy_store_reports_no_violation)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];
	booking_check_report *r = NULL;
	char *json;

	busy_day(confirmed, pending);
	consume_some();
	ck_assert_ok(booking_check(&r, f.bk));
	ck_assert_uint_eq(r->count, 0);
	ck_assert_uint_eq(r->reservations, 3);
	ck_assert_uint_eq(r->payments, 1);
	ck_assert_uint_ge(r->seats, FX_SEATS);
	ck_assert_uint_ge(r->events, 5);
	ck_assert_ok(booking_check_report_to_json(&json, r));
	ck_assert_ptr_nonnull(json);
	ck_assert_msg(strstr(json, "\"ok\":true") || strstr(json, "\"ok\": true"), "report: %s", json);
	booking_free(json);
	booking_check_report_free(r);
}
END_TEST

START_TEST(empty_store_reports_no_violation)
{
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(second_live_booking_on_a_held_seat_violates_invariant_1)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];
	booking_check_report *r = NULL;
	char *json;

	busy_day(confirmed, pending);
	ts->plant = PLANT_SECOND_LIVE_BOOKING_ON_A_HELD_SEAT;
	snprintf(ts->target, sizeof(ts->target), "%s", pending);
	booking_uuid_v7(ts->fake, FX_T0);
	ck_assert(reported(BOOKING_INV_SEAT_SINGLE_OWNER, NULL));
	ck_assert_ok(booking_check(&r, f.bk));
	ck_assert_ok(booking_check_report_to_json(&json, r));
	ck_assert_msg(strstr(json, "\"ok\":false") || strstr(json, "\"ok\": false"), "report: %s", json);
	ck_assert_msg(strstr(json, "\"invariant\":1") || strstr(json, "\"invariant\": 1"), "report: %s", json);
	booking_free(json);
	booking_check_report_free(r);
}
END_TEST

START_TEST(second_live_booking_on_a_sold_seat_violates_invariant_1)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	/* the twin of a confirmed reservation, but PENDING: claims sold seats */
	ts->plant = PLANT_SECOND_LIVE_BOOKING_ON_A_HELD_SEAT;
	snprintf(ts->target, sizeof(ts->target), "%s", confirmed);
	booking_uuid_v7(ts->fake, FX_T0);
	ck_assert(reported(BOOKING_INV_SEAT_SINGLE_OWNER, NULL));
}
END_TEST

START_TEST(confirmed_booking_without_payment_violates_invariant_2)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	ts->plant = PLANT_CONFIRMED_WITHOUT_PAYMENT;
	snprintf(ts->target, sizeof(ts->target), "%s", pending);
	ck_assert(reported(BOOKING_INV_CONFIRMED_PAID, pending));
}
END_TEST

START_TEST(two_payments_for_one_idempotency_key_violate_invariant_3)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	ts->plant = PLANT_SECOND_PAYMENT_FOR_AN_IDEMPOTENCY_KEY;
	booking_uuid_v7(ts->fake, FX_T0);
	ck_assert(reported(BOOKING_INV_IDEMPOTENCY, NULL));
}
END_TEST

START_TEST(state_change_without_its_event_violates_invariant_4)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	ts->plant = PLANT_STATE_CHANGE_WITHOUT_EVENT;
	snprintf(ts->target, sizeof(ts->target), "%s", confirmed);
	ck_assert(reported(BOOKING_INV_OUTBOX, confirmed));
}
END_TEST

START_TEST(event_without_its_state_change_violates_invariant_4)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	ts->plant = PLANT_EVENT_WITHOUT_STATE_CHANGE;
	snprintf(ts->target, sizeof(ts->target), "%s", pending);
	ck_assert(reported(BOOKING_INV_OUTBOX, NULL));
}
END_TEST

START_TEST(event_applied_twice_by_a_group_violates_invariant_5)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	consume_some();
	ts->plant = PLANT_INBOX_APPLIED_TWICE;
	ck_assert(reported(BOOKING_INV_INBOX, NULL));
}
END_TEST

START_TEST(payments_not_adding_up_violate_invariant_6)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	ts->plant = PLANT_MONEY_NOT_ADDING_UP;
	snprintf(ts->target, sizeof(ts->target), "%s", confirmed);
	ck_assert(reported(BOOKING_INV_MONEY, NULL));
}
END_TEST

START_TEST(check_of_an_unplanted_decorated_store_still_reports_nothing)
{
	char confirmed[BOOKING_ID_SIZE], pending[BOOKING_ID_SIZE];

	busy_day(confirmed, pending);
	consume_some();
	snprintf(ts->target, sizeof(ts->target), "%s", pending);
	ts->plant = PLANT_NOTHING;
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("check");
	TCase *tc = tcase_create("check");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, healthy_store_reports_no_violation);
	tcase_add_test(tc, empty_store_reports_no_violation);
	tcase_add_test(tc, second_live_booking_on_a_held_seat_violates_invariant_1);
	tcase_add_test(tc, second_live_booking_on_a_sold_seat_violates_invariant_1);
	tcase_add_test(tc, confirmed_booking_without_payment_violates_invariant_2);
	tcase_add_test(tc, two_payments_for_one_idempotency_key_violate_invariant_3);
	tcase_add_test(tc, state_change_without_its_event_violates_invariant_4);
	tcase_add_test(tc, event_without_its_state_change_violates_invariant_4);
	tcase_add_test(tc, event_applied_twice_by_a_group_violates_invariant_5);
	tcase_add_test(tc, payments_not_adding_up_violate_invariant_6);
	tcase_add_test(tc, check_of_an_unplanted_decorated_store_still_reports_nothing);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
