// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus rendering (daemon/metrics.h) on any answer text: it is
 * refused cleanly, or rendered into text with no NUL inside, every line
 * ending in a newline, and every sample line starting with the prefix.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/metrics.h"

static void fz_check(const struct metrics_out *out)
{
	const char *p = out->text, *end = out->text + out->len;

	if (strlen(out->text) != out->len || (out->len && end[-1] != '\n'))
		abort();
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			abort();
		if (*p != '#' &&
		    strncmp(p, METRICS_PREFIX, sizeof(METRICS_PREFIX) - 1))
			abort();
		p = nl + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_out out;
	struct metrics_doc d;
	char err[160], *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	d.json = text;
	if (!metrics_render(&d, 1, NULL, &out, err, sizeof(err))) {
		fz_check(&out);
		free(out.text);
	}
	free(text);
	return 0;
}
