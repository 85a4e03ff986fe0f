/*
 * Unit tests of fair sales, part 2 (doc/fairness.md): the waiting list
 * (offers in join order, passing over, the barrier, offers that run out,
 * are paid for or given up, racing returns), the live-hold limit and the
 * rate limits. On every store the unit flows run on (memory, SQLite;
 * PostgreSQL and PostgreSQL + Redis by their suites).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

static fx f;
static const char *seat_labels[FX_SEATS] = {"A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10",
                                            "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10",
                                            "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9", "C10"};
/* the whale's one-seat holds, by seat: the sold-out showtime */
static char whale[FX_SEATS][BOOKING_ID_SIZE];

static void open_with(int max_passes)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.waitlist_max_passes = max_passes;
	fx_open(&f, &o);
	fx_seed(&f);
}

static void setup(void)
{
	open_with(2);
}

static void teardown(void)
{
	fx_close(&f);
}

/* Sell the showtime out: one hold of one seat per seat, all the whale's. */
static void sell_out(void)
{
	for (int i = 0; i < FX_SEATS; i++)
		fx_hold_ok(&f, "whale", seat_labels[i], whale[i]);
}

/* Give seat i back (the whale cancels its hold of it). */
static void give_back(int i)
{
	booking_ctx w = fx_customer("whale");
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &w, whale[i]));
}

static booking_waitlist_entry *join(const char *user, size_t party)
{
	booking_ctx c = fx_customer(user);
	booking_waitlist_entry *e = NULL;
	int rc = booking_waitlist_join(&e, f.bk, &c, f.showtime_id, party, NULL);
	ck_assert_msg(rc == 0, "join %s: %s: %s", user, booking_error_name(rc), booking_error_last()->message);
	return e;
}

/* The entry of `user` as the admin's list has it (NULL: not in line). Caller frees. */
static booking_waitlist_entry *entry_of(const char *user)
{
	booking_ctx a = fx_admin();
	booking_waitlist *l = NULL;
	ck_assert_ok(booking_waitlist_list(&l, f.bk, &a, f.showtime_id));
	booking_waitlist_entry *out = NULL;
	for (size_t i = 0; i < l->count && !out; i++)
		if (strcmp(l->items[i]->user_id, user) == 0) {
			out = malloc(sizeof(*out));
			*out = *l->items[i];
		}
	booking_waitlist_free(l);
	return out;
}

static booking_waitlist_status status_of(const char *user)
{
	booking_waitlist_entry *e = entry_of(user);
	booking_waitlist_status s = e ? e->status : 0;
	free(e);
	return s;
}

START_TEST(returned_seats_go_to_the_parties_in_join_order)
{
	sell_out();
	booking_waitlist_entry *a = join("alice", 2), *b = join("bob", 1);
	ck_assert_int_eq(a->status, BOOKING_WAITLIST_WAITING);
	ck_assert_uint_eq(a->position, 1);
	ck_assert_uint_eq(b->position, 2);
	give_back(0);
	/* one seat: alice (2) does not fit, bob (1) does and is offered it; alice is passed over once */
	ck_assert_int_eq(status_of("bob"), BOOKING_WAITLIST_OFFERED);
	booking_waitlist_entry *ea = entry_of("alice"), *eb = entry_of("bob");
	ck_assert_int_eq(ea->status, BOOKING_WAITLIST_WAITING);
	ck_assert_int_eq(ea->passes, 1);
	booking_reservation *r = fx_booking(&f, eb->reservation_id);
	ck_assert_str_eq(r->user_id, "bob");
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_PENDING);
	ck_assert_uint_eq(r->seat_count, 1);
	ck_assert_str_eq(r->seats[0]->label, "A1");
	ck_assert_int_eq(eb->offer_expires_at, r->expires_at);
	booking_reservation_free(r);
	give_back(1);
	give_back(2);
	/* two seats back: alice's party fits now */
	ck_assert_int_eq(status_of("alice"), BOOKING_WAITLIST_OFFERED);
	free(ea);
	free(eb);
	booking_waitlist_entry_free(a);
	booking_waitlist_entry_free(b);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(a_party_passed_over_too_often_stops_the_line)
{
	sell_out();
	booking_waitlist_entry_free(join("alice", 3));
	booking_waitlist_entry_free(join("bob", 1));
	booking_waitlist_entry_free(join("carol", 1));
	booking_waitlist_entry_free(join("dave", 1));
	give_back(0); /* bob, alice passed once */
	give_back(9); /* carol, alice passed twice: the limit */
	ck_assert_int_eq(status_of("bob"), BOOKING_WAITLIST_OFFERED);
	ck_assert_int_eq(status_of("carol"), BOOKING_WAITLIST_OFFERED);
	give_back(20); /* dave would fit, but alice may be passed over no more */
	ck_assert_int_eq(status_of("dave"), BOOKING_WAITLIST_WAITING);
	ck_assert_int_eq(fx_seat_status(&f, "C1"), BOOKING_SEAT_FREE);
	give_back(21);
	give_back(22); /* three free seats: alice first, then the line moves */
	ck_assert_int_eq(status_of("alice"), BOOKING_WAITLIST_OFFERED);
	ck_assert_int_eq(status_of("dave"), BOOKING_WAITLIST_WAITING);
	give_back(23);
	ck_assert_int_eq(status_of("dave"), BOOKING_WAITLIST_OFFERED);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(an_offer_that_runs_out_passes_to_the_next)
{
	sell_out();
	booking_waitlist_entry_free(join("alice", 1));
	booking_waitlist_entry_free(join("bob", 1));
	give_back(5);
	booking_waitlist_entry *ea = entry_of("alice");
	ck_assert_int_eq(ea->status, BOOKING_WAITLIST_OFFERED);
	/* alice does not pay: her offer runs out (the whale's holds with it) */
	fx_advance(&f, 16 * FX_MINUTE);
	booking_ctx sys = fx_system();
	size_t expired = 0;
	ck_assert_ok(booking_expire_due(&expired, f.bk, &sys, 1000));
	ck_assert_uint_ge(expired, 1);
	/* alice's offer lapsed (she leaves the line); the seats went to bob */
	booking_waitlist_entry *eb = entry_of("bob");
	ck_assert_ptr_null(entry_of("alice"));
	ck_assert_ptr_nonnull(eb);
	ck_assert_int_eq(eb->status, BOOKING_WAITLIST_OFFERED);
	booking_reservation *r = fx_booking(&f, ea->reservation_id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_EXPIRED);
	booking_reservation_free(r);
	free(ea);
	free(eb);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(paying_an_offer_fulfils_the_entry)
{
	sell_out();
	booking_waitlist_entry_free(join("alice", 1));
	give_back(3);
	booking_waitlist_entry *ea = entry_of("alice");
	ck_assert_int_eq(ea->status, BOOKING_WAITLIST_OFFERED);
	booking_payment *p = NULL;
	ck_assert_ok(fx_pay(&f, &p, "alice", ea->reservation_id, "wl-pay", FX_CARD_OK));
	booking_payment_free(p);
	ck_assert_ptr_null(entry_of("alice")); /* fulfilled: off the list */
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	free(ea);
}
END_TEST

START_TEST(one_entry_per_user_and_leaving_gives_an_offer_up)
{
	sell_out();
	booking_ctx alice = fx_customer("alice"), bob = fx_customer("bob"), admin = fx_admin();
	booking_waitlist_entry_free(join("alice", 1));
	booking_waitlist_entry *e = NULL;
	ck_assert_code(booking_waitlist_join(&e, f.bk, &alice, f.showtime_id, 1, NULL), "ALREADY_EXISTS");
	ck_assert_ptr_null(e);
	ck_assert_code(booking_waitlist_join(&e, f.bk, &bob, f.showtime_id, 0, NULL), "VALIDATION_ERROR");
	ck_assert_code(booking_waitlist_join(&e, f.bk, &bob, f.showtime_id, 99, NULL), "VALIDATION_ERROR");
	booking_waitlist_entry_free(join("bob", 1));
	/* a customer sees only their own entry */
	booking_waitlist *l = NULL;
	ck_assert_ok(booking_waitlist_list(&l, f.bk, &bob, f.showtime_id));
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0]->user_id, "bob");
	ck_assert_uint_eq(l->items[0]->position, 2);
	booking_waitlist_free(l);
	give_back(7);
	booking_waitlist_entry *ea = entry_of("alice");
	ck_assert_int_eq(ea->status, BOOKING_WAITLIST_OFFERED);
	/* alice leaves: her hold is cancelled and the seat goes to bob */
	ck_assert_ok(booking_waitlist_leave(f.bk, &alice, f.showtime_id, NULL));
	ck_assert_code(booking_waitlist_leave(f.bk, &alice, f.showtime_id, NULL), "NOT_FOUND");
	booking_reservation *r = fx_booking(&f, ea->reservation_id);
	ck_assert_int_eq(r->status, BOOKING_RESERVATION_CANCELLED);
	booking_reservation_free(r);
	ck_assert_int_eq(status_of("bob"), BOOKING_WAITLIST_OFFERED);
	/* only admins take others off */
	ck_assert_code(booking_waitlist_leave(f.bk, &alice, f.showtime_id, "bob"), "FORBIDDEN");
	ck_assert_ok(booking_waitlist_leave(f.bk, &admin, f.showtime_id, "bob"));
	free(ea);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(joining_while_seats_are_free_is_offered_at_once)
{
	booking_waitlist_entry *e = join("alice", 2);
	ck_assert_int_eq(e->status, BOOKING_WAITLIST_OFFERED);
	booking_reservation *r = fx_booking(&f, e->reservation_id);
	ck_assert_uint_eq(r->seat_count, 2);
	booking_reservation_free(r);
	booking_waitlist_entry_free(e);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

typedef struct returner {
	pthread_barrier_t *barrier;
	int seat;
	int rc;
} returner;

static void *return_one(void *arg)
{
	returner *r = arg;
	booking_ctx w = fx_customer("whale");
	pthread_barrier_wait(r->barrier);
	r->rc = booking_reservation_cancel(NULL, f.bk, &w, whale[r->seat]);
	return NULL;
}

START_TEST(racing_returns_offer_each_seat_to_one_party_in_order)
{
	enum { N = 8, W = 12 };
	sell_out();
	char users[W][16];
	for (int i = 0; i < W; i++) {
		snprintf(users[i], sizeof(users[i]), "waiter%02d", i);
		booking_waitlist_entry_free(join(users[i], 1));
		fx_advance(&f, 1); /* distinct join times: a strict order */
	}
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, N);
	pthread_t t[N];
	returner r[N];
	for (int i = 0; i < N; i++) {
		r[i] = (returner){&barrier, 3 * i, -1};
		pthread_create(&t[i], NULL, return_one, &r[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(r[i].rc, 0);
	booking_ctx admin = fx_admin();
	size_t offers = 0;
	ck_assert_ok(booking_waitlist_process(&offers, f.bk, &admin, f.showtime_id));
	/* the first N waiters hold one returned seat each; the rest wait */
	for (int i = 0; i < W; i++)
		ck_assert_int_eq(status_of(users[i]), i < N ? BOOKING_WAITLIST_OFFERED : BOOKING_WAITLIST_WAITING);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

/* The checker sees what the events did not do: a list changed behind the library's back, an offer out of order. */
START_TEST(the_checker_sees_a_list_its_events_did_not_leave)
{
	sell_out();
	booking_waitlist_entry_free(join("alice", 2));
	booking_waitlist_entry_free(join("bob", 1));
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	const booking_store_kv *kv = f.store->version >= 7 ? f.store->kv : NULL;
	ck_assert_ptr_nonnull(kv);
	char ns[64];
	snprintf(ns, sizeof(ns), "waitlist/%s", f.showtime_id);
	booking_store_kv_record rec;
	memset(&rec, 0, sizeof(rec));
	ck_assert_ok(kv->kv_get(&rec, f.store, ns, "bob", booking_now(f.bk)));
	/* bob offered seats ahead of alice, who waits in front of him, without passing her over */
	json_t *v = json_loads(rec.value, 0, NULL);
	json_object_set_new(v, "status", json_string("offered"));
	char *value = json_dumps(v, JSON_COMPACT);
	char data[512];
	snprintf(data, sizeof(data),
	         "{\"entry_id\":\"%s\",\"showtime_id\":\"%s\",\"user_id\":\"bob\",\"reservation_id\":\"%s\","
	         "\"seats\":[\"A1\"],\"passed_over\":[],\"max_passes\":2}",
	         json_string_value(json_object_get(v, "id")), f.showtime_id, whale[0]);
	booking_event_record ev;
	memset(&ev, 0, sizeof(ev));
	snprintf(ev.id, sizeof(ev.id), "00000000-0000-7000-8000-00000000f00d");
	ev.type = "waitlist.offered";
	ev.aggregate_type = "waitlist";
	snprintf(ev.aggregate_id, sizeof(ev.aggregate_id), "%s", f.showtime_id);
	ev.occurred_at = booking_now(f.bk);
	ev.correlation_id = "forged";
	ev.traceparent = "";
	ev.data_json = data;
	booking_store_kv_put put = {.ns = ns, .key = "bob", .expected_version = rec.version, .value = value,
	                            .rank = rec.rank, .now = booking_now(f.bk), .event_count = 1, .events = &ev};
	ck_assert_ok(kv->kv_put(NULL, f.store, &put));
	booking_check_report *rep = NULL;
	ck_assert_ok(booking_check(&rep, f.bk));
	bool order = false;
	for (size_t i = 0; i < rep->count; i++)
		order |= rep->items[i]->invariant == BOOKING_INV_WAITLIST &&
		         strstr(rep->items[i]->message, "without passing it over") != NULL;
	booking_check_report_free(rep);
	ck_assert_msg(order, "the offer out of join order was not reported");
	free(value);
	json_decref(v);
	booking_free(rec.value);
	/* and an entry gone without its event */
	memset(&rec, 0, sizeof(rec));
	ck_assert_ok(kv->kv_get(&rec, f.store, ns, "alice", booking_now(f.bk)));
	booking_store_kv_put del = {.ns = ns, .key = "alice", .expected_version = rec.version, .now = booking_now(f.bk)};
	ck_assert_ok(kv->kv_put(NULL, f.store, &del));
	booking_free(rec.value);
	ck_assert(fx_check_reports(&f, BOOKING_INV_WAITLIST));
}
END_TEST

/* --- the live-hold limit --------------------------------------------------- */

static void setup_live(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.max_live_holds_per_user = 2;
	fx_open(&f, &o);
	fx_seed(&f);
}

START_TEST(a_buyer_has_at_most_the_live_hold_limit)
{
	/* every built-in store counts live holds in the hold's transaction (ledger version 4) */
	ck_assert_uint_ge(f.store->ledger->version, 4);
	booking_reservation *r = NULL;
	char other[BOOKING_ID_SIZE];
	fx_add_showtime(&f, 2 * FX_DAY, other);
	booking_ctx alice = fx_customer("alice");
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	char first[BOOKING_ID_SIZE];
	snprintf(first, sizeof(first), "%s", r->id);
	booking_reservation_free(r);
	const char *seat[] = {"A1"};
	ck_assert_ok(booking_hold(&r, f.bk, &alice, other, seat, 1));
	booking_reservation_free(r);
	ck_assert_code(fx_hold(&f, &r, "alice", "B1"), "LIMIT_REACHED");
	json_t *d = json_loads(booking_error_last()->details_json, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(d, "limit")), "max_live_holds_per_user");
	json_decref(d);
	/* best available too */
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = f.showtime_id;
	q.best = 1;
	ck_assert_code(booking_hold_with(&r, f.bk, &alice, &q, sizeof(q)), "LIMIT_REACHED");
	ck_assert_ok(fx_hold(&f, &r, "bob", "B1")); /* everyone has their own */
	booking_reservation_free(r);
	/* a hold paid for is no live hold; nor one cancelled */
	booking_payment *p = NULL;
	ck_assert_ok(fx_pay(&f, &p, "alice", first, "live-1", FX_CARD_OK));
	booking_payment_free(p);
	ck_assert_ok(booking_hold_with(&r, f.bk, &alice, &q, sizeof(q)));
	booking_reservation_free(r);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

/* --- rate limits ------------------------------------------------------------ */

static void setup_rate(void)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	o.rate_holds_per_minute = 60; /* one a second */
	o.rate_payments_per_minute = 60;
	o.rate_burst = 3;
	fx_open(&f, &o);
	fx_seed(&f);
}

static int64_t retry_after_ms(void)
{
	json_t *d = json_loads(booking_error_last()->details_json, 0, NULL);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(json_string_value(json_object_get(d, "limit")), "rate_holds_per_minute");
	int64_t ms = json_integer_value(json_object_get(d, "retry_after_ms"));
	ck_assert_int_ge(json_integer_value(json_object_get(d, "retry_after_seconds")), 1);
	json_decref(d);
	return ms;
}

START_TEST(holds_are_paced_per_user_and_per_client_key)
{
	booking_reservation *r = NULL;
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	booking_reservation_free(r);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A2"));
	booking_reservation_free(r);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A3"));
	booking_reservation_free(r);
	ck_assert_code(fx_hold(&f, &r, "alice", "A4"), "RATE_LIMITED"); /* the burst is spent */
	int64_t wait = retry_after_ms();
	ck_assert_int_gt(wait, 0);
	ck_assert_int_le(wait, 1000);
	ck_assert_int_eq(fx_seat_status(&f, "A4"), BOOKING_SEAT_FREE);
	ck_assert_ok(fx_hold(&f, &r, "bob", "B1")); /* another user: a limit of their own */
	booking_reservation_free(r);
	fx_advance(&f, wait);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A4"));
	booking_reservation_free(r);
	/* one client key shared by users: limited as one */
	booking_ctx c1 = fx_customer("carol"), c2 = fx_customer("dave");
	c1.client_key = c2.client_key = "192.0.2.7";
	const char *s1[] = {"C1"}, *s2[] = {"C2"}, *s3[] = {"C3"}, *s4[] = {"C4"};
	ck_assert_ok(booking_hold(&r, f.bk, &c1, f.showtime_id, s1, 1));
	booking_reservation_free(r);
	ck_assert_ok(booking_hold(&r, f.bk, &c2, f.showtime_id, s2, 1));
	booking_reservation_free(r);
	ck_assert_ok(booking_hold(&r, f.bk, &c1, f.showtime_id, s3, 1));
	booking_reservation_free(r);
	ck_assert_code(booking_hold(&r, f.bk, &c2, f.showtime_id, s4, 1), "RATE_LIMITED");
	json_t *d = json_loads(booking_error_last()->details_json, 0, NULL);
	ck_assert_str_eq(json_string_value(json_object_get(d, "key")), "client");
	json_decref(d);
	/* admins are the box office's staff: not paced */
	booking_ctx admin = fx_admin();
	for (int i = 5; i <= 9; i++) {
		booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
		char label[8];
		snprintf(label, sizeof(label), "C%d", i);
		const char *one[] = {label};
		q.showtime_id = f.showtime_id;
		q.seats = one;
		q.seat_count = 1;
		q.for_user_id = "erin";
		ck_assert_ok(booking_hold_with(&r, f.bk, &admin, &q, sizeof(q)));
		booking_reservation_free(r);
	}
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

START_TEST(a_payment_replay_is_not_paced)
{
	char id[BOOKING_ID_SIZE];
	fx_hold_ok(&f, "alice", "A1", id);
	booking_payment *p = NULL;
	for (int i = 0; i < 6; i++) { /* the same key: one attempt, then replays */
		ck_assert_ok(fx_pay(&f, &p, "alice", id, "pay-1", FX_CARD_OK));
		booking_payment_free(p);
	}
	ck_assert_uint_eq(fx_check_violations(&f), 0);
}
END_TEST

typedef struct pacer {
	pthread_barrier_t *barrier;
	char label[8];
	int rc;
} pacer;

static void *pace_one(void *arg)
{
	pacer *p = arg;
	booking_ctx c = fx_customer("mallory");
	const char *one[] = {p->label};
	booking_reservation *r = NULL;
	pthread_barrier_wait(p->barrier);
	p->rc = booking_hold(&r, f.bk, &c, f.showtime_id, one, 1);
	booking_reservation_free(r);
	return NULL;
}

START_TEST(racing_holds_of_one_user_get_exactly_the_burst)
{
	enum { N = 12 };
	pthread_barrier_t barrier;
	pthread_barrier_init(&barrier, NULL, N);
	pthread_t t[N];
	pacer p[N];
	for (int i = 0; i < N; i++) {
		p[i] = (pacer){&barrier, "", -1};
		snprintf(p[i].label, sizeof(p[i].label), "%s", seat_labels[i]);
		pthread_create(&t[i], NULL, pace_one, &p[i]);
	}
	int ok = 0, limited = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		ok += p[i].rc == 0;
		limited += p[i].rc == BOOKING_ERATE_LIMITED;
	}
	pthread_barrier_destroy(&barrier);
	/* the manual clock stands still: exactly the burst passes, shared state or not */
	ck_assert_int_eq(ok, 3);
	ck_assert_int_eq(limited, N - 3);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("fairness");
	TCase *tc = tcase_create("waitlist");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, returned_seats_go_to_the_parties_in_join_order);
	tcase_add_test(tc, a_party_passed_over_too_often_stops_the_line);
	tcase_add_test(tc, an_offer_that_runs_out_passes_to_the_next);
	tcase_add_test(tc, paying_an_offer_fulfils_the_entry);
	tcase_add_test(tc, one_entry_per_user_and_leaving_gives_an_offer_up);
	tcase_add_test(tc, joining_while_seats_are_free_is_offered_at_once);
	tcase_add_test(tc, racing_returns_offer_each_seat_to_one_party_in_order);
	tcase_add_test(tc, the_checker_sees_a_list_its_events_did_not_leave);
	suite_add_tcase(s, tc);
	TCase *live = tcase_create("live_holds");
	tcase_add_checked_fixture(live, setup_live, teardown);
	tcase_set_timeout(live, 60);
	tcase_add_test(live, a_buyer_has_at_most_the_live_hold_limit);
	suite_add_tcase(s, live);
	TCase *rate = tcase_create("rate");
	tcase_add_checked_fixture(rate, setup_rate, teardown);
	tcase_set_timeout(rate, 60);
	tcase_add_test(rate, holds_are_paced_per_user_and_per_client_key);
	tcase_add_test(rate, a_payment_replay_is_not_paced);
	tcase_add_test(rate, racing_holds_of_one_user_get_exactly_the_burst);
	suite_add_tcase(s, rate);
	return s;
}

int main(void)
{
	return fx_run(suite());
}
