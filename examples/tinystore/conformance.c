/*
 * tinystore-conformance — the conformance kit on tinystore, as a backend
 * author runs it: register the scheme in this process, then hand its URL
 * to booking_conformance_run() (libbooking-conformance). The installed
 * program booking-conformance cannot load a backend from outside the
 * library, so a backend links the kit instead. Every store group runs:
 * catalog, ledger, outbox, consumers, users, races and check.
 *
 * usage: tinystore-conformance [-q | -v]    exit 0 only when every case passed
 * SPDX-License-Identifier: MIT
 */
#include "tinystore.h"

#include <booking/booking.h>
#include <booking/sys/conformance.h>
#include <stdio.h>
#include <string.h>

#define STORE_GROUPS                                                                                      \
	(BOOKING_CONFORMANCE_CATALOG | BOOKING_CONFORMANCE_LEDGER | BOOKING_CONFORMANCE_OUTBOX |             \
	 BOOKING_CONFORMANCE_CONSUMERS | BOOKING_CONFORMANCE_USERS | BOOKING_CONFORMANCE_RACES |              \
	 BOOKING_CONFORMANCE_CHECK)

int main(int argc, char **argv)
{
	booking_conformance_options o = BOOKING_CONFORMANCE_OPTIONS_INIT;
	o.groups = STORE_GROUPS;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-q") == 0) {
			o.verbosity = 0;
		} else if (strcmp(argv[i], "-v") == 0) {
			o.verbosity = 2;
		} else {
			fprintf(stderr, "usage: tinystore-conformance [-q | -v]\n");
			return 2;
		}
	}
	if (tinystore_register() != 0) {
		fprintf(stderr, "tinystore_register: %s\n", booking_error_last()->message);
		return 2;
	}
	/* each open of "tinystore:" is a new, empty store: the kit's default rule for fresh stores fits */
	int failed = booking_conformance_run("tinystore:", &o);
	if (failed < 0) {
		fprintf(stderr, "booking_conformance_run: %s\n", booking_error_last()->message);
		return 2;
	}
	return failed == 0 ? 0 : 1;
}
