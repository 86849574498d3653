// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: steerd's own configuration reader (steerd_conf.c, every
 * directive's handler). Any text either loads into a configuration whose
 * values lie within their documented bounds, or is refused with a
 * message naming the file; it never crashes or leaks.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "daemon/steerd_conf.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct steerd_conf c;
	char err[512];
	int rc;

	err[0] = 0;
	rc = steerd_conf_load_buf(&c, "fuzz.conf", (const char *)data, size,
				  err, sizeof(err));
	if (rc) {
		check(strncmp(err, "fuzz.conf", 9) == 0 || rc == -ENOMEM ||
		      rc == -ENAMETOOLONG);
		return 0;
	}
	check(c.cluster_file[0] != 0);
	check(memchr(c.cluster_file, 0, sizeof(c.cluster_file)) != NULL);
	check(c.flow_table_size == 0 ||
	      (c.flow_table_size >= STEERD_FLOW_TABLE_MIN &&
	       c.flow_table_size <= STEERD_FLOW_TABLE_MAX));
	check(c.hint_threshold <= 1000);
	return 0;
}
