// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzz target: series files (src/forecast/eval.c) and the forecasters on
 * what they hold. Any bytes: the parser accepts a series or names a bad
 * line, never reads past the input; on a series it accepts, every model
 * fits (falling back where the data asks) and forecasts finite values
 * when the series is finite; a season comes from the first byte.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "forecast/eval.h"
#include "forecast/forecast.h"
#include "forecast/lstm.h"

static void check(int cond)
{
	if (!cond)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	double *y, f[8], lo[8], hi[8];
	size_t n, bad, i;
	struct lstm_cfg lc;
	struct fc_model m;
	bool finite = true;
	unsigned season;
	int k, err;

	if (!size)
		return 0;
	season = 2 + data[0] % 30;
	err = eval_series_parse((const char *)data + 1, size - 1, &y, &n, &bad);
	if (err) {
		check(err == -EINVAL && bad >= 1 && !y && !n);
		return 0;
	}
	check(bad == 0);
	if (n > 4000) /* the fits are the slow part, not the parser */
		n = 4000;
	for (i = 0; i < n; i++)
		finite = finite && isfinite(y[i]) && fabs(y[i]) < 1e100;
	lstm_cfg_default(&lc);
	lc.max_epochs = 2; /* the paths, not the training, are fuzzed */
	for (k = 0; n && k < FC_KINDS; k++) {
		/* ARIMA's order search fits 32 models: a shorter series. */
		if (k == FC_LSTM)
			check(fc_fit_lstm(&m, y, n > 400 ? 400 : n, season,
					  &lc) == 0);
		else
			check(fc_fit(&m, (enum fc_kind)k, y,
				     k == FC_ARIMA && n > 120 ? 120 : n,
				     season) == 0);
		fc_forecast(&m, 8, f, lo, hi);
		for (i = 0; finite && i < 8; i++)
			check(isfinite(f[i]) && lo[i] <= hi[i]);
		fc_model_free(&m);
	}
	free(y);
	return 0;
}
