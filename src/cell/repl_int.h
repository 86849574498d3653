/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication's insides, shared by its three files: repl.c (life cycle,
 * the shard map, the peers), repl_out.c (the primary's side: streams to
 * the mirrors), repl_in.c (the mirror's side: streams from primaries).
 * Nothing outside src/cell/repl*.c includes this.
 */
#ifndef STEER_CELL_REPL_INT_H
#define STEER_CELL_REPL_INT_H

#include <sys/socket.h>

#include "cell/repl.h"

#define REPL_SHARD_WORDS (STEER_SHARDS / 64)
#define REPL_RETRY_MS 200	   /* between connection attempts to a peer */
#define REPL_SNAP_LOW (256u << 10) /* snapshot more below this backlog */

/*
 * One shard's chain on one stream (repl.h, "Chain"): links so far (0:
 * none yet, the next chained batch starts one from its genesis) and the
 * last; receiving, why it broke (enum repl_chain_break, 0: it holds)
 * until the shard's snapshot starts it again.
 */
struct repl_chain {
	uint64_t seq;
	uint8_t head[CELLMSG_LINK_LEN];
	uint8_t broken;
};

/* A record waiting to be framed, with its shard. */
struct repl_pend {
	uint16_t shard;
	struct cell_flow_rec rec;
};

/* A mirror this cell streams to (this cell is the primary). */
#define REPL_ACK_RING 64

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
	/* When frame seq was framed, by seq % REPL_ACK_RING: an ACK's lag. */
	uint64_t framed_us[REPL_ACK_RING];
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
	uint64_t heard_ms; /* its last frame on its stream to us (0: none) */
	/* STEER_SHARDS chains of this stream while the chain is on and the
	 * connection lives (NULL: none yet). */
	struct repl_chain *tx;
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
	/* The shard whose snapshot runs (SNAP_BEGIN seen, not its
	 * SNAP_END), or -1: a SNAP_END without one ends a give. */
	int32_t snap_shard;
	/* STEER_SHARDS chains, from its first chained batch (NULL: none). */
	struct repl_chain *rx;
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
	bool chain;	/* this cell's streams carry the chain */
	struct repl_stats st;
};

static inline bool bit_get(const uint64_t *b, uint32_t i)
{
	return b[i / 64] >> (i % 64) & 1;
}

static inline void bit_set(uint64_t *b, uint32_t i)
{
	b[i / 64] |= 1ull << (i % 64);
}

static inline void bit_clr(uint64_t *b, uint32_t i)
{
	b[i / 64] &= ~(1ull << (i % 64));
}

/* repl_out.c */
struct repl_out *repl_out_of(struct repl *r, uint16_t id);
/* Tell the owner a peer went down or came back (once per change). */
void repl_peer(struct repl *r, uint16_t id, bool up);
bool repl_peer_is_down(struct repl *r, uint16_t id);
void repl_out_close(struct repl_out *o, bool dropped);
int repl_out_frame(struct repl_out *o, struct cellmsg *m);
int repl_out_flush(struct repl_out *o);
void repl_out_send(struct repl_out *o);
void repl_out_connect(struct repl_out *o);
void repl_on_out(struct evloop *el, int fd, uint32_t events, void *arg);
int repl_forget_one(const struct flowtab_rec *rec, void *arg);
/* Forget o's chains (its connection ends). */
void repl_out_chain_reset(struct repl_out *o);

/* repl_in.c */
void repl_in_close(struct repl *r, struct repl_in *in, bool dropped);
void repl_on_accept(struct evloop *el, int fd, uint32_t events, void *arg);
void repl_in_watch(struct repl *r, uint64_t now);

#endif /* STEER_CELL_REPL_INT_H */
