/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Templates: pre-computed outer headers (Ethernet, IPv4 or IPv6, and for
 * GUE a UDP header and a GUE header) for one target. Applying one is a
 * copy of a constant-length block plus a few stores: lengths, the IPv4
 * checksum finished from a pre-computed partial sum, the inner protocol,
 * the outer UDP source port (flow entropy) and steer's per-packet data.
 *
 * Kinds: GUE0 (node to node, steer's private data), GUE1 (inner IP right
 * after UDP, for backends) and IPIP (IPv4/IPv6 in IPv4/IPv6, protocol 4
 * or 41 by the inner family, for backends).
 */
#ifndef STEER_TMPL_H
#define STEER_TMPL_H

#include "flow.h"
#include "gue.h"
#include "hdr.h"

enum steer_tmpl_kind {
	STEER_TMPL_NONE = 0,
	STEER_TMPL_GUE0 = 1,
	STEER_TMPL_GUE1 = 2,
	STEER_TMPL_IPIP = 3,
};

#define STEER_TMPL_MAX 80 /* 14 + 40 + 8 + 16 = 78, rounded up */

struct steer_tmpl {
	__u8 hdr[STEER_TMPL_MAX];
	__u8 len;    /* bytes of hdr in use */
	__u8 kind;   /* enum steer_tmpl_kind */
	__u8 family; /* outer IP family: 4 or 6 */
	__u8 pad;
	__u32 csum_base; /* IPv4: sum of the header, tot_len and protocol 0 */
};

/* Per-packet values written into a template. */
struct steer_tmpl_args {
	__be16 sport; /* outer UDP source port, from the flow hash */
	__u8 flags;   /* STEER_GUE_F_* (GUE0) */
	__u8 hops;    /* steer hops including this one (GUE0) */
	__be32 epoch; /* owner epoch (GUE0) */
};

static __always_inline __u16 steer_csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Outer header length of a kind and family; 0 for an unknown pair. */
static __always_inline __u32 steer_tmpl_len(__u8 kind, __u8 family)
{
	__u32 ip = family == 6 ? sizeof(struct steer_ipv6hdr)
			       : sizeof(struct steer_iphdr);
	__u32 l2 = sizeof(struct steer_ethhdr);

	switch (kind) {
	case STEER_TMPL_GUE0:
		return l2 + ip + sizeof(struct steer_udphdr) + STEER_GUE0_LEN;
	case STEER_TMPL_GUE1:
		return l2 + ip + sizeof(struct steer_udphdr);
	case STEER_TMPL_IPIP:
		return l2 + ip;
	}
	return 0;
}

/*
 * Copy n bytes, n a compile-time constant, to d, which lies 2 bytes past
 * a 4-byte boundary as frames do (parse.h). In BPF a memcpy to a packet
 * (whose alignment the compiler cannot know) becomes n single-byte
 * moves; one 2-byte move and then 4-byte words take a quarter of that.
 * The verifier wants stack stores aligned (hence the 2 + 4k layout, which
 * the stack copy of xdp_tmpl_write() keeps) and allows unaligned packet
 * and map-value access.
 */
#ifdef __bpf__
static __always_inline void steer_copy_const(__u8 *d, const __u8 *s,
					     const __u32 n)
{
	__u32 i = 2;

	*(__u16 *)d = *(const __u16 *)s;
#pragma unroll
	for (; i + 4 <= n; i += 4)
		*(__u32 *)(d + i) = *(const __u32 *)(s + i);
	if (n - i >= 2) {
		*(__u16 *)(d + i) = *(const __u16 *)(s + i);
		i += 2;
	}
	if (n > i)
		d[i] = s[i];
}
#define STEER_TMPL_COPY(d, s, n)                                               \
	do {                                                                   \
		if (words)                                                     \
			steer_copy_const(d, s, n);                             \
		else                                                           \
			__builtin_memcpy(d, s, n);                             \
	} while (0)
#else
#define STEER_TMPL_COPY(d, s, n) __builtin_memcpy(d, s, n)
#endif

/*
 * Write template t in front of an inner IP packet of inner_len bytes and
 * family inner_family (4 or 6): out points t->len bytes before the inner
 * IP header and must be writable for t->len bytes. Returns 0, or -1 if the
 * template is not one of the six valid kind/family pairs or the result
 * would exceed 65535 bytes (nothing is written then). words (a constant)
 * copies the template in words (steer_copy_const(): BPF, to a packet, out
 * 2 bytes past a 4-byte boundary); 0 copies plainly.
 */
static __always_inline int
steer_tmpl_apply_copy(void *out, const struct steer_tmpl *t, __u32 inner_len,
		      __u8 inner_family, const struct steer_tmpl_args *a,
		      const int words)
{
	__u8 inner_proto =
		inner_family == 6 ? STEER_IPPROTO_IPV6 : STEER_IPPROTO_IPIP;
	__u32 l2 = sizeof(struct steer_ethhdr), ip_len;
	__u8 *o = out;
	void *l4;

	if (inner_len > 65535 - STEER_TMPL_MAX)
		return -1;
	/* Constant-size copies: BPF needs compile-time lengths. */
	if (t->family == 4) {
		struct steer_iphdr *ip = (void *)(o + l2);
		__u8 proto;

		switch (t->kind) {
		case STEER_TMPL_GUE0:
			STEER_TMPL_COPY(o, t->hdr,
					14 + 20 + 8 + STEER_GUE0_LEN);
			break;
		case STEER_TMPL_GUE1:
			STEER_TMPL_COPY(o, t->hdr, 14 + 20 + 8);
			break;
		case STEER_TMPL_IPIP:
			STEER_TMPL_COPY(o, t->hdr, 14 + 20);
			break;
		default:
			return -1;
		}
		ip_len = t->len - l2 + inner_len;
		proto = t->kind == STEER_TMPL_IPIP ? inner_proto
						   : STEER_IPPROTO_UDP;
		ip->tot_len = steer_htons((__u16)ip_len);
		ip->protocol = proto;
		ip->check = steer_htons(
			(__u16)~steer_csum_fold(t->csum_base + ip_len + proto));
		l4 = ip + 1;
	} else if (t->family == 6) {
		struct steer_ipv6hdr *ip6 = (void *)(o + l2);

		switch (t->kind) {
		case STEER_TMPL_GUE0:
			STEER_TMPL_COPY(o, t->hdr,
					14 + 40 + 8 + STEER_GUE0_LEN);
			break;
		case STEER_TMPL_GUE1:
			STEER_TMPL_COPY(o, t->hdr, 14 + 40 + 8);
			break;
		case STEER_TMPL_IPIP:
			STEER_TMPL_COPY(o, t->hdr, 14 + 40);
			break;
		default:
			return -1;
		}
		ip_len = t->len - l2 - sizeof(*ip6) + inner_len;
		ip6->payload_len = steer_htons((__u16)ip_len);
		ip6->nexthdr = t->kind == STEER_TMPL_IPIP ? inner_proto
							  : STEER_IPPROTO_UDP;
		l4 = ip6 + 1;
	} else {
		return -1;
	}
	if (t->kind != STEER_TMPL_IPIP) {
		struct steer_udphdr *uh = l4;

		/* Zero UDP checksum: RFC 768 (IPv4), RFC 6935 (IPv6 tunnels). */
		uh->source = a->sport;
		uh->len = steer_htons(
			(__u16)(t->len - ((__u8 *)uh - o) + inner_len));
		uh->check = 0;
		if (t->kind == STEER_TMPL_GUE0) {
			struct steer_guehdr *g = (void *)(uh + 1);
			struct steer_gue_priv *pd = (void *)(g + 1);

			g->proto = inner_proto;
			pd->flags = a->flags;
			pd->hops = a->hops;
			pd->epoch = a->epoch;
		}
	}
	return 0;
}

/* steer_tmpl_apply_copy() with plain copies: any destination. */
static __always_inline int steer_tmpl_apply(void *out,
					    const struct steer_tmpl *t,
					    __u32 inner_len, __u8 inner_family,
					    const struct steer_tmpl_args *a)
{
	return steer_tmpl_apply_copy(out, t, inner_len, inner_family, a, 0);
}

#endif /* STEER_TMPL_H */
