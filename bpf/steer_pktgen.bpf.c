// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * The BPF side of steer-pktgen (bench/lab/steer_pktgen.c), benchmark (b):
 * packets per second through one host. Five programs, configured through
 * read-only globals the tool sets before loading:
 *
 *   pktgen_tx    the generator. Run by BPF_PROG_TEST_RUN with
 *                BPF_F_TEST_XDP_LIVE_FRAMES on the generator's veth: each
 *                run writes one whole frame and returns XDP_TX, which
 *                sends it to the veth's peer. Live frames are recycled
 *                as the last program to touch them left them (the DUT's
 *                rewrites included), so every run writes every byte.
 *                Flows: the UDP source port walks pg_sport_base ..
 *                pg_sport_base + pg_nflows - 1, one step per frame.
 *                Flow control (pg_window > 0): at most pg_window frames
 *                between the generator and the end of their path (the
 *                sink, or pktgen_drop), which publishes what it ended in
 *                pg_done; a run that finds the window full waits in a
 *                bounded loop until it opens. pg_window is below the 256
 *                slots of a veth ring and above a NAPI poll's 64: the
 *                DUT's ring never refuses a frame, and the DUT finds a
 *                full batch at every poll. Waiting rather than dropping
 *                matters: frames a program drops during BPF_PROG_TEST_RUN
 *                go back to the page pool through its ring's producer
 *                lock, the lock the DUT's CPU takes to return every frame
 *                it ends, and that contention (paravirt spinlocks) cost
 *                the DUT more than forwarding did.
 *   pktgen_sink  counts (pg_sink_cnt, per CPU) and drops. Attached to the
 *                sink's veth, it is also what gives that veth the NAPI a
 *                veth needs to take frames from XDP_TX or a redirect.
 *   pktgen_fwd   the bare XDP forwarder: Ethernet addresses rewritten,
 *                bpf_redirect() to pg_fwd_ifindex. The same redirect
 *                steer's program does with cfg.tx_ifindex set, without
 *                steer's parsing, lookups and encapsulation.
 *   pktgen_pass  XDP_PASS: NAPI for the DUT's ingress when the kernel
 *                forwards (the stack receives every frame).
 *   pktgen_drop  XDP_DROP: the DUT's floor, a veth receive and a drop.
 *                Counts in pg_drop_cnt and publishes in pg_done too.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer_pktgen_kern_user.h"

#define PG_WORDS (PKTGEN_FRAME_LEN / 4)
/* pg_done moves in steps: its cache line leaves the generator's CPU once
 * per PG_DONE_STEP frames, not once per frame. */
#define PG_DONE_STEP 16
/* A full window that has not moved for this long has lost frames (the
 * kernel variant may drop some): they are written off (pg_forgiven). The
 * wait is checked against the clock every PG_WAIT_CHECK turns, and lasts
 * PG_WAIT_TURNS turns at most whatever the clock says. */
#define PG_STALL_NS (5 * 1000 * 1000ULL)
#define PG_WAIT_CHECK 1024
#define PG_WAIT_TURNS (1 << 23)
/* Offset of the UDP source port in the frame: Ethernet + 20-byte IPv4. */
#define PG_SPORT_OFF (ETH_HLEN + 20)

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Generator: the frame (network order, as 4-byte words) and the flows. */
const volatile __u32 pg_frame[PG_WORDS];
const volatile __u32 pg_nflows = 1;
const volatile __u16 pg_sport_base = 1024;
const volatile __u32 pg_window; /* 0: no flow control */

/* Sink: the ports that tell steered from forwarded frames (host order). */
const volatile __u16 pg_gue_port = 6080;
const volatile __u16 pg_plain_port = 9;

/* Forwarder: new Ethernet addresses (dst, then src, network order as
 * three 4-byte words) and the way out. */
const volatile __u32 pg_fwd_mac[3];
const volatile __u32 pg_fwd_ifindex;

/*
 * The generator's state, read by the tool through the mapped .bss: next
 * flow, frames sent, frames that waited for the window, frames written
 * off as lost and how often. One CPU runs the generator at a time, the tool's.
 */
__u32 pg_seq;
__u64 pg_sent;
__u64 pg_held;
__s64 pg_forgiven;
__u64 pg_stalls;

/* Frames that reached the end of their path, in steps of PG_DONE_STEP:
 * its own map, so its cache line is shared with nothing the generator
 * writes. */
__u64 pg_done SEC(".data.done") = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pktgen_sink_cnt);
} pg_sink_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pg_drop_cnt SEC(".maps");

/* One more frame ended on this CPU, its n-th. */
static __always_inline void pg_done_count(__u64 n)
{
	if (!(n % PG_DONE_STEP))
		__sync_fetch_and_add(&pg_done, PG_DONE_STEP);
}

/* Frames out: sent, not yet ended, not written off. */
static __always_inline __s64 pg_out(void)
{
	return (__s64)(pg_sent - *(volatile __u64 *)&pg_done) - pg_forgiven;
}

/* One turn of the wait: 1 (stop) once the window is open or time is up. */
static long pg_wait_turn(__u64 i, void *arg)
{
	__u64 *t0 = arg;

	if (pg_out() < (__s64)pg_window)
		return 1;
	if (i % PG_WAIT_CHECK)
		return 0;
	if (!*t0)
		*t0 = bpf_ktime_get_ns();
	return bpf_ktime_get_ns() - *t0 > PG_STALL_NS;
}

/*
 * Wait until fewer than pg_window frames are out. When nothing comes back
 * for PG_STALL_NS, the missing frames count as lost (written off) and the
 * generator goes on. Frames written off that arrive after all are taken
 * back.
 */
static __always_inline void pg_window_wait(void)
{
	__s64 out = pg_out();
	__u64 t0 = 0;

	if (out < 0)
		pg_forgiven += out;
	if (out < (__s64)pg_window)
		return;
	pg_held++;
	bpf_loop(PG_WAIT_TURNS, pg_wait_turn, &t0, 0);
	out = pg_out();
	if (out >= (__s64)pg_window) {
		pg_forgiven += out;
		pg_stalls++;
	}
}

SEC("xdp")
int pktgen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *w = data;
	__u32 seq = pg_seq, i;
	__be16 *sport;

	if (pg_window)
		pg_window_wait();
	/* The tool hands the kernel a PKTGEN_FRAME_LEN frame. */
	if (data + PKTGEN_FRAME_LEN > data_end)
		return XDP_ABORTED;
#pragma unroll
	for (i = 0; i < PG_WORDS; i++)
		w[i] = pg_frame[i];
	sport = data + PG_SPORT_OFF;
	*sport = bpf_htons((__u16)(pg_sport_base + seq));
	pg_seq = seq + 1 < pg_nflows ? seq + 1 : 0;
	pg_sent++;
	return XDP_TX;
}

SEC("xdp")
int pktgen_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct pktgen_sink_cnt *c;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *uh = (void *)(ip + 1);
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&pg_sink_cnt, &zero);
	if (!c)
		return XDP_DROP;
	c->pkts++;
	c->bytes += data_end - data;
	pg_done_count(c->pkts);
	/* Ethernet, an option-less IPv4 header and UDP in the frame. */
	if ((void *)(uh + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP)
		return XDP_DROP;
	if (uh->dest == bpf_htons(pg_gue_port))
		c->gue++;
	else if (uh->dest == bpf_htons(pg_plain_port))
		c->plain++;
	return XDP_DROP;
}

SEC("xdp")
int pktgen_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *mac = data;

	if (data + ETH_HLEN > data_end) /* Ethernet header complete */
		return XDP_DROP;
	mac[0] = pg_fwd_mac[0];
	mac[1] = pg_fwd_mac[1];
	mac[2] = pg_fwd_mac[2];
	return bpf_redirect(pg_fwd_ifindex, 0);
}

SEC("xdp")
int pktgen_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int pktgen_drop(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&pg_drop_cnt, &zero);

	if (c)
		pg_done_count(++*c);
	return XDP_DROP;
}
