// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * steer's XDP fast path: the program attached to the fabric interface.
 * The logic and the maps live in steer_xdp.h, which the benchmark wrapper
 * (steer_xdp_bench.bpf.c) includes too.
 */
#include "steer_xdp.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int steer_xdp(struct xdp_md *ctx)
{
	return steer_xdp_run(ctx);
}
