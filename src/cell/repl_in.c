// SPDX-License-Identifier: GPL-2.0-only
/* Replication, the mirror's side: the streams of the other cells to this
 * one (see repl.h). */
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

void repl_in_close(struct repl *r, struct repl_in *in, bool dropped)
{
	struct repl_in **pp;

	if (in->seq.started && r->cfg.on_peer)
		repl_peer(r, in->seq.sender, false);
	for (pp = &r->ins; *pp; pp = &(*pp)->next)
		if (*pp == in) {
			*pp = in->next;
			break;
		}
	evloop_fd_del(r->cfg.el, in->fd);
	close(in->fd);
	r->st.drops += dropped;
	free(in->buf);
	free(in->obuf);
	free(in->rx);
	free(in);
}

struct repl_drop {
	struct flowtab *ft;
	uint16_t self;
};

static int repl_drop_one(const struct flowtab_rec *rec, void *arg)
{
	struct repl_drop *d = arg;

	if (rec->primary != d->self)
		flowtab_delete(d->ft, &rec->key);
	return 0;
}

struct repl_hb {
	struct repl *r;
	struct repl_in *in;
	uint16_t shard;
	uint32_t n, count;
	int err;
};

/* Write what waits for the primary of in; watch for room while some
 * is left. 0 or -errno. */
static int repl_in_flush(struct repl *r, struct repl_in *in)
{
	ssize_t n;

	while (in->ooff < in->olen) {
		n = send(in->fd, in->obuf + in->ooff, in->olen - in->ooff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		in->ooff += (size_t)n;
		r->st.bytes_tx += (uint64_t)n;
	}
	if (in->ooff == in->olen)
		in->ooff = in->olen = 0;
	return evloop_fd_mod(r->cfg.el, in->fd,
			     EVLOOP_READ | (in->olen ? EVLOOP_WRITE : 0));
}

/* Queue one frame (seq as m has it) for the primary of in. */
static int repl_in_queue(struct repl *r, struct repl_in *in,
			 const struct cellmsg *m)
{
	int n = cellmsg_encode(r->cfg.auth, m, r->frame, CELLMSG_FRAME_MAX);

	if (n < 0)
		return n;
	if (in->olen + (size_t)n > in->ocap) {
		size_t cap = in->ocap ? in->ocap : 65536;
		uint8_t *b;

		while (cap < in->olen + (size_t)n)
			cap *= 2;
		if (cap > REPL_OUT_MAX)
			return -ENOBUFS;
		b = realloc(in->obuf, cap);
		if (!b)
			return -ENOMEM;
		in->obuf = b;
		in->ocap = cap;
	}
	memcpy(in->obuf + in->olen, r->frame, (size_t)n);
	in->olen += (size_t)n;
	return 0;
}

/* A hand-back frame to the primary of in, behind what waits already. */
static int repl_in_send(struct repl *r, struct repl_in *in, struct cellmsg *m)
{
	m->sender = r->cfg.self_id;
	m->incarnation = r->cfg.incarnation;
	m->seq = ++in->tx_seq;
	return repl_in_queue(r, in, m);
}

static int repl_in_hb_flush(struct repl_hb *h)
{
	struct cellmsg m = {.type = CELLMSG_BATCH};

	if (!h->n)
		return 0;
	m.batch.shard = h->shard;
	m.batch.count = h->n;
	m.batch.recs = h->r->hb_recs;
	h->r->st.handback_tx += h->n;
	h->n = 0;
	return repl_in_send(h->r, h->in, &m);
}

static int repl_hb_one(const struct flowtab_rec *rec, void *arg)
{
	struct repl_hb *h = arg;

	repl_rec_to_wire(rec, &h->r->hb_recs[h->n++]);
	h->count++;
	if (h->n == CELLMSG_BATCH_MAX)
		h->err = repl_in_hb_flush(h);
	return h->err;
}

/* Hand every record of shard back to the primary of in. 0 or -errno. */
static int repl_in_handback(struct repl *r, struct repl_in *in, uint16_t shard)
{
	struct repl_hb h = {.r = r, .in = in, .shard = shard};
	struct cellmsg m = {.type = CELLMSG_SNAP_END};

	flowtab_shard_walk(r->cfg.ft, shard, repl_hb_one, &h);
	if (!h.err)
		h.err = repl_in_hb_flush(&h);
	if (h.err)
		return h.err;
	m.sh.shard = shard;
	m.sh.seq = in->tx_seq + 1;
	m.sh.count = h.count;
	h.err = repl_in_send(r, in, &m);
	return h.err ? h.err : repl_in_flush(r, in);
}

/*
 * Is m, a BATCH from the primary of in, the next link of its shard's
 * chain (repl.h, "Chain")? 1: apply it; 0: hold it back (the chain broke,
 * now or before, and the shard's snapshot has not begun yet); -1: the
 * connection must go (no memory, or RESYNC cannot be sent).
 */
static int repl_in_chain(struct repl *r, struct repl_in *in,
			 const struct cellmsg *m)
{
	static const uint8_t resync_reason[REPL_CHAIN_REASONS] = {
		[REPL_CHAIN_GAP] = CELLMSG_RESYNC_GAP,
		[REPL_CHAIN_REORDER] = CELLMSG_RESYNC_REORDER,
		[REPL_CHAIN_MISMATCH] = CELLMSG_RESYNC_MISMATCH,
	};
	const struct cellmsg_batch *b = &m->batch;
	uint8_t genesis[CELLMSG_LINK_LEN], link[CELLMSG_LINK_LEN];
	struct cellmsg rs = {.type = CELLMSG_RESYNC};
	enum repl_chain_break why;
	struct repl_chain *ch;

	if (!in->rx && !b->chain_seq)
		return 1; /* no chain on this stream */
	if (!in->rx) {
		in->rx = calloc(STEER_SHARDS, sizeof(*in->rx));
		if (!in->rx)
			return -1;
	}
	ch = &in->rx[b->shard];
	if (ch->broken) {
		r->st.chain_held += b->count;
		return 0;
	}
	if (!b->chain_seq) {
		/* Its sender's chain is off (for now): not a link. */
		r->st.chain_unchained++;
		return 1;
	}
	if (b->chain_seq > ch->seq + 1) {
		why = REPL_CHAIN_GAP;
	} else if (b->chain_seq <= ch->seq) {
		why = REPL_CHAIN_REORDER;
	} else {
		if (!ch->seq)
			cellmsg_chain_genesis(m->sender, r->cfg.self_id,
					      m->incarnation, b->shard, m->seq,
					      genesis);
		cellmsg_chain_link(ch->seq ? ch->head : genesis, b, link);
		if (!memcmp(link, b->link, CELLMSG_LINK_LEN)) {
			ch->seq++;
			memcpy(ch->head, link, CELLMSG_LINK_LEN);
			r->st.chain_links_rx++;
			return 1;
		}
		why = REPL_CHAIN_MISMATCH;
	}
	ch->broken = (uint8_t)why;
	r->st.chain_breaks[why]++;
	r->st.chain_held += b->count;
	log_warn(MOD,
		 "primary %u: shard %u: chain broken (%s: link %llu after "
		 "%llu): held back until its snapshot",
		 m->sender, b->shard, repl_chain_break_name(why),
		 (unsigned long long)b->chain_seq, (unsigned long long)ch->seq);
	rs.sh.shard = b->shard;
	rs.sh.reason = resync_reason[why];
	rs.sh.seq = ch->seq;
	if (repl_in_send(r, in, &rs) || repl_in_flush(r, in))
		return -1;
	r->st.chain_resyncs_tx++;
	return 0;
}

/* One frame from a primary: apply it. -1: the connection must go. */
static int repl_in_frame(struct repl *r, struct repl_in *in,
			 const struct cellmsg *m)
{
	struct repl_drop d = {.ft = r->cfg.ft, .self = r->cfg.self_id};
	struct flowtab_rec rec;
	uint32_t i, now = r->cfg.now_ms();
	int rc;

	switch (m->type) {
	case CELLMSG_BATCH:
		rc = repl_in_chain(r, in, m);
		if (rc <= 0)
			return rc;
		for (i = 0; i < m->batch.count; i++) {
			repl_rec_from_wire(&m->batch.recs[i], &rec);
			rc = flowtab_apply(r->cfg.ft, &rec, now);
			r->st.recs_rx++;
			if (rc > 0)
				r->st.applied++;
			else if (rc == 0)
				r->st.ignored++;
			else
				r->st.apply_err++;
		}
		break;
	case CELLMSG_SNAP_BEGIN:
		/* What this cell holds goes back first, then the snapshot
		 * says all: drop the copies it replaces. */
		if (repl_in_handback(r, in, m->sh.shard))
			return -1;
		flowtab_shard_walk(r->cfg.ft, m->sh.shard, repl_drop_one, &d);
		in->snap_shard = m->sh.shard;
		/* The shard's chain starts again (and holds again). */
		if (in->rx)
			memset(&in->rx[m->sh.shard], 0, sizeof(*in->rx));
		break;
	case CELLMSG_SNAP_END:
		/* The end of a snapshot: nothing more (the sender calls
		 * itself the shard's primary; if this cell's map says the
		 * same of itself, the maps differ for a moment, and taking
		 * the records would take them from the cell that will own
		 * them). The end of what the shard's primary before this
		 * cell gave it (repl_out_give): its records become this
		 * cell's at once. */
		if (in->snap_shard == m->sh.shard)
			in->snap_shard = -1;
		else if (in->rx && in->rx[m->sh.shard].broken)
			break; /* a give, held back: it comes again */
		else if (bit_get(r->mine, m->sh.shard) && r->cfg.on_handback)
			r->cfg.on_handback(r->cfg.on_peer_arg, m->sh.shard,
					   m->sender);
		break;
	default:
		break; /* HEARTBEAT: the stream is alive */
	}
	return 0;
}

/* ACK what was applied. A full socket skips it: the next one says more. */
static void repl_in_ack(struct repl *r, struct repl_in *in)
{
	struct cellmsg m = {.type = CELLMSG_ACK};

	if (!in->seq.started || in->acked == in->seq.last)
		return;
	m.sender = r->cfg.self_id;
	m.incarnation = r->cfg.incarnation;
	m.seq = in->seq.last;
	m.sh.seq = in->seq.last;
	/* Behind the hand-backs waiting, if any: frames never interleave. */
	if (in->olen > REPL_SNAP_LOW || repl_in_queue(r, in, &m))
		return;
	in->acked = in->seq.last;
	if (repl_in_flush(r, in))
		in->olen = in->ooff = 0; /* the read side sees it close */
}

static void repl_on_in(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct repl_in *in = arg;
	struct repl *r = in->r;
	enum cellmsg_rx_reason why;
	struct cellmsg m;
	size_t flen;
	ssize_t n;
	int i;

	if ((events & EVLOOP_WRITE) && repl_in_flush(r, in)) {
		repl_in_close(r, in, true);
		return;
	}
	for (i = 0; i < 64; i++) {
		n = recv(fd, in->buf + in->len, CELLMSG_FRAME_MAX - in->len,
			 MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			repl_in_close(r, in, false);
			return;
		}
		if (n < 0)
			break;
		r->st.bytes_rx += (uint64_t)n;
		in->len += (size_t)n;
		for (;;) {
			why = cellmsg_frame_len(r->cfg.auth, in->buf, in->len,
						&flen);
			if (why == CELLMSG_RX_NEED_MORE)
				break;
			if (why == CELLMSG_RX_OK)
				why = cellmsg_decode(r->cfg.auth, in->buf, flen,
						     &m, r->recs,
						     CELLMSG_BATCH_MAX);
			if (why == CELLMSG_RX_OK)
				why = cellmsg_stream_accept(&in->seq, &m);
			cellmsg_counters_add(&r->st.rx, why);
			if (why != CELLMSG_RX_OK) {
				log_warn(MOD, "a primary's stream: %s: dropped",
					 cellmsg_rx_reason_name(why));
				repl_in_close(r, in, true);
				return;
			}
			in->heard_ms = evloop_now_ms();
			/* A cell that speaks lives (again). */
			repl_peer(r, m.sender, true);
			if (repl_in_frame(r, in, &m)) {
				log_warn(MOD,
					 "primary %u: shard %u: hand-back "
					 "or resync failed: dropped",
					 m.sender, m.sh.shard);
				repl_in_close(r, in, true);
				return;
			}
			memmove(in->buf, in->buf + flen, in->len - flen);
			in->len -= flen;
		}
	}
	repl_in_ack(r, in);
}

void repl_on_accept(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct repl *r = arg;
	struct repl_in *in;
	int cfd, i;

	for (i = 0; i < 16; i++) {
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		in = calloc(1, sizeof(*in));
		if (in)
			in->buf = malloc(CELLMSG_FRAME_MAX);
		if (!in || !in->buf ||
		    evloop_fd_add(el, cfd, EVLOOP_READ, repl_on_in, in)) {
			if (in)
				free(in->buf);
			free(in);
			close(cfd);
			continue;
		}
		in->r = r;
		in->fd = cfd;
		in->snap_shard = -1;
		in->next = r->ins;
		r->ins = in;
		r->st.accepts++;
	}
}

/*
 * A cell that stopped talking is down (hung, or cut off; a killed one
 * is known sooner, by its reset streams). Bytes waiting in the socket
 * mean this loop was the late one, not the peer: a fresh window. The
 * connection stays: if the peer speaks again it is up again, and the
 * stream goes on where it was. Only after REPL_GIVEUP_MS of silence
 * (its host gone for good) does it close.
 */
void repl_in_watch(struct repl *r, uint64_t now)
{
	struct repl_in *in = r->ins, *next;
	uint8_t b;

	for (; in; in = next) {
		next = in->next;
		if (!in->seq.started || now - in->heard_ms <= REPL_DEAD_MS)
			continue;
		if (recv(in->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0) {
			in->heard_ms = now;
			continue;
		}
		if (now - in->heard_ms > REPL_GIVEUP_MS) {
			repl_in_close(r, in, true);
			continue;
		}
		if (!repl_peer_is_down(r, in->seq.sender)) {
			log_warn(MOD, "cell %u silent for %llu ms",
				 in->seq.sender,
				 (unsigned long long)(now - in->heard_ms));
			r->st.silent++;
			repl_peer(r, in->seq.sender, false);
		}
	}
}
