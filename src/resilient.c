/*
 * Resilient backends: decorators that implement the store, lock manager,
 * event publisher and payment gateway vtables by wrapping the real ones, and
 * put around every call to them:
 *
 *   - the ctx deadline of the use case running on this thread: a call that
 *     starts work is refused with SERVICE_UNAVAILABLE once it has passed
 *     (calls that finish or undo work already done — pay_finish, refund,
 *     release_all, inbox_mark, ... — are never refused for it);
 *   - the dependency's circuit breaker: OPEN answers SERVICE_UNAVAILABLE at
 *     once, without touching the dependency;
 *   - retries with exponential backoff and full jitter, for transient errors
 *     of idempotent calls only (reads, releases, publishes; an iteration
 *     only while no row was delivered), bounded by attempts and deadline;
 *   - a latency histogram and result counters;
 *   - a span (when the host set span hooks), child of the use case's.
 *
 * booking__open_backends() wraps whatever backends the handle got — built-in
 * or the host's — last, so everything above sees only the decorators.
 * SPDX-License-Identifier: MIT
 */
#include "resilience.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

const char *booking__dep_name(booking__dep dep)
{
	switch (dep) {
	case BOOKING__DEP_STORE: return "store";
	case BOOKING__DEP_LOCKS: return "locks";
	case BOOKING__DEP_EVENTS: return "events";
	case BOOKING__DEP_GATEWAY: return "gateway";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------------ */
/* One guarded call                                                      */

#define F_RETRY 1u    /* idempotent: retry transient failures */
#define F_DEADLINE 2u /* starts work: refused once the deadline has passed */
#define F_ITER 4u     /* delivers rows to a callback: retried only while none was delivered */

typedef struct call {
	booking__obs *obs;
	booking__dep dep;
	int op;
	unsigned int flags;
	int attempts;
	bool started, probe, traced;
	int64_t deadline_ms;
	int64_t t0_ns, call_t0_ns;
	size_t rows;
	int cb_rc; /* what the caller's callback returned (its error is not the dependency's) */
	booking_span span;
} call;

static uint64_t random_below(void *payload, uint64_t n)
{
	return booking__random(payload, n);
}

static void call_init(call *c, booking__obs *obs, booking__dep dep, int op, unsigned int flags)
{
	booking_handle *bk = obs->bk;
	c->obs = obs;
	c->dep = dep;
	c->op = op;
	c->flags = flags;
	c->attempts = 0;
	c->started = c->probe = false;
	c->rows = 0;
	c->cb_rc = 0;
	const booking__scope *sc = booking__scope_current(bk);
	c->deadline_ms = sc ? sc->deadline_ms : 0;
	c->traced = booking__tracing(bk);
	c->call_t0_ns = booking__mono_ns();
	if (c->traced) {
		const char *name = obs->m.deps[dep].op_names[op];
		bool child = sc && sc->traced;
		booking__span_init(&c->span, BOOKING_SPAN_CLIENT, name, booking__dep_name(dep), child ? sc->span.trace_id : NULL,
		                   child ? sc->span.span_id : NULL, child ? sc->span.trace_flags : 1,
		                   sc && sc->has_ctx ? sc->ctx.correlation_id : NULL, booking__now(bk));
		booking__span_emit_start(bk, &c->span);
	}
}

static void count_result(call *c, booking__call_result r)
{
	atomic_fetch_add_explicit(&c->obs->m.deps[c->dep].calls[c->op][r], 1, memory_order_relaxed);
}

static void refuse_for_deadline(call *c, int *rc)
{
	char details[96];
	snprintf(details, sizeof(details), "{\"reason\":\"deadline\",\"dependency\":\"%s\"}", booking__dep_name(c->dep));
	*rc = booking_error_set(BOOKING_EUNAVAILABLE, details, "the call's deadline has passed (before calling the %s)",
	                        booking__dep_name(c->dep));
}

/* May the call go to the dependency? Sets *rc when not. */
static bool call_admit(call *c, int *rc)
{
	booking_handle *bk = c->obs->bk;
	int64_t now = booking__now(bk);
	if ((c->flags & F_DEADLINE) && c->deadline_ms > 0 && now >= c->deadline_ms) {
		refuse_for_deadline(c, rc);
		count_result(c, BOOKING__RESULT_REJECTED);
		return false;
	}
	if (booking__breaker_acquire(&c->obs->breakers[c->dep], now, &c->probe) < 0) {
		*rc = BOOKING_EUNAVAILABLE;
		count_result(c, BOOKING__RESULT_REJECTED);
		return false;
	}
	c->attempts = 1;
	c->t0_ns = booking__mono_ns();
	return true;
}

/* The error of the caller's own callback, passed through by the store, is not the dependency's. */
static int dependency_rc(const call *c, int rc)
{
	return c->cb_rc && rc == c->cb_rc ? 0 : rc;
}

/* Another attempt after `rc`? Sleeps the backoff when so. */
static bool call_retry(call *c, int rc)
{
	booking_handle *bk = c->obs->bk;
	int64_t delay = 0;
	if (!(c->flags & F_RETRY) || ((c->flags & F_ITER) && c->rows) || dependency_rc(c, rc) != rc)
		return false;
	if (!booking__retry_next(&c->obs->retry[c->dep], c->attempts, rc, booking__now(bk), c->deadline_ms, random_below,
	                         bk, &delay))
		return false;
	atomic_fetch_add_explicit(&c->obs->m.deps[c->dep].retries, 1, memory_order_relaxed);
	if (delay > 0)
		booking__sleep(bk, delay);
	c->attempts++;
	c->t0_ns = booking__mono_ns();
	return true;
}

/*
 * The loop of a guarded call:
 *     call c; int rc = 0; call_init(&c, ...);
 *     while (call_next(&c, &rc)) rc = inner->member(...);
 * true: make an attempt now; false: done, *rc is the answer.
 *
 * The breaker admits the call once and learns its outcome once, after its
 * retries (like the guide's retrying client inside its breaker): N failed
 * calls open the circuit, whatever retries each made.
 */
static bool call_next(call *c, int *rc)
{
	booking_handle *bk = c->obs->bk;
	if (!c->started) {
		c->started = true;
		if (call_admit(c, rc))
			return true;
	} else {
		booking__histogram_observe(&c->obs->m.deps[c->dep].latency[c->op], (booking__mono_ns() - c->t0_ns) / 1000);
		if (call_retry(c, *rc))
			return true;
		int effective = dependency_rc(c, *rc);
		booking__outcome outcome = booking__breaker_classify(effective);
		count_result(c, *rc == 0 ? BOOKING__RESULT_OK
		                         : outcome == BOOKING__OUTCOME_FAILURE ? BOOKING__RESULT_FAILURE : BOOKING__RESULT_ERROR);
		booking__breaker_release(&c->obs->breakers[c->dep], booking__now(bk), c->probe, effective,
		                         effective < 0 ? booking_error_last()->message : NULL);
		c->probe = false;
	}
	if (c->traced) {
		c->span.status = *rc;
		c->span.attempts = c->attempts;
		c->span.duration_us = (booking__mono_ns() - c->call_t0_ns) / 1000;
		booking__span_emit_end(bk, &c->span);
	}
	return false;
}

#define GUARDED(obs, dep, op, flags, expr) \
	do { \
		call c_; \
		int rc_ = 0; \
		call_init(&c_, (obs), (dep), (op), (flags)); \
		while (call_next(&c_, &rc_)) \
			rc_ = (expr); \
		return rc_; \
	} while (0)

/* ------------------------------------------------------------------ */
/* The store                                                             */

#define STORE_OPS(X) \
	X(migrate) X(movie_insert) X(movie_get) X(movie_list) X(theater_insert) X(theater_get) X(theater_list) \
	X(screen_insert) X(screen_get) X(showtime_insert) X(showtime_get) X(showtime_list) X(seat_list) X(hold) \
	X(reservation_get) X(reservation_list_by_user) X(apply) X(reservation_list_by_status) X(idempotency_get) \
	X(payment_get) X(payment_list_by_status) X(outbox_unpublished) X(outbox_mark_published) X(outbox_read) \
	X(cursor_get) X(cursor_advance) X(inbox_seen) X(inbox_mark) X(dead_letter_put) X(dead_letter_list) X(scan) \
	X(user_insert) X(user_get) X(user_get_by_email) X(user_set_password_hash) X(token_revoke) \
	X(token_is_revoked) X(payment_attempts) X(clock_now) X(reservation_list_by_showtime) X(kv_get) X(kv_put) X(kv_list) X(seat_states)

enum {
#define X(n) ST_##n,
	STORE_OPS(X)
#undef X
	ST__COUNT
};

static const char *const store_op_names[] = {
#define X(n) "store." #n,
	STORE_OPS(X)
#undef X
};

/*
 * Every member of every group is forwarded. A member appended to a group
 * without a forwarder here would silently vanish behind the decorator:
 * this stops the build instead.
 */
#define RS_LAST_IS(T, member) \
	_Static_assert(sizeof(T) == offsetof(T, member) + sizeof(((T *)0)->member), \
	               "a member was appended to " #T ": forward it in src/resilient.c (STORE_OPS and rs_store_new)")
RS_LAST_IS(booking_store, kv);
RS_LAST_IS(booking_store_kv, kv_list);
RS_LAST_IS(booking_store_catalog, seat_states);
RS_LAST_IS(booking_store_ledger, reservation_list_by_showtime);
RS_LAST_IS(booking_store_outbox, dead_letter_list);
RS_LAST_IS(booking_store_users, token_is_revoked);
_Static_assert(ST__COUNT <= BOOKING__MAX_DEP_OPS, "raise BOOKING__MAX_DEP_OPS");

typedef struct rs_store {
	booking_store parent;
	booking_store_catalog catalog; /* the decorator's tables: every member forwarded */
	booking_store_ledger ledger;
	booking_store_outbox outbox;
	booking_store_users users;
	booking_store_kv kv;
	booking_store *inner;
	booking__obs *obs;
} rs_store;

#define STORE_SELF(base) \
	rs_store *self_ = (rs_store *)(void *)(base); \
	booking_store *in = self_->inner
#define STORE_CALL(op, flags, expr) GUARDED(self_->obs, BOOKING__DEP_STORE, ST_##op, (flags), (expr))

#define F_READ (F_RETRY | F_DEADLINE)
#define F_LIST (F_RETRY | F_DEADLINE | F_ITER)
#define F_WRITE F_DEADLINE
#define F_FINISH 0u

typedef int (*dead_letter_cb)(const char *group, const char *event_id, const char *reason, const char *envelope_json,
                              int64_t dead_at, void *payload);

/* A caller's row callback, seen through the decorator: counts rows, keeps its own error apart. */
typedef struct rs_iter {
	call *c;
	void *payload;
	union {
		booking_store_movie_cb movie;
		booking_store_theater_cb theater;
		booking_store_showtime_cb showtime;
		booking_store_seat_cb seat;
		booking_store_seat_state_cb seat_state;
		booking_store_reservation_cb reservation;
		booking_store_payment_cb payment;
		booking_store_event_cb event;
		dead_letter_cb dead_letter;
		booking_message_cb message;
	} cb;
	int64_t oldest; /* outbox_unpublished: the oldest occurred_at seen */
} rs_iter;

static int iter_result(rs_iter *it, int r)
{
	it->c->rows++;
	if (r)
		it->c->cb_rc = r;
	return r;
}

static int it_movie(const booking_movie *m, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.movie(m, it->payload));
}

static int it_theater(const booking_theater *t, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.theater(t, it->payload));
}

static int it_showtime(const booking_showtime *s, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.showtime(s, it->payload));
}

static int it_seat(const booking_store_seat *s, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.seat(s, it->payload));
}

static int it_seat_state(const booking_store_seat_state *s, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.seat_state(s, it->payload));
}

static int it_booking(const booking_reservation *b, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.reservation(b, it->payload));
}

static int it_payment(const booking_payment *pay, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.payment(pay, it->payload));
}

static int it_event(const booking_event_record *e, void *p)
{
	rs_iter *it = p;
	if (it->oldest == 0 || e->occurred_at < it->oldest)
		it->oldest = e->occurred_at;
	return iter_result(it, it->cb.event(e, it->payload));
}

static int it_dead_letter(const char *group, const char *event_id, const char *reason, const char *envelope_json,
                          int64_t dead_at, void *p)
{
	rs_iter *it = p;
	return iter_result(it, it->cb.dead_letter(group, event_id, reason, envelope_json, dead_at, it->payload));
}

/* An iteration member: `it` is set up, `expr` calls the inner member with it. */
#define STORE_ITER(op, field, fn, expr) \
	do { \
		call c_; \
		int rc_ = 0; \
		rs_iter it_ = {&c_, payload, {0}, 0}; \
		it_.cb.field = fn; \
		call_init(&c_, self_->obs, BOOKING__DEP_STORE, ST_##op, F_LIST); \
		while (call_next(&c_, &rc_)) { \
			c_.rows = 0; \
			c_.cb_rc = 0; \
			rc_ = (expr); \
		} \
		return rc_; \
	} while (0)

static void st_free(booking_store *base)
{
	rs_store *s = (rs_store *)(void *)base;
	if (!s)
		return;
	if (s->inner && s->inner->free)
		s->inner->free(s->inner);
	booking_free(s);
}

static int st_migrate(int *version_out, booking_store *base)
{
	STORE_SELF(base);
	STORE_CALL(migrate, F_FINISH, in->migrate(version_out, in));
}

static int st_movie_insert(booking_store *base, const booking_movie *m)
{
	STORE_SELF(base);
	STORE_CALL(movie_insert, F_WRITE, in->catalog->movie_insert(in, m));
}

static int st_movie_get(booking_movie **out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(movie_get, F_READ, in->catalog->movie_get(out, in, id));
}

static int st_movie_list(booking_store *base, booking_store_movie_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(movie_list, movie, cb, in->catalog->movie_list(in, it_movie, &it_));
}

static int st_theater_insert(booking_store *base, const booking_theater *t)
{
	STORE_SELF(base);
	STORE_CALL(theater_insert, F_WRITE, in->catalog->theater_insert(in, t));
}

static int st_theater_get(booking_theater **out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(theater_get, F_READ, in->catalog->theater_get(out, in, id));
}

static int st_theater_list(booking_store *base, booking_store_theater_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(theater_list, theater, cb, in->catalog->theater_list(in, it_theater, &it_));
}

static int st_screen_insert(booking_store *base, const booking_screen *s)
{
	STORE_SELF(base);
	STORE_CALL(screen_insert, F_WRITE, in->catalog->screen_insert(in, s));
}

static int st_screen_get(booking_screen **out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(screen_get, F_READ, in->catalog->screen_get(out, in, id));
}

static int st_showtime_insert(booking_store *base, const booking_showtime *s)
{
	STORE_SELF(base);
	STORE_CALL(showtime_insert, F_WRITE, in->catalog->showtime_insert(in, s));
}

static int st_showtime_get(booking_showtime **out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(showtime_get, F_READ, in->catalog->showtime_get(out, in, id));
}

static int st_showtime_list(booking_store *base, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(showtime_list, showtime, cb, in->catalog->showtime_list(in, movie_id, it_showtime, &it_));
}

static int st_seat_list(booking_store *base, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(seat_list, seat, cb, in->catalog->seat_list(in, showtime_id, it_seat, &it_));
}

static int st_seat_states(booking_store *base, const char *showtime_id, booking_seat_status except,
                          booking_store_seat_state_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(seat_states, seat_state, cb, in->catalog->seat_states(in, showtime_id, except, it_seat_state, &it_));
}

static int st_hold(booking_seat_ref *taken, size_t *taken_count, booking_store *base, const booking_store_hold *req)
{
	STORE_SELF(base);
	STORE_CALL(hold, F_WRITE, in->ledger->hold(taken, taken_count, in, req));
}

static int st_reservation_get(booking_reservation **out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(reservation_get, F_READ, in->ledger->reservation_get(out, in, id));
}

static int st_reservation_list_by_user(booking_store *base, const char *user_id, int64_t after_created_at,
                                   const char *after_id, size_t max, booking_store_reservation_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(reservation_list_by_user, reservation, cb,
	           in->ledger->reservation_list_by_user(in, user_id, after_created_at, after_id, max, it_booking, &it_));
}

static int st_apply(size_t *failed_guard_out, booking_store *base, const booking_store_change *change)
{
	STORE_SELF(base);
	/* a change may record what already happened (a charge): never refused for a deadline */
	STORE_CALL(apply, F_FINISH, in->ledger->apply(failed_guard_out, in, change));
}

static int st_reservation_list_by_showtime(booking_store *base, const char *showtime_id, booking_reservation_status status,
                                          int64_t after_created_at, const char *after_id, size_t max,
                                          booking_store_reservation_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(reservation_list_by_showtime, reservation, cb,
	           in->ledger->reservation_list_by_showtime(in, showtime_id, status, after_created_at, after_id, max,
	                                                    it_booking, &it_));
}

static int st_reservation_list_by_status(booking_store *base, booking_reservation_status status, int64_t expires_before, size_t max,
                                     booking_store_reservation_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(reservation_list_by_status, reservation, cb,
	           in->ledger->reservation_list_by_status(in, status, expires_before, max, it_booking, &it_));
}

static int st_idempotency_get(booking_store_idempotency_record *out, booking_store *base, const char *user_id,
                              const char *key)
{
	STORE_SELF(base);
	STORE_CALL(idempotency_get, F_READ, in->ledger->idempotency_get(out, in, user_id, key));
}

static int st_payment_get(booking_payment **out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(payment_get, F_READ, in->ledger->payment_get(out, in, id));
}

static int st_payment_list_by_status(booking_store *base, booking_payment_status status, int64_t created_before,
                                     size_t max, booking_store_payment_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(payment_list_by_status, payment, cb,
	           in->ledger->payment_list_by_status(in, status, created_before, max, it_payment, &it_));
}

/* The relay's read: also measures the outbox lag. */
static int st_outbox_unpublished(booking_store *base, size_t max, booking_store_event_cb cb, void *payload)
{
	STORE_SELF(base);
	call c;
	int rc = 0;
	rs_iter it = {&c, payload, {0}, 0};
	it.cb.event = cb;
	call_init(&c, self_->obs, BOOKING__DEP_STORE, ST_outbox_unpublished, F_LIST);
	while (call_next(&c, &rc)) {
		c.rows = 0;
		c.cb_rc = 0;
		it.oldest = 0;
		rc = in->outbox->outbox_unpublished(in, max, it_event, &it);
	}
	if (rc == 0) {
		booking__metrics *m = &self_->obs->m;
		int64_t age = c.rows ? booking__now(self_->obs->bk) - it.oldest : 0;
		atomic_store_explicit(&m->outbox_unpublished, (int_fast64_t)c.rows, memory_order_relaxed);
		atomic_store_explicit(&m->outbox_oldest_age_ms, (int_fast64_t)(age > 0 ? age : 0), memory_order_relaxed);
	}
	return rc;
}

static int st_outbox_mark_published(booking_store *base, const char *const *event_ids, size_t n)
{
	STORE_SELF(base);
	call c;
	int rc = 0;
	call_init(&c, self_->obs, BOOKING__DEP_STORE, ST_outbox_mark_published, F_RETRY);
	while (call_next(&c, &rc))
		rc = in->outbox->outbox_mark_published(in, event_ids, n);
	if (rc == 0)
		atomic_fetch_add_explicit(&self_->obs->m.outbox_relayed, n, memory_order_relaxed);
	return rc;
}

static int st_outbox_read(booking_store *base, int64_t after, size_t max, booking_store_event_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(outbox_read, event, cb, in->outbox->outbox_read(in, after, max, it_event, &it_));
}

static int st_cursor_get(int64_t *position_out, booking_store *base, const char *group)
{
	STORE_SELF(base);
	STORE_CALL(cursor_get, F_READ, in->outbox->cursor_get(position_out, in, group));
}

static int st_cursor_advance(booking_store *base, const char *group, int64_t expected, int64_t position)
{
	STORE_SELF(base);
	STORE_CALL(cursor_advance, F_FINISH, in->outbox->cursor_advance(in, group, expected, position));
}

static int st_inbox_seen(bool *seen_out, booking_store *base, const char *group, const char *event_id)
{
	STORE_SELF(base);
	call c;
	int rc = 0;
	call_init(&c, self_->obs, BOOKING__DEP_STORE, ST_inbox_seen, F_READ);
	while (call_next(&c, &rc))
		rc = in->outbox->inbox_seen(seen_out, in, group, event_id);
	if (rc == 0 && seen_out && *seen_out)
		atomic_fetch_add_explicit(&self_->obs->m.consumer_duplicates, 1, memory_order_relaxed);
	return rc;
}

static int st_inbox_mark(booking_store *base, const char *group, const char *event_id, int64_t now)
{
	STORE_SELF(base);
	STORE_CALL(inbox_mark, F_FINISH, in->outbox->inbox_mark(in, group, event_id, now));
}

static int st_dead_letter_put(booking_store *base, const char *group, const char *event_id, const char *reason,
                              const char *envelope_json, int64_t now)
{
	STORE_SELF(base);
	call c;
	int rc = 0;
	call_init(&c, self_->obs, BOOKING__DEP_STORE, ST_dead_letter_put, F_RETRY);
	while (call_next(&c, &rc))
		rc = in->outbox->dead_letter_put(in, group, event_id, reason, envelope_json, now);
	if (rc == 0)
		atomic_fetch_add_explicit(&self_->obs->m.consumer_dead_letters, 1, memory_order_relaxed);
	return rc;
}

static int st_dead_letter_list(booking_store *base, const char *group, dead_letter_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_ITER(dead_letter_list, dead_letter, cb, in->outbox->dead_letter_list(in, group, it_dead_letter, &it_));
}

static int st_scan(booking_store *base, const booking_store_scan_cbs *cbs, void *payload)
{
	STORE_SELF(base);
	/* six callbacks and a snapshot: never retried, so they need no wrapping */
	STORE_CALL(scan, F_DEADLINE, in->scan(in, cbs, payload));
}

static int st_user_insert(booking_store *base, const booking_store_user_insert *req)
{
	STORE_SELF(base);
	STORE_CALL(user_insert, F_WRITE, in->users->user_insert(in, req));
}

static int st_user_get(booking_user **out, char **password_hash_out, booking_store *base, const char *id)
{
	STORE_SELF(base);
	STORE_CALL(user_get, F_READ, in->users->user_get(out, password_hash_out, in, id));
}

static int st_user_get_by_email(booking_user **out, char **password_hash_out, booking_store *base, const char *email)
{
	STORE_SELF(base);
	STORE_CALL(user_get_by_email, F_READ, in->users->user_get_by_email(out, password_hash_out, in, email));
}

static int st_user_set_password_hash(booking_store *base, const char *id, const char *expected_hash,
                                     const char *new_hash, int64_t now)
{
	STORE_SELF(base);
	STORE_CALL(user_set_password_hash, F_WRITE, in->users->user_set_password_hash(in, id, expected_hash, new_hash, now));
}

static int st_token_revoke(booking_store *base, const char *jti, int64_t expires_at, int64_t now)
{
	STORE_SELF(base);
	/* idempotent (keeps the later expiry), and a revocation must not be dropped for a deadline */
	STORE_CALL(token_revoke, F_RETRY, in->users->token_revoke(in, jti, expires_at, now));
}

static int st_token_is_revoked(bool *revoked_out, booking_store *base, const char *jti, int64_t now)
{
	STORE_SELF(base);
	STORE_CALL(token_is_revoked, F_READ, in->users->token_is_revoked(revoked_out, in, jti, now));
}

static int st_kv_get(booking_store_kv_record *out, booking_store *base, const char *ns, const char *key, int64_t now)
{
	STORE_SELF(base);
	STORE_CALL(kv_get, F_READ, in->kv->kv_get(out, in, ns, key, now));
}

static int st_kv_put(int64_t *version_out, booking_store *base, const booking_store_kv_put *req)
{
	STORE_SELF(base);
	/* a compare-and-set: a retry after a lost reply finds the version moved and the core reads again */
	STORE_CALL(kv_put, F_WRITE, in->kv->kv_put(version_out, in, req));
}

static int st_kv_list(booking_store *base, const char *ns, int64_t now, size_t max, booking_store_kv_cb cb, void *payload)
{
	STORE_SELF(base);
	STORE_CALL(kv_list, F_READ, in->kv->kv_list(in, ns, now, max, cb, payload));
}

static int st_payment_attempts(booking_store_payment_attempts *out, booking_store *base, const char *user_id,
                               const char *idempotency_key, const char *reservation_id, booking_payment_status status,
                               int64_t since)
{
	STORE_SELF(base);
	STORE_CALL(payment_attempts, F_READ,
	           in->ledger->payment_attempts(out, in, user_id, idempotency_key, reservation_id, status, since));
}

/*
 * The store's clock: one attempt, never retried (a backoff inside a timed
 * round trip would only widen its error). The core's own samples do not
 * come this way: store_clock.c reads the undecorated store, so that a
 * background clock read neither opens nor closes the store's circuit.
 */
static int st_clock_now(int64_t *now_ms_out, booking_store *base)
{
	STORE_SELF(base);
	STORE_CALL(clock_now, F_FINISH, in->clock_now(now_ms_out, in));
}

booking_store *booking__store_undecorated(booking_store *st)
{
	return st && st->free == st_free ? ((rs_store *)(void *)st)->inner : st;
}

/* Forward `member` of `group` to the decorator's own function. */
#define FORWARD(group, member) s->group.member = st_##member

static int rs_store_new(booking_store **out, booking_store *inner, booking__obs *obs)
{
	rs_store *s = booking_calloc(1, sizeof(*s));
	if (!s)
		return booking_error_oom();
	s->inner = inner;
	s->obs = obs;
	s->parent.version = inner->version;
	s->parent.free = st_free;
	s->parent.migrate = st_migrate;
	s->parent.clock_now = inner->clock_now ? st_clock_now : NULL; /* optional */
	s->parent.scan = st_scan;
	/* required groups (validated) */
	s->catalog.version = inner->catalog->version;
	FORWARD(catalog, movie_insert);
	FORWARD(catalog, movie_get);
	FORWARD(catalog, movie_list);
	FORWARD(catalog, theater_insert);
	FORWARD(catalog, theater_get);
	FORWARD(catalog, theater_list);
	FORWARD(catalog, screen_insert);
	FORWARD(catalog, screen_get);
	FORWARD(catalog, showtime_insert);
	FORWARD(catalog, showtime_get);
	FORWARD(catalog, showtime_list);
	FORWARD(catalog, seat_list);
	if (inner->catalog->version >= 3 && inner->catalog->seat_states) /* appended in version 3, optional */
		FORWARD(catalog, seat_states);
	s->parent.catalog = &s->catalog;
	s->ledger.version = inner->ledger->version;
	FORWARD(ledger, hold);
	FORWARD(ledger, reservation_get);
	FORWARD(ledger, reservation_list_by_user);
	FORWARD(ledger, apply);
	FORWARD(ledger, reservation_list_by_status);
	FORWARD(ledger, idempotency_get);
	FORWARD(ledger, payment_get);
	FORWARD(ledger, payment_list_by_status);
	FORWARD(ledger, payment_attempts);
	if (inner->ledger->version >= 2) /* appended in version 2 */
		FORWARD(ledger, reservation_list_by_showtime);
	s->parent.ledger = &s->ledger;
	s->outbox.version = inner->outbox->version;
	FORWARD(outbox, outbox_unpublished);
	FORWARD(outbox, outbox_mark_published);
	FORWARD(outbox, outbox_read);
	FORWARD(outbox, cursor_get);
	FORWARD(outbox, cursor_advance);
	FORWARD(outbox, inbox_seen);
	FORWARD(outbox, inbox_mark);
	FORWARD(outbox, dead_letter_put);
	FORWARD(outbox, dead_letter_list);
	s->parent.outbox = &s->outbox;
	if (inner->users) { /* optional group: all of it or none (validated) */
		s->users.version = inner->users->version;
		FORWARD(users, user_insert);
		FORWARD(users, user_get);
		FORWARD(users, user_get_by_email);
		FORWARD(users, user_set_password_hash);
		FORWARD(users, token_revoke);
		FORWARD(users, token_is_revoked);
		s->parent.users = &s->users;
	}
	if (booking__store_kv(inner)) { /* optional group (store version 7): all of it or none (validated) */
		s->kv.version = inner->kv->version;
		FORWARD(kv, kv_get);
		FORWARD(kv, kv_put);
		FORWARD(kv, kv_list);
		s->parent.kv = &s->kv;
	}
	*out = &s->parent;
	return 0;
}

#undef FORWARD

/* ------------------------------------------------------------------ */
/* The lock manager                                                      */

/* acquire_all_why counts as acquire_all: the same work, one more answer */
enum { LK_acquire_all, LK_release_all, LK_extend, LK_register_swap, LK_settle, LK__COUNT };
static const char *const lock_op_names[] = {"locks.acquire_all", "locks.release_all", "locks.extend",
                                            "locks.register_swap", "locks.settle"};

_Static_assert(sizeof(booking_lock_manager) ==
                   offsetof(booking_lock_manager, settle) + sizeof(((booking_lock_manager *)0)->settle),
               "a member was appended to booking_lock_manager: forward it in src/resilient.c");

typedef struct rs_locks {
	booking_lock_manager parent;
	booking_lock_manager *inner;
	booking__obs *obs;
} rs_locks;

static void lk_free(booking_lock_manager *base)
{
	rs_locks *l = (rs_locks *)(void *)base;
	if (!l)
		return;
	if (l->inner && l->inner->free)
		l->inner->free(l->inner);
	booking_free(l);
}

static int lk_acquire_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                          int64_t ttl_ms)
{
	rs_locks *l = (rs_locks *)(void *)base;
	call c;
	int rc = 0;
	/* re-taking keys we own only refreshes them: safe to retry */
	call_init(&c, l->obs, BOOKING__DEP_LOCKS, LK_acquire_all, F_RETRY | F_DEADLINE);
	while (call_next(&c, &rc))
		rc = l->inner->acquire_all(l->inner, keys, n, owner, ttl_ms);
	if (rc == BOOKING_ELOCKED)
		atomic_fetch_add_explicit(&l->obs->m.lock_contention, 1, memory_order_relaxed);
	return rc;
}

static int lk_release_all(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner)
{
	rs_locks *l = (rs_locks *)(void *)base;
	GUARDED(l->obs, BOOKING__DEP_LOCKS, LK_release_all, F_RETRY, l->inner->release_all(l->inner, keys, n, owner));
}

static int lk_extend(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner, int64_t ttl_ms)
{
	rs_locks *l = (rs_locks *)(void *)base;
	call c;
	int rc = 0;
	call_init(&c, l->obs, BOOKING__DEP_LOCKS, LK_extend, F_RETRY | F_DEADLINE);
	while (call_next(&c, &rc))
		rc = l->inner->extend(l->inner, keys, n, owner, ttl_ms);
	if (rc == BOOKING_ELOCKED)
		atomic_fetch_add_explicit(&l->obs->m.lock_contention, 1, memory_order_relaxed);
	return rc;
}

static int lk_register_swap(char **current_out, booking_lock_manager *base, const char *key, const char *expected,
                            const char *value, int64_t ttl_ms)
{
	rs_locks *l = (rs_locks *)(void *)base;
	/* a compare-and-set: a retry after a lost reply answers the value it set, and the core decides again */
	GUARDED(l->obs, BOOKING__DEP_LOCKS, LK_register_swap, F_RETRY,
	        l->inner->register_swap(current_out, l->inner, key, expected, value, ttl_ms));
}

static int lk_acquire_all_why(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                              int64_t ttl_ms, size_t *blocked_out, char *blocker_out, size_t blocker_size)
{
	rs_locks *l = (rs_locks *)(void *)base;
	call c;
	int rc = 0;
	/* as acquire_all: re-taking keys we own only refreshes them */
	call_init(&c, l->obs, BOOKING__DEP_LOCKS, LK_acquire_all, F_RETRY | F_DEADLINE);
	while (call_next(&c, &rc))
		rc = l->inner->acquire_all_why(l->inner, keys, n, owner, ttl_ms, blocked_out, blocker_out, blocker_size);
	if (rc == BOOKING_ELOCKED)
		atomic_fetch_add_explicit(&l->obs->m.lock_contention, 1, memory_order_relaxed);
	return rc;
}

static int lk_settle(booking_lock_manager *base, const char *const *keys, size_t n, const char *owner,
                     const char *new_owner, int64_t ttl_ms)
{
	rs_locks *l = (rs_locks *)(void *)base;
	/* a retry after a lost reply finds the keys already handed over: nothing left to do */
	GUARDED(l->obs, BOOKING__DEP_LOCKS, LK_settle, F_RETRY, l->inner->settle(l->inner, keys, n, owner, new_owner, ttl_ms));
}

static int rs_locks_new(booking_lock_manager **out, booking_lock_manager *inner, booking__obs *obs)
{
	rs_locks *l = booking_calloc(1, sizeof(*l));
	if (!l)
		return booking_error_oom();
	l->inner = inner;
	l->obs = obs;
	l->parent.version = inner->version;
	l->parent.free = lk_free;
	l->parent.acquire_all = lk_acquire_all;
	l->parent.release_all = lk_release_all;
	l->parent.extend = lk_extend;
	if (inner->version >= 2 && inner->register_swap) /* optional (version 2) */
		l->parent.register_swap = lk_register_swap;
	if (inner->version >= 3 && inner->acquire_all_why) /* optional (version 3) */
		l->parent.acquire_all_why = lk_acquire_all_why;
	if (inner->version >= 3 && inner->settle)
		l->parent.settle = lk_settle;
	*out = &l->parent;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The event publisher                                                   */

enum { EV_publish, EV_read_group, EV_ack, EV_claim_stale, EV__COUNT };
static const char *const events_op_names[] = {"events.publish", "events.read_group", "events.ack",
                                              "events.claim_stale"};

_Static_assert(sizeof(booking_event_publisher) ==
                   offsetof(booking_event_publisher, claim_stale) + sizeof(((booking_event_publisher *)0)->claim_stale),
               "a member was appended to booking_event_publisher: forward it in src/resilient.c");

typedef struct rs_events {
	booking_event_publisher parent;
	booking_event_publisher *inner;
	booking__obs *obs;
} rs_events;

static void ev_free(booking_event_publisher *base)
{
	rs_events *e = (rs_events *)(void *)base;
	if (!e)
		return;
	if (e->inner && e->inner->free)
		e->inner->free(e->inner);
	booking_free(e);
}

static int ev_publish(booking_event_publisher *base, const char *event_id, const char *type, const char *envelope_json)
{
	rs_events *e = (rs_events *)(void *)base;
	/* at-least-once: a publish retried after a lost reply is a duplicate the consumers' inboxes drop */
	GUARDED(e->obs, BOOKING__DEP_EVENTS, EV_publish, F_RETRY | F_DEADLINE,
	        e->inner->publish(e->inner, event_id, type, envelope_json));
}

static int it_message(const booking_message *msg, void *p)
{
	rs_iter *it = p;
	if (msg->deliveries > 1)
		atomic_fetch_add_explicit(&it->c->obs->m.consumer_redeliveries, 1, memory_order_relaxed);
	return iter_result(it, it->cb.message(msg, it->payload));
}

static int ev_read(rs_events *e, int op, const char *group, const char *consumer, int64_t min_idle_ms, size_t max,
                   booking_message_cb cb, void *payload)
{
	call c;
	int rc = 0;
	rs_iter it = {&c, payload, {0}, 0};
	it.cb.message = cb;
	call_init(&c, e->obs, BOOKING__DEP_EVENTS, op, F_LIST);
	while (call_next(&c, &rc)) {
		c.rows = 0;
		c.cb_rc = 0;
		rc = op == EV_read_group ? e->inner->read_group(e->inner, group, consumer, max, it_message, &it)
		                         : e->inner->claim_stale(e->inner, group, consumer, min_idle_ms, max, it_message, &it);
	}
	return rc;
}

static int ev_read_group(booking_event_publisher *base, const char *group, const char *consumer, size_t max,
                         booking_message_cb cb, void *payload)
{
	return ev_read((rs_events *)(void *)base, EV_read_group, group, consumer, 0, max, cb, payload);
}

static int ev_ack(booking_event_publisher *base, const char *group, const char *msg_id)
{
	rs_events *e = (rs_events *)(void *)base;
	GUARDED(e->obs, BOOKING__DEP_EVENTS, EV_ack, F_RETRY, e->inner->ack(e->inner, group, msg_id));
}

static int ev_claim_stale(booking_event_publisher *base, const char *group, const char *consumer, int64_t min_idle_ms,
                          size_t max, booking_message_cb cb, void *payload)
{
	return ev_read((rs_events *)(void *)base, EV_claim_stale, group, consumer, min_idle_ms, max, cb, payload);
}

static int rs_events_new(booking_event_publisher **out, booking_event_publisher *inner, booking__obs *obs)
{
	rs_events *e = booking_calloc(1, sizeof(*e));
	if (!e)
		return booking_error_oom();
	e->inner = inner;
	e->obs = obs;
	e->parent.version = inner->version;
	e->parent.free = ev_free;
	e->parent.publish = ev_publish;
	e->parent.read_group = ev_read_group;
	e->parent.ack = ev_ack;
	e->parent.claim_stale = ev_claim_stale;
	*out = &e->parent;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The payment gateway                                                   */

enum { GW_charge, GW_refund, GW_lookup, GW__COUNT };
static const char *const gateway_op_names[] = {"gateway.charge", "gateway.refund", "gateway.lookup"};

_Static_assert(sizeof(booking_payment_gateway) ==
                   offsetof(booking_payment_gateway, lookup) + sizeof(((booking_payment_gateway *)0)->lookup),
               "a member was appended to booking_payment_gateway: forward it in src/resilient.c");

typedef struct rs_gateway {
	booking_payment_gateway parent;
	booking_payment_gateway *inner;
	booking__obs *obs;
} rs_gateway;

static void gw_free(booking_payment_gateway *base)
{
	rs_gateway *g = (rs_gateway *)(void *)base;
	if (!g)
		return;
	if (g->inner && g->inner->free)
		g->inner->free(g->inner);
	booking_free(g);
}

/*
 * A charge whose outcome is unknown is retried with the same idempotency
 * key (the gateway charges a key once), a fixed delay apart.
 */
static int gw_charge(booking_charge_result *out, booking_payment_gateway *base, const booking_charge_request *req)
{
	rs_gateway *g = (rs_gateway *)(void *)base;
	GUARDED(g->obs, BOOKING__DEP_GATEWAY, GW_charge, F_RETRY | F_DEADLINE, g->inner->charge(out, g->inner, req));
}

static int gw_refund(booking_payment_gateway *base, const char *charge_id, int64_t amount, const char *idempotency_key)
{
	rs_gateway *g = (rs_gateway *)(void *)base;
	/* idempotent by key; compensation is never cut short by a deadline */
	GUARDED(g->obs, BOOKING__DEP_GATEWAY, GW_refund, F_RETRY,
	        g->inner->refund(g->inner, charge_id, amount, idempotency_key));
}

static int gw_lookup(booking_charge_result *out, booking_payment_gateway *base, const char *idempotency_key)
{
	rs_gateway *g = (rs_gateway *)(void *)base;
	GUARDED(g->obs, BOOKING__DEP_GATEWAY, GW_lookup, F_READ, g->inner->lookup(out, g->inner, idempotency_key));
}

static int rs_gateway_new(booking_payment_gateway **out, booking_payment_gateway *inner, booking__obs *obs)
{
	rs_gateway *g = booking_calloc(1, sizeof(*g));
	if (!g)
		return booking_error_oom();
	g->inner = inner;
	g->obs = obs;
	g->parent.version = inner->version;
	g->parent.free = gw_free;
	g->parent.charge = gw_charge;
	g->parent.refund = gw_refund;
	g->parent.lookup = gw_lookup;
	*out = &g->parent;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The handle's state                                                    */

static void on_transition(void *payload, const booking__breaker *b, booking__breaker_state from,
                          booking__breaker_state to, int consecutive_failures, const char *last_error)
{
	booking__obs *obs = payload;
	size_t d = (size_t)(b - obs->breakers);
	atomic_fetch_add_explicit(&obs->m.deps[d].transitions[to], 1, memory_order_relaxed);
	const char *msg = to == BOOKING__BREAKER_OPEN        ? "circuit breaker opened: calls fail fast"
	                  : to == BOOKING__BREAKER_HALF_OPEN ? "circuit breaker half-open: trying the dependency again"
	                                                     : "circuit breaker closed: the dependency answers again";
	booking__log(obs->bk, NULL, to == BOOKING__BREAKER_OPEN ? BOOKING_LOG_WARNING : BOOKING_LOG_INFO, msg,
	             json_pack("{s:s,s:s,s:s,s:i,s:s}", "dependency", b->name, "from", booking__breaker_state_name(from),
	                       "to", booking__breaker_state_name(to), "consecutive_failures", consecutive_failures,
	                       "last_error", last_error ? last_error : ""));
}

void booking__obs_free(booking__obs *obs)
{
	if (!obs)
		return;
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++)
		if (obs->breaker_ready[d])
			booking__breaker_destroy(&obs->breakers[d]);
	booking_free(obs);
}

static int obs_new(booking_handle *bk, booking__obs **out)
{
	booking__obs *obs = booking_calloc(1, sizeof(*obs));
	if (!obs) {
		(void)booking_error_oom();
		return BOOKING_ENOMEM; /* spelled out: the analyzer cannot see that booking_error_oom() is negative */
	}
	obs->bk = bk;
	const booking_config *cfg = &bk->cfg;
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++) {
		int rc = booking__breaker_init(&obs->breakers[d], booking__dep_name((booking__dep)d),
		                               cfg->circuit_breaker_failure_threshold, cfg->circuit_breaker_success_threshold,
		                               (int64_t)cfg->circuit_breaker_recovery_seconds * 1000, on_transition, obs);
		if (rc < 0) {
			booking__obs_free(obs);
			return rc;
		}
		obs->breaker_ready[d] = true;
	}
	obs->retry[BOOKING__DEP_STORE] = (booking__retry_policy){cfg->store_retry_attempts, cfg->store_retry_base_ms, 2000, false};
	obs->retry[BOOKING__DEP_LOCKS] = (booking__retry_policy){cfg->locks_retry_attempts, cfg->locks_retry_base_ms, 1000, false};
	obs->retry[BOOKING__DEP_EVENTS] =
		(booking__retry_policy){cfg->events_retry_attempts, cfg->events_retry_base_ms, 5000, false};
	/* the guide's §7.3 for the payment gateway: gateway_max_retries retries, a fixed delay apart */
	obs->retry[BOOKING__DEP_GATEWAY] =
		(booking__retry_policy){cfg->gateway_max_retries + 1, cfg->gateway_retry_delay_ms, cfg->gateway_retry_delay_ms, true};
	static const char *const *const names[BOOKING__DEP_COUNT] = {store_op_names, lock_op_names, events_op_names,
	                                                             gateway_op_names};
	static const size_t counts[BOOKING__DEP_COUNT] = {ST__COUNT, LK__COUNT, EV__COUNT, GW__COUNT};
	for (size_t d = 0; d < BOOKING__DEP_COUNT; d++) {
		obs->m.deps[d].op_names = names[d];
		obs->m.deps[d].op_count = counts[d];
	}
	bk->obs = obs;
	*out = obs;
	return 0;
}

int booking__resilience_wrap(booking_handle *bk)
{
	int rc;
	booking__obs *obs = bk->obs;
	if (!obs && (rc = obs_new(bk, &obs)) < 0)
		return rc;
	booking_store *st = NULL;
	booking_lock_manager *lm = NULL;
	booking_event_publisher *pub = NULL;
	booking_payment_gateway *gw = NULL;
	/* each decorator takes its backend only once made: on failure bk still owns every backend */
	if ((rc = rs_store_new(&st, bk->store, obs)) < 0)
		return rc;
	bk->store = st;
	obs->present[BOOKING__DEP_STORE] = true;
	if (bk->locks) {
		if ((rc = rs_locks_new(&lm, bk->locks, obs)) < 0)
			return rc;
		bk->locks = lm;
		obs->present[BOOKING__DEP_LOCKS] = true;
	}
	if (bk->publisher) {
		if ((rc = rs_events_new(&pub, bk->publisher, obs)) < 0)
			return rc;
		bk->publisher = pub;
		obs->present[BOOKING__DEP_EVENTS] = true;
	}
	if ((rc = rs_gateway_new(&gw, bk->gateway, obs)) < 0)
		return rc;
	bk->gateway = gw;
	obs->present[BOOKING__DEP_GATEWAY] = true;
	return 0;
}

void booking__metric_retry(booking_handle *bk, booking__dep dep)
{
	if (bk && bk->obs)
		atomic_fetch_add_explicit(&bk->obs->m.deps[dep].retries, 1, memory_order_relaxed);
}

void booking__metric_redelivery(booking_handle *bk)
{
	if (bk && bk->obs)
		atomic_fetch_add_explicit(&bk->obs->m.consumer_redeliveries, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* Health                                                                */

static json_t *dep_health(booking__obs *obs, booking__dep d, booking__breaker_status *st)
{
	booking__breaker_status_get(&obs->breakers[d], st);
	json_t *o = json_pack("{s:s,s:i,s:i,s:i,s:I}", "state", booking__breaker_state_name(st->state),
	                      "consecutive_failures", st->consecutive_failures, "failure_threshold", st->failure_threshold,
	                      "success_threshold", st->success_threshold, "recovery_seconds",
	                      (json_int_t)(st->recovery_ms / 1000));
	if (!o)
		return NULL;
	json_object_set_new(o, "opened_at", st->opened_at ? json_integer(st->opened_at) : json_null());
	json_object_set_new(o, "last_error", st->last_error_code
	                                         ? json_pack("{s:s,s:s,s:I}", "code", booking_error_name(st->last_error_code),
	                                                     "message", st->last_error, "at", (json_int_t)st->last_error_at)
	                                         : json_null());
	if (d == BOOKING__DEP_LOCKS)
		json_object_set_new(o, "degraded", json_boolean(atomic_load(&obs->bk->locks_degraded)));
	return o;
}

booking_error_code booking_health(char **json_out, booking_handle *bk)
{
	if (json_out)
		*json_out = NULL;
	if (!json_out || !bk || !bk->obs)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "booking_health: NULL argument");
	booking__obs *obs = bk->obs;
	unsigned long failures = booking__json_failures();
	json_t *deps = json_object();
	bool unavailable = false, degraded = atomic_load(&bk->locks_degraded);
	for (size_t d = 0; deps && d < BOOKING__DEP_COUNT; d++) {
		if (!obs->present[d])
			continue;
		booking__breaker_status st;
		json_t *o = dep_health(obs, (booking__dep)d, &st);
		if (!o || json_object_set_new(deps, booking__dep_name((booking__dep)d), o) != 0) {
			json_decref(deps);
			deps = NULL;
			break;
		}
		if (st.state != BOOKING__BREAKER_CLOSED) {
			if (d == BOOKING__DEP_STORE && st.state == BOOKING__BREAKER_OPEN)
				unavailable = true;
			else
				degraded = true;
		}
	}
	json_t *root = deps ? json_pack("{s:s,s:b,s:o}", "status", unavailable ? "unavailable" : degraded ? "degraded" : "ok",
	                                "lock_manager_degraded", (int)atomic_load(&bk->locks_degraded), "dependencies", deps)
	                    : NULL;
	char *text = root && booking__json_failures() == failures ? booking__json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!text)
		return booking_error_oom();
	*json_out = text;
	return 0;
}

/* ------------------------------------------------------------------ */
/* URLs for logs                                                         */

/* Does the query parameter at p (up to '=' or its end) name a password ("password", "sslpassword", ...)? */
static bool names_password(const char *p, size_t len)
{
	static const char word[] = "password";
	size_t n = sizeof(word) - 1;
	return len >= n && strncasecmp(p + len - n, word, n) == 0;
}

const char *booking__url_redact(const char *url, char *buf, size_t size)
{
	if (!url)
		return "";
	char tmp[1024];
	snprintf(tmp, sizeof(tmp), "%s", url);
	/* "scheme://user:secret@host" keeps "scheme://user:" then "***" then "@host..." */
	char *auth = strstr(tmp, "://");
	if (auth) {
		auth += 3;
		size_t span = strcspn(auth, "/?#");
		char *at = NULL;
		for (char *p = auth; p < auth + span; p++)
			if (*p == '@')
				at = p;
		char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon) {
			char rest[sizeof(tmp)];
			snprintf(rest, sizeof(rest), "%s", at);
			snprintf(colon + 1, sizeof(tmp) - (size_t)(colon + 1 - tmp), "***%s", rest);
		}
	}
	/* and every query parameter that names a password ("?password=x" for libpq): its value is "***" */
	size_t o = 0;
	const char *q = strchr(tmp, '?');
	const char *p = tmp;
	if (q) {
		size_t head = (size_t)(q + 1 - tmp);
		o = head < size ? head : size - 1;
		memcpy(buf, tmp, o);
		p = q + 1;
		while (*p && o + 1 < size) {
			size_t len = strcspn(p, "&#"), key = strcspn(p, "=&#");
			bool secret = key < len && names_password(p, key);
			size_t take = secret ? key + 1 : len;
			for (size_t i = 0; i < take && o + 1 < size; i++)
				buf[o++] = p[i];
			if (secret)
				for (const char *r = "***"; *r && o + 1 < size; r++)
					buf[o++] = *r;
			p += len;
			if (*p == '&' && o + 1 < size)
				buf[o++] = *p++;
			else if (*p)
				break; /* '#': the fragment as it is */
		}
	}
	snprintf(buf + o, size - o, "%s", p);
	return buf;
}
