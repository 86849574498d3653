// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/size_cdf.h"

static int cdf_push(struct size_cdf *c, size_t *cap, double x, double p)
{
	double *nx, *np;

	if (c->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		nx = realloc(c->x, *cap * sizeof(*nx));
		if (!nx)
			return -ENOMEM;
		c->x = nx;
		np = realloc(c->p, *cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		c->p = np;
	}
	c->x[c->n] = x;
	c->p[c->n++] = p;
	return 0;
}

/* One line: "x p", or a blank one (*blank). -EINVAL when malformed. */
static int cdf_line(const char *s, double *x, double *p, int *blank)
{
	char tail;

	*blank = strspn(s, " \t\r\n") == strlen(s);
	if (*blank)
		return 0;
	return sscanf(s, "%lf %lf %c", x, p, &tail) == 2 ? 0 : -EINVAL;
}

int size_cdf_parse(const char *buf, size_t len, struct size_cdf *c,
		   size_t *line)
{
	double x = 0, p = 0, last_x = 0, last_p = -1;
	size_t cap = 0, no = 0, off = 0, n;
	char one[256];
	int blank, err = 0;

	memset(c, 0, sizeof(*c));
	*line = 0;
	while (!err && off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);

		n = nl ? (size_t)(nl - (buf + off)) : len - off;
		no++;
		if (n >= sizeof(one) || memchr(buf + off, 0, n)) {
			err = -EINVAL;
		} else {
			memcpy(one, buf + off, n);
			one[n] = 0;
			err = cdf_line(one, &x, &p, &blank);
		}
		off += n + 1;
		if (!err && blank)
			continue;
		if (!err &&
		    (!(x >= last_x && x <= 1e15) || !(p >= last_p && p <= 100)))
			err = -EINVAL;
		if (!err)
			err = cdf_push(c, &cap, x, p);
		if (err == -EINVAL)
			*line = no;
		last_x = x;
		last_p = p;
	}
	if (!err && (c->n < 2 || last_p != 100))
		err = -EINVAL;
	if (err)
		size_cdf_free(c);
	return err;
}

int size_cdf_read(const char *path, struct size_cdf *c, size_t *line)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	int err = 0;

	memset(c, 0, sizeof(*c));
	*line = 0;
	if (!f)
		return -errno;
	do {
		if (len == cap) {
			char *nb = cap < (1u << 24) ? realloc(buf, cap + 65536)
						    : NULL;

			if (!nb) {
				err = cap < (1u << 24) ? -ENOMEM : -EFBIG;
				break;
			}
			buf = nb;
			cap += 65536;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	if (!err && ferror(f))
		err = -EIO;
	fclose(f);
	if (!err)
		err = size_cdf_parse(buf, len, c, line);
	free(buf);
	return err;
}

void size_cdf_free(struct size_cdf *c)
{
	free(c->x);
	free(c->p);
	memset(c, 0, sizeof(*c));
}

double size_cdf_draw(const struct size_cdf *c, double u)
{
	double q = u * 100, span;
	size_t i;

	if (q <= c->p[0])
		return c->x[0];
	for (i = 1; i < c->n; i++)
		if (q <= c->p[i]) {
			span = c->p[i] - c->p[i - 1];
			return c->x[i - 1] +
			       (span > 0 ? (q - c->p[i - 1]) / span : 0) *
				       (c->x[i] - c->x[i - 1]);
		}
	return c->x[c->n - 1];
}

double rng_uniform(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
