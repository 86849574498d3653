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
 *   choice SERIES H auto MODEL       (auto's pick for horizon H)
 * auto is steer's own choice per horizon, from errors before the
 * evaluation window only (eval_auto); it needs every model it chooses
 * among run (all but lstm: eval_auto_candidate).
 *
 *   steer-forecast [--models naive,snaive,holt,hw,arima,lstm,auto]
 *                  [--season M] [--paths DIR]
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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast/eval.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: steer-forecast [--models LIST] [--season M] "
		   "[--horizons LIST] [--paths DIR] FILE...\n"
		   "  models: naive, snaive, holt, hw, arima, lstm, auto "
		   "(default all)\n");
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

/* A comma-separated list of models; "auto" sets *with_auto. */
static int parse_models(const char *s, int *kinds, bool *with_auto)
{
	char buf[128], *tok, *save;
	int n = 0, k;

	*with_auto = false;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "auto")) {
			*with_auto = true;
			continue;
		}
		k = fc_kind_of(tok);
		if (k < 0 || n == FC_KINDS)
			return -1;
		kinds[n++] = k;
	}
	return n ? n : -1;
}

static bool model_wanted(const int *kinds, int nk, int k)
{
	int i;

	for (i = 0; i < nk; i++)
		if (kinds[i] == k)
			return true;
	return false;
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
static void paths_write(const char *name, int kd, const double *y, size_t n,
			double (*paths)[EVAL_HMAX], const unsigned *hs, int nh)
{
	size_t t[EVAL_ORIGINS], k, o;
	char file[512];
	FILE *f;
	int j;

	snprintf(file, sizeof(file), "%s/%s_%s.dat", paths_dir, name,
		 fc_kind_name(kd));
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

static int run_file(const char *path, const int *kinds, int nk, int season,
		    const unsigned *hs, int nh, bool with_auto)
{
	struct eval_result r, all[FC_KINDS];
	enum fc_kind choice[EVAL_HMAX];
	char name[256];
	size_t n, bad;
	double *y;
	unsigned m;
	int i, j, err;

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
	for (i = 0; i < (with_auto ? FC_KINDS : nk); i++) {
		int kd = with_auto ? i : kinds[i];

		/* auto needs its candidates run, not the costly rest. */
		if (with_auto && !model_wanted(kinds, nk, kd) &&
		    !eval_auto_candidate((enum fc_kind)kd))
			continue;
		static double paths[EVAL_ORIGINS][EVAL_HMAX];

		err = eval_run_paths(y, n, (enum fc_kind)kd, m, &all[kd],
				     paths_dir ? paths : NULL);
		r = all[kd];
		if (err) {
			fprintf(stderr, "steer-forecast: %s: %s: %s\n", path,
				fc_kind_name(kd),
				err == -EINVAL ? "too short to evaluate"
					       : strerror(-err));
			free(y);
			return 1;
		}
		if (!model_wanted(kinds, nk, kd))
			continue;
		if (paths_dir)
			paths_write(name, kd, y, n, paths, hs, nh);
		for (j = 0; j < nh; j++)
			printf("mase %s %u %s %.4f\n", name, hs[j],
			       fc_kind_name(kd), r.mase[hs[j] - 1]);
		for (j = 0; j < nh; j++)
			printf("smape %s %u %s %.4f\n", name, hs[j],
			       fc_kind_name(kd), r.smape[hs[j] - 1]);
		printf("fit_ms %s %s %.3f\n", name, fc_kind_name(kd), r.fit_ms);
		if (kd == FC_ARIMA)
			printf("order %s arima %u %u %u\n", name, r.order[0],
			       r.order[1], r.order[2]);
		if (r.fallbacks)
			printf("fallback %s %s %u %s\n", name, fc_kind_name(kd),
			       r.fallbacks, r.why);
		fflush(stdout);
	}
	if (with_auto) {
		err = eval_auto(y, n, m, choice);
		if (err) {
			fprintf(stderr, "steer-forecast: %s: auto: %s\n", path,
				strerror(-err));
			free(y);
			return 1;
		}
		for (j = 0; j < nh; j++)
			printf("mase %s %u auto %.4f\n", name, hs[j],
			       all[choice[hs[j] - 1]].mase[hs[j] - 1]);
		for (j = 0; j < nh; j++)
			printf("smape %s %u auto %.4f\n", name, hs[j],
			       all[choice[hs[j] - 1]].smape[hs[j] - 1]);
		for (j = 0; j < nh; j++)
			printf("choice %s %u auto %s\n", name, hs[j],
			       fc_kind_name(choice[hs[j] - 1]));
	}
	free(y);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"models", required_argument, NULL, 'm'},
		{"season", required_argument, NULL, 's'},
		{"horizons", required_argument, NULL, 'H'},
		{"paths", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int kinds[FC_KINDS] = {FC_NAIVE, FC_SNAIVE, FC_HOLT,
			       FC_HW,	 FC_ARIMA,  FC_LSTM};
	unsigned hs[EVAL_HMAX] = {1, 6, 12, 24}, s;
	int nk = FC_KINDS, nh = 4, season = -1, c, i, rc = 0;
	bool with_auto = true;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			nk = parse_models(optarg, kinds, &with_auto);
			if (nk < 0) {
				fprintf(stderr, "steer-forecast: --models "
						"expects a list of naive, "
						"snaive, holt, hw, arima, "
						"lstm, auto\n");
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
		rc |= run_file(argv[i], kinds, nk, season, hs, nh, with_auto);
	return rc;
}
