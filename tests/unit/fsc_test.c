// SPDX-License-Identifier: GPL-2.0-only
/*
 * FSC: hits and misses, in-place updates, idle timeouts by TCP state,
 * CLOCK eviction inside a full set, the sweeper, and bad input.
 * Hashes are chosen by the tests, so set placement is under control.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fastpath/fsc.h"

static struct flow_key key_n(uint32_t n, uint8_t proto)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	flow_addr_set_v4(&k.src, steer_htonl(0xc6120000u | (n & 0xffff)));
	flow_addr_set_v4(&k.dst, 0x010112c6u);
	k.sport = (uint16_t)(n >> 16);
	k.dport = 0x5000;
	k.proto = proto;
	return k;
}

static struct steer_rule rule_n(uint16_t owner)
{
	struct steer_rule r;

	memset(&r, 0, sizeof(r));
	r.action = STEER_ACT_STEER;
	r.owner = owner;
	r.tmpl = owner;
	r.rf = 2;
	r.mirror[0] = owner + 1;
	r.epoch = 7;
	return r;
}

static int setup(void **state)
{
	struct fsc_cfg cfg;

	fsc_cfg_default(&cfg, 64);
	*state = fsc_new(&cfg);
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	fsc_free(*state);
	return 0;
}

static void test_hit_miss(void **state)
{
	struct fsc *f = *state;
	struct flow_key k = key_n(1, 6), other = key_n(2, 6);
	struct steer_rule r = rule_n(3), got;
	struct fsc_entry *e;
	struct fsc_stats st;

	assert_null(fsc_lookup(f, &k, 0x1234, 0));
	e = fsc_insert(f, &k, 0x1234, &r, 0);
	assert_non_null(e);
	assert_int_equal(fsc_count(f), 1);
	e = fsc_lookup(f, &k, 0x1234, 5);
	assert_non_null(e);
	fsc_entry_rule(e, &got);
	assert_memory_equal(&got, &r, sizeof(r));
	/* Same set, same way, different key: a miss. */
	assert_null(fsc_lookup(f, &other, 0x1234, 5));
	/* UDP and TCP of one 4-tuple never collide. */
	k.proto = 17;
	assert_null(fsc_lookup(f, &k, 0x1234, 5));
	fsc_get_stats(f, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.inserts, 1);
}

static void test_update_keeps_counters(void **state)
{
	struct fsc *f = *state;
	struct flow_key k = key_n(9, 17), back;
	struct steer_rule r = rule_n(1), r2 = rule_n(2);
	struct fsc_entry *e = fsc_insert(f, &k, 99, &r, 0);

	fsc_entry_account(e, 100, 0, 1);
	fsc_entry_account(e, 50, 0, 2);
	e = fsc_insert(f, &k, 99, &r2, 3);
	assert_int_equal(e->owner, 2);
	assert_int_equal(e->packets, 2);
	assert_int_equal(e->bytes, 150);
	assert_int_equal(fsc_count(f), 1);
	fsc_entry_key(e, &back);
	assert_true(flow_key_equal(&back, &k));
}

static void test_udp_timeout(void **state)
{
	struct fsc *f = *state;
	struct flow_key k = key_n(4, 17);
	struct steer_rule r = rule_n(1);
	struct fsc_stats st;

	fsc_insert(f, &k, 7, &r, 1000);
	assert_non_null(fsc_lookup(f, &k, 7, 1000 + 30000));
	assert_null(fsc_lookup(f, &k, 7, 1000 + 30001));
	assert_int_equal(fsc_count(f), 0);
	fsc_get_stats(f, &st);
	assert_int_equal(st.expired, 1);
}

static void test_tcp_states(void **state)
{
	struct fsc *f = *state;
	struct flow_key a = key_n(5, 6), b = key_n(6, 6), c = key_n(7, 6);
	struct steer_rule r = rule_n(1);
	struct fsc_entry *e;

	/* a: only a SYN: short timeout. */
	e = fsc_insert(f, &a, 11, &r, 0);
	fsc_entry_account(e, 60, 0x02, 0);
	/* b: handshake done: long timeout. */
	e = fsc_insert(f, &b, 12, &r, 0);
	fsc_entry_account(e, 60, 0x02, 0);
	fsc_entry_account(e, 60, 0x10, 0);
	assert_int_equal(e->state & FSC_ST_MASK, FSC_ST_EST);
	/* c: established, then FIN: short again. */
	e = fsc_insert(f, &c, 13, &r, 0);
	fsc_entry_account(e, 60, 0x10, 0);
	fsc_entry_account(e, 60, 0x11, 0);
	assert_int_equal(e->state & FSC_ST_MASK, FSC_ST_CLOSING);

	assert_null(fsc_lookup(f, &a, 11, 10001));
	assert_non_null(fsc_lookup(f, &b, 12, 10001));
	assert_null(fsc_lookup(f, &c, 13, 10001));
	assert_non_null(fsc_lookup(f, &b, 12, 300000));
	assert_null(fsc_lookup(f, &b, 12, 300001));
}

/*
 * Hashes i << 24 all have candidate sets 0 and 1 (set B of a hash whose
 * bits 35+ are zero falls on set A and moves next door), so NW flows fill
 * both and the next one evicts.
 */
#define NW (2 * FSC_WAYS)

static void test_clock_eviction(void **state)
{
	struct fsc *f = *state;
	struct steer_rule r = rule_n(1);
	struct flow_key k[NW + 2];
	struct fsc_stats st;
	int i, present = 0;

	for (i = 0; i < NW + 2; i++)
		k[i] = key_n(100 + i, 6);
	for (i = 0; i < NW; i++)
		assert_non_null(fsc_insert(f, &k[i], (uint64_t)i << 24, &r, 0));
	fsc_get_stats(f, &st);
	assert_int_equal(st.evictions, 0);
	/* Both sets full: the first eviction clears bits, then takes one. */
	fsc_insert(f, &k[NW], (uint64_t)NW << 24, &r, 0);
	fsc_get_stats(f, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(fsc_count(f), NW);
	fsc_insert(f, &k[NW + 1], (uint64_t)(NW + 1) << 24, &r, 2);
	for (i = 0; i < NW + 2; i++)
		present += fsc_lookup(f, &k[i], (uint64_t)i << 24, 3) != NULL;
	assert_int_equal(present, NW);
	fsc_get_stats(f, &st);
	assert_int_equal(st.evictions, 2);
}

/* The first set fills first; the second takes the overflow. */
static void test_overflow_set(void **state)
{
	struct fsc *f = *state;
	struct steer_rule r = rule_n(1);
	struct fsc_entry *e[NW], *base;
	int i, in_first = 0;

	for (i = 0; i < NW; i++) {
		struct flow_key k = key_n(300 + i, 6);

		e[i] = fsc_insert(f, &k, (uint64_t)i << 24, &r, 0);
	}
	base = e[0];
	for (i = 1; i < NW; i++)
		if (e[i] < base)
			base = e[i];
	for (i = 0; i < NW; i++) {
		assert_true(e[i] - base < NW);
		in_first += e[i] - base < FSC_WAYS;
		/* The first FSC_WAYS flows all went to one set. */
		if (i < FSC_WAYS)
			assert_true(e[i] - e[0] < FSC_WAYS &&
				    e[0] - e[i] < FSC_WAYS);
	}
	assert_int_equal(in_first, FSC_WAYS);
}

/* CLOCK takes an unreferenced entry and spares referenced ones. */
static void test_clock_prefers_unreferenced(void **state)
{
	struct fsc *f = *state;
	struct steer_rule r = rule_n(1);
	struct flow_key k[NW + 2];
	struct fsc_entry *e[NW], *base;
	int i, va = -1, vb = -1, found = 0;

	for (i = 0; i < NW + 2; i++)
		k[i] = key_n(200 + i, 17);
	for (i = 0; i < NW; i++)
		e[i] = fsc_insert(f, &k[i], (uint64_t)i << 24, &r, 0);
	base = e[0];
	for (i = 1; i < NW; i++)
		if (e[i] < base)
			base = e[i];
	/* One unreferenced victim per set; every other entry referenced. */
	for (i = 0; i < NW; i++) {
		int first = e[i] - base < FSC_WAYS;

		if (first && va < 0)
			va = i;
		else if (!first && vb < 0)
			vb = i;
		else
			continue;
		e[i]->state &= ~FSC_ST_REF;
	}
	assert_true(va >= 0 && vb >= 0);
	fsc_insert(f, &k[NW], (uint64_t)NW << 24, &r, 1);
	fsc_insert(f, &k[NW + 1], (uint64_t)(NW + 1) << 24, &r, 1);
	assert_null(fsc_lookup(f, &k[va], (uint64_t)va << 24, 2));
	assert_null(fsc_lookup(f, &k[vb], (uint64_t)vb << 24, 2));
	for (i = 0; i < NW; i++)
		if (i != va && i != vb)
			found += fsc_lookup(f, &k[i], (uint64_t)i << 24, 2) !=
				 NULL;
	assert_int_equal(found, NW - 2);
	assert_non_null(fsc_lookup(f, &k[NW], (uint64_t)NW << 24, 2));
	assert_non_null(fsc_lookup(f, &k[NW + 1], (uint64_t)(NW + 1) << 24, 2));
}

static void test_pressure_and_sweep(void **state)
{
	struct fsc *f = *state;
	struct steer_rule r = rule_n(1);
	struct fsc_stats st;
	uint32_t i, freed = 0;

	for (i = 0; i < 5000; i++) {
		struct flow_key k = key_n(1000 + i, 17);

		fsc_insert(f, &k, (uint64_t)i * 0x9e3779b97f4a7c15ull, &r, 0);
		assert_true(fsc_count(f) <= fsc_capacity(f));
	}
	assert_int_equal(fsc_count(f), fsc_capacity(f));
	fsc_get_stats(f, &st);
	assert_int_equal(st.inserts, 5000);
	assert_int_equal(st.evictions, 5000 - fsc_capacity(f));
	/* Nothing idle yet; then everything is. */
	assert_int_equal(fsc_expire(f, 1000, 64), 0);
	for (i = 0; i < 4; i++)
		freed += fsc_expire(f, 60000, 16);
	assert_int_equal(freed, 64);
	assert_int_equal(fsc_count(f), 0);
}

static void test_delete_and_bad_input(void **state)
{
	struct fsc *f = *state;
	struct flow_key k = key_n(77, 6);
	struct steer_rule r = rule_n(1);
	struct fsc_cfg cfg;

	fsc_insert(f, &k, 5, &r, 0);
	assert_int_equal(fsc_delete(f, &k, 5), 0);
	assert_int_equal(fsc_delete(f, &k, 5), -ENOENT);
	assert_null(fsc_lookup(f, &k, 5, 0));
	r.action = STEER_ACT_NONE;
	errno = 0;
	assert_null(fsc_insert(f, &k, 5, &r, 0));
	assert_int_equal(errno, EINVAL);
	r.action = STEER_ACT__MAX;
	assert_null(fsc_insert(f, &k, 5, &r, 0));

	fsc_cfg_default(&cfg, 0);
	assert_null(fsc_new(&cfg));
	fsc_cfg_default(&cfg, 1000);
	struct fsc *g = fsc_new(&cfg);

	assert_non_null(g);
	assert_int_equal(fsc_capacity(g), 1024);
	assert_int_equal(fsc_memory(g), 1024 * 64);
	fsc_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hit_miss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_keeps_counters,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tcp_states, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clock_eviction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_overflow_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clock_prefers_unreferenced,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_pressure_and_sweep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_delete_and_bad_input,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
