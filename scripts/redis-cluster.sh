#!/usr/bin/env bash
# Start or stop a throwaway Redis Cluster for tests: 3 masters, no replicas,
# on free loopback ports.
#
#   scripts/redis-cluster.sh start       prints redis://127.0.0.1:PORT/0?cluster=1
#                                        (PORT: the first node, the client's seed)
#   scripts/redis-cluster.sh stop URL    stops the three nodes of that URL (or
#                                        PORT) and removes their directory
#
# Each node runs with --cluster-enabled yes, no persistence, and
# --cluster-require-full-coverage no (a test may stop a node: the others
# keep serving their slots); the files of
# all three live in ${TMPDIR:-/tmp}/booking-redis-cluster.PORT (one
# subdirectory per node, and "ports"). The slots are spread with
# `redis-cli --cluster create ... --cluster-replicas 0 --cluster-yes`, and
# start returns once every node reports cluster_state:ok. Exit status 1,
# with a message on stderr, when no cluster could be started.
set -euo pipefail

base=${TMPDIR:-/tmp}

die() {
	echo "redis-cluster.sh: $*" >&2
	exit 1
}

port_of() {
	local p=${1##*:} # redis://127.0.0.1:PORT/0?cluster=1 → PORT/0?cluster=1
	p=${p%%/*}
	p=${p%%\?*}
	[[ $p =~ ^[0-9]+$ ]] || die "no port in '$1'"
	echo "$p"
}

cli() {
	local port=$1
	shift
	redis-cli -h 127.0.0.1 -p "$port" "$@" 2>/dev/null
}

# A port nothing listens on, nor on port+10000 (the cluster bus).
pick_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
			! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# One node in $dir/$port; 0 once it answers PING.
start_node() {
	local dir=$1 port=$2
	mkdir -p "$dir/$port"
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir/$port" \
		--cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
		--cluster-require-full-coverage no \
		--daemonize yes --pidfile "$dir/$port/redis.pid" --logfile "$dir/$port/redis.log" >/dev/null 2>&1 || return 1
	for _ in $(seq 1 100); do # up to 5 s
		[ "$(cli "$port" ping)" = "PONG" ] && return 0
		grep -qi "could not create server\|failed listening" "$dir/$port/redis.log" 2>/dev/null && return 1
		sleep 0.05
	done
	return 1
}

cluster_ok() {
	local port
	for port in "$@"; do
		cli "$port" cluster info | grep -q '^cluster_state:ok' || return 1
	done
}

start() {
	command -v redis-server >/dev/null || die "redis-server is not installed"
	command -v redis-cli >/dev/null || die "redis-cli is not installed"
	local first dir ports port ok
	for _ in 1 2 3; do
		first=$(pick_port) || die "no free port found"
		dir="$base/booking-redis-cluster.$first"
		rm -rf "$dir"
		mkdir -p "$dir"
		ports=("$first")
		for _ in 1 2; do
			port=$(pick_port) || die "no free port found"
			case " ${ports[*]} " in *" $port "*) port=$(pick_port) || die "no free port found" ;; esac
			ports+=("$port")
		done
		echo "${ports[*]}" >"$dir/ports"
		ok=1
		for port in "${ports[@]}"; do
			start_node "$dir" "$port" || { ok=0; break; }
		done
		if [ "$ok" = 1 ] && redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 \
			--cluster-yes >"$dir/create.log" 2>&1; then
			for _ in $(seq 1 200); do # up to 10 s
				if cluster_ok "${ports[@]}"; then
					echo "redis://127.0.0.1:$first/0?cluster=1"
					return 0
				fi
				sleep 0.05
			done
		fi
		tail -n 5 "$dir/create.log" "$dir"/*/redis.log >&2 2>/dev/null || true
		stop_first "$first" || true
	done
	die "could not start a Redis Cluster (the logs of the last attempt are above)"
}

stop_node() {
	local dir=$1 pid
	[ -f "$dir/redis.pid" ] || return 0
	pid=$(cat "$dir/redis.pid")
	if kill "$pid" 2>/dev/null; then
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null || true
	fi
}

stop_first() {
	local dir="$base/booking-redis-cluster.$1" port
	if [ -f "$dir/ports" ]; then
		for port in $(cat "$dir/ports"); do
			stop_node "$dir/$port"
		done
	fi
	rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop)
	[ $# -ge 2 ] || die "usage: $0 stop URL|PORT"
	stop_first "$(port_of "$2")"
	;;
*) die "usage: $0 start | stop URL|PORT" ;;
esac
