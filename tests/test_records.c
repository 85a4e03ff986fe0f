/*
 * Unit tests: record copies (<booking/sys/records.h>). Their allocation
 * failures run in tests/hardening/test_oom.c (flow record_copy).
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

START_TEST(copies_own_every_string_and_array)
{
	booking_seat seats[2] = {{.label = "A1", .category = "standard"}, {.label = "A2", .category = "premium"}};
	booking_seat *seat_ptrs[2] = {&seats[1], &seats[0]}; /* a view's array may point anywhere */
	booking_screen src = {"scr", "th", (char *)"Salle 1", 2, seat_ptrs, 7};
	booking_screen *s = NULL;

	ck_assert_ok(booking_screen_copy(&s, &src));
	ck_assert_str_eq(s->id, "scr");
	ck_assert_str_eq(s->theater_id, "th");
	ck_assert_str_eq(s->name, "Salle 1");
	ck_assert_ptr_ne(s->name, src.name);
	ck_assert_uint_eq(s->seat_count, 2);
	ck_assert_ptr_ne(s->seats, seat_ptrs);
	ck_assert_ptr_ne(s->seats[0], &seats[1]);
	ck_assert_str_eq(s->seats[0]->label, "A2");
	ck_assert_str_eq(s->seats[0]->category, "premium");
	ck_assert_str_eq(s->seats[1]->label, "A1");
	ck_assert_int_eq(s->created_at, 7);
	booking_screen_free(s);

	booking_seat_ref refs[1] = {{.label = "C7"}};
	booking_seat_ref *ref_ptrs[1] = {&refs[0]};
	booking_reservation r = {0};
	snprintf(r.id, sizeof(r.id), "b1");
	r.seat_count = 1;
	r.seats = ref_ptrs;
	r.version = 3;
	booking_reservation *rc = NULL;
	ck_assert_ok(booking_reservation_copy(&rc, &r));
	ck_assert_str_eq(rc->id, "b1");
	ck_assert_ptr_ne(rc->seats[0], &refs[0]);
	ck_assert_str_eq(rc->seats[0]->label, "C7");
	ck_assert_int_eq(rc->version, 3);
	booking_reservation_free(rc);

	booking_price prices[1] = {{"standard", 1250}};
	booking_price *price_ptrs[1] = {&prices[0]};
	booking_showtime sh = {0};
	sh.price_count = 1;
	sh.prices = price_ptrs;
	booking_showtime *shc = NULL;
	ck_assert_ok(booking_showtime_copy(&shc, &sh));
	ck_assert_ptr_ne(shc->prices[0], &prices[0]);
	ck_assert_int_eq(shc->prices[0]->amount, 1250);
	booking_showtime_free(shc);

	booking_payment p = {0};
	snprintf(p.gateway_ref, sizeof(p.gateway_ref), "ch_1");
	booking_payment *pc = NULL;
	ck_assert_ok(booking_payment_copy(&pc, &p));
	ck_assert_str_eq(pc->gateway_ref, "ch_1");
	booking_payment_free(pc);
}
END_TEST

START_TEST(null_strings_are_copied_as_empty_and_empty_arrays_as_null)
{
	booking_theater t = {0};
	booking_theater *tc = NULL;
	ck_assert_ok(booking_theater_copy(&tc, &t));
	ck_assert_str_eq(tc->name, "");
	ck_assert_str_eq(tc->city, "");
	booking_theater_free(tc);

	booking_movie m = {0};
	booking_movie *mc = NULL;
	ck_assert_ok(booking_movie_copy(&mc, &m));
	ck_assert_str_eq(mc->title, "");
	booking_movie_free(mc);

	booking_user u = {0};
	booking_user *uc = NULL;
	ck_assert_ok(booking_user_copy(&uc, &u));
	ck_assert_str_eq(uc->email, "");
	booking_user_free(uc);

	booking_screen s = {0};
	s.seats = (booking_seat **)&s; /* not read: no seats */
	booking_screen *sc = NULL;
	ck_assert_ok(booking_screen_copy(&sc, &s));
	ck_assert_ptr_null(sc->seats);
	booking_screen_free(sc);
}
END_TEST

START_TEST(a_record_array_is_one_block_of_pointers_then_records)
{
	void **a = NULL;

	ck_assert_ok(booking_record_array_new(&a, 3, sizeof(booking_price)));
	ck_assert_ptr_nonnull(a);
	for (size_t i = 0; i < 3; i++) {
		booking_price *p = a[i];
		ck_assert_str_eq(p->category, ""); /* zeroed */
		ck_assert_int_eq(p->amount, 0);
		ck_assert((char *)p >= (char *)(a + 3)); /* the records follow the pointers, inside the block */
		ck_assert_ptr_eq((char *)a[0] + i * sizeof(booking_price), p); /* as an array of records: aligned */
		snprintf(p->category, sizeof(p->category), "c%zu", i);
	}
	ck_assert_uint_eq((uintptr_t)a[0] % _Alignof(max_align_t), 0);
	ck_assert_str_eq(((booking_price *)a[2])->category, "c2");
	booking_free(a); /* one block: everything */

	a = (void **)&a;
	ck_assert_ok(booking_record_array_new(&a, 0, sizeof(booking_price)));
	ck_assert_ptr_null(a);
	ck_assert_code(booking_record_array_new(&a, 1, 0), "VALIDATION_ERROR");
	ck_assert_ptr_null(a);
	ck_assert_code(booking_record_array_new(NULL, 1, 8), "VALIDATION_ERROR");
	ck_assert_code(booking_record_array_new(&a, SIZE_MAX / 4, 16), "OUT_OF_MEMORY");
	ck_assert_ptr_null(a);
}
END_TEST

START_TEST(a_missing_argument_is_a_validation_error)
{
	booking_movie m = {0};
	booking_movie *out = &m;

	ck_assert_code(booking_movie_copy(&out, NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(out);
	ck_assert_code(booking_movie_copy(NULL, &m), "VALIDATION_ERROR");
	ck_assert_code(booking_payment_copy(NULL, NULL), "VALIDATION_ERROR");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("records");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, copies_own_every_string_and_array);
	tcase_add_test(tc, null_strings_are_copied_as_empty_and_empty_arrays_as_null);
	tcase_add_test(tc, a_record_array_is_one_block_of_pointers_then_records);
	tcase_add_test(tc, a_missing_argument_is_a_validation_error);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
