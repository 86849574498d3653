// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flood guard (steer/decide.h) on the real XDP program
 * (BPF_PROG_TEST_RUN, not attached) and its userspace twin, side by
 * side: a cell-mode node sends new flows to their cell within the
 * budget; above it (stateless policy) it sends them straight to the
 * backend its service's ring (the cells' Maglev table) names, or, with
 * no backend there, to the cell marked GUARDED; it drops an excess SYN
 * (drop policy) while a mid-flow packet still goes on statelessly; a
 * source above its own budget is limited while another source is not; a
 * flow with a rule never meets the guard; a host-mode node records no UDP
 * session and drops no SYN within the budget, and above it records none
 * and (drop policy) drops the SYN. Both sides' output and counters are
 * compared packet by packet.
 *
 * Budgets are per CPU, so the process is pinned to one. The twin's
 * clock is the now it is given; the kernel's moves on by itself, by a
 * few milliseconds at most during a test, far below a budget of one flow
 * a second. Needs root (exit 77 otherwise: skipped).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "core/tmpl_build.h"
#include "fastpath/fastpath.h"
#include "steer_kern_user.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_prog.h"

#include "xdp_twin_delta.h"

#define GT_SELF 1
#define GT_CELL 2
#define GT_SELF_IP 0xc6120001u	 /* 198.18.0.1 */
#define GT_CLIENT_IP 0xc6130001u /* 198.19.0.1 */
#define GT_SVC_IP 0xc6130002u	 /* 198.19.0.2 */
#define GT_BACKEND 10
#define GT_SEC 1000000000ull
#define GT_TCP_SYN 0x02
#define GT_TCP_ACK 0x10
/* Where an exception's GUE flags sit: Ethernet, IPv4, UDP, GUE, 2. */
#define GT_GUE_FLAGS_OFF (14 + 20 + 8 + 4 + 2)

static const struct steer_hash_secret gt_secret = {0x0123456789abcdefULL,
						   0xfedcba9876543210ULL};

struct gt_frame {
	uint8_t b[256];
	uint32_t len;
};

/* A node: the program and, for cell mode, its twin. */
struct gt_node {
	struct xdp_prog *x;
	struct fastpath *fp;
	uint8_t mode;
};

static struct gt_node gt_cellnode, gt_host;
static const char *gt_skip;

static void gt_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void gt_be32(uint8_t *p, uint32_t v)
{
	gt_be16(p, v >> 16);
	gt_be16(p + 2, v & 0xffff);
}

/* Ethernet + IPv4 + TCP (flags) or UDP from src:sport to the service,
 * 16 bytes of payload. */
static void gt_frame_make(struct gt_frame *f, uint32_t src, uint16_t sport,
			  uint8_t proto, uint8_t tcp_flags)
{
	uint8_t *ip = f->b + 14, *l4 = ip + 20;
	uint32_t l4len = proto == STEER_IPPROTO_TCP ? 20 : 8;

	memset(f->b, 0, sizeof(f->b));
	f->len = 14 + 20 + l4len + 16;
	f->b[5] = GT_SELF;
	f->b[11] = 0xfe;
	gt_be16(f->b + 12, 0x0800);
	ip[0] = 0x45;
	gt_be16(ip + 2, 20 + l4len + 16);
	ip[8] = 64;
	ip[9] = proto;
	gt_be32(ip + 12, src);
	gt_be32(ip + 16, GT_SVC_IP);
	gt_be16(l4, sport);
	gt_be16(l4 + 2, proto == STEER_IPPROTO_TCP ? 443 : 53);
	if (proto == STEER_IPPROTO_TCP) {
		l4[12] = 5 << 4;
		l4[13] = tcp_flags;
	} else {
		gt_be16(l4 + 4, 8 + 16);
	}
}

static struct flow_key gt_key(uint32_t src, uint16_t sport, uint8_t proto)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	flow_addr_set_v4(&k.src, steer_htonl(src));
	flow_addr_set_v4(&k.dst, steer_htonl(GT_SVC_IP));
	k.sport = steer_htons(sport);
	k.dport = steer_htons(proto == STEER_IPPROTO_TCP ? 443 : 53);
	k.proto = proto;
	return k;
}

static void gt_cfg_make(struct steer_xdp_cfg *c, uint8_t mode)
{
	memset(c, 0, sizeof(*c));
	flow_addr_set_v4(&c->self_addr, steer_htonl(GT_SELF_IP));
	c->secret = gt_secret;
	c->mtu = 1500;
	c->self_id = GT_SELF;
	c->gue_port = steer_htons(STEER_GUE_PORT);
	c->max_encap = STEER_MAX_ENCAP;
	c->mode = mode;
}

/* The guard on both sides of node n. */
static void gt_guard_set(struct gt_node *n, uint8_t policy, uint64_t cost,
			 uint64_t cap, uint64_t src_cost, uint64_t src_cap)
{
	struct fp_guard g = {policy, cost, cap, src_cost, src_cap};
	struct steer_xdp_cfg c;

	gt_cfg_make(&c, n->mode);
	c.guard = policy;
	c.guard_cost_ns = cost;
	c.guard_cap_ns = cap;
	c.guard_src_cost_ns = src_cost;
	c.guard_src_cap_ns = src_cap;
	assert_int_equal(xdp_maps_cfg_set(n->x, &c), 0);
	if (n->fp)
		fastpath_guard_set(n->fp, &g);
}

/* A GUE template from this node to address dst (last MAC byte mac). */
static void gt_tmpl(struct steer_tmpl *t, uint32_t dst, uint8_t mac)
{
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0, .origin = GT_SELF};

	s.src_mac[5] = GT_SELF;
	s.dst_mac[5] = mac;
	flow_addr_set_v4(&s.saddr, steer_htonl(GT_SELF_IP));
	flow_addr_set_v4(&s.daddr, steer_htonl(dst));
	s.dport = steer_htons(STEER_GUE_PORT);
	assert_int_equal(tmpl_build(t, &s), 0);
}

/* The service, TCP :443 and UDP :53 of GT_SVC_IP, on the program; the
 * TCP one (the twin's service 0) with ring 0 when ring. */
static void gt_svcs(struct xdp_prog *x, bool ring)
{
	struct steer_svc_key keys[2];
	__u32 flags[2] = {STEER_SVC_F_PRESENT, STEER_SVC_F_PRESENT};
	int i;

	memset(keys, 0, sizeof(keys));
	for (i = 0; i < 2; i++) {
		flow_addr_set_v4(&keys[i].addr, steer_htonl(GT_SVC_IP));
		keys[i].proto = i ? STEER_IPPROTO_UDP : STEER_IPPROTO_TCP;
		keys[i].port = steer_htons(i ? 53 : 443);
	}
	if (ring)
		flags[0] |= 1u << STEER_SVC_RING_SHIFT;
	assert_int_equal(xdp_maps_svc_set(x, keys, flags, 2), 0);
}

/* The cell-mode node's service 0 served by backend GT_BACKEND, or by
 * none: the twin's table and the program's ring 0 alike. */
static void gt_backends(struct gt_node *n, bool any)
{
	struct fp_target bk = {.id = GT_BACKEND, .weight = 1};
	const uint16_t *t;
	uint32_t size;

	gt_tmpl(&bk.tmpl, GT_SELF_IP + GT_BACKEND - 1, 0xfe);
	assert_int_equal(
		fastpath_service_backends_set(n->fp, 0, &bk, any ? 1 : 0), 0);
	t = fastpath_service_table(n->fp, 0, &size);
	assert_non_null(t);
	assert_int_equal(size, STEER_RING_SIZE);
	assert_int_equal(xdp_maps_ring_set(n->x, 0, t, size), 0);
}

/* Cell mode, both sides: every shard's cell is GT_CELL; backend 10. */
static void gt_cellnode_make(struct gt_node *n)
{
	struct fp_config cfg = {
		.mode = FP_MODE_CELL_NODE,
		.self_id = GT_SELF,
		.gue_port = steer_htons(STEER_GUE_PORT),
		.max_encap = STEER_MAX_ENCAP,
		.mtu = 1500,
		.secret = gt_secret, /* Maglev tables of the ring's size */
	};
	static struct steer_shard sh[STEER_SHARDS];
	struct fp_service svc = {.proto = STEER_IPPROTO_TCP,
				 .port = steer_htons(443)};
	struct fp_target cell = {.id = GT_CELL, .weight = 1};
	struct fp_target bk = {.id = GT_BACKEND, .weight = 1};
	struct steer_xdp_cfg c;
	uint32_t i;

	n->mode = STEER_XDP_MODE_CELL;
	flow_addr_set_v4(&cfg.self_addr, steer_htonl(GT_SELF_IP));
	fsc_cfg_default(&cfg.fsc, 1024);
	n->fp = fastpath_new(&cfg);
	assert_non_null(n->fp);
	gt_cfg_make(&c, n->mode);
	assert_int_equal(xdp_maps_cfg_set(n->x, &c), 0);
	gt_tmpl(&cell.tmpl, GT_SELF_IP + 1, GT_CELL);
	assert_int_equal(xdp_maps_tmpl_set(n->x, GT_CELL, &cell.tmpl), 0);
	assert_int_equal(fastpath_set_nodes(n->fp, &cell, 1), 0);
	gt_tmpl(&bk.tmpl, GT_SELF_IP + GT_BACKEND - 1, 0xfe);
	assert_int_equal(xdp_maps_tmpl_set(n->x,
					   xdp_maps_tmpl_backend(GT_BACKEND),
					   &bk.tmpl),
			 0);
	flow_addr_set_v4(&svc.vip, steer_htonl(GT_SVC_IP));
	assert_true(fastpath_add_service(n->fp, &svc, &bk, 1) >= 0);
	gt_svcs(n->x, true);
	gt_backends(n, true);
	for (i = 0; i < STEER_SHARDS; i++) {
		sh[i].cell[0] = GT_CELL;
		sh[i].cell[1] = STEER_NODE_NONE;
	}
	assert_int_equal(xdp_maps_shards_set(n->x, sh), 0);
	fastpath_shards_set(n->fp, sh);
}

/* Host mode, the program only (the twin keeps no UDP sessions). */
static void gt_host_make(struct gt_node *n)
{
	struct steer_xdp_cfg c;

	n->mode = STEER_XDP_MODE_HOST;
	gt_cfg_make(&c, n->mode);
	assert_int_equal(xdp_maps_cfg_set(n->x, &c), 0);
	gt_svcs(n->x, false);
}

/*
 * One frame through node n's program (counters of this packet in *xs)
 * and, with a twin, through it at now_ms: the same verdict, bytes and
 * counters. Returns the XDP action; *gflags: the GUE flags of what was
 * sent (0: none).
 */
static int gt_run(struct gt_node *n, const struct gt_frame *f, uint32_t now_ms,
		  struct steer_xdp_stats *xs, uint8_t *gflags)
{
	/* As a NIC ring's frame is aligned. */
	static uint8_t buf[512] __attribute__((aligned(64)));
	const uint32_t head = 128 + STEER_FRAME_ALIGN_OFF;
	struct gt_frame out;
	struct steer_xdp_stats ts;
	struct fp_counters before;
	struct fp_result r;
	struct fp_pkt p;
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b,
		    .data_size_in = f->len, .data_out = out.b,
		    .data_size_out = sizeof(out.b), .repeat = 1);

	assert_int_equal(xdp_maps_stats_reset(n->x), 0);
	assert_int_equal(bpf_prog_test_run_opts(xdp_prog_fd(n->x), &o), 0);
	out.len = o.data_size_out;
	assert_int_equal(xdp_maps_stats_read(n->x, xs), 0);
	*gflags = o.retval == XDP_TX && out.len > GT_GUE_FLAGS_OFF
			  ? out.b[GT_GUE_FLAGS_OFF]
			  : 0;
	if (!n->fp)
		return (int)o.retval;
	memcpy(buf + head, f->b, f->len);
	p.data = buf + head;
	p.len = f->len;
	p.headroom = head;
	before = *fastpath_counters(n->fp);
	fastpath_process(n->fp, &p, now_ms, &r);
	assert_int_equal(r.verdict == FP_TX	? XDP_TX
			 : r.verdict == FP_DROP ? XDP_DROP
						: XDP_PASS,
			 o.retval);
	if (o.retval != XDP_DROP) {
		assert_int_equal(p.len, out.len);
		assert_memory_equal(p.data, out.b, out.len);
	}
	xdp_twin_delta(&before, fastpath_counters(n->fp), &ts);
	assert_int_equal(ts.guard_over, xs->guard_over);
	assert_int_equal(ts.guard_src_over, xs->guard_src_over);
	assert_int_equal(ts.guard_stateless, xs->guard_stateless);
	assert_int_equal(ts.guard_direct, xs->guard_direct);
	assert_memory_equal(ts.drop, xs->drop, sizeof(ts.drop));
	assert_memory_equal(ts.action, xs->action, sizeof(ts.action));
	return (int)o.retval;
}

#define GT_SKIP()                                                              \
	do {                                                                   \
		if (gt_skip) {                                                 \
			print_message("SKIP: %s\n", gt_skip);                  \
			skip();                                                \
		}                                                              \
	} while (0)

/* A new flow from src:sport with flags through the cell-mode node. */
static int gt_cell_flow(uint32_t src, uint16_t sport, uint8_t flags,
			uint32_t now_ms, struct steer_xdp_stats *xs,
			uint8_t *gflags)
{
	struct gt_frame f;

	gt_frame_make(&f, src, sport, STEER_IPPROTO_TCP, flags);
	return gt_run(&gt_cellnode, &f, now_ms, xs, gflags);
}

/* Stateless: two new flows within a budget of two go to their cell, the
 * third straight to the backend of the ring; with no backend there, the
 * fourth to the cell, marked GUARDED. */
static void gt_cell_stateless(void **state)
{
	struct steer_xdp_stats xs;
	uint8_t gf;
	int i;

	(void)state;
	GT_SKIP();
	gt_guard_set(&gt_cellnode, STEER_GUARD_STATELESS, GT_SEC, 2 * GT_SEC, 0,
		     0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(gt_cell_flow(GT_CLIENT_IP, 1000 + i,
					      GT_TCP_SYN, 1000000, &xs, &gf),
				 XDP_TX);
		assert_int_equal(xs.action[STEER_ACT_EXCEPTION], i < 2);
		assert_int_equal(xs.action[STEER_ACT_BACKEND], i == 2);
		assert_int_equal(gf, i < 2 ? STEER_GUE_F_EXCEPTION : 0);
		assert_int_equal(xs.guard_over, i == 2);
		assert_int_equal(xs.guard_stateless, i == 2);
		assert_int_equal(xs.guard_direct, i == 2);
	}
	gt_backends(&gt_cellnode, false);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 1003, GT_TCP_SYN, 1000000, &xs, &gf),
		XDP_TX);
	assert_int_equal(gf, STEER_GUE_F_EXCEPTION | STEER_GUE_F_GUARDED);
	assert_int_equal(xs.guard_stateless, 1);
	assert_int_equal(xs.guard_direct, 0);
	gt_backends(&gt_cellnode, true);
}

/* A flow with a rule never meets the spent budget. */
static void gt_cell_ruled(void **state)
{
	struct flow_key k = gt_key(GT_CLIENT_IP, 2000, STEER_IPPROTO_TCP);
	struct steer_rule r = {.owner = GT_CELL,
			       .tmpl = xdp_maps_tmpl_backend(GT_BACKEND),
			       .action = STEER_ACT_BACKEND,
			       .rf = 1,
			       .mirror = {STEER_NODE_NONE, STEER_NODE_NONE}};
	struct steer_xdp_stats xs;
	uint8_t gf;

	(void)state;
	GT_SKIP();
	assert_int_equal(xdp_maps_rule_set(gt_cellnode.x, &k, &r), 0);
	assert_int_equal(fastpath_rule_set(gt_cellnode.fp, &k,
					   STEER_ACT_BACKEND, GT_BACKEND, 0,
					   1000000),
			 0);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 2000, GT_TCP_SYN, 1000000, &xs, &gf),
		XDP_TX);
	assert_int_equal(xs.action[STEER_ACT_BACKEND], 1);
	assert_int_equal(gf, 0);
	assert_int_equal(xs.guard_over + xs.guard_stateless, 0);
}

/* Drop: the excess SYN is dropped; a mid-flow packet goes guarded. */
static void gt_cell_drop(void **state)
{
	struct steer_xdp_stats xs;
	uint8_t gf;

	(void)state;
	GT_SKIP();
	gt_guard_set(&gt_cellnode, STEER_GUARD_DROP, GT_SEC, 2 * GT_SEC, 0, 0);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 3000, GT_TCP_SYN, 1000000, &xs, &gf),
		XDP_DROP);
	assert_int_equal(xs.drop[STEER_DROP_FLOOD], 1);
	assert_int_equal(xs.guard_over, 1);
	assert_int_equal(xs.guard_stateless, 0);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 3001, GT_TCP_ACK, 1000000, &xs, &gf),
		XDP_TX);
	assert_int_equal(xs.action[STEER_ACT_BACKEND], 1);
	assert_int_equal(xs.guard_stateless, 1);
	assert_int_equal(xs.guard_direct, 1);
	/* A SYN-ACK is no new connection of a client: not dropped. */
	assert_int_equal(gt_cell_flow(GT_CLIENT_IP, 3002,
				      GT_TCP_SYN | GT_TCP_ACK, 1000000, &xs,
				      &gf),
			 XDP_TX);
	assert_int_equal(xs.drop[STEER_DROP_FLOOD], 0);
	assert_int_equal(xs.guard_direct, 1);
}

/* A source above its budget is limited; another source is not. */
static void gt_cell_source(void **state)
{
	const struct timespec tick = {.tv_nsec = 20 * 1000000};
	struct steer_xdp_stats xs;
	uint8_t gf;

	(void)state;
	GT_SKIP();
	/* Ample for all (the kernel's clock moves a tick first, the twin's
	 * a second), one a second per source with no burst. */
	nanosleep(&tick, NULL);
	gt_guard_set(&gt_cellnode, STEER_GUARD_STATELESS, 1, GT_SEC, GT_SEC,
		     GT_SEC);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 4000, GT_TCP_SYN, 1001000, &xs, &gf),
		XDP_TX);
	assert_int_equal(gf, STEER_GUE_F_EXCEPTION);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 4001, GT_TCP_SYN, 1001000, &xs, &gf),
		XDP_TX);
	assert_int_equal(xs.guard_direct, 1);
	assert_int_equal(xs.guard_src_over, 1);
	assert_int_equal(xs.guard_over, 0);
	assert_int_equal(gt_cell_flow(GT_CLIENT_IP + 1, 4002, GT_TCP_SYN,
				      1001000, &xs, &gf),
			 XDP_TX);
	assert_int_equal(gf, STEER_GUE_F_EXCEPTION);
	/* Off: nothing counted, nothing marked. */
	gt_guard_set(&gt_cellnode, STEER_GUARD_OFF, 0, 0, 0, 0);
	assert_int_equal(
		gt_cell_flow(GT_CLIENT_IP, 4003, GT_TCP_SYN, 1001000, &xs, &gf),
		XDP_TX);
	assert_int_equal(gf, STEER_GUE_F_EXCEPTION);
	assert_int_equal(xs.guard_over + xs.guard_src_over, 0);
}

/* Host mode: a UDP session is recorded within the budget only. */
static void gt_host_udp(void **state)
{
	int udp = xdp_prog_map_fd(gt_host.x, "steer_udp");
	struct steer_udp_seen seen;
	struct steer_xdp_stats xs;
	struct gt_frame f;
	struct flow_key k;
	uint8_t gf;
	int i;

	(void)state;
	GT_SKIP();
	gt_guard_set(&gt_host, STEER_GUARD_STATELESS, GT_SEC, GT_SEC, 0, 0);
	for (i = 0; i < 2; i++) {
		gt_frame_make(&f, GT_CLIENT_IP, 5000 + i, STEER_IPPROTO_UDP, 0);
		k = gt_key(GT_CLIENT_IP, 5000 + i, STEER_IPPROTO_UDP);
		assert_int_equal(gt_run(&gt_host, &f, 0, &xs, &gf), XDP_PASS);
		assert_int_equal(xs.udp_new, i == 0);
		assert_int_equal(xs.guard_stateless, i == 1);
		assert_int_equal(bpf_map_lookup_elem(udp, &k, &seen) == 0,
				 i == 0);
	}
	/* The recorded one's next packet is counted, not guarded. */
	gt_frame_make(&f, GT_CLIENT_IP, 5000, STEER_IPPROTO_UDP, 0);
	assert_int_equal(gt_run(&gt_host, &f, 0, &xs, &gf), XDP_PASS);
	assert_int_equal(xs.guard_over, 0);
}

/* Host mode, drop: a SYN above the budget is dropped, an ACK passes. */
static void gt_host_syn(void **state)
{
	struct steer_xdp_stats xs;
	struct gt_frame f;
	uint8_t gf;

	(void)state;
	GT_SKIP();
	gt_guard_set(&gt_host, STEER_GUARD_DROP, GT_SEC, GT_SEC, 0, 0);
	gt_frame_make(&f, GT_CLIENT_IP, 6000, STEER_IPPROTO_TCP, GT_TCP_SYN);
	assert_int_equal(gt_run(&gt_host, &f, 0, &xs, &gf), XDP_DROP);
	assert_int_equal(xs.drop[STEER_DROP_FLOOD], 1);
	gt_frame_make(&f, GT_CLIENT_IP, 6000, STEER_IPPROTO_TCP, GT_TCP_ACK);
	assert_int_equal(gt_run(&gt_host, &f, 0, &xs, &gf), XDP_PASS);
	assert_int_equal(xs.guard_over, 0);
	assert_int_equal(xs.action[STEER_ACT_LOCAL], 1);
}

static int gt_setup(void **state)
{
	cpu_set_t set;

	(void)state;
	if (geteuid() != 0) {
		gt_skip = "needs root (BPF_PROG_TEST_RUN of XDP)";
		return 0;
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	gt_cellnode.x = xdp_prog_open(NULL);
	if (!gt_cellnode.x) {
		if (errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP) {
			gt_skip = "BPF not available or not permitted";
			return 0;
		}
		return -1;
	}
	gt_host.x = xdp_prog_open(NULL);
	if (!gt_host.x)
		return -1;
	gt_cellnode_make(&gt_cellnode);
	gt_host_make(&gt_host);
	return 0;
}

static int gt_teardown(void **state)
{
	(void)state;
	fastpath_free(gt_cellnode.fp);
	xdp_prog_close(gt_cellnode.x);
	xdp_prog_close(gt_host.x);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gt_cell_stateless),
		cmocka_unit_test(gt_cell_ruled),
		cmocka_unit_test(gt_cell_drop),
		cmocka_unit_test(gt_cell_source),
		cmocka_unit_test(gt_host_udp),
		cmocka_unit_test(gt_host_syn),
	};
	int rc = cmocka_run_group_tests(tests, gt_setup, gt_teardown);

	if (rc == 0 && gt_skip)
		return 77;
	return rc;
}
