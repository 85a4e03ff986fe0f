#!/usr/bin/env bash
# Lines under backends/ — every tracked file (sources, headers, meson.build,
# README), the way issue 11 counted its baseline of 11 974 lines — per
# backend and in total, beside that baseline.
# Usage: scripts/linecount.sh [REV]   (default: the working tree's HEAD)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
baseline=11974
total=0
while read -r dir; do
	n=$(git ls-tree -r --name-only "$rev" "backends/$dir" | while read -r f; do git show "$rev:$f"; done | wc -l)
	printf '%-12s %6d\n' "$dir" "$n"
	total=$((total + n))
done < <(git ls-tree --name-only "$rev" backends/ | sed 's|^backends/||' | while read -r e; do
	if [ "$(git cat-file -t "$rev:backends/$e")" = tree ]; then echo "$e"; fi
done)
top=$(git ls-tree --name-only "$rev" backends/ | while read -r f; do
	if [ "$(git cat-file -t "$rev:$f")" = blob ]; then git show "$rev:$f"; fi
done | wc -l)
printf '%-12s %6d\n' "(top level)" "$top"
total=$((total + top))
awk -v t="$total" -v b="$baseline" -v r="$(git rev-parse --short "$rev")" \
	'BEGIN { printf "backends/    %6d lines at %s; baseline %d; %+.1f %%\n", t, r, b, (t - b) * 100 / b }'
