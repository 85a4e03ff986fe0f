/*
 * Conformance suite of a booking_event_publisher (include/booking/sys/events.h),
 * run on the URL in BOOKING_TEST_EVENTS_URL (default "memory:"): publish,
 * read as a group, ack, claim stale deliveries.
 * SPDX-License-Identifier: MIT
 */
#include "suites.h"

#include <pthread.h>
#include <stdlib.h>

static booking_clock *clk;
static booking_event_publisher *pub;
static char prefix[BOOKING_ID_SIZE]; /* makes group names unique per test (shared servers) */

static void setup(void)
{
	const char *url = fx_env("BOOKING_TEST_EVENTS_URL", "memory:");
	int rc;

	clk = booking_clock_manual_new(FX_T0);
	rc = booking_event_publisher_open(&pub, url, clk);
	ck_assert_msg(rc == 0, "booking_event_publisher_open(%s): %s: %s", url, booking_error_name(rc),
	              booking_error_last()->message);
	ck_assert_uint_ge(pub->version, 1);
	ck_assert(pub->free != NULL);
	ck_assert(pub->publish != NULL);
	ck_assert(pub->read_group != NULL);
	ck_assert(pub->ack != NULL);
	ck_assert(pub->claim_stale != NULL);
	booking_uuid_v7(prefix, FX_T0);
}

static void teardown(void)
{
	pub->free(pub);
	booking_clock_manual_free(clk);
}

static const char *group(const char *name)
{
	static char buf[4][128];
	static int next;
	char *b = buf[next++ % 4];

	snprintf(b, 128, "%s-%s", prefix + 24, name); /* the random tail of a UUIDv7 */
	return b;
}

typedef struct got {
	char msg_id[128];
	char event_id[BOOKING_ID_SIZE];
	char envelope[256];
	int deliveries;
} got;

typedef struct inbox {
	pthread_mutex_t mu;
	got items[256];
	size_t n;
} inbox;

static int take(const booking_message *m, void *payload)
{
	inbox *in = payload;

	pthread_mutex_lock(&in->mu);
	if (in->n < 256) {
		got *g = &in->items[in->n++];
		snprintf(g->msg_id, sizeof(g->msg_id), "%s", m->msg_id);
		snprintf(g->event_id, sizeof(g->event_id), "%s", m->event_id);
		snprintf(g->envelope, sizeof(g->envelope), "%s", m->envelope_json);
		g->deliveries = m->deliveries;
	}
	pthread_mutex_unlock(&in->mu);
	return 0;
}

static inbox *inbox_new(void)
{
	inbox *in = calloc(1, sizeof(*in));
	pthread_mutex_init(&in->mu, NULL);
	return in;
}

static void inbox_free(inbox *in)
{
	pthread_mutex_destroy(&in->mu);
	free(in);
}

/* Publish n events; their ids go to ids[i]. */
static void publish(size_t n, char ids[][BOOKING_ID_SIZE])
{
	for (size_t i = 0; i < n; i++) {
		char env[256];
		booking_uuid_v7(ids[i], FX_T0 + (int64_t)i);
		snprintf(env, sizeof(env), "{\"id\":\"%s\",\"type\":\"reservation.created\",\"n\":%zu}", ids[i], i);
		ck_assert_ok(pub->publish(pub, ids[i], "reservation.created", env));
	}
}

START_TEST(read_group_delivers_new_messages_in_publish_order)
{
	char ids[3][BOOKING_ID_SIZE];
	inbox *in = inbox_new();

	publish(3, ids);
	ck_assert_ok(pub->read_group(pub, group("g"), "c1", 10, take, in));
	ck_assert_uint_eq(in->n, 3);
	for (int i = 0; i < 3; i++) {
		char want[256];
		snprintf(want, sizeof(want), "{\"id\":\"%s\",\"type\":\"reservation.created\",\"n\":%d}", ids[i], i);
		ck_assert_str_eq(in->items[i].event_id, ids[i]);
		ck_assert_str_eq(in->items[i].envelope, want);
		ck_assert_int_eq(in->items[i].deliveries, 1);
		ck_assert_msg(in->items[i].msg_id[0] != '\0', "a message has a transport id");
	}
	ck_assert_str_ne(in->items[0].msg_id, in->items[1].msg_id);
	inbox_free(in);
}
END_TEST

START_TEST(read_group_never_redelivers_a_delivered_message)
{
	char ids[2][BOOKING_ID_SIZE];
	inbox *in = inbox_new();

	publish(2, ids);
	ck_assert_ok(pub->read_group(pub, group("g"), "c1", 10, take, in));
	ck_assert_ok(pub->read_group(pub, group("g"), "c1", 10, take, in));
	ck_assert_ok(pub->read_group(pub, group("g"), "c2", 10, take, in));
	ck_assert_uint_eq(in->n, 2);
	inbox_free(in);
}
END_TEST

START_TEST(read_group_respects_max)
{
	char ids[5][BOOKING_ID_SIZE];
	inbox *in = inbox_new();

	publish(5, ids);
	ck_assert_ok(pub->read_group(pub, group("g"), "c1", 2, take, in));
	ck_assert_uint_eq(in->n, 2);
	ck_assert_ok(pub->read_group(pub, group("g"), "c1", 2, take, in));
	ck_assert_uint_eq(in->n, 4);
	ck_assert_ok(pub->read_group(pub, group("g"), "c1", 2, take, in));
	ck_assert_uint_eq(in->n, 5);
	ck_assert_str_eq(in->items[4].event_id, ids[4]);
	inbox_free(in);
}
END_TEST

START_TEST(every_group_sees_every_message)
{
	char ids[3][BOOKING_ID_SIZE];
	inbox *a = inbox_new(), *b = inbox_new();
	const char *ga = group("a"), *gb = group("b");

	publish(3, ids);
	ck_assert_ok(pub->read_group(pub, ga, "c1", 10, take, a));
	ck_assert_ok(pub->read_group(pub, gb, "c1", 10, take, b));
	ck_assert_uint_eq(a->n, 3);
	ck_assert_uint_eq(b->n, 3);
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(a->items[i].event_id, b->items[i].event_id);
	inbox_free(a);
	inbox_free(b);
}
END_TEST

START_TEST(messages_published_later_reach_an_existing_group)
{
	char first[1][BOOKING_ID_SIZE], later[2][BOOKING_ID_SIZE];
	inbox *in = inbox_new();
	const char *g = group("g");

	publish(1, first);
	ck_assert_ok(pub->read_group(pub, g, "c1", 10, take, in));
	publish(2, later);
	ck_assert_ok(pub->read_group(pub, g, "c1", 10, take, in));
	ck_assert_uint_eq(in->n, 3);
	ck_assert_str_eq(in->items[2].event_id, later[1]);
	inbox_free(in);
}
END_TEST

START_TEST(unacked_message_is_claimed_again_after_min_idle)
{
	char ids[2][BOOKING_ID_SIZE];
	inbox *in = inbox_new(), *again = inbox_new();
	const char *g = group("g");

	publish(2, ids);
	ck_assert_ok(pub->read_group(pub, g, "c1", 10, take, in));
	ck_assert_ok(pub->ack(pub, g, in->items[0].msg_id));
	/* too early: nothing is stale */
	booking_clock_manual_advance(clk, 5 * FX_SECOND);
	ck_assert_ok(pub->claim_stale(pub, g, "c2", 10 * FX_SECOND, 10, take, again));
	ck_assert_uint_eq(again->n, 0);
	booking_clock_manual_advance(clk, 5 * FX_SECOND);
	ck_assert_ok(pub->claim_stale(pub, g, "c2", 10 * FX_SECOND, 10, take, again));
	ck_assert_uint_eq(again->n, 1);
	ck_assert_str_eq(again->items[0].event_id, ids[1]);
	ck_assert_str_eq(again->items[0].msg_id, in->items[1].msg_id);
	ck_assert_int_eq(again->items[0].deliveries, 2);
	/* the claim made it fresh again for c2 */
	ck_assert_ok(pub->claim_stale(pub, g, "c3", 10 * FX_SECOND, 10, take, again));
	ck_assert_uint_eq(again->n, 1);
	booking_clock_manual_advance(clk, 10 * FX_SECOND);
	ck_assert_ok(pub->claim_stale(pub, g, "c3", 10 * FX_SECOND, 10, take, again));
	ck_assert_uint_eq(again->n, 2);
	ck_assert_int_eq(again->items[1].deliveries, 3);
	inbox_free(in);
	inbox_free(again);
}
END_TEST

START_TEST(acked_message_is_never_claimed)
{
	char ids[3][BOOKING_ID_SIZE];
	inbox *in = inbox_new(), *again = inbox_new();
	const char *g = group("g");

	publish(3, ids);
	ck_assert_ok(pub->read_group(pub, g, "c1", 10, take, in));
	for (size_t i = 0; i < in->n; i++)
		ck_assert_ok(pub->ack(pub, g, in->items[i].msg_id));
	booking_clock_manual_advance(clk, FX_HOUR);
	ck_assert_ok(pub->claim_stale(pub, g, "c2", 0, 10, take, again));
	ck_assert_uint_eq(again->n, 0);
	inbox_free(in);
	inbox_free(again);
}
END_TEST

START_TEST(ack_in_one_group_leaves_the_other_pending)
{
	char ids[1][BOOKING_ID_SIZE];
	inbox *a = inbox_new(), *b = inbox_new(), *again = inbox_new();
	const char *ga = group("a"), *gb = group("b");

	publish(1, ids);
	ck_assert_ok(pub->read_group(pub, ga, "c1", 10, take, a));
	ck_assert_ok(pub->read_group(pub, gb, "c1", 10, take, b));
	ck_assert_ok(pub->ack(pub, ga, a->items[0].msg_id));
	booking_clock_manual_advance(clk, FX_MINUTE);
	ck_assert_ok(pub->claim_stale(pub, ga, "c2", FX_SECOND, 10, take, again));
	ck_assert_uint_eq(again->n, 0);
	ck_assert_ok(pub->claim_stale(pub, gb, "c2", FX_SECOND, 10, take, again));
	ck_assert_uint_eq(again->n, 1);
	inbox_free(a);
	inbox_free(b);
	inbox_free(again);
}
END_TEST

START_TEST(claim_stale_respects_max)
{
	char ids[4][BOOKING_ID_SIZE];
	inbox *in = inbox_new(), *again = inbox_new();
	const char *g = group("g");

	publish(4, ids);
	ck_assert_ok(pub->read_group(pub, g, "c1", 10, take, in));
	booking_clock_manual_advance(clk, FX_MINUTE);
	ck_assert_ok(pub->claim_stale(pub, g, "c2", FX_SECOND, 3, take, again));
	ck_assert_uint_eq(again->n, 3);
	ck_assert_ok(pub->claim_stale(pub, g, "c2", FX_SECOND, 3, take, again));
	ck_assert_uint_eq(again->n, 4);
	inbox_free(in);
	inbox_free(again);
}
END_TEST

/* --- two consumers of a group read at once ------------------------------ */

typedef struct reader {
	const char *group;
	const char *name;
	inbox *in;
	pthread_barrier_t *barrier;
	int errors;
} reader;

static void *read_all(void *p)
{
	reader *r = p;

	pthread_barrier_wait(r->barrier);
	for (int i = 0; i < 200; i++)
		if (pub->read_group(pub, r->group, r->name, 3, take, r->in) != 0)
			r->errors++;
	return NULL;
}

START_TEST(concurrent_consumers_of_a_group_get_each_message_once)
{
	char ids[100][BOOKING_ID_SIZE];
	inbox *in = inbox_new();
	pthread_barrier_t barrier;
	pthread_t t[3];
	reader r[3];
	const char *g = group("race");
	const char *names[3] = {"c1", "c2", "c3"};

	publish(100, ids);
	pthread_barrier_init(&barrier, NULL, 3);
	for (int i = 0; i < 3; i++) {
		r[i] = (reader){g, names[i], in, &barrier, 0};
		pthread_create(&t[i], NULL, read_all, &r[i]);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(r[i].errors, 0);
	}
	pthread_barrier_destroy(&barrier);
	ck_assert_uint_eq(in->n, 100);
	for (size_t i = 0; i < in->n; i++)
		for (size_t j = i + 1; j < in->n; j++)
			ck_assert_str_ne(in->items[i].event_id, in->items[j].event_id);
	inbox_free(in);
}
END_TEST

void fx_events_suite_add(Suite *s, unsigned int groups)
{
	static const TTest *const *const tests[] = {
		&read_group_delivers_new_messages_in_publish_order,
		&read_group_never_redelivers_a_delivered_message,
		&read_group_respects_max,
		&every_group_sees_every_message,
		&messages_published_later_reach_an_existing_group,
		&unacked_message_is_claimed_again_after_min_idle,
		&acked_message_is_never_claimed,
		&ack_in_one_group_leaves_the_other_pending,
		&claim_stale_respects_max,
		&concurrent_consumers_of_a_group_get_each_message_once,
	};

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		fx_add_case(s, groups, BOOKING_CONFORMANCE_EVENTS, *tests[i], setup, teardown, 30);
}

#ifndef FX_NO_MAIN
int main(void)
{
	Suite *s = suite_create("conformance_events");

	fx_events_suite_add(s, BOOKING_CONFORMANCE_ALL);
	return fx_run(s);
}
#endif
