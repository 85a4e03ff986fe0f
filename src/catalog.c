/*
 * The catalog: movies, theaters, screens, showtimes; the seat map.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SCREEN_SEATS 100000

/* ---------- freeing (ownership layout documented in sys/store.h users) ---------- */

static void movie_clear(booking_movie *m)
{
	booking_free(m->title);
}

static void theater_clear(booking_theater *t)
{
	booking_free(t->name);
	booking_free(t->city);
}

static void showtime_clear(booking_showtime *s)
{
	booking_free(s->prices);
}

void booking_movie_free(booking_movie *m)
{
	if (m) {
		movie_clear(m);
		booking_free(m);
	}
}

void booking_theater_free(booking_theater *t)
{
	if (t) {
		theater_clear(t);
		booking_free(t);
	}
}

void booking_screen_free(booking_screen *s)
{
	if (s) {
		booking_free(s->name);
		booking_free(s->seats);
		booking_free(s);
	}
}

void booking_showtime_free(booking_showtime *s)
{
	if (s) {
		showtime_clear(s);
		booking_free(s);
	}
}

void booking_movie_list_free(booking_movie_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		movie_clear(l->items[i]);
	booking_free(l->items);
	booking_free(l);
}

void booking_theater_list_free(booking_theater_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		theater_clear(l->items[i]);
	booking_free(l->items);
	booking_free(l);
}

void booking_showtime_list_free(booking_showtime_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->count; i++)
		showtime_clear(l->items[i]);
	booking_free(l->items);
	booking_free(l);
}

void booking_seat_map_free(booking_seat_map *m)
{
	if (m) {
		booking_free(m->seats);
		booking_free(m);
	}
}

/* ---------- deep copies into list items ---------- */

static int movie_copy_into(booking_movie *dst, const booking_movie *src)
{
	*dst = *src;
	dst->title = booking_strdup(src->title ? src->title : "");
	return dst->title ? 0 : booking_error_oom();
}

static int theater_copy_into(booking_theater *dst, const booking_theater *src)
{
	*dst = *src;
	dst->name = booking_strdup(src->name ? src->name : "");
	dst->city = booking_strdup(src->city ? src->city : "");
	if (!dst->name || !dst->city) {
		theater_clear(dst);
		return booking_error_oom();
	}
	return 0;
}

static int showtime_copy_into(booking_showtime *dst, const booking_showtime *src)
{
	void **prices = NULL;
	*dst = *src;
	int rc = booking__record_array_dup(&prices, (const void *const *)src->prices, src->price_count,
	                                   sizeof(booking_price));
	dst->prices = (booking_price **)prices;
	return rc;
}

/*
 * A growable array of records filled from a store iteration, contiguous
 * while it grows and handed out as an array of pointers at the end
 * (collector_finish), so a long list costs a few reallocs, not a malloc per row.
 */
typedef struct collector {
	void *items;
	size_t count, cap, size;
	int (*copy)(void *dst, const void *src);
	void (*clear)(void *rec);
} collector;

/* The collected records handed out (rc 0), or cleared and freed (rc < 0, or out of memory: rc then BOOKING_ENOMEM). */
static int collector_finish(collector *c, int rc, void ***items_out, size_t *count_out)
{
	void **items = NULL;
	*items_out = NULL;
	*count_out = 0;
	if (rc == 0 && c->count && !(items = booking__record_array_adopt(c->items, c->count, c->size)))
		rc = BOOKING_ENOMEM;
	if (rc < 0 || c->count == 0) {
		for (size_t i = 0; i < c->count; i++)
			c->clear((char *)c->items + i * c->size);
		booking_free(c->items);
		return rc;
	}
	*items_out = items;
	*count_out = c->count;
	return 0;
}

static int collect(collector *c, const void *item)
{
	if (c->count == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		void *n = booking_realloc(c->items, ncap * c->size);
		if (!n)
			return booking_error_oom();
		c->items = n;
		c->cap = ncap;
	}
	int rc = c->copy((char *)c->items + c->count * c->size, item);
	if (rc == 0)
		c->count++;
	return rc;
}

static int copy_movie_v(void *d, const void *s) { return movie_copy_into(d, s); }
static int copy_theater_v(void *d, const void *s) { return theater_copy_into(d, s); }
static int copy_showtime_v(void *d, const void *s) { return showtime_copy_into(d, s); }
static void clear_movie_v(void *r) { movie_clear(r); }
static void clear_theater_v(void *r) { theater_clear(r); }
static void clear_showtime_v(void *r) { showtime_clear(r); }
static int collect_movie(const booking_movie *m, void *p) { return collect(p, m); }
static int collect_theater(const booking_theater *t, void *p) { return collect(p, t); }
static int collect_showtime(const booking_showtime *s, void *p) { return collect(p, s); }

/* ---------- movies ---------- */

booking_error_code booking_movie_create(booking_movie **out, booking_handle *bk, const booking_ctx *ctx, const char *title,
                         int duration_minutes)
{
	if (out)
		*out = NULL;
	int rc;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if ((rc = booking__require_admin(ctx)) < 0 || (rc = booking__check_text("title", title, 1, 200)) < 0)
		return rc;
	if (duration_minutes < 1 || duration_minutes > 1000)
		return booking__error_field("duration_minutes", "must be 1..1000");
	booking_movie m = {0};
	booking_uuid_v7(m.id, booking__now(bk));
	m.title = (char *)(uintptr_t)title;
	m.duration_minutes = duration_minutes;
	m.created_at = booking__now(bk);
	if ((rc = bk->store->catalog->movie_insert(bk->store, &m)) < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "movie created", json_pack("{s:s}", "movie_id", m.id));
	return out ? bk->store->catalog->movie_get(out, bk->store, m.id) : 0;
}

booking_error_code booking_movie_get(booking_movie **out, booking_handle *bk, const booking_ctx *ctx, const char *id)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	if (booking__check_id("movie_id", id) < 0)
		return booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	return bk->store->catalog->movie_get(out, bk->store, id);
}

booking_error_code booking_movie_list_all(booking_movie_list **out, booking_handle *bk, const booking_ctx *ctx)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	booking_movie_list *l = booking_calloc(1, sizeof(*l));
	if (!l)
		return booking_error_oom();
	collector c = {NULL, 0, 0, sizeof(booking_movie), copy_movie_v, clear_movie_v};
	void **items;
	rc = collector_finish(&c, bk->store->catalog->movie_list(bk->store, collect_movie, &c), &items, &l->count);
	l->items = (booking_movie **)items;
	if (rc < 0) {
		booking_movie_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ---------- theaters ---------- */

booking_error_code booking_theater_create(booking_theater **out, booking_handle *bk, const booking_ctx *ctx, const char *name,
                           const char *city)
{
	if (out)
		*out = NULL;
	int rc;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if ((rc = booking__require_admin(ctx)) < 0 || (rc = booking__check_text("name", name, 1, 200)) < 0 ||
	    (rc = booking__check_text("city", city ? city : "", 0, 200)) < 0)
		return rc;
	booking_theater t = {0};
	booking_uuid_v7(t.id, booking__now(bk));
	t.name = (char *)(uintptr_t)name;
	t.city = (char *)(uintptr_t)(city ? city : "");
	t.created_at = booking__now(bk);
	if ((rc = bk->store->catalog->theater_insert(bk->store, &t)) < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "theater created", json_pack("{s:s}", "theater_id", t.id));
	return out ? bk->store->catalog->theater_get(out, bk->store, t.id) : 0;
}

booking_error_code booking_theater_get(booking_theater **out, booking_handle *bk, const booking_ctx *ctx, const char *id)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	if (booking__check_id("theater_id", id) < 0)
		return booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	return bk->store->catalog->theater_get(out, bk->store, id);
}

booking_error_code booking_theater_list_all(booking_theater_list **out, booking_handle *bk, const booking_ctx *ctx)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	booking_theater_list *l = booking_calloc(1, sizeof(*l));
	if (!l)
		return booking_error_oom();
	collector c = {NULL, 0, 0, sizeof(booking_theater), copy_theater_v, clear_theater_v};
	void **items;
	rc = collector_finish(&c, bk->store->catalog->theater_list(bk->store, collect_theater, &c), &items, &l->count);
	l->items = (booking_theater **)items;
	if (rc < 0) {
		booking_theater_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ---------- screens ---------- */

/* Labels unique: sort a copy of pointers and compare neighbours. */
static int cmp_label_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Row and number come from the label (stores keep the label only): a seat
 * may leave them empty, or give what the label says; anything else would
 * be lost, so it is refused.
 */
static int check_row_number(const booking_seat *seat)
{
	if (memchr(seat->row, '\0', sizeof(seat->row)) == NULL)
		return booking__error_field("seats.row", "row of seat %s is not NUL-terminated", seat->label);
	if (seat->row[0] == '\0' && seat->number == 0)
		return 0;
	char row[BOOKING_LABEL_SIZE];
	int number;
	booking__seat_split(seat->label, row, &number);
	if (strcmp(row, seat->row) == 0 && number == seat->number)
		return 0;
	return booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "seats.row", "label", seat->label),
	                           "seats: seat %s is row \"%s\" number %d by its label, not row \"%.15s\" number %d"
	                           " (leave them empty)", seat->label, row, number, seat->row, seat->number);
}

/* Fill the row and number of each seat from its label. */
static void seats_split(booking_seat **seats, size_t n)
{
	for (size_t i = 0; i < n; i++)
		booking__seat_split(seats[i]->label, seats[i]->row, &seats[i]->number);
}

static int check_seats(booking_seat *const *seats, size_t n)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		if (memchr(seats[i]->label, '\0', sizeof(seats[i]->label)) == NULL ||
		    memchr(seats[i]->category, '\0', sizeof(seats[i]->category)) == NULL)
			return booking__error_field("seats", "seat %zu is not NUL-terminated", i);
		if ((rc = booking__check_label("seats.label", seats[i]->label)) < 0 ||
		    (rc = booking__check_category("seats.category", seats[i]->category)) < 0 ||
		    (rc = check_row_number(seats[i])) < 0)
			return rc;
	}
	const char **labels = booking_calloc(n, sizeof(*labels));
	if (!labels)
		return booking_error_oom();
	for (size_t i = 0; i < n; i++)
		labels[i] = seats[i]->label;
	qsort(labels, n, sizeof(*labels), cmp_label_ptr);
	rc = 0;
	for (size_t i = 1; i < n && rc == 0; i++)
		if (strcmp(labels[i - 1], labels[i]) == 0)
			rc = booking__error_json(BOOKING_EVALIDATION, json_pack("{s:s,s:s}", "field", "seats", "label", labels[i]),
			                         "seats: label %s appears twice", labels[i]);
	booking_free(labels);
	return rc;
}

booking_error_code booking_screen_create(booking_screen **out, booking_handle *bk, const booking_ctx *ctx, const char *theater_id,
                          const char *name, const booking_seat *seats, size_t seat_count, size_t seat_size)
{
	if (out)
		*out = NULL;
	int rc;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if ((rc = booking__require_admin(ctx)) < 0 || (rc = booking__check_text("name", name, 1, 200)) < 0)
		return rc;
	if (booking__check_id("theater_id", theater_id) < 0)
		return booking_store_not_found(BOOKING_ETHEATER_NOT_FOUND);
	if (!seats || seat_count == 0 || seat_count > MAX_SCREEN_SEATS)
		return booking__error_field("seats", "a screen has 1..%d seats", MAX_SCREEN_SEATS);
	void **copied;
	if ((rc = booking__record_array_in(&copied, seats, seat_count, seat_size, sizeof(booking_seat), BOOKING__SEAT_SIZE_V1,
	                                   "seat_size")) < 0)
		return rc;
	booking_screen s = {0};
	s.seats = (booking_seat **)copied;
	if ((rc = check_seats(s.seats, seat_count)) < 0) {
		booking_free(copied);
		return rc;
	}
	booking_uuid_v7(s.id, booking__now(bk));
	booking__copy(s.theater_id, sizeof(s.theater_id), theater_id);
	s.name = (char *)(uintptr_t)name;
	s.seat_count = seat_count;
	s.created_at = booking__now(bk);
	rc = bk->store->catalog->screen_insert(bk->store, &s);
	booking_free(copied);
	if (rc < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "screen created",
	             json_pack("{s:s,s:i}", "screen_id", s.id, "seats", (int)seat_count));
	if (!out)
		return 0;
	if ((rc = bk->store->catalog->screen_get(out, bk->store, s.id)) == 0)
		seats_split((*out)->seats, (*out)->seat_count);
	return rc;
}

booking_error_code booking_screen_get(booking_screen **out, booking_handle *bk, const booking_ctx *ctx, const char *id)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	if (booking__check_id("screen_id", id) < 0)
		return booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	if ((rc = bk->store->catalog->screen_get(out, bk->store, id)) == 0)
		seats_split((*out)->seats, (*out)->seat_count);
	return rc;
}

/* ---------- showtimes ---------- */

/* Every category of the screen priced exactly once, nothing else. */
static int check_prices(const booking_screen *screen, booking_price *const *prices, size_t n)
{
	int rc;
	for (size_t i = 0; i < n; i++) {
		if (memchr(prices[i]->category, '\0', sizeof(prices[i]->category)) == NULL)
			return booking__error_field("prices", "price %zu: category is not NUL-terminated", i);
		if ((rc = booking__check_category("prices.category", prices[i]->category)) < 0)
			return rc;
		if (prices[i]->amount < 0 || prices[i]->amount > INT64_C(100000000000))
			return booking__error_field("prices.amount", "must be 0..100000000000 minor units");
		for (size_t j = 0; j < i; j++)
			if (strcmp(prices[i]->category, prices[j]->category) == 0)
				return booking__error_field("prices", "category %s priced twice", prices[i]->category);
		bool used = false;
		for (size_t k = 0; k < screen->seat_count && !used; k++)
			used = strcmp(screen->seats[k]->category, prices[i]->category) == 0;
		if (!used)
			return booking__error_field("prices", "the screen has no seat of category %s", prices[i]->category);
	}
	for (size_t k = 0; k < screen->seat_count; k++) {
		bool priced = false;
		for (size_t i = 0; i < n && !priced; i++)
			priced = strcmp(screen->seats[k]->category, prices[i]->category) == 0;
		if (!priced)
			return booking__error_json(BOOKING_EVALIDATION,
			                           json_pack("{s:s,s:s}", "field", "prices", "category", screen->seats[k]->category),
			                           "prices: seat category %s has no price", screen->seats[k]->category);
	}
	return 0;
}

booking_error_code booking_showtime_create(booking_showtime **out, booking_handle *bk, const booking_ctx *ctx, const char *movie_id,
                            const char *screen_id, int64_t starts_at, const char *currency,
                            const booking_price *prices, size_t price_count, size_t price_size)
{
	if (out)
		*out = NULL;
	int rc;
	if (!bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "bk is NULL");
	if ((rc = booking__require_admin(ctx)) < 0 || (rc = booking__check_currency("currency", currency)) < 0)
		return rc;
	if (booking__check_id("movie_id", movie_id) < 0)
		return booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	if (booking__check_id("screen_id", screen_id) < 0)
		return booking_store_not_found(BOOKING_ESCREEN_NOT_FOUND);
	int64_t now = booking__now(bk);
	if (starts_at <= now)
		return booking__error_field("starts_at", "must be in the future");
	booking_screen *screen = NULL;
	void **copied = NULL;
	if ((rc = bk->store->catalog->screen_get(&screen, bk->store, screen_id)) < 0)
		return rc;
	if (!prices || price_count == 0 || price_count > 64)
		rc = booking__error_field("prices", "give 1..64 prices, one per seat category");
	else if ((rc = booking__record_array_in(&copied, prices, price_count, price_size, sizeof(booking_price),
	                                        BOOKING__PRICE_SIZE_V1, "price_size")) == 0)
		rc = check_prices(screen, (booking_price *const *)copied, price_count);
	booking_screen_free(screen);
	if (rc < 0) {
		booking_free(copied);
		return rc;
	}
	booking_showtime s = {0};
	booking_uuid_v7(s.id, now);
	booking__copy(s.movie_id, sizeof(s.movie_id), movie_id);
	booking__copy(s.screen_id, sizeof(s.screen_id), screen_id);
	s.starts_at = starts_at;
	booking__copy(s.currency, sizeof(s.currency), currency);
	s.price_count = price_count;
	s.prices = (booking_price **)copied;
	s.status = BOOKING_SHOWTIME_SCHEDULED;
	s.created_at = now;
	rc = bk->store->catalog->showtime_insert(bk->store, &s);
	booking_free(copied);
	if (rc < 0)
		return rc;
	booking__log(bk, ctx, BOOKING_LOG_INFO, "showtime scheduled",
	             json_pack("{s:s,s:s}", "showtime_id", s.id, "movie_id", movie_id));
	return out ? bk->store->catalog->showtime_get(out, bk->store, s.id) : 0;
}

booking_error_code booking_showtime_get(booking_showtime **out, booking_handle *bk, const booking_ctx *ctx, const char *id)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	if (booking__check_id("showtime_id", id) < 0)
		return booking_store_not_found(BOOKING_ESHOWTIME_NOT_FOUND);
	return bk->store->catalog->showtime_get(out, bk->store, id);
}

booking_error_code booking_showtime_list_all(booking_showtime_list **out, booking_handle *bk, const booking_ctx *ctx,
                              const char *movie_id)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	if ((rc = booking__ctx_check(ctx)) < 0)
		return rc;
	if (movie_id && booking__check_id("movie_id", movie_id) < 0)
		return booking_store_not_found(BOOKING_EMOVIE_NOT_FOUND);
	booking_showtime_list *l = booking_calloc(1, sizeof(*l));
	if (!l)
		return booking_error_oom();
	collector c = {NULL, 0, 0, sizeof(booking_showtime), copy_showtime_v, clear_showtime_v};
	void **items;
	rc = collector_finish(&c, bk->store->catalog->showtime_list(bk->store, movie_id, collect_showtime, &c), &items,
	                      &l->count);
	l->items = (booking_showtime **)items;
	if (rc < 0) {
		booking_showtime_list_free(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* ---------- seat map ---------- */

/* The seats grow contiguous in `seats` and are handed out as pointers at the end (one realloc for a whole venue). */
typedef struct seat_map_fill {
	booking_seat_map *map;
	booking_seat_state *seats;
	size_t cap;
	const booking_showtime *showtime;
	int64_t now;
	const booking__showtime_facts *facts;
} seat_map_fill;

int64_t booking__price_of(const booking_showtime *s, const char *category)
{
	for (size_t i = 0; i < s->price_count; i++)
		if (strcmp(s->prices[i]->category, category) == 0)
			return s->prices[i]->amount;
	return -1;
}

/* Seat `s` is in `status` (hold_until for HELD, note for BLOCKED) as stored: count it as of now. */
static void seat_map_set(seat_map_fill *f, booking_seat_state *s, booking_seat_status status, int64_t hold_until,
                         const char *note)
{
	booking_seat_map *m = f->map;
	/* lazy expiry: a hold whose time is up shows as free */
	s->status = booking_store_seat_claimable(status, hold_until, f->now) ? BOOKING_SEAT_FREE : status;
	m->free_count -= m->free_count > 0; /* every seat was counted free first */
	if (s->status == BOOKING_SEAT_FREE)
		m->free_count++;
	else if (s->status == BOOKING_SEAT_HELD)
		m->held_count++;
	else if (s->status == BOOKING_SEAT_BLOCKED)
		m->blocked_count++;
	else
		m->sold_count++;
	if (s->status == BOOKING_SEAT_BLOCKED)
		booking__copy(s->reason, sizeof(s->reason), note);
}

static int seat_map_add(const booking_store_seat *seat, void *payload)
{
	seat_map_fill *f = payload;
	booking_seat_map *m = f->map;
	if (m->count == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64;
		booking_seat_state *n = booking_realloc(f->seats, ncap * sizeof(*n));
		if (!n)
			return booking_error_oom();
		f->seats = n;
		f->cap = ncap;
	}
	booking_seat_state *s = &f->seats[m->count++];
	memset(s, 0, sizeof(*s));
	booking__copy(s->label, sizeof(s->label), seat->label);
	booking__copy(s->category, sizeof(s->category), seat->category);
	booking__seat_split(s->label, s->row, &s->number);
	s->column = s->number;
	s->price = booking__price_of(f->showtime, seat->category);
	m->free_count++;
	seat_map_set(f, s, seat->status, seat->hold_until, seat->note);
	return 0;
}

/* A seat that is not FREE (seat_states): its row from the facts, found by label. */
static int seat_map_add_state(const booking_store_seat_state *seat, void *payload)
{
	seat_map_fill *f = payload;
	long p = booking__showtime_facts_find(f->facts, seat->label);
	if (p < 0 || (size_t)p >= f->map->count)
		return booking_error_set(BOOKING_EINTERNAL, NULL, "the showtime's seats changed while read");
	seat_map_set(f, &f->seats[p], seat->status, seat->hold_until, seat->note);
	return 0;
}

/* Every seat FREE, from the facts (label, category, price, row, number, column), before seat_states. */
static int seat_map_from_facts(seat_map_fill *f)
{
	const booking__showtime_facts *facts = f->facts;
	booking_seat_map *m = f->map;
	if (!(f->seats = booking_calloc(facts->count ? facts->count : 1, sizeof(*f->seats))))
		return booking_error_oom();
	for (size_t i = 0; i < facts->count; i++) {
		booking_seat_state *s = &f->seats[i];
		booking__copy(s->label, sizeof(s->label), facts->seats[i].label);
		booking__copy(s->category, sizeof(s->category), facts->seats[i].category);
		booking__seat_split(s->label, s->row, &s->number);
		s->column = facts->seats[i].column;
		s->price = facts->seats[i].price;
		s->status = BOOKING_SEAT_FREE;
	}
	m->count = m->free_count = facts->count;
	return 0;
}

int booking__screen_columns(booking_handle *bk, const char *screen_id, size_t count, const char *(*label_at)(const void *, size_t),
                            const void *seats, int *columns)
{
	booking_screen *screen = NULL;
	int rc = bk->store->catalog->screen_get(&screen, bk->store, screen_id);
	if (rc < 0)
		return rc;
	/* a screen's seats and a showtime's seat rows are in the same layout order */
	bool same = screen->seat_count == count;
	for (size_t i = 0; i < count; i++)
		columns[i] = same && screen->seats[i]->column > 0 && strcmp(screen->seats[i]->label, label_at(seats, i)) == 0
		                     ? screen->seats[i]->column
		                     : 0;
	booking_screen_free(screen);
	return 0;
}

booking_error_code booking_seat_map_get(booking_seat_map **out, booking_handle *bk, const booking_ctx *ctx, const char *showtime_id)
{
	int rc;
	if (!out || !bk)
		return booking_error_set(BOOKING_EVALIDATION, NULL, "NULL argument");
	*out = NULL;
	booking_showtime *st = NULL;
	if ((rc = booking_showtime_get(&st, bk, ctx, showtime_id)) < 0)
		return rc;
	booking_seat_map *m = booking_calloc(1, sizeof(*m));
	if (!m) {
		booking_showtime_free(st);
		return booking_error_oom();
	}
	booking__copy(m->showtime_id, sizeof(m->showtime_id), st->id);
	booking__copy(m->currency, sizeof(m->currency), st->currency);
	seat_map_fill f = {m, NULL, 0, st, booking__now(bk), NULL};
	const booking_store_catalog *cat = bk->store->catalog;
	/* the showtime's facts (columns with aisles counted; read once per handle) */
	if ((rc = booking__showtime_facts_get(bk, showtime_id, &f.facts)) == 0) {
		if (cat->version >= 3 && cat->seat_states) { /* the rows that are not FREE: the others are */
			if ((rc = seat_map_from_facts(&f)) == 0)
				rc = cat->seat_states(bk->store, showtime_id, BOOKING_SEAT_FREE, seat_map_add_state, &f);
		} else if ((rc = cat->seat_list(bk->store, showtime_id, seat_map_add, &f)) == 0) {
			for (size_t i = 0; f.facts->count == m->count && i < m->count; i++)
				if (strcmp(f.facts->seats[i].label, f.seats[i].label) == 0)
					f.seats[i].column = f.facts->seats[i].column;
		}
		booking__showtime_facts_release(f.facts);
	}
	booking_showtime_free(st);
	if (rc == 0 && m->count && !(m->seats = (booking_seat_state **)booking__record_array_adopt(f.seats, m->count,
	                                                                                           sizeof(*f.seats))))
		rc = BOOKING_ENOMEM;
	if (rc < 0 || !m->seats)
		booking_free(f.seats);
	if (rc < 0) {
		booking_seat_map_free(m);
		return rc;
	}
	*out = m;
	return 0;
}
