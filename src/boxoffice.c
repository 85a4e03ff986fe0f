/*
 * The box office: holds the library chooses (best available), holds under
 * the orphan policy, holds with a client key, holds for another user (an
 * admin selling a blocked seat), extending and changing a hold, blocking
 * seats. Every decision is made here, once; the store applies the change
 * the core hands it (apply(): seat writes with their expectations, the new
 * reservation, the key), all or nothing, and the core reads and decides
 * again when a seat moved meanwhile (doc/rulebook.md, doc/boxoffice.md).
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"
#include "seatpick.h"

#include <inttypes.h>
#include <sched.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How often a change is decided again when seats moved under it. */
#define BOX_ATTEMPTS 8
/*
 * How often a hold is: buyers racing for the best seats all choose the same
 * block, and each round of them has one winner at least, so a buyer may
 * lose as many rounds as there are buyers racing it at once.
 */
#define HOLD_ATTEMPTS 64
/* Seats one block or unblock may name. */
#define BLOCK_MAX 1000

/* ------------------------------------------------------------------------
 * The venue as a decision needs it: every seat of the showtime in layout
 * order with its price, row (counted from the screen), column, state now.
 * ------------------------------------------------------------------------ */

typedef struct venue_seat {
	const char *label;    /* the facts' (the venue holds them) */
	const char *category; /* the facts' */
	int64_t price;
	booking_seat_status status; /* as of `now`: a hold that ran out is FREE */
} venue_seat;

typedef struct venue {
	const booking__showtime_facts *facts; /* the showtime's immutable facts (shared, released by venue_clear) */
	size_t count, filled;
	venue_seat *seats;         /* by position */
	booking__pick_seat *pick;  /* by position */
	int64_t now;
} venue;

static void venue_clear(venue *v)
{
	if (v->facts)
		booking__showtime_facts_release(v->facts);
	booking_free(v->seats);
	booking_free(v->pick);
	memset(v, 0, sizeof(*v));
}

/* Seat `p` is in `status` (hold_until for HELD) as stored: as of now, by the one claimable rule. */
static void venue_set(venue *v, size_t p, booking_seat_status status, int64_t hold_until)
{
	venue_seat *s = &v->seats[p];
	s->status = booking_store_seat_claimable(status, hold_until, v->now) ? BOOKING_SEAT_FREE : status;
	v->pick[p].free = s->status == BOOKING_SEAT_FREE;
	v->pick[p].eligible = v->pick[p].free;
}

static int venue_changed(void)
{
	return booking_error_set(BOOKING_EINTERNAL, NULL, "the showtime's seats changed under the box office");
}

/* A seat row as it is now, in layout order: the n-th row read is the seat at position n. */
static int venue_add(const booking_store_seat *seat, void *payload)
{
	venue *v = payload;
	if (v->filled == v->count || strcmp(v->seats[v->filled].label, seat->label) != 0)
		return venue_changed();
	venue_set(v, v->filled++, seat->status, seat->hold_until);
	return 0;
}

/* A seat row that is not FREE (seat_states), in any order: found by its label. */
static int venue_add_state(const booking_store_seat_state *seat, void *payload)
{
	venue *v = payload;
	long p = booking__showtime_facts_find(v->facts, seat->label);
	if (p < 0 || (size_t)p >= v->count)
		return venue_changed();
	venue_set(v, (size_t)p, seat->status, seat->hold_until);
	v->filled++;
	return 0;
}

/*
 * Read the showtime's seats as of now: their facts (label, category, price,
 * row, column) from the handle's showtime cache, their states from the
 * store (one read): with seat_states (catalog version 3) only the rows
 * that are not FREE, the others are; else every row.
 */
static int venue_read(booking_handle *bk, const char *showtime_id, venue *v)
{
	memset(v, 0, sizeof(*v));
	int rc = booking__showtime_facts_get(bk, showtime_id, &v->facts);
	if (rc < 0)
		return rc;
	const booking__showtime_facts *f = v->facts;
	v->count = f->count;
	v->seats = booking_malloc((f->count ? f->count : 1) * sizeof(*v->seats));
	v->pick = booking_malloc((f->count ? f->count : 1) * sizeof(*v->pick));
	if (!v->seats || !v->pick) {
		venue_clear(v);
		return booking_error_oom();
	}
	for (size_t i = 0; i < f->count; i++) {
		v->seats[i] = (venue_seat){f->seats[i].label, f->seats[i].category, f->seats[i].price, BOOKING_SEAT_FREE};
		v->pick[i] = (booking__pick_seat){f->seats[i].row, f->seats[i].column, true, true};
	}
	v->now = booking__now(bk);
	const booking_store_catalog *cat = bk->store->catalog;
	if (cat->version >= 3 && cat->seat_states)
		rc = cat->seat_states(bk->store, showtime_id, BOOKING_SEAT_FREE, venue_add_state, v);
	else if ((rc = cat->seat_list(bk->store, showtime_id, venue_add, v)) == 0 && v->filled != v->count)
		rc = venue_changed();
	if (rc < 0) {
		venue_clear(v);
		return rc;
	}
	return 0;
}

static int on_sale(const venue *v)
{
	if (v->facts->status != BOOKING_SHOWTIME_SCHEDULED)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the showtime is cancelled");
	if (v->facts->starts_at <= v->now)
		return booking_error_set(BOOKING_EINVALID_STATE, NULL, "the showtime has started");
	return 0;
}

static long venue_find(const venue *v, const char *label)
{
	return booking__showtime_facts_find(v->facts, label);
}

static int need_box_office(const booking_handle *bk)
{
	if (bk->store->ledger->version < 2)
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL,
		                         "the store has no box office (ledger version %u; 2 is needed)",
		                         bk->store->ledger->version);
	return 0;
}

/* Validate `n` labels (1..max), none twice. */
static int check_labels(const char *field, const char *const *labels, size_t n, size_t max)
{
	if (n && !labels)
		return booking__error_field(field, "is NULL");
	if (n > max)
		return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:i}", "field", field, "max", (int)max),
		                           "%s: at most %zu seats", field, max);
	for (size_t i = 0; i < n; i++) {
		int rc = booking__check_label(field, labels[i]);
		if (rc < 0)
			return rc;
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return booking__error_json(BOOKING_EVALIDATION,
				                           json_pack("{s:s,s:s}", "field", field, "label", labels[i]),
				                           "%s: %s is named twice", field, labels[i]);
	}
	return 0;
}

static int taken_error(const char *const *labels, size_t n)
{
	json_t *list = json_array();
	char msg[200] = "";
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, json_string(labels[i]));
		if (strlen(msg) + strlen(labels[i]) + 3 < sizeof(msg)) {
			strcat(msg, i ? ", " : "");
			strcat(msg, labels[i]);
		}
	}
	return booking__error_json(BOOKING_ESEAT_ALREADY_BOOKED, json_pack("{s:o}", "seats", list),
	                           n == 1 ? "seat %s is already booked" : "seats %s are already booked", msg);
}

static int orphan_error(const venue *v, int position)
{
	const char *label = v->seats[position].label;
	return booking__error_json(BOOKING_EORPHAN_SEAT, json_pack("{s:s}", "seat", label),
	                           "the hold would leave seat %s alone; choose seats that leave no single seat", label);
}

/*
 * The orphan rule, once: may taking `take` (positions) go ahead under the
 * handle's policy? Fills `guards` (free seats the answer rested on, which
 * must still be free when the change commits) when the policy is on.
 */
static int orphan_rule(const booking_handle *bk, const venue *v, const size_t *take, size_t n, size_t *guards,
                       size_t guard_cap, size_t *guard_count)
{
	*guard_count = 0;
	if (bk->cfg.orphan_policy == BOOKING_ORPHANS_OFF)
		return 0;
	int stranded = booking__orphan_stranded(v->pick, v->count, take, n);
	if (stranded >= 0) {
		int unavoidable = bk->cfg.orphan_policy == BOOKING_ORPHANS_REFUSE ? 0
		                                                                  : booking__orphan_unavoidable(v->pick, v->count, n);
		if (unavoidable < 0)
			return unavoidable;
		if (!unavoidable)
			return orphan_error(v, stranded);
	}
	*guard_count = booking__orphan_guards(guards, guard_cap, v->pick, v->count, take, n);
	return 0;
}

/* Guard seats (the orphan decision's neighbours) as checks that write nothing. */
static void guard_writes(booking_store_seat_write *w, const venue *v, const size_t *guards, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].label = v->seats[guards[i]].label;
		w[i].expect = BOOKING_SEAT_EXPECT_CLAIMABLE;
	}
}

/* ------------------------------------------------------------------------
 * Holds: named, best available, keyed, for another user.
 * ------------------------------------------------------------------------ */

#define HOLD_HASH_PREFIX "sha256:"
#define HOLD_HASH_SIZE (sizeof(HOLD_HASH_PREFIX) - 1 + (size_t)2 * crypto_hash_sha256_BYTES + 1)

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The fingerprint of a hold request: what it asks for, not what it got (a
 * best-available retry names the same count, not the seats chosen). A
 * hold holds no secret: an unkeyed hash. Payments' fingerprints are keyed
 * HMACs with another prefix, so a hold's and a payment's never match.
 */
static int hold_hash(char out[HOLD_HASH_SIZE], const booking_hold_request *q, const char *user_id)
{
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	char head[256];
	int len = snprintf(head, sizeof head, "hold\n%s\n%s\n", q->showtime_id, user_id);
	crypto_hash_sha256_update(&st, (const unsigned char *)head, (unsigned long long)len);
	if (q->best) {
		len = snprintf(head, sizeof head, "best:%zu:%s:%" PRId64, q->best, q->category ? q->category : "",
		               q->max_price);
		crypto_hash_sha256_update(&st, (const unsigned char *)head, (unsigned long long)len);
	} else {
		const char **sorted = booking_calloc(q->seat_count ? q->seat_count : 1, sizeof(*sorted));
		if (!sorted)
			return booking_error_oom();
		memcpy(sorted, q->seats, q->seat_count * sizeof(*sorted));
		qsort(sorted, q->seat_count, sizeof(*sorted), cmp_str);
		for (size_t i = 0; i < q->seat_count; i++) {
			crypto_hash_sha256_update(&st, (const unsigned char *)"seat:", 5);
			crypto_hash_sha256_update(&st, (const unsigned char *)sorted[i], strlen(sorted[i]));
		}
		booking_free(sorted);
	}
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256_final(&st, h);
	memcpy(out, HOLD_HASH_PREFIX, sizeof(HOLD_HASH_PREFIX) - 1);
	sodium_bin2hex(out + sizeof(HOLD_HASH_PREFIX) - 1, 2 * sizeof h + 1, h, sizeof h);
	return 0;
}

static int check_key(const char *key)
{
	size_t len = strnlen(key, 256);
	if (len == 0 || len > 255)
		return booking__error_field("idempotency_key", "must be 1..255 characters");
	for (size_t i = 0; i < len; i++)
		if (key[i] < 0x20 || key[i] > 0x7e)
			return booking__error_field("idempotency_key", "must be printable ASCII");
	return 0;
}

/* A key used before: the same request answers its reservation, another is refused. */
static int key_replay(booking_reservation **out, booking_handle *bk, const char *user_id, const char *key,
                      const char *hash, bool *found)
{
	booking_store_idempotency_record rec;
	memset(&rec, 0, sizeof(rec));
	*found = false;
	int rc = bk->store->ledger->idempotency_get(&rec, bk->store, user_id, key);
	if (rc == BOOKING_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	*found = true;
	if (strcmp(rec.request_hash, hash) != 0)
		return booking_error_set(BOOKING_EIDEMPOTENCY_KEY_REUSED, NULL,
		                         "the idempotency key was used for a different request");
	booking_reservation *r = NULL;
	if ((rc = booking__reservation_read(bk, rec.payment_id, &r)) < 0)
		return rc;
	if (out)
		*out = r;
	else
		booking_reservation_free(r);
	return 0;
}

/* Choose the positions to take: the named seats, or the best available. */
static int hold_choose(const booking_handle *bk, venue *v, const booking_hold_request *q, bool may_take_blocked,
                       size_t *take, size_t *n)
{
	if (!q->best) {
		const char **taken = booking_calloc(q->seat_count, sizeof(*taken));
		size_t ntaken = 0;
		if (!taken)
			return booking_error_oom();
		for (size_t i = 0; i < q->seat_count; i++) {
			long p = venue_find(v, q->seats[i]);
			if (p < 0) {
				booking_free(taken);
				return booking__seat_unknown_error(q->seats[i]);
			}
			bool ok = v->seats[p].status == BOOKING_SEAT_FREE ||
			          (may_take_blocked && v->seats[p].status == BOOKING_SEAT_BLOCKED);
			if (!ok)
				taken[ntaken++] = q->seats[i];
			take[i] = (size_t)p;
		}
		int rc = ntaken ? taken_error(taken, ntaken) : 0;
		booking_free(taken);
		*n = q->seat_count;
		return rc;
	}
	size_t available = 0;
	for (size_t i = 0; i < v->count; i++) {
		bool ok = v->pick[i].free && (!q->category || strcmp(v->seats[i].category, q->category) == 0) &&
		          (q->max_price <= 0 || (v->seats[i].price >= 0 && v->seats[i].price <= q->max_price));
		v->pick[i].eligible = ok;
		available += ok;
	}
	booking__pick_prefs prefs = {bk->cfg.best_row_depth_percent, (booking__orphan_policy)bk->cfg.orphan_policy};
	int rc = booking__pick_best(take, q->best, v->pick, v->count, &prefs);
	*n = q->best;
	if (rc == BOOKING__PICK_STRANDS)
		return booking__error_json(BOOKING_ENOT_ENOUGH_SEATS,
		                           json_pack("{s:i,s:i,s:s}", "requested", (int)q->best, "available", (int)available,
		                                     "reason", "orphan_policy"),
		                           "no %zu seats that leave no single seat alone", q->best);
	if (rc == BOOKING_ENOMEM)
		return rc;
	if (rc < 0)
		return booking__error_json(BOOKING_ENOT_ENOUGH_SEATS,
		                           json_pack("{s:i,s:i}", "requested", (int)q->best, "available", (int)available),
		                           "no %zu seats available (%zu free that fit the request)", q->best, available);
	return 0;
}

static int cmp_position(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * One attempt: read, choose, decide, apply. BOOKING_EINVALID_STATE with
 * *again set: a seat moved meanwhile, decide again.
 */
static int hold_attempt(booking_reservation *r, booking_handle *bk, const booking_ctx *ctx, const booking_hold_request *q,
                        const char *user_id, const char *hash, bool offer, bool *again)
{
	*again = false;
	venue v;
	int rc = venue_read(bk, q->showtime_id, &v);
	if (rc < 0)
		return rc;
	size_t want = q->best ? q->best : q->seat_count;
	size_t *take = booking_calloc(want, sizeof(*take)), *guards = booking_calloc(4 * want + 4, sizeof(*guards));
	booking_store_seat_write *w = booking_calloc(5 * want + 4, sizeof(*w));
	void **refs = NULL;
	size_t n = 0, nguards = 0;
	booking__event ev;
	bool ev_made = false;
	bool admin_sale = q->for_user_id != NULL && !offer; /* a waiting list's offer never takes a blocked seat */
	if (!take || !guards || !w) {
		rc = booking_error_oom();
		goto done;
	}
	if ((rc = on_sale(&v)) < 0 || (rc = hold_choose(bk, &v, q, admin_sale, take, &n)) < 0)
		goto done;
	qsort(take, n, sizeof(*take), cmp_position);
	if ((rc = orphan_rule(bk, &v, take, n, guards, 4 * want + 4, &nguards)) < 0)
		goto done;
	if ((rc = booking_record_array_new(&refs, n, sizeof(booking_seat_ref))) < 0)
		goto done;
	memset(r, 0, sizeof(*r));
	r->seats = (booking_seat_ref **)refs;
	r->seat_count = n;
	booking_uuid_v7(r->id, v.now);
	booking__copy(r->user_id, sizeof(r->user_id), user_id);
	booking__copy(r->showtime_id, sizeof(r->showtime_id), q->showtime_id);
	booking__copy(r->currency, sizeof(r->currency), v.facts->currency);
	r->status = BOOKING_RESERVATION_PENDING;
	r->saga = BOOKING_SAGA_SEATS_RESERVED;
	r->created_at = r->updated_at = v.now;
	r->expires_at = v.now + (int64_t)bk->cfg.hold_expiry_minutes * 60000;
	r->version = 1;
	for (size_t i = 0; i < n; i++) {
		const venue_seat *s = &v.seats[take[i]];
		booking__copy(r->seats[i]->label, sizeof(r->seats[i]->label), s->label);
		booking__seat_split(s->label, r->seats[i]->row, &r->seats[i]->number);
		r->seats[i]->position = (int)take[i];
		r->total_amount += s->price > 0 ? s->price : 0;
		bool blocked = s->status == BOOKING_SEAT_BLOCKED; /* an admin's sale of a blocked seat */
		w[i] = (booking_store_seat_write){.label = s->label,
		                                  .expect = blocked ? BOOKING_SEAT_EXPECT_STATUS : BOOKING_SEAT_EXPECT_CLAIMABLE,
		                                  .expect_status = BOOKING_SEAT_BLOCKED,
		                                  .write = true,
		                                  .status = BOOKING_SEAT_HELD,
		                                  .reservation_id = r->id,
		                                  .hold_until = r->expires_at};
	}
	guard_writes(w + n, &v, guards, nguards);
	if ((rc = booking__event_init_text(&ev, bk, ctx, "reservation.created", "reservation", r->id,
	                              booking__reservation_event_text(r, NULL))) < 0)
		goto done;
	ev_made = true;
	booking_store_key_record key = {user_id, q->idempotency_key, hash, r->id};
	/* the per-buyer limits: the buyer's taken seats before the hold, at most the limit less this hold's; live holds */
	/* an admin's sale is not limited; a waiting list's offer is, as the buyer's own hold */
	size_t limit = q->for_user_id && !offer ? 0 : booking__user_seat_limit(bk);
	size_t hold_limit = q->for_user_id && !offer ? 0 : booking__user_hold_limit(bk);
	if (limit && n > limit) {
		rc = booking__limit_error(bk, n);
		goto done;
	}
	booking_store_guard limit_guards[2];
	size_t nlimits = 0;
	if (limit)
		limit_guards[nlimits++] = (booking_store_guard){BOOKING_GUARD_USER_SEATS, user_id, (int64_t)(limit - n), q->showtime_id};
	if (hold_limit)
		limit_guards[nlimits++] = (booking_store_guard){BOOKING_GUARD_USER_HOLDS, user_id, (int64_t)hold_limit - 1, NULL};
	booking_store_change change = {.guard_count = nlimits,
	                               .guards = limit_guards,
	                               .event_count = 1,
	                               .events = &ev.rec,
	                               .showtime_id = q->showtime_id,
	                               .now = v.now,
	                               .seat_write_count = n + nguards,
	                               .seat_writes = w,
	                               .insert = r,
	                               .key = q->idempotency_key ? &key : NULL,
	                               .live_status = BOOKING_RESERVATION_PENDING};
	size_t failed = SIZE_MAX;
	rc = bk->store->ledger->apply(&failed, bk->store, &change);
	if (rc == BOOKING_EINVALID_STATE && failed < change.guard_count)
		/* the buyer has too many seats, or live holds, already */
		rc = limit_guards[failed].kind == BOOKING_GUARD_USER_HOLDS ? booking__hold_limit_error(bk) : booking__limit_error(bk, n);
	else if (rc == BOOKING_EINVALID_STATE && failed != SIZE_MAX)
		*again = true; /* a seat was taken (or a neighbour the orphan rule rested on): decide again */
done:
	if (ev_made)
		booking__event_clear(&ev);
	if (rc < 0) {
		booking_free(refs);
		r->seats = NULL;
		r->seat_count = 0;
	}
	booking_free(take);
	booking_free(guards);
	booking_free(w);
	venue_clear(&v);
	return rc;
}

/*
 * A buyer who lost a round waits a moment before choosing again: buyers
 * who choose alike (the best seats are the same for all) would otherwise
 * meet again at once, and a fast one could keep winning every round
 * against a slower one. Up to 2^attempt ms (at most 16), at random: a
 * real pause, whatever the handle's clock (a test's manual clock included).
 */
static void lost_round(booking_handle *bk, int attempt)
{
	uint64_t cap_us = (uint64_t)1000 << (attempt < 4 ? attempt : 4);
	uint64_t us = booking__random(bk, cap_us + 1);
	struct timespec ts = {0, (long)(us * 1000)};
	if (us == 0)
		sched_yield();
	else
		nanosleep(&ts, NULL);
}

static int hold_request_check(booking_handle *bk, const booking_ctx *ctx, const booking_hold_request *q,
                              const char **user_id)
{
	int rc;
	if ((rc = booking__require_user(ctx)) < 0 && !(q->for_user_id && booking__is_privileged(ctx)))
		return rc;
	if ((rc = booking__ctx_check(ctx)) < 0 || (rc = booking__ctx_deadline(bk, ctx)) < 0)
		return rc;
	if (q->for_user_id) {
		if (!booking__is_privileged(ctx))
			return booking_error_set(BOOKING_EFORBIDDEN, NULL, "only admins may hold seats for another user");
		if ((rc = booking__check_user_id("for_user_id", q->for_user_id)) < 0)
			return rc;
	}
	*user_id = q->for_user_id ? q->for_user_id : ctx->user_id;
	if (!q->showtime_id || booking__check_id("showtime_id", q->showtime_id) < 0)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	size_t max = (size_t)bk->cfg.max_seats_per_reservation;
	if (q->best && (q->seats || q->seat_count))
		return booking__error_field("best", "is given with seats: name seats or ask for the best, not both");
	size_t want = q->best ? q->best : q->seat_count;
	if (want == 0 || want > max || (!q->best && !q->seats))
		return booking__error_json(BOOKING_EVALIDATION,
		                           json_pack("{s:s,s:i,s:i}", "field", q->best ? "best" : "seats", "min", 1, "max",
		                                     (int)max),
		                           "%s: hold 1..%zu seats", q->best ? "best" : "seats", max);
	if (!q->best && (rc = check_labels("seats", q->seats, q->seat_count, max)) < 0)
		return rc;
	if (q->category && (rc = booking__check_category("category", q->category)) < 0)
		return rc;
	if (q->max_price < 0)
		return booking__error_field("max_price", "must be 0 (any) or a price in minor units");
	if (q->idempotency_key && (rc = check_key(q->idempotency_key)) < 0)
		return rc;
	return 0;
}

static int hold_with_do(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                        const booking_hold_request *request, size_t request_size, bool offer, bool *replayed)
{
	if (replayed)
		*replayed = false;
	if (out)
		*out = NULL;
	if (!bk || !request)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	if (request_size < BOOKING__RECORD_END(booking_hold_request, for_user_id) || request_size > 4096)
		return booking__error_field("request_size", "is %zu: pass sizeof(booking_hold_request)", request_size);
	booking_hold_request q;
	booking__record_convert(&q, sizeof(q), request, request_size);
	const char *user_id = NULL;
	int rc = hold_request_check(bk, ctx, &q, &user_id);
	if (rc < 0)
		return rc;
	/* named seats for oneself, no key, no orphan policy: booking_hold()'s one write (and its contention guard) */
	if (!q.best && !q.idempotency_key && !q.for_user_id && bk->cfg.orphan_policy == BOOKING_ORPHANS_OFF)
		return booking__hold_run(out, bk, ctx, q.showtime_id, q.seats, q.seat_count);
	if ((rc = need_box_office(bk)) < 0)
		return rc;
	char hash[HOLD_HASH_SIZE] = "";
	if (q.idempotency_key) {
		bool found = false;
		if ((rc = hold_hash(hash, &q, user_id)) < 0 || (rc = key_replay(out, bk, user_id, q.idempotency_key, hash, &found)) < 0 ||
		    found) {
			if (replayed)
				*replayed = found;
			return rc;
		}
	}
	/* a replay above is no new hold; a new one waits out the cooldown after a cancel */
	if (!q.for_user_id && ((rc = booking__cooldown_check(bk, user_id, booking__now(bk))) < 0 ||
	                       (rc = booking__rate_take(bk, ctx, BOOKING__RATE_HOLD, user_id)) < 0))
		return rc;
	booking_reservation r;
	memset(&r, 0, sizeof(r));
	for (int attempt = 0;; attempt++) {
		bool again = false;
		/*
		 * Best-available holds of one showtime take turns in this handle: its
		 * threads would choose the same seats, and all but one would read and
		 * decide again; in turns each reads what the one before took. Other
		 * handles and processes still meet at the store's guards.
		 */
		const booking__showtime_facts *turn = NULL;
		if (q.best && booking__showtime_facts_get(bk, q.showtime_id, &turn) == 0)
			pthread_mutex_lock(booking__showtime_turn(turn));
		rc = hold_attempt(&r, bk, ctx, &q, user_id, hash, offer, &again);
		if (turn) {
			pthread_mutex_unlock(booking__showtime_turn(turn));
			booking__showtime_facts_release(turn);
		}
		if (rc == BOOKING_EEXISTS && q.idempotency_key) {
			/* a twin request with the same key committed first: answer as a replay */
			bool found = false;
			rc = key_replay(out, bk, user_id, q.idempotency_key, hash, &found);
			if (replayed)
				*replayed = found;
			if (rc == 0 && !found)
				rc = booking_error_set(BOOKING_EINTERNAL, NULL, "the key's record vanished");
			return rc;
		}
		if (!again)
			break;
		if (attempt + 1 >= HOLD_ATTEMPTS)
			return booking_error_set(BOOKING_ELOCK_FAILED, NULL, "the seats kept changing; try again");
		lost_round(bk, attempt);
	}
	if (rc < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, q.best ? "best seats held" : "seats held",
	             json_pack("{s:s,s:s,s:i}", "reservation_id", r.id, "showtime_id", q.showtime_id, "seats",
	                       (int)r.seat_count));
	if (out)
		rc = booking_reservation_copy(out, &r);
	booking_free(r.seats);
	return rc;
}

static int hold_with_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                         const booking_hold_request *request, size_t request_size)
{
	return hold_with_do(out, bk, ctx, request, request_size, false, NULL);
}

/*
 * A waiting list's offer (waitlist.c): the best `party` seats (of
 * `category`) held for `user_id` under the system's ctx, with the offer's
 * key (a retry after a crash answers the same hold), never a blocked seat,
 * outside the buyer's limits (the party was checked when it joined).
 */
int booking__hold_offer(booking_reservation **out, bool *replayed, booking_handle *bk, const char *showtime_id,
                        const char *user_id, size_t party, const char *category, const char *key)
{
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = showtime_id;
	q.best = party;
	q.category = category && *category ? category : NULL;
	q.idempotency_key = key;
	q.for_user_id = user_id;
	return hold_with_do(out, bk, booking_ctx_system(), &q, sizeof(q), true, replayed);
}

booking_error_code booking_hold_with(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                     const booking_hold_request *request, size_t request_size)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_HOLD_WITH);
	return booking__scope_end(&sc, hold_with_run(out, bk, ctx, request, request_size));
}

/* booking_hold() under an orphan policy: the hold's neighbours are part of the decision (reservation.c). */
int booking__hold_named(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                        const char *const *seat_labels, size_t seat_count)
{
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	q.showtime_id = showtime_id;
	q.seats = seat_labels;
	q.seat_count = seat_count;
	return hold_with_run(out, bk, ctx, &q, sizeof(q));
}

/* ------------------------------------------------------------------------
 * Extend and change a live hold.
 * ------------------------------------------------------------------------ */

static int load_own(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id)
{
	*out = NULL;
	int rc = booking__ctx_check(ctx);
	if (rc < 0)
		return rc;
	if (!booking__is_privileged(ctx) && (rc = booking__require_user(ctx)) < 0)
		return rc;
	if ((rc = booking__ctx_deadline(bk, ctx)) < 0)
		return rc;
	if (booking__check_id("reservation_id", reservation_id) < 0)
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	if ((rc = booking__reservation_read(bk, reservation_id, out)) < 0)
		return rc;
	if (!booking__is_privileged(ctx) && strcmp((*out)->user_id, ctx->user_id) != 0) {
		booking_reservation_free(*out);
		*out = NULL;
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "not your reservation");
	}
	return 0;
}

/* The rule of a live hold, once: PENDING and not run out. */
static int live_hold(const booking_reservation *r, int64_t now, const char *what)
{
	if (r->status != BOOKING_RESERVATION_PENDING)
		return booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "status", booking_reservation_status_name(r->status)),
		                           "%s %s reservation cannot be %s", booking__article(booking_reservation_status_name(r->status)),
		                           booking_reservation_status_name(r->status), what);
	if (r->expires_at <= now)
		return booking_error_set(BOOKING_EEXPIRED, NULL, "the hold has expired");
	return 0;
}

static int64_t hold_cap(const booking_handle *bk, const booking_reservation *r)
{
	return r->created_at + (int64_t)bk->cfg.hold_max_minutes * 60000;
}

static int extend_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id,
                      int minutes)
{
	if (out)
		*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if (minutes == 0)
		minutes = bk->cfg.hold_expiry_minutes;
	if (minutes < 1 || minutes > bk->cfg.hold_expiry_minutes)
		return booking__error_json(BOOKING_EVALIDATION,
		                           json_pack("{s:s,s:i,s:i}", "field", "minutes", "min", 1, "max",
		                                     bk->cfg.hold_expiry_minutes),
		                           "minutes: extend by 1..%d minutes", bk->cfg.hold_expiry_minutes);
	int rc = need_box_office(bk);
	booking_reservation *r = NULL;
	if (rc < 0 || (rc = load_own(&r, bk, ctx, reservation_id)) < 0)
		return rc;
	for (int attempt = 0; r; attempt++) {
		int64_t now = booking__now(bk), cap = hold_cap(bk, r);
		if ((rc = live_hold(r, now, "extended")) < 0)
			break;
		if (r->expires_at >= cap) {
			rc = booking__error_json(BOOKING_EHOLD_LIMIT, json_pack("{s:I}", "max_expires_at", (json_int_t)cap),
			                         "the hold is at its longest (%d minutes from the hold)", bk->cfg.hold_max_minutes);
			break;
		}
		int64_t until = r->expires_at + (int64_t)minutes * 60000;
		if (until > cap)
			until = cap;
		booking_reservation after = *r;
		after.expires_at = until;
		booking__event ev;
		unsigned long failures = booking__json_failures();
		json_t *data = booking__reservation_event_data(&after, NULL);
		if (data)
			json_object_set_new(data, "previous_expires_at", json_integer(r->expires_at));
		data = booking__event_data_checked(data, failures);
		if ((rc = booking__event_init(&ev, bk, ctx, "reservation.extended", "reservation", r->id, data)) < 0)
			break;
		booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, r->id, r->version, NULL},
		                            {BOOKING_GUARD_SEATS_OWNED, r->id, BOOKING_SEAT_HELD, NULL}};
		booking_store_reservation_set set = {.id = r->id, .status = r->status, .saga = r->saga, .updated_at = now,
		                                     .expires_at = until};
		booking_store_seat_move seats = {r->id, BOOKING_SEAT_HELD, BOOKING_SEAT_HELD, until};
		booking_store_change change = {.guard_count = 2, .guards = g, .reservation = &set, .seats = &seats,
		                               .event_count = 1, .events = &ev.rec};
		size_t failed = SIZE_MAX;
		rc = bk->store->ledger->apply(&failed, bk->store, &change);
		booking__event_clear(&ev);
		if (rc != BOOKING_EINVALID_STATE || failed == SIZE_MAX)
			break;
		if ((rc = booking__reservation_reread(bk, &r, attempt, BOX_ATTEMPTS, "the reservation kept changing")) < 0)
			break;
	}
	if (rc == 0 && r) {
		booking__log(bk, ctx, BOOKING_LOG_INFO, "hold extended", json_pack("{s:s}", "reservation_id", r->id));
		if (out)
			rc = booking__reservation_read(bk, r->id, out);
	}
	booking_reservation_free(r);
	return rc;
}

booking_error_code booking_reservation_extend(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                              const char *reservation_id, int minutes)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_EXTEND);
	return booking__scope_end(&sc, extend_run(out, bk, ctx, reservation_id, minutes));
}

static bool has_label(const booking_reservation *r, const char *label)
{
	for (size_t i = 0; i < r->seat_count; i++)
		if (strcmp(r->seats[i]->label, label) == 0)
			return true;
	return false;
}

static bool in_list(const char *const *list, size_t n, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], label) == 0)
			return true;
	return false;
}

typedef struct change_req {
	const char *const *add;
	size_t add_count;
	const char *const *remove;
	size_t remove_count;
} change_req;

/* One attempt at a change of seats, decided on `r` as read. */
static int change_attempt(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r, const change_req *c,
                          bool *again)
{
	*again = false;
	int64_t now = booking__now(bk);
	int rc = live_hold(r, now, "changed");
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < c->remove_count; i++)
		if (!has_label(r, c->remove[i]))
			return booking__error_json(BOOKING_EVALIDATION,
			                           json_pack("{s:s,s:s}", "field", "remove", "label", c->remove[i]),
			                           "remove: %s is not in the hold", c->remove[i]);
	for (size_t i = 0; i < c->add_count; i++)
		if (has_label(r, c->add[i]))
			return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "add", "label", c->add[i]),
			                           "add: %s is in the hold already", c->add[i]);
	size_t keep = r->seat_count - c->remove_count, n = keep + c->add_count;
	if (keep + c->add_count == 0)
		return booking__error_field("remove", "would leave no seat: cancel the reservation instead");
	if (n > (size_t)bk->cfg.max_seats_per_reservation)
		return booking__error_json(BOOKING_EVALIDATION,
		                           json_pack("{s:s,s:i}", "field", "add", "max", bk->cfg.max_seats_per_reservation),
		                           "add: a reservation holds at most %d seats", bk->cfg.max_seats_per_reservation);
	venue v;
	if ((rc = venue_read(bk, r->showtime_id, &v)) < 0)
		return rc;
	booking_reservation after = *r;
	void **refs = NULL;
	size_t *added = booking_calloc(c->add_count + 1, sizeof(*added)), *guards = booking_calloc(4 * n + 4, sizeof(*guards));
	booking_store_seat_write *w = booking_calloc(r->seat_count + 5 * n + 4, sizeof(*w));
	const char **taken = booking_calloc(c->add_count + 1, sizeof(*taken));
	size_t nguards = 0, ntaken = 0, nw = 0;
	if (!added || !guards || !w || !taken) {
		rc = booking_error_oom();
		goto done;
	}
	if ((rc = on_sale(&v)) < 0)
		goto done;
	/* the view the orphan rule judges: our removed seats free again, the added ones the take */
	for (size_t i = 0; i < c->remove_count; i++) {
		long p = venue_find(&v, c->remove[i]);
		if (p >= 0)
			v.pick[p].free = true;
	}
	for (size_t i = 0; i < c->add_count; i++) {
		long p = venue_find(&v, c->add[i]);
		if (p < 0) {
			rc = booking__seat_unknown_error(c->add[i]);
			goto done;
		}
		if (v.seats[p].status != BOOKING_SEAT_FREE)
			taken[ntaken++] = c->add[i];
		added[i] = (size_t)p;
	}
	if (ntaken) {
		rc = taken_error(taken, ntaken);
		goto done;
	}
	qsort(added, c->add_count, sizeof(*added), cmp_position);
	if (c->add_count && (rc = orphan_rule(bk, &v, added, c->add_count, guards, 4 * n + 4, &nguards)) < 0)
		goto done;
	if ((rc = booking_record_array_new(&refs, n, sizeof(booking_seat_ref))) < 0)
		goto done;
	int64_t until = now + (int64_t)bk->cfg.hold_expiry_minutes * 60000, cap = hold_cap(bk, r);
	if (until > cap)
		until = cap;
	if (until < r->expires_at)
		until = r->expires_at;
	after.seats = (booking_seat_ref **)refs;
	after.seat_count = n;
	after.total_amount = 0;
	after.expires_at = until;
	size_t k = 0;
	for (size_t i = 0; i < r->seat_count; i++) {
		const char *label = r->seats[i]->label;
		bool removed = in_list(c->remove, c->remove_count, label);
		w[nw++] = (booking_store_seat_write){.label = label,
		                                     .expect = BOOKING_SEAT_EXPECT_STATUS,
		                                     .expect_status = BOOKING_SEAT_HELD,
		                                     .expect_reservation = r->id,
		                                     .write = true,
		                                     .status = removed ? BOOKING_SEAT_FREE : BOOKING_SEAT_HELD,
		                                     .reservation_id = removed ? NULL : r->id,
		                                     .hold_until = removed ? 0 : until};
		if (!removed)
			*after.seats[k++] = *r->seats[i];
	}
	for (size_t i = 0; i < c->add_count; i++) {
		const venue_seat *s = &v.seats[added[i]];
		booking_seat_ref *ref = after.seats[k++];
		booking__copy(ref->label, sizeof(ref->label), s->label);
		booking__seat_split(s->label, ref->row, &ref->number);
		ref->position = (int)added[i];
		w[nw++] = (booking_store_seat_write){.label = s->label,
		                                     .expect = BOOKING_SEAT_EXPECT_CLAIMABLE,
		                                     .write = true,
		                                     .status = BOOKING_SEAT_HELD,
		                                     .reservation_id = r->id,
		                                     .hold_until = until};
	}
	for (size_t i = 0; i < n; i++) {
		long p = venue_find(&v, after.seats[i]->label);
		after.total_amount += p >= 0 && v.seats[p].price > 0 ? v.seats[p].price : 0;
	}
	guard_writes(w + nw, &v, guards, nguards);
	nw += nguards;
	unsigned long failures = booking__json_failures();
	json_t *data = booking__reservation_event_data(&after, NULL);
	json_t *add_j = json_array(), *rem_j = json_array();
	for (size_t i = 0; i < c->add_count; i++)
		json_array_append_new(add_j, json_string(c->add[i]));
	for (size_t i = 0; i < c->remove_count; i++)
		json_array_append_new(rem_j, json_string(c->remove[i]));
	if (data) {
		json_object_set_new(data, "added", add_j);
		json_object_set_new(data, "removed", rem_j);
	} else {
		json_decref(add_j);
		json_decref(rem_j);
	}
	data = booking__event_data_checked(data, failures);
	booking__event ev;
	if ((rc = booking__event_init(&ev, bk, ctx, "reservation.changed", "reservation", r->id, data)) < 0)
		goto done;
	/* the per-buyer limit: after the change the buyer has (before) - removed + added seats of the showtime */
	size_t limit = c->add_count > c->remove_count ? booking__user_seat_limit(bk) : 0;
	if (limit && n > limit) {
		booking__event_clear(&ev);
		rc = booking__limit_error(bk, n);
		goto done;
	}
	booking_store_guard g[2] = {{BOOKING_GUARD_RESERVATION_VERSION, r->id, r->version, NULL},
	                            {BOOKING_GUARD_USER_SEATS, r->user_id,
	                             (int64_t)limit - (int64_t)c->add_count + (int64_t)c->remove_count, r->showtime_id}};
	booking_store_reservation_set set = {.id = r->id, .status = r->status, .saga = r->saga, .updated_at = now,
	                                     .expires_at = until, .seat_count = n, .seats = after.seats,
	                                     .total_amount = after.total_amount};
	booking_store_change change = {.guard_count = limit ? 2 : 1, .guards = g, .reservation = &set, .event_count = 1,
	                               .events = &ev.rec, .showtime_id = r->showtime_id, .now = v.now,
	                               .seat_write_count = nw, .seat_writes = w};
	size_t failed = SIZE_MAX;
	rc = bk->store->ledger->apply(&failed, bk->store, &change);
	booking__event_clear(&ev);
	if (rc == BOOKING_EINVALID_STATE && failed == 1 && change.guard_count == 2)
		rc = booking__limit_error(bk, n);
	else if (rc == BOOKING_EINVALID_STATE && failed != SIZE_MAX)
		*again = true;
	else if (rc == 0 && c->remove_count) { /* seats came back: their keys too, then the waiting list's turn */
		booking__marks_drop(bk, ctx, r->showtime_id, r->id, c->remove, c->remove_count);
		booking__waitlist_returned(bk, r->showtime_id);
	}
done:
	booking_free(refs);
	booking_free(added);
	booking_free(guards);
	booking_free(w);
	booking_free(taken);
	venue_clear(&v);
	return rc;
}

static int change_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id,
                      const change_req *c)
{
	if (out)
		*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	size_t max = (size_t)bk->cfg.max_seats_per_reservation;
	int rc;
	if (c->add_count == 0 && c->remove_count == 0)
		return booking__error_field("add", "nothing to change: add or remove seats");
	if ((rc = check_labels("add", c->add, c->add_count, max)) < 0 ||
	    (rc = check_labels("remove", c->remove, c->remove_count, max)) < 0)
		return rc;
	for (size_t i = 0; i < c->add_count; i++)
		if (in_list(c->remove, c->remove_count, c->add[i]))
			return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "add", "label", c->add[i]),
			                           "add: %s is also removed", c->add[i]);
	booking_reservation *r = NULL;
	if ((rc = need_box_office(bk)) < 0 || (rc = load_own(&r, bk, ctx, reservation_id)) < 0)
		return rc;
	for (int attempt = 0; r; attempt++) {
		bool again = false;
		rc = change_attempt(bk, ctx, r, c, &again);
		if (!again)
			break;
		if ((rc = booking__reservation_reread(bk, &r, attempt, BOX_ATTEMPTS, "the seats kept changing")) < 0)
			break;
	}
	if (rc == 0 && r) {
		booking__log(bk, ctx, BOOKING_LOG_INFO, "hold changed", json_pack("{s:s}", "reservation_id", r->id));
		if (out)
			rc = booking__reservation_read(bk, r->id, out);
	}
	booking_reservation_free(r);
	return rc;
}

booking_error_code booking_reservation_change(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx,
                                              const char *reservation_id, const char *const *add, size_t add_count,
                                              const char *const *remove, size_t remove_count)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_CHANGE);
	change_req c = {add, add_count, remove, remove_count};
	return booking__scope_end(&sc, change_run(out, bk, ctx, reservation_id, &c));
}

/* ------------------------------------------------------------------------
 * Blocked seats.
 * ------------------------------------------------------------------------ */

static int block_run(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, const char *const *seats,
                     size_t n, const char *reason, bool block)
{
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc;
	if ((rc = booking__require_admin(ctx)) < 0 || (rc = booking__ctx_deadline(bk, ctx)) < 0)
		return rc;
	if (!showtime_id || booking__check_id("showtime_id", showtime_id) < 0)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	if (n == 0)
		return booking__error_field("seats", "name 1..%d seats", BLOCK_MAX);
	if ((rc = check_labels("seats", seats, n, BLOCK_MAX)) < 0)
		return rc;
	if (block && (!reason || (rc = booking__check_category("reason", reason)) < 0))
		return reason ? rc : booking__error_field("reason", "is required (wheelchair, press, broken, house, ...)");
	if ((rc = need_box_office(bk)) < 0)
		return rc;
	for (int attempt = 0;; attempt++) {
		venue v;
		if ((rc = venue_read(bk, showtime_id, &v)) < 0)
			return rc;
		booking_store_seat_write *w = booking_calloc(n, sizeof(*w));
		const char **bad = booking_calloc(n, sizeof(*bad));
		size_t nbad = 0;
		if (!w || !bad)
			rc = booking_error_oom();
		for (size_t i = 0; w && bad && v.seats && rc == 0 && i < n; i++) {
			long p = venue_find(&v, seats[i]);
			if (p < 0) {
				rc = booking__seat_unknown_error(seats[i]);
				break;
			}
			booking_seat_status now_is = v.seats[p].status;
			if (block ? now_is != BOOKING_SEAT_FREE : now_is != BOOKING_SEAT_BLOCKED)
				bad[nbad++] = seats[i];
			w[i] = (booking_store_seat_write){.label = v.seats[p].label,
			                                  .expect = block ? BOOKING_SEAT_EXPECT_CLAIMABLE : BOOKING_SEAT_EXPECT_STATUS,
			                                  .expect_status = BOOKING_SEAT_BLOCKED,
			                                  .write = true,
			                                  .status = block ? BOOKING_SEAT_BLOCKED : BOOKING_SEAT_FREE,
			                                  .note = block ? reason : NULL};
		}
		if (rc == 0 && nbad)
			rc = block ? taken_error(bad, nbad)
			           : booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "seat", bad[0]),
			                                 "seat %s is not blocked", bad[0]);
		size_t failed = SIZE_MAX;
		if (rc == 0) {
			unsigned long failures = booking__json_failures();
			json_t *list = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(list, json_string(seats[i]));
			json_t *data = json_pack("{s:s,s:o,s:s}", "showtime_id", showtime_id, "seats", list, "status",
			                         block ? "BLOCKED" : "FREE");
			if (data && block)
				json_object_set_new(data, "reason", json_string(reason));
			data = booking__event_data_checked(data, failures);
			booking__event ev;
			if ((rc = booking__event_init(&ev, bk, ctx, block ? "seats.blocked" : "seats.unblocked", "showtime",
			                              showtime_id, data)) == 0) {
				booking_store_change change = {.event_count = 1, .events = &ev.rec, .showtime_id = showtime_id,
				                               .now = v.now, .seat_write_count = n, .seat_writes = w};
				rc = bk->store->ledger->apply(&failed, bk->store, &change);
				booking__event_clear(&ev);
			}
		}
		booking_free(w);
		booking_free(bad);
		venue_clear(&v);
		if (rc != BOOKING_EINVALID_STATE || failed == SIZE_MAX)
			break;
		if (attempt + 1 >= BOX_ATTEMPTS)
			return booking_error_set(BOOKING_ELOCK_FAILED, NULL, "the seats kept changing; try again");
	}
	if (rc == 0)
		booking__log(bk, ctx, BOOKING_LOG_INFO, block ? "seats blocked" : "seats unblocked",
		             json_pack("{s:s,s:i}", "showtime_id", showtime_id, "seats", (int)n));
	if (rc == 0 && !block) /* seats came back: the waiting list's turn */
		booking__waitlist_returned(bk, showtime_id);
	return rc;
}

booking_error_code booking_seats_block(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                                       const char *const *seats, size_t seat_count, const char *reason)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_BLOCK);
	return booking__scope_end(&sc, block_run(bk, ctx, showtime_id, seats, seat_count, reason, true));
}

booking_error_code booking_seats_unblock(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                                         const char *const *seats, size_t seat_count)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_UNBLOCK);
	return booking__scope_end(&sc, block_run(bk, ctx, showtime_id, seats, seat_count, NULL, false));
}
