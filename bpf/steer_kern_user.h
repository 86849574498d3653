/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the XDP fast path (steer_xdp.bpf.c) and its loader (src/xdp/)
 * share: map sizes, the configuration record and the counter layout.
 * Fixed-width types only; the layout is part of the pinned maps, so a
 * change here needs a new program and fresh pins.
 *
 * Counter indices are those of the userspace twin (enum parse_err from
 * parse.h, enum steer_action from rule.h, enum steer_drop from decide.h;
 * the shard, service-flag and mode definitions are decide.h's too), so
 * both sides' counters compare one to one.
 */
#ifndef STEER_KERN_USER_H
#define STEER_KERN_USER_H

#include <steer/decide.h>
#include <steer/flow.h>
#include <steer/hash.h>
#include <steer/parse.h>
#include <steer/rule.h>
#include <steer/tmpl.h>

#ifndef STEER_XDP_MAX_FLOWS
#define STEER_XDP_MAX_FLOWS 65536 /* default size of steer_flows(4) */
#endif
#ifndef STEER_XDP_MAX_TMPLS
/* steer_tmpls: node id n at n, backend id b at STEER_TMPL_BACKEND + b. */
#define STEER_XDP_MAX_TMPLS 8192
#endif
#define STEER_TMPL_BACKEND 4096 /* first backend template; node ids below */
#ifndef STEER_XDP_MAX_SVCS
#define STEER_XDP_MAX_SVCS 256 /* services whose UDP sessions are tracked */
#endif
#ifndef STEER_XDP_MAX_UDP
#define STEER_XDP_MAX_UDP 65536 /* UDP sessions of this node (LRU) */
#endif
#ifndef STEER_XDP_MAX_TAUGHT
#define STEER_XDP_MAX_TAUGHT 16384 /* directory: teach reports (LRU) */
#endif
#ifndef STEER_XDP_EVENTS_BYTES
#define STEER_XDP_EVENTS_BYTES (256 * 1024) /* session event ring */
#endif
#ifndef STEER_XDP_TELE_SLOTS
#define STEER_XDP_TELE_SLOTS 1024 /* steered flows tracked in detail */
#endif
#ifndef STEER_XDP_TELE_CANDS
#define STEER_XDP_TELE_CANDS 4096 /* candidates sampled between rounds */
#endif
#ifndef STEER_XDP_GUARD_SRCS
#define STEER_XDP_GUARD_SRCS 65536 /* flood guard: sources' budgets (LRU) */
#endif
/*
 * Cell mode, the flood guard's stateless path in XDP: each service's
 * Maglev table (the cells' pick: src/core/maglev.h, default size) in
 * steer_ring, so a guarded new flow reaches its backend with no cell in
 * between. A service's steer_svcs value carries its ring's index + 1 in
 * bits STEER_SVC_RING_SHIFT on (0: no ring, the cell picks). Slot s of
 * ring r is in entry r * STEER_RING_WORDS + s / 4, 16 bits from bit
 * 16 * (s % 4), as backend id + 1 (0: none, so a ring not yet written
 * sends nothing anywhere but to the cell).
 */
#define STEER_RING_SIZE 65537u /* MAGLEV_SIZE_DEFAULT */
#define STEER_RING_WORDS ((STEER_RING_SIZE + 3) / 4)
#define STEER_SVC_RING_SHIFT 16
#ifndef STEER_XDP_RING_SVCS
#define STEER_XDP_RING_SVCS 32 /* services with a ring: 4 MiB of map */
#endif

#ifndef STEER_SOCK_MAX
#define STEER_SOCK_MAX 262144 /* TCP sessions of this node (sock_ops) */
#endif

/*
 * The key of an IPv4 flow in steer_flows4: the flow key without the
 * v4-mapped prefixes, 16 bytes instead of 40 (a quicker hash and compare
 * per packet, and less memory per flow). IPv6 flows stay in steer_flows.
 */
struct steer_flow4_key {
	__be32 src;
	__be32 dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

static __always_inline void steer_flow4_key_of(struct steer_flow4_key *k4,
					       const struct flow_key *k)
{
	k4->src = k->src.w[3];
	k4->dst = k->dst.w[3];
	k4->sport = k->sport;
	k4->dport = k->dport;
	k4->proto = k->proto;
	k4->pad[0] = k4->pad[1] = k4->pad[2] = 0;
}

/*
 * Telemetry of a steered flow (a STEER or BACKEND rule's packets) the
 * daemon tracks in detail: the value of steer_ftele[rule.tele - 1], 64
 * bytes. The XDP program adds every packet of the flow it sends on; the
 * daemon zeroes the slot when it gives it to a flow and reads
 * differences. Gaps between packets are sampled: the clock is read on
 * the last packet of every STEER_TELE_GAP_EVERY and on the next one, so
 * one gap in STEER_TELE_GAP_EVERY is measured (an unbiased sample of the
 * gaps, at two clock reads per STEER_TELE_GAP_EVERY packets: reading the
 * clock costs more than the rest of the telemetry). They are in units of
 * 2^10 ns (about a microsecond), each capped at STEER_TELE_GAP_MAX units
 * (about a second) so that a square fits easily. A flow's packets normally meet one CPU
 * (RSS); updates from two CPUs at once may lose one of them (plain adds,
 * not atomics: the figures are statistics, not accounts).
 *
 * Which flows: of the untracked rules' packets, 1 in STEER_TELE_SAMPLE
 * (decide.h) per CPU names its flow in steer_tele_cand (flow -> samples),
 * so a flow is named in proportion to its packets; the daemon ranks the
 * candidates each round and gives the slots to the busiest
 * (src/node/xdp_tele.h).
 */
#define STEER_TELE_SIZES 4	      /* frames <= 128, <= 512, <= 1024, more */
#define STEER_TELE_GAP_SHIFT 10	      /* gap units: 1024 ns */
#define STEER_TELE_GAP_MAX (1u << 20) /* about 1.07 s */
#define STEER_TELE_GAP_EVERY 32	      /* a power of two */
struct steer_flow_tele {
	__u64 pkts;
	__u64 bytes;   /* frames as received, tunnel stripped */
	__u64 mark_ns; /* the clock at the last packet of a group */
	__u64 gap_sum; /* gaps sampled, summed (units above) */
	__u64 gap_sq;  /* their squares, summed */
	__u32 size[STEER_TELE_SIZES];
	__u32 gen;   /* the daemon's, per assignment */
	__u32 gap_n; /* gaps sampled */
};

static __always_inline __u32 steer_tele_size_bucket(__u64 len)
{
	return len <= 128 ? 0 : len <= 512 ? 1 : len <= 1024 ? 2 : 3;
}

/* A service of this node: address (v4-mapped for IPv4), port, protocol. */
struct steer_svc_key {
	struct flow_addr addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

/*
 * A UDP session of this node's stack, in steer_udp (ktime ns), with its
 * telemetry (64 bytes): the packets from the client and their bytes as
 * received, by size class (steer_tele_size_bucket), and the gaps between
 * them in microseconds, each capped at STEER_UDP_GAP_MAX_US (the clock
 * is read for last_ns on every packet anyway, so every gap is measured).
 */
#define STEER_UDP_GAP_MAX_US 10000000ull /* 10 s */
struct steer_udp_seen {
	__u64 first_ns;
	__u64 last_ns;
	__u64 pkts;
	__u64 bytes;
	__u64 gap_sum_us; /* over pkts - 1 gaps */
	__u64 gap_sq;	  /* their squares, us^2 */
	__u32 size[STEER_TELE_SIZES];
};

/*
 * A session event, from the XDP program (UDP) or the sock_ops program
 * (TCP) to the daemon. key is the flow as packets arriving from the
 * client carry it (client -> this node), as the fast path keys it.
 */
enum steer_sess_ev_type {
	STEER_SESS_EV_TCP_UP = 1,   /* passive connection established */
	STEER_SESS_EV_TCP_DOWN = 2, /* it closed (FIN or RST) */
	STEER_SESS_EV_UDP_NEW = 3,  /* first packet of a UDP session */
	/* Directory: a home re-routed a packet of the flow from node
	 * `origin` to its owner; the daemon teaches origin the record. */
	STEER_SESS_EV_TEACH = 4,
	/* Directory: this home was sent a packet of a session neither it
	 * nor the other home knows (dropped); the daemon asks the other
	 * nodes who owns it (gossip_dir_ask()). */
	STEER_SESS_EV_ASK = 5,
	/* Directory: a packet came from node `origin`'s header cache (GUE
	 * with the hint flag); the daemon teaches origin the record, which
	 * replaces the hint. */
	STEER_SESS_EV_HINT_TEACH = 6,
};

/* Directory: a flow's teach report at most this often (ns). */
#define STEER_TEACH_EVERY_NS 1000000000ull

/*
 * steer_socks' value: a TCP session of this node's stack and what the
 * kernel knows of it, refreshed at most every STEER_TELE_NS from its RTT
 * samples (sock_ops' RTT callback): 64 bytes per session.
 */
struct steer_sock_tele {
	__u64 est_ns;	 /* ktime at establishment */
	__u64 seen_ns;	 /* ktime of the last refresh; 0: none yet */
	__u64 bytes_in;	 /* bytes received from the client */
	__u64 bytes_out; /* bytes the client acknowledged */
	__u32 segs_in;
	__u32 segs_out;
	__u32 srtt_us;	  /* the kernel's smoothed RTT */
	__u32 rtt_min_us; /* its lowest RTT (windowed) */
	__u32 retrans;	  /* segments retransmitted in all */
	__u32 samples;	  /* refreshes taken */
};

#define STEER_TELE_NS 100000000ull /* 100 ms */

/* The one entry of steer_sock_st (per CPU): the sock_ops program's tally. */
struct steer_sock_stats {
	__u64 up;	  /* passive connections established */
	__u64 down;	  /* of those, closed */
	__u64 ev_lost;	  /* events lost to a full ring */
	__u64 table_full; /* sessions steer_socks had no room for */
};

struct steer_sess_ev {
	struct flow_key key;
	__u8 type; /* enum steer_sess_ev_type */
	__u8 pad;
	__u16 origin; /* TEACH: the node that re-routed the packet */
	__u8 pad2[4];
};

/*
 * The one entry of steer_cfg. mtu 0 means "not configured yet": every
 * packet passes to the stack uncounted, so an attached program with empty
 * maps is harmless.
 */
struct steer_xdp_cfg {
	struct flow_addr self_addr;  /* v4-mapped; all zero if none */
	struct flow_addr self_addr6; /* all zero if none */
	struct steer_hash_secret secret;
	__u32 mtu;	  /* largest L3 packet the fabric carries */
	__u32 tx_ifindex; /* 0: XDP_TX; else bpf_redirect() there */
	__u16 self_id;
	__be16 gue_port; /* 0 disables GUE */
	__u8 max_encap;	 /* <= STEER_MAX_ENCAP */
	__u8 mode;	 /* STEER_XDP_MODE_* */
	/* Host mode: 1 when ownership is a directory (steer_shards holds
	 * each shard's homes): a service's packet of a session this node
	 * neither has a rule for nor holds goes to the session's home. */
	__u8 dir;
	__u8 guard; /* the flood guard's policy: enum steer_guard_policy */
	/*
	 * Cell mode: bpf_ktime_get_ns() when the daemon last said it lives
	 * (every STEER_ALIVE_NS / 5); 0: not watched. A program whose daemon
	 * is gone sends its own shards' misses to their first mirror.
	 */
	__u64 alive_ns;
	/*
	 * The flood guard (decide.h), per CPU: one new flow per cost_ns,
	 * up to cap_ns banked (the burst); src_*: the same per source, 0
	 * for no source budget.
	 */
	__u64 guard_cost_ns;
	__u64 guard_cap_ns;
	__u64 guard_src_cost_ns;
	__u64 guard_src_cap_ns;
};

#define STEER_ALIVE_NS 500000000ull

/*
 * The one entry of steer_stats (per CPU). Every packet bumps rx_* and
 * exactly one of: action[], parse_err[] (with drop[PARSE]), drop[],
 * notip. decap counts tunnels stripped; miss counts flows not in
 * steer_flows (passed to the stack, also counted as action[LOCAL]).
 */
struct steer_xdp_stats {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 notip;
	__u64 decap;
	__u64 miss;
	__u64 udp_new; /* UDP sessions of a service first seen here */
	__u64 exc_in;  /* exception GUE to this cell, passed up intact */
	__u64 ev_lost; /* session events lost to a full ring */
	__u64 action[STEER_ACT__MAX];
	__u64 parse_err[PERR__MAX];
	__u64 drop[STEER_DROP__MAX];
	__u64 close_to_cell; /* cell mode: FIN/RST sent to the flow's cell */
	__u64 tele_tick;     /* steered packets of untracked rules sent on */
	__u64 tele_cand;     /* of those, sampled into steer_tele_cand */
	__u64 tx_bytes;	     /* frames sent on (XDP_TX or redirect), bytes */
	__u64 dir_rerouted; /* directory: unknown sessions' packets to a home */
	__u64 dir_taught;   /* directory: teach reports to the daemon */
	__u64 dir_asked;    /* directory: ask reports to the daemon */
	__u64 guard_over;   /* flood guard: misses above this CPU's budget */
	__u64 guard_src_over;  /* ... within it, above their source's */
	__u64 guard_stateless; /* of both, sent on without state */
	__u64 guard_direct;    /* ... of those, to the backend by steer_ring */
};

#endif /* STEER_KERN_USER_H */
