// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/node_fc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/admin.h"
#include "forecast/online.h"
#include "gossip/gossip_codec.h"
#include "node/flow_tele.h"
#include "node/node_load.h"
#include "node/xdp_tele.h"
#include "xdp/xdp_maps.h"
#include "util/evloop.h"

#define NODE_FC_SERIES 7
#define NODE_FC_REFIT 10 /* samples between refits, until told */

static const char *const node_fc_names[NODE_FC_SERIES] = {
	"cpu_permille",	      "mem_permille",  "rx_bps", "sessions",
	"new_sessions_per_s", "exception_pps", "tx_bps"};
/* What each series can hold: forecasts are clamped to it. */
static const double node_fc_max[NODE_FC_SERIES] = {
	1000, 1000, HUGE_VAL, HUGE_VAL, HUGE_VAL, HUGE_VAL, HUGE_VAL};
/* Seconds ahead steerctl shows. */
static const unsigned node_fc_ahead[] = {10, 60};

struct node_fc {
	struct node_load load;
	struct flow_tele *tele;	  /* this node's TCP sessions, the top k */
	struct xdp_tele *steered; /* the busiest flows its XDP steers */
	struct fc_online *s[NODE_FC_SERIES];
	uint64_t samples;
	uint32_t refit; /* samples between refits */
};

struct node_fc *node_fc_new(void)
{
	struct fc_online_cfg cfg = {
		.capacity = NODE_FC_SAMPLES,
		.refit_every = NODE_FC_REFIT,
		/* The farthest shown, plus the samples since a refit. */
		.horizon = 60 + NODE_FC_REFIT_MAX,
		.err_weight = 0.1,
	};
	struct node_fc *f = calloc(1, sizeof(*f));
	int i;

	if (!f)
		return NULL;
	f->refit = NODE_FC_REFIT;
	f->tele = flow_tele_new(FLOW_TELE_K_DEFAULT);
	f->steered = xdp_tele_new(0);
	if (!f->tele || !f->steered) {
		node_fc_free(f);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < NODE_FC_SERIES; i++) {
		f->s[i] = fc_online_new(&cfg);
		if (!f->s[i]) {
			node_fc_free(f);
			errno = ENOMEM;
			return NULL;
		}
	}
	return f;
}

void node_fc_free(struct node_fc *f)
{
	int i;

	if (!f)
		return;
	for (i = 0; i < NODE_FC_SERIES; i++)
		fc_online_free(f->s[i]);
	flow_tele_free(f->tele);
	xdp_tele_free(f->steered);
	free(f);
}

static int node_fc_offer(const struct flow_key *k,
			 const struct steer_sock_tele *t, void *arg)
{
	flow_tele_offer(arg, k, t);
	return 0;
}

static int node_fc_offer_udp(const struct flow_key *k,
			     const struct steer_udp_seen *u, void *arg)
{
	flow_tele_offer_udp(arg, k, u);
	return 0;
}

/* A round of the sessions' telemetry (the kernel's clock, as theirs):
 * TCP from sock_ops, UDP from the XDP program's steer_udp. */
static void node_fc_tele(struct node_fc *f, struct sockops *so,
			 struct xdp_prog *x)
{
	flow_tele_begin(f->tele, evloop_now_ns());
	if (so)
		sockops_sessions_foreach(so, node_fc_offer, f->tele);
	if (x)
		xdp_maps_udp_foreach(x, node_fc_offer_udp, f->tele);
	flow_tele_end(f->tele);
}

void node_fc_sample(struct node_fc *f, struct xdp_prog *x, struct sockops *so,
		    const char *cpu_cgroup)
{
	double v[NODE_FC_SERIES];
	int i;

	f->load.cpu_cgroup = cpu_cgroup;
	node_load_measure(&f->load, x, so);
	f->load.cpu_cgroup = NULL;
	if (so || x)
		node_fc_tele(f, so, x);
	if (x)
		xdp_tele_round(f->steered, x, evloop_now_ns());
	/* The first measure is a baseline (CPU and bandwidth read 0). */
	if (!f->samples++)
		return;
	v[0] = f->load.cpu_permille;
	v[1] = f->load.mem_permille;
	v[2] = (double)f->load.bandwidth_bps;
	v[3] = f->load.sessions;
	v[4] = f->load.new_per_s;
	v[5] = f->load.exception_pps;
	v[6] = (double)f->load.bandwidth_out_bps;
	/* Each series starts 3 samples after the one before: their refits
	 * (ARIMA's order search among them) fall on different seconds. */
	for (i = 0; i < NODE_FC_SERIES; i++)
		if (f->samples > 1 + 3 * (uint64_t)i)
			fc_online_add(f->s[i], v[i]);
}

static double node_fc_clamp(double v, double max)
{
	return v < 0 ? 0 : v > max ? max : v;
}

static void node_fc_series(struct jsonw *w, const char *name, double max,
			   const struct fc_online *o)
{
	struct fc_online_view v;
	double mean, lo, hi;
	unsigned i;
	int k;

	jsonw_obj_open(w, NULL);
	jsonw_str(w, "series", name);
	if (fc_online_forecast(o, 1, &mean, NULL, NULL, &v)) {
		jsonw_str(w, "model", "none yet");
		jsonw_obj_close(w);
		return;
	}
	jsonw_u64(w, "samples", v.samples);
	jsonw_double(w, "last", v.last);
	jsonw_str(w, "model", fc_kind_name(v.model));
	jsonw_double(w, "recent_error", v.err);
	for (i = 0; i < sizeof(node_fc_ahead) / sizeof(*node_fc_ahead); i++) {
		char key[32];

		if (fc_online_forecast(o, node_fc_ahead[i], &mean, &lo, &hi,
				       NULL))
			continue;
		snprintf(key, sizeof(key), "in_%us", node_fc_ahead[i]);
		jsonw_obj_open(w, key);
		jsonw_double(w, "mean", node_fc_clamp(mean, max));
		jsonw_double(w, "lo", node_fc_clamp(lo, max));
		jsonw_double(w, "hi", node_fc_clamp(hi, max));
		jsonw_obj_close(w);
	}
	jsonw_obj_open(w, "errors");
	for (k = 0; k < FC_KINDS; k++)
		if (v.err_of[k] >= 0)
			jsonw_double(w, fc_kind_name(k), v.err_of[k]);
	jsonw_obj_close(w);
	jsonw_obj_close(w);
}

void node_fc_write_series(struct node_fc *f, struct jsonw *w)
{
	static double v[NODE_FC_SAMPLES];
	uint64_t total;
	uint32_t n, j;
	int i;

	jsonw_u64(w, "period_ms", NODE_FC_PERIOD_MS);
	jsonw_arr_open(w, "series");
	for (i = 0; i < NODE_FC_SERIES; i++) {
		n = fc_online_samples(f->s[i], v, NODE_FC_SAMPLES, &total);
		jsonw_obj_open(w, NULL);
		jsonw_str(w, "series", node_fc_names[i]);
		jsonw_u64(w, "first", total - n);
		jsonw_arr_open(w, "values");
		for (j = 0; j < n; j++)
			jsonw_double(w, NULL, v[j]);
		jsonw_arr_close(w);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

const struct flow_tele *node_fc_sessions(const struct node_fc *f)
{
	return f->tele;
}

int node_fc_refit_set(struct node_fc *f, uint32_t n)
{
	int i;

	if (!n || n > NODE_FC_REFIT_MAX)
		return -EINVAL;
	for (i = 0; i < NODE_FC_SERIES; i++)
		fc_online_refit_set(f->s[i], n);
	f->refit = n;
	return 0;
}

uint32_t node_fc_refit(const struct node_fc *f)
{
	return f->refit;
}

uint64_t node_fc_samples(const struct node_fc *f)
{
	return f->samples;
}

/* Series i's forecast ahead_s ahead, clamped: 0 or -EAGAIN. */
static int node_fc_at(const struct node_fc *f, int i, unsigned ahead_s,
		      double *mean, double *hi)
{
	double lo;

	if (fc_online_forecast(f->s[i], ahead_s, mean, &lo, hi, NULL))
		return -EAGAIN;
	*mean = node_fc_clamp(*mean, node_fc_max[i]);
	*hi = node_fc_clamp(*hi, node_fc_max[i]);
	if (*hi < *mean)
		*hi = *mean;
	return 0;
}

int node_fc_forecast(const struct node_fc *f, unsigned ahead_s,
		     struct gossip_forecast_update *out)
{
	double m[3], hi[3];
	int i;

	/* CPU, memory, bandwidth: what gossip carries. */
	for (i = 0; i < 3; i++)
		if (node_fc_at(f, i, ahead_s, &m[i], &hi[i]))
			return -EAGAIN;
	memset(out, 0, sizeof(*out));
	out->horizon_s = (uint16_t)ahead_s;
	out->cpu_permille = (uint16_t)(m[0] + 0.5);
	out->cpu_hi = (uint16_t)(hi[0] + 0.5);
	out->mem_permille = (uint16_t)(m[1] + 0.5);
	out->mem_hi = (uint16_t)(hi[1] + 0.5);
	out->bandwidth_bps = (uint64_t)m[2];
	out->bandwidth_hi_bps = (uint64_t)hi[2];
	return 0;
}

/* The tracked sessions, busiest first, at most `max`. */
/* A UDP session's sizes and gaps, named as the steered flows' are. */
static void node_fc_dist_write(struct jsonw *w, const struct flow_tele_view *v)
{
	jsonw_double(w, "le128", v->size_share[0]);
	jsonw_double(w, "le512", v->size_share[1]);
	jsonw_double(w, "le1024", v->size_share[2]);
	jsonw_double(w, "gt1024", v->size_share[3]);
	jsonw_double(w, "gap_us", v->gap_mean_us);
	jsonw_double(w, "gap_sd_us", v->gap_sd_us);
}

static void node_fc_flows(struct node_fc *f, struct jsonw *w, uint32_t max)
{
	struct flow_tele_view v;
	uint32_t i;

	jsonw_u64(w, "sessions_seen", flow_tele_offered(f->tele));
	jsonw_u64(w, "sessions_tracked", flow_tele_count(f->tele));
	jsonw_arr_open(w, "flows");
	for (i = 0; i < max && !flow_tele_get(f->tele, i, &v); i++) {
		jsonw_obj_open(w, NULL);
		admin_key_write(w, &v.key);
		jsonw_double(w, "age_s", v.age_s);
		jsonw_double(w, "in_Bps", v.in_rate);
		jsonw_double(w, "out_Bps", v.out_rate);
		jsonw_double(w, "avg_Bps", v.avg_rate);
		jsonw_u64(w, "srtt_us", v.srtt_us);
		jsonw_double(w, "rtt_trend_us_s", v.rtt_trend_us_per_s);
		jsonw_double(w, "retrans_s", v.retrans_per_s);
		jsonw_double(w, "seg_bytes", v.mean_seg_bytes);
		jsonw_u64(w, "samples", v.samples);
		if (v.has_dist)
			node_fc_dist_write(w, &v);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

/* The tracked steered flows, busiest first, at most `max`. */
static void node_fc_steered(struct node_fc *f, struct jsonw *w, uint32_t max)
{
	const struct xdp_tele_stats *st = xdp_tele_stats(f->steered);
	struct xdp_tele_view v;
	uint32_t i;

	jsonw_u64(w, "steered_tracked", xdp_tele_count(f->steered));
	jsonw_u64(w, "steered_candidates", st->candidates);
	jsonw_u64(w, "steered_errors", st->errors);
	jsonw_arr_open(w, "steered");
	for (i = 0; i < max && !xdp_tele_get(f->steered, i, &v); i++) {
		jsonw_obj_open(w, NULL);
		admin_key_write(w, &v.key);
		jsonw_double(w, "age_s", v.age_s);
		jsonw_double(w, "pps", v.pps);
		jsonw_double(w, "Bps", v.bps);
		jsonw_double(w, "trend_Bps_s", v.trend_bps_s);
		jsonw_double(w, "pkt_bytes", v.mean_bytes);
		jsonw_double(w, "le128", v.size_share[0]);
		jsonw_double(w, "le512", v.size_share[1]);
		jsonw_double(w, "le1024", v.size_share[2]);
		jsonw_double(w, "gt1024", v.size_share[3]);
		jsonw_double(w, "gap_us", v.gap_mean_us);
		jsonw_double(w, "gap_sd_us", v.gap_sd_us);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
}

void node_fc_write(struct node_fc *f, struct jsonw *w, uint32_t max_flows)
{
	int i;

	jsonw_u64(w, "period_ms", NODE_FC_PERIOD_MS);
	jsonw_arr_open(w, "forecasts");
	for (i = 0; i < NODE_FC_SERIES; i++)
		node_fc_series(w, node_fc_names[i], node_fc_max[i], f->s[i]);
	jsonw_arr_close(w);
	node_fc_flows(f, w, max_flows);
	node_fc_steered(f, w, max_flows);
}
