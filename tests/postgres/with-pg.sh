#!/usr/bin/env bash
# Run one test program against a PostgreSQL server of its own:
#   tests/postgres/with-pg.sh PROGRAM [ARGS...]
# starts a throwaway server (scripts/pg-server.sh, or $PG_SERVER_SCRIPT),
# exports its URL as BOOKING_TEST_STORE_URL and BOOKING_TEST_PG_URL, runs
# the program, stops the server and exits with the program's status.
# A server that does not start is a failure (1), never a skip; so is a
# program that skips (77): CI must run the PostgreSQL suites.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pg_server=${PG_SERVER_SCRIPT:-$here/../../scripts/pg-server.sh}

if [ $# -lt 1 ]; then
	echo "usage: $0 PROGRAM [ARGS...]" >&2
	exit 2
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-pg.XXXXXX") || {
	echo "with-pg: FAIL: cannot make a temporary directory" >&2
	exit 1
}
stop_server() {
	"$pg_server" stop "$dir" >/dev/null 2>&1 || rm -rf "$dir"
}
trap stop_server EXIT
trap 'exit 1' INT TERM HUP

if ! url=$("$pg_server" start "$dir"); then
	echo "with-pg: FAIL: could not start a PostgreSQL server for $1 (see the messages above)" >&2
	exit 1
fi
export BOOKING_TEST_STORE_URL="$url"
export BOOKING_TEST_PG_URL="$url"

"$@"
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "with-pg: FAIL: $1 skipped (exit 77); the PostgreSQL suites must run" >&2
	rc=1
fi
exit "$rc"
