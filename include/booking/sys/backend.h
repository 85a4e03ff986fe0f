/*
 * libbooking backend API — umbrella for backend authors. A backend
 * implements a vtable (store.h, lock.h, events.h, gateway.h), registers
 * its URL scheme (registry.h), reads its settings from its URL (url.h)
 * and hands out records made by records.h; doc/backends.md tells how.
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_SYS_BACKEND_H
#define BOOKING_SYS_BACKEND_H

#include "alloc.h"
#include "clock.h"
#include "store.h"
#include "lock.h"
#include "events.h"
#include "gateway.h"
#include "pool.h"
#include "url.h"
#include "records.h"
#include "registry.h"

#endif
