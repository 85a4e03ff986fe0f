/*
 * libbooking tests — the shared fixture: a handle on a store URL with a
 * manual clock, a seeded catalog (one showtime of a screen "A-C:10"), actor
 * contexts and assertion helpers that name error codes.
 *
 * Tests use only the public API and the backend API (booking/sys/...).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_TEST_FIXTURE_H
#define BOOKING_TEST_FIXTURE_H

#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <booking/sys/conformance.h>
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* 2026-01-01T00:00:00Z: where every manual clock starts. */
#define FX_T0 INT64_C(1767225600000)
#define FX_SECOND INT64_C(1000)
#define FX_MINUTE (60 * FX_SECOND)
#define FX_HOUR (60 * FX_MINUTE)
#define FX_DAY (24 * FX_HOUR)

/* Price of every seat of the seeded showtime (the single "standard" category). */
#define FX_PRICE INT64_C(1250)
/* The seeded screen: rows A..C of 10 seats. */
#define FX_LAYOUT "A-C:10"
#define FX_SEATS 30

#define FX_CARD_OK "4242424242424242"
#define FX_CARD_DECLINED "4000000000000002"
#define FX_CARD_NO_FUNDS "4000000000009995"
#define FX_CARD_TIMEOUT "4000000000000119"
#define FX_CARD_LOST_REPLY "4000000000000259"

/*
 * A decorator store: every member forwards to a real store (`inner`, owned).
 * Tests hook it to line threads up at the store (so races reach the store's
 * guards, not only the core's pre-checks) or to alter what scan() reports.
 */
typedef struct fx_store_wrap fx_store_wrap;
struct fx_store_wrap {
	booking_store parent;
	booking_store *inner;
	/* called before the write members hold, apply and kv_put; may be NULL */
	void (*before)(fx_store_wrap *w, const char *member);
	/* replaces the forwarding scan when set */
	int (*scan)(fx_store_wrap *w, const booking_store_scan_cbs *cbs, void *payload);
	void *user;
	/* the wrapper's tables, at the inner store's group versions */
	booking_store_catalog catalog;
	booking_store_ledger ledger;
};

/* Wrap `inner` (ownership passes to the wrapper; its free member frees both). */
fx_store_wrap *fx_store_wrap_new(booking_store *inner);

/*
 * A decorator gateway: forwards to the simulated gateway and counts the
 * charges that reach it; `before_charge` (may be NULL) runs first, e.g. to
 * hold a charge at the gateway while the test acts.
 */
typedef struct fx_gateway_wrap fx_gateway_wrap;
struct fx_gateway_wrap {
	booking_payment_gateway parent;
	booking_payment_gateway *inner;
	void (*before_charge)(fx_gateway_wrap *g, const booking_charge_request *req);
	int charges; /* atomic */
	void *user;
};

/* A wrapper around a new "simulated:" gateway. Hand it over through booking_options.gateway. */
fx_gateway_wrap *fx_gateway_wrap_new(void);
/* Charges that reached the gateway so far. */
int fx_gateway_charges(fx_gateway_wrap *g);

/*
 * A rendezvous of `parties` threads with a real-time bound: each caller waits
 * until all have arrived or `timeout_ms` passed (a party that never comes,
 * e.g. one refused by the lock guard, must not hang the others).
 */
typedef struct fx_rendezvous {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int parties, arrived, generation;
	int timeout_ms;
} fx_rendezvous;
void fx_rendezvous_init(fx_rendezvous *r, int parties, int timeout_ms);
void fx_rendezvous_wait(fx_rendezvous *r);
void fx_rendezvous_destroy(fx_rendezvous *r);

typedef struct fx {
	booking_clock *clock;
	booking_handle *bk;
	booking_store *store; /* the handle's store (owned by the handle), for direct reads */
	fx_store_wrap *wrap;  /* the same store as a decorator, when the fixture opened it */
	char url[512];  /* the store URL the handle was opened on */
	char file[512]; /* a per-test database file to remove at the end, "" if none */
	char movie_id[BOOKING_ID_SIZE];
	char theater_id[BOOKING_ID_SIZE];
	char screen_id[BOOKING_ID_SIZE];
	char showtime_id[BOOKING_ID_SIZE];
	int64_t showtime_starts_at;
} fx;

/* getenv with a default for unset or empty variables (and the kit's URLs, see fx_use_urls). */
const char *fx_env(const char *name, const char *def);

/*
 * A URL for this test: `url` as is, except a file-based SQLite URL
 * ("sqlite:///path") gets a per-process, per-call file name (removed first)
 * and a PostgreSQL URL a per-process, per-call schema (search_path), so
 * tests sharing one configured URL never see each other's data.
 * `file_out` (may be NULL) receives the file name to remove afterwards.
 */
void fx_fresh_url(char *out, size_t n, const char *url, char *file_out, size_t file_n);
/* Remove a database file and its -wal/-shm/-journal companions. */
void fx_remove_db(const char *file);

/* The store URL under test: BOOKING_TEST_STORE_URL, default "memory:". */
const char *fx_store_url(void);
/*
 * The conformance kit's URLs: fx_env answers them for BOOKING_TEST_STORE_URL,
 * BOOKING_TEST_LOCK_URL and BOOKING_TEST_EVENTS_URL in place of the
 * environment's (NULL: the environment's). Borrowed; they must outlive the run.
 */
void fx_use_urls(const char *store_url, const char *lock_url, const char *events_url);
/* A callback that makes each test's URL in place of fx_fresh_url's rule (NULL: the rule). */
void fx_use_fresh(booking_conformance_fresh_cb fresh, void *payload);
/* A payment key file (booking_payment_key_generate_file) made once per process. */
const char *fx_payment_key_file(void);

/*
 * Open f->bk with a manual clock at FX_T0 on a fresh copy of the store URL
 * under test. `base` (may be NULL) gives the other options; its clock is
 * replaced. Unless base sets store or store_url, the fixture opens the store
 * itself (booking_store_open), wraps it in an fx_store_wrap (f->wrap) and
 * hands it over through opts.store, keeping a borrowed pointer in f->store
 * for direct reads (scan).
 */
void fx_open(fx *f, const booking_options *base);
/* fx_open with default options, then fx_seed. */
void fx_setup(fx *f);
/* Seed a movie, a theater, a screen FX_LAYOUT and a showtime tomorrow at FX_PRICE EUR. */
void fx_seed(fx *f);
/* Another showtime of the seeded movie and screen, `starts_in_ms` from now. */
void fx_add_showtime(fx *f, int64_t starts_in_ms, char id_out[BOOKING_ID_SIZE]);
/* A showtime tomorrow on a new screen of `layout` (standard seats FX_PRICE, premium twice that). */
void fx_add_hall(fx *f, const char *layout, char id_out[BOOKING_ID_SIZE]);
void fx_close(fx *f);

/* Move the handle's clock. */
void fx_advance(fx *f, int64_t ms);

/* Actor contexts. The user id is borrowed. */
booking_ctx fx_customer(const char *user_id);
booking_ctx fx_admin(void);
booking_ctx fx_system(void);
booking_ctx fx_anonymous(void);

/*
 * Hold "A1,A2,..." of f's showtime for `user_id`. Returns the library's code;
 * `out` may be NULL.
 */
int fx_hold(fx *f, booking_reservation **out, const char *user_id, const char *labels_csv);
/* fx_hold that must succeed; writes the reservation id. */
void fx_hold_ok(fx *f, const char *user_id, const char *labels_csv, char id_out[BOOKING_ID_SIZE]);
/* Pay `reservation_id` as `user_id`; `out` may be NULL. */
int fx_pay(fx *f, booking_payment **out, const char *user_id, const char *reservation_id, const char *key,
           const char *card);
/* Read a reservation back (as admin); must exist. Caller frees. */
booking_reservation *fx_booking(fx *f, const char *reservation_id);
/* Read a payment back (as admin); must exist. Caller frees. */
booking_payment *fx_payment(fx *f, const char *payment_id);
/* Status of a seat of the seeded showtime, read through the seat map. */
booking_seat_status fx_seat_status(fx *f, const char *label);
/* Run booking_check and return the number of violations (printing them). */
size_t fx_check_violations(fx *f);
/* Does booking_check report a violation of `inv`? */
bool fx_check_reports(fx *f, booking_invariant inv);
/* Payments in the whole store (f->store->scan). */
size_t fx_payment_count(fx *f);
/* Payments of one reservation (copies into out[0..max)), by scanning f->store. Returns how many exist. */
size_t fx_payments_of(fx *f, const char *reservation_id, booking_payment *out, size_t max);
/* Split "A1,A2" into labels (at most 64, each < BOOKING_LABEL_SIZE). Returns the count. */
size_t fx_split(const char *csv, char labels[][BOOKING_LABEL_SIZE], const char **ptrs, size_t max);

/* Run a suite (CK_ENV verbosity) and return the process exit status. */
int fx_run(Suite *s);

/* Names. */
#define fx_name(rc) booking_error_name(rc)

/* Assert that `rc` is the code named NAME, printing the last error on failure. */
#define ck_assert_code(rc, NAME)                                                                             \
	do {                                                                                                     \
		int fx_rc_ = (rc);                                                                                   \
		ck_assert_msg(strcmp(booking_error_name(fx_rc_), (NAME)) == 0, "expected %s, got %s (%d): %s",       \
		              (NAME), booking_error_name(fx_rc_), fx_rc_,                                            \
		              fx_rc_ ? booking_error_last()->message : "no error");                                \
	} while (0)

/* Assert success, printing the last error otherwise. */
#define ck_assert_ok(rc)                                                                                     \
	do {                                                                                                     \
		int fx_rc_ = (rc);                                                                                   \
		ck_assert_msg(fx_rc_ == 0, "expected success, got %s (%d): %s", booking_error_name(fx_rc_), fx_rc_,  \
		              booking_error_last()->message);                                                        \
	} while (0)

#endif
