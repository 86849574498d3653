// SPDX-License-Identifier: GPL-2.0-only
#include "forecast/forecast.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/arima.h"
#include "forecast/ets.h"
#include "forecast/lstm.h"

/* 95% of a normal error. */
#define FC_Z95 1.959964

static const char *const fc_names[FC_KINDS] = {
	[FC_NAIVE] = "naive", [FC_SNAIVE] = "snaive", [FC_HOLT] = "holt",
	[FC_HW] = "hw",	      [FC_ARIMA] = "arima",   [FC_LSTM] = "lstm",
};

const char *fc_kind_name(enum fc_kind k)
{
	return (unsigned)k < FC_KINDS ? fc_names[k] : NULL;
}

int fc_kind_of(const char *name)
{
	int k;

	for (k = 0; k < FC_KINDS; k++)
		if (!strcmp(name, fc_names[k]))
			return k;
	return -1;
}

/* Mean and standard deviation of y; false when a value is not finite. */
static bool fc_moments(const double *y, size_t n, double *mu, double *sd)
{
	double s = 0, ss = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			return false;
		s += y[i];
	}
	*mu = s / (double)n;
	for (i = 0; i < n; i++)
		ss += (y[i] - *mu) * (y[i] - *mu);
	*sd = sqrt(ss / (double)n);
	return true;
}

/* The error of the naive forecast in sample: std of the steps. */
static double fc_step_sigma(const double *y, size_t n, size_t lag)
{
	double ss = 0;
	size_t i;

	if (n <= lag)
		return 0;
	for (i = lag; i < n; i++)
		ss += (y[i] - y[i - lag]) * (y[i] - y[i - lag]);
	return sqrt(ss / (double)(n - lag));
}

static int fc_fit_naive(struct fc_model *m, const double *y, size_t n)
{
	m->used = FC_NAIVE;
	m->last = y[n - 1];
	m->sigma = fc_step_sigma(y, n, 1);
	return 0;
}

static int fc_fit_snaive(struct fc_model *m, const double *y, size_t n)
{
	m->tail = malloc(m->season * sizeof(*m->tail));
	if (!m->tail)
		return -ENOMEM;
	memcpy(m->tail, y + n - m->season, m->season * sizeof(*m->tail));
	m->used = FC_SNAIVE;
	m->last = y[n - 1];
	m->sigma = fc_step_sigma(y, n, m->season);
	return 0;
}

/* ETS on the series standardised (mu, sd), its state mapped back. */
static int fc_fit_ets(struct fc_model *m, enum fc_kind kind, const double *y,
		      size_t n, double mu, double sd)
{
	struct ets_fit f = {0};
	double *z = malloc(n * sizeof(*z));
	size_t i;
	int err;

	if (!z)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		z[i] = (y[i] - mu) / sd;
	err = kind == FC_HW ? ets_hw(z, n, m->season, &f) : ets_holt(z, n, &f);
	free(z);
	if (err)
		return err;
	m->used = kind;
	m->alpha = f.alpha;
	m->beta = f.beta;
	m->gamma = f.gamma;
	m->level = f.level * sd + mu;
	m->trend = f.trend * sd;
	m->sigma = f.sigma * sd;
	m->evals = f.evals;
	m->seasonal = f.seasonal;
	for (i = 0; m->seasonal && i < m->season; i++)
		m->seasonal[i] *= sd;
	return 0;
}

/* y standardised into a new array (NULL: no memory). */
static double *fc_standardise(const double *y, size_t n, double mu, double sd)
{
	double *z = malloc(n * sizeof(*z));
	size_t i;

	for (i = 0; z && i < n; i++)
		z[i] = (y[i] - mu) / sd;
	return z;
}

int fc_arima_order(const double *y, size_t n, unsigned *order)
{
	double mu, sd, *z;
	int err;

	if (!n || !fc_moments(y, n, &mu, &sd) || sd == 0)
		return -EINVAL;
	z = fc_standardise(y, n, mu, sd);
	if (!z)
		return -ENOMEM;
	err = arima_select(z, n, &order[0], &order[1], &order[2]);
	free(z);
	return err;
}

/*
 * The mean and standard deviation of y for the models that standardise
 * it (ARIMA, the LSTM): 0, or 1 when y is constant or not all finite and
 * m became naive on its last finite value, saying why.
 */
static int fc_scaled_or_naive(struct fc_model *m, const double *y, size_t n,
			      double *mu, double *sd)
{
	/* sd is only set when every value is finite. */
	bool finite = fc_moments(y, n, mu, sd);

	if (finite && *sd != 0)
		return 0;
	m->why = finite ? "constant" : "a value is not finite";
	while (n > 1 && !isfinite(y[n - 1]))
		n--;
	m->used = FC_NAIVE;
	m->last = isfinite(y[n - 1]) ? y[n - 1] : 0;
	return 1;
}

int fc_fit_arima(struct fc_model *m, const double *y, size_t n,
		 const unsigned *order)
{
	unsigned o[3];
	double mu, sd, *z;
	int err;

	memset(m, 0, sizeof(*m));
	if (!n || !y)
		return -EINVAL;
	m->asked = FC_ARIMA;
	m->n = n;
	if (fc_scaled_or_naive(m, y, n, &mu, &sd))
		return 0;
	if (order) {
		memcpy(o, order, sizeof(o));
	} else {
		err = fc_arima_order(y, n, o);
		if (err == -ENOMEM)
			return err;
		if (err) {
			m->why = "too short";
			return fc_fit_naive(m, y, n);
		}
	}
	z = fc_standardise(y, n, mu, sd);
	m->arima = calloc(1, sizeof(*m->arima));
	if (!z || !m->arima) {
		free(z);
		free(m->arima);
		m->arima = NULL;
		return -ENOMEM;
	}
	err = arima_fit(z, n, o[0], o[1], o[2], m->arima);
	free(z);
	if (err == -ENOMEM)
		return err;
	if (err) {
		free(m->arima);
		m->arima = NULL;
		m->why = "too short";
		return fc_fit_naive(m, y, n);
	}
	m->used = FC_ARIMA;
	m->z_mu = mu;
	m->z_sd = sd;
	m->sigma = m->arima->sigma * sd;
	m->evals = m->arima->evals;
	m->last = y[n - 1];
	return 0;
}

int fc_fit_lstm(struct fc_model *m, const double *y, size_t n, unsigned season,
		const struct lstm_cfg *cfg)
{
	struct lstm_cfg def;
	double mu, sd, *z;
	int err;

	memset(m, 0, sizeof(*m));
	if (!n || !y)
		return -EINVAL;
	if (!cfg) {
		lstm_cfg_default(&def);
		cfg = &def;
	}
	if (!lstm_cfg_valid(cfg))
		return -EINVAL;
	m->asked = FC_LSTM;
	m->season = season;
	m->n = n;
	if (fc_scaled_or_naive(m, y, n, &mu, &sd))
		return 0;
	if (n < lstm_min_points(cfg)) {
		m->why = "too short";
		return fc_fit_naive(m, y, n);
	}
	z = fc_standardise(y, n, mu, sd);
	m->lstm = calloc(1, sizeof(*m->lstm));
	if (!z || !m->lstm) {
		free(z);
		free(m->lstm);
		m->lstm = NULL;
		return -ENOMEM;
	}
	err = lstm_fit(m->lstm, z, n, season, cfg);
	free(z);
	if (err) {
		free(m->lstm);
		m->lstm = NULL;
		return err;
	}
	m->used = FC_LSTM;
	m->z_mu = mu;
	m->z_sd = sd;
	m->sigma = m->lstm->sigma * sd;
	m->evals = m->lstm->epochs;
	m->last = y[n - 1];
	return 0;
}

int fc_fit(struct fc_model *m, enum fc_kind kind, const double *y, size_t n,
	   unsigned season)
{
	double mu, sd;
	int err;

	if (kind == FC_ARIMA)
		return fc_fit_arima(m, y, n, NULL);
	if (kind == FC_LSTM)
		return fc_fit_lstm(m, y, n, season, NULL);
	memset(m, 0, sizeof(*m));
	if ((unsigned)kind >= FC_KINDS || !n || !y ||
	    ((kind == FC_SNAIVE || kind == FC_HW) && season < 2))
		return -EINVAL;
	m->asked = kind;
	m->season = season;
	m->n = n;
	if (!fc_moments(y, n, &mu, &sd)) {
		m->why = "a value is not finite";
		/* The last finite value, or 0. */
		while (n > 1 && !isfinite(y[n - 1]))
			n--;
		m->used = FC_NAIVE;
		m->last = isfinite(y[n - 1]) ? y[n - 1] : 0;
		return 0;
	}
	if (kind == FC_SNAIVE && n < season) {
		m->why = "shorter than a season";
		kind = FC_NAIVE;
	}
	if (kind == FC_HW && n < 2 * (size_t)season + ETS_HW_EXTRA) {
		m->why = "shorter than two seasons";
		kind = FC_HOLT;
	}
	if ((kind == FC_HW || kind == FC_HOLT) && sd == 0) {
		m->why = "constant";
		kind = FC_NAIVE;
	}
	if (kind == FC_HOLT && n < ETS_HOLT_MIN) {
		m->why = "too short";
		kind = FC_NAIVE;
	}
	switch (kind) {
	case FC_NAIVE:
		return fc_fit_naive(m, y, n);
	case FC_SNAIVE:
		return fc_fit_snaive(m, y, n);
	default:
		err = fc_fit_ets(m, kind, y, n, mu, sd);
		if (err == -EINVAL) { /* a bound ets.c knows better */
			m->why = "too short";
			return fc_fit_naive(m, y, n);
		}
		return err;
	}
}

void fc_forecast(const struct fc_model *m, unsigned h, double *mean, double *lo,
		 double *hi)
{
	double f, w;
	unsigned i;

	if (m->used == FC_ARIMA)
		arima_forecast(m->arima, h, mean);
	if (m->used == FC_LSTM)
		lstm_forecast(m->lstm, h, mean);
	for (i = 0; i < h; i++) {
		switch (m->used) {
		case FC_ARIMA:
		case FC_LSTM:
			f = mean[i] * m->z_sd + m->z_mu;
			w = sqrt((double)(i + 1));
			break;
		case FC_SNAIVE:
			f = m->tail[i % m->season];
			w = sqrt((double)(i / m->season + 1));
			break;
		case FC_HOLT:
			f = m->level + (i + 1) * m->trend;
			w = sqrt((double)(i + 1));
			break;
		case FC_HW:
			f = m->level + (i + 1) * m->trend +
			    m->seasonal[i % m->season];
			w = sqrt((double)(i + 1));
			break;
		default:
			f = m->last;
			w = sqrt((double)(i + 1));
			break;
		}
		mean[i] = f;
		if (lo)
			lo[i] = f - FC_Z95 * m->sigma * w;
		if (hi)
			hi[i] = f + FC_Z95 * m->sigma * w;
	}
}

void fc_model_free(struct fc_model *m)
{
	free(m->seasonal);
	free(m->tail);
	free(m->arima);
	if (m->lstm)
		lstm_free(m->lstm);
	free(m->lstm);
	m->seasonal = m->tail = NULL;
	m->arima = NULL;
	m->lstm = NULL;
}
