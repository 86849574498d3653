/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A forecaster that runs as a daemon needs it: samples arrive one at a
 * time into a bounded ring; every refit_every samples every model is
 * fitted again on the ring's contents and forecasts the next horizon
 * steps; as the samples those forecasts were about arrive, each model's
 * errors are scored (absolute error over the ring's mean absolute step,
 * a MASE, smoothed exponentially), and the forecast offered is the one of
 * the model with the lowest recent error. Every model but the LSTM, which
 * is fitted only when cfg.lstm asks. Fixed memory; deterministic.
 */
#ifndef STEER_FORECAST_ONLINE_H
#define STEER_FORECAST_ONLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast/forecast.h"

#define FC_ONLINE_HMAX 128 /* steps forecast at each refit, at most */

struct fc_online_cfg {
	uint32_t capacity;    /* samples kept (>= 8) */
	uint32_t refit_every; /* samples between refits (>= 1) */
	uint32_t horizon;     /* steps forecast (1..FC_ONLINE_HMAX) */
	uint32_t season;      /* steps in a season, 0: none */
	double err_weight;    /* weight of a new error, 0..1 (e.g. 0.1) */
	bool lstm;	      /* fit the LSTM too (off: its fit costs tens
			       * of times the others', docs/forecasting.md) */
};

struct fc_online;

/* NULL with errno EINVAL (a bound above) or ENOMEM. */
struct fc_online *fc_online_new(const struct fc_online_cfg *cfg);

/* Refit every n samples from now on (n >= 1): 0, or -EINVAL. */
int fc_online_refit_set(struct fc_online *o, uint32_t n);
void fc_online_free(struct fc_online *o);

/*
 * One more sample (a non-finite one counts as the last finite value).
 * Scores the forecasts made for this step, and refits when due. 0, or
 * -ENOMEM (the sample is kept, the refit skipped).
 */
int fc_online_add(struct fc_online *o, double v);

struct fc_online_view {
	enum fc_kind model;	 /* the one offered: lowest recent error */
	double err;		 /* its recent scaled error (-1: none scored) */
	double err_of[FC_KINDS]; /* every model's (-1: none yet) */
	uint32_t samples;	 /* in the ring */
	double last;		 /* the last sample */
};

/*
 * The offered model's forecast of the step h after the last sample, with
 * its 95% interval. The paths of the last refit cover horizon steps from
 * it: h plus the samples added since must not pass horizon. -EAGAIN
 * before the first refit, -EINVAL for h out of that range; 0 otherwise.
 * view may be NULL.
 */
/*
 * The samples in the ring, oldest first, at most max into out: how many.
 * *total gets the samples ever added, so out[i] is sample number
 * *total - returned + i.
 */
uint32_t fc_online_samples(const struct fc_online *o, double *out, uint32_t max,
			   uint64_t *total);

int fc_online_forecast(const struct fc_online *o, uint32_t h, double *mean,
		       double *lo, double *hi, struct fc_online_view *view);

#endif /* STEER_FORECAST_ONLINE_H */
