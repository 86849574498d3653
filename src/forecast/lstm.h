/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small recurrent forecaster: one LSTM layer of `hidden` cells and a
 * linear output, fitted on a standardised series z (forecast.c does the
 * standardising and maps the forecasts back).
 *
 * Input at step t: z[t], and z[t + 1 - m] (the value one season before
 * the one predicted) when a season m is given and the series holds
 * enough of them. The output at step t predicts z[t + 1] as z[t] plus a
 * learned step (a skip connection from the last value: an untrained net
 * is naive, training only has to learn what naive misses).
 *
 * Training: windows of `window` steps cut from the series, the state
 * zero at each window's start, the mean squared one-step error over
 * the window's steps after the first quarter (the warm-up), gradients by
 * backpropagation through time, Adam with the gradient's norm clipped.
 * The last `holdout` fraction of the series is never trained on: after
 * each epoch the one-step error on it (a window ending just before each
 * of its points) is measured, the parameters with the lowest are kept,
 * and training stops after `patience` epochs without a better one. Its
 * error (sigma) is what the prediction interval is built from.
 *
 * Multi-step forecasts are recursive: each step's forecast is the input
 * of the next, the net rerun on the last `window` values as in training.
 *
 * Randomness (initial weights, the order of windows) comes from a
 * splitmix64 stream of cfg.seed: the same seed and series give the same
 * forecast, bit for bit.
 *
 * Cost is bounded: at most max_epochs epochs of max_windows windows, so
 * a fit costs O(max_epochs * max_windows * window * hidden^2) whatever
 * the series' length (docs/forecasting.md has the figures).
 */
#ifndef STEER_FORECAST_LSTM_H
#define STEER_FORECAST_LSTM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LSTM_HIDDEN_MAX 64  /* cells, at most */
#define LSTM_WINDOW_MAX 256 /* steps per window, at most */
#define LSTM_IN_MAX 2	    /* inputs per step: the value, its season lag */

struct lstm_cfg {
	unsigned hidden;      /* cells: 1..LSTM_HIDDEN_MAX (16) */
	unsigned window;      /* steps per window: 4..LSTM_WINDOW_MAX (48) */
	unsigned max_epochs;  /* at most (40) */
	unsigned max_windows; /* trained on per epoch, at most (128) */
	unsigned batch;	      /* windows per Adam step (8) */
	unsigned patience;    /* epochs without a better held-out error (6) */
	double lr;	      /* Adam's step (0.01) */
	double clip;	      /* the gradient's norm, at most (1.0) */
	double holdout;	      /* the tail held out, a fraction (0.1) */
	uint64_t seed;	      /* of the weights and the windows' order */
};

/* The defaults above (in brackets). */
void lstm_cfg_default(struct lstm_cfg *cfg);

/* Whether every field of cfg is within its bounds (and no NaN). */
bool lstm_cfg_valid(const struct lstm_cfg *cfg);

/* The fewest points lstm_fit accepts with cfg (valid; without a season). */
size_t lstm_min_points(const struct lstm_cfg *cfg);

struct lstm {
	unsigned in;	 /* inputs per step: 1, or 2 with the season lag */
	unsigned hidden; /* cells */
	unsigned window; /* steps per window */
	unsigned season; /* m of the season input (0: none) */
	size_t nparam;	 /* parameters in w */
	/*
	 * w, in this order: Wx (4 hidden x in), Wh (4 hidden x hidden),
	 * b (4 hidden), v (hidden), c (1); the gates' rows in the order
	 * input, forget, cell, output.
	 */
	double *w;
	double *hist;	  /* the series' last window + season values */
	size_t nhist;	  /* values in hist */
	double sigma;	  /* held-out one-step error (rms, z units) */
	unsigned epochs;  /* trained */
	unsigned best_at; /* the epoch whose parameters were kept */
};

/*
 * A net of in inputs and hidden cells with weights drawn from seed, for
 * lstm_loss (the tests check its gradient). 0, -EINVAL, -ENOMEM; free
 * with lstm_free().
 */
int lstm_init(struct lstm *net, unsigned in, unsigned hidden, unsigned window,
	      uint64_t seed);

/*
 * The training loss of net on one window: x holds len steps of net->in
 * inputs (step-major), target[t] what step t should predict; the loss is
 * the mean of the squared errors of steps warm..len-1. With grad (nparam
 * values) non-NULL, the loss's gradient is added into it. len must be
 * 1..LSTM_WINDOW_MAX and warm < len.
 */
double lstm_loss(const struct lstm *net, const double *x, const double *target,
		 unsigned len, unsigned warm, double *grad);

/*
 * Fit on z[0..n-1] (finite; standardised by the caller), with season m
 * (0: none; used as an input when the series holds enough seasons). 0;
 * -EINVAL when cfg is out of bounds or z too short (lstm_min_points);
 * -ENOMEM. On error net holds nothing to free.
 */
int lstm_fit(struct lstm *net, const double *z, size_t n, unsigned season,
	     const struct lstm_cfg *cfg);

/* The forecasts of steps 1..h after the series fitted, in z units. */
void lstm_forecast(const struct lstm *net, unsigned h, double *out);

void lstm_free(struct lstm *net);

#endif /* STEER_FORECAST_LSTM_H */
