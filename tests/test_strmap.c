/*
 * The in-process backends' string map (backends/memory/strmap.h): a key
 * given in two parts (a, b) is the string a "\n" b, so both must hash and
 * compare alike, whatever the parts' lengths and however many '\n' they
 * hold (the hash reads eight bytes at a time and splits at '\n'); entries
 * put, found, removed (backward shift: every other entry still found) and
 * swept, across growth.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include "memory/strmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(a_two_part_key_hashes_as_the_whole_string)
{
	static const char *const parts[] = {"", "a", "\n", "ab\ncd", "0123456", "01234567", "012345678",
	                                    "0123456789abcdef", "0123456789abcdef0", "x\n\ny", "\n\n\n",
	                                    "019b3a1e-2c4d-7e5f-8a9b-0c1d2e3f4a5b", "seat A12\n"};
	size_t n = sizeof parts / sizeof parts[0];
	char whole[256];

	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(booking__strmap_hash(parts[i], NULL), booking__strmap_hash(parts[i], NULL));
		for (size_t j = 0; j < n; j++) {
			snprintf(whole, sizeof whole, "%s\n%s", parts[i], parts[j]);
			ck_assert_msg(booking__strmap_hash(parts[i], parts[j]) == booking__strmap_hash(whole, NULL),
			              "(\"%s\", \"%s\") hashes apart from its whole string", parts[i], parts[j]);
		}
	}
	/* and the parts matter: the same bytes split elsewhere, or a byte more, hash apart (these do) */
	ck_assert_uint_ne(booking__strmap_hash("ab", "c"), booking__strmap_hash("abc", NULL));
	ck_assert_uint_ne(booking__strmap_hash("0123456", NULL), booking__strmap_hash("01234567", NULL));
	ck_assert_uint_ne(booking__strmap_hash("", NULL), booking__strmap_hash("\n", NULL));
}
END_TEST

enum { N = 20000 };

static char keys[N][48];

static bool even(const void *val, const void *arg)
{
	(void)arg;
	return *(const int *)val % 2 == 0;
}

START_TEST(entries_are_found_by_either_form_removed_and_swept_across_growth)
{
	booking__strmap m = {0};
	int *vals = calloc(N, sizeof *vals);

	ck_assert_ptr_nonnull(vals);
	for (int i = 0; i < N; i++) {
		snprintf(keys[i], sizeof keys[i], "showtime-%d\nA%d", i % 97, i);
		vals[i] = i;
		ck_assert_int_eq(booking__strmap_reserve(&m, 1), 0);
		booking__strmap_put(&m, keys[i], &vals[i]);
	}
	ck_assert_uint_eq(m.count, N);
	for (int i = 0; i < N; i++) {
		char a[24], b[24];
		snprintf(a, sizeof a, "showtime-%d", i % 97);
		snprintf(b, sizeof b, "A%d", i);
		ck_assert_ptr_eq(booking__strmap_get(&m, a, b), &vals[i]);
		ck_assert_ptr_eq(booking__strmap_get(&m, keys[i], NULL), &vals[i]);
	}
	ck_assert_ptr_null(booking__strmap_get(&m, "showtime-1", "A0")); /* A0 is showtime-0's */
	ck_assert_ptr_null(booking__strmap_get(&m, "showtime-0", NULL));
	/* remove every third: the others are still found (the chains behind each hole moved up) */
	for (int i = 0; i < N; i += 3)
		ck_assert_ptr_eq(booking__strmap_remove(&m, booking__strmap_hash(keys[i], NULL), keys[i], NULL), &vals[i]);
	for (int i = 0; i < N; i++)
		ck_assert_ptr_eq(booking__strmap_get(&m, keys[i], NULL), i % 3 == 0 ? NULL : &vals[i]);
	/* sweep (it frees what it removes: copies) the even values */
	booking__strmap m2 = {0};
	for (int i = 0; i < N; i++) {
		int *v = booking_malloc(sizeof *v);
		ck_assert_ptr_nonnull(v);
		*v = i;
		ck_assert_int_eq(booking__strmap_reserve(&m2, 1), 0);
		booking__strmap_put(&m2, keys[i], v);
	}
	booking__strmap_sweep(&m2, even, NULL);
	ck_assert_uint_eq(m2.count, N / 2);
	for (int i = 0; i < N; i++) {
		const int *v = booking__strmap_get(&m2, keys[i], NULL);
		if (i % 2 == 0)
			ck_assert_ptr_null(v);
		else
			ck_assert(v != NULL && *v == i);
	}
	booking__strmap_free_all(&m2);
	booking__strmap_clear(&m);
	free(vals);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("strmap");
	TCase *tc = tcase_create("strmap");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_two_part_key_hashes_as_the_whole_string);
	tcase_add_test(tc, entries_are_found_by_either_form_removed_and_swept_across_growth);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
