// SPDX-License-Identifier: GPL-2.0-only
#include "forecast/lstm.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LSTM_VAL_MIN 8	    /* held-out points, at least */
#define LSTM_TRAIN_MIN 32   /* training windows, at least */
#define LSTM_ADAM_B1 0.9    /* Adam's decay of the mean */
#define LSTM_ADAM_B2 0.999  /* and of the second moment */
#define LSTM_ADAM_EPS 1e-8  /* and its guard against 0 */
#define LSTM_FORGET_BIAS 1. /* the forget gates start open */

void lstm_cfg_default(struct lstm_cfg *cfg)
{
	*cfg = (struct lstm_cfg){
		.hidden = 16,
		.window = 48,
		.max_epochs = 40,
		.max_windows = 128,
		.batch = 8,
		.patience = 6,
		.lr = 0.01,
		.clip = 1.0,
		.holdout = 0.1,
		.seed = 0x5eed15e7ull,
	};
}

bool lstm_cfg_valid(const struct lstm_cfg *c)
{
	return c->hidden >= 1 && c->hidden <= LSTM_HIDDEN_MAX &&
	       c->window >= 4 && c->window <= LSTM_WINDOW_MAX &&
	       c->max_epochs >= 1 && c->max_windows >= 1 && c->batch >= 1 &&
	       c->lr > 0 && c->lr < 1 && c->clip > 0 && c->holdout > 0 &&
	       c->holdout < 0.5;
}

/* splitmix64: a 64-bit stream from any seed, 0 included. */
static uint64_t lstm_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static double lstm_rand_sym(uint64_t *s)
{
	return (double)(lstm_rand(s) >> 11) * 0x1.0p-52 - 1.0;
}

static double lstm_sigmoid(double a)
{
	return 1 / (1 + exp(-a));
}

/* Where each block of the parameters starts. */
struct lstm_layout {
	size_t wx, wh, b, v, c;
};

static struct lstm_layout lstm_layout(const struct lstm *net)
{
	size_t g = 4 * (size_t)net->hidden;
	struct lstm_layout l;

	l.wx = 0;
	l.wh = l.wx + g * net->in;
	l.b = l.wh + g * net->hidden;
	l.v = l.b + g;
	l.c = l.v + net->hidden;
	return l;
}

int lstm_init(struct lstm *net, unsigned in, unsigned hidden, unsigned window,
	      uint64_t seed)
{
	struct lstm_layout l;
	double k;
	size_t i;

	memset(net, 0, sizeof(*net));
	if (in < 1 || in > LSTM_IN_MAX || hidden < 1 ||
	    hidden > LSTM_HIDDEN_MAX || window < 1 || window > LSTM_WINDOW_MAX)
		return -EINVAL;
	net->in = in;
	net->hidden = hidden;
	net->window = window;
	l = lstm_layout(net);
	net->nparam = l.c + 1;
	net->w = malloc(net->nparam * sizeof(*net->w));
	if (!net->w)
		return -ENOMEM;
	/* Uniform in +-1/sqrt(hidden), the usual scale for a gate's fan-in. */
	k = 1 / sqrt((double)hidden);
	for (i = 0; i < net->nparam; i++)
		net->w[i] = k * lstm_rand_sym(&seed);
	for (i = 0; i < hidden; i++)
		net->w[l.b + hidden + i] += LSTM_FORGET_BIAS;
	return 0;
}

void lstm_free(struct lstm *net)
{
	free(net->w);
	free(net->hist);
	net->w = net->hist = NULL;
}

/*
 * Scratch of one window's forward pass, kept for the backward one: per
 * step the gates after their nonlinearity (i f g o, hidden each), the
 * cell, tanh of the cell, the output and the prediction; and the
 * backward pass's running terms.
 */
struct lstm_ws {
	unsigned len;
	double *gate, *cell, *tcell, *out, *pred;
	double *dh, *dc, *dhn, *dcn, *da;
	double *mem;
};

static int lstm_ws_init(struct lstm_ws *ws, unsigned hidden, unsigned len)
{
	size_t h = hidden, n = (size_t)len * (7 * h + 1) + 8 * h;

	ws->mem = malloc(n * sizeof(*ws->mem));
	if (!ws->mem)
		return -ENOMEM;
	ws->len = len;
	ws->gate = ws->mem;
	ws->cell = ws->gate + (size_t)len * 4 * h;
	ws->tcell = ws->cell + (size_t)len * h;
	ws->out = ws->tcell + (size_t)len * h;
	ws->pred = ws->out + (size_t)len * h;
	ws->dh = ws->pred + len;
	ws->dc = ws->dh + h;
	ws->dhn = ws->dc + h;
	ws->dcn = ws->dhn + h;
	ws->da = ws->dcn + h;
	return 0;
}

static void lstm_ws_free(struct lstm_ws *ws)
{
	free(ws->mem);
	ws->mem = NULL;
}

/*
 * One step: the gates, cell and output from input x and the previous
 * output and cell (hp, cp; NULL: zero). Returns the prediction: x[0]
 * plus the linear output.
 */
static double lstm_step(const struct lstm *net, const struct lstm_layout *l,
			const double *x, const double *hp, const double *cp,
			double *gate, double *cell, double *tcell, double *out)
{
	const unsigned hn = net->hidden, g = 4 * hn, in = net->in;
	const double *wx = net->w + l->wx, *wh = net->w + l->wh,
		     *b = net->w + l->b, *v = net->w + l->v;
	double a, p;
	unsigned r, j;

	for (r = 0; r < g; r++) {
		a = b[r];
		for (j = 0; j < in; j++)
			a += wx[(size_t)r * in + j] * x[j];
		if (hp)
			for (j = 0; j < hn; j++)
				a += wh[(size_t)r * hn + j] * hp[j];
		gate[r] = r >= 2 * hn && r < 3 * hn ? tanh(a) : lstm_sigmoid(a);
	}
	p = x[0] + net->w[l->c];
	for (j = 0; j < hn; j++) {
		cell[j] = gate[j] * gate[2 * hn + j];
		if (cp)
			cell[j] += gate[hn + j] * cp[j];
		tcell[j] = tanh(cell[j]);
		out[j] = gate[3 * hn + j] * tcell[j];
		p += v[j] * out[j];
	}
	return p;
}

/* The forward pass over len steps into ws; the loss of steps warm... */
static double lstm_forward(const struct lstm *net, const struct lstm_layout *l,
			   const double *x, const double *target, unsigned len,
			   unsigned warm, struct lstm_ws *ws)
{
	const size_t hn = net->hidden;
	double loss = 0, e;
	unsigned t;

	for (t = 0; t < len; t++) {
		ws->pred[t] =
			lstm_step(net, l, x + (size_t)t * net->in,
				  t ? ws->out + (t - 1) * hn : NULL,
				  t ? ws->cell + (t - 1) * hn : NULL,
				  ws->gate + t * 4 * hn, ws->cell + t * hn,
				  ws->tcell + t * hn, ws->out + t * hn);
		if (t >= warm) {
			e = ws->pred[t] - target[t];
			loss += e * e;
		}
	}
	return loss / (double)(len - warm);
}

/* Backpropagation through time of lstm_forward's loss, added to grad. */
static void lstm_backward(const struct lstm *net, const struct lstm_layout *l,
			  const double *x, const double *target, unsigned len,
			  unsigned warm, struct lstm_ws *ws, double *grad)
{
	const unsigned hn = net->hidden, g = 4 * hn, in = net->in;
	const double *wh = net->w + l->wh, *v = net->w + l->v;
	double *gwx = grad + l->wx, *gwh = grad + l->wh, *gb = grad + l->b,
	       *gv = grad + l->v, *gc = grad + l->c;
	double dp, gi, gf, gg, go, cp, *gate, *hp, s;
	unsigned t, r, j;

	memset(ws->dhn, 0, hn * sizeof(double));
	memset(ws->dcn, 0, hn * sizeof(double));
	for (t = len; t-- > 0;) {
		gate = ws->gate + (size_t)t * g;
		hp = t ? ws->out + (size_t)(t - 1) * hn : NULL;
		dp = t >= warm ? 2 * (ws->pred[t] - target[t]) /
					 (double)(len - warm)
			       : 0;
		*gc += dp;
		for (j = 0; j < hn; j++) {
			gv[j] += dp * ws->out[(size_t)t * hn + j];
			ws->dh[j] = dp * v[j] + ws->dhn[j];
		}
		for (j = 0; j < hn; j++) {
			double tc = ws->tcell[(size_t)t * hn + j];

			gi = gate[j];
			gf = gate[hn + j];
			gg = gate[2 * hn + j];
			go = gate[3 * hn + j];
			cp = t ? ws->cell[(size_t)(t - 1) * hn + j] : 0;
			ws->dc[j] = ws->dh[j] * go * (1 - tc * tc) + ws->dcn[j];
			ws->da[j] = ws->dc[j] * gg * gi * (1 - gi);
			ws->da[hn + j] = ws->dc[j] * cp * gf * (1 - gf);
			ws->da[2 * hn + j] = ws->dc[j] * gi * (1 - gg * gg);
			ws->da[3 * hn + j] = ws->dh[j] * tc * go * (1 - go);
			ws->dcn[j] = ws->dc[j] * gf;
		}
		for (r = 0; r < g; r++) {
			const double d = ws->da[r];

			gb[r] += d;
			for (j = 0; j < in; j++)
				gwx[(size_t)r * in + j] +=
					d * x[(size_t)t * in + j];
			if (hp)
				for (j = 0; j < hn; j++)
					gwh[(size_t)r * hn + j] += d * hp[j];
		}
		/* What the previous step's output gets through Wh. */
		for (j = 0; j < hn; j++) {
			s = 0;
			for (r = 0; r < g; r++)
				s += wh[(size_t)r * hn + j] * ws->da[r];
			ws->dhn[j] = s;
		}
	}
}

double lstm_loss(const struct lstm *net, const double *x, const double *target,
		 unsigned len, unsigned warm, double *grad)
{
	struct lstm_layout l = lstm_layout(net);
	struct lstm_ws ws;
	double loss;

	if (len < 1 || len > LSTM_WINDOW_MAX || warm >= len ||
	    lstm_ws_init(&ws, net->hidden, len))
		return NAN;
	loss = lstm_forward(net, &l, x, target, len, warm, &ws);
	if (grad)
		lstm_backward(net, &l, x, target, len, warm, &ws, grad);
	lstm_ws_free(&ws);
	return loss;
}

/* Held-out points for a series of n: a fraction, at least a few, at
 * most an epoch's windows (validating costs no more than training). */
static size_t lstm_val_points(size_t n, const struct lstm_cfg *cfg)
{
	size_t v = (size_t)ceil(cfg->holdout * (double)n);

	if (v > cfg->max_windows)
		v = cfg->max_windows;
	return v < LSTM_VAL_MIN ? LSTM_VAL_MIN : v;
}

/* Training windows of a series of n whose inputs start at t0: their
 * starts s = t0..t0 + count - 1 (0: none). */
static size_t lstm_train_windows(size_t n, size_t t0,
				 const struct lstm_cfg *cfg)
{
	size_t v = lstm_val_points(n, cfg);

	/* The targets of window s, z[s + 1 .. s + window], precede the
	 * held-out tail z[n - v .. n - 1]. */
	if (n < v + cfg->window + 1 + t0)
		return 0;
	return n - v - cfg->window - t0;
}

size_t lstm_min_points(const struct lstm_cfg *cfg)
{
	size_t n = cfg->window + LSTM_TRAIN_MIN;

	while (lstm_train_windows(n, 0, cfg) < LSTM_TRAIN_MIN)
		n++;
	return n;
}

/* The mean squared one-step error on the held-out points u = n - v..n-1,
 * each from the window of the steps just before it. */
static double lstm_val_error(const struct lstm *net,
			     const struct lstm_layout *l, const double *x,
			     const double *z, size_t n, size_t v,
			     struct lstm_ws *ws)
{
	const unsigned w = net->window;
	double s = 0;
	size_t u;

	for (u = n - v; u < n; u++)
		s += lstm_forward(net, l, x + (u - w) * net->in, z + u - w + 1,
				  w, w - 1, ws);
	return s / (double)v;
}

/* The gradient's norm capped at clip, then one Adam step. */
static void lstm_adam(struct lstm *net, double *grad, double *m1, double *m2,
		      unsigned step, const struct lstm_cfg *cfg)
{
	double norm = 0, scale = 1, c1, c2, mh, vh;
	size_t i;

	for (i = 0; i < net->nparam; i++)
		norm += grad[i] * grad[i];
	norm = sqrt(norm);
	if (norm > cfg->clip)
		scale = cfg->clip / norm;
	c1 = 1 - pow(LSTM_ADAM_B1, step);
	c2 = 1 - pow(LSTM_ADAM_B2, step);
	for (i = 0; i < net->nparam; i++) {
		double gr = grad[i] * scale;

		m1[i] = LSTM_ADAM_B1 * m1[i] + (1 - LSTM_ADAM_B1) * gr;
		m2[i] = LSTM_ADAM_B2 * m2[i] + (1 - LSTM_ADAM_B2) * gr * gr;
		mh = m1[i] / c1;
		vh = m2[i] / c2;
		net->w[i] -= cfg->lr * mh / (sqrt(vh) + LSTM_ADAM_EPS);
	}
}

int lstm_fit(struct lstm *net, const double *z, size_t n, unsigned season,
	     const struct lstm_cfg *cfg)
{
	struct lstm_cfg def;
	struct lstm_layout l;
	struct lstm_ws ws = {0};
	size_t nt, t0 = 0, v, i, j, nb, *order = NULL;
	double *x = NULL, *grad = NULL, *m1 = NULL, *m2 = NULL, *best = NULL;
	double err, best_err;
	unsigned in = 1, epoch, stale = 0, steps = 0, b, w;
	uint64_t rng;
	int rc;

	memset(net, 0, sizeof(*net));
	if (!cfg) {
		lstm_cfg_default(&def);
		cfg = &def;
	}
	if (!lstm_cfg_valid(cfg) || !z)
		return -EINVAL;
	w = cfg->window;
	nt = lstm_train_windows(n, 0, cfg);
	if (nt < LSTM_TRAIN_MIN)
		return -EINVAL;
	/* The season's lag as a second input: when it leaves at least half
	 * the windows (it costs the first season of the series). */
	if (season >= 2 && lstm_train_windows(n, season - 1, cfg) >= nt / 2 &&
	    lstm_train_windows(n, season - 1, cfg) >= LSTM_TRAIN_MIN) {
		in = 2;
		t0 = season - 1;
		nt = lstm_train_windows(n, t0, cfg);
	}
	v = lstm_val_points(n, cfg);
	rng = cfg->seed;
	rc = lstm_init(net, in, cfg->hidden, w, lstm_rand(&rng));
	if (rc)
		return rc;
	net->season = in == 2 ? season : 0;
	l = lstm_layout(net);
	rc = -ENOMEM;
	x = malloc(n * in * sizeof(*x));
	grad = malloc(net->nparam * sizeof(*grad));
	m1 = calloc(net->nparam, sizeof(*m1));
	m2 = calloc(net->nparam, sizeof(*m2));
	best = malloc(net->nparam * sizeof(*best));
	order = malloc(nt * sizeof(*order));
	net->nhist = w + (in == 2 ? season - 1 : 0);
	net->hist = malloc(net->nhist * sizeof(*net->hist));
	if (!x || !grad || !m1 || !m2 || !best || !order || !net->hist ||
	    lstm_ws_init(&ws, net->hidden, w))
		goto out;
	/* Step t's inputs: z[t] and z[t + 1 - m]; defined from t0 on. */
	for (i = t0; i < n; i++) {
		x[i * in] = z[i];
		if (in == 2)
			x[i * in + 1] = z[i + 1 - season];
	}
	for (i = 0; i < nt; i++)
		order[i] = t0 + i;
	memcpy(best, net->w, net->nparam * sizeof(*best));
	best_err = lstm_val_error(net, &l, x, z, n, v, &ws);
	if (!isfinite(best_err))
		best_err = HUGE_VAL;
	for (epoch = 1; epoch <= cfg->max_epochs; epoch++) {
		/* This epoch's windows: a random max_windows of them (all,
		 * shuffled, when there are fewer). */
		nb = nt < cfg->max_windows ? nt : cfg->max_windows;
		for (i = 0; i < nb; i++) {
			size_t k = i + lstm_rand(&rng) % (nt - i), s = order[k];

			order[k] = order[i];
			order[i] = s;
		}
		for (i = 0; i < nb; i += b) {
			b = nb - i < cfg->batch ? (unsigned)(nb - i)
						: cfg->batch;
			memset(grad, 0, net->nparam * sizeof(*grad));
			for (j = i; j < i + b; j++) {
				const size_t s = order[j];

				lstm_forward(net, &l, x + s * in, z + s + 1, w,
					     w / 4, &ws);
				lstm_backward(net, &l, x + s * in, z + s + 1, w,
					      w / 4, &ws, grad);
			}
			for (j = 0; j < net->nparam; j++)
				grad[j] /= (double)b;
			lstm_adam(net, grad, m1, m2, ++steps, cfg);
		}
		net->epochs = epoch;
		err = lstm_val_error(net, &l, x, z, n, v, &ws);
		if (isfinite(err) && err < best_err) {
			best_err = err;
			net->best_at = epoch;
			memcpy(best, net->w, net->nparam * sizeof(*best));
			stale = 0;
		} else if (!isfinite(err) || ++stale >= cfg->patience) {
			break;
		}
	}
	memcpy(net->w, best, net->nparam * sizeof(*best));
	net->sigma = sqrt(best_err);
	memcpy(net->hist, z + n - net->nhist, net->nhist * sizeof(*net->hist));
	rc = 0;
out:
	lstm_ws_free(&ws);
	free(x);
	free(grad);
	free(m1);
	free(m2);
	free(best);
	free(order);
	if (rc)
		lstm_free(net);
	return rc;
}

/* Value r of the series relative to its end: r < 0 the history, r >= 0
 * the forecasts made so far. */
static double lstm_value(const struct lstm *net, const double *out, long r)
{
	return r < 0 ? net->hist[(long)net->nhist + r] : out[r];
}

void lstm_forecast(const struct lstm *net, unsigned h, double *out)
{
	double gate[4 * LSTM_HIDDEN_MAX], cell[2][LSTM_HIDDEN_MAX],
		tcell[LSTM_HIDDEN_MAX], hout[2][LSTM_HIDDEN_MAX],
		xin[LSTM_IN_MAX];
	struct lstm_layout l = lstm_layout(net);
	const long w = net->window;
	unsigned k;
	long j, r;
	int cur;

	for (k = 0; k < h; k++) {
		double p = 0;

		/* The window of the w values before step k, as in training. */
		for (j = 0; j < w; j++) {
			r = (long)k - w + j;
			cur = (int)(j & 1);
			xin[0] = lstm_value(net, out, r);
			if (net->in == 2)
				xin[1] = lstm_value(net, out,
						    r + 1 - (long)net->season);
			p = lstm_step(net, &l, xin, j ? hout[!cur] : NULL,
				      j ? cell[!cur] : NULL, gate, cell[cur],
				      tcell, hout[cur]);
		}
		out[k] = p;
	}
}
