// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/migrations.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "daemon/node_fc.h"
#include "daemon/steerd.h"
#include "daemon/steerd_gossip.h"
#include "node/flow_tele.h"
#include "predict/migrate.h"

#define MIGRATIONS_PEERS_MAX 1024

struct migrations_row {
	struct flow_tele_view v;
	struct migrate_score s;
};

static int migrations_by_p(const void *a, const void *b)
{
	const struct migrations_row *x = a, *y = b;

	return x->s.p < y->s.p ? 1 : x->s.p > y->s.p ? -1 : 0;
}

/* The other nodes as targets, from gossip (sorted by id). */
static uint32_t migrations_peers(struct gossip *g, struct migrate_peer *p)
{
	static struct gossip_member_info mi[MIGRATIONS_PEERS_MAX];
	uint32_t n = gossip_members(g, mi, MIGRATIONS_PEERS_MAX), i;

	if (n > MIGRATIONS_PEERS_MAX)
		n = MIGRATIONS_PEERS_MAX;
	for (i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		p[i].id = mi[i].id;
		p[i].live = mi[i].state == GOSSIP_ALIVE;
		p[i].has_forecast = mi[i].has_forecast;
		p[i].cpu = mi[i].forecast.cpu_permille;
		p[i].mem = mi[i].forecast.mem_permille;
		p[i].drained = mi[i].has_load &&
			       (mi[i].load.flags & GOSSIP_LOAD_F_DRAINED);
	}
	return n;
}

static void migrations_node_write(struct jsonw *w, const struct migrate_node *n)
{
	jsonw_obj_open(w, "node");
	jsonw_u64(w, "high_water_permille", n->hwm_permille);
	jsonw_u64(w, "fc_cpu", n->cpu);
	jsonw_u64(w, "fc_mem", n->mem);
	jsonw_double(w, "overload", migrate_overload(n));
	jsonw_bool(w, "drained", n->drained);
	jsonw_obj_close(w);
}

static void migrations_rows_write(struct jsonw *w,
				  const struct migrations_row *r, uint32_t n,
				  uint32_t shown)
{
	uint32_t i;

	jsonw_arr_open(w, "sessions");
	for (i = 0; i < n && i < shown; i++) {
		jsonw_obj_open(w, NULL);
		admin_key_write(w, &r[i].v.key);
		jsonw_double(w, "score", r[i].s.p);
		jsonw_str(w, "reason", migrate_reason_name(r[i].s.reason));
		if (r[i].s.target != STEER_NODE_NONE)
			jsonw_u64(w, "target", r[i].s.target);
		jsonw_double(w, "rtt_trend_us_s", r[i].v.rtt_trend_us_per_s);
		jsonw_double(w, "avg_Bps", r[i].v.avg_rate);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

void migrations_self(struct steerd *d, struct migrate_node *node)
{
	struct gossip_forecast_update f = {0};

	memset(node, 0, sizeof(*node));
	node->hwm_permille = d->world->conf.high_water;
	node->drained = drain_is(&d->drain);
	node->has_forecast =
		d->nfc && !node_fc_forecast(d->nfc, NODE_FC_PUBLISH_AHEAD, &f);
	if (node->has_forecast) {
		node->cpu = f.cpu_permille;
		node->mem = f.mem_permille;
		node->cpu_hi = f.cpu_hi;
		node->mem_hi = f.mem_hi;
	}
}

/* No forecast yet: the live, undrained peer whose last load report
 * says the least CPU (ties: the lower id). */
static uint16_t migrations_least_loaded(struct gossip *g, uint16_t self)
{
	static struct gossip_member_info mi[MIGRATIONS_PEERS_MAX];
	uint32_t n = gossip_members(g, mi, MIGRATIONS_PEERS_MAX), i;
	uint16_t best = STEER_NODE_NONE, cpu = UINT16_MAX, c;

	for (i = 0; i < n && i < MIGRATIONS_PEERS_MAX; i++) {
		if (mi[i].id == self || mi[i].state != GOSSIP_ALIVE ||
		    (mi[i].has_load &&
		     (mi[i].load.flags & GOSSIP_LOAD_F_DRAINED)))
			continue;
		c = mi[i].has_load ? mi[i].load.cpu_permille : 1000;
		if (best == STEER_NODE_NONE || c < cpu) {
			best = mi[i].id;
			cpu = c;
		}
	}
	return best;
}

uint16_t migrations_target(struct steerd *d)
{
	static struct migrate_peer peers[MIGRATIONS_PEERS_MAX];
	uint16_t self = cluster_self(&d->world->cluster)->ep.id, t;
	struct migrate_node node;
	uint32_t np;
	double room;

	if (!d->gossip)
		return STEER_NODE_NONE;
	migrations_self(d, &node);
	np = migrations_peers(steerd_gossip_node(d->gossip), peers);
	t = migrate_target(peers, np, self, node.hwm_permille, &room);
	return t != STEER_NODE_NONE
		       ? t
		       : migrations_least_loaded(steerd_gossip_node(d->gossip),
						 self);
}

int migrations_write(struct steerd *d, struct jsonw *w, uint32_t shown,
		     char *err, size_t errlen)
{
	static struct migrate_peer peers[MIGRATIONS_PEERS_MAX];
	struct migrate_node node;
	const struct flow_tele *ft;
	struct migrate_weights wt;
	struct migrations_row *rows;
	uint32_t n, np, i;
	uint16_t target;
	double room, sum = 0;

	if (!d->gossip || !d->nfc) {
		snprintf(err, errlen, "migrations: no gossip runs here");
		return -ENOENT;
	}
	migrations_self(d, &node);
	np = migrations_peers(steerd_gossip_node(d->gossip), peers);
	target = migrate_target(peers, np,
				cluster_self(&d->world->cluster)->ep.id,
				node.hwm_permille, &room);
	ft = node_fc_sessions(d->nfc);
	n = flow_tele_count(ft);
	rows = calloc(n ? n : 1, sizeof(*rows));
	if (!rows) {
		snprintf(err, errlen, "migrations: out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		flow_tele_get(ft, i, &rows[i].v);
		sum += rows[i].v.avg_rate;
	}
	migrate_weights_default(&wt);
	for (i = 0; i < n; i++) {
		struct migrate_session s = {
			.rtt_trend_us_s = rows[i].v.rtt_trend_us_per_s,
			.share = sum > 0 ? rows[i].v.avg_rate / sum : 0};

		migrate_score(&wt, &node, &s, target, room, &rows[i].s);
	}
	qsort(rows, n, sizeof(*rows), migrations_by_p);
	migrations_node_write(w, &node);
	if (target != STEER_NODE_NONE) {
		jsonw_u64(w, "target", target);
		jsonw_double(w, "target_headroom_permille", room);
	}
	jsonw_u64(w, "sessions_scored", n);
	migrations_rows_write(w, rows, n, shown);
	free(rows);
	return 0;
}
