// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-spe-eval: the state prediction engine's flow model (predict/spe.h)
 * against simple baselines, on flows replayed from real flow-size
 * distributions (one CDF file per service, data/workloads/flow_size_cdfs).
 *
 *   steer-spe-eval [--flows N] [--rate R] [--seed S] [--horizon MS]
 *                  [--threshold P] [--warmup N] [--no-calibration] CDF...
 *
 * The flows (docs/forecasting.md, "Flow lifetimes"): Poisson arrivals
 * at R a second (default 200), each of a service drawn evenly, its size
 * from that service's CDF, its path's RTT log-uniform in 10..100 ms and
 * its bottleneck rate log-uniform in 1..100 Mbit/s (clients across a
 * WAN); it lives a handshake, its slow-start rounds (from 10 segments of
 * 1448 bytes) and its transfer at the rate, and carries its bytes evenly
 * after the handshake. The engine learns each flow when it ends, as a
 * cell would from its flow table.
 *
 * At ages 0, 10, 100 and 1000 ms of every flow still alive, each model
 * says how likely the flow is to live horizon (1000) ms longer:
 *   spe       the engine: per service, age and bytes so far
 *   age       the engine's histogram pooled and without bytes (a
 *             Kaplan-Meier survival by age only)
 *   fixed     1: every flow long (what a fixed rf assumes)
 * Per model and age: precision and recall of "long" at the threshold
 * (0.5), the Brier score, and (spe, age) calibration in tenths. Then the
 * mirroring policies: fixed (mirror every flow at its start), promote
 * after 100 or 1000 ms of life, and each model's (mirror at the first of
 * those ages where it says long): mirrored flows per 100, and the share
 * of flow-time, and of flows of 10 s or more, spent without a mirror
 * (what a primary's death at a random moment finds unmirrored).
 * Figures after the first --warmup flows (default a tenth). Lines:
 *   quality MODEL AGE_MS precision P recall R brier B n N
 *   calib MODEL BIN predicted P observed O n N
 *   policy NAME mirrored_per_100 M exposed_time E exposed_long_time L
 * Exit 0; 1 when a CDF cannot be read; 2 for bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predict/spe.h"
#include "tools/tool_net.h"
#include "util/size_cdf.h"

#define EV_SVC_MAX 16
#define EV_AGES 4
#define EV_MODELS 3
#define EV_LONG_MS 10000.0 /* "a flow of 10 s or more" */

static const uint32_t ev_ages[EV_AGES] = {0, 10, 100, 1000};
static const char *const ev_model_names[EV_MODELS] = {"spe", "age", "fixed"};

struct ev_flow {
	double start, life, rtt; /* ms */
	double bytes;
	uint16_t svc;
	int8_t mirrored_at[EV_MODELS]; /* an age index, or -1: never */
	uint16_t token[2][EV_AGES];    /* spe's and age's answers */
};

/* A moment of the replay: a flow ends, or reaches a decision age. */
struct ev_event {
	double t;
	uint32_t flow;
	int8_t age; /* index into ev_ages; -1: the flow ends */
};

struct ev_quality {
	uint64_t tp, fp, fn, tn;
	double brier;
	double cal_p[10], cal_o[10];
	uint64_t cal_n[10];
};

struct ev {
	struct size_cdf cdf[EV_SVC_MAX];
	uint32_t n_svc, flows, warmup;
	double rate, threshold;
	uint32_t horizon_ms;
	int calibrate;
	uint64_t rng;
	struct ev_flow *f;
	struct ev_event *e;
	size_t n_e;
	struct spe *spe, *age;
	struct ev_quality q[EV_MODELS][EV_AGES];
};

static double ev_logu(struct ev *v, double lo, double hi)
{
	return lo * pow(hi / lo, rng_uniform(&v->rng));
}

/* One flow: its service, size, path and so its lifetime. */
static void ev_flow_make(struct ev *v, struct ev_flow *f, double start)
{
	double rounds, mbps;

	f->start = start;
	f->svc = (uint16_t)(rng_uniform(&v->rng) * v->n_svc);
	if (f->svc >= v->n_svc)
		f->svc = (uint16_t)(v->n_svc - 1);
	f->bytes = size_cdf_draw(&v->cdf[f->svc], rng_uniform(&v->rng));
	if (f->bytes < 1)
		f->bytes = 1;
	f->rtt = ev_logu(v, 10, 100);
	mbps = ev_logu(v, 1, 100);
	rounds = ceil(log2(1 + f->bytes / (10 * 1448.0)));
	f->life = f->rtt * (1 + rounds) + f->bytes * 8 / (mbps * 1000);
	memset(f->mirrored_at, -1, sizeof(f->mirrored_at));
	memset(f->token, 0xff, sizeof(f->token));
}

static double ev_bytes_at(const struct ev_flow *f, double age)
{
	if (age <= f->rtt)
		return 0;
	return f->bytes * (age - f->rtt) / (f->life - f->rtt);
}

static int ev_event_cmp(const void *a, const void *b)
{
	const struct ev_event *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	/* At one instant a flow ending is learnt before others are asked
	 * about; then by flow, for a stable order. */
	if (x->age != y->age)
		return x->age < y->age ? -1 : 1;
	return x->flow < y->flow ? -1 : x->flow > y->flow;
}

static int ev_build(struct ev *v)
{
	double t = 0;
	uint32_t i, a;

	v->f = calloc(v->flows, sizeof(*v->f));
	v->e = calloc((size_t)v->flows * (1 + EV_AGES), sizeof(*v->e));
	if (!v->f || !v->e)
		return -ENOMEM;
	for (i = 0; i < v->flows; i++) {
		t += -log(rng_uniform(&v->rng)) / v->rate * 1000;
		ev_flow_make(v, &v->f[i], t);
		v->e[v->n_e++] = (struct ev_event){
			.t = t + v->f[i].life, .flow = i, .age = -1};
		for (a = 0; a < EV_AGES; a++)
			if (ev_ages[a] < v->f[i].life)
				v->e[v->n_e++] =
					(struct ev_event){.t = t + ev_ages[a],
							  .flow = i,
							  .age = (int8_t)a};
	}
	qsort(v->e, v->n_e, sizeof(*v->e), ev_event_cmp);
	return 0;
}

static void ev_score(struct ev_quality *q, double p, int truth, double thr,
		     int calib)
{
	int bin = p >= 1 ? 9 : (int)(p * 10);

	if (p >= thr)
		truth ? q->tp++ : q->fp++;
	else
		truth ? q->fn++ : q->tn++;
	q->brier += (p - truth) * (p - truth);
	if (!calib)
		return;
	q->cal_p[bin] += p;
	q->cal_o[bin] += truth;
	q->cal_n[bin]++;
}

/* Flow f at age index a: each model's answer, scored and acted on. */
static void ev_decide(struct ev *v, uint32_t i, int a)
{
	struct ev_flow *f = &v->f[i];
	struct spe_flow sf = {.service = f->svc, .age_ms = ev_ages[a]};
	struct spe_pred p;
	double prob[EV_MODELS];
	int truth = f->life >= ev_ages[a] + (double)v->horizon_ms, m;

	sf.bytes = (uint64_t)ev_bytes_at(f, ev_ages[a]);
	spe_predict(v->spe, &sf, &p);
	prob[0] = p.p_long;
	f->token[0][a] = p.token;
	sf.service = 0;
	sf.bytes = 0;
	spe_predict(v->age, &sf, &p);
	prob[1] = p.p_long;
	f->token[1][a] = p.token;
	prob[2] = 1;
	for (m = 0; m < EV_MODELS; m++) {
		if (f->mirrored_at[m] < 0 && prob[m] >= v->threshold)
			f->mirrored_at[m] = (int8_t)a;
		if (i >= v->warmup)
			ev_score(&v->q[m][a], prob[m], truth, v->threshold,
				 m < 2);
	}
}

/* A flow ended: what each answer about it should have been. */
static void ev_outcomes(struct ev *v, const struct ev_flow *f)
{
	int a;

	if (!v->calibrate)
		return;
	for (a = 0; a < EV_AGES; a++) {
		int is_long = f->life >= ev_ages[a] + (double)v->horizon_ms;

		spe_outcome(v->spe, f->token[0][a], is_long);
		spe_outcome(v->age, f->token[1][a], is_long);
	}
}

static int ev_run(struct ev *v)
{
	struct ev_flow *f;
	size_t k;

	for (k = 0; k < v->n_e; k++) {
		f = &v->f[v->e[k].flow];
		if (v->e[k].age >= 0) {
			ev_decide(v, v->e[k].flow, v->e[k].age);
			continue;
		}
		if (spe_learn(v->spe, f->svc, (uint32_t)f->life,
			      (uint64_t)f->bytes) ||
		    spe_learn(v->age, 0, (uint32_t)f->life, 0))
			return -ENOMEM;
		ev_outcomes(v, f);
	}
	return 0;
}

static void ev_print_quality(const struct ev *v)
{
	const struct ev_quality *q;
	uint64_t n;
	int m, a, b;

	for (m = 0; m < EV_MODELS; m++)
		for (a = 0; a < EV_AGES; a++) {
			q = &v->q[m][a];
			n = q->tp + q->fp + q->fn + q->tn;
			printf("quality %s %u precision %.3f recall %.3f brier "
			       "%.4f n %llu\n",
			       ev_model_names[m], ev_ages[a],
			       q->tp + q->fp ? (double)q->tp / (q->tp + q->fp)
					     : 0,
			       q->tp + q->fn ? (double)q->tp / (q->tp + q->fn)
					     : 0,
			       n ? q->brier / n : 0, (unsigned long long)n);
		}
	for (m = 0; m < 2; m++)
		for (b = 0; b < 10; b++) {
			double pp = 0, oo = 0;
			uint64_t nn = 0;

			for (a = 0; a < EV_AGES; a++) {
				pp += v->q[m][a].cal_p[b];
				oo += v->q[m][a].cal_o[b];
				nn += v->q[m][a].cal_n[b];
			}
			if (nn)
				printf("calib %s %d predicted %.3f observed "
				       "%.3f n %llu\n",
				       ev_model_names[m], b, pp / nn, oo / nn,
				       (unsigned long long)nn);
		}
}

/* A policy: flow i mirrored at age index at(i) (-1: never). */
static void ev_policy(const struct ev *v, const char *name, int model,
		      int promote_at)
{
	double t = 0, exposed = 0, t_long = 0, exposed_long = 0, un;
	uint64_t n = 0, mirrored = 0;
	uint32_t i;
	int at;

	for (i = v->warmup; i < v->flows; i++) {
		const struct ev_flow *f = &v->f[i];

		at = model >= 0 ? f->mirrored_at[model] : promote_at;
		un = at < 0 ? f->life : fmin(f->life, ev_ages[at]);
		mirrored += at >= 0 && ev_ages[at] < f->life;
		n++;
		t += f->life;
		exposed += un;
		if (f->life >= EV_LONG_MS) {
			t_long += f->life;
			exposed_long += un;
		}
	}
	printf("policy %s mirrored_per_100 %.1f exposed_time %.4f "
	       "exposed_long_time %.5f\n",
	       name, n ? 100.0 * mirrored / n : 0, t ? exposed / t : 0,
	       t_long ? exposed_long / t_long : 0);
}

static int ev_usage(void)
{
	fprintf(stderr,
		"usage: steer-spe-eval [--flows N] [--rate R] [--seed S] "
		"[--horizon MS]\n"
		"                      [--threshold P] [--warmup N] "
		"[--no-calibration] CDF...\n");
	return 2;
}

static int ev_args(struct ev *v, int argc, char **argv)
{
	static const struct option opts[] = {
		{"flows", 1, 0, 'n'},	       {"rate", 1, 0, 'r'},
		{"seed", 1, 0, 's'},	       {"horizon", 1, 0, 'h'},
		{"threshold", 1, 0, 't'},      {"warmup", 1, 0, 'w'},
		{"no-calibration", 0, 0, 'c'}, {0, 0, 0, 0}};
	uint32_t u, seed = 1;
	char *end;
	int o;

	v->warmup = UINT32_MAX;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			if (tool_parse_u32(optarg, 10, 20000000, &v->flows))
				return -1;
			break;
		case 's':
			if (tool_parse_u32(optarg, 0, UINT32_MAX, &seed))
				return -1;
			break;
		case 'h':
			if (tool_parse_u32(optarg, 1, 3600000, &v->horizon_ms))
				return -1;
			break;
		case 'c':
			v->calibrate = 0;
			break;
		case 'w':
			if (tool_parse_u32(optarg, 0, UINT32_MAX, &u))
				return -1;
			v->warmup = u;
			break;
		case 'r':
		case 't':
			errno = 0;
			(o == 'r' ? &v->rate : &v->threshold)[0] =
				strtod(optarg, &end);
			if (errno || *end || end == optarg)
				return -1;
			break;
		default:
			return -1;
		}
	}
	v->rng = seed;
	if (!(v->rate > 0 && v->rate <= 1e6) ||
	    !(v->threshold > 0 && v->threshold <= 1) || optind >= argc ||
	    argc - optind > EV_SVC_MAX)
		return -1;
	if (v->warmup == UINT32_MAX)
		v->warmup = v->flows / 10;
	return 0;
}

static int ev_read_cdfs(struct ev *v, int argc, char **argv)
{
	size_t line;
	int i, ret;

	for (i = optind; i < argc; i++) {
		ret = size_cdf_read(argv[i], &v->cdf[v->n_svc], &line);
		if (ret) {
			fprintf(stderr, "steer-spe-eval: %s%s%.0zu: %s\n",
				argv[i], line ? ", line " : "", line,
				ret == -EINVAL ? "not a size CDF"
					       : strerror(-ret));
			return -1;
		}
		v->n_svc++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct ev v = {
		.flows = 200000, .rate = 200, .threshold = 0.5, .calibrate = 1};
	struct spe_cfg c;
	uint32_t i;
	int rc = 0;

	spe_cfg_default(&c);
	v.horizon_ms = c.horizon_ms;
	if (ev_args(&v, argc, argv))
		return ev_usage();
	if (ev_read_cdfs(&v, argc, argv))
		return 1;
	c.horizon_ms = v.horizon_ms;
	v.spe = spe_new(&c);
	v.age = spe_new(&c);
	if (!v.spe || !v.age || ev_build(&v) || ev_run(&v)) {
		fprintf(stderr, "steer-spe-eval: out of memory\n");
		rc = 1;
		goto out;
	}
	ev_print_quality(&v);
	ev_policy(&v, "fixed", 2, 0);
	ev_policy(&v, "promote_100ms", -1, 2);
	ev_policy(&v, "promote_1000ms", -1, 3);
	ev_policy(&v, "age_model", 1, 0);
	ev_policy(&v, "spe", 0, 0);
out:
	for (i = 0; i < v.n_svc; i++)
		size_cdf_free(&v.cdf[i]);
	spe_free(v.spe);
	spe_free(v.age);
	free(v.f);
	free(v.e);
	return rc;
}
