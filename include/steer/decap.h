/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Decapsulation of the outermost tunnel that parse_packet() peeled: the
 * outer IP (and UDP and GUE) headers and any VLAN tags go, the Ethernet
 * addresses stay, the EtherType follows the inner family. The inner IP
 * packet is left byte for byte as it was.
 */
#ifndef STEER_DECAP_H
#define STEER_DECAP_H

#include "parse.h"

/* Largest offset of an inner packet that is decapsulated: Ethernet, two
 * VLAN tags, IPv6 with extension headers, UDP and GUE fit well within. */
#define STEER_DECAP_MAX_OFF 512

/*
 * Rewrite the Ethernet header just in front of the inner IP packet of the
 * outermost tunnel in m. Returns the number of bytes to remove from the
 * head of the frame (bpf_xdp_adjust_head() or a pointer bump), or -1 when
 * m has no tunnel. Only the bytes in front of the inner packet change.
 */
static __always_inline int steer_decap_prepare(void *data, void *data_end,
					       const struct pkt_meta *m)
{
	struct steer_ethhdr *neth;
	__u8 *inner;
	__u8 mac[2 * STEER_ETH_ALEN];
	__u32 hoff = m->tun_inner_off;

	/* Outer headers of 20..STEER_DECAP_MAX_OFF bytes after Ethernet;
	 * the upper bound also lets the verifier bound the offset. */
	if (m->tun_kind == TUN_NONE || hoff < sizeof(*neth) + 20 ||
	    hoff > STEER_DECAP_MAX_OFF)
		return -1;
	hoff -= sizeof(*neth);
	neth = (void *)((__u8 *)data + hoff);
	inner = (__u8 *)(neth + 1);
	if ((void *)(inner + 1) > data_end) /* new Ethernet + version nibble */
		return -1;
	if ((void *)((__u8 *)data + sizeof(mac)) > data_end) /* old MACs */
		return -1;
	/* The old MACs sit at offset 0, before neth; copy via a buffer. */
	__builtin_memcpy(mac, data, sizeof(mac));
	__builtin_memcpy(neth, mac, sizeof(mac));
	neth->proto = steer_htons((*inner >> 4) == 6 ? STEER_ETH_P_IPV6
						     : STEER_ETH_P_IP);
	return (int)hoff;
}

/*
 * What parsing the frame again would give once steer_decap_prepare()'s
 * strip bytes are gone, without parsing: with one tunnel (depth 1) its
 * inner layer is the innermost and was parsed already, so only offsets
 * move. Returns 0 with m describing the new frame, or -1 when m had more
 * tunnels (the caller parses the new frame). Saves a parse per packet
 * steered to this node.
 */
static __always_inline int steer_decap_meta(struct pkt_meta *m, __u32 strip)
{
	if (m->depth != 1)
		return -1;
	m->l2_len = sizeof(struct steer_ethhdr);
	m->l3_off = (__u16)(m->l3_off - strip);
	m->l3_end = (__u16)(m->l3_end - strip);
	if (m->l4_off)
		m->l4_off = (__u16)(m->l4_off - strip);
	m->outer_l3_end = m->l3_end;
	m->outer_family = m->family;
	m->depth = 0;
	m->tun_kind = TUN_NONE;
	m->tun_inner_off = 0;
	m->vlans = 0;
	m->vlan_tci[0] = 0;
	m->vlan_tci[1] = 0;
	return 0;
}

#endif /* STEER_DECAP_H */
