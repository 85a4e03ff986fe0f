/*
 * libbooking tests — adding the contract suites' test cases by group.
 * SPDX-License-Identifier: MIT
 */
#include "suites.h"

#define MAX_CASES 256
#define NAME_SIZE 160

static fx_case_fn case_fn;
static void *case_payload;
/* Check keeps a TCase's name pointer: the names live here, as long as the process. */
static char case_names[MAX_CASES][NAME_SIZE];
static size_t n_cases;

static const char *const group_names[] = {
	"catalog", "ledger", "outbox", "consumers", "users", "races", "check", "lock", "events",
};

const char *fx_group_name(unsigned int group)
{
	for (size_t i = 0; i < sizeof(group_names) / sizeof(group_names[0]); i++)
		if (group == 1u << i)
			return group_names[i];
	return NULL;
}

void fx_on_case(fx_case_fn fn, void *payload)
{
	case_fn = fn;
	case_payload = payload;
}

void fx_add_case(Suite *s, unsigned int groups, unsigned int group, const TTest *test, SFun setup, SFun teardown,
                 double timeout)
{
	const char *gname = fx_group_name(group);
	TCase *tc;

	if (!(groups & group))
		return;
	if (case_fn)
		case_fn(group, test->name, case_payload);
	if (gname && n_cases < MAX_CASES) {
		snprintf(case_names[n_cases], NAME_SIZE, "%s/%s", gname, test->name);
		tc = tcase_create(case_names[n_cases++]);
	} else {
		tc = tcase_create(test->name); /* still run, under its bare name */
	}
	if (setup || teardown)
		tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}
