// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/admin_host.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/host.h"
#include "node/node_tmpl.h"
#include "daemon/steerd.h"
#include "daemon/steerd_gossip.h"
#include "xdp/sockops.h"
#include "xdp/xdp_maps.h"

void admin_host_xdp(struct jsonw *w, struct xdp_prog *x, bool cell)
{
	struct steer_xdp_stats s;
	int i;

	if (xdp_maps_stats_read(x, &s))
		return;
	jsonw_obj_open(w, "xdp");
	jsonw_u64(w, "rx_packets", s.rx_packets);
	jsonw_u64(w, "rx_bytes", s.rx_bytes);
	jsonw_u64(w, "notip", s.notip);
	jsonw_u64(w, "decap", s.decap);
	jsonw_u64(w, "miss", s.miss);
	jsonw_u64(w, "udp_new", s.udp_new);
	if (!cell) {
		jsonw_u64(w, "dir_rerouted", s.dir_rerouted);
		jsonw_u64(w, "dir_taught", s.dir_taught);
		jsonw_u64(w, "dir_asked", s.dir_asked);
	}
	if (cell) {
		jsonw_u64(w, "exceptions_in", s.exc_in);
		jsonw_u64(w, "close_to_cell", s.close_to_cell);
	}
	jsonw_u64(w, "events_lost", s.ev_lost);
	jsonw_u64(w, "guard_over", s.guard_over);
	jsonw_u64(w, "guard_source_over", s.guard_src_over);
	jsonw_u64(w, "guard_stateless", s.guard_stateless);
	if (cell)
		jsonw_u64(w, "guard_direct", s.guard_direct);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "xdp_action");
	for (i = STEER_ACT_NONE + 1; i < STEER_ACT__MAX; i++)
		jsonw_u64(w, fastpath_action_name((uint8_t)i), s.action[i]);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "xdp_parse_err");
	for (i = 1; i < PERR__MAX; i++)
		jsonw_u64(w, fastpath_parse_err_name(i), s.parse_err[i]);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "xdp_drop");
	for (i = STEER_DROP_NONE + 1; i < STEER_DROP__MAX; i++)
		jsonw_u64(w, fastpath_drop_name((enum steer_drop)i), s.drop[i]);
	jsonw_obj_close(w);
}

static void admin_host_sockops(struct jsonw *w, struct sockops *so)
{
	struct steer_sock_stats s;

	if (sockops_stats_read(so, &s))
		return;
	jsonw_obj_open(w, "sockops");
	jsonw_u64(w, "established", s.up);
	jsonw_u64(w, "closed", s.down);
	jsonw_u64(w, "events_lost", s.ev_lost);
	jsonw_u64(w, "table_full", s.table_full);
	jsonw_obj_close(w);
}

static void admin_host_stats(struct jsonw *w, const struct host_stats *s)
{
	jsonw_obj_open(w, "host");
	jsonw_u64(w, "tcp_established", s->ev_tcp_up);
	jsonw_u64(w, "tcp_closed", s->ev_tcp_down);
	jsonw_u64(w, "udp_new", s->ev_udp_new);
	jsonw_u64(w, "events_ignored", s->ev_ignored);
	jsonw_u64(w, "events_bad", s->ev_bad);
	jsonw_u64(w, "announced", s->announced);
	jsonw_u64(w, "closed", s->closed);
	jsonw_u64(w, "reannounced", s->reannounced);
	jsonw_u64(w, "flows_set", s->flows_set);
	jsonw_u64(w, "flows_deleted", s->flows_del);
	jsonw_u64(w, "flow_errors", s->flow_errors);
	jsonw_u64(w, "flow_table_full", s->flow_table_full);
	jsonw_u64(w, "grace_dropped", s->grace_dropped);
	jsonw_u64(w, "teach_reports", s->ev_teach);
	jsonw_u64(w, "hint_teach_reports", s->ev_hint_teach);
	jsonw_u64(w, "teach_failed", s->teach_failed);
	jsonw_u64(w, "ask_reports", s->ev_ask);
	jsonw_u64(w, "ask_failed", s->ask_failed);
	jsonw_u64(w, "homes_written", s->homes_written);
	jsonw_u64(w, "homes_errors", s->homes_errors);
	jsonw_u64(w, "reconciled", s->reconciled);
	jsonw_u64(w, "udp_moved", s->udp_moved);
	jsonw_u64(w, "udp_taken", s->udp_taken);
	jsonw_obj_close(w);
}

static void admin_host_gossip(struct jsonw *w, struct steerd_gossip *sg)
{
	struct gossip *g = steerd_gossip_node(sg);
	const struct gossip_counters *c = gossip_counters(g);
	const struct gossip_net_counters *ss = steerd_gossip_net_counters(sg);
	int i;

	jsonw_obj_open(w, "gossip");
	jsonw_u64(w, "incarnation", gossip_incarnation(g));
	jsonw_u64(w, "health", gossip_health(g));
	jsonw_u64(w, "alive", gossip_member_count(g, GOSSIP_ALIVE));
	jsonw_u64(w, "suspect", gossip_member_count(g, GOSSIP_SUSPECT));
	jsonw_u64(w, "dead", gossip_member_count(g, GOSSIP_DEAD));
	jsonw_u64(w, "sessions", gossip_session_count(g, true));
	jsonw_u64(w, "datagrams_in", ss->rx);
	jsonw_u64(w, "datagrams_out", c->tx);
	jsonw_u64(w, "bytes_in", ss->rx_bytes);
	jsonw_u64(w, "bytes_out", ss->tx_bytes);
	jsonw_u64(w, "send_errors", ss->tx_err);
	jsonw_u64(w, "probes", c->probes);
	jsonw_u64(w, "probes_failed", c->probes_failed);
	jsonw_u64(w, "ping_reqs", c->ping_reqs);
	jsonw_u64(w, "suspicions", c->suspicions);
	jsonw_u64(w, "refutes", c->refutes);
	jsonw_u64(w, "syncs", c->syncs);
	jsonw_u64(w, "sync_updates", c->sync_updates);
	jsonw_u64(w, "pushes", c->pushes);
	jsonw_u64(w, "dissemination_dropped", c->dissem_dropped);
	jsonw_u64(w, "records", gossip_session_count(g, false));
	jsonw_u64(w, "records_bytes", gossip_session_bytes(g));
	jsonw_u64(w, "dir_sent", c->dir_sent);
	jsonw_u64(w, "dir_refreshes", c->dir_refreshes);
	jsonw_u64(w, "dir_taught", c->dir_taught);
	jsonw_u64(w, "dir_forwarded", c->dir_forwarded);
	jsonw_u64(w, "dir_expired", c->dir_expired);
	jsonw_u64(w, "dir_dropped", c->dir_dropped);
	jsonw_u64(w, "orders_sent", c->orders_sent);
	jsonw_u64(w, "orders_in", c->orders_in);
	jsonw_u64(w, "orders_refused", c->orders_refused);
	jsonw_u64(w, "asks_sent", c->asks_sent);
	jsonw_u64(w, "asks_limited", c->asks_limited);
	jsonw_u64(w, "asks_in", c->asks_in);
	jsonw_u64(w, "asks_answered", c->asks_answered);
	jsonw_u64(w, "asks_refused", c->asks_refused);
	jsonw_obj_close(w);
	/* Every datagram received, by what became of it. */
	jsonw_obj_open(w, "gossip_rx");
	for (i = 0; i < GOSSIP_RX_REASONS; i++)
		jsonw_u64(w, gossip_rx_reason_name((enum gossip_rx_reason)i),
			  c->rx[i]);
	jsonw_u64(w, "unknown_updates", c->rx_unknown_updates);
	jsonw_u64(w, "misdirected", c->rx_misdirected);
	jsonw_u64(w, "socket_errors", ss->rx_err);
	jsonw_u64(w, "truncated", ss->rx_trunc);
	jsonw_obj_close(w);
}

void admin_host_counters(struct steerd *d, struct jsonw *w)
{
	if (d->host) {
		admin_host_xdp(w, host_xdp(d->host), false);
		admin_host_sockops(w, host_sockops(d->host));
		admin_host_stats(w, host_stats(d->host));
	}
	if (d->gossip)
		admin_host_gossip(w, d->gossip);
}

static void admin_host_mac(struct jsonw *w, const char *key, const uint8_t *m)
{
	jsonw_strf(w, key, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		   m[3], m[4], m[5]);
}

static const char *admin_node_tmpl_what(uint8_t what)
{
	switch (what) {
	case NODE_TMPL_SELF:
		return "self";
	case NODE_TMPL_BACKEND:
		return "backend";
	}
	return "node";
}

static const char *admin_node_tmpl_kind(uint8_t kind)
{
	switch (kind) {
	case STEER_TMPL_GUE0:
		return "gue0";
	case STEER_TMPL_GUE1:
		return "gue1";
	case STEER_TMPL_IPIP:
		return "ipip";
	}
	return "none";
}

/* The name the cluster gives the template's target; NULL when none. */
static const char *admin_node_tmpl_name(const struct cluster *c,
					const struct node_tmpl_node *hn)
{
	const struct cluster_backend *b;
	const struct cluster_node *n;

	if (hn->what == NODE_TMPL_BACKEND) {
		b = cluster_backend_by_id(c, hn->id);
		return b ? b->ep.name : NULL;
	}
	n = cluster_node_by_id(c, hn->id);
	return n ? n->ep.name : NULL;
}

void admin_host_templates(struct steerd *d, const struct node_tmpls *t,
			  bool targets, struct jsonw *w)
{
	const struct cluster *c = &d->world->cluster;
	uint32_t i;

	jsonw_arr_open(w, "templates");
	for (i = 0; i < t->n; i++) {
		const struct node_tmpl_node *hn = &t->nodes[i];

		jsonw_obj_open(w, NULL);
		if (targets)
			jsonw_str(w, "target", admin_node_tmpl_what(hn->what));
		jsonw_u64(w, "id", hn->id);
		jsonw_str_opt(w, "name", admin_node_tmpl_name(c, hn));
		if (targets) {
			jsonw_u64(w, "index", hn->index);
			jsonw_str(w, "kind", admin_node_tmpl_kind(hn->kind));
			if (hn->kind == STEER_TMPL_IPIP)
				jsonw_null(w, "dport"); /* no UDP */
			else
				jsonw_u64(w, "dport", ntohs(hn->dport));
		}
		jsonw_str(w, "source", node_tmpl_src_name(hn->src));
		if (hn->src != NODE_TMPL_NONE) {
			admin_host_mac(w, "dst_mac", hn->tmpl.hdr);
			admin_host_mac(w, "src_mac", hn->tmpl.hdr + 6);
		} else {
			jsonw_null(w, "dst_mac");
			jsonw_null(w, "src_mac");
		}
		jsonw_bool(w, "via_gateway", hn->via_gateway);
		jsonw_u64(w, "len", hn->tmpl.len);
		jsonw_str(w, "kernel",
			  hn->last_err ? strerror(-hn->last_err) : "resolved");
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}
