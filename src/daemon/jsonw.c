// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/jsonw.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void jsonw_free(struct jsonw *w)
{
	free(w->buf);
	jsonw_init(w);
}

void jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->err = 0;
	w->depth = 0;
	memset(w->need_comma, 0, sizeof(w->need_comma));
	memset(w->kind, 0, sizeof(w->kind));
	if (w->buf)
		w->buf[0] = '\0';
}

/* Room for n more bytes and a NUL. */
static int jsonw_reserve(struct jsonw *w, size_t n)
{
	size_t cap = w->cap ? w->cap : 256;
	char *p;

	if (w->err)
		return w->err;
	if (w->len + n + 1 <= w->cap)
		return 0;
	while (cap < w->len + n + 1)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p)
		return w->err = -ENOMEM;
	w->buf = p;
	w->cap = cap;
	return 0;
}

static void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	if (jsonw_reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when invalid. */
static size_t jsonw_utf8_len(const unsigned char *p)
{
	size_t n, i;
	uint32_t c;

	if (*p < 0x80)
		return 1;
	if ((*p & 0xe0) == 0xc0) {
		n = 2;
		c = *p & 0x1f;
	} else if ((*p & 0xf0) == 0xe0) {
		n = 3;
		c = *p & 0x0f;
	} else if ((*p & 0xf8) == 0xf0) {
		n = 4;
		c = *p & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF are not UTF-8. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || (c >= 0xd800 && c <= 0xdfff) ||
	    c > 0x10ffff)
		return 0;
	return n;
}

/* s as a JSON string; a byte that is not UTF-8 becomes U+FFFD. */
static void jsonw_quoted(struct jsonw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char esc[6] = {'\\', 'u', '0', '0', 0, 0};
	size_t n;

	jsonw_raw(w, "\"", 1);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			jsonw_raw(w, esc, 2);
			esc[1] = 'u';
			p++;
		} else if (*p < 0x20 || *p == 0x7f) {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			jsonw_raw(w, esc, 6);
			p++;
		} else if ((n = jsonw_utf8_len(p))) {
			jsonw_raw(w, (const char *)p, n);
			p += n;
		} else {
			jsonw_raw(w, "\\ufffd", 6);
			p++;
		}
	}
	jsonw_raw(w, "\"", 1);
}

/*
 * The comma and the key before a value: a key inside an object only, and
 * one value at the top. Returns the (sticky) error.
 */
static int jsonw_member(struct jsonw *w, const char *key)
{
	bool in_obj = w->depth > 0 && w->kind[w->depth] == '{';

	if (w->err)
		return w->err;
	if (!key != !in_obj || (w->depth == 0 && w->need_comma[0]))
		return w->err = -EINVAL;
	if (w->need_comma[w->depth] && w->depth)
		jsonw_raw(w, ",", 1);
	w->need_comma[w->depth] = true;
	if (key) {
		jsonw_quoted(w, key);
		jsonw_raw(w, ":", 1);
	}
	return w->err;
}

static void jsonw_open(struct jsonw *w, const char *key, char c)
{
	if (jsonw_member(w, key))
		return;
	if (w->depth >= JSONW_MAX_DEPTH) {
		w->err = -EINVAL;
		return;
	}
	jsonw_raw(w, &c, 1);
	w->depth++;
	w->need_comma[w->depth] = false;
	w->kind[w->depth] = c;
}

static void jsonw_close(struct jsonw *w, char c)
{
	if (w->err)
		return;
	if (!w->depth || w->kind[w->depth] != (c == '}' ? '{' : '[')) {
		w->err = -EINVAL;
		return;
	}
	w->depth--;
	jsonw_raw(w, &c, 1);
}

void jsonw_obj_open(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, '{');
}

void jsonw_obj_close(struct jsonw *w)
{
	jsonw_close(w, '}');
}

void jsonw_arr_open(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, '[');
}

void jsonw_arr_close(struct jsonw *w)
{
	jsonw_close(w, ']');
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	if (!jsonw_member(w, key))
		jsonw_quoted(w, s ? s : "");
}

void jsonw_str_opt(struct jsonw *w, const char *key, const char *s)
{
	if (s && s[0])
		jsonw_str(w, key, s);
	else
		jsonw_null(w, key);
}

void jsonw_strf(struct jsonw *w, const char *key, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	jsonw_str(w, key, buf);
}

void jsonw_u64(struct jsonw *w, const char *key, uint64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

	if (!jsonw_member(w, key))
		jsonw_raw(w, buf, (size_t)n);
}

void jsonw_i64(struct jsonw *w, const char *key, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	if (!jsonw_member(w, key))
		jsonw_raw(w, buf, (size_t)n);
}

void jsonw_double(struct jsonw *w, const char *key, double v)
{
	char buf[32];
	int n;

	if (!isfinite(v)) { /* JSON has no NaN nor infinity */
		jsonw_null(w, key);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.6g", v);
	if (!jsonw_member(w, key))
		jsonw_raw(w, buf, (size_t)n);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	if (!jsonw_member(w, key))
		jsonw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	if (!jsonw_member(w, key))
		jsonw_raw(w, "null", 4);
}

int jsonw_finish(struct jsonw *w)
{
	if (!w->err && w->depth)
		w->err = -EINVAL;
	if (!w->err)
		jsonw_raw(w, "", 0);
	return w->err;
}
