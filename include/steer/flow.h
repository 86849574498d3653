/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The flow key: protocol plus both addresses and ports, IPv4 and IPv6.
 *
 * IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), so one layout
 * serves both families and the family is implied by the address itself.
 * The key is 40 bytes, padding zeroed, so it can be hashed and compared
 * as five 64-bit words and used as a BPF map key as it is.
 */
#ifndef STEER_FLOW_H
#define STEER_FLOW_H

#include "compiler.h"

struct flow_addr {
	union {
		__u8 b[16];
		__be32 w[4];
		__u64 q[2];
	};
};

struct flow_key {
	struct flow_addr src;
	struct flow_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Protocol numbers the parser knows by name. */
enum {
	STEER_IPPROTO_HOPOPTS = 0,
	STEER_IPPROTO_ICMP = 1,
	STEER_IPPROTO_IPIP = 4,
	STEER_IPPROTO_TCP = 6,
	STEER_IPPROTO_UDP = 17,
	STEER_IPPROTO_IPV6 = 41,
	STEER_IPPROTO_ROUTING = 43,
	STEER_IPPROTO_FRAGMENT = 44,
	STEER_IPPROTO_GRE = 47,
	STEER_IPPROTO_ESP = 50,
	STEER_IPPROTO_AH = 51,
	STEER_IPPROTO_ICMPV6 = 58,
	STEER_IPPROTO_NONE = 59,
	STEER_IPPROTO_DSTOPTS = 60,
	STEER_IPPROTO_MH = 135,
};

static __always_inline void flow_addr_set_v4(struct flow_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = steer_htonl(0x0000ffff);
	a->w[3] = v4;
}

static __always_inline int flow_addr_is_v4(const struct flow_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 &&
	       a->w[2] == steer_htonl(0x0000ffff);
}

static __always_inline int flow_key_is_v4(const struct flow_key *k)
{
	return flow_addr_is_v4(&k->dst);
}

static __always_inline int flow_key_equal(const struct flow_key *a,
					  const struct flow_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		(x[4] ^ y[4])) == 0;
}

/* The key of the opposite direction of the same flow. */
static __always_inline void flow_key_reverse(struct flow_key *out,
					     const struct flow_key *in)
{
	out->src = in->dst;
	out->dst = in->src;
	out->sport = in->dport;
	out->dport = in->sport;
	out->proto = in->proto;
	out->pad[0] = out->pad[1] = out->pad[2] = 0;
}

#endif /* STEER_FLOW_H */
