// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP fast path against its userspace twin, Katran style: a table of
 * input frame -> expected output frame + expected XDP action + expected
 * counters. Every row runs through BPF_PROG_TEST_RUN on the program that
 * xdp_prog_open() loads (bpf/steer_xdp.bpf.c, not attached) and through
 * fastpath_process(), both given the same configuration, secret,
 * templates (tmpl_build()) and flows. Both must give the row's action,
 * the row's output bytes and the row's counters, hence the same as each
 * other. Two nodes: xt in host mode (FP_MODE_HOST, announced flows) and
 * xc in cell mode (FP_MODE_CELL_NODE: shards, services, the cells'
 * BACKEND rules, close via the cell, the daemon gone).
 *
 * Expected outputs are written here byte by byte (own header writers and
 * IPv4 checksum), not with tmpl.h or parse.h, so a bug shared by the two
 * fast paths still fails. Only the flow hash (hash.h) is reused, for the
 * outer UDP source port.
 *
 *   router 02::fe --- [node 1: this node, 198.18.0.1, 2001:db8::1]
 *                        |  GUE0 over IPv4       |  GUE0 over IPv6
 *                  node 2: 198.18.0.2      node 3: 2001:db8::3
 *
 * BPF_PROG_TEST_RUN needs root (CAP_BPF and CAP_NET_ADMIN): without it,
 * or without BPF, every test is skipped with the reason printed and the
 * program exits 77, which ctest reports as skipped (SKIP_RETURN_CODE in
 * CMakeLists.txt).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <steer/hash.h>

#include "core/tmpl_build.h"
#include "fastpath/fastpath.h"
#include "steer_kern_user.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_prog.h"

#include "xdp_twin_delta.h"

#define XT_SKIP_RC 77
#define XT_FRAME_MAX 2048
/* The twin's frames start STEER_FRAME_ALIGN_OFF past a 4-byte boundary
 * with room in front for any template, as a NIC ring hands them over. */
#define XT_HEADROOM (256 + STEER_FRAME_ALIGN_OFF)
#define XT_MTU 1500
#define XT_SELF 1

#define SELF_IP 0xc6120001u   /* 198.18.0.1 */
#define NODE2_IP 0xc6120002u  /* 198.18.0.2 */
#define OTHER_IP 0xc6120009u  /* 198.18.0.9: a fabric address not ours */
#define CLIENT_IP 0x0a000001u /* 10.0.0.1 */
#define SVC_IP 0x0a000002u    /* 10.0.0.2 */
#define TUN_SRC 0xc0000201u   /* 192.0.2.1: a transit tunnel's ends */
#define TUN_DST 0xc0000202u   /* 192.0.2.2 */
#define ICMP_SRC 0xc00002feu  /* 192.0.2.254: a router on the path */

static const uint8_t self_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t node3_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 3};
static const uint8_t client_ip6[16] = {0x20, 0x01, 0x0d,    0xb8,
				       0,    0x0c, [15] = 1};
static const uint8_t svc_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x05, [15] = 2};

/* [0] the router in front of the nodes, [n] node n. */
static const uint8_t xt_mac[4][6] = {
	{2, 0, 0, 0, 0, 0xfe},
	{2, 0, 0, 0, 0, 1},
	{2, 0, 0, 0, 0, 2},
	{2, 0, 0, 0, 0, 3},
};

static const struct steer_hash_secret xt_secret = {0x0123456789abcdefULL,
						   0xfedcba9876543210ULL};

/* ---- frames, written byte by byte ---- */

struct xt_buf {
	uint8_t b[XT_FRAME_MAX];
	uint32_t len;
};

static uint8_t *xt_room(struct xt_buf *f, uint32_t n)
{
	assert_true(f->len + n <= sizeof(f->b));
	memset(f->b + f->len, 0, n);
	f->len += n;
	return f->b + f->len - n;
}

static void xt_cat(struct xt_buf *f, const struct xt_buf *p)
{
	memcpy(xt_room(f, p->len), p->b, p->len);
}

static void xt_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void xt_be32(uint8_t *p, uint32_t v)
{
	xt_be16(p, v >> 16);
	xt_be16(p + 2, v & 0xffff);
}

/* RFC 1071 checksum of n bytes (n even), as stored big-endian. */
static uint16_t xt_csum(const uint8_t *p, uint32_t n)
{
	uint32_t sum = 0, i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* IPv4: 20-byte header (DF, TTL 64, checksum), then payload. */
static void xt_ip4(struct xt_buf *pk, uint32_t src, uint32_t dst, uint8_t proto,
		   const struct xt_buf *pl)
{
	uint8_t *h;

	pk->len = 0;
	h = xt_room(pk, 20);
	h[0] = 0x45;
	xt_be16(h + 2, 20 + pl->len);
	xt_be16(h + 6, 0x4000);
	h[8] = 64;
	h[9] = proto;
	xt_be32(h + 12, src);
	xt_be32(h + 16, dst);
	xt_be16(h + 10, xt_csum(h, 20));
	xt_cat(pk, pl);
}

/* IPv6: 40-byte header (hop limit 64), then payload. */
static void xt_ip6(struct xt_buf *pk, const uint8_t *src, const uint8_t *dst,
		   uint8_t nh, const struct xt_buf *pl)
{
	uint8_t *h;

	pk->len = 0;
	h = xt_room(pk, 40);
	h[0] = 0x60;
	xt_be16(h + 4, pl->len);
	h[6] = nh;
	h[7] = 64;
	memcpy(h + 8, src, 16);
	memcpy(h + 24, dst, 16);
	xt_cat(pk, pl);
}

/* TCP ACK with n bytes of payload. */
static void xt_tcp(struct xt_buf *l4, uint16_t sport, uint16_t dport,
		   uint32_t n)
{
	uint8_t *h;
	uint32_t i;

	l4->len = 0;
	h = xt_room(l4, 20 + n);
	xt_be16(h, sport);
	xt_be16(h + 2, dport);
	xt_be32(h + 4, 0x1000);
	h[12] = 5 << 4;
	h[13] = 0x10;
	xt_be16(h + 14, 0xffff);
	for (i = 0; i < n; i++)
		h[20 + i] = (uint8_t)(i * 7 + 0x5a);
}

static void xt_udp(struct xt_buf *l4, uint16_t sport, uint16_t dport,
		   const struct xt_buf *pl)
{
	uint8_t *h;

	l4->len = 0;
	h = xt_room(l4, 8);
	xt_be16(h, sport);
	xt_be16(h + 2, dport);
	xt_be16(h + 4, 8 + pl->len);
	xt_cat(l4, pl);
}

/* Ethernet with ntags VLAN tags (802.1ad outside, 802.1Q inside). */
static void xt_eth(struct xt_buf *f, const uint8_t *dst, const uint8_t *src,
		   int ntags, uint16_t type, const struct xt_buf *pl)
{
	int i;

	f->len = 0;
	memcpy(xt_room(f, 6), dst, 6);
	memcpy(xt_room(f, 6), src, 6);
	for (i = 0; i < ntags; i++) {
		uint8_t *t = xt_room(f, 4);

		xt_be16(t, i + 1 < ntags ? 0x88a8 : 0x8100);
		xt_be16(t + 2, (uint32_t)(100 * (i + 1)));
	}
	xt_be16(xt_room(f, 2), type);
	xt_cat(f, pl);
}

static uint16_t xt_ethertype_of(const struct xt_buf *pk)
{
	return (pk->b[0] >> 4) == 6 ? 0x86dd : 0x0800;
}

/* ---- flows ---- */

struct xt_flow {
	int v6;
	uint32_t src4, dst4;
	const uint8_t *src6, *dst6;
	uint16_t sport, dport;
	uint8_t proto;
	uint16_t owner; /* 0: never announced */
	uint32_t epoch;
};

#define XT_FLOW4(sp, dp, pr, own, ep)                                          \
	{                                                                      \
		.src4 = CLIENT_IP, .dst4 = SVC_IP, .sport = (sp),              \
		.dport = (dp), .proto = (pr), .owner = (own), .epoch = (ep)    \
	}
#define XT_FLOW6(sp, own, ep)                                                  \
	{                                                                      \
		.v6 = 1, .src6 = client_ip6, .dst6 = svc_ip6, .sport = (sp),   \
		.dport = 443, .proto = STEER_IPPROTO_TCP, .owner = (own),      \
		.epoch = (ep)                                                  \
	}

static const struct xt_flow fl_miss = XT_FLOW4(40000, 443, 6, 0, 0);
static const struct xt_flow fl_local = XT_FLOW4(40001, 443, 6, XT_SELF, 5);
static const struct xt_flow fl_to2 = XT_FLOW4(40002, 443, 6, 2, 0x01020304);
static const struct xt_flow fl_to3 = XT_FLOW4(40003, 443, 6, 3, 7);
static const struct xt_flow fl_udp_miss = XT_FLOW4(5354, 53, 17, 0, 0);
static const struct xt_flow fl_udp_to3 = XT_FLOW4(5353, 53, 17, 3, 11);
/* ESP: keyed on addresses and protocol; 20-byte packets are possible. */
static const struct xt_flow fl_esp_to2 = XT_FLOW4(0, 0, 50, 2, 3);
static const struct xt_flow fl6_miss = XT_FLOW6(40005, 0, 0);
static const struct xt_flow fl6_to2 = XT_FLOW6(40004, 2, 9);
static const struct xt_flow fl6_to3 = XT_FLOW6(40006, 3, 0xa0b0c0d0);

static const struct xt_flow *const xt_announced[] = {
	&fl_local, &fl_to2,  &fl_to3,	  &fl_udp_to3,
	&fl6_to2,  &fl6_to3, &fl_esp_to2,
};

static struct flow_key xt_flow_key(const struct xt_flow *fl)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	if (fl->v6) {
		memcpy(k.src.b, fl->src6, 16);
		memcpy(k.dst.b, fl->dst6, 16);
	} else {
		flow_addr_set_v4(&k.src, steer_htonl(fl->src4));
		flow_addr_set_v4(&k.dst, steer_htonl(fl->dst4));
	}
	k.sport = steer_htons(fl->sport);
	k.dport = steer_htons(fl->dport);
	k.proto = fl->proto;
	return k;
}

/* The flow's IP packet with n bytes of L4 payload (or of IP payload). */
static void xt_flow_ip(struct xt_buf *pk, const struct xt_flow *fl, uint32_t n)
{
	struct xt_buf l4, pl = {.len = 0};

	memset(xt_room(&pl, n), 0xa5, n);
	if (fl->proto == STEER_IPPROTO_TCP)
		xt_tcp(&l4, fl->sport, fl->dport, n);
	else if (fl->proto == STEER_IPPROTO_UDP)
		xt_udp(&l4, fl->sport, fl->dport, &pl);
	else
		l4 = pl; /* no ports: the payload follows the IP header */
	if (fl->v6)
		xt_ip6(pk, fl->src6, fl->dst6, fl->proto, &l4);
	else
		xt_ip4(pk, fl->src4, fl->dst4, fl->proto, &l4);
}

/* A frame from the router to this node carrying IP packet pk. */
static void xt_frame(struct xt_buf *f, const struct xt_buf *pk, int ntags)
{
	xt_eth(f, xt_mac[XT_SELF], xt_mac[0], ntags, xt_ethertype_of(pk), pk);
}

/* ---- GUE variant 0 with steer's private data ---- */

struct xt_gue {
	int v6;
	uint32_t src4, dst4;
	const uint8_t *src6, *dst6;
	const uint8_t *dmac, *smac;
	int ntags;
	uint16_t sport;
	uint8_t magic, flags, hops;
	uint16_t origin;
	uint32_t epoch;
};

/* Outer IP + UDP (checksum 0) + GUE0 + private data + IP packet pk. */
static void xt_gue_ip(struct xt_buf *out, const struct xt_gue *g,
		      const struct xt_buf *pk)
{
	struct xt_buf gue = {.len = 0}, udp;
	uint8_t *h = xt_room(&gue, 16);

	h[0] = 3; /* version 0, C 0, hlen 3 words: the private data */
	h[1] = (pk->b[0] >> 4) == 6 ? 41 : 4;
	h[4] = g->magic;
	h[5] = 1;
	h[6] = g->flags;
	h[7] = g->hops;
	xt_be16(h + 8, g->origin);
	xt_be32(h + 12, g->epoch);
	xt_cat(&gue, pk);
	xt_udp(&udp, g->sport, STEER_GUE_PORT, &gue);
	if (g->v6)
		xt_ip6(out, g->src6, g->dst6, 17, &udp);
	else
		xt_ip4(out, g->src4, g->dst4, 17, &udp);
}

static void xt_gue_frame(struct xt_buf *f, const struct xt_gue *g,
			 const struct xt_buf *pk)
{
	struct xt_buf ip;

	xt_gue_ip(&ip, g, pk);
	xt_eth(f, g->dmac, g->smac, g->ntags, g->v6 ? 0x86dd : 0x0800, &ip);
}

/* What node 2 sends this node: GUE0 over IPv4 carrying pk. */
static struct xt_gue xt_gue_from2(uint8_t hops)
{
	struct xt_gue g = {
		.src4 = NODE2_IP,
		.dst4 = SELF_IP,
		.dmac = xt_mac[XT_SELF],
		.smac = xt_mac[2],
		.sport = 0xc123,
		.magic = STEER_GUE_PRIV_MAGIC,
		.flags = STEER_GUE_F_STEERED,
		.hops = hops,
		.origin = 2,
		.epoch = 77,
	};

	return g;
}

/*
 * The frame this node sends when it steers pk of flow fl to node (2:
 * GUE over IPv4, 3: GUE over IPv6) with hop count hops.
 */
static void xt_steer_want(struct xt_buf *f, uint16_t node,
			  const struct xt_flow *fl, uint8_t hops,
			  const struct xt_buf *pk)
{
	struct flow_key k = xt_flow_key(fl);
	struct xt_gue g = {
		.v6 = node == 3,
		.src4 = SELF_IP,
		.dst4 = NODE2_IP,
		.src6 = self_ip6,
		.dst6 = node3_ip6,
		.dmac = xt_mac[node],
		.smac = xt_mac[XT_SELF],
		.sport =
			steer_ntohs(flow_hash_sport(flow_hash(&k, &xt_secret))),
		.magic = STEER_GUE_PRIV_MAGIC,
		.flags = STEER_GUE_F_STEERED,
		.hops = hops,
		.origin = XT_SELF,
		.epoch = fl->epoch,
	};

	assert_true(node == 2 || node == 3);
	xt_gue_frame(f, &g, pk);
}

/* ---- the table ---- */

enum xt_outcome { XT_ACT, XT_PERR, XT_DROP, XT_NOTIP, XT_EXC };

struct xt_row {
	const char *name;
	void (*build)(struct xt_buf *in, struct xt_buf *want);
	int action;		 /* XDP_PASS, XDP_TX or XDP_DROP */
	enum xt_outcome outcome; /* which counter the packet bumps */
	int idx;		 /* steer_action, parse_err or steer_xdp_drop */
	uint8_t decap;		 /* a tunnel to this node was stripped */
	uint8_t miss;		 /* flow not announced (XDP's miss) */
	uint16_t target;	 /* XDP_TX: the node sent to */
	uint8_t cell;		 /* run on the cell-mode node (xc) */
	uint8_t dir;		 /* run on the directory node (xd) */
	uint8_t rerouted;	 /* sent to the session's home */
	uint8_t close;		 /* a FIN/RST sent to the flow's cell */
	void (*before)(void);	 /* state a row needs, and its undoing */
	void (*after)(void);
};

static void row_pass_miss_v4(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_miss, 32);
	xt_frame(in, &pk, 0);
	*want = *in;
}

static void row_pass_miss_v6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl6_miss, 0);
	xt_frame(in, &pk, 0);
	*want = *in;
}

static void row_pass_miss_udp(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_udp_miss, 24);
	xt_frame(in, &pk, 0);
	*want = *in;
}

static void row_pass_local(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_local, 100);
	xt_frame(in, &pk, 1);
	*want = *in;
}

static void row_steer_v4_gue4(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 10);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fl_to2, 1, &pk);
}

static void row_steer_v4_gue6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to3, 64);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 3, &fl_to3, 1, &pk);
}

static void row_steer_udp_gue6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_udp_to3, 33);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 3, &fl_udp_to3, 1, &pk);
}

static void row_steer_v6_gue4(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl6_to2, 20);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fl6_to2, 1, &pk);
}

static void row_steer_v6_gue6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl6_to3, 0);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 3, &fl6_to3, 1, &pk);
}

/* One 802.1Q tag: the template replaces the whole L2 header. */
static void row_steer_v6_vlan(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl6_to2, 20);
	xt_frame(in, &pk, 1);
	xt_steer_want(want, 2, &fl6_to2, 1, &pk);
}

/* 802.1ad + 802.1Q (QinQ). */
static void row_steer_v4_qinq(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 10);
	xt_frame(in, &pk, 2);
	xt_steer_want(want, 2, &fl_to2, 1, &pk);
}

/* A 60-byte minimum frame: Ethernet padding is not carried. */
static void row_steer_padded(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 0);
	xt_frame(in, &pk, 0);
	assert_int_equal(in->len, 54);
	memset(xt_room(in, 6), 0xee, 6);
	xt_steer_want(want, 2, &fl_to2, 1, &pk);
}

/* IPv6 with a destination-options header before TCP. */
static void row_steer_v6_ext(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf l4, ext = {.len = 0}, pk;
	uint8_t *h = xt_room(&ext, 8);

	h[0] = STEER_IPPROTO_TCP;
	h[2] = 1; /* PadN of 4 bytes */
	h[3] = 4;
	xt_tcp(&l4, fl6_to2.sport, fl6_to2.dport, 9);
	xt_cat(&ext, &l4);
	xt_ip6(&pk, client_ip6, svc_ip6, STEER_IPPROTO_DSTOPTS, &ext);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fl6_to2, 1, &pk);
}

/*
 * 58 bytes of GUE over IPv4 and an IP packet of 20 or 21: the frame ends
 * up shorter than STEER_TMPL_MAX, the XDP program's other way of writing
 * the template (through a stack buffer).
 */
static void row_steer_short(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_esp_to2, 0);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fl_esp_to2, 1, &pk);
}

static void row_steer_short_vlan(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_esp_to2, 1);
	xt_frame(in, &pk, 1);
	xt_steer_want(want, 2, &fl_esp_to2, 1, &pk);
}

/* An ICMP error quoting the server's reply follows the client's flow. */
static void row_steer_icmp_err(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf quote, tcp, icmp = {.len = 0}, pk;
	uint8_t *h;

	xt_tcp(&tcp, fl_to2.dport, fl_to2.sport, 0);
	xt_ip4(&quote, SVC_IP, CLIENT_IP, STEER_IPPROTO_TCP, &tcp);
	quote.len = 20 + 8; /* the IP header and 8 bytes, as routers quote */
	h = xt_room(&icmp, 8);
	h[0] = 3; /* destination unreachable */
	h[1] = 4; /* fragmentation needed */
	xt_be16(h + 6, 1400);
	xt_cat(&icmp, &quote);
	xt_ip4(&pk, ICMP_SRC, SVC_IP, STEER_IPPROTO_ICMP, &icmp);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fl_to2, 1, &pk);
}

/* 1456 bytes of IP + 44 of outer IPv4, UDP, GUE: exactly the MTU. */
static void row_steer_mtu_edge(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, XT_MTU - 44 - 40);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fl_to2, 1, &pk);
}

static void row_drop_mtu(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, XT_MTU - 44 - 40 + 1);
	xt_frame(in, &pk, 0);
}

/* Over IPv6 the outer headers are 64 bytes: 1436 + 64 = 1500. */
static void row_drop_mtu_gue6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to3, XT_MTU - 64 - 40 + 1);
	xt_frame(in, &pk, 0);
}

/* The inner frame node 2 encapsulated, as this node's stack must see it. */
static void xt_inner_frame(struct xt_buf *f, const struct xt_buf *pk)
{
	xt_eth(f, xt_mac[XT_SELF], xt_mac[2], 0, xt_ethertype_of(pk), pk);
}

static void row_decap_local(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_local, 40);
	xt_gue_frame(in, &g, &pk);
	xt_inner_frame(want, &pk);
}

static void row_decap_miss(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_miss, 3);
	xt_gue_frame(in, &g, &pk);
	xt_inner_frame(want, &pk);
}

/* Outer VLAN tag and outer Ethernet padding go with the tunnel. */
static void row_decap_vlan_padded(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	g.ntags = 1;
	xt_flow_ip(&pk, &fl_local, 0);
	xt_gue_frame(in, &g, &pk);
	memset(xt_room(in, 4), 0, 4);
	xt_inner_frame(want, &pk);
}

/* Node 3 sends over IPv6 to this node's IPv6 address. */
static void row_decap_gue6_v6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(2);
	struct xt_buf pk;

	g.v6 = 1;
	g.src6 = node3_ip6;
	g.dst6 = self_ip6;
	g.smac = xt_mac[2];
	g.origin = 3;
	xt_flow_ip(&pk, &fl6_miss, 17);
	xt_gue_frame(in, &g, &pk);
	xt_inner_frame(want, &pk);
}

/* GUE variant 1 (inner IP right after UDP) to this node. */
static void row_decap_gue1(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk, udp, outer;

	xt_flow_ip(&pk, &fl_local, 6);
	xt_udp(&udp, 0xc124, STEER_GUE_PORT, &pk);
	xt_ip4(&outer, NODE2_IP, SELF_IP, STEER_IPPROTO_UDP, &udp);
	xt_eth(in, xt_mac[XT_SELF], xt_mac[2], 0, 0x0800, &outer);
	xt_inner_frame(want, &pk);
}

/* IPIP to this node, owned by node 3: no hop count came, so 1. */
static void row_decap_ipip_steer(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk, outer;

	xt_flow_ip(&pk, &fl_to3, 6);
	xt_ip4(&outer, NODE2_IP, SELF_IP, STEER_IPPROTO_IPIP, &pk);
	xt_eth(in, xt_mac[XT_SELF], xt_mac[2], 0, 0x0800, &outer);
	xt_steer_want(want, 3, &fl_to3, 1, &pk);
}

/* A GUE control message (C bit) is no tunnel: plain UDP, unannounced. */
static void row_gue_ctrl_pass(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf ctl = {.len = 0}, udp, outer;

	xt_room(&ctl, 4)[0] = 0x20; /* version 0, C 1, hlen 0, type 0 */
	xt_udp(&udp, 0xc125, STEER_GUE_PORT, &ctl);
	xt_ip4(&outer, NODE2_IP, SELF_IP, STEER_IPPROTO_UDP, &udp);
	xt_eth(in, xt_mac[XT_SELF], xt_mac[2], 0, 0x0800, &outer);
	*want = *in;
}

/* Steered here by node 2, owned by node 3: on, one hop more. */
static void row_decap_steer(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to3, 8);
	xt_gue_frame(in, &g, &pk);
	xt_steer_want(want, 3, &fl_to3, 2, &pk);
}

static void row_decap_steer_last_hop(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(STEER_MAX_HOPS - 1);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl6_to2, 8);
	xt_gue_frame(in, &g, &pk);
	xt_steer_want(want, 2, &fl6_to2, STEER_MAX_HOPS, &pk);
}

static void row_drop_hop_limit(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(STEER_MAX_HOPS);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to3, 8);
	xt_gue_frame(in, &g, &pk);
}

/* Private data of another kind (magic): no hop count to carry on. */
static void row_decap_foreign_priv(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(STEER_MAX_HOPS);
	struct xt_buf pk;

	g.magic = 0x42;
	xt_flow_ip(&pk, &fl_to2, 8);
	xt_gue_frame(in, &g, &pk);
	xt_steer_want(want, 2, &fl_to2, 1, &pk);
}

/* IPIP between two other hosts: keyed on the inner flow, carried whole. */
static void row_transit_ipip_steer(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk, outer;

	xt_flow_ip(&pk, &fl_to2, 12);
	xt_ip4(&outer, TUN_SRC, TUN_DST, STEER_IPPROTO_IPIP, &pk);
	xt_frame(in, &outer, 0);
	xt_steer_want(want, 2, &fl_to2, 1, &outer);
}

static void row_transit_ipip_miss(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk, outer;

	xt_flow_ip(&pk, &fl_miss, 12);
	xt_ip4(&outer, TUN_SRC, TUN_DST, STEER_IPPROTO_IPIP, &pk);
	xt_frame(in, &outer, 0);
	*want = *in;
}

/* GUE to another fabric address: carried whole, its hop count kept. */
static void row_transit_gue_steer(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk, outer;

	g.dst4 = OTHER_IP;
	xt_flow_ip(&pk, &fl_to3, 5);
	xt_gue_frame(in, &g, &pk);
	xt_gue_ip(&outer, &g, &pk);
	xt_steer_want(want, 3, &fl_to3, 2, &outer);
}

static void row_trunc_ip(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 20);
	xt_frame(in, &pk, 0);
	in->len = 14 + 30;
}

/* The datagram ends 10 bytes into its TCP header. */
static void row_trunc_l4(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf l4, pk;

	xt_tcp(&l4, fl_to2.sport, fl_to2.dport, 0);
	l4.len = 10;
	xt_ip4(&pk, CLIENT_IP, SVC_IP, STEER_IPPROTO_TCP, &l4);
	xt_frame(in, &pk, 0);
}

/* A VLAN EtherType and one byte of the tag. */
static void row_trunc_vlan(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf none = {.len = 0};

	xt_eth(in, xt_mac[XT_SELF], xt_mac[0], 0, 0x8100, &none);
	xt_room(in, 1)[0] = 0x01;
}

static void row_vlan_depth(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 0);
	xt_frame(in, &pk, 3);
}

static void row_bad_ip_version(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 0);
	xt_frame(in, &pk, 0);
	in->b[14] = 0x65; /* an IPv4 EtherType, version 6 inside */
}

/* GUE version 2 on the GUE port, addressed to this node. */
static void row_bad_gue(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fl_to2, 0);
	xt_gue_frame(in, &g, &pk);
	in->b[14 + 20 + 8] = 0x80 | 3;
}

static void row_notip_arp(struct xt_buf *in, struct xt_buf *want)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	struct xt_buf arp = {.len = 0};
	uint8_t *a = xt_room(&arp, 28);

	xt_be16(a, 1);
	xt_be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	xt_be16(a + 6, 1); /* request */
	memcpy(a + 8, xt_mac[0], 6);
	xt_be32(a + 14, CLIENT_IP);
	xt_be32(a + 24, SELF_IP);
	xt_eth(in, bcast, xt_mac[0], 0, 0x0806, &arp);
	*want = *in;
}

/* Rows by outcome: passed (LOCAL, maybe a miss), decapsulated and passed,
 * steered to a node, dropped for a reason, dropped as unparseable. */
#define ROW(fn, act, out, i, dc, ms, tg)                                       \
	{                                                                      \
		.name = #fn, .build = row_##fn, .action = (act),               \
		.outcome = (out), .idx = (i), .decap = (dc), .miss = (ms),     \
		.target = (tg)                                                 \
	}
#define ROW_PASS(fn, m) ROW(fn, XDP_PASS, XT_ACT, STEER_ACT_LOCAL, 0, m, 0)
#define ROW_DECAP(fn, m) ROW(fn, XDP_PASS, XT_ACT, STEER_ACT_LOCAL, 1, m, 0)
#define ROW_STEER(fn, dc, node)                                                \
	ROW(fn, XDP_TX, XT_ACT, STEER_ACT_STEER, dc, 0, node)
#define ROW_DROP(fn, dc, why) ROW(fn, XDP_DROP, XT_DROP, why, dc, 0, 0)
#define ROW_PERR(fn, perr) ROW(fn, XDP_DROP, XT_PERR, perr, 0, 0, 0)

static const struct xt_row xt_rows[] = {
	ROW_PASS(pass_miss_v4, 1),
	ROW_PASS(pass_miss_v6, 1),
	ROW_PASS(pass_miss_udp, 1),
	ROW_PASS(pass_local, 0),
	ROW_STEER(steer_v4_gue4, 0, 2),
	ROW_STEER(steer_v4_gue6, 0, 3),
	ROW_STEER(steer_udp_gue6, 0, 3),
	ROW_STEER(steer_v6_gue4, 0, 2),
	ROW_STEER(steer_v6_gue6, 0, 3),
	ROW_STEER(steer_v6_vlan, 0, 2),
	ROW_STEER(steer_v4_qinq, 0, 2),
	ROW_STEER(steer_padded, 0, 2),
	ROW_STEER(steer_v6_ext, 0, 2),
	ROW_STEER(steer_short, 0, 2),
	ROW_STEER(steer_short_vlan, 0, 2),
	ROW_STEER(steer_icmp_err, 0, 2),
	ROW_STEER(steer_mtu_edge, 0, 2),
	ROW_DROP(drop_mtu, 0, STEER_DROP_MTU),
	ROW_DROP(drop_mtu_gue6, 0, STEER_DROP_MTU),
	ROW_DECAP(decap_local, 0),
	ROW_DECAP(decap_miss, 1),
	ROW_DECAP(decap_vlan_padded, 0),
	ROW_DECAP(decap_gue6_v6, 1),
	ROW_DECAP(decap_gue1, 0),
	ROW_STEER(decap_ipip_steer, 1, 3),
	ROW_PASS(gue_ctrl_pass, 1),
	ROW_STEER(decap_steer, 1, 3),
	ROW_STEER(decap_steer_last_hop, 1, 2),
	ROW_DROP(drop_hop_limit, 1, STEER_DROP_HOPS),
	ROW_STEER(decap_foreign_priv, 1, 2),
	ROW_STEER(transit_ipip_steer, 0, 2),
	ROW_PASS(transit_ipip_miss, 1),
	ROW_STEER(transit_gue_steer, 0, 3),
	ROW_PERR(trunc_ip, PERR_TRUNC_IP),
	ROW_PERR(trunc_l4, PERR_TRUNC_L4),
	ROW_PERR(trunc_vlan, PERR_TRUNC_ETH),
	ROW_PERR(vlan_depth, PERR_VLAN_DEPTH),
	ROW_PERR(bad_ip_version, PERR_BAD_IP),
	ROW_PERR(bad_gue, PERR_BAD_GUE),
	ROW(notip_arp, XDP_PASS, XT_NOTIP, 0, 0, 0, 0),
};

/* ---- the two fast paths ---- */

struct xt_fx {
	struct xdp_prog *x;
	struct fastpath *fp;
	uint8_t pkt[XT_HEADROOM + XT_FRAME_MAX] __attribute__((aligned(64)));
};

/* xt: this node in host mode; xc: the same node in cell mode; xd: in
 * host mode with a directory. */
static struct xt_fx *xt, *xc, *xd;
static const char *xt_skip_reason; /* set: every test skips */

static void xt_tmpl_make(struct steer_tmpl *t, uint16_t node)
{
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0, .origin = XT_SELF};

	memcpy(s.src_mac, xt_mac[XT_SELF], 6);
	memcpy(s.dst_mac, xt_mac[node], 6);
	if (node == 3) {
		memcpy(s.saddr.b, self_ip6, 16);
		memcpy(s.daddr.b, node3_ip6, 16);
	} else {
		flow_addr_set_v4(&s.saddr, steer_htonl(SELF_IP));
		flow_addr_set_v4(&s.daddr, steer_htonl(SELF_IP + node - 1));
	}
	s.dport = steer_htons(STEER_GUE_PORT);
	assert_int_equal(tmpl_build(t, &s), 0);
}

static void xt_xdp_cfg_make(struct steer_xdp_cfg *c)
{
	memset(c, 0, sizeof(*c));
	flow_addr_set_v4(&c->self_addr, steer_htonl(SELF_IP));
	memcpy(c->self_addr6.b, self_ip6, 16);
	c->secret = xt_secret;
	c->mtu = XT_MTU;
	c->self_id = XT_SELF;
	c->gue_port = steer_htons(STEER_GUE_PORT);
	c->max_encap = STEER_MAX_ENCAP;
}

static struct fastpath *xt_twin_make(bool dir)
{
	struct fp_config cfg = {
		.dir = dir,
		.mode = FP_MODE_HOST,
		.self_id = XT_SELF,
		.gue_port = steer_htons(STEER_GUE_PORT),
		.max_encap = STEER_MAX_ENCAP,
		.mtu = XT_MTU,
		.maglev_size = 251,
		.secret = xt_secret,
	};
	struct fp_target nodes[3];
	struct fastpath *fp;
	int i;

	flow_addr_set_v4(&cfg.self_addr, steer_htonl(SELF_IP));
	memcpy(cfg.self_addr6.b, self_ip6, 16);
	fsc_cfg_default(&cfg.fsc, 1024);
	fp = fastpath_new(&cfg);
	assert_non_null(fp);
	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < 3; i++) {
		nodes[i].id = (uint16_t)(i + 1);
		nodes[i].weight = 1;
		xt_tmpl_make(&nodes[i].tmpl, nodes[i].id);
	}
	assert_int_equal(fastpath_set_nodes(fp, nodes, 3), 0);
	return fp;
}

static struct fastpath *xt_twin_new(void)
{
	return xt_twin_make(false);
}

/* The same configuration, templates and flows on the XDP side. */
static void xt_xdp_program(struct xdp_prog *x)
{
	struct steer_xdp_cfg c;
	struct steer_tmpl t;
	uint16_t node;

	xt_xdp_cfg_make(&c);
	assert_int_equal(xdp_maps_cfg_set(x, &c), 0);
	for (node = 2; node <= 3; node++) {
		xt_tmpl_make(&t, node);
		assert_int_equal(xdp_maps_tmpl_set(x, node, &t), 0);
	}
}

static void xt_flows_announce(struct xt_fx *f)
{
	size_t i;

	for (i = 0; i < sizeof(xt_announced) / sizeof(xt_announced[0]); i++) {
		const struct xt_flow *fl = xt_announced[i];
		struct flow_key k = xt_flow_key(fl);

		assert_int_equal(
			xdp_maps_flow_set(f->x, &k, fl->owner, fl->epoch), 0);
		assert_int_equal(
			fastpath_flow_set(f->fp, &k, fl->owner, fl->epoch, 0),
			0);
	}
}

static struct xt_fx *xc_new(struct xdp_prog *x);
static struct xt_fx *xd_new(struct xdp_prog *x);

static int xt_group_setup(void **state)
{
	struct xdp_prog *x;

	if (geteuid() != 0) {
		xt_skip_reason = "needs root (BPF_PROG_TEST_RUN of XDP)";
		return 0;
	}
	x = xdp_prog_open(NULL);
	if (!x) {
		if (errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP) {
			xt_skip_reason = errno == EPERM
						 ? "BPF not permitted (EPERM)"
						 : "BPF not available here";
			return 0;
		}
		print_error("xdp_prog_open: %s\n", strerror(errno));
		return -1;
	}
	xt = calloc(1, sizeof(*xt));
	if (!xt) {
		xdp_prog_close(x);
		return -1;
	}
	xt->x = x;
	xt->fp = xt_twin_new();
	xt_xdp_program(xt->x);
	xt_flows_announce(xt);
	x = xdp_prog_open(NULL); /* a second program: the cell-mode node */
	if (!x) {
		print_error("xdp_prog_open (cell): %s\n", strerror(errno));
		return -1;
	}
	xc = xc_new(x);
	x = xdp_prog_open(NULL); /* a third: host mode with a directory */
	if (!x) {
		print_error("xdp_prog_open (dir): %s\n", strerror(errno));
		return -1;
	}
	xd = xd_new(x);
	return 0;
}

static void xt_fx_free(struct xt_fx *f)
{
	if (!f)
		return;
	fastpath_free(f->fp);
	xdp_prog_close(f->x);
	free(f);
}

static int xt_group_teardown(void **state)
{
	xt_fx_free(xt);
	xt_fx_free(xc);
	xt_fx_free(xd);
	xt = xc = xd = NULL;
	return 0;
}

#define XT_SKIP_IF_NEEDED()                                                    \
	do {                                                                   \
		if (xt_skip_reason) {                                          \
			print_message("SKIP: %s\n", xt_skip_reason);           \
			skip();                                                \
		}                                                              \
	} while (0)

/* ---- checks ---- */

#define XT_NSTATS (sizeof(struct steer_xdp_stats) / sizeof(__u64))

static void xt_stat_name(size_t i, char *buf, size_t n)
{
	static const char *const scalar[] = {
		"rx_packets", "rx_bytes", "notip",  "decap",
		"miss",	      "udp_new",  "exc_in", "ev_lost"};
	static const char *const tail[] = {
		"close_to_cell",  "tele_tick",	    "tele_cand", "tx_bytes",
		"dir_rerouted",	  "dir_taught",	    "dir_asked", "guard_over",
		"guard_src_over", "guard_stateless"};
	size_t ns = sizeof(scalar) / sizeof(scalar[0]);

	if (i < ns)
		snprintf(buf, n, "%s", scalar[i]);
	else if (i < ns + STEER_ACT__MAX)
		snprintf(buf, n, "action[%s]",
			 fastpath_action_name((uint8_t)(i - ns)));
	else if (i < ns + STEER_ACT__MAX + PERR__MAX)
		snprintf(buf, n, "parse_err[%s]",
			 fastpath_parse_err_name(
				 (int)(i - ns - STEER_ACT__MAX)));
	else if (i < ns + STEER_ACT__MAX + PERR__MAX + STEER_DROP__MAX)
		snprintf(buf, n, "drop[%s]",
			 fastpath_drop_name((enum steer_drop)(
				 i - ns - STEER_ACT__MAX - PERR__MAX)));
	else
		snprintf(buf, n, "%s",
			 tail[(i - ns - STEER_ACT__MAX - PERR__MAX -
			       STEER_DROP__MAX) %
			      (sizeof(tail) / sizeof(tail[0]))]);
}

/* Every counter of got equals want's; names the first that differs. */
static void xt_stats_check(const char *row, const char *side,
			   const struct steer_xdp_stats *got,
			   const struct steer_xdp_stats *want)
{
	const __u64 *g = (const __u64 *)got, *w = (const __u64 *)want;
	char name[64];
	size_t i;
	int bad = 0;

	_Static_assert(offsetof(struct steer_xdp_stats, action) ==
			       8 * sizeof(__u64),
		       "xt_stat_name() lists the scalars");
	_Static_assert(sizeof(struct steer_xdp_stats) ==
			       offsetof(struct steer_xdp_stats, close_to_cell) +
				       11 * sizeof(__u64),
		       "xt_stat_name() lists the tail");
	for (i = 0; i < XT_NSTATS; i++) {
		if (g[i] == w[i])
			continue;
		xt_stat_name(i, name, sizeof(name));
		print_error("%s: %s counter %s is %llu, expected %llu\n", row,
			    side, name, (unsigned long long)g[i],
			    (unsigned long long)w[i]);
		bad = 1;
	}
	if (bad)
		fail();
}

static void xt_hexdump(const char *what, const uint8_t *p, uint32_t n)
{
	uint32_t i;

	print_error("%s (%u bytes):", what, n);
	for (i = 0; i < n; i++)
		print_error("%s%02x", i % 16 ? " " : "\n  ", p[i]);
	print_error("\n");
}

static void xt_bytes_check(const char *row, const char *side,
			   const uint8_t *got, uint32_t glen,
			   const struct xt_buf *want)
{
	uint32_t i, n = glen < want->len ? glen : want->len;

	if (glen == want->len && !memcmp(got, want->b, glen))
		return;
	for (i = 0; i < n && got[i] == want->b[i]; i++)
		;
	print_error("%s: %s output differs at byte %u (lengths %u, %u)\n", row,
		    side, i, glen, want->len);
	xt_hexdump("got", got, glen);
	xt_hexdump("expected", want->b, want->len);
	fail();
}

static void xt_stats_want(const struct xt_row *row, uint32_t len,
			  uint32_t out_len, struct steer_xdp_stats *w)
{
	memset(w, 0, sizeof(*w));
	w->rx_packets = 1;
	w->rx_bytes = len;
	w->decap = row->decap;
	w->miss = row->miss;
	switch (row->outcome) {
	case XT_ACT:
		w->action[row->idx] = 1;
		break;
	case XT_PERR:
		w->parse_err[row->idx] = 1;
		w->drop[STEER_DROP_PARSE] = 1;
		break;
	case XT_DROP:
		w->drop[row->idx] = 1;
		break;
	case XT_NOTIP:
		w->notip = 1;
		break;
	case XT_EXC:
		w->exc_in = 1;
		break;
	}
	w->close_to_cell = row->close;
	/* A steered packet sent on by a rule of the flow: telemetry's
	 * sampling clock (one packet a row: never a sample). */
	w->tele_tick =
		row->outcome == XT_ACT && !row->miss &&
		(row->idx == STEER_ACT_STEER || row->idx == STEER_ACT_BACKEND ||
		 row->idx == STEER_ACT_HINT);
	w->tx_bytes = row->action == XDP_TX ? out_len : 0;
	w->dir_rerouted = row->rerouted;
	/* Nobody here knows the session: the daemon is asked (XDP: once
	 * per flow a second; each row's flow is new to it). */
	w->dir_asked =
		row->outcome == XT_DROP && row->idx == STEER_DROP_DIR_UNKNOWN;
}

static int xt_fp_action(enum fp_verdict v)
{
	return v == FP_PASS ? XDP_PASS : v == FP_TX ? XDP_TX : XDP_DROP;
}

static const char *xt_action_name(int a)
{
	return a == XDP_PASS   ? "XDP_PASS"
	       : a == XDP_TX   ? "XDP_TX"
	       : a == XDP_DROP ? "XDP_DROP"
			       : "XDP_?";
}

/* BPF_PROG_TEST_RUN once: the action, the output frame, the counters. */
static int xt_xdp_run_on(struct xt_fx *fx, const struct xt_buf *in,
			 struct xt_buf *out, struct steer_xdp_stats *st)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in->b,
		    .data_size_in = in->len, .data_out = out->b,
		    .data_size_out = sizeof(out->b), .repeat = 1);

	assert_int_equal(xdp_maps_stats_reset(fx->x), 0);
	assert_int_equal(bpf_prog_test_run_opts(xdp_prog_fd(fx->x), &o), 0);
	out->len = o.data_size_out;
	assert_int_equal(xdp_maps_stats_read(fx->x, st), 0);
	return (int)o.retval;
}

static int xt_xdp_run(const struct xt_buf *in, struct xt_buf *out,
		      struct steer_xdp_stats *st)
{
	return xt_xdp_run_on(xt, in, out, st);
}

static void xt_row_run(void **state)
{
	const struct xt_row *row = *state;
	struct xt_fx *fx = row->cell ? xc : row->dir ? xd : xt;
	static struct xt_buf in, want, got;
	struct steer_xdp_stats xs, us, ws;
	struct fp_counters before;
	struct fp_result r;
	struct fp_pkt p;
	int xact;

	XT_SKIP_IF_NEEDED();
	memset(&in, 0, sizeof(in));
	memset(&want, 0, sizeof(want));
	row->build(&in, &want);
	assert_true(in.len >= 14);
	xt_stats_want(row, in.len, want.len, &ws);
	if (row->before)
		row->before();

	/* The kernel. */
	xact = xt_xdp_run_on(fx, &in, &got, &xs);
	if (xact != row->action) {
		print_error("%s: XDP gave %s, expected %s\n", row->name,
			    xt_action_name(xact), xt_action_name(row->action));
		fail();
	}
	if (row->action != XDP_DROP)
		xt_bytes_check(row->name, "XDP", got.b, got.len, &want);
	xt_stats_check(row->name, "XDP", &xs, &ws);

	/* The userspace twin, on a copy aligned as a NIC ring's. */
	memcpy(fx->pkt + XT_HEADROOM, in.b, in.len);
	p.data = fx->pkt + XT_HEADROOM;
	p.len = in.len;
	p.headroom = XT_HEADROOM;
	before = *fastpath_counters(fx->fp);
	fastpath_process(fx->fp, &p, 0, &r);
	if (row->after)
		row->after();
	if (xt_fp_action(r.verdict) != row->action) {
		print_error("%s: the twin gave %s, expected %s\n", row->name,
			    xt_action_name(xt_fp_action(r.verdict)),
			    xt_action_name(row->action));
		fail();
	}
	if (row->action != XDP_DROP) {
		xt_bytes_check(row->name, "twin", p.data, p.len, &want);
		/* Stated again: the two fast paths agree byte for byte. */
		assert_int_equal(p.len, got.len);
		assert_memory_equal(p.data, got.b, got.len);
	}
	xdp_twin_delta(&before, fastpath_counters(fx->fp), &us);
	xt_stats_check(row->name, "twin", &us, &ws);
	assert_memory_equal(&us, &xs, sizeof(us));
	assert_int_equal(fastpath_counters(fx->fp)->new_flows,
			 before.new_flows);

	/* What the twin says it did. */
	switch (row->outcome) {
	case XT_ACT:
		assert_int_equal(r.action, row->idx);
		assert_true(r.has_key);
		break;
	case XT_PERR:
		assert_int_equal(r.drop, STEER_DROP_PARSE);
		assert_int_equal(r.parse_err, row->idx);
		break;
	case XT_DROP:
		assert_int_equal(r.drop, row->idx);
		break;
	case XT_NOTIP:
	case XT_EXC:
		assert_false(r.has_key);
		break;
	}
	if (row->action == XDP_TX) {
		assert_int_equal(r.target, row->target);
		assert_int_equal(r.owner, row->target);
	}
}

/*
 * mtu 0 in steer_cfg means "not configured": every packet passes
 * untouched and uncounted (steer_kern_user.h), an encapsulating one too.
 */
static void xt_unconfigured_passes(void **state)
{
	static struct xt_buf in, want, got;
	struct steer_xdp_stats xs, zero;
	struct steer_xdp_cfg c;

	XT_SKIP_IF_NEEDED();
	memset(&in, 0, sizeof(in));
	row_steer_v4_gue4(&in, &want);
	xt_xdp_cfg_make(&c);
	c.mtu = 0;
	assert_int_equal(xdp_maps_cfg_set(xt->x, &c), 0);
	assert_int_equal(xt_xdp_run(&in, &got, &xs), XDP_PASS);
	c.mtu = XT_MTU;
	assert_int_equal(xdp_maps_cfg_set(xt->x, &c), 0);
	xt_bytes_check("unconfigured", "XDP", got.b, got.len, &in);
	memset(&zero, 0, sizeof(zero));
	xt_stats_check("unconfigured", "XDP", &xs, &zero);
	/* Configured again: steered as before. */
	assert_int_equal(xt_xdp_run(&in, &got, &xs), XDP_TX);
	xt_bytes_check("reconfigured", "XDP", got.b, got.len, &want);
}

/* A flow forgotten on both sides passes again, on both sides. */
static void xt_flow_del_passes(void **state)
{
	static struct xt_buf in, want, got;
	struct flow_key k = xt_flow_key(&fl_to2);
	struct steer_xdp_stats xs;
	struct fp_result r;
	struct fp_pkt p;

	XT_SKIP_IF_NEEDED();
	memset(&in, 0, sizeof(in));
	row_steer_v4_gue4(&in, &want);
	assert_int_equal(xdp_maps_flow_del(xt->x, &k), 0);
	assert_int_equal(fastpath_flow_del(xt->fp, &k), 0);
	assert_int_equal(xt_xdp_run(&in, &got, &xs), XDP_PASS);
	xt_bytes_check("deleted", "XDP", got.b, got.len, &in);
	assert_int_equal(xs.miss, 1);
	memcpy(xt->pkt + XT_HEADROOM, in.b, in.len);
	p.data = xt->pkt + XT_HEADROOM;
	p.len = in.len;
	p.headroom = XT_HEADROOM;
	fastpath_process(xt->fp, &p, 0, &r);
	assert_int_equal(r.verdict, FP_PASS);
	assert_int_equal(xdp_maps_flow_del(xt->x, &k), -ENOENT);
	assert_int_equal(fastpath_flow_del(xt->fp, &k), -ENOENT);
	/* Announced again, for the tests that follow. */
	assert_int_equal(
		xdp_maps_flow_set(xt->x, &k, fl_to2.owner, fl_to2.epoch), 0);
	assert_int_equal(
		fastpath_flow_set(xt->fp, &k, fl_to2.owner, fl_to2.epoch, 0),
		0);
	assert_int_equal(xt_xdp_run(&in, &got, &xs), XDP_TX);
	xt_bytes_check("re-announced", "XDP", got.b, got.len, &want);
}

struct xt_events {
	int n;
	struct steer_sess_ev last;
};

static int xt_event_take(void *ctx, void *data, size_t len)
{
	struct xt_events *e = ctx;

	assert_int_equal(len, sizeof(e->last));
	memcpy(&e->last, data, sizeof(e->last));
	e->n++;
	return 0;
}

/*
 * XDP only (the twin has no session table): the first packet of a UDP
 * session of a service of this node's stack is recorded in steer_udp and
 * reported once on steer_events; the next one only refreshes its time.
 * The verdict and bytes stay those of any unannounced flow.
 */
/*
 * A full flow table (a program loaded with 8 entries a table) refuses a
 * new rule with E2BIG and keeps every rule it holds; the IPv6 table has
 * its own room; a freed entry takes the refused rule. Occupancy counts
 * both tables.
 */
static void xt_table_full(void **state)
{
	struct xdp_prog_opts o = {.max_flows = 8};
	struct xdp_maps_occupancy occ;
	struct xdp_prog *x;
	struct flow_key k[9], k6;
	struct steer_rule r;
	int i;

	XT_SKIP_IF_NEEDED();
	x = xdp_prog_open(&o);
	assert_non_null(x);
	for (i = 0; i < 9; i++) {
		memset(&k[i], 0, sizeof(k[i]));
		flow_addr_set_v4(&k[i].src,
				 steer_htonl(0xc6130000u + (uint32_t)i));
		flow_addr_set_v4(&k[i].dst, steer_htonl(SELF_IP));
		k[i].sport = steer_htons(40000);
		k[i].dport = steer_htons(80);
		k[i].proto = STEER_IPPROTO_TCP;
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(xdp_maps_flow_set(x, &k[i], 2, 1), 0);
	assert_int_equal(xdp_maps_flow_set(x, &k[8], 2, 1), -E2BIG);
	for (i = 0; i < 8; i++)
		assert_int_equal(xdp_maps_rule_get(x, &k[i], &r), 0);
	assert_int_equal(xdp_maps_rule_get(x, &k[8], &r), -ENOENT);
	/* A rule already there may still change. */
	assert_int_equal(xdp_maps_flow_set(x, &k[3], 4, 2), 0);
	k6 = k[0];
	memset(&k6.src, 0x20, sizeof(k6.src));
	memset(&k6.dst, 0x20, sizeof(k6.dst));
	k6.dst.b[15] = 1;
	assert_int_equal(xdp_maps_flow_set(x, &k6, 2, 1), 0);
	assert_int_equal(xdp_maps_occupancy(x, &occ), 0);
	assert_int_equal(occ.size, 8);
	assert_int_equal(occ.flows4, 8);
	assert_int_equal(occ.flows6, 1);
	assert_int_equal(xdp_maps_flow_del(x, &k[5]), 0);
	assert_int_equal(xdp_maps_flow_set(x, &k[8], 2, 1), 0);
	assert_int_equal(xdp_maps_occupancy(x, &occ), 0);
	assert_int_equal(occ.flows4, 8);
	xdp_prog_close(x);
}

static void xt_udp_session_seen(void **state)
{
	static struct xt_buf in, want, got;
	struct flow_key k = xt_flow_key(&fl_udp_miss);
	int svcs, udp;
	struct xt_events ev = {0};
	struct steer_udp_seen seen1, seen2;
	struct steer_svc_key sk;
	struct steer_xdp_stats xs;
	struct ring_buffer *rb;
	__u32 one = 1;

	XT_SKIP_IF_NEEDED();
	svcs = xdp_prog_map_fd(xt->x, "steer_svcs");
	udp = xdp_prog_map_fd(xt->x, "steer_udp");
	assert_true(svcs >= 0 && udp >= 0);
	rb = ring_buffer__new(xdp_prog_map_fd(xt->x, "steer_events"),
			      xt_event_take, &ev, NULL);
	assert_non_null(rb);
	assert_true(ring_buffer__consume(rb) >= 0); /* anything stale */
	ev.n = 0;
	memset(&sk, 0, sizeof(sk));
	sk.addr = k.dst;
	sk.port = k.dport;
	sk.proto = k.proto;
	assert_int_equal(bpf_map_update_elem(svcs, &sk, &one, BPF_ANY), 0);
	memset(&in, 0, sizeof(in));
	row_pass_miss_udp(&in, &want);

	assert_int_equal(xt_xdp_run(&in, &got, &xs), XDP_PASS);
	xt_bytes_check("udp session", "XDP", got.b, got.len, &want);
	assert_int_equal(xs.udp_new, 1);
	assert_int_equal(xs.miss, 1);
	assert_int_equal(xs.ev_lost, 0);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.last.type, STEER_SESS_EV_UDP_NEW);
	assert_memory_equal(&ev.last.key, &k, sizeof(k));
	assert_int_equal(bpf_map_lookup_elem(udp, &k, &seen1), 0);
	assert_true(seen1.first_ns && seen1.last_ns == seen1.first_ns);
	/* Its telemetry: one packet, of the frame's bytes, no gap yet. */
	assert_int_equal(seen1.pkts, 1);
	assert_int_equal(seen1.bytes, in.len);
	assert_int_equal(seen1.size[steer_tele_size_bucket(in.len)], 1);
	assert_int_equal(seen1.gap_sum_us, 0);

	assert_int_equal(xt_xdp_run(&in, &got, &xs), XDP_PASS);
	assert_int_equal(xs.udp_new, 0);
	assert_int_equal(xs.miss, 1);
	assert_int_equal(ring_buffer__consume(rb), 0);
	assert_int_equal(bpf_map_lookup_elem(udp, &k, &seen2), 0);
	assert_true(seen2.first_ns == seen1.first_ns &&
		    seen2.last_ns >= seen1.last_ns);
	assert_int_equal(seen2.pkts, 2);
	assert_int_equal(seen2.bytes, 2 * in.len);
	assert_int_equal(seen2.size[steer_tele_size_bucket(in.len)], 2);
	/* One gap, in microseconds: the time between the two packets. */
	assert_int_equal(seen2.gap_sum_us,
			 (seen2.last_ns - seen1.last_ns) / 1000);
	assert_true(seen2.gap_sq == seen2.gap_sum_us * seen2.gap_sum_us);

	assert_int_equal(bpf_map_delete_elem(svcs, &sk), 0);
	assert_int_equal(bpf_map_delete_elem(udp, &k), 0);
	ring_buffer__free(rb);
}

/* The expected-output writers against known bytes: tests of the test. */
static void xt_writers_check(void **state)
{
	/* 45 00 00 1c 00 00 40 00 40 11 ? ? c6 12 00 01 c6 12 00 02 */
	static const uint8_t ip4[20] = {
		0x45, 0,    0,	  0x1c, 0, 0, 0x40, 0,	  0x40, 0x11,
		0xae, 0xa9, 0xc6, 0x12, 0, 1, 0xc6, 0x12, 0,	2};
	struct xt_buf pl = {.len = 0}, udp, pk;

	xt_udp(&udp, 1, 2, &pl);
	xt_ip4(&pk, SELF_IP, NODE2_IP, 17, &udp);
	assert_int_equal(pk.len, 28);
	assert_memory_equal(pk.b, ip4, sizeof(ip4));
	/* A header with its checksum sums to 0xffff: complement 0. */
	assert_int_equal(xt_csum(pk.b, 20), 0);
}

/* ---- cell mode: the same node as a cell-mode fast-path node ---- */

/*
 * Services: TCP 10.0.0.2:443 (FIN/RST via the cell), TCP :80 (not),
 * UDP :53; backend 10 behind all three (GUE0 to 198.18.0.10). Shards go
 * to cell 2, first mirror 3, but for the flows that need another.
 */
#define XC_BACKEND 10
#define XC_BACKEND_IP 0xc612000au /* 198.18.0.10 */

static const struct xt_flow fc_new = XT_FLOW4(41000, 443, 6, 0, 0);
static const struct xt_flow fc6_new = XT_FLOW6(41001, 0, 0);
static const struct xt_flow fc_self = XT_FLOW4(41002, 443, 6, 0, 0);
static const struct xt_flow fc_nocell = XT_FLOW4(41003, 443, 6, 0, 0);
static const struct xt_flow fc_other = XT_FLOW4(41004, 8080, 6, 0, 0);
static const struct xt_flow fc_bk = XT_FLOW4(41005, 443, 6, 0, 0);
static const struct xt_flow fc_bk80 = XT_FLOW4(41006, 80, 6, 0, 0);
static const struct xt_flow fc_bkudp = XT_FLOW4(41007, 53, 17, 0, 0);
/* Flows with a BACKEND rule from their cell (2). */
static const struct xt_flow *const xc_ruled[] = {&fc_bk, &fc_bk80, &fc_bkudp};

static uint32_t xc_shard(const struct xt_flow *fl)
{
	struct flow_key k = xt_flow_key(fl);

	return steer_shard_of(flow_hash(&k, &xt_secret));
}

/* Every shard {2, 3}; fc6_new's {3, 2}, fc_self's {this node, 3},
 * fc_nocell's none. */
static void xc_shards_make(struct steer_shard *sh)
{
	const struct xt_flow *own[] = {&fc6_new, &fc_self, &fc_nocell};
	uint32_t i, j;

	for (i = 0; i < STEER_SHARDS; i++) {
		sh[i].cell[0] = 2;
		sh[i].cell[1] = 3;
	}
	/* Their shards differ from each other and from the default's. */
	for (i = 0; i < 3; i++)
		for (j = 0; j < i; j++)
			assert_int_not_equal(xc_shard(own[i]),
					     xc_shard(own[j]));
	sh[xc_shard(&fc6_new)].cell[0] = 3;
	sh[xc_shard(&fc6_new)].cell[1] = 2;
	sh[xc_shard(&fc_self)].cell[0] = XT_SELF;
	sh[xc_shard(&fc_nocell)].cell[0] = STEER_NODE_NONE;
	sh[xc_shard(&fc_nocell)].cell[1] = STEER_NODE_NONE;
}

static void xc_backend_tmpl(struct steer_tmpl *t)
{
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0, .origin = XT_SELF};

	memcpy(s.src_mac, xt_mac[XT_SELF], 6);
	memcpy(s.dst_mac, xt_mac[0], 6); /* through the router */
	flow_addr_set_v4(&s.saddr, steer_htonl(SELF_IP));
	flow_addr_set_v4(&s.daddr, steer_htonl(XC_BACKEND_IP));
	s.dport = steer_htons(STEER_GUE_PORT);
	assert_int_equal(tmpl_build(t, &s), 0);
}

static void xc_services(struct xt_fx *f)
{
	static const struct {
		uint16_t port;
		uint8_t proto, flags, v6;
	} sv[] = {
		{443, STEER_IPPROTO_TCP, STEER_SVC_F_CLOSE_VIA_CELL, 0},
		{80, STEER_IPPROTO_TCP, 0, 0},
		{53, STEER_IPPROTO_UDP, 0, 0},
		{443, STEER_IPPROTO_TCP, STEER_SVC_F_CLOSE_VIA_CELL, 1},
	};
	enum { N = sizeof(sv) / sizeof(sv[0]) };
	struct steer_svc_key keys[N];
	__u32 flags[N];
	struct fp_target b = {.id = XC_BACKEND, .weight = 1};
	size_t i;

	xc_backend_tmpl(&b.tmpl);
	memset(keys, 0, sizeof(keys));
	for (i = 0; i < N; i++) {
		struct fp_service s = {.proto = sv[i].proto,
				       .port = steer_htons(sv[i].port),
				       .flags = sv[i].flags};

		if (sv[i].v6)
			memcpy(s.vip.b, svc_ip6, 16);
		else
			flow_addr_set_v4(&s.vip, steer_htonl(SVC_IP));
		keys[i].addr = s.vip;
		keys[i].port = s.port;
		keys[i].proto = s.proto;
		flags[i] = STEER_SVC_F_PRESENT | sv[i].flags;
		assert_true(fastpath_add_service(f->fp, &s, &b, 1) >= 0);
	}
	assert_int_equal(xdp_maps_svc_set(f->x, keys, flags, N), 0);
	assert_int_equal(xdp_maps_tmpl_set(f->x,
					   xdp_maps_tmpl_backend(XC_BACKEND),
					   &b.tmpl),
			 0);
}

/* Cell 2's BACKEND rule for fl, on both sides. */
static void xc_rule_set(struct xt_fx *f, const struct xt_flow *fl)
{
	struct flow_key k = xt_flow_key(fl);
	struct steer_rule r = {
		.owner = 2,
		.tmpl = xdp_maps_tmpl_backend(XC_BACKEND),
		.action = STEER_ACT_BACKEND,
		.rf = 1,
		.mirror = {STEER_NODE_NONE, STEER_NODE_NONE},
	};

	assert_int_equal(xdp_maps_rule_set(f->x, &k, &r), 0);
	assert_int_equal(fastpath_rule_set(f->fp, &k, STEER_ACT_BACKEND,
					   XC_BACKEND, 0, 0),
			 0);
}

static struct xt_fx *xc_new(struct xdp_prog *x)
{
	struct fp_config cfg = {
		.mode = FP_MODE_CELL_NODE,
		.self_id = XT_SELF,
		.gue_port = steer_htons(STEER_GUE_PORT),
		.max_encap = STEER_MAX_ENCAP,
		.mtu = XT_MTU,
		.maglev_size = 251,
		.secret = xt_secret,
	};
	static struct steer_shard sh[STEER_SHARDS];
	struct fp_target nodes[3];
	struct steer_xdp_cfg c;
	struct xt_fx *f = calloc(1, sizeof(*f));
	uint16_t i;

	assert_non_null(f);
	f->x = x;
	flow_addr_set_v4(&cfg.self_addr, steer_htonl(SELF_IP));
	memcpy(cfg.self_addr6.b, self_ip6, 16);
	fsc_cfg_default(&cfg.fsc, 1024);
	f->fp = fastpath_new(&cfg);
	assert_non_null(f->fp);
	xt_xdp_cfg_make(&c);
	c.mode = STEER_XDP_MODE_CELL;
	assert_int_equal(xdp_maps_cfg_set(x, &c), 0);
	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < 3; i++) { /* this node is a cell too */
		nodes[i].id = (uint16_t)(i + 1);
		nodes[i].weight = 1;
		xt_tmpl_make(&nodes[i].tmpl, nodes[i].id);
		assert_int_equal(
			xdp_maps_tmpl_set(x, nodes[i].id, &nodes[i].tmpl), 0);
	}
	assert_int_equal(fastpath_set_nodes(f->fp, nodes, 3), 0);
	xc_shards_make(sh);
	assert_int_equal(xdp_maps_shards_set(x, sh), 0);
	fastpath_shards_set(f->fp, sh);
	xc_services(f);
	for (i = 0; i < sizeof(xc_ruled) / sizeof(xc_ruled[0]); i++)
		xc_rule_set(f, xc_ruled[i]);
	return f;
}

/* This node's daemon gone, on both sides: XDP sees an alive stamp from
 * long ago (ktime 1 ns). */
static void xc_daemon_set(int gone)
{
	struct steer_xdp_cfg c;

	xt_xdp_cfg_make(&c);
	c.mode = STEER_XDP_MODE_CELL;
	c.alive_ns = gone ? 1 : 0;
	assert_int_equal(xdp_maps_cfg_set(xc->x, &c), 0);
	fastpath_daemon_gone_set(xc->fp, gone);
}

static void xc_gone(void)
{
	xc_daemon_set(1);
}

static void xc_back(void)
{
	xc_daemon_set(0);
}

/* After a close via the cell: the rule is gone on both sides; set it
 * again for the rows that follow. */
static void xc_rule_again(void)
{
	struct flow_key k = xt_flow_key(&fc_bk);

	assert_int_equal(xdp_maps_flow_del(xc->x, &k), -ENOENT);
	assert_int_equal(fastpath_flow_del(xc->fp, &k), -ENOENT);
	xc_rule_set(xc, &fc_bk);
}

/* What this node sends cell `cell` for a miss of fl: GUE with the
 * exception flag, hop count hops, epoch 0. */
static void xc_exc_want(struct xt_buf *f, uint16_t cell,
			const struct xt_flow *fl, uint8_t hops,
			const struct xt_buf *pk)
{
	struct flow_key k = xt_flow_key(fl);
	struct xt_gue g = {
		.v6 = cell == 3,
		.src4 = SELF_IP,
		.dst4 = SELF_IP + cell - 1,
		.src6 = self_ip6,
		.dst6 = node3_ip6,
		.dmac = xt_mac[cell],
		.smac = xt_mac[XT_SELF],
		.sport =
			steer_ntohs(flow_hash_sport(flow_hash(&k, &xt_secret))),
		.magic = STEER_GUE_PRIV_MAGIC,
		.flags = STEER_GUE_F_EXCEPTION,
		.hops = hops,
		.origin = XT_SELF,
	};

	xt_gue_frame(f, &g, pk);
}

/* What this node sends backend 10 for a packet of fl: GUE, no flags. */
static void xc_backend_want(struct xt_buf *f, const struct xt_flow *fl,
			    const struct xt_buf *pk)
{
	struct flow_key k = xt_flow_key(fl);
	struct xt_gue g = {
		.src4 = SELF_IP,
		.dst4 = XC_BACKEND_IP,
		.dmac = xt_mac[0],
		.smac = xt_mac[XT_SELF],
		.sport =
			steer_ntohs(flow_hash_sport(flow_hash(&k, &xt_secret))),
		.magic = STEER_GUE_PRIV_MAGIC,
		.origin = XT_SELF,
	};

	xt_gue_frame(f, &g, pk);
}

static void xc_in(struct xt_buf *in, struct xt_buf *pk,
		  const struct xt_flow *fl, uint8_t tcp_flags)
{
	xt_flow_ip(pk, fl, 16);
	if (tcp_flags) { /* the TCP flags byte; the checksum is not read */
		pk->b[(pk->b[0] >> 4) == 6 ? 40 + 13 : 20 + 13] = tcp_flags;
	}
	xt_frame(in, pk, 0);
}

static void row_cell_miss_v4(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_new, 0x02); /* a SYN */
	xc_exc_want(want, 2, &fc_new, 1, &pk);
}

static void row_cell_miss_v6(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc6_new, 0);
	xc_exc_want(want, 3, &fc6_new, 1, &pk);
}

/* The shard's cell is this node: encapsulated, up its own stack. */
static void row_cell_miss_self(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_self, 0);
	xc_exc_want(want, XT_SELF, &fc_self, 1, &pk);
}

/* ... unless this node's daemon is gone: to the shard's mirror. */
static void row_cell_miss_daemon_gone(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_self, 0);
	xc_exc_want(want, 3, &fc_self, 1, &pk);
}

static void row_cell_miss_no_cell(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_nocell, 0);
	*want = *in;
}

/* Not a service's flow: this node's stack. */
static void row_cell_miss_other(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_other, 0);
	*want = *in;
}

static void row_cell_backend(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_bk, 0);
	xc_backend_want(want, &fc_bk, &pk);
}

static void row_cell_backend_udp(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_bkudp, 0);
	xc_backend_want(want, &fc_bkudp, &pk);
}

/* A FIN of a service that does not close via its cell. */
static void row_cell_backend_fin(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_bk80, 0x11);
	xc_backend_want(want, &fc_bk80, &pk);
}

/* A FIN of a CLOSE_VIA_CELL service: the rule goes, the FIN to cell 2. */
static void row_cell_close_via_cell(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xc_in(in, &pk, &fc_bk, 0x11);
	xc_exc_want(want, 2, &fc_bk, 1, &pk);
}

/* Steered here by node 2: stripped, then the cell's rule applies. */
static void row_cell_decap_backend(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fc_bk, 8);
	xt_gue_frame(in, &g, &pk);
	xc_backend_want(want, &fc_bk, &pk);
}

/* Steered here, then to a cell: one hop more than it came with. */
static void row_cell_decap_to_cell(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(2);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fc_new, 8);
	xt_gue_frame(in, &g, &pk);
	xc_exc_want(want, 2, &fc_new, 3, &pk);
}

static void row_cell_hop_limit(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(STEER_MAX_HOPS);
	struct xt_buf pk;

	xt_flow_ip(&pk, &fc_new, 8);
	xt_gue_frame(in, &g, &pk);
	*want = *in;
}

/* A miss another node sent this cell: up to its steerd, whole. */
static void row_cell_exception_in(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	g.flags = STEER_GUE_F_EXCEPTION;
	xt_flow_ip(&pk, &fc_new, 8);
	xt_gue_frame(in, &g, &pk);
	*want = *in;
}

#define CROW(fn, act, out, i, dc, ms, tg, cl, b, a)                            \
	{                                                                      \
		.name = #fn, .build = row_##fn, .action = (act),               \
		.outcome = (out), .idx = (i), .decap = (dc), .miss = (ms),     \
		.target = (tg), .cell = 1, .close = (cl), .before = (b),       \
		.after = (a)                                                   \
	}
#define CROW_EXC(fn, dc, cell)                                                 \
	CROW(fn, XDP_TX, XT_ACT, STEER_ACT_EXCEPTION, dc, 1, cell, 0, NULL,    \
	     NULL)
#define CROW_BK(fn, dc)                                                        \
	CROW(fn, XDP_TX, XT_ACT, STEER_ACT_BACKEND, dc, 0, XC_BACKEND, 0,      \
	     NULL, NULL)

static const struct xt_row xc_rows[] = {
	CROW_EXC(cell_miss_v4, 0, 2),
	CROW_EXC(cell_miss_v6, 0, 3),
	CROW(cell_miss_self, XDP_PASS, XT_ACT, STEER_ACT_EXCEPTION, 0, 1, 0, 0,
	     NULL, NULL),
	CROW(cell_miss_daemon_gone, XDP_TX, XT_ACT, STEER_ACT_EXCEPTION, 0, 1,
	     3, 0, xc_gone, xc_back),
	CROW(cell_miss_no_cell, XDP_DROP, XT_DROP, STEER_DROP_NO_BACKEND, 0, 1,
	     0, 0, NULL, NULL),
	CROW(cell_miss_other, XDP_PASS, XT_ACT, STEER_ACT_LOCAL, 0, 1, 0, 0,
	     NULL, NULL),
	CROW_BK(cell_backend, 0),
	CROW_BK(cell_backend_udp, 0),
	CROW_BK(cell_backend_fin, 0),
	CROW(cell_close_via_cell, XDP_TX, XT_ACT, STEER_ACT_EXCEPTION, 0, 0, 2,
	     1, NULL, xc_rule_again),
	CROW_BK(cell_decap_backend, 1),
	CROW_EXC(cell_decap_to_cell, 1, 2),
	CROW(cell_hop_limit, XDP_DROP, XT_DROP, STEER_DROP_HOPS, 1, 1, 0, 0,
	     NULL, NULL),
	CROW(cell_exception_in, XDP_PASS, XT_EXC, 0, 0, 0, 0, 0, NULL, NULL),
};

/* ---- host mode with a directory: the same node as xd ---- */

/*
 * The services of the cell section (TCP :443 and :80, UDP :53) in host
 * mode with ownership by directory: every shard's homes are {2, 3} but
 * for the flows that need others.
 */
static const struct xt_flow fd_syn = XT_FLOW4(42000, 443, 6, 0, 0);
static const struct xt_flow fd_ack = XT_FLOW4(42001, 443, 6, 0, 0);
static const struct xt_flow fd_selfhome = XT_FLOW4(42002, 443, 6, 0, 0);
static const struct xt_flow fd_back = XT_FLOW4(42003, 443, 6, 0, 0);
static const struct xt_flow fd_udp = XT_FLOW4(42005, 53, 17, 0, 0);
static const struct xt_flow fd_other = XT_FLOW4(42006, 8080, 6, 0, 0);
static const struct xt_flow fd_udp_self = XT_FLOW4(42007, 53, 17, 0, 0);
static const struct xt_flow fd_taught = XT_FLOW4(42008, 443, 6, 3, 21);
static const struct xt_flow fd_hint = XT_FLOW4(42009, 443, 6, 2, 31);

/* fd_selfhome's and fd_udp_self's homes {this node, 3}, fd_back's
 * {this node, 2}. */
static void xd_shards_make(struct steer_shard *sh)
{
	uint32_t i, a = xc_shard(&fd_selfhome), b = xc_shard(&fd_back),
		    c = xc_shard(&fd_udp_self), d = xc_shard(&fd_ack);

	assert_true(a != b && b != c && a != c && d != a && d != b && d != c);
	for (i = 0; i < STEER_SHARDS; i++) {
		sh[i].cell[0] = 2;
		sh[i].cell[1] = 3;
	}
	sh[a].cell[0] = sh[c].cell[0] = sh[b].cell[0] = XT_SELF;
	sh[b].cell[1] = 2;
}

static struct xt_fx *xd_new(struct xdp_prog *x)
{
	static struct steer_shard sh[STEER_SHARDS];
	struct flow_key k;
	struct xt_fx *f = calloc(1, sizeof(*f));
	struct steer_xdp_cfg c;

	assert_non_null(f);
	f->x = x;
	f->fp = xt_twin_make(true);
	xt_xdp_program(x);
	xt_xdp_cfg_make(&c);
	c.dir = 1;
	assert_int_equal(xdp_maps_cfg_set(x, &c), 0);
	xd_shards_make(sh);
	assert_int_equal(xdp_maps_shards_set(x, sh), 0);
	fastpath_shards_set(f->fp, sh);
	xc_services(f);
	k = xt_flow_key(&fd_hint);
	assert_int_equal(xdp_maps_hint_set(x, &k, 2, fd_hint.epoch), 0);
	assert_int_equal(fastpath_rule_set(f->fp, &k, STEER_ACT_HINT, 2,
					   fd_hint.epoch, 0),
			 0);
	return f;
}

/* Packet pk of fl with these TCP flags (none for UDP). */
static void xd_pk(struct xt_buf *pk, const struct xt_flow *fl, uint8_t flags)
{
	xt_flow_ip(pk, fl, 16);
	if (flags)
		pk->b[20 + 13] = flags;
}

/* A SYN: a new session of this node. */
static void row_dir_syn_local(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xd_pk(&pk, &fd_syn, 0x02);
	xt_frame(in, &pk, 0);
	*want = *in;
}

/* An ACK of a session nobody told this node of: to its home, 2. */
static void row_dir_ack_home(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xd_pk(&pk, &fd_ack, 0x10);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fd_ack, 1, &pk);
}

/* This node is the first home and knows nothing: to the second, 3. */
static void row_dir_ack_second_home(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xd_pk(&pk, &fd_selfhome, 0x10);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 3, &fd_selfhome, 1, &pk);
}

/* Re-routed here by node 2, which is the second home: nobody knows. */
static void row_dir_back_unknown(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xd_pk(&pk, &fd_back, 0x10);
	xt_gue_frame(in, &g, &pk);
	*want = *in;
}

/* Re-routed here by node 2, this node the first home: on to 3. */
static void row_dir_rerouted_on(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_gue g = xt_gue_from2(1);
	struct xt_buf pk;

	xd_pk(&pk, &fd_selfhome, 0x10);
	xt_gue_frame(in, &g, &pk);
	xt_steer_want(want, 3, &fd_selfhome, 2, &pk);
}

/* A UDP flow this node does not hold: its home decides. */
static void row_dir_udp_home(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xd_pk(&pk, &fd_udp, 0);
	xt_frame(in, &pk, 0);
	xt_steer_want(want, 2, &fd_udp, 1, &pk);
}

/* Not a service's: this node's stack, as without a directory. */
static void row_dir_other(struct xt_buf *in, struct xt_buf *want)
{
	struct xt_buf pk;

	xd_pk(&pk, &fd_other, 0x10);
	xt_frame(in, &pk, 0);
	*want = *in;
}

/* A session its owner, 2, hinted here: straight there from the cache,
 * GUE with the hint flag, not a miss. */
static void row_dir_hint(struct xt_buf *in, struct xt_buf *want)
{
	struct flow_key k = xt_flow_key(&fd_hint);
	struct xt_gue g = {
		.src4 = SELF_IP,
		.dst4 = NODE2_IP,
		.dmac = xt_mac[2],
		.smac = xt_mac[XT_SELF],
		.sport =
			steer_ntohs(flow_hash_sport(flow_hash(&k, &xt_secret))),
		.magic = STEER_GUE_PRIV_MAGIC,
		.flags = STEER_GUE_F_STEERED | STEER_GUE_F_HINT,
		.hops = 1,
		.origin = XT_SELF,
		.epoch = fd_hint.epoch,
	};
	struct xt_buf pk;

	xd_pk(&pk, &fd_hint, 0x10);
	xt_frame(in, &pk, 0);
	xt_gue_frame(want, &g, &pk);
}

#define DROW(fn, act, out, i, dc, tg, rr)                                      \
	{                                                                      \
		.name = #fn, .build = row_##fn, .action = (act),               \
		.outcome = (out), .idx = (i), .decap = (dc), .miss = 1,        \
		.target = (tg), .dir = 1, .rerouted = (rr)                     \
	}

static const struct xt_row xd_rows[] = {
	DROW(dir_syn_local, XDP_PASS, XT_ACT, STEER_ACT_LOCAL, 0, 0, 0),
	DROW(dir_ack_home, XDP_TX, XT_ACT, STEER_ACT_STEER, 0, 2, 1),
	DROW(dir_ack_second_home, XDP_TX, XT_ACT, STEER_ACT_STEER, 0, 3, 1),
	DROW(dir_back_unknown, XDP_DROP, XT_DROP, STEER_DROP_DIR_UNKNOWN, 1, 0,
	     0),
	DROW(dir_rerouted_on, XDP_TX, XT_ACT, STEER_ACT_STEER, 1, 3, 1),
	DROW(dir_udp_home, XDP_TX, XT_ACT, STEER_ACT_STEER, 0, 2, 1),
	DROW(dir_other, XDP_PASS, XT_ACT, STEER_ACT_LOCAL, 0, 0, 0),
	{.name = "dir_hint",
	 .build = row_dir_hint,
	 .action = XDP_TX,
	 .outcome = XT_ACT,
	 .idx = STEER_ACT_HINT,
	 .target = 2,
	 .dir = 1},
};

/*
 * XDP only (the twin has no session table and no daemon): a UDP flow of
 * a shard this node is the first home of becomes its session; a packet
 * re-routed here that meets the flow's rule is steered on and its sender
 * is reported for teaching, once a second; one that came straight from
 * the router is not.
 */
static void xd_claim_and_teach(void **state)
{
	static struct xt_buf in, want, got;
	struct flow_key ku = xt_flow_key(&fd_udp_self);
	struct flow_key kt = xt_flow_key(&fd_taught);
	struct xt_gue g = xt_gue_from2(1);
	struct xt_events ev = {0};
	struct steer_xdp_stats xs;
	struct ring_buffer *rb;
	struct xt_buf pk;
	int taught;

	XT_SKIP_IF_NEEDED();
	rb = ring_buffer__new(xdp_prog_map_fd(xd->x, "steer_events"),
			      xt_event_take, &ev, NULL);
	assert_non_null(rb);
	taught = xdp_prog_map_fd(xd->x, "steer_taught");
	assert_true(taught >= 0);
	ring_buffer__consume(rb); /* what the rows reported */

	memset(&in, 0, sizeof(in));
	xd_pk(&pk, &fd_udp_self, 0);
	xt_frame(&in, &pk, 0);
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_PASS);
	xt_bytes_check("dir udp claim", "XDP", got.b, got.len, &in);
	assert_int_equal(xs.udp_new, 1);
	assert_int_equal(xs.dir_rerouted, 0);
	assert_int_equal(xs.action[STEER_ACT_LOCAL], 1);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(ev.last.type, STEER_SESS_EV_UDP_NEW);
	assert_memory_equal(&ev.last.key, &ku, sizeof(ku));

	assert_int_equal(xdp_maps_flow_set(xd->x, &kt, 3, 21), 0);
	/* A hint never replaces a record's rule, nor is that rule dropped
	 * as a hint. */
	assert_int_equal(xdp_maps_hint_set(xd->x, &kt, 2, 22), -EEXIST);
	assert_int_equal(xdp_maps_hint_del(xd->x, &kt), -EEXIST);
	memset(&in, 0, sizeof(in));
	xd_pk(&pk, &fd_taught, 0x10);
	xt_gue_frame(&in, &g, &pk);
	xt_steer_want(&want, 3, &fd_taught, 2, &pk);
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_TX);
	xt_bytes_check("dir teach", "XDP", got.b, got.len, &want);
	assert_int_equal(xs.dir_taught, 1);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(ev.last.type, STEER_SESS_EV_TEACH);
	assert_int_equal(ev.last.origin, 2);
	assert_memory_equal(&ev.last.key, &kt, sizeof(kt));
	/* Within the second: steered, not reported again. */
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_TX);
	assert_int_equal(xs.dir_taught, 0);
	assert_int_equal(ring_buffer__consume(rb), 0);
	/* Straight from the router: nobody to teach. */
	assert_int_equal(bpf_map_delete_elem(taught, &kt), 0);
	memset(&in, 0, sizeof(in));
	xt_frame(&in, &pk, 0);
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_TX);
	assert_int_equal(xs.dir_taught, 0);
	assert_int_equal(ring_buffer__consume(rb), 0);

	/* From node 2's header cache (the hint flag) to this node, whose
	 * session it is: passed, and node 2 is taught the record. */
	g.flags = STEER_GUE_F_STEERED | STEER_GUE_F_HINT;
	memset(&in, 0, sizeof(in));
	xd_pk(&pk, &fd_udp_self, 0);
	xt_gue_frame(&in, &g, &pk);
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_PASS);
	assert_int_equal(xs.dir_taught, 1);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(ev.last.type, STEER_SESS_EV_HINT_TEACH);
	assert_int_equal(ev.last.origin, 2);
	assert_memory_equal(&ev.last.key, &ku, sizeof(ku));
	/* The same without the flag: its own session, nobody taught. */
	assert_int_equal(bpf_map_delete_elem(taught, &ku), 0);
	g.flags = STEER_GUE_F_STEERED;
	memset(&in, 0, sizeof(in));
	xt_gue_frame(&in, &g, &pk);
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_PASS);
	assert_int_equal(xs.dir_taught, 0);
	assert_int_equal(ring_buffer__consume(rb), 0);

	assert_int_equal(xdp_maps_flow_del(xd->x, &kt), 0);
	assert_int_equal(
		bpf_map_delete_elem(xdp_prog_map_fd(xd->x, "steer_udp"), &ku),
		0);
	ring_buffer__free(rb);
}

/*
 * XDP only: a packet re-routed here of a session neither this home nor
 * the other knows is dropped and the daemon told to ask who owns it,
 * once a second per flow; the ask names the node that re-routed it.
 */
static void xd_ask(void **state)
{
	static struct xt_buf in, want;
	struct flow_key k = xt_flow_key(&fd_back);
	struct xt_events ev = {0};
	struct steer_xdp_stats xs;
	struct ring_buffer *rb;
	struct xt_buf got;

	XT_SKIP_IF_NEEDED();
	rb = ring_buffer__new(xdp_prog_map_fd(xd->x, "steer_events"),
			      xt_event_take, &ev, NULL);
	assert_non_null(rb);
	ring_buffer__consume(rb);
	ev.n = 0;
	/* The row of this flow asked a moment ago. */
	bpf_map_delete_elem(xdp_prog_map_fd(xd->x, "steer_taught"), &k);
	memset(&in, 0, sizeof(in));
	row_dir_back_unknown(&in, &want);
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_DROP);
	assert_int_equal(xs.drop[STEER_DROP_DIR_UNKNOWN], 1);
	assert_int_equal(xs.dir_asked, 1);
	assert_int_equal(ring_buffer__consume(rb), 1);
	assert_int_equal(ev.last.type, STEER_SESS_EV_ASK);
	assert_int_equal(ev.last.origin, 2);
	assert_memory_equal(&ev.last.key, &k, sizeof(k));
	/* Within the second: dropped, not asked again. */
	assert_int_equal(xt_xdp_run_on(xd, &in, &got, &xs), XDP_DROP);
	assert_int_equal(xs.drop[STEER_DROP_DIR_UNKNOWN], 1);
	assert_int_equal(xs.dir_asked, 0);
	assert_int_equal(ring_buffer__consume(rb), 0);
	ring_buffer__free(rb);
}

int main(void)
{
	const size_t nrows = sizeof(xt_rows) / sizeof(xt_rows[0]);
	const size_t ncrows = sizeof(xc_rows) / sizeof(xc_rows[0]);
	const size_t ndrows = sizeof(xd_rows) / sizeof(xd_rows[0]);
	struct CMUnitTest tests[sizeof(xt_rows) / sizeof(xt_rows[0]) +
				sizeof(xc_rows) / sizeof(xc_rows[0]) +
				sizeof(xd_rows) / sizeof(xd_rows[0]) + 7];
	size_t i, n = 0;
	int rc;

	tests[n++] = (struct CMUnitTest){.name = "writers",
					 .test_func = xt_writers_check};
	for (i = 0; i < nrows; i++)
		tests[n++] = (struct CMUnitTest){
			.name = xt_rows[i].name,
			.test_func = xt_row_run,
			.initial_state = (void *)&xt_rows[i],
		};
	for (i = 0; i < ncrows; i++)
		tests[n++] = (struct CMUnitTest){
			.name = xc_rows[i].name,
			.test_func = xt_row_run,
			.initial_state = (void *)&xc_rows[i],
		};
	for (i = 0; i < ndrows; i++)
		tests[n++] = (struct CMUnitTest){
			.name = xd_rows[i].name,
			.test_func = xt_row_run,
			.initial_state = (void *)&xd_rows[i],
		};
	tests[n++] = (struct CMUnitTest){.name = "dir_claim_and_teach",
					 .test_func = xd_claim_and_teach};
	tests[n++] =
		(struct CMUnitTest){.name = "dir_ask", .test_func = xd_ask};
	tests[n++] = (struct CMUnitTest){.name = "unconfigured_passes",
					 .test_func = xt_unconfigured_passes};
	tests[n++] = (struct CMUnitTest){.name = "flow_del_passes",
					 .test_func = xt_flow_del_passes};
	tests[n++] = (struct CMUnitTest){.name = "udp_session_seen",
					 .test_func = xt_udp_session_seen};
	tests[n++] = (struct CMUnitTest){.name = "table_full",
					 .test_func = xt_table_full};
	rc = _cmocka_run_group_tests("xdp", tests, n, xt_group_setup,
				     xt_group_teardown);
	if (rc == 0 && xt_skip_reason) {
		printf("SKIP: %s\n", xt_skip_reason);
		return XT_SKIP_RC;
	}
	return rc;
}
