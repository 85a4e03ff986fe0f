#!/usr/bin/env bash
# Install dependencies, build, and run every test suite. The last line is
# "N passed, N failed". Usage: scripts/test.sh [BUILD_DIR]
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
python3 - "$build/meson-logs/testlog.json" <<'PY'
import json, sys
passed = failed = 0
for line in open(sys.argv[1]):
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
