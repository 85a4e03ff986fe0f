#!/usr/bin/env bash
# Run a test program against a throwaway redis-server on a free loopback
# port: BOOKING_TEST_LOCK_URL, BOOKING_TEST_EVENTS_URL and
# BOOKING_TEST_REDIS_URL point at it; BOOKING_TEST_REDIS_SCRIPT names
# scripts/redis-server.sh (for tests that start servers of their own).
#
#   tests/redis/with-redis.sh PROGRAM [ARGS...]
#
# Exits with the program's status. Never 77 (skipped): a backend suite that
# cannot run fails, so CI notices a missing redis-server.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../scripts/redis-server.sh"

[ $# -ge 1 ] || { echo "usage: $0 PROGRAM [ARGS...]" >&2; exit 1; }
url=$("$script" start) || { echo "with-redis.sh: cannot start redis-server; failing (not skipping)" >&2; exit 1; }
trap '"$script" stop "$url" >/dev/null 2>&1' EXIT
trap 'exit 143' TERM INT HUP # a timed-out test still stops its server (the daemon is in no process group of ours)

export BOOKING_TEST_LOCK_URL="$url" BOOKING_TEST_EVENTS_URL="$url" BOOKING_TEST_REDIS_URL="$url"
export BOOKING_TEST_REDIS_SCRIPT="$script"
"$@"
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "with-redis.sh: $1 skipped (77) although redis is up: counted as a failure" >&2
	rc=1
fi
exit "$rc"
