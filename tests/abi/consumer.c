/*
 * The old consumer of the record ABI check (tests/abi/abi-check.sh): a
 * program built once against an installed libbooking and then run against
 * a libbooking whose records grew (a field appended to every record that
 * appears in an array). It walks every array of records the API hands out
 * or takes in and checks each value it reads; any misread exits non-zero.
 * Built with nothing but pkg-config, like a host.
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <stdio.h>
#include <string.h>

static int failures;

#define EXPECT(cond, ...)                                                                                     \
	do {                                                                                                  \
		if (!(cond)) {                                                                                \
			fprintf(stderr, "abi consumer: line %d: %s: ", __LINE__, #cond);                      \
			fprintf(stderr, __VA_ARGS__);                                                         \
			fputc('\n', stderr);                                                                  \
			failures++;                                                                           \
		}                                                                                             \
	} while (0)

#define CALL(call)                                                                                            \
	do {                                                                                                  \
		int rc_ = (call);                                                                             \
		if (rc_ != 0) {                                                                               \
			fprintf(stderr, "abi consumer: line %d: %s: %s: %s\n", __LINE__, #call,               \
			        booking_error_name(rc_), booking_error_last()->message);                      \
			return 1;                                                                             \
		}                                                                                             \
	} while (0)

static int failing_handler(const booking_event *event, void *payload)
{
	(void)event;
	(void)payload;
	return BOOKING_EEXTERNAL; /* every event is dead-lettered at its first delivery */
}

static int run(booking_handle *bk)
{
	booking_ctx admin, alice;
	booking_ctx_init(&admin, "admin-1", BOOKING_ROLE_ADMIN);
	booking_ctx_init(&alice, "alice", BOOKING_ROLE_CUSTOMER);
	char label[BOOKING_LABEL_SIZE];

	/* inputs: arrays of structs with their size; a layout the library builds in the caller's size */
	const booking_seat vip[3] = {{.label = "V1", .category = "vip"}, {.label = "V2", .category = "vip"}, {.label = "V3", .category = "vip"}};
	const booking_price prices[2] = {{"standard", 1000}, {"vip", 2500}};
	booking_seat *layout = NULL;
	size_t nlayout = 0;
	CALL(booking_layout_parse(&layout, &nlayout, "A-C:4", sizeof *layout));
	EXPECT(nlayout == 12, "%zu seats", nlayout);
	EXPECT(strcmp(layout[11].label, "C4") == 0 && strcmp(layout[11].category, "standard") == 0, "%s %s",
	       layout[11].label, layout[11].category);
	booking_seat seats[15];
	memcpy(seats, layout, sizeof(booking_seat) * 12);
	memcpy(seats + 12, vip, sizeof vip);
	booking_free(layout);

	booking_theater *t1 = NULL, *t2 = NULL;
	booking_movie *m1 = NULL, *m2 = NULL;
	booking_screen *scr = NULL;
	booking_showtime *s1 = NULL, *s2 = NULL;
	CALL(booking_theater_create(&t1, bk, &admin, "Odeon", "Lyon"));
	CALL(booking_theater_create(&t2, bk, &admin, "Rex", "Paris"));
	CALL(booking_movie_create(&m1, bk, &admin, "Metropolis", 153));
	CALL(booking_movie_create(&m2, bk, &admin, "Nosferatu", 94));
	CALL(booking_screen_create(&scr, bk, &admin, t1->id, "Salle 1", seats, 15, sizeof *seats));
	EXPECT(scr->seat_count == 15, "%zu", scr->seat_count);
	for (size_t i = 0; i < scr->seat_count; i++)
		EXPECT(strcmp(scr->seats[i]->label, seats[i].label) == 0 &&
		           strcmp(scr->seats[i]->category, seats[i].category) == 0,
		       "screen seat %zu: %s %s", i, scr->seats[i]->label, scr->seats[i]->category);
	EXPECT(scr->created_at > 0, "created_at after the seats");
	int64_t at = booking_now(bk) + (int64_t)3600 * 1000;
	CALL(booking_showtime_create(&s1, bk, &admin, m1->id, scr->id, at, "EUR", prices, 2, sizeof *prices));
	CALL(booking_showtime_create(&s2, bk, &admin, m2->id, scr->id, at + 1000, "EUR", prices, 2, sizeof *prices));
	EXPECT(s1->price_count == 2 && s1->prices[1]->amount == 2500 && strcmp(s1->prices[1]->category, "vip") == 0,
	       "%zu prices", s1->price_count);
	EXPECT(s1->status == BOOKING_SHOWTIME_SCHEDULED, "status %d after the prices", (int)s1->status);

	/* lists */
	booking_movie_list *ml = NULL;
	booking_theater_list *tl = NULL;
	booking_showtime_list *sl = NULL;
	CALL(booking_movie_list_all(&ml, bk, &alice));
	EXPECT(ml->count == 2, "%zu movies", ml->count);
	for (size_t i = 0; i < ml->count; i++) { /* made in the same millisecond: in either order */
		const booking_movie *m = ml->items[i], *want = strcmp(m->id, m1->id) == 0 ? m1 : m2;
		EXPECT(strcmp(m->id, want->id) == 0 && strcmp(m->title, want->title) == 0 &&
		           m->duration_minutes == want->duration_minutes && m->created_at == want->created_at,
		       "movie %zu: %s", i, m->title);
	}
	CALL(booking_theater_list_all(&tl, bk, &alice));
	EXPECT(tl->count == 2, "%zu theaters", tl->count);
	for (size_t i = 0; i < tl->count; i++) {
		const booking_theater *t = tl->items[i], *want = strcmp(t->id, t1->id) == 0 ? t1 : t2;
		EXPECT(strcmp(t->id, want->id) == 0 && strcmp(t->name, want->name) == 0 && strcmp(t->city, want->city) == 0 &&
		           t->created_at == want->created_at,
		       "theater %zu: %s", i, t->name);
	}
	CALL(booking_showtime_list_all(&sl, bk, &alice, NULL));
	EXPECT(sl->count == 2, "%zu showtimes", sl->count);
	EXPECT(sl->count == 2 && strcmp(sl->items[1]->id, s2->id) == 0 && sl->items[1]->starts_at == at + 1000 &&
	           sl->items[1]->price_count == 2 && sl->items[1]->prices[0]->amount == 1000,
	       "showtime 1");
	booking_movie_list_free(ml);
	booking_theater_list_free(tl);
	booking_showtime_list_free(sl);

	/* holds, a reservation's seats, a page of reservations */
	booking_reservation *r1 = NULL, *r2 = NULL;
	const char *want1[] = {"B2", "V3"}, *want2[] = {"A1", "A2", "C4"};
	CALL(booking_hold(&r1, bk, &alice, s1->id, want1, 2));
	CALL(booking_hold(&r2, bk, &alice, s1->id, want2, 3));
	EXPECT(r1->seat_count == 2 && r1->total_amount == 3500, "%zu seats, %lld", r1->seat_count,
	       (long long)r1->total_amount);
	EXPECT(r2->seat_count == 3 && strcmp(r2->seats[2]->label, "C4") == 0, "hold 2's last seat");
	booking_reservation_list *rl = NULL;
	CALL(booking_reservation_list_for_user(&rl, bk, &alice, NULL, 0, NULL));
	EXPECT(rl->count == 2, "%zu reservations", rl->count);
	for (size_t i = 0; i < rl->count; i++) {
		const booking_reservation *r = rl->items[i], *want = strcmp(r->id, r1->id) == 0 ? r1 : r2;
		EXPECT(strcmp(r->id, want->id) == 0 && r->seat_count == want->seat_count &&
		           r->total_amount == want->total_amount && r->version == 1 && strcmp(r->currency, "EUR") == 0,
		       "reservation %zu", i);
		for (size_t k = 0; k < r->seat_count && k < want->seat_count; k++)
			EXPECT(strcmp(r->seats[k]->label, want->seats[k]->label) == 0, "reservation %zu seat %zu", i, k);
	}
	booking_reservation_list_free(rl);

	/* the seat map */
	booking_seat_map *map = NULL;
	CALL(booking_seat_map_get(&map, bk, &alice, s1->id));
	EXPECT(map->count == 15 && map->held_count == 5 && map->free_count == 10, "%zu seats, %zu held", map->count,
	       map->held_count);
	for (size_t i = 0; i < map->count; i++) {
		const booking_seat_state *st = map->seats[i];
		bool held = false;
		for (size_t k = 0; k < r1->seat_count; k++)
			held = held || strcmp(r1->seats[k]->label, st->label) == 0;
		for (size_t k = 0; k < r2->seat_count; k++)
			held = held || strcmp(r2->seats[k]->label, st->label) == 0;
		snprintf(label, sizeof label, "%s", seats[i].label);
		EXPECT(strcmp(st->label, label) == 0, "map seat %zu: %s", i, st->label);
		EXPECT(st->status == (held ? BOOKING_SEAT_HELD : BOOKING_SEAT_FREE), "map seat %s: %d", st->label,
		       (int)st->status);
		EXPECT(st->price == (strcmp(st->category, "vip") == 0 ? 2500 : 1000), "map seat %s: %lld", st->label,
		       (long long)st->price);
	}
	booking_seat_map_free(map);

	/* the checker's report */
	booking_check_report *report = NULL;
	CALL(booking_check(&report, bk));
	EXPECT(report->count == 0 && report->reservations == 2 && report->seats == 30, "%zu violations, %zu reservations",
	       report->count, report->reservations);
	for (size_t i = 0; i < report->count; i++)
		fprintf(stderr, "violation %d: %s\n", (int)report->items[i]->invariant, report->items[i]->message);
	booking_check_report_free(report);

	/* the waiting list: seats are free, so the party is offered two at once; the list is an array of entries */
	booking_ctx carol;
	booking_ctx_init(&carol, "carol", BOOKING_ROLE_CUSTOMER);
	booking_waitlist_entry *we = NULL;
	CALL(booking_waitlist_join(&we, bk, &carol, s2->id, 2, NULL));
	EXPECT(we->party_size == 2 && we->status == BOOKING_WAITLIST_OFFERED && we->reservation_id[0], "waitlist entry");
	booking_waitlist *wl = NULL;
	CALL(booking_waitlist_list(&wl, bk, &admin, s2->id));
	EXPECT(wl->count == 1 && strcmp(wl->items[0]->user_id, "carol") == 0 && wl->items[0]->position == 1 &&
	           strcmp(wl->items[0]->id, we->id) == 0,
	       "%zu waiting", wl->count);
	booking_waitlist_free(wl);
	booking_waitlist_entry_free(we);

	/* dead letters: a consumer whose handler always fails parks each event at its first delivery */
	booking_consumer_options copts = BOOKING_CONSUMER_OPTIONS_INIT;
	copts.group = "abi";
	copts.max_deliveries = 1;
	size_t handled = 0;
	CALL(booking_consume(&handled, bk, &copts, failing_handler, NULL));
	booking_dead_letter_list *dl = NULL;
	CALL(booking_dead_letters(&dl, bk, "abi"));
	EXPECT(dl->count >= 2, "%zu dead letters", dl->count);
	for (size_t i = 0; i < dl->count; i++) {
		const booking_dead_letter *d = dl->items[i];
		EXPECT(strcmp(d->group, "abi") == 0 && d->reason[0] != '\0' && strstr(d->envelope_json, d->event_id) &&
		           d->dead_at > 0,
		       "dead letter %zu", i);
	}
	booking_dead_letter_list_free(dl);

	booking_reservation_free(r1);
	booking_reservation_free(r2);
	booking_showtime_free(s1);
	booking_showtime_free(s2);
	booking_screen_free(scr);
	booking_movie_free(m1);
	booking_movie_free(m2);
	booking_theater_free(t1);
	booking_theater_free(t2);
	return failures ? 1 : 0;
}

int main(void)
{
	booking_options opts = BOOKING_OPTIONS_INIT;
	opts.store_url = "memory:";
	opts.lock_url = "memory:";
	opts.events_url = "store:";
	booking_handle *bk = NULL;
	if (booking_open(&bk, &opts) != 0) {
		fprintf(stderr, "abi consumer: open: %s\n", booking_error_last()->message);
		return 1;
	}
	int rc = run(bk);
	booking_close(bk);
	if (rc == 0)
		printf("abi consumer: every record read as written\n");
	return rc;
}
