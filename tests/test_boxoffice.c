/*
 * Unit tests of the box office (include/booking/boxoffice.h): best
 * available, the orphan policy, idempotent holds, extending and changing a
 * hold, blocked seats and their sale, the door list. They run on every
 * store the unit flows run on (memory, SQLite; PostgreSQL by its suite).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <stdlib.h>

#define HOLD_MS (15 * FX_MINUTE)

static fx f;
static char hall[BOOKING_ID_SIZE]; /* a showtime of a second screen, made by make_hall() */

static void setup(void)
{
	fx_setup(&f);
}

static void setup_refuse(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.orphan_policy = BOOKING_ORPHANS_REFUSE;
	fx_open(&f, &o);
	fx_seed(&f);
}

static void setup_avoid(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.orphan_policy = BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE;
	fx_open(&f, &o);
	fx_seed(&f);
}

static void setup_front(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.best_row_depth_percent = -1; /* the front row */
	fx_open(&f, &o);
	fx_seed(&f);
}

static void teardown(void)
{
	fx_close(&f);
}

static void make_hall(const char *layout)
{
	fx_add_hall(&f, layout, hall);
}

static int best(booking_reservation **out, const char *user, const char *showtime, size_t n, const char *category,
                const char *key)
{
	booking_ctx c = fx_customer(user);
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = showtime;
	q.best = n;
	q.category = category;
	q.idempotency_key = key;
	return booking_hold_with(out, f.bk, &c, &q, sizeof q);
}

static int named(booking_reservation **out, const char *user, const char *showtime, const char *csv, const char *key)
{
	char labels[16][BOOKING_LABEL_SIZE];
	const char *ptrs[16];
	size_t n = fx_split(csv, labels, ptrs, 16);
	booking_ctx c = fx_customer(user);
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = showtime;
	q.seats = ptrs;
	q.seat_count = n;
	q.idempotency_key = key;
	return booking_hold_with(out, f.bk, &c, &q, sizeof q);
}

/* The labels of a reservation as "A1,A2". */
static const char *labels_of(const booking_reservation *r)
{
	static char buf[256];
	buf[0] = '\0';
	for (size_t i = 0; i < r->seat_count; i++) {
		strcat(buf, i ? "," : "");
		strcat(buf, r->seats[i]->label);
	}
	return buf;
}

static booking_seat_state *seat_of(booking_seat_map *m, const char *label)
{
	for (size_t i = 0; i < m->count; i++)
		if (strcmp(m->seats[i]->label, label) == 0)
			return m->seats[i];
	ck_abort_msg("no seat %s", label);
	return NULL;
}

static void assert_side_by_side(const booking_reservation *r)
{
	for (size_t i = 1; i < r->seat_count; i++) {
		ck_assert_str_eq(r->seats[i]->row, r->seats[0]->row);
		ck_assert_int_eq(r->seats[i]->number, r->seats[i - 1]->number + 1);
	}
}

static void assert_clean(void)
{
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}

/* --- best available ------------------------------------------------------ */

START_TEST(best_takes_the_middle_of_the_preferred_row)
{
	booking_reservation *r = NULL;
	make_hall("A-E:10");
	ck_assert_ok(best(&r, "alice", hall, 2, NULL, NULL));
	ck_assert_uint_eq(r->seat_count, 2);
	assert_side_by_side(r);
	/* 60 % of the way from A (nearest the screen) to E: row C or D, the middle of it */
	ck_assert_msg(strcmp(r->seats[0]->row, "C") == 0 || strcmp(r->seats[0]->row, "D") == 0, "row %s", r->seats[0]->row);
	ck_assert_int_eq(r->seats[0]->number, 5);
	ck_assert_int_eq(r->total_amount, 2 * FX_PRICE);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	booking_reservation_free(r);
	assert_clean();
}
END_TEST

START_TEST(best_with_a_front_preference_takes_the_front_row)
{
	booking_reservation *r = NULL;
	make_hall("A-E:10");
	ck_assert_ok(best(&r, "alice", hall, 3, NULL, NULL));
	ck_assert_str_eq(r->seats[0]->row, "A");
	assert_side_by_side(r);
	booking_reservation_free(r);
}
END_TEST

START_TEST(best_is_deterministic_and_fills_around_the_first)
{
	booking_reservation *a = NULL, *b = NULL;
	make_hall("A-E:10");
	ck_assert_ok(best(&a, "alice", hall, 2, NULL, NULL));
	ck_assert_ok(best(&b, "bob", hall, 2, NULL, NULL));
	char first_labels[256];
	snprintf(first_labels, sizeof first_labels, "%s", labels_of(a));
	ck_assert_str_ne(first_labels, labels_of(b));
	assert_side_by_side(b);
	booking_reservation_free(a);
	booking_reservation_free(b);
	/* the same map gives the same answer: a second hall, the same calls */
	char first[BOOKING_ID_SIZE];
	snprintf(first, sizeof first, "%s", hall);
	make_hall("A-E:10");
	ck_assert_ok(best(&a, "carol", first, 1, NULL, NULL));
	ck_assert_ok(best(&b, "carol", hall, 2, NULL, NULL));
	booking_reservation *c = NULL;
	ck_assert_ok(best(&c, "dave", hall, 2, NULL, NULL));
	booking_reservation_free(a);
	booking_reservation_free(b);
	booking_reservation_free(c);
	assert_clean();
}
END_TEST

START_TEST(best_never_crosses_an_aisle)
{
	booking_reservation *r = NULL;
	make_hall("A:3+3");
	ck_assert_ok(best(&r, "alice", hall, 3, NULL, NULL));
	assert_side_by_side(r);
	/* A1-A3 or A4-A6: never A2-A4 or A3-A5, which straddle the aisle */
	ck_assert_msg(r->seats[0]->number == 1 || r->seats[0]->number == 4, "took %s", labels_of(r));
	booking_reservation_free(r);
	booking_seat_map *m = NULL;
	booking_ctx anyone = fx_customer("zed");
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anyone, hall));
	ck_assert_int_eq(seat_of(m, "A3")->column, 3);
	ck_assert_int_eq(seat_of(m, "A4")->column, 5); /* the aisle is a place of its own */
	booking_seat_map_free(m);
}
END_TEST

START_TEST(best_splits_then_scatters_then_answers_not_enough_seats)
{
	booking_reservation *r = NULL;
	make_hall("A-B:3");
	/* leave A1, A3, B1, B3 */
	ck_assert_ok(named(&r, "x", hall, "A2", NULL));
	booking_reservation_free(r);
	ck_assert_ok(named(&r, "x", hall, "B2", NULL));
	booking_reservation_free(r);
	ck_assert_ok(best(&r, "alice", hall, 3, NULL, NULL)); /* no 2 side by side anywhere: scattered */
	ck_assert_uint_eq(r->seat_count, 3);
	booking_reservation_free(r);
	ck_assert_code(best(&r, "bob", hall, 2, NULL, NULL), "NOT_ENOUGH_SEATS");
	ck_assert_ptr_null(r);
	json_error_t jerr;
	json_t *d = json_loads(booking_error_last()->details_json, 0, &jerr);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "requested")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(d, "available")), 1);
	json_decref(d);
	assert_clean();
}
END_TEST

START_TEST(best_honours_the_category)
{
	booking_reservation *r = NULL;
	make_hall("A-C:6,D:6:premium");
	ck_assert_ok(best(&r, "alice", hall, 2, "premium", NULL));
	ck_assert_str_eq(r->seats[0]->row, "D");
	ck_assert_int_eq(r->total_amount, 4 * FX_PRICE);
	booking_reservation_free(r);
	ck_assert_code(best(&r, "alice", hall, 5, "premium", NULL), "NOT_ENOUGH_SEATS");
	ck_assert_code(best(&r, "alice", hall, 2, "Bad Category", NULL), "VALIDATION_ERROR");
}
END_TEST

START_TEST(best_refuses_bad_requests)
{
	booking_reservation *r = NULL;
	booking_ctx alice = fx_customer("alice");
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	const char *seat[] = {"A1"};
	q.showtime_id = f.showtime_id;
	ck_assert_code(booking_hold_with(&r, f.bk, &alice, &q, sizeof q), "VALIDATION_ERROR"); /* nothing asked */
	q.best = 11;
	ck_assert_code(booking_hold_with(&r, f.bk, &alice, &q, sizeof q), "VALIDATION_ERROR"); /* above the maximum */
	q.best = 2;
	q.seats = seat;
	q.seat_count = 1;
	ck_assert_code(booking_hold_with(&r, f.bk, &alice, &q, sizeof q), "VALIDATION_ERROR"); /* both */
	q.seats = NULL;
	q.seat_count = 0;
	ck_assert_code(booking_hold_with(&r, f.bk, &alice, &q, 8), "VALIDATION_ERROR"); /* a record size too small */
	q.for_user_id = "bob";
	ck_assert_code(booking_hold_with(&r, f.bk, &alice, &q, sizeof q), "FORBIDDEN"); /* customers hold for themselves */
	ck_assert_ptr_null(r);
}
END_TEST

/* --- orphans ---------------------------------------------------------------- */

START_TEST(refuse_policy_names_the_stranded_seat)
{
	booking_reservation *r = NULL;
	ck_assert_code(fx_hold(&f, &r, "alice", "A2,A3"), "ORPHAN_SEAT"); /* A1 would be alone at the row's end */
	json_error_t jerr;
	json_t *d = json_loads(booking_error_last()->details_json, 0, &jerr);
	ck_assert_str_eq(json_string_value(json_object_get(d, "seat")), "A1");
	json_decref(d);
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_FREE); /* nothing held */
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1,A2"));
	booking_reservation_free(r);
	ck_assert_code(fx_hold(&f, &r, "bob", "A4,A5"), "ORPHAN_SEAT"); /* A3 between A2 and A4 */
	ck_assert_ok(fx_hold(&f, &r, "bob", "A3,A4"));
	booking_reservation_free(r);
	/* best available never strands a seat under this policy */
	ck_assert_ok(best(&r, "carol", f.showtime_id, 3, NULL, NULL));
	booking_reservation_free(r);
	booking_seat_map *m = NULL;
	booking_ctx anyone = fx_customer("zed");
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anyone, f.showtime_id));
	for (size_t i = 0; i < m->count; i++) {
		if (m->seats[i]->status != BOOKING_SEAT_FREE)
			continue;
		bool left = i > 0 && strcmp(m->seats[i - 1]->row, m->seats[i]->row) == 0 &&
		            m->seats[i - 1]->status == BOOKING_SEAT_FREE;
		bool right = i + 1 < m->count && strcmp(m->seats[i + 1]->row, m->seats[i]->row) == 0 &&
		             m->seats[i + 1]->status == BOOKING_SEAT_FREE;
		ck_assert_msg(left || right, "seat %s is alone", m->seats[i]->label);
	}
	booking_seat_map_free(m);
	assert_clean();
}
END_TEST

START_TEST(unless_unavoidable_lets_the_last_seats_sell)
{
	booking_reservation *r = NULL;
	make_hall("A:3");
	ck_assert_code(named(&r, "alice", hall, "A2", NULL), "ORPHAN_SEAT"); /* A1 or A3 would strand none: avoidable */
	ck_assert_ok(named(&r, "alice", hall, "A1,A2", NULL)); /* strands A3, but no pair leaves none: unavoidable */
	booking_reservation_free(r);
	ck_assert_ok(named(&r, "bob", hall, "A3", NULL)); /* the last seat sells */
	booking_reservation_free(r);
	assert_clean();
}
END_TEST

START_TEST(refuse_policy_refuses_even_when_unavoidable)
{
	booking_reservation *r = NULL;
	make_hall("A:3");
	ck_assert_code(named(&r, "alice", hall, "A1,A2", NULL), "ORPHAN_SEAT");
	ck_assert_code(best(&r, "alice", hall, 2, NULL, NULL), "NOT_ENOUGH_SEATS");
	ck_assert_ok(best(&r, "alice", hall, 3, NULL, NULL));
	booking_reservation_free(r);
}
END_TEST

/* --- idempotent holds --------------------------------------------------------- */

START_TEST(the_same_key_and_request_answer_the_same_reservation)
{
	booking_reservation *a = NULL, *b = NULL;
	ck_assert_ok(named(&a, "alice", f.showtime_id, "B4,B5", "order-1"));
	ck_assert_ok(named(&b, "alice", f.showtime_id, "B5,B4", "order-1")); /* a retry after a lost reply */
	ck_assert_str_eq(a->id, b->id);
	booking_reservation_free(b);
	ck_assert_code(named(&b, "alice", f.showtime_id, "B6", "order-1"), "IDEMPOTENCY_KEY_REUSED");
	ck_assert_ptr_null(b);
	/* keys are per user: bob's order-1 is his own (and B4 is taken) */
	ck_assert_code(named(&b, "bob", f.showtime_id, "B4", "order-1"), "SEAT_ALREADY_BOOKED");
	/* a key used for a hold cannot start a payment, and the other way round */
	booking_payment *p = NULL;
	ck_assert_code(fx_pay(&f, &p, "alice", a->id, "order-1", FX_CARD_OK), "IDEMPOTENCY_KEY_REUSED");
	ck_assert_ok(fx_pay(&f, &p, "alice", a->id, "pay-1", FX_CARD_OK));
	booking_payment_free(p);
	ck_assert_code(named(&b, "alice", f.showtime_id, "C1", "pay-1"), "IDEMPOTENCY_KEY_REUSED");
	/* the replay answers the reservation as it is now */
	ck_assert_ok(named(&b, "alice", f.showtime_id, "B4,B5", "order-1"));
	ck_assert_int_eq(b->status, BOOKING_RESERVATION_CONFIRMED);
	booking_reservation_free(a);
	booking_reservation_free(b);
	assert_clean();
}
END_TEST

START_TEST(a_best_hold_with_a_key_is_not_held_twice)
{
	booking_reservation *a = NULL, *b = NULL;
	ck_assert_ok(best(&a, "alice", f.showtime_id, 4, NULL, "k"));
	ck_assert_ok(best(&b, "alice", f.showtime_id, 4, NULL, "k"));
	ck_assert_str_eq(a->id, b->id);
	char first_labels[256];
	snprintf(first_labels, sizeof first_labels, "%s", labels_of(a));
	ck_assert_str_eq(first_labels, labels_of(b));
	booking_seat_map *m = NULL;
	booking_ctx anyone = fx_customer("zed");
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anyone, f.showtime_id));
	ck_assert_uint_eq(m->held_count, 4);
	booking_seat_map_free(m);
	booking_reservation_free(b);
	ck_assert_code(best(&b, "alice", f.showtime_id, 3, NULL, "k"), "IDEMPOTENCY_KEY_REUSED");
	booking_reservation_free(a);
}
END_TEST

/* --- extend ------------------------------------------------------------------ */

START_TEST(extend_moves_the_expiry_up_to_the_cap)
{
	booking_reservation *r = NULL, *e = NULL;
	booking_ctx alice = fx_customer("alice"), bob = fx_customer("bob");
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	ck_assert_ok(booking_reservation_extend(&e, f.bk, &alice, r->id, 5));
	ck_assert_int_eq(e->expires_at, r->expires_at + 5 * FX_MINUTE);
	ck_assert_int_eq(e->version, 2);
	booking_reservation_free(e);
	ck_assert_code(booking_reservation_extend(&e, f.bk, &bob, r->id, 5), "FORBIDDEN");
	ck_assert_code(booking_reservation_extend(&e, f.bk, &alice, r->id, 16), "VALIDATION_ERROR");
	ck_assert_ok(booking_reservation_extend(&e, f.bk, &alice, r->id, 15)); /* to the cap: 2 x 15 min */
	ck_assert_int_eq(e->expires_at, r->created_at + 2 * HOLD_MS);
	booking_reservation_free(e);
	ck_assert_code(booking_reservation_extend(&e, f.bk, &alice, r->id, 1), "HOLD_LIMIT_REACHED");
	/* the seat is held as long */
	fx_advance(&f, HOLD_MS + FX_MINUTE);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_HELD);
	fx_advance(&f, HOLD_MS);
	ck_assert_code(booking_reservation_extend(&e, f.bk, &alice, r->id, 1), "RESERVATION_EXPIRED");
	booking_reservation_free(r);
	assert_clean();
}
END_TEST

typedef struct seen_event {
	const char *type, *aggregate_id;
	int count;
} seen_event;

static int on_event(const booking_event_record *e, void *payload)
{
	seen_event *s = payload;
	s->count += strcmp(e->type, s->type) == 0 && strcmp(e->aggregate_id, s->aggregate_id) == 0;
	return 0;
}

static int events_of(const char *type, const char *aggregate_id)
{
	seen_event s = {type, aggregate_id, 0};
	ck_assert_ok(f.store->outbox->outbox_read(f.store, 0, 10000, on_event, &s));
	return s.count;
}

START_TEST(extend_change_and_blocks_emit_their_events)
{
	booking_reservation *r = NULL;
	booking_ctx alice = fx_customer("alice"), admin = fx_admin();
	const char *add[] = {"A2"}, *b3[] = {"B3"};
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	ck_assert_ok(booking_reservation_extend(NULL, f.bk, &alice, r->id, 0));
	ck_assert_int_eq(events_of("reservation.extended", r->id), 1);
	ck_assert_ok(booking_reservation_change(NULL, f.bk, &alice, r->id, add, 1, NULL, 0));
	ck_assert_int_eq(events_of("reservation.changed", r->id), 1);
	ck_assert_ok(booking_seats_block(f.bk, &admin, f.showtime_id, b3, 1, "press"));
	ck_assert_int_eq(events_of("seats.blocked", f.showtime_id), 1);
	ck_assert_ok(booking_seats_unblock(f.bk, &admin, f.showtime_id, b3, 1));
	ck_assert_int_eq(events_of("seats.unblocked", f.showtime_id), 1);
	booking_reservation_free(r);
	assert_clean();
}
END_TEST

/* --- change -------------------------------------------------------------------- */

START_TEST(change_adds_removes_and_swaps_atomically)
{
	booking_reservation *r = NULL, *c = NULL, *other = NULL;
	booking_ctx alice = fx_customer("alice");
	const char *add1[] = {"A3"}, *rem1[] = {"A1"}, *add2[] = {"A4", "A5"}, *taken[] = {"B1"};
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1,A2"));
	ck_assert_ok(booking_reservation_change(&c, f.bk, &alice, r->id, add1, 1, NULL, 0));
	ck_assert_str_eq(labels_of(c), "A1,A2,A3");
	ck_assert_int_eq(c->total_amount, 3 * FX_PRICE);
	booking_reservation_free(c);
	ck_assert_ok(booking_reservation_change(&c, f.bk, &alice, r->id, NULL, 0, rem1, 1));
	ck_assert_str_eq(labels_of(c), "A2,A3");
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	booking_reservation_free(c);
	ck_assert_ok(fx_hold(&f, &other, "bob", "B1"));
	/* a swap whose new seat is taken changes nothing */
	const char *rem2[] = {"A2"};
	ck_assert_code(booking_reservation_change(&c, f.bk, &alice, r->id, taken, 1, rem2, 1), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_HELD);
	ck_assert_ok(booking_reservation_change(&c, f.bk, &alice, r->id, add2, 2, rem2, 1));
	ck_assert_str_eq(labels_of(c), "A3,A4,A5");
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(fx_seat_status(&f, "A5"), BOOKING_SEAT_HELD);
	booking_reservation_free(c);
	/* bad changes */
	ck_assert_code(booking_reservation_change(&c, f.bk, &alice, r->id, NULL, 0, NULL, 0), "VALIDATION_ERROR");
	ck_assert_code(booking_reservation_change(&c, f.bk, &alice, r->id, rem1, 1, rem1, 1), "VALIDATION_ERROR");
	ck_assert_code(booking_reservation_change(&c, f.bk, &alice, r->id, NULL, 0, rem1, 1), "VALIDATION_ERROR");
	const char *all[] = {"A3", "A4", "A5"};
	ck_assert_code(booking_reservation_change(&c, f.bk, &alice, r->id, NULL, 0, all, 3), "VALIDATION_ERROR");
	/* the changed hold pays as a whole */
	booking_payment *p = NULL;
	ck_assert_ok(fx_pay(&f, &p, "alice", r->id, "pay", FX_CARD_OK));
	ck_assert_int_eq(p->amount, 3 * FX_PRICE);
	booking_payment_free(p);
	ck_assert_code(booking_reservation_change(&c, f.bk, &alice, r->id, add1, 1, NULL, 0), "INVALID_STATE");
	booking_reservation_free(r);
	booking_reservation_free(other);
	assert_clean();
}
END_TEST

/* --- blocked seats --------------------------------------------------------- */

START_TEST(blocked_seats_are_neither_held_nor_sold_until_an_admin_sells_one)
{
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	const char *wheelchair[] = {"C5", "C6"}, *one[] = {"C5"};
	booking_reservation *r = NULL;
	ck_assert_code(booking_seats_block(f.bk, &alice, f.showtime_id, wheelchair, 2, "wheelchair"), "FORBIDDEN");
	ck_assert_code(booking_seats_block(f.bk, &admin, f.showtime_id, wheelchair, 2, "Wheel Chair"), "VALIDATION_ERROR");
	ck_assert_ok(booking_seats_block(f.bk, &admin, f.showtime_id, wheelchair, 2, "wheelchair"));
	booking_seat_map *m = NULL;
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &alice, f.showtime_id));
	ck_assert_int_eq(seat_of(m, "C5")->status, BOOKING_SEAT_BLOCKED);
	ck_assert_str_eq(seat_of(m, "C5")->reason, "wheelchair");
	ck_assert_uint_eq(m->blocked_count, 2);
	ck_assert_uint_eq(m->free_count, FX_SEATS - 2);
	booking_seat_map_free(m);
	ck_assert_code(fx_hold(&f, &r, "alice", "C5"), "SEAT_ALREADY_BOOKED");
	ck_assert_code(booking_seats_block(f.bk, &admin, f.showtime_id, one, 1, "press"), "SEAT_ALREADY_BOOKED");
	/* an admin sells a blocked seat to a named user on purpose */
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = f.showtime_id;
	q.seats = one;
	q.seat_count = 1;
	q.for_user_id = "alice";
	ck_assert_ok(booking_hold_with(&r, f.bk, &admin, &q, sizeof q));
	ck_assert_str_eq(r->user_id, "alice");
	ck_assert_int_eq(fx_seat_status(&f, "C5"), BOOKING_SEAT_HELD);
	booking_payment *p = NULL;
	ck_assert_ok(fx_pay(&f, &p, "alice", r->id, "wc", FX_CARD_OK));
	booking_payment_free(p);
	ck_assert_int_eq(fx_seat_status(&f, "C5"), BOOKING_SEAT_SOLD);
	booking_reservation_free(r);
	/* unblock: only a blocked seat */
	ck_assert_code(booking_seats_unblock(f.bk, &admin, f.showtime_id, wheelchair, 2), "INVALID_STATE");
	const char *c6[] = {"C6"};
	ck_assert_ok(booking_seats_unblock(f.bk, &admin, f.showtime_id, c6, 1));
	ck_assert_int_eq(fx_seat_status(&f, "C6"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&f, &r, "bob", "C6"));
	booking_reservation_free(r);
	assert_clean();
}
END_TEST

START_TEST(best_available_skips_blocked_seats)
{
	booking_ctx admin = fx_admin();
	booking_reservation *r = NULL;
	make_hall("A:4");
	const char *mid[] = {"A2", "A3"};
	ck_assert_ok(booking_seats_block(f.bk, &admin, hall, mid, 2, "broken"));
	ck_assert_code(best(&r, "alice", hall, 2, NULL, NULL), "OK");
	ck_assert_str_eq(labels_of(r), "A1,A4"); /* scattered: the block stays out of sale */
	booking_reservation_free(r);
}
END_TEST

/* --- the door list -------------------------------------------------------------- */

START_TEST(the_door_list_pages_a_showtimes_reservations)
{
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	char ids[5][BOOKING_ID_SIZE];
	const char *seats[] = {"A1", "A2", "A3", "A4", "A5"};
	for (int i = 0; i < 5; i++) {
		fx_advance(&f, FX_SECOND);
		fx_hold_ok(&f, i % 2 ? "bob" : "alice", seats[i], ids[i]);
	}
	char other[BOOKING_ID_SIZE], elsewhere[BOOKING_ID_SIZE];
	fx_add_showtime(&f, 2 * FX_DAY, other);
	booking_reservation *r = NULL;
	ck_assert_ok(named(&r, "carol", other, "A1", NULL));
	snprintf(elsewhere, sizeof elsewhere, "%s", r->id);
	booking_reservation_free(r);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, ids[0]));

	booking_reservation_list *l = NULL;
	ck_assert_code(booking_reservation_list_for_showtime(&l, f.bk, &alice, f.showtime_id, 0, 0, NULL), "FORBIDDEN");
	ck_assert_ok(booking_reservation_list_for_showtime(&l, f.bk, &admin, f.showtime_id, 0, 2, NULL));
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0]->id, ids[4]); /* newest first */
	ck_assert_str_eq(l->items[1]->id, ids[3]);
	ck_assert_ptr_nonnull(l->next_cursor);
	char cursor[BOOKING_CURSOR_SIZE];
	snprintf(cursor, sizeof cursor, "%s", l->next_cursor);
	booking_reservation_list_free(l);
	ck_assert_ok(booking_reservation_list_for_showtime(&l, f.bk, &admin, f.showtime_id, 0, 10, cursor));
	ck_assert_uint_eq(l->count, 3);
	ck_assert_str_eq(l->items[2]->id, ids[0]);
	ck_assert_ptr_null(l->next_cursor);
	booking_reservation_list_free(l);
	ck_assert_ok(booking_reservation_list_for_showtime(&l, f.bk, &admin, f.showtime_id, BOOKING_RESERVATION_CANCELLED, 0,
	                                                   NULL));
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0]->id, ids[0]);
	booking_reservation_list_free(l);
	ck_assert_ok(booking_reservation_list_for_showtime(&l, f.bk, &admin, other, BOOKING_RESERVATION_PENDING, 0, NULL));
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0]->id, elsewhere);
	booking_reservation_list_free(l);
	ck_assert_code(booking_reservation_list_for_showtime(&l, f.bk, &admin, f.showtime_id, 9, 0, NULL), "VALIDATION_ERROR");
	ck_assert_code(booking_reservation_list_for_showtime(&l, f.bk, &admin, "01900000-0000-7000-8000-000000000000", 0, 0,
	                                                   NULL),
	               "SHOWTIME_NOT_FOUND");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("boxoffice");
	TCase *tc = tcase_create("default");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, best_takes_the_middle_of_the_preferred_row);
	tcase_add_test(tc, best_is_deterministic_and_fills_around_the_first);
	tcase_add_test(tc, best_never_crosses_an_aisle);
	tcase_add_test(tc, best_splits_then_scatters_then_answers_not_enough_seats);
	tcase_add_test(tc, best_honours_the_category);
	tcase_add_test(tc, best_refuses_bad_requests);
	tcase_add_test(tc, the_same_key_and_request_answer_the_same_reservation);
	tcase_add_test(tc, a_best_hold_with_a_key_is_not_held_twice);
	tcase_add_test(tc, extend_moves_the_expiry_up_to_the_cap);
	tcase_add_test(tc, extend_change_and_blocks_emit_their_events);
	tcase_add_test(tc, change_adds_removes_and_swaps_atomically);
	tcase_add_test(tc, blocked_seats_are_neither_held_nor_sold_until_an_admin_sells_one);
	tcase_add_test(tc, best_available_skips_blocked_seats);
	tcase_add_test(tc, the_door_list_pages_a_showtimes_reservations);
	suite_add_tcase(s, tc);

	TCase *front = tcase_create("front");
	tcase_add_checked_fixture(front, setup_front, teardown);
	tcase_set_timeout(front, 60);
	tcase_add_test(front, best_with_a_front_preference_takes_the_front_row);
	suite_add_tcase(s, front);

	TCase *refuse = tcase_create("orphans_refused");
	tcase_add_checked_fixture(refuse, setup_refuse, teardown);
	tcase_set_timeout(refuse, 60);
	tcase_add_test(refuse, refuse_policy_names_the_stranded_seat);
	tcase_add_test(refuse, refuse_policy_refuses_even_when_unavoidable);
	suite_add_tcase(s, refuse);

	TCase *avoid = tcase_create("orphans_unless_unavoidable");
	tcase_add_checked_fixture(avoid, setup_avoid, teardown);
	tcase_set_timeout(avoid, 60);
	tcase_add_test(avoid, unless_unavoidable_lets_the_last_seats_sell);
	suite_add_tcase(s, avoid);
	return s;
}

int main(void)
{
	return fx_run(suite());
}
