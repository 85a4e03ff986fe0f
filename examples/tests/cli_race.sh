#!/bin/sh
# 8 `booking hold` processes race for seat A1 of one showtime in one SQLite
# file: exactly one must exit 0, the other 7 must exit 1 with
# SEAT_ALREADY_BOOKED, and `booking check` must find no violation.
# The catalog is made by the system actor (--as system); each racer is a
# registered user acting with its own token (BOOKING_TOKEN).
# usage: cli_race.sh [PATH_TO_BOOKING] [RACERS]
set -eu
BOOKING=${1:-booking}
RACERS=${2:-8}
case $BOOKING in /*) ;; */*) BOOKING=$(pwd)/$BOOKING ;; esac

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-race.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM
store="sqlite://$dir/race.db"
unset BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_ENV_FILE BOOKING_TOKEN \
	BOOKING_JWT_PRIVATE_KEY_FILE BOOKING_JWT_PUBLIC_KEYS_FILE || true
# A cheap argon2id: this tests seats, not password hashing.
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192

b() { "$BOOKING" --store "$store" --data-dir "$dir/data" "$@"; }
first_id() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; }

b init >/dev/null
theater=$(b --as system --json theater add "Race Hall" | first_id)
screen=$(b --as system --json screen add "$theater" "Screen 1" --rows A-B --seats 10 | first_id)
movie=$(b --as system --json movie add "Photo Finish" --duration 90 | first_id)
showtime=$(b --as system --json showtime add "$movie" "$screen" --starts +120 --currency EUR --price standard=9.50 | first_id)
[ -n "$showtime" ] || { echo "FAIL: could not create the catalog" >&2; exit 1; }

# One user per racer, logged in ahead of the race.
i=1
while [ "$i" -le "$RACERS" ]; do
	echo "Racer password $i" | b register "racer-$i@example.com" >/dev/null
	echo "Racer password $i" | b login "racer-$i@example.com" --print-token >"$dir/token.$i"
	[ -s "$dir/token.$i" ] || { echo "FAIL: racer $i could not log in" >&2; exit 1; }
	i=$((i + 1))
done

# Start all racers at once: each waits for the gate file, then holds A1.
i=1
while [ "$i" -le "$RACERS" ]; do
	(
		while [ ! -e "$dir/go" ]; do sleep 0.01; done
		set +e
		BOOKING_TOKEN=$(cat "$dir/token.$i") b hold "$showtime" A1 >"$dir/out.$i" 2>"$dir/err.$i"
		echo $? >"$dir/rc.$i"
	) &
	i=$((i + 1))
done
sleep 0.2
touch "$dir/go"
wait

winners=0 losers=0 bad=0
i=1
while [ "$i" -le "$RACERS" ]; do
	rc=$(cat "$dir/rc.$i")
	if [ "$rc" = 0 ]; then
		winners=$((winners + 1))
	elif [ "$rc" = 1 ] && grep -q '^error: SEAT_ALREADY_BOOKED' "$dir/err.$i"; then
		losers=$((losers + 1))
	else
		bad=$((bad + 1))
		echo "racer $i: exit $rc: $(cat "$dir/err.$i")" >&2
	fi
	i=$((i + 1))
done

echo "winners=$winners losers=$losers unexpected=$bad"
[ "$winners" -eq 1 ] || { echo "FAIL: expected exactly one winner" >&2; exit 1; }
[ "$bad" -eq 0 ] || { echo "FAIL: unexpected failures" >&2; exit 1; }
[ "$losers" -eq $((RACERS - 1)) ] || { echo "FAIL: expected $((RACERS - 1)) SEAT_ALREADY_BOOKED" >&2; exit 1; }

b check || { echo "FAIL: booking check found violations" >&2; exit 1; }
# the winner's reservation belongs to the winner's user
for i in $(seq 1 "$RACERS"); do
	if [ "$(cat "$dir/rc.$i")" = 0 ]; then
		n=$(BOOKING_TOKEN=$(cat "$dir/token.$i") b --json reservations | grep -o '"count":[0-9]*' | cut -d: -f2)
		[ "$n" = 1 ] || { echo "FAIL: the winner (racer $i) sees $n reservations" >&2; exit 1; }
	fi
done
echo "PASS"
