/*
 * The built-in backends, registered through the public
 * booking_backend_register() like any other (sys/registry.h). The core
 * calls booking__backends_register_builtin() once, on the registry's first
 * use; it is the only function of backends/ the core calls by name.
 * SPDX-License-Identifier: MIT
 */
#include "backends.h"

#include "booking_config.h"

#include <stdio.h>
#include <string.h>

/* "memory:" and "simulated:" take nothing after the colon. */
static int bare_scheme(const char *url, const char *scheme, const char *field)
{
	if (strcmp(url, scheme) == 0)
		return 0;
	char details[64];
	snprintf(details, sizeof(details), "{\"field\":\"%s\"}", field);
	return booking_error_set(BOOKING_EVALIDATION, details, "%s: \"%s\" takes nothing after the colon", field, scheme);
}

/* ---- memory: ---------------------------------------------------------- */

static int memory_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)clock;
	(void)payload;
	int rc = bare_scheme(url, "memory:", "store_url");
	return rc < 0 ? rc : booking__memory_store_new(out);
}

static int memory_locks(booking_lock_manager **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)payload;
	int rc = bare_scheme(url, "memory:", "lock_url");
	return rc < 0 ? rc : booking__memory_lock_manager_new(out, clock);
}

static int memory_events(booking_event_publisher **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)payload;
	int rc = bare_scheme(url, "memory:", "events_url");
	return rc < 0 ? rc : booking__memory_publisher_new(out, clock);
}

/* ---- simulated: ------------------------------------------------------- */

static int simulated_gateway(booking_payment_gateway **out, const char *url, void *payload)
{
	(void)payload;
	int rc = bare_scheme(url, "simulated:", "gateway_url");
	return rc < 0 ? rc : booking__simulated_gateway_new(out);
}

/* ---- sqlite:, postgresql:, postgres:, redis: ------------------------- */

/* A backend left out of the build (-Dpostgresql=disabled) answers this in place of its constructor. */
#define NOT_BUILT(field, what)                                                                                     \
	booking_error_set(BOOKING_ENOTSUPPORTED, NULL, field ": this libbooking was built without " what)
#if !HAVE_SQLITE
#define booking__sqlite_store_new(out, url) ((void)(out), (void)(url), NOT_BUILT("store_url", "SQLite"))
#endif
#if !HAVE_POSTGRESQL
#define booking__pg_store_new(out, url) ((void)(out), (void)(url), NOT_BUILT("store_url", "PostgreSQL"))
#endif
#if !HAVE_REDIS
#define booking__redis_lock_manager_new(out, url, clock)                                                           \
	((void)(out), (void)(url), (void)(clock), NOT_BUILT("lock_url", "Redis"))
#define booking__redis_publisher_new(out, url, clock)                                                              \
	((void)(out), (void)(url), (void)(clock), NOT_BUILT("events_url", "Redis"))
#endif

/* The URL, its path and its parameters are the store's to read (sqlite/store.c). */
static int sqlite_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)clock;
	(void)payload;
	return booking__sqlite_store_new(out, url);
}

/* `url` is a libpq connection URI plus the store's own parameters (postgres/store.c). */
static int pg_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)clock;
	(void)payload;
	return booking__pg_store_new(out, url);
}

static int redis_locks(booking_lock_manager **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)payload;
	return booking__redis_lock_manager_new(out, url, clock);
}

static int redis_events(booking_event_publisher **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)payload;
	return booking__redis_publisher_new(out, url, clock);
}

/*
 * A backend left out of the build still registers its scheme, with a
 * constructor that answers BOOKING_ENOTSUPPORTED: "built without SQLite"
 * says more than "unknown scheme", and booking_options_from_env() accepts
 * the same URLs whatever was built.
 */
void booking__backends_register_builtin(void)
{
	static const booking_backend_def builtin[] = {
		{.version = BOOKING_BACKEND_DEF_VERSION,
		 .scheme = "memory",
		 .store = memory_store,
		 .lock_manager = memory_locks,
		 .event_publisher = memory_events},
		{.version = BOOKING_BACKEND_DEF_VERSION, .scheme = "sqlite", .store = sqlite_store},
		{.version = BOOKING_BACKEND_DEF_VERSION, .scheme = "postgresql", .store = pg_store},
		{.version = BOOKING_BACKEND_DEF_VERSION, .scheme = "postgres", .store = pg_store},
		{.version = BOOKING_BACKEND_DEF_VERSION,
		 .scheme = "redis",
		 .lock_manager = redis_locks,
		 .event_publisher = redis_events},
		{.version = BOOKING_BACKEND_DEF_VERSION, .scheme = "simulated", .payment_gateway = simulated_gateway},
	};
	/* cannot fail: an empty table, valid defs, no allocation */
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		(void)booking_backend_register(&builtin[i]);
}
