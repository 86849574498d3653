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
 * Read a series: one number per line, blank lines and '#' comments
 * skipped. *y (malloc'd) and *n. 0, -ENOENT/-errno of the file, -EINVAL
 * with *bad_line the line that is not a number.
 */
int eval_series_read(const char *path, double **y, size_t *n, size_t *bad_line);

/* The same from len bytes of buf (a number: at most 63 characters). */
int eval_series_parse(const char *buf, size_t len, double **y, size_t *n,
		      size_t *bad_line);

#endif /* STEER_FORECAST_EVAL_H */
