// SPDX-License-Identifier: GPL-2.0-only
/*
 * SWIM probes, suspect verification, ping-req relays and Lifeguard local
 * health (see gossip_probe.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip_int.h"

#define LIVE_MASK (1u << GOSSIP_ALIVE | 1u << GOSSIP_SUSPECT)

void gossip_probe_free(struct gossip_probe *p)
{
	free(p->order);
	p->order = NULL;
	p->n_order = p->cap_order = p->pos = 0;
}

void gossip_health_add(struct gossip *g, int delta)
{
	int64_t h = (int64_t)g->health + delta;

	if (h < 0)
		h = 0;
	if (h > g->cfg.max_health)
		h = g->cfg.max_health;
	g->health = (uint32_t)h;
}

uint64_t gossip_health_scaled(const struct gossip *g, uint32_t ms)
{
	return (uint64_t)ms * (g->health + 1);
}

/* A new round: every live member once, in random order. Returns false
 * when there is nobody to probe. */
static bool order_refill(struct gossip *g)
{
	struct gossip_probe *p = &g->probe;
	const struct gossip_member *m;
	uint32_t i, j, n = 0;
	uint16_t *o, t;

	if (p->cap_order < g->members.n) {
		o = realloc(p->order, g->members.n * sizeof(*o));
		if (!o)
			return false;
		p->order = o;
		p->cap_order = g->members.n;
	}
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		if (m->id != g->cfg.self_id && (LIVE_MASK >> m->state & 1))
			p->order[n++] = m->id;
	}
	for (i = n; i > 1; i--) {
		j = gossip_rand_below(g, i);
		t = p->order[i - 1];
		p->order[i - 1] = p->order[j];
		p->order[j] = t;
	}
	p->n_order = n;
	p->pos = 0;
	return n > 0;
}

/* Next target still live, or NULL. */
static const struct gossip_member *next_target(struct gossip *g)
{
	struct gossip_probe *p = &g->probe;
	const struct gossip_member *m;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		while (p->pos < p->n_order) {
			m = gossip_members_find(&g->members,
						p->order[p->pos++]);
			if (m && (LIVE_MASK >> m->state & 1))
				return m;
		}
		if (!order_refill(g))
			return NULL;
	}
	return NULL;
}

/* A ping to a suspect carries the suspicion (Lifeguard's buddy system):
 * the suspect refutes it before it acks. */
static void send_ping(struct gossip *g, const struct gossip_addr *to,
		      uint16_t target, uint32_t seq)
{
	struct gossip_msg *m = gossip_msg_start(g, GOSSIP_MSG_PING);
	const struct gossip_member *t =
		gossip_members_find(&g->members, target);

	m->target = target;
	m->probe_seq = seq;
	if (t && t->state == GOSSIP_SUSPECT) {
		m->updates[0].kind = GOSSIP_UPD_MEMBER;
		gossip_member_to_update(g, t, &m->updates[0].member);
		if (t->n_confirm)
			m->updates[0].member.from = t->confirm[0];
		m->n_updates = 1;
	}
	gossip_msg_send(g, to, true);
}

static void probe_start(struct gossip *g, struct gossip_probe_slot *s,
			const struct gossip_member *t)
{
	s->active = true;
	s->indirect = false;
	s->target = t->id;
	s->inc = t->incarnation;
	s->seq = ++g->probe.next_seq;
	s->timeout_at =
		g->now + gossip_health_scaled(g, g->cfg.probe_timeout_ms);
	s->end_at = s->timeout_at +
		    gossip_health_scaled(g, g->cfg.probe_timeout_ms);
	s->nack_expect = s->nack_got = 0;
	send_ping(g, &t->addr, t->id, s->seq);
}

/* The direct wait is over: ping once more (a lost datagram is the most
 * likely cause) and ask k others to try. */
static void probe_indirect(struct gossip *g, struct gossip_probe_slot *s)
{
	const struct gossip_member *t, *h;
	uint16_t helpers[16];
	struct gossip_msg *m;
	uint32_t n, i, k = g->cfg.indirect_k;

	s->indirect = true;
	t = gossip_members_find(&g->members, s->target);
	if (!t)
		return;
	send_ping(g, &t->addr, t->id, s->seq);
	if (k > 16)
		k = 16;
	n = gossip_pick_members(g, helpers, k, 1u << GOSSIP_ALIVE, s->target);
	for (i = 0; i < n; i++) {
		h = gossip_members_find(&g->members, helpers[i]);
		m = gossip_msg_start(g, GOSSIP_MSG_PING_REQ);
		m->target = t->id;
		m->target_addr = t->addr;
		m->probe_seq = s->seq;
		if (gossip_msg_send(g, &h->addr, true) == 0)
			s->nack_expect++;
		g->ctr.ping_reqs++;
	}
}

/* Re-probe a suspect we verify (or raised) while it stays suspect. */
static void verify_again(struct gossip *g, const struct gossip_probe_slot *s,
			 uint32_t intervals)
{
	const struct gossip_member *t =
		gossip_members_find(&g->members, s->target);

	if (t && t->state == GOSSIP_SUSPECT && t->incarnation == s->inc)
		gossip_probe_verify_at(
			g, s->target,
			g->now + gossip_health_scaled(
					 g,
					 intervals * g->cfg.probe_interval_ms));
}

/* A slot is free: verifications waiting for one may start. */
static void probe_done(struct gossip *g, struct gossip_probe_slot *s)
{
	s->active = false;
	if (g->probe.verify_next > g->now && g->probe.verify_next != UINT64_MAX)
		g->probe.verify_next = g->now;
}

static void probe_fail(struct gossip *g, struct gossip_probe_slot *s)
{
	probe_done(g, s);
	g->ctr.probes_failed++;
	/* Helpers that did not even nack, or none to ask: the trouble may
	 * be ours (Lifeguard, as memberlist counts it). */
	if (!s->nack_expect)
		gossip_health_add(g, 1);
	else if (s->nack_got < s->nack_expect)
		gossip_health_add(g, (int)(s->nack_expect - s->nack_got));
	gossip_member_suspect(g, s->target, s->inc);
	verify_again(g, s, 2);
}

static void probe_ok(struct gossip *g, struct gossip_probe_slot *s)
{
	probe_done(g, s);
	gossip_health_add(g, -1);
	verify_again(g, s, 1);
}

static void relays_tick(struct gossip *g)
{
	struct gossip_relay *r;
	struct gossip_msg *m;
	uint32_t i;

	for (i = 0; i < GOSSIP_MAX_RELAYS; i++) {
		r = &g->probe.relays[i];
		if (!r->used || g->now < r->deadline)
			continue;
		r->used = false;
		m = gossip_msg_start(g, GOSSIP_MSG_NACK);
		m->probe_seq = r->req_seq;
		gossip_msg_send(g, &r->requester, true);
	}
}

static bool probing(const struct gossip *g, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < GOSSIP_PROBE_SLOTS; i++)
		if (g->probe.slot[i].active && g->probe.slot[i].target == id)
			return true;
	return false;
}

static struct gossip_probe_slot *free_verify_slot(struct gossip *g)
{
	uint32_t i;

	for (i = 1; i < GOSSIP_PROBE_SLOTS; i++)
		if (!g->probe.slot[i].active)
			return &g->probe.slot[i];
	return NULL;
}

/* The earliest end of an active probe: when a slot frees at the latest. */
static uint64_t slots_end(const struct gossip *g)
{
	uint64_t t = UINT64_MAX;
	uint32_t i;

	for (i = 0; i < GOSSIP_PROBE_SLOTS; i++)
		if (g->probe.slot[i].active && g->probe.slot[i].end_at < t)
			t = g->probe.slot[i].end_at;
	return t;
}

/* Start the verifications that are due, as slots allow; the others wait
 * for a slot to free (probe_done makes them due again). */
static void verify_tick(struct gossip *g)
{
	struct gossip_probe *p = &g->probe;
	struct gossip_probe_slot *s;
	struct gossip_member *m;
	uint64_t next = UINT64_MAX;
	uint32_t i;

	if (g->now < p->verify_next)
		return;
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		if (!m->verify_at)
			continue;
		if (m->state != GOSSIP_SUSPECT) {
			m->verify_at = 0;
			continue;
		}
		if (m->verify_at > g->now) {
			if (m->verify_at < next)
				next = m->verify_at;
			continue;
		}
		if (probing(g, m->id) || !(s = free_verify_slot(g))) {
			if (slots_end(g) < next)
				next = slots_end(g);
			continue;
		}
		m->verify_at = 0;
		g->ctr.verify_probes++;
		probe_start(g, s, m);
	}
	p->verify_next = next;
}

void gossip_probe_verify_at(struct gossip *g, uint16_t id, uint64_t at)
{
	struct gossip_member *m = gossip_members_find(&g->members, id);

	if (!m || m->state != GOSSIP_SUSPECT || g->leaving)
		return;
	if (!at)
		at = 1;
	if (!m->verify_at || at < m->verify_at)
		m->verify_at = at;
	if (at < g->probe.verify_next)
		g->probe.verify_next = at;
}

void gossip_probe_tick(struct gossip *g)
{
	struct gossip_probe *p = &g->probe;
	struct gossip_probe_slot *s;
	const struct gossip_member *t;
	uint32_t i;

	relays_tick(g);
	if (g->leaving) {
		/* We only answer now; nothing of ours may stay due. */
		for (i = 0; i < GOSSIP_PROBE_SLOTS; i++)
			p->slot[i].active = false;
		p->next_at = UINT64_MAX;
		p->verify_next = UINT64_MAX;
		return;
	}
	for (i = 0; i < GOSSIP_PROBE_SLOTS; i++) {
		s = &p->slot[i];
		if (s->active && !s->indirect && g->now >= s->timeout_at)
			probe_indirect(g, s);
		if (s->active && g->now >= s->end_at)
			probe_fail(g, s);
	}
	s = &p->slot[0];
	if (!s->active && g->now >= p->next_at) {
		p->next_at = g->now +
			     gossip_health_scaled(g, g->cfg.probe_interval_ms);
		t = next_target(g);
		if (t) {
			g->ctr.probes++;
			probe_start(g, s, t);
		}
	}
	verify_tick(g);
}

uint64_t gossip_probe_deadline(const struct gossip *g)
{
	const struct gossip_probe *p = &g->probe;
	const struct gossip_probe_slot *s;
	uint64_t d = p->verify_next;
	uint32_t i;

	/* A busy round-robin slot starts the next probe when it ends. */
	if (!p->slot[0].active && p->next_at < d)
		d = p->next_at;
	for (i = 0; i < GOSSIP_PROBE_SLOTS; i++) {
		s = &p->slot[i];
		if (!s->active)
			continue;
		if (!s->indirect && s->timeout_at < d)
			d = s->timeout_at;
		if (s->end_at < d)
			d = s->end_at;
	}
	for (i = 0; i < GOSSIP_MAX_RELAYS; i++)
		if (p->relays[i].used && p->relays[i].deadline < d)
			d = p->relays[i].deadline;
	return d;
}

void gossip_probe_on_ping(struct gossip *g, const struct gossip_msg *m,
			  const struct gossip_addr *from)
{
	struct gossip_msg *a;

	/* A ping meant for the previous holder of our address. */
	if (m->target != g->cfg.self_id) {
		g->ctr.rx_misdirected++;
		return;
	}
	a = gossip_msg_start(g, GOSSIP_MSG_ACK);
	a->probe_seq = m->probe_seq;
	gossip_msg_send(g, from, true);
}

void gossip_probe_on_ack(struct gossip *g, const struct gossip_msg *m)
{
	struct gossip_probe *p = &g->probe;
	struct gossip_relay *r;
	struct gossip_msg *a;
	uint32_t i;

	for (i = 0; i < GOSSIP_PROBE_SLOTS; i++) {
		if (p->slot[i].active && p->slot[i].seq == m->probe_seq) {
			probe_ok(g, &p->slot[i]);
			return;
		}
	}
	for (i = 0; i < GOSSIP_MAX_RELAYS; i++) {
		r = &p->relays[i];
		if (!r->used || r->my_seq != m->probe_seq)
			continue;
		r->used = false;
		a = gossip_msg_start(g, GOSSIP_MSG_ACK);
		a->probe_seq = r->req_seq;
		gossip_msg_send(g, &r->requester, true);
		return;
	}
}

void gossip_probe_on_nack(struct gossip *g, const struct gossip_msg *m)
{
	struct gossip_probe *p = &g->probe;
	uint32_t i;

	for (i = 0; i < GOSSIP_PROBE_SLOTS; i++)
		if (p->slot[i].active && p->slot[i].indirect &&
		    p->slot[i].seq == m->probe_seq) {
			p->slot[i].nack_got++;
			return;
		}
}

void gossip_probe_on_ping_req(struct gossip *g, const struct gossip_msg *m,
			      const struct gossip_addr *from)
{
	struct gossip_relay *r = NULL;
	uint32_t i;

	if (m->target == g->cfg.self_id)
		return;
	for (i = 0; i < GOSSIP_MAX_RELAYS && !r; i++)
		if (!g->probe.relays[i].used)
			r = &g->probe.relays[i];
	/* All relays busy: say nothing; the requester counts a missing nack
	 * against its own health, a mild and bounded error. */
	if (!r)
		return;
	r->used = true;
	r->requester = *from;
	r->req_seq = m->probe_seq;
	r->my_seq = ++g->probe.next_seq;
	/* Answer before the requester's indirect wait (one probe timeout)
	 * ends: 80% of ours. */
	r->deadline = g->now + g->cfg.probe_timeout_ms * 4 / 5;
	send_ping(g, &m->target_addr, m->target, r->my_seq);
}
