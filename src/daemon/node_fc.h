/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * This node's load as time series and their forecasts: CPU busy and
 * memory used (permille), the bandwidth its fast path receives and the
 * bandwidth it sends, its sessions, new sessions per second and packets
 * per second to the exception path, sampled every NODE_FC_PERIOD_MS into bounded rings (10
 * minutes), each with an online forecaster (forecast/online.h) that
 * refits every 10 samples and offers the model with the lowest recent
 * error; and the telemetry of this node's busiest TCP sessions
 * (node/flow_tele.h) and of the busiest flows its XDP program steers
 * (node/xdp_tele.h), a round of each per sample. steerctl forecast shows them;
 * the CPU, memory and bandwidth forecasts go out with gossip
 * (node_fc_forecast()).
 */
#ifndef STEER_DAEMON_NODE_FC_H
#define STEER_DAEMON_NODE_FC_H

#include "daemon/jsonw.h"
#include "xdp/sockops.h"
#include "xdp/xdp_prog.h"

#define NODE_FC_PERIOD_MS 1000
#define NODE_FC_SAMPLES 600 /* kept per series: 10 minutes */

struct node_fc;

/* NULL with errno ENOMEM. */
struct node_fc *node_fc_new(void);
void node_fc_free(struct node_fc *f);

/* One sample of every series (x, so may be NULL: bandwidth, sessions 0);
 * CPU of the cgroup at cpu_cgroup (NULL: the machine's, node_load.h). */
void node_fc_sample(struct node_fc *f, struct xdp_prog *x, struct sockops *so,
		    const char *cpu_cgroup);

/* Per series: the last value, the forecasts at +10 s and +60 s with their
 * 95% intervals, the model offered and every model's recent error; then
 * the busiest max_flows of the TCP sessions tracked (node/flow_tele.h):
 * rates, RTT and its trend, retransmissions; then as many of the steered
 * flows tracked (rates, sizes, gaps between packets). */
void node_fc_write(struct node_fc *f, struct jsonw *w, uint32_t max_flows);

/* Every series' samples, oldest first, with the number of the first
 * (samples taken before it) so that dumps taken apart can be joined. */
void node_fc_write_series(struct node_fc *f, struct jsonw *w);

/*
 * The forecast of every series ahead_s seconds ahead as gossip carries
 * it (mean and the 95% interval's upper end, clamped to what the series
 * can hold): 0, or -EAGAIN while a series has no model yet. Its node and
 * seq are left for gossip to fill.
 */
struct gossip_forecast_update;
int node_fc_forecast(const struct node_fc *f, unsigned ahead_s,
		     struct gossip_forecast_update *out);

/* Refit every n samples (1..NODE_FC_REFIT_MAX; steerd's
 * 'forecast-refit'): 0 or -EINVAL. And the current value. */
#define NODE_FC_REFIT_MAX 60
int node_fc_refit_set(struct node_fc *f, uint32_t n);
uint32_t node_fc_refit(const struct node_fc *f);

/* Samples taken (a new forecast is worth publishing every refit). */
uint64_t node_fc_samples(const struct node_fc *f);

/* The telemetry of this node's busiest TCP sessions (node/flow_tele.h). */
struct flow_tele;
const struct flow_tele *node_fc_sessions(const struct node_fc *f);
#define NODE_FC_PUBLISH_AHEAD 60 /* seconds ahead gossip carries */

#endif /* STEER_DAEMON_NODE_FC_H */
