/*
 * The redis:// lock manager on a Redis Cluster (URL ?cluster=1), beyond the
 * conformance suites: each hold goes straight to the node of its slot (no
 * redirection once the map is read), scripts are loaded again on each node
 * after SCRIPT FLUSH, a slot migrated mid-test is followed through ASK
 * (while it migrates) and MOVED (once it moved) with the holds intact, a
 * script whose keys span two slots is refused, a cluster URL on a plain
 * Redis or with a database fails clearly, redirections are bounded, and
 * the slot of a master that died is found on the master it went to.
 *
 * Run by with-redis.sh --cluster: BOOKING_TEST_REDIS_URL is the first node of
 * a 3-master cluster of this program; BOOKING_TEST_REDIS_SCRIPT starts a
 * plain redis-server. Redirections are counted from the nodes' own
 * INFO errorstats. Each test uses keys of its own.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define TTL (30 * FX_SECOND)

/* ---------- helpers ---------- */

static const char *cluster_url(void)
{
	const char *u = getenv("BOOKING_TEST_REDIS_URL");
	ck_assert_msg(u && strstr(u, "cluster=1"), "BOOKING_TEST_REDIS_URL is not a cluster URL: run through "
	                                           "tests/redis/with-redis.sh --cluster");
	return u;
}

static int url_port(const char *url)
{
	const char *p = strrchr(url, ':');
	ck_assert_ptr_nonnull(p);
	return atoi(p + 1);
}

static redisContext *raw_connect(int port)
{
	struct timeval tv = {2, 0};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
	ck_assert_msg(c && !c->err, "cannot connect to port %d: %s", port, c ? c->errstr : "oom");
	return c;
}

/* A command on the node at `port` that must not fail; the caller frees the reply. */
static redisReply *raw(int port, const char *fmt, ...)
{
	redisContext *c = raw_connect(port);
	va_list ap;
	va_start(ap, fmt);
	redisReply *r = redisvCommand(c, fmt, ap);
	va_end(ap);
	ck_assert_msg(r != NULL, "redis %d: %s", port, c->errstr);
	ck_assert_msg(r->type != REDIS_REPLY_ERROR, "redis %d: %s", port, r->str);
	redisFree(c);
	return r;
}

static long long raw_int(int port, const char *fmt, const char *arg)
{
	redisReply *r = raw(port, fmt, arg);
	ck_assert_int_eq(r->type, REDIS_REPLY_INTEGER);
	long long v = r->integer;
	freeReplyObject(r);
	return v;
}

/* The port of the master of `slot`, from CLUSTER SLOTS of the seed. */
static int slot_port(int slot)
{
	redisReply *r = raw(url_port(cluster_url()), "CLUSTER SLOTS");
	int port = 0;
	for (size_t i = 0; i < r->elements; i++) {
		redisReply *e = r->element[i];
		if (e->element[0]->integer <= slot && slot <= e->element[1]->integer)
			port = (int)e->element[2]->element[1]->integer;
	}
	freeReplyObject(r);
	ck_assert_int_ne(port, 0);
	return port;
}

/* The three masters' ports, the seed's first. */
static void node_ports(int ports[3])
{
	redisReply *r = raw(url_port(cluster_url()), "CLUSTER SLOTS");
	int n = 1;
	ports[0] = url_port(cluster_url());
	for (size_t i = 0; i < r->elements; i++) {
		int p = (int)r->element[i]->element[2]->element[1]->integer;
		bool known = false;
		for (int j = 0; j < n; j++)
			known = known || ports[j] == p;
		if (!known) {
			ck_assert_int_lt(n, 3);
			ports[n++] = p;
		}
	}
	freeReplyObject(r);
	ck_assert_int_eq(n, 3);
}

static void node_id(int port, char out[64])
{
	redisReply *r = raw(port, "CLUSTER MYID");
	snprintf(out, 64, "%s", r->str);
	freeReplyObject(r);
}

/* The stored key of seat `label` of showtime `st` (lock.c's mapping). */
static void stored(char *out, size_t n, const char *st, const char *label)
{
	snprintf(out, n, "booking:{%s}:seat:%s", st, label);
}

static int slot_of(const char *st)
{
	char k[300];
	stored(k, sizeof(k), st, "A1");
	return (int)raw_int(url_port(cluster_url()), "CLUSTER KEYSLOT %s", k);
}

/* A fresh showtime id whose seats live on the node at `port`. */
static void showtime_on(char out[80], int port)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char base[BOOKING_ID_SIZE];
	booking_uuid_v7(base, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	for (int i = 0; i < 1000; i++) {
		snprintf(out, 80, "%s-%d", base, i);
		if (slot_port(slot_of(out)) == port)
			return;
	}
	ck_abort_msg("no showtime id found on port %d", port);
}

/* How many errors of `kind` (MOVED, ASK) the node at `port` has answered. */
static long long errors_of(int port, const char *kind)
{
	redisReply *r = raw(port, "INFO errorstats");
	char field[64];
	snprintf(field, sizeof(field), "errorstat_%s:count=", kind);
	const char *p = strstr(r->str, field);
	long long n = p ? atoll(p + strlen(field)) : 0;
	freeReplyObject(r);
	return n;
}

static booking_lock_manager *lock_open(const char *url)
{
	booking_lock_manager *lm = NULL;
	int rc = booking_lock_manager_open(&lm, url, NULL);
	ck_assert_msg(rc == 0, "lock_manager_open(%s): %s: %s", url, fx_name(rc), booking_error_last()->message);
	return lm;
}

/* ---------- routing ---------- */

START_TEST(holds_go_to_the_node_of_their_slot_and_scripts_load_on_each_node)
{
	int ports[3];
	char st[3][80], k[3][2][300], key[300];
	node_ports(ports);
	booking_lock_manager *lm = lock_open(cluster_url());
	long long moved = 0;
	for (int i = 0; i < 3; i++)
		moved += errors_of(ports[i], "MOVED");

	for (int i = 0; i < 3; i++) {
		showtime_on(st[i], ports[i]);
		snprintf(k[i][0], sizeof(k[i][0]), "seat:%s:A1", st[i]);
		snprintf(k[i][1], sizeof(k[i][1]), "seat:%s:A2", st[i]);
		const char *both[2] = {k[i][0], k[i][1]};
		ck_assert_ok(lm->acquire_all(lm, both, 2, "owner-a", TTL));
		stored(key, sizeof(key), st[i], "A2");
		ck_assert_int_eq(raw_int(ports[i], "EXISTS %s", key), 1);
	}
	for (int i = 0; i < 3; i++)
		freeReplyObject(raw(ports[i], "SCRIPT FLUSH"));
	for (int i = 0; i < 3; i++) {
		const char *both[2] = {k[i][0], k[i][1]};
		ck_assert_code(lm->acquire_all(lm, both, 2, "owner-b", TTL), "LOCK_BUSY");
		ck_assert_ok(lm->extend(lm, both, 2, "owner-a", TTL));
		ck_assert_ok(lm->release_all(lm, both, 2, "owner-a"));
		ck_assert_ok(lm->acquire_all(lm, both, 2, "owner-b", TTL));
		ck_assert_ok(lm->register_swap(NULL, lm, k[i][0], NULL, "1", TTL));
	}
	/* the map was read once: no command needed a redirection */
	for (int i = 0; i < 3; i++)
		moved -= errors_of(ports[i], "MOVED");
	ck_assert_int_eq(moved, 0);
	lm->free(lm);
}
END_TEST

START_TEST(a_migrating_slot_is_followed_through_ask_then_moved)
{
	int ports[3];
	char st[80], a1[128], a2[128], key1[160], key2[160], ida[64], idb[64];
	node_ports(ports);
	int from = ports[1], to = ports[2];
	showtime_on(st, from);
	int slot = slot_of(st);
	snprintf(a1, sizeof(a1), "seat:%s:A1", st);
	snprintf(a2, sizeof(a2), "seat:%s:A2", st);
	stored(key1, sizeof(key1), st, "A1");
	stored(key2, sizeof(key2), st, "A2");
	node_id(from, ida);
	node_id(to, idb);
	const char *k1[1] = {a1}, *k2[1] = {a2}, *both[2] = {a1, a2};
	booking_lock_manager *lm = lock_open(cluster_url());
	ck_assert_ok(lm->acquire_all(lm, k1, 1, "owner-a", TTL)); /* the map says: `from` */

	/* the slot migrates: a key `from` does not have is asked of `to` */
	freeReplyObject(raw(to, "CLUSTER SETSLOT %d IMPORTING %s", slot, ida));
	freeReplyObject(raw(from, "CLUSTER SETSLOT %d MIGRATING %s", slot, idb));
	long long ask = errors_of(from, "ASK");
	ck_assert_ok(lm->acquire_all(lm, k2, 1, "owner-b", TTL));
	ck_assert_int_gt(errors_of(from, "ASK"), ask);
	ck_assert_code(lm->acquire_all(lm, k2, 1, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_int_eq(raw_int(from, "EXISTS %s", key1), 1); /* owner-a's still on `from`, served there */
	ck_assert_code(lm->acquire_all(lm, k1, 1, "owner-c", TTL), "LOCK_BUSY");

	/* the rest moves, and the slot is `to`'s: the client's map is stale, MOVED corrects it */
	freeReplyObject(raw(from, "MIGRATE 127.0.0.1 %d %s 0 5000 KEYS %s", to, "", key1));
	for (int i = 2; i >= 0; i--)
		freeReplyObject(raw(ports[i], "CLUSTER SETSLOT %d NODE %s", slot, idb));
	long long moved = errors_of(from, "MOVED");
	ck_assert_code(lm->acquire_all(lm, k1, 1, "owner-b", TTL), "LOCK_BUSY"); /* owner-a's hold moved with its key */
	ck_assert_int_gt(errors_of(from, "MOVED"), moved);
	ck_assert_ok(lm->release_all(lm, k1, 1, "owner-a"));
	ck_assert_ok(lm->acquire_all(lm, both, 2, "owner-b", TTL));
	ck_assert_code(lm->acquire_all(lm, both, 2, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_int_eq(raw_int(to, "EXISTS %s", key1), 1);
	ck_assert_int_eq(raw_int(to, "EXISTS %s", key2), 1);
	lm->free(lm);

	/* a client that starts now reads the new map */
	lm = lock_open(cluster_url());
	moved = errors_of(from, "MOVED");
	ck_assert_code(lm->acquire_all(lm, both, 2, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_int_eq(errors_of(from, "MOVED"), moved);
	lm->free(lm);
}
END_TEST

/*
 * Two nodes that each name the other as the slot's master (the owner told
 * its empty slot is another's, which still names the owner): the client
 * follows 5 redirections and gives up with SERVICE_UNAVAILABLE; once the
 * owner takes the slot back, the same client works again.
 */
START_TEST(redirections_are_bounded)
{
	int ports[3];
	char st[80], a1[128], ida[64], idb[64];
	node_ports(ports);
	int owner = ports[0], other = ports[1];
	showtime_on(st, owner);
	int slot = slot_of(st);
	snprintf(a1, sizeof(a1), "seat:%s:A1", st);
	node_id(owner, ida);
	node_id(other, idb);
	const char *k[1] = {a1};
	booking_lock_manager *lm = lock_open(cluster_url());

	freeReplyObject(raw(owner, "CLUSTER SETSLOT %d NODE %s", slot, idb)); /* the slot holds no key */
	long long moved = errors_of(owner, "MOVED") + errors_of(other, "MOVED");
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", TTL), "SERVICE_UNAVAILABLE");
	ck_assert_msg(strstr(booking_error_last()->message, "still redirected after 5 redirections"), "%s",
	              booking_error_last()->message);
	ck_assert_int_eq(errors_of(owner, "MOVED") + errors_of(other, "MOVED") - moved, 6);

	freeReplyObject(raw(owner, "CLUSTER SETSLOT %d NODE %s", slot, ida));
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", TTL), "LOCK_BUSY");
	ck_assert_ok(lm->release_all(lm, k, 1, "owner-a"));
	lm->free(lm);
}
END_TEST

/* Stops the node at `port` (its reply, none, is not waited for). */
static void node_shutdown(int port)
{
	redisContext *c = raw_connect(port);
	redisReply *r = redisCommand(c, "SHUTDOWN NOSAVE");
	if (r)
		freeReplyObject(r);
	redisFree(c);
	for (int i = 0; i < 100; i++) { /* up to 5 s, until it refuses connections */
		struct timeval tv = {0, 200000};
		redisContext *t = redisConnectWithTimeout("127.0.0.1", port, tv);
		bool down = !t || t->err;
		redisFree(t);
		if (down)
			return;
		usleep(50000);
	}
	ck_abort_msg("node %d did not stop", port);
}

/*
 * Last of the suite: it stops a node. Its slot goes to another master (as
 * a failover would give it to a replica): the client fails the call that
 * finds the node gone, reads the map again, and the next call reaches the
 * slot's new master.
 */
START_TEST(a_dead_masters_slot_is_found_on_its_new_master)
{
	int ports[3];
	char st[80], a1[128], ida[64];
	node_ports(ports);
	int dead = ports[2], heir = ports[1];
	showtime_on(st, dead);
	int slot = slot_of(st);
	snprintf(a1, sizeof(a1), "seat:%s:A1", st);
	node_id(heir, ida);
	const char *k[1] = {a1};
	booking_lock_manager *lm = lock_open(cluster_url());
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));

	node_shutdown(dead);
	freeReplyObject(raw(heir, "CLUSTER SETSLOT %d NODE %s", slot, ida));
	freeReplyObject(raw(ports[0], "CLUSTER SETSLOT %d NODE %s", slot, ida));
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-b", TTL), "SERVICE_UNAVAILABLE");
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-b", TTL)); /* the hold died with its node */
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-c", TTL), "LOCK_BUSY");
	ck_assert_int_eq(slot_port(slot), heir);
	lm->free(lm);
}
END_TEST

/* ---------- refusals ---------- */

START_TEST(a_script_whose_keys_span_two_slots_is_refused)
{
	int ports[3];
	char s1[80], s2[80], a[128], b[128];
	node_ports(ports);
	showtime_on(s1, ports[0]);
	showtime_on(s2, ports[1]);
	snprintf(a, sizeof(a), "seat:%s:A1", s1);
	snprintf(b, sizeof(b), "seat:%s:A1", s2);
	const char *k[2] = {a, b};
	booking_lock_manager *lm = lock_open(cluster_url());
	ck_assert_code(lm->acquire_all(lm, k, 2, "owner-a", TTL), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "different cluster slots"));
	ck_assert_ok(lm->acquire_all(lm, k, 1, "owner-a", TTL));
	ck_assert_ok(lm->acquire_all(lm, k + 1, 1, "owner-a", TTL));
	lm->free(lm);
}
END_TEST

START_TEST(a_cluster_url_on_a_plain_redis_or_with_a_database_is_refused)
{
	const char *script = getenv("BOOKING_TEST_REDIS_SCRIPT");
	char cmd[1024], url[256], curl[300];
	ck_assert_msg(script && *script, "BOOKING_TEST_REDIS_SCRIPT is not set");
	snprintf(cmd, sizeof(cmd), "'%s' start", script);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_msg(fgets(url, (int)sizeof(url), p) != NULL, "redis-server.sh start printed nothing");
	ck_assert_int_eq(pclose(p), 0);
	url[strcspn(url, "\r\n")] = '\0';

	snprintf(curl, sizeof(curl), "%s?cluster=1", url);
	booking_lock_manager *lm = lock_open(curl);
	const char *k[1] = {"seat:s:A1"};
	ck_assert_code(lm->acquire_all(lm, k, 1, "owner-a", TTL), "EXTERNAL_SERVICE_ERROR");
	ck_assert_msg(strstr(booking_error_last()->message, "cluster support disabled"), "%s",
	              booking_error_last()->message);
	lm->free(lm);
	snprintf(cmd, sizeof(cmd), "'%s' stop '%s' >/dev/null 2>&1", script, url);
	ck_assert_int_eq(system(cmd), 0);

	booking_lock_manager *none = NULL;
	ck_assert_code(booking_lock_manager_open(&none, "redis://127.0.0.1:6379/2?cluster=1", NULL), "VALIDATION_ERROR");
	ck_assert_ptr_nonnull(strstr(booking_error_last()->message, "database 0 only"));
	ck_assert_code(booking_lock_manager_open(&none, "redis://127.0.0.1:6379/0?cluster=2", NULL), "VALIDATION_ERROR");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("redis_cluster");
	TCase *tc = tcase_create("cluster");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, holds_go_to_the_node_of_their_slot_and_scripts_load_on_each_node);
	tcase_add_test(tc, a_migrating_slot_is_followed_through_ask_then_moved);
	tcase_add_test(tc, a_script_whose_keys_span_two_slots_is_refused);
	tcase_add_test(tc, a_cluster_url_on_a_plain_redis_or_with_a_database_is_refused);
	tcase_add_test(tc, redirections_are_bounded);
	tcase_add_test(tc, a_dead_masters_slot_is_found_on_its_new_master); /* last: it stops a node */
	suite_add_tcase(s, tc);
	return fx_run(s);
}
