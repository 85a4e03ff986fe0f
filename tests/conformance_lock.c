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

/* --- registers (version 2, optional) -------------------------------------- */

/* A manager without registers passes these cases: the core's rate limits then need the store's kv group. */
static bool has_registers(void)
{
	return lm->version >= 2 && lm->register_swap;
}

static char cur[96]; /* the value the last swap() found: "(absent)" when none */

/* register_swap of register `k` from `expected` (NULL: absent) to `value`. */
static int swap(const char *k, const char *expected, const char *value, int64_t ttl_ms)
{
	char *current = NULL;
	int rc = lm->register_swap(&current, lm, k, expected, value, ttl_ms);

	snprintf(cur, sizeof(cur), "%s", current ? current : "(absent)");
	booking_free(current);
	return rc;
}

START_TEST(register_swap_sets_an_absent_register_and_then_compares_its_value)
{
	if (!has_registers())
		return;
	ck_assert_ok(swap(key(0), NULL, "1", TTL));
	ck_assert_code(swap(key(0), NULL, "9", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "1");
	ck_assert_ok(swap(key(0), "1", "2", TTL));
	ck_assert_code(swap(key(0), "1", "3", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "2");
	/* expecting a value of a register that has none answers it absent */
	ck_assert_code(swap(key(1), "2", "3", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "(absent)");
	/* current_out may be NULL; an empty value is a value, not an absence */
	ck_assert_code(lm->register_swap(NULL, lm, key(0), "5", "6", TTL), "INVALID_STATE");
	ck_assert_ok(swap(key(0), "2", "", TTL));
	ck_assert_code(swap(key(0), NULL, "x", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "");
	ck_assert_ok(swap(key(0), "", "7", TTL));
	ck_assert_code(swap(key(0), "", "8", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "7");
}
END_TEST

START_TEST(a_register_is_absent_once_its_ttl_ran_out)
{
	if (!has_registers())
		return;
	ck_assert_ok(swap(key(0), NULL, "1", TTL));
	booking_clock_manual_advance(clk, TTL - 1);
	ck_assert_code(swap(key(0), NULL, "x", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "1");
	booking_clock_manual_advance(clk, 1);
	/* gone: expecting its old value fails as absent, expecting none sets it */
	ck_assert_code(swap(key(0), "1", "2", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "(absent)");
	ck_assert_ok(swap(key(0), NULL, "2", TTL));
	/* every swap gives the register its new TTL; a refused one changes nothing */
	booking_clock_manual_advance(clk, TTL / 2);
	ck_assert_ok(swap(key(0), "2", "3", 2 * TTL));
	ck_assert_code(swap(key(0), "2", "4", TTL), "INVALID_STATE");
	booking_clock_manual_advance(clk, TTL);
	ck_assert_code(swap(key(0), NULL, "x", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "3");
	booking_clock_manual_advance(clk, TTL);
	ck_assert_ok(swap(key(0), NULL, "5", TTL));
	/* many registers that ran out leave room for as many new ones */
	for (int i = 0; i < 200; i++) {
		char k[128];
		snprintf(k, sizeof(k), "%s:short:%d", key(2), i);
		ck_assert_ok(swap(k, NULL, "1", FX_SECOND));
	}
	booking_clock_manual_advance(clk, FX_SECOND);
	for (int i = 0; i < 200; i++) {
		char k[128];
		snprintf(k, sizeof(k), "%s:short:%d", key(2), i);
		ck_assert_ok(swap(k, NULL, "2", FX_SECOND));
	}
}
END_TEST

START_TEST(registers_never_meet_the_lock_keys_of_the_same_name)
{
	const char *k[1] = {key(0)};

	if (!has_registers())
		return;
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
	/* the register of that name is absent, and setting it takes no lock */
	ck_assert_ok(swap(key(0), NULL, "owner-b", TTL));
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", TTL), "LOCK_BUSY");
	ck_assert_ok(lm->extend(lm, k, 1, "owner-a", TTL));
	ck_assert_ok(lm->release_all(lm, k, 1, "owner-a"));
	/* releasing the lock left the register as it was */
	ck_assert_code(swap(key(0), NULL, "x", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "owner-b");
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-c", TTL));
	ck_assert_code(swap(key(0), "owner-c", "y", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, "owner-b");
	/* a register's swap is no owner's release: the lock stays */
	ck_assert_ok(swap(key(0), "owner-b", "owner-c", TTL));
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-d", TTL), "LOCK_BUSY");
}
END_TEST

#define REG_ROUNDS 50

typedef struct reg_racer {
	pthread_barrier_t *barrier;
	int wins, errors;
} reg_racer;

/* Increment register key(5) REG_ROUNDS times: swap from the value last seen, again from the one a refusal gives. */
static void *race_register(void *p)
{
	reg_racer *r = p;
	char *seen = NULL;

	pthread_barrier_wait(r->barrier);
	while (r->wins < REG_ROUNDS && r->errors == 0) {
		char next[24], *current = NULL;
		snprintf(next, sizeof(next), "%ld", (seen ? strtol(seen, NULL, 10) : 0) + 1);
		int rc = lm->register_swap(&current, lm, key(5), seen, next, 60 * FX_SECOND);
		booking_free(seen);
		if (rc == 0) {
			r->wins++;
			booking_free(current);
			seen = booking_strdup(next);
		} else if (rc == BOOKING_EINVALID_STATE) {
			seen = current;
		} else {
			seen = NULL;
			r->errors++;
		}
	}
	booking_free(seen);
	return NULL;
}

START_TEST(threads_incrementing_one_register_by_swaps_lose_no_update)
{
	pthread_t t[THREADS];
	reg_racer r[THREADS];
	pthread_barrier_t barrier;
	char want[24];

	if (!has_registers())
		return;
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		r[i] = (reg_racer){&barrier, 0, 0};
		pthread_create(&t[i], NULL, race_register, &r[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_msg(r[i].errors == 0, "thread %d saw an error", i);
		ck_assert_int_eq(r[i].wins, REG_ROUNDS);
	}
	pthread_barrier_destroy(&barrier);
	snprintf(want, sizeof(want), "%d", THREADS * REG_ROUNDS);
	ck_assert_code(swap(key(5), NULL, "x", TTL), "INVALID_STATE");
	ck_assert_str_eq(cur, want);
}
END_TEST

/* --- acquire_all_why and settle (version 3, optional) ---------------------- */

START_TEST(acquire_all_why_names_the_key_and_the_owner_in_the_way)
{
	const char *held[1] = {key(1)};
	const char *want[3] = {key(0), key(1), key(2)};
	const char *rest[2] = {key(0), key(2)};
	size_t blocked = 99;
	char blocker[64] = "untouched", tiny[4] = "";

	ck_assert_ok(lm->acquire_all_why(lm, held, 1, "held:owner-a", TTL, &blocked, blocker, sizeof blocker));
	ck_assert_uint_eq(blocked, 99); /* left alone when nothing stood in the way */
	ck_assert_str_eq(blocker, "untouched");
	ck_assert_code(lm->acquire_all_why(lm, want, 3, "owner-b", TTL, &blocked, blocker, sizeof blocker), "LOCK_BUSY");
	ck_assert_uint_eq(blocked, 1);
	ck_assert_str_eq(blocker, "held:owner-a");
	/* truncated to the room given, NUL-terminated; the outputs may be NULL */
	ck_assert_code(lm->acquire_all_why(lm, want, 3, "owner-b", TTL, NULL, tiny, sizeof tiny), "LOCK_BUSY");
	ck_assert_str_eq(tiny, "hel");
	ck_assert_code(lm->acquire_all_why(lm, want, 3, "owner-b", TTL, NULL, NULL, 0), "LOCK_BUSY");
	/* all or nothing, as acquire_all: owner-b took nothing */
	ck_assert_ok(lm->acquire_all(lm, rest, 2, "owner-c", TTL));
	/* the owner itself re-takes its key; once its TTL ran out it stands in no one's way */
	ck_assert_ok(lm->acquire_all_why(lm, held, 1, "held:owner-a", TTL, &blocked, blocker, sizeof blocker));
	booking_clock_manual_advance(clk, TTL);
	ck_assert_ok(lm->acquire_all_why(lm, held, 1, "owner-d", TTL, NULL, NULL, 0));
	ck_assert_code(lm->acquire_all(lm, held, 1, "owner-e", TTL), "LOCK_BUSY");
}
END_TEST

START_TEST(settle_hands_only_the_owners_keys_to_the_new_owner_with_a_fresh_ttl)
{
	const char *mine[2] = {key(0), key(1)};
	const char *other[1] = {key(2)};
	const char *all[4] = {key(0), key(1), key(2), key(3)};
	const char *absent[1] = {key(3)};
	size_t blocked = 99;
	char blocker[64] = "";

	ck_assert_ok(lm->acquire_all(lm, mine, 2, "owner-a", TTL));
	ck_assert_ok(lm->acquire_all(lm, other, 1, "owner-b", TTL));
	booking_clock_manual_advance(clk, TTL / 2);
	ck_assert_ok(lm->settle(lm, all, 4, "owner-a", "held:r1", 2 * TTL));
	/* owner-a's keys are the new owner's: owner-a can no longer release them */
	ck_assert_ok(lm->release_all(lm, mine, 2, "owner-a"));
	ck_assert_code(lm->acquire_all_why(lm, &mine[1], 1, "owner-c", TTL, &blocked, blocker, sizeof blocker),
	               "LOCK_BUSY");
	ck_assert_uint_eq(blocked, 0);
	ck_assert_str_eq(blocker, "held:r1");
	/* owner-b's key stayed owner-b's, the absent key stayed absent */
	ck_assert_code(lm->acquire_all_why(lm, other, 1, "owner-c", TTL, &blocked, blocker, sizeof blocker), "LOCK_BUSY");
	ck_assert_str_eq(blocker, "owner-b");
	ck_assert_ok(lm->acquire_all(lm, absent, 1, "owner-c", TTL));
	/* past the first TTL, within the fresh one: still held; then free */
	booking_clock_manual_advance(clk, TTL);
	ck_assert_code(lm->acquire_all(lm, mine, 2, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_ok(lm->acquire_all(lm, other, 1, "owner-c", TTL)); /* owner-b's lapsed */
	booking_clock_manual_advance(clk, TTL);
	ck_assert_ok(lm->acquire_all(lm, mine, 2, "owner-c", TTL));
}
END_TEST

START_TEST(settle_passes_over_lapsed_keys_and_the_new_owner_releases)
{
	const char *k[2] = {key(4), key(5)};

	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
	booking_clock_manual_advance(clk, TTL); /* owner-a's lease ran out: nothing to hand over */
	ck_assert_ok(lm->settle(lm, k, 1, "owner-a", "held:r2", TTL));
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-b", TTL));
	ck_assert_ok(lm->settle(lm, k, 2, "owner-b", "held:r3", TTL));
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_ok(lm->release_all(lm, k, 2, "held:r3"));
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-c", TTL));
}
END_TEST

/*
 * Whether the manager under test has the members of version 3: its cases are
 * registered only then (a manager may lack them; the core falls back).
 * When it cannot be opened here, they are registered and fail in setup as every case does.
 */
static bool url_has_marks(void)
{
	booking_clock *c = booking_clock_manual_new(FX_T0);
	booking_lock_manager *m = NULL;
	bool has = true;

	if (booking_lock_manager_open(&m, fx_env("BOOKING_TEST_LOCK_URL", "memory:"), c) == 0) {
		has = m->version >= 3 && m->acquire_all_why && m->settle;
		m->free(m);
	}
	booking_clock_manual_free(c);
	return has;
}

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
		&register_swap_sets_an_absent_register_and_then_compares_its_value,
		&a_register_is_absent_once_its_ttl_ran_out,
		&registers_never_meet_the_lock_keys_of_the_same_name,
		&threads_incrementing_one_register_by_swaps_lose_no_update,
	};

	static const TTest *const *const v3_tests[] = {
		&acquire_all_why_names_the_key_and_the_owner_in_the_way,
		&settle_hands_only_the_owners_keys_to_the_new_owner_with_a_fresh_ttl,
		&settle_passes_over_lapsed_keys_and_the_new_owner_releases,
	};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		fx_add_case(s, groups, BOOKING_CONFORMANCE_LOCK, *tests[i], setup, teardown, 30);
	if (!(groups & BOOKING_CONFORMANCE_LOCK) || !url_has_marks())
		return;
	for (size_t i = 0; i < sizeof(v3_tests) / sizeof(v3_tests[0]); i++)
		fx_add_case(s, groups, BOOKING_CONFORMANCE_LOCK, *v3_tests[i], setup, teardown, 30);
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
