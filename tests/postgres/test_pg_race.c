/*
 * PostgreSQL store — processes and threads race for the same seats of one
 * showtime through the public API, one database server, and one of the
 * processes is SIGKILLed in the middle of it.
 *
 * 4 processes x 8 threads hold overlapping seats (1..3 at a time). Each
 * thread keeps at most one unpaid hold (it cancels the older one), so
 * seats keep turning over; the survivors also cancel half their holds at
 * once and pay for one. Process 0 never pays: it starts first, and once it
 * has live holds the others start and it is killed in the middle of their
 * race. Afterwards, with the
 * killed process's interrupted work resolved (booking_payment_recover),
 * booking_check() finds nothing, sold seats match the confirmed reservations,
 * and — on a handle whose manual clock is 6 minutes ahead of the real one
 * (holds last 5) — every seat the killed process held is free on the seat
 * map and can be held again, after which the check still finds nothing.
 *
 * URL: BOOKING_TEST_STORE_URL (a postgresql:// URL; tests/postgres/with-pg.sh
 * starts a server). The contention guard: BOOKING_TEST_LOCK_URL if set,
 * else none (the store alone decides); with BOOKING_TEST_LOCK_CONTENDED_SECONDS
 * it takes only the holds of a contended showtime (lock_contended_seconds).
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <check.h>
#include <pthread.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
	PROCS = 4,
	THREADS = 8,
	ROWS = 12, /* layout "A-L:10": 120 seats */
	SEATS = ROWS * 10,
	MAX_SEATS = 3,
	RUN_MS = 3000,      /* how long the survivors race */
	VICTIM = 0,         /* the process that is killed */
	VICTIM_HOLDS = 4,   /* live holds it has before the others start */
	KILL_AFTER_MS = 700 /* into the others' race */
};
#define LAYOUT "A-L:10"
#define EXPIRY_MINUTES 5

typedef struct tally {
	int holds_ok, taken, cancels, paid, declined, unexpected;
	char first_error[200];
} tally;

typedef struct racer {
	booking_handle *bk;
	const char *showtime_id;
	int proc, thread;
	unsigned int seed;
	int progress_fd; /* the victim reports each successful hold here */
	tally t;
} racer;

static const char *store_url(void)
{
	const char *u = getenv("BOOKING_TEST_STORE_URL");
	return u && *u ? u : NULL;
}

static const char *lock_url(void)
{
	const char *u = getenv("BOOKING_TEST_LOCK_URL");
	return u && *u ? u : NULL;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void label_of(int seat, char out[BOOKING_LABEL_SIZE])
{
	snprintf(out, BOOKING_LABEL_SIZE, "%c%d", 'A' + seat / 10, seat % 10 + 1);
}

static void note(tally *t, const char *what, int rc)
{
	if (t->unexpected++ == 0)
		snprintf(t->first_error, sizeof t->first_error, "%s: %s: %s", what, booking_error_name(rc),
		         booking_error_last()->message);
}

/* One payment key for every process of the race (made before any fork), removed at exit. */
static char paykey_dir[256], paykey_path[300];
static pid_t paykey_owner;

static void paykey_remove(void)
{
	if (getpid() != paykey_owner)
		return;
	unlink(paykey_path);
	rmdir(paykey_dir);
}

static const char *fx_payment_key_file(void)
{
	if (!paykey_path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(paykey_dir, sizeof(paykey_dir), "%s/booking-race-key.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(paykey_dir)) {
			perror("mkdtemp");
			exit(1);
		}
		snprintf(paykey_path, sizeof(paykey_path), "%s/payment.key", paykey_dir);
		if (booking_payment_key_generate_file(paykey_path) != 0) {
			fprintf(stderr, "cannot make a payment key in %s\n", paykey_dir);
			exit(1);
		}
		paykey_owner = getpid();
		atexit(paykey_remove);
	}
	return paykey_path;
}

static int open_handle(booking_handle **out, const booking_clock *clock)
{
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.store_url = store_url();
	o.lock_url = lock_url();
	/* the guard only while the showtime is contended: BOOKING_TEST_LOCK_CONTENDED_SECONDS (0 or unset: always) */
	const char *contended = getenv("BOOKING_TEST_LOCK_CONTENDED_SECONDS");
	o.lock_contended_seconds = contended ? atoi(contended) : 0;
	o.hold_expiry_minutes = EXPIRY_MINUTES;
	o.log_level = BOOKING_LOG_CRITICAL;
	o.max_seats_per_user_showtime = -1; /* a racer is one user holding many seats: the race is for seats, not limits */
	o.clock = clock;
	return booking_open(out, &o);
}

/* Hold 1..MAX_SEATS distinct random seats. */
static int random_hold(racer *r, const booking_ctx *ctx, booking_reservation **out)
{
	char labels[MAX_SEATS][BOOKING_LABEL_SIZE];
	const char *ptrs[MAX_SEATS];
	int picked[MAX_SEATS];
	int n = 1 + (int)(rand_r(&r->seed) % MAX_SEATS);
	for (int k = 0; k < n; k++) {
		bool dup;
		do {
			picked[k] = (int)(rand_r(&r->seed) % SEATS);
			dup = false;
			for (int j = 0; j < k; j++)
				dup = dup || picked[j] == picked[k];
		} while (dup);
		label_of(picked[k], labels[k]);
		ptrs[k] = labels[k];
	}
	return booking_hold(out, r->bk, ctx, r->showtime_id, ptrs, (size_t)n);
}

static void cancel(racer *r, const booking_ctx *ctx, const char *id)
{
	int rc = booking_reservation_cancel(NULL, r->bk, ctx, id);
	if (rc == 0)
		r->t.cancels++;
	else
		note(&r->t, "cancel", rc);
}

/* Keep the hold `id` as the thread's one live hold, cancelling the one kept before. */
static void keep(racer *r, const booking_ctx *ctx, char live[BOOKING_ID_SIZE], bool *has_live, const char *id)
{
	if (*has_live)
		cancel(r, ctx, live);
	snprintf(live, BOOKING_ID_SIZE, "%s", id);
	*has_live = true;
}

static void *race_thread(void *arg)
{
	racer *r = arg;
	char user[32];
	booking_ctx ctx;
	int64_t end = mono_ms() + RUN_MS;
	int attempt = 0;
	char live[BOOKING_ID_SIZE];
	bool has_live = false, paid = false;

	snprintf(user, sizeof user, "racer-%d-%d", r->proc, r->thread);
	booking_ctx_init(&ctx, user, BOOKING_ROLE_CUSTOMER);
	/* the victim races until it is killed (its progress pipe closes with the parent's read end: stop then) */
	while (r->proc == VICTIM || mono_ms() < end) {
		booking_reservation *b = NULL;
		int rc = random_hold(r, &ctx, &b);
		attempt++;
		if (rc == BOOKING_ESEAT_ALREADY_BOOKED || rc == BOOKING_ELOCK_FAILED) {
			r->t.taken++;
			continue;
		}
		if (rc != 0) {
			note(&r->t, "hold", rc);
			continue;
		}
		r->t.holds_ok++;
		if (r->proc == VICTIM) {
			char byte = 1;
			if (write(r->progress_fd, &byte, 1) != 1)
				break;
			keep(r, &ctx, live, &has_live, b->id);
			booking_reservation_free(b);
			continue;
		}
		/* half are cancelled at once, one is paid, the rest kept (one at a time) */
		unsigned int dice = rand_r(&r->seed) % 4;
		if (dice == 2 && !paid) {
			char key[64];
			booking_payment *p = NULL;
			snprintf(key, sizeof key, "%s-%d", user, attempt);
			rc = booking_pay(&p, r->bk, &ctx, b->id, key, "4242424242424242");
			if (rc == 0)
				r->t.paid++;
			else
				note(&r->t, "pay", rc);
			paid = true;
			booking_payment_free(p);
		} else if (dice <= 2) {
			cancel(r, &ctx, b->id);
		} else {
			keep(r, &ctx, live, &has_live, b->id);
		}
		booking_reservation_free(b);
	}
	return NULL;
}

/* One racing process: its own handle (own pool), THREADS threads. Reports a tally on result_fd. */
static int race_process(const char *showtime_id, int proc, int go_fd, int progress_fd, int result_fd)
{
	racer racers[THREADS];
	pthread_t threads[THREADS];
	tally total;
	booking_handle *bk = NULL;
	char byte;

	memset(&total, 0, sizeof total);
	if (read(go_fd, &byte, 1) < 0)
		return 2;
	int rc = open_handle(&bk, NULL);
	if (rc != 0) {
		note(&total, "open", rc);
	} else {
		for (int i = 0; i < THREADS; i++) {
			memset(&racers[i], 0, sizeof racers[i]);
			racers[i].bk = bk;
			racers[i].showtime_id = showtime_id;
			racers[i].proc = proc;
			racers[i].thread = i;
			racers[i].progress_fd = progress_fd;
			racers[i].seed = (unsigned int)(proc * 7919 + i * 104729 + (int)time(NULL));
			pthread_create(&threads[i], NULL, race_thread, &racers[i]);
		}
		for (int i = 0; i < THREADS; i++) {
			pthread_join(threads[i], NULL);
			tally *t = &racers[i].t;
			total.holds_ok += t->holds_ok;
			total.taken += t->taken;
			total.cancels += t->cancels;
			total.paid += t->paid;
			if (t->unexpected && !total.unexpected)
				memcpy(total.first_error, t->first_error, sizeof total.first_error);
			total.unexpected += t->unexpected;
		}
		booking_close(bk);
	}
	if (write(result_fd, &total, sizeof total) != (ssize_t)sizeof total)
		return 3;
	return total.unexpected ? 1 : 0;
}

static void assert_ok(int rc, const char *what)
{
	ck_assert_msg(rc == 0, "%s: %s: %s", what, booking_error_name(rc), booking_error_last()->message);
}

static void seed(char showtime_id[BOOKING_ID_SIZE])
{
	booking_handle *bk = NULL;
	booking_ctx admin;
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_showtime *sh = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;
	booking_price price = {"standard", 1250};

	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	assert_ok(open_handle(&bk, NULL), "open");
	assert_ok(booking_movie_create(&m, bk, &admin, "Race", 120), "movie");
	assert_ok(booking_theater_create(&t, bk, &admin, "Odeon", "Lyon"), "theater");
	assert_ok(booking_layout_parse(&seats, &n, LAYOUT, sizeof *seats), "layout");
	assert_ok(booking_screen_create(&s, bk, &admin, t->id, "One", seats, n, sizeof *seats), "screen");
	assert_ok(booking_showtime_create(&sh, bk, &admin, m->id, s->id, booking_now(bk) + 24 * 3600 * 1000LL, "EUR",
	                                  &price, 1, sizeof(booking_price)),
	          "showtime");
	snprintf(showtime_id, BOOKING_ID_SIZE, "%s", sh->id);
	booking_free(seats);
	booking_movie_free(m);
	booking_theater_free(t);
	booking_screen_free(s);
	booking_showtime_free(sh);
	booking_close(bk);
}

static size_t violations(booking_handle *bk)
{
	booking_check_report *rep = NULL;
	assert_ok(booking_check(&rep, bk), "check");
	size_t n = rep->count;
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "violation %d %s: %s\n", (int)rep->items[i]->invariant, rep->items[i]->entity_id,
		        rep->items[i]->message);
	booking_check_report_free(rep);
	return n;
}

/* Seats of every CONFIRMED reservation of every racer. */
static size_t confirmed_seats(booking_handle *bk)
{
	booking_ctx admin;
	size_t n = 0;
	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	for (int p = 0; p < PROCS; p++)
		for (int i = 0; i < THREADS; i++) {
			char user[32], cursor[BOOKING_CURSOR_SIZE] = "";
			snprintf(user, sizeof user, "racer-%d-%d", p, i);
			do {
				booking_reservation_list *l = NULL;
				assert_ok(booking_reservation_list_for_user(&l, bk, &admin, user, BOOKING_PAGE_MAX, cursor),
				          "list reservations");
				for (size_t k = 0; k < l->count; k++)
					if (l->items[k]->status == BOOKING_RESERVATION_CONFIRMED)
						n += l->items[k]->seat_count;
				snprintf(cursor, sizeof cursor, "%s", l->next_cursor ? l->next_cursor : "");
				booking_reservation_list_free(l);
			} while (*cursor);
		}
	return n;
}

/* Live seats (PENDING or PAYMENT_PROCESSING) of one page of the victim's reservations, marked in `held`. */
static int live_seats_of_page(const booking_reservation_list *l, bool held[SEATS])
{
	int count = 0;
	for (size_t k = 0; k < l->count; k++) {
		const booking_reservation *b = l->items[k];
		if (b->status != BOOKING_RESERVATION_PENDING && b->status != BOOKING_RESERVATION_PAYMENT_PROCESSING)
			continue;
		for (size_t s = 0; s < b->seat_count; s++) {
			int seat = (b->seats[s]->label[0] - 'A') * 10 + atoi(b->seats[s]->label + 1) - 1;
			ck_assert_msg(seat >= 0 && seat < SEATS, "odd label %s", b->seats[s]->label);
			ck_assert_msg(!held[seat], "seat %s in two live reservations of the victim", b->seats[s]->label);
			held[seat] = true;
			count++;
		}
	}
	return count;
}

/* Seats of the victim's reservations that were live when it died (PENDING or PAYMENT_PROCESSING). */
static int victim_seats(booking_handle *bk, bool held[SEATS])
{
	booking_ctx admin;
	int count = 0;
	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	for (int i = 0; i < THREADS; i++) {
		char user[32], cursor[BOOKING_CURSOR_SIZE] = "";
		snprintf(user, sizeof user, "racer-%d-%d", VICTIM, i);
		do {
			booking_reservation_list *l = NULL;
			assert_ok(booking_reservation_list_for_user(&l, bk, &admin, user, BOOKING_PAGE_MAX, cursor),
			          "list victim reservations");
			count += live_seats_of_page(l, held);
			snprintf(cursor, sizeof cursor, "%s", l->next_cursor ? l->next_cursor : "");
			booking_reservation_list_free(l);
		} while (*cursor);
	}
	return count;
}

START_TEST(killed_process_leaves_no_violation_and_its_seats_come_free)
{
	char showtime_id[BOOKING_ID_SIZE];
	int go[2][2], progress[2], results[PROCS][2]; /* go[0]: the victim, go[1]: the others */
	pid_t pids[PROCS];
	tally sum;
	int64_t t0 = mono_ms();

	ck_assert_msg(store_url() != NULL, "BOOKING_TEST_STORE_URL is not set (run through tests/postgres/with-pg.sh)");
	memset(&sum, 0, sizeof sum);
	seed(showtime_id);

	ck_assert_int_eq(pipe(go[0]), 0);
	ck_assert_int_eq(pipe(go[1]), 0);
	ck_assert_int_eq(pipe(progress), 0);
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_eq(pipe(results[p]), 0);
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0) {
			int mine = p == VICTIM ? 0 : 1;
			close(go[0][1]);
			close(go[1][1]);
			close(go[1 - mine][0]);
			close(progress[0]);
			close(results[p][0]);
			_exit(race_process(showtime_id, p, go[mine][0], progress[1], results[p][1]));
		}
		close(results[p][1]);
	}
	close(go[0][0]);
	close(go[1][0]);
	close(progress[1]);

	/* the victim first, until it has live holds; then the others; then kill it in the middle of the race */
	close(go[0][1]);
	for (int got = 0; got < VICTIM_HOLDS;) {
		char buf[16];
		struct pollfd pfd = {progress[0], POLLIN, 0};
		ck_assert_msg(poll(&pfd, 1, 30000) == 1, "the victim made no hold in 30 s");
		ssize_t n = read(progress[0], buf, sizeof buf);
		ck_assert_msg(n > 0, "the victim stopped before holding %d times", VICTIM_HOLDS);
		got += (int)n;
	}
	close(go[1][1]);
	usleep(KILL_AFTER_MS * 1000);
	ck_assert_int_eq(kill(pids[VICTIM], SIGKILL), 0);
	int status = 0;
	ck_assert_int_eq(waitpid(pids[VICTIM], &status, 0), pids[VICTIM]);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the victim was not killed (status %d)", status);
	close(progress[0]);

	for (int p = 0; p < PROCS; p++) {
		if (p == VICTIM) {
			close(results[p][0]);
			continue;
		}
		tally t;
		ck_assert_int_eq(read(results[p][0], &t, sizeof t), (ssize_t)sizeof t);
		close(results[p][0]);
		ck_assert_msg(t.unexpected == 0, "process %d failed %d times, first: %s", p, t.unexpected, t.first_error);
		sum.holds_ok += t.holds_ok;
		sum.taken += t.taken;
		sum.cancels += t.cancels;
		sum.paid += t.paid;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d status %d", p, status);
	}
	fprintf(stderr, "pg race: %d processes x %d threads, one killed: %d holds ok (%d cancelled, %d paid), %d refused, %.2f s\n",
	        PROCS, THREADS, sum.holds_ok, sum.cancels, sum.paid, sum.taken, (double)(mono_ms() - t0) / 1000.0);
	ck_assert_int_gt(sum.holds_ok, 0);
	ck_assert_int_gt(sum.taken, 0); /* there was a race */

	/* Now: resolve what the victim left half-done, then every invariant must hold. */
	booking_handle *bk = NULL;
	booking_ctx admin;
	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	assert_ok(open_handle(&bk, NULL), "open");
	assert_ok(booking_payment_recover(NULL, bk, booking_ctx_system(), 0), "recover");
	ck_assert_uint_eq(violations(bk), 0);

	booking_seat_map *map = NULL;
	assert_ok(booking_seat_map_get(&map, bk, &admin, showtime_id), "seat map");
	ck_assert_int_eq((int)map->count, SEATS);
	size_t sold = map->sold_count;
	ck_assert_uint_eq(sold, confirmed_seats(bk));
	booking_seat_map_free(map);
	bool victim_held[SEATS] = {false};
	int nvictim = victim_seats(bk, victim_held);
	booking_close(bk);
	ck_assert_msg(nvictim > 0, "the killed process left no live hold to check");

	/* Six minutes later (holds last five): the victim's seats are free and can be held again. */
	booking_clock *later = booking_clock_manual_new(wall_ms() + 6 * 60 * 1000);
	ck_assert_ptr_nonnull(later);
	assert_ok(open_handle(&bk, later), "open later");
	assert_ok(booking_seat_map_get(&map, bk, &admin, showtime_id), "seat map later");
	ck_assert_uint_eq(map->sold_count, sold);
	for (int s = 0; s < SEATS; s++)
		if (victim_held[s])
			ck_assert_msg(map->seats[s]->status == BOOKING_SEAT_FREE, "seat %s of the killed process shows %d",
			              map->seats[s]->label, (int)map->seats[s]->status);
	booking_seat_map_free(map);

	booking_ctx claimer;
	booking_ctx_init(&claimer, "claimer", BOOKING_ROLE_CUSTOMER);
	for (int s = 0; s < SEATS; s++) {
		if (!victim_held[s])
			continue;
		char label[BOOKING_LABEL_SIZE];
		const char *one[1] = {label};
		label_of(s, label);
		int rc = booking_hold(NULL, bk, &claimer, showtime_id, one, 1);
		ck_assert_msg(rc == 0, "seat %s of the killed process is not claimable: %s: %s", label,
		              booking_error_name(rc), booking_error_last()->message);
	}
	size_t expired = 0;
	assert_ok(booking_expire_due(&expired, bk, booking_ctx_system(), 10000), "expire");
	ck_assert_uint_gt(expired, 0);
	ck_assert_uint_eq(violations(bk), 0);
	fprintf(stderr, "pg race: %d seats of the killed process claimed again, %zu holds expired, %zu sold\n", nvictim,
	        expired, sold);
	booking_close(bk);
	booking_clock_manual_free(later);
}
END_TEST

int main(void)
{
	(void)fx_payment_key_file(); /* before Check forks: every process pays with the same key */
	Suite *s = suite_create("postgresql-race");
	TCase *tc = tcase_create("race");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, killed_process_leaves_no_violation_and_its_seats_come_free);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
