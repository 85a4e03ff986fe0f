#!/usr/bin/env bash
# Holds per second on PostgreSQL at 1 and 8 clients beside two floors on the
# same server, in one run, with fsync off and then on (two throwaway servers,
# scripts/pg-server.sh: the test harness's fsync=off synchronous_commit=off
# full_page_writes=off, then BOOKING_PG_FSYNC=on: all three on). For each
# setting and client count it prints, rate with p50/p99 latency in
# microseconds:
#   pgbench    pgbench's TPC-B-like transaction (-M prepared);
#   raw-hold   the cheapest raw-SQL transaction writing the rows of a hold:
#              one statement (a CTE, pgbench -f, -M prepared) that claims the
#              2 seats of a pair with the claimable guard, inserts the booking
#              row only when both were claimed, and its outbox event, on the
#              library's own schema (bench-hold creates it); each client has
#              its own 100 pairs on a showtime of its own, and the seats are
#              held until a moment already past, so every transaction does
#              the same writes (the run checks that it wrote one booking and
#              one event per transaction);
#   library    bench-hold (booking_hold through the library, pool of 8),
#              its distinct / contended / best rows for that client count;
# then the ratios of the library's distinct holds/s to raw-hold's and to
# pgbench's tps (issue 16's goals: >= 0.9 x raw-hold at 1 and 8 clients,
# fsync on and off; >= 2 x pgbench at 8 clients). pgbench's and raw-hold's
# latencies come from pgbench's per-transaction log (--log), the library's
# from bench-hold's timing of each try. With fsync off, bench-hold also runs
# with Redis locks (BOOKING_LOCK_URL), with its ratios to the same floors,
# then with the guard only while a showtime is contended
# (BOOKING_LOCK_CONTENDED_SECONDS=60), and the guard's cost: distinct holds/s
# with each guard over those without (issue 16's goal: >= 0.9 uncontended).
# Usage: scripts/bench-pg.sh [BUILD_DIR] [SECONDS_PER_PGBENCH_RUN]
#   SECONDS defaults to 10: 8 pgbench runs of that length, and 8 bench-hold
#   runs of BENCH_PG_HOLDS (default 1000) holds per thread and workload: a
#   few minutes in all.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
secs=${2:-10}
holds=${BENCH_PG_HOLDS:-1000}
bench="$build/examples/bench-hold"
[ -x "$bench" ] || { echo "build first: $bench is missing" >&2; exit 1; }

dir=$(mktemp -d)
chmod 755 "$dir"
redis_url=""
cleanup() {
	local s
	for s in off on; do
		[ ! -d "$dir/pg-$s" ] || scripts/pg-server.sh stop "$dir/pg-$s" >/dev/null 2>&1 || true
	done
	[ -z "$redis_url" ] || scripts/redis-server.sh stop "$redis_url" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
redis_url=$(scripts/redis-server.sh start)

bindir=$(find /usr/lib/postgresql/*/bin -maxdepth 0 -type d | sort -V | tail -n 1)
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
sql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$port" -U postgres booking_test "$@"; }

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

# The raw one-statement hold, for pgbench -f. FLOOR_SHOWTIME is replaced by the
# floor's showtime id. Client k holds pairs of row chr(65 + k) (labels A1, A2,
# ...); ids are 36-character UUIDv7 text like the library's (time-ordered
# keys); the event's data is the library's reservation.created JSON.
cat >"$dir/raw-hold.sql" <<'EOF'
\set pair random(0, 99)
WITH k AS MATERIALIZED (
  SELECT t.ms, lpad(to_hex(t.ms), 12, '0') AS h,
   gen_random_uuid()::text AS r1, gen_random_uuid()::text AS r2, gen_random_uuid()::text AS r3
  FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS ms) t
), i AS MATERIALIZED (
  SELECT ms, 'floor-' || :client_id AS user_id,
   substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r1, 16) AS id,
   substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r2, 16) AS ev,
   substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(r3, 16) AS corr,
   chr(65 + :client_id) || (2 * :pair + 1) AS l1, chr(65 + :client_id) || (2 * :pair + 2) AS l2
  FROM k
), s AS (
  UPDATE showtime_seats t SET status = 1, booking_id = i.id, hold_until = i.ms - 1, version = t.version + 1
  FROM i
  WHERE t.showtime_id = 'FLOOR_SHOWTIME' AND t.label IN (i.l1, i.l2)
   AND (t.status = 0 OR (t.status = 1 AND t.hold_until <= i.ms))
  RETURNING t.label
), b AS (
  INSERT INTO bookings (id, user_id, showtime_id, status, saga, seats, total_amount, currency,
   created_at, expires_at, updated_at, version)
  SELECT i.id, i.user_id, 'FLOOR_SHOWTIME', 1, 1, ARRAY[i.l1, i.l2], 2000, 'EUR', i.ms, i.ms + 900000, i.ms, 1
  FROM i WHERE (SELECT count(*) FROM s) = 2
  RETURNING id
)
INSERT INTO outbox (id, type, aggregate_type, aggregate_id, sequence, occurred_at, correlation_id, traceparent,
 data_json)
SELECT i.ev, 'reservation.created', 'reservation', b.id, 1, i.ms, i.corr, '',
 '{"currency":"EUR","expires_at":' || (i.ms + 900000) || ',"reservation_id":"' || b.id
 || '","seats":["' || i.l1 || '","' || i.l2 || '"],"showtime_id":"FLOOR_SHOWTIME","status":"PENDING","total_amount":'
 || 2000 || ',"user_id":"' || i.user_id || '"}'
FROM b, i;
EOF

# One pgbench run: pgbench_row NAME CLIENTS [ARGS...]; prints its row, sets
# rate[NAME] and done_tx (transactions processed).
declare -A rate
pgbench_row() {
	local name=$1 c=$2 out p50 p99
	shift 2
	rm -f "$logs"/*
	out=$(as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -M prepared -c "$c" -j "$c" -T "$secs" \
		--log --log-prefix="$logs/tx" "$@" booking_test 2>"$dir/pgbench.err") ||
		{ tail -n 5 "$dir/pgbench.err" >&2; echo "bench-pg: pgbench ($name, $c clients) failed" >&2; exit 1; }
	rate[$name]=$(awk '/^tps/ {printf "%.0f", $3; exit}' <<<"$out")
	done_tx=$(awk -F': ' '/^number of transactions actually processed/ {print $2 + 0; exit}' <<<"$out")
	read -r p50 p99 < <(cat "$logs"/tx.* | awk '{print $3}' | percentiles)
	printf '%-10s %7d %10s %8s %8s\n' "$name" "$c" "${rate[$name]}" "$p50" "$p99"
}

# bench-hold's rows for C threads, and the ratios of its distinct holds/s to
# raw-hold's and pgbench's tps at the same count.
declare -A lib
lib_rows() { # lib_rows LOCK_URL CLIENTS HOLDS LABEL
	BOOKING_LOCK_URL=$1 "$bench" "$pg_pool_url" "$2" "$3" | sed -n '/^variant/,$p' |
		awk -v c="$2" '$2 == c || NR == 1' >"$dir/lib.out"
	sed 's/^/  /' "$dir/lib.out"
	lib[$4]=$(awk -v c="$2" '$1 == "distinct" && $2 == c {print $8; exit}' "$dir/lib.out")
	awk -v c="$2" -v raw="${rate[raw-hold]}" -v pgb="${rate[pgbench]}" -v s="$setting" -v l="$4" '
		$1 == "distinct" && $2 == c && raw > 0 && pgb > 0 {
		printf "ratio (fsync %s, %d clients): %s distinct %.0f holds/s = %.2f x raw-hold %d tps (goal >= 0.9), %.2f x pgbench %d tps%s\n",
			s, c, l, $8, $8 / raw, raw, $8 / pgb, pgb, c == 8 ? " (goal >= 2)" : "" }' "$dir/lib.out"
}

for setting in off on; do
	pg_url=$(BOOKING_PG_FSYNC=$setting scripts/pg-server.sh start "$dir/pg-$setting")
	port=${pg_url##*:}; port=${port%%/*}
	case $pg_url in *\?*) pg_pool_url="$pg_url&pool=8" ;; *) pg_pool_url="$pg_url?pool=8" ;; esac
	as_pg "$bindir/pgbench" -h 127.0.0.1 -p "$port" -U postgres -i -s 8 -q booking_test >/dev/null 2>&1
	# The library's schema (one hold of each workload), then the floor's
	# showtime on the same movie and screen, with 8 rows of 200 seats.
	"$bench" "$pg_url" 1 1 >/dev/null
	floor_st=$(sql -c "SELECT '01' || substr(md5(random()::text), 1, 6) || '-0000-7000-8000-' || substr(md5(random()::text), 1, 12)")
	sql -c "INSERT INTO showtimes (id, movie_id, screen_id, starts_at, currency, status, price_categories, price_amounts, created_at)
		SELECT '$floor_st', movie_id, screen_id, starts_at, currency, status, price_categories, price_amounts, created_at
		FROM showtimes LIMIT 1" \
		-c "INSERT INTO showtime_seats (showtime_id, label, category, position)
		SELECT '$floor_st', chr(65 + r) || n, 'standard', r * 200 + n
		FROM generate_series(0, 7) r, generate_series(1, 200) n" \
		-c "ANALYZE"
	sed "s/FLOOR_SHOWTIME/$floor_st/g" "$dir/raw-hold.sql" >"$dir/raw-hold-$setting.sql"
	[ "$(id -u)" -ne 0 ] || chown postgres "$dir/raw-hold-$setting.sql"
	if [ "$setting" = off ]; then
		echo "== PostgreSQL fsync=off synchronous_commit=off full_page_writes=off; pgbench runs ${secs}s; latency in us"
	else
		echo "== PostgreSQL fsync=on synchronous_commit=on full_page_writes=on; pgbench runs ${secs}s; latency in us"
	fi
	for c in 1 8; do
		printf '%-10s %7s %10s %8s %8s\n' floor clients tps p50_us p99_us
		pgbench_row pgbench "$c"
		before=$(sql -c "SELECT (SELECT count(*) FROM bookings WHERE showtime_id = '$floor_st') || ' ' ||
			(SELECT count(*) FROM outbox o JOIN bookings b ON b.id = o.aggregate_id WHERE b.showtime_id = '$floor_st')")
		pgbench_row raw-hold "$c" -n -f "$dir/raw-hold-$setting.sql"
		after=$(sql -c "SELECT (SELECT count(*) FROM bookings WHERE showtime_id = '$floor_st') || ' ' ||
			(SELECT count(*) FROM outbox o JOIN bookings b ON b.id = o.aggregate_id WHERE b.showtime_id = '$floor_st')")
		read -r b0 e0 <<<"$before"
		read -r b1 e1 <<<"$after"
		if [ "$((b1 - b0))" -ne "$done_tx" ] || [ "$((e1 - e0))" -ne "$done_tx" ] || [ "$done_tx" -eq 0 ]; then
			echo "raw-hold wrote $((b1 - b0)) bookings and $((e1 - e0)) events in $done_tx transactions: the floor is broken" >&2
			exit 1
		fi
		echo "raw-hold check: $done_tx transactions, $((b1 - b0)) bookings, $((e1 - e0)) events written"
		echo "library (bench-hold, pool of 8, $holds holds per thread; latency per try):"
		lib_rows "" "$c" "$holds" library
		if [ "$setting" = off ]; then
			echo "library + Redis locks:"
			lib_rows "$redis_url" "$c" "$holds" "library+redis"
			echo "library + Redis locks only while a showtime is contended (BOOKING_LOCK_CONTENDED_SECONDS=60):"
			BOOKING_LOCK_CONTENDED_SECONDS=60 lib_rows "$redis_url" "$c" "$holds" "library+redis-contended"
			awk -v c="$c" -v n="${lib[library]}" -v a="${lib[library+redis]}" -v k="${lib[library+redis-contended]}" \
				'BEGIN { if (n > 0) printf "ratio (%d clients): uncontended distinct holds with the Redis guard = %.2f x without (goal >= 0.9); guard only while contended = %.2f x\n", c, a / n, k / n }'
		fi
	done
	scripts/pg-server.sh stop "$dir/pg-$setting" >/dev/null 2>&1 || true
done
