// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: the cluster description reader. Any text either loads
 * into a cluster whose references all resolve, or is refused with a
 * message naming the file; it never crashes or leaks.
 */
#include <stdint.h>
#include <string.h>

#include "core/cluster.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cluster c;
	char err[512];
	uint32_t i, j;
	int rc;

	err[0] = 0;
	rc = cluster_load_buf(&c, "fuzz.conf", (const char *)data, size, err,
			      sizeof(err));
	if (rc) {
		check(strncmp(err, "fuzz.conf", 9) == 0 || rc == -12);
		cluster_free(&c);
		return 0;
	}
	check(c.n_nodes > 0 && c.self < c.n_nodes);
	for (i = 0; i < c.n_services; i++)
		for (j = 0; j < c.services[i].n_backends; j++)
			check(c.services[i].backends[j] < c.n_backends);
	for (i = 0; i < c.n_nodes; i++)
		check(c.nodes[i].ep.gateway < (int)c.n_gateways);
	cluster_free(&c);
	return 0;
}
