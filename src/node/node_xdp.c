// SPDX-License-Identifier: GPL-2.0-only
#include "node/node_xdp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/xdp_maps.h"

int node_xdp_svcs(struct xdp_prog *x, const struct cluster *c,
		  bool with_backends)
{
	struct steer_svc_key *keys = calloc(c->n_services + 1, sizeof(*keys));
	__u32 *flags = calloc(c->n_services + 1, sizeof(*flags));
	uint32_t i, n = 0;
	int err = -ENOMEM;

	if (!keys || !flags)
		goto out;
	for (i = 0; i < c->n_services; i++) {
		const struct cluster_service *s = &c->services[i];

		if (with_backends ? !s->n_backends : s->n_backends != 0)
			continue;
		keys[n].addr = s->vip;
		keys[n].port = s->port;
		keys[n].proto = s->proto;
		/* Cell mode: cells see closes unless nothing is mirrored. */
		if (with_backends && s->mirror_pkts != CLUSTER_MIRROR_NONE)
			flags[n] = STEER_SVC_F_CLOSE_VIA_CELL;
		/* ... and the first services' rings (node_xdp_rings()). */
		if (with_backends && n < STEER_XDP_RING_SVCS)
			flags[n] |= (n + 1) << STEER_SVC_RING_SHIFT;
		n++;
	}
	err = xdp_maps_svc_set(x, keys, flags, n);
out:
	free(keys);
	free(flags);
	return err;
}

int node_xdp_rings(struct xdp_prog *x, const struct fastpath *fp,
		   uint32_t n_svcs)
{
	const uint16_t *t;
	uint32_t i, size;
	int err = 0;

	for (i = 0; i < n_svcs && i < STEER_XDP_RING_SVCS && !err; i++) {
		t = fastpath_service_table(fp, (uint16_t)i, &size);
		err = xdp_maps_ring_set(x, i, t, t ? size : 0);
	}
	return err;
}

/* The cluster's flood guard in the program's terms: time per flow. */
static void node_xdp_guard(const struct cluster_guard *g,
			   struct steer_xdp_cfg *cfg)
{
	cfg->guard = g->policy;
	if (g->policy == CLUSTER_GUARD_OFF || !g->rate)
		return;
	cfg->guard_cost_ns = 1000000000ull / g->rate;
	cfg->guard_cap_ns = cfg->guard_cost_ns * g->burst;
	if (!g->src_rate)
		return;
	cfg->guard_src_cost_ns = 1000000000ull / g->src_rate;
	cfg->guard_src_cap_ns = cfg->guard_src_cost_ns * g->src_burst;
}

int node_xdp_cfg(struct xdp_prog *x, const struct cluster *c,
		 const struct steer_hash_secret *secret, uint8_t mode)
{
	const struct cluster_endpoint *me = &cluster_self(c)->ep;
	struct steer_xdp_cfg cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (me->has_v4)
		cfg.self_addr = me->addr4;
	if (me->has_v6)
		cfg.self_addr6 = me->addr6;
	cfg.secret = *secret;
	cfg.mtu = c->mtu;
	cfg.self_id = me->id;
	cfg.gue_port = c->gue_port;
	cfg.max_encap = STEER_MAX_ENCAP;
	cfg.mode = mode;
	cfg.dir = mode == STEER_XDP_MODE_HOST &&
		  c->ownership == CLUSTER_OWN_DIRECTORY;
	node_xdp_guard(&c->guard, &cfg);
	return xdp_maps_cfg_set(x, &cfg);
}
