/*
 * Unit tests: every error a user can hit, triggered for real, table-driven.
 * Each row checks the code's stable name, the thread's last error, its HTTP
 * status and its JSON form.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#define UNKNOWN_ID "01900000-0000-7000-8000-000000000000"

/* --- a lock manager that always finds the keys taken ------------------- */

typedef struct busy_locks {
	booking_lock_manager parent;
	booking_lock_manager *inner; /* a real memory: manager for release/extend */
	int attempts;
} busy_locks;

static void bl_free(booking_lock_manager *lm)
{
	busy_locks *b = (busy_locks *)(void *)lm;
	b->inner->free(b->inner);
	free(b);
}

static int bl_acquire(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner, int64_t ttl)
{
	busy_locks *b = (busy_locks *)(void *)lm;
	(void)keys;
	(void)n;
	(void)owner;
	(void)ttl;
	__atomic_add_fetch(&b->attempts, 1, __ATOMIC_SEQ_CST);
	return booking_error_set(BOOKING_ELOCKED, NULL, "every key is held by another owner");
}

static int bl_release(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner)
{
	busy_locks *b = (busy_locks *)(void *)lm;
	return b->inner->release_all(b->inner, keys, n, owner);
}

static int bl_extend(booking_lock_manager *lm, const char *const *keys, size_t n, const char *owner, int64_t ttl)
{
	busy_locks *b = (busy_locks *)(void *)lm;
	return b->inner->extend(b->inner, keys, n, owner, ttl);
}

static busy_locks *busy_locks_new(const booking_clock *clock)
{
	busy_locks *b = calloc(1, sizeof(*b));

	ck_assert_ok(booking_lock_manager_open(&b->inner, "memory:", clock));
	b->parent.version = BOOKING_LOCK_MANAGER_VERSION;
	b->parent.free = bl_free;
	b->parent.acquire_all = bl_acquire;
	b->parent.release_all = bl_release;
	b->parent.extend = bl_extend;
	return b;
}

/* --- a gateway whose charges wait until the test lets them go ---------- */

typedef struct gate_state {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int entered;
	bool open;
} gate_state;

static void wait_at_the_gate(fx_gateway_wrap *g, const booking_charge_request *req)
{
	gate_state *s = g->user;
	struct timespec deadline;

	(void)req;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10; /* never hang the suite */
	pthread_mutex_lock(&s->mu);
	s->entered++;
	pthread_cond_broadcast(&s->cv);
	while (!s->open && pthread_cond_timedwait(&s->cv, &s->mu, &deadline) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&s->mu);
}

static gate_state gate_s = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};

static void gate_wait_entered(int n)
{
	struct timespec deadline;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_mutex_lock(&gate_s.mu);
	while (gate_s.entered < n && pthread_cond_timedwait(&gate_s.cv, &gate_s.mu, &deadline) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&gate_s.mu);
	ck_assert_int_ge(gate_s.entered, n);
}

static void gate_open(void)
{
	pthread_mutex_lock(&gate_s.mu);
	gate_s.open = true;
	pthread_cond_broadcast(&gate_s.cv);
	pthread_mutex_unlock(&gate_s.mu);
}

/* --- the table --------------------------------------------------------- */

static fx f;

typedef struct pay_arg {
	const char *reservation_id;
	const char *key;
	int rc;
} pay_arg;

static void *pay_thread(void *p)
{
	pay_arg *a = p;
	a->rc = fx_pay(&f, NULL, "alice", a->reservation_id, a->key, FX_CARD_OK);
	return NULL;
}

static int t_validation(void)
{
	booking_ctx alice = fx_customer("alice");
	return booking_hold(NULL, f.bk, &alice, f.showtime_id, NULL, 0);
}

static int t_unauthorized(void)
{
	booking_ctx nobody = fx_anonymous();
	const char *seat = "A1";
	return booking_hold(NULL, f.bk, &nobody, f.showtime_id, &seat, 1);
}

static int t_forbidden(void)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx bob = fx_customer("bob");

	fx_hold_ok(&f, "alice", "A1", b);
	return booking_reservation_cancel(NULL, f.bk, &bob, b);
}

static int t_movie_not_found(void)
{
	booking_ctx anon = fx_anonymous();
	booking_movie *m = NULL;
	return booking_movie_get(&m, f.bk, &anon, UNKNOWN_ID);
}

static int t_theater_not_found(void)
{
	booking_ctx anon = fx_anonymous();
	booking_theater *t = NULL;
	return booking_theater_get(&t, f.bk, &anon, UNKNOWN_ID);
}

static int t_screen_not_found(void)
{
	booking_ctx anon = fx_anonymous();
	booking_screen *s = NULL;
	return booking_screen_get(&s, f.bk, &anon, UNKNOWN_ID);
}

static int t_showtime_not_found(void)
{
	booking_ctx alice = fx_customer("alice");
	const char *seat = "A1";
	return booking_hold(NULL, f.bk, &alice, UNKNOWN_ID, &seat, 1);
}

static int t_booking_not_found(void)
{
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;
	return booking_reservation_get(&r, f.bk, &alice, UNKNOWN_ID);
}

static int t_payment_not_found(void)
{
	booking_ctx alice = fx_customer("alice");
	booking_payment *p = NULL;
	return booking_payment_get(&p, f.bk, &alice, UNKNOWN_ID);
}

static int t_seat_already_booked(void)
{
	fx_hold_ok(&f, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	return fx_hold(&f, NULL, "bob", "A1");
}

static int t_invalid_state(void)
{
	char b[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	fx_hold_ok(&f, "alice", "A1", b);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_OK));
	return booking_reservation_cancel(NULL, f.bk, &alice, b);
}

static int t_expired(void)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b);
	fx_advance(&f, 15 * FX_MINUTE);
	return fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_OK);
}

static int t_declined(void)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b);
	return fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_DECLINED);
}

static void with_gate(booking_options *o)
{
	fx_gateway_wrap *g = fx_gateway_wrap_new();

	g->before_charge = wait_at_the_gate;
	g->user = &gate_s;
	o->gateway = &g->parent;
}

static int t_in_progress(void)
{
	char b[BOOKING_ID_SIZE];
	pthread_t t;
	pay_arg first;
	int rc;

	fx_hold_ok(&f, "alice", "A1", b);
	first.reservation_id = b;
	first.key = "checkout-1";
	pthread_create(&t, NULL, pay_thread, &first);
	gate_wait_entered(1); /* the first call is at the gateway */
	rc = fx_pay(&f, NULL, "alice", b, "checkout-1", FX_CARD_OK);
	{
		/* keep this thread's error while the first call finishes */
		int code = booking_error_last()->code;
		gate_open();
		pthread_join(t, NULL);
		ck_assert_ok(first.rc);
		ck_assert_int_eq(code, rc);
	}
	ck_assert_uint_eq(fx_payment_count(&f), 1);
	return rc;
}

static int t_key_reused(void)
{
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b1);
	fx_hold_ok(&f, "alice", "A2", b2);
	ck_assert_ok(fx_pay(&f, NULL, "alice", b1, "k1", FX_CARD_OK));
	return fx_pay(&f, NULL, "alice", b2, "k1", FX_CARD_OK);
}

static busy_locks *busy;

static void with_busy_locks(booking_options *o)
{
	busy = busy_locks_new(NULL); /* its inner manager only serves release/extend */
	o->lock_manager = &busy->parent;
}

static int t_lock_failed(void)
{
	int rc = fx_hold(&f, NULL, "alice", "A1");
	int code = booking_error_last()->code;

	ck_assert_int_gt(busy->attempts, 1); /* it retried */
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_int_eq(code, rc);
	return rc;
}

static int t_external(void)
{
	char b[BOOKING_ID_SIZE];

	fx_hold_ok(&f, "alice", "A1", b);
	return fx_pay(&f, NULL, "alice", b, "k1", FX_CARD_TIMEOUT);
}

static int t_deadline(void)
{
	booking_ctx alice = fx_customer("alice");
	const char *seat = "A1";

	alice.deadline_ms = booking_now(f.bk) - 1;
	return booking_hold(NULL, f.bk, &alice, f.showtime_id, &seat, 1);
}

typedef struct error_case {
	const char *name;
	int (*trigger)(void);
	void (*configure)(booking_options *o); /* set before the handle opens; may be NULL */
} error_case;

static const error_case cases[] = {
	{"VALIDATION_ERROR", t_validation, NULL},
	{"UNAUTHORIZED", t_unauthorized, NULL},
	{"FORBIDDEN", t_forbidden, NULL},
	{"MOVIE_NOT_FOUND", t_movie_not_found, NULL},
	{"THEATER_NOT_FOUND", t_theater_not_found, NULL},
	{"SCREEN_NOT_FOUND", t_screen_not_found, NULL},
	{"SHOWTIME_NOT_FOUND", t_showtime_not_found, NULL},
	{"RESERVATION_NOT_FOUND", t_booking_not_found, NULL},
	{"PAYMENT_NOT_FOUND", t_payment_not_found, NULL},
	{"SEAT_ALREADY_BOOKED", t_seat_already_booked, NULL},
	{"INVALID_STATE", t_invalid_state, NULL},
	{"RESERVATION_EXPIRED", t_expired, NULL},
	{"PAYMENT_DECLINED", t_declined, NULL},
	{"PAYMENT_IN_PROGRESS", t_in_progress, with_gate},
	{"IDEMPOTENCY_KEY_REUSED", t_key_reused, NULL},
	{"LOCK_ACQUISITION_FAILED", t_lock_failed, with_busy_locks},
	{"EXTERNAL_SERVICE_ERROR", t_external, NULL},
	{"SERVICE_UNAVAILABLE", t_deadline, NULL},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

START_TEST(user_error_has_its_stable_code)
{
	const error_case *c = &cases[_i];
	booking_options o;
	json_error_t jerr;
	json_t *root;
	char *json;
	int rc;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	if (c->configure)
		c->configure(&o);
	fx_open(&f, &o);
	fx_seed(&f);
	booking_error_clear();
	rc = c->trigger();
	ck_assert_code(rc, c->name);
	ck_assert_int_eq(booking_error_last()->code, rc);
	ck_assert_str_eq(booking_error_last()->name, c->name);
	ck_assert_int_eq(booking_error_from_name(c->name), rc);
	ck_assert_int_ge(booking_error_http_status(rc), 400);
	ck_assert_ok(booking_error_to_json(&json, NULL));
	root = json_loads(json, 0, &jerr);
	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(root, "error"), "code")), c->name);
	json_decref(root);
	booking_free(json);
	fx_close(&f);
	busy = NULL;
}
END_TEST

/* Misuse a host can make: NULL arguments answer an error (any), never crash. */
START_TEST(null_arguments_are_refused_without_crashing)
{
	booking_ctx alice = fx_customer("alice"), admin = fx_admin();
	const char *with_null[2] = {"A1", NULL};
	booking_reservation *r = NULL;
	booking_payment *p = NULL;
	booking_movie *m = NULL;
	booking_seat_map *map = NULL;
	booking_check_report *rep = NULL;
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	char b[BOOKING_ID_SIZE];

	fx_setup(&f);
	fx_hold_ok(&f, "alice", "B1", b);
	ck_assert_int_lt(booking_hold(&r, f.bk, NULL, f.showtime_id, with_null, 1), 0);
	ck_assert_int_lt(booking_hold(&r, f.bk, &alice, NULL, with_null, 1), 0);
	ck_assert_int_lt(booking_hold(&r, f.bk, &alice, f.showtime_id, with_null, 2), 0);
	ck_assert_int_lt(booking_hold(&r, NULL, &alice, f.showtime_id, with_null, 1), 0);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(fx_seat_status(&f, "A1"), BOOKING_SEAT_FREE);
	ck_assert_int_lt(booking_reservation_get(&r, f.bk, &alice, NULL), 0);
	ck_assert_int_lt(booking_reservation_cancel(&r, f.bk, &alice, NULL), 0);
	ck_assert_int_lt(booking_reservation_cancel(&r, f.bk, NULL, b), 0);
	ck_assert_int_lt(booking_pay(&p, f.bk, &alice, NULL, "k", FX_CARD_OK), 0);
	ck_assert_int_lt(booking_pay(&p, f.bk, NULL, b, "k", FX_CARD_OK), 0);
	ck_assert_int_lt(booking_payment_get(&p, f.bk, &alice, NULL), 0);
	ck_assert_int_lt(booking_payment_refund(&p, f.bk, &admin, NULL), 0);
	ck_assert_ptr_null(p);
	ck_assert_int_lt(booking_movie_get(&m, f.bk, &alice, NULL), 0);
	ck_assert_int_lt(booking_movie_create(&m, f.bk, NULL, "T", 90), 0);
	ck_assert_int_lt(booking_seat_map_get(&map, f.bk, &alice, NULL), 0);
	ck_assert_int_lt(booking_expire_due(NULL, f.bk, NULL, 10), 0);
	ck_assert_int_lt(booking_payment_recover(NULL, f.bk, NULL, 0), 0);
	ck_assert_int_lt(booking_consume(NULL, f.bk, NULL, NULL, NULL), 0);
	ck_assert_int_lt(booking_consume(NULL, f.bk, &co, NULL, NULL), 0);
	ck_assert_int_lt(booking_check(&rep, NULL), 0);
	ck_assert_int_lt(booking_notify(NULL, f.bk, NULL, NULL), 0);
	ck_assert_int_lt(booking_outbox_relay(NULL, NULL, 10), 0);
	/* the store still holds what it held */
	ck_assert_int_eq(fx_seat_status(&f, "B1"), BOOKING_SEAT_HELD);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	booking_reservation_free(NULL);
	booking_payment_free(NULL);
	booking_movie_free(NULL);
	booking_seat_map_free(NULL);
	booking_check_report_free(NULL);
	booking_dead_letter_list_free(NULL);
	booking_close(NULL);
	fx_close(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("error_paths");
	TCase *tc = tcase_create("error_paths");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, user_error_has_its_stable_code, 0, (int)NCASES);
	tcase_add_test(tc, null_arguments_are_refused_without_crashing);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
