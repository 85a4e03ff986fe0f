#!/usr/bin/env bash
# HTTP holds per second (booking-server driven by wrk) beside the library's
# own (build/examples/bench-hold, its "distinct" variant) on the same kind of
# store and the same thread count, side by side with the ratio.
#
#   scripts/bench-http.sh [BUILD_DIR] [THREADS] [SECONDS] [sqlite|postgresql|all]
#
# Defaults: build 4 10 sqlite. The workload is bench-hold's "distinct" one:
# every client (a wrk thread with one connection, its own user and token)
# holds pairs of seats on showtimes of its own (screens "A-J:20", 100 pairs
# each), so no two requests want the same seat; THREADS clients against a
# server with --threads THREADS, beside bench-hold's THREADS threads.
# SQLite: a fresh file store for each side (booking init). PostgreSQL: a
# throwaway server (scripts/pg-server.sh, fsync off), one database per side.
# WRK_THREADS=N runs wrk's THREADS connections on N threads instead (its
# threads share the machine with the server; bench-hold has no client), the
# connections of a thread sharing its user and showtimes.
# Latency beside each rate, p50 and p99 in microseconds: HTTP's from wrk's
# latency distribution (every request, as --latency prints it), the
# library's from bench-hold's timing of each booking_hold call.
# A benchmark, not a test: it prints figures and asserts nothing. Needs wrk
# and curl (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
threads=${2:-4}
secs=${3:-10}
which_stores=${4:-sqlite}
wrk_threads=${WRK_THREADS:-$threads}
[ "$wrk_threads" -ge 1 ] && [ "$wrk_threads" -le "$threads" ] || { echo "bench-http: WRK_THREADS is 1..THREADS" >&2; exit 1; }
server=$build/examples/server/booking-server
cli=$build/examples/booking
bench=$build/examples/bench-hold
for b in "$server" "$cli" "$bench"; do [ -x "$b" ] || { echo "bench-http: build first: $b is missing" >&2; exit 1; }; done
command -v wrk >/dev/null || { echo "bench-http: wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench-http: curl is not installed (scripts/install-deps.sh)" >&2; exit 1; }
server=$(cd "$(dirname "$server")" && pwd)/$(basename "$server")
cli=$(cd "$(dirname "$cli")" && pwd)/$(basename "$cli")
bench=$(cd "$(dirname "$bench")" && pwd)/$(basename "$bench")

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-bench-http.XXXXXX")
chmod 755 "$dir"
srv_pid= pg_dir=
cleanup() {
	[ -z "$srv_pid" ] || { kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null || true; }
	[ -z "$pg_dir" ] || scripts/pg-server.sh stop "$pg_dir" >/dev/null 2>&1 || true
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 143' INT TERM

export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192 BOOKING_ACCESS_TOKEN_TTL_SECONDS=3600
export BOOKING_LOG_LEVEL=ERROR
unset BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_TOKEN
PW='Bench-password-42'
data=$dir/booking-data

json_field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d'"$1"')'; }
first_id() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; } # a record's own id comes first
post() { # post PATH JSON [TOKEN] → body
	curl -sS --fail-with-body -X POST "$base$1" -H 'Content-Type: application/json' ${3:+-H "Authorization: Bearer $3"} -d "$2"
}

# The wrk script: thread N (from 0) holds seat pairs on its own showtimes,
# read from showtimes.N, with the token of tokens line N+1.
cat >"$dir/hold.lua" <<'EOF'
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  local dir = args[1]
  local lines = {}
  for l in io.lines(dir .. "/tokens") do table.insert(lines, l) end
  token = lines[tid + 1]
  showtimes = {}
  for l in io.lines(dir .. "/showtimes." .. tid) do table.insert(showtimes, l) end
  n = 0
  conflicts = 0
  others = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end
function request()
  local st = showtimes[math.floor(n / 100) % #showtimes + 1]
  local pair = n % 100
  n = n + 1
  local row = string.char(65 + math.floor(2 * pair / 20))
  local a = (2 * pair) % 20 + 1
  local body = '{"showtime_id":"' .. st .. '","seat_ids":["' .. row .. a .. '","' .. row .. (a + 1) .. '"]}'
  return wrk.format(nil, "/api/v1/bookings", nil, body)
end
function response(status, headers, body)
  if status == 409 then conflicts = conflicts + 1 elseif status ~= 201 then others = others + 1 end
end
function done(summary, latency, requests)
  local c, o = 0, 0
  for _, t in ipairs(threads) do c = c + t:get("conflicts"); o = o + t:get("others") end
  local secs = summary.duration / 1e6
  local holds = summary.requests - c - o
  io.write(string.format("WRK requests=%d holds=%d conflicts=%d others=%d seconds=%.3f holds_per_s=%.0f p50_us=%.0f p90_us=%.0f p99_us=%.0f\n",
    summary.requests, holds, c, o, secs, holds / secs, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
EOF

# http_side URL: start a server on the store URL, make the catalog and the
# users, run wrk; prints the WRK line.
http_side() {
	local url=$1
	rm -rf "$data"
	(cd "$dir" && BOOKING_STORE_URL=$url "$cli" init >/dev/null)
	echo "$PW" | BOOKING_STORE_URL=$url "$cli" --data-dir "$data" --as system register --admin admin@bench.invalid >/dev/null
	(cd "$dir" && BOOKING_MAX_SEATS_PER_USER_SHOWTIME=0 exec "$server" --store "$url" --data-dir "$data" --listen 127.0.0.1:0 --threads "$threads" \
		>"$dir/server.out" 2>"$dir/server.err") &
	srv_pid=$!
	for _ in $(seq 1 100); do grep -q listening "$dir/server.out" 2>/dev/null && break; sleep 0.1; done
	base=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$dir/server.out")
	[ -n "$base" ] || { cat "$dir/server.err" >&2; echo "bench-http: the server did not start" >&2; exit 1; }
	local admin theater screen movie
	admin=$(post /api/v1/auth/login "{\"email\":\"admin@bench.invalid\",\"password\":\"$PW\"}" | json_field "['access_token']")
	theater=$(post /api/v1/theaters '{"name":"Bench"}' "$admin" | json_field "['id']")
	screen=$(post "/api/v1/theaters/$theater/screens" '{"name":"Bench","layout":"A-J:20"}' "$admin" | json_field "['id']")
	movie=$(post /api/v1/movies '{"title":"Bench","duration_minutes":90}' "$admin" | json_field "['id']")
	# Enough showtimes that no wrk thread wraps around at 2500 holds/s per connection.
	local per=$(((secs * 2500 * threads / wrk_threads + 99) / 100)) starts
	starts=$(python3 -c 'import time; print(int(time.time() * 1000) + 86400000)')
	: >"$dir/tokens"
	for t in $(seq 0 $((wrk_threads - 1))); do
		local email="bench-$t@bench.invalid"
		post /api/v1/auth/register "{\"email\":\"$email\",\"password\":\"$PW\"}" >/dev/null
		post /api/v1/auth/login "{\"email\":\"$email\",\"password\":\"$PW\"}" | json_field "['access_token']" >>"$dir/tokens"
		: >"$dir/showtimes.$t"
		for _ in $(seq 1 "$per"); do
			post /api/v1/showtimes "{\"movie_id\":\"$movie\",\"screen_id\":\"$screen\",\"starts_at\":$starts,\"currency\":\"EUR\",\"prices\":{\"standard\":1000}}" "$admin" |
				first_id >>"$dir/showtimes.$t"
		done
	done
	wrk -t "$wrk_threads" -c "$threads" -d "${secs}s" --timeout 10s -s "$dir/hold.lua" "$base" -- "$dir" | grep '^WRK'
	# Context: the same clients on GET /health (the HTTP layer alone) and on
	# GET /api/v1/auth/me (a token verified, its revocation looked up, the user read).
	local ctx=$(((secs + 2) / 3)) rps_health rps_me
	rps_health=$(wrk -t "$wrk_threads" -c "$threads" -d "${ctx}s" "$base/health" | awk '/^Requests\/sec/ {printf "%.0f", $2}')
	rps_me=$(wrk -t "$wrk_threads" -c "$threads" -d "${ctx}s" -H "Authorization: Bearer $(head -n 1 "$dir/tokens")" "$base/api/v1/auth/me" |
		awk '/^Requests\/sec/ {printf "%.0f", $2}')
	echo "CTX health_rps=$rps_health me_rps=$rps_me"
	# Where the store's work went: the server's calls to it by operation
	# (holds, and what its background threads did meanwhile).
	curl -sS "$base/metrics" | awk -F'[{}]' '/^booking_backend_calls_total\{dependency="store"/ {
		split($2, kv, ","); op = ""; for (i in kv) if (kv[i] ~ /^op=/) { op = kv[i]; gsub(/op=|"/, "", op) }
		n[op] += $3 } END { for (op in n) if (n[op] >= 1000) printf "OPS %s %d\n", op, n[op] }' | sort -k3 -n -r
	kill "$srv_pid"
	wait "$srv_pid" 2>/dev/null || true
	srv_pid=
}

# lib_side URL: bench-hold's distinct variant at THREADS threads; prints its holds/s, p50 and p99 (us).
lib_side() {
	"$bench" "$1" "$threads" "$2" | awk -v t="$threads" '$1 == "distinct" && $2 == t {printf "%.0f %.0f %.0f\n", $8, $9, $10}'
}

results=()
run_store() {
	local name=$1 http_url=$2 lib_url=$3
	echo "== $name: wrk $threads connections on $wrk_threads threads for ${secs}s against booking-server --threads $threads" >&2
	local line http lib http_p50 http_p99 lib_p50 lib_p99
	http_side "$http_url" >"$dir/wrk.out" # not in $(...): its server is the EXIT trap's to stop
	line=$(grep '^WRK' "$dir/wrk.out")
	echo "   $line" >&2
	echo "   $(grep '^CTX' "$dir/wrk.out") (requests/s with the same clients: the HTTP layer alone, and token checks)" >&2
	echo "   the server's store calls (>= 1000) by operation: $(awk '/^OPS/ {printf "%s %s  ", $2, $3}' "$dir/wrk.out")" >&2
	http=$(sed -n 's/.*holds_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
	http_p50=$(sed -n 's/.*p50_us=\([0-9.]*\).*/\1/p' <<<"$line")
	http_p99=$(sed -n 's/.*p99_us=\([0-9.]*\).*/\1/p' <<<"$line")
	# The library alone: bench-hold, 1000 holds per thread (it runs its
	# three variants at 1, 2, ... THREADS threads; the distinct one at THREADS is kept).
	echo "== $name: bench-hold $threads threads, 1000 holds each" >&2
	read -r lib lib_p50 lib_p99 < <(lib_side "$lib_url" 1000)
	results+=("$(printf '%-11s %7s %12s %12s %7s %9s %9s %9s %9s' "$name" "$threads" "$http" "$lib" \
		"$(python3 -c "print('%.2f' % ($http / $lib))")" "$http_p50" "$http_p99" "$lib_p50" "$lib_p99")")
}

case $which_stores in sqlite | all)
	run_store sqlite "sqlite://$dir/booking-data/booking.db" "sqlite://$dir/bench-lib.db"
	;;
esac
case $which_stores in postgresql | all)
	pg_dir=$dir/pg
	pg_url=$(scripts/pg-server.sh start "$pg_dir")
	port=${pg_url##*:}
	port=${port%%/*}
	bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; else as_pg() { "$@"; }; fi
	as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres bench_lib
	pool="pool=$((threads > 4 ? threads : 4))"
	run_store postgresql "$pg_url?$pool" "postgresql://postgres@127.0.0.1:$port/bench_lib?$pool"
	;;
esac

echo
printf '%-11s %7s %12s %12s %7s %9s %9s %9s %9s\n' store threads "HTTP holds/s" "lib holds/s" ratio \
	"HTTP p50" "HTTP p99" "lib p50" "lib p99"
echo "(latencies in microseconds: HTTP per request from wrk, lib per booking_hold call from bench-hold)"
printf '%s\n' "${results[@]}"
