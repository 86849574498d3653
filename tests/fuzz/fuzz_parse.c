// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: parse and decapsulate any frame, then run it through the
 * whole fast path of a 3-node cluster with a service. Properties checked
 * beyond "no crash, no sanitizer report":
 * - offsets the parser reports lie inside the frame, in order;
 * - decapsulating the outermost tunnel and parsing again gives the same
 *   innermost flow;
 * - every packet lands in exactly one fast-path counter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <steer/decap.h>
#include <steer/parse.h>

#include "core/tmpl_build.h"
#include "fastpath/fastpath.h"

#define HEADROOM (128 + STEER_FRAME_ALIGN_OFF)
#define MAXLEN 4096

static struct fastpath *fp;

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

static void fp_setup(void)
{
	struct fp_config cfg = {.self_id = 1,
				.gue_port = steer_htons(STEER_GUE_PORT),
				.max_encap = STEER_MAX_ENCAP,
				.mtu = 1500,
				.maglev_size = 251,
				.secret = {1, 2}};
	struct fp_service svc = {.proto = STEER_IPPROTO_UDP};
	struct fp_target t[3];
	int i;

	flow_addr_set_v4(&cfg.self_addr, steer_htonl(0xc6120001));
	fsc_cfg_default(&cfg.fsc, 256);
	fp = fastpath_new(&cfg);
	check(fp != NULL);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 3; i++) {
		struct tmpl_spec s = {.kind = i == 2 ? STEER_TMPL_GUE1
						     : STEER_TMPL_GUE0,
				      .dport = steer_htons(STEER_GUE_PORT)};

		t[i].id = (uint16_t)(i + 1);
		t[i].weight = 1;
		flow_addr_set_v4(&s.saddr, steer_htonl(0xc6120001));
		flow_addr_set_v4(&s.daddr, steer_htonl(0xc6120001 + i));
		check(tmpl_build(&t[i].tmpl, &s) == 0);
	}
	check(fastpath_set_nodes(fp, t, 3) == 0);
	flow_addr_set_v4(&svc.vip, steer_htonl(0x0a000001));
	check(fastpath_add_service(fp, &svc, &t[2], 1) == 0);
}

static uint64_t counted(const struct fp_counters *c)
{
	uint64_t n = c->notip;
	int i;

	for (i = 0; i < STEER_ACT__MAX; i++)
		n += c->action[i];
	for (i = 0; i < STEER_DROP__MAX; i++)
		n += c->drop[i];
	return n;
}

static void check_parse(uint8_t *d, uint32_t len)
{
	struct parse_cfg cfg = {.gue_port = steer_htons(STEER_GUE_PORT),
				.max_encap = STEER_MAX_ENCAP};
	struct pkt_meta m, m2;
	int rc, strip;

	/* The shortcut must agree with the full parser to the byte. */
	if (!parse_fast(d, d + len, &cfg, &m)) {
		check(parse_packet_full(d, d + len, &cfg, &m2) == 0);
		check(!memcmp(&m, &m2, sizeof(m)));
	}
	rc = parse_packet(d, d + len, &cfg, &m);
	check(rc == 1 || rc == 0 || (rc < 0 && -rc < PERR__MAX));
	if (rc != 0)
		return;
	check(m.l2_len <= m.l3_off && m.l3_off < m.l3_end && m.l3_end <= len);
	check(m.l4_off == 0 || (m.l4_off > m.l3_off && m.l4_off <= m.l3_end));
	check(m.depth <= STEER_MAX_ENCAP);
	if (!m.depth)
		return;
	strip = steer_decap_prepare(d, d + len, &m);
	check(strip > 0 && (uint32_t)strip < m.outer_l3_end);
	rc = parse_packet(d + strip, d + m.outer_l3_end, &cfg, &m2);
	check(rc == 0);
	check(flow_key_equal(&m.key, &m2.key));
	check(m2.depth + 1 == m.depth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[HEADROOM + MAXLEN] __attribute__((aligned(64)));
	struct fp_result r;
	struct fp_pkt p;
	uint64_t before;

	if (!fp)
		fp_setup();
	if (size > MAXLEN)
		size = MAXLEN;
	memcpy(buf + HEADROOM, data, size);
	check_parse(buf + HEADROOM, (uint32_t)size);

	memcpy(buf + HEADROOM, data, size);
	p.data = buf + HEADROOM;
	p.len = (uint32_t)size;
	p.headroom = HEADROOM;
	before = counted(fastpath_counters(fp));
	fastpath_process(fp, &p, 0, &r);
	check(counted(fastpath_counters(fp)) == before + 1);
	check(p.data >= buf && p.data + p.len <= buf + sizeof(buf));
	return 0;
}
