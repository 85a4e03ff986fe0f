/*
 * The handle: open, close, the clock, contexts.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <sodium.h>
#include <string.h>

const char *booking_version(void)
{
	return BOOKING_VERSION_STRING;
}

void booking_ctx_init_sized(booking_ctx *ctx, size_t size, const char *user_id, booking_role role)
{
	if (!ctx)
		return;
	const size_t v1 = offsetof(booking_ctx, client_key); /* where a version 1 struct ends */
	if (size < v1)
		size = v1;
	if (size > sizeof(*ctx))
		size = sizeof(*ctx);
	memset(ctx, 0, size);
	ctx->version = size >= sizeof(*ctx) ? BOOKING_CTX_VERSION : 1;
	ctx->user_id = user_id;
	ctx->role = role;
}

/* The version 1 entry point (programs built before client_key): a version 1 struct. */
#undef booking_ctx_init
void booking_ctx_init(booking_ctx *ctx, const char *user_id, booking_role role)
{
	booking_ctx_init_sized(ctx, offsetof(booking_ctx, client_key), user_id, role);
}

static const booking_ctx system_ctx = {BOOKING_CTX_VERSION, "system", BOOKING_ROLE_SYSTEM, NULL, NULL, 0, NULL};

const booking_ctx *booking_ctx_system(void)
{
	return &system_ctx;
}

int64_t booking__now(const booking_handle *bk)
{
	if (bk->store_clock)
		return booking__store_clock_now(bk->store_clock);
	return bk->clock->now_ms(bk->clock);
}

int64_t booking_now(const booking_handle *bk)
{
	return bk ? booking__now(bk) : booking_clock_system()->now_ms(booking_clock_system());
}

void booking__sleep(const booking_handle *bk, int64_t ms)
{
	if (bk->clock->sleep_ms)
		bk->clock->sleep_ms(bk->clock, ms);
	else
		booking_clock_system()->sleep_ms(NULL, ms);
}

uint64_t booking__random(booking_handle *bk, uint64_t n)
{
	(void)bk;
	if (n <= 1)
		return 0;
	return (uint64_t)randombytes_uniform((uint32_t)(n > UINT32_MAX ? UINT32_MAX : n));
}

int booking__ctx_check(const booking_ctx *ctx)
{
	if (!ctx)
		return booking_error_set(BOOKING_EUNAUTHORIZED, NULL, "no context: who is acting?");
	if (ctx->version == 0 || ctx->version > BOOKING_CTX_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"ctx.version\"}", "ctx: unsupported version");
	if (ctx->role < BOOKING_ROLE_NONE || ctx->role > BOOKING_ROLE_SYSTEM)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"ctx.role\"}", "ctx: unknown role");
	if (ctx->correlation_id && booking__check_text("ctx.correlation_id", ctx->correlation_id, 1, 128) < 0)
		return BOOKING_EVALIDATION;
	if (ctx->version >= 2 && ctx->client_key && booking__check_text("ctx.client_key", ctx->client_key, 1, 128) < 0)
		return BOOKING_EVALIDATION;
	if (ctx->traceparent && booking__check_text("ctx.traceparent", ctx->traceparent, 0, 128) < 0)
		return BOOKING_EVALIDATION;
	return 0;
}

bool booking__is_privileged(const booking_ctx *ctx)
{
	return ctx && (ctx->role == BOOKING_ROLE_ADMIN || ctx->role == BOOKING_ROLE_SYSTEM);
}

int booking__require_admin(const booking_ctx *ctx)
{
	int rc = booking__ctx_check(ctx);
	if (rc < 0)
		return rc;
	if (!booking__is_privileged(ctx))
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "this needs the admin role");
	return 0;
}

int booking__require_user(const booking_ctx *ctx)
{
	int rc = booking__ctx_check(ctx);
	if (rc < 0)
		return rc;
	if (ctx->role == BOOKING_ROLE_NONE || !ctx->user_id || !*ctx->user_id)
		return booking_error_set(BOOKING_EUNAUTHORIZED, NULL, "this needs a signed-in user");
	return booking__check_user_id("ctx.user_id", ctx->user_id);
}

int booking__ctx_deadline(const booking_handle *bk, const booking_ctx *ctx)
{
	if (ctx && ctx->deadline_ms > 0 && booking__now(bk) >= ctx->deadline_ms)
		return booking_error_set(BOOKING_EUNAVAILABLE, "{\"reason\":\"deadline\"}", "the call's deadline has passed");
	return 0;
}

const char *booking__correlation_id(const booking_handle *bk, const booking_ctx *ctx, char buf[BOOKING_ID_SIZE])
{
	if (ctx && ctx->correlation_id && *ctx->correlation_id)
		return ctx->correlation_id;
	booking_uuid_v7(buf, booking__now(bk));
	return buf;
}

static void free_custom_backends(const booking_options *opts)
{
	if (opts->store)
		opts->store->free(opts->store);
	if (opts->lock_manager)
		opts->lock_manager->free(opts->lock_manager);
	if (opts->publisher)
		opts->publisher->free(opts->publisher);
	if (opts->gateway)
		opts->gateway->free(opts->gateway);
}

booking_error_code booking_open(booking_handle **out, const booking_options *opts)
{
	if (!out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "out is NULL");
	*out = NULL;
	if (sodium_init() < 0)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "libsodium failed to initialise");
	booking_options *env_opts = NULL;
	int rc;
	if (!opts) {
		if ((rc = booking_options_from_env(&env_opts)) < 0)
			return rc;
		opts = env_opts;
	}
	booking_handle *bk = booking_calloc(1, sizeof(*bk));
	if (!bk) {
		rc = booking_error_oom();
		free_custom_backends(opts);
		booking_options_free(env_opts);
		return rc;
	}
	pthread_mutex_init(&bk->consume_lock, NULL);
	/* Custom backends are ours from here on, even when opening fails. */
	bk->store = opts->store;
	bk->locks = opts->lock_manager;
	bk->publisher = opts->publisher;
	bk->gateway = opts->gateway;
	bk->clock = opts->clock ? opts->clock : booking_clock_system();
	if (bk->clock->version == 0 || !bk->clock->now_ms) {
		rc = booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"clock\"}", "clock: version 0 or no now_ms");
		goto fail;
	}
	if ((rc = booking__config_from_options(&bk->cfg, opts)) < 0)
		goto fail;
	if ((rc = booking__showtime_cache_new(&bk->showtimes)) < 0)
		goto fail;
	if ((rc = booking__auth_open(bk)) < 0 || (rc = booking__payment_open(bk)) < 0)
		goto fail;
	if ((rc = booking__open_backends(bk)) < 0)
		goto fail;
	int version = 0;
	if ((rc = bk->store->migrate(&version, bk->store)) < 0)
		goto fail;
	if ((rc = booking__store_clock_open(bk, opts)) < 0 || (rc = booking__rate_open(bk)) < 0)
		goto fail;
	char store_url[512], events_url[512], lock_url[512]; /* URLs may carry passwords: never log them */
	booking__log(bk, NULL, BOOKING_LOG_DEBUG, "opened",
	             json_pack("{s:s,s:s,s:s,s:i,s:s}", "store", booking__url_redact(bk->cfg.store_url, store_url, sizeof(store_url)),
	                       "events", booking__url_redact(bk->cfg.events_url, events_url, sizeof(events_url)), "locks",
	                       booking__url_redact(bk->cfg.lock_url, lock_url, sizeof(lock_url)), "schema_version", version,
	                       "clock", bk->store_clock ? "store" : opts->clock ? "injected" : "host"));
	booking_options_free(env_opts);
	*out = bk;
	return 0;
fail:
	booking_close(bk);
	booking_options_free(env_opts);
	return rc;
}

void booking_close(booking_handle *bk)
{
	if (!bk)
		return;
	booking__store_clock_close(bk); /* its thread reads the store */
	if (bk->store && bk->store->free)
		bk->store->free(bk->store);
	if (bk->locks && bk->locks->free)
		bk->locks->free(bk->locks);
	if (bk->publisher && bk->publisher->free)
		bk->publisher->free(bk->publisher);
	if (bk->gateway && bk->gateway->free)
		bk->gateway->free(bk->gateway);
	booking__obs_free(bk->obs); /* after the backends: their decorators use it */
	booking__config_clear(&bk->cfg);
	pthread_mutex_destroy(&bk->consume_lock);
	booking__showtime_cache_free(bk->showtimes);
	booking__auth_close(bk);
	booking__rate_close(bk);
	sodium_memzero(bk->payment_key, sizeof(bk->payment_key));
	booking_free(bk);
}

booking_error_code booking_migrate(int *version_out, booking_handle *bk)
{
	if (version_out)
		*version_out = 0; /* what a failure leaves, whatever the store wrote */
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc = bk->store->migrate(version_out, bk->store);
	if (rc < 0 && version_out)
		*version_out = 0;
	return rc;
}

booking_error_code booking_describe(char **json_out, booking_handle *bk)
{
	if (json_out)
		*json_out = NULL;
	if (!json_out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "describe: NULL argument");
	unsigned long failures = booking__json_failures();
	/* never a password: URLs may carry credentials */
	char store[512], locks[512], events[512], gateway[512];
	json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "store", booking__url_redact(bk->cfg.store_url, store, sizeof(store)),
	                      "locks", booking__url_redact(bk->cfg.lock_url, locks, sizeof(locks)), "events",
	                      booking__url_redact(bk->cfg.events_url, events, sizeof(events)), "gateway",
	                      booking__url_redact(bk->cfg.gateway_url, gateway, sizeof(gateway)));
	return booking__json_out(json_out, o, failures);
}
