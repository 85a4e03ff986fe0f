/*
 * booking-conformance — run the backend contract tests against a store URL
 * (and optionally a lock manager and an event publisher URL). Exit 0 only
 * when every test case passed. doc/backends.md describes the kit.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <booking/sys/conformance.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: booking-conformance [options] STORE_URL\n"
	        "       booking-conformance --list [--group NAME]...\n"
	        "\n"
	        "Runs the contract tests of libbooking's backend interface against a store\n"
	        "of any registered URL scheme (memory:, sqlite::memory:, sqlite:///path,\n"
	        "postgresql://...), each test case on a fresh store and in a process of its\n"
	        "own, then a flow through the public API and booking_check(). The last line\n"
	        "is \"N passed, N failed\"; the exit status is 0 only when nothing failed.\n"
	        "\n"
	        "Groups: catalog, ledger, outbox, consumers, users (users and tokens),\n"
	        "races (concurrency), check (booking_check after a flow) on the store;\n"
	        "lock and events on the URLs below, run only when given.\n"
	        "\n"
	        "A sqlite:///path URL becomes one file per test case next to path (removed\n"
	        "afterwards; its ?parameters kept); a postgresql:// URL one schema per test\n"
	        "case; any other URL is opened as given, so each open of it must be a new,\n"
	        "empty store. A backend's settings are its URL's parameters (doc/backends.md).\n"
	        "\n"
	        "options:\n"
	        "  --lock URL      also run the lock manager tests on URL (e.g. memory:)\n"
	        "  --events URL    also run the event publisher tests on URL (e.g. memory:)\n"
	        "  --group NAME    run only this group (repeatable); default: all\n"
	        "  --list          list the test cases (of the groups asked for) and exit\n"
	        "  -q, --quiet     print only the summary line\n"
	        "  -v, --verbose   also print each test case that passed\n"
	        "  -h, --help      this text\n"
	        "\n"
	        "exit status: 0 all passed, 1 a test failed, 2 bad usage or a run that could\n"
	        "not start. CK_FORK=no in the environment runs the tests without forking.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "booking-conformance: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(try --help)\n");
	return 2;
}

int main(int argc, char **argv)
{
	booking_conformance_options o;
	const char *url = NULL;
	bool list = false;
	int rc;

	booking_conformance_options_init(&o, BOOKING_CONFORMANCE_OPTIONS_VERSION);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--list") == 0) {
			list = true;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.verbosity = 0;
		} else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			o.verbosity = 2;
		} else if (strcmp(a, "--lock") == 0 || strcmp(a, "--events") == 0 || strcmp(a, "--group") == 0) {
			if (!has_value)
				return bad_usage("%s needs a value", a);
			const char *v = argv[++i];
			if (strcmp(a, "--lock") == 0) {
				o.lock_url = v;
			} else if (strcmp(a, "--events") == 0) {
				o.events_url = v;
			} else {
				unsigned int g = 0;
				if (booking_conformance_group_from_name(&g, v) != 0)
					return bad_usage("no group is named \"%s\" (catalog, ledger, outbox, consumers, users, "
					                 "races, check, lock, events)",
					                 v);
				o.groups |= g;
			}
		} else if (a[0] == '-' && a[1] != '\0') {
			return bad_usage("unknown option %s", a);
		} else if (url) {
			return bad_usage("one store URL only (got a second: %s)", a);
		} else {
			url = a;
		}
	}
	if (list) {
		booking_conformance_list(stdout, o.groups);
		return 0;
	}
	if (!url)
		return bad_usage("%s", "a store URL is required");
	rc = booking_conformance_run(url, &o);
	if (rc < 0) {
		fprintf(stderr, "booking-conformance: %s: %s\n", booking_error_name(rc), booking_error_last()->message);
		return 2;
	}
	return rc == 0 ? 0 : 1;
}
