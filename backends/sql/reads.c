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

int sql_missing(const char *what)
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

/* --- JSON arrays (a reservation's seats, a screen's, a showtime's prices) -------- */

static const char *skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
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
		unsigned long ch = (unsigned char)*p; /* raw bytes, UTF-8 included, as they are */
		char hex[5] = {0};

		if (ch == '\0')
			return NULL;
		if (ch == '\\' && *++p == 'u') {
			memcpy(hex, p + 1, strnlen(p + 1, 4));
			ch = strtoul(hex, &end, 16);
			if (end != hex + 4 || ch >= 0x80) /* both databases escape control characters only */
				return NULL;
			p += 4;
		} else if (ch == '\\') {
			if (*p == '\0' || (esc = strchr(from, *p)) == NULL)
				return NULL;
			ch = (unsigned char)to[esc - from];
		}
		if (dst != NULL && n + 1 < size)
			dst[n++] = (char)ch;
	}
	if (dst != NULL && size > 0)
		dst[n] = '\0';
	return p + 1;
}

int sql_json_items(const sql_rows *r, int col, void ***items, size_t *count, size_t record_size, size_t off,
                   size_t size)
{
	const char *json = text(r, col);

	for (bool fill = *items != NULL;; fill = true) { /* counts, allocates, then fills */
		const char *p = skip_space(json);
		size_t n = 0;
		int64_t num = 0;

		if (*p++ != '[')
			return booking_error_set(BOOKING_EINTERNAL, NULL, "store: not a JSON array: %.40s", json);
		for (p = skip_space(p); p != NULL && *p != ']'; n++) {
			char *item = fill && n < *count ? (char *)(*items)[n] + off : NULL;

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
		int rc = booking_record_array_new(items, n, record_size);
		if (rc < 0)
			return rc;
		*count = n;
	}
}

/*
 * --- records: each from its statement's columns (the reservations' of
 * SQL_BOOKINGS, SQL_PAYMENT_COLUMNS, SQL_EVENT_COLUMNS, a seat's of
 * SQL_SEAT_COLUMNS), one descriptor a column, in order from `first`; the
 * JSON array columns after them filled by `arrays` (allocated, NULL when
 * empty). A listed record's strings are borrowed from the row, a record
 * a get answers owns copies.
 */

/* A column's place in the record: kind 'c' a char array (copied), 's' a char * (borrowed or copied), 'i' an int or int64_t, 'b' a bool, 0 none. */
typedef struct col {
	size_t off, size;
	char kind;
} col;

typedef void (*sql_fn)(void);

typedef struct rec_type {
	size_t size;
	int first;
	const col *cols;
	size_t ncols;
	int (*arrays)(const sql_rows *r, void *rec); /* optional */
	size_t items;                                /* the offset of the array `arrays` allocates */
	/* a list's callback `cb` (the member's type) with the record */
	int (*call)(sql_fn cb, const sql_rows *r, const void *rec, void *payload);
} rec_type;

#define COL(type, member, kind) {offsetof(type, member), sizeof(((type *)0)->member), kind}
#define SKIP {0, 0, 0}
#define COLS(cols) (cols), sizeof(cols) / sizeof((cols)[0])
#define CALL(name, cb_type)                                                                                    \
	static int name(sql_fn cb, const sql_rows *r, const void *rec, void *payload)                          \
	{                                                                                                      \
		(void)r;                                                                                       \
		return ((cb_type)cb)(rec, payload);                                                            \
	}

static int from_row(const sql_rows *r, const rec_type *t, void *rec, bool dup)
{
	int rc = 0;

	memset(rec, 0, t->size);
	for (size_t i = 0; i < t->ncols; i++) {
		char *f = (char *)rec + t->cols[i].off;
		const int c = t->first + (int)i;
		const char kind = t->cols[i].kind;

		if (kind == 'c') {
			copy(f, t->cols[i].size, r, c);
		} else if (kind == 's') {
			const char *s = dup ? dup_text(r, c) : text(r, c);

			memcpy(f, &s, sizeof s);
			rc = s == NULL ? BOOKING_ENOMEM : rc;
		} else if (kind == 'b') {
			const bool v = i64(r, c) != 0;

			memcpy(f, &v, sizeof v);
		} else if (kind == 'i' && t->cols[i].size == sizeof(int)) {
			const int v = (int)i64(r, c);

			memcpy(f, &v, sizeof v);
		} else if (kind == 'i') {
			const int64_t v = i64(r, c);

			memcpy(f, &v, sizeof v);
		}
	}
	if (rc == 0 && t->arrays != NULL)
		rc = t->arrays(r, rec);
	return rc;
}

/* Free what from_row() allocated: the array, and the strings when they are copies (dup). */
static void release(const rec_type *t, void *rec, bool dup)
{
	void *p;

	for (size_t i = 0; dup && i < t->ncols; i++) {
		if (t->cols[i].kind == 's') {
			memcpy(&p, (char *)rec + t->cols[i].off, sizeof p);
			booking_free(p);
		}
	}
	if (t->arrays != NULL) {
		memcpy(&p, (char *)rec + t->items, sizeof p);
		booking_free(p);
	}
}

/* The labels (column 4), categories (5) and columns (6: maybe fewer, the rest stay 0), in the same order. */
static int screen_seats(const sql_rows *r, void *rec)
{
	booking_screen *sc = rec;
	void **seats = NULL, **columns = NULL;
	size_t ncolumns = 0;
	int rc = sql_json_items(r, 4, &seats, &sc->seat_count, sizeof(booking_seat), 0, sizeof sc->seats[0]->label);

	sc->seats = (booking_seat **)seats;
	if (rc == 0 && seats != NULL)
		rc = sql_json_items(r, 5, &seats, &sc->seat_count, sizeof(booking_seat), offsetof(booking_seat, category),
		                    sizeof sc->seats[0]->category);
	if (rc == 0 && seats != NULL)
		rc = sql_json_items(r, 6, &columns, &ncolumns, sizeof(int64_t), 0, 0);
	for (size_t i = 0; rc == 0 && columns != NULL && i < ncolumns && i < sc->seat_count; i++)
		sc->seats[i]->column = (int)*(const int64_t *)columns[i];
	booking_free(columns);
	return rc;
}

static int showtime_prices(const sql_rows *r, void *rec)
{
	booking_showtime *sh = rec;
	void **prices = NULL;
	int rc = sql_json_items(r, 7, &prices, &sh->price_count, sizeof(booking_price), offsetof(booking_price, category),
	                        sizeof sh->prices[0]->category);

	if (rc == 0 && prices != NULL)
		rc = sql_json_items(r, 8, &prices, &sh->price_count, sizeof(booking_price), offsetof(booking_price, amount), 0);
	sh->prices = (booking_price **)prices;
	return rc;
}

/* The labels (column 5) and their layout positions (column 6, in the same order). */
static int booking_seats(const sql_rows *r, void *rec)
{
	booking_reservation *b = rec;
	void **seats = NULL, **positions = NULL;
	size_t npositions = 0;
	int rc = sql_json_items(r, 5, &seats, &b->seat_count, sizeof(booking_seat_ref), 0, sizeof b->seats[0]->label);

	b->seats = (booking_seat_ref **)seats;
	if (rc == 0)
		rc = sql_json_items(r, 6, &positions, &npositions, sizeof(int64_t), 0, 0);
	for (size_t i = 0; rc == 0 && positions != NULL && b->seats != NULL && i < npositions && i < b->seat_count; i++)
		b->seats[i]->position = (int)*(const int64_t *)positions[i];
	booking_free(positions);
	return rc;
}

/* A dead letter, as its callback takes it. */
typedef struct dead_letter {
	const char *group, *event_id, *reason, *envelope_json;
	int64_t dead_at;
} dead_letter;

typedef int (*dead_letter_cb)(const char *group, const char *event_id, const char *reason, const char *envelope_json,
                              int64_t dead_at, void *payload);
typedef int (*idempotency_cb)(const booking_store_idempotency *rec, void *payload);
typedef int (*inbox_cb)(const booking_store_inbox *row, void *payload);

CALL(movie_call, booking_store_movie_cb)
CALL(theater_call, booking_store_theater_cb)
CALL(showtime_call, booking_store_showtime_cb)
CALL(seat_call, booking_store_seat_cb)
CALL(booking_call, booking_store_reservation_cb)
CALL(payment_call, booking_store_payment_cb)
CALL(event_call, booking_store_event_cb)
CALL(idempotency_call, idempotency_cb)
CALL(inbox_call, inbox_cb)

static int seat_scan_call(sql_fn cb, const sql_rows *r, const void *rec, void *payload)
{
	return ((int (*)(const char *, const booking_store_seat *, void *))cb)(text(r, 0), rec, payload);
}

static int kv_call(sql_fn cb, const sql_rows *r, const void *rec, void *payload)
{
	return ((booking_store_kv_cb)cb)(text(r, 0), rec, payload);
}

static int dead_letter_call(sql_fn cb, const sql_rows *r, const void *rec, void *payload)
{
	const dead_letter *d = rec;

	(void)r;
	return ((dead_letter_cb)cb)(d->group, d->event_id, d->reason, d->envelope_json, d->dead_at, payload);
}

#define MOVIE(m, kind) COL(booking_movie, m, kind)
#define THEATER(m, kind) COL(booking_theater, m, kind)
#define SCREEN(m, kind) COL(booking_screen, m, kind)
#define SHOWTIME(m, kind) COL(booking_showtime, m, kind)
#define SEAT(m, kind) COL(booking_store_seat, m, kind)
#define BOOKING(m, kind) COL(booking_reservation, m, kind)
#define PAYMENT(m, kind) COL(booking_payment, m, kind)
#define EVENT(m, kind) COL(booking_event_record, m, kind)
static const col movie_cols[] = {MOVIE(id, 'c'), MOVIE(title, 's'), MOVIE(duration_minutes, 'i'),
                                 MOVIE(created_at, 'i')};
static const col theater_cols[] = {THEATER(id, 'c'), THEATER(name, 's'), THEATER(city, 's'), THEATER(created_at, 'i')};
static const col screen_cols[] = {SCREEN(id, 'c'), SCREEN(theater_id, 'c'), SCREEN(name, 's'), SCREEN(created_at, 'i')};
static const col showtime_cols[] = {SHOWTIME(id, 'c'),        SHOWTIME(movie_id, 'c'), SHOWTIME(screen_id, 'c'),
                                    SHOWTIME(starts_at, 'i'), SHOWTIME(currency, 'c'), SHOWTIME(status, 'i'),
                                    SHOWTIME(created_at, 'i')};
static const col seat_cols[] = {SEAT(label, 'c'),          SEAT(category, 'c'),   SEAT(status, 'i'),
                                SEAT(reservation_id, 'c'), SEAT(hold_until, 'i'), SEAT(version, 'i'),
                                SEAT(note, 'c')};
static const col booking_cols[] = {BOOKING(id, 'c'),         BOOKING(user_id, 'c'),    BOOKING(showtime_id, 'c'),
                                   BOOKING(status, 'i'),     BOOKING(saga, 'i'),       SKIP, SKIP,
                                   BOOKING(total_amount, 'i'), BOOKING(currency, 'c'), BOOKING(created_at, 'i'),
                                   BOOKING(expires_at, 'i'), BOOKING(updated_at, 'i'), BOOKING(version, 'i')};
static const col payment_cols[] = {PAYMENT(id, 'c'),           PAYMENT(reservation_id, 'c'),  PAYMENT(user_id, 'c'),
                                   PAYMENT(status, 'i'),       PAYMENT(amount, 'i'),      PAYMENT(currency, 'c'),
                                   PAYMENT(card_last4, 'c'),   PAYMENT(gateway_ref, 'c'), PAYMENT(failure_code, 'c'),
                                   PAYMENT(refunded_amount, 'i'), PAYMENT(created_at, 'i'), PAYMENT(updated_at, 'i')};
static const col event_cols[] = {EVENT(id, 'c'),          EVENT(type, 's'),           EVENT(aggregate_type, 's'),
                                 EVENT(aggregate_id, 'c'), EVENT(sequence, 'i'),      EVENT(occurred_at, 'i'),
                                 EVENT(correlation_id, 's'), EVENT(traceparent, 's'), EVENT(data_json, 's'),
                                 EVENT(position, 'i'),    EVENT(published, 'b')};
static const col idempotency_cols[] = {
	COL(booking_store_idempotency, user_id, 's'), COL(booking_store_idempotency, key, 's'),
	COL(booking_store_idempotency, payment_id, 's'), COL(booking_store_idempotency, completed, 'b')};
static const col record_cols[] = {
	COL(booking_store_idempotency_record, request_hash, 'c'), COL(booking_store_idempotency_record, payment_id, 'c'),
	COL(booking_store_idempotency_record, completed, 'b'), COL(booking_store_idempotency_record, replay_error, 'i')};
static const col inbox_cols[] = {COL(booking_store_inbox, group, 's'), COL(booking_store_inbox, event_id, 's')};
static const col dead_letter_cols[] = {COL(dead_letter, group, 's'), COL(dead_letter, event_id, 's'),
                                       COL(dead_letter, reason, 's'), COL(dead_letter, envelope_json, 's'),
                                       COL(dead_letter, dead_at, 'i')};
static const col kv_cols[] = {COL(booking_store_kv_record, value, 's'), COL(booking_store_kv_record, version, 'i'),
                              COL(booking_store_kv_record, rank, 'i'), COL(booking_store_kv_record, expires_at, 'i')};
static const col user_cols[] = {COL(booking_user, id, 'c'), COL(booking_user, email, 's'),
                                COL(booking_user, role, 'i'), SKIP, COL(booking_user, created_at, 'i'),
                                COL(booking_user, updated_at, 'i')};

static const rec_type movie_t = {sizeof(booking_movie), 0, COLS(movie_cols), NULL, 0, movie_call};
static const rec_type theater_t = {sizeof(booking_theater), 0, COLS(theater_cols), NULL, 0, theater_call};
static const rec_type screen_t = {sizeof(booking_screen), 0, COLS(screen_cols), screen_seats,
                                  offsetof(booking_screen, seats), NULL};
static const rec_type showtime_t = {sizeof(booking_showtime), 0, COLS(showtime_cols), showtime_prices,
                                    offsetof(booking_showtime, prices), showtime_call};
static const rec_type seat_t = {sizeof(booking_store_seat), 0, COLS(seat_cols), NULL, 0, seat_call};
static const rec_type seat_scan_t = {sizeof(booking_store_seat), 1, COLS(seat_cols), NULL, 0, seat_scan_call};
static const rec_type booking_t = {sizeof(booking_reservation), 0, COLS(booking_cols), booking_seats,
                                   offsetof(booking_reservation, seats), booking_call};
static const rec_type payment_t = {sizeof(booking_payment), 0, COLS(payment_cols), NULL, 0, payment_call};
static const rec_type event_t = {sizeof(booking_event_record), 0, COLS(event_cols), NULL, 0, event_call};
static const rec_type idempotency_t = {sizeof(booking_store_idempotency), 0, COLS(idempotency_cols), NULL, 0,
                                       idempotency_call};
static const rec_type record_t = {sizeof(booking_store_idempotency_record), 0, COLS(record_cols), NULL, 0, NULL};
static const rec_type inbox_t = {sizeof(booking_store_inbox), 0, COLS(inbox_cols), NULL, 0, inbox_call};
static const rec_type dead_letter_t = {sizeof(dead_letter), 0, COLS(dead_letter_cols), NULL, 0, dead_letter_call};
static const rec_type kv_t = {sizeof(booking_store_kv_record), 1, COLS(kv_cols), NULL, 0, kv_call};
static const rec_type user_t = {sizeof(booking_user), 0, COLS(user_cols), NULL, 0, NULL};

/* Room for any listed record. */
typedef union any_record {
	booking_movie movie;
	booking_theater theater;
	booking_showtime showtime;
	booking_store_seat seat;
	booking_reservation reservation;
	booking_payment payment;
	booking_event_record event;
	booking_store_idempotency idempotency;
	booking_store_inbox inbox;
	dead_letter dead;
	booking_store_kv_record kv;
} any_record;

/* Each further row as a record of `t`, to `cb`; the first non-zero answer stops. */
static int walk(sql_rows *r, const rec_type *t, sql_fn cb, void *payload)
{
	any_record rec;
	int rc;

	while ((rc = next(r)) > 0) {
		if ((rc = from_row(r, t, &rec, false)) == 0)
			rc = t->call(cb, r, &rec, payload);
		release(t, &rec, false);
		if (rc != 0)
			break;
	}
	return rc;
}

/* Run `q` and walk its rows, then done(). */
static int each(booking_store *bst, sql_qid q, const sql_arg *args, size_t n, const rec_type *t, sql_fn cb,
                void *payload)
{
	sql_rows rows;
	int rc = query(bst, q, args, n, &rows);

	if (rc != 0)
		return rc;
	rc = walk(&rows, t, cb, payload);
	done(&rows);
	return rc;
}

/* The record of `t` with this id, owning its strings and array, freed as the core frees it (booking_*_free). */
static int get(booking_store *st, sql_qid q, const char *id, int not_found, const rec_type *t, void **out)
{
	void *rec;
	sql_rows r;
	int rc;

	if (out == NULL)
		return sql_missing("out");
	*out = NULL;
	if ((rc = get_by_id(st, q, id, not_found, &r)) != 0)
		return rc;
	rec = booking_malloc(t->size);
	rc = rec != NULL ? from_row(&r, t, rec, true) : booking_error_oom();
	done(&r);
	if (rc != 0 && rec != NULL)
		release(t, rec, true);
	if (rc != 0) {
		booking_free(rec);
		return rc;
	}
	*out = rec;
	return 0;
}

/* --- the catalog ------------------------------------------------------------------ */

int sql_movie_get(booking_movie **out, booking_store *st, const char *id)
{
	return get(st, SQLQ_MOVIE_GET, id, BOOKING_EMOVIE_NOT_FOUND, &movie_t, (void **)out);
}

int sql_movie_list(booking_store *st, booking_store_movie_cb cb, void *payload)
{
	return each(st, SQLQ_MOVIE_LIST, NULL, 0, &movie_t, (sql_fn)cb, payload);
}

int sql_theater_get(booking_theater **out, booking_store *st, const char *id)
{
	return get(st, SQLQ_THEATER_GET, id, BOOKING_ETHEATER_NOT_FOUND, &theater_t, (void **)out);
}

int sql_theater_list(booking_store *st, booking_store_theater_cb cb, void *payload)
{
	return each(st, SQLQ_THEATER_LIST, NULL, 0, &theater_t, (sql_fn)cb, payload);
}

int sql_screen_get(booking_screen **out, booking_store *st, const char *id)
{
	return get(st, SQLQ_SCREEN_GET, id, BOOKING_ESCREEN_NOT_FOUND, &screen_t, (void **)out);
}

int sql_showtime_get(booking_showtime **out, booking_store *st, const char *id)
{
	return get(st, SQLQ_SHOWTIME_GET, id, BOOKING_ESHOWTIME_NOT_FOUND, &showtime_t, (void **)out);
}

int sql_showtime_list(booking_store *st, const char *movie_id, booking_store_showtime_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_T(movie_id)};

	return each(st, movie_id ? SQLQ_SHOWTIME_LIST_MOVIE : SQLQ_SHOWTIME_LIST_ALL, a, movie_id ? 1 : 0,
	            &showtime_t, (sql_fn)cb, payload);
}

/* A seat row and its position (SEAT_LIST's last column). */
typedef struct placed_seat {
	booking_store_seat seat;
	int64_t position;
} placed_seat;

static int cmp_position(const void *a, const void *b)
{
	const int64_t x = ((const placed_seat *)a)->position, y = ((const placed_seat *)b)->position;

	return x < y ? -1 : x > y;
}

/*
 * order[i]: the row at position least + i, when the positions are n
 * consecutive numbers (as a showtime's are): n steps, not a sort. NULL
 * when they are not (or no memory: the caller sorts).
 */
static size_t *place_by_position(const placed_seat *rows, size_t n)
{
	int64_t least = rows[0].position;
	size_t *order;

	for (size_t i = 1; i < n; i++)
		least = rows[i].position < least ? rows[i].position : least;
	if ((order = booking_malloc(n * sizeof *order)) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		order[i] = SIZE_MAX;
	for (size_t i = 0; i < n; i++) {
		const uint64_t at = (uint64_t)(rows[i].position - least);

		if (at >= n || order[at] != SIZE_MAX) {
			booking_free(order);
			return NULL;
		}
		order[at] = i;
	}
	return order;
}

/*
 * A showtime's seats in position order (the layout's), whatever order the
 * store read them in (D(SEAT_ORDER)): the rows are kept, then sorted by
 * position unless they came in order, then handed on.
 */
int sql_seat_list(booking_store *st, const char *showtime_id, booking_store_seat_cb cb, void *payload)
{
	const int position = 7; /* after the seat's columns */
	placed_seat *rows = NULL;
	size_t n = 0, cap = 0;
	bool sorted = true;
	sql_rows r;
	int rc = get_by_id(st, SQLQ_SEAT_LIST, showtime_id, BOOKING_ESHOWTIME_NOT_FOUND, &r);

	if (rc != 0)
		return rc;
	if (text(&r, 0)[0] == '\0') { /* a NULL label (never empty): the showtime has no seats */
		done(&r);
		return 0;
	}
	do {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			placed_seat *more = booking_realloc(rows, ncap * sizeof *rows);

			if (more == NULL) {
				rc = booking_error_oom();
				break;
			}
			rows = more;
			cap = ncap;
		}
		from_row(&r, &seat_t, &rows[n].seat, false);
		rows[n].position = i64(&r, position);
		sorted = sorted && (n == 0 || rows[n - 1].position < rows[n].position);
		n++;
	} while ((rc = next(&r)) > 0);
	done(&r);
	size_t *order = rc == 0 && !sorted ? place_by_position(rows, n) : NULL;
	if (rc == 0 && !sorted && order == NULL)
		qsort(rows, n, sizeof *rows, cmp_position); /* positions not 0..n-1 from their least */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cb(&rows[order ? order[i] : i].seat, payload);
	booking_free(order);
	booking_free(rows);
	return rc;
}

/* The seat rows of a showtime whose status is not `except`, in any order (SEAT_STATES): kept, then handed on. */
int sql_seat_states(booking_store *st, const char *showtime_id, booking_seat_status except,
                    booking_store_seat_state_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_T(showtime_id), SQL_I((int64_t)except)};
	booking_store_seat_state *rows = NULL;
	size_t n = 0, cap = 0;
	sql_rows r;
	int rc;

	if (showtime_id == NULL)
		return 0;
	if ((rc = query(st, SQLQ_SEAT_STATES, a, 2, &r)) != 0)
		return rc;
	while ((rc = next(&r)) > 0) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			booking_store_seat_state *more = booking_realloc(rows, ncap * sizeof *rows);

			if (more == NULL) {
				rc = booking_error_oom();
				break;
			}
			rows = more;
			cap = ncap;
		}
		booking_store_seat_state *s = &rows[n++];
		copy(s->label, sizeof s->label, &r, 0);
		s->status = (booking_seat_status)i64(&r, 1);
		copy(s->reservation_id, sizeof s->reservation_id, &r, 2);
		s->hold_until = i64(&r, 3);
		copy(s->note, sizeof s->note, &r, 4);
	}
	done(&r);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = cb(&rows[i], payload);
	booking_free(rows);
	return rc;
}

/* --- the ledger ------------------------------------------------------------------- */

int sql_reservation_get(booking_reservation **out, booking_store *st, const char *id)
{
	return get(st, SQLQ_BOOKING_GET, id, BOOKING_ERESERVATION_NOT_FOUND, &booking_t, (void **)out);
}

int sql_reservation_list_by_user(booking_store *st, const char *user_id, int64_t after_created_at, const char *after_id,
                             size_t max, booking_store_reservation_cb cb, void *payload)
{
	const sql_arg first[] = {SQL_T(user_id), SQL_I(clamp(max))};
	const sql_arg after[] = {SQL_T(user_id), SQL_I(after_created_at), SQL_T(after_id), SQL_I(clamp(max))};

	if (user_id == NULL)
		return sql_missing("user_id");
	if (max == 0)
		return 0;
	if (after_id != NULL)
		return each(st, SQLQ_BOOKING_BY_USER_AFTER, after, 4, &booking_t, (sql_fn)cb, payload);
	return each(st, SQLQ_BOOKING_BY_USER, first, 2, &booking_t, (sql_fn)cb, payload);
}

int sql_reservation_list_by_status(booking_store *st, booking_reservation_status status, int64_t expires_before, size_t max,
                               booking_store_reservation_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(status), SQL_I(expires_before), SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_BOOKING_BY_STATUS, a, 3, &booking_t, (sql_fn)cb, payload);
}

int sql_reservation_list_by_showtime(booking_store *st, const char *showtime_id, booking_reservation_status status,
                                     int64_t after_created_at, const char *after_id, size_t max,
                                     booking_store_reservation_cb cb, void *payload)
{
	const sql_arg first[] = {SQL_T(showtime_id), SQL_I(status), SQL_I(clamp(max))};
	const sql_arg after[] = {SQL_T(showtime_id), SQL_I(status), SQL_I(after_created_at), SQL_T(after_id),
	                         SQL_I(clamp(max))};

	if (showtime_id == NULL)
		return sql_missing("showtime_id");
	if (max == 0)
		return 0;
	if (after_id != NULL)
		return each(st, SQLQ_BOOKING_BY_SHOWTIME_AFTER, after, 5, &booking_t, (sql_fn)cb, payload);
	return each(st, SQLQ_BOOKING_BY_SHOWTIME, first, 3, &booking_t, (sql_fn)cb, payload);
}

int sql_idempotency_get(booking_store_idempotency_record *out, booking_store *st, const char *user_id, const char *key)
{
	const sql_arg a[] = {SQL_T(user_id), SQL_T(key)};
	sql_rows r;
	int rc;

	if (out == NULL || user_id == NULL || key == NULL)
		return sql_missing("out, user_id and key");
	memset(out, 0, sizeof *out);
	if ((rc = get_one(st, SQLQ_IDEMPOTENCY_GET, a, 2, BOOKING_ENOTFOUND, "no idempotency record", &r)) != 0)
		return rc;
	from_row(&r, &record_t, out, false);
	done(&r);
	return 0;
}

int sql_payment_get(booking_payment **out, booking_store *st, const char *id)
{
	return get(st, SQLQ_PAYMENT_GET, id, BOOKING_EPAYMENT_NOT_FOUND, &payment_t, (void **)out);
}

int sql_payment_list_by_status(booking_store *st, booking_payment_status status, int64_t created_before, size_t max,
                               booking_store_payment_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(status), SQL_I(created_before), SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_PAYMENT_BY_STATUS, a, 3, &payment_t, (sql_fn)cb, payload);
}

int sql_payment_attempts(booking_store_payment_attempts *out, booking_store *st, const char *user_id,
                         const char *idempotency_key, const char *reservation_id, booking_payment_status status,
                         int64_t since)
{
	const sql_arg a[] = {SQL_T(user_id), SQL_T(idempotency_key), SQL_T(reservation_id), SQL_I(status), SQL_I(since)};
	sql_rows r;
	int rc;

	if (out == NULL || user_id == NULL || idempotency_key == NULL || reservation_id == NULL)
		return sql_missing("out, user_id, idempotency_key and booking_id");
	memset(out, 0, sizeof *out);
	if ((rc = get_one(st, SQLQ_PAYMENT_ATTEMPTS, a, 5, BOOKING_EINTERNAL, "payment attempts: no row", &r)) != 0)
		return rc;
	out->key_used = i64(&r, 0) != 0;
	out->reservation_count = i64(&r, 1) > 0 ? (size_t)i64(&r, 1) : 0;
	out->user_count = i64(&r, 2) > 0 ? (size_t)i64(&r, 2) : 0;
	done(&r);
	return 0;
}

/* --- the outbox and its consumers ------------------------------------------------- */

int sql_outbox_unpublished(booking_store *st, size_t max, booking_store_event_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_OUTBOX_UNPUBLISHED, a, 1, &event_t, (sql_fn)cb, payload);
}

int sql_outbox_read(booking_store *st, int64_t after, size_t max, booking_store_event_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_I(after), SQL_I(clamp(max))};

	if (max == 0)
		return 0;
	return each(st, SQLQ_OUTBOX_READ, a, 2, &event_t, (sql_fn)cb, payload);
}

int sql_first(booking_store *st, sql_qid q, const sql_arg *args, size_t n, bool *found, int64_t *value)
{
	sql_rows r;
	int rc;

	*found = false;
	if ((rc = query(st, q, args, n, &r)) != 0)
		return rc;
	if ((rc = next(&r)) > 0 && value != NULL)
		*value = i64(&r, 0);
	done(&r);
	*found = rc > 0;
	return rc < 0 ? rc : 0;
}

int sql_cursor_get(int64_t *position_out, booking_store *st, const char *group)
{
	const sql_arg a[] = {SQL_T(group)};
	bool found;

	if (group == NULL || position_out == NULL)
		return sql_missing("group");
	*position_out = 0;
	return sql_first(st, SQLQ_CURSOR_GET, a, 1, &found, position_out);
}

int sql_inbox_seen(bool *seen_out, booking_store *st, const char *group, const char *event_id)
{
	const sql_arg a[] = {SQL_T(group), SQL_T(event_id)};

	if (group == NULL || event_id == NULL || seen_out == NULL)
		return sql_missing("group and event_id");
	return sql_first(st, SQLQ_INBOX_SEEN, a, 2, seen_out, NULL);
}

int sql_dead_letter_list(booking_store *st, const char *group, dead_letter_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_T(group)};

	return each(st, group ? SQLQ_DEAD_LETTERS_GROUP : SQLQ_DEAD_LETTERS_ALL, a, group ? 1 : 0, &dead_letter_t,
	            (sql_fn)cb, payload);
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
		return sql_missing("user key and out");
	*out = NULL;
	if (hash_out != NULL)
		*hash_out = NULL;
	if ((rc = get_one(st, q, a, 1, BOOKING_ENOTFOUND, "user not found", &r)) != 0)
		return rc;
	u = booking_malloc(sizeof *u);
	if (u != NULL && from_row(&r, &user_t, u, true) != 0) {
		booking_user_free(u);
		u = NULL;
	}
	if (hash_out != NULL)
		hash = dup_text(&r, 3);
	done(&r);
	if (u == NULL || (hash_out != NULL && hash == NULL)) {
		booking_user_free(u);
		booking_free(hash);
		return booking_error_oom();
	}
	*out = u;
	if (hash_out != NULL)
		*hash_out = hash;
	return 0;
}

int sql_user_get(booking_user **out, char **password_hash_out, booking_store *st, const char *id)
{
	return user_get(st, SQLQ_USER_GET, id, out, password_hash_out);
}

int sql_user_get_by_email(booking_user **out, char **password_hash_out, booking_store *st, const char *email)
{
	return user_get(st, SQLQ_USER_GET_BY_EMAIL, email, out, password_hash_out);
}

int sql_token_is_revoked(bool *revoked_out, booking_store *st, const char *jti, int64_t now)
{
	const sql_arg a[] = {SQL_T(jti), SQL_I(now)};

	if (jti == NULL || revoked_out == NULL)
		return sql_missing("jti and revoked_out");
	return sql_first(st, SQLQ_TOKEN_IS_REVOKED, a, 2, revoked_out, NULL);
}

/* --- the kv group ------------------------------------------------------------------ */

int sql_kv_get(booking_store_kv_record *out, booking_store *st, const char *ns, const char *key, int64_t now)
{
	const sql_arg a[] = {SQL_T(ns), SQL_T(key), SQL_I(now)};
	sql_rows r;
	int rc;

	if (out == NULL || ns == NULL || key == NULL)
		return sql_missing("out, ns and key");
	memset(out, 0, sizeof *out);
	if ((rc = get_one(st, SQLQ_KV_GET, a, 3, BOOKING_ENOTFOUND, "no such record", &r)) != 0)
		return rc;
	if ((rc = from_row(&r, &kv_t, out, true)) != 0) {
		booking_free(out->value);
		memset(out, 0, sizeof *out);
	}
	done(&r);
	return rc;
}

int sql_kv_list(booking_store *st, const char *ns, int64_t now, size_t max, booking_store_kv_cb cb, void *payload)
{
	const sql_arg a[] = {SQL_T(ns), SQL_I(now), SQL_I(clamp(max))};

	if (ns == NULL || cb == NULL)
		return sql_missing("ns and cb");
	return max == 0 ? 0 : each(st, SQLQ_KV_LIST, a, 3, &kv_t, (sql_fn)cb, payload);
}

/* --- the integrity scan ------------------------------------------------------------- */

struct scan {
	sql_qid q;
	const rec_type *t;
	sql_fn cb;
};

struct scan_arg {
	const struct scan *all;
	void *payload;
};

/* One table's rows, to the scan's callback for it. */
static int scan_walk(sql_qid q, sql_rows *r, void *arg)
{
	const struct scan_arg *a = arg;
	const struct scan *s = a->all;

	while (s->q != q)
		s++;
	return walk(r, s->t, s->cb, a->payload);
}

int sql_scan(booking_store *bst, const booking_store_scan_cbs *cbs, void *payload)
{
	sql_store *st = (sql_store *)bst;
	sql_qid qs[SQL_SNAPSHOT_MAX];
	size_t n = 0;

	if (cbs == NULL)
		return 0;
	const struct scan all[] = {
		{SQLQ_SCAN_SEATS, &seat_scan_t, (sql_fn)cbs->showtime_seat},
		{SQLQ_SCAN_BOOKINGS, &booking_t, (sql_fn)cbs->reservation},
		{SQLQ_SCAN_PAYMENTS, &payment_t, (sql_fn)cbs->payment},
		{SQLQ_SCAN_IDEMPOTENCY, &idempotency_t, (sql_fn)cbs->idempotency},
		{SQLQ_SCAN_EVENTS, &event_t, (sql_fn)cbs->event},
		{SQLQ_SCAN_INBOX, &inbox_t, (sql_fn)cbs->inbox},
	};
	const struct scan_arg arg = {all, payload};

	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i].cb != NULL)
			qs[n++] = all[i].q;
	return n == 0 ? 0 : st->driver->snapshot(st, qs, n, scan_walk, (void *)&arg);
}
