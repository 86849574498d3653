/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mirroring director's learned predictor (replication-policy
 * predicted): the state prediction engine (predict/spe.h) over a cell's
 * own flows.
 *
 *   a flow ends here   its service, lifetime (first packet to last packet
 *                      or use) and bytes are learnt
 *   a flow is created  one copy when the engine gives it less than the
 *                      threshold of living the horizon longer (asked at
 *                      age 0, by service: a cell sees a flow's first
 *                      packets only, not its bytes after), else its
 *                      service's replication; FIXED, or a service of
 *                      replication 1: the service's
 *   a flow lives on    asked again at 1, 2, 4, 8 ... s of age, and raised
 *                      to its service's replication once over the
 *                      threshold; raised at once when its backend is no
 *                      longer the one the hash picks (a successor
 *                      deciding it again would move it)
 *   the cell at risk   the other cells suspected it (it had to refute a
 *                      suspicion) within CELL_PREDICTOR_RISK_MS: every
 *                      new flow gets its service's replication and every
 *                      flow of one copy is raised at once (replication
 *                      follows the cell's health)
 *
 * A flow of one copy loses nothing when its primary dies while its
 * backend is the hash's pick: the successor asks the other cells, hears
 * of no state, and decides the flow again, to the same backend. Those
 * flows are what the predictor saves replication on.
 */
#ifndef STEER_CELL_PREDICTOR_H
#define STEER_CELL_PREDICTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cell/director.h"
#include "cell/flowtab.h"
#include "core/cluster.h"

struct spe;

/* Flows a cell learns before the engine's answers count (else: mirror). */
#define CELL_PREDICTOR_MIN_FLOWS 50
/* How long a suspicion of this cell keeps it at risk. */
#define CELL_PREDICTOR_RISK_MS 600000

struct cell_predictor {
	struct director_predictor dp; /* what the director calls */
	struct spe *spe;
	const struct cluster *cl; /* the policy: the cell's current one */
	/* Counters. */
	uint64_t single;   /* flows created with one copy */
	uint64_t mirrored; /* ... with their service's replication */
	uint64_t promoted; /* raised later: they lived on */
	uint64_t rederive; /* raised: their backend is not the pick */
	uint64_t learnt;   /* flows that ended, learnt */
	uint64_t at_risk;  /* raised: this cell was at risk */
	uint64_t risks;	   /* times this cell became at risk */
	/* Health: suspicions of this cell seen, and until when it is at
	 * risk (the caller's clock, ms; 0: not). */
	uint64_t refutes_seen;
	uint64_t risk_until, now_ms;
};

/* 0, -ENOMEM. The horizon is the cluster's at start. */
int cell_predictor_init(struct cell_predictor *p, const struct cluster *cl);
void cell_predictor_free(struct cell_predictor *p);

/* The cluster's policy changed (a reload). */
void cell_predictor_world(struct cell_predictor *p, const struct cluster *cl);

/* This cell's health at now_ms (its own clock): refutes, the suspicions
 * of it it refuted so far (gossip's counter). True when it became at
 * risk just now (the caller raises every flow of one copy). */
bool cell_predictor_health(struct cell_predictor *p, uint64_t refutes,
			   uint64_t now_ms);
bool cell_predictor_at_risk(const struct cell_predictor *p);

/* A flow of this cell ended (flowtab's on_end). */
void cell_predictor_end(struct cell_predictor *p, const struct flowtab_rec *r);

enum cp_raise {
	CP_KEEP = 0, /* as it is */
	CP_LIVED_ON, /* its service's replication: it lives on */
	CP_REDERIVE, /* ... its backend is not the hash's pick */
	CP_AT_RISK,  /* ... this cell is at risk */
};

/* Does live flow r, of one copy, get its service's replication
 * (rf_config) now, at now_ms (flowtab's clock)? pick_ok: its backend is
 * the hash's pick. The engine is asked only when the flow's age in
 * seconds is a power of two. The caller counts what it raised. */
enum cp_raise cell_predictor_raise(struct cell_predictor *p,
				   const struct flowtab_rec *r,
				   uint8_t rf_config, bool pick_ok,
				   uint32_t now_ms);

#endif /* STEER_CELL_PREDICTOR_H */
