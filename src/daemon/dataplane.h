/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flows steerctl shows and changes are this node's data plane: the
 * XDP program's flow maps (steer_flows4/6) whenever a program runs, in
 * host and cell mode alike, so that what an operator sees and deletes is
 * what packets meet. Only a daemon without an XDP program (mode cell
 * without a cluster key; the unit tests) acts on its userspace fast path,
 * which then is the data plane of the packets it is given.
 */
#ifndef STEER_DAEMON_DATAPLANE_H
#define STEER_DAEMON_DATAPLANE_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/flow.h>
#include <steer/rule.h>

struct steerd;
struct xdp_prog;

/* One flow as the data plane holds it. */
struct dp_flow {
	struct flow_key key;
	uint8_t action;	  /* enum steer_action */
	uint16_t owner;	  /* owner node, or the flow's primary cell */
	uint16_t backend; /* BACKEND rules: the backend's id */
	uint16_t mirror[STEER_MAX_MIRRORS];
	uint8_t rf;
	uint32_t epoch;
	int64_t idle_ms;   /* since a packet last met it; -1: not kept */
	const char *state; /* the userspace fast path's; NULL for XDP's */
	bool has_counts;   /* packets and bytes (userspace only) */
	uint64_t packets, bytes;
};

/* This node's XDP program, or NULL when none runs. */
struct xdp_prog *dp_xdp_prog(struct steerd *d);

/* "xdp" or "userspace": where the flows below live. */
const char *dp_source(struct steerd *d);

/*
 * Flow k belongs to node owner since epoch: steered there (or LOCAL
 * when owner is this node). 0, -ENOENT (no template to owner in the
 * userspace fast path), -E2BIG (table full) or another -errno.
 */
int dp_flow_set(struct steerd *d, const struct flow_key *k, uint16_t owner,
		uint32_t epoch);

/*
 * Forget flow k on this node's data plane; in cell mode also the cell's
 * record of it (the close replicates to its mirrors) and every other
 * fast-path node's rule (RULE_DEL). 0, or -ENOENT when nothing held it.
 */
int dp_flow_del(struct steerd *d, const struct flow_key *k);

/* Flows held now and at most. */
uint64_t dp_flow_count(struct steerd *d);
uint64_t dp_flow_capacity(struct steerd *d);

/* Every flow, to fn until it returns non-zero (returned). */
int dp_flow_walk(struct steerd *d,
		 int (*fn)(const struct dp_flow *f, void *arg), void *arg);

#endif /* STEER_DAEMON_DATAPLANE_H */
