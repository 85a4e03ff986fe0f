/*
 * booking — who acts: the data directory (keys, the saved token), the
 * session behind every command, and register, login, logout, whoami,
 * keys generate, keys rotate.
 *
 * A person logs in once; the token is saved in DATA_DIR/token (mode 0600)
 * and every command after that acts for its user, until it expires (15
 * minutes by default) or `booking logout` revokes it. $BOOKING_TOKEN, when
 * set, takes the place of the saved token (scripts with several users).
 * `--as system` is for scripts that do the host's own work.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* ---- the data directory ------------------------------------------------ */

const char *cli_data_dir(const cli *c)
{
	return c->data_dir && c->data_dir[0] ? c->data_dir : CLI_DEFAULT_DATA_DIR;
}

bool cli_data_path(const cli *c, const char *name, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s", cli_data_dir(c), name);
	return n > 0 && (size_t)n < size;
}

static int data_dir_refused(cli *c, const char *dir, const char *reason, const char *why)
{
	return cli_error(c, "VALIDATION_ERROR", json_pack("{s:s,s:s,s:s}", "field", "data_dir", "file", dir, "reason", reason),
	                 "data directory %s: %s", dir, why);
}

/*
 * One that others may write, or that another user owns, could get keys or
 * a token put in it (or ours replaced): the same rule as the library's for
 * the directories of key files.
 */
int cli_make_data_dir(cli *c)
{
	const char *dir = cli_data_dir(c);
	/* 0700: it holds the private key and the token */
	if (mkdir(dir, 0700) == 0)
		return EXIT_OK;
	if (errno != EEXIST) {
		fprintf(stderr, "booking: cannot create %s: %s\n", dir, strerror(errno));
		return EXIT_DOMAIN;
	}
	struct stat st;
	char why[200];
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return data_dir_refused(c, dir, "not_a_directory", "not a directory");
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(why, sizeof why, "belongs to uid %ld, not to this user (uid %ld) or root", (long)st.st_uid,
		         (long)geteuid());
		return data_dir_refused(c, dir, "owner", why);
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, sizeof why, "writable by group or others (mode %04o): chmod 700 it",
		         (unsigned)(st.st_mode & 07777));
		return data_dir_refused(c, dir, "group_or_world_writable", why);
	}
	return EXIT_OK;
}

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* The key files: those the environment names, else the data directory's. */
static void key_paths(cli *c, const char **priv, const char **pub)
{
	*priv = nonempty(c->env_opts->jwt_private_key_file);
	*pub = nonempty(c->env_opts->jwt_public_keys_file);
	if (!*priv && cli_data_path(c, CLI_PRIVATE_KEY_FILE, c->key_buf[0], sizeof c->key_buf[0]))
		*priv = c->key_buf[0];
	if (!*pub && cli_data_path(c, CLI_PUBLIC_KEYS_FILE, c->key_buf[1], sizeof c->key_buf[1]))
		*pub = c->key_buf[1];
}

void cli_key_options(cli *c, booking_options *opts)
{
	const char *priv, *pub;
	key_paths(c, &priv, &pub);
	/* files that do not exist (yet: before `init`) are left out, so reads work without keys */
	opts->jwt_private_key_file = priv && access(priv, F_OK) == 0 ? priv : NULL;
	opts->jwt_public_keys_file = pub && access(pub, F_OK) == 0 ? pub : NULL;
}

#define ROTATE_HINT "to sign with a new key and keep the old tokens valid: booking keys rotate"

/* A new pair into new files; an existing set is never added to here (that is `keys rotate`). */
static int generate(cli *c, const char *priv, const char *pub, const char *kid, char *kid_out, size_t kid_size)
{
	char *made = NULL;
	if (booking_jwk_generate_files(&made, priv, pub, kid) != 0)
		return booking_error_last()->code == BOOKING_EEXISTS ? cli_fail_hint(c, ROTATE_HINT) : cli_fail(c);
	snprintf(kid_out, kid_size, "%s", made);
	booking_free(made);
	return EXIT_OK;
}

int cli_keys_ensure(cli *c, bool *made, char *kid_out, size_t kid_size)
{
	const char *priv, *pub;
	*made = false;
	kid_out[0] = '\0';
	int rc = cli_make_data_dir(c);
	if (rc)
		return rc;
	key_paths(c, &priv, &pub);
	if (access(priv, F_OK) == 0)
		return EXIT_OK;
	if ((rc = generate(c, priv, pub, NULL, kid_out, kid_size)) == EXIT_OK)
		*made = true;
	return rc;
}

/* ---- the token --------------------------------------------------------- */

/* $BOOKING_TOKEN. Caller frees. NULL when unset or empty. */
static char *env_token(void)
{
	const char *env = getenv("BOOKING_TOKEN");
	return env && *env ? strdup(env) : NULL;
}

/* The token saved in the data directory. Caller frees. NULL when there is none. */
/*
 * The saved token is used only from a data directory that only its owner
 * (this user or root) can write, as `init` demands: otherwise someone else
 * could have put their token there (or will read the next one).
 */
static bool data_dir_trusted(const cli *c)
{
	struct stat st;
	const char *dir = cli_data_dir(c);
	if (stat(dir, &st) != 0)
		return errno == ENOENT; /* nothing there yet */
	if (S_ISDIR(st.st_mode) && (st.st_uid == geteuid() || st.st_uid == 0) && !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return true;
	fprintf(stderr, "booking: the data directory %s is not only yours (writable by others, or another user's): "
	                "its token is neither read nor written (chmod 700 it)\n",
	        dir);
	return false;
}

static char *saved_token(const cli *c)
{
	char path[4200];
	if (!data_dir_trusted(c) || !cli_data_path(c, CLI_TOKEN_FILE, path, sizeof path))
		return NULL;
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char buf[8300];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, " \t\r\n")] = '\0';
	char *token = buf[0] ? strdup(buf) : NULL;
	explicit_bzero(buf, sizeof buf);
	return token;
}

/* The token: $BOOKING_TOKEN, else the saved one. Caller frees. NULL when there is none. */
static char *load_token(const cli *c)
{
	char *env = env_token();
	return env ? env : saved_token(c);
}

/* Save the token: a new file (0600) renamed over the old one. */
static int save_token(const cli *c, const char *token, char *path, size_t size)
{
	char tmp[4300];
	if (!data_dir_trusted(c) || !cli_data_path(c, CLI_TOKEN_FILE, path, size) ||
	    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
		return -1;
	int fd = mkstemp(tmp); /* 0600 */
	if (fd < 0)
		return -1;
	size_t len = strlen(token);
	bool ok = write(fd, token, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int not_logged_in(cli *c)
{
	const char *msg = "not logged in: run `booking login EMAIL` (scripts doing the host's work: --as system)";
	if (c->json)
		printf("{\"error\":{\"code\":\"UNAUTHORIZED\",\"message\":\"%s\",\"details\":{}}}\n", msg);
	else
		fprintf(stderr, "error: UNAUTHORIZED: %s\n", msg);
	return EXIT_DOMAIN;
}

int cli_session(cli *c, booking_ctx *ctx, bool required)
{
	booking_ctx_init(ctx, NULL, BOOKING_ROLE_NONE);
	if (c->as_user) { /* main() let only "system" through */
		*ctx = *booking_ctx_system();
		return EXIT_OK;
	}
	if (c->token) {
		booking_ctx_init(ctx, c->token->subject, c->token->role);
		return EXIT_OK;
	}
	char *token = load_token(c);
	if (!token)
		return required ? not_logged_in(c) : EXIT_OK;
	int rc = EXIT_OK;
	if (booking_auth_ctx(ctx, &c->token, c->bk, token) != 0) {
		if (required) {
			rc = cli_fail(c);
			if (!c->json)
				fprintf(stderr, "(log in again: booking login EMAIL)\n");
		}
		booking_ctx_init(ctx, NULL, BOOKING_ROLE_NONE);
	}
	free(token);
	return rc;
}

/* ---- passwords ---------------------------------------------------------- */

typedef enum { SECRET_OK, SECRET_NONE, SECRET_TOO_LONG, SECRET_NUL } secret_read;

/*
 * One line from the terminal (echo off, prompt on stderr) or from stdin,
 * without its line end. A NUL byte in it is reported, not cut at: a C
 * string would silently end there, and a password that is not what was
 * typed (or piped) must not be registered or tried.
 */
static secret_read read_secret(const char *prompt, char *buf, size_t size)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "%s", prompt);
		fflush(stderr);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= ~(tcflag_t)ECHO;
			tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
		} else {
			tty = false;
		}
	}
	size_t n = 0;
	bool nul = false, too_long = false;
	int ch;
	while ((ch = getchar()) != EOF && ch != '\n') {
		if (ch == '\0')
			nul = true;
		if (n + 1 < size)
			buf[n++] = (char)ch;
		else
			too_long = true; /* read on to the line end: the rest is not the next input */
	}
	if (n && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (ch == EOF && n == 0 && !nul)
		return SECRET_NONE;
	if (nul || too_long)
		explicit_bzero(buf, size);
	return nul ? SECRET_NUL : too_long ? SECRET_TOO_LONG : SECRET_OK;
}

/* What the library answers for a bad password, for a NUL the library can never see. */
static int password_has_nul(cli *c)
{
	return cli_error(c, "VALIDATION_ERROR",
	                 json_pack("{s:s,s:s,s:i,s:i}", "field", "password", "rule", "nul", "min", BOOKING_PASSWORD_MIN, "max",
	                           BOOKING_PASSWORD_MAX),
	                 "password: must not contain a NUL byte");
}

static int read_password(cli *c, const cli_command *cmd, bool confirm, char *buf, size_t size)
{
	switch (read_secret("password: ", buf, size)) {
	case SECRET_OK:
		break;
	case SECRET_NUL:
		return password_has_nul(c);
	case SECRET_TOO_LONG:
		return cli_usage_error(c, cmd, "the password is longer than %zu bytes", size - 1);
	case SECRET_NONE:
	default:
		return cli_usage_error(c, cmd, "no password given (type it, or pipe one line to stdin)");
	}
	if (confirm && isatty(STDIN_FILENO)) {
		char again[256];
		secret_read r = read_secret("password (again): ", again, sizeof again);
		bool same = r == SECRET_OK && strcmp(again, buf) == 0;
		explicit_bzero(again, sizeof again);
		if (!same) {
			explicit_bzero(buf, size);
			return r == SECRET_NUL ? password_has_nul(c) : cli_usage_error(c, cmd, "the passwords differ");
		}
	}
	return EXIT_OK;
}

/* ---- output ------------------------------------------------------------- */

/* The shared record without updated_at: the CLI's --json as it always was. */
static json_t *cli_json_user(const booking_user *u)
{
	json_t *o = json_user(u);
	json_object_del(o, "updated_at");
	return o;
}

/* ---- commands ------------------------------------------------------------ */

int cmd_register(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--admin", NULL};
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one EMAIL");
	bool admin = args_has(&a, "--admin");
	booking_ctx ctx;
	if ((rc = cli_open(c)))
		return rc;
	/* a customer registers alone; an admin is made by an admin (or the system) */
	if ((rc = admin ? cli_session(c, &ctx, true) : cli_session(c, &ctx, false)))
		return rc;
	char password[256];
	if ((rc = read_password(c, cmd, true, password, sizeof password)))
		return rc;
	booking_user *u = NULL;
	int lrc = booking_auth_register(&u, c->bk, &ctx, a.pos[0], password,
	                                admin ? BOOKING_ROLE_ADMIN : BOOKING_ROLE_CUSTOMER);
	explicit_bzero(password, sizeof password);
	if (lrc != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "user", cli_json_user(u)));
	} else {
		printf("%sregistered%s %s (%s)\nuser %s\n", col(c, ANSI_GREEN), col(c, ANSI_RESET), tsafe(u->email),
		       booking_role_name(u->role), u->id);
		printf("%snext: booking login %s%s\n", col(c, ANSI_DIM), tsafe(u->email), col(c, ANSI_RESET));
	}
	booking_user_free(u);
	return rc;
}

int cmd_login(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--print-token", NULL};
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one EMAIL");
	bool print = args_has(&a, "--print-token");
	if ((rc = cli_open(c)))
		return rc;
	char password[256];
	if ((rc = read_password(c, cmd, false, password, sizeof password)))
		return rc;
	char *token = NULL;
	booking_user *u = NULL;
	int lrc = booking_auth_login(&token, &u, c->bk, NULL, a.pos[0], password);
	explicit_bzero(password, sizeof password);
	if (lrc != 0) {
		rc = cli_fail(c);
		if (booking_error_last()->code == BOOKING_ENOTSUPPORTED && !c->json)
			fprintf(stderr, "(no signing key: run `booking init` or `booking keys generate`)\n");
		return rc;
	}
	booking_token *t = NULL;
	char path[4200] = "", until[40] = "";
	if (booking_auth_verify(&t, c->bk, token) == 0)
		fmt_time(until, sizeof until, t->expires_at);
	if (!print && save_token(c, token, path, sizeof path) != 0) {
		fprintf(stderr, "booking: cannot save the token in %s: %s\n", cli_data_dir(c), strerror(errno));
		rc = EXIT_DOMAIN;
	} else if (c->json) {
		char iso[40];
		json_t *o = json_pack("{s:o,s:s}", "user", cli_json_user(u), "expires_at",
		                      fmt_iso(iso, sizeof iso, t ? t->expires_at : 0));
		if (o && print)
			json_object_set_new(o, "token", json_string(token));
		if (o && !print)
			json_object_set_new(o, "token_file", json_string(path));
		rc = cli_json(c, o);
	} else if (print) {
		printf("%s\n", token);
	} else {
		printf("%slogged in%s as %s (%s) until %s\n", col(c, ANSI_GREEN), col(c, ANSI_RESET), tsafe(u->email),
		       booking_role_name(u->role), until);
		printf("%stoken saved in %s%s\n", col(c, ANSI_DIM), path, col(c, ANSI_RESET));
	}
	booking_token_free(t);
	explicit_bzero(token, strlen(token));
	booking_free(token);
	booking_user_free(u);
	return rc;
}

/* Revoke `token`; false, with the reason in why, when it was not. */
static bool revoke_token(cli *c, const char *token, char *why, size_t size)
{
	if (booking_auth_revoke(c->bk, NULL, token) == 0)
		return true;
	snprintf(why, size, "%s", booking_error_last()->message);
	return false;
}

/*
 * Revoke what is forgotten: the saved token, and $BOOKING_TOKEN when it is
 * set (and another one). A token that no longer verifies (expired) cannot
 * act anyway: its file is removed all the same.
 */
int cmd_logout(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "logout takes no arguments");
	char *env = env_token(), *saved = saved_token(c);
	if (!env && !saved) {
		if (c->json)
			return cli_json(c, json_pack("{s:b,s:b,s:i}", "logged_out", 0, "revoked", 0, "tokens_revoked", 0));
		printf("not logged in\n");
		return EXIT_OK;
	}
	if (env && saved && strcmp(env, saved) == 0) {
		free(env);
		env = NULL;
	}
	if ((rc = cli_open(c))) {
		free(env);
		free(saved);
		return rc;
	}
	char why[512] = "";
	int tokens = 0, revoked = 0;
	const char *const found[] = {saved, env};
	for (size_t i = 0; i < 2; i++) {
		if (found[i]) {
			tokens++;
			revoked += revoke_token(c, found[i], why, sizeof why);
		}
	}
	free(env);
	free(saved);
	char path[4200];
	if (cli_data_path(c, CLI_TOKEN_FILE, path, sizeof path))
		unlink(path);
	if (c->json)
		return cli_json(c, json_pack("{s:b,s:b,s:i}", "logged_out", 1, "revoked", revoked == tokens, "tokens_revoked",
		                             revoked));
	if (revoked == tokens && tokens == 1)
		printf("logged out: the token is revoked\n");
	else if (revoked == tokens)
		printf("logged out: both tokens are revoked ($BOOKING_TOKEN and the saved one)\n");
	else
		printf("logged out (%d of %d token%s revoked: %s)\n", revoked, tokens, tokens == 1 ? "" : "s", why);
	return EXIT_OK;
}

int cmd_whoami(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "whoami takes no arguments");
	if ((rc = cli_actor(c, cmd, &ctx)))
		return rc;
	if (ctx.role == BOOKING_ROLE_SYSTEM) {
		if (c->json)
			return cli_json(c, json_pack("{s:s,s:s}", "user_id", ctx.user_id, "role", "system"));
		printf("system (--as system: the host's internals)\n");
		return EXIT_OK;
	}
	booking_user *u = NULL;
	if (booking_user_get(&u, c->bk, &ctx, NULL) != 0)
		return cli_fail(c);
	char until[40], iso[40];
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o,s:s,s:s}", "user", cli_json_user(u), "expires_at",
		                           fmt_iso(iso, sizeof iso, c->token->expires_at), "kid", c->token->kid));
	} else {
		printf("%s (%s)\nuser %s\ntoken valid until %s\n", tsafe(u->email), booking_role_name(u->role), u->id,
		       fmt_time(until, sizeof until, c->token->expires_at));
	}
	booking_user_free(u);
	return rc;
}

static int print_keys(cli *c, const char *kid, const char *priv, const char *pub, const char *retired)
{
	booking_jwk_set *set = NULL;
	size_t count = booking_jwk_set_load(&set, pub) == 0 ? booking_jwk_set_count(set) : 0;
	booking_jwk_set_free(set);
	if (c->json) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:I}", "kid", kid, "private_key_file", priv, "public_keys_file", pub,
		                      "public_keys", (json_int_t)count);
		if (o && retired[0])
			json_object_set_new(o, "retired_private_key_file", json_string(retired));
		return cli_json(c, o);
	}
	printf("key %s\n  private %s (mode 0600: keep it secret)\n  public  %s (%zu key%s: give it to verifiers)\n", kid,
	       priv, pub, count, count == 1 ? "" : "s");
	if (retired[0])
		printf("  retired %s (tokens it signed stay valid until they expire)\n", retired);
	return EXIT_OK;
}

/* Retire the current private key (renamed *.retired-TIME), then add a new key to the set the library wrote. */
static int rotate(cli *c, const char *kid_arg)
{
	int rc;
	if ((rc = cli_make_data_dir(c)))
		return rc;
	const char *priv, *pub;
	key_paths(c, &priv, &pub);
	char retired[4300] = "";
	if (access(priv, F_OK) == 0) {
		snprintf(retired, sizeof retired, "%s.retired-%lld", priv, (long long)time(NULL));
		if (rename(priv, retired) != 0) {
			fprintf(stderr, "booking: cannot retire %s: %s\n", priv, strerror(errno));
			return EXIT_DOMAIN;
		}
	}
	char *made = NULL;
	if (booking_jwk_rotate_files(&made, priv, pub, kid_arg) != 0) {
		rc = booking_error_last()->code == BOOKING_ENOTFOUND
		         ? cli_fail_hint(c, "no key set to add to yet: booking init, or booking keys generate")
		         : cli_fail(c);
		if (retired[0] && rename(retired, priv) != 0)
			fprintf(stderr, "booking: the retired key stays at %s\n", retired);
		return rc;
	}
	char kid[200];
	snprintf(kid, sizeof kid, "%s", made);
	booking_free(made);
	return print_keys(c, kid, priv, pub, retired);
}

int cmd_keys_generate(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--kid=", "--rotate", NULL};
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "keys generate takes no arguments");
	if (args_has(&a, "--rotate")) /* the older spelling of `keys rotate` */
		return rotate(c, args_get(&a, "--kid"));
	if ((rc = cli_make_data_dir(c)))
		return rc;
	const char *priv, *pub;
	key_paths(c, &priv, &pub);
	char kid[200];
	if ((rc = generate(c, priv, pub, args_get(&a, "--kid"), kid, sizeof kid)))
		return rc;
	return print_keys(c, kid, priv, pub, "");
}

int cmd_keys_rotate(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--kid=", NULL};
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "keys rotate takes no arguments");
	return rotate(c, args_get(&a, "--kid"));
}
