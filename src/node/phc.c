// SPDX-License-Identifier: GPL-2.0-only
/*
 * The predictive header cache: L1's placement, eviction and expiry over
 * L2 in LMDB (phc.h).
 */
#include "node/phc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <steer/hash.h>

#define NIL UINT32_MAX

struct phc_slot {
	struct phc_entry e;
	uint64_t touched_ms; /* its last hint or packet (monotonic) */
	uint32_t stamp;	     /* the fast path's use stamp, last read */
	uint32_t next;	     /* chain, or the free list */
	bool live, in_fp, used;
};

struct phc {
	struct phc_config cfg;
	struct phc_ops ops;
	struct phc_store *l2; /* NULL: no L2 */
	struct phc_slot *slot;
	uint32_t *head, nb; /* buckets: a power of two */
	uint32_t free, n;
	uint32_t ticks;
	struct steer_hash_secret secret;
	struct phc_stats st;
};

static uint32_t phc_bucket(const struct phc *p, const struct flow_key *k)
{
	return (uint32_t)flow_hash(k, &p->secret) & (p->nb - 1);
}

static struct phc_slot *phc_find(const struct phc *p, const struct flow_key *k)
{
	uint32_t i;

	for (i = p->head[phc_bucket(p, k)]; i != NIL; i = p->slot[i].next)
		if (flow_key_equal(&p->slot[i].e.key, k))
			return &p->slot[i];
	return NULL;
}

/* Probability x recency: the lowest gives way. */
static double phc_score(const struct phc_entry *e, uint64_t touched_ms,
			uint64_t now_ms)
{
	double idle = now_ms > touched_ms ? (double)(now_ms - touched_ms) : 0;

	return e->p_permille / (1.0 + idle / PHC_RECENCY_MS);
}

static void phc_l2_put(struct phc *p, const struct phc_entry *e)
{
	if (p->l2 && phc_store_put(p->l2, e))
		p->st.l2_errors++;
}

static void phc_l2_del(struct phc *p, const struct flow_key *k)
{
	if (p->l2 && phc_store_del(p->l2, k))
		p->st.l2_errors++;
}

static void phc_install(struct phc *p, struct phc_slot *s)
{
	int rc = p->ops.install(p->ops.ctx, &s->e);

	s->in_fp = !rc;
	s->stamp = s->in_fp ? p->ops.stamp(p->ops.ctx, &s->e.key) : 0;
	if (rc == -EEXIST)
		p->st.conflicts++;
}

/* Take slot s out of L1 (and its rule out of the fast path). */
static void phc_unlink(struct phc *p, struct phc_slot *s)
{
	uint32_t *pp = &p->head[phc_bucket(p, &s->e.key)];
	uint32_t i = (uint32_t)(s - p->slot);

	while (*pp != i)
		pp = &p->slot[*pp].next;
	*pp = s->next;
	if (s->in_fp)
		p->ops.remove(p->ops.ctx, &s->e.key);
	s->live = false;
	s->next = p->free;
	p->free = i;
	p->n--;
}

static struct phc_slot *phc_link(struct phc *p, const struct phc_entry *e,
				 uint64_t now_ms)
{
	struct phc_slot *s = &p->slot[p->free];
	uint32_t b = phc_bucket(p, &e->key);

	p->free = s->next;
	memset(s, 0, sizeof(*s));
	s->e = *e;
	s->touched_ms = now_ms;
	s->live = true;
	s->next = p->head[b];
	p->head[b] = (uint32_t)(s - p->slot);
	p->n++;
	phc_install(p, s);
	return s;
}

/* L1's lowest-scoring entry (L1 full). */
static struct phc_slot *phc_weakest(struct phc *p, uint64_t now_ms)
{
	struct phc_slot *w = NULL;
	double ws = 0, sc;
	uint32_t i;

	for (i = 0; i < p->cfg.l1_max; i++) {
		if (!p->slot[i].live)
			continue;
		sc = phc_score(&p->slot[i].e, p->slot[i].touched_ms, now_ms);
		if (!w || sc < ws) {
			w = &p->slot[i];
			ws = sc;
		}
	}
	return w;
}

/* A new entry for L1 if it earns a place (a probability of min or more,
 * and room or a weaker entry); else it stays in L2. */
static void phc_place(struct phc *p, const struct phc_entry *e, uint64_t now_ms,
		      uint16_t min)
{
	struct phc_slot *w;

	if (e->p_permille < min) {
		p->st.l2_only++;
		return;
	}
	if (p->free == NIL) {
		w = phc_weakest(p, now_ms);
		if (!w || phc_score(&w->e, w->touched_ms, now_ms) >=
				  phc_score(e, now_ms, now_ms)) {
			p->st.l2_only++;
			return;
		}
		phc_unlink(p, w);
		p->st.evicted++;
	}
	phc_link(p, e, now_ms);
	p->st.l1_inserts++;
}

/* A hint, placed in L1 from a probability of min. */
static int phc_hint_min(struct phc *p, const struct phc_entry *in,
			uint64_t now_ms, uint64_t now_wall_ms, uint16_t min)
{
	struct phc_slot *s = phc_find(p, &in->key);
	struct phc_entry e = *in;
	bool moved;

	if (!e.p_permille) {
		p->st.withdrawn++;
		if (s)
			phc_unlink(p, s);
		phc_l2_del(p, &e.key);
		return 0;
	}
	if (e.expires_ms <= now_wall_ms || e.p_permille > 1000)
		return -EINVAL;
	p->st.hints++;
	if (!s) {
		phc_l2_put(p, &e);
		phc_place(p, &e, now_ms, min);
		return 0;
	}
	if (e.p_permille < min) {
		phc_l2_put(p, &e);
		phc_unlink(p, s);
		p->st.demoted++;
		return 0;
	}
	/* A join's low share never lowers a likelier move's probability. */
	if (min < p->cfg.l1_min_permille && s->e.p_permille > e.p_permille)
		e.p_permille = s->e.p_permille;
	phc_l2_put(p, &e);
	moved = s->e.owner != e.owner || s->e.epoch != e.epoch;
	s->e = e;
	s->touched_ms = now_ms;
	if (moved || !s->in_fp) {
		if (s->in_fp)
			p->ops.remove(p->ops.ctx, &s->e.key);
		phc_install(p, s);
	}
	return 0;
}

int phc_hint(struct phc *p, const struct phc_entry *e, uint64_t now_ms,
	     uint64_t now_wall_ms)
{
	return phc_hint_min(p, e, now_ms, now_wall_ms, p->cfg.l1_min_permille);
}

int phc_hint_join(struct phc *p, const struct phc_entry *e, uint64_t now_ms,
		  uint64_t now_wall_ms)
{
	p->st.join_hints += e->p_permille != 0;
	return phc_hint_min(p, e, now_ms, now_wall_ms, 1);
}

/* The use stamp of s's HINT rule read: a packet met it since? */
static void phc_slot_stamp(struct phc *p, struct phc_slot *s, uint64_t now_ms)
{
	uint32_t stamp;

	if (!s->in_fp)
		return;
	stamp = p->ops.stamp(p->ops.ctx, &s->e.key);
	if (stamp && stamp != s->stamp) {
		s->stamp = stamp;
		s->touched_ms = now_ms;
		if (!s->used)
			p->st.used++;
		s->used = true;
	}
}

/* L1: expired entries out, use stamps read. */
static void phc_l1_tick(struct phc *p, uint64_t now_ms, uint64_t now_wall_ms)
{
	struct phc_slot *s;
	uint32_t i;

	for (i = 0; i < p->cfg.l1_max; i++) {
		s = &p->slot[i];
		if (!s->live)
			continue;
		if (s->e.expires_ms <= now_wall_ms) {
			phc_l2_del(p, &s->e.key);
			phc_unlink(p, s);
			p->st.expired++;
			continue;
		}
		phc_slot_stamp(p, s, now_ms);
	}
}

void phc_read_use(struct phc *p, const struct flow_key *k, uint64_t now_ms)
{
	struct phc_slot *s = phc_find(p, k);

	if (s)
		phc_slot_stamp(p, s, now_ms);
}

struct phc_walk {
	struct phc *p;
	uint64_t now_wall_ms;
	uint16_t owner; /* STEER_NODE_NONE: any */
	bool expired_only;
	uint32_t n;
};

static int phc_l2_drop(const struct phc_entry *e, void *arg)
{
	struct phc_walk *w = arg;

	if (w->expired_only ? e->expires_ms > w->now_wall_ms
			    : w->owner != 0xffff && e->owner != w->owner)
		return 0;
	phc_l2_del(w->p, &e->key);
	w->n++;
	return 0;
}

void phc_tick(struct phc *p, uint64_t now_ms, uint64_t now_wall_ms)
{
	struct phc_walk w = {
		.p = p, .now_wall_ms = now_wall_ms, .expired_only = true};

	phc_l1_tick(p, now_ms, now_wall_ms);
	p->st.l1 = p->n;
	if (!p->l2)
		return;
	if (++p->ticks % PHC_L2_SWEEP_TICKS == 0 &&
	    phc_store_walk(p->l2, phc_l2_drop, &w, &p->st.l2_bad) < 0)
		p->st.l2_errors++;
	p->st.expired += w.n;
	if (phc_store_commit(p->l2))
		p->st.l2_errors++;
	p->st.l2 = phc_store_count(p->l2);
}

uint32_t phc_invalidate_flow(struct phc *p, const struct flow_key *k)
{
	struct phc_slot *s = phc_find(p, k);

	if (s)
		phc_unlink(p, s);
	phc_l2_del(p, k);
	p->st.invalidated += s != NULL;
	return s != NULL;
}

/* Both levels, of one owner or (STEER_NODE_NONE) all. */
static uint32_t phc_invalidate(struct phc *p, uint16_t owner)
{
	struct phc_walk w = {.p = p, .owner = owner};
	uint32_t i, n = 0;

	for (i = 0; i < p->cfg.l1_max; i++)
		if (p->slot[i].live &&
		    (owner == 0xffff || p->slot[i].e.owner == owner)) {
			phc_unlink(p, &p->slot[i]);
			n++;
		}
	if (p->l2) {
		/* Gathered writes first, so the walk sees them. */
		phc_store_commit(p->l2);
		phc_store_walk(p->l2, phc_l2_drop, &w, &p->st.l2_bad);
		phc_store_commit(p->l2);
		p->st.l2 = phc_store_count(p->l2);
	}
	n = n > w.n ? n : w.n;
	p->st.invalidated += n;
	p->st.l1 = p->n;
	return n;
}

uint32_t phc_invalidate_owner(struct phc *p, uint16_t owner)
{
	return owner == 0xffff ? 0 : phc_invalidate(p, owner);
}

uint32_t phc_invalidate_all(struct phc *p)
{
	return phc_invalidate(p, 0xffff);
}

int phc_l1_get(const struct phc *p, const struct flow_key *k,
	       struct phc_entry *out)
{
	const struct phc_slot *s = phc_find(p, k);

	if (!s)
		return -ENOENT;
	*out = s->e;
	return 0;
}

const struct phc_stats *phc_stats(const struct phc *p)
{
	struct phc_stats *st = (struct phc_stats *)&p->st;
	uint32_t i;

	st->l1 = p->n;
	st->l1_rules = 0;
	for (i = 0; i < p->cfg.l1_max; i++)
		st->l1_rules += p->slot[i].live && p->slot[i].in_fp;
	return &p->st;
}

struct phc_warm {
	struct phc_entry *v;
	uint32_t n, cap;
	uint64_t now_wall_ms;
	uint16_t min;
};

static int phc_warm_take(const struct phc_entry *e, void *arg)
{
	struct phc_warm *w = arg;
	struct phc_entry *v;

	if (e->expires_ms <= w->now_wall_ms || e->p_permille < w->min)
		return 0;
	if (w->n == w->cap) {
		v = realloc(w->v, (w->cap ? w->cap * 2 : 256) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = w->cap ? w->cap * 2 : 256;
	}
	w->v[w->n++] = *e;
	return 0;
}

static int phc_by_p(const void *a, const void *b)
{
	const struct phc_entry *x = a, *y = b;

	return (int)y->p_permille - (int)x->p_permille;
}

/* L1 from L2: the likeliest unexpired entries, as many as fit. */
static int phc_warm(struct phc *p, uint64_t now_ms, uint64_t now_wall_ms)
{
	struct phc_warm w = {.now_wall_ms = now_wall_ms,
			     .min = p->cfg.l1_min_permille};
	uint32_t i;
	int rc = phc_store_walk(p->l2, phc_warm_take, &w, &p->st.l2_bad);

	if (rc) {
		free(w.v);
		return rc;
	}
	if (w.n)
		qsort(w.v, w.n, sizeof(*w.v), phc_by_p);
	for (i = 0; i < w.n && p->free != NIL; i++)
		phc_link(p, &w.v[i], now_ms);
	p->st.warmed = i;
	free(w.v);
	return 0;
}

static int phc_alloc(struct phc *p)
{
	uint32_t i;

	for (p->nb = 16; p->nb < p->cfg.l1_max; p->nb *= 2)
		;
	p->slot = calloc(p->cfg.l1_max, sizeof(*p->slot));
	p->head = malloc(p->nb * sizeof(*p->head));
	if (!p->slot || !p->head)
		return -ENOMEM;
	memset(p->head, 0xff, p->nb * sizeof(*p->head));
	for (i = 0; i < p->cfg.l1_max; i++)
		p->slot[i].next = i + 1 < p->cfg.l1_max ? i + 1 : NIL;
	p->free = 0;
	return 0;
}

struct phc *phc_open(const struct phc_config *cfg, const struct phc_ops *ops,
		     uint64_t now_ms, uint64_t now_wall_ms, char *err,
		     size_t errlen)
{
	struct phc *p;
	int rc;

	if (!cfg->l1_max || cfg->l1_max > (1u << 20) ||
	    cfg->l1_min_permille > 1000 || !ops->install || !ops->remove ||
	    !ops->stamp) {
		snprintf(err, errlen,
			 "cache: l1 1..%u entries, a mark in "
			 "0..1000 permille",
			 1u << 20);
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->cfg = *cfg;
	if (!p || phc_alloc(p)) {
		snprintf(err, errlen, "cache: out of memory");
		phc_close(p);
		errno = ENOMEM;
		return NULL;
	}
	p->ops = *ops;
	p->secret.k0 = 0x7068632d6c316b30ull;
	p->secret.k1 = 0x7068632d6c316b31ull;
	if (!cfg->dir[0])
		return p;
	p->l2 = phc_store_open(cfg->dir,
			       cfg->map_bytes ? cfg->map_bytes
					      : PHC_MAP_BYTES_DEFAULT,
			       err, errlen);
	rc = p->l2 ? phc_warm(p, now_ms, now_wall_ms) : -errno;
	if (rc) {
		if (p->l2)
			snprintf(err, errlen, "cache: %s: %s", cfg->dir,
				 strerror(-rc));
		phc_close(p);
		errno = -rc;
		return NULL;
	}
	p->st.l2 = phc_store_count(p->l2);
	return p;
}

void phc_close(struct phc *p)
{
	if (!p)
		return;
	if (p->l2) {
		phc_store_commit(p->l2);
		phc_store_close(p->l2);
	}
	free(p->slot);
	free(p->head);
	free(p);
}
