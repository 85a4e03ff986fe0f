/*
 * booking — the seat map of a showtime drawn as a grid, and `booking seats`.
 * SPDX-License-Identifier: MIT
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 999

typedef struct glyphs {
	const char *free, *held, *sold;
} glyphs;

static glyphs seat_glyphs(const cli *c)
{
	if (c->utf8)
		return (glyphs){"\u25cb", "\u25d0", "\u25cf"}; /* ○ ◐ ● */
	return (glyphs){".", "h", "X"};
}

/* Column of a seat: its number (the library reads it off the label), else its index in the row. */
static size_t seat_column(const booking_seat_state *s, size_t index_in_row)
{
	if (s->number < 1 || s->number > MAX_COLUMNS)
		return index_in_row;
	return (size_t)(s->number - 1);
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

static void print_header(FILE *out, const cli *c, size_t columns)
{
	/* Cells are two characters wide; number the first seat and every fifth. */
	size_t width = columns * 2;
	const char *title = "SCREEN";
	size_t pad = width > strlen(title) ? (width - strlen(title)) / 2 : 0;
	fprintf(out, "%s     %*s%s%s\n", col(c, ANSI_DIM), (int)pad, "", title, col(c, ANSI_RESET));
	fprintf(out, "%s     ", col(c, ANSI_DIM));
	for (size_t n = 1; n <= columns;) {
		if (n == 1 || n % 5 == 0) {
			int w = fprintf(out, "%zu", n);
			fprintf(out, "%*s", (int)(2 * ((size_t)w / 2 + 1)) - w, "");
			n += (size_t)w / 2 + 1;
		} else {
			fprintf(out, "  ");
			n++;
		}
	}
	fprintf(out, "%s\n", col(c, ANSI_RESET));
}

void seatmap_print(const cli *c, FILE *out, const booking_seat_map *m)
{
	glyphs g = seat_glyphs(c);
	size_t columns = widest_row(m);
	const char **cells = calloc(columns ? columns : 1, sizeof *cells);
	const char **colours = calloc(columns ? columns : 1, sizeof *colours);
	if (!cells || !colours) {
		free(cells);
		free(colours);
		fprintf(stderr, "booking: out of memory\n");
		return;
	}
	print_header(out, c, columns);
	for (size_t i = 0; i < m->count;) {
		size_t end = row_end(m, i);
		for (size_t k = 0; k < columns; k++) {
			cells[k] = " ";
			colours[k] = "";
		}
		for (size_t k = i; k < end; k++) {
			const booking_seat_state *s = m->seats[k];
			size_t colno = seat_column(s, k - i);
			if (colno >= columns)
				continue;
			cells[colno] = s->status == BOOKING_SEAT_SOLD ? g.sold : s->status == BOOKING_SEAT_HELD ? g.held : g.free;
			colours[colno] = s->status == BOOKING_SEAT_SOLD   ? ANSI_RED
			                 : s->status == BOOKING_SEAT_HELD ? ANSI_YELLOW
			                                                  : ANSI_GREEN;
		}
		const char *row = m->seats[i]->row;
		fprintf(out, "  %s%-3s%s", col(c, ANSI_BOLD), row[0] ? row : "-", col(c, ANSI_RESET));
		for (size_t k = 0; k < columns; k++)
			fprintf(out, "%s%s%s ", col(c, colours[k]), cells[k], col(c, ANSI_RESET));
		char money[48];
		fprintf(out, " %s%s %s%s\n", col(c, ANSI_DIM), m->seats[i]->category,
		        fmt_money(money, sizeof money, m->seats[i]->price, m->currency), col(c, ANSI_RESET));
		i = end;
	}
	fprintf(out, "\n  %s%s%s free   %s%s%s held   %s%s%s sold\n", col(c, ANSI_GREEN), g.free, col(c, ANSI_RESET),
	        col(c, ANSI_YELLOW), g.held, col(c, ANSI_RESET), col(c, ANSI_RED), g.sold, col(c, ANSI_RESET));
	fprintf(out, "  %zu free, %zu held, %zu sold of %zu seats\n", m->free_count, m->held_count, m->sold_count,
	        m->count);
	free(cells);
	free(colours);
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
