/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Wire headers, declared here (no bitfields) so BPF and userspace share
 * one definition and no libc or kernel uapi header order matters.
 */
#ifndef STEER_HDR_H
#define STEER_HDR_H

#include "compiler.h"

#define STEER_ETH_ALEN 6
#define STEER_ETH_P_IP 0x0800
#define STEER_ETH_P_IPV6 0x86dd
#define STEER_ETH_P_8021Q 0x8100
#define STEER_ETH_P_8021AD 0x88a8
#define STEER_ETH_P_ARP 0x0806

struct steer_ethhdr {
	__u8 dst[STEER_ETH_ALEN];
	__u8 src[STEER_ETH_ALEN];
	__be16 proto;
} __attribute__((packed));

struct steer_vlanhdr {
	__be16 tci;
	__be16 proto; /* encapsulated ethertype */
};

struct steer_iphdr {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__be32 saddr;
	__be32 daddr;
};

#define STEER_IP_MF 0x2000
#define STEER_IP_DF 0x4000
#define STEER_IP_OFFMASK 0x1fff

struct steer_ipv6hdr {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct steer_ip6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct steer_ip6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset (13 bits) | res (2) | M (1) */
	__be32 id;
};

#define STEER_IP6_MF 0x0001
#define STEER_IP6_OFFMASK 0xfff8

struct steer_tcphdr {
	__be16 source;
	__be16 dest;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff_res; /* data offset (4 bits) | reserved */
	__u8 flags;
	__be16 window;
	__u16 check;
	__be16 urg_ptr;
};

#define STEER_TCP_FIN 0x01
#define STEER_TCP_SYN 0x02
#define STEER_TCP_RST 0x04
#define STEER_TCP_PSH 0x08
#define STEER_TCP_ACK 0x10

struct steer_udphdr {
	__be16 source;
	__be16 dest;
	__be16 len;
	__u16 check;
};

struct steer_icmphdr {
	__u8 type;
	__u8 code;
	__u16 check;
	__be32 rest;
};

#endif /* STEER_HDR_H */
