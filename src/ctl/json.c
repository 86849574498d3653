// SPDX-License-Identifier: GPL-2.0-only
#include "ctl/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define JSON_CHUNK_VALUES 512

/* Values come from chunks that never move: pointers into them stay good. */
struct json_chunk {
	struct json_chunk *next;
	size_t used;
	struct json_value v[JSON_CHUNK_VALUES];
};

struct json_parser {
	struct json_doc *doc;
	const char *s; /* doc->text */
	size_t len, pos;
	const struct json_limits *lim;
	unsigned depth;
	char *err;
	size_t errlen;
};

static const struct json_limits json_limits_default = {
	.max_len = JSON_MAX_LEN_DEFAULT,
	.max_depth = JSON_MAX_DEPTH_DEFAULT,
	.max_values = JSON_MAX_VALUES_DEFAULT,
};

/* Say what is wrong at byte `at`; returns ret for `return json_fail(...)`. */
static int json_fail(struct json_parser *p, int ret, size_t at, const char *fmt,
		     ...) __attribute__((format(printf, 4, 5)));

static int json_fail(struct json_parser *p, int ret, size_t at, const char *fmt,
		     ...)
{
	va_list ap;
	int n;

	n = snprintf(p->err, p->errlen, "at byte %zu: ", at);
	if (n < 0 || (size_t)n >= p->errlen)
		return ret;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return ret;
}

/* Name the byte at pos for an error message. */
static int json_unexpected(struct json_parser *p, const char *expected)
{
	unsigned char c;

	if (p->pos >= p->len)
		return json_fail(p, -EINVAL, p->pos,
				 "unexpected end of input, expected %s",
				 expected);
	c = (unsigned char)p->s[p->pos];
	if (c > 0x20 && c < 0x7f)
		return json_fail(p, -EINVAL, p->pos,
				 "unexpected '%c', expected %s", c, expected);
	return json_fail(p, -EINVAL, p->pos,
			 "unexpected byte 0x%02x, expected %s", c, expected);
}

static struct json_value *json_value_new(struct json_parser *p,
					 enum json_type type, int *ret)
{
	struct json_doc *doc = p->doc;
	struct json_chunk *c = doc->chunks;
	struct json_value *v;

	if (doc->n_values >= p->lim->max_values) {
		*ret = json_fail(p, -E2BIG, p->pos, "more than %zu values",
				 p->lim->max_values);
		return NULL;
	}
	if (!c || c->used == JSON_CHUNK_VALUES) {
		c = malloc(sizeof(*c));
		if (!c) {
			*ret = json_fail(p, -ENOMEM, p->pos, "out of memory");
			return NULL;
		}
		c->next = doc->chunks;
		c->used = 0;
		doc->chunks = c;
	}
	v = &c->v[c->used++];
	memset(v, 0, sizeof(*v));
	v->type = type;
	v->off = p->pos;
	doc->n_values++;
	return v;
}

static void json_skip_blanks(struct json_parser *p)
{
	while (p->pos < p->len) {
		char c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

static int json_hex4(const char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*out = v;
	return 0;
}

static size_t json_utf8_put(char *d, unsigned cp)
{
	if (cp < 0x80) {
		d[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (char)(0xc0 | cp >> 6);
		d[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (char)(0xe0 | cp >> 12);
		d[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		d[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (char)(0xf0 | cp >> 18);
	d[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	d[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	d[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * The length of the well-formed UTF-8 sequence at s[0..n) (lead byte
 * >= 0x80), or 0: no overlong forms, no surrogates, nothing past
 * U+10FFFF (RFC 3629, table 3-7 of Unicode).
 */
static size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* One escape after its '\' at p->pos; appends its bytes at d. */
static int json_escape(struct json_parser *p, char *d, size_t *dlen)
{
	const char *s = p->s;
	size_t at = p->pos - 1;
	unsigned cp, lo;
	char c;

	if (p->pos >= p->len)
		return json_unexpected(p, "an escape");
	c = s[p->pos++];
	switch (c) {
	case '"':
	case '\\':
	case '/':
		d[(*dlen)++] = c;
		return 0;
	case 'b':
		d[(*dlen)++] = '\b';
		return 0;
	case 'f':
		d[(*dlen)++] = '\f';
		return 0;
	case 'n':
		d[(*dlen)++] = '\n';
		return 0;
	case 'r':
		d[(*dlen)++] = '\r';
		return 0;
	case 't':
		d[(*dlen)++] = '\t';
		return 0;
	case 'u':
		break;
	default:
		p->pos--;
		return json_fail(p, -EINVAL, at, "bad escape '\\%c'",
				 c > 0x20 && c < 0x7f ? c : '?');
	}
	if (p->len - p->pos < 4 || json_hex4(s + p->pos, &cp))
		return json_fail(p, -EINVAL, at,
				 "\\u expects four hexadecimal digits");
	p->pos += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return json_fail(
			p, -EINVAL, at,
			"\\u%04x is a low surrogate without a high one", cp);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->len - p->pos < 6 || s[p->pos] != '\\' ||
		    s[p->pos + 1] != 'u' || json_hex4(s + p->pos + 2, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return json_fail(p, -EINVAL, at,
					 "\\u%04x is a high surrogate without "
					 "a low one after it",
					 cp);
		p->pos += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	*dlen += json_utf8_put(d + *dlen, cp);
	return 0;
}

/*
 * The string whose '"' is at p->pos, decoded into doc->str_buf at the
 * same offset plus one: a decoded string is never longer than its text,
 * so it and its NUL fit before the closing quote's offset.
 */
static int json_string(struct json_parser *p, const char **out, size_t *len)
{
	const unsigned char *s = (const unsigned char *)p->s;
	char *d = p->doc->str_buf + p->pos + 1;
	size_t dlen = 0, start = p->pos, n;
	int ret;

	p->pos++;
	for (;;) {
		if (p->pos >= p->len)
			return json_fail(p, -EINVAL, start,
					 "string not closed before the end");
		if (s[p->pos] == '"')
			break;
		if (s[p->pos] == '\\') {
			p->pos++;
			ret = json_escape(p, d, &dlen);
			if (ret)
				return ret;
		} else if (s[p->pos] < 0x20) {
			return json_fail(p, -EINVAL, p->pos,
					 "raw control byte 0x%02x in a string "
					 "(must be escaped)",
					 s[p->pos]);
		} else if (s[p->pos] < 0x80) {
			d[dlen++] = (char)s[p->pos++];
		} else {
			n = json_utf8_len(s + p->pos, p->len - p->pos);
			if (!n)
				return json_fail(p, -EINVAL, p->pos,
						 "invalid UTF-8 in a string");
			memcpy(d + dlen, s + p->pos, n);
			dlen += n;
			p->pos += n;
		}
	}
	p->pos++;
	d[dlen] = '\0';
	*out = d;
	*len = dlen;
	return 0;
}

static size_t json_digits(struct json_parser *p)
{
	size_t n = 0;

	while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
		p->pos++;
		n++;
	}
	return n;
}

/*
 * strtod() of the number's text alone: on the whole input it would read
 * on past JSON's grammar ("0x10" is 16 to it, 0 then an error to JSON).
 * The C locale is in force: steerctl never calls setlocale().
 */
static int json_number_value(struct json_parser *p, struct json_value *v)
{
	size_t n = p->pos - v->off;
	char small[64], *buf = small, *end;

	if (n >= sizeof(small)) {
		buf = malloc(n + 1);
		if (!buf)
			return json_fail(p, -ENOMEM, v->off, "out of memory");
	}
	memcpy(buf, p->s + v->off, n);
	buf[n] = '\0';
	v->num = strtod(buf, &end);
	if (buf != small)
		free(buf);
	return 0;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and nothing more. */
static int json_number(struct json_parser *p, struct json_value *v)
{
	const char *s = p->s;

	if (s[p->pos] == '-')
		p->pos++;
	if (p->pos < p->len && s[p->pos] == '0') {
		p->pos++;
		if (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
			return json_fail(p, -EINVAL, p->pos - 1,
					 "number with a leading zero");
	} else if (!json_digits(p)) {
		return json_unexpected(p, "a digit");
	}
	if (p->pos < p->len && s[p->pos] == '.') {
		p->pos++;
		if (!json_digits(p))
			return json_unexpected(p, "a digit after '.'");
	}
	if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
			p->pos++;
		if (!json_digits(p))
			return json_unexpected(p, "a digit in the exponent");
	}
	return json_number_value(p, v);
}

static int json_literal(struct json_parser *p, struct json_value *v)
{
	static const struct {
		const char *word;
		enum json_type type;
	} lits[] = {
		{"true", JSON_TRUE},
		{"false", JSON_FALSE},
		{"null", JSON_NULL},
	};
	size_t i, n;

	for (i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
		n = strlen(lits[i].word);
		if (p->s[p->pos] == lits[i].word[0]) {
			if (p->len - p->pos < n ||
			    memcmp(p->s + p->pos, lits[i].word, n))
				return json_fail(p, -EINVAL, p->pos,
						 "bad literal (expected '%s')",
						 lits[i].word);
			v->type = lits[i].type;
			p->pos += n;
			return 0;
		}
	}
	return json_unexpected(p, "a value");
}

static int json_value_parse(struct json_parser *p, struct json_value **out);

/* Link child after *tail under parent. */
static void json_child_add(struct json_value *parent, struct json_value ***tail,
			   struct json_value *child)
{
	**tail = child;
	*tail = &child->next;
	parent->n++;
}

static int json_array(struct json_parser *p, struct json_value *v)
{
	struct json_value **tail = &v->child, *item;
	int ret;

	p->pos++;
	json_skip_blanks(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		ret = json_value_parse(p, &item);
		if (ret)
			return ret;
		json_child_add(v, &tail, item);
		json_skip_blanks(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == ']') {
			p->pos++;
			return 0;
		}
		return json_unexpected(p, "',' or ']'");
	}
}

static int json_object(struct json_parser *p, struct json_value *v)
{
	struct json_value **tail = &v->child, *m;
	const char *key;
	size_t key_len;
	int ret;

	p->pos++;
	json_skip_blanks(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		json_skip_blanks(p);
		if (p->pos >= p->len || p->s[p->pos] != '"')
			return json_unexpected(p, "a string key");
		ret = json_string(p, &key, &key_len);
		if (ret)
			return ret;
		json_skip_blanks(p);
		if (p->pos >= p->len || p->s[p->pos] != ':')
			return json_unexpected(p, "':' after an object key");
		p->pos++;
		ret = json_value_parse(p, &m);
		if (ret)
			return ret;
		m->key = key;
		m->key_len = key_len;
		json_child_add(v, &tail, m);
		json_skip_blanks(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == '}') {
			p->pos++;
			return 0;
		}
		return json_unexpected(p, "',' or '}'");
	}
}

/* One value after blanks; recursion is bounded by lim->max_depth. */
static int json_value_parse(struct json_parser *p, struct json_value **out)
{
	struct json_value *v;
	int ret = 0;
	char c;

	json_skip_blanks(p);
	if (p->pos >= p->len)
		return json_unexpected(p, "a value");
	c = p->s[p->pos];
	v = json_value_new(p, JSON_NULL, &ret);
	if (!v)
		return ret;
	if (c == '{' || c == '[') {
		if (p->depth >= p->lim->max_depth)
			return json_fail(p, -E2BIG, p->pos,
					 "nested deeper than %u",
					 p->lim->max_depth);
		p->depth++;
		v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
		ret = c == '{' ? json_object(p, v) : json_array(p, v);
		p->depth--;
	} else if (c == '"') {
		v->type = JSON_STRING;
		ret = json_string(p, &v->str, &v->str_len);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		v->type = JSON_NUMBER;
		ret = json_number(p, v);
	} else {
		ret = json_literal(p, v);
	}
	if (ret)
		return ret;
	v->len = p->pos - v->off;
	*out = v;
	return 0;
}

int json_parse(struct json_doc *doc, const char *buf, size_t len,
	       const struct json_limits *lim, char *err, size_t errlen)
{
	struct json_parser p = {
		.doc = doc,
		.len = len,
		.lim = lim ? lim : &json_limits_default,
		.err = err,
		.errlen = errlen,
	};
	int ret;

	memset(doc, 0, sizeof(*doc));
	if (errlen)
		err[0] = '\0';
	if (len > p.lim->max_len) {
		snprintf(err, errlen, "%zu bytes, more than the %zu allowed",
			 len, p.lim->max_len);
		return -E2BIG;
	}
	doc->text_buf = malloc(len + 1);
	doc->str_buf = malloc(len + 1);
	if (!doc->text_buf || !doc->str_buf) {
		ret = json_fail(&p, -ENOMEM, 0, "out of memory");
		goto fail;
	}
	memcpy(doc->text_buf, buf, len);
	doc->text_buf[len] = '\0';
	doc->text = doc->text_buf;
	doc->len = len;
	p.s = doc->text;
	ret = json_value_parse(&p, &doc->root);
	if (ret)
		goto fail;
	json_skip_blanks(&p);
	if (p.pos < p.len) {
		ret = json_fail(&p, -EINVAL, p.pos,
				"more after the value (one value expected)");
		goto fail;
	}
	return 0;
fail:
	json_doc_free(doc);
	return ret;
}

void json_doc_free(struct json_doc *doc)
{
	struct json_chunk *c, *next;

	for (c = doc->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(doc->str_buf);
	free(doc->text_buf);
	memset(doc, 0, sizeof(*doc));
}

const struct json_value *json_obj_get(const struct json_value *obj,
				      const char *key)
{
	const struct json_value *m;

	if (!obj || obj->type != JSON_OBJECT)
		return NULL;
	for (m = obj->child; m; m = m->next)
		if (!strcmp(m->key, key))
			return m;
	return NULL;
}

bool json_is_scalar(const struct json_value *v)
{
	return v->type != JSON_ARRAY && v->type != JSON_OBJECT;
}

void json_write_str(FILE *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

static void json_write_indent(FILE *f, unsigned n)
{
	while (n--)
		fputc(' ', f);
}

static void json_write_at(FILE *f, const struct json_doc *doc,
			  const struct json_value *v, unsigned indent,
			  unsigned level)
{
	const struct json_value *c;

	switch (v->type) {
	case JSON_NULL:
		fputs("null", f);
		return;
	case JSON_FALSE:
		fputs("false", f);
		return;
	case JSON_TRUE:
		fputs("true", f);
		return;
	case JSON_NUMBER:
		fwrite(doc->text + v->off, 1, v->len, f);
		return;
	case JSON_STRING:
		json_write_str(f, v->str, v->str_len);
		return;
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	}
	fputc(v->type == JSON_OBJECT ? '{' : '[', f);
	for (c = v->child; c; c = c->next) {
		if (c != v->child)
			fputc(',', f);
		if (indent) {
			fputc('\n', f);
			json_write_indent(f, indent * (level + 1));
		}
		if (v->type == JSON_OBJECT) {
			json_write_str(f, c->key, c->key_len);
			fputs(indent ? ": " : ":", f);
		}
		json_write_at(f, doc, c, indent, level + 1);
	}
	if (indent && v->n) {
		fputc('\n', f);
		json_write_indent(f, indent * level);
	}
	fputc(v->type == JSON_OBJECT ? '}' : ']', f);
}

void json_write(FILE *f, const struct json_doc *doc, const struct json_value *v,
		unsigned indent)
{
	json_write_at(f, doc, v, indent, 0);
}
