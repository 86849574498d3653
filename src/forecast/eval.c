// SPDX-License-Identifier: GPL-2.0-only
#include "forecast/eval.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int eval_origins(size_t n, size_t *t, size_t *k)
{
	size_t first, last, span, i, got = 0, v;
	double step;

	if (n < 2 * EVAL_HMAX + 2)
		return -EINVAL;
	first = n - (size_t)floor(0.2 * (double)n);
	last = n - EVAL_HMAX;
	if (first > last)
		first = last;
	span = last - first + 1;
	*k = span < EVAL_ORIGINS ? span : EVAL_ORIGINS;
	step = *k > 1 ? (double)(last - first) / (double)(*k - 1) : 0;
	for (i = 0; i < *k; i++) {
		/* round(linspace(first, last, K)), halves to even as numpy */
		double x = (double)first + step * (double)i;

		v = (size_t)nearbyint(x);
		if (!got || t[got - 1] != v)
			t[got++] = v;
	}
	*k = got;
	return 0;
}

static double eval_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The fit window of kind at origin t: where it starts. */
static size_t eval_window(enum fc_kind kind, size_t t, unsigned season)
{
	size_t w = t < EVAL_WINDOW ? t : EVAL_WINDOW;

	/* A long season (5-minute data, a day) costs hw dearly: it fits on
	 * its last EVAL_HW_SEASONS seasons, as the reference does. */
	if (kind == FC_HW && season > 100 &&
	    w > (size_t)EVAL_HW_SEASONS * season)
		w = (size_t)EVAL_HW_SEASONS * season;
	return t - w;
}

int eval_run(const double *y, size_t n, enum fc_kind kind, unsigned season,
	     struct eval_result *out)
{
	return eval_run_paths(y, n, kind, season, out, NULL);
}

int eval_run_paths(const double *y, size_t n, enum fc_kind kind,
		   unsigned season, struct eval_result *out,
		   double (*paths)[EVAL_HMAX])
{
	size_t t[EVAL_ORIGINS], k, o, i, from;
	double *cum, f[EVAL_HMAX], scale, a, t0;
	struct fc_model m;
	unsigned h;
	int err;

	memset(out, 0, sizeof(*out));
	if (eval_origins(n, t, &k))
		return -EINVAL;
	/* cum[i]: sum of |y[j] - y[j-1]| for j = 1..i. */
	cum = calloc(n, sizeof(*cum));
	if (!cum)
		return -ENOMEM;
	for (i = 1; i < n; i++)
		cum[i] = cum[i - 1] + fabs(y[i] - y[i - 1]);
	/* ARIMA's order: chosen once, on the first origin's window. */
	if (kind == FC_ARIMA) {
		from = eval_window(kind, t[0], season);
		err = fc_arima_order(y + from, t[0] - from, out->order);
		/* A constant (or not finite) window has no order to find:
		 * a random walk's, and each fit falls back and says why. */
		if (err == -EINVAL) {
			out->order[0] = out->order[2] = 0;
			out->order[1] = 1;
		} else if (err) {
			free(cum);
			return err;
		}
	}
	for (o = 0; o < k; o++) {
		enum fc_kind kd = kind;

		/* Seasonal naive needs two seasons of history. */
		if (kd == FC_SNAIVE && (!season || t[o] < 2 * (size_t)season))
			kd = FC_NAIVE;
		if (kd == FC_HW && !season)
			kd = FC_HOLT;
		from = eval_window(kd, t[o], season);
		t0 = eval_now_ms();
		err = kd == FC_ARIMA
			      ? fc_fit_arima(&m, y + from, t[o] - from,
					     out->order)
			      : fc_fit(&m, kd, y + from, t[o] - from, season);
		if (err) {
			free(cum);
			return err;
		}
		fc_forecast(&m, EVAL_HMAX, f, NULL, NULL);
		out->fit_ms += eval_now_ms() - t0;
		if (paths)
			memcpy(paths[o], f, sizeof(f));
		if (m.used != kind) {
			out->fallbacks++;
			out->why = m.why ? m.why : "no season";
		}
		fc_model_free(&m);
		scale = t[o] > 1 ? cum[t[o] - 1] / (double)(t[o] - 1) : 0;
		for (h = 1; h <= EVAL_HMAX; h++) {
			a = y[t[o] + h - 1];
			out->mase[h - 1] +=
				scale > 0 ? fabs(a - f[h - 1]) / scale : 0;
			if (fabs(f[h - 1]) + fabs(a) > 0)
				out->smape[h - 1] += 200.0 *
						     fabs(f[h - 1] - a) /
						     (fabs(f[h - 1]) + fabs(a));
		}
	}
	for (h = 0; h < EVAL_HMAX; h++) {
		out->mase[h] /= (double)k;
		out->smape[h] /= (double)k;
	}
	out->fit_ms /= (double)k;
	free(cum);
	return 0;
}

bool eval_auto_candidate(enum fc_kind kind)
{
	return (unsigned)kind < FC_KINDS && kind != FC_LSTM;
}

int eval_auto(const double *y, size_t n, unsigned season, enum fc_kind *choice)
{
	size_t t[EVAL_ORIGINS], k;
	double best[EVAL_HMAX];
	struct eval_result r;
	unsigned h;
	int kind, err;

	if (eval_origins(n, t, &k))
		return -EINVAL;
	for (h = 0; h < EVAL_HMAX; h++) {
		best[h] = HUGE_VAL;
		choice[h] = FC_NAIVE;
	}
	/* The series as known at the first evaluation origin. */
	for (kind = 0; kind < FC_KINDS; kind++) {
		if (!eval_auto_candidate((enum fc_kind)kind))
			continue;
		err = eval_run(y, t[0], (enum fc_kind)kind, season, &r);
		if (err == -EINVAL)
			return err;
		if (err)
			return err;
		for (h = 0; h < EVAL_HMAX; h++)
			if (r.mase[h] < best[h]) {
				best[h] = r.mase[h];
				choice[h] = (enum fc_kind)kind;
			}
	}
	return 0;
}

int eval_series_parse(const char *buf, size_t len, double **y, size_t *n,
		      size_t *bad_line)
{
	size_t cap = 0, lineno = 0, i = 0, j, k;
	double v, *out = NULL, *nb;
	char num[64], *end;

	*y = NULL;
	*n = 0;
	*bad_line = 0;
	while (i < len) {
		lineno++;
		for (j = i; j < len && buf[j] != '\n'; j++)
			;
		/* The line [i, j) without blanks around it. */
		while (i < j && (buf[i] == ' ' || buf[i] == '\t'))
			i++;
		k = j;
		while (k > i && (buf[k - 1] == ' ' || buf[k - 1] == '\t' ||
				 buf[k - 1] == '\r'))
			k--;
		if (k > i && buf[i] != '#') {
			if (k - i >= sizeof(num))
				goto bad;
			memcpy(num, buf + i, k - i);
			num[k - i] = '\0';
			v = strtod(num, &end);
			if (end == num || *end)
				goto bad;
			if (*n == cap) {
				cap = cap ? 2 * cap : 4096;
				nb = realloc(out, cap * sizeof(*out));
				if (!nb) {
					free(out);
					*n = 0;
					return -ENOMEM;
				}
				out = nb;
			}
			out[(*n)++] = v;
		}
		i = j + 1;
	}
	*y = out;
	return 0;
bad:
	free(out);
	*n = 0;
	*bad_line = lineno;
	return -EINVAL;
}

int eval_series_read(const char *path, double **y, size_t *n, size_t *bad_line)
{
	FILE *fp = fopen(path, "re");
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;
	int err;

	*y = NULL;
	*n = 0;
	*bad_line = 0;
	if (!fp)
		return -errno;
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 1u << 16;
			nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				fclose(fp);
				return -ENOMEM;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
	} while (got);
	err = ferror(fp) ? -EIO : 0;
	fclose(fp);
	if (!err)
		err = eval_series_parse(buf, len, y, n, bad_line);
	free(buf);
	return err;
}
