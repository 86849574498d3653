// SPDX-License-Identifier: GPL-2.0-only
#include "cell/repl.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

#define MOD "repl"
#define REPL_SHARD_WORDS (STEER_SHARDS / 64)
#define REPL_RETRY_MS 200	   /* between connection attempts to a peer */
#define REPL_SNAP_LOW (256u << 10) /* snapshot more below this backlog */

/* A record waiting to be framed, with its shard. */
struct repl_pend {
	uint16_t shard;
	struct cell_flow_rec rec;
};

/* A mirror this cell streams to (this cell is the primary). */
struct repl_out {
	struct repl *r;
	uint16_t id;
	struct sockaddr_storage addr;
	socklen_t alen;
	int fd; /* -1: none */
	bool up;
	uint64_t retry_ms;
	uint8_t *buf; /* encoded frames not yet sent */
	size_t len, off, cap;
	struct repl_pend *pend; /* records not yet framed */
	uint32_t n, pcap;
	uint64_t seq, acked;
	uint64_t last_tx_ms;
	uint64_t in_seq;     /* of its last hand-back frame */
	uint32_t hb_applied; /* records of the running hand-back applied */
	uint8_t in[CELLMSG_FRAME_MAX]; /* its ACKs and hand-backs */
	size_t in_len;
	uint64_t shared[REPL_SHARD_WORDS]; /* shards it mirrors for us */
	uint64_t snap[REPL_SHARD_WORDS];   /* ... still to snapshot */
	/* Shards it is now primary of and this cell was: their records go
	 * to it on this stream (it does not stream to this cell). */
	uint64_t give[REPL_SHARD_WORDS];
	uint64_t given[REPL_SHARD_WORDS]; /* ... sent, until acked */
	uint64_t given_seq;		  /* the last frame they took */
	bool down;			  /* told on_peer it is down */
};

/* A primary streaming to this cell (this cell is the mirror). */
struct repl_in {
	struct repl_in *next;
	struct repl *r;
	int fd;
	uint8_t *buf; /* CELLMSG_FRAME_MAX bytes */
	size_t len;
	struct cellmsg_stream_seq seq;
	uint64_t acked;
	uint64_t heard_ms; /* last frame */
	uint64_t tx_seq;   /* of the hand-back frames it sends */
	uint8_t *obuf;	   /* ACK and hand-back frames not yet sent */
	size_t olen, ooff, ocap;
};

struct repl {
	struct repl_cfg cfg;
	int lfd;
	uint16_t port;
	int64_t timer;
	struct repl_out *outs; /* one per other node of the cluster */
	uint32_t n_outs;
	struct repl_in *ins;
	struct cell_flow_rec *recs;    /* CELLMSG_BATCH_MAX: frames' records */
	struct cell_flow_rec *hb_recs; /* CELLMSG_BATCH_MAX: hand-backs' */
	uint64_t mine[REPL_SHARD_WORDS];    /* shards this cell is primary of */
	uint64_t mirrors[REPL_SHARD_WORDS]; /* ... a mirror of */
	uint64_t map_ms, gc_ms;		    /* last map, last collection */
	uint8_t *frame; /* CELLMSG_FRAME_MAX: one encoded frame */
	struct repl_stats st;
};

static void repl_collect(struct repl *r, uint64_t now);

static bool bit_get(const uint64_t *b, uint32_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static void bit_set(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

static void bit_clr(uint64_t *b, uint32_t i)
{
	b[i / 64] &= ~(1ull << (i % 64));
}

/* --- records: the table's and the wire's ----------------------------- */

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

/* --- the primary's side ---------------------------------------------- */

static struct repl_out *repl_out_of(struct repl *r, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < r->n_outs; i++)
		if (r->outs[i].id == id)
			return &r->outs[i];
	return NULL;
}

/* Tell the owner a peer went down or came back (once per change). */
static void repl_peer(struct repl *r, uint16_t id, bool up)
{
	struct repl_out *o = repl_out_of(r, id);

	if (!o || o->down == !up)
		return;
	o->down = !up;
	log_info(MOD, "cell %u %s", id,
		 up ? "reachable again" : "is down (its streams broke)");
	if (r->cfg.on_peer)
		r->cfg.on_peer(r->cfg.on_peer_arg, id, up);
}

static bool repl_peer_is_down(struct repl *r, uint16_t id)
{
	struct repl_out *o = repl_out_of(r, id);

	return o && o->down;
}

static void repl_out_close(struct repl_out *o, bool dropped)
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
	/* Whatever it mirrors goes again, whole, on the next connection,
	 * and so do the shards given to it and not acked. */
	memcpy(o->snap, o->shared, sizeof(o->snap));
	for (i = 0; i < REPL_SHARD_WORDS; i++) {
		o->give[i] |= o->given[i];
		o->given[i] = 0;
	}
}

/* Append the encoded frame of m to o's output. 0 or -errno. */
static int repl_out_frame(struct repl_out *o, struct cellmsg *m)
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
static int repl_out_flush(struct repl_out *o)
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

static int repl_forget_one(const struct flowtab_rec *rec, void *arg)
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
 * merges them as a mirror would, and adopts them on their next miss). */
static int repl_out_give(struct repl_out *o, uint16_t shard)
{
	struct repl_snap s = {.o = o, .shard = shard, .all = true};

	repl_out_records(&s);
	o->r->st.handback_tx += s.count;
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

	for (s = 0; s < STEER_SHARDS && o->len - o->off < REPL_SNAP_LOW; s++) {
		if (bit_get(o->give, s)) {
			bit_clr(o->give, s);
			err = repl_out_give(o, (uint16_t)s);
			if (err)
				return err;
		}
		if (!bit_get(o->snap, s))
			continue;
		bit_clr(o->snap, s);
		err = repl_out_snapshot(o, (uint16_t)s);
		if (err)
			return err;
	}
	return 0;
}

/* Write what o holds; watch for writability while the socket is full. */
static void repl_out_send(struct repl_out *o)
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
			o->acked = m.sh.seq;
			repl_out_given(o);
		} else if (m.type != CELLMSG_ACK &&
			   repl_out_handback(o, &m) < 0)
			return -EBADMSG;
		memmove(o->in, o->in + flen, o->in_len - flen);
		o->in_len -= flen;
	}
}

static void repl_on_out(struct evloop *el, int fd, uint32_t events, void *arg)
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
static void repl_out_connect(struct repl_out *o)
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

/* --- the mirror's side ------------------------------------------------ */

static void repl_in_close(struct repl *r, struct repl_in *in, bool dropped)
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
		break;
	default:
		break; /* SNAP_END, HEARTBEAT: the stream is alive */
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
					 "primary %u: hand-back of shard "
					 "%u failed: dropped",
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

static void repl_on_accept(struct evloop *el, int fd, uint32_t events,
			   void *arg)
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
		in->next = r->ins;
		r->ins = in;
		r->st.accepts++;
	}
}

/* --- life cycle --------------------------------------------------------- */

/*
 * A cell that stopped talking is down (hung, or cut off; a killed one
 * is known sooner, by its reset streams). Bytes waiting in the socket
 * mean this loop was the late one, not the peer: a fresh window. The
 * connection stays: if the peer speaks again it is up again, and the
 * stream goes on where it was. Only after REPL_GIVEUP_MS of silence
 * (its host gone for good) does it close.
 */
static void repl_in_watch(struct repl *r, uint64_t now)
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
		} else {
			outs[n].id = ep->id;
			outs[n].fd = -1;
		}
		repl_addr(&outs[n], a, port_of ? port_of(ep->id) : REPL_PORT);
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
	return 0;
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
