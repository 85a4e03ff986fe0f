#!/usr/bin/env bash
# Install dependencies, build, and run the flash-sale demo on the embedded
# default store (SQLite). Extra arguments go to `booking demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build -Dsqlite=enabled
meson compile -C build
exec ./build/examples/booking demo "$@"
