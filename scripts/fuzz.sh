#!/usr/bin/env bash
# Fuzz one target with libFuzzer for N minutes (doc/hardening.md).
#
#   scripts/fuzz.sh TARGET MINUTES [libFuzzer flags...]
#   scripts/fuzz.sh list
#
# Builds build-fuzz/ with clang-14, -fsanitize=fuzzer,address,undefined,
# then runs fuzz_TARGET on a scratch corpus seeded from fuzz/corpus/TARGET
# with fuzz/TARGET.dict, in one process. New interesting inputs
# land in build-fuzz/corpus-TARGET (copy the good ones into
# fuzz/corpus/TARGET to keep them); crashes land in build-fuzz/artifacts/
# (add each one to fuzz/corpus/TARGET once fixed: the replay test then
# guards it). Exit status: 0 when the run found nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(event_envelope options_env layout hold_request jwt_jwk http_request)
if [ $# -lt 1 ] || [ "$1" = "list" ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
	echo "usage: $0 TARGET MINUTES [libFuzzer flags...]"
	echo "targets: ${targets[*]}"
	[ $# -ge 1 ] && [ "$1" = "list" ] && exit 0
	exit 2
fi
target=$1
minutes=${2:-5}
shift 2 || shift $#
if [[ ! " ${targets[*]} " =~ " ${target} " ]]; then
	echo "unknown target: $target (targets: ${targets[*]})" >&2
	exit 2
fi

CC=${CC:-clang-14}
CXX=${CXX:-clang++-14}
command -v "$CC" >/dev/null || { echo "$CC not found: apt-get install clang-14 libclang-rt-14-dev" >&2; exit 2; }

build=${FUZZ_BUILD_DIR:-build-fuzz}
if [ ! -f "$build/build.ninja" ]; then
	CC=$CC CXX=$CXX meson setup "$build" \
		-Dbuildtype=debugoptimized \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args='-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined' \
		-Dc_link_args='-fno-sanitize-recover=undefined' \
		-Dcpp_args='-fsanitize=fuzzer-no-link' \
		-Dexamples=false -Dtests=true -Dpostgresql=disabled -Dredis=disabled >/dev/null
fi
meson compile -C "$build" "fuzz/fuzz_$target" >/dev/null

corpus="$build/corpus-$target"
artifacts="$build/artifacts/"
mkdir -p "$corpus" "$artifacts"
echo "fuzzing $target for $minutes minute(s)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
set +e
"$build/fuzz/fuzz_$target" \
	-max_total_time=$((minutes * 60)) \
	-dict="fuzz/$target.dict" \
	-artifact_prefix="$artifacts" \
	-print_final_stats=1 \
	-timeout=10 -rss_limit_mb=2048 \
	"$@" "$corpus" "fuzz/corpus/$target" 2>&1 | tee "$build/fuzz-$target.log" | grep -E "^#[0-9]+.*(DONE|pulse)|stat::|ERROR|SUMMARY|Done [0-9]+ runs|crash-|leak-|timeout-"
rc=${PIPESTATUS[0]}
set -e
execs=$(awk '/stat::number_of_executed_units/ {n=$2} END {print n}' "$build/fuzz-$target.log")
echo "$target: ${minutes} minute(s), ${execs:-0} executions, exit ${rc}; corpus $corpus ($(ls "$corpus" | wc -l) inputs); log $build/fuzz-$target.log"
exit "$rc"
