/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of
 * M entries (M prime) filled with node ids, so that a flow hash picks a node
 * with one array read, every node holds a share of the table proportional
 * to its weight, and a change of the node set moves few flows.
 *
 * Used for the owner node / primary cell of a flow (over live nodes) and
 * for the backend of a new flow (over healthy backends, with weights).
 *
 * Every node of a cluster must compute the same table from the same node
 * set: the table depends only on the size, the secret and the set of
 * (id, weight) pairs, never on the order in which nodes are given.
 */
#ifndef STEER_CORE_MAGLEV_H
#define STEER_CORE_MAGLEV_H

#include <stddef.h>
#include <stdint.h>

#include "steer/hash.h"
#include "steer/rule.h"

#define MAGLEV_SIZE_DEFAULT 65537u
#define MAGLEV_SIZE_MAX (1u << 24) /* 32 MiB of entries at most */

/* A node as given to maglev_build(); weight 0 means drained (no entries). */
struct maglev_node {
	uint16_t id; /* any value but STEER_NODE_NONE */
	uint32_t weight;
};

/* What a node holds in the current table. */
struct maglev_share {
	uint16_t id;
	uint32_t weight;
	uint32_t entries; /* entries of the table pointing at this node */
};

/*
 * The table. Callers read it only through the functions below; the fields
 * are here so that maglev_lookup() inlines into the packet path.
 * maglev_build() swaps table and shares: lookups must not run concurrently
 * with a build (the daemon's event loop serialises them).
 */
struct maglev {
	uint32_t size;
	struct steer_hash_secret off_secret;  /* derives each node's offset */
	struct steer_hash_secret skip_secret; /* derives each node's skip */
	uint16_t *table;		      /* size entries */
	struct maglev_share *shares;	      /* nodes in the table, by id */
	size_t n_shares;
};

/*
 * A new, empty table of size entries (every lookup gives STEER_NODE_NONE).
 * size must be a prime in [2, MAGLEV_SIZE_MAX]; the Maglev paper advises
 * size > 100 * nodes for even shares under churn. The secret is copied;
 * two derived secrets, one for offsets and one for skips, keep the
 * permutations independent of flow hashes made with the same secret.
 * Returns NULL with errno EINVAL (bad size, NULL secret) or ENOMEM.
 */
struct maglev *maglev_new(uint32_t size, const struct steer_hash_secret *s);

/* Frees the table; NULL is a no-op. */
void maglev_free(struct maglev *m);

/*
 * Fills the table from n nodes. Nodes of weight 0 get no entries; when no
 * node has a weight the table becomes empty. Entry counts are proportional
 * to weights: node i holds M * w_i / W entries give or take
 * max(1, n_active * w_i / W); with equal weights each holds floor(M / n)
 * or ceil(M / n).
 * Returns 0, or on failure leaves the previous table in place and returns
 * -EINVAL (NULL argument, id STEER_NODE_NONE, duplicate id),
 * -E2BIG (more weighted nodes than entries) or -ENOMEM.
 */
int maglev_build(struct maglev *m, const struct maglev_node *nodes, size_t n);

/* Index of a flow hash in a table of size entries (flow_hash_slot(), as
 * the XDP program computes it). Always < size. */
static inline uint32_t maglev_slot(uint64_t flow_hash, uint32_t size)
{
	return flow_hash_slot(flow_hash, size);
}

/* Node id for a flow hash, or STEER_NODE_NONE when the table is empty. */
static inline uint16_t maglev_lookup(const struct maglev *m, uint64_t flow_hash)
{
	return m->table[maglev_slot(flow_hash, m->size)];
}

/*
 * The raw table, for copying into a BPF array map: *size receives the
 * number of entries. Valid until the next maglev_build() or maglev_free().
 */
const uint16_t *maglev_table(const struct maglev *m, uint32_t *size);

/* Entries held by node id in the current table (0 if it holds none). */
uint32_t maglev_entries(const struct maglev *m, uint16_t id);

/*
 * Copies at most cap shares (the weighted nodes of the last build, by
 * increasing id) into out and returns how many there are, which may exceed
 * cap. A node whose weight is below W / M of the total W may hold 0
 * entries. out may be NULL when cap is 0.
 */
size_t maglev_shares(const struct maglev *m, struct maglev_share *out,
		     size_t cap);

/* 1 if n is prime, else 0 (trial division; n up to 2^32 - 1). */
int maglev_is_prime(uint32_t n);

#endif /* STEER_CORE_MAGLEV_H */
