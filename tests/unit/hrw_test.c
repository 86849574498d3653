// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rendezvous top k: correctness against a brute-force ranking, exclusion,
 * stability, minimal change when a node leaves, spread and weights.
 *
 * Keys are keyed SipHash outputs of a counter (fixed secret: runs repeat).
 * First-choice shares are checked within 6 standard deviations of the
 * theoretical probability (1 / N, or w_i / W for weights), sd =
 * sqrt(p (1 - p) / keys): a correct ranking fails one of the ~30 such
 * checks with probability below 30 * 2e-9.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/hrw.h"

#define N 10
#define K STEER_MAX_MIRRORS

static const struct steer_hash_secret secret = {0xa5a5a5a5deadbeefull,
						0x0123456789abcdefull};
static const struct steer_hash_secret key_secret = {0x1357913579135791ull,
						    0x2468024680246802ull};

static uint64_t key(uint32_t i)
{
	return steer_hash_u64(i, &key_secret);
}

static void nodes_fill(struct hrw_node *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].id = (uint16_t)(200 + 3 * i);
		v[i].weight = 1;
	}
}

static const struct hrw_node *node_find(const struct hrw_node *v, size_t n,
					uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

/*
 * out[0..got) must be distinct eligible nodes in decreasing score, and no
 * eligible node left out may score above the last one chosen.
 */
static void check_topk(const struct hrw_node *v, size_t n, uint64_t h,
		       uint16_t excl, const uint16_t *out, int got, size_t k)
{
	size_t i, eligible = 0;
	double last = INFINITY;
	int j;

	for (i = 0; i < n; i++)
		eligible += v[i].weight && v[i].id != excl;
	assert_int_equal(got, k < eligible ? k : eligible);
	for (j = 0; j < got; j++) {
		const struct hrw_node *x = node_find(v, n, out[j]);
		double sc;

		assert_non_null(x);
		assert_int_not_equal(out[j], excl);
		assert_true(x->weight > 0);
		sc = hrw_score(h, x->id, x->weight, &secret);
		assert_true(sc <= last);
		last = sc;
		for (i = 0; i < (size_t)j; i++)
			assert_int_not_equal(out[i], out[j]);
	}
	for (i = 0; i < n; i++) {
		int chosen = 0;

		for (j = 0; j < got; j++)
			chosen |= out[j] == v[i].id;
		if (!chosen && v[i].weight && v[i].id != excl)
			assert_true(hrw_score(h, v[i].id, v[i].weight,
					      &secret) <= last);
	}
}

static void test_topk_brute(void **state)
{
	struct hrw_node v[N];
	uint16_t out[N + 1];
	uint32_t i;
	size_t k;

	(void)state;
	nodes_fill(v, N);
	v[4].weight = 0;
	v[7].weight = 5;
	for (i = 0; i < 5000; i++) {
		uint64_t h = key(i);
		uint16_t excl = i % 3 ? v[i % N].id : STEER_NODE_NONE;

		for (k = 0; k <= N + 1 && k <= HRW_TOPK_MAX; k++) {
			int got = hrw_topk(v, N, h, excl, &secret, out, k);

			check_topk(v, N, h, excl, out, got, k);
		}
	}
}

/* Same input, same output; the order of the node array does not matter. */
static void test_stable(void **state)
{
	struct hrw_node v[N], rev[N];
	uint16_t a[3], b[3], c[3], one[1];
	uint32_t i;

	(void)state;
	nodes_fill(v, N);
	for (i = 0; i < N; i++)
		rev[i] = v[N - 1 - i];
	for (i = 0; i < 2000; i++) {
		uint64_t h = key(i);

		assert_int_equal(hrw_topk(v, N, h, v[0].id, &secret, a, 3), 3);
		assert_int_equal(hrw_topk(v, N, h, v[0].id, &secret, b, 3), 3);
		assert_int_equal(hrw_topk(rev, N, h, v[0].id, &secret, c, 3),
				 3);
		assert_int_equal(hrw_topk(v, N, h, v[0].id, &secret, one, 1),
				 1);
		assert_memory_equal(a, b, sizeof(a));
		assert_memory_equal(a, c, sizeof(a));
		assert_int_equal(one[0], a[0]);
	}
}

/*
 * Removing node r: for every key, the new top k is the old top k + 1 with
 * r struck out, cut to k. Keys whose top k changes are those that had r in
 * it: r is the excluded primary of no key, so it ranks in the top k of
 * k / (N - 1) of the keys that exclude another node and of k / N of those
 * (1 in N) that exclude none.
 */
static void test_remove_minimal(void **state)
{
	struct hrw_node v[N], w[N - 1];
	uint16_t old[K + 1], want[K], got[K];
	uint32_t i, changed = 0;
	const uint32_t keys = 20000;
	double p;
	size_t r = 6, j, m;

	(void)state;
	nodes_fill(v, N);
	for (j = 0, m = 0; j < N; j++)
		if (j != r)
			w[m++] = v[j];
	for (i = 0; i < keys; i++) {
		uint64_t h = key(i);
		uint16_t excl =
			v[i % N].id == v[r].id ? STEER_NODE_NONE : v[i % N].id;

		assert_int_equal(hrw_topk(v, N, h, excl, &secret, old, K + 1),
				 K + 1);
		for (j = 0, m = 0; j < K + 1 && m < K; j++)
			if (old[j] != v[r].id)
				want[m++] = old[j];
		assert_int_equal(hrw_topk(w, N - 1, h, excl, &secret, got, K),
				 K);
		assert_memory_equal(got, want, sizeof(got));
		changed += memcmp(old, got, sizeof(got)) != 0;
	}
	p = (N - 1.0) / N * K / (N - 1.0) + 1.0 / N * K / N;
	print_message("remove 1 of %d nodes: top-%d changed for %.4f of keys "
		      "(expected %.4f)\n",
		      N, K, (double)changed / keys, p);
	assert_true(fabs((double)changed / keys - p) <=
		    6 * sqrt(p * (1 - p) / keys));
}

/* Share of first choices per node over keys, checked against p[i]. */
static void check_first_share(const struct hrw_node *v, size_t n,
			      const double *p, uint32_t keys)
{
	uint32_t hits[N] = {0}, i;
	size_t j;

	for (i = 0; i < keys; i++) {
		uint16_t out[1];

		assert_int_equal(hrw_topk(v, n, key(i), STEER_NODE_NONE,
					  &secret, out, 1),
				 1);
		for (j = 0; j < n && v[j].id != out[0]; j++)
			;
		assert_true(j < n);
		hits[j]++;
	}
	for (j = 0; j < n; j++) {
		double got = (double)hits[j] / keys;
		double tol = 6 * sqrt(p[j] * (1 - p[j]) / keys);

		print_message("node %zu weight %u: first %.4f (expect %.4f)\n",
			      j, v[j].weight, got, p[j]);
		if (fabs(got - p[j]) > tol)
			fail_msg("node %zu: share %.5f, expected %.5f +- %.5f",
				 j, got, p[j], tol);
	}
}

static void test_spread(void **state)
{
	struct hrw_node v[N];
	double p[N];
	size_t i;

	(void)state;
	nodes_fill(v, N);
	for (i = 0; i < N; i++)
		p[i] = 1.0 / N;
	check_first_share(v, N, p, 300000);
}

/* Exponential race: node i comes first with probability w_i / W. */
static void test_weights(void **state)
{
	struct hrw_node v[5];
	double p[5];
	size_t i;

	(void)state;
	nodes_fill(v, 5);
	for (i = 0; i < 4; i++) {
		v[i].weight = (uint32_t)i + 1;
		p[i] = (i + 1) / 10.0;
	}
	v[4].weight = 0; /* drained: never chosen */
	p[4] = 0;
	check_first_share(v, 5, p, 300000);
}

static void test_counts(void **state)
{
	struct hrw_node v[3];
	uint16_t out[HRW_TOPK_MAX];

	(void)state;
	nodes_fill(v, 3);
	assert_int_equal(hrw_topk(v, 3, 1, STEER_NODE_NONE, &secret, out, 8),
			 3);
	assert_int_equal(hrw_topk(v, 3, 1, v[1].id, &secret, out, 8), 2);
	assert_int_equal(hrw_topk(v, 3, 1, STEER_NODE_NONE, &secret, out, 0),
			 0);
	assert_int_equal(hrw_topk(v, 3, 1, STEER_NODE_NONE, &secret, NULL, 0),
			 0);
	assert_int_equal(hrw_topk(NULL, 0, 1, STEER_NODE_NONE, &secret, out, 2),
			 0);
	assert_int_equal(hrw_topk(v, 1, 1, v[0].id, &secret, out, 2), 0);
	v[0].weight = v[1].weight = v[2].weight = 0;
	assert_int_equal(hrw_topk(v, 3, 1, STEER_NODE_NONE, &secret, out, 2),
			 0);
	assert_true(hrw_score(1, v[0].id, 0, &secret) == 0.0);
}

static void test_bad_input(void **state)
{
	struct hrw_node v[3];
	uint16_t out[HRW_TOPK_MAX + 1];
	uint64_t h = 42;

	(void)state;
	nodes_fill(v, 3);
	assert_int_equal(hrw_nodes_check(v, 3), 0);
	assert_int_equal(hrw_nodes_check(NULL, 0), 0);
	assert_int_equal(hrw_topk(NULL, 3, h, STEER_NODE_NONE, &secret, out, 1),
			 -EINVAL);
	assert_int_equal(hrw_topk(v, 3, h, STEER_NODE_NONE, &secret, NULL, 1),
			 -EINVAL);
	assert_int_equal(hrw_topk(v, 3, h, STEER_NODE_NONE, NULL, out, 1),
			 -EINVAL);
	assert_int_equal(hrw_topk(v, 3, h, STEER_NODE_NONE, &secret, out,
				  HRW_TOPK_MAX + 1),
			 -EINVAL);
	assert_int_equal(hrw_nodes_check(NULL, 3), -EINVAL);
	/* a duplicate would be written twice if it entered the top k */
	v[2].id = v[0].id;
	assert_int_equal(hrw_nodes_check(v, 3), -EINVAL);
	assert_int_equal(hrw_topk(v, 3, h, STEER_NODE_NONE, &secret, out, 3),
			 -EINVAL);
	v[2].id = STEER_NODE_NONE;
	assert_int_equal(hrw_nodes_check(v, 3), -EINVAL);
	assert_int_equal(hrw_topk(v, 3, h, STEER_NODE_NONE, &secret, out, 1),
			 -EINVAL);
}

/* Another secret ranks differently: about 1 - 1/N first choices differ. */
static void test_secret_matters(void **state)
{
	struct steer_hash_secret other = secret;
	struct hrw_node v[N];
	uint32_t i, diff = 0;

	(void)state;
	other.k1 ^= 1;
	nodes_fill(v, N);
	for (i = 0; i < 2000; i++) {
		uint16_t a[1], b[1];

		hrw_topk(v, N, key(i), STEER_NODE_NONE, &secret, a, 1);
		hrw_topk(v, N, key(i), STEER_NODE_NONE, &other, b, 1);
		diff += a[0] != b[0];
	}
	assert_true(diff > 2000 / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topk_brute),
		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_remove_minimal),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_secret_matters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
