/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Migration scores: for a session of this node, the probability that it
 * migrates within the forecast horizon, and where to.
 *
 * A session migrates when the node its packets reach changes (the node
 * leaves the ingress set: drained by an operator or by the rebalancer
 * ahead of an overload) or when its owner moves. The inputs are what
 * steer knows ahead of that:
 *   overload  this node's forecast CPU and memory (the mean, gossip's
 *             horizon) past the high-water mark, scaled to 0..1 between
 *             the mark and full. Not the upper end of the 95% interval:
 *             60 s ahead on a noisy machine it reaches 1000 with the
 *             machine half busy, and every session would look gone
 *   drain     this node is drained (the operator's word)
 *   rtt       the session's RTT trend (node/flow_tele.h), microseconds
 *             per second, rising latency counting towards a move
 *   share     the session's share of this node's tracked traffic: moving
 *             a heavy session relieves the node most
 * combined by a logistic model, p = 1 / (1 + exp(-(b + sum w_i x_i))).
 * The weights are set by hand (migrate_weights_default) until they are
 * fitted on recorded lab runs; they are a parameter, not constants.
 *
 * The target is the live node with the most forecast headroom: the
 * lowest of its CPU and memory headroom below the high-water mark, from
 * the forecasts (means) gossip carries; a node without a forecast,
 * drained or not live is never one. peers are sorted by id, so ties go
 * to the lower id on every node alike.
 */
#ifndef STEER_PREDICT_MIGRATE_H
#define STEER_PREDICT_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/rule.h>

enum migrate_reason {
	MIGRATE_NONE = 0, /* nothing points to a move */
	MIGRATE_OVERLOAD, /* the node's forecast crosses the high-water mark */
	MIGRATE_DRAIN,	  /* the node is drained */
	MIGRATE_RTT,	  /* the session's latency keeps rising */
	MIGRATE_SHARE,	  /* a heavy session of a busy node */
};

struct migrate_weights {
	double bias;
	double overload, drain, rtt, share;
	double rtt_scale_us_s; /* the trend that counts as 1 (e.g. 500) */
};

/* What the node knows of itself. */
struct migrate_node {
	uint16_t hwm_permille;	 /* high-water mark of CPU and memory */
	uint16_t cpu, mem;	 /* forecast means, permille */
	uint16_t cpu_hi, mem_hi; /* upper ends of their 95% intervals */
	bool has_forecast;
	bool drained;
};

/* One session's telemetry. */
struct migrate_session {
	double rtt_trend_us_s;
	double share; /* of the node's tracked traffic, 0..1 */
};

/* A candidate target, from gossip. */
struct migrate_peer {
	uint16_t id;
	bool live, drained, has_forecast;
	uint16_t cpu, mem; /* forecast means, permille */
};

struct migrate_score {
	double p;		    /* 0..1 */
	enum migrate_reason reason; /* the largest contribution */
	uint16_t target;	    /* STEER_NODE_NONE: no node has room */
	double target_headroom;	    /* its headroom, permille of capacity */
};

void migrate_weights_default(struct migrate_weights *w);

/*
 * The node's own pressure in 0..1: the probability that the worse of CPU
 * and memory is past the high-water mark at the forecast's horizon, each
 * forecast taken as normal (its mean, and the upper end of its 95%
 * interval at mean + 1.96 sd). A forecast without an interval counts 1
 * past the mark and 0 under it; no forecast, 0. This is what the
 * rebalancer acts on (a drain when the mean passes the mark), so a score
 * passes 0.5 as the forecast reaches the mark, before the drain that
 * waits for the forecast's next publication.
 */
double migrate_overload(const struct migrate_node *n);

/* The target among peers[0..n-1] (self excluded by id): STEER_NODE_NONE
 * when none is live, undrained, forecast and under the mark. */
uint16_t migrate_target(const struct migrate_peer *peers, uint32_t n,
			uint16_t self, uint16_t hwm_permille, double *headroom);

void migrate_score(const struct migrate_weights *w,
		   const struct migrate_node *node,
		   const struct migrate_session *s, uint16_t target,
		   double target_headroom, struct migrate_score *out);

const char *migrate_reason_name(enum migrate_reason r);

#endif /* STEER_PREDICT_MIGRATE_H */
