/*
 * booking — the libbooking command-line tool: what its files share.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_CLI_H
#define BOOKING_CLI_H

#include <booking/booking.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "json_records.h" /* json_movie() ... json_seat_map(), fmt_iso(): shared with booking-server */

/* Exit codes. */
enum {
	EXIT_OK = 0,
	EXIT_DOMAIN = 1, /* the library said no (the code name goes to stderr) */
	EXIT_USAGE = 2   /* bad command line */
};

#define CLI_DEFAULT_DATA_DIR "booking-data"
#define CLI_DEFAULT_DB "booking-data/booking.db"
/* Files of the data directory. */
#define CLI_DB_FILE "booking.db"
#define CLI_PRIVATE_KEY_FILE "jwt-private.jwk"
#define CLI_PAYMENT_KEY_FILE "payment.key"
#define CLI_PUBLIC_KEYS_FILE "jwt-public.jwks"
#define CLI_TOKEN_FILE "token"
/* The system actor, the only one --as names. */
#define CLI_SYSTEM_ACTOR "system"
#define CLI_DEFAULT_EVENTS "store:"
#define CLI_DEFAULT_CARD "4242424242424242"
#define CLI_DECLINING_CARD "4000000000000002"

/* The state of one run of the program. */
typedef struct cli {
	booking_options *env_opts; /* from booking_options_from_env(); owned */
	const char *store_url;     /* --store (NULL: env, then the default) */
	const char *lock_url;      /* --locks */
	const char *events_url;    /* --events */
	bool json;                 /* --json */
	const char *as_user;       /* --as: only "system" */
	const char *data_dir;      /* --data-dir (NULL: ./booking-data) */
	booking_token *token;      /* the actor's verified token (owned: its strings back the ctx) */
	bool verbose;              /* --verbose: library logs at INFO */
	bool color;                /* ANSI colours on stdout */
	bool utf8;                 /* the locale can show the seat symbols */
	booking_handle *bk;               /* opened by cli_open() */
	char store_buf[4200];      /* the default store URL, built from the working directory */
	char key_buf[2][4200];     /* key files found in the data directory */
	char paykey_buf[4200];     /* the payment key file found in the data directory */
} cli;

/* A numeric macro as a string literal: CLI_STR(BOOKING_PAGE_MAX) is "500". */
#define CLI_STR_(x) #x
#define CLI_STR(x) CLI_STR_(x)

/* ---- a command -------------------------------------------------------- */

typedef struct cli_command cli_command;
typedef int (*cli_cmd_fn)(cli *c, const cli_command *cmd, int argc, char **argv);

struct cli_command {
	const char *name;    /* "movie" */
	const char *sub;     /* "add", or NULL for a single-word command */
	cli_cmd_fn fn;
	const char *usage;   /* arguments after the name */
	const char *summary; /* one line */
	const char *help;    /* more lines, or NULL */
};

/* Print the usage of one command (stream: stdout for --help, stderr for errors). */
void cli_command_usage(const cli_command *cmd, FILE *stream);

/* ---- arguments (args.c) ------------------------------------------------ */

#define ARGS_MAX 64

/*
 * Parsed command arguments. `known` lists the flags a command accepts:
 * "--duration=" takes a value, "--follow" does not. "-h"/"--help" always
 * work. A flag may repeat (--price); "--" ends the flags.
 */
typedef struct cli_args {
	size_t npos;
	char *pos[ARGS_MAX];
	size_t nflags;
	const char *flag[ARGS_MAX]; /* names as in `known`, without '=' */
	char *value[ARGS_MAX];      /* NULL for boolean flags */
	bool help;
} cli_args;

/* args_parse() result when the command should go on. */
#define ARGS_OK (-1)
/*
 * ARGS_OK; EXIT_OK after printing the usage for --help; EXIT_USAGE after
 * printing what was wrong. Commands: `if ((rc = args_parse(...)) != ARGS_OK) return rc;`
 */
int args_parse(cli *c, const cli_command *cmd, cli_args *a, int argc, char **argv, const char *const *known);
/* The last value of `name` ("--duration"), or NULL. */
const char *args_get(const cli_args *a, const char *name);
bool args_has(const cli_args *a, const char *name);
/* Parse an int in [min, max]; false when it is not one. */
bool args_int(const char *s, long min, long max, long *out);

/* ---- the handle and the actor (main.c) --------------------------------- */

/* Open the handle for the command (global flags, environment, defaults). 0 or an exit code. */
int cli_open(cli *c);
/* Fill `opts` from the environment and the flags; `default_store` NULL: ./booking-data/booking.db. 0 or an exit code. */
int cli_options(cli *c, booking_options *opts, const char *default_store);
/*
 * The acting user, from the saved token (or $BOOKING_TOKEN), or the system
 * with --as system. Opens the handle (the token is verified with its keys).
 * EXIT_DOMAIN (printed) when nobody is logged in or the token is refused.
 */
int cli_actor(cli *c, const cli_command *cmd, booking_ctx *ctx);
/* An actor for admin commands: cli_actor(); the library refuses a customer (FORBIDDEN). */
int cli_admin(cli *c, const cli_command *cmd, booking_ctx *ctx);
/* The actor when there is one with a valid token, else anonymous (reads). After cli_open(). */
void cli_reader(cli *c, booking_ctx *ctx);

/* ---- the data directory and the session (auth_cmds.c) ----------------- */

/* The data directory: --data-dir, else ./booking-data. */
const char *cli_data_dir(const cli *c);
/* DATA_DIR/name into out; false when it does not fit. */
bool cli_data_path(const cli *c, const char *name, char *out, size_t size);
/*
 * Create the data directory (mode 0700) when missing; refuse one that
 * exists and is writable by group or others or belongs to another user
 * than this one or root (VALIDATION_ERROR, details field "data_dir").
 * 0 or EXIT_DOMAIN (printed).
 */
int cli_make_data_dir(cli *c);
/* Point opts at the key files: the environment's, else the data directory's when they exist. */
void cli_key_options(cli *c, booking_options *opts);
/*
 * Generate the key pair into the data directory (or the files the
 * environment names) when there is none: for `init`. Sets *made when it
 * generated them. 0 or EXIT_DOMAIN (printed).
 */
int cli_keys_ensure(cli *c, bool *made, char *kid_out, size_t kid_size);
/* The actor from the session: --as system, the token, or (not required) anonymous. */
int cli_session(cli *c, booking_ctx *ctx, bool required);

/* ---- output (output.c) ------------------------------------------------- */

/* Report the thread's last library error; returns EXIT_DOMAIN. */
int cli_fail(cli *c);
/*
 * Report an error the program finds itself, as the library's are reported:
 * "error: CODE: message" on stderr, or {"error":{"code","message","details"}}
 * with --json. Steals `details` (may be NULL). Returns EXIT_DOMAIN.
 */
int cli_error(cli *c, const char *code, json_t *details, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* cli_fail() plus what to do about it: a line on stderr, or details.hint with --json. */
int cli_fail_hint(cli *c, const char *hint);
/* Report a usage error for `cmd` (may be NULL); returns EXIT_USAGE. */
int cli_usage_error(cli *c, const cli_command *cmd, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Print `obj` as the command's one JSON object (steals it); returns EXIT_OK. */
int cli_json(cli *c, json_t *obj);

/* "12.50 EUR" into buf. */
const char *fmt_money(char *buf, size_t size, int64_t minor, const char *currency);
/* "2025-06-01 20:00 UTC" into buf. */
const char *fmt_time(char *buf, size_t size, int64_t ms);
/* Digits after the decimal point in `currency` (ISO 4217): 2 unless listed. */
int currency_exponent(const char *currency);
/* Parse "12.50" (decimal) or "1250" (minor units) in `currency`; false on junk. */
bool parse_money(const char *s, const char *currency, int64_t *out);
/* Parse "2025-06-01T20:00:00Z", "2025-06-01 20:00" (UTC) or "+MINUTES" (from now_ms). */
bool parse_time(const char *s, int64_t now_ms, int64_t *out);

/* Colour helpers: the escape when colours are on, "" otherwise. */
const char *col(const cli *c, const char *ansi);
/*
 * Text from data, made safe for a terminal (booking_text_escape()).
 * Returns one of 8 rotating static buffers (so up to 8 may appear in one
 * printf); long values are cut (with "…").
 */
const char *tsafe(const char *s);
#define ANSI_RESET "\033[0m"
#define ANSI_BOLD "\033[1m"
#define ANSI_DIM "\033[2m"
#define ANSI_RED "\033[31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_CYAN "\033[36m"

/* Parse library JSON text (booking_check_report_to_json...) and free the text; NULL on failure. */
json_t *json_from_library(int rc, char *text);

/* One-line human forms. */
void print_reservation(cli *c, const booking_reservation *r);
void print_payment(cli *c, const booking_payment *p);

/* ---- seat map (seatmap.c) ---------------------------------------------- */

/* Draw the grid, legend and counts of a seat map on `out`. */
void seatmap_print(const cli *c, FILE *out, const booking_seat_map *m);

/* ---- housekeeping (booking_cmds.c), shared with the demo ---------------- */

/* Relay the whole outbox; 0 or a library error. */
int relay_all(booking_handle *bk, size_t *total);
/* Relay, then run the notification consumer until it has read `backlog` + the relayed events. */
int drain_notifications(booking_handle *bk, booking_notification_sink sink, void *payload, size_t backlog, size_t *sent);
/* A check report for people. */
void print_check_report(const cli *c, const booking_check_report *r);

/* ---- the commands ------------------------------------------------------ */

int cmd_init(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_movie_add(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_movie_list(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_theater_add(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_theater_list(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_screen_add(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_screen_show(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_showtime_add(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_showtime_list(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_seats(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_hold(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_extend(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_change(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_block(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_unblock(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_show(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_pay(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_cancel(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_refund(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_reservations(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_waitlist_join(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_waitlist_leave(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_waitlist_list(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_waitlist_process(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_expire(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_relay(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_notify(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_recover(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_check(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_metrics(cli *c, const cli_command *cmd, int argc, char **argv); /* obs_cmds.c */
int cmd_config(cli *c, const cli_command *cmd, int argc, char **argv); /* obs_cmds.c */
int cmd_limits(cli *c, const cli_command *cmd, int argc, char **argv); /* obs_cmds.c */
int cmd_health(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_demo(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_register(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_login(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_logout(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_whoami(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_keys_generate(cli *c, const cli_command *cmd, int argc, char **argv);
int cmd_keys_rotate(cli *c, const cli_command *cmd, int argc, char **argv);


#endif
