#!/usr/bin/env bash
# Start or stop a throwaway redis-server on a free loopback port, for tests.
#
#   scripts/redis-server.sh start        prints redis://127.0.0.1:PORT/0
#   scripts/redis-server.sh stop URL     stops the server of that URL (or PORT)
#                                        and removes its directory
#
# No persistence (--save '' --appendonly no); its files live in
# ${TMPDIR:-/tmp}/booking-redis.PORT. Exit status 1, with a message on
# stderr, when no server could be started.
set -euo pipefail

base=${TMPDIR:-/tmp}

die() {
	echo "redis-server.sh: $*" >&2
	exit 1
}

port_of() {
	local p=${1##*:}  # redis://127.0.0.1:PORT/0 → PORT/0
	p=${p%%/*}
	[[ $p =~ ^[0-9]+$ ]] || die "no port in '$1'"
	echo "$p"
}

ping() {
	[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = "PONG" ]
}

# A port nothing listens on. redis-server itself refuses a taken port, so a
# race with another process only costs a retry.
pick_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

start() {
	command -v redis-server >/dev/null || die "redis-server is not installed"
	command -v redis-cli >/dev/null || die "redis-cli is not installed"
	local port dir
	for _ in 1 2 3 4 5; do
		port=$(pick_port) || die "no free port found"
		dir="$base/booking-redis.$port"
		rm -rf "$dir"
		mkdir -p "$dir"
		if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
			--daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null 2>&1; then
			for _ in $(seq 1 100); do # up to 5 s
				if ping "$port"; then
					echo "redis://127.0.0.1:$port/0"
					return 0
				fi
				# a daemon that failed to bind has exited: try another port
				if grep -qi "could not create server\|failed listening" "$dir/redis.log" 2>/dev/null; then
					break
				fi
				sleep 0.05
			done
		fi
		stop_port "$port" || true
	done
	die "could not start redis-server (see $base/booking-redis.*/redis.log)"
}

stop_port() {
	local port=$1 dir="$base/booking-redis.$1" pid
	if [ -f "$dir/redis.pid" ]; then
		pid=$(cat "$dir/redis.pid")
		if kill "$pid" 2>/dev/null; then
			for _ in $(seq 1 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.05
			done
			kill -9 "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop)
	[ $# -ge 2 ] || die "usage: $0 stop URL|PORT"
	stop_port "$(port_of "$2")"
	;;
*) die "usage: $0 start | stop URL|PORT" ;;
esac
