/*
 * libbooking tests — the contract suites as parts a runner picks from: each
 * test case is a TCase of its own named "group/test", added only when its
 * group is asked for. The test programs (conformance_store, stress, ...) add
 * every group; the conformance kit (conformance/) adds the groups asked of
 * booking_conformance_run().
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_TEST_SUITES_H
#define BOOKING_TEST_SUITES_H

#include "fixture.h"

/*
 * Add `test` to `s` as a TCase "group/name" with the checked fixture
 * (setup, teardown; either may be NULL) and a timeout in seconds, when
 * `group` (one BOOKING_CONFORMANCE_* bit) is in `groups`.
 */
void fx_add_case(Suite *s, unsigned int groups, unsigned int group, const TTest *test, SFun setup, SFun teardown,
                 double timeout);

/* Name of one BOOKING_CONFORMANCE_* bit ("catalog", ...), NULL for anything else. */
const char *fx_group_name(unsigned int group);

/* Called for every case fx_add_case adds (e.g. to list them); NULL: none. */
typedef void (*fx_case_fn)(unsigned int group, const char *name, void *payload);
void fx_on_case(fx_case_fn fn, void *payload);

/* The suites. */
void fx_store_suite_add(Suite *s, unsigned int groups);  /* conformance_store.c */
void fx_stress_suite_add(Suite *s, unsigned int groups); /* stress.c */
void fx_authz_suite_add(Suite *s, unsigned int groups);  /* auth/test_authz.c */
void fx_lock_suite_add(Suite *s, unsigned int groups);   /* conformance_lock.c */
void fx_events_suite_add(Suite *s, unsigned int groups); /* conformance_events.c */

#endif
