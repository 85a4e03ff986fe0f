#!/usr/bin/env bash
# Holds per second on PostgreSQL (+ Redis locks) at 1 and 8 clients, beside
# pgbench's TPC-B-like transactions on the same throwaway server, in one run.
# The server is the test harness's (scripts/pg-server.sh: fsync off), so the
# figures compare the two workloads, not the disk. Each row prints p50 and p99
# latency (microseconds) beside its rate: pgbench's from its per-transaction
# log (--log), bench-hold's from its own timing of each try; each client count
# ends with the ratio of the library's distinct holds/s to pgbench's tps.
# Usage: scripts/bench-pg.sh [BUILD_DIR] [SECONDS_PER_PGBENCH_RUN]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-10}
bench="$build/examples/bench-hold"
[ -x "$bench" ] || { echo "build first: $bench is missing" >&2; exit 1; }

dir=$(mktemp -d)
chmod 755 "$dir"
pg_url=$(scripts/pg-server.sh start "$dir/pg")
redis_url=$(scripts/redis-server.sh start)
trap 'scripts/pg-server.sh stop "$dir/pg" >/dev/null 2>&1 || true; scripts/redis-server.sh stop "$redis_url" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT

bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
port=${pg_url##*:}; port=${port%%/*}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# p50/p99 of pgbench's transactions, in microseconds, from its per-transaction
# log (--log: field 3 is the transaction's latency in us).
percentiles() {
	sort -n | awk '{v[NR] = $1} END {
		if (NR == 0) { print "- -"; exit }
		r50 = int(0.50 * NR + 0.999999); r99 = int(0.99 * NR + 0.999999)
		printf "%.1f %.1f\n", v[r50], v[r99] }'
}
logs=$dir/pgbench-log
mkdir "$logs"
[ "$(id -u)" -ne 0 ] || chown postgres "$logs"

echo "== pgbench (TPC-B-like, prepared), ${secs}s per run; latency per transaction"
as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -i -s 8 -q booking_test >/dev/null 2>&1
printf '%-8s %7s %10s %8s %8s\n' floor clients tps p50_us p99_us
declare -A floor_tps
for c in 1 8; do
	rm -f "$logs"/*
	tps=$(as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -M prepared -c "$c" -j "$c" -T "$secs" \
		--log --log-prefix="$logs/tx" booking_test 2>/dev/null |
		awk '/^tps/ {printf "%.0f", $3; exit}')
	read -r p50 p99 < <(cat "$logs"/tx.* | awk '{print $3}' | percentiles)
	floor_tps[$c]=$tps
	printf '%-8s %7d %10s %8s %8s\n' pgbench "$c" "$tps" "$p50" "$p99"
done

# bench-hold's table (latency per try, in microseconds), its rows for C threads,
# and the ratio of its distinct holds/s to pgbench's tps at the same count.
lib_rows() { # lib_rows LOCK_URL CLIENTS
	BOOKING_LOCK_URL=$1 "$bench" "$pg_pool_url" "$2" 1000 | sed -n '/^variant/,$p' | awk -v c="$2" '$2 == c || NR == 1' >"$dir/lib.out"
	cat "$dir/lib.out"
	awk -v c="$2" -v f="${floor_tps[$2]}" '$1 == "distinct" && $2 == c && f > 0 {
		printf "ratio: distinct holds/s at %d clients %.0f = %.2f x pgbench tps %d\n", c, $8, $8 / f, f }' "$dir/lib.out"
}
echo "== bench-hold on PostgreSQL (pool of 8)"
case $pg_url in *\?*) pg_pool_url="$pg_url&pool=8" ;; *) pg_pool_url="$pg_url?pool=8" ;; esac
for c in 1 8; do
	lib_rows "" "$c"
done
echo "== bench-hold on PostgreSQL + Redis locks"
for c in 1 8; do
	lib_rows "$redis_url" "$c"
done
