// SPDX-License-Identifier: GPL-2.0-only
/*
 * Maglev table: balance, weights, disruption, determinism, bad input.
 * Flow hashes are keyed SipHash outputs of a counter (fixed secret: runs
 * repeat exactly). A flow lands on node i with probability p_i =
 * entries_i / M; over n flows its share has standard deviation
 * sqrt(p_i (1 - p_i) / n). Shares are checked within 6 standard deviations:
 * a correct table fails one of the ~100 such checks of this file with
 * probability below 100 * 2e-9; a wrong lookup fails them at once.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/maglev.h"

#define M MAGLEV_SIZE_DEFAULT
#define MAX_NODES 64
#define BALANCE_FLOWS 1000000u
#define DISRUPT_FLOWS 200000u

static const struct steer_hash_secret tbl_secret = {0x0706050403020100ull,
						    0x0f0e0d0c0b0a0908ull};
static const struct steer_hash_secret flow_secret = {0x1111222233334444ull,
						     0x5555666677778888ull};
static const struct steer_hash_secret other_secret = {0x0706050403020101ull,
						      0x0f0e0d0c0b0a0908ull};

struct fixture {
	struct maglev *a;     /* M entries */
	struct maglev *b;     /* M entries, same secret */
	struct maglev *other; /* M entries, another secret */
	struct maglev *small; /* 7 entries */
	uint16_t saved[M];
	struct maglev_node nodes[MAX_NODES + 1];
};

static int teardown(void **state)
{
	struct fixture *f = *state;

	maglev_free(f->a);
	maglev_free(f->b);
	maglev_free(f->other);
	maglev_free(f->small);
	free(f);
	return 0;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	*state = f;
	f->a = maglev_new(M, &tbl_secret);
	f->b = maglev_new(M, &tbl_secret);
	f->other = maglev_new(M, &other_secret);
	f->small = maglev_new(7, &tbl_secret);
	if (!f->a || !f->b || !f->other || !f->small) {
		teardown(state);
		return -1;
	}
	return 0;
}

static uint64_t flow(uint32_t i)
{
	return steer_hash_u64(i, &flow_secret);
}

/* Ids spread over the 16-bit space, not 0..n-1, weight w each. */
static void nodes_fill(struct maglev_node *v, size_t n, uint32_t w)
{
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].id = (uint16_t)(1000 + 37 * i);
		v[i].weight = w;
	}
}

/* Entries counted in the raw table must match what maglev_entries says. */
static void assert_entries_match_table(const struct maglev *m,
				       const struct maglev_node *v, size_t n)
{
	uint32_t size, j, total = 0;
	const uint16_t *t = maglev_table(m, &size);
	size_t i;

	assert_int_equal(size, m->size);
	for (i = 0; i < n; i++) {
		uint32_t cnt = 0;

		for (j = 0; j < size; j++)
			cnt += t[j] == v[i].id;
		assert_int_equal(cnt, maglev_entries(m, v[i].id));
		total += cnt;
	}
	assert_int_equal(total, size);
}

static void check_balance(struct fixture *f, size_t n)
{
	uint32_t hits[MAX_NODES] = {0};
	uint32_t lo = M / n, hi = (M + n - 1) / n, k;
	double min_share = 1, max_share = 0;
	size_t i;

	nodes_fill(f->nodes, n, 3);
	assert_int_equal(maglev_build(f->a, f->nodes, n), 0);
	assert_entries_match_table(f->a, f->nodes, n);
	for (k = 0; k < BALANCE_FLOWS; k++) {
		uint16_t id = maglev_lookup(f->a, flow(k));

		assert_true(id >= 1000 && (id - 1000) % 37 == 0);
		hits[(id - 1000) / 37]++;
	}
	for (i = 0; i < n; i++) {
		uint32_t e = maglev_entries(f->a, f->nodes[i].id);
		double p = (double)e / M;
		double got = (double)hits[i] / BALANCE_FLOWS;
		double tol = 6 * sqrt(p * (1 - p) / BALANCE_FLOWS);

		/* equal weights: round-robin turns give floor or ceil */
		assert_true(e == lo || e == hi);
		if (fabs(got - p) > tol)
			fail_msg("N=%zu node %zu: flow share %.5f, table %.5f",
				 n, i, got, p);
		min_share = fmin(min_share, got);
		max_share = fmax(max_share, got);
	}
	print_message("balance N=%zu: entries %u..%u, flow share %.5f..%.5f "
		      "(ideal %.5f, max/min %.4f)\n",
		      n, lo, hi, min_share, max_share, 1.0 / n,
		      max_share / min_share);
}

static void test_balance(void **state)
{
	static const size_t ns[] = {3, 4, 10, 16, 50};
	size_t i;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		check_balance(*state, ns[i]);
}

/*
 * Stride scheduling gives node i M * w_i / W entries give or take
 * max(1, n * w_i / W) (maglev.c): for 1:2:3:4 that is at most 2 entries of
 * 6554 or more, far inside the required 1 %.
 */
static void check_weighted(struct fixture *f, const uint32_t *w, size_t n)
{
	double total = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		f->nodes[i].id = (uint16_t)(i + 1);
		f->nodes[i].weight = w[i];
		total += w[i];
	}
	assert_int_equal(maglev_build(f->a, f->nodes, n), 0);
	assert_entries_match_table(f->a, f->nodes, n);
	for (i = 0; i < n; i++) {
		double want = M * w[i] / total;
		double e = maglev_entries(f->a, f->nodes[i].id);
		double bound = fmax(1.0, n * w[i] / total);

		print_message("weight %u: %.0f entries, ideal %.1f (%+.3f%%)\n",
			      w[i], e, want, 100 * (e - want) / want);
		assert_true(fabs(e - want) <= bound + 1e-9);
		assert_true(fabs(e - want) <= 0.01 * want);
	}
}

/* Only weight ratios matter: 1:2:3:4 and 5:10:15:20 build one table. */
static void test_weighted(void **state)
{
	static const uint32_t w1[] = {1, 2, 3, 4};
	static const uint32_t w2[] = {100, 7, 13, 1, 250, 40};
	struct fixture *f = *state;
	size_t i;

	check_weighted(f, w1, 4);
	for (i = 0; i < 4; i++)
		f->nodes[i].weight *= 5;
	assert_int_equal(maglev_build(f->b, f->nodes, 4), 0);
	assert_memory_equal(f->a->table, f->b->table, M * sizeof(uint16_t));
	check_weighted(f, w2, 6);
}

/*
 * Flows of a table a that land elsewhere in b. gone is a node of a missing
 * from b (or STEER_NODE_NONE); fresh a node of b missing from a.
 */
static void check_disruption(struct fixture *f, size_t n, uint16_t gone,
			     uint16_t fresh)
{
	uint32_t k, moved = 0, of_gone = 0, to_fresh = 0, churn = 0;
	size_t n_after = gone != STEER_NODE_NONE ? n - 1 : n + 1;
	double ideal = 1.0 / (gone != STEER_NODE_NONE ? n : n_after);
	double share;

	for (k = 0; k < DISRUPT_FLOWS; k++) {
		uint64_t h = flow(k);
		uint16_t x = maglev_lookup(f->a, h), y = maglev_lookup(f->b, h);

		assert_int_not_equal(y, gone);
		assert_int_not_equal(x, fresh);
		if (x == gone)
			of_gone++;
		else if (y == fresh)
			to_fresh++;
		else if (x != y)
			churn++; /* between two nodes present in both */
		moved += x != y;
	}
	share = (double)moved / DISRUPT_FLOWS;
	print_message("%s 1 of %zu nodes: %.4f of flows moved (ideal %.4f), "
		      "%.4f between surviving nodes\n",
		      gone != STEER_NODE_NONE ? "remove" : "add",
		      gone != STEER_NODE_NONE ? n : n_after, share, ideal,
		      (double)churn / DISRUPT_FLOWS);
	/* every flow of the removed node and to the new node had to move */
	assert_int_equal(moved, of_gone + to_fresh + churn);
	assert_true(share >= ideal - 6 * sqrt(ideal / DISRUPT_FLOWS));
	/* the Maglev paper measures a few % of extra churn at M >> 100 N */
	assert_true(share <= ideal + 0.03);
	assert_true((double)churn / DISRUPT_FLOWS <= 0.03);
}

/* Remove one of N nodes, or add one to N - 1 (N = 4, 10, 16, 50). */
static void test_disruption(void **state)
{
	static const size_t ns[] = {4, 10, 16, 50};
	struct fixture *f = *state;
	struct maglev_node gone;
	size_t i, n;

	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		n = ns[i];
		nodes_fill(f->nodes, n, 1);
		assert_int_equal(maglev_build(f->a, f->nodes, n), 0);
		gone = f->nodes[n / 2];
		f->nodes[n / 2] = f->nodes[n - 1];
		assert_int_equal(maglev_build(f->b, f->nodes, n - 1), 0);
		check_disruption(f, n, gone.id, STEER_NODE_NONE);
		/* now a holds N - 1 nodes, b those and a new one */
		assert_int_equal(maglev_build(f->a, f->nodes, n - 1), 0);
		f->nodes[n - 1] = (struct maglev_node){60000, 1};
		assert_int_equal(maglev_build(f->b, f->nodes, n), 0);
		check_disruption(f, n - 1, STEER_NODE_NONE, 60000);
	}
}

/*
 * The table depends on the node set, not on the order it is given in; with
 * another secret come other permutations: about 1 - 1/N of entries differ.
 */
static void test_determinism(void **state)
{
	struct fixture *f = *state;
	struct maglev_node rev[10];
	uint32_t j, diff = 0;

	nodes_fill(f->nodes, 10, 1);
	f->nodes[3].weight = 4;
	for (j = 0; j < 10; j++)
		rev[j] = f->nodes[9 - j];
	assert_int_equal(maglev_build(f->a, f->nodes, 10), 0);
	assert_int_equal(maglev_build(f->b, rev, 10), 0);
	assert_memory_equal(f->a->table, f->b->table, M * sizeof(uint16_t));
	assert_int_equal(maglev_build(f->other, f->nodes, 10), 0);
	for (j = 0; j < M; j++)
		diff += f->a->table[j] != f->other->table[j];
	print_message("another secret: %.4f of entries differ\n",
		      (double)diff / M);
	assert_true(diff > M / 2);
}

static void assert_empty(const struct maglev *m)
{
	static const uint64_t hs[] = {0, 1, 0x8000000000000000ull, ~0ull};
	size_t i;

	for (i = 0; i < sizeof(hs) / sizeof(hs[0]); i++)
		assert_int_equal(maglev_lookup(m, hs[i]), STEER_NODE_NONE);
	assert_int_equal(maglev_shares(m, NULL, 0), 0);
	assert_int_equal(maglev_entries(m, 1000), 0);
}

static void test_empty(void **state)
{
	struct fixture *f = *state;
	struct maglev_share sh[4];

	assert_empty(f->a); /* new */
	nodes_fill(f->nodes, 3, 0);
	assert_int_equal(maglev_build(f->a, f->nodes, 3), 0);
	assert_empty(f->a); /* all drained */
	/* a drained node holds nothing; rebuilding with none empties again */
	f->nodes[1].weight = 2;
	assert_int_equal(maglev_build(f->a, f->nodes, 3), 0);
	assert_int_equal(maglev_shares(f->a, sh, 4), 1);
	assert_int_equal(sh[0].id, f->nodes[1].id);
	assert_int_equal(sh[0].entries, M);
	assert_int_equal(maglev_lookup(f->a, 12345), f->nodes[1].id);
	assert_int_equal(maglev_build(f->a, NULL, 0), 0);
	assert_empty(f->a);
}

static void test_bad_size(void **state)
{
	static const uint32_t bad[] = {
		0, 1, 4, 9, 65535, 65536, 16777259 /* prime > max */};
	static const uint32_t good[] = {2, 3, 251, 1009, 65537, 655373};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(maglev_new(bad[i], &tbl_secret));
		assert_int_equal(errno, EINVAL);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct maglev *m = maglev_new(good[i], &tbl_secret);
		int ok = m && m->size == good[i];

		maglev_free(m);
		assert_true(ok);
	}
	errno = 0;
	assert_null(maglev_new(M, NULL));
	assert_int_equal(errno, EINVAL);
	assert_false(maglev_is_prime(65535));
	assert_true(maglev_is_prime(4294967291u)); /* largest 32-bit prime */
}

/* A failed build leaves the previous table and shares untouched. */
static void test_bad_nodes(void **state)
{
	struct fixture *f = *state;
	struct maglev_node v[3] = {{5, 1}, {9, 1}, {5, 0}};

	nodes_fill(f->nodes, 4, 1);
	assert_int_equal(maglev_build(f->a, f->nodes, 4), 0);
	memcpy(f->saved, f->a->table, M * sizeof(uint16_t));
	assert_int_equal(maglev_build(f->a, v, 3), -EINVAL); /* duplicate */
	v[2].id = STEER_NODE_NONE;
	assert_int_equal(maglev_build(f->a, v, 3), -EINVAL); /* reserved */
	assert_int_equal(maglev_build(f->a, NULL, 3), -EINVAL);
	assert_int_equal(maglev_build(NULL, v, 2), -EINVAL);
	assert_memory_equal(f->saved, f->a->table, M * sizeof(uint16_t));
	assert_int_equal(maglev_shares(f->a, NULL, 0), 4);
}

/* Tiny tables: n = M gives one entry each, n > M is refused; slots < M. */
static void test_small_table(void **state)
{
	struct fixture *f = *state;
	struct maglev *m = f->small;
	uint32_t size;
	size_t i;

	nodes_fill(f->nodes, 8, 1);
	assert_int_equal(maglev_build(m, f->nodes, 8), -E2BIG);
	assert_int_equal(maglev_build(m, f->nodes, 7), 0);
	for (i = 0; i < 7; i++)
		assert_int_equal(maglev_entries(m, f->nodes[i].id), 1);
	assert_true(maglev_table(m, &size) == m->table && size == 7);
	assert_int_equal(maglev_slot(0, M), 0);
	assert_int_equal(maglev_slot(~0ull, M), M - 1);
	assert_int_equal(maglev_slot(~0ull, 2), 1);
	assert_int_equal(maglev_slot(0x8000000000000000ull, 2), 1);
	assert_int_equal(maglev_slot(0x7fffffffffffffffull, 2), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_balance),     T(test_weighted),	  T(test_disruption),
		T(test_determinism), T(test_empty),	  T(test_bad_size),
		T(test_bad_nodes),   T(test_small_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
