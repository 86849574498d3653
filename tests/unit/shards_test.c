// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shard map: every shard gets a live primary and distinct mirrors,
 * primaries spread evenly, and when a cell leaves only its shards move,
 * each to the mirror that held its state.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cell/shards.h"

static const struct steer_hash_secret secret = {0x0123456789abcdefull,
						0xfedcba9876543210ull};

static int sm_setup(void **state)
{
	*state = calloc(2, sizeof(struct shard_map));
	return *state ? 0 : -1;
}

static int sm_teardown(void **state)
{
	free(*state);
	return 0;
}

static int in(const uint16_t *ids, size_t n, uint16_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static void test_every_shard_placed(void **state)
{
	static const uint16_t ids[] = {3, 7, 11, 20, 31};
	struct shard_map *m = *state;
	uint32_t s;

	assert_int_equal(shard_map_build(m, ids, 5, 3, &secret), 0);
	for (s = 0; s < STEER_SHARDS; s++) {
		const uint16_t *c = m->cell[s];

		assert_true(in(ids, 5, c[0]));
		assert_true(in(ids, 5, c[1]));
		assert_true(in(ids, 5, c[2]));
		assert_int_not_equal(c[0], c[1]);
		assert_int_not_equal(c[0], c[2]);
		assert_int_not_equal(c[1], c[2]);
	}
}

/* Each of 16 cells is primary (and mirror) of 4096/16 = 256 shards,
 * within 25% (4 standard deviations of a fair draw). */
static void test_balance(void **state)
{
	uint16_t ids[16];
	struct shard_map *m = *state;
	uint32_t i, want = STEER_SHARDS / 16, got, total = 0;

	for (i = 0; i < 16; i++)
		ids[i] = (uint16_t)(100 + i);
	assert_int_equal(shard_map_build(m, ids, 16, 2, &secret), 0);
	for (i = 0; i < 16; i++) {
		got = shard_map_count(m, ids[i], 0);
		total += got;
		assert_true(got > want * 75 / 100 && got < want * 125 / 100);
		got = shard_map_count(m, ids[i], 1);
		assert_true(got > want * 75 / 100 && got < want * 125 / 100);
	}
	assert_int_equal(total, STEER_SHARDS);
}

/* A cell leaves: its shards go to their first mirror, nothing else moves. */
static void test_failover_to_mirror(void **state)
{
	static const uint16_t before[] = {1, 2, 3, 4};
	static const uint16_t after[] = {1, 2, 4};
	struct shard_map *a = *state, *b = a + 1;
	uint32_t s, moved = 0;

	assert_int_equal(shard_map_build(a, before, 4, 2, &secret), 0);
	assert_int_equal(shard_map_build(b, after, 3, 2, &secret), 0);
	for (s = 0; s < STEER_SHARDS; s++) {
		if (a->cell[s][0] == 3) {
			assert_int_equal(b->cell[s][0], a->cell[s][1]);
			moved++;
		} else {
			assert_int_equal(b->cell[s][0], a->cell[s][0]);
		}
	}
	assert_int_equal(moved, shard_map_count(a, 3, 0));
	assert_true(moved > 0);
}

/* rf 1 still names a second cell: the fast path's fallback. */
static void test_rf1_has_fallback(void **state)
{
	static const uint16_t ids[] = {1, 2, 3};
	struct shard_map *m = *state;
	struct steer_shard prim[STEER_SHARDS];
	uint32_t s;

	assert_int_equal(shard_map_build(m, ids, 3, 1, &secret), 0);
	shard_map_primaries(m, prim);
	for (s = 0; s < STEER_SHARDS; s++) {
		assert_int_not_equal(prim[s].cell[1], STEER_NODE_NONE);
		assert_int_not_equal(prim[s].cell[1], prim[s].cell[0]);
	}
	assert_int_equal(shard_map_count(m, 1, 1), 0); /* no mirrors */
}

/* Fewer cells than copies: the rest of the slots stay empty. */
static void test_fewer_cells_than_rf(void **state)
{
	static const uint16_t one[] = {9};
	struct shard_map *m = *state;
	struct steer_shard prim[STEER_SHARDS];

	assert_int_equal(shard_map_build(m, one, 1, 3, &secret), 0);
	assert_int_equal(m->cell[17][0], 9);
	assert_int_equal(m->cell[17][1], STEER_NODE_NONE);
	assert_int_equal(shard_map_build(m, NULL, 0, 2, &secret), 0);
	shard_map_primaries(m, prim);
	assert_int_equal(prim[0].cell[0], STEER_NODE_NONE);
	assert_int_equal(prim[STEER_SHARDS - 1].cell[1], STEER_NODE_NONE);
}

static void test_bad_input(void **state)
{
	static const uint16_t dup[] = {5, 5};
	static const uint16_t none[] = {STEER_NODE_NONE};
	struct shard_map *m = *state;

	assert_int_equal(shard_map_build(m, dup, 2, 2, &secret), -EINVAL);
	assert_int_equal(shard_map_build(m, none, 1, 2, &secret), -EINVAL);
	assert_int_equal(shard_map_build(m, dup, 1, 0, &secret), -EINVAL);
	assert_int_equal(shard_map_build(m, dup, 1, 4, &secret), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_shard_placed,
						sm_setup, sm_teardown),
		cmocka_unit_test_setup_teardown(test_balance, sm_setup,
						sm_teardown),
		cmocka_unit_test_setup_teardown(test_failover_to_mirror,
						sm_setup, sm_teardown),
		cmocka_unit_test_setup_teardown(test_rf1_has_fallback, sm_setup,
						sm_teardown),
		cmocka_unit_test_setup_teardown(test_fewer_cells_than_rf,
						sm_setup, sm_teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, sm_setup,
						sm_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
