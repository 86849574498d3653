// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* Compact, any value at the top, reals to 6 significant digits (what
 * "%.6g" wrote before jansson). Members keep their order: jansson's
 * objects do since 2.8. */
#define JSONW_DUMP_FLAGS                                                       \
	(JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6))

void jsonw_init(struct jsonw *w)
{
	memset(w, 0, sizeof(*w));
}

void jsonw_free(struct jsonw *w)
{
	json_decref(w->root);
	free(w->buf);
	jsonw_init(w);
}

void jsonw_reset(struct jsonw *w)
{
	json_decref(w->root);
	w->root = NULL;
	w->len = 0;
	w->err = 0;
	w->depth = 0;
	w->finished = false;
	if (w->buf)
		w->buf[0] = '\0';
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

/*
 * s with every byte that is not UTF-8 replaced by U+FFFD, malloc'd (NULL
 * when out of memory). jansson refuses such strings; this is only called
 * once it did.
 */
static char *jsonw_utf8_fix(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	size_t n;

	if (!out)
		return NULL;
	while (*p) {
		n = jsonw_utf8_len(p);
		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	return out;
}

/* json_string(s), after jsonw_utf8_fix() when s is not UTF-8. */
static json_t *jsonw_string(const char *s)
{
	json_t *v = json_string(s);
	char *fixed;

	if (v)
		return v;
	fixed = jsonw_utf8_fix(s);
	if (!fixed)
		return NULL;
	v = json_string(fixed);
	free(fixed);
	return v;
}

/* Where the next value goes: the innermost open container, or NULL for
 * the top. */
static json_t *jsonw_parent(const struct jsonw *w)
{
	return w->depth ? w->open[w->depth - 1] : NULL;
}

/*
 * Add v (a new reference, taken over; NULL means its allocation failed)
 * under key to the innermost open container, or as the top value.
 * Returns the (sticky) error.
 */
static int jsonw_add(struct jsonw *w, const char *key, json_t *v)
{
	json_t *parent = jsonw_parent(w);
	bool in_obj = parent && json_is_object(parent);
	char *fixed;
	int r;

	if (w->err)
		goto drop;
	if (!v)
		return w->err = -ENOMEM;
	if (!key != !in_obj || (!parent && w->root) || w->finished) {
		w->err = -EINVAL;
		goto drop;
	}
	if (!parent) {
		w->root = v;
		return 0;
	}
	if (!in_obj) {
		if (json_array_append_new(parent, v))
			w->err = -ENOMEM;
		return w->err;
	}
	if (json_object_get(parent, key)) {
		/* jansson would replace the first: the answer would lose a
		 * value without a word. */
		w->err = -EEXIST;
		goto drop;
	}
	r = json_object_set_new(parent, key, json_incref(v));
	if (r) { /* not UTF-8, or out of memory */
		fixed = jsonw_utf8_fix(key);
		r = fixed ? json_object_set_new(parent, fixed, json_incref(v))
			  : -1;
		free(fixed);
	}
	if (r)
		w->err = -ENOMEM;
drop:
	json_decref(v);
	return w->err;
}

static void jsonw_open(struct jsonw *w, const char *key, json_t *c)
{
	if (!w->err && w->depth >= JSONW_MAX_DEPTH) {
		json_decref(c);
		w->err = -EINVAL;
		return;
	}
	if (jsonw_add(w, key, c))
		return;
	w->open[w->depth++] = c; /* borrowed: its parent (or root) holds it */
}

static void jsonw_close(struct jsonw *w, bool obj)
{
	json_t *c = jsonw_parent(w);

	if (w->err)
		return;
	if (!c || json_is_object(c) != obj) {
		w->err = -EINVAL;
		return;
	}
	w->depth--;
}

void jsonw_obj_open(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, w->err ? NULL : json_object());
}

void jsonw_obj_close(struct jsonw *w)
{
	jsonw_close(w, true);
}

void jsonw_arr_open(struct jsonw *w, const char *key)
{
	jsonw_open(w, key, w->err ? NULL : json_array());
}

void jsonw_arr_close(struct jsonw *w)
{
	jsonw_close(w, false);
}

void jsonw_str(struct jsonw *w, const char *key, const char *s)
{
	if (!w->err)
		jsonw_add(w, key, jsonw_string(s ? s : ""));
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
	jsonw_i64(w, key, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void jsonw_i64(struct jsonw *w, const char *key, int64_t v)
{
	if (!w->err)
		jsonw_add(w, key, json_integer((json_int_t)v));
}

void jsonw_double(struct jsonw *w, const char *key, double v)
{
	char buf[32];
	double r;

	if (w->err)
		return;
	if (!isfinite(v)) { /* JSON has no NaN nor infinity */
		jsonw_add(w, key, json_null());
		return;
	}
	/* What 6 significant digits make of v: jansson writes an integral
	 * real with ".0" after it, "%.6g" did not. */
	snprintf(buf, sizeof(buf), "%.6g", v);
	r = strtod(buf, NULL);
	if (r == trunc(r) && fabs(r) < 1e6)
		jsonw_add(w, key, json_integer((json_int_t)r));
	else
		jsonw_add(w, key, json_real(v));
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	if (!w->err)
		jsonw_add(w, key, json_boolean(v));
}

void jsonw_null(struct jsonw *w, const char *key)
{
	if (!w->err)
		jsonw_add(w, key, json_null());
}

/* jansson's dump callback: append to the buffer, keeping room for a NUL. */
static int jsonw_append(const char *s, size_t n, void *data)
{
	struct jsonw *w = data;
	size_t cap = w->cap ? w->cap : 256;
	char *p;

	if (w->len + n + 1 > w->cap) {
		while (cap < w->len + n + 1)
			cap *= 2;
		p = realloc(w->buf, cap);
		if (!p)
			return -1;
		w->buf = p;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
	return 0;
}

int jsonw_finish(struct jsonw *w)
{
	if (!w->err && w->depth)
		w->err = -EINVAL;
	if (w->err || w->finished)
		return w->err;
	w->len = 0;
	if (jsonw_append("", 0, w) ||
	    (w->root &&
	     json_dump_callback(w->root, jsonw_append, w, JSONW_DUMP_FLAGS))) {
		w->len = 0;
		return w->err = -ENOMEM;
	}
	json_decref(w->root);
	w->root = NULL;
	w->finished = true;
	return 0;
}
