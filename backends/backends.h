/*
 * Constructors of the built-in backends, for backends/builtin.c, which
 * registers them with booking_backend_register(). Backends include only
 * <booking/sys/...> and this header, never core internals.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_BACKENDS_H
#define BOOKING_BACKENDS_H

#include <booking/sys/backend.h>

/* builtin.c: register every built-in backend; the core calls it once (src/schemes.c). */
void booking__backends_register_builtin(void);

/* memory: — in-process, thread-safe, state lives as long as the object. */
int booking__memory_store_new(booking_store **out);
int booking__memory_lock_manager_new(booking_lock_manager **out, const booking_clock *clock);
int booking__memory_publisher_new(booking_event_publisher **out, const booking_clock *clock);

/* simulated: — the test-card gateway. */
int booking__simulated_gateway_new(booking_payment_gateway **out);

/*
 * sqlite: — the whole URL: sqlite:///path/file.db or sqlite::memory:, then
 * its parameters (pool, pool_timeout, synchronous; sqlite/store.c).
 */
int booking__sqlite_store_new(booking_store **out, const char *url);

/*
 * postgresql: — the whole URL: a libpq connection URI, plus the store's own
 * parameters (pool, pool_timeout, statement_timeout; postgres/store.c),
 * which are taken out before the rest reaches libpq.
 */
int booking__pg_store_new(booking_store **out, const char *url);

/* redis:// — lock manager (EVALSHA scripts) and Redis Streams publisher. */
int booking__redis_lock_manager_new(booking_lock_manager **out, const char *url, const booking_clock *clock);
int booking__redis_publisher_new(booking_event_publisher **out, const char *url, const booking_clock *clock);

#endif
