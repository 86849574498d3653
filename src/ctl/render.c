// SPDX-License-Identifier: GPL-2.0-only
#include "ctl/render.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sys/types.h>

struct render {
	FILE *f;
	const struct json_doc *doc;
	unsigned flags;
};

static int render_at(struct render *r, const struct json_value *v,
		     unsigned indent);

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

static bool render_scalar_array(const struct json_value *v)
{
	const struct json_value *c;

	if (v->type != JSON_ARRAY)
		return false;
	for (c = v->child; c; c = c->next)
		if (!json_is_scalar(c))
			return false;
	return true;
}

/* Drawn on its key's line: a scalar, an array of scalars, {}. */
static bool render_inline(const struct json_value *v)
{
	return json_is_scalar(v) || render_scalar_array(v) ||
	       (v->type == JSON_OBJECT && !v->n);
}

static bool render_table_able(const struct json_value *v)
{
	const struct json_value *c;

	if (v->type != JSON_ARRAY || !v->n)
		return false;
	for (c = v->child; c; c = c->next)
		if (c->type != JSON_OBJECT)
			return false;
	return true;
}

bool render_visible(const struct json_value *v, unsigned flags)
{
	const struct json_value *c;

	if (!(flags & RENDER_HIDE_ZERO))
		return true;
	if (v->type == JSON_NUMBER)
		return v->num != 0;
	if (v->type != JSON_OBJECT || !v->n)
		return true;
	for (c = v->child; c; c = c->next)
		if (render_visible(c, flags))
			return true;
	return false;
}

/* A scalar's text, or an inline value's: see render.h. */
static void render_scalar(FILE *f, const struct json_doc *doc,
			  const struct json_value *v)
{
	const struct json_value *c;

	switch (v->type) {
	case JSON_NULL:
		fputc('-', f);
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
		if (!v->str_len)
			fputc('-', f);
		else
			render_text(f, v->str, v->str_len);
		return;
	case JSON_ARRAY:
		if (!render_scalar_array(v) || !v->n)
			break;
		for (c = v->child; c; c = c->next) {
			if (c != v->child)
				fputc(',', f);
			render_scalar(f, doc, c);
		}
		return;
	case JSON_OBJECT:
		if (!v->n) {
			fputc('-', f);
			return;
		}
		break;
	}
	if (!v->n) {
		fputc('-', f);
		return;
	}
	/* A compound value inside a table cell: compact JSON, escaped. */
	json_write(f, doc, v, 0);
}

/* --- Tables ---------------------------------------------------------- */

struct render_table {
	const struct json_value **cols; /* a member naming each column */
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

static bool render_key_eq(const struct json_value *a,
			  const struct json_value *b)
{
	return a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len);
}

static ssize_t render_col_find(const struct render_table *t,
			       const struct json_value *m)
{
	size_t i;

	for (i = 0; i < t->n_cols; i++)
		if (render_key_eq(t->cols[i], m))
			return (ssize_t)i;
	return -1;
}

/* The union of the rows' keys, first seen first; -E2BIG past the max. */
static int render_table_cols(struct render_table *t,
			     const struct json_value *arr)
{
	const struct json_value *row, *m;

	t->cols = calloc(RENDER_TABLE_MAX_COLS, sizeof(*t->cols));
	if (!t->cols)
		return -ENOMEM;
	for (row = arr->child; row; row = row->next) {
		for (m = row->child; m; m = m->next) {
			if (render_col_find(t, m) >= 0)
				continue;
			if (t->n_cols == RENDER_TABLE_MAX_COLS)
				return -E2BIG;
			t->cols[t->n_cols++] = m;
		}
	}
	return 0;
}

/* Every cell's text, its column's width, and which columns are numeric. */
static int render_table_cells(struct render_table *t,
			      const struct json_doc *doc,
			      const struct json_value *arr)
{
	const struct json_value *row, *m;
	size_t r, c, n = arr->n * t->n_cols;
	bool *seen_num;
	FILE *mem;
	ssize_t col;
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
		t->width[c] =
			render_text_width(t->cols[c]->key, t->cols[c]->key_len);
		t->numeric[c] = true;
	}
	for (r = 0; r < n; r++)
		t->cell[r] = SIZE_MAX;
	for (row = arr->child, r = 0; row; row = row->next, r++) {
		for (m = row->child; m; m = m->next) {
			col = render_col_find(t, m);
			c = (size_t)col;
			if (col < 0 || t->cell[r * t->n_cols + c] != SIZE_MAX)
				continue; /* a duplicate key: the first wins */
			if (m->type == JSON_NULL)
				continue; /* drawn as a missing key: "-" */
			off = ftell(mem);
			if (off < 0)
				goto fail;
			t->cell[r * t->n_cols + c] = (size_t)off;
			render_scalar(mem, doc, m);
			fputc('\0', mem);
			if (m->type == JSON_NUMBER)
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
		const struct json_value *k = t->cols[c];

		if (k->key_len > sizeof(head)) {
			render_cell(f, t, c, k->key, k->key_len);
			continue;
		}
		n = k->key_len;
		for (i = 0; i < n; i++)
			head[i] = (char)toupper((unsigned char)k->key[i]);
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

static int render_table(struct render *r, const struct json_value *arr,
			unsigned indent)
{
	struct render_table t = {0};
	const struct json_value *row;
	int ret;

	ret = render_table_cols(&t, arr);
	if (!ret)
		ret = render_table_cells(&t, r->doc, arr);
	if (!ret)
		render_table_draw(r->f, &t, arr->n, indent);
	render_table_free(&t);
	if (ret != -E2BIG)
		return ret;
	/* Too many columns to read as a table: one block per object. */
	for (row = arr->child; row; row = row->next) {
		if (row != arr->child)
			fputc('\n', r->f);
		ret = render_at(r, row, indent);
		if (ret)
			return ret;
	}
	return 0;
}

/* --- Objects and arrays --------------------------------------------- */

static int render_object(struct render *r, const struct json_value *obj,
			 unsigned indent)
{
	const struct json_value *m;
	size_t w = 0, kw;
	int ret;

	for (m = obj->child; m; m = m->next) {
		kw = render_text_width(m->key, m->key_len);
		if (render_inline(m) && render_visible(m, r->flags) && kw > w)
			w = kw;
	}
	for (m = obj->child; m; m = m->next) {
		if (!render_visible(m, r->flags))
			continue;
		render_spaces(r->f, indent);
		render_text(r->f, m->key, m->key_len);
		if (render_inline(m)) {
			render_spaces(
				r->f,
				w - render_text_width(m->key, m->key_len) + 2);
			render_scalar(r->f, r->doc, m);
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
static int render_array(struct render *r, const struct json_value *arr,
			unsigned indent)
{
	const struct json_value *c;
	int ret;

	for (c = arr->child; c; c = c->next) {
		ret = render_at(r, c, indent);
		if (ret)
			return ret;
	}
	return 0;
}

static int render_at(struct render *r, const struct json_value *v,
		     unsigned indent)
{
	if (render_inline(v)) {
		render_spaces(r->f, indent);
		render_scalar(r->f, r->doc, v);
		fputc('\n', r->f);
		return 0;
	}
	if (v->type == JSON_OBJECT)
		return render_object(r, v, indent);
	if (render_table_able(v))
		return render_table(r, v, indent);
	return render_array(r, v, indent);
}

int render_value(FILE *f, const struct json_doc *doc,
		 const struct json_value *v, unsigned flags)
{
	struct render r = {.f = f, .doc = doc, .flags = flags};

	if (v->type == JSON_OBJECT && v->n == 1 && !render_inline(v->child))
		v = v->child;
	return render_at(&r, v, 0);
}
