// SPDX-License-Identifier: GPL-2.0-only
/*
 * The gossip node: configuration, receive dispatch, timers, the public
 * API (see gossip.h). Protocol rules live in the member, probe, dissem,
 * session and sync modules.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <steer/rule.h>

#include "gossip/gossip_int.h"
#include "gossip/gossip_sync.h"

void gossip_config_default(struct gossip_config *c)
{
	memset(c, 0, sizeof(*c));
	c->self_id = STEER_NODE_NONE;
	c->self.port = GOSSIP_PORT;
	c->probe_interval_ms = 200;
	c->probe_timeout_ms = 100;
	c->indirect_k = 3;
	c->verifiers = 8;
	c->suspicion_mult = 2;
	c->suspicion_max_mult = 6;
	c->retransmit_mult = 8;
	c->push_fanout = 3;
	c->push_delay_ms = 1;
	c->gossip_interval_ms = 200;
	c->gossip_fanout = 3;
	c->sync_interval_ms = 30000;
	c->dead_reclaim_ms = 300000;
	c->tombstone_ms = 300000;
	c->max_health = 8;
	c->max_sync_dgrams = 64;
	c->dir_homes = 2;
	c->dir_refresh_ms = 30000;
	c->dir_expire_ms = 150000;
}

static bool dir_config_valid(const struct gossip_config *c)
{
	if (c->ownership == GOSSIP_OWN_FLOOD)
		return true;
	return c->ownership == GOSSIP_OWN_DIRECTORY && c->dir_homes >= 1 &&
	       c->dir_homes <= GOSSIP_DIR_HOMES_MAX && c->dir_refresh_ms &&
	       c->dir_expire_ms > c->dir_refresh_ms;
}

static bool config_valid(const struct gossip_config *c)
{
	return c->self_id != STEER_NODE_NONE && c->self.port &&
	       c->probe_interval_ms && c->probe_timeout_ms &&
	       c->probe_timeout_ms <= c->probe_interval_ms &&
	       c->suspicion_mult && c->suspicion_max_mult &&
	       c->retransmit_mult && c->gossip_interval_ms &&
	       c->push_fanout <= GOSSIP_MAX_FANOUT &&
	       c->gossip_fanout <= GOSSIP_MAX_FANOUT && c->sync_interval_ms &&
	       c->dead_reclaim_ms && c->tombstone_ms && c->max_sync_dgrams &&
	       c->max_health <= 64 && dir_config_valid(c);
}

/* splitmix64: small, seedable, good enough for member selection. */
uint64_t gossip_rand(struct gossip *g)
{
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t gossip_rand_below(struct gossip *g, uint32_t n)
{
	return (uint32_t)(((gossip_rand(g) >> 32) * n) >> 32);
}

struct gossip *gossip_new(const struct gossip_config *cfg,
			  const struct gossip_io *io,
			  const struct gossip_events *ev)
{
	struct gossip_member *self;
	struct gossip *g;
	int rc;

	if (!cfg || !io || !io->now_ms || !io->send || !config_valid(cfg)) {
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		errno = ENOMEM;
		return NULL;
	}
	g->cfg = *cfg;
	g->io = *io;
	if (ev)
		g->ev = *ev;
	g->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	rc = gossip_auth_init(&g->auth, &cfg->key, cfg->encrypt);
	if (rc)
		goto err_free;
	sodium_memzero(&g->cfg.key, sizeof(g->cfg.key));
	g->rng = cfg->seed;
	if (!g->rng)
		randombytes_buf(&g->rng, sizeof(g->rng));
	g->tx_seq = cfg->seq_start;
	gossip_replay_init(&g->replay);
	gossip_dissem_init(&g->dissem, GOSSIP_DISSEM_MAX);
	rc = gossip_sessions_init(&g->sessions, gossip_rand(g));
	if (rc)
		goto err_auth;
	self = gossip_members_insert(&g->members, cfg->self_id);
	if (!self) {
		rc = -ENOMEM;
		goto err_sessions;
	}
	self->addr = cfg->self;
	self->state = GOSSIP_ALIVE;
	g->now = io->now_ms(io->ctx);
	self->state_ms = g->now;
	g->probe.next_at =
		g->now + gossip_rand_below(g, cfg->probe_interval_ms);
	g->probe.verify_next = UINT64_MAX;
	g->push_at = UINT64_MAX;
	g->push_skip = g->rx_sender = cfg->self_id;
	g->next_gossip = g->now + cfg->gossip_interval_ms;
	g->next_sync = g->now + cfg->sync_interval_ms / 2 +
		       gossip_rand_below(g, cfg->sync_interval_ms + 1);
	g->next_member = g->now + 1000;
	g->next_expire = g->now + 1000;
	gossip_dir_init(g);
	return g;

err_sessions:
	gossip_sessions_free(&g->sessions);
err_auth:
	gossip_auth_wipe(&g->auth);
err_free:
	free(g);
	errno = -rc;
	return NULL;
}

void gossip_free(struct gossip *g)
{
	if (!g)
		return;
	gossip_probe_free(&g->probe);
	gossip_sessions_free(&g->sessions);
	gossip_dir_free(&g->dir);
	gossip_dissem_free(&g->dissem);
	gossip_members_free(&g->members);
	gossip_replay_free(&g->replay);
	gossip_auth_wipe(&g->auth);
	free(g->seeds);
	free(g);
}

struct gossip_msg *gossip_msg_start(struct gossip *g, uint8_t type)
{
	struct gossip_msg *m = &g->tx;
	const struct gossip_member *self =
		gossip_members_find(&g->members, g->cfg.self_id);

	memset(m, 0, offsetof(struct gossip_msg, updates));
	m->type = type;
	m->sender = g->cfg.self_id;
	m->incarnation = self->incarnation;
	return m;
}

int gossip_msg_send(struct gossip *g, const struct gossip_addr *to,
		    bool piggyback)
{
	struct gossip_msg *m = &g->tx;
	size_t room;
	uint16_t i;
	int len, rc;

	if (piggyback && m->n_updates < GOSSIP_MAX_UPDATES) {
		room = GOSSIP_DGRAM_MAX -
		       gossip_codec_overhead(&g->auth, m->type);
		for (i = 0; i < m->n_updates; i++)
			room -= gossip_codec_update_size(m->updates[i].kind);
		m->n_updates += gossip_dissem_fill(
			&g->dissem, &m->updates[m->n_updates],
			(uint16_t)(GOSSIP_MAX_UPDATES - m->n_updates), room,
			gossip_retransmit_limit(g));
	}
	m->seq = g->tx_seq++;
	len = gossip_codec_encode(&g->auth, m, g->buf, sizeof(g->buf));
	if (len < 0) {
		g->ctr.tx_err++;
		return len;
	}
	rc = g->io.send(g->io.ctx, to, g->buf, (size_t)len);
	if (rc) {
		g->ctr.tx_err++;
		return rc;
	}
	g->ctr.tx++;
	return 0;
}

void gossip_enqueue(struct gossip *g, const struct gossip_update *u, bool push)
{
	push = push && g->cfg.push_fanout;
	if (gossip_dissem_push(&g->dissem, u, push))
		g->ctr.dissem_dropped++;
	g->ctr.dissem_dropped += g->dissem.dropped;
	g->dissem.dropped = 0;
	if (g->dissem.n_push && g->push_at == UINT64_MAX) {
		g->push_at = g->now + g->cfg.push_delay_ms;
		g->push_skip = g->rx_sender;
	}
}

/*
 * Send updates[0..n) to `to` in as few GOSSIP datagrams as they fit.
 * Not topped up with queued updates: a burst of pushes would spend their
 * retransmissions within milliseconds, before members that are just
 * joining are known to anyone, who would then never hear of them.
 */
static void push_to(struct gossip *g, const struct gossip_addr *to,
		    const struct gossip_update *updates, uint32_t n)
{
	size_t room, sz;
	struct gossip_msg *m;
	uint32_t i = 0;

	while (i < n) {
		m = gossip_msg_start(g, GOSSIP_MSG_GOSSIP);
		room = GOSSIP_DGRAM_MAX -
		       gossip_codec_overhead(&g->auth, GOSSIP_MSG_GOSSIP);
		for (; i < n && m->n_updates < GOSSIP_MAX_UPDATES; i++) {
			sz = gossip_codec_update_size(updates[i].kind);
			if (sz > room && m->n_updates)
				break;
			room -= sz;
			m->updates[m->n_updates++] = updates[i];
		}
		g->ctr.pushes++;
		gossip_msg_send(g, to, false);
	}
}

void gossip_push_flush(struct gossip *g)
{
	uint16_t peers[GOSSIP_MAX_FANOUT];
	const struct gossip_member *m;
	uint32_t n_peers, n, i;

	if (g->now < g->push_at)
		return;
	g->push_at = UINT64_MAX;
	n_peers = gossip_pick_members(g, peers, g->cfg.push_fanout,
				      1u << GOSSIP_ALIVE | 1u << GOSSIP_SUSPECT,
				      g->push_skip);
	g->push_skip = g->cfg.self_id;
	/* Each taken update counts one transmission per target. */
	n = gossip_dissem_take_push(&g->dissem, g->push_buf, GOSSIP_PUSH_MAX,
				    n_peers, gossip_retransmit_limit(g));
	for (i = 0; i < n_peers && n; i++) {
		m = gossip_members_find(&g->members, peers[i]);
		push_to(g, &m->addr, g->push_buf, n);
	}
	/* Nobody to push to: the updates wait for gossip rounds. */
	while (!n_peers && g->dissem.n_push)
		gossip_dissem_take_push(&g->dissem, g->push_buf,
					GOSSIP_PUSH_MAX, 0, UINT32_MAX);
	/* A larger burst goes on at the pace of push_delay_ms. */
	if (g->dissem.n_push)
		g->push_at = g->now + g->cfg.push_delay_ms;
	gossip_dir_flush(g);
}

uint32_t gossip_retransmit_limit(const struct gossip *g)
{
	double n = gossip_members_live(&g->members);

	return g->cfg.retransmit_mult * (uint32_t)ceil(log10(n + 1));
}

uint32_t gossip_pick_members(struct gossip *g, uint16_t *out, uint32_t max,
			     uint32_t state_mask, uint16_t skip)
{
	const struct gossip_member *m;
	uint32_t i, seen = 0, n = 0, j;

	/* Reservoir sampling: one pass, no allocation. */
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		if (m->id == g->cfg.self_id || m->id == skip ||
		    !(state_mask >> m->state & 1))
			continue;
		seen++;
		if (n < max) {
			out[n++] = m->id;
			continue;
		}
		j = gossip_rand_below(g, seen);
		if (j < max)
			out[j] = m->id;
	}
	return n;
}

static int session_apply(struct gossip *g,
			 const struct gossip_session_update *s)
{
	struct gossip_session_info info;
	struct gossip_update u = {.kind = GOSSIP_UPD_SESSION};
	int rc;

	rc = gossip_sessions_apply(&g->sessions, s, g->now, &info);
	if (rc <= 0)
		return rc;
	u.session = *s;
	if (gossip_dir_on(g))
		gossip_dir_changed(g, s);
	else
		gossip_enqueue(g, &u, true);
	if (g->ev.session)
		g->ev.session(g->ev.ctx, &info);
	return 1;
}

int gossip_apply_update(struct gossip *g, const struct gossip_update *u)
{
	switch (u->kind) {
	case GOSSIP_UPD_MEMBER:
		return gossip_member_apply(g, &u->member);
	case GOSSIP_UPD_SESSION:
		return session_apply(g, &u->session);
	case GOSSIP_UPD_LOAD:
		return gossip_member_load_apply(g, &u->load);
	case GOSSIP_UPD_FORECAST:
		return gossip_member_forecast_apply(g, &u->forecast);
	case GOSSIP_UPD_HINT:
		return gossip_hint_apply(g, &u->hint);
	case GOSSIP_UPD_ORDER:
		return gossip_order_apply(g, &u->order);
	case GOSSIP_UPD_ASK:
		return gossip_ask_apply(g, &u->ask);
	default:
		return 0;
	}
}

/*
 * A member we do not know talks to us: it joined while news of it passed
 * us by, or we forgot it while it was cut off. An anti-entropy exchange
 * with it repairs both sides at once; at most one per probe interval, as
 * it costs up to max_sync_dgrams datagrams.
 */
static void stranger_sync(struct gossip *g, const struct gossip_addr *from)
{
	if (g->leaving || g->now < g->next_stranger_sync)
		return;
	g->next_stranger_sync = g->now + g->cfg.probe_interval_ms;
	g->ctr.syncs++;
	gossip_sync_push(g, from, true);
}

static enum gossip_rx_reason accept_dgram(struct gossip *g, const void *buf,
					  size_t len)
{
	enum gossip_rx_reason r;
	uint32_t unknown;

	r = gossip_codec_decode(&g->auth, buf, len, &g->rx, &unknown);
	if (r != GOSSIP_RX_OK)
		return r;
	if (g->rx.sender == g->cfg.self_id)
		return GOSSIP_RX_SELF;
	switch (gossip_replay_accept(&g->replay, g->rx.sender, g->rx.seq)) {
	case 0:
		break;
	case -ENOMEM:
		return GOSSIP_RX_NOMEM;
	default:
		return GOSSIP_RX_REPLAY;
	}
	g->ctr.rx_unknown_updates += unknown;
	return GOSSIP_RX_OK;
}

int gossip_recv(struct gossip *g, const void *buf, size_t len,
		const struct gossip_addr *from)
{
	const struct gossip_msg *m = &g->rx;
	enum gossip_rx_reason r;
	uint16_t i;
	int changed;

	g->now = g->io.now_ms(g->io.ctx);
	r = accept_dgram(g, buf, len);
	g->ctr.rx[r]++;
	if (r != GOSSIP_RX_OK) {
		log_warn_rl(&g->rl, GOSSIP_LOG,
			    "node %u: refused %zu-byte datagram: %s",
			    g->cfg.self_id, len, gossip_rx_reason_name(r));
		return -EBADMSG;
	}
	g->rx_sender = m->sender;
	for (i = 0; i < m->n_updates; i++) {
		changed = gossip_apply_update(g, &m->updates[i]);
		if (changed > 0 && m->type == GOSSIP_MSG_SYNC)
			g->ctr.sync_updates++;
	}
	/* After its updates, which may carry its own news. */
	if (gossip_members_find(&g->members, m->sender))
		gossip_member_heard(g, m->sender, m->incarnation, from);
	else
		stranger_sync(g, from);
	/* Someone answered: the join is done, gossip takes over. */
	if (g->joining && gossip_members_live(&g->members) > 1)
		g->joining = false;
	switch (m->type) {
	case GOSSIP_MSG_PING:
		gossip_probe_on_ping(g, m, from);
		break;
	case GOSSIP_MSG_ACK:
		gossip_probe_on_ack(g, m);
		break;
	case GOSSIP_MSG_NACK:
		gossip_probe_on_nack(g, m);
		break;
	case GOSSIP_MSG_PING_REQ:
		gossip_probe_on_ping_req(g, m, from);
		break;
	case GOSSIP_MSG_SYNC:
		gossip_sync_on_sync(g, m, from);
		break;
	}
	g->rx_sender = g->cfg.self_id;
	gossip_push_flush(g);
	return 0;
}

static void join_tick(struct gossip *g)
{
	uint32_t i;

	if (!g->joining || g->now < g->next_join)
		return;
	g->next_join = g->now + g->cfg.probe_interval_ms;
	for (i = 0; i < g->n_seeds; i++)
		gossip_sync_push(g, &g->seeds[i], true);
}

/* Datagrams of queued updates to the dead: 30 s after death, like
 * memberlist, so a member wrongly declared dead hears of it. */
#define GOSSIP_TO_THE_DEAD_MS 30000

/*
 * Datagrams per peer in a gossip round: as many as carry the whole queue
 * once, so that a burst of news is retired in a few rounds however large
 * it is, up to GOSSIP_ROUND_MAX_DGRAMS.
 */
static uint32_t round_dgrams(const struct gossip *g)
{
	size_t room = GOSSIP_DGRAM_MAX -
		      gossip_codec_overhead(&g->auth, GOSSIP_MSG_GOSSIP);
	uint32_t n = (uint32_t)((g->dissem.bytes + room - 1) / room);

	return n < GOSSIP_ROUND_MAX_DGRAMS ? n : GOSSIP_ROUND_MAX_DGRAMS;
}

/* Pure gossip: queued updates to a few members, plus recently dead ones
 * so that a member wrongly declared dead hears of it and refutes. */
static void gossip_round(struct gossip *g)
{
	uint16_t peers[GOSSIP_MAX_FANOUT];
	const struct gossip_member *m;
	uint32_t n, i, d, dgrams, fanout = g->cfg.gossip_fanout;

	if (g->now < g->next_gossip)
		return;
	g->next_gossip = g->now + g->cfg.gossip_interval_ms;
	if (!g->dissem.n)
		return;
	n = gossip_pick_members(g, peers, fanout,
				1u << GOSSIP_ALIVE | 1u << GOSSIP_SUSPECT,
				g->cfg.self_id);
	if (n < fanout)
		n += gossip_pick_members(g, peers + n, 1, 1u << GOSSIP_DEAD,
					 g->cfg.self_id);
	dgrams = round_dgrams(g);
	for (i = 0; i < n; i++) {
		m = gossip_members_find(&g->members, peers[i]);
		if (m->state == GOSSIP_DEAD &&
		    g->now > m->state_ms + GOSSIP_TO_THE_DEAD_MS)
			continue;
		for (d = 0; d < dgrams && g->dissem.n; d++) {
			gossip_msg_start(g, GOSSIP_MSG_GOSSIP);
			gossip_msg_send(g, &m->addr, true);
		}
	}
}

void gossip_tick(struct gossip *g)
{
	int pass;

	g->now = g->io.now_ms(g->io.ctx);
	/* One timer may make another due at once (a failed probe confirms
	 * a suspicion whose timeout has passed, a suspicion timeout asks
	 * for a probe): run them again, a bounded number of times, so none
	 * is left due. */
	for (pass = 0; pass < 4; pass++) {
		join_tick(g);
		gossip_probe_tick(g);
		gossip_member_timers(g);
		gossip_push_flush(g);
		gossip_round(g);
		gossip_sync_tick(g);
		gossip_dir_tick(g);
		if (g->now >= g->next_expire) {
			g->next_expire = g->now + 1000;
			gossip_sessions_expire(&g->sessions, g->now,
					       g->cfg.tombstone_ms);
		}
		if (gossip_next_deadline(g) > g->now)
			break;
	}
}

uint64_t gossip_next_deadline(const struct gossip *g)
{
	uint64_t d = gossip_probe_deadline(g);

	if (g->next_member < d)
		d = g->next_member;
	if (g->next_gossip < d)
		d = g->next_gossip;
	if (g->next_sync < d)
		d = g->next_sync;
	if (g->next_expire < d)
		d = g->next_expire;
	if (g->push_at < d)
		d = g->push_at;
	if (gossip_dir_deadline(g) < d)
		d = gossip_dir_deadline(g);
	if (g->joining && g->next_join < d)
		d = g->next_join;
	return d;
}

int gossip_join(struct gossip *g, const struct gossip_addr *seeds, uint32_t n)
{
	struct gossip_addr *s;

	if (!n || !seeds)
		return -EINVAL;
	s = realloc(g->seeds, n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, seeds, n * sizeof(*s));
	g->seeds = s;
	g->n_seeds = n;
	g->joining = true;
	g->now = g->io.now_ms(g->io.ctx);
	g->next_join = g->now;
	join_tick(g);
	return 0;
}

int gossip_leave(struct gossip *g)
{
	struct gossip_member *self =
		gossip_members_find(&g->members, g->cfg.self_id);
	struct gossip_update u = {.kind = GOSSIP_UPD_MEMBER};

	if (g->leaving)
		return -EALREADY;
	g->now = g->io.now_ms(g->io.ctx);
	g->leaving = true;
	g->joining = false;
	self->state = GOSSIP_LEFT;
	self->state_ms = g->now;
	gossip_member_to_update(g, self, &u.member);
	gossip_enqueue(g, &u, true);
	/* Do not wait for the next round to start spreading it. */
	g->push_at = g->now;
	gossip_push_flush(g);
	g->next_gossip = g->now;
	gossip_round(g);
	return 0;
}

static int session_local(struct gossip *g, const struct flow_key *key,
			 uint16_t owner, uint32_t epoch, uint8_t op)
{
	struct gossip_session_update u;
	int rc;

	if (owner == STEER_NODE_NONE || !key)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	u.owner = owner;
	u.op = op;
	u.epoch = epoch;
	u.key = *key;
	memset(u.key.pad, 0, sizeof(u.key.pad));
	g->now = g->io.now_ms(g->io.ctx);
	rc = session_apply(g, &u);
	if (rc > 0)
		gossip_dir_own(g, &u);
	gossip_push_flush(g);
	return rc < 0 ? rc : 0;
}

int gossip_session_announce(struct gossip *g, const struct flow_key *key,
			    uint16_t owner, uint32_t epoch)
{
	return session_local(g, key, owner, epoch, GOSSIP_SESSION_ESTABLISHED);
}

int gossip_session_close(struct gossip *g, const struct flow_key *key,
			 uint16_t owner, uint32_t epoch)
{
	return session_local(g, key, owner, epoch, GOSSIP_SESSION_CLOSED);
}

int gossip_session_lookup(const struct gossip *g, const struct flow_key *key,
			  struct gossip_session_info *out)
{
	struct flow_key k = *key;
	const struct gossip_session *e;

	memset(k.pad, 0, sizeof(k.pad));
	e = gossip_sessions_find(&g->sessions, &k);
	if (!e)
		return -ENOENT;
	*out = e->info;
	return 0;
}

uint32_t gossip_session_count(const struct gossip *g, bool established_only)
{
	return established_only ? g->sessions.n_established : g->sessions.n;
}

uint64_t gossip_session_bytes(const struct gossip *g)
{
	return (uint64_t)g->sessions.n * sizeof(struct gossip_session) +
	       (uint64_t)g->sessions.nb * sizeof(g->sessions.b[0]);
}

int gossip_session_walk(const struct gossip *g, gossip_session_fn fn, void *arg)
{
	const struct gossip_session *e = NULL;
	uint64_t now = g->io.now_ms(g->io.ctx);
	uint32_t bucket = 0;
	int ret;

	while ((e = gossip_sessions_next(&g->sessions, &bucket, e))) {
		ret = fn(&e->info, now - e->changed_ms, arg);
		if (ret)
			return ret;
	}
	return 0;
}

int gossip_load_report(struct gossip *g, uint16_t cpu_permille,
		       uint16_t mem_permille, uint64_t bandwidth_bps,
		       uint32_t sessions)
{
	struct gossip_load_update l = {
		.node = g->cfg.self_id,
		.cpu_permille = cpu_permille,
		.mem_permille = mem_permille,
		/* Datagram sequences outlive restarts, so reuse them. */
		.seq = g->tx_seq++,
		.bandwidth_bps = bandwidth_bps,
		.sessions = sessions,
		.flags = (g->drained ? GOSSIP_LOAD_F_DRAINED : 0) |
			 (g->ingress_joining ? GOSSIP_LOAD_F_JOINING : 0),
	};

	if (cpu_permille > 1000 || mem_permille > 1000)
		return -EINVAL;
	g->now = g->io.now_ms(g->io.ctx);
	gossip_member_load_apply(g, &l);
	return 0;
}

void gossip_drained_set(struct gossip *g, bool drained)
{
	g->drained = drained;
}

void gossip_joining_set(struct gossip *g, bool joining)
{
	g->ingress_joining = joining;
}

int gossip_forecast_report(struct gossip *g,
			   const struct gossip_forecast_update *f)
{
	struct gossip_forecast_update mine = *f;
	struct gossip_update u = {.kind = GOSSIP_UPD_FORECAST};

	mine.node = g->cfg.self_id;
	mine.seq = g->tx_seq++;
	u.forecast = mine;
	if (!gossip_codec_update_valid(&u))
		return -EINVAL;
	g->now = g->io.now_ms(g->io.ctx);
	gossip_member_forecast_apply(g, &mine);
	return 0;
}

int gossip_member_get(const struct gossip *g, uint16_t id,
		      struct gossip_member_info *out)
{
	const struct gossip_member *m = gossip_members_find(&g->members, id);

	if (!m)
		return -ENOENT;
	gossip_member_info_fill(m, out);
	return 0;
}

uint32_t gossip_member_count(const struct gossip *g, enum gossip_state st)
{
	uint32_t i, n = 0;

	for (i = 0; i < g->members.n; i++)
		n += g->members.v[i].state == st;
	return n;
}

uint32_t gossip_members(const struct gossip *g, struct gossip_member_info *out,
			uint32_t max)
{
	uint32_t i;

	for (i = 0; i < g->members.n && i < max; i++)
		gossip_member_info_fill(&g->members.v[i], &out[i]);
	return g->members.n;
}

bool gossip_joined(const struct gossip *g)
{
	return !g->joining;
}

uint32_t gossip_incarnation(const struct gossip *g)
{
	return gossip_members_find(&g->members, g->cfg.self_id)->incarnation;
}

uint32_t gossip_health(const struct gossip *g)
{
	return g->health;
}

const struct gossip_counters *gossip_counters(const struct gossip *g)
{
	return &g->ctr;
}

const struct gossip_hists *gossip_hists(const struct gossip *g)
{
	return &g->hists;
}

int gossip_replay_tops(const struct gossip *g,
		       int (*fn)(uint16_t sender, uint64_t top, void *arg),
		       void *arg)
{
	return gossip_replay_foreach(&g->replay, fn, arg);
}

int gossip_replay_restore(struct gossip *g, uint16_t sender, uint64_t floor)
{
	return gossip_replay_floor(&g->replay, sender, floor);
}
