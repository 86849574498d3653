// SPDX-License-Identifier: GPL-2.0-only
/*
 * steerctl's JSON parser and renderer on any bytes: parse; render as
 * text both ways; write compact, parse again, write indented, parse
 * again. A document that parsed once must survive the round trips
 * (abort otherwise); anything else must fail cleanly.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl/json.c"
#include "ctl/render.c"

static char *fz_write(const struct json_doc *doc, int indent, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		abort();
	json_write(f, doc, doc->root, indent);
	fclose(f);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits lim = {
		.max_len = 1 << 16, .max_depth = 16, .max_values = 4096};
	struct json_doc doc, again;
	char err[128], *text, *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (json_parse(&doc, (const char *)data, size, &lim, err, sizeof(err)))
		return 0;
	f = open_memstream(&buf, &len);
	if (!f)
		abort();
	render_value(f, &doc, doc.root, 0);
	render_value(f, &doc, doc.root, RENDER_HIDE_ZERO);
	fclose(f);
	free(buf);
	text = fz_write(&doc, 0, &len);
	if (json_parse(&again, text, len, NULL, err, sizeof(err))) {
		fprintf(stderr, "compact output does not parse: %s\n%s\n", err,
			text);
		abort();
	}
	free(text);
	text = fz_write(&again, 4, &len);
	json_doc_free(&again);
	if (json_parse(&again, text, len, NULL, err, sizeof(err))) {
		fprintf(stderr, "indented output does not parse: %s\n", err);
		abort();
	}
	json_doc_free(&again);
	free(text);
	json_doc_free(&doc);
	return 0;
}
