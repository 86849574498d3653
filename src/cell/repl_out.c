// SPDX-License-Identifier: GPL-2.0-only
/* Replication, the primary's side: one stream to every other cell (see
 * repl.h). */
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

struct repl_out *repl_out_of(struct repl *r, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < r->n_outs; i++)
		if (r->outs[i].id == id)
			return &r->outs[i];
	return NULL;
}

/* Tell the owner a peer went down or came back (once per change). up:
 * a frame of its was just read. */
void repl_peer(struct repl *r, uint16_t id, bool up)
{
	struct repl_out *o = repl_out_of(r, id);
	uint64_t now = evloop_now_ms();

	if (!o)
		return;
	if (up)
		o->heard_ms = now;
	if (o->down == !up)
		return;
	/* How long after its last frame this cell knew it was down. */
	if (!up && o->heard_ms)
		hist_add(&r->st.down_detect, (now - o->heard_ms) * 1000);
	o->down = !up;
	log_info(MOD, "cell %u %s", id,
		 up ? "reachable again" : "is down (its streams broke)");
	if (r->cfg.on_peer)
		r->cfg.on_peer(r->cfg.on_peer_arg, id, up);
}

bool repl_peer_is_down(struct repl *r, uint16_t id)
{
	struct repl_out *o = repl_out_of(r, id);

	return o && o->down;
}

void repl_out_close(struct repl_out *o, bool dropped)
{
	struct repl *r = o->r;
	uint32_t i;

	/* It was up and its connection broke, or it never answers. */
	if (o->fd >= 0 && (o->up || dropped))
		repl_peer(r, o->id, false);
	if (o->fd >= 0) {
		evloop_fd_del(r->cfg.el, o->fd);
		close(o->fd);
		r->st.drops += dropped;
	}
	o->fd = -1;
	o->up = false;
	o->len = o->off = o->in_len = 0;
	o->n = 0;
	o->acked = o->seq;
	o->in_seq = 0;
	o->hb_applied = 0;
	o->retry_ms = evloop_now_ms() + REPL_RETRY_MS;
	repl_out_chain_reset(o);
	/* Whatever it mirrors goes again, whole, on the next connection,
	 * and so do the shards given to it and not acked. */
	memcpy(o->snap, o->shared, sizeof(o->snap));
	for (i = 0; i < REPL_SHARD_WORDS; i++) {
		o->give[i] |= o->given[i];
		o->given[i] = 0;
	}
}

/* Append the encoded frame of m to o's output. 0 or -errno. */
int repl_out_frame(struct repl_out *o, struct cellmsg *m)
{
	struct repl *r = o->r;
	int n;

	m->sender = r->cfg.self_id;
	m->incarnation = r->cfg.incarnation;
	m->seq = ++o->seq;
	n = cellmsg_encode(r->cfg.auth, m, r->frame, CELLMSG_FRAME_MAX);
	if (n < 0)
		return n;
	if (o->len + (size_t)n > o->cap) {
		size_t cap = o->cap ? o->cap : 65536;
		uint8_t *b;

		while (cap < o->len + (size_t)n)
			cap *= 2;
		if (cap > REPL_OUT_MAX)
			return -ENOBUFS; /* it does not read: resync later */
		b = realloc(o->buf, cap);
		if (!b)
			return -ENOMEM;
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, r->frame, (size_t)n);
	o->len += (size_t)n;
	r->st.frames_tx++;
	o->last_tx_ms = evloop_now_ms();
	o->framed_us[o->seq % REPL_ACK_RING] = evloop_now_ns() / 1000;
	return 0;
}

void repl_out_chain_reset(struct repl_out *o)
{
	free(o->tx);
	o->tx = NULL;
}

/*
 * With the chain on, m (a BATCH to be framed next, as frame seq) becomes
 * the next link of its shard's chain on o. 0 or -ENOMEM.
 */
static int repl_out_chain(struct repl_out *o, struct cellmsg *m)
{
	struct repl *r = o->r;
	uint8_t genesis[CELLMSG_LINK_LEN];
	struct repl_chain *ch;

	m->batch.chain_seq = 0;
	if (!r->chain)
		return 0;
	if (!o->tx) {
		o->tx = calloc(STEER_SHARDS, sizeof(*o->tx));
		if (!o->tx)
			return -ENOMEM;
	}
	ch = &o->tx[m->batch.shard];
	m->batch.chain_seq = ch->seq + 1;
	if (!ch->seq)
		cellmsg_chain_genesis(r->cfg.self_id, o->id, r->cfg.incarnation,
				      m->batch.shard, o->seq + 1, genesis);
	cellmsg_chain_link(ch->seq ? ch->head : genesis, &m->batch,
			   m->batch.link);
	ch->seq++;
	memcpy(ch->head, m->batch.link, CELLMSG_LINK_LEN);
	r->st.chain_links_tx++;
	return 0;
}

/* Frame recs[0..n-1], all of one shard, in batches. */
static int repl_out_batch(struct repl_out *o, uint16_t shard,
			  struct cell_flow_rec *recs, uint32_t n)
{
	struct cellmsg m = {.type = CELLMSG_BATCH};
	uint32_t i, k;
	int err;

	for (i = 0; i < n; i += k) {
		k = n - i < CELLMSG_BATCH_MAX ? n - i : CELLMSG_BATCH_MAX;
		m.batch.shard = shard;
		m.batch.first_seq = o->seq + 1;
		m.batch.count = k;
		m.batch.recs = recs + i;
		/* A failure below closes o, and its chains with it. */
		err = repl_out_chain(o, &m);
		if (!err)
			err = repl_out_frame(o, &m);
		if (err)
			return err;
		o->r->st.recs_tx += k;
	}
	return 0;
}

static int repl_pend_cmp(const void *a, const void *b)
{
	const struct repl_pend *x = a, *y = b;

	return (int)x->shard - (int)y->shard;
}

/* Frame what waits for o, one batch per shard. */
int repl_out_flush(struct repl_out *o)
{
	struct repl *r = o->r;
	uint32_t i, j, k;
	int err = 0;

	if (!o->n)
		return 0;
	qsort(o->pend, o->n, sizeof(*o->pend), repl_pend_cmp);
	for (i = 0; i < o->n && !err; i = j) {
		for (j = i, k = 0;
		     j < o->n && o->pend[j].shard == o->pend[i].shard &&
		     k < CELLMSG_BATCH_MAX;
		     j++)
			r->recs[k++] = o->pend[j].rec;
		err = repl_out_batch(o, o->pend[i].shard, r->recs, k);
	}
	o->n = 0;
	return err;
}

struct repl_snap {
	struct repl_out *o;
	uint32_t count, n;
	uint16_t shard;
	bool all; /* also the flows o is primary of */
	int err;
};

static int repl_snap_one(const struct flowtab_rec *rec, void *arg)
{
	struct repl_snap *s = arg;
	struct repl *r = s->o->r;

	if (!s->all && rec->primary == s->o->id)
		return 0; /* its own flows: it has them */
	repl_rec_to_wire(rec, &r->recs[s->n++]);
	s->count++;
	if (s->n == CELLMSG_BATCH_MAX) {
		s->err = repl_out_batch(s->o, s->shard, r->recs, s->n);
		s->n = 0;
	}
	return s->err;
}

/* The records of s->shard to s->o as BATCH frames. 0 or -errno. */
static int repl_out_records(struct repl_snap *s)
{
	struct repl *r = s->o->r;

	flowtab_shard_walk(r->cfg.ft, s->shard, repl_snap_one, s);
	if (!s->err && s->n)
		s->err = repl_out_batch(s->o, s->shard, r->recs, s->n);
	return s->err;
}

/* SNAP_BEGIN, the shard's records, SNAP_END with their count. */
static int repl_out_snapshot(struct repl_out *o, uint16_t shard)
{
	struct repl *r = o->r;
	struct cellmsg m = {.type = CELLMSG_SNAP_BEGIN};
	struct repl_snap s = {.o = o, .shard = shard};
	int err;

	m.sh.shard = shard;
	m.sh.seq = o->seq + 1;
	err = repl_out_frame(o, &m);
	if (err)
		return err;
	/* The shard's chain starts again with the snapshot, on both ends. */
	if (o->tx)
		o->tx[shard].seq = 0;
	err = repl_out_records(&s);
	if (err)
		return err;
	memset(&m, 0, sizeof(m));
	m.type = CELLMSG_SNAP_END;
	m.sh.shard = shard;
	m.sh.seq = o->seq + 1;
	m.sh.count = s.count;
	r->st.snapshots++;
	return repl_out_frame(o, &m);
}

int repl_forget_one(const struct flowtab_rec *rec, void *arg)
{
	flowtab_delete(arg, &rec->key);
	return 0;
}

/*
 * Shard's records went to its new primary: a cell that is not one of its
 * mirrors either keeps none (the records would name an owner that is not
 * the shard's, beside the primary's own); a mirror keeps them until the
 * primary's newer versions replace them.
 */
static void repl_forget(struct repl *r, uint16_t shard)
{
	if (!bit_get(r->mirrors, shard) && !bit_get(r->mine, shard))
		flowtab_shard_walk(r->cfg.ft, shard, repl_forget_one,
				   r->cfg.ft);
}

/* The records of a shard o is now primary of, as plain BATCH frames (it
 * merges them as a mirror would), then SNAP_END with their count: o owns
 * them at once (on_handback), not on their next miss. A flow with a rule
 * may miss no more, and its records would go on naming this cell as its
 * primary while the shard's is o: two owners. */
static int repl_out_give(struct repl_out *o, uint16_t shard)
{
	struct repl_snap s = {.o = o, .shard = shard, .all = true};
	struct cellmsg m = {.type = CELLMSG_SNAP_END};

	repl_out_records(&s);
	o->r->st.handback_tx += s.count;
	if (!s.err && s.count) {
		m.sh.shard = shard;
		m.sh.seq = o->seq + 1;
		m.sh.count = s.count;
		s.err = repl_out_frame(o, &m);
	}
	if (!s.err) {
		bit_set(o->given, shard);
		o->given_seq = o->seq;
	}
	return s.err;
}

/* Snapshot (and give) pending shards while the backlog is below
 * REPL_SNAP_LOW. */
static int repl_out_snapshots(struct repl_out *o)
{
	uint32_t s;
	int err;

	/* A snapshot before a give of the same shard: a mirror whose chain
	 * of it broke takes nothing of it before the snapshot's SNAP_BEGIN. */
	for (s = 0; s < STEER_SHARDS && o->len - o->off < REPL_SNAP_LOW; s++) {
		if (bit_get(o->snap, s)) {
			bit_clr(o->snap, s);
			err = repl_out_snapshot(o, (uint16_t)s);
			if (err)
				return err;
		}
		if (bit_get(o->give, s)) {
			bit_clr(o->give, s);
			err = repl_out_give(o, (uint16_t)s);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Write what o holds; watch for writability while the socket is full. */
void repl_out_send(struct repl_out *o)
{
	struct repl *r = o->r;
	ssize_t n;
	int err;

	if (!o->up)
		return;
	err = repl_out_snapshots(o);
	while (!err && o->off < o->len) {
		n = send(o->fd, o->buf + o->off, o->len - o->off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			err = n < 0 ? -errno : -EPIPE;
			break;
		}
		o->off += (size_t)n;
		r->st.bytes_tx += (uint64_t)n;
		if (o->off == o->len) {
			o->off = o->len = 0;
			err = repl_out_snapshots(o);
		}
	}
	if (err) {
		log_warn(MOD, "mirror %u: %s: dropped, resync on reconnect",
			 o->id, strerror(-err));
		repl_out_close(o, true);
		return;
	}
	evloop_fd_mod(r->cfg.el, o->fd,
		      EVLOOP_READ | (o->off < o->len ? EVLOOP_WRITE : 0));
}

/* Snapshot shard again to every mirror of it. */
static void repl_resnap(struct repl *r, uint16_t shard)
{
	uint32_t i;

	for (i = 0; i < r->n_outs; i++)
		if (bit_get(r->outs[i].shared, shard))
			bit_set(r->outs[i].snap, shard);
}

/* The shards given to o are applied there (acked): this cell forgets
 * them, unless it mirrors them. */
static void repl_out_given(struct repl_out *o)
{
	uint32_t s;

	if (o->acked < o->given_seq)
		return;
	for (s = 0; s < STEER_SHARDS; s++)
		if (bit_get(o->given, s)) {
			bit_clr(o->given, s);
			repl_forget(o->r, (uint16_t)s);
		}
}

/*
 * A hand-back frame from mirror o: its records merge by the version rule;
 * SNAP_END says the shard is complete. -1 for a frame out of place.
 */
static int repl_out_handback(struct repl_out *o, const struct cellmsg *m)
{
	struct repl *r = o->r;
	struct flowtab_rec rec;
	uint32_t i, now = r->cfg.now_ms();

	if (m->sender != o->id || m->seq <= o->in_seq)
		return -1;
	o->in_seq = m->seq;
	switch (m->type) {
	case CELLMSG_BATCH:
		for (i = 0; i < m->batch.count; i++) {
			repl_rec_from_wire(&m->batch.recs[i], &rec);
			r->st.handback_rx++;
			if (flowtab_apply(r->cfg.ft, &rec, now) > 0) {
				r->st.handback_applied++;
				o->hb_applied++;
			}
		}
		return 0;
	case CELLMSG_SNAP_END:
		r->st.handbacks_done++;
		/* What came back is new to the mirrors that dropped it for
		 * the snapshot: the shard goes to them again. */
		if (o->hb_applied)
			repl_resnap(r, m->sh.shard);
		o->hb_applied = 0;
		if (r->cfg.on_handback)
			r->cfg.on_handback(r->cfg.on_peer_arg, m->sh.shard,
					   o->id);
		return 0;
	case CELLMSG_RESYNC:
		/* Its chain of the shard broke: a snapshot starts it again
		 * (and what was given and not acked goes again after it). */
		r->st.chain_resyncs_rx++;
		log_info(MOD, "mirror %u asks for shard %u again (%s)", o->id,
			 m->sh.shard,
			 m->sh.reason == CELLMSG_RESYNC_GAP	   ? "gap"
			 : m->sh.reason == CELLMSG_RESYNC_REORDER  ? "reorder"
			 : m->sh.reason == CELLMSG_RESYNC_MISMATCH ? "mismatch"
								   : "other");
		bit_set(o->snap, m->sh.shard);
		if (bit_get(o->given, m->sh.shard)) {
			bit_clr(o->given, m->sh.shard);
			bit_set(o->give, m->sh.shard);
		}
		return 0;
	case CELLMSG_HEARTBEAT:
		return 0;
	default:
		return -1;
	}
}

/* ACKs and hand-backs from the mirror. 0 or -errno to drop it. */
static int repl_out_read(struct repl_out *o)
{
	struct repl *r = o->r;
	enum cellmsg_rx_reason why;
	struct cellmsg m;
	size_t flen;
	ssize_t n;

	n = recv(o->fd, o->in + o->in_len, sizeof(o->in) - o->in_len,
		 MSG_DONTWAIT);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	o->in_len += (size_t)n;
	for (;;) {
		why = cellmsg_frame_len(r->cfg.auth, o->in, o->in_len, &flen);
		if (why == CELLMSG_RX_NEED_MORE)
			return 0;
		if (why == CELLMSG_RX_OK)
			why = cellmsg_decode(r->cfg.auth, o->in, flen, &m,
					     r->recs, CELLMSG_BATCH_MAX);
		cellmsg_counters_add(&r->st.rx, why);
		if (why != CELLMSG_RX_OK)
			return -EBADMSG;
		if (m.type == CELLMSG_ACK && m.sender == o->id &&
		    m.sh.seq <= o->seq && m.sh.seq > o->acked) {
			if (o->seq - m.sh.seq < REPL_ACK_RING)
				hist_add(&r->st.ack_lag,
					 evloop_now_ns() / 1000 -
						 o->framed_us[m.sh.seq %
							      REPL_ACK_RING]);
			o->acked = m.sh.seq;
			repl_out_given(o);
		} else if (m.type != CELLMSG_ACK &&
			   repl_out_handback(o, &m) < 0)
			return -EBADMSG;
		memmove(o->in, o->in + flen, o->in_len - flen);
		o->in_len -= flen;
	}
}

void repl_on_out(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct repl_out *o = arg;
	socklen_t sl = sizeof(int);
	int soerr = 0, err = 0;

	if (!o->up && (events & (EVLOOP_WRITE | EVLOOP_ERROR))) {
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		if (soerr) {
			/* Refused: nobody listens there (any more). */
			repl_out_close(o, true);
			return;
		}
		/* Connected is not alive (a stopped daemon's kernel still
		 * accepts): the peer lives again when its own stream to this
		 * cell speaks (repl_on_in). */
		o->up = true;
		o->r->st.connects++;
		log_info(MOD, "streaming to cell %u", o->id);
	}
	if (events & (EVLOOP_READ | EVLOOP_ERROR))
		err = repl_out_read(o);
	if (err) {
		log_warn(MOD, "mirror %u: %s", o->id, strerror(-err));
		repl_out_close(o, true);
		return;
	}
	repl_out_send(o);
}

/* Start connecting to o (non-blocking). */
void repl_out_connect(struct repl_out *o)
{
	struct repl *r = o->r;
	int one = 1;

	o->fd = socket(o->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (o->fd < 0) {
		o->retry_ms = evloop_now_ms() + REPL_RETRY_MS;
		return;
	}
	setsockopt(o->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((connect(o->fd, (struct sockaddr *)&o->addr, o->alen) &&
	     errno != EINPROGRESS) ||
	    evloop_fd_add(r->cfg.el, o->fd, EVLOOP_WRITE, repl_on_out, o)) {
		close(o->fd);
		o->fd = -1;
		o->retry_ms = evloop_now_ms() + REPL_RETRY_MS;
	}
}

void repl_record(struct repl *r, const struct flowtab_rec *rec)
{
	uint16_t shard = (uint16_t)flowtab_shard_of(r->cfg.ft, &rec->key);
	struct repl_out *o;
	uint32_t i;

	for (i = 0; i + 1 < rec->rf && i < STEER_MAX_MIRRORS; i++) {
		o = repl_out_of(r, rec->mirror[i]);
		/* Not streaming: the snapshot of the next connection will
		 * carry the record as it is then. */
		if (!o || !o->up)
			continue;
		if (o->n == o->pcap) {
			uint32_t cap = o->pcap ? 2 * o->pcap : 256;
			struct repl_pend *p =
				realloc(o->pend, cap * sizeof(*p));

			if (!p) {
				repl_out_close(o, true);
				continue;
			}
			o->pend = p;
			o->pcap = cap;
		}
		o->pend[o->n].shard = shard;
		repl_rec_to_wire(rec, &o->pend[o->n].rec);
		if (++o->n >= REPL_BATCH) {
			if (repl_out_flush(o))
				repl_out_close(o, true);
			else
				repl_out_send(o);
		}
	}
}
