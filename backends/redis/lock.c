/*
 * libbooking — the redis:// lock manager: acquire-all, release-all and
 * extend of a key set, each ONE round trip (a Lua script by EVALSHA), owner
 * checked inside the script so a stale owner can neither release nor
 * extend someone else's keys.
 *
 * A held key is a hash {owner, until} with a PEXPIRE of the TTL (ms).
 * settle (version 3) hands the keys an owner holds to a new owner: the
 * core's marks of held seats. A register (version 2) is a string "<until>|<value>" under
 * "booking:reg:{<key>}", set with SET PX: a namespace no lock key maps
 * into (those are "booking:{...").
 *
 * Every key reaches the scripts through KEYS, never built inside them. On a
 * cluster a multi-key script needs its keys in one slot, so a key
 * "<kind>:<scope>:<rest>" (the core's "seat:<showtime>:<label>") is stored
 * as "booking:{<scope>}:<kind>:<rest>": the seats of one showtime share a
 * slot. Any other key K is stored as "booking:{K}".
 *
 * Time. With the system clock (or none), Redis alone decides expiry
 * (PEXPIRE, the server's time: no skew between client machines). With an
 * injected clock (tests), the clock decides too: `until` = clock now + TTL,
 * and a key whose `until` has passed by the clock counts as free even if
 * Redis still has it; PEXPIRE remains as garbage collection.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis_client.h"

#include <stdio.h>
#include <string.h>

/*
 * acquire_all, acquire_all_why and extend. ARGV: owner, ttl_ms, now ('' =
 * server time, else the clock's: a key whose `until` is not after it counts
 * as free), until, mode ('' acquire, 'why' acquire saying who, 'extend').
 * Returns 0, or the 1-based index of a key held by another owner (acquire)
 * or not held by `owner` (extend): nothing taken or changed then; 'why'
 * answers {index, that owner} instead of the index.
 */
static const char take_src[] =
	"local function holder(k)\n"
	"  local h = redis.call('HMGET', k, 'owner', 'until')\n"
	"  if not h[1] then return false end\n"
	"  if ARGV[3] ~= '' and h[2] and tonumber(h[2]) <= tonumber(ARGV[3]) then return false end\n"
	"  return h[1]\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  local o = holder(KEYS[i])\n"
	"  if o ~= ARGV[1] and (o or ARGV[5] == 'extend') then\n"
	"    if ARGV[5] == 'why' then return {i, o} end\n"
	"    return i\n"
	"  end\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  if ARGV[5] ~= 'extend' then redis.call('DEL', KEYS[i]) end\n"
	"  redis.call('HSET', KEYS[i], 'owner', ARGV[1], 'until', ARGV[4])\n"
	"  redis.call('PEXPIRE', KEYS[i], ARGV[2])\n"
	"end\n"
	"return 0\n";

/* ARGV: owner (then ttl, now, until, mode, unused). Deletes the keys `owner` holds; returns how many. */
static const char release_src[] =
	"local n = 0\n"
	"for i = 1, #KEYS do\n"
	"  if redis.call('HGET', KEYS[i], 'owner') == ARGV[1] then n = n + redis.call('DEL', KEYS[i]) end\n"
	"end\n"
	"return n\n";

/*
 * settle. ARGV: owner, ttl_ms, now, until (as take_src), new owner. Every
 * key `owner` holds (live) passes to the new owner with a fresh TTL; the
 * others are left alone. Returns how many passed.
 */
static const char settle_src[] =
	"local n = 0\n"
	"for i = 1, #KEYS do\n"
	"  local h = redis.call('HMGET', KEYS[i], 'owner', 'until')\n"
	"  local lapsed = ARGV[3] ~= '' and h[2] and tonumber(h[2]) <= tonumber(ARGV[3])\n"
	"  if h[1] == ARGV[1] and not lapsed then\n"
	"    redis.call('HSET', KEYS[i], 'owner', ARGV[5], 'until', ARGV[4])\n"
	"    redis.call('PEXPIRE', KEYS[i], ARGV[2])\n"
	"    n = n + 1\n"
	"  end\n"
	"end\n"
	"return n\n";

/*
 * register_swap: GET, compare, SET PX. ARGV: '1' when a value is expected (else the register must be absent),
 * the expected value, the new value, ttl_ms, now and until (as take_src). Returns 1 when set; else the current
 * value, or 0 when there is none.
 */
static const char swap_src[] =
	"local cur = redis.call('GET', KEYS[1])\n"
	"if cur then\n"
	"  local bar = string.find(cur, '|', 1, true)\n"
	"  if ARGV[5] ~= '' and tonumber(string.sub(cur, 1, bar - 1)) <= tonumber(ARGV[5]) then cur = false\n"
	"  else cur = string.sub(cur, bar + 1) end\n"
	"end\n"
	"if (ARGV[1] == '1' and cur ~= ARGV[2]) or (ARGV[1] ~= '1' and cur) then return cur or 0 end\n"
	"redis.call('SET', KEYS[1], ARGV[6] .. '|' .. ARGV[3], 'PX', ARGV[4])\n"
	"return 1\n";

typedef struct rd_locks {
	booking_lock_manager parent;
	rd_client *client;
	const booking_clock *clock; /* NULL: Redis decides expiry */
	rd_script take, release, swap, settle;
} rd_locks;

static const char who[] = "redis lock manager";

/*
 * The keys as stored, in one block with their pointers: "seat:S:A1" →
 * "booking:{S}:seat:A1", anything else K → "booking:{K}".
 */
static char **map_keys(const char *const *keys, size_t n)
{
	size_t size = n * sizeof(char *);
	for (size_t i = 0; i < n; i++)
		size += strlen(keys[i]) + sizeof "booking:{}:";
	char **out = booking_malloc(size);
	char *at = out ? (char *)(out + n) : NULL;
	for (size_t i = 0; out && i < n; i++) {
		const char *key = keys[i], *c1 = strchr(key, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		size_t len = strlen(key) + sizeof "booking:{}:";
		if (c1 && c2 && c1 > key && c2 > c1 + 1 && c2[1])
			snprintf(at, len, "booking:{%.*s}:%.*s:%s", (int)(c2 - c1 - 1), c1 + 1, (int)(c1 - key), key, c2 + 1);
		else
			snprintf(at, len, "booking:{%s}", key);
		out[i] = at;
		at += len;
	}
	return out;
}

enum { RL_ACQUIRE, RL_ACQUIRE_WHY, RL_EXTEND, RL_RELEASE, RL_SETTLE };

/* What acquire_all_why reports (all may be NULL) and settle's new owner. */
typedef struct rl_extra {
	size_t *blocked_out;
	char *blocker_out;
	size_t blocker_size;
	const char *new_owner;
} rl_extra;

static const char *const modes[] = {"", "why", "extend", "", ""};

/* The script's integer 0..n (or, for 'why', {index, owner}): 0 done, else the 1-based index of the key in the way. */
static int script_reply(int op, const rd_script *script, const redisReply *r, const char *const *keys,
                        size_t n, const rl_extra *x)
{
	const redisReply *idx = r;
	if (op == RL_ACQUIRE_WHY && r->type == REDIS_REPLY_ARRAY) {
		idx = r->elements == 2 && r->element[1]->type == REDIS_REPLY_STRING ? r->element[0] : NULL;
		if (idx && idx->type == REDIS_REPLY_INTEGER && idx->integer > 0 && (unsigned long long)idx->integer <= n) {
			if (x->blocked_out)
				*x->blocked_out = (size_t)idx->integer - 1;
			if (x->blocker_out && x->blocker_size)
				snprintf(x->blocker_out, x->blocker_size, "%s", r->element[1]->str);
		}
	}
	if (!idx || idx->type != REDIS_REPLY_INTEGER || idx->integer < 0 || (unsigned long long)idx->integer > n ||
	    (op == RL_ACQUIRE_WHY && idx == r && idx->integer))
		return booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: script %s gave an unexpected reply", who, script->name);
	if (idx->integer && op != RL_RELEASE && op != RL_SETTLE)
		return booking_error_set(BOOKING_ELOCKED, NULL, "lock %s %s", keys[idx->integer - 1],
		                         op == RL_EXTEND ? "is not held by this owner" : "is held by another owner");
	return 0;
}

/* The scripts' ttl, now and until: now "" (Redis decides) and until "0" without an injected clock. */
static void time_args(const rd_locks *lm, int64_t ttl_ms, char out[3][24])
{
	snprintf(out[0], sizeof out[0], "%lld", (long long)ttl_ms);
	snprintf(out[1], sizeof out[1], "%s", "");
	snprintf(out[2], sizeof out[2], "0");
	if (lm->clock) {
		int64_t t = lm->clock->now_ms(lm->clock);
		snprintf(out[1], sizeof out[1], "%lld", (long long)t);
		snprintf(out[2], sizeof out[2], "%lld", (long long)t + (long long)ttl_ms);
	}
}

/*
 * Check the arguments, then run the script of `op` on the mapped keys: one
 * EVALSHA. Its integer is 0 (done), or for acquire and extend the 1-based
 * index of the key that stood in the way, answered as BOOKING_ELOCKED.
 * Release answers how many keys it deleted.
 */
static int run_script(rd_locks *lm, int op, const char *const *keys, size_t n, const char *owner, int64_t ttl_ms,
                      const rl_extra *x)
{
	rd_script *script = op == RL_RELEASE ? &lm->release : op == RL_SETTLE ? &lm->settle : &lm->take;
	if (!owner || !*owner || (n && !keys) || (op == RL_SETTLE && (!x->new_owner || !*x->new_owner)))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: keys and owner are required", who);
	for (size_t i = 0; i < n; i++)
		if (!keys[i] || !*keys[i])
			return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: key %zu is empty", who, i);
	if (op != RL_RELEASE && (ttl_ms <= 0 || ttl_ms > INT64_C(1000000000000)))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: ttl must be 1 ms..10^12 ms", who);
	if (n == 0)
		return 0;
	char **mapped = map_keys(keys, n);
	if (!mapped)
		return booking_error_oom();
	char times[3][24];
	time_args(lm, ttl_ms, times);
	const char *args[5] = {owner, times[0], times[1], times[2], op == RL_SETTLE ? x->new_owner : modes[op]};
	redisReply *r = NULL;
	int rc = rd_eval(lm->client, script, &r, n, (const char *const *)mapped, 5, args);
	booking_free(mapped);
	if (rc < 0)
		return rc;
	rc = script_reply(op, script, r, keys, n, x);
	freeReplyObject(r);
	return rc;
}

static int rl_acquire_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                          int64_t ttl_ms)
{
	return run_script((rd_locks *)base, RL_ACQUIRE, keys, n, owner, ttl_ms, NULL);
}

static int rl_acquire_all_why(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                              int64_t ttl_ms, size_t *blocked_out, char *blocker_out, size_t blocker_size)
{
	rl_extra x = {blocked_out, blocker_out, blocker_size, NULL};
	return run_script((rd_locks *)base, RL_ACQUIRE_WHY, keys, n, owner, ttl_ms, &x);
}

static int rl_settle(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                     const char *new_owner, int64_t ttl_ms)
{
	rl_extra x = {NULL, NULL, 0, new_owner};
	return run_script((rd_locks *)base, RL_SETTLE, keys, n, owner, ttl_ms, &x);
}

static int rl_release_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner)
{
	return run_script((rd_locks *)base, RL_RELEASE, keys, n, owner, 0, NULL);
}

static int rl_extend(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                     int64_t ttl_ms)
{
	return run_script((rd_locks *)base, RL_EXTEND, keys, n, owner, ttl_ms, NULL);
}

static int rl_register_swap(char **current_out, booking_lock_manager *base, const char *key, const char *expected,
                            const char *value, int64_t ttl_ms)
{
	rd_locks *lm = (rd_locks *)base;
	if (current_out)
		*current_out = NULL;
	if (!key || !*key || strlen(key) > 255 || !value || strlen(value) > 64 || ttl_ms <= 0 ||
	    ttl_ms > INT64_C(1000000000000))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: a register needs a key of 1..255 bytes, a value "
		                         "of at most 64 and a ttl of 1 ms..10^12 ms", who);
	char reg[sizeof "booking:reg:{}" + 255], times[3][24];
	snprintf(reg, sizeof reg, "booking:reg:{%s}", key);
	time_args(lm, ttl_ms, times);
	const char *keys[1] = {reg};
	const char *args[6] = {expected ? "1" : "0", expected ? expected : "", value, times[0], times[1], times[2]};
	redisReply *r = NULL;
	int rc = rd_eval(lm->client, &lm->swap, &r, 1, keys, 6, args);
	if (rc < 0)
		return rc;
	bool refused = r->type == REDIS_REPLY_STRING || (r->type == REDIS_REPLY_INTEGER && r->integer == 0);
	if (refused) {
		rc = booking_error_set(BOOKING_EINVALID_STATE, NULL, "register %s does not have the value expected", key);
		if (current_out && r->type == REDIS_REPLY_STRING && !(*current_out = booking_strdup(r->str)))
			rc = booking_error_oom();
	} else if (r->type != REDIS_REPLY_INTEGER || r->integer != 1) {
		rc = booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: script %s gave an unexpected reply", who, lm->swap.name);
	}
	freeReplyObject(r);
	return rc;
}

static void rl_free(booking_lock_manager *base)
{
	rd_locks *lm = (rd_locks *)base;
	if (!lm)
		return;
	rd_client_free(lm->client);
	booking_free(lm);
}

int booking__redis_lock_manager_new(booking_lock_manager **out, const char *url, const booking_clock *clock)
{
	rd_locks *lm = booking_calloc(1, sizeof *lm);
	if (!lm)
		return booking_error_oom();
	int rc = rd_client_new(&lm->client, url, who, "lock_url");
	if (rc < 0) {
		booking_free(lm);
		return rc;
	}
	lm->clock = clock && clock != booking_clock_system() ? clock : NULL;
	lm->take = (rd_script)RD_SCRIPT_INIT("acquire_all/extend", take_src);
	lm->release = (rd_script)RD_SCRIPT_INIT("release_all", release_src);
	lm->swap = (rd_script)RD_SCRIPT_INIT("register_swap", swap_src);
	lm->settle = (rd_script)RD_SCRIPT_INIT("settle", settle_src);
	lm->parent.version = BOOKING_LOCK_MANAGER_VERSION;
	lm->parent.free = rl_free;
	lm->parent.acquire_all = rl_acquire_all;
	lm->parent.release_all = rl_release_all;
	lm->parent.extend = rl_extend;
	lm->parent.register_swap = rl_register_swap;
	lm->parent.acquire_all_why = rl_acquire_all_why;
	lm->parent.settle = rl_settle;
	*out = &lm->parent;
	return 0;
}
