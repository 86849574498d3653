// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state prediction engine's flow model (see spe.h): per-service
 * joint histograms of finished flows' lifetimes and bytes, and the
 * conditional survival a live flow's age and bytes select from them.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "predict/spe.h"

struct spe_hist {
	double c[SPE_LIFE_BUCKETS][SPE_BYTE_BUCKETS];
	double total;
	uint64_t learnt;
};

/* Calibration: outcomes per age bucket of the question and raw tenth. */
struct spe_cal {
	double n[SPE_LIFE_BUCKETS][SPE_CAL_BINS];
	double pos[SPE_LIFE_BUCKETS][SPE_CAL_BINS];
};

struct spe {
	struct spe_cfg cfg;
	struct spe_cal cal;
	struct spe_hist *svc[SPE_SERVICES_MAX]; /* allocated at first use */
	struct spe_hist pooled;
	uint64_t learnt;
};

void spe_cfg_default(struct spe_cfg *c)
{
	c->horizon_ms = 1000;
	c->min_flows = 200;
	c->min_support = 20;
	c->half_life = 50000;
	c->self_calibrate = 0;
}

const char *spe_source_name(enum spe_source s)
{
	switch (s) {
	case SPE_SRC_SERVICE:
		return "service";
	case SPE_SRC_POOLED:
		return "pooled";
	case SPE_SRC_PRIOR:
		return "prior";
	}
	return "?";
}

struct spe *spe_new(const struct spe_cfg *cfg)
{
	struct spe *s;

	if (!cfg || !cfg->horizon_ms || !(cfg->min_support >= 0)) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cfg = *cfg;
	return s;
}

void spe_free(struct spe *s)
{
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < SPE_SERVICES_MAX; i++)
		free(s->svc[i]);
	free(s);
}

/* The log2 bucket of x among n: [0, 1) is 0, [2^(i-1), 2^i) is i, the
 * last open. */
static uint32_t bucket_of(double x, uint32_t n)
{
	uint32_t i;

	if (x < 1)
		return 0;
	i = 1 + (uint32_t)floor(log2(x));
	return i < n ? i : n - 1;
}

static double bucket_lo(uint32_t i)
{
	return i ? ldexp(1, (int)i - 1) : 0;
}

static double bucket_hi(uint32_t i)
{
	return ldexp(1, (int)i);
}

/* The share of bucket i's mass at or above x (even in log2 inside a
 * bucket, even in [0, 1)), and *mean the mean of that part. */
static double bucket_above(uint32_t i, double x, double *mean)
{
	double lo = bucket_lo(i), hi = bucket_hi(i), u;

	u = x > lo ? x : lo;
	if (u >= hi) {
		*mean = hi;
		return 0;
	}
	if (!i) {
		*mean = (u + hi) / 2;
		return hi - u;
	}
	*mean = u > 0 ? (hi - u) / log(hi / u) : hi;
	return 1 - (log2(u) - log2(lo));
}

static void hist_add(struct spe_hist *h, uint32_t li, uint32_t bi)
{
	h->c[li][bi] += 1;
	h->total += 1;
	h->learnt++;
}

static void hist_halve(struct spe_hist *h)
{
	uint32_t i, j;

	for (i = 0; i < SPE_LIFE_BUCKETS; i++)
		for (j = 0; j < SPE_BYTE_BUCKETS; j++)
			h->c[i][j] *= 0.5;
	h->total *= 0.5;
}

static void spe_decay(struct spe *s)
{
	uint32_t i, j;

	for (i = 0; i < SPE_LIFE_BUCKETS; i++)
		for (j = 0; j < SPE_CAL_BINS; j++) {
			s->cal.n[i][j] *= 0.5;
			s->cal.pos[i][j] *= 0.5;
		}

	hist_halve(&s->pooled);
	for (i = 0; i < SPE_SERVICES_MAX; i++)
		if (s->svc[i])
			hist_halve(s->svc[i]);
}

static void spe_self_calibrate(struct spe *s, uint16_t service,
			       uint32_t lifetime_ms);

int spe_learn(struct spe *s, uint16_t service, uint32_t lifetime_ms,
	      uint64_t bytes)
{
	uint32_t li = bucket_of(lifetime_ms, SPE_LIFE_BUCKETS),
		 bi = bucket_of((double)bytes, SPE_BYTE_BUCKETS);

	if (service >= SPE_SERVICES_MAX)
		return -EINVAL;
	if (!s->svc[service]) {
		s->svc[service] = calloc(1, sizeof(*s->svc[service]));
		if (!s->svc[service])
			return -ENOMEM;
	}
	if (s->cfg.self_calibrate)
		spe_self_calibrate(s, service, lifetime_ms);
	hist_add(s->svc[service], li, bi);
	hist_add(&s->pooled, li, bi);
	s->learnt++;
	if (s->cfg.half_life && s->learnt % s->cfg.half_life == 0)
		spe_decay(s);
	return 0;
}

/* The share of h's flows that lived at least `age` (*rest: their mean
 * lifetime beyond it) and carried at least `bytes` (*rest_b: their mean
 * bytes beyond): *like, their weight. */
static void hist_above(const struct spe_hist *h, double age, double bytes,
		       double *like, double *rest, double *rest_b)
{
	double fa[SPE_LIFE_BUCKETS], ma[SPE_LIFE_BUCKETS];
	double fb[SPE_BYTE_BUCKETS], mb[SPE_BYTE_BUCKETS];
	uint32_t i, j;

	*like = *rest = *rest_b = 0;
	for (i = 0; i < SPE_LIFE_BUCKETS; i++)
		fa[i] = bucket_above(i, age, &ma[i]);
	for (j = 0; j < SPE_BYTE_BUCKETS; j++)
		fb[j] = bucket_above(j, bytes, &mb[j]);
	for (i = 0; i < SPE_LIFE_BUCKETS; i++) {
		double row = 0, row_b = 0;

		if (!fa[i])
			continue;
		for (j = 0; j < SPE_BYTE_BUCKETS; j++) {
			double w = h->c[i][j] * fb[j];

			row += w;
			row_b += w * (mb[j] - bytes);
		}
		*like += row * fa[i];
		*rest += row * fa[i] * (ma[i] - age);
		*rest_b += row_b * fa[i];
	}
}

/* The answer of h for f, false when h knows too few flows like it.
 * Before f carried a byte (or at age 0) it rests on lifetimes alone:
 * the share of flows that lived age + horizon of those that lived age.
 * After, on sizes and f's rate so far (bytes / age): the share of flows
 * that carried bytes + rate x horizon of those that carried bytes, the
 * rest of its bytes at its rate. */
static bool hist_predict(const struct spe *s, const struct spe_hist *h,
			 const struct spe_flow *f, struct spe_pred *out)
{
	double age = f->age_ms, b = (double)f->bytes, like, rest, rest_b;
	double longer, x, y, rate;

	if (!h || h->learnt < s->cfg.min_flows)
		return false;
	if (!b || !f->age_ms) {
		hist_above(h, age, 0, &like, &rest, &rest_b);
		if (like <= 0 || like < s->cfg.min_support)
			return false;
		hist_above(h, age + s->cfg.horizon_ms, 0, &longer, &x, &y);
		out->remaining_ms = rest / like;
	} else {
		hist_above(h, 0, b, &like, &rest, &rest_b);
		if (like <= 0 || like < s->cfg.min_support)
			return false;
		rate = b / age;
		hist_above(h, 0, b + rate * s->cfg.horizon_ms, &longer, &x, &y);
		out->remaining_ms = rest_b / like / rate;
	}
	out->p_long = longer / like > 1 ? 1 : longer / like;
	out->remaining_bytes = rest_b / like;
	out->support = like;
	return true;
}

/* The raw answer's token, and its calibrated share. */
static void spe_calibrate(const struct spe *s, const struct spe_flow *f,
			  struct spe_pred *out)
{
	uint32_t a = bucket_of(f->age_ms, SPE_LIFE_BUCKETS),
		 b = out->p_raw >= 1 ? SPE_CAL_BINS - 1
				     : (uint32_t)(out->p_raw * SPE_CAL_BINS);
	double n = s->cal.n[a][b];

	out->token = (uint16_t)(a * SPE_CAL_BINS + b);
	out->p_long = n >= SPE_CAL_MIN
			      ? (s->cal.pos[a][b] + out->p_raw) / (n + 1)
			      : out->p_raw;
}

void spe_outcome(struct spe *s, uint16_t token, int is_long)
{
	uint32_t a = token / SPE_CAL_BINS, b = token % SPE_CAL_BINS;

	if (token == SPE_TOKEN_NONE || a >= SPE_LIFE_BUCKETS)
		return;
	s->cal.n[a][b] += 1;
	s->cal.pos[a][b] += is_long ? 1 : 0;
}

void spe_predict(const struct spe *s, const struct spe_flow *f,
		 struct spe_pred *out)
{
	const struct spe_hist *h =
		f->service < SPE_SERVICES_MAX ? s->svc[f->service] : NULL;

	memset(out, 0, sizeof(*out));
	out->source = SPE_SRC_SERVICE;
	if (!hist_predict(s, h, f, out)) {
		out->source = SPE_SRC_POOLED;
		if (!hist_predict(s, &s->pooled, f, out)) {
			memset(out, 0, sizeof(*out));
			out->source = SPE_SRC_PRIOR;
			out->p_long = out->p_raw = 1;
			out->token = SPE_TOKEN_NONE;
			return;
		}
	}
	out->p_raw = out->p_long;
	spe_calibrate(s, f, out);
}

/* What the engine would have answered about a flow of service, asked
 * before its first byte at its start and at 1, 2, 4 ... s while it
 * lived, against what it did: before the flow itself is learnt. */
static void spe_self_calibrate(struct spe *s, uint16_t service,
			       uint32_t lifetime_ms)
{
	struct spe_flow f = {.service = service};
	struct spe_pred p;
	uint64_t age = 0;

	while (age < lifetime_ms) {
		f.age_ms = (uint32_t)age;
		spe_predict(s, &f, &p);
		spe_outcome(s, p.token, lifetime_ms >= age + s->cfg.horizon_ms);
		age = age ? age * 2 : 1000;
	}
}

uint64_t spe_learnt(const struct spe *s)
{
	return s->learnt;
}

double spe_service_weight(const struct spe *s, uint16_t service)
{
	return service < SPE_SERVICES_MAX && s->svc[service]
		       ? s->svc[service]->total
		       : 0;
}
