/*
 * The registered URL schemes (sys/registry.h): one table for the process.
 *
 * This is the one piece of global mutable state in the core besides the
 * thread-local error record: a backend is registered for the process, not
 * for a handle, because a URL names it before any handle exists
 * (booking_options_from_env() checks schemes). The table is fixed-size so
 * registering allocates nothing and may happen before booking_set_allocator().
 *
 * The built-in backends register through booking_backend_register() from
 * backends/builtin.c, once, on the first use of the table — not from a
 * load-time constructor, which a static link would drop along with the
 * otherwise unreferenced object file.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct scheme_entry {
	bool used;
	char scheme[BOOKING_BACKEND_SCHEME_MAX + 1];
	booking_backend_def def; /* def.scheme points at `scheme` above */
} scheme_entry;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static scheme_entry table[BOOKING_BACKEND_MAX]; /* registration order: the order error messages list */
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
/* set while this thread registers the built-ins, whose register calls must not wait on builtin_once */
static _Thread_local bool registering_builtin;

static void register_builtin(void)
{
	registering_builtin = true;
	booking__backends_register_builtin();
	registering_builtin = false;
}

static void ensure_builtin(void)
{
	if (!registering_builtin)
		pthread_once(&builtin_once, register_builtin);
}

static bool provides(const booking_backend_def *def, booking__backend_kind kind)
{
	switch (kind) {
	case BOOKING__STORE:
		return def->store != NULL;
	case BOOKING__LOCK_MANAGER:
		return def->lock_manager != NULL;
	case BOOKING__EVENT_PUBLISHER:
		return def->event_publisher != NULL;
	case BOOKING__PAYMENT_GATEWAY:
		return def->payment_gateway != NULL;
	}
	return false;
}

static const booking__backend_kind all_kinds[] = {BOOKING__STORE, BOOKING__LOCK_MANAGER, BOOKING__EVENT_PUBLISHER,
                                                  BOOKING__PAYMENT_GATEWAY};

/* RFC 3986 scheme characters, lower case only so that matching can stay exact. */
static bool scheme_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > BOOKING_BACKEND_SCHEME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int def_check(const booking_backend_def *def)
{
	if (!def)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "backend_register: def is NULL");
	if (def->version == 0 || def->version > BOOKING_BACKEND_DEF_VERSION)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"version\"}",
		                         "backend_register: version %u not supported (1..%u)", def->version,
		                         BOOKING_BACKEND_DEF_VERSION);
	/* calling a version 1 store constructor with a clock where it expects options would be undefined */
	if (def->version < 2 && def->store)
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"version\"}",
		                         "backend_register: a version 1 def's store constructor takes booking_options; "
		                         "rebuild it against this <booking/sys/registry.h> (version %u: it takes the clock)",
		                         BOOKING_BACKEND_DEF_VERSION);
	if (!def->scheme || !scheme_valid(def->scheme))
		return booking_error_set(BOOKING_EVALIDATION, "{\"field\":\"scheme\"}",
		                         "backend_register: scheme must be a lower-case letter, then lower-case letters, "
		                         "digits, '+', '-' or '.', at most %d bytes, without the ':'",
		                         BOOKING_BACKEND_SCHEME_MAX);
	bool any = false;
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++)
		any = any || provides(def, all_kinds[k]);
	if (!any)
		return booking_error_set(BOOKING_EVALIDATION, NULL,
		                         "backend_register: scheme \"%s\" provides no constructor", def->scheme);
	return 0;
}

static const scheme_entry *find_locked(const char *scheme, size_t len, booking__backend_kind kind)
{
	for (size_t i = 0; i < BOOKING_BACKEND_MAX; i++)
		if (table[i].used && strlen(table[i].scheme) == len && memcmp(table[i].scheme, scheme, len) == 0 &&
		    provides(&table[i].def, kind))
			return &table[i];
	return NULL;
}

static const char *kind_name(booking__backend_kind kind)
{
	switch (kind) {
	case BOOKING__STORE:
		return "store";
	case BOOKING__LOCK_MANAGER:
		return "lock manager";
	case BOOKING__EVENT_PUBLISHER:
		return "event publisher";
	case BOOKING__PAYMENT_GATEWAY:
		return "payment gateway";
	}
	return "backend";
}

static int register_locked(const booking_backend_def *def)
{
	size_t len = strlen(def->scheme);
	for (size_t k = 0; k < sizeof(all_kinds) / sizeof(all_kinds[0]); k++) {
		booking__backend_kind kind = all_kinds[k];
		if (!provides(def, kind))
			continue;
		/* "store:" events are the store's own outbox, read by the core: no publisher may take the name */
		bool reserved = kind == BOOKING__EVENT_PUBLISHER && strcmp(def->scheme, "store") == 0;
		if (reserved || find_locked(def->scheme, len, kind))
			return booking_error_set(BOOKING_EEXISTS, "{\"field\":\"scheme\"}",
			                         "backend_register: a %s is already registered for \"%s:\"%s",
			                         kind_name(kind), def->scheme, reserved ? " (reserved by the core)" : "");
	}
	for (size_t i = 0; i < BOOKING_BACKEND_MAX; i++) {
		if (table[i].used)
			continue;
		scheme_entry *e = &table[i];
		memcpy(e->scheme, def->scheme, len + 1);
		e->def = *def;
		e->def.scheme = e->scheme;
		e->used = true;
		return 0;
	}
	return booking_error_set(BOOKING_ENOMEM, NULL, "backend_register: the registry is full (%d backends)",
	                         BOOKING_BACKEND_MAX);
}

booking_error_code booking_backend_register(const booking_backend_def *def)
{
	int rc = def_check(def);
	if (rc < 0)
		return rc;
	ensure_builtin();
	pthread_mutex_lock(&table_lock);
	rc = register_locked(def);
	pthread_mutex_unlock(&table_lock);
	return rc;
}

booking_error_code booking_backend_unregister(const char *scheme)
{
	if (!scheme)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "backend_unregister: scheme is NULL");
	ensure_builtin();
	bool found = false;
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < BOOKING_BACKEND_MAX; i++)
		if (table[i].used && strcmp(table[i].scheme, scheme) == 0) {
			memset(&table[i], 0, sizeof(table[i]));
			found = true;
		}
	pthread_mutex_unlock(&table_lock);
	if (!found)
		return booking_error_set(BOOKING_ENOTFOUND, "{\"field\":\"scheme\"}",
		                         "backend_unregister: nothing is registered for \"%s:\"", scheme);
	return 0;
}

bool booking__backend_find(booking__backend_kind kind, const char *url, booking_backend_def *out)
{
	const char *colon = url ? strchr(url, ':') : NULL;
	if (!colon)
		return false;
	ensure_builtin();
	pthread_mutex_lock(&table_lock);
	const scheme_entry *e = find_locked(url, (size_t)(colon - url), kind);
	if (e && out) {
		*out = e->def;
		out->scheme = NULL; /* the table's copy may go with an unregister once the lock is dropped */
	}
	pthread_mutex_unlock(&table_lock);
	return e != NULL;
}

void booking__backend_schemes(booking__backend_kind kind, char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = '\0';
	ensure_builtin();
	pthread_mutex_lock(&table_lock);
	for (size_t i = 0; i < BOOKING_BACKEND_MAX; i++) {
		if (!table[i].used || !provides(&table[i].def, kind))
			continue;
		size_t at = strlen(buf);
		snprintf(buf + at, size - at, "%s%s:", at ? ", " : "", table[i].scheme);
	}
	pthread_mutex_unlock(&table_lock);
}
