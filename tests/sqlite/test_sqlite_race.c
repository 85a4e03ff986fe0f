/*
 * SQLite store — many processes and threads race for the same seats of
 * one showtime through the public API, on one database file. Afterwards
 * booking_check() finds nothing, every seat is held by at most one
 * reservation, and the seats of the successful (uncancelled) holds are exactly
 * the seats the seat map shows held.
 * SPDX-License-Identifier: MIT
 */
#include "sqlite_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
	PROCS = 8,
	THREADS = 4,
	ATTEMPTS = 60,  /* holds per thread */
	MAX_SEATS = 3,  /* seats per hold: 1..MAX_SEATS */
	ROWS = 5        /* layout "A-E:10": 50 seats */
};
#define LAYOUT "A-E:10"
#define SEATS (ROWS * 10)

/* What one process reports to the parent (one write, smaller than PIPE_BUF). */
typedef struct tally {
	int holds_ok;     /* successful holds */
	int cancels;      /* of those, cancelled again */
	int seats_live;   /* seats of the holds still standing */
	int taken;        /* SEAT_ALREADY_BOOKED answers */
	int unexpected;   /* any other error */
	char first_error[160];
} tally;

typedef struct racer {
	booking_handle *bk;
	const char *showtime_id;
	char user[32];
	unsigned int seed;
	tally t;
} racer;

typedef struct live_hold {
	char id[BOOKING_ID_SIZE];
	int seats;
} live_hold;

static void note_unexpected(tally *t, const char *what, int rc)
{
	if (t->unexpected++ == 0)
		snprintf(t->first_error, sizeof t->first_error, "%s: %s: %s", what, booking_error_name(rc),
		         booking_error_last()->message);
}

static void *race_thread(void *arg)
{
	racer *r = arg;
	booking_ctx ctx = sqt_customer(r->user);
	live_hold live[ATTEMPTS];
	int live_count = 0;

	for (int i = 0; i < ATTEMPTS; i++) {
		char labels[MAX_SEATS][BOOKING_LABEL_SIZE];
		const char *ptrs[MAX_SEATS];
		int n = 1 + (int)(rand_r(&r->seed) % MAX_SEATS), picked[MAX_SEATS];
		booking_reservation *b = NULL;
		int rc;

		for (int k = 0; k < n; k++) {
			bool dup;

			do {
				picked[k] = (int)(rand_r(&r->seed) % SEATS);
				dup = false;
				for (int j = 0; j < k; j++)
					dup = dup || picked[j] == picked[k];
			} while (dup);
			sqt_label(picked[k], labels[k]);
			ptrs[k] = labels[k];
		}
		rc = booking_hold(&b, r->bk, &ctx, r->showtime_id, ptrs, (size_t)n);
		if (rc == 0) {
			r->t.holds_ok++;
			r->t.seats_live += n;
			memcpy(live[live_count].id, b->id, BOOKING_ID_SIZE);
			live[live_count++].seats = n;
			booking_reservation_free(b);
		} else if (rc == BOOKING_ESEAT_ALREADY_BOOKED) {
			r->t.taken++;
		} else {
			note_unexpected(&r->t, "hold", rc);
		}
		/* Cancel now and then, so seats come free and the race goes on. */
		if (live_count > 0 && rand_r(&r->seed) % 3 == 0) {
			int k = (int)(rand_r(&r->seed) % (unsigned)live_count);

			rc = booking_reservation_cancel(NULL, r->bk, &ctx, live[k].id);
			if (rc == 0) {
				r->t.cancels++;
				r->t.seats_live -= live[k].seats;
				live[k] = live[--live_count];
			} else {
				note_unexpected(&r->t, "cancel", rc);
			}
		}
	}
	return NULL;
}

static int race_process(const char *url, const char *showtime_id, int proc, int go_fd, int result_fd)
{
	racer racers[THREADS];
	pthread_t threads[THREADS];
	booking_options opts;
	booking_handle *bk = NULL;
	tally total = {0};
	char byte;
	int rc;

	if (read(go_fd, &byte, 1) < 0)
		return 2;
	booking_options_init(&opts, BOOKING_OPTIONS_VERSION);
	opts.store_url = url;
	opts.log_level = BOOKING_LOG_CRITICAL;
	opts.max_seats_per_user_showtime = -1; /* a racer is one user holding many seats: the race is for seats, not limits */
	rc = booking_open(&bk, &opts);
	if (rc != 0) {
		note_unexpected(&total, "open", rc);
	} else {
		for (int i = 0; i < THREADS; i++) {
			racers[i] = (racer){.bk = bk, .showtime_id = showtime_id};
			snprintf(racers[i].user, sizeof racers[i].user, "racer-%d-%d", proc, i);
			racers[i].seed = (unsigned int)(proc * 7919 + i * 104729 + (int)time(NULL));
			pthread_create(&threads[i], NULL, race_thread, &racers[i]);
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(threads[i], NULL);
			total.holds_ok += racers[i].t.holds_ok;
			total.cancels += racers[i].t.cancels;
			total.seats_live += racers[i].t.seats_live;
			total.taken += racers[i].t.taken;
			if (racers[i].t.unexpected && !total.unexpected)
				memcpy(total.first_error, racers[i].t.first_error, sizeof total.first_error);
			total.unexpected += racers[i].t.unexpected;
		}
		booking_close(bk);
	}
	if (write(result_fd, &total, sizeof total) != (ssize_t)sizeof total)
		return 3;
	return total.unexpected ? 1 : 0;
}

START_TEST(processes_and_threads_racing_never_double_book)
{
	char showtime_id[BOOKING_ID_SIZE];
	int go[2], results[2];
	pid_t pids[PROCS];
	tally sum = {0};
	booking_seat_map *map = NULL;
	booking_ctx admin = sqt_admin();
	int owners[SEATS] = {0};
	int pending = 0, pending_seats = 0;
	struct timespec t0, t1;
	booking_handle *bk;
	sqt_db db;

	sqt_db_init(&db, "race");
	bk = sqt_open(&db, NULL);
	sqt_seed(bk, LAYOUT, showtime_id);
	booking_close(bk);

	ck_assert_int_eq(pipe(go), 0);
	ck_assert_int_eq(pipe(results), 0);
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			close(go[1]);
			close(results[0]);
			_exit(race_process(db.url, showtime_id, p, go[0], results[1]));
		}
	}
	close(go[0]);
	close(results[1]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	close(go[1]); /* start */
	for (int p = 0; p < PROCS; p++) {
		tally t;
		int status = 0;

		ck_assert_int_eq(read(results[0], &t, sizeof t), (ssize_t)sizeof t);
		ck_assert_msg(t.unexpected == 0, "a racer failed %d times, first: %s", t.unexpected, t.first_error);
		sum.holds_ok += t.holds_ok;
		sum.cancels += t.cancels;
		sum.seats_live += t.seats_live;
		sum.taken += t.taken;
		ck_assert_int_eq(waitpid(pids[p], &status, 0) > 0, 1);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "racer process status %d", status);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(results[0]);
	fprintf(stderr, "race: %d processes x %d threads: %d holds ok (%d cancelled), %d refused, %.2f s\n", PROCS,
	        THREADS, sum.holds_ok, sum.cancels, sum.taken,
	        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	ck_assert_int_gt(sum.holds_ok, 0);
	ck_assert_int_gt(sum.taken, 0); /* there was a race */
	ck_assert_int_eq(sum.holds_ok + sum.taken, PROCS * THREADS * ATTEMPTS);

	bk = sqt_open(&db, NULL);
	ck_assert_int_eq(sqt_check_violations(bk), 0);

	/* Count owners ourselves: every PENDING reservation of every racer, seat by seat. */
	for (int p = 0; p < PROCS; p++) {
		for (int i = 0; i < THREADS; i++) {
			booking_reservation_list *l = NULL;
			char user[32];

			snprintf(user, sizeof user, "racer-%d-%d", p, i);
			sqt_assert_ok(booking_reservation_list_for_user(&l, bk, &admin, user, BOOKING_PAGE_MAX, NULL));
			ck_assert_ptr_null(l->next_cursor); /* ATTEMPTS holds at most: one page */
			for (size_t k = 0; k < l->count; k++) {
				const booking_reservation *b = l->items[k];

				if (b->status != BOOKING_RESERVATION_PENDING)
					continue;
				pending++;
				pending_seats += (int)b->seat_count;
				for (size_t s = 0; s < b->seat_count; s++) {
					int row = b->seats[s]->label[0] - 'A', col = atoi(b->seats[s]->label + 1) - 1;

					ck_assert(row >= 0 && row < ROWS && col >= 0 && col < 10);
					owners[row * 10 + col]++;
				}
			}
			booking_reservation_list_free(l);
		}
	}
	sqt_assert_ok(booking_seat_map_get(&map, bk, &admin, showtime_id));
	ck_assert_int_eq((int)map->count, SEATS);
	for (int s = 0; s < SEATS; s++) {
		char label[BOOKING_LABEL_SIZE];

		sqt_label(s, label);
		ck_assert_msg(owners[s] <= 1, "seat %s belongs to %d reservations", label, owners[s]);
		ck_assert_str_eq(map->seats[s]->label, label);
		ck_assert_msg((map->seats[s]->status == BOOKING_SEAT_HELD) == (owners[s] == 1),
		              "seat %s: map says %d, %d owners", label, (int)map->seats[s]->status, owners[s]);
	}
	ck_assert_int_eq(pending, sum.holds_ok - sum.cancels);
	ck_assert_int_eq(pending_seats, sum.seats_live);
	ck_assert_int_eq((int)map->held_count, sum.seats_live);
	ck_assert_int_eq((int)map->sold_count, 0);
	booking_seat_map_free(map);
	booking_close(bk);
	sqt_db_cleanup(&db);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sqlite-race");
	TCase *tc = tcase_create("race");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, processes_and_threads_racing_never_double_book);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
