#!/bin/sh
# The box office from the command line, on one SQLite file, every command
# with --json: hold --best (with --category and --max-price), hold --key
# (the same reservation again; another request is IDEMPOTENCY_KEY_REUSED),
# extend up to its cap (HOLD_LIMIT_REACHED), change --add/--remove, block
# and unblock (admin; a customer is FORBIDDEN), an admin's hold --for a
# user of a blocked seat, the door list (reservations --showtime, --status,
# paging; bookings is the same command), the orphan policy (ORPHAN_SEAT),
# NOT_ENOUGH_SEATS, config, the seat map's blocked seats and aisles, and
# `booking check` at the end.
# usage: cli_boxoffice.sh [PATH_TO_BOOKING]
set -eu
BOOKING=${1:-booking}
case $BOOKING in /*) ;; */*) BOOKING=$(pwd)/$BOOKING ;; esac

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-boxoffice.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
store="sqlite://$dir/boxoffice.db"
unset BOOKING_STORE_URL BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_ENV_FILE BOOKING_TOKEN \
	BOOKING_JWT_PRIVATE_KEY_FILE BOOKING_JWT_PUBLIC_KEYS_FILE BOOKING_PAYMENT_KEY_FILE \
	BOOKING_ORPHAN_POLICY BOOKING_HOLD_MAX_MINUTES BOOKING_BEST_ROW_DEPTH BOOKING_EXPIRY_MINUTES || true
# A cheap argon2id: this tests the box office, not password hashing.
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192
export NO_COLOR=1 LC_ALL=C

fail() { echo "FAIL: $*" >&2; exit 1; }
b() { "$BOOKING" --store "$store" --data-dir "$dir/data" "$@"; }
# j EXPR: evaluate a Python expression over the JSON object on stdin (as d).
j() { python3 -c 'import json, sys; d = json.load(sys.stdin); v = eval(sys.argv[1]); print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"; }
# as USER CMD...: run a command with USER's token (admin, alice, bob).
as() { who=$1; shift; BOOKING_TOKEN=$(cat "$dir/token.$who") b "$@"; }
# ok WHAT CMD...: the command succeeds (exit 0); its stdout goes to $dir/out.
ok() {
	what=$1; shift
	if ! "$@" >"$dir/out" 2>"$dir/err"; then
		fail "$what: exit $?: $(cat "$dir/out" "$dir/err")"
	fi
}
# refused CODE WHAT CMD...: the command exits 1 (2 for USAGE_ERROR) with the error CODE in its --json object.
refused() {
	code=$1 what=$2; shift 2
	set +e
	"$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	set -e
	want=1
	[ "$code" = USAGE_ERROR ] && want=2
	[ "$rc" = "$want" ] || fail "$what: exit $rc, not $want: $(cat "$dir/out" "$dir/err")"
	got=$(j 'd["error"]["code"]' <"$dir/out") || fail "$what: no JSON error: $(cat "$dir/out")"
	[ "$got" = "$code" ] || fail "$what: $got, not $code: $(cat "$dir/out")"
}
val() { j "$1" <"$dir/out"; }

b init >/dev/null
# the catalog: rows A-D in blocks of 4, 6 and 4 seats with two aisles; row A premium
theater=$(b --as system --json theater add "Box Office Hall" | j 'd["theater"]["id"]')
ok "screen add with aisles" b --as system --json screen add "$theater" "Screen 1" --layout "A:4+6+4:premium,B-D:4+6+4"
screen=$(val 'd["screen"]["id"]')
[ "$(val '[s["column"] for s in d["screen"]["seats"] if s["label"] in ("A4", "A5")]')" = "[4, 6]" ] ||
	fail "the aisle after A4: columns $(val '[s["column"] for s in d["screen"]["seats"]][:6]')"
ok "screen show (text)" b screen show "$screen"
grep -q 'rows B-D .* 14 seats each, blocks 4+6+4' "$dir/out" || fail "screen show: no blocks: $(cat "$dir/out")"
movie=$(b --as system --json movie add "Front Row" --duration 100 | j 'd["movie"]["id"]')
ok "showtime add" b --as system --json showtime add "$movie" "$screen" --starts +180 --currency EUR \
	--price premium=15.00 --price standard=10.00
showtime=$(val 'd["showtime"]["id"]')

# users: an admin and two customers, each with a token
for who in admin alice bob; do
	flag=""
	[ "$who" = admin ] && flag=--admin
	echo "Box office password $who" | b --as system --json register "$who@example.com" $flag >"$dir/user.$who"
	echo "Box office password $who" | b login "$who@example.com" --print-token >"$dir/token.$who"
	[ -s "$dir/token.$who" ] || fail "$who could not log in"
done
alice_id=$(j 'd["user"]["id"]' <"$dir/user.alice")

# config: the three box office options, their defaults, then from the environment
ok "config" b --json config
[ "$(val 'd["options"]["orphan_policy"]["value"]')" = OFF ] || fail "config: orphan_policy $(val 'd["options"]["orphan_policy"]')"
[ "$(val 'd["options"]["hold_max_minutes"]["value"]')" = 30 ] || fail "config: hold_max_minutes $(val 'd["options"]["hold_max_minutes"]')"
[ "$(val 'd["options"]["best_row_depth_percent"]["value"]')" = 60 ] || fail "config: best_row_depth_percent"
ok "config from the environment" env BOOKING_ORPHAN_POLICY=unless-unavoidable BOOKING_HOLD_MAX_MINUTES=45 \
	BOOKING_BEST_ROW_DEPTH=0 "$BOOKING" --json config
[ "$(val 'd["options"]["orphan_policy"]["value"]')" = REFUSE_UNLESS_UNAVOIDABLE ] || fail "config: the orphan policy from the environment"
[ "$(val 'd["options"]["hold_max_minutes"]["value"]')" = 45 ] || fail "config: BOOKING_HOLD_MAX_MINUTES"
[ "$(val 'd["options"]["best_row_depth_percent"]["value"]')" = -1 ] || fail "config: BOOKING_BEST_ROW_DEPTH"
refused VALIDATION_ERROR "a bad BOOKING_ORPHAN_POLICY" env BOOKING_ORPHAN_POLICY=sometimes "$BOOKING" --json config

# best available: side by side in one row, never across an aisle
ok "hold --best 2" as alice --json hold "$showtime" --best 2
best=$(val 'd["reservation"]["id"]')
[ "$(val 'len(d["reservation"]["seats"])')" = 2 ] || fail "hold --best 2: $(val 'd["reservation"]["seats"]')"
[ "$(val 'len({s["row"] for s in d["reservation"]["seats"]})')" = 1 ] || fail "hold --best 2: not in one row"
[ "$(val 'abs(d["reservation"]["seats"][0]["number"] - d["reservation"]["seats"][1]["number"])')" = 1 ] ||
	fail "hold --best 2: not side by side"
ok "hold --best 2 --category premium" as bob --json hold "$showtime" --best 2 --category premium
[ "$(val '{s["row"] for s in d["reservation"]["seats"]} == {"A"}')" = true ] || fail "--category premium: $(val 'd["reservation"]["seats"]')"
[ "$(val 'd["reservation"]["total_amount"]')" = 3000 ] || fail "--category premium: total $(val 'd["reservation"]["total_amount"]')"
ok "hold --best 1 --max-price 10.00" as bob --json hold "$showtime" --best 1 --max-price 10.00
[ "$(val 'd["reservation"]["total_amount"]')" = 1000 ] || fail "--max-price 10.00: total $(val 'd["reservation"]["total_amount"]')"
refused NOT_ENOUGH_SEATS "hold --best 3 --max-price 5.00" as bob --json hold "$showtime" --best 3 --max-price 5.00
refused USAGE_ERROR "hold with seats and --best" as bob --json hold "$showtime" A1 --best 2

# idempotent holds: the same key and request answer the same reservation
ok "hold --key" as alice --json hold "$showtime" B1 B2 --key seats-b1
keyed=$(val 'd["reservation"]["id"]')
ok "hold --key again" as alice --json hold "$showtime" B1 B2 --key seats-b1
[ "$(val 'd["reservation"]["id"]')" = "$keyed" ] || fail "hold --key again: another reservation"
refused IDEMPOTENCY_KEY_REUSED "hold --key for another request" as alice --json hold "$showtime" B3 --key seats-b1
ok "hold --best --key" as alice --json hold "$showtime" --best 2 --key best-two
best_keyed=$(val 'd["reservation"]["id"]')
ok "hold --best --key again" as alice --json hold "$showtime" --best 2 --key best-two
[ "$(val 'd["reservation"]["id"]')" = "$best_keyed" ] || fail "hold --best --key again: another reservation"

# extend: 15 more minutes reach the cap (2 x 15 by default); more is HOLD_LIMIT_REACHED
expires=$(as alice --json show "$keyed" | j 'd["reservation"]["expires_at"]')
ok "extend --minutes 5" as alice --json extend "$keyed" --minutes 5
[ "$(val 'd["reservation"]["expires_at"] > "'"$expires"'"')" = true ] || fail "extend: expires_at did not move"
ok "extend" as alice --json extend "$keyed"
refused HOLD_LIMIT_REACHED "extend past the cap" as alice --json extend "$keyed" --minutes 10
refused FORBIDDEN "extend another's hold" as bob --json extend "$keyed"
refused USAGE_ERROR "extend --minutes 0" as alice --json extend "$keyed" --minutes 0

# change: add, remove, swap; nothing changes on a failure
ok "change --add" as alice --json change "$keyed" --add B3
[ "$(val '[s["label"] for s in d["reservation"]["seats"]]')" = '["B1", "B2", "B3"]' ] || fail "change --add: $(val 'd["reservation"]["seats"]')"
[ "$(val 'd["added"]')" = '["B3"]' ] || fail "change --add: added $(val 'd["added"]')"
ok "change --remove" as alice --json change "$keyed" --remove B1
[ "$(val '[s["label"] for s in d["reservation"]["seats"]]')" = '["B2", "B3"]' ] || fail "change --remove: $(val 'd["reservation"]["seats"]')"
ok "change --add --remove (a swap)" as alice --json change "$keyed" --add B4 --remove B2
[ "$(val '[s["label"] for s in d["reservation"]["seats"]]')" = '["B3", "B4"]' ] || fail "change (swap): $(val 'd["reservation"]["seats"]')"
[ "$(val 'd["reservation"]["total_amount"]')" = 2000 ] || fail "change: total $(val 'd["reservation"]["total_amount"]')"
taken=$(as alice --json show "$best" | j 'd["reservation"]["seats"][0]["label"]')
refused FORBIDDEN "change another's hold" as bob --json change "$keyed" --add B5
refused SEAT_ALREADY_BOOKED "change --add a seat of another hold" as alice --json change "$keyed" --add "$taken"
[ "$(as alice --json show "$keyed" | j '[s["label"] for s in d["reservation"]["seats"]]')" = '["B3", "B4"]' ] ||
	fail "a refused change changed the hold"
refused VALIDATION_ERROR "change --remove every seat" as alice --json change "$keyed" --remove B3,B4
refused USAGE_ERROR "change without --add or --remove" as alice --json change "$keyed"

# block and unblock (admin); a customer may not
ok "block" as admin --json block "$showtime" D1 D2 D3 --reason wheelchair
[ "$(val 'd["seats"]')" = '["D1", "D2", "D3"]' ] || fail "block: seats $(val 'd["seats"]')"
[ "$(val 'd["reason"]')" = wheelchair ] || fail "block: reason"
refused FORBIDDEN "a customer blocks" as bob --json block "$showtime" D5 --reason press
refused SEAT_ALREADY_BOOKED "block a held seat" as admin --json block "$showtime" B3 --reason press
refused USAGE_ERROR "block without --reason" as admin --json block "$showtime" D5
ok "seats --json" b --json seats "$showtime"
[ "$(val 'd["seat_map"]["blocked"]')" = 3 ] || fail "seat map: blocked $(val 'd["seat_map"]["blocked"]')"
[ "$(val '[(s["status"], s.get("reason")) for s in d["seat_map"]["seats"] if s["label"] == "D1"]')" = '[["blocked", "wheelchair"]]' ] ||
	fail "seat map: D1 $(val '[s for s in d["seat_map"]["seats"] if s["label"] == "D1"]')"
[ "$(val '[s["column"] for s in d["seat_map"]["seats"] if s["label"] in ("D10", "D11")]')" = "[11, 13]" ] ||
	fail "seat map: the aisle after D10"
ok "seats (text)" b seats "$showtime"
grep -q '# blocked' "$dir/out" || fail "seats: no legend for blocked seats: $(cat "$dir/out")"
grep -q 'blocked: D1 D2 D3 (wheelchair)' "$dir/out" || fail "seats: no line of blocked seats: $(cat "$dir/out")"
grep -q '^  D  # # # \. ' "$dir/out" || fail "seats: row D is not drawn with its blocked seats and aisle: $(cat "$dir/out")"
refused SEAT_ALREADY_BOOKED "a customer holds a blocked seat" as bob --json hold "$showtime" D1
# an admin sells a blocked seat to a named user on purpose
ok "hold --for a user, of a blocked seat" as admin --json hold "$showtime" D1 --for "$alice_id"
sold_blocked=$(val 'd["reservation"]["id"]')
[ "$(val 'd["reservation"]["user_id"]')" = "$alice_id" ] || fail "hold --for: user $(val 'd["reservation"]["user_id"]')"
refused FORBIDDEN "a customer holds --for another" as bob --json hold "$showtime" D5 --for "$alice_id"
ok "unblock" as admin --json unblock "$showtime" D2
[ "$(val 'd["status"]')" = free ] || fail "unblock: status"
refused INVALID_STATE "unblock a seat that is not blocked" as admin --json unblock "$showtime" D2
refused FORBIDDEN "a customer unblocks" as bob --json unblock "$showtime" D3

# the orphan policy: holding D13 alone would strand D14 at the row's end
refused ORPHAN_SEAT "hold D13 under refuse" env BOOKING_ORPHAN_POLICY=refuse \
	BOOKING_TOKEN="$(cat "$dir/token.bob")" "$BOOKING" --store "$store" --data-dir "$dir/data" --json hold "$showtime" D13
ok "hold D13 with the policy off" as bob --json hold "$showtime" D13

# the door list (admin): every buyer's reservations of the showtime, paged, by status
ok "reservations --showtime" as admin --json reservations --showtime "$showtime"
total=$(val 'd["count"]')
[ "$total" -ge 7 ] || fail "door list: $total reservations"
[ "$(val 'len({r["user_id"] for r in d["reservations"]})')" -ge 2 ] || fail "door list: one buyer only"
[ "$(val 'all(r["showtime_id"] == "'"$showtime"'" for r in d["reservations"])')" = true ] || fail "door list: another showtime"
ok "bookings --showtime --limit 2" as admin --json bookings --showtime "$showtime" --limit 2
[ "$(val 'd["count"]')" = 2 ] || fail "door list page: $(val 'd["count"]')"
cursor=$(val 'd["next_cursor"]')
[ -n "$cursor" ] && [ "$cursor" != None ] || fail "door list: no next_cursor"
ok "bookings --showtime --cursor" as admin --json bookings --showtime "$showtime" --limit 500 --cursor "$cursor"
[ "$(val 'd["count"]')" = $((total - 2)) ] || fail "door list: the second page has $(val 'd["count"]'), not $((total - 2))"
as alice --json cancel "$best" >/dev/null || fail "cancel"
ok "reservations --showtime --status cancelled" as admin --json reservations --showtime "$showtime" --status cancelled
[ "$(val '[r["id"] for r in d["reservations"]]')" = "[\"$best\"]" ] || fail "door list --status: $(val 'd["reservations"]')"
[ "$(val 'd["status"]')" = CANCELLED ] || fail "door list --status: status $(val 'd["status"]')"
refused FORBIDDEN "a customer reads the door list" as bob --json reservations --showtime "$showtime"
refused USAGE_ERROR "--status without --showtime" as admin --json reservations --status pending
refused USAGE_ERROR "an unknown --status" as admin --json reservations --showtime "$showtime" --status sold
ok "door list (text)" as admin reservations --showtime "$showtime" --status PENDING
grep -q "$alice_id" "$dir/out" || fail "door list (text): no USER column: $(cat "$dir/out")"
ok "the user's own list" as alice --json reservations
[ "$(val 'd["user_id"]')" = "$alice_id" ] || fail "reservations: user_id"
[ "$(val '"'"$sold_blocked"'" in [r["id"] for r in d["reservations"]]')" = true ] ||
	fail "reservations: alice does not see the seat sold to her"

b check >/dev/null || fail "booking check found violations: $(b check)"

# a block's reason that got into the store behind the library's back is printed escaped
python3 - "$dir/boxoffice.db" "$showtime" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE showtime_seats SET note = ? WHERE showtime_id = ? AND label = 'D3'",
           ("evil\x1b[31m\x1b]0;pwned\x07\u202e", sys.argv[2]))
db.commit()
PY
ok "seats with a tampered reason" b seats "$showtime"
grep -q 'evil\\u001B\[31m' "$dir/out" || fail "seats: the reason is not shown escaped: $(cat "$dir/out")"
python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.exit(1 if b"\x1b" in b or b"\x07" in b or "\u202e".encode() in b else 0)' \
	"$dir/out" || fail "seats: raw control characters in the reason"
ok "seats --json with a tampered reason" b --json seats "$showtime"
[ "$(val '[s["reason"] for s in d["seat_map"]["seats"] if s["label"] == "D3"][0].startswith("evil\x1b")')" = true ] ||
	fail "seats --json lost the reason"
python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.exit(1 if b"\x1b" in b or b"\x07" in b else 0)' \
	"$dir/out" || fail "seats --json: raw ESC or BEL"
echo "PASS"
