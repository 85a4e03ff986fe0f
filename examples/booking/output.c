/*
 * booking — output: errors, JSON objects, money and time formats, records.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- errors and the JSON object --------------------------------------- */

int cli_fail(cli *c)
{
	const booking_error *e = booking_error_last();
	if (c->json) {
		char *text = NULL;
		booking_error_to_json(&text, NULL);
		printf("%s\n", text ? text : "{\"error\":{\"code\":\"OUT_OF_MEMORY\",\"message\":\"out of memory\",\"details\":{}}}");
		booking_free(text);
	} else {
		fprintf(stderr, "error: %s: %s\n", e->code ? e->name : "INTERNAL_ERROR",
		        e->message && e->message[0] ? e->message : "unknown failure");
	}
	return EXIT_DOMAIN;
}

int cli_error(cli *c, const char *code, json_t *details, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (c->json) {
		json_t *o = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message", msg, "details",
		                      details ? details : json_object());
		details = NULL;
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		printf("%s\n", text ? text : "{\"error\":{\"code\":\"OUT_OF_MEMORY\",\"message\":\"out of memory\",\"details\":{}}}");
		free(text);
		json_decref(o);
	} else {
		fprintf(stderr, "error: %s: %s\n", code, msg);
	}
	json_decref(details);
	return EXIT_DOMAIN;
}

int cli_fail_hint(cli *c, const char *hint)
{
	if (!c->json) {
		int rc = cli_fail(c);
		fprintf(stderr, "(%s)\n", hint);
		return rc;
	}
	char *text = NULL;
	booking_error_to_json(&text, NULL);
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	booking_free(text);
	json_t *details = json_object_get(json_object_get(o, "error"), "details");
	if (!json_is_object(details)) {
		json_decref(o);
		return cli_fail(c);
	}
	json_object_set_new(details, "hint", json_string(hint));
	char *out = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!out)
		return cli_fail(c);
	printf("%s\n", out);
	free(out);
	return EXIT_DOMAIN;
}

int cli_usage_error(cli *c, const cli_command *cmd, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "booking: %s\n", msg);
	if (cmd)
		cli_command_usage(cmd, stderr);
	if (c->json) {
		json_t *o = json_pack("{s:{s:s,s:s,s:{}}}", "error", "code", "USAGE_ERROR", "message", msg, "details");
		char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(o);
	}
	return EXIT_USAGE;
}

int cli_json(cli *c, json_t *obj)
{
	(void)c;
	if (!obj) {
		fprintf(stderr, "booking: out of memory\n");
		return EXIT_DOMAIN;
	}
	/* Pretty for a person at a terminal, one line for a pipe: one object either way. */
	/* At a terminal, everything beyond ASCII is escaped too: data may carry C1 controls or bidi overrides. */
	size_t flags = isatty(STDOUT_FILENO) ? JSON_INDENT(2) | JSON_ENSURE_ASCII : JSON_COMPACT;
	char *text = json_dumps(obj, flags);
	json_decref(obj);
	if (!text) {
		fprintf(stderr, "booking: out of memory\n");
		return EXIT_DOMAIN;
	}
	printf("%s\n", text);
	free(text);
	return EXIT_OK;
}

const char *col(const cli *c, const char *ansi)
{
	return c->color ? ansi : "";
}

const char *tsafe(const char *s)
{
	static char bufs[8][1024];
	static unsigned next;
	char *out = bufs[next++ % 8];
	booking_text_escape(out, sizeof bufs[0], s);
	return out;
}

/* ---- money ------------------------------------------------------------- */

/* Digits after the decimal point of an ISO 4217 currency (2 unless listed). */
int currency_exponent(const char *currency)
{
	static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
	                                   "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF", NULL};
	static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};
	for (size_t i = 0; currency && zero[i]; i++)
		if (strcmp(currency, zero[i]) == 0)
			return 0;
	for (size_t i = 0; currency && three[i]; i++)
		if (strcmp(currency, three[i]) == 0)
			return 3;
	return 2;
}

const char *fmt_money(char *buf, size_t size, int64_t minor, const char *currency)
{
	int exp = currency_exponent(currency);
	int64_t scale = exp == 0 ? 1 : exp == 3 ? 1000 : 100;
	uint64_t mag = minor < 0 ? (uint64_t)0 - (uint64_t)minor : (uint64_t)minor;
	if (exp == 0)
		snprintf(buf, size, "%s%" PRIu64 " %s", minor < 0 ? "-" : "", mag, currency);
	else
		snprintf(buf, size, "%s%" PRIu64 ".%0*" PRIu64 " %s", minor < 0 ? "-" : "", mag / (uint64_t)scale, exp,
		         mag % (uint64_t)scale, currency);
	return buf;
}

bool parse_money(const char *s, const char *currency, int64_t *out)
{
	int exp = currency_exponent(currency);
	const char *p = s;
	if (!p || !*p)
		return false;
	int64_t whole = 0, frac = 0;
	int frac_digits = 0;
	bool dot = false, digits = false;
	for (; *p; p++) {
		if (*p == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			return false;
		digits = true;
		if (!dot) {
			if (whole > (INT64_MAX - 9) / 10 / 1000)
				return false;
			whole = whole * 10 + (*p - '0');
		} else {
			if (++frac_digits > exp)
				return false; /* more precision than the currency has */
			frac = frac * 10 + (*p - '0');
		}
	}
	if (!digits)
		return false;
	if (!dot) {
		*out = whole; /* an integer is minor units already */
		return true;
	}
	for (int i = frac_digits; i < exp; i++)
		frac *= 10;
	int64_t scale = 1;
	for (int i = 0; i < exp; i++)
		scale *= 10;
	*out = whole * scale + frac;
	return true;
}

/* ---- time -------------------------------------------------------------- */

const char *fmt_time(char *buf, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

/*
 * An integer field of at most `width` characters at *p, read as sscanf's
 * "%<width>d" reads it (leading blanks skipped, an optional sign, digits),
 * converted with strtol. Advances *p past it; false when there is no number.
 */
static bool scan_field(const char **p, size_t width, int *out)
{
	char field[8];
	const char *s = *p;
	size_t n = 0;
	if (width >= sizeof field)
		return false;
	while (isspace((unsigned char)*s))
		s++;
	while (n < width && s[n] != '\0') {
		field[n] = s[n];
		n++;
	}
	field[n] = '\0';
	char *end;
	errno = 0;
	long v = strtol(field, &end, 10);
	if (end == field || errno != 0 || v < INT_MIN || v > INT_MAX)
		return false;
	*out = (int)v;
	*p = s + (end - field);
	return true;
}

bool parse_time(const char *s, int64_t now_ms, int64_t *out)
{
	if (!s || !*s)
		return false;
	if (s[0] == '+') {
		long minutes;
		if (!args_int(s + 1, 0, 10L * 366 * 24 * 60, &minutes))
			return false;
		*out = now_ms + (int64_t)minutes * 60000;
		return true;
	}
	int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0, ms = 0;
	const char *p = s;
	if (!scan_field(&p, 4, &y) || *p != '-')
		return false;
	p++;
	if (!scan_field(&p, 2, &mo) || *p != '-')
		return false;
	p++;
	if (!scan_field(&p, 2, &d))
		return false;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!scan_field(&p, 2, &h) || *p != ':')
			return false;
		p++;
		if (!scan_field(&p, 2, &mi))
			return false;
		if (*p == ':') {
			p++;
			if (!scan_field(&p, 2, &sec))
				return false;
			if (*p == '.') {
				int scale = 100;
				for (p++; *p >= '0' && *p <= '9'; p++) {
					ms += (*p - '0') * scale;
					scale /= 10;
				}
			}
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (strcmp(p, "+00:00") == 0 || strcmp(p, "+0000") == 0)
		p += strlen(p);
	if (*p != '\0')
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return false;
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	*out = (int64_t)t * 1000 + ms;
	return true;
}

json_t *json_from_library(int rc, char *text)
{
	json_t *o = rc == 0 && text ? json_loads(text, 0, NULL) : NULL;
	booking_free(text);
	return o;
}

/* ---- records for people ------------------------------------------------ */

static const char *status_colour(booking_reservation_status s)
{
	switch (s) {
	case BOOKING_RESERVATION_CONFIRMED:
		return ANSI_GREEN;
	case BOOKING_RESERVATION_PENDING:
	case BOOKING_RESERVATION_PAYMENT_PROCESSING:
		return ANSI_YELLOW;
	default:
		return ANSI_DIM;
	}
}

void print_reservation(cli *c, const booking_reservation *r)
{
	char money[48], when[40];
	printf("reservation  %s%s%s\n", col(c, ANSI_BOLD), r->id, col(c, ANSI_RESET));
	printf("  status   %s%s%s", col(c, status_colour(r->status)), booking_reservation_status_name(r->status),
	       col(c, ANSI_RESET));
	if (r->status == BOOKING_RESERVATION_PENDING || r->status == BOOKING_RESERVATION_PAYMENT_PROCESSING)
		printf(" (held until %s)", fmt_time(when, sizeof when, r->expires_at));
	printf("\n  seats    ");
	for (size_t i = 0; i < r->seat_count; i++)
		printf("%s%s", i ? " " : "", r->seats[i]->label);
	printf("\n  total    %s\n", fmt_money(money, sizeof money, r->total_amount, r->currency));
	printf("  showtime %s\n  user     %s\n", r->showtime_id, r->user_id);
}

void print_payment(cli *c, const booking_payment *p)
{
	char money[48];
	const char *colour = p->status == BOOKING_PAYMENT_SUCCEEDED ? ANSI_GREEN
	                     : p->status == BOOKING_PAYMENT_FAILED  ? ANSI_RED
	                                                            : ANSI_YELLOW;
	printf("payment  %s%s%s\n", col(c, ANSI_BOLD), p->id, col(c, ANSI_RESET));
	printf("  status   %s%s%s%s%s\n", col(c, colour), booking_payment_status_name(p->status), col(c, ANSI_RESET),
	       p->failure_code[0] ? ": " : "", tsafe(p->failure_code));
	printf("  amount   %s (card %s%s)\n", fmt_money(money, sizeof money, p->amount, p->currency),
	       c->utf8 ? "\u2022\u2022\u2022\u2022" : "****", p->card_last4);
	if (p->refunded_amount)
		printf("  refunded %s\n", fmt_money(money, sizeof money, p->refunded_amount, p->currency));
	printf("  reservation  %s\n", p->reservation_id);
}
