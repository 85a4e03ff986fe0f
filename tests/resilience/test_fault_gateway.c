/*
 * libbooking resilience tests — gateway timeouts and lost replies.
 *
 * Eight buyers pay at once with a mix of cards: good ones, declined ones,
 * 4000000000000119 (the gateway times out before charging) and
 * 4000000000000259 (it charges, then every reply is lost). Charges are
 * retried with the same key, the gateway's circuit opens under the
 * failures, and calls fail fast while it is open. Then recovery passes run
 * until no payment is left PROCESSING, and every outcome is compared with
 * what the gateway itself recorded: resolved, never guessed. A retry of each
 * payment with its key answers the one stored result, and the money adds
 * up (invariant 6). Runs on the store under test (BOOKING_TEST_STORE_URL).
 * SPDX-License-Identifier: MIT
 */
#include "fault.h"

#include <stdlib.h>

#define THREADS 8
#define MIXED 8    /* payments per buyer with a mix of cards: the gateway mostly answers */
#define OUTAGE 4   /* then only timeouts: the gateway is down */
#define DURING 2   /* then good cards, while the circuit is open */
#define PER_THREAD (MIXED + OUTAGE + DURING)
#define PAYMENTS (THREADS * PER_THREAD)

static const char *const cards[4] = {FX_CARD_OK, FX_CARD_TIMEOUT, FX_CARD_LOST_REPLY, FX_CARD_DECLINED};

typedef struct pay_rec {
	char user[16];
	char reservation_id[BOOKING_ID_SIZE];
	char key[24];
	const char *card;
	int rc;     /* what booking_pay answered first */
	int64_t ms; /* how long it took (wall time) */
} pay_rec;

typedef struct run {
	fx *f;
	char showtime[BOOKING_ID_SIZE];
	pay_rec recs[PAYMENTS];
	fx_rendezvous start;
	int phase, first, count; /* the payments of this phase: recs[t * PER_THREAD + first + j], j < count */
} run;

typedef struct worker {
	run *r;
	int t;
} worker;

static const char *card_of(int phase, int i)
{
	return phase == 0 ? cards[i % 4] : phase == 1 ? FX_CARD_TIMEOUT : FX_CARD_OK;
}

static void *buyer(void *p)
{
	worker *w = p;
	run *r = w->r;
	fx_rendezvous_wait(&r->start);
	for (int j = 0; j < r->count; j++) {
		int i = w->t * PER_THREAD + r->first + j;
		pay_rec *rec = &r->recs[i];
		char label[8];
		const char *labels[1] = {label};
		booking_reservation *b = NULL;
		snprintf(label, sizeof(label), "%c%d", 'A' + i / 20, i % 20 + 1);
		snprintf(rec->user, sizeof(rec->user), "buyer%d", w->t);
		snprintf(rec->key, sizeof(rec->key), "pay-%d", i);
		rec->card = card_of(r->phase, i);
		booking_ctx ctx = fx_customer(rec->user);
		int rc = booking_hold(&b, r->f->bk, &ctx, r->showtime, labels, 1);
		ck_assert_msg(rc == 0, "hold %s: %s", label, booking_error_name(rc));
		snprintf(rec->reservation_id, sizeof(rec->reservation_id), "%s", b->id);
		booking_reservation_free(b);
		int64_t t0 = ft_mono_ms();
		rec->rc = booking_pay(NULL, r->f->bk, &ctx, rec->reservation_id, rec->key, rec->card);
		rec->ms = ft_mono_ms() - t0;
	}
	return NULL;
}

static void run_phase(run *r, int phase, int first, int count)
{
	pthread_t threads[THREADS];
	worker workers[THREADS];
	r->phase = phase;
	r->first = first;
	r->count = count;
	fx_rendezvous_init(&r->start, THREADS, 5000);
	for (int t = 0; t < THREADS; t++) {
		workers[t] = (worker){r, t};
		pthread_create(&threads[t], NULL, buyer, &workers[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);
	fx_rendezvous_destroy(&r->start);
}

/* What the gateway itself knows of the charge made with `key`: 1 charged, 0 declined, -1 never charged. */
static int gateway_truth(fx_gateway_wrap *gw, const char *key)
{
	booking_charge_result res;
	memset(&res, 0, sizeof(res));
	int rc = gw->inner->lookup(&res, gw->inner, key);
	if (rc == BOOKING_ENOTFOUND)
		return -1;
	ck_assert_ok(rc);
	return res.status == BOOKING_CHARGE_SUCCEEDED ? 1 : 0;
}

START_TEST(interrupted_payments_are_resolved_by_recovery_and_the_money_adds_up)
{
	static run r;
	fx f;
	booking_options o;
	fx_gateway_wrap *gw = fx_gateway_wrap_new();
	booking_ctx sys = fx_system();
	char state[16];

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);

	o.payment_key_file = fx_payment_key_file();
	o.gateway = &gw->parent;
	o.gateway_retry_delay_ms = 5;
	o.circuit_breaker_failure_threshold = 5;
	o.circuit_breaker_recovery_seconds = 10;
	o.payment_window_seconds = 900;
	fx_open(&f, &o);
	fx_seed(&f);
	memset(&r, 0, sizeof(r));
	r.f = &f;
	ft_big_showtime(&f, "A-F:20", r.showtime);
	int64_t t0 = ft_mono_ms();
	run_phase(&r, 0, 0, MIXED);
	int charges_mixed = fx_gateway_charges(gw);
	run_phase(&r, 1, MIXED, OUTAGE);
	double opened = ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"gateway\",to=\"OPEN\"}");
	ck_assert_msg(opened >= 1, "the gateway's circuit opened under the timeouts");
	ft_breaker_state(f.bk, "gateway", state);
	ck_assert_str_eq(state, "OPEN");
	int charges_before = fx_gateway_charges(gw);
	run_phase(&r, 2, MIXED + OUTAGE, DURING);
	ck_assert_int_eq(fx_gateway_charges(gw), charges_before); /* an open circuit never calls the gateway */
	int64_t wall = ft_mono_ms() - t0;

	/* first answers, by phase and card */
	int by[4][5] = {{0}}; /* card × {ok, declined, external, unavailable, other} */
	int64_t slowest = 0, slowest_open = 0;
	for (int i = 0; i < PAYMENTS; i++) {
		int j = i % PER_THREAD, phase = j < MIXED ? 0 : j < MIXED + OUTAGE ? 1 : 2, rc = r.recs[i].rc;
		int c = r.recs[i].card == cards[0] ? 0 : r.recs[i].card == cards[1] ? 1 : r.recs[i].card == cards[2] ? 2 : 3;
		int k = rc == 0 ? 0 : rc == BOOKING_EPAYMENT_DECLINED ? 1 : rc == BOOKING_EEXTERNAL ? 2
		                                                     : rc == BOOKING_EUNAVAILABLE ? 3 : 4;
		by[c][k]++;
		ck_assert_msg(k != 4, "payment %d (%s) answered %s", i, cards[c], booking_error_name(rc));
		ck_assert_msg(!(c == 0 && k == 1) && !(c == 3 && k == 0), "payment %d (%s): %s", i, cards[c],
		              booking_error_name(rc));
		ck_assert_msg(!((c == 1 || c == 2) && (k == 0 || k == 1)), "an unknown outcome answered %s", booking_error_name(rc));
		if (phase == 2) {
			ck_assert_msg(rc == BOOKING_EUNAVAILABLE, "a payment while the circuit is open: %s", booking_error_name(rc));
			if (r.recs[i].ms > slowest_open)
				slowest_open = r.recs[i].ms;
		}
		if (r.recs[i].ms > slowest)
			slowest = r.recs[i].ms;
	}
	/* behaviour, not speed: a refused call neither reaches the gateway (counted above) nor waits
	 * out a retry delay (1 s); the bound is loose so a loaded machine cannot fail it */
	ck_assert_msg(slowest_open < 1000, "refused payments took up to %lld ms", (long long)slowest_open);
	double retries = ft_metric(f.bk, "booking_retries_total{dependency=\"gateway\"}");
	double rejected = ft_metric(f.bk, "booking_backend_calls_total{dependency=\"gateway\",op=\"charge\",result=\"rejected\"}");
	ck_assert_msg(retries > 0, "charges with unknown outcomes were retried");

	/* recovery passes, each after the recovery time, until nothing is left PROCESSING */
	ft_money m;
	int passes = 0;
	size_t resolved_total = 0;
	for (; passes < 20; passes++) {
		ft_money_of(&f, &m);
		if (m.processing == 0)
			break;
		fx_advance(&f, 10 * FX_SECOND);
		size_t resolved = 0;
		ck_assert_ok(booking_payment_recover(&resolved, f.bk, &sys, 0));
		resolved_total += resolved;
	}
	ck_assert_msg(m.processing == 0, "%zu payments still PROCESSING after %d recovery passes", m.processing, passes);
	ft_breaker_state(f.bk, "gateway", state);
	ck_assert_str_eq(state, "CLOSED");

	/* every outcome is what the gateway recorded; a retry with the key answers it */
	for (int i = 0; i < PAYMENTS; i++) {
		pay_rec *rec = &r.recs[i];
		booking_payment pays[4];
		ck_assert_uint_eq(fx_payments_of(&f, rec->reservation_id, pays, 4), 1);
		int truth = gateway_truth(gw, pays[0].id);
		if (truth == 1)
			ck_assert_msg(pays[0].status == BOOKING_PAYMENT_SUCCEEDED || pays[0].status == BOOKING_PAYMENT_REFUNDED,
			              "payment %d (%s) was charged but is %s", i, rec->card,
			              booking_payment_status_name(pays[0].status));
		else
			ck_assert_msg(pays[0].status == BOOKING_PAYMENT_FAILED, "payment %d (%s) was not charged but is %s", i,
			              rec->card, booking_payment_status_name(pays[0].status));
		if (rec->card == cards[1])
			ck_assert_int_eq(truth, -1); /* the timeout card never charges */
		booking_ctx ctx = fx_customer(rec->user);
		booking_payment *again = NULL;
		int rc = booking_pay(&again, f.bk, &ctx, rec->reservation_id, rec->key, rec->card);
		if (pays[0].status == BOOKING_PAYMENT_SUCCEEDED) {
			ck_assert_msg(rc == 0, "retry of a succeeded payment: %s", booking_error_name(rc));
			ck_assert_str_eq(again->id, pays[0].id);
		} else {
			ck_assert_msg(rc < 0, "retry of a %s payment succeeded", booking_payment_status_name(pays[0].status));
		}
		booking_payment_free(again);
		ck_assert_uint_eq(fx_payments_of(&f, rec->reservation_id, pays, 4), 1);
	}

	ft_money_of(&f, &m);
	ck_assert_int_eq(m.succeeded_amount - m.refunded_amount, m.confirmed_total);
	ck_assert_uint_eq(m.succeeded, m.confirmed);
	ck_assert_uint_eq(fx_check_violations(&f), 0);

	fprintf(stderr,
	        "gateway faults: %d payments by %d buyers in %lld ms (slowest %lld ms, slowest while open %lld ms;"
	        " %d charges in the mixed phase)\n"
	        "  first answers  ok: OK %d / SERVICE_UNAVAILABLE %d;  119 timeout: EXTERNAL %d / UNAVAILABLE %d;\n"
	        "                 259 lost reply: EXTERNAL %d / UNAVAILABLE %d;  declined: DECLINED %d / UNAVAILABLE %d\n"
	        "  gateway retries %.0f, circuit opened %.0f time(s), charges refused while open %.0f\n"
	        "  recovery: %d pass(es) resolved %zu payments; final: %zu succeeded, %zu failed, %zu refunded;"
	        " %zu confirmed, money %lld - %lld = %lld\n",
	        PAYMENTS, THREADS, (long long)wall, (long long)slowest, (long long)slowest_open, charges_mixed, by[0][0], by[0][3], by[1][2], by[1][3], by[2][2],
	        by[2][3], by[3][1], by[3][3], retries, opened, rejected, passes, resolved_total, m.succeeded, m.failed,
	        m.refunded, m.confirmed, (long long)m.succeeded_amount, (long long)m.refunded_amount,
	        (long long)m.confirmed_total);
	fx_close(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fault_gateway");
	TCase *tc = tcase_create("gateway");
	tcase_set_timeout(tc, 110);
	tcase_add_test(tc, interrupted_payments_are_resolved_by_recovery_and_the_money_adds_up);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
