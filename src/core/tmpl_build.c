// SPDX-License-Identifier: GPL-2.0-only
#include "core/tmpl_build.h"

#include <errno.h>
#include <string.h>

/* Ones-complement sum of big-endian 16-bit words, not folded. */
static uint32_t csum_words(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0, i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	return sum;
}

static uint32_t tmpl_put_ipv4(uint8_t *p, const struct tmpl_spec *s,
			      uint32_t *csum_base)
{
	struct steer_iphdr ip;

	memset(&ip, 0, sizeof(ip));
	ip.ver_ihl = 0x45;
	ip.frag_off = steer_htons(STEER_IP_DF);
	ip.ttl = s->ttl ? s->ttl : 64;
	ip.saddr = s->saddr.w[3];
	ip.daddr = s->daddr.w[3];
	/* tot_len, protocol and check stay 0: added per packet. */
	memcpy(p, &ip, sizeof(ip));
	*csum_base = csum_words(p, sizeof(ip));
	return sizeof(ip);
}

static uint32_t tmpl_put_ipv6(uint8_t *p, const struct tmpl_spec *s)
{
	struct steer_ipv6hdr ip6;

	memset(&ip6, 0, sizeof(ip6));
	ip6.ver_tc_flow = steer_htonl(6u << 28);
	ip6.hop_limit = s->ttl ? s->ttl : 64;
	memcpy(ip6.saddr, s->saddr.b, 16);
	memcpy(ip6.daddr, s->daddr.b, 16);
	memcpy(p, &ip6, sizeof(ip6));
	return sizeof(ip6);
}

static uint32_t tmpl_put_gue0(uint8_t *p, const struct tmpl_spec *s)
{
	struct steer_guehdr g = {
		.vch = (uint8_t)STEER_GUE_PRIV_WORDS, /* ver 0, C 0 */
	};
	struct steer_gue_priv pd = {
		.magic = STEER_GUE_PRIV_MAGIC,
		.version = STEER_GUE_PRIV_VERSION,
		.origin = steer_htons(s->origin),
	};

	memcpy(p, &g, sizeof(g));
	memcpy(p + sizeof(g), &pd, sizeof(pd));
	return sizeof(g) + sizeof(pd);
}

int tmpl_build(struct steer_tmpl *t, const struct tmpl_spec *s)
{
	int v4 = flow_addr_is_v4(&s->daddr);
	struct steer_ethhdr eth;
	uint8_t *p = t->hdr;
	uint32_t off;

	if (v4 != flow_addr_is_v4(&s->saddr))
		return -EINVAL;
	if (s->kind != STEER_TMPL_GUE0 && s->kind != STEER_TMPL_GUE1 &&
	    s->kind != STEER_TMPL_IPIP)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	memcpy(eth.dst, s->dst_mac, 6);
	memcpy(eth.src, s->src_mac, 6);
	eth.proto = steer_htons(v4 ? STEER_ETH_P_IP : STEER_ETH_P_IPV6);
	memcpy(p, &eth, sizeof(eth));
	off = sizeof(eth);
	off += v4 ? tmpl_put_ipv4(p + off, s, &t->csum_base)
		  : tmpl_put_ipv6(p + off, s);
	if (s->kind != STEER_TMPL_IPIP) {
		struct steer_udphdr uh = {.dest = s->dport};

		memcpy(p + off, &uh, sizeof(uh));
		off += sizeof(uh);
		if (s->kind == STEER_TMPL_GUE0)
			off += tmpl_put_gue0(p + off, s);
	}
	t->len = (uint8_t)off;
	t->kind = (uint8_t)s->kind;
	t->family = v4 ? 4 : 6;
	return 0;
}
