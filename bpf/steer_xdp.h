/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * steer's XDP fast path: the kernel side of src/fastpath/fastpath.c
 * (FP_MODE_HOST, FP_MODE_CELL_NODE). The decisions after parsing are
 * include/steer/decide.h's, shared with that twin; this file holds what
 * only the kernel has: maps, moving the frame's head, the daemon check.
 *
 *   parse -> outermost tunnel (GUE0, GUE1, IPIP) addressed to this node?
 *            strip it, keep the sender's hop count, parse the inner packet
 *         -> steer_flows4 / steer_flows[inner flow] (IPv4 / IPv6)
 *            miss or LOCAL: XDP_PASS (host mode: the stack holds the
 *                           socket); cell mode, a service's flow: GUE
 *                           with the exception flag to the primary cell
 *                           of its shard (steer_shards); host mode with
 *                           a directory, a service's packet of a session
 *                           this node does not hold: GUE to its home
 *                           (steer_shards), which steers it to the owner
 *                           and has the daemon teach this node the rule
 *            GUE to this node with the exception flag: XDP_PASS whole
 *            STEER/BACKEND: template steer_tmpls[rule.tmpl] written in
 *                           front of the inner IP packet; hop count + 1,
 *                           dropped past STEER_MAX_HOPS or above the MTU;
 *                           XDP_TX, or a redirect to cfg.tx_ifindex
 *            anything else: XDP_DROP
 *
 * Every packet bumps rx_* and exactly one outcome counter of steer_stats,
 * with the indices the userspace twin uses (steer_kern_user.h).
 *
 * A UDP packet that misses steer_flows and is addressed to a service of
 * steer_svcs is a session of this node's stack: its first packet puts it
 * in steer_udp and tells the daemon through steer_events, later ones
 * refresh its last-seen time in place (the daemon expires idle ones).
 * TCP sessions are reported by the sock_ops program instead.
 *
 * A steered packet sent on feeds its flow's telemetry slot
 * (steer_ftele[rule.tele - 1]) when the daemon tracks the flow; else 1 in
 * STEER_TELE_SAMPLE per CPU names the flow in steer_tele_cand, from which
 * the daemon picks the flows it tracks (src/node/xdp_tele.h).
 */
#ifndef STEER_XDP_H
#define STEER_XDP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <steer/decap.h>
#include <steer/decide.h>
#include <steer/hash.h>
#include <steer/parse.h>
#include <steer/rule.h>
#include <steer/tmpl.h>

#include "steer_kern_user.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_xdp_cfg);
} steer_cfg SEC(".maps");

/* Managed by the daemon alone: a plain hash, never evicted behind its back. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_XDP_MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct steer_rule);
} steer_flows SEC(".maps");

/* IPv4 flows, keyed shorter (steer_kern_user.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_XDP_MAX_FLOWS);
	__type(key, struct steer_flow4_key);
	__type(value, struct steer_rule);
} steer_flows4 SEC(".maps");

/* Cell mode: the cells of each shard, primary first. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_SHARDS);
	__type(key, __u32);
	__type(value, struct steer_shard);
} steer_shards SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_XDP_MAX_SVCS);
	__type(key, struct steer_svc_key);
	__type(value, __u32);
} steer_svcs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STEER_XDP_MAX_UDP);
	__type(key, struct flow_key);
	__type(value, struct steer_udp_seen);
} steer_udp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STEER_XDP_EVENTS_BYTES);
} steer_events SEC(".maps");

/* Directory: when each flow was last reported for teaching (ktime). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STEER_XDP_MAX_TAUGHT);
	__type(key, struct flow_key);
	__type(value, __u64);
} steer_taught SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_XDP_MAX_TMPLS);
	__type(key, __u32);
	__type(value, struct steer_tmpl);
} steer_tmpls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_xdp_stats);
} steer_stats SEC(".maps");

/* Telemetry of the steered flows the daemon tracks (rule.tele - 1). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_XDP_TELE_SLOTS);
	__type(key, __u32);
	__type(value, struct steer_flow_tele);
} steer_ftele SEC(".maps");

/* Untracked steered flows sampled since the daemon's last round. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, STEER_XDP_TELE_CANDS);
	__type(key, struct flow_key);
	__type(value, __u32);
} steer_tele_cand SEC(".maps");

/* Cell mode: each service's Maglev table, packed (steer_kern_user.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STEER_XDP_RING_SVCS *STEER_RING_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} steer_ring SEC(".maps");

/* The flood guard's budgets (decide.h): this CPU's, and each source's on
 * this CPU (an IPv4 address, an IPv6 /64). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_bucket);
} steer_guard SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, STEER_XDP_GUARD_SRCS);
	__type(key, struct flow_addr);
	__type(value, struct steer_bucket);
} steer_guard_src SEC(".maps");

/*
 * Set before load: 0 leaves the flow telemetry out of the program (the
 * verifier drops the dead code), which is how steer-xdp-bench times the
 * path without it.
 */
const volatile __u32 steer_tele_on = 1;

/* xdp_classify()'s answer for exception GUE addressed to this cell. */
#define XDP_CLASS_EXCEPTION 2

/* What survives the decapsulation of the outermost tunnel. */
struct xdp_state {
	struct pkt_meta m;
	struct parse_cfg pcfg;
};

static __always_inline int xdp_drop(struct steer_xdp_stats *st, __u32 why)
{
	if (why < STEER_DROP__MAX)
		st->drop[why]++;
	return XDP_DROP;
}

/*
 * The flood guard on a miss that may make a flow's state: a token from
 * this CPU's budget, then from its source's (a source seen first starts
 * with a full bucket). STEER_GV_PASS, or what the policy does above it.
 * The coarse clock (a few ms) is enough for a budget per second. A
 * subprogram of its own, so its locals are not the caller's stack.
 */
static __noinline int xdp_guard(const struct steer_xdp_cfg *cfg,
				struct steer_xdp_stats *st,
				const struct pkt_meta *m)
{
	struct steer_bucket *b, fresh = {};
	struct flow_addr src;
	__u32 zero = 0;
	__u64 now;
	int v;

	if (cfg->guard == STEER_GUARD_OFF)
		return STEER_GV_PASS;
	b = bpf_map_lookup_elem(&steer_guard, &zero);
	if (!b)
		return STEER_GV_PASS;
	now = bpf_ktime_get_coarse_ns();
	if (!steer_bucket_take(b, now, cfg->guard_cost_ns, cfg->guard_cap_ns)) {
		st->guard_over++;
		goto over;
	}
	if (!cfg->guard_src_cost_ns)
		return STEER_GV_PASS;
	steer_guard_src_of(&src, &m->key);
	b = bpf_map_lookup_elem(&steer_guard_src, &src);
	if (!b) {
		steer_bucket_take(&fresh, now, cfg->guard_src_cost_ns,
				  cfg->guard_src_cap_ns);
		bpf_map_update_elem(&steer_guard_src, &src, &fresh, BPF_ANY);
		return STEER_GV_PASS;
	}
	if (steer_bucket_take(b, now, cfg->guard_src_cost_ns,
			      cfg->guard_src_cap_ns))
		return STEER_GV_PASS;
	st->guard_src_over++;
over:
	v = steer_guard_verdict(cfg->guard, m);
	if (v == STEER_GV_STATELESS)
		st->guard_stateless++;
	return v;
}

/*
 * One IP layer, as a global subprogram: the verifier checks a global
 * function once, on its own, with unknown arguments, instead of once per
 * path through the layers before it. The cursor carries plain offsets,
 * which parse_layer() bounds again.
 */
__noinline int xdp_parse_layer(struct xdp_md *ctx, const struct parse_cfg *pc,
			       struct pkt_meta *m, struct parse_cursor *c)
{
	if (!ctx || !pc || !m || !c) /* a global function's contract */
		return -PERR_BAD_IP;
	return parse_layer((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			   pc, m, c);
}

/* parse_packet() of parse.h, layer by layer through the global function. */
static __always_inline int
xdp_parse(struct xdp_md *ctx, const struct parse_cfg *pc, struct pkt_meta *m)
{
	struct parse_cursor c;
	int d, rc;

	if (!parse_fast((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			pc, m))
		return 0;
	rc = parse_begin((void *)(long)ctx->data, (void *)(long)ctx->data_end,
			 m, &c);
	if (rc)
		return rc;
	for (d = 0; d <= STEER_MAX_ENCAP; d++) {
		rc = xdp_parse_layer(ctx, pc, m, &c);
		if (rc <= 0)
			return rc;
	}
	return -PERR_ENCAP_DEPTH;
}

/* Cut the frame to len bytes (Ethernet padding). 0 or -1. */
static __always_inline int xdp_trim(struct xdp_md *ctx, __u32 len)
{
	__u32 have = ctx->data_end - ctx->data;

	if (have <= len)
		return 0;
	return bpf_xdp_adjust_tail(ctx, -(int)(have - len)) ? -1 : 0;
}

/*
 * Strip the outermost tunnel when it is addressed to this node and parse
 * what was inside. Returns the parse result of the packet to act on.
 */
static __always_inline int xdp_classify(struct xdp_md *ctx,
					const struct steer_xdp_cfg *cfg,
					struct steer_xdp_stats *st,
					struct xdp_state *s)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct steer_gue_priv priv;
	__u8 had_priv;
	int rc, strip;

	rc = xdp_parse(ctx, &s->pcfg, &s->m);
	if (rc != 0 || !s->m.depth)
		return rc;
	switch (steer_tunnel_verdict(&s->m,
				     steer_outer_is_self(data, data_end, &s->m,
							 &cfg->self_addr,
							 &cfg->self_addr6))) {
	case STEER_TUN_KEEP:
		return rc;
	case STEER_TUN_EXCEPTION: /* its steerd reads it whole */
		return XDP_CLASS_EXCEPTION;
	default:
		break;
	}
	strip = steer_decap_prepare(data, data_end, &s->m);
	if (strip <= 0)
		return rc;
	priv = s->m.priv;
	had_priv = s->m.flags & PKT_F_STEER_PRIV;
	if (xdp_trim(ctx, s->m.outer_l3_end) || bpf_xdp_adjust_head(ctx, strip))
		return -PERR__MAX; /* cannot happen: the packet shrinks */
	st->decap++;
	if (!steer_decap_meta(&s->m, (__u32)strip))
		return 0;
	rc = xdp_parse(ctx, &s->pcfg, &s->m);
	/* Keep what the sender told us about this packet. */
	s->m.priv = priv;
	s->m.flags |= had_priv;
	return rc;
}

/*
 * Write template t at the frame's head, in front of the inner IP packet:
 * frames of at least STEER_TMPL_MAX bytes directly, shorter ones through
 * a stack buffer (the verifier needs a constant bound on the writes). The
 * buffer copy starts STEER_FRAME_ALIGN_OFF past an 8-byte boundary, as a
 * frame does, so the template's IP fields are aligned on the stack too.
 */
static __always_inline int xdp_tmpl_write(struct xdp_md *ctx,
					  const struct steer_tmpl *t,
					  __u32 tlen, __u32 ilen, __u8 family,
					  const struct steer_tmpl_args *a)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 buf[STEER_TMPL_MAX + 8] __attribute__((aligned(8)));
	__u8 *out = buf + STEER_FRAME_ALIGN_OFF;

	if (data + STEER_TMPL_MAX <= data_end) /* room for any template */
		return steer_tmpl_apply_copy(data, t, ilen, family, a, 1);
	if (tlen > STEER_TMPL_MAX || steer_tmpl_apply(out, t, ilen, family, a))
		return -1;
	return bpf_xdp_store_bytes(ctx, 0, out, tlen) ? -1 : 0;
}

/* STEER, BACKEND, EXCEPTION: encapsulate with the rule's template
 * (steer_encap_plan()), GUE flags gflags added, and send. */
static __always_inline int
xdp_encap(struct xdp_md *ctx, const struct steer_xdp_cfg *cfg,
	  struct steer_xdp_stats *st, const struct pkt_meta *m,
	  const struct steer_rule *rule, __u8 act, __u8 gflags)
{
	struct steer_tmpl_args a = {};
	__u32 key = rule->tmpl, tlen;
	__u32 ilen = m->outer_l3_end - m->l2_len;
	struct steer_tmpl *t;
	int why;

	t = bpf_map_lookup_elem(&steer_tmpls, &key);
	why = steer_encap_plan(m, t, cfg->mtu, act, rule->epoch, &a);
	if (why || !t)
		return xdp_drop(st, why ? why : STEER_DROP_NO_TMPL);
	a.flags |= gflags;
	tlen = t->len;
	/* Stored with the rule by the daemon: the hash is not per packet. */
	a.sport = rule->sport
			  ? rule->sport
			  : flow_hash_sport(flow_hash(&m->key, &cfg->secret));
	if (xdp_trim(ctx, m->outer_l3_end) ||
	    bpf_xdp_adjust_head(ctx, (int)m->l2_len - (int)tlen))
		return xdp_drop(st, STEER_DROP_HEADROOM);
	if (xdp_tmpl_write(ctx, t, tlen, ilen, m->outer_family, &a))
		return xdp_drop(st, STEER_DROP_NO_TMPL);
	st->action[act]++;
	if (steer_encap_is_local(act, rule->owner, cfg->self_id))
		return XDP_PASS; /* this node is the flow's cell */
	st->tx_bytes += tlen + ilen;
	if (cfg->tx_ifindex)
		return bpf_redirect(cfg->tx_ifindex, 0);
	return XDP_TX;
}

/* One more packet of len bytes of a UDP session, arrived at now. */
static __always_inline void xdp_udp_count(struct steer_udp_seen *s, __u64 now,
					  __u64 len)
{
	__u64 gap;

	if (s->pkts) {
		gap = now > s->last_ns ? (now - s->last_ns) / 1000 : 0;
		if (gap > STEER_UDP_GAP_MAX_US)
			gap = STEER_UDP_GAP_MAX_US;
		s->gap_sum_us += gap;
		s->gap_sq += gap * gap;
	}
	s->last_ns = now;
	s->pkts++;
	s->bytes += len;
	s->size[steer_tele_size_bucket(len) & (STEER_TELE_SIZES - 1)]++;
}

/*
 * A UDP packet of this node's stack: is it a session of a service? The
 * first packet of one records it and reports it, within the flood
 * guard's budget (above it nothing is recorded: a later packet is a first
 * packet again); later ones are counted (xdp_udp_count). A full ring
 * loses the report (counted); the flow stays in steer_udp, so the
 * daemon's sweep still finds it.
 */
static __always_inline void xdp_udp_seen(const struct steer_xdp_cfg *cfg,
					 const struct pkt_meta *m,
					 struct steer_xdp_stats *st, __u64 len)
{
	const struct flow_key *k = &m->key;
	struct steer_svc_key sk = {};
	struct steer_udp_seen *seen, fresh = {};
	struct steer_sess_ev *ev;
	__u64 now = bpf_ktime_get_ns();

	sk.addr = k->dst;
	sk.port = k->dport;
	sk.proto = k->proto;
	if (!bpf_map_lookup_elem(&steer_svcs, &sk))
		return;
	seen = bpf_map_lookup_elem(&steer_udp, k);
	if (seen) {
		xdp_udp_count(seen, now, len);
		return;
	}
	if (xdp_guard(cfg, st, m) != STEER_GV_PASS)
		return;
	fresh.first_ns = now;
	xdp_udp_count(&fresh, now, len);
	if (bpf_map_update_elem(&steer_udp, k, &fresh, BPF_NOEXIST))
		return; /* another CPU was first */
	st->udp_new++;
	ev = bpf_ringbuf_reserve(&steer_events, sizeof(*ev), 0);
	if (!ev) {
		st->ev_lost++;
		return;
	}
	ev->key = *k;
	ev->type = STEER_SESS_EV_UDP_NEW;
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Directory: is the flow a TCP session of this node's stack? Any socket
 * of the 4-tuple but a listener is (established, closing, or a request
 * not yet accepted).
 */
static __always_inline int xdp_tcp_local(struct xdp_md *ctx,
					 const struct flow_key *k)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;
	int local;

	if (flow_key_is_v4(k)) {
		t.ipv4.saddr = k->src.w[3];
		t.ipv4.daddr = k->dst.w[3];
		t.ipv4.sport = k->sport;
		t.ipv4.dport = k->dport;
		len = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.saddr, k->src.w, 16);
		__builtin_memcpy(t.ipv6.daddr, k->dst.w, 16);
		t.ipv6.sport = k->sport;
		t.ipv6.dport = k->dport;
		len = sizeof(t.ipv6);
	}
	sk = bpf_skc_lookup_tcp(ctx, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	local = sk->state != BPF_TCP_LISTEN;
	bpf_sk_release(sk);
	return local;
}

/* Directory: a UDP session this node holds (the packet counted)? */
static __always_inline int xdp_udp_local(const struct flow_key *k, __u64 len)
{
	struct steer_udp_seen *seen = bpf_map_lookup_elem(&steer_udp, k);

	if (!seen)
		return 0;
	xdp_udp_count(seen, bpf_ktime_get_ns(), len);
	return 1;
}

/* The flow's rule: IPv4 flows from steer_flows4, the others from
 * steer_flows. */
static __always_inline struct steer_rule *
xdp_rule_lookup(const struct flow_key *k)
{
	struct steer_flow4_key k4;

	if (!flow_key_is_v4(k))
		return bpf_map_lookup_elem(&steer_flows, k);
	steer_flow4_key_of(&k4, k);
	return bpf_map_lookup_elem(&steer_flows4, &k4);
}

static __always_inline void xdp_rule_delete(const struct flow_key *k)
{
	struct steer_flow4_key k4;

	if (!flow_key_is_v4(k)) {
		bpf_map_delete_elem(&steer_flows, k);
		return;
	}
	steer_flow4_key_of(&k4, k);
	bpf_map_delete_elem(&steer_flows4, &k4);
}

/* The flow's service's steer_svcs value (its port's, or any port's); 0:
 * not a service's flow. */
static __always_inline __u32 xdp_service(const struct flow_key *k)
{
	struct steer_svc_key sk = {};
	__u32 *v;

	sk.addr = k->dst;
	sk.port = k->dport;
	sk.proto = k->proto;
	v = bpf_map_lookup_elem(&steer_svcs, &sk);
	if (v)
		return *v;
	sk.port = 0;
	v = bpf_map_lookup_elem(&steer_svcs, &sk);
	return v ? *v : 0;
}

static __always_inline int xdp_is_service(const struct flow_key *k)
{
	return xdp_service(k) != 0;
}

/*
 * Is this node's daemon gone? Its exception socket (this node's address,
 * the GUE port) closes the instant the process dies, even by kill -9; the
 * alive stamp catches a daemon that hangs. Only watched daemons count.
 */
static __always_inline int xdp_daemon_gone(struct xdp_md *ctx,
					   const struct steer_xdp_cfg *cfg)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;

	if (!cfg->alive_ns)
		return 0;
	if (bpf_ktime_get_ns() - cfg->alive_ns > STEER_ALIVE_NS)
		return 1;
	if (flow_addr_is_v4(&cfg->self_addr)) {
		t.ipv4.daddr = cfg->self_addr.w[3];
		t.ipv4.dport = cfg->gue_port;
		len = sizeof(t.ipv4);
	} else {
		__builtin_memcpy(t.ipv6.daddr, cfg->self_addr6.w, 16);
		t.ipv6.dport = cfg->gue_port;
		len = sizeof(t.ipv6);
	}
	sk = bpf_sk_lookup_udp(ctx, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 1;
	bpf_sk_release(sk);
	return 0;
}

/*
 * Cell mode, a service's flow this node has no rule for: to the cell of
 * its shard (steer_cell_pick()), GUE with the exception flag (and
 * gflags), or up its own stack when that cell is this node. The cell
 * answers with the rule.
 */
static __always_inline int xdp_to_cell(struct xdp_md *ctx,
				       const struct steer_xdp_cfg *cfg,
				       struct steer_xdp_stats *st,
				       const struct pkt_meta *m, __u8 gflags)
{
	struct steer_rule r = {};
	__u64 h = flow_hash(&m->key, &cfg->secret);
	__u32 shard = steer_shard_of(h);
	struct steer_shard *sh = bpf_map_lookup_elem(&steer_shards, &shard);
	__u16 cell;

	if (!sh)
		return xdp_drop(st, STEER_DROP_NO_BACKEND);
	cell = steer_cell_pick(sh, cfg->self_id,
			       sh->cell[0] == cfg->self_id &&
				       xdp_daemon_gone(ctx, cfg));
	if (cell == STEER_NODE_NONE)
		return xdp_drop(st, STEER_DROP_NO_BACKEND);
	steer_exception_rule(&r, cell, h);
	r.tmpl = cell;
	return xdp_encap(ctx, cfg, st, m, &r, STEER_ACT_EXCEPTION, gflags);
}

/*
 * Directory: report a flow to the daemon, once per flow per
 * STEER_TEACH_EVERY_NS (steer_taught; a full ring loses the report):
 * TEACH, a packet re-routed to this home met the flow's STEER rule (the
 * node that sent it is taught the record); HINT_TEACH, the same for a
 * packet from an ingress's header cache; ASK, nobody here knows the
 * flow (the daemon asks who owns it). A flow is one or the other here:
 * with a rule it is taught, without one asked after.
 */
static __always_inline void xdp_dir_report(struct steer_xdp_stats *st,
					   const struct pkt_meta *m, __u8 type)
{
	struct steer_sess_ev *ev;
	__u64 now, *last;

	now = bpf_ktime_get_ns();
	last = bpf_map_lookup_elem(&steer_taught, &m->key);
	if (last && now - *last < STEER_TEACH_EVERY_NS)
		return;
	bpf_map_update_elem(&steer_taught, &m->key, &now, BPF_ANY);
	ev = bpf_ringbuf_reserve(&steer_events, sizeof(*ev), 0);
	if (!ev) {
		st->ev_lost++;
		return;
	}
	if (type != STEER_SESS_EV_ASK)
		st->dir_taught++;
	else
		st->dir_asked++;
	ev->key = m->key;
	ev->type = type;
	ev->origin = (m->flags & PKT_F_STEER_PRIV) ? steer_ntohs(m->priv.origin)
						   : STEER_NODE_NONE;
	bpf_ringbuf_submit(ev, 0);
}

/*
 * Host mode with a directory: a service's packet no rule covers. This
 * node's own session (a new TCP one, a socket, a UDP session it holds)
 * passes; else steer_dir_target() says where it goes.
 */
static __always_inline int xdp_dir_miss(struct xdp_md *ctx,
					const struct steer_xdp_cfg *cfg,
					struct steer_xdp_stats *st,
					const struct pkt_meta *m)
{
	struct steer_rule r = {};
	__u64 h;
	__u32 shard;
	struct steer_shard *sh;
	__u16 to;
	int tcp = m->key.proto == STEER_IPPROTO_TCP;
	__u64 len = ctx->data_end - ctx->data;

	if (steer_dir_new_session(m)) {
		if (xdp_guard(cfg, st, m) == STEER_GV_DROP)
			return xdp_drop(st, STEER_DROP_FLOOD);
		goto local;
	}
	if (tcp ? xdp_tcp_local(ctx, &m->key) : xdp_udp_local(&m->key, len))
		goto local;
	h = flow_hash(&m->key, &cfg->secret);
	shard = steer_shard_of(h);
	sh = bpf_map_lookup_elem(&steer_shards, &shard);
	if (!sh)
		goto local;
	to = steer_dir_target(m, sh, cfg->self_id);
	if (to == STEER_NODE_NONE) {
		/* Asking is state made elsewhere: within the budget only. */
		if (xdp_guard(cfg, st, m) == STEER_GV_PASS)
			xdp_dir_report(st, m, STEER_SESS_EV_ASK);
		return xdp_drop(st, STEER_DROP_DIR_UNKNOWN);
	}
	if (to != cfg->self_id) {
		st->dir_rerouted++;
		r.owner = to;
		r.tmpl = to;
		r.action = STEER_ACT_STEER;
		r.sport = flow_hash_sport(h);
		return xdp_encap(ctx, cfg, st, m, &r, STEER_ACT_STEER, 0);
	}
	if (!tcp)
		xdp_udp_seen(cfg, m, st, len);
local:
	st->action[STEER_ACT_LOCAL]++;
	return XDP_PASS;
}

static __always_inline void xdp_dir_teach(const struct steer_xdp_cfg *cfg,
					  struct steer_xdp_stats *st,
					  const struct pkt_meta *m,
					  const struct steer_rule *rule)
{
	if (cfg->dir && steer_dir_teach(m, rule->owner, cfg->self_id))
		xdp_dir_report(st, m, STEER_SESS_EV_TEACH);
}

/* Cell mode's BACKEND and host mode's HINT rules: stamp the rule's use,
 * a write only when the stamp moves. */
static __always_inline void xdp_rule_used(struct steer_rule *r)
{
	__u32 now = (__u32)(bpf_ktime_get_coarse_ns() >> STEER_RULE_USED_SHIFT);

	if (r->used != now)
		r->used = now;
}

/*
 * Cell mode: a FIN or RST of a flow whose service wants its cell to see
 * closes (STEER_SVC_F_CLOSE_VIA_CELL).
 */
static __always_inline int xdp_close_via_cell(const struct steer_xdp_cfg *cfg,
					      const struct pkt_meta *m)
{
	struct steer_svc_key sk = {};
	__u32 *v;

	if (!steer_close_candidate(cfg->mode, m))
		return 0;
	sk.addr = m->key.dst;
	sk.port = m->key.dport;
	sk.proto = m->key.proto;
	v = bpf_map_lookup_elem(&steer_svcs, &sk);
	if (!v) {
		sk.port = 0;
		v = bpf_map_lookup_elem(&steer_svcs, &sk);
	}
	return v && (*v & STEER_SVC_F_CLOSE_VIA_CELL);
}

/* An untracked steered flow's packet: 1 in STEER_TELE_SAMPLE per CPU
 * names the flow as a candidate for tracking. */
static __always_inline void xdp_tele_sample(const struct flow_key *k,
					    struct steer_xdp_stats *st)
{
	__u32 one = 1, *n;

	if (!steer_tele_sampled(++st->tele_tick))
		return;
	st->tele_cand++;
	n = bpf_map_lookup_elem(&steer_tele_cand, k);
	if (n)
		*n += 1;
	else
		bpf_map_update_elem(&steer_tele_cand, k, &one, BPF_NOEXIST);
}

/* A steered flow's packet (STEER, BACKEND) of len bytes as it came,
 * sent on: into its telemetry slot when tracked, else perhaps sampled. */
static __always_inline void xdp_flow_tele(struct steer_xdp_stats *st,
					  const struct steer_rule *rule,
					  const struct flow_key *k, __u64 len)
{
	struct steer_flow_tele *t;
	__u64 now, gap, pos;
	__u32 slot;

	if (!steer_tele_on)
		return;
	if (!rule->tele) {
		xdp_tele_sample(k, st);
		return;
	}
	slot = rule->tele - 1;
	t = bpf_map_lookup_elem(&steer_ftele, &slot);
	if (!t)
		return;
	pos = t->pkts & (STEER_TELE_GAP_EVERY - 1);
	if (pos == STEER_TELE_GAP_EVERY - 1) {
		t->mark_ns = bpf_ktime_get_ns();
	} else if (pos == 0 && t->mark_ns) {
		now = bpf_ktime_get_ns();
		gap = now > t->mark_ns
			      ? (now - t->mark_ns) >> STEER_TELE_GAP_SHIFT
			      : 0;
		if (gap > STEER_TELE_GAP_MAX)
			gap = STEER_TELE_GAP_MAX;
		t->gap_sum += gap;
		t->gap_sq += gap * gap;
		t->gap_n++;
		t->mark_ns = 0;
	}
	t->pkts++;
	t->bytes += len;
	t->size[steer_tele_size_bucket(len) & (STEER_TELE_SIZES - 1)]++;
}

/*
 * Cell mode, a guarded new flow (above the flood guard's budget, policy
 * stateless) of a service with a ring: straight to the backend the
 * cells would pick, GUE with no flags (counted guard_direct); 1 when
 * its ring names none (the cell picks).
 */
static __always_inline int xdp_guard_direct(struct xdp_md *ctx,
					    const struct steer_xdp_cfg *cfg,
					    struct steer_xdp_stats *st,
					    const struct pkt_meta *m, __u32 svc,
					    int *act)
{
	struct steer_rule r = {};
	__u64 h = flow_hash(&m->key, &cfg->secret), *w;
	__u32 ring = svc >> STEER_SVC_RING_SHIFT, slot, key;
	__u16 b;

	if (!ring || ring > STEER_XDP_RING_SVCS)
		return 1;
	slot = flow_hash_slot(h, STEER_RING_SIZE);
	key = (ring - 1) * STEER_RING_WORDS + slot / 4;
	w = bpf_map_lookup_elem(&steer_ring, &key);
	b = w ? steer_ring_backend(*w, slot) : STEER_NODE_NONE;
	if (b == STEER_NODE_NONE || b >= STEER_TMPL_BACKEND)
		return 1;
	st->guard_direct++;
	r.owner = STEER_NODE_NONE;
	r.tmpl = STEER_TMPL_BACKEND + b;
	r.action = STEER_ACT_BACKEND;
	r.sport = flow_hash_sport(h);
	*act = xdp_encap(ctx, cfg, st, m, &r, STEER_ACT_BACKEND, 0);
	return 0;
}

/*
 * A flow without a rule: a service's to its shard's cell (cell mode) or
 * by the directory; else this node's stack's, unannounced. The flood
 * guard meets each kind of miss that may make state (decide.h).
 */
static __always_inline int xdp_miss(struct xdp_md *ctx,
				    const struct steer_xdp_cfg *cfg,
				    struct steer_xdp_stats *st,
				    const struct pkt_meta *m)
{
	__u32 svc;
	int gv, act;

	st->miss++;
	if (steer_miss_to_cell(cfg->mode) && (svc = xdp_service(&m->key))) {
		gv = xdp_guard(cfg, st, m);
		if (gv == STEER_GV_DROP)
			return xdp_drop(st, STEER_DROP_FLOOD);
		if (gv == STEER_GV_STATELESS &&
		    !xdp_guard_direct(ctx, cfg, st, m, svc, &act))
			return act;
		return xdp_to_cell(ctx, cfg, st, m,
				   gv ? STEER_GUE_F_GUARDED : 0);
	}
	if (cfg->dir && cfg->mode == STEER_XDP_MODE_HOST &&
	    xdp_is_service(&m->key))
		return xdp_dir_miss(ctx, cfg, st, m);
	if (cfg->mode == STEER_XDP_MODE_HOST) {
		if (m->key.proto == STEER_IPPROTO_UDP)
			xdp_udp_seen(cfg, m, st, ctx->data_end - ctx->data);
		else if (cfg->guard && steer_is_syn(m) &&
			 xdp_is_service(&m->key) &&
			 xdp_guard(cfg, st, m) == STEER_GV_DROP)
			return xdp_drop(st, STEER_DROP_FLOOD);
	}
	st->action[STEER_ACT_LOCAL]++;
	return XDP_PASS;
}

/* The whole fast path on one frame: an XDP action. */
static __always_inline int steer_xdp_run(struct xdp_md *ctx)
{
	const struct steer_xdp_cfg *cfg;
	struct steer_xdp_stats *st;
	struct steer_rule *rule;
	struct xdp_state s;
	__u64 len;
	__u32 zero = 0, perr;
	__u8 act;
	int rc;

	cfg = bpf_map_lookup_elem(&steer_cfg, &zero);
	st = bpf_map_lookup_elem(&steer_stats, &zero);
	if (!cfg || !st || !cfg->mtu)
		return XDP_PASS;
	st->rx_packets++;
	st->rx_bytes += ctx->data_end - ctx->data;
	s.pcfg.gue_port = cfg->gue_port;
	s.pcfg.max_encap = cfg->max_encap;
	rc = xdp_classify(ctx, cfg, st, &s);
	if (rc < 0) {
		perr = -rc;
		if (perr < PERR__MAX)
			st->parse_err[perr]++;
		return xdp_drop(st, STEER_DROP_PARSE);
	}
	if (rc == 1) {
		st->notip++;
		return XDP_PASS;
	}
	if (rc == XDP_CLASS_EXCEPTION) {
		st->exc_in++;
		return XDP_PASS;
	}
	if (cfg->dir && steer_hint_teach(&s.m, cfg->self_id))
		xdp_dir_report(st, &s.m, STEER_SESS_EV_HINT_TEACH);
	rule = xdp_rule_lookup(&s.m.key);
	if (!rule)
		return xdp_miss(ctx, cfg, st, &s.m);
	act = rule->action;
	if (act == STEER_ACT_BACKEND) {
		if (xdp_close_via_cell(cfg, &s.m)) {
			xdp_rule_delete(&s.m.key);
			st->close_to_cell++;
			return xdp_to_cell(ctx, cfg, st, &s.m, 0);
		}
		xdp_rule_used(rule);
	}
	if (act == STEER_ACT_HINT)
		xdp_rule_used(rule); /* the cache's recency */
	switch (steer_rule_verdict(act)) {
	case STEER_RV_PASS:
		st->action[act]++;
		return XDP_PASS;
	case STEER_RV_ENCAP:
		len = ctx->data_end - ctx->data;
		if (act == STEER_ACT_STEER)
			xdp_dir_teach(cfg, st, &s.m, rule);
		rc = xdp_encap(ctx, cfg, st, &s.m, rule, act, 0);
		if (rc != XDP_DROP)
			xdp_flow_tele(st, rule, &s.m.key, len);
		return rc;
	default:
		return xdp_drop(st, STEER_DROP_RULE);
	}
}

#endif /* STEER_XDP_H */
