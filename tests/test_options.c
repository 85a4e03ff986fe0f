/*
 * Unit tests: options from the environment and env files, and the range
 * checks of booking_open().
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <stdlib.h>
#include <unistd.h>

/* The integer options, their variables and their ranges (guide §4.2, options.h). */
typedef struct int_var {
	const char *env;
	size_t offset;
	int min, max;
	const char *field;
} int_var;

#define VAR(env, f, lo, hi) {env, offsetof(booking_options, f), lo, hi, #f}

static const int_var int_vars[] = {
	VAR("BOOKING_EXPIRY_MINUTES", hold_expiry_minutes, 5, 60),
	VAR("BOOKING_MAX_SEATS_PER_RESERVATION", max_seats_per_reservation, 1, 50),
	VAR("BOOKING_PAYMENT_WINDOW_SECONDS", payment_window_seconds, 30, 900),
	VAR("BOOKING_LOCK_TTL", lock_ttl_seconds, 5, 300),
	VAR("BOOKING_LOCK_RETRY_COUNT", lock_retry_count, 1, 20),
	VAR("BOOKING_LOCK_RETRY_DELAY_MS", lock_retry_delay_ms, 10, 1000),
	VAR("BOOKING_GATEWAY_MAX_RETRIES", gateway_max_retries, 0, 10),
	VAR("BOOKING_CONSUMER_MAX_DELIVERIES", consumer_max_deliveries, 1, 100),
	VAR("BOOKING_CONSUMER_RETRY_BASE_MS", consumer_retry_base_ms, 1, 60000),
	VAR("BOOKING_CIRCUIT_BREAKER_FAILURE_THRESHOLD", circuit_breaker_failure_threshold, 1, 20),
	VAR("BOOKING_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", circuit_breaker_recovery_seconds, 10, 300),
};
#define N_INT_VARS (sizeof(int_vars) / sizeof(int_vars[0]))

/*
 * The backend settings retired in options version 5, in the order of
 * their slots (retired_v1[0..3], then retired_v3[0..4]), and the variable
 * whose URL carries each now.
 */
static const struct {
	const char *env, *field, *url_env;
} retired_vars[] = {
	{"BOOKING_DB_POOL_SIZE", "db_pool_size", "BOOKING_STORE_URL"},
	{"BOOKING_DB_POOL_TIMEOUT", "db_pool_timeout_seconds", "BOOKING_STORE_URL"},
	{"BOOKING_SQLITE_SYNCHRONOUS_FULL", "sqlite_synchronous_full", "BOOKING_STORE_URL"},
	{"BOOKING_GATEWAY_TIMEOUT", "gateway_timeout_seconds", "BOOKING_GATEWAY_URL"},
	{"BOOKING_GATEWAY_CONNECT_TIMEOUT", "gateway_connect_timeout_seconds", "BOOKING_GATEWAY_URL"},
	{"BOOKING_DB_CONNECT_TIMEOUT", "db_connect_timeout_seconds", "BOOKING_STORE_URL"},
	{"BOOKING_DB_STATEMENT_TIMEOUT", "db_statement_timeout_seconds", "BOOKING_STORE_URL"},
	{"BOOKING_REDIS_CONNECT_TIMEOUT_MS", "redis_connect_timeout_ms", "BOOKING_LOCK_URL or BOOKING_EVENTS_URL"},
	{"BOOKING_REDIS_TIMEOUT_MS", "redis_timeout_ms", "BOOKING_LOCK_URL or BOOKING_EVENTS_URL"},
};
#define N_RETIRED (sizeof(retired_vars) / sizeof(retired_vars[0]))
#define N_RETIRED_V1 (sizeof(((booking_options *)0)->retired_v1) / sizeof(int))

static const char *const string_vars[] = {"BOOKING_STORE_URL", "BOOKING_LOCK_URL", "BOOKING_EVENTS_URL",
                                          "BOOKING_GATEWAY_URL", "BOOKING_SERVICE_NAME",
                                          "BOOKING_DECLINE_POLICY", "BOOKING_LOG_LEVEL", "BOOKING_ENV_FILE"};

static int field_of(const booking_options *o, const int_var *v)
{
	return *(const int *)(const void *)((const char *)o + v->offset);
}

static void set_field(booking_options *o, const int_var *v, int value)
{
	*(int *)(void *)((char *)o + v->offset) = value;
}

/* Start each test from an environment without any option variable. */
static void clean_env(void)
{
	for (size_t i = 0; i < N_INT_VARS; i++)
		unsetenv(int_vars[i].env);
	for (size_t i = 0; i < sizeof(string_vars) / sizeof(string_vars[0]); i++)
		unsetenv(string_vars[i]);
	for (size_t i = 0; i < N_RETIRED; i++)
		unsetenv(retired_vars[i].env);
}

static char env_file[64];

static void write_env_file(const char *text)
{
	int fd;

	snprintf(env_file, sizeof(env_file), "/tmp/booking-test-env-XXXXXX");
	fd = mkstemp(env_file);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq((int)write(fd, text, strlen(text)), (int)strlen(text));
	close(fd);
}

static void setup(void)
{
	clean_env();
	env_file[0] = '\0';
}

static void teardown(void)
{
	if (env_file[0])
		unlink(env_file);
	clean_env();
}

START_TEST(options_from_an_empty_environment_are_the_defaults)
{
	booking_options *o = NULL;

	ck_assert_ok(booking_options_from_env(&o));
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->version, BOOKING_OPTIONS_VERSION);
	for (size_t i = 0; i < N_INT_VARS; i++)
		ck_assert_msg(field_of(o, &int_vars[i]) == 0, "%s: %d, expected 0 (default)", int_vars[i].field,
		              field_of(o, &int_vars[i]));
	ck_assert_ptr_null(o->store_url);
	ck_assert_ptr_null(o->lock_url);
	ck_assert_ptr_null(o->events_url);
	ck_assert_ptr_null(o->gateway_url);
	ck_assert_int_eq(o->decline_policy, BOOKING_DECLINE_KEEP_HOLD);
	ck_assert_ptr_null(o->store);
	ck_assert_ptr_null(o->clock);
	booking_options_free(o);
}
END_TEST

START_TEST(default_options_open_a_working_handle)
{
	booking_options *o = NULL;
	booking_reservation *r = NULL;
	fx f;

	ck_assert_ok(booking_options_from_env(&o));
	fx_open(&f, o);
	booking_options_free(o);
	fx_seed(&f);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	ck_assert_int_eq(r->expires_at, FX_T0 + 15 * FX_MINUTE);
	booking_reservation_free(r);
	/* default max 10 seats */
	ck_assert_code(fx_hold(&f, NULL, "bob", "B1,B2,B3,B4,B5,B6,B7,B8,B9,B10,C1"), "VALIDATION_ERROR");
	fx_close(&f);
}
END_TEST

START_TEST(each_integer_variable_sets_its_option)
{
	const int_var *v = &int_vars[_i];
	booking_options *o = NULL;
	char value[16];
	int want = v->max; /* the top of the range: never a default */

	snprintf(value, sizeof(value), "%d", want);
	setenv(v->env, value, 1);
	ck_assert_ok(booking_options_from_env(&o));
	ck_assert_msg(field_of(o, v) == want, "%s=%s gave %s=%d", v->env, value, v->field, field_of(o, v));
	for (size_t i = 0; i < N_INT_VARS; i++)
		if (&int_vars[i] != v)
			ck_assert_int_eq(field_of(o, &int_vars[i]), 0);
	booking_options_free(o);
	/* and the bottom of the range is accepted too */
	snprintf(value, sizeof(value), "%d", v->min);
	setenv(v->env, value, 1);
	ck_assert_ok(booking_options_from_env(&o));
	booking_options_free(o);
}
END_TEST

START_TEST(each_integer_variable_out_of_range_is_refused_naming_variable_and_range)
{
	const int_var *v = &int_vars[_i];
	const char *bad[3];
	char above[16], below[16], range[48];
	booking_options *o;

	snprintf(above, sizeof(above), "%d", v->max + 1);
	snprintf(below, sizeof(below), "%d", v->min - 1);
	snprintf(range, sizeof(range), "%d..%d", v->min, v->max);
	bad[0] = above;
	bad[1] = below;
	bad[2] = "12abc";
	for (int k = 0; k < 3; k++) {
		o = (booking_options *)&o;
		setenv(v->env, bad[k], 1);
		ck_assert_code(booking_options_from_env(&o), "VALIDATION_ERROR");
		ck_assert_ptr_null(o);
		ck_assert_msg(strstr(booking_error_last()->message, v->env) != NULL, "%s=%s: message lacks the name: %s",
		              v->env, bad[k], booking_error_last()->message);
		ck_assert_msg(strstr(booking_error_last()->message, range) != NULL, "%s=%s: message lacks %s: %s",
		              v->env, bad[k], range, booking_error_last()->message);
	}
}
END_TEST

START_TEST(string_and_choice_variables_set_their_options)
{
	booking_options *o = NULL;

	setenv("BOOKING_STORE_URL", "sqlite:///var/lib/booking/booking.db", 1);
	setenv("BOOKING_LOCK_URL", "memory:", 1);
	setenv("BOOKING_EVENTS_URL", "memory:", 1);
	setenv("BOOKING_GATEWAY_URL", "simulated:", 1);
	setenv("BOOKING_SERVICE_NAME", "kiosk-7", 1);
	setenv("BOOKING_DECLINE_POLICY", "release", 1);
	setenv("BOOKING_LOG_LEVEL", "warning", 1);
	ck_assert_ok(booking_options_from_env(&o));
	ck_assert_str_eq(o->store_url, "sqlite:///var/lib/booking/booking.db");
	ck_assert_str_eq(o->lock_url, "memory:");
	ck_assert_str_eq(o->events_url, "memory:");
	ck_assert_str_eq(o->gateway_url, "simulated:");
	ck_assert_str_eq(o->service_name, "kiosk-7");
	ck_assert_int_eq(o->decline_policy, BOOKING_DECLINE_RELEASE);
	ck_assert_int_eq(o->log_level, BOOKING_LOG_WARNING);
	booking_options_free(o);
}
END_TEST

START_TEST(bad_choice_or_url_is_refused_naming_the_variable)
{
	static const char *const cases[][2] = {
		{"BOOKING_DECLINE_POLICY", "sometimes"},
		{"BOOKING_LOG_LEVEL", "LOUD"},
		{"BOOKING_STORE_URL", "ftp://example.com/db"},
		{"BOOKING_LOCK_URL", "zookeeper://x"},
		{"BOOKING_EVENTS_URL", "kafka://x"},
		{"BOOKING_GATEWAY_URL", "stripe://x"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		booking_options *o = NULL;
		clean_env();
		setenv(cases[i][0], cases[i][1], 1);
		ck_assert_code(booking_options_from_env(&o), "VALIDATION_ERROR");
		ck_assert_ptr_null(o);
		ck_assert_msg(strstr(booking_error_last()->message, cases[i][0]) != NULL, "message lacks %s: %s",
		              cases[i][0], booking_error_last()->message);
	}
}
END_TEST

START_TEST(env_file_is_parsed)
{
	booking_options *o = NULL;

	write_env_file("# reservation settings\n"
	               "\n"
	               "BOOKING_EXPIRY_MINUTES=20\n"
	               "  BOOKING_MAX_SEATS_PER_RESERVATION = 4  \n"
	               "export BOOKING_STORE_URL=\"sqlite:///tmp/x.db\"\n"
	               "BOOKING_SERVICE_NAME='box office'\n"
	               "OTHER_SETTING=ignored\n"
	               "BOOKING_DECLINE_POLICY=release\r\n");
	ck_assert_ok(booking_options_load(&o, env_file));
	ck_assert_int_eq(o->hold_expiry_minutes, 20);
	ck_assert_int_eq(o->max_seats_per_reservation, 4);
	ck_assert_str_eq(o->store_url, "sqlite:///tmp/x.db");
	ck_assert_str_eq(o->service_name, "box office");
	ck_assert_int_eq(o->decline_policy, BOOKING_DECLINE_RELEASE);
	booking_options_free(o);
}
END_TEST

START_TEST(environment_wins_over_the_env_file)
{
	booking_options *o = NULL;

	write_env_file("BOOKING_EXPIRY_MINUTES=20\nBOOKING_LOCK_TTL=60\n");
	setenv("BOOKING_EXPIRY_MINUTES", "30", 1);
	ck_assert_ok(booking_options_load(&o, env_file));
	ck_assert_int_eq(o->hold_expiry_minutes, 30);
	ck_assert_int_eq(o->lock_ttl_seconds, 60);
	booking_options_free(o);
}
END_TEST

START_TEST(from_env_reads_the_file_named_by_booking_env_file)
{
	booking_options *o = NULL;

	write_env_file("BOOKING_PAYMENT_WINDOW_SECONDS=300\n");
	setenv("BOOKING_ENV_FILE", env_file, 1);
	ck_assert_ok(booking_options_from_env(&o));
	ck_assert_int_eq(o->payment_window_seconds, 300);
	booking_options_free(o);
}
END_TEST

START_TEST(bad_value_in_the_env_file_is_refused)
{
	booking_options *o = NULL;

	write_env_file("BOOKING_EXPIRY_MINUTES=61\n");
	ck_assert_code(booking_options_load(&o, env_file), "VALIDATION_ERROR");
	ck_assert_ptr_null(o);
	ck_assert_msg(strstr(booking_error_last()->message, "BOOKING_EXPIRY_MINUTES") != NULL, "%s",
	              booking_error_last()->message);
	ck_assert_msg(strstr(booking_error_last()->message, "5..60") != NULL, "%s", booking_error_last()->message);
}
END_TEST

START_TEST(malformed_or_missing_env_file_is_refused)
{
	booking_options *o = NULL;

	write_env_file("BOOKING_EXPIRY_MINUTES 20\n");
	ck_assert_code(booking_options_load(&o, env_file), "VALIDATION_ERROR");
	ck_assert_ptr_null(o);
	ck_assert_code(booking_options_load(&o, "/nonexistent/booking.env"), "VALIDATION_ERROR");
	ck_assert_ptr_null(o);
	/* NULL: no file */
	ck_assert_ok(booking_options_load(&o, NULL));
	booking_options_free(o);
	booking_options_free(NULL);
}
END_TEST

START_TEST(open_refuses_each_out_of_range_field)
{
	const int_var *v = &int_vars[_i];
	int bad[2];

	bad[0] = v->max + 1;
	bad[1] = v->min - 1;
	for (int k = 0; k < 2; k++) {
		booking_options o;
		booking_handle *bk = (booking_handle *)&bk;

		if (bad[k] == 0)
			continue; /* 0 means "default" */
		if (bad[k] == -1 && strcmp(v->field, "gateway_max_retries") == 0)
			continue; /* -1 spells an explicit 0 retries (0 means "default") */
		booking_options_init(&o, BOOKING_OPTIONS_VERSION);
		set_field(&o, v, bad[k]);
		ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
		ck_assert_ptr_null(bk);
		ck_assert_msg(strstr(booking_error_last()->message, v->field) != NULL ||
		                  strstr(booking_error_last()->details_json, v->field) != NULL,
		              "%s=%d: the error should name the field: %s %s", v->field, bad[k],
		              booking_error_last()->message, booking_error_last()->details_json);
	}
}
END_TEST

START_TEST(open_refuses_bad_urls_and_versions)
{
	booking_options o;
	booking_handle *bk = (booking_handle *)&bk;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.store_url = "ftp://nowhere";
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_null(bk);

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.events_url = "carrier-pigeon:";
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.lock_url = "nope:";
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.version = 0;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	o.version = BOOKING_OPTIONS_VERSION + 1;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.decline_policy = (booking_decline_policy)7;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_null(bk);
}
END_TEST

START_TEST(a_retired_variable_is_refused_naming_it_and_the_url_that_replaces_it)
{
	booking_options *o = (booking_options *)&o;

	setenv(retired_vars[_i].env, "10", 1);
	ck_assert_code(booking_options_from_env(&o), "VALIDATION_ERROR");
	ck_assert_ptr_null(o);
	const booking_error *e = booking_error_last();
	ck_assert_msg(strstr(e->message, retired_vars[_i].env) && strstr(e->message, retired_vars[_i].url_env) &&
	                  strstr(e->message, "no longer read"),
	              "%s", e->message);
	char field[96];
	snprintf(field, sizeof(field), "\"field\":\"%s\"", retired_vars[_i].env);
	ck_assert_msg(strstr(e->details_json, field) != NULL, "%s", e->details_json);

	/* in an env file too; and empty is unset, as for every variable */
	unsetenv(retired_vars[_i].env);
	char line[96];
	snprintf(line, sizeof(line), "%s=1\n", retired_vars[_i].env);
	write_env_file(line);
	ck_assert_code(booking_options_load(&o, env_file), "VALIDATION_ERROR");
	setenv(retired_vars[_i].env, "", 1);
	ck_assert_ok(booking_options_from_env(&o));
	booking_options_free(o);
}
END_TEST

START_TEST(a_struct_that_sets_a_retired_slot_is_refused_naming_the_old_field)
{
	booking_options o;
	booking_handle *bk = (booking_handle *)&bk;
	size_t i = (size_t)_i;

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	if (i < N_RETIRED_V1)
		o.retired_v1[i] = 10;
	else
		o.retired_v3[i - N_RETIRED_V1] = 10;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_null(bk);
	ck_assert_msg(strstr(booking_error_last()->message, retired_vars[i].field) != NULL &&
	                  strstr(booking_error_last()->message, "URL") != NULL,
	              "%s", booking_error_last()->message);

	/* what an older binary built against the version 4 header sends: the same refusal */
	o.version = 4;
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	if (i >= N_RETIRED_V1) {
		/* a version 2 struct ends before the retired_v3 slots: they are never read */
		o.version = 2;
		o.log_level = BOOKING_LOG_CRITICAL;
		ck_assert_ok(booking_open(&bk, &o));
		booking_close(bk);
	}
}
END_TEST

START_TEST(open_with_null_options_reads_the_environment)
{
	booking_handle *bk = NULL;

	setenv("BOOKING_STORE_URL", "memory:", 1);
	ck_assert_ok(booking_open(&bk, NULL));
	ck_assert_ptr_nonnull(bk);
	booking_close(bk);
	setenv("BOOKING_EXPIRY_MINUTES", "99", 1);
	bk = (booking_handle *)&bk;
	ck_assert_code(booking_open(&bk, NULL), "VALIDATION_ERROR");
	ck_assert_ptr_null(bk);
	booking_close(NULL);
}
END_TEST

START_TEST(options_init_fills_the_version_it_is_given_and_no_further)
{
	booking_options o;

	memset(&o, 0x5a, sizeof o);
	ck_assert_ok(booking_options_init(&o, BOOKING_OPTIONS_VERSION));
	ck_assert_uint_eq(o.version, BOOKING_OPTIONS_VERSION);
	ck_assert_ptr_null(o.store_url);
	ck_assert_int_eq(o.max_failed_payments_per_user_hour, 0);

	/* an older program's struct ends where its version ended: nothing past it is written */
	memset(&o, 0x5a, sizeof o);
	ck_assert_ok(booking_options_init(&o, 1));
	ck_assert_uint_eq(o.version, 1);
	ck_assert_ptr_null(o.gateway);
	ck_assert_int_eq(o.password_opslimit, 0x5a5a5a5a);

	/* versions the library does not know leave the struct alone */
	memset(&o, 0x5a, sizeof o);
	ck_assert_code(booking_options_init(&o, 0), "VALIDATION_ERROR");
	ck_assert_code(booking_options_init(&o, BOOKING_OPTIONS_VERSION + 1), "VALIDATION_ERROR");
	ck_assert_uint_eq(o.version, 0x5a5a5a5a);
	ck_assert_code(booking_options_init(NULL, BOOKING_OPTIONS_VERSION), "VALIDATION_ERROR");

	booking_consumer_options c;
	memset(&c, 0x5a, sizeof c);
	ck_assert_ok(booking_consumer_options_init(&c, BOOKING_CONSUMER_OPTIONS_VERSION));
	ck_assert_uint_eq(c.version, BOOKING_CONSUMER_OPTIONS_VERSION);
	ck_assert_ptr_null(c.group);
	ck_assert_uint_eq(c.batch, 0);
	ck_assert_code(booking_consumer_options_init(&c, 2), "VALIDATION_ERROR");

	booking_jwt_verify_options v;
	memset(&v, 0x5a, sizeof v);
	ck_assert_ok(booking_jwt_verify_options_init(&v, BOOKING_JWT_VERIFY_OPTIONS_VERSION));
	ck_assert_uint_eq(v.version, BOOKING_JWT_VERIFY_OPTIONS_VERSION);
	ck_assert_ptr_null(v.issuer);
	ck_assert_int_eq(v.now, 0);
	ck_assert_code(booking_jwt_verify_options_init(&v, 0), "VALIDATION_ERROR");
}
END_TEST

START_TEST(an_empty_store_url_is_refused_not_taken_for_memory)
{
	booking_options o = BOOKING_OPTIONS_INIT;
	booking_options *e = NULL;
	booking_handle *bk = (booking_handle *)&bk;

	o.store_url = "";
	ck_assert_code(booking_open(&bk, &o), "VALIDATION_ERROR");
	ck_assert_ptr_null(bk);
	ck_assert_msg(strstr(booking_error_last()->message, "store_url") != NULL, "%s", booking_error_last()->message);
	ck_assert_code(booking_store_open(&o.store, "", NULL), "VALIDATION_ERROR");

	setenv("BOOKING_STORE_URL", "", 1);
	ck_assert_code(booking_options_from_env(&e), "VALIDATION_ERROR");
	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(booking_error_last()->message, "BOOKING_STORE_URL") != NULL, "%s",
	              booking_error_last()->message);
	unsetenv("BOOKING_STORE_URL"); /* unset: the default, memory: */
	ck_assert_ok(booking_options_from_env(&e));
	ck_assert_ptr_null(e->store_url);
	booking_options_free(e);
}
END_TEST

/* Read back what went to stderr since stderr_to_file(), and restore it. */
static int saved_stderr = -1;

static void stderr_to_file(const char *path)
{
	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	dup2(fileno(f), STDERR_FILENO);
	fclose(f);
}

static size_t stderr_restore(const char *path, char *buf, size_t size)
{
	fflush(stderr);
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, size - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	return n;
}

START_TEST(the_library_is_quiet_unless_the_host_gives_a_sink)
{
	char path[] = "/tmp/booking-quiet-XXXXXX", out[4096];
	int fd = mkstemp(path);
	booking_options o = BOOKING_OPTIONS_INIT;
	booking_reservation *r = NULL;
	fx f;

	ck_assert_int_ge(fd, 0);
	close(fd);
	o.log_level = BOOKING_LOG_DEBUG;
	stderr_to_file(path);
	fx_open(&f, &o); /* DEBUG "opened", INFO "movie created", ... — and no sink */
	fx_seed(&f);
	ck_assert_ok(fx_hold(&f, &r, "alice", "A1"));
	booking_reservation_free(r);
	fx_close(&f);
	ck_assert_uint_eq(stderr_restore(path, out, sizeof out), 0);

	/* the same with the ready-made sink: the lines are there */
	o.log_fn = booking_log_to_stderr;
	stderr_to_file(path);
	fx_open(&f, &o);
	fx_seed(&f);
	fx_close(&f);
	ck_assert_uint_gt(stderr_restore(path, out, sizeof out), 0);
	ck_assert_msg(strstr(out, "\"message\":\"movie created\"") != NULL, "%s", out);

	/* asking for a level in the environment is asking for the lines */
	booking_options *e = NULL;
	ck_assert_ok(booking_options_from_env(&e));
	ck_assert(e->log_fn == NULL);
	booking_options_free(e);
	setenv("BOOKING_LOG_LEVEL", "ERROR", 1);
	ck_assert_ok(booking_options_from_env(&e));
	ck_assert(e->log_fn == booking_log_to_stderr);
	ck_assert_int_eq(e->log_level, BOOKING_LOG_ERROR);
	booking_options_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("options");

	tcase_set_timeout(tc, 20);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, options_from_an_empty_environment_are_the_defaults);
	tcase_add_test(tc, default_options_open_a_working_handle);
	tcase_add_loop_test(tc, each_integer_variable_sets_its_option, 0, (int)N_INT_VARS);
	tcase_add_loop_test(tc, each_integer_variable_out_of_range_is_refused_naming_variable_and_range, 0,
	                    (int)N_INT_VARS);
	tcase_add_test(tc, string_and_choice_variables_set_their_options);
	tcase_add_test(tc, bad_choice_or_url_is_refused_naming_the_variable);
	tcase_add_test(tc, env_file_is_parsed);
	tcase_add_test(tc, environment_wins_over_the_env_file);
	tcase_add_test(tc, from_env_reads_the_file_named_by_booking_env_file);
	tcase_add_test(tc, bad_value_in_the_env_file_is_refused);
	tcase_add_test(tc, malformed_or_missing_env_file_is_refused);
	tcase_add_loop_test(tc, open_refuses_each_out_of_range_field, 0, (int)N_INT_VARS);
	tcase_add_test(tc, open_refuses_bad_urls_and_versions);
	tcase_add_test(tc, open_with_null_options_reads_the_environment);
	tcase_add_test(tc, the_library_is_quiet_unless_the_host_gives_a_sink);
	tcase_add_test(tc, options_init_fills_the_version_it_is_given_and_no_further);
	tcase_add_test(tc, an_empty_store_url_is_refused_not_taken_for_memory);
	tcase_add_loop_test(tc, a_retired_variable_is_refused_naming_it_and_the_url_that_replaces_it, 0, (int)N_RETIRED);
	tcase_add_loop_test(tc, a_struct_that_sets_a_retired_slot_is_refused_naming_the_old_field, 0, (int)N_RETIRED);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
