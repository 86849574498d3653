/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Packet parser: Ethernet with up to two VLAN tags, IPv4 (options,
 * fragments), IPv6 (extension-header chain, fragment header), TCP, UDP,
 * ICMP and ICMPv6, and the tunnels steer peels to reach the inner flow
 * (GUE variants 0 and 1, IPIP, 4in6, 6in4, 6in6).
 *
 * One function per header, each taking a cursor and the end of the data;
 * every read is preceded by a bounds check against data_end, so the same
 * code passes the BPF verifier and is safe on any userspace buffer.
 * Nothing is written to the packet.
 *
 * Keying rules (the contract other modules rely on):
 * - the key is the innermost flow, after at most cfg->max_encap tunnels;
 * - a fragmented datagram (IPv4 MF or offset, IPv6 fragment header that is
 *   not atomic) keys on its addresses and protocol with ports zero, for
 *   every fragment, so all fragments of one datagram share a key;
 * - an ICMP/ICMPv6 error keys on the flow of the packet it quotes, turned
 *   around (the quoted packet went the other way), so it follows its flow;
 * - other protocols key on addresses and protocol, ports zero.
 *
 * Alignment: like the kernel (NET_IP_ALIGN), the frame must start 2 bytes
 * past a 4-byte boundary, so that IP headers are 4-byte aligned. Every
 * template length and the Ethernet header keep that true through
 * encapsulation and decapsulation. Userspace callers copy frames to such
 * an address (STEER_FRAME_ALIGN_OFF) before parsing.
 */
#ifndef STEER_PARSE_H
#define STEER_PARSE_H

#define STEER_FRAME_ALIGN_OFF 2

#include "flow.h"
#include "gue.h"
#include "hdr.h"

/*
 * Is p past the datagram (lim) or the frame (end)? Every bounds check of
 * a layer inside an IP datagram takes both: lim is what the packet says
 * (its IP length), end is what the BPF verifier understands (a comparison
 * with data_end is the only one that proves an access safe). lim never
 * lies past end, so userspace pays one compare it cannot skip.
 */
#define STEER_PAST(p, lim, end) ((void *)(p) > (end) || (void *)(p) > (lim))

#define STEER_MAX_VLANS 2
#define STEER_MAX_IP6_EXT 8
#define STEER_MAX_ENCAP 3 /* default and upper bound of cfg->max_encap */
/* Headers are looked for in the first STEER_PARSE_MAX_OFF bytes of a frame
 * of at most STEER_PARSE_MAX_LEN: bounds the BPF verifier can work with. */
#define STEER_PARSE_MAX_OFF 2048
#define STEER_PARSE_MAX_LEN 65535

/* Why a packet could not be parsed; the index of a drop counter. */
enum parse_err {
	PERR_NONE = 0,
	PERR_TRUNC_ETH,	    /* shorter than an Ethernet or VLAN header */
	PERR_VLAN_DEPTH,    /* more than STEER_MAX_VLANS tags */
	PERR_TRUNC_IP,	    /* IP header or datagram longer than the frame */
	PERR_BAD_IP,	    /* version, header length or total length wrong */
	PERR_IP6_EXT_DEPTH, /* more than STEER_MAX_IP6_EXT extension headers */
	PERR_TRUNC_L4,	    /* TCP/UDP/ICMP header cut short */
	PERR_BAD_L4,	    /* TCP data offset or UDP length impossible */
	PERR_ICMP_QUOTE,    /* ICMP error quoting too little to key on */
	PERR_ENCAP_DEPTH,   /* tunnels nested deeper than max_encap */
	PERR_BAD_GUE,	    /* GUE version, length or inner protocol wrong */
	PERR_DEEP_HDR,	    /* an IP header starts past STEER_PARSE_MAX_OFF */
	PERR__MAX
};

/* What the parser recognised, besides the key. */
enum {
	PKT_F_FRAG = 0x01,	 /* part of a fragmented datagram */
	PKT_F_ICMP_ERR = 0x02,	 /* ICMP error, keyed on the quoted flow */
	PKT_F_GUE_CTRL = 0x04,	 /* GUE control message (C bit) */
	PKT_F_STEER_PRIV = 0x08, /* outermost GUE carried steer's data */
	PKT_F_L4 = 0x10,	 /* ports are valid (TCP or UDP header seen) */
};

/* Kind of the outermost tunnel peeled. */
enum {
	TUN_NONE = 0,
	TUN_IPIP, /* IPv4 or IPv6 directly in IPv4 or IPv6 */
	TUN_GUE0,
	TUN_GUE1,
};

struct parse_cfg {
	__be16 gue_port; /* UDP destination port of GUE; 0 disables */
	__u8 max_encap;	 /* tunnels peeled at most, <= STEER_MAX_ENCAP */
};

struct pkt_meta {
	struct flow_key key;
	__u16 l2_len;	     /* Ethernet header plus VLAN tags */
	__u16 l3_off;	     /* innermost IP header */
	__u16 l3_end;	     /* end of the innermost IP datagram */
	__u16 l4_off;	     /* innermost L4 header, 0 if not parsed */
	__u16 tun_inner_off; /* inner IP of the outermost tunnel, 0: none */
	__u16 outer_l3_end;  /* end of the outermost IP datagram */
	__u16 vlan_tci[STEER_MAX_VLANS];
	__u8 vlans;
	__u8 depth;    /* tunnels peeled */
	__u8 tun_kind; /* TUN_* of the outermost tunnel */
	__u8 family;   /* 4 or 6, innermost */
	__u8 outer_family;
	__u8 flags;	/* PKT_F_* */
	__u8 tcp_flags; /* of the innermost TCP header */
	__u8 pad;
	__u16 walk; /* the parser's scratch (IPv6 extension headers) */
	__u16 pad2;
	struct steer_gue_priv priv; /* valid with PKT_F_STEER_PRIV */
};

/* Result of one layer: where the next one starts and what it is. */
struct parse_next {
	void *pos;
	__u8 proto;  /* L4 or tunnel protocol number */
	__u8 family; /* next IP family for tunnels */
	__u8 tun;    /* TUN_* kind of that tunnel */
};

static __always_inline int parse_eth(void **pos, void *end, struct pkt_meta *m,
				     __u16 *ethertype)
{
	struct steer_ethhdr *eth = *pos;
	__u16 proto;
	int i;

	if ((void *)(eth + 1) > end) /* Ethernet header complete */
		return -PERR_TRUNC_ETH;
	proto = steer_ntohs(eth->proto);
	*pos = eth + 1;

	STEER_UNROLL
	for (i = 0; i < STEER_MAX_VLANS + 1; i++) {
		struct steer_vlanhdr *vh = *pos;

		if (proto != STEER_ETH_P_8021Q && proto != STEER_ETH_P_8021AD)
			break;
		if (i == STEER_MAX_VLANS)
			return -PERR_VLAN_DEPTH;
		if ((void *)(vh + 1) > end) /* tag complete */
			return -PERR_TRUNC_ETH;
		m->vlan_tci[i] = steer_ntohs(vh->tci);
		m->vlans = i + 1;
		proto = steer_ntohs(vh->proto);
		*pos = vh + 1;
	}
	*ethertype = proto;
	return 0;
}

/*
 * IPv4 header at pos. On success *end_ip is the end of the datagram (by
 * its total length), and nx says what follows. A fragment sets PKT_F_FRAG
 * in *flags and nx->pos to NULL: its payload is never parsed.
 */
static __always_inline int parse_ipv4(void *pos, void *lim, void *end,
				      void **end_ip, struct flow_key *k,
				      __u8 *flags, struct parse_next *nx)
{
	struct steer_iphdr *ip = pos;
	__u32 ihl, tot;

	if (STEER_PAST((void *)(ip + 1), lim, end)) /* fixed 20-byte header */
		return -PERR_TRUNC_IP;
	if ((ip->ver_ihl >> 4) != 4)
		return -PERR_BAD_IP;
	ihl = (ip->ver_ihl & 0x0f) * 4;
	tot = steer_ntohs(ip->tot_len);
	if (ihl < sizeof(*ip) || tot < ihl)
		return -PERR_BAD_IP;
	if (STEER_PAST(pos + tot, lim,
		       end)) /* whole datagram present, options included */
		return -PERR_TRUNC_IP;
	*end_ip = pos + tot;

	flow_addr_set_v4(&k->src, ip->saddr);
	flow_addr_set_v4(&k->dst, ip->daddr);
	k->proto = ip->protocol;
	k->sport = 0;
	k->dport = 0;
	nx->proto = ip->protocol;
	nx->pos = pos + ihl;
	if (ip->frag_off & steer_htons(STEER_IP_MF | STEER_IP_OFFMASK)) {
		*flags |= PKT_F_FRAG;
		nx->pos = 0;
	}
	return 0;
}

/*
 * Walk an IPv6 extension-header chain starting with next header *nh,
 * *walk bytes past base (the IPv6 header), up to lim. Stops at the first
 * header that is not an extension header, with *walk its offset from
 * base; a non-atomic fragment header sets PKT_F_FRAG and stops with
 * *walk = 0 (the payload is not parsed).
 *
 * The offset lives in memory the caller owns (pkt_meta.walk) and is read
 * back every step: in BPF that memory is a global function's argument,
 * whose contents the verifier does not track, so every path reaches the
 * next step in one state and the chain costs it steps, not paths.
 */
static __always_inline int parse_ipv6_ext(void *base, void *lim, void *end,
					  __u16 *walk, __u8 *nh, __u8 *flags)
{
	int i;

	STEER_UNROLL
	for (i = 0; i < STEER_MAX_IP6_EXT; i++) {
		/* volatile: the compiler must not keep it in a register */
		__u32 off = *(volatile __u16 *)walk, len;
		struct steer_ip6_ext *eh;

		if (off > STEER_PARSE_MAX_OFF)
			return -PERR_DEEP_HDR;
		eh = (void *)((__u8 *)base + off);
		switch (*nh) {
		case STEER_IPPROTO_HOPOPTS:
		case STEER_IPPROTO_ROUTING:
		case STEER_IPPROTO_DSTOPTS:
		case STEER_IPPROTO_MH:
			if (STEER_PAST((void *)(eh + 1), lim, end))
				return -PERR_TRUNC_IP; /* next header, length */
			len = ((__u32)eh->hdrlen + 1) * 8;
			break;
		case STEER_IPPROTO_AH:
			if (STEER_PAST((void *)(eh + 1), lim, end))
				return -PERR_TRUNC_IP; /* next header, length */
			len = ((__u32)eh->hdrlen + 2) * 4;
			break;
		case STEER_IPPROTO_FRAGMENT: {
			struct steer_ip6_frag *fh = (void *)eh;

			if (STEER_PAST((void *)(fh + 1), lim, end))
				return -PERR_TRUNC_IP; /* fixed 8 bytes */
			*nh = fh->nexthdr;
			/* RFC 6946: an atomic fragment is a whole packet. */
			if (fh->frag_off &
			    steer_htons(STEER_IP6_OFFMASK | STEER_IP6_MF)) {
				*flags |= PKT_F_FRAG;
				*walk = 0;
				return 0;
			}
			*walk = (__u16)(off + sizeof(*fh));
			continue;
		}
		default:
			return 0;
		}
		if (STEER_PAST((__u8 *)eh + len, lim, end))
			return -PERR_TRUNC_IP; /* whole extension header */
		*nh = eh->nexthdr;
		*walk = (__u16)(off + len);
	}
	switch (*nh) {
	case STEER_IPPROTO_HOPOPTS:
	case STEER_IPPROTO_ROUTING:
	case STEER_IPPROTO_DSTOPTS:
	case STEER_IPPROTO_MH:
	case STEER_IPPROTO_AH:
	case STEER_IPPROTO_FRAGMENT:
		return -PERR_IP6_EXT_DEPTH;
	}
	return 0;
}

static __always_inline int parse_ipv6(void *pos, void *lim, void *end,
				      void **end_ip, struct flow_key *k,
				      __u8 *flags, __u16 *walk,
				      struct parse_next *nx)
{
	struct steer_ipv6hdr *ip6 = pos;
	__u8 nh;
	int err;

	if (STEER_PAST((void *)(ip6 + 1), lim, end)) /* fixed 40-byte header */
		return -PERR_TRUNC_IP;
	if ((steer_ntohl(ip6->ver_tc_flow) >> 28) != 6)
		return -PERR_BAD_IP;
	/* Payload length 0 means a jumbogram, which Ethernet cannot carry. */
	if (ip6->payload_len == 0 && ip6->nexthdr != STEER_IPPROTO_NONE)
		return -PERR_BAD_IP;
	if (STEER_PAST((void *)(ip6 + 1) + steer_ntohs(ip6->payload_len), lim,
		       end))
		return -PERR_TRUNC_IP; /* whole datagram present */
	*end_ip = (void *)(ip6 + 1) + steer_ntohs(ip6->payload_len);

	__builtin_memcpy(k->src.b, ip6->saddr, 16);
	__builtin_memcpy(k->dst.b, ip6->daddr, 16);
	k->sport = 0;
	k->dport = 0;
	nh = ip6->nexthdr;
	*walk = sizeof(*ip6);
	err = parse_ipv6_ext(ip6, *end_ip, end, walk, &nh, flags);
	if (err)
		return err;
	k->proto = nh;
	nx->proto = nh;
	nx->pos = *walk ? (void *)((__u8 *)ip6 + *walk) : 0;
	return 0;
}

/* ICMPv4 types that quote the packet that caused them. */
static __always_inline int icmp4_is_error(__u8 type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * The quoted packet of an ICMP error: its IP header (options and IPv6
 * extension headers walked) and the first four bytes of its L4 header,
 * which hold the ports. Fills k with the quoted flow as it was sent.
 * Quotes are cut short by design, so no total length is checked.
 */
static __always_inline int parse_icmp_quote(void *pos, void *lim, void *end,
					    int v6, struct flow_key *k,
					    __u16 *walk)
{
	__u8 qflags = 0;
	__be16 *ports;
	void *l4;

	if (!v6) {
		struct steer_iphdr *ip = pos;
		__u32 ihl;

		if (STEER_PAST((void *)(ip + 1), lim,
			       end)) /* quoted fixed header */
			return -PERR_ICMP_QUOTE;
		ihl = (ip->ver_ihl & 0x0f) * 4;
		if ((ip->ver_ihl >> 4) != 4 || ihl < sizeof(*ip))
			return -PERR_ICMP_QUOTE;
		flow_addr_set_v4(&k->src, ip->saddr);
		flow_addr_set_v4(&k->dst, ip->daddr);
		k->proto = ip->protocol;
		l4 = pos + ihl;
		if (ip->frag_off & steer_htons(STEER_IP_OFFMASK))
			qflags |= PKT_F_FRAG;
		if (ip->frag_off & steer_htons(STEER_IP_MF))
			qflags |= PKT_F_FRAG;
	} else {
		struct steer_ipv6hdr *ip6 = pos;
		__u8 nh;
		int err;

		if (STEER_PAST((void *)(ip6 + 1), lim,
			       end)) /* quoted fixed header */
			return -PERR_ICMP_QUOTE;
		if ((steer_ntohl(ip6->ver_tc_flow) >> 28) != 6)
			return -PERR_ICMP_QUOTE;
		__builtin_memcpy(k->src.b, ip6->saddr, 16);
		__builtin_memcpy(k->dst.b, ip6->daddr, 16);
		nh = ip6->nexthdr;
		*walk = sizeof(*ip6);
		err = parse_ipv6_ext(ip6, lim, end, walk, &nh, &qflags);
		if (err)
			return -PERR_ICMP_QUOTE;
		l4 = (__u8 *)ip6 + *walk;
		k->proto = nh;
	}
	k->sport = 0;
	k->dport = 0;
	if (qflags & PKT_F_FRAG)
		return 0;
	if (k->proto != STEER_IPPROTO_TCP && k->proto != STEER_IPPROTO_UDP)
		return 0;
	ports = l4;
	if (STEER_PAST((void *)(ports + 2), lim,
		       end)) /* quoted source and destination port */
		return -PERR_ICMP_QUOTE;
	k->sport = ports[0];
	k->dport = ports[1];
	return 0;
}

/* ICMP or ICMPv6 at pos; an error re-keys m->key on the quoted flow. */
static __always_inline int parse_icmp(void *pos, void *lim, void *end, int v6,
				      struct pkt_meta *m)
{
	struct steer_icmphdr *ic = pos;
	struct flow_key q;
	int err;

	if (STEER_PAST((void *)(ic + 1), lim,
		       end)) /* type, code, checksum, 4 more bytes */
		return -PERR_TRUNC_L4;
	if (v6 ? ic->type >= 128 : !icmp4_is_error(ic->type))
		return 0;
	__builtin_memset(&q, 0, sizeof(q));
	err = parse_icmp_quote(ic + 1, lim, end, v6, &q, &m->walk);
	if (err)
		return err;
	flow_key_reverse(&m->key, &q);
	m->flags |= PKT_F_ICMP_ERR;
	return 0;
}

/*
 * GUE after a UDP header at pos. Returns 1 with nx filled when it carries
 * an inner IP packet to peel, 0 for a control message (keyed as plain
 * UDP), or a negative parse_err.
 */
static __always_inline int parse_gue(void *pos, void *lim, void *end,
				     struct pkt_meta *m, struct parse_next *nx)
{
	struct steer_guehdr *g = pos;
	__u8 *ipver = pos;
	__u32 hlen;

	if (STEER_PAST((void *)(ipver + 1), lim,
		       end)) /* first byte names the variant */
		return -PERR_BAD_GUE;
	if (STEER_GUE_VER(*ipver) == 1) {
		/* Variant 1: an IP header follows the UDP header directly. */
		nx->pos = pos;
		nx->tun = TUN_GUE1;
		nx->family = (*ipver >> 4) == 6 ? 6 : 4;
		if ((*ipver >> 4) != 4 && (*ipver >> 4) != 6)
			return -PERR_BAD_GUE;
		return 1;
	}
	if (STEER_GUE_VER(*ipver) != 0)
		return -PERR_BAD_GUE;
	if (STEER_PAST((void *)(g + 1), lim, end)) /* fixed 4-byte header */
		return -PERR_BAD_GUE;
	hlen = STEER_GUE_HLEN(g->vch) * 4;
	if (STEER_PAST((void *)(g + 1) + hlen, lim,
		       end)) /* optional fields present */
		return -PERR_BAD_GUE;
	if (STEER_GUE_C(g->vch)) {
		m->flags |= PKT_F_GUE_CTRL;
		return 0;
	}
	if (m->depth == 0 && g->flags == 0 &&
	    hlen >= sizeof(struct steer_gue_priv)) {
		struct steer_gue_priv *pd = (void *)(g + 1);

		/* Implied by hlen, stated again for the verifier. */
		if (STEER_PAST((void *)(pd + 1), lim, end))
			return -PERR_BAD_GUE;
		if (pd->magic == STEER_GUE_PRIV_MAGIC) {
			m->priv = *pd;
			m->flags |= PKT_F_STEER_PRIV;
		}
	}
	nx->pos = (void *)(g + 1) + hlen;
	nx->tun = TUN_GUE0;
	if (g->proto == STEER_IPPROTO_IPIP)
		nx->family = 4;
	else if (g->proto == STEER_IPPROTO_IPV6)
		nx->family = 6;
	else
		return -PERR_BAD_GUE;
	return 1;
}

/*
 * L4 of the current layer. Returns 1 when a tunnel continues at nx, 0
 * when this is the innermost layer, or a negative parse_err.
 */
static __always_inline int parse_l4(void *lim, void *end, int v6,
				    const struct parse_cfg *cfg,
				    struct pkt_meta *m, struct parse_next *nx)
{
	void *pos = nx->pos;

	switch (nx->proto) {
	case STEER_IPPROTO_TCP: {
		struct steer_tcphdr *th = pos;

		if (STEER_PAST((void *)(th + 1), lim,
			       end)) /* fixed 20-byte header */
			return -PERR_TRUNC_L4;
		if ((th->doff_res >> 4) < 5)
			return -PERR_BAD_L4;
		m->key.sport = th->source;
		m->key.dport = th->dest;
		m->tcp_flags = th->flags;
		m->flags |= PKT_F_L4;
		return 0;
	}
	case STEER_IPPROTO_UDP: {
		struct steer_udphdr *uh = pos;

		if (STEER_PAST((void *)(uh + 1), lim,
			       end)) /* fixed 8-byte header */
			return -PERR_TRUNC_L4;
		if (steer_ntohs(uh->len) < sizeof(*uh) && uh->len != 0)
			return -PERR_BAD_L4;
		m->key.sport = uh->source;
		m->key.dport = uh->dest;
		m->flags |= PKT_F_L4;
		if (cfg->gue_port && uh->dest == cfg->gue_port) {
			nx->pos = uh + 1;
			return parse_gue(uh + 1, lim, end, m, nx);
		}
		return 0;
	}
	case STEER_IPPROTO_ICMP:
		return v6 ? 0 : parse_icmp(pos, lim, end, 0, m);
	case STEER_IPPROTO_ICMPV6:
		return v6 ? parse_icmp(pos, lim, end, 1, m) : 0;
	case STEER_IPPROTO_IPIP:
		nx->family = 4;
		nx->tun = TUN_IPIP;
		return 1;
	case STEER_IPPROTO_IPV6:
		nx->family = 6;
		nx->tun = TUN_IPIP;
		return 1;
	}
	return 0;
}

/*
 * Where the next IP layer starts: offsets from the frame's start, so a
 * BPF caller can hand it to a global function (see parse_layer()).
 */
struct parse_cursor {
	__u32 off;   /* first byte of the IP header */
	__u32 lim;   /* end of what contains it: frame or outer datagram */
	__u8 family; /* 4 or 6 */
	__u8 depth;  /* tunnels peeled before this layer */
	__u8 pad[2];
};

/*
 * Ethernet and VLAN tags of the frame [data, data_end): fills m->l2_len
 * and the cursor of the first IP layer. Returns 0, 1 for a frame that is
 * not IP (ARP, LLDP: no flow, not an error), or -parse_err. Clears m.
 */
static __always_inline int parse_begin(void *data, void *data_end,
				       struct pkt_meta *m,
				       struct parse_cursor *c)
{
	void *pos = data;
	__u16 ethertype;
	int err;

	__builtin_memset(m, 0, sizeof(*m));
	err = parse_eth(&pos, data_end, m, &ethertype);
	if (err)
		return err;
	m->l2_len = (__u16)(pos - data);
	if (ethertype == STEER_ETH_P_IP)
		c->family = 4;
	else if (ethertype == STEER_ETH_P_IPV6)
		c->family = 6;
	else
		return 1;
	m->outer_family = c->family;
	c->off = m->l2_len;
	c->lim = (__u32)(data_end - data);
	c->depth = 0;
	return 0;
}

/*
 * One IP layer at the cursor: the IP header, its L4 header, and whether a
 * tunnel continues inside. Returns 0 when this is the innermost layer (m
 * complete), 1 with the cursor moved to the inner IP packet, or
 * -parse_err (PERR_ENCAP_DEPTH past cfg->max_encap tunnels).
 *
 * Offsets are re-read from the cursor and bounded here, so the BPF
 * verifier can check this function once on its own (a global function)
 * instead of once per path through every outer layer.
 */
static __always_inline int parse_layer(void *data, void *data_end,
				       const struct parse_cfg *cfg,
				       struct pkt_meta *m,
				       struct parse_cursor *c)
{
	struct parse_next nx = {};
	void *pos, *lim, *end_ip;
	__u32 off = c->off, d = c->depth;
	__u8 family = c->family;
	int err;

	if (off > STEER_PARSE_MAX_OFF || c->lim > STEER_PARSE_MAX_LEN ||
	    d > STEER_MAX_ENCAP)
		return -PERR_DEEP_HDR;
	pos = (__u8 *)data + off;
	lim = (__u8 *)data + c->lim;
	m->l3_off = (__u16)off;
	m->family = family;
	m->l4_off = 0;
	m->flags &= ~(PKT_F_FRAG | PKT_F_L4);
	if (family == 4)
		err = parse_ipv4(pos, lim, data_end, &end_ip, &m->key,
				 &m->flags, &nx);
	else
		err = parse_ipv6(pos, lim, data_end, &end_ip, &m->key,
				 &m->flags, &m->walk, &nx);
	if (err)
		return err;
	m->l3_end = (__u16)(end_ip - data);
	if (d == 0)
		m->outer_l3_end = m->l3_end;
	if (!nx.pos)
		return 0; /* fragment: keyed on addresses only */
	m->l4_off = (__u16)(nx.pos - data);
	/* Ethernet padding is not payload: the datagram bounds the rest. */
	err = parse_l4(end_ip, data_end, family == 6, cfg, m, &nx);
	if (err <= 0)
		return err;
	/* A tunnel: peel it if the nesting limit allows. */
	if (d >= cfg->max_encap)
		return -PERR_ENCAP_DEPTH;
	if (d == 0) {
		m->tun_inner_off = (__u16)(nx.pos - data);
		m->tun_kind = nx.tun;
	}
	m->depth = (__u8)(d + 1);
	m->tcp_flags = 0;
	c->off = (__u32)(nx.pos - data);
	c->lim = m->l3_end;
	c->family = nx.family;
	c->depth = (__u8)(d + 1);
	return 1;
}

/*
 * The L4 header of parse_fast(): TCP or UDP at l4, whose datagram holds
 * at least its fixed header. 0 with ports (and TCP flags) in m, 1 for
 * anything the full parser must judge.
 */
static __always_inline int parse_fast_l4(__u8 *l4, void *data_end, __u8 proto,
					 const struct parse_cfg *cfg,
					 struct pkt_meta *m)
{
	if (proto == STEER_IPPROTO_TCP) {
		struct steer_tcphdr *th = (void *)l4;

		if ((void *)(th + 1) > data_end || (th->doff_res >> 4) < 5)
			return 1; /* the first check is implied by the length */
		m->key.sport = th->source;
		m->key.dport = th->dest;
		m->tcp_flags = th->flags;
	} else {
		struct steer_udphdr *uh = (void *)l4;

		if ((void *)(uh + 1) > data_end ||
		    (steer_ntohs(uh->len) < sizeof(*uh) && uh->len != 0) ||
		    (cfg->gue_port && uh->dest == cfg->gue_port))
			return 1;
		m->key.sport = uh->source;
		m->key.dport = uh->dest;
	}
	m->key.proto = proto;
	m->flags = PKT_F_L4;
	return 0;
}

/* The fixed header of TCP or UDP; 0 for another protocol. */
static __always_inline __u32 parse_fast_l4_min(__u8 proto)
{
	return proto == STEER_IPPROTO_TCP   ? sizeof(struct steer_tcphdr)
	       : proto == STEER_IPPROTO_UDP ? sizeof(struct steer_udphdr)
					    : 0;
}

/*
 * The common shapes in one pass: Ethernet without tags, then IPv4
 * without options or fragmentation, or IPv6 without extension headers,
 * then TCP, or UDP not to the GUE port. Returns 0 with m exactly as
 * parse_packet_full() fills it for such a frame, or 1 when the frame has
 * another shape or anything to complain about (the full parser then
 * takes it, errors included). Saves the layer-by-layer walk for most
 * packets.
 */
static __always_inline int parse_fast(void *data, void *data_end,
				      const struct parse_cfg *cfg,
				      struct pkt_meta *m)
{
	struct steer_ethhdr *eth = data;
	__u32 l4min, len;

	if ((void *)(eth + 1) > data_end)
		return 1;
	if (eth->proto == steer_htons(STEER_ETH_P_IP)) {
		struct steer_iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ver_ihl != 0x45 ||
		    (ip->frag_off &
		     steer_htons(STEER_IP_MF | STEER_IP_OFFMASK)))
			return 1;
		l4min = parse_fast_l4_min(ip->protocol);
		len = steer_ntohs(ip->tot_len);
		if (!l4min || len < sizeof(*ip) + l4min ||
		    (__u8 *)ip + len > (__u8 *)data_end)
			return 1;
		__builtin_memset(m, 0, sizeof(*m));
		if (parse_fast_l4((__u8 *)(ip + 1), data_end, ip->protocol, cfg,
				  m))
			return 1;
		flow_addr_set_v4(&m->key.src, ip->saddr);
		flow_addr_set_v4(&m->key.dst, ip->daddr);
		m->family = 4;
		m->l4_off = sizeof(*eth) + sizeof(*ip);
	} else if (eth->proto == steer_htons(STEER_ETH_P_IPV6)) {
		struct steer_ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end ||
		    (steer_ntohl(ip6->ver_tc_flow) >> 28) != 6)
			return 1;
		l4min = parse_fast_l4_min(ip6->nexthdr);
		len = steer_ntohs(ip6->payload_len);
		if (!l4min || len < l4min ||
		    (__u8 *)(ip6 + 1) + len > (__u8 *)data_end)
			return 1;
		__builtin_memset(m, 0, sizeof(*m));
		if (parse_fast_l4((__u8 *)(ip6 + 1), data_end, ip6->nexthdr,
				  cfg, m))
			return 1;
		__builtin_memcpy(m->key.src.b, ip6->saddr, 16);
		__builtin_memcpy(m->key.dst.b, ip6->daddr, 16);
		m->family = 6;
		m->l4_off = sizeof(*eth) + sizeof(*ip6);
		m->walk = sizeof(*ip6); /* as the extension walk leaves it */
		len += sizeof(*ip6);
	} else {
		return 1;
	}
	m->l2_len = sizeof(*eth);
	m->l3_off = sizeof(*eth);
	m->l3_end = (__u16)(sizeof(*eth) + len);
	m->outer_l3_end = m->l3_end;
	m->outer_family = m->family;
	return 0;
}

/* parse_packet() without the shortcut of parse_fast(). */
static __always_inline int parse_packet_full(void *data, void *data_end,
					     const struct parse_cfg *cfg,
					     struct pkt_meta *m)
{
	struct parse_cursor c;
	int d, rc;

	rc = parse_begin(data, data_end, m, &c);
	if (rc)
		return rc;
	STEER_UNROLL
	for (d = 0; d <= STEER_MAX_ENCAP; d++) {
		rc = parse_layer(data, data_end, cfg, m, &c);
		if (rc <= 0)
			return rc;
	}
	return -PERR_ENCAP_DEPTH;
}

/*
 * Parse the frame [data, data_end): parse_fast() for the common shapes,
 * else parse_begin() and parse_layer() until the innermost layer (both
 * give the same m: the parse fuzz target checks it). Returns 0 with m
 * filled for an IP packet, 1 for a frame that is not IP, or -parse_err.
 * m is fully written in every case; on error only the fields up to the
 * failing layer are meaningful.
 */
static __always_inline int parse_packet(void *data, void *data_end,
					const struct parse_cfg *cfg,
					struct pkt_meta *m)
{
	if (!parse_fast(data, data_end, cfg, m))
		return 0;
	return parse_packet_full(data, data_end, cfg, m);
}

#endif /* STEER_PARSE_H */
