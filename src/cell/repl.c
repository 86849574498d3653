// SPDX-License-Identifier: GPL-2.0-only
#include "cell/repl_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

#define MOD "repl"

static void repl_collect(struct repl *r, uint64_t now);

void repl_rec_to_wire(const struct flowtab_rec *a, struct cell_flow_rec *b)
{
	memset(b, 0, sizeof(*b));
	b->key = a->key;
	b->version = a->version;
	b->epoch = a->epoch;
	b->backend = a->backend;
	b->service = a->service;
	b->primary = a->primary;
	b->mirror[0] = a->mirror[0];
	b->mirror[1] = a->mirror[1];
	b->rf = a->rf;
	b->state = a->state;
	b->tcp_flags = a->tcp_flags;
	b->created_ms = a->created_ms;
	b->last_ms = a->last_ms;
	b->packets = a->packets;
	b->bytes = a->bytes;
}

void repl_rec_from_wire(const struct cell_flow_rec *b, struct flowtab_rec *a)
{
	memset(a, 0, sizeof(*a));
	a->key = b->key;
	a->version = b->version;
	a->epoch = b->epoch;
	a->backend = b->backend;
	a->service = b->service;
	a->primary = b->primary;
	a->mirror[0] = b->mirror[0];
	a->mirror[1] = b->mirror[1];
	a->rf = b->rf;
	a->state = b->state;
	a->tcp_flags = b->tcp_flags;
	a->created_ms = b->created_ms;
	a->last_ms = b->last_ms;
	a->packets = b->packets;
	a->bytes = b->bytes;
}

static void repl_on_tick(struct evloop *el, int64_t id, void *arg)
{
	struct repl *r = arg;
	uint64_t now = evloop_now_ms(), lag = 0;
	struct cellmsg hb = {.type = CELLMSG_HEARTBEAT};
	uint32_t i;

	for (i = 0; i < r->n_outs; i++) {
		struct repl_out *o = &r->outs[i];

		/* A stream to every other cell, shards shared or not: its
		 * heartbeats tell that cell this one lives, and its end (a
		 * killed daemon's kernel resets its sockets) that it died. */
		if (o->fd < 0 && now >= o->retry_ms)
			repl_out_connect(o);
		if (!o->up)
			continue;
		if (repl_out_flush(o)) {
			repl_out_close(o, true);
			continue;
		}
		if (o->len == 0 && now - o->last_tx_ms >= REPL_HEARTBEAT_MS) {
			memset(&hb.hb, 0, sizeof(hb.hb));
			hb.hb.now_ms = now;
			hb.hb.tx_seq = o->seq + 1;
			if (repl_out_frame(o, &hb))
				repl_out_close(o, true);
		}
		repl_out_send(o);
		lag += o->seq - o->acked;
	}
	r->st.lag = lag;
	repl_in_watch(r, now);
	repl_collect(r, now);
}

static int repl_listen(struct repl *r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, err;

	memset(&ss, 0, sizeof(ss));
	if (flow_addr_is_v4(&r->cfg.listen)) {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(r->cfg.port);
		s4->sin_addr.s_addr = r->cfg.listen.w[3];
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(r->cfg.port);
		memcpy(&s6->sin6_addr, r->cfg.listen.b, 16);
		len = sizeof(*s6);
	}
	r->lfd = socket(ss.ss_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->lfd < 0)
		return -errno;
	setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(r->lfd, (struct sockaddr *)&ss, len) || listen(r->lfd, 64) ||
	    getsockname(r->lfd, (struct sockaddr *)&ss, &len))
		return -errno;
	r->port = ntohs(ss.ss_family == AF_INET
				? ((struct sockaddr_in *)&ss)->sin_port
				: ((struct sockaddr_in6 *)&ss)->sin6_port);
	err = evloop_fd_add(r->cfg.el, r->lfd, EVLOOP_READ, repl_on_accept, r);
	return err;
}

struct repl *repl_new(const struct repl_cfg *cfg)
{
	struct repl *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->cfg = *cfg;
	r->lfd = -1;
	r->timer = -1;
	r->recs = calloc(CELLMSG_BATCH_MAX, sizeof(*r->recs));
	r->hb_recs = calloc(CELLMSG_BATCH_MAX, sizeof(*r->hb_recs));
	r->frame = malloc(CELLMSG_FRAME_MAX);
	if (!r->recs || !r->hb_recs || !r->frame) {
		err = -ENOMEM;
		goto fail;
	}
	err = repl_listen(r);
	if (err)
		goto fail;
	r->timer = evloop_timer_add(cfg->el, REPL_FLUSH_MS, REPL_FLUSH_MS,
				    repl_on_tick, r);
	if (r->timer < 0) {
		err = (int)r->timer;
		goto fail;
	}
	return r;
fail:
	repl_free(r);
	errno = -err;
	return NULL;
}

void repl_free(struct repl *r)
{
	uint32_t i;

	if (!r)
		return;
	while (r->ins)
		repl_in_close(r, r->ins, false);
	for (i = 0; i < r->n_outs; i++) {
		repl_out_close(&r->outs[i], false);
		free(r->outs[i].buf);
		free(r->outs[i].pend);
	}
	free(r->outs);
	if (r->timer > 0)
		evloop_timer_del(r->cfg.el, r->timer);
	if (r->lfd >= 0) {
		evloop_fd_del(r->cfg.el, r->lfd);
		close(r->lfd);
	}
	free(r->recs);
	free(r->hb_recs);
	free(r->frame);
	free(r);
}

uint16_t repl_port(const struct repl *r)
{
	return r->port;
}

static void repl_addr(struct repl_out *o, const struct flow_addr *a,
		      uint16_t port)
{
	memset(&o->addr, 0, sizeof(o->addr));
	if (flow_addr_is_v4(a)) {
		struct sockaddr_in *s4 = (void *)&o->addr;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = a->w[3];
		o->alen = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&o->addr;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
		o->alen = sizeof(*s6);
	}
}

int repl_world_set(struct repl *r, const struct cluster *c,
		   uint16_t (*port_of)(uint16_t id))
{
	const struct cluster_endpoint *me = &cluster_self(c)->ep;
	struct repl_out *outs = calloc(c->n_nodes, sizeof(*outs));
	struct repl_out *old;
	uint32_t i, n = 0;

	if (!outs)
		return -ENOMEM;
	for (i = 0; i < c->n_nodes; i++) {
		const struct cluster_endpoint *ep = &c->nodes[i].ep;
		const struct flow_addr *a =
			me->has_v4 && ep->has_v4   ? &ep->addr4
			: me->has_v6 && ep->has_v6 ? &ep->addr6
						   : NULL;

		if (i == c->self || !a)
			continue;
		old = repl_out_of(r, ep->id);
		if (old) {
			outs[n] = *old; /* keeps its connection */
			old->fd = -1;
			old->buf = NULL;
			old->pend = NULL;
			old->tx = NULL;
		} else {
			outs[n].id = ep->id;
			outs[n].fd = -1;
		}
		repl_addr(&outs[n], a,
			  port_of ? port_of(ep->id) : ntohs(c->repl_port));
		n++;
	}
	/* Nodes gone from the cluster: their streams end. */
	for (i = 0; i < r->n_outs; i++) {
		repl_out_close(&r->outs[i], false);
		free(r->outs[i].buf);
		free(r->outs[i].pend);
	}
	free(r->outs);
	r->outs = outs;
	r->n_outs = n;
	/* The loop keeps pointers to the outs: re-point every watched fd. */
	for (i = 0; i < n; i++) {
		outs[i].r = r;
		if (outs[i].fd >= 0) {
			evloop_fd_del(r->cfg.el, outs[i].fd);
			evloop_fd_add(r->cfg.el, outs[i].fd,
				      EVLOOP_READ | EVLOOP_WRITE, repl_on_out,
				      &outs[i]);
		}
	}
	repl_chain_set(r, c->repl_chain);
	return 0;
}

static const char *const chain_break_names[REPL_CHAIN_REASONS] = {
	[REPL_CHAIN_OK] = "ok",
	[REPL_CHAIN_GAP] = "gap",
	[REPL_CHAIN_REORDER] = "reorder",
	[REPL_CHAIN_MISMATCH] = "mismatch",
};

const char *repl_chain_break_name(enum repl_chain_break b)
{
	if ((unsigned)b >= REPL_CHAIN_REASONS)
		return "unknown";
	return chain_break_names[b];
}

void repl_chain_set(struct repl *r, bool on)
{
	uint32_t i, j;

	if (r->chain == on)
		return;
	r->chain = on;
	log_info(MOD, "replication chain %s", on ? "on" : "off");
	/* The chains stay where they are (a restart on one end only would
	 * break them all); the snapshots restart those of shared shards on
	 * both ends at once. */
	for (i = 0; i < r->n_outs; i++) {
		struct repl_out *o = &r->outs[i];

		for (j = 0; j < REPL_SHARD_WORDS; j++)
			o->snap[j] |= o->shared[j];
	}
}

bool repl_chain_on(const struct repl *r)
{
	return r->chain;
}

uint32_t repl_chains_of(const struct repl *r, uint16_t shard,
			struct repl_chain_info *out, uint32_t max)
{
	const struct repl_chain *ch;
	const struct repl_in *in;
	uint32_t i, n = 0;

	if (shard >= STEER_SHARDS)
		return 0;
	for (i = 0; i < r->n_outs; i++) {
		if (!r->outs[i].tx || !r->outs[i].tx[shard].seq)
			continue;
		ch = &r->outs[i].tx[shard];
		if (n < max)
			out[n] = (struct repl_chain_info){.peer = r->outs[i].id,
							  .tx = true,
							  .seq = ch->seq};
		if (n < max)
			memcpy(out[n].head, ch->head, CELLMSG_LINK_LEN);
		n++;
	}
	for (in = r->ins; in; in = in->next) {
		if (!in->rx || (!in->rx[shard].seq && !in->rx[shard].broken))
			continue;
		ch = &in->rx[shard];
		if (n < max) {
			out[n] =
				(struct repl_chain_info){.peer = in->seq.sender,
							 .seq = ch->seq,
							 .broken = ch->broken};
			memcpy(out[n].head, ch->head, CELLMSG_LINK_LEN);
		}
		n++;
	}
	return n;
}

static uint64_t head64(const uint8_t *h)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

/* Sum up one stream's chains into *cs; false when it has none. */
static bool chain_stream(const struct repl_chain *chains,
			 struct repl_chain_stream *cs)
{
	uint32_t s;

	if (!chains)
		return false;
	for (s = 0; s < STEER_SHARDS; s++) {
		if (!chains[s].seq && !chains[s].broken)
			continue;
		cs->chains++;
		cs->broken += chains[s].broken != 0;
		cs->links += chains[s].seq;
		if (chains[s].seq)
			cs->fingerprint ^= head64(chains[s].head);
	}
	return cs->chains > 0;
}

uint32_t repl_chain_streams(const struct repl *r, struct repl_chain_stream *out,
			    uint32_t max)
{
	struct repl_chain_stream cs;
	const struct repl_in *in;
	uint32_t i, n = 0;

	for (i = 0; i < r->n_outs; i++) {
		cs = (struct repl_chain_stream){.peer = r->outs[i].id,
						.tx = true};
		if (!chain_stream(r->outs[i].tx, &cs))
			continue;
		if (n < max)
			out[n] = cs;
		n++;
	}
	for (in = r->ins; in; in = in->next) {
		cs = (struct repl_chain_stream){.peer = in->seq.sender};
		if (!chain_stream(in->rx, &cs))
			continue;
		if (n < max)
			out[n] = cs;
		n++;
	}
	return n;
}

/*
 * A give of shard s not acked yet goes to the shard's primary of map m:
 * to no one when this cell is (again), to the new one when it changed
 * meanwhile. A give to a cell that died before it took it stayed on the
 * dead cell's stream for ever, and the records with it (collection
 * spares a shard being given): they kept naming this cell as their
 * owner beside the shard's primary.
 */
static void repl_give_follow(struct repl *r, const struct shard_map *m,
			     uint32_t s)
{
	uint16_t to = m->cell[s][0];
	struct repl_out *o;
	bool moved = false;
	uint32_t i;

	for (i = 0; i < r->n_outs; i++) {
		o = &r->outs[i];
		if (o->id == to ||
		    (!bit_get(o->give, s) && !bit_get(o->given, s)))
			continue;
		bit_clr(o->give, s);
		bit_clr(o->given, s);
		moved = true;
	}
	if (!moved || to == r->cfg.self_id || to == STEER_NODE_NONE)
		return;
	o = repl_out_of(r, to);
	if (o)
		bit_set(o->give, s);
}

/*
 * Shards this cell was primary of and is no longer: what it holds of
 * them goes to their new primary on this cell's own stream to it, which
 * the primary acks (then this cell forgets them unless it mirrors them).
 */
static void repl_shards_lost(struct repl *r, const struct shard_map *m)
{
	struct repl_out *o;
	uint32_t s;

	for (s = 0; s < STEER_SHARDS; s++) {
		uint32_t j;

		bit_clr(r->mirrors, s);
		for (j = 1; j < m->rf && j < 1 + STEER_MAX_MIRRORS; j++)
			if (m->cell[s][j] == r->cfg.self_id)
				bit_set(r->mirrors, s);
	}
	for (s = 0; s < STEER_SHARDS; s++) {
		bool mine = m->cell[s][0] == r->cfg.self_id;

		repl_give_follow(r, m, s);
		if (bit_get(r->mine, s) == mine)
			continue;
		if (mine) {
			bit_set(r->mine, s);
			continue;
		}
		bit_clr(r->mine, s);
		if (m->cell[s][0] == STEER_NODE_NONE)
			continue;
		/* This cell's own stream to it carries them, and its ACK
		 * says when they are there. */
		o = repl_out_of(r, m->cell[s][0]);
		if (o)
			bit_set(o->give, s);
	}
}

/* Is shard on its way to a new primary (given, not acked yet)? */
static bool repl_giving(const struct repl *r, uint32_t shard)
{
	uint32_t i;

	for (i = 0; i < r->n_outs; i++)
		if (bit_get(r->outs[i].give, shard) ||
		    bit_get(r->outs[i].given, shard))
			return true;
	return false;
}

/*
 * Records of shards this cell neither owns nor mirrors, once the map has
 * held still for REPL_GC_STABLE_MS: copies from a map of before (the
 * shard moved), or sent by a cell whose map differed for a moment. The
 * shard's primary and mirrors hold the state; such copies only name
 * owners beside the shard's own.
 */
static void repl_collect(struct repl *r, uint64_t now)
{
	uint32_t s, before;

	if (now - r->map_ms < REPL_GC_STABLE_MS ||
	    now - r->gc_ms < REPL_GC_STABLE_MS)
		return;
	r->gc_ms = now;
	for (s = 0; s < STEER_SHARDS; s++) {
		if (bit_get(r->mine, s) || bit_get(r->mirrors, s) ||
		    !flowtab_shard_count(r->cfg.ft, s) || repl_giving(r, s))
			continue;
		before = flowtab_shard_count(r->cfg.ft, s);
		flowtab_shard_walk(r->cfg.ft, s, repl_forget_one, r->cfg.ft);
		r->st.collected += before - flowtab_shard_count(r->cfg.ft, s);
	}
}

void repl_shards_set(struct repl *r, const struct shard_map *m)
{
	uint64_t shared[REPL_SHARD_WORDS];
	uint32_t i, s, j;

	repl_shards_lost(r, m);
	r->map_ms = evloop_now_ms();

	for (i = 0; i < r->n_outs; i++) {
		struct repl_out *o = &r->outs[i];

		memset(shared, 0, sizeof(shared));
		for (s = 0; s < STEER_SHARDS; s++) {
			if (m->cell[s][0] != r->cfg.self_id)
				continue;
			for (j = 1; j < m->rf; j++)
				if (m->cell[s][j] == o->id)
					bit_set(shared, s);
		}
		/* Shards new to the pair: their snapshot is due. */
		for (j = 0; j < REPL_SHARD_WORDS; j++)
			o->snap[j] |= shared[j] & ~o->shared[j];
		memcpy(o->shared, shared, sizeof(shared));
	}
}

const struct repl_stats *repl_stats(const struct repl *r)
{
	return &r->st;
}

uint32_t repl_pending(const struct repl *r, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < r->n_outs; i++)
		if (r->outs[i].id == id)
			return r->outs[i].n +
			       (uint32_t)(r->outs[i].seq - r->outs[i].acked);
	return 0;
}
