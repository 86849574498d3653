// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fast-path decisions on a 3-node cluster built in code, self = node 1:
 * LOCAL for owned flows, STEER (GUE0 to the Maglev owner) for the rest,
 * BACKEND for a service's flows owned here, decapsulation of GUE sent to
 * this node, the hop limit, the MTU, bad packets, and counters that add
 * up to the packets offered.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/maglev.h"
#include "core/tmpl_build.h"
#include "fastpath/fastpath.h"

#define HEADROOM (128 + STEER_FRAME_ALIGN_OFF)
#define SELF_IP 0xc6120001u /* 198.18.0.1 */
#define VIP 0xc6130001u	    /* 198.19.0.1 */

static const struct steer_hash_secret secret = {11, 22};

struct fx {
	struct fastpath *fp;
	uint8_t buf[HEADROOM + 2048] __attribute__((aligned(64)));
	struct fp_pkt p;
};

static void target_make(struct fp_target *t, uint16_t id, uint32_t ip,
			enum steer_tmpl_kind kind)
{
	struct tmpl_spec s = {.kind = kind, .origin = 1};

	memset(t, 0, sizeof(*t));
	t->id = id;
	t->weight = 1;
	s.src_mac[0] = s.dst_mac[0] = 2;
	s.dst_mac[5] = (uint8_t)id;
	flow_addr_set_v4(&s.saddr, steer_htonl(SELF_IP));
	flow_addr_set_v4(&s.daddr, steer_htonl(ip));
	s.dport = steer_htons(STEER_GUE_PORT);
	assert_int_equal(tmpl_build(&t->tmpl, &s), 0);
}

/* A fast path of cfg with nodes 1..n, node i at SELF_IP + i - 1. */
static struct fastpath *fp_with_nodes(struct fp_config *cfg, int n)
{
	struct fp_target nodes[4];
	struct fastpath *fp;
	int i;

	assert_true(n <= 4);
	fsc_cfg_default(&cfg->fsc, 1024);
	fp = fastpath_new(cfg);
	assert_non_null(fp);
	for (i = 0; i < n; i++)
		target_make(&nodes[i], (uint16_t)(i + 1), SELF_IP + i,
			    STEER_TMPL_GUE0);
	assert_int_equal(fastpath_set_nodes(fp, nodes, n), 0);
	return fp;
}

static int setup(void **state)
{
	struct fp_config cfg = {
		.self_id = 1,
		.gue_port = steer_htons(STEER_GUE_PORT),
		.max_encap = STEER_MAX_ENCAP,
		.mtu = 1500,
		.maglev_size = 251,
		.secret = secret,
	};
	struct fp_service svc = {.proto = STEER_IPPROTO_TCP,
				 .port = steer_htons(80)};
	struct fp_target nodes[3], be[2];
	struct fx *f = calloc(1, sizeof(*f));
	int i;

	if (!f)
		return -1;
	flow_addr_set_v4(&cfg.self_addr, steer_htonl(SELF_IP));
	fsc_cfg_default(&cfg.fsc, 1024);
	f->fp = fastpath_new(&cfg);
	if (!f->fp)
		return -1;
	for (i = 0; i < 3; i++)
		target_make(&nodes[i], (uint16_t)(i + 1), SELF_IP + i,
			    STEER_TMPL_GUE0);
	if (fastpath_set_nodes(f->fp, nodes, 3))
		return -1;
	flow_addr_set_v4(&svc.vip, steer_htonl(VIP));
	target_make(&be[0], 7, 0xc6140007, STEER_TMPL_IPIP);
	target_make(&be[1], 8, 0xc6140008, STEER_TMPL_GUE1);
	if (fastpath_add_service(f->fp, &svc, be, 2) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	fastpath_free(f->fp);
	free(f);
	return 0;
}

/* An Ethernet + IPv4 + TCP packet with n payload bytes. */
static struct fp_pkt *pkt_tcp(struct fx *f, uint32_t src, uint32_t dst,
			      uint16_t sport, uint16_t dport, uint8_t flags,
			      uint32_t n)
{
	uint8_t *p = f->buf + HEADROOM;
	struct steer_iphdr ip = {
		.ver_ihl = 0x45,
		.tot_len = steer_htons((uint16_t)(40 + n)),
		.ttl = 64,
		.protocol = STEER_IPPROTO_TCP,
		.saddr = steer_htonl(src),
		.daddr = steer_htonl(dst),
	};
	struct steer_tcphdr th = {.source = steer_htons(sport),
				  .dest = steer_htons(dport),
				  .doff_res = 5 << 4,
				  .flags = flags};

	memset(p, 0, 14 + 40 + n);
	p[12] = 0x08;
	memcpy(p + 14, &ip, sizeof(ip));
	memcpy(p + 34, &th, sizeof(th));
	f->p.data = p;
	f->p.len = 14 + 40 + n;
	f->p.headroom = HEADROOM;
	return &f->p;
}

/* Find a client port whose flow to dst:dport the given node owns. */
static uint16_t port_owned_by(uint16_t node, uint32_t src, uint32_t dst,
			      uint16_t dport)
{
	struct maglev *m = maglev_new(251, &secret);
	struct maglev_node mn[3] = {{1, 1}, {2, 1}, {3, 1}};
	uint16_t port;

	assert_non_null(m);
	assert_int_equal(maglev_build(m, mn, 3), 0);
	for (port = 1024;; port++) {
		struct flow_key k;

		memset(&k, 0, sizeof(k));
		flow_addr_set_v4(&k.src, steer_htonl(src));
		flow_addr_set_v4(&k.dst, steer_htonl(dst));
		k.sport = steer_htons(port);
		k.dport = steer_htons(dport);
		k.proto = STEER_IPPROTO_TCP;
		if (maglev_lookup(m, flow_hash(&k, &secret)) == node)
			break;
	}
	maglev_free(m);
	return port;
}

static void test_local_and_steer(void **state)
{
	struct fx *f = *state;
	uint16_t mine = port_owned_by(1, 0x0a000001, 0x0a000002, 443);
	uint16_t theirs = port_owned_by(3, 0x0a000001, 0x0a000002, 443);
	struct fp_result r;
	uint8_t *o;

	fastpath_process(
		f->fp,
		pkt_tcp(f, 0x0a000001, 0x0a000002, mine, 443, STEER_TCP_SYN, 0),
		0, &r);
	assert_int_equal(r.verdict, FP_PASS);
	assert_int_equal(r.action, STEER_ACT_LOCAL);
	assert_true(r.new_flow);

	fastpath_process(f->fp,
			 pkt_tcp(f, 0x0a000001, 0x0a000002, theirs, 443,
				 STEER_TCP_SYN, 10),
			 0, &r);
	assert_int_equal(r.verdict, FP_TX);
	assert_int_equal(r.action, STEER_ACT_STEER);
	assert_int_equal(r.owner, 3);
	assert_int_equal(r.target, 3);
	o = f->p.data;
	assert_int_equal(f->p.len, 58 + 50);
	assert_int_equal(o[5], 3); /* node 3's MAC */
	assert_int_equal(steer_ntohl(*(uint32_t *)(o + 30)), SELF_IP + 2);
	assert_int_equal(o[42 + 7], 1); /* hops */

	/* Second packet of the flow: an FSC hit, same decision. */
	fastpath_process(f->fp,
			 pkt_tcp(f, 0x0a000001, 0x0a000002, theirs, 443,
				 STEER_TCP_ACK, 0),
			 1, &r);
	assert_int_equal(r.verdict, FP_TX);
	assert_false(r.new_flow);
	assert_int_equal(fastpath_counters(f->fp)->new_flows, 2);
}

static void test_service_backend(void **state)
{
	struct fx *f = *state;
	uint16_t port = port_owned_by(1, 0x0a000009, VIP, 80);
	int seen7 = 0, seen8 = 0, i;
	struct fp_result r;

	for (i = 0; i < 64; i++) {
		port = port_owned_by(1, 0x0a000009, VIP, 80);
		fastpath_process(f->fp,
				 pkt_tcp(f, 0x0a000009 + (uint32_t)i, VIP, port,
					 80, STEER_TCP_SYN, 0),
				 0, &r);
		if (r.owner != 1)
			continue; /* source changed the owner: steered */
		assert_int_equal(r.verdict, FP_TX);
		assert_int_equal(r.action, STEER_ACT_BACKEND);
		if (r.target == 7) {
			seen7++;
			assert_int_equal(f->p.data[14 + 9], 4); /* IPIP */
		} else {
			assert_int_equal(r.target, 8);
			seen8++;
			assert_int_equal(f->p.data[14 + 9], 17); /* GUE1 */
			assert_int_equal(f->p.data[14 + 28] >> 4, 4);
		}
	}
	assert_true(seen7 > 0 && seen8 > 0);
}

/* GUE0 from node 2 to this node, carrying hops. */
static struct fp_pkt *pkt_gue_to_self(struct fx *f, uint16_t sport,
				      uint8_t hops)
{
	struct steer_tmpl t;
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0, .origin = 2};
	struct steer_tmpl_args a = {.sport = steer_htons(50000),
				    .hops = hops,
				    .flags = STEER_GUE_F_STEERED};
	struct fp_pkt *p = pkt_tcp(f, 0x0a000001, 0x0a000002, sport, 443,
				   STEER_TCP_ACK, 5);

	flow_addr_set_v4(&s.saddr, steer_htonl(SELF_IP + 1));
	flow_addr_set_v4(&s.daddr, steer_htonl(SELF_IP));
	s.dport = steer_htons(STEER_GUE_PORT);
	assert_int_equal(tmpl_build(&t, &s), 0);
	assert_int_equal(steer_tmpl_apply(p->data + 14 - t.len, &t, 45, 4, &a),
			 0);
	p->data += 14 - t.len;
	p->headroom -= t.len - 14;
	p->len = t.len + 45;
	return p;
}

static void test_decap_to_self(void **state)
{
	struct fx *f = *state;
	uint16_t mine = port_owned_by(1, 0x0a000001, 0x0a000002, 443);
	uint16_t theirs = port_owned_by(3, 0x0a000001, 0x0a000002, 443);
	struct fp_result r;

	fastpath_process(f->fp, pkt_gue_to_self(f, mine, 1), 0, &r);
	assert_int_equal(r.verdict, FP_PASS);
	assert_int_equal(f->p.len, 14 + 45);
	assert_int_equal(f->p.data[12] << 8 | f->p.data[13], STEER_ETH_P_IP);
	assert_int_equal(fastpath_counters(f->fp)->decap, 1);

	/* Owned elsewhere: steered on, one hop more. */
	fastpath_process(f->fp, pkt_gue_to_self(f, theirs, 1), 0, &r);
	assert_int_equal(r.verdict, FP_TX);
	assert_int_equal(f->p.data[42 + 7], 2);
	/* At the hop limit: dropped, counted, no loop. */
	fastpath_process(f->fp, pkt_gue_to_self(f, theirs, STEER_MAX_HOPS), 0,
			 &r);
	assert_int_equal(r.verdict, FP_DROP);
	assert_int_equal(r.drop, STEER_DROP_HOPS);
	assert_int_equal(fastpath_counters(f->fp)->drop[STEER_DROP_HOPS], 1);
}

static void test_mtu_and_bad_input(void **state)
{
	struct fx *f = *state;
	uint16_t theirs = port_owned_by(2, 0x0a000001, 0x0a000002, 22);
	const struct fp_counters *c = fastpath_counters(f->fp);
	struct fp_result r;
	uint64_t dropped = 0;
	int i;

	/* 1500 bytes of IP plus 44 of outer headers exceed the MTU. */
	fastpath_process(f->fp,
			 pkt_tcp(f, 0x0a000001, 0x0a000002, theirs, 22,
				 STEER_TCP_ACK, 1460),
			 0, &r);
	assert_int_equal(r.verdict, FP_DROP);
	assert_int_equal(r.drop, STEER_DROP_MTU);
	/* Truncations at every length never crash and are counted. */
	for (i = 0; i < 54; i++) {
		struct fp_pkt *p = pkt_tcp(f, 0x0a000001, 0x0a000002, theirs,
					   22, STEER_TCP_ACK, 0);

		p->len = (uint32_t)i;
		fastpath_process(f->fp, p, 0, &r);
		if (i < 14 || (i >= 14 && i < 54)) {
			assert_int_equal(r.verdict, FP_DROP);
			assert_int_equal(r.drop, STEER_DROP_PARSE);
			dropped++;
		}
	}
	assert_int_equal(c->drop[STEER_DROP_PARSE], dropped);
	assert_int_equal(c->parse_err[PERR_TRUNC_ETH], 14);
	/* Every packet is accounted for exactly once. */
	uint64_t sum = c->notip + c->drop[STEER_DROP_PARSE] +
		       c->drop[STEER_DROP_MTU] + c->drop[STEER_DROP_HOPS];

	for (i = 0; i < STEER_ACT__MAX; i++)
		sum += c->action[i];
	assert_int_equal(sum, c->rx_packets);
}

/* replication 3: two mirrors, distinct, never the owner, stable. */
static void test_mirroring_profile(void **state)
{
	struct fp_config cfg = {.self_id = 1,
				.gue_port = steer_htons(STEER_GUE_PORT),
				.mtu = 1500,
				.maglev_size = 251,
				.replication = 3,
				.secret = secret};
	struct fx *f = *state;
	struct fastpath *fp = fp_with_nodes(&cfg, 4);
	struct fp_result r, again;
	int i, as_mirror[5] = {0};

	for (i = 0; i < 200; i++) {
		fastpath_process(fp,
				 pkt_tcp(f, 0x0a000001, 0x0a000002,
					 (uint16_t)(2000 + i), 443,
					 STEER_TCP_SYN, 0),
				 0, &r);
		assert_int_equal(r.rf, 3);
		assert_true(r.mirror[0] != r.mirror[1]);
		assert_true(r.mirror[0] != r.owner && r.mirror[1] != r.owner);
		assert_true(r.mirror[0] >= 1 && r.mirror[0] <= 4);
		assert_true(r.mirror[1] >= 1 && r.mirror[1] <= 4);
		as_mirror[r.mirror[0]]++;
		/* The cached profile is the one computed on the miss. */
		fastpath_process(fp,
				 pkt_tcp(f, 0x0a000001, 0x0a000002,
					 (uint16_t)(2000 + i), 443,
					 STEER_TCP_ACK, 0),
				 1, &again);
		assert_false(again.new_flow);
		assert_memory_equal(again.mirror, r.mirror, sizeof(r.mirror));
	}
	/* Rendezvous spreads first mirrors over all four nodes. */
	for (i = 1; i <= 4; i++)
		assert_true(as_mirror[i] > 20);
	fastpath_free(fp);
	cfg.replication = 4;
	assert_null(fastpath_new(&cfg));
}

/* Host mode: unannounced flows pass; announced ones steer; closes undo. */
static void test_host_mode(void **state)
{
	struct fp_config cfg = {.mode = FP_MODE_HOST,
				.self_id = 1,
				.gue_port = steer_htons(STEER_GUE_PORT),
				.mtu = 1500,
				.maglev_size = 251,
				.secret = secret};
	struct fx *f = *state;
	struct fastpath *fp = fp_with_nodes(&cfg, 3);
	struct fp_result r;
	struct flow_key k;
	int i;

	/* Whatever Maglev says, an unannounced flow stays here. */
	for (i = 0; i < 50; i++) {
		fastpath_process(fp,
				 pkt_tcp(f, 0x0a000001, 0x0a000002,
					 (uint16_t)(3000 + i), 80,
					 STEER_TCP_ACK, 0),
				 0, &r);
		assert_int_equal(r.verdict, FP_PASS);
	}
	assert_int_equal(fsc_count(fastpath_fsc(fp)), 0);
	k = r.key;
	assert_int_equal(fastpath_flow_set(fp, &k, 3, 9, 0), 0);
	fastpath_process(
		fp,
		pkt_tcp(f, 0x0a000001, 0x0a000002, 3049, 80, STEER_TCP_ACK, 0),
		1, &r);
	assert_int_equal(r.verdict, FP_TX);
	assert_int_equal(r.target, 3);
	assert_int_equal(f->p.data[42 + 15], 9); /* epoch, low byte */
	assert_int_equal(fastpath_flow_del(fp, &k), 0);
	fastpath_process(
		fp,
		pkt_tcp(f, 0x0a000001, 0x0a000002, 3049, 80, STEER_TCP_ACK, 0),
		2, &r);
	assert_int_equal(r.verdict, FP_PASS);
	assert_int_equal(fastpath_flow_set(fp, &k, 77, 1, 0), -ENOENT);
	assert_int_equal(fastpath_flow_set(fp, &k, STEER_NODE_NONE, 1, 0),
			 -EINVAL);
	fastpath_free(fp);
}

static void test_bad_config(void **state)
{
	struct fx *f = *state;
	struct fp_target dup[2];
	struct fp_config cfg = {.self_id = 1, .mtu = 10};

	target_make(&dup[0], 5, 1, STEER_TMPL_GUE0);
	target_make(&dup[1], 5, 2, STEER_TMPL_GUE0);
	assert_int_equal(fastpath_set_nodes(f->fp, dup, 2), -EINVAL);
	errno = 0;
	assert_null(fastpath_new(&cfg));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_local_and_steer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_service_backend, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_decap_to_self, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mtu_and_bad_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mirroring_profile, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_host_mode, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_config, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
