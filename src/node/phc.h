/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The predictive header cache (PHC) of a host-mode node: sessions of
 * other nodes that their owners hinted may soon arrive here (a drain,
 * an overload ahead), with the owner to send them to, so that their
 * first packets here go straight to the owner from a ready template
 * instead of through the session's home.
 *
 *   L1  in memory, and in the fast path as HINT rules (steer_flows; the
 *       template is the owner's node template, GUE with the hint flag):
 *       the likeliest sessions, at most l1_max
 *   L2  on disk (node/phc_store.h, LMDB): every hinted session, L1's
 *       included, so a restarted daemon warms L1 from it
 *
 * Placement by probability: a hint at or above l1_min_permille goes to
 * L1, below only to L2. L1 full: the entry with the lowest probability x
 * recency (1 / (1 + idle / 30 s), idle since its last hint or last packet)
 * gives way if the newcomer scores higher (it stays in L2), else the
 * newcomer stays in L2. A later hint with a higher probability promotes
 * an L2 entry; one below the mark demotes an L1 entry. Invalidation: a
 * hint withdrawn by its owner (probability 0: the session closed), the
 * hint's expiry, and the operator (a flow, an owner, everything). A hint
 * never replaces a rule a record gave (the install says -EEXIST and the
 * entry waits in L1 without a rule of its own); ownership comes only from
 * records, hints only pre-warm.
 */
#ifndef STEER_NODE_PHC_H
#define STEER_NODE_PHC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/phc_store.h"

#define PHC_L1_DEFAULT 16384
#define PHC_L1_MIN_DEFAULT 500 /* permille */
#define PHC_MAP_BYTES_DEFAULT (64u << 20)
#define PHC_RECENCY_MS 30000
#define PHC_L2_SWEEP_TICKS 10 /* L2's expiry: every 10th tick */

/* The fast path's half of L1 (host mode: the XDP program's flow maps). */
struct phc_ops {
	void *ctx;
	/* e's HINT rule in: 0, -EEXIST (a record's rule is there: left
	 * alone), or -errno. */
	int (*install)(void *ctx, const struct phc_entry *e);
	/* k's HINT rule out (a record's rule is never touched). */
	void (*remove)(void *ctx, const struct flow_key *k);
	/* The use stamp of k's rule (changes when packets meet it; 0:
	 * none). */
	uint32_t (*stamp)(void *ctx, const struct flow_key *k);
};

struct phc_config {
	char dir[PATH_MAX]; /* L2's LMDB directory; "": no L2 */
	uint32_t l1_max;    /* 1..1M */
	uint16_t l1_min_permille;
	size_t map_bytes; /* L2's map */
};

struct phc_stats {
	uint64_t l1, l1_rules; /* entries; of those, with a HINT rule */
	uint64_t l2;	       /* entries on disk */
	uint64_t hints, withdrawn;
	uint64_t join_hints;	      /* of hints, to this node as it joined */
	uint64_t l1_inserts, l2_only; /* where new hints went */
	uint64_t evicted;	      /* L1 -> L2 to make room */
	uint64_t demoted;	      /* L1 -> L2, probability fell */
	uint64_t expired, invalidated;
	uint64_t conflicts; /* a record's rule was there */
	uint64_t used;	    /* L1 entries a packet met (hits) */
	uint64_t warmed;    /* L1 entries from L2 at the start */
	uint64_t l2_errors, l2_bad;
};

struct phc;

/*
 * Open: L2 from cfg->dir (created) and L1 warmed from it (the likeliest
 * unexpired entries, installed). now_wall_ms: the wall clock; now_ms: a
 * monotonic one. NULL with errno and the reason in err.
 */
struct phc *phc_open(const struct phc_config *cfg, const struct phc_ops *ops,
		     uint64_t now_ms, uint64_t now_wall_ms, char *err,
		     size_t errlen);
/* Close L2 (what was gathered is committed first); L1's rules stay. */
void phc_close(struct phc *p);

/* A hint (p_permille 0: withdrawn). 0, or -EINVAL (expired already). */
int phc_hint(struct phc *p, const struct phc_entry *e, uint64_t now_ms,
	     uint64_t now_wall_ms);
/*
 * A hint to this node while it joins the ingress set: the same, but
 * placed in L1 whatever its probability (room permitting: the weakest
 * entry still gives way only to a stronger one), since the joiner takes
 * a share of every session and cannot tell which; it never lowers the
 * probability of an entry already held.
 */
int phc_hint_join(struct phc *p, const struct phc_entry *e, uint64_t now_ms,
		  uint64_t now_wall_ms);

/* Expiry, use stamps, L2's commit. Once a second. */
void phc_tick(struct phc *p, uint64_t now_ms, uint64_t now_wall_ms);
/* k's use stamp read now, before a record's rule takes the place of its
 * HINT rule (a taught record soon follows a hinted packet: the tick
 * would not see the hit). */
void phc_read_use(struct phc *p, const struct flow_key *k, uint64_t now_ms);

/* Invalidation: returns how many entries went (both levels). */
uint32_t phc_invalidate_flow(struct phc *p, const struct flow_key *k);
uint32_t phc_invalidate_owner(struct phc *p, uint16_t owner);
uint32_t phc_invalidate_all(struct phc *p);

/* L1's entry of k: 0 and *out, or -ENOENT. */
int phc_l1_get(const struct phc *p, const struct flow_key *k,
	       struct phc_entry *out);

const struct phc_stats *phc_stats(const struct phc *p);

#endif /* STEER_NODE_PHC_H */
