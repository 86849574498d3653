// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hold queue of a cell: datagrams of a waiting shard stay until the
 * shard is done or its deadline passes, come out in arrival order, and
 * what does not fit is dropped and counted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cell/hold.h"

struct got {
	uint8_t first[HOLD_MAX + 8];
	size_t len[HOLD_MAX + 8];
	uint32_t n;
};

static void take(void *arg, uint8_t *dg, size_t len)
{
	struct got *g = arg;

	g->first[g->n] = dg[0];
	g->len[g->n++] = len;
}

static void test_wait_done_deadline(void **state)
{
	struct hold *h = hold_new();
	struct got g = {0};
	uint8_t dg[64];
	int i;

	(void)state;
	assert_non_null(h);
	hold_wait(h, 7, 1000);
	hold_wait(h, 9, 2000);
	assert_true(hold_waiting(h, 7));
	assert_false(hold_waiting(h, 8));
	assert_int_equal(hold_waiting_count(h), 2);
	for (i = 0; i < 4; i++) {
		dg[0] = (uint8_t)i;
		assert_int_equal(hold_put(h, i % 2 ? 9 : 7, dg, 10 + i), 0);
	}
	/* Nothing is released while both wait. */
	hold_release(h, 999, take, &g);
	assert_int_equal(g.n, 0);
	/* Shard 7's state came: its two, in order. */
	hold_done(h, 7);
	hold_release(h, 1500, take, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.first[0], 0);
	assert_int_equal(g.first[1], 2);
	assert_int_equal(g.len[1], 12);
	/* Shard 9 by its deadline. */
	hold_release(h, 2000, take, &g);
	assert_int_equal(g.n, 4);
	assert_int_equal(g.first[2], 1);
	assert_int_equal(g.first[3], 3);
	assert_int_equal(hold_waiting_count(h), 0);
	assert_int_equal(hold_stats(h)->timeouts, 1);
	assert_int_equal(hold_stats(h)->released, 4);
	assert_int_equal(hold_stats(h)->waits, 2);
	/* Done twice, or for a shard out of range: nothing changes. */
	hold_done(h, 9);
	hold_wait(h, STEER_SHARDS, 5);
	assert_int_equal(hold_waiting_count(h), 0);
	hold_free(h);
}

static void test_full_and_long(void **state)
{
	struct hold *h = hold_new();
	static uint8_t big[HOLD_DGRAM_MAX + 1];
	struct got g = {0};
	uint32_t i;

	(void)state;
	assert_non_null(h);
	hold_wait(h, 1, 10);
	assert_int_equal(hold_put(h, 1, big, sizeof(big)), -ENOSPC);
	assert_int_equal(hold_put(h, 1, big, 0), -ENOSPC);
	for (i = 0; i < HOLD_MAX; i++)
		assert_int_equal(hold_put(h, 1, big, 20), 0);
	assert_int_equal(hold_put(h, 1, big, 20), -ENOSPC);
	assert_int_equal(hold_stats(h)->dropped, 3);
	assert_int_equal(hold_stats(h)->held, HOLD_MAX);
	hold_release(h, 10, take, &g);
	assert_int_equal(g.n, HOLD_MAX);
	/* Room again. */
	hold_wait(h, 1, 20);
	assert_int_equal(hold_put(h, 1, big, 20), 0);
	hold_free(h); /* frees what it still holds */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_done_deadline),
		cmocka_unit_test(test_full_and_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
