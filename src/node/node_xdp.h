/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * This node's XDP program, as the cluster description configures it: the
 * same in host and cell mode (steer_cfg, steer_svcs).
 */
#ifndef STEER_NODE_XDP_H
#define STEER_NODE_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/hash.h>

#include "core/cluster.h"
#include "fastpath/fastpath.h"
#include "xdp/xdp_prog.h"

/*
 * steer_cfg from the cluster: this node's addresses and id, the flow-hash
 * secret, the cluster's MTU and GUE port, mode (STEER_XDP_MODE_*), and
 * in host mode whether ownership is a directory (steer_shards must hold
 * the homes, or none, before). 0 or -errno.
 */
int node_xdp_cfg(struct xdp_prog *x, const struct cluster *c,
		 const struct steer_hash_secret *secret, uint8_t mode);

/*
 * steer_svcs from c: with_backends, the services of cell mode (misses go
 * to cells); else the services the nodes terminate (host mode: UDP
 * sessions are found in XDP, and with a directory a service's packet of
 * an unknown session goes to its home). 0 or -errno.
 */
int node_xdp_svcs(struct xdp_prog *x, const struct cluster *c,
		  bool with_backends);

/*
 * Cell mode: the Maglev tables of fp's first n_svcs services (those of
 * the cluster with backends, in order: node_xdp_svcs() names their
 * rings) into steer_ring, for the flood guard's stateless path. Again
 * whenever their backends change. 0 or -errno.
 */
int node_xdp_rings(struct xdp_prog *x, const struct fastpath *fp,
		   uint32_t n_svcs);

#endif /* STEER_NODE_XDP_H */
