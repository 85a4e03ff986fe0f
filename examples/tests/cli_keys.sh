#!/bin/sh
# The CLI refuses what would let tokens be forged or a session outlive a
# logout:
#  - `init` on a data directory that group or others may write (0777);
#    an absent one is created 0700;
#  - `keys generate` on an existing key set (points to `keys rotate`),
#    `keys rotate` extends only a set libbooking wrote, old tokens stay valid;
#  - a private key readable by others is refused, not warned about;
#  - `logout` with $BOOKING_TOKEN set revokes the saved token it deletes too;
#  - a password read from stdin with a NUL byte is refused, not cut short.
# usage: cli_keys.sh [PATH_TO_BOOKING]
set -eu
BOOKING=${1:-booking}
case $BOOKING in /*) ;; */*) BOOKING=$(pwd)/$BOOKING ;; esac

dir=$(mktemp -d "${TMPDIR:-/tmp}/booking-keys.XXXXXX")
trap 'chmod -R u+rwX "$dir" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
unset BOOKING_STORE_URL BOOKING_LOCK_URL BOOKING_EVENTS_URL BOOKING_ENV_FILE BOOKING_TOKEN \
	BOOKING_JWT_PRIVATE_KEY_FILE BOOKING_JWT_PUBLIC_KEYS_FILE BOOKING_PAYMENT_KEY_FILE || true
# A cheap argon2id: this tests keys and sessions, not password hashing.
export BOOKING_PASSWORD_OPSLIMIT=1 BOOKING_PASSWORD_MEMLIMIT_KIB=8192
PASSWORD='Correct horse 1'

fail() { echo "FAIL: $*" >&2; exit 1; }
# run DATA_DIR ARGS...: exit status in $rc, stdout in $dir/out, stderr in $dir/err
run() {
	d=$1
	shift
	set +e
	"$BOOKING" --data-dir "$d" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	set -e
}
# run_as TOKEN DATA_DIR ARGS...: run with $BOOKING_TOKEN set
run_as() {
	t=$1 d=$2
	shift 2
	set +e
	BOOKING_TOKEN=$t "$BOOKING" --data-dir "$d" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
	set -e
}
expect() { # expect RC PATTERN FILE: what the last run must have done
	[ "$rc" = "$1" ] || fail "expected exit $1, got $rc: $(cat "$dir/out" "$dir/err")"
	grep -q -- "$2" "$3" || fail "expected /$2/ in $(basename "$3"): $(cat "$dir/out" "$dir/err")"
}
mode() { stat -c %a "$1"; }

# --- init ---------------------------------------------------------------------
mkdir "$dir/open"
chmod 0777 "$dir/open"
run "$dir/open" init
expect 1 '^error: VALIDATION_ERROR: .*writable by group or others' "$dir/err"
run "$dir/open" --json init
expect 1 '"code":"VALIDATION_ERROR"' "$dir/out"
grep -q '"reason":"group_or_world_writable"' "$dir/out" || fail "no reason in $(cat "$dir/out")"
grep -q '"field":"data_dir"' "$dir/out" || fail "no field in $(cat "$dir/out")"
[ ! -e "$dir/open/jwt-private.jwk" ] && [ ! -e "$dir/open/booking.db" ] || fail "init wrote into a 0777 directory"

data=$dir/data
run "$data" init
expect 0 'keys made' "$dir/out"
[ "$(mode "$data")" = 700 ] || fail "the data directory is $(mode "$data"), not 700"
[ "$(mode "$data/jwt-private.jwk")" = 600 ] || fail "the private key is not 600"

# --- keys generate on an existing set ------------------------------------------
cp "$data/jwt-public.jwks" "$dir/set.before"
run "$data" keys generate
expect 1 '^error: ALREADY_EXISTS' "$dir/err"
grep -q 'booking keys rotate' "$dir/err" || fail "keys generate does not point to keys rotate: $(cat "$dir/err")"
run "$data" --json keys generate
expect 1 '"code":"ALREADY_EXISTS"' "$dir/out"
grep -q 'keys rotate' "$dir/out" || fail "no hint in $(cat "$dir/out")"
# the private key gone, the set still there: still never merged into
mv "$data/jwt-private.jwk" "$dir/kept.jwk"
run "$data" keys generate
expect 1 '^error: ALREADY_EXISTS: .*jwt-public.jwks' "$dir/err"
[ ! -e "$data/jwt-private.jwk" ] || fail "keys generate left a private key that no set names"
cmp -s "$data/jwt-public.jwks" "$dir/set.before" || fail "keys generate changed the existing set"
mv "$dir/kept.jwk" "$data/jwt-private.jwk"

# --- sessions: a token signed by the first key ---------------------------------
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" register ann@example.com >/dev/null
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" register bob@example.com >/dev/null
old_token=$(echo "$PASSWORD" | "$BOOKING" --data-dir "$data" login ann@example.com --print-token)
[ -n "$old_token" ] || fail "ann could not log in"

# --- keys rotate ---------------------------------------------------------------
run "$data" --json keys rotate --kid second
expect 0 '"public_keys":2' "$dir/out"
grep -q '"kid":"second"' "$dir/out" || fail "rotate: $(cat "$dir/out")"
grep -q '"retired_private_key_file"' "$dir/out" || fail "rotate retired nothing: $(cat "$dir/out")"
run_as "$old_token" "$data" whoami
expect 0 'ann@example.com' "$dir/out"

# into a set written by hand (no "libbooking" mark): refused
hand=$dir/hand
mkdir -m 0700 "$hand"
grep -v '"libbooking"' "$data/jwt-public.jwks" >"$hand/jwt-public.jwks"
run "$hand" --json keys rotate
expect 1 '"reason":"foreign_set"' "$dir/out"
[ ! -e "$hand/jwt-private.jwk" ] || fail "rotate left a private key beside a foreign set"

# --- a private key others can read ---------------------------------------------
chmod 0644 "$data/jwt-private.jwk"
run "$data" --json movie list
expect 1 '"reason":"readable_by_others"' "$dir/out"
chmod 0600 "$data/jwt-private.jwk"
chmod 0664 "$data/jwt-public.jwks"
run "$data" movie list
expect 1 '^error: VALIDATION_ERROR: jwt_public_keys_file' "$dir/err"
chmod 0644 "$data/jwt-public.jwks"

# --- logout with $BOOKING_TOKEN set revokes the saved token too ----------------
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" login ann@example.com >/dev/null
saved=$(cat "$data/token")
bob=$(echo "$PASSWORD" | "$BOOKING" --data-dir "$data" login bob@example.com --print-token)
run_as "$bob" "$data" --json logout
expect 0 '"revoked":true' "$dir/out"
[ ! -e "$data/token" ] || fail "logout kept the token file"
run_as "$saved" "$data" --json whoami
expect 1 '"code":"UNAUTHORIZED"' "$dir/out"
grep -q '"reason":"revoked"' "$dir/out" || fail "the saved token was not revoked: $(cat "$dir/out")"
run_as "$bob" "$data" whoami
expect 1 '^error: UNAUTHORIZED' "$dir/err"

# --- a password with a NUL byte ------------------------------------------------
# cut at the NUL it would be a good password: it must be refused, not registered
set +e
printf 'Correct horse 1\000tail\n' | "$BOOKING" --data-dir "$data" --json register nul@example.com >"$dir/out" 2>"$dir/err"
rc=$?
set -e
expect 1 '"rule":"nul"' "$dir/out"
grep -q '"code":"VALIDATION_ERROR"' "$dir/out" || fail "$(cat "$dir/out")"
set +e
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" login nul@example.com --print-token >"$dir/out" 2>"$dir/err"
rc=$?
set -e
expect 1 '^error: UNAUTHORIZED' "$dir/err"
set +e
printf 'Correct horse 1\000tail\n' | "$BOOKING" --data-dir "$data" login ann@example.com --print-token >"$dir/out" 2>"$dir/err"
rc=$?
set -e
expect 1 'VALIDATION_ERROR: password: must not contain a NUL byte' "$dir/err"

# --- a saved token in a directory others may write is not used -----------------
# (keys and store elsewhere: nothing else refuses the directory first)
mkdir -m 0700 "$dir/keys"
cp -p "$data/jwt-private.jwk" "$data/jwt-public.jwks" "$data/payment.key" "$dir/keys/"
echo "$PASSWORD" | "$BOOKING" --data-dir "$data" login ann@example.com >/dev/null
export BOOKING_JWT_PRIVATE_KEY_FILE="$dir/keys/jwt-private.jwk" BOOKING_JWT_PUBLIC_KEYS_FILE="$dir/keys/jwt-public.jwks" \
	BOOKING_PAYMENT_KEY_FILE="$dir/keys/payment.key"
run "$data" --store "sqlite://$data/booking.db" whoami
expect 0 'ann@example.com' "$dir/out"
chmod 0777 "$data"
run "$data" --store "sqlite://$data/booking.db" whoami
[ "$rc" -ne 0 ] || fail "whoami used the token of a 0777 data directory: $(cat "$dir/out")"
grep -q 'not only yours' "$dir/err" || fail "no word of the directory: $(cat "$dir/err")"
chmod 0700 "$data"
unset BOOKING_JWT_PRIVATE_KEY_FILE BOOKING_JWT_PUBLIC_KEYS_FILE BOOKING_PAYMENT_KEY_FILE

echo "PASS"
