/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication of flow state from a primary cell to its mirrors.
 *
 * Every cell listens on the cluster's TCP replication port (cell-ports,
 * core/cluster.h) and opens one connection to each other cell of the
 * cluster, whether or not that cell mirrors any of its shards (the
 * streams are also how cells know each other alive: see
 * on_peer). As a primary it streams cellmsg frames on it: BATCH frames of the records its table changed
 * (create, state change, close), one shard per frame, LZ4-compressed when
 * that helps, sent every REPL_FLUSH_MS or sooner when REPL_BATCH records
 * wait; HEARTBEAT frames when there is nothing else to say. The mirror
 * applies every record to its own table (a record never replaces a newer
 * version of its flow) and ACKs the stream's sequence as it goes, so the
 * primary knows its replication lag.
 *
 * Resync. A connection that breaks (a restart, a bad frame) or opens
 * anew starts with a snapshot of every shard the two share: SNAP_BEGIN,
 * the shard's records, SNAP_END with their count; the mirror drops its
 * copies of the shard first. A new shard map (a cell joined or left) sends
 * the snapshots of the pairs that are new. TCP delivers in order, so a gap
 * within a connection cannot happen: its frames' sequences only check it.
 *
 * Hand-back. Before it drops its copies for a SNAP_BEGIN, the mirror sends
 * the primary, on the same connection, every record it holds of the shard
 * (BATCH frames, then SNAP_END with their count): a primary that restarted
 * empty gets its flows back, and the flows a mirror took over while the
 * primary was away (a crash, a partition) go to it. The primary merges
 * them by the version rule, so a stale record never wins over a newer
 * one, and is told when a shard's hand-back is complete (on_handback).
 * A cell that stops being a shard's primary (a new shard map) gives its
 * records of the shard to the new primary on its own stream to it (BATCH
 * frames, merged there as a mirror merges them, then SNAP_END: the new
 * primary adopts them at once, through on_handback); once acked, it
 * forgets them unless it mirrors the shard, so no record names an owner
 * beside the shard's primary for long. Records a
 * cell holds of shards it neither owns nor mirrors (a shard that moved, a
 * copy from a cell whose map differed for a moment) are dropped once its
 * map has held still for REPL_GC_STABLE_MS.
 *
 * Chain (the cluster's replication-chain on): each shard's BATCH frames
 * on a stream form a hash chain. A batch carries its place in the chain
 * (chain_seq, from 1) and its link, BLAKE2b-128 of the previous link and
 * the batch (cellmsg_chain_link; batch 1 follows a genesis of sender,
 * receiver, incarnation, shard and the batch's frame seq). A snapshot's
 * SNAP_BEGIN ends the shard's chain on both ends, and the next batch (the
 * snapshot's first, or a change) starts a new one, so a chain's head
 * stands for the shard's snapshot and every change since; so does a new
 * connection, whose snapshots come first. The mirror checks each chained
 * batch before it applies a record of it: a chain_seq beyond the next is
 * a gap (a batch dropped), one at or below the last a reorder (replayed,
 * or overtaken), the right one whose link does not follow a mismatch (a
 * record changed on the way, or a history that forked). On a break it
 * counts the reason, asks the primary for the shard again (RESYNC on the
 * same connection, once), and holds back every batch of the shard, the
 * one that broke it included, until the snapshot's SNAP_BEGIN; the
 * primary answers RESYNC with a snapshot of the shard to that mirror (and
 * gives the shard again if it was giving it). Frames are authenticated
 * already: the chain is about continuity (a batch lost, repeated, out of
 * order or altered inside a valid stream: a bug, a key holder), and its
 * heads let an operator compare what a primary sent with what a mirror
 * took (steerctl shards N). A receiver checks every chained batch,
 * whatever its own setting. A sender whose chain is turned off sends
 * batches without a link, which are no part of any chain, and keeps its
 * chains where they were: turned on again, it goes on from there, and the
 * receiver with it (a chain restarts only with a snapshot or a new
 * connection, on both ends at once). Hand-backs (mirror to primary) are
 * not chained.
 *
 * Single-threaded, on the daemon's event loop; all sockets non-blocking.
 * A peer that does not read makes its queue grow to REPL_OUT_MAX, then the
 * connection is dropped and resynced later.
 */
#ifndef STEER_CELL_REPL_H
#define STEER_CELL_REPL_H

#include <stdbool.h>
#include <stdint.h>

#include "cell/cellmsg.h"
#include "cell/shards.h"
#include "core/cluster.h"
#include "cell/flowtab.h"
#include "util/evloop.h"
#include "util/hist.h"

#define REPL_FLUSH_MS 2 /* records wait at most this long */
#define REPL_BATCH 256	/* ... or until this many wait for one peer */
#define REPL_HEARTBEAT_MS 20
/* A cell whose stream to this one is silent this long is down. A killed
 * daemon is known at once (its kernel resets its streams); silence means
 * a hung or cut-off cell, and must outlast a busy machine's scheduling
 * delays and a reload's (see repl_in_watch). */
#define REPL_DEAD_MS 300
/* ... and after this long its connection is closed. */
#define REPL_GIVEUP_MS 30000
#define REPL_OUT_MAX (16u << 20)
#define REPL_GC_STABLE_MS 1000 /* a map this old: stray copies go */

/* Why a shard's chain broke on a mirror ("Chain" above). */
enum repl_chain_break {
	REPL_CHAIN_OK = 0,
	REPL_CHAIN_GAP,	     /* a link skipped: a batch lost */
	REPL_CHAIN_REORDER,  /* a link again or older: replayed, overtaken */
	REPL_CHAIN_MISMATCH, /* the next link, not following: altered */
	REPL_CHAIN_REASONS,
};

const char *repl_chain_break_name(enum repl_chain_break b);

struct repl_stats {
	uint64_t recs_tx; /* records sent (snapshots included) */
	uint64_t frames_tx;
	uint64_t bytes_tx;
	uint64_t snapshots; /* shard snapshots sent */
	uint64_t recs_rx;   /* records received */
	uint64_t applied;   /* ... that changed the table */
	uint64_t ignored;   /* ... older than what it held */
	uint64_t apply_err; /* ... refused (full table, invalid) */
	uint64_t bytes_rx;
	uint64_t connects; /* outgoing connections made */
	uint64_t accepts;
	uint64_t drops;	      /* connections dropped (error, bad frame, slow) */
	uint64_t silent;      /* peers found silent (then down) */
	uint64_t lag;	      /* frames sent and not acked, all peers */
	uint64_t handback_tx; /* records handed back to a primary */
	uint64_t handback_rx; /* records handed back by a mirror */
	uint64_t handback_applied; /* ... newer than what this cell held */
	uint64_t handbacks_done;   /* shards whose hand-back ended */
	uint64_t collected; /* records of shards neither owned nor mirrored */
	struct cellmsg_counters rx; /* frames received, by reason */
	/* The chain ("Chain" above). */
	uint64_t chain_links_tx; /* chained batches sent */
	uint64_t chain_links_rx; /* ... received that followed */
	uint64_t chain_breaks[REPL_CHAIN_REASONS]; /* [0]: unused */
	uint64_t chain_held;	   /* records not applied: chain broken */
	uint64_t chain_resyncs_tx; /* RESYNCs asked of primaries */
	uint64_t chain_resyncs_rx; /* ... by mirrors, answered by snapshot */
	uint64_t chain_unchained;  /* batches without a link on a stream
				      that has chains (its sender's is off) */
	/* A frame's time from being framed to its mirror's ACK: how far
	 * behind the primary a mirror's copy is. */
	struct hist ack_lag;
	/* A peer found down (its stream reset, or silent): the time since
	 * its last frame, what failover waits for before it starts. */
	struct hist down_detect;
};

struct repl;

struct repl_cfg {
	struct evloop *el;
	const struct gossip_auth *auth;
	struct flowtab *ft;
	uint16_t self_id;
	uint32_t incarnation;
	/* The address this cell listens on; the peers' addresses come from
	 * the cluster (repl_world_set). */
	struct flow_addr listen;
	uint16_t port; /* the cluster's repl_port; 0 in tests: ephemeral */
	/* Clock of the records (ms, the cluster's common time base). */
	uint32_t (*now_ms)(void);
	/*
	 * Optional: a peer is down (up false: a connection with it was
	 * reset or refused, or its stream to this cell fell silent for
	 * REPL_DEAD_MS) or up again (true: a frame of its stream to this
	 * cell arrived). A killed daemon's sockets are reset by its kernel
	 * at once, so this knows of a dead cell long before gossip; once
	 * up, a cell is told down only when it is.
	 */
	void (*on_peer)(void *arg, uint16_t id, bool up);
	void *on_peer_arg;
	/* Optional: mirror `from` has handed back all it held of shard
	 * (its records are applied), or cell `from`, primary of shard
	 * before this one, has given it its records; with on_peer's arg. */
	void (*on_handback)(void *arg, uint16_t shard, uint16_t from);
};

/* NULL with errno set (the errno of socket/bind/listen, ENOMEM). */
struct repl *repl_new(const struct repl_cfg *cfg);
void repl_free(struct repl *r);

/* The port it listens on (the ephemeral one when cfg.port was 0). */
uint16_t repl_port(const struct repl *r);

/*
 * The peers: where each node listens (addresses from c, port as given,
 * for tests: port_of may be NULL, then c's repl_port). 0 or -ENOMEM.
 */
int repl_world_set(struct repl *r, const struct cluster *c,
		   uint16_t (*port_of)(uint16_t id));

/*
 * A new shard map: connections to the mirrors it names for this cell's
 * primary shards are opened, those no longer needed closed, and the
 * shards that are new to a pair are snapshotted.
 */
void repl_shards_set(struct repl *r, const struct shard_map *m);

/* The table changed rec (flowtab's on_change): queue it for its mirrors. */
void repl_record(struct repl *r, const struct flowtab_rec *rec);

/* A record as the table holds it and as it travels (cellmsg). */
void repl_rec_to_wire(const struct flowtab_rec *a, struct cell_flow_rec *b);
void repl_rec_from_wire(const struct cell_flow_rec *b, struct flowtab_rec *a);

const struct repl_stats *repl_stats(const struct repl *r);

/*
 * Chain this cell's streams or not (repl_world_set takes the cluster's
 * replication-chain). A change snapshots every shard this cell streams
 * to a mirror, so each of their chains starts again from a snapshot.
 */
void repl_chain_set(struct repl *r, bool on);
bool repl_chain_on(const struct repl *r);

/* A shard's chain on one stream, as repl_chains_of tells it. */
struct repl_chain_info {
	uint16_t peer;
	bool tx;      /* this cell -> peer; else peer -> this cell */
	uint64_t seq; /* links so far (0: none since its start) */
	uint8_t head[CELLMSG_LINK_LEN];
	uint8_t broken; /* enum repl_chain_break (received ones) */
};

/*
 * The chains of shard on every stream that has one, streams to mirrors
 * first: at most max into out; returns how many there are.
 */
uint32_t repl_chains_of(const struct repl *r, uint16_t shard,
			struct repl_chain_info *out, uint32_t max);

/* All chains of one stream, summed up (repl_chain_streams). */
struct repl_chain_stream {
	uint16_t peer;
	bool tx;
	uint32_t chains; /* shards with a link on it */
	uint32_t broken; /* ... broken, waiting for their snapshot */
	uint64_t links;	 /* links of those chains, added up */
	/* XOR of the first 8 bytes of their heads: equal on both ends of a
	 * stream when the mirror took all the primary sent. */
	uint64_t fingerprint;
};

/* Every stream with a chain: at most max into out; returns how many. */
uint32_t repl_chain_streams(const struct repl *r, struct repl_chain_stream *out,
			    uint32_t max);

/* Records and frames waiting for peer id (0 when none). */
uint32_t repl_pending(const struct repl *r, uint16_t id);

#endif /* STEER_CELL_REPL_H */
