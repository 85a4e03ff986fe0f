#!/usr/bin/env bash
# Run a test program against a throwaway 3-master Redis Cluster on free
# loopback ports (scripts/redis-cluster.sh): BOOKING_TEST_LOCK_URL,
# BOOKING_TEST_EVENTS_URL and BOOKING_TEST_REDIS_URL are
# redis://127.0.0.1:PORT/0?cluster=1, PORT the first node's.
#
#   tests/redis/with-redis-cluster.sh PROGRAM [ARGS...]
#
# Exits with the program's status. Never 77 (skipped): a cluster that
# cannot start fails the test, so CI notices a missing redis-server.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script="$here/../../scripts/redis-cluster.sh"

[ $# -ge 1 ] || { echo "usage: $0 PROGRAM [ARGS...]" >&2; exit 1; }
url=$("$script" start) || { echo "with-redis-cluster.sh: cannot start a Redis Cluster; failing (not skipping)" >&2; exit 1; }
trap '"$script" stop "$url" >/dev/null 2>&1' EXIT
trap 'exit 143' TERM INT HUP # a timed-out test still stops its nodes (the daemons are in no process group of ours)

export BOOKING_TEST_LOCK_URL="$url" BOOKING_TEST_EVENTS_URL="$url" BOOKING_TEST_REDIS_URL="$url"
"$@"
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "with-redis-cluster.sh: $1 skipped (77) although the cluster is up: counted as a failure" >&2
	rc=1
fi
exit "$rc"
