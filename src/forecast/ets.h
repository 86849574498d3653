/* SPDX-License-Identifier: GPL-2.0-only */
/* Exponential smoothing fits for forecast.c (see ets.c). */
#ifndef STEER_FORECAST_ETS_H
#define STEER_FORECAST_ETS_H

#include <stddef.h>

#include "forecast/forecast.h"

#define ETS_HOLT_MIN 4	/* points Holt needs */
#define ETS_HW_EXTRA 10 /* hw needs 2 seasons and this many more */

struct ets_fit {
	double alpha, beta, gamma;
	double level, trend; /* at the end of the series */
	double *seasonal;    /* hw: m values, the next step's first */
	double sigma;	     /* std of the one-step errors */
	unsigned evals;
};

/* 0, or -EINVAL when n < ETS_HOLT_MIN. */
int ets_holt(const double *y, size_t n, struct ets_fit *out);
/* 0, -EINVAL (m < 2, n < 2 m + ETS_HW_EXTRA) or -ENOMEM; out->seasonal
 * is the caller's to free. */
int ets_hw(const double *y, size_t n, unsigned m, struct ets_fit *out);

#endif /* STEER_FORECAST_ETS_H */
