/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The line-oriented config reader every module shares.
 *
 * Syntax: one directive per line; words separated by blanks (spaces,
 * tabs); '#' starts a comment running to the end of the line; blank lines
 * are ignored. There is no quoting, so a word never holds a blank or '#'.
 *
 * A module declares its directives in a table of { name, handler, help }
 * ended by an entry whose name is NULL. conf_parse_file() hands each line to
 * the handler of its first word; handlers read the other words with the
 * typed parsers below. Every error is written into the caller's buffer in
 * the house format
 *
 *     FILE:LINE: 'key' expects X, got 'Y'
 *
 * and reported as -EINVAL; parsing stops at the first error. This module
 * never logs: the caller decides where the message goes.
 */
#ifndef STEER_CONF_H
#define STEER_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "steer/flow.h"

#define CONF_MAX_WORDS 64  /* words on one line, directive included */
#define CONF_MAX_LINE 4096 /* bytes on one line, newline excluded */
#define CONF_MAX_FILE (16u << 20)
#define CONF_NAME_MAX 32 /* identifier bytes including the NUL */

/* One line being handled: the handler's view of it. */
struct conf_line {
	const char *file;
	unsigned int lineno;
	int argc;		    /* >= 1; argv[0] is the directive */
	char *argv[CONF_MAX_WORDS]; /* valid during the handler call only */
	char *err;
	size_t errlen;
};

/*
 * A handler returns 0, or a negative errno. For -EINVAL it must have
 * written the message with one of the conf_* helpers; for any other code
 * the reader writes "FILE:LINE: 'directive': strerror" itself.
 */
typedef int (*conf_handler_fn)(struct conf_line *l, void *ctx);

struct conf_directive {
	const char *name;
	conf_handler_fn handler;
	const char *help; /* one line, shown by conf_help_print() */
};

/*
 * Read path and run every directive of it through dirs. Returns 0, -EINVAL
 * with err set on a syntax or handler error, or the negative errno of
 * open/read (err then holds "PATH: strerror"); -EFBIG when the file is over
 * CONF_MAX_FILE bytes.
 */
int conf_parse_file(const char *path, const struct conf_directive *dirs,
		    void *ctx, char *err, size_t errlen);

/* The same over len bytes of text; file names the text in messages. */
int conf_parse_buf(const char *file, const char *text, size_t len,
		   const struct conf_directive *dirs, void *ctx, char *err,
		   size_t errlen);

/* Print "  name  help" for each directive of dirs. */
void conf_help_print(const struct conf_directive *dirs, FILE *f);

/*
 * Write "FILE:LINE: " and the formatted message into l's error buffer.
 * Always returns -EINVAL so a handler can `return conf_errorf(...)`.
 */
int conf_errorf(struct conf_line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Write "FILE:LINE: 'key' expects what, got 'word'" (word printed with
 * control bytes escaped and cut at 40 characters; "got nothing" when word
 * is NULL). Returns -EINVAL.
 */
int conf_expect(struct conf_line *l, const char *key, const char *what,
		const char *word);

/*
 * Check that the directive has exactly n words after it:
 * "'mtu' expects 1 value, got 2". Returns 0 or -EINVAL.
 */
int conf_expect_nargs(struct conf_line *l, int n);

/*
 * Typed word parsers. Each returns 0 and stores the value, or -EINVAL with
 * the message written and *out untouched. key names the word in messages;
 * word may be NULL (a missing value: "got nothing").
 */

/* Decimal digits only, min <= value <= max: "an integer in MIN..MAX". */
int conf_parse_uint(struct conf_line *l, const char *key, const char *word,
		    uint64_t min, uint64_t max, uint64_t *out);
int conf_parse_u32(struct conf_line *l, const char *key, const char *word,
		   uint32_t min, uint32_t max, uint32_t *out);

/*
 * An address by inet_pton(3). family 4 accepts IPv4 only ("an IPv4 address
 * like 198.18.0.1"), 6 IPv6 only ("an IPv6 address like 2001:db8::1"; an
 * IPv4-mapped one is refused: it would be stored as IPv4), 0 either (a
 * mapped one counts as IPv4). IPv4 is stored v4-mapped as struct flow_addr
 * wants it; *family_out (may be NULL) gets 4 or 6.
 */
int conf_parse_addr(struct conf_line *l, const char *key, const char *word,
		    int family, struct flow_addr *out, int *family_out);

/* Six two-digit hex groups joined by ':'; multicast and zero refused. */
int conf_parse_mac(struct conf_line *l, const char *key, const char *word,
		   uint8_t mac[6]);

/* 1..65535, or 0..65535 with allow_any (0 = any port); stored big-endian. */
int conf_parse_port(struct conf_line *l, const char *key, const char *word,
		    bool allow_any, __be16 *out);

/* "tcp" or "udp", stored as the IP protocol number (6 or 17). */
int conf_parse_proto(struct conf_line *l, const char *key, const char *word,
		     uint8_t *out);

/*
 * A name: a letter, then letters, digits, '-', '_' or '.', at most
 * CONF_NAME_MAX - 1 bytes. Copied NUL-terminated into out.
 */
int conf_parse_ident(struct conf_line *l, const char *key, const char *word,
		     char out[CONF_NAME_MAX]);
bool conf_ident_valid(const char *s, size_t len);

/*
 * One of a NULL-terminated list of names; *out gets its index.
 * Message: "'encap' expects one of ipip, gue, got 'gre'".
 */
int conf_parse_enum(struct conf_line *l, const char *key, const char *word,
		    const char *const *names, int *out);

/*
 * Key-value pairs: words first.. of the line as "key value key value ...".
 * kv lists the n keys the directive knows; each value pointer is set to
 * its word, or NULL when the key is absent. Errors: an unknown key
 * ("'node' expects a key (id, addr, mac), got 'foo'"), a key without a
 * value ("'mac' expects a value, got nothing"), a key given twice
 * ("'mac' given twice").
 */
struct conf_kv {
	const char *key;
	const char *value;
};

int conf_parse_kv(struct conf_line *l, int first, struct conf_kv *kv, size_t n);

#endif /* STEER_CONF_H */
