/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-flow telemetry of this node's sessions, bounded: of every TCP
 * session the sock_ops program reports (steer_socks: bytes, segments, the
 * kernel's smoothed RTT, retransmissions) and every UDP session the XDP
 * program counts (steer_udp: packets, bytes, sizes, gaps), the k with the highest average
 * rate since they were established are tracked in detail, each with a
 * ring of its last FLOW_TELE_RING samples: rates per interval, the RTT and
 * its trend (least-squares slope: a session whose latency keeps rising is
 * one the forecasting may move). Memory is fixed by k: a round of offers
 * keeps a heap of k candidates, and a tracked flow costs
 * sizeof(struct flow_tele_flow) bytes.
 *
 * A round: flow_tele_begin(), flow_tele_offer() for every session,
 * flow_tele_end(). A flow tracked in the round before keeps its ring; a
 * new one starts with one sample (no rates until its second).
 */
#ifndef STEER_NODE_FLOW_TELE_H
#define STEER_NODE_FLOW_TELE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>

#include "steer_kern_user.h"

#define FLOW_TELE_RING 16
#define FLOW_TELE_K_DEFAULT 1024

struct flow_tele_sample {
	uint64_t t_ns; /* ktime of the kernel's refresh */
	uint64_t bytes_in, bytes_out;
	uint32_t srtt_us;
	uint32_t retrans;
	uint32_t segs_in, segs_out;
};

/* What only a UDP session's entry counts (steer_udp_seen): packets by
 * size class and the gaps between them, as totals. */
struct flow_tele_dist {
	uint32_t size[STEER_TELE_SIZES];
	uint64_t gaps, gap_sum_us, gap_sq;
};

struct flow_tele_flow {
	struct flow_key key;
	struct flow_tele_dist dist; /* the last offered (UDP only) */
	uint64_t est_ns;
	double score;  /* average bytes/s since established, at the offer */
	uint32_t n;    /* samples in the ring (<= FLOW_TELE_RING) */
	uint32_t head; /* where the next goes */
	struct flow_tele_sample ring[FLOW_TELE_RING];
};

/* What a tracked flow looks like now. Rates need two samples (0 until
 * then), the trend three. */
struct flow_tele_view {
	struct flow_key key;
	double age_s;
	double in_rate, out_rate;  /* bytes/s over the last interval */
	double avg_rate;	   /* bytes/s since established, both ways */
	uint32_t srtt_us;	   /* the last */
	double rtt_trend_us_per_s; /* least-squares slope over the ring */
	double retrans_per_s;	   /* over the last interval */
	double mean_seg_bytes;	   /* bytes per segment, both ways */
	uint32_t samples;
	/* UDP sessions: packets by size class (shares of 1) and the mean
	 * and standard deviation of the gaps between them. */
	bool has_dist;
	double size_share[STEER_TELE_SIZES];
	double gap_mean_us, gap_sd_us;
};

struct flow_tele;

/* k flows tracked at most (0: FLOW_TELE_K_DEFAULT). NULL with errno. */
struct flow_tele *flow_tele_new(uint32_t k);
void flow_tele_free(struct flow_tele *ft);

void flow_tele_begin(struct flow_tele *ft, uint64_t now_ns);
/* One session; those the kernel has not refreshed yet are not ranked. */
void flow_tele_offer(struct flow_tele *ft, const struct flow_key *k,
		     const struct steer_sock_tele *t);
/* A UDP session of this node's (the XDP program's steer_udp entry): its
 * packets count as segments in, its bytes as bytes in. */
void flow_tele_offer_udp(struct flow_tele *ft, const struct flow_key *k,
			 const struct steer_udp_seen *u);
void flow_tele_end(struct flow_tele *ft);

/* Flows tracked, and the i-th by score (highest first): 0 or -ENOENT. */
uint32_t flow_tele_count(const struct flow_tele *ft);
int flow_tele_get(const struct flow_tele *ft, uint32_t i,
		  struct flow_tele_view *v);

/* Sessions offered in the last round, and the bytes tracking holds. */
uint64_t flow_tele_offered(const struct flow_tele *ft);
size_t flow_tele_memory(const struct flow_tele *ft);

#endif /* STEER_NODE_FLOW_TELE_H */
