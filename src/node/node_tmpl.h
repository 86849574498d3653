/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host mode's templates: one GUE variant 0 template per other node, from
 * this node's interface to that node's address, through the next hop the
 * kernel uses (nexthop.h): the node's own MAC on the same link, the
 * gateway's otherwise. Kept in the XDP program's steer_tmpls by node id
 * and built again when a route or a neighbour changes, or periodically.
 *
 * A node the kernel cannot resolve yet (no neighbour entry: nothing sent
 * to it so far) gets the MAC the cluster description gives, if any, until
 * the kernel knows better; without either, or when the kernel routes the
 * node through another interface than the XDP program's (it transmits on
 * its own only), it has no template and the fast path drops what it
 * would steer there (no-template).
 */
#ifndef STEER_NODE_TMPL_H
#define STEER_NODE_TMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/tmpl.h>

#include "core/cluster.h"
#include "xdp/xdp_prog.h"

/* Where a node's template comes from. */
enum node_tmpl_src {
	NODE_TMPL_NONE = 0, /* none: unreachable or unresolved */
	NODE_TMPL_KERNEL,   /* FIB + neighbour table */
	NODE_TMPL_CONFIG,   /* the cluster description's MAC */
};

/* What a template reaches. */
enum node_tmpl_what {
	NODE_TMPL_NODE = 0, /* another node: GUE variant 0 */
	NODE_TMPL_SELF,	    /* this node (cell mode: a miss to itself) */
	NODE_TMPL_BACKEND,  /* a backend: GUE variant 1 or IP-in-IP */
};

struct node_tmpl_node {
	uint16_t id;	/* node or backend id */
	uint16_t index; /* in steer_tmpls */
	uint8_t what;	/* enum node_tmpl_what */
	uint8_t kind;	/* enum steer_tmpl_kind */
	__be16 dport;	/* GUE kinds */
	enum node_tmpl_src src;
	bool via_gateway;
	struct steer_tmpl tmpl; /* what steer_tmpls holds for id */
	int last_err;		/* of the last resolution, 0 or -errno */
};

struct node_tmpls {
	struct node_tmpl_node *nodes; /* other nodes, then self, backends */
	uint32_t n;
	int nl_fd;  /* rtnetlink queries */
	int mon_fd; /* route and neighbour changes; -1: none */
	int ifindex;
	uint8_t if_mac[6];
	uint64_t builds; /* templates written */
};

/*
 * Open the netlink sockets for interface ifindex (its MAC is read here).
 * Returns 0 or -errno (-ENODEV, the errno of the sockets).
 */
int node_tmpls_init(struct node_tmpls *t, int ifindex);

/*
 * The nodes of c but this one; what is known of a kept one stays, the
 * template of a node c no longer has is deleted from x. 0 or -ENOMEM.
 */
int node_tmpls_nodes(struct node_tmpls *t, const struct cluster *c,
		     struct xdp_prog *x);

/*
 * The same with, per flags, this node's template to itself
 * (NODE_TMPLS_SELF: cell mode sends its own misses up its stack with it)
 * and one per backend (NODE_TMPLS_BACKENDS, at xdp_maps_tmpl_backend()).
 */
#define NODE_TMPLS_SELF 0x1
#define NODE_TMPLS_BACKENDS 0x2
int node_tmpls_targets(struct node_tmpls *t, const struct cluster *c,
		       struct xdp_prog *x, unsigned int flags);
void node_tmpls_free(struct node_tmpls *t);

/*
 * Resolve every node again and write the templates that changed into
 * x's steer_tmpls. Returns how many changed (0 when all are as before).
 */
int node_tmpls_refresh(struct node_tmpls *t, const struct cluster *c,
		       struct xdp_prog *x);

const char *node_tmpl_src_name(enum node_tmpl_src s);

#endif /* STEER_NODE_TMPL_H */
