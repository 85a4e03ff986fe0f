/*
 * booking — commands that sell: hold, show, pay, cancel, refund, reservations,
 * the waiting list; and the system's housekeeping: expire, relay, notify, recover, check.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_SEATS 64

/* Split `text` ("A1 A2", "A1,A2") into labels appended to `labels`; the copy goes into `buf` at *used. */
static int split_labels(cli *c, const cli_command *cmd, const char *text, char *buf, size_t size, size_t *used,
                        const char **labels, size_t *count)
{
	size_t len = strlen(text);
	if (*used + len + 1 > size)
		return cli_usage_error(c, cmd, "too many seats");
	char *copy = memcpy(buf + *used, text, len + 1);
	*used += len + 1;
	for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		if (*count == MAX_SEATS)
			return cli_usage_error(c, cmd, "too many seats (at most %d)", MAX_SEATS);
		labels[(*count)++] = tok;
	}
	return EXIT_OK;
}

/* Seat labels from "A1 A2" or "A1,A2" (or both), copied into `buf`; none is fine (the caller decides). */
static int collect_labels(cli *c, const cli_command *cmd, const cli_args *a, size_t from, char *buf, size_t size,
                          const char **labels, size_t *count)
{
	size_t used = 0;
	int rc;
	*count = 0;
	for (size_t i = from; i < a->npos; i++)
		if ((rc = split_labels(c, cmd, a->pos[i], buf, size, &used, labels, count)))
			return rc;
	return EXIT_OK;
}

/* Every value of the repeatable flag `name` ("--add"), split into labels. */
static int collect_flag_labels(cli *c, const cli_command *cmd, const cli_args *a, const char *name, char *buf,
                               size_t size, const char **labels, size_t *count)
{
	size_t used = 0, n = strlen(name);
	int rc;
	*count = 0;
	for (size_t i = 0; i < a->nflags; i++)
		if (strncmp(a->flag[i], name, n) == 0 && (a->flag[i][n] == '\0' || a->flag[i][n] == '=') && a->value[i] &&
		    (rc = split_labels(c, cmd, a->value[i], buf, size, &used, labels, count)))
			return rc;
	return EXIT_OK;
}

/* A JSON array of labels (a new reference). */
static json_t *json_labels(const char *const *labels, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_string(labels[i]));
	return arr;
}

/* "held A1 A2 for 24.00 EUR until ..." and the reservation's id: what hold, extend and change print. */
static void print_hold(cli *c, const char *verb, const booking_reservation *r, const char *actor)
{
	char money[48], when[40];
	printf("%s%s%s", col(c, ANSI_GREEN), verb, col(c, ANSI_RESET));
	for (size_t i = 0; i < r->seat_count; i++)
		printf(" %s", r->seats[i]->label);
	printf(" for %s until %s", fmt_money(money, sizeof money, r->total_amount, r->currency),
	       fmt_time(when, sizeof when, r->expires_at));
	if (actor && strcmp(actor, r->user_id) != 0)
		printf(" (for user %s)", tsafe(r->user_id));
	printf("\nreservation %s%s%s\n", col(c, ANSI_BOLD), r->id, col(c, ANSI_RESET));
}

/* --max-price in the showtime's currency: "12.50" or "1250" (minor units). */
static int max_price_arg(cli *c, const cli_command *cmd, const booking_ctx *ctx, const char *showtime_id,
                         const char *text, int64_t *out)
{
	const char *currency = "EUR"; /* the exponent only matters for a decimal point */
	booking_showtime *st = NULL;
	if (strchr(text, '.')) {
		if (booking_showtime_get(&st, c->bk, ctx, showtime_id) != 0)
			return cli_fail(c);
		currency = st->currency;
	}
	bool ok = parse_money(text, currency, out) && *out > 0;
	booking_showtime_free(st);
	if (!ok)
		return cli_usage_error(c, cmd, "--max-price wants a positive amount (12.50, or 1250 in minor units)");
	return EXIT_OK;
}

int cmd_hold(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--best=", "--category=", "--max-price=", "--key=", "--for=", NULL};
	cli_args a;
	booking_ctx ctx;
	char buf[2048];
	const char *labels[MAX_SEATS];
	size_t n;
	long best = 0;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos < 1)
		return cli_usage_error(c, cmd, "missing SHOWTIME_ID");
	if ((rc = collect_labels(c, cmd, &a, 1, buf, sizeof buf, labels, &n)))
		return rc;
	const char *best_arg = args_get(&a, "--best"), *category = args_get(&a, "--category");
	const char *max_price = args_get(&a, "--max-price"), *key = args_get(&a, "--key");
	const char *for_user = args_get(&a, "--for");
	if (best_arg && !args_int(best_arg, 1, MAX_SEATS, &best))
		return cli_usage_error(c, cmd, "--best wants a number of seats, 1..%d", MAX_SEATS);
	if (best_arg && n)
		return cli_usage_error(c, cmd, "name seats or ask for --best N, not both");
	if (!best_arg && n == 0)
		return cli_usage_error(c, cmd, "name at least one SEAT (e.g. A1 A2), or ask for --best N");
	if (!best_arg && (category || max_price))
		return cli_usage_error(c, cmd, "--category and --max-price choose seats for --best N");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation *r = NULL;
	if (!best_arg && !key && !for_user) {
		/* a plain hold: the one-transaction path it always was */
		if (booking_hold(&r, c->bk, &ctx, a.pos[0], labels, n) != 0)
			return cli_fail(c);
	} else {
		booking_hold_request req = BOOKING_HOLD_REQUEST_INIT;
		req.showtime_id = a.pos[0];
		req.seats = n ? labels : NULL;
		req.seat_count = n;
		req.best = (size_t)best;
		req.category = category;
		req.idempotency_key = key;
		req.for_user_id = for_user;
		if (max_price && (rc = max_price_arg(c, cmd, &ctx, a.pos[0], max_price, &req.max_price)))
			return rc;
		if (booking_hold_with(&r, c->bk, &ctx, &req, sizeof req) != 0)
			return cli_fail(c);
	}
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "reservation", json_reservation(r)));
	} else {
		print_hold(c, "held", r, ctx.user_id);
		printf("%snext: booking pay %s --key KEY%s\n", col(c, ANSI_DIM), r->id, col(c, ANSI_RESET));
	}
	booking_reservation_free(r);
	return rc;
}

int cmd_extend(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--minutes=", NULL};
	cli_args a;
	booking_ctx ctx;
	long minutes = 0;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one RESERVATION_ID");
	if (args_get(&a, "--minutes") && !args_int(args_get(&a, "--minutes"), 1, 240, &minutes))
		return cli_usage_error(c, cmd, "--minutes wants a number of minutes, 1..BOOKING_EXPIRY_MINUTES");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation *r = NULL;
	if (booking_reservation_extend(&r, c->bk, &ctx, a.pos[0], (int)minutes) != 0)
		return cli_fail(c);
	if (c->json)
		rc = cli_json(c, json_pack("{s:o}", "reservation", json_reservation(r)));
	else
		print_hold(c, "extended: held", r, ctx.user_id);
	booking_reservation_free(r);
	return rc;
}

int cmd_change(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--add=", "--remove=", NULL};
	cli_args a;
	booking_ctx ctx;
	char add_buf[2048], remove_buf[2048];
	const char *add[MAX_SEATS], *remove[MAX_SEATS];
	size_t nadd, nremove;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one RESERVATION_ID (seats go after --add and --remove)");
	if ((rc = collect_flag_labels(c, cmd, &a, "--add", add_buf, sizeof add_buf, add, &nadd)) ||
	    (rc = collect_flag_labels(c, cmd, &a, "--remove", remove_buf, sizeof remove_buf, remove, &nremove)))
		return rc;
	if (nadd + nremove == 0)
		return cli_usage_error(c, cmd, "nothing to change: give --add SEATS, --remove SEATS or both");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation *r = NULL;
	if (booking_reservation_change(&r, c->bk, &ctx, a.pos[0], add, nadd, remove, nremove) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o,s:o,s:o}", "reservation", json_reservation(r), "added",
		                           json_labels(add, nadd), "removed", json_labels(remove, nremove)));
	} else {
		print_hold(c, "changed: held", r, ctx.user_id);
	}
	booking_reservation_free(r);
	return rc;
}

/* block and unblock: SHOWTIME_ID SEAT... */
static int block_or_unblock(cli *c, const cli_command *cmd, int argc, char **argv, bool block)
{
	static const char *const block_flags[] = {"--reason=", NULL};
	cli_args a;
	booking_ctx ctx;
	char buf[2048];
	const char *labels[MAX_SEATS];
	size_t n;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, block ? block_flags : NULL)) != ARGS_OK)
		return rc;
	if (a.npos < 1)
		return cli_usage_error(c, cmd, "missing SHOWTIME_ID");
	if ((rc = collect_labels(c, cmd, &a, 1, buf, sizeof buf, labels, &n)))
		return rc;
	if (n == 0)
		return cli_usage_error(c, cmd, "name at least one SEAT (e.g. A1 A2)");
	const char *reason = args_get(&a, "--reason");
	if (block && !reason)
		return cli_usage_error(c, cmd, "missing --reason R (wheelchair, press, broken, house, ...)");
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	if ((block ? booking_seats_block(c->bk, &ctx, a.pos[0], labels, n, reason)
	           : booking_seats_unblock(c->bk, &ctx, a.pos[0], labels, n)) != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *o = json_pack("{s:s,s:o,s:s}", "showtime_id", a.pos[0], "seats", json_labels(labels, n), "status",
		                      block ? "blocked" : "free");
		if (o && block)
			json_object_set_new(o, "reason", json_string(reason));
		return cli_json(c, o);
	}
	printf("%s", block ? "blocked" : "unblocked");
	for (size_t i = 0; i < n; i++)
		printf(" %s", tsafe(labels[i]));
	if (block)
		printf(" (%s)", tsafe(reason));
	printf(block ? ": out of sale until unblocked (an admin may still sell them: hold ... --for USER_ID)\n"
	             : ": free again\n");
	return EXIT_OK;
}

int cmd_block(cli *c, const cli_command *cmd, int argc, char **argv)
{
	return block_or_unblock(c, cmd, argc, argv, true);
}

int cmd_unblock(cli *c, const cli_command *cmd, int argc, char **argv)
{
	return block_or_unblock(c, cmd, argc, argv, false);
}

int cmd_show(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one RESERVATION_ID");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation *r = NULL;
	if (booking_reservation_get(&r, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	if (c->json)
		rc = cli_json(c, json_pack("{s:o}", "reservation", json_reservation(r)));
	else
		print_reservation(c, r);
	booking_reservation_free(r);
	return rc;
}

int cmd_pay(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--key=", "--card=", NULL};
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one RESERVATION_ID");
	const char *key = args_get(&a, "--key");
	const char *card = args_get(&a, "--card");
	if (!key)
		return cli_usage_error(c, cmd, "missing --key KEY (any unique text; reuse it to retry safely)");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_payment *p = NULL;
	if (booking_pay(&p, c->bk, &ctx, a.pos[0], key, card ? card : CLI_DEFAULT_CARD) != 0)
		return cli_fail(c);
	booking_reservation *r = NULL;
	if (booking_reservation_get(&r, c->bk, &ctx, p->reservation_id) != 0)
		r = NULL; /* the payment stands; the reservation is shown when it can be read */
	if (c->json) {
		json_t *o = json_pack("{s:o}", "payment", json_payment(p));
		if (o && r)
			json_object_set_new(o, "reservation", json_reservation(r));
		rc = cli_json(c, o);
	} else {
		char money[48];
		printf("%spaid%s %s (card %s%s): reservation %s %s\n", col(c, ANSI_GREEN), col(c, ANSI_RESET),
		       fmt_money(money, sizeof money, p->amount, p->currency), c->utf8 ? "\u2022\u2022\u2022\u2022" : "****",
		       p->card_last4, p->reservation_id, r ? booking_reservation_status_name(r->status) : "");
		printf("payment %s\n", p->id);
	}
	booking_reservation_free(r);
	booking_payment_free(p);
	return rc;
}

int cmd_cancel(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one RESERVATION_ID");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation *r = NULL;
	if (booking_reservation_cancel(&r, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "reservation", json_reservation(r)));
	} else {
		printf("cancelled reservation %s; seats", r->id);
		for (size_t i = 0; i < r->seat_count; i++)
			printf(" %s", r->seats[i]->label);
		printf(" are free again\n");
	}
	booking_reservation_free(r);
	return rc;
}

int cmd_refund(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one PAYMENT_ID");
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_payment *p = NULL;
	if (booking_payment_refund(&p, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	if (c->json)
		rc = cli_json(c, json_pack("{s:o}", "payment", json_payment(p)));
	else
		print_payment(c, p);
	booking_payment_free(p);
	return rc;
}

/* A page of reservations: the user's own (`showtime_id` NULL) or a showtime's door list (with the user column). */
static void print_reservations(const cli *c, const char *owner, const char *showtime_id,
                               const booking_reservation_list *l, bool later_page)
{
	if (l->count == 0) {
		printf(later_page ? "%s%s has no more reservations\n" : "%s%s has no reservations\n",
		       showtime_id ? "showtime " : "", showtime_id ? tsafe(showtime_id) : tsafe(owner));
		return;
	}
	printf("%s%-36s  %-18s  ", col(c, ANSI_DIM), "ID", "STATUS");
	if (showtime_id)
		printf("%-36s  ", "USER");
	printf("%-14s  %s%s\n", "TOTAL", "SEATS", col(c, ANSI_RESET));
	for (size_t i = 0; i < l->count; i++) {
		const booking_reservation *r = l->items[i];
		char money[48];
		printf("%-36s  %-18s  ", r->id, booking_reservation_status_name(r->status));
		if (showtime_id)
			printf("%-36s  ", tsafe(r->user_id));
		printf("%-14s ", fmt_money(money, sizeof money, r->total_amount, r->currency));
		for (size_t k = 0; k < r->seat_count; k++)
			printf(" %s", r->seats[k]->label);
		printf("\n");
	}
	if (l->next_cursor)
		printf("%smore: booking reservations%s%s --cursor %s%s\n", col(c, ANSI_DIM), showtime_id ? " --showtime " : "",
		       showtime_id ? showtime_id : "", l->next_cursor, col(c, ANSI_RESET));
}

/* "PENDING", "confirmed", ... into a booking_reservation_status; 0 when it is none. */
static int reservation_status_arg(const char *s)
{
	for (int st = BOOKING_RESERVATION_PENDING; st <= BOOKING_RESERVATION_EXPIRED; st++)
		if (strcasecmp(s, booking_reservation_status_name((booking_reservation_status)st)) == 0)
			return st;
	return 0;
}

int cmd_reservations(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--limit=", "--cursor=", "--showtime=", "--status=", NULL};
	cli_args a;
	booking_ctx ctx;
	long limit = 0;
	int status = 0;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "%s takes no arguments (it lists the logged-in user's, or --showtime ID's)",
		                       cmd->name);
	if (args_get(&a, "--limit") && !args_int(args_get(&a, "--limit"), 1, BOOKING_PAGE_MAX, &limit))
		return cli_usage_error(c, cmd, "--limit must be a number of reservations, 1..%d", BOOKING_PAGE_MAX);
	const char *showtime_id = args_get(&a, "--showtime"), *status_arg = args_get(&a, "--status");
	if (status_arg && !showtime_id)
		return cli_usage_error(c, cmd, "--status filters a showtime's door list: give --showtime ID too");
	if (status_arg && !(status = reservation_status_arg(status_arg)))
		return cli_usage_error(c, cmd, "--status wants PENDING, PAYMENT_PROCESSING, CONFIRMED, CANCELLED or EXPIRED");
	if (showtime_id && !showtime_id[0])
		return cli_usage_error(c, cmd, "--showtime wants a SHOWTIME_ID");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation_list *l = NULL;
	const char *cursor = args_get(&a, "--cursor");
	int lrc = showtime_id
	              ? booking_reservation_list_for_showtime(&l, c->bk, &ctx, showtime_id, status, (size_t)limit, cursor)
	              : booking_reservation_list_for_user(&l, c->bk, &ctx, NULL, (size_t)limit, cursor);
	if (lrc != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *items = json_array();
		for (size_t i = 0; items && i < l->count; i++)
			json_array_append_new(items, json_reservation(l->items[i]));
		json_t *o = showtime_id ? json_pack("{s:s,s:s?}", "showtime_id", showtime_id, "status",
		                                    status ? booking_reservation_status_name((booking_reservation_status)status)
		                                           : NULL)
		                        : json_pack("{s:s}", "user_id", ctx.user_id);
		if (o) {
			json_object_set_new(o, "reservations", items);
			json_object_set_new(o, "count", json_integer((json_int_t)l->count));
			json_object_set_new(o, "next_cursor", l->next_cursor ? json_string(l->next_cursor) : json_null());
		} else {
			json_decref(items);
		}
		rc = cli_json(c, o);
	} else {
		print_reservations(c, ctx.user_id, showtime_id, l, cursor && *cursor);
	}
	booking_reservation_list_free(l);
	return rc;
}

/* ---- the waiting list ------------------------------------------------------ */

/* "number 3 in line for 2 seats (premium)" or the offer: what join and list print for one entry. */
static void print_waitlist_entry(cli *c, const booking_waitlist_entry *e, bool with_user)
{
	char when[40];
	printf("%s%-7s%s #%-3zu party of %zu%s%s", col(c, e->status == BOOKING_WAITLIST_OFFERED ? ANSI_GREEN : ANSI_YELLOW),
	       booking_waitlist_status_name(e->status), col(c, ANSI_RESET), e->position, e->party_size,
	       e->category[0] ? ", category " : "", e->category[0] ? tsafe(e->category) : "");
	if (e->passes)
		printf(", passed over %d time%s", e->passes, e->passes == 1 ? "" : "s");
	if (with_user)
		printf("  user %s", tsafe(e->user_id));
	printf("  joined %s\n", fmt_time(when, sizeof when, e->joined_at));
	if (e->status == BOOKING_WAITLIST_OFFERED)
		printf("        offer: reservation %s%s%s held until %s\n", col(c, ANSI_BOLD), e->reservation_id,
		       col(c, ANSI_RESET), fmt_time(when, sizeof when, e->offer_expires_at));
}

int cmd_waitlist_join(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--party=", "--category=", NULL};
	cli_args a;
	booking_ctx ctx;
	long party = 0;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one SHOWTIME_ID");
	const char *party_arg = args_get(&a, "--party"), *category = args_get(&a, "--category");
	if (!party_arg)
		return cli_usage_error(c, cmd, "missing --party N (the seats the party wants)");
	if (!args_int(party_arg, 1, MAX_SEATS, &party))
		return cli_usage_error(c, cmd, "--party wants a number of seats, 1..%d", MAX_SEATS);
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_waitlist_entry *e = NULL;
	if (booking_waitlist_join(&e, c->bk, &ctx, a.pos[0], (size_t)party, category) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "entry", json_waitlist_entry(e)));
	} else if (e->status == BOOKING_WAITLIST_OFFERED) {
		char when[40];
		printf("%sseats are free%s: reservation %s%s%s is held for your party of %zu until %s\n", col(c, ANSI_GREEN),
		       col(c, ANSI_RESET), col(c, ANSI_BOLD), e->reservation_id, col(c, ANSI_RESET), e->party_size,
		       fmt_time(when, sizeof when, e->offer_expires_at));
		printf("%snext: booking pay %s --key KEY%s\n", col(c, ANSI_DIM), e->reservation_id, col(c, ANSI_RESET));
	} else {
		printf("on the waiting list: number %zu in line for %zu seat%s%s%s\n", e->position, e->party_size,
		       e->party_size == 1 ? "" : "s", e->category[0] ? " of " : "", e->category[0] ? tsafe(e->category) : "");
		printf("%sseats that come back are offered in join order, as a hold of yours (booking notify tells);\n"
		       "leave with: booking waitlist leave %s%s\n",
		       col(c, ANSI_DIM), a.pos[0], col(c, ANSI_RESET));
	}
	booking_waitlist_entry_free(e);
	return rc;
}

int cmd_waitlist_leave(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--user=", NULL};
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one SHOWTIME_ID");
	const char *user = args_get(&a, "--user");
	if (user && !user[0])
		return cli_usage_error(c, cmd, "--user wants a USER_ID");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	if (booking_waitlist_leave(c->bk, &ctx, a.pos[0], user) != 0)
		return cli_fail(c);
	const char *who = user ? user : ctx.user_id ? ctx.user_id : "";
	if (c->json)
		return cli_json(c, json_pack("{s:s,s:s,s:b}", "showtime_id", a.pos[0], "user_id", who, "left", 1));
	if (user && (!ctx.user_id || strcmp(user, ctx.user_id) != 0))
		printf("user %s left the waiting list of showtime %s (an offer they had is given up)\n", tsafe(user), a.pos[0]);
	else
		printf("you left the waiting list of showtime %s (an offer you had is given up)\n", a.pos[0]);
	return EXIT_OK;
}

/* A list's entries as a JSON array (a new reference); only the OFFERED ones when `offered_only`. */
static json_t *json_waitlist_items(const booking_waitlist *l, bool offered_only)
{
	json_t *items = json_array();
	for (size_t i = 0; items && i < l->count; i++)
		if (!offered_only || l->items[i]->status == BOOKING_WAITLIST_OFFERED)
			json_array_append_new(items, json_waitlist_entry(l->items[i]));
	return items;
}

int cmd_waitlist_list(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one SHOWTIME_ID");
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_waitlist *l = NULL;
	if (booking_waitlist_list(&l, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	bool everyone = ctx.role == BOOKING_ROLE_ADMIN || ctx.role == BOOKING_ROLE_SYSTEM;
	if (c->json) {
		rc = cli_json(c, json_pack("{s:s,s:o,s:I}", "showtime_id", a.pos[0], "entries", json_waitlist_items(l, false),
		                           "count", (json_int_t)l->count));
	} else if (l->count == 0) {
		printf(everyone ? "nobody is on the waiting list of showtime %s\n"
		                : "you are not on the waiting list of showtime %s\n",
		       a.pos[0]);
	} else {
		if (everyone)
			printf("%zu part%s on the waiting list of showtime %s, in join order:\n", l->count,
			       l->count == 1 ? "y" : "ies", a.pos[0]);
		for (size_t i = 0; i < l->count; i++)
			print_waitlist_entry(c, l->items[i], everyone);
	}
	booking_waitlist_free(l);
	return rc;
}

int cmd_waitlist_process(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one SHOWTIME_ID");
	if ((rc = cli_admin(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	size_t offers = 0;
	if (booking_waitlist_process(&offers, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	/* the offers open now (made by this call or before it): the list as an admin sees it */
	booking_waitlist *l = NULL;
	if (ctx.user_id && booking_waitlist_list(&l, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *o = json_pack("{s:s,s:I}", "showtime_id", a.pos[0], "offers", (json_int_t)offers);
		if (o && l)
			json_object_set_new(o, "offered", json_waitlist_items(l, true));
		rc = cli_json(c, o);
	} else {
		printf("%zu offer%s made\n", offers, offers == 1 ? "" : "s");
		for (size_t i = 0; l && i < l->count; i++)
			if (l->items[i]->status == BOOKING_WAITLIST_OFFERED)
				print_waitlist_entry(c, l->items[i], true);
	}
	booking_waitlist_free(l);
	return rc;
}

/* ---- housekeeping (system) --------------------------------------------- */

#define SWEEP_BATCH 500

int cmd_expire(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "expire takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	size_t total = 0, n;
	do {
		n = 0;
		if (booking_expire_due(&n, c->bk, booking_ctx_system(), SWEEP_BATCH) != 0)
			return cli_fail(c);
		total += n;
	} while (n == SWEEP_BATCH);
	if (c->json)
		return cli_json(c, json_pack("{s:I}", "expired", (json_int_t)total));
	printf("expired %zu overdue hold%s\n", total, total == 1 ? "" : "s");
	return EXIT_OK;
}

/* Relay the whole outbox; 0 or a library error. */
int relay_all(booking_handle *bk, size_t *total)
{
	size_t n;
	*total = 0;
	do {
		n = 0;
		int rc = booking_outbox_relay(&n, bk, SWEEP_BATCH);
		if (rc != 0)
			return rc;
		*total += n;
	} while (n == SWEEP_BATCH);
	return 0;
}

int cmd_relay(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "relay takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	size_t total;
	if (relay_all(c->bk, &total) != 0)
		return cli_fail(c);
	if (c->json)
		return cli_json(c, json_pack("{s:I}", "relayed", (json_int_t)total));
	printf("relayed %zu event%s\n", total, total == 1 ? "" : "s");
	return EXIT_OK;
}

static const char *notification_kind_name(booking_notification_kind k)
{
	switch (k) {
	case BOOKING_NOTIFY_RESERVATION_CONFIRMED:
		return "reservation_confirmed";
	case BOOKING_NOTIFY_RESERVATION_CANCELLED:
		return "reservation_cancelled";
	case BOOKING_NOTIFY_RESERVATION_EXPIRED:
		return "reservation_expired";
	case BOOKING_NOTIFY_PAYMENT_FAILED:
		return "payment_failed";
	case BOOKING_NOTIFY_PAYMENT_REFUNDED:
		return "payment_refunded";
	case BOOKING_NOTIFY_WAITLIST_OFFERED:
		return "waitlist_offered";
	}
	return "unknown";
}

typedef struct notify_out {
	cli *c;
	json_t *items;  /* --json: collected into the one object */
	bool stream;    /* --json --follow: one object per line */
} notify_out;

static int print_notification(const booking_notification *n, void *payload)
{
	notify_out *o = payload;
	if (o->c->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "kind", notification_kind_name(n->kind), "event_id",
		                      n->event_id ? n->event_id : "", "user_id", n->user_id ? n->user_id : "",
		                      "reservation_id", n->reservation_id ? n->reservation_id : "", "subject",
		                      n->subject ? n->subject : "", "body", n->body ? n->body : "");
		if (!j)
			return BOOKING_ENOMEM;
		if (o->stream) {
			char *text = json_dumps(j, JSON_COMPACT);
			json_decref(j);
			if (!text)
				return BOOKING_ENOMEM;
			printf("%s\n", text);
			free(text);
		} else {
			json_array_append_new(o->items, j);
		}
	} else {
		printf("%-18s %-12s %s: %s\n", notification_kind_name(n->kind), n->user_id ? n->user_id : "",
		       n->reservation_id ? n->reservation_id : "", tsafe(n->subject));
	}
	fflush(stdout);
	return 0;
}

/*
 * Relay, then poll the notification consumer until it has seen every event.
 * booking_notify() reads one batch (64 events) per poll and reports only
 * the notifications it sent, so a poll over a batch of reservation.created
 * events sends nothing yet is not the end. With `backlog` events at most
 * to read, ceil(backlog / 64) + 1 polls in a row that send nothing prove
 * the consumer has caught up.
 */
#define NOTIFY_BATCH 64

int drain_notifications(booking_handle *bk, booking_notification_sink sink, void *payload, size_t backlog, size_t *sent)
{
	size_t relayed, n, idle = 0;
	int rc;
	*sent = 0;
	if ((rc = relay_all(bk, &relayed)) != 0)
		return rc;
	size_t enough = (backlog + relayed) / NOTIFY_BATCH + 2;
	while (idle < enough) {
		n = 0;
		if ((rc = booking_notify(&n, bk, sink, payload)) != 0)
			return rc;
		*sent += n;
		idle = n ? 0 : idle + 1;
	}
	return 0;
}

/* How many events the store holds: the bound for a first drain. */
static int event_count(booking_handle *bk, size_t *count)
{
	booking_check_report *r = NULL;
	int rc = booking_check(&r, bk);
	if (rc != 0)
		return rc;
	*count = r->events;
	booking_check_report_free(r);
	return 0;
}

int cmd_notify(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--follow", NULL};
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "notify takes no arguments");
	bool follow = args_has(&a, "--follow");
	if ((rc = cli_open(c)))
		return rc;
	notify_out out = {c, json_array(), follow};
	size_t total = 0, n, backlog = 0;
	if (event_count(c->bk, &backlog) != 0) {
		json_decref(out.items);
		return cli_fail(c);
	}
	if (!follow) {
		if (drain_notifications(c->bk, print_notification, &out, backlog, &total) != 0) {
			json_decref(out.items);
			return cli_fail(c);
		}
		if (c->json)
			return cli_json(c, json_pack("{s:o,s:I}", "notifications", out.items, "sent", (json_int_t)total));
		json_decref(out.items);
		if (total == 0)
			printf("no pending notifications\n");
		return EXIT_OK;
	}
	/* Follow: wait for SIGINT/SIGTERM synchronously between polls (no handler, no global flag). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	if (!c->json)
		fprintf(stderr, "following notifications; Ctrl-C to stop\n");
	const struct timespec interval = {0, 500L * 1000 * 1000};
	for (;;) {
		if (drain_notifications(c->bk, print_notification, &out, backlog, &n) != 0) {
			rc = cli_fail(c);
			break;
		}
		total += n;
		backlog = 0; /* caught up: from now on, what each relay brings */
		int sig = sigtimedwait(&stop, NULL, &interval);
		if (sig == SIGINT || sig == SIGTERM)
			break;
	}
	json_decref(out.items);
	if (!c->json)
		fprintf(stderr, "\n%zu notification%s sent\n", total, total == 1 ? "" : "s");
	return rc;
}

int cmd_recover(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--min-age=", NULL};
	cli_args a;
	long min_age = 60;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "recover takes no arguments");
	if (args_get(&a, "--min-age") && !args_int(args_get(&a, "--min-age"), 0, 86400L * 365, &min_age))
		return cli_usage_error(c, cmd, "--min-age wants seconds");
	if ((rc = cli_open(c)))
		return rc;
	size_t n = 0;
	if (booking_payment_recover(&n, c->bk, booking_ctx_system(), (int64_t)min_age * 1000) != 0)
		return cli_fail(c);
	if (c->json)
		return cli_json(c, json_pack("{s:I}", "resolved", (json_int_t)n));
	printf("resolved %zu interrupted payment%s\n", n, n == 1 ? "" : "s");
	return EXIT_OK;
}

static const char *invariant_name(booking_invariant inv)
{
	switch (inv) {
	case BOOKING_INV_SEAT_SINGLE_OWNER:
		return "a seat belongs to at most one live reservation";
	case BOOKING_INV_CONFIRMED_PAID:
		return "confirmed iff paid once, seats sold to it";
	case BOOKING_INV_IDEMPOTENCY:
		return "an idempotency key maps to one payment";
	case BOOKING_INV_OUTBOX:
		return "every state change has its event";
	case BOOKING_INV_INBOX:
		return "an event is applied at most once";
	case BOOKING_INV_MONEY:
		return "money adds up";
	case BOOKING_INV_BOX_OFFICE:
		return "no blocked seat is taken; no hold outlives its cap";
	case BOOKING_INV_WAITLIST:
		return "waiting lists offer seats in order, each seat to one party";
	}
	return "?";
}

/* Print a check report for people; shared with the demo. */
void print_check_report(const cli *c, const booking_check_report *r)
{
	if (r->count == 0) {
		printf("check: %sall 8 invariants hold%s (%zu reservations, %zu seats, %zu payments, %zu events)\n",
		       col(c, ANSI_GREEN), col(c, ANSI_RESET), r->reservations, r->seats, r->payments, r->events);
		return;
	}
	printf("check: %s%zu violation%s%s\n", col(c, ANSI_RED), r->count, r->count == 1 ? "" : "s",
	       col(c, ANSI_RESET));
	for (size_t i = 0; i < r->count; i++) {
		const booking_violation *v = r->items[i];
		printf("  invariant %d (%s): %s%s%s\n", (int)v->invariant, invariant_name(v->invariant),
		       v->entity_id[0] ? v->entity_id : "", v->entity_id[0] ? ": " : "", tsafe(v->message));
	}
}

int cmd_check(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "check takes no arguments");
	if ((rc = cli_open(c)))
		return rc;
	booking_check_report *r = NULL;
	if (booking_check(&r, c->bk) != 0)
		return cli_fail(c);
	rc = r->count ? EXIT_DOMAIN : EXIT_OK;
	if (c->json) {
		char *text = NULL;
		int jrc = booking_check_report_to_json(&text, r);
		json_t *o = json_from_library(jrc, text);
		if (cli_json(c, o) != EXIT_OK)
			rc = EXIT_DOMAIN;
	} else {
		print_check_report(c, r);
	}
	booking_check_report_free(r);
	return rc;
}
