#!/usr/bin/env bash
# Render each man page as man(1) does and fail on any warning: groff with
# every warning on (-ww), then `man -l` itself (man-db, its preprocessors
# and its width), whose stderr must stay empty. Usage: man-check.sh PAGE...
set -uo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
for page in "$@"; do
	bad=0
	if ! LC_ALL=C.UTF-8 groff -t -man -ww -z -Tutf8 "$page" >"$tmp/groff.out" 2>&1 || [ -s "$tmp/groff.out" ]; then
		echo "$page: groff -man -ww:" >&2
		cat "$tmp/groff.out" >&2
		bad=1
	fi
	if ! LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >"$tmp/man.out" 2>"$tmp/man.err" ||
		[ -s "$tmp/man.err" ]; then
		echo "$page: man -l:" >&2
		cat "$tmp/man.err" >&2
		bad=1
	fi
	lines=$(grep -c . "$tmp/man.out")
	if [ "$lines" -lt 20 ]; then
		echo "$page: rendered to $lines lines" >&2
		bad=1
	fi
	if [ $bad -eq 0 ]; then
		echo "$page: $lines lines, no warning"
	else
		failed=1
	fi
done
exit $failed
