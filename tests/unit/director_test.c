// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mirroring director: profiles from the shard's ranked cells and a
 * predictor's replication factor, bounded by the live cells and by the
 * rule's three copies, the shard's first mirror always first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cell/director.h"

static uint8_t fixed_rf(void *ctx, const struct director_flow *f)
{
	(void)f;
	return *(uint8_t *)ctx;
}

static void profile(const struct director_predictor *p, const uint16_t *ranked,
		    uint32_t n, uint8_t rf_config, uint16_t *primary,
		    uint16_t *mirror, uint8_t *rf)
{
	struct flow_key k = {.proto = 6};
	struct director_flow f = {.key = &k,
				  .service = 0,
				  .rf_config = rf_config,
				  .ranked = ranked,
				  .n_ranked = n};

	director_profile(p, &f, primary, mirror, rf);
}

static void test_config(void **state)
{
	static const uint16_t ranked[3] = {4, 7, 2};
	uint16_t primary, mirror[STEER_MAX_MIRRORS];
	uint8_t rf;

	(void)state;
	profile(NULL, ranked, 3, 2, &primary, mirror, &rf);
	assert_int_equal(primary, 4);
	assert_int_equal(rf, 2);
	assert_int_equal(mirror[0], 7);
	assert_int_equal(mirror[1], STEER_NODE_NONE);
	profile(&director_config, ranked, 3, 3, &primary, mirror, &rf);
	assert_int_equal(rf, 3);
	assert_int_equal(mirror[0], 7);
	assert_int_equal(mirror[1], 2);
	profile(NULL, ranked, 3, 1, &primary, mirror, &rf);
	assert_int_equal(rf, 1);
	assert_int_equal(mirror[0], STEER_NODE_NONE);
}

/* Fewer live cells than copies asked: as many as there are. */
static void test_few_cells(void **state)
{
	static const uint16_t two[3] = {4, 7, STEER_NODE_NONE};
	static const uint16_t one[1] = {4};
	uint16_t primary, mirror[STEER_MAX_MIRRORS];
	uint8_t rf;

	(void)state;
	profile(NULL, two, 3, 3, &primary, mirror, &rf);
	assert_int_equal(rf, 2);
	assert_int_equal(mirror[0], 7);
	assert_int_equal(mirror[1], STEER_NODE_NONE);
	profile(NULL, one, 1, 3, &primary, mirror, &rf);
	assert_int_equal(primary, 4);
	assert_int_equal(rf, 1);
	profile(NULL, one, 0, 2, &primary, mirror, &rf);
	assert_int_equal(primary, STEER_NODE_NONE);
	assert_int_equal(rf, 1);
}

/* A predictor's answer is bounded: 0 is one copy, 9 is three. */
static void test_predictor_bounded(void **state)
{
	static const uint16_t ranked[3] = {4, 7, 2};
	uint8_t want = 0;
	const struct director_predictor p = {
		.name = "fixed", .choose = fixed_rf, .ctx = &want};
	uint16_t primary, mirror[STEER_MAX_MIRRORS];
	uint8_t rf;

	(void)state;
	profile(&p, ranked, 3, 2, &primary, mirror, &rf);
	assert_int_equal(rf, 1);
	assert_int_equal(mirror[0], STEER_NODE_NONE);
	want = 9;
	profile(&p, ranked, 3, 1, &primary, mirror, &rf);
	assert_int_equal(rf, 3);
	assert_int_equal(mirror[0], 7);
	assert_int_equal(mirror[1], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_few_cells),
		cmocka_unit_test(test_predictor_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
