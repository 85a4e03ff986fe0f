#!/bin/sh
# Text from data never reaches a terminal raw: a movie title written into
# the store behind the library's back (an old version, another program)
# with an escape sequence, a C1 control and a bidi override is printed
# escaped by `movie list`, in text and in --json; and the library refuses
# such a title when it is given one.
# usage: cli_text.sh [PATH_TO_BOOKING]
set -eu
BOOKING=${1:-booking}
case $BOOKING in /*) ;; */*) BOOKING=$(pwd)/$BOOKING ;; esac

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-text.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
unset BOOKING_STORE_URL BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_ENV_FILE BOOKING_TOKEN \
	BOOKING_JWT_PRIVATE_KEY_FILE BOOKING_JWT_PUBLIC_KEYS_FILE BOOKING_PAYMENT_KEY_FILE || true
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192
PASSWORD='Correct horse 1'
data="$dir/data"

fail() { echo "FAIL: $*" >&2; exit 1; }
# no_raw FILE: no ESC, no C1 control (UTF-8 C2 80..9F), no bidi override (E2 80 AA..AE)
no_raw() {
	python3 - "$1" <<'PY' || fail "raw control characters in $(basename "$1"): $(od -c "$1" | head -5)"
import sys
b = open(sys.argv[1], 'rb').read()
bad = [c for c in b if c < 0x20 and c not in (0x0a,)] + [c for c in [0x7f] if c in b]
t = b.decode('utf-8', 'replace')
bad += [ch for ch in t if 0x80 <= ord(ch) <= 0x9f or 0x202a <= ord(ch) <= 0x202e or 0x2066 <= ord(ch) <= 0x2069]
sys.exit(1 if bad else 0)
PY
}

"$BOOKING" --data-dir "$data" init >/dev/null
[ "$(stat -c %a "$data/payment.key")" = 600 ] || fail "init: payment.key is not 0600"
[ "$(stat -c %a "$data/booking.db")" = 600 ] || fail "init: booking.db is not 0600"
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" --as system register --admin root@example.com >/dev/null
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" login root@example.com >/dev/null

# the library refuses the title outright
title=$(printf 'evil \342\200\256gpj.exe')
if "$BOOKING" --data-dir "$data" --json movie add "$title" --duration 90 >"$dir/out" 2>"$dir/err"; then
	fail "a title with a bidi override was accepted"
fi
grep -q VALIDATION_ERROR "$dir/out" || fail "bidi title: $(cat "$dir/out")"

# a title that got into the store another way
python3 - "$data/booking.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
title = "red \x1b[31m\x1b]0;pwned\x07 csi \u009b2J rlo \u202egpj.exe"
db.execute("INSERT INTO movies (id, title, duration_minutes, created_at) VALUES "
           "('0190d1c4-0000-7000-8000-000000000001', ?, 90, 0)", (title,))
db.commit()
PY
"$BOOKING" --data-dir "$data" movie list >"$dir/text" 2>"$dir/err" || fail "movie list: $(cat "$dir/err")"
grep -q 'red \\u001B\[31m' "$dir/text" || fail "text: the escape is not shown escaped: $(cat "$dir/text")"
no_raw "$dir/text"
"$BOOKING" --data-dir "$data" --json movie list >"$dir/json" 2>"$dir/err" || fail "movie list --json"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dir/json" || fail "--json is not JSON"
grep -q 'pwned' "$dir/json" || fail "--json lost the title"
python3 - "$dir/json" <<'PY' || fail "--json: raw ESC or BEL"
import sys
b = open(sys.argv[1], 'rb').read()
sys.exit(1 if (b'\x1b' in b or b'\x07' in b) else 0)
PY
# the same title where a showtime names its movie
theater=$("$BOOKING" --data-dir "$data" --json theater add Rex --city Paris |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["theater"]["id"])')
screen=$("$BOOKING" --data-dir "$data" --json screen add "$theater" "Salle 1" --rows A-B --seats 4 |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["screen"]["id"])')
"$BOOKING" --data-dir "$data" showtime add 0190d1c4-0000-7000-8000-000000000001 "$screen" --starts +120 \
	--currency EUR --price standard=12.50 >/dev/null 2>"$dir/err" || fail "showtime add: $(cat "$dir/err")"
"$BOOKING" --data-dir "$data" showtime list >"$dir/showtimes" 2>"$dir/err" || fail "showtime list: $(cat "$dir/err")"
grep -q 'pwned' "$dir/showtimes" || fail "showtime list lost the title: $(cat "$dir/showtimes")"
no_raw "$dir/showtimes"
echo "ok: data text is escaped on the way to the terminal"
