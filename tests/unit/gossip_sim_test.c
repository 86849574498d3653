// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip in a deterministic network simulator: N nodes on a virtual
 * clock, datagrams delivered after a random delay or lost by per-link
 * loss and partitions, all drawn from a seeded PRNG, so every run is the
 * same and nothing depends on the machine's speed.
 *
 * Checks: join converges (16 and 48 nodes); session announces and closes
 * reach everyone; a crashed node is marked dead by all, with and without
 * 10% loss; 10% loss for a long run gives no false death; an announce a
 * node missed is repaired by anti-entropy; a healed partition is
 * repaired; a graceful leave is seen as left, never dead; a forged
 * suspicion is refuted. The nodes run gossip_config_default(), the
 * daemon's configuration. Convergence
 * times are printed as figures ("[figure] ..."); the assertions are the
 * correctness properties, with time bounds generous enough that no
 * protocol tuning makes them pass or fail.
 *
 * Every loop is bounded in simulated time, and the event loop fails the
 * test when a node asks to run again at the same instant or datagrams
 * pile up, so a bug fails instead of hanging.
 *
 * Debugging: GOSSIP_SIM_ONLY=test_name runs one test; GOSSIP_SIM_SEED=n
 * shifts every test's seed (sweeps); GOSSIP_SIM_TRACE=1 prints member
 * events.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/gossip_sim.h"

static int teardown(void **state)
{
	sim_free(*state);
	*state = NULL;
	return 0;
}

static void test_join(uint32_t n, uint64_t seed, void **state)
{
	struct sim *s = sim_new(n, seed);
	char what[64];

	*state = s;
	snprintf(what, sizeof(what), "join, %u nodes, until all see all", n);
	join_and_converge(s, 10000, what);
	/* Quiet afterwards: nobody suspected anybody. */
	sim_run(s, s->now + 60000);
	assert_int_equal(s->suspects, 0);
	for (uint32_t i = 0; i < n; i++)
		assert_true(sees_all_alive(s, i));
}

static void test_join_16(void **state)
{
	test_join(16, 16, state);
}

static void test_join_48(void **state)
{
	test_join(48, 48, state);
}

struct sess_arg {
	const struct flow_key *key;
	uint16_t owner;
	enum gossip_session_op op;
};

static bool pred_session(struct sim *s, uint32_t i, const void *arg)
{
	const struct sess_arg *a = arg;
	struct gossip_session_info si;

	return gossip_session_lookup(s->nodes[i].g, a->key, &si) == 0 &&
	       si.owner == a->owner && si.state == a->op;
}

/* Node i holds every session of the burst, established by owner 5. */
static bool pred_burst(struct sim *s, uint32_t i, const void *arg)
{
	const uint32_t *n = arg;
	struct gossip_session_info si;
	struct flow_key k;
	uint32_t j;

	if (gossip_session_count(s->nodes[i].g, true) < *n)
		return false;
	for (j = 0; j < *n; j++) {
		make_key(&k, j);
		if (gossip_session_lookup(s->nodes[i].g, &k, &si) ||
		    si.owner != 5 || si.state != GOSSIP_SESSION_ESTABLISHED)
			return false;
	}
	return true;
}

/* Node i holds the forecast arg (a published update) of its node. */
static bool pred_forecast(struct sim *s, uint32_t i, const void *arg)
{
	const struct gossip_forecast_update *want = arg;
	struct gossip_member_info mi;

	return gossip_member_get(s->nodes[i].g, want->node, &mi) == 0 &&
	       mi.has_forecast && mi.forecast.horizon_s == want->horizon_s &&
	       mi.forecast.cpu_hi == want->cpu_hi &&
	       mi.forecast.mem_permille == want->mem_permille &&
	       mi.forecast.bandwidth_hi_bps == want->bandwidth_hi_bps;
}

/*
 * A node's load forecast reaches every member, and a newer one replaces
 * it everywhere (16 nodes, then anti-entropy keeps it for late joiners).
 */
static void test_forecast_spreads(void **state)
{
	struct sim *s = sim_new(16, 8);
	struct gossip_forecast_update f = {.horizon_s = 60,
					   .cpu_permille = 640,
					   .cpu_hi = 910,
					   .mem_permille = 300,
					   .mem_hi = 320,
					   .bandwidth_bps = 1000000,
					   .bandwidth_hi_bps = 3000000};
	uint64_t times[MAXN];

	*state = s;
	join_and_converge(s, 10000, NULL);
	sim_run(s, s->now + 2000);
	f.node = 4; /* node index 3 */
	assert_int_equal(gossip_forecast_report(s->nodes[3].g, &f), 0);
	sim_after(s, 3);
	assert_int_equal(sim_until_all(s, pred_forecast, &f, 5000, times), 0);
	f.cpu_hi = 990; /* a newer forecast: everyone takes it */
	assert_int_equal(gossip_forecast_report(s->nodes[3].g, &f), 0);
	sim_after(s, 3);
	assert_int_equal(sim_until_all(s, pred_forecast, &f, 5000, times), 0);
	f.cpu_permille = 999; /* above its upper end: refused */
	assert_int_equal(gossip_forecast_report(s->nodes[3].g, &f), -EINVAL);
}

/* One announce on a 16-node LAN: pushed at once, forwarded at once. */
static void test_session_announce_16(void **state)
{
	struct sim *s = sim_new(16, 6);
	uint64_t times[MAXN], up[MAXN];
	struct flow_key k;
	struct sess_arg a = {
		.key = &k, .owner = 5, .op = GOSSIP_SESSION_ESTABLISHED};
	uint32_t n;

	*state = s;
	join_and_converge(s, 10000, NULL);
	sim_run(s, s->now + 2000);
	make_key(&k, 1);
	assert_int_equal(gossip_session_announce(s->nodes[4].g, &k, 5, 1), 0);
	sim_after(s, 4);
	assert_int_equal(sim_until_all(s, pred_session, &a, 5000, times), 0);
	n = up_times(s, times, up);
	print_figure("session announce, 16 nodes", up, n);
	assert_int_equal(gossip_session_close(s->nodes[4].g, &k, 5, 1), 0);
	sim_after(s, 4);
	a.op = GOSSIP_SESSION_CLOSED;
	assert_int_equal(sim_until_all(s, pred_session, &a, 5000, times), 0);
	n = up_times(s, times, up);
	print_figure("session close, 16 nodes", up, n);
	for (uint32_t j = 0; j < s->n; j++)
		assert_int_equal(gossip_session_count(s->nodes[j].g, true), 0);
}

static void test_session_announce(void **state)
{
	struct sim *s = sim_new(48, 7);
	uint64_t times[MAXN], up[MAXN];
	struct flow_key k;
	struct sess_arg a = {.key = &k, .owner = 5};
	uint32_t i, j, n, burst = 100;

	*state = s;
	join_and_converge(s, 10000, NULL);
	sim_run(s, s->now + 2000);
	/* A burst of 100 sessions on node 5, timed until each node holds
	 * all of them. */
	for (i = 0; i < burst; i++) {
		make_key(&k, i);
		assert_int_equal(
			gossip_session_announce(s->nodes[4].g, &k, 5, 1), 0);
		sim_after(s, 4);
	}
	assert_int_equal(sim_until_all(s, pred_burst, &burst, 5000, times), 0);
	n = up_times(s, times, up);
	print_figure("session announce (burst of 100), 48 nodes", up, n);
	for (j = 0; j < s->n; j++)
		assert_int_equal(gossip_session_count(s->nodes[j].g, true),
				 100);
	/* Close: reaches everyone too, and wins over the establish. */
	assert_int_equal(gossip_session_close(s->nodes[4].g, &k, 5, 1), 0);
	sim_after(s, 4);
	a.op = GOSSIP_SESSION_CLOSED;
	assert_int_equal(sim_until_all(s, pred_session, &a, 5000, times), 0);
	n = up_times(s, times, up);
	print_figure("session close, 48 nodes", up, n);
	for (j = 0; j < s->n; j++)
		assert_int_equal(gossip_session_count(s->nodes[j].g, true), 99);
}

struct state_arg {
	uint16_t id;
	enum gossip_state st;
};

static bool pred_state(struct sim *s, uint32_t i, const void *arg)
{
	const struct state_arg *a = arg;
	struct gossip_member_info m;

	return gossip_member_get(s->nodes[i].g, a->id, &m) == 0 &&
	       m.state == a->st;
}

/* A crashed node is known dead by every other within 10 s (the figure
 * is what counts: about 1.5 s with the defaults). */
static void test_crash(uint32_t n, uint64_t seed, void **state)
{
	struct sim *s = sim_new(n, seed);
	uint64_t times[MAXN], up[MAXN];
	struct state_arg a = {.id = 7, .st = GOSSIP_DEAD};
	char what[64];
	uint32_t m, i;

	*state = s;
	join_and_converge(s, 10000, NULL);
	sim_run(s, s->now + 5000);
	s->nodes[6].up = false;
	assert_int_equal(sim_until_all(s, pred_state, &a, 10000, times), 0);
	m = up_times(s, times, up);
	snprintf(what, sizeof(what), "crash detection, %u nodes", n);
	print_figure(what, up, m);
	assert_int_equal(s->false_dead, 0);
	/* Suspected, then dead: each node that held it suspect timed it,
	 * within the 10 s it took at most. */
	for (m = 0, i = 0; i < n; i++) {
		const struct hist *h;

		if (!s->nodes[i].up)
			continue;
		h = &gossip_hists(s->nodes[i].g)->suspect_dead;
		m += (uint32_t)h->count;
		assert_true(h->sum_us <= h->count * 10000000ull);
		assert_int_equal(
			gossip_hists(s->nodes[i].g)->suspect_refuted.count, 0);
	}
	assert_true(m >= 1);
}

static void test_crash_16(void **state)
{
	test_crash(16, 3, state);
}

static void test_crash_48(void **state)
{
	test_crash(48, 4, state);
}

/* With 10% loss too, a crashed node is known dead by all, and no other
 * is declared dead meanwhile. */
static void test_crash_under_loss(void **state)
{
	struct sim *s = sim_new(48, 5);
	uint64_t times[MAXN], up[MAXN];
	struct state_arg a = {.id = 9, .st = GOSSIP_DEAD};
	uint32_t m;

	*state = s;
	join_and_converge(s, 10000, NULL);
	s->loss = 0.10;
	sim_run(s, s->now + 10000);
	s->nodes[8].up = false;
	assert_int_equal(sim_until_all(s, pred_state, &a, 10000, times), 0);
	m = up_times(s, times, up);
	print_figure("crash detection, 48 nodes, 10% loss", up, m);
	sim_run(s, s->now + 20000);
	assert_int_equal(s->false_dead, 0);
}

/*
 * 10% loss on every datagram for 10 simulated minutes: suspicions come
 * and go, but nobody is ever declared dead; once the loss stops, all
 * see all alive (under loss a suspicion may be on its way at any
 * instant, so that is checked after it).
 */
static void test_loss_no_false_positive(void **state)
{
	struct sim *s = sim_new(48, 11);
	uint64_t times[MAXN];

	*state = s;
	join_and_converge(s, 10000, NULL);
	s->loss = 0.10;
	sim_run(s, s->now + 600000);
	printf("[figure] 10%% loss, 48 nodes, 600 s: %u suspicions raised, "
	       "%u false deaths, %llu of %llu datagrams dropped\n",
	       s->suspects, s->false_dead, (unsigned long long)s->dropped,
	       (unsigned long long)s->sent);
	assert_int_equal(s->false_dead, 0);
	s->loss = 0;
	assert_int_equal(sim_until_all(s, pred_alive, NULL, 10000, times), 0);
	assert_int_equal(s->false_dead, 0);
}

/*
 * Node 10 misses every copy of a session announce (the network strips
 * it from every datagram to node 10, which otherwise goes on as usual:
 * cutting the node off for as long as dissemination lasts would get it
 * declared dead, rightly, by a detector this fast). Once dissemination
 * is over nothing brings it; anti-entropy does.
 */
static void test_antientropy_repairs(void **state)
{
	struct sim *s = sim_new(16, 21);
	struct flow_key k;
	struct sess_arg a = {
		.key = &k, .owner = 2, .op = GOSSIP_SESSION_ESTABLISHED};
	struct gossip_session_info si;
	uint64_t times[MAXN], start;

	*state = s;
	join_and_converge(s, 10000, NULL);
	make_key(&k, 77);
	s->strip = true;
	s->strip_dst = 9;
	s->strip_key = k;
	assert_int_equal(gossip_session_announce(s->nodes[1].g, &k, 2, 3), 0);
	sim_after(s, 1);
	sim_run(s, s->now + 3000);
	s->strip = false;
	assert_true(s->stripped > 0);
	assert_int_equal(gossip_session_lookup(s->nodes[9].g, &k, &si),
			 -ENOENT);
	start = s->now;
	/* Dissemination is over: ten more seconds bring nothing. */
	sim_run(s, s->now + 10000);
	assert_int_equal(gossip_session_lookup(s->nodes[9].g, &k, &si),
			 -ENOENT);
	assert_int_equal(sim_until_all(s, pred_session, &a, 120000, times), 0);
	printf("[figure] anti-entropy repair of a missed announce: %llu ms "
	       "after dissemination ended\n",
	       (unsigned long long)(s->now - start));
	assert_true(gossip_counters(s->nodes[9].g)->sync_updates > 0);
	assert_int_equal(s->false_dead, 0);
	assert_int_equal(s->suspects, 0);
}

/* Two halves apart for 60 s declare each other dead; once healed,
 * anti-entropy with dead members brings everyone back, with what was
 * announced on one side during the split. */
static void test_partition_heals(void **state)
{
	struct sim *s = sim_new(16, 31);
	uint64_t times[MAXN], up[MAXN];
	struct flow_key k;
	struct sess_arg a = {
		.key = &k, .owner = 3, .op = GOSSIP_SESSION_ESTABLISHED};
	struct state_arg dead = {.id = 12, .st = GOSSIP_DEAD};
	struct gossip_member_info m;
	uint32_t i, n;

	*state = s;
	join_and_converge(s, 10000, NULL);
	for (i = 8; i < 16; i++)
		s->nodes[i].group = 1;
	make_key(&k, 5);
	assert_int_equal(gossip_session_announce(s->nodes[2].g, &k, 3, 1), 0);
	sim_after(s, 2);
	sim_run(s, s->now + 60000);
	assert_true(pred_state(s, 0, &dead));
	assert_int_equal(gossip_member_get(s->nodes[12].g, 1, &m), 0);
	assert_int_equal(m.state, GOSSIP_DEAD);
	for (i = 0; i < 16; i++)
		s->nodes[i].group = 0;
	assert_int_equal(sim_until_all(s, pred_alive, NULL, 300000, times), 0);
	n = up_times(s, times, up);
	print_figure("partition heal (16 nodes, 60 s split), all alive", up, n);
	assert_int_equal(sim_until_all(s, pred_session, &a, 120000, times), 0);
}

static void test_graceful_leave(void **state)
{
	struct sim *s = sim_new(16, 41);
	uint64_t times[MAXN], up[MAXN];
	struct state_arg a = {.id = 4, .st = GOSSIP_LEFT};
	uint32_t n;

	*state = s;
	join_and_converge(s, 10000, NULL);
	assert_int_equal(gossip_leave(s->nodes[3].g), 0);
	sim_after(s, 3);
	assert_int_equal(gossip_leave(s->nodes[3].g), -EALREADY);
	/* The leaver stays up a second to spread the news, then goes. */
	sim_run(s, s->now + 1000);
	s->nodes[3].up = false;
	assert_int_equal(sim_until_all(s, pred_state, &a, 10000, times), 0);
	n = up_times(s, times, up);
	print_figure("graceful leave seen as left, 16 nodes", up, n);
	sim_run(s, s->now + 60000);
	assert_int_equal(s->dead_of[4], 0);
	assert_int_equal(s->false_dead, 0);
	for (uint32_t i = 0; i < s->n; i++)
		if (s->nodes[i].up)
			assert_true(pred_state(s, i, &a));
}

/* A forged-in suspicion of node 3 (from a node id outside the cluster,
 * but with the cluster key) is refuted by node 3 with a higher
 * incarnation; nobody ever marks it dead. */
static void test_refute_suspicion(void **state)
{
	struct sim *s = sim_new(16, 51);
	struct gossip_msg *msg = calloc(1, sizeof(*msg));
	struct gossip_member_info m;
	struct gossip_addr from;
	uint8_t buf[GOSSIP_DGRAM_MAX];
	uint32_t i, n;
	int len;

	*state = s;
	assert_non_null(msg);
	join_and_converge(s, 10000, NULL);
	assert_int_equal(gossip_incarnation(s->nodes[2].g), 0);
	msg->type = GOSSIP_MSG_GOSSIP;
	msg->sender = 999;
	msg->seq = 1;
	msg->n_updates = 1;
	msg->updates[0].kind = GOSSIP_UPD_MEMBER;
	msg->updates[0].member.node = 3;
	msg->updates[0].member.state = GOSSIP_SUSPECT;
	msg->updates[0].member.incarnation = 0;
	msg->updates[0].member.from = 999;
	addr_of(2, &msg->updates[0].member.addr);
	len = gossip_codec_encode(&s->auth, msg, buf, sizeof(buf));
	assert_true(len > 0);
	addr_of(40, &from);
	for (i = 5; i < 8; i++) {
		assert_int_equal(
			gossip_recv(s->nodes[i].g, buf, (size_t)len, &from), 0);
		sim_after(s, i);
	}
	assert_true(s->suspect_of[3] >= 3);
	sim_run(s, s->now + 30000);
	assert_true(gossip_incarnation(s->nodes[2].g) >= 1);
	assert_true(gossip_counters(s->nodes[2].g)->refutes >= 1);
	for (i = 0; i < s->n; i++) {
		assert_int_equal(gossip_member_get(s->nodes[i].g, 3, &m), 0);
		assert_int_equal(m.state, GOSSIP_ALIVE);
		assert_true(m.incarnation >= 1);
	}
	assert_int_equal(s->dead_of[3], 0);
	/* The nodes that held it suspect timed the suspicion's refutation;
	 * nobody timed a death. */
	for (n = 0, i = 0; i < s->n; i++) {
		n += (uint32_t)gossip_hists(s->nodes[i].g)
			     ->suspect_refuted.count;
		assert_int_equal(
			gossip_hists(s->nodes[i].g)->suspect_dead.count, 0);
	}
	assert_true(n >= 3);
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_join_16, teardown),
		cmocka_unit_test_teardown(test_join_48, teardown),
		cmocka_unit_test_teardown(test_session_announce_16, teardown),
		cmocka_unit_test_teardown(test_forecast_spreads, teardown),
		cmocka_unit_test_teardown(test_session_announce, teardown),
		cmocka_unit_test_teardown(test_crash_16, teardown),
		cmocka_unit_test_teardown(test_crash_48, teardown),
		cmocka_unit_test_teardown(test_crash_under_loss, teardown),
		cmocka_unit_test_teardown(test_loss_no_false_positive,
					  teardown),
		cmocka_unit_test_teardown(test_antientropy_repairs, teardown),
		cmocka_unit_test_teardown(test_partition_heals, teardown),
		cmocka_unit_test_teardown(test_graceful_leave, teardown),
		cmocka_unit_test_teardown(test_refute_suspicion, teardown),
	};

	if (getenv("GOSSIP_SIM_SEED"))
		seed_shift = strtoull(getenv("GOSSIP_SIM_SEED"), NULL, 0);
	if (getenv("GOSSIP_SIM_ONLY"))
		cmocka_set_test_filter(getenv("GOSSIP_SIM_ONLY"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
