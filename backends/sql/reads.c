/*
 * The SQL stores' reads, once for SQLite and PostgreSQL (sql.h): each is
 * one statement, so one round trip on PostgreSQL and one snapshot on
 * both. Records are built as the core frees them (booking_*_free).
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "sql/sql.h"

/* --- running a statement --------------------------------------------------- */

static int query(booking_store *bst, sql_qid q, const sql_arg *args, size_t n, sql_rows *rows)
{
	sql_store *st = (sql_store *)bst;

	*rows = (sql_rows){st, NULL, NULL, 0, 0};
	return st->driver->query(st, q, args, n, rows);
}

static int next(sql_rows *r)
{
	return r->st->driver->next(r);
}

static void done(sql_rows *r)
{
	r->st->driver->done(r);
}

static int64_t i64(const sql_rows *r, int col)
{
	return r->st->driver->i64(r, col);
}

static const char *text(const sql_rows *r, int col)
{
	const char *s = r->st->driver->text(r, col);

	return s != NULL ? s : "";
}

static void copy(char *dst, size_t size, const sql_rows *r, int col)
{
	const char *s = text(r, col);
	size_t n = strnlen(s, size - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

static char *dup_text(const sql_rows *r, int col)
{
	char *s = booking_strdup(text(r, col));

	if (s == NULL)
		booking_error_oom();
	return s;
}

static int missing(const char *what)
{
	return booking_error_set(BOOKING_EVALIDATION, NULL, "store: %s is required", what);
}

static int64_t clamp(size_t max)
{
	return max > (size_t)INT64_MAX ? INT64_MAX : (int64_t)max;
}

/*
 * Run a read of one row: 0 with `rows` at it (the caller reads it, then
 * done()), or `not_found` when there is none, worded by the core
 * (booking_store_not_found()) or as `message` says.
 */
static int get_one(booking_store *bst, sql_qid q, const sql_arg *args, size_t n, int not_found, const char *message,
                   sql_rows *rows)
{
	int rc = query(bst, q, args, n, rows);

	if (rc == 0 && (rc = next(rows)) <= 0)
		done(rows);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (message != NULL)
		booking_error_set(not_found, NULL, "%s", message);
	else
		booking_store_not_found(not_found);
	return not_found;
}

/* get_one by an id, the statement's only argument. */
static int get_by_id(booking_store *bst, sql_qid q, const char *id, int not_found, sql_rows *rows)
{
	const sql_arg a[] = {SQL_T(id)};

	if (id == NULL) {
		booking_store_not_found(not_found);
		return not_found;
	}
	return get_one(bst, q, a, 1, not_found, NULL, rows);
}

/*
 * Call `row` for each row, then done(). `row` maps the row and calls the
 * member's callback.
 */
static int each(booking_store *bst, sql_qid q, const sql_arg *args, size_t n,
                int (*row)(const sql_rows *r, void *cb, void *payload), void *cb, void *payload)
{
	sql_rows rows;
	int rc = query(bst, q, args, n, &rows);

	if (rc != 0)
		return rc;
	while ((rc = next(&rows)) > 0 && (rc = row(&rows, cb, payload)) == 0)
		;
	done(&rows);
	return rc;
}

/* --- JSON arrays (a booking's seats, a screen's, a showtime's prices) -------- */

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/* Append `ch` to dst[n..] in UTF-8 (truncated at `size`); returns the new length. */
static size_t put_utf8(char *dst, size_t n, size_t size, unsigned long ch)
{
	unsigned char b[3] = {(unsigned char)ch};
	size_t len = ch < 0x80 ? 1 : ch < 0x800 ? 2 : 3;

	if (len == 2) {
		b[0] = (unsigned char)(0xC0 | ch >> 6);
		b[1] = (unsigned char)(0x80 | (ch & 0x3F));
	} else if (len == 3) {
		b[0] = (unsigned char)(0xE0 | ch >> 12);
		b[1] = (unsigned char)(0x80 | ((ch >> 6) & 0x3F));
		b[2] = (unsigned char)(0x80 | (ch & 0x3F));
	}
	for (size_t i = 0; i < len && dst != NULL && n + 1 < size; i++)
		dst[n++] = (char)b[i];
	return n;
}

/*
 * One element at `p`: a string unescaped into dst (`size` bytes, truncated
 * and terminated; dst NULL skips it) or an integer into *num. Returns the
 * text after it, NULL when malformed.
 */
static const char *json_element(const char *p, char *dst, size_t size, int64_t *num)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *esc;
	size_t n = 0;
	char *end;

	if (*p != '"') {
		*num = (int64_t)strtoll(p, &end, 10);
		return end == p ? NULL : end;
	}
	for (p++; *p != '"'; p++) {
		unsigned long ch = (unsigned char)*p;
		char hex[5] = {0};

		if (ch == '\0')
			return NULL;
		if (ch != '\\') {
			if (dst != NULL && n + 1 < size)
				dst[n++] = (char)ch; /* raw bytes, UTF-8 included, as they are */
			continue;
		}
		esc = strchr(from, *++p);
		if (*p == 'u') {
			memcpy(hex, p + 1, strnlen(p + 1, 4));
			ch = strtoul(hex, &end, 16);
			if (end != hex + 4)
				return NULL;
			p += 4;
		} else if (*p != '\0' && esc != NULL) {
			ch = (unsigned char)to[esc - from];
		} else {
			return NULL;
		}
		n = put_utf8(dst, n, size, ch);
	}
	if (dst != NULL && size > 0)
		dst[n] = '\0';
	return p + 1;
}

int sql_json_items(const sql_rows *r, int col, void **items, size_t *count, size_t stride, size_t off, size_t size)
{
	const char *json = text(r, col);

	for (bool fill = *items != NULL;; fill = true) { /* counts, allocates, then fills */
		const char *p = skip_space(json);
		size_t n = 0;
		int64_t num = 0;

		if (*p++ != '[')
			return booking_error_set(BOOKING_EINTERNAL, NULL, "store: not a JSON array: %.40s", json);
		for (p = skip_space(p); p != NULL && *p != ']'; n++) {
			char *item = fill && n < *count ? (char *)*items + n * stride + off : NULL;

			p = json_element(p, size ? item : NULL, size, &num);
			if (p != NULL && item != NULL && size == 0)
				memcpy(item, &num, sizeof num);
			if (p != NULL && *(p = skip_space(p)) == ',')
				p = skip_space(p + 1);
			else if (p != NULL && *p != ']')
				p = NULL;
		}
		if (p == NULL)
			return booking_error_set(BOOKING_EINTERNAL, NULL, "store: malformed JSON array: %.40s", json);
		if (fill || n == 0)
			return 0;
		*items = booking_calloc(n, stride);
		if (*items == NULL)
			return booking_error_oom();
		*count = n;
	}
}

/*
 * --- records: each from its statement's columns (the bookings' of
 * SQL_BOOKINGS, SQL_PAYMENT_COLUMNS, SQL_EVENT_COLUMNS) from column 0, a
 * seat's (SQL_SEAT_COLUMNS) from `first`; b->seats is allocated (NULL when
 * none), an event's strings are borrowed from the row.
 */

static void movie_from_row(const sql_rows *r, booking_movie *m)
{
	copy(m->id, sizeof m->id, r, 0);
	m->title = (char *)text(r, 1);
	m->duration_minutes = (int)i64(r, 2);
	m->created_at = i64(r, 3);
}

static void theater_from_row(const sql_rows *r, booking_theater *t)
{
	copy(t->id, sizeof t->id, r, 0);
	t->name = (char *)text(r, 1);
	t->city = (char *)text(r, 2);
	t->created_at = i64(r, 3);
}

/* sh->prices is allocated (NULL when there are none). */
static int showtime_from_row(const sql_rows *r, booking_showtime *sh)
{
	void *prices = NULL;
	int rc;

	memset(sh, 0, sizeof *sh);
	copy(sh->id, sizeof sh->id, r, 0);
	copy(sh->movie_id, sizeof sh->movie_id, r, 1);
	copy(sh->screen_id, sizeof sh->screen_id, r, 2);
	sh->starts_at = i64(r, 3);
	copy(sh->currency, sizeof sh->currency, r, 4);
	sh->status = (booking_showtime_status)i64(r, 5);
	sh->created_at = i64(r, 6);
	rc = sql_json_items(r, 7, &prices, &sh->price_count, sizeof(booking_price), offsetof(booking_price, category),
	                sizeof sh->prices->category);
	if (rc == 0 && prices != NULL)
		rc = sql_json_items(r, 8, &prices, &sh->price_count, sizeof(booking_price), offsetof(booking_price, amount), 0);
	sh->prices = prices;
	return rc;
}

static int booking_from_row(const sql_rows *r, booking_reservation *b)
{
	void *seats = NULL;
	int rc;

	memset(b, 0, sizeof *b);
	copy(b->id, sizeof b->id, r, 0);
	copy(b->user_id, sizeof b->user_id, r, 1);
	copy(b->showtime_id, sizeof b->showtime_id, r, 2);
	b->status = (booking_status)i64(r, 3);
	b->saga = (booking_saga_state)i64(r, 4);
	rc = sql_json_items(r, 5, &seats, &b->seat_count, sizeof(booking_seat_ref), 0, sizeof b->seats->label);
	b->seats = seats;
	b->total_amount = i64(r, 6);
	copy(b->currency, sizeof b->currency, r, 7);
	b->created_at = i64(r, 8);
	b->expires_at = i64(r, 9);
	b->updated_at = i64(r, 10);
	b->version = i64(r, 11);
	return rc;
}

static void payment_from_row(const sql_rows *r, booking_payment *p)
{
	memset(p, 0, sizeof *p);
	copy(p->id, sizeof p->id, r, 0);
	copy(p->booking_id, sizeof p->booking_id, r, 1);
	copy(p->user_id, sizeof p->user_id, r, 2);
	p->status = (booking_payment_status)i64(r, 3);
	p->amount = i64(r, 4);
	copy(p->currency, sizeof p->currency, r, 5);
	copy(p->card_last4, sizeof p->card_last4, r, 6);
	copy(p->gateway_ref, sizeof p->gateway_ref, r, 7);
	copy(p->failure_code, sizeof p->failure_code, r, 8);
	p->refunded_amount = i64(r, 9);
	p->created_at = i64(r, 10);
	p->updated_at = i64(r, 11);
}

static void event_from_row(const sql_rows *r, booking_event_record *e)
{
	memset(e, 0, sizeof *e);
	copy(e->id, sizeof e->id, r, 0);
	e->type = text(r, 1);
	e->aggregate_type = text(r, 2);
	copy(e->aggregate_id, sizeof e->aggregate_id, r, 3);
	e->sequence = i64(r, 4);
	e->occurred_at = i64(r, 5);
	e->correlation_id = text(r, 6);
	e->traceparent = text(r, 7);
	e->data_json = text(r, 8);
	e->position = i64(r, 9);
	e->published = r->st->driver->boolean(r, 10);
}

/* --- the catalog ------------------------------------------------------------------ */

int sql_movie_get(booking_store *st, const char *id, booking_movie **out)
{
	sql_rows r;
	booking_movie *m;
	int rc;

	if (out == NULL)
		return missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, SQLQ_MOVIE_GET, id, BOOKING_EMOVIE_NOT_FOUND, &r)) != 0)
		return rc;
	m = booking_calloc(1, sizeof *m);
	if (m != NULL) {
		movie_from_row(&r, m);
		m->title = dup_text(&r, 1);
	}
	done(&r);
	if (m == NULL || m->title == NULL) {
		booking_free(m);
		return booking_error_oom();
	}
	*out = m;
	return 0;
}

static int movie_row(const sql_rows *r, void *cb, void *payload)
{
	booking_movie m;

	movie_from_row(r, &m);
	return ((booking_store_movie_cb)(uintptr_t)cb)(&m, payload);
}

int sql_movie_list(booking_store *st, booking_store_movie_cb cb, void *payload)
{
	return each(st, SQLQ_MOVIE_LIST, NULL, 0, movie_row, (void *)(uintptr_t)cb, payload);
}

int sql_theater_get(booking_store *st, const char *id, booking_theater **out)
{
	sql_rows r;
	booking_theater *t;
	int rc;

	if (out == NULL)
		return missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, SQLQ_THEATER_GET, id, BOOKING_ETHEATER_NOT_FOUND, &r)) != 0)
		return rc;
	t = booking_calloc(1, sizeof *t);
	if (t != NULL) {
		theater_from_row(&r, t);
		t->name = dup_text(&r, 1);
		t->city = dup_text(&r, 2);
	}
	done(&r);
	if (t == NULL || t->name == NULL || t->city == NULL) {
		booking_theater_free(t);
		return booking_error_oom();
	}
	*out = t;
	return 0;
}

static int theater_row(const sql_rows *r, void *cb, void *payload)
{
	booking_theater t;

	theater_from_row(r, &t);
	return ((booking_store_theater_cb)(uintptr_t)cb)(&t, payload);
}

int sql_theater_list(booking_store *st, booking_store_theater_cb cb, void *payload)
{
	return each(st, SQLQ_THEATER_LIST, NULL, 0, theater_row, (void *)(uintptr_t)cb, payload);
}

int sql_screen_get(booking_store *st, const char *id, booking_screen **out)
{
	booking_screen *sc;
	void *seats = NULL;
	sql_rows r;
	int rc;

	if (out == NULL)
		return missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, SQLQ_SCREEN_GET, id, BOOKING_ESCREEN_NOT_FOUND, &r)) != 0)
		return rc;
	sc = booking_calloc(1, sizeof *sc);
	if (sc == NULL || (sc->name = dup_text(&r, 2)) == NULL) {
		done(&r);
		booking_free(sc);
		return booking_error_oom();
	}
	copy(sc->id, sizeof sc->id, &r, 0);
	copy(sc->theater_id, sizeof sc->theater_id, &r, 1);
	sc->created_at = i64(&r, 3);
	rc = sql_json_items(&r, 4, &seats, &sc->seat_count, sizeof(booking_seat), 0, sizeof sc->seats->label);
	if (rc == 0 && seats != NULL)
		rc = sql_json_items(&r, 5, &seats, &sc->seat_count, sizeof(booking_seat), offsetof(booking_seat, category),
		                sizeof sc->seats->category);
	sc->seats = seats;
	done(&r);
	if (rc != 0) {
		booking_screen_free(sc);
		return rc;
	}
	*out = sc;
	return 0;
}

int sql_showtime_get(booking_store *st, const char *id, booking_showtime **out)
{
	sql_rows r;
	booking_showtime *sh;
	int rc;

	if (out == NULL)
		return missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, SQLQ_SHOWTIME_GET, id, BOOKING_ESHOWTIME_NOT_FOUND, &r)) != 0)
		return rc;
	sh = booking_malloc(sizeof *sh);
	rc = sh != NULL ? showtime_from_row(&r, sh) : booking_error_oom();
	done(&r);
	if (rc != 0) {
		booking_showtime_free(sh);
		return rc;
	}
	*out = sh;
	return 0;
}

static int showtime_row(const sql_rows *r, void *cb, void *payload)
{
	booking_showtime sh;
	int rc = showtime_from_row(r, &sh);

	if (rc == 0)
		rc = ((booking_store_showtime_cb)(uintptr_t)cb)(&sh, payload);
	booking_free(sh.prices);
	return rc;
}

int sql_showtime_list(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_T(movie_id)};

	return each(st, movie_id ? SQLQ_SHOWTIME_LIST_MOVIE : SQLQ_SHOWTIME_LIST_ALL, a, movie_id ? 1 : 0,
	            showtime_row, (void *)(uintptr_t)cb, payload);
}

static void seat_from_row(const sql_rows *r, int first, booking_store_seat *seat)
{
	memset(seat, 0, sizeof *seat);
	copy(seat->label, sizeof seat->label, r, first);
	copy(seat->category, sizeof seat->category, r, first + 1);
	seat->status = (booking_seat_status)i64(r, first + 2);
	copy(seat->booking_id, sizeof seat->booking_id, r, first + 3);
	seat->hold_until = i64(r, first + 4);
	seat->version = i64(r, first + 5);
}

static int seat_row(const sql_rows *r, void *cb, void *payload)
{
	booking_store_seat seat;

	if (r->st->driver->is_null(r, 0))
		return 0; /* the showtime has no seats */
	seat_from_row(r, 0, &seat);
	return ((booking_store_seat_cb)(uintptr_t)cb)(&seat, payload);
}

int sql_seat_list(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	sql_rows r;
	int rc = get_by_id(st, SQLQ_SEAT_LIST, showtime_id, BOOKING_ESHOWTIME_NOT_FOUND, &r);

	if (rc != 0)
		return rc;
	do
		rc = seat_row(&r, (void *)(uintptr_t)cb, payload);
	while (rc == 0 && (rc = next(&r)) > 0);
	done(&r);
	return rc;
}

/* --- the ledger ------------------------------------------------------------------- */

int sql_booking_get(booking_store *st, const char *id, booking_reservation **out)
{
	sql_rows r;
	booking_reservation *b;
	int rc;

	if (out == NULL)
		return missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, SQLQ_BOOKING_GET, id, BOOKING_EBOOKING_NOT_FOUND, &r)) != 0)
		return rc;
	b = booking_malloc(sizeof *b);
	rc = b != NULL ? booking_from_row(&r, b) : booking_error_oom();
	done(&r);
	if (rc != 0) {
		booking_reservation_free(b);
		return rc;
	}
	*out = b;
	return 0;
}

static int booking_row(const sql_rows *r, void *cb, void *payload)
{
	booking_reservation b;
	int rc = booking_from_row(r, &b);

	if (rc == 0)
		rc = ((booking_store_booking_cb)(uintptr_t)cb)(&b, payload);
	booking_free(b.seats);
	return rc;
}

int sql_booking_list_by_user(booking_store *st, const char *user_id, int64_t after_created_at, const char *after_id,
                             size_t max, booking_store_booking_cb cb, void *payload)
{
	const sql_arg first[] = {SQL_T(user_id), SQL_I(clamp(max))};
	const sql_arg after[] = {SQL_T(user_id), SQL_I(after_created_at), SQL_T(after_id), SQL_I(clamp(max))};

	if (user_id == NULL)
		return missing("user_id");
	if (max == 0)
		return 0;
	if (after_id != NULL)
		return each(st, SQLQ_BOOKING_BY_USER_AFTER, after, 4, booking_row, (void *)(uintptr_t)cb, payload);
	return each(st, SQLQ_BOOKING_BY_USER, first, 2, booking_row, (void *)(uintptr_t)cb, payload);
}

int sql_booking_list_by_status(booking_store *st, booking_status status, int64_t expires_before, size_t max,
                               booking_store_booking_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(status), SQL_I(expires_before), SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_BOOKING_BY_STATUS, a, 3, booking_row, (void *)(uintptr_t)cb, payload);
}

int sql_idempotency_get(booking_store *st, const char *user_id, const char *key, booking_store_idempotency_record *out)
{
	const sql_arg a[] = {SQL_T(user_id), SQL_T(key)};
	sql_rows r;
	int rc;

	if (out == NULL || user_id == NULL || key == NULL)
		return missing("out, user_id and key");
	memset(out, 0, sizeof *out);
	if ((rc = get_one(st, SQLQ_IDEMPOTENCY_GET, a, 2, BOOKING_ENOTFOUND, "no idempotency record", &r)) != 0)
		return rc;
	copy(out->request_hash, sizeof out->request_hash, &r, 0);
	copy(out->payment_id, sizeof out->payment_id, &r, 1);
	out->completed = r.st->driver->boolean(&r, 2);
	out->replay_error = (int)i64(&r, 3);
	done(&r);
	return 0;
}

int sql_payment_get(booking_store *st, const char *id, booking_payment **out)
{
	sql_rows r;
	int rc;

	if (out == NULL)
		return missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, SQLQ_PAYMENT_GET, id, BOOKING_EPAYMENT_NOT_FOUND, &r)) != 0)
		return rc;
	*out = booking_malloc(sizeof **out);
	if (*out != NULL)
		payment_from_row(&r, *out);
	done(&r);
	return *out != NULL ? 0 : booking_error_oom();
}

static int payment_row(const sql_rows *r, void *cb, void *payload)
{
	booking_payment p;

	payment_from_row(r, &p);
	return ((booking_store_payment_cb)(uintptr_t)cb)(&p, payload);
}

int sql_payment_list_by_status(booking_store *st, booking_payment_status status, int64_t created_before, size_t max,
                               booking_store_payment_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(status), SQL_I(created_before), SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_PAYMENT_BY_STATUS, a, 3, payment_row, (void *)(uintptr_t)cb, payload);
}

int sql_payment_attempts(booking_store *st, booking_store_payment_attempts *out, const char *user_id,
                         const char *idempotency_key, const char *booking_id, booking_payment_status status,
                         int64_t since)
{
	const sql_arg a[] = {SQL_T(user_id), SQL_T(idempotency_key), SQL_T(booking_id), SQL_I(status), SQL_I(since)};
	sql_rows r;
	int rc;

	if (out == NULL || user_id == NULL || idempotency_key == NULL || booking_id == NULL)
		return missing("out, user_id, idempotency_key and booking_id");
	memset(out, 0, sizeof *out);
	if ((rc = get_one(st, SQLQ_PAYMENT_ATTEMPTS, a, 5, BOOKING_EINTERNAL, "payment attempts: no row", &r)) != 0)
		return rc;
	out->key_used = r.st->driver->boolean(&r, 0);
	out->booking_count = i64(&r, 1) > 0 ? (size_t)i64(&r, 1) : 0;
	out->user_count = i64(&r, 2) > 0 ? (size_t)i64(&r, 2) : 0;
	done(&r);
	return 0;
}

/* --- the outbox and its consumers ------------------------------------------------- */

static int event_row(const sql_rows *r, void *cb, void *payload)
{
	booking_event_record e;

	event_from_row(r, &e);
	return ((booking_store_event_cb)(uintptr_t)cb)(&e, payload);
}

int sql_outbox_unpublished(booking_store *st, size_t max, booking_store_event_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_OUTBOX_UNPUBLISHED, a, 1, event_row, (void *)(uintptr_t)cb, payload);
}

int sql_outbox_read(booking_store *st, int64_t after, size_t max, booking_store_event_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(after), SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_OUTBOX_READ, a, 2, event_row, (void *)(uintptr_t)cb, payload);
}

int sql_cursor_get(booking_store *st, const char *group, int64_t *position_out)
{
	const sql_arg a[] = {SQL_T(group)};
	sql_rows r;
	int rc;

	if (group == NULL || position_out == NULL)
		return missing("group");
	*position_out = 0;
	if ((rc = query(st, SQLQ_CURSOR_GET, a, 1, &r)) != 0)
		return rc;
	if ((rc = next(&r)) > 0)
		*position_out = i64(&r, 0);
	done(&r);
	return rc < 0 ? rc : 0;
}

/* Does `q` with `args` return a row? */
static int exists(booking_store *st, sql_qid q, const sql_arg *args, size_t n, bool *out)
{
	sql_rows r;
	int rc;

	*out = false;
	if ((rc = query(st, q, args, n, &r)) != 0)
		return rc;
	rc = next(&r);
	done(&r);
	*out = rc > 0;
	return rc < 0 ? rc : 0;
}

int sql_inbox_seen(booking_store *st, const char *group, const char *event_id, bool *seen_out)
{
	const sql_arg a[] = {SQL_T(group), SQL_T(event_id)};

	if (group == NULL || event_id == NULL || seen_out == NULL)
		return missing("group and event_id");
	return exists(st, SQLQ_INBOX_SEEN, a, 2, seen_out);
}

typedef int (*dead_letter_cb)(const char *group, const char *event_id, const char *reason, const char *envelope_json,
                              int64_t dead_at, void *payload);

static int dead_letter_row(const sql_rows *r, void *cb, void *payload)
{
	return ((dead_letter_cb)(uintptr_t)cb)(text(r, 0), text(r, 1), text(r, 2), text(r, 3), i64(r, 4), payload);
}

int sql_dead_letter_list(booking_store *st, const char *group, dead_letter_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_T(group)};

	return each(st, group ? SQLQ_DEAD_LETTERS_GROUP : SQLQ_DEAD_LETTERS_ALL, a, group ? 1 : 0, dead_letter_row,
	            (void *)(uintptr_t)cb, payload);
}

/* --- users and tokens --------------------------------------------------------------- */

static int user_get(booking_store *st, sql_qid q, const char *key, booking_user **out, char **hash_out)
{
	const sql_arg a[] = {SQL_T(key)};
	booking_user *u;
	char *hash = NULL;
	sql_rows r;
	int rc;

	if (out == NULL || key == NULL)
		return missing("user key and out");
	*out = NULL;
	if (hash_out != NULL)
		*hash_out = NULL;
	if ((rc = get_one(st, q, a, 1, BOOKING_ENOTFOUND, "user not found", &r)) != 0)
		return rc;
	u = booking_calloc(1, sizeof *u);
	if (u != NULL) {
		copy(u->id, sizeof u->id, &r, 0);
		u->email = dup_text(&r, 1);
		u->role = (booking_role)i64(&r, 2);
		u->created_at = i64(&r, 4);
		u->updated_at = i64(&r, 5);
	}
	if (hash_out != NULL)
		hash = dup_text(&r, 3);
	done(&r);
	if (u == NULL || u->email == NULL || (hash_out != NULL && hash == NULL)) {
		booking_user_free(u);
		booking_free(hash);
		return booking_error_oom();
	}
	*out = u;
	if (hash_out != NULL)
		*hash_out = hash;
	return 0;
}

int sql_user_get(booking_store *st, const char *id, booking_user **out, char **password_hash_out)
{
	return user_get(st, SQLQ_USER_GET, id, out, password_hash_out);
}

int sql_user_get_by_email(booking_store *st, const char *email, booking_user **out, char **password_hash_out)
{
	return user_get(st, SQLQ_USER_GET_BY_EMAIL, email, out, password_hash_out);
}

int sql_token_is_revoked(booking_store *st, const char *jti, int64_t now, bool *revoked_out)
{
	const sql_arg a[] = {SQL_T(jti), SQL_I(now)};

	if (jti == NULL || revoked_out == NULL)
		return missing("jti and revoked_out");
	return exists(st, SQLQ_TOKEN_IS_REVOKED, a, 2, revoked_out);
}

/* --- the integrity scan ------------------------------------------------------------- */

struct scan_arg {
	const booking_store_scan_cbs *cbs;
	void *payload;
};

/* One table's rows, to the scan's callback for it. */
static int scan_walk(sql_qid q, sql_rows *r, void *arg)
{
	const booking_store_scan_cbs *cbs = ((struct scan_arg *)arg)->cbs;
	void *payload = ((struct scan_arg *)arg)->payload;
	int rc;

	while ((rc = next(r)) > 0) {
		if (q == SQLQ_SCAN_SEATS) {
			booking_store_seat seat;

			seat_from_row(r, 1, &seat);
			rc = cbs->showtime_seat(text(r, 0), &seat, payload);
		} else if (q == SQLQ_SCAN_BOOKINGS) {
			booking_reservation b;

			if ((rc = booking_from_row(r, &b)) == 0)
				rc = cbs->booking(&b, payload);
			booking_free(b.seats);
		} else if (q == SQLQ_SCAN_PAYMENTS) {
			booking_payment p;

			payment_from_row(r, &p);
			rc = cbs->payment(&p, payload);
		} else if (q == SQLQ_SCAN_IDEMPOTENCY) {
			const booking_store_idempotency k = {text(r, 0), text(r, 1), text(r, 2),
			                                     r->st->driver->boolean(r, 3)};

			rc = cbs->idempotency(&k, payload);
		} else if (q == SQLQ_SCAN_EVENTS) {
			booking_event_record e;

			event_from_row(r, &e);
			rc = cbs->event(&e, payload);
		} else {
			const booking_store_inbox row = {text(r, 0), text(r, 1)};

			rc = cbs->inbox(&row, payload);
		}
		if (rc != 0)
			break;
	}
	return rc;
}

int sql_scan(booking_store *bst, const booking_store_scan_cbs *cbs, void *payload)
{
	sql_store *st = (sql_store *)bst;
	sql_qid qs[SQL_SNAPSHOT_MAX];
	size_t n = 0;
	struct scan_arg arg = {cbs, payload};

	if (cbs == NULL)
		return 0;
	if (cbs->showtime_seat != NULL)
		qs[n++] = SQLQ_SCAN_SEATS;
	if (cbs->booking != NULL)
		qs[n++] = SQLQ_SCAN_BOOKINGS;
	if (cbs->payment != NULL)
		qs[n++] = SQLQ_SCAN_PAYMENTS;
	if (cbs->idempotency != NULL)
		qs[n++] = SQLQ_SCAN_IDEMPOTENCY;
	if (cbs->event != NULL)
		qs[n++] = SQLQ_SCAN_EVENTS;
	if (cbs->inbox != NULL)
		qs[n++] = SQLQ_SCAN_INBOX;
	return n == 0 ? 0 : st->driver->snapshot(st, qs, n, scan_walk, &arg);
}
