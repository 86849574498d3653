// SPDX-License-Identifier: GPL-2.0-only
/*
 * Exponential smoothing: Holt (additive trend) and Holt-Winters (additive
 * trend and season), on a series already standardised by fc_fit().
 *
 *   one step ahead: l_{t-1} + b_{t-1} + s_{t-m}     (Holt: no s)
 *   level  l_t = a (y_t - s_{t-m}) + (1 - a)(l_{t-1} + b_{t-1})
 *   trend  b_t = b (l_t - l_{t-1}) + (1 - b) b_{t-1}
 *   season s_t = g (y_t - l_{t-1} - b_{t-1}) + (1 - g) s_{t-m}
 *
 * The smoothing parameters live in (0, 1) through a logistic map, so the
 * minimiser searches all of R^k. Holt fits the initial level and trend
 * too; Holt-Winters takes them, and the initial season, from a classical
 * decomposition of the first two seasons.
 */
#include "forecast/ets.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ETS_MAX_EVALS 800
#define ETS_TOL 1e-10

static double ets_unit(double u)
{
	return 1.0 / (1.0 + exp(-u));
}

static double ets_logit(double p)
{
	return log(p / (1.0 - p));
}

struct ets_run {
	const double *y;
	size_t n;
	unsigned m;	      /* 0: Holt */
	const double *s_init; /* m initial seasonal values (hw) */
	double *s;	      /* m: the running season (hw) */
	double l0, b0;	      /* hw: the initial level and trend */
	unsigned evals;
};

/* The recursions over the whole series from level *l and trend *t; the
 * sum of squared one-step errors. The end state stays in *l, *t and r->s
 * (indexed by step mod m). */
static double ets_pass(struct ets_run *r, double a, double b, double g,
		       double *l, double *t)
{
	double sse = 0, lv = *l, tr = *t, e, s, pl, pb;
	size_t i;

	if (r->m)
		memcpy(r->s, r->s_init, r->m * sizeof(*r->s));
	for (i = 0; i < r->n; i++) {
		s = r->m ? r->s[i % r->m] : 0;
		e = r->y[i] - (lv + tr + s);
		sse += e * e;
		pl = lv;
		pb = tr;
		lv = a * (r->y[i] - s) + (1 - a) * (pl + pb);
		tr = b * (lv - pl) + (1 - b) * pb;
		if (r->m)
			r->s[i % r->m] = g * (r->y[i] - pl - pb) + (1 - g) * s;
	}
	*l = lv;
	*t = tr;
	return isfinite(sse) ? sse : HUGE_VAL;
}

/* Holt: x = (logit a, logit b, l0, b0). */
static double ets_holt_sse(const double *x, void *arg)
{
	struct ets_run *r = arg;
	double l = x[2], t = x[3];

	r->evals++;
	return ets_pass(r, ets_unit(x[0]), ets_unit(x[1]), 0, &l, &t);
}

/* Holt-Winters: x = (logit a, logit b, logit g, l0, b0). */
static double ets_hw_sse(const double *x, void *arg)
{
	struct ets_run *r = arg;
	double l = x[3], t = x[4];

	r->evals++;
	return ets_pass(r, ets_unit(x[0]), ets_unit(x[1]), ets_unit(x[2]), &l,
			&t);
}

/* The best point of a coarse grid of (a, b[, g]) as a start, the other
 * coordinates as x has them (dim 4: Holt; 5: Holt-Winters). */
static void ets_grid(struct ets_run *r, double *x, unsigned dim,
		     double (*f)(const double *, void *))
{
	static const double as[] = {0.05, 0.2, 0.5, 0.8, 0.95};
	static const double bs[] = {0.01, 0.1, 0.3};
	static const double gs[] = {0.05, 0.3};
	double best = HUGE_VAL, v, p[5];
	unsigned i, j, k;

	memcpy(p, x, dim * sizeof(*x));
	for (i = 0; i < sizeof(as) / sizeof(*as); i++)
		for (j = 0; j < sizeof(bs) / sizeof(*bs); j++)
			for (k = 0; k < (dim == 5 ? 2u : 1u); k++) {
				p[0] = ets_logit(as[i]);
				p[1] = ets_logit(bs[j]);
				if (dim == 5)
					p[2] = ets_logit(gs[k]);
				v = f(p, r);
				if (v < best) {
					best = v;
					memcpy(x, p, dim * sizeof(*x));
				}
			}
}

int ets_holt(const double *y, size_t n, struct ets_fit *out)
{
	struct ets_run r = {.y = y, .n = n};
	double x[4], step[4] = {1.0, 1.0, 0.5, 0.1}, sse;

	if (n < ETS_HOLT_MIN)
		return -EINVAL;
	x[2] = y[0];
	x[3] = y[1] - y[0];
	ets_grid(&r, x, 4, ets_holt_sse);
	fc_nelder_mead(ets_holt_sse, &r, x, step, 4, ETS_MAX_EVALS, ETS_TOL,
		       &sse);
	out->alpha = ets_unit(x[0]);
	out->beta = ets_unit(x[1]);
	out->gamma = 0;
	out->level = x[2];
	out->trend = x[3];
	sse = ets_pass(&r, out->alpha, out->beta, 0, &out->level, &out->trend);
	out->sigma = sqrt(sse / (double)n);
	out->evals = r.evals;
	return 0;
}

/*
 * The initial state of Holt-Winters: level and trend from the means of
 * the first two seasons (refined by the fit), the season from a classical
 * decomposition: each point's deviation from the centred moving average
 * of one season (2 x m for even m), averaged per position in the season,
 * summing to zero. Deviations from a plain per-season mean would carry
 * the series' drift across a season into the seasonal shape, a step at
 * every season's end that no smoothing removes when gamma is small.
 */
static int ets_hw_init(struct ets_run *r, double *s0)
{
	const double *y = r->y;
	unsigned m = r->m, i, half = m / 2;
	size_t t, *cnt = calloc(m, sizeof(*cnt));
	double m0 = 0, m1 = 0, mean, ma;

	if (!cnt)
		return -ENOMEM;
	for (i = 0; i < m; i++) {
		m0 += y[i];
		m1 += y[m + i];
	}
	m0 /= m;
	m1 /= m;
	r->l0 = m0;
	r->b0 = (m1 - m0) / m;
	memset(s0, 0, m * sizeof(*s0));
	ma = 0;
	for (t = half; t + half < r->n; t++) {
		size_t k;

		/* A 2 x m moving average: the m + 1 points around t, the
		 * two ends at half weight (odd m: the m points). */
		ma = 0;
		for (k = t - half; k <= t + half; k++)
			ma += y[k];
		if (m % 2 == 0)
			ma -= 0.5 * (y[t - half] + y[t + half]);
		ma /= m;
		s0[t % m] += y[t] - ma;
		cnt[t % m]++;
	}
	mean = 0;
	for (i = 0; i < m; i++) {
		s0[i] = cnt[i] ? s0[i] / (double)cnt[i] : 0;
		mean += s0[i];
	}
	mean /= m;
	for (i = 0; i < m; i++)
		s0[i] -= mean;
	free(cnt);
	return 0;
}

int ets_hw(const double *y, size_t n, unsigned m, struct ets_fit *out)
{
	struct ets_run r = {.y = y, .n = n, .m = m};
	double x[5], step[5] = {1.0, 1.0, 1.0, 0.5, 0.1}, sse, *s0;
	unsigned j;

	if (m < 2 || n < 2 * (size_t)m + ETS_HW_EXTRA)
		return -EINVAL;
	s0 = calloc(m, sizeof(*s0));
	r.s = calloc(m, sizeof(*r.s));
	out->seasonal = calloc(m, sizeof(*out->seasonal));
	if (!s0 || !r.s || !out->seasonal) {
		free(s0);
		free(r.s);
		free(out->seasonal);
		out->seasonal = NULL;
		return -ENOMEM;
	}
	if (ets_hw_init(&r, s0)) {
		free(s0);
		free(r.s);
		free(out->seasonal);
		out->seasonal = NULL;
		return -ENOMEM;
	}
	r.s_init = s0;
	x[3] = r.l0;
	x[4] = r.b0;
	ets_grid(&r, x, 5, ets_hw_sse);
	fc_nelder_mead(ets_hw_sse, &r, x, step, 5, ETS_MAX_EVALS, ETS_TOL,
		       &sse);
	out->alpha = ets_unit(x[0]);
	out->beta = ets_unit(x[1]);
	out->gamma = ets_unit(x[2]);
	out->level = x[3];
	out->trend = x[4];
	sse = ets_pass(&r, out->alpha, out->beta, out->gamma, &out->level,
		       &out->trend);
	/* The season from the next step on. */
	for (j = 0; j < m; j++)
		out->seasonal[j] = r.s[(n + j) % m];
	out->sigma = sqrt(sse / (double)n);
	out->evals = r.evals;
	free(s0);
	free(r.s);
	return 0;
}
