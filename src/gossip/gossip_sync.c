// SPDX-License-Identifier: GPL-2.0-only
/*
 * Anti-entropy push-pull over SYNC datagrams (see gossip_sync.h).
 */
#include <string.h>

#include "gossip/gossip_int.h"

/* Collects updates into SYNC datagrams and sends each when full. */
struct sync_out {
	struct gossip *g;
	const struct gossip_addr *to;
	size_t room;
	uint32_t sent;
	bool pull; /* still to be set on the next datagram */
	bool full; /* datagram budget used up */
};

static void out_flush(struct sync_out *o)
{
	struct gossip *g = o->g;

	if (!g->tx.n_updates && !o->pull)
		return;
	if (o->pull)
		g->tx.sync_flags = GOSSIP_SYNC_PULL;
	gossip_msg_send(g, o->to, false);
	o->sent++;
	o->pull = false;
	if (o->sent >= g->cfg.max_sync_dgrams)
		o->full = true;
	gossip_msg_start(g, GOSSIP_MSG_SYNC);
	o->room = GOSSIP_DGRAM_MAX -
		  gossip_codec_overhead(&g->auth, GOSSIP_MSG_SYNC);
}

static void out_add(struct sync_out *o, const struct gossip_update *u)
{
	struct gossip *g = o->g;
	size_t sz = gossip_codec_update_size(u->kind);

	if (o->full)
		return;
	if (sz > o->room || g->tx.n_updates == GOSSIP_MAX_UPDATES) {
		out_flush(o);
		if (o->full)
			return;
	}
	g->tx.updates[g->tx.n_updates++] = *u;
	o->room -= sz;
}

void gossip_sync_push(struct gossip *g, const struct gossip_addr *to, bool pull)
{
	struct sync_out o = {.g = g, .to = to, .pull = pull};
	const struct gossip_session *s = NULL;
	const struct gossip_member *m;
	struct gossip_update u;
	uint32_t i, n = 0, wraps = 0;

	gossip_msg_start(g, GOSSIP_MSG_SYNC);
	o.room = GOSSIP_DGRAM_MAX -
		 gossip_codec_overhead(&g->auth, GOSSIP_MSG_SYNC);
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		u.kind = GOSSIP_UPD_MEMBER;
		gossip_member_to_update(g, m, &u.member);
		out_add(&o, &u);
	}
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		if (!m->has_load)
			continue;
		u.kind = GOSSIP_UPD_LOAD;
		u.load = m->load;
		out_add(&o, &u);
	}
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		if (!m->has_forecast)
			continue;
		u.kind = GOSSIP_UPD_FORECAST;
		u.forecast = m->forecast;
		out_add(&o, &u);
	}
	/* Sessions from where the last push stopped, so a table larger than
	 * the datagram budget is covered over successive rounds (flooding
	 * only: a directory's owners refresh their homes instead). */
	while (!o.full && !gossip_dir_on(g) && n < g->sessions.n && wraps < 2) {
		s = gossip_sessions_next(&g->sessions, &g->sync_cursor, s);
		if (!s) {
			wraps++;
			continue;
		}
		u.kind = GOSSIP_UPD_SESSION;
		gossip_session_to_update(s, &u.session);
		out_add(&o, &u);
		n++;
	}
	if (!o.full)
		out_flush(&o);
}

void gossip_sync_tick(struct gossip *g)
{
	uint16_t peer;
	const struct gossip_member *m;
	uint32_t mask = 1u << GOSSIP_ALIVE | 1u << GOSSIP_SUSPECT;

	if (g->now < g->next_sync)
		return;
	/* Jittered so syncs of different nodes do not fall together. */
	g->next_sync = g->now + g->cfg.sync_interval_ms / 2 +
		       gossip_rand_below(g, g->cfg.sync_interval_ms + 1);
	if (g->leaving)
		return;
	/* One round in four goes to a dead member, to heal partitions. */
	if (gossip_rand_below(g, 4) == 0)
		mask = 1u << GOSSIP_DEAD;
	if (!gossip_pick_members(g, &peer, 1, mask, g->cfg.self_id) &&
	    !gossip_pick_members(g, &peer, 1, 1u << GOSSIP_ALIVE,
				 g->cfg.self_id))
		return;
	m = gossip_members_find(&g->members, peer);
	g->ctr.syncs++;
	gossip_sync_push(g, &m->addr, true);
}

void gossip_sync_on_sync(struct gossip *g, const struct gossip_msg *m,
			 const struct gossip_addr *from)
{
	struct gossip_member *peer;

	if (!(m->sync_flags & GOSSIP_SYNC_PULL) || g->leaving)
		return;
	/* At most one answer per member per probe interval: a pull costs us
	 * up to max_sync_dgrams datagrams. */
	peer = gossip_members_find(&g->members, m->sender);
	if (peer && peer->sync_reply_ms &&
	    g->now < peer->sync_reply_ms + g->cfg.probe_interval_ms)
		return;
	if (peer)
		peer->sync_reply_ms = g->now;
	gossip_sync_push(g, from, false);
}
