/*
 * The seat picker and the orphan rule (seatpick.h has the definitions).
 *
 * The functions the core calls once per hold with the buyer's own seats
 * (booking__orphan_stranded, booking__orphan_guards) look places up by
 * scanning and allocate nothing. The others sort the seats by (row,
 * column, position) once, so that side by side seats are neighbours in
 * that order and a run of free seats is a stretch of it.
 * SPDX-License-Identifier: MIT
 */
#include "seatpick.h"

#include <booking/errors.h>
#include <booking/sys/alloc.h>

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE SIZE_MAX

/* ---- places ---------------------------------------------------------------------------------------- */

/* A seat in (row, column, position) order. */
typedef struct pick_key {
	int row, column;
	size_t pos;
} pick_key;

static int key_cmp(const void *a, const void *b)
{
	const pick_key *x = a, *y = b;
	if (x->row != y->row)
		return x->row < y->row ? -1 : 1;
	if (x->column != y->column)
		return x->column < y->column ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool column_ok(int column)
{
	return column >= 1 && column <= BOOKING__PICK_COLUMN_MAX;
}

/* How one question about a hold sees the seats: where places are, and what the hold takes. */
typedef struct view {
	const booking__pick_seat *seats;
	size_t count;
	const pick_key *keys;        /* all seats, sorted; NULL: look places up by scanning */
	const size_t *take;          /* the hold */
	size_t n;
	const unsigned char *taken;  /* by position: taken by the hold; NULL: search `take` */
} view;

/* The one seat at (row, column), or NONE (no seat there, several, or no such place). */
static size_t view_at(const view *v, int row, int column)
{
	if (!column_ok(column))
		return NONE;
	if (!v->keys) {
		size_t found = NONE;
		for (size_t p = 0; p < v->count; p++) {
			if (v->seats[p].row != row || v->seats[p].column != column)
				continue;
			if (found != NONE)
				return NONE; /* a shared place is no place */
			found = p;
		}
		return found;
	}
	size_t lo = 0, hi = v->count; /* the first key at or after (row, column) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const pick_key *k = &v->keys[mid];
		if (k->row < row || (k->row == row && k->column < column))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->count || v->keys[lo].row != row || v->keys[lo].column != column)
		return NONE;
	if (lo + 1 < v->count && v->keys[lo + 1].row == row && v->keys[lo + 1].column == column)
		return NONE;
	return v->keys[lo].pos;
}

static bool view_has_place(const view *v, size_t p)
{
	return view_at(v, v->seats[p].row, v->seats[p].column) == p;
}

static bool view_taken(const view *v, size_t p)
{
	if (v->taken)
		return v->taken[p] != 0;
	for (size_t i = 0; i < v->n; i++)
		if (v->take[i] == p)
			return true;
	return false;
}

static bool free_before(const view *v, size_t p)
{
	return p != NONE && v->seats[p].free;
}

static bool free_after(const view *v, size_t p)
{
	return free_before(v, p) && !view_taken(v, p);
}

/* Whether the hold strands seat `s` (one with a place, or NONE). */
static bool view_strands(const view *v, size_t s)
{
	if (!free_after(v, s))
		return false;
	size_t left = view_at(v, v->seats[s].row, v->seats[s].column - 1);
	size_t right = view_at(v, v->seats[s].row, v->seats[s].column + 1);
	return !free_after(v, left) && !free_after(v, right) && (free_before(v, left) || free_before(v, right));
}

/* The lowest position the hold strands, or NONE. Only a taken seat's side can be stranded. */
static size_t view_first_stranded(const view *v)
{
	size_t first = NONE;
	for (size_t i = 0; i < v->n; i++) {
		size_t t = v->take[i];
		if (t >= v->count || !view_has_place(v, t))
			continue;
		for (int d = -1; d <= 1; d += 2) {
			size_t s = view_at(v, v->seats[t].row, v->seats[t].column + d);
			if (s != NONE && s < first && view_strands(v, s))
				first = s;
		}
	}
	return first;
}

int booking__orphan_stranded(const booking__pick_seat *seats, size_t count, const size_t *take, size_t n)
{
	const view v = {seats, count, NULL, take, n, NULL};
	size_t s = view_first_stranded(&v);
	return s == NONE ? -1 : (int)s;
}

/* Put `p` into the ascending, distinct `out[0..*len)` of at most `max`, keeping the lowest. */
static void insert_lowest(size_t *out, size_t *len, size_t max, size_t p)
{
	size_t i = *len;
	while (i > 0 && out[i - 1] > p)
		i--;
	if ((i > 0 && out[i - 1] == p) || i == max)
		return;
	size_t end = *len < max ? *len : max - 1;
	memmove(out + i + 1, out + i, (end - i) * sizeof *out);
	out[i] = p;
	if (*len < max)
		(*len)++;
}

size_t booking__orphan_guards(size_t *out, size_t max, const booking__pick_seat *seats, size_t count, const size_t *take,
                              size_t n)
{
	const view v = {seats, count, NULL, take, n, NULL};
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		size_t t = take[i];
		if (t >= count || !view_has_place(&v, t))
			continue;
		for (int d = -1; d <= 1; d += 2) {
			size_t beside = view_at(&v, seats[t].row, seats[t].column + d);
			if (!free_after(&v, beside))
				continue;
			insert_lowest(out, &len, max, beside);
			size_t beyond = view_at(&v, seats[t].row, seats[t].column + 2 * d);
			if (free_after(&v, beyond))
				insert_lowest(out, &len, max, beyond);
		}
	}
	return len;
}

/* ---- the sorted seats and their runs ------------------------------------------------------------------ */

/* All seats sorted, with what the picker asks of each (indices are into `keys`). */
typedef struct picker {
	const booking__pick_seat *seats;
	size_t count;
	pick_key *keys;
	unsigned char *placed; /* keys[i] has a place */
	size_t *run_lo;        /* free keys[i]: the first key of its run */
	size_t *run_hi;        /* free keys[i]: the last key of its run */
	size_t *elig;          /* free eligible seats side by side from keys[i] on (0 when it is not one) */
	int64_t focal200;      /* the preferred row, times 200 */
	int64_t *centre2;      /* keys[i]: its row's centre, in half columns (lowest + highest column) */
} picker;

static void picker_free(picker *pk)
{
	booking_free(pk->keys);
	booking_free(pk->placed);
	booking_free(pk->run_lo);
	booking_free(pk->run_hi);
	booking_free(pk->elig);
	booking_free(pk->centre2);
}

static bool key_free(const picker *pk, size_t i)
{
	return pk->seats[pk->keys[i].pos].free;
}

static bool key_free_eligible(const picker *pk, size_t i)
{
	return pk->seats[pk->keys[i].pos].free && pk->seats[pk->keys[i].pos].eligible;
}

/* keys[i] and keys[i + 1] are side by side. */
static bool side_by_side(const picker *pk, size_t i)
{
	return pk->placed[i] && pk->placed[i + 1] && pk->keys[i].row == pk->keys[i + 1].row &&
	       pk->keys[i].column + 1 == pk->keys[i + 1].column;
}

static void *alloc_array(size_t count, size_t size)
{
	if (count > SIZE_MAX / size)
		return NULL;
	return booking_malloc(count == 0 ? 1 : count * size);
}

/* Which seats have a place, and the runs of free seats and of free eligible ones. */
static void find_runs(picker *pk)
{
	size_t count = pk->count;
	for (size_t i = 0; i < count; i++) {
		const pick_key *k = &pk->keys[i];
		bool shared = (i > 0 && k[-1].row == k->row && k[-1].column == k->column) ||
		              (i + 1 < count && k[1].row == k->row && k[1].column == k->column);
		pk->placed[i] = column_ok(k->column) && !shared;
	}
	for (size_t i = 0; i < count; i++) {
		bool on = i > 0 && key_free(pk, i) && key_free(pk, i - 1) && side_by_side(pk, i - 1);
		pk->run_lo[i] = on ? pk->run_lo[i - 1] : i;
	}
	for (size_t i = count; i-- > 0;) {
		bool on = i + 1 < count && key_free(pk, i) && key_free(pk, i + 1) && side_by_side(pk, i);
		pk->run_hi[i] = on ? pk->run_hi[i + 1] : i;
		on = on && key_free_eligible(pk, i + 1);
		pk->elig[i] = key_free_eligible(pk, i) ? 1 + (on ? pk->elig[i + 1] : 0) : 0;
	}
}

/* The focal row, and each row's centre: the middle of its columns that are places. */
static void find_rows(picker *pk, int depth_percent)
{
	size_t count = pk->count;
	if (count == 0)
		return;
	int64_t first_row = pk->keys[0].row, last_row = pk->keys[count - 1].row;
	int depth = depth_percent < 0 ? 0 : depth_percent > 100 ? 100 : depth_percent;
	pk->focal200 = 200 * first_row + 2 * (int64_t)depth * (last_row - first_row);
	size_t lo = 0;
	while (lo < count) { /* each row: keys[lo..hi) */
		size_t hi = lo + 1;
		while (hi < count && pk->keys[hi].row == pk->keys[lo].row)
			hi++;
		size_t first = lo, last = hi - 1;
		while (first < last && !column_ok(pk->keys[first].column))
			first++;
		while (last > first && !column_ok(pk->keys[last].column))
			last--;
		int64_t centre2 = (int64_t)pk->keys[first].column + pk->keys[last].column;
		for (size_t i = lo; i < hi; i++)
			pk->centre2[i] = centre2;
		lo = hi;
	}
}

/*
 * Sort the seats and find their places and runs (and, `with_rows`, the
 * focal point). 0 or BOOKING_ENOMEM (error set, nothing held).
 */
static int picker_init(picker *pk, const booking__pick_seat *seats, size_t count, bool with_rows, int depth_percent)
{
	memset(pk, 0, sizeof *pk);
	pk->seats = seats;
	pk->count = count;
	pk->keys = alloc_array(count, sizeof *pk->keys);
	pk->placed = alloc_array(count, 1);
	pk->run_lo = alloc_array(count, sizeof *pk->run_lo);
	pk->run_hi = alloc_array(count, sizeof *pk->run_hi);
	pk->elig = alloc_array(count, sizeof *pk->elig);
	pk->centre2 = with_rows ? alloc_array(count, sizeof *pk->centre2) : NULL;
	if (!pk->keys || !pk->placed || !pk->run_lo || !pk->run_hi || !pk->elig || (with_rows && !pk->centre2)) {
		picker_free(pk);
		return booking_error_oom();
	}
	bool sorted = true; /* a layout lists its seats row by row, left to right, as a rule: no sort then */
	for (size_t p = 0; p < count; p++) {
		pk->keys[p] = (pick_key){seats[p].row, seats[p].column, p};
		sorted = sorted && (p == 0 || key_cmp(&pk->keys[p - 1], &pk->keys[p]) < 0);
	}
	if (!sorted)
		qsort(pk->keys, count, sizeof *pk->keys, key_cmp);
	find_runs(pk);
	if (with_rows)
		find_rows(pk, depth_percent);
	return 0;
}

/* ---- unavoidable ------------------------------------------------------------------------------------ */

/* Whether no n free seats can be taken without stranding one: a subset sum over the runs. 1, 0 or ENOMEM. */
static int runs_unavoidable(const picker *pk, size_t n)
{
	if (n == 0)
		return 0;
	unsigned char *reach = alloc_array(n + 1, 1);
	if (!reach)
		return booking_error_oom();
	memset(reach, 0, n + 1);
	reach[0] = 1;
	int answer = 1;
	for (size_t i = 0; i < pk->count && answer; i++) {
		if (!key_free(pk, i) || pk->run_lo[i] != i)
			continue;
		size_t len = pk->run_hi[i] - i + 1;
		if (len == n || len >= n + 2) {
			answer = 0; /* the whole run, or n from one end leaving two or more */
			break;
		}
		/* k = 1..len-2 or len (len 1: k = 1); each run once: sums from high to low */
		for (size_t sum = n; sum >= 1; sum--) {
			for (size_t k = 1; k <= len && k <= sum && !reach[sum]; k++)
				if ((k + 2 <= len || k == len) && reach[sum - k])
					reach[sum] = 1;
		}
		if (reach[n])
			answer = 0;
	}
	booking_free(reach);
	return answer;
}

int booking__orphan_unavoidable(const booking__pick_seat *seats, size_t count, size_t n)
{
	if (n == 0)
		return 0;
	picker pk;
	int rc = picker_init(&pk, seats, count, false, 0);
	if (rc < 0)
		return rc;
	rc = runs_unavoidable(&pk, n);
	picker_free(&pk);
	return rc;
}

/* ---- distance --------------------------------------------------------------------------------------- */

#define DIST_CLAMP (INT64_C(1) << 25)

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t mul_sat(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static int64_t abs_clamped(int64_t x)
{
	x = x < 0 ? -x : x;
	return x > DIST_CLAMP ? DIST_CLAMP : x;
}

/*
 * The squared distance from the focal point to a place of the row of
 * keys[i], at `col2` half columns: (2 * rows)² + columns², in units of
 * 1/200 row (the focal row may fall between rows) so that it is exact.
 */
static uint64_t distance(const picker *pk, size_t i, int64_t col2)
{
	uint64_t rows = (uint64_t)abs_clamped(200 * (int64_t)pk->keys[i].row - pk->focal200);
	uint64_t cols = (uint64_t)abs_clamped(100 * (col2 - pk->centre2[i]));
	return 4 * rows * rows + cols * cols;
}

/* The distance of the block keys[i..i+k) (side by side): its centre's. */
static uint64_t block_distance(const picker *pk, size_t i, size_t k)
{
	return distance(pk, i, (int64_t)pk->keys[i].column + pk->keys[i + k - 1].column);
}

/* Whether taking the block keys[i..i+k) of a run strands a seat: one seat left at either end of it. */
static bool block_strands(const picker *pk, size_t i, size_t k)
{
	return i - pk->run_lo[i] == 1 || pk->run_hi[i] - (i + k - 1) == 1;
}

/* ---- candidates ------------------------------------------------------------------------------------- */

/* A choice of seats: one block, or two blocks (rows r and r + 1). */
typedef struct choice {
	bool found;
	uint64_t dist;
	size_t a, a_len, b, b_len; /* blocks keys[a..a+a_len) and keys[b..b+b_len) (b_len 0: none) */
} choice;

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

/* The positions of a block choice, ascending, into out[0..n). */
static void choice_positions(const picker *pk, const choice *c, size_t *out)
{
	size_t m = 0;
	for (size_t i = 0; i < c->a_len; i++)
		out[m++] = pk->keys[c->a + i].pos;
	for (size_t i = 0; i < c->b_len; i++)
		out[m++] = pk->keys[c->b + i].pos;
	qsort(out, m, sizeof *out, size_cmp);
}

/* Offer `cand` for `best`: nearer wins; at the same distance, the lower positions. */
static void offer(const picker *pk, choice *best, const choice *cand, size_t *scratch)
{
	if (best->found && cand->dist > best->dist)
		return;
	if (best->found && cand->dist == best->dist) {
		size_t n = cand->a_len + cand->b_len;
		choice_positions(pk, best, scratch);
		choice_positions(pk, cand, scratch + n);
		size_t i = 0;
		while (i < n && scratch[i] == scratch[n + i])
			i++;
		if (i == n || scratch[n + i] > scratch[i])
			return;
	}
	*best = *cand;
	best->found = true;
}

/* Tiers 1 and 2: the best block of n that strands none, and the best that strands a seat. */
static void best_blocks(const picker *pk, size_t n, choice *clean, choice *stranding, size_t *scratch)
{
	for (size_t i = 0; i < pk->count; i++) {
		if (pk->elig[i] < n)
			continue;
		choice c = {true, block_distance(pk, i, n), i, n, 0, 0};
		offer(pk, block_strands(pk, i, n) ? stranding : clean, &c, scratch);
	}
}

/* The first key of keys[lo..hi) (one row) whose column is at least `column`. */
static size_t row_lower_bound(const picker *pk, size_t lo, size_t hi, int64_t column)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pk->keys[mid].column < column)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Tier 3 for rows keys[lo..mid) and keys[mid..hi), the second one row behind the first. */
static void best_splits_in(const picker *pk, size_t n, size_t lo, size_t mid, size_t hi, choice *clean,
                           choice *stranding, size_t *scratch)
{
	for (size_t a_len = 1; a_len < n; a_len++) {
		size_t b_len = n - a_len;
		for (size_t a = lo; a < mid; a++) {
			if (pk->elig[a] < a_len || !pk->placed[a])
				continue;
			int64_t a0 = pk->keys[a].column, a1 = pk->keys[a + a_len - 1].column;
			uint64_t da = mul_sat(block_distance(pk, a, a_len), a_len);
			bool a_strands = block_strands(pk, a, a_len);
			/* blocks of the other row overlapping a0..a1: starting at a0 - b_len + 1 .. a1 */
			for (size_t b = row_lower_bound(pk, mid, hi, a0 - (int64_t)b_len + 1);
			     b < hi && pk->keys[b].column <= a1; b++) {
				if (pk->elig[b] < b_len || !pk->placed[b])
					continue;
				choice c = {true, add_sat(da, mul_sat(block_distance(pk, b, b_len), b_len)), a, a_len, b, b_len};
				offer(pk, a_strands || block_strands(pk, b, b_len) ? stranding : clean, &c, scratch);
			}
		}
	}
}

/* Tier 3: the best split over two neighbouring rows that strands none, and the best that strands. */
static void best_splits(const picker *pk, size_t n, choice *clean, choice *stranding, size_t *scratch)
{
	size_t lo = 0;
	while (lo < pk->count) {
		size_t mid = lo + 1;
		while (mid < pk->count && pk->keys[mid].row == pk->keys[lo].row)
			mid++;
		if (mid == pk->count || pk->keys[lo].row == INT_MAX || pk->keys[mid].row != pk->keys[lo].row + 1) {
			lo = mid;
			continue;
		}
		size_t hi = mid + 1;
		while (hi < pk->count && pk->keys[hi].row == pk->keys[mid].row)
			hi++;
		best_splits_in(pk, n, lo, mid, hi, clean, stranding, scratch); /* each split a + b, so both ways round */
		lo = mid;
	}
}

/* ---- tier 4: scattered seats ---------------------------------------------------------------------- */

/* A free eligible seat by its distance. */
typedef struct ranked {
	uint64_t dist;
	size_t pos;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

enum { ST_TAKEN = 0, ST_ONE = 1, ST_MORE = 2 }; /* last seat taken (or run start), one left so far, two or more */
#define ST_COUNT 3
#define BACK_TOOK 4 /* a step's record: the state it came from, | BACK_TOOK when it took the seat */

/*
 * One free seat of the walk of scattered_clean(): from each (taken, state)
 * of `cur`, skip the seat or (`can_take`) take it at distance `d`, into
 * `next`; `back` records each new state's step. `starts`: the seat begins
 * a run, so the previous one ended, where one seat left over is fine only
 * in a run of one seat (`prev_len` 1).
 */
static void walk_seat(size_t n, const uint64_t *cur, uint64_t *next, unsigned char *back, bool starts, size_t prev_len,
                      bool can_take, uint64_t d)
{
	size_t width = (n + 1) * ST_COUNT;
	for (size_t k = 0; k < width; k++)
		next[k] = UINT64_MAX;
	memset(back, 0xff, width);
	for (size_t c = 0; c <= n; c++) {
		for (int st = 0; st < ST_COUNT; st++) {
			uint64_t at = cur[c * ST_COUNT + (size_t)st];
			if (at == UINT64_MAX || (starts && st == ST_ONE && prev_len != 1))
				continue;
			int from = starts ? ST_TAKEN : st;
			size_t k = c * ST_COUNT + (size_t)(from == ST_TAKEN ? ST_ONE : ST_MORE);
			if (at < next[k]) {
				next[k] = at;
				back[k] = (unsigned char)st;
			}
			if (!can_take || c == n || from == ST_ONE)
				continue; /* taking the seat after one left over would leave that one alone */
			k = (c + 1) * ST_COUNT + ST_TAKEN;
			if (add_sat(at, d) < next[k]) {
				next[k] = add_sat(at, d);
				back[k] = (unsigned char)(st | BACK_TOOK);
			}
		}
	}
}

/*
 * The nearest n free eligible seats that strand none, into out (positions,
 * any order): a walk over the free seats in key order, run by run, keeping
 * per (seats taken, state) the least total distance. A seat left over
 * alone in a run of two or more is the one thing that may not happen.
 * 1 found, 0 none, BOOKING_ENOMEM.
 */
static int scattered_clean(const picker *pk, size_t n, size_t *out)
{
	size_t nf = 0, width = (n + 1) * ST_COUNT;
	for (size_t i = 0; i < pk->count; i++)
		nf += key_free(pk, i);
	unsigned char *back = alloc_array(nf, width);
	size_t *fkey = alloc_array(nf, sizeof *fkey);
	uint64_t *cost = alloc_array(2 * width, sizeof *cost);
	if (!back || !fkey || !cost) {
		booking_free(back);
		booking_free(fkey);
		booking_free(cost);
		return booking_error_oom();
	}
	uint64_t *cur = cost, *next = cost + width;
	for (size_t k = 0; k < width; k++)
		cur[k] = UINT64_MAX;
	cur[ST_TAKEN] = 0; /* nothing taken, before any run */
	size_t f = 0, len = 1;
	for (size_t i = 0; i < pk->count; i++) {
		if (!key_free(pk, i))
			continue;
		bool can_take = pk->seats[pk->keys[i].pos].eligible;
		uint64_t d = can_take ? distance(pk, i, 2 * (int64_t)pk->keys[i].column) : 0;
		walk_seat(n, cur, next, back + f * width, pk->run_lo[i] == i, len, can_take, d);
		uint64_t *t = cur;
		cur = next;
		next = t;
		len = pk->run_hi[i] - pk->run_lo[i] + 1;
		fkey[f++] = i;
	}
	int best = -1; /* the end state of the last run: as at a run's start */
	for (int st = 0; st < ST_COUNT; st++) {
		uint64_t at = cur[n * ST_COUNT + (size_t)st];
		if (at != UINT64_MAX && !(st == ST_ONE && len != 1) && (best < 0 || at < cur[n * ST_COUNT + (size_t)best]))
			best = st;
	}
	int found = best >= 0;
	for (size_t c = n, m = 0; found && f-- > 0;) {
		unsigned char step = back[f * width + c * ST_COUNT + (size_t)best];
		if (step & BACK_TOOK) {
			out[m++] = pk->keys[fkey[f]].pos;
			c--;
		}
		best = step & ~BACK_TOOK;
	}
	booking_free(back);
	booking_free(fkey);
	booking_free(cost);
	return found;
}

/* ---- the picker --------------------------------------------------------------------------------------- */

typedef struct pick_run {
	picker pk;
	size_t n;
	booking__orphan_policy policy;
	int allowed; /* -1: not yet known; 0, 1: whether stranding is allowed */
	size_t *scratch;
} pick_run;

/* Whether a choice that strands a seat may be made. 1, 0 or BOOKING_ENOMEM. */
static int stranding_allowed(pick_run *r)
{
	if (r->allowed < 0) {
		if (r->policy == BOOKING__ORPHANS_AVOID)
			r->allowed = runs_unavoidable(&r->pk, r->n);
		else
			r->allowed = r->policy == BOOKING__ORPHANS_OFF; /* an unknown policy refuses */
	}
	return r->allowed;
}

/* The choice that strands none, else the one that strands when that is allowed. 1 chosen, 0 none, BOOKING_ENOMEM. */
static int choose(pick_run *r, const choice *clean, const choice *stranding, choice *out)
{
	if (clean->found) {
		*out = *clean;
		return 1;
	}
	if (!stranding->found)
		return 0;
	int allowed = stranding_allowed(r);
	if (allowed > 0)
		*out = *stranding;
	return allowed;
}

/* Tiers 1 and 2 (a block), then 3 (a split): the chosen blocks into *out. 1 found, 0 none, BOOKING_ENOMEM. */
static int pick_blocks(pick_run *r, choice *out)
{
	choice clean = {0}, stranding = {0};
	best_blocks(&r->pk, r->n, &clean, &stranding, r->scratch);
	int rc = choose(r, &clean, &stranding, out);
	if (rc != 0 || r->n < 2)
		return rc;
	choice split_clean = {0}, split_stranding = {0};
	best_splits(&r->pk, r->n, &split_clean, &split_stranding, r->scratch);
	return choose(r, &split_clean, &split_stranding, out);
}

/* Tier 4 into out (positions). 1 found, 0 none (only by stranding, not allowed), BOOKING_ENOMEM. */
static int pick_scattered(pick_run *r, size_t *out)
{
	const picker *pk = &r->pk;
	size_t m = 0;
	for (size_t i = 0; i < pk->count; i++)
		m += key_free_eligible(pk, i);
	ranked *rank = alloc_array(m, sizeof *rank);
	unsigned char *taken = alloc_array(pk->count, 1);
	if (!rank || !taken) {
		booking_free(rank);
		booking_free(taken);
		return booking_error_oom();
	}
	m = 0;
	for (size_t i = 0; i < pk->count; i++)
		if (key_free_eligible(pk, i))
			rank[m++] = (ranked){distance(pk, i, 2 * (int64_t)pk->keys[i].column), pk->keys[i].pos};
	qsort(rank, m, sizeof *rank, ranked_cmp);
	memset(taken, 0, pk->count);
	for (size_t i = 0; i < r->n; i++) {
		out[i] = rank[i].pos;
		taken[out[i]] = 1;
	}
	const view v = {pk->seats, pk->count, pk->keys, out, r->n, taken};
	int rc = 1; /* the n nearest seats, when they strand none */
	if (view_first_stranded(&v) != NONE) {
		rc = scattered_clean(pk, r->n, r->scratch);
		if (rc > 0)
			memcpy(out, r->scratch, r->n * sizeof *out);
		else if (rc == 0 && (rc = stranding_allowed(r)) > 0)
			for (size_t i = 0; i < r->n; i++)
				out[i] = rank[i].pos;
	}
	booking_free(rank);
	booking_free(taken);
	return rc;
}

int booking__pick_best(size_t *take_out, size_t n, const booking__pick_seat *seats, size_t count,
                       const booking__pick_prefs *prefs)
{
	if (n == 0)
		return 0;
	size_t available = 0;
	for (size_t p = 0; p < count; p++)
		available += seats[p].free && seats[p].eligible;
	if (available < n)
		return BOOKING__PICK_SHORT;
	pick_run r = {.n = n, .policy = prefs ? prefs->orphans : BOOKING__ORPHANS_OFF, .allowed = -1};
	int rc = picker_init(&r.pk, seats, count, true, prefs ? prefs->depth_percent : 50);
	if (rc < 0)
		return rc;
	size_t *chosen = alloc_array(n, sizeof *chosen);
	r.scratch = alloc_array(n, 2 * sizeof *r.scratch);
	if (!chosen || !r.scratch) {
		rc = booking_error_oom();
	} else {
		choice c = {0};
		rc = pick_blocks(&r, &c);
		if (rc > 0)
			choice_positions(&r.pk, &c, chosen);
		else if (rc == 0)
			rc = pick_scattered(&r, chosen);
		if (rc > 0) {
			qsort(chosen, n, sizeof *chosen, size_cmp);
			memcpy(take_out, chosen, n * sizeof *take_out);
			rc = 0;
		} else if (rc == 0) {
			rc = BOOKING__PICK_STRANDS;
		}
	}
	booking_free(chosen);
	booking_free(r.scratch);
	picker_free(&r.pk);
	return rc;
}
