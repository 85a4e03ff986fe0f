/*
 * Unit tests: the catalog (movies, theaters, screens, showtimes, seat maps).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <ctype.h>
#include <stdlib.h>

#define UNKNOWN_ID "01900000-0000-7000-8000-000000000000"

static fx f;

static void setup(void)
{
	fx_open(&f, NULL);
}

static void teardown(void)
{
	fx_close(&f);
}

static void assert_uuid_v7(const char *id)
{
	ck_assert_uint_eq(strlen(id), 36);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ck_assert_msg(id[i] == '-', "id %s: '-' expected at %d", id, i);
		else
			ck_assert_msg(isxdigit((unsigned char)id[i]) && !isupper((unsigned char)id[i]),
			              "id %s: lower-case hex expected at %d", id, i);
	}
	ck_assert_msg(id[14] == '7', "id %s is not a UUIDv7", id);
}

static void assert_validation_names(int rc, const char *field)
{
	ck_assert_code(rc, "VALIDATION_ERROR");
	ck_assert_msg(strstr(booking_error_last()->details_json, field) != NULL ||
	                  strstr(booking_error_last()->message, field) != NULL,
	              "the error should name the field %s: %s %s", field, booking_error_last()->message,
	              booking_error_last()->details_json);
}

/* --- movies ------------------------------------------------------------ */

START_TEST(admin_creates_a_movie_and_reads_it_back)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	booking_movie *m = NULL, *g = NULL;

	ck_assert_ok(booking_movie_create(&m, f.bk, &admin, "Metropolis", 153));
	assert_uuid_v7(m->id);
	ck_assert_str_eq(m->title, "Metropolis");
	ck_assert_int_eq(m->duration_minutes, 153);
	ck_assert_int_eq(m->created_at, FX_T0);
	ck_assert_ok(booking_movie_get(&g, f.bk, &anon, m->id));
	ck_assert_str_eq(g->id, m->id);
	ck_assert_str_eq(g->title, "Metropolis");
	ck_assert_int_eq(g->duration_minutes, 153);
	ck_assert_int_eq(g->created_at, FX_T0);
	booking_movie_free(m);
	booking_movie_free(g);
}
END_TEST

START_TEST(movie_create_accepts_null_out)
{
	booking_ctx admin = fx_admin();
	booking_movie_list *l = NULL;

	ck_assert_ok(booking_movie_create(NULL, f.bk, &admin, "Nosferatu", 94));
	ck_assert_ok(booking_movie_list_all(&l, f.bk, &admin));
	ck_assert_uint_eq(l->count, 1);
	ck_assert_str_eq(l->items[0]->title, "Nosferatu");
	booking_movie_list_free(l);
}
END_TEST

START_TEST(movie_list_is_ordered_by_creation)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	booking_movie_list *l = NULL;
	const char *titles[] = {"First", "Second", "Third"};

	for (int i = 0; i < 3; i++) {
		ck_assert_ok(booking_movie_create(NULL, f.bk, &admin, titles[i], 90));
		fx_advance(&f, FX_SECOND);
	}
	ck_assert_ok(booking_movie_list_all(&l, f.bk, &anon));
	ck_assert_uint_eq(l->count, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(l->items[i]->title, titles[i]);
	booking_movie_list_free(l);
}
END_TEST

START_TEST(movie_list_of_an_empty_catalog_is_empty)
{
	booking_movie_list *l = NULL;
	booking_ctx anon = fx_anonymous();

	ck_assert_ok(booking_movie_list_all(&l, f.bk, &anon));
	ck_assert_uint_eq(l->count, 0);
	booking_movie_list_free(l);
}
END_TEST

START_TEST(movie_create_by_a_customer_is_forbidden)
{
	booking_ctx alice = fx_customer("alice");
	booking_movie *m = (booking_movie *)&m;
	booking_movie_list *l = NULL;

	ck_assert_code(booking_movie_create(&m, f.bk, &alice, "Mine", 90), "FORBIDDEN");
	ck_assert_ptr_null(m);
	ck_assert_ok(booking_movie_list_all(&l, f.bk, &alice));
	ck_assert_uint_eq(l->count, 0);
	booking_movie_list_free(l);
}
END_TEST

START_TEST(movie_create_validates_title_and_duration)
{
	booking_ctx admin = fx_admin();
	char long_title[202];
	booking_movie_list *l = NULL;

	memset(long_title, 'x', 201);
	long_title[201] = '\0';
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "", 90), "title");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, NULL, 90), "title");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, long_title, 90), "title");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "bad \xff utf8", 90), "title");
	/* C1 controls and bidi overrides/isolates are refused too (security item 7) */
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "csi \xc2\x9b" "31m", 90), "title");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "evil \xe2\x80\xae" "gpj.exe", 90), "title");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "iso \xe2\x81\xa6" "x", 90), "title");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "nel \xc2\x85" "x", 90), "title");
	assert_validation_names(booking_theater_create(NULL, f.bk, &admin, "Rex", "Pa\xe2\x80\xaa" "ris"), "city");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "Zero", 0), "duration");
	assert_validation_names(booking_movie_create(NULL, f.bk, &admin, "Long", 1001), "duration");
	long_title[200] = '\0';
	ck_assert_ok(booking_movie_create(NULL, f.bk, &admin, long_title, 1000));
	ck_assert_ok(booking_movie_create(NULL, f.bk, &admin, "Caf\xc3\xa9", 1));
	ck_assert_ok(booking_movie_list_all(&l, f.bk, &admin));
	ck_assert_uint_eq(l->count, 2);
	booking_movie_list_free(l);
}
END_TEST

START_TEST(movie_get_of_unknown_id_is_movie_not_found)
{
	booking_ctx anon = fx_anonymous();
	booking_movie *m = (booking_movie *)&m;

	ck_assert_code(booking_movie_get(&m, f.bk, &anon, UNKNOWN_ID), "MOVIE_NOT_FOUND");
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(movie_get_of_malformed_id_is_refused)
{
	booking_ctx anon = fx_anonymous();
	booking_movie *m = NULL;
	int rc = booking_movie_get(&m, f.bk, &anon, "not-a-uuid'; DROP TABLE movies;--");

	ck_assert_msg(rc == BOOKING_EVALIDATION || rc == BOOKING_EMOVIE_NOT_FOUND, "got %s", booking_error_name(rc));
	ck_assert_ptr_null(m);
}
END_TEST

/* --- theaters ---------------------------------------------------------- */

START_TEST(theater_without_city_has_an_empty_city)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	booking_theater *t = NULL, *g = NULL;
	booking_theater_list *l = NULL;

	ck_assert_ok(booking_theater_create(&t, f.bk, &admin, "Rex", NULL));
	fx_advance(&f, FX_SECOND);
	assert_uuid_v7(t->id);
	ck_assert_str_eq(t->name, "Rex");
	ck_assert_ptr_nonnull(t->city);
	ck_assert_str_eq(t->city, "");
	ck_assert_ok(booking_theater_create(NULL, f.bk, &admin, "Grand", "Paris"));
	ck_assert_ok(booking_theater_get(&g, f.bk, &anon, t->id));
	ck_assert_str_eq(g->name, "Rex");
	ck_assert_str_eq(g->city, "");
	ck_assert_ok(booking_theater_list_all(&l, f.bk, &anon));
	ck_assert_uint_eq(l->count, 2);
	ck_assert_str_eq(l->items[0]->name, "Rex");
	ck_assert_str_eq(l->items[1]->name, "Grand");
	ck_assert_str_eq(l->items[1]->city, "Paris");
	booking_theater_free(t);
	booking_theater_free(g);
	booking_theater_list_free(l);
}
END_TEST

START_TEST(theater_create_validates_and_is_admin_only)
{
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	booking_theater *t = NULL;

	assert_validation_names(booking_theater_create(NULL, f.bk, &admin, "", "Lyon"), "name");
	assert_validation_names(booking_theater_create(NULL, f.bk, &admin, "Odeon", "\xc3"), "city");
	ck_assert_code(booking_theater_create(&t, f.bk, &alice, "Odeon", "Lyon"), "FORBIDDEN");
	ck_assert_ptr_null(t);
	ck_assert_code(booking_theater_get(&t, f.bk, &alice, UNKNOWN_ID), "THEATER_NOT_FOUND");
	ck_assert_ptr_null(t);
}
END_TEST

/* --- screens ----------------------------------------------------------- */

static void make_theater(char id[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_theater *t = NULL;

	ck_assert_ok(booking_theater_create(&t, f.bk, &admin, "Odeon", "Lyon"));
	snprintf(id, BOOKING_ID_SIZE, "%s", t->id);
	booking_theater_free(t);
}

START_TEST(screen_keeps_its_seats_in_layout_order)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	char theater[BOOKING_ID_SIZE];
	booking_seat *seats = NULL;
	size_t n = 0;
	booking_screen *s = NULL, *g = NULL;

	make_theater(theater);
	ck_assert_ok(booking_layout_parse(&seats, &n, "B:2,A:2:premium", sizeof *seats));
	ck_assert_ok(booking_screen_create(&s, f.bk, &admin, theater, "Salle 1", seats, n, sizeof *seats));
	memset(seats, 0, n * sizeof(*seats)); /* the library copied them */
	booking_free(seats);
	assert_uuid_v7(s->id);
	ck_assert_str_eq(s->theater_id, theater);
	ck_assert_str_eq(s->name, "Salle 1");
	ck_assert_ok(booking_screen_get(&g, f.bk, &anon, s->id));
	ck_assert_uint_eq(g->seat_count, 4);
	ck_assert_str_eq(g->seats[0]->label, "B1");
	ck_assert_str_eq(g->seats[1]->label, "B2");
	ck_assert_str_eq(g->seats[2]->label, "A1");
	ck_assert_str_eq(g->seats[2]->category, "premium");
	ck_assert_str_eq(g->seats[0]->category, "standard");
	booking_screen_free(s);
	booking_screen_free(g);
}
END_TEST

START_TEST(screen_seats_get_their_row_and_number_from_their_labels)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	char theater[BOOKING_ID_SIZE];
	/* row and number left empty: the library reads them off the labels */
	booking_seat seats[6] = {{.label = "A12", .category = "standard"}, {.label = "AA7", .category = "standard"},
	                         {.label = "12", .category = "standard"},  {.label = "BOX", .category = "standard"},
	                         {.label = "A-2", .category = "standard"}, {.label = "2B", .category = "standard"}};
	static const char *const rows[6] = {"A", "AA", "", "BOX", "A", ""};
	static const int numbers[6] = {12, 7, 12, 0, 0, 0};
	booking_screen *s = NULL, *g = NULL;

	make_theater(theater);
	ck_assert_ok(booking_screen_create(&s, f.bk, &admin, theater, "Odd", seats, 6, sizeof *seats));
	ck_assert_ok(booking_screen_get(&g, f.bk, &anon, s->id));
	for (size_t i = 0; i < 6; i++) {
		ck_assert_str_eq(s->seats[i]->row, rows[i]);
		ck_assert_int_eq(s->seats[i]->number, numbers[i]);
		ck_assert_str_eq(g->seats[i]->label, seats[i].label);
		ck_assert_str_eq(g->seats[i]->row, rows[i]);
		ck_assert_int_eq(g->seats[i]->number, numbers[i]);
	}
	booking_screen_free(s);
	booking_screen_free(g);
}
END_TEST

START_TEST(screen_create_refuses_a_row_or_number_its_label_does_not_name)
{
	booking_ctx admin = fx_admin();
	char theater[BOOKING_ID_SIZE];
	booking_seat given[1] = {{.label = "K101", .category = "standard", .row = "K", .number = 101}};
	booking_seat wrong_row[1] = {{.label = "K101", .category = "standard", .row = "L", .number = 101}};
	booking_seat wrong_number[1] = {{.label = "K101", .category = "standard", .row = "K", .number = 1}};
	booking_seat row_only[1] = {{.label = "K101", .category = "standard", .row = "K"}};

	make_theater(theater);
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", wrong_row, 1, sizeof(booking_seat)), "VALIDATION_ERROR");
	ck_assert_str_eq(booking_error_detail(NULL, "field"), "seats.row");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", wrong_number, 1, sizeof(booking_seat)), "VALIDATION_ERROR");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", row_only, 1, sizeof(booking_seat)), "VALIDATION_ERROR");
	ck_assert_ok(booking_screen_create(NULL, f.bk, &admin, theater, "S", given, 1, sizeof(booking_seat)));
}
END_TEST

START_TEST(screen_of_unknown_theater_is_theater_not_found)
{
	booking_ctx admin = fx_admin();
	booking_seat seat = {.label = "A1", .category = "standard"};
	booking_screen *s = (booking_screen *)&s;

	ck_assert_code(booking_screen_create(&s, f.bk, &admin, UNKNOWN_ID, "S", &seat, 1, sizeof(booking_seat)), "THEATER_NOT_FOUND");
	ck_assert_ptr_null(s);
	ck_assert_code(booking_screen_get(&s, f.bk, &admin, UNKNOWN_ID), "SCREEN_NOT_FOUND");
	ck_assert_ptr_null(s);
}
END_TEST

START_TEST(screen_create_validates_seats)
{
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	char theater[BOOKING_ID_SIZE];
	booking_seat dup[2] = {{.label = "A1", .category = "standard"}, {.label = "A1", .category = "standard"}};
	booking_seat bad_label[1] = {{.label = "A 1", .category = "standard"}};
	booking_seat bad_category[1] = {{.label = "A1", .category = "Standard"}};
	booking_seat ok[1] = {{.label = "A1", .category = "standard"}};
	booking_seat *many = NULL, *big;
	size_t n = 0;

	make_theater(theater);
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", ok, 0, sizeof *ok), "VALIDATION_ERROR");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", dup, 2, sizeof *dup), "VALIDATION_ERROR");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", bad_label, 1, sizeof *bad_label), "VALIDATION_ERROR");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", bad_category, 1, sizeof *bad_category), "VALIDATION_ERROR");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "", ok, 1, sizeof *ok), "VALIDATION_ERROR");
	ck_assert_code(booking_screen_create(NULL, f.bk, &alice, theater, "S", ok, 1, sizeof *ok), "FORBIDDEN");
	/* 100001 seats: A-CV:999 is 100 rows of 999, CW:100 makes 100000, one more by hand */
	ck_assert_ok(booking_layout_parse(&many, &n, "A-CV:999,CW:100", sizeof *many));
	ck_assert_uint_eq(n, 100000);
	ck_assert_str_eq(many[99999].label, "CW100");
	big = calloc(100001, sizeof(*big));
	memcpy(big, many, 100000 * sizeof(*big));
	snprintf(big[100000].label, sizeof(big[100000].label), "CX1");
	snprintf(big[100000].category, sizeof(big[100000].category), "standard");
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "Big", big, 100001, sizeof *big), "VALIDATION_ERROR");
	ck_assert_ok(booking_screen_create(NULL, f.bk, &admin, theater, "Big", many, 100000, sizeof *many));
	booking_free(many);
	free(big);
}
END_TEST

/* --- showtimes --------------------------------------------------------- */

START_TEST(showtime_gets_one_free_seat_per_seat_of_its_screen)
{
	booking_ctx anon = fx_anonymous();
	booking_showtime *s = NULL;
	booking_seat_map *m = NULL;

	fx_seed(&f);
	ck_assert_ok(booking_showtime_get(&s, f.bk, &anon, f.showtime_id));
	assert_uuid_v7(s->id);
	ck_assert_str_eq(s->movie_id, f.movie_id);
	ck_assert_str_eq(s->screen_id, f.screen_id);
	ck_assert_int_eq(s->starts_at, FX_T0 + FX_DAY);
	ck_assert_str_eq(s->currency, "EUR");
	ck_assert_int_eq(s->status, BOOKING_SHOWTIME_SCHEDULED);
	ck_assert_uint_eq(s->price_count, 1);
	ck_assert_str_eq(s->prices[0]->category, "standard");
	ck_assert_int_eq(s->prices[0]->amount, FX_PRICE);
	booking_showtime_free(s);

	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anon, f.showtime_id));
	ck_assert_str_eq(m->showtime_id, f.showtime_id);
	ck_assert_str_eq(m->currency, "EUR");
	ck_assert_uint_eq(m->count, FX_SEATS);
	ck_assert_uint_eq(m->free_count, FX_SEATS);
	ck_assert_uint_eq(m->held_count, 0);
	ck_assert_uint_eq(m->sold_count, 0);
	ck_assert_str_eq(m->seats[0]->label, "A1");
	ck_assert_str_eq(m->seats[0]->row, "A");
	ck_assert_int_eq(m->seats[0]->number, 1);
	ck_assert_str_eq(m->seats[29]->label, "C10");
	ck_assert_str_eq(m->seats[29]->row, "C");
	ck_assert_int_eq(m->seats[29]->number, 10);
	for (size_t i = 0; i < m->count; i++) {
		ck_assert_int_eq(m->seats[i]->status, BOOKING_SEAT_FREE);
		ck_assert_int_eq(m->seats[i]->price, FX_PRICE);
		ck_assert_str_eq(m->seats[i]->category, "standard");
	}
	booking_seat_map_free(m);
}
END_TEST

static void make_two_category_screen(char screen[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	char theater[BOOKING_ID_SIZE];
	booking_seat *seats = NULL;
	size_t n = 0;
	booking_screen *s = NULL;

	make_theater(theater);
	ck_assert_ok(booking_layout_parse(&seats, &n, "A:2,B:2:premium", sizeof *seats));
	ck_assert_ok(booking_screen_create(&s, f.bk, &admin, theater, "Two", seats, n, sizeof *seats));
	snprintf(screen, BOOKING_ID_SIZE, "%s", s->id);
	booking_screen_free(s);
	booking_free(seats);
}

static void make_movie(char movie[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_movie *m = NULL;

	ck_assert_ok(booking_movie_create(&m, f.bk, &admin, "M", 100));
	snprintf(movie, BOOKING_ID_SIZE, "%s", m->id);
	booking_movie_free(m);
}

START_TEST(showtime_prices_each_seat_by_its_category)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	char screen[BOOKING_ID_SIZE], movie[BOOKING_ID_SIZE];
	booking_price prices[2] = {{"premium", 1800}, {"standard", 900}};
	booking_showtime *s = NULL;
	booking_seat_map *m = NULL;

	make_two_category_screen(screen);
	make_movie(movie);
	ck_assert_ok(booking_showtime_create(&s, f.bk, &admin, movie, screen, FX_T0 + FX_HOUR, "USD", prices, 2, sizeof *prices));
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anon, s->id));
	ck_assert_uint_eq(m->count, 4);
	ck_assert_str_eq(m->currency, "USD");
	ck_assert_str_eq(m->seats[0]->label, "A1");
	ck_assert_int_eq(m->seats[0]->price, 900);
	ck_assert_str_eq(m->seats[3]->label, "B2");
	ck_assert_str_eq(m->seats[3]->category, "premium");
	ck_assert_int_eq(m->seats[3]->price, 1800);
	booking_seat_map_free(m);
	booking_showtime_free(s);
}
END_TEST

/* A caller built against a later release: its records end with a field this library does not know. */
typedef struct newer_seat {
	booking_seat seat;
	char later_field[24];
} newer_seat;
typedef struct newer_price {
	booking_price price;
	int64_t later_field;
} newer_price;

START_TEST(input_records_are_read_by_the_callers_record_size)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	char theater[BOOKING_ID_SIZE], movie[BOOKING_ID_SIZE];
	newer_seat seats[2] = {{{.label = "A1", .category = "standard"}, "x"}, {{.label = "A2", .category = "premium"}, "y"}};
	newer_price prices[2] = {{{"standard", 900}, 7}, {{"premium", 1800}, 8}};
	booking_screen *s = NULL;
	booking_showtime *sh = NULL;
	booking_seat_map *m = NULL;

	make_theater(theater);
	make_movie(movie);
	/* smaller than the first release's record: refused, naming the size */
	ck_assert_code(booking_screen_create(NULL, f.bk, &admin, theater, "S", &seats[0].seat, 2,
	                                     offsetof(booking_seat, category)),
	               "VALIDATION_ERROR");
	ck_assert_str_eq(booking_error_detail(NULL, "field"), "seat_size");
	/* larger: stepped through by its size, the unknown tail ignored */
	ck_assert_ok(booking_screen_create(&s, f.bk, &admin, theater, "S", &seats[0].seat, 2, sizeof *seats));
	ck_assert_uint_eq(s->seat_count, 2);
	ck_assert_str_eq(s->seats[1]->label, "A2");
	ck_assert_str_eq(s->seats[1]->category, "premium");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, s->id, FX_T0 + FX_HOUR, "EUR", &prices[0].price,
	                                       2, sizeof(booking_price) - 1),
	               "VALIDATION_ERROR");
	ck_assert_str_eq(booking_error_detail(NULL, "field"), "price_size");
	ck_assert_ok(booking_showtime_create(&sh, f.bk, &admin, movie, s->id, FX_T0 + FX_HOUR, "EUR", &prices[0].price, 2,
	                                     sizeof *prices));
	ck_assert_uint_eq(sh->price_count, 2);
	ck_assert_int_eq(sh->prices[1]->amount, 1800);
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anon, sh->id));
	ck_assert_int_eq(m->seats[1]->price, 1800);
	booking_seat_map_free(m);
	booking_showtime_free(sh);
	booking_screen_free(s);
}
END_TEST

START_TEST(showtime_prices_must_name_every_category_and_no_other)
{
	booking_ctx admin = fx_admin();
	char screen[BOOKING_ID_SIZE], movie[BOOKING_ID_SIZE];
	booking_price missing[1] = {{"standard", 900}};
	booking_price extra[3] = {{"standard", 900}, {"premium", 1800}, {"vip", 5000}};
	booking_price negative[2] = {{"standard", -1}, {"premium", 1800}};
	booking_price twice[3] = {{"standard", 900}, {"premium", 1800}, {"premium", 1700}};
	booking_price ok[2] = {{"standard", 0}, {"premium", 1800}};
	int64_t at = FX_T0 + FX_HOUR;

	make_two_category_screen(screen);
	make_movie(movie);
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "EUR", missing, 1, sizeof *missing),
	               "VALIDATION_ERROR");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "EUR", extra, 3, sizeof *extra),
	               "VALIDATION_ERROR");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "EUR", negative, 2, sizeof *negative),
	               "VALIDATION_ERROR");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "EUR", twice, 3, sizeof *twice),
	               "VALIDATION_ERROR");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "eur", ok, 2, sizeof *ok),
	               "VALIDATION_ERROR");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "EURO", ok, 2, sizeof *ok),
	               "VALIDATION_ERROR");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, NULL, ok, 2, sizeof *ok),
	               "VALIDATION_ERROR");
	ck_assert_ok(booking_showtime_create(NULL, f.bk, &admin, movie, screen, at, "EUR", ok, 2, sizeof *ok));
}
END_TEST

START_TEST(showtime_of_unknown_movie_or_screen_is_not_found)
{
	booking_ctx admin = fx_admin(), alice = fx_customer("alice");
	booking_price price = {"standard", 100};
	booking_showtime *s = (booking_showtime *)&s;
	booking_seat_map *m = (booking_seat_map *)&m;

	fx_seed(&f);
	ck_assert_code(booking_showtime_create(&s, f.bk, &admin, UNKNOWN_ID, f.screen_id, FX_T0 + FX_HOUR, "EUR",
	                                       &price, 1, sizeof(booking_price)),
	               "MOVIE_NOT_FOUND");
	ck_assert_ptr_null(s);
	ck_assert_code(booking_showtime_create(NULL, f.bk, &admin, f.movie_id, UNKNOWN_ID, FX_T0 + FX_HOUR, "EUR",
	                                       &price, 1, sizeof(booking_price)),
	               "SCREEN_NOT_FOUND");
	ck_assert_code(booking_showtime_create(NULL, f.bk, &alice, f.movie_id, f.screen_id, FX_T0 + FX_HOUR, "EUR",
	                                       &price, 1, sizeof(booking_price)),
	               "FORBIDDEN");
	s = (booking_showtime *)&s;
	ck_assert_code(booking_showtime_get(&s, f.bk, &alice, UNKNOWN_ID), "SHOWTIME_NOT_FOUND");
	ck_assert_ptr_null(s);
	ck_assert_code(booking_seat_map_get(&m, f.bk, &alice, UNKNOWN_ID), "SHOWTIME_NOT_FOUND");
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(showtime_list_is_by_start_time_and_filters_by_movie)
{
	booking_ctx admin = fx_admin(), anon = fx_anonymous();
	booking_price price = {"standard", 100};
	char other_movie[BOOKING_ID_SIZE], late[BOOKING_ID_SIZE], early[BOOKING_ID_SIZE];
	booking_showtime *s = NULL;
	booking_showtime_list *l = NULL;

	fx_seed(&f); /* showtime tomorrow */
	fx_add_showtime(&f, 3 * FX_DAY, late);
	fx_add_showtime(&f, FX_HOUR, early);
	make_movie(other_movie);
	ck_assert_ok(booking_showtime_create(&s, f.bk, &admin, other_movie, f.screen_id, FX_T0 + 2 * FX_DAY, "EUR",
	                                     &price, 1, sizeof(booking_price)));

	ck_assert_ok(booking_showtime_list_all(&l, f.bk, &anon, NULL));
	ck_assert_uint_eq(l->count, 4);
	ck_assert_str_eq(l->items[0]->id, early);
	ck_assert_str_eq(l->items[1]->id, f.showtime_id);
	ck_assert_str_eq(l->items[2]->id, s->id);
	ck_assert_str_eq(l->items[3]->id, late);
	ck_assert_uint_eq(l->items[0]->price_count, 1);
	booking_showtime_list_free(l);

	ck_assert_ok(booking_showtime_list_all(&l, f.bk, &anon, f.movie_id));
	ck_assert_uint_eq(l->count, 3);
	ck_assert_str_eq(l->items[0]->id, early);
	ck_assert_str_eq(l->items[2]->id, late);
	booking_showtime_list_free(l);

	ck_assert_ok(booking_showtime_list_all(&l, f.bk, &anon, other_movie));
	ck_assert_uint_eq(l->count, 1);
	booking_showtime_list_free(l);
	booking_showtime_free(s);
}
END_TEST

START_TEST(seat_map_shows_held_and_sold_seats)
{
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE];
	booking_ctx anon = fx_anonymous();
	booking_seat_map *m = NULL;

	fx_seed(&f);
	fx_hold_ok(&f, "alice", "A1,A2", b1);
	fx_hold_ok(&f, "bob", "B5", b2);
	ck_assert_ok(fx_pay(&f, NULL, "bob", b2, "k1", FX_CARD_OK));
	ck_assert_ok(booking_seat_map_get(&m, f.bk, &anon, f.showtime_id));
	ck_assert_uint_eq(m->free_count, FX_SEATS - 3);
	ck_assert_uint_eq(m->held_count, 2);
	ck_assert_uint_eq(m->sold_count, 1);
	ck_assert_int_eq(m->seats[0]->status, BOOKING_SEAT_HELD);
	ck_assert_int_eq(m->seats[1]->status, BOOKING_SEAT_HELD);
	ck_assert_int_eq(m->seats[2]->status, BOOKING_SEAT_FREE);
	ck_assert_int_eq(m->seats[14]->status, BOOKING_SEAT_SOLD); /* B5 */
	booking_seat_map_free(m);
}
END_TEST

START_TEST(handle_opened_by_url_works_and_describes_its_backends)
{
	booking_options o;
	fx g;
	char *d;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "memory:";
	o.lock_url = "memory:";
	o.events_url = "memory:";
	fx_open(&g, &o);
	fx_seed(&g);
	ck_assert_ok(booking_describe(&d, g.bk));
	ck_assert_ptr_nonnull(d);
	ck_assert_msg(strstr(d, "\"store\"") && strstr(d, "\"locks\"") && strstr(d, "\"events\"") &&
	                  strstr(d, "\"gateway\""),
	              "describe: %s", d);
	ck_assert_msg(strstr(d, "memory:") != NULL, "describe: %s", d);
	booking_free(d);
	ck_assert_int_eq(booking_now(g.bk), FX_T0);
	fx_close(&g);
}
END_TEST

/* A store scheme that opens a memory store whatever its URL says: to see how a URL with credentials is described. */
static int memory_under_any_url(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)url;
	(void)payload;
	return booking_store_open(out, "memory:", clock);
}

START_TEST(describe_never_shows_a_password)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	def.scheme = "redacttest";
	def.store = memory_under_any_url;
	ck_assert_ok(booking_backend_register(&def));
	booking_options o;
	fx g;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "redacttest://alice:s3cret@db.example/booking?sslmode=require&password=hunter2&sslpassword=x9"
	              "&application_name=box#frag";
	fx_open(&g, &o);
	char *d = NULL;
	ck_assert_ok(booking_describe(&d, g.bk));
	ck_assert_ptr_nonnull(d);
	ck_assert_msg(!strstr(d, "s3cret") && !strstr(d, "hunter2") && !strstr(d, "x9"), "describe: %s", d);
	ck_assert_msg(strstr(d, "redacttest://alice:***@db.example/booking?sslmode=require&password=***&sslpassword=***"
	                        "&application_name=box#frag"),
	              "describe: %s", d);
	booking_free(d);
	fx_close(&g);
	ck_assert_ok(booking_backend_unregister("redacttest"));
}
END_TEST

START_TEST(migrate_is_idempotent)
{
	int v1 = 0, v2 = 0;

	ck_assert_ok(booking_migrate(&v1, f.bk));
	ck_assert_int_gt(v1, 0);
	ck_assert_ok(booking_migrate(&v2, f.bk));
	ck_assert_int_eq(v1, v2);
	ck_assert_ok(booking_migrate(NULL, f.bk));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("catalog");
	TCase *tc = tcase_create("catalog");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, admin_creates_a_movie_and_reads_it_back);
	tcase_add_test(tc, movie_create_accepts_null_out);
	tcase_add_test(tc, movie_list_is_ordered_by_creation);
	tcase_add_test(tc, movie_list_of_an_empty_catalog_is_empty);
	tcase_add_test(tc, movie_create_by_a_customer_is_forbidden);
	tcase_add_test(tc, movie_create_validates_title_and_duration);
	tcase_add_test(tc, movie_get_of_unknown_id_is_movie_not_found);
	tcase_add_test(tc, movie_get_of_malformed_id_is_refused);
	tcase_add_test(tc, theater_without_city_has_an_empty_city);
	tcase_add_test(tc, theater_create_validates_and_is_admin_only);
	tcase_add_test(tc, screen_keeps_its_seats_in_layout_order);
	tcase_add_test(tc, screen_seats_get_their_row_and_number_from_their_labels);
	tcase_add_test(tc, screen_create_refuses_a_row_or_number_its_label_does_not_name);
	tcase_add_test(tc, screen_of_unknown_theater_is_theater_not_found);
	tcase_add_test(tc, screen_create_validates_seats);
	tcase_add_test(tc, showtime_gets_one_free_seat_per_seat_of_its_screen);
	tcase_add_test(tc, showtime_prices_each_seat_by_its_category);
	tcase_add_test(tc, showtime_prices_must_name_every_category_and_no_other);
	tcase_add_test(tc, input_records_are_read_by_the_callers_record_size);
	tcase_add_test(tc, showtime_of_unknown_movie_or_screen_is_not_found);
	tcase_add_test(tc, showtime_list_is_by_start_time_and_filters_by_movie);
	tcase_add_test(tc, seat_map_shows_held_and_sold_seats);
	tcase_add_test(tc, handle_opened_by_url_works_and_describes_its_backends);
	tcase_add_test(tc, describe_never_shows_a_password);
	tcase_add_test(tc, migrate_is_idempotent);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
