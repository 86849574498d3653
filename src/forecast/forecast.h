/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forecasters of a univariate series (a node's load, a link's bytes per
 * interval), behind one API: fit on y[0..n-1], then forecast h steps
 * ahead with a prediction interval.
 *
 *   naive   the last value
 *   snaive  the value one season back (m steps)
 *   holt    exponential smoothing with an additive trend: level and
 *           trend, alpha and beta and the initial level and trend fitted
 *           by least squares of the one-step errors (Nelder-Mead from the
 *           best point of a coarse grid)
 *   hw      Holt-Winters, additive trend and season of m steps: alpha,
 *           beta, gamma fitted the same way, the initial state from a
 *           classical decomposition of the first seasons
 *   arima   ARIMA(p, d, q), p and q in 0..3, d in 0..1, by conditional
 *           least squares; the order by the lowest AICc, or given
 *
 * A fit never fails on data: a series too short for a model, or one with
 * NaN or infinite values, falls back to a simpler model (hw -> holt ->
 * naive; snaive -> naive; arima -> naive) and says so (fc_fallback_reason); only invalid
 * arguments are errors. Deterministic: no randomness anywhere.
 */
#ifndef STEER_FORECAST_H
#define STEER_FORECAST_H

#include <stdbool.h>
#include <stddef.h>

enum fc_kind {
	FC_NAIVE = 0,
	FC_SNAIVE,
	FC_HOLT,
	FC_HW,
	FC_ARIMA,
	FC_KINDS,
};

/* "naive", "snaive", "holt", "hw", "arima"; NULL for another value. */
const char *fc_kind_name(enum fc_kind k);
/* The kind of a name, or -1. */
int fc_kind_of(const char *name);

struct arima_fit;

struct fc_model {
	enum fc_kind asked; /* what the caller asked for */
	enum fc_kind used;  /* what was fitted (a fallback, maybe) */
	const char *why;    /* why it fell back; NULL when it did not */
	unsigned season;    /* m: steps in a season (0: none) */
	/* The fitted state at the end of the series. */
	double level, trend;
	double *seasonal; /* m values, the next one first (hw) */
	double alpha, beta, gamma;
	double last;		 /* y[n-1] */
	double *tail;		 /* the last m values of y (snaive) */
	double sigma;		 /* std of the one-step errors in sample */
	struct arima_fit *arima; /* arima's coefficients and end state */
	double z_mu, z_sd;	 /* arima: the standardisation undone */
	size_t n;		 /* points fitted */
	unsigned evals;		 /* objective evaluations of the fit */
};

/*
 * Fit model kind on y[0..n-1] with season m (needed by snaive and hw,
 * ignored by the others). 0, -EINVAL (n == 0, kind unknown, a seasonal
 * kind without m), or -ENOMEM. m is free with fc_model_free().
 */
int fc_fit(struct fc_model *m, enum fc_kind kind, const double *y, size_t n,
	   unsigned season);

/*
 * ARIMA of a given order (order: p, d, q), or of the order arima's AICc
 * picks on y (order NULL). As fc_fit otherwise.
 */
int fc_fit_arima(struct fc_model *m, const double *y, size_t n,
		 const unsigned *order);

/* The order (p, d, q) of the lowest AICc on y, into order[3]: 0,
 * -EINVAL (too short, not finite), -ENOMEM. */
int fc_arima_order(const double *y, size_t n, unsigned *order);

/*
 * Forecasts for steps 1..h into mean[0..h-1]; lo and hi (each may be
 * NULL) get a 95% interval from the in-sample one-step error (sigma,
 * widened with the horizon: sqrt(h) steps of it, sqrt of the seasons
 * spanned for snaive).
 */
void fc_forecast(const struct fc_model *m, unsigned h, double *mean, double *lo,
		 double *hi);

void fc_model_free(struct fc_model *m);

/*
 * Minimise f over R^dim from x (x gets the best point found; *fx its
 * value) by Nelder-Mead: step is the initial simplex's edge per
 * coordinate; stops after max_evals evaluations or when the simplex's
 * values differ by less than tol. Returns the evaluations used.
 */
unsigned fc_nelder_mead(double (*f)(const double *x, void *arg), void *arg,
			double *x, const double *step, unsigned dim,
			unsigned max_evals, double tol, double *fx);

#endif /* STEER_FORECAST_H */
