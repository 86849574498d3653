// SPDX-License-Identifier: GPL-2.0-only
#include "util/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CONF_GOT_MAX 40 /* bytes of an offending word quoted in messages */

/* Copies at most CONF_GOT_MAX bytes of s, escaping anything unprintable. */
static void conf_quote(char *out, size_t outlen, const char *s)
{
	size_t o = 0, i;

	for (i = 0; s[i] && o + 8 < outlen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i == CONF_GOT_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch >= 0x7f)
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
					      ch);
		else
			out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static int conf_vseterr(char *err, size_t errlen, const char *file,
			unsigned int lineno, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static int conf_vseterr(char *err, size_t errlen, const char *file,
			unsigned int lineno, const char *fmt, va_list ap)
{
	int n;

	if (!err || !errlen)
		return -EINVAL;
	if (lineno)
		n = snprintf(err, errlen, "%s:%u: ", file, lineno);
	else
		n = snprintf(err, errlen, "%s: ", file);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	return -EINVAL;
}

static int conf_seterr(char *err, size_t errlen, const char *file,
		       unsigned int lineno, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int conf_seterr(char *err, size_t errlen, const char *file,
		       unsigned int lineno, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vseterr(err, errlen, file, lineno, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int conf_errorf(struct conf_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	conf_vseterr(l->err, l->errlen, l->file, l->lineno, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int conf_expect(struct conf_line *l, const char *key, const char *what,
		const char *word)
{
	char q[CONF_GOT_MAX * 4 + 8];

	if (!word)
		return conf_errorf(l, "'%s' expects %s, got nothing", key,
				   what);
	conf_quote(q, sizeof(q), word);
	return conf_errorf(l, "'%s' expects %s, got '%s'", key, what, q);
}

int conf_expect_nargs(struct conf_line *l, int n)
{
	int got = l->argc - 1;

	if (got == n)
		return 0;
	if (got == 0)
		return conf_errorf(l, "'%s' expects %d value%s, got none",
				   l->argv[0], n, n == 1 ? "" : "s");
	return conf_errorf(l, "'%s' expects %d value%s, got %d", l->argv[0], n,
			   n == 1 ? "" : "s", got);
}

/* 0 on success, -ERANGE on overflow, -EINVAL when not all digits. */
static int conf_strtou64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (d > 9)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int conf_parse_uint(struct conf_line *l, const char *key, const char *word,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	char what[64];
	uint64_t v;

	if (!word || conf_strtou64(word, &v) || v < min || v > max) {
		snprintf(what, sizeof(what), "an integer in %llu..%llu",
			 (unsigned long long)min, (unsigned long long)max);
		return conf_expect(l, key, what, word);
	}
	*out = v;
	return 0;
}

int conf_parse_u32(struct conf_line *l, const char *key, const char *word,
		   uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int rc;

	rc = conf_parse_uint(l, key, word, min, max, &v);
	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

int conf_parse_addr(struct conf_line *l, const char *key, const char *word,
		    int family, struct flow_addr *out, int *family_out)
{
	static const char *const what[] = {
		"an IPv4 or IPv6 address",
		"an IPv4 address like 198.18.0.1",
		"an IPv6 address like 2001:db8::1",
	};
	const char *w = what[family == 4 ? 1 : family == 6 ? 2 : 0];
	struct flow_addr a;
	struct in_addr v4;

	if (!word)
		return conf_expect(l, key, w, word);
	if (family != 6 && inet_pton(AF_INET, word, &v4) == 1) {
		flow_addr_set_v4(&a, v4.s_addr);
		if (family_out)
			*family_out = 4;
		*out = a;
		return 0;
	}
	/*
	 * A mapped address is IPv4 in struct flow_addr: fine where either
	 * family goes, refused where IPv6 is required.
	 */
	if (family != 4 && inet_pton(AF_INET6, word, a.b) == 1 &&
	    !(family == 6 && flow_addr_is_v4(&a))) {
		if (family_out)
			*family_out = flow_addr_is_v4(&a) ? 4 : 6;
		*out = a;
		return 0;
	}
	return conf_expect(l, key, w, word);
}

static int conf_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int conf_parse_mac(struct conf_line *l, const char *key, const char *word,
		   uint8_t mac[6])
{
	static const uint8_t zero[6];
	uint8_t m[6];
	int i;

	if (!word || strlen(word) != 17)
		goto bad;
	for (i = 0; i < 6; i++) {
		const char *p = word + 3 * i;
		int hi = conf_hexval(p[0]), lo = conf_hexval(p[1]);

		if (hi < 0 || lo < 0 || (i < 5 && p[2] != ':'))
			goto bad;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	if ((m[0] & 1) || !memcmp(m, zero, 6))
		return conf_expect(l, key, "a unicast, non-zero MAC address",
				   word);
	memcpy(mac, m, 6);
	return 0;
bad:
	return conf_expect(l, key, "a MAC address like 02:00:00:00:00:01",
			   word);
}

int conf_parse_port(struct conf_line *l, const char *key, const char *word,
		    bool allow_any, __be16 *out)
{
	uint64_t v;

	if (!word || conf_strtou64(word, &v) || v > 65535 ||
	    (v == 0 && !allow_any))
		return conf_expect(l, key,
				   allow_any
					   ? "a port in 0..65535 (0 = any port)"
					   : "a port in 1..65535",
				   word);
	*out = htons((uint16_t)v);
	return 0;
}

int conf_parse_proto(struct conf_line *l, const char *key, const char *word,
		     uint8_t *out)
{
	if (word && !strcmp(word, "tcp"))
		*out = STEER_IPPROTO_TCP;
	else if (word && !strcmp(word, "udp"))
		*out = STEER_IPPROTO_UDP;
	else
		return conf_expect(l, key, "tcp or udp", word);
	return 0;
}

static bool conf_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool conf_ident_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= CONF_NAME_MAX || !conf_is_alpha(s[0]))
		return false;
	for (i = 1; i < len; i++) {
		char c = s[i];

		if (!conf_is_alpha(c) && !(c >= '0' && c <= '9') && c != '-' &&
		    c != '_' && c != '.')
			return false;
	}
	return true;
}

int conf_parse_ident(struct conf_line *l, const char *key, const char *word,
		     char out[CONF_NAME_MAX])
{
	size_t len = word ? strlen(word) : 0;

	if (!word || !conf_ident_valid(word, len))
		return conf_expect(l, key,
				   "a name (a letter, then letters, digits, "
				   "'-', '_' or '.'; at most 31)",
				   word);
	memcpy(out, word, len + 1);
	return 0;
}

/* Joins names with sep into buf; cut short (never overflowing) if small. */
static void conf_join(char *buf, size_t len, const char *const *names,
		      size_t stride, size_t n, const char *sep)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; i < n && o < len; i++) {
		const char *name = *(const char *const *)((const char *)names +
							  i * stride);
		int w = snprintf(buf + o, len - o, "%s%s", i ? sep : "", name);

		if (w < 0)
			break;
		o += (size_t)w;
	}
}

int conf_parse_enum(struct conf_line *l, const char *key, const char *word,
		    const char *const *names, int *out)
{
	char what[256] = "one of ";
	size_t n = 0;

	while (names[n])
		n++;
	for (size_t i = 0; word && i < n; i++) {
		if (!strcmp(word, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	conf_join(what + 7, sizeof(what) - 7, names, sizeof(*names), n, ", ");
	return conf_expect(l, key, what, word);
}

int conf_parse_kv(struct conf_line *l, int first, struct conf_kv *kv, size_t n)
{
	size_t j;
	int i;

	for (j = 0; j < n; j++)
		kv[j].value = NULL;
	for (i = first; i < l->argc; i += 2) {
		const char *k = l->argv[i];

		for (j = 0; j < n && strcmp(k, kv[j].key); j++)
			;
		if (j == n) {
			char what[512] = "a key (";
			size_t o = strlen(what);

			conf_join(what + o, sizeof(what) - o - 1, &kv[0].key,
				  sizeof(*kv), n, ", ");
			strcat(what, ")");
			return conf_expect(l, l->argv[0], what, k);
		}
		if (kv[j].value)
			return conf_errorf(l, "'%s' given twice", k);
		if (i + 1 >= l->argc)
			return conf_expect(l, k, "a value", NULL);
		kv[j].value = l->argv[i + 1];
	}
	return 0;
}

static const struct conf_directive *conf_find(const struct conf_directive *dirs,
					      const char *name)
{
	for (; dirs->name; dirs++)
		if (!strcmp(dirs->name, name))
			return dirs;
	return NULL;
}

static int conf_unknown(struct conf_line *l, const struct conf_directive *dirs)
{
	char known[512];
	char q[CONF_GOT_MAX * 4 + 8];
	size_t n = 0;

	while (dirs[n].name)
		n++;
	conf_join(known, sizeof(known), &dirs[0].name, sizeof(*dirs), n, ", ");
	conf_quote(q, sizeof(q), l->argv[0]);
	return conf_errorf(l, "unknown directive '%s' (known: %s)", q, known);
}

/*
 * Splits buf (NUL-terminated, no newline) into l->argv in place, cutting
 * at the first '#'. Returns 0, or -EINVAL with the message written.
 */
static int conf_split(struct conf_line *l, char *buf)
{
	char *p = buf;

	l->argc = 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return 0;
		if (l->argc == CONF_MAX_WORDS)
			return conf_errorf(l, "more than %d words on a line",
					   CONF_MAX_WORDS);
		l->argv[l->argc++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
			p++;
		if (*p == '#') {
			*p = '\0';
			return 0;
		}
		if (*p)
			*p++ = '\0';
	}
}

static int conf_run_line(struct conf_line *l, const struct conf_directive *dirs,
			 void *ctx)
{
	const struct conf_directive *d;
	int rc;

	d = conf_find(dirs, l->argv[0]);
	if (!d)
		return conf_unknown(l, dirs);
	if (l->err && l->errlen)
		l->err[0] = '\0';
	rc = d->handler(l, ctx);
	if (rc < 0 && rc != -EINVAL)
		conf_errorf(l, "'%s': %s", l->argv[0], strerror(-rc));
	else if (rc == -EINVAL && l->err && l->errlen && !l->err[0])
		conf_errorf(l, "'%s' failed", l->argv[0]);
	return rc < 0 ? rc : 0;
}

int conf_parse_buf(const char *file, const char *text, size_t len,
		   const struct conf_directive *dirs, void *ctx, char *err,
		   size_t errlen)
{
	char buf[CONF_MAX_LINE + 1];
	struct conf_line l = {.file = file, .err = err, .errlen = errlen};
	size_t pos = 0;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;

		l.lineno++;
		if (n > CONF_MAX_LINE)
			return conf_errorf(&l, "line longer than %d bytes",
					   CONF_MAX_LINE);
		if (memchr(text + pos, '\0', n))
			return conf_errorf(&l, "NUL byte: not a text file");
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		pos += n + 1;
		rc = conf_split(&l, buf);
		if (!rc && l.argc)
			rc = conf_run_line(&l, dirs, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static int conf_read_all(const char *path, char **out, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = NULL, *nb;
	int rc = 0;
	FILE *f;

	f = fopen(path, "rb");
	if (!f)
		return -errno;
	for (;;) {
		if (n == cap || !buf) {
			if (buf)
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f)) {
			rc = errno ? -errno : -EIO;
			break;
		}
		if (feof(f))
			break;
		if (n > CONF_MAX_FILE) {
			rc = -EFBIG;
			break;
		}
	}
	fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	*out = buf;
	*len = n;
	return 0;
}

int conf_parse_file(const char *path, const struct conf_directive *dirs,
		    void *ctx, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	errno = 0;
	rc = conf_read_all(path, &text, &len);
	if (rc) {
		conf_seterr(err, errlen, path, 0, "%s", strerror(-rc));
		return rc;
	}
	rc = conf_parse_buf(path, text, len, dirs, ctx, err, errlen);
	free(text);
	return rc;
}

void conf_help_print(const struct conf_directive *dirs, FILE *f)
{
	for (; dirs->name; dirs++)
		fprintf(f, "  %-12s %s\n", dirs->name,
			dirs->help ? dirs->help : "");
}
