/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which cells hold which shard (cell mode). A flow's shard is its flow
 * hash & (STEER_SHARDS - 1). For each shard the cells are ranked by
 * rendezvous hashing of the shard id over the live cells; the first is
 * the shard's primary, the next replication - 1 its mirrors. Every node
 * that sees the same live set computes the same map, so the fast path
 * (steer_shards) and the cells agree without asking each other; when a
 * primary dies its first mirror, which holds the state, moves up.
 */
#ifndef STEER_CELL_SHARDS_H
#define STEER_CELL_SHARDS_H

#include <stddef.h>
#include <stdint.h>

#include <steer/hash.h>
#include <steer/rule.h>

#include "steer_kern_user.h"

struct shard_map {
	/* cell[s][0]: primary of shard s, then its rf - 1 mirrors (and the
	 * next cell when rf is 1: the fast path's fallback); unused slots
	 * and every slot of a shard without live cells are STEER_NODE_NONE. */
	uint16_t cell[STEER_SHARDS][1 + STEER_MAX_MIRRORS];
	uint8_t rf; /* copies asked for: primary + mirrors, 1..3 */
	uint32_t n_cells;
};

/*
 * Compute m for the live cells ids[0..n-1] (distinct, none
 * STEER_NODE_NONE) and replication factor rf (1..1 + STEER_MAX_MIRRORS).
 * Returns 0, or -EINVAL.
 */
int shard_map_build(struct shard_map *m, const uint16_t *ids, size_t n,
		    uint8_t rf, const struct steer_hash_secret *secret);

/* The shard of a flow hash. */
static inline uint32_t shard_of_hash(uint64_t flow_hash)
{
	return (uint32_t)flow_hash & (STEER_SHARDS - 1);
}

/* Primary and first mirror of every shard, as steer_shards wants. */
void shard_map_primaries(const struct shard_map *m, struct steer_shard *out);

/* How many shards cell id is primary (or mirror) of. */
uint32_t shard_map_count(const struct shard_map *m, uint16_t id, int as_mirror);

#endif /* STEER_CELL_SHARDS_H */
