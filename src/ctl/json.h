/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A strict JSON reader (RFC 8259) for steerctl: the daemon's answers are
 * read whole into a tree, then rendered.
 *
 * Strict means: one value, blanks around it, nothing else; no trailing
 * commas, no comments, no leading zeros, no raw control bytes in strings,
 * strings in valid UTF-8 (no overlong forms, no surrogates), \u escapes
 * with surrogates in proper pairs. Duplicate keys are kept in order
 * (json_obj_get() finds the first); the renderers show them all.
 *
 * Limits (struct json_limits) bound the input size, the nesting depth and
 * the number of values, so a hostile answer costs bounded memory and
 * stack. The tree lives in one struct json_doc; free it with
 * json_doc_free().
 */
#ifndef STEER_CTL_JSON_H
#define STEER_CTL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum json_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_value {
	enum json_type type;
	/* Member of an object: its key, decoded and NUL-terminated (a key
	 * holding \u0000 is cut there for lookups; key_len is whole). */
	const char *key;
	size_t key_len;
	/* JSON_STRING: decoded, NUL-terminated, str_len bytes (may hold
	 * NUL bytes from \u0000). */
	const char *str;
	size_t str_len;
	/* JSON_NUMBER: its value as a double (exact for integers < 2^53;
	 * the text, see off and len, is exact always). */
	double num;
	/* Arrays and objects: items or members in order, and their count. */
	struct json_value *child;
	size_t n;
	struct json_value *next; /* next item or member of the parent */
	/* Where the value's text is in the input: bytes off..off+len. */
	size_t off, len;
};

struct json_limits {
	size_t max_len;	    /* input bytes */
	unsigned max_depth; /* arrays and objects open at once */
	size_t max_values;  /* values in the document, containers included */
};

/* Generous for admin answers: ADMIN_OUT_MAX is 64 MiB. */
#define JSON_MAX_LEN_DEFAULT (64u << 20)
#define JSON_MAX_DEPTH_DEFAULT 64
#define JSON_MAX_VALUES_DEFAULT (16u << 20)

struct json_chunk;

struct json_doc {
	struct json_value *root;
	const char *text; /* a copy of the input, NUL-terminated */
	size_t len;
	/* private */
	char *text_buf;
	char *str_buf; /* decoded strings */
	struct json_chunk *chunks;
	size_t n_values;
};

/*
 * Parse buf[0..len) (no NUL needed; a NUL byte in it is an error) into
 * doc, under lim (NULL: the defaults). Returns 0; -EINVAL for malformed
 * input, -E2BIG past a limit, -ENOMEM; on error err holds a message
 * naming the byte offset ("at byte 12: expected ':' after an object
 * key") and doc holds nothing to free (json_doc_free() is still fine).
 */
int json_parse(struct json_doc *doc, const char *buf, size_t len,
	       const struct json_limits *lim, char *err, size_t errlen);

/* Free what json_parse() allocated; a zeroed or freed doc is fine. */
void json_doc_free(struct json_doc *doc);

/* The first member of object obj named key; NULL when obj is not an
 * object or has no such member. */
const struct json_value *json_obj_get(const struct json_value *obj,
				      const char *key);

/* Is v a string, number, true, false or null? */
bool json_is_scalar(const struct json_value *v);

/*
 * Write string s (n bytes) to f as a quoted JSON string: '"', '\' and
 * bytes below 0x20 and 0x7f escaped, other bytes as they are.
 */
void json_write_str(FILE *f, const char *s, size_t n);

/*
 * Write v to f as JSON, indented by `indent` spaces per level (0: compact
 * on one line), without a final newline. Numbers are written as their
 * input text; strings are escaped again by json_write_str().
 */
void json_write(FILE *f, const struct json_doc *doc, const struct json_value *v,
		unsigned indent);

#endif /* STEER_CTL_JSON_H */
