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
 *   lstm    a one-layer LSTM and a linear output predicting the next
 *           value, trained on windows of the series by backpropagation
 *           through time and Adam, stopped early on a held-out tail
 *           (forecast/lstm.h); recursive for several steps; the value
 *           one season back is a second input when m is given
 *
 * A fit never fails on data: a series too short for a model, constant,
 * or with NaN or infinite values falls back to a simpler model (hw ->
 * holt -> naive; snaive -> naive; arima -> naive; lstm -> naive) and says
 * so (fc_model.why); only invalid arguments are errors. Deterministic:
 * the only randomness, the LSTM's initial weights and the order of its
 * training windows, comes from a seeded generator of its own (a fixed
 * seed unless fc_fit_lstm is given another).
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
	FC_LSTM,
	FC_KINDS,
};

/* "naive", "snaive", "holt", "hw", "arima", "lstm"; NULL for another
 * value. */
const char *fc_kind_name(enum fc_kind k);
/* The kind of a name, or -1. */
int fc_kind_of(const char *name);

struct arima_fit;
struct lstm;
struct lstm_cfg;

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
	double sigma;		 /* std of the one-step errors in sample
				  * (lstm: on the held-out tail) */
	struct arima_fit *arima; /* arima's coefficients and end state */
	struct lstm *lstm;	 /* lstm's weights and the series' end */
	double z_mu, z_sd;	 /* arima, lstm: the standardisation undone */
	size_t n;		 /* points fitted */
	unsigned evals;		 /* objective evaluations of the fit
				  * (lstm: epochs trained) */
};

/*
 * Fit model kind on y[0..n-1] with season m (needed by snaive and hw, an
 * extra input of lstm when given, ignored by the others). 0, -EINVAL
 * (n == 0, kind unknown, a seasonal kind without m), or -ENOMEM. m is
 * free with fc_model_free().
 */
int fc_fit(struct fc_model *m, enum fc_kind kind, const double *y, size_t n,
	   unsigned season);

/*
 * ARIMA of a given order (order: p, d, q), or of the order arima's AICc
 * picks on y (order NULL). As fc_fit otherwise.
 */
int fc_fit_arima(struct fc_model *m, const double *y, size_t n,
		 const unsigned *order);

/*
 * The LSTM with cfg (NULL: lstm_cfg_default's, the seed among them), the
 * season as fc_fit. As fc_fit otherwise; -EINVAL too for a cfg out of
 * its bounds.
 */
int fc_fit_lstm(struct fc_model *m, const double *y, size_t n, unsigned season,
		const struct lstm_cfg *cfg);

/* The order (p, d, q) of the lowest AICc on y, into order[3]: 0,
 * -EINVAL (too short, not finite), -ENOMEM. */
int fc_arima_order(const double *y, size_t n, unsigned *order);

/*
 * Forecasts for steps 1..h into mean[0..h-1]; lo and hi (each may be
 * NULL) get a 95% interval from the one-step error (sigma: in sample,
 * on the held-out tail for lstm), widened with the horizon: sqrt(h) steps
 * of it, sqrt of the seasons spanned for snaive.
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
