/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The static cluster description: which nodes make the fabric, which one
 * this is, the gateways to other broadcast domains, the backends and the
 * services (VIPs) they serve, and the fast-path settings. Read by
 * steer-replay and steerd from a file in the conf syntax (util/conf.h),
 * every directive being "KIND NAME key value ...":
 *
 *   cluster demo
 *   self n1
 *   gue-port 6080
 *   cell-ports 6092 6093                  (cell mode: control, replication)
 *   mtu 1500
 *   replication 2                         (primary + mirrors, 1..3)
 *   ownership directory homes 2           (host mode: flood | directory)
 *   replication-policy predicted threshold 50 horizon 10
 *                                         (cell mode: fixed | predicted)
 *   replication-chain on                  (cell mode: each shard's
 *                                         replication a hash chain)
 *   flood-guard stateless rate 100000 burst 10000 source-rate 1000
 *                                         (off | stateless | drop)
 *   fsc capacity 65536 tcp-timeout 300 tcp-closing-timeout 10
 *       udp-timeout 30 other-timeout 30          (one line; seconds)
 *   gateway gw1 mac 02:00:00:00:00:fe
 *   node n1 id 1 addr 198.18.0.1 addr6 2001:db8::1 mac 02:00:00:00:00:01
 *   node n5 id 5 addr 198.19.1.5 via gw1
 *   backend b1 id 1 addr 198.18.1.1 mac 02:00:00:00:01:01 encap ipip
 *   backend b2 id 2 addr6 2001:db8:1::2 via gw1 encap gue port 6080 weight 2
 *   service web proto tcp vip 10.0.0.1 port 80 backends b1,b2
 *       replication 3 mirror-packets all   (cell mode; the defaults are
 *       the cluster's replication and state-changes)
 *   service echo proto udp vip 10.0.0.2 port 7 (no backends: the nodes
 *       terminate it themselves, host mode; its sessions are gossiped)
 *
 * Names are unique across all kinds; ids are unique per kind (nodes,
 * backends) in 0..65534. References (self, via, backends) may point
 * forward: they are resolved once the whole file is read.
 * Defaults: cluster name "steer", gue-port 6080, cell-ports 6092 6093,
 * mtu 1500, replication 1, the fsc values above, backend weight 1, GUE
 * backend port = gue-port.
 */
#ifndef STEER_CLUSTER_H
#define STEER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "steer/flow.h"
#include "steer/tmpl.h"
#include "util/conf.h"

#define CLUSTER_NAME_MAX CONF_NAME_MAX
#define CLUSTER_MAX_GATEWAYS 64
#define CLUSTER_MAX_NODES 256
#define CLUSTER_MAX_BACKENDS 1024
#define CLUSTER_MAX_SERVICES 256
#define CLUSTER_ID_MAX 65534 /* 65535 is kept for "no node" */
#define CLUSTER_MTU_MIN 576
#define CLUSTER_MTU_MAX 9216
#define CLUSTER_FSC_MIN 64
#define CLUSTER_FSC_MAX (1u << 24)
#define CLUSTER_TIMEOUT_MAX_S 86400
/*
 * Default ports. GUE's is the one IANA assigned to GUE (6080/udp). The
 * cells' own sit in 6089-6098, a block IANA has assigned to nobody (TCP
 * and UDP) and that no widely deployed software is known to take; they
 * used to be 6081 (IANA's Geneve, which Open vSwitch and the kernel's
 * geneve devices bind) and 6082 (IANA's p25cai, and Varnish's admin
 * CLI). gossip-port (steerd_conf.h) takes 6091 from the same block,
 * away from serf's and memberlist's 7946. They are outside Linux's
 * ephemeral range (32768-60999), so a connect() never holds them.
 */
#define CLUSTER_GUE_PORT_DEFAULT 6080
#define CLUSTER_CELL_CTL_PORT_DEFAULT 6092 /* UDP */
#define CLUSTER_REPL_PORT_DEFAULT 6093	   /* TCP */
#define CLUSTER_REPLICATION_MAX 3	   /* primary + STEER_MAX_MIRRORS */

struct cluster_gateway {
	char name[CLUSTER_NAME_MAX];
	uint8_t mac[6];
	unsigned int line; /* where it is declared, for messages */
};

/* What nodes and backends share: identity, addresses, the way to reach. */
struct cluster_endpoint {
	char name[CLUSTER_NAME_MAX];
	uint16_t id;
	bool has_v4;
	bool has_v6;
	struct flow_addr addr4;	    /* v4-mapped; valid when has_v4 */
	struct flow_addr addr6;	    /* valid when has_v6 */
	uint8_t mac[6];		    /* own MAC; zero when behind a gateway */
	char via[CLUSTER_NAME_MAX]; /* its gateway's name; "" on the link */
	int gateway; /* index in cluster.gateways, -1: same link */
	unsigned int line;
};

struct cluster_node {
	struct cluster_endpoint ep;
};

struct cluster_backend {
	struct cluster_endpoint ep;
	enum steer_tmpl_kind encap; /* STEER_TMPL_IPIP or STEER_TMPL_GUE1 */
	__be16 port;		    /* GUE destination port; 0 for IPIP */
	uint32_t weight;	    /* 1..65535, relative share */
};

struct cluster;

struct cluster_service {
	char name[CLUSTER_NAME_MAX];
	uint8_t proto;	      /* STEER_IPPROTO_TCP or STEER_IPPROTO_UDP */
	uint8_t family;	      /* of the VIP: 4 or 6 */
	struct flow_addr vip; /* v4-mapped for IPv4 */
	__be16 port;	      /* 0: any port */
	uint32_t *backends;   /* indices in cluster.backends, file order */
	uint32_t n_backends;
	/* Cell mode: copies of each flow's state (0: the cluster's). */
	uint8_t replication;
	uint8_t mirror_pkts; /* enum cluster_mirror_pkts */
	unsigned int line;
};

/* The replication factor of service s's flows. */
uint32_t cluster_service_rf(const struct cluster *c,
			    const struct cluster_service *s);
/* The largest replication factor of any service: the shard map's. */
uint32_t cluster_rf_max(const struct cluster *c);

/*
 * Cell mode: which packets of a service's flows reach its mirror cells
 * besides the state itself. STATE: those that change the flow's state
 * (its first packet, SYN, FIN, RST), the default; ALL: every packet, the
 * fast path then sends every packet through the primary cell.
 */
enum cluster_mirror_pkts {
	CLUSTER_MIRROR_NONE = 0,
	CLUSTER_MIRROR_STATE = 1,
	CLUSTER_MIRROR_ALL = 2,
};

/* Flow State Cache sizing and idle timeouts. */
struct cluster_fsc {
	uint32_t capacity;
	uint32_t tcp_timeout_ms;
	uint32_t tcp_closing_timeout_ms;
	uint32_t udp_timeout_ms;
	uint32_t other_timeout_ms;
};

/*
 * Host mode: how a node finds a session's owner. FLOOD: every session is
 * gossiped to every node. DIRECTORY: a session's record lives on a few
 * home nodes (rendezvous hashing of its shard); a node that does not
 * know a session sends its packets to the home (gossip/gossip_dir.h).
 */
enum cluster_ownership {
	CLUSTER_OWN_FLOOD = 0,
	CLUSTER_OWN_DIRECTORY = 1,
};
/*
 * Cell mode, how many copies a flow's state gets. FIXED: its service's
 * replication. PREDICTED: the state prediction engine's choice between 1
 * and the service's replication: one copy (no mirror) for a flow it
 * expects to end within the horizon and whose state a successor can
 * decide again (its backend the one the hash picks now); the service's
 * replication for the rest, and for a flow once it lives on or its
 * backend stops being the pick (cell/predictor.h).
 */
enum cluster_repl_policy {
	CLUSTER_REPL_FIXED = 0,
	CLUSTER_REPL_PREDICTED = 1,
};
/* Cell mode's replication streams as hash chains (cell/repl.h, "Chain";
 * the default and why: docs/performance.md, "Replication chain"). */
#define CLUSTER_REPL_CHAIN_DEFAULT true
#define CLUSTER_REPL_THRESHOLD_DEFAULT 50 /* permille */
#define CLUSTER_REPL_HORIZON_DEFAULT 10	  /* seconds */
/*
 * The fast path's flood guard (steer/decide.h): above rate new flows a
 * second per core (burst banked), and above src_rate from one source per
 * core (0: no source budget), a miss makes no state: it is sent on by
 * the hash (STATELESS), or a SYN is dropped (DROP). Values match
 * enum steer_guard_policy.
 */
enum cluster_guard_policy {
	CLUSTER_GUARD_OFF = 0,
	CLUSTER_GUARD_STATELESS = 1,
	CLUSTER_GUARD_DROP = 2,
};
#define CLUSTER_GUARD_RATE_DEFAULT 100000
#define CLUSTER_GUARD_BURST_DEFAULT 10000
#define CLUSTER_GUARD_MAX 100000000

struct cluster_guard {
	uint8_t policy; /* enum cluster_guard_policy */
	uint32_t rate;	/* new flows a second, per core */
	uint32_t burst;
	uint32_t src_rate; /* per source, per core; 0: none */
	uint32_t src_burst;
};

#define CLUSTER_DIR_HOMES_DEFAULT 2
#define CLUSTER_DIR_HOMES_MAX 3

struct cluster {
	char name[CLUSTER_NAME_MAX];
	uint32_t self; /* index in nodes */
	__be16 gue_port;
	__be16 cell_ctl_port;	 /* cell mode: UDP, cellmsg control */
	__be16 repl_port;	 /* cell mode: TCP, replication */
	uint32_t mtu;		 /* largest L3 packet the fabric carries */
	uint32_t replication;	 /* primary + mirror cells of each flow */
	uint8_t ownership;	 /* enum cluster_ownership */
	uint8_t dir_homes;	 /* directory: homes per session */
	uint8_t repl_policy;	 /* enum cluster_repl_policy */
	uint16_t repl_threshold; /* permille: mirrored at this p_long */
	uint32_t repl_horizon_s; /* "long": lives this much longer */
	bool repl_chain;	 /* cell mode: replication-chain on */
	struct cluster_fsc fsc;
	struct cluster_guard guard;
	struct cluster_gateway *gateways;
	uint32_t n_gateways;
	struct cluster_node *nodes;
	uint32_t n_nodes;
	struct cluster_backend *backends;
	uint32_t n_backends;
	struct cluster_service *services;
	uint32_t n_services;
};

/*
 * Read the description at path into c (c's old content is ignored, not
 * freed). Returns 0; -EINVAL with "FILE:LINE: ..." in err for a bad
 * description; the negative errno of open/read ("PATH: strerror" in err);
 * -ENOMEM. On failure c is left empty, so cluster_free() is always safe.
 */
int cluster_load(struct cluster *c, const char *path, char *err, size_t errlen);

/* The same from len bytes of text; file names it in messages. */
int cluster_load_buf(struct cluster *c, const char *file, const char *text,
		     size_t len, char *err, size_t errlen);

/* Release what cluster_load() allocated and zero c. */
void cluster_free(struct cluster *c);

/*
 * Lookups. Inline because steer-replay and the exception path call them
 * per packet; each is a linear scan over at most a few hundred entries
 * and returns NULL when nothing matches.
 */

/* Gateways, nodes, backends and services all begin with their name. */
static inline const void *__cluster_find_name(const void *arr, uint32_t n,
					      size_t stride, const char *name)
{
	const char *p = (const char *)arr;
	uint32_t i;

	for (i = 0; i < n; i++, p += stride)
		if (!strcmp(p, name))
			return p;
	return NULL;
}

/* Nodes and backends begin with their endpoint. */
static inline const void *__cluster_find_id(const void *arr, uint32_t n,
					    size_t stride, uint16_t id)
{
	const char *p = (const char *)arr;
	uint32_t i;

	for (i = 0; i < n; i++, p += stride)
		if (((const struct cluster_endpoint *)(const void *)p)->id ==
		    id)
			return p;
	return NULL;
}

static inline const struct cluster_node *cluster_self(const struct cluster *c)
{
	return c->self < c->n_nodes ? &c->nodes[c->self] : NULL;
}

static inline const struct cluster_node *
cluster_node_by_id(const struct cluster *c, uint16_t id)
{
	return __cluster_find_id(c->nodes, c->n_nodes, sizeof(*c->nodes), id);
}

static inline const struct cluster_node *
cluster_node_by_name(const struct cluster *c, const char *name)
{
	return __cluster_find_name(c->nodes, c->n_nodes, sizeof(*c->nodes),
				   name);
}

static inline const struct cluster_backend *
cluster_backend_by_id(const struct cluster *c, uint16_t id)
{
	return __cluster_find_id(c->backends, c->n_backends,
				 sizeof(*c->backends), id);
}

static inline const struct cluster_backend *
cluster_backend_by_name(const struct cluster *c, const char *name)
{
	return __cluster_find_name(c->backends, c->n_backends,
				   sizeof(*c->backends), name);
}

static inline const struct cluster_gateway *
cluster_gateway_by_name(const struct cluster *c, const char *name)
{
	return __cluster_find_name(c->gateways, c->n_gateways,
				   sizeof(*c->gateways), name);
}

static inline const struct cluster_service *
cluster_service_by_name(const struct cluster *c, const char *name)
{
	return __cluster_find_name(c->services, c->n_services,
				   sizeof(*c->services), name);
}

/*
 * The service whose VIP, protocol and port match the destination of k, or
 * NULL. A service with port 0 matches any port; one naming the exact port
 * wins over it.
 */
static inline const struct cluster_service *
cluster_service_match(const struct cluster *c, const struct flow_key *k)
{
	const struct cluster_service *s, *any = NULL;
	uint32_t i;

	for (i = 0; i < c->n_services; i++) {
		s = &c->services[i];
		if (s->proto != k->proto ||
		    memcmp(&s->vip, &k->dst, sizeof(s->vip)))
			continue;
		if (s->port == k->dport)
			return s;
		if (!s->port && !any)
			any = s;
	}
	return any;
}

/*
 * The MAC the outer Ethernet header towards ep must carry: ep's own MAC
 * on the same link, or its gateway's MAC.
 */
static inline const uint8_t *
cluster_next_hop_mac(const struct cluster *c, const struct cluster_endpoint *ep)
{
	if (ep->gateway >= 0 && (uint32_t)ep->gateway < c->n_gateways)
		return c->gateways[ep->gateway].mac;
	return ep->mac;
}

/*
 * The address to reach ep with for a packet of family want (4 or 6): that
 * family when ep has it, else its other one; *family (may be NULL) gets
 * the one chosen. NULL only for an endpoint with no address at all.
 */
static inline const struct flow_addr *
cluster_endpoint_addr(const struct cluster_endpoint *ep, int want, int *family)
{
	bool v6 = want == 6 ? ep->has_v6 || !ep->has_v4
			    : !ep->has_v4 && ep->has_v6;

	if (!ep->has_v4 && !ep->has_v6)
		return NULL;
	if (family)
		*family = v6 ? 6 : 4;
	return v6 ? &ep->addr6 : &ep->addr4;
}

#endif /* STEER_CLUSTER_H */
