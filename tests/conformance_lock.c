/*
 * Conformance suite of a booking_lock_manager (include/booking/sys/lock.h),
 * run on the URL in BOOKING_TEST_LOCK_URL (default "memory:"). Written
 * against the vtable only, so every lock backend runs it unchanged.
 * SPDX-License-Identifier: MIT
 */
#include "suites.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#ifdef FX_WITH_TINYLOCKS
/* This build also links the out-of-tree example backend (examples/tinylocks) and registers it first. */
#include "tinylocks.h"
#endif

static booking_clock *clk;
static booking_lock_manager *lm;
static char keys[16][96];

/* Keys unique to this test, so a shared server (redis:) never mixes runs or tests. */
static void make_keys(void)
{
	char id[BOOKING_ID_SIZE];

	booking_uuid_v7(id, FX_T0);
	for (int i = 0; i < 16; i++)
		snprintf(keys[i], sizeof(keys[i]), "test:%s:seat:%d", id, i);
}

static const char *key(int i)
{
	return keys[i];
}

static void setup(void)
{
	const char *url = fx_env("BOOKING_TEST_LOCK_URL", "memory:");
	int rc;

	make_keys();
	clk = booking_clock_manual_new(FX_T0);
	rc = booking_lock_manager_open(&lm, url, clk);
	ck_assert_msg(rc == 0, "booking_lock_manager_open(%s): %s: %s", url, booking_error_name(rc),
	              booking_error_last()->message);
	ck_assert_uint_ge(lm->version, 1);
	ck_assert(lm->free != NULL);
	ck_assert(lm->acquire_all != NULL);
	ck_assert(lm->release_all != NULL);
	ck_assert(lm->extend != NULL);
}

static void teardown(void)
{
	lm->free(lm);
	booking_clock_manual_free(clk);
}

#define TTL (30 * FX_SECOND)

START_TEST(acquire_of_free_keys_succeeds_and_blocks_other_owners)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-b", TTL), "LOCK_BUSY");
	ck_assert_code(lm->acquire_all(lm, &k[1], 1, "owner-b", TTL), "LOCK_BUSY");
}
END_TEST

START_TEST(acquire_is_all_or_nothing)
{
	const char *held[1] = {key(1)};
	const char *want[3] = {key(0), key(1), key(2)};
	const char *rest[2] = {key(0), key(2)};

	ck_assert_ok(lm->acquire_all(lm, held, 1, "owner-a", TTL));
	ck_assert_code(lm->acquire_all(lm, want, 3, "owner-b", TTL), "LOCK_BUSY");
	/* owner-b took nothing: owner-c gets the keys owner-b wanted but could not have */
	ck_assert_ok(lm->acquire_all(lm, rest, 2, "owner-c", TTL));
}
END_TEST

START_TEST(owner_may_retake_its_keys_and_refresh_the_ttl)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	booking_clock_manual_advance(clk, TTL - FX_SECOND);
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	booking_clock_manual_advance(clk, 2 * FX_SECOND); /* past the first TTL, within the refreshed one */
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-b", TTL), "LOCK_BUSY");
}
END_TEST

START_TEST(release_frees_the_keys)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	ck_assert_ok(lm->release_all(lm, k, 2, "owner-a"));
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-b", TTL));
}
END_TEST

START_TEST(stale_owner_cannot_release_someone_elses_keys)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	booking_clock_manual_advance(clk, TTL); /* owner-a's lease ran out */
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-b", TTL));
	/* owner-a wakes up and releases: owner-b's keys must stay */
	lm->release_all(lm, k, 2, "owner-a");
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_code(lm->acquire_all(lm, &k[0], 1, "owner-c", TTL), "LOCK_BUSY");
}
END_TEST

START_TEST(stale_owner_cannot_extend)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	booking_clock_manual_advance(clk, TTL);
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-b", TTL));
	ck_assert_code(lm->extend(lm, k, 2, "owner-a", TTL), "LOCK_BUSY");
	/* owner-b still holds them, with its own TTL */
	booking_clock_manual_advance(clk, TTL - FX_SECOND);
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-c", TTL), "LOCK_BUSY");
}
END_TEST

START_TEST(extend_needs_every_key)
{
	const char *mine[1] = {key(0)};
	const char *both[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, mine, 1, "owner-a", TTL));
	ck_assert_code(lm->extend(lm, both, 2, "owner-a", 10 * TTL), "LOCK_BUSY");
	/* nothing changed: key(0) still expires at the first TTL */
	booking_clock_manual_advance(clk, TTL);
	ck_assert_ok(lm->acquire_all(lm, both, 2, "owner-b", TTL));
}
END_TEST

START_TEST(extend_keeps_the_keys_past_their_first_ttl)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	booking_clock_manual_advance(clk, TTL / 2);
	ck_assert_ok(lm->extend(lm, k, 2, "owner-a", 2 * TTL));
	booking_clock_manual_advance(clk, TTL);
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-b", TTL), "LOCK_BUSY");
	booking_clock_manual_advance(clk, TTL);
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-b", TTL));
}
END_TEST

START_TEST(expiry_frees_the_keys)
{
	const char *k[2] = {key(0), key(1)};

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	booking_clock_manual_advance(clk, TTL - 1);
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-b", TTL), "LOCK_BUSY");
	booking_clock_manual_advance(clk, 1);
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-b", TTL));
}
END_TEST

START_TEST(release_of_unheld_keys_is_harmless)
{
	const char *k[1] = {key(3)};

	ck_assert_ok(lm->release_all(lm, k, 1, "nobody"));
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
}
END_TEST

/* --- contention from threads ------------------------------------------- */

#define THREADS 8
#define ROUNDS 300

typedef struct contender {
	int id;
	pthread_barrier_t *barrier;
	int *inside;  /* per key: how many owners think they hold it */
	int violations;
	int wins;
} contender;

static pthread_mutex_t inside_mu = PTHREAD_MUTEX_INITIALIZER;

static void *contend(void *p)
{
	contender *c = p;
	char owner[32];
	unsigned seed = (unsigned)c->id * 7919u + 1;

	snprintf(owner, sizeof(owner), "owner-%d", c->id);
	pthread_barrier_wait(c->barrier);
	for (int r = 0; r < ROUNDS; r++) {
		int a = (int)(rand_r(&seed) % 4), b = (int)(rand_r(&seed) % 4);
		const char *k[2] = {key(a), key(b)};
		size_t n = a == b ? 1 : 2;
		int rc = lm->acquire_all(lm, k, n, owner, 60 * FX_SECOND);

		if (rc == BOOKING_ELOCKED)
			continue;
		if (rc != 0) {
			c->violations++;
			continue;
		}
		c->wins++;
		pthread_mutex_lock(&inside_mu);
		if (c->inside[a]++ != 0)
			c->violations++;
		if (n == 2 && c->inside[b]++ != 0)
			c->violations++;
		pthread_mutex_unlock(&inside_mu);
		sched_yield(); /* hold the keys a little while others try */
		pthread_mutex_lock(&inside_mu);
		c->inside[a]--;
		if (n == 2)
			c->inside[b]--;
		pthread_mutex_unlock(&inside_mu);
		if (lm->release_all(lm, k, n, owner) != 0)
			c->violations++;
	}
	return NULL;
}

START_TEST(threads_contending_for_keys_never_share_one)
{
	pthread_t t[THREADS];
	contender c[THREADS];
	pthread_barrier_t barrier;
	int inside[4] = {0, 0, 0, 0}, wins = 0;

	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		c[i] = (contender){i, &barrier, inside, 0, 0};
		pthread_create(&t[i], NULL, contend, &c[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(c[i].violations == 0, "thread %d saw %d violations", i, c[i].violations);
		wins += c[i].wins;
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_int_gt(wins, 0);
	/* everything was released */
	{
		const char *all[4] = {key(0), key(1), key(2), key(3)};
		ck_assert_ok(lm->acquire_all(lm, all, 4, "final", TTL));
	}
}
END_TEST

void fx_lock_suite_add(Suite *s, unsigned int groups)
{
	static const TTest *const *const tests[] = {
		&acquire_of_free_keys_succeeds_and_blocks_other_owners,
		&acquire_is_all_or_nothing,
		&owner_may_retake_its_keys_and_refresh_the_ttl,
		&release_frees_the_keys,
		&stale_owner_cannot_release_someone_elses_keys,
		&stale_owner_cannot_extend,
		&extend_needs_every_key,
		&extend_keeps_the_keys_past_their_first_ttl,
		&expiry_frees_the_keys,
		&release_of_unheld_keys_is_harmless,
		&threads_contending_for_keys_never_share_one,
	};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		fx_add_case(s, groups, BOOKING_CONFORMANCE_LOCK, *tests[i], setup, teardown, 30);
}

#ifndef FX_NO_MAIN
int main(void)
{
	Suite *s = suite_create("conformance_lock");
#ifdef FX_WITH_TINYLOCKS
	if (tinylocks_register(NULL) != 0) {
		fprintf(stderr, "tinylocks_register: %s\n", booking_error_last()->message);
		return EXIT_FAILURE;
	}
#endif

	fx_lock_suite_add(s, BOOKING_CONFORMANCE_ALL);
	return fx_run(s);
}
#endif
