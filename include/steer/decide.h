/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The fast path's decisions after parsing, written once for the XDP
 * program (bpf/steer_xdp.h) and its userspace twin
 * (src/fastpath/fastpath.c). Each side supplies what only it has (map
 * lookups, moving the frame's head, its counters) and asks these
 * functions what to do; tests/unit/xdp_test.c holds the two equal, byte
 * for byte and counter for counter.
 *
 *   the outermost tunnel      steer_tunnel_verdict(): keep it, strip it,
 *                             or pass it up whole (exception GUE to this
 *                             cell)
 *   a flow without a rule     steer_miss_to_cell(): a service's to the
 *                             shard's cell (cell mode), the rest to this
 *                             node's stack
 *   which cell                steer_shard_of(), steer_cell_pick()
 *   a rule's action           steer_rule_verdict()
 *   a closing flow            steer_close_candidate() and the service's
 *                             STEER_SVC_F_CLOSE_VIA_CELL
 *   encapsulation             steer_encap_plan(): template, MTU, hop
 *                             count, GUE flags and epoch, or why not
 *   a session nobody told     steer_dir_new_session(), steer_dir_target():
 *   this node of (directory)  a new session here, or to its home
 *   telemetry sampling        steer_tele_sampled(): which untracked
 *                             steered packet names its flow
 *   the flood guard           steer_bucket_take(), steer_guard_verdict():
 *                             a new flow within the budget, or sent on
 *                             without state, or dropped
 *
 * Every dropped packet is counted under one enum steer_drop reason, the
 * same index on both sides.
 */
#ifndef STEER_DECIDE_H
#define STEER_DECIDE_H

#include "gue.h"
#include "hash.h"
#include "parse.h"
#include "rule.h"
#include "tmpl.h"

/* Why the fast path dropped a packet (a counter index on both sides). */
enum steer_drop {
	STEER_DROP_NONE = 0,
	STEER_DROP_PARSE,	/* see the parse_err counters */
	STEER_DROP_HOPS,	/* steered too many times: a loop */
	STEER_DROP_MTU,		/* encapsulated packet above the fabric MTU */
	STEER_DROP_HEADROOM,	/* the frame's head could not be moved */
	STEER_DROP_NO_TMPL,	/* rule names a template that is not there */
	STEER_DROP_NO_BACKEND,	/* a service's new flow has no live cell or
				  backend */
	STEER_DROP_RULE,	/* the flow's rule says drop */
	STEER_DROP_DIR_UNKNOWN, /* directory: a session neither this node
				   nor its homes know (TCP retransmits) */
	STEER_DROP_FLOOD,	/* flood guard, policy drop: a SYN above the
				   new-flow budget */
	STEER_DROP__MAX
};

/*
 * What a miss means. HOST: a new session of this node's stack (pass).
 * CELL: a new flow of a service goes to its shard's primary cell, GUE
 * with the exception flag. BACKEND: only strip tunnels addressed here.
 */
enum steer_xdp_mode {
	STEER_XDP_MODE_HOST = 0,
	STEER_XDP_MODE_CELL = 1,
	STEER_XDP_MODE_BACKEND = 2,
};

/* Cell mode: a flow's shard is its flow hash & (STEER_SHARDS - 1). */
#define STEER_SHARDS 4096

/* Cell mode: the cells of a shard, primary first. */
struct steer_shard {
	__u16 cell[2]; /* primary, first mirror; STEER_NODE_NONE: none */
};

/*
 * steer_svcs' value (and the twin's service flags). CLOSE_VIA_CELL (cell
 * mode): a FIN or RST of a flow with a BACKEND rule goes to the flow's
 * cell, which sees the flow close and mirrors the packet, and the rule is
 * dropped, so the last packets of a closing flow pass through the cell.
 */
#define STEER_SVC_F_PRESENT 0x01
#define STEER_SVC_F_CLOSE_VIA_CELL 0x02

/*
 * Is the outermost IP destination, at data + m->l2_len, self4 (v4-mapped)
 * or self6? Bounds-checked for the verifier; 0 for anything malformed.
 */
static __always_inline int steer_outer_is_self(const void *data,
					       const void *data_end,
					       const struct pkt_meta *m,
					       const struct flow_addr *self4,
					       const struct flow_addr *self6)
{
	__u32 l2 = m->l2_len;

	if (l2 > sizeof(struct steer_ethhdr) +
			 STEER_MAX_VLANS * sizeof(struct steer_vlanhdr))
		return 0;
	if (m->outer_family == 4) {
		const struct steer_iphdr *ip =
			(const void *)((const __u8 *)data + l2);

		if ((const void *)(ip + 1) > data_end)
			return 0;
		return flow_addr_is_v4(self4) && ip->daddr == self4->w[3];
	} else {
		const struct steer_ipv6hdr *ip6 =
			(const void *)((const __u8 *)data + l2);
		const __u32 *d;

		if ((const void *)(ip6 + 1) > data_end)
			return 0;
		d = (const __u32 *)ip6->daddr;
		return d[0] == self6->w[0] && d[1] == self6->w[1] &&
		       d[2] == self6->w[2] && d[3] == self6->w[3];
	}
}

enum steer_tunnel {
	STEER_TUN_KEEP = 0,  /* no tunnel to this node: act on it as it is */
	STEER_TUN_STRIP,     /* strip the outermost tunnel, act on the inner */
	STEER_TUN_EXCEPTION, /* a miss sent to this cell: up to its steerd,
				whole */
};

/* m parsed without error; to_self: steer_outer_is_self() of it. */
static __always_inline enum steer_tunnel
steer_tunnel_verdict(const struct pkt_meta *m, int to_self)
{
	if (!m->depth || !to_self)
		return STEER_TUN_KEEP;
	if ((m->flags & PKT_F_STEER_PRIV) &&
	    (m->priv.flags & STEER_GUE_F_EXCEPTION))
		return STEER_TUN_EXCEPTION;
	return STEER_TUN_STRIP;
}

/*
 * Does a service's flow without a rule go to its shard's cell in this
 * mode (else to this node's stack)? Callers ask whether the flow is a
 * service's only when it does: that costs a lookup.
 */
static __always_inline int steer_miss_to_cell(__u8 mode)
{
	return mode == STEER_XDP_MODE_CELL;
}

static __always_inline __u32 steer_shard_of(__u64 flow_hash)
{
	return (__u32)flow_hash & (STEER_SHARDS - 1);
}

/*
 * The cell a shard's miss goes to: its primary, or its first mirror when
 * the primary is this node and this node's daemon is gone (self_gone;
 * callers test that only when sh->cell[0] == self_id, it costs a socket
 * lookup). STEER_NODE_NONE: no cell.
 */
static __always_inline __u16 steer_cell_pick(const struct steer_shard *sh,
					     __u16 self_id, int self_gone)
{
	if (sh->cell[0] == self_id && self_gone)
		return sh->cell[1];
	return sh->cell[0];
}

/* The rule a miss travels by to cell, hash being the flow's hash. */
static __always_inline void steer_exception_rule(struct steer_rule *r,
						 __u16 cell, __u64 flow_hash)
{
	r->owner = cell;
	r->action = STEER_ACT_EXCEPTION;
	r->sport = flow_hash_sport(flow_hash);
}

/*
 * Might this packet of a flow with a BACKEND rule go to its cell instead
 * (a TCP FIN or RST, cell mode)? The service's flags decide.
 */
static __always_inline int steer_close_candidate(__u8 mode,
						 const struct pkt_meta *m)
{
	return mode == STEER_XDP_MODE_CELL &&
	       m->key.proto == STEER_IPPROTO_TCP &&
	       (m->tcp_flags & (STEER_TCP_FIN | STEER_TCP_RST));
}

enum steer_rule_verdict {
	STEER_RV_PASS = 0, /* LOCAL: this node's stack */
	STEER_RV_ENCAP,	   /* STEER, BACKEND: the rule's template */
	STEER_RV_DROP,	   /* anything else: STEER_DROP_RULE */
};

static __always_inline enum steer_rule_verdict steer_rule_verdict(__u8 act)
{
	if (act == STEER_ACT_LOCAL)
		return STEER_RV_PASS;
	if (act == STEER_ACT_STEER || act == STEER_ACT_BACKEND ||
	    act == STEER_ACT_HINT)
		return STEER_RV_ENCAP;
	return STEER_RV_DROP;
}

/* A TCP SYN without ACK: certainly a new connection. */
static __always_inline int steer_is_syn(const struct pkt_meta *m)
{
	return m->key.proto == STEER_IPPROTO_TCP &&
	       (m->tcp_flags & (STEER_TCP_SYN | STEER_TCP_ACK)) ==
		       STEER_TCP_SYN;
}

/*
 * Host mode with a directory (steer_xdp_cfg.dir): a packet of a service's
 * flow that no rule covers and that is no session of this node (no
 * socket, no UDP session held). Is it a new session of this node? A TCP
 * SYN without ACK is; a UDP flow is decided by its home.
 */
static __always_inline int steer_dir_new_session(const struct pkt_meta *m)
{
	return steer_is_syn(m);
}

/*
 * Where such a packet goes, sh being its shard's first two homes
 * (steer_shards) and origin the node that sent it here (steer's GUE
 * private data; STEER_NODE_NONE when it came from elsewhere). self_id:
 * this node takes it (a UDP session new here, or no directory yet);
 * another node: re-routed there, GUE with the steered flag; that node
 * steers it on to the owner by the rule it holds; STEER_NODE_NONE:
 * nobody knows it, dropped (STEER_DROP_DIR_UNKNOWN).
 *   - a node that is not a home: to the first home (a packet that came
 *     by a stale rule or hint too);
 *   - a UDP flow at its first home, or sent there by the first home:
 *     new here (the first home claims a UDP flow nobody holds);
 *   - otherwise, at a home: to the other home (the record may still be
 *     on its way to this one), unless that is where it came from.
 */
static __always_inline __u16 steer_dir_target(const struct pkt_meta *m,
					      const struct steer_shard *sh,
					      __u16 self_id)
{
	__u16 origin = (m->flags & PKT_F_STEER_PRIV)
			       ? steer_ntohs(m->priv.origin)
			       : STEER_NODE_NONE;
	__u16 first = sh->cell[0], second = sh->cell[1], other;
	int udp = m->key.proto == STEER_IPPROTO_UDP;

	if (first == STEER_NODE_NONE)
		return self_id;
	if (self_id != first && self_id != second)
		return first;
	if (udp && (self_id == first || origin == first))
		return self_id;
	other = self_id == first ? second : first;
	if (other == STEER_NODE_NONE || other == origin)
		return udp ? self_id : STEER_NODE_NONE;
	return other;
}

/*
 * A packet an ingress sent from its header cache (GUE with the hint
 * flag) reached this node: the ingress, origin, is taught the record (by
 * the owner, or by a home that knows it), so a record's rule replaces
 * the hint before the hint runs out. Not when it came from this node.
 */
static __always_inline int steer_hint_teach(const struct pkt_meta *m,
					    __u16 self_id)
{
	__u16 origin = steer_ntohs(m->priv.origin);

	return (m->flags & PKT_F_STEER_PRIV) &&
	       (m->priv.flags & STEER_GUE_F_HINT) && origin != self_id &&
	       origin != STEER_NODE_NONE;
}

/*
 * A packet re-routed to this node (a home) met a STEER rule: does the
 * node that re-routed it, origin, get taught the record? Yes unless it
 * is the owner or this node.
 */
static __always_inline int steer_dir_teach(const struct pkt_meta *m,
					   __u16 owner, __u16 self_id)
{
	__u16 origin = steer_ntohs(m->priv.origin);

	return (m->flags & PKT_F_STEER_PRIV) &&
	       (m->priv.flags & STEER_GUE_F_STEERED) && origin != owner &&
	       origin != self_id && origin != STEER_NODE_NONE;
}

/*
 * A steered packet of an untracked rule was sent on: the caller ticks the
 * sampling clock (per CPU in XDP) and asks about the new tick; 1 in STEER_TELE_SAMPLE names its flow as a
 * candidate for detailed telemetry (steer_kern_user.h, steer_ftele).
 */
#define STEER_TELE_SAMPLE 64 /* a power of two */
static __always_inline int steer_tele_sampled(__u64 tick)
{
	return !(tick & (STEER_TELE_SAMPLE - 1));
}

/*
 * The flood guard. Every miss that may make a flow's state somewhere (in
 * cell mode a service's miss, which the cell decides; in host mode a
 * SYN to a service, a UDP session's first packet, and with a directory
 * a home's question about a session it does not know) takes a token from
 * a bucket of this CPU, and, when sources are limited too, from its
 * source's bucket on this CPU (an IPv4 address, an IPv6 /64). A bucket
 * refills at one flow per cost_ns up to cap_ns (the burst): credit is
 * kept as time, so the per-packet work is an add, a compare and a
 * subtract, no division. Above the budget, the policy says:
 *   STATELESS  the packet goes on, but nothing is created for its flow:
 *              in cell mode the cell forwards it to the backend its hash
 *              picks (the one a new flow would get) and keeps no state
 *              unless it already holds the flow (GUE flag GUARDED); in
 *              host mode no UDP session is recorded (a later packet
 *              within the budget records it) and a home asks nobody.
 *   DROP       what is certainly a new flow (a TCP SYN without ACK) is
 *              dropped (STEER_DROP_FLOOD); the rest goes as STATELESS,
 *              since it may belong to a live flow this node has no rule
 *              for yet.
 * Established flows with a rule never reach the guard.
 */
enum steer_guard_policy {
	STEER_GUARD_OFF = 0,
	STEER_GUARD_STATELESS = 1,
	STEER_GUARD_DROP = 2,
};

struct steer_bucket {
	__u64 credit_ns; /* time banked: one flow per cost_ns */
	__u64 last_ns;	 /* the clock at the last take */
};

/*
 * Take one flow from b at now, refilled at one per cost_ns up to cap_ns.
 * 1: within the budget. A fresh (zero) bucket starts full.
 */
static __always_inline int steer_bucket_take(struct steer_bucket *b, __u64 now,
					     __u64 cost_ns, __u64 cap_ns)
{
	__u64 credit = b->credit_ns;

	if (now > b->last_ns) {
		credit += now - b->last_ns;
		b->last_ns = now;
	}
	if (credit > cap_ns)
		credit = cap_ns;
	if (credit < cost_ns) {
		b->credit_ns = credit;
		return 0;
	}
	b->credit_ns = credit - cost_ns;
	return 1;
}

enum steer_guard_verdict {
	STEER_GV_PASS = 0,  /* within the budget (or no guard) */
	STEER_GV_STATELESS, /* on, but no state made for it */
	STEER_GV_DROP,	    /* STEER_DROP_FLOOD */
};

/* A miss over the budget under policy. */
static __always_inline enum steer_guard_verdict
steer_guard_verdict(__u8 policy, const struct pkt_meta *m)
{
	return policy == STEER_GUARD_DROP && steer_is_syn(m)
		       ? STEER_GV_DROP
		       : STEER_GV_STATELESS;
}

/*
 * Cell mode: a flow's backend from the packed entry of its slot
 * (flow_hash_slot()) in a service's ring, the cells' Maglev table
 * (STEER_NODE_NONE: none, the cell picks).
 */
static __always_inline __u16 steer_ring_backend(__u64 word, __u32 slot)
{
	__u16 v = (__u16)(word >> (16 * (slot & 3)));

	return v ? (__u16)(v - 1) : STEER_NODE_NONE;
}

/* A source's bucket key: an IPv4 address, an IPv6 address's /64. */
static __always_inline void steer_guard_src_of(struct flow_addr *out,
					       const struct flow_key *k)
{
	*out = k->src;
	if (!flow_key_is_v4(k))
		out->w[2] = out->w[3] = 0;
}

/*
 * Encapsulation of m by rule act (STEER, HINT, BACKEND or EXCEPTION) with
 * template t (NULL: none): 0 with a's hop count, GUE flags and epoch set
 * (a->sport is the caller's), or the enum steer_drop reason. The whole
 * outermost IP packet travels, a transit tunnel included.
 */
static __always_inline int steer_encap_plan(const struct pkt_meta *m,
					    const struct steer_tmpl *t,
					    __u32 mtu, __u8 act, __u32 epoch,
					    struct steer_tmpl_args *a)
{
	__u32 ilen = m->outer_l3_end - m->l2_len;

	if (!t || !t->len || steer_tmpl_len(t->kind, t->family) != t->len)
		return STEER_DROP_NO_TMPL;
	if (t->len - sizeof(struct steer_ethhdr) + ilen > mtu)
		return STEER_DROP_MTU;
	if (act == STEER_ACT_STEER || act == STEER_ACT_EXCEPTION ||
	    act == STEER_ACT_HINT) {
		a->hops = (m->flags & PKT_F_STEER_PRIV) ? m->priv.hops + 1 : 1;
		if (a->hops > STEER_MAX_HOPS)
			return STEER_DROP_HOPS;
		a->flags = act == STEER_ACT_STEER ? STEER_GUE_F_STEERED
			   : act == STEER_ACT_HINT
				   ? STEER_GUE_F_STEERED | STEER_GUE_F_HINT
				   : STEER_GUE_F_EXCEPTION;
		a->epoch = steer_htonl(epoch);
	}
	return STEER_DROP_NONE;
}

/* After encapsulation: does the packet go up this node's own stack (an
 * exception whose cell is this node) rather than out? */
static __always_inline int steer_encap_is_local(__u8 act, __u16 owner,
						__u16 self_id)
{
	return act == STEER_ACT_EXCEPTION && owner == self_id;
}

#endif /* STEER_DECIDE_H */
