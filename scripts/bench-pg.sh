#!/usr/bin/env bash
# Holds per second on PostgreSQL (+ Redis locks) at 1 and 8 clients, beside
# pgbench's TPC-B-like transactions on the same throwaway server, in one run.
# The server is the test harness's (scripts/pg-server.sh: fsync off), so the
# figures compare the two workloads, not the disk.
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

echo "== pgbench (TPC-B-like, prepared), ${secs}s per run"
as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -i -s 8 -q booking_test >/dev/null 2>&1
for c in 1 8; do
	tps=$(as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -M prepared -c "$c" -j "$c" -T "$secs" booking_test 2>/dev/null |
		awk '/^tps/ {print $3; exit}')
	printf 'pgbench  clients %-2d  %10s tps\n' "$c" "$tps"
done

echo "== bench-hold on PostgreSQL (pool of 8)"
case $pg_url in *\?*) pg_pool_url="$pg_url&pool=8" ;; *) pg_pool_url="$pg_url?pool=8" ;; esac
for c in 1 8; do
	BOOKING_LOCK_URL= "$bench" "$pg_pool_url" "$c" 1000 | sed -n '/^variant/,$p' | awk -v c="$c" '$2 == c || NR == 1'
done
echo "== bench-hold on PostgreSQL + Redis locks"
for c in 1 8; do
	BOOKING_LOCK_URL="$redis_url" "$bench" "$pg_pool_url" "$c" 1000 | sed -n '/^variant/,$p' | awk -v c="$c" '$2 == c || NR == 1'
done
