// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admin socket's request handling on any line: a daemon's world is
 * loaded once from the steerd fixture (cell mode, no gossip), then every
 * input is one request through admin_handle(). Every answer must be one
 * line of JSON (checked for the framing: starts with '{', no raw newline
 * or control byte) written whole (no "internal error": a handler's
 * structure error, such as a key written twice, that jsonw refused);
 * nothing may crash or leak.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "daemon/steerd.h"
#include "util/log.h"

static struct steerd fz_d;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *src = getenv("STEER_SRC");
	char path[4096], err[512];

	snprintf(path, sizeof(path), "%s/tests/fixtures/steerd/steerd.conf",
		 src ? src : ".");
	log_set_level(LOG_ERR);
	fz_d.world = calloc(1, sizeof(*fz_d.world));
	if (!fz_d.world ||
	    steerd_world_load(fz_d.world, path, err, sizeof(err))) {
		fprintf(stderr, "fuzz_admin: %s (set STEER_SRC)\n", err);
		abort();
	}
	steerd_node_provider_set(&fz_d, NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonw w;
	char line[ADMIN_REQ_MAX];
	const char *out;
	size_t i, n;

	if (size >= sizeof(line))
		return 0; /* the socket refuses longer lines before this */
	memcpy(line, data, size);
	line[size] = '\0';
	if (memchr(line, '\n', size))
		return 0; /* one line is one request */
	jsonw_init(&w);
	if (admin_handle(&fz_d, line, &w) == -ENOMEM)
		goto out;
	out = w.buf;
	n = w.len;
	if (!n || out[0] != '{' || out[n - 1] != '}')
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20)
			abort();
	if (strstr(out, "\"error\":\"internal error")) {
		fprintf(stderr, "fuzz_admin: '%s': %s\n", line, out);
		abort();
	}
out:
	jsonw_free(&w);
	return 0;
}
