/*
 * libbooking tests — the shared fixture.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Set by the conformance kit (fx_use_urls, fx_use_fresh); NULL: the environment's and fx_fresh_url's rule. */
static const char *store_url_override, *lock_url_override, *events_url_override;
static booking_conformance_fresh_cb fresh_cb;
static void *fresh_payload;

void fx_use_urls(const char *store_url, const char *lock_url, const char *events_url)
{
	store_url_override = store_url;
	lock_url_override = lock_url;
	events_url_override = events_url;
}

void fx_use_fresh(booking_conformance_fresh_cb fresh, void *payload)
{
	fresh_cb = fresh;
	fresh_payload = payload;
}

const char *fx_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	/* the kit's URLs win over the environment's, wherever a suite reads them */
	if (store_url_override && strcmp(name, "BOOKING_TEST_STORE_URL") == 0)
		return store_url_override;
	if (lock_url_override && strcmp(name, "BOOKING_TEST_LOCK_URL") == 0)
		return lock_url_override;
	if (events_url_override && strcmp(name, "BOOKING_TEST_EVENTS_URL") == 0)
		return events_url_override;
	return (v && *v) ? v : def;
}

void fx_remove_db(const char *file)
{
	static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
	char path[600];

	if (!file || !*file)
		return;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", file, suffixes[i]);
		unlink(path);
	}
}

void fx_fresh_url(char *out, size_t n, const char *url, char *file_out, size_t file_n)
{
	static int counter;
	const char *prefix = "sqlite://";

	if (file_out && file_n)
		file_out[0] = '\0';
	if (fresh_cb) {
		int rc = fresh_cb(out, n, url, (unsigned int)++counter, fresh_payload);
		ck_assert_msg(rc == 0, "the fresh-URL callback failed (%d) for %s", rc, url);
		return;
	}
	/* "sqlite:///abs/path.db?params": a file, the parameters kept. "sqlite::memory:" and the rest: as given. */
	if (strncmp(url, prefix, strlen(prefix)) == 0 && url[strlen(prefix)] == '/') {
		const char *path = url + strlen(prefix);
		size_t path_len = strcspn(path, "?");
		char file[512];
		snprintf(file, sizeof(file), "%.*s.%ld.%d", (int)path_len, path, (long)getpid(), ++counter);
		fx_remove_db(file);
		snprintf(out, n, "%s%s%s", prefix, file, path + path_len);
		if (file_out && file_n)
			snprintf(file_out, file_n, "%s", file);
		return;
	}
	/* PostgreSQL: a schema of its own per test (the store creates the first schema of search_path) */
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0) {
		snprintf(out, n, "%s%coptions=-csearch_path%%3Dbk_test_%ld_%d", url, strchr(url, '?') ? '&' : '?',
		         (long)getpid(), ++counter);
		return;
	}
	snprintf(out, n, "%s", url);
}

const char *fx_store_url(void)
{
	return fx_env("BOOKING_TEST_STORE_URL", "memory:");
}

/* One payment key file per test process, removed at exit. */
static char payment_key_dir[256], payment_key_path[300];

static void payment_key_remove(void)
{
	if (payment_key_path[0])
		unlink(payment_key_path);
	if (payment_key_dir[0])
		rmdir(payment_key_dir);
}

const char *fx_payment_key_file(void)
{
	if (payment_key_path[0])
		return payment_key_path;
	snprintf(payment_key_dir, sizeof(payment_key_dir), "%s/booking-paykey.XXXXXX", fx_env("TMPDIR", "/tmp"));
	ck_assert_ptr_nonnull(mkdtemp(payment_key_dir));
	snprintf(payment_key_path, sizeof(payment_key_path), "%s/payment.key", payment_key_dir);
	ck_assert_int_eq(booking_payment_key_generate_file(payment_key_path), 0);
	atexit(payment_key_remove);
	return payment_key_path;
}

void fx_open(fx *f, const booking_options *base)
{
	booking_options o;
	int rc;

	memset(f, 0, sizeof(*f));
	f->clock = booking_clock_manual_new(FX_T0);
	ck_assert_ptr_nonnull(f->clock);
	if (base)
		o = *base;
	else
		booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.clock = f->clock;
	if (o.version >= 4 && !o.payment_key_file)
		o.payment_key_file = fx_payment_key_file();
	/* the flows hold many seats per user: the per-buyer limit is asked for by the tests of it */
	if (o.version >= 7 && o.max_seats_per_user_showtime == 0)
		o.max_seats_per_user_showtime = -1;
	if (!o.store && !o.store_url) {
		fx_fresh_url(f->url, sizeof(f->url), fx_store_url(), f->file, sizeof(f->file));
		booking_store *inner = NULL;
		rc = booking_store_open(&inner, f->url, o.clock);
		ck_assert_msg(rc == 0, "booking_store_open(%s): %s: %s", f->url, booking_error_name(rc),
		              booking_error_last()->message);
		f->wrap = fx_store_wrap_new(inner);
		f->store = &f->wrap->parent;
		o.store = f->store;
	} else if (o.store_url) {
		snprintf(f->url, sizeof(f->url), "%s", o.store_url);
	}
	rc = booking_open(&f->bk, &o);
	ck_assert_msg(rc == 0, "booking_open(%s): %s: %s", f->url, booking_error_name(rc),
	              booking_error_last()->message);
	ck_assert_ptr_nonnull(f->bk);
}

/* --- the decorator store ------------------------------------------------- */

#define INNER(st) (((fx_store_wrap *)(void *)(st))->inner)
#define BEFORE(st, name)                                                                                    \
	do {                                                                                                 \
		fx_store_wrap *w_ = (fx_store_wrap *)(void *)(st);                                               \
		if (w_->before)                                                                                  \
			w_->before(w_, name);                                                                        \
	} while (0)

static void w_free(booking_store *st)
{
	INNER(st)->free(INNER(st));
	free(st);
}
static int w_migrate(int *v, booking_store *st)
{
	return INNER(st)->migrate(v, INNER(st));
}
static int w_movie_insert(booking_store *st, const booking_movie *m)
{
	return INNER(st)->catalog->movie_insert(INNER(st), m);
}
static int w_movie_get(booking_movie **out, booking_store *st, const char *id)
{
	return INNER(st)->catalog->movie_get(out, INNER(st), id);
}
static int w_movie_list(booking_store *st, booking_store_movie_cb cb, void *p)
{
	return INNER(st)->catalog->movie_list(INNER(st), cb, p);
}
static int w_theater_insert(booking_store *st, const booking_theater *t)
{
	return INNER(st)->catalog->theater_insert(INNER(st), t);
}
static int w_theater_get(booking_theater **out, booking_store *st, const char *id)
{
	return INNER(st)->catalog->theater_get(out, INNER(st), id);
}
static int w_theater_list(booking_store *st, booking_store_theater_cb cb, void *p)
{
	return INNER(st)->catalog->theater_list(INNER(st), cb, p);
}
static int w_screen_insert(booking_store *st, const booking_screen *s)
{
	return INNER(st)->catalog->screen_insert(INNER(st), s);
}
static int w_screen_get(booking_screen **out, booking_store *st, const char *id)
{
	return INNER(st)->catalog->screen_get(out, INNER(st), id);
}
static int w_showtime_insert(booking_store *st, const booking_showtime *s)
{
	return INNER(st)->catalog->showtime_insert(INNER(st), s);
}
static int w_showtime_get(booking_showtime **out, booking_store *st, const char *id)
{
	return INNER(st)->catalog->showtime_get(out, INNER(st), id);
}
static int w_showtime_list(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *p)
{
	return INNER(st)->catalog->showtime_list(INNER(st), movie_id, cb, p);
}
static int w_seat_list(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *p)
{
	return INNER(st)->catalog->seat_list(INNER(st), showtime_id, cb, p);
}
static int w_hold(booking_seat_ref *taken, size_t *n, booking_store *st, const booking_store_hold *req)
{
	BEFORE(st, "hold");
	return INNER(st)->ledger->hold(taken, n, INNER(st), req);
}
static int w_reservation_get(booking_reservation **out, booking_store *st, const char *id)
{
	return INNER(st)->ledger->reservation_get(out, INNER(st), id);
}
static int w_reservation_list_by_user(booking_store *st, const char *user, int64_t after_created_at, const char *after_id,
                                  size_t max, booking_store_reservation_cb cb, void *p)
{
	return INNER(st)->ledger->reservation_list_by_user(INNER(st), user, after_created_at, after_id, max, cb, p);
}
static int w_apply(size_t *failed_guard_out, booking_store *st, const booking_store_change *change)
{
	BEFORE(st, "apply");
	return INNER(st)->ledger->apply(failed_guard_out, INNER(st), change);
}
static int w_reservation_list_by_status(booking_store *st, booking_reservation_status status, int64_t expires_before, size_t max,
                                    booking_store_reservation_cb cb, void *p)
{
	return INNER(st)->ledger->reservation_list_by_status(INNER(st), status, expires_before, max, cb, p);
}
static int w_idempotency_get(booking_store_idempotency_record *out, booking_store *st, const char *user_id,
                             const char *key)
{
	return INNER(st)->ledger->idempotency_get(out, INNER(st), user_id, key);
}
static int w_payment_get(booking_payment **out, booking_store *st, const char *id)
{
	return INNER(st)->ledger->payment_get(out, INNER(st), id);
}
static int w_payment_list_by_status(booking_store *st, booking_payment_status status, int64_t created_before,
                                    size_t max, booking_store_payment_cb cb, void *p)
{
	return INNER(st)->ledger->payment_list_by_status(INNER(st), status, created_before, max, cb, p);
}
static int w_outbox_unpublished(booking_store *st, size_t max, booking_store_event_cb cb, void *p)
{
	return INNER(st)->outbox->outbox_unpublished(INNER(st), max, cb, p);
}
static int w_outbox_mark_published(booking_store *st, const char *const *ids, size_t n)
{
	return INNER(st)->outbox->outbox_mark_published(INNER(st), ids, n);
}
static int w_outbox_read(booking_store *st, int64_t after, size_t max, booking_store_event_cb cb, void *p)
{
	return INNER(st)->outbox->outbox_read(INNER(st), after, max, cb, p);
}
static int w_cursor_get(int64_t *pos, booking_store *st, const char *group)
{
	return INNER(st)->outbox->cursor_get(pos, INNER(st), group);
}
static int w_cursor_advance(booking_store *st, const char *group, int64_t expected, int64_t pos)
{
	return INNER(st)->outbox->cursor_advance(INNER(st), group, expected, pos);
}
static int w_inbox_seen(bool *seen, booking_store *st, const char *group, const char *event_id)
{
	return INNER(st)->outbox->inbox_seen(seen, INNER(st), group, event_id);
}
static int w_inbox_mark(booking_store *st, const char *group, const char *event_id, int64_t now)
{
	return INNER(st)->outbox->inbox_mark(INNER(st), group, event_id, now);
}
static int w_dead_letter_put(booking_store *st, const char *group, const char *event_id, const char *reason,
                             const char *envelope, int64_t now)
{
	return INNER(st)->outbox->dead_letter_put(INNER(st), group, event_id, reason, envelope, now);
}
static int w_dead_letter_list(booking_store *st, const char *group,
                              int (*cb)(const char *, const char *, const char *, const char *, int64_t, void *),
                              void *p)
{
	return INNER(st)->outbox->dead_letter_list(INNER(st), group, cb, p);
}
static int w_scan(booking_store *st, const booking_store_scan_cbs *cbs, void *payload)
{
	fx_store_wrap *w = (fx_store_wrap *)(void *)st;

	if (w->scan)
		return w->scan(w, cbs, payload);
	return w->inner->scan(w->inner, cbs, payload);
}

static int w_user_insert(booking_store *st, const booking_store_user_insert *req)
{
	return INNER(st)->users->user_insert(INNER(st), req);
}

static int w_user_get(booking_user **out, char **hash_out, booking_store *st, const char *id)
{
	return INNER(st)->users->user_get(out, hash_out, INNER(st), id);
}

static int w_user_get_by_email(booking_user **out, char **hash_out, booking_store *st, const char *email)
{
	return INNER(st)->users->user_get_by_email(out, hash_out, INNER(st), email);
}

static int w_user_set_password_hash(booking_store *st, const char *id, const char *expected_hash,
                                    const char *new_hash, int64_t now)
{
	return INNER(st)->users->user_set_password_hash(INNER(st), id, expected_hash, new_hash, now);
}

static int w_token_revoke(booking_store *st, const char *jti, int64_t expires_at, int64_t now)
{
	return INNER(st)->users->token_revoke(INNER(st), jti, expires_at, now);
}

static int w_token_is_revoked(bool *revoked_out, booking_store *st, const char *jti, int64_t now)
{
	return INNER(st)->users->token_is_revoked(revoked_out, INNER(st), jti, now);
}

static int w_payment_attempts(booking_store_payment_attempts *out, booking_store *st, const char *user_id,
                              const char *idempotency_key, const char *reservation_id, booking_payment_status status,
                              int64_t since)
{
	return INNER(st)->ledger->payment_attempts(out, INNER(st), user_id, idempotency_key, reservation_id, status, since);
}

static int w_reservation_list_by_showtime(booking_store *st, const char *showtime_id, booking_reservation_status status,
                                          int64_t after_created_at, const char *after_id, size_t max,
                                          booking_store_reservation_cb cb, void *p)
{
	return INNER(st)->ledger->reservation_list_by_showtime(INNER(st), showtime_id, status, after_created_at, after_id,
	                                                       max, cb, p);
}

static int w_clock_now(int64_t *now_ms_out, booking_store *st)
{
	return INNER(st)->clock_now(now_ms_out, INNER(st));
}

static int w_kv_get(booking_store_kv_record *out, booking_store *st, const char *ns, const char *key, int64_t now)
{
	return INNER(st)->kv->kv_get(out, INNER(st), ns, key, now);
}

static int w_kv_put(int64_t *version_out, booking_store *st, const booking_store_kv_put *req)
{
	BEFORE(st, "kv_put");
	return INNER(st)->kv->kv_put(version_out, INNER(st), req);
}

static int w_kv_list(booking_store *st, const char *ns, int64_t now, size_t max, booking_store_kv_cb cb, void *p)
{
	return INNER(st)->kv->kv_list(INNER(st), ns, now, max, cb, p);
}

static const booking_store_catalog w_catalog = {
	.version = BOOKING_STORE_CATALOG_VERSION, /* the inner store's, set by fx_store_wrap_new */
	.movie_insert = w_movie_insert,
	.movie_get = w_movie_get,
	.movie_list = w_movie_list,
	.theater_insert = w_theater_insert,
	.theater_get = w_theater_get,
	.theater_list = w_theater_list,
	.screen_insert = w_screen_insert,
	.screen_get = w_screen_get,
	.showtime_insert = w_showtime_insert,
	.showtime_get = w_showtime_get,
	.showtime_list = w_showtime_list,
	.seat_list = w_seat_list,
};

static const booking_store_ledger w_ledger = {
	.version = BOOKING_STORE_LEDGER_VERSION, /* the inner store's, set by fx_store_wrap_new */
	.hold = w_hold,
	.reservation_get = w_reservation_get,
	.reservation_list_by_user = w_reservation_list_by_user,
	.apply = w_apply,
	.reservation_list_by_status = w_reservation_list_by_status,
	.idempotency_get = w_idempotency_get,
	.payment_get = w_payment_get,
	.payment_list_by_status = w_payment_list_by_status,
	.payment_attempts = w_payment_attempts,
	.reservation_list_by_showtime = w_reservation_list_by_showtime,
};

static const booking_store_outbox w_outbox = {
	.version = BOOKING_STORE_OUTBOX_VERSION,
	.outbox_unpublished = w_outbox_unpublished,
	.outbox_mark_published = w_outbox_mark_published,
	.outbox_read = w_outbox_read,
	.cursor_get = w_cursor_get,
	.cursor_advance = w_cursor_advance,
	.inbox_seen = w_inbox_seen,
	.inbox_mark = w_inbox_mark,
	.dead_letter_put = w_dead_letter_put,
	.dead_letter_list = w_dead_letter_list,
};

/* Auth members: plain forwards, present when the inner store has the group. */
static const booking_store_users w_users = {
	.version = BOOKING_STORE_USERS_VERSION,
	.user_insert = w_user_insert,
	.user_get = w_user_get,
	.user_get_by_email = w_user_get_by_email,
	.user_set_password_hash = w_user_set_password_hash,
	.token_revoke = w_token_revoke,
	.token_is_revoked = w_token_is_revoked,
};

/* The kv group (store version 7): plain forwards, present when the inner store has the group. */
static const booking_store_kv w_kv = {
	.version = BOOKING_STORE_KV_VERSION,
	.kv_get = w_kv_get,
	.kv_put = w_kv_put,
	.kv_list = w_kv_list,
};

fx_store_wrap *fx_store_wrap_new(booking_store *inner)
{
	fx_store_wrap *w = calloc(1, sizeof(*w));
	booking_store *p = &w->parent;

	ck_assert_ptr_nonnull(w);
	w->inner = inner;
	p->version = inner->version; /* 6 or 7: the wrapper has the groups its inner store has */
	p->free = w_free;
	p->migrate = w_migrate;
	p->clock_now = inner->clock_now ? w_clock_now : NULL;
	p->scan = w_scan;
	w->catalog = w_catalog;
	w->catalog.version = inner->catalog->version;
	w->ledger = w_ledger;
	w->ledger.version = inner->ledger->version;
	p->catalog = &w->catalog;
	p->ledger = &w->ledger;
	p->outbox = &w_outbox;
	p->users = inner->users ? &w_users : NULL;
	p->kv = inner->version >= 7 && inner->kv ? &w_kv : NULL;
	ck_assert_ok(booking_store_validate(p));
	return w;
}

/* --- the decorator gateway ------------------------------------------------ */

static void gw_free(booking_payment_gateway *gw)
{
	fx_gateway_wrap *g = (fx_gateway_wrap *)(void *)gw;
	g->inner->free(g->inner);
	free(g);
}

static int gw_charge(booking_charge_result *out, booking_payment_gateway *gw, const booking_charge_request *req)
{
	fx_gateway_wrap *g = (fx_gateway_wrap *)(void *)gw;

	if (g->before_charge)
		g->before_charge(g, req);
	__atomic_add_fetch(&g->charges, 1, __ATOMIC_SEQ_CST);
	return g->inner->charge(out, g->inner, req);
}

static int gw_refund(booking_payment_gateway *gw, const char *charge_id, int64_t amount, const char *key)
{
	fx_gateway_wrap *g = (fx_gateway_wrap *)(void *)gw;
	return g->inner->refund(g->inner, charge_id, amount, key);
}

static int gw_lookup(booking_charge_result *out, booking_payment_gateway *gw, const char *key)
{
	fx_gateway_wrap *g = (fx_gateway_wrap *)(void *)gw;
	return g->inner->lookup(out, g->inner, key);
}

fx_gateway_wrap *fx_gateway_wrap_new(void)
{
	fx_gateway_wrap *g = calloc(1, sizeof(*g));

	ck_assert_ptr_nonnull(g);
	ck_assert_ok(booking_payment_gateway_open(&g->inner, "simulated:"));
	g->parent.version = BOOKING_PAYMENT_GATEWAY_VERSION;
	g->parent.free = gw_free;
	g->parent.charge = gw_charge;
	g->parent.refund = gw_refund;
	g->parent.lookup = gw_lookup;
	return g;
}

int fx_gateway_charges(fx_gateway_wrap *g)
{
	return __atomic_load_n(&g->charges, __ATOMIC_SEQ_CST);
}

void fx_rendezvous_init(fx_rendezvous *r, int parties, int timeout_ms)
{
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->parties = parties;
	r->arrived = 0;
	r->generation = 0;
	r->timeout_ms = timeout_ms;
}

void fx_rendezvous_wait(fx_rendezvous *r)
{
	struct timespec deadline;
	int gen;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += r->timeout_ms / 1000;
	deadline.tv_nsec += (long)(r->timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	gen = r->generation;
	if (++r->arrived >= r->parties) {
		r->arrived = 0;
		r->generation++;
		pthread_cond_broadcast(&r->cv);
	} else {
		while (gen == r->generation) {
			if (pthread_cond_timedwait(&r->cv, &r->mu, &deadline) == ETIMEDOUT) {
				/* the others are not coming: open the gate for this round */
				r->arrived = 0;
				r->generation++;
				pthread_cond_broadcast(&r->cv);
				break;
			}
		}
	}
	pthread_mutex_unlock(&r->mu);
}

void fx_rendezvous_destroy(fx_rendezvous *r)
{
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
}

void fx_seed(fx *f)
{
	booking_ctx admin = fx_admin();
	booking_movie *m = NULL;
	booking_theater *t = NULL;
	booking_screen *s = NULL;
	booking_seat *seats = NULL;
	size_t n = 0;

	ck_assert_ok(booking_movie_create(&m, f->bk, &admin, "The Seat Keeper", 120));
	snprintf(f->movie_id, sizeof(f->movie_id), "%s", m->id);
	booking_movie_free(m);
	ck_assert_ok(booking_theater_create(&t, f->bk, &admin, "Odeon", "Lyon"));
	snprintf(f->theater_id, sizeof(f->theater_id), "%s", t->id);
	booking_theater_free(t);
	ck_assert_ok(booking_layout_parse(&seats, &n, FX_LAYOUT, sizeof *seats));
	ck_assert_uint_eq(n, FX_SEATS);
	ck_assert_ok(booking_screen_create(&s, f->bk, &admin, f->theater_id, "Screen 1", seats, n, sizeof *seats));
	booking_free(seats);
	snprintf(f->screen_id, sizeof(f->screen_id), "%s", s->id);
	booking_screen_free(s);
	fx_add_showtime(f, FX_DAY, f->showtime_id);
	f->showtime_starts_at = booking_now(f->bk) + FX_DAY;
}

void fx_add_showtime(fx *f, int64_t starts_in_ms, char id_out[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_price price;
	booking_showtime *st = NULL;

	memset(&price, 0, sizeof(price));
	snprintf(price.category, sizeof(price.category), "standard");
	price.amount = FX_PRICE;
	ck_assert_ok(booking_showtime_create(&st, f->bk, &admin, f->movie_id, f->screen_id,
	                                     booking_now(f->bk) + starts_in_ms, "EUR", &price, 1, sizeof(booking_price)));
	snprintf(id_out, BOOKING_ID_SIZE, "%s", st->id);
	booking_showtime_free(st);
}

void fx_add_hall(fx *f, const char *layout, char id_out[BOOKING_ID_SIZE])
{
	booking_ctx admin = fx_admin();
	booking_seat *seats = NULL;
	booking_screen *s = NULL;
	booking_showtime *st = NULL;
	size_t n = 0;
	booking_price prices[2];

	ck_assert_ok(booking_layout_parse(&seats, &n, layout, sizeof *seats));
	ck_assert_ok(booking_screen_create(&s, f->bk, &admin, f->theater_id, "Hall", seats, n, sizeof *seats));
	booking_free(seats);
	memset(prices, 0, sizeof prices);
	snprintf(prices[0].category, sizeof prices[0].category, "standard");
	prices[0].amount = FX_PRICE;
	snprintf(prices[1].category, sizeof prices[1].category, "premium");
	prices[1].amount = 2 * FX_PRICE;
	ck_assert_ok(booking_showtime_create(&st, f->bk, &admin, f->movie_id, s->id, booking_now(f->bk) + FX_DAY, "EUR",
	                                     prices, strstr(layout, "premium") ? 2 : 1, sizeof prices[0]));
	snprintf(id_out, BOOKING_ID_SIZE, "%s", st->id);
	booking_screen_free(s);
	booking_showtime_free(st);
}

void fx_setup(fx *f)
{
	fx_open(f, NULL);
	fx_seed(f);
}

void fx_close(fx *f)
{
	booking_close(f->bk);
	f->bk = NULL;
	booking_clock_manual_free(f->clock);
	f->clock = NULL;
	fx_remove_db(f->file);
	f->file[0] = '\0';
}

void fx_advance(fx *f, int64_t ms)
{
	booking_clock_manual_advance(f->clock, ms);
}

booking_ctx fx_customer(const char *user_id)
{
	booking_ctx c;
	booking_ctx_init(&c, user_id, BOOKING_ROLE_CUSTOMER);
	return c;
}

booking_ctx fx_admin(void)
{
	booking_ctx c;
	booking_ctx_init(&c, "admin-1", BOOKING_ROLE_ADMIN);
	return c;
}

booking_ctx fx_system(void)
{
	return *booking_ctx_system();
}

booking_ctx fx_anonymous(void)
{
	booking_ctx c;
	booking_ctx_init(&c, NULL, BOOKING_ROLE_NONE);
	return c;
}

size_t fx_split(const char *csv, char labels[][BOOKING_LABEL_SIZE], const char **ptrs, size_t max)
{
	size_t n = 0;
	const char *p = csv;

	while (*p && n < max) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len >= BOOKING_LABEL_SIZE)
			len = BOOKING_LABEL_SIZE - 1;
		memcpy(labels[n], p, len);
		labels[n][len] = '\0';
		ptrs[n] = labels[n];
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	return n;
}

int fx_hold(fx *f, booking_reservation **out, const char *user_id, const char *labels_csv)
{
	char labels[64][BOOKING_LABEL_SIZE];
	const char *ptrs[64];
	size_t n = fx_split(labels_csv, labels, ptrs, 64);
	booking_ctx c = fx_customer(user_id);

	return booking_hold(out, f->bk, &c, f->showtime_id, ptrs, n);
}

void fx_hold_ok(fx *f, const char *user_id, const char *labels_csv, char id_out[BOOKING_ID_SIZE])
{
	booking_reservation *r = NULL;

	ck_assert_ok(fx_hold(f, &r, user_id, labels_csv));
	ck_assert_ptr_nonnull(r);
	snprintf(id_out, BOOKING_ID_SIZE, "%s", r->id);
	booking_reservation_free(r);
}

int fx_pay(fx *f, booking_payment **out, const char *user_id, const char *reservation_id, const char *key,
           const char *card)
{
	booking_ctx c = fx_customer(user_id);
	return booking_pay(out, f->bk, &c, reservation_id, key, card);
}

booking_reservation *fx_booking(fx *f, const char *reservation_id)
{
	booking_ctx admin = fx_admin();
	booking_reservation *r = NULL;

	ck_assert_ok(booking_reservation_get(&r, f->bk, &admin, reservation_id));
	ck_assert_ptr_nonnull(r);
	return r;
}

booking_payment *fx_payment(fx *f, const char *payment_id)
{
	booking_ctx admin = fx_admin();
	booking_payment *p = NULL;

	ck_assert_ok(booking_payment_get(&p, f->bk, &admin, payment_id));
	ck_assert_ptr_nonnull(p);
	return p;
}

booking_seat_status fx_seat_status(fx *f, const char *label)
{
	booking_ctx anon = fx_anonymous();
	booking_seat_map *m = NULL;
	booking_seat_status st = BOOKING_SEAT_FREE;
	bool found = false;

	ck_assert_ok(booking_seat_map_get(&m, f->bk, &anon, f->showtime_id));
	for (size_t i = 0; i < m->count; i++) {
		if (strcmp(m->seats[i]->label, label) == 0) {
			st = m->seats[i]->status;
			found = true;
		}
	}
	booking_seat_map_free(m);
	ck_assert_msg(found, "seat %s is not on the seat map", label);
	return st;
}

static booking_check_report *fx_check(fx *f)
{
	booking_check_report *r = NULL;

	ck_assert_ok(booking_check(&r, f->bk));
	ck_assert_ptr_nonnull(r);
	return r;
}

size_t fx_check_violations(fx *f)
{
	booking_check_report *r = fx_check(f);
	size_t n = r->count;

	for (size_t i = 0; i < r->count; i++)
		fprintf(stderr, "violation of invariant %d on %s: %s\n", (int)r->items[i]->invariant,
		        r->items[i]->entity_id, r->items[i]->message ? r->items[i]->message : "");
	booking_check_report_free(r);
	return n;
}

bool fx_check_reports(fx *f, booking_invariant inv)
{
	booking_check_report *r = fx_check(f);
	bool found = false;

	for (size_t i = 0; i < r->count; i++)
		found = found || r->items[i]->invariant == inv;
	booking_check_report_free(r);
	return found;
}

typedef struct payments_of {
	const char *reservation_id;
	booking_payment *out;
	size_t max, n;
} payments_of;

static int collect_payment(const booking_payment *p, void *payload)
{
	payments_of *a = payload;

	if (a->reservation_id && strcmp(p->reservation_id, a->reservation_id) != 0)
		return 0;
	if (a->n < a->max)
		a->out[a->n] = *p;
	a->n++;
	return 0;
}

size_t fx_payments_of(fx *f, const char *reservation_id, booking_payment *out, size_t max)
{
	booking_store_scan_cbs cbs;
	payments_of a = {reservation_id, out, max, 0};

	ck_assert_msg(f->store != NULL, "fx_payments_of needs a fixture-opened store");
	memset(&cbs, 0, sizeof(cbs));
	cbs.payment = collect_payment;
	ck_assert_ok(f->store->scan(f->store, &cbs, &a));
	return a.n;
}

size_t fx_payment_count(fx *f)
{
	return fx_payments_of(f, NULL, NULL, 0);
}

int fx_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
