/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The state prediction engine (SPE), its flow half: for a live flow, how
 * much longer it will live and how many more bytes it will carry, learnt
 * online from the flows that finished before it.
 *
 * The model is a joint histogram, per service, of finished flows'
 * lifetimes and bytes, both in log2 buckets (SPE_LIFE_BUCKETS x
 * SPE_BYTE_BUCKETS counts, 6 KiB a service), with mass spread evenly in
 * log scale inside a bucket. For a live flow of age a:
 *   before its first byte  it is one of the flows that lived at least a:
 *                          p_long is the share of those that lived
 *                          a + horizon_ms, remaining their mean beyond a
 *                          (the conditional survival of the lifetimes, a
 *                          Kaplan-Meier estimate without censoring)
 *   after, b bytes so far  it is one of the flows that carried at least
 *                          b, at its rate so far r = b / a: p_long is the
 *                          share of those that carried b + r x horizon,
 *                          remaining their mean bytes beyond b, at r
 * (the size of a flow says more of its end than its age once it moves
 * data: a bulk transfer ends when its bytes are through).
 *
 * Which model answers: the flow's service's, once it learnt min_flows
 * flows and holds at least min_support like the flow; else the model of
 * every service pooled, under the same rule; else the prior (p_long 1:
 * mirror what nothing is known of). The answer says which and on how
 * many flows it rests. Counts decay: every half_life flows learnt, all
 * weigh half, so the model follows a workload that changes.
 *
 * Calibration: a model's share is a raw score (its ranking is good, its
 * level may not be: flows speed up, pause, share links). The engine
 * keeps, per log2 age bucket of the question and tenth of the raw score,
 * how often flows asked about there turned out long, and answers that
 * share once SPE_CAL_MIN outcomes are in (with the raw score as one more
 * outcome); until then the raw score. The caller keeps the answer's
 * token with the flow and reports the outcome when the flow ends
 * (spe_outcome()), or the engine does it itself from each flow learnt
 * (spe_cfg.self_calibrate): online histogram binning.
 *
 * Deterministic: the same flows learnt in the same order give the same
 * answers. Not thread-safe.
 */
#ifndef STEER_PREDICT_SPE_H
#define STEER_PREDICT_SPE_H

#include <stdint.h>

/* Lifetime buckets, ms: [0, 1), [1, 2), [2, 4) ... the last one open
 * (from 2^(SPE_LIFE_BUCKETS - 2) ms, about 1.2 hours). */
#define SPE_LIFE_BUCKETS 24
/* Byte buckets: [0, 1), [1, 2) ... the last one from 2^30 on. */
#define SPE_BYTE_BUCKETS 32
#define SPE_SERVICES_MAX 256
#define SPE_CAL_BINS 10
#define SPE_CAL_MIN 30 /* outcomes before a bin's share is the answer */
#define SPE_TOKEN_NONE 0xffff

struct spe_cfg {
	uint32_t horizon_ms; /* "long": lives this much longer (> 0) */
	uint32_t min_flows;  /* a model answers after learning this many */
	double min_support;  /* ... and with this many flows like the one
				 asked about (weights, after decay) */
	uint32_t half_life;  /* flows learnt after which old ones weigh
				 half; 0: no decay */
	/* Calibrate from the flows learnt, as if each had been asked about
	 * (without bytes) at its start and at 1, 2, 4 ... s of age: for a
	 * caller that keeps no tokens (a cell). */
	int self_calibrate;
};

void spe_cfg_default(struct spe_cfg *c);

/* Which model answered. */
enum spe_source {
	SPE_SRC_SERVICE = 0, /* the flow's service's */
	SPE_SRC_POOLED,	     /* every service's, pooled */
	SPE_SRC_PRIOR,	     /* none knew enough: p_long 1 */
};

const char *spe_source_name(enum spe_source s);

/* A live flow, as the cell knows it. */
struct spe_flow {
	uint16_t service; /* < SPE_SERVICES_MAX */
	uint32_t age_ms;  /* since its first packet */
	uint64_t bytes;	  /* carried so far */
};

struct spe_pred {
	double p_long;		/* lives at least horizon_ms longer */
	double p_raw;		/* the model's share before calibration */
	uint16_t token;		/* for spe_outcome(); SPE_TOKEN_NONE: prior */
	double remaining_ms;	/* expected lifetime beyond its age */
	double remaining_bytes; /* expected bytes beyond those carried */
	double support;		/* finished flows like it (decayed weights) */
	enum spe_source source;
};

struct spe;

/* NULL with errno EINVAL (a bad configuration) or ENOMEM. */
struct spe *spe_new(const struct spe_cfg *cfg);
void spe_free(struct spe *s);

/* A flow of `service` finished after lifetime_ms, having carried bytes.
 * 0, or -EINVAL (service out of range). */
int spe_learn(struct spe *s, uint16_t service, uint32_t lifetime_ms,
	      uint64_t bytes);

/* What is expected of flow f (a service out of range: the pooled model). */
void spe_predict(const struct spe *s, const struct spe_flow *f,
		 struct spe_pred *out);

/* The flow asked about with answer `token` lived horizon_ms beyond its
 * age then (is_long) or not: calibration learns it. */
void spe_outcome(struct spe *s, uint16_t token, int is_long);

/* Flows learnt in all, and by `service` (its decayed weight). */
uint64_t spe_learnt(const struct spe *s);
double spe_service_weight(const struct spe *s, uint16_t service);

#endif /* STEER_PREDICT_SPE_H */
