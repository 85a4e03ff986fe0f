#!/usr/bin/env bash
# `meson install --destdir` into a temporary directory, then build the example
# program outside the tree with nothing but pkg-config, and run it.
# Usage: install-test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

meson install -C "$build" --destdir "$tmp/root" --quiet
pcdir=$(dirname "$(find "$tmp/root" -name libbooking.pc | head -n1)")
[ -n "$pcdir" ] || { echo "libbooking.pc was not installed" >&2; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
cflags=$(pkg-config --cflags libbooking)
libs=$(pkg-config --libs libbooking)
echo "pkg-config: $cflags $libs"
cp "$src/examples/hold_and_pay.c" "$tmp/"
(cd "$tmp" && cc -std=c11 -Wall -Wextra -Werror hold_and_pay.c $cflags $libs -o hold_and_pay)
libdir=$(dirname "$(find "$tmp/root" -name 'libbooking.so.*' | head -n1)")
LD_LIBRARY_PATH="$libdir" "$tmp/hold_and_pay"
