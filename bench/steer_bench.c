// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-bench: figures of the userspace fast path on one core, one per
 * line as `name value unit`. Never passes or fails on time.
 *
 * Packets are built in memory once (Ethernet + IPv4 + TCP, 64 bytes, one
 * per flow, each in a 128-byte slot with headroom) and read in order, as a
 * NIC ring would hand them over; the FSC sees them in random order because
 * flows hash to random sets. Encapsulation overwrites the Ethernet header,
 * so it is restored before each packet (14 bytes, counted in the figure).
 *
 *   steer-bench [--quick] [--max-flows N]
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <steer/parse.h>

#include "cell/cellmsg.h"
#include "core/tmpl_build.h"
#include "fastpath/fastpath.h"
#include "cell/flowtab.h"
#include "forecast/forecast.h"
#include "forecast/online.h"
#include "node/flow_tele.h"

#define SLOT 128
#define HEADROOM (60 + STEER_FRAME_ALIGN_OFF) /* GUE0 needs 58 - 14 */
#define PKT_LEN 64

static const uint8_t eth_hdr[14] = {2, 0, 0, 0, 0, 1,	 2,
				    0, 0, 0, 0, 9, 0x08, 0x00};

struct bench_pkts {
	uint8_t *mem;
	uint32_t n;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* One TCP ACK of a random flow per slot. */
static int pkts_make(struct bench_pkts *b, uint32_t n, uint64_t seed)
{
	uint32_t i;

	b->mem = aligned_alloc(64, (size_t)n * SLOT);
	if (!b->mem)
		return -ENOMEM;
	b->n = n;
	for (i = 0; i < n; i++) {
		uint8_t *p = b->mem + (size_t)i * SLOT + HEADROOM;
		uint64_t r = rng_next(&seed);
		struct steer_iphdr ip = {
			.ver_ihl = 0x45,
			.tot_len = steer_htons(PKT_LEN - 14),
			.ttl = 64,
			.protocol = STEER_IPPROTO_TCP,
			.saddr = steer_htonl(0xc6120000u |
					     (uint32_t)(r & 0xffff)),
			.daddr = steer_htonl(0xc6130001),
		};
		struct steer_tcphdr th = {
			.source = (uint16_t)(r >> 16),
			.dest = steer_htons(443),
			.doff_res = 5 << 4,
			.flags = STEER_TCP_ACK,
		};

		memset(p, 0, PKT_LEN);
		memcpy(p, eth_hdr, 14);
		memcpy(p + 14, &ip, sizeof(ip));
		memcpy(p + 34, &th, sizeof(th));
		/* Distinct flows: the slot index in the upper source bits. */
		p[26] = (uint8_t)(0xc6 ^ (i >> 24));
		p[27] = (uint8_t)(i >> 16);
		p[28] = (uint8_t)(i >> 8);
		p[29] = (uint8_t)i;
		p[35] = (uint8_t)(r >> 40);
	}
	return 0;
}

static void print_fig(const char *name, double v, const char *unit)
{
	printf("%s %.*f %s\n", name, v < 1 ? 3 : 1, v, unit);
	fflush(stdout);
}

static double bench_parse(const struct bench_pkts *b, uint32_t rounds)
{
	struct parse_cfg cfg = {.gue_port = steer_htons(STEER_GUE_PORT),
				.max_encap = STEER_MAX_ENCAP};
	volatile uint32_t sink = 0;
	struct pkt_meta m;
	double t0 = now_s();
	uint32_t r, i;

	for (r = 0; r < rounds; r++)
		for (i = 0; i < b->n; i++) {
			uint8_t *p = b->mem + (size_t)i * SLOT + HEADROOM;

			sink += parse_packet(p, p + PKT_LEN, &cfg, &m) +
				m.key.sport;
		}
	(void)sink;
	return (now_s() - t0) * 1e9 / ((double)rounds * b->n);
}

static double bench_hash(const struct bench_pkts *b, uint32_t rounds)
{
	const struct steer_hash_secret sec = {1, 2};
	volatile uint64_t sink = 0;
	struct flow_key k;
	double t0;
	uint32_t r, i;

	memset(&k, 0, sizeof(k));
	t0 = now_s();
	for (r = 0; r < rounds; r++)
		for (i = 0; i < b->n; i++) {
			k.src.w[3] = i;
			sink += flow_hash(&k, &sec);
		}
	(void)sink;
	return (now_s() - t0) * 1e9 / ((double)rounds * b->n);
}

/* A 4-node cluster whose self (id 1) owns nothing: every flow steers. */
static struct fastpath *fp_make(uint32_t capacity)
{
	struct fp_config cfg = {
		.self_id = 1,
		.gue_port = steer_htons(STEER_GUE_PORT),
		.max_encap = STEER_MAX_ENCAP,
		.mtu = 1500,
		.secret = {0x0123456789abcdefull, 0xfedcba9876543210ull},
	};
	struct fp_target nodes[4];
	struct fastpath *fp;
	int i;

	flow_addr_set_v4(&cfg.self_addr, steer_htonl(0xc6120001));
	fsc_cfg_default(&cfg.fsc, capacity);
	fp = fastpath_new(&cfg);
	if (!fp)
		return NULL;
	memset(nodes, 0, sizeof(nodes));
	for (i = 0; i < 4; i++) {
		struct tmpl_spec s = {.kind = STEER_TMPL_GUE0, .origin = 1};

		nodes[i].id = (uint16_t)(i + 1);
		nodes[i].weight = i ? 1 : 0;
		memcpy(s.src_mac, eth_hdr + 6, 6);
		memcpy(s.dst_mac, eth_hdr, 6);
		s.dst_mac[5] = (uint8_t)(i + 1);
		flow_addr_set_v4(&s.saddr, steer_htonl(0xc6120001));
		flow_addr_set_v4(&s.daddr, steer_htonl(0xc6120001 + i));
		s.dport = steer_htons(STEER_GUE_PORT);
		tmpl_build(&nodes[i].tmpl, &s);
	}
	if (fastpath_set_nodes(fp, nodes, 4)) {
		fastpath_free(fp);
		return NULL;
	}
	return fp;
}

/*
 * One pass over the first n packets, burst by burst (burst 1: the
 * single-packet call). Returns ns per packet; *tx counts encapsulated.
 */
static double fp_pass(struct fastpath *fp, const struct bench_pkts *b,
		      uint32_t n, uint32_t burst, uint64_t *tx)
{
	struct fp_result res[FP_BURST];
	struct fp_pkt pk[FP_BURST];
	double t0 = now_s();
	uint32_t i, j, k;

	for (i = 0; i < n; i += burst) {
		k = n - i < burst ? n - i : burst;
		for (j = 0; j < k; j++) {
			uint8_t *p = b->mem + (size_t)(i + j) * SLOT + HEADROOM;

			memcpy(p, eth_hdr, 14);
			pk[j].data = p;
			pk[j].len = PKT_LEN;
			pk[j].headroom = HEADROOM;
		}
		if (burst == 1)
			fastpath_process(fp, &pk[0], 1, &res[0]);
		else
			fastpath_process_burst(fp, pk, k, 1, res);
		for (j = 0; j < k; j++)
			*tx += res[j].verdict == FP_TX;
	}
	return (now_s() - t0) * 1e9 / n;
}

/* Hit path over nflows flows: one warm pass (misses), then hits. */
static int bench_hits(const struct bench_pkts *b, uint32_t nflows,
		      const char *label)
{
	uint32_t rounds = nflows < 1000000 ? 2000000 / nflows + 1 : 1;
	struct fastpath *fp = fp_make(2 * nflows);
	struct fsc_stats st0, st1;
	double burst_ns = 0, single_ns = 0;
	uint64_t tx = 0, sent = 0;
	char name[64];
	uint32_t r;

	if (!fp)
		return -ENOMEM;
	fp_pass(fp, b, nflows, FP_BURST, &tx);
	fsc_get_stats(fastpath_fsc(fp), &st0);
	tx = 0;
	for (r = 0; r < rounds; r++) {
		burst_ns += fp_pass(fp, b, nflows, FP_BURST, &tx);
		single_ns += fp_pass(fp, b, nflows, 1, &tx);
		sent += 2ull * nflows;
	}
	fsc_get_stats(fastpath_fsc(fp), &st1);
	snprintf(name, sizeof(name), "fsc_hit_gue_%s_burst", label);
	print_fig(name, burst_ns / rounds, "ns/pkt");
	snprintf(name, sizeof(name), "fsc_hit_gue_%s_single", label);
	print_fig(name, single_ns / rounds, "ns/pkt");
	snprintf(name, sizeof(name), "fsc_hit_ratio_%s", label);
	print_fig(
		name,
		100.0 * (double)(st1.hits - st0.hits) /
			(double)(st1.hits - st0.hits + st1.misses - st0.misses),
		"%");
	if (tx != sent)
		fprintf(stderr,
			"bench: %llu of %llu packets not encapsulated\n",
			(unsigned long long)(sent - tx),
			(unsigned long long)sent);
	fastpath_free(fp);
	return 0;
}

/*
 * Every packet a new flow: up to 4M flows into an FSC of a quarter of
 * that, so the steady state evicts on every insert.
 */
static int bench_miss(const struct bench_pkts *b)
{
	uint32_t n = b->n < 4000000 ? b->n : 4000000;
	struct fastpath *fp = fp_make(n / 4);
	uint64_t tx = 0;
	double ns;

	if (!fp)
		return -ENOMEM;
	fp_pass(fp, b, n / 4, FP_BURST, &tx); /* fill: evictions ahead */
	ns = fp_pass(fp, b, n, 1, &tx);
	print_fig("fsc_miss_insert_gue", ns, "ns/pkt");
	fastpath_free(fp);
	return 0;
}

/*
 * The cell's flow table: n new flows created into a table of 2n (the
 * primary's exception path), hits looked up in another order than they
 * were created, and the same records applied to an empty replica table of
 * 2n (a mirror keeping up with its primary), then applied again one
 * version newer (state changes). Keys are IPv4 TCP, made beforehand.
 */
static int bench_flowtab(uint32_t n)
{
	struct flowtab_params p = {.epoch = 1,
				   .primary = 1,
				   .rf = 2,
				   .mirror = {2, STEER_NODE_NONE}};
	struct flowtab *t = NULL, *replica = NULL;
	struct flowtab_rec *recs = NULL;
	struct flow_key *keys = NULL;
	uint32_t *order = NULL, i, j;
	struct flowtab_cfg cfg;
	volatile uint64_t sink = 0;
	uint64_t seed = 0xf10a7ab5eedull;
	int ret = -ENOMEM;
	double t0;

	keys = calloc(n, sizeof(*keys));
	recs = malloc((size_t)n * sizeof(*recs));
	order = malloc((size_t)n * sizeof(*order));
	flowtab_cfg_default(&cfg, 2 * n);
	cfg.secret.k0 = 0x0123456789abcdefull;
	cfg.secret.k1 = 0xfedcba9876543210ull;
	cfg.self_id = 1;
	t = flowtab_new(&cfg);
	cfg.self_id = 2;
	replica = flowtab_new(&cfg);
	if (!keys || !recs || !order || !t || !replica)
		goto out;
	for (i = 0; i < n; i++) {
		uint64_t r = rng_next(&seed);

		flow_addr_set_v4(&keys[i].src, steer_htonl(0x0a000000u + i));
		flow_addr_set_v4(&keys[i].dst, steer_htonl(0xc6130001));
		keys[i].sport = (uint16_t)r;
		keys[i].dport = steer_htons(443);
		keys[i].proto = STEER_IPPROTO_TCP;
		order[i] = i;
	}
	for (i = n - 1; i > 0; i--) { /* Fisher-Yates */
		uint32_t tmp = order[i];

		j = (uint32_t)(rng_next(&seed) % (i + 1));
		order[i] = order[j];
		order[j] = tmp;
	}
	print_fig("flowtab_bytes_per_flow",
		  (double)flowtab_memory(t) / flowtab_capacity(t), "bytes");

	t0 = now_s();
	for (i = 0; i < n; i++) {
		p.backend = (uint16_t)i;
		if (!flowtab_create(t, &keys[i], &p, i >> 10))
			goto out;
	}
	print_fig("flowtab_create_ns", (now_s() - t0) * 1e9 / n, "ns/flow");

	t0 = now_s();
	for (i = 0; i < n; i++) {
		const struct flowtab_rec *r =
			flowtab_lookup(t, &keys[order[i]]);

		sink += r->backend;
	}
	print_fig("flowtab_lookup_ns", (now_s() - t0) * 1e9 / n, "ns/lookup");
	(void)sink;

	for (i = 0; i < n; i++)
		recs[i] = *flowtab_lookup(t, &keys[i]);
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (flowtab_apply(replica, &recs[i], 0) != 1)
			goto out;
	print_fig("flowtab_apply_ns", (now_s() - t0) * 1e9 / n, "ns/record");
	for (i = 0; i < n; i++) {
		recs[i].version++;
		recs[i].state = FLOWTAB_ST_ESTABLISHED;
	}
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (flowtab_apply(replica, &recs[i], 0) != 1)
			goto out;
	print_fig("flowtab_apply_update_ns", (now_s() - t0) * 1e9 / n,
		  "ns/record");
	ret = 0;
out:
	if (ret)
		fprintf(stderr, "bench: flowtab: %s\n",
			t && replica ? "unexpected result" : "out of memory");
	flowtab_free(replica);
	flowtab_free(t);
	free(order);
	free(recs);
	free(keys);
	return ret;
}

/*
 * The replication chain's hash (cell/repl.h, "Chain"): one link of a
 * batch of one record (cell mode's common case: a new flow's record in a
 * flush of its own shard; the primary makes the link, the mirror makes it
 * again) and of a batch of 256; beside them what the frame costs anyway,
 * its HMAC sealing and opening (cellmsg_encode and _decode of the same
 * batch, unchained).
 */
static int bench_chain(void)
{
	static struct cell_flow_rec recs[256], got[256];
	static uint8_t buf[CELLMSG_FRAME_MAX];
	uint8_t prev[CELLMSG_LINK_LEN] = {0}, gen[CELLMSG_LINK_LEN];
	struct cellmsg m = {.type = CELLMSG_BATCH, .sender = 1, .seq = 1}, out;
	struct gossip_auth auth;
	struct gossip_key key;
	uint32_t i, n = 200000;
	volatile uint8_t sink = 0;
	double t0;
	int len = 0;

	memset(&key, 7, sizeof(key));
	if (gossip_auth_init(&auth, &key, false))
		return -1;
	for (i = 0; i < 256; i++) {
		flow_addr_set_v4(&recs[i].key.src,
				 steer_htonl(0x0a000000u + i));
		flow_addr_set_v4(&recs[i].key.dst, steer_htonl(0xc6130001));
		recs[i].key.sport = steer_htons((uint16_t)(1024 + i));
		recs[i].key.dport = steer_htons(443);
		recs[i].key.proto = STEER_IPPROTO_TCP;
		recs[i].version = 1000000 + i;
		recs[i].epoch = 9;
		recs[i].primary = 1;
		recs[i].mirror[0] = 2;
		recs[i].mirror[1] = STEER_NODE_NONE;
		recs[i].rf = 2;
		recs[i].backend = (uint16_t)(i % 7);
		recs[i].created_ms = recs[i].last_ms = 5000000 + i;
	}
	m.batch.shard = 17;
	m.batch.recs = recs;
	m.batch.count = 1;
	m.batch.chain_seq = 1;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		m.batch.first_seq = i;
		cellmsg_chain_link(prev, &m.batch, prev);
	}
	print_fig("chain_link_1rec_ns", (now_s() - t0) * 1e9 / n, "ns/link");
	t0 = now_s();
	for (i = 0; i < n; i++)
		cellmsg_chain_genesis(1, 2, 3, 17, i, gen);
	sink ^= gen[0];
	print_fig("chain_genesis_ns", (now_s() - t0) * 1e9 / n, "ns");
	m.batch.count = 256;
	t0 = now_s();
	for (i = 0; i < n / 256; i++) {
		m.batch.first_seq = i;
		cellmsg_chain_link(prev, &m.batch, prev);
	}
	print_fig("chain_link_256rec_ns",
		  (now_s() - t0) * 1e9 / (n / 256 * 256), "ns/record");
	sink ^= prev[0];
	/* The frame of one record, unchained: sealed, then opened. */
	m.batch.count = 1;
	m.batch.chain_seq = 0;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		m.seq = i + 1;
		len = cellmsg_encode(&auth, &m, buf, sizeof(buf));
	}
	print_fig("cellmsg_batch_1rec_encode_ns", (now_s() - t0) * 1e9 / n,
		  "ns/frame");
	print_fig("cellmsg_batch_1rec_bytes", len, "bytes");
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (cellmsg_decode(&auth, buf, (size_t)len, &out, got, 256) !=
		    CELLMSG_RX_OK)
			return -1;
	print_fig("cellmsg_batch_1rec_decode_ns", (now_s() - t0) * 1e9 / n,
		  "ns/frame");
	(void)sink;
	return 0;
}

/*
 * A node's load series as steerd forecasts it (src/daemon/node_fc.c):
 * 600 samples kept, every model refit every 10 samples; the mean and
 * longest refit (ARIMA's order search every 30 refits) and the share of
 * one core for three series at one sample a second.
 */
static void bench_forecast(uint32_t samples)
{
	struct fc_online_cfg c = {.capacity = 600,
				  .refit_every = 10,
				  .horizon = 70,
				  .err_weight = 0.1};
	struct fc_online *o = fc_online_new(&c);
	double t0, dt, sum = 0, worst = 0, v;
	uint32_t i, n = 0;

	if (!o)
		return;
	for (i = 0; i < samples; i++) {
		v = 500 + 100 * sin(i / 50.0) + (double)((i * 7919u) % 13);
		t0 = now_s();
		fc_online_add(o, v);
		dt = (now_s() - t0) * 1e3;
		if (i >= 600 && i % 10 == 9) {
			sum += dt;
			n++;
			if (dt > worst)
				worst = dt;
		}
	}
	fc_online_free(o);
	print_fig("forecast_refit_mean", sum / n, "ms");
	print_fig("forecast_refit_max", worst, "ms");
	print_fig("forecast_node_core_share", 3 * (sum / n) / 10000 * 100, "%");
}

/*
 * The LSTM forecaster (src/forecast/lstm.c) on a node-load-like series of
 * n points (a daily cycle of 288 steps, noise): the fit (training to its
 * early stop) and a 60-step forecast, best of 3.
 */
static void bench_lstm(uint32_t n)
{
	double *y = malloc(n * sizeof(*y)), fit = HUGE_VAL, fcast = HUGE_VAL;
	double out[60], t0;
	struct fc_model m;
	uint32_t i, r;

	if (!y)
		return;
	for (i = 0; i < n; i++)
		y[i] = 500 + 200 * sin(2 * M_PI * i / 288.0) +
		       (double)((i * 7919u) % 37);
	for (r = 0; r < 3; r++) {
		t0 = now_s();
		if (fc_fit(&m, FC_LSTM, y, n, 288)) {
			free(y);
			return;
		}
		t0 = now_s() - t0;
		if (t0 < fit)
			fit = t0;
		t0 = now_s();
		fc_forecast(&m, 60, out, NULL, NULL);
		t0 = now_s() - t0;
		if (t0 < fcast)
			fcast = t0;
		fc_model_free(&m);
	}
	free(y);
	print_fig("lstm_fit_2000", fit * 1e3, "ms");
	print_fig("lstm_forecast_60", fcast * 1e6, "us");
}

/*
 * A round of per-flow telemetry as steerd runs it every second
 * (src/node/flow_tele.c): n sessions offered, the busiest 1,024 tracked;
 * ns per session offered (the map's batched read is not in it), and the
 * bytes tracking holds.
 */
static void bench_tele(uint32_t n)
{
	struct flow_tele *ft = flow_tele_new(FLOW_TELE_K_DEFAULT);
	struct steer_sock_tele t = {.samples = 1};
	struct flow_key k;
	double t0, best = HUGE_VAL;
	uint32_t r, i;

	if (!ft)
		return;
	memset(&k, 0, sizeof(k));
	k.proto = STEER_IPPROTO_TCP;
	for (r = 0; r < 5; r++) {
		t0 = now_s();
		flow_tele_begin(ft, (uint64_t)(r + 10) * 1000000000ull);
		for (i = 0; i < n; i++) {
			k.src.w[3] = i;
			t.seen_ns = (uint64_t)(r + 10) * 1000000000ull;
			/* Rates spread so the top 1,024 change a little. */
			t.bytes_in = (uint64_t)((i * 2654435761u) % 1000003u) *
				     (r + 1);
			flow_tele_offer(ft, &k, &t);
		}
		flow_tele_end(ft);
		t0 = (now_s() - t0) * 1e9 / n;
		if (t0 < best)
			best = t0;
	}
	print_fig(n >= 1000000 ? "tele_round_1m" : "tele_round_100k", best,
		  "ns/session");
	/* One round a second: the share of a core it takes. */
	print_fig("tele_core_share_100k", best * 100000 / 1e9 * 100, "%");
	print_fig("tele_bytes_per_tracked_flow",
		  (double)flow_tele_memory(ft) / FLOW_TELE_K_DEFAULT, "bytes");
	flow_tele_free(ft);
}

int main(int argc, char **argv)
{
	uint32_t max_flows = 10000000,
		 sizes[] = {1000, 100000, 1000000, 10000000};
	const char *labels[] = {"1k", "100k", "1m", "10m"};
	struct bench_pkts b;
	struct fastpath *fp;
	int i, quick = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			quick = 1;
			max_flows = 100000;
		} else if (!strcmp(argv[i], "--max-flows") && i + 1 < argc) {
			max_flows = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr,
				"usage: steer-bench [--quick] [--max-flows N]\n");
			return 2;
		}
	}
	if (max_flows < 1000)
		max_flows = 1000;
	if (pkts_make(&b, max_flows, 0x5eed5eed5eedull)) {
		fprintf(stderr, "steer-bench: out of memory for %u packets\n",
			max_flows);
		return 1;
	}
	print_fig("parse_only", bench_parse(&b, quick ? 1 : 20), "ns/pkt");
	print_fig("flow_hash", bench_hash(&b, quick ? 1 : 20), "ns/pkt");
	for (i = 0; i < 4; i++)
		if (sizes[i] <= max_flows)
			bench_hits(&b, sizes[i], labels[i]);
	bench_miss(&b);
	bench_flowtab(quick ? 100000 : 1000000);
	if (bench_chain())
		fprintf(stderr, "steer-bench: chain: unexpected result\n");
	bench_forecast(quick ? 900 : 3600);
	bench_tele(100000);
	bench_lstm(2000);
	fp = fp_make(1024);
	print_fig("fsc_entry_size", sizeof(struct fsc_entry), "bytes");
	print_fig("fsc_bytes_per_slot",
		  (double)fsc_memory(fastpath_fsc(fp)) /
			  fsc_capacity(fastpath_fsc(fp)),
		  "bytes");
	fastpath_free(fp);
	free(b.mem);
	return 0;
}
