/*
 * libbooking conformance kit — booking_conformance_run(): the contract
 * suites of tests/ (store members and flows, users and tokens, races, lock
 * manager, event publisher), each test case a Check TCase of its own, run
 * one at a time against the URLs asked for, then the check flow (check.c).
 * SPDX-License-Identifier: MIT
 */
#include "conformance_kit.h"
#include "suites.h"

#include <booking/sys/alloc.h>

#include <stdlib.h>
#include <string.h>

booking_error_code booking_conformance_options_init(booking_conformance_options *opts, unsigned int version)
{
	if (!opts || version == 0 || version > BOOKING_CONFORMANCE_OPTIONS_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"version\"}",
		                         "conformance options: NULL, or unsupported version (expected 1..%d)",
		                         BOOKING_CONFORMANCE_OPTIONS_VERSION);
	memset(opts, 0, sizeof(*opts));
	opts->version = version;
	opts->verbosity = 1;
	return 0;
}

const char *booking_conformance_group_name(unsigned int group)
{
	return fx_group_name(group);
}

booking_error_code booking_conformance_group_from_name(unsigned int *out, const char *name)
{
	for (unsigned int bit = 1; bit & BOOKING_CONFORMANCE_ALL; bit <<= 1) {
		if (name && strcmp(name, fx_group_name(bit)) == 0) {
			if (out)
				*out = bit;
			return 0;
		}
	}
	return booking_error_set(BOOKING_ENOTFOUND, NULL, "no conformance group is named \"%s\"",
	                         name ? name : "(null)");
}

typedef struct case_list {
	FILE *out;
	size_t n;
	char (*names)[KIT_NAME_SIZE]; /* "group/test", when collecting */
	size_t max;
} case_list;

static void on_case(unsigned int group, const char *name, void *payload)
{
	case_list *l = payload;

	if (l->names && l->n < l->max)
		snprintf(l->names[l->n], KIT_NAME_SIZE, "%s/%s", fx_group_name(group), name);
	else if (l->out)
		fprintf(l->out, "%-10s %s\n", fx_group_name(group), name);
	l->n++;
}

/* Add the Check suites' cases of `groups` to `s`. */
static void add_suites(Suite *s, unsigned int groups)
{
	fx_store_suite_add(s, groups);
	fx_authz_suite_add(s, groups);
	fx_stress_suite_add(s, groups);
	fx_lock_suite_add(s, groups);
	fx_events_suite_add(s, groups);
}

size_t booking_conformance_list(FILE *out, unsigned int groups)
{
	case_list l = {out ? out : stdout, 0, NULL, 0};
	Suite *s = suite_create("booking-conformance");
	SRunner *sr = srunner_create(s); /* owns s */

	if (groups == 0)
		groups = BOOKING_CONFORMANCE_ALL;
	fx_on_case(on_case, &l);
	add_suites(s, groups & ~BOOKING_CONFORMANCE_CHECK);
	fx_on_case(NULL, NULL);
	srunner_free(sr);
	if (groups & BOOKING_CONFORMANCE_CHECK) {
		fprintf(l.out, "%-10s %s\n", "check", KIT_CHECK_NAME);
		l.n++;
	}
	return l.n;
}

static void report_result(FILE *out, int verbosity, TestResult *tr)
{
	int rtype = tr_rtype(tr);

	if (rtype == CK_PASS) {
		if (verbosity >= 2)
			fprintf(out, "ok   %s\n", tr_tcname(tr));
		return;
	}
	if (verbosity >= 1)
		fprintf(out, "%s %s: %s:%d: %s\n", rtype == CK_FAILURE ? "FAIL" : "ERR ", tr_tcname(tr), tr_lfile(tr),
		        tr_lno(tr), tr_msg(tr));
}

/* Run each case of `names` through `sr`, one at a time so the report follows along. */
static void run_cases(SRunner *sr, char (*names)[KIT_NAME_SIZE], size_t n, const booking_conformance_options *o,
                      FILE *out, kit_tally *t)
{
	int seen = 0;

	for (size_t i = 0; i < n; i++) {
		TestResult **results;
		int total;

		srunner_run(sr, "booking-conformance", names[i], CK_SILENT);
		total = srunner_ntests_run(sr);
		results = srunner_results(sr);
		for (int k = seen; results && k < total; k++) {
			report_result(out, o->verbosity, results[k]);
			if (tr_rtype(results[k]) == CK_PASS)
				t->passed++;
			else
				t->failed++;
		}
		free(results);
		seen = total;
		fflush(out);
	}
}

static int check_options(const char *store_url, const booking_conformance_options *o)
{
	if (!store_url || !*store_url)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"store_url\"}", "a store URL is required");
	if (o->version == 0 || o->version > BOOKING_CONFORMANCE_OPTIONS_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"version\"}",
		                         "conformance options version %u is not 1..%d", o->version,
		                         BOOKING_CONFORMANCE_OPTIONS_VERSION);
	if (o->groups & ~BOOKING_CONFORMANCE_ALL)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"groups\"}", "unknown conformance group bits 0x%x",
		                         o->groups & ~BOOKING_CONFORMANCE_ALL);
	return 0;
}

static bool is_set(const char *s)
{
	return s && *s;
}

int booking_conformance_run(const char *store_url, const booking_conformance_options *opts)
{
	booking_conformance_options o;
	unsigned int groups;
	kit_tally t = {0, 0};
	case_list l = {NULL, 0, NULL, KIT_MAX_CASES};
	FILE *out;
	Suite *s;
	SRunner *sr;
	int rc;

	if (opts)
		o = *opts;
	else
		booking_conformance_options_init(&o, BOOKING_CONFORMANCE_OPTIONS_VERSION);
	if ((rc = check_options(store_url, &o)) != 0)
		return rc;
	out = o.out ? o.out : stdout;
	groups = o.groups ? o.groups : BOOKING_CONFORMANCE_ALL;
	if (!is_set(o.lock_url)) {
		if (o.groups & BOOKING_CONFORMANCE_LOCK)
			fprintf(out, "lock: not run, no lock manager URL was given\n");
		groups &= ~BOOKING_CONFORMANCE_LOCK;
	}
	if (!is_set(o.events_url)) {
		if (o.groups & BOOKING_CONFORMANCE_EVENTS)
			fprintf(out, "events: not run, no event publisher URL was given\n");
		groups &= ~BOOKING_CONFORMANCE_EVENTS;
	}

	l.names = calloc(KIT_MAX_CASES, sizeof(*l.names));
	if (!l.names)
		return booking_error_set(BOOKING_ENOMEM, NULL, "out of memory");
	fx_use_urls(store_url, is_set(o.lock_url) ? o.lock_url : NULL, is_set(o.events_url) ? o.events_url : NULL);
	fx_use_fresh(o.fresh, o.payload);

	s = suite_create("booking-conformance");
	sr = srunner_create(s);
	fx_on_case(on_case, &l);
	add_suites(s, groups & ~BOOKING_CONFORMANCE_CHECK);
	fx_on_case(NULL, NULL);
	if (o.verbosity >= 1)
		fprintf(out, "booking-conformance: %s: %zu test cases%s\n", store_url,
		        l.n + ((groups & BOOKING_CONFORMANCE_CHECK) ? 1 : 0),
		        (groups & BOOKING_CONFORMANCE_CHECK) ? ", the last one booking_check() after a flow" : "");
	run_cases(sr, l.names, l.n < KIT_MAX_CASES ? l.n : KIT_MAX_CASES, &o, out, &t);
	srunner_free(sr);
	free(l.names);

	if (groups & BOOKING_CONFORMANCE_CHECK)
		kit_check_flow(store_url, &o, out, &t);

	fx_use_fresh(NULL, NULL);
	fx_use_urls(NULL, NULL, NULL);
	fprintf(out, "%d passed, %d failed\n", t.passed, t.failed);
	fflush(out);
	return t.failed;
}
