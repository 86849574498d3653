// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * XDP_PASS and nothing else. Attached to the peer of a veth whose other
 * end transmits with XDP (XDP_TX, redirect): a veth delivers such frames
 * only to a peer that runs NAPI, and an XDP program is what reliably
 * gives it NAPI on this kernel (GRO on the peer did not, see
 * docs/lab.md). The lab puts it on every veth end facing a host.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int steer_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
