/*
 * The library's allocator: every allocation (jansson's too) goes through
 * here so a host can route it, and a test can fail the Nth one.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/*
 * Process-wide by necessity: records outlive handles and jansson's hooks are
 * process-wide. Set once before use (see booking_set_allocator docs).
 */
static void *(*alloc_malloc)(size_t) = malloc;
static void *(*alloc_realloc)(void *, size_t) = realloc;
static void (*alloc_free)(void *) = free;

void booking_set_allocator(void *(*malloc_fn)(size_t), void *(*realloc_fn)(void *, size_t),
                           void (*free_fn)(void *))
{
	if (malloc_fn && realloc_fn && free_fn) {
		alloc_malloc = malloc_fn;
		alloc_realloc = realloc_fn;
		alloc_free = free_fn;
	} else {
		alloc_malloc = malloc;
		alloc_realloc = realloc;
		alloc_free = free;
	}
	booking__alloc_install_jansson();
}

void booking__alloc_install_jansson(void)
{
	json_set_alloc_funcs(alloc_malloc, alloc_free);
}

void *booking_malloc(size_t size)
{
	return alloc_malloc(size ? size : 1);
}

void *booking_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	void *p = booking_malloc(n * size);
	if (p)
		memset(p, 0, n * size);
	return p;
}

void *booking_realloc(void *ptr, size_t size)
{
	return alloc_realloc(ptr, size ? size : 1);
}

void booking_free(void *ptr)
{
	if (ptr)
		alloc_free(ptr);
}

char *booking_strndup(const char *s, size_t n)
{
	if (!s)
		return NULL;
	size_t len = strnlen(s, n);
	char *d = booking_malloc(len + 1);
	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *booking_strdup(const char *s)
{
	return s ? booking_strndup(s, strlen(s)) : NULL;
}
