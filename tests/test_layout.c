/*
 * Unit tests: the seat layout parser.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

START_TEST(layout_of_row_range_and_categories_lists_seats_row_by_row)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "A-H:15,J:10:premium", sizeof *seats));
	ck_assert_uint_eq(n, 8 * 15 + 10);
	ck_assert_str_eq(seats[0].label, "A1");
	ck_assert_str_eq(seats[0].category, "standard");
	ck_assert_str_eq(seats[14].label, "A15");
	ck_assert_str_eq(seats[15].label, "B1");
	ck_assert_str_eq(seats[119].label, "H15");
	ck_assert_str_eq(seats[119].category, "standard");
	ck_assert_str_eq(seats[120].label, "J1");
	ck_assert_str_eq(seats[120].category, "premium");
	ck_assert_str_eq(seats[129].label, "J10");
	ck_assert_str_eq(seats[129].category, "premium");
	booking_free(seats);
}
END_TEST

START_TEST(layout_gives_each_seat_its_row_and_number)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "J:11,A-B:2", sizeof *seats));
	ck_assert_uint_eq(n, 15);
	ck_assert_str_eq(seats[0].row, "J");
	ck_assert_int_eq(seats[0].number, 1);
	ck_assert_str_eq(seats[10].label, "J11");
	ck_assert_str_eq(seats[10].row, "J");
	ck_assert_int_eq(seats[10].number, 11);
	ck_assert_str_eq(seats[11].row, "A");
	ck_assert_int_eq(seats[11].number, 1);
	ck_assert_str_eq(seats[14].label, "B2");
	ck_assert_str_eq(seats[14].row, "B");
	ck_assert_int_eq(seats[14].number, 2);
	booking_free(seats);
}
END_TEST

START_TEST(layout_of_one_row_defaults_to_standard)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "C:3", sizeof *seats));
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(seats[0].label, "C1");
	ck_assert_str_eq(seats[2].label, "C3");
	ck_assert_str_eq(seats[2].category, "standard");
	booking_free(seats);
}
END_TEST

START_TEST(layout_accepts_up_to_999_seats_per_row)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "Z:999:box_1-a", sizeof *seats));
	ck_assert_uint_eq(n, 999);
	ck_assert_str_eq(seats[998].label, "Z999");
	ck_assert_str_eq(seats[998].category, "box_1-a");
	booking_free(seats);
}
END_TEST

START_TEST(layout_writes_seats_of_the_callers_record_size)
{
	typedef struct newer_seat { /* a caller built against a later release */
		booking_seat seat;
		char later_field[24];
	} newer_seat;
	booking_seat *seats = (booking_seat *)&seats;
	size_t n = 9;

	ck_assert_code(booking_layout_parse(&seats, &n, "A:2", offsetof(booking_seat, category)), "VALIDATION_ERROR");
	ck_assert_str_eq(booking_error_detail(NULL, "field"), "seat_size");
	ck_assert_ptr_null(seats);
	ck_assert_uint_eq(n, 0);
	ck_assert_ok(booking_layout_parse(&seats, &n, "A:2,B:1:vip", sizeof(newer_seat)));
	const newer_seat *ns = (const newer_seat *)(void *)seats;
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(ns[1].seat.label, "A2");
	ck_assert_str_eq(ns[2].seat.label, "B1");
	ck_assert_str_eq(ns[2].seat.category, "vip");
	ck_assert_str_eq(ns[2].later_field, ""); /* unknown to this library: zero */
	booking_free(seats);
}
END_TEST

START_TEST(layout_of_the_fixture_has_thirty_seats)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, FX_LAYOUT, sizeof *seats));
	ck_assert_uint_eq(n, 30);
	ck_assert_str_eq(seats[9].label, "A10");
	ck_assert_str_eq(seats[10].label, "B1");
	ck_assert_str_eq(seats[29].label, "C10");
	booking_free(seats);
}
END_TEST

static const char *const bad_specs[] = {
	"",               /* empty */
	"A",              /* no count */
	"A:",             /* empty count */
	"A:0",            /* count below 1 */
	"A:1000",         /* count above 999 */
	"A:-3",           /* negative count */
	"A:x",            /* not a number */
	"A:3x",           /* trailing garbage in the count */
	"A-:3",           /* open range */
	"-A:3",           /* open range */
	"C-A:3",          /* reversed range */
	"AB:3",           /* a row is one letter */
	"1:3",            /* a row is a letter */
	"A:3:",           /* empty category */
	"A:3:Premium",    /* categories are lower case */
	"A:3:pre mium",   /* no spaces in a category */
	"A:3:abcdefghijklmnopqrstuvwxyz012345", /* category longer than 31 bytes */
	"A:3:vip:extra",  /* too many parts */
	"A:3,,B:2",       /* empty group */
	"A:3,",           /* trailing comma */
	",A:3",           /* leading comma */
};

START_TEST(layout_refuses_bad_spec)
{
	booking_seat *seats = (booking_seat *)&seats; /* must be reset */
	size_t n = 77;
	const char *spec = bad_specs[_i];
	int rc = booking_layout_parse(&seats, &n, spec, sizeof *seats);

	ck_assert_msg(rc == BOOKING_EVALIDATION, "spec \"%s\": expected VALIDATION_ERROR, got %s", spec,
	              booking_error_name(rc));
	ck_assert_str_eq(booking_error_last()->name, "VALIDATION_ERROR");
	ck_assert_msg(booking_error_last()->message[0] != '\0', "the message says where");
	ck_assert_ptr_null(seats);
}
END_TEST

START_TEST(layout_refuses_null_spec)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_code(booking_layout_parse(&seats, &n, NULL, sizeof *seats), "VALIDATION_ERROR");
	ck_assert_ptr_null(seats);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("layout");
	TCase *tc = tcase_create("layout");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, layout_of_row_range_and_categories_lists_seats_row_by_row);
	tcase_add_test(tc, layout_gives_each_seat_its_row_and_number);
	tcase_add_test(tc, layout_of_one_row_defaults_to_standard);
	tcase_add_test(tc, layout_accepts_up_to_999_seats_per_row);
	tcase_add_test(tc, layout_of_the_fixture_has_thirty_seats);
	tcase_add_test(tc, layout_writes_seats_of_the_callers_record_size);
	tcase_add_loop_test(tc, layout_refuses_bad_spec, 0, (int)(sizeof(bad_specs) / sizeof(bad_specs[0])));
	tcase_add_test(tc, layout_refuses_null_spec);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
