/*
 * Tracing: spans with W3C trace context, handed to the host's callbacks,
 * and the use-case scope that gives the backend calls of a use case their
 * parent span and deadline.
 *
 * The scope of the running use case is found through a thread-local
 * pointer: the backend vtables carry no context, and a thread runs one use
 * case at a time (nested ones, such as a consumer's handler calling
 * booking_hold, stack). Like the thread's error record, it is per-thread
 * call state, not shared mutable state.
 * SPDX-License-Identifier: MIT
 */
#include "resilience.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Thread_local booking__scope *current_scope;

int64_t booking__mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

/* ---------- W3C trace context ---------- */

static bool lower_hex(const char *s, size_t n)
{
	bool nonzero = false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
		nonzero |= c != '0';
	}
	return nonzero;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

bool booking__traceparent_parse(const char *tp, char trace_id[33], char parent_id[17], unsigned int *flags)
{
	/* version "00": exactly 55 characters; a later version may append "-..." */
	if (!tp || strnlen(tp, 56) < 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-')
		return false;
	if (!((tp[0] >= '0' && tp[0] <= '9') || (tp[0] >= 'a' && tp[0] <= 'f')) ||
	    !((tp[1] >= '0' && tp[1] <= '9') || (tp[1] >= 'a' && tp[1] <= 'f')))
		return false;
	if (tp[0] == 'f' && tp[1] == 'f')
		return false; /* version ff is invalid */
	if (tp[0] == '0' && tp[1] == '0' && tp[55] != '\0')
		return false;
	if (tp[55] != '\0' && tp[55] != '-')
		return false;
	if (!lower_hex(tp + 3, 32) || !lower_hex(tp + 36, 16))
		return false; /* all-zero ids are invalid too */
	char f0 = tp[53], f1 = tp[54];
	if (!((f0 >= '0' && f0 <= '9') || (f0 >= 'a' && f0 <= 'f')) || !((f1 >= '0' && f1 <= '9') || (f1 >= 'a' && f1 <= 'f')))
		return false;
	memcpy(trace_id, tp + 3, 32);
	trace_id[32] = '\0';
	memcpy(parent_id, tp + 36, 16);
	parent_id[16] = '\0';
	*flags = (unsigned int)(hexval(f0) * 16 + hexval(f1));
	return true;
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char buf[16];
	do
		booking__random_id_bytes(buf, bytes);
	while (sodium_is_zero(buf, bytes)); /* an all-zero id is invalid */
	sodium_bin2hex(out, bytes * 2 + 1, buf, bytes);
}

void booking__span_init(booking_span *sp, booking_span_kind kind, const char *name, const char *dependency,
                        const char *trace_id, const char *parent_id, unsigned int flags, const char *correlation_id,
                        int64_t start_ms)
{
	memset(sp, 0, sizeof(*sp));
	sp->version = BOOKING_SPAN_VERSION;
	sp->kind = kind;
	sp->name = name;
	sp->dependency = dependency;
	if (trace_id) {
		memcpy(sp->trace_id, trace_id, 33);
		memcpy(sp->parent_span_id, parent_id ? parent_id : "", parent_id ? 17 : 1);
		sp->trace_flags = flags;
	} else {
		random_hex(sp->trace_id, 16);
		sp->trace_flags = 1; /* a trace we start is sampled: the host decides what to keep */
	}
	random_hex(sp->span_id, 8);
	snprintf(sp->traceparent, sizeof(sp->traceparent), "00-%s-%s-%02x", sp->trace_id, sp->span_id,
	         sp->trace_flags & 0xffu);
	sp->correlation_id = correlation_id;
	sp->start_ms = start_ms;
}

bool booking__tracing(const booking_handle *bk)
{
	return bk && (bk->cfg.span_start_fn || bk->cfg.span_end_fn);
}

/* The host's callback must not change what the caller learns from booking_error_last(). */
typedef struct saved_error {
	int code;
	char message[512];
	char details[2048];
} saved_error;

static void error_save(saved_error *s)
{
	const booking_error *e = booking_error_last();
	s->code = e->code;
	if (s->code) {
		snprintf(s->message, sizeof(s->message), "%s", e->message ? e->message : "");
		snprintf(s->details, sizeof(s->details), "%s", e->details_json ? e->details_json : "{}");
	}
}

static void error_restore(const saved_error *s)
{
	const booking_error *e = booking_error_last();
	if (e->code == s->code && (!s->code || strcmp(e->message ? e->message : "", s->message) == 0))
		return;
	if (s->code)
		booking_error_set(s->code, s->details, "%s", s->message);
	else
		booking_error_clear();
}

static void emit(booking_span_fn fn, booking_span *sp, void *payload)
{
	saved_error saved;
	error_save(&saved);
	fn(sp, payload);
	error_restore(&saved);
}

void booking__span_emit_start(const booking_handle *bk, booking_span *sp)
{
	if (bk->cfg.span_start_fn)
		emit(bk->cfg.span_start_fn, sp, bk->cfg.span_payload);
}

void booking__span_emit_end(const booking_handle *bk, booking_span *sp)
{
	if (bk->cfg.span_end_fn)
		emit(bk->cfg.span_end_fn, sp, bk->cfg.span_payload);
}

/* ---------- use-case scopes ---------- */

booking__scope *booking__scope_current(const booking_handle *bk)
{
	for (booking__scope *s = current_scope; s; s = s->prev)
		if (s->bk == bk)
			return s;
	return NULL;
}

const booking_ctx *booking__scope_begin(booking__scope *sc, booking_handle *bk, const booking_ctx *ctx, booking__op op)
{
	sc->bk = NULL;
	sc->prev = NULL;
	sc->has_ctx = false;
	if (!bk || !bk->obs)
		return ctx;
	sc->bk = bk;
	sc->op = op;
	sc->t0_ns = booking__mono_ns();
	sc->traced = booking__tracing(bk);
	bool usable = ctx && ctx->version >= 1 && ctx->version <= BOOKING_CTX_VERSION;
	sc->deadline_ms = usable ? ctx->deadline_ms : 0;
	const char *corr = NULL;
	if (usable) {
		/* a version 1 struct (an older program's) ends before client_key: copy no more than it has */
		memset(&sc->ctx, 0, sizeof(sc->ctx));
		memcpy(&sc->ctx, ctx, ctx->version >= 2 ? sizeof(*ctx) : offsetof(booking_ctx, client_key));
		sc->has_ctx = true;
		if (!ctx->correlation_id || !*ctx->correlation_id) {
			/* one id for every log line and event of this call */
			booking_uuid_v7(sc->correlation_id, booking__now(bk));
			sc->ctx.correlation_id = sc->correlation_id;
		}
		corr = sc->ctx.correlation_id;
	}
	if (sc->traced) {
		char trace_id[33], parent[17];
		unsigned int flags = 0;
		bool cont = usable && booking__traceparent_parse(ctx->traceparent, trace_id, parent, &flags);
		booking__span_init(&sc->span, BOOKING_SPAN_INTERNAL, booking__op_name(op), NULL, cont ? trace_id : NULL,
		                   cont ? parent : NULL, flags, corr, booking__now(bk));
		if (usable)
			sc->ctx.traceparent = sc->span.traceparent; /* logs and events continue this span */
		booking__span_emit_start(bk, &sc->span);
	}
	sc->prev = current_scope;
	current_scope = sc;
	return sc->has_ctx ? &sc->ctx : ctx;
}

static void count_use_case(booking_handle *bk, booking__op op, int rc, int64_t us)
{
	booking__metrics *m = &bk->obs->m;
	atomic_fetch_add_explicit(&m->use_case_calls[op][booking__code_index(rc)], 1, memory_order_relaxed);
	booking__histogram_observe(&m->use_case_latency[op], us);
}

int booking__scope_end(booking__scope *sc, int rc)
{
	booking_handle *bk = sc->bk;
	if (!bk)
		return rc;
	/* scopes end in the reverse order they began, on the thread that began them */
	current_scope = sc->prev;
	int64_t us = (booking__mono_ns() - sc->t0_ns) / 1000;
	count_use_case(bk, sc->op, rc, us);
	if (sc->traced) {
		sc->span.status = rc;
		sc->span.duration_us = us;
		booking__span_emit_end(bk, &sc->span);
	}
	return rc;
}
