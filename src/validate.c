/*
 * Input checks shared by every use case: lengths, UTF-8, identifiers.
 * SPDX-License-Identifier: MIT
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/*
 * One UTF-8 character at s[0..len): its code point and length, or 0 when
 * the bytes there are not a well-formed character (overlong forms,
 * surrogates, beyond U+10FFFF, a cut sequence, NUL).
 */
size_t booking__utf8_next(const char *s, size_t len, uint32_t *cp_out)
{
	const unsigned char *p = (const unsigned char *)s;
	if (len == 0 || p[0] == 0)
		return 0;
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80) {
		*cp_out = c;
		return 1;
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
		return 0;
	}
	if (n >= len)
		return 0;
	for (size_t k = 1; k <= n; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_out = cp;
	return n + 1;
}

bool booking__utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = booking__utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool booking__cp_is_unsafe(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||       /* C0, DEL, C1 controls */
	       (cp >= 0x202a && cp <= 0x202e) ||                  /* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||                  /* bidi isolates */
	       cp == 0x200e || cp == 0x200f || cp == 0x061c ||    /* bidi marks */
	       cp == 0x2028 || cp == 0x2029;                      /* line and paragraph separators */
}

int booking__check_text(const char *field, const char *s, size_t min, size_t max)
{
	if (!s)
		return min ? booking__error_field(field, "is required") : 0;
	size_t len = strnlen(s, max + 1);
	if (len < min || len > max)
		return booking__error_field(field, "must be %zu..%zu bytes", min, max);
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f) { /* printable ASCII: the common case, nothing to decode */
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = booking__utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return booking__error_field(field, "must be valid UTF-8");
		if (booking__cp_is_unsafe(cp))
			return booking__error_json(BOOKING_EVALIDATION,
			                           json_pack("{s:s,s:s,s:I}", "field", field, "rule", "control", "offset",
			                                     (json_int_t)i),
			                           "%s: must not contain control characters or bidirectional overrides "
			                           "(U+%04X at byte %zu)",
			                           field, (unsigned)cp, i);
		i += n;
	}
	return 0;
}

size_t booking__quote(char *out, size_t cap, const char *s, size_t max_chars)
{
	return booking__sanitize(out, cap, s, s ? strnlen(s, 4096) : 0, max_chars, true);
}

size_t booking__sanitize(char *out, size_t cap, const char *s, size_t len, size_t max_chars, bool escape_backslash)
{
	if (cap == 0)
		return 0;
	/* the common case: printable ASCII that fits, copied as it is */
	if (len < cap && len <= max_chars) {
		size_t i = 0;
		while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f &&
		       !(escape_backslash && s[i] == '\\'))
			i++;
		if (i == len) {
			memcpy(out, s, len);
			out[len] = '\0';
			return len;
		}
	}
	size_t o = 0, chars = 0;
	bool cut = false;
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = booking__utf8_next(s + i, len - i, &cp);
		char esc[16];
		const char *piece;
		size_t plen;
		if (n == 0) {
			snprintf(esc, sizeof(esc), "\\x%02X", (unsigned char)s[i]);
			piece = esc;
			plen = strlen(esc);
			n = 1;
		} else if (booking__cp_is_unsafe(cp) || (escape_backslash && cp == '\\')) {
			if (cp == '\\')
				snprintf(esc, sizeof(esc), "\\\\");
			else
				snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)cp);
			piece = esc;
			plen = strlen(esc);
		} else {
			piece = s + i;
			plen = n;
		}
		/* keep room for the ellipsis and the NUL */
		if (chars >= max_chars || o + plen + 4 > cap) {
			cut = true;
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
		chars++;
		i += n;
	}
	if (cut && o + 4 <= cap) {
		memcpy(out + o, "\xe2\x80\xa6", 3); /* U+2026 */
		o += 3;
	}
	out[o] = '\0';
	return o;
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
		unsigned char c = (unsigned char)id[i];
		bool hex = (unsigned)(c - '0') < 10 || (unsigned)(c - 'a') < 6; /* lower case only, without the locale */
		if (dash ? c != '-' : !hex)
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

const char *booking__article(const char *word)
{
	return word && strchr("AEIOUaeiou", word[0]) && word[0] ? "an" : "a";
}

size_t booking_text_escape(char *out, size_t size, const char *text)
{
	if (!out || size == 0)
		return 0;
	const char *t = text ? text : "";
	return booking__sanitize(out, size, t, strlen(t), SIZE_MAX, false);
}
