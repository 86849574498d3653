// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cell's learned predictor: the configuration's replication under
 * the fixed policy; under predicted, the prior mirrors what nothing is
 * known of, a service learnt short gets one copy, a flow of one copy is
 * raised once it outlives what was learnt (asked at power-of-two
 * seconds of age only) or at once when its backend is not the pick; a
 * cell the others suspected mirrors everything for a while.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cell/predictor.h"

static uint8_t choose(struct cell_predictor *p, uint16_t svc, uint8_t rf)
{
	static const uint16_t ranked[3] = {1, 2, 3};
	struct flow_key k = {.proto = 6};
	struct director_flow f = {.key = &k,
				  .service = svc,
				  .rf_config = rf,
				  .ranked = ranked,
				  .n_ranked = 3};

	return p->dp.choose(p->dp.ctx, &f);
}

static struct flowtab_rec rec(uint16_t svc, uint32_t created, uint32_t last,
			      uint8_t rf)
{
	struct flowtab_rec r;

	memset(&r, 0, sizeof(r));
	r.service = svc;
	r.created_ms = created;
	r.last_ms = last;
	r.rf = rf;
	r.bytes = 1000;
	return r;
}

/* 300 flows of service 3 that ended within 5 ms. */
static void learn_short(struct cell_predictor *p)
{
	struct flowtab_rec r;
	uint32_t i;

	for (i = 0; i < 300; i++) {
		r = rec(3, 100000 + i, 100005 + i, 2);
		cell_predictor_end(p, &r);
	}
}

static void test_fixed(void **state)
{
	struct cluster cl = {.repl_policy = CLUSTER_REPL_FIXED,
			     .repl_threshold = 50,
			     .repl_horizon_s = 10};
	struct cell_predictor p;
	struct flowtab_rec r = rec(1, 0, 0, 1);

	(void)state;
	assert_int_equal(cell_predictor_init(&p, &cl), 0);
	assert_int_equal(choose(&p, 1, 2), 2);
	assert_int_equal(cell_predictor_raise(&p, &r, 2, false, 4000), CP_KEEP);
	assert_int_equal(p.single + p.mirrored, 0);
	cell_predictor_free(&p);
}

static void test_predicted(void **state)
{
	struct cluster cl = {.repl_policy = CLUSTER_REPL_PREDICTED,
			     .repl_threshold = 50,
			     .repl_horizon_s = 10};
	struct cell_predictor p;
	struct flowtab_rec r;

	(void)state;
	assert_int_equal(cell_predictor_init(&p, &cl), 0);
	/* Nothing learnt: the prior, every flow mirrored. */
	assert_int_equal(choose(&p, 3, 2), 2);
	assert_int_equal(p.mirrored, 1);
	/* Service 3's flows end within 5 ms. */
	learn_short(&p);
	assert_int_equal(p.learnt, 300);
	assert_int_equal(choose(&p, 3, 2), 1);
	assert_int_equal(p.single, 1);
	/* A service of replication 1 is left alone. */
	assert_int_equal(choose(&p, 3, 1), 1);
	assert_int_equal(p.single, 1);
	/* Policy back to fixed by a reload. */
	cl.repl_policy = CLUSTER_REPL_FIXED;
	cell_predictor_world(&p, &cl);
	assert_int_equal(choose(&p, 3, 2), 2);
	cl.repl_policy = CLUSTER_REPL_PREDICTED;

	/* A one-copy flow 1.5 s old outlived everything learnt: the prior
	 * says long, raised. At 3.5 s (not a power of two) not asked. */
	r = rec(3, 10000, 10000, 1);
	assert_int_equal(cell_predictor_raise(&p, &r, 2, true, 11500),
			 CP_LIVED_ON);
	assert_int_equal(cell_predictor_raise(&p, &r, 2, true, 13500), CP_KEEP);
	/* Young: not asked before 1 s. Not the pick: raised at once. */
	assert_int_equal(cell_predictor_raise(&p, &r, 2, true, 10400), CP_KEEP);
	assert_int_equal(cell_predictor_raise(&p, &r, 2, false, 10400),
			 CP_REDERIVE);
	/* Two copies already, or a service of one: nothing to raise. */
	r.rf = 2;
	assert_int_equal(cell_predictor_raise(&p, &r, 2, false, 11500),
			 CP_KEEP);
	r.rf = 1;
	assert_int_equal(cell_predictor_raise(&p, &r, 1, false, 11500),
			 CP_KEEP);
	cell_predictor_free(&p);
}

/* A cell the others suspected is at risk for 10 minutes: new flows get
 * their service's replication, flows of one copy are raised; the first
 * suspicion says so once, and the risk ends. */
static void test_at_risk(void **state)
{
	struct cluster cl = {.repl_policy = CLUSTER_REPL_PREDICTED,
			     .repl_threshold = 50,
			     .repl_horizon_s = 10};
	struct cell_predictor p;
	struct flowtab_rec r;

	(void)state;
	assert_int_equal(cell_predictor_init(&p, &cl), 0);
	learn_short(&p);
	assert_false(cell_predictor_health(&p, 0, 1000));
	assert_int_equal(choose(&p, 3, 2), 1);
	r = rec(3, 10000, 10000, 1);
	assert_int_equal(cell_predictor_raise(&p, &r, 2, true, 13500), CP_KEEP);
	/* Suspected: refuted once. */
	assert_true(cell_predictor_health(&p, 1, 2000));
	assert_true(cell_predictor_at_risk(&p));
	assert_false(cell_predictor_health(&p, 1, 3000));
	assert_int_equal(choose(&p, 3, 2), 2);
	assert_int_equal(cell_predictor_raise(&p, &r, 2, true, 13500),
			 CP_AT_RISK);
	assert_int_equal(p.risks, 1);
	/* Ten minutes without another suspicion: healthy again. */
	assert_false(
		cell_predictor_health(&p, 1, 2000 + CELL_PREDICTOR_RISK_MS));
	assert_false(cell_predictor_at_risk(&p));
	assert_int_equal(choose(&p, 3, 2), 1);
	cell_predictor_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed),
		cmocka_unit_test(test_predicted),
		cmocka_unit_test(test_at_risk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
