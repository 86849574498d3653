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

int main(int argc, char **argv)
{
	static uint8_t frame[64 + 8] __attribute__((aligned(8)));
	static const uint16_t ids[] = {1, 2};
	struct parse_cfg pc = {.gue_port = 0, .max_encap = 0};
	struct steer_hash_secret sec = {11, 22};
	struct cluster c1, c2;
	struct gossip_key key;
	struct gossip_auth auth;
	struct shard_map *map = calloc(1, sizeof(*map));
	struct evloop *el = evloop_new();
	uint8_t buf[CELLMSG_DGRAM_MAX];
	uint32_t n = 1000000, i, made = 0, mine = 0;
	struct fastpath *fp;
	char err[256];
	double t0, t1;
	int c;

	while ((c = getopt(argc, argv, "n:")) != -1)
		n = (uint32_t)strtoul(optarg, NULL, 10);
	log_set_level(LOG_WARN);
	memset(&key, 5, sizeof(key));
	if (!map || !el || gossip_auth_init(&auth, &key, false) ||
	    cluster_load_buf(&c1, "cb", cluster_text, strlen(cluster_text), err,
			     sizeof(err)) ||
	    cluster_load_buf(&c2, "cb", cluster_text, strlen(cluster_text), err,
			     sizeof(err))) {
		fprintf(stderr, "steer-cell-bench: set-up failed %s\n", err);
		return 1;
	}
	c2.self = 1;
	fp = fp_cluster_build(&c1, &sec, err, sizeof(err));
	if (!fp || shard_map_build(map, ids, 2, 2, &sec) ||
	    cb_cell_new(el, &auth, &sec, &cb_a, 1, 2 * n) ||
	    cb_cell_new(el, &auth, &sec, &cb_b, 2, 2 * n) ||
	    repl_world_set(cb_a.repl, &c1, cb_port) ||
	    repl_world_set(cb_b.repl, &c2, cb_port)) {
		fprintf(stderr, "steer-cell-bench: set-up failed %s\n", err);
		return 1;
	}
	repl_shards_set(cb_a.repl, map);
	repl_shards_set(cb_b.repl, map);
	for (i = 0; i < 100; i++) /* the streams connect */
		evloop_run_once(el, 5);
	t0 = cb_sec();
	for (i = 0; i < n; i++) {
		uint8_t *f = frame + STEER_FRAME_ALIGN_OFF;
		struct flowtab_params p = {.primary = 1, .rf = 2};
		struct cellmsg m = {.type = CELLMSG_RULE, .sender = 1};
		const struct flowtab_rec *rec;
		struct pkt_meta pm;
		uint64_t h;
		uint32_t shard;

		cb_frame(f, i);
		if (parse_packet(f, f + 54, &pc, &pm))
			continue;
		h = flow_hash(&pm.key, &sec);
		shard = shard_of_hash(h);
		if (map->cell[shard][0] != 1)
			continue; /* the other cell's: not this bench's */
		mine++;
		if (flowtab_lookup(cb_a.ft, &pm.key) ||
		    fastpath_backend_pick(fp, &pm.key, h, &p.service,
					  &p.backend))
			continue;
		p.mirror[0] = map->cell[shard][1];
		p.mirror[1] = STEER_NODE_NONE;
		rec = flowtab_create(cb_a.ft, &pm.key, &p, cb_now());
		if (!rec)
			continue;
		m.seq = i + 1;
		m.rule.key = rec->key;
		m.rule.version = rec->version;
		m.rule.backend = rec->backend;
		m.rule.primary = 1;
		m.rule.mirror[0] = rec->mirror[0];
		m.rule.mirror[1] = STEER_NODE_NONE;
		m.rule.action = STEER_ACT_BACKEND;
		m.rule.rf = 2;
		if (cellmsg_encode(&auth, &m, buf, sizeof(buf)) > 0)
			made++;
		if ((i & 1023) == 0)
			evloop_run_once(el, 0);
	}
	/* Until the mirror holds every flow (at most 10 s). */
	for (i = 0; i < 10000 && flowtab_count(cb_b.ft) < made; i++)
		evloop_run_once(el, 1);
	t1 = cb_sec();
	printf("cell_new_flows_per_s %.0f flows/s\n", made / (t1 - t0));
	printf("cell_new_flow_ns %.1f ns/flow\n", (t1 - t0) * 1e9 / made);
	printf("cell_mirror_held %.1f %%\n",
	       100.0 * flowtab_count(cb_b.ft) / (made ? made : 1));
	printf("cell_repl_bytes_per_flow %.1f bytes\n",
	       (double)repl_stats(cb_a.repl)->bytes_tx / (made ? made : 1));
	printf("cell_state_bytes_per_flow %.1f bytes\n",
	       (double)flowtab_memory(cb_a.ft) / flowtab_capacity(cb_a.ft));
	printf("cell_flows %u flows\n", made);
	repl_free(cb_a.repl);
	repl_free(cb_b.repl);
	flowtab_free(cb_a.ft);
	flowtab_free(cb_b.ft);
	fastpath_free(fp);
	cluster_free(&c1);
	cluster_free(&c2);
	evloop_free(el);
	free(map);
	(void)mine;
	return 0;
}
