// SPDX-License-Identifier: GPL-2.0-only
/*
 * Migration scores (predict/migrate.c): a quiet node scores its sessions
 * low, a forecast past the high-water mark or a drain high, and each
 * input moves the score the way it should; the target is the live,
 * undrained, forecast node with the most headroom, never this one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "predict/migrate.h"

static const struct migrate_session flat = {.rtt_trend_us_s = 0, .share = 0.01};

static double score_of(const struct migrate_node *n,
		       const struct migrate_session *s,
		       enum migrate_reason *why)
{
	struct migrate_weights w;
	struct migrate_score out;

	migrate_weights_default(&w);
	migrate_score(&w, n, s, 7, 100, &out);
	assert_int_equal(out.target, 7);
	if (why)
		*why = out.reason;
	assert_true(out.p > 0 && out.p < 1);
	return out.p;
}

static void quiet_low_pressure_high(void **state)
{
	struct migrate_node n = {.hwm_permille = 800,
				 .cpu = 300,
				 .mem = 200,
				 .has_forecast = true};
	enum migrate_reason why;
	double quiet, hot, full, drained;

	(void)state;
	quiet = score_of(&n, &flat, &why);
	assert_true(quiet < 0.05);
	assert_int_equal(why, MIGRATE_SHARE); /* the only term above 0 */
	assert_true(migrate_overload(&n) == 0);
	/* The forecast at the mark, sd 100 (95% upper end 996): even odds
	 * of passing it. */
	n.cpu = 800;
	n.cpu_hi = 996;
	assert_true(migrate_overload(&n) > 0.499 &&
		    migrate_overload(&n) < 0.501);
	/* One sd past it: P = 0.841. */
	n.cpu = 900;
	n.cpu_hi = 1096;
	assert_true(migrate_overload(&n) > 0.840 &&
		    migrate_overload(&n) < 0.842);
	hot = score_of(&n, &flat, &why);
	assert_int_equal(why, MIGRATE_OVERLOAD);
	/* One sd under: 0.159; no interval: a step at the mark. */
	n.cpu = 700;
	n.cpu_hi = 896;
	assert_true(migrate_overload(&n) > 0.158 &&
		    migrate_overload(&n) < 0.160);
	n.cpu_hi = 0;
	assert_true(migrate_overload(&n) == 0);
	n.cpu = n.cpu_hi = 801;
	assert_true(migrate_overload(&n) == 1);
	n.cpu = 900;
	n.cpu_hi = 1096;
	n.mem = 1000; /* memory, the worse of the two, counts */
	n.mem_hi = 1010;
	full = score_of(&n, &flat, NULL);
	assert_true(quiet < hot && hot < full && full > 0.9);
	n.cpu = n.mem = 100;
	n.drained = true;
	drained = score_of(&n, &flat, &why);
	assert_int_equal(why, MIGRATE_DRAIN);
	assert_true(drained > 0.9);
	/* No forecast: no overload, whatever the stale numbers say. */
	n.drained = false;
	n.has_forecast = false;
	n.cpu = 1000;
	assert_true(migrate_overload(&n) == 0);
}

static void rtt_and_share_raise(void **state)
{
	struct migrate_node n = {.hwm_permille = 800, .has_forecast = true};
	struct migrate_session s = flat;
	enum migrate_reason why;
	double base, rising, falling, heavy;

	(void)state;
	base = score_of(&n, &s, NULL);
	s.rtt_trend_us_s = 800; /* rising faster than the scale */
	rising = score_of(&n, &s, &why);
	assert_int_equal(why, MIGRATE_RTT);
	s.rtt_trend_us_s = -800; /* falling latency: no push */
	falling = score_of(&n, &s, NULL);
	s.rtt_trend_us_s = 0;
	s.share = 0.9;
	heavy = score_of(&n, &s, &why);
	assert_int_equal(why, MIGRATE_SHARE);
	assert_true(rising > base && heavy > base);
	assert_true(falling == base); /* clamped to no push */
}

static void target_most_headroom(void **state)
{
	struct migrate_peer p[] = {
		{.id = 1, .live = true, .has_forecast = true, .cpu = 100},
		{.id = 2,
		 .live = true,
		 .has_forecast = true,
		 .cpu = 50,
		 .mem = 700}, /* memory leaves it 100 */
		{.id = 3, .live = false, .has_forecast = true}, /* dead */
		{.id = 4, .live = true, .drained = true, .has_forecast = true},
		{.id = 5, .live = true}, /* no forecast */
		{.id = 6, .live = true, .has_forecast = true, .cpu = 300},
	};
	double room;

	(void)state;
	/* Node 1 is this one: excluded although it has the most room. */
	assert_int_equal(migrate_target(p, 6, 1, 800, &room), 6);
	assert_true(room == 500);
	assert_int_equal(migrate_target(p, 6, 9, 800, &room), 1);
	assert_true(room == 700);
	/* Everyone past the mark: no target. */
	assert_int_equal(migrate_target(p, 6, 9, 90, &room), STEER_NODE_NONE);
	assert_int_equal(migrate_target(p, 0, 9, 800, &room), STEER_NODE_NONE);
	assert_string_equal(migrate_reason_name(MIGRATE_OVERLOAD),
			    "forecast-overload");
	assert_string_equal(migrate_reason_name((enum migrate_reason)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quiet_low_pressure_high),
		cmocka_unit_test(rtt_and_share_raise),
		cmocka_unit_test(target_most_headroom),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
