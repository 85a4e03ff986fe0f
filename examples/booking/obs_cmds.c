/*
 * booking — observability commands: `metrics` (the Prometheus page),
 * `health` (the circuit breaker of each dependency), `config` (the
 * options in effect) and `limits` (the fair-sale limits among them).
 *
 * A CLI run is one short process, so both first probe the store with one
 * catalog read: the page then shows a real call (its latency, its result)
 * and the health a breaker that has seen the store answer, or fail.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <string.h>

/* One read of the catalog. Its failure is reported by the page itself, not as the command's. */
static void probe(cli *c)
{
	booking_ctx anon;
	booking_movie_list *l = NULL;
	booking_ctx_init(&anon, NULL, BOOKING_ROLE_NONE);
	if (booking_movie_list_all(&l, c->bk, &anon) == 0)
		booking_movie_list_free(l);
}

int cmd_metrics(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	static const char *const known[] = {"--no-probe", NULL};
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "metrics takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	if (!args_has(&a, "--no-probe"))
		probe(c);
	char *text = NULL;
	if (booking_metrics(&text, c->bk) < 0)
		return cli_fail(c);
	if (c->json)
		rc = cli_json(c, json_pack("{s:s}", "metrics", text));
	else
		fputs(text, stdout);
	booking_free(text);
	return rc;
}

static void print_dependency(cli *c, const char *name, json_t *d)
{
	const char *state = json_string_value(json_object_get(d, "state"));
	const char *colour = !state || strcmp(state, "CLOSED") == 0 ? ANSI_GREEN
	                     : strcmp(state, "OPEN") == 0          ? ANSI_RED
	                                                           : ANSI_YELLOW;
	printf("  %-8s %s%-9s%s failures %lld/%lld", name, col(c, colour), state ? state : "?", col(c, ANSI_RESET),
	       (long long)json_integer_value(json_object_get(d, "consecutive_failures")),
	       (long long)json_integer_value(json_object_get(d, "failure_threshold")));
	json_t *degraded = json_object_get(d, "degraded");
	if (json_is_true(degraded))
		printf("  %sdegraded: holds go through the store alone%s", col(c, ANSI_YELLOW), col(c, ANSI_RESET));
	json_t *last = json_object_get(d, "last_error");
	if (json_is_object(last))
		printf("\n           last error: %s: %s", json_string_value(json_object_get(last, "code")),
		       json_string_value(json_object_get(last, "message")));
	putchar('\n');
}

int cmd_health(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	static const char *const known[] = {"--no-probe", NULL};
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "health takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	if (!args_has(&a, "--no-probe"))
		probe(c);
	char *text = NULL;
	if (booking_health(&text, c->bk) != 0)
		return cli_fail(c);
	json_t *h = json_from_library(0, text);
	if (!h)
		return cli_fail(c);
	const char *status = json_string_value(json_object_get(h, "status"));
	rc = status && strcmp(status, "unavailable") == 0 ? EXIT_DOMAIN : EXIT_OK;
	if (c->json) {
		if (cli_json(c, h) != EXIT_OK)
			rc = EXIT_DOMAIN;
		return rc;
	}
	printf("health: %s\n", status ? status : "?");
	json_t *deps = json_object_get(h, "dependencies");
	for (void *it = json_object_iter(deps); it; it = json_object_iter_next(deps, it))
		print_dependency(c, json_object_iter_key(it), json_object_iter_value(it));
	json_decref(h);
	return rc;
}

/* ---- config ------------------------------------------------------------ */

/* One option: its field name, variable, the value in effect, and whether the environment set it. */
typedef struct config_item {
	const char *field, *variable;
	long value;
	const char *text; /* a choice's name; NULL for a number */
	const char *unit;
	bool set;
} config_item;

int cmd_config(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "config takes no arguments");
	const booking_options *o = c->env_opts;
	int expiry = o->hold_expiry_minutes ? o->hold_expiry_minutes : 15;
	config_item items[] = {
		{"hold_expiry_minutes", "BOOKING_EXPIRY_MINUTES", expiry, NULL, "min", o->hold_expiry_minutes != 0},
		{"max_seats_per_reservation", "BOOKING_MAX_SEATS_PER_RESERVATION",
		 o->max_seats_per_reservation ? o->max_seats_per_reservation : 10, NULL, "", o->max_seats_per_reservation != 0},
		{"payment_window_seconds", "BOOKING_PAYMENT_WINDOW_SECONDS",
		 o->payment_window_seconds ? o->payment_window_seconds : 120, NULL, "s", o->payment_window_seconds != 0},
		{"decline_policy", "BOOKING_DECLINE_POLICY", o->decline_policy, booking_decline_policy_name(o->decline_policy),
		 "", o->decline_policy != BOOKING_DECLINE_KEEP_HOLD},
		{"orphan_policy", "BOOKING_ORPHAN_POLICY", o->orphan_policy, booking_orphan_policy_name(o->orphan_policy), "",
		 o->orphan_policy != BOOKING_ORPHANS_OFF},
		{"hold_max_minutes", "BOOKING_HOLD_MAX_MINUTES", o->hold_max_minutes ? o->hold_max_minutes : 2 * expiry, NULL,
		 "min", o->hold_max_minutes != 0},
		{"best_row_depth_percent", "BOOKING_BEST_ROW_DEPTH", o->best_row_depth_percent ? o->best_row_depth_percent : 60,
		 NULL, "%", o->best_row_depth_percent != 0},
		{"max_seats_per_user_showtime", "BOOKING_MAX_SEATS_PER_USER_SHOWTIME",
		 o->max_seats_per_user_showtime ? o->max_seats_per_user_showtime : 10, NULL, "", o->max_seats_per_user_showtime != 0},
		{"hold_cooldown_seconds", "BOOKING_HOLD_COOLDOWN_SECONDS", o->hold_cooldown_seconds, NULL, "s",
		 o->hold_cooldown_seconds != 0},
		{"max_live_holds_per_user", "BOOKING_MAX_LIVE_HOLDS_PER_USER", o->max_live_holds_per_user, NULL, "",
		 o->max_live_holds_per_user != 0},
		{"rate_holds_per_minute", "BOOKING_RATE_HOLDS_PER_MINUTE", o->rate_holds_per_minute, NULL, "/min",
		 o->rate_holds_per_minute != 0},
		{"rate_payments_per_minute", "BOOKING_RATE_PAYMENTS_PER_MINUTE", o->rate_payments_per_minute, NULL, "/min",
		 o->rate_payments_per_minute != 0},
		{"rate_logins_per_minute", "BOOKING_RATE_LOGINS_PER_MINUTE", o->rate_logins_per_minute, NULL, "/min",
		 o->rate_logins_per_minute != 0},
		{"rate_burst", "BOOKING_RATE_BURST", o->rate_burst ? o->rate_burst : 5, NULL, "", o->rate_burst != 0},
		{"waitlist_max_passes", "BOOKING_WAITLIST_MAX_PASSES", o->waitlist_max_passes ? o->waitlist_max_passes : 3, NULL,
		 "", o->waitlist_max_passes != 0},
		{"waitlist_max_entries", "BOOKING_WAITLIST_MAX_ENTRIES",
		 o->waitlist_max_entries ? o->waitlist_max_entries : 1000, NULL, "", o->waitlist_max_entries != 0},
	};
	size_t n = sizeof items / sizeof items[0];
	if (c->json) {
		json_t *opts = json_object();
		for (size_t i = 0; opts && i < n; i++)
			json_object_set_new(opts, items[i].field,
			                    json_pack("{s:o,s:s,s:b}", "value",
			                              items[i].text ? json_string(items[i].text) : json_integer(items[i].value),
			                              "variable", items[i].variable, "set", items[i].set));
		return cli_json(c, json_pack("{s:o}", "options", opts));
	}
	for (size_t i = 0; i < n; i++) {
		char value[64];
		if (items[i].text)
			snprintf(value, sizeof value, "%s", items[i].text);
		else
			snprintf(value, sizeof value, "%ld%s%s", items[i].value,
			         items[i].unit[0] && items[i].unit[0] != '%' && items[i].unit[0] != '/' ? " " : "", items[i].unit);
		if (strcmp(items[i].field, "best_row_depth_percent") == 0 && items[i].value == -1)
			snprintf(value, sizeof value, "-1 (front row)");
		if (strcmp(items[i].field, "max_seats_per_user_showtime") == 0 && items[i].value == -1)
			snprintf(value, sizeof value, "-1 (no limit)");
		if (strcmp(items[i].field, "waitlist_max_passes") == 0 && items[i].value == -1)
			snprintf(value, sizeof value, "-1 (strict order)");
		printf("%-28s %-26s %s%s%s\n", items[i].field, value, col(c, ANSI_DIM),
		       items[i].set ? items[i].variable : "default", col(c, ANSI_RESET));
	}
	return EXIT_OK;
}

/* ---- limits ------------------------------------------------------------ */

int cmd_limits(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "limits takes no arguments");
	if (c->json)
		return cli_json(c, json_limits(c->env_opts));
	fair_limit l[FAIR_LIMIT_COUNT];
	size_t n = fair_limits(c->env_opts, l);
	for (size_t i = 0; i < n; i++) {
		char value[64];
		if (l[i].off)
			snprintf(value, sizeof value, "off");
		else if (strcmp(l[i].name, "waitlist_max_passes") == 0 && l[i].value == 0)
			snprintf(value, sizeof value, "0 (strict join order)");
		else
			snprintf(value, sizeof value, "%d%s%s", l[i].value, l[i].unit[0] == '/' ? "" : " ", l[i].unit);
		printf("%-28s %-22s %s%-36s %s%s\n", l[i].name, value, col(c, ANSI_DIM), l[i].variable,
		       l[i].set ? "set" : "default", col(c, ANSI_RESET));
	}
	return EXIT_OK;
}
