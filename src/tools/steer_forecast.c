// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-forecast: rolling-origin evaluation of steer's forecasters on
 * series files (one number per line), by the protocol of
 * docs/forecasting.md. One line per result:
 *   mase SERIES H MODEL VALUE
 *   smape SERIES H MODEL VALUE
 *   fit_ms SERIES MODEL VALUE        (fit and forecast, per origin)
 *   fallback SERIES MODEL ORIGINS REASON   (when a model fell back)
 *   order SERIES arima P D Q         (the order AICc chose)
 *   choice SERIES H auto MODEL=N ... (auto's picks at horizon H: at how
 *                                     many origins each model)
 *   choice SERIES H auto1 MODEL      (auto1's one pick for horizon H)
 * and with --summary, after every file, per model over every row printed:
 *   geomean MODEL VALUE ROWS         (of MASE / min(naive, snaive))
 *   worst MODEL RATIO SERIES H       (its highest such ratio)
 * combo, auto and auto1 (eval.h) are computed from the same forecasts as
 * the models they combine or choose among (every model but lstm: those
 * are run whenever one of the three is asked); auto chooses at every
 * origin from the errors known there, auto1 once before the evaluation
 * window.
 *
 *   steer-forecast [--models naive,snaive,holt,hw,arima,lstm,combo,auto,
 *                            auto1]
 *                  [--season M] [--paths DIR] [--summary]
 *                  [--horizons 1,6,12,24] FILE...
 * --paths: every forecast made, per series and model, into
 * DIR/SERIES_MODEL.dat ("h target actual forecast" lines, for plots).
 * --season: steps in a season; by default 288 for a file whose name holds
 * "5M" (5-minute data, a day), 24 for "1H" (hourly), else none.
 * Exit 0; 1 when a file cannot be read or evaluated; 2 for bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/eval.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: steer-forecast [--models LIST] [--season M] "
		   "[--horizons LIST] [--paths DIR] [--summary] FILE...\n"
		   "  models: naive, snaive, holt, hw, arima, lstm, combo, "
		   "auto, auto1 (default all)\n");
}

/* A comma-separated list of numbers 1..max into v; their count, or -1. */
static int parse_list(const char *s, unsigned *v, unsigned cap, unsigned max)
{
	char *end;
	unsigned n = 0;
	unsigned long x;

	while (*s) {
		x = strtoul(s, &end, 10);
		if (end == s || x < 1 || x > max || n == cap ||
		    (*end && *end != ','))
			return -1;
		v[n++] = (unsigned)x;
		s = *end ? end + 1 : end;
	}
	return n ? (int)n : -1;
}

/* A comma-separated list of models (eval_model_of) into wanted. */
static int parse_models(const char *s, bool *wanted)
{
	char buf[128], *tok, *save;
	int n = 0, k;

	memset(wanted, 0, EVAL_MODELS * sizeof(*wanted));
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		k = eval_model_of(tok);
		if (k < 0)
			return -1;
		wanted[k] = true;
		n++;
	}
	return n ? n : -1;
}

/* The series' name: the file's base name without its extension. */
static void series_name(const char *path, char *out, size_t len)
{
	char buf[512], *dot;

	snprintf(buf, sizeof(buf), "%s", path);
	snprintf(out, len, "%s", basename(buf));
	dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = '\0';
}

/* --paths DIR: every forecast made, for plots (NULL: none). */
static const char *paths_dir;

/*
 * DIR/NAME_MODEL.dat: one line per origin and horizon of hs,
 * "h target actual forecast" (target: the index of the point forecast).
 */
static void paths_write(const char *name, int model, const double *y, size_t n,
			double (*paths)[EVAL_HMAX], const unsigned *hs, int nh)
{
	size_t t[EVAL_ORIGINS], k, o;
	char file[512];
	FILE *f;
	int j;

	snprintf(file, sizeof(file), "%s/%s_%s.dat", paths_dir, name,
		 eval_model_name(model));
	f = fopen(file, "we");
	if (!f || eval_origins(n, t, &k)) {
		fprintf(stderr, "steer-forecast: %s: %s\n", file,
			f ? "no origins" : strerror(errno));
		if (f)
			fclose(f);
		return;
	}
	fprintf(f, "# h target actual forecast\n");
	for (j = 0; j < nh; j++)
		for (o = 0; o < k; o++)
			fprintf(f, "%u %zu %.6g %.6g\n", hs[j],
				t[o] + hs[j] - 1, y[t[o] + hs[j] - 1],
				paths[o][hs[j] - 1]);
	fclose(f);
}

/*
 * --summary: per model, over every row (series, horizon) printed, the
 * geometric mean of MASE / min(MASE naive, MASE snaive) and the worst
 * ratio, as docs/forecasting.md reports them. A row whose base or value is
 * not above 0 is left out.
 */
static bool summary;
static struct {
	double log_sum, worst;
	unsigned rows, worst_h;
	char worst_series[256];
} sums[EVAL_MODELS];

static void summary_add(const char *name, const struct eval_result *res,
			const bool *got, const unsigned *hs, int nh)
{
	double base, x;
	int i, j;

	if (!got[FC_NAIVE] || !got[FC_SNAIVE])
		return;
	for (j = 0; j < nh; j++) {
		base = fmin(res[FC_NAIVE].mase[hs[j] - 1],
			    res[FC_SNAIVE].mase[hs[j] - 1]);
		for (i = 0; i < EVAL_MODELS; i++) {
			x = res[i].mase[hs[j] - 1];
			if (!got[i] || !(base > 0) || !(x > 0))
				continue;
			sums[i].log_sum += log(x / base);
			if (!sums[i].rows++ || x / base > sums[i].worst) {
				sums[i].worst = x / base;
				sums[i].worst_h = hs[j];
				snprintf(sums[i].worst_series,
					 sizeof(sums[i].worst_series), "%s",
					 name);
			}
		}
	}
}

/* "geomean MODEL VALUE ROWS" and "worst MODEL RATIO SERIES H" lines. */
static void summary_print(void)
{
	int i;

	for (i = 0; i < EVAL_MODELS; i++) {
		if (!sums[i].rows)
			continue;
		printf("geomean %s %.4f %u\n", eval_model_name(i),
		       exp(sums[i].log_sum / sums[i].rows), sums[i].rows);
		printf("worst %s %.4f %s %u\n", eval_model_name(i),
		       sums[i].worst, sums[i].worst_series, sums[i].worst_h);
	}
}

static void print_result(const char *name, int model,
			 const struct eval_result *r, const unsigned *hs,
			 int nh)
{
	const char *mn = eval_model_name(model);
	int j;

	for (j = 0; j < nh; j++)
		printf("mase %s %u %s %.4f\n", name, hs[j], mn,
		       r->mase[hs[j] - 1]);
	for (j = 0; j < nh; j++)
		printf("smape %s %u %s %.4f\n", name, hs[j], mn,
		       r->smape[hs[j] - 1]);
	printf("fit_ms %s %s %.3f\n", name, mn, r->fit_ms);
	if (model == FC_ARIMA)
		printf("order %s arima %u %u %u\n", name, r->order[0],
		       r->order[1], r->order[2]);
	if (r->fallbacks)
		printf("fallback %s %s %u %s\n", name, mn, r->fallbacks,
		       r->why);
}

/* auto's picks per horizon (how many origins each model was chosen at)
 * and auto1's one choice. */
static void print_choices(const char *name, const struct eval_auto *ea,
			  const bool *wanted, const unsigned *hs, int nh)
{
	unsigned count[EVAL_MODELS];
	size_t o;
	int i, j;

	for (j = 0; wanted[EVAL_AUTO] && j < nh; j++) {
		memset(count, 0, sizeof(count));
		for (o = 0; o < ea->k; o++)
			count[ea->pick[o][hs[j] - 1]]++;
		printf("choice %s %u auto", name, hs[j]);
		for (i = 0; i < EVAL_MODELS; i++)
			if (count[i])
				printf(" %s=%u", eval_model_name(i), count[i]);
		printf("\n");
	}
	for (j = 0; wanted[EVAL_AUTO1] && j < nh; j++)
		printf("choice %s %u auto1 %s\n", name, hs[j],
		       eval_model_name(ea->choice1[hs[j] - 1]));
}

/* One model's results: from ea when it ran there, else its own run. */
static int eval_model(const double *y, size_t n, int model, unsigned m,
		      const struct eval_auto *ea, struct eval_result *r,
		      double (*paths)[EVAL_HMAX])
{
	if (ea && ea->ran[model]) {
		*r = ea->res[model];
		memcpy(paths, ea->paths[model], sizeof(ea->paths[model]));
		return 0;
	}
	return eval_run_paths(y, n, (enum fc_kind)model, m, r,
			      paths_dir ? paths : NULL);
}

static int run_file(const char *path, const bool *wanted, int season,
		    const unsigned *hs, int nh)
{
	static double paths[EVAL_ORIGINS][EVAL_HMAX];
	struct eval_result res[EVAL_MODELS];
	bool got[EVAL_MODELS] = {false};
	struct eval_auto *ea = NULL;
	char name[256];
	size_t n, bad;
	double *y;
	unsigned m;
	int i, err;

	err = eval_series_read(path, &y, &n, &bad);
	if (err == -EINVAL) {
		fprintf(stderr, "steer-forecast: %s:%zu: not a number\n", path,
			bad);
		return 1;
	}
	if (err) {
		fprintf(stderr, "steer-forecast: %s: %s\n", path,
			strerror(-err));
		return 1;
	}
	series_name(path, name, sizeof(name));
	m = season >= 0		 ? (unsigned)season
	    : strstr(name, "5M") ? 288u
	    : strstr(name, "1H") ? 24u
				 : 0u;
	/* combo, auto and auto1 need every candidate of auto run. */
	i = EVAL_AUTO;
	if (wanted[EVAL_COMBO] || wanted[EVAL_AUTO] || wanted[EVAL_AUTO1]) {
		ea = malloc(sizeof(*ea));
		err = ea ? eval_auto_run(y, n, m, ea) : -ENOMEM;
		if (err)
			goto fail;
	}
	for (i = 0; i < EVAL_MODELS; i++) {
		if (!wanted[i])
			continue;
		err = eval_model(y, n, i, m, ea, &res[i], paths);
		if (err)
			goto fail;
		got[i] = true;
		if (paths_dir)
			paths_write(name, i, y, n, paths, hs, nh);
		print_result(name, i, &res[i], hs, nh);
		fflush(stdout);
	}
	if (ea)
		print_choices(name, ea, wanted, hs, nh);
	summary_add(name, res, got, hs, nh);
	free(ea);
	free(y);
	return 0;
fail:
	fprintf(stderr, "steer-forecast: %s: %s: %s\n", path,
		eval_model_name(i),
		err == -EINVAL ? "too short to evaluate" : strerror(-err));
	free(ea);
	free(y);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"models", required_argument, NULL, 'm'},
		{"season", required_argument, NULL, 's'},
		{"horizons", required_argument, NULL, 'H'},
		{"paths", required_argument, NULL, 'p'},
		{"summary", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	unsigned hs[EVAL_HMAX] = {1, 6, 12, 24}, s;
	int nh = 4, season = -1, c, i, rc = 0;
	bool wanted[EVAL_MODELS];

	for (i = 0; i < EVAL_MODELS; i++)
		wanted[i] = true;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (parse_models(optarg, wanted) < 0) {
				fprintf(stderr, "steer-forecast: --models "
						"expects a list of naive, "
						"snaive, holt, hw, arima, "
						"lstm, combo, auto, auto1\n");
				return 2;
			}
			break;
		case 's':
			if (parse_list(optarg, &s, 1, 100000) != 1) {
				fprintf(stderr, "steer-forecast: --season "
						"expects 1..100000\n");
				return 2;
			}
			season = (int)s;
			break;
		case 'H':
			nh = parse_list(optarg, hs, EVAL_HMAX, EVAL_HMAX);
			if (nh < 0) {
				fprintf(stderr,
					"steer-forecast: --horizons expects "
					"a list of 1..%d\n",
					EVAL_HMAX);
				return 2;
			}
			break;
		case 'p':
			paths_dir = optarg;
			break;
		case 'S':
			summary = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return 2;
	}
	for (i = optind; i < argc; i++)
		rc |= run_file(argv[i], wanted, season, hs, nh);
	if (summary)
		summary_print();
	return rc;
}
