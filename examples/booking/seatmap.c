/*
 * booking — the seat map of a showtime drawn as a grid, and `booking seats`.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 999

typedef struct glyphs {
	const char *free, *held, *sold, *blocked;
} glyphs;

static glyphs seat_glyphs(const cli *c)
{
	if (c->utf8)
		return (glyphs){"\u25cb", "\u25d0", "\u25cf", "\u2298"}; /* ○ ◐ ● ⊘ */
	return (glyphs){".", "h", "X", "#"};
}

/*
 * Column of a seat, from 0: its column (aisles counted: the library fills
 * it in, from the layout or else the seat's number), else its number, else
 * its index in the row.
 */
static size_t seat_column(const booking_seat_state *s, size_t index_in_row)
{
	if (s->column >= 1 && s->column <= MAX_COLUMNS)
		return (size_t)(s->column - 1);
	if (s->number >= 1 && s->number <= MAX_COLUMNS)
		return (size_t)(s->number - 1);
	return index_in_row;
}

/* The end of the row that starts at seat `i`: the seats after it in layout order with the same row. */
static size_t row_end(const booking_seat_map *m, size_t i)
{
	size_t j = i + 1;
	while (j < m->count && strcmp(m->seats[j]->row, m->seats[i]->row) == 0)
		j++;
	return j;
}

static size_t widest_row(const booking_seat_map *m)
{
	size_t width = 0;
	for (size_t i = 0; i < m->count;) {
		size_t end = row_end(m, i);
		for (size_t k = i; k < end; k++) {
			size_t col = seat_column(m->seats[k], k - i) + 1;
			if (col > width)
				width = col;
		}
		i = end;
	}
	return width;
}

/*
 * The header: SCREEN centred, then the seat numbers over their columns (the
 * first seat and every fifth), taken from the seats themselves so that an
 * aisle (a column no seat has) is a gap and the numbers after it stay over
 * their seats. `numbers[k]` is the number of a seat in column k, 0 for none.
 */
static void print_header(FILE *out, const cli *c, const int *numbers, size_t columns)
{
	size_t width = columns * 2; /* cells are two characters wide */
	const char *title = "SCREEN";
	size_t pad = width > strlen(title) ? (width - strlen(title)) / 2 : 0;
	fprintf(out, "%s     %*s%s%s\n", col(c, ANSI_DIM), (int)pad, "", title, col(c, ANSI_RESET));
	char *line = malloc(width + 16);
	if (!line)
		return;
	memset(line, ' ', width + 15);
	line[width + 15] = '\0';
	size_t free_from = 0; /* the first character no earlier number covers */
	for (size_t k = 0; k < columns; k++) {
		int n = numbers[k];
		if (n < 1 || (n != 1 && n % 5 != 0) || 2 * k < free_from)
			continue;
		char num[16];
		int w = snprintf(num, sizeof num, "%d", n);
		memcpy(line + 2 * k, num, (size_t)w);
		free_from = 2 * k + (size_t)w + 1;
	}
	size_t len = width + 15;
	while (len > 0 && line[len - 1] == ' ')
		len--;
	line[len] = '\0';
	fprintf(out, "%s     %s%s\n", col(c, ANSI_DIM), line, col(c, ANSI_RESET));
	free(line);
}

/* The seat numbers of the columns: from the first seat found in each. */
static int *column_numbers(const booking_seat_map *m, size_t columns)
{
	int *numbers = calloc(columns ? columns : 1, sizeof *numbers);
	if (!numbers)
		return NULL;
	for (size_t i = 0; i < m->count;) {
		size_t end = row_end(m, i);
		for (size_t k = i; k < end; k++) {
			size_t colno = seat_column(m->seats[k], k - i);
			if (colno < columns && !numbers[colno])
				numbers[colno] = m->seats[k]->number;
		}
		i = end;
	}
	return numbers;
}

/* "blocked: A1 A2 (wheelchair), C5 (press)": the blocked seats grouped by reason, in layout order. */
static void print_blocked(const cli *c, FILE *out, const booking_seat_map *m, const glyphs *g)
{
	bool *done = calloc(m->count ? m->count : 1, sizeof *done);
	if (!done)
		return;
	fprintf(out, "  %s%s%s blocked:", col(c, ANSI_CYAN), g->blocked, col(c, ANSI_RESET));
	bool first = true;
	for (size_t i = 0; i < m->count; i++) {
		if (done[i] || m->seats[i]->status != BOOKING_SEAT_BLOCKED)
			continue;
		fprintf(out, "%s", first ? "" : ",");
		first = false;
		for (size_t k = i; k < m->count; k++) {
			if (done[k] || m->seats[k]->status != BOOKING_SEAT_BLOCKED ||
			    strcmp(m->seats[k]->reason, m->seats[i]->reason) != 0)
				continue;
			done[k] = true;
			fprintf(out, " %s", tsafe(m->seats[k]->label));
		}
		fprintf(out, " (%s)", m->seats[i]->reason[0] ? tsafe(m->seats[i]->reason) : "no reason");
	}
	fprintf(out, "\n");
	free(done);
}

void seatmap_print(const cli *c, FILE *out, const booking_seat_map *m)
{
	glyphs g = seat_glyphs(c);
	size_t columns = widest_row(m);
	const char **cells = calloc(columns ? columns : 1, sizeof *cells);
	const char **colours = calloc(columns ? columns : 1, sizeof *colours);
	int *numbers = column_numbers(m, columns);
	if (!cells || !colours || !numbers) {
		free(cells);
		free(colours);
		free(numbers);
		fprintf(stderr, "booking: out of memory\n");
		return;
	}
	print_header(out, c, numbers, columns);
	for (size_t i = 0; i < m->count;) {
		size_t end = row_end(m, i);
		for (size_t k = 0; k < columns; k++) {
			cells[k] = " "; /* no seat here: an aisle, a gap, or past the row's end */
			colours[k] = "";
		}
		for (size_t k = i; k < end; k++) {
			const booking_seat_state *s = m->seats[k];
			size_t colno = seat_column(s, k - i);
			if (colno >= columns)
				continue;
			switch (s->status) {
			case BOOKING_SEAT_SOLD:
				cells[colno] = g.sold;
				colours[colno] = ANSI_RED;
				break;
			case BOOKING_SEAT_HELD:
				cells[colno] = g.held;
				colours[colno] = ANSI_YELLOW;
				break;
			case BOOKING_SEAT_BLOCKED:
				cells[colno] = g.blocked;
				colours[colno] = ANSI_CYAN;
				break;
			default:
				cells[colno] = g.free;
				colours[colno] = ANSI_GREEN;
				break;
			}
		}
		const char *row = m->seats[i]->row;
		fprintf(out, "  %s%-3s%s", col(c, ANSI_BOLD), row[0] ? tsafe(row) : "-", col(c, ANSI_RESET));
		for (size_t k = 0; k < columns; k++)
			fprintf(out, "%s%s%s ", col(c, colours[k]), cells[k], col(c, ANSI_RESET));
		char money[48];
		fprintf(out, " %s%s %s%s\n", col(c, ANSI_DIM), tsafe(m->seats[i]->category),
		        fmt_money(money, sizeof money, m->seats[i]->price, m->currency), col(c, ANSI_RESET));
		i = end;
	}
	fprintf(out, "\n  %s%s%s free   %s%s%s held   %s%s%s sold   %s%s%s blocked\n", col(c, ANSI_GREEN), g.free,
	        col(c, ANSI_RESET), col(c, ANSI_YELLOW), g.held, col(c, ANSI_RESET), col(c, ANSI_RED), g.sold,
	        col(c, ANSI_RESET), col(c, ANSI_CYAN), g.blocked, col(c, ANSI_RESET));
	if (m->blocked_count)
		print_blocked(c, out, m, &g);
	fprintf(out, "  %zu free, %zu held, %zu sold", m->free_count, m->held_count, m->sold_count);
	if (m->blocked_count)
		fprintf(out, ", %zu blocked", m->blocked_count);
	fprintf(out, " of %zu seats\n", m->count);
	free(cells);
	free(colours);
	free(numbers);
}

int cmd_seats(cli *c, const cli_command *cmd, int argc, char **argv)
{
	cli_args a;
	booking_ctx ctx;
	int rc;
	if ((rc = args_parse(c, cmd, &a, argc, argv, NULL)) != ARGS_OK)
		return rc;
	if (a.npos != 1)
		return cli_usage_error(c, cmd, "give one SHOWTIME_ID");
	if ((rc = cli_open(c)))
		return rc;
	cli_reader(c, &ctx);
	booking_seat_map *m = NULL;
	if (booking_seat_map_get(&m, c->bk, &ctx, a.pos[0]) != 0)
		return cli_fail(c);
	if (c->json) {
		rc = cli_json(c, json_pack("{s:o}", "seat_map", json_seat_map(m)));
	} else {
		printf("showtime %s\n\n", m->showtime_id);
		seatmap_print(c, stdout, m);
	}
	booking_seat_map_free(m);
	return rc;
}
