// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rendezvous top k. The score hash is SipHash-1-3 of the two words
 * (key hash, tagged node id): a message length no other steer hash uses,
 * so scores stay independent of flow hashes and Maglev permutations made
 * with the same secret.
 *
 * The weighted score -w / ln(u) is an exponential race: -ln(u) / w is
 * exponential with rate w, and the node with the smallest such time (the
 * highest score) wins with probability w / W.
 */
#include "core/hrw.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HRW_TAG 0x6872770000000000ull /* "hrw" in the high bytes */

struct hrw_cand {
	double score;
	uint64_t h;
	uint16_t id;
};

static uint64_t hrw_hash(uint64_t key_hash, uint16_t id,
			 const struct steer_hash_secret *s)
{
	__u64 w[2] = {key_hash, HRW_TAG | id};

	return steer_siphash13(w, 2, s);
}

/* Top 53 bits plus one half: u in (0, 1), never 0 nor 1. */
static double hrw_weighted(uint64_t h, uint32_t weight)
{
	double u = ((double)(h >> 11) + 0.5) * 0x1p-53;

	return -(double)weight / log(u);
}

double hrw_score(uint64_t key_hash, uint16_t id, uint32_t weight,
		 const struct steer_hash_secret *s)
{
	if (!weight)
		return 0.0;
	return hrw_weighted(hrw_hash(key_hash, id, s), weight);
}

/* 1 if a ranks before b: higher score, then higher hash, then lower id. */
static int hrw_cand_before(const struct hrw_cand *a, const struct hrw_cand *b)
{
	if (a->score != b->score)
		return a->score > b->score;
	if (a->h != b->h)
		return a->h > b->h;
	return a->id < b->id;
}

/*
 * Inserts c into best[0..*len) (sorted, at most k long) if it ranks in the
 * top k. Returns -EINVAL if c's id is already there.
 */
static int hrw_cand_insert(struct hrw_cand *best, size_t *len, size_t k,
			   const struct hrw_cand *c)
{
	size_t i;

	if (*len == k && !hrw_cand_before(c, &best[k - 1]))
		return 0;
	for (i = 0; i < *len; i++)
		if (best[i].id == c->id)
			return -EINVAL;
	i = *len < k ? (*len)++ : k - 1;
	for (; i > 0 && hrw_cand_before(c, &best[i - 1]); i--)
		best[i] = best[i - 1];
	best[i] = *c;
	return 0;
}

int hrw_topk(const struct hrw_node *nodes, size_t n, uint64_t key_hash,
	     uint16_t exclude, const struct steer_hash_secret *s, uint16_t *out,
	     size_t k)
{
	struct hrw_cand best[HRW_TOPK_MAX];
	size_t i, len = 0;
	int err;

	if ((n && !nodes) || (k && !out) || !s || k > HRW_TOPK_MAX)
		return -EINVAL;
	if (!k)
		return 0;
	for (i = 0; i < n; i++) {
		struct hrw_cand c;

		if (nodes[i].id == STEER_NODE_NONE)
			return -EINVAL;
		if (!nodes[i].weight || nodes[i].id == exclude)
			continue;
		c.id = nodes[i].id;
		c.h = hrw_hash(key_hash, c.id, s);
		c.score = hrw_weighted(c.h, nodes[i].weight);
		err = hrw_cand_insert(best, &len, k, &c);
		if (err)
			return err;
	}
	for (i = 0; i < len; i++)
		out[i] = best[i].id;
	return (int)len;
}

static int hrw_id_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

uint64_t hrw_shard_key(uint32_t shard, const struct steer_hash_secret *s)
{
	__u64 w[2] = {0x7368617264ull /* "shard" */, shard};

	return steer_siphash13(w, 2, s);
}

int hrw_nodes_check(const struct hrw_node *nodes, size_t n)
{
	uint16_t *ids;
	size_t i;
	int err = 0;

	if (!n)
		return 0;
	if (!nodes)
		return -EINVAL;
	ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		ids[i] = nodes[i].id;
	qsort(ids, n, sizeof(*ids), hrw_id_cmp);
	for (i = 0; i < n && !err; i++)
		if (ids[i] == STEER_NODE_NONE || (i && ids[i] == ids[i - 1]))
			err = -EINVAL;
	free(ids);
	return err;
}
