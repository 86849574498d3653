/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A JSON writer for the admin socket's answers, on jansson: the calls
 * build a tree, jsonw_finish() dumps it into a growing buffer. Output is
 * compact (no blanks, no newlines: a newline inside a string is
 * escaped), members in the order written, so one answer is one line.
 *
 * Errors are sticky: a failed allocation or a structure error (closing
 * what is not open, nesting past JSONW_MAX_DEPTH, a second value at the
 * top, a key written twice in one object) sets w->err and turns every
 * later call into a no-op; check jsonw_finish() once at the end.
 *
 * Inside an object every value takes a key; inside an array and at the
 * top the key must be NULL.
 *
 * What jansson cannot hold is mapped, never refused: a u64 above
 * INT64_MAX is written as INT64_MAX (jansson's integers are signed 64
 * bits; a counter that far is saturated), a double that is not finite
 * as null, and a byte of a string or key that is not UTF-8 as U+FFFD, so
 * a bad name from the network never costs the whole answer.
 */
#ifndef STEER_JSONW_H
#define STEER_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 16

struct json_t; /* jansson's */

struct jsonw {
	/* The document after jsonw_finish(): len bytes, NUL-terminated. */
	char *buf;
	size_t len, cap;
	int err; /* 0 or a negative errno, sticky */
	int depth;
	bool finished;	     /* dumped: the tree is freed, buf holds the text */
	struct json_t *root; /* the top value, once written */
	struct json_t *open[JSONW_MAX_DEPTH]; /* open containers, borrowed */
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* Drop what was written, keep the buffer; clears the error. */
void jsonw_reset(struct jsonw *w);

void jsonw_obj_open(struct jsonw *w, const char *key);
void jsonw_obj_close(struct jsonw *w);
void jsonw_arr_open(struct jsonw *w, const char *key);
void jsonw_arr_close(struct jsonw *w);

/* s may hold any bytes but NUL (NULL writes ""); control bytes, '"' and
 * '\' are escaped, bytes that are not UTF-8 become U+FFFD. */
void jsonw_str(struct jsonw *w, const char *key, const char *s);
void jsonw_strf(struct jsonw *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Past INT64_MAX: INT64_MAX (see above). */
void jsonw_u64(struct jsonw *w, const char *key, uint64_t v);
void jsonw_i64(struct jsonw *w, const char *key, int64_t v);
/* A number, to 6 significant digits; null when not finite. An integral
 * value below 1e6 in magnitude is written without a fraction ("3", not
 * "3.0"), as "%.6g" would. */
void jsonw_double(struct jsonw *w, const char *key, double v);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);
/* A value that may be absent: s, or null when s is NULL or "" (a JSON
 * answer never says "none" with an empty string). */
void jsonw_str_opt(struct jsonw *w, const char *key, const char *s);

/*
 * Check the document is whole (every object and array closed), dump it
 * into buf, NUL-terminated (no value at all: ""), and free the tree (an
 * answer's text is all that is kept until the next jsonw_reset()).
 * Returns 0, the sticky error, or -EINVAL for an unclosed structure.
 * Again: 0, buf as it is; a value written after it is an -EINVAL.
 */
int jsonw_finish(struct jsonw *w);

#endif /* STEER_JSONW_H */
