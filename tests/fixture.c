/*
 * libbooking tests — the shared fixture.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdlib.h>
#include <unistd.h>

const char *fx_env(const char *name, const char *def)
{
	const char *v = getenv(name);
	return (v && *v) ? v : def;
}

void fx_remove_db(const char *file)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char path[600];

	if (!file || !*file)
		return;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", file, suffixes[i]);
		unlink(path);
	}
}

void fx_fresh_url(char *out, size_t n, const char *url, char *file_out, size_t file_n)
{
	static int counter;
	const char *prefix = "sqlite://";

	if (file_out && file_n)
		file_out[0] = '\0';
	/* "sqlite:///abs/path.db": a file. "sqlite::memory:" and the rest: as given. */
	if (strncmp(url, prefix, strlen(prefix)) == 0 && url[strlen(prefix)] == '/') {
		const char *path = url + strlen(prefix);
		char file[512];
		snprintf(file, sizeof(file), "%s.%ld.%d", path, (long)getpid(), ++counter);
		fx_remove_db(file);
		snprintf(out, n, "%s%s", prefix, file);
		if (file_out && file_n)
			snprintf(file_out, file_n, "%s", file);
		return;
	}
	snprintf(out, n, "%s", url);
}

const char *fx_store_url(void)
{
	return fx_env("BOOKING_TEST_STORE_URL", "memory:");
}

void fx_open(fx *f, const booking_options *base)
{
	booking_options o;
	int rc;

	memset(f, 0, sizeof(*f));
	f->clock = booking_clock_manual_new(FX_T0);
	ck_assert_ptr_nonnull(f->clock);
	if (base)
		o = *base;
	else
		booking_options_init(&o);
	o.clock = f->clock;
	if (!o.store && !o.store_url) {
		fx_fresh_url(f->url, sizeof(f->url), fx_store_url(), f->file, sizeof(f->file));
		rc = booking_store_open(&f->store, f->url, &o);
		ck_assert_msg(rc == 0, "booking_store_open(%s): %s: %s", f->url, booking_error_name(rc),
		              booking_error_last()->message);
		o.store = f->store;
	} else if (o.store_url) {
		snprintf(f->url, sizeof(f->url), "%s", o.store_url);
	}
	if (!o.log_fn && o.log_level == 0)
		o.log_level = BOOKING_LOG_CRITICAL; /* keep test output readable */
	rc = booking_open(&f->bk, &o);
	ck_assert_msg(rc == 0, "booking_open(%s): %s: %s", f->url, booking_error_name(rc),
	              booking_error_last()->message);
	ck_assert_ptr_nonnull(f->bk);
}

void fx_seed(fx *f)
{
	booking_ctx admin = fx_admin();
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_movie_create(&m, f->bk, &admin, "The Seat Keeper", 120));
	snprintf(f->movie_id, sizeof(f->movie_id), "%s", m->id);
	booking_movie_free(m);
	ck_assert_ok(booking_theater_create(&t, f->bk, &admin, "Odeon", "Lyon"));
	snprintf(f->theater_id, sizeof(f->theater_id), "%s", t->id);
	booking_theater_free(t);
	ck_assert_ok(booking_layout_parse(&seats, &n, FX_LAYOUT));
	ck_assert_uint_eq(n, FX_SEATS);
	ck_assert_ok(booking_screen_create(&s, f->bk, &admin, f->theater_id, "Screen 1", seats, n));
	booking_free(seats);
	snprintf(f->screen_id, sizeof(f->screen_id), "%s", s->id);
	booking_screen_free(s);
	fx_add_showtime(f, FX_DAY, f->showtime_id);
	f->showtime_starts_at = booking_now(f->bk) + FX_DAY;
}

void fx_add_showtime(fx *f, int64_t starts_in_ms, char id_out[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_price price;
	booking_showtime *st = NULL;

	memset(&price, 0, sizeof(price));
	snprintf(price.category, sizeof(price.category), "standard");
	price.amount = FX_PRICE;
	ck_assert_ok(booking_showtime_create(&st, f->bk, &admin, f->movie_id, f->screen_id,
	                                     booking_now(f->bk) + starts_in_ms, "EUR", &price, 1));
	snprintf(id_out, BOOKING_ID_SIZE, "%s", st->id);
	booking_showtime_free(st);
}

void fx_setup(fx *f)
{
	fx_open(f, NULL);
	fx_seed(f);
}

void fx_close(fx *f)
{
	booking_close(f->bk);
	f->bk = NULL;
	booking_clock_manual_free(f->clock);
	f->clock = NULL;
	fx_remove_db(f->file);
	f->file[0] = '\0';
}

void fx_advance(fx *f, int64_t ms)
{
	booking_clock_manual_advance(f->clock, ms);
}

booking_ctx fx_customer(const char *user_id)
{
	booking_ctx c;
	booking_ctx_init(&c, user_id, BOOKING_ROLE_CUSTOMER);
	return c;
}

booking_ctx fx_admin(void)
{
	booking_ctx c;
	booking_ctx_init(&c, "admin-1", BOOKING_ROLE_ADMIN);
	return c;
}

booking_ctx fx_system(void)
{
	return *booking_ctx_system();
}

booking_ctx fx_anonymous(void)
{
	booking_ctx c;
	booking_ctx_init(&c, NULL, BOOKING_ROLE_NONE);
	return c;
}

size_t fx_split(const char *csv, char labels[][BOOKING_LABEL_SIZE], const char **ptrs, size_t max)
{
	size_t n = 0;
	const char *p = csv;

	while (*p && n < max) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= BOOKING_LABEL_SIZE)
			len = BOOKING_LABEL_SIZE - 1;
		memcpy(labels[n], p, len);
		labels[n][len] = '\0';
		ptrs[n] = labels[n];
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	return n;
}

int fx_hold(fx *f, booking_reservation **out, const char *user_id, const char *labels_csv)
{
	char labels[64][BOOKING_LABEL_SIZE];
	const char *ptrs[64];
	size_t n = fx_split(labels_csv, labels, ptrs, 64);
	booking_ctx c = fx_customer(user_id);

	return booking_hold(out, f->bk, &c, f->showtime_id, ptrs, n);
}

void fx_hold_ok(fx *f, const char *user_id, const char *labels_csv, char id_out[BOOKING_ID_SIZE])
{
	booking_reservation *r = NULL;

	ck_assert_ok(fx_hold(f, &r, user_id, labels_csv));
	ck_assert_ptr_nonnull(r);
	snprintf(id_out, BOOKING_ID_SIZE, "%s", r->id);
	booking_reservation_free(r);
}

int fx_pay(fx *f, booking_payment **out, const char *user_id, const char *booking_id, const char *key,
           const char *card)
{
	booking_ctx c = fx_customer(user_id);
	return booking_pay(out, f->bk, &c, booking_id, key, card);
}

booking_reservation *fx_booking(fx *f, const char *booking_id)
{
	booking_ctx admin = fx_admin();
	booking_reservation *r = NULL;

	ck_assert_ok(booking_reservation_get(&r, f->bk, &admin, booking_id));
	ck_assert_ptr_nonnull(r);
	return r;
}

booking_payment *fx_payment(fx *f, const char *payment_id)
{
	booking_ctx admin = fx_admin();
	booking_payment *p = NULL;

	ck_assert_ok(booking_payment_get(&p, f->bk, &admin, payment_id));
	ck_assert_ptr_nonnull(p);
	return p;
}

booking_seat_status fx_seat_status(fx *f, const char *label)
{
	booking_ctx anon = fx_anonymous();
	booking_seat_map *m = NULL;
	booking_seat_status st = BOOKING_SEAT_FREE;
	bool found = false;

	ck_assert_ok(booking_seat_map_get(&m, f->bk, &anon, f->showtime_id));
	for (size_t i = 0; i < m->count; i++) {
		if (strcmp(m->seats[i].label, label) == 0) {
			st = m->seats[i].status;
			found = true;
		}
	}
	booking_seat_map_free(m);
	ck_assert_msg(found, "seat %s is not on the seat map", label);
	return st;
}

static booking_check_report *fx_check(fx *f)
{
	booking_check_report *r = NULL;

	ck_assert_ok(booking_check(&r, f->bk));
	ck_assert_ptr_nonnull(r);
	return r;
}

size_t fx_check_violations(fx *f)
{
	booking_check_report *r = fx_check(f);
	size_t n = r->count;

	for (size_t i = 0; i < r->count; i++)
		fprintf(stderr, "violation of invariant %d on %s: %s\n", (int)r->items[i].invariant,
		        r->items[i].entity_id, r->items[i].message ? r->items[i].message : "");
	booking_check_report_free(r);
	return n;
}

bool fx_check_reports(fx *f, booking_invariant inv)
{
	booking_check_report *r = fx_check(f);
	bool found = false;

	for (size_t i = 0; i < r->count; i++)
		found = found || r->items[i].invariant == inv;
	booking_check_report_free(r);
	return found;
}

typedef struct payments_of {
	const char *booking_id;
	booking_payment *out;
	size_t max, n;
} payments_of;

static int collect_payment(const booking_payment *p, void *payload)
{
	payments_of *a = payload;

	if (a->booking_id && strcmp(p->booking_id, a->booking_id) != 0)
		return 0;
	if (a->n < a->max)
		a->out[a->n] = *p;
	a->n++;
	return 0;
}

size_t fx_payments_of(fx *f, const char *booking_id, booking_payment *out, size_t max)
{
	booking_store_scan_cbs cbs;
	payments_of a = {booking_id, out, max, 0};

	ck_assert_msg(f->store != NULL, "fx_payments_of needs a fixture-opened store");
	memset(&cbs, 0, sizeof(cbs));
	cbs.payment = collect_payment;
	ck_assert_ok(f->store->scan(f->store, &cbs, &a));
	return a.n;
}

size_t fx_payment_count(fx *f)
{
	return fx_payments_of(f, NULL, NULL, 0);
}

int fx_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
