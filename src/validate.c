/*
 * Input checks shared by every use case: lengths, UTF-8, identifiers.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <ctype.h>
#include <string.h>

bool booking__utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		size_t n;
		uint32_t cp;
		if (c < 0x80) {
			if (c == 0)
				return false;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

int booking__check_text(const char *field, const char *s, size_t min, size_t max)
{
	if (!s)
		return min ? booking__error_field(field, "is required") : 0;
	size_t len = strnlen(s, max + 1);
	if (len < min || len > max)
		return booking__error_field(field, "must be %zu..%zu bytes", min, max);
	if (!booking__utf8_valid(s, len))
		return booking__error_field(field, "must be valid UTF-8");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return booking__error_field(field, "must not contain control characters");
	return 0;
}

int booking__check_id(const char *field, const char *id)
{
	if (!id)
		return booking__error_field(field, "is required");
	size_t len = strnlen(id, BOOKING_ID_SIZE);
	if (len != BOOKING_ID_SIZE - 1)
		return booking__error_field(field, "must be a UUID");
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !isxdigit((unsigned char)id[i]) || isupper((unsigned char)id[i]))
			return booking__error_field(field, "must be a UUID in lower-case text form");
	}
	return 0;
}

static int check_charset(const char *field, const char *s, size_t max, const char *extra, bool lower_only)
{
	if (!s || !*s)
		return booking__error_field(field, "is required");
	size_t len = strnlen(s, max);
	if (len >= max)
		return booking__error_field(field, "must be at most %zu bytes", max - 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		bool ok = isdigit(c) || (lower_only ? islower(c) : isalpha(c)) || (c && strchr(extra, c));
		if (!ok || c >= 0x80)
			return booking__error_field(field, "contains an invalid character at byte %zu", i);
	}
	return 0;
}

int booking__check_user_id(const char *field, const char *user_id)
{
	return check_charset(field, user_id, BOOKING_USER_ID_SIZE, "._@+-", false);
}

int booking__check_label(const char *field, const char *label)
{
	return check_charset(field, label, BOOKING_LABEL_SIZE, "-", false);
}

int booking__check_category(const char *field, const char *category)
{
	return check_charset(field, category, BOOKING_CATEGORY_SIZE, "_-", true);
}

int booking__check_group(const char *field, const char *group)
{
	return check_charset(field, group, 64, "._-", false);
}

int booking__check_currency(const char *field, const char *currency)
{
	if (!currency || strlen(currency) != 3 || !isupper((unsigned char)currency[0]) ||
	    !isupper((unsigned char)currency[1]) || !isupper((unsigned char)currency[2]))
		return booking__error_field(field, "must be an ISO 4217 code like \"EUR\"");
	return 0;
}

void booking__copy(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}
