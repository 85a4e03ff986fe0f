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

START_TEST(layout_without_aisles_gives_each_seat_its_number_as_column)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "A-B:3", sizeof *seats));
	ck_assert_uint_eq(n, 6);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(seats[i].column, seats[i].number);
	booking_free(seats);
}
END_TEST

START_TEST(layout_with_aisles_numbers_across_them_and_counts_each_aisle_as_a_column)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "A-H:4+8+4,J:2+2:premium", sizeof *seats));
	ck_assert_uint_eq(n, 8 * 16 + 4);
	for (int i = 0; i < 16; i++) { /* row A: A1..A16, aisles after A4 and A12 */
		char label[8];
		snprintf(label, sizeof label, "A%d", i + 1);
		ck_assert_str_eq(seats[i].label, label);
		ck_assert_str_eq(seats[i].row, "A");
		ck_assert_int_eq(seats[i].number, i + 1);
		ck_assert_int_eq(seats[i].column, i < 4 ? i + 1 : i < 12 ? i + 2 : i + 3);
	}
	ck_assert_int_eq(seats[3].column, 4);   /* A4 */
	ck_assert_int_eq(seats[4].column, 6);   /* A5, after the aisle */
	ck_assert_int_eq(seats[11].column, 13); /* A12 */
	ck_assert_int_eq(seats[12].column, 15); /* A13 */
	ck_assert_int_eq(seats[15].column, 18); /* A16 */
	ck_assert_str_eq(seats[16].label, "B1");
	ck_assert_int_eq(seats[16].column, 1);
	ck_assert_str_eq(seats[127].label, "H16");
	ck_assert_int_eq(seats[127].column, 18);
	ck_assert_str_eq(seats[128].label, "J1");
	ck_assert_str_eq(seats[130].label, "J3");
	ck_assert_int_eq(seats[130].number, 3);
	ck_assert_int_eq(seats[130].column, 4);
	ck_assert_str_eq(seats[131].category, "premium");
	booking_free(seats);
}
END_TEST

START_TEST(layout_blocks_may_be_single_seats_up_to_999_in_a_row)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "A:1+1+1,B:500+499", sizeof *seats));
	ck_assert_uint_eq(n, 3 + 999);
	ck_assert_int_eq(seats[0].column, 1);
	ck_assert_int_eq(seats[1].column, 3);
	ck_assert_int_eq(seats[2].column, 5);
	ck_assert_str_eq(seats[2].label, "A3");
	ck_assert_str_eq(seats[3 + 998].label, "B999");
	ck_assert_int_eq(seats[3 + 998].column, 1000);
	booking_free(seats);
}
END_TEST

START_TEST(layout_keeps_rows_in_the_order_listed_nearest_the_screen_first)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "K:2,B-C:1", sizeof *seats));
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(seats[0].row, "K"); /* K is the front row */
	ck_assert_str_eq(seats[2].row, "B");
	ck_assert_str_eq(seats[3].row, "C"); /* C the back row */
	booking_free(seats);
}
END_TEST

START_TEST(layout_writes_records_of_an_older_caller_without_column)
{
	typedef struct older_seat { /* a caller built against the release before `column` */
		char label[BOOKING_LABEL_SIZE];
		char category[BOOKING_CATEGORY_SIZE];
		char row[BOOKING_LABEL_SIZE];
		int number;
	} older_seat;
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_uint_lt(sizeof(older_seat), sizeof(booking_seat));
	ck_assert_ok(booking_layout_parse(&seats, &n, "A:2+2,B:1:vip", sizeof(older_seat)));
	const older_seat *os = (const older_seat *)(void *)seats;
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(os[2].label, "A3");
	ck_assert_str_eq(os[2].row, "A");
	ck_assert_int_eq(os[2].number, 3);
	ck_assert_str_eq(os[4].label, "B1");
	ck_assert_str_eq(os[4].category, "vip");
	ck_assert_int_eq(os[4].number, 1);
	booking_free(seats);

	/* the first release's record: label and category only */
	ck_assert_ok(booking_layout_parse(&seats, &n, "A:1+1", offsetof(booking_seat, row)));
	const char *first = (const char *)seats;
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(first + offsetof(booking_seat, row), "A2");
	ck_assert_str_eq(first + offsetof(booking_seat, row) + offsetof(booking_seat, category), "standard");
	booking_free(seats);
}
END_TEST

START_TEST(layout_rows_of_two_letters_follow_z_in_spreadsheet_order)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, "Y-AB:2,ZZ:1:vip", sizeof *seats));
	ck_assert_uint_eq(n, 4 * 2 + 1);
	ck_assert_str_eq(seats[0].label, "Y1");
	ck_assert_str_eq(seats[2].label, "Z1");
	ck_assert_str_eq(seats[4].label, "AA1");
	ck_assert_str_eq(seats[4].row, "AA");
	ck_assert_int_eq(seats[4].number, 1);
	ck_assert_str_eq(seats[7].label, "AB2");
	ck_assert_str_eq(seats[7].row, "AB");
	ck_assert_int_eq(seats[7].number, 2);
	ck_assert_int_eq(seats[7].column, 2);
	ck_assert_str_eq(seats[8].label, "ZZ1");
	ck_assert_str_eq(seats[8].row, "ZZ");
	ck_assert_str_eq(seats[8].category, "vip");
	booking_free(seats);

	/* AZ is followed by BA */
	ck_assert_ok(booking_layout_parse(&seats, &n, "AZ-BA:1", sizeof *seats));
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(seats[0].label, "AZ1");
	ck_assert_str_eq(seats[1].label, "BA1");
	ck_assert_str_eq(seats[1].row, "BA");
	booking_free(seats);
}
END_TEST

START_TEST(layout_describes_a_venue_of_100000_seats)
{
	booking_seat *seats = NULL;
	size_t n = 0;

	/* A..Z, AA..AZ, BA..BZ, CA..CV: 100 rows of 999, and CW:100 */
	ck_assert_ok(booking_layout_parse(&seats, &n, "A-CV:999,CW:100", sizeof *seats));
	ck_assert_uint_eq(n, 100000);
	ck_assert_str_eq(seats[26 * 999].label, "AA1");
	ck_assert_str_eq(seats[99899].label, "CV999");
	ck_assert_str_eq(seats[99900].label, "CW1");
	ck_assert_str_eq(seats[99999].label, "CW100");
	ck_assert_str_eq(seats[99999].row, "CW");
	booking_free(seats);
	ck_assert_code(booking_layout_parse(&seats, &n, "A-CV:999,CW:101", sizeof *seats), "VALIDATION_ERROR");
	ck_assert_ptr_null(seats);
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
	"ABC:3",          /* a row is one or two letters */
	"Ab:3",           /* a row is capital letters */
	"AB-A:3",         /* reversed range: A comes before AB */
	"ZZ-AAA:3",       /* no row after ZZ */
	"A-B-C:3",        /* one range per group */
	"1:3",            /* a row is a letter */
	"A:3:",           /* empty category */
	"A:3:Premium",    /* categories are lower case */
	"A:3:pre mium",   /* no spaces in a category */
	"A:3:abcdefghijklmnopqrstuvwxyz012345", /* category longer than 31 bytes */
	"A:3:vip:extra",  /* too many parts */
	"A:3,,B:2",       /* empty group */
	"A:3,",           /* trailing comma */
	",A:3",           /* leading comma */
	"A:4++4",         /* empty block */
	"A:+4",           /* empty first block */
	"A:4+",           /* empty last block */
	"A:4+:vip",       /* empty last block before the category */
	"A:4+0",          /* a block below 1 */
	"A:0+4",          /* a block below 1 */
	"A:500+500",      /* more than 999 seats in a row */
	"A:4+x",          /* not a number */
	"A:4 +4",         /* no spaces in a count */
	"A-DZ:999",       /* more than 100000 seats */
};

/* Where each bad spec with aisles is refused: the offset in the details. */
static const struct {
	const char *spec;
	int offset;
} bad_offsets[] = {
	{"A:4++4", 4},
	{"A:+4", 2},
	{"A:4+", 4},
	{"A:4+0", 5},
	{"A:500+500", 9},
	{"B:3,A:1+", 8},
	{"AB-A:3", 3},
	{"ABC:3", 2},
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

START_TEST(layout_refusal_gives_the_offset)
{
	booking_seat *seats = NULL;
	size_t n = 0;
	char want[16];

	ck_assert_code(booking_layout_parse(&seats, &n, bad_offsets[_i].spec, sizeof *seats), "VALIDATION_ERROR");
	snprintf(want, sizeof want, "%d", bad_offsets[_i].offset);
	ck_assert_str_eq(booking_error_detail(NULL, "field"), "layout");
	ck_assert_msg(strcmp(booking_error_detail(NULL, "offset"), want) == 0, "spec \"%s\": offset %s, expected %s",
	              bad_offsets[_i].spec, booking_error_detail(NULL, "offset"), want);
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
	tcase_add_test(tc, layout_without_aisles_gives_each_seat_its_number_as_column);
	tcase_add_test(tc, layout_with_aisles_numbers_across_them_and_counts_each_aisle_as_a_column);
	tcase_add_test(tc, layout_blocks_may_be_single_seats_up_to_999_in_a_row);
	tcase_add_test(tc, layout_keeps_rows_in_the_order_listed_nearest_the_screen_first);
	tcase_add_test(tc, layout_writes_records_of_an_older_caller_without_column);
	tcase_add_test(tc, layout_rows_of_two_letters_follow_z_in_spreadsheet_order);
	tcase_add_test(tc, layout_describes_a_venue_of_100000_seats);
	tcase_add_loop_test(tc, layout_refuses_bad_spec, 0, (int)(sizeof(bad_specs) / sizeof(bad_specs[0])));
	tcase_add_loop_test(tc, layout_refusal_gives_the_offset, 0, (int)(sizeof(bad_offsets) / sizeof(bad_offsets[0])));
	tcase_add_test(tc, layout_refuses_null_spec);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
