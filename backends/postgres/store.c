/* Placeholder until the PostgreSQL store lands. */
#include "backends.h"

int booking__pg_store_new(booking_store **out, const char *conninfo, const booking_options *opts)
{
	(void)conninfo;
	(void)opts;
	*out = NULL;
	return booking_error_set(BOOKING_ENOTSUPPORTED, NULL, "postgresql: not written yet");
}
