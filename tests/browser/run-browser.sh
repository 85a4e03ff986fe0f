#!/usr/bin/env bash
# The seat-picker page in a real browser (see browser.mjs).
#
#   run-browser.sh SOURCE_DIR BUILD_DIR BOOKING_SERVER BOOKING_CLI WWW_DIR
#
# Installs the pinned playwright-core (package-lock.json, `npm ci`) into
# BUILD_DIR/node, once; makes a data directory in a temporary directory
# (`booking init`: the SQLite store, the token keys, the payment key); seeds
# a catalog there with the CLI as the system; starts booking-server on a free
# loopback port with that store; runs browser.mjs with Debian's chromium
# (CHROMIUM, default /usr/bin/chromium); stops the server with SIGTERM and
# expects exit 0. Screenshots go to BUILD_DIR/artifacts. Node.js, npm or
# chromium missing FAILS (exit 1), never skips (77), so CI notices.
set -euo pipefail

src=$1 build=$2 server=$3 cli=$4 www=$5
chromium=${CHROMIUM:-/usr/bin/chromium}
fail() { echo "run-browser.sh: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 || fail "node is not installed (Node.js >= 18 is required)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed"
[ -x "$chromium" ] || fail "$chromium is missing (Debian package chromium: scripts/install-deps.sh)"
[ -f "$www/index.html" ] || fail "no page in $www"

dest="$build/node"
mkdir -p "$dest"
# A changed lock file (or a missing install) means a fresh `npm ci`.
if [ ! -d "$dest/node_modules/playwright-core" ] || ! cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
	cp "$src/package.json" "$src/package-lock.json" "$dest/"
	(cd "$dest" && npm ci --silent --no-audit --no-fund) || fail "npm ci failed"
fi
cp "$src/browser.mjs" "$dest/"
artifacts="$build/artifacts"
mkdir -p "$artifacts"
rm -f "$artifacts"/*.png

work=$(mktemp -d "${TMPDIR:-/tmp}/booking-browser.XXXXXX")
server_pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill -KILL "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# Only what this test sets: nothing from the caller's environment.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^BOOKING_' || true)
data="$work/data"
export BOOKING_STORE_URL="sqlite://$data/booking.db"
# Cheap password hashing: the test registers a few users on a shared machine.
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192
# init makes the keys in the data directory; the server is told where they are.
"$cli" --data-dir "$data" init >/dev/null || fail "booking init failed"
export BOOKING_JWT_PRIVATE_KEY_FILE="$data/jwt-private.jwk"
export BOOKING_JWT_PUBLIC_KEYS_FILE="$data/jwt-public.jwks"
export BOOKING_PAYMENT_KEY_FILE="$data/payment.key"
# One value out of a command's --json output: admin "PATH.TO.FIELD" CLI-ARGS...
admin() {
	local field=$1
	shift
	# shellcheck disable=SC2016 # JavaScript, not shell
	"$cli" --data-dir "$data" --as system --json "$@" |
		node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
			let v = JSON.parse(s);
			for (const k of process.argv[1].split(".")) v = v?.[k];
			if (v === undefined) { console.error(`no ${process.argv[1]} in ${s}`); process.exit(1); }
			console.log(v);
		});' "$field"
}
theater=$(admin theater.id theater add "Browser Test Cinema" --city Paris)
screen=$(admin screen.id screen add "$theater" "Salle 1" --layout "A-B:4+8+4:premium,C-F:4+8+4")
# A title with markup in it: the page must show it as text.
movie=$(admin movie.id movie add "The Browser Test <i>&amp;</i>" --duration 120)
showtime=$(admin showtime.id showtime add "$movie" "$screen" --starts +1440 --currency EUR \
	--price premium=18.50 --price standard=12.00)
admin status block "$showtime" F2 --reason wheelchair >/dev/null
echo "run-browser.sh: showtime $showtime seeded in $BOOKING_STORE_URL"

: >"$work/server.out" # before the server starts: the loop below reads it at once
"$server" --store "$BOOKING_STORE_URL" --listen 127.0.0.1:0 --www "$www" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
url=
for _ in $(seq 1 300); do
	url=$(sed -n 's|^booking-server: listening on \(http://[^ ]*\)$|\1|p' "$work/server.out" | head -n 1)
	[ -n "$url" ] && break
	kill -0 "$server_pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$url" ]; then
	cat "$work/server.out" "$work/server.err" >&2
	fail "booking-server did not print its address"
fi
echo "run-browser.sh: booking-server at $url (pid $server_pid)"

rc=0
(cd "$dest" && node browser.mjs "$url" "$showtime" C7 "$artifacts") || rc=$?

kill -TERM "$server_pid"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=
if [ "$server_rc" -ne 0 ]; then
	echo "run-browser.sh: booking-server exited $server_rc after SIGTERM (expected 0)" >&2
	rc=1
else
	echo "run-browser.sh: booking-server stopped on SIGTERM with exit 0"
fi
if [ "$rc" -ne 0 ]; then
	echo "--- booking-server stderr (last 50 lines)" >&2
	tail -n 50 "$work/server.err" >&2
fi
exit "$rc"
