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

/* Add the errors of the forecasts f made at origin t to out's sums
 * (scale: MASE's, the mean absolute step before t). */
static void eval_score(const double *y, size_t t, double scale, const double *f,
		       struct eval_result *out)
{
	unsigned h;
	double a;

	for (h = 1; h <= EVAL_HMAX; h++) {
		a = y[t + h - 1];
		out->mase[h - 1] += scale > 0 ? fabs(a - f[h - 1]) / scale : 0;
		if (fabs(f[h - 1]) + fabs(a) > 0)
			out->smape[h - 1] += 200.0 * fabs(f[h - 1] - a) /
					     (fabs(f[h - 1]) + fabs(a));
	}
}

/* The sums of k origins into their means. */
static void eval_mean(struct eval_result *out, size_t k)
{
	unsigned h;

	for (h = 0; h < EVAL_HMAX; h++) {
		out->mase[h] /= (double)k;
		out->smape[h] /= (double)k;
	}
	out->fit_ms /= (double)k;
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
	double *cum, f[EVAL_HMAX], scale, t0;
	struct fc_model m;
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
		eval_score(y, t[o], scale, f, out);
	}
	eval_mean(out, k);
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

static const char *const eval_extra_names[] = {"combo", "auto", "auto1"};

const char *eval_model_name(int model)
{
	if (model >= 0 && model < FC_KINDS)
		return fc_kind_name((enum fc_kind)model);
	if (model >= FC_KINDS && model < EVAL_MODELS)
		return eval_extra_names[model - FC_KINDS];
	return NULL;
}

int eval_model_of(const char *name)
{
	int i;

	for (i = 0; i < EVAL_MODELS; i++)
		if (!strcmp(name, eval_model_name(i)))
			return i;
	return -1;
}

bool eval_combo_member(enum fc_kind kind)
{
	return kind == FC_SNAIVE || kind == FC_HW || kind == FC_ARIMA;
}

double eval_combine(const double *f, const double *err, unsigned nf)
{
	double sw = 0, s = 0, plain = 0;
	bool known = true;
	unsigned i;

	for (i = 0; i < nf; i++) {
		plain += f[i];
		known = known && err[i] > 0;
	}
	if (!known)
		return plain / nf;
	for (i = 0; i < nf; i++) {
		s += f[i] / (err[i] * err[i]);
		sw += 1 / (err[i] * err[i]);
	}
	return s / sw;
}

/*
 * The rolling choice's state: every candidate's and combo's forecasts at
 * the run-in origins then the evaluation's (ascending), each origin's
 * MASE scale, the recent errors by horizon (a discounted mean: the sum of
 * the errors, each older one discounted by 1 - EVAL_ROLL_WEIGHT, over the
 * sum of the discounts) and, per horizon, the first origin whose h-step
 * target was not yet known.
 */
struct eval_roll {
	size_t t[2 * EVAL_ORIGINS], k, k_run;
	double scale[2 * EVAL_ORIGINS];
	double f[EVAL_COMBO + 1][2 * EVAL_ORIGINS][EVAL_HMAX];
	double err[EVAL_COMBO + 1][EVAL_HMAX]; /* -1: none yet */
	double esum[EVAL_COMBO + 1][EVAL_HMAX], ewt[EVAL_COMBO + 1][EVAL_HMAX];
	size_t next[EVAL_HMAX];
	double mase_run[FC_KINDS][EVAL_HMAX]; /* the run-in's, for auto1 */
};

/* The MASE scale of every origin: the mean absolute step before it. */
static void eval_roll_scales(struct eval_roll *r, const double *y)
{
	size_t o, i = 1;
	double s = 0;

	for (o = 0; o < r->k; o++) {
		for (; i < r->t[o]; i++)
			s += fabs(y[i] - y[i - 1]);
		r->scale[o] = r->t[o] > 1 ? s / (double)(r->t[o] - 1) : 0;
	}
}

/*
 * Every candidate at the run-in's origins (the series as known at the
 * first evaluation origin t0, as eval_auto) and at the evaluation's (into
 * out). No run-in when the known part is too short: k_run = 0.
 */
static int eval_roll_fit(struct eval_roll *r, const double *y, size_t n,
			 unsigned season, struct eval_auto *out)
{
	struct eval_result rr;
	size_t te[EVAL_ORIGINS], ke;
	int kind, err;

	if (eval_origins(n, te, &ke))
		return -EINVAL;
	if (eval_origins(te[0], r->t, &r->k_run))
		r->k_run = 0;
	memcpy(r->t + r->k_run, te, ke * sizeof(*te));
	r->k = r->k_run + ke;
	out->k = ke;
	for (kind = 0; kind < FC_KINDS; kind++) {
		if (!eval_auto_candidate((enum fc_kind)kind))
			continue;
		err = eval_run_paths(y, n, (enum fc_kind)kind, season,
				     &out->res[kind], out->paths[kind]);
		if (err)
			return err;
		out->ran[kind] = true;
		memcpy(r->f[kind][r->k_run], out->paths[kind],
		       ke * sizeof(out->paths[kind][0]));
		if (!r->k_run)
			continue;
		/* The run-in's paths are its first k_run rows. */
		err = eval_run_paths(y, te[0], (enum fc_kind)kind, season, &rr,
				     r->f[kind]);
		if (err)
			return err;
		memcpy(r->mase_run[kind], rr.mase, sizeof(rr.mase));
	}
	return 0;
}

/* Score, at horizon h, the forecasts of the origins whose h-step target
 * is known at origin index o (t' + h <= t), each once, in their order. */
static void eval_roll_learn(struct eval_roll *r, const double *y, size_t o,
			    unsigned h)
{
	const double keep = 1 - EVAL_ROLL_WEIGHT;
	unsigned j = h - 1;
	size_t p;
	double e;
	int i;

	for (p = r->next[j]; p < o && r->t[p] + h <= r->t[o]; p++) {
		for (i = 0; i <= EVAL_COMBO; i++) {
			if (i < FC_KINDS && !eval_auto_candidate(i))
				continue;
			e = fabs(y[r->t[p] + j] - r->f[i][p][j]);
			e = r->scale[p] > 0 ? e / r->scale[p] : 0;
			r->esum[i][j] = keep * r->esum[i][j] + e;
			r->ewt[i][j] = keep * r->ewt[i][j] + 1;
			r->err[i][j] = r->esum[i][j] / r->ewt[i][j];
		}
	}
	r->next[j] = p;
}

/* combo's forecast at origin index o, horizon h, from the members'
 * recent errors. */
static void eval_roll_combine(struct eval_roll *r, size_t o, unsigned h)
{
	double f[FC_KINDS], err[FC_KINDS];
	unsigned nf = 0;
	int i;

	for (i = 0; i < FC_KINDS; i++) {
		if (!eval_combo_member(i))
			continue;
		f[nf] = r->f[i][o][h - 1];
		err[nf++] = r->err[i][h - 1];
	}
	r->f[EVAL_COMBO][o][h - 1] = eval_combine(f, err, nf);
}

/* The candidate with the lowest recent error at horizon h; naive before
 * any error is known. */
static int eval_roll_pick(const struct eval_roll *r, unsigned h)
{
	int i, best = FC_NAIVE;
	double e;

	for (i = 0; i <= EVAL_COMBO; i++) {
		if (i < FC_KINDS && !eval_auto_candidate(i))
			continue;
		e = r->err[i][h - 1];
		if (e >= 0 &&
		    (r->err[best][h - 1] < 0 || e < r->err[best][h - 1]))
			best = i;
	}
	return best;
}

/* auto1's choice at h: the lowest run-in MASE (eval_auto's). */
static int eval_roll_choice1(const struct eval_roll *r, unsigned h)
{
	double best = HUGE_VAL;
	int i, c = FC_NAIVE;

	for (i = 0; r->k_run && i < FC_KINDS; i++)
		if (eval_auto_candidate(i) && r->mase_run[i][h - 1] < best) {
			best = r->mase_run[i][h - 1];
			c = i;
		}
	return c;
}

/* combo's, auto's and auto1's forecasts at the evaluation origins and
 * their errors, as eval_run's. */
static void eval_roll_score(struct eval_roll *r, const double *y,
			    struct eval_auto *out)
{
	size_t o, e;
	int i;

	for (o = r->k_run; o < r->k; o++) {
		unsigned h;

		e = o - r->k_run;
		for (h = 1; h <= EVAL_HMAX; h++) {
			out->paths[EVAL_COMBO][e][h - 1] =
				r->f[EVAL_COMBO][o][h - 1];
			out->paths[EVAL_AUTO][e][h - 1] =
				r->f[out->pick[e][h - 1]][o][h - 1];
			out->paths[EVAL_AUTO1][e][h - 1] =
				r->f[out->choice1[h - 1]][o][h - 1];
		}
		for (i = EVAL_COMBO; i <= EVAL_AUTO1; i++)
			eval_score(y, r->t[o], r->scale[o], out->paths[i][e],
				   &out->res[i]);
	}
	for (i = EVAL_COMBO; i <= EVAL_AUTO1; i++) {
		eval_mean(&out->res[i], out->k);
		out->ran[i] = true;
	}
	/* Their cost: the models they need, fitted at every origin. */
	for (i = 0; i < FC_KINDS; i++) {
		if (!out->ran[i])
			continue;
		out->res[EVAL_AUTO].fit_ms += out->res[i].fit_ms;
		out->res[EVAL_AUTO1].fit_ms += out->res[i].fit_ms;
		if (eval_combo_member(i))
			out->res[EVAL_COMBO].fit_ms += out->res[i].fit_ms;
	}
}

int eval_auto_run(const double *y, size_t n, unsigned season,
		  struct eval_auto *out)
{
	struct eval_roll *r;
	unsigned h;
	size_t o;
	int i, err;

	memset(out, 0, sizeof(*out));
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	err = eval_roll_fit(r, y, n, season, out);
	if (err)
		goto out;
	eval_roll_scales(r, y);
	for (i = 0; i <= EVAL_COMBO; i++)
		for (h = 0; h < EVAL_HMAX; h++)
			r->err[i][h] = -1;
	for (o = 0; o < r->k; o++)
		for (h = 1; h <= EVAL_HMAX; h++) {
			eval_roll_learn(r, y, o, h);
			eval_roll_combine(r, o, h);
			if (o >= r->k_run)
				out->pick[o - r->k_run][h - 1] =
					(unsigned char)eval_roll_pick(r, h);
		}
	for (h = 1; h <= EVAL_HMAX; h++)
		out->choice1[h - 1] = (unsigned char)eval_roll_choice1(r, h);
	eval_roll_score(r, y, out);
out:
	free(r);
	return err;
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
