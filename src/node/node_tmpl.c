// SPDX-License-Identifier: GPL-2.0-only
#include "node/node_tmpl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tmpl_build.h"
#include "node/nexthop.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"

#define MOD "tmpl"

const char *node_tmpl_src_name(enum node_tmpl_src s)
{
	switch (s) {
	case NODE_TMPL_KERNEL:
		return "kernel";
	case NODE_TMPL_CONFIG:
		return "config";
	default:
		return "none";
	}
}

int node_tmpls_init(struct node_tmpls *t, int ifindex)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->nl_fd = t->mon_fd = -1;
	t->ifindex = ifindex;
	err = nh_if_mac(ifindex, t->if_mac);
	if (err)
		return err;
	t->nl_fd = nh_open();
	if (t->nl_fd < 0)
		return t->nl_fd;
	t->mon_fd = nh_monitor_open();
	if (t->mon_fd < 0)
		log_warn(MOD,
			 "no route/neighbour monitor (%s): templates are "
			 "refreshed by the timer only",
			 strerror(-t->mon_fd));
	return 0;
}

static void node_tmpl_target(struct node_tmpl_node *hn, uint8_t what,
			     uint16_t id, uint8_t kind, __be16 dport)
{
	memset(hn, 0, sizeof(*hn));
	hn->what = what;
	hn->id = id;
	hn->kind = kind;
	hn->dport = dport;
	hn->index = what == NODE_TMPL_BACKEND ? xdp_maps_tmpl_backend(id) : id;
}

/* Is the target still in c (the same kind of template)? */
static bool node_tmpl_kept(const struct node_tmpl_node *hn,
			   const struct node_tmpl_node *nodes, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (nodes[i].index == hn->index)
			return true;
	return false;
}

int node_tmpls_targets(struct node_tmpls *t, const struct cluster *c,
		       struct xdp_prog *x, unsigned int flags)
{
	uint32_t cap = c->n_nodes + c->n_backends + 1, i, j, n = 0;
	struct node_tmpl_node *nodes = calloc(cap, sizeof(*nodes));

	if (!nodes)
		return -ENOMEM;
	for (i = 0; i < c->n_nodes; i++)
		if (i != c->self)
			node_tmpl_target(&nodes[n++], NODE_TMPL_NODE,
					 c->nodes[i].ep.id, STEER_TMPL_GUE0,
					 c->gue_port);
	if (flags & NODE_TMPLS_SELF)
		node_tmpl_target(&nodes[n++], NODE_TMPL_SELF,
				 cluster_self(c)->ep.id, STEER_TMPL_GUE0,
				 c->gue_port);
	for (i = 0; (flags & NODE_TMPLS_BACKENDS) && i < c->n_backends; i++)
		node_tmpl_target(&nodes[n++], NODE_TMPL_BACKEND,
				 c->backends[i].ep.id, c->backends[i].encap,
				 c->backends[i].port);
	/* What steer_tmpls holds stays known across a reload. */
	for (i = 0; i < n; i++)
		for (j = 0; j < t->n; j++)
			if (t->nodes[j].index == nodes[i].index &&
			    t->nodes[j].kind == nodes[i].kind &&
			    t->nodes[j].dport == nodes[i].dport)
				nodes[i] = t->nodes[j];
	/* A target gone from the cluster takes its template with it. */
	for (j = 0; j < t->n; j++)
		if (t->nodes[j].src != NODE_TMPL_NONE &&
		    !node_tmpl_kept(&t->nodes[j], nodes, n))
			xdp_maps_tmpl_del(x, t->nodes[j].index);
	free(t->nodes);
	t->nodes = nodes;
	t->n = n;
	return 0;
}

int node_tmpls_nodes(struct node_tmpls *t, const struct cluster *c,
		     struct xdp_prog *x)
{
	return node_tmpls_targets(t, c, x, 0);
}

void node_tmpls_free(struct node_tmpls *t)
{
	if (t->nl_fd >= 0)
		close(t->nl_fd);
	if (t->mon_fd >= 0)
		close(t->mon_fd);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
	t->nl_fd = t->mon_fd = -1;
}

/* The template to node ep as things are now; src says from what. */
static enum node_tmpl_src node_tmpl_make(struct node_tmpls *t,
					 const struct cluster *c,
					 const struct cluster_endpoint *ep,
					 struct node_tmpl_node *hn,
					 struct steer_tmpl *out)
{
	const struct cluster_endpoint *me = &cluster_self(c)->ep;
	struct tmpl_spec s = {.kind = (enum steer_tmpl_kind)hn->kind,
			      .dport = hn->dport,
			      .origin = me->id};
	const uint8_t *cfg_mac = cluster_next_hop_mac(c, ep);
	static const uint8_t zero[6];
	struct nh_result nh;
	int err;

	if (me->has_v4 && ep->has_v4) {
		s.saddr = me->addr4;
		s.daddr = ep->addr4;
	} else if (me->has_v6 && ep->has_v6) {
		s.saddr = me->addr6;
		s.daddr = ep->addr6;
	} else {
		hn->last_err = -EAFNOSUPPORT;
		return NODE_TMPL_NONE;
	}
	memcpy(s.src_mac, t->if_mac, 6);
	if (hn->what == NODE_TMPL_SELF) {
		/* Up this node's own stack: its own addresses both ways. */
		memcpy(s.dst_mac, t->if_mac, 6);
		hn->last_err = 0;
		return tmpl_build(out, &s) ? NODE_TMPL_NONE : NODE_TMPL_KERNEL;
	}
	err = nh_resolve(t->nl_fd, &s.daddr, &nh);
	if (!err && nh.ifindex != t->ifindex) {
		/* XDP transmits on its own interface only: the kernel says
		 * the node is elsewhere, so no MAC of this link reaches it. */
		hn->last_err = -EXDEV;
		return NODE_TMPL_NONE;
	}
	hn->last_err = err;
	if (!err) {
		memcpy(s.dst_mac, nh.mac, 6);
		hn->via_gateway = nh.via_gateway;
	} else if (memcmp(cfg_mac, zero, 6)) {
		memcpy(s.dst_mac, cfg_mac, 6);
		hn->via_gateway = ep->gateway >= 0;
	} else {
		return NODE_TMPL_NONE;
	}
	if (tmpl_build(out, &s))
		return NODE_TMPL_NONE;
	return err ? NODE_TMPL_CONFIG : NODE_TMPL_KERNEL;
}

static const struct cluster_endpoint *
node_tmpl_endpoint(const struct cluster *c, const struct node_tmpl_node *hn)
{
	const struct cluster_backend *b;
	const struct cluster_node *n;

	if (hn->what == NODE_TMPL_BACKEND) {
		b = cluster_backend_by_id(c, hn->id);
		return b ? &b->ep : NULL;
	}
	n = cluster_node_by_id(c, hn->id);
	return n ? &n->ep : NULL;
}

int node_tmpls_refresh(struct node_tmpls *t, const struct cluster *c,
		       struct xdp_prog *x)
{
	int changed = 0;
	uint32_t i;

	if (t->mon_fd >= 0)
		nh_monitor_drain(t->mon_fd);
	for (i = 0; i < t->n; i++) {
		struct node_tmpl_node *hn = &t->nodes[i];
		const struct cluster_endpoint *ep = node_tmpl_endpoint(c, hn);
		const char *what =
			hn->what == NODE_TMPL_BACKEND ? "backend" : "node";
		struct steer_tmpl nt;
		enum node_tmpl_src src;
		int err;

		memset(&nt, 0, sizeof(nt));
		src = ep ? node_tmpl_make(t, c, ep, hn, &nt) : NODE_TMPL_NONE;
		if (src == hn->src && !memcmp(&nt, &hn->tmpl, sizeof(nt)))
			continue;
		err = src == NODE_TMPL_NONE
			      ? xdp_maps_tmpl_del(x, hn->index)
			      : xdp_maps_tmpl_set(x, hn->index, &nt);
		if (err) {
			log_warn(MOD, "%s %u: cannot write its template: %s",
				 what, hn->id, strerror(-err));
			continue;
		}
		if (src != hn->src)
			log_info(MOD, "%s %u: template from %s%s (%s)", what,
				 hn->id, node_tmpl_src_name(src),
				 hn->via_gateway ? " via the gateway" : "",
				 hn->last_err ? strerror(-hn->last_err)
					      : "resolved");
		hn->src = src;
		hn->tmpl = nt;
		t->builds++;
		changed++;
	}
	return changed;
}
