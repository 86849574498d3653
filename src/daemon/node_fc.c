// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/node_fc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "forecast/online.h"
#include "node/node_load.h"

#define NODE_FC_SERIES 3
#define NODE_FC_REFIT 10 /* samples between refits */

static const char *const node_fc_names[NODE_FC_SERIES] = {
	"cpu_permille", "mem_permille", "rx_bps"};
/* What each series can hold: forecasts are clamped to it. */
static const double node_fc_max[NODE_FC_SERIES] = {1000, 1000, HUGE_VAL};
/* Seconds ahead steerctl shows. */
static const unsigned node_fc_ahead[] = {10, 60};

struct node_fc {
	struct node_load load;
	struct fc_online *s[NODE_FC_SERIES];
	uint64_t samples;
};

struct node_fc *node_fc_new(void)
{
	struct fc_online_cfg cfg = {
		.capacity = NODE_FC_SAMPLES,
		.refit_every = NODE_FC_REFIT,
		/* The farthest shown, plus the samples since a refit. */
		.horizon = 60 + NODE_FC_REFIT,
		.err_weight = 0.1,
	};
	struct node_fc *f = calloc(1, sizeof(*f));
	int i;

	if (!f)
		return NULL;
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
	free(f);
}

void node_fc_sample(struct node_fc *f, struct xdp_prog *x, struct sockops *so)
{
	double v[NODE_FC_SERIES];
	int i;

	node_load_measure(&f->load, x, so);
	/* The first measure is a baseline (CPU and bandwidth read 0). */
	if (!f->samples++)
		return;
	v[0] = f->load.cpu_permille;
	v[1] = f->load.mem_permille;
	v[2] = (double)f->load.bandwidth_bps;
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

void node_fc_write(struct node_fc *f, struct jsonw *w)
{
	int i;

	jsonw_u64(w, "period_ms", NODE_FC_PERIOD_MS);
	jsonw_arr_open(w, "forecasts");
	for (i = 0; i < NODE_FC_SERIES; i++)
		node_fc_series(w, node_fc_names[i], node_fc_max[i], f->s[i]);
	jsonw_arr_close(w);
}
