/*
 * Reservations: hold, read, cancel, expire.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"
#include "resilience.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void booking_reservation_free(booking_reservation *r)
{
	if (r) {
		booking_free(r->seats);
		booking_free(r);
	}
}

void booking_reservation_list_free(booking_reservation_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		booking_free(l->items[i]->seats);
	booking_free(l->items);
	booking_free(l->next_cursor);
	booking_free(l);
}

/*
 * The seats of a reservation as every record the library returns shows them:
 * in layout order (J9 J10 J11, not the label order J10 J11 J9), with the
 * row and number their labels name. Stores keep each seat's label and
 * position; the order and the row and number are decided here, once.
 */
static int cmp_ref_position(const void *a, const void *b)
{
	const booking_seat_ref *x = *(const booking_seat_ref *const *)a, *y = *(const booking_seat_ref *const *)b;
	if (x->position != y->position)
		return x->position < y->position ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* Sort refs[0..n) with `cmp` unless they are in its order already (the common case: no sort to pay for). */
static void sort_refs(booking_seat_ref **refs, size_t n, int (*cmp)(const void *, const void *))
{
	for (size_t i = 1; i < n; i++)
		if (cmp(&refs[i - 1], &refs[i]) > 0) {
			qsort(refs, n, sizeof(*refs), cmp);
			return;
		}
}

static void seats_arrange(booking_reservation *r)
{
	for (size_t i = 0; i < r->seat_count; i++)
		booking__seat_split(r->seats[i]->label, r->seats[i]->row, &r->seats[i]->number);
	sort_refs(r->seats, r->seat_count, cmp_ref_position);
}

int booking__reservation_read(booking_handle *bk, const char *id, booking_reservation **out)
{
	int rc = bk->store->ledger->reservation_get(out, bk->store, id);
	if (rc == 0)
		seats_arrange(*out);
	return rc;
}

int booking__reservation_reread(booking_handle *bk, booking_reservation **r, int attempt, int attempts,
                                const char *what)
{
	char id[BOOKING_ID_SIZE];
	booking__copy(id, sizeof(id), (*r)->id);
	booking_reservation_free(*r);
	*r = NULL;
	if (attempt + 1 >= attempts)
		return booking_error_set(BOOKING_ELOCK_FAILED, NULL, "%s; try again", what);
	return booking__reservation_read(bk, id, r);
}

/* A list item: the struct in place, its seats a block of their own. */
static int reservation_copy_into(booking_reservation *dst, const booking_reservation *src)
{
	void **seats = NULL;
	*dst = *src;
	int rc = booking__record_array_dup(&seats, (const void *const *)src->seats, src->seat_count,
	                                   sizeof(booking_seat_ref));
	dst->seats = (booking_seat_ref **)seats;
	return rc;
}

/* ---------- hold ---------- */

size_t booking__user_seat_limit(const booking_handle *bk)
{
	/* a store before ledger version 3 cannot count in the hold's transaction: no limit there (doc/configuration.md) */
	return bk->store->ledger->version >= 3 ? (size_t)bk->cfg.max_seats_per_user_showtime : 0;
}

typedef struct cooldown_scan {
	int64_t since;       /* cancellations after this count */
	int64_t last_cancel; /* the latest of them, 0: none */
} cooldown_scan;

static int cooldown_seen(const booking_reservation *b, void *payload)
{
	cooldown_scan *c = payload;
	if (b->status == BOOKING_RESERVATION_CANCELLED && b->updated_at > c->since && b->updated_at > c->last_cancel)
		c->last_cancel = b->updated_at;
	return 0;
}

/* The cooldown after a cancel, once: judged from the buyer's 20 newest reservations (a read, not in the hold's transaction). */
int booking__cooldown_check(booking_handle *bk, const char *user_id, int64_t now)
{
	int64_t window = (int64_t)bk->cfg.hold_cooldown_seconds * 1000;
	if (!window || !user_id)
		return 0;
	cooldown_scan c = {now - window, 0};
	int rc = bk->store->ledger->reservation_list_by_user(bk->store, user_id, 0, NULL, 20, cooldown_seen, &c);
	if (rc < 0 || !c.last_cancel)
		return rc;
	int64_t wait_s = (c.last_cancel + window - now + 999) / 1000;
	return booking__error_json(BOOKING_ELIMIT_REACHED,
	                           json_pack("{s:s,s:i,s:I}", "limit", "hold_cooldown_seconds", "max",
	                                     bk->cfg.hold_cooldown_seconds, "retry_after_seconds", (json_int_t)wait_s),
	                           "a hold was cancelled moments ago: hold again in %lld s", (long long)wait_s);
}

size_t booking__user_hold_limit(const booking_handle *bk)
{
	/* a store before ledger version 4 cannot count in the hold's transaction: no limit there */
	return bk->store->ledger->version >= 4 ? (size_t)bk->cfg.max_live_holds_per_user : 0;
}

int booking__hold_limit_error(const booking_handle *bk)
{
	return booking__error_json(BOOKING_ELIMIT_REACHED,
	                           json_pack("{s:s,s:i}", "limit", "max_live_holds_per_user", "max",
	                                     bk->cfg.max_live_holds_per_user),
	                           "a buyer may have at most %d live holds at once: pay for or cancel one first",
	                           bk->cfg.max_live_holds_per_user);
}

typedef struct live_scan {
	int64_t now;
	size_t live;
} live_scan;

static int live_seen(const booking_reservation *b, void *payload)
{
	live_scan *l = payload;
	if (b->status == BOOKING_RESERVATION_PENDING && b->expires_at > l->now)
		l->live++;
	return 0;
}

/*
 * The store refused a hold carrying both limits: which one? Only the
 * wording rests on this read (the refusal itself was the transaction's):
 * live holds are recent, so the buyer's newest reservations tell.
 */
static int which_limit(booking_handle *bk, const booking_reservation *r, int64_t now)
{
	live_scan l = {now, 0};
	(void)bk->store->ledger->reservation_list_by_user(bk->store, r->user_id, 0, NULL, 200, live_seen, &l);
	return l.live >= booking__user_hold_limit(bk) ? booking__hold_limit_error(bk)
	                                                : booking__limit_error(bk, r->seat_count);
}

int booking__limit_error(const booking_handle *bk, size_t wanted)
{
	return booking__error_json(BOOKING_ELIMIT_REACHED,
	                           json_pack("{s:s,s:i,s:i}", "limit", "max_seats_per_user_showtime", "max",
	                                     bk->cfg.max_seats_per_user_showtime, "seats", (int)wanted),
	                           "a buyer may hold or buy at most %d seats of a showtime",
	                           bk->cfg.max_seats_per_user_showtime);
}

static int cmp_ref(const void *a, const void *b)
{
	return strcmp((*(const booking_seat_ref *const *)a)->label, (*(const booking_seat_ref *const *)b)->label);
}

/*
 * Validate the labels into `refs` (n entries) and sort them by label: a
 * consistent order for the lock keys and for finding duplicates (the
 * reservation shows them in layout order: seats_arrange()).
 */
static int hold_labels(booking_seat_ref **refs, const char *const *labels, size_t n)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		if ((rc = booking__check_label("seats", labels[i])) < 0)
			return rc;
		booking__copy(refs[i]->label, sizeof(refs[i]->label), labels[i]);
	}
	sort_refs(refs, n, cmp_ref);
	for (size_t i = 1; i < n; i++)
		if (strcmp(refs[i - 1]->label, refs[i]->label) == 0)
			return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "seats", "label", refs[i]->label),
			                           "seats: %s is requested twice", refs[i]->label);
	return 0;
}

static int seats_taken_error(const booking_seat_ref *taken, size_t n)
{
	json_t *list = json_array();
	char msg[256] = "";
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(list, json_string(taken[i].label));
		if (strlen(msg) + strlen(taken[i].label) + 3 < sizeof(msg)) {
			strcat(msg, i ? ", " : "");
			strcat(msg, taken[i].label);
		}
	}
	return booking__error_json(BOOKING_ESEAT_ALREADY_BOOKED, json_pack("{s:o}", "seats", list),
	                           n == 1 ? "seat %s is already booked" : "seats %s are already booked", msg);
}

/* Lock keys of the seats, "seat:<showtime>:<label>", in the order of `refs` (by label). */
static char **lock_keys(const char *showtime_id, booking_seat_ref *const *refs, size_t n)
{
	char **keys = booking_calloc(n, sizeof(*keys));
	if (!keys)
		return NULL;
	size_t len = strlen(showtime_id) + BOOKING_LABEL_SIZE + 8;
	for (size_t i = 0; i < n; i++) {
		keys[i] = booking_malloc(len);
		if (!keys[i]) {
			for (size_t j = 0; j < i; j++)
				booking_free(keys[j]);
			booking_free(keys);
			return NULL;
		}
		snprintf(keys[i], len, "seat:%s:%s", showtime_id, refs[i]->label);
	}
	return keys;
}

static void lock_keys_free(char **keys, size_t n)
{
	if (!keys)
		return;
	for (size_t i = 0; i < n; i++)
		booking_free(keys[i]);
	booking_free(keys);
}

/*
 * Marks. With a lock manager of version 3 (acquire_all_why and settle), a
 * named hold the store accepted hands its seat keys to the owner
 * "held:<reservation id>" until the hold's expiry (by the handle's clock:
 * the store's on PostgreSQL): a later buyer of such a seat is answered
 * SEAT_ALREADY_BOOKED by the lock manager, without asking the store. Every
 * change that frees the seats earlier drops the marks after it is stored.
 * A mark only ever stands for a live hold (or a sale) the store would
 * refuse too; one left behind (the manager down) lapses with the hold.
 */
#define MARK_PREFIX "held:"

typedef char mark_owner[sizeof MARK_PREFIX + BOOKING_ID_SIZE];

static bool marks_on(const booking_lock_manager *lm)
{
	return lm && lm->version >= 3 && lm->acquire_all_why && lm->settle;
}

static void mark_owner_of(mark_owner out, const char *reservation_id)
{
	snprintf(out, sizeof(mark_owner), MARK_PREFIX "%s", reservation_id);
}

/* Lock keys of the seats, "seat:<showtime>:<label>", in the order of `labels`; NULL when out of memory. */
static char **lock_keys_of(const char *showtime_id, const char *const *labels, size_t n)
{
	char **keys = booking_calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	size_t len = strlen(showtime_id) + BOOKING_LABEL_SIZE + 8;
	for (size_t i = 0; i < n; i++) {
		if (!(keys[i] = booking_malloc(len))) {
			for (size_t j = 0; j < i; j++)
				booking_free(keys[j]);
			booking_free(keys);
			return NULL;
		}
		snprintf(keys[i], len, "seat:%s:%s", showtime_id, labels[i]);
	}
	return keys;
}

/* A release of the guard's keys (or marks) failed: the manager is down, say so once; what was left lapses. */
static void release_failed(booking_handle *bk, const booking_ctx *ctx, const char *what)
{
	if (!atomic_exchange(&bk->locks_degraded, true))
		booking__log(bk, ctx, BOOKING_LOG_WARNING, what, json_pack("{s:s}", "error", booking_error_last()->message));
}

/* Drop the marks of `labels` (ttl_ms 0), or give them `ttl_ms` from now (settle to the same owner). */
static void marks_set(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id, const char *reservation_id,
                      const char *const *labels, size_t n, int64_t ttl_ms)
{
	if (!marks_on(bk->locks) || n == 0)
		return;
	mark_owner owner;
	mark_owner_of(owner, reservation_id);
	char **keys = lock_keys_of(showtime_id, labels, n);
	const char *const *k = (const char *const *)keys;
	int rc = !keys ? booking_error_oom()
	         : ttl_ms > 0 ? bk->locks->settle(bk->locks, k, n, owner, owner, ttl_ms)
	                      : bk->locks->release_all(bk->locks, k, n, owner);
	if (rc < 0)
		release_failed(bk, ctx, "lock manager: the marks of a hold were not updated; they lapse with the hold");
	lock_keys_free(keys, n);
}

void booking__marks_drop(booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                         const char *reservation_id, const char *const *labels, size_t n)
{
	marks_set(bk, ctx, showtime_id, reservation_id, labels, n, 0);
}

/* marks_set() of every seat of `r`. */
static void marks_set_all(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r, int64_t ttl_ms)
{
	if (!marks_on(bk->locks) || !r->seat_count)
		return;
	const char **labels = booking_calloc(r->seat_count, sizeof(*labels));
	if (!labels)
		return; /* the marks lapse with the hold */
	for (size_t i = 0; i < r->seat_count; i++)
		labels[i] = r->seats[i]->label;
	marks_set(bk, ctx, r->showtime_id, r->id, labels, r->seat_count, ttl_ms);
	booking_free(labels);
}

void booking__marks_drop_all(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r)
{
	marks_set_all(bk, ctx, r, 0);
}

void booking__marks_until(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r, int64_t until)
{
	if (until < r->expires_at) /* a longer hold only outlives its marks: harmless */
		marks_set_all(bk, ctx, r, until - booking__now(bk));
}

void booking__marks_sold(booking_handle *bk, const booking_ctx *ctx, const booking_reservation *r)
{
	int64_t ttl = r->expires_at - booking__now(bk);
	if (ttl > 0)
		marks_set_all(bk, ctx, r, ttl);
}

/*
 * The store accepted the hold `r` taken under the guard's keys (owner r->id):
 * the keys become its marks until its expiry. Without marks (or with no time
 * left), the keys are released as before. One round trip either way.
 */
static void guard_settle(booking_handle *bk, const booking_ctx *ctx, char **keys, size_t n, const booking_reservation *r)
{
	int64_t ttl = r->expires_at - booking__now(bk);
	int rc;
	if (marks_on(bk->locks) && ttl > 0) {
		mark_owner owner;
		mark_owner_of(owner, r->id);
		rc = bk->locks->settle(bk->locks, (const char *const *)keys, n, r->id, owner, ttl);
	} else {
		rc = bk->locks->release_all(bk->locks, (const char *const *)keys, n, r->id);
	}
	if (rc < 0) /* the keys lapse with the guard's TTL */
		release_failed(bk, ctx, "lock manager unavailable; holding through the store alone");
}

/*
 * The contention guard: all seat keys or none, retried with jittered
 * backoff. 1 = guarded, 0 = proceed unguarded (no manager, or it is down:
 * slower, never unsafe), <0 = busy after retries, or SEAT_ALREADY_BOOKED at
 * once when a key is the mark of a live hold. Keys are "seat:<showtime>:<label>",
 * the label from byte `label_at`.
 */
static int guard_acquire(booking_handle *bk, const booking_ctx *ctx, char **keys, size_t n, const char *owner,
                         size_t label_at)
{
	if (!bk->locks)
		return 0;
	int64_t ttl = (int64_t)bk->cfg.lock_ttl_seconds * 1000;
	bool marks = marks_on(bk->locks);
	for (int attempt = 0;; attempt++) {
		size_t blocked = SIZE_MAX;
		char blocker[sizeof(mark_owner)] = "";
		int rc = marks ? bk->locks->acquire_all_why(bk->locks, (const char *const *)keys, n, owner, ttl, &blocked,
		                                            blocker, sizeof blocker)
		               : bk->locks->acquire_all(bk->locks, (const char *const *)keys, n, owner, ttl);
		if (rc == BOOKING_ELOCKED && blocked < n && strncmp(blocker, MARK_PREFIX, strlen(MARK_PREFIX)) == 0) {
			/* held by a live hold: the store would refuse, worded as it would be */
			booking_seat_ref taken = {0};
			booking__copy(taken.label, sizeof(taken.label), keys[blocked] + label_at);
			return seats_taken_error(&taken, 1);
		}
		if (rc == 0 || rc == BOOKING_ELOCKED) {
			if (atomic_exchange(&bk->locks_degraded, false))
				booking__log(bk, ctx, BOOKING_LOG_WARNING, "lock manager answers again; contention guard back on", NULL);
			if (rc == 0)
				return 1;
		} else {
			/* Down: slower, never unsafe — the store's guarded update still decides. Say so once. */
			if (!atomic_exchange(&bk->locks_degraded, true))
				booking__log(bk, ctx, BOOKING_LOG_WARNING, "lock manager unavailable; holding through the store alone",
				             json_pack("{s:s}", "error", booking_error_last()->message));
			return 0;
		}
		if (attempt + 1 >= bk->cfg.lock_retry_count)
			return booking_error_set(BOOKING_ELOCK_FAILED, NULL,
			                         "seats are being booked by someone else; retry (%d attempts)", attempt + 1);
		/* full jitter around the configured delay, growing per attempt */
		uint64_t cap = (uint64_t)bk->cfg.lock_retry_delay_ms << (attempt < 4 ? attempt : 4);
		booking__sleep(bk, (int64_t)(cap / 2 + booking__random(bk, cap / 2 + 1)));
	}
}

static void guard_release(booking_handle *bk, char **keys, size_t n, const char *owner)
{
	if (bk->locks) /* it is, for whoever took keys */
		(void)bk->locks->release_all(bk->locks, (const char *const *)keys, n, owner);
}

static int hold_commit(booking_handle *bk, const booking_ctx *ctx, booking_reservation *r, int64_t now)
{
	booking__event ev;
	int rc = booking__event_init_text(&ev, bk, ctx, "reservation.created", "reservation", r->id, booking__reservation_event_text(r, NULL));
	if (rc < 0)
		return rc;
	booking_seat_ref *taken = booking_calloc(r->seat_count, sizeof(*taken));
	if (!taken) {
		booking__event_clear(&ev);
		return booking_error_oom();
	}
	size_t ntaken = 0;
	booking_store_hold req = {.reservation = r, .now = now, .event = &ev.rec,
	                          .user_seat_limit = booking__user_seat_limit(bk),
	                          .user_hold_limit = booking__user_hold_limit(bk),
	                          .live_status = BOOKING_RESERVATION_PENDING};
	rc = bk->store->ledger->hold(taken, &ntaken, bk->store, &req);
	/* the store names the seats that refused the hold; the core words the refusal */
	if (rc == BOOKING_ELIMIT_REACHED && req.user_hold_limit && req.user_seat_limit)
		rc = which_limit(bk, r, now);
	else if (rc == BOOKING_ELIMIT_REACHED)
		rc = req.user_hold_limit ? booking__hold_limit_error(bk) : booking__limit_error(bk, r->seat_count);
	else if (rc == BOOKING_ESEAT_ALREADY_BOOKED)
		rc = ntaken ? seats_taken_error(taken, ntaken)
		            : booking_error_set(BOOKING_ESEAT_ALREADY_BOOKED, NULL, "seats are already booked");
	else if (rc == BOOKING_EVALIDATION && ntaken)
		rc = booking__seat_unknown_error(taken[0].label);
	booking_free(taken);
	booking__event_clear(&ev);
	return rc;
}

int booking__hold_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                      const char *const *seat_labels, size_t seat_count)
{
	if (out)
		*out = NULL;
	int rc;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if ((rc = booking__require_user(ctx)) < 0 || (rc = booking__ctx_deadline(bk, ctx)) < 0)
		return rc;
	if (booking__check_id("showtime_id", showtime_id) < 0)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	if (bk->cfg.orphan_policy != BOOKING_ORPHANS_OFF && bk->store->ledger->version >= 2)
		return booking__hold_named(out, bk, ctx, showtime_id, seat_labels, seat_count); /* the neighbours decide too */
	if (!seat_labels || seat_count == 0 || seat_count > (size_t)bk->cfg.max_seats_per_reservation)
		return booking__error_json(BOOKING_EVALIDATION,
		                           json_pack("{s:s,s:i,s:i}", "field", "seats", "min", 1, "max",
		                                     bk->cfg.max_seats_per_reservation),
		                           "seats: hold 1..%d seats", bk->cfg.max_seats_per_reservation);
	if ((rc = booking__cooldown_check(bk, ctx->user_id, booking__now(bk))) < 0 ||
	    (rc = booking__rate_take(bk, ctx, BOOKING__RATE_HOLD, ctx->user_id)) < 0)
		return rc;
	booking_reservation r = {0};
	void **refs;
	if ((rc = booking_record_array_new(&refs, seat_count, sizeof(booking_seat_ref))) < 0)
		return rc;
	r.seats = (booking_seat_ref **)refs;
	r.seat_count = seat_count;
	char **keys = NULL;
	int guarded = 0;
	int64_t now = booking__now(bk);
	if ((rc = hold_labels(r.seats, seat_labels, seat_count)) < 0 || (rc = booking__showtime_price(bk, showtime_id, &r, now)) < 0)
		goto done;
	booking_uuid_v7(r.id, now);
	booking__copy(r.user_id, sizeof(r.user_id), ctx->user_id);
	booking__copy(r.showtime_id, sizeof(r.showtime_id), showtime_id);
	r.status = BOOKING_RESERVATION_PENDING;
	r.saga = BOOKING_SAGA_SEATS_RESERVED;
	r.created_at = r.updated_at = now;
	r.expires_at = now + (int64_t)bk->cfg.hold_expiry_minutes * 60000;
	r.version = 1;
	/* the guard takes every named hold, or (lock_contended_seconds) only those of a contended showtime */
	bool guard = bk->locks && (!bk->cfg.lock_contended_seconds || booking__showtime_contended(bk, showtime_id, now));
	if (guard && !(keys = lock_keys(showtime_id, r.seats, seat_count))) {
		rc = booking_error_oom();
		goto done;
	}
	seats_arrange(&r); /* the store, the event and the caller get them in layout order */
	if (guard &&
	    (rc = guarded = guard_acquire(bk, ctx, keys, seat_count, r.id, strlen("seat::") + strlen(showtime_id))) < 0) {
		if (rc == BOOKING_ESEAT_ALREADY_BOOKED || rc == BOOKING_ELOCK_FAILED)
			booking__showtime_contention(bk, showtime_id, now);
		goto done;
	}
	rc = hold_commit(bk, ctx, &r, now);
	if (rc == BOOKING_ESEAT_ALREADY_BOOKED && bk->locks)
		booking__showtime_contention(bk, showtime_id, now); /* a seat was taken: the guard is worth its round trips */
	if (guarded && rc == 0)
		guard_settle(bk, ctx, keys, seat_count, &r);
	else if (guarded)
		guard_release(bk, keys, seat_count, r.id);
	if (rc < 0)
		goto done;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "seats held",
	             json_pack("{s:s,s:s,s:i}", "reservation_id", r.id, "showtime_id", showtime_id, "seats", (int)seat_count));
	if (out)
		rc = booking_reservation_copy(out, &r);
done:
	lock_keys_free(keys, seat_count);
	booking_free(r.seats);
	return rc;
}

booking_error_code booking_hold(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id,
                 const char *const *seat_labels, size_t seat_count)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_HOLD);
	return booking__scope_end(&sc, booking__hold_run(out, bk, ctx, showtime_id, seat_labels, seat_count));
}

/* ---------- read ---------- */

/* Load a reservation the actor may see. */
static int load_visible(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id)
{
	*out = NULL;
	int rc = booking__ctx_check(ctx);
	if (rc < 0)
		return rc;
	if (!booking__is_privileged(ctx) && (rc = booking__require_user(ctx)) < 0)
		return rc;
	if (booking__check_id("reservation_id", reservation_id) < 0)
		return booking_store_not_found(BOOKING_ERESERVATION_NOT_FOUND);
	booking_reservation *r = NULL;
	if ((rc = booking__reservation_read(bk, reservation_id, &r)) < 0)
		return rc;
	if (!booking__is_privileged(ctx) && strcmp(r->user_id, ctx->user_id) != 0) {
		booking_reservation_free(r);
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "not your reservation");
	}
	*out = r;
	return 0;
}

static int reservation_get_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id)
{
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	return load_visible(out, bk, ctx, reservation_id);
}

booking_error_code booking_reservation_get(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_RESERVATION_GET);
	return booking__scope_end(&sc, reservation_get_run(out, bk, ctx, reservation_id));
}

/*
 * Paged listing. A page cursor is "<created_at>.<id>" of the last reservation of
 * the page: the store resumes strictly after that key, so rows inserted
 * between calls (newer, hence before the key) never shift the walk.
 */

typedef struct page_key {
	int64_t created_at;
	char id[BOOKING_ID_SIZE];
} page_key;

/* Digits of INT64_MAX: a longer run of digits cannot be a created_at. */
#define PAGE_KEY_DIGITS 19

static int cursor_invalid(void)
{
	return booking__error_field("cursor", "is not a cursor this listing returned");
}

/* Parse the decimal created_at of a cursor, "-"? then 1..19 digits, without overflow. */
static int cursor_parse_time(const char *s, size_t len, int64_t *out)
{
	bool negative = len > 0 && s[0] == '-';
	size_t i = negative ? 1 : 0;
	uint64_t v = 0;
	if (len == i || len - i > PAGE_KEY_DIGITS)
		return cursor_invalid();
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return cursor_invalid();
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return cursor_invalid();
	*out = negative ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int cursor_parse(page_key *key, const char *cursor)
{
	size_t len = strnlen(cursor, BOOKING_CURSOR_SIZE);
	if (len >= BOOKING_CURSOR_SIZE)
		return cursor_invalid();
	const char *dot = memchr(cursor, '.', len);
	if (!dot || (size_t)(cursor + len - dot - 1) != BOOKING_ID_SIZE - 1)
		return cursor_invalid();
	int rc = cursor_parse_time(cursor, (size_t)(dot - cursor), &key->created_at);
	if (rc < 0)
		return rc;
	memcpy(key->id, dot + 1, BOOKING_ID_SIZE);
	if (booking__check_id("cursor", key->id) < 0)
		return cursor_invalid();
	/* one spelling per key: no leading zeros, no "-0" */
	char again[BOOKING_CURSOR_SIZE];
	snprintf(again, sizeof again, "%" PRId64 ".%s", key->created_at, key->id);
	return strcmp(again, cursor) == 0 ? 0 : cursor_invalid();
}

static int cursor_format(char **out, const booking_reservation *last)
{
	char buf[BOOKING_CURSOR_SIZE];
	int n = snprintf(buf, sizeof buf, "%" PRId64 ".%s", last->created_at, last->id);
	if (n < 0 || (size_t)n >= sizeof buf)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "page cursor does not fit");
	*out = booking_strdup(buf);
	return *out ? 0 : booking_error_oom();
}

typedef struct res_collector {
	booking_reservation_list *l;
	size_t cap; /* rows asked of the store: a page and one more */
} res_collector;

static int collect_reservation(const booking_reservation *b, void *payload)
{
	res_collector *c = payload;
	/* a store that returns more than it was asked for cannot grow the page */
	if (c->l->count == c->cap)
		return 0;
	int rc = reservation_copy_into(c->l->items[c->l->count], b);
	if (rc == 0)
		seats_arrange(c->l->items[c->l->count++]);
	return rc;
}

static int page_request(size_t *limit, page_key *after, bool *has_after, size_t limit_in, const char *cursor)
{
	if (limit_in > BOOKING_PAGE_MAX)
		return booking__error_field("limit", "must be 0 (default %d) .. %d", BOOKING_PAGE_DEFAULT,
		                            BOOKING_PAGE_MAX);
	*limit = limit_in ? limit_in : BOOKING_PAGE_DEFAULT;
	*has_after = cursor && *cursor;
	return *has_after ? cursor_parse(after, cursor) : 0;
}

/* The row past the page only tells that another page follows: drop it, cursor on the last kept. */
static int page_finish(booking_reservation_list *l, size_t limit)
{
	if (l->count <= limit)
		return 0;
	for (size_t i = limit; i < l->count; i++)
		booking_free(l->items[i]->seats);
	l->count = limit;
	return cursor_format(&l->next_cursor, l->items[limit - 1]);
}

/* One page from `fetch` (the store's read, by user or by showtime), in the order and paging both share. */
typedef int (*page_fetch)(booking_handle *bk, const void *arg, int64_t after_created_at, const char *after_id,
                          size_t max, res_collector *c);

static int list_page(booking_reservation_list **out, booking_handle *bk, size_t limit_in, const char *cursor,
                     page_fetch fetch, const void *arg)
{
	size_t limit = 0;
	page_key after = {0, ""};
	bool has_after = false;
	int rc = page_request(&limit, &after, &has_after, limit_in, cursor);
	if (rc < 0)
		return rc;
	res_collector c = {booking_calloc(1, sizeof(booking_reservation_list)), limit + 1};
	if (!c.l)
		return booking_error_oom();
	/* the page's records in one block, a pointer each (records.c); only the first `count` are filled */
	void **items;
	if ((rc = booking_record_array_new(&items, c.cap, sizeof(booking_reservation))) < 0) {
		booking_free(c.l);
		return rc;
	}
	c.l->items = (booking_reservation **)items;
	rc = fetch(bk, arg, has_after ? after.created_at : 0, has_after ? after.id : NULL, c.cap, &c);
	if (rc == 0)
		rc = page_finish(c.l, limit);
	if (rc < 0) {
		booking_reservation_list_free(c.l);
		return rc;
	}
	*out = c.l;
	return 0;
}

static int fetch_by_user(booking_handle *bk, const void *user_id, int64_t after_created_at, const char *after_id,
                         size_t max, res_collector *c)
{
	return bk->store->ledger->reservation_list_by_user(bk->store, user_id, after_created_at, after_id, max,
	                                                   collect_reservation, c);
}

static int list_for_user_run(booking_reservation_list **out, booking_handle *bk, const booking_ctx *ctx,
                             const char *user_id, size_t limit_in, const char *cursor)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	if (!user_id) {
		if ((rc = booking__require_user(ctx)) < 0)
			return rc;
		user_id = ctx->user_id;
	} else if ((rc = booking__check_user_id("user_id", user_id)) < 0) {
		return rc;
	} else if (!booking__is_privileged(ctx) && (!ctx->user_id || strcmp(ctx->user_id, user_id) != 0)) {
		return booking_error_set(BOOKING_EFORBIDDEN, NULL, "only admins may list other users' reservations");
	}
	return list_page(out, bk, limit_in, cursor, fetch_by_user, user_id);
}

typedef struct showtime_filter {
	const char *showtime_id;
	booking_reservation_status status;
} showtime_filter;

static int fetch_by_showtime(booking_handle *bk, const void *arg, int64_t after_created_at, const char *after_id,
                             size_t max, res_collector *c)
{
	const showtime_filter *f = arg;
	return bk->store->ledger->reservation_list_by_showtime(bk->store, f->showtime_id, f->status, after_created_at,
	                                                       after_id, max, collect_reservation, c);
}

static int list_for_showtime_run(booking_reservation_list **out, booking_handle *bk, const booking_ctx *ctx,
                                 const char *showtime_id, int status, size_t limit_in, const char *cursor)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__require_admin(ctx)) < 0)
		return rc;
	if (status != 0 && (status < BOOKING_RESERVATION_PENDING || status > BOOKING_RESERVATION_EXPIRED))
		return booking__error_field("status", "must be 0 (all) or a reservation status (1..5)");
	if (bk->store->ledger->version < 2)
		return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "the store cannot list a showtime's reservations");
	if (!showtime_id || booking__check_id("showtime_id", showtime_id) < 0)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	booking_showtime *st = NULL;
	if ((rc = bk->store->catalog->showtime_get(&st, bk->store, showtime_id)) < 0)
		return rc;
	booking_showtime_free(st);
	showtime_filter f = {showtime_id, (booking_reservation_status)status};
	return list_page(out, bk, limit_in, cursor, fetch_by_showtime, &f);
}

booking_error_code booking_reservation_list_for_showtime(booking_reservation_list **out, booking_handle *bk,
                                                         const booking_ctx *ctx, const char *showtime_id, int status,
                                                         size_t limit, const char *cursor)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_LIST_FOR_SHOWTIME);
	return booking__scope_end(&sc, list_for_showtime_run(out, bk, ctx, showtime_id, status, limit, cursor));
}

booking_error_code booking_reservation_list_for_user(booking_reservation_list **out, booking_handle *bk, const booking_ctx *ctx,
                                      const char *user_id, size_t limit, const char *cursor)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_RESERVATION_LIST);
	return booking__scope_end(&sc, list_for_user_run(out, bk, ctx, user_id, limit, cursor));
}

/* ---------- cancel / expire ---------- */

/*
 * The rule of closing a hold, once: only a PENDING reservation closes; a user
 * cancels a live hold (an expired one answers RESERVATION_EXPIRED), the sweep
 * expires a hold whose time is up. 0 when `r` may move to `to` at `now`.
 */
static int may_close(const booking_reservation *r, booking_reservation_status to, int64_t now)
{
	if (r->status != BOOKING_RESERVATION_PENDING)
		return booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "status", booking_reservation_status_name(r->status)),
		                           to == BOOKING_RESERVATION_CANCELLED ? "%s %s reservation cannot be cancelled"
		                                                          : "%s %s reservation cannot expire",
		                           booking__article(booking_reservation_status_name(r->status)), booking_reservation_status_name(r->status));
	if (to == BOOKING_RESERVATION_CANCELLED && r->expires_at <= now)
		return booking_error_set(BOOKING_EEXPIRED, NULL, "the hold has expired");
	if (to == BOOKING_RESERVATION_EXPIRED && r->expires_at > now)
		return booking__error_json(BOOKING_EINVALID_STATE, json_pack("{s:s}", "status", "PENDING"),
		                           "the hold has not expired");
	return 0;
}

/* How often a change is decided again when the reservation moved under it before giving up. */
#define CLOSE_ATTEMPTS 8

/*
 * Cancel or expire a reservation: decide from what is stored, hand the store
 * the change guarded by the version the decision saw (status, saga
 * COMPENSATED, its held seats freed, the event), and decide again when the
 * reservation moved meanwhile. `r` is the first read (taken over, freed).
 */
static int close_booking(booking_handle *bk, const booking_ctx *ctx, booking_reservation *r, booking_reservation_status to)
{
	int rc = 0;
	char showtime_id[BOOKING_ID_SIZE];
	booking__copy(showtime_id, sizeof(showtime_id), r->showtime_id);
	for (int attempt = 0;; attempt++) {
		int64_t now = booking__now(bk);
		if ((rc = may_close(r, to, now)) < 0)
			break;
		booking_reservation after = *r;
		after.status = to;
		booking__event ev;
		rc = booking__event_init_text(&ev, bk, ctx, to == BOOKING_RESERVATION_CANCELLED ? "reservation.cancelled" : "reservation.expired",
		                         "reservation", r->id,
		                         booking__reservation_event_text(&after, to == BOOKING_RESERVATION_CANCELLED ? "cancelled by user"
		                                                                                             : "hold expired"));
		if (rc < 0)
			break;
		booking_store_guard guard = {BOOKING_GUARD_RESERVATION_VERSION, r->id, r->version, NULL};
		booking_store_reservation_set set = {.id = r->id, .status = to, .saga = BOOKING_SAGA_COMPENSATED, .updated_at = now};
		booking_store_seat_move seats = {r->id, BOOKING_SEAT_HELD, BOOKING_SEAT_FREE, 0};
		booking_store_change change = {.guard_count = 1, .guards = &guard, .reservation = &set, .seats = &seats, .event_count = 1, .events = &ev.rec};
		size_t failed = SIZE_MAX;
		rc = bk->store->ledger->apply(&failed, bk->store, &change);
		booking__event_clear(&ev);
		if (rc != BOOKING_EINVALID_STATE || failed == SIZE_MAX)
			break;
		/* the reservation moved: read it again and decide again */
		if ((rc = booking__reservation_reread(bk, &r, attempt, CLOSE_ATTEMPTS, "the reservation kept changing")) < 0)
			break;
	}
	if (rc == 0) /* its seats are free again: so are their keys */
		booking__marks_drop_all(bk, ctx, r);
	booking_reservation_free(r);
	if (rc == 0) /* its seats came back: the waiting list's turn */
		booking__waitlist_returned(bk, showtime_id);
	return rc;
}

static int cancel_run(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id)
{
	if (out)
		*out = NULL;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	booking_reservation *r = NULL;
	int rc = load_visible(&r, bk, ctx, reservation_id);
	if (rc < 0)
		return rc;
	char id[BOOKING_ID_SIZE];
	booking__copy(id, sizeof(id), r->id);
	rc = close_booking(bk, ctx, r, BOOKING_RESERVATION_CANCELLED);
	if (rc == 0) {
		booking__log(bk, ctx, BOOKING_LOG_INFO, "reservation cancelled", json_pack("{s:s}", "reservation_id", id));
		if (out)
			rc = booking__reservation_read(bk, id, out);
	}
	return rc;
}

booking_error_code booking_reservation_cancel(booking_reservation **out, booking_handle *bk, const booking_ctx *ctx, const char *reservation_id)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_CANCEL);
	return booking__scope_end(&sc, cancel_run(out, bk, ctx, reservation_id));
}

typedef struct due_list {
	char (*ids)[BOOKING_ID_SIZE];
	size_t count, max;
} due_list;

static int collect_due(const booking_reservation *b, void *payload)
{
	due_list *d = payload;
	if (d->count < d->max)
		booking__copy(d->ids[d->count++], BOOKING_ID_SIZE, b->id);
	return 0;
}

static int expire_due_run(booking_handle *bk, const booking_ctx *ctx, size_t max, size_t *expired_out)
{
	if (expired_out)
		*expired_out = 0;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	int rc = booking__require_admin(ctx);
	if (rc < 0)
		return rc;
	if (max == 0)
		return 0;
	if (max > 10000)
		max = 10000;
	due_list d = {booking_calloc(max, BOOKING_ID_SIZE), 0, max};
	if (!d.ids)
		return booking_error_oom();
	size_t expired = 0;
	int64_t now = booking__now(bk);
	if ((rc = bk->store->ledger->reservation_list_by_status(bk->store, BOOKING_RESERVATION_PENDING, now, max, collect_due, &d)) < 0)
		goto done;
	for (size_t i = 0; i < d.count; i++) {
		booking_reservation *r = NULL;
		if ((rc = booking__reservation_read(bk, d.ids[i], &r)) < 0)
			goto done;
		rc = close_booking(bk, ctx, r, BOOKING_RESERVATION_EXPIRED);
		if (rc == 0)
			expired++;
		else if (rc != BOOKING_EINVALID_STATE && rc != BOOKING_ELOCK_FAILED) /* lost a race with pay/cancel: fine, next pass */
			goto done;
		rc = 0;
	}
done:
	if (expired)
		booking__log(bk, ctx, BOOKING_LOG_INFO, "holds expired", json_pack("{s:i}", "count", (int)expired));
	if (expired_out)
		*expired_out = expired; /* those expired before a failure too, as the relay and the consumers count */
	booking_free(d.ids);
	return rc;
}

booking_error_code booking_expire_due(size_t *expired_out, booking_handle *bk, const booking_ctx *ctx, size_t max)
{
	booking__scope sc;
	ctx = booking__scope_begin(&sc, bk, ctx, BOOKING__OP_EXPIRE_DUE);
	return booking__scope_end(&sc, expire_due_run(bk, ctx, max, expired_out));
}
