/*
 * Options: defaults, the ranges of the guide's §4.2, and BOOKING_* variables.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One integer option: where it lives in both structs, its variable and range. */
typedef struct int_option {
	const char *field;
	const char *env;
	size_t opt_offset;
	size_t cfg_offset;
	int min, max, def;
	unsigned int since; /* the options version that added the field */
} int_option;

#define INT_OPT(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 1}
#define INT_OPT_V2(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 2}
#define INT_OPT_V3(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 3}
#define INT_OPT_V4(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 4}
#define INT_OPT_V6(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 6}
#define INT_OPT_V7(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 7}
#define INT_OPT_V8(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 8}
#define INT_OPT_V9(f, env, lo, hi, d) \
	{#f, env, offsetof(booking_options, f), offsetof(booking_config, f), lo, hi, d, 9}

static const int_option int_options[] = {
	INT_OPT(hold_expiry_minutes, "BOOKING_EXPIRY_MINUTES", 5, 60, 15),
	INT_OPT(max_seats_per_reservation, "BOOKING_MAX_SEATS_PER_RESERVATION", 1, 50, 10),
	INT_OPT(payment_window_seconds, "BOOKING_PAYMENT_WINDOW_SECONDS", 30, 900, 120),
	INT_OPT(lock_ttl_seconds, "BOOKING_LOCK_TTL", 5, 300, 30),
	INT_OPT(lock_retry_count, "BOOKING_LOCK_RETRY_COUNT", 1, 20, 5),
	INT_OPT(lock_retry_delay_ms, "BOOKING_LOCK_RETRY_DELAY_MS", 10, 1000, 100),
	INT_OPT(gateway_max_retries, "BOOKING_GATEWAY_MAX_RETRIES", -1, 10, 2),
	INT_OPT(consumer_max_deliveries, "BOOKING_CONSUMER_MAX_DELIVERIES", 1, 100, 5),
	INT_OPT(consumer_retry_base_ms, "BOOKING_CONSUMER_RETRY_BASE_MS", 1, 60000, 100),
	INT_OPT(circuit_breaker_failure_threshold, "BOOKING_CIRCUIT_BREAKER_FAILURE_THRESHOLD", 1, 20, 5),
	INT_OPT(circuit_breaker_recovery_seconds, "BOOKING_CIRCUIT_BREAKER_RECOVERY_TIMEOUT", 10, 300, 30),
	INT_OPT_V2(password_opslimit, "BOOKING_PASSWORD_OPSLIMIT", 1, 10, 2),
	INT_OPT_V2(password_memlimit_kib, "BOOKING_PASSWORD_MEMLIMIT_KIB", 8, 4194304, 65536),
	INT_OPT_V2(access_token_ttl_seconds, "BOOKING_ACCESS_TOKEN_TTL_SECONDS", 60, 86400, 900),
	INT_OPT_V2(jwt_leeway_seconds, "BOOKING_JWT_LEEWAY_SECONDS", -1, BOOKING_JWT_LEEWAY_MAX_SECONDS, 30),
	INT_OPT_V3(circuit_breaker_success_threshold, "BOOKING_CIRCUIT_BREAKER_SUCCESS_THRESHOLD", 1, 20, 2),
	INT_OPT_V3(store_retry_attempts, "BOOKING_STORE_RETRY_ATTEMPTS", 1, 10, 2),
	INT_OPT_V3(store_retry_base_ms, "BOOKING_STORE_RETRY_BASE_MS", 1, 10000, 50),
	INT_OPT_V3(locks_retry_attempts, "BOOKING_LOCKS_RETRY_ATTEMPTS", 1, 10, 3),
	INT_OPT_V3(locks_retry_base_ms, "BOOKING_LOCKS_RETRY_BASE_MS", 1, 10000, 100),
	INT_OPT_V3(events_retry_attempts, "BOOKING_EVENTS_RETRY_ATTEMPTS", 1, 10, 3),
	INT_OPT_V3(events_retry_base_ms, "BOOKING_EVENTS_RETRY_BASE_MS", 1, 10000, 500),
	INT_OPT_V3(gateway_retry_delay_ms, "BOOKING_GATEWAY_RETRY_DELAY_MS", 1, 60000, 1000),
	INT_OPT_V4(max_failed_payments_per_reservation, "BOOKING_MAX_FAILED_PAYMENTS_PER_RESERVATION", -1, 100, 5),
	INT_OPT_V4(max_failed_payments_per_user_hour, "BOOKING_MAX_FAILED_PAYMENTS_PER_USER_HOUR", -1, 1000, 20),
	INT_OPT_V6(hold_max_minutes, "BOOKING_HOLD_MAX_MINUTES", 0, 240, 0),
	INT_OPT_V6(best_row_depth_percent, "BOOKING_BEST_ROW_DEPTH", -1, 100, 60),
	INT_OPT_V7(max_seats_per_user_showtime, "BOOKING_MAX_SEATS_PER_USER_SHOWTIME", -1, 1000, 10),
	INT_OPT_V7(hold_cooldown_seconds, "BOOKING_HOLD_COOLDOWN_SECONDS", 0, 3600, 0),
	INT_OPT_V8(max_live_holds_per_user, "BOOKING_MAX_LIVE_HOLDS_PER_USER", 0, 1000, 0),
	INT_OPT_V8(rate_holds_per_minute, "BOOKING_RATE_HOLDS_PER_MINUTE", 0, 100000, 0),
	INT_OPT_V8(rate_payments_per_minute, "BOOKING_RATE_PAYMENTS_PER_MINUTE", 0, 100000, 0),
	INT_OPT_V8(rate_logins_per_minute, "BOOKING_RATE_LOGINS_PER_MINUTE", 0, 100000, 0),
	INT_OPT_V8(rate_burst, "BOOKING_RATE_BURST", 1, 1000, 5),
	INT_OPT_V8(waitlist_max_passes, "BOOKING_WAITLIST_MAX_PASSES", -1, 100, 3),
	INT_OPT_V8(waitlist_max_entries, "BOOKING_WAITLIST_MAX_ENTRIES", 1, 100000, 1000),
	INT_OPT_V9(lock_contended_seconds, "BOOKING_LOCK_CONTENDED_SECONDS", 0, 3600, 0),
};

#define N_INT_OPTIONS (sizeof(int_options) / sizeof(int_options[0]))

/*
 * The backend settings retired in version 5: the fields that held them
 * (now the retired_v1 and retired_v3 slots, in this order) and their
 * variables. They belong to one backend each and travel in its URL now;
 * building them into URLs here would make the core know every backend's
 * parameters, so a struct or an environment that still sets one is
 * refused, never silently ignored (a durability or capacity setting
 * dropped on upgrade would go unnoticed).
 */
typedef struct retired_option {
	const char *field;
	const char *env;
	const char *url_env; /* the variable whose URL takes its place */
} retired_option;

static const retired_option retired_v1[] = {
	{"db_pool_size", "BOOKING_DB_POOL_SIZE", "BOOKING_STORE_URL"},
	{"db_pool_timeout_seconds", "BOOKING_DB_POOL_TIMEOUT", "BOOKING_STORE_URL"},
	{"sqlite_synchronous_full", "BOOKING_SQLITE_SYNCHRONOUS_FULL", "BOOKING_STORE_URL"},
	{"gateway_timeout_seconds", "BOOKING_GATEWAY_TIMEOUT", "BOOKING_GATEWAY_URL"},
};

static const retired_option retired_v3[] = {
	{"gateway_connect_timeout_seconds", "BOOKING_GATEWAY_CONNECT_TIMEOUT", "BOOKING_GATEWAY_URL"},
	{"db_connect_timeout_seconds", "BOOKING_DB_CONNECT_TIMEOUT", "BOOKING_STORE_URL"},
	{"db_statement_timeout_seconds", "BOOKING_DB_STATEMENT_TIMEOUT", "BOOKING_STORE_URL"},
	{"redis_connect_timeout_ms", "BOOKING_REDIS_CONNECT_TIMEOUT_MS", "BOOKING_LOCK_URL or BOOKING_EVENTS_URL"},
	{"redis_timeout_ms", "BOOKING_REDIS_TIMEOUT_MS", "BOOKING_LOCK_URL or BOOKING_EVENTS_URL"},
};

_Static_assert(sizeof(retired_v1) / sizeof(retired_v1[0]) ==
                   sizeof(((booking_options *)0)->retired_v1) / sizeof(int),
               "one name per retired_v1 slot");
_Static_assert(sizeof(retired_v3) / sizeof(retired_v3[0]) ==
                   sizeof(((booking_options *)0)->retired_v3) / sizeof(int),
               "one name per retired_v3 slot");

static int retired_field(const retired_option *r)
{
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", r->field, "reason", "retired"),
	                           "%s: no longer an option: backend settings are parameters of the backend's URL "
	                           "(doc/configuration.md)",
	                           r->field);
}

/* A struct that sets a retired slot: refused, naming the field it was. */
static int check_retired(const booking_options *opts)
{
	for (size_t i = 0; i < sizeof(retired_v1) / sizeof(retired_v1[0]); i++)
		if (opts->retired_v1[i] != 0)
			return retired_field(&retired_v1[i]);
	if (opts->version < 3) /* a version 1 or 2 struct ends before retired_v3 */
		return 0;
	for (size_t i = 0; i < sizeof(retired_v3) / sizeof(retired_v3[0]); i++)
		if (opts->retired_v3[i] != 0)
			return retired_field(&retired_v3[i]);
	return 0;
}

static int *opt_int(booking_options *o, const int_option *d)
{
	return (int *)(void *)((char *)o + d->opt_offset);
}

static const int *opt_int_c(const booking_options *o, const int_option *d)
{
	return (const int *)(const void *)((const char *)o + d->opt_offset);
}

static int *cfg_int(booking_config *c, const int_option *d)
{
	return (int *)(void *)((char *)c + d->cfg_offset);
}

void booking__options_defaults(booking_options *o)
{
	memset(o, 0, sizeof(*o));
	o->version = BOOKING_OPTIONS_VERSION;
}

int booking__struct_init(void *opts, unsigned int version, unsigned int current, const size_t *end,
                         const char *what)
{
	if (!opts)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: NULL", what);
	if (version == 0 || version > current)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"version\"}",
		                         "%s: unsupported version %u (expected 1..%u)", what, version, current);
	memset(opts, 0, end[version]);
	*(unsigned int *)opts = version; /* every options struct starts with its version */
	return 0;
}

booking_error_code booking_options_init(booking_options *opts, unsigned int version)
{
	/* where each version's struct ends: fields are only ever appended */
	static const size_t end[BOOKING_OPTIONS_VERSION + 1] = {
		0,
		offsetof(booking_options, password_opslimit),
		offsetof(booking_options, circuit_breaker_success_threshold),
		offsetof(booking_options, payment_key_file),
		offsetof(booking_options, orphan_policy),
		offsetof(booking_options, orphan_policy),
		offsetof(booking_options, max_seats_per_user_showtime),
		offsetof(booking_options, max_live_holds_per_user),
		offsetof(booking_options, lock_contended_seconds),
		sizeof(booking_options),
	};
	return booking__struct_init(opts, version, BOOKING_OPTIONS_VERSION, end, "options");
}

static int set_string(char **dst, const char *src, const char *def)
{
	const char *v = src && *src ? src : def;
	*dst = NULL;
	if (!v)
		return 0;
	*dst = booking_strdup(v);
	return *dst ? 0 : booking_error_oom();
}

void booking__config_clear(booking_config *cfg)
{
	booking_free(cfg->store_url);
	booking_free(cfg->lock_url);
	booking_free(cfg->events_url);
	booking_free(cfg->gateway_url);
	booking_free(cfg->service_name);
	booking_free(cfg->jwt_private_key_file);
	booking_free(cfg->jwt_public_keys_file);
	booking_free(cfg->jwt_issuer);
	booking_free(cfg->jwt_audience);
	booking_free(cfg->payment_key_file);
	memset(cfg, 0, sizeof(*cfg));
}

int booking__config_from_options(booking_config *cfg, const booking_options *opts)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!opts || opts->version == 0 || opts->version > BOOKING_OPTIONS_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"version\"}",
		                         "options: unsupported version (expected 1..%d)", BOOKING_OPTIONS_VERSION);
	int rc = check_retired(opts);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < N_INT_OPTIONS; i++) {
		const int_option *d = &int_options[i];
		/* a version 1 struct ends before the version 2 fields: never read them */
		int v = opts->version >= d->since ? *opt_int_c(opts, d) : 0;
		if (v == 0)
			v = d->def;
		if (v < d->min || v > d->max)
			return booking__error_field(d->field, "%d is out of range %d..%d", v, d->min, d->max);
		*cfg_int(cfg, d) = v < 0 ? 0 : v; /* -1 spells 0 where 0 means "default" */
	}
	if (opts->decline_policy != BOOKING_DECLINE_KEEP_HOLD && opts->decline_policy != BOOKING_DECLINE_RELEASE)
		return booking__error_field("decline_policy", "must be KEEP_HOLD or RELEASE");
	cfg->decline_policy = opts->decline_policy;
	if (cfg->hold_max_minutes == 0) /* 0: twice the hold */
		cfg->hold_max_minutes = 2 * cfg->hold_expiry_minutes;
	if (cfg->hold_max_minutes < cfg->hold_expiry_minutes)
		return booking__error_field("hold_max_minutes", "%d is below hold_expiry_minutes (%d)", cfg->hold_max_minutes,
		                            cfg->hold_expiry_minutes);
	booking_orphan_policy orphans = opts->version >= 6 ? opts->orphan_policy : BOOKING_ORPHANS_OFF;
	if (orphans != BOOKING_ORPHANS_OFF && orphans != BOOKING_ORPHANS_REFUSE &&
	    orphans != BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE)
		return booking__error_field("orphan_policy", "must be OFF, REFUSE or REFUSE_UNLESS_UNAVOIDABLE");
	cfg->orphan_policy = orphans;
	booking_log_level lvl = opts->log_level ? opts->log_level : BOOKING_LOG_INFO;
	if (lvl != BOOKING_LOG_DEBUG && lvl != BOOKING_LOG_INFO && lvl != BOOKING_LOG_WARNING &&
	    lvl != BOOKING_LOG_ERROR && lvl != BOOKING_LOG_CRITICAL)
		return booking__error_field("log_level", "must be 10, 20, 30, 40 or 50");
	cfg->log_level = lvl;
	cfg->log_fn = opts->log_fn;
	cfg->log_payload = opts->log_payload;
	if (opts->version >= 3) { /* a version 1 or 2 struct ends before the span hooks */
		cfg->span_start_fn = opts->span_start_fn;
		cfg->span_end_fn = opts->span_end_fn;
		cfg->span_payload = opts->span_payload;
	}
	/* "" is a mistake (an unset variable pasted in), not a wish for a store that forgets everything */
	if (opts->store_url && !*opts->store_url) {
		booking__config_clear(cfg);
		return booking__error_field("store_url", "is empty: name the store (NULL means memory:)");
	}
	if ((rc = set_string(&cfg->store_url, opts->store_url, "memory:")) < 0 ||
	    (rc = set_string(&cfg->lock_url, opts->lock_url, "")) < 0 ||
	    (rc = set_string(&cfg->events_url, opts->events_url, "store:")) < 0 ||
	    (rc = set_string(&cfg->gateway_url, opts->gateway_url, "simulated:")) < 0 ||
	    (rc = set_string(&cfg->service_name, opts->service_name, "libbooking")) < 0) {
		booking__config_clear(cfg);
		return rc;
	}
	bool v2 = opts->version >= 2;
	if ((rc = set_string(&cfg->jwt_private_key_file, v2 ? opts->jwt_private_key_file : NULL, NULL)) < 0 ||
	    (rc = set_string(&cfg->jwt_public_keys_file, v2 ? opts->jwt_public_keys_file : NULL, NULL)) < 0 ||
	    (rc = set_string(&cfg->jwt_issuer, v2 ? opts->jwt_issuer : NULL, "libbooking")) < 0 ||
	    (rc = set_string(&cfg->jwt_audience, v2 ? opts->jwt_audience : NULL, "libbooking")) < 0 ||
	    (rc = booking__check_text("jwt_issuer", cfg->jwt_issuer, 1, 200)) < 0 ||
	    (rc = booking__check_text("jwt_audience", cfg->jwt_audience, 1, 200)) < 0) {
		booking__config_clear(cfg);
		return rc;
	}
	if ((rc = set_string(&cfg->payment_key_file, opts->version >= 4 ? opts->payment_key_file : NULL, NULL)) < 0 ||
	    (rc = booking__check_text("service_name", cfg->service_name, 1, 100)) < 0) {
		booking__config_clear(cfg);
		return rc;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* From the environment                                                 */

/* Options plus the strings they point to. */
typedef struct env_options {
	booking_options opts; /* first: the public pointer is to this */
	char *store_url, *lock_url, *events_url, *gateway_url, *service_name;
	char *jwt_private_key_file, *jwt_public_keys_file, *jwt_issuer, *jwt_audience;
	char *payment_key_file;
} env_options;

/* A KEY=VALUE list: the env file first, then the environment overriding it. */
typedef struct kv {
	char *key, *value;
} kv;

typedef struct kv_list {
	kv *items;
	size_t count, cap;
} kv_list;

static void kv_free(kv_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		booking_free(l->items[i].key);
		booking_free(l->items[i].value);
	}
	booking_free(l->items);
}

static int kv_put(kv_list *l, const char *key, size_t keylen, const char *value, size_t vallen)
{
	for (size_t i = 0; i < l->count; i++) {
		if (strlen(l->items[i].key) == keylen && memcmp(l->items[i].key, key, keylen) == 0) {
			char *v = booking_strndup(value, vallen);
			if (!v)
				return booking_error_oom();
			booking_free(l->items[i].value);
			l->items[i].value = v;
			return 0;
		}
	}
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		kv *n = booking_realloc(l->items, ncap * sizeof(kv));
		if (!n)
			return booking_error_oom();
		l->items = n;
		l->cap = ncap;
	}
	char *k = booking_strndup(key, keylen), *v = booking_strndup(value, vallen);
	if (!k || !v) {
		booking_free(k);
		booking_free(v);
		return booking_error_oom();
	}
	l->items[l->count].key = k;
	l->items[l->count].value = v;
	l->count++;
	return 0;
}

static const char *kv_get(const kv_list *l, const char *key)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

static int load_env_file(kv_list *l, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s}", "field", "BOOKING_ENV_FILE"),
		                           "BOOKING_ENV_FILE: cannot open %s: %s", path, strerror(errno));
	char line[4096];
	int rc = 0, lineno = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strcspn(line, "\r\n");
		line[len] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		char *eq = strchr(p, '=');
		if (!eq) {
			rc = booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:i}", "field", "BOOKING_ENV_FILE", "line", lineno),
			                         "%s:%d: expected KEY=VALUE", path, lineno);
			break;
		}
		size_t klen = (size_t)(eq - p);
		while (klen && (p[klen - 1] == ' ' || p[klen - 1] == '\t'))
			klen--;
		char *v = eq + 1;
		size_t vlen = strlen(v);
		while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		if (vlen >= 2 && (v[0] == '"' || v[0] == '\'') && v[vlen - 1] == v[0]) {
			v++;
			vlen -= 2;
		}
		if (klen > 8 && strncmp(p, "BOOKING_", 8) == 0)
			rc = kv_put(l, p, klen, v, vlen);
	}
	fclose(f);
	return rc;
}

static int parse_int(const char *env, const char *s, int min, int max, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:i,s:i}", "field", env, "min", min, "max", max),
		                           "%s=\"%s\": must be an integer in %d..%d", env, s, min, max);
	*out = (int)v;
	return 0;
}

static int parse_choice(const char *env, const char *s, const char *const *names, const int *values, size_t n,
                        const char *allowed, int *out)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = values[i];
			return 0;
		}
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", env, "allowed", allowed),
	                           "%s=\"%s\": must be one of %s", env, s, allowed);
}

/*
 * A URL of a registered scheme for `kind` (sys/registry.h): the built-ins
 * and whatever the host registered before reading the options. Events may
 * also be "store:" (the store's own outbox).
 */
static int check_url_scheme(const char *env, const char *url, booking__backend_kind kind)
{
	bool store_events = kind == BOOKING__EVENT_PUBLISHER && strncmp(url, "store:", 6) == 0;
	if (store_events || booking__backend_find(kind, url, NULL))
		return 0;
	char allowed[256];
	size_t at = kind == BOOKING__EVENT_PUBLISHER ? (size_t)snprintf(allowed, sizeof(allowed), "store:, ") : 0;
	booking__backend_schemes(kind, allowed + at, sizeof(allowed) - at);
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", env, "allowed", allowed),
	                           "%s: unsupported URL scheme (allowed: %s)", env, allowed);
}

static int take_string(kv_list *l, const char *env, char **dst)
{
	const char *v = kv_get(l, env);
	if (!v || !*v)
		return 0;
	*dst = booking_strdup(v);
	return *dst ? 0 : booking_error_oom();
}

/* A retired variable that is set (empty is unset, as for every variable). */
static int check_retired_env(const kv_list *l, const retired_option *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = kv_get(l, r[i].env);
		if (v && *v)
			return booking__error_json(BOOKING_EVALIDATION,
			                           json_pack("{s:s,s:s,s:s}", "field", r[i].env, "reason", "retired", "url",
			                                     r[i].url_env),
			                           "%s is no longer read: backend settings are parameters of the backend's "
			                           "URL, set in %s (doc/configuration.md)",
			                           r[i].env, r[i].url_env);
	}
	return 0;
}

static int options_from_kv(env_options *eo, kv_list *l)
{
	booking_options *o = &eo->opts;
	int rc;
	if ((rc = check_retired_env(l, retired_v1, sizeof(retired_v1) / sizeof(retired_v1[0]))) < 0 ||
	    (rc = check_retired_env(l, retired_v3, sizeof(retired_v3) / sizeof(retired_v3[0]))) < 0)
		return rc;
	for (size_t i = 0; i < N_INT_OPTIONS; i++) {
		const char *v = kv_get(l, int_options[i].env);
		int *dst = opt_int(o, &int_options[i]);
		if (v && *v && (rc = parse_int(int_options[i].env, v, int_options[i].min < 0 ? 0 : int_options[i].min,
		                               int_options[i].max, dst)) < 0)
			return rc;
		if (v && *v && *dst == 0 && int_options[i].min < 0)
			*dst = -1; /* an explicit 0 where 0 in the struct means "default" */
	}
	const char *v;
	if ((v = kv_get(l, "BOOKING_DECLINE_POLICY")) && *v) {
		static const char *const names[] = {"keep", "release"};
		static const int values[] = {BOOKING_DECLINE_KEEP_HOLD, BOOKING_DECLINE_RELEASE};
		int x = 0;
		if ((rc = parse_choice("BOOKING_DECLINE_POLICY", v, names, values, 2, "keep, release", &x)) < 0)
			return rc;
		o->decline_policy = (booking_decline_policy)x;
	}
	if ((v = kv_get(l, "BOOKING_ORPHAN_POLICY")) && *v) {
		static const char *const names[] = {"off", "refuse", "unless-unavoidable"};
		static const int values[] = {BOOKING_ORPHANS_OFF, BOOKING_ORPHANS_REFUSE,
		                             BOOKING_ORPHANS_REFUSE_UNLESS_UNAVOIDABLE};
		int x = 0;
		if ((rc = parse_choice("BOOKING_ORPHAN_POLICY", v, names, values, 3, "off, refuse, unless-unavoidable", &x)) <
		    0)
			return rc;
		o->orphan_policy = (booking_orphan_policy)x;
	}
	if ((v = kv_get(l, "BOOKING_LOG_LEVEL")) && *v) {
		static const char *const names[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
		static const int values[] = {10, 20, 30, 40, 50};
		int x = 0;
		if ((rc = parse_choice("BOOKING_LOG_LEVEL", v, names, values, 5, "DEBUG, INFO, WARNING, ERROR, CRITICAL",
		                       &x)) < 0)
			return rc;
		o->log_level = (booking_log_level)x;
		if (!o->log_fn)
			o->log_fn = booking_log_to_stderr; /* asking for a level is asking for the lines */
	}
	/* the one variable where set-but-empty is refused, not unset: see booking_options.store_url */
	if ((v = kv_get(l, "BOOKING_STORE_URL")) && !*v)
		return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s}", "field", "BOOKING_STORE_URL"),
		                           "BOOKING_STORE_URL is set but empty: name the store, or unset it for memory:");
	if ((rc = take_string(l, "BOOKING_STORE_URL", &eo->store_url)) < 0 ||
	    (rc = take_string(l, "BOOKING_LOCK_URL", &eo->lock_url)) < 0 ||
	    (rc = take_string(l, "BOOKING_EVENTS_URL", &eo->events_url)) < 0 ||
	    (rc = take_string(l, "BOOKING_GATEWAY_URL", &eo->gateway_url)) < 0 ||
	    (rc = take_string(l, "BOOKING_SERVICE_NAME", &eo->service_name)) < 0 ||
	    (rc = take_string(l, "BOOKING_JWT_PRIVATE_KEY_FILE", &eo->jwt_private_key_file)) < 0 ||
	    (rc = take_string(l, "BOOKING_JWT_PUBLIC_KEYS_FILE", &eo->jwt_public_keys_file)) < 0 ||
	    (rc = take_string(l, "BOOKING_JWT_ISSUER", &eo->jwt_issuer)) < 0 ||
	    (rc = take_string(l, "BOOKING_JWT_AUDIENCE", &eo->jwt_audience)) < 0 ||
	    (rc = take_string(l, "BOOKING_PAYMENT_KEY_FILE", &eo->payment_key_file)) < 0)
		return rc;
	if ((eo->store_url && (rc = check_url_scheme("BOOKING_STORE_URL", eo->store_url, BOOKING__STORE)) < 0) ||
	    (eo->lock_url && (rc = check_url_scheme("BOOKING_LOCK_URL", eo->lock_url, BOOKING__LOCK_MANAGER)) < 0) ||
	    (eo->events_url &&
	     (rc = check_url_scheme("BOOKING_EVENTS_URL", eo->events_url, BOOKING__EVENT_PUBLISHER)) < 0) ||
	    (eo->gateway_url &&
	     (rc = check_url_scheme("BOOKING_GATEWAY_URL", eo->gateway_url, BOOKING__PAYMENT_GATEWAY)) < 0))
		return rc;
	o->store_url = eo->store_url;
	o->lock_url = eo->lock_url;
	o->events_url = eo->events_url;
	o->gateway_url = eo->gateway_url;
	o->service_name = eo->service_name;
	o->jwt_private_key_file = eo->jwt_private_key_file;
	o->jwt_public_keys_file = eo->jwt_public_keys_file;
	o->jwt_issuer = eo->jwt_issuer;
	o->jwt_audience = eo->jwt_audience;
	o->payment_key_file = eo->payment_key_file;
	return 0;
}

extern char **environ;

booking_error_code booking_options_load(booking_options **out, const char *env_file)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	env_options *eo = booking_calloc(1, sizeof(*eo));
	if (!eo)
		return booking_error_oom();
	booking__options_defaults(&eo->opts);
	kv_list l = {0};
	int rc = 0;
	if (env_file && *env_file)
		rc = load_env_file(&l, env_file);
	for (char **e = environ; rc == 0 && e && *e; e++) {
		const char *eq = strchr(*e, '=');
		if (eq && strncmp(*e, "BOOKING_", 8) == 0)
			rc = kv_put(&l, *e, (size_t)(eq - *e), eq + 1, strlen(eq + 1));
	}
	if (rc == 0)
		rc = options_from_kv(eo, &l);
	kv_free(&l);
	if (rc < 0) {
		booking_options_free(&eo->opts);
		return rc;
	}
	*out = &eo->opts;
	return 0;
}

booking_error_code booking_options_from_env(booking_options **out)
{
	return booking_options_load(out, getenv("BOOKING_ENV_FILE"));
}

void booking_options_free(booking_options *opts)
{
	if (!opts)
		return;
	env_options *eo = (env_options *)(void *)opts;
	booking_free(eo->store_url);
	booking_free(eo->lock_url);
	booking_free(eo->events_url);
	booking_free(eo->gateway_url);
	booking_free(eo->service_name);
	booking_free(eo->jwt_private_key_file);
	booking_free(eo->jwt_public_keys_file);
	booking_free(eo->jwt_issuer);
	booking_free(eo->jwt_audience);
	booking_free(eo->payment_key_file);
	booking_free(eo);
}
