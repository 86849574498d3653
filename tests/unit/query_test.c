// SPDX-License-Identifier: GPL-2.0-only
/*
 * State queries (src/cell/query): a flow's datagrams wait until a cell
 * answers with a record, every asked cell says none, or the deadline;
 * then they come back in arrival order with the verdict. Unanswered cells
 * are asked again; answers nobody asked for are counted and change
 * nothing; every bound drops and counts; the index stays right through
 * heavy churn.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "cell/query.h"

struct seen {
	uint8_t first[64]; /* first byte of each datagram released */
	bool found[64];
	uint32_t n;
	uint16_t resent_to[64];
	uint32_t n_resent;
};

static void on_release(void *arg, uint8_t *dg, size_t len, bool found)
{
	struct seen *s = arg;

	assert_true(len > 0);
	if (s->n < 64) {
		s->first[s->n] = dg[0];
		s->found[s->n] = found;
	}
	s->n++;
}

static void on_resend(void *arg, const struct flow_key *k, uint16_t cell)
{
	struct seen *s = arg;

	(void)k;
	if (s->n_resent < 64)
		s->resent_to[s->n_resent] = cell;
	s->n_resent++;
}

static void key_of(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, htonl(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, htonl(0xc6136401u));
	k->sport = htons((uint16_t)(1024 + i % 60000));
	k->dport = htons(80);
	k->proto = 6;
}

static int setup(void **state)
{
	*state = query_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	query_free(*state);
	return 0;
}

static const uint16_t cells[] = {2, 3, 4};

/* Two datagrams wait; the first record releases both, in order. */
static void test_found_releases_in_order(void **state)
{
	struct query *q = *state;
	struct seen s = {0};
	uint8_t a = 'a', b = 'b';
	struct flow_key k;

	key_of(&k, 1);
	assert_int_equal(query_hold(q, &k, cells, 3, &a, 1, 1000), 1);
	assert_int_equal(query_hold(q, &k, cells, 3, &b, 1, 1001), 0);
	assert_true(query_waiting(q, &k));
	query_run(q, 1002, on_resend, on_release, &s);
	assert_int_equal(s.n, 0); /* nobody answered yet */
	assert_int_equal(query_answer(q, &k, 3, false), 0);
	query_run(q, 1003, on_resend, on_release, &s);
	assert_int_equal(s.n, 0); /* one of three said none */
	assert_int_equal(query_answer(q, &k, 4, true), 1);
	query_run(q, 1004, on_resend, on_release, &s);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.first[0], 'a');
	assert_int_equal(s.first[1], 'b');
	assert_true(s.found[0] && s.found[1]);
	assert_false(query_waiting(q, &k));
	assert_int_equal(query_count(q), 0);
	assert_int_equal(query_held_count(q), 0);
	assert_int_equal(query_stats(q)->found, 1);
	/* The late one is for a flow nobody waits for any more. */
	assert_int_equal(query_answer(q, &k, 2, false), -ENOENT);
	assert_int_equal(query_stats(q)->unsolicited, 1);
}

/* Every asked cell says none: the flow is new, decided at once. */
static void test_all_none(void **state)
{
	struct query *q = *state;
	struct seen s = {0};
	uint8_t a = 'a';
	struct flow_key k;
	uint32_t i;

	key_of(&k, 2);
	assert_int_equal(query_hold(q, &k, cells, 3, &a, 1, 0), 1);
	for (i = 0; i < 3; i++)
		assert_int_equal(query_answer(q, &k, cells[i], false), i == 2);
	query_run(q, 1, on_resend, on_release, &s);
	assert_int_equal(s.n, 1);
	assert_false(s.found[0]);
	assert_int_equal(query_stats(q)->none, 1);
	assert_int_equal(query_stats(q)->timeouts, 0);
}

/* A cell that does not answer is asked again, alone; at the deadline the
 * flow goes on without it. Answers from cells not asked, or twice,
 * count as unsolicited and change nothing. */
static void test_resend_and_deadline(void **state)
{
	struct query *q = *state;
	struct seen s = {0};
	uint8_t a = 'a';
	struct flow_key k;

	key_of(&k, 3);
	assert_int_equal(query_hold(q, &k, cells, 3, &a, 1, 0), 1);
	assert_int_equal(query_answer(q, &k, 2, false), 0);
	assert_int_equal(query_answer(q, &k, 2, false), -ENOENT);
	assert_int_equal(query_answer(q, &k, 9, true), -ENOENT);
	assert_int_equal(query_answer(q, &k, 4, false), 0);
	query_run(q, QUERY_RESEND_MS - 1, on_resend, on_release, &s);
	assert_int_equal(s.n_resent, 0);
	query_run(q, QUERY_RESEND_MS, on_resend, on_release, &s);
	assert_int_equal(s.n_resent, 1);
	assert_int_equal(s.resent_to[0], 3);
	assert_int_equal(s.n, 0);
	query_run(q, QUERY_WAIT_MS, on_resend, on_release, &s);
	assert_int_equal(s.n, 1);
	assert_false(s.found[0]);
	assert_int_equal(query_stats(q)->timeouts, 1);
	assert_int_equal(query_stats(q)->unsolicited, 2);
}

/* Every bound drops and counts, and drops nothing already held. */
static void test_bounds(void **state)
{
	struct query *q = *state;
	static uint8_t big[QUERY_DGRAM_MAX + 1];
	struct seen s = {0};
	struct flow_key k;
	uint8_t a = 'a';
	uint32_t i;

	key_of(&k, 4);
	assert_int_equal(query_hold(q, &k, cells, 0, &a, 1, 0), -EINVAL);
	assert_int_equal(query_hold(q, &k, cells, QUERY_ASK_MAX + 1, &a, 1, 0),
			 -EINVAL);
	assert_int_equal(query_hold(q, &k, cells, 1, big, sizeof(big), 0),
			 -ENOSPC);
	assert_false(query_waiting(q, &k));
	for (i = 0; i < QUERY_PER_FLOW; i++)
		assert_true(query_hold(q, &k, cells, 1, &a, 1, 0) >= 0);
	assert_int_equal(query_hold(q, &k, cells, 1, &a, 1, 0), -ENOSPC);
	for (i = 1; i < QUERY_FLOWS; i++) {
		key_of(&k, 100 + i);
		assert_int_equal(query_hold(q, &k, cells, 1, &a, 1, 0), 1);
	}
	key_of(&k, 99);
	assert_int_equal(query_hold(q, &k, cells, 1, &a, 1, 0), -ENOSPC);
	assert_int_equal(query_count(q), QUERY_FLOWS);
	assert_int_equal(query_stats(q)->dropped, 3);
	query_run(q, QUERY_WAIT_MS, on_resend, on_release, &s);
	assert_int_equal(s.n, QUERY_PER_FLOW + QUERY_FLOWS - 1);
	assert_int_equal(query_count(q), 0);
	assert_int_equal(query_held_count(q), 0);
}

/* Flows come and go in random order; the index finds exactly those held
 * (backward-shift deletion keeps every probe chain whole). */
static void test_churn(void **state)
{
	struct query *q = *state;
	static bool in[20000];
	struct seen s = {0};
	struct flow_key k;
	uint32_t i, j, n = 0;
	uint8_t a = 'a';

	srand(7);
	for (i = 0; i < 200000; i++) {
		j = (uint32_t)rand() % 20000;
		key_of(&k, j);
		if (in[j]) {
			assert_true(query_waiting(q, &k));
			assert_int_equal(query_answer(q, &k, cells[0], true),
					 1);
			query_run(q, 0, on_resend, on_release, &s);
			in[j] = false;
			n--;
		} else if (n < QUERY_FLOWS - 1) {
			assert_false(query_waiting(q, &k));
			assert_int_equal(query_hold(q, &k, cells, 1, &a, 1, 0),
					 1);
			in[j] = true;
			n++;
		}
		assert_int_equal(query_count(q), n);
	}
	for (j = 0; j < 20000; j++) {
		key_of(&k, j);
		assert_int_equal(query_waiting(q, &k), in[j]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_found_releases_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend_and_deadline, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_churn, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
