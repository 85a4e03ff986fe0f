/*
 * libbooking — sell seats without ever selling one twice.
 * The umbrella header: include this one.
 *
 * Documents cited in the headers as doc/NAME.md are installed with the
 * library, in its documentation directory (share/doc/libbooking/NAME.md).
 * SPDX-License-Identifier: MIT
 */
#ifndef BOOKING_H
#define BOOKING_H

#include "common.h"
#include "errors.h"
#include "options.h"
#include "handle.h"
#include "catalog.h"
#include "reservation.h"
#include "boxoffice.h"
#include "waitlist.h"
#include "payment.h"
#include "events.h"
#include "admin.h"
#include "auth.h"
#include "observability.h"

#endif
