/*
 * libbooking resilience tests — helpers of the fault scenarios: servers
 * started, killed and restarted by the tests themselves, a big showtime,
 * concurrent buyers, and the accounting of what every payment became.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_TEST_FAULT_H
#define BOOKING_TEST_FAULT_H

#include "../fixture.h"

/* Monotonic wall time in milliseconds (durations a test measures). */
int64_t ft_mono_ms(void);

/*
 * Run a shell command; its first line of output (trimmed) into `out` (may
 * be NULL). Fails the test when it exits non-zero.
 */
void ft_sh(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Servers are started and stopped by main(), outside the tests (no Check
 * call there): false with a message on stderr when it failed.
 */
/* A redis-server on a free port (scripts/redis-server.sh): its URL into `url`. */
bool ft_redis_start(char *url, size_t n);
void ft_redis_stop(const char *url);
void ft_redis_kill(const char *url);    /* SIGKILL */
void ft_redis_restart(const char *url); /* again, on the same port */
long ft_redis_calls(const char *url, const char *command);

/* A PostgreSQL server in a new directory (scripts/pg-server.sh): its URL into `url`. */
bool ft_pg_start(char *dir, size_t dn, char *url, size_t un);
void ft_pg_destroy(const char *dir);
void ft_pg_stop_immediate(const char *dir);
void ft_pg_restart(const char *dir);
/* pg_terminate_backend() on every client backend; returns how many. */
int ft_pg_terminate(const char *dir);

/*
 * A psql session that terminates every other client backend each time
 * ft_psql_terminate() is called (one statement down its pipe); results are
 * written to `outfile`, one count per line (ft_psql_close() sums them).
 */
FILE *ft_psql_open(const char *dir, const char *outfile);
void ft_psql_terminate(FILE *psql);
long ft_psql_close(FILE *psql, const char *outfile);

/* A screen of `layout` with a showtime tomorrow (after fx_seed). */
void ft_big_showtime(fx *f, const char *layout, char showtime_id[BOOKING_ID_SIZE]);

/* The value of one series of booking_metrics() (name and labels as printed), -1 when absent. */
double ft_metric(booking_handle *bk, const char *series);
/* The breaker state of a dependency from booking_health(): "CLOSED", ... */
void ft_breaker_state(booking_handle *bk, const char *dependency, char state[16]);

/* Payments of the whole store by status, and the sums of invariant 6 (f->store->scan). */
typedef struct ft_money {
	size_t processing, succeeded, failed, refunded;
	int64_t succeeded_amount, refunded_amount, confirmed_total;
	size_t confirmed;
} ft_money;
void ft_money_of(fx *f, ft_money *m);

#endif
