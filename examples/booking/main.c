/*
 * booking — the libbooking command-line tool: global flags, opening the
 * handle, the actor, and dispatch to the commands.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The help of `reservations` and of its other name, `bookings`. */
#define RESERVATIONS_HELP \
	"  --showtime ID  the showtime's door list: every buyer's reservations (admin)\n" \
	"  --status S     with --showtime: only PENDING, PAYMENT_PROCESSING, CONFIRMED,\n" \
	"                 CANCELLED or EXPIRED ones\n" \
	"  --limit N      reservations in the page, 1.." CLI_STR(BOOKING_PAGE_MAX) \
	" (default " CLI_STR(BOOKING_PAGE_DEFAULT) ")\n" \
	"  --cursor C     the page after the one that printed C (its \"more:\" line,\n" \
	"                 or next_cursor in --json); without it, the newest page"

static const cli_command commands[] = {
	{"init", NULL, cmd_init, "",
	 "create the data directory, its signing keys and the store (or migrate it)",
	 "  Keys: DATA_DIR/" CLI_PRIVATE_KEY_FILE " (mode 0600) signs tokens, DATA_DIR/" CLI_PUBLIC_KEYS_FILE "\n"
	 "  verifies them; made once, unless BOOKING_JWT_PRIVATE_KEY_FILE names other files.\n"
	 "  Payment key: DATA_DIR/" CLI_PAYMENT_KEY_FILE " (mode 0600) keys payment fingerprints;\n"
	 "  made once, unless BOOKING_PAYMENT_KEY_FILE names another file.\n"
	 "  DATA_DIR is created with mode 0700; an existing one that group or others may\n"
	 "  write, or that another user owns, is refused (VALIDATION_ERROR), as are key\n"
	 "  files others may write (or, for the private key, read)."},
	{"keys", "generate", cmd_keys_generate, "[--kid KID]",
	 "generate the token signing key pair (new files only)",
	 "  --kid KID  the key id (default: the RFC 7638 thumbprint of the key)\n"
	 "  Fails (ALREADY_EXISTS) when the private key or the public key set exists:\n"
	 "  a set is added to only by `booking keys rotate` (--rotate is its old name)."},
	{"keys", "rotate", cmd_keys_rotate, "[--kid KID]",
	 "sign with a new key; tokens of the old one stay valid",
	 "  --kid KID  the new key's id (default: the RFC 7638 thumbprint of the key)\n"
	 "  The current private key is retired (renamed *.retired-TIME) and a new one\n"
	 "  made; its public key joins the set, so tokens already issued stay valid\n"
	 "  until they expire. Only a set libbooking wrote (\"libbooking\": 1) is added\n"
	 "  to, and only when no one else may write it or its directory."},
	{"register", NULL, cmd_register, "EMAIL [--admin]",
	 "create a user; the password is read from the terminal (or one line of stdin)",
	 "  --admin  an administrator: needs an admin's login, or --as system\n"
	 "  Passwords: 12..128 bytes, at least two of lower case, upper case, digits\n"
	 "  and other characters, not the e-mail address; a line with a NUL byte is\n"
	 "  refused (VALIDATION_ERROR, rule nul), never cut short."},
	{"login", NULL, cmd_login, "EMAIL [--print-token]",
	 "log in: the token is saved in the data directory (mode 0600)",
	 "  --print-token  print the token on stdout instead of saving it (for scripts:\n"
	 "                 BOOKING_TOKEN=$(booking login ... --print-token) booking hold ...)"},
	{"logout", NULL, cmd_logout, "", "revoke the saved token and forget it",
	 "  With $BOOKING_TOKEN set, that token is revoked too."},
	{"whoami", NULL, cmd_whoami, "", "show who the saved token (or --as system) acts for", NULL},
	{"movie", "add", cmd_movie_add, "TITLE --duration MINUTES", "add a movie (admin)", NULL},
	{"movie", "list", cmd_movie_list, "", "list the movies", NULL},
	{"theater", "add", cmd_theater_add, "NAME [--city CITY]", "add a theater (admin)", NULL},
	{"theater", "list", cmd_theater_list, "", "list the theaters", NULL},
	{"screen", "add", cmd_screen_add,
	 "THEATER_ID NAME (--rows A-J --seats 15 [--category standard] | --layout SPEC)",
	 "add a screen and its seats (admin)",
	 "  --rows A-J --seats N   N seats in each row of the range, labelled A1..A<N>\n"
	 "  --category NAME        price category of those seats (default standard)\n"
	 "  --layout SPEC          a full layout: ROWS:COUNT[:CATEGORY],...\n"
	 "                         e.g. \"A-B:12:premium,C-J:15\""},
	{"screen", "show", cmd_screen_show, "SCREEN_ID", "show a screen and its seat layout", NULL},
	{"showtime", "add", cmd_showtime_add,
	 "MOVIE_ID SCREEN_ID --starts TIME [--currency CUR] --price CATEGORY=AMOUNT...",
	 "schedule a showtime (admin)",
	 "  --starts TIME           ISO 8601 UTC (2030-06-01T20:00:00Z, \"2030-06-01 20:00\")\n"
	 "                          or +MINUTES from now\n"
	 "  --currency CUR          ISO 4217 code (default EUR)\n"
	 "  --price CATEGORY=AMOUNT one per seat category of the screen; AMOUNT in minor\n"
	 "                          units (1250) or decimal (12.50)"},
	{"showtime", "list", cmd_showtime_list, "[MOVIE_ID]", "list showtimes, optionally of one movie", NULL},
	{"seats", NULL, cmd_seats, "SHOWTIME_ID", "draw the seat map of a showtime", NULL},
	{"hold", NULL, cmd_hold,
	 "SHOWTIME_ID (SEAT... | --best N [--category C] [--max-price P]) [--key K] [--for USER_ID]",
	 "hold seats (logged in): named ones (A1 A2 or A1,A2), or the best N available",
	 "  --best N         the library chooses N seats side by side in the best row\n"
	 "                   (doc/boxoffice.md, \"Best available\"); NOT_ENOUGH_SEATS when none fit\n"
	 "  --category C     with --best: only seats of category C\n"
	 "  --max-price P    with --best: only seats priced at most P (12.50, or 1250 in minor units)\n"
	 "  --key K          idempotency key: the same command again answers the same\n"
	 "                   reservation, never a second hold (IDEMPOTENCY_KEY_REUSED for\n"
	 "                   another request)\n"
	 "  --for USER_ID    (admin) hold for that user; may take BLOCKED seats\n"
	 "  BOOKING_ORPHAN_POLICY (off, refuse, unless-unavoidable) decides whether a\n"
	 "  hold may leave a single seat alone (ORPHAN_SEAT)."},
	{"extend", NULL, cmd_extend, "RESERVATION_ID [--minutes M]",
	 "keep a hold longer, up to its lifetime cap (its owner, or an admin)",
	 "  --minutes M  1..BOOKING_EXPIRY_MINUTES (default: BOOKING_EXPIRY_MINUTES); never past\n"
	 "               the hold's creation + BOOKING_HOLD_MAX_MINUTES (HOLD_LIMIT_REACHED)"},
	{"change", NULL, cmd_change, "RESERVATION_ID [--add SEATS]... [--remove SEATS]...",
	 "change the seats of a hold in one step (its owner, or an admin)",
	 "  --add SEATS     seats to add, as A1,A2 (or \"A1 A2\"); may repeat\n"
	 "  --remove SEATS  seats of the hold to give up; may repeat; one seat must stay\n"
	 "  Both at once swap seats: the new set is held, or nothing changes."},
	{"block", NULL, cmd_block, "SHOWTIME_ID SEAT... --reason R",
	 "take free seats out of sale (admin)",
	 "  --reason R  1..31 of [a-z0-9_-]: wheelchair, press, broken, house, ...\n"
	 "  The seats show as BLOCKED in the seat map; an admin may still sell one:\n"
	 "  booking hold SHOWTIME_ID SEAT --for USER_ID."},
	{"unblock", NULL, cmd_unblock, "SHOWTIME_ID SEAT...", "put blocked seats back on sale (admin)", NULL},
	{"show", NULL, cmd_show, "RESERVATION_ID", "show one reservation (its owner, or an admin)", NULL},
	{"pay", NULL, cmd_pay, "RESERVATION_ID --key KEY [--card NUMBER]",
	 "pay for a held reservation (its owner)",
	 "  --key KEY      idempotency key: retrying with the same key never charges twice\n"
	 "  --card NUMBER  default " CLI_DEFAULT_CARD " (succeeds);\n"
	 "                 " CLI_DECLINING_CARD " is declined by the simulated gateway"},
	{"cancel", NULL, cmd_cancel, "RESERVATION_ID", "cancel a held reservation, releasing its seats (its owner)", NULL},
	{"refund", NULL, cmd_refund, "PAYMENT_ID", "refund a payment in full and cancel its reservation (admin)", NULL},
	{"reservations", NULL, cmd_reservations, "[--showtime ID [--status S]] [--limit N] [--cursor C]",
	 "list the logged-in user's reservations, or a showtime's (admin), newest first", RESERVATIONS_HELP},
	{"bookings", NULL, cmd_reservations, "[--showtime ID [--status S]] [--limit N] [--cursor C]",
	 "the same as reservations (`bookings --showtime ID` is the door list)", RESERVATIONS_HELP},
	{"waitlist", "join", cmd_waitlist_join, "SHOWTIME_ID --party N [--category C]",
	 "wait in line for seats of a sold-out showtime (logged in)",
	 "  --party N       the seats the party wants, side by side where the map allows;\n"
	 "                  1..BOOKING_MAX_SEATS_PER_RESERVATION (and the per-buyer limit)\n"
	 "  --category C    only seats of category C (default: any)\n"
	 "  Seats that come back (a hold runs out or is cancelled, a refund, an unblock)\n"
	 "  are offered to the parties in join order, as a hold of the party's own to pay\n"
	 "  for before it expires; a party that does not fit may be passed over, at most\n"
	 "  BOOKING_WAITLIST_MAX_PASSES times (doc/fairness.md). Free seats are offered at\n"
	 "  once. One entry per user and showtime: joining again is ALREADY_EXISTS; a\n"
	 "  full list (BOOKING_WAITLIST_MAX_ENTRIES) LIMIT_REACHED; a store without kv\n"
	 "  records NOT_SUPPORTED."},
	{"waitlist", "leave", cmd_waitlist_leave, "SHOWTIME_ID [--user USER_ID]",
	 "leave a waiting list; an offer held for you is given up",
	 "  --user USER_ID  (admin) take that user off the list\n"
	 "  NOT_FOUND when the user is not on the list."},
	{"waitlist", "list", cmd_waitlist_list, "SHOWTIME_ID",
	 "a showtime's waiting list in join order (admin: everyone; a customer: their own entry)",
	 "  Each entry: its place in line, status (WAITING or OFFERED), party size and\n"
	 "  category, how often it was passed over, and an offer's reservation and expiry.\n"
	 "  Offers paid for, run out or given up are settled first."},
	{"waitlist", "process", cmd_waitlist_process, "SHOWTIME_ID",
	 "settle a waiting list and offer the free seats now (admin); prints the open offers",
	 "  The library does this itself whenever seats come back; this is for a cron job\n"
	 "  or an operator. Prints how many offers it made, then every open offer."},
	{"expire", NULL, cmd_expire, "", "mark overdue holds EXPIRED (system)", NULL},
	{"relay", NULL, cmd_relay, "", "move outbox events to the events transport (system)", NULL},
	{"notify", NULL, cmd_notify, "[--follow]",
	 "deliver pending notifications, one line each (system)",
	 "  --follow  keep polling (twice a second) until interrupted (Ctrl-C)"},
	{"recover", NULL, cmd_recover, "[--min-age SECONDS]",
	 "resolve payments left in flight by a crash or a gateway failure (system)", NULL},
	{"check", NULL, cmd_check, "", "verify the eight invariants; exit 1 on a violation", NULL},
	{"metrics", NULL, cmd_metrics, "[--no-probe]", "print this process's metrics (Prometheus text format)",
	 "  --no-probe  do not read the catalog first (by default one read shows the store's latency)"},
	{"config", NULL, cmd_config, "", "show the options this command line opens the library with",
	 "  From the BOOKING_* variables (doc/configuration.md), each with its default\n"
	 "  filled in: the hold's lifetime, seats per reservation, the payment window,\n"
	 "  the box office's orphan policy, hold lifetime cap and preferred row, and the\n"
	 "  fair-sale limits (`booking limits` shows those alone)."},
	{"limits", NULL, cmd_limits, "", "show the fair-sale limits in effect (per-buyer limits, rate limits, waiting lists)",
	 "  Each limit, its BOOKING_* variable and its value (\"off\" when it does not apply):\n"
	 "  seats per buyer and showtime, live holds per buyer, the cooldown after a cancel\n"
	 "  (LIMIT_REACHED), holds, payments and logins per minute and their burst\n"
	 "  (RATE_LIMITED), and the waiting list's passes and size (doc/fairness.md).\n"
	 "  It opens no store."},
	{"health", NULL, cmd_health, "[--no-probe]",
	 "show the circuit breaker of each dependency; exit 1 when the store is unavailable",
	 "  --no-probe  do not read the catalog first"},
	{"demo", NULL, cmd_demo, "[--dir DIR] [--buyers N] [--seats N] [--seed S] [--named] [--no-compare] [--bots N]",
	 "seed a catalog and run a flash sale of concurrent buyers",
	 "  --dir DIR    where the demo database goes (default ./booking-data/demo);\n"
	 "               its demo.db is recreated on every run (--store overrides it)\n"
	 "  --buyers N   concurrent buyer threads, 1..2000 (default 200)\n"
	 "  --seats N    seats on the screen, rows of 15, 1..2000 (default 150)\n"
	 "  --seed S     random seed (default: from the time), to replay a run\n"
	 "  --named      buyers pick seats off the map and name them (as before the box\n"
	 "               office) instead of asking for the best N available under the\n"
	 "               orphan policy unless-unavoidable\n"
	 "  --no-compare do not run the same buyers the other way (on a memory: store)\n"
	 "               to show both ways' orphans in the summary\n"
	 "  --bots N     then the fairness comparison: the fans against N threads of one\n"
	 "               account (1..200) asking for the best 4 seats again and again, on\n"
	 "               a memory: store, with the fair-sale limits off and then on; the\n"
	 "               fans who find it sold out join the waiting list"},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void print_program_usage(FILE *out)
{
	fprintf(out, "usage: booking [--store URL] [--locks URL] [--events URL] [--data-dir DIR] [--json]\n"
	             "               [--as system] [--verbose] COMMAND [ARGS...]\n\n"
	             "Sell seats without ever selling one twice (libbooking %s).\n\ncommands:\n",
	        booking_version());
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char head[48];
		snprintf(head, sizeof head, "%s%s%s", commands[i].name, commands[i].sub ? " " : "",
		         commands[i].sub ? commands[i].sub : "");
		fprintf(out, "  %-16s %s\n", head, commands[i].summary);
	}
	fprintf(out,
	        "\nglobal options:\n"
	        "  --store URL    store: sqlite:///path.db, sqlite::memory:, memory:, postgresql://...\n"
	        "                 (default $BOOKING_STORE_URL, else sqlite DATA_DIR/" CLI_DB_FILE ");\n"
	        "                 a backend's settings are its URL's parameters, e.g.\n"
	        "                 sqlite:///path.db?synchronous=full&pool=4 (see doc/backends.md)\n"
	        "  --locks URL    contention guard: memory: (default $BOOKING_LOCK_URL, else none)\n"
	        "  --events URL   events transport: store: or memory: (default $BOOKING_EVENTS_URL,\n"
	        "                 else store:)\n"
	        "  --json         print exactly one JSON object on stdout\n"
	        "  --data-dir DIR the data directory: keys, the saved token, the default store\n"
	        "                 (default ./" CLI_DEFAULT_DATA_DIR ")\n"
	        "  --as system    act as the system (the host's internals), for scripts; people\n"
	        "                 log in instead (booking register / booking login)\n"
	        "  --verbose, -v  show the library's log lines (JSON on stderr)\n"
	        "  --version      print the library version\n"
	        "  --help, -h     this help; `booking COMMAND --help` for a command\n\n"
	        "exit status: 0 ok, 1 the library refused (the error code is printed), 2 usage error.\n"
	        "All BOOKING_* environment variables are honoured (see doc/configuration.md).\n");
}

void cli_command_usage(const cli_command *cmd, FILE *out)
{
	fprintf(out, "usage: booking %s%s%s%s%s\n", cmd->name, cmd->sub ? " " : "", cmd->sub ? cmd->sub : "",
	        cmd->usage[0] ? " " : "", cmd->usage);
	if (out == stdout) {
		fprintf(out, "\n%s.\n", cmd->summary);
		if (cmd->help)
			fprintf(out, "\n%s\n", cmd->help);
	}
}

/* Usage for every subcommand of a group ("booking movie --help"). */
static void print_group_usage(const char *group, FILE *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, group) == 0)
			fprintf(out, "usage: booking %s %s %s\n", commands[i].name, commands[i].sub, commands[i].usage);
}

/* ---- global flags ----------------------------------------------------- */

/* "--store URL" or "--store=URL": true when argv[*i] is `name`; *value set, *i advanced. */
static bool take_value_flag(const char *name, int argc, char **argv, int *i, const char **value, bool *missing)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];
	if (strncmp(arg, name, n) != 0)
		return false;
	if (arg[n] == '=') {
		*value = arg + n + 1;
		return true;
	}
	if (arg[n] != '\0')
		return false;
	if (*i + 1 >= argc) {
		*missing = true;
		return true;
	}
	*value = argv[++*i];
	return true;
}

/*
 * Take the global flags out of argv, wherever they are (before "--"), so
 * `booking hold S A1 --json` works as well as `booking --json hold S A1`.
 * -h/--help count as global only before the command word.
 * Returns the number of remaining args in rest[], or -1 on a usage error.
 */
static int split_global_flags(cli *c, int argc, char **argv, char **rest, bool *help, bool *version, char *err,
                              size_t err_size)
{
	int n = 0;
	bool seen_command = false, after_dashdash = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool missing = false;
		if (after_dashdash || arg[0] != '-') {
			rest[n++] = argv[i];
			seen_command = true;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			after_dashdash = true;
			rest[n++] = argv[i];
			continue;
		}
		if (take_value_flag("--store", argc, argv, &i, &c->store_url, &missing) ||
		    take_value_flag("--locks", argc, argv, &i, &c->lock_url, &missing) ||
		    take_value_flag("--events", argc, argv, &i, &c->events_url, &missing) ||
		    take_value_flag("--as", argc, argv, &i, &c->as_user, &missing) ||
		    take_value_flag("--data-dir", argc, argv, &i, &c->data_dir, &missing)) {
			if (missing) {
				snprintf(err, err_size, "%s needs a value", arg);
				return -1;
			}
		} else if (strcmp(arg, "--json") == 0) {
			c->json = true;
		} else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
			c->verbose = true;
		} else if (strcmp(arg, "--version") == 0) {
			*version = true;
		} else if (!seen_command && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
			*help = true;
		} else if (!seen_command) {
			snprintf(err, err_size, "unknown option %s (try booking --help)", arg);
			return -1;
		} else {
			rest[n++] = argv[i]; /* the command's own flag */
		}
	}
	return n;
}

/* ---- handle, options, actor ------------------------------------------- */

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* The default store: sqlite DATA_DIR/booking.db, directory created. */
static int default_store_url(cli *c, const char **url)
{
	char cwd[4096];
	int rc = cli_make_data_dir(c);
	if (rc)
		return rc;
	const char *dir = cli_data_dir(c);
	if (dir[0] == '/') {
		snprintf(c->store_buf, sizeof c->store_buf, "sqlite://%s/%s", dir, CLI_DB_FILE);
	} else {
		if (!getcwd(cwd, sizeof cwd)) {
			fprintf(stderr, "booking: cannot read the working directory: %s\n", strerror(errno));
			return EXIT_DOMAIN;
		}
		snprintf(c->store_buf, sizeof c->store_buf, "sqlite://%s/%s/%s", cwd, dir, CLI_DB_FILE);
	}
	*url = c->store_buf;
	return EXIT_OK;
}

int cli_options(cli *c, booking_options *opts, const char *default_store)
{
	*opts = *c->env_opts;
	opts->store_url = c->store_url ? c->store_url : nonempty(c->env_opts->store_url);
	if (!opts->store_url) {
		if (default_store) {
			opts->store_url = default_store;
		} else {
			int rc = default_store_url(c, &opts->store_url);
			if (rc)
				return rc;
		}
	}
	opts->lock_url = c->lock_url ? c->lock_url : nonempty(c->env_opts->lock_url);
	opts->events_url = c->events_url ? c->events_url : nonempty(c->env_opts->events_url);
	if (!opts->events_url)
		opts->events_url = CLI_DEFAULT_EVENTS;
	cli_key_options(c, opts);
	/* the payment key: $BOOKING_PAYMENT_KEY_FILE, else the data directory's (made by `init`) */
	if (!nonempty(opts->payment_key_file) &&
	    cli_data_path(c, CLI_PAYMENT_KEY_FILE, c->paykey_buf, sizeof c->paykey_buf) &&
	    access(c->paykey_buf, F_OK) == 0)
		opts->payment_key_file = c->paykey_buf;
	/*
	 * A CLI reports failures through its exit code and message: library log
	 * lines (a declined card is a WARNING) only with --verbose or BOOKING_LOG_LEVEL.
	 */
	if (c->verbose)
		opts->log_level = BOOKING_LOG_INFO;
	else if (opts->log_level == 0) /* BOOKING_LOG_LEVEL unset */
		opts->log_level = BOOKING_LOG_ERROR;
	if (!opts->log_fn)
		opts->log_fn = booking_log_to_stderr; /* the library is quiet unless its host gives it a sink */
	return EXIT_OK;
}

int cli_open(cli *c)
{
	if (c->bk)
		return EXIT_OK;
	booking_options opts;
	int rc = cli_options(c, &opts, NULL);
	if (rc)
		return rc;
	if (booking_open(&c->bk, &opts) != 0)
		return cli_fail(c);
	return EXIT_OK;
}

int cli_actor(cli *c, const cli_command *cmd, booking_ctx *ctx)
{
	(void)cmd;
	int rc = cli_open(c);
	return rc ? rc : cli_session(c, ctx, true);
}

int cli_admin(cli *c, const cli_command *cmd, booking_ctx *ctx)
{
	return cli_actor(c, cmd, ctx); /* the role is the library's to check: FORBIDDEN for a customer */
}

void cli_reader(cli *c, booking_ctx *ctx)
{
	if (cli_session(c, ctx, false) != EXIT_OK)
		booking_ctx_init(ctx, NULL, BOOKING_ROLE_NONE);
}

/* ---- dispatch ---------------------------------------------------------- */

static bool is_help(const char *s)
{
	return strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0;
}

static bool is_group(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].sub && strcmp(commands[i].name, name) == 0)
			return true;
	return false;
}

static int dispatch(cli *c, int argc, char **argv)
{
	const char *name = argv[0];
	if (is_group(name)) {
		if (argc < 2 || is_help(argv[1])) {
			print_group_usage(name, argc < 2 ? stderr : stdout);
			return argc < 2 ? cli_usage_error(c, NULL, "%s needs a subcommand", name) : EXIT_OK;
		}
		for (size_t i = 0; i < NCOMMANDS; i++)
			if (commands[i].sub && strcmp(commands[i].name, name) == 0 && strcmp(commands[i].sub, argv[1]) == 0)
				return commands[i].fn(c, &commands[i], argc - 2, argv + 2);
		print_group_usage(name, stderr);
		return cli_usage_error(c, NULL, "unknown command: %s %s", name, argv[1]);
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!commands[i].sub && strcmp(commands[i].name, name) == 0)
			return commands[i].fn(c, &commands[i], argc - 1, argv + 1);
	return cli_usage_error(c, NULL, "unknown command: %s (try booking --help)", name);
}

static void detect_terminal(cli *c)
{
	setlocale(LC_CTYPE, "");
	const char *codeset = nl_langinfo(CODESET);
	c->utf8 = codeset && (strcmp(codeset, "UTF-8") == 0 || strcmp(codeset, "utf8") == 0);
	c->color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
}

int main(int argc, char **argv)
{
	cli c;
	memset(&c, 0, sizeof c);
	detect_terminal(&c);

	char **rest = calloc((size_t)argc + 1, sizeof *rest);
	if (!rest) {
		fprintf(stderr, "booking: out of memory\n");
		return EXIT_DOMAIN;
	}
	bool help = false, version = false;
	char err[256];
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		c.json = c.json || strcmp(argv[i], "--json") == 0; /* so even a bad flag answers in JSON */
	int n = split_global_flags(&c, argc, argv, rest, &help, &version, err, sizeof err);
	int rc;
	if (n < 0) {
		rc = cli_usage_error(&c, NULL, "%s", err);
	} else if (help) {
		print_program_usage(stdout);
		rc = EXIT_OK;
	} else if (version) {
		printf("booking (libbooking) %s\n", booking_version());
		rc = EXIT_OK;
	} else if (n == 0) {
		print_program_usage(stderr);
		rc = cli_usage_error(&c, NULL, "missing COMMAND");
	} else if (booking_options_from_env(&c.env_opts) != 0) {
		rc = cli_fail(&c); /* a BOOKING_* variable out of range: the message names it */
	} else if (c.as_user && strcmp(c.as_user, CLI_SYSTEM_ACTOR) != 0) {
		rc = cli_usage_error(&c, NULL, "--as only names the system actor (--as system); "
		                                "people log in: booking login EMAIL");
	} else {
		rc = dispatch(&c, n, rest);
	}
	booking_token_free(c.token);
	booking_close(c.bk);
	booking_options_free(c.env_opts);
	free(rest);
	return rc;
}
