/*
 * libbooking — the conformance kit: the contract tests of every backend
 * kind, run against any registered URL scheme. A backend author registers
 * the scheme (booking_backend_register()), then calls
 * booking_conformance_run(); the installed program `booking-conformance`
 * does the same from the command line. doc/backends.md describes what is
 * checked.
 *
 * The kit is a separate library, libbooking-conformance (pkg-config
 * `libbooking-conformance`); it links the Check test framework.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_CONFORMANCE_H
#define BOOKING_SYS_CONFORMANCE_H

#include "../common.h"
#include "../errors.h"

#include <stdio.h>

BOOKING_BEGIN_DECL

/** Groups of contract tests, as bits of booking_conformance_options.groups. */
typedef enum booking_conformance_group {
	/** Store: migrate, validate, the store's clock, movies, theaters, screens, showtimes. */
	BOOKING_CONFORMANCE_CATALOG = 1u << 0,
	/** Store: holds, reservations, apply, due reservations, payments, refunds, scan; the public flows. */
	BOOKING_CONFORMANCE_LEDGER = 1u << 1,
	/** Store: event sequences and positions, outbox reads, publishing marks. */
	BOOKING_CONFORMANCE_OUTBOX = 1u << 2,
	/** Store: consumer cursors, inbox, dead letters. */
	BOOKING_CONFORMANCE_CONSUMERS = 1u << 3,
	/** Store: users, passwords, tokens and revocations, authorization, payment attempts. */
	BOOKING_CONFORMANCE_USERS = 1u << 4,
	/** Store: concurrent holds, cursor and inbox races, polling during writes, 16 threads of mixed traffic. */
	BOOKING_CONFORMANCE_RACES = 1u << 5,
	/** Store: a flow through the public API on a fresh store, then booking_check() finds no violation. */
	BOOKING_CONFORMANCE_CHECK = 1u << 6,
	/** Lock manager on booking_conformance_options.lock_url (not run without one). */
	BOOKING_CONFORMANCE_LOCK = 1u << 7,
	/** Event publisher on booking_conformance_options.events_url (not run without one). */
	BOOKING_CONFORMANCE_EVENTS = 1u << 8,
} booking_conformance_group;

/** Every group. */
#define BOOKING_CONFORMANCE_ALL 0x1ffu

/**
 * Makes the URL one test case opens, from the URL under test: `url` (the
 * store URL given to booking_conformance_run()) and `seq`, which counts up
 * from 1 within the process. Write a NUL-terminated URL of at most `n`
 * bytes to `out` and return 0, or return non-zero to fail that test case.
 * `payload` is booking_conformance_options.payload, unchanged.
 * Called in the test's process (a child, when Check forks), on the thread
 * that runs the test case, one call at a time.
 */
typedef int (*booking_conformance_fresh_cb)(char *out, size_t n, const char *url, unsigned int seq,
                                            void *payload);

#define BOOKING_CONFORMANCE_OPTIONS_VERSION 1

/** Options of booking_conformance_run(). Initialise with BOOKING_CONFORMANCE_OPTIONS_INIT. */
typedef struct booking_conformance_options {
	unsigned int version; /**< BOOKING_CONFORMANCE_OPTIONS_VERSION */
	/** Bits of booking_conformance_group to run; 0 means all. */
	unsigned int groups;
	/** Lock manager URL for the lock group; NULL or "": the group is not run. Borrowed. */
	const char *lock_url;
	/** Event publisher URL for the events group; NULL or "": the group is not run. Borrowed. */
	const char *events_url;
	/** 0: the summary line only; 1 (default): also each failure; 2: also each test case. */
	int verbosity;
	/** Where the report goes; NULL: stdout. Borrowed. */
	FILE *out;
	/**
	 * Each test case needs a store nobody else uses. NULL: the kit's rule —
	 * a "sqlite:///path" URL becomes a file "path.PID.SEQ" (removed
	 * afterwards; the URL's parameters, after a '?', are kept), a "postgresql://" or "postgres://" URL gets a schema of its
	 * own through options=-csearch_path=..., and any other URL is opened as
	 * given, so each open of it must be a new, empty store (as "memory:" is).
	 * A store whose opens share data sets this callback.
	 */
	booking_conformance_fresh_cb fresh;
	void *payload; /**< handed to `fresh` */
} booking_conformance_options;

#ifdef __cplusplus
static inline booking_conformance_options booking_conformance_options_init_value(void)
{
	booking_conformance_options v = {};
	v.version = BOOKING_CONFORMANCE_OPTIONS_VERSION;
	v.verbosity = 1;
	return v;
}
#define BOOKING_CONFORMANCE_OPTIONS_INIT booking_conformance_options_init_value()
#else
#define BOOKING_CONFORMANCE_OPTIONS_INIT {.version = BOOKING_CONFORMANCE_OPTIONS_VERSION, .verbosity = 1}
#endif

/**
 * Fill `opts` with the defaults, as BOOKING_CONFORMANCE_OPTIONS_INIT does
 * (all groups, verbosity 1, stdout).
 * @param opts    the caller's struct to fill.
 * @param version BOOKING_CONFORMANCE_OPTIONS_VERSION, as the caller was compiled.
 * @return 0, or BOOKING_EVALIDATION (NULL `opts` or an unknown version:
 *         `opts` is untouched). Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_conformance_options_init(booking_conformance_options *opts, unsigned int version);

/**
 * Run the contract tests of the groups asked for against `store_url` (and
 * the lock and events URLs of `opts`), report to opts->out and end with a
 * line "N passed, N failed".
 *
 * Each test case runs in a child process (Check's fork mode; CK_FORK=no in
 * the environment runs them in this process) with a time limit, and opens a
 * fresh store (see booking_conformance_options.fresh). The check group
 * counts each violation booking_check() reports as one failure.
 *
 * @param store_url URL of a registered store scheme; borrowed.
 * @param opts      NULL for the defaults; borrowed.
 * @return the number of failed test cases (0: everything passed), or a
 *         negative booking_error_code: BOOKING_EVALIDATION for a NULL URL,
 *         an options version of 0 or newer than this kit's, or unknown
 *         group bits.
 *
 * Not thread-safe: one run at a time per process (the suites keep their
 * fixtures in static variables, as Check tests do).
 */
BOOKING_EXTERN(int) booking_conformance_run(const char *store_url, const booking_conformance_options *opts);

/**
 * Stable name of one group ("catalog", "ledger", ...).
 * @param group one bit of booking_conformance_group.
 * @return static text; NULL for anything but one known bit. Thread-safe.
 */
BOOKING_EXTERN(const char *) booking_conformance_group_name(unsigned int group);

/**
 * The group named `name` (as booking_conformance_group_name() spells it).
 * @param out  set to the group's bit; may be NULL; untouched after a failure.
 * @param name the name; borrowed; NULL is unknown.
 * @return 0 with *out set, or BOOKING_ENOTFOUND. Thread-safe.
 */
BOOKING_EXTERN(booking_error_code) booking_conformance_group_from_name(unsigned int *out, const char *name);

/**
 * One line per test case of the groups in `groups` (0: all): "group test_name",
 * to `out` (NULL: stdout). Returns how many.
 * @param out    borrowed stream; NULL: stdout.
 * @param groups bits of booking_conformance_group; 0: all.
 * Not thread-safe: it builds the kit's suites, as booking_conformance_run() does.
 */
BOOKING_EXTERN(size_t) booking_conformance_list(FILE *out, unsigned int groups);

BOOKING_END_DECL

#endif
