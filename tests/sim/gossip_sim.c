// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gossip network simulator (see gossip_sim.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/gossip_sim.h"

uint64_t seed_shift;

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

void addr_of(uint16_t idx, struct gossip_addr *a)
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
	s->bytes += len;
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

static void on_session(void *ctx, const struct gossip_session_info *si)
{
	struct snode *n = ctx;

	n->s->session_events++;
	if (n->s->on_session)
		n->s->on_session(n->s, n->idx, si);
}

static void on_order(void *ctx, const struct gossip_order_update *o)
{
	struct snode *n = ctx;

	if (n->s->on_order)
		n->s->on_order(n->s, n->idx, o);
}

static void on_hint(void *ctx, const struct gossip_hint_update *h)
{
	struct snode *n = ctx;

	n->s->hint_events++;
	if (n->s->on_hint)
		n->s->on_hint(n->s, n->idx, h);
}

struct sim *sim_new(uint32_t n, uint64_t seed)
{
	return sim_new_cfg(n, seed, NULL, NULL);
}

struct sim *sim_new_cfg(uint32_t n, uint64_t seed,
			void (*hook)(struct gossip_config *c, void *arg),
			void *arg)
{
	struct sim *s = calloc(1, sizeof(*s));
	struct gossip_config cfg;
	struct gossip_io io = {.now_ms = io_now, .send = io_send};
	struct gossip_events ev = {.member = on_member,
				   .session = on_session,
				   .hint = on_hint,
				   .order = on_order};
	uint32_t i;

	assert_non_null(s);
	assert_true(n <= MAXN);
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
		if (hook)
			hook(&cfg, arg);
		io.ctx = sn;
		ev.ctx = sn;
		sn->g = gossip_new(&cfg, &io, &ev);
		assert_non_null(sn->g);
		sn->next = gossip_next_deadline(sn->g);
	}
	return s;
}

void sim_free(struct sim *s)
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
void sim_after(struct sim *s, uint32_t i)
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
void sim_run(struct sim *s, uint64_t until)
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

void sim_join_all(struct sim *s)
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
bool sees_all_alive(struct sim *s, uint32_t i)
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
void print_figure(const char *what, uint64_t *t, uint32_t n)
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
uint32_t sim_until_all(struct sim *s, node_pred pred, const void *arg,
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
uint32_t up_times(struct sim *s, uint64_t *times, uint64_t *out)
{
	uint32_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->nodes[i].up)
			out[n++] = times[i];
	return n;
}

bool pred_alive(struct sim *s, uint32_t i, const void *arg)
{
	(void)arg;
	return sees_all_alive(s, i);
}

void join_and_converge(struct sim *s, uint64_t bound, const char *what)
{
	uint64_t times[MAXN], up[MAXN];
	uint32_t n;

	sim_join_all(s);
	assert_int_equal(sim_until_all(s, pred_alive, NULL, bound, times), 0);
	n = up_times(s, times, up);
	if (what)
		print_figure(what, up, n);
}

void make_key(struct flow_key *k, uint32_t i)
{
	memset(k, 0, sizeof(*k));
	flow_addr_set_v4(&k->src, __builtin_bswap32(0xc6120000u + i));
	flow_addr_set_v4(&k->dst, __builtin_bswap32(0xc6130001u));
	k->sport = __builtin_bswap16((uint16_t)(10000 + i));
	k->dport = __builtin_bswap16(443);
	k->proto = 6;
}
