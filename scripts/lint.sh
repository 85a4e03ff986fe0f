#!/usr/bin/env bash
# Static analysis: cppcheck and clang-tidy over src/, backends/ and
# examples/, with the checked-in configuration (.clang-tidy,
# .cppcheck-suppressions). Both must be clean (doc/hardening.md).
#
#   scripts/lint.sh [BUILD_DIR]     (default: build-lint, configured if missing)
#
# Uses BUILD_DIR/compile_commands.json, so only the sources that build
# there (the enabled backends) are checked. Exit status 0 when clean.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${1:-build-lint}

if [ ! -f "$build/compile_commands.json" ]; then
	meson setup "$build" -Dtests=false >/dev/null || exit 2
fi
# The generated config header must exist for the analysers.
ninja -C "$build" booking_config.h >/dev/null 2>&1 || meson compile -C "$build" >/dev/null || exit 2

tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if ! command -v cppcheck >/dev/null || [ -z "$tidy" ]; then
	echo "lint needs cppcheck and clang-tidy (apt-get install cppcheck clang-tidy-14)" >&2
	exit 2
fi

# Only our sources: a compile database without tests/, fuzz/ and generated files.
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
python3 - "$build/compile_commands.json" "$db/compile_commands.json" "$root" <<'PY'
import json, os, sys
src, dst, root = sys.argv[1:4]
keep = []
for e in json.load(open(src)):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(f, root)
    if rel.split(os.sep)[0] in ("src", "backends", "examples"):
        e["file"] = f
        keep.append(e)
json.dump(keep, open(dst, "w"), indent=1)
print(f"lint: {len(keep)} translation units", file=sys.stderr)
PY

failed=0

echo "== cppcheck"
if ! cppcheck --project="$db/compile_commands.json" \
	--enable=warning,performance,portability \
	--std=c11 --inline-suppr --suppressions-list=.cppcheck-suppressions \
	--error-exitcode=1 --quiet -j "$(nproc)" \
	--template='{file}:{line}: {severity} ({id}): {message}'; then
	failed=1
fi

echo "== clang-tidy ($tidy)"
files=$(python3 -c 'import json,sys; print("\n".join(e["file"] for e in json.load(open(sys.argv[1]))))' "$db/compile_commands.json")
# One file per process, two at a time; the config is .clang-tidy.
if ! printf '%s\n' $files | xargs -P "$(nproc)" -n 1 "$tidy" -p "$db" --quiet 2>/dev/null >"$db/tidy.txt"; then
	failed=1
fi
grep -E "(warning|error):" "$db/tidy.txt" || true
if grep -qE "(warning|error):" "$db/tidy.txt"; then
	failed=1
fi

if [ $failed -eq 0 ]; then
	echo "lint: clean"
else
	echo "lint: findings above"
fi
exit $failed
