/*
 * What the redis:// backends promise beyond the conformance suites: scripts
 * survive SCRIPT FLUSH, lock keys are hash-tagged per showtime, TTLs are in
 * milliseconds, a dead or stalled Redis is reported fast and a hold still
 * goes through the store, over-delivered messages land in the dead-letter
 * stream, and the consumer runner applies every event once.
 *
 * Run by with-redis.sh: BOOKING_TEST_REDIS_URL is a server of this program;
 * BOOKING_TEST_REDIS_SCRIPT starts private ones (for the tests that kill
 * them). Each test uses keys, streams and groups of its own.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---------- helpers ---------- */

static const char *redis_url(void)
{
	const char *u = getenv("BOOKING_TEST_REDIS_URL");
	ck_assert_msg(u && *u, "BOOKING_TEST_REDIS_URL is not set: run through tests/redis/with-redis.sh");
	return u;
}

static int url_port(const char *url)
{
	const char *p = strrchr(url, ':');
	ck_assert_ptr_nonnull(p);
	return atoi(p + 1);
}

static redisContext *raw_connect(const char *url)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", url_port(url), tv);
	ck_assert_msg(c && !c->err, "cannot connect to %s: %s", url, c ? c->errstr : "oom");
	return c;
}

/* A command that must not fail; the caller frees the reply. */
static redisReply *raw(redisContext *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "redis: %s", c->errstr);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "redis: %s", r->str);
	return r;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A fresh id for keys, streams and groups of one test. */
static void unique(char out[BOOKING_ID_SIZE])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	booking_uuid_v7(out, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The URL under test with extra query parameters. */
static void url_with(char *out, size_t n, const char *base, const char *query)
{
	snprintf(out, n, "%s%s%s", base, strchr(base, '?') ? "&" : "?", query);
}

/* Start a private redis-server; its URL goes to out. */
static void private_start(char *out, size_t n)
{
	const char *script = getenv("BOOKING_TEST_REDIS_SCRIPT");
	char cmd[1024];
	ck_assert_msg(script && *script, "BOOKING_TEST_REDIS_SCRIPT is not set");
	snprintf(cmd, sizeof(cmd), "'%s' start", script);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(fgets(out, (int)n, p) != NULL, "redis-server.sh start printed nothing");
	ck_assert_int_eq(pclose(p), 0);
	out[strcspn(out, "\r\n")] = '\0';
}

static void private_stop(const char *url)
{
	const char *script = getenv("BOOKING_TEST_REDIS_SCRIPT");
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", script, url);
	ck_assert_int_eq(system(cmd), 0);
}

static booking_lock_manager *lock_open(const char *url, const booking_clock *clock)
{
	booking_lock_manager *lm = NULL;
	int rc = booking_lock_manager_open(&lm, url, clock);
	ck_assert_msg(rc == 0, "lock_manager_open(%s): %s: %s", url, fx_name(rc), booking_error_last()->message);
	return lm;
}

static booking_event_publisher *pub_open(const char *url, const booking_clock *clock)
{
	booking_event_publisher *p = NULL;
	int rc = booking_event_publisher_open(&p, url, clock);
	ck_assert_msg(rc == 0, "publisher_open(%s): %s: %s", url, fx_name(rc), booking_error_last()->message);
	return p;
}

typedef struct seen {
	char msg_id[8][64];
	char event_id[8][BOOKING_ID_SIZE];
	int deliveries[8];
	size_t n;
} seen;

static int take(const booking_message *m, void *payload)
{
	seen *s = payload;
	if (s->n < 8) {
		snprintf(s->msg_id[s->n], sizeof(s->msg_id[0]), "%s", m->msg_id);
		snprintf(s->event_id[s->n], sizeof(s->event_id[0]), "%s", m->event_id);
		s->deliveries[s->n] = m->deliveries;
	}
	s->n++;
	return 0;
}

#define TTL (30 * FX_SECOND)

/* ---------- scripts ---------- */

START_TEST(scripts_are_reloaded_after_script_flush)
{
	char st[BOOKING_ID_SIZE], k0[128], k1[128], ev[BOOKING_ID_SIZE], stream_url[700];
	unique(st);
	snprintf(k0, sizeof(k0), "seat:%s:A1", st);
	snprintf(k1, sizeof(k1), "seat:%s:A2", st);
	const char *k[2] = {k0, k1};
	redisContext *rc = raw_connect(redis_url());
	booking_lock_manager *lm = lock_open(redis_url(), NULL);

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	freeReplyObject(raw(rc, "SCRIPT FLUSH"));
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-b", TTL), "LOCK_BUSY");
	freeReplyObject(raw(rc, "SCRIPT FLUSH"));
	ck_assert_ok(lm->extend(lm, k, 2, "owner-a", TTL));
	freeReplyObject(raw(rc, "SCRIPT FLUSH"));
	ck_assert_ok(lm->release_all(lm, k, 2, "owner-a"));
	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-b", TTL));
	lm->free(lm);

	/* the publisher's scripts too */
	url_with(stream_url, sizeof(stream_url), redis_url(), "stream=test:flush");
	snprintf(stream_url + strlen(stream_url), 64, "-%.8s", st);
	booking_event_publisher *p = pub_open(stream_url, NULL);
	seen s = {0};
	unique(ev);
	ck_assert_ok(p->publish(p, ev, "reservation.created", "{}"));
	freeReplyObject(raw(rc, "SCRIPT FLUSH"));
	ck_assert_ok(p->read_group(p, "g", "c1", 10, take, &s));
	ck_assert_uint_eq(s.n, 1);
	freeReplyObject(raw(rc, "SCRIPT FLUSH"));
	ck_assert_ok(p->claim_stale(p, "g", "c2", 0, 10, take, &s));
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(s.deliveries[1], 2);
	p->free(p);
	redisFree(rc);
}
END_TEST

/* ---------- keys ---------- */

START_TEST(seat_keys_are_hash_tagged_by_showtime)
{
	char st[BOOKING_ID_SIZE], k0[128], k1[128], want[160], pattern[160];
	unique(st);
	snprintf(k0, sizeof(k0), "seat:%s:A1", st);
	snprintf(k1, sizeof(k1), "seat:%s:B10", st);
	const char *k[2] = {k0, k1};
	redisContext *rc = raw_connect(redis_url());
	booking_lock_manager *lm = lock_open(redis_url(), NULL);

	ck_assert_ok(lm->acquire_all(lm, k, 2, "owner-a", TTL));
	snprintf(pattern, sizeof(pattern), "*%s*", st);
	redisReply *r = raw(rc, "KEYS %s", pattern);
	ck_assert_int_eq(r->type, REDIS_REPLY_ARRAY);
	ck_assert_uint_eq(r->elements, 2);
	for (size_t i = 0; i < 2; i++) {
		const char *key = r->element[i]->str;
		snprintf(want, sizeof(want), "booking:{%s}:seat:", st);
		ck_assert_msg(strncmp(key, want, strlen(want)) == 0, "key %s is not hash-tagged by the showtime", key);
	}
	freeReplyObject(r);
	snprintf(want, sizeof(want), "booking:{%s}:seat:B10", st);
	r = raw(rc, "HGET %s owner", want);
	ck_assert_str_eq(r->str, "owner-a");
	freeReplyObject(r);
	ck_assert_ok(lm->release_all(lm, k, 2, "owner-a"));
	r = raw(rc, "KEYS %s", pattern);
	ck_assert_uint_eq(r->elements, 0);
	freeReplyObject(r);
	lm->free(lm);
	redisFree(rc);
}
END_TEST

START_TEST(ttl_is_in_milliseconds_and_redis_expires_keys)
{
	char st[BOOKING_ID_SIZE], k0[128], key[160];
	unique(st);
	snprintf(k0, sizeof(k0), "seat:%s:A1", st);
	snprintf(key, sizeof(key), "booking:{%s}:seat:A1", st);
	const char *k[1] = {k0};
	redisContext *rc = raw_connect(redis_url());
	booking_lock_manager *lm = lock_open(redis_url(), NULL); /* system clock: Redis decides expiry */

	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", 400));
	redisReply *r = raw(rc, "PTTL %s", key);
	ck_assert_msg(r->integer > 0 && r->integer <= 400, "PTTL %lld", r->integer);
	freeReplyObject(r);
	ck_assert_ok(lm->extend(lm, k, 1, "owner-a", 5000));
	r = raw(rc, "PTTL %s", key);
	ck_assert_msg(r->integer > 400 && r->integer <= 5000, "PTTL after extend %lld", r->integer);
	freeReplyObject(r);
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", 300));
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", 300), "LOCK_BUSY");
	struct timespec ts = {0, 450 * 1000000L};
	nanosleep(&ts, NULL);
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-b", 300));
	ck_assert_code(lm->extend(lm, k, 1, "owner-a", 300), "LOCK_BUSY");
	lm->free(lm);
	redisFree(rc);
}
END_TEST

START_TEST(broken_connections_are_replaced_transparently)
{
	char st[BOOKING_ID_SIZE], k0[128];
	unique(st);
	snprintf(k0, sizeof(k0), "seat:%s:A1", st);
	const char *k[1] = {k0};
	redisContext *rc = raw_connect(redis_url());
	booking_lock_manager *lm = lock_open(redis_url(), NULL);

	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
	/* drop every other client: the manager's pooled connection is now dead */
	freeReplyObject(raw(rc, "CLIENT KILL TYPE normal SKIPME yes"));
	ck_assert_ok(lm->release_all(lm, k, 1, "owner-a"));
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-b", TTL));
	lm->free(lm);
	redisFree(rc);
}
END_TEST

/* ---------- Redis down ---------- */

typedef struct log_count {
	int lock_warnings;
} log_count;

static void count_logs(booking_log_level level, const char *line, void *payload)
{
	log_count *c = payload;
	if (level == BOOKING_LOG_WARNING && strstr(line, "lock manager unavailable"))
		c->lock_warnings++;
}

START_TEST(killed_redis_is_reported_fast_and_holds_go_through_the_store)
{
	char url[256], st[BOOKING_ID_SIZE], k0[128];
	private_start(url, sizeof(url));
	unique(st);
	snprintf(k0, sizeof(k0), "seat:%s:A1", st);
	const char *k[1] = {k0};
	booking_lock_manager *lm = lock_open(url, NULL);
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL)); /* a pooled connection now exists */
	private_stop(url);

	for (int i = 0; i < 3; i++) {
		int64_t t0 = mono_ms();
		ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", TTL), "SERVICE_UNAVAILABLE");
		int64_t took = mono_ms() - t0;
		ck_assert_msg(took < 3000, "acquire_all took %lld ms with redis down", (long long)took);
		fprintf(stderr, "redis down: acquire_all answered SERVICE_UNAVAILABLE in %lld ms\n", (long long)took);
	}
	ck_assert_code(lm->release_all(lm, k, 1, "owner-a"), "SERVICE_UNAVAILABLE");
	ck_assert_code(lm->extend(lm, k, 1, "owner-a", TTL), "SERVICE_UNAVAILABLE");
	lm->free(lm);

	/* a handle whose lock manager is that dead server: holds still succeed, the log says so once */
	fx f;
	log_count logs = {0};
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.store_url = "memory:";
	o.lock_url = url;
	o.log_fn = count_logs;
	o.log_payload = &logs;
	o.log_level = BOOKING_LOG_WARNING;
	fx_open(&f, &o);
	fx_seed(&f);
	const char *seats[3] = {"A1", "A2", "B5"};
	for (int i = 0; i < 3; i++) {
		char id[BOOKING_ID_SIZE];
		int64_t t0 = mono_ms();
		fx_hold_ok(&f, "user-1", seats[i], id);
		ck_assert_msg(mono_ms() - t0 < 3000, "hold took %lld ms", (long long)(mono_ms() - t0));
	}
	ck_assert_code(fx_hold(&f, NULL, "user-2", "A1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(logs.lock_warnings, 1);
	fx_close(&f);
}
END_TEST

/* A loopback port whose accept queue is full: connects hang (SYNs dropped) until they time out. */
static int black_hole(int *port, int *filler)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(s, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s, 0), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	*filler = socket(AF_INET, SOCK_STREAM, 0); /* takes the one slot, never accepted */
	ck_assert_int_eq(connect(*filler, (struct sockaddr *)&a, sizeof(a)), 0);
	return s;
}

START_TEST(host_that_drops_connects_costs_one_connect_timeout)
{
	int port, filler, s = black_hole(&port, &filler);
	char url[128];
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0?connect_timeout_ms=300", port);
	booking_lock_manager *lm = lock_open(url, NULL);
	const char *k[1] = {"seat:s:A1"};

	int64_t t0 = mono_ms();
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-a", TTL), "SERVICE_UNAVAILABLE");
	int64_t first = mono_ms() - t0;
	ck_assert_msg(first >= 250 && first < 1400, "first call took %lld ms", (long long)first);
	/* while the connect timeout has not passed again, calls fail at once instead of waiting again */
	t0 = mono_ms();
	for (int i = 0; i < 5; i++)
		ck_assert_code(lm->acquire_all(lm, k, 1, "owner-a", TTL), "SERVICE_UNAVAILABLE");
	int64_t next = mono_ms() - t0;
	fprintf(stderr, "host dropping connects: first call %lld ms, 5 more in %lld ms: %s\n", (long long)first,
	        (long long)next, booking_error_last()->message);
	/* 5 calls that each waited out the 300 ms connect timeout would take 1500 ms */
	ck_assert_msg(next < 1200, "5 more calls took %lld ms", (long long)next);
	lm->free(lm);
	close(filler);
	close(s);
}
END_TEST

START_TEST(stalled_redis_times_out)
{
	char st[BOOKING_ID_SIZE], k0[128], url[700];
	unique(st);
	snprintf(k0, sizeof(k0), "seat:%s:A1", st);
	const char *k[1] = {k0};
	url_with(url, sizeof(url), redis_url(), "timeout_ms=300");
	redisContext *rc = raw_connect(redis_url());
	booking_lock_manager *lm = lock_open(url, NULL);
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));

	freeReplyObject(raw(rc, "CLIENT PAUSE 1500 ALL"));
	int64_t t0 = mono_ms();
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-a", TTL), "SERVICE_UNAVAILABLE");
	int64_t took = mono_ms() - t0;
	ck_assert_msg(took >= 250 && took < 1400, "timed out after %lld ms (the pause lasts 1500)", (long long)took);
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "timed out"));
	fprintf(stderr, "redis paused: %s (%lld ms)\n", booking_error_last()->message, (long long)took);
	freeReplyObject(raw(rc, "CLIENT UNPAUSE"));
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL)); /* reconnected */
	lm->free(lm);
	redisFree(rc);
}
END_TEST

/* ---------- URLs ---------- */

START_TEST(bad_urls_are_validation_errors)
{
	static const char *const bad[] = {
	    "redis:/127.0.0.1",          "redis://127.0.0.1:0",        "redis://127.0.0.1:70000",
	    "redis://127.0.0.1:x",       "redis://127.0.0.1/db",       "redis://127.0.0.1/0?nope=1",
	    "redis://127.0.0.1/0?maxlen=0", "redis://127.0.0.1/0?pool=0", "redis://127.0.0.1/0?stream=",
	    "redis://user@127.0.0.1/0",  "redis://[::1/0",             "redis://127.0.0.1/0?max_deliveries=-1",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		booking_lock_manager *lm = NULL;
		booking_event_publisher *p = NULL;
		ck_assert_code(booking_lock_manager_open(&lm, bad[i], NULL), "VALIDATION_ERROR");
		ck_assert_ptr_null(lm);
		ck_assert_code(booking_event_publisher_open(&p, bad[i], NULL), "VALIDATION_ERROR");
		ck_assert_ptr_null(p);
	}
	/* good ones open without connecting */
	static const char *const good[] = {"redis://", "redis://localhost", "redis://:secret@127.0.0.1:1/3?pool=2",
	                                   "redis://u:p@[::1]:6380/0?stream=s&maxlen=5&max_deliveries=3&timeout_ms=100"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		booking_lock_manager *lm = lock_open(good[i], NULL);
		lm->free(lm);
	}
}
END_TEST

START_TEST(bad_parameters_are_refused_naming_the_url_field_and_the_parameter)
{
	static const struct {
		const char *query, *parameter, *says;
	} bad[] = {
	    {"timeout_ms=9", "timeout_ms", "timeout_ms=\"9\": must be an integer in 10..60000"},
	    {"connect_timeout_ms=60001", "connect_timeout_ms", "must be an integer in 10..60000"},
	    {"pool=65", "pool", "must be an integer in 1..64"},
	    {"maxlen=1000000000001", "maxlen", "must be an integer in 1..1000000000000"},
	    {"timeout=100", "timeout", "unknown parameter \"timeout\""},
	    {"pool=2&db=3", "db", "unknown parameter \"db\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char url[200], parameter[64];
		snprintf(url, sizeof(url), "redis://127.0.0.1:1/0?%s", bad[i].query);
		snprintf(parameter, sizeof(parameter), "\"parameter\":\"%s\"", bad[i].parameter);
		booking_lock_manager *lm = NULL;
		ck_assert_code(booking_lock_manager_open(&lm, url, NULL), "VALIDATION_ERROR");
		const booking_error *e = booking_error_last();
		ck_assert_msg(strncmp(e->message, "lock_url: ", 10) == 0 && strstr(e->message, bad[i].says), "%s: %s", url,
		              e->message);
		ck_assert_msg(strstr(e->details_json, "\"field\":\"lock_url\"") && strstr(e->details_json, parameter),
		              "%s: %s", url, e->details_json);
		booking_event_publisher *p = NULL;
		ck_assert_code(booking_event_publisher_open(&p, url, NULL), "VALIDATION_ERROR");
		ck_assert_msg(strncmp(booking_error_last()->message, "events_url: ", 12) == 0, "%s: %s", url,
		              booking_error_last()->message);
		ck_assert_msg(strstr(booking_error_last()->details_json, "\"field\":\"events_url\""), "%s: %s", url,
		              booking_error_last()->details_json);
	}
	/* the URL's other mistakes name the field too */
	booking_lock_manager *lm = NULL;
	ck_assert_code(booking_lock_manager_open(&lm, "redis://127.0.0.1:70000", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->details_json, "\"field\":\"lock_url\""));
}
END_TEST

START_TEST(parameters_are_percent_decoded)
{
	char st[BOOKING_ID_SIZE], ev[BOOKING_ID_SIZE], url[700], query[160], stream[160];
	unique(st);
	/* stream "test:enc&<id>" written as test%3Aenc%26<id>; timeout_ms 5000 as %35000 */
	snprintf(query, sizeof(query), "stream=test%%3Aenc%%26%s&timeout_ms=%%35000", st);
	snprintf(stream, sizeof(stream), "test:enc&%s", st);
	url_with(url, sizeof(url), redis_url(), query);
	booking_event_publisher *p = pub_open(url, NULL);
	unique(ev);
	ck_assert_ok(p->publish(p, ev, "reservation.created", "{}"));
	redisContext *rc = raw_connect(redis_url());
	redisReply *r = raw(rc, "XLEN %s", stream);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	ck_assert_int_eq(r->integer, 1);
	freeReplyObject(r);
	p->free(p);
	redisFree(rc);
}
END_TEST

START_TEST(password_and_database_of_the_url_are_used)
{
	char url[256], good[400], bad[400];
	private_start(url, sizeof(url));
	int port = url_port(url);
	redisContext *rc = raw_connect(url);
	freeReplyObject(raw(rc, "CONFIG SET requirepass s3cret"));
	const char *k[1] = {"seat:st:A1"};

	snprintf(good, sizeof(good), "redis://:s3cret@127.0.0.1:%d/3", port);
	booking_lock_manager *lm = lock_open(good, NULL);
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
	lm->free(lm);
	freeReplyObject(raw(rc, "SELECT 3"));
	redisReply *r = raw(rc, "HGET booking:{st}:seat:A1 owner");
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(r->str, "owner-a");
	freeReplyObject(r);

	snprintf(bad, sizeof(bad), "redis://:wrong@127.0.0.1:%d/3", port);
	lm = lock_open(bad, NULL);
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", TTL), "SERVICE_UNAVAILABLE");
	ck_assert_ptr_null(strstr(booking_error_last()->message, "wrong")); /* never a password in a message */
	lm->free(lm);
	redisFree(rc);
	private_stop(url);
}
END_TEST

/* ---------- events ---------- */

START_TEST(over_delivered_message_goes_to_the_dead_letter_stream)
{
	char u[BOOKING_ID_SIZE], ev[BOOKING_ID_SIZE], q[128], url[700], stream[96];
	unique(u);
	snprintf(stream, sizeof(stream), "test:dl:%s", u);
	snprintf(q, sizeof(q), "stream=%s&max_deliveries=2", stream);
	url_with(url, sizeof(url), redis_url(), q);
	redisContext *rc = raw_connect(redis_url());
	booking_event_publisher *p = pub_open(url, NULL);
	seen s = {0};

	unique(ev);
	ck_assert_ok(p->publish(p, ev, "reservation.created", "{\"poison\":true}"));
	ck_assert_ok(p->read_group(p, "g", "c1", 10, take, &s)); /* delivery 1, never acked */
	ck_assert_ok(p->claim_stale(p, "g", "c2", 0, 10, take, &s)); /* delivery 2 */
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(s.deliveries[1], 2);
	ck_assert_ok(p->claim_stale(p, "g", "c3", 0, 10, take, &s)); /* would be 3 > 2: parked */
	ck_assert_uint_eq(s.n, 2);

	redisReply *r = raw(rc, "XRANGE %s:dead - +", stream);
	ck_assert_uint_eq(r->elements, 1);
	redisReply *fields = r->element[0]->element[1];
	const char *want[][2] = {{"event_id", ev}, {"group", "g"}, {"reason", "exceeded 2 deliveries"},
	                         {"envelope", "{\"poison\":true}"}};
	for (size_t w = 0; w < 4; w++) {
		bool found = false;
		for (size_t i = 0; i + 1 < fields->elements; i += 2)
			if (strcmp(fields->element[i]->str, want[w][0]) == 0) {
				ck_assert_str_eq(fields->element[i + 1]->str, want[w][1]);
				found = true;
			}
		ck_assert_msg(found, "dead letter has no %s", want[w][0]);
	}
	freeReplyObject(r);
	r = raw(rc, "XPENDING %s g", stream);
	ck_assert_int_eq(r->element[0]->integer, 0); /* acked, not pending any more */
	freeReplyObject(r);
	ck_assert_ok(p->claim_stale(p, "g", "c3", 0, 10, take, &s));
	ck_assert_uint_eq(s.n, 2);
	p->free(p);
	redisFree(rc);
}
END_TEST

START_TEST(stream_length_is_bounded_by_maxlen)
{
	char u[BOOKING_ID_SIZE], q[128], url[700], ev[BOOKING_ID_SIZE];
	unique(u);
	snprintf(q, sizeof(q), "stream=test:maxlen:%s&maxlen=10", u);
	url_with(url, sizeof(url), redis_url(), q);
	booking_event_publisher *p = pub_open(url, NULL);
	for (int i = 0; i < 1000; i++) {
		unique(ev);
		ck_assert_ok(p->publish(p, ev, "reservation.created", "{}"));
	}
	redisContext *rc = raw_connect(redis_url());
	redisReply *r = raw(rc, "XLEN test:maxlen:%s", u);
	/* "MAXLEN ~" trims whole nodes (100 entries by default): about 10, never 1000 */
	ck_assert_msg(r->integer >= 10 && r->integer <= 200, "XLEN %lld", r->integer);
	freeReplyObject(r);
	redisFree(rc);
	p->free(p);
}
END_TEST

START_TEST(ack_of_a_foreign_id_is_a_validation_error)
{
	booking_event_publisher *p = pub_open(redis_url(), NULL);
	ck_assert_code(p->ack(p, "g", "not-an-id"), "VALIDATION_ERROR");
	ck_assert_ok(p->ack(p, "no-such-group", "1-1"));
	p->free(p);
}
END_TEST

/* Events the handler applied, by id. */
typedef struct applied {
	char ids[64][BOOKING_ID_SIZE];
	int times[64];
	size_t n;
	int calls;
} applied;

static int apply(const booking_event *e, void *payload)
{
	applied *a = payload;
	a->calls++;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->ids[i], e->id) == 0) {
			a->times[i]++;
			return 0;
		}
	if (a->n < 64) {
		snprintf(a->ids[a->n], BOOKING_ID_SIZE, "%s", e->id);
		a->times[a->n++] = 1;
	}
	return 0;
}

static long long pending(redisContext *rc, const char *stream, const char *group)
{
	redisReply *r = raw(rc, "XPENDING %s %s", stream, group);
	long long n = r->element[0]->integer;
	freeReplyObject(r);
	return n;
}

static size_t consume_all(fx *f, const char *consumer, applied *a)
{
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	co.group = "runner";
	co.consumer = consumer;
	co.batch = 4;
	size_t total = 0, handled = 0;
	for (int i = 0; i < 50; i++) {
		ck_assert_ok(booking_consume(&handled, f->bk, &co, apply, a));
		total += handled;
		if (handled == 0 && i > 3)
			break;
	}
	return total;
}

START_TEST(consumer_runner_applies_every_event_once)
{
	char u[BOOKING_ID_SIZE], q[128], url[700], stream[96];
	unique(u);
	snprintf(stream, sizeof(stream), "test:runner:%s", u);
	snprintf(q, sizeof(q), "stream=%s", stream);
	url_with(url, sizeof(url), redis_url(), q);
	booking_options o;
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.store_url = "memory:";
	o.lock_url = redis_url();
	o.events_url = url;
	fx f;
	fx_open(&f, &o);
	fx_seed(&f);
	const char *seats[6] = {"A1", "A2", "A3", "B1", "B2", "C10"};
	for (int i = 0; i < 6; i++) {
		char id[BOOKING_ID_SIZE];
		fx_hold_ok(&f, "user-1", seats[i], id);
	}
	size_t relayed = 0;
	ck_assert_ok(booking_outbox_relay(&relayed, f.bk, 100));
	ck_assert_uint_ge(relayed, 6);

	/* a consumer that crashes: takes two messages and never acks them */
	booking_event_publisher *crash = pub_open(url, f.clock);
	seen s = {0};
	ck_assert_ok(crash->read_group(crash, "runner", "crashed", 2, take, &s));
	ck_assert_uint_eq(s.n, 2);
	crash->free(crash);

	/* every message again, as a relay that died before marking them published would send them */
	redisContext *rc = raw_connect(redis_url());
	redisReply *all = raw(rc, "XRANGE %s - +", stream);
	ck_assert_uint_eq(all->elements, relayed);
	for (size_t i = 0; i < all->elements; i++) {
		redisReply *fl = all->element[i]->element[1];
		const char *argv[32] = {"XADD", stream, "*"};
		size_t argc = 3;
		for (size_t j = 0; j < fl->elements && argc < 32; j++)
			argv[argc++] = fl->element[j]->str;
		redisReply *r = redisCommandArgv(rc, (int)argc, argv, NULL);
		ck_assert_ptr_nonnull(r);
		freeReplyObject(r);
	}
	freeReplyObject(all);

	ck_assert_int_eq(pending(rc, stream, "runner"), 2);

	/* c1 applies every event once (the copies of the crashed consumer's two included), skips the duplicates */
	applied a;
	memset(&a, 0, sizeof(a));
	ck_assert_uint_eq(consume_all(&f, "c1", &a), relayed);
	ck_assert_int_eq(pending(rc, stream, "runner"), 2);
	/* past the claim idle time (30 s): c2 takes over the crashed consumer's two, already applied */
	fx_advance(&f, 60 * FX_SECOND);
	ck_assert_uint_eq(consume_all(&f, "c2", &a), 0);
	ck_assert_int_eq(pending(rc, stream, "runner"), 0);
	ck_assert_uint_eq(a.n, relayed);
	for (size_t i = 0; i < a.n; i++)
		ck_assert_msg(a.times[i] == 1, "event %s applied %d times", a.ids[i], a.times[i]);
	ck_assert_int_eq(a.calls, (int)relayed);
	redisFree(rc);
	fx_close(&f);
}
END_TEST

/* ---------- latency ---------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* A showtime id of its own (st) and four of its seat keys ("seat:<st>:A1".."A4"), in ks, pointed at by k. */
static void seat_keys(char st[BOOKING_ID_SIZE], char ks[4][128], const char *k[4])
{
	unique(st);
	for (int i = 0; i < 4; i++) {
		snprintf(ks[i], sizeof(ks[i]), "seat:%s:A%d", st, i + 1);
		k[i] = ks[i];
	}
}

START_TEST(acquire_and_release_take_one_round_trip)
{
	enum { N = 2000 };
	static int64_t acq[N], rel[N];
	char st[BOOKING_ID_SIZE], ks[4][128];
	const char *k[4];
	seat_keys(st, ks, k);
	booking_lock_manager *lm = lock_open(redis_url(), NULL);
	ck_assert_ok(lm->release_all(lm, k, 4, "warm-up")); /* loads the script, opens the connection */
	redisContext *rc = raw_connect(redis_url());
	redisReply *r = raw(rc, "CONFIG RESETSTAT");
	freeReplyObject(r);
	for (int i = 0; i < N; i++) {
		int64_t t0 = mono_us();
		ck_assert_ok(lm->acquire_all(lm, k, 4, "owner", TTL));
		int64_t t1 = mono_us();
		ck_assert_ok(lm->release_all(lm, k, 4, "owner"));
		acq[i] = t1 - t0;
		rel[i] = mono_us() - t1;
	}
	/* one command per call: 2 N commands since the reset, all EVALSHA */
	r = raw(rc, "INFO commandstats");
	const char *evalsha = strstr(r->str, "cmdstat_evalsha:calls=");
	ck_assert_ptr_nonnull(evalsha);
	long calls = atol(evalsha + strlen("cmdstat_evalsha:calls="));
	ck_assert_int_eq(calls, 2 * N);
	freeReplyObject(r);
	qsort(acq, N, sizeof(acq[0]), cmp_i64);
	qsort(rel, N, sizeof(rel[0]), cmp_i64);
	fprintf(stderr, "latency over %d round trips (4 keys): acquire_all p50 %lld us p99 %lld us; "
	                "release_all p50 %lld us p99 %lld us\n",
	        N, (long long)acq[N / 2], (long long)acq[N * 99 / 100], (long long)rel[N / 2],
	        (long long)rel[N * 99 / 100]);
	ck_assert_int_lt(acq[N / 2], 20000);
	lm->free(lm);
	redisFree(rc);
}
END_TEST

/* --- marks: the guard remembers held seats (lock manager version 3) --------- */

static int store_holds;

static void count_holds(fx_store_wrap *w, const char *member)
{
	(void)w;
	if (strcmp(member, "hold") == 0)
		store_holds++;
}

START_TEST(marks_refuse_held_seats_in_redis_and_go_with_a_cancel_or_a_refusal)
{
	fx f;
	booking_options o;
	char held[BOOKING_ID_SIZE];
	booking_ctx alice = fx_customer("alice");

	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.payment_key_file = fx_payment_key_file();
	o.store_url = NULL;
	o.lock_url = redis_url();
	o.max_seats_per_user_showtime = 3;
	fx_open(&f, &o);
	fx_seed(&f);
	ck_assert_ptr_nonnull(f.wrap);
	f.wrap->before = count_holds;
	store_holds = 0;
	fx_hold_ok(&f, "alice", "A1,A2", held);
	ck_assert_code(fx_hold(&f, NULL, "bob", "A2,A3"), "SEAT_ALREADY_BOOKED");
	ck_assert_str_eq(booking_error_last()->message, "seat A2 is already booked");
	ck_assert_int_eq(store_holds, 1); /* Redis answered */
	/* the store refuses alice a fourth seat: that hold leaves no mark on A4 */
	ck_assert_code(fx_hold(&f, NULL, "alice", "A4,A5"), "LIMIT_REACHED");
	fx_hold_ok(&f, "bob", "A4", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 3);
	/* a cancel drops the marks */
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &alice, held));
	fx_hold_ok(&f, "bob", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 4);
	/* a mark lapses with its hold */
	fx_hold_ok(&f, "carol", "B1", (char[BOOKING_ID_SIZE]){0});
	fx_advance(&f, 15 * FX_MINUTE - 1);
	ck_assert_code(fx_hold(&f, NULL, "dave", "B1"), "SEAT_ALREADY_BOOKED");
	ck_assert_int_eq(store_holds, 5);
	fx_advance(&f, 1);
	fx_hold_ok(&f, "dave", "B1", (char[BOOKING_ID_SIZE]){0});
	ck_assert_int_eq(store_holds, 6);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	fx_close(&f);
}
END_TEST

START_TEST(acquire_all_why_and_settle_take_one_round_trip)
{
	char st[BOOKING_ID_SIZE], ks[4][128], blocker[64] = "";
	size_t blocked = 99;
	const char *k[4];
	seat_keys(st, ks, k);
	booking_lock_manager *lm = lock_open(redis_url(), NULL);
	ck_assert_uint_ge(lm->version, 3);
	ck_assert_ok(lm->release_all(lm, k, 4, "warm-up")); /* opens the connection */
	ck_assert_ok(lm->settle(lm, k, 4, "warm-up", "held:w", TTL)); /* loads the scripts */
	ck_assert_ok(lm->acquire_all_why(lm, k, 1, "warm-up", TTL, NULL, NULL, 0));
	ck_assert_ok(lm->release_all(lm, k, 1, "warm-up"));
	redisContext *rc = raw_connect(redis_url());
	redisReply *r = raw(rc, "CONFIG RESETSTAT");
	freeReplyObject(r);
	ck_assert_ok(lm->acquire_all_why(lm, k, 4, "owner", TTL, &blocked, blocker, sizeof blocker));
	ck_assert_ok(lm->settle(lm, k, 4, "owner", "held:r", TTL));
	ck_assert_code(lm->acquire_all_why(lm, k, 4, "other", TTL, &blocked, blocker, sizeof blocker), "LOCK_BUSY");
	ck_assert_uint_eq(blocked, 0);
	ck_assert_str_eq(blocker, "held:r");
	/* the mark is a real Redis key with the TTL given (ms), stored under the showtime's hash tag */
	r = raw(rc, "PTTL booking:{%s}:seat:A2", st);
	ck_assert_int_gt(r->integer, TTL - 5000);
	ck_assert_int_le(r->integer, TTL);
	freeReplyObject(r);
	r = raw(rc, "INFO commandstats");
	const char *evalsha = strstr(r->str, "cmdstat_evalsha:calls=");
	ck_assert_ptr_nonnull(evalsha);
	ck_assert_int_eq(atol(evalsha + strlen("cmdstat_evalsha:calls=")), 3);
	freeReplyObject(r);
	ck_assert_ok(lm->release_all(lm, k, 4, "held:r"));
	lm->free(lm);
	redisFree(rc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redis_specific");
	TCase *tc = tcase_create("redis");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, scripts_are_reloaded_after_script_flush);
	tcase_add_test(tc, seat_keys_are_hash_tagged_by_showtime);
	tcase_add_test(tc, ttl_is_in_milliseconds_and_redis_expires_keys);
	tcase_add_test(tc, broken_connections_are_replaced_transparently);
	tcase_add_test(tc, killed_redis_is_reported_fast_and_holds_go_through_the_store);
	tcase_add_test(tc, host_that_drops_connects_costs_one_connect_timeout);
	tcase_add_test(tc, stalled_redis_times_out);
	tcase_add_test(tc, bad_urls_are_validation_errors);
	tcase_add_test(tc, bad_parameters_are_refused_naming_the_url_field_and_the_parameter);
	tcase_add_test(tc, parameters_are_percent_decoded);
	tcase_add_test(tc, password_and_database_of_the_url_are_used);
	tcase_add_test(tc, over_delivered_message_goes_to_the_dead_letter_stream);
	tcase_add_test(tc, stream_length_is_bounded_by_maxlen);
	tcase_add_test(tc, ack_of_a_foreign_id_is_a_validation_error);
	tcase_add_test(tc, consumer_runner_applies_every_event_once);
	tcase_add_test(tc, acquire_and_release_take_one_round_trip);
	tcase_add_test(tc, marks_refuse_held_seats_in_redis_and_go_with_a_cancel_or_a_refusal);
	tcase_add_test(tc, acquire_all_why_and_settle_take_one_round_trip);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
