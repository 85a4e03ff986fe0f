/*
 * libbooking resilience tests — helpers of the fault scenarios.
 * SPDX-License-Identifier: MIT
 */
#include "fault.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>

int64_t ft_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run `cmd`, its first output line into out; the exit status (-1: could not run it). No Check call. */
static int sh_status(char *out, size_t n, const char *cmd)
{
	char line[1024] = "";
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char buf[1024];
	bool first = true;
	while (fgets(buf, sizeof(buf), p)) {
		if (first) {
			snprintf(line, sizeof(line), "%s", buf);
			line[strcspn(line, "\r\n")] = '\0';
			first = false;
		}
	}
	int status = pclose(p);
	if (out && n)
		snprintf(out, n, "%s", line);
	return status;
}

void ft_sh(char *out, size_t n, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int status = sh_status(out, n, cmd);
	ck_assert_msg(status == 0, "command failed (%d): %s", status, cmd);
}

/* Outside a test (main): no Check call may be made. */
static bool sh_main(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool sh_main(char *out, size_t n, const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int status = sh_status(out, n, cmd);
	if (status != 0)
		fprintf(stderr, "FAIL: command failed (%d): %s\n", status, cmd);
	return status == 0;
}

static const char *script_main(const char *var)
{
	const char *s = getenv(var);
	if (!s || !*s)
		fprintf(stderr, "FAIL: %s is not set (run the test through meson)\n", var);
	return s && *s ? s : "/nonexistent";
}

static const char *script(const char *var)
{
	const char *s = getenv(var);
	ck_assert_msg(s && *s, "%s is not set (run the test through meson)", var);
	return s;
}

bool ft_redis_start(char *url, size_t n)
{
	return sh_main(url, n, "'%s' start", script_main("BOOKING_TEST_REDIS_SCRIPT")) && strncmp(url, "redis://", 8) == 0;
}

void ft_redis_stop(const char *url)
{
	(void)sh_main(NULL, 0, "'%s' stop '%s'", script_main("BOOKING_TEST_REDIS_SCRIPT"), url);
}

void ft_redis_kill(const char *url)
{
	ft_sh(NULL, 0, "'%s' redis-kill '%s'", script("BOOKING_TEST_FAULT_SCRIPT"), url);
}

void ft_redis_restart(const char *url)
{
	ft_sh(NULL, 0, "'%s' redis-restart '%s'", script("BOOKING_TEST_FAULT_SCRIPT"), url);
}

long ft_redis_calls(const char *url, const char *command)
{
	char out[64];
	ft_sh(out, sizeof(out), "'%s' redis-calls '%s' '%s'", script("BOOKING_TEST_FAULT_SCRIPT"), url, command);
	return strtol(out, NULL, 10);
}

bool ft_pg_start(char *dir, size_t dn, char *url, size_t un)
{
	snprintf(dir, dn, "%s/booking-pg-fault.XXXXXX", fx_env("TMPDIR", "/tmp"));
	if (!mkdtemp(dir)) {
		fprintf(stderr, "FAIL: cannot make %s\n", dir);
		return false;
	}
	return sh_main(url, un, "'%s' start '%s'", script_main("BOOKING_TEST_PG_SCRIPT"), dir) &&
	       strncmp(url, "postgresql://", 13) == 0;
}

void ft_pg_destroy(const char *dir)
{
	(void)sh_main(NULL, 0, "'%s' stop '%s'", script_main("BOOKING_TEST_PG_SCRIPT"), dir);
}

void ft_pg_stop_immediate(const char *dir)
{
	ft_sh(NULL, 0, "'%s' pg-stop '%s'", script("BOOKING_TEST_FAULT_SCRIPT"), dir);
}

void ft_pg_restart(const char *dir)
{
	ft_sh(NULL, 0, "'%s' pg-start '%s'", script("BOOKING_TEST_FAULT_SCRIPT"), dir);
}

int ft_pg_terminate(const char *dir)
{
	char out[64];
	ft_sh(out, sizeof(out), "'%s' pg-terminate '%s'", script("BOOKING_TEST_FAULT_SCRIPT"), dir);
	return atoi(out);
}

void ft_big_showtime(fx *f, const char *layout, char showtime_id[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_seat *seats = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	booking_price price;
	size_t n = 0;

	ck_assert_ok(booking_layout_parse(&seats, &n, layout, sizeof *seats));
	ck_assert_ok(booking_screen_create(&s, f->bk, &admin, f->theater_id, "Big screen", seats, n, sizeof *seats));
	booking_free(seats);
	memset(&price, 0, sizeof(price));
	snprintf(price.category, sizeof(price.category), "standard");
	price.amount = FX_PRICE;
	ck_assert_ok(booking_showtime_create(&st, f->bk, &admin, f->movie_id, s->id, booking_now(f->bk) + FX_DAY, "EUR",
	                                     &price, 1, sizeof(booking_price)));
	snprintf(showtime_id, BOOKING_ID_SIZE, "%s", st->id);
	booking_showtime_free(st);
	booking_screen_free(s);
}

double ft_metric(booking_handle *bk, const char *series)
{
	char *text = NULL;
	ck_assert_ok(booking_metrics(&text, bk));
	ck_assert_ptr_nonnull(text);
	double v = -1;
	size_t n = strlen(series);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (strncmp(line, series, n) == 0 && line[n] == ' ')
			v = strtod(line + n + 1, NULL);
		if (!end)
			break;
		line = end + 1;
	}
	booking_free(text);
	return v;
}

void ft_breaker_state(booking_handle *bk, const char *dependency, char state[16])
{
	char *text = NULL;
	ck_assert_ok(booking_health(&text, bk));
	json_error_t err;
	json_t *h = json_loads(text, 0, &err);
	ck_assert_ptr_nonnull(h);
	const char *s =
		json_string_value(json_object_get(json_object_get(json_object_get(h, "dependencies"), dependency), "state"));
	snprintf(state, 16, "%s", s ? s : "ABSENT");
	json_decref(h);
	booking_free(text);
}

static int on_payment(const booking_payment *p, void *payload)
{
	ft_money *m = payload;
	switch (p->status) {
	case BOOKING_PAYMENT_PROCESSING: m->processing++; break;
	case BOOKING_PAYMENT_SUCCEEDED:
		m->succeeded++;
		m->succeeded_amount += p->amount;
		break;
	case BOOKING_PAYMENT_FAILED: m->failed++; break;
	case BOOKING_PAYMENT_REFUNDED:
		m->refunded++;
		m->succeeded_amount += p->amount; /* it succeeded, then was refunded */
		m->refunded_amount += p->refunded_amount;
		break;
	}
	return 0;
}

static int on_booking(const booking_reservation *b, void *payload)
{
	ft_money *m = payload;
	if (b->status == BOOKING_RESERVATION_CONFIRMED) {
		m->confirmed++;
		m->confirmed_total += b->total_amount;
	}
	return 0;
}

void ft_money_of(fx *f, ft_money *m)
{
	booking_store_scan_cbs cbs;
	booking_store *st = f->store, *own = NULL;
	memset(m, 0, sizeof(*m));
	memset(&cbs, 0, sizeof(cbs));
	cbs.payment = on_payment;
	cbs.reservation = on_booking;
	if (!st) {
		ck_assert_ok(booking_store_open(&own, f->url, NULL));
		st = own;
	}
	/* a direct store has no retries: a connection killed by a fault scenario fails once, then is replaced */
	int rc = BOOKING_EUNAVAILABLE;
	for (int attempt = 0; attempt < 5 && rc == BOOKING_EUNAVAILABLE; attempt++) {
		memset(m, 0, sizeof(*m));
		rc = st->scan(st, &cbs, m);
	}
	ck_assert_ok(rc);
	if (own)
		own->free(own);
}

FILE *ft_psql_open(const char *dir, const char *outfile)
{
	char path[600], port[16] = "";
	snprintf(path, sizeof(path), "%s/port", dir);
	FILE *pf = fopen(path, "r");
	ck_assert_ptr_nonnull(pf);
	ck_assert_ptr_nonnull(fgets(port, sizeof(port), pf));
	fclose(pf);
	port[strcspn(port, "\r\n")] = '\0';
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "psql -X -q -At -h 127.0.0.1 -p %s -U postgres -d booking_test -o '%s'", port, outfile);
	FILE *psql = popen(cmd, "w");
	ck_assert_ptr_nonnull(psql);
	return psql;
}

void ft_psql_terminate(FILE *psql)
{
	fputs("select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = 'booking_test'"
	      " and pid <> pg_backend_pid() and backend_type = 'client backend';\n",
	      psql);
	fflush(psql);
}

long ft_psql_close(FILE *psql, const char *outfile)
{
	ck_assert_int_eq(pclose(psql), 0);
	FILE *f = fopen(outfile, "r");
	ck_assert_ptr_nonnull(f);
	long sum = 0;
	char line[64];
	while (fgets(line, sizeof(line), f))
		sum += strtol(line, NULL, 10);
	fclose(f);
	remove(outfile);
	return sum;
}
