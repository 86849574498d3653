// SPDX-License-Identifier: GPL-2.0-only
/*
 * Templates: for every kind and outer/inner family pair, encapsulate a
 * real TCP packet, check the outer headers field by field (lengths, a
 * checksum recomputed from scratch, protocol numbers, steer's private
 * data), then parse the result, decapsulate it, and get the inner packet
 * back byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include <steer/decap.h>
#include <steer/parse.h>
#include <steer/tmpl.h>

#include "core/tmpl_build.h"

#define HEADROOM 128

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 2};

/* An inner IPv4 or IPv6 TCP packet with 7 payload bytes, no Ethernet. */
static uint32_t inner_packet(uint8_t *p, int v6)
{
	struct steer_tcphdr th = {
		.source = steer_htons(40000),
		.dest = steer_htons(80),
		.doff_res = 5 << 4,
		.flags = STEER_TCP_ACK | STEER_TCP_PSH,
	};
	uint32_t l3;

	if (!v6) {
		struct steer_iphdr ip = {
			.ver_ihl = 0x45,
			.tot_len = steer_htons(20 + 20 + 7),
			.ttl = 61,
			.protocol = STEER_IPPROTO_TCP,
			.saddr = steer_htonl(0xc6120a01),
			.daddr = steer_htonl(0xc6120b02),
		};
		memcpy(p, &ip, sizeof(ip));
		l3 = sizeof(ip);
	} else {
		struct steer_ipv6hdr ip6 = {
			.ver_tc_flow = steer_htonl(6u << 28 | 0x12345),
			.payload_len = steer_htons(20 + 7),
			.nexthdr = STEER_IPPROTO_TCP,
			.hop_limit = 60,
		};
		ip6.saddr[0] = 0x20, ip6.saddr[1] = 0x01, ip6.saddr[15] = 1;
		ip6.daddr[0] = 0x20, ip6.daddr[1] = 0x01, ip6.daddr[15] = 2;
		memcpy(p, &ip6, sizeof(ip6));
		l3 = sizeof(ip6);
	}
	memcpy(p + l3, &th, sizeof(th));
	memcpy(p + l3 + sizeof(th), "payload", 7);
	return l3 + sizeof(th) + 7;
}

static void spec_for(struct tmpl_spec *s, enum steer_tmpl_kind kind,
		     int outer_v6)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	memcpy(s->src_mac, mac_a, 6);
	memcpy(s->dst_mac, mac_b, 6);
	if (!outer_v6) {
		flow_addr_set_v4(&s->saddr, steer_htonl(0xc6120001));
		flow_addr_set_v4(&s->daddr, steer_htonl(0xc6120002));
	} else {
		s->saddr.b[0] = 0x20, s->saddr.b[1] = 0x01,
		s->saddr.b[2] = 0x0d;
		s->saddr.b[3] = 0xb8, s->saddr.b[15] = 0x0a;
		s->daddr = s->saddr;
		s->daddr.b[15] = 0x0b;
	}
	s->dport = steer_htons(STEER_GUE_PORT);
	s->origin = 4;
}

static uint16_t ipv4_csum_ok(const uint8_t *ip)
{
	uint32_t sum = 0;
	int i;

	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)ip[i] << 8 | ip[i + 1];
	return steer_csum_fold(sum) == 0xffff;
}

static void check_one(enum steer_tmpl_kind kind, int outer_v6, int inner_v6)
{
	uint8_t buf[HEADROOM + 256], inner[128];
	struct steer_tmpl_args a = {
		.sport = steer_htons(0xc123),
		.flags = STEER_GUE_F_STEERED,
		.hops = 1,
		.epoch = steer_htonl(42),
	};
	struct parse_cfg cfg = {.gue_port = steer_htons(STEER_GUE_PORT),
				.max_encap = STEER_MAX_ENCAP};
	struct steer_tmpl t;
	struct tmpl_spec s;
	struct pkt_meta m;
	uint32_t ilen = inner_packet(inner, inner_v6), l3, flen;
	uint8_t *out;
	int strip;

	spec_for(&s, kind, outer_v6);
	assert_int_equal(tmpl_build(&t, &s), 0);
	assert_int_equal(t.len, steer_tmpl_len(kind, outer_v6 ? 6 : 4));
	memset(buf, 0xee, sizeof(buf));
	memcpy(buf + HEADROOM, inner, ilen);
	out = buf + HEADROOM - t.len;
	assert_int_equal(steer_tmpl_apply(out, &t, ilen, inner_v6 ? 6 : 4, &a),
			 0);
	flen = t.len + ilen;

	/* Outer headers. */
	assert_memory_equal(out, mac_b, 6);
	assert_memory_equal(out + 6, mac_a, 6);
	l3 = 14;
	if (!outer_v6) {
		assert_int_equal(out[12] << 8 | out[13], STEER_ETH_P_IP);
		assert_int_equal(out[l3 + 2] << 8 | out[l3 + 3], flen - 14);
		assert_true(ipv4_csum_ok(out + l3));
		assert_int_equal(out[l3 + 9], kind == STEER_TMPL_IPIP
						      ? (inner_v6 ? 41 : 4)
						      : STEER_IPPROTO_UDP);
	} else {
		assert_int_equal(out[12] << 8 | out[13], STEER_ETH_P_IPV6);
		assert_int_equal(out[l3 + 4] << 8 | out[l3 + 5],
				 flen - 14 - 40);
		assert_int_equal(out[l3 + 6], kind == STEER_TMPL_IPIP
						      ? (inner_v6 ? 41 : 4)
						      : STEER_IPPROTO_UDP);
	}
	if (kind != STEER_TMPL_IPIP) {
		uint8_t *u = out + l3 + (outer_v6 ? 40 : 20);

		assert_int_equal(u[0] << 8 | u[1], 0xc123);
		assert_int_equal(u[2] << 8 | u[3], STEER_GUE_PORT);
		assert_int_equal(u[4] << 8 | u[5], flen - (u - out));
		if (kind == STEER_TMPL_GUE0) {
			assert_int_equal(u[8], STEER_GUE_PRIV_WORDS);
			assert_int_equal(u[9], inner_v6 ? 41 : 4);
			assert_int_equal(u[12], STEER_GUE_PRIV_MAGIC);
			assert_int_equal(u[14], STEER_GUE_F_STEERED);
			assert_int_equal(u[15], 1);
			assert_int_equal(u[16] << 8 | u[17], 4);
			assert_int_equal(u[23], 42);
		}
	}

	/* The parser peels it to the inner flow, then decap restores it. */
	assert_int_equal(parse_packet(out, out + flen, &cfg, &m), 0);
	assert_int_equal(m.depth, 1);
	assert_int_equal(m.family, inner_v6 ? 6 : 4);
	assert_int_equal(steer_ntohs(m.key.sport), 40000);
	assert_int_equal(steer_ntohs(m.key.dport), 80);
	assert_int_equal(m.tcp_flags, STEER_TCP_ACK | STEER_TCP_PSH);
	assert_int_equal(m.tun_kind, kind == STEER_TMPL_GUE0   ? TUN_GUE0
				     : kind == STEER_TMPL_GUE1 ? TUN_GUE1
							       : TUN_IPIP);
	if (kind == STEER_TMPL_GUE0) {
		assert_true(m.flags & PKT_F_STEER_PRIV);
		assert_int_equal(m.priv.hops, 1);
		assert_int_equal(steer_ntohs(m.priv.origin), 4);
	}
	strip = steer_decap_prepare(out, out + flen, &m);
	assert_int_equal(strip, t.len - 14);
	assert_memory_equal(out + strip + 14, inner, ilen);
	assert_memory_equal(out + strip, mac_b, 6);
	assert_int_equal(out[strip + 12] << 8 | out[strip + 13],
			 inner_v6 ? STEER_ETH_P_IPV6 : STEER_ETH_P_IP);
}

static void test_all_kinds(void **state)
{
	enum steer_tmpl_kind kinds[] = {STEER_TMPL_GUE0, STEER_TMPL_GUE1,
					STEER_TMPL_IPIP};
	int k, o, i;

	for (k = 0; k < 3; k++)
		for (o = 0; o < 2; o++)
			for (i = 0; i < 2; i++)
				check_one(kinds[k], o, i);
}

static void test_bad_templates(void **state)
{
	struct steer_tmpl t;
	struct tmpl_spec s;
	struct steer_tmpl_args a = {0};
	uint8_t buf[256];

	spec_for(&s, STEER_TMPL_GUE0, 0);
	s.kind = 9;
	assert_int_equal(tmpl_build(&t, &s), -EINVAL);
	spec_for(&s, STEER_TMPL_GUE0, 0);
	s.daddr.b[0] = 0x20; /* v6 target with a v4 source */
	assert_int_equal(tmpl_build(&t, &s), -EINVAL);
	memset(&t, 0, sizeof(t));
	assert_int_equal(steer_tmpl_apply(buf, &t, 40, 4, &a), -1);
	spec_for(&s, STEER_TMPL_GUE0, 0);
	assert_int_equal(tmpl_build(&t, &s), 0);
	assert_int_equal(steer_tmpl_apply(buf, &t, 65500, 4, &a), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_kinds),
		cmocka_unit_test(test_bad_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
