// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast-path node's rule agent: the rules cells send go into this
 * node's XDP maps; rules idle past their flow's timeout are swept; the
 * rules packets met are reported to their flows' cells (TOUCH).
 */
#include "cell/cell_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "xdp/xdp_maps.h"

#define MOD "cell"

/* The fast path's clock of rule use (steer_rule.used). */
static uint32_t cell_rule_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)(((uint64_t)ts.tv_sec * 1000000000ull +
			   (uint64_t)ts.tv_nsec) >>
			  STEER_RULE_USED_SHIFT);
}

/* How often the fast path's rules are swept: every half of the shortest
 * idle timeout, 1 .. 30 s. */
uint64_t cell_sweep_every_ms(const struct cluster_fsc *f)
{
	uint64_t every = f->udp_timeout_ms;

	if (f->tcp_timeout_ms < every)
		every = f->tcp_timeout_ms;
	if (f->other_timeout_ms < every)
		every = f->other_timeout_ms;
	every /= 2;
	return every < 1000 ? 1000 : every > 30000 ? 30000 : every;
}

struct cell_sweep {
	struct cell *c;
	uint32_t now;
	uint64_t every_ms;
	struct cellmsg_touch *touch; /* by node index: uses to report */
};

/* Report the uses gathered for node index i to that cell (this one: at
 * once). */
static void cell_touch_flush(struct cell_sweep *sw, uint32_t i)
{
	struct cell *c = sw->c;
	const struct cluster_node *n = &c->w.cluster->nodes[i];
	struct cellmsg m = {.type = CELLMSG_TOUCH};
	uint32_t k;

	if (!sw->touch[i].count)
		return;
	if (n->ep.id == cell_self(c)) {
		for (k = 0; k < sw->touch[i].count; k++)
			c->st.touched += !flowtab_seen(
				c->ft, &sw->touch[i].keys[k], cell_now_ms());
		sw->touch[i].count = 0;
		return;
	}
	m.touch = sw->touch[i];
	sw->touch[i].count = 0;
	if (cell_ctl_send(c, n->ep.id, &m))
		c->st.touch_tx_err++;
	else
		c->st.touch_tx++;
}

/* A rule in use: its flow's primary cell (by this node's map) hears. */
static void cell_touch_add(struct cell_sweep *sw, const struct flow_key *k)
{
	struct cell *c = sw->c;
	uint16_t to = c->shards->cell[flowtab_shard_of(c->ft, k)][0];
	const struct cluster_node *n = cluster_node_by_id(c->w.cluster, to);
	uint32_t i;

	if (!n || !sw->touch)
		return;
	i = (uint32_t)(n - c->w.cluster->nodes);
	sw->touch[i].keys[sw->touch[i].count++] = *k;
	if (sw->touch[i].count == CELLMSG_TOUCH_MAX)
		cell_touch_flush(sw, i);
}

/*
 * A BACKEND rule no packet met for longer than its flow's timeout goes:
 * the next packet asks the cell again, which still holds the state. One
 * that met packets since the last sweep is reported to the flow's cell,
 * which sees none of them and would idle the flow out.
 */
static int cell_rule_idle(const struct flow_key *k, const struct steer_rule *r,
			  void *arg)
{
	struct cell_sweep *sw = arg;
	const struct cluster_fsc *f = &sw->c->w.cluster->fsc;
	uint64_t idle_ns = (uint64_t)(uint32_t)(sw->now - r->used)
			   << STEER_RULE_USED_SHIFT;
	uint32_t ms = k->proto == STEER_IPPROTO_TCP   ? f->tcp_timeout_ms
		      : k->proto == STEER_IPPROTO_UDP ? f->udp_timeout_ms
						      : f->other_timeout_ms;

	if (r->action != STEER_ACT_BACKEND)
		return 0;
	if (idle_ns <= (uint64_t)ms * 1000000) {
		/* The stamp's unit is 2^30 ns: one more covers it. */
		if (idle_ns <=
		    (sw->every_ms * 1000000) + (1ull << STEER_RULE_USED_SHIFT))
			cell_touch_add(sw, k);
		return 0;
	}
	if (!xdp_maps_flow_del(sw->c->xdp, k))
		sw->c->st.rules_expired++;
	return 0;
}

/* A full walk of the rules, every cell_sweep_every_ms(). */
void cell_rules_sweep(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	struct cell_sweep sw = {.c = c,
				.now = cell_rule_now(),
				.every_ms = cell_sweep_every_ms(&cl->fsc)};
	uint64_t now = evloop_now_ms();
	uint32_t i;

	if (now - c->swept_ms < sw.every_ms)
		return;
	c->swept_ms = now;
	sw.touch = calloc(cl->n_nodes, sizeof(*sw.touch));
	xdp_maps_flow_foreach(c->xdp, cell_rule_idle, &sw);
	for (i = 0; sw.touch && i < cl->n_nodes; i++)
		cell_touch_flush(&sw, i);
	free(sw.touch);
}

/* Install a RULE in this node's fast path. */
void cell_rule_install(struct cell *c, const struct cellmsg_rule *r)
{
	struct steer_rule rule;

	memset(&rule, 0, sizeof(rule));
	rule.action = r->action;
	rule.owner = r->primary;
	rule.epoch = r->epoch;
	rule.tmpl = xdp_maps_tmpl_backend(r->backend);
	rule.mirror[0] = r->mirror[0];
	rule.mirror[1] = r->mirror[1];
	rule.rf = r->rf;
	rule.used = cell_rule_now();
	switch (xdp_maps_rule_set(c->xdp, &r->key, &rule)) {
	case 0:
		c->st.rules_rx++;
		break;
	case -E2BIG: /* full: nothing already there gives way */
		c->st.rules_full++;
		/* fall through */
	default:
		c->st.rules_rx_err++;
	}
}
