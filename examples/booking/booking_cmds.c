/*
 * booking — commands that sell: hold, show, pay, cancel, refund, reservations;
 * and the system's housekeeping: expire, relay, notify, recover, check.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SEATS 64

/* Seat labels from "A1 A2" or "A1,A2" (or both), copied into `buf`. */
static int collect_labels(cli *c, const cli_command *cmd, const cli_args *a, size_t from, char *buf, size_t size,
                          const char **labels, size_t *count)
{
	size_t used = 0;
	*count = 0;
	for (size_t i = from; i < a->npos; i++) {
		size_t len = strlen(a->pos[i]);
		if (used + len + 1 > size)
			return cli_usage_error(c, cmd, "too many seats");
		char *copy = memcpy(buf + used, a->pos[i], len + 1);
		used += len + 1;
		for (char *save = NULL, *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			if (*count == MAX_SEATS)
				return cli_usage_error(c, cmd, "too many seats (at most %d)", MAX_SEATS);
			labels[(*count)++] = tok;
		}
	}
	if (*count == 0)
		return cli_usage_error(c, cmd, "name at least one SEAT (e.g. A1 A2)");
	return EXIT_OK;
}

int cmd_hold(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	char buf[2048];
	const char *labels[MAX_SEATS];
	size_t n;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos < 1)
		return cli_usage_error(c, cmd, "missing SHOWTIME_ID");
	if ((rc = collect_labels(c, cmd, &a, 1, buf, sizeof buf, labels, &n)))
		return rc;
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation *r = NULL;
	if (booking_hold(&r, c->bk, &ctx, a.pos[0], labels, n) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "reservation", json_reservation(r)));
	} else {
		char money[48], when[40];
		printf("%sheld%s", col(c, ANSI_GREEN), col(c, ANSI_RESET));
		for (size_t i = 0; i < r->seat_count; i++)
			printf(" %s", r->seats[i]->label);
		printf(" for %s until %s\n", fmt_money(money, sizeof money, r->total_amount, r->currency),
		       fmt_time(when, sizeof when, r->expires_at));
		printf("reservation %s%s%s\n", col(c, ANSI_BOLD), r->id, col(c, ANSI_RESET));
		printf("%snext: booking pay %s --key KEY%s\n", col(c, ANSI_DIM), r->id, col(c, ANSI_RESET));
	}
	booking_reservation_free(r);
	return rc;
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

static void print_reservations(const cli *c, const char *user_id, const booking_reservation_list *l, bool later_page)
{
	if (l->count == 0) {
		printf(later_page ? "%s has no more bookings\n" : "%s has no bookings\n", user_id);
		return;
	}
	printf("%s%-36s  %-18s  %-14s  %s%s\n", col(c, ANSI_DIM), "ID", "STATUS", "TOTAL", "SEATS",
	       col(c, ANSI_RESET));
	for (size_t i = 0; i < l->count; i++) {
		const booking_reservation *r = l->items[i];
		char money[48];
		printf("%-36s  %-18s  %-14s ", r->id, booking_reservation_status_name(r->status),
		       fmt_money(money, sizeof money, r->total_amount, r->currency));
		for (size_t k = 0; k < r->seat_count; k++)
			printf(" %s", r->seats[k]->label);
		printf("\n");
	}
	if (l->next_cursor)
		printf("%smore: booking reservations --cursor %s%s\n", col(c, ANSI_DIM), l->next_cursor, col(c, ANSI_RESET));
}

int cmd_reservations(cli *c, const cli_command *cmd, int argc, char **argv)
{
	static const char *const known[] = {"--limit=", "--cursor=", NULL};
	cli_args a;
	booking_ctx ctx;
	long limit = 0;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, known)) != ARGS_OK)
		return rc;
	if (a.npos)
		return cli_usage_error(c, cmd, "reservations takes no arguments (it lists the logged-in user's)");
	if (args_get(&a, "--limit") && !args_int(args_get(&a, "--limit"), 1, BOOKING_PAGE_MAX, &limit))
		return cli_usage_error(c, cmd, "--limit must be a number of reservations, 1..%d", BOOKING_PAGE_MAX);
	if ((rc = cli_actor(c, cmd, &ctx)) || (rc = cli_open(c)))
		return rc;
	booking_reservation_list *l = NULL;
	if (booking_reservation_list_for_user(&l, c->bk, &ctx, NULL, (size_t)limit, args_get(&a, "--cursor")) != 0)
		return cli_fail(c);
	if (c->json) {
		json_t *items = json_array();
		for (size_t i = 0; items && i < l->count; i++)
			json_array_append_new(items, json_reservation(l->items[i]));
		rc = cli_json(c, json_pack("{s:s,s:o,s:I,s:s?}", "user_id", ctx.user_id, "reservations", items, "count",
		                           (json_int_t)l->count, "next_cursor", l->next_cursor));
	} else {
		const char *cursor = args_get(&a, "--cursor");
		print_reservations(c, ctx.user_id, l, cursor && *cursor);
	}
	booking_reservation_list_free(l);
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
	}
	return "?";
}

/* Print a check report for people; shared with the demo. */
void print_check_report(const cli *c, const booking_check_report *r)
{
	if (r->count == 0) {
		printf("check: %sall 7 invariants hold%s (%zu reservations, %zu seats, %zu payments, %zu events)\n",
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
