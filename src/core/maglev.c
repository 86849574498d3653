// SPDX-License-Identifier: GPL-2.0-only
/*
 * Maglev table population. Each weighted node walks its own permutation of
 * the slots, (offset + j * skip) mod M for j = 0, 1, ..., which visits every
 * slot once because M is prime and 0 < skip < M. Nodes take turns; a turn
 * claims the node's next still-empty slot, so the table is full after
 * exactly M turns.
 *
 * Turns follow stride scheduling: node i's k-th turn is due at time k / w_i
 * and the earliest due turn goes next (ties to the lower id). With equal
 * weights this is plain round-robin in id order, so every node gets
 * floor(M / n) or ceil(M / n) entries. With weights, after the last turn at
 * time t each node has taken between t * w_i - 1 and t * w_i turns, hence
 * the bound stated in maglev.h. A binary heap keyed by the due time makes
 * the schedule O(M log n); due times are compared as exact fractions, so
 * every node of the cluster computes the same table.
 */
#include "core/maglev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Domain tags of the derived secrets (ASCII "mgOFFk0_" etc.). */
#define MAGLEV_TAG_OFF0 0x6d674f46466b305full
#define MAGLEV_TAG_OFF1 0x6d674f46466b315full
#define MAGLEV_TAG_SKIP0 0x6d67534b49506b30ull
#define MAGLEV_TAG_SKIP1 0x6d67534b49506b31ull

/* Population state of one weighted node. */
struct maglev_walk {
	uint32_t pos;  /* next slot of the permutation to try */
	uint32_t skip; /* permutation step, in [1, M - 1] */
	uint32_t weight;
	uint32_t turns; /* slots claimed so far */
	uint16_t id;
};

int maglev_is_prime(uint32_t n)
{
	uint64_t d;

	if (n < 2)
		return 0;
	if (n % 2 == 0)
		return n == 2;
	for (d = 3; d * d <= n; d += 2)
		if (n % d == 0)
			return 0;
	return 1;
}

struct maglev *maglev_new(uint32_t size, const struct steer_hash_secret *s)
{
	struct maglev *m;

	if (!s || size > MAGLEV_SIZE_MAX || !maglev_is_prime(size)) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->table = malloc((size_t)size * sizeof(*m->table));
	if (!m->table) {
		free(m);
		return NULL;
	}
	/* STEER_NODE_NONE is 0xffff: an all-ones fill empties the table. */
	memset(m->table, 0xff, (size_t)size * sizeof(*m->table));
	m->size = size;
	m->off_secret.k0 = steer_hash_u64(MAGLEV_TAG_OFF0, s);
	m->off_secret.k1 = steer_hash_u64(MAGLEV_TAG_OFF1, s);
	m->skip_secret.k0 = steer_hash_u64(MAGLEV_TAG_SKIP0, s);
	m->skip_secret.k1 = steer_hash_u64(MAGLEV_TAG_SKIP1, s);
	return m;
}

void maglev_free(struct maglev *m)
{
	if (!m)
		return;
	free(m->table);
	free(m->shares);
	free(m);
}

static int maglev_node_cmp(const void *a, const void *b)
{
	const struct maglev_node *x = a, *y = b;

	return (int)x->id - (int)y->id;
}

/*
 * Sorts a copy of the nodes by id and checks them. Returns the copy (the
 * caller frees it) with *n_active set to the number of weighted nodes, or
 * NULL with *err set.
 */
static struct maglev_node *maglev_nodes_check(const struct maglev_node *nodes,
					      size_t n, size_t *n_active,
					      int *err)
{
	struct maglev_node *v;
	size_t i;

	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v) {
		*err = -ENOMEM;
		return NULL;
	}
	if (n)
		memcpy(v, nodes, n * sizeof(*v));
	qsort(v, n, sizeof(*v), maglev_node_cmp);
	*n_active = 0;
	for (i = 0; i < n; i++) {
		if (v[i].id == STEER_NODE_NONE ||
		    (i > 0 && v[i].id == v[i - 1].id)) {
			log_warn("maglev", "node id %u is %s", v[i].id,
				 v[i].id == STEER_NODE_NONE ? "reserved"
							    : "duplicated");
			*err = -EINVAL;
			free(v);
			return NULL;
		}
		if (v[i].weight)
			(*n_active)++;
	}
	return v;
}

/* 1 if walk a's next turn is due before walk b's. */
static int maglev_walk_before(const struct maglev_walk *w, uint32_t a,
			      uint32_t b)
{
	/* (turns + 1) <= 2^24 + 1 and weight < 2^32: products fit in 64 bits */
	uint64_t da = (uint64_t)(w[a].turns + 1) * w[b].weight;
	uint64_t db = (uint64_t)(w[b].turns + 1) * w[a].weight;

	return da < db || (da == db && w[a].id < w[b].id);
}

static void maglev_heap_down(uint32_t *heap, size_t n,
			     const struct maglev_walk *w, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, best = i;
		uint32_t t;

		if (l < n && maglev_walk_before(w, heap[l], heap[best]))
			best = l;
		if (r < n && maglev_walk_before(w, heap[r], heap[best]))
			best = r;
		if (best == i)
			return;
		t = heap[i];
		heap[i] = heap[best];
		heap[best] = t;
		i = best;
	}
}

/* Claims the walk's next empty slot; one exists while the table is not full. */
static void maglev_walk_turn(struct maglev_walk *w, uint16_t *table,
			     uint32_t size)
{
	while (table[w->pos] != STEER_NODE_NONE) {
		w->pos += w->skip;
		if (w->pos >= size)
			w->pos -= size;
	}
	table[w->pos] = w->id;
	w->turns++;
}

/* Fills table (all STEER_NODE_NONE on entry) from the weighted walks. */
static void maglev_populate(struct maglev_walk *w, uint32_t *heap, size_t n,
			    uint16_t *table, uint32_t size)
{
	uint32_t filled;
	size_t i;

	for (i = 0; i < n; i++)
		heap[i] = (uint32_t)i;
	/* first turns are due at 1 / w_i: an order only when weights differ */
	for (i = n / 2; i-- > 0;)
		maglev_heap_down(heap, n, w, i);
	for (filled = 0; filled < size; filled++) {
		maglev_walk_turn(&w[heap[0]], table, size);
		maglev_heap_down(heap, n, w, 0);
	}
}

static void maglev_walks_init(const struct maglev *m,
			      const struct maglev_node *v, size_t n,
			      struct maglev_walk *w)
{
	size_t i, j;

	for (i = 0, j = 0; i < n; i++) {
		if (!v[i].weight)
			continue;
		w[j].id = v[i].id;
		w[j].weight = v[i].weight;
		w[j].turns = 0;
		w[j].pos = (uint32_t)(steer_hash_u64(v[i].id, &m->off_secret) %
				      m->size);
		/* any skip in [1, M - 1] visits every slot as M is prime */
		w[j].skip =
			(uint32_t)(steer_hash_u64(v[i].id, &m->skip_secret) %
				   (m->size - 1)) +
			1;
		j++;
	}
}

int maglev_build(struct maglev *m, const struct maglev_node *nodes, size_t n)
{
	struct maglev_share *shares = NULL;
	struct maglev_walk *walks = NULL;
	struct maglev_node *v;
	uint16_t *table = NULL;
	uint32_t *heap = NULL;
	size_t n_active, i;
	int err = -ENOMEM;

	if (!m || (n && !nodes))
		return -EINVAL;
	v = maglev_nodes_check(nodes, n, &n_active, &err);
	if (!v)
		return err;
	if (n_active > m->size) {
		log_warn("maglev", "%zu weighted nodes exceed %u entries",
			 n_active, m->size);
		err = -E2BIG;
		goto out;
	}
	table = malloc((size_t)m->size * sizeof(*table));
	shares = calloc(n_active ? n_active : 1, sizeof(*shares));
	walks = calloc(n_active ? n_active : 1, sizeof(*walks));
	heap = calloc(n_active ? n_active : 1, sizeof(*heap));
	if (!table || !shares || !walks || !heap)
		goto out;
	memset(table, 0xff, (size_t)m->size * sizeof(*table));
	maglev_walks_init(m, v, n, walks);
	if (n_active)
		maglev_populate(walks, heap, n_active, table, m->size);
	for (i = 0; i < n_active; i++) {
		shares[i].id = walks[i].id;
		shares[i].weight = walks[i].weight;
		shares[i].entries = walks[i].turns;
	}
	free(m->table);
	free(m->shares);
	m->table = table;
	m->shares = shares;
	m->n_shares = n_active;
	table = NULL;
	shares = NULL;
	err = 0;
out:
	free(heap);
	free(walks);
	free(shares);
	free(table);
	free(v);
	return err;
}

const uint16_t *maglev_table(const struct maglev *m, uint32_t *size)
{
	if (size)
		*size = m->size;
	return m->table;
}

uint32_t maglev_entries(const struct maglev *m, uint16_t id)
{
	size_t lo = 0, hi = m->n_shares;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->shares[mid].id == id)
			return m->shares[mid].entries;
		if (m->shares[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

size_t maglev_shares(const struct maglev *m, struct maglev_share *out,
		     size_t cap)
{
	size_t n = m->n_shares < cap ? m->n_shares : cap;

	if (n)
		memcpy(out, m->shares, n * sizeof(*out));
	return m->n_shares;
}
