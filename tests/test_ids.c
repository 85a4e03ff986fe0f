/*
 * Identifiers: booking_uuid_v7() gives RFC 9562 version 7 ids, time first,
 * none twice — also across a fork: the random bytes come from a buffer of
 * the thread's (src/uuid.c), which a forked child must not hand out again.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <booking/sys/alloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

START_TEST(ids_are_version_7_lower_hex_and_none_twice)
{
	enum { N = 5000 };
	char(*ids)[BOOKING_ID_SIZE] = calloc(N, BOOKING_ID_SIZE);
	ck_assert_ptr_nonnull(ids);
	for (size_t i = 0; i < N; i++) {
		booking_uuid_v7(ids[i], 1700000000123);
		ck_assert_uint_eq(strlen(ids[i]), 36);
		for (size_t k = 0; k < 36; k++) {
			char c = ids[i][k];
			if (k == 8 || k == 13 || k == 18 || k == 23)
				ck_assert_int_eq(c, '-');
			else
				ck_assert_msg((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'), "%s", ids[i]);
		}
		ck_assert_int_eq(ids[i][14], '7');                  /* version 7 */
		ck_assert_ptr_nonnull(strchr("89ab", ids[i][19]));  /* variant 10 */
		ck_assert_int_eq(strncmp(ids[i], "018bcfe5-687b", 13), 0); /* the time, first: 1700000000123 ms */
	}
	qsort(ids, N, BOOKING_ID_SIZE, cmp_id);
	for (size_t i = 1; i < N; i++)
		ck_assert_str_ne(ids[i - 1], ids[i]);
	free(ids);
}
END_TEST

START_TEST(a_forked_child_draws_ids_its_parent_never_draws)
{
	enum { N = 64 };
	char first[BOOKING_ID_SIZE], parent[N][BOOKING_ID_SIZE], child[N][BOOKING_ID_SIZE];
	int fds[2];

	booking_uuid_v7(first, 1700000000123); /* the thread's buffer now holds more bytes */
	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		for (size_t i = 0; i < N; i++)
			booking_uuid_v7(child[i], 1700000000123);
		_exit(write(fds[1], child, sizeof child) == (ssize_t)sizeof child ? 0 : 1);
	}
	close(fds[1]);
	for (size_t i = 0; i < N; i++)
		booking_uuid_v7(parent[i], 1700000000123);
	size_t got = 0;
	while (got < sizeof child) {
		ssize_t n = read(fds[0], (char *)child + got, sizeof child - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	close(fds[0]);
	int status = 0;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (size_t i = 0; i < N; i++)
		for (size_t k = 0; k < N; k++)
			ck_assert_str_ne(parent[i], child[k]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ids");
	TCase *tc = tcase_create("ids");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, ids_are_version_7_lower_hex_and_none_twice);
	tcase_add_test(tc, a_forked_child_draws_ids_its_parent_never_draws);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
