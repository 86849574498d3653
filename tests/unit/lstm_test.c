// SPDX-License-Identifier: GPL-2.0-only
/*
 * The LSTM forecaster (src/forecast/lstm.c): its gradients by
 * backpropagation through time equal central finite differences on a
 * tiny net, parameter by parameter; a seed gives the same forecast bit
 * for bit and another seed another one; on a noisy seasonal series it
 * forecasts clearly better than naive; short, constant and non-finite
 * series fall back to naive with a reason.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "forecast/forecast.h"
#include "forecast/lstm.h"
#include "forecast/online.h"

/* Standard normal noise from a fixed LCG (Box-Muller): the same every run. */
static double noise(unsigned long long *s)
{
	double u1, u2;

	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	u1 = ((*s >> 11) + 1.0) / 9007199254740993.0;
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	u2 = ((*s >> 11) + 1.0) / 9007199254740993.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

#define GC_IN 2
#define GC_HIDDEN 3
#define GC_LEN 7
#define GC_WARM 2

/*
 * The analytic gradient against (L(w + e) - L(w - e)) / 2e for every
 * parameter, block by block (Wx, Wh, b, v, c): the largest relative
 * error of each block is small, and each block's gradient is not
 * negligible (a block whose terms all vanish would pass by default).
 */
static void test_gradient(void **state)
{
	const unsigned g = 4 * GC_HIDDEN;
	const size_t ends[5] = {g * GC_IN, g * (GC_IN + GC_HIDDEN),
				g * (GC_IN + GC_HIDDEN + 1),
				g * (GC_IN + GC_HIDDEN + 1) + GC_HIDDEN,
				g * (GC_IN + GC_HIDDEN + 1) + GC_HIDDEN + 1};
	double x[GC_LEN * GC_IN], target[GC_LEN], *grad, w0, lp, lm, num, rel;
	double worst[5] = {0}, biggest[5] = {0};
	unsigned long long seed = 11;
	struct lstm net;
	size_t i, blk = 0;

	(void)state;
	assert_int_equal(lstm_init(&net, GC_IN, GC_HIDDEN, GC_LEN, 99), 0);
	assert_int_equal(net.nparam, ends[4]);
	for (i = 0; i < GC_LEN * GC_IN; i++)
		x[i] = noise(&seed);
	for (i = 0; i < GC_LEN; i++)
		target[i] = noise(&seed);
	grad = calloc(net.nparam, sizeof(*grad));
	assert_non_null(grad);
	assert_true(
		isfinite(lstm_loss(&net, x, target, GC_LEN, GC_WARM, grad)));
	for (i = 0; i < net.nparam; i++) {
		const double e = 1e-6;

		while (i >= ends[blk])
			blk++;
		w0 = net.w[i];
		net.w[i] = w0 + e;
		lp = lstm_loss(&net, x, target, GC_LEN, GC_WARM, NULL);
		net.w[i] = w0 - e;
		lm = lstm_loss(&net, x, target, GC_LEN, GC_WARM, NULL);
		net.w[i] = w0;
		num = (lp - lm) / (2 * e);
		rel = fabs(grad[i] - num) /
		      fmax(fabs(grad[i]) + fabs(num), 1e-7);
		if (rel > worst[blk])
			worst[blk] = rel;
		if (fabs(num) > biggest[blk])
			biggest[blk] = fabs(num);
	}
	for (blk = 0; blk < 5; blk++) {
		print_message("block %zu: max relative error %.3g, max |grad| "
			      "%.3g\n",
			      blk, worst[blk], biggest[blk]);
		assert_true(worst[blk] < 1e-5);
		assert_true(biggest[blk] > 1e-3);
	}
	/* Summed into grad, not written over it. */
	memset(grad, 0, net.nparam * sizeof(*grad));
	lstm_loss(&net, x, target, GC_LEN, GC_WARM, grad);
	w0 = grad[0];
	lstm_loss(&net, x, target, GC_LEN, GC_WARM, grad);
	assert_true(fabs(grad[0] - 2 * w0) <= 1e-12 * fabs(w0));
	assert_true(isnan(lstm_loss(&net, x, target, GC_LEN, GC_LEN, NULL)));
	free(grad);
	lstm_free(&net);
}

/* A day of 24 steps, a slow trend and noise. */
static void seasonal_series(double *y, size_t n, unsigned long long seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		y[i] = 100 + 0.01 * (double)i +
		       20 * sin(2 * M_PI * (double)i / 24.0) +
		       8 * sin(2 * M_PI * (double)i / 8.0) + 2 * noise(&seed);
}

/* The same seed, the same forecast bit for bit; another seed, another. */
static void test_determinism(void **state)
{
	static double y[400];
	double a[24], b[24], c[24], lo[24], hi[24];
	struct lstm_cfg cfg;
	struct fc_model m;

	(void)state;
	seasonal_series(y, 400, 5);
	lstm_cfg_default(&cfg);
	cfg.max_epochs = 8;
	assert_int_equal(fc_fit_lstm(&m, y, 400, 24, &cfg), 0);
	assert_int_equal(m.used, FC_LSTM);
	assert_null(m.why);
	fc_forecast(&m, 24, a, lo, hi);
	for (unsigned i = 0; i < 24; i++)
		assert_true(isfinite(a[i]) && lo[i] < a[i] && a[i] < hi[i]);
	/* The interval widens as sqrt(h) from the held-out sigma. */
	assert_true(m.sigma > 0);
	assert_true(fabs((hi[3] - lo[3]) / (hi[0] - lo[0]) - 2) < 1e-9);
	fc_model_free(&m);
	assert_int_equal(fc_fit_lstm(&m, y, 400, 24, &cfg), 0);
	fc_forecast(&m, 24, b, NULL, NULL);
	fc_model_free(&m);
	assert_memory_equal(a, b, sizeof(a));
	cfg.seed++;
	assert_int_equal(fc_fit_lstm(&m, y, 400, 24, &cfg), 0);
	fc_forecast(&m, 24, c, NULL, NULL);
	fc_model_free(&m);
	assert_true(memcmp(a, c, sizeof(a)) != 0);
}

/* Mean absolute error of kind's 24-step forecasts from three origins. */
static double oos_error(const double *y, size_t n, enum fc_kind kind,
			unsigned season)
{
	const size_t origins[3] = {n - 72, n - 48, n - 24};
	double f[24], s = 0;
	struct fc_model m;
	unsigned o, h;

	for (o = 0; o < 3; o++) {
		assert_int_equal(fc_fit(&m, kind, y, origins[o], season), 0);
		assert_int_equal(m.used, kind);
		fc_forecast(&m, 24, f, NULL, NULL);
		fc_model_free(&m);
		for (h = 0; h < 24; h++)
			s += fabs(f[h] - y[origins[o] + h]);
	}
	return s / 72;
}

/* It learns: out of sample, far better than naive on a seasonal series,
 * with the season as an input and without it. */
static void test_learns(void **state)
{
	static double y[800];
	double e_lstm, e_plain, e_naive;

	(void)state;
	seasonal_series(y, 800, 17);
	e_naive = oos_error(y, 800, FC_NAIVE, 0);
	e_lstm = oos_error(y, 800, FC_LSTM, 24);
	e_plain = oos_error(y, 800, FC_LSTM, 0);
	print_message("mean abs error: naive %.2f, lstm %.2f, lstm without "
		      "the season %.2f\n",
		      e_naive, e_lstm, e_plain);
	assert_true(e_lstm < 0.4 * e_naive);
	assert_true(e_plain < 0.6 * e_naive);
}

/* Short, constant, not finite: naive, with the reason; bad cfg refused. */
static void test_fallbacks(void **state)
{
	double y[300], f[4], lo[4], hi[4];
	struct lstm_cfg cfg;
	struct fc_model m;
	struct lstm net;
	unsigned i;

	(void)state;
	for (i = 0; i < 300; i++)
		y[i] = i % 5;
	lstm_cfg_default(&cfg);
	assert_int_equal(fc_fit(&m, FC_LSTM, y, lstm_min_points(&cfg) - 1, 0),
			 0);
	assert_int_equal(m.asked, FC_LSTM);
	assert_int_equal(m.used, FC_NAIVE);
	assert_string_equal(m.why, "too short");
	fc_forecast(&m, 4, f, lo, hi);
	assert_true(f[0] == y[lstm_min_points(&cfg) - 2] && lo[3] < hi[3]);
	fc_model_free(&m);
	assert_int_equal(fc_fit(&m, FC_LSTM, y, 3, 0), 0);
	assert_int_equal(m.used, FC_NAIVE);
	fc_model_free(&m);
	for (i = 0; i < 300; i++)
		y[i] = 7;
	assert_int_equal(fc_fit(&m, FC_LSTM, y, 300, 24), 0);
	assert_int_equal(m.used, FC_NAIVE);
	assert_string_equal(m.why, "constant");
	fc_forecast(&m, 4, f, NULL, NULL);
	assert_true(f[3] == 7);
	fc_model_free(&m);
	y[150] = 1;
	y[299] = NAN;
	assert_int_equal(fc_fit(&m, FC_LSTM, y, 300, 24), 0);
	assert_int_equal(m.used, FC_NAIVE);
	assert_string_equal(m.why, "a value is not finite");
	fc_forecast(&m, 4, f, NULL, NULL);
	assert_true(f[0] == 7);
	fc_model_free(&m);
	y[299] = INFINITY;
	assert_int_equal(fc_fit(&m, FC_LSTM, y, 300, 0), 0);
	assert_string_equal(m.why, "a value is not finite");
	fc_model_free(&m);
	/* Arguments. */
	assert_int_equal(fc_fit(&m, FC_LSTM, y, 0, 0), -EINVAL);
	cfg.hidden = LSTM_HIDDEN_MAX + 1;
	assert_int_equal(fc_fit_lstm(&m, y, 300, 0, &cfg), -EINVAL);
	lstm_cfg_default(&cfg);
	cfg.holdout = NAN;
	assert_false(lstm_cfg_valid(&cfg));
	assert_int_equal(fc_fit_lstm(&m, y, 300, 0, &cfg), -EINVAL);
	lstm_cfg_default(&cfg);
	assert_int_equal(lstm_fit(&net, y, 20, 0, &cfg), -EINVAL);
	assert_null(net.w);
	assert_int_equal(lstm_init(&net, 3, 4, 8, 1), -EINVAL);
	assert_int_equal(fc_kind_of("lstm"), FC_LSTM);
	assert_string_equal(fc_kind_name(FC_LSTM), "lstm");
}

/* A season too long for the series is left out, not an error. */
static void test_long_season(void **state)
{
	static double y[300];
	struct lstm_cfg cfg;
	struct lstm net;
	double f[30];
	unsigned i;

	(void)state;
	seasonal_series(y, 300, 3);
	for (i = 0; i < 300; i++)
		y[i] = (y[i] - 100) / 15;
	lstm_cfg_default(&cfg);
	cfg.max_epochs = 3;
	assert_int_equal(lstm_fit(&net, y, 300, 250, &cfg), 0);
	assert_int_equal(net.in, 1);
	assert_int_equal(net.season, 0);
	lstm_free(&net);
	assert_int_equal(lstm_fit(&net, y, 300, 24, &cfg), 0);
	assert_int_equal(net.in, 2);
	/* Past a season the forecasts feed the season input too. */
	lstm_forecast(&net, 30, f);
	for (i = 0; i < 30; i++)
		assert_true(isfinite(f[i]));
	assert_true(net.epochs >= 1 && net.epochs <= 3);
	assert_true(net.best_at <= net.epochs);
	lstm_free(&net);
}

/* The online forecaster fits the LSTM when asked, and scores it. */
static void test_online(void **state)
{
	struct fc_online_cfg cfg = {.capacity = 240,
				    .refit_every = 50,
				    .horizon = 24,
				    .season = 24,
				    .err_weight = 0.1,
				    .lstm = true};
	struct fc_online_view v;
	static double y[400];
	struct fc_online *o;
	double f;
	unsigned i;

	(void)state;
	seasonal_series(y, 400, 9);
	o = fc_online_new(&cfg);
	assert_non_null(o);
	for (i = 0; i < 400; i++)
		assert_int_equal(fc_online_add(o, y[i]), 0);
	assert_int_equal(fc_online_forecast(o, 1, &f, NULL, NULL, &v), 0);
	assert_true(v.err_of[FC_LSTM] >= 0);
	assert_true(isfinite(f));
	fc_online_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gradient),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_learns),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_long_season),
		cmocka_unit_test(test_online),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
