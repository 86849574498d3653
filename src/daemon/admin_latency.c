// SPDX-License-Identifier: GPL-2.0-only
/*
 * admin 'latency': the daemon's latency histograms, as the buckets'
 * bounds and counts (metrics.h turns them into Prometheus histograms)
 * and, for a person, the median and the 99th percentile.
 */
#include "daemon/admin_latency.h"

#include <stdint.h>

#include "cell/cell.h"
#include "cell/repl.h"
#include "daemon/steerd.h"
#include "daemon/steerd_gossip.h"
#include "gossip/gossip.h"
#include "util/hist.h"

static void admin_hist(struct jsonw *w, const char *name, const char *help,
		       const struct hist *h)
{
	uint64_t q;
	unsigned int i;

	jsonw_obj_open(w, NULL);
	jsonw_str(w, "name", name);
	jsonw_str(w, "help", help);
	jsonw_u64(w, "count", h->count);
	jsonw_u64(w, "sum_us", h->sum_us);
	q = hist_quantile_us(h, 0.5);
	if (q == UINT64_MAX || !h->count)
		jsonw_null(w, "p50_us");
	else
		jsonw_u64(w, "p50_us", q);
	q = hist_quantile_us(h, 0.99);
	if (q == UINT64_MAX || !h->count)
		jsonw_null(w, "p99_us");
	else
		jsonw_u64(w, "p99_us", q);
	jsonw_arr_open(w, "bounds_us");
	for (i = 0; i < HIST_BUCKETS; i++)
		jsonw_u64(w, NULL, hist_bound_us(i));
	jsonw_arr_close(w);
	jsonw_arr_open(w, "counts");
	for (i = 0; i < HIST_BUCKETS; i++)
		jsonw_u64(w, NULL, h->bucket[i]);
	jsonw_arr_close(w);
	jsonw_obj_close(w);
}

int admin_latency(struct steerd *d, int argc, char **argv, struct jsonw *w,
		  char *err, size_t errlen)
{
	jsonw_arr_open(w, "histograms");
	if (d->cell) {
		admin_hist(w, "exception_path_seconds",
			   "Exception datagrams, from the kernel's receipt at "
			   "the cell to the end of their burst (what they "
			   "caused sent)",
			   &cell_stats(d->cell)->exc_latency);
		admin_hist(w, "replication_ack_seconds",
			   "Replication frames, from being framed by the "
			   "primary to the mirror's acknowledgement",
			   &cell_repl_stats(d->cell)->ack_lag);
		admin_hist(w, "failover_detect_seconds",
			   "Cells found down (a reset stream, or silence): "
			   "from the last frame heard from them to that "
			   "finding, when their shards fail over",
			   &cell_repl_stats(d->cell)->down_detect);
	}
	if (d->gossip) {
		const struct gossip_hists *gh =
			gossip_hists(steerd_gossip_node(d->gossip));

		admin_hist(w, "gossip_suspicion_dead_seconds",
			   "Members suspected here and then known dead: from "
			   "the suspicion to the death",
			   &gh->suspect_dead);
		admin_hist(w, "gossip_suspicion_refuted_seconds",
			   "Members suspected here and then known alive "
			   "again (they refuted it): from the suspicion to "
			   "the refutation",
			   &gh->suspect_refuted);
	}
	jsonw_arr_close(w);
	return 0;
}
