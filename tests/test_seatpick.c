/*
 * Unit tests: the seat picker and the orphan rule (src/seatpick.h, an
 * internal API: this program links the library's object of it).
 *
 * Maps are drawn row by row, the first row nearest the screen, one
 * character a column: '.' a free seat the buyer may have, 'n' a free seat
 * the buyer's filter refuses, 'x' a taken seat, ' ' no seat (an aisle or a
 * gap). Positions run row by row, left to right, as a layout's do.
 * SPDX-License-Identifier: MIT
 */
#include "fixture.h"

#include "seatpick.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#define MAX_SEATS 256

typedef struct map {
	booking__pick_seat seats[MAX_SEATS];
	size_t count;
} map;

static void map_draw(map *m, const char *const *rows, size_t nrows)
{
	m->count = 0;
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; rows[r][c]; c++) {
			char ch = rows[r][c];
			if (ch == ' ')
				continue;
			ck_assert_uint_lt(m->count, MAX_SEATS);
			m->seats[m->count++] = (booking__pick_seat){(int)r, (int)c + 1, ch == '.' || ch == 'n', ch == '.'};
		}
	}
}

#define DRAW(m, ...)                                                                                                 \
	do {                                                                                                         \
		static const char *const rows_[] = {__VA_ARGS__};                                                    \
		map_draw((m), rows_, sizeof rows_ / sizeof rows_[0]);                                                \
	} while (0)

/* The position of the seat at (row, column). */
static size_t at(const map *m, int row, int column)
{
	for (size_t p = 0; p < m->count; p++)
		if (m->seats[p].row == row && m->seats[p].column == column)
			return p;
	ck_abort_msg("no seat at row %d column %d", row, column);
	return SIZE_MAX;
}

static const booking__pick_prefs prefs_off = {50, BOOKING__ORPHANS_OFF};
static const booking__pick_prefs prefs_refuse = {50, BOOKING__ORPHANS_REFUSE};
static const booking__pick_prefs prefs_avoid = {50, BOOKING__ORPHANS_AVOID};

/* Pick n seats and check they are (row, column) pairs `want` (2 * n ints), which are in layout order. */
static void assert_pick(const map *m, size_t n, const booking__pick_prefs *prefs, const int *want)
{
	size_t got[16];
	ck_assert_uint_le(n, 16);
	int rc = booking__pick_best(got, n, m->seats, m->count, prefs);
	ck_assert_msg(rc == 0, "pick answered %d", rc);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(got[i] == at(m, want[2 * i], want[2 * i + 1]),
		              "seat %zu: got row %d column %d, expected row %d column %d", i, m->seats[got[i]].row,
		              m->seats[got[i]].column, want[2 * i], want[2 * i + 1]);
}

#define PICK(m, n, prefs, ...)                                                                                       \
	do {                                                                                                         \
		static const int want_[] = {__VA_ARGS__};                                                            \
		ck_assert_uint_eq(sizeof want_ / sizeof want_[0], 2 * (n));                                          \
		assert_pick((m), (n), (prefs), want_);                                                               \
	} while (0)

static int pick_rc(const map *m, size_t n, const booking__pick_prefs *prefs)
{
	size_t got[16];
	return booking__pick_best(got, n, m->seats, m->count, prefs);
}

/* ---- stranded ------------------------------------------------------------------------------------------ */

START_TEST(taking_a_seat_that_leaves_its_neighbour_alone_strands_it)
{
	map m;
	DRAW(&m, "....");
	size_t take[2] = {at(&m, 0, 2)};
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), (int)at(&m, 0, 1));
	take[0] = at(&m, 0, 1);
	take[1] = at(&m, 0, 2);
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), -1); /* leaves 3 and 4 together */
	take[0] = at(&m, 0, 2);
	take[1] = at(&m, 0, 3);
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), (int)at(&m, 0, 1)); /* and 4: the lowest */
	take[1] = at(&m, 0, 4);
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), (int)at(&m, 0, 1));
}
END_TEST

START_TEST(a_seat_already_alone_is_nobodys_orphan)
{
	map m;
	DRAW(&m, "x.x..");
	size_t take[2] = {at(&m, 0, 4), at(&m, 0, 5)};
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), -1); /* seat 2 was alone before */
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), (int)at(&m, 0, 5));
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take + 1, 1), (int)at(&m, 0, 4));
}
END_TEST

START_TEST(an_aisle_is_no_neighbour)
{
	map m;
	DRAW(&m, "... ...");
	size_t take[2] = {at(&m, 0, 3), at(&m, 0, 5)};
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), -1);
	take[0] = at(&m, 0, 2);
	take[1] = at(&m, 0, 3);
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), (int)at(&m, 0, 1));
	take[0] = at(&m, 0, 5);
	take[1] = at(&m, 0, 6);
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 2), (int)at(&m, 0, 7));
}
END_TEST

START_TEST(rows_do_not_touch_and_taken_seats_in_a_hold_take_nothing)
{
	map m;
	DRAW(&m, ".x.", "...");
	size_t take[1] = {at(&m, 1, 2)};
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), (int)at(&m, 1, 1));
	take[0] = at(&m, 0, 2); /* not free: was taken before, strands nothing */
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), -1);
}
END_TEST

START_TEST(seats_sharing_a_place_or_without_one_have_no_sides)
{
	map m;
	DRAW(&m, "...");
	m.seats[0].column = 2; /* two seats at column 2: that place is nobody's */
	size_t take[1] = {at(&m, 0, 3)};
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), -1);
	DRAW(&m, "...");
	m.seats[1].column = 0; /* "BOX": no place */
	take[0] = 1;
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), -1);
	take[0] = 2;
	ck_assert_int_eq(booking__orphan_stranded(m.seats, m.count, take, 1), -1);
}
END_TEST

/* ---- unavoidable ------------------------------------------------------------------------------------- */

START_TEST(stranding_is_unavoidable_only_when_every_choice_strands)
{
	map m;
	DRAW(&m, "xx...xx");
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 2), 1); /* the last 3 seats, 2 of them */
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 3), 0);
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 1), 0);
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 0), 0);
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 4), 1); /* fewer than 4 free */
	DRAW(&m, "xx...xx", "x...x");
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 2), 0); /* one from an end of each */
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 4), 0); /* 3 + 1 */
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 5), 1);
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 6), 0);
	DRAW(&m, ".... n");
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 3), 0); /* any free seat, filter or not: 2 + 1 */
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 2), 0);
	DRAW(&m, "....");
	ck_assert_int_eq(booking__orphan_unavoidable(m.seats, m.count, 3), 1);
}
END_TEST

/* ---- guards -------------------------------------------------------------------------------------------- */

START_TEST(guards_are_the_free_seats_within_two_places_of_the_hold)
{
	map m;
	DRAW(&m, "....... ..", "........");
	size_t take[2] = {at(&m, 0, 4), at(&m, 0, 9)};
	size_t out[8];
	size_t got = booking__orphan_guards(out, 8, m.seats, m.count, take, 2);
	ck_assert_uint_eq(got, 5);
	ck_assert_uint_eq(out[0], at(&m, 0, 2));
	ck_assert_uint_eq(out[1], at(&m, 0, 3));
	ck_assert_uint_eq(out[2], at(&m, 0, 5));
	ck_assert_uint_eq(out[3], at(&m, 0, 6));
	ck_assert_uint_eq(out[4], at(&m, 0, 10)); /* the aisle at 8: nothing on that side */

	DRAW(&m, ".x.x....");
	take[0] = at(&m, 0, 5);
	take[1] = at(&m, 0, 6);
	got = booking__orphan_guards(out, 8, m.seats, m.count, take, 2);
	ck_assert_uint_eq(got, 2); /* 4 is taken: nothing beyond it counts; 7 and 8 */
	ck_assert_uint_eq(out[0], at(&m, 0, 7));
	ck_assert_uint_eq(out[1], at(&m, 0, 8));

	DRAW(&m, ".........");
	take[0] = at(&m, 0, 3);
	take[1] = at(&m, 0, 7);
	got = booking__orphan_guards(out, 3, m.seats, m.count, take, 2);
	ck_assert_uint_eq(got, 3); /* the lowest 3 of 1, 2, 4, 5, 6, 8, 9 */
	ck_assert_uint_eq(out[0], at(&m, 0, 1));
	ck_assert_uint_eq(out[1], at(&m, 0, 2));
	ck_assert_uint_eq(out[2], at(&m, 0, 4));
	ck_assert_uint_eq(booking__orphan_guards(out, 0, m.seats, m.count, take, 2), 0);
	ck_assert_uint_eq(booking__orphan_guards(out, 8, m.seats, m.count, take, 2), 7); /* 5 once */
}
END_TEST

/* ---- best available ------------------------------------------------------------------------------------ */

START_TEST(best_block_is_at_the_preferred_depth_in_the_middle_of_the_row)
{
	map m;
	DRAW(&m, "..........", "..........", "..........", "..........", "..........");
	PICK(&m, 2, &prefs_refuse, 2, 5, 2, 6);
	const booking__pick_prefs front = {0, BOOKING__ORPHANS_REFUSE}, back = {100, BOOKING__ORPHANS_REFUSE};
	PICK(&m, 3, &front, 0, 4, 0, 5, 0, 6); /* 4..6 and 5..7 are as near: the lower positions */
	PICK(&m, 4, &back, 4, 4, 4, 5, 4, 6, 4, 7);
}
END_TEST

START_TEST(best_block_strands_nobody_when_another_block_does_not)
{
	map m;
	DRAW(&m, "x...x", "......"); /* row 0 is the preferred one, but 2 of its 3 would strand the third */
	const booking__pick_prefs front = {0, BOOKING__ORPHANS_OFF};
	PICK(&m, 2, &front, 1, 3, 1, 4);
	DRAW(&m, "x....x"); /* the middle two would leave a seat alone at each side */
	PICK(&m, 2, &prefs_refuse, 0, 2, 0, 3);
}
END_TEST

START_TEST(the_last_seats_of_a_row_sell_under_avoid_but_not_under_refuse)
{
	map m;
	DRAW(&m, "xxx...xxx", "xxxxxxxxx");
	PICK(&m, 2, &prefs_avoid, 0, 4, 0, 5);
	PICK(&m, 2, &prefs_off, 0, 4, 0, 5);
	ck_assert_int_eq(pick_rc(&m, 2, &prefs_refuse), BOOKING__PICK_STRANDS);
	PICK(&m, 3, &prefs_refuse, 0, 4, 0, 5, 0, 6);
	ck_assert_int_eq(pick_rc(&m, 4, &prefs_refuse), BOOKING__PICK_SHORT);
	ck_assert_int_eq(pick_rc(&m, 4, &prefs_off), BOOKING__PICK_SHORT);
}
END_TEST

START_TEST(avoid_refuses_a_stranding_choice_when_another_buyer_could_strand_none)
{
	map m;
	DRAW(&m, "...xnnnn"); /* the buyer may have 1..3 only; 5..8 could sell 2 without an orphan */
	ck_assert_int_eq(pick_rc(&m, 2, &prefs_avoid), BOOKING__PICK_STRANDS);
	ck_assert_int_eq(pick_rc(&m, 2, &prefs_refuse), BOOKING__PICK_STRANDS);
	PICK(&m, 2, &prefs_off, 0, 2, 0, 3);
	PICK(&m, 1, &prefs_refuse, 0, 3); /* one seat from the end of 1..3 strands none */
}
END_TEST

START_TEST(blocks_never_cross_an_aisle)
{
	map m;
	DRAW(&m, "... ...");
	/* every block of 2 strands a seat; the nearest: 2-3 and 5-6 are as near, the lower positions */
	PICK(&m, 2, &prefs_off, 0, 2, 0, 3);
	/* one seat from an end of each side strands none: scattered, 3 and 5, the nearest the centre (4) */
	PICK(&m, 2, &prefs_avoid, 0, 3, 0, 5);
	PICK(&m, 2, &prefs_refuse, 0, 3, 0, 5);
	DRAW(&m, "..  ..");
	PICK(&m, 4, &prefs_refuse, 0, 1, 0, 2, 0, 5, 0, 6); /* no block of 4: the four, scattered */
}
END_TEST

START_TEST(a_group_splits_over_two_neighbouring_rows_aligned)
{
	map m;
	DRAW(&m, "xx..xx", "xx..xx", "xx..xx");
	PICK(&m, 4, &prefs_refuse, 0, 3, 0, 4, 1, 3, 1, 4);
	DRAW(&m, "xxxxxx", "xx...x", "x..xxx");
	PICK(&m, 5, &prefs_refuse, 1, 3, 1, 4, 1, 5, 2, 2, 2, 3); /* 3 + 2, overlapping at column 3 */
	DRAW(&m, "..xxxx", "xxxx..");                             /* not aligned: no split, scattered */
	PICK(&m, 4, &prefs_refuse, 0, 1, 0, 2, 1, 5, 1, 6);
	DRAW(&m, "..xxxx", "xxxxxx", "xxxx.."); /* rows 0 and 2 are no neighbours */
	PICK(&m, 4, &prefs_refuse, 0, 1, 0, 2, 2, 5, 2, 6);
}
END_TEST

START_TEST(a_split_that_strands_nobody_beats_one_that_does)
{
	map m;
	DRAW(&m, "x...x", "x..x", "x..x"); /* rows 0+1 would strand a seat of row 0 (2 of its 3) */
	const booking__pick_prefs front = {0, BOOKING__ORPHANS_OFF};
	PICK(&m, 4, &front, 1, 2, 1, 3, 2, 2, 2, 3);
}
END_TEST

START_TEST(scattered_seats_strand_nobody_when_they_can)
{
	map m;
	DRAW(&m, "x.x.x.x.x", "x.x.x.x.x"); /* every free seat is alone already */
	PICK(&m, 3, &prefs_refuse, 0, 4, 0, 6, 1, 4);
	DRAW(&m, ".. ... ..");
	/* no block of 4; the nearest 4 (5, 4, 6, 2) would strand 1; the only set that strands none: 1, 2, 8, 9 */
	PICK(&m, 4, &prefs_refuse, 0, 1, 0, 2, 0, 8, 0, 9);
	PICK(&m, 4, &prefs_avoid, 0, 1, 0, 2, 0, 8, 0, 9);
	PICK(&m, 4, &prefs_off, 0, 1, 0, 2, 0, 8, 0, 9); /* OFF too: a set that strands none comes first */
}
END_TEST

START_TEST(only_eligible_seats_are_chosen)
{
	map m;
	DRAW(&m, "nn..nn", "nnnnnn");
	PICK(&m, 2, &prefs_refuse, 0, 3, 0, 4);
	ck_assert_int_eq(pick_rc(&m, 3, &prefs_off), BOOKING__PICK_SHORT);
	size_t out[1];
	ck_assert_int_eq(booking__pick_best(out, 0, m.seats, m.count, &prefs_refuse), 0);
	ck_assert_int_eq(booking__pick_best(out, 1, m.seats, 0, &prefs_refuse), BOOKING__PICK_SHORT);
	ck_assert_int_eq(booking__pick_best(out, 1, m.seats, m.count, NULL), 0); /* NULL prefs: depth 50 %, OFF */
}
END_TEST

START_TEST(the_pick_does_not_depend_on_the_order_of_the_positions)
{
	map m;
	DRAW(&m, "..........", "....xx....", "..........");
	const booking__pick_prefs front = {0, BOOKING__ORPHANS_AVOID}; /* one best choice, no tie */
	size_t a[4], b[4];
	ck_assert_int_eq(booking__pick_best(a, 4, m.seats, m.count, &front), 0);
	ck_assert_int_eq(booking__pick_best(b, 4, m.seats, m.count, &front), 0);
	ck_assert_mem_eq(a, b, sizeof a);
	/* the same seats listed back to front: the same seats chosen */
	map rev = {.count = m.count};
	for (size_t p = 0; p < m.count; p++)
		rev.seats[m.count - 1 - p] = m.seats[p];
	ck_assert_int_eq(booking__pick_best(b, 4, rev.seats, rev.count, &front), 0);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(rev.seats[b[3 - i]].row, m.seats[a[i]].row);
		ck_assert_int_eq(rev.seats[b[3 - i]].column, m.seats[a[i]].column);
	}
}
END_TEST

/* ---- allocation failures ------------------------------------------------------------------------------ */

static int alloc_fail_at, alloc_calls, alloc_live; /* the malloc to fail (1-based, 0: none), mallocs so far, blocks held */

static void *counting_malloc(size_t size)
{
	if (++alloc_calls == alloc_fail_at)
		return NULL;
	void *p = malloc(size);
	alloc_live += p != NULL;
	return p;
}

static void *counting_realloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size);
	alloc_live += ptr == NULL && p != NULL;
	return p;
}

static void counting_free(void *ptr)
{
	alloc_live -= ptr != NULL;
	free(ptr);
}

START_TEST(a_failed_allocation_answers_out_of_memory_and_holds_nothing)
{
	map m, last;
	DRAW(&m, ".. ... ..", "xxxxxxxxx", "xx..xx"); /* every tier runs, and the search for a set that strands none */
	DRAW(&last, "xxx...xxx");                       /* under AVOID: whether stranding is unavoidable */
	const map *maps[2] = {&m, &last};
	const size_t wanted[2] = {4, 2};
	booking_set_allocator(counting_malloc, counting_realloc, counting_free);
	int failures = 0;
	for (int i = 0; i < 2; i++) {
		for (alloc_fail_at = 1;; alloc_fail_at++) {
			size_t take[4];
			alloc_calls = alloc_live = 0;
			booking_error_clear();
			int rc = booking__pick_best(take, wanted[i], maps[i]->seats, maps[i]->count, &prefs_avoid);
			ck_assert_int_eq(alloc_live, 0);
			if (rc == 0 && alloc_calls < alloc_fail_at)
				break; /* nothing failed: every allocation has been failed once */
			ck_assert_int_eq(rc, BOOKING_ENOMEM);
			ck_assert_int_eq(booking_error_last()->code, BOOKING_ENOMEM);
			failures++;
		}
	}
	for (alloc_fail_at = 1;; alloc_fail_at++) {
		alloc_calls = alloc_live = 0;
		int rc = booking__orphan_unavoidable(m.seats, m.count, 4);
		ck_assert_int_eq(alloc_live, 0);
		if (rc >= 0 && alloc_calls < alloc_fail_at)
			break;
		ck_assert_int_eq(rc, BOOKING_ENOMEM);
	}
	booking_set_allocator(NULL, NULL, NULL);
	ck_assert_int_ge(failures, 8 + 8 + 1); /* tier 4 allocates 5 more blocks; AVOID's subset sum one */
}
END_TEST

/* ---- properties -------------------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rng(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Whether some n of the seats with `mask` bits (free and, if `eligible_only`, eligible) strand none. Brute force. */
static bool some_clean_set(const map *m, size_t n, bool eligible_only)
{
	size_t cand[MAX_SEATS], k = 0;
	for (size_t p = 0; p < m->count; p++)
		if (m->seats[p].free && (m->seats[p].eligible || !eligible_only))
			cand[k++] = p;
	ck_assert_uint_le(k, 20);
	for (uint32_t bits = 0; bits < (1u << k); bits++) {
		if ((size_t)__builtin_popcount(bits) != n)
			continue;
		size_t take[20], t = 0;
		for (size_t i = 0; i < k; i++)
			if (bits & (1u << i))
				take[t++] = cand[i];
		if (booking__orphan_stranded(m->seats, m->count, take, n) < 0)
			return true;
	}
	return false;
}

/* A block: n side by side in one row. */
static bool is_block(const map *m, const size_t *take, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (m->seats[take[i]].row != m->seats[take[0]].row ||
		    m->seats[take[i]].column != m->seats[take[i - 1]].column + 1)
			return false;
	return true;
}

/* Whether some block of n free eligible seats strands none. */
static bool some_clean_block(const map *m, size_t n)
{
	for (size_t p = 0; p + n <= m->count; p++) {
		size_t take[16];
		bool ok = true;
		for (size_t i = 0; i < n && ok; i++) {
			take[i] = p + i;
			ok = m->seats[p + i].free && m->seats[p + i].eligible;
		}
		if (ok && is_block(m, take, n) && booking__orphan_stranded(m->seats, m->count, take, n) < 0)
			return true;
	}
	return false;
}

START_TEST(random_maps_get_free_eligible_seats_by_the_policy)
{
	rng_state = 0x9e3779b97f4a7c15u;
	int picked = 0, refused = 0, short_ = 0, unavoidable_allowed = 0;
	for (int round = 0; round < 4000; round++) {
		map m = {.count = 0};
		int rows = 1 + (int)rng(4), width = 2 + (int)rng(8);
		int free_pct = 20 + (int)rng(70);
		for (int r = 0; r < rows; r++)
			for (int c = 1; c <= width && m.count < 40; c++) {
				if (rng(10) == 0)
					continue; /* an aisle or a gap */
				bool is_free = (int)rng(100) < free_pct;
				m.seats[m.count++] = (booking__pick_seat){r, c, is_free, is_free && rng(5) != 0};
			}
		size_t nfree = 0, nelig = 0;
		for (size_t p = 0; p < m.count; p++) {
			nfree += m.seats[p].free;
			nelig += m.seats[p].free && m.seats[p].eligible;
		}
		if (nfree > 14)
			continue; /* brute force stays cheap */
		size_t n = 1 + rng(5);
		booking__pick_prefs prefs = {(int)rng(101), (booking__orphan_policy)rng(3)};
		size_t take[8];
		int rc = booking__pick_best(take, n, m.seats, m.count, &prefs);
		int unavoidable = booking__orphan_unavoidable(m.seats, m.count, n);
		ck_assert_int_ge(unavoidable, 0);
		ck_assert_int_eq(unavoidable, !some_clean_set(&m, n, false));
		bool clean_exists = some_clean_set(&m, n, true);
		if (nelig < n) {
			ck_assert_int_eq(rc, BOOKING__PICK_SHORT);
			short_++;
			continue;
		}
		bool allowed = prefs.orphans == BOOKING__ORPHANS_OFF ||
		               (prefs.orphans == BOOKING__ORPHANS_AVOID && unavoidable);
		if (!clean_exists && !allowed) {
			ck_assert_int_eq(rc, BOOKING__PICK_STRANDS);
			refused++;
			continue;
		}
		ck_assert_msg(rc == 0, "round %d: pick answered %d", round, rc);
		picked++;
		for (size_t i = 0; i < n; i++) {
			ck_assert_uint_lt(take[i], m.count);
			ck_assert(m.seats[take[i]].free && m.seats[take[i]].eligible);
			if (i > 0)
				ck_assert_uint_lt(take[i - 1], take[i]); /* layout order, distinct */
		}
		int stranded = booking__orphan_stranded(m.seats, m.count, take, n);
		if (clean_exists && prefs.orphans != BOOKING__ORPHANS_OFF)
			ck_assert_msg(stranded < 0, "round %d: strands %d though a clean choice exists", round, stranded);
		if (stranded >= 0) {
			ck_assert(allowed);
			unavoidable_allowed += prefs.orphans == BOOKING__ORPHANS_AVOID;
		}
		if (some_clean_block(&m, n))
			ck_assert_msg(is_block(&m, take, n) && stranded < 0, "round %d: a clean block exists", round);
		/* the guards: free, not taken, within 2 places of a taken seat in its row */
		size_t guards[32];
		size_t ng = booking__orphan_guards(guards, 32, m.seats, m.count, take, n);
		ck_assert_uint_le(ng, 4 * n);
		for (size_t g = 0; g < ng; g++) {
			ck_assert(m.seats[guards[g]].free);
			bool near = false;
			for (size_t i = 0; i < n; i++) {
				ck_assert_uint_ne(guards[g], take[i]);
				int dc = abs(m.seats[guards[g]].column - m.seats[take[i]].column);
				near = near || (m.seats[guards[g]].row == m.seats[take[i]].row && dc >= 1 && dc <= 2);
			}
			ck_assert(near);
			if (g > 0)
				ck_assert_uint_lt(guards[g - 1], guards[g]);
		}
		/* deterministic */
		size_t again[8];
		ck_assert_int_eq(booking__pick_best(again, n, m.seats, m.count, &prefs), 0);
		ck_assert_mem_eq(take, again, n * sizeof *take);
	}
	printf("seatpick property: %d picked, %d refused (would strand), %d short, %d stranded as unavoidable\n", picked,
	       refused, short_, unavoidable_allowed);
	ck_assert_int_gt(picked, 1000);
	ck_assert_int_gt(refused, 10);
	ck_assert_int_gt(unavoidable_allowed, 3);
}
END_TEST

/* ---- speed --------------------------------------------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

START_TEST(a_hundred_thousand_seats_are_picked_from_quickly)
{
	enum { ROWS = 400, WIDTH = 250, COUNT = ROWS * WIDTH };
	booking__pick_seat *seats = malloc(COUNT * sizeof *seats);
	ck_assert_ptr_nonnull(seats);
	static const char *const shapes[] = {"70 % sold at random", "every other seat sold", "the front half sold",
	                                     "free in pairs (the search for seats that strand none)"};
	for (int shape = 0; shape < 4; shape++) {
		rng_state = 12345;
		for (int r = 0; r < ROWS; r++)
			for (int c = 0; c < WIDTH; c++) {
				bool is_free = shape == 0   ? rng(10) < 3
				               : shape == 1 ? c % 2 == 0
				               : shape == 2 ? r >= ROWS / 2
				                            : c % 3 != 2;
				/* aisles after every 50 seats: columns skip one */
				seats[r * WIDTH + c] = (booking__pick_seat){r, c + 1 + c / 50, is_free, true};
			}
		for (size_t n = 1; n <= 10; n += 9) {
			size_t take[10];
			booking__pick_prefs prefs = {60, BOOKING__ORPHANS_AVOID};
			struct timespec t0;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			int rc = booking__pick_best(take, n, seats, COUNT, &prefs);
			double pick = seconds_since(&t0);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			int stranded = booking__orphan_stranded(seats, COUNT, take, n);
			int unavoidable = booking__orphan_unavoidable(seats, COUNT, n);
			double check = seconds_since(&t0);
			printf("seatpick speed: %d seats, %s, n = %zu: pick %.1f ms (rc %d), stranded + unavoidable %.1f ms\n",
			       COUNT, shapes[shape], n, pick * 1e3, rc, check * 1e3);
			ck_assert_int_eq(rc, 0);
			ck_assert_int_lt(stranded, 0);
			ck_assert_int_ge(unavoidable, 0);
		}
	}
	free(seats);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seatpick");
	TCase *tc = tcase_create("seatpick");

	tcase_set_timeout(tc, 50);
	tcase_add_test(tc, taking_a_seat_that_leaves_its_neighbour_alone_strands_it);
	tcase_add_test(tc, a_seat_already_alone_is_nobodys_orphan);
	tcase_add_test(tc, an_aisle_is_no_neighbour);
	tcase_add_test(tc, rows_do_not_touch_and_taken_seats_in_a_hold_take_nothing);
	tcase_add_test(tc, seats_sharing_a_place_or_without_one_have_no_sides);
	tcase_add_test(tc, stranding_is_unavoidable_only_when_every_choice_strands);
	tcase_add_test(tc, guards_are_the_free_seats_within_two_places_of_the_hold);
	tcase_add_test(tc, best_block_is_at_the_preferred_depth_in_the_middle_of_the_row);
	tcase_add_test(tc, best_block_strands_nobody_when_another_block_does_not);
	tcase_add_test(tc, the_last_seats_of_a_row_sell_under_avoid_but_not_under_refuse);
	tcase_add_test(tc, avoid_refuses_a_stranding_choice_when_another_buyer_could_strand_none);
	tcase_add_test(tc, blocks_never_cross_an_aisle);
	tcase_add_test(tc, a_group_splits_over_two_neighbouring_rows_aligned);
	tcase_add_test(tc, a_split_that_strands_nobody_beats_one_that_does);
	tcase_add_test(tc, scattered_seats_strand_nobody_when_they_can);
	tcase_add_test(tc, only_eligible_seats_are_chosen);
	tcase_add_test(tc, the_pick_does_not_depend_on_the_order_of_the_positions);
	tcase_add_test(tc, a_failed_allocation_answers_out_of_memory_and_holds_nothing);
	tcase_add_test(tc, random_maps_get_free_eligible_seats_by_the_policy);
	tcase_add_test(tc, a_hundred_thousand_seats_are_picked_from_quickly);
	suite_add_tcase(s, tc);
	return fx_run(s);
}
