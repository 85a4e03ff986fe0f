/*
 * SQLite store — a process holding and cancelling seats in a loop is
 * SIGKILLed at random moments, several times. Each transaction is all or
 * nothing: afterwards booking_check() finds nothing, and every reservation
 * holds all of its seats or none of them.
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_test.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { KILLS = 6, ROWS = 10, SEATS = ROWS * 10, MAX_SEATS = 4, USERS = 8 };
#define LAYOUT "A-J:10"

/* Hold and cancel until killed. Never returns normally. */
static int victim(const char *url, const char *showtime_id, int round, int ready_fd)
{
	char ids[64][BOOKING_ID_SIZE], users[USERS][32];
	unsigned int seed = (unsigned int)(getpid() * 2654435761u);
	booking_options opts;
	booking_handle *bk = NULL;
	int nids = 0;

	booking_options_init(&opts, BOOKING_OPTIONS_VERSION);
	opts.store_url = url;
	opts.log_level = BOOKING_LOG_CRITICAL;
	if (booking_open(&bk, &opts) != 0)
		return 1;
	for (int u = 0; u < USERS; u++)
		snprintf(users[u], sizeof users[u], "victim-%d-%d", round, u);
	if (write(ready_fd, "r", 1) != 1)
		return 1;
	for (unsigned long i = 0;; i++) {
		booking_ctx ctx = sqt_customer(users[i % USERS]);
		char labels[MAX_SEATS][BOOKING_LABEL_SIZE];
		const char *ptrs[MAX_SEATS];
		int n = 1 + (int)(rand_r(&seed) % MAX_SEATS), first = (int)(rand_r(&seed) % (SEATS - MAX_SEATS));
		booking_reservation *b = NULL;

		for (int k = 0; k < n; k++) {
			sqt_label(first + k, labels[k]);
			ptrs[k] = labels[k];
		}
		if (booking_hold(&b, bk, &ctx, showtime_id, ptrs, (size_t)n) == 0) {
			if (nids < 64)
				memcpy(ids[nids++], b->id, BOOKING_ID_SIZE);
			booking_reservation_free(b);
		}
		if (nids > 0 && rand_r(&seed) % 2 == 0) {
			booking_ctx admin = sqt_admin();
			int k = (int)(rand_r(&seed) % (unsigned)nids);

			booking_reservation_cancel(NULL, bk, &admin, ids[k]);
			memcpy(ids[k], ids[--nids], BOOKING_ID_SIZE);
		}
	}
}

/* What scan() saw. */
typedef struct seen_seat {
	char label[BOOKING_LABEL_SIZE];
	char reservation_id[BOOKING_ID_SIZE];
	booking_seat_status status;
} seen_seat;

typedef struct seen_booking {
	char id[BOOKING_ID_SIZE];
	booking_reservation_status status;
	int64_t expires_at;
	size_t seat_count;
	char labels[MAX_SEATS][BOOKING_LABEL_SIZE];
} seen_booking;

typedef struct seen {
	seen_seat seats[SEATS];
	size_t seat_count;
	seen_booking *bookings;
	size_t reservation_count, booking_cap;
} seen;

static int on_seat(const char *showtime_id, const booking_store_seat *seat, void *payload)
{
	seen *s = payload;

	(void)showtime_id;
	ck_assert_int_lt(s->seat_count, SEATS);
	memcpy(s->seats[s->seat_count].label, seat->label, BOOKING_LABEL_SIZE);
	memcpy(s->seats[s->seat_count].reservation_id, seat->reservation_id, BOOKING_ID_SIZE);
	s->seats[s->seat_count++].status = seat->status;
	return 0;
}

static int on_booking(const booking_reservation *b, void *payload)
{
	seen *s = payload;
	seen_booking *sb;

	if (s->reservation_count == s->booking_cap) {
		s->booking_cap = s->booking_cap ? 2 * s->booking_cap : 256;
		s->bookings = realloc(s->bookings, s->booking_cap * sizeof *s->bookings);
		ck_assert_ptr_nonnull(s->bookings);
	}
	sb = &s->bookings[s->reservation_count++];
	memcpy(sb->id, b->id, BOOKING_ID_SIZE);
	sb->status = b->status;
	sb->expires_at = b->expires_at;
	ck_assert_int_le(b->seat_count, MAX_SEATS);
	sb->seat_count = b->seat_count;
	for (size_t i = 0; i < b->seat_count; i++)
		memcpy(sb->labels[i], b->seats[i]->label, BOOKING_LABEL_SIZE);
	return 0;
}

static const seen_seat *seat_of(const seen *s, const char *label)
{
	for (size_t i = 0; i < s->seat_count; i++)
		if (strcmp(s->seats[i].label, label) == 0)
			return &s->seats[i];
	return NULL;
}

static const seen_booking *booking_of(const seen *s, const char *id)
{
	for (size_t i = 0; i < s->reservation_count; i++)
		if (strcmp(s->bookings[i].id, id) == 0)
			return &s->bookings[i];
	return NULL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Every reservation holds all its seats or none; every held seat names a reservation that lists it. */
static size_t verify_all_or_nothing(const sqt_db *db)
{
	booking_store *st = NULL;
	booking_store_scan_cbs cbs = {0};
	seen s = {0};
	booking_handle *bk = sqt_open(db, &st);
	int64_t now = booking_now(bk);
	size_t holding = 0;

	ck_assert_int_eq(sqt_check_violations(bk), 0);
	cbs.showtime_seat = on_seat;
	cbs.reservation = on_booking;
	sqt_assert_ok(st->scan(st, &cbs, &s));
	ck_assert_int_eq(s.seat_count, SEATS);

	for (size_t i = 0; i < s.seat_count; i++) {
		const seen_seat *seat = &s.seats[i];
		const seen_booking *b;
		bool listed = false;

		if (seat->status == BOOKING_SEAT_FREE) {
			ck_assert_str_eq(seat->reservation_id, "");
			continue;
		}
		b = booking_of(&s, seat->reservation_id);
		ck_assert_msg(b != NULL, "seat %s claimed by missing reservation %s", seat->label, seat->reservation_id);
		for (size_t k = 0; k < b->seat_count; k++)
			listed = listed || strcmp(b->labels[k], seat->label) == 0;
		ck_assert_msg(listed, "seat %s claimed by reservation %s that does not list it", seat->label, b->id);
	}
	for (size_t i = 0; i < s.reservation_count; i++) {
		const seen_booking *b = &s.bookings[i];
		size_t held = 0;

		for (size_t k = 0; k < b->seat_count; k++) {
			const seen_seat *seat = seat_of(&s, b->labels[k]);

			ck_assert_ptr_nonnull(seat);
			held += strcmp(seat->reservation_id, b->id) == 0;
		}
		ck_assert_msg(held == 0 || held == b->seat_count, "reservation %s holds %zu of its %zu seats", b->id, held,
		              b->seat_count);
		if (b->status == BOOKING_RESERVATION_PENDING && b->expires_at > now)
			ck_assert_msg(held == b->seat_count, "live reservation %s lost its seats", b->id);
		if (b->status == BOOKING_RESERVATION_CANCELLED || b->status == BOOKING_RESERVATION_EXPIRED)
			ck_assert_msg(held == 0, "closed reservation %s still holds seats", b->id);
		holding += held != 0;
	}
	fprintf(stderr, "kill: %zu reservations, %zu holding seats\n", s.reservation_count, holding);
	free(s.bookings);
	booking_close(bk);
	return s.reservation_count;
}

START_TEST(killed_writer_leaves_every_booking_all_or_nothing)
{
	char showtime_id[BOOKING_ID_SIZE];
	unsigned int seed = (unsigned int)time(NULL);
	size_t bookings = 0;
	booking_handle *bk;
	sqt_db db;

	sqt_db_init(&db, "kill");
	bk = sqt_open(&db, NULL);
	sqt_seed(bk, LAYOUT, showtime_id);
	booking_close(bk);

	for (int round = 0; round < KILLS; round++) {
		int ready[2], status = 0;
		char byte;
		pid_t pid;

		ck_assert_int_eq(pipe(ready), 0);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(ready[0]);
			_exit(victim(db.url, showtime_id, round, ready[1]));
		}
		close(ready[1]);
		ck_assert_int_eq(read(ready[0], &byte, 1), 1);
		close(ready[0]);
		sleep_ms(50 + (long)(rand_r(&seed) % 400));
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "victim ended on its own: %d", status);
		bookings = verify_all_or_nothing(&db);
	}
	ck_assert_int_gt(bookings, 0);
	sqt_db_cleanup(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite-kill");
	TCase *tc = tcase_create("kill");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, killed_writer_leaves_every_booking_all_or_nothing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
