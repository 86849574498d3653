/* SPDX-License-Identifier: GPL-2.0-only */
/* ARIMA fits for forecast.c (see arima.c). */
#ifndef STEER_FORECAST_ARIMA_H
#define STEER_FORECAST_ARIMA_H

#include <stdbool.h>
#include <stddef.h>

#include "forecast/forecast.h"

#define ARIMA_MAX_PQ 3	   /* p, q in 0..3 */
#define ARIMA_MIN_EXTRA 20 /* points beyond p + q + d a fit needs */

struct arima_fit {
	unsigned p, d, q;
	double phi[ARIMA_MAX_PQ], theta[ARIMA_MAX_PQ];
	double mu;    /* the mean of w (d = 0), else 0 */
	double sigma; /* std of the errors */
	double aicc;
	/* The end of the series: w's last p values, the last q errors
	 * (newest first), y's last value (d = 1). */
	double w_tail[ARIMA_MAX_PQ], e_tail[ARIMA_MAX_PQ], y_last;
	unsigned evals;
};

/* 0, -EINVAL (order out of range, n too short) or -ENOMEM. */
int arima_fit(const double *y, size_t n, unsigned p, unsigned d, unsigned q,
	      struct arima_fit *out);
/* The order of the lowest AICc over p, q in 0..3, d in 0..1: 0, -EINVAL
 * (no order fits), -ENOMEM. */
int arima_select(const double *y, size_t n, unsigned *p, unsigned *d,
		 unsigned *q);
/* Point forecasts of steps 1..h. */
void arima_forecast(const struct arima_fit *f, unsigned h, double *out);

#endif /* STEER_FORECAST_ARIMA_H */
