#!/bin/sh
# booking-server smoke test: start it on port 0 with a SQLite store in a
# temporary directory; register, log in, build a catalog as an admin (made
# as the CLI makes one: `booking --as system register EMAIL --admin`), hold,
# pay, then 409 on a taken seat, 401 without a token, 413 on an oversized
# body, 422 on an unknown field, 400 on bad JSON, an SSE event within a
# second, ETag/304, and SIGTERM → exit 0.
# usage: smoke.sh BOOKING_SERVER BOOKING [SOURCE_DIR]
set -eu
SERVER=$1
BOOKING=$2
case $SERVER in /*) ;; *) SERVER=$(pwd)/$SERVER ;; esac
case $BOOKING in /*) ;; *) BOOKING=$(pwd)/$BOOKING ;; esac
command -v curl >/dev/null || { echo "FAIL: curl is missing (scripts/install-deps.sh)" >&2; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-server-smoke.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null || true
	[ -n "${SMOKE_KEEP:-}" ] || rm -rf "$dir"
}
trap cleanup EXIT INT TERM
unset BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_ENV_FILE BOOKING_TOKEN BOOKING_STORE_URL \
	BOOKING_JWT_PRIVATE_KEY_FILE BOOKING_JWT_PUBLIC_KEYS_FILE BOOKING_PAYMENT_KEY_FILE BOOKING_HTTP_LISTEN || true
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192
store="sqlite://$dir/booking.db"
b() { "$BOOKING" --store "$store" --data-dir "$dir/data" "$@"; }
fail() { echo "FAIL: $*" >&2; [ -f "$dir/err" ] && sed 's/^/server: /' "$dir/err" >&2; exit 1; }

b init >/dev/null
echo "Admin-Passw0rd-1" | b --as system register admin@example.com --admin >/dev/null
mkdir -p "$dir/www"
echo '<!doctype html><title>seats</title>' >"$dir/www/index.html"
echo 'secret' >"$dir/secret.txt"

"$SERVER" --store "$store" --data-dir "$dir/data" --listen 127.0.0.1:0 --max-body 1024 \
	--www "$dir/www" --openapi "$dir/none.json" >"$dir/out" 2>"$dir/err" &
pid=$!
i=0
while ! grep -q "listening on" "$dir/out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "no startup line"
	kill -0 "$pid" 2>/dev/null || fail "the server exited"
	sleep 0.1
done
base=$(sed -n 's/^booking-server: listening on \(http:[^ ]*\)$/\1/p' "$dir/out")
[ -n "$base" ] || fail "bad startup line: $(cat "$dir/out")"

# call METHOD PATH [BODY] [TOKEN] [extra curl args...]: prints the body to $dir/body, the status on stdout
call() {
	m=$1 p=$2 body=${3:-} tok=${4:-}
	if [ $# -ge 4 ]; then shift 4; else shift $#; fi
	set -- -s -o "$dir/body" -D "$dir/headers" -w '%{http_code}' -X "$m" "$@"
	[ -n "$tok" ] && set -- "$@" -H "Authorization: Bearer $tok"
	[ -n "$body" ] && set -- "$@" -H 'Content-Type: application/json' --data-binary "$body"
	curl "$@" "$base$p"
}
expect() { # expect STATUS CODE-IN-BODY (or "") — after call
	[ "$got" = "$1" ] || fail "$what: status $got, expected $1: $(cat "$dir/body")"
	[ -z "$2" ] || grep -q "\"code\":\"$2\"" "$dir/body" || fail "$what: no $2 in $(cat "$dir/body")"
	grep -qi '^X-Correlation-ID: ' "$dir/headers" || fail "$what: no X-Correlation-ID"
}
field() { grep -o "\"$1\":\"[^\"]*\"" "$dir/body" | head -n 1 | cut -d'"' -f4; }

what="health"; got=$(call GET /health); expect 200 ""
what="ready"; got=$(call GET /ready); expect 200 ""
what="page"; got=$(call GET /); expect 200 ""
grep -qi '^Content-Type: text/html' "$dir/headers" || fail "page: not text/html"
what="traversal"; got=$(curl -s -o "$dir/body" -D "$dir/headers" -w '%{http_code}' --path-as-is "$base/../secret.txt"); expect 404 NOT_FOUND
what="traversal (encoded)"; got=$(curl -s -o "$dir/body" -D "$dir/headers" -w '%{http_code}' --path-as-is "$base/%2e%2e/secret.txt"); expect 404 NOT_FOUND
what="openapi missing"; got=$(call GET /openapi.json); expect 404 NOT_FOUND
what="no route"; got=$(call GET /api/v1/nothing); expect 404 NOT_FOUND
what="method"; got=$(call DELETE /api/v1/movies); expect 405 METHOD_NOT_ALLOWED
what="correlation id"; got=$(call GET /health "" "" -H "X-Correlation-ID: smoke-1.2_3")
grep -qi '^X-Correlation-ID: smoke-1.2_3' "$dir/headers" || fail "correlation id not echoed"

what="register"; got=$(call POST /api/v1/auth/register '{"email":"ann@example.com","password":"Ann-Passw0rd-12"}'); expect 201 ""
what="register bob"; got=$(call POST /api/v1/auth/register '{"email":"bob@example.com","password":"Bob-Passw0rd-12"}'); expect 201 ""
what="unknown field"; got=$(call POST /api/v1/auth/register '{"email":"c@example.com","password":"Cee-Passw0rd-12","admin":true}'); expect 422 VALIDATION_ERROR
grep -q '"field":"admin"' "$dir/body" || fail "422 does not name the field: $(cat "$dir/body")"
what="wrong type"; got=$(call POST /api/v1/auth/login '{"email":"ann@example.com","password":12}'); expect 422 VALIDATION_ERROR
what="bad json"; got=$(call POST /api/v1/auth/login '{"email":'); expect 400 BAD_REQUEST
what="bad utf-8"; got=$(call POST /api/v1/auth/login "$(printf '{"email":"\377"}')"); expect 400 BAD_REQUEST
what="login"; got=$(call POST /api/v1/auth/login '{"email":"ann@example.com","password":"Ann-Passw0rd-12"}'); expect 200 ""
ann=$(field access_token)
what="login bob"; got=$(call POST /api/v1/auth/login '{"email":"bob@example.com","password":"Bob-Passw0rd-12"}'); expect 200 ""
bob=$(field access_token)
what="login admin"; got=$(call POST /api/v1/auth/login '{"email":"admin@example.com","password":"Admin-Passw0rd-1"}'); expect 200 ""
admin=$(field access_token)
what="me"; got=$(call GET /api/v1/auth/me "" "$ann"); expect 200 ""
what="jwks"; got=$(call GET /.well-known/jwks.json); expect 200 ""
grep -q '"kty":"OKP"' "$dir/body" || fail "jwks: no key"
grep -q '"d":' "$dir/body" && fail "jwks: a private part"

what="movie by a customer"; got=$(call POST /api/v1/movies '{"title":"Dune","duration_minutes":155}' "$ann"); expect 403 FORBIDDEN
what="movie"; got=$(call POST /api/v1/movies '{"title":"Dune","duration_minutes":155}' "$admin"); expect 201 ""
movie=$(field id)
what="theater"; got=$(call POST /api/v1/theaters '{"name":"Odeon","city":"Leeds"}' "$admin"); expect 201 ""
theater=$(field id)
what="screen"; got=$(call POST "/api/v1/theaters/$theater/screens" '{"name":"One","layout":"A-C:4+8+4,J:4+8+4:premium"}' "$admin"); expect 201 ""
screen=$(field id)
what="showtime"; got=$(call POST /api/v1/showtimes "{\"movie_id\":\"$movie\",\"screen_id\":\"$screen\",\"starts_at\":\"2099-01-01T20:00:00Z\",\"currency\":\"EUR\",\"prices\":{\"standard\":1000,\"premium\":1500}}" "$admin"); expect 201 ""
showtime=$(field id)
what="showtimes"; got=$(call GET "/api/v1/showtimes?movie_id=$movie"); expect 200 ""
grep -q "$showtime" "$dir/body" || fail "showtime not listed"

what="seats"; got=$(call GET "/api/v1/showtimes/$showtime/seats"); expect 200 ""
etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *\(.*\)\r$/\1/p' "$dir/headers")
[ -n "$etag" ] || fail "no ETag"
what="seats 304"; got=$(call GET "/api/v1/showtimes/$showtime/seats" "" "" -H "If-None-Match: $etag"); [ "$got" = 304 ] || fail "If-None-Match: $got"

# A live stream: its first event, then one within a second of the hold.
curl -s -N --max-time 4 "$base/api/v1/showtimes/$showtime/events" >"$dir/sse" &
ssepid=$!
sleep 0.7

what="hold without a token"; got=$(call POST /api/v1/bookings "{\"showtime_id\":\"$showtime\",\"seat_ids\":[\"A1\",\"A2\"]}"); expect 401 UNAUTHORIZED
what="hold"; got=$(call POST /api/v1/bookings "{\"showtime_id\":\"$showtime\",\"seat_ids\":[\"A1\",\"A2\"]}" "$ann" -H "Idempotency-Key: hold-1"); expect 201 ""
booking=$(field id)
what="hold replay"; got=$(call POST /api/v1/bookings "{\"showtime_id\":\"$showtime\",\"seat_ids\":[\"A1\",\"A2\"]}" "$ann" -H "Idempotency-Key: hold-1"); expect 200 ""
[ "$(field id)" = "$booking" ] || fail "replay gave another booking"
what="taken seat"; got=$(call POST /api/v1/bookings "{\"showtime_id\":\"$showtime\",\"seat_ids\":[\"A2\",\"A3\"]}" "$bob"); expect 409 SEAT_ALREADY_BOOKED
what="oversized"; big=$(head -c 2000 /dev/zero | tr '\0' 'x')
got=$(call POST /api/v1/bookings "{\"showtime_id\":\"$big\"}" "$ann"); expect 413 PAYLOAD_TOO_LARGE
what="someone else's booking"; got=$(call GET "/api/v1/bookings/$booking" "" "$bob"); [ "$got" = 403 ] || [ "$got" = 404 ] || fail "bob read ann's booking: $got"
what="my bookings"; got=$(call GET "/api/v1/bookings?limit=10" "" "$ann"); expect 200 ""
grep -q '"next_cursor"' "$dir/body" || fail "no next_cursor"

what="pay"; got=$(call POST /api/v1/payments "{\"booking_id\":\"$booking\",\"card_number\":\"4242424242424242\"}" "$ann" -H "Idempotency-Key: pay-1"); expect 201 ""
payment=$(field id)
what="pay replay"; got=$(call POST /api/v1/payments "{\"booking_id\":\"$booking\",\"card_number\":\"4242424242424242\",\"idempotency_key\":\"pay-1\"}" "$ann"); expect 200 ""
[ "$(field id)" = "$payment" ] || fail "payment replay gave another payment"
what="payment"; got=$(call GET "/api/v1/payments/$payment" "" "$ann"); expect 200 ""
grep -q '"status":"SUCCEEDED"' "$dir/body" || fail "payment not SUCCEEDED: $(cat "$dir/body")"

wait "$ssepid" || true
[ "$(grep -c '^event: seats' "$dir/sse")" -ge 2 ] || fail "SSE: no event after the hold: $(cat "$dir/sse")"

what="logout"; got=$(call POST /api/v1/auth/logout "" "$ann"); [ "$got" = 204 ] || fail "logout: $got"
what="revoked token"; got=$(call GET /api/v1/auth/me "" "$ann"); expect 401 UNAUTHORIZED

what="metrics"; got=$(call GET /metrics); [ "$got" = 200 ] || fail "metrics: $got"
grep -q 'booking_http_requests_total{route="/api/v1/bookings",method="POST",status="409"} 1' "$dir/body" || fail "metrics: no 409 counter"
grep -q 'booking_http_request_duration_seconds_bucket{route="/api/v1/bookings",le="+Inf"}' "$dir/body" || fail "metrics: no histogram"

kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
[ "$rc" = 0 ] || fail "exit status $rc after SIGTERM"
echo "ok: booking-server smoke"
