/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Programming the XDP fast path's maps: the configuration, one template
 * per node id, the flows (host mode: sessions announced by gossip), and
 * reading the per-CPU counters. Each call is one map operation, so the
 * program sees either the old or the new entry, never half of one.
 */
#ifndef STEER_XDP_MAPS_H
#define STEER_XDP_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "steer_kern_user.h"
#include "xdp/xdp_prog.h"

/*
 * Write the configuration; mtu 0 stops the program (everything passes).
 * -EINVAL for max_encap above STEER_MAX_ENCAP or an mtu below 68 (other
 * than 0), -errno of the kernel otherwise.
 */
int xdp_maps_cfg_set(struct xdp_prog *x, const struct steer_xdp_cfg *cfg);

/*
 * Template at index id: a node's id, or xdp_maps_tmpl_backend() of a
 * backend's. -EINVAL when its length does not match its kind and family,
 * -ERANGE when id is beyond the map.
 */
int xdp_maps_tmpl_set(struct xdp_prog *x, uint16_t id,
		      const struct steer_tmpl *t);
int xdp_maps_tmpl_del(struct xdp_prog *x, uint16_t id);

/*
 * Node owner owns flow k since epoch: LOCAL when owner is this node (the
 * configured self_id), else STEER with owner's template. The template
 * need not be there yet: until it is, the program drops the flow's
 * packets (counted as no-template), which TCP retransmits, rather than
 * passing them to a stack that would reset the connection. -EINVAL for
 * STEER_NODE_NONE, -E2BIG when the map is full, -errno of the kernel.
 */
int xdp_maps_flow_set(struct xdp_prog *x, const struct flow_key *k,
		      uint16_t owner, uint32_t epoch);

/* Flows the program's flow maps hold at most (IPv4's and IPv6's). */
uint64_t xdp_maps_flow_capacity(struct xdp_prog *x);

/* Forget flow k; -ENOENT if it was not there. */
int xdp_maps_flow_del(struct xdp_prog *x, const struct flow_key *k);

/*
 * Cell mode: flow k gets rule r as it is (a BACKEND rule names the
 * backend's template, xdp_maps_tmpl_backend()); its source port is
 * filled in here. -EINVAL for an action the program does not carry out.
 */
int xdp_maps_rule_set(struct xdp_prog *x, const struct flow_key *k,
		      const struct steer_rule *r);

/*
 * Host mode, the predictive header cache: flow k gets a HINT rule to
 * owner (GUE with the hint flag) unless it has another rule already
 * (-EEXIST: a record's rule is never replaced by a hint; a HINT rule
 * is). -EINVAL for
 * STEER_NODE_NONE or this node, -E2BIG when full, -errno.
 */
int xdp_maps_hint_set(struct xdp_prog *x, const struct flow_key *k,
		      uint16_t owner, uint32_t epoch);
/* Forget flow k's HINT rule: 0, -ENOENT (none), -EEXIST (its rule is not
 * a hint: left alone). */
int xdp_maps_hint_del(struct xdp_prog *x, const struct flow_key *k);

/* Flow k's rule as the program holds it: 0, -ENOENT or -errno. */
int xdp_maps_rule_get(struct xdp_prog *x, const struct flow_key *k,
		      struct steer_rule *r);

/*
 * Stamp flow k's rule with its telemetry slot (tele = slot + 1; 0: no
 * longer tracked), the rest of the rule as it is: 0, -ENOENT when the
 * flow has no rule, -errno. A rule written again later (xdp_maps_flow_set,
 * xdp_maps_rule_set) comes without the stamp; the telemetry round puts it
 * back (src/node/xdp_tele.h).
 */
int xdp_maps_rule_tele(struct xdp_prog *x, const struct flow_key *k,
		       uint32_t tele);

/* The template index of backend id (below STEER_XDP_MAX_TMPLS). */
static inline uint16_t xdp_maps_tmpl_backend(uint16_t id)
{
	return (uint16_t)(STEER_TMPL_BACKEND + id);
}

/*
 * Cell mode: ring `ring` (< STEER_XDP_RING_SVCS) of steer_ring, the
 * backend of each of the STEER_RING_SIZE slots of a service's Maglev
 * table t (STEER_NODE_NONE: none; t NULL: a ring of none), as the flood
 * guard's stateless path reads it. 0, -EINVAL (a table of another size)
 * or -errno.
 */
int xdp_maps_ring_set(struct xdp_prog *x, uint32_t ring, const uint16_t *t,
		      uint32_t size);

/*
 * Cell mode: the cells of every shard, sh[0 .. STEER_SHARDS-1], primary
 * and first mirror (STEER_NODE_NONE: none). 0 or -errno.
 */
int xdp_maps_shards_set(struct xdp_prog *x, const struct steer_shard *sh);
/* One shard's entry; 0 or -errno. */
int xdp_maps_shard_get(struct xdp_prog *x, uint32_t shard,
		       struct steer_shard *out);

/*
 * Cell mode: the daemon lives (steer_cfg.alive_ns = now). Call at least
 * every STEER_ALIVE_NS / 5. 0 or -errno.
 */
int xdp_maps_alive(struct xdp_prog *x);

/*
 * The services of steer_svcs become keys[0..n-1] with flags[i] (NULL:
 * STEER_SVC_F_PRESENT for all): each is written first, then the entries
 * not among them are deleted, so a service that stays is never missing
 * in between. 0 or -errno (-E2BIG past STEER_XDP_MAX_SVCS).
 */
int xdp_maps_svc_set(struct xdp_prog *x, const struct steer_svc_key *keys,
		     const __u32 *flags, size_t n);

/*
 * Walks. fn returns 0 to go on, anything else stops the walk and is
 * returned. fn may delete the entry it is given. A walk of a map that
 * changes meanwhile sees every entry present throughout at least once.
 */
typedef int (*xdp_maps_flow_fn)(const struct flow_key *k,
				const struct steer_rule *r, void *arg);
typedef int (*xdp_maps_udp_fn)(const struct flow_key *k,
			       const struct steer_udp_seen *v, void *arg);
int xdp_maps_flow_foreach(struct xdp_prog *x, xdp_maps_flow_fn fn, void *arg);
int xdp_maps_udp_foreach(struct xdp_prog *x, xdp_maps_udp_fn fn, void *arg);

/* The flow tables' size (entries each) and the rules they hold, IPv4 and
 * IPv6 (batched reads: a scan of the tables, not for every packet's
 * sake). 0 or -errno. */
struct xdp_maps_occupancy {
	uint32_t size;
	uint64_t flows4, flows6;
};
int xdp_maps_occupancy(struct xdp_prog *x, struct xdp_maps_occupancy *o);

/* Forget UDP session k of this node; -ENOENT if it was not there. */
int xdp_maps_udp_del(struct xdp_prog *x, const struct flow_key *k);
/* A UDP session this node took over (its owner moved it here): 0,
 * -EEXIST, -errno. */
int xdp_maps_udp_add(struct xdp_prog *x, const struct flow_key *k);

/* Counters summed over the CPUs; 0 or -errno. */
int xdp_maps_stats_read(struct xdp_prog *x, struct steer_xdp_stats *sum);

/* Zero the counters of every CPU; 0 or -errno. */
int xdp_maps_stats_reset(struct xdp_prog *x);

#endif /* STEER_XDP_MAPS_H */
