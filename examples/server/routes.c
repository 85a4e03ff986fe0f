/*
 * booking-server — the handlers: one per route of srv_routes[], each a call
 * of the public API and its record as JSON (examples/common/json_records.c).
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include "json_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- responses ------------------------------------------------------------ */

int srv_error(srv_resp *out, int status, const char *code, const char *message, json_t *details)
{
	out->status = status;
	json_decref(out->json);
	out->json = json_pack("{s:{s:s,s:s,s:o}}", "error", "code", code, "message", message, "details",
	                      details ? details : json_object());
	return 0;
}

int srv_fail(srv_resp *out)
{
	const booking_error *e = booking_error_last();
	int code = e->code ? e->code : BOOKING_EINTERNAL;
	char *text = NULL;
	out->status = booking_error_http_status(code);
	/* a rate limit says when to come back: Retry-After, in whole seconds (a per-buyer limit's 409 does not) */
	const char *retry = out->status == 429 ? booking_error_detail(e, "retry_after_seconds") : NULL;
	long seconds = 0;
	out->retry_after[0] = '\0';
	if (retry && srv_parse_long(retry, 0, 86400L * 366, &seconds))
		snprintf(out->retry_after, sizeof out->retry_after, "%ld", seconds);
	json_decref(out->json);
	out->json = booking_error_to_json(&text, NULL) == 0 && text ? json_loads(text, 0, NULL) : NULL;
	booking_free(text);
	if (!out->json)
		srv_error(out, out->status, booking_error_name(code), "the request failed", NULL);
	return 0;
}

static int ok(srv_resp *out, int status, json_t *json)
{
	out->status = status;
	out->json = json;
	if (!json)
		srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	return 0;
}

static const char *str(const srv_req *r, const char *name)
{
	return json_string_value(json_object_get(r->body, name));
}

/* A string array of the body as a NULL-terminated vector (malloc'd; the strings are the body's). */
static const char **strings(const srv_req *r, const char *name, size_t *count)
{
	json_t *a = json_object_get(r->body, name);
	size_t n = json_array_size(a);
	const char **v = calloc(n + 1, sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = json_string_value(json_array_get(a, i));
	*count = n;
	return v;
}


/* ---- auth ----------------------------------------------------------------- */

static int h_register(srv_req *r, srv_resp *out)
{
	booking_user *u = NULL;
	if (booking_auth_register(&u, r->s->bk, &r->ctx, str(r, "email"), str(r, "password"), BOOKING_ROLE_CUSTOMER))
		return srv_fail(out);
	ok(out, 201, json_pack("{s:o}", "user", json_user(u)));
	booking_user_free(u);
	return 0;
}

static int h_login(srv_req *r, srv_resp *out)
{
	char *token = NULL;
	booking_user *u = NULL;
	booking_token *t = NULL;
	if (booking_auth_login(&token, &u, r->s->bk, &r->ctx, str(r, "email"), str(r, "password")))
		return srv_fail(out);
	long long expires_in = 0;
	if (booking_auth_verify(&t, r->s->bk, token) == 0)
		expires_in = (long long)((t->expires_at - booking_now(r->s->bk) + 999) / 1000);
	ok(out, 200,
	   json_pack("{s:s,s:s,s:I,s:o}", "access_token", token, "token_type", "Bearer", "expires_in",
	             (json_int_t)expires_in, "user", json_user(u)));
	booking_token_free(t);
	booking_free(token);
	booking_user_free(u);
	return 0;
}

static int h_logout(srv_req *r, srv_resp *out)
{
	if (booking_auth_revoke(r->s->bk, &r->ctx, r->token))
		return srv_fail(out);
	out->status = 204;
	return 0;
}

static int h_me(srv_req *r, srv_resp *out)
{
	booking_user *u = NULL;
	if (booking_user_get(&u, r->s->bk, &r->ctx, NULL))
		return srv_fail(out);
	ok(out, 200, json_pack("{s:o}", "user", json_user(u)));
	booking_user_free(u);
	return 0;
}

static int h_jwks(srv_req *r, srv_resp *out)
{
	ok(out, 200, r->s->jwks ? json_loads(r->s->jwks, 0, NULL) : json_pack("{s:[]}", "keys"));
	return 0;
}

/* ---- catalog -------------------------------------------------------------- */

static int h_movies_list(srv_req *r, srv_resp *out)
{
	booking_movie_list *l = NULL;
	if (booking_movie_list_all(&l, r->s->bk, &r->ctx))
		return srv_fail(out);
	json_t *items = json_array();
	for (size_t i = 0; items && i < l->count; i++)
		json_array_append_new(items, json_movie(l->items[i]));
	ok(out, 200, json_pack("{s:o}", "items", items));
	booking_movie_list_free(l);
	return 0;
}

static int h_movies_create(srv_req *r, srv_resp *out)
{
	booking_movie *m = NULL;
	json_int_t minutes = json_integer_value(json_object_get(r->body, "duration_minutes"));
	if (minutes < -1 || minutes > 100000)
		return srv_error(out, 422, "VALIDATION_ERROR", "duration_minutes out of range",
		                 json_pack("{s:s}", "field", "duration_minutes"));
	if (booking_movie_create(&m, r->s->bk, &r->ctx, str(r, "title"), (int)minutes))
		return srv_fail(out);
	ok(out, 201, json_movie(m));
	booking_movie_free(m);
	return 0;
}

static int h_theaters_list(srv_req *r, srv_resp *out)
{
	booking_theater_list *l = NULL;
	if (booking_theater_list_all(&l, r->s->bk, &r->ctx))
		return srv_fail(out);
	json_t *items = json_array();
	for (size_t i = 0; items && i < l->count; i++)
		json_array_append_new(items, json_theater(l->items[i]));
	ok(out, 200, json_pack("{s:o}", "items", items));
	booking_theater_list_free(l);
	return 0;
}

static int h_theaters_create(srv_req *r, srv_resp *out)
{
	booking_theater *t = NULL;
	if (booking_theater_create(&t, r->s->bk, &r->ctx, str(r, "name"), str(r, "city")))
		return srv_fail(out);
	ok(out, 201, json_theater(t));
	booking_theater_free(t);
	return 0;
}

static int h_screens_create(srv_req *r, srv_resp *out)
{
	booking_seat *seats = NULL;
	size_t count = 0;
	booking_screen *sc = NULL;
	if (booking_layout_parse(&seats, &count, str(r, "layout"), sizeof *seats))
		return srv_fail(out);
	int rc = booking_screen_create(&sc, r->s->bk, &r->ctx, r->id, str(r, "name"), seats, count, sizeof *seats);
	booking_free(seats);
	if (rc)
		return srv_fail(out);
	ok(out, 201, json_screen(sc));
	booking_screen_free(sc);
	return 0;
}

static int h_screen_get(srv_req *r, srv_resp *out)
{
	booking_screen *sc = NULL;
	if (booking_screen_get(&sc, r->s->bk, &r->ctx, r->id))
		return srv_fail(out);
	ok(out, 200, json_screen(sc));
	booking_screen_free(sc);
	return 0;
}

static int h_showtimes_list(srv_req *r, srv_resp *out)
{
	booking_showtime_list *l = NULL;
	const char *movie = srv_query(r, "movie_id");
	if (booking_showtime_list_all(&l, r->s->bk, &r->ctx, movie && movie[0] ? movie : NULL))
		return srv_fail(out);
	json_t *items = json_array();
	for (size_t i = 0; items && i < l->count; i++)
		json_array_append_new(items, json_showtime(l->items[i]));
	ok(out, 200, json_pack("{s:o}", "items", items));
	booking_showtime_list_free(l);
	return 0;
}

static int h_showtimes_create(srv_req *r, srv_resp *out)
{
	json_t *when = json_object_get(r->body, "starts_at");
	long long starts = 0;
	if (json_is_integer(when))
		starts = (long long)json_integer_value(when);
	else if (!srv_parse_iso(json_string_value(when), &starts))
		return srv_error(out, 422, "VALIDATION_ERROR", "starts_at is not an ISO 8601 UTC time or epoch ms",
		                 json_pack("{s:s}", "field", "starts_at"));
	json_t *prices = json_object_get(r->body, "prices");
	size_t n = json_object_size(prices), i = 0;
	booking_price *p = calloc(n ? n : 1, sizeof *p);
	if (!p)
		return srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	const char *cat;
	json_t *amount;
	json_object_foreach (prices, cat, amount) {
		if (strlen(cat) >= sizeof p[i].category) {
			free(p);
			return srv_error(out, 422, "VALIDATION_ERROR", "a price category is too long",
			                 json_pack("{s:s}", "field", "prices"));
		}
		snprintf(p[i].category, sizeof p[i].category, "%s", cat);
		p[i].amount = (int64_t)json_integer_value(amount);
		i++;
	}
	booking_showtime *st = NULL;
	int rc = booking_showtime_create(&st, r->s->bk, &r->ctx, str(r, "movie_id"), str(r, "screen_id"),
	                                 (int64_t)starts, str(r, "currency"), p, n, sizeof *p);
	free(p);
	if (rc)
		return srv_fail(out);
	ok(out, 201, json_showtime(st));
	booking_showtime_free(st);
	return 0;
}

static int h_showtime_get(srv_req *r, srv_resp *out)
{
	booking_showtime *st = NULL;
	if (booking_showtime_get(&st, r->s->bk, &r->ctx, r->id))
		return srv_fail(out);
	ok(out, 200, json_showtime(st));
	booking_showtime_free(st);
	return 0;
}

static int h_seats(srv_req *r, srv_resp *out)
{
	booking_seat_map *m = NULL;
	if (booking_seat_map_get(&m, r->s->bk, &r->ctx, r->id))
		return srv_fail(out);
	json_t *j = json_seat_map(m);
	booking_seat_map_free(m);
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text)
		return srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	srv_etag(out->etag, text, strlen(text));
	const char *inm = srv_header(r, "If-None-Match");
	if (inm && (strcmp(inm, out->etag) == 0 || strcmp(inm, "*") == 0 ||
	            (strncmp(inm, "W/", 2) == 0 && strcmp(inm + 2, out->etag) == 0))) {
		free(text);
		out->status = 304;
		return 0;
	}
	out->status = 200;
	out->text = text;
	out->content_type = "application/json";
	return 0;
}

/* ---- bookings ------------------------------------------------------------- */

/* A list page: {items, next_cursor}. */
static json_t *page(const booking_reservation_list *l)
{
	json_t *items = json_array();
	for (size_t i = 0; items && i < l->count; i++)
		json_array_append_new(items, json_reservation(l->items[i]));
	return json_pack("{s:o,s:o}", "items", items, "next_cursor",
	                 l->next_cursor ? json_string(l->next_cursor) : json_null());
}

/* ?limit= as a number (0 when absent); false (with the 422 filled) when it is not one. */
static bool limit_arg(const srv_req *r, srv_resp *out, size_t *limit)
{
	const char *s = srv_query(r, "limit");
	long v = 0;
	*limit = 0;
	if (s && !srv_parse_long(s, 1, BOOKING_PAGE_MAX, &v)) {
		srv_error(out, 422, "VALIDATION_ERROR", "limit must be 1..500", json_pack("{s:s}", "field", "limit"));
		return false;
	}
	*limit = (size_t)v;
	return true;
}

static int reservation_reply(srv_resp *out, int rc, booking_reservation *res, int status)
{
	if (rc)
		return srv_fail(out);
	ok(out, status, json_reservation(res));
	booking_reservation_free(res);
	return 0;
}

static int h_bookings_create(srv_req *r, srv_resp *out)
{
	booking_hold_request q = BOOKING_HOLD_REQUEST_INIT;
	size_t count = 0;
	const char **seats = NULL;
	json_t *best = json_object_get(r->body, "best");
	bool has_seats = json_object_get(r->body, "seat_ids") != NULL;
	if (has_seats == (best != NULL))
		return srv_error(out, 422, "VALIDATION_ERROR", "give either seat_ids or best",
		                 json_pack("{s:s}", "field", has_seats ? "best" : "seat_ids"));
	if (best && (json_integer_value(best) < 1 || json_integer_value(best) > 1000))
		return srv_error(out, 422, "VALIDATION_ERROR", "best must be a positive count",
		                 json_pack("{s:s}", "field", "best"));
	if (has_seats && !(seats = strings(r, "seat_ids", &count)))
		return srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	json_int_t max_price = json_integer_value(json_object_get(r->body, "max_price"));
	if (max_price < 0) {
		free((void *)seats);
		return srv_error(out, 422, "VALIDATION_ERROR", "max_price must not be negative",
		                 json_pack("{s:s}", "field", "max_price"));
	}
	q.showtime_id = str(r, "showtime_id");
	q.seats = seats;
	q.seat_count = count;
	q.best = best ? (size_t)json_integer_value(best) : 0;
	q.category = str(r, "category");
	q.max_price = (int64_t)max_price;
	q.idempotency_key = srv_header(r, "Idempotency-Key");
	q.for_user_id = str(r, "for_user_id"); /* admin: a sale to that user, blocked seats included */
	booking_reservation *res = NULL;
	int rc = booking_hold_with(&res, r->s->bk, &r->ctx, &q, sizeof q);
	free((void *)seats);
	/* a replay of the key answers the reservation made before this request: 200 */
	reservation_reply(out, rc, res, rc == 0 && res->created_at < r->started_ms ? 200 : 201);
	return 0;
}

static int h_bookings_list(srv_req *r, srv_resp *out)
{
	size_t limit;
	booking_reservation_list *l = NULL;
	if (!limit_arg(r, out, &limit))
		return 0;
	if (booking_reservation_list_for_user(&l, r->s->bk, &r->ctx, r->ctx.user_id, limit, srv_query(r, "cursor")))
		return srv_fail(out);
	ok(out, 200, page(l));
	booking_reservation_list_free(l);
	return 0;
}

static int h_booking_get(srv_req *r, srv_resp *out)
{
	booking_reservation *res = NULL;
	int rc = booking_reservation_get(&res, r->s->bk, &r->ctx, r->id);
	return reservation_reply(out, rc, res, 200);
	return 0;
}

static int h_booking_cancel(srv_req *r, srv_resp *out)
{
	booking_reservation *res = NULL;
	int rc = booking_reservation_cancel(&res, r->s->bk, &r->ctx, r->id);
	return reservation_reply(out, rc, res, 200);
	return 0;
}

static int h_booking_extend(srv_req *r, srv_resp *out)
{
	booking_reservation *res = NULL;
	json_t *m = json_object_get(r->body, "minutes");
	json_int_t minutes = m ? json_integer_value(m) : 0;
	if (m && (minutes < 1 || minutes > 100000))
		return srv_error(out, 422, "VALIDATION_ERROR", "minutes must be positive",
		                 json_pack("{s:s}", "field", "minutes"));
	int rc = booking_reservation_extend(&res, r->s->bk, &r->ctx, r->id, (int)minutes);
	return reservation_reply(out, rc, res, 200);
	return 0;
}

static int h_booking_change(srv_req *r, srv_resp *out)
{
	size_t na = 0, nr = 0;
	const char **add = strings(r, "add", &na), **remove = strings(r, "remove", &nr);
	booking_reservation *res = NULL;
	int rc = add && remove ? booking_reservation_change(&res, r->s->bk, &r->ctx, r->id, add, na, remove, nr)
	                       : BOOKING_ENOMEM;
	free((void *)add);
	free((void *)remove);
	if (rc == BOOKING_ENOMEM && !res && !(add && remove))
		return srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	reservation_reply(out, rc, res, 200);
	return 0;
}

static int h_door_list(srv_req *r, srv_resp *out)
{
	size_t limit;
	int status = 0;
	const char *s = srv_query(r, "status");
	if (!limit_arg(r, out, &limit))
		return 0;
	if (s && s[0]) {
		for (int i = BOOKING_RESERVATION_PENDING; i <= BOOKING_RESERVATION_EXPIRED; i++)
			if (strcmp(s, booking_reservation_status_name((booking_reservation_status)i)) == 0)
				status = i;
		if (!status)
			return srv_error(out, 422, "VALIDATION_ERROR",
			                 "status must be PENDING, PAYMENT_PROCESSING, CONFIRMED, CANCELLED or EXPIRED",
			                 json_pack("{s:s}", "field", "status"));
	}
	booking_reservation_list *l = NULL;
	if (booking_reservation_list_for_showtime(&l, r->s->bk, &r->ctx, r->id, status, limit, srv_query(r, "cursor")))
		return srv_fail(out);
	ok(out, 200, page(l));
	booking_reservation_list_free(l);
	return 0;
}

static int h_block(srv_req *r, srv_resp *out, bool block)
{
	size_t n = 0;
	const char **seats = strings(r, "seats", &n);
	if (!seats)
		return srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	int rc = block ? booking_seats_block(r->s->bk, &r->ctx, r->id, seats, n, str(r, "reason"))
	               : booking_seats_unblock(r->s->bk, &r->ctx, r->id, seats, n);
	free((void *)seats);
	if (rc)
		return srv_fail(out);
	out->status = 204;
	return 0;
}

/* ---- the waiting list ------------------------------------------------------- */

static int h_waitlist_join(srv_req *r, srv_resp *out)
{
	json_int_t party = json_integer_value(json_object_get(r->body, "party_size"));
	if (party < 1 || party > 1000)
		return srv_error(out, 422, "VALIDATION_ERROR", "party_size must be a positive count of seats",
		                 json_pack("{s:s}", "field", "party_size"));
	booking_waitlist_entry *e = NULL;
	if (booking_waitlist_join(&e, r->s->bk, &r->ctx, r->id, (size_t)party, str(r, "category")))
		return srv_fail(out);
	ok(out, 201, json_waitlist_entry(e));
	booking_waitlist_entry_free(e);
	return 0;
}

static int h_waitlist_list(srv_req *r, srv_resp *out)
{
	booking_waitlist *l = NULL;
	if (booking_waitlist_list(&l, r->s->bk, &r->ctx, r->id))
		return srv_fail(out);
	json_t *items = json_array();
	for (size_t i = 0; items && i < l->count; i++)
		json_array_append_new(items, json_waitlist_entry(l->items[i]));
	ok(out, 200, json_pack("{s:o}", "items", items));
	booking_waitlist_free(l);
	return 0;
}

static int h_waitlist_leave(srv_req *r, srv_resp *out)
{
	const char *user = srv_query(r, "user_id"); /* admin: another user's entry */
	if (booking_waitlist_leave(r->s->bk, &r->ctx, r->id, user && user[0] ? user : NULL))
		return srv_fail(out);
	out->status = 204;
	return 0;
}

static int h_waitlist_process(srv_req *r, srv_resp *out)
{
	size_t offers = 0;
	if (booking_waitlist_process(&offers, r->s->bk, &r->ctx, r->id))
		return srv_fail(out);
	return ok(out, 200, json_pack("{s:I}", "offers", (json_int_t)offers));
}

static int h_limits(srv_req *r, srv_resp *out)
{
	json_t *j = r->s->limits ? json_loads(r->s->limits, 0, NULL) : NULL;
	return ok(out, 200, j);
}

/* ---- payments ------------------------------------------------------------- */

static int payment_reply(srv_resp *out, int rc, booking_payment *p, int status)
{
	if (rc)
		return srv_fail(out);
	ok(out, status, json_payment(p));
	booking_payment_free(p);
	return 0;
}

static int h_pay(srv_req *r, srv_resp *out)
{
	const char *hk = srv_header(r, "Idempotency-Key"), *bk = str(r, "idempotency_key");
	if (hk && bk && strcmp(hk, bk) != 0)
		return srv_error(out, 422, "VALIDATION_ERROR", "the Idempotency-Key header and idempotency_key differ",
		                 json_pack("{s:s}", "field", "idempotency_key"));
	if (!hk && !bk)
		return srv_error(out, 422, "VALIDATION_ERROR",
		                 "an idempotency key is required (Idempotency-Key header or idempotency_key)",
		                 json_pack("{s:s}", "field", "idempotency_key"));
	booking_payment *p = NULL;
	int rc = booking_pay(&p, r->s->bk, &r->ctx, str(r, "booking_id"), hk ? hk : bk, str(r, "card_number"));
	payment_reply(out, rc, p, rc == 0 && p->created_at < r->started_ms ? 200 : 201);
	return 0;
}

static int h_payment_get(srv_req *r, srv_resp *out)
{
	booking_payment *p = NULL;
	int rc = booking_payment_get(&p, r->s->bk, &r->ctx, r->id);
	return payment_reply(out, rc, p, 200);
	return 0;
}

static int h_refund(srv_req *r, srv_resp *out)
{
	booking_payment *p = NULL;
	int rc = booking_payment_refund(&p, r->s->bk, &r->ctx, r->id);
	return payment_reply(out, rc, p, 200);
	return 0;
}

/* ---- operations ----------------------------------------------------------- */

static int h_ready(srv_req *r, srv_resp *out)
{
	char *text = NULL;
	if (booking_health(&text, r->s->bk))
		return srv_fail(out);
	json_t *j = json_loads(text, 0, NULL);
	booking_free(text);
	const char *status = json_string_value(json_object_get(j, "status"));
	ok(out, status && strcmp(status, "unavailable") == 0 ? 503 : 200, j);
	return 0;
}

static int h_metrics(srv_req *r, srv_resp *out)
{
	out->text = srv_metrics_text(r->s);
	if (!out->text)
		return srv_error(out, 503, "OUT_OF_MEMORY", "out of memory", NULL);
	out->status = 200;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}

static int h_openapi(srv_req *r, srv_resp *out)
{
	json_error_t err;
	json_t *doc = r->s->cfg.openapi ? json_load_file(r->s->cfg.openapi, 0, &err) : NULL;
	if (!doc)
		return srv_error(out, 404, "NOT_FOUND", "the OpenAPI document is not installed", NULL);
	ok(out, 200, doc);
	return 0;
}

int srv_handle(srv_req *r, srv_resp *out)
{
	switch (r->route) {
	case R_REGISTER: return h_register(r, out);
	case R_LOGIN: return h_login(r, out);
	case R_LOGOUT: return h_logout(r, out);
	case R_ME: return h_me(r, out);
	case R_JWKS: return h_jwks(r, out);
	case R_MOVIES_LIST: return h_movies_list(r, out);
	case R_MOVIES_CREATE: return h_movies_create(r, out);
	case R_THEATERS_LIST: return h_theaters_list(r, out);
	case R_THEATERS_CREATE: return h_theaters_create(r, out);
	case R_SCREENS_CREATE: return h_screens_create(r, out);
	case R_SCREEN_GET: return h_screen_get(r, out);
	case R_SHOWTIMES_LIST: return h_showtimes_list(r, out);
	case R_SHOWTIMES_CREATE: return h_showtimes_create(r, out);
	case R_SHOWTIME_GET: return h_showtime_get(r, out);
	case R_SEATS: return h_seats(r, out);
	case R_BOOKINGS_CREATE: return h_bookings_create(r, out);
	case R_BOOKINGS_LIST: return h_bookings_list(r, out);
	case R_BOOKING_GET: return h_booking_get(r, out);
	case R_BOOKING_CANCEL: return h_booking_cancel(r, out);
	case R_BOOKING_EXTEND: return h_booking_extend(r, out);
	case R_BOOKING_CHANGE: return h_booking_change(r, out);
	case R_DOOR_LIST: return h_door_list(r, out);
	case R_BLOCK: return h_block(r, out, true);
	case R_UNBLOCK: return h_block(r, out, false);
	case R_WAITLIST_JOIN: return h_waitlist_join(r, out);
	case R_WAITLIST_LIST: return h_waitlist_list(r, out);
	case R_WAITLIST_LEAVE: return h_waitlist_leave(r, out);
	case R_WAITLIST_PROCESS: return h_waitlist_process(r, out);
	case R_LIMITS: return h_limits(r, out);
	case R_PAY: return h_pay(r, out);
	case R_PAYMENT_GET: return h_payment_get(r, out);
	case R_REFUND: return h_refund(r, out);
	case R_HEALTH: return ok(out, 200, json_pack("{s:s}", "status", "ok"));
	case R_READY: return h_ready(r, out);
	case R_METRICS: return h_metrics(r, out);
	case R_OPENAPI: return h_openapi(r, out);
	case R_EVENTS: /* answered by http.c with an SSE response */
	case R_COUNT: break;
	}
	srv_error(out, 404, "NOT_FOUND", "no such route", NULL);
	return 0;
}
