// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-pathlat: which path each packet of a service took through the
 * nodes, and what that path cost, from captures taken on the far side of
 * every node's link (the bridge ports and the router's ports of the lab:
 * there a frame the node's XDP program transmits is seen, which a capture
 * on the node itself never sees). All captures come from one kernel, so
 * their timestamps share one clock.
 *
 *   steer-pathlat --port P [--gue-port G] [--csv FILE]
 *                 NAME=MAC@FILE...
 *
 * NAME=MAC@FILE: frames in FILE (pcap or pcapng, Ethernet) whose
 * destination MAC is MAC are deliveries to node NAME.
 *
 * A packet of the service (innermost destination port P, from any
 * client) is known by a hash of its innermost IP addresses (and IPv4
 * ID), its L4 header and up to 32 bytes after it. Its deliveries in time
 * order form a chain: the first, unencapsulated, to the node the router
 * chose (its ingress); each later one, in GUE, to the node the previous
 * one sent it to. The chain's hops are its GUE deliveries (0: the ingress
 * kept the packet; 1: sent straight to the owner, by a rule or a cached
 * template; 2 or more: through a home), its latency the time from the
 * ingress to the last delivery: what the packet paid on top of reaching
 * its owner straight from the router.
 *
 * A flow migrates when a packet's ingress is not the previous packet's.
 * For the first packet at each new ingress the tool prints its path; a
 * chain that ends at a node other than where the flow's packets end
 * otherwise was dropped there or answered by the wrong host: "lost". A
 * direct chain whose GUE carried the hint flag was sent from the
 * ingress's header cache (a cached template): "cached" counts those.
 *
 * Output, `name value unit` lines:
 *   pathlat_packets, pathlat_chains, pathlat_flows, pathlat_migrations
 *   pathlat_first_{local,direct,rerouted,lost}       counts
 *   pathlat_first_cached   of the direct ones, from a cached template
 *   pathlat_first_{direct,rerouted}_{p50,p99}_us     latency
 *   pathlat_all_{direct,rerouted}_{p50,p99}_us       every chain's
 * With --csv, one row per migration: flow, time, from, to, hops,
 * latency_us, path, cached (1: from a cached template). Exit status 0, 1 when a capture cannot be read, 2
 * for a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <steer/gue.h>
#include <steer/hash.h>
#include <steer/parse.h>

#include "fastpath/pcapio.h"

#define PL_MAX_POINTS 16
#define PL_SNAP 512    /* bytes of a frame looked at, at most */
#define PL_ID_TAIL 32  /* bytes past the L4 header in the identity */
#define PL_HOP_MAX 250 /* a chain longer than this is a loop */

struct pl_point {
	const char *name, *file;
	uint8_t mac[6];
};

/* One delivery of a packet to a node. */
struct pl_ev {
	uint64_t id;   /* the packet */
	uint64_t flow; /* its innermost flow */
	uint64_t ts;   /* ns */
	uint8_t node;  /* index into the points */
	uint8_t depth; /* tunnels peeled: 0 from the router, 1 in GUE */
	bool hint;     /* its GUE carried the hint flag */
};

/* A packet's path: its ingress, the node it ended at, the GUE hops. */
struct pl_chain {
	uint64_t flow, ts, lat_ns;
	uint8_t ingress, last, hops;
	bool cached; /* its first hop came from the ingress's header cache */
};

struct pl_evs {
	struct pl_ev *v;
	size_t n, cap;
};

struct pl_args {
	struct pl_point pt[PL_MAX_POINTS];
	unsigned n_pt;
	uint16_t port, gue_port;
	const char *csv;
};

static const struct steer_hash_secret pl_secret = {0x70617468, 0x6c6174};

static void pl_usage(FILE *f)
{
	fprintf(f, "usage: steer-pathlat --port P [--gue-port G] [--csv FILE] "
		   "NAME=MAC@FILE...\n");
}

static int pl_point_parse(const char *s, struct pl_point *p)
{
	static char buf[PL_MAX_POINTS][512];
	static unsigned used;
	char *eq, *at;
	unsigned m[6];
	int i;

	if (used >= PL_MAX_POINTS || strlen(s) >= sizeof(buf[0]))
		return -EINVAL;
	strcpy(buf[used], s);
	eq = strchr(buf[used], '=');
	at = eq ? strchr(eq, '@') : NULL;
	if (!eq || !at || eq == buf[used] || !at[1])
		return -EINVAL;
	*eq = *at = '\0';
	if (sscanf(eq + 1, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2],
		   &m[3], &m[4], &m[5]) != 6 ||
	    strlen(eq + 1) != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++)
		p->mac[i] = (uint8_t)m[i];
	p->name = buf[used];
	p->file = at + 1;
	used++;
	return 0;
}

static int pl_args_parse(int argc, char **argv, struct pl_args *a)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'},
		{"gue-port", required_argument, NULL, 'g'},
		{"csv", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	unsigned long v;
	char *end;
	int c;

	a->gue_port = STEER_GUE_PORT;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
		case 'g':
			v = strtoul(optarg, &end, 10);
			if (*end || !v || v > 65535)
				return -EINVAL;
			*(c == 'p' ? &a->port : &a->gue_port) = (uint16_t)v;
			break;
		case 'c':
			a->csv = optarg;
			break;
		case 'h':
			pl_usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (!a->port || optind >= argc)
		return -EINVAL;
	for (; optind < argc; optind++) {
		if (a->n_pt >= PL_MAX_POINTS ||
		    pl_point_parse(argv[optind], &a->pt[a->n_pt]))
			return -EINVAL;
		a->n_pt++;
	}
	return 0;
}

static int pl_push(struct pl_evs *e, const struct pl_ev *ev)
{
	struct pl_ev *v;

	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 65536;
		v = realloc(e->v, e->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		e->v = v;
	}
	e->v[e->n++] = *ev;
	return 0;
}

/* The identity of the innermost packet: see the top of the file. */
static uint64_t pl_packet_id(const uint8_t *f, uint32_t len,
			     const struct pkt_meta *m)
{
	__u64 w[16] = {0};
	const struct steer_iphdr *ip4 = (const void *)(f + m->l3_off);
	uint32_t l4 = m->l4_off, end = l4 + 20 + PL_ID_TAIL;
	uint32_t n = 0, i;

	if (end > len)
		end = len;
	if (m->family == 4)
		w[n++] = ntohs(ip4->id);
	_Static_assert(sizeof(m->key) == 40, "a flow key is five words");
	memcpy(&w[n], &m->key, sizeof(m->key));
	n += 5;
	for (i = l4; i < end && n < 16; i += 8, n++)
		memcpy(&w[n], f + i, end - i < 8 ? end - i : 8);
	return steer_siphash13(w, 16, &pl_secret); /* unused words zero */
}

/* Read one capture's deliveries of the service into e. */
static int pl_read(const struct pl_args *a, unsigned idx, struct pl_evs *e,
		   uint64_t *packets)
{
	static uint8_t buf[STEER_FRAME_ALIGN_OFF + PL_SNAP]
		__attribute__((aligned(8)));
	const struct parse_cfg cfg = {.gue_port = htons(a->gue_port),
				      .max_encap = 2};
	const struct pl_point *p = &a->pt[idx];
	struct pcap_in *in = pcapio_open_read(p->file);
	const uint8_t *data;
	uint32_t caplen, wirelen;
	uint64_t ts;
	int rc;

	if (!in) {
		fprintf(stderr, "steer-pathlat: %s: %s\n", p->file,
			strerror(errno));
		return -1;
	}
	while ((rc = pcapio_next(in, &data, &caplen, &wirelen, &ts)) > 0) {
		uint8_t *f = buf + STEER_FRAME_ALIGN_OFF;
		struct pkt_meta m;
		struct pl_ev ev;

		if (caplen > PL_SNAP)
			caplen = PL_SNAP;
		if (caplen < 14 || memcmp(data, p->mac, 6))
			continue;
		memcpy(f, data, caplen);
		if (parse_packet(f, f + caplen, &cfg, &m) ||
		    !(m.flags & PKT_F_L4) || ntohs(m.key.dport) != a->port)
			continue;
		(*packets)++;
		ev.id = pl_packet_id(f, caplen, &m);
		ev.flow = flow_hash(&m.key, &pl_secret);
		ev.ts = ts;
		ev.node = (uint8_t)idx;
		ev.depth = m.depth;
		ev.hint = (m.flags & PKT_F_STEER_PRIV) &&
			  (m.priv.flags & STEER_GUE_F_HINT);
		if (pl_push(e, &ev)) {
			pcapio_close_read(in);
			return -1;
		}
	}
	pcapio_close_read(in);
	if (rc < 0)
		fprintf(stderr, "steer-pathlat: %s: damaged, read up to it\n",
			p->file);
	return 0;
}

static int pl_ev_cmp(const void *x, const void *y)
{
	const struct pl_ev *a = x, *b = y;

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

static int pl_chain_cmp(const void *x, const void *y)
{
	const struct pl_chain *a = x, *b = y;

	if (a->flow != b->flow)
		return a->flow < b->flow ? -1 : 1;
	return a->ts < b->ts ? -1 : a->ts > b->ts;
}

/*
 * Chains from the events sorted by packet and time: an unencapsulated
 * delivery starts one, each GUE delivery after it adds a hop. GUE
 * deliveries with no start in the captures are left out.
 */
static size_t pl_chains(const struct pl_evs *e, struct pl_chain *out)
{
	struct pl_chain *c = NULL;
	size_t i, n = 0;

	for (i = 0; i < e->n; i++) {
		const struct pl_ev *v = &e->v[i];

		if (i && v->id != e->v[i - 1].id)
			c = NULL;
		if (!v->depth) {
			c = &out[n++];
			*c = (struct pl_chain){.flow = v->flow,
					       .ts = v->ts,
					       .ingress = v->node,
					       .last = v->node};
			continue;
		}
		if (!c || c->hops >= PL_HOP_MAX)
			continue;
		if (!c->hops)
			c->cached = v->hint;
		c->hops++;
		c->last = v->node;
		c->lat_ns = v->ts - c->ts;
	}
	return n;
}

struct pl_lat {
	double *v;
	size_t n;
};

static int pl_dbl_cmp(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

/* The q-quantile of l (sorted here). */
static double pl_pct(struct pl_lat *l, double q)
{
	size_t i;

	if (!l->n)
		return 0;
	qsort(l->v, l->n, sizeof(*l->v), pl_dbl_cmp);
	i = (size_t)(q * (double)l->n);
	return l->v[i < l->n ? i : l->n - 1];
}

enum pl_path { PL_LOCAL, PL_DIRECT, PL_REROUTED, PL_LOST, PL_PATHS };
static const char *const pl_path_name[PL_PATHS] = {"local", "direct",
						   "rerouted", "lost"};

/* Where most of the flow's chains [lo, hi) end: its owner. */
static uint8_t pl_flow_owner(const struct pl_chain *c, size_t lo, size_t hi)
{
	unsigned cnt[PL_MAX_POINTS] = {0}, best = 0;
	size_t i;
	uint8_t k, own = c[lo].last;

	for (i = lo; i < hi; i++)
		cnt[c[i].last]++;
	for (k = 0; k < PL_MAX_POINTS; k++)
		if (cnt[k] > best) {
			best = cnt[k];
			own = k;
		}
	return own;
}

static enum pl_path pl_path_of(const struct pl_chain *c, uint8_t owner)
{
	if (c->last != owner)
		return PL_LOST;
	if (!c->hops)
		return PL_LOCAL;
	return c->hops == 1 ? PL_DIRECT : PL_REROUTED;
}

struct pl_report {
	uint64_t flows, migrations, first[PL_PATHS], first_cached;
	struct pl_lat first_lat[PL_PATHS], all_lat[PL_PATHS];
};

static void pl_account(const struct pl_args *a, struct pl_chain *c, size_t n,
		       struct pl_report *r, FILE *csv)
{
	size_t lo = 0, hi, i;

	qsort(c, n, sizeof(*c), pl_chain_cmp);
	while (lo < n) {
		uint8_t owner;

		for (hi = lo; hi < n && c[hi].flow == c[lo].flow; hi++)
			;
		owner = pl_flow_owner(c, lo, hi);
		r->flows++;
		for (i = lo; i < hi; i++) {
			enum pl_path p = pl_path_of(&c[i], owner);
			double us = (double)c[i].lat_ns / 1e3;

			r->all_lat[p].v[r->all_lat[p].n++] = us;
			if (i == lo || c[i].ingress == c[i - 1].ingress)
				continue;
			r->migrations++;
			r->first[p]++;
			r->first_lat[p].v[r->first_lat[p].n++] = us;
			r->first_cached += p == PL_DIRECT && c[i].cached;
			if (csv)
				fprintf(csv,
					"%016llx,%.6f,%s,%s,%u,%.1f,%s,%d\n",
					(unsigned long long)c[i].flow,
					(double)c[i].ts / 1e9,
					a->pt[c[i - 1].ingress].name,
					a->pt[c[i].ingress].name, c[i].hops, us,
					pl_path_name[p],
					p == PL_DIRECT && c[i].cached);
		}
		lo = hi;
	}
}

static void pl_print(struct pl_report *r)
{
	static const char *const q[2] = {"p50", "p99"};
	static const double qv[2] = {0.5, 0.99};
	int p, k;

	printf("pathlat_flows %llu flows\n", (unsigned long long)r->flows);
	printf("pathlat_migrations %llu packets\n",
	       (unsigned long long)r->migrations);
	for (p = 0; p < PL_PATHS; p++)
		printf("pathlat_first_%s %llu packets\n", pl_path_name[p],
		       (unsigned long long)r->first[p]);
	printf("pathlat_first_cached %llu packets\n",
	       (unsigned long long)r->first_cached);
	for (p = PL_DIRECT; p <= PL_REROUTED; p++)
		for (k = 0; k < 2; k++) {
			printf("pathlat_first_%s_%s_us %.1f us\n",
			       pl_path_name[p], q[k],
			       pl_pct(&r->first_lat[p], qv[k]));
			printf("pathlat_all_%s_%s_us %.1f us\n",
			       pl_path_name[p], q[k],
			       pl_pct(&r->all_lat[p], qv[k]));
		}
}

static int pl_run(const struct pl_args *a)
{
	struct pl_evs e = {0};
	struct pl_report r = {0};
	struct pl_chain *c = NULL;
	uint64_t packets = 0;
	FILE *csv = NULL;
	size_t n = 0;
	unsigned i;
	int p, ret = 1;

	for (i = 0; i < a->n_pt; i++)
		if (pl_read(a, i, &e, &packets))
			goto out;
	qsort(e.v, e.n, sizeof(*e.v), pl_ev_cmp);
	c = calloc(e.n ? e.n : 1, sizeof(*c));
	for (p = 0; c && p < PL_PATHS; p++) {
		r.first_lat[p].v = calloc(e.n ? e.n : 1, sizeof(double));
		r.all_lat[p].v = calloc(e.n ? e.n : 1, sizeof(double));
		if (!r.first_lat[p].v || !r.all_lat[p].v)
			goto out;
	}
	if (!c)
		goto out;
	n = pl_chains(&e, c);
	if (a->csv) {
		csv = fopen(a->csv, "w");
		if (!csv) {
			fprintf(stderr, "steer-pathlat: %s: %s\n", a->csv,
				strerror(errno));
			goto out;
		}
		fprintf(csv,
			"flow,time_s,from,to,hops,latency_us,path,cached\n");
	}
	printf("pathlat_packets %llu packets\n", (unsigned long long)packets);
	printf("pathlat_chains %zu packets\n", n);
	pl_account(a, c, n, &r, csv);
	pl_print(&r);
	ret = 0;
out:
	if (csv && fclose(csv))
		ret = 1;
	for (p = 0; p < PL_PATHS; p++) {
		free(r.first_lat[p].v);
		free(r.all_lat[p].v);
	}
	free(c);
	free(e.v);
	return ret;
}

int main(int argc, char **argv)
{
	struct pl_args a = {0};

	if (pl_args_parse(argc, argv, &a)) {
		pl_usage(stderr);
		return 2;
	}
	return pl_run(&a);
}
