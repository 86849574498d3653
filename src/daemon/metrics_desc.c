// SPDX-License-Identifier: GPL-2.0-only
/*
 * The groups of figures steerd's admin answers hold, as metrics: the
 * names, the help text, and which members are gauges (metrics.h).
 */
#include "daemon/metrics.h"

#include <string.h>

#define GAUGES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct metrics_group metrics_groups[] = {
	{"daemon", "daemon", NULL,
	 "steerd itself: configuration generation, failed reloads, flows "
	 "carried across reloads, cache entries swept",
	 GAUGES("generation")},
	{"http", "http", NULL,
	 "This HTTP server: requests, scrapes of /metrics, errors", NULL},
	{"admin", "admin", NULL,
	 "The admin socket: requests, errors, connections", GAUGES("clients")},
	/* The userspace fast path, when no XDP program runs. */
	{"fastpath", "fastpath", NULL,
	 "The userspace fast path (no XDP program): packets and new flows",
	 NULL},
	{"action", "fastpath_packets", "action",
	 "Packets of the userspace fast path, by what it did with them", NULL},
	{"parse_err", "fastpath_parse_errors", "error",
	 "Packets the userspace fast path could not parse, by error", NULL},
	{"drop", "fastpath_drops", "reason",
	 "Packets the userspace fast path dropped, by reason", NULL},
	{"fsc", "fsc", NULL, "The userspace fast path's flow-state cache",
	 GAUGES("capacity", "count", "memory")},
	/* The XDP program. */
	{"xdp", "xdp", NULL,
	 "The XDP fast path: packets, misses, exceptions, flood guard", NULL},
	{"xdp_action", "xdp_packets", "action",
	 "Packets of the XDP fast path, by what it did with them", NULL},
	{"xdp_parse_err", "xdp_parse_errors", "error",
	 "Packets the XDP fast path could not parse, by error", NULL},
	{"xdp_drop", "xdp_drops", "reason",
	 "Packets the XDP fast path dropped, by reason", NULL},
	/* Host mode. */
	{"sockops", "sockops", NULL,
	 "The sock_ops program: TCP sessions seen opening and closing", NULL},
	{"host", "host", NULL,
	 "Host mode: sessions announced, flows set, directory traffic", NULL},
	{"gossip", "gossip", NULL,
	 "Gossip: members by state, sessions, datagrams, probes, directory",
	 GAUGES("incarnation", "health", "alive", "suspect", "dead", "sessions",
		"records", "records_bytes")},
	{"gossip_rx", "gossip_datagrams_received", "outcome",
	 "Gossip datagrams received, by what became of them", NULL},
	{"cache", "cache", NULL,
	 "The predictive header cache: entries in memory (L1) and on disk "
	 "(L2), hints placed, hits",
	 GAUGES("l1", "l1_rules", "l1_max", "l2", "l1_hit_entries",
		"l1_hit_ratio")},
	{"hints", "hints", NULL, "Migration hints this node sends",
	 GAUGES("on", "threshold_permille", "held", "receivers")},
	/* Cell mode. */
	{"cell", "cell", NULL,
	 "The cell: exceptions, flows decided, rules, mirrors, touches, "
	 "queries",
	 NULL},
	{"flowtab", "flowtab", NULL, "The cell's flow table",
	 GAUGES("capacity", "count", "tombstones", "memory", "pressure")},
	{"cell_ctl_rx", "cell_control_received", "outcome",
	 "Cell control datagrams received, by what became of them", NULL},
	{"replication", "replication", NULL,
	 "Replication streams: records to mirrors, from primaries, "
	 "hand-backs",
	 GAUGES("lag_frames")},
	{"replication_chain", "replication_chain", NULL,
	 "Replication's hash chains: links sent and checked, records held "
	 "back from a broken chain, shards asked for again",
	 NULL},
	{"replication_chain_breaks", "replication_chain_breaks", "reason",
	 "Chains broken on this cell as a mirror, by reason (gap, reorder, "
	 "mismatch)",
	 NULL},
	{"replication_rx", "replication_frames_received", "outcome",
	 "Replication frames received, by what became of them", NULL},
	{"health", "health", NULL, "Backend health checks",
	 GAUGES("backends_down")},
	{"hold", "hold", NULL,
	 "Exceptions held while a restarted cell's shards come back", NULL},
	{"query", "query", NULL,
	 "Flows asked about among the cells before they were decided", NULL},
	{"replication_policy", "replication_policy", NULL,
	 "The replication policy and the state prediction engine",
	 GAUGES("at_risk")},
	{NULL, NULL, NULL, NULL, NULL},
};

const struct metrics_group *metrics_group_find(const char *key)
{
	const struct metrics_group *g;

	for (g = metrics_groups; g->key; g++)
		if (!strcmp(g->key, key))
			return g;
	return NULL;
}
