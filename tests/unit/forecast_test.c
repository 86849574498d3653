// SPDX-License-Identifier: GPL-2.0-only
/*
 * Forecasters (src/forecast): the minimiser finds known minima; each model
 * continues a series it can describe exactly (a line, a line plus a
 * season); bad or short series fall back with a reason, bad arguments are
 * refused; the evaluation's origins and MASE follow the protocol, checked
 * against an independent computation on a real series (tests/data).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "forecast/arima.h"
#include "forecast/eval.h"
#include "forecast/forecast.h"
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

static double rosenbrock(const double *x, void *arg)
{
	(void)arg;
	return (1 - x[0]) * (1 - x[0]) +
	       100 * (x[1] - x[0] * x[0]) * (x[1] - x[0] * x[0]);
}

static void test_nelder_mead(void **state)
{
	double x[2] = {-1.2, 1.0}, step[2] = {0.5, 0.5}, fx;
	unsigned evals;

	(void)state;
	evals = fc_nelder_mead(rosenbrock, NULL, x, step, 2, 5000, 1e-14, &fx);
	assert_true(evals > 10 && evals <= 5000);
	assert_true(fabs(x[0] - 1) < 1e-3 && fabs(x[1] - 1) < 1e-3);
	assert_true(fx < 1e-6);
	assert_int_equal(
		fc_nelder_mead(rosenbrock, NULL, x, step, 0, 100, 1e-9, &fx),
		0);
}

/* A line: Holt continues it. */
static void test_holt_line(void **state)
{
	double y[200], f[10], lo[10], hi[10];
	struct fc_model m;
	unsigned i;

	(void)state;
	for (i = 0; i < 200; i++)
		y[i] = 1000 + 7.5 * i;
	assert_int_equal(fc_fit(&m, FC_HOLT, y, 200, 0), 0);
	assert_int_equal(m.used, FC_HOLT);
	assert_null(m.why);
	fc_forecast(&m, 10, f, lo, hi);
	for (i = 0; i < 10; i++) {
		assert_true(fabs(f[i] - (1000 + 7.5 * (200 + i))) < 0.05);
		assert_true(lo[i] <= f[i] && f[i] <= hi[i]);
	}
	fc_model_free(&m);
}

/* A line plus a season of 12: Holt-Winters continues both; Holt cannot. */
static void test_hw_season(void **state)
{
	double y[240], f[24], truth, err_hw = 0, err_holt = 0;
	struct fc_model m;
	unsigned i;

	(void)state;
	for (i = 0; i < 240; i++)
		y[i] = 50 + 0.2 * i + 10 * sin(2 * M_PI * i / 12.0);
	assert_int_equal(fc_fit(&m, FC_HW, y, 240, 12), 0);
	assert_int_equal(m.used, FC_HW);
	fc_forecast(&m, 24, f, NULL, NULL);
	for (i = 0; i < 24; i++) {
		truth = 50 + 0.2 * (240 + i) +
			10 * sin(2 * M_PI * (240 + i) / 12.0);
		err_hw += fabs(f[i] - truth);
	}
	fc_model_free(&m);
	assert_int_equal(fc_fit(&m, FC_HOLT, y, 240, 0), 0);
	fc_forecast(&m, 24, f, NULL, NULL);
	for (i = 0; i < 24; i++) {
		truth = 50 + 0.2 * (240 + i) +
			10 * sin(2 * M_PI * (240 + i) / 12.0);
		err_holt += fabs(f[i] - truth);
	}
	fc_model_free(&m);
	assert_true(err_hw / 24 < 0.5);
	assert_true(err_holt > 10 * err_hw);
}

/* ARIMA recovers an AR(1) and an MA(1) it is given, picks d = 1 for a
 * random walk, and forecasts an AR(1) toward its mean. */
static void test_arima(void **state)
{
	static double y[3000];
	unsigned long long seed = 42;
	struct arima_fit f;
	struct fc_model m;
	unsigned o[3];
	double e, prev = 0, fc[3];
	size_t i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		y[i] = (i ? 0.7 * y[i - 1] : 0) + noise(&seed);
	}
	assert_int_equal(arima_fit(y, 3000, 1, 0, 0, &f), 0);
	assert_true(fabs(f.phi[0] - 0.7) < 0.04);
	assert_true(fabs(f.sigma - 1) < 0.05);
	for (i = 0; i < 3000; i++) {
		e = noise(&seed);
		y[i] = 5 + e + 0.5 * prev;
		prev = e;
	}
	assert_int_equal(arima_fit(y, 3000, 0, 0, 1, &f), 0);
	assert_true(fabs(f.theta[0] - 0.5) < 0.05);
	assert_true(fabs(f.mu - 5) < 0.1);
	/* A random walk: differencing wins the AICc. */
	for (i = 0; i < 2000; i++)
		y[i] = (i ? y[i - 1] : 0) + noise(&seed);
	assert_int_equal(fc_arima_order(y, 2000, o), 0);
	assert_int_equal(o[1], 1);
	/* AR(1) forecasts decay toward the mean, geometrically. */
	for (i = 0; i < 3000; i++)
		y[i] = 100 + (i ? 0.8 * (y[i - 1] - 100) : 0) + noise(&seed);
	y[2999] = 120;
	o[0] = 1;
	o[1] = 0;
	o[2] = 0;
	assert_int_equal(fc_fit_arima(&m, y, 3000, o), 0);
	assert_int_equal(m.used, FC_ARIMA);
	fc_forecast(&m, 3, fc, NULL, NULL);
	assert_true(fc[0] > fc[1] && fc[1] > fc[2] && fc[2] > 100);
	assert_true(fabs((fc[1] - 100) / (fc[0] - 100) - 0.8) < 0.05);
	fc_model_free(&m);
	assert_int_equal(arima_fit(y, 10, 3, 1, 3, &f), -EINVAL);
	assert_int_equal(arima_fit(y, 3000, 4, 0, 0, &f), -EINVAL);
}

/* auto chooses from errors before the evaluation window only: whatever
 * the window holds, the choice stays. */
static void test_auto_past_only(void **state)
{
	static double y[800];
	enum fc_kind a[EVAL_HMAX], b[EVAL_HMAX];
	unsigned long long seed = 7;
	size_t t[EVAL_ORIGINS], k, i;

	(void)state;
	for (i = 0; i < 800; i++)
		y[i] = 10 * sin(2 * M_PI * i / 24.0) + noise(&seed);
	assert_int_equal(eval_auto(y, 800, 24, a), 0);
	assert_int_equal(eval_origins(800, t, &k), 0);
	for (i = t[0]; i < 800; i++)
		y[i] = 1e3 * noise(&seed);
	assert_int_equal(eval_auto(y, 800, 24, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	/* A clear season: a seasonal model wins the long horizons. */
	assert_true(a[EVAL_HMAX - 1] == FC_SNAIVE ||
		    a[EVAL_HMAX - 1] == FC_HW || a[EVAL_HMAX - 1] == FC_ARIMA);
}

/* The rolling choice and the combination use only what is known at an
 * origin: whatever follows an evaluation origin, every pick and forecast
 * of auto and combo up to it stays the same, bit for bit; after it they
 * change. */
static void test_auto_rolling_past_only(void **state)
{
	static double y[800];
	struct eval_auto *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	unsigned long long seed = 11;
	size_t t[EVAL_ORIGINS], k, i, o, cut;
	unsigned h;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (i = 0; i < 800; i++)
		y[i] = 10 * sin(2 * M_PI * i / 24.0) + noise(&seed);
	assert_int_equal(eval_auto_run(y, 800, 24, a), 0);
	assert_int_equal(eval_origins(800, t, &k), 0);
	assert_int_equal(a->k, k);
	cut = k / 2;
	for (i = t[cut]; i < 800; i++)
		y[i] = 1e3 * noise(&seed);
	assert_int_equal(eval_auto_run(y, 800, 24, b), 0);
	for (o = 0; o <= cut; o++) {
		assert_memory_equal(a->pick[o], b->pick[o], sizeof(a->pick[o]));
		assert_memory_equal(a->paths[EVAL_AUTO][o],
				    b->paths[EVAL_AUTO][o],
				    sizeof(a->paths[EVAL_AUTO][o]));
		assert_memory_equal(a->paths[EVAL_COMBO][o],
				    b->paths[EVAL_COMBO][o],
				    sizeof(a->paths[EVAL_COMBO][o]));
	}
	/* auto1 chose before the window: the same everywhere. */
	assert_memory_equal(a->choice1, b->choice1, sizeof(a->choice1));
	/* The next origin sees the change. */
	for (h = 0; h < EVAL_HMAX; h++)
		if (a->paths[EVAL_COMBO][cut + 1][h] !=
		    b->paths[EVAL_COMBO][cut + 1][h])
			break;
	assert_true(h < EVAL_HMAX);
	/* The candidates' results are eval_run's. */
	{
		struct eval_result r;

		assert_int_equal(eval_run(y, 800, FC_HW, 24, &r), 0);
		assert_memory_equal(r.mase, b->res[FC_HW].mase, sizeof(r.mase));
	}
	free(a);
	free(b);
}

/* The rolling choice follows a change: when a season gives way to a
 * random walk just before the evaluation window, auto turns at h = 1 from
 * Holt-Winters to a model that tracks the walk; auto1 keeps Holt-Winters,
 * chosen before the change, and does worse. */
static void test_auto_rolling_adapts(void **state)
{
	static double y[800];
	struct eval_auto *a = malloc(sizeof(*a));
	unsigned long long seed = 5;
	size_t i;

	(void)state;
	assert_non_null(a);
	/* The evaluation origins: 640..776; the season ends at 620. */
	for (i = 0; i < 800; i++)
		y[i] = i < 620 ? 10 * sin(2 * M_PI * i / 24.0) +
					 0.3 * noise(&seed)
			       : y[i - 1] + noise(&seed);
	assert_int_equal(eval_auto_run(y, 800, 24, a), 0);
	/* Holt-Winters before, chosen once by auto1; not at the end. */
	assert_int_equal(a->choice1[0], FC_HW);
	assert_int_equal(a->pick[0][0], FC_HW);
	assert_true(a->pick[a->k - 1][0] != FC_HW &&
		    a->pick[a->k - 1][0] != FC_SNAIVE);
	assert_true(a->res[EVAL_AUTO].mase[0] <
		    0.9 * a->res[EVAL_AUTO1].mase[0]);
	/* auto1's figures are its choice's. */
	assert_true(a->res[EVAL_AUTO1].mase[0] == a->res[FC_HW].mase[0]);
	free(a);
}

/* The combination of two forecasts with known errors: weights the
 * inverse squares of the errors; the plain mean while one is unknown. */
static void test_combine(void **state)
{
	double f[2] = {10, 20}, err[2] = {1, 2};

	(void)state;
	/* weights 1 and 1/4: (10 + 20 / 4) / (1 + 1 / 4) */
	assert_true(fabs(eval_combine(f, err, 2) - 12) < 1e-12);
	err[1] = -1;
	assert_true(fabs(eval_combine(f, err, 2) - 15) < 1e-12);
	err[0] = err[1] = 0;
	assert_true(fabs(eval_combine(f, err, 2) - 15) < 1e-12);
	err[0] = err[1] = 3;
	assert_true(fabs(eval_combine(f, err, 2) - 15) < 1e-12);
	assert_true(fabs(eval_combine(f, err, 1) - 10) < 1e-12);
	assert_int_equal(eval_model_of("combo"), EVAL_COMBO);
	assert_int_equal(eval_model_of("auto1"), EVAL_AUTO1);
	assert_int_equal(eval_model_of("arima"), FC_ARIMA);
	assert_int_equal(eval_model_of("best"), -1);
	assert_null(eval_model_name(EVAL_MODELS));
	assert_true(eval_combo_member(FC_ARIMA) && !eval_combo_member(FC_LSTM));
}

/* The online forecaster: refits on a cadence, scores each model on the
 * samples that arrive, offers the one with the lowest recent error. */
static void test_online(void **state)
{
	struct fc_online_cfg cfg = {.capacity = 240,
				    .refit_every = 12,
				    .horizon = 24,
				    .season = 12,
				    .err_weight = 0.1};
	struct fc_online_view v;
	unsigned long long seed = 3;
	struct fc_online *o;
	double f, lo, hi;
	unsigned i;

	(void)state;
	cfg.horizon = 0;
	assert_null(fc_online_new(&cfg));
	cfg.horizon = 24;
	o = fc_online_new(&cfg);
	assert_non_null(o);
	assert_int_equal(fc_online_forecast(o, 1, &f, NULL, NULL, NULL),
			 -EAGAIN);
	/* A season of 12 with little noise: a seasonal model is offered,
	 * and scored far better than naive. */
	for (i = 0; i < 600; i++)
		assert_int_equal(
			fc_online_add(o, 100 + 20 * sin(2 * M_PI * i / 12.0) +
						 0.5 * noise(&seed)),
			0);
	assert_int_equal(fc_online_forecast(o, 1, &f, &lo, &hi, &v), 0);
	assert_true(v.model == FC_SNAIVE || v.model == FC_HW ||
		    v.model == FC_ARIMA);
	assert_true(v.err >= 0 && v.err < v.err_of[FC_NAIVE] / 3);
	assert_true(lo <= f && f <= hi);
	assert_true(fabs(f - (100 + 20 * sin(2 * M_PI * 600 / 12.0))) < 3);
	assert_int_equal(v.samples, 240);
	{
		/* The ring's samples, oldest first: the last 240 of 600
		 * (numbers 360..599), the newest the last added. */
		static double got[300];
		uint64_t total = 0;

		assert_int_equal(fc_online_samples(o, got, 300, &total), 240);
		assert_int_equal(total, 600);
		assert_true(fabs(got[239] - v.last) < 1e-12);
		assert_int_equal(fc_online_samples(o, got, 10, &total), 10);
		assert_true(fabs(got[9] - v.last) < 1e-12);
	}
	/* The LSTM only when asked (cfg.lstm): never scored, never offered. */
	assert_true(v.err_of[FC_LSTM] < 0);
	/* 600 % 12 == 0: refit on the last sample, 24 steps ahead. */
	assert_int_equal(fc_online_forecast(o, 24, &f, NULL, NULL, NULL), 0);
	assert_int_equal(fc_online_forecast(o, 25, &f, NULL, NULL, NULL),
			 -EINVAL);
	assert_int_equal(fc_online_forecast(o, 0, &f, NULL, NULL, NULL),
			 -EINVAL);
	/* Not a number: taken as the last value. */
	assert_int_equal(fc_online_add(o, NAN), 0);
	assert_int_equal(fc_online_forecast(o, 1, &f, NULL, NULL, &v), 0);
	assert_true(isfinite(v.last) && isfinite(f));
	fc_online_free(o);
}

static void test_naive_snaive(void **state)
{
	double y[] = {1, 2, 3, 4, 5, 6, 7}, f[5];
	struct fc_model m;

	(void)state;
	assert_int_equal(fc_fit(&m, FC_NAIVE, y, 7, 0), 0);
	fc_forecast(&m, 3, f, NULL, NULL);
	assert_true(f[0] == 7 && f[2] == 7);
	fc_model_free(&m);
	assert_int_equal(fc_fit(&m, FC_SNAIVE, y, 7, 3), 0);
	fc_forecast(&m, 5, f, NULL, NULL);
	/* y[t + h - 1 - k m], k = ceil(h / m): 5 6 7 5 6 */
	assert_true(f[0] == 5 && f[1] == 6 && f[2] == 7 && f[3] == 5 &&
		    f[4] == 6);
	fc_model_free(&m);
}

/* Bad data falls back and says why; bad arguments are refused. */
static void test_fallbacks(void **state)
{
	double y[40], f[2];
	struct fc_model m;
	unsigned i;

	(void)state;
	for (i = 0; i < 40; i++)
		y[i] = 5;
	assert_int_equal(fc_fit(&m, FC_HW, y, 40, 12), 0);
	assert_int_equal(m.used, FC_NAIVE);
	assert_string_equal(m.why, "constant");
	fc_forecast(&m, 2, f, NULL, NULL);
	assert_true(f[1] == 5);
	fc_model_free(&m);
	for (i = 0; i < 40; i++)
		y[i] = i % 3;
	assert_int_equal(fc_fit(&m, FC_HW, y, 30, 12), 0);
	assert_int_equal(m.used, FC_HOLT);
	assert_string_equal(m.why, "shorter than two seasons");
	fc_model_free(&m);
	assert_int_equal(fc_fit(&m, FC_SNAIVE, y, 5, 12), 0);
	assert_int_equal(m.used, FC_NAIVE);
	fc_model_free(&m);
	assert_int_equal(fc_fit(&m, FC_HOLT, y, 3, 0), 0);
	assert_int_equal(m.used, FC_NAIVE);
	fc_model_free(&m);
	y[20] = NAN;
	assert_int_equal(fc_fit(&m, FC_HOLT, y, 40, 0), 0);
	assert_int_equal(m.used, FC_NAIVE);
	assert_string_equal(m.why, "a value is not finite");
	fc_forecast(&m, 1, f, NULL, NULL);
	assert_true(isfinite(f[0]));
	fc_model_free(&m);
	assert_int_equal(fc_fit(&m, FC_HOLT, y, 0, 0), -EINVAL);
	assert_int_equal(fc_fit(&m, FC_SNAIVE, y, 40, 0), -EINVAL);
	assert_int_equal(fc_fit(&m, (enum fc_kind)9, y, 40, 0), -EINVAL);
	assert_int_equal(fc_kind_of("hw"), FC_HW);
	assert_int_equal(fc_kind_of("arima"), FC_ARIMA);
	assert_int_equal(fc_kind_of("lstm"), FC_LSTM);
	assert_int_equal(fc_kind_of("gru"), -1);
	assert_null(fc_kind_name(FC_KINDS));
}

/* A constant series (a node that takes no traffic) evaluates: every
 * model falls back to naive at every origin and says why, errors 0. */
static void test_eval_constant(void **state)
{
	static double y[400];
	struct eval_result r;
	size_t t[EVAL_ORIGINS], k;
	int kind;

	(void)state;
	assert_int_equal(eval_origins(400, t, &k), 0);
	for (kind = FC_HOLT; kind <= FC_ARIMA; kind++) {
		assert_int_equal(eval_run(y, 400, (enum fc_kind)kind, 24, &r),
				 0);
		assert_int_equal(r.fallbacks, k);
		assert_string_equal(r.why, "constant");
		assert_true(r.mase[0] == 0 && r.mase[EVAL_HMAX - 1] == 0);
	}
}

/* Origins: the last fifth, K = min(60, span), rounded, no repeats. */
static void test_origins(void **state)
{
	size_t t[EVAL_ORIGINS], k;

	(void)state;
	assert_int_equal(eval_origins(1231, t, &k), 0);
	assert_int_equal(k, 60);
	assert_int_equal(t[0], 1231 - 246);
	assert_int_equal(t[59], 1231 - 24);
	/* A fifth shorter than the horizon: one origin, the last one. */
	assert_int_equal(eval_origins(100, t, &k), 0);
	assert_int_equal(k, 1);
	assert_int_equal(t[0], 100 - 24);
	assert_int_equal(eval_origins(10, t, &k), -EINVAL);
}

/* MASE of naive at h = 1 on a real series, computed here the plain way,
 * equals the evaluator's (and the reference's 0.925). */
static void test_mase_naive_real(void **state)
{
	const char *dir = getenv("STEER_SRC");
	char path[512];
	struct eval_result r;
	size_t n, bad, t[EVAL_ORIGINS], k, o, i;
	double *y, mase = 0, s;

	(void)state;
	snprintf(path, sizeof(path),
		 "%s/tests/data/workloads/link_load/tsdl_cortez_A1H.txt",
		 dir ? dir : ".");
	assert_int_equal(eval_series_read(path, &y, &n, &bad), 0);
	assert_int_equal(n, 1231);
	assert_int_equal(eval_run(y, n, FC_NAIVE, 24, &r), 0);
	assert_int_equal(eval_origins(n, t, &k), 0);
	for (o = 0; o < k; o++) {
		s = 0;
		for (i = 1; i < t[o]; i++)
			s += fabs(y[i] - y[i - 1]);
		s /= (double)(t[o] - 1);
		mase += fabs(y[t[o]] - y[t[o] - 1]) / s;
	}
	mase /= (double)k;
	assert_true(fabs(r.mase[0] - mase) < 1e-9);
	assert_true(fabs(mase - 0.925) < 0.0006);
	free(y);
}

static void test_series_read(void **state)
{
	char path[] = "/tmp/fc-series-XXXXXX";
	int fd = mkstemp(path);
	size_t n, bad;
	double *y;

	(void)state;
	assert_true(fd >= 0);
	assert_true(write(fd, "# a\n1.5\n\n2e3\n  -4 \nx7\n", 22) == 22);
	close(fd);
	assert_int_equal(eval_series_read(path, &y, &n, &bad), -EINVAL);
	assert_int_equal(bad, 6);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_true(write(fd, "1.5\n2e3\n-4\n", 11) == 11);
	close(fd);
	assert_int_equal(eval_series_read(path, &y, &n, &bad), 0);
	assert_int_equal(n, 3);
	assert_true(y[0] == 1.5 && y[1] == 2000 && y[2] == -4);
	free(y);
	unlink(path);
	assert_int_equal(eval_series_read(path, &y, &n, &bad), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nelder_mead),
		cmocka_unit_test(test_holt_line),
		cmocka_unit_test(test_hw_season),
		cmocka_unit_test(test_naive_snaive),
		cmocka_unit_test(test_arima),
		cmocka_unit_test(test_auto_past_only),
		cmocka_unit_test(test_auto_rolling_past_only),
		cmocka_unit_test(test_auto_rolling_adapts),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_online),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_origins),
		cmocka_unit_test(test_eval_constant),
		cmocka_unit_test(test_mase_naive_real),
		cmocka_unit_test(test_series_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
