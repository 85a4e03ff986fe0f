#!/usr/bin/env bash
# The record ABI promise (doc/decisions.md, "Records and the ABI"): appending
# a field to a record does not break a program built against the previous
# library. Build the library from SOURCE_DIR (memory backends only) and
# install it; build tests/abi/consumer.c against it with pkg-config alone;
# copy the source, append a field to every public record that appears in an
# array, rebuild and reinstall the library alone; run the OLD consumer
# against the NEW library. When abidiff (abigail-tools) is installed, it
# compares the two libraries too and must find no incompatible change.
# Usage: abi-check.sh SOURCE_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The records the API hands out or takes in arrays of. A header that gains an
# array of records (`T **field;`) must add T here: the check below refuses to
# run on a list that misses one.
records="booking_movie booking_theater booking_showtime booking_seat booking_price booking_seat_state
	booking_seat_ref booking_reservation booking_violation booking_dead_letter booking_waitlist_entry"

for t in $(grep -hoE '^\s+(const )?booking_[a-z_]+ \*\*[a-z_]+;' "$src"/include/booking/*.h |
	sed -E 's/^\s+(const )?(booking_[a-z_]+) .*/\2/' | sort -u); do
	case " $(echo $records) " in
	*" $t "*) ;;
	*) echo "abi-check: $t is handed out in an array but is not in the list of grown records" >&2; exit 1 ;;
	esac
done

# Build and install one source tree: the library and its headers only, at -O0
# for speed (warnings are the main build's business: -O0 gives false -Wrestrict).
build_install() { # SOURCE PREFIX
	local b="$tmp/build-$(basename "$2")" log="$tmp/build-$(basename "$2").log"
	if ! { meson setup "$b" "$1" --prefix="$2" --libdir=lib --buildtype=debug -Dwerror=false \
		-Dsqlite=disabled -Dpostgresql=disabled -Dredis=disabled -Dtests=false -Dexamples=false \
		-Ddocs=disabled -Dconformance=disabled &&
		meson compile -C "$b" -j1 && meson install -C "$b" --quiet; } >"$log" 2>&1; then
		tail -n 40 "$log" >&2
		echo "abi-check: building $1 failed" >&2
		exit 1
	fi
}

# 1. the library as it is, and the consumer built against it
build_install "$src" "$tmp/old"
export PKG_CONFIG_PATH="$tmp/old/lib/pkgconfig"
cc -std=c11 -Wall -Wextra -Werror -g "$src/tests/abi/consumer.c" $(pkg-config --cflags --libs libbooking) \
	-o "$tmp/consumer"
echo "abi-check: the consumer against the library it was built with"
LD_LIBRARY_PATH="$tmp/old/lib" "$tmp/consumer"

# 2. the same library with a field appended to every record of an array
mkdir "$tmp/src"
tar -C "$src" --exclude='./build*' --exclude='./.git' -cf - . | tar -C "$tmp/src" -xf -
python3 - "$tmp/src/include/booking" $records <<'PY'
import pathlib, re, sys
root, names = pathlib.Path(sys.argv[1]), set(sys.argv[2:])
grown = set()
for h in root.glob("*.h"):
    text = h.read_text()
    def grow(m):
        grown.add(m.group(2))
        return m.group(1) + "\tchar abi_test_padding[40]; /* appended by tests/abi/abi-check.sh */\n} " + m.group(2) + ";"
    new = re.sub(r"(typedef struct (\w+) \{.*?\n)\} (\w+);",
                 lambda m: grow(m) if m.group(2) in names and m.group(2) == m.group(3) else m.group(0),
                 text, flags=re.S)
    h.write_text(new)
missing = names - grown
if missing:
    sys.exit("abi-check: no struct found for " + " ".join(sorted(missing)))
print("abi-check: appended a field to " + " ".join(sorted(grown)))
PY
build_install "$tmp/src" "$tmp/new"

# 3. the old consumer against the new library
echo "abi-check: the same consumer against the library whose records grew"
LD_LIBRARY_PATH="$tmp/new/lib" "$tmp/consumer"

# 4. abidiff, when installed: no incompatible change (bit 8 of its status)
if command -v abidiff >/dev/null; then
	status=0
	abidiff --headers-dir1 "$tmp/old/include" --headers-dir2 "$tmp/new/include" \
		"$(readlink -f "$tmp/old/lib/libbooking.so")" "$(readlink -f "$tmp/new/lib/libbooking.so")" || status=$?
	echo "abi-check: abidiff exit status $status"
	if [ $((status & 1)) -ne 0 ] || [ $((status & 2)) -ne 0 ]; then
		echo "abi-check: abidiff could not compare the libraries" >&2
		exit 1
	fi
	if [ $((status & 8)) -ne 0 ]; then
		echo "abi-check: abidiff found an incompatible ABI change" >&2
		exit 1
	fi
else
	echo "abi-check: abidiff not installed (abigail-tools): the consumer run above is the check"
fi
