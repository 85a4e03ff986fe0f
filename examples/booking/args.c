/*
 * booking — parsing a command's arguments and flags.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The entry of `known` for `arg` ("--duration" or "--duration=5"); NULL when unknown. */
static const char *find_known(const char *const *known, const char *arg, bool *takes_value, size_t *name_len)
{
	for (size_t i = 0; known && known[i]; i++) {
		size_t n = strlen(known[i]);
		bool value = n > 0 && known[i][n - 1] == '=';
		size_t len = value ? n - 1 : n;
		if (strncmp(arg, known[i], len) == 0 && (arg[len] == '\0' || (value && arg[len] == '='))) {
			*takes_value = value;
			*name_len = len;
			return known[i];
		}
	}
	return NULL;
}

int args_parse(cli *c, const cli_command *cmd, cli_args *a, int argc, char **argv, const char *const *known)
{
	memset(a, 0, sizeof *a);
	bool flags_done = false;
	for (int i = 0; i < argc; i++) {
		char *arg = argv[i];
		if (flags_done || arg[0] != '-' || arg[1] == '\0' || (arg[1] >= '0' && arg[1] <= '9')) {
			if (a->npos == ARGS_MAX)
				return cli_usage_error(c, cmd, "too many arguments");
			a->pos[a->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			flags_done = true;
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			a->help = true;
			continue;
		}
		bool takes_value = false;
		size_t len = 0;
		const char *entry = find_known(known, arg, &takes_value, &len);
		if (!entry)
			return cli_usage_error(c, cmd, "unknown option %s", arg);
		if (a->nflags == ARGS_MAX)
			return cli_usage_error(c, cmd, "too many options");
		char *value = NULL;
		if (takes_value) {
			if (arg[len] == '=')
				value = arg + len + 1;
			else if (i + 1 < argc)
				value = argv[++i];
			else
				return cli_usage_error(c, cmd, "%s needs a value", arg);
		}
		a->flag[a->nflags] = entry;
		a->value[a->nflags] = value;
		a->nflags++;
	}
	if (a->help) {
		cli_command_usage(cmd, stdout);
		return EXIT_OK;
	}
	return ARGS_OK;
}

/* Does the known entry `entry` ("--x=" or "--x") name `name` ("--x")? */
static bool entry_is(const char *entry, const char *name)
{
	size_t n = strlen(name);
	return strncmp(entry, name, n) == 0 && (entry[n] == '\0' || (entry[n] == '=' && entry[n + 1] == '\0'));
}

const char *args_get(const cli_args *a, const char *name)
{
	const char *found = NULL;
	for (size_t i = 0; i < a->nflags; i++)
		if (entry_is(a->flag[i], name))
			found = a->value[i];
	return found;
}

bool args_has(const cli_args *a, const char *name)
{
	for (size_t i = 0; i < a->nflags; i++)
		if (entry_is(a->flag[i], name))
			return true;
	return false;
}

bool args_int(const char *s, long min, long max, long *out)
{
	if (!s || !*s)
		return false;
	char *end = NULL;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}
