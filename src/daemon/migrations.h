/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerctl migrations: this node's sessions with their migration scores
 * (predict/migrate.h), from its own forecast (daemon/node_fc.h), the
 * tracked sessions' telemetry (node/flow_tele.h) and the other nodes'
 * forecasts gossip carries. The high-water mark is steerd's high-water
 * (800 permille by default); drained is this node's drain state
 * (daemon/drain.h) and, for the targets, the other nodes' as their load
 * reports say.
 */
#ifndef STEER_DAEMON_MIGRATIONS_H
#define STEER_DAEMON_MIGRATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/jsonw.h"

#define MIGRATIONS_SHOWN 32 /* sessions listed, the likeliest first */

struct steerd;
struct migrate_node;

/* This node as the scores see it: its forecast (NODE_FC_PUBLISH_AHEAD),
 * steerd's high-water mark, its drain state. */
void migrations_self(struct steerd *d, struct migrate_node *node);

/* The node with the most forecast headroom; before any forecast, the
 * live undrained node whose load report says the least CPU
 * (STEER_NODE_NONE: none). */
uint16_t migrations_target(struct steerd *d);

/* The scores, the likeliest `shown` sessions listed. 0, or -ENOENT with
 * err set when there is no gossip or no forecast. */
int migrations_write(struct steerd *d, struct jsonw *w, uint32_t shown,
		     char *err, size_t errlen);

#endif /* STEER_DAEMON_MIGRATIONS_H */
