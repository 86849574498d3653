/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rolling-origin evaluation of the forecasters, by the protocol the
 * project compares against (docs/forecasting.md): origins over the last
 * fifth of the series, every model refit from scratch at every origin on
 * a capped window, standardised; MASE against the in-sample naive step of
 * the whole history before the origin, and sMAPE.
 */
#ifndef STEER_FORECAST_EVAL_H
#define STEER_FORECAST_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "forecast/forecast.h"

#define EVAL_HMAX 24	  /* horizons 1..EVAL_HMAX */
#define EVAL_ORIGINS 60	  /* at most */
#define EVAL_WINDOW 2000  /* fit window cap */
#define EVAL_HW_SEASONS 4 /* hw fits on the last 4 m points at most */

/* The origins t (points known) of a series of n points: *k of them into
 * t[0..EVAL_ORIGINS-1]. -EINVAL when n is too short for any. */
int eval_origins(size_t n, size_t *t, size_t *k);

struct eval_result {
	double mase[EVAL_HMAX]; /* by h - 1 */
	double smape[EVAL_HMAX];
	double fit_ms;	    /* per origin, fit and forecast */
	unsigned fallbacks; /* origins where the model fell back */
	unsigned order[3];  /* arima: p, d, q, chosen at the first origin */
	const char *why;    /* the last fallback's reason */
};

/*
 * Evaluate kind on y[0..n-1] with season m (0: none; snaive and hw then
 * fall back to naive and holt). 0, -EINVAL or -ENOMEM.
 */
int eval_run(const double *y, size_t n, enum fc_kind kind, unsigned season,
	     struct eval_result *out);

/* The same, keeping every forecast made in paths[origin][h - 1] (the
 * origins in the order eval_origins() gives), for plots. */
int eval_run_paths(const double *y, size_t n, enum fc_kind kind,
		   unsigned season, struct eval_result *out,
		   double (*paths)[EVAL_HMAX]);

/*
 * steer's own choice, as a daemon would make it, from past errors only:
 * for each horizon the model whose MASE was lowest when the same protocol
 * ran on the series as it was known at the first evaluation origin (so
 * every fit and every error it looks at lies before the evaluation
 * window). choice[h - 1] for h = 1..EVAL_HMAX. 0, -EINVAL, -ENOMEM.
 * The candidates are the kinds eval_auto_candidate() accepts.
 */

/*
 * Whether auto chooses among kind: every kind but lstm, which the online
 * forecaster (online.h) only fits when asked, for its cost; auto stays
 * the choice a daemon makes by default.
 */
bool eval_auto_candidate(enum fc_kind kind);
int eval_auto(const double *y, size_t n, unsigned season, enum fc_kind *choice);

/*
 * Models beyond enum fc_kind, numbered after it (0..EVAL_MODELS - 1 name
 * every model steer-forecast evaluates):
 *   combo  at each origin and horizon, the mean of the combination's
 *          members' forecasts (eval_combo_member) weighted by the inverse
 *          square of each one's recent error at that horizon
 *          (eval_combine)
 *   auto   the rolling choice: at each origin and horizon, the candidate
 *          (eval_auto_candidate, and combo) with the lowest recent error
 *   auto1  one choice per horizon before the evaluation window (eval_auto)
 * "Recent error" at origin t and horizon h: the scaled absolute errors
 * (MASE's: over the mean absolute step before the forecast's origin) of
 * the h-step forecasts made at earlier origins t' whose target is known,
 * t' + h <= t: their discounted mean, each error discounted by
 * 1 - EVAL_ROLL_WEIGHT for every newer one (exponential smoothing, as the
 * online forecaster's (online.h), but weighing the first error as any
 * other rather than starting from it). The origins are the evaluation's, after a run-in:
 * the origins the protocol gives the series as known at the first
 * evaluation origin (eval_auto's), so the first choice has errors to go
 * on. Nothing at or after an origin enters its choice or its weights.
 */
#define EVAL_COMBO FC_KINDS
#define EVAL_AUTO (FC_KINDS + 1)
#define EVAL_AUTO1 (FC_KINDS + 2)
#define EVAL_MODELS (FC_KINDS + 3)

/*
 * The discount of the recent error: an error's weight halves every 34
 * newer ones (about the last 1 / EVAL_ROLL_WEIGHT = 50 count). Chosen on
 * the four link-load series only, before the lab's series were looked at
 * (docs/forecasting.md): 0 to 0.02 were as good there, 0.05 and more
 * worse.
 */
#define EVAL_ROLL_WEIGHT 0.02

/* "naive" .. "lstm", "combo", "auto", "auto1"; NULL for another value. */
const char *eval_model_name(int model);
/* The model of a name, or -1. */
int eval_model_of(const char *name);

/*
 * Whether kind is one of the combination's members: seasonal naive,
 * Holt-Winters and ARIMA (adding naive or Holt did not help on the
 * link-load series).
 */
bool eval_combo_member(enum fc_kind kind);

/*
 * The combination of nf forecasts f[i] whose recent errors are err[i]:
 * weights 1 / err[i]^2, normalised; the plain mean when an error is not
 * known yet or is 0 (err[i] <= 0). nf >= 1.
 */
double eval_combine(const double *f, const double *err, unsigned nf);

/* Everything auto, auto1 and combo need, and what they gave. */
struct eval_auto {
	size_t k;			     /* evaluation origins */
	bool ran[EVAL_MODELS];		     /* res and paths hold it */
	struct eval_result res[EVAL_MODELS]; /* as eval_run's */
	double paths[EVAL_MODELS][EVAL_ORIGINS][EVAL_HMAX];
	unsigned char pick[EVAL_ORIGINS][EVAL_HMAX]; /* auto's model at each
						      * origin, by h - 1 */
	unsigned char choice1[EVAL_HMAX];	     /* auto1's, by h - 1 */
};

/*
 * Evaluate every candidate of auto (eval_run_paths, on y and, for the
 * run-in, on the series as known at the first evaluation origin), then
 * combo, auto and auto1 over the same origins, into *out (about 110 KB:
 * the caller allocates it). 0, -EINVAL (too short to evaluate), -ENOMEM.
 */
int eval_auto_run(const double *y, size_t n, unsigned season,
		  struct eval_auto *out);

/*
 * Read a series: one number per line, blank lines and '#' comments
 * skipped. *y (malloc'd) and *n. 0, -ENOENT/-errno of the file, -EINVAL
 * with *bad_line the line that is not a number.
 */
int eval_series_read(const char *path, double **y, size_t *n, size_t *bad_line);

/* The same from len bytes of buf (a number: at most 63 characters). */
int eval_series_parse(const char *buf, size_t len, double **y, size_t *n,
		      size_t *bad_line);

#endif /* STEER_FORECAST_EVAL_H */
