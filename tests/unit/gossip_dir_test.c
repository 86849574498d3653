// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ownership by directory, in the gossip simulator (tests/sim): a record
 * reaches its homes and nobody else; every node agrees on the homes; a
 * home teaches an ingress and passes it the close; a dead home is
 * replaced and the new one learns the records; a lost record is repaired
 * by the owners' refresh, or at once when a home asks who owns it;
 * taught records expire, homed ones do not; each
 * node holds exactly its own sessions and those it homes.
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

struct dir_opts {
	uint32_t homes;
	uint32_t refresh_ms, expire_ms;
};

static void dir_hook(struct gossip_config *c, void *arg)
{
	const struct dir_opts *o = arg;

	c->ownership = GOSSIP_OWN_DIRECTORY;
	c->dir_homes = o->homes;
	c->dir_refresh_ms = o->refresh_ms;
	c->dir_expire_ms = o->expire_ms;
	c->dir_secret.k0 = 0x0123456789abcdefull;
	c->dir_secret.k1 = 0xfedcba9876543210ull;
}

static struct sim *dir_sim(uint32_t n, uint64_t seed, struct dir_opts *o)
{
	struct sim *s = sim_new_cfg(n, seed, dir_hook, o);

	join_and_converge(s, 10000, NULL);
	return s;
}

static int teardown(void **state)
{
	sim_free(*state);
	*state = NULL;
	return 0;
}

static bool holds(struct sim *s, uint32_t i, const struct flow_key *k,
		  enum gossip_session_op op)
{
	struct gossip_session_info si;

	return !gossip_session_lookup(s->nodes[i].g, k, &si) && si.state == op;
}

static bool is_home(const uint16_t *homes, uint32_t n, uint32_t i)
{
	uint32_t j;

	for (j = 0; j < n; j++)
		if (homes[j] == i + 1)
			return true;
	return false;
}

/* The homes of k as node 0 sees them; every node must agree. */
static uint32_t homes_of(struct sim *s, const struct flow_key *k,
			 uint16_t *homes)
{
	uint16_t other[GOSSIP_DIR_HOMES_MAX];
	uint32_t n, i;

	n = gossip_dir_homes(s->nodes[0].g, k, homes, GOSSIP_DIR_HOMES_MAX);
	for (i = 1; i < s->n; i++) {
		if (!s->nodes[i].up)
			continue;
		assert_int_equal(gossip_dir_homes(s->nodes[i].g, k, other,
						  GOSSIP_DIR_HOMES_MAX),
				 n);
		assert_memory_equal(homes, other, n * sizeof(*homes));
	}
	return n;
}

static void test_reaches_homes_only(void **state)
{
	struct dir_opts o = {2, 30000, 150000};
	struct sim *s = dir_sim(16, 101, &o);
	uint16_t homes[GOSSIP_DIR_HOMES_MAX];
	struct flow_key k;
	uint32_t i, n, held = 0;

	*state = s;
	make_key(&k, 1);
	assert_int_equal(gossip_session_announce(s->nodes[4].g, &k, 5, 100), 0);
	sim_after(s, 4);
	sim_run(s, s->now + 500);
	n = homes_of(s, &k, homes);
	assert_int_equal(n, 2);
	for (i = 0; i < s->n; i++) {
		bool want = i == 4 || is_home(homes, n, i);

		assert_int_equal(holds(s, i, &k, GOSSIP_SESSION_ESTABLISHED),
				 want);
		held += want;
	}
	/* The owner may be a home of its own session. */
	assert_true(held == 2 || held == 3);
	assert_int_equal(s->session_events, held);
}

/*
 * Node 5 (index 4) announces session key_i (k); *h: the index of a home
 * that is not the owner, *ingress: of a node neither owner nor home.
 */
static void announce_at_5(struct sim *s, uint32_t key_i, struct flow_key *k,
			  uint32_t *h, uint32_t *ingress)
{
	uint16_t homes[GOSSIP_DIR_HOMES_MAX];

	make_key(k, key_i);
	assert_int_equal(gossip_session_announce(s->nodes[4].g, k, 5, 100), 0);
	sim_after(s, 4);
	sim_run(s, s->now + 200);
	homes_of(s, k, homes);
	*h = homes[0] == 5 ? homes[1] - 1u : homes[0] - 1u;
	for (*ingress = 0; *ingress == 4 || is_home(homes, 2, *ingress);
	     (*ingress)++)
		;
}

static void test_teach_then_close(void **state)
{
	struct dir_opts o = {2, 30000, 150000};
	struct sim *s = dir_sim(16, 102, &o);
	struct flow_key k;
	uint32_t ingress, h;

	*state = s;
	announce_at_5(s, 2, &k, &h, &ingress);
	assert_false(holds(s, ingress, &k, GOSSIP_SESSION_ESTABLISHED));
	/* Only a home that holds the record teaches; not to the owner. */
	assert_int_equal(gossip_dir_teach(s->nodes[h].g, &k, 5), -ENOENT);
	assert_int_equal(
		gossip_dir_teach(s->nodes[ingress].g, &k, (uint16_t)(h + 1)),
		-ENOENT);
	assert_int_equal(
		gossip_dir_teach(s->nodes[h].g, &k, (uint16_t)(ingress + 1)),
		0);
	sim_after(s, h);
	sim_run(s, s->now + 200);
	assert_true(holds(s, ingress, &k, GOSSIP_SESSION_ESTABLISHED));
	/* The close goes to the homes, and on to the taught ingress. */
	assert_int_equal(gossip_session_close(s->nodes[4].g, &k, 5, 100), 0);
	sim_after(s, 4);
	sim_run(s, s->now + 200);
	assert_true(holds(s, ingress, &k, GOSSIP_SESSION_CLOSED));
	assert_true(holds(s, h, &k, GOSSIP_SESSION_CLOSED));
	assert_true(gossip_counters(s->nodes[h].g)->dir_forwarded >= 1);
}

static void test_dead_home_replaced(void **state)
{
	struct dir_opts o = {2, 30000, 150000};
	struct sim *s = dir_sim(16, 103, &o);
	uint16_t before[GOSSIP_DIR_HOMES_MAX], after[GOSSIP_DIR_HOMES_MAX];
	struct flow_key k;
	uint32_t key_i = 3, victim, i;

	*state = s;
	/* A session none of whose homes is its owner, node 5. */
	for (;; key_i++) {
		make_key(&k, key_i);
		homes_of(s, &k, before);
		if (before[0] != 5 && before[1] != 5)
			break;
	}
	assert_int_equal(gossip_session_announce(s->nodes[4].g, &k, 5, 100), 0);
	sim_after(s, 4);
	sim_run(s, s->now + 500);
	victim = before[0] - 1u;
	s->nodes[victim].up = false;
	/* Failure detection (about a second here), then the rehome. */
	sim_run(s, s->now + 8000);
	homes_of(s, &k, after);
	assert_int_equal(after[0], before[1]);
	assert_int_not_equal(after[1], before[0]);
	for (i = 0; i < 2; i++)
		assert_true(holds(s, after[i] - 1u, &k,
				  GOSSIP_SESSION_ESTABLISHED));
	assert_true(gossip_counters(s->nodes[4].g)->dir_refreshes >= 1);
}

/* Node 5 (index 4) announces k while every datagram carrying it to one
 * of its homes that is not node 5 loses it; returns that home's index. */
static uint32_t announce_lost(struct sim *s, const struct flow_key *k)
{
	uint16_t homes[GOSSIP_DIR_HOMES_MAX];
	uint32_t lost;

	homes_of(s, k, homes);
	lost = homes[0] == 5 ? homes[1] - 1u : homes[0] - 1u;
	s->strip = true;
	s->strip_dst = (uint16_t)lost;
	s->strip_key = *k;
	assert_int_equal(gossip_session_announce(s->nodes[4].g, k, 5, 100), 0);
	sim_after(s, 4);
	sim_run(s, s->now + 500);
	assert_true(s->stripped >= 1);
	assert_false(holds(s, lost, k, GOSSIP_SESSION_ESTABLISHED));
	s->strip = false;
	return lost;
}

static void test_refresh_repairs_loss(void **state)
{
	struct dir_opts o = {2, 2000, 6000};
	struct sim *s = dir_sim(16, 104, &o);
	struct flow_key k;
	uint32_t lost;

	*state = s;
	make_key(&k, 4);
	lost = announce_lost(s, &k);
	sim_run(s, s->now + 3000); /* one refresh: at most 2.5 s */
	assert_true(holds(s, lost, &k, GOSSIP_SESSION_ESTABLISHED));
}

static void test_taught_expire_homed_stay(void **state)
{
	struct dir_opts o = {2, 1000, 3000};
	struct sim *s = dir_sim(16, 105, &o);
	struct flow_key k;
	uint32_t ingress, h;

	*state = s;
	announce_at_5(s, 5, &k, &h, &ingress);
	assert_int_equal(
		gossip_dir_teach(s->nodes[h].g, &k, (uint16_t)(ingress + 1)),
		0);
	sim_after(s, h);
	sim_run(s, s->now + 200);
	assert_true(holds(s, ingress, &k, GOSSIP_SESSION_ESTABLISHED));
	sim_run(s, s->now + 5000);
	/* Unrefreshed: forgotten, and the callback saw it closed. */
	assert_int_equal(gossip_session_count(s->nodes[ingress].g, false), 0);
	assert_int_equal(gossip_counters(s->nodes[ingress].g)->dir_expired, 1);
	assert_true(holds(s, h, &k, GOSSIP_SESSION_ESTABLISHED));
	assert_true(holds(s, 4, &k, GOSSIP_SESSION_ESTABLISHED));
}

/* Each node holds its own sessions and those it homes, nothing else. */
static void test_memory_is_share(void **state)
{
	struct dir_opts o = {2, 30000, 150000};
	struct sim *s = dir_sim(48, 106, &o);
	uint16_t homes[GOSSIP_DIR_HOMES_MAX];
	uint32_t want[MAXN] = {0}, i, j, n, per = 20, total = 0;
	struct flow_key k;

	*state = s;
	for (i = 0; i < s->n; i++)
		for (j = 0; j < per; j++) {
			make_key(&k, i * per + j);
			assert_int_equal(
				gossip_session_announce(s->nodes[i].g, &k,
							(uint16_t)(i + 1), 100),
				0);
			sim_after(s, i);
			n = homes_of(s, &k, homes);
			want[i]++;
			for (uint32_t h = 0; h < n; h++)
				if (homes[h] != i + 1)
					want[homes[h] - 1]++;
		}
	sim_run(s, s->now + 1000);
	for (i = 0; i < s->n; i++) {
		assert_int_equal(gossip_session_count(s->nodes[i].g, true),
				 want[i]);
		total += want[i];
	}
	/* About (1 + homes) copies of each of the 960 sessions, not 48. */
	assert_true(total <= 3 * s->n * per);
	printf("[figure] directory, 48 nodes, 960 sessions: %.1f records "
	       "per node (flooding: 960)\n",
	       (double)total / s->n);
}

static uint32_t hints_at[MAXN];
static struct gossip_hint_update last_hint;

static void count_hint(struct sim *s, uint32_t i,
		       const struct gossip_hint_update *h)
{
	hints_at[i]++;
	last_hint = *h;
}

/* Hints reach the nodes named, as many copies as asked, from their
 * owner only; a hint naming another owner is refused. */
static void test_hints(void **state)
{
	struct dir_opts o = {2, 30000, 150000};
	struct sim *s = dir_sim(16, 107, &o);
	struct gossip_hint_update h = {
		.p_permille = 900, .ttl_s = 30, .epoch = 100};
	uint16_t to[3] = {2, 3, 9};
	struct gossip_msg *msg;
	uint64_t sent;
	struct gossip_addr from;
	uint8_t buf[GOSSIP_DGRAM_MAX];
	uint32_t i;
	int len;

	*state = s;
	memset(hints_at, 0, sizeof(hints_at));
	s->on_hint = count_hint;
	make_key(&h.key, 7);
	sent = s->sent;
	assert_int_equal(gossip_hint_send(s->nodes[4].g, to, 3, &h, 2), 0);
	/* Out at once, each copy in a datagram of its own. */
	assert_int_equal(s->sent - sent, 6);
	sim_after(s, 4);
	sim_run(s, s->now + 200);
	for (i = 0; i < s->n; i++)
		assert_int_equal(hints_at[i],
				 i == 1 || i == 2 || i == 8 ? 2 : 0);
	assert_int_equal(last_hint.owner, 5);
	assert_int_equal(last_hint.p_permille, 900);
	assert_int_equal(last_hint.ttl_s, 30);
	assert_true(flow_key_equal(&last_hint.key, &h.key));
	assert_int_equal(gossip_counters(s->nodes[4].g)->hints_sent, 6);
	/* Out of bounds: refused before anything is sent. */
	h.p_permille = 1001;
	assert_int_equal(gossip_hint_send(s->nodes[4].g, to, 3, &h, 1),
			 -EINVAL);
	h.p_permille = 900;
	assert_int_equal(gossip_hint_send(s->nodes[4].g, to, 3, &h, 0),
			 -EINVAL);
	/* Node 3 speaks for node 5's session: refused by the receiver. */
	msg = calloc(1, sizeof(*msg));
	assert_non_null(msg);
	msg->type = GOSSIP_MSG_GOSSIP;
	msg->sender = 3;
	msg->incarnation = 1;
	msg->seq = 1u << 30;
	msg->n_updates = 1;
	msg->updates[0].kind = GOSSIP_UPD_HINT;
	msg->updates[0].hint = h;
	msg->updates[0].hint.owner = 5;
	len = gossip_codec_encode(&s->auth, msg, buf, sizeof(buf));
	assert_true(len > 0);
	addr_of(2, &from);
	memset(hints_at, 0, sizeof(hints_at));
	assert_int_equal(gossip_recv(s->nodes[1].g, buf, (size_t)len, &from),
			 0);
	assert_int_equal(hints_at[1], 0);
	assert_int_equal(gossip_counters(s->nodes[1].g)->hints_refused, 1);
	free(msg);
}

static uint32_t orders_at[MAXN];
static struct gossip_order_update last_order;

static void count_order(struct sim *s, uint32_t i,
			const struct gossip_order_update *o)
{
	orders_at[i]++;
	last_order = *o;
}

/* A datagram from node `sender` (id) with one update u and sequence seq,
 * into node idx. */
static int update_from(struct sim *s, uint16_t sender, uint32_t idx,
		       const struct gossip_update *u, uint64_t seq)
{
	struct gossip_msg *msg = calloc(1, sizeof(*msg));
	uint8_t buf[GOSSIP_DGRAM_MAX];
	struct gossip_addr from;
	int len, ret;

	assert_non_null(msg);
	msg->type = GOSSIP_MSG_GOSSIP;
	msg->sender = sender;
	msg->incarnation = 1;
	msg->seq = seq;
	msg->n_updates = 1;
	msg->updates[0] = *u;
	len = gossip_codec_encode(&s->auth, msg, buf, sizeof(buf));
	assert_true(len > 0);
	addr_of((uint16_t)(sender - 1), &from);
	ret = gossip_recv(s->nodes[idx].g, buf, (size_t)len, &from);
	free(msg);
	return ret;
}

/* A datagram from node `sender` (id) with one order, into node idx. */
static int order_from(struct sim *s, uint16_t sender, uint32_t idx,
		      const struct gossip_order_update *o)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_ORDER};

	u.order = *o;
	return update_from(s, sender, idx, &u, (1u << 30) + o->id);
}

/* An operator's order reaches the node it is for, in three datagrams,
 * and is applied once; orders for another node or speaking for another
 * sender are refused; bad orders are not sent. */
static void test_orders(void **state)
{
	struct sim *s = sim_new(8, 109);
	struct gossip_order_update o = {.node = 3, .from = 5, .id = 77};
	uint64_t sent;
	uint32_t i;

	*state = s;
	join_and_converge(s, 10000, NULL);
	memset(orders_at, 0, sizeof(orders_at));
	s->on_order = count_order;
	sent = s->sent;
	assert_int_equal(
		gossip_order_send(s->nodes[4].g, 3, GOSSIP_ORDER_DRAIN), 0);
	assert_int_equal(s->sent - sent, GOSSIP_ORDER_COPIES);
	sim_after(s, 4);
	sim_run(s, s->now + 200);
	for (i = 0; i < s->n; i++)
		assert_int_equal(orders_at[i], i == 2 ? 1 : 0);
	assert_int_equal(last_order.from, 5);
	assert_int_equal(last_order.op, GOSSIP_ORDER_DRAIN);
	assert_int_equal(gossip_counters(s->nodes[4].g)->orders_sent, 1);
	assert_int_equal(gossip_counters(s->nodes[2].g)->orders_in, 1);
	/* Not sent: to ourselves, to nobody known, a bad op. */
	assert_int_equal(
		gossip_order_send(s->nodes[4].g, 5, GOSSIP_ORDER_DRAIN),
		-EINVAL);
	assert_int_equal(
		gossip_order_send(s->nodes[4].g, 200, GOSSIP_ORDER_DRAIN),
		-ENOENT);
	assert_int_equal(gossip_order_send(s->nodes[4].g, 3, 7), -EINVAL);
	/* Into node 3 (idx 2): from its sender, once; a copy, not again. */
	o.op = GOSSIP_ORDER_UNDRAIN;
	memset(orders_at, 0, sizeof(orders_at));
	assert_int_equal(order_from(s, 5, 2, &o), 0);
	assert_int_equal(orders_at[2], 1);
	assert_int_equal(last_order.op, GOSSIP_ORDER_UNDRAIN);
	o.id = 78;
	(void)order_from(s, 5, 2, &o);
	o.id = 77;
	(void)order_from(s, 5, 2, &o);
	assert_int_equal(orders_at[2], 2);
	/* Node 6 speaks for node 5; an order for node 4 sent to node 3. */
	o.id = 79;
	(void)order_from(s, 6, 2, &o);
	o.node = 4;
	(void)order_from(s, 5, 2, &o);
	assert_int_equal(orders_at[2], 2);
	assert_int_equal(gossip_counters(s->nodes[2].g)->orders_refused, 2);
}

/*
 * A home that lost a record asks who owns it: the owner answers, the
 * record reaches the home long before the refresh (30 s) would; the
 * others know nothing to say. An ask speaking for another node is
 * refused; asks beyond the rate are not sent.
 */
static void test_ask_repairs_loss(void **state)
{
	struct dir_opts o = {2, 30000, 150000};
	struct sim *s = dir_sim(16, 110, &o);
	struct gossip_update u = {.kind = GOSSIP_UPD_ASK};
	struct flow_key k;
	uint32_t lost, i, answered = 0, in = 0, sent = 0;

	*state = s;
	make_key(&k, 11);
	lost = announce_lost(s, &k);
	assert_int_equal(gossip_dir_ask(s->nodes[lost].g, &k), 0);
	sim_after(s, lost);
	sim_run(s, s->now + 200);
	assert_true(holds(s, lost, &k, GOSSIP_SESSION_ESTABLISHED));
	for (i = 0; i < s->n; i++) {
		answered += gossip_counters(s->nodes[i].g)->asks_answered;
		in += gossip_counters(s->nodes[i].g)->asks_in;
	}
	assert_int_equal(answered, 1);
	assert_int_equal(gossip_counters(s->nodes[4].g)->asks_answered, 1);
	assert_int_equal(in, s->n - 1);

	/* Node 7 asks in node 6's name: refused, not answered. */
	u.ask.asker = 6;
	u.ask.key = k;
	assert_int_equal(update_from(s, 7, 4, &u, 1u << 30), 0);
	assert_int_equal(gossip_counters(s->nodes[4].g)->asks_refused, 1);
	assert_int_equal(gossip_counters(s->nodes[4].g)->asks_answered, 1);

	/* A burst of asks: GOSSIP_ASK_RATE go, the rest wait. */
	for (i = 0; i < 2 * GOSSIP_ASK_RATE; i++)
		sent += gossip_dir_ask(s->nodes[0].g, &k) == 0;
	assert_int_equal(sent, GOSSIP_ASK_RATE);
	assert_int_equal(gossip_counters(s->nodes[0].g)->asks_limited,
			 GOSSIP_ASK_RATE);
	k.proto = 1; /* neither TCP nor UDP */
	assert_int_equal(gossip_dir_ask(s->nodes[1].g, &k), -EINVAL);
}

static uint64_t zero_now(void *ctx)
{
	return 0;
}

static int no_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	return 0;
}

static void test_config_checked(void **state)
{
	struct gossip_io io = {.now_ms = zero_now, .send = no_send};
	struct gossip_config c;
	struct gossip *g;

	(void)state;
	gossip_config_default(&c);
	c.self_id = 1;
	c.ownership = GOSSIP_OWN_DIRECTORY;
	g = gossip_new(&c, &io, NULL); /* the defaults are valid */
	assert_non_null(g);
	gossip_free(g);
	c.dir_homes = GOSSIP_DIR_HOMES_MAX + 1;
	assert_null(gossip_new(&c, &io, NULL));
	c.dir_homes = 2;
	c.dir_expire_ms = c.dir_refresh_ms;
	assert_null(gossip_new(&c, &io, NULL));
	c.ownership = 7;
	assert_null(gossip_new(&c, &io, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reaches_homes_only, teardown),
		cmocka_unit_test_teardown(test_teach_then_close, teardown),
		cmocka_unit_test_teardown(test_dead_home_replaced, teardown),
		cmocka_unit_test_teardown(test_refresh_repairs_loss, teardown),
		cmocka_unit_test_teardown(test_taught_expire_homed_stay,
					  teardown),
		cmocka_unit_test_teardown(test_memory_is_share, teardown),
		cmocka_unit_test_teardown(test_hints, teardown),
		cmocka_unit_test_teardown(test_orders, teardown),
		cmocka_unit_test_teardown(test_ask_repairs_loss, teardown),
		cmocka_unit_test(test_config_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
