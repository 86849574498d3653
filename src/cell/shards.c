// SPDX-License-Identifier: GPL-2.0-only
#include "cell/shards.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hrw.h"

int shard_map_build(struct shard_map *m, const uint16_t *ids, size_t n,
		    uint8_t rf, const struct steer_hash_secret *secret)
{
	struct hrw_node *nodes;
	uint32_t s;
	size_t i;
	int got;

	if (rf < 1 || rf > 1 + STEER_MAX_MIRRORS || (n && !ids))
		return -EINVAL;
	nodes = calloc(n ? n : 1, sizeof(*nodes));
	if (!nodes)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		nodes[i].id = ids[i];
		nodes[i].weight = 1;
	}
	got = hrw_nodes_check(nodes, n);
	if (got) {
		free(nodes);
		return got;
	}
	memset(m->cell, 0xff, sizeof(m->cell)); /* STEER_NODE_NONE */
	m->rf = rf;
	m->n_cells = (uint32_t)n;
	for (s = 0; s < STEER_SHARDS && n; s++) {
		/* At least two: the fast path falls back on the second
		 * when its own daemon is gone, whatever rf says. */
		got = hrw_topk(nodes, n, hrw_shard_key(s, secret),
			       STEER_NODE_NONE, secret, m->cell[s],
			       rf < 2 ? 2 : rf);
		if (got < 0)
			break;
	}
	free(nodes);
	return got < 0 ? got : 0;
}

void shard_map_primaries(const struct shard_map *m, struct steer_shard *out)
{
	uint32_t s;

	for (s = 0; s < STEER_SHARDS; s++) {
		out[s].cell[0] = m->cell[s][0];
		out[s].cell[1] = m->cell[s][1];
	}
}

uint32_t shard_map_count(const struct shard_map *m, uint16_t id, int as_mirror)
{
	uint32_t s, n = 0, j;

	for (s = 0; s < STEER_SHARDS; s++) {
		if (!as_mirror) {
			n += m->cell[s][0] == id;
			continue;
		}
		for (j = 1; j < m->rf; j++)
			n += m->cell[s][j] == id;
	}
	return n;
}
