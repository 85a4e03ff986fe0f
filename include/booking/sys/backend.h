/*
 * libbooking backend API — umbrella for backend authors.
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
#include "registry.h"

#endif
