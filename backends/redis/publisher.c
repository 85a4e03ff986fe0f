/* Placeholder until the Redis Streams publisher lands. */
#include "backends.h"

int booking__redis_publisher_new(booking_event_publisher **out, const char *url, const booking_clock *clock)
{
	(void)url;
	(void)clock;
	*out = NULL;
	return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "redis: not written yet");
}
