#!/usr/bin/env bash
# Install what a fresh Debian 12 machine lacks to build and test libbooking.
# Idempotent: does nothing when everything is present.
set -euo pipefail

packages=(meson ninja-build pkg-config gcc g++ libjansson-dev libsodium-dev libsqlite3-dev check python3
	libpq-dev libhiredis-dev redis-server postgresql-15 postgresql-client-15 faketime
	doxygen man-db groff-base abigail-tools libmicrohttpd-dev curl
	chromium fonts-dejavu-core)
# scripts/bench-http.sh: wrk drives booking-server (curl, above, sets it up).
packages+=(wrk)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
