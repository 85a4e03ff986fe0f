#!/usr/bin/env bash
# Run a test program against a throwaway redis-server on a free loopback
# port, or with --cluster against a throwaway 3-master Redis Cluster
# (scripts/redis-cluster.sh; its URL is the first node's, with ?cluster=1):
# BOOKING_TEST_LOCK_URL, BOOKING_TEST_EVENTS_URL and BOOKING_TEST_REDIS_URL
# point at it; BOOKING_TEST_REDIS_SCRIPT names scripts/redis-server.sh (for
# tests that start plain servers of their own, the cluster's too).
#
#   tests/redis/with-redis.sh [--cluster] PROGRAM [ARGS...]
#
# Exits with the program's status. Never 77 (skipped): a backend suite that
# cannot run fails, so CI notices a missing redis-server.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
server="$here/../../scripts/redis-server.sh"
script=$server what="redis-server"
if [ "${1:-}" = --cluster ]; then
	shift
	script="$here/../../scripts/redis-cluster.sh" what="a Redis Cluster"
fi

[ $# -ge 1 ] || { echo "usage: $0 [--cluster] PROGRAM [ARGS...]" >&2; exit 1; }
url=$("$script" start) || { echo "with-redis.sh: cannot start $what; failing (not skipping)" >&2; exit 1; }
trap '"$script" stop "$url" >/dev/null 2>&1' EXIT
trap 'exit 143' TERM INT HUP # a timed-out test still stops its servers (the daemons are in no process group of ours)

export BOOKING_TEST_LOCK_URL="$url" BOOKING_TEST_EVENTS_URL="$url" BOOKING_TEST_REDIS_URL="$url"
export BOOKING_TEST_REDIS_SCRIPT="$server"
"$@"
rc=$?
if [ "$rc" -eq 77 ]; then
	echo "with-redis.sh: $1 skipped (77) although $what is up: counted as a failure" >&2
	rc=1
fi
exit "$rc"
