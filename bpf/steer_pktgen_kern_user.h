/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What bench/lab/steer_pktgen.c and its BPF side (steer_pktgen.bpf.c)
 * share: the frame size the generator writes and the sink's counter
 * record. Fixed-width types only.
 */
#ifndef STEER_PKTGEN_KERN_USER_H
#define STEER_PKTGEN_KERN_USER_H

#include <linux/types.h>

/*
 * Bytes the generator writes per frame: Ethernet + IPv4 + UDP + 18 bytes
 * of payload, the 64-byte minimum frame without its FCS. A multiple of
 * 4, so the program copies it in 4-byte words.
 */
#define PKTGEN_FRAME_LEN 60

/* The one entry of pg_sink_cnt (per CPU), summed by the tool. */
struct pktgen_sink_cnt {
	__u64 pkts;  /* every frame the sink's program saw */
	__u64 bytes; /* their lengths, as XDP saw them */
	__u64 gue;   /* IPv4 + UDP to the GUE port: steered frames */
	__u64 plain; /* IPv4 + UDP to the generator's port: forwarded */
};

#endif /* STEER_PKTGEN_KERN_USER_H */
