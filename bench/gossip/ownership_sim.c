// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-ownership-sim: what session ownership costs each node, flooded
 * to every node vs kept in a directory of homes, in the gossip simulator
 * (tests/sim: the real gossip code, a simulated LAN of 1-5 ms, no loss).
 * Prints `name value unit` lines:
 *
 *   ownership_bytes_per_node_<mode>_n<N>   bytes each node sends per
 *                                          second for sessions (the run
 *                                          with sessions minus the same
 *                                          cluster idle)
 *   ownership_records_per_node_<mode>_n<N> session records a node holds
 *   ownership_bytes_ratio_n<N>             directory / flood
 *
 * The workload, the same in both modes: every node owns --sessions
 * long-lived sessions, and opens --churn new ones a second that close
 * after --life seconds; bytes are counted over --seconds once the
 * long-lived ones are announced and the churn has reached its steady
 * state. Directory mode runs the daemon's defaults (2 homes, refresh
 * every 30 s); nothing here is taught (no packets cross nodes in the
 * simulator), so records an ingress learns by re-routing come on top.
 *
 *   steer-ownership-sim [--n 16,48,200] [--sessions 100] [--churn 1]
 *                       [--life 20] [--seconds 60] [--seed 1]
 *
 * Deterministic for a seed; the machine's speed changes nothing but how
 * long it takes (about a minute at 200 nodes).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/gossip_sim.h"

struct own_opts {
	uint32_t sessions, churn, life_s, seconds;
	uint64_t seed;
	enum gossip_ownership mode;
};

struct own_result {
	double bytes_per_node_s;
	double records_per_node;
};

static void own_hook(struct gossip_config *c, void *arg)
{
	const struct own_opts *o = arg;

	c->ownership = o->mode;
	c->dir_secret.k0 = 0x736565642d6f776eull;
	c->dir_secret.k1 = o->seed;
}

/* Node i's j-th session: 198.18.0.0 + i, port j -> 198.19.0.1:443. */
static void own_key(struct flow_key *k, uint32_t node, uint32_t j)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + node));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6130001u));
	k->sport = __builtin_bswap16((uint16_t)j);
	k->dport = __builtin_bswap16(443);
	k->proto = 6;
}

static void own_announce(struct sim *s, uint32_t i, uint32_t j, bool open)
{
	struct flow_key k;
	uint16_t id = (uint16_t)(i + 1);

	own_key(&k, i, j);
	if (open)
		gossip_session_announce(s->nodes[i].g, &k, id, 100);
	else
		gossip_session_close(s->nodes[i].g, &k, id, 100);
	sim_after(s, i);
}

/* One simulated second of churn: each node opens `churn` sessions and
 * closes those opened life_s seconds ago. */
static void own_second(struct sim *s, const struct own_opts *o, uint32_t t)
{
	uint32_t i, c, base = o->sessions;

	for (i = 0; i < s->n; i++)
		for (c = 0; c < o->churn; c++) {
			own_announce(s, i, base + t * o->churn + c, true);
			if (t >= o->life_s)
				own_announce(s, i,
					     base + (t - o->life_s) * o->churn +
						     c,
					     false);
		}
	sim_run(s, s->now + 1000);
}

static void own_run(uint32_t n, const struct own_opts *o, bool sessions,
		    struct own_result *r)
{
	struct sim *s = sim_new_cfg(n, o->seed, own_hook, (void *)o);
	uint32_t i, j, t, warm = o->life_s + 5;
	uint64_t bytes0, records = 0;

	join_and_converge(s, 20000, NULL);
	sim_run(s, s->now + 5000);
	for (i = 0; sessions && i < n; i++)
		for (j = 0; j < o->sessions; j++)
			own_announce(s, i, j, true);
	for (t = 0; t < warm; t++)
		if (sessions)
			own_second(s, o, t);
		else
			sim_run(s, s->now + 1000);
	bytes0 = s->bytes;
	for (; t < warm + o->seconds; t++)
		if (sessions)
			own_second(s, o, t);
		else
			sim_run(s, s->now + 1000);
	for (i = 0; i < n; i++)
		records += gossip_session_count(s->nodes[i].g, false);
	r->bytes_per_node_s =
		(double)(s->bytes - bytes0) / n / (double)o->seconds;
	r->records_per_node = (double)records / n;
	sim_free(s);
}

static void fig(const char *name, uint32_t n, double v, const char *unit)
{
	char full[96];

	snprintf(full, sizeof(full), "%s_n%u", name, n);
	printf("%-48s %14.3f %s\n", full, v, unit);
	fflush(stdout);
}

static void own_cluster(uint32_t n, struct own_opts *o)
{
	struct own_result idle, flood, dir;

	o->mode = GOSSIP_OWN_FLOOD;
	own_run(n, o, false, &idle);
	own_run(n, o, true, &flood);
	o->mode = GOSSIP_OWN_DIRECTORY;
	own_run(n, o, true, &dir);
	flood.bytes_per_node_s -= idle.bytes_per_node_s;
	dir.bytes_per_node_s -= idle.bytes_per_node_s;
	fig("ownership_idle_bytes_per_node", n, idle.bytes_per_node_s, "B/s");
	fig("ownership_bytes_per_node_flood", n, flood.bytes_per_node_s, "B/s");
	fig("ownership_bytes_per_node_directory", n, dir.bytes_per_node_s,
	    "B/s");
	fig("ownership_records_per_node_flood", n, flood.records_per_node,
	    "records");
	fig("ownership_records_per_node_directory", n, dir.records_per_node,
	    "records");
	fig("ownership_bytes_ratio", n,
	    dir.bytes_per_node_s / flood.bytes_per_node_s, "ratio");
	fig("ownership_records_ratio", n,
	    dir.records_per_node / flood.records_per_node, "ratio");
}

static int usage(void)
{
	fprintf(stderr, "usage: steer-ownership-sim [--n 16,48,200] "
			"[--sessions N] [--churn N] [--life S] [--seconds S] "
			"[--seed N]\n");
	return 2;
}

/* A positive number of at most max, or 0. */
static uint32_t own_num(const char *s, uint32_t max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !v || v > max)
		return 0;
	return (uint32_t)v;
}

int main(int argc, char **argv)
{
	struct own_opts o = {100, 1, 20, 60, 1, GOSSIP_OWN_FLOOD};
	const char *ns = "16,48,200";
	char buf[64], *tok, *save;
	uint32_t *field, n;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--n") && i + 1 < argc) {
			ns = argv[++i];
			continue;
		}
		field = !strcmp(argv[i], "--sessions")	? &o.sessions
			: !strcmp(argv[i], "--churn")	? &o.churn
			: !strcmp(argv[i], "--life")	? &o.life_s
			: !strcmp(argv[i], "--seconds") ? &o.seconds
							: NULL;
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			o.seed = own_num(argv[++i], UINT32_MAX);
			if (!o.seed)
				return usage();
			continue;
		}
		if (!field || i + 1 >= argc)
			return usage();
		*field = own_num(argv[++i], 1u << 16);
		if (!*field)
			return usage();
	}
	snprintf(buf, sizeof(buf), "%s", ns);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		n = own_num(tok, MAXN);
		if (n < 2)
			return usage();
		if ((uint64_t)o.sessions +
			    (uint64_t)o.churn * (o.life_s + 5 + o.seconds) >
		    65535) {
			fprintf(stderr, "steer-ownership-sim: at most 65,535 "
					"sessions per node in a run\n");
			return 2;
		}
		own_cluster(n, &o);
	}
	return 0;
}
