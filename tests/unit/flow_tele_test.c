// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-flow telemetry (node/flow_tele.c): the top k by average rate are
 * tracked and sorted, rings carry over rounds, rates and the RTT trend
 * come out of them, sessions without a refresh are not ranked, memory is
 * bounded by k.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "node/flow_tele.h"

#define S 1000000000ull /* ns per second */

static struct flow_key key_of(uint32_t i)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	flow_addr_set_v4(&k.src, 0x0a000000u + i);
	flow_addr_set_v4(&k.dst, 0xc6120001u);
	k.sport = (uint16_t)(1000 + i);
	k.dport = 80;
	k.proto = STEER_IPPROTO_TCP;
	return k;
}

/* A session established at 0, seen at seen_ns with bytes in and srtt. */
static struct steer_sock_tele tele(uint64_t seen_ns, uint64_t bytes,
				   uint32_t srtt)
{
	struct steer_sock_tele t = {.seen_ns = seen_ns,
				    .bytes_in = bytes,
				    .bytes_out = bytes / 2,
				    .segs_in = 10,
				    .segs_out = 5,
				    .srtt_us = srtt,
				    .samples = 1};

	return t;
}

static void round1(struct flow_tele *ft, uint64_t now, uint32_t n,
		   uint64_t bytes_per, uint32_t srtt)
{
	uint32_t i;

	flow_tele_begin(ft, now);
	for (i = 0; i < n; i++) {
		struct flow_key k = key_of(i);
		struct steer_sock_tele t = tele(now, (i + 1) * bytes_per, srtt);

		flow_tele_offer(ft, &k, &t);
	}
	flow_tele_end(ft);
}

/* Of 1,000 sessions, the 10 busiest, busiest first. */
static void top_k_sorted(void **state)
{
	struct flow_tele *ft = flow_tele_new(10);
	struct flow_tele_view v;
	uint32_t i;

	assert_non_null(ft);
	round1(ft, 10 * S, 1000, 100, 50);
	assert_int_equal(flow_tele_count(ft), 10);
	assert_int_equal(flow_tele_offered(ft), 1000);
	for (i = 0; i < 10; i++) {
		struct flow_key want = key_of(999 - i);

		assert_int_equal(flow_tele_get(ft, i, &v), 0);
		assert_memory_equal(&v.key, &want, sizeof(want));
		/* 1.5 x bytes in both ways over 10 s. */
		assert_true(v.avg_rate > 0.15 * (1000 - i) * 100 - 1e-6 &&
			    v.avg_rate < 0.15 * (1000 - i) * 100 + 1e-6);
		assert_int_equal(v.samples, 1);
		assert_true(v.in_rate == 0); /* one sample: no rate yet */
	}
	assert_int_equal(flow_tele_get(ft, 10, &v), -ENOENT);
	/* By k, not by the 1,000 offered: two rings' worth per slot (this
	 * round's and the next) and a candidate. */
	assert_true(flow_tele_memory(ft) <
		    10 * (2 * sizeof(struct flow_tele_flow) + 128) + 4096);
	flow_tele_free(ft);
}

/* One flow over rounds: rates per interval, the RTT's slope. */
static void rates_and_trend(void **state)
{
	struct flow_tele *ft = flow_tele_new(4);
	struct flow_key k = key_of(7);
	struct flow_tele_view v;
	uint32_t r;

	for (r = 0; r < 5; r++) {
		/* 0.5 s apart, 1,000 more bytes in, RTT up 100 us each. */
		struct steer_sock_tele t =
			tele(S + r * S / 2, 1000 * (r + 1), 100 + 100 * r);

		t.retrans = r;
		flow_tele_begin(ft, S + r * S / 2);
		flow_tele_offer(ft, &k, &t);
		flow_tele_end(ft);
	}
	assert_int_equal(flow_tele_get(ft, 0, &v), 0);
	assert_int_equal(v.samples, 5);
	assert_int_equal(v.srtt_us, 500);
	assert_true(v.in_rate > 1999.9 && v.in_rate < 2000.1);
	assert_true(v.out_rate > 999.9 && v.out_rate < 1000.1);
	assert_true(v.retrans_per_s > 1.99 && v.retrans_per_s < 2.01);
	assert_true(v.rtt_trend_us_per_s > 199.9 &&
		    v.rtt_trend_us_per_s < 200.1);
	assert_true(v.mean_seg_bytes > 0);
	flow_tele_free(ft);
}

/* The same refresh offered twice is one sample; a session the kernel
 * never refreshed is not ranked. */
static void no_double_no_unrefreshed(void **state)
{
	struct flow_tele *ft = flow_tele_new(4);
	struct flow_key k = key_of(1), k2 = key_of(2);
	struct steer_sock_tele t = tele(S, 5000, 80), fresh = {0};
	struct flow_tele_view v;
	int r;

	for (r = 0; r < 3; r++) {
		flow_tele_begin(ft, S + (uint64_t)r * S);
		flow_tele_offer(ft, &k, &t);
		flow_tele_offer(ft, &k2, &fresh);
		flow_tele_end(ft);
	}
	assert_int_equal(flow_tele_count(ft), 1);
	assert_int_equal(flow_tele_get(ft, 0, &v), 0);
	assert_memory_equal(&v.key, &k, sizeof(k));
	assert_int_equal(v.samples, 1);
	assert_int_equal(flow_tele_offered(ft), 2);
	flow_tele_free(ft);
}

/* A flow pushed out of the top k loses its ring; back, it starts over. */
static void evicted_starts_over(void **state)
{
	struct flow_tele *ft = flow_tele_new(1);
	struct flow_key a = key_of(1), b = key_of(2);
	struct steer_sock_tele ta = tele(S, 1000, 10), tb = tele(S, 10, 10);
	struct flow_tele_view v;

	flow_tele_begin(ft, S);
	flow_tele_offer(ft, &a, &ta);
	flow_tele_offer(ft, &b, &tb);
	flow_tele_end(ft);
	ta.seen_ns = tb.seen_ns = 2 * S;
	tb.bytes_in = 100000; /* b overtakes a */
	flow_tele_begin(ft, 2 * S);
	flow_tele_offer(ft, &a, &ta);
	flow_tele_offer(ft, &b, &tb);
	flow_tele_end(ft);
	assert_int_equal(flow_tele_get(ft, 0, &v), 0);
	assert_memory_equal(&v.key, &b, sizeof(b));
	assert_int_equal(v.samples, 1);
	ta.seen_ns = 3 * S;
	ta.bytes_in = 10000000; /* a is back on top */
	flow_tele_begin(ft, 3 * S);
	flow_tele_offer(ft, &a, &ta);
	flow_tele_offer(ft, &b, &tb);
	flow_tele_end(ft);
	assert_int_equal(flow_tele_get(ft, 0, &v), 0);
	assert_memory_equal(&v.key, &a, sizeof(a));
	assert_int_equal(v.samples, 1);
	flow_tele_free(ft);
}

/*
 * A UDP session (steer_udp's entry) ranks beside TCP ones by its bytes;
 * its view carries its size shares and gap statistics, a TCP one's none.
 */
static void udp_sizes_and_gaps(void **state)
{
	struct flow_tele *ft = flow_tele_new(4);
	struct flow_key u = key_of(7), t = key_of(8);
	/* 5 packets, 4 gaps of 100, 100, 300, 300 us: mean 200, sd 100. */
	struct steer_udp_seen e = {.first_ns = 0,
				   .last_ns = S,
				   .pkts = 5,
				   .bytes = 5000,
				   .gap_sum_us = 800,
				   .gap_sq = 2 * 10000 + 2 * 90000,
				   .size = {1, 1, 0, 3}};
	struct steer_sock_tele tt = tele(S, 100, 10);
	struct flow_tele_view v;

	(void)state;
	u.proto = STEER_IPPROTO_UDP;
	flow_tele_begin(ft, S);
	flow_tele_offer_udp(ft, &u, &e);
	flow_tele_offer(ft, &t, &tt);
	flow_tele_end(ft);
	assert_int_equal(flow_tele_count(ft), 2);
	assert_int_equal(flow_tele_get(ft, 0, &v), 0);
	assert_memory_equal(&v.key, &u, sizeof(u));
	assert_true(v.has_dist);
	assert_true(v.avg_rate > 4999 && v.avg_rate < 5001);
	assert_true(v.mean_seg_bytes > 999.9 && v.mean_seg_bytes < 1000.1);
	assert_true(v.size_share[0] > 0.199 && v.size_share[0] < 0.201);
	assert_true(v.size_share[2] == 0);
	assert_true(v.size_share[3] > 0.599 && v.size_share[3] < 0.601);
	assert_true(v.gap_mean_us > 199.9 && v.gap_mean_us < 200.1);
	assert_true(v.gap_sd_us > 99.9 && v.gap_sd_us < 100.1);
	assert_int_equal(flow_tele_get(ft, 1, &v), 0);
	assert_memory_equal(&v.key, &t, sizeof(t));
	assert_false(v.has_dist);
	/* An entry with no packet yet is not ranked. */
	e.pkts = 0;
	flow_tele_begin(ft, 2 * S);
	flow_tele_offer_udp(ft, &u, &e);
	flow_tele_end(ft);
	assert_int_equal(flow_tele_count(ft), 0);
	flow_tele_free(ft);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(top_k_sorted),
		cmocka_unit_test(rates_and_trend),
		cmocka_unit_test(no_double_no_unrefreshed),
		cmocka_unit_test(evicted_starts_over),
		cmocka_unit_test(udp_sizes_and_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
