/*
 * Structured logs: one JSON object per line to the host's sink.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <stdio.h>
#include <time.h>

static void iso8601(char *buf, size_t size, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03dZ", (int)(ms % 1000));
}

void booking__log_emit(const booking_handle *bk, const booking_ctx *ctx, booking_log_level level, const char *msg,
                       json_t *fields)
{
	if (!bk || !bk->cfg.log_fn || level < bk->cfg.log_level) { /* quiet unless the host gave a sink */
		json_decref(fields);
		return;
	}
	char ts[40];
	iso8601(ts, sizeof(ts), booking__now(bk));
	json_t *line = json_pack("{s:s,s:s,s:s,s:s}", "timestamp", ts, "level", booking_log_level_name(level), "logger",
	                         bk->cfg.service_name, "message", msg);
	if (!line) {
		json_decref(fields);
		return;
	}
	if (ctx) {
		if (ctx->correlation_id)
			json_object_set_new(line, "correlation_id", json_string(ctx->correlation_id));
		if (ctx->traceparent)
			json_object_set_new(line, "traceparent", json_string(ctx->traceparent));
		if (ctx->user_id)
			json_object_set_new(line, "actor", json_string(ctx->user_id));
	}
	if (json_is_object(fields))
		json_object_update_missing(line, fields);
	json_decref(fields);
	char *text = booking__json_dumps(line, JSON_COMPACT);
	json_decref(line);
	if (!text)
		return;
	bk->cfg.log_fn(level, text, bk->cfg.log_payload);
	booking_free(text);
}

void booking_log_to_stderr(booking_log_level level, const char *json_line, void *payload)
{
	(void)level;
	(void)payload;
	if (json_line)
		fprintf(stderr, "%s\n", json_line); /* one call: lines of concurrent threads do not interleave */
}
