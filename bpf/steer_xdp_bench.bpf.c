// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
/*
 * steer's XDP fast path wrapped for timing with BPF_PROG_TEST_RUN
 * (bench/xdp/steer_xdp_bench.c). With repeat > 1 the kernel hands every
 * iteration the frame the previous one left: steer_xdp_run() would
 * encapsulate its own output again (or decapsulate once, then pass). So
 * each wrapper saves the frame, runs the body, records the action and
 * puts the original frame back (head, tail, bytes) before returning the
 * action; every iteration then sees the same input.
 *
 *   bench_steer:   save, steer_xdp_run(), restore
 *   bench_restore: save, restore, around nothing (the wrapper's own cost,
 *                  the same helper calls: subtract it from bench_steer)
 *   bench_floor:   swap the Ethernet addresses, XDP_TX (nothing to undo)
 *
 * The maps of steer_xdp.h are this object's own copies; the bench points
 * them at the maps of a loaded steer_xdp program (bpf_map__reuse_fd), so
 * both programs see one configuration, one flow table, one set of
 * counters.
 *
 * Restoring the head needs to know how far it moved: the frame's start is
 * stored in a map before and after the body and read back as numbers.
 * The verifier allows that (a pointer leak) only to a privileged loader,
 * which BPF_PROG_TEST_RUN of XDP needs anyway.
 */
#include "steer_xdp.h"

#define BENCH_FRAME_MAX 256 /* frames saved and restored, bytes */
#define BENCH_OUT_MAX 512   /* output captured: a frame plus a template */
#define BENCH_ACT_SLOTS 8   /* XDP actions 0..4, the rest in the last */

/* Why a wrapper could not do its job; each bumps bench_errs[reason]. */
enum bench_err {
	BENCH_ERR_SAVE = 0, /* frame empty, too long or unreadable */
	BENCH_ERR_HEAD,	    /* head could not be moved back */
	BENCH_ERR_TAIL,	    /* tail could not be moved back */
	BENCH_ERR_BYTES,    /* original bytes could not be written */
	BENCH_ERR_CAPTURE,  /* output longer than BENCH_OUT_MAX */
	BENCH_ERR__MAX
};

/*
 * The frame as it came, and where its head was before and after. The
 * bench zeroes it before each run; the first iteration saves the frame,
 * every iteration restores it (they all start from the same frame).
 */
struct bench_save {
	__u64 start; /* ctx->data before the body, as a number */
	__u64 now;   /* ctx->data after the body */
	__u32 len;
	__u32 pad;
	__u8 bytes[BENCH_FRAME_MAX];
};

/* The body's output of the last run with bench_capture set. */
struct bench_out {
	__u32 len;
	__u32 action;
	__u8 bytes[BENCH_OUT_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_save);
} bench_save SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_ACT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} bench_acts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, BENCH_ERR__MAX);
	__type(key, __u32);
	__type(value, __u64);
} bench_errs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_out);
} bench_out SEC(".maps");

/* Set by the bench between runs: copy each output to bench_out. */
__u32 bench_capture;

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void bench_count(void *map, __u32 key)
{
	__u64 *c = bpf_map_lookup_elem(map, &key);

	if (c)
		*c += 1;
}

static __always_inline int bench_fail(__u32 why)
{
	bench_count(&bench_errs, why);
	return XDP_ABORTED;
}

/* The output as the body left it, before it is undone. */
static __always_inline void bench_capture_out(struct xdp_md *ctx, int act)
{
	struct bench_out *o;
	__u32 zero = 0;
	/* 64-bit all through: the verifier bounds what is compared. */
	__u64 len = (__u64)((long)ctx->data_end - (long)ctx->data);

	o = bpf_map_lookup_elem(&bench_out, &zero);
	if (!o)
		return;
	o->action = (__u32)act;
	o->len = 0;
	if (len == 0 || len > BENCH_OUT_MAX) {
		bench_count(&bench_errs, BENCH_ERR_CAPTURE);
		return;
	}
	if (!bpf_xdp_load_bytes(ctx, 0, o->bytes, len))
		o->len = (__u32)len;
}

/*
 * Save the frame (once a run), run the body (steer_xdp_run() when run is
 * set), undo what it did to the frame, return its action. Every restoring
 * helper is called on every path, so bench_restore costs what
 * bench_steer's wrapping costs.
 */
static __always_inline int bench_wrap(struct xdp_md *ctx, int run)
{
	volatile __u64 *vstart, *vnow;
	struct bench_save *s;
	__u32 zero = 0;
	__u64 len, cur; /* 64-bit: see bench_capture_out() */
	__s64 moved;
	int act;

	s = bpf_map_lookup_elem(&bench_save, &zero);
	if (!s)
		return XDP_ABORTED;
	if (!s->len) {
		/* First iteration of a run: the frame as it came. */
		len = (__u64)((long)ctx->data_end - (long)ctx->data);
		if (len == 0 || len > BENCH_FRAME_MAX)
			return bench_fail(BENCH_ERR_SAVE);
		if (bpf_xdp_load_bytes(ctx, 0, s->bytes, len))
			return bench_fail(BENCH_ERR_SAVE);
		s->len = (__u32)len;
	}
	/* Through memory, so both are numbers when read back. */
	vstart = &s->start;
	vnow = &s->now;
	*vstart = (__u64)(long)ctx->data;

	act = run ? steer_xdp_run(ctx) : XDP_PASS;

	*vnow = (__u64)(long)ctx->data;
	if (bench_capture)
		bench_capture_out(ctx, act);
	moved = (__s64)(*vnow - *vstart); /* < 0: the head grew */
	if (moved < -(__s64)STEER_DECAP_MAX_OFF ||
	    moved > (__s64)STEER_DECAP_MAX_OFF)
		return bench_fail(BENCH_ERR_HEAD);
	if (bpf_xdp_adjust_head(ctx, (int)-moved))
		return bench_fail(BENCH_ERR_HEAD);
	cur = (__u64)((long)ctx->data_end - (long)ctx->data);
	/* A number from here on: clang must not fold it into "len - end
	 * + data", arithmetic on pkt_end that the verifier refuses. */
	asm volatile("" : "+r"(cur));
	len = s->len;
	if (len == 0 || len > BENCH_FRAME_MAX)
		return bench_fail(BENCH_ERR_SAVE);
	if (bpf_xdp_adjust_tail(ctx, (int)len - (int)cur))
		return bench_fail(BENCH_ERR_TAIL);
	if (bpf_xdp_store_bytes(ctx, 0, s->bytes, len))
		return bench_fail(BENCH_ERR_BYTES);
	bench_count(&bench_acts, act >= 0 && act < BENCH_ACT_SLOTS
					 ? (__u32)act
					 : BENCH_ACT_SLOTS - 1);
	return act;
}

SEC("xdp")
int bench_steer(struct xdp_md *ctx)
{
	return bench_wrap(ctx, 1);
}

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	return bench_wrap(ctx, 0);
}

/* The floor: read and write the Ethernet header, transmit. */
SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct steer_ethhdr *eth = data;
	__u8 mac[STEER_ETH_ALEN];

	if ((void *)(eth + 1) > data_end) /* Ethernet header complete */
		return XDP_DROP;
	__builtin_memcpy(mac, eth->dst, sizeof(mac));
	__builtin_memcpy(eth->dst, eth->src, sizeof(mac));
	__builtin_memcpy(eth->src, mac, sizeof(mac));
	return XDP_TX;
}
