// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * Session events from the kernel, host mode: a sock_ops program attached
 * to the cgroup the node's servers run in. It sees every TCP connection
 * they accept, with no change to the application:
 *
 *   passive connection established -> steer_socks[flow] = time,
 *                                     event TCP_UP, ask for state changes
 *   an RTT sample of it            -> at most every STEER_TELE_NS,
 *                                     steer_socks[flow] takes the
 *                                     kernel's smoothed RTT, bytes,
 *                                     segments, retransmissions
 *   that connection reaches CLOSE  -> delete steer_socks[flow],
 *                                     event TCP_DOWN (FIN or RST; the
 *                                     kernel never reports TIME_WAIT)
 *
 * The flow is keyed as the fast path keys the client's packets (client
 * -> this node), so the daemon can gossip it as it is. steer_socks is
 * pinned: it keeps the live set while the daemon is down, and a daemon
 * that starts again announces every session it holds from it.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer_kern_user.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define AF_INET 2
#define AF_INET6 10
#define TCP_CLOSE 7

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_SOCK_MAX);
	__type(key, struct flow_key);
	__type(value, struct steer_sock_tele);
} steer_socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STEER_XDP_EVENTS_BYTES);
} steer_sock_ev SEC(".maps");

/* Events the ring had no room for; the daemon reads steer_socks then. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_sock_stats);
} steer_sock_st SEC(".maps");

/* The connection's flow as the client's packets carry it. 0 or -1. */
static __always_inline int sockops_key(const struct bpf_sock_ops *skops,
				       struct flow_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	if (skops->family == AF_INET) {
		flow_addr_set_v4(&k->src, skops->remote_ip4);
		flow_addr_set_v4(&k->dst, skops->local_ip4);
	} else if (skops->family == AF_INET6) {
		/* A v4-mapped peer of a dual-stack socket keys like IPv4. */
		k->src.w[0] = skops->remote_ip6[0];
		k->src.w[1] = skops->remote_ip6[1];
		k->src.w[2] = skops->remote_ip6[2];
		k->src.w[3] = skops->remote_ip6[3];
		k->dst.w[0] = skops->local_ip6[0];
		k->dst.w[1] = skops->local_ip6[1];
		k->dst.w[2] = skops->local_ip6[2];
		k->dst.w[3] = skops->local_ip6[3];
	} else {
		return -1;
	}
	/* remote_port: network order in the upper 16 bits; local_port:
	 * host order. */
	k->sport = (__be16)(skops->remote_port >> 16);
	k->dport = bpf_htons((__u16)skops->local_port);
	k->proto = STEER_IPPROTO_TCP;
	return 0;
}

static __always_inline void sockops_event(const struct flow_key *k, __u8 type,
					  struct steer_sock_stats *st)
{
	struct steer_sess_ev *ev;

	ev = bpf_ringbuf_reserve(&steer_sock_ev, sizeof(*ev), 0);
	if (!ev) {
		if (st)
			st->ev_lost++;
		return;
	}
	ev->key = *k;
	ev->type = type;
	ev->pad = 0;
	ev->origin = 0;
	__builtin_memset(ev->pad2, 0, sizeof(ev->pad2));
	bpf_ringbuf_submit(ev, 0);
}

/* An RTT sample: the session's telemetry, refreshed at most every
 * STEER_TELE_NS (one map lookup per sample otherwise). */
static __always_inline void sockops_tele(const struct bpf_sock_ops *skops,
					 const struct flow_key *k)
{
	struct steer_sock_tele *t = bpf_map_lookup_elem(&steer_socks, k);
	__u64 now = bpf_ktime_get_ns();

	if (!t || now - t->seen_ns < STEER_TELE_NS)
		return;
	t->seen_ns = now;
	t->bytes_in = skops->bytes_received;
	t->bytes_out = skops->bytes_acked;
	t->segs_in = skops->segs_in;
	t->segs_out = skops->segs_out;
	t->srtt_us = skops->srtt_us >> 3; /* kept << 3 by the kernel */
	t->rtt_min_us = skops->rtt_min;
	t->retrans = skops->total_retrans;
	t->samples++;
}

SEC("sockops")
int steer_sockops(struct bpf_sock_ops *skops)
{
	struct steer_sock_tele fresh = {};
	struct steer_sock_stats *st;
	struct flow_key k;
	__u32 zero = 0;

	if (skops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB &&
	    skops->op != BPF_SOCK_OPS_RTT_CB &&
	    (skops->op != BPF_SOCK_OPS_STATE_CB || skops->args[1] != TCP_CLOSE))
		return 1;
	if (sockops_key(skops, &k))
		return 1;
	if (skops->op == BPF_SOCK_OPS_RTT_CB) {
		sockops_tele(skops, &k);
		return 1;
	}
	st = bpf_map_lookup_elem(&steer_sock_st, &zero);
	if (skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB) {
		fresh.est_ns = bpf_ktime_get_ns();
		if (bpf_map_update_elem(&steer_socks, &k, &fresh, BPF_ANY) &&
		    st)
			st->table_full++;
		/* Closes come as state changes, RTT samples as RTT
		 * callbacks, only when asked for. */
		bpf_sock_ops_cb_flags_set(skops,
					  BPF_SOCK_OPS_STATE_CB_FLAG |
						  BPF_SOCK_OPS_RTT_CB_FLAG);
		if (st)
			st->up++;
		sockops_event(&k, STEER_SESS_EV_TCP_UP, st);
	} else {
		bpf_map_delete_elem(&steer_socks, &k);
		if (st)
			st->down++;
		sockops_event(&k, STEER_SESS_EV_TCP_DOWN, st);
	}
	return 1;
}
