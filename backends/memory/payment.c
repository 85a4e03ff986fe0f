/*
 * Memory store — payments: the rows a starting payment adds, idempotency
 * records, reads and attempt counts (every change is applied by mem_apply).
 * SPDX-License-Identifier: MIT
 */
#include "memory_store.h"

#include <stdlib.h>
#include <string.h>

static booking_payment *payment_dup(const booking_payment *src)
{
	booking_payment *p = booking_malloc(sizeof *p);
	if (p)
		*p = *src;
	return p;
}

static int cmp_payment(const void *a, const void *b)
{
	const booking_payment *x = a, *y = b;
	int c = mem_cmp_i64(x->created_at, y->created_at);
	return c ? c : strcmp(x->id, y->id);
}

/* ------------------------------------------------------------------------
 * Payments.
 * ------------------------------------------------------------------------ */

/* A payment that starts, allocated whole before anything changes (mem_payment_start_commit cannot fail). */
int mem_payment_start_prepare(mem_store *st, const booking_store_payment_start *start, mem_payment_start *out)
{
	memset(out, 0, sizeof(*out));
	const booking_payment *np = start->payment;
	if (!np || !start->user_id || !start->idempotency_key || !start->request_hash)
		return mem_missing_arg("start: payment, user_id, idempotency_key and request_hash");
	if (map_get(&st->idem.index, start->user_id, start->idempotency_key))
		return booking_error_set(BOOKING_EEXISTS, NULL, "this idempotency key has a record");
	if (mem_table_get(&st->payments, np->id, NULL))
		return booking_error_set(BOOKING_EEXISTS, NULL, "payment %s already exists", np->id);
	char *key = mem_key_join(start->user_id, start->idempotency_key);
	if (!key)
		return mem_oom();
	char *k = NULL, *u = NULL, *ik = NULL, *h = NULL;
	const char *strs[4] = {key, start->user_id, start->idempotency_key, start->request_hash};
	char **dst[4] = {&k, &u, &ik, &h};
	mem_idem *idem = mem_pack(sizeof *idem, 4, strs, dst);
	booking_free(key);
	booking_payment *stored = payment_dup(np);
	if (!idem || !stored || mem_table_reserve(&st->idem, 1) < 0 || mem_table_reserve(&st->payments, 1) < 0 ||
	    map_reserve(&st->idem_by_payment, 1) < 0) {
		booking_free(idem);
		booking_free(stored);
		return mem_oom();
	}
	idem->key = k;
	idem->user_id = u;
	idem->idem_key = ik;
	idem->request_hash = h;
	mem_copy_text(idem->payment_id, sizeof idem->payment_id, np->id);
	idem->completed = false;
	idem->replay_error = 0;
	out->idem = idem;
	out->payment = stored;
	return 0;
}

void mem_payment_start_commit(mem_store *st, mem_payment_start *ps)
{
	mem_table_add(&st->idem, ps->idem->key, ps->idem);
	map_put(&st->idem_by_payment, ps->idem->payment_id, ps->idem);
	mem_table_add(&st->payments, ps->payment->id, ps->payment);
	ps->idem = NULL;
	ps->payment = NULL;
}

void mem_payment_start_abort(mem_payment_start *ps)
{
	booking_free(ps->idem);
	booking_free(ps->payment);
	ps->idem = NULL;
	ps->payment = NULL;
}

int mem_idempotency_get(booking_store *base, const char *user_id, const char *key, booking_store_idempotency_record *out)
{
	mem_store *st = mem_impl(base);
	if (!out || !user_id || !key)
		return mem_missing_arg("out, user_id and key");
	memset(out, 0, sizeof(*out));
	int rc = 0;
	mem_lock_store(st);
	const mem_idem *rec = map_get(&st->idem.index, user_id, key);
	if (!rec) {
		rc = booking_error_set(BOOKING_ENOTFOUND, NULL, "no idempotency record");
	} else {
		mem_copy_text(out->request_hash, sizeof out->request_hash, rec->request_hash);
		mem_copy_text(out->payment_id, sizeof out->payment_id, rec->payment_id);
		out->completed = rec->completed;
		out->replay_error = rec->replay_error;
	}
	mem_unlock_store(st);
	return rc;
}

int mem_payment_get(booking_store *base, const char *id, booking_payment **out)
{
	mem_store *st = mem_impl(base);
	if (!out)
		return mem_missing_arg("out");
	*out = NULL;
	int rc = 0;
	mem_lock_store(st);
	const booking_payment *p = id ? mem_table_get(&st->payments, id, NULL) : NULL;
	if (!p)
		rc = booking_error_set(BOOKING_EPAYMENT_NOT_FOUND, NULL, "payment %s not found", mem_or_empty(id));
	else if (!(*out = payment_dup(p)))
		rc = mem_oom();
	mem_unlock_store(st);
	return rc;
}

int mem_payment_attempts(booking_store *base, booking_store_payment_attempts *out, const char *user_id,
                         const char *idempotency_key, const char *booking_id, booking_payment_status status,
                         int64_t since)
{
	mem_store *st = mem_impl(base);
	if (!out || !user_id || !idempotency_key || !booking_id)
		return mem_missing_arg("out, user_id, idempotency_key and booking_id");
	memset(out, 0, sizeof(*out));
	mem_lock_store(st);
	out->key_used = map_get(&st->idem.index, user_id, idempotency_key) != NULL;
	for (size_t i = 0; i < st->payments.len; i++) {
		const booking_payment *p = st->payments.items[i];
		if (p->status != status)
			continue;
		if (strcmp(p->booking_id, booking_id) == 0)
			out->booking_count++;
		if (strcmp(p->user_id, user_id) == 0 && p->created_at >= since)
			out->user_count++;
	}
	mem_unlock_store(st);
	return 0;
}

int mem_payment_list_by_status(booking_store *base, booking_payment_status status, int64_t created_before, size_t max,
                               booking_store_payment_cb cb, void *payload)
{
	mem_store *st = mem_impl(base);
	booking_payment *snap = NULL;
	size_t n = 0;
	mem_lock_store(st);
	size_t total = st->payments.len;
	for (size_t i = 0; i < total; i++) {
		const booking_payment *p = st->payments.items[i];
		if (p->status != status || p->created_at > created_before)
			continue;
		if (!snap && !(snap = booking_calloc(total - i, sizeof *snap))) {
			mem_unlock_store(st);
			return mem_oom();
		}
		snap[n++] = *p;
	}
	mem_unlock_store(st);
	if (n)
		qsort(snap, n, sizeof *snap, cmp_payment);
	int rc = 0;
	for (size_t i = 0; i < n && i < max && cb && rc == 0; i++)
		rc = cb(&snap[i], payload);
	booking_free(snap);
	return rc;
}
