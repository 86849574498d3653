// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: template build and apply. The first bytes choose the kind,
 * the families, the addresses, ports and per-packet values; the rest is
 * the inner IP packet. Properties: apply writes exactly t.len bytes in
 * front of the inner packet and nothing else; when the inner packet
 * parses on its own, the encapsulated frame parses to the same flow one
 * tunnel deeper, and decapsulation gives the inner packet back byte for
 * byte.
 */
#include <stdint.h>
#include <string.h>

#include <steer/decap.h>
#include <steer/parse.h>

#include "core/tmpl_build.h"

#define HEAD 24
#define ROOM (96 + STEER_FRAME_ALIGN_OFF)
#define MAXLEN 2048

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void spec_from(const uint8_t *d, struct tmpl_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->kind = (enum steer_tmpl_kind)(1 + d[0] % 3);
	memcpy(s->src_mac, d + 1, 6);
	memcpy(s->dst_mac, d + 7, 6);
	if (d[13] & 1) {
		memcpy(s->saddr.b, d + 14, 4);
		s->saddr.b[0] = 0x20; /* global unicast, never v4-mapped */
		s->daddr = s->saddr;
		s->daddr.b[15] ^= 1;
	} else {
		uint32_t v4;

		memcpy(&v4, d + 14, 4);
		flow_addr_set_v4(&s->saddr, v4);
		flow_addr_set_v4(&s->daddr, v4 ^ 1);
	}
	s->dport = steer_htons(STEER_GUE_PORT);
	s->origin = (uint16_t)(d[18] << 8 | d[19]);
	s->ttl = d[20];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[ROOM + 14 + MAXLEN] __attribute__((aligned(64)));
	static uint8_t plain[14 + MAXLEN + STEER_FRAME_ALIGN_OFF]
		__attribute__((aligned(64)));
	struct parse_cfg cfg = {.gue_port = steer_htons(STEER_GUE_PORT),
				.max_encap = STEER_MAX_ENCAP};
	struct steer_tmpl_args a;
	struct pkt_meta m, mi;
	struct steer_tmpl t;
	struct tmpl_spec s;
	uint32_t ilen;
	uint8_t *inner, *out, *pl = plain + STEER_FRAME_ALIGN_OFF;
	int fam, rc_in, strip;

	if (size < HEAD || size - HEAD > MAXLEN)
		return 0;
	spec_from(data, &s);
	check(tmpl_build(&t, &s) == 0);
	check(t.len == steer_tmpl_len(t.kind, t.family));
	ilen = (uint32_t)(size - HEAD);
	fam = (data[21] & 1) ? 6 : 4;
	a.sport = (uint16_t)(data[22] << 8 | data[23]);
	a.flags = data[21] >> 4;
	a.hops = data[22];
	a.epoch = data[23];

	memset(buf, 0xa5, sizeof(buf));
	inner = buf + ROOM + 14;
	memcpy(inner, data + HEAD, ilen);
	out = inner - t.len;
	check(steer_tmpl_apply(out, &t, ilen, (uint8_t)fam, &a) == 0);
	/* Nothing written before the template or into the inner packet. */
	check(out[-1] == 0xa5 && memcmp(inner, data + HEAD, ilen) == 0);

	/* The inner packet alone behind a plain Ethernet header. */
	memset(pl, 0, 14);
	pl[12] = fam == 6 ? 0x86 : 0x08;
	pl[13] = fam == 6 ? 0xdd : 0x00;
	memcpy(pl + 14, data + HEAD, ilen);
	cfg.max_encap = STEER_MAX_ENCAP - 1;
	rc_in = parse_packet(pl, pl + 14 + ilen, &cfg, &mi);
	if (rc_in != 0 || (mi.depth == 0 && (pl[14] >> 4) != fam))
		return 0;
	if (mi.l3_end - 14 != ilen)
		return 0; /* trailing bytes: the outer length covers them */
	cfg.max_encap = STEER_MAX_ENCAP;
	check(parse_packet(out, inner + ilen, &cfg, &m) == 0);
	check(m.depth == mi.depth + 1);
	check(flow_key_equal(&m.key, &mi.key));
	strip = steer_decap_prepare(out, inner + ilen, &m);
	check(strip == t.len - 14);
	check(memcmp(out + strip + 14, data + HEAD, ilen) == 0);
	return 0;
}
