#!/bin/sh
# `booking demo --bots N` (doc/fairness.md, "Fairness measured"): the fans
# against N threads of one bot account, with the fair-sale limits off and
# on. What must hold whatever the threads' order: with the limits on the bot
# account has at most 10 seats (the per-buyer limit) and most of its holds
# are refused; every run's booking_check() is clean; the summary is one
# JSON object and the demo's own check passes.
# usage: cli_demo_bots.sh [PATH_TO_BOOKING]
set -eu
BOOKING=${1:-booking}
case $BOOKING in /*) ;; */*) BOOKING=$(pwd)/$BOOKING ;; esac

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-demo-bots.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
unset BOOKING_STORE_URL BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_ENV_FILE BOOKING_TOKEN \
	BOOKING_MAX_SEATS_PER_USER_SHOWTIME BOOKING_MAX_LIVE_HOLDS_PER_USER BOOKING_RATE_HOLDS_PER_MINUTE \
	BOOKING_RATE_BURST BOOKING_WAITLIST_MAX_PASSES || true
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192 NO_COLOR=1 LC_ALL=C

fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$dir"
if ! "$BOOKING" --json demo --dir "$dir/demo" --buyers 80 --seats 60 --seed 11 --bots 8 --no-compare >"$dir/out" 2>"$dir/err"; then
	fail "demo --bots exited $?: $(cat "$dir/err")"
fi
python3 - "$dir/out" <<'PY' || fail "the fairness summary: $(cat "$dir/out")"
import json, sys
d = json.load(open(sys.argv[1]))
f = d["fairness"]
assert f["bots"] == 8, f
off, on = f["limits_off"], f["limits_on"]
for run in (off, on):
    assert run["violations"] == 0, run
    assert run["sold"] <= 60 and run["bot_seats"] + run["fan_seats"] == run["sold"], run
assert on["bot_seats"] <= 10, on                 # the per-buyer seat limit, whatever the threads did
assert on["bot_holds_refused"] > 0, on            # the bots kept trying and were refused
assert off["bot_holds_refused"] == 0, off         # nothing refuses them with the limits off
assert on["waiters_served"] <= on["waiters"], on
print("demo --bots: off %d/%d seats to the bots, on %d/%d; %d fans served from the line" % (
    off["bot_seats"], off["sold"], on["bot_seats"], on["sold"], on["waiters_served"]))
PY
echo "ok"
