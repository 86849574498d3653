/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-flow telemetry of the flows this node's XDP program steers (STEER
 * rules in host mode, BACKEND rules on a cell-mode node): flows sock_ops
 * never sees, since their sockets live elsewhere. The program keeps, per
 * tracked flow, packets, bytes, a size histogram and a sample of the gaps
 * between packets (count, sum, sum of squares) in steer_ftele; this module decides
 * which flows hold its k slots and turns the counters into rates.
 *
 * A round (once per sample of the node's series, node_fc):
 *   1. read every slot (one batch); a tracked flow's packets and bytes
 *      since the last round give its rates (a ring of XDP_TELE_RING);
 *   2. a slot without packets this round is checked against its rule:
 *      gone (the flow ended) frees it; rewritten without the stamp
 *      (re-announced) gets the stamp back; idle XDP_TELE_IDLE_ROUNDS in
 *      a row frees it;
 *   3. the candidates the program sampled (1 in STEER_TELE_SAMPLE
 *      untracked steered packets names its flow) are ranked by samples;
 *      the busiest take free slots, then a slot whose flow's packet rate
 *      is below half of a candidate's estimated rate.
 * The slots hold the k busiest steered flows, in proportion to packets,
 * with fixed memory: 64 bytes per slot in the kernel
 * (struct steer_flow_tele) plus sizeof(struct xdp_tele_slot) here.
 */
#ifndef STEER_NODE_XDP_TELE_H
#define STEER_NODE_XDP_TELE_H

#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>

#include "steer_kern_user.h"
#include "xdp/xdp_prog.h"

#define XDP_TELE_RING 16
#define XDP_TELE_IDLE_ROUNDS 5

struct xdp_tele_slot {
	struct flow_key key;
	uint64_t since_ns;	     /* when the flow got the slot */
	struct steer_flow_tele last; /* the slot as read last round */
	uint32_t gen;
	uint8_t used;
	uint8_t idle;		   /* rounds in a row without a packet */
	double pps, bps;	   /* packets, bytes per second, last round */
	float ring[XDP_TELE_RING]; /* bytes per second, per round */
	uint32_t n, head;
};

/* What a tracked flow looks like now. */
struct xdp_tele_view {
	struct flow_key key;
	double age_s;
	double pps, bps;    /* over the last round */
	double trend_bps_s; /* least-squares slope of bytes/s over the ring */
	double mean_bytes;  /* per packet, since tracked */
	double size_share[STEER_TELE_SIZES]; /* <= 128, 512, 1024, more */
	double gap_mean_us, gap_sd_us;	     /* between packets, sampled */
	uint32_t gaps;			     /* gaps sampled */
	uint64_t pkts;			     /* since tracked */
};

struct xdp_tele_stats {
	uint64_t rounds;
	uint64_t candidates; /* flows the sampling named */
	uint64_t given;	     /* slots given to a flow */
	uint64_t evicted;    /* taken from a slower flow */
	uint64_t freed_idle, freed_gone;
	uint64_t restamped; /* rules rewritten without their stamp */
	uint64_t errors;    /* map operations that failed */
};

struct xdp_tele;

/* k slots (1..STEER_XDP_TELE_SLOTS; 0: all). NULL with errno. */
struct xdp_tele *xdp_tele_new(uint32_t k);
void xdp_tele_free(struct xdp_tele *t);

/* One round on program x at now_ns (CLOCK_MONOTONIC). 0 or -errno (the
 * first failure; the round goes on where it can). */
int xdp_tele_round(struct xdp_tele *t, struct xdp_prog *x, uint64_t now_ns);

/* Flows tracked, and the i-th by bytes/s (highest first): 0, -ENOENT. */
uint32_t xdp_tele_count(const struct xdp_tele *t);
int xdp_tele_get(const struct xdp_tele *t, uint32_t i, struct xdp_tele_view *v);

const struct xdp_tele_stats *xdp_tele_stats(const struct xdp_tele *t);
size_t xdp_tele_memory(const struct xdp_tele *t);

#endif /* STEER_NODE_XDP_TELE_H */
