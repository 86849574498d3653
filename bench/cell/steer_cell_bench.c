// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-cell-bench: the exception path of a cell, in process, one core,
 * figures one per line as `name value unit` (never pass/fail on time).
 *
 * Per new flow, as cell.c does it: parse the inner packet, look the flow
 * up, pick its backend from the service's Maglev table, create its state,
 * encode the RULE for the fast-path node, and replicate the record to a
 * mirror cell over real TCP on loopback, whose table applies it. Both
 * cells run in this one thread, so the figure counts the mirror's work
 * too: a cell core doing only its own half does better.
 *
 *   steer-cell-bench [--flows N]   (default 1,000,000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <steer/parse.h>

#include "cell/cellmsg.h"
#include "cell/repl.h"
#include "fastpath/fp_cluster.h"
#include "gossip/gossip_auth.h"
#include "util/log.h"

static const char cluster_text[] =
	"cluster cb\n"
	"self n1\n"
	"node n1 id 1 addr 127.0.0.1 mac 02:00:00:00:00:01\n"
	"node n2 id 2 addr 127.0.0.2 mac 02:00:00:00:00:02\n"
	"backend b1 id 1 addr 198.18.1.1 mac 02:00:00:00:01:01 encap gue\n"
	"backend b2 id 2 addr 198.18.1.2 mac 02:00:00:00:01:02 encap gue\n"
	"backend b3 id 3 addr 198.18.1.3 mac 02:00:00:00:01:03 encap gue\n"
	"service web proto tcp vip 198.18.100.1 port 80 backends b1,b2,b3\n";

struct cb_cell {
	struct flowtab *ft;
	struct repl *repl;
};

static struct cb_cell cb_a, cb_b;

static uint32_t cb_now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint32_t)((uint64_t)tv.tv_sec * 1000u + tv.tv_usec / 1000u);
}

static double cb_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t cb_port(uint16_t id)
{
	return repl_port(id == 1 ? cb_a.repl : cb_b.repl);
}

static void cb_on_change(const struct flowtab_rec *r, void *arg)
{
	struct cb_cell *x = arg;

	repl_record(x->repl, r);
}

static int cb_cell_new(struct evloop *el, const struct gossip_auth *auth,
		       const struct steer_hash_secret *sec, struct cb_cell *x,
		       uint16_t id, uint32_t cap)
{
	struct flowtab_cfg fc;
	struct repl_cfg rc = {.el = el,
			      .auth = auth,
			      .self_id = id,
			      .incarnation = id,
			      .now_ms = cb_now};

	flowtab_cfg_default(&fc, cap);
	fc.secret = *sec;
	fc.self_id = id;
	fc.on_change = cb_on_change;
	fc.on_change_arg = x;
	x->ft = flowtab_new(&fc);
	rc.ft = x->ft;
	flow_addr_set_v4(&rc.listen, htonl(id == 1 ? 0x7f000001 : 0x7f000002));
	x->repl = x->ft ? repl_new(&rc) : NULL;
	return x->repl ? 0 : -1;
}

/* A SYN of flow i, in a frame as the cell rebuilds it. */
static void cb_frame(uint8_t *f, uint32_t i)
{
	struct steer_ethhdr *eth = (void *)f;
	struct steer_iphdr *ip = (void *)(eth + 1);
	struct steer_tcphdr *th = (void *)(ip + 1);

	memset(f, 0, 54);
	eth->proto = htons(STEER_ETH_P_IP);
	ip->ver_ihl = 0x45;
	ip->tot_len = htons(40);
	ip->ttl = 64;
	ip->protocol = STEER_IPPROTO_TCP;
	ip->saddr = htonl(0x0a000000u + i / 50000);
	ip->daddr = htonl(0xc6126401u);
	th->source = htons((uint16_t)(1024 + i % 50000));
	th->dest = htons(80);
	th->doff_res = 5 << 4;
	th->flags = 0x02;
}

static struct parse_cfg cb_pc = {.gue_port = 0, .max_encap = 0};
static struct steer_hash_secret cb_secret = {11, 22};
static struct gossip_auth cb_auth;
static struct shard_map *cb_map;
static struct fastpath *cb_fp;
static struct evloop *cb_el;

/* The mirror's side of a MIRROR datagram: decode, merge the record. */
static int cb_mirror_rx(const uint8_t *buf, int len)
{
	static struct cellmsg m;
	struct flowtab_rec rec;

	if (len <= 0 || cellmsg_decode(&cb_auth, buf, (size_t)len, &m, NULL,
				       0) != CELLMSG_RX_OK)
		return -1;
	repl_rec_from_wire(&m.mir.rec, &rec);
	return flowtab_apply(cb_b.ft, &rec, cb_now()) < 0 ? -1 : 0;
}

/* Packet mirroring of flow rec's first packet (the frame's IP packet). */
static int cb_mirror(const struct flowtab_rec *rec, const uint8_t *ip,
		     uint32_t seq)
{
	static struct cellmsg m = {.type = CELLMSG_MIRROR, .sender = 1};
	uint8_t buf[CELLMSG_DGRAM_MAX];

	m.seq = seq;
	repl_rec_to_wire(rec, &m.mir.rec);
	m.mir.orig_len = m.mir.cap_len = 40;
	memcpy(m.mir.pkt, ip, 40);
	return cb_mirror_rx(buf,
			    cellmsg_encode(&cb_auth, &m, buf, sizeof(buf)));
}

/* The RULE of a new flow, as the fast-path node gets it. */
static int cb_rule(const struct flowtab_rec *rec, uint32_t seq)
{
	struct cellmsg m = {.type = CELLMSG_RULE, .sender = 1};
	uint8_t buf[CELLMSG_DGRAM_MAX];

	m.seq = seq;
	m.rule.key = rec->key;
	m.rule.version = rec->version;
	m.rule.backend = rec->backend;
	m.rule.primary = 1;
	m.rule.mirror[0] = rec->mirror[0];
	m.rule.mirror[1] = STEER_NODE_NONE;
	m.rule.action = STEER_ACT_BACKEND;
	m.rule.rf = 2;
	return cellmsg_encode(&cb_auth, &m, buf, sizeof(buf)) > 0 ? 0 : -1;
}

/*
 * Flows first .. first + n - 1 through cell 1 (those of its shards):
 * the flows made, and *secs the time until the mirror holds them all.
 */
static uint32_t cb_pass(uint32_t first, uint32_t n, bool mirror, double *secs)
{
	static uint8_t frame[64 + 8] __attribute__((aligned(8)));
	uint32_t i, made = 0, want = flowtab_count(cb_b.ft);
	double t0 = cb_sec();

	for (i = first; i < first + n; i++) {
		uint8_t *f = frame + STEER_FRAME_ALIGN_OFF;
		struct flowtab_params p = {.primary = 1, .rf = 2};
		const struct flowtab_rec *rec;
		struct pkt_meta pm;
		uint64_t h;
		uint32_t shard;

		cb_frame(f, i);
		if (parse_packet(f, f + 54, &cb_pc, &pm))
			continue;
		h = flow_hash(&pm.key, &cb_secret);
		shard = shard_of_hash(h);
		if (cb_map->cell[shard][0] != 1)
			continue; /* the other cell's: not this bench's */
		if (flowtab_lookup(cb_a.ft, &pm.key) ||
		    fastpath_backend_pick(cb_fp, &pm.key, h, &p.service,
					  &p.backend))
			continue;
		p.mirror[0] = cb_map->cell[shard][1];
		p.mirror[1] = STEER_NODE_NONE;
		rec = flowtab_create(cb_a.ft, &pm.key, &p, cb_now());
		if (!rec)
			continue;
		if (!cb_rule(rec, 2 * i + 1) &&
		    (!mirror || !cb_mirror(rec, f + 14, 2 * i + 2)))
			made++;
		if ((i & 1023) == 0)
			evloop_run_once(cb_el, 0);
	}
	/* Until the mirror holds every flow (at most 10 s). */
	want += made;
	for (i = 0; i < 10000 && flowtab_count(cb_b.ft) < want; i++)
		evloop_run_once(cb_el, 1);
	*secs = cb_sec() - t0;
	return made;
}

static int cb_setup(struct cluster *c1, struct cluster *c2, uint32_t n)
{
	static const uint16_t ids[] = {1, 2};
	struct gossip_key key;
	char err[256] = "";
	uint32_t i;

	log_set_level(LOG_WARN);
	memset(&key, 5, sizeof(key));
	cb_map = calloc(1, sizeof(*cb_map));
	cb_el = evloop_new();
	if (!cb_map || !cb_el || gossip_auth_init(&cb_auth, &key, false) ||
	    cluster_load_buf(c1, "cb", cluster_text, strlen(cluster_text), err,
			     sizeof(err)) ||
	    cluster_load_buf(c2, "cb", cluster_text, strlen(cluster_text), err,
			     sizeof(err)))
		goto fail;
	c2->self = 1;
	cb_fp = fp_cluster_build(c1, &cb_secret, err, sizeof(err));
	if (!cb_fp || shard_map_build(cb_map, ids, 2, 2, &cb_secret) ||
	    cb_cell_new(cb_el, &cb_auth, &cb_secret, &cb_a, 1, 2 * n) ||
	    cb_cell_new(cb_el, &cb_auth, &cb_secret, &cb_b, 2, 2 * n) ||
	    repl_world_set(cb_a.repl, c1, cb_port) ||
	    repl_world_set(cb_b.repl, c2, cb_port))
		goto fail;
	repl_shards_set(cb_a.repl, cb_map);
	repl_shards_set(cb_b.repl, cb_map);
	for (i = 0; i < 100; i++) /* the streams connect */
		evloop_run_once(cb_el, 5);
	return 0;
fail:
	fprintf(stderr, "steer-cell-bench: set-up failed %s\n", err);
	return -1;
}

int main(int argc, char **argv)
{
	struct cluster c1, c2;
	uint32_t n = 1000000, made, made_m;
	double secs, secs_m;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1)
		n = (uint32_t)strtoul(optarg, NULL, 10);
	if (cb_setup(&c1, &c2, n))
		return 1;
	made = cb_pass(0, n, false, &secs);
	made_m = cb_pass(n, n, true, &secs_m);
	printf("cell_new_flows_per_s %.0f flows/s\n", made / secs);
	printf("cell_new_flow_ns %.1f ns/flow\n", secs * 1e9 / made);
	printf("cell_new_flows_per_s_pkt_mirroring %.0f flows/s\n",
	       made_m / secs_m);
	printf("cell_new_flow_ns_pkt_mirroring %.1f ns/flow\n",
	       secs_m * 1e9 / made_m);
	printf("cell_mirror_held %.1f %%\n",
	       100.0 * flowtab_count(cb_b.ft) /
		       (made + made_m ? made + made_m : 1));
	printf("cell_repl_bytes_per_flow %.1f bytes\n",
	       (double)repl_stats(cb_a.repl)->bytes_tx /
		       (made + made_m ? made + made_m : 1));
	printf("cell_state_bytes_per_flow %.1f bytes\n",
	       (double)flowtab_memory(cb_a.ft) / flowtab_capacity(cb_a.ft));
	printf("cell_flows %u flows\n", made + made_m);
	repl_free(cb_a.repl);
	repl_free(cb_b.repl);
	flowtab_free(cb_a.ft);
	flowtab_free(cb_b.ft);
	fastpath_free(cb_fp);
	cluster_free(&c1);
	cluster_free(&c2);
	evloop_free(cb_el);
	free(cb_map);
	return 0;
}
