/*
 * Unit tests: error codes, names, HTTP statuses, the JSON form and the
 * thread-local last error.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

static const struct {
	int code;
	const char *name;
	int http;
} codes[] = {
	{BOOKING_EVALIDATION, "VALIDATION_ERROR", 422},
	{BOOKING_EUNAUTHORIZED, "UNAUTHORIZED", 401},
	{BOOKING_EFORBIDDEN, "FORBIDDEN", 403},
	{BOOKING_ENOTFOUND, "NOT_FOUND", 404},
	{BOOKING_EMOVIE_NOT_FOUND, "MOVIE_NOT_FOUND", 404},
	{BOOKING_ETHEATER_NOT_FOUND, "THEATER_NOT_FOUND", 404},
	{BOOKING_ESCREEN_NOT_FOUND, "SCREEN_NOT_FOUND", 404},
	{BOOKING_ESHOWTIME_NOT_FOUND, "SHOWTIME_NOT_FOUND", 404},
	{BOOKING_ERESERVATION_NOT_FOUND, "RESERVATION_NOT_FOUND", 404},
	{BOOKING_EPAYMENT_NOT_FOUND, "PAYMENT_NOT_FOUND", 404},
	{BOOKING_ESEAT_ALREADY_BOOKED, "SEAT_ALREADY_BOOKED", 409},
	{BOOKING_EINVALID_STATE, "INVALID_STATE", 409},
	{BOOKING_EEXPIRED, "RESERVATION_EXPIRED", 410},
	{BOOKING_EPAYMENT_DECLINED, "PAYMENT_DECLINED", 402},
	{BOOKING_EPAYMENT_IN_PROGRESS, "PAYMENT_IN_PROGRESS", 409},
	{BOOKING_EIDEMPOTENCY_KEY_REUSED, "IDEMPOTENCY_KEY_REUSED", 422},
	{BOOKING_ELOCK_FAILED, "LOCK_ACQUISITION_FAILED", 503},
	{BOOKING_EUNAVAILABLE, "SERVICE_UNAVAILABLE", 503},
	{BOOKING_EEXTERNAL, "EXTERNAL_SERVICE_ERROR", 502},
	{BOOKING_EINTERNAL, "INTERNAL_ERROR", 500},
	{BOOKING_ENOMEM, "OUT_OF_MEMORY", 503},
	{BOOKING_ENOTSUPPORTED, "NOT_SUPPORTED", 501},
	{BOOKING_EEXISTS, "ALREADY_EXISTS", 409},
	{BOOKING_ESCHEMA, "SCHEMA_TOO_NEW", 500},
	{BOOKING_ELOCKED, "LOCK_BUSY", 409},
	{BOOKING_ERATE_LIMITED, "RATE_LIMITED", 429},
	{BOOKING_EORPHAN_SEAT, "ORPHAN_SEAT", 409},
	{BOOKING_ENOT_ENOUGH_SEATS, "NOT_ENOUGH_SEATS", 409},
	{BOOKING_EHOLD_LIMIT, "HOLD_LIMIT_REACHED", 409},
	{BOOKING_ELIMIT_REACHED, "LIMIT_REACHED", 409},
};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

START_TEST(every_code_has_its_stable_name)
{
	ck_assert_int_eq((int)NCODES, 30);
	for (size_t i = 0; i < NCODES; i++)
		ck_assert_str_eq(booking_error_name(codes[i].code), codes[i].name);
}
END_TEST

START_TEST(every_code_maps_to_the_http_status_of_the_design_table)
{
	ck_assert_int_eq(booking_error_http_status(0), 200);
	for (size_t i = 0; i < NCODES; i++)
		ck_assert_msg(booking_error_http_status(codes[i].code) == codes[i].http, "%s: http %d, expected %d",
		              codes[i].name, booking_error_http_status(codes[i].code), codes[i].http);
}
END_TEST

START_TEST(unknown_codes_are_named_unknown_error)
{
	ck_assert_str_eq(booking_error_name(-1000), "UNKNOWN_ERROR");
	ck_assert_str_eq(booking_error_name(-31), "UNKNOWN_ERROR");
	ck_assert_str_eq(booking_error_name(7), "UNKNOWN_ERROR");
}
END_TEST

START_TEST(error_from_name_round_trips_every_code)
{
	for (size_t i = 0; i < NCODES; i++)
		ck_assert_int_eq(booking_error_from_name(codes[i].name), codes[i].code);
	for (size_t i = 0; i < NCODES; i++)
		ck_assert_int_eq(booking_error_from_name(booking_error_name(codes[i].code)), codes[i].code);
}
END_TEST

START_TEST(error_from_name_answers_one_for_unknown_names)
{
	ck_assert_int_eq(booking_error_from_name("NO_SUCH_ERROR"), 1);
	ck_assert_int_eq(booking_error_from_name(""), 1);
	ck_assert_int_eq(booking_error_from_name("seat_already_booked_x"), 1);
}
END_TEST

START_TEST(error_set_returns_the_code_and_records_message_and_details)
{
	int rc = booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, "{\"seats\":[\"A1\",\"A2\"]}", "seats %s taken",
	                           "A1,A2");
	const booking_error *e = booking_error_last();
	json_error_t jerr;
	json_t *d;

	ck_assert_int_eq(rc, BOOKING_ESEAT_ALREADY_BOOKED);
	ck_assert_int_eq(e->code, BOOKING_ESEAT_ALREADY_BOOKED);
	ck_assert_str_eq(e->name, "SEAT_ALREADY_BOOKED");
	ck_assert_str_eq(e->message, "seats A1,A2 taken");
	d = json_loads(e->details_json, 0, &jerr);
	ck_assert_msg(d != NULL, "details are not JSON: %s", e->details_json);
	ck_assert_int_eq((int)json_array_size(json_object_get(d, "seats")), 2);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(d, "seats"), 1)), "A2");
	json_decref(d);
}
END_TEST

START_TEST(error_without_details_has_an_empty_details_object)
{
	booking_error_set(BOOKING_EFORBIDDEN, NULL, "not yours");
	ck_assert_str_eq(booking_error_last()->details_json, "{}");
}
END_TEST

START_TEST(error_clear_forgets_the_last_error)
{
	booking_error_set(BOOKING_EFORBIDDEN, NULL, "not yours");
	booking_error_clear();
	ck_assert_int_eq(booking_error_last()->code, 0);
	ck_assert_ptr_nonnull(booking_error_last()->name);
	ck_assert_ptr_nonnull(booking_error_last()->message);
	ck_assert_ptr_nonnull(booking_error_last()->details_json);
}
END_TEST

START_TEST(error_oom_sets_out_of_memory)
{
	ck_assert_int_eq(booking_error_oom(), BOOKING_ENOMEM);
	ck_assert_str_eq(booking_error_last()->name, "OUT_OF_MEMORY");
}
END_TEST

START_TEST(a_very_long_message_degrades_but_never_fails)
{
	char *big = malloc(20000);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	ck_assert_int_eq(booking_error_set(BOOKING_EINTERNAL, NULL, "boom %s", big), BOOKING_EINTERNAL);
	ck_assert_int_eq(booking_error_last()->code, BOOKING_EINTERNAL);
	ck_assert_msg(strncmp(booking_error_last()->message, "boom x", 6) == 0, "message starts with '%.20s'",
	              booking_error_last()->message);
	free(big);
}
END_TEST

/* booking_error_to_json(&text, err), parsed; the record it reads is left as it was. */
static json_t *parse_error_json(const booking_error *err)
{
	json_error_t jerr;
	json_t *root;
	char *text = NULL;
	int code = booking_error_last()->code;

	ck_assert_ok(booking_error_to_json(&text, err));
	ck_assert_int_eq(booking_error_last()->code, code);
	ck_assert_ptr_nonnull(text);
	root = json_loads(text, 0, &jerr);
	ck_assert_msg(root != NULL, "not JSON (%s): %s", jerr.text, text);
	booking_free(text);
	ck_assert_msg(json_is_object(root) && json_object_size(root) == 1, "top level must be {\"error\":...}");
	ck_assert(json_is_object(json_object_get(root, "error")));
	return root;
}

START_TEST(error_to_json_of_the_last_error_has_code_message_and_details)
{
	json_t *root, *err;

	booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, "{\"seats\":[\"B7\"]}", "seat \"B7\" is\ntaken");
	root = parse_error_json(NULL);
	err = json_object_get(root, "error");
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")), "SEAT_ALREADY_BOOKED");
	/* a message is one line: a line break in it is escaped like any control character */
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")), "seat \"B7\" is\\u000Ataken");
	ck_assert(json_is_object(json_object_get(err, "details")));
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(json_object_get(err, "details"), "seats"), 0)),
	                 "B7");
	json_decref(root);
}
END_TEST

START_TEST(error_to_json_of_a_given_record)
{
	booking_error e = {BOOKING_EFORBIDDEN, "FORBIDDEN", "not your reservation", "{}"};
	json_t *root, *err;

	booking_error_set(BOOKING_EINTERNAL, NULL, "something else");
	root = parse_error_json(&e);
	err = json_object_get(root, "error");
	ck_assert_str_eq(json_string_value(json_object_get(err, "code")), "FORBIDDEN");
	ck_assert_str_eq(json_string_value(json_object_get(err, "message")), "not your reservation");
	ck_assert(json_is_object(json_object_get(err, "details")));
	ck_assert_int_eq((int)json_object_size(json_object_get(err, "details")), 0);
	json_decref(root);
}
END_TEST

/* --- thread locality --------------------------------------------------- */

typedef struct thread_arg {
	pthread_barrier_t *barrier;
	int code;
	char msg[32];
	int seen_code_at_start;
	int seen_code;
	char seen_msg[32];
} thread_arg;

static void *set_and_read(void *p)
{
	thread_arg *a = p;

	a->seen_code_at_start = booking_error_last()->code;
	booking_error_set(a->code, NULL, "%s", a->msg);
	pthread_barrier_wait(a->barrier); /* both threads have set their error */
	pthread_barrier_wait(a->barrier);
	a->seen_code = booking_error_last()->code;
	snprintf(a->seen_msg, sizeof(a->seen_msg), "%s", booking_error_last()->message);
	return NULL;
}

START_TEST(last_error_is_private_to_each_thread)
{
	pthread_barrier_t barrier;
	pthread_t t1, t2;
	thread_arg a1 = {&barrier, BOOKING_EFORBIDDEN, "first thread", -1, 0, ""};
	thread_arg a2 = {&barrier, BOOKING_EEXPIRED, "second thread", -1, 0, ""};

	booking_error_set(BOOKING_EINTERNAL, NULL, "main thread");
	pthread_barrier_init(&barrier, NULL, 3);
	pthread_create(&t1, NULL, set_and_read, &a1);
	pthread_create(&t2, NULL, set_and_read, &a2);
	pthread_barrier_wait(&barrier);
	booking_error_set(BOOKING_EVALIDATION, NULL, "main again");
	pthread_barrier_wait(&barrier);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_barrier_destroy(&barrier);

	ck_assert_int_eq(a1.seen_code_at_start, 0);
	ck_assert_int_eq(a2.seen_code_at_start, 0);
	ck_assert_int_eq(a1.seen_code, BOOKING_EFORBIDDEN);
	ck_assert_str_eq(a1.seen_msg, "first thread");
	ck_assert_int_eq(a2.seen_code, BOOKING_EEXPIRED);
	ck_assert_str_eq(a2.seen_msg, "second thread");
	ck_assert_int_eq(booking_error_last()->code, BOOKING_EVALIDATION);
	ck_assert_str_eq(booking_error_last()->message, "main again");
}
END_TEST

START_TEST(a_failing_call_sets_the_last_error_it_returns)
{
	fx f;
	booking_ctx alice = fx_customer("alice");
	booking_reservation *r = NULL;
	const char *seat = "A1";

	fx_setup(&f);
	booking_error_clear();
	ck_assert_code(booking_hold(&r, f.bk, &alice, "0190a0a0-0000-7000-8000-000000000000", &seat, 1),
	               "SHOWTIME_NOT_FOUND");
	ck_assert_ptr_null(r);
	ck_assert_int_eq(booking_error_last()->code, BOOKING_ESHOWTIME_NOT_FOUND);
	ck_assert_str_eq(booking_error_last()->name, "SHOWTIME_NOT_FOUND");
	fx_close(&f);
}
END_TEST

START_TEST(details_are_readable_without_parsing_json)
{
	booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, "{\"seats\":[\"A1\",\"B12\"],\"n\":3,\"ok\":true,\"o\":{}}",
	                  "seats taken");
	ck_assert_uint_eq(booking_error_detail_count(NULL, "seats"), 2);
	ck_assert_str_eq(booking_error_detail_item(NULL, "seats", 0), "A1");
	ck_assert_str_eq(booking_error_detail_item(NULL, "seats", 1), "B12");
	ck_assert_ptr_null(booking_error_detail_item(NULL, "seats", 2));
	ck_assert_str_eq(booking_error_detail(NULL, "n"), "3");
	ck_assert_str_eq(booking_error_detail(NULL, "ok"), "true");
	ck_assert_ptr_null(booking_error_detail(NULL, "seats")); /* an array is read by item */
	ck_assert_ptr_null(booking_error_detail(NULL, "o"));
	ck_assert_ptr_null(booking_error_detail(NULL, "missing"));
	ck_assert_uint_eq(booking_error_detail_count(NULL, "n"), 0);
	ck_assert_ptr_null(booking_error_detail(NULL, NULL));
	/* the readers leave the record alone */
	ck_assert_int_eq(booking_error_last()->code, BOOKING_ESEAT_ALREADY_BOOKED);
	ck_assert_str_eq(booking_error_last()->message, "seats taken");

	/* a record of the caller's */
	booking_error mine = {BOOKING_EPAYMENT_DECLINED, "PAYMENT_DECLINED", "declined",
	                      "{\"payment_id\":\"p-1\",\"decline_code\":\"insufficient_funds\"}"};
	ck_assert_str_eq(booking_error_detail(&mine, "decline_code"), "insufficient_funds");
	ck_assert_str_eq(booking_error_detail(&mine, "payment_id"), "p-1");
	ck_assert_int_eq(booking_error_last()->code, BOOKING_ESEAT_ALREADY_BOOKED);
}
END_TEST

/* The documented rule: a success does not clear the record; the seats a refused hold names are readable. */
START_TEST(a_success_keeps_the_last_error_and_taken_seats_are_listed)
{
	fx f;
	booking_ctx alice = fx_customer("alice"), bob = fx_customer("bob");
	booking_reservation *r = NULL;
	const char *mine[] = {"A1"}, *both[] = {"A2", "A1"};

	fx_setup(&f);
	ck_assert_ok(booking_hold(&r, f.bk, &alice, f.showtime_id, mine, 1));
	booking_reservation_free(r);
	r = NULL;
	ck_assert_code(booking_hold(&r, f.bk, &bob, f.showtime_id, both, 2), "SEAT_ALREADY_BOOKED");
	ck_assert_uint_eq(booking_error_detail_count(NULL, "seats"), 1);
	ck_assert_str_eq(booking_error_detail_item(NULL, "seats", 0), "A1");
	const char *other = "A3";
	ck_assert_ok(booking_hold(&r, f.bk, &bob, f.showtime_id, &other, 1));
	booking_reservation_free(r);
	ck_assert_int_eq(booking_error_last()->code, BOOKING_ESEAT_ALREADY_BOOKED);
	fx_close(&f);
}
END_TEST

/* Security item 6: content never makes an error unusable. */
START_TEST(untrusted_text_in_a_message_is_escaped_and_cut_between_characters)
{
	/* an ESC sequence, a C1 control, a bidi override and a malformed byte */
	booking_error_set(BOOKING_EUNAUTHORIZED, NULL, "bad: %s", "\x1b[31mred\xc2\x9b\xe2\x80\xae" "evil\xff");
	const char *m = booking_error_last()->message;
	for (const unsigned char *p = (const unsigned char *)m; *p; p++)
		ck_assert_msg(*p >= 0x20 && *p != 0x7f, "raw control 0x%02x in %s", *p, m);
	ck_assert_ptr_null(strstr(m, "\xc2\x9b"));
	ck_assert_ptr_null(strstr(m, "\xe2\x80\xae"));
	ck_assert_ptr_nonnull(strstr(m, "\\u001B[31mred"));
	ck_assert_ptr_nonnull(strstr(m, "\\u202E"));
	ck_assert_ptr_nonnull(strstr(m, "\\xFF"));
	char *j = NULL;
	ck_assert_ok(booking_error_to_json(&j, NULL));
	ck_assert_ptr_nonnull(j);
	booking_free(j);

	/* a message cut by the record's size inside a 3-byte character */
	char big[2048];
	size_t n = 0;
	n += (size_t)snprintf(big, sizeof(big), "x");
	while (n + 3 < sizeof(big) - 1) {
		memcpy(big + n, "\xe2\x82\xac", 3); /* U+20AC, 3 bytes */
		n += 3;
	}
	big[n] = '\0';
	for (int shift = 0; shift < 3; shift++) {
		booking_error_set(BOOKING_EUNAUTHORIZED, NULL, "%.*s%s", shift, "ab", big);
		ck_assert_msg(booking_error_to_json(&j, NULL) == 0 && j != NULL, "to_json failed at shift %d", shift);
		json_error_t e;
		json_t *root = json_loads(j, 0, &e);
		ck_assert_ptr_nonnull(root);
		json_decref(root);
		booking_free(j);
	}
}
END_TEST

/* The public form of the same rule, for hosts that print data. */
START_TEST(text_escape_makes_data_safe_to_show)
{
	char out[64];
	ck_assert_uint_eq(booking_text_escape(out, sizeof(out), "Caf\xc3\xa9 \x1b[2J \xc2\x9b \xe2\x80\xae" "x \xff"),
	                  strlen(out));
	ck_assert_str_eq(out, "Caf\xc3\xa9 \\u001B[2J \\u009B \\u202Ex \\xFF");
	/* cut between characters, still valid UTF-8, marked */
	char small[9];
	booking_text_escape(small, sizeof(small), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
	ck_assert_str_eq(small, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	booking_text_escape(out, sizeof(out), NULL);
	ck_assert_str_eq(out, "");
	ck_assert_uint_eq(booking_text_escape(out, 0, "x"), 0);
}
END_TEST

START_TEST(error_to_json_never_fails_for_a_records_content)
{
	booking_error e = {BOOKING_EUNAUTHORIZED, "UNAUTHORIZED", "cut \xe2\x82 here \x1b]0;title\x07", "{\"k\":\"v\"}"};
	char *j = NULL;
	ck_assert_ok(booking_error_to_json(&j, &e));
	ck_assert_ptr_nonnull(j);
	json_t *root = json_loads(j, 0, NULL);
	ck_assert_ptr_nonnull(root);
	const char *m = json_string_value(json_object_get(json_object_get(root, "error"), "message"));
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(strchr(m, 0x1b));
	ck_assert_ptr_null(strchr(m, 0x07));
	json_decref(root);
	booking_free(j);
}
END_TEST

START_TEST(status_names_are_stable)
{
	ck_assert_str_eq(booking_reservation_status_name(BOOKING_RESERVATION_PENDING), "PENDING");
	ck_assert_str_eq(booking_reservation_status_name(BOOKING_RESERVATION_PAYMENT_PROCESSING), "PAYMENT_PROCESSING");
	ck_assert_str_eq(booking_reservation_status_name(BOOKING_RESERVATION_CONFIRMED), "CONFIRMED");
	ck_assert_str_eq(booking_reservation_status_name(BOOKING_RESERVATION_CANCELLED), "CANCELLED");
	ck_assert_str_eq(booking_reservation_status_name(BOOKING_RESERVATION_EXPIRED), "EXPIRED");
	ck_assert_str_eq(booking_saga_state_name(BOOKING_SAGA_SEATS_RESERVED), "SEATS_RESERVED");
	ck_assert_str_eq(booking_saga_state_name(BOOKING_SAGA_PAYMENT_PENDING), "PAYMENT_PENDING");
	ck_assert_str_eq(booking_saga_state_name(BOOKING_SAGA_CONFIRMED), "CONFIRMED");
	ck_assert_str_eq(booking_saga_state_name(BOOKING_SAGA_COMPENSATED), "COMPENSATED");
	ck_assert_str_eq(booking_saga_state_name(BOOKING_SAGA_FAILED), "FAILED");
	ck_assert_str_eq(booking_payment_status_name(BOOKING_PAYMENT_PROCESSING), "PROCESSING");
	ck_assert_str_eq(booking_payment_status_name(BOOKING_PAYMENT_SUCCEEDED), "SUCCEEDED");
	ck_assert_str_eq(booking_payment_status_name(BOOKING_PAYMENT_FAILED), "FAILED");
	ck_assert_str_eq(booking_payment_status_name(BOOKING_PAYMENT_REFUNDED), "REFUNDED");
	ck_assert_str_eq(booking_version(), BOOKING_VERSION_STRING);
	/* every public enum has its name function: the constant without its prefix */
	ck_assert_str_eq(booking_seat_status_name(BOOKING_SEAT_FREE), "FREE");
	ck_assert_str_eq(booking_seat_status_name(BOOKING_SEAT_SOLD), "SOLD");
	ck_assert_str_eq(booking_seat_status_name((booking_seat_status)7), "UNKNOWN");
	ck_assert_str_eq(booking_showtime_status_name(BOOKING_SHOWTIME_CANCELLED), "CANCELLED");
	ck_assert_str_eq(booking_showtime_status_name((booking_showtime_status)0), "UNKNOWN");
	ck_assert_str_eq(booking_invariant_name(BOOKING_INV_SEAT_SINGLE_OWNER), "SEAT_SINGLE_OWNER");
	ck_assert_str_eq(booking_invariant_name(BOOKING_INV_MONEY), "MONEY");
	ck_assert_str_eq(booking_notification_kind_name(BOOKING_NOTIFY_PAYMENT_REFUNDED), "PAYMENT_REFUNDED");
	ck_assert_str_eq(booking_notification_kind_name(BOOKING_NOTIFY_RESERVATION_CONFIRMED), "RESERVATION_CONFIRMED");
	ck_assert_str_eq(booking_span_kind_name(BOOKING_SPAN_CLIENT), "CLIENT");
	ck_assert_str_eq(booking_log_level_name(BOOKING_LOG_WARNING), "WARNING");
	ck_assert_str_eq(booking_log_level_name((booking_log_level)35), "UNKNOWN");
	ck_assert_str_eq(booking_decline_policy_name(BOOKING_DECLINE_RELEASE), "RELEASE");
	ck_assert_str_eq(booking_charge_status_name(BOOKING_CHARGE_DECLINED), "DECLINED");
	ck_assert_str_eq(booking_store_guard_kind_name(BOOKING_GUARD_KEY_UNUSED), "KEY_UNUSED");
	ck_assert_str_eq(booking_store_guard_kind_name((booking_store_guard_kind)-1), "UNKNOWN");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("errors");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, every_code_has_its_stable_name);
	tcase_add_test(tc, every_code_maps_to_the_http_status_of_the_design_table);
	tcase_add_test(tc, unknown_codes_are_named_unknown_error);
	tcase_add_test(tc, error_from_name_round_trips_every_code);
	tcase_add_test(tc, error_from_name_answers_one_for_unknown_names);
	tcase_add_test(tc, error_set_returns_the_code_and_records_message_and_details);
	tcase_add_test(tc, error_without_details_has_an_empty_details_object);
	tcase_add_test(tc, error_clear_forgets_the_last_error);
	tcase_add_test(tc, details_are_readable_without_parsing_json);
	tcase_add_test(tc, a_success_keeps_the_last_error_and_taken_seats_are_listed);
	tcase_add_test(tc, error_oom_sets_out_of_memory);
	tcase_add_test(tc, a_very_long_message_degrades_but_never_fails);
	tcase_add_test(tc, error_to_json_of_the_last_error_has_code_message_and_details);
	tcase_add_test(tc, error_to_json_of_a_given_record);
	tcase_add_test(tc, last_error_is_private_to_each_thread);
	tcase_add_test(tc, a_failing_call_sets_the_last_error_it_returns);
	tcase_add_test(tc, status_names_are_stable);
	tcase_add_test(tc, untrusted_text_in_a_message_is_escaped_and_cut_between_characters);
	tcase_add_test(tc, error_to_json_never_fails_for_a_records_content);
	tcase_add_test(tc, text_escape_makes_data_safe_to_show);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
