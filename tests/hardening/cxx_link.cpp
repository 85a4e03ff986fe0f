/*
 * libbooking hardening — the headers from C++: every header included,
 * the *_INIT macros in their C++ spelling, and calls that must link
 * (extern "C").
 * SPDX-License-Identifier: MIT
 */
#include <booking/booking.h>
#include <booking/sys/backend.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <type_traits>

/* The *_INIT macros in C++: value-initialised, quiet under -Wextra -Werror. */
static const booking_options options_from_macro = BOOKING_OPTIONS_INIT;
static const booking_consumer_options consumer_from_macro = BOOKING_CONSUMER_OPTIONS_INIT;
static const booking_pool_config pool_from_macro = BOOKING_POOL_CONFIG_INIT;
static const booking_backend_def backend_from_macro = BOOKING_BACKEND_DEF_INIT;

/* A constructor with C++ linkage through the C typedef: a store of scheme "cxx" that is the memory store. */
static int cxx_store(booking_store **out, const char *, const booking_clock *clock, void *)
{
	return booking_store_open(out, "memory:", clock);
}

/*
 * Calls that return codes say so in their type, so a switch over one is
 * checked for exhaustiveness (-Wswitch-enum would name a missing code).
 */
static_assert(std::is_same<decltype(booking_hold(nullptr, nullptr, nullptr, nullptr, nullptr, 0)), booking_error_code>::value,
              "booking_hold returns a booking_error_code");
static_assert(std::is_same<decltype(booking_open(nullptr, nullptr)), booking_error_code>::value,
              "booking_open returns a booking_error_code");

static const char *describe(booking_error_code rc)
{
	switch (rc) {
	case BOOKING_OK: return "ok";
	case BOOKING_ESEAT_ALREADY_BOOKED: return "taken";
	default: return booking_error_name(rc);
	}
}

int main()
{
	if (std::strcmp(describe(booking_options_init(nullptr, BOOKING_OPTIONS_VERSION)), "VALIDATION_ERROR") != 0)
		return 1;
	booking_options opts;
	booking_options_init(&opts, BOOKING_OPTIONS_VERSION);
	booking_ctx ctx = BOOKING_CTX_INIT;
	booking_consumer_options co = consumer_from_macro;
	if (options_from_macro.version != BOOKING_OPTIONS_VERSION || options_from_macro.store_url != nullptr)
		return 1;
	if (opts.version != BOOKING_OPTIONS_VERSION || ctx.version != BOOKING_CTX_VERSION ||
	    co.version != BOOKING_CONSUMER_OPTIONS_VERSION || pool_from_macro.version != BOOKING_POOL_CONFIG_VERSION ||
	    pool_from_macro.open != nullptr)
		return 1;
	if (std::string(booking_version()) != BOOKING_VERSION_STRING)
		return 1;
	if (std::strcmp(booking_error_name(BOOKING_ESEAT_ALREADY_BOOKED), "SEAT_ALREADY_BOOKED") != 0 ||
	    booking_error_http_status(BOOKING_ESEAT_ALREADY_BOOKED) != 409)
		return 1;

	booking_backend_def def = backend_from_macro;
	if (def.version != BOOKING_BACKEND_DEF_VERSION || def.store != nullptr)
		return 1;
	def.scheme = "cxx";
	def.store = cxx_store;
	if (booking_backend_register(&def) != 0) {
		std::fprintf(stderr, "booking_backend_register: %s\n", booking_error_last()->message);
		return 1;
	}

	opts.store_url = "cxx:";
	booking_handle *bk = nullptr;
	if (booking_open(&bk, &opts) != 0) {
		std::fprintf(stderr, "booking_open: %s\n", booking_error_last()->message);
		return 1;
	}
	booking_seat *seats = nullptr;
	size_t n = 0;
	int rc = booking_layout_parse(&seats, &n, "A-B:3", sizeof *seats);
	booking_free(seats);
	booking_close(bk);
	return rc == 0 && n == 6 ? 0 : 1;
}
