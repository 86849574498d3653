/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fast path for one node of a static cluster description: templates
 * from this node to every other node (GUE variant 0) and to every backend
 * (IPIP or GUE variant 1), the node set for ownership, the services.
 */
#ifndef STEER_FP_CLUSTER_H
#define STEER_FP_CLUSTER_H

#include <stddef.h>

#include <steer/hash.h>

#include "core/cluster.h"
#include "fastpath/fastpath.h"

/*
 * Build the fast path of c's self node with flow-hash secret s. Returns
 * NULL with errno set and a reason in err: EINVAL when this node declares
 * no MAC of its own, or shares no address family with a node or backend
 * it must reach; ENOMEM.
 */
struct fastpath *fp_cluster_build(const struct cluster *c,
				  const struct steer_hash_secret *s, char *err,
				  size_t errlen);

#endif /* STEER_FP_CLUSTER_H */
