/*
 * libbooking core internals: the seat picker. Chooses the best free seats
 * of a showtime for a buyer ("best available") and enforces the orphan
 * policy (no single seat left alone by a hold). Pure: it reads an array the
 * core builds from the seat map and the screen, and writes positions; no
 * store, no I/O, deterministic (the same input gives the same answer).
 *
 * Places. Every seat has a row (0 = the row nearest the screen, counting
 * outward in layout order, doc: booking_layout_parse()) and a column, its
 * place across the row with aisles and gaps counted as places (booking_seat's
 * `column`; the core passes the seat's number when the screen gave none).
 * A seat has a place when its column is 1..BOOKING__PICK_COLUMN_MAX and no
 * other seat of its row has the same column; a seat without one (labels
 * without a number, such as "BOX", which all have column 0) has no sides:
 * it is never side by side with another seat, never stranded and strands
 * none. The two *sides* of a seat with a place are the places at column - 1
 * and column + 1 of its row; a side is *free* when a free seat is there (and
 * the hold in question does not take it), else it is taken or *absent*
 * (row end, aisle, gap). Two seats are *side by side* when both have a place
 * in one row and their columns differ by exactly 1: never across an aisle.
 *
 * Orphans. An *orphan* is a free seat left alone by a hold: after the hold
 * it is free and neither of its sides is free, and before the hold it was
 * not alone (one of its sides was free). A hold that leaves one *strands*
 * it. A seat that was alone already (a single free seat between two taken
 * ones) is nobody's orphan: selling its neighbours did that earlier.
 *
 * A run is a maximal sequence of free seats side by side. A hold strands
 * nothing exactly when, in every run of two or more seats, it takes the
 * whole run or leaves free pieces of at least two seats each.
 *
 * Sizes: positions index the caller's array (0..count-1, count <= INT_MAX);
 * a hold (`take`) lists distinct positions below `count`, in any order.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SEATPICK_H
#define BOOKING_SEATPICK_H

#include <stdbool.h>
#include <stddef.h>

/** The largest column a seat with a place may have (the picker's arithmetic stays exact below it). */
#define BOOKING__PICK_COLUMN_MAX 1000000

/** booking__pick_best(): fewer than n free seats pass the buyer's filter. */
#define BOOKING__PICK_SHORT (-100)
/** booking__pick_best(): n seats could be found only by stranding a seat, which the policy forbids. */
#define BOOKING__PICK_STRANDS (-101)

/** One seat of a showtime, as the picker sees it. An array of them is indexed by seat position (layout order). */
typedef struct booking__pick_seat {
	int row;       /* row index from the screen: 0 = nearest */
	int column;    /* place across the row, aisles counted: same row and columns differing by 1 = side by side */
	bool free;     /* claimable now */
	bool eligible; /* passes the buyer's filter (category, price) */
} booking__pick_seat;

/** What a showtime does about holds that strand a seat. */
typedef enum booking__orphan_policy {
	BOOKING__ORPHANS_OFF = 0,    /* allowed (the picker still prefers seats that strand none) */
	BOOKING__ORPHANS_REFUSE = 1, /* refused */
	BOOKING__ORPHANS_AVOID = 2   /* refused unless unavoidable: booking__orphan_unavoidable() */
} booking__orphan_policy;

/** A buyer's preferences for booking__pick_best(). */
typedef struct booking__pick_prefs {
	int depth_percent; /* 0 front row .. 100 back row: the preferred row (clamped to 0..100) */
	booking__orphan_policy orphans;
} booking__pick_prefs;

/*
 * The seat that taking `take[0..n)` would strand: the lowest such position,
 * or -1 when the hold strands none. No allocation; O(count * n).
 * Seats of `take` that are not free take nothing away (they were taken before).
 */
int booking__orphan_stranded(const booking__pick_seat *seats, size_t count, const size_t *take, size_t n);

/*
 * Whether stranding is unavoidable for a hold of n seats: 1 when no set of
 * n free seats (any free seats, whatever the buyer's filter: the policy
 * protects the show, not one buyer's choice) can be taken without stranding
 * a seat, which includes there being fewer than n free seats; 0 when one can
 * (n = 0 always can); BOOKING_ENOMEM (error set) when memory runs out.
 * With it, "refuse unless unavoidable" still sells a show's last seats.
 * Exact: a subset sum over the runs (a run of L >= 2 seats gives 0..L-2 or
 * L of them, a run of 1 gives 0 or 1). O(count log count + count * n).
 */
int booking__orphan_unavoidable(const booking__pick_seat *seats, size_t count, size_t n);

/*
 * The free seats the orphan decision about taking `take[0..n)` rested on:
 * every free seat not taken beside a taken seat with a place, and the free
 * seat beyond it (two places away) when that one is free. If one of them is
 * no longer free when the hold commits (a concurrent hold took it), the
 * decision may be wrong (two holds could strand the seat between them), so
 * the core requires them still free. Writes the `max` lowest of them,
 * ascending and distinct, to `out` and returns how many it wrote; there are
 * at most 4 * n, so `max` >= 4 * n gets them all. No allocation; O(count * n).
 */
size_t booking__orphan_guards(size_t *out, size_t max, const booking__pick_seat *seats, size_t count, const size_t *take,
                              size_t n);

/*
 * Choose n free eligible seats for a buyer, best first by tiers:
 *  1. n side by side in one row, stranding no seat;
 *  2. n side by side in one row, stranding a seat: only when stranding is
 *     allowed (policy OFF, or AVOID and booking__orphan_unavoidable());
 *  3. split in two blocks over two neighbouring rows (rows r and r + 1),
 *     each side by side, their column ranges overlapping: first those that
 *     strand none, then (when allowed) those that do;
 *  4. the n scattered seats nearest the focal point: first the best set
 *     that strands none, then (when allowed) the n nearest seats.
 * Within a tier the choice nearest the focal point wins: the preferred row
 * (depth_percent of the way from the first to the last row that has a seat)
 * at the centre of that row (the middle of its lowest and highest column).
 * Distance is squared and counts a row as two columns (rows are deeper than
 * seats are wide): 4 * rows² + columns². A block's distance is its centre's;
 * a split's is the sum of its blocks' distances, each times its size; a
 * scattered set's the sum of its seats'. Ties go to the choice whose
 * positions, ascending, are lowest (compared in order), except in tier 4's
 * search for a set that strands none, which breaks ties in its own fixed way.
 *
 * @param take_out n positions, ascending (layout order); written only on success.
 * @param n        seats wanted; 0 answers 0 with nothing written.
 * @param prefs    borrowed; NULL: depth 50 %, policy OFF. A policy of no known value refuses.
 * @return 0, BOOKING__PICK_SHORT, BOOKING__PICK_STRANDS, BOOKING_ENOMEM (error set).
 * Fast: O(count log count + count * n²) time, O(count * n) memory.
 */
int booking__pick_best(size_t *take_out, size_t n, const booking__pick_seat *seats, size_t count,
                       const booking__pick_prefs *prefs);

#endif
