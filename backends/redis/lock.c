/* Placeholder until the Redis lock manager lands. */
#include "backends.h"

int booking__redis_lock_manager_new(booking_lock_manager **out, const char *url, const booking_clock *clock)
{
	(void)url;
	(void)clock;
	*out = NULL;
	return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "redis: not written yet");
}
