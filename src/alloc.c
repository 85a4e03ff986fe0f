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

/*
 * jansson does not always report its own allocation failures: its lexer
 * drops a byte it failed to store, so json_loads() returns a damaged tree
 * (an id one character short), and json_dumps() ignores a failure writing
 * an object key and returns damaged text (tests/hardening/test_oom.c caught
 * both). Its allocations go through this wrapper, which counts failures on
 * the calling thread, so booking__json_loads() can throw away a tree built
 * while one failed. Thread-local like the error record: no shared state.
 */
static _Thread_local unsigned long jansson_failures;

/*
 * Worse, while json_loads() scans a string its lexer keeps going after an
 * allocation it could not make and writes past the end of a 16-byte buffer
 * (a key of 15 bytes or more was enough; tests/hardening/test_oom.c caught
 * it under valgrind). So during booking__json_loads() a failed allocation is
 * still counted, but jansson gets its block from a per-thread spare area
 * instead of NULL: the parse ends in memory it owns, and the tree built
 * while a failure was counted is thrown away (OUT_OF_MEMORY), which frees
 * every spare block before booking__json_loads() returns. A spare area that
 * is used up answers NULL, as before.
 */
#define SPARE_SIZE 8192
static _Thread_local bool jansson_loading;
static _Thread_local size_t spare_used;
static _Thread_local max_align_t spare[SPARE_SIZE / sizeof(max_align_t)];

static bool in_spare(const void *p)
{
	return (const char *)p >= (const char *)spare && (const char *)p < (const char *)spare + sizeof(spare);
}

static void *jansson_malloc(size_t size)
{
	void *p = alloc_malloc(size);
	if (!p) {
		jansson_failures++;
		size_t need = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
		if (jansson_loading && need <= sizeof(spare) - spare_used) {
			p = (char *)spare + spare_used;
			spare_used += need;
		}
	}
	return p;
}

static void jansson_free(void *p)
{
	if (!in_spare(p))
		alloc_free(p);
}

void booking__alloc_install_jansson(void)
{
	json_set_alloc_funcs(jansson_malloc, jansson_free);
}

unsigned long booking__json_failures(void)
{
	return jansson_failures;
}

json_t *booking__json_loads(const char *text, size_t flags, json_error_t *error, bool *oom_out)
{
	unsigned long before = jansson_failures;
	json_error_t local;
	jansson_loading = true;
	json_t *j = json_loads(text, flags, error ? error : &local);
	jansson_loading = false;
	bool oom = jansson_failures != before;
	if (oom) {
		json_decref(j);
		j = NULL;
	}
	spare_used = 0; /* every spare block belonged to the tree just freed */
	if (oom_out)
		*oom_out = oom;
	return j;
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

/*
 * json_dumps() through a callback that remembers an allocation failure.
 * jansson ignores the result of writing an object's key, so json_dumps()
 * hit by a transient allocation failure returns text with bytes missing
 * (malformed JSON) instead of NULL; tests/hardening/test_oom.c caught an
 * outbox envelope published that way. Here any failure fails the dump.
 */
typedef struct dump_buf {
	char *data;
	size_t len, cap;
	bool failed;
} dump_buf;

static int dump_append(const char *buf, size_t size, void *payload)
{
	dump_buf *b = payload;
	if (b->failed)
		return -1;
	if (size >= SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return -1;
	}
	if (b->len + size + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + size + 1)
			ncap *= 2;
		char *n = booking_realloc(b->data, ncap);
		if (!n) {
			b->failed = true;
			return -1;
		}
		b->data = n;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, buf, size);
	b->len += size;
	b->data[b->len] = '\0';
	return 0;
}

int booking__json_out(char **json_out, json_t *json, unsigned long failures_before)
{
	*json_out = NULL;
	if (json && booking__json_failures() == failures_before)
		*json_out = booking__json_dumps(json, JSON_COMPACT);
	json_decref(json);
	return *json_out ? 0 : booking_error_oom();
}

char *booking__json_dumps(const json_t *json, size_t flags)
{
	dump_buf b = {NULL, 0, 0, false};
	if (!json || json_dump_callback(json, dump_append, &b, flags) != 0 || b.failed || !b.data) {
		booking_free(b.data);
		return NULL;
	}
	return b.data;
}
