/*
 * trace_json — bridge libbooking's span hooks to JSON lines, one per ended
 * span, on stdout: what a host forwards to an OpenTelemetry collector (or
 * maps onto its own tracer: start a span in on_start, keep it in
 * host_data, end it in on_end).
 *
 *   cc trace_json.c $(pkg-config --cflags --libs libbooking) -o trace_json
 *   ./trace_json                 # a hold and a payment under a caller's trace
 *   ./trace_json | jq .          # pretty
 *
 * The caller's W3C traceparent goes in the ctx: the use case's span is its
 * child, each backend call a child of the use case, and the events written
 * carry the use case's span as their traceparent, so a consumer continues
 * the same trace (the last lines show what the consumer received).
 * SPDX-License-Identifier: MIT
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <booking/booking.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

/* Spans end on any thread: one line at a time. */
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;

/* JSON string body of `s`: the ids and names are plain, the correlation id is the caller's text. */
static void put_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void on_start(booking_span *span, void *payload)
{
	(void)span;
	(void)payload; /* a real bridge starts its own span here and keeps it in span->host_data */
}

static void on_end(booking_span *span, void *payload)
{
	FILE *out = payload;
	pthread_mutex_lock(&out_mu);
	fputs("{\"trace_id\":", out);
	put_string(out, span->trace_id);
	fputs(",\"span_id\":", out);
	put_string(out, span->span_id);
	fputs(",\"parent_span_id\":", out);
	put_string(out, span->parent_span_id);
	fputs(",\"name\":", out);
	put_string(out, span->name);
	fprintf(out, ",\"kind\":\"%s\"", span->kind == BOOKING_SPAN_CLIENT ? "client" : "internal");
	if (span->dependency) {
		fputs(",\"dependency\":", out);
		put_string(out, span->dependency);
	}
	if (span->correlation_id) {
		fputs(",\"correlation_id\":", out);
		put_string(out, span->correlation_id);
	}
	fprintf(out, ",\"start_ms\":%lld,\"duration_us\":%lld,\"status\":\"%s\"", (long long)span->start_ms,
	        (long long)span->duration_us, booking_error_name(span->status));
	if (span->kind == BOOKING_SPAN_CLIENT)
		fprintf(out, ",\"attempts\":%d", span->attempts);
	fputs("}\n", out);
	pthread_mutex_unlock(&out_mu);
}

/* The consumer side: print the trace context an event arrived with. */
static int on_event(const booking_event *ev, void *payload)
{
	FILE *out = payload;
	pthread_mutex_lock(&out_mu);
	fputs("{\"event\":", out);
	put_string(out, ev->type);
	fputs(",\"traceparent\":", out);
	put_string(out, ev->traceparent);
	fputs(",\"correlation_id\":", out);
	put_string(out, ev->correlation_id);
	fputs("}\n", out);
	pthread_mutex_unlock(&out_mu);
	return 0;
}

static int fail(const char *what)
{
	const booking_error *e = booking_error_last();
	fprintf(stderr, "%s failed: %s: %s\n", what, e->name, e->message);
	return 1;
}

int main(void)
{
	booking_options opts = BOOKING_OPTIONS_INIT;
	opts.store_url = "memory:";
	opts.log_level = BOOKING_LOG_WARNING;
	opts.span_start_fn = on_start;
	opts.span_end_fn = on_end;
	opts.span_payload = stdout;
	/*
	 * Payments need a secret of their own that keys the fingerprints of
	 * payment requests (never in the database, no default): the file
	 * $BOOKING_PAYMENT_KEY_FILE names, else a throwaway one for this run.
	 */
	char keydir[] = "/tmp/booking-example-XXXXXX", keyfile[64] = "";
	opts.payment_key_file = getenv("BOOKING_PAYMENT_KEY_FILE");
	if (!opts.payment_key_file || !*opts.payment_key_file) {
		if (!mkdtemp(keydir))
			return fail("mkdtemp");
		snprintf(keyfile, sizeof keyfile, "%s/payment.key", keydir);
		if (booking_payment_key_generate_file(keyfile) != 0)
			return fail("payment key");
		opts.payment_key_file = keyfile;
	}
	booking_handle *bk = NULL;
	if (booking_open(&bk, &opts) != 0)
		return fail("open");

	booking_ctx admin, alice;
	booking_ctx_init(&admin, "admin", BOOKING_ROLE_ADMIN);
	booking_ctx_init(&alice, "alice", BOOKING_ROLE_CUSTOMER);
	/* what an HTTP host takes from the request's headers */
	alice.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	alice.correlation_id = "req-7f3a";

	booking_seat *seats = NULL;
	size_t nseats = 0;
	booking_theater *t = NULL;
	booking_screen *scr = NULL;
	booking_movie *m = NULL;
	booking_showtime *st = NULL;
	booking_reservation *r = NULL;
	booking_payment *p = NULL;
	const booking_price price = {"standard", 1250};
	const char *wanted[] = {"C5", "C6"};
	booking_consumer_options co = BOOKING_CONSUMER_OPTIONS_INIT;
	co.group = "trace-demo";
	int rc = 1;
	if (booking_layout_parse(&seats, &nseats, "A-E:10", sizeof *seats) != 0 ||
	    booking_theater_create(&t, bk, &admin, "Odeon", "Lyon") != 0 ||
	    booking_screen_create(&scr, bk, &admin, t->id, "Screen 1", seats, nseats, sizeof *seats) != 0 ||
	    booking_movie_create(&m, bk, &admin, "Metropolis", 153) != 0 ||
	    booking_showtime_create(&st, bk, &admin, m->id, scr->id, booking_now(bk) + INT64_C(2) * 3600 * 1000, "EUR", &price,
	                            1, sizeof(booking_price)) != 0) {
		fail("catalog");
	} else if (booking_hold(&r, bk, &alice, st->id, wanted, 2) != 0) {
		fail("hold");
	} else if (booking_pay(&p, bk, &alice, r->id, "order-1", "4242424242424242") != 0) {
		fail("pay");
	} else if (booking_consume(NULL, bk, &co, on_event, stdout) != 0) {
		fail("consume");
	} else {
		rc = 0;
	}
	booking_payment_free(p);
	booking_reservation_free(r);
	booking_showtime_free(st);
	booking_movie_free(m);
	booking_screen_free(scr);
	booking_theater_free(t);
	booking_free(seats);
	booking_close(bk);
	if (keyfile[0]) {
		unlink(keyfile);
		rmdir(keydir);
	}
	return rc;
}
