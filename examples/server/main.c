/*
 * booking-server — libbooking's REST API over HTTP (libmicrohttpd), the
 * seat-picker page's files, Server-Sent Events of seat maps, and the
 * background work a host runs. Configured as the booking CLI is: --store,
 * BOOKING_* variables, and the key files `booking init` makes.
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include "json_records.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef BOOKING_SERVER_DATADIR
#define BOOKING_SERVER_DATADIR "/usr/local/share/libbooking"
#endif

#define DEFAULT_DATA_DIR "booking-data"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: " SRV_NAME " [OPTIONS]\n\n"
	        "libbooking's HTTP API, the seat-picker page and live seat maps (libbooking %s).\n\n"
	        "options (each also read from the variable named after it; a flag wins):\n"
	        "  --listen ADDR:PORT  listen address (BOOKING_HTTP_LISTEN; default 127.0.0.1:8080);\n"
	        "                      port 0 picks a free port; IPv6 as [::1]:8080\n"
	        "  --threads N         requests handled at once, 1..1024 (BOOKING_HTTP_THREADS; default 4);\n"
	        "                      each connection has its own thread, a live event stream too\n"
	        "  --max-connections N open connections at most, 1..65536 (BOOKING_HTTP_MAX_CONNECTIONS;\n"
	        "                      default 1024)\n"
	        "  --max-body BYTES    largest request body, 1..16777216 (BOOKING_HTTP_MAX_BODY; default\n"
	        "                      65536); a larger one is refused with 413 PAYLOAD_TOO_LARGE\n"
	        "  --timeout SECONDS   idle connection timeout, 1..3600 (BOOKING_HTTP_TIMEOUT; default 30)\n"
	        "  --www DIR           the page's files, served at / (BOOKING_HTTP_WWW; default\n"
	        "                      " BOOKING_SERVER_DATADIR "/www)\n"
	        "  --openapi FILE      the OpenAPI document served at /openapi.json (BOOKING_HTTP_OPENAPI;\n"
	        "                      default " BOOKING_SERVER_DATADIR "/openapi.json)\n"
	        "  --store URL         store: sqlite:///path.db, postgresql://..., memory: (BOOKING_STORE_URL;\n"
	        "                      default sqlite DATA_DIR/booking.db, made by `booking init`)\n"
	        "  --locks URL         contention guard: memory:, redis://... (BOOKING_LOCK_URL)\n"
	        "  --events URL        events transport: store:, memory:, redis://... (BOOKING_EVENTS_URL;\n"
	        "                      default store:)\n"
	        "  --data-dir DIR      where `booking init` put the key files and the default store\n"
	        "                      (default ./" DEFAULT_DATA_DIR "): DIR/jwt-private.jwk signs tokens,\n"
	        "                      DIR/jwt-public.jwks verifies them, DIR/payment.key keys payments;\n"
	        "                      BOOKING_JWT_PRIVATE_KEY_FILE, BOOKING_JWT_PUBLIC_KEYS_FILE and\n"
	        "                      BOOKING_PAYMENT_KEY_FILE name other files\n"
	        "  --sweep-seconds N   expire overdue holds every N seconds (BOOKING_HTTP_SWEEP_SECONDS; 1)\n"
	        "  --relay-seconds N   relay the outbox every N seconds (BOOKING_HTTP_RELAY_SECONDS; 1)\n"
	        "  --notify-seconds N  deliver notifications every N seconds (BOOKING_HTTP_NOTIFY_SECONDS; 1)\n"
	        "  --recover-seconds N resolve payments left in flight every N seconds\n"
	        "                      (BOOKING_HTTP_RECOVER_SECONDS; 10)\n"
	        "  --verbose, -v       the library's log lines (JSON) and notifications on stderr\n"
	        "  --version           print the version\n"
	        "  --help, -h          this help\n\n"
	        "Every other BOOKING_* variable of the library is honoured (doc/configuration.md).\n"
	        "On start one line goes to stdout: " SRV_NAME ": listening on http://ADDR:PORT\n"
	        "SIGTERM or SIGINT: stop accepting, finish the requests in flight, exit 0.\n",
	        booking_version());
}

typedef struct flag_values {
	const char *listen, *threads, *max_connections, *max_body, *timeout, *www, *openapi, *store, *locks, *events,
		*data_dir, *sweep, *relay, *notify, *recover;
} flag_values;

static const char *env_or(const char *flag, const char *var)
{
	const char *e = getenv(var);
	return flag ? flag : e && e[0] ? e : NULL;
}

/* A number flag or variable in [min, max]; def when unset. false (printed) when it is not one. */
static bool number(const char *flag, const char *var, const char *given, long min, long max, long def, long *out)
{
	const char *v = env_or(given, var);
	if (!v) {
		*out = def;
		return true;
	}
	if (!srv_parse_long(v, min, max, out)) {
		fprintf(stderr, SRV_NAME ": %s (%s): %s is not a number in %ld..%ld\n", flag, var, v, min, max);
		return false;
	}
	return true;
}

/* Split ADDR:PORT into cfg.host and cfg.port. */
static bool parse_listen(srv_config *cfg)
{
	const char *l = cfg->listen, *colon;
	size_t hn;
	if (l[0] == '[') {
		const char *end = strchr(l, ']');
		if (!end || end[1] != ':')
			return false;
		hn = (size_t)(end - l - 1);
		l++;
		colon = end + 1;
	} else {
		colon = strrchr(l, ':');
		if (!colon)
			return false;
		hn = (size_t)(colon - l);
	}
	long port;
	if (hn == 0 || hn >= sizeof cfg->host || !srv_parse_long(colon + 1, 0, 65535, &port))
		return false;
	memcpy(cfg->host, l, hn);
	cfg->host[hn] = '\0';
	cfg->port = (unsigned int)port;
	return true;
}

/* argv into fv; 0 to go on, 1 after --help/--version, 2 on a usage error (printed). */
static int parse_args(int argc, char **argv, flag_values *fv, bool *verbose)
{
	struct {
		const char *name;
		const char **slot;
	} const flags[] = {{"--listen", &fv->listen},
	                   {"--threads", &fv->threads},
	                   {"--max-connections", &fv->max_connections},
	                   {"--max-body", &fv->max_body},
	                   {"--timeout", &fv->timeout},
	                   {"--www", &fv->www},
	                   {"--openapi", &fv->openapi},
	                   {"--store", &fv->store},
	                   {"--locks", &fv->locks},
	                   {"--events", &fv->events},
	                   {"--data-dir", &fv->data_dir},
	                   {"--sweep-seconds", &fv->sweep},
	                   {"--relay-seconds", &fv->relay},
	                   {"--notify-seconds", &fv->notify},
	                   {"--recover-seconds", &fv->recover}};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--version") == 0) {
			printf(SRV_NAME " (libbooking) %s\n", booking_version());
			return 1;
		}
		if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
			*verbose = true;
			continue;
		}
		bool known = false;
		for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !known; k++) {
			size_t n = strlen(flags[k].name);
			if (strncmp(a, flags[k].name, n) != 0 || (a[n] != '\0' && a[n] != '='))
				continue;
			known = true;
			if (a[n] == '=') {
				*flags[k].slot = a + n + 1;
			} else if (i + 1 < argc) {
				*flags[k].slot = argv[++i];
			} else {
				fprintf(stderr, SRV_NAME ": %s needs a value\n", a);
				return 2;
			}
		}
		if (!known) {
			fprintf(stderr, SRV_NAME ": unknown option %s (try " SRV_NAME " --help)\n", a);
			return 2;
		}
	}
	return 0;
}

static bool configure(srv_config *cfg, const flag_values *fv)
{
	cfg->listen = env_or(fv->listen, "BOOKING_HTTP_LISTEN");
	if (!cfg->listen)
		cfg->listen = "127.0.0.1:8080";
	if (!parse_listen(cfg)) {
		fprintf(stderr, SRV_NAME ": --listen: %s is not ADDR:PORT\n", cfg->listen);
		return false;
	}
	if (!number("--threads", "BOOKING_HTTP_THREADS", fv->threads, 1, 1024, 4, &cfg->threads) ||
	    !number("--max-connections", "BOOKING_HTTP_MAX_CONNECTIONS", fv->max_connections, 1, 65536, 1024,
	            &cfg->max_connections) ||
	    !number("--max-body", "BOOKING_HTTP_MAX_BODY", fv->max_body, 1, 16L << 20, 65536, &cfg->max_body) ||
	    !number("--timeout", "BOOKING_HTTP_TIMEOUT", fv->timeout, 1, 3600, 30, &cfg->timeout) ||
	    !number("--sweep-seconds", "BOOKING_HTTP_SWEEP_SECONDS", fv->sweep, 1, 86400, 1, &cfg->sweep_seconds) ||
	    !number("--relay-seconds", "BOOKING_HTTP_RELAY_SECONDS", fv->relay, 1, 86400, 1, &cfg->relay_seconds) ||
	    !number("--notify-seconds", "BOOKING_HTTP_NOTIFY_SECONDS", fv->notify, 1, 86400, 1, &cfg->notify_seconds) ||
	    !number("--recover-seconds", "BOOKING_HTTP_RECOVER_SECONDS", fv->recover, 1, 86400, 10,
	            &cfg->recover_seconds))
		return false;
	cfg->www = env_or(fv->www, "BOOKING_HTTP_WWW");
	if (!cfg->www)
		cfg->www = BOOKING_SERVER_DATADIR "/www";
	cfg->openapi = env_or(fv->openapi, "BOOKING_HTTP_OPENAPI");
	if (!cfg->openapi)
		cfg->openapi = BOOKING_SERVER_DATADIR "/openapi.json";
	cfg->data_dir = fv->data_dir ? fv->data_dir : DEFAULT_DATA_DIR;
	return true;
}

/* ---- the handle ------------------------------------------------------------ */

typedef struct paths {
	char store[PATH_MAX + 32], priv[PATH_MAX], pub[PATH_MAX], paykey[PATH_MAX];
} paths;

/* DATA_DIR/name into out when that file exists. */
static const char *data_file(const srv_config *cfg, const char *name, char *out, size_t size)
{
	if (snprintf(out, size, "%s/%s", cfg->data_dir, name) >= (int)size || access(out, F_OK) != 0)
		return NULL;
	return out;
}

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* Add the public JWK `key` to `keys` unless one of its kid is there. */
static void add_key(json_t *keys, json_t *key)
{
	size_t i;
	json_t *k;
	const char *kid = json_string_value(json_object_get(key, "kid"));
	json_array_foreach (keys, i, k)
		if (kid && json_equal(json_object_get(k, "kid"), json_object_get(key, "kid")))
			return;
	json_object_del(key, "d"); /* never a private part, whatever a file holds */
	json_array_append(keys, key);
}

/* The public key set served at /.well-known/jwks.json: the public keys file, plus the signing key's own. */
static int load_jwks(srv *s, const booking_options *opts)
{
	json_t *keys = json_array();
	if (!keys)
		return -1;
	if (opts->jwt_public_keys_file) {
		json_t *set = json_load_file(opts->jwt_public_keys_file, 0, NULL);
		size_t i;
		json_t *k;
		json_array_foreach (json_object_get(set, "keys"), i, k)
			if (json_is_object(k))
				add_key(keys, k);
		json_decref(set);
	}
	booking_signing_key *sk = NULL;
	char *pub = NULL;
	if (opts->jwt_private_key_file && booking_signing_key_load(&sk, opts->jwt_private_key_file) == 0 &&
	    booking_signing_key_public_jwk(&pub, sk) == 0) {
		json_t *k = json_loads(pub, 0, NULL);
		if (k)
			add_key(keys, k);
		json_decref(k);
	}
	booking_free(pub);
	booking_signing_key_free(sk);
	json_t *doc = json_pack("{s:o}", "keys", keys);
	s->jwks = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return s->jwks ? 0 : -1;
}

static int open_handle(srv *s, const booking_options *env, const flag_values *fv, paths *p)
{
	booking_options opts = *env;
	opts.store_url = fv->store ? fv->store : nonempty(env->store_url);
	if (!opts.store_url) {
		char dir[PATH_MAX];
		if (!realpath(s->cfg.data_dir, dir)) {
			fprintf(stderr, SRV_NAME ": no --store and no data directory %s (run `booking init` first): %s\n",
			        s->cfg.data_dir, strerror(errno));
			return -1;
		}
		if (snprintf(p->store, sizeof p->store, "sqlite://%s/booking.db", dir) >= (int)sizeof p->store)
			return -1;
		opts.store_url = p->store;
	}
	opts.lock_url = fv->locks ? fv->locks : nonempty(env->lock_url);
	opts.events_url = fv->events ? fv->events : nonempty(env->events_url);
	if (!opts.events_url)
		opts.events_url = "store:";
	if (!nonempty(opts.jwt_private_key_file) && !nonempty(opts.jwt_public_keys_file)) {
		opts.jwt_private_key_file = data_file(&s->cfg, "jwt-private.jwk", p->priv, sizeof p->priv);
		opts.jwt_public_keys_file = data_file(&s->cfg, "jwt-public.jwks", p->pub, sizeof p->pub);
	}
	if (!nonempty(opts.payment_key_file))
		opts.payment_key_file = data_file(&s->cfg, "payment.key", p->paykey, sizeof p->paykey);
	if (s->cfg.verbose)
		opts.log_level = BOOKING_LOG_INFO;
	else if (opts.log_level == 0)
		opts.log_level = BOOKING_LOG_ERROR;
	if (!opts.log_fn)
		opts.log_fn = booking_log_to_stderr;
	if (booking_open(&s->bk, &opts) != 0) {
		const booking_error *e = booking_error_last();
		fprintf(stderr, SRV_NAME ": cannot open the library: %s: %s\n", e->name, e->message);
		return -1;
	}
	json_t *limits = json_limits(&opts); /* GET /api/v1/limits: what this handle was opened with */
	s->limits = limits ? json_dumps(limits, JSON_COMPACT) : NULL;
	json_decref(limits);
	if (!s->limits)
		return -1;
	if (!opts.jwt_private_key_file)
		fprintf(stderr, SRV_NAME ": warning: no signing key (run `booking init`, or set "
		                "BOOKING_JWT_PRIVATE_KEY_FILE): login answers an error\n");
	return load_jwks(s, &opts);
}

/* ---- running ----------------------------------------------------------------- */

/* Wait (at most `seconds`) for the requests in flight to finish. */
static void drain(srv *s, int seconds)
{
	for (int i = 0; i < seconds * 20 && atomic_load(&s->inflight) > 0; i++) {
		struct timespec t = {0, 50L * 1000 * 1000};
		nanosleep(&t, NULL);
	}
}

static int run(srv *s)
{
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	/* every thread started from here on inherits the mask: the signals reach sigwait() alone */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	void *daemon = NULL;
	unsigned int port = 0;
	if (srv_background_start(s) != 0 || srv_http_start(s, &daemon, &port) != 0) {
		srv_background_stop(s);
		return 1;
	}
	const char *fmt = strchr(s->cfg.host, ':') ? "%s: listening on http://[%s]:%u\n" : "%s: listening on http://%s:%u\n";
	printf(fmt, SRV_NAME, s->cfg.host, port);
	fflush(stdout);

	int sig = 0;
	sigwait(&stop, &sig);
	if (s->cfg.verbose)
		fprintf(stderr, SRV_NAME ": %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	srv_http_quiesce(daemon);  /* no new connections */
	srv_background_stop(s);    /* also ends the event streams */
	drain(s, 30);              /* the requests in flight finish */
	srv_http_stop(daemon);
	return 0;
}

int main(int argc, char **argv)
{
	static srv s; /* large (metrics); one per process */
	flag_values fv;
	memset(&fv, 0, sizeof fv);
	int rc = parse_args(argc, argv, &fv, &s.cfg.verbose);
	if (rc)
		return rc == 1 ? 0 : 2;
	if (!configure(&s.cfg, &fv))
		return 2;
	booking_options *env = NULL;
	if (booking_options_from_env(&env) != 0) {
		const booking_error *e = booking_error_last();
		fprintf(stderr, SRV_NAME ": %s: %s\n", e->name, e->message);
		return 2;
	}
	pthread_mutex_init(&s.work_mu, NULL);
	pthread_cond_init(&s.work_cv, NULL);
	pthread_mutex_init(&s.ev_mu, NULL);
	pthread_cond_init(&s.ev_cv, NULL);
	pthread_mutex_init(&s.metrics_mu, NULL);
	paths p;
	rc = open_handle(&s, env, &fv, &p) == 0 ? run(&s) : 1;
	booking_close(s.bk);
	booking_options_free(env);
	free(s.jwks);
	free(s.limits);
	return rc;
}
