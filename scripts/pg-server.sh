#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for the test suites.
#
#   scripts/pg-server.sh start [DIR]   initdb in DIR (default: a new temp dir),
#                                      start postgres on a free port, create the
#                                      database booking_test and print its URL:
#                                      postgresql://postgres@127.0.0.1:PORT/booking_test
#   scripts/pg-server.sh stop DIR      stop the server and remove DIR
#
# The server is for tests: fsync=off, synchronous_commit=off,
# full_page_writes=off (a crash may lose or corrupt it; nothing waits for the
# disk). BOOKING_PG_FSYNC=on starts it durable instead: fsync=on,
# synchronous_commit=on, full_page_writes=on (the benchmarks' second setting).
# PostgreSQL refuses to run as root: when run as root the server runs as the
# `postgres` user (runuser), otherwise as the calling user. Binaries come from
# PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else PATH.
# Exit status: 0, or 1 with a message on stderr (never 77: a missing server
# is a failure, not a skip).
set -euo pipefail

MARK=.booking-pg-server
DB=booking_test

die() {
	echo "pg-server: $*" >&2
	exit 1
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/initdb" ]; then
		echo "$d"
		return
	fi
	d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
	[ -x "$d/initdb" ] || die "initdb not found (install postgresql-15 or set PG_BINDIR)"
	echo "$d"
}

# Run a server binary as the user that owns the cluster.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
	local dir=${1:-}
	local bindir port log tries=0 made="" durability
	case ${BOOKING_PG_FSYNC:-off} in
	off) durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off" ;;
	on) durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on" ;;
	*) die "BOOKING_PG_FSYNC must be on or off, not '$BOOKING_PG_FSYNC'" ;;
	esac
	bindir=$(find_bindir)
	if [ -z "$dir" ]; then
		dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-pg.XXXXXX")
		made=1
	else
		mkdir -p "$dir"
	fi
	dir=$(cd "$dir" && pwd)
	touch "$dir/$MARK"
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || die "running as root but there is no postgres user"
		chown -R postgres: "$dir"
		chmod 700 "$dir"
	fi
	log="$dir/server.log"
	as_owner "$bindir/initdb" -D "$dir/data" --auth=trust -U postgres -E UTF8 --no-locale -N \
		>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; die "initdb failed in $dir"; }
	# The port is free when chosen; another process may take it before the
	# server binds, so try a few.
	while :; do
		port=$(free_port) || die "python3 is needed to find a free port"
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$log" -w -t 60 -s \
			-o "-k $dir -p $port -c listen_addresses=127.0.0.1 $durability -c max_connections=300 -c shared_buffers=32MB" \
			start >/dev/null 2>&1; then
			break
		fi
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			tail -n 20 "$log" >&2 || true
			die "postgres did not start (see $log)"
		fi
	done
	echo "$port" >"$dir/port"
	local i
	for i in $(seq 1 100); do
		if pg_isready -q -h 127.0.0.1 -p "$port" -U postgres 2>/dev/null ||
			"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres 2>/dev/null; then
			break
		fi
		[ "$i" -lt 100 ] || die "postgres on port $port is not ready (see $log)"
		sleep 0.1
	done
	"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB" ||
		die "createdb $DB failed (see $log)"
	[ -z "$made" ] || echo "pg-server: data in $dir; stop with: $0 stop $dir" >&2
	echo "postgresql://postgres@127.0.0.1:$port/$DB"
}

stop() {
	local dir=${1:-}
	[ -n "$dir" ] || die "usage: $0 stop DIR"
	[ -d "$dir" ] || return 0
	[ -f "$dir/$MARK" ] || die "$dir was not made by pg-server.sh; not touching it"
	local bindir
	bindir=$(find_bindir)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 30 -s stop >/dev/null 2>&1 ||
			as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
*)
	echo "usage: $0 start [DIR] | stop DIR" >&2
	exit 2
	;;
esac
