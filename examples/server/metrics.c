/*
 * booking-server — HTTP metrics in the Prometheus text format, after the
 * library's own (booking_metrics()).
 * SPDX-License-Identifier: MIT
 */
#include "server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double bucket_bounds[SRV_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

static const char *route_name(int route)
{
	if (route >= 0 && route < R_COUNT)
		return srv_routes[route].pattern;
	return route == R_COUNT ? "static" : "unmatched";
}

/* Methods as static strings, so a series never points into a finished request. */
static const char *method_name(const char *m)
{
	static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
	for (size_t i = 0; m && i < sizeof known / sizeof known[0]; i++)
		if (strcmp(m, known[i]) == 0)
			return known[i];
	return "OTHER";
}

void srv_metrics_record(srv *s, int route, const char *method, int status, double seconds)
{
	const char *name = route_name(route), *m = method_name(method);
	int li = route >= 0 && route <= R_COUNT + 1 ? route : R_COUNT + 1;
	pthread_mutex_lock(&s->metrics_mu);
	size_t i = 0;
	while (i < s->series_count &&
	       !(s->series[i].route == name && s->series[i].method == m && s->series[i].status == status))
		i++;
	if (i == s->series_count && i < SRV_METRIC_SERIES) {
		s->series[i] = (srv_series){name, m, status, 0};
		s->series_count++;
	}
	if (i < s->series_count)
		s->series[i].count++;
	srv_latency *l = &s->latency[li];
	size_t b = 0;
	while (b < SRV_BUCKETS && seconds > bucket_bounds[b])
		b++;
	l->buckets[b]++;
	l->sum += seconds;
	l->count++;
	pthread_mutex_unlock(&s->metrics_mu);
}

/* A growing text buffer. */
typedef struct buf {
	char *p;
	size_t len, cap;
	bool failed;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
	va_list ap;
	for (int attempt = 0; attempt < 2 && !b->failed; attempt++) {
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = (b->cap ? b->cap : 4096) * 2 + (size_t)n;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->failed = true;
			return;
		}
		b->p = q;
		b->cap = cap;
	}
}

char *srv_metrics_text(srv *s)
{
	buf b = {0};
	char *lib = NULL;
	if (booking_metrics(&lib, s->bk) == 0 && lib)
		put(&b, "%s", lib);
	booking_free(lib);
	put(&b, "# HELP booking_http_requests_total HTTP requests by route, method and status.\n"
	        "# TYPE booking_http_requests_total counter\n");
	pthread_mutex_lock(&s->metrics_mu);
	for (size_t i = 0; i < s->series_count; i++)
		put(&b, "booking_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n", s->series[i].route,
		    s->series[i].method, s->series[i].status, (unsigned long long)s->series[i].count);
	put(&b, "# HELP booking_http_request_duration_seconds HTTP request latency by route.\n"
	        "# TYPE booking_http_request_duration_seconds histogram\n");
	for (int r = 0; r < R_COUNT + 2; r++) {
		const srv_latency *l = &s->latency[r];
		if (!l->count)
			continue;
		uint64_t cum = 0;
		for (int k = 0; k < SRV_BUCKETS; k++) {
			cum += l->buckets[k];
			put(&b, "booking_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_name(r),
			    bucket_bounds[k], (unsigned long long)cum);
		}
		put(&b,
		    "booking_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n"
		    "booking_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
		    "booking_http_request_duration_seconds_count{route=\"%s\"} %llu\n",
		    route_name(r), (unsigned long long)l->count, route_name(r), l->sum, route_name(r),
		    (unsigned long long)l->count);
	}
	pthread_mutex_unlock(&s->metrics_mu);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
