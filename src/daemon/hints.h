/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Migration hints, the owner's half (host mode; the receivers' half is
 * the predictive header cache, node/phc.h). Each second, and at once when
 * this node is drained, its sessions are scored (predict/migrate.h: this
 * node's forecast against the high-water mark and its drain state for
 * every session; a tracked session's RTT trend and share on top), and a
 * session scoring at or above the hint threshold is hinted to the nodes
 * likely to receive its packets next: the live members that are not
 * drained, this one excepted (which of them ECMP will pick is not
 * known). Below the threshold nothing is sent at all.
 *
 * A hint lives hint-ttl seconds at its receivers; it is sent again
 * halfway through while the score holds, or at once when the score rose
 * by a tenth, with 1 + floor(2p) copies (a likelier move is worth more
 * datagrams: one lost costs less). A hinted session that closes is
 * withdrawn (probability 0) so no receiver keeps a stale template.
 *
 * A node joining the ingress set (drained, GOSSIP_LOAD_F_JOINING: its
 * warm-up, daemon/drain.h) is hinted every session of this node once,
 * whatever its score, flagged GOSSIP_HINT_F_JOIN with the joiner's share
 * of the ingress as probability: once in, it takes that share of every
 * node's sessions and nobody can tell which (the ECMP hash is the
 * router's). That costs one hint per session and joiner, once per join;
 * the records are forgotten when no node joins any more.
 */
#ifndef STEER_DAEMON_HINTS_H
#define STEER_DAEMON_HINTS_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/flow.h>

struct steerd;

struct hints_stats {
	uint64_t rounds;    /* scoring rounds */
	uint64_t scored;    /* sessions scored, all rounds */
	uint64_t hinted;    /* sessions hinted (first time) */
	uint64_t sent;	    /* hint sends (one per receiver, copies aside) */
	uint64_t withdrawn; /* closes told */
	uint32_t held;	    /* sessions hinted now */
	uint32_t receivers; /* in the last round */
	uint32_t joiners;   /* nodes joining, in the last round */
	uint64_t join_sent; /* hints to joiners (one per session each) */
	uint32_t join_held; /* sessions hinted to the joiners now */
};

struct hints;

struct hints *hints_new(void);
void hints_free(struct hints *hs);

/* A scoring round (steerd's forecast tick; at once on a drain). */
void hints_tick(struct hints *hs, struct steerd *d);
/* A session of this node closed: withdrawn if it was hinted. */
void hints_closed(struct hints *hs, struct steerd *d, const struct flow_key *k);

const struct hints_stats *hints_stats(const struct hints *hs);

#endif /* STEER_DAEMON_HINTS_H */
