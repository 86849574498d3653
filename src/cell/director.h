/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mirroring director: the profile of a new flow (primary cell, mirror
 * cells, replication factor) from the shard map and a predictor.
 *
 * The shard map ranks the live cells of each shard by rendezvous hashing:
 * the first is the primary (the cell deciding, this one), the next ones
 * the shard's mirrors, which replication streams to and which take over
 * when the primary dies, the first mirror first. A predictor picks, per
 * flow, how many copies the flow's state gets (its rf, the primary
 * counted); the mirrors are the shard's next cells, as many as live. A
 * predictor that names other cells (where a flow is likely to move) needs
 * replication to stream beyond a shard's mirrors: not in this release.
 *
 * The predictor of this release is the configuration's: each service's
 * replication factor. A learned one plugs in through struct
 * director_predictor.
 */
#ifndef STEER_CELL_DIRECTOR_H
#define STEER_CELL_DIRECTOR_H

#include <stdint.h>

#include <steer/flow.h>
#include <steer/rule.h>

/* What a predictor sees of a new flow. */
struct director_flow {
	const struct flow_key *key;
	uint16_t service;	/* the fast path's service index */
	uint8_t rf_config;	/* the service's configured replication */
	const uint16_t *ranked; /* the shard's cells, primary first */
	uint32_t n_ranked;	/* live ones in ranked */
};

struct director_predictor {
	const char *name;
	/* The flow's replication factor; the director bounds it to
	 * 1 .. 1 + STEER_MAX_MIRRORS and to the live cells. */
	uint8_t (*choose)(void *ctx, const struct director_flow *f);
	void *ctx;
};

/* The configuration's predictor: the service's replication. */
extern const struct director_predictor director_config;

/*
 * The profile of flow f: primary = ranked[0] (STEER_NODE_NONE when none
 * is live), mirror[] the next ranked cells up to the predictor's rf (NULL
 * predictor: director_config), unused slots STEER_NODE_NONE, *rf = 1 +
 * the mirrors set. Holds steer_rule's invariant.
 */
void director_profile(const struct director_predictor *p,
		      const struct director_flow *f, uint16_t *primary,
		      uint16_t mirror[STEER_MAX_MIRRORS], uint8_t *rf);

#endif /* STEER_CELL_DIRECTOR_H */
