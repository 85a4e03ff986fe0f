#!/usr/bin/env bash
# Build the API reference with doxygen into a temporary directory, as the
# build does (the same Doxyfile), and fail on any warning: the reference
# must build clean (issue 12). Usage: doxygen-check.sh DOXYGEN DOXYFILE
set -uo pipefail
doxygen=$1
doxyfile=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Later lines win: same configuration, another output directory, warnings fatal.
{ cat "$doxyfile"; echo "OUTPUT_DIRECTORY = $tmp"; echo "WARN_AS_ERROR = YES"; echo "WARN_LOGFILE = $tmp/warnings.log"; } |
	"$doxygen" - >"$tmp/out.log" 2>&1
rc=$?
if [ -s "$tmp/warnings.log" ] || [ $rc -ne 0 ]; then
	cat "$tmp/warnings.log" "$tmp/out.log" >&2
	echo "doxygen: warnings (exit $rc)" >&2
	exit 1
fi
[ -f "$tmp/html/index.html" ] || { echo "doxygen wrote no html/index.html" >&2; cat "$tmp/out.log" >&2; exit 1; }
pages=$(find "$tmp/html" -name '*.html' | wc -l)
echo "doxygen: $pages pages, no warning"
