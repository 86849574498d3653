// SPDX-License-Identifier: GPL-2.0-only
/* Nelder-Mead simplex minimisation (the textbook coefficients 1, 2, 0.5,
 * 0.5), for the few smoothing parameters of the forecasters. */
#include "forecast/forecast.h"

#include <string.h>

#define NM_MAX_DIM 8

unsigned fc_nelder_mead(double (*f)(const double *x, void *arg), void *arg,
			double *x, const double *step, unsigned dim,
			unsigned max_evals, double tol, double *fx)
{
	double p[NM_MAX_DIM + 1][NM_MAX_DIM], v[NM_MAX_DIM + 1];
	double c[NM_MAX_DIM], r[NM_MAX_DIM], e[NM_MAX_DIM], k[NM_MAX_DIM];
	double fr, fe, fk;
	unsigned i, j, lo, hi, nh, evals = 0;

	if (dim < 1 || dim > NM_MAX_DIM)
		return 0;
	for (i = 0; i <= dim; i++) {
		memcpy(p[i], x, dim * sizeof(*x));
		if (i)
			p[i][i - 1] += step[i - 1];
		v[i] = f(p[i], arg);
		evals++;
	}
	while (evals < max_evals) {
		lo = hi = 0;
		for (i = 1; i <= dim; i++) {
			if (v[i] < v[lo])
				lo = i;
			if (v[i] > v[hi])
				hi = i;
		}
		nh = lo;
		for (i = 0; i <= dim; i++)
			if (i != hi && v[i] > v[nh])
				nh = i;
		if (v[hi] - v[lo] <= tol * (1.0 + (v[lo] < 0 ? -v[lo] : v[lo])))
			break;
		/* The centroid of all but the worst. */
		for (j = 0; j < dim; j++) {
			c[j] = 0;
			for (i = 0; i <= dim; i++)
				if (i != hi)
					c[j] += p[i][j];
			c[j] /= dim;
			r[j] = c[j] + (c[j] - p[hi][j]);
		}
		fr = f(r, arg);
		evals++;
		if (fr < v[lo]) {
			for (j = 0; j < dim; j++)
				e[j] = c[j] + 2.0 * (c[j] - p[hi][j]);
			fe = f(e, arg);
			evals++;
			if (fe < fr) {
				memcpy(p[hi], e, dim * sizeof(*e));
				v[hi] = fe;
			} else {
				memcpy(p[hi], r, dim * sizeof(*r));
				v[hi] = fr;
			}
			continue;
		}
		if (fr < v[nh]) {
			memcpy(p[hi], r, dim * sizeof(*r));
			v[hi] = fr;
			continue;
		}
		/* Contract toward the better of the worst and its reflection. */
		for (j = 0; j < dim; j++)
			k[j] = fr < v[hi] ? c[j] + 0.5 * (r[j] - c[j])
					  : c[j] + 0.5 * (p[hi][j] - c[j]);
		fk = f(k, arg);
		evals++;
		if (fk < (fr < v[hi] ? fr : v[hi])) {
			memcpy(p[hi], k, dim * sizeof(*k));
			v[hi] = fk;
			continue;
		}
		/* Shrink toward the best. */
		for (i = 0; i <= dim; i++) {
			if (i == lo)
				continue;
			for (j = 0; j < dim; j++)
				p[i][j] = p[lo][j] + 0.5 * (p[i][j] - p[lo][j]);
			v[i] = f(p[i], arg);
			evals++;
		}
	}
	lo = 0;
	for (i = 1; i <= dim; i++)
		if (v[i] < v[lo])
			lo = i;
	memcpy(x, p[lo], dim * sizeof(*x));
	*fx = v[lo];
	return evals;
}
