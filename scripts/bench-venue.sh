#!/usr/bin/env bash
# What a large venue costs, in one run: a showtime of 1 000, 10 000 and
# 100 000 seats created, its seat map read (p50/p99) and named and
# best-available holds of 2 made (p50/p99), on memory:, on a SQLite file
# (beside the raw SQL doing the same work, through sqlite3, in the same run)
# and, when BENCH_PG_URL is set, on PostgreSQL: BENCH_PG_URL=postgresql://...
# uses that server (its database gets the benchmark's rows), BENCH_PG_URL=start
# starts a throwaway one as scripts/bench-pg.sh does (scripts/pg-server.sh).
# Each run prints the goals of issue 16: a 100 000-seat map within 50 ms on
# SQLite, and a hold's time independent of the venue's size.
# Usage: scripts/bench-venue.sh [BUILD_DIR] [SIZES] [READS] [HOLDS]
#        (defaults: build 1000,10000,100000 20 50)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sizes=${2:-1000,10000,100000}
reads=${3:-20}
holds=${4:-50}
bench="$build/examples/bench-venue"
[ -x "$bench" ] || { echo "build first: $bench is missing" >&2; exit 1; }

dir=$(mktemp -d)
chmod 755 "$dir"
pg_dir=
cleanup() {
	[ -z "$pg_dir" ] || scripts/pg-server.sh stop "$pg_dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT

echo "== memory"
"$bench" memory: "$sizes" "$reads" "$holds"
echo
echo "== SQLite file"
"$bench" "sqlite://$dir/venue.db" "$sizes" "$reads" "$holds"

pg_url=${BENCH_PG_URL:-}
if [ "$pg_url" = start ]; then
	pg_dir="$dir/pg"
	pg_url=$(scripts/pg-server.sh start "$pg_dir")
fi
if [ -n "$pg_url" ]; then
	echo
	echo "== PostgreSQL (no raw floor printed: the SQLite figures carry it)"
	"$bench" "$pg_url" "$sizes" "$reads" "$holds"
else
	echo
	echo "(PostgreSQL: set BENCH_PG_URL=postgresql://... or BENCH_PG_URL=start)"
fi
