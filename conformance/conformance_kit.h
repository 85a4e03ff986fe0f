/*
 * libbooking conformance kit — what run.c and check.c share.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_CONFORMANCE_KIT_H
#define BOOKING_CONFORMANCE_KIT_H

#include <booking/sys/conformance.h>

#include <stdio.h>

/* Test cases one run can hold (the suites have about 90), and the size of a "group/test" name. */
#define KIT_MAX_CASES 256
#define KIT_NAME_SIZE 160
/* The check group's one case. */
#define KIT_CHECK_NAME "flow_through_the_public_api_then_booking_check_finds_no_violation"

typedef struct kit_tally {
	int passed, failed;
} kit_tally;

/*
 * The check group: a flow through the public API (catalog, holds, a taken
 * seat, payments paid and declined, a cancel, expiry, a refund, relay,
 * consume) on a fresh store of `store_url`, then booking_check(). Adds one
 * pass, or one failure for a step that went wrong plus one per violation
 * booking_check() reports. Runs in this process, without Check.
 */
void kit_check_flow(const char *store_url, const booking_conformance_options *o, FILE *out, kit_tally *t);

#endif
