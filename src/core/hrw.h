/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rendezvous (highest random weight) hashing, top k: ranks nodes for a key
 * by a keyed score of (key, node id) and returns the k best. Used to pick
 * the mirror cells of a flow, excluding its primary.
 *
 * A node's score depends only on the key, its id, its weight and the
 * secret, so removing a node changes a key's top k only if that node was
 * in it (the next best then moves up), and every node of a cluster ranks
 * alike. Weighted score: -w / ln(u), u the score hash mapped into (0, 1):
 * node i comes first with probability w_i / W. With equal weights the
 * ranking is the ranking of the score hashes.
 */
#ifndef STEER_CORE_HRW_H
#define STEER_CORE_HRW_H

#include <stddef.h>
#include <stdint.h>

#include "steer/hash.h"
#include "steer/rule.h"

#define HRW_TOPK_MAX 64 /* largest k of one hrw_topk() call */

/* A candidate node; weight 0 means never chosen. */
struct hrw_node {
	uint16_t id; /* any value but STEER_NODE_NONE */
	uint32_t weight;
};

/*
 * Score of node (id, weight) for key_hash: higher ranks first; 0 for
 * weight 0. Ties in score are broken by the score hash, then by lower id.
 */
double hrw_score(uint64_t key_hash, uint16_t id, uint32_t weight,
		 const struct steer_hash_secret *s);

/*
 * Writes to out the ids of the (at most) k best-ranked nodes for key_hash,
 * best first, skipping nodes of weight 0 and the node exclude (pass
 * STEER_NODE_NONE to exclude none). Returns the number written:
 * min(k, nodes eligible), or -EINVAL: NULL argument (nodes may be NULL
 * when n is 0, out when k is 0), k > HRW_TOPK_MAX, a node id
 * STEER_NODE_NONE, or a duplicate id that would enter the top k (ids are
 * never written twice; hrw_nodes_check() catches every duplicate once, when
 * the node set changes).
 */
int hrw_topk(const struct hrw_node *nodes, size_t n, uint64_t key_hash,
	     uint16_t exclude, const struct steer_hash_secret *s, uint16_t *out,
	     size_t k);

/*
 * The key a shard is ranked by (cell mode's shard map, host mode's
 * directory homes): its id, hashed like a flow would be.
 */
uint64_t hrw_shard_key(uint32_t shard, const struct steer_hash_secret *s);

/*
 * Validates a node set: 0, or -EINVAL for a NULL array with n > 0, an id
 * STEER_NODE_NONE or a duplicate id. O(n log n), allocates; -ENOMEM.
 */
int hrw_nodes_check(const struct hrw_node *nodes, size_t n);

#endif /* STEER_CORE_HRW_H */
