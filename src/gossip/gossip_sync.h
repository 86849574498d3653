/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Anti-entropy: every sync interval a push-pull of the full state
 * (members, load reports, sessions) with one random member, so updates
 * that gossip missed (loss, partitions, an exhausted retransmit budget)
 * are repaired. It uses the gossip datagrams themselves: the state is
 * cut into SYNC datagrams of whole updates, each of which merges on its
 * own, so no reassembly, connection or extra port is needed, and a lost
 * datagram only delays part of the repair to the next round. Sometimes
 * the peer is a member we hold dead: if it is alive after all (a healed
 * partition), it learns of its death and refutes it.
 */
#ifndef STEER_GOSSIP_SYNC_H
#define STEER_GOSSIP_SYNC_H

#include <stdbool.h>

#include "gossip/gossip_codec.h"

struct gossip;

/* Push our state to `to`; with pull, ask for its state in return. */
void gossip_sync_push(struct gossip *g, const struct gossip_addr *to,
		      bool pull);
void gossip_sync_tick(struct gossip *g);
void gossip_sync_on_sync(struct gossip *g, const struct gossip_msg *m,
			 const struct gossip_addr *from);

#endif /* STEER_GOSSIP_SYNC_H */
