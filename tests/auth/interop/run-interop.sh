#!/usr/bin/env bash
# Interoperability with the npm package `jose` (see interop.mjs).
#
#   run-interop.sh SOURCE_DIR BUILD_DIR JWT_TOOL
#
# Installs the pinned jose (package-lock.json, `npm ci`) into BUILD_DIR/node
# (a copy: the source tree never gets a node_modules), once, then runs the
# checks. Node.js and npm are required: when they are missing this FAILS
# (exit 1), it never skips (77), so CI notices.
set -euo pipefail

src=$1 build=$2 tool=$3
command -v node >/dev/null 2>&1 || { echo "run-interop.sh: node is not installed (Node.js >= 18 is required)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "run-interop.sh: npm is not installed" >&2; exit 1; }

dest="$build/node"
mkdir -p "$dest"
# A changed lock file (or a missing install) means a fresh `npm ci`.
if [ ! -d "$dest/node_modules/jose" ] || ! cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
	cp "$src/package.json" "$src/package-lock.json" "$dest/"
	(cd "$dest" && npm ci --silent --no-audit --no-fund) || { echo "run-interop.sh: npm ci failed" >&2; exit 1; }
fi
cp "$src/interop.mjs" "$dest/"

work=$(mktemp -d "${TMPDIR:-/tmp}/booking-interop.XXXXXX")
trap 'rm -rf "$work"' EXIT
node "$dest/interop.mjs" "$tool" "$work"
