// SPDX-License-Identifier: GPL-2.0-only
#include "ctl/render.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/types.h>

/* Reals to 15 significant digits: what was written with up to 15 (the
 * daemon writes 6) reads back as written, without the noise of 17. */
#define RENDER_REAL_DIGITS 15

struct render {
	FILE *f;
	unsigned flags;
};

static int render_at(struct render *r, const json_t *v, unsigned indent);

void render_text(FILE *f, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

int render_json(FILE *f, const json_t *v, bool indent)
{
	size_t flags =
		JSON_ENCODE_ANY | JSON_REAL_PRECISION(RENDER_REAL_DIGITS);

	flags |= indent ? JSON_INDENT(4) : JSON_COMPACT;
	return json_dumpf(v, f, flags) ? -EIO : 0;
}

/* Columns the text takes on a terminal, as render_text() writes it:
 * UTF-8 continuation bytes take none, escaped bytes four. */
static size_t render_text_width(const char *s, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			w += 4;
		else if ((c & 0xc0) != 0x80)
			w++;
	}
	return w;
}

static void render_spaces(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

static bool render_is_scalar(const json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

static bool render_scalar_array(const json_t *v)
{
	const json_t *c;
	size_t i;

	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, c)
		if (!render_is_scalar(c))
			return false;
	return true;
}

/* Drawn on its key's line: a scalar, an array of scalars, {}. */
static bool render_inline(const json_t *v)
{
	return render_is_scalar(v) || render_scalar_array(v) ||
	       (json_is_object(v) && !json_object_size(v));
}

static bool render_table_able(const json_t *v)
{
	const json_t *c;
	size_t i;

	if (!json_is_array(v) || !json_array_size(v))
		return false;
	json_array_foreach(v, i, c)
		if (!json_is_object(c))
			return false;
	return true;
}

bool render_visible(const json_t *v, unsigned flags)
{
	const char *k;
	json_t *c;

	if (!(flags & RENDER_HIDE_ZERO))
		return true;
	if (json_is_number(v))
		return json_number_value(v) != 0;
	if (!json_is_object(v) || !json_object_size(v))
		return true;
	json_object_foreach((json_t *)v, k, c)
		if (render_visible(c, flags))
			return true;
	return false;
}

/* A scalar's text, or an inline value's: see render.h. */
static void render_scalar(FILE *f, const json_t *v)
{
	const json_t *c;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_NULL:
		fputc('-', f);
		return;
	case JSON_FALSE:
		fputs("false", f);
		return;
	case JSON_TRUE:
		fputs("true", f);
		return;
	case JSON_INTEGER:
		fprintf(f, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return;
	case JSON_REAL:
		fprintf(f, "%.*g", RENDER_REAL_DIGITS, json_real_value(v));
		return;
	case JSON_STRING:
		if (!json_string_length(v))
			fputc('-', f);
		else
			render_text(f, json_string_value(v),
				    json_string_length(v));
		return;
	case JSON_ARRAY:
		if (!json_array_size(v)) {
			fputc('-', f);
			return;
		}
		if (!render_scalar_array(v))
			break;
		json_array_foreach(v, i, c) {
			if (i)
				fputc(',', f);
			render_scalar(f, c);
		}
		return;
	case JSON_OBJECT:
		if (!json_object_size(v)) {
			fputc('-', f);
			return;
		}
		break;
	}
	/* A compound value inside a table cell: compact JSON, escaped. */
	{
		char *s = json_dumps(
			v, JSON_COMPACT | JSON_ENCODE_ANY |
				   JSON_REAL_PRECISION(RENDER_REAL_DIGITS));

		if (s)
			render_text(f, s, strlen(s));
		else
			fputc('?', f); /* out of memory: the cell says so */
		free(s);
	}
}

/* --- Tables ---------------------------------------------------------- */

struct render_table {
	const char **cols; /* the key naming each column */
	size_t n_cols;
	size_t *cell;  /* offsets into text, row-major; SIZE_MAX: none */
	size_t *width; /* per column */
	bool *numeric; /* per column: every cell there a number */
	char *text;    /* cells, NUL-separated */
	size_t text_len;
};

static void render_table_free(struct render_table *t)
{
	free(t->cols);
	free(t->cell);
	free(t->width);
	free(t->numeric);
	free(t->text);
}

static ssize_t render_col_find(const struct render_table *t, const char *key)
{
	size_t i;

	for (i = 0; i < t->n_cols; i++)
		if (!strcmp(t->cols[i], key))
			return (ssize_t)i;
	return -1;
}

/* The union of the rows' keys, first seen first; -E2BIG past the max. */
static int render_table_cols(struct render_table *t, const json_t *arr)
{
	const char *k;
	json_t *row, *m;
	size_t i;

	t->cols = calloc(RENDER_TABLE_MAX_COLS, sizeof(*t->cols));
	if (!t->cols)
		return -ENOMEM;
	json_array_foreach(arr, i, row) {
		json_object_foreach(row, k, m) {
			if (render_col_find(t, k) >= 0)
				continue;
			if (t->n_cols == RENDER_TABLE_MAX_COLS)
				return -E2BIG;
			t->cols[t->n_cols++] = k;
		}
	}
	return 0;
}

/* Every cell's text, its column's width, and which columns are numeric. */
static int render_table_cells(struct render_table *t, const json_t *arr)
{
	size_t r, c, n = json_array_size(arr) * t->n_cols;
	const char *k;
	json_t *row, *m;
	bool *seen_num;
	FILE *mem;
	long off;

	t->cell = malloc(n * sizeof(*t->cell));
	t->width = calloc(t->n_cols, sizeof(*t->width));
	t->numeric = calloc(t->n_cols, sizeof(*t->numeric));
	seen_num = calloc(t->n_cols, sizeof(*seen_num));
	mem = t->cell && t->width && t->numeric && seen_num
		      ? open_memstream(&t->text, &t->text_len)
		      : NULL;
	if (!mem) {
		free(seen_num);
		return -ENOMEM;
	}
	for (c = 0; c < t->n_cols; c++) {
		t->width[c] = render_text_width(t->cols[c], strlen(t->cols[c]));
		t->numeric[c] = true;
	}
	for (r = 0; r < n; r++)
		t->cell[r] = SIZE_MAX;
	json_array_foreach(arr, r, row) {
		json_object_foreach(row, k, m) {
			c = (size_t)render_col_find(t,
						    k); /* every key has one */
			if (json_is_null(m))
				continue; /* drawn as a missing key: "-" */
			off = ftell(mem);
			if (off < 0)
				goto fail;
			t->cell[r * t->n_cols + c] = (size_t)off;
			render_scalar(mem, m);
			fputc('\0', mem);
			if (json_is_number(m))
				seen_num[c] = true;
			else
				t->numeric[c] = false;
		}
	}
	if (fclose(mem))
		goto fail_closed;
	mem = NULL;
	for (c = 0; c < t->n_cols; c++)
		t->numeric[c] = t->numeric[c] && seen_num[c];
	for (r = 0; r < n; r++) {
		size_t w = 1; /* "-" */

		if (t->cell[r] != SIZE_MAX)
			w = render_text_width(t->text + t->cell[r],
					      strlen(t->text + t->cell[r]));
		if (w > t->width[r % t->n_cols])
			t->width[r % t->n_cols] = w;
	}
	free(seen_num);
	return 0;
fail:
	fclose(mem);
fail_closed:
	free(seen_num);
	return -ENOMEM;
}

/* One cell, padded to its column unless it ends the line. */
static void render_cell(FILE *f, const struct render_table *t, size_t c,
			const char *s, size_t len)
{
	size_t pad = t->width[c] - render_text_width(s, len);
	bool last = c + 1 == t->n_cols;

	if (c)
		fputs("  ", f);
	if (t->numeric[c])
		render_spaces(f, pad);
	render_text(f, s, len);
	if (!t->numeric[c] && !last)
		render_spaces(f, pad);
}

/* The header holds keys as they are but for ASCII letters, upper case. */
static void render_table_head(FILE *f, const struct render_table *t)
{
	char head[64];
	size_t c, i, n;

	for (c = 0; c < t->n_cols; c++) {
		const char *k = t->cols[c];

		n = strlen(k);
		if (n > sizeof(head)) {
			render_cell(f, t, c, k, n);
			continue;
		}
		for (i = 0; i < n; i++)
			head[i] = (char)toupper((unsigned char)k[i]);
		render_cell(f, t, c, head, n);
	}
	fputc('\n', f);
}

static void render_table_draw(FILE *f, const struct render_table *t,
			      size_t rows, unsigned indent)
{
	size_t r, c, off;

	render_spaces(f, indent);
	render_table_head(f, t);
	for (r = 0; r < rows; r++) {
		render_spaces(f, indent);
		for (c = 0; c < t->n_cols; c++) {
			off = t->cell[r * t->n_cols + c];
			if (off == SIZE_MAX)
				render_cell(f, t, c, "-", 1);
			else
				render_cell(f, t, c, t->text + off,
					    strlen(t->text + off));
		}
		fputc('\n', f);
	}
}

static int render_table(struct render *r, const json_t *arr, unsigned indent)
{
	struct render_table t = {0};
	const json_t *row;
	size_t i;
	int ret;

	ret = render_table_cols(&t, arr);
	if (!ret)
		ret = render_table_cells(&t, arr);
	if (!ret)
		render_table_draw(r->f, &t, json_array_size(arr), indent);
	render_table_free(&t);
	if (ret != -E2BIG)
		return ret;
	/* Too many columns to read as a table: one block per object. */
	json_array_foreach(arr, i, row) {
		if (i)
			fputc('\n', r->f);
		ret = render_at(r, row, indent);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- Objects and arrays --------------------------------------------- */

static int render_object(struct render *r, const json_t *obj, unsigned indent)
{
	size_t w = 0, kw;
	const char *k;
	json_t *m;
	int ret;

	json_object_foreach((json_t *)obj, k, m) {
		kw = render_text_width(k, strlen(k));
		if (render_inline(m) && render_visible(m, r->flags) && kw > w)
			w = kw;
	}
	json_object_foreach((json_t *)obj, k, m) {
		if (!render_visible(m, r->flags))
			continue;
		render_spaces(r->f, indent);
		render_text(r->f, k, strlen(k));
		if (render_inline(m)) {
			render_spaces(r->f,
				      w - render_text_width(k, strlen(k)) + 2);
			render_scalar(r->f, m);
			fputc('\n', r->f);
			continue;
		}
		fputc('\n', r->f);
		ret = render_at(r, m, indent + RENDER_INDENT);
		if (ret)
			return ret;
	}
	return 0;
}

/* An array that is neither all scalars nor all objects: item by item. */
static int render_array(struct render *r, const json_t *arr, unsigned indent)
{
	const json_t *c;
	size_t i;
	int ret;

	json_array_foreach(arr, i, c) {
		ret = render_at(r, c, indent);
		if (ret)
			return ret;
	}
	return 0;
}

static int render_at(struct render *r, const json_t *v, unsigned indent)
{
	if (render_inline(v)) {
		render_spaces(r->f, indent);
		render_scalar(r->f, v);
		fputc('\n', r->f);
		return 0;
	}
	if (json_is_object(v))
		return render_object(r, v, indent);
	if (render_table_able(v))
		return render_table(r, v, indent);
	return render_array(r, v, indent);
}

int render_value(FILE *f, const json_t *v, unsigned flags)
{
	struct render r = {.f = f, .flags = flags};
	void *it;

	if (json_is_object(v) && json_object_size(v) == 1) {
		it = json_object_iter((json_t *)v);
		if (!render_inline(json_object_iter_value(it)))
			v = json_object_iter_value(it);
	}
	return render_at(&r, v, 0);
}
