/*
 * libbooking resilience tests — PostgreSQL faults, on a server main()
 * starts (scripts/pg-server.sh) and the tests stop, start and disturb:
 *
 *  - backend connections terminated (pg_terminate_backend() from a psql
 *    session, again and again) while eight buyers hold and pay: every
 *    payment is either fully recorded or absent, recovery settles the
 *    interrupted ones, and a retry with the same idempotency key gives the
 *    single right answer; booking_check finds nothing;
 *  - the server stopped (pg_ctl stop -m immediate): calls fail with
 *    SERVICE_UNAVAILABLE within their deadline; after N failures the store's
 *    circuit opens and calls are refused at once (< 50 ms) without trying;
 *    the server started again, after the recovery time the circuit closes
 *    and calls succeed; booking_check finds nothing.
 *
 * The second test runs on the system clock: deadlines and the recovery time
 * are real time there.
 * SPDX-License-Identifier: MIT
 */
#include "fault.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static char pg_dir[256], pg_url[512];

static bool refused_by_breaker(void)
{
	const booking_error *e = booking_error_last();
	return e->code == BOOKING_EUNAVAILABLE && strstr(e->details_json, "\"circuit_open\"") != NULL;
}

/* ------------------------------------------------------------------ */
/* Connections terminated in the middle of payments                      */

#define THREADS 8
#define PER_THREAD 15
#define KILL_EVERY_MS 80
#define PAYMENTS (THREADS * PER_THREAD)

typedef struct pay_rec {
	char user[16];
	char reservation_id[BOOKING_ID_SIZE]; /* "" when the hold failed */
	char key[24];
	const char *card;
	int hold_rc, pay_rc;
} pay_rec;

typedef struct run {
	fx *f;
	char showtime[BOOKING_ID_SIZE];
	pay_rec recs[PAYMENTS];
	atomic_bool stop;
	atomic_int terminated, rounds, hold_retries;
} run;

typedef struct worker {
	run *r;
	int t;
} worker;

static void *buyer(void *p)
{
	worker *w = p;
	run *r = w->r;
	for (int j = 0; j < PER_THREAD; j++) {
		int i = w->t * PER_THREAD + j;
		pay_rec *rec = &r->recs[i];
		char label[8];
		const char *labels[1] = {label};
		booking_reservation *b = NULL;
		snprintf(label, sizeof(label), "%c%d", 'A' + i / 20, i % 20 + 1);
		snprintf(rec->user, sizeof(rec->user), "buyer%d", w->t);
		snprintf(rec->key, sizeof(rec->key), "pay-%d", i);
		rec->card = i % 5 == 4 ? FX_CARD_LOST_REPLY : FX_CARD_OK;
		booking_ctx ctx = fx_customer(rec->user);
		/* a client retries a hold that met a dead connection (the hold had no effect then, or it is its own) */
		for (int tries = 0; tries < 3; tries++) {
			rec->hold_rc = booking_hold(&b, r->f->bk, &ctx, r->showtime, labels, 1);
			if (rec->hold_rc != BOOKING_EUNAVAILABLE)
				break;
			atomic_fetch_add(&r->hold_retries, 1);
		}
		if (rec->hold_rc == BOOKING_ESEAT_ALREADY_BOOKED)
			continue; /* an earlier try committed before its reply was lost: the seat is ours but unknown */
		if (rec->hold_rc == 0) {
			snprintf(rec->reservation_id, sizeof(rec->reservation_id), "%s", b->id);
			booking_reservation_free(b);
			rec->pay_rc = booking_pay(NULL, r->f->bk, &ctx, rec->reservation_id, rec->key, rec->card);
		}
	}
	return NULL;
}

/* A psql session that kills every client backend of the database, every KILL_EVERY_MS. */
static void *killer(void *p)
{
	run *r = p;
	char out[400];
	snprintf(out, sizeof(out), "%s/terminated.txt", pg_dir);
	FILE *psql = ft_psql_open(pg_dir, out);
	while (!atomic_load(&r->stop)) {
		ft_psql_terminate(psql);
		atomic_fetch_add(&r->rounds, 1);
		usleep(KILL_EVERY_MS * 1000);
	}
	atomic_store(&r->terminated, (int)ft_psql_close(psql, out));
	return NULL;
}

/* Widen the window between the two store transactions of a payment. */
static void slow_charge(fx_gateway_wrap *g, const booking_charge_request *req)
{
	(void)g;
	(void)req;
	usleep(2000);
}

/* fx_open on `url` with the store opened here: f->store is it, borrowed, for direct reads (scans). */
static void open_on(fx *f, booking_options *o, const char *url)
{
	booking_store *st = NULL;
	ck_assert_ok(booking_store_open(&st, url, o->clock));
	o->store = st;
	fx_open(f, o);
	o->store = NULL;
	f->store = st;
	snprintf(f->url, sizeof(f->url), "%s", url);
}

static size_t processing_count(fx *f)
{
	ft_money m;
	ft_money_of(f, &m);
	return m.processing;
}

START_TEST(terminated_connections_leave_each_payment_whole_or_absent)
{
	static run r;
	fx f;
	booking_options o;
	char url[500];
	pthread_t threads[THREADS], kt;
	worker workers[THREADS];
	booking_ctx sys = fx_system();

	fx_gateway_wrap *gw = fx_gateway_wrap_new();
	gw->before_charge = slow_charge;
	fx_fresh_url(url, sizeof(url), pg_url, NULL, 0);
	size_t at = strlen(url);
	snprintf(url + at, sizeof(url) - at, "%cpool=12", strchr(url, '?') ? '&' : '?');
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.gateway = &gw->parent;
	o.gateway_retry_delay_ms = 5;
	o.circuit_breaker_failure_threshold = 20;
	o.circuit_breaker_recovery_seconds = 10;
	o.payment_window_seconds = 900;
	open_on(&f, &o, url);
	fx_seed(&f);
	memset(&r, 0, sizeof(r));
	r.f = &f;
	ft_big_showtime(&f, "A-F:20", r.showtime);

	int64_t t0 = ft_mono_ms();
	pthread_create(&kt, NULL, killer, &r);
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (worker){&r, t};
		pthread_create(&threads[t], NULL, buyer, &workers[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	atomic_store(&r.stop, true);
	pthread_join(kt, NULL);
	int64_t wall = ft_mono_ms() - t0;

	int holds_ok = 0, holds_unavailable = 0, holds_taken = 0, paid = 0, pay_unavailable = 0, pay_other = 0;
	for (int i = 0; i < PAYMENTS; i++) {
		pay_rec *rec = &r.recs[i];
		if (rec->hold_rc == 0)
			holds_ok++;
		else if (rec->hold_rc == BOOKING_EUNAVAILABLE)
			holds_unavailable++;
		else if (rec->hold_rc == BOOKING_ESEAT_ALREADY_BOOKED)
			holds_taken++;
		else
			ck_abort_msg("hold %d: %s", i, booking_error_name(rec->hold_rc));
		if (rec->hold_rc != 0)
			continue;
		if (rec->pay_rc == 0)
			paid++;
		else if (rec->pay_rc == BOOKING_EUNAVAILABLE || rec->pay_rc == BOOKING_EEXTERNAL)
			pay_unavailable++;
		else
			pay_other++;
	}

	/* recovery settles what was interrupted (a pass after each recovery time, should the circuit be open) */
	int passes = 0;
	size_t resolved_total = 0;
	for (; passes < 10 && processing_count(&f) > 0; passes++) {
		size_t resolved = 0;
		fx_advance(&f, 10 * FX_SECOND);
		int rc = booking_payment_recover(&resolved, f.bk, &sys, 0);
		ck_assert_msg(rc == 0 || rc == BOOKING_EUNAVAILABLE, "recover: %s", booking_error_name(rc));
		resolved_total += resolved;
	}
	ck_assert_uint_eq(processing_count(&f), 0);

	/* a retry of each payment with its key: the single right answer */
	int retried_ok = 0, retried_failed = 0, absent = 0, recorded = 0;
	for (int i = 0; i < PAYMENTS; i++) {
		pay_rec *rec = &r.recs[i];
		if (!rec->reservation_id[0])
			continue;
		booking_payment before[4], after[4], *p = NULL;
		size_t n_before = fx_payments_of(&f, rec->reservation_id, before, 4);
		ck_assert_uint_le(n_before, 1);
		if (n_before)
			recorded++;
		else
			absent++;
		if (rec->pay_rc == 0)
			ck_assert_msg(n_before == 1 && before[0].status == BOOKING_PAYMENT_SUCCEEDED,
			              "payment %d answered success but is not recorded as such", i);
		booking_ctx ctx = fx_customer(rec->user);
		int rc = booking_pay(&p, f.bk, &ctx, rec->reservation_id, rec->key, rec->card);
		for (int tries = 0; (rc == BOOKING_EUNAVAILABLE || rc == BOOKING_EEXTERNAL) && processing_count(&f) && tries < 5;
		     tries++) {
			/* a retry for a key never used before is a new payment; a lost reply card leaves it to recovery */
			fx_advance(&f, 10 * FX_SECOND);
			ck_assert_ok(booking_payment_recover(NULL, f.bk, &sys, 0));
			booking_payment_free(p);
			p = NULL;
			rc = booking_pay(&p, f.bk, &ctx, rec->reservation_id, rec->key, rec->card);
		}
		size_t n_after = fx_payments_of(&f, rec->reservation_id, after, 4);
		ck_assert_uint_eq(n_after, 1); /* one key, one payment */
		if (n_before == 1)
			ck_assert_str_eq(after[0].id, before[0].id);
		if (after[0].status == BOOKING_PAYMENT_SUCCEEDED) {
			ck_assert_msg(rc == 0, "payment %d succeeded, its retry answered %s", i, booking_error_name(rc));
			ck_assert_str_eq(p->id, after[0].id);
			retried_ok++;
		} else {
			ck_assert_msg(rc < 0, "payment %d is %s, its retry answered success", i,
			              booking_payment_status_name(after[0].status));
			retried_failed++;
		}
		booking_payment_free(p);
		booking_reservation *b = fx_booking(&f, rec->reservation_id);
		ck_assert_int_eq(b->status == BOOKING_RESERVATION_CONFIRMED, after[0].status == BOOKING_PAYMENT_SUCCEEDED);
		booking_reservation_free(b);
	}
	ft_money m;
	ft_money_of(&f, &m);
	ck_assert_int_eq(m.succeeded_amount - m.refunded_amount, m.confirmed_total);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fprintf(stderr,
	        "pg_terminate_backend during payments: %d rounds terminated %d backends in %lld ms\n"
	        "  holds: %d ok, %d SERVICE_UNAVAILABLE after 3 tries, %d SEAT_ALREADY_BOOKED on a retry (%d retried);\n"
	        "  payments: %d paid, %d unavailable/unknown, %d other\n"
	        "  recovery: %d pass(es) resolved %zu; %d payments were absent (never begun), %d recorded;\n"
	        "  retries with the same key: %d succeeded, %d answered the failure\n"
	        "  store retries %.0f, store circuit opened %.0f time(s); final %zu succeeded, %zu failed, %zu confirmed,"
	        " money %lld - %lld = %lld\n",
	        atomic_load(&r.rounds), atomic_load(&r.terminated), (long long)wall, holds_ok, holds_unavailable,
	        holds_taken, atomic_load(&r.hold_retries), paid,
	        pay_unavailable, pay_other, passes, resolved_total, absent, recorded, retried_ok, retried_failed,
	        ft_metric(f.bk, "booking_retries_total{dependency=\"store\"}"),
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"OPEN\"}"), m.succeeded,
	        m.failed, m.confirmed, (long long)m.succeeded_amount, (long long)m.refunded_amount,
	        (long long)m.confirmed_total);
	fx_close(&f);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The server stopped, then started again                                */

#define THRESHOLD 3

static int64_t opened_at(booking_handle *bk)
{
	char *text = NULL;
	ck_assert_ok(booking_health(&text, bk));
	json_error_t err;
	json_t *h = json_loads(text, 0, &err);
	int64_t at = json_integer_value(json_object_get(json_object_get(json_object_get(h, "dependencies"), "store"), "opened_at"));
	json_decref(h);
	booking_free(text);
	return at;
}

START_TEST(a_stopped_server_opens_the_circuit_and_a_restarted_one_closes_it)
{
	fx f;
	booking_options o;
	char url[500], state[16], b[BOOKING_ID_SIZE];
	int64_t failing_ms[THRESHOLD], fast_max = 0;

	/* the system clock: deadlines and the recovery time are real time */
	memset(&f, 0, sizeof(f));
	fx_fresh_url(url, sizeof(url), pg_url, NULL, 0);
	size_t at = strlen(url); /* libpq's connect_timeout, the store's statement_timeout */
	snprintf(url + at, sizeof(url) - at, "%cconnect_timeout=2&statement_timeout=5", strchr(url, '?') ? '&' : '?');
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.log_level = BOOKING_LOG_CRITICAL;
	o.circuit_breaker_failure_threshold = THRESHOLD;
	o.circuit_breaker_recovery_seconds = 10;
	ck_assert_ok(booking_store_open(&f.store, url, o.clock));
	o.store = f.store; /* the handle wraps it; f.store stays for direct reads */
	ck_assert_ok(booking_open(&f.bk, &o));
	snprintf(f.url, sizeof(f.url), "%s", url);
	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1", b);
	fx_hold_ok(&f, "alice", "A2", b);

	/*
	 * pg-server.sh runs the server with synchronous_commit=off (speed): a
	 * commit reaches the WAL within wal_writer_delay (200 ms). Let it, so
	 * the crash below loses nothing the test relies on.
	 */
	usleep(600000);
	ft_pg_stop_immediate(pg_dir);
	booking_ctx bob = fx_customer("bob");
	const char *labels[] = {"B1"};
	/* the first N reach the store and fail with its error, within their deadline */
	for (int i = 0; i < THRESHOLD; i++) {
		bob.deadline_ms = booking_now(f.bk) + 3000;
		int64_t t0 = ft_mono_ms();
		int rc = booking_hold(NULL, f.bk, &bob, f.showtime_id, labels, 1);
		failing_ms[i] = ft_mono_ms() - t0;
		ck_assert_code(rc, "SERVICE_UNAVAILABLE");
		ck_assert_msg(!refused_by_breaker(), "failure %d came from the breaker: %s", i, booking_error_last()->message);
		ck_assert_int_lt(booking_now(f.bk), bob.deadline_ms);
	}
	char first_error[300];
	snprintf(first_error, sizeof(first_error), "%s", booking_error_last()->message);
	ft_breaker_state(f.bk, "store", state);
	ck_assert_str_eq(state, "OPEN");
	/* then: refused at once, without trying */
	booking_ctx alice = fx_customer("alice");
	for (int i = 0; i < 20; i++) {
		booking_reservation *r = NULL;
		int64_t t0 = ft_mono_ms();
		int rc = i % 2 ? booking_hold(NULL, f.bk, &bob, f.showtime_id, labels, 1)
		               : booking_reservation_get(&r, f.bk, &alice, b);
		int64_t ms = ft_mono_ms() - t0;
		ck_assert_code(rc, "SERVICE_UNAVAILABLE");
		ck_assert_msg(refused_by_breaker(), "call %d was not refused by the breaker: %s", i,
		              booking_error_last()->message);
		if (ms > fast_max)
			fast_max = ms;
	}
	/* the breaker (checked above) answers without a connect attempt; loose bound, no timing test */
	ck_assert_msg(fast_max < 1000, "a refusal took %lld ms", (long long)fast_max);
	double rejected = ft_metric(f.bk, "booking_backend_calls_total{dependency=\"store\",op=\"hold\",result=\"rejected\"}") +
	                  ft_metric(f.bk, "booking_backend_calls_total{dependency=\"store\",op=\"reservation_get\",result=\"rejected\"}");
	ck_assert_int_eq((int)rejected, 20);
	/* a passed deadline: refused before anything */
	bob.deadline_ms = booking_now(f.bk) - 1;
	ck_assert_code(booking_hold(NULL, f.bk, &bob, f.showtime_id, labels, 1), "SERVICE_UNAVAILABLE");

	/* the server comes back; the circuit stays open until the recovery time has passed */
	int64_t t_restart = ft_mono_ms();
	ft_pg_restart(pg_dir);
	int64_t restart_ms = ft_mono_ms() - t_restart;
	bob.deadline_ms = 0;
	int64_t reopen = opened_at(f.bk) + 10 * FX_SECOND;
	if (booking_now(f.bk) < reopen - 200) {
		ck_assert_code(booking_hold(NULL, f.bk, &bob, f.showtime_id, labels, 1), "SERVICE_UNAVAILABLE");
		ck_assert(refused_by_breaker());
	}
	while (booking_now(f.bk) < reopen)
		usleep(50000);
	int64_t t_close = ft_mono_ms();
	booking_reservation *r = NULL;
	ck_assert_ok(booking_reservation_get(&r, f.bk, &alice, b)); /* the trial call */
	booking_reservation_free(r);
	ft_breaker_state(f.bk, "store", state);
	ck_assert_str_eq(state, "HALF_OPEN");
	fx_hold_ok(&f, "bob", "B1", b);
	ft_breaker_state(f.bk, "store", state);
	ck_assert_str_eq(state, "CLOSED");
	fx_hold_ok(&f, "bob", "B2", b);
	ck_assert_uint_eq(fx_check_violations(&f), 0);

	fprintf(stderr,
	        "postgresql stopped (immediate) and started again:\n"
	        "  the first %d calls failed with the store's error in %lld, %lld, %lld ms (\"%s\")\n"
	        "  then 20 calls refused by the open circuit, slowest %lld ms\n"
	        "  restart took %lld ms; circuit closed %lld ms after the trial call began;"
	        " transitions OPEN %.0f, HALF_OPEN %.0f, CLOSED %.0f\n",
	        THRESHOLD, (long long)failing_ms[0], (long long)failing_ms[1], (long long)failing_ms[2], first_error,
	        (long long)fast_max, (long long)restart_ms, (long long)(ft_mono_ms() - t_close),
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"OPEN\"}"),
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"HALF_OPEN\"}"),
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"store\",to=\"CLOSED\"}"));
	booking_close(f.bk);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fault_postgresql");
	TCase *tc = tcase_create("postgresql");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, terminated_connections_leave_each_payment_whole_or_absent);
	tcase_add_test(tc, a_stopped_server_opens_the_circuit_and_a_restarted_one_closes_it);
	suite_add_tcase(s, tc);
	if (!ft_pg_start(pg_dir, sizeof(pg_dir), pg_url, sizeof(pg_url)))
		return 1;
	int rc = fx_run(s);
	ft_pg_destroy(pg_dir);
	return rc;
}
