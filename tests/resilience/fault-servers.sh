#!/usr/bin/env bash
# Faults for the resilience tests, on the throwaway servers of
# scripts/redis-server.sh and scripts/pg-server.sh:
#
#   fault-servers.sh redis-kill URL        SIGKILL the redis-server of URL
#   fault-servers.sh redis-restart URL     start it again on the same port
#   fault-servers.sh redis-calls URL CMD   calls of CMD since the server started (INFO commandstats)
#   fault-servers.sh pg-stop DIR           pg_ctl stop -m immediate (a crash, no shutdown checkpoint)
#   fault-servers.sh pg-start DIR          start it again with the same options and port
#   fault-servers.sh pg-terminate DIR      pg_terminate_backend() every client backend of
#                                          booking_test, from a psql session; prints how many
#
# Exit status 0, or 1 with a message on stderr.
set -euo pipefail

base=${TMPDIR:-/tmp}

die() {
	echo "fault-servers: $*" >&2
	exit 1
}

port_of() {
	local p=${1##*:}
	p=${p%%/*}
	[[ $p =~ ^[0-9]+$ ]] || die "no port in '$1'"
	echo "$p"
}

ping_redis() {
	[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]
}

redis_kill() {
	local port dir pid
	port=$(port_of "$1")
	dir="$base/booking-redis.$port"
	[ -f "$dir/redis.pid" ] || die "no pid file in $dir"
	pid=$(cat "$dir/redis.pid")
	kill -9 "$pid" 2>/dev/null || die "redis-server $pid is not running"
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	die "redis-server $pid survived SIGKILL"
}

redis_restart() {
	local port dir
	port=$(port_of "$1")
	dir="$base/booking-redis.$port"
	mkdir -p "$dir"
	rm -f "$dir/redis.pid"
	for _ in $(seq 1 50); do # the port may linger for a moment after the kill
		if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
			--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null 2>&1; then
			for _ in $(seq 1 100); do
				ping_redis "$port" && return 0
				sleep 0.05
			done
		fi
		sleep 0.1
	done
	die "redis-server did not restart on port $port (see $dir/redis.log)"
}

redis_calls() {
	local port n
	port=$(port_of "$1")
	n=$(redis-cli -h 127.0.0.1 -p "$port" INFO commandstats 2>/dev/null | tr -d '\r' |
		sed -n "s/^cmdstat_$2:calls=\([0-9]*\).*/\1/p")
	echo "${n:-0}"
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		echo "$PG_BINDIR"
		return
	fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [ -n "$d" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
		return
	fi
	d=$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")
	[ -x "$d/pg_ctl" ] || die "pg_ctl not found (set PG_BINDIR)"
	echo "$d"
}

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_stop() {
	local dir=$1
	[ -d "$dir/data" ] || die "no cluster in $dir"
	as_owner "$(find_bindir)/pg_ctl" -D "$dir/data" -m immediate -w -t 30 -s stop >/dev/null ||
		die "pg_ctl stop failed in $dir"
}

pg_start() {
	local dir=$1 port bindir
	port=$(cat "$dir/port")
	bindir=$(find_bindir)
	# restart reuses the options of the last start (postmaster.opts); the server is down, so it only starts
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -s restart >/dev/null 2>&1 ||
		die "postgres did not start again in $dir (see $dir/server.log)"
	for _ in $(seq 1 100); do
		"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres 2>/dev/null && return 0
		sleep 0.1
	done
	die "postgres on port $port is not ready"
}

pg_terminate() {
	local dir=$1 port
	port=$(cat "$dir/port")
	psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d booking_test -Atc \
		"select count(pg_terminate_backend(pid)) from pg_stat_activity
		 where datname = 'booking_test' and pid <> pg_backend_pid() and backend_type = 'client backend'"
}

case "${1:-}" in
redis-kill) redis_kill "${2:?URL}" ;;
redis-restart) redis_restart "${2:?URL}" ;;
redis-calls) redis_calls "${2:?URL}" "${3:?COMMAND}" ;;
pg-stop) pg_stop "${2:?DIR}" ;;
pg-start) pg_start "${2:?DIR}" ;;
pg-terminate) pg_terminate "${2:?DIR}" ;;
*)
	echo "usage: $0 redis-kill|redis-restart URL | redis-calls URL CMD | pg-stop|pg-start|pg-terminate DIR" >&2
	exit 2
	;;
esac
