#!/usr/bin/env bash
# A flash sale on PostgreSQL, with and without Redis as contention guard, in
# one run: one showtime of SEATS seats, BUYERS buyers (distinct users) in
# PROCS processes of THREADS threads each asking once for the best 1..4 seats
# and paying for 80 % of its holds (examples/bench_flash.c); then the same
# buyers each naming a random pair on a showtime of 50 000 seats (a named hold
# is one write whatever the venue's size; such a sale is not sold out by
# random pairs: it prints how many seats were taken). Each run prints
# holds/s, p50/p99 of holds, refusals and payments, the time until sold out,
# the store's seat map and booking_check()'s violations (a violation fails
# the script). The servers are throwaway ones (scripts/pg-server.sh: fsync
# off; scripts/redis-server.sh), unless BENCH_PG_URL / BENCH_REDIS_URL name
# running ones (their databases get the benchmark's rows).
# Then a hot spot: 1 000 buyers, every one asking, for 50 seats (random
# named pairs, then the best 1..4), with the guard and without (and, for
# named pairs, the guard only while contended: lock_contended_seconds), each row
# printing the store's and the lock manager's calls beside p50/p99 of every
# hold call (issue 16: the guard should save store round trips and lower
# the p99 there; both are printed, whichever way they fall).
# The defaults are scaled down to keep a run to a minute or two on a 2-core
# machine; the full size of issue 16 (50 000 seats, 100 000 buyers, 4 x 8):
#   scripts/bench-flash.sh build 50000 100000 4 8
# Extra bench-flash flags go in BENCH_FLASH_FLAGS (-n: named pairs; -a:
# buyers ask after sold out too).
# Usage: scripts/bench-flash.sh [BUILD_DIR] [SEATS] [BUYERS] [PROCS] [THREADS]
#        (defaults: build 2000 4000 4 8)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seats=${2:-2000}
buyers=${3:-4000}
procs=${4:-4}
threads=${5:-8}
bench="$build/examples/bench-flash"
[ -x "$bench" ] || { echo "build first: $bench is missing" >&2; exit 1; }

dir=$(mktemp -d)
chmod 755 "$dir"
pg_dir=
redis_url=
cleanup() {
	[ -z "$pg_dir" ] || scripts/pg-server.sh stop "$pg_dir" >/dev/null 2>&1 || true
	[ -z "$redis_url" ] || [ -n "${BENCH_REDIS_URL:-}" ] || scripts/redis-server.sh stop "$redis_url" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

pg_url=${BENCH_PG_URL:-}
if [ -z "$pg_url" ]; then
	pg_dir="$dir/pg"
	pg_url=$(scripts/pg-server.sh start "$pg_dir")
fi
redis_url=${BENCH_REDIS_URL:-$(scripts/redis-server.sh start)}

# shellcheck disable=SC2206 # BENCH_FLASH_FLAGS is a list of flags
args=(-s "$seats" -b "$buyers" -p "$procs" -t "$threads" ${BENCH_FLASH_FLAGS:-})
status=0
echo "== PostgreSQL + Redis (contention guard)"
"$bench" "${args[@]}" -l "$redis_url" "$pg_url" || status=1
echo
echo "== PostgreSQL alone (no contention guard)"
"$bench" "${args[@]}" -l "" "$pg_url" || status=1
echo
echo "== PostgreSQL + Redis, a random named pair each, 50 000 seats"
"$bench" -n -s 50000 -b "$buyers" -p "$procs" -t "$threads" -l "$redis_url" "$pg_url" || status=1
for kind in "-n" ""; do
	what=${kind:+a random named pair each}
	what=${what:-the best 1..4 each}
	echo
	echo "== hot spot: 1 000 buyers for 50 seats, $what, PostgreSQL + Redis (contention guard)"
	# shellcheck disable=SC2086 # $kind is one flag or none
	"$bench" $kind -a -s 50 -b 1000 -p "$procs" -t "$threads" -l "$redis_url" "$pg_url" || status=1
	if [ "$kind" = -n ]; then # the guard serves named holds: its contended-only mode (lock_contended_seconds)
		echo
		echo "== hot spot: 1 000 buyers for 50 seats, $what, PostgreSQL + Redis only while contended (BOOKING_LOCK_CONTENDED_SECONDS=60)"
		# shellcheck disable=SC2086
		BOOKING_LOCK_CONTENDED_SECONDS=60 "$bench" $kind -a -s 50 -b 1000 -p "$procs" -t "$threads" -l "$redis_url" "$pg_url" ||
			status=1
	fi
	echo
	echo "== hot spot: 1 000 buyers for 50 seats, $what, PostgreSQL alone"
	# shellcheck disable=SC2086
	"$bench" $kind -a -s 50 -b 1000 -p "$procs" -t "$threads" -l "" "$pg_url" || status=1
done
exit "$status"
