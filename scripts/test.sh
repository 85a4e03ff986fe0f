#!/usr/bin/env bash
# Install dependencies, build, and run every test suite; then the sanitizer
# runs (doc/hardening.md): the unit and conformance suites under
# AddressSanitizer + UndefinedBehaviorSanitizer (BUILD_DIR-asan) and the
# race tests under ThreadSanitizer (BUILD_DIR-tsan), memory and SQLite
# backends. The last line is "N passed, N failed", summed over every run.
# Usage: scripts/test.sh [BUILD_DIR]    (BOOKING_SANITIZE=0 skips the sanitizer runs)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}

scripts/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dsqlite=enabled || { echo "0 passed, 1 failed"; exit 1; }
fi
meson compile -C "$build" || { echo "0 passed, 1 failed"; exit 1; }
meson test -C "$build" --print-errorlogs --num-processes 2
rc=$?
logs=("$build/meson-logs/testlog.json")

# One sanitizer run: configure DIR once with ARGS, build, run `meson test
# TEST_ARGS` with the logs under LOGBASE. A build that fails counts as one
# failed test (a line of its own in LOGBASE's log).
sanitizer_run() {
	local dir=$1 logbase=$2 setup_args=$3
	shift 3
	local log="$dir/meson-logs/$logbase.json"
	mkdir -p "$dir/meson-logs"
	rm -f "$log"
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$dir" $setup_args -Dexamples=false -Dpostgresql=disabled -Dredis=disabled -Dsqlite=enabled \
			>"$dir.setup.log" 2>&1 || { cat "$dir.setup.log"; echo "{\"name\": \"$logbase setup\", \"result\": \"ERROR\"}" >"$log"; rc=1; logs+=("$log"); return; }
	fi
	if ! meson compile -C "$dir"; then
		echo "{\"name\": \"$logbase build\", \"result\": \"ERROR\"}" >"$log"
		rc=1
		logs+=("$log")
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 --logbase "$logbase" "$@" || rc=1
	logs+=("$log")
}

if [ "${BOOKING_SANITIZE:-1}" != "0" ]; then
	# Leaks fail a test (LeakSanitizer runs at each Check child's exit).
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		sanitizer_run "$build-asan" asan \
		"-Db_sanitize=address,undefined -Db_lundef=false -Dc_args=-fno-sanitize-recover=all -Dcpp_args=-fno-sanitize-recover=all" \
		--suite unit --suite conformance --timeout-multiplier 3
	# The concurrent tests: the stress suite on every store and SQLite's race test.
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		sanitizer_run "$build-tsan" tsan "-Db_sanitize=thread -Db_lundef=false" \
		--suite stress --timeout-multiplier 4
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		sanitizer_run "$build-tsan" tsan-sqlite-race "-Db_sanitize=thread -Db_lundef=false" \
		--timeout-multiplier 4 sqlite-race
fi

python3 - "${logs[@]}" <<'PY'
import json, sys
passed = failed = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"{path}: missing test log", file=sys.stderr)
        failed += 1
        continue
    for line in lines:
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if r.get("result") in ("OK", "EXPECTEDFAIL"):
            passed += 1
        else:
            # SKIP counts as a failure: CI must run every suite, never skip one.
            failed += 1
print(f"{passed} passed, {failed} failed")
PY
exit $rc
