/*
 * Records as JSON: the shapes of the CLI's --json and of booking-server's
 * responses (doc/cli.md), shared so both answer alike.
 * SPDX-License-Identifier: MIT
 */
#include "json_records.h"

#include <stdio.h>
#include <time.h>

const char *fmt_iso(char *buf, size_t size, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char base[32];
	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03dZ", base, (int)(ms % 1000));
	return buf;
}

json_t *json_time(int64_t ms)
{
	char buf[40];
	return json_string(fmt_iso(buf, sizeof buf, ms));
}

json_t *json_movie(const booking_movie *m)
{
	return json_pack("{s:s,s:s,s:i,s:o}", "id", m->id, "title", m->title, "duration_minutes",
	                 m->duration_minutes, "created_at", json_time(m->created_at));
}

json_t *json_theater(const booking_theater *t)
{
	return json_pack("{s:s,s:s,s:s,s:o}", "id", t->id, "name", t->name, "city", t->city ? t->city : "",
	                 "created_at", json_time(t->created_at));
}

json_t *json_screen(const booking_screen *s)
{
	json_t *seats = json_array();
	for (size_t i = 0; seats && i < s->seat_count; i++)
		json_array_append_new(seats, json_pack("{s:s,s:s,s:s,s:i,s:i}", "label", s->seats[i]->label, "category",
		                                       s->seats[i]->category, "row", s->seats[i]->row, "number",
		                                       s->seats[i]->number, "column", s->seats[i]->column));
	return json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "id", s->id, "theater_id", s->theater_id, "name", s->name,
	                 "seat_count", (json_int_t)s->seat_count, "seats", seats, "created_at",
	                 json_time(s->created_at));
}

json_t *json_showtime(const booking_showtime *s)
{
	json_t *prices = json_object();
	for (size_t i = 0; prices && i < s->price_count; i++)
		json_object_set_new(prices, s->prices[i]->category, json_integer((json_int_t)s->prices[i]->amount));
	return json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:s,s:o}", "id", s->id, "movie_id", s->movie_id, "screen_id",
	                 s->screen_id, "starts_at", json_time(s->starts_at), "currency", s->currency, "prices",
	                 prices, "status", s->status == BOOKING_SHOWTIME_CANCELLED ? "CANCELLED" : "SCHEDULED",
	                 "created_at", json_time(s->created_at));
}

json_t *json_reservation(const booking_reservation *r)
{
	json_t *seats = json_array();
	for (size_t i = 0; seats && i < r->seat_count; i++)
		json_array_append_new(seats, json_pack("{s:s,s:s,s:i,s:i}", "label", r->seats[i]->label, "row",
		                                       r->seats[i]->row, "number", r->seats[i]->number, "position",
		                                       r->seats[i]->position));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:I,s:s,s:o,s:o,s:o,s:I}", "id", r->id, "user_id", r->user_id,
	                 "showtime_id", r->showtime_id, "status", booking_reservation_status_name(r->status), "saga",
	                 booking_saga_state_name(r->saga), "seats", seats, "total_amount", (json_int_t)r->total_amount,
	                 "currency", r->currency, "created_at", json_time(r->created_at), "expires_at",
	                 json_time(r->expires_at), "updated_at", json_time(r->updated_at), "version",
	                 (json_int_t)r->version);
}

json_t *json_payment(const booking_payment *p)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:s,s:s,s:I,s:o,s:o}", "id", p->id, "reservation_id",
	                 p->reservation_id, "user_id", p->user_id, "status", booking_payment_status_name(p->status),
	                 "amount", (json_int_t)p->amount, "currency", p->currency, "card_last4", p->card_last4,
	                 "gateway_ref", p->gateway_ref, "failure_code", p->failure_code, "refunded_amount",
	                 (json_int_t)p->refunded_amount, "created_at", json_time(p->created_at), "updated_at",
	                 json_time(p->updated_at));
}

static const char *seat_status_name(booking_seat_status s)
{
	return s == BOOKING_SEAT_SOLD      ? "sold"
	       : s == BOOKING_SEAT_HELD    ? "held"
	       : s == BOOKING_SEAT_BLOCKED ? "blocked"
	                                   : "free";
}

json_t *json_seat_map(const booking_seat_map *m)
{
	json_t *seats = json_array();
	for (size_t i = 0; seats && i < m->count; i++) {
		const booking_seat_state *s = m->seats[i];
		json_t *seat = json_pack("{s:s,s:s,s:s,s:I,s:s,s:i,s:i}", "label", s->label, "category", s->category, "status",
		                         seat_status_name(s->status), "price", (json_int_t)s->price, "row", s->row, "number",
		                         s->number, "column", s->column);
		if (seat && s->status == BOOKING_SEAT_BLOCKED)
			json_object_set_new(seat, "reason", json_string(s->reason));
		json_array_append_new(seats, seat);
	}
	return json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:o}", "showtime_id", m->showtime_id, "currency", m->currency,
	                 "seat_count", (json_int_t)m->count, "free", (json_int_t)m->free_count, "held",
	                 (json_int_t)m->held_count, "sold", (json_int_t)m->sold_count, "blocked",
	                 (json_int_t)m->blocked_count, "seats", seats);
}

json_t *json_user(const booking_user *u)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o}", "id", u->id, "email", u->email, "role", booking_role_name(u->role),
	                 "created_at", json_time(u->created_at), "updated_at", json_time(u->updated_at));
}

json_t *json_waitlist_entry(const booking_waitlist_entry *e)
{
	bool offered = e->status == BOOKING_WAITLIST_OFFERED;
	return json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:i,s:o,s:o,s:o}", "id", e->id, "showtime_id", e->showtime_id,
	                 "user_id", e->user_id, "party_size", (json_int_t)e->party_size, "category", e->category,
	                 "status", booking_waitlist_status_name(e->status), "position", (json_int_t)e->position, "passes",
	                 e->passes, "joined_at", json_time(e->joined_at), "reservation_id",
	                 offered ? json_string(e->reservation_id) : json_null(), "offer_expires_at",
	                 offered ? json_time(e->offer_expires_at) : json_null());
}

/* ---- the fair-sale limits ------------------------------------------------ */

/* One limit: `raw` as the options hold it (0: the default; below 0: off where the struct spells off as -1). */
static fair_limit limit_of(const char *name, const char *variable, const char *unit, const char *error, int raw,
                           int def)
{
	fair_limit l = {name, variable, unit, error, raw ? raw : def, def, false, raw != 0};
	if (l.value <= 0) {
		l.off = true;
		l.value = 0;
	}
	return l;
}

size_t fair_limits(const booking_options *o, fair_limit out[FAIR_LIMIT_COUNT])
{
	bool v7 = o->version >= 7, v8 = o->version >= 8; /* an older struct ends before these fields */
	size_t n = 0;
	out[n++] = limit_of("max_seats_per_user_showtime", "BOOKING_MAX_SEATS_PER_USER_SHOWTIME", "seats", "LIMIT_REACHED",
	                    v7 ? o->max_seats_per_user_showtime : 0, 10);
	out[n++] = limit_of("max_live_holds_per_user", "BOOKING_MAX_LIVE_HOLDS_PER_USER", "holds", "LIMIT_REACHED",
	                    v8 ? o->max_live_holds_per_user : 0, 0);
	out[n++] = limit_of("hold_cooldown_seconds", "BOOKING_HOLD_COOLDOWN_SECONDS", "s", "LIMIT_REACHED",
	                    v7 ? o->hold_cooldown_seconds : 0, 0);
	out[n++] = limit_of("rate_holds_per_minute", "BOOKING_RATE_HOLDS_PER_MINUTE", "/min", "RATE_LIMITED",
	                    v8 ? o->rate_holds_per_minute : 0, 0);
	out[n++] = limit_of("rate_payments_per_minute", "BOOKING_RATE_PAYMENTS_PER_MINUTE", "/min", "RATE_LIMITED",
	                    v8 ? o->rate_payments_per_minute : 0, 0);
	out[n++] = limit_of("rate_logins_per_minute", "BOOKING_RATE_LOGINS_PER_MINUTE", "/min", "RATE_LIMITED",
	                    v8 ? o->rate_logins_per_minute : 0, 0);
	out[n++] = limit_of("rate_burst", "BOOKING_RATE_BURST", "requests", NULL, v8 ? o->rate_burst : 0, 5);
	/* -1 (the variable's 0): no party is ever passed over, strict join order; a limit of 0 passes, not off */
	out[n] = limit_of("waitlist_max_passes", "BOOKING_WAITLIST_MAX_PASSES", "passes", NULL,
	                  v8 ? o->waitlist_max_passes : 0, 3);
	out[n++].off = false;
	out[n++] = limit_of("waitlist_max_entries", "BOOKING_WAITLIST_MAX_ENTRIES", "parties", "LIMIT_REACHED",
	                    v8 ? o->waitlist_max_entries : 0, 1000);
	return n;
}

json_t *json_limits(const booking_options *o)
{
	fair_limit l[FAIR_LIMIT_COUNT];
	size_t n = fair_limits(o, l);
	json_t *limits = json_object();
	for (size_t i = 0; limits && i < n; i++)
		json_object_set_new(limits, l[i].name,
		                    json_pack("{s:i,s:b,s:i,s:s,s:s,s:b,s:s?,s:o}", "value", l[i].value, "off", l[i].off,
		                              "default", l[i].def, "unit", l[i].unit, "variable", l[i].variable, "set",
		                              l[i].set, "error", l[i].error, "status",
		                              l[i].error ? json_integer(booking_error_http_status(
		                                               booking_error_from_name(l[i].error)))
		                                         : json_null()));
	return limits ? json_pack("{s:o}", "limits", limits) : NULL;
}
