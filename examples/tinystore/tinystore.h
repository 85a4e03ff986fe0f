/*
 * tinystore — an out-of-tree store for libbooking, written only against
 * the installed headers (<booking/booking.h>, <booking/sys/backend.h>):
 * every table a linked list behind one mutex. doc/backends.md walks
 * through it.
 * SPDX-License-Identifier: MIT
 */
#ifndef TINYSTORE_H
#define TINYSTORE_H

/**
 * Register the scheme "tinystore" for stores, process-wide: the store URL
 * "tinystore:" opens a new, empty store held in this process's memory
 * (each open its own; the data goes with the store's free). It takes no
 * settings; any other text after the colon is BOOKING_EVALIDATION.
 * Returns booking_backend_register()'s code.
 */
int tinystore_register(void);

#endif
