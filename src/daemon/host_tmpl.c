// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/host_tmpl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/tmpl_build.h"
#include "daemon/nexthop.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"

#define MOD "tmpl"

const char *host_tmpl_src_name(enum host_tmpl_src s)
{
	switch (s) {
	case HOST_TMPL_KERNEL:
		return "kernel";
	case HOST_TMPL_CONFIG:
		return "config";
	default:
		return "none";
	}
}

int host_tmpls_init(struct host_tmpls *t, int ifindex)
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

int host_tmpls_nodes(struct host_tmpls *t, const struct cluster *c,
		     struct xdp_prog *x)
{
	struct host_tmpl_node *nodes = calloc(c->n_nodes, sizeof(*nodes));
	uint32_t i, j, n = 0;

	if (!nodes)
		return -ENOMEM;
	for (i = 0; i < c->n_nodes; i++) {
		if (i == c->self)
			continue;
		nodes[n].id = c->nodes[i].ep.id;
		/* What steer_tmpls holds stays known across a reload. */
		for (j = 0; j < t->n; j++)
			if (t->nodes[j].id == nodes[n].id)
				nodes[n] = t->nodes[j];
		n++;
	}
	/* A node gone from the cluster takes its template with it. */
	for (j = 0; j < t->n; j++)
		if (t->nodes[j].src != HOST_TMPL_NONE &&
		    !cluster_node_by_id(c, t->nodes[j].id))
			xdp_maps_tmpl_del(x, t->nodes[j].id);
	free(t->nodes);
	t->nodes = nodes;
	t->n = n;
	return 0;
}

void host_tmpls_free(struct host_tmpls *t)
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
static enum host_tmpl_src host_tmpl_make(struct host_tmpls *t,
					 const struct cluster *c,
					 const struct cluster_endpoint *ep,
					 struct host_tmpl_node *hn,
					 struct steer_tmpl *out)
{
	const struct cluster_endpoint *me = &cluster_self(c)->ep;
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0,
			      .dport = c->gue_port,
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
		return HOST_TMPL_NONE;
	}
	memcpy(s.src_mac, t->if_mac, 6);
	err = nh_resolve(t->nl_fd, &s.daddr, &nh);
	if (!err && nh.ifindex != t->ifindex) {
		/* XDP transmits on its own interface only: the kernel says
		 * the node is elsewhere, so no MAC of this link reaches it. */
		hn->last_err = -EXDEV;
		return HOST_TMPL_NONE;
	}
	hn->last_err = err;
	if (!err) {
		memcpy(s.dst_mac, nh.mac, 6);
		hn->via_gateway = nh.via_gateway;
	} else if (memcmp(cfg_mac, zero, 6)) {
		memcpy(s.dst_mac, cfg_mac, 6);
		hn->via_gateway = ep->gateway >= 0;
	} else {
		return HOST_TMPL_NONE;
	}
	if (tmpl_build(out, &s))
		return HOST_TMPL_NONE;
	return err ? HOST_TMPL_CONFIG : HOST_TMPL_KERNEL;
}

int host_tmpls_refresh(struct host_tmpls *t, const struct cluster *c,
		       struct xdp_prog *x)
{
	int changed = 0;
	uint32_t i;

	if (t->mon_fd >= 0)
		nh_monitor_drain(t->mon_fd);
	for (i = 0; i < t->n; i++) {
		struct host_tmpl_node *hn = &t->nodes[i];
		const struct cluster_node *n = cluster_node_by_id(c, hn->id);
		struct steer_tmpl nt;
		enum host_tmpl_src src;
		int err;

		memset(&nt, 0, sizeof(nt));
		src = n ? host_tmpl_make(t, c, &n->ep, hn, &nt)
			: HOST_TMPL_NONE;
		if (src == hn->src && !memcmp(&nt, &hn->tmpl, sizeof(nt)))
			continue;
		err = src == HOST_TMPL_NONE ? xdp_maps_tmpl_del(x, hn->id)
					    : xdp_maps_tmpl_set(x, hn->id, &nt);
		if (err) {
			log_warn(MOD, "node %u: cannot write its template: %s",
				 hn->id, strerror(-err));
			continue;
		}
		if (src != hn->src)
			log_info(MOD, "node %u: template from %s%s (%s)",
				 hn->id, host_tmpl_src_name(src),
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
