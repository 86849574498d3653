// SPDX-License-Identifier: GPL-2.0-only
#include "fastpath/fp_cluster.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/tmpl_build.h"

/* Template from self to ep; IPv4 outer when both have IPv4. */
static int fpc_tmpl(const struct cluster *c, const struct cluster_endpoint *ep,
		    enum steer_tmpl_kind kind, __be16 dport,
		    struct steer_tmpl *t)
{
	const struct cluster_endpoint *me = &cluster_self(c)->ep;
	struct tmpl_spec s = {.kind = kind, .dport = dport, .origin = me->id};

	memcpy(s.src_mac, me->mac, 6);
	memcpy(s.dst_mac, cluster_next_hop_mac(c, ep), 6);
	if (me->has_v4 && ep->has_v4) {
		s.saddr = me->addr4;
		s.daddr = ep->addr4;
	} else if (me->has_v6 && ep->has_v6) {
		s.saddr = me->addr6;
		s.daddr = ep->addr6;
	} else {
		return -EINVAL;
	}
	return tmpl_build(t, &s);
}

static int fpc_nodes(struct fastpath *fp, const struct cluster *c, char *err,
		     size_t errlen)
{
	struct fp_target *t = calloc(c->n_nodes, sizeof(*t));
	uint32_t i;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < c->n_nodes && !ret; i++) {
		const struct cluster_endpoint *ep = &c->nodes[i].ep;

		t[i].id = ep->id;
		t[i].weight = 1;
		if (i == c->self)
			continue;
		ret = fpc_tmpl(c, ep, STEER_TMPL_GUE0, c->gue_port, &t[i].tmpl);
		if (ret)
			snprintf(err, errlen,
				 "node '%s' shares no address family with "
				 "this node",
				 ep->name);
	}
	if (!ret)
		ret = fastpath_set_nodes(fp, t, c->n_nodes);
	free(t);
	return ret;
}

static int fpc_service(struct fastpath *fp, const struct cluster *c,
		       const struct cluster_service *svc, char *err,
		       size_t errlen)
{
	struct fp_service spec = {
		.proto = svc->proto, .vip = svc->vip, .port = svc->port};
	struct fp_target *t = calloc(svc->n_backends + 1, sizeof(*t));
	uint32_t i;
	int ret = 0;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < svc->n_backends && !ret; i++) {
		const struct cluster_backend *b =
			&c->backends[svc->backends[i]];

		t[i].id = b->ep.id;
		t[i].weight = b->weight;
		ret = fpc_tmpl(c, &b->ep, b->encap, b->port, &t[i].tmpl);
		if (ret)
			snprintf(err, errlen,
				 "backend '%s' shares no address family with "
				 "this node",
				 b->ep.name);
	}
	if (!ret) {
		ret = fastpath_add_service(fp, &spec, t, svc->n_backends);
		if (ret < 0)
			snprintf(err, errlen, "service '%s': %s", svc->name,
				 strerror(-ret));
	}
	free(t);
	return ret < 0 ? ret : 0;
}

struct fastpath *fp_cluster_build(const struct cluster *c,
				  const struct steer_hash_secret *s, char *err,
				  size_t errlen)
{
	const struct cluster_node *self = cluster_self(c);
	struct fp_config cfg = {
		.self_id = self->ep.id,
		.gue_port = c->gue_port,
		.max_encap = STEER_MAX_ENCAP,
		.mtu = c->mtu,
		.replication = (uint8_t)c->replication,
		.secret = *s,
		.fsc =
			{
				.capacity = c->fsc.capacity,
				.tcp_timeout_ms = c->fsc.tcp_timeout_ms,
				.tcp_closing_timeout_ms =
					c->fsc.tcp_closing_timeout_ms,
				.udp_timeout_ms = c->fsc.udp_timeout_ms,
				.other_timeout_ms = c->fsc.other_timeout_ms,
			},
	};
	struct fastpath *fp;
	uint32_t i;
	int ret;

	if (self->ep.gateway >= 0) {
		snprintf(err, errlen,
			 "this node ('%s') must declare its own mac",
			 self->ep.name);
		errno = EINVAL;
		return NULL;
	}
	if (self->ep.has_v4)
		cfg.self_addr = self->ep.addr4;
	if (self->ep.has_v6)
		cfg.self_addr6 = self->ep.addr6;
	fp = fastpath_new(&cfg);
	if (!fp) {
		snprintf(err, errlen, "fast path: %s", strerror(errno));
		return NULL;
	}
	ret = fpc_nodes(fp, c, err, errlen);
	/* A service without backends is the nodes' own (host mode). */
	for (i = 0; i < c->n_services && !ret; i++)
		if (c->services[i].n_backends)
			ret = fpc_service(fp, c, &c->services[i], err, errlen);
	if (ret) {
		fastpath_free(fp);
		errno = -ret;
		return NULL;
	}
	return fp;
}
