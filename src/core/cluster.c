// SPDX-License-Identifier: GPL-2.0-only
#include "core/cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Directives allowed once; their slot holds the line that set them. */
enum {
	ONCE_CLUSTER,
	ONCE_SELF,
	ONCE_GUE_PORT,
	ONCE_MTU,
	ONCE_FSC,
	ONCE_REPLICATION,
	ONCE_OWNERSHIP,
	ONCE_REPL_POLICY,
	ONCE_REPL_CHAIN,
	ONCE_FLOOD_GUARD,
	ONCE_CELL_PORTS,
	ONCE_N
};

/* Keys of node and backend lines; backends know all, nodes the first 5. */
enum { KV_ID, KV_ADDR, KV_ADDR6, KV_MAC, KV_VIA, KV_ENCAP, KV_PORT, KV_WEIGHT };
#define KV_NODE_N 5
#define KV_BACKEND_N 8

/* State of one load; names that may point forward wait here. */
struct cluster_loader {
	struct cluster *c;
	uint32_t cap_gateways, cap_nodes, cap_backends, cap_services;
	unsigned int once[ONCE_N];
	char self[CLUSTER_NAME_MAX];
	char *lists[CLUSTER_MAX_SERVICES]; /* each service's "b1,b2" */
};

static int cluster_grow(void **arr, uint32_t n, uint32_t *cap, size_t size)
{
	uint32_t ncap = *cap ? *cap * 2 : 8;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, (size_t)ncap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Nodes and backends begin with their endpoint. */
static const struct cluster_endpoint *cluster_ep_at(const void *arr, size_t i,
						    size_t stride)
{
	return (const void *)((const char *)arr + i * stride);
}

_Static_assert(offsetof(struct cluster_node, ep) == 0 &&
		       offsetof(struct cluster_backend, ep) == 0 &&
		       offsetof(struct cluster_endpoint, name) == 0 &&
		       offsetof(struct cluster_service, name) == 0 &&
		       offsetof(struct cluster_gateway, name) == 0,
	       "the lookups need the name and endpoint first");

/* Line of whatever already carries name (its kind in *kind), or 0. */
static unsigned int cluster_name_line(const struct cluster *c, const char *name,
				      const char **kind)
{
	const struct cluster_gateway *g = cluster_gateway_by_name(c, name);
	const struct cluster_node *n = cluster_node_by_name(c, name);
	const struct cluster_backend *b = cluster_backend_by_name(c, name);
	const struct cluster_service *s = cluster_service_by_name(c, name);

	*kind = g ? "gateway" : n ? "node" : b ? "backend" : "service";
	return g ? g->line : n ? n->ep.line : b ? b->ep.line : s ? s->line : 0;
}

/*
 * Reads the head of a "KIND NAME key value ..." line: room for one more
 * of its kind (count < max), a valid name nobody uses yet, the pairs.
 */
static int cluster_head_parse(const struct cluster *c, struct conf_line *l,
			      uint32_t count, uint32_t max,
			      char name[CLUSTER_NAME_MAX], struct conf_kv *kv,
			      size_t nkv)
{
	const char *kind;
	unsigned int line;
	int rc;

	if (count >= max)
		return conf_errorf(l, "more than %u %ss", max, l->argv[0]);
	rc = conf_parse_ident(l, l->argv[0], l->argc > 1 ? l->argv[1] : NULL,
			      name);
	if (rc)
		return rc;
	line = cluster_name_line(c, name, &kind);
	if (line)
		return conf_errorf(
			l, "name '%s' is already used by the %s on line %u",
			name, kind, line);
	return conf_parse_kv(l, 2, kv, nkv);
}

/* A directive allowed once, with exactly nargs values (nargs < 0: any). */
static int cluster_once(struct cluster_loader *ld, struct conf_line *l,
			int slot, int nargs)
{
	if (ld->once[slot])
		return conf_errorf(l, "'%s' already set on line %u", l->argv[0],
				   ld->once[slot]);
	ld->once[slot] = l->lineno;
	return nargs < 0 ? 0 : conf_expect_nargs(l, nargs);
}

static int h_cluster(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	int rc = cluster_once(ld, l, ONCE_CLUSTER, 1);

	return rc ? rc
		  : conf_parse_ident(l, "cluster", l->argv[1], ld->c->name);
}

static int h_self(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	int rc = cluster_once(ld, l, ONCE_SELF, 1);

	return rc ? rc : conf_parse_ident(l, "self", l->argv[1], ld->self);
}

static int h_gue_port(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	int rc = cluster_once(ld, l, ONCE_GUE_PORT, 1);

	return rc ? rc
		  : conf_parse_port(l, "gue-port", l->argv[1], false,
				    &ld->c->gue_port);
}

/* cell-ports CONTROL REPLICATION: every node's, so the cluster's. */
static int h_cell_ports(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	int rc = cluster_once(ld, l, ONCE_CELL_PORTS, 2);

	if (!rc)
		rc = conf_parse_port(l, "cell-ports", l->argv[1], false,
				     &ld->c->cell_ctl_port);
	if (!rc)
		rc = conf_parse_port(l, "cell-ports", l->argv[2], false,
				     &ld->c->repl_port);
	return rc;
}

static int h_mtu(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	int rc = cluster_once(ld, l, ONCE_MTU, 1);

	return rc ? rc
		  : conf_parse_u32(l, "mtu", l->argv[1], CLUSTER_MTU_MIN,
				   CLUSTER_MTU_MAX, &ld->c->mtu);
}

static int h_replication(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	int rc = cluster_once(ld, l, ONCE_REPLICATION, 1);

	return rc ? rc
		  : conf_parse_u32(l, "replication", l->argv[1], 1,
				   CLUSTER_REPLICATION_MAX,
				   &ld->c->replication);
}

/* ownership flood|directory [homes N] */
static int h_ownership(struct conf_line *l, void *ctx)
{
	static const char *const modes[] = {"flood", "directory", NULL};
	struct cluster_loader *ld = ctx;
	struct conf_kv kv[] = {{.key = "homes"}};
	uint32_t homes = ld->c->dir_homes;
	int rc, mode;

	rc = cluster_once(ld, l, ONCE_OWNERSHIP, -1);
	if (!rc && l->argc < 2)
		rc = conf_expect_nargs(l, 1);
	if (!rc)
		rc = conf_parse_enum(l, "ownership", l->argv[1], modes, &mode);
	if (!rc)
		rc = conf_parse_kv(l, 2, kv, 1);
	if (!rc && kv[0].value)
		rc = conf_parse_u32(l, "homes", kv[0].value, 1,
				    CLUSTER_DIR_HOMES_MAX, &homes);
	if (rc)
		return rc;
	ld->c->ownership = (uint8_t)mode;
	ld->c->dir_homes = (uint8_t)homes;
	return 0;
}

/* replication-policy fixed|predicted [threshold PERMILLE] [horizon S] */
static int h_repl_policy(struct conf_line *l, void *ctx)
{
	static const char *const modes[] = {"fixed", "predicted", NULL};
	struct cluster_loader *ld = ctx;
	struct conf_kv kv[] = {{.key = "threshold"}, {.key = "horizon"}};
	uint32_t thr = ld->c->repl_threshold, hz = ld->c->repl_horizon_s;
	int rc, mode;

	rc = cluster_once(ld, l, ONCE_REPL_POLICY, -1);
	if (!rc && l->argc < 2)
		rc = conf_expect_nargs(l, 1);
	if (!rc)
		rc = conf_parse_enum(l, "replication-policy", l->argv[1], modes,
				     &mode);
	if (!rc)
		rc = conf_parse_kv(l, 2, kv, 2);
	if (!rc && kv[0].value)
		rc = conf_parse_u32(l, "threshold", kv[0].value, 1, 1000, &thr);
	if (!rc && kv[1].value)
		rc = conf_parse_u32(l, "horizon", kv[1].value, 1, 3600, &hz);
	if (rc)
		return rc;
	ld->c->repl_policy = (uint8_t)mode;
	ld->c->repl_threshold = (uint16_t)thr;
	ld->c->repl_horizon_s = hz;
	return 0;
}

/* replication-chain on|off */
static int h_repl_chain(struct conf_line *l, void *ctx)
{
	static const char *const modes[] = {"off", "on", NULL};
	struct cluster_loader *ld = ctx;
	int rc, mode;

	rc = cluster_once(ld, l, ONCE_REPL_CHAIN, 1);
	if (!rc)
		rc = conf_parse_enum(l, "replication-chain", l->argv[1], modes,
				     &mode);
	if (rc)
		return rc;
	ld->c->repl_chain = mode == 1;
	return 0;
}

/* flood-guard off|stateless|drop [rate N] [burst N] [source-rate N]
 * [source-burst N] */
static int h_flood_guard(struct conf_line *l, void *ctx)
{
	static const char *const modes[] = {"off", "stateless", "drop", NULL};
	struct cluster_loader *ld = ctx;
	struct cluster_guard *g = &ld->c->guard;
	struct conf_kv kv[] = {{.key = "rate"},
			       {.key = "burst"},
			       {.key = "source-rate"},
			       {.key = "source-burst"}};
	uint32_t *v[] = {&g->rate, &g->burst, &g->src_rate, &g->src_burst};
	int rc, mode, i;

	rc = cluster_once(ld, l, ONCE_FLOOD_GUARD, -1);
	if (!rc && l->argc < 2)
		rc = conf_expect_nargs(l, 1);
	if (!rc)
		rc = conf_parse_enum(l, "flood-guard", l->argv[1], modes,
				     &mode);
	if (!rc)
		rc = conf_parse_kv(l, 2, kv, 4);
	for (i = 0; !rc && i < 4; i++)
		if (kv[i].value)
			rc = conf_parse_u32(l, kv[i].key, kv[i].value,
					    i == 2 ? 0 : 1, CLUSTER_GUARD_MAX,
					    v[i]);
	if (!rc && g->src_rate && !kv[3].value)
		g->src_burst = g->src_rate / 10 ? g->src_rate / 10 : 1;
	if (rc)
		return rc;
	g->policy = (uint8_t)mode;
	return 0;
}

static int h_fsc(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	struct cluster_fsc *f = &ld->c->fsc;
	struct conf_kv kv[] = {
		{.key = "capacity"},
		{.key = "tcp-timeout"},
		{.key = "tcp-closing-timeout"},
		{.key = "udp-timeout"},
		{.key = "other-timeout"},
	};
	uint32_t *ms[] = {&f->tcp_timeout_ms, &f->tcp_closing_timeout_ms,
			  &f->udp_timeout_ms, &f->other_timeout_ms};
	uint32_t s;
	int rc, i;

	rc = cluster_once(ld, l, ONCE_FSC, -1);
	if (!rc)
		rc = conf_parse_kv(l, 1, kv, 5);
	if (!rc && kv[0].value)
		rc = conf_parse_u32(l, kv[0].key, kv[0].value, CLUSTER_FSC_MIN,
				    CLUSTER_FSC_MAX, &f->capacity);
	/* Timeouts are written in seconds and kept in milliseconds. */
	for (i = 0; !rc && i < 4; i++) {
		if (!kv[i + 1].value)
			continue;
		rc = conf_parse_u32(l, kv[i + 1].key, kv[i + 1].value, 1,
				    CLUSTER_TIMEOUT_MAX_S, &s);
		*ms[i] = rc ? *ms[i] : s * 1000;
	}
	return rc;
}

static int h_gateway(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	struct cluster *c = ld->c;
	struct conf_kv kv[] = {{.key = "mac"}};
	struct cluster_gateway g = {.line = l->lineno};
	int rc;

	rc = cluster_head_parse(c, l, c->n_gateways, CLUSTER_MAX_GATEWAYS,
				g.name, kv, 1);
	if (!rc && !kv[0].value)
		rc = conf_errorf(l, "gateway '%s' needs 'mac'", g.name);
	if (!rc)
		rc = conf_parse_mac(l, "mac", kv[0].value, g.mac);
	if (!rc)
		rc = cluster_grow((void **)&c->gateways, c->n_gateways,
				  &ld->cap_gateways, sizeof(g));
	if (!rc)
		c->gateways[c->n_gateways++] = g;
	return rc;
}

/* Fills ep from the keys nodes and backends share, checking their rules. */
static int cluster_ep_parse(struct conf_line *l, const struct conf_kv *kv,
			    struct cluster_endpoint *ep)
{
	const char *kind = l->argv[0];
	uint32_t id;
	int rc;

	if (!kv[KV_ID].value)
		return conf_errorf(l, "%s '%s' needs 'id'", kind, ep->name);
	if (!kv[KV_ADDR].value && !kv[KV_ADDR6].value)
		return conf_errorf(l, "%s '%s' needs 'addr' or 'addr6'", kind,
				   ep->name);
	if (kv[KV_MAC].value && kv[KV_VIA].value)
		return conf_errorf(l, "%s '%s' has both 'mac' and 'via'", kind,
				   ep->name);
	if (!kv[KV_MAC].value && !kv[KV_VIA].value)
		return conf_errorf(l, "%s '%s' needs 'mac' or 'via'", kind,
				   ep->name);
	rc = conf_parse_u32(l, "id", kv[KV_ID].value, 0, CLUSTER_ID_MAX, &id);
	ep->id = (uint16_t)id;
	ep->has_v4 = kv[KV_ADDR].value != NULL;
	ep->has_v6 = kv[KV_ADDR6].value != NULL;
	if (!rc && ep->has_v4)
		rc = conf_parse_addr(l, "addr", kv[KV_ADDR].value, 4,
				     &ep->addr4, NULL);
	if (!rc && ep->has_v6)
		rc = conf_parse_addr(l, "addr6", kv[KV_ADDR6].value, 6,
				     &ep->addr6, NULL);
	if (!rc && kv[KV_MAC].value)
		rc = conf_parse_mac(l, "mac", kv[KV_MAC].value, ep->mac);
	if (!rc && kv[KV_VIA].value)
		rc = conf_parse_ident(l, "via", kv[KV_VIA].value, ep->via);
	return rc;
}

static bool cluster_addr_eq(const struct flow_addr *a,
			    const struct flow_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* Ids and addresses are unique among the endpoints of one kind. */
static int cluster_ep_unique(struct conf_line *l,
			     const struct cluster_endpoint *ep, const void *arr,
			     uint32_t n, size_t stride)
{
	const char *kind = l->argv[0];
	char buf[INET6_ADDRSTRLEN];
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct cluster_endpoint *o =
			cluster_ep_at(arr, i, stride);

		if (o->id == ep->id)
			return conf_errorf(
				l,
				"%s '%s' has id %u, already used by %s '%s' on line %u",
				kind, ep->name, ep->id, kind, o->name, o->line);
		if (ep->has_v4 && o->has_v4 &&
		    cluster_addr_eq(&ep->addr4, &o->addr4))
			inet_ntop(AF_INET, &ep->addr4.w[3], buf, sizeof(buf));
		else if (ep->has_v6 && o->has_v6 &&
			 cluster_addr_eq(&ep->addr6, &o->addr6))
			inet_ntop(AF_INET6, ep->addr6.b, buf, sizeof(buf));
		else
			continue;
		return conf_errorf(
			l,
			"%s '%s' has address %s, already used by %s '%s' on line %u",
			kind, ep->name, buf, kind, o->name, o->line);
	}
	return 0;
}

/* The keys only backends have: encap, port, weight. */
static int cluster_backend_parse(struct conf_line *l, const struct conf_kv *kv,
				 struct cluster_backend *b)
{
	static const char *const encaps[] = {"ipip", "gue", NULL};
	int e, rc;

	if (!kv[KV_ENCAP].value)
		return conf_errorf(l,
				   "backend '%s' needs 'encap' (ipip or gue)",
				   b->ep.name);
	rc = conf_parse_enum(l, "encap", kv[KV_ENCAP].value, encaps, &e);
	if (rc)
		return rc;
	b->encap = e == 0 ? STEER_TMPL_IPIP : STEER_TMPL_GUE1;
	if (kv[KV_PORT].value && b->encap != STEER_TMPL_GUE1)
		return conf_errorf(l, "'port' applies only to 'encap gue'");
	if (kv[KV_PORT].value)
		rc = conf_parse_port(l, "port", kv[KV_PORT].value, false,
				     &b->port);
	if (!rc && kv[KV_WEIGHT].value)
		rc = conf_parse_u32(l, "weight", kv[KV_WEIGHT].value, 1, 65535,
				    &b->weight);
	return rc;
}

/* "node ..." and "backend ...": a backend is a node plus encap keys. */
static int h_endpoint(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	struct cluster *c = ld->c;
	bool node = !strcmp(l->argv[0], "node");
	struct conf_kv kv[KV_BACKEND_N] = {
		[KV_ID] = {.key = "id"},       [KV_ADDR] = {.key = "addr"},
		[KV_ADDR6] = {.key = "addr6"}, [KV_MAC] = {.key = "mac"},
		[KV_VIA] = {.key = "via"},     [KV_ENCAP] = {.key = "encap"},
		[KV_PORT] = {.key = "port"},   [KV_WEIGHT] = {.key = "weight"},
	};
	struct cluster_backend b = {.ep = {.line = l->lineno, .gateway = -1},
				    .weight = 1};
	int rc;

	if (node)
		rc = cluster_head_parse(c, l, c->n_nodes, CLUSTER_MAX_NODES,
					b.ep.name, kv, KV_NODE_N);
	else
		rc = cluster_head_parse(c, l, c->n_backends,
					CLUSTER_MAX_BACKENDS, b.ep.name, kv,
					KV_BACKEND_N);
	if (!rc)
		rc = cluster_ep_parse(l, kv, &b.ep);
	if (!rc && !node)
		rc = cluster_backend_parse(l, kv, &b);
	if (rc)
		return rc;
	if (node) {
		rc = cluster_ep_unique(l, &b.ep, c->nodes, c->n_nodes,
				       sizeof(*c->nodes));
		if (!rc)
			rc = cluster_grow((void **)&c->nodes, c->n_nodes,
					  &ld->cap_nodes, sizeof(*c->nodes));
		if (!rc)
			c->nodes[c->n_nodes++].ep = b.ep;
		return rc;
	}
	rc = cluster_ep_unique(l, &b.ep, c->backends, c->n_backends, sizeof(b));
	if (!rc)
		rc = cluster_grow((void **)&c->backends, c->n_backends,
				  &ld->cap_backends, sizeof(b));
	if (!rc)
		c->backends[c->n_backends++] = b;
	return rc;
}

/* "b1,b2": names joined by single commas, nothing else. */
static bool cluster_list_valid(const char *s)
{
	const char *comma;

	for (;; s = comma + 1) {
		comma = strchr(s, ',');
		if (!conf_ident_valid(s,
				      comma ? (size_t)(comma - s) : strlen(s)))
			return false;
		if (!comma)
			return true;
	}
}

static int cluster_service_unique(struct conf_line *l, const struct cluster *c,
				  const struct cluster_service *s)
{
	uint32_t i;

	for (i = 0; i < c->n_services; i++) {
		const struct cluster_service *o = &c->services[i];

		if (o->proto == s->proto && o->port == s->port &&
		    cluster_addr_eq(&o->vip, &s->vip))
			return conf_errorf(
				l,
				"service '%s' has the vip, proto and port of service '%s' on line %u",
				s->name, o->name, o->line);
	}
	return 0;
}

/* Cell mode's keys of a service: they need backends. */
static int cluster_service_cell_opts(struct conf_line *l,
				     struct cluster_service *s, const char *rf,
				     const char *mirror)
{
	static const char *const modes[] = {"none", "state-changes", "all",
					    NULL};
	uint32_t v;
	int m, rc;

	s->mirror_pkts = CLUSTER_MIRROR_STATE;
	if (rf) {
		rc = conf_parse_u32(l, "replication", rf, 1,
				    CLUSTER_REPLICATION_MAX, &v);
		if (rc)
			return rc;
		s->replication = (uint8_t)v;
	}
	if (mirror) {
		rc = conf_parse_enum(l, "mirror-packets", mirror, modes, &m);
		if (rc)
			return rc;
		s->mirror_pkts = (uint8_t)m;
	}
	return 0;
}

static int h_service(struct conf_line *l, void *ctx)
{
	struct cluster_loader *ld = ctx;
	struct cluster *c = ld->c;
	struct conf_kv kv[] = {
		{.key = "proto"},	{.key = "vip"},
		{.key = "port"},	{.key = "backends"},
		{.key = "replication"}, {.key = "mirror-packets"}};
	struct cluster_service s = {.line = l->lineno};
	int i, fam = 0, rc;

	rc = cluster_head_parse(c, l, c->n_services, CLUSTER_MAX_SERVICES,
				s.name, kv, 6);
	/* Without backends the nodes terminate the service themselves
	 * (host mode): its sessions are the ones gossiped. */
	for (i = 0; !rc && i < 3; i++)
		if (!kv[i].value)
			return conf_errorf(l, "service '%s' needs '%s'%s",
					   s.name, kv[i].key,
					   i == 2 ? " (0 for any port)" : "");
	if (!rc)
		rc = conf_parse_proto(l, "proto", kv[0].value, &s.proto);
	if (!rc)
		rc = conf_parse_addr(l, "vip", kv[1].value, 0, &s.vip, &fam);
	if (!rc)
		rc = conf_parse_port(l, "port", kv[2].value, true, &s.port);
	if (!rc && kv[3].value && !cluster_list_valid(kv[3].value))
		rc = conf_expect(l, "backends",
				 "backend names joined by commas like b1,b2",
				 kv[3].value);
	if (!rc && !kv[3].value && (kv[4].value || kv[5].value))
		rc = conf_errorf(
			l, "service '%s': '%s' needs 'backends'", s.name,
			kv[4].value ? "replication" : "mirror-packets");
	if (!rc)
		rc = cluster_service_cell_opts(l, &s, kv[4].value, kv[5].value);
	if (!rc)
		rc = cluster_service_unique(l, c, &s);
	if (!rc)
		rc = cluster_grow((void **)&c->services, c->n_services,
				  &ld->cap_services, sizeof(s));
	if (rc)
		return rc;
	if (kv[3].value) {
		ld->lists[c->n_services] = strdup(kv[3].value);
		if (!ld->lists[c->n_services])
			return -ENOMEM;
	}
	s.family = (uint8_t)fam;
	c->services[c->n_services++] = s;
	return 0;
}

static const struct conf_directive cluster_directives[] = {
	{"cluster", h_cluster, "NAME: the cluster's name"},
	{"self", h_self, "NODE: the node this process runs on"},
	{"gue-port", h_gue_port, "PORT: UDP port of GUE (6080)"},
	{"cell-ports", h_cell_ports,
	 "CONTROL REPLICATION: cell mode, the cells' UDP control port (rules "
	 "to and from the fast paths, mirrored packets, queries) and TCP "
	 "replication port (6092 6093); the control port is not gue-port"},
	{"mtu", h_mtu, "BYTES: largest L3 packet (576..9216, 1500)"},
	{"replication", h_replication,
	 "N: copies of each flow's state, primary included (1..3, 1)"},
	{"ownership", h_ownership,
	 "flood|directory [homes N]: host mode, how sessions' owners are "
	 "found: every node told of every session (flood), or each "
	 "session's record on N home nodes (1..3, 2)"},
	{"replication-policy", h_repl_policy,
	 "fixed|predicted [threshold PERMILLE] [horizon S]: cell mode, each "
	 "flow's copies: its service's replication (fixed), or one until the "
	 "state prediction engine gives it threshold (50) permille of living "
	 "horizon (10) s longer or its backend stops being the hash's pick "
	 "(predicted)"},
	{"replication-chain", h_repl_chain,
	 "on|off: cell mode, each shard's replication stream a hash chain "
	 "its mirrors check, asking for the shard again when a batch is "
	 "lost, repeated, out of order or altered (on)"},
	{"flood-guard", h_flood_guard,
	 "off|stateless|drop [rate N] [burst N] [source-rate N] "
	 "[source-burst N]: new flows a second per core above which a "
	 "node's fast path makes no state for a flow (stateless: sent on "
	 "by the hash; drop: a SYN is dropped) (stateless, rate 100000, "
	 "burst 10000; a source's budget off unless source-rate is given, "
	 "its burst a tenth of it)"},
	{"fsc", h_fsc,
	 "capacity N tcp-timeout S tcp-closing-timeout S udp-timeout S "
	 "other-timeout S"},
	{"gateway", h_gateway, "NAME mac MAC"},
	{"node", h_endpoint, "NAME id N addr IP addr6 IP6 mac MAC|via GW"},
	{"backend", h_endpoint,
	 "NAME id N addr IP addr6 IP6 mac MAC|via GW encap ipip|gue "
	 "[port P] [weight W]"},
	{"service", h_service,
	 "NAME proto tcp|udp vip IP port P(0 = any) [backends B1,B2] "
	 "[replication N] [mirror-packets none|state-changes|all]"},
	{NULL, NULL, NULL},
};

/* Turns the "b1,b2" list of service s into backend indices. */
static int cluster_list_resolve(struct conf_line *l, struct cluster *c,
				struct cluster_service *s, char *list)
{
	const struct cluster_backend *b;
	uint32_t n = 1, i, idx;
	char *p, *save;

	for (p = list; *p; p++)
		n += *p == ',';
	s->backends = calloc(n, sizeof(*s->backends));
	if (!s->backends)
		return -ENOMEM;
	for (p = strtok_r(list, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		b = cluster_backend_by_name(c, p);
		if (!b)
			return conf_expect(l, "backends", "a declared backend",
					   p);
		idx = (uint32_t)(b - c->backends);
		for (i = 0; i < s->n_backends; i++)
			if (s->backends[i] == idx)
				return conf_errorf(
					l, "'backends' lists '%s' twice", p);
		s->backends[s->n_backends++] = idx;
	}
	return 0;
}

/* Points ep at the gateway it names, if any. */
static int cluster_via_resolve(struct conf_line *l, const struct cluster *c,
			       struct cluster_endpoint *ep)
{
	const struct cluster_gateway *g;

	if (!ep->via[0])
		return 0;
	g = cluster_gateway_by_name(c, ep->via);
	l->lineno = ep->line;
	if (!g)
		return conf_expect(l, "via", "a declared gateway", ep->via);
	ep->gateway = (int)(g - c->gateways);
	return 0;
}

/*
 * A cell's control socket and its exception socket (the GUE port) are
 * both UDP on the same address: they cannot share a port, whichever of
 * gue-port and cell-ports set it.
 */
static int cluster_ports_check(const struct cluster_loader *ld,
			       struct conf_line *l)
{
	const struct cluster *c = ld->c;

	if (c->cell_ctl_port != c->gue_port)
		return 0;
	l->lineno = ld->once[ONCE_CELL_PORTS] ? ld->once[ONCE_CELL_PORTS]
					      : ld->once[ONCE_GUE_PORT];
	return conf_errorf(l,
			   "gue-port and the cell control port (cell-ports) "
			   "are both %u: a cell binds both in UDP",
			   ntohs(c->gue_port));
}

/* Whole-file checks and the names that could point forward. */
static int cluster_finish(struct cluster_loader *ld, const char *file,
			  char *err, size_t errlen)
{
	struct conf_line l = {.file = file, .err = err, .errlen = errlen};
	struct cluster *c = ld->c;
	uint32_t i;
	const struct cluster_node *self;
	int rc = 0;

	if (!c->n_nodes)
		return conf_errorf(&l, "no 'node' declared");
	if (!ld->once[ONCE_SELF])
		return conf_errorf(&l, "no 'self' directive");
	l.lineno = ld->once[ONCE_SELF];
	self = cluster_node_by_name(c, ld->self);
	if (!self)
		return conf_expect(&l, "self", "a declared node", ld->self);
	c->self = (uint32_t)(self - c->nodes);
	rc = cluster_ports_check(ld, &l);
	for (i = 0; !rc && i < c->n_nodes; i++)
		rc = cluster_via_resolve(&l, c, &c->nodes[i].ep);
	for (i = 0; !rc && i < c->n_backends; i++) {
		rc = cluster_via_resolve(&l, c, &c->backends[i].ep);
		if (c->backends[i].encap == STEER_TMPL_GUE1 &&
		    !c->backends[i].port)
			c->backends[i].port = c->gue_port;
	}
	for (i = 0; !rc && i < c->n_services; i++) {
		l.lineno = c->services[i].line;
		if (ld->lists[i])
			rc = cluster_list_resolve(&l, c, &c->services[i],
						  ld->lists[i]);
	}
	return rc;
}

static int cluster_load_any(struct cluster *c, const char *path,
			    const char *text, size_t len, char *err,
			    size_t errlen)
{
	struct cluster_loader ld = {.c = c};
	uint32_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	strcpy(c->name, "steer");
	c->gue_port = htons(CLUSTER_GUE_PORT_DEFAULT);
	c->cell_ctl_port = htons(CLUSTER_CELL_CTL_PORT_DEFAULT);
	c->repl_port = htons(CLUSTER_REPL_PORT_DEFAULT);
	c->mtu = 1500;
	c->replication = 1;
	c->dir_homes = CLUSTER_DIR_HOMES_DEFAULT;
	c->repl_threshold = CLUSTER_REPL_THRESHOLD_DEFAULT;
	c->repl_horizon_s = CLUSTER_REPL_HORIZON_DEFAULT;
	c->repl_chain = CLUSTER_REPL_CHAIN_DEFAULT;
	c->guard = (struct cluster_guard){.policy = CLUSTER_GUARD_STATELESS,
					  .rate = CLUSTER_GUARD_RATE_DEFAULT,
					  .burst = CLUSTER_GUARD_BURST_DEFAULT};
	c->fsc = (struct cluster_fsc){.capacity = 65536,
				      .tcp_timeout_ms = 300 * 1000,
				      .tcp_closing_timeout_ms = 10 * 1000,
				      .udp_timeout_ms = 30 * 1000,
				      .other_timeout_ms = 30 * 1000};
	if (text)
		rc = conf_parse_buf(path, text, len, cluster_directives, &ld,
				    err, errlen);
	else
		rc = conf_parse_file(path, cluster_directives, &ld, err,
				     errlen);
	if (!rc)
		rc = cluster_finish(&ld, path, err, errlen);
	for (i = 0; i < CLUSTER_MAX_SERVICES; i++)
		free(ld.lists[i]);
	if (rc)
		cluster_free(c);
	return rc;
}

int cluster_load(struct cluster *c, const char *path, char *err, size_t errlen)
{
	return cluster_load_any(c, path, NULL, 0, err, errlen);
}

int cluster_load_buf(struct cluster *c, const char *file, const char *text,
		     size_t len, char *err, size_t errlen)
{
	return cluster_load_any(c, file, text ? text : "", len, err, errlen);
}

void cluster_free(struct cluster *c)
{
	uint32_t i;

	for (i = 0; i < c->n_services; i++)
		free(c->services[i].backends);
	free(c->services);
	free(c->backends);
	free(c->nodes);
	free(c->gateways);
	memset(c, 0, sizeof(*c));
}

uint32_t cluster_service_rf(const struct cluster *c,
			    const struct cluster_service *s)
{
	return s->replication ? s->replication : c->replication;
}

uint32_t cluster_rf_max(const struct cluster *c)
{
	uint32_t i, rf = c->replication;

	for (i = 0; i < c->n_services; i++)
		if (c->services[i].replication > rf)
			rf = c->services[i].replication;
	return rf;
}
