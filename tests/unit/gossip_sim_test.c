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

#include "gossip/gossip.h"

#define MAXN 48
#define NONE UINT64_MAX
/* Datagrams in flight at once: far above any sane protocol's. */
#define SIM_MAX_INFLIGHT 100000
/* sim_until_all() checks its bound this often (times are exact). */
#define STEP_MS 10

struct pkt {
	uint64_t at;
	uint64_t serial; /* ties broken by send order: determinism */
	struct pkt *next_free;
	uint16_t src, dst;
	uint16_t len;
	uint8_t data[GOSSIP_DGRAM_MAX];
};

struct sim;

struct snode {
	struct sim *s;
	struct gossip *g;
	uint16_t idx;
	bool up;
	int group;
	uint64_t next;
};

typedef bool (*node_pred)(struct sim *s, uint32_t i, const void *arg);

struct sim {
	uint64_t now;
	uint64_t rng;
	uint32_t n;
	double loss;
	uint32_t delay_min, delay_jitter;
	struct snode nodes[MAXN];
	struct pkt **heap;
	uint32_t heap_n, heap_cap;
	struct pkt *free_pkts;
	uint64_t serial;
	uint64_t sent, dropped;
	/* Events seen through the callbacks. */
	uint32_t false_dead; /* a node that is up marked dead by another */
	uint32_t suspects;
	uint32_t dead_of[MAXN + 1]; /* dead events about node id */
	uint32_t suspect_of[MAXN + 1];
	struct gossip_key key;
	bool trace;
	/* sim_until_all(): pred is checked after every event of a node. */
	node_pred watch;
	const void *watch_arg;
	uint64_t *watch_times;
	uint64_t watch_start;
	/* Datagrams to node strip_dst lose any update about strip_key. */
	bool strip;
	uint16_t strip_dst;
	struct flow_key strip_key;
	struct gossip_auth auth;
	struct gossip_msg msg;
	uint64_t stripped;
};

static uint64_t seed_shift;

static uint64_t sim_rand(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double sim_unit(struct sim *s)
{
	return (double)(sim_rand(s) >> 11) / 9007199254740992.0;
}

static void addr_of(uint16_t idx, struct gossip_addr *a)
{
	memset(a, 0, sizeof(*a));
	flow_addr_set_v4(&a->ip, __builtin_bswap32(0x0a000001u + idx));
	a->port = GOSSIP_PORT;
}

/* Index of the node at an address, or -1. */
static int idx_of(const struct sim *s, const struct gossip_addr *a)
{
	uint32_t v4 = __builtin_bswap32(a->ip.w[3]) - 0x0a000001u;

	if (!flow_addr_is_v4(&a->ip) || a->port != GOSSIP_PORT || v4 >= s->n)
		return -1;
	return (int)v4;
}

static bool pkt_less(const struct pkt *a, const struct pkt *b)
{
	return a->at < b->at || (a->at == b->at && a->serial < b->serial);
}

static void heap_push(struct sim *s, struct pkt *p)
{
	uint32_t i;

	if (s->heap_n == s->heap_cap) {
		s->heap_cap = s->heap_cap ? s->heap_cap * 2 : 1024;
		s->heap = realloc(s->heap, s->heap_cap * sizeof(*s->heap));
		assert_non_null(s->heap);
	}
	i = s->heap_n++;
	while (i && pkt_less(p, s->heap[(i - 1) / 2])) {
		s->heap[i] = s->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	s->heap[i] = p;
}

static struct pkt *heap_pop(struct sim *s)
{
	struct pkt *top = s->heap[0], *last = s->heap[--s->heap_n];
	uint32_t i = 0, c;

	while ((c = 2 * i + 1) < s->heap_n) {
		if (c + 1 < s->heap_n && pkt_less(s->heap[c + 1], s->heap[c]))
			c++;
		if (!pkt_less(s->heap[c], last))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	if (s->heap_n)
		s->heap[i] = last;
	return top;
}

/* Packets are recycled: the simulation sends millions. */
static struct pkt *pkt_get(struct sim *s)
{
	struct pkt *p = s->free_pkts;

	if (p) {
		s->free_pkts = p->next_free;
		return p;
	}
	p = malloc(sizeof(*p));
	assert_non_null(p);
	return p;
}

static void pkt_put(struct sim *s, struct pkt *p)
{
	p->next_free = s->free_pkts;
	s->free_pkts = p;
}

/* Remove updates about strip_key from a datagram for strip_dst,
 * re-sealing it as its sender did (same sequence). Returns its length. */
static size_t strip_session(struct sim *s, uint8_t *buf, size_t len)
{
	struct gossip_msg *m = &s->msg;
	uint32_t unknown;
	uint16_t i, n = 0;
	int out;

	assert_int_equal(gossip_codec_decode(&s->auth, buf, len, m, &unknown),
			 GOSSIP_RX_OK);
	for (i = 0; i < m->n_updates; i++) {
		if (m->updates[i].kind == GOSSIP_UPD_SESSION &&
		    flow_key_equal(&m->updates[i].session.key, &s->strip_key)) {
			s->stripped++;
			continue;
		}
		m->updates[n++] = m->updates[i];
	}
	if (n == m->n_updates)
		return len;
	m->n_updates = n;
	out = gossip_codec_encode(&s->auth, m, buf, GOSSIP_DGRAM_MAX);
	assert_true(out > 0);
	return (size_t)out;
}

static uint64_t io_now(void *ctx)
{
	return ((struct snode *)ctx)->s->now;
}

static int io_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	struct snode *n = ctx;
	struct sim *s = n->s;
	int dst = idx_of(s, to);
	struct pkt *p;

	s->sent++;
	assert_true(len <= GOSSIP_DGRAM_MAX);
	if (dst < 0 || !n->up || s->nodes[dst].group != n->group ||
	    sim_unit(s) < s->loss) {
		s->dropped++;
		return 0;
	}
	p = pkt_get(s);
	p->at = s->now + s->delay_min +
		(s->delay_jitter ? sim_rand(s) % s->delay_jitter : 0);
	p->serial = s->serial++;
	p->src = n->idx;
	p->dst = (uint16_t)dst;
	memcpy(p->data, buf, len);
	p->len = (uint16_t)len;
	if (s->strip && dst == s->strip_dst)
		p->len = (uint16_t)strip_session(s, p->data, len);
	heap_push(s, p);
	return 0;
}

static void on_member(void *ctx, const struct gossip_member_info *m,
		      enum gossip_state old)
{
	struct snode *n = ctx;
	struct sim *s = n->s;

	if (s->trace)
		printf("%llu: node %u sees %u %d->%d inc %u\n",
		       (unsigned long long)s->now, n->idx + 1, m->id, old,
		       m->state, m->incarnation);
	if (m->id == 0 || m->id > s->n)
		return;
	if (m->state == GOSSIP_DEAD) {
		s->dead_of[m->id]++;
		if (s->nodes[m->id - 1].up)
			s->false_dead++;
	}
	if (m->state == GOSSIP_SUSPECT && old != GOSSIP_SUSPECT) {
		s->suspects++;
		s->suspect_of[m->id]++;
	}
}

static struct sim *sim_new(uint32_t n, uint64_t seed)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct gossip_config cfg;
	struct gossip_io io = {.now_ms = io_now, .send = io_send};
	struct gossip_events ev = {.member = on_member};
	uint32_t i;

	assert_non_null(s);
	seed += seed_shift;
	s->n = n;
	s->rng = seed;
	s->now = 1000000;
	/* A LAN: 1 to 5 ms, so that datagrams reorder too. */
	s->delay_min = 1;
	s->delay_jitter = 5;
	s->trace = getenv("GOSSIP_SIM_TRACE") != NULL;
	memset(s->key.b, 0x42, sizeof(s->key.b));
	assert_int_equal(gossip_auth_init(&s->auth, &s->key, false), 0);
	for (i = 0; i < n; i++) {
		struct snode *sn = &s->nodes[i];

		sn->s = s;
		sn->idx = (uint16_t)i;
		sn->up = true;
		/* The defaults a daemon uses. */
		gossip_config_default(&cfg);
		cfg.self_id = (uint16_t)(i + 1);
		addr_of((uint16_t)i, &cfg.self);
		cfg.key = s->key;
		cfg.seed = seed * 1000 + i + 1;
		cfg.seq_start = 1;
		io.ctx = sn;
		ev.ctx = sn;
		sn->g = gossip_new(&cfg, &io, &ev);
		assert_non_null(sn->g);
		sn->next = gossip_next_deadline(sn->g);
	}
	return s;
}

static void sim_free(struct sim *s)
{
	struct pkt *p;
	uint32_t i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++)
		gossip_free(s->nodes[i].g);
	while (s->heap_n)
		pkt_put(s, heap_pop(s));
	while ((p = s->free_pkts)) {
		s->free_pkts = p->next_free;
		free(p);
	}
	free(s->heap);
	free(s);
}

/* After an event of node i: its deadline, and the watched predicate. */
static void sim_after(struct sim *s, uint32_t i)
{
	struct snode *sn = &s->nodes[i];

	sn->next = gossip_next_deadline(sn->g);
	if (s->watch && s->watch_times[i] == NONE &&
	    s->watch(s, i, s->watch_arg))
		s->watch_times[i] = s->now - s->watch_start;
}

/*
 * Run the event loop until time `until`. Bounded: a node whose tick does
 * not move its deadline past now, or a flood of datagrams, fails the
 * test instead of spinning at one instant.
 */
static void sim_run(struct sim *s, uint64_t until)
{
	struct snode *sn;
	struct gossip_addr from;
	uint64_t t;
	struct pkt *p;
	uint32_t i;

	for (;;) {
		assert_true(s->heap_n < SIM_MAX_INFLIGHT);
		t = until;
		if (s->heap_n && s->heap[0]->at < t)
			t = s->heap[0]->at;
		for (i = 0; i < s->n; i++)
			if (s->nodes[i].up && s->nodes[i].next < t)
				t = s->nodes[i].next;
		if (t > s->now)
			s->now = t;
		while (s->heap_n && s->heap[0]->at <= s->now) {
			p = heap_pop(s);
			sn = &s->nodes[p->dst];
			if (sn->up && sn->group == s->nodes[p->src].group) {
				addr_of(p->src, &from);
				gossip_recv(sn->g, p->data, p->len, &from);
				sim_after(s, p->dst);
			}
			pkt_put(s, p);
		}
		for (i = 0; i < s->n; i++) {
			sn = &s->nodes[i];
			if (sn->up && sn->next <= s->now) {
				gossip_tick(sn->g);
				sim_after(s, i);
				assert_true(sn->next > s->now);
			}
		}
		if (s->now >= until)
			return;
	}
}

static void sim_join_all(struct sim *s)
{
	struct gossip_addr seed;
	uint32_t i;

	addr_of(0, &seed);
	for (i = 1; i < s->n; i++) {
		assert_int_equal(gossip_join(s->nodes[i].g, &seed, 1), 0);
		sim_after(s, i);
	}
}

/* Does node i see every node that is up alive? */
static bool sees_all_alive(struct sim *s, uint32_t i)
{
	struct gossip_member_info m;
	uint32_t j;

	for (j = 0; j < s->n; j++) {
		if (!s->nodes[j].up)
			continue;
		if (gossip_member_get(s->nodes[i].g, (uint16_t)(j + 1), &m) ||
		    m.state != GOSSIP_ALIVE)
			return false;
	}
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Print median and max of the n per-node times (ms). */
static void print_figure(const char *what, uint64_t *t, uint32_t n)
{
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("[figure] %s: median %llu ms, max %llu ms (n=%u)\n", what,
	       (unsigned long long)t[n / 2], (unsigned long long)t[n - 1], n);
}

/*
 * Run the simulation until pred holds for every up node (or the bound
 * passes); times[i] gets when node i first satisfied it, relative to now
 * (pred is checked after every event of the node, so times are exact).
 * Returns the number of nodes that never did.
 */
static uint32_t sim_until_all(struct sim *s, node_pred pred, const void *arg,
			      uint64_t bound_ms, uint64_t *times)
{
	uint64_t end = s->now + bound_ms;
	uint32_t i, left;

	s->watch = pred;
	s->watch_arg = arg;
	s->watch_times = times;
	s->watch_start = s->now;
	for (i = 0; i < s->n; i++)
		times[i] = pred(s, i, arg) ? 0 : NONE;
	for (;;) {
		left = 0;
		for (i = 0; i < s->n; i++)
			left += s->nodes[i].up && times[i] == NONE;
		if (!left || s->now >= end)
			break;
		sim_run(s, s->now + STEP_MS);
	}
	s->watch = NULL;
	return left;
}

/* Compact the times of up nodes to the front; returns their count. */
static uint32_t up_times(struct sim *s, uint64_t *times, uint64_t *out)
{
	uint32_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->nodes[i].up)
			out[n++] = times[i];
	return n;
}

static bool pred_alive(struct sim *s, uint32_t i, const void *arg)
{
	(void)arg;
	return sees_all_alive(s, i);
}

static void join_and_converge(struct sim *s, uint64_t bound, const char *what)
{
	uint64_t times[MAXN], up[MAXN];
	uint32_t n;

	sim_join_all(s);
	assert_int_equal(sim_until_all(s, pred_alive, NULL, bound, times), 0);
	n = up_times(s, times, up);
	if (what)
		print_figure(what, up, n);
}

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

static void make_key(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6130001u));
	k->sport = __builtin_bswap16((uint16_t)(10000 + i));
	k->dport = __builtin_bswap16(443);
	k->proto = 6;
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
	uint32_t m;

	*state = s;
	join_and_converge(s, 10000, NULL);
	sim_run(s, s->now + 5000);
	s->nodes[6].up = false;
	assert_int_equal(sim_until_all(s, pred_state, &a, 10000, times), 0);
	m = up_times(s, times, up);
	snprintf(what, sizeof(what), "crash detection, %u nodes", n);
	print_figure(what, up, m);
	assert_int_equal(s->false_dead, 0);
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
	uint32_t i;
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
