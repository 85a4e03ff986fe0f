/*
 * Unit tests: the outbox, the relay and consumers (at-least-once delivery,
 * inbox dedupe, retries, dead letters), on the "store:" and "memory:"
 * transports.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>

#define HOLD_MS (15 * FX_MINUTE)
#define TRACEPARENT "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
#define MAX_EVENTS 512

static const char *const transports[] = {"store:", "memory:"};

typedef struct seen {
	char id[BOOKING_ID_SIZE];
	char type[48];
	char aggregate_type[16];
	char aggregate_id[BOOKING_ID_SIZE];
	int64_t sequence;
	int64_t occurred_at;
	char correlation_id[80];
	char traceparent[80];
	char *data_json;
	char *envelope_json;
	int delivery;
} seen;

typedef struct collector {
	pthread_mutex_t mu;
	seen applied[MAX_EVENTS]; /* successful handler calls, in order */
	size_t n;
	size_t calls;             /* every handler call */
	/* failure injection: events of `fail_type` (and `fail_aggregate` when set) fail
	 * their first `fail_times` deliveries (-1: always) */
	const char *fail_type;
	const char *fail_aggregate;
	int fail_times;
	int failing_calls;
	int failing_deliveries[32];
} collector;

static void collector_init(collector *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
}

static void collector_free(collector *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->applied[i].data_json);
		free(c->applied[i].envelope_json);
	}
	pthread_mutex_destroy(&c->mu);
}

static int collect(const booking_event *e, void *payload)
{
	collector *c = payload;
	int rc = 0;

	pthread_mutex_lock(&c->mu);
	c->calls++;
	if (c->fail_type && strcmp(e->type, c->fail_type) == 0 &&
	    (!c->fail_aggregate || strcmp(e->aggregate_id, c->fail_aggregate) == 0) &&
	    (c->fail_times < 0 || c->failing_calls < c->fail_times)) {
		if (c->failing_calls < 32)
			c->failing_deliveries[c->failing_calls] = e->delivery;
		c->failing_calls++;
		rc = booking_error_set(BOOKING_EEXTERNAL, NULL, "smtp relay refused the message");
	} else if (c->n < MAX_EVENTS) {
		seen *s = &c->applied[c->n++];
		snprintf(s->id, sizeof(s->id), "%s", e->id);
		snprintf(s->type, sizeof(s->type), "%s", e->type);
		snprintf(s->aggregate_type, sizeof(s->aggregate_type), "%s", e->aggregate_type);
		snprintf(s->aggregate_id, sizeof(s->aggregate_id), "%s", e->aggregate_id);
		s->sequence = e->sequence;
		s->occurred_at = e->occurred_at;
		snprintf(s->correlation_id, sizeof(s->correlation_id), "%s", e->correlation_id ? e->correlation_id : "");
		snprintf(s->traceparent, sizeof(s->traceparent), "%s", e->traceparent ? e->traceparent : "");
		s->data_json = strdup(e->data_json ? e->data_json : "");
		s->envelope_json = strdup(e->envelope_json ? e->envelope_json : "");
		s->delivery = e->delivery;
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

static fx f;
static const char *transport;

static void open_on(int i)
{
	booking_options o;

	transport = transports[i];
	booking_options_init(&o, BOOKING_OPTIONS_VERSION);
	o.events_url = transport;
	fx_open(&f, &o);
	fx_seed(&f);
}

static bool is_memory(void)
{
	return strcmp(transport, "memory:") == 0;
}

static booking_consumer_options consumer(const char *group, const char *name)
{
	booking_consumer_options o = BOOKING_CONSUMER_OPTIONS_INIT;

	o.group = group;
	o.consumer = name;
	o.claim_idle_ms = FX_SECOND;
	o.retry_base_ms = 10;
	return o;
}

/*
 * Poll until the group is drained: relay (memory:), consume, move the clock a
 * minute (past backoffs and the claim idle time); stop after three quiet polls.
 */
static size_t drain(booking_consumer_options *o, collector *c)
{
	size_t total = 0;
	int quiet = 0;

	for (int i = 0; i < 200 && quiet < 3; i++) {
		size_t handled = 0;
		size_t calls_before = c->calls;
		int rc;

		ck_assert_ok(booking_outbox_relay(NULL, f.bk, 1000));
		rc = booking_consume(&handled, f.bk, o, collect, c);
		/* a poll whose handler failed may report it; any other failure is a bug */
		ck_assert_msg(rc == 0 || c->failing_calls > 0, "booking_consume: %s: %s", booking_error_name(rc),
		              booking_error_last()->message);
		total += rc == 0 ? handled : 0;
		quiet = (handled == 0 && c->calls == calls_before) ? quiet + 1 : 0;
		fx_advance(&f, FX_MINUTE);
	}
	return total;
}

static const seen *find(const collector *c, const char *type, const char *aggregate_id)
{
	const seen *found = NULL;

	for (size_t i = 0; i < c->n; i++) {
		if (strcmp(c->applied[i].type, type) == 0 && strcmp(c->applied[i].aggregate_id, aggregate_id) == 0) {
			ck_assert_msg(found == NULL, "%s of %s applied twice", type, aggregate_id);
			found = &c->applied[i];
		}
	}
	ck_assert_msg(found != NULL, "no %s event for %s (%s)", type, aggregate_id, transport);
	return found;
}

static size_t count_type(const collector *c, const char *type)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += strcmp(c->applied[i].type, type) == 0;
	return n;
}

static void assert_envelope(const seen *s)
{
	static const char *const keys[] = {"id", "type", "version", "occurred_at", "aggregate_type",
	                                   "aggregate_id", "sequence", "correlation_id", "traceparent", "data"};
	json_error_t jerr;
	json_t *env = json_loads(s->envelope_json, 0, &jerr), *data;

	ck_assert_msg(env != NULL, "envelope is not JSON: %s", s->envelope_json);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		ck_assert_msg(json_object_get(env, keys[i]) != NULL, "envelope lacks %s: %s", keys[i], s->envelope_json);
	ck_assert_str_eq(json_string_value(json_object_get(env, "id")), s->id);
	ck_assert_str_eq(json_string_value(json_object_get(env, "type")), s->type);
	ck_assert_str_eq(json_string_value(json_object_get(env, "aggregate_id")), s->aggregate_id);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "sequence")), s->sequence);
	ck_assert_int_eq(json_integer_value(json_object_get(env, "occurred_at")), s->occurred_at);
	ck_assert(json_is_object(json_object_get(env, "data")));
	data = json_loads(s->data_json, 0, &jerr);
	ck_assert_msg(data != NULL && json_is_object(data), "data is not a JSON object: %s", s->data_json);
	ck_assert(json_equal(data, json_object_get(env, "data")));
	json_decref(data);
	json_decref(env);
}

static void assert_known_types(const collector *c)
{
	static const char *const known[] = {"reservation.created", "reservation.confirmed", "reservation.cancelled",
	                                    "reservation.expired", "payment.completed", "payment.failed",
	                                    "payment.refunded", "user.registered"};

	for (size_t i = 0; i < c->n; i++) {
		bool ok = false;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			ok = ok || strcmp(c->applied[i].type, known[k]) == 0;
		ck_assert_msg(ok, "unknown event type %s", c->applied[i].type);
	}
}

/* Per aggregate, sequences are 1, 2, 3... in delivery order. */
static void assert_sequences(const collector *c)
{
	for (size_t i = 0; i < c->n; i++) {
		int64_t expected = 1;
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->applied[j].aggregate_id, c->applied[i].aggregate_id) == 0)
				expected++;
		ck_assert_msg(c->applied[i].sequence == expected, "%s of %s has sequence %lld, expected %lld",
		              c->applied[i].type, c->applied[i].aggregate_id, (long long)c->applied[i].sequence,
		              (long long)expected);
	}
}

START_TEST(every_state_change_emits_its_event_with_per_aggregate_sequence)
{
	booking_ctx alice = fx_customer("alice"), admin = fx_admin(), sys = fx_system();
	booking_reservation *r = NULL;
	booking_payment *p = NULL, failed;
	booking_consumer_options o;
	collector *c = malloc(sizeof(*c));
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE], b3[BOOKING_ID_SIZE], b4[BOOKING_ID_SIZE];
	const char *seat = "A1";
	const seen *s;

	open_on(_i);
	collector_init(c);
	alice.correlation_id = "corr-hold-1";
	alice.traceparent = TRACEPARENT;
	ck_assert_ok(booking_hold(&r, f.bk, &alice, f.showtime_id, &seat, 1));
	snprintf(b1, sizeof(b1), "%s", r->id);
	booking_reservation_free(r);
	ck_assert_ok(fx_pay(&f, &p, "alice", b1, "k1", FX_CARD_OK));
	fx_hold_ok(&f, "bob", "A2", b2);
	fx_advance(&f, FX_SECOND);
	ck_assert_ok(booking_reservation_cancel(NULL, f.bk, &admin, b2));
	fx_hold_ok(&f, "carol", "A3", b3);
	fx_advance(&f, HOLD_MS);
	ck_assert_ok(booking_expire_due(NULL, f.bk, &sys, 10));
	fx_hold_ok(&f, "dave", "A4", b4);
	ck_assert_code(fx_pay(&f, NULL, "dave", b4, "k2", FX_CARD_DECLINED), "PAYMENT_DECLINED");
	ck_assert_uint_eq(fx_payments_of(&f, b4, &failed, 1), 1);
	fx_advance(&f, FX_MINUTE);
	ck_assert_ok(booking_payment_refund(NULL, f.bk, &admin, p->id));

	o = consumer("audit", "c1");
	ck_assert_uint_eq(drain(&o, c), 11);
	ck_assert_uint_eq(c->n, 11);
	assert_known_types(c);
	ck_assert_uint_eq(count_type(c, "reservation.created"), 4);
	ck_assert_uint_eq(count_type(c, "reservation.confirmed"), 1);
	ck_assert_uint_eq(count_type(c, "reservation.cancelled"), 2);
	ck_assert_uint_eq(count_type(c, "reservation.expired"), 1);
	ck_assert_uint_eq(count_type(c, "payment.completed"), 1);
	ck_assert_uint_eq(count_type(c, "payment.failed"), 1);
	ck_assert_uint_eq(count_type(c, "payment.refunded"), 1);
	assert_sequences(c);

	s = find(c, "reservation.created", b1);
	ck_assert_int_eq(s->sequence, 1);
	ck_assert_str_eq(s->aggregate_type, "reservation");
	ck_assert_str_eq(s->correlation_id, "corr-hold-1");
	ck_assert_str_eq(s->traceparent, TRACEPARENT);
	ck_assert_int_eq(s->occurred_at, FX_T0);
	ck_assert_int_eq(s->delivery, 1);
	ck_assert_int_eq(find(c, "reservation.confirmed", b1)->sequence, 2);
	ck_assert_int_eq(find(c, "reservation.cancelled", b1)->sequence, 3);
	s = find(c, "payment.completed", p->id);
	ck_assert_str_eq(s->aggregate_type, "payment");
	ck_assert_int_eq(s->sequence, 1);
	ck_assert_msg(strstr(s->data_json, b1) != NULL, "payment.completed data names the reservation: %s", s->data_json);
	ck_assert_int_eq(find(c, "payment.refunded", p->id)->sequence, 2);
	ck_assert_int_eq(find(c, "reservation.cancelled", b2)->sequence, 2);
	ck_assert_int_eq(find(c, "reservation.expired", b3)->sequence, 2);
	ck_assert_int_eq(find(c, "reservation.expired", b3)->occurred_at, FX_T0 + FX_SECOND + HOLD_MS);
	s = find(c, "payment.failed", failed.id);
	ck_assert_msg(strstr(s->data_json, b4) != NULL, "payment.failed data names the reservation: %s", s->data_json);
	ck_assert_msg(strstr(find(c, "reservation.created", b2)->data_json, "bob") != NULL, "data names the user");
	for (size_t i = 0; i < c->n; i++) {
		assert_envelope(&c->applied[i]);
		ck_assert_str_eq(c->applied[i].aggregate_type, strncmp(c->applied[i].type, "reservation.", 8) == 0 ? "reservation"
		                                                                                             : "payment");
		ck_assert_msg(c->applied[i].correlation_id[0] != '\0', "every event has a correlation id");
	}
	booking_payment_free(p);
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

/* The data a reservation event should carry: the object jansson dumps compact with its keys sorted. */
static char *expected_data(const booking_reservation *r, const char *status, const char *reason)
{
	json_t *seats = json_array();
	for (size_t i = 0; i < r->seat_count; i++)
		json_array_append_new(seats, json_string(r->seats[i]->label));
	json_t *d = json_pack("{s:s,s:s,s:s,s:o,s:I,s:s,s:s,s:I}", "reservation_id", r->id, "user_id", r->user_id,
	                      "showtime_id", r->showtime_id, "seats", seats, "total_amount", (json_int_t)r->total_amount,
	                      "currency", r->currency, "status", status, "expires_at", (json_int_t)r->expires_at);
	ck_assert_ptr_nonnull(d);
	if (reason)
		json_object_set_new(d, "reason", json_string(reason));
	char *text = json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(d);
	return text;
}

START_TEST(reservation_event_data_is_the_compact_sorted_json_of_the_reservation)
{
	const char *users[] = {"alice", "o.brien+box@example.org"};
	const char *seats[] = {"A1", "A2", "A3"};
	collector *c = malloc(sizeof(*c));
	booking_consumer_options o;
	booking_reservation *r[2] = {NULL, NULL}, *gone = NULL;

	open_on(_i);
	collector_init(c);
	for (size_t u = 0; u < 2; u++) {
		booking_ctx ctx = fx_customer(users[u]);
		ck_assert_ok(booking_hold(&r[u], f.bk, &ctx, f.showtime_id, seats + 2 * u, 2 - u));
	}
	booking_ctx alice = fx_customer("alice");
	ck_assert_ok(booking_reservation_cancel(&gone, f.bk, &alice, r[0]->id));
	o = consumer("data", "c1");
	ck_assert_uint_eq(drain(&o, c), 3);
	for (size_t u = 0; u < 2; u++) {
		char *want = expected_data(r[u], "PENDING", NULL);
		ck_assert_str_eq(find(c, "reservation.created", r[u]->id)->data_json, want);
		free(want);
	}
	char *want = expected_data(gone, booking_reservation_status_name(gone->status), "cancelled by user");
	ck_assert_str_eq(find(c, "reservation.cancelled", gone->id)->data_json, want);
	free(want);
	booking_reservation_free(r[0]);
	booking_reservation_free(r[1]);
	booking_reservation_free(gone);
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

START_TEST(relay_moves_each_event_once)
{
	booking_consumer_options o = consumer("mailer", NULL);
	collector *c = malloc(sizeof(*c));
	size_t relayed = 99, handled = 99;

	open_on(_i);
	collector_init(c);
	fx_hold_ok(&f, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	fx_hold_ok(&f, "alice", "A2", (char[BOOKING_ID_SIZE]){0});
	fx_hold_ok(&f, "alice", "A3", (char[BOOKING_ID_SIZE]){0});

	ck_assert_ok(booking_consume(&handled, f.bk, &o, collect, c));
	/* store: consumers read the outbox itself; memory: needs the relay first */
	ck_assert_uint_eq(handled, is_memory() ? 0 : 3);

	ck_assert_ok(booking_outbox_relay(&relayed, f.bk, 2));
	ck_assert_uint_eq(relayed, 2);
	ck_assert_ok(booking_outbox_relay(&relayed, f.bk, 100));
	ck_assert_uint_eq(relayed, 1);
	ck_assert_ok(booking_outbox_relay(&relayed, f.bk, 100));
	ck_assert_uint_eq(relayed, 0);
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 100));

	ck_assert_ok(booking_consume(&handled, f.bk, &o, collect, c));
	ck_assert_uint_eq(handled, is_memory() ? 3 : 0);
	ck_assert_ok(booking_consume(&handled, f.bk, &o, collect, c));
	ck_assert_uint_eq(handled, 0);
	ck_assert_uint_eq(c->n, 3);
	ck_assert_uint_eq(c->calls, 3);
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

START_TEST(consumer_batch_bounds_one_poll)
{
	booking_consumer_options o = consumer("small", NULL);
	collector *c = malloc(sizeof(*c));
	size_t handled = 0;

	open_on(_i);
	collector_init(c);
	for (int i = 1; i <= 5; i++) {
		char label[8];
		snprintf(label, sizeof(label), "B%d", i);
		ck_assert_ok(fx_hold(&f, NULL, "alice", label));
	}
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 100));
	o.batch = 2;
	ck_assert_ok(booking_consume(&handled, f.bk, &o, collect, c));
	ck_assert_uint_eq(handled, 2);
	ck_assert_ok(booking_consume(&handled, f.bk, &o, collect, c));
	ck_assert_uint_eq(handled, 2);
	ck_assert_ok(booking_consume(&handled, f.bk, &o, collect, c));
	ck_assert_uint_eq(handled, 1);
	ck_assert_ok(booking_consume(NULL, f.bk, &o, collect, c));
	ck_assert_uint_eq(c->n, 5);
	/* in commit order */
	for (size_t i = 1; i < c->n; i++)
		ck_assert_int_le(c->applied[i - 1].occurred_at, c->applied[i].occurred_at);
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

START_TEST(failing_handler_is_retried_and_the_event_applied_once)
{
	booking_consumer_options o = consumer("retry", "c1");
	collector *c = malloc(sizeof(*c));
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE];

	open_on(_i);
	collector_init(c);
	fx_hold_ok(&f, "alice", "A1", b1);
	fx_hold_ok(&f, "bob", "A2", b2);
	c->fail_type = "reservation.created";
	c->fail_aggregate = b1;
	c->fail_times = 2; /* a handler that crashed twice, then works */
	drain(&o, c);
	ck_assert_int_eq(c->failing_calls, 2);
	ck_assert_int_eq(c->failing_deliveries[0], 1);
	ck_assert_int_eq(c->failing_deliveries[1], 2);
	ck_assert_int_eq(find(c, "reservation.created", b1)->delivery, 3);
	ck_assert_int_eq(find(c, "reservation.created", b2)->delivery, 1);
	ck_assert_uint_eq(c->n, 2);
	/* nothing more comes, ever */
	ck_assert_uint_eq(drain(&o, c), 0);
	ck_assert_uint_eq(c->n, 2);
	{
		booking_dead_letter_list *dl = NULL;
		ck_assert_ok(booking_dead_letters(&dl, f.bk, "retry"));
		ck_assert_uint_eq(dl->count, 0);
		booking_dead_letter_list_free(dl);
	}
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

START_TEST(poison_event_is_dead_lettered_after_max_deliveries_with_its_reason)
{
	booking_consumer_options o = consumer("mailer", "c1");
	collector *c = malloc(sizeof(*c));
	char b1[BOOKING_ID_SIZE], b2[BOOKING_ID_SIZE], b3[BOOKING_ID_SIZE];
	booking_dead_letter_list *dl = NULL;
	json_error_t jerr;
	json_t *env;

	open_on(_i);
	collector_init(c);
	fx_hold_ok(&f, "alice", "A1", b1);
	fx_hold_ok(&f, "bob", "A2", b2);
	c->fail_type = "reservation.created";
	c->fail_aggregate = b1;
	c->fail_times = -1;
	o.max_deliveries = 3;
	drain(&o, c);
	ck_assert_int_eq(c->failing_calls, 3);
	ck_assert_uint_eq(c->n, 1);
	ck_assert_str_eq(c->applied[0].aggregate_id, b2);

	ck_assert_ok(booking_dead_letters(&dl, f.bk, "mailer"));
	ck_assert_uint_eq(dl->count, 1);
	ck_assert_str_eq(dl->items[0]->group, "mailer");
	ck_assert_ptr_nonnull(dl->items[0]->reason);
	ck_assert_msg(strstr(dl->items[0]->reason, "smtp relay refused the message") != NULL, "reason: %s",
	              dl->items[0]->reason);
	env = json_loads(dl->items[0]->envelope_json, 0, &jerr);
	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(json_string_value(json_object_get(env, "id")), dl->items[0]->event_id);
	ck_assert_str_eq(json_string_value(json_object_get(env, "aggregate_id")), b1);
	ck_assert_str_eq(json_string_value(json_object_get(env, "type")), "reservation.created");
	ck_assert_int_ge(dl->items[0]->dead_at, FX_T0);
	json_decref(env);
	booking_dead_letter_list_free(dl);

	/* the consumer moved on: later events still flow, the poison is not retried */
	fx_hold_ok(&f, "carol", "A3", b3);
	drain(&o, c);
	ck_assert_int_eq(c->failing_calls, 3);
	ck_assert_uint_eq(c->n, 2);
	ck_assert_str_eq(c->applied[1].aggregate_id, b3);

	ck_assert_ok(booking_dead_letters(&dl, f.bk, NULL));
	ck_assert_uint_eq(dl->count, 1);
	booking_dead_letter_list_free(dl);
	ck_assert_ok(booking_dead_letters(&dl, f.bk, "other-group"));
	ck_assert_uint_eq(dl->count, 0);
	booking_dead_letter_list_free(dl);
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

START_TEST(each_group_sees_every_event)
{
	booking_consumer_options a = consumer("group-a", NULL), b = consumer("group.b_2", NULL);
	collector *ca = malloc(sizeof(*ca)), *cb = malloc(sizeof(*cb));

	open_on(_i);
	collector_init(ca);
	collector_init(cb);
	fx_hold_ok(&f, "alice", "A1", (char[BOOKING_ID_SIZE]){0});
	fx_hold_ok(&f, "alice", "A2", (char[BOOKING_ID_SIZE]){0});
	ck_assert_uint_eq(drain(&a, ca), 2);
	fx_hold_ok(&f, "alice", "A3", (char[BOOKING_ID_SIZE]){0});
	ck_assert_uint_eq(drain(&b, cb), 3);
	ck_assert_uint_eq(drain(&a, ca), 1);
	ck_assert_uint_eq(ca->n, 3);
	ck_assert_uint_eq(cb->n, 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_str_eq(ca->applied[i].id, cb->applied[i].id);
	collector_free(ca);
	collector_free(cb);
	free(ca);
	free(cb);
	fx_close(&f);
}
END_TEST

START_TEST(consumer_options_are_validated)
{
	booking_consumer_options o = consumer(NULL, NULL);
	collector *c = malloc(sizeof(*c));

	open_on(_i);
	collector_init(c);
	ck_assert_code(booking_consume(NULL, f.bk, &o, collect, c), "VALIDATION_ERROR");
	o.group = "bad group";
	ck_assert_code(booking_consume(NULL, f.bk, &o, collect, c), "VALIDATION_ERROR");
	o.group = "";
	ck_assert_code(booking_consume(NULL, f.bk, &o, collect, c), "VALIDATION_ERROR");
	o.group = "ok";
	ck_assert_code(booking_consume(NULL, f.bk, &o, NULL, c), "VALIDATION_ERROR");
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

/* --- two consumers of one group race ------------------------------------ */

typedef struct racer {
	booking_consumer_options o;
	collector *c;
	pthread_barrier_t *barrier;
	size_t target;
	int errors;
	char first_error[128];
} racer;

static void *race_consume(void *p)
{
	racer *r = p;

	pthread_barrier_wait(r->barrier);
	for (int i = 0; i < 2000; i++) {
		size_t n;
		int rc = booking_consume(NULL, f.bk, &r->o, collect, r->c);
		if (rc != 0 && r->errors++ == 0)
			snprintf(r->first_error, sizeof(r->first_error), "%s: %s", booking_error_name(rc),
			         booking_error_last()->message);
		pthread_mutex_lock(&r->c->mu);
		n = r->c->n;
		pthread_mutex_unlock(&r->c->mu);
		if (n >= r->target)
			break;
	}
	return NULL;
}

START_TEST(two_consumers_of_a_group_never_apply_an_event_twice)
{
	collector *c = malloc(sizeof(*c));
	pthread_barrier_t barrier;
	pthread_t t[2];
	racer r[2];
	size_t events = FX_SEATS;

	open_on(_i);
	collector_init(c);
	for (int row = 0; row < 3; row++)
		for (int n = 1; n <= 10; n++) {
			char label[8];
			snprintf(label, sizeof(label), "%c%d", 'A' + row, n);
			ck_assert_ok(fx_hold(&f, NULL, "alice", label));
		}
	ck_assert_ok(booking_outbox_relay(NULL, f.bk, 1000));
	pthread_barrier_init(&barrier, NULL, 2);
	for (int i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].o = consumer("race", i == 0 ? "c1" : "c2");
		r[i].o.batch = 3;
		r[i].c = c;
		r[i].barrier = &barrier;
		r[i].target = events;
		pthread_create(&t[i], NULL, race_consume, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);

	for (int i = 0; i < 2; i++)
		ck_assert_msg(r[i].errors == 0, "consumer %d failed %d times, first: %s", i, r[i].errors,
		              r[i].first_error);
	ck_assert_uint_eq(c->n, events);
	ck_assert_uint_eq(c->calls, events);
	for (size_t i = 0; i < c->n; i++)
		for (size_t j = i + 1; j < c->n; j++)
			ck_assert_str_ne(c->applied[i].id, c->applied[j].id);
	ck_assert_uint_eq(drain(&r[0].o, c), 0);
	ck_assert_uint_eq(fx_check_violations(&f), 0);
	collector_free(c);
	free(c);
	fx_close(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("events");
	int n = (int)(sizeof(transports) / sizeof(transports[0]));

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, every_state_change_emits_its_event_with_per_aggregate_sequence, 0, n);
	tcase_add_loop_test(tc, reservation_event_data_is_the_compact_sorted_json_of_the_reservation, 0, n);
	tcase_add_loop_test(tc, relay_moves_each_event_once, 0, n);
	tcase_add_loop_test(tc, consumer_batch_bounds_one_poll, 0, n);
	tcase_add_loop_test(tc, failing_handler_is_retried_and_the_event_applied_once, 0, n);
	tcase_add_loop_test(tc, poison_event_is_dead_lettered_after_max_deliveries_with_its_reason, 0, n);
	tcase_add_loop_test(tc, each_group_sees_every_event, 0, n);
	tcase_add_loop_test(tc, consumer_options_are_validated, 0, n);
	tcase_add_loop_test(tc, two_consumers_of_a_group_never_apply_an_event_twice, 0, n);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
