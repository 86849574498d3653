/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * This node's load: CPU busy and memory used in permille (from /proc/stat
 * and /proc/meminfo; CPU optionally of one cgroup, its cpu.stat's usage
 * over every CPU online: the share of the machine its servers use), the bandwidth its fast path received (XDP byte
 * counter) and the bandwidth it sent (the XDP program's frames sent on
 * plus what the stack sent through the same interface), the sessions it holds (sock_ops tally of TCP connections
 * established minus closed, plus live UDP sessions), the new sessions per
 * second (TCP established, UDP first seen) and the packets per second its
 * fast path sends to the cells' exception path (cell mode). Host mode
 * gossips it every tick; the node's forecasts (daemon/node_fc.h) sample
 * it.
 */
#ifndef STEER_NODE_LOAD_H
#define STEER_NODE_LOAD_H

#include <stdint.h>

#include "gossip/gossip.h"
#include "xdp/sockops.h"
#include "xdp/xdp_prog.h"

struct node_load {
	uint64_t cpu_total, cpu_idle;	/* jiffies at the last report */
	uint64_t cg_usage_us, cg_at_us; /* the cgroup's, at the last */
	/* Set by the caller before each measure: CPU of this cgroup v2
	 * directory instead of the machine's (NULL or "": the machine). */
	const char *cpu_cgroup;
	uint64_t rx_bytes;     /* XDP bytes at the last report */
	uint64_t tx_bytes;     /* XDP + interface bytes sent, then */
	uint64_t new_total;    /* TCP up + UDP new, at the last */
	uint64_t exc_total;    /* XDP exception packets, at the last */
	uint64_t at_ms;	       /* when it was; 0: never */
	uint32_t udp_sessions; /* kept by the caller */
	/* What was reported last, for steerctl. */
	uint16_t cpu_permille, mem_permille;
	uint64_t bandwidth_bps;
	uint64_t bandwidth_out_bps;
	uint32_t sessions;
	double new_per_s;     /* new sessions per second */
	double exception_pps; /* packets per second to the exception path */
};

/* Measure (x, so may be NULL: no bandwidth, no TCP sessions); the first
 * call only takes the baselines of CPU and bandwidth (0 then). Failures
 * to read /proc give 0. */
void node_load_measure(struct node_load *l, struct xdp_prog *x,
		       struct sockops *so);

/* Measure and publish in the gossip's load report. */
void node_load_report(struct node_load *l, struct xdp_prog *x,
		      struct sockops *so, struct gossip *g);

#endif /* STEER_NODE_LOAD_H */
