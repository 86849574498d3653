/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The load report a host gossips every tick: CPU busy and memory used in
 * permille (from /proc/stat and /proc/meminfo), the bandwidth its fast
 * path received (XDP byte counter), and the sessions it holds (sock_ops
 * tally of TCP connections established minus closed, plus live UDP
 * sessions). The forecasting module will read these series.
 */
#ifndef STEER_HOST_LOAD_H
#define STEER_HOST_LOAD_H

#include <stdint.h>

#include "gossip/gossip.h"
#include "xdp/sockops.h"
#include "xdp/xdp_prog.h"

struct host_load {
	uint64_t cpu_total, cpu_idle; /* jiffies at the last report */
	uint64_t rx_bytes;	      /* XDP bytes at the last report */
	uint64_t at_ms;		      /* when it was; 0: never */
	uint32_t udp_sessions;	      /* kept by the caller */
	/* What was reported last, for steerctl. */
	uint16_t cpu_permille, mem_permille;
	uint64_t bandwidth_bps;
	uint32_t sessions;
};

/* Measure and publish; the first call only takes the baselines of CPU
 * and bandwidth (reported as 0). Failures to read /proc report 0. */
void host_load_report(struct host_load *l, struct xdp_prog *x,
		      struct sockops *so, struct gossip *g);

#endif /* STEER_HOST_LOAD_H */
