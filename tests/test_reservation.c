/*
 * Unit tests: holding seats, reading, listing, cancelling and expiring reservations.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define UNKNOWN_ID "01900000-0000-7000-8000-000000000000"
#define HOLD_MS (15 * FX_MINUTE) /* default hold_expiry_minutes */

static fx f;

static void setup(void)
{
	fx_setup(&f);
}

static void teardown(void)
{
	fx_close(&f);
}

static booking_reservation_status status_of(const char *id)
{
	booking_reservation *r = fx_booking(&f, id);
	booking_reservation_status s = r->status;

	booking_reservation_free(r);
	return s;
}

/* --- hold -------------------------------------------------------------- */

START_TEST(hold_of_free_seats_creates_a_pending_booking)
{
	booking_reservation *r = NULL, *g = NULL;
	booking_ctx alice = fx_customer("alice");

	fx_advance(&f, 5 * FX_SECOND);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A3,A1,A2"));
	ck_assert_uint_eq(strlen(r->id), 36);
	ck_assert_str_eq(r->user_id, "alice");
	ck_assert_str_eq(r->showtime_id, f.showtime_id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_SEATS_RESERVED);
	ck_assert_uint_eq(r->seat_count, 3);
	ck_assert_str_eq(r->seats[0]->label, "A1");
	ck_assert_str_eq(r->seats[1]->label, "A2");
	ck_assert_str_eq(r->seats[2]->label, "A3");
	ck_assert_int_eq(r->total_amount, 3 * FX_PRICE);
	ck_assert_str_eq(r->currency, "EUR");
	ck_assert_int_eq(r->created_at, FX_T0 + 5 * FX_SECOND);
	ck_assert_int_eq(r->expires_at, FX_T0 + 5 * FX_SECOND + HOLD_MS);
	ck_assert_int_eq(r->version, 1);

	ck_assert_ok(booking_reservation_get(&g, f.bk, &alice, r->id));
	ck_assert_str_eq(g->id, r->id);
	ck_assert_int_eq(g->status, BOOKING_RESERVATION_PENDING);
	ck_assert_uint_eq(g->seat_count, 3);
	ck_assert_str_eq(g->seats[2]->label, "A3");
	ck_assert_int_eq(g->expires_at, r->expires_at);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_HELD);
	ck_assert_int_eq(fx_seat_status(&f, "A3"), BOOKING_SEAT_HELD);
	ck_assert_int_eq(fx_seat_status(&f, "A4"), BOOKING_SEAT_FREE);
	booking_reservation_free(r);
	booking_reservation_free(g);
}
END_TEST

START_TEST(hold_expiry_follows_the_configured_minutes)
{
	booking_options o;
	fx g;
	booking_reservation *r = NULL;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.hold_expiry_minutes = 5;
	fx_open(&g, &o);
	fx_seed(&g);
	ck_assert_ok(fx_hold(&g, &r, "alice", "A1"));
	ck_assert_int_eq(r->expires_at, FX_T0 + 5 * FX_MINUTE);
	booking_reservation_free(r);
	fx_close(&g);
}
END_TEST

START_TEST(hold_of_no_seats_fails_with_validation_error)
{
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = (booking_reservation *)&r;

	ck_assert_code(booking_hold(&r, f.bk, &alice, f.showtime_id, NULL, 0), "VALIDATION_ERROR");
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(hold_of_more_than_max_seats_fails_with_validation_error)
{
	/* default max_seats_per_reservation is 10 */
	ck_assert_code(fx_hold(&f, NULL, "alice", "A1,A2,A3,A4,A5,A6,A7,A8,A9,A10,B1"), "VALIDATION_ERROR");
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&f, NULL, "alice", "A1,A2,A3,A4,A5,A6,A7,A8,A9,A10"));
}
END_TEST

START_TEST(hold_respects_a_configured_max_seats)
{
	booking_options o;
	fx g;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.max_seats_per_reservation = 2;
	fx_open(&g, &o);
	fx_seed(&g);
	ck_assert_code(fx_hold(&g, NULL, "alice", "A1,A2,A3"), "VALIDATION_ERROR");
	ck_assert_ok(fx_hold(&g, NULL, "alice", "A1,A2"));
	fx_close(&g);
}
END_TEST

START_TEST(hold_with_duplicate_seats_fails_with_validation_error)
{
	ck_assert_code(fx_hold(&f, NULL, "alice", "A1,A2,A1"), "VALIDATION_ERROR");
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(fx_seat_status(&f, "A2"), BOOKING_SEAT_FREE);
}
END_TEST

START_TEST(hold_of_unknown_label_fails_with_validation_error)
{
	ck_assert_code(fx_hold(&f, NULL, "alice", "A1,Z99"), "VALIDATION_ERROR");
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_code(fx_hold(&f, NULL, "alice", "A 1"), "VALIDATION_ERROR");
	ck_assert_code(fx_hold(&f, NULL, "alice", ""), "VALIDATION_ERROR");
}
END_TEST

START_TEST(hold_of_unknown_showtime_fails_with_showtime_not_found)
{
	booking_ctx alice = fx_customer("alice");
	const char *seat = "A1";

	ck_assert_code(booking_hold(NULL, f.bk, &alice, UNKNOWN_ID, &seat, 1), "SHOWTIME_NOT_FOUND");
}
END_TEST

START_TEST(hold_after_the_showtime_started_fails_with_invalid_state)
{
	char soon[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	const char *seat = "A1";

	fx_add_showtime(&f, FX_HOUR, soon);
	ck_assert_ok(booking_hold(NULL, f.bk, &alice, soon, &seat, 1));
	fx_advance(&f, FX_HOUR);
	seat = "A2";
	ck_assert_code(booking_hold(NULL, f.bk, &alice, soon, &seat, 1), "INVALID_STATE");
}
END_TEST

START_TEST(hold_without_user_fails_with_unauthorized)
{
	booking_ctx anon = fx_anonymous();
	booking_ctx nouser;
	const char *seat = "A1";

	booking_ctx_init(&nouser, NULL, BOOKING_ROLE_CUSTOMER);
	ck_assert_code(booking_hold(NULL, f.bk, &anon, f.showtime_id, &seat, 1), "UNAUTHORIZED");
	ck_assert_code(booking_hold(NULL, f.bk, &nouser, f.showtime_id, &seat, 1), "UNAUTHORIZED");
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
}
END_TEST

START_TEST(hold_of_taken_seat_fails_with_seat_already_booked)
{
	booking_reservation *r = (booking_reservation *)&r;
	json_t *details, *seats;
	json_error_t jerr;

	fx_hold_ok(&f, "bob", "A2,A3", (char[BOOKING_ID_SIZE]){0});
	ck_assert_code(fx_hold(&f, &r, "alice", "A1,A2,A3,A4"), "SEAT_ALREADY_BOOKED");
	ck_assert_ptr_null(r);
	details = json_loads(booking_error_last()->details_json, 0, &jerr);
	ck_assert_ptr_nonnull(details);
	seats = json_object_get(details, "seats");
	ck_assert_msg(json_is_array(seats), "details: %s", booking_error_last()->details_json);
	ck_assert_uint_eq(json_array_size(seats), 2);
	ck_assert_str_eq(json_string_value(json_array_get(seats, 0)), "A2");
	ck_assert_str_eq(json_string_value(json_array_get(seats, 1)), "A3");
	json_decref(details);
}
END_TEST

START_TEST(hold_is_all_or_nothing)
{
	booking_ctx alice = fx_customer("alice");
	booking_reservation_list *l = NULL;

	fx_hold_ok(&f, "bob", "C10", (char[BOOKING_ID_SIZE]){0});
	ck_assert_code(fx_hold(&f, NULL, "alice", "C8,C9,C10"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(fx_seat_status(&f, "C8"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(fx_seat_status(&f, "C9"), BOOKING_SEAT_FREE);
	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 0, NULL));
	ck_assert_uint_eq(l->count, 0);
	booking_reservation_list_free(l);
	/* the free seats stay claimable */
	ck_assert_ok(fx_hold(&f, NULL, "carol", "C8,C9"));
}
END_TEST

START_TEST(hold_of_own_held_seat_fails_too)
{
	fx_hold_ok(&f, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_code(fx_hold(&f, NULL, "alice", "A1"), "SEAT_ALREADY_BOOKED");
}
END_TEST

START_TEST(expired_hold_frees_its_seats_for_another_user_at_once)
{
	char held[BOOKING_ID_SIZE], second[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "B1,B2", held);
	fx_advance(&f, HOLD_MS - 1);
	ck_assert_code(fx_hold(&f, NULL, "bob", "B2"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_HELD);
	fx_advance(&f, 1); /* now == expires_at: the hold is over */
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_FREE);
	/* no sweep ran: the reservation is still PENDING in the store, yet its seats are claimable */
	fx_hold_ok(&f, "bob", "B2", second);
	ck_assert_int_eq(fx_seat_status(&f, "B2"), BOOKING_SEAT_HELD);
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_FREE);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(sold_seats_never_come_back_after_the_hold_time)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A5", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "key-1", FX_CARD_OK));
	fx_advance(&f, 2 * HOLD_MS);
	ck_assert_int_eq(fx_seat_status(&f, "A5"), BOOKING_SEAT_SOLD);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A5"), "SEAT_ALREADY_BOOKED");
}
END_TEST

/* --- get / list -------------------------------------------------------- */

START_TEST(booking_get_is_for_its_owner_or_an_admin)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice"), bob = fx_customer("bob"), admin = fx_admin(),
	            sys = fx_system();
	booking_reservation *r = (booking_reservation *)&r;

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_code(booking_reservation_get(&r, f.bk, &bob, b), "FORBIDDEN");
	ck_assert_ptr_null(r);
	ck_assert_ok(booking_reservation_get(&r, f.bk, &alice, b));
	booking_reservation_free(r);
	ck_assert_ok(booking_reservation_get(&r, f.bk, &admin, b));
	booking_reservation_free(r);
	ck_assert_ok(booking_reservation_get(&r, f.bk, &sys, b));
	booking_reservation_free(r);
	r = (booking_reservation *)&r;
	ck_assert_code(booking_reservation_get(&r, f.bk, &alice, UNKNOWN_ID), "RESERVATION_NOT_FOUND");
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(bookings_of_a_user_are_listed_newest_first)
{
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE], b3[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice"), bob = fx_customer("bob"), admin = fx_admin();
	booking_reservation_list *l = NULL;

	fx_hold_ok(&f, "alice", "A1", b1);
	fx_advance(&f, FX_SECOND);
	fx_hold_ok(&f, "bob", "A2", (char[BOOKING_ID_SIZE]){0});
	fx_advance(&f, FX_SECOND);
	fx_hold_ok(&f, "alice", "A3,A4", b2);
	fx_advance(&f, FX_SECOND);
	fx_hold_ok(&f, "alice", "A5", b3);

	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, NULL, 0, NULL));
	ck_assert_uint_eq(l->count, 3);
	ck_assert_ptr_null(l->next_cursor);
	ck_assert_str_eq(l->items[0]->id, b3);
	ck_assert_str_eq(l->items[1]->id, b2);
	ck_assert_str_eq(l->items[2]->id, b1);
	ck_assert_uint_eq(l->items[1]->seat_count, 2);
	ck_assert_str_eq(l->items[1]->seats[1]->label, "A4");
	booking_reservation_list_free(l);

	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &alice, "alice", 0, NULL));
	ck_assert_uint_eq(l->count, 3);
	booking_reservation_list_free(l);

	l = (booking_reservation_list *)&l;
	ck_assert_code(booking_reservation_list_for_user(&l, f.bk, &bob, "alice", 0, NULL), "FORBIDDEN");
	ck_assert_ptr_null(l);

	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &admin, "alice", 0, NULL));
	ck_assert_uint_eq(l->count, 3);
	booking_reservation_list_free(l);

	ck_assert_ok(booking_reservation_list_for_user(&l, f.bk, &admin, "nobody", 0, NULL));
	ck_assert_uint_eq(l->count, 0);
	booking_reservation_list_free(l);
}
END_TEST

/* --- cancel ------------------------------------------------------------ */

START_TEST(owner_cancels_a_pending_booking_and_frees_its_seats)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;

	fx_hold_ok(&f, "alice", "B3,B4", b);
	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(booking_reservation_cancel(&r, f.bk, &alice, b));
	ck_assert_str_eq(r->id, b);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	ck_assert_int_eq(r->version, 2);
	ck_assert_int_eq(r->updated_at, FX_T0 + FX_MINUTE);
	booking_reservation_free(r);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CANCELLED);
	ck_assert_int_eq(fx_seat_status(&f, "B3"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(fx_seat_status(&f, "B4"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&f, NULL, "bob", "B3,B4"));
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(admin_cancels_any_booking)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx admin = fx_admin();

	fx_hold_ok(&f, "alice", "B3", b);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &admin, b));
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CANCELLED);
}
END_TEST

START_TEST(cancel_of_someone_elses_booking_is_forbidden)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx bob = fx_customer("bob");
	booking_reservation *r = (booking_reservation *)&r;

	fx_hold_ok(&f, "alice", "B3", b);
	ck_assert_code(booking_reservation_cancel(&r, f.bk, &bob, b), "FORBIDDEN");
	ck_assert_ptr_null(r);
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(fx_seat_status(&f, "B3"), BOOKING_SEAT_HELD);
}
END_TEST

START_TEST(cancel_of_a_paid_booking_fails_with_invalid_state)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	fx_hold_ok(&f, "alice", "B3", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "pay-1", FX_CARD_OK));
	ck_assert_code(booking_reservation_cancel(NULL, f.bk, &alice, b), "INVALID_STATE");
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_CONFIRMED);
	ck_assert_int_eq(fx_seat_status(&f, "B3"), BOOKING_SEAT_SOLD);
}
END_TEST

START_TEST(cancel_twice_fails_with_invalid_state)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	fx_hold_ok(&f, "alice", "B3", b);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, b));
	ck_assert_code(booking_reservation_cancel(NULL, f.bk, &alice, b), "INVALID_STATE");
}
END_TEST

START_TEST(cancel_of_an_expired_hold_fails_with_reservation_expired)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice"), sys = fx_system();

	fx_hold_ok(&f, "alice", "B3", b);
	fx_advance(&f, HOLD_MS);
	ck_assert_code(booking_reservation_cancel(NULL, f.bk, &alice, b), "RESERVATION_EXPIRED");
	ck_assert_int_eq(status_of(b), BOOKING_RESERVATION_PENDING);
	ck_assert_ok(booking_expire_due(NULL, f.bk, &sys, 10));
	ck_assert_code(booking_reservation_cancel(NULL, f.bk, &alice, b), "INVALID_STATE");
}
END_TEST

START_TEST(cancel_of_unknown_booking_fails_with_booking_not_found)
{
	booking_ctx alice = fx_customer("alice");

	ck_assert_code(booking_reservation_cancel(NULL, f.bk, &alice, UNKNOWN_ID), "RESERVATION_NOT_FOUND");
}
END_TEST

/* --- expiry sweep ------------------------------------------------------ */

START_TEST(expire_due_marks_overdue_holds_expired)
{
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE], b3[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();
	size_t n = 99;
	booking_reservation *r;

	fx_hold_ok(&f, "alice", "A1", b1);
	fx_hold_ok(&f, "bob", "A2", b2);
	fx_advance(&f, 10 * FX_MINUTE);
	fx_hold_ok(&f, "carol", "A3", b3);
	fx_advance(&f, 5 * FX_MINUTE); /* b1, b2 due; b3 has 10 minutes left */
	ck_assert_ok(booking_expire_due(&n, f.bk, &sys, 100));
	ck_assert_uint_eq(n, 2);
	r = fx_booking(&f, b1);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_EXPIRED);
	ck_assert_int_eq(r->saga, BOOKING_SAGA_COMPENSATED);
	ck_assert_int_eq(r->version, 2);
	booking_reservation_free(r);
	ck_assert_int_eq(status_of(b2), BOOKING_RESERVATION_EXPIRED);
	ck_assert_int_eq(status_of(b3), BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(fx_seat_status(&f, "A3"), BOOKING_SEAT_HELD);
	ck_assert_ok(booking_expire_due(&n, f.bk, &sys, 100));
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(expire_due_takes_at_most_max)
{
	booking_ctx admin = fx_admin();
	size_t n = 0;

	for (int i = 1; i <= 3; i++) {
		char label[8];
		snprintf(label, sizeof(label), "C%d", i);
		ck_assert_ok(fx_hold(&f, NULL, "alice", label));
	}
	fx_advance(&f, HOLD_MS);
	ck_assert_ok(booking_expire_due(&n, f.bk, &admin, 2));
	ck_assert_uint_eq(n, 2);
	ck_assert_ok(booking_expire_due(&n, f.bk, &admin, 2));
	ck_assert_uint_eq(n, 1);
	ck_assert_ok(booking_expire_due(NULL, f.bk, &admin, 2));
}
END_TEST

START_TEST(expire_due_is_for_system_or_admin)
{
	booking_ctx alice = fx_customer("alice");

	ck_assert_code(booking_expire_due(NULL, f.bk, &alice, 10), "FORBIDDEN");
}
END_TEST

START_TEST(expire_due_leaves_a_reclaimed_seat_to_its_new_holder)
{
	char old[BOOKING_ID_SIZE], fresh[BOOKING_ID_SIZE];
	booking_ctx sys = fx_system();

	fx_hold_ok(&f, "alice", "A7", old);
	fx_advance(&f, HOLD_MS);
	fx_hold_ok(&f, "bob", "A7", fresh);
	ck_assert_ok(booking_expire_due(NULL, f.bk, &sys, 10));
	ck_assert_int_eq(status_of(old), BOOKING_RESERVATION_EXPIRED);
	ck_assert_int_eq(status_of(fresh), BOOKING_RESERVATION_PENDING);
	ck_assert_int_eq(fx_seat_status(&f, "A7"), BOOKING_SEAT_HELD);
	ck_assert_code(fx_hold(&f, NULL, "carol", "A7"), "SEAT_ALREADY_BOOKED");
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

/* A lock manager that cannot be reached (a Redis outage). */
typedef struct down_locks {
	booking_lock_manager parent;
	int calls;
} down_locks;

static void dl_free(booking_lock_manager *lm)
{
	free(lm);
}

static int dl_unreachable(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner,
                          int64_t ttl)
{
	(void)keys;
	(void)n;
	(void)owner;
	(void)ttl;
	((down_locks *)(void *)lm)->calls++;
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "lock server unreachable");
}

static int dl_release(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner)
{
	(void)keys;
	(void)n;
	(void)owner;
	((down_locks *)(void *)lm)->calls++;
	return booking_error_set(BOOKING_EUNAVAILABLE, NULL, "lock server unreachable");
}

START_TEST(hold_goes_through_the_store_alone_when_the_lock_manager_is_down)
{
	booking_options o;
	fx g;
	down_locks *dl = calloc(1, sizeof(*dl));
	char b[BOOKING_ID_SIZE];

	dl->parent.version = BOOKING_LOCK_MANAGER_VERSION;
	dl->parent.free = dl_free;
	dl->parent.acquire_all = dl_unreachable;
	dl->parent.release_all = dl_release;
	dl->parent.extend = dl_unreachable;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.lock_manager = &dl->parent;
	fx_open(&g, &o);
	fx_seed(&g);
	fx_hold_ok(&g, "alice", "A1,A2", b);
	ck_assert_int_gt(dl->calls, 0);
	/* slower, never double-sold */
	ck_assert_code(fx_hold(&g, NULL, "bob", "A2"), "SEAT_ALREADY_BOOKED");
	ck_assert_ok(fx_pay(&g, NULL, "alice", b, "k1", FX_CARD_OK));
	ck_assert_uint_eq(fx_check_violations(&g), 0);
	fx_close(&g);
}
END_TEST

/* --- the guard's marks (a lock manager of version 3) ------------------------ */

static int store_holds; /* calls of the store's hold member */

static void count_holds(fx_store_wrap *w, const char *member)
{
	(void)w;
	if (strcmp(member, "hold") == 0)
		store_holds++;
}

/* A handle with the memory: lock manager on the handle's manual clock, counting the store's holds. */
static void open_marked(fx *g, booking_options *o)
{
	booking_options base;

	if (!o) {
		booking_options_init(&base, BOOKING_OPTIONS_VERSION);
		o = &base;
	}
	o->lock_url = "memory:";
	fx_open(g, o);
	fx_seed(g);
	ck_assert_ptr_nonnull(g->wrap);
	g->wrap->before = count_holds;
	store_holds = 0;
}

START_TEST(a_held_seat_is_refused_by_its_mark_without_asking_the_store)
{
	fx g;
	char plain[256], plain_details[256];
	booking_reservation *r = (booking_reservation *)&r;

	/* the store's own refusal, for the wording */
	fx_hold_ok(&f, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_code(fx_hold(&f, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	snprintf(plain, sizeof plain, "%s", booking_error_last()->message);
	snprintf(plain_details, sizeof plain_details, "%s", booking_error_last()->details_json);

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 1);
	ck_assert_code(fx_hold(&g, &r, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	ck_assert_ptr_null(r);
	ck_assert_int_eq(store_holds, 1); /* the mark answered */
	ck_assert_str_eq(booking_error_last()->message, plain);
	ck_assert_str_eq(booking_error_last()->details_json, plain_details);
	/* a hold of a marked seat and a free one: refused whole, the free one stays free */
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1,A2"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 1);
	ck_assert_int_eq(fx_seat_status(&g, "A2"), BOOKING_SEAT_FREE);
	fx_hold_ok(&g, "bob", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 2);
	fx_close(&g);
}
END_TEST

START_TEST(a_cancelled_hold_drops_its_marks)
{
	fx g;
	char held[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "A1,A2", held);
	ck_assert_ok(booking_reservation_cancel(NULL, g.bk, &alice, held));
	fx_hold_ok(&g, "bob", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 2);
	ck_assert_uint_eq(fx_check_violations(&g), 0);
	fx_close(&g);
}
END_TEST

START_TEST(a_refunded_sale_drops_its_marks)
{
	fx g;
	char held[BOOKING_ID_SIZE];
	booking_ctx admin = fx_admin();
	booking_payment *p = NULL;

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "A1", held);
	ck_assert_ok(fx_pay(&g, &p, "alice", held, "k1", FX_CARD_OK));
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED"); /* sold: the mark stands */
	ck_assert_int_eq(store_holds, 1);
	ck_assert_ok(booking_payment_refund(NULL, g.bk, &admin, p->id));
	booking_payment_free(p);
	fx_hold_ok(&g, "bob", "A1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 2);
	fx_close(&g);
}
END_TEST

START_TEST(a_declined_payment_that_releases_drops_the_marks)
{
	fx g;
	char held[BOOKING_ID_SIZE];
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.decline_policy = BOOKING_DECLINE_RELEASE;
	open_marked(&g, &o);
	fx_hold_ok(&g, "alice", "A1", held);
	ck_assert_code(fx_pay(&g, NULL, "alice", held, "k1", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	ck_assert_int_eq(fx_seat_status(&g, "A1"), BOOKING_SEAT_FREE);
	fx_hold_ok(&g, "bob", "A1", (char[BOOKING_ID_SIZE]){0});
	fx_close(&g);
}
END_TEST

START_TEST(a_change_drops_the_marks_of_the_seats_it_gives_up)
{
	fx g;
	char held[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");
	const char *give_up[1] = {"A2"};

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "A1,A2", held);
	ck_assert_ok(booking_reservation_change(NULL, g.bk, &alice, held, NULL, 0, give_up, 1));
	fx_hold_ok(&g, "bob", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 2);
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED"); /* kept: its mark stands */
	ck_assert_int_eq(store_holds, 2);
	fx_close(&g);
}
END_TEST

START_TEST(a_payment_in_flight_holds_the_marks_only_for_its_window)
{
	fx g;
	char held[BOOKING_ID_SIZE];
	int rc;

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "A1", held);
	rc = fx_pay(&g, NULL, "alice", held, "slow-1", FX_CARD_TIMEOUT); /* stays PROCESSING */
	ck_assert_msg(rc == BOOKING_EEXTERNAL || rc == BOOKING_EUNAVAILABLE, "got %s", booking_error_name(rc));
	ck_assert_int_eq(fx_seat_status(&g, "A1"), BOOKING_SEAT_HELD);
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 1);
	fx_advance(&g, 120 * FX_SECOND); /* past the default payment window, within the hold's 15 minutes */
	ck_assert_int_eq(fx_seat_status(&g, "A1"), BOOKING_SEAT_FREE); /* the store gives the seat: so must the mark */
	fx_hold_ok(&g, "bob", "A1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 2);
	fx_close(&g);
}
END_TEST

START_TEST(a_sold_seat_keeps_its_mark_past_the_payment_window)
{
	fx g;
	char held[BOOKING_ID_SIZE];

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "A1", held);
	ck_assert_ok(fx_pay(&g, NULL, "alice", held, "k1", FX_CARD_OK));
	fx_advance(&g, 10 * FX_MINUTE);
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 1);
	fx_advance(&g, 5 * FX_MINUTE); /* the hold's time: the mark lapses, the store refuses the sold seat */
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 2);
	fx_close(&g);
}
END_TEST

START_TEST(a_mark_lapses_when_its_hold_expires)
{
	fx g;

	open_marked(&g, NULL);
	fx_hold_ok(&g, "alice", "B1", (char[BOOKING_ID_SIZE]){0});
	fx_advance(&g, HOLD_MS - 1);
	ck_assert_code(fx_hold(&g, NULL, "bob", "B1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 1);
	fx_advance(&g, 1); /* the hold is over, no sweep ran: the seat is claimable, the mark gone */
	fx_hold_ok(&g, "bob", "B1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 2);
	ck_assert_uint_eq(fx_check_violations(&g), 0);
	fx_close(&g);
}
END_TEST

START_TEST(a_hold_the_store_refused_leaves_no_mark)
{
	fx g;
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.max_seats_per_user_showtime = 2;
	open_marked(&g, &o);
	fx_hold_ok(&g, "alice", "A1,A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_code(fx_hold(&g, NULL, "alice", "A3"), "LIMIT_REACHED");
	ck_assert_int_eq(store_holds, 2);
	fx_hold_ok(&g, "bob", "A3", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 3);
	fx_close(&g);
}
END_TEST

/* --- the guard only while a showtime is contended (lock_contended_seconds) --- */

START_TEST(the_guard_takes_holds_only_while_their_showtime_is_contended)
{
	fx g;
	booking_options o;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.lock_contended_seconds = 60;
	open_marked(&g, &o);
	/* uncontended: the store alone, and no mark is left */
	fx_hold_ok(&g, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 1);
	ck_assert_code(fx_hold(&g, NULL, "bob", "A1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 2); /* no mark: the store refused, and the showtime is contended now */
	/* contended: the guard takes the seats and leaves marks that answer without the store */
	fx_hold_ok(&g, "carol", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 3);
	ck_assert_code(fx_hold(&g, NULL, "dave", "A2"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 3); /* the mark answered */
	/* 60 seconds without a conflict: the store alone again */
	fx_advance(&g, 61 * 1000);
	fx_hold_ok(&g, "erin", "A3", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 4);
	ck_assert_code(fx_hold(&g, NULL, "frank", "A3"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 5); /* no mark on A3 */
	ck_assert_code(fx_hold(&g, NULL, "frank", "A2"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 5); /* contended again: A2's mark answers (its hold lives 15 minutes) */
	fx_close(&g);
}
END_TEST

START_TEST(lock_contended_seconds_is_validated)
{
	booking_options o;
	booking_handle *bk = NULL;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.lock_contended_seconds = 3601;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_null(bk);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "lock_contended_seconds"));
	o.lock_contended_seconds = -1;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reservation");
	TCase *tc = tcase_create("reservation");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hold_of_free_seats_creates_a_pending_booking);
	tcase_add_test(tc, hold_expiry_follows_the_configured_minutes);
	tcase_add_test(tc, hold_of_no_seats_fails_with_validation_error);
	tcase_add_test(tc, hold_of_more_than_max_seats_fails_with_validation_error);
	tcase_add_test(tc, hold_respects_a_configured_max_seats);
	tcase_add_test(tc, hold_with_duplicate_seats_fails_with_validation_error);
	tcase_add_test(tc, hold_of_unknown_label_fails_with_validation_error);
	tcase_add_test(tc, hold_of_unknown_showtime_fails_with_showtime_not_found);
	tcase_add_test(tc, hold_after_the_showtime_started_fails_with_invalid_state);
	tcase_add_test(tc, hold_without_user_fails_with_unauthorized);
	tcase_add_test(tc, hold_of_taken_seat_fails_with_seat_already_booked);
	tcase_add_test(tc, hold_is_all_or_nothing);
	tcase_add_test(tc, hold_of_own_held_seat_fails_too);
	tcase_add_test(tc, expired_hold_frees_its_seats_for_another_user_at_once);
	tcase_add_test(tc, sold_seats_never_come_back_after_the_hold_time);
	tcase_add_test(tc, booking_get_is_for_its_owner_or_an_admin);
	tcase_add_test(tc, bookings_of_a_user_are_listed_newest_first);
	tcase_add_test(tc, owner_cancels_a_pending_booking_and_frees_its_seats);
	tcase_add_test(tc, admin_cancels_any_booking);
	tcase_add_test(tc, cancel_of_someone_elses_booking_is_forbidden);
	tcase_add_test(tc, cancel_of_a_paid_booking_fails_with_invalid_state);
	tcase_add_test(tc, cancel_twice_fails_with_invalid_state);
	tcase_add_test(tc, cancel_of_an_expired_hold_fails_with_reservation_expired);
	tcase_add_test(tc, cancel_of_unknown_booking_fails_with_booking_not_found);
	tcase_add_test(tc, expire_due_marks_overdue_holds_expired);
	tcase_add_test(tc, expire_due_takes_at_most_max);
	tcase_add_test(tc, expire_due_is_for_system_or_admin);
	tcase_add_test(tc, expire_due_leaves_a_reclaimed_seat_to_its_new_holder);
	tcase_add_test(tc, hold_goes_through_the_store_alone_when_the_lock_manager_is_down);
	tcase_add_test(tc, a_held_seat_is_refused_by_its_mark_without_asking_the_store);
	tcase_add_test(tc, a_cancelled_hold_drops_its_marks);
	tcase_add_test(tc, a_refunded_sale_drops_its_marks);
	tcase_add_test(tc, a_declined_payment_that_releases_drops_the_marks);
	tcase_add_test(tc, a_change_drops_the_marks_of_the_seats_it_gives_up);
	tcase_add_test(tc, a_mark_lapses_when_its_hold_expires);
	tcase_add_test(tc, a_payment_in_flight_holds_the_marks_only_for_its_window);
	tcase_add_test(tc, a_sold_seat_keeps_its_mark_past_the_payment_window);
	tcase_add_test(tc, a_hold_the_store_refused_leaves_no_mark);
	tcase_add_test(tc, the_guard_takes_holds_only_while_their_showtime_is_contended);
	tcase_add_test(tc, lock_contended_seconds_is_validated);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
