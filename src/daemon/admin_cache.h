/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerctl cache: the predictive header cache of this node (node/phc.h)
 * and the hints it sent (daemon/hints.h), host mode.
 *
 *   cache                      objects "cache" (L1 and L2 sizes,
 *                              placements, evictions, expiry, hits: the
 *                              L1 entries a packet met and the packets
 *                              the fast path sent from cached templates)
 *                              and "hints" (the sender's side)
 *   cache invalidate all | node ID | PROTO SRC SPORT DST DPORT
 *                              entries forgotten on both levels, their
 *                              rules out of the fast path ("invalidated")
 */
#ifndef STEER_ADMIN_CACHE_H
#define STEER_ADMIN_CACHE_H

#include "daemon/jsonw.h"

struct steerd;

/* 0; -EINVAL for a usage error, -EOPNOTSUPP when this node keeps no
 * cache (not host mode); the reason in err. */
int admin_cache(struct steerd *d, int argc, char **argv, struct jsonw *w,
		char *err, size_t errlen);

#endif /* STEER_ADMIN_CACHE_H */
