// SPDX-License-Identifier: GPL-2.0-only
/*
 * Member table and SWIM/Lifeguard state rules (see gossip_member.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gossip/gossip_int.h"

void gossip_members_free(struct gossip_members *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* Index of id, or of where it would be inserted. */
static uint32_t members_pos(const struct gossip_members *t, uint16_t id)
{
	uint32_t lo = 0, hi = t->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (t->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct gossip_member *gossip_members_find(const struct gossip_members *t,
					  uint16_t id)
{
	uint32_t i = members_pos(t, id);

	return i < t->n && t->v[i].id == id ? &t->v[i] : NULL;
}

struct gossip_member *gossip_members_insert(struct gossip_members *t,
					    uint16_t id)
{
	uint32_t i = members_pos(t, id);
	struct gossip_member *v;

	if (t->n == t->cap) {
		v = realloc(t->v, (t->cap ? t->cap * 2 : 16) * sizeof(*v));
		if (!v) {
			errno = ENOMEM;
			return NULL;
		}
		t->v = v;
		t->cap = t->cap ? t->cap * 2 : 16;
	}
	memmove(&t->v[i + 1], &t->v[i], (t->n - i) * sizeof(*t->v));
	memset(&t->v[i], 0, sizeof(*t->v));
	t->v[i].id = id;
	t->n++;
	return &t->v[i];
}

void gossip_members_remove(struct gossip_members *t, uint16_t id)
{
	uint32_t i = members_pos(t, id);

	if (i >= t->n || t->v[i].id != id)
		return;
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*t->v));
	t->n--;
}

uint32_t gossip_members_live(const struct gossip_members *t)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += t->v[i].state == GOSSIP_ALIVE ||
		     t->v[i].state == GOSSIP_SUSPECT;
	return n;
}

void gossip_member_info_fill(const struct gossip_member *m,
			     struct gossip_member_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = m->id;
	out->state = m->state;
	out->incarnation = m->incarnation;
	out->addr = m->addr;
	out->has_load = m->has_load;
	out->load = m->load;
	out->has_forecast = m->has_forecast;
	out->forecast = m->forecast;
}

void gossip_member_to_update(const struct gossip *g,
			     const struct gossip_member *m,
			     struct gossip_member_update *u)
{
	memset(u, 0, sizeof(*u));
	u->node = m->id;
	u->state = m->state;
	u->incarnation = m->incarnation;
	u->from = g->cfg.self_id;
	u->addr = m->addr;
}

static bool state_live(enum gossip_state s)
{
	return s == GOSSIP_ALIVE || s == GOSSIP_SUSPECT;
}

static void member_emit(struct gossip *g, const struct gossip_member *m,
			enum gossip_state old)
{
	struct gossip_member_info info;

	/* The directory's homes move when the live set changes; a live
	 * member with a new incarnation may have restarted empty. */
	if (state_live(old) != state_live(m->state) ||
	    (old == m->state && state_live(old)))
		gossip_dir_live_changed(g);
	if (!g->ev.member)
		return;
	gossip_member_info_fill(m, &info);
	g->ev.member(g->ev.ctx, &info, old);
}

static void member_enqueue(struct gossip *g, const struct gossip_member *m,
			   uint16_t from, bool push)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_MEMBER};

	gossip_member_to_update(g, m, &u.member);
	u.member.from = from;
	gossip_enqueue(g, &u, push);
}

/*
 * Lifeguard suspicion timeout: from max down to min as confirmations c
 * approach the expected k, on a log scale; min grows with log10(N) so a
 * suspicion has time to spread in a larger cluster.
 */
static uint64_t suspicion_timeout(const struct gossip *g, uint32_t c)
{
	double n = gossip_members_live(&g->members), scale, min, max, frac;
	double k = g->cfg.indirect_k;

	scale = n > 10 ? log10(n) : 1.0;
	min = g->cfg.suspicion_mult * scale * g->cfg.probe_interval_ms;
	max = g->cfg.suspicion_max_mult * min;
	if (k < 1)
		return (uint64_t)min;
	frac = log(c + 1.0) / log(k + 1.0);
	if (frac > 1)
		frac = 1;
	return (uint64_t)(max - frac * (max - min));
}

static void suspicion_rearm(struct gossip *g, struct gossip_member *m)
{
	uint32_t c = m->n_confirm ? m->n_confirm - 1u : 0;

	m->suspect_deadline = m->suspect_start_ms + suspicion_timeout(g, c);
	if (m->suspect_deadline < g->next_member)
		g->next_member = m->suspect_deadline;
}

/* Record an independent suspecter; returns true when it is new. */
static bool suspicion_confirm(struct gossip_member *m, uint16_t from)
{
	uint8_t i;

	for (i = 0; i < m->n_confirm; i++)
		if (m->confirm[i] == from)
			return false;
	if (m->n_confirm == GOSSIP_MAX_CONFIRM)
		return false;
	m->confirm[m->n_confirm++] = from;
	return true;
}

static void set_state(struct gossip *g, struct gossip_member *m, uint8_t state,
		      uint32_t inc)
{
	/* A suspicion's end: how long it took this node to know. */
	if (m->state == GOSSIP_SUSPECT && state == GOSSIP_DEAD)
		hist_add(&g->hists.suspect_dead, (g->now - m->state_ms) * 1000);
	else if (m->state == GOSSIP_SUSPECT && state == GOSSIP_ALIVE)
		hist_add(&g->hists.suspect_refuted,
			 (g->now - m->state_ms) * 1000);
	m->state = state;
	m->incarnation = inc;
	m->state_ms = g->now;
	m->n_confirm = 0;
	m->self_confirmed = false;
	m->verify_at = 0;
}

/* Someone says something about us that is not alive: answer with a higher
 * incarnation, unless we are leaving and it is true. */
static int self_apply(struct gossip *g, const struct gossip_member_update *u)
{
	struct gossip_member *self =
		gossip_members_find(&g->members, g->cfg.self_id);

	if (u->incarnation < self->incarnation)
		return 0;
	if (g->leaving) {
		if (u->state == GOSSIP_ALIVE || u->state == GOSSIP_SUSPECT) {
			self->incarnation = u->incarnation + 1;
			member_enqueue(g, self, g->cfg.self_id, true);
		}
		return 0;
	}
	if (u->state == GOSSIP_ALIVE && u->incarnation == self->incarnation)
		return 0;
	/* An alive record above ours is a previous life of this node id
	 * (restart): take an incarnation above it too. */
	self->incarnation = u->incarnation + 1;
	if (u->state != GOSSIP_ALIVE) {
		g->ctr.refutes++;
		gossip_health_add(g, 1);
	}
	member_enqueue(g, self, g->cfg.self_id, true);
	member_emit(g, self, GOSSIP_ALIVE);
	return 1;
}

static int apply_alive(struct gossip *g, struct gossip_member *m,
		       const struct gossip_member_update *u)
{
	uint8_t old;

	if (!m) {
		m = gossip_members_insert(&g->members, u->node);
		if (!m)
			return -ENOMEM;
		set_state(g, m, GOSSIP_ALIVE, u->incarnation);
		m->addr = u->addr;
		member_enqueue(g, m, u->from, true);
		member_emit(g, m, GOSSIP_STATE_NONE);
		return 1;
	}
	if (u->incarnation <= m->incarnation)
		return 0;
	old = m->state;
	set_state(g, m, GOSSIP_ALIVE, u->incarnation);
	m->addr = u->addr;
	member_enqueue(g, m, u->from, true);
	member_emit(g, m, old);
	return 1;
}

static int apply_suspect(struct gossip *g, struct gossip_member *m,
			 const struct gossip_member_update *u)
{
	uint8_t old;

	/* Unknown members are learned from alive records only. */
	if (!m || u->incarnation < m->incarnation || m->state == GOSSIP_DEAD ||
	    m->state == GOSSIP_LEFT)
		return 0;
	if (m->state == GOSSIP_SUSPECT && u->incarnation == m->incarnation) {
		if (u->from == g->cfg.self_id)
			m->self_confirmed = true;
		/* Pass a new confirmation on: others' timers shrink too.
		 * Ours is news worth a push; others' ride on the gossip. */
		if (suspicion_confirm(m, u->from)) {
			suspicion_rearm(g, m);
			member_enqueue(g, m, u->from,
				       u->from == g->cfg.self_id);
		}
		return 0;
	}
	old = m->state;
	set_state(g, m, GOSSIP_SUSPECT, u->incarnation);
	m->suspect_start_ms = g->now;
	m->self_confirmed = u->from == g->cfg.self_id;
	suspicion_confirm(m, u->from);
	suspicion_rearm(g, m);
	member_enqueue(g, m, u->from, true);
	member_emit(g, m, old);
	/* Confirm it, or make it refute, by a probe of our own: about
	 * `verifiers` of the members that hear of it do so at once (the
	 * member that raised it re-probes it by itself). */
	if (u->from != g->cfg.self_id &&
	    gossip_rand_below(g, gossip_members_live(&g->members)) <
		    g->cfg.verifiers)
		gossip_probe_verify_at(g, m->id, g->now);
	return 1;
}

static int apply_down(struct gossip *g, struct gossip_member *m,
		      const struct gossip_member_update *u)
{
	uint8_t old;

	if (!m || u->incarnation < m->incarnation)
		return 0;
	/* Dead and left are final for an incarnation; a member's own
	 * goodbye is more precise than a death, so left replaces dead. */
	if (m->state == GOSSIP_LEFT ||
	    (m->state == GOSSIP_DEAD && u->state == GOSSIP_DEAD))
		return 0;
	old = m->state;
	set_state(g, m, u->state, u->incarnation);
	member_enqueue(g, m, u->from, true);
	member_emit(g, m, old);
	if (g->now + g->cfg.dead_reclaim_ms < g->next_member)
		g->next_member = g->now + g->cfg.dead_reclaim_ms;
	return 1;
}

int gossip_member_apply(struct gossip *g, const struct gossip_member_update *u)
{
	struct gossip_member *m;

	if (u->node == g->cfg.self_id)
		return self_apply(g, u);
	m = gossip_members_find(&g->members, u->node);
	switch (u->state) {
	case GOSSIP_ALIVE:
		return apply_alive(g, m, u);
	case GOSSIP_SUSPECT:
		return apply_suspect(g, m, u);
	case GOSSIP_DEAD:
	case GOSSIP_LEFT:
		return apply_down(g, m, u);
	default:
		return 0;
	}
}

void gossip_member_suspect(struct gossip *g, uint16_t id, uint32_t inc)
{
	struct gossip_member *m = gossip_members_find(&g->members, id);
	struct gossip_member_update u;

	if (!m || (m->state != GOSSIP_ALIVE && m->state != GOSSIP_SUSPECT) ||
	    m->incarnation != inc)
		return;
	gossip_member_to_update(g, m, &u);
	u.state = GOSSIP_SUSPECT;
	if (m->state == GOSSIP_ALIVE)
		g->ctr.suspicions++;
	gossip_member_apply(g, &u);
}

int gossip_member_load_apply(struct gossip *g,
			     const struct gossip_load_update *l)
{
	struct gossip_member *m = gossip_members_find(&g->members, l->node);
	struct gossip_update u = {.kind = GOSSIP_UPD_LOAD};

	if (!m || (m->has_load && l->seq <= m->load.seq))
		return 0;
	m->has_load = true;
	m->load = *l;
	u.load = *l;
	gossip_enqueue(g, &u, false);
	if (g->ev.load)
		g->ev.load(g->ev.ctx, l);
	return 1;
}

int gossip_member_forecast_apply(struct gossip *g,
				 const struct gossip_forecast_update *f)
{
	struct gossip_member *m = gossip_members_find(&g->members, f->node);
	struct gossip_update u = {.kind = GOSSIP_UPD_FORECAST};

	if (!m || (m->has_forecast && f->seq <= m->forecast.seq))
		return 0;
	m->has_forecast = true;
	m->forecast = *f;
	u.forecast = *f;
	gossip_enqueue(g, &u, false);
	return 1;
}

void gossip_member_timers(struct gossip *g)
{
	struct gossip_member *m;
	uint64_t next = g->now + 1000;
	uint32_t i;
	uint8_t old;

	if (g->now < g->next_member)
		return;
	for (i = 0; i < g->members.n;) {
		m = &g->members.v[i];
		if (m->state == GOSSIP_SUSPECT &&
		    g->now >= m->suspect_deadline && !m->self_confirmed &&
		    !g->leaving) {
			/* Not dead before we failed to reach it ourselves. */
			m->suspect_deadline =
				g->now + 1 +
				gossip_health_scaled(
					g, 2 * g->cfg.probe_timeout_ms);
			gossip_probe_verify_at(g, m->id, g->now);
		}
		if (m->state == GOSSIP_SUSPECT &&
		    g->now >= m->suspect_deadline) {
			old = m->state;
			set_state(g, m, GOSSIP_DEAD, m->incarnation);
			member_enqueue(g, m, g->cfg.self_id, true);
			member_emit(g, m, old);
		}
		if ((m->state == GOSSIP_DEAD || m->state == GOSSIP_LEFT) &&
		    m->id != g->cfg.self_id &&
		    g->now >= m->state_ms + g->cfg.dead_reclaim_ms) {
			gossip_members_remove(&g->members, m->id);
			continue;
		}
		if (m->state == GOSSIP_SUSPECT && m->suspect_deadline < next)
			next = m->suspect_deadline;
		/* Our own record (left) is never reclaimed: no timer. */
		if ((m->state == GOSSIP_DEAD || m->state == GOSSIP_LEFT) &&
		    m->id != g->cfg.self_id &&
		    m->state_ms + g->cfg.dead_reclaim_ms < next)
			next = m->state_ms + g->cfg.dead_reclaim_ms;
		i++;
	}
	g->next_member = next;
}

void gossip_member_heard(struct gossip *g, uint16_t id, uint32_t inc,
			 const struct gossip_addr *from)
{
	struct gossip_member *m = gossip_members_find(&g->members, id);
	struct gossip_member_update u;
	struct gossip_msg *msg;

	if (!m || id == g->cfg.self_id || m->state == GOSSIP_LEFT ||
	    inc < m->incarnation)
		return;
	if (inc > m->incarnation) {
		gossip_member_to_update(g, m, &u);
		u.state = GOSSIP_ALIVE;
		u.incarnation = inc;
		u.from = id;
		gossip_member_apply(g, &u);
		return;
	}
	if (m->state == GOSSIP_ALIVE ||
	    (m->told_ms && g->now < m->told_ms + g->cfg.probe_interval_ms))
		return;
	m->told_ms = g->now;
	g->ctr.told++;
	msg = gossip_msg_start(g, GOSSIP_MSG_GOSSIP);
	msg->updates[0].kind = GOSSIP_UPD_MEMBER;
	gossip_member_to_update(g, m, &msg->updates[0].member);
	msg->n_updates = 1;
	gossip_msg_send(g, from, true);
}
