#!/usr/bin/env bash
# Install dependencies, build, and start booking-server with the seat-picker
# page on 127.0.0.1:8080 (BOOKING_HTTP_LISTEN to change it). The data
# directory (./booking-data, or $BOOKING_DATA_DIR) is made by `booking init`
# when missing; an empty catalog is seeded with a demo one on its SQLite
# store (a movie, a theater, a screen with aisles and a premium row, a
# showtime tomorrow at 20:00 UTC). Extra arguments go to booking-server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
[ -f build/build.ninja ] || meson setup build -Dsqlite=enabled -Dserver=enabled
grep -q "booking-server" build/build.ninja || meson configure build -Dserver=enabled
meson compile -C build

data=${BOOKING_DATA_DIR:-booking-data}
booking=./build/examples/booking
b() { "$booking" --data-dir "$data" "$@"; }
id_of() { grep -o '"id":"[^"]*"' | head -n 1 | cut -d'"' -f4; }

[ -f "$data/jwt-private.jwk" ] || b init >&2
if b --json showtime list | grep -q '"count":0'; then
	echo "seeding a demo catalog into $data" >&2
	theater=$(b --as system --json theater add "Cinema Paradiso" --city Lisbon | id_of)
	screen=$(b --as system --json screen add "$theater" "Screen 1" --layout "A-H:4+8+4,J:4+8+4:premium" | id_of)
	movie=$(b --as system --json movie add "The Seat Picker" --duration 118 | id_of)
	starts=$(date -u -d tomorrow +%Y-%m-%dT20:00:00Z)
	b --as system --json showtime add "$movie" "$screen" --starts "$starts" --currency EUR \
		--price standard=9.50 --price premium=14.00 >/dev/null
	echo "an admin for the API: echo PASSWORD | $booking --data-dir $data --as system register EMAIL --admin" >&2
fi

listen=${BOOKING_HTTP_LISTEN:-127.0.0.1:8080}
echo "seat picker: http://$listen/  (Ctrl-C stops the server)" >&2
exec ./build/examples/server/booking-server --data-dir "$data" --listen "$listen" \
	--www examples/server/www --openapi examples/server/openapi.json "$@"
