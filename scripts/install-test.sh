#!/usr/bin/env bash
# `meson install --destdir` into a temporary directory, then build the example
# program outside the tree with nothing but pkg-config, and run it; then, when
# the conformance kit was built, a program that links it (libbooking-conformance).
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
# As on a machine with only the runtime packages (no libpq.pc, jansson.pc,
# ...): PKG_CONFIG_LIBDIR hides every other .pc file. libbooking.pc must
# resolve alone and inject no dependency's include path (the public headers
# include none); the dependencies are Libs.private, for a static link only.
cflags=$(PKG_CONFIG_LIBDIR="$pcdir" pkg-config --cflags libbooking)
libs=$(PKG_CONFIG_LIBDIR="$pcdir" pkg-config --libs libbooking)
echo "pkg-config: $cflags $libs"
for dep in postgresql libpq hiredis jansson sqlite sodium; do
	case " $cflags $libs " in
	*"$dep"*) echo "pkg-config --cflags/--libs libbooking names $dep: $cflags $libs" >&2; exit 1 ;;
	esac
done
# Every document a public header cites (doc/NAME.md) is installed.
for cited in $(grep -rhoE 'doc/[a-z_-]+\.md' "$src/include" | sort -u); do
	find "$tmp/root" -path "*/share/doc/libbooking/${cited#doc/}" | grep -q . ||
		{ echo "a header cites $cited, which is not installed" >&2; exit 1; }
done
# The man pages, and the API reference when the build made it (option docs).
for page in man1/booking.1 man3/libbooking.3; do
	find "$tmp/root" -path "*/share/man/$page" | grep -q . || { echo "$page was not installed" >&2; exit 1; }
done
if [ -f "$build/html/index.html" ]; then
	find "$tmp/root" -path "*/share/doc/libbooking/html/index.html" | grep -q . ||
		{ echo "the API reference was built but not installed under share/doc/libbooking/html" >&2; exit 1; }
fi
echo "pkg-config --static: $(PKG_CONFIG_LIBDIR="$pcdir" pkg-config --static --libs libbooking)"
cp "$src/examples/hold_and_pay.c" "$tmp/"
(cd "$tmp" && cc -std=c11 -Wall -Wextra -Werror hold_and_pay.c $cflags $libs -o hold_and_pay)
libdir=$(dirname "$(find "$tmp/root" -name 'libbooking.so.*' | head -n1)")
LD_LIBRARY_PATH="$libdir" "$tmp/hold_and_pay"
# The C++ example, the same way: pkg-config only, C++17, pedantic.
cp "$src/examples/hold_and_pay.cpp" "$tmp/"
(cd "$tmp" && c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror hold_and_pay.cpp $cflags $libs -pthread -o hold_and_pay_cpp)
LD_LIBRARY_PATH="$libdir" "$tmp/hold_and_pay_cpp"

# The conformance kit as a backend author links it: register a scheme (here a
# store that is the memory store), run two groups of the kit on it; and the
# program is installed.
if [ -f "$pcdir/libbooking-conformance.pc" ]; then
	cat >"$tmp/kit_user.c" <<'EOF'
#include <booking/booking.h>
#include <booking/sys/backend.h>
#include <booking/sys/conformance.h>

static int my_store(booking_store **out, const char *url, const booking_clock *clock, void *payload)
{
	(void)url;
	(void)payload;
	return booking_store_open(out, "memory:", clock);
}

int main(void)
{
	booking_backend_def def = BOOKING_BACKEND_DEF_INIT;
	booking_conformance_options o = BOOKING_CONFORMANCE_OPTIONS_INIT;

	def.scheme = "mystore";
	def.store = my_store;
	if (booking_backend_register(&def) != 0)
		return 2;
	o.groups = BOOKING_CONFORMANCE_CATALOG | BOOKING_CONFORMANCE_CHECK;
	return booking_conformance_run("mystore:", &o) == 0 ? 0 : 1;
}
EOF
	kit_cflags=$(pkg-config --cflags libbooking-conformance)
	kit_libs=$(pkg-config --libs libbooking-conformance)
	echo "pkg-config (kit): $kit_cflags $kit_libs"
	(cd "$tmp" && cc -std=c11 -Wall -Wextra -Werror kit_user.c $kit_cflags $kit_libs -o kit_user)
	LD_LIBRARY_PATH="$libdir" "$tmp/kit_user"

	# examples/tinystore, the out-of-tree store, built from the installed
	# headers alone (nothing of src/ or backends/ is reachable here) and run
	# through the whole kit.
	mkdir "$tmp/tinystore"
	cp "$src"/examples/tinystore/tinystore.[ch] "$src/examples/tinystore/conformance.c" "$tmp/tinystore/"
	(cd "$tmp/tinystore" && cc -std=c11 -Wall -Wextra -Werror -pthread tinystore.c conformance.c \
		$kit_cflags $kit_libs -o tinystore-conformance)
	LD_LIBRARY_PATH="$libdir" "$tmp/tinystore/tinystore-conformance" -q
	find "$tmp/root" -path '*/bin/booking-conformance' -type f | grep -q . ||
		{ echo "booking-conformance was not installed" >&2; exit 1; }
fi
