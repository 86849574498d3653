// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-xdp-bench: what the XDP fast path costs per packet, timed in the
 * kernel with BPF_PROG_TEST_RUN, one figure per line as `name value unit`.
 * Never passes or fails on time; exits 1 only when what it timed was not
 * what it meant to time (a wrong action or output, a frame not restored,
 * counters that do not add up), 77 without the privileges.
 *
 * With repeat > 1 the kernel runs the program on its own output from the
 * second iteration on, so the encapsulating and decapsulating cases run
 * inside bpf/steer_xdp_bench.bpf.c's wrapper, which puts the original
 * frame back after each iteration. Per case:
 *
 *   xdp_<case>_raw      the wrapped fast path (bench_steer)
 *   xdp_<case>_wrapper  the wrapper around nothing, same frame
 *                       (bench_restore: save, helpers, restore)
 *   xdp_<case>_net      raw - wrapper, paired run by run: the fast path
 *   xdp_<case>_direct   the unwrapped program (steer_xdp) where it leaves
 *                       the frame as it came (PASS cases), as a cross-check
 *                       of net
 *   xdp_floor_macswap_tx  swap the MACs and XDP_TX: the cost of running
 *                       any XDP program through BPF_PROG_TEST_RUN here
 *
 * Flow telemetry (steer_ftele) costs a steered packet a tick of the
 * sampling clock when its flow is not tracked, a slot update when it is.
 * Three cases time the same IPv4 STEER path side by side:
 * steer_gue4_v4 (telemetry in, the flow untracked), steer_gue4_v4_tracked
 * (its rule holds a slot) and steer_gue4_v4_notele (the same wrapper
 * loaded a second time with steer_tele_on = 0: the path before telemetry).
 * steer_gue4_v4_cached times the header cache's path: the same packet
 * whose flow holds a HINT rule (a hinted session, node 2, GUE with the
 * hint flag), beside steer_gue4_v4 in the same run.
 *
 * Before timing, each case runs once with the wrapper capturing the body's
 * output, which must equal the userspace twin's (fastpath_process(), the
 * same flows, templates and secret), and the frame handed back must equal
 * the input. After each timed run the wrapper's action counters must show
 * exactly repeat packets of the right action, and steer_stats the right
 * outcome (action, decap, miss) repeat times.
 *
 * Cluster: this node 1 (198.18.0.1, 2001:db8::1); node 2 reached by GUE
 * over IPv4, node 3 by GUE over IPv6. Frames: IPv4 + TCP 64 bytes,
 * IPv6 + TCP 84 bytes, GUE from node 2 around the IPv4 one 108 bytes.
 * Runs are interleaved case by case, each figure is the median of --runs.
 *
 *   steer-xdp-bench [--quick] [--repeat N] [--runs K] [--cpu C]
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include <steer/hash.h>
#include <steer/parse.h>
#include <steer/tmpl.h>

#include "core/tmpl_build.h"
#include "fastpath/fastpath.h"
#include "steer_kern_user.h"
#include "steer_xdp_bench.skel.h"
#include "node/xdp_tele.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_tele_maps.h"
#include "xdp/xdp_prog.h"

#define XB_FRAME_MAX 256 /* BENCH_FRAME_MAX of the wrapper */
#define XB_OUT_MAX 512	 /* BENCH_OUT_MAX */
#define XB_ACT_SLOTS 8	 /* BENCH_ACT_SLOTS */
#define XB_ERR_MAX 5	 /* BENCH_ERR__MAX */
#define XB_HEADROOM (256 + STEER_FRAME_ALIGN_OFF)
#define XB_RUNS_MAX 64
#define XB_SELF 1
#define SELF_IP 0xc6120001u  /* 198.18.0.1 */
#define NODE2_IP 0xc6120002u /* 198.18.0.2 */
#define CLIENT_IP 0x0a000001u
#define SVC_IP 0x0a000002u

/* struct bench_out of the wrapper; its size is checked against the map. */
struct xb_out {
	uint32_t len;
	uint32_t action;
	uint8_t bytes[XB_OUT_MAX];
};

static const uint8_t self_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t node3_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 3};
static const uint8_t client_ip6[16] = {0x20, 0x01, 0x0d,    0xb8,
				       0,    0x0c, [15] = 1};
static const uint8_t svc_ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x05, [15] = 2};
static const uint8_t xb_mac[4][6] = {
	{2, 0, 0, 0, 0, 0xfe}, /* the router */
	{2, 0, 0, 0, 0, 1},
	{2, 0, 0, 0, 0, 2},
	{2, 0, 0, 0, 0, 3},
};
static const struct steer_hash_secret xb_secret = {0x0123456789abcdefULL,
						   0xfedcba9876543210ULL};

struct xb_frame {
	uint8_t b[XB_OUT_MAX];
	uint32_t len;
};

/* A case: its input, the twin's output, and what each packet counts. */
struct xb_case {
	const char *name;
	int action;	    /* XDP action expected */
	uint8_t steer_act;  /* steer_stats action[] bumped */
	uint8_t decap;	    /* steer_stats decap bumped */
	uint8_t miss;	    /* steer_stats miss bumped */
	uint8_t direct_ok;  /* the body leaves the frame as it was */
	uint8_t notele;	    /* timed on the program without telemetry */
	struct xb_frame in; /* built by setup */
	struct xb_frame want;
	double raw[XB_RUNS_MAX], wrap[XB_RUNS_MAX], direct[XB_RUNS_MAX];
};

struct xb {
	struct xdp_prog *x;
	struct steer_xdp_bench_bpf *skel;
	struct steer_xdp_bench_bpf *skel_nt; /* steer_tele_on = 0 */
	int fd_steer_nt;
	struct fastpath *fp;
	int fd_steer, fd_restore, fd_floor, fd_direct;
	int fd_acts, fd_errs, fd_out, fd_save;
	uint32_t repeat, runs;
	int ncpu;
	uint64_t *pcpu; /* ncpu values, for per-CPU reads */
	void *save;	/* ncpu zeroed bench_save values */
	size_t save_size;
	uint8_t twin_buf[XB_HEADROOM + XB_OUT_MAX] __attribute__((aligned(64)));
};

static int xb_bad; /* a check failed: the figures are not to be trusted */

#define xb_check(cond, ...)                                                    \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "steer-xdp-bench: check failed: ");    \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			xb_bad = 1;                                            \
		}                                                              \
	} while (0)

static double xb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void xb_fig(const char *name, double v, const char *unit)
{
	printf("%s %.1f %s\n", name, v, unit);
	fflush(stdout);
}

/* Counts: instructions, bytes, iterations. */
static void xb_fig_count(const char *name, uint64_t v, const char *unit)
{
	printf("%s %llu %s\n", name, (unsigned long long)v, unit);
	fflush(stdout);
}

static void xb_fig_case(const char *c, const char *what, double v)
{
	char name[96];

	snprintf(name, sizeof(name), "xdp_%s_%s", c, what);
	xb_fig(name, v, "ns/pkt");
}

/* ---- frames ---- */

static void xb_put(struct xb_frame *f, const void *p, uint32_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void xb_eth(struct xb_frame *f, const uint8_t *dst, const uint8_t *src,
		   uint16_t type)
{
	struct steer_ethhdr eth;

	memcpy(eth.dst, dst, 6);
	memcpy(eth.src, src, 6);
	eth.proto = steer_htons(type);
	f->len = 0;
	xb_put(f, &eth, sizeof(eth));
}

static void xb_tcp(struct xb_frame *f, uint16_t sport, uint32_t n)
{
	struct steer_tcphdr th = {.source = steer_htons(sport),
				  .dest = steer_htons(443),
				  .seq = steer_htonl(1),
				  .doff_res = 5 << 4,
				  .flags = STEER_TCP_ACK,
				  .window = steer_htons(0xffff)};

	xb_put(f, &th, sizeof(th));
	memset(f->b + f->len, 0x5a, n);
	f->len += n;
}

/* Router -> this node: IPv4 + TCP ACK with n bytes of payload. */
static void xb_frame_tcp4(struct xb_frame *f, uint16_t sport, uint32_t n)
{
	struct steer_iphdr ip = {
		.ver_ihl = 0x45,
		.tot_len = steer_htons((uint16_t)(40 + n)),
		.ttl = 64,
		.protocol = STEER_IPPROTO_TCP,
		.saddr = steer_htonl(CLIENT_IP),
		.daddr = steer_htonl(SVC_IP),
	};

	xb_eth(f, xb_mac[XB_SELF], xb_mac[0], STEER_ETH_P_IP);
	xb_put(f, &ip, sizeof(ip));
	xb_tcp(f, sport, n);
}

static void xb_frame_tcp6(struct xb_frame *f, uint16_t sport, uint32_t n)
{
	struct steer_ipv6hdr ip6 = {
		.ver_tc_flow = steer_htonl(6u << 28),
		.payload_len = steer_htons((uint16_t)(20 + n)),
		.nexthdr = STEER_IPPROTO_TCP,
		.hop_limit = 64,
	};

	memcpy(ip6.saddr, client_ip6, 16);
	memcpy(ip6.daddr, svc_ip6, 16);
	xb_eth(f, xb_mac[XB_SELF], xb_mac[0], STEER_ETH_P_IPV6);
	xb_put(f, &ip6, sizeof(ip6));
	xb_tcp(f, sport, n);
}

/* Node 2's GUE0 (hop 1) to this node around inner's IP packet. */
static int xb_frame_gue_from2(struct xb_frame *f, const struct xb_frame *inner)
{
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0,
			      .origin = 2,
			      .dport = steer_htons(STEER_GUE_PORT)};
	struct steer_tmpl_args a = {.sport = steer_htons(0xc123),
				    .flags = STEER_GUE_F_STEERED,
				    .hops = 1};
	uint32_t ilen = inner->len - sizeof(struct steer_ethhdr);
	struct steer_tmpl t;
	/* Built aligned as parse.h wants the IP headers. */
	uint8_t buf[XB_OUT_MAX + 8] __attribute__((aligned(8)));
	uint8_t *o = buf + STEER_FRAME_ALIGN_OFF;

	memcpy(s.src_mac, xb_mac[2], 6);
	memcpy(s.dst_mac, xb_mac[XB_SELF], 6);
	flow_addr_set_v4(&s.saddr, steer_htonl(NODE2_IP));
	flow_addr_set_v4(&s.daddr, steer_htonl(SELF_IP));
	if (tmpl_build(&t, &s))
		return -EINVAL;
	memcpy(o + t.len, inner->b + sizeof(struct steer_ethhdr), ilen);
	if (steer_tmpl_apply(o, &t, ilen, 4, &a))
		return -EINVAL;
	f->len = 0;
	xb_put(f, o, t.len + ilen);
	return 0;
}

/* ---- the cluster, on both sides ---- */

static void xb_tmpl_make(struct steer_tmpl *t, uint16_t node)
{
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0,
			      .origin = XB_SELF,
			      .dport = steer_htons(STEER_GUE_PORT)};

	memcpy(s.src_mac, xb_mac[XB_SELF], 6);
	memcpy(s.dst_mac, xb_mac[node], 6);
	if (node == 3) {
		memcpy(s.saddr.b, self_ip6, 16);
		memcpy(s.daddr.b, node3_ip6, 16);
	} else {
		flow_addr_set_v4(&s.saddr, steer_htonl(SELF_IP));
		flow_addr_set_v4(&s.daddr, steer_htonl(SELF_IP + node - 1));
	}
	tmpl_build(t, &s);
}

static struct flow_key xb_key(int v6, uint16_t sport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	if (v6) {
		memcpy(k.src.b, client_ip6, 16);
		memcpy(k.dst.b, svc_ip6, 16);
	} else {
		flow_addr_set_v4(&k.src, steer_htonl(CLIENT_IP));
		flow_addr_set_v4(&k.dst, steer_htonl(SVC_IP));
	}
	k.sport = steer_htons(sport);
	k.dport = steer_htons(443);
	k.proto = STEER_IPPROTO_TCP;
	return k;
}

/* Client ports: 40000 nobody announced, then one per owner; then a flow
 * to node 2 whose telemetry is tracked (slot 0). */
enum {
	PORT_MISS = 40000,
	PORT_LOCAL,
	PORT_TO2,
	PORT_TO3,
	PORT_TRACKED,
	PORT_CACHED
};

/* The flow of PORT_TRACKED: to node 2, its telemetry in slot 0. */
static int xb_tracked_set(struct xb *b)
{
	struct flow_key k = xb_key(0, PORT_TRACKED);
	int err = xdp_maps_flow_set(b->x, &k, 2, 102);

	if (!err)
		err = fastpath_flow_set(b->fp, &k, 2, 102, 0);
	if (!err)
		err = xdp_tele_slot_reset(b->x, 0, 1);
	if (!err)
		err = xdp_maps_rule_tele(b->x, &k, 1);
	return err;
}

/* The flow of PORT_CACHED: a hint of node 2's (a HINT rule). */
static int xb_cached_set(struct xb *b)
{
	struct flow_key k = xb_key(0, PORT_CACHED);
	int err = xdp_maps_hint_set(b->x, &k, 2, 104);

	return err ? err
		   : fastpath_rule_set(b->fp, &k, STEER_ACT_HINT, 2, 104, 0);
}

static int xb_cluster_set(struct xb *b)
{
	struct fp_config fc = {.mode = FP_MODE_HOST,
			       .self_id = XB_SELF,
			       .gue_port = steer_htons(STEER_GUE_PORT),
			       .max_encap = STEER_MAX_ENCAP,
			       .mtu = 1500,
			       .maglev_size = 251,
			       .secret = xb_secret};
	struct steer_xdp_cfg xc;
	struct fp_target nodes[3];
	static const uint16_t owner[] = {XB_SELF, 2, 3};
	int i, v6, err;

	memset(&xc, 0, sizeof(xc));
	flow_addr_set_v4(&xc.self_addr, steer_htonl(SELF_IP));
	memcpy(xc.self_addr6.b, self_ip6, 16);
	xc.secret = xb_secret;
	xc.mtu = fc.mtu;
	xc.self_id = XB_SELF;
	xc.gue_port = fc.gue_port;
	xc.max_encap = STEER_MAX_ENCAP;
	err = xdp_maps_cfg_set(b->x, &xc);
	if (err)
		return err;
	fc.self_addr = xc.self_addr;
	fc.self_addr6 = xc.self_addr6;
	fsc_cfg_default(&fc.fsc, 1024);
	b->fp = fastpath_new(&fc);
	if (!b->fp)
		return -errno;
	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < 3; i++) {
		nodes[i].id = (uint16_t)(i + 1);
		nodes[i].weight = 1;
		xb_tmpl_make(&nodes[i].tmpl, nodes[i].id);
		if (i && (err = xdp_maps_tmpl_set(b->x, nodes[i].id,
						  &nodes[i].tmpl)))
			return err;
	}
	err = fastpath_set_nodes(b->fp, nodes, 3);
	if (err)
		return err;
	for (v6 = 0; v6 <= 1; v6++) {
		for (i = 0; i < 3; i++) {
			struct flow_key k =
				xb_key(v6, (uint16_t)(PORT_LOCAL + i));

			err = xdp_maps_flow_set(b->x, &k, owner[i], 100 + i);
			if (!err)
				err = fastpath_flow_set(b->fp, &k, owner[i],
							100 + i, 0);
			if (err)
				return err;
		}
	}
	err = xb_tracked_set(b);
	return err ? err : xb_cached_set(b);
}

static struct xb_case xb_cases[] = {
	{.name = "pass_miss",
	 .action = XDP_PASS,
	 .steer_act = STEER_ACT_LOCAL,
	 .miss = 1,
	 .direct_ok = 1},
	{.name = "pass_local",
	 .action = XDP_PASS,
	 .steer_act = STEER_ACT_LOCAL,
	 .direct_ok = 1},
	{.name = "steer_gue4_v4",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER},
	{.name = "steer_gue4_v6",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER},
	{.name = "steer_gue6_v4",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER},
	{.name = "steer_gue6_v6",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER},
	{.name = "decap_local",
	 .action = XDP_PASS,
	 .steer_act = STEER_ACT_LOCAL,
	 .decap = 1},
	{.name = "decap_steer",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER,
	 .decap = 1},
	{.name = "steer_gue4_v4_tracked",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER},
	{.name = "steer_gue4_v4_notele",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_STEER,
	 .notele = 1},
	{.name = "steer_gue4_v4_cached",
	 .action = XDP_TX,
	 .steer_act = STEER_ACT_HINT},
};
#define XB_NCASES (sizeof(xb_cases) / sizeof(xb_cases[0]))

/* Inputs by case index, then the twin's output for each. */
static int xb_cases_build(struct xb *b)
{
	struct xb_frame inner;
	size_t i;
	int err;

	xb_frame_tcp4(&xb_cases[0].in, PORT_MISS, 10);
	xb_frame_tcp4(&xb_cases[1].in, PORT_LOCAL, 10);
	xb_frame_tcp4(&xb_cases[2].in, PORT_TO2, 10);
	xb_frame_tcp6(&xb_cases[3].in, PORT_TO2, 10);
	xb_frame_tcp4(&xb_cases[4].in, PORT_TO3, 10);
	xb_frame_tcp6(&xb_cases[5].in, PORT_TO3, 10);
	xb_frame_tcp4(&inner, PORT_LOCAL, 10);
	err = xb_frame_gue_from2(&xb_cases[6].in, &inner);
	if (err)
		return err;
	xb_frame_tcp4(&inner, PORT_TO3, 10);
	err = xb_frame_gue_from2(&xb_cases[7].in, &inner);
	if (err)
		return err;
	xb_frame_tcp4(&xb_cases[8].in, PORT_TRACKED, 10);
	xb_frame_tcp4(&xb_cases[9].in, PORT_TO2, 10);
	xb_frame_tcp4(&xb_cases[10].in, PORT_CACHED, 10);
	for (i = 0; i < XB_NCASES; i++) {
		struct xb_case *c = &xb_cases[i];
		struct fp_pkt p = {.data = b->twin_buf + XB_HEADROOM,
				   .len = c->in.len,
				   .headroom = XB_HEADROOM};
		struct fp_result r;

		if (c->in.len > XB_FRAME_MAX)
			return -E2BIG;
		memcpy(p.data, c->in.b, c->in.len);
		fastpath_process(b->fp, &p, 0, &r);
		xb_check(r.verdict == (c->action == XDP_TX ? FP_TX : FP_PASS),
			 "%s: the twin's verdict is %d", c->name, r.verdict);
		c->want.len = p.len;
		memcpy(c->want.b, p.data, p.len);
	}
	return 0;
}

/* ---- running ---- */

static int xb_pcpu_zero(struct xb *b, int fd, uint32_t nkeys)
{
	uint32_t k;

	memset(b->pcpu, 0, (size_t)b->ncpu * sizeof(uint64_t));
	for (k = 0; k < nkeys; k++)
		if (bpf_map_update_elem(fd, &k, b->pcpu, BPF_ANY))
			return -errno;
	return 0;
}

static uint64_t xb_pcpu_sum(struct xb *b, int fd, uint32_t key)
{
	uint64_t sum = 0;
	int c;

	if (bpf_map_lookup_elem(fd, &key, b->pcpu))
		return UINT64_MAX;
	for (c = 0; c < b->ncpu; c++)
		sum += b->pcpu[c];
	return sum;
}

/*
 * One BPF_PROG_TEST_RUN of fd on c's input: the action, the frame handed
 * back in out (when given) and the mean time per iteration in *ns.
 */
static int xb_run(int fd, const struct xb_frame *in, uint32_t repeat,
		  struct xb_frame *out, double *ns)
{
	struct xb_frame scratch;
	struct xb_frame *o = out ? out : &scratch;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in->b,
		    .data_size_in = in->len, .data_out = o->b,
		    .data_size_out = sizeof(o->b), .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &opts);

	if (err)
		return err;
	o->len = opts.data_size_out;
	if (ns)
		*ns = (double)opts.duration;
	return (int)opts.retval;
}

static int xb_frame_equal(const struct xb_frame *a, const struct xb_frame *b)
{
	return a->len == b->len && !memcmp(a->b, b->b, a->len);
}

/* The wrapper's bookkeeping after n iterations that all ended in act. */
static void xb_acts_check(struct xb *b, const char *name, int act, uint64_t n)
{
	uint32_t k;

	for (k = 0; k < XB_ACT_SLOTS; k++) {
		uint64_t v = xb_pcpu_sum(b, b->fd_acts, k);

		xb_check(v == ((int)k == act ? n : 0),
			 "%s: %llu iterations ended in action %u, expected "
			 "%llu",
			 name, (unsigned long long)v, k,
			 (unsigned long long)((int)k == act ? n : 0));
	}
	for (k = 0; k < XB_ERR_MAX; k++) {
		uint64_t v = xb_pcpu_sum(b, b->fd_errs, k);

		xb_check(v == 0, "%s: wrapper error %u happened %llu times",
			 name, k, (unsigned long long)v);
	}
}

static void xb_stats_check(struct xb *b, const struct xb_case *c, uint64_t n)
{
	struct steer_xdp_stats st;
	uint64_t handled = 0;
	int i;

	if (xdp_maps_stats_read(b->x, &st)) {
		xb_check(0, "%s: cannot read steer_stats", c->name);
		return;
	}
	for (i = 0; i < STEER_ACT__MAX; i++)
		handled += st.action[i];
	xb_check(st.rx_packets == n && handled == n &&
			 st.action[c->steer_act] == n &&
			 st.decap == (c->decap ? n : 0) &&
			 st.miss == (c->miss ? n : 0),
		 "%s: steer_stats rx %llu, action[%u] %llu of %llu, decap "
		 "%llu, miss %llu after %llu packets",
		 c->name, (unsigned long long)st.rx_packets, c->steer_act,
		 (unsigned long long)st.action[c->steer_act],
		 (unsigned long long)handled, (unsigned long long)st.decap,
		 (unsigned long long)st.miss, (unsigned long long)n);
}

/* Counters to zero, and the wrapper's saved frame forgotten. */
static void xb_counters_reset(struct xb *b)
{
	uint32_t zero = 0;

	memset(b->save, 0, b->save_size);
	if (bpf_map_update_elem(b->fd_save, &zero, b->save, BPF_ANY) ||
	    xb_pcpu_zero(b, b->fd_acts, XB_ACT_SLOTS) ||
	    xb_pcpu_zero(b, b->fd_errs, XB_ERR_MAX) ||
	    xdp_maps_stats_reset(b->x))
		xb_check(0, "cannot reset the counters: %s", strerror(errno));
}

/* The wrapped fast path case c is timed on. */
static int xb_fd_steer(const struct xb *b, const struct xb_case *c)
{
	return c->notele ? b->fd_steer_nt : b->fd_steer;
}

/*
 * Once, before timing: the wrapped body's output is the twin's, the
 * frame handed back is the input, the bare program agrees too.
 */
static void xb_case_verify(struct xb *b, struct xb_case *c)
{
	struct xb_frame got;
	struct xb_out o;
	uint32_t zero = 0;
	int act;

	xb_counters_reset(b);
	b->skel->bss->bench_capture = 1;
	b->skel_nt->bss->bench_capture = 1;
	act = xb_run(xb_fd_steer(b, c), &c->in, 1, &got, NULL);
	b->skel->bss->bench_capture = 0;
	b->skel_nt->bss->bench_capture = 0;
	xb_check(act == c->action, "%s: wrapped action %d, expected %d",
		 c->name, act, c->action);
	xb_check(xb_frame_equal(&got, &c->in),
		 "%s: the wrapper did not restore the frame", c->name);
	memset(&o, 0, sizeof(o));
	if (bpf_map_lookup_elem(b->fd_out, &zero, &o)) {
		xb_check(0, "%s: cannot read bench_out", c->name);
	} else {
		xb_check(o.len == c->want.len &&
				 !memcmp(o.bytes, c->want.b, o.len),
			 "%s: the wrapped body's output (%u bytes) is not "
			 "the twin's (%u bytes)",
			 c->name, o.len, c->want.len);
		xb_check((int)o.action == c->action, "%s: captured action %u",
			 c->name, o.action);
	}
	xb_acts_check(b, c->name, c->action, 1);
	xb_stats_check(b, c, 1);

	xdp_maps_stats_reset(b->x);
	act = xb_run(b->fd_direct, &c->in, 1, &got, NULL);
	xb_check(act == c->action && xb_frame_equal(&got, &c->want),
		 "%s: steer_xdp gave action %d and %s output", c->name, act,
		 xb_frame_equal(&got, &c->want) ? "the twin's" : "another");
	xb_stats_check(b, c, 1);
}

/* One timed run of fd on c's input, checked afterwards. */
static double xb_timed(struct xb *b, struct xb_case *c, int fd, int act,
		       const char *what)
{
	struct xb_frame got;
	char name[96];
	double ns = 0;
	int rc;

	snprintf(name, sizeof(name), "%s (%s)", c->name, what);
	xb_counters_reset(b);
	rc = xb_run(fd, &c->in, b->repeat, &got, &ns);
	xb_check(rc == act, "%s: action %d, expected %d", name, rc, act);
	if (fd == b->fd_steer || fd == b->fd_steer_nt || fd == b->fd_restore) {
		xb_check(xb_frame_equal(&got, &c->in),
			 "%s: frame not restored after %u iterations", name,
			 b->repeat);
		xb_acts_check(b, name, act, b->repeat);
	} else {
		xb_check(xb_frame_equal(&got, &c->want),
			 "%s: output changed over the iterations", name);
	}
	if (fd != b->fd_restore)
		xb_stats_check(b, c, b->repeat);
	return ns;
}

static int xb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double xb_median(const double *v, uint32_t n)
{
	double s[XB_RUNS_MAX];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), xb_cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- set-up ---- */

static void xb_prog_figures(int fd, const char *name, double load_ms)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	char fig[96];

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return;
	snprintf(fig, sizeof(fig), "xdp_verified_insns_%s", name);
	xb_fig_count(fig, info.verified_insns, "insns");
	snprintf(fig, sizeof(fig), "xdp_xlated_insns_%s", name);
	xb_fig_count(fig, info.xlated_prog_len / 8, "insns");
	snprintf(fig, sizeof(fig), "xdp_jited_%s", name);
	xb_fig_count(fig, info.jited_prog_len, "bytes");
	if (load_ms >= 0) {
		snprintf(fig, sizeof(fig), "xdp_load_%s", name);
		xb_fig(fig, load_ms, "ms");
	}
}

/*
 * libbpf's messages through the one log, line by line: a verifier log is
 * one message of many kilobytes, and its last lines say why.
 */
__attribute__((format(printf, 2, 0))) static int
xb_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN ? LOG_WARN : LOG_DEBUG;
	char *msg, *line, *save = NULL;
	va_list aq;
	int n;

	if (lvl > log_get_level())
		return 0;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || !(msg = malloc((size_t)n + 1)))
		return 0;
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	for (line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		log_msg(lvl, "libbpf", "%s", line);
	free(msg);
	return 0;
}

/* The wrapper's copies of steer_xdp.h's maps are steer_xdp's maps. */
static int xb_maps_share(struct xb *b, struct steer_xdp_bench_bpf *skel)
{
	static const char *const shared[] = {
		"steer_cfg",	   "steer_flows",     "steer_flows4",
		"steer_svcs",	   "steer_udp",	      "steer_events",
		"steer_tmpls",	   "steer_stats",     "steer_ftele",
		"steer_tele_cand", "steer_shards",    "steer_taught",
		"steer_guard",	   "steer_guard_src", "steer_ring",
	};
	size_t i;
	int err;

	for (i = 0; i < sizeof(shared) / sizeof(shared[0]); i++) {
		struct bpf_map *m =
			bpf_object__find_map_by_name(skel->obj, shared[i]);
		int fd = xdp_prog_map_fd(b->x, shared[i]);

		if (!m || fd < 0)
			return -ENOENT;
		err = bpf_map__reuse_fd(m, fd);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The wrapper a second time, built without flow telemetry: the same
 * maps, its own bench maps shared with the first so that one set of
 * checks reads both.
 */
static int xb_open_notele(struct xb *b)
{
	static const char *const bench[] = {"bench_save", "bench_acts",
					    "bench_errs", "bench_out"};
	size_t i;
	int err;

	b->skel_nt = steer_xdp_bench_bpf__open();
	if (!b->skel_nt)
		return -errno;
	b->skel_nt->rodata->steer_tele_on = 0;
	err = xb_maps_share(b, b->skel_nt);
	for (i = 0; !err && i < sizeof(bench) / sizeof(bench[0]); i++)
		err = bpf_map__reuse_fd(
			bpf_object__find_map_by_name(b->skel_nt->obj, bench[i]),
			bpf_object__find_map_fd_by_name(b->skel->obj,
							bench[i]));
	if (!err)
		err = steer_xdp_bench_bpf__load(b->skel_nt);
	if (err)
		return err;
	b->fd_steer_nt = bpf_program__fd(b->skel_nt->progs.bench_steer);
	xb_prog_figures(b->fd_steer_nt, "bench_steer_notele", 0);
	return 0;
}

static int xb_open(struct xb *b)
{
	double t0;
	int err;

	t0 = xb_now_ms();
	b->x = xdp_prog_open(NULL);
	if (!b->x)
		return -errno;
	b->fd_direct = xdp_prog_fd(b->x);
	xb_prog_figures(b->fd_direct, "steer_xdp", xb_now_ms() - t0);

	libbpf_set_print(xb_libbpf_print);
	b->skel = steer_xdp_bench_bpf__open();
	if (!b->skel)
		return -errno;
	err = xb_maps_share(b, b->skel);
	if (err)
		return err;
	t0 = xb_now_ms();
	err = steer_xdp_bench_bpf__load(b->skel);
	if (err)
		return err;
	b->fd_steer = bpf_program__fd(b->skel->progs.bench_steer);
	b->fd_restore = bpf_program__fd(b->skel->progs.bench_restore);
	b->fd_floor = bpf_program__fd(b->skel->progs.bench_floor);
	b->fd_acts = bpf_map__fd(b->skel->maps.bench_acts);
	b->fd_errs = bpf_map__fd(b->skel->maps.bench_errs);
	b->fd_out = bpf_map__fd(b->skel->maps.bench_out);
	b->fd_save = bpf_map__fd(b->skel->maps.bench_save);
	xb_prog_figures(b->fd_steer, "bench_steer", xb_now_ms() - t0);
	err = xb_open_notele(b);
	if (err)
		return err;
	if (bpf_map__value_size(b->skel->maps.bench_out) !=
	    sizeof(struct xb_out))
		return -EPROTO;
	b->ncpu = libbpf_num_possible_cpus();
	if (b->ncpu <= 0)
		return b->ncpu ? b->ncpu : -EINVAL;
	b->pcpu = calloc((size_t)b->ncpu, sizeof(uint64_t));
	/* Per-CPU values are 8-byte aligned, one per possible CPU. */
	b->save_size =
		(size_t)b->ncpu *
		((bpf_map__value_size(b->skel->maps.bench_save) + 7) & ~7u);
	b->save = calloc(1, b->save_size);
	return b->pcpu && b->save ? 0 : -ENOMEM;
}

static void xb_close(struct xb *b)
{
	steer_xdp_bench_bpf__destroy(b->skel_nt);
	steer_xdp_bench_bpf__destroy(b->skel);
	xdp_prog_close(b->x);
	fastpath_free(b->fp);
	free(b->pcpu);
	free(b->save);
}

/* ---- main ---- */

static void xb_usage(void)
{
	fprintf(stderr, "usage: steer-xdp-bench [--quick] [--repeat N] "
			"[--runs K] [--cpu C]\n");
}

static int xb_args(int argc, char **argv, struct xb *b)
{
	int i, cpu = -1;

	b->repeat = 1000000;
	b->runs = 5;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			b->repeat = 100000;
			b->runs = 3;
		} else if (!strcmp(argv[i], "--repeat") && i + 1 < argc) {
			b->repeat = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			b->runs = (uint32_t)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--cpu") && i + 1 < argc) {
			cpu = atoi(argv[++i]);
		} else {
			xb_usage();
			return -EINVAL;
		}
	}
	if (!b->repeat || !b->runs || b->runs > XB_RUNS_MAX) {
		fprintf(stderr, "steer-xdp-bench: --repeat >= 1, --runs in "
				"1..64\n");
		return -EINVAL;
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			perror("steer-xdp-bench: --cpu");
			return -EINVAL;
		}
	}
	return 0;
}

static void xb_report(struct xb *b, const double *floor_ns)
{
	double diff[XB_RUNS_MAX];
	size_t i;
	uint32_t r;

	xb_fig("xdp_floor_macswap_tx", xb_median(floor_ns, b->runs), "ns/pkt");
	for (i = 0; i < XB_NCASES; i++) {
		struct xb_case *c = &xb_cases[i];

		for (r = 0; r < b->runs; r++)
			diff[r] = c->raw[r] - c->wrap[r];
		xb_fig_case(c->name, "raw", xb_median(c->raw, b->runs));
		xb_fig_case(c->name, "wrapper", xb_median(c->wrap, b->runs));
		xb_fig_case(c->name, "net", xb_median(diff, b->runs));
		if (c->direct_ok)
			xb_fig_case(c->name, "direct",
				    xb_median(c->direct, b->runs));
	}
}

/* ---- the daemon's telemetry round (src/node/xdp_tele.c) ---- */

#define XB_TELE_PORT 20000 /* STEER_XDP_TELE_CANDS flows from here */

/* Every flow named a candidate, the busier the lower its port. */
static int xb_tele_cands(struct xb *b)
{
	int fd = xdp_prog_map_fd(b->x, "steer_tele_cand");
	uint32_t i, n;

	for (i = 0; i < STEER_XDP_TELE_CANDS; i++) {
		struct flow_key k = xb_key(0, (uint16_t)(XB_TELE_PORT + i));

		n = STEER_XDP_TELE_CANDS - i;
		if (bpf_map_update_elem(fd, &k, &n, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* One packet of each tracked flow (the first STEER_XDP_TELE_SLOTS). */
static int xb_tele_traffic(struct xdp_prog *x)
{
	struct xb_frame f, out;
	uint32_t i;

	for (i = 0; i < STEER_XDP_TELE_SLOTS; i++) {
		xb_frame_tcp4(&f, (uint16_t)(XB_TELE_PORT + i), 10);
		if (xb_run(xdp_prog_fd(x), &f, 1, &out, NULL) != XDP_TX)
			return -EIO;
	}
	return 0;
}

static double xb_tele_timed(struct xdp_tele *t, struct xdp_prog *x)
{
	double t0 = xb_now_ms();

	xb_check(!xdp_tele_round(t, x, (uint64_t)(t0 * 1e6)),
		 "telemetry round failed");
	return (xb_now_ms() - t0) * 1000.0;
}

/*
 * A round's cost with every slot in use: filling them (a slot and a rule
 * stamp per flow), steady (every tracked flow sent a packet, no
 * candidates), and churn (every tracked flow idle, STEER_XDP_TELE_CANDS
 * busier candidates: each slot changes hands).
 */
static void xb_tele_rounds(struct xb *b)
{
	struct xdp_tele *t = xdp_tele_new(0);
	double fill, steady, churn;
	uint64_t evicted;
	uint32_t i;
	int err = t ? 0 : -ENOMEM;

	for (i = 0; !err && i < STEER_XDP_TELE_CANDS; i++) {
		struct flow_key k = xb_key(0, (uint16_t)(XB_TELE_PORT + i));

		err = xdp_maps_flow_set(b->x, &k, 2, 1);
	}
	if (!err)
		err = xb_tele_cands(b);
	if (err) {
		xb_check(0, "telemetry set-up: %s", strerror(-err));
		xdp_tele_free(t);
		return;
	}
	xdp_tele_round(t, b->x, 1); /* the baseline */
	fill = xb_tele_timed(t, b->x);
	xb_check(xdp_tele_count(t) == STEER_XDP_TELE_SLOTS,
		 "telemetry: %u flows tracked", xdp_tele_count(t));
	xb_check(!xb_tele_traffic(b->x), "telemetry traffic");
	steady = xb_tele_timed(t, b->x);
	xb_check(!xb_tele_cands(b), "telemetry candidates");
	evicted = xdp_tele_stats(t)->evicted;
	churn = xb_tele_timed(t, b->x);
	evicted = xdp_tele_stats(t)->evicted - evicted;
	xb_check(evicted == STEER_XDP_TELE_SLOTS, "telemetry: %llu evicted",
		 (unsigned long long)evicted);
	xb_fig_count("xdp_tele_slots", STEER_XDP_TELE_SLOTS, "flows");
	xb_fig_count("xdp_tele_slot_bytes", sizeof(struct steer_flow_tele),
		     "bytes");
	xb_fig_count("xdp_tele_daemon_bytes", xdp_tele_memory(t), "bytes");
	xb_fig("xdp_tele_round_fill", fill, "us");
	xb_fig("xdp_tele_round_steady", steady, "us");
	xb_fig("xdp_tele_round_churn", churn, "us");
	xdp_tele_free(t);
}

int main(int argc, char **argv)
{
	static struct xb b;
	double floor_ns[XB_RUNS_MAX];
	uint32_t r;
	size_t i;
	int err;

	if (xb_args(argc, argv, &b))
		return 2;
	if (geteuid() != 0) {
		fprintf(stderr, "steer-xdp-bench: needs root "
				"(BPF_PROG_TEST_RUN of XDP)\n");
		return 77;
	}
	log_set_level(LOG_WARN);
	err = xb_open(&b);
	if (!err)
		err = xb_cluster_set(&b);
	if (!err)
		err = xb_cases_build(&b);
	if (err) {
		fprintf(stderr, "steer-xdp-bench: set-up failed: %s\n",
			strerror(-err));
		xb_close(&b);
		return err == -EPERM ? 77 : 1;
	}
	for (i = 0; i < XB_NCASES; i++)
		xb_case_verify(&b, &xb_cases[i]);
	xb_fig_count("xdp_repeat", b.repeat, "iterations");
	xb_fig_count("xdp_runs", b.runs, "runs");
	/* Interleaved: drift hits every case alike. */
	for (r = 0; r < b.runs; r++) {
		xb_counters_reset(&b);
		err = xb_run(b.fd_floor, &xb_cases[0].in, b.repeat, NULL,
			     &floor_ns[r]);
		xb_check(err == XDP_TX, "floor: action %d", err);
		for (i = 0; i < XB_NCASES; i++) {
			struct xb_case *c = &xb_cases[i];

			c->raw[r] = xb_timed(&b, c, xb_fd_steer(&b, c),
					     c->action, "wrapped");
			c->wrap[r] = xb_timed(&b, c, b.fd_restore, XDP_PASS,
					      "wrapper only");
			if (c->direct_ok)
				c->direct[r] = xb_timed(&b, c, b.fd_direct,
							c->action, "direct");
		}
	}
	xb_report(&b, floor_ns);
	xb_tele_rounds(&b);
	xb_close(&b);
	if (xb_bad) {
		fprintf(stderr, "steer-xdp-bench: checks failed, the figures "
				"above are not to be trusted\n");
		return 1;
	}
	return 0;
}
