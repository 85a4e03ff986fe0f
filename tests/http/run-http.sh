#!/usr/bin/env bash
# booking-server's HTTP suite (http.test.mjs) against a real server:
#
#   run-http.sh sqlite|postgresql SOURCE_DIR BUILD_DIR BOOKING_SERVER BOOKING_CLI
#   run-http.sh openapi SOURCE_DIR BUILD_DIR     only validate examples/server/openapi.json
#
# sqlite:      a SQLite file store in a temporary directory; the server runs
#              under libfaketime with a clock file the test moves (expiry).
# postgresql:  a throwaway PostgreSQL (scripts/pg-server.sh), run under
#              libfaketime with the clock file (on PostgreSQL the store's clock
#              decides expiry, doc/rulebook.md), and a throwaway Redis
#              (scripts/redis-server.sh) as BOOKING_LOCK_URL; the test stops
#              PostgreSQL at the end to open the breaker.
# The data directory and its keys are made by `booking init` (doc/cli.md).
# npm packages: the pinned ones of package-lock.json, `npm ci` into
# BUILD_DIR/node (once per lock file). Node.js, npm, libfaketime, and for
# postgresql the PostgreSQL and Redis servers, are required: a missing one
# FAILS (exit 1), never skips (77).
set -euo pipefail

mode=$1 src=$2 build=$3 server=${4:-} cli=${5:-}
here=$src/tests/http
die() { echo "run-http.sh: $*" >&2; exit 1; }

command -v node >/dev/null 2>&1 || die "node is not installed (Node.js >= 20 is required)"
command -v npm >/dev/null 2>&1 || die "npm is not installed"

dest=$build/node
mkdir -p "$dest"
if [ ! -d "$dest/node_modules/@apidevtools/swagger-parser" ] || ! cmp -s "$here/package-lock.json" "$dest/package-lock.json"; then
	cp "$here/package.json" "$here/package-lock.json" "$dest/"
	(cd "$dest" && npm ci --silent --no-audit --no-fund) || die "npm ci failed"
fi
cp "$here/http.test.mjs" "$here/openapi-check.mjs" "$here/check-openapi.mjs" "$dest/"
if [ "$mode" = openapi ]; then
	exec node "$dest/check-openapi.mjs" "$src/examples/server/openapi.json"
fi

[ -x "$server" ] || die "no booking-server at $server"
abs() { (cd "$(dirname "$1")" && echo "$(pwd)/$(basename "$1")"); } # meson passes build-relative paths
server=$(abs "$server") cli=$(abs "$cli")
[ -x "$cli" ] || die "no booking CLI at $cli"
faketime_lib=
for f in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 /usr/lib/*/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && { faketime_lib=$f; break; }
done
[ -n "$faketime_lib" ] || die "libfaketime is not installed (Debian package faketime; scripts/install-deps.sh)"

work=$(mktemp -d "${TMPDIR:-/tmp}/booking-http.XXXXXX")
chmod 711 "$work" # PostgreSQL (the postgres user) reads the clock file in it
pg_dir= redis_url=
cleanup() {
	[ -z "$pg_dir" ] || "$src/scripts/pg-server.sh" stop "$pg_dir" >/dev/null 2>&1 || true
	[ -z "$redis_url" ] || "$src/scripts/redis-server.sh" stop "$redis_url" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

clock=$work/clock/faketime.rc
mkdir -m 755 "$work/clock"
echo "+0" >"$clock"
chmod 644 "$clock"

export HTTP_TEST_MODE=$mode HTTP_TEST_WORK=$work HTTP_TEST_SERVER=$server HTTP_TEST_CLI=$cli
export HTTP_TEST_OPENAPI=$src/examples/server/openapi.json HTTP_TEST_CLOCK_FILE=$clock
unset HTTP_TEST_WWW
www=${HTTP_TEST_WWW_DIR:-$src/examples/server/www} # the page's files, when there (HTTP_TEST_WWW_DIR: another copy)
[ ! -f "$www/index.html" ] || export HTTP_TEST_WWW=$www
unset HTTP_TEST_LOCK_URL HTTP_TEST_STOP_STORE HTTP_TEST_FAKETIME_LIB BOOKING_STORE_URL BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_TOKEN
# the suite's users make many holds of one showtime: the per-buyer limit is tested in tests/test_limits.c
export BOOKING_MAX_SEATS_PER_USER_SHOWTIME=0

case $mode in
sqlite)
	export HTTP_TEST_STORE_URL="sqlite://$work/booking-data/booking.db"
	export HTTP_TEST_FAKETIME_LIB=$faketime_lib
	;;
postgresql)
	pg_dir=$work/pg
	url=$(LD_PRELOAD=$faketime_lib FAKETIME_TIMESTAMP_FILE=$clock FAKETIME_CACHE_DURATION=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
		"$src/scripts/pg-server.sh" start "$pg_dir") || die "could not start PostgreSQL"
	redis_url=$("$src/scripts/redis-server.sh" start) || die "could not start redis-server"
	export HTTP_TEST_STORE_URL=$url HTTP_TEST_LOCK_URL=$redis_url
	bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	bindir=${PG_BINDIR:-$bindir}
	if [ "$(id -u)" -eq 0 ]; then
		export HTTP_TEST_STOP_STORE="runuser -u postgres -- '$bindir/pg_ctl' -D '$pg_dir/data' -m immediate -w -t 30 -s stop"
	else
		export HTTP_TEST_STOP_STORE="'$bindir/pg_ctl' -D '$pg_dir/data' -m immediate -w -t 30 -s stop"
	fi
	;;
*) die "mode is sqlite or postgresql, not '$mode'" ;;
esac

# The data directory: the token signing keys and the payment key (and, on
# SQLite, the store), as an operator makes them.
(cd "$work" && BOOKING_STORE_URL=$HTTP_TEST_STORE_URL "$cli" init >"$work/init.log" 2>&1) || { cat "$work/init.log" >&2; die "booking init failed"; }

cd "$work"
node --test --test-reporter=spec --test-concurrency=1 "$dest/http.test.mjs"
