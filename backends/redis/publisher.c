/*
 * libbooking — the redis:// event publisher: a Redis Stream with consumer
 * groups.
 *
 *   publish      XADD <stream> MAXLEN ~ N * event_id E type T envelope V
 *   read_group   XREADGROUP GROUP g c COUNT n STREAMS <stream> >   (never blocks)
 *                — a missing group is created first (XGROUP CREATE <stream> g 0
 *                MKSTREAM): every group sees the stream from its start
 *   ack          XACK <stream> g id
 *   claim_stale  XAUTOCLAIM <stream> g c min-idle <cursor> COUNT n, the delivery
 *                count of each claimed entry from XPENDING <stream> g id id 1
 *
 * read_group and claim_stale are Lua scripts (EVALSHA, one round trip,
 * atomic: nobody claims an entry between the claim and the XPENDING that
 * counts its deliveries). The stream is the scripts' only key.
 *
 * Dead letters. claim_stale moves an entry whose delivery count exceeds
 * max_deliveries (URL ?max_deliveries=, default 10) to <stream>:dead (XADD
 * with event_id, group, reason "exceeded N deliveries", envelope) and acks
 * it, instead of delivering it once more. That stream is a separate key,
 * written by a separate command (a cluster may place it on another node);
 * a crash between the two leaves the entry pending, to be dead-lettered
 * again: at-least-once, like everything here.
 *
 * Time. With the system clock (or none), idle times are the server's. With
 * an injected clock (tests), each delivery is re-stamped (XCLAIM ... TIME t
 * JUSTID, which leaves the delivery count alone) with t = the clock's time
 * shifted onto the server's time line far enough in the past that Redis
 * never clamps it, and claim_stale shifts min-idle by the same amount:
 * idle times then follow the injected clock. The shift is per publisher,
 * so this mode is for one process (a test), which is what injected clocks
 * are for.
 *
 * Callbacks run after the connection went back to the pool and without any
 * mutex held: a callback may publish, ack or read again.
 *
 * SPDX-License-Identifier: MIT
 */
#include "redis_client.h"

#include <stdio.h>
#include <string.h>

/* Flatten entries of table `entries` into out (id, event_id, envelope[, deliveries]) and ids. */
#define RD_PUB_HELPERS                                                                                       \
	"local function field(f, name)\n"                                                                        \
	"  if not f then return '' end\n"                                                                        \
	"  for j = 1, #f, 2 do if f[j] == name then return f[j + 1] end end\n"                                   \
	"  return ''\n"                                                                                          \
	"end\n"                                                                                                  \
	"local function restamp(ids, t)\n"                                                                       \
	"  local i = 1\n"                                                                                        \
	"  while i <= #ids do\n"                                                                                 \
	"    local a = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], '0'}\n"                                             \
	"    local j = i\n"                                                                                      \
	"    while j <= #ids and j < i + 500 do a[#a + 1] = ids[j]; j = j + 1 end\n"                             \
	"    a[#a + 1] = 'TIME'; a[#a + 1] = t; a[#a + 1] = 'JUSTID'\n"                                          \
	"    redis.call(unpack(a))\n"                                                                            \
	"    i = j\n"                                                                                            \
	"  end\n"                                                                                                \
	"end\n"

/*
 * KEYS[1] stream. ARGV: group, consumer, (min_idle_ms, unused), count, stamp
 * ('' = server time). Returns a flat array: id, event_id, envelope, id, ...
 */
static const char read_src[] = RD_PUB_HELPERS
	"local function read()\n"
	"  return redis.pcall('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[4], 'STREAMS', KEYS[1], '>')\n"
	"end\n"
	"local r = read()\n"
	"if type(r) == 'table' and r.err then\n"
	"  if string.sub(r.err, 1, 7) ~= 'NOGROUP' then return r end\n"
	"  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')\n"
	"  r = read()\n"
	"  if type(r) == 'table' and r.err then return r end\n"
	"end\n"
	"local out, ids = {}, {}\n"
	"if not r or not r[1] then return out end\n"
	"for _, e in ipairs(r[1][2]) do\n"
	"  out[#out + 1] = e[1]\n"
	"  out[#out + 1] = field(e[2], 'event_id')\n"
	"  out[#out + 1] = field(e[2], 'envelope')\n"
	"  ids[#ids + 1] = e[1]\n"
	"end\n"
	"if ARGV[5] ~= '' then restamp(ids, ARGV[5]) end\n"
	"return out\n";

/*
 * KEYS[1] stream. ARGV: group, consumer, min_idle_ms, count, stamp ('' =
 * server time). Returns a flat array: id, event_id, envelope, deliveries, id, ...
 * A missing group has nothing pending: an empty array.
 */
static const char claim_src[] = RD_PUB_HELPERS
	"local minidle = tonumber(ARGV[3])\n"
	"if ARGV[5] ~= '' then\n"
	"  local t = redis.call('TIME')\n"
	"  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	/* 2 ms of slack: a server that freezes time during a script must not claim late */
	"  minidle = minidle + now - tonumber(ARGV[5]) - 2\n"
	"  if minidle < 0 then minidle = 0 end\n"
	"end\n"
	"minidle = string.format('%.0f', minidle)\n"
	"local want = tonumber(ARGV[4])\n"
	"local out, ids = {}, {}\n"
	"local cursor = '0-0'\n"
	"for round = 1, 100 do\n"
	"  local r = redis.pcall('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], minidle, cursor, 'COUNT', want - #ids)\n"
	"  if type(r) == 'table' and r.err then\n"
	"    if string.sub(r.err, 1, 7) == 'NOGROUP' then return out end\n"
	"    return r\n"
	"  end\n"
	"  for _, e in ipairs(r[2]) do\n"
	"    if type(e) == 'table' and e[1] then\n"
	"      local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)\n"
	"      local n = 1\n"
	"      if p[1] then n = p[1][4] end\n"
	"      out[#out + 1] = e[1]\n"
	"      out[#out + 1] = field(e[2], 'event_id')\n"
	"      out[#out + 1] = field(e[2], 'envelope')\n"
	"      out[#out + 1] = n\n"
	"      ids[#ids + 1] = e[1]\n"
	"    end\n"
	"  end\n"
	"  cursor = r[1]\n"
	"  if cursor == '0-0' or #ids >= want then break end\n"
	"end\n"
	"if ARGV[5] ~= '' then restamp(ids, ARGV[5]) end\n"
	"return out\n";

/* How far in the past (server time line) injected-clock stamps live: ten years. */
#define RD_STAMP_SHIFT_MS (INT64_C(10) * 365 * 24 * 3600 * 1000)

typedef struct rd_publisher {
	booking_event_publisher parent;
	rd_client *client;
	const rd_config *cfg; /* the client's */
	char dead_stream[RD_STREAM_MAX + sizeof ":dead"];
	const booking_clock *clock; /* NULL: server time */
	int64_t shift; /* server time line - clock time */
	rd_script read, claim;
} rd_publisher;

static const char who[] = "redis publisher";

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: %s is required", who, what);
}

static int unexpected(const char *what)
{
	return booking_error_set(BOOKING_EEXTERNAL, NULL, "%s: %s gave an unexpected reply", who, what);
}

/* XADD <stream> MAXLEN ~ <maxlen> * <fields>: the stream trimmed as the URL says. */
static int xadd(rd_publisher *p, const char *stream, const char **fields, int nfields)
{
	char maxlen[24];
	snprintf(maxlen, sizeof maxlen, "%lld", (long long)p->cfg->maxlen);
	const char *argv[6 + 8] = {"XADD", stream, "MAXLEN", "~", maxlen, "*"};
	memcpy(argv + 6, fields, (size_t)nfields * sizeof *argv);
	return rd_command(p->client, NULL, REDIS_REPLY_STRING, 6 + nfields, argv);
}

static int pub_publish(booking_event_publisher *base, const char *event_id, const char *type,
                       const char *envelope_json)
{
	rd_publisher *p = (rd_publisher *)base;
	if (!event_id || !envelope_json)
		return missing("event_id and envelope");
	const char *fields[6] = {"event_id", event_id, "type", type ? type : "", "envelope", envelope_json};
	return xadd(p, p->cfg->stream, fields, 6);
}

/* "<ms>-<seq>" or "<ms>", as XADD makes them. */
static bool is_stream_id(const char *id)
{
	size_t a = strspn(id, "0123456789");
	if (a == 0 || a > 20)
		return false;
	if (id[a] == '\0')
		return true;
	size_t b = strspn(id + a + 1, "0123456789");
	return id[a] == '-' && b > 0 && b <= 20 && id[a + 1 + b] == '\0';
}

static int pub_ack(booking_event_publisher *base, const char *group, const char *msg_id)
{
	rd_publisher *p = (rd_publisher *)base;
	if (!group || !msg_id || !*group || !*msg_id)
		return missing("group and msg_id");
	if (!is_stream_id(msg_id))
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: %.64s is not a stream id", who, msg_id);
	const char *argv[4] = {"XACK", p->cfg->stream, group, msg_id};
	return rd_command(p->client, NULL, REDIS_REPLY_INTEGER, 4, argv);
}

/* Park one entry in the dead-letter stream, then ack it. */
static int dead_letter(rd_publisher *p, const char *group, const redisReply *const *entry)
{
	char reason[64];
	snprintf(reason, sizeof reason, "exceeded %d deliveries", p->cfg->max_deliveries);
	const char *fields[8] = {"event_id", entry[1]->str, "group", group, "reason", reason, "envelope", entry[2]->str};
	int rc = xadd(p, p->dead_stream, fields, 8);
	return rc < 0 ? rc : pub_ack(&p->parent, group, entry[0]->str);
}

/*
 * read_group (min_idle_ms < 0: script p->read, tuples of 3) and
 * claim_stale (p->claim, tuples of 4). The entries past max_deliveries are
 * dead-lettered, the others handed to `cb`.
 */
static int read_stream(rd_publisher *p, const char *group, const char *consumer, int64_t min_idle_ms, size_t max,
                       booking_message_cb cb, void *payload)
{
	if (!group || !consumer || !*group || !*consumer)
		return missing("group and consumer");
	size_t width = min_idle_ms >= 0 ? 4 : 3;
	if (max == 0)
		return 0;
	char idle[24], count[24], st[24] = ""; /* st: the injected clock's now on the server's time line, or "" */
	snprintf(idle, sizeof idle, "%lld", (long long)min_idle_ms);
	snprintf(count, sizeof count, "%zu", max);
	if (p->clock) {
		int64_t t = p->clock->now_ms(p->clock) + p->shift;
		snprintf(st, sizeof st, "%lld", (long long)(t > 0 ? t : 0));
	}
	const char *keys[1] = {p->cfg->stream};
	const char *args[5] = {group, consumer, idle, count, st};
	redisReply *r = NULL;
	int rc = rd_eval(p->client, width > 3 ? &p->claim : &p->read, &r, 1, keys, 5, args);
	if (rc < 0)
		return rc;
	/* a flat array of `width`-tuples: id, event_id, envelope[, deliveries] */
	bool ok = r->type == REDIS_REPLY_ARRAY && r->elements % width == 0;
	for (size_t i = 0; ok && i < r->elements; i++)
		ok = r->element[i]->type == (i % width == 3 ? REDIS_REPLY_INTEGER : REDIS_REPLY_STRING);
	rc = ok ? 0 : unexpected(width > 3 ? "XAUTOCLAIM" : "XREADGROUP");
	for (size_t i = 0; width > 3 && i < r->elements && rc == 0; i += 4)
		if (r->element[i + 3]->integer > p->cfg->max_deliveries)
			rc = dead_letter(p, group, (const redisReply *const *)&r->element[i]);
	for (size_t i = 0; i < r->elements && cb && rc == 0; i += width) {
		long long n = width > 3 ? r->element[i + 3]->integer : 1;
		if (n > p->cfg->max_deliveries)
			continue;
		booking_message m = {r->element[i]->str, r->element[i + 1]->str, r->element[i + 2]->str, n > 1 ? (int)n : 1};
		rc = cb(&m, payload);
	}
	freeReplyObject(r);
	return rc;
}

static int pub_read_group(booking_event_publisher *base, const char *group, const char *consumer, size_t max,
                          booking_message_cb cb, void *payload)
{
	return read_stream((rd_publisher *)base, group, consumer, -1, max, cb, payload);
}

static int pub_claim_stale(booking_event_publisher *base, const char *group, const char *consumer,
                           int64_t min_idle_ms, size_t max, booking_message_cb cb, void *payload)
{
	if (min_idle_ms < 0)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "%s: min_idle_ms must be >= 0", who);
	return read_stream((rd_publisher *)base, group, consumer, min_idle_ms, max, cb, payload);
}

static void pub_free(booking_event_publisher *base)
{
	rd_publisher *p = (rd_publisher *)base;
	if (!p)
		return;
	rd_client_free(p->client);
	booking_free(p);
}

int booking__redis_publisher_new(booking_event_publisher **out, const char *url, const booking_clock *clock)
{
	rd_publisher *p = booking_calloc(1, sizeof *p);
	if (!p)
		return booking_error_oom();
	int rc = rd_client_new(&p->client, url, who, "events_url");
	if (rc < 0) {
		booking_free(p);
		return rc;
	}
	p->cfg = rd_client_config(p->client);
	snprintf(p->dead_stream, sizeof p->dead_stream, "%s:dead", p->cfg->stream);
	if (clock && clock != booking_clock_system()) {
		p->clock = clock;
		p->shift = booking_clock_system()->now_ms(booking_clock_system()) - RD_STAMP_SHIFT_MS - clock->now_ms(clock);
	}
	p->read = (rd_script)RD_SCRIPT_INIT("read_group", read_src);
	p->claim = (rd_script)RD_SCRIPT_INIT("claim_stale", claim_src);
	p->parent.version = BOOKING_EVENT_PUBLISHER_VERSION;
	p->parent.free = pub_free;
	p->parent.publish = pub_publish;
	p->parent.read_group = pub_read_group;
	p->parent.ack = pub_ack;
	p->parent.claim_stale = pub_claim_stale;
	*out = &p->parent;
	return 0;
}
