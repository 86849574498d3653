// SPDX-License-Identifier: GPL-2.0-only
/*
 * The predictive header cache (node/phc.h) over a real LMDB environment
 * in a scratch directory. The fast path's half is a table here (the
 * rules it would hold, the use stamps packets would leave); the XDP side
 * of it is xdp_test's and the lab's.
 *
 * Checks: placement by probability; L1 full, the weakest by probability
 * x recency gives way and a packet's use counts as recency; withdrawal,
 * expiry and invalidation empty both levels; a record's rule is never
 * replaced; a reopened cache warms L1 from L2 with the likeliest
 * unexpired entries; a process killed (SIGKILL) while it writes leaves a
 * store that opens and decodes entry for entry; bad values are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <steer/rule.h>

#include "node/phc.h"

#define FP_MAX 256
#define T0 1000000ull	    /* monotonic ms */
#define W0 1800000000000ull /* wall-clock ms */

/* The fast path as the cache sees it. */
struct fake_fp {
	struct flow_key rule[FP_MAX];
	uint32_t stamp[FP_MAX];
	bool hint[FP_MAX];
	uint32_t n;
};

static struct fake_fp fp;
static char dir[64];

static int fp_find(const struct flow_key *k)
{
	uint32_t i;

	for (i = 0; i < fp.n; i++)
		if (flow_key_equal(&fp.rule[i], k))
			return (int)i;
	return -1;
}

static int fp_install(void *ctx, const struct phc_entry *e)
{
	(void)ctx;
	if (fp_find(&e->key) >= 0)
		return -EEXIST;
	assert_true(fp.n < FP_MAX);
	fp.rule[fp.n] = e->key;
	fp.stamp[fp.n] = 0;
	fp.hint[fp.n++] = true;
	return 0;
}

static void fp_remove(void *ctx, const struct flow_key *k)
{
	int i = fp_find(k);

	(void)ctx;
	if (i < 0 || !fp.hint[i])
		return;
	fp.n--;
	fp.rule[i] = fp.rule[fp.n];
	fp.stamp[i] = fp.stamp[fp.n];
	fp.hint[i] = fp.hint[fp.n];
}

static uint32_t fp_stamp(void *ctx, const struct flow_key *k)
{
	int i = fp_find(k);

	(void)ctx;
	return i < 0 ? 0 : fp.stamp[i];
}

static const struct phc_ops ops = {
	.install = fp_install, .remove = fp_remove, .stamp = fp_stamp};

static bool fp_has_hint(const struct flow_key *k)
{
	int i = fp_find(k);

	return i >= 0 && fp.hint[i];
}

static void key_of(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6136401u));
	k->sport = __builtin_bswap16((uint16_t)(20000 + i));
	k->dport = __builtin_bswap16(7000);
	k->proto = 6;
}

static struct phc_entry hint(uint32_t i, uint16_t p, uint16_t owner)
{
	struct phc_entry e = {.owner = owner,
			      .p_permille = p,
			      .epoch = 5,
			      .expires_ms = W0 + 60000};

	key_of(&e.key, i);
	return e;
}

static struct phc *open_cache(uint32_t l1, char *err)
{
	struct phc_config c = {.l1_max = l1, .l1_min_permille = 500};
	struct phc *p;

	snprintf(c.dir, sizeof(c.dir), "%s", dir);
	p = phc_open(&c, &ops, T0, W0, err, 256);
	if (!p)
		print_error("phc_open: %s\n", err);
	assert_non_null(p);
	return p;
}

static int setup(void **state)
{
	(void)state;
	memset(&fp, 0, sizeof(fp));
	snprintf(dir, sizeof(dir), "/tmp/phc_test.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void test_placement(void **state)
{
	char err[256];
	struct phc *p = open_cache(4, err);
	struct phc_entry e = hint(1, 900, 2), low = hint(2, 300, 3), got;

	(void)state;
	assert_int_equal(phc_hint(p, &e, T0, W0), 0);
	assert_int_equal(phc_hint(p, &low, T0, W0), 0);
	assert_true(fp_has_hint(&e.key));
	assert_false(fp_has_hint(&low.key));
	assert_int_equal(phc_l1_get(p, &e.key, &got), 0);
	assert_int_equal(got.owner, 2);
	assert_int_equal(phc_l1_get(p, &low.key, &got), -ENOENT);
	phc_tick(p, T0 + 1000, W0 + 1000);
	assert_int_equal(phc_stats(p)->l1, 1);
	assert_int_equal(phc_stats(p)->l2, 2); /* L1's entries too */
	assert_int_equal(phc_stats(p)->l2_only, 1);
	/* A likelier hint promotes; a less likely one demotes. */
	low.p_permille = 700;
	assert_int_equal(phc_hint(p, &low, T0 + 2000, W0 + 2000), 0);
	assert_true(fp_has_hint(&low.key));
	e.p_permille = 100;
	assert_int_equal(phc_hint(p, &e, T0 + 2000, W0 + 2000), 0);
	assert_false(fp_has_hint(&e.key));
	assert_int_equal(phc_stats(p)->demoted, 1);
	/* Expired on arrival: refused. */
	e.expires_ms = W0;
	assert_int_equal(phc_hint(p, &e, T0 + 2000, W0 + 2000), -EINVAL);
	phc_close(p);
}

/* A joiner's hints go to L1 whatever their probability, never lower a
 * likelier entry's, and still give way by score when L1 is full. */
static void test_join_placement(void **state)
{
	char err[256];
	struct phc *p = open_cache(2, err);
	struct phc_entry j = hint(1, 200, 2), likely = hint(2, 900, 3),
			 other = hint(3, 250, 4), got;

	(void)state;
	assert_int_equal(phc_hint_join(p, &j, T0, W0), 0);
	assert_true(fp_has_hint(&j.key));
	/* A packet met it: read at once (a record is about to take its
	 * rule's place), not at the next tick. */
	phc_read_use(p, &j.key, T0);
	assert_int_equal(phc_stats(p)->used, 0);
	fp.stamp[fp_find(&j.key)] = 9;
	phc_read_use(p, &j.key, T0);
	assert_int_equal(phc_stats(p)->used, 1);
	assert_int_equal(phc_hint(p, &likely, T0, W0), 0);
	likely.p_permille = 250;
	assert_int_equal(phc_hint_join(p, &likely, T0, W0), 0);
	assert_int_equal(phc_l1_get(p, &likely.key, &got), 0);
	assert_int_equal(got.p_permille, 900);
	assert_int_equal(phc_stats(p)->demoted, 0);
	/* Full: a join hint below both held ones stays in L2. */
	other.p_permille = 100;
	assert_int_equal(phc_hint_join(p, &other, T0, W0), 0);
	assert_false(fp_has_hint(&other.key));
	assert_int_equal(phc_stats(p)->join_hints, 3);
	assert_int_equal(phc_stats(p)->l2_only, 1);
	/* The same low probability as a plain hint: L2 only. */
	phc_invalidate_all(p);
	assert_int_equal(phc_hint(p, &j, T0, W0), 0);
	assert_false(fp_has_hint(&j.key));
	phc_close(p);
}

static void test_eviction_by_score(void **state)
{
	char err[256];
	struct phc *p = open_cache(2, err);
	struct phc_entry a = hint(1, 600, 2), b = hint(2, 650, 2),
			 c = hint(3, 640, 2), d = hint(4, 550, 2);

	(void)state;
	assert_int_equal(phc_hint(p, &a, T0, W0), 0);
	assert_int_equal(phc_hint(p, &b, T0, W0), 0);
	/* a is met by packets for a minute, b is not. */
	fp.stamp[fp_find(&a.key)] = 7;
	phc_tick(p, T0 + 60000, W0 + 1000);
	assert_int_equal(phc_stats(p)->used, 1);
	/* c outscores idle b (650 / 3 < 640), not fresh a. */
	assert_int_equal(phc_hint(p, &c, T0 + 60000, W0 + 1000), 0);
	assert_true(fp_has_hint(&a.key));
	assert_false(fp_has_hint(&b.key));
	assert_true(fp_has_hint(&c.key));
	assert_int_equal(phc_stats(p)->evicted, 1);
	/* d scores below both: L2 only. */
	assert_int_equal(phc_hint(p, &d, T0 + 60000, W0 + 1000), 0);
	assert_false(fp_has_hint(&d.key));
	assert_int_equal(phc_stats(p)->l2_only, 1);
	phc_tick(p, T0 + 61000, W0 + 2000);
	assert_int_equal(phc_stats(p)->l2, 4);
	phc_close(p);
}

static void test_withdraw_expire_invalidate(void **state)
{
	char err[256];
	struct phc *p = open_cache(8, err);
	struct phc_entry e[5];
	uint32_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		e[i] = hint(i, 800, (uint16_t)(2 + i % 2));
		assert_int_equal(phc_hint(p, &e[i], T0, W0), 0);
	}
	e[4].expires_ms = W0 + 5000;
	assert_int_equal(phc_hint(p, &e[4], T0, W0), 0);
	/* Withdrawn by the owner (its session closed). */
	e[0].p_permille = 0;
	assert_int_equal(phc_hint(p, &e[0], T0, W0), 0);
	assert_false(fp_has_hint(&e[0].key));
	phc_tick(p, T0 + 1000, W0 + 1000);
	assert_int_equal(phc_stats(p)->l2, 4);
	/* e[4] expires. */
	phc_tick(p, T0 + 6000, W0 + 6000);
	assert_false(fp_has_hint(&e[4].key));
	assert_int_equal(phc_stats(p)->l1, 3);
	assert_int_equal(phc_stats(p)->expired, 1);
	/* Owner 3 (e[1], e[3]) then a flow (e[2]). */
	assert_int_equal(phc_invalidate_owner(p, 3), 2);
	assert_false(fp_has_hint(&e[1].key));
	assert_true(fp_has_hint(&e[2].key));
	assert_int_equal(phc_invalidate_flow(p, &e[2].key), 1);
	assert_int_equal(phc_invalidate_flow(p, &e[2].key), 0);
	assert_int_equal(fp.n, 0);
	phc_tick(p, T0 + 7000, W0 + 7000);
	assert_int_equal(phc_stats(p)->l2, 0);
	phc_close(p);
}

/* A record's rule stays; the hint waits without a rule of its own. */
static void test_record_rule_wins(void **state)
{
	char err[256];
	struct phc *p = open_cache(8, err);
	struct phc_entry e = hint(1, 900, 2);

	(void)state;
	fp.rule[0] = e.key;
	fp.hint[0] = false;
	fp.n = 1;
	assert_int_equal(phc_hint(p, &e, T0, W0), 0);
	assert_int_equal(phc_stats(p)->conflicts, 1);
	assert_int_equal(phc_stats(p)->l1_rules, 0);
	assert_int_equal(phc_invalidate_all(p), 1);
	assert_int_equal(fp.n, 1); /* the record's rule */
	phc_close(p);
}

static void test_warm_from_l2(void **state)
{
	char err[256];
	struct phc *p = open_cache(8, err);
	struct phc_entry e[6];
	uint32_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		e[i] = hint(i, (uint16_t)(400 + 100 * i), 2);
		assert_int_equal(phc_hint(p, &e[i], T0, W0), 0);
	}
	e[5].expires_ms = W0 + 2000; /* gone by the restart */
	assert_int_equal(phc_hint(p, &e[5], T0, W0), 0);
	phc_close(p); /* commits */
	memset(&fp, 0, sizeof(fp));
	/* Two L1 places: the likeliest unexpired two, e[4] and e[3]. */
	{
		struct phc_config c = {.l1_max = 2, .l1_min_permille = 500};

		snprintf(c.dir, sizeof(c.dir), "%s", dir);
		p = phc_open(&c, &ops, T0, W0 + 5000, err, sizeof(err));
	}
	assert_non_null(p);
	assert_int_equal(phc_stats(p)->warmed, 2);
	assert_true(fp_has_hint(&e[4].key));
	assert_true(fp_has_hint(&e[3].key));
	assert_false(fp_has_hint(&e[5].key));
	assert_int_equal(phc_stats(p)->l2, 6);
	phc_close(p);
}

/* Killed while it writes (after ten commits, at a time that differs per
 * round): the store opens and every entry decodes. */
static void test_crash_safe(void **state)
{
	char err[256];
	struct phc_entry e;
	struct phc *p;
	int round, status, ready[2];
	pid_t pid;
	uint32_t i;
	char c;

	(void)state;
	for (round = 0; round < 4; round++) {
		assert_int_equal(pipe(ready), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(ready[0]);
			memset(&fp, 0, sizeof(fp));
			p = open_cache(64, err);
			for (i = 0;; i++) {
				e = hint(i % 5000, (uint16_t)(1 + i % 1000),
					 (uint16_t)(2 + i % 7));
				phc_hint(p, &e, T0 + i, W0);
				if (i % 300 == 0)
					phc_tick(p, T0 + i, W0);
				/* Committed ticks hold likely entries now:
				 * the kill may come (however slow this
				 * machine is). */
				if (i == 3000 && write(ready[1], "r", 1) != 1)
					_exit(1);
			}
		}
		close(ready[1]);
		assert_int_equal(read(ready[0], &c, 1), 1);
		close(ready[0]);
		usleep(20000 + 70000 * round);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		memset(&fp, 0, sizeof(fp));
		p = open_cache(64, err);
		assert_int_equal(phc_stats(p)->l2_bad, 0);
		assert_true(phc_stats(p)->l2 > 0);
		assert_int_equal(phc_stats(p)->warmed, 64);
		phc_close(p);
	}
}

static void test_value_codec(void **state)
{
	struct phc_entry e = hint(1, 1000, 9), d;
	uint8_t v[PHC_VALUE_LEN];

	(void)state;
	e.epoch = 0xa1b2c3d4;
	e.expires_ms = 0x0102030405060708ull;
	phc_value_encode(&e, v);
	assert_int_equal(phc_value_decode(v, sizeof(v), &d), 0);
	assert_int_equal(d.owner, 9);
	assert_int_equal(d.p_permille, 1000);
	assert_int_equal(d.epoch, 0xa1b2c3d4);
	assert_int_equal(d.expires_ms, 0x0102030405060708ull);
	assert_int_equal(phc_value_decode(v, sizeof(v) - 1, &d), -EBADMSG);
	v[0] = 2;
	assert_int_equal(phc_value_decode(v, sizeof(v), &d), -EBADMSG);
	phc_value_encode(&e, v);
	v[21] = 1; /* the pad */
	assert_int_equal(phc_value_decode(v, sizeof(v), &d), -EBADMSG);
	e.p_permille = 1001;
	phc_value_encode(&e, v);
	assert_int_equal(phc_value_decode(v, sizeof(v), &d), -EBADMSG);
	e.p_permille = 5;
	e.owner = STEER_NODE_NONE;
	phc_value_encode(&e, v);
	assert_int_equal(phc_value_decode(v, sizeof(v), &d), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_placement, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_join_placement, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_eviction_by_score, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_withdraw_expire_invalidate,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_rule_wins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_warm_from_l2, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_safe, setup,
						teardown),
		cmocka_unit_test(test_value_codec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
