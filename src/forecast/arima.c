// SPDX-License-Identifier: GPL-2.0-only
/*
 * ARIMA(p, d, q) with d in {0, 1}, fitted by conditional sum of squares
 * on the series already standardised by forecast.c:
 *
 *   w = y (d = 0, with a mean mu) or its first difference (d = 1, mu 0)
 *   w_t - mu = sum_i phi_i (w_{t-i} - mu) + e_t + sum_j theta_j e_{t-j}
 *
 * the errors before the first p points taken as 0. Stationarity and
 * invertibility hold by construction: the minimiser moves unconstrained
 * values whose tanh are partial autocorrelations, mapped to coefficients
 * by the Durbin-Levinson recursion (for theta, of -theta). The order is
 * chosen by the lowest AICc of the conditional likelihood.
 */
#include "forecast/arima.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ARIMA_MAX_EVALS 1500
#define ARIMA_TOL 1e-9

/* Partial autocorrelations r[0..k-1] to polynomial coefficients. */
static void arima_pacf(const double *u, unsigned k, double *out)
{
	double prev[ARIMA_MAX_PQ], r;
	unsigned i, j;

	for (i = 0; i < k; i++) {
		r = tanh(u[i]);
		memcpy(prev, out, i * sizeof(*out));
		for (j = 0; j < i; j++)
			out[j] = prev[j] - r * prev[i - 1 - j];
		out[i] = r;
	}
}

struct arima_run {
	const double *w;
	size_t n;
	unsigned p, q;
	bool mean;
	double *e; /* n: the errors */
};

/* x = (u_phi[p], u_theta[q], mu?) to coefficients. */
static void arima_coef(const struct arima_run *r, const double *x, double *phi,
		       double *theta, double *mu)
{
	unsigned j;

	arima_pacf(x, r->p, phi);
	arima_pacf(x + r->p, r->q, theta);
	for (j = 0; j < r->q; j++)
		theta[j] = -theta[j];
	*mu = r->mean ? x[r->p + r->q] : 0;
}

/* Conditional sum of squares; the errors stay in r->e. */
static double arima_css(const double *x, void *arg)
{
	const struct arima_run *r = arg;
	double phi[ARIMA_MAX_PQ], theta[ARIMA_MAX_PQ], mu, v, sse = 0;
	size_t t;
	unsigned i;

	arima_coef(r, x, phi, theta, &mu);
	for (t = 0; t < r->n; t++) {
		if (t < r->p) {
			r->e[t] = 0;
			continue;
		}
		v = r->w[t] - mu;
		for (i = 0; i < r->p; i++)
			v -= phi[i] * (r->w[t - 1 - i] - mu);
		for (i = 0; i < r->q && i < t; i++)
			v -= theta[i] * r->e[t - 1 - i];
		r->e[t] = v;
		sse += v * v;
	}
	return isfinite(sse) ? sse : HUGE_VAL;
}

int arima_fit(const double *y, size_t n, unsigned p, unsigned d, unsigned q,
	      struct arima_fit *out)
{
	struct arima_run r = {.p = p, .q = q, .mean = d == 0};
	double x[2 * ARIMA_MAX_PQ + 1] = {0}, step[2 * ARIMA_MAX_PQ + 1];
	double *w, sse, mu, m = 0;
	unsigned dim = p + q + (d == 0), i;
	size_t t, neff;

	if (p > ARIMA_MAX_PQ || q > ARIMA_MAX_PQ || d > 1 ||
	    n < (size_t)(p + q + d) + ARIMA_MIN_EXTRA)
		return -EINVAL;
	w = malloc(n * sizeof(*w));
	r.e = malloc(n * sizeof(*r.e));
	if (!w || !r.e) {
		free(w);
		free(r.e);
		return -ENOMEM;
	}
	for (t = d; t < n; t++)
		w[t - d] = d ? y[t] - y[t - 1] : y[t];
	r.w = w;
	r.n = n - d;
	for (t = 0; t < r.n; t++)
		m += w[t];
	m /= (double)r.n;
	for (i = 0; i < dim; i++)
		step[i] = 0.3;
	if (d == 0) {
		x[p + q] = m;
		step[p + q] = 0.1;
	}
	out->evals = dim ? fc_nelder_mead(arima_css, &r, x, step, dim,
					  ARIMA_MAX_EVALS, ARIMA_TOL, &sse)
			 : 0;
	sse = arima_css(x, &r);
	arima_coef(&r, x, out->phi, out->theta, &mu);
	out->p = p;
	out->d = d;
	out->q = q;
	out->mu = mu;
	neff = r.n - p;
	out->sigma = sqrt(sse / (double)neff);
	/* The conditional log-likelihood and AICc (k counts sigma too). */
	out->aicc = (double)neff * (log(2 * M_PI * sse / (double)neff) + 1) +
		    2.0 * (dim + 1) +
		    (neff > dim + 2 ? 2.0 * (dim + 1) * (dim + 2) /
					      (double)(neff - dim - 2)
				    : HUGE_VAL);
	/* What the forecasts start from: the last p values of w, the last q
	 * errors, the last y. */
	for (i = 0; i < p; i++)
		out->w_tail[i] = w[r.n - 1 - i];
	for (i = 0; i < q; i++)
		out->e_tail[i] = i < r.n ? r.e[r.n - 1 - i] : 0;
	out->y_last = y[n - 1];
	free(w);
	free(r.e);
	return 0;
}

int arima_select(const double *y, size_t n, unsigned *p, unsigned *d,
		 unsigned *q)
{
	struct arima_fit f;
	double best = HUGE_VAL;
	unsigned pp, dd, qq;
	int err, found = 0;

	for (dd = 0; dd <= 1; dd++)
		for (pp = 0; pp <= ARIMA_MAX_PQ; pp++)
			for (qq = 0; qq <= ARIMA_MAX_PQ; qq++) {
				err = arima_fit(y, n, pp, dd, qq, &f);
				if (err == -ENOMEM)
					return err;
				if (err || !(f.aicc < best))
					continue;
				best = f.aicc;
				*p = pp;
				*d = dd;
				*q = qq;
				found = 1;
			}
	return found ? 0 : -EINVAL;
}

void arima_forecast(const struct arima_fit *f, unsigned h, double *out)
{
	double w[ARIMA_MAX_PQ], e[ARIMA_MAX_PQ], v, level = f->y_last;
	unsigned s, i;

	memcpy(w, f->w_tail, sizeof(w));
	memcpy(e, f->e_tail, sizeof(e));
	for (s = 0; s < h; s++) {
		v = f->mu;
		for (i = 0; i < f->p; i++)
			v += f->phi[i] * (w[i] - f->mu);
		for (i = 0; i < f->q; i++)
			v += f->theta[i] * e[i];
		/* Shift: the new value first; future errors are 0. */
		memmove(w + 1, w, (ARIMA_MAX_PQ - 1) * sizeof(*w));
		memmove(e + 1, e, (ARIMA_MAX_PQ - 1) * sizeof(*e));
		w[0] = v;
		e[0] = 0;
		if (f->d) {
			level += v;
			out[s] = level;
		} else {
			out[s] = v;
		}
	}
}
