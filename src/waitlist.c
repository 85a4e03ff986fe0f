/*
 * The waiting list (doc/fairness.md): parties wait in join order for a
 * sold-out showtime; seats that come back are offered to them as holds.
 *
 * An entry is a record of the store's kv group: namespace "waitlist/" +
 * the showtime, key the user (one entry per user and showtime), rank the
 * join time, value a small JSON object. Every step commits its event with
 * the record it writes (kv_put): waitlist.joined, .left, .offered,
 * .lapsed (an offer ran out or was given up), .fulfilled (paid for). The
 * events' aggregate is the entry ("waitlist", the entry's id; the data
 * names the showtime), and their positions (commit order) are the list's
 * history, which booking_check() replays.
 *
 * The rule, decided here only: settle the offers first (paid: fulfilled;
 * no longer a live hold: lapsed, the party leaves the list), then walk the
 * waiting parties in join order; the first whose party fits in the
 * claimable seats (of its category) is offered the best seats for it. The
 * parties before it that did not fit are passed over, each one pass; a
 * party passed over waitlist_max_passes times stops the line: no later
 * party is offered seats until it is offered seats or leaves. The offer is
 * a hold made with a key of the entry's (a crash between the hold and the
 * entry's update is finished by the next settlement, which replays the
 * key), then a compare-and-set of the entry; a party that left meanwhile
 * has its hold cancelled.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WL_ROUNDS 64 /* settle/offer rounds of one call before it stops (the next trigger goes on) */

static _Thread_local int in_process; /* an offer's own cancels must not settle the list again */

typedef struct wl_entry {
	char user_id[BOOKING_ID_SIZE];
	char id[BOOKING_ID_SIZE];
	size_t party;
	char category[BOOKING_CATEGORY_SIZE];
	bool offered;
	int passes, offers;
	int64_t joined_at, version, offer_expires_at;
	char reservation_id[BOOKING_ID_SIZE];
} wl_entry;

typedef struct wl_list {
	wl_entry *items;
	size_t count, cap;
	int rc;
} wl_list;

const char *booking_waitlist_status_name(booking_waitlist_status status)
{
	switch (status) {
	case BOOKING_WAITLIST_WAITING: return "WAITING";
	case BOOKING_WAITLIST_OFFERED: return "OFFERED";
	}
	return "UNKNOWN";
}

static void ns_of(char ns[64], const char *showtime_id)
{
	snprintf(ns, 64, "waitlist/%s", showtime_id);
}

static int entry_parse(wl_entry *e, const char *user_id, const booking_store_kv_record *rec)
{
	memset(e, 0, sizeof(*e));
	bool oom = false;
	json_t *j = booking__json_loads(rec->value ? rec->value : "", 0, NULL, &oom);
	if (!j)
		return oom ? booking_error_oom() : booking_error_set(BOOKING_EINTERNAL, NULL, "waiting list: a damaged entry");
	booking__copy(e->user_id, sizeof(e->user_id), user_id);
	booking__copy(e->id, sizeof(e->id), json_string_value(json_object_get(j, "id")));
	json_int_t party = json_integer_value(json_object_get(j, "party"));
	e->party = party > 0 ? (size_t)party : 1;
	booking__copy(e->category, sizeof(e->category), json_string_value(json_object_get(j, "category")));
	const char *status = json_string_value(json_object_get(j, "status"));
	e->offered = status && strcmp(status, "offered") == 0;
	e->passes = (int)json_integer_value(json_object_get(j, "passes"));
	e->offers = (int)json_integer_value(json_object_get(j, "offers"));
	e->joined_at = rec->rank;
	e->version = rec->version;
	booking__copy(e->reservation_id, sizeof(e->reservation_id), json_string_value(json_object_get(j, "reservation_id")));
	e->offer_expires_at = json_integer_value(json_object_get(j, "offer_expires_at"));
	json_decref(j);
	return 0;
}

static char *entry_value(const wl_entry *e)
{
	json_t *j = json_pack("{s:s,s:I,s:s,s:s,s:i,s:i,s:s,s:I}", "id", e->id, "party", (json_int_t)e->party, "category",
	                      e->category, "status", e->offered ? "offered" : "waiting", "passes", e->passes, "offers",
	                      e->offers, "reservation_id", e->reservation_id, "offer_expires_at",
	                      (json_int_t)e->offer_expires_at);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!s)
		return NULL;
	char *out = booking_strdup(s); /* booking_free() frees what the library hands around */
	free(s);
	return out;
}

static int collect(const char *key, const booking_store_kv_record *rec, void *payload)
{
	wl_list *l = payload;
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		wl_entry *items = booking_realloc(l->items, cap * sizeof(*items));
		if (!items)
			return l->rc = booking_error_oom();
		l->items = items;
		l->cap = cap;
	}
	int rc = entry_parse(&l->items[l->count], key, rec);
	if (rc < 0)
		return l->rc = rc;
	l->count++;
	return 0;
}

static int list_read(booking_handle *bk, const char *showtime_id, wl_list *l)
{
	char ns[64];
	ns_of(ns, showtime_id);
	memset(l, 0, sizeof(*l));
	const booking_store_kv *kv = booking__store_kv(bk->store);
	int rc = kv->kv_list(bk->store, ns, booking__now(bk), (size_t)bk->cfg.waitlist_max_entries + 16, collect, l);
	if (l->rc < 0)
		rc = l->rc;
	if (rc < 0) {
		booking_free(l->items);
		memset(l, 0, sizeof(*l));
		return rc;
	}
	return 0;
}

/*
 * Write entry `e` (value NULL: remove it) at its version, with one event
 * of the list. 0; 1 when the entry moved meanwhile (nothing written); < 0.
 */
static int entry_put(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, const wl_entry *e,
                     bool remove, const char *type, json_t *data /* stolen */)
{
	char ns[64];
	ns_of(ns, showtime_id);
	char *value = NULL;
	if (!remove && !(value = entry_value(e))) {
		json_decref(data);
		return booking_error_oom();
	}
	booking__event ev;
	bool has_ev = type != NULL;
	int rc = 0;
	if (has_ev) {
		json_object_set_new(data, "entry_id", json_string(e->id));
		json_object_set_new(data, "showtime_id", json_string(showtime_id));
		json_object_set_new(data, "user_id", json_string(e->user_id));
		rc = booking__event_init(&ev, bk, ctx, type, "waitlist", e->id, data);
	} else {
		json_decref(data);
	}
	if (rc < 0) {
		booking_free(value);
		return rc;
	}
	booking_store_kv_put put = {.ns = ns, .key = e->user_id, .expected_version = e->version, .value = value,
	                            .rank = e->joined_at, .now = booking__now(bk), .event_count = has_ev ? 1 : 0,
	                            .events = has_ev ? &ev.rec : NULL};
	rc = booking__store_kv(bk->store)->kv_put(NULL, bk->store, &put);
	if (has_ev)
		booking__event_clear(&ev);
	booking_free(value);
	return rc == BOOKING_EINVALID_STATE ? 1 : rc;
}

static int cancel_hold(booking_handle *bk, const char *reservation_id)
{
	int rc = booking_reservation_cancel(NULL, bk, booking_ctx_system(), reservation_id);
	/* already closed (paid, expired, cancelled): nothing to give back */
	if (rc == BOOKING_EINVALID_STATE || rc == BOOKING_EEXPIRED || rc == BOOKING_ERESERVATION_NOT_FOUND) {
		booking_error_clear();
		rc = 0;
	}
	return rc;
}

/* The entry of `user_id`: 1 read into `out`, 0 none, < 0. */
static int entry_read(booking_handle *bk, const char *showtime_id, const char *user_id, wl_entry *out)
{
	char ns[64];
	ns_of(ns, showtime_id);
	booking_store_kv_record rec;
	memset(&rec, 0, sizeof(rec));
	int rc = booking__store_kv(bk->store)->kv_get(&rec, bk->store, ns, user_id, booking__now(bk));
	if (rc == BOOKING_ENOTFOUND) {
		booking_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = entry_parse(out, user_id, &rec);
	booking_free(rec.value);
	return rc < 0 ? rc : 1;
}

/* Settle one offer: 0 still live, 1 settled or moved (read the list again), < 0. */
static int settle(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, const wl_entry *e)
{
	booking_reservation *r = NULL;
	int rc = booking__reservation_read(bk, e->reservation_id, &r);
	if (rc == BOOKING_ERESERVATION_NOT_FOUND)
		booking_error_clear();
	else if (rc < 0)
		return rc;
	int64_t now = booking__now(bk);
	/* a live hold, or one being paid for (its outcome decides), is still the party's offer */
	if (r && ((r->status == BOOKING_RESERVATION_PENDING && r->expires_at > now) ||
	          r->status == BOOKING_RESERVATION_PAYMENT_PROCESSING)) {
		booking_reservation_free(r);
		return 0;
	}
	bool paid = r && r->status == BOOKING_RESERVATION_CONFIRMED;
	const char *reason = !r ? "gone" : paid ? NULL : r->status == BOOKING_RESERVATION_PENDING ? "expired"
	                                                : booking_reservation_status_name(r->status);
	json_t *data = json_pack("{s:s}", "reservation_id", e->reservation_id);
	if (reason)
		json_object_set_new(data, "reason", json_string(reason));
	booking_reservation_free(r);
	rc = entry_put(bk, ctx, showtime_id, e, true, paid ? "waitlist.fulfilled" : "waitlist.lapsed", data);
	return rc < 0 ? rc : 1;
}

typedef struct seat_counts {
	int64_t now;
	size_t total;
	size_t n;
	struct {
		char category[BOOKING_CATEGORY_SIZE];
		size_t count;
	} by[64];
} seat_counts;

static int count_seat(const booking_store_seat *seat, void *payload)
{
	seat_counts *c = payload;
	if (!booking_store_seat_claimable(seat->status, seat->hold_until, c->now))
		return 0;
	c->total++;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->by[i].category, seat->category) == 0) {
			c->by[i].count++;
			return 0;
		}
	if (c->n < sizeof(c->by) / sizeof(c->by[0])) {
		booking__copy(c->by[c->n].category, sizeof(c->by[c->n].category), seat->category);
		c->by[c->n++].count = 1;
	}
	return 0;
}

static bool fits(const seat_counts *c, const wl_entry *e)
{
	if (!e->category[0])
		return c->total >= e->party;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->by[i].category, e->category) == 0)
			return c->by[i].count >= e->party;
	return false;
}

/* What offer() answers besides 0 (made) and errors. */
enum { OFFER_AGAIN = 1, OFFER_UNFIT = 3 };

/*
 * Offer seats to `e`, passing over `passed` (the waiting entries before
 * it): the hold first, then the passes, then the entry — so a pass counts
 * only when a later party really got seats. 0 made; OFFER_AGAIN (read the
 * list again); OFFER_UNFIT (the party cannot be served now: its hold was
 * refused — the seats do not suit it, or it has as many seats or holds as
 * a buyer may — so the walk goes on past it); < 0.
 */
static int offer(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, const wl_entry *e,
                 const wl_entry *const *passed, size_t npassed)
{
	char key[96];
	snprintf(key, sizeof(key), "waitlist:%s:%d", e->id, e->offers + 1);
	booking_reservation *r = NULL;
	bool replayed = false;
	int rc = booking__hold_offer(&r, &replayed, bk, showtime_id, e->user_id, e->party, e->category, key);
	if (rc == BOOKING_ENOT_ENOUGH_SEATS || rc == BOOKING_EORPHAN_SEAT || rc == BOOKING_ELIMIT_REACHED ||
	    rc == BOOKING_ELOCK_FAILED) {
		booking_error_clear();
		return OFFER_UNFIT;
	}
	if (rc < 0)
		return rc;
	wl_entry o = *e;
	o.offers++;
	if (r->status != BOOKING_RESERVATION_PENDING || r->expires_at <= booking__now(bk)) {
		/* the key named an offer made before (a crash, a lost race) that is over now: the next takes a new key */
		rc = entry_put(bk, ctx, showtime_id, &o, false, NULL, NULL);
		booking_reservation_free(r);
		return rc < 0 ? rc : OFFER_AGAIN;
	}
	for (size_t i = 0; i < npassed; i++) {
		wl_entry p = *passed[i];
		p.passes++;
		if ((rc = entry_put(bk, ctx, showtime_id, &p, false, NULL, NULL)) != 0)
			break; /* moved meanwhile: decide again */
	}
	json_t *data = NULL;
	if (rc == 0) {
		o.offered = true;
		booking__copy(o.reservation_id, sizeof(o.reservation_id), r->id);
		o.offer_expires_at = r->expires_at;
		json_t *seats = json_array(), *over = json_array();
		for (size_t i = 0; i < r->seat_count; i++)
			json_array_append_new(seats, json_string(r->seats[i]->label));
		for (size_t i = 0; i < npassed; i++)
			json_array_append_new(over, json_string(passed[i]->id));
		data = json_pack("{s:s,s:s,s:o,s:I,s:I,s:o,s:i}", "showtime_id", showtime_id, "reservation_id", r->id, "seats",
		                 seats, "party_size", (json_int_t)e->party, "expires_at", (json_int_t)r->expires_at,
		                 "passed_over", over, "max_passes", bk->cfg.waitlist_max_passes);
		/*
		 * The entry moved since it was read (another process passed it
		 * over, say): record the offer on what it is now, while it still
		 * waits; a party that left or was offered seats meanwhile gives
		 * these back.
		 */
		for (int attempt = 0; (rc = entry_put(bk, ctx, showtime_id, &o, false, "waitlist.offered",
		                                      json_deep_copy(data))) == 1 &&
		                      attempt < WL_ROUNDS;
		     attempt++) {
			wl_entry now;
			if ((rc = entry_read(bk, showtime_id, e->user_id, &now)) < 0)
				break;
			if (rc == 1 && now.offered && strcmp(now.reservation_id, r->id) == 0) {
				rc = 2; /* a twin (the same key, another thread or process) recorded this very offer */
				break;
			}
			if (rc == 0 || strcmp(now.id, e->id) != 0 || now.offered) {
				rc = 1;
				break;
			}
			o.version = now.version;
			o.passes = now.passes;
		}
		json_decref(data);
	}
	if (rc == 2) {
		rc = OFFER_AGAIN;
	} else if (rc != 0) {
		/*
		 * Not recorded (moved, left, failed): the hold goes back, best
		 * effort — unless it is a twin's (the key replayed it: the call
		 * that made it records or returns it) or the entry has it already.
		 */
		wl_entry now;
		int found = replayed ? 0 : entry_read(bk, showtime_id, e->user_id, &now);
		bool recorded = found == 1 && now.offered && strcmp(now.reservation_id, r->id) == 0;
		int c = replayed || recorded ? 0 : cancel_hold(bk, r->id);
		rc = rc < 0 ? rc : c < 0 ? c : OFFER_AGAIN;
	}
	if (rc == 0)
		booking__log(bk, ctx, BOOKING_LOG_INFO, "waiting list offer",
		             json_pack("{s:s,s:s,s:i}", "showtime_id", showtime_id, "reservation_id", r->id, "seats",
		                       (int)r->seat_count));
	booking_reservation_free(r);
	return rc;
}

/* The entries one call found it cannot serve now (their offer's hold was refused): not tried again in that call. */
typedef struct unfit_set {
	char (*ids)[BOOKING_ID_SIZE];
	size_t count, cap;
} unfit_set;

static bool unfit_has(const unfit_set *u, const char *id)
{
	for (size_t i = 0; i < u->count; i++)
		if (strcmp(u->ids[i], id) == 0)
			return true;
	return false;
}

static int unfit_add(unfit_set *u, const char *id)
{
	if (u->count == u->cap) {
		size_t cap = u->cap ? 2 * u->cap : 8;
		void *n = booking_realloc(u->ids, cap * BOOKING_ID_SIZE);
		if (!n)
			return booking_error_oom();
		u->ids = n;
		u->cap = cap;
	}
	booking__copy(u->ids[u->count++], BOOKING_ID_SIZE, id);
	return 0;
}

/* One round: settle, then offer once. 0 nothing more to do, 1 go on, < 0. */
static int round_once(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, size_t *offers,
                      unfit_set *unfit)
{
	wl_list l;
	int rc = list_read(bk, showtime_id, &l);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < l.count && rc == 0; i++)
		if (l.items[i].offered)
			rc = settle(bk, ctx, showtime_id, &l.items[i]);
	if (rc != 0)
		goto done; /* settled something (read the list again) or failed */
	seat_counts c;
	memset(&c, 0, sizeof(c));
	c.now = booking__now(bk);
	const wl_entry **passed = booking_calloc(l.count + 1, sizeof(*passed));
	if (!passed) {
		rc = booking_error_oom();
		goto done;
	}
	bool waiting = false;
	for (size_t i = 0; i < l.count; i++)
		waiting |= !l.items[i].offered && !unfit_has(unfit, l.items[i].id);
	if (waiting && (rc = bk->store->catalog->seat_list(bk->store, showtime_id, count_seat, &c)) < 0) {
		booking_free(passed);
		goto done;
	}
	size_t npassed = 0;
	for (size_t i = 0; waiting && i < l.count; i++) {
		const wl_entry *e = &l.items[i];
		if (e->offered)
			continue;
		if (unfit_has(unfit, e->id) || !fits(&c, e)) {
			passed[npassed++] = e;
			continue;
		}
		bool barrier = false;
		for (size_t k = 0; k < npassed; k++)
			barrier |= passed[k]->passes >= bk->cfg.waitlist_max_passes;
		if (barrier)
			break; /* a party passed over too often stops the line */
		rc = offer(bk, ctx, showtime_id, e, passed, npassed);
		if (rc == OFFER_UNFIT) {
			if ((rc = unfit_add(unfit, e->id)) < 0)
				break;
			passed[npassed++] = e;
			continue;
		}
		if (rc == 0) {
			(*offers)++;
			rc = 1; /* more seats may be left for the next party */
		}
		break;
	}
	booking_free(passed);
done:
	booking_free(l.items);
	return rc;
}

static int process_run(size_t *offers_out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id)
{
	size_t offers = 0;
	int rc = 0;
	unfit_set unfit = {0};
	in_process++;
	for (int round = 0; round < WL_ROUNDS && (rc = round_once(bk, ctx, showtime_id, &offers, &unfit)) == 1; round++)
		;
	in_process--;
	booking_free(unfit.ids);
	if (rc > 0)
		rc = 0;
	if (offers_out)
		*offers_out = rc < 0 ? 0 : offers;
	return rc;
}

static int need_kv(const booking_handle *bk)
{
	if (booking__store_kv(bk->store))
		return 0;
	return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "this store keeps no waiting lists (no kv group)");
}

static int check_showtime(booking_handle *bk, const char *showtime_id, bool for_sale)
{
	if (booking__check_id("showtime_id", showtime_id) < 0)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	const booking__showtime_facts *f = NULL;
	int rc = booking__showtime_facts_get(bk, showtime_id, &f);
	if (rc < 0)
		return rc;
	if (for_sale && (f->status != BOOKING_SHOWTIME_SCHEDULED || f->starts_at <= booking__now(bk)))
		rc = booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "showtime_id", showtime_id),
		                         "the showtime is not on sale");
	booking__showtime_facts_release(f);
	return rc;
}

void booking__waitlist_returned(booking_handle *bk, const char *showtime_id)
{
	if (in_process || !booking__store_kv(bk->store) || !showtime_id || !*showtime_id)
		return;
	char id[BOOKING_ID_SIZE];
	booking__copy(id, sizeof(id), showtime_id);
	int rc = process_run(NULL, bk, booking_ctx_system(), id);
	if (rc < 0)
		booking__log(bk, NULL, BOOKING_LOG_WARNING, "waiting list not settled",
		             json_pack("{s:s,s:s}", "showtime_id", id, "error", booking_error_name(rc)));
	booking_error_clear(); /* the caller's call succeeded: its error record stays clean */
}

static int to_public(booking_waitlist_entry *out, const char *showtime_id, const wl_entry *e, size_t position)
{
	memset(out, 0, sizeof(*out));
	booking__copy(out->id, sizeof(out->id), e->id);
	booking__copy(out->showtime_id, sizeof(out->showtime_id), showtime_id);
	booking__copy(out->user_id, sizeof(out->user_id), e->user_id);
	out->party_size = e->party;
	booking__copy(out->category, sizeof(out->category), e->category);
	out->status = e->offered ? BOOKING_WAITLIST_OFFERED : BOOKING_WAITLIST_WAITING;
	out->position = position;
	out->passes = e->passes;
	out->joined_at = e->joined_at;
	if (e->offered) {
		booking__copy(out->reservation_id, sizeof(out->reservation_id), e->reservation_id);
		out->offer_expires_at = e->offer_expires_at;
	}
	return 0;
}

/* The entry of `user_id` as the list has it now, with its place in line: 1 found, 0 none, < 0. */
static int find_entry(booking_handle *bk, const char *showtime_id, const char *user_id, booking_waitlist_entry **out)
{
	wl_list l;
	int rc = list_read(bk, showtime_id, &l);
	if (rc < 0)
		return rc;
	rc = 0;
	for (size_t i = 0; i < l.count && rc == 0; i++)
		if (strcmp(l.items[i].user_id, user_id) == 0) {
			if (!out)
				rc = 1;
			else if (!(*out = booking_malloc(sizeof(**out))))
				rc = booking_error_oom();
			else
				rc = to_public(*out, showtime_id, &l.items[i], i + 1) == 0 ? 1 : -1;
		}
	booking_free(l.items);
	return rc;
}

static int join_run(booking_waitlist_entry **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                    size_t party, const char *category)
{
	if (out)
		*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc;
	if ((rc = booking__require_user(ctx)) < 0 || (rc = booking__ctx_check(ctx)) < 0 || (rc = need_kv(bk)) < 0)
		return rc;
	size_t max = (size_t)bk->cfg.max_seats_per_reservation;
	if (bk->cfg.max_seats_per_user_showtime && (size_t)bk->cfg.max_seats_per_user_showtime < max)
		max = (size_t)bk->cfg.max_seats_per_user_showtime;
	if (party == 0 || party > max)
		return booking__error_json(BOOKING_EVALIDATION,
		                           json_pack("{s:s,s:i,s:i}", "field", "party_size", "min", 1, "max", (int)max),
		                           "party_size: 1..%zu seats", max);
	if (category && *category && (rc = booking__check_category("category", category)) < 0)
		return rc;
	if ((rc = check_showtime(bk, showtime_id, true)) < 0)
		return rc;
	/* a join asks for a hold: it is paced as one */
	if ((rc = booking__rate_take(bk, ctx, BOOKING__RATE_HOLD, ctx->user_id)) < 0)
		return rc;
	wl_list l;
	if ((rc = list_read(bk, showtime_id, &l)) < 0)
		return rc;
	size_t count = l.count;
	booking_free(l.items);
	if (count >= (size_t)bk->cfg.waitlist_max_entries)
		return booking__error_json(BOOKING_ELIMIT_REACHED,
		                           json_pack("{s:s,s:i}", "limit", "waitlist_max_entries", "max",
		                                     bk->cfg.waitlist_max_entries),
		                           "the waiting list is full (%d parties)", bk->cfg.waitlist_max_entries);
	wl_entry e;
	memset(&e, 0, sizeof(e));
	int64_t now = booking__now(bk);
	booking_uuid_v7(e.id, now);
	booking__copy(e.user_id, sizeof(e.user_id), ctx->user_id);
	e.party = party;
	booking__copy(e.category, sizeof(e.category), category ? category : "");
	e.joined_at = now;
	rc = entry_put(bk, ctx, showtime_id, &e, false, "waitlist.joined",
	               json_pack("{s:I,s:s,s:I}", "party_size", (json_int_t)party, "category", e.category, "joined_at",
	                         (json_int_t)now));
	if (rc == 1)
		return booking__error_json(BOOKING_EEXISTS, json_pack("{s:s}", "showtime_id", showtime_id),
		                           "you are on this showtime's waiting list already");
	if (rc < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "joined a waiting list",
	             json_pack("{s:s,s:i}", "showtime_id", showtime_id, "party_size", (int)party));
	booking__waitlist_returned(bk, showtime_id); /* seats may be free already */
	rc = out ? find_entry(bk, showtime_id, ctx->user_id, out) : 1;
	if (rc == 0) /* offered, paid and settled in between: the entry is gone already */
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "the entry was settled meanwhile");
	return rc < 0 ? rc : 0;
}

booking_error_code booking_waitlist_join(booking_waitlist_entry **out, booking_handle *bk, const booking_ctx *ctx,
                                         const char *showtime_id, size_t party_size, const char *category)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_WAITLIST_JOIN);
	return booking__scope_end(&sc, join_run(out, bk, ctx, showtime_id, party_size, category));
}

static int leave_run(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, const char *user_id)
{
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc;
	if ((rc = booking__ctx_check(ctx)) < 0 || (rc = need_kv(bk)) < 0)
		return rc;
	if (user_id && (!ctx->user_id || strcmp(user_id, ctx->user_id) != 0)) {
		if (!booking__is_privileged(ctx))
			return booking_error_set(BOOKING_EFORBIDDEN, NULL, "only admins may take another user off a waiting list");
		if ((rc = booking__check_user_id("user_id", user_id)) < 0)
			return rc;
	} else if ((rc = booking__require_user(ctx)) < 0) {
		return rc;
	}
	const char *who = user_id ? user_id : ctx->user_id;
	if ((rc = check_showtime(bk, showtime_id, false)) < 0)
		return rc;
	for (int attempt = 0; attempt < WL_ROUNDS; attempt++) {
		wl_list l;
		if ((rc = list_read(bk, showtime_id, &l)) < 0)
			return rc;
		const wl_entry *e = NULL;
		for (size_t i = 0; i < l.count && !e; i++)
			if (strcmp(l.items[i].user_id, who) == 0)
				e = &l.items[i];
		if (!e) {
			booking_free(l.items);
			return booking_error_set(BOOKING_ENOTFOUND, NULL, "not on this showtime's waiting list");
		}
		wl_entry left = *e;
		booking_free(l.items);
		json_t *data = json_object();
		if (left.offered)
			json_object_set_new(data, "reservation_id", json_string(left.reservation_id));
		rc = entry_put(bk, ctx, showtime_id, &left, true, "waitlist.left", data);
		if (rc == 1)
			continue; /* moved (offered, passed over): decide again */
		if (rc == 0 && left.offered) /* its seats come back: the cancel settles the list and offers them on */
			rc = cancel_hold(bk, left.reservation_id);
		return rc;
	}
	return booking_error_set(BOOKING_ELOCK_FAILED, NULL, "the waiting list kept changing; try again");
}

booking_error_code booking_waitlist_leave(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                                          const char *user_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_WAITLIST_LEAVE);
	return booking__scope_end(&sc, leave_run(bk, ctx, showtime_id, user_id));
}

static int list_run(booking_waitlist **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id)
{
	if (out)
		*out = NULL;
	if (!bk || !out)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	int rc;
	if ((rc = booking__require_user(ctx)) < 0 || (rc = booking__ctx_check(ctx)) < 0 || (rc = need_kv(bk)) < 0 ||
	    (rc = check_showtime(bk, showtime_id, false)) < 0)
		return rc;
	if ((rc = process_run(NULL, bk, booking_ctx_system(), showtime_id)) < 0)
		return rc;
	wl_list l;
	if ((rc = list_read(bk, showtime_id, &l)) < 0)
		return rc;
	bool all = booking__is_privileged(ctx);
	size_t n = 0;
	for (size_t i = 0; i < l.count; i++)
		n += all || strcmp(l.items[i].user_id, ctx->user_id) == 0;
	booking_waitlist *w = booking_calloc(1, sizeof(*w));
	void **items = NULL;
	if (!w || booking_record_array_new(&items, n, sizeof(booking_waitlist_entry)) < 0) {
		booking_free(w);
		booking_free(l.items);
		return booking_error_oom();
	}
	w->items = (booking_waitlist_entry **)items;
	for (size_t i = 0; i < l.count; i++)
		if (all || strcmp(l.items[i].user_id, ctx->user_id) == 0)
			to_public(w->items[w->count++], showtime_id, &l.items[i], i + 1);
	booking_free(l.items);
	*out = w;
	return 0;
}

booking_error_code booking_waitlist_list(booking_waitlist **out, booking_handle *bk, const booking_ctx *ctx,
                                         const char *showtime_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_WAITLIST_LIST);
	return booking__scope_end(&sc, list_run(out, bk, ctx, showtime_id));
}

static int process_pub(size_t *offers_out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id)
{
	if (offers_out)
		*offers_out = 0;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc;
	if ((rc = booking__require_admin(ctx)) < 0 || (rc = need_kv(bk)) < 0 ||
	    (rc = check_showtime(bk, showtime_id, false)) < 0)
		return rc;
	return process_run(offers_out, bk, ctx, showtime_id);
}

booking_error_code booking_waitlist_process(size_t *offers_out, booking_handle *bk, const booking_ctx *ctx,
                                            const char *showtime_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_WAITLIST_PROCESS);
	return booking__scope_end(&sc, process_pub(offers_out, bk, ctx, showtime_id));
}

void booking_waitlist_entry_free(booking_waitlist_entry *e)
{
	booking_free(e);
}

void booking_waitlist_free(booking_waitlist *l)
{
	if (!l)
		return;
	booking_free(l->items);
	booking_free(l);
}
