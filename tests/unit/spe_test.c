// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state prediction engine's flow model: the prior before anything is
 * learnt, services told apart, the answer conditioned on a flow's age
 * and bytes, the pooled model behind a service that knows too little,
 * decay towards a changed workload, the bucket arithmetic to the last
 * digit, and bad input refused.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "predict/spe.h"

static struct spe *spe_make(uint32_t horizon, uint32_t min_flows,
			    uint32_t half_life)
{
	struct spe_cfg c;
	struct spe *s;

	spe_cfg_default(&c);
	c.horizon_ms = horizon;
	c.min_flows = min_flows;
	c.min_support = 5;
	c.half_life = half_life;
	s = spe_new(&c);
	assert_non_null(s);
	return s;
}

static void ask(const struct spe *s, uint16_t svc, uint32_t age, uint64_t b,
		struct spe_pred *p)
{
	struct spe_flow f = {.service = svc, .age_ms = age, .bytes = b};

	spe_predict(s, &f, p);
}

static void test_prior_first(void **state)
{
	struct spe *s = spe_make(1000, 10, 0);
	struct spe_pred p;

	(void)state;
	ask(s, 3, 0, 0, &p);
	assert_int_equal(p.source, SPE_SRC_PRIOR);
	assert_true(p.p_long == 1);
	assert_string_equal(spe_source_name(p.source), "prior");
	spe_free(s);
}

/* Service 1's flows live 10 ms, service 2's 10 s: each is told apart. */
static void test_services_apart(void **state)
{
	struct spe *s = spe_make(1000, 50, 0);
	struct spe_pred p;
	uint32_t i;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(spe_learn(s, 1, 10, 5000), 0);
		assert_int_equal(spe_learn(s, 2, 10000, 5000000), 0);
	}
	ask(s, 1, 0, 0, &p);
	assert_int_equal(p.source, SPE_SRC_SERVICE);
	assert_true(p.p_long < 1e-9);
	assert_true(p.remaining_ms > 8 && p.remaining_ms < 16);
	ask(s, 2, 0, 0, &p);
	assert_true(p.p_long > 0.999);
	assert_true(p.remaining_ms > 8192 && p.remaining_ms < 16384);
	assert_true(p.remaining_bytes > 4194304 && p.remaining_bytes < 8388608);
	assert_true(p.support > 199 && p.support < 201);
	assert_int_equal(spe_learnt(s), 400);
	spe_free(s);
}

/* 90% of flows live 5 ms carrying 2 kB, 10% 20 s carrying 8 MB. A new
 * flow is probably short, one that lived 100 ms before its first byte
 * certainly long. Once it moves data its bytes and rate decide: 400 kB
 * in a second (only the big ones get there) leaves 5.7 MB at 400 B/ms,
 * 14 s; 7.9 MB in a second leaves less than a second; 1 kB in 1 ms is
 * as likely one as the other. */
static void test_age_and_bytes(void **state)
{
	struct spe *s = spe_make(1000, 50, 0);
	struct spe_pred p;
	uint32_t i;

	(void)state;
	for (i = 0; i < 1000; i++)
		spe_learn(s, 7, i % 10 ? 5 : 20000, i % 10 ? 2000 : 8000000);
	ask(s, 7, 0, 0, &p);
	assert_true(fabs(p.p_long - 0.1) < 1e-9);
	ask(s, 7, 100, 0, &p);
	assert_true(p.p_long > 0.999);
	ask(s, 7, 1000, 400000, &p);
	assert_true(p.p_long > 0.999);
	assert_true(fabs(p.remaining_bytes - (4194304 / log(2) - 400000)) <
		    1e-3);
	assert_true(fabs(p.remaining_ms - p.remaining_bytes / 400) < 1e-6);
	ask(s, 7, 1000, 7900000, &p);
	assert_int_equal(p.source, SPE_SRC_SERVICE);
	assert_true(p.p_long < 1e-9);
	ask(s, 7, 1, 1000, &p);
	assert_true(fabs(p.p_long - 0.1) < 1e-9);
	spe_free(s);
}

/* A service with too few flows borrows every service's model. */
static void test_pooled_fallback(void **state)
{
	struct spe *s = spe_make(1000, 100, 0);
	struct spe_pred p;
	uint32_t i;

	(void)state;
	for (i = 0; i < 150; i++)
		spe_learn(s, 4, 50000, 100000);
	for (i = 0; i < 10; i++)
		spe_learn(s, 5, 1, 100);
	ask(s, 5, 0, 0, &p);
	assert_int_equal(p.source, SPE_SRC_POOLED);
	assert_true(fabs(p.p_long - 150.0 / 160.0) < 1e-9);
	/* Nothing like a 2-hour-old flow was seen: the prior. */
	ask(s, 5, 7200000, 0, &p);
	assert_int_equal(p.source, SPE_SRC_PRIOR);
	spe_free(s);
}

/* Half weight every 100 flows: after 100 short and 300 long flows the
 * short ones weigh 1/8 of what they did, and the answer follows. */
static void test_decay(void **state)
{
	struct spe *s = spe_make(1000, 50, 100);
	struct spe_pred p;
	uint32_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		spe_learn(s, 9, 3, 100);
	ask(s, 9, 0, 0, &p);
	assert_true(p.p_long < 1e-9);
	for (i = 0; i < 300; i++)
		spe_learn(s, 9, 30000, 100000);
	ask(s, 9, 0, 0, &p);
	/* Four halvings, after flows 100, 200, 300 and 400: the short
	 * ones weigh 100/16 = 6.25, the long ones 25 + 50 + 12.5 = 87.5. */
	assert_true(fabs(p.p_long - 87.5 / 93.75) < 1e-9);
	assert_true(fabs(spe_service_weight(s, 9) - 93.75) < 1e-9);
	spe_free(s);
}

/* Inside a bucket mass lies evenly in log2: of lifetimes in [2048, 4096)
 * the share above 3000 ms is 1 - (log2 3000 - 11). */
static void test_bucket_arithmetic(void **state)
{
	struct spe *s = spe_make(3000, 10, 0);
	struct spe_pred p;
	uint32_t i;

	(void)state;
	for (i = 0; i < 100; i++)
		spe_learn(s, 0, 3000, 1);
	ask(s, 0, 0, 0, &p);
	assert_true(fabs(p.p_long - (1 - (log2(3000) - 11))) < 1e-12);
	assert_true(fabs(p.remaining_ms - 2048 / log(2)) < 1e-9);
	spe_free(s);
}

/* Self-calibration: flows of 1.5 s, asked about at 1 s, are short
 * (1.5 < 1 + 1): the raw share of the bucket above 2 s (0.034) gives way
 * to what the 90 flows learnt after the model first answered did, none
 * long, with the raw share as one more outcome. */
static void test_self_calibration(void **state)
{
	struct spe_cfg c;
	struct spe_pred p;
	struct spe *s;
	uint32_t i;

	(void)state;
	spe_cfg_default(&c);
	c.min_flows = 10;
	c.min_support = 5;
	c.self_calibrate = 1;
	s = spe_new(&c);
	assert_non_null(s);
	for (i = 0; i < 100; i++)
		spe_learn(s, 2, 1500, 30000);
	ask(s, 2, 1000, 0, &p);
	assert_true(fabs(p.p_raw - (1 - (log2(2000) - 10))) < 1e-12);
	assert_true(fabs(p.p_long - p.p_raw / 91) < 1e-12);
	/* Tokens round-trip: one outcome more in that bin. */
	spe_outcome(s, p.token, 1);
	ask(s, 2, 1000, 0, &p);
	assert_true(fabs(p.p_long - (1 + p.p_raw) / 92) < 1e-12);
	spe_outcome(s, SPE_TOKEN_NONE, 1); /* ignored */
	spe_free(s);
}

static void test_bad_input(void **state)
{
	struct spe_cfg c;
	struct spe *s = spe_make(1000, 10, 0);
	struct spe_pred p;

	(void)state;
	assert_int_equal(spe_learn(s, SPE_SERVICES_MAX, 1, 1), -EINVAL);
	ask(s, SPE_SERVICES_MAX + 5, 0, 0, &p); /* the pooled model: none */
	assert_int_equal(p.source, SPE_SRC_PRIOR);
	spe_free(s);
	spe_cfg_default(&c);
	c.horizon_ms = 0;
	errno = 0;
	assert_null(spe_new(&c));
	assert_int_equal(errno, EINVAL);
	spe_cfg_default(&c);
	c.min_support = NAN;
	assert_null(spe_new(&c));
	assert_null(spe_new(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prior_first),
		cmocka_unit_test(test_services_apart),
		cmocka_unit_test(test_age_and_bytes),
		cmocka_unit_test(test_pooled_fallback),
		cmocka_unit_test(test_decay),
		cmocka_unit_test(test_bucket_arithmetic),
		cmocka_unit_test(test_self_calibration),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
