/*
 * Unit tests: the parser of the settings in a backend's URL (sys/url.h)
 * that every built-in backend reads its parameters with.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <booking/sys/url.h>

#include <string.h>

/* Move q to its next parameter, which must exist: its key as written, its value decoded. */
static void next_ok(booking_url_query *q, char *key, size_t key_size, char *value, size_t value_size)
{
	ck_assert_int_eq(booking_url_query_next(q), 1);
	ck_assert_int_ge(booking_url_query_text(value, value_size, q), 0);
	snprintf(key, key_size, "%.*s", (int)q->param.key_len, q->param.key);
}

static bool has(const char *haystack, const char *needle)
{
	return haystack && strstr(haystack, needle) != NULL;
}

START_TEST(parameters_come_in_order_and_empty_ones_are_skipped)
{
	booking_url_query q;
	char key[64], value[64];
	booking_url_query_init(&q, "sqlite:///var/lib/b.db?&pool=10&&pool_timeout=30&flag&", "store_url");
	next_ok(&q, key, sizeof(key), value, sizeof(value));
	ck_assert_str_eq(key, "pool");
	ck_assert_str_eq(value, "10");
	ck_assert(booking_url_query_is(&q, "pool"));
	ck_assert(!booking_url_query_is(&q, "poo"));
	ck_assert(!booking_url_query_is(&q, "pool_timeout"));
	next_ok(&q, key, sizeof(key), value, sizeof(value));
	ck_assert_str_eq(key, "pool_timeout");
	ck_assert_str_eq(value, "30");
	ck_assert_int_eq((int)q.param.text_len, (int)strlen("pool_timeout=30"));
	ck_assert(strncmp(q.param.text, "pool_timeout=30", q.param.text_len) == 0);
	next_ok(&q, key, sizeof(key), value, sizeof(value));
	ck_assert_str_eq(key, "flag"); /* no '=': an empty value */
	ck_assert_str_eq(value, "");
	ck_assert_int_eq(booking_url_query_next(&q), 0);
	ck_assert_int_eq(booking_url_query_next(&q), 0); /* and stays at the end */

	booking_url_query_init(&q, "memory:", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 0);
	booking_url_query_init(&q, "memory:?", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 0);
	booking_url_query_init(&q, NULL, NULL);
	ck_assert_int_eq(booking_url_query_next(&q), 0);

	ck_assert_uint_eq(booking_url_base_len("sqlite:///a.db?pool=1"), strlen("sqlite:///a.db"));
	ck_assert_uint_eq(booking_url_base_len("sqlite:///a.db"), strlen("sqlite:///a.db"));
	ck_assert_uint_eq(booking_url_base_len("x:?a=1?b=2"), 2); /* the first '?' starts the query */
}
END_TEST

START_TEST(keys_and_values_are_percent_decoded)
{
	booking_url_query q;
	char value[64];
	/* key "a=b&c", value "x&y=z %", and '+' stays a plus */
	booking_url_query_init(&q, "s:?a%3Db%26c=x%26y%3dz%20%25&p%6Fol=1+2", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert(booking_url_query_is(&q, "a=b&c"));
	ck_assert_int_eq(booking_url_query_text(value, sizeof(value), &q), (int)strlen("x&y=z %"));
	ck_assert_str_eq(value, "x&y=z %");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert(booking_url_query_is(&q, "pool"));
	ck_assert_int_eq(booking_url_query_text(value, sizeof(value), &q), 3);
	ck_assert_str_eq(value, "1+2");
	int n = 0;
	ck_assert_code(booking_url_query_int(&n, &q, 1, 50), "VALIDATION_ERROR"); /* "1+2" is no integer */

	booking_url_query_init(&q, "s:?pool=%31%30", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_ok(booking_url_query_int(&n, &q, 1, 50));
	ck_assert_int_eq(n, 10);
}
END_TEST

START_TEST(malformed_escapes_empty_names_and_overlong_text_are_refused)
{
	static const char *const bad[] = {
	    "s:?pool=%G1", "s:?pool=%4", "s:?pool=1%", "s:?po%zzol=1", "s:?pool=%00", "s:?=5", "s:?a=1&%=2",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		booking_url_query q;
		booking_url_query_init(&q, bad[i], "store_url");
		int rc = booking_url_query_next(&q);
		if (rc == 1 && q.param.key_len == 1 && q.param.key[0] == 'a') /* "a=1" first */
			rc = booking_url_query_next(&q);
		ck_assert_msg(rc == BOOKING_EVALIDATION, "%s: answered %d", bad[i], rc);
		ck_assert_msg(has(booking_error_last()->details_json, "\"field\":\"store_url\""), "%s: %s", bad[i],
		              booking_error_last()->details_json);
		ck_assert_msg(has(booking_error_last()->message, "store_url: parameter"), "%s: %s", bad[i],
		              booking_error_last()->message);
	}

	char url[1200] = "s:?k=";
	memset(url + 5, 'v', 1025);
	url[5 + 1025] = '\0';
	booking_url_query q;
	booking_url_query_init(&q, url, "lock_url");
	ck_assert_code(booking_url_query_next(&q), "VALIDATION_ERROR");
	ck_assert(has(booking_error_last()->message, "longer than 1024"));
	url[5 + 1024] = '\0'; /* exactly the most */
	booking_url_query_init(&q, url, "lock_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);

	/* text longer than the caller's buffer */
	char small[4];
	booking_url_query_init(&q, "s:?stream=abcd", "events_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_code(booking_url_query_text(small, sizeof(small), &q), "VALIDATION_ERROR");
	ck_assert(has(booking_error_last()->message, "events_url: stream=\"abcd\": longer than 3 bytes"));
	ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(integers_are_range_checked_naming_the_field_and_parameter)
{
	static const struct {
		const char *url;
		bool ok;
		int value;
	} cases[] = {
	    {"s:?pool=1", true, 1},      {"s:?pool=50", true, 50},   {"s:?pool=0", false, 0},
	    {"s:?pool=51", false, 0},    {"s:?pool=-1", false, 0},   {"s:?pool=", false, 0},
	    {"s:?pool", false, 0},       {"s:?pool=+5", false, 0},   {"s:?pool= 5", false, 0},
	    {"s:?pool=5x", false, 0},    {"s:?pool=0x5", false, 0},  {"s:?pool=-", false, 0},
	    {"s:?pool=99999999999999999999999", false, 0},           {"s:?pool=007", true, 7},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		booking_url_query q;
		int v = -99;
		booking_url_query_init(&q, cases[i].url, "store_url");
		ck_assert_int_eq(booking_url_query_next(&q), 1);
		int rc = booking_url_query_int(&v, &q, 1, 50);
		if (cases[i].ok) {
			ck_assert_msg(rc == 0, "%s: %s", cases[i].url, booking_error_last()->message);
			ck_assert_int_eq(v, cases[i].value);
			continue;
		}
		ck_assert_msg(rc == BOOKING_EVALIDATION, "%s accepted as %d", cases[i].url, v);
		ck_assert_int_eq(v, -99);
		const booking_error *e = booking_error_last();
		ck_assert_msg(has(e->message, "store_url: pool=\"") && has(e->message, "must be an integer in 1..50"), "%s",
		              e->message);
		ck_assert_msg(has(e->details_json, "\"field\":\"store_url\"") && has(e->details_json, "\"parameter\":\"pool\"") &&
		                  has(e->details_json, "\"min\":1") && has(e->details_json, "\"max\":50"),
		              "%s", e->details_json);
	}

	/* negative ranges and 64-bit ones */
	booking_url_query q;
	int v = 0;
	booking_url_query_init(&q, "s:?x=-5&y=1000000000000", "url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_ok(booking_url_query_int(&v, &q, -10, 10));
	ck_assert_int_eq(v, -5);
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	int64_t big = 0;
	ck_assert_ok(booking_url_query_int64(&big, &q, 1, INT64_C(1000000000000)));
	ck_assert(big == INT64_C(1000000000000));
	ck_assert_code(booking_url_query_int64(&big, &q, 1, INT64_C(999999999999)), "VALIDATION_ERROR");
	ck_assert_code(booking_url_query_int(&v, &q, 1, 50), "VALIDATION_ERROR"); /* no wrap through int */
}
END_TEST

START_TEST(choices_ignore_case_and_list_what_is_allowed)
{
	static const char *const names[] = {"normal", "full"};
	booking_url_query q;
	size_t i = 99;
	booking_url_query_init(&q, "s:?synchronous=FULL&synchronous=normal&synchronous=off", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_ok(booking_url_query_choice(&i, &q, names, 2));
	ck_assert_uint_eq(i, 1);
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_ok(booking_url_query_choice(&i, &q, names, 2));
	ck_assert_uint_eq(i, 0);
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_code(booking_url_query_choice(&i, &q, names, 2), "VALIDATION_ERROR");
	ck_assert_str_eq(booking_error_last()->message, "store_url: synchronous=\"off\": must be one of normal, full");
	ck_assert(has(booking_error_last()->details_json, "\"allowed\":\"normal, full\""));
}
END_TEST

START_TEST(unknown_parameters_are_refused_naming_the_field_and_parameter)
{
	booking_url_query q;
	booking_url_query_init(&q, "s:?pool=1&no%20such=2", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_code(booking_url_query_unknown(&q, "pool, pool_timeout"), "VALIDATION_ERROR");
	ck_assert_str_eq(booking_error_last()->message,
	                 "store_url: unknown parameter \"no such\" (allowed: pool, pool_timeout)");
	ck_assert(has(booking_error_last()->details_json, "\"parameter\":\"no such\""));
	ck_assert(has(booking_error_last()->details_json, "\"field\":\"store_url\""));
}
END_TEST

START_TEST(untrusted_text_is_escaped_and_cut_short_in_messages)
{
	booking_url_query q;
	char url[600];
	/* an ANSI escape and a newline in the key, a bidi override in the value, then a very long value */
	snprintf(url, sizeof(url), "s:?k%%1B[31m%%0A=%%E2%%80%%AEx&pool=%0300d", 0);
	booking_url_query_init(&q, url, "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	ck_assert_code(booking_url_query_unknown(&q, "pool"), "VALIDATION_ERROR");
	const char *m = booking_error_last()->message;
	ck_assert_msg(!strchr(m, '\x1b') && !strchr(m, '\n'), "raw control characters in %s", m);
	ck_assert_msg(has(m, "\\u001B[31m\\u000A"), "%s", m);
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	int v = 0;
	ck_assert_code(booking_url_query_int(&v, &q, 1, 50), "VALIDATION_ERROR");
	m = booking_error_last()->message;
	ck_assert_msg(strlen(m) < 200, "not cut short: %s", m);
	ck_assert_msg(has(m, "…"), "%s", m);

	booking_url_query_init(&q, "s:?synchronous=%E2%80%AEfull", "store_url");
	ck_assert_int_eq(booking_url_query_next(&q), 1);
	size_t i = 0;
	static const char *const names[] = {"normal", "full"};
	ck_assert_code(booking_url_query_choice(&i, &q, names, 2), "VALIDATION_ERROR");
	ck_assert_msg(has(booking_error_last()->message, "\\u202Efull"), "%s", booking_error_last()->message);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("url");
	TCase *tc = tcase_create("url");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parameters_come_in_order_and_empty_ones_are_skipped);
	tcase_add_test(tc, keys_and_values_are_percent_decoded);
	tcase_add_test(tc, malformed_escapes_empty_names_and_overlong_text_are_refused);
	tcase_add_test(tc, integers_are_range_checked_naming_the_field_and_parameter);
	tcase_add_test(tc, choices_ignore_case_and_list_what_is_allowed);
	tcase_add_test(tc, unknown_parameters_are_refused_naming_the_field_and_parameter);
	tcase_add_test(tc, untrusted_text_is_escaped_and_cut_short_in_messages);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
