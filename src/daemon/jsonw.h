/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A JSON writer into a growing buffer, for the admin socket's answers.
 * Output is compact (no blanks, no newlines: a newline inside a string is
 * escaped), so one answer is one line.
 *
 * Errors are sticky: a failed allocation or a structure error (closing
 * what is not open, nesting past JSONW_MAX_DEPTH) sets w->err and turns
 * every later call into a no-op; check jsonw_finish() once at the end.
 *
 * Inside an object every value takes a key; inside an array and at the
 * top the key must be NULL.
 */
#ifndef STEER_JSONW_H
#define STEER_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct jsonw {
	char *buf;
	size_t len, cap;
	int err; /* 0 or a negative errno, sticky */
	int depth;
	bool need_comma[JSONW_MAX_DEPTH + 1];
	char kind[JSONW_MAX_DEPTH + 1]; /* '{' or '[' per open level */
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* Drop what was written, keep the buffer; clears the error. */
void jsonw_reset(struct jsonw *w);

void jsonw_obj_open(struct jsonw *w, const char *key);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w, const char *key);
void jsonw_arr_close(struct jsonw *w);

/* s may hold any bytes but NUL; control bytes and '"' '\' are escaped. */
void jsonw_str(struct jsonw *w, const char *key, const char *s);
void jsonw_strf(struct jsonw *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_i64(struct jsonw *w, const char *key, int64_t v);
/* A number, to 6 significant digits; null when not finite. */
void jsonw_double(struct jsonw *w, const char *key, double v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* A value that may be absent: s, or null when s is NULL or "" (a JSON
 * answer never says "none" with an empty string). */
void jsonw_str_opt(struct jsonw *w, const char *key, const char *s);

/*
 * Check the document is whole (every object and array closed) and
 * NUL-terminate it. Returns 0, the sticky error, or -EINVAL for an
 * unclosed structure.
 */
int jsonw_finish(struct jsonw *w);

#endif /* STEER_JSONW_H */
