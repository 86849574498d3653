// SPDX-License-Identifier: GPL-2.0-only
#include "forecast/online.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ARIMA's order is searched again every this many refits (32 fits). */
#define FC_ONLINE_ORDER_EVERY 30

struct fc_online {
	struct fc_online_cfg cfg;
	double *ring, *scratch;
	uint32_t head, count;
	uint64_t total;	 /* samples ever added */
	uint64_t fit_at; /* total at the last refit; 0: none */
	uint32_t refits;
	double last;
	double scale; /* the ring's mean absolute step at the refit */
	unsigned order[3];
	bool has_order;
	bool has[FC_KINDS]; /* a forecast path from the last refit */
	double path[FC_KINDS][FC_ONLINE_HMAX];
	double lo[FC_KINDS][FC_ONLINE_HMAX], hi[FC_KINDS][FC_ONLINE_HMAX];
	double err[FC_KINDS]; /* smoothed scaled error; -1: none */
};

struct fc_online *fc_online_new(const struct fc_online_cfg *cfg)
{
	struct fc_online *o;
	int k;

	if (cfg->capacity < 8 || !cfg->refit_every || !cfg->horizon ||
	    cfg->horizon > FC_ONLINE_HMAX || !(cfg->err_weight > 0) ||
	    cfg->err_weight > 1) {
		errno = EINVAL;
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->cfg = *cfg;
	o->ring = calloc(cfg->capacity, sizeof(*o->ring));
	o->scratch = calloc(cfg->capacity, sizeof(*o->scratch));
	if (!o->ring || !o->scratch) {
		fc_online_free(o);
		errno = ENOMEM;
		return NULL;
	}
	for (k = 0; k < FC_KINDS; k++)
		o->err[k] = -1;
	return o;
}

int fc_online_refit_set(struct fc_online *o, uint32_t n)
{
	if (!n)
		return -EINVAL;
	o->cfg.refit_every = n;
	return 0;
}

void fc_online_free(struct fc_online *o)
{
	if (!o)
		return;
	free(o->ring);
	free(o->scratch);
	free(o);
}

/* Score every path against sample v, the step-th after the refit. */
static void fc_online_score(struct fc_online *o, double v, uint64_t step)
{
	double e, w = o->cfg.err_weight;
	int k;

	if (!o->fit_at || step < 1 || step > o->cfg.horizon || !(o->scale > 0))
		return;
	for (k = 0; k < FC_KINDS; k++) {
		if (!o->has[k])
			continue;
		e = fabs(v - o->path[k][step - 1]) / o->scale;
		o->err[k] = o->err[k] < 0 ? e : (1 - w) * o->err[k] + w * e;
	}
}

/* Fit every model on the ring, oldest first, and keep their paths. */
static int fc_online_refit(struct fc_online *o)
{
	uint64_t total;
	uint32_t n = fc_online_samples(o, o->scratch, o->count, &total), i;
	struct fc_model m;
	double s = 0;
	int k, err;

	for (i = 1; i < n; i++)
		s += fabs(o->scratch[i] - o->scratch[i - 1]);
	o->scale = n > 1 ? s / (n - 1) : 0;
	if (!o->has_order || o->refits % FC_ONLINE_ORDER_EVERY == 0) {
		err = fc_arima_order(o->scratch, n, o->order);
		if (err == -ENOMEM)
			return err;
		o->has_order = !err;
	}
	for (k = 0; k < FC_KINDS; k++) {
		o->has[k] = false;
		if (k == FC_LSTM && !o->cfg.lstm)
			continue;
		if (k == FC_ARIMA)
			err = o->has_order ? fc_fit_arima(&m, o->scratch, n,
							  o->order)
					   : -EINVAL;
		else
			err = fc_fit(&m, (enum fc_kind)k, o->scratch, n,
				     o->cfg.season);
		if (err == -ENOMEM)
			return err;
		if (err)
			continue; /* a seasonal model without a season */
		/* A fallback is another model's forecast: not this one's. */
		if (m.used == (enum fc_kind)k) {
			fc_forecast(&m, o->cfg.horizon, o->path[k], o->lo[k],
				    o->hi[k]);
			o->has[k] = true;
		}
		fc_model_free(&m);
	}
	o->fit_at = o->total;
	o->refits++;
	return 0;
}

int fc_online_add(struct fc_online *o, double v)
{
	if (!isfinite(v))
		v = o->last;
	fc_online_score(o, v, o->total - o->fit_at + 1);
	o->ring[o->head] = v;
	o->head = (o->head + 1) % o->cfg.capacity;
	if (o->count < o->cfg.capacity)
		o->count++;
	o->total++;
	o->last = v;
	if (o->count >= 8 && o->total % o->cfg.refit_every == 0)
		return fc_online_refit(o);
	return 0;
}

/* The model offered: the lowest recent error, else Holt, else naive. */
static enum fc_kind fc_online_pick(const struct fc_online *o)
{
	enum fc_kind best = o->has[FC_HOLT] ? FC_HOLT : FC_NAIVE;
	int k;

	for (k = 0; k < FC_KINDS; k++)
		if (o->has[k] && o->err[k] >= 0 &&
		    (o->err[best] < 0 || o->err[k] < o->err[best]))
			best = (enum fc_kind)k;
	return best;
}

int fc_online_forecast(const struct fc_online *o, uint32_t h, double *mean,
		       double *lo, double *hi, struct fc_online_view *view)
{
	enum fc_kind k;
	uint64_t i;
	int j;

	if (!o->fit_at)
		return -EAGAIN;
	i = o->total - o->fit_at + h - 1; /* into the paths */
	if (h < 1 || i >= o->cfg.horizon)
		return -EINVAL;
	k = fc_online_pick(o);
	*mean = o->path[k][i];
	if (lo)
		*lo = o->lo[k][i];
	if (hi)
		*hi = o->hi[k][i];
	if (view) {
		view->model = k;
		view->err = o->err[k];
		for (j = 0; j < FC_KINDS; j++)
			view->err_of[j] = o->has[j] ? o->err[j] : -1;
		view->samples = o->count;
		view->last = o->last;
	}
	return 0;
}

uint32_t fc_online_samples(const struct fc_online *o, double *out, uint32_t max,
			   uint64_t *total)
{
	uint32_t n = o->count < max ? o->count : max, i;
	uint32_t first = (o->head + o->cfg.capacity - n) % o->cfg.capacity;

	for (i = 0; i < n; i++)
		out[i] = o->ring[(first + i) % o->cfg.capacity];
	*total = o->total;
	return n;
}
