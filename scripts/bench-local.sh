#!/usr/bin/env bash
# The one-machine stores in one run, each beside its goal of issue 16:
#  - SQLite file, synchronous=NORMAL then FULL: bench-hold at 1..THREADS
#    threads, then its ratios: the library's hold to the raw sqlite3 hold
#    writing the same rows (goal >= 0.9) and to a one-row transaction (goal
#    >= 1/3), and THREADS threads to 1 thread (goal >= 3x at 8, group commit);
#  - memory: bench-hold at 1 thread, holds/s beside the goal of 500 000/s.
# Every row prints p50/p99 beside its rate. A benchmark: it asserts nothing.
# Usage: scripts/bench-local.sh [BUILD_DIR] [THREADS] [HOLDS_PER_THREAD]
#        (defaults: build 8 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-8}
holds=${3:-1000}
bench="$build/examples/bench-hold"
[ -x "$bench" ] || { echo "build first: $bench is missing" >&2; exit 1; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

for sync in normal full; do
	echo "== SQLite file, synchronous=$sync, 1..$threads threads, $holds holds per thread"
	"$bench" "sqlite://$dir/$sync.db?synchronous=$sync" "$threads" "$holds" | sed -n '/^variant/,$p'
	echo
done

echo "== memory:, 1 thread, $((holds * 50)) holds"
"$bench" memory: 1 "$((holds * 50))" | sed -n '/^variant/,$p' | tee "$dir/mem.out"
awk '$1 == "distinct" && $2 == 1 { printf "ratio: memory distinct hold at 1 thread %.0f/s = %.2f x the goal of 500000/s\n", $8, $8 / 500000 }' \
	"$dir/mem.out"
