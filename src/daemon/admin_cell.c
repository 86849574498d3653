// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/admin_cell.h"

#include <stdio.h>
#include <time.h>

#include "cell/cellmsg.h"
#include "cell/repl.h"
#include "cell/shards.h"
#include "daemon/admin.h"
#include "daemon/admin_host.h"
#include "cell/cell.h"
#include "cell/predictor.h"
#include "daemon/steerd.h"
#include "cell/flowtab.h"

static void admin_cell_stats(struct jsonw *w, const struct cell_stats *s)
{
	jsonw_obj_open(w, "cell");
	jsonw_u64(w, "exceptions", s->exc_rx);
	jsonw_u64(w, "exceptions_bad", s->exc_bad);
	jsonw_u64(w, "exceptions_foreign", s->exc_foreign);
	jsonw_u64(w, "exceptions_unparsable", s->exc_parse);
	jsonw_u64(w, "no_service", s->no_service);
	jsonw_u64(w, "no_backend", s->no_backend);
	jsonw_u64(w, "table_full", s->table_full);
	jsonw_u64(w, "guarded_stateless", s->guarded);
	jsonw_u64(w, "full_stateless", s->full_stateless);
	jsonw_u64(w, "flows_created", s->flows_created);
	jsonw_u64(w, "forwarded", s->fwd);
	jsonw_u64(w, "forward_errors", s->fwd_err);
	jsonw_u64(w, "rules_sent", s->rules_tx);
	jsonw_u64(w, "rules_send_errors", s->rules_tx_err);
	jsonw_u64(w, "rules_installed", s->rules_rx);
	jsonw_u64(w, "rules_install_errors", s->rules_rx_err);
	jsonw_u64(w, "rules_table_full", s->rules_full);
	jsonw_u64(w, "control_refused", s->ctl_bad);
	jsonw_u64(w, "shard_maps", s->shard_maps);
	jsonw_u64(w, "adopted", s->adopted);
	jsonw_u64(w, "mirror_packets_sent", s->mirror_tx);
	jsonw_u64(w, "mirror_send_errors", s->mirror_tx_err);
	jsonw_u64(w, "mirror_packets_received", s->mirror_rx);
	jsonw_u64(w, "mirror_records_applied", s->mirror_applied);
	jsonw_u64(w, "mirror_records_refused", s->mirror_rx_err);
	jsonw_u64(w, "rules_expired", s->rules_expired);
	jsonw_u64(w, "touch_reports_sent", s->touch_tx);
	jsonw_u64(w, "touch_send_errors", s->touch_tx_err);
	jsonw_u64(w, "touch_reports_received", s->touch_rx);
	jsonw_u64(w, "flows_touched", s->touched);
	jsonw_u64(w, "relayed_to_primary", s->relayed);
	jsonw_u64(w, "relay_errors", s->relay_err);
	jsonw_u64(w, "queries_sent", s->query_tx);
	jsonw_u64(w, "query_send_errors", s->query_tx_err);
	jsonw_u64(w, "queries_answered", s->query_rx);
	jsonw_u64(w, "answer_send_errors", s->answer_tx_err);
	jsonw_u64(w, "answers_received", s->answer_rx);
	jsonw_u64(w, "answer_records_refused", s->answer_refused);
	jsonw_obj_close(w);
}

/* The replication policy and what the state prediction engine did. */
static void admin_cell_pred(struct jsonw *w, const struct cluster *cl,
			    const struct cell_predictor *p)
{
	jsonw_obj_open(w, "replication_policy");
	jsonw_str(w, "policy",
		  cl->repl_policy == CLUSTER_REPL_PREDICTED ? "predicted"
							    : "fixed");
	jsonw_u64(w, "flows_one_copy", p->single);
	jsonw_u64(w, "flows_replicated", p->mirrored);
	jsonw_u64(w, "raised_lived_on", p->promoted);
	jsonw_u64(w, "raised_not_the_pick", p->rederive);
	jsonw_u64(w, "flows_learnt", p->learnt);
	jsonw_bool(w, "at_risk", cell_predictor_at_risk(p));
	jsonw_u64(w, "times_at_risk", p->risks);
	jsonw_u64(w, "raised_at_risk", p->at_risk);
	jsonw_obj_close(w);
}

/* Flows asked about before they were decided. */
static void admin_cell_query(struct jsonw *w, const struct query_stats *s)
{
	jsonw_obj_open(w, "query");
	jsonw_u64(w, "flows_asked", s->flows);
	jsonw_u64(w, "found_elsewhere", s->found);
	jsonw_u64(w, "new_everywhere", s->none);
	jsonw_u64(w, "timed_out", s->timeouts);
	jsonw_u64(w, "asked_again", s->resent);
	jsonw_u64(w, "packets_held", s->held);
	jsonw_u64(w, "packets_released", s->released);
	jsonw_u64(w, "packets_dropped", s->dropped);
	jsonw_u64(w, "answers_unsolicited", s->unsolicited);
	jsonw_obj_close(w);
}

/* Exceptions held while a restarted cell's shards come back. */
static void admin_cell_hold(struct jsonw *w, const struct hold_stats *s)
{
	jsonw_obj_open(w, "hold");
	jsonw_u64(w, "shards_waited", s->waits);
	jsonw_u64(w, "shards_timed_out", s->timeouts);
	jsonw_u64(w, "packets_held", s->held);
	jsonw_u64(w, "packets_released", s->released);
	jsonw_u64(w, "packets_dropped", s->dropped);
	jsonw_obj_close(w);
}

static void admin_cell_health(struct jsonw *w, const struct health_stats *s)
{
	jsonw_obj_open(w, "health");
	jsonw_u64(w, "checks", s->checks);
	jsonw_u64(w, "failures", s->failures);
	jsonw_u64(w, "changes", s->changes);
	jsonw_u64(w, "backends_down", s->down);
	jsonw_obj_close(w);
}

/* The replication streams: what went to mirrors, came from primaries. */
static void admin_cell_repl(struct jsonw *w, const struct repl_stats *s)
{
	int i;

	jsonw_obj_open(w, "replication");
	jsonw_u64(w, "records_sent", s->recs_tx);
	jsonw_u64(w, "frames_sent", s->frames_tx);
	jsonw_u64(w, "bytes_sent", s->bytes_tx);
	jsonw_u64(w, "snapshots", s->snapshots);
	jsonw_u64(w, "lag_frames", s->lag);
	jsonw_u64(w, "records_received", s->recs_rx);
	jsonw_u64(w, "applied", s->applied);
	jsonw_u64(w, "ignored_older", s->ignored);
	jsonw_u64(w, "apply_errors", s->apply_err);
	jsonw_u64(w, "bytes_received", s->bytes_rx);
	jsonw_u64(w, "connects", s->connects);
	jsonw_u64(w, "accepts", s->accepts);
	jsonw_u64(w, "drops", s->drops);
	jsonw_u64(w, "handback_records_sent", s->handback_tx);
	jsonw_u64(w, "handback_records_received", s->handback_rx);
	jsonw_u64(w, "handback_records_applied", s->handback_applied);
	jsonw_u64(w, "handbacks_done", s->handbacks_done);
	jsonw_u64(w, "stray_records_dropped", s->collected);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "replication_chain");
	jsonw_u64(w, "links_sent", s->chain_links_tx);
	jsonw_u64(w, "links_received", s->chain_links_rx);
	jsonw_u64(w, "records_held_back", s->chain_held);
	jsonw_u64(w, "resyncs_asked", s->chain_resyncs_tx);
	jsonw_u64(w, "resyncs_answered", s->chain_resyncs_rx);
	jsonw_u64(w, "batches_unchained", s->chain_unchained);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "replication_chain_breaks");
	for (i = REPL_CHAIN_GAP; i < REPL_CHAIN_REASONS; i++)
		jsonw_u64(w, repl_chain_break_name((enum repl_chain_break)i),
			  s->chain_breaks[i]);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "replication_rx");
	for (i = 0; i < CELLMSG_RX_REASONS; i++)
		if (i != CELLMSG_RX_NEED_MORE)
			jsonw_u64(w,
				  cellmsg_rx_reason_name(
					  (enum cellmsg_rx_reason)i),
				  s->rx.rx[i]);
	jsonw_obj_close(w);
}

static void admin_cell_flowtab(struct jsonw *w, const struct flowtab *t)
{
	struct flowtab_stats s;

	flowtab_get_stats(t, &s);
	jsonw_obj_open(w, "flowtab");
	jsonw_u64(w, "capacity", flowtab_capacity(t));
	jsonw_u64(w, "count", flowtab_count(t));
	jsonw_u64(w, "tombstones", flowtab_tombstones(t));
	jsonw_u64(w, "memory", flowtab_memory(t));
	jsonw_u64(w, "lookups", s.lookups);
	jsonw_u64(w, "hits", s.hits);
	jsonw_u64(w, "created", s.created);
	jsonw_u64(w, "applied", s.applied);
	jsonw_u64(w, "ignored_older", s.ignored_older);
	jsonw_u64(w, "full", s.full);
	jsonw_u64(w, "invalid", s.invalid);
	jsonw_u64(w, "state_changes", s.state_changes);
	jsonw_u64(w, "closed", s.closed);
	jsonw_u64(w, "expired", s.expired);
	jsonw_u64(w, "reclaimed", s.reclaimed);
	jsonw_u64(w, "deleted", s.deleted);
	jsonw_bool(w, "pressure", flowtab_pressure(t));
	jsonw_u64(w, "halfopen_expired", s.halfopen_expired);
	jsonw_obj_close(w);
}

/* Every control datagram received, by what became of it. */
static void admin_cell_ctl(struct jsonw *w, const struct cellmsg_counters *c)
{
	int i;

	jsonw_obj_open(w, "cell_ctl_rx");
	for (i = 0; i < CELLMSG_RX_REASONS; i++)
		if (i != CELLMSG_RX_NEED_MORE) /* streams only: no counter */
			jsonw_u64(w,
				  cellmsg_rx_reason_name(
					  (enum cellmsg_rx_reason)i),
				  c->rx[i]);
	jsonw_obj_close(w);
}

void admin_cell_counters(struct steerd *d, struct jsonw *w)
{
	struct cell *c = d->cell;

	admin_host_xdp(w, cell_xdp(c), true);
	admin_cell_stats(w, cell_stats(c));
	admin_cell_flowtab(w, cell_flowtab(c));
	admin_cell_ctl(w, cell_ctl_counters(c));
	admin_cell_repl(w, cell_repl_stats(c));
	admin_cell_health(w, cell_health_stats(c));
	admin_cell_hold(w, cell_hold_stats(c));
	admin_cell_query(w, cell_query_stats(c));
	admin_cell_pred(w, &d->world->cluster, cell_predictor(c));
}

/* --- flows ---------------------------------------------------------- */

struct admin_cell_walk {
	struct jsonw *w;
	const struct cluster *c;
	uint32_t limit, shown;
	uint32_t now; /* the records' clock: cell_now_ms() */
	struct flowtab *t;
	const struct shard_map *m;
};

static const char *admin_cell_state(uint8_t st)
{
	switch (st) {
	case FLOWTAB_ST_NEW:
		return "new";
	case FLOWTAB_ST_ESTABLISHED:
		return "established";
	case FLOWTAB_ST_CLOSING:
		return "closing";
	case FLOWTAB_ST_CLOSED:
		return "closed";
	}
	return "?";
}

/* A node by its name in the cluster, else its id. */
static void admin_cell_node(struct jsonw *w, const char *key,
			    const struct cluster *c, uint16_t id)
{
	const struct cluster_node *n = cluster_node_by_id(c, id);

	if (n)
		jsonw_str(w, key, n->ep.name);
	else
		jsonw_strf(w, key, "%u", id);
}

static int admin_cell_flow_one(const struct flowtab_rec *r, void *arg)
{
	struct admin_cell_walk *a = arg;
	const struct cluster_backend *b =
		cluster_backend_by_id(a->c, r->backend);
	struct jsonw *w = a->w;
	uint32_t shard;
	int i;

	if (a->shown >= a->limit)
		return 1;
	jsonw_obj_open(w, NULL);
	admin_key_write(w, &r->key);
	jsonw_str(w, "state", admin_cell_state(r->state));
	if (b)
		jsonw_str(w, "backend", b->ep.name);
	else
		jsonw_strf(w, "backend", "%u", r->backend);
	admin_cell_node(w, "primary", a->c, r->primary);
	shard = flowtab_shard_of(a->t, &r->key);
	jsonw_u64(w, "shard", shard);
	/* Who this cell's map says owns the shard: the record should say
	 * the same, once a change has settled. */
	admin_cell_node(w, "shard_primary", a->c, a->m->cell[shard][0]);
	jsonw_arr_open(w, "mirrors");
	for (i = 0; i + 1 < r->rf && i < STEER_MAX_MIRRORS; i++)
		admin_cell_node(w, NULL, a->c, r->mirror[i]);
	jsonw_arr_close(w);
	jsonw_u64(w, "rf", r->rf);
	jsonw_u64(w, "version", r->version);
	jsonw_u64(w, "epoch", r->epoch);
	/* One wrapping ms clock: differences are right modulo 2^32. */
	jsonw_u64(w, "age_ms", (uint32_t)(a->now - r->created_ms));
	jsonw_u64(w, "idle_ms", (uint32_t)(a->now - r->last_ms));
	jsonw_obj_close(w);
	a->shown++;
	return 0;
}

void admin_cell_flows(struct steerd *d, uint32_t limit, struct jsonw *w)
{
	struct flowtab *t = cell_flowtab(d->cell);
	struct admin_cell_walk a = {.w = w,
				    .c = &d->world->cluster,
				    .limit = limit,
				    .now = cell_now_ms(),
				    .t = t,
				    .m = cell_shards(d->cell)};
	uint32_t s;

	jsonw_u64(w, "count", flowtab_count(t));
	jsonw_u64(w, "tombstones", flowtab_tombstones(t));
	jsonw_u64(w, "capacity", flowtab_capacity(t));
	jsonw_u64(w, "limit", limit);
	jsonw_arr_open(w, "flows");
	for (s = 0; s < FLOWTAB_SHARDS && a.shown < limit; s++)
		if (flowtab_shard_count(t, s))
			flowtab_shard_walk(t, s, admin_cell_flow_one, &a);
	jsonw_arr_close(w);
	jsonw_u64(w, "shown", a.shown);
}

/* --- shards --------------------------------------------------------- */

static const char *admin_cell_node_state(struct steerd *d, uint16_t id)
{
	struct steerd_node_info info;

	if (d->nodes.node_info(d->nodes.ctx, id, &info))
		return "unknown";
	return info.state;
}

/* A chain head, short: its first 8 bytes in hex. */
static void admin_cell_head(struct jsonw *w, const char *key,
			    const uint8_t *head)
{
	char hex[17];
	int i;

	for (i = 0; i < 8; i++)
		snprintf(hex + 2 * i, 3, "%02x", head[i]);
	jsonw_str(w, key, hex);
}

static const char *admin_cell_node_name(const struct cluster *c, uint16_t id)
{
	const struct cluster_node *n = cluster_node_by_id(c, id);

	return n ? n->ep.name : NULL;
}

/* Which way a chain runs and the cell at its other end. */
static void admin_cell_chain_peer(struct steerd *d, struct jsonw *w, bool tx,
				  uint16_t peer)
{
	jsonw_str(w, "dir", tx ? "to" : "from");
	jsonw_u64(w, "cell", peer);
	jsonw_str_opt(w, "name",
		      admin_cell_node_name(&d->world->cluster, peer));
}

/* The shard's chains: to each mirror it streams to, from each primary. */
static void admin_cell_shard_chains(struct steerd *d, uint32_t shard,
				    struct jsonw *w)
{
	struct repl_chain_info ci[2 * CLUSTER_MAX_NODES];
	const struct repl *r = cell_repl(d->cell);
	uint32_t n, i;

	n = repl_chains_of(r, (uint16_t)shard, ci, 2 * CLUSTER_MAX_NODES);
	if (n > 2 * CLUSTER_MAX_NODES)
		n = 2 * CLUSTER_MAX_NODES;
	jsonw_arr_open(w, "chains");
	for (i = 0; i < n; i++) {
		jsonw_obj_open(w, NULL);
		admin_cell_chain_peer(d, w, ci[i].tx, ci[i].peer);
		jsonw_u64(w, "seq", ci[i].seq);
		admin_cell_head(w, "head", ci[i].head);
		jsonw_str(w, "state",
			  ci[i].broken ? repl_chain_break_name(ci[i].broken)
				       : "ok");
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

static void admin_cell_shard_one(struct steerd *d, uint32_t shard,
				 struct jsonw *w)
{
	const struct shard_map *m = cell_shards(d->cell);
	const struct cluster *c = &d->world->cluster;
	const struct cluster_node *n;
	uint32_t i;

	jsonw_u64(w, "shard", shard);
	jsonw_u64(w, "rf", m->rf);
	jsonw_u64(w, "records_here",
		  flowtab_shard_count(cell_flowtab(d->cell), shard));
	jsonw_arr_open(w, "cells");
	for (i = 0; i < m->rf && i < 1 + STEER_MAX_MIRRORS; i++) {
		uint16_t id = m->cell[shard][i];

		if (id == STEER_NODE_NONE)
			break;
		n = cluster_node_by_id(c, id);
		jsonw_obj_open(w, NULL);
		jsonw_u64(w, "rank", i);
		jsonw_str(w, "role", i ? "mirror" : "primary");
		jsonw_u64(w, "id", id);
		jsonw_str_opt(w, "name", n ? n->ep.name : NULL);
		jsonw_str(w, "state", admin_cell_node_state(d, id));
		jsonw_bool(w, "self", n && n == cluster_self(c));
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
	jsonw_bool(w, "chain", repl_chain_on(cell_repl(d->cell)));
	admin_cell_shard_chains(d, shard, w);
}

/* Every stream's chains summed up: chains, links, a fingerprint of
 * their heads (equal on both ends when the mirror took it all). */
static void admin_cell_chain_streams(struct steerd *d, struct jsonw *w)
{
	struct repl_chain_stream cs[2 * CLUSTER_MAX_NODES];
	uint32_t n, i;

	n = repl_chain_streams(cell_repl(d->cell), cs, 2 * CLUSTER_MAX_NODES);
	if (n > 2 * CLUSTER_MAX_NODES)
		n = 2 * CLUSTER_MAX_NODES;
	jsonw_arr_open(w, "chains");
	for (i = 0; i < n; i++) {
		jsonw_obj_open(w, NULL);
		admin_cell_chain_peer(d, w, cs[i].tx, cs[i].peer);
		jsonw_u64(w, "shards", cs[i].chains);
		jsonw_u64(w, "broken", cs[i].broken);
		jsonw_u64(w, "links", cs[i].links);
		jsonw_strf(w, "fingerprint", "%016llx",
			   (unsigned long long)cs[i].fingerprint);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

static void admin_cell_shard_summary(struct steerd *d, struct jsonw *w)
{
	const struct shard_map *m = cell_shards(d->cell);
	const struct cluster *c = &d->world->cluster;
	uint16_t self = cluster_self(c)->ep.id;
	uint32_t i;

	jsonw_u64(w, "shards", STEER_SHARDS);
	jsonw_u64(w, "cells_live", m->n_cells);
	jsonw_u64(w, "rf", m->rf);
	jsonw_u64(w, "primary_of", shard_map_count(m, self, 0));
	jsonw_u64(w, "mirror_of", shard_map_count(m, self, 1));
	jsonw_arr_open(w, "cells");
	for (i = 0; i < c->n_nodes; i++) {
		uint16_t id = c->nodes[i].ep.id;

		jsonw_obj_open(w, NULL);
		jsonw_u64(w, "id", id);
		jsonw_str(w, "name", c->nodes[i].ep.name);
		jsonw_str(w, "state", admin_cell_node_state(d, id));
		jsonw_bool(w, "self", i == c->self);
		jsonw_u64(w, "primary_of", shard_map_count(m, id, 0));
		jsonw_u64(w, "mirror_of", shard_map_count(m, id, 1));
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
	jsonw_bool(w, "chain", repl_chain_on(cell_repl(d->cell)));
	admin_cell_chain_streams(d, w);
}

void admin_cell_shards(struct steerd *d, int32_t shard, struct jsonw *w)
{
	if (shard < 0)
		admin_cell_shard_summary(d, w);
	else
		admin_cell_shard_one(d, (uint32_t)shard, w);
}
