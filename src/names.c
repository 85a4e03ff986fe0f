/*
 * The stable name of every public enum's values. The rule: a value's name
 * is its constant without the enum's prefix (BOOKING_SEAT_HELD → "HELD"),
 * and "UNKNOWN" for a number the enum does not have. Static strings.
 * (booking_role_name, lower-case as tokens carry roles, and
 * booking_error_name, with the codes' table, live beside their types.)
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <booking/sys/backend.h>

/* names[i] for 0 <= value - first < n, else "UNKNOWN" */
static const char *pick(int value, int first, const char *const *names, size_t n)
{
	long i = (long)value - first;
	return i >= 0 && (size_t)i < n && names[i] ? names[i] : "UNKNOWN";
}

#define PICK(value, first, ...)                                                                     \
	do {                                                                                        \
		static const char *const names_[] = {__VA_ARGS__};                                  \
		return pick((int)(value), (first), names_, sizeof names_ / sizeof names_[0]);       \
	} while (0)

const char *booking_reservation_status_name(booking_reservation_status status)
{
	PICK(status, BOOKING_RESERVATION_PENDING, "PENDING", "PAYMENT_PROCESSING", "CONFIRMED", "CANCELLED", "EXPIRED");
}

const char *booking_saga_state_name(booking_saga_state state)
{
	PICK(state, BOOKING_SAGA_SEATS_RESERVED, "SEATS_RESERVED", "PAYMENT_PENDING", "CONFIRMED", "COMPENSATED", "FAILED");
}

const char *booking_payment_status_name(booking_payment_status status)
{
	PICK(status, BOOKING_PAYMENT_PROCESSING, "PROCESSING", "SUCCEEDED", "FAILED", "REFUNDED");
}

const char *booking_seat_status_name(booking_seat_status status)
{
	PICK(status, BOOKING_SEAT_FREE, "FREE", "HELD", "SOLD", "BLOCKED");
}

const char *booking_showtime_status_name(booking_showtime_status status)
{
	PICK(status, BOOKING_SHOWTIME_SCHEDULED, "SCHEDULED", "CANCELLED");
}

const char *booking_invariant_name(booking_invariant invariant)
{
	PICK(invariant, BOOKING_INV_SEAT_SINGLE_OWNER, "SEAT_SINGLE_OWNER", "CONFIRMED_PAID", "IDEMPOTENCY", "OUTBOX",
	     "INBOX", "MONEY", "BOX_OFFICE", "WAITLIST");
}

const char *booking_notification_kind_name(booking_notification_kind kind)
{
	PICK(kind, BOOKING_NOTIFY_RESERVATION_CONFIRMED, "RESERVATION_CONFIRMED", "RESERVATION_CANCELLED", "RESERVATION_EXPIRED",
	     "PAYMENT_FAILED", "PAYMENT_REFUNDED", "WAITLIST_OFFERED");
}

const char *booking_span_kind_name(booking_span_kind kind)
{
	PICK(kind, BOOKING_SPAN_INTERNAL, "INTERNAL", "CLIENT");
}

const char *booking_log_level_name(booking_log_level level)
{
	switch (level) {
	case BOOKING_LOG_DEBUG: return "DEBUG";
	case BOOKING_LOG_INFO: return "INFO";
	case BOOKING_LOG_WARNING: return "WARNING";
	case BOOKING_LOG_ERROR: return "ERROR";
	case BOOKING_LOG_CRITICAL: return "CRITICAL";
	}
	return "UNKNOWN";
}

const char *booking_decline_policy_name(booking_decline_policy policy)
{
	PICK(policy, BOOKING_DECLINE_KEEP_HOLD, "KEEP_HOLD", "RELEASE");
}

const char *booking_orphan_policy_name(booking_orphan_policy policy)
{
	PICK(policy, BOOKING_ORPHANS_OFF, "OFF", "REFUSE", "REFUSE_UNLESS_UNAVOIDABLE");
}

const char *booking_charge_status_name(booking_charge_status status)
{
	PICK(status, BOOKING_CHARGE_SUCCEEDED, "SUCCEEDED", "DECLINED");
}

const char *booking_store_guard_kind_name(booking_store_guard_kind kind)
{
	PICK(kind, BOOKING_GUARD_RESERVATION_VERSION, "BOOKING_VERSION", "PAYMENT_STATUS", "SEATS_OWNED", "KEY_UNUSED");
}
