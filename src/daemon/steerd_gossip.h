/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's gossip node: the gossip module (src/gossip/) on real UDP
 * sockets and the daemon's event loop. This node's address and id come
 * from the cluster description, the seeds are every other node of it,
 * the key from cluster-key-file (gossip is always authenticated).
 *
 * One socket (gossip/gossip_net.h) bound to this node's address (IPv4
 * when it has one) and gossip-port; the node reaches the nodes that share
 * that family. Every datagram read goes to gossip_recv(); the node's
 * timers run on one evloop timer re-armed at gossip_next_deadline() after
 * anything that may have moved it.
 */
#ifndef STEER_STEERD_GOSSIP_H
#define STEER_STEERD_GOSSIP_H

#include <stdint.h>

#include "daemon/steerd_conf.h"
#include "core/cluster.h"
#include "gossip/gossip.h"
#include "gossip/gossip_net.h"
#include "util/evloop.h"

struct steerd_gossip;

/*
 * Start gossiping: open the sockets, create the node, join through the
 * other nodes. Returns NULL with errno set and the reason in err: EINVAL
 * without a cluster key (or a bad one), the errno of socket/bind, ENOMEM.
 */
struct steerd_gossip *
steerd_gossip_start(struct evloop *el, const struct cluster *c,
		    const struct steerd_conf *conf,
		    const struct steer_hash_secret *secret,
		    const struct gossip_events *ev, char *err, size_t errlen);

/*
 * Leave gracefully (the news goes out in the datagrams sent now), close
 * the sockets, free everything. NULL is fine.
 */
void steerd_gossip_stop(struct steerd_gossip *g);

/* Keep the replay windows in the state directory (every second, and at
 * a stop): a restart takes no datagram it took before. */
void steerd_gossip_save(struct steerd_gossip *g);

struct gossip *steerd_gossip_node(struct steerd_gossip *g);

/* After calling the node directly (announce, close, load): re-arm. */
void steerd_gossip_kick(struct steerd_gossip *g);

/* The socket's counters. */
const struct gossip_net_counters *
steerd_gossip_net_counters(const struct steerd_gossip *g);

/* "alive", "suspect", "dead", "left". */
const char *steerd_gossip_state_name(enum gossip_state s);

#endif /* STEER_STEERD_GOSSIP_H */
