// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerctl's handling of an answer on any bytes: read with jansson as
 * steerctl reads one (and again as any value, for the renderer's
 * scalars); render as text both ways; write compact (-j), read again,
 * write indented (-p), read again. A document that was read must survive
 * the round trips (abort otherwise), but for one thing jansson's writer
 * may do: a real within 15 digits of the largest double rounds past it
 * and reads back as an overflow. Anything else must fail cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/render.c"

static char *fz_write(const json_t *v, bool indent, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	if (render_json(f, v, indent))
		abort(); /* what jansson read, it can write */
	fclose(f);
	return buf;
}

/* text, written from a document that was read, must read again. */
static json_t *fz_again(const char *text, size_t len, const char *what)
{
	json_error_t jerr;
	json_t *v = json_loadb(text, len, JSON_DECODE_ANY, &jerr);

	if (!v && !strstr(jerr.text, "real number overflow")) {
		fprintf(stderr, "%s output does not read: %s\n%s\n", what,
			jerr.text, text);
		abort();
	}
	return v;
}

static void fz_one(const json_t *doc)
{
	json_t *again, *third;
	char *text, *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	render_value(f, doc, 0);
	render_value(f, doc, RENDER_HIDE_ZERO);
	render_visible(doc, RENDER_HIDE_ZERO);
	fclose(f);
	free(buf);
	text = fz_write(doc, false, &len);
	again = fz_again(text, len, "compact");
	free(text);
	if (!again)
		return;
	text = fz_write(again, true, &len);
	third = fz_again(text, len, "indented");
	json_decref(third);
	json_decref(again);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *doc;

	doc = json_loadb((const char *)data, size, 0, &jerr);
	if (doc) {
		fz_one(doc);
		json_decref(doc);
	}
	doc = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if (doc) {
		fz_one(doc);
		json_decref(doc);
	}
	return 0;
}
