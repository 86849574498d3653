/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cell mode's control and replication messages, wire format version 1,
 * and version 2 for a BATCH that carries its shard's chain (below).
 * All integers big endian; ports are in network order as in the flow key.
 *
 * One frame format for both transports: a datagram over UDP (RULE,
 * RULE_DEL, HEARTBEAT, MIRROR, TOUCH, QUERY, ANSWER) is exactly one frame; a TCP stream between a
 * primary cell and a mirror (BATCH, ACK, RESYNC, SNAPSHOT_*) is a
 * sequence of frames, each found by cellmsg_frame_len() from its header.
 *
 *   header (24 bytes, authenticated, never encrypted)
 *     0  magic u16 0x5343 ("SC"; gossip's is "SG")
 *     2  version u8 (1; 2: a chained BATCH, the only type version 2
 *        has, so cells of a release without the chain refuse a chained
 *        batch as bad_version and understand everything else)
 *                                      3  type u8
 *     4  flags u8: bit 0 encrypted, bit 1 compressed (BATCH only), the
 *        other bits 0                  5  reserved u8 (0)
 *     6  sender u16 (node id)          8  incarnation u32 (the sender's)
 *     12 seq u64: per sender and stream (per sender for datagrams),
 *        increasing, and increasing across the sender's restarts (start
 *        at the wall clock in microseconds, as gossip does)
 *     20 body length u32: the body's bytes on the wire (the compressed
 *        length when compressed, the plaintext length when encrypted)
 *   plain:      header | body | HMAC-SHA-512/256 tag over header+body (32)
 *   encrypted:  header | nonce (24) | XChaCha20-Poly1305(body) | tag (16),
 *               the header as associated data
 *   Sealing is gossip_auth's, with the cluster key: the distinct magic
 *   (inside what the tag covers) keeps a cell frame from ever passing for
 *   a gossip datagram or the reverse.
 *
 *   key block (40 bytes: struct flow_key's own layout, padding zero)
 *     0  src 16    16 dst 16    32 sport u16    34 dport u16
 *     36 proto u8  37 0 u8 x3
 *
 *   bodies (fixed length per type, except BATCH, MIRROR and TOUCH)
 *   RULE (64) cell -> fast-path node: the rewriting rule of a flow
 *     0  key block (40)         40 flow version u64
 *     48 owner epoch u32        52 backend u16      54 primary cell u16
 *     56 mirror cell u16 x2     60 action u8 (enum steer_action, not NONE)
 *     61 rf u8                  62 0 u16
 *   RULE_DEL (48) cell -> fast-path node: forget a flow's rule
 *     0  key block (40)         40 flow version u64
 *   HEARTBEAT (40) primary <-> mirror, over UDP every ~20 ms; the sender's
 *   incarnation is the header's
 *     0  now_ms u64: the sender's monotonic clock
 *     8  tx_seq u64: the highest frame seq the sender has sent on its
 *        replication stream to the receiver (0: none)
 *     16 rx_seq u64: the highest frame seq the sender has applied from
 *        the receiver's stream (0: none)
 *     24 shards_hash u64, 32 shards_count u32: the shards the sender is
 *        primary for, as cellmsg_shards_digest() computes them (a count
 *        and a hash, not a 512-byte bitmap: equal views cost 12 bytes,
 *        a mismatch is settled by the membership, not by the heartbeat)
 *     36 0 u32
 *   BATCH (20 + records) primary -> mirror, stream
 *     0  shard u16   2  0 u16   4  first_seq u64: the shard's sequence of
 *        the first record (the records carry first_seq .. first_seq +
 *        count - 1; 0 inside a snapshot, whose records are not changes)
 *     12 count u32 (at most CELLMSG_BATCH_MAX)
 *     16 raw_len u32: count * CELLMSG_REC_LEN, the records' length
 *        uncompressed
 *     20 count records, or with the compressed flag one LZ4 block that
 *        decompresses to them, sent only when shorter than raw_len
 *   BATCH version 2 (44 + records): a link of its shard's chain
 *     0..19 as version 1      20 chain_seq u64: the batch's place in
 *        its shard's chain on this stream, from 1 (never 0)
 *     28 link (16): cellmsg_chain_link() of the chain's previous link
 *        (for chain_seq 1, cellmsg_chain_genesis()) and this batch
 *     44 the records, as version 1's at 20
 *   ACK (12) mirror -> primary: the shard is applied up to seq
 *     0  shard u16   2  0 u16   4  seq u64
 *   RESYNC (12) mirror -> primary: send me the shard again (a snapshot)
 *     0  shard u16   2  reason u8 (enum cellmsg_resync_reason)   3  0 u8
 *     4  seq u64: the highest seq of the shard the mirror holds (0: none)
 *   SNAPSHOT_BEGIN (12) primary -> mirror: the BATCH frames of the shard
 *   that follow, up to SNAPSHOT_END, are the whole shard as of seq
 *     0  shard u16   2  0 u16   4  seq u64
 *   SNAPSHOT_END (16): as BEGIN, then 12 count u32 (records sent)
 *
 *   MIRROR (84 + cap_len) primary -> mirror, UDP: a packet that changed
 *   (or, for services that mirror all, met) a flow, with the flow's record
 *   as the primary holds it after the packet; the mirror merges the record
 *   by the version rule as if replicated and accounts the packet
 *     0  record (80)   80 orig_len u16: the IP packet's length
 *     82 cap_len u16: its first bytes carried, 1 .. min(orig_len,
 *        CELLMSG_MIRROR_CAP)      84 cap_len bytes of the packet
 *   TOUCH (4 + 40 * count) fast-path node -> primary cell, UDP: these
 *   flows' rules met packets lately (the cell, which sees only a flow's
 *   first packets and its close, keeps their state from idling out)
 *     0  count u16 (1 .. CELLMSG_TOUCH_MAX)   2  0 u16
 *     4  count key blocks
 *   QUERY (40) cell -> cell, UDP: do you hold this flow's state? Asked
 *   before a cell decides a flow it has no record of from a packet that
 *   is not a flow's first (mid-flow TCP), or of a shard whose cells just
 *   changed: another cell may hold it, and deciding again would move it
 *     0  key block (40)
 *   ANSWER (44, or 124 with a record) cell -> cell, UDP: the answer
 *     0  key block (40)          40 found u8 (0 or 1)   41 0 u8 x3
 *     44 with found 1: the record (80) as this cell holds it; its key is
 *        the key block's
 *   record (CELLMSG_REC_LEN = 80 bytes): struct cell_flow_rec; the fields
 *   that repeat across a shard's flows come first and together, so LZ4
 *   finds one long match per record
 *     0  owner epoch u32         4  service index u16    6  primary u16
 *     8  mirror u16 x2           12 proto u8    13 rf u8    14 0 u16
 *     16 dst 16                  32 dport u16   34 backend u16
 *     36 src 16                  52 sport u16   54 state u8
 *     55 tcp flags u8            56 version u64
 *     64 created_ms u32, 68 last_ms u32: the low 32 bits of the primary's
 *        monotonic clock (compare with serial arithmetic, against a
 *        HEARTBEAT's now_ms)
 *     72 packets u32             76 bytes u32
 *
 * Profiles (RULE and records) must hold steer_rule's invariant: primary
 * is a node, 1 <= rf <= 1 + STEER_MAX_MIRRORS, the first rf - 1 mirrors
 * are nodes and the others STEER_NODE_NONE.
 *
 * Decoding trusts nothing: lengths are checked against the type and
 * bounds before anything is read or allocated, reserved fields must be
 * zero, enumerations known, the body used up exactly. A frame refused for
 * any reason changes nothing; each reason has a name and a counter.
 */
#ifndef STEER_CELLMSG_H
#define STEER_CELLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>
#include <steer/rule.h>

#include "gossip/gossip_auth.h"

#define CELLMSG_MAGIC 0x5343
#define CELLMSG_VERSION 1
#define CELLMSG_VERSION_CHAIN 2 /* a BATCH with its chain's link */
#define CELLMSG_HDR_LEN 24
#define CELLMSG_FLAG_ENCRYPTED 0x01
#define CELLMSG_FLAG_COMPRESSED 0x02

#define CELLMSG_KEY_LEN 40
#define CELLMSG_RULE_LEN 64
#define CELLMSG_RULE_DEL_LEN 48
#define CELLMSG_HEARTBEAT_LEN 40
#define CELLMSG_BATCH_FIXED_LEN 20
#define CELLMSG_LINK_LEN 16 /* BLAKE2b-128 */
#define CELLMSG_BATCH_CHAIN_LEN (CELLMSG_BATCH_FIXED_LEN + 8 + CELLMSG_LINK_LEN)
#define CELLMSG_ACK_LEN 12
#define CELLMSG_RESYNC_LEN 12
#define CELLMSG_SNAP_BEGIN_LEN 12
#define CELLMSG_SNAP_END_LEN 16
#define CELLMSG_REC_LEN 80
#define CELLMSG_MIRROR_FIXED_LEN 84
/* The head of a mirrored packet: every header steer parses fits. */
#define CELLMSG_MIRROR_CAP 256
#define CELLMSG_TOUCH_FIXED_LEN 4
#define CELLMSG_QUERY_LEN 40
#define CELLMSG_ANSWER_FIXED_LEN 44
/* Keys in one TOUCH: 1204 bytes of body, a datagram under 1400. */
#define CELLMSG_TOUCH_MAX 30

/* Shards of cell mode (== STEER_SHARDS, bpf/steer_kern_user.h). */
#define CELLMSG_SHARDS 4096
/* Records in one BATCH: 80 KiB uncompressed. */
#define CELLMSG_BATCH_MAX 1024
/* Longest body: a full batch uncompressed (compressed ones are shorter). */
#define CELLMSG_BODY_MAX                                                       \
	(CELLMSG_BATCH_CHAIN_LEN + CELLMSG_BATCH_MAX * CELLMSG_REC_LEN)
/* Longest frame, sealing included (the AEAD's 40 bytes > the MAC's 32). */
#define CELLMSG_FRAME_MAX                                                      \
	(CELLMSG_HDR_LEN + CELLMSG_BODY_MAX + GOSSIP_NONCE_LEN +               \
	 GOSSIP_AEAD_TAG_LEN)
/* Datagram types fit one 1500-byte MTU with IPv6 by far. */
#define CELLMSG_DGRAM_MAX 1400
/* Cell <-> fast-path node control messages go over UDP on the cluster's
 * cell control port (cell-ports, core/cluster.h). */

enum cellmsg_type {
	CELLMSG_RULE = 1,
	CELLMSG_RULE_DEL = 2,
	CELLMSG_HEARTBEAT = 3,
	CELLMSG_BATCH = 4,
	CELLMSG_ACK = 5,
	CELLMSG_RESYNC = 6,
	CELLMSG_SNAP_BEGIN = 7,
	CELLMSG_SNAP_END = 8,
	CELLMSG_MIRROR = 9,
	CELLMSG_TOUCH = 10,
	CELLMSG_QUERY = 11,
	CELLMSG_ANSWER = 12,
	CELLMSG_TYPE_MAX = CELLMSG_ANSWER,
};

enum cellmsg_resync_reason {
	CELLMSG_RESYNC_GAP = 1,	       /* a seq was skipped on the stream */
	CELLMSG_RESYNC_RESTART = 2,    /* the mirror restarted, holds nothing */
	CELLMSG_RESYNC_MEMBERSHIP = 3, /* the mirror was just assigned */
	/* The shard's chain broke (repl.h): a batch from before the chain's
	 * last link (replayed, reordered), or one whose link does not follow
	 * (a record changed, a history that forked). GAP above serves the
	 * chain too: a link skipped. */
	CELLMSG_RESYNC_REORDER = 4,
	CELLMSG_RESYNC_MISMATCH = 5,
};

/*
 * A flow's replicated state as it travels (the state module converts its
 * own record to and from this one). rf counts the primary.
 */
struct cell_flow_rec {
	struct flow_key key;
	uint64_t version;
	uint32_t epoch; /* owner epoch */
	uint16_t backend;
	uint16_t service;
	uint16_t primary;
	uint16_t mirror[STEER_MAX_MIRRORS];
	uint8_t rf;
	uint8_t state;	   /* the state module's, opaque here */
	uint8_t tcp_flags; /* TCP flags seen, opaque here */
	uint32_t created_ms;
	uint32_t last_ms;
	uint32_t packets;
	uint32_t bytes;
};

struct cellmsg_rule {
	struct flow_key key;
	uint64_t version;
	uint32_t epoch;
	uint16_t backend;
	uint16_t primary;
	uint16_t mirror[STEER_MAX_MIRRORS];
	uint8_t action; /* enum steer_action */
	uint8_t rf;
};

struct cellmsg_rule_del {
	struct flow_key key;
	uint64_t version;
};

struct cellmsg_heartbeat {
	uint64_t now_ms;
	uint64_t tx_seq;
	uint64_t rx_seq;
	uint64_t shards_hash;
	uint32_t shards_count;
};

/*
 * Encoding: recs holds count records. Decoding: recs is the caller's
 * buffer and count how many of it were filled. chain_seq 0: no chain
 * (version 1); else the batch's place in its chain and its link, as they
 * travel (version 2): the encoder writes the link it is given, the
 * decoder gives the one it read, and whether it follows is the caller's
 * to check (cellmsg_chain_link).
 */
struct cellmsg_batch {
	uint16_t shard;
	uint64_t first_seq;
	uint32_t count;
	struct cell_flow_rec *recs;
	uint64_t chain_seq;
	uint8_t link[CELLMSG_LINK_LEN];
};

/* ACK, RESYNC, SNAPSHOT_BEGIN and SNAPSHOT_END. */
struct cellmsg_shard {
	uint16_t shard;
	uint8_t reason; /* RESYNC: enum cellmsg_resync_reason */
	uint64_t seq;
	uint32_t count; /* SNAPSHOT_END */
};

struct cellmsg_mirror {
	struct cell_flow_rec rec;
	uint16_t orig_len;
	uint16_t cap_len;
	uint8_t pkt[CELLMSG_MIRROR_CAP];
};

struct cellmsg_touch {
	uint16_t count;
	struct flow_key keys[CELLMSG_TOUCH_MAX];
};

struct cellmsg_answer {
	struct flow_key key;
	uint8_t found;		  /* 0: no record here; 1: rec */
	struct cell_flow_rec rec; /* with found: its key is key */
};

/* One frame, decoded or to encode. */
struct cellmsg {
	uint8_t type;  /* enum cellmsg_type */
	uint8_t flags; /* decoded: the header's flags; ignored by encoding */
	uint16_t sender;
	uint32_t incarnation;
	uint64_t seq;
	union {
		struct cellmsg_rule rule;
		struct cellmsg_rule_del del;
		struct cellmsg_heartbeat hb;
		struct cellmsg_batch batch;
		struct cellmsg_shard sh; /* ACK, RESYNC, SNAPSHOT_* */
		struct cellmsg_mirror mir;
		struct cellmsg_touch touch;
		struct flow_key query; /* QUERY */
		struct cellmsg_answer ans;
	};
};

/* What became of received bytes; each outcome but NEED_MORE has a counter. */
enum cellmsg_rx_reason {
	CELLMSG_RX_OK = 0,
	CELLMSG_RX_NEED_MORE,  /* stream: a frame has begun, not all is here */
	CELLMSG_RX_SHORT,      /* datagram shorter than a header or its frame */
	CELLMSG_RX_OVERSIZE,   /* above CELLMSG_FRAME_MAX, or a declared body
				  or record count above its bound */
	CELLMSG_RX_MAGIC,      /* not a cell frame */
	CELLMSG_RX_VERSION,    /* unknown version */
	CELLMSG_RX_TYPE,       /* unknown type */
	CELLMSG_RX_MODE,       /* encrypted vs plain differs from ours */
	CELLMSG_RX_FLAGS,      /* unknown flag, or compressed on a non-BATCH */
	CELLMSG_RX_LENGTH,     /* body length wrong for the type, or datagram
				  longer than its frame */
	CELLMSG_RX_AUTH,       /* tag does not verify: forged or wrong key */
	CELLMSG_RX_MALFORMED,  /* header or body does not parse */
	CELLMSG_RX_DECOMPRESS, /* LZ4 block does not give raw_len bytes */
	CELLMSG_RX_NOSPACE,    /* more records than the caller's buffer */
	CELLMSG_RX_NOMEM,      /* no memory for the body */
	CELLMSG_RX_REPLAY,     /* seq already seen, too old, or not above the
				  stream's last */
	CELLMSG_RX_SENDER,     /* a stream frame from another sender */
	CELLMSG_RX_REASONS,
};

const char *cellmsg_rx_reason_name(enum cellmsg_rx_reason r);
const char *cellmsg_type_name(uint8_t type);

struct cellmsg_counters {
	uint64_t rx[CELLMSG_RX_REASONS];
};

/* Count one outcome (NEED_MORE is none and is not counted). */
void cellmsg_counters_add(struct cellmsg_counters *c, enum cellmsg_rx_reason r);

/*
 * Encode and seal m into buf. A BATCH's records are LZ4-compressed when
 * that makes them shorter (the compressed flag says so). Returns the
 * frame length, -EINVAL for a message with an invalid field (unknown
 * type or enumeration, sender STEER_NODE_NONE, a profile that breaks the
 * invariant, more than CELLMSG_BATCH_MAX records), -EMSGSIZE when the
 * frame does not fit in cap, -ENOMEM when a batch cannot get its
 * scratch buffer.
 */
int cellmsg_encode(const struct gossip_auth *a, const struct cellmsg *m,
		   uint8_t *buf, size_t cap);

/*
 * Find the frame at the start of a stream's buffered bytes. Returns
 * CELLMSG_RX_OK with *frame_len the length of the whole frame at buf (it
 * is all there; give it to cellmsg_decode, then drop it);
 * CELLMSG_RX_NEED_MORE with *frame_len the bytes needed in all (the
 * header's length until a header is complete); or the reason the frame
 * is bad, after which the stream cannot be resynchronised: close it (the
 * mirror asks for a RESYNC on the next connection). Checks magic,
 * version, type, flags, mode and the declared length, so a peer cannot
 * make the reader buffer more than CELLMSG_FRAME_MAX.
 */
enum cellmsg_rx_reason cellmsg_frame_len(const struct gossip_auth *a,
					 const uint8_t *buf, size_t len,
					 size_t *frame_len);

/*
 * Verify and decode exactly one frame of len bytes (a datagram, or a
 * frame cut out by cellmsg_frame_len) into m. A BATCH's records go to
 * recs (rec_cap of them; may be NULL for other types) and m->batch.recs
 * points there. Returns CELLMSG_RX_OK or why the frame was refused; m
 * and recs are undefined on refusal. Only a BATCH allocates: its body
 * (at most CELLMSG_BODY_MAX bytes) and, when compressed, its records (at
 * most CELLMSG_BATCH_MAX * CELLMSG_REC_LEN), each after every length it
 * depends on has been checked; both are freed before returning. Replay
 * is not checked here: see cellmsg_replay_accept (datagrams) and
 * cellmsg_stream_accept (streams).
 */
enum cellmsg_rx_reason
cellmsg_decode(const struct gossip_auth *a, const uint8_t *buf, size_t len,
	       struct cellmsg *m, struct cell_flow_rec *recs, uint32_t rec_cap);

/*
 * Whether two messages say the same (header fields but flags, body,
 * records); for tests and fuzzing.
 */
bool cellmsg_equal(const struct cellmsg *x, const struct cellmsg *y);

/*
 * The HEARTBEAT digest of a set of shards: bitmap has nshards bits (bit i
 * of word i / 64 is shard i); *count is the number set, *hash the 64-bit
 * FNV-1a of their ids, each as a big-endian u16, in increasing order (0
 * shards: FNV's offset basis). Returns 0, or -EINVAL when nshards is
 * above 65536.
 */
int cellmsg_shards_digest(const uint64_t *bitmap, uint32_t nshards,
			  uint32_t *count, uint64_t *hash);

/*
 * The replication chain (see repl.h): each shard's BATCH frames on one
 * stream form a hash chain. A link is BLAKE2b-128 of the batch (shard,
 * first_seq, chain_seq, count, then its records as they travel
 * uncompressed, whatever the frame carried), with the previous link as
 * BLAKE2b's salt and "steer-cellchain1" as its personalisation: one
 * compression for a batch of one record, no key (the frame is
 * authenticated already; the chain proves continuity, not origin).
 */
void cellmsg_chain_link(const uint8_t prev[CELLMSG_LINK_LEN],
			const struct cellmsg_batch *b,
			uint8_t out[CELLMSG_LINK_LEN]);

/*
 * A chain's start, the "previous link" of its batch 1: BLAKE2b-128
 * (personalisation "steer-chaingen-1") of sender u16, receiver u16, the
 * sender's incarnation u32, shard u16 and epoch u64: the header seq of
 * that first batch, so no two chains of a stream start alike.
 */
void cellmsg_chain_genesis(uint16_t sender, uint16_t receiver,
			   uint32_t incarnation, uint16_t shard, uint64_t epoch,
			   uint8_t out[CELLMSG_LINK_LEN]);

/*
 * Replay protection of datagrams (RULE, RULE_DEL, HEARTBEAT): gossip's
 * per-sender window (gossip_replay), so a datagram is accepted once, if
 * its seq is above the sender's highest or within the
 * GOSSIP_REPLAY_WINDOW below it.
 */
struct cellmsg_replay {
	struct gossip_replay win;
};

void cellmsg_replay_init(struct cellmsg_replay *r);
void cellmsg_replay_free(struct cellmsg_replay *r);
/*
 * Accept a decoded datagram and record its seq. Returns CELLMSG_RX_OK,
 * CELLMSG_RX_REPLAY (seen, or below the window) or CELLMSG_RX_NOMEM (a
 * new sender cannot be tracked); on refusal nothing is recorded.
 */
enum cellmsg_rx_reason cellmsg_replay_accept(struct cellmsg_replay *r,
					     const struct cellmsg *m);

/*
 * Sequence check of one stream: TCP delivers in order, so every frame's
 * seq must be above the last one, and all come from the sender of the
 * first frame. Zero-initialise per connection.
 */
struct cellmsg_stream_seq {
	bool started;
	uint16_t sender;
	uint64_t last;
};

/*
 * Accept a decoded stream frame. Returns CELLMSG_RX_OK, CELLMSG_RX_SENDER
 * (another sender than the stream's) or CELLMSG_RX_REPLAY (seq not above
 * the last); on refusal nothing is recorded.
 */
enum cellmsg_rx_reason cellmsg_stream_accept(struct cellmsg_stream_seq *s,
					     const struct cellmsg *m);

#endif /* STEER_CELLMSG_H */
