/*
 * booking — catalog commands: init, movie, theater, screen, showtime.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Join positionals [from, npos) with spaces: `movie add The Matrix` works unquoted. */
static char *join_words(const cli_args *a, size_t from)
{
	size_t len = 1;
	for (size_t i = from; i < a->npos; i++)
		len += strlen(a->pos[i]) + 1;
	char *s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = from; i < a->npos; i++) {
		if (i > from)
			strcat(s, " ");
		strcat(s, a->pos[i]);
	}
	return s;
}

int cmd_init(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "init takes no arguments");
	/* the signing keys first: the handle loads them when it opens */
	bool made = false;
	char kid[200];
	if ((rc = cli_keys_ensure(c, &made, kid, sizeof kid)))
		return rc;
	/* the payment key (unless the environment names one): a secret of its own, never in the store */
	char paykey[4200] = "";
	bool paykey_made = false;
	const char *env_paykey = c->env_opts->payment_key_file;
	if (env_paykey && *env_paykey) {
		snprintf(paykey, sizeof paykey, "%s", env_paykey);
	} else if (cli_data_path(c, CLI_PAYMENT_KEY_FILE, paykey, sizeof paykey) && access(paykey, F_OK) != 0) {
		if (booking_payment_key_generate_file(paykey) != 0)
			return cli_fail(c);
		paykey_made = true;
	}
	if ((rc = cli_open(c)))
		return rc;
	int version = 0;
	if (booking_migrate(&version, c->bk) != 0)
		return cli_fail(c);
	booking_options keys = {0};
	cli_key_options(c, &keys);
	char *described = NULL;
	int drc = booking_describe(&described, c->bk);
	json_t *backends = json_from_library(drc, described);
	if (c->json) {
		json_t *k = json_pack("{s:s?,s:s?,s:b}", "private_key_file", keys.jwt_private_key_file, "public_keys_file",
		                      keys.jwt_public_keys_file, "generated", made);
		if (k && made)
			json_object_set_new(k, "kid", json_string(kid));
		if (k && paykey[0]) {
			json_object_set_new(k, "payment_key_file", json_string(paykey));
			json_object_set_new(k, "payment_key_generated", json_boolean(paykey_made));
		}
		return cli_json(c, json_pack("{s:i,s:o,s:o*}", "schema_version", version, "backends",
		                             backends ? backends : json_object(), "keys", k));
	}
	const char *store = backends ? json_string_value(json_object_get(backends, "store")) : NULL;
	printf("store ready: %s (schema version %d)\n", store ? store : "?", version);
	if (made)
		printf("keys made: %s (mode 0600) signs tokens, %s verifies them (kid %s)\n", keys.jwt_private_key_file,
		       keys.jwt_public_keys_file, kid);
	else if (keys.jwt_private_key_file)
		printf("keys: %s\n", keys.jwt_private_key_file);
	if (paykey_made)
		printf("payment key made: %s (mode 0600) keys payment fingerprints; keep it out of database backups\n",
		       paykey);
	printf("%snext: booking register EMAIL, then booking login EMAIL%s\n", col(c, ANSI_DIM), col(c, ANSI_RESET));
	json_decref(backends);
	return EXIT_OK;
}

/* ---- movies ------------------------------------------------------------ */

int cmd_movie_add(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--duration=", NULL};
	cli_args a;
	booking_ctx ctx;
	long duration;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos == 0)
		return cli_usage_error(c, cmd, "missing TITLE");
	if (!args_get(&a, "--duration"))
		return cli_usage_error(c, cmd, "missing --duration MINUTES");
	if (!args_int(args_get(&a, "--duration"), 1, 100000, &duration))
		return cli_usage_error(c, cmd, "--duration must be a number of minutes");
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	char *title = join_words(&a, 0);
	booking_movie *m = NULL;
	rc = title ? booking_movie_create(&m, c->bk, &ctx, title, (int)duration) : BOOKING_ENOMEM;
	free(title);
	if (rc != 0)
		return cli_fail(c);
	if (c->json)
		rc = cli_json(c, json_pack("{s:o}", "movie", json_movie(m)));
	else
		printf("movie %s%s%s \"%s\" (%d min)\n", col(c, ANSI_BOLD), m->id, col(c, ANSI_RESET), tsafe(m->title),
		       m->duration_minutes);
	booking_movie_free(m);
	return rc;
}

int cmd_movie_list(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "movie list takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	cli_reader(c, &ctx);
	booking_movie_list *l = NULL;
	if (booking_movie_list_all(&l, c->bk, &ctx) != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *items = json_array();
		for (size_t i = 0; items && i < l->count; i++)
			json_array_append_new(items, json_movie(l->items[i]));
		rc = cli_json(c, json_pack("{s:o,s:I}", "movies", items, "count", (json_int_t)l->count));
	} else if (l->count == 0) {
		printf("no movies yet: booking movie add TITLE --duration MINUTES (as an admin)\n");
	} else {
		printf("%s%-36s  %5s  %s%s\n", col(c, ANSI_DIM), "ID", "MIN", "TITLE", col(c, ANSI_RESET));
		for (size_t i = 0; i < l->count; i++)
			printf("%-36s  %5d  %s\n", l->items[i]->id, l->items[i]->duration_minutes, tsafe(l->items[i]->title));
	}
	booking_movie_list_free(l);
	return rc;
}

/* ---- theaters ---------------------------------------------------------- */

int cmd_theater_add(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--city=", NULL};
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos == 0)
		return cli_usage_error(c, cmd, "missing NAME");
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	char *name = join_words(&a, 0);
	booking_theater *t = NULL;
	rc = name ? booking_theater_create(&t, c->bk, &ctx, name, args_get(&a, "--city")) : BOOKING_ENOMEM;
	free(name);
	if (rc != 0)
		return cli_fail(c);
	if (c->json)
		rc = cli_json(c, json_pack("{s:o}", "theater", json_theater(t)));
	else
		printf("theater %s%s%s \"%s\"%s%s\n", col(c, ANSI_BOLD), t->id, col(c, ANSI_RESET), tsafe(t->name),
		       t->city[0] ? " in " : "", tsafe(t->city));
	booking_theater_free(t);
	return rc;
}

int cmd_theater_list(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "theater list takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	cli_reader(c, &ctx);
	booking_theater_list *l = NULL;
	if (booking_theater_list_all(&l, c->bk, &ctx) != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *items = json_array();
		for (size_t i = 0; items && i < l->count; i++)
			json_array_append_new(items, json_theater(l->items[i]));
		rc = cli_json(c, json_pack("{s:o,s:I}", "theaters", items, "count", (json_int_t)l->count));
	} else if (l->count == 0) {
		printf("no theaters yet: booking theater add NAME [--city CITY] (as an admin)\n");
	} else {
		printf("%s%-36s  %-16s  %s%s\n", col(c, ANSI_DIM), "ID", "CITY", "NAME", col(c, ANSI_RESET));
		for (size_t i = 0; i < l->count; i++)
			printf("%-36s  %-16s  %s\n", l->items[i]->id, tsafe(l->items[i]->city), tsafe(l->items[i]->name));
	}
	booking_theater_list_free(l);
	return rc;
}

/* ---- screens ----------------------------------------------------------- */

/* The layout from --layout, or from --rows/--seats/--category. */
static int screen_layout(cli *c, const cli_command *cmd, const cli_args *a, char *spec, size_t size)
{
	const char *layout = args_get(a, "--layout");
	const char *rows = args_get(a, "--rows");
	const char *seats = args_get(a, "--seats");
	const char *category = args_get(a, "--category");
	long n;
	if (layout) {
		if (rows || seats || category)
			return cli_usage_error(c, cmd, "use either --layout or --rows/--seats, not both");
		snprintf(spec, size, "%s", layout);
		return EXIT_OK;
	}
	if (!rows || !seats)
		return cli_usage_error(c, cmd, "give --rows A-J and --seats N, or --layout SPEC");
	if (!args_int(seats, 1, 999, &n))
		return cli_usage_error(c, cmd, "--seats must be a number of seats per row, 1..999");
	snprintf(spec, size, "%s:%ld%s%s", rows, n, category ? ":" : "", category ? category : "");
	return EXIT_OK;
}

/* The row of seat `i` ends where the seats' row changes; returns the end. */
static size_t screen_row_end(const booking_screen *s, size_t i)
{
	size_t j = i + 1;
	while (j < s->seat_count && strcmp(s->seats[j]->row, s->seats[i]->row) == 0)
		j++;
	return j;
}

/*
 * The blocks of the row [i, end) as "4+8+4" (an aisle or gap between
 * seats whose columns are not side by side), or "" for one block.
 */
static const char *row_blocks(const booking_screen *s, size_t i, size_t end, char *buf, size_t size)
{
	size_t used = 0, run = 1;
	bool split = false;
	buf[0] = '\0';
	for (size_t k = i + 1; k <= end; k++) {
		if (k < end && s->seats[k]->column > 0 && s->seats[k]->column == s->seats[k - 1]->column + 1) {
			run++;
			continue;
		}
		if (k < end)
			split = true;
		int w = snprintf(buf + used, used < size ? size - used : 0, "%s%zu", used ? "+" : "", run);
		used += w > 0 ? (size_t)w : 0;
		run = 1;
	}
	if (!split || used >= size)
		buf[0] = '\0';
	return buf;
}

/* "rows A-B  premium   12 seats each, blocks 4+4+4": consecutive rows of one category, width and blocks merged. */
static void print_screen_rows(const booking_screen *s)
{
	size_t i = 0;
	while (i < s->seat_count) {
		size_t end = screen_row_end(s, i), width = end - i, last = i, rows = 1;
		size_t next = end;
		char blocks[128], other[128];
		row_blocks(s, i, end, blocks, sizeof blocks);
		while (next < s->seat_count) {
			size_t e = screen_row_end(s, next);
			if (e - next != width || strcmp(s->seats[next]->category, s->seats[i]->category) != 0 ||
			    strcmp(row_blocks(s, next, e, other, sizeof other), blocks) != 0)
				break;
			last = next;
			rows++;
			next = e;
		}
		const char *first_row = s->seats[i]->row, *last_row = s->seats[last]->row;
		int plen = (int)strlen(first_row);
		if (rows == 1)
			printf("  row  %-7s %-12s %zu seats", first_row, s->seats[i]->category, width);
		else
			printf("  rows %s-%-*s %-12s %zu seats each", first_row, plen < 6 ? 6 - plen : 0, last_row,
			       s->seats[i]->category, width);
		printf(blocks[0] ? ", blocks %s\n" : "\n", blocks);
		i = next;
	}
}

int cmd_screen_add(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--rows=", "--seats=", "--category=", "--layout=", NULL};
	cli_args a;
	booking_ctx ctx;
	char spec[1024];
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos < 2)
		return cli_usage_error(c, cmd, "missing %s", a.npos == 0 ? "THEATER_ID and NAME" : "NAME");
	if ((rc = screen_layout(c, cmd, &a, spec, sizeof spec)))
		return rc;
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_seat *seats = NULL;
	size_t count = 0;
	if (booking_layout_parse(&seats, &count, spec, sizeof *seats) != 0)
		return cli_fail(c);
	char *name = join_words(&a, 1);
	booking_screen *s = NULL;
	rc = name ? booking_screen_create(&s, c->bk, &ctx, a.pos[0], name, seats, count, sizeof *seats) : BOOKING_ENOMEM;
	free(name);
	booking_free(seats);
	if (rc != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "screen", json_screen(s)));
	} else {
		printf("screen %s%s%s \"%s\" with %zu seats\n", col(c, ANSI_BOLD), s->id, col(c, ANSI_RESET), tsafe(s->name),
		       s->seat_count);
		print_screen_rows(s);
	}
	booking_screen_free(s);
	return rc;
}

int cmd_screen_show(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one SCREEN_ID");
	if ((rc = cli_open(c)))
		return rc;
	cli_reader(c, &ctx);
	booking_screen *s = NULL;
	if (booking_screen_get(&s, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "screen", json_screen(s)));
	} else {
		printf("screen %s%s%s \"%s\" with %zu seats, theater %s\n", col(c, ANSI_BOLD), s->id, col(c, ANSI_RESET),
		       tsafe(s->name), s->seat_count, s->theater_id);
		print_screen_rows(s);
	}
	booking_screen_free(s);
	return rc;
}

/* ---- showtimes --------------------------------------------------------- */

/* Collect the --price CATEGORY=AMOUNT flags. */
static int parse_prices(cli *c, const cli_command *cmd, const cli_args *a, const char *currency,
                        booking_price *prices, size_t *count)
{
	*count = 0;
	for (size_t i = 0; i < a->nflags; i++) {
		if (strcmp(a->flag[i], "--price=") != 0)
			continue;
		const char *v = a->value[i];
		const char *eq = strchr(v, '=');
		if (!eq || eq == v || (size_t)(eq - v) >= BOOKING_CATEGORY_SIZE)
			return cli_usage_error(c, cmd, "--price wants CATEGORY=AMOUNT, got \"%s\"", v);
		booking_price *p = &prices[(*count)++];
		memset(p, 0, sizeof *p);
		memcpy(p->category, v, (size_t)(eq - v));
		if (!parse_money(eq + 1, currency, &p->amount))
			return cli_usage_error(c, cmd, "bad amount \"%s\": minor units (1250) or decimal (12.50)", eq + 1);
	}
	if (*count == 0)
		return cli_usage_error(c, cmd, "give a --price CATEGORY=AMOUNT for each seat category");
	return EXIT_OK;
}

int cmd_showtime_add(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--starts=", "--currency=", "--price=", NULL};
	cli_args a;
	booking_ctx ctx;
	booking_price prices[ARGS_MAX];
	size_t nprices;
	int64_t starts;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 2)
		return cli_usage_error(c, cmd, "give MOVIE_ID and SCREEN_ID");
	const char *currency = args_get(&a, "--currency");
	if (!currency)
		currency = "EUR";
	if (!args_get(&a, "--starts"))
		return cli_usage_error(c, cmd, "missing --starts TIME");
	if ((rc = parse_prices(c, cmd, &a, currency, prices, &nprices)))
		return rc;
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	if (!parse_time(args_get(&a, "--starts"), booking_now(c->bk), &starts))
		return cli_usage_error(c, cmd, "--starts wants ISO 8601 UTC (2030-06-01T20:00:00Z) or +MINUTES");
	booking_showtime *s = NULL;
	if (booking_showtime_create(&s, c->bk, &ctx, a.pos[0], a.pos[1], starts, currency, prices, nprices,
	                            sizeof *prices) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "showtime", json_showtime(s)));
	} else {
		char when[40], money[48];
		printf("showtime %s%s%s at %s:", col(c, ANSI_BOLD), s->id, col(c, ANSI_RESET),
		       fmt_time(when, sizeof when, s->starts_at));
		for (size_t i = 0; i < s->price_count; i++)
			printf(" %s %s", s->prices[i]->category,
			       fmt_money(money, sizeof money, s->prices[i]->amount, s->currency));
		printf("\n");
	}
	booking_showtime_free(s);
	return rc;
}

static const char *movie_title(const booking_movie_list *movies, const char *id)
{
	for (size_t i = 0; movies && i < movies->count; i++)
		if (strcmp(movies->items[i]->id, id) == 0)
			return movies->items[i]->title;
	return "?";
}

int cmd_showtime_list(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos > 1)
		return cli_usage_error(c, cmd, "give at most one MOVIE_ID");
	if ((rc = cli_open(c)))
		return rc;
	cli_reader(c, &ctx);
	booking_showtime_list *l = NULL;
	if (booking_showtime_list_all(&l, c->bk, &ctx, a.npos ? a.pos[0] : NULL) != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *items = json_array();
		for (size_t i = 0; items && i < l->count; i++)
			json_array_append_new(items, json_showtime(l->items[i]));
		rc = cli_json(c, json_pack("{s:o,s:I}", "showtimes", items, "count", (json_int_t)l->count));
	} else if (l->count == 0) {
		printf("no showtimes%s\n", a.npos ? " for this movie" : " yet");
	} else {
		booking_movie_list *movies = NULL;
		if (booking_movie_list_all(&movies, c->bk, &ctx) != 0)
			movies = NULL; /* titles are a nicety */
		printf("%s%-36s  %-20s  %-30s  %s%s\n", col(c, ANSI_DIM), "ID", "STARTS", "PRICES", "MOVIE",
		       col(c, ANSI_RESET));
		for (size_t i = 0; i < l->count; i++) {
			const booking_showtime *s = l->items[i];
			char when[40], prices[128] = "", money[48];
			for (size_t k = 0; k < s->price_count; k++) {
				size_t used = strlen(prices);
				snprintf(prices + used, sizeof prices - used, "%s%s %s", k ? ", " : "", s->prices[k]->category,
				         fmt_money(money, sizeof money, s->prices[k]->amount, s->currency));
			}
			printf("%-36s  %-20s  %-30s  %s%s\n", s->id, fmt_time(when, sizeof when, s->starts_at), prices,
			       tsafe(movie_title(movies, s->movie_id)),
			       s->status == BOOKING_SHOWTIME_CANCELLED ? " (cancelled)" : "");
		}
		booking_movie_list_free(movies);
	}
	booking_showtime_list_free(l);
	return rc;
}
