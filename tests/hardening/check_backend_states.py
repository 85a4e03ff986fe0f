#!/usr/bin/env python3
"""No booking or payment state in backends/ (issue 11: the core decides).

A backend stores and applies; which states a booking or a payment may be
in, and what each means, is the core's (doc/rulebook.md). This fails on:

1. a constant of booking_reservation_status, booking_saga_state, booking_payment_status
   or booking_decline_policy (read from the public headers) anywhere in the
   C code of backends/ (outside comments and string literals);
2. a column or variable named *status or *saga compared with, or set to, a
   number: `status = 1`, `b.status <> 2`, `saga = 4`, `1 = status`,
   `status IN (1, 2)`, `status = ANY ('{1,2}')`, `status BETWEEN 1 AND 3`,
   `CASE status WHEN 1`, `(SELECT b.status FROM ...) <> 1`,
   `coalesce(status, 0) = 2`, `p->status == 3` — in SQL (C string literals,
   adjacent ones joined as the compiler joins them, and .sql files) and in
   C. Values handed over by the core are parameters (`status = $1`,
   `status = ?2`, `status = p_status`) and pass.

It goes by names: a state compared under another name (`p_to = 4`) passes,
as does `case 1:` in a switch on a status. Review still reads the code; this
catches the usual ways a state leaks back.

Seat statuses are not the core's to hide: the claimable-seat rule is
written once per SQL dialect from BOOKING_SEAT_CLAIMABLE_SQL
(<booking/sys/store.h>), and the few places where a seat primitive's
contract itself names a seat status are listed in ALLOWED, each with its
reason; an entry that no longer matches anything fails too, so the list
cannot grow stale. Before scanning, the patterns are run on samples that
must be caught and samples that must pass (SELF_TEST).

Usage: check_backend_states.py SOURCE_ROOT
SPDX-License-Identifier: MIT
"""
import pathlib
import re
import sys

STATE_ENUMS = {
    "include/booking/reservation.h": ["booking_reservation_status", "booking_saga_state"],
    "include/booking/payment.h": ["booking_payment_status"],
    "include/booking/options.h": ["booking_decline_policy"],
}

# Exact text, and why the seat primitive's contract needs it.
ALLOWED = [
    ("CHECK (status IN (0, 1, 2))",
     "showtime_seats: the domain of a seat's status (FREE 0, HELD 1, SOLD 2), schema version 1"),
    ("CHECK (status IN (0, 1, 2, 3))",
     "showtime_seats: the domain of a seat's status with BLOCKED 3 (catalog version 2, store.h), SQLite schema version 6, PostgreSQL 7"),
    ("UPDATE showtime_seats SET status = 1,",
     "hold: a claimed seat becomes HELD by the booking (the hold primitive, store.h)"),
    ("CASE WHEN p_new_status = 0 THEN NULL",
     "seat move: a seat moved to FREE has no holder (booking_store_seat_move, store.h)"),
]

NUM = r"'?-?\d"
NAME = r"(?<![\w$?])(?:[A-Za-z_][\w.]*?)?(?:status|saga)\b(?:\s*::\s*\w+)?"
OPS = r"(?:==|!=|<>|<=|>=|=|<|>)"
SQL_PATTERNS = [
    ("compared with a number", re.compile(NAME + r"\s*" + OPS + r"\s*\(?\s*" + NUM, re.I)),
    ("compared with a number", re.compile(r"(?<![\w$?])\d+'?\s*(?:==|!=|<>|=)\s*[\w.>-]*(?:status|saga)\b", re.I)),
    ("in a list of numbers", re.compile(NAME + r"\s+(?:NOT\s+)?IN\s*\(\s*" + NUM, re.I)),
    ("in an array of numbers",
     re.compile(NAME + r"\s*(?:=|<>|!=)\s*(?:ANY|ALL|SOME)\s*\(\s*(?:ARRAY\s*\[\s*|'\s*\{\s*)" + r"-?\d", re.I)),
    ("in a range of numbers", re.compile(NAME + r"\s+(?:NOT\s+)?BETWEEN\s+" + NUM, re.I)),
    ("cased on numbers", re.compile(r"\bCASE\s+" + NAME + r"\s+WHEN\s+" + NUM, re.I)),
]
# An expression in parentheses that reads a status, compared with a number:
# (SELECT b.status FROM ...) <> 1, coalesce(status, 0) = 2, 1 = (SELECT saga ...).
CLOSE_OP_NUM = re.compile(r"\)\s*" + OPS + r"\s*" + NUM)
NUM_OP_OPEN = re.compile(r"(?<![\w$?])\d+'?\s*(?:==|!=|<>|=)\s*\(")
READS_STATE = re.compile(r"(?:status|saga)\b", re.I)
SELECT_LIST = re.compile(r"^\s*SELECT\b(.*?)(?:\bFROM\b|$)", re.I | re.S)


def reads_state(inner):
    """Whether a parenthesised expression's value is a status: what a
    subquery selects, or a function's arguments (not a count whose WHERE
    names a status)."""
    m = SELECT_LIST.match(inner)
    return bool(READS_STATE.search(m.group(1) if m else inner))


SELF_TEST_CAUGHT = [
    "SELECT * FROM bookings WHERE status = 1 AND expires_at <= ?1",
    "IF b.status <> 2 THEN RETURN -13; END IF;",
    "UPDATE bookings SET status = 4, saga = 4 WHERE id = b.id",
    "WHERE 3 = status",
    "CREATE INDEX x ON payments (created_at) WHERE status = 3",
    "WHERE status IN (1, 2)",
    "WHERE status NOT IN (4,5)",
    "WHERE status = ANY ('{1,2}')",
    "WHERE p.status = ANY (ARRAY[1, 2])",
    "WHERE status BETWEEN 1 AND 2",
    "WHERE status::int = 1",
    "WHERE status = '1'",
    "if (p->status == 3)",
    "if (b->status != 1 && x)",
    "IF (SELECT b.status FROM bookings b WHERE b.id = p_id) <> 1 THEN RETURN 1; END IF;",
    "WHERE coalesce(p.status, 0) = 2",
    "IF 3 = (SELECT saga FROM bookings WHERE id = p_id) THEN",
    "SELECT CASE status WHEN 1 THEN 'pending' END FROM bookings",
]
SELF_TEST_PASSED = [
    "SELECT * FROM bookings WHERE status = ?1 AND expires_at <= ?2",
    "WHERE status = $1::smallint AND created_at <= $2::bigint",
    "UPDATE bookings SET status = b_status, saga = b_saga, version = version + 1",
    "PERFORM 1 FROM payments WHERE id = g_id[i] AND status = g_value[i] FOR UPDATE;",
    "if (PQresultStatus(r) == PGRES_TUPLES_OK)",
    "if (p->status != status || p->created_at > created_before)",
    "status smallint NOT NULL,",
    "IF cardinality(locked) = cardinality(p_seats) AND (SELECT count(*) FROM x) = 0 THEN",
    "CASE WHEN s_to = 0 THEN 0 ELSE s_hold_until END",
    "IF (SELECT count(*) FROM showtime_seats WHERE status = p_status) = 0 THEN",
]

IDENT = re.compile(r"\b[A-Za-z_]\w*\b")


def enum_constants(root):
    """The constants of the state enums, from the public headers."""
    names = set()
    for header, enums in STATE_ENUMS.items():
        text = (root / header).read_text(encoding="utf-8")
        for enum in enums:
            m = re.search(r"typedef\s+enum\s+" + enum + r"\s*\{(.*?)\}\s*" + enum + r"\s*;", text, re.S)
            if not m:
                raise SystemExit(f"check_backend_states: enum {enum} not found in {header}")
            body = re.sub(r"/\*.*?\*/|//[^\n]*", "", m.group(1), flags=re.S)
            names.update(re.findall(r"\b(BOOKING_[A-Z0-9_]+)\b", body))
    return names


def split_c(text):
    """C source without comments, the same length as `text`: (the code with
    comments and literals blanked, [(line, offset, content)] of each string
    literal in order)."""
    code, literals, i, n, line = [], [], 0, len(text), 1
    while i < n:
        c = text[i]
        if text.startswith("/*", i) or text.startswith("//", i):
            j = text.find("*/", i + 2) + 2 if c + text[i + 1] == "/*" else text.find("\n", i)
            j = n if j < 2 or j < 0 else j
            chunk = text[i:j]
            code.append(re.sub(r"[^\n]", " ", chunk))
            line += chunk.count("\n")
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j, n - 1)
            if c == '"':
                literals.append((line, i, text[i + 1:j]))
            code.append(c + " " * (j - i - 1) + text[j])
            i = j + 1
        else:
            if c == "\n":
                line += 1
            code.append(c)
            i += 1
    return "".join(code), literals


def string_runs(code, literals):
    """Adjacent string literals joined, as the compiler joins them: [(text,
    [(offset in text, source line)] of each literal)]."""
    runs, last_end = [], 0
    for line, pos, body in literals:
        if runs and code[last_end:pos].strip() == "":
            text, lines = runs[-1]
            runs[-1] = (text + body, lines + [(len(text), line)])
        else:
            runs.append((body, [(0, line)]))
        last_end = pos + len(body) + 2
    return runs


def line_at(lines, offset):
    return [line for start, line in lines if start <= offset][-1]


def matching(text, at, step):
    """The index of the parenthesis that matches the one at `at` (step -1: a
    closing one, looking back; +1: an opening one), or -1."""
    depth, i = 0, at
    while 0 <= i < len(text):
        if text[i] in "()":
            depth += 1 if (text[i] == ")") == (step < 0) else -1
            if depth == 0:
                return i
        i += step
    return -1


def sql_findings(text):
    """(what, span) of each number compared with a status or saga in `text`."""
    out = []
    for what, pat in SQL_PATTERNS:
        for m in pat.finditer(text):
            out.append((what, m.span()))
    for m in CLOSE_OP_NUM.finditer(text):
        start = matching(text, m.start(), -1)
        if start >= 0 and reads_state(text[start + 1:m.start()]):
            out.append(("compared with a number", (start, m.end())))
    for m in NUM_OP_OPEN.finditer(text):
        end = matching(text, m.end() - 1, +1)
        if end >= 0 and reads_state(text[m.end():end]):
            out.append(("compared with a number", (m.start(), end + 1)))
    return out


def allowed(text, span, used):
    for k, (fragment, _why) in enumerate(ALLOWED):
        start = text.find(fragment)
        while start >= 0:
            if start <= span[0] and span[1] <= start + len(fragment):
                used.add(k)
                return True
            start = text.find(fragment, start + 1)
    return False


def self_test():
    bad = [s for s in SELF_TEST_CAUGHT if not sql_findings(s)]
    good = [s for s in SELF_TEST_PASSED if sql_findings(s)]
    for s in bad:
        print(f"SELF-TEST the pattern misses: {s}")
    for s in good:
        print(f"SELF-TEST the pattern flags a parameter: {s}")
    return not bad and not good


def scan(root, constants):
    findings, used, files = [], set(), 0
    for path in sorted((root / "backends").rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root)
        if path.suffix in (".c", ".h"):
            files += 1
            code, literals = split_c(path.read_text(encoding="utf-8"))
            for lineno, l in enumerate(code.split("\n"), 1):
                for name in IDENT.findall(l):
                    if name in constants:
                        findings.append(f"{rel}:{lineno}: state constant {name}")
                for what, span in sql_findings(l):
                    findings.append(f"{rel}:{lineno}: a status {what} (C): {l[span[0]:span[1]].strip()}")
            for run, lines in string_runs(code, literals):
                for what, span in sql_findings(run):
                    if not allowed(run, span, used):
                        findings.append(f"{rel}:{line_at(lines, span[0])}: a status {what} (SQL): "
                                        f"{run[span[0]:span[1]]}")
        elif path.suffix in (".sql", ".pgsql", ".lua"):
            files += 1
            text = path.read_text(encoding="utf-8")
            for lineno, l in enumerate(text.split("\n"), 1):
                l = re.sub(r"--.*", "", l)
                for what, span in sql_findings(l):
                    if not allowed(l, span, used):
                        findings.append(f"{rel}:{lineno}: a status {what} (SQL): {l[span[0]:span[1]]}")
    stale = [ALLOWED[k][0] for k in range(len(ALLOWED)) if k not in used]
    return files, findings, stale, used


def main():
    root = pathlib.Path(sys.argv[1])
    if not self_test():
        return 1
    constants = enum_constants(root)
    files, findings, stale, used = scan(root, constants)
    for f in findings:
        print(f"FAIL {f}")
    for s in stale:
        print(f"FAIL allowed seat-status text no longer found (remove it from ALLOWED): {s}")
    print(f"{files} files of backends/, {len(constants)} state constants; {len(findings)} places name a booking "
          f"or payment state; {len(used)} seat-status texts allowed")
    return 1 if findings or stale else 0


if __name__ == "__main__":
    sys.exit(main())
