/*
 * libbooking resilience tests — Redis killed during a run of concurrent holds.
 *
 * Eight buyers hold random seats of a 500-seat showtime without pause (and
 * cancel most of their holds again, so they keep racing); the
 * store is SQLite (a file), the contention guard Redis. Mid-run the
 * redis-server gets SIGKILL: holds keep succeeding through the store alone
 * (the lock manager's circuit opens, so they stop waiting for it), nothing
 * is sold twice (booking_check is clean). Redis is started again on the
 * same port: after the recovery time the circuit closes and the locks are
 * taken again (the new server's INFO commandstats counts EVALSHA calls).
 * SPDX-License-Identifier: MIT
 */
#include "fault.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define THREADS 8
#define LAYOUT "A-T:25"
#define ROWS 20
#define COLS 25

enum { PHASE_UP, PHASE_DOWN, PHASE_BACK, PHASES };

typedef struct stats {
	atomic_int ok[PHASES], taken[PHASES], busy[PHASES], other[PHASES];
	atomic_llong slowest_ms[PHASES];
} stats;

typedef struct run {
	fx *f;
	char showtime[BOOKING_ID_SIZE];
	atomic_int phase;
	atomic_bool stop;
	stats s;
	char other_error[256];
} run;

typedef struct worker {
	run *r;
	unsigned int seed;
	int t;
} worker;

static void *buyer(void *p)
{
	worker *w = p;
	run *r = w->r;
	char user[16];
	snprintf(user, sizeof(user), "buyer%d", w->t);
	booking_ctx ctx = fx_customer(user);
	while (!atomic_load(&r->stop)) {
		char l1[8], l2[8];
		const char *labels[2] = {l1, l2};
		int a = rand_r(&w->seed) % (ROWS * COLS), b = (a + 1) % (ROWS * COLS);
		snprintf(l1, sizeof(l1), "%c%d", 'A' + a / COLS, a % COLS + 1);
		snprintf(l2, sizeof(l2), "%c%d", 'A' + b / COLS, b % COLS + 1);
		int phase = atomic_load(&r->phase);
		int64_t t0 = ft_mono_ms();
		booking_reservation *held = NULL;
		int rc = booking_hold(&held, r->f->bk, &ctx, r->showtime, labels, (size_t)(1 + rand_r(&w->seed) % 2));
		long long ms = ft_mono_ms() - t0;
		/* most holds are cancelled again, so the showtime never fills up and buyers keep racing */
		if (rc == 0 && rand_r(&w->seed) % 32 != 0) {
			int crc = booking_reservation_cancel(NULL, r->f->bk, &ctx, held->id);
			if (crc < 0) {
				atomic_fetch_add(&r->s.other[phase], 1);
				snprintf(r->other_error, sizeof(r->other_error), "cancel: %s: %s", booking_error_name(crc),
				         booking_error_last()->message);
			}
		}
		booking_reservation_free(held);
		if (rc == 0)
			atomic_fetch_add(&r->s.ok[phase], 1);
		else if (rc == BOOKING_ESEAT_ALREADY_BOOKED)
			atomic_fetch_add(&r->s.taken[phase], 1);
		else if (rc == BOOKING_ELOCK_FAILED)
			atomic_fetch_add(&r->s.busy[phase], 1);
		else {
			atomic_fetch_add(&r->s.other[phase], 1);
			snprintf(r->other_error, sizeof(r->other_error), "%s: %s", booking_error_name(rc),
			         booking_error_last()->message);
		}
		long long prev = atomic_load(&r->s.slowest_ms[phase]);
		while (ms > prev && !atomic_compare_exchange_weak(&r->s.slowest_ms[phase], &prev, ms))
			;
	}
	return NULL;
}

/* The server, started and stopped by main() so that a failing test cannot leave it behind. */
static char redis[128];

static void run_for(int ms)
{
	usleep((useconds_t)ms * 1000);
}

START_TEST(holds_go_on_through_the_store_while_redis_is_dead_and_use_locks_again_after)
{
	static run r;
	char dbdir[256], base_url[400], url[512], file[512], state[16], lock_url[256];
	booking_options o;
	fx f;
	pthread_t threads[THREADS];
	worker workers[THREADS];

	snprintf(dbdir, sizeof(dbdir), "%s/booking-fault-redis.XXXXXX", fx_env("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(dbdir));
	snprintf(base_url, sizeof(base_url), "sqlite://%s/holds.db", dbdir);
	fx_fresh_url(url, sizeof(url), base_url, file, sizeof(file));

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);

	o.payment_key_file = fx_payment_key_file();
	o.store_url = url;
	/* short timeouts, so a dead server costs little: parameters of the lock manager's URL */
	snprintf(lock_url, sizeof(lock_url), "%s%cconnect_timeout_ms=200&timeout_ms=500", redis,
	         strchr(redis, '?') ? '&' : '?');
	o.lock_url = lock_url;
	o.circuit_breaker_failure_threshold = 5;
	o.circuit_breaker_recovery_seconds = 10;
	fx_open(&f, &o);
	snprintf(f.file, sizeof(f.file), "%s", file);
	fx_seed(&f);
	memset(&r, 0, sizeof(r));
	r.f = &f;
	ft_big_showtime(&f, LAYOUT, r.showtime);

	for (int t = 0; t < THREADS; t++) {
		workers[t] = (worker){&r, (unsigned int)(t * 7919 + 1), t};
		pthread_create(&threads[t], NULL, buyer, &workers[t]);
	}
	run_for(400);
	long evalsha_before = ft_redis_calls(redis, "evalsha");
	ck_assert_msg(evalsha_before > 0, "holds took their locks in Redis");

	/* Redis dies */
	atomic_store(&r.phase, PHASE_DOWN);
	int64_t killed_at = ft_mono_ms();
	ft_redis_kill(redis);
	run_for(1500);
	ft_breaker_state(f.bk, "locks", state);
	ck_assert_str_eq(state, "OPEN");
	ck_assert_int_eq((int)ft_metric(f.bk, "booking_lock_manager_degraded"), 1);
	double rejected_down =
		ft_metric(f.bk, "booking_backend_calls_total{dependency=\"locks\",op=\"acquire_all\",result=\"rejected\"}");
	double failed_down =
		ft_metric(f.bk, "booking_backend_calls_total{dependency=\"locks\",op=\"acquire_all\",result=\"failure\"}");
	double retries_down = ft_metric(f.bk, "booking_retries_total{dependency=\"locks\"}");

	/* Redis is back on the same port; the recovery time passes (the handle's clock) */
	ft_redis_restart(redis);
	int64_t restarted_at = ft_mono_ms();
	atomic_store(&r.phase, PHASE_BACK);
	fx_advance(&f, 10 * FX_SECOND);
	run_for(1000);
	atomic_store(&r.stop, true);
	for (int t = 0; t < THREADS; t++)
		pthread_join(threads[t], NULL);

	long evalsha_after = ft_redis_calls(redis, "evalsha");
	ck_assert_msg(evalsha_after > 0, "after the restart the locks are taken in Redis again");
	ft_breaker_state(f.bk, "locks", state);
	ck_assert_str_eq(state, "CLOSED");
	ck_assert_int_eq((int)ft_metric(f.bk, "booking_lock_manager_degraded"), 0);

	ck_assert_msg(atomic_load(&r.s.ok[PHASE_DOWN]) > 0, "holds went on while Redis was dead");
	for (int ph = 0; ph < PHASES; ph++)
		ck_assert_msg(atomic_load(&r.s.other[ph]) == 0, "phase %d: unexpected answer %s", ph, r.other_error);
	ck_assert_uint_eq(fx_check_violations(&f), 0);

	fprintf(stderr,
	        "redis killed during holds (%d buyers, sqlite store):\n"
	        "  before : %d held, %d taken, %d busy; slowest %lld ms; EVALSHA calls %ld\n"
	        "  dead   : %d held, %d taken, %d busy; slowest %lld ms; lock calls failed %.0f, retried %.0f,"
	        " refused by the open circuit %.0f\n"
	        "  back   : %d held, %d taken, %d busy; slowest %lld ms; EVALSHA calls on the new server %ld\n"
	        "  locks circuit: opened %.0f, half-open %.0f, closed %.0f; down %lld ms, back for %lld ms\n",
	        THREADS, atomic_load(&r.s.ok[0]), atomic_load(&r.s.taken[0]), atomic_load(&r.s.busy[0]),
	        (long long)atomic_load(&r.s.slowest_ms[0]), evalsha_before, atomic_load(&r.s.ok[1]),
	        atomic_load(&r.s.taken[1]), atomic_load(&r.s.busy[1]), (long long)atomic_load(&r.s.slowest_ms[1]),
	        failed_down, retries_down, rejected_down, atomic_load(&r.s.ok[2]), atomic_load(&r.s.taken[2]),
	        atomic_load(&r.s.busy[2]), (long long)atomic_load(&r.s.slowest_ms[2]), evalsha_after,
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"locks\",to=\"OPEN\"}"),
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"locks\",to=\"HALF_OPEN\"}"),
	        ft_metric(f.bk, "booking_circuit_breaker_transitions_total{dependency=\"locks\",to=\"CLOSED\"}"),
	        (long long)(restarted_at - killed_at), (long long)(ft_mono_ms() - restarted_at));
	fx_close(&f);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dbdir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fault_redis");
	TCase *tc = tcase_create("redis");
	tcase_set_timeout(tc, 200);
	tcase_add_test(tc, holds_go_on_through_the_store_while_redis_is_dead_and_use_locks_again_after);
	suite_add_tcase(s, tc);
	if (!ft_redis_start(redis, sizeof(redis)))
		return 1;
	int rc = fx_run(s);
	ft_redis_stop(redis);
	return rc;
}
