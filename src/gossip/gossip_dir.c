// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ownership by directory (see gossip_dir.h): homes by rendezvous
 * hashing, the outbox of direct records, refresh, rehome and expiry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <steer/decide.h>

#include "gossip/gossip_dir.h"
#include "gossip/gossip_int.h"

bool gossip_dir_on(const struct gossip *g)
{
	return g->cfg.ownership == GOSSIP_OWN_DIRECTORY;
}

/* Refresh due in dir_refresh_ms, +-25%. */
static void dir_refresh_arm(struct gossip *g)
{
	uint32_t r = g->cfg.dir_refresh_ms;

	g->dir.next_refresh =
		g->now + r - r / 4 + gossip_rand_below(g, r / 2 + 1);
}

void gossip_dir_init(struct gossip *g)
{
	g->dir.rehome_at = UINT64_MAX;
	g->dir.live_stale = true;
	g->dir.next_refresh = UINT64_MAX;
	if (gossip_dir_on(g))
		dir_refresh_arm(g);
}

void gossip_dir_free(struct gossip_dir *d)
{
	free(d->q);
	free(d->live);
	memset(d, 0, sizeof(*d));
}

/* The live members (alive or suspect, ourselves included), rebuilt
 * after the live set changed. -ENOMEM keeps the old set. */
static int dir_live(struct gossip *g)
{
	struct gossip_dir *d = &g->dir;
	const struct gossip_member *m;
	struct hrw_node *v;
	uint32_t i;

	if (!d->live_stale)
		return 0;
	if (d->cap_live < g->members.n) {
		v = realloc(d->live, g->members.n * sizeof(*v));
		if (!v)
			return -ENOMEM;
		d->live = v;
		d->cap_live = g->members.n;
	}
	d->n_live = 0;
	for (i = 0; i < g->members.n; i++) {
		m = &g->members.v[i];
		if (m->state != GOSSIP_ALIVE && m->state != GOSSIP_SUSPECT)
			continue;
		d->live[d->n_live].id = m->id;
		d->live[d->n_live++].weight = 1;
	}
	d->live_stale = false;
	return 0;
}

uint32_t gossip_dir_shard_homes(struct gossip *g, uint32_t shard, uint16_t *out,
				uint32_t max)
{
	uint32_t k = g->cfg.dir_homes < max ? g->cfg.dir_homes : max;
	int n;

	if (!gossip_dir_on(g) || dir_live(g) || !k)
		return 0;
	n = hrw_topk(g->dir.live, g->dir.n_live,
		     hrw_shard_key(shard, &g->cfg.dir_secret), STEER_NODE_NONE,
		     &g->cfg.dir_secret, out, k);
	return n > 0 ? (uint32_t)n : 0;
}

uint32_t gossip_dir_homes(struct gossip *g, const struct flow_key *key,
			  uint16_t *out, uint32_t max)
{
	uint64_t h = flow_hash(key, &g->cfg.dir_secret);

	return gossip_dir_shard_homes(g, steer_shard_of(h), out, max);
}

static void dir_queue_copy(struct gossip *g, uint16_t to,
			   const struct gossip_update *u, uint8_t copy)
{
	struct gossip_dir *d = &g->dir;
	struct gossip_dir_out *q;
	uint32_t cap;

	if (to == g->cfg.self_id || to == STEER_NODE_NONE)
		return;
	if (d->n == d->cap) {
		cap = d->cap ? d->cap * 2 : 256;
		q = cap <= GOSSIP_DIR_OUT_MAX ? realloc(d->q, cap * sizeof(*q))
					      : NULL;
		if (!q) {
			g->ctr.dir_dropped++;
			return;
		}
		d->q = q;
		d->cap = cap;
	}
	d->q[d->n].to = to;
	d->q[d->n].copy = copy;
	d->q[d->n++].u = *u;
	if (g->push_at == UINT64_MAX)
		g->push_at = g->now + g->cfg.push_delay_ms;
}

static void dir_queue_update(struct gossip *g, uint16_t to,
			     const struct gossip_update *u)
{
	dir_queue_copy(g, to, u, 0);
}

static void dir_queue(struct gossip *g, uint16_t to,
		      const struct gossip_session_update *s)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_SESSION};

	u.session = *s;
	dir_queue_update(g, to, &u);
}

/* u to each of its session's homes, and to node `also` when it is none
 * of them (STEER_NODE_NONE: nobody else). */
static void dir_to_homes(struct gossip *g,
			 const struct gossip_session_update *u, uint16_t also)
{
	uint16_t homes[GOSSIP_DIR_HOMES_MAX];
	uint32_t i,
		n = gossip_dir_homes(g, &u->key, homes, GOSSIP_DIR_HOMES_MAX);

	for (i = 0; i < n; i++) {
		dir_queue(g, homes[i], u);
		if (homes[i] == also)
			also = STEER_NODE_NONE;
	}
	dir_queue(g, also, u); /* STEER_NODE_NONE: nobody */
}

void gossip_dir_own(struct gossip *g, const struct gossip_session_update *u)
{
	if (gossip_dir_on(g))
		dir_to_homes(g, u, STEER_NODE_NONE);
}

void gossip_dir_changed(struct gossip *g, const struct gossip_session_update *u)
{
	const struct gossip_session *e;
	uint32_t i;

	if (!gossip_dir_on(g))
		return;
	e = gossip_sessions_find(&g->sessions, &u->key);
	for (i = 0; e && i < GOSSIP_DIR_TAUGHT; i++)
		if (e->taught[i] != STEER_NODE_NONE &&
		    e->taught[i] != u->owner) {
			dir_queue(g, e->taught[i], u);
			g->ctr.dir_forwarded++;
		}
}

int gossip_dir_teach(struct gossip *g, const struct flow_key *key, uint16_t to)
{
	struct gossip_session_update u;
	struct gossip_session *e;
	struct flow_key k = *key;
	uint32_t i;

	if (!gossip_dir_on(g) || to == g->cfg.self_id ||
	    !gossip_members_find(&g->members, to))
		return -EINVAL;
	memset(k.pad, 0, sizeof(k.pad));
	e = (struct gossip_session *)gossip_sessions_find(&g->sessions, &k);
	if (!e || e->info.state != GOSSIP_SESSION_ESTABLISHED ||
	    e->info.owner == to)
		return -ENOENT;
	g->now = g->io.now_ms(g->io.ctx);
	for (i = 0; i < GOSSIP_DIR_TAUGHT && e->taught[i] != to; i++)
		;
	if (i == GOSSIP_DIR_TAUGHT) {
		e->taught[e->taught_next] = to;
		e->taught_next =
			(uint8_t)((e->taught_next + 1) % GOSSIP_DIR_TAUGHT);
	}
	gossip_session_to_update(e, &u);
	dir_queue(g, to, &u);
	g->ctr.dir_taught++;
	gossip_push_flush(g);
	return 0;
}

int gossip_session_tell(struct gossip *g, const struct flow_key *key,
			uint16_t to)
{
	struct gossip_session_update u;
	const struct gossip_session *e;
	struct flow_key k = *key;

	if (to == g->cfg.self_id || !gossip_members_find(&g->members, to))
		return -EINVAL;
	memset(k.pad, 0, sizeof(k.pad));
	e = gossip_sessions_find(&g->sessions, &k);
	if (!e)
		return -ENOENT;
	g->now = g->io.now_ms(g->io.ctx);
	gossip_session_to_update(e, &u);
	dir_queue(g, to, &u);
	gossip_push_flush(g);
	return 0;
}

void gossip_dir_live_changed(struct gossip *g)
{
	g->dir.live_stale = true;
	if (gossip_dir_on(g) && g->dir.rehome_at == UINT64_MAX)
		g->dir.rehome_at = g->now + GOSSIP_DIR_REHOME_MS;
}

/* Every established session we own, to its homes. */
static void dir_refresh(struct gossip *g)
{
	const struct gossip_session *e = NULL;
	struct gossip_session_update u;
	uint32_t bucket = 0;

	g->ctr.dir_refreshes++;
	while ((e = gossip_sessions_next(&g->sessions, &bucket, e))) {
		if (e->info.owner != g->cfg.self_id ||
		    e->info.state != GOSSIP_SESSION_ESTABLISHED)
			continue;
		gossip_session_to_update(e, &u);
		dir_to_homes(g, &u, STEER_NODE_NONE);
	}
}

/* Records expired at most per tick (1 s); the rest go at the next. */
#define DIR_EXPIRE_BATCH 256

/* Records neither ours nor seen for dir_expire_ms: forgotten. */
static void dir_expire(struct gossip *g)
{
	struct gossip_session_info gone[DIR_EXPIRE_BATCH];
	const struct gossip_session *e = NULL;
	uint32_t bucket = 0, n = 0, i;

	while (n < DIR_EXPIRE_BATCH &&
	       (e = gossip_sessions_next(&g->sessions, &bucket, e)))
		if (e->info.owner != g->cfg.self_id &&
		    e->info.state == GOSSIP_SESSION_ESTABLISHED &&
		    g->now >= e->seen_ms + g->cfg.dir_expire_ms)
			gone[n++] = e->info;
	for (i = 0; i < n; i++) {
		gossip_sessions_remove(&g->sessions, &gone[i].key);
		gone[i].state = GOSSIP_SESSION_CLOSED;
		g->ctr.dir_expired++;
		if (g->ev.session)
			g->ev.session(g->ev.ctx, &gone[i]);
	}
}

void gossip_dir_tick(struct gossip *g)
{
	if (!gossip_dir_on(g))
		return;
	if (g->now >= g->dir.rehome_at || g->now >= g->dir.next_refresh) {
		g->dir.rehome_at = UINT64_MAX;
		dir_refresh_arm(g);
		dir_refresh(g);
	}
	if (g->now >= g->next_expire)
		dir_expire(g);
}

uint64_t gossip_dir_deadline(const struct gossip *g)
{
	const struct gossip_dir *d = &g->dir;

	return d->rehome_at < d->next_refresh ? d->rehome_at : d->next_refresh;
}

static int out_cmp(const void *a, const void *b)
{
	const struct gossip_dir_out *x = a, *y = b;

	if (x->to != y->to)
		return (int)x->to - (int)y->to;
	return (int)x->copy - (int)y->copy;
}

/* Records q[0..n) for one node (sorted by copy), in as few datagrams as
 * they fit, each copy of an update in a datagram of its own: a lost
 * datagram loses one copy only. */
static void dir_send(struct gossip *g, const struct gossip_dir_out *q,
		     uint32_t n)
{
	const struct gossip_member *m = gossip_members_find(&g->members, q->to);
	size_t room = 0;
	struct gossip_msg *msg = NULL;
	uint32_t i;

	if (!m || m->state == GOSSIP_DEAD || m->state == GOSSIP_LEFT) {
		g->ctr.dir_dropped += n;
		return;
	}
	for (i = 0; i < n; i++) {
		size_t sz = gossip_codec_update_size(q[i].u.kind);

		if (!msg || room < sz || msg->n_updates == GOSSIP_MAX_UPDATES ||
		    (i && q[i].copy != q[i - 1].copy)) {
			if (msg)
				gossip_msg_send(g, &m->addr, false);
			msg = gossip_msg_start(g, GOSSIP_MSG_GOSSIP);
			room = GOSSIP_DGRAM_MAX -
			       gossip_codec_overhead(&g->auth,
						     GOSSIP_MSG_GOSSIP);
		}
		msg->updates[msg->n_updates++] = q[i].u;
		room -= sz;
		if (q[i].u.kind == GOSSIP_UPD_HINT)
			g->ctr.hints_sent++;
		else if (q[i].u.kind == GOSSIP_UPD_SESSION)
			g->ctr.dir_sent++;
	}
	if (msg)
		gossip_msg_send(g, &m->addr, false);
}

void gossip_dir_flush(struct gossip *g)
{
	struct gossip_dir *d = &g->dir;
	uint32_t i = 0, j;

	if (!d->n)
		return;
	qsort(d->q, d->n, sizeof(*d->q), out_cmp);
	while (i < d->n) {
		for (j = i + 1; j < d->n && d->q[j].to == d->q[i].to; j++)
			;
		dir_send(g, d->q + i, j - i);
		i = j;
	}
	d->n = 0;
}

int gossip_hint_send(struct gossip *g, const uint16_t *to, uint32_t n,
		     const struct gossip_hint_update *h, uint32_t copies)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_HINT};
	uint32_t i, c;

	u.hint = *h;
	u.hint.owner = g->cfg.self_id;
	memset(u.hint.key.pad, 0, sizeof(u.hint.key.pad));
	if (!gossip_codec_update_valid(&u) || !copies ||
	    copies > GOSSIP_HINT_COPIES_MAX)
		return -EINVAL;
	g->now = g->io.now_ms(g->io.ctx);
	for (i = 0; i < n; i++)
		for (c = 0; c < copies; c++)
			dir_queue_copy(g, to[i], &u, (uint8_t)c);
	/* A hint is worth most before the move: out now, not at the push
	 * delay. */
	g->push_at = g->now;
	gossip_push_flush(g);
	return 0;
}

int gossip_hint_apply(struct gossip *g, const struct gossip_hint_update *h)
{
	/* Only a session's owner hints about it: the datagram's sender. */
	if (h->owner != g->rx_sender) {
		g->ctr.hints_refused++;
		return 0;
	}
	g->ctr.hints_in++;
	if (g->ev.hint)
		g->ev.hint(g->ev.ctx, h);
	return 1;
}

int gossip_order_send(struct gossip *g, uint16_t to, uint8_t op)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_ORDER};
	const struct gossip_member *m;
	uint32_t c;

	u.order.node = to;
	u.order.from = g->cfg.self_id;
	u.order.op = op;
	if (!gossip_codec_update_valid(&u) || to == g->cfg.self_id)
		return -EINVAL;
	m = gossip_members_find(&g->members, to);
	if (!m)
		return -ENOENT;
	if (m->state == GOSSIP_DEAD || m->state == GOSSIP_LEFT)
		return -EHOSTUNREACH;
	u.order.id = gossip_rand(g);
	g->now = g->io.now_ms(g->io.ctx);
	for (c = 0; c < GOSSIP_ORDER_COPIES; c++)
		dir_queue_copy(g, to, &u, (uint8_t)c);
	g->ctr.orders_sent++;
	g->push_at = g->now;
	gossip_push_flush(g);
	return 0;
}

int gossip_order_apply(struct gossip *g, const struct gossip_order_update *o)
{
	struct gossip_dir *d = &g->dir;
	uint32_t i;

	if (o->from != g->rx_sender || o->node != g->cfg.self_id) {
		g->ctr.orders_refused++;
		return 0;
	}
	for (i = 0; i < GOSSIP_ORDERS_SEEN; i++)
		if (d->orders_seen[i].from == o->from &&
		    d->orders_seen[i].id == o->id)
			return 0;
	d->orders_seen[d->orders_next].from = o->from;
	d->orders_seen[d->orders_next].id = o->id;
	d->orders_next = (d->orders_next + 1) % GOSSIP_ORDERS_SEEN;
	g->ctr.orders_in++;
	if (g->ev.order)
		g->ev.order(g->ev.ctx, o);
	return 1;
}

/* One ask may go now (the token bucket of GOSSIP_ASK_RATE a second). */
static bool dir_ask_token(struct gossip *g)
{
	struct gossip_dir *d = &g->dir;
	uint64_t add = (g->now - d->ask_at) * GOSSIP_ASK_RATE / 1000;

	if (add) {
		add += d->ask_tokens;
		d->ask_tokens =
			add > GOSSIP_ASK_RATE ? GOSSIP_ASK_RATE : (uint32_t)add;
		d->ask_at = g->now;
	}
	if (!d->ask_tokens)
		return false;
	d->ask_tokens--;
	return true;
}

int gossip_dir_ask(struct gossip *g, const struct flow_key *key)
{
	struct gossip_update u = {.kind = GOSSIP_UPD_ASK};
	uint32_t i;

	u.ask.asker = g->cfg.self_id;
	u.ask.key = *key;
	memset(u.ask.key.pad, 0, sizeof(u.ask.key.pad));
	if (!gossip_dir_on(g) || !gossip_codec_update_valid(&u))
		return -EINVAL;
	g->now = g->io.now_ms(g->io.ctx);
	if (!dir_ask_token(g)) {
		g->ctr.asks_limited++;
		return -EAGAIN;
	}
	dir_live(g);
	for (i = 0; i < g->dir.n_live; i++)
		dir_queue_update(g, g->dir.live[i].id, &u);
	g->ctr.asks_sent++;
	g->push_at = g->now;
	gossip_push_flush(g);
	return 0;
}

int gossip_ask_apply(struct gossip *g, const struct gossip_ask_update *a)
{
	const struct gossip_session *e;
	struct gossip_session_update u;

	if (a->asker != g->rx_sender) {
		g->ctr.asks_refused++;
		return 0;
	}
	g->ctr.asks_in++;
	e = gossip_sessions_find(&g->sessions, &a->key);
	if (!gossip_dir_on(g) || !e || e->info.owner != g->cfg.self_id ||
	    e->info.state != GOSSIP_SESSION_ESTABLISHED)
		return 0;
	gossip_session_to_update(e, &u);
	/* The asker too, when it is not a home in our view. */
	dir_to_homes(g, &u, a->asker);
	g->ctr.asks_answered++;
	g->push_at = g->now;
	return 1;
}
