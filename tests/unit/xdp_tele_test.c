// SPDX-License-Identifier: GPL-2.0-only
/*
 * Telemetry of steered flows, end to end on the real XDP program
 * (BPF_PROG_TEST_RUN, not attached) and the daemon's module that hands
 * out its slots (src/node/xdp_tele.c): sampling names the busy flow, the
 * slot counts its packets, bytes and sizes exactly, gaps come out of real
 * time, a busier flow takes the slot of an idle one, a rewritten rule is
 * stamped again, an ended flow frees its slot, and so does an idle one.
 *
 * The process is pinned to one CPU: the sampling clock is per CPU, so
 * pinned, exactly every STEER_TELE_SAMPLE-th steered packet of an
 * untracked rule is a sample. Needs root (exit 77 otherwise: skipped).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "core/tmpl_build.h"
#include "node/xdp_tele.h"
#include "steer_kern_user.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_prog.h"

#define TT_SELF 1
#define TT_SELF_IP 0xc6120001u	 /* 198.18.0.1 */
#define TT_CLIENT_IP 0xc6130001u /* 198.19.0.1 */
#define TT_SVC_IP 0xc6130002u	 /* 198.19.0.2 */

struct tt_frame {
	uint8_t b[1600];
	uint32_t len;
};

static struct xdp_prog *tt_x;
static const char *tt_skip;

static void tt_be16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void tt_be32(uint8_t *p, uint32_t v)
{
	tt_be16(p, v >> 16);
	tt_be16(p + 2, v & 0xffff);
}

/* Ethernet + IPv4 + TCP ACK from client port sport, n bytes of payload:
 * a frame of 54 + n bytes. */
static void tt_frame_make(struct tt_frame *f, uint16_t sport, uint32_t n)
{
	uint8_t *ip = f->b + 14, *tcp = ip + 20;

	memset(f->b, 0, sizeof(f->b));
	f->len = 54 + n;
	assert_true(f->len <= sizeof(f->b));
	f->b[5] = TT_SELF;
	f->b[11] = 0xfe;
	tt_be16(f->b + 12, 0x0800);
	ip[0] = 0x45;
	tt_be16(ip + 2, 40 + n);
	ip[8] = 64;
	ip[9] = STEER_IPPROTO_TCP;
	tt_be32(ip + 12, TT_CLIENT_IP);
	tt_be32(ip + 16, TT_SVC_IP);
	tt_be16(tcp, sport);
	tt_be16(tcp + 2, 443);
	tcp[12] = 5 << 4;
	tcp[13] = 0x10;
}

static struct flow_key tt_key(uint16_t sport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	flow_addr_set_v4(&k.src, steer_htonl(TT_CLIENT_IP));
	flow_addr_set_v4(&k.dst, steer_htonl(TT_SVC_IP));
	k.sport = steer_htons(sport);
	k.dport = steer_htons(443);
	k.proto = STEER_IPPROTO_TCP;
	return k;
}

/* n packets of flow sport with n bytes of payload each, steered to
 * node 2 (XDP_TX) one by one. */
static void tt_send(uint16_t sport, uint32_t payload, uint32_t n)
{
	struct tt_frame f, out;
	uint32_t i;

	tt_frame_make(&f, sport, payload);
	for (i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f.b,
			    .data_size_in = f.len, .data_out = out.b,
			    .data_size_out = sizeof(out.b), .repeat = 1);

		assert_int_equal(bpf_prog_test_run_opts(xdp_prog_fd(tt_x), &o),
				 0);
		assert_int_equal(o.retval, XDP_TX);
	}
}

static uint32_t tt_stamp(uint16_t sport)
{
	struct flow_key k = tt_key(sport);
	struct steer_rule r;

	assert_int_equal(xdp_maps_rule_get(tt_x, &k, &r), 0);
	return r.tele;
}

static void tt_flow(uint16_t sport)
{
	struct flow_key k = tt_key(sport);

	assert_int_equal(xdp_maps_flow_set(tt_x, &k, 2, 1), 0);
}

static uint64_t tt_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void tt_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void tt_program(void)
{
	struct tmpl_spec s = {.kind = STEER_TMPL_GUE0, .origin = TT_SELF};
	struct steer_xdp_cfg c;
	struct steer_tmpl t;

	memset(&c, 0, sizeof(c));
	flow_addr_set_v4(&c.self_addr, steer_htonl(TT_SELF_IP));
	c.secret.k0 = 0x0123456789abcdefULL;
	c.secret.k1 = 0xfedcba9876543210ULL;
	c.mtu = 1500;
	c.self_id = TT_SELF;
	c.gue_port = steer_htons(STEER_GUE_PORT);
	c.max_encap = STEER_MAX_ENCAP;
	assert_int_equal(xdp_maps_cfg_set(tt_x, &c), 0);
	s.src_mac[5] = TT_SELF;
	s.dst_mac[5] = 2;
	flow_addr_set_v4(&s.saddr, steer_htonl(TT_SELF_IP));
	flow_addr_set_v4(&s.daddr, steer_htonl(TT_SELF_IP + 1));
	s.dport = steer_htons(STEER_GUE_PORT);
	assert_int_equal(tmpl_build(&t, &s), 0);
	assert_int_equal(xdp_maps_tmpl_set(tt_x, 2, &t), 0);
}

static int tt_setup(void **state)
{
	cpu_set_t set;

	(void)state;
	if (geteuid() != 0) {
		tt_skip = "needs root (BPF_PROG_TEST_RUN of XDP)";
		return 0;
	}
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	tt_x = xdp_prog_open(NULL);
	if (!tt_x) {
		if (errno == EPERM || errno == ENOSYS || errno == EOPNOTSUPP) {
			tt_skip = "BPF not available or not permitted";
			return 0;
		}
		return -1;
	}
	tt_program();
	return 0;
}

static int tt_teardown(void **state)
{
	(void)state;
	xdp_prog_close(tt_x);
	tt_x = NULL;
	return 0;
}

#define TT_SKIP_IF_NEEDED()                                                    \
	do {                                                                   \
		if (tt_skip) {                                                 \
			print_message("SKIP: %s\n", tt_skip);                  \
			skip();                                                \
		}                                                              \
	} while (0)

/* The view of the tracked flow sport; fails when it is not tracked. */
static void tt_view(const struct xdp_tele *t, uint16_t sport,
		    struct xdp_tele_view *v)
{
	struct flow_key k = tt_key(sport);
	uint32_t i;

	for (i = 0; !xdp_tele_get(t, i, v); i++)
		if (!memcmp(&v->key, &k, sizeof(k)))
			return;
	fail_msg("flow %u is not tracked", sport);
}

/*
 * One slot, two flows: the sampling names both in proportion to their
 * packets and the busier one gets the slot; its packets are then counted
 * exactly (packets, bytes, size classes) and its gaps are real time.
 */
static void test_sampled_and_counted(void **state)
{
	struct xdp_tele *t;
	struct xdp_tele_view v;
	struct steer_xdp_stats st;
	uint64_t bytes;
	int i;

	(void)state;
	TT_SKIP_IF_NEEDED();
	tt_flow(1001);
	tt_flow(1002);
	t = xdp_tele_new(1);
	assert_non_null(t);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_maps_stats_reset(tt_x), 0);
	tt_send(1001, 0, 2 * STEER_TELE_SAMPLE);
	tt_send(1002, 0, 10 * STEER_TELE_SAMPLE);
	assert_int_equal(xdp_maps_stats_read(tt_x, &st), 0);
	assert_int_equal(st.tele_tick, 12 * STEER_TELE_SAMPLE);
	assert_int_equal(st.tele_cand, 12);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_tele_stats(t)->candidates, 2);
	assert_int_equal(xdp_tele_stats(t)->given, 1);
	assert_int_equal(tt_stamp(1002), 1);
	assert_int_equal(tt_stamp(1001), 0);
	assert_int_equal(xdp_tele_count(t), 1);

	/* 5 small, 3 of 454 bytes, 2 of 954, 1 of 1354 (11), then 22 small,
	 * 2 ms apart: 33 packets, one gap sampled (the 32nd to the 33rd). */
	assert_int_equal(xdp_maps_stats_reset(tt_x), 0);
	for (i = 0; i < 11 + 22; i++) {
		uint32_t pl = i < 5 || i >= 11 ? 0
			      : i < 8	       ? 400
			      : i < 10	       ? 900
					       : 1300;

		tt_send(1002, pl, 1);
		tt_sleep_ms(2);
	}
	assert_int_equal(xdp_maps_stats_read(tt_x, &st), 0);
	assert_int_equal(st.tele_tick, 0); /* tracked: not sampled */
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	tt_view(t, 1002, &v);
	bytes = 27 * 54 + 3 * 454 + 2 * 954 + 1354;
	assert_int_equal(v.pkts, 33);
	assert_true(v.mean_bytes * 33 > (double)bytes - 0.5 &&
		    v.mean_bytes * 33 < (double)bytes + 0.5);
	assert_true(v.size_share[0] * 33 > 26.99 &&
		    v.size_share[0] * 33 < 27.01);
	assert_true(v.size_share[1] * 33 > 2.99 && v.size_share[1] * 33 < 3.01);
	assert_true(v.size_share[2] * 33 > 1.99 && v.size_share[2] * 33 < 2.01);
	assert_true(v.size_share[3] * 33 > 0.99 && v.size_share[3] * 33 < 1.01);
	/* Slept 2 ms between packets: the gap sampled is at least that,
	 * and one gap has no spread. */
	assert_int_equal(v.gaps, 1);
	assert_true(v.gap_mean_us >= 1900.0);
	assert_true(v.gap_sd_us < 1e-6);
	assert_true(v.pps > 0 && v.bps > v.pps);
	xdp_tele_free(t);
	assert_int_equal(xdp_maps_rule_tele(tt_x, &(struct flow_key){0}, 0),
			 -ENOENT);
	for (i = 1001; i <= 1002; i++) {
		struct flow_key k = tt_key((uint16_t)i);

		assert_int_equal(xdp_maps_flow_del(tt_x, &k), 0);
	}
}

/*
 * The slot's life: an idle flow loses it to a busy candidate; a rule
 * written again without its stamp gets it back; an ended flow frees it;
 * a flow idle XDP_TELE_IDLE_ROUNDS rounds frees it and loses the stamp.
 */
static void test_slot_life(void **state)
{
	struct xdp_tele *t;
	struct flow_key k;
	int i;

	(void)state;
	TT_SKIP_IF_NEEDED();
	tt_flow(2001);
	tt_flow(2002);
	t = xdp_tele_new(1);
	assert_non_null(t);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_maps_stats_reset(tt_x), 0);
	tt_send(2001, 0, STEER_TELE_SAMPLE);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(tt_stamp(2001), 1);

	/* 2001 idle, 2002 busy: 2002 takes the slot. */
	tt_send(2002, 0, 20 * STEER_TELE_SAMPLE);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_tele_stats(t)->evicted, 1);
	assert_int_equal(tt_stamp(2002), 1);
	assert_int_equal(tt_stamp(2001), 0);

	/* Re-announced: the rule comes back without the stamp. */
	tt_flow(2002);
	assert_int_equal(tt_stamp(2002), 0);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_tele_stats(t)->restamped, 1);
	assert_int_equal(tt_stamp(2002), 1);

	/* Ended: the slot is free. */
	k = tt_key(2002);
	assert_int_equal(xdp_maps_flow_del(tt_x, &k), 0);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_tele_stats(t)->freed_gone, 1);
	assert_int_equal(xdp_tele_count(t), 0);

	/* Idle: 2001 takes the free slot, then sends nothing. */
	tt_send(2001, 0, STEER_TELE_SAMPLE);
	assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(tt_stamp(2001), 1);
	for (i = 0; i < XDP_TELE_IDLE_ROUNDS; i++)
		assert_int_equal(xdp_tele_round(t, tt_x, tt_now()), 0);
	assert_int_equal(xdp_tele_stats(t)->freed_idle, 1);
	assert_int_equal(tt_stamp(2001), 0);
	assert_int_equal(xdp_tele_count(t), 0);
	k = tt_key(2001);
	assert_int_equal(xdp_maps_flow_del(tt_x, &k), 0);
	xdp_tele_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sampled_and_counted),
		cmocka_unit_test(test_slot_life),
	};
	int rc = cmocka_run_group_tests(tests, tt_setup, tt_teardown);

	return tt_skip ? 77 : rc;
}
