// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/dataplane.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "cell/cell.h"
#include "daemon/host.h"
#include "daemon/steerd.h"
#include "fastpath/fastpath.h"
#include "fastpath/fsc.h"
#include "xdp/xdp_maps.h"

/* This node's XDP program, or NULL: none runs (no maps to act on). */
static struct xdp_prog *dp_xdp(struct steerd *d)
{
	if (d->host)
		return host_xdp(d->host);
	if (d->cell)
		return cell_xdp(d->cell);
	return NULL;
}

struct xdp_prog *dp_xdp_prog(struct steerd *d)
{
	return dp_xdp(d);
}

const char *dp_source(struct steerd *d)
{
	return dp_xdp(d) ? "xdp" : "userspace";
}

int dp_flow_set(struct steerd *d, const struct flow_key *k, uint16_t owner,
		uint32_t epoch)
{
	struct xdp_prog *x = dp_xdp(d);

	if (x)
		return xdp_maps_flow_set(x, k, owner, epoch);
	return fastpath_flow_set(d->world->fp, k, owner, epoch,
				 steerd_now_ms());
}

int dp_flow_del(struct steerd *d, const struct flow_key *k)
{
	struct xdp_prog *x = dp_xdp(d);

	if (d->cell)
		return cell_flow_forget(d->cell, k);
	if (x)
		return xdp_maps_flow_del(x, k);
	return fastpath_flow_del(d->world->fp, k);
}

uint64_t dp_flow_count(struct steerd *d)
{
	struct xdp_prog *x = dp_xdp(d);
	struct xdp_maps_occupancy o;

	if (!x)
		return fsc_count(fastpath_fsc(d->world->fp));
	/* Batched: the tables are large, the rules in them may be few. */
	return xdp_maps_occupancy(x, &o) ? 0 : o.flows4 + o.flows6;
}

uint64_t dp_flow_capacity(struct steerd *d)
{
	struct xdp_prog *x = dp_xdp(d);

	return x ? xdp_maps_flow_capacity(x)
		 : fsc_capacity(fastpath_fsc(d->world->fp));
}

struct dp_walk {
	int (*fn)(const struct dp_flow *f, void *arg);
	void *arg;
	uint32_t now;	 /* userspace: the fast path's clock, ms */
	uint64_t now_ns; /* XDP: the coarse clock of the rules' stamps */
};

static const char *dp_fsc_state(uint8_t st)
{
	switch (st & FSC_ST_MASK) {
	case FSC_ST_EST:
		return "established";
	case FSC_ST_CLOSING:
		return "closing";
	}
	return "new";
}

static int dp_fsc_one(const struct fsc_entry *e, void *arg)
{
	struct dp_walk *w = arg;
	struct dp_flow f = {.action = e->action,
			    .owner = e->owner,
			    .backend = STEER_NODE_NONE,
			    .rf = e->rf,
			    .epoch = e->epoch,
			    .idle_ms = (uint32_t)(w->now - e->last_ms),
			    .state = dp_fsc_state(e->state),
			    .has_counts = true,
			    .packets = e->packets,
			    .bytes = e->bytes};

	fsc_entry_key(e, &f.key);
	memcpy(f.mirror, e->mirror, sizeof(f.mirror));
	return w->fn(&f, w->arg);
}

static int dp_xdp_one(const struct flow_key *k, const struct steer_rule *r,
		      void *arg)
{
	struct dp_walk *w = arg;
	struct dp_flow f = {.key = *k,
			    .action = r->action,
			    .owner = r->owner,
			    .backend = STEER_NODE_NONE,
			    .rf = r->rf,
			    .epoch = r->epoch,
			    .idle_ms = -1};
	uint64_t used_ns = (uint64_t)r->used << STEER_RULE_USED_SHIFT;

	memcpy(f.mirror, r->mirror, sizeof(f.mirror));
	if (r->action == STEER_ACT_BACKEND && r->tmpl >= STEER_TMPL_BACKEND)
		f.backend = (uint16_t)(r->tmpl - STEER_TMPL_BACKEND);
	/* Only BACKEND rules carry the time a packet last met them. */
	if (r->used && w->now_ns >= used_ns)
		f.idle_ms = (int64_t)((w->now_ns - used_ns) / 1000000);
	return w->fn(&f, w->arg);
}

int dp_flow_walk(struct steerd *d,
		 int (*fn)(const struct dp_flow *f, void *arg), void *arg)
{
	struct dp_walk w = {.fn = fn, .arg = arg, .now = steerd_now_ms()};
	struct xdp_prog *x = dp_xdp(d);
	struct timespec ts;

	if (!x)
		return fsc_foreach(fastpath_fsc(d->world->fp), dp_fsc_one, &w);
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	w.now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return xdp_maps_flow_foreach(x, dp_xdp_one, &w);
}
