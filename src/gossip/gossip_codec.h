/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Gossip wire format, version 1 (UDP port 6091 by default: steerd's
 * gossip-port). All integers big endian.
 *
 *   header (24 bytes, authenticated, never encrypted)
 *     0  magic u16 0x5347 ("SG")     2  version u8      3  type u8
 *     4  flags u8 (bit 0: encrypted) 5  reserved u8 (0) 6  sender u16
 *     8  incarnation u32 (sender's)  12 seq u64 (per sender, increasing)
 *     20 body length u16             22 reserved u16 (0)
 *   plain:      header | body | HMAC-SHA-512/256 tag over header+body (32)
 *   encrypted:  header | nonce (24) | XChaCha20-Poly1305(body) | tag (16),
 *               the header as associated data
 *
 *   body = fixed part of the type | n_updates u8 | updates
 *     ping      target u16, 0 u16, probe seq u32
 *     ack       probe seq u32
 *     ping-req  target u16, 0 u16, probe seq u32, target addr 16, port u16,
 *               0 u16
 *     nack      probe seq u32
 *     sync      flags u8 (bit 0: pull, answer with your state), 0 u8 x3
 *     gossip    (no fixed part)
 *   update = kind u8 | length u8 | payload (length bytes)
 *     member   node u16, state u8, 0 u8, incarnation u32, from u16,
 *              port u16, addr 16 (IPv4 v4-mapped)                   (28)
 *     session  owner u16, op u8, proto u8, epoch u32, src 16, dst 16,
 *              sport, dport (network order as in the flow key)      (44)
 *     load     node u16, cpu u16, mem u16 (permille), flags u16 (bit 0:
 *              drained, out of the ingress set; other bits ignored),
 *              seq u64, bandwidth u64 (bit/s), sessions u32, 0 u32  (32)
 *     forecast node u16, horizon u16 (s), cpu u16, cpu hi u16,
 *              mem u16, mem hi u16 (permille), 0 u32, seq u64,
 *              bandwidth u64, bandwidth hi u64 (bit/s): the node's
 *              forecast load `horizon` seconds ahead, mean and the
 *              upper end of its 95% interval                        (40)
 *     hint     owner u16, probability u16 (permille, 1..1000; 0: the
 *              hint is withdrawn), ttl u16 (s, 0..3600), proto u8,
 *              0 u8, epoch u32, src 16, dst 16, sport, dport: the
 *              owner's session may arrive at the receiver within ttl
 *              seconds; a pre-warm only, never ownership            (48)
 *   An update of an unknown kind is skipped by its length (counted), so a
 *   later minor revision can add kinds; anything else malformed rejects
 *   the whole datagram.
 */
#ifndef STEER_GOSSIP_CODEC_H
#define STEER_GOSSIP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>

#include "gossip/gossip_auth.h"

/* Unassigned by IANA, used by no well-known software (core/cluster.h). */
#define GOSSIP_PORT 6091
#define GOSSIP_MAGIC 0x5347
#define GOSSIP_VERSION 1
#define GOSSIP_HDR_LEN 24
#define GOSSIP_FLAG_ENCRYPTED 0x01
/* Largest datagram sent or accepted: fits a 1500-byte MTU with IPv6. */
#define GOSSIP_DGRAM_MAX 1400
#define GOSSIP_MAX_UPDATES 64
#define GOSSIP_SYNC_PULL 0x01

#define GOSSIP_UPD_MEMBER_LEN 28
#define GOSSIP_UPD_SESSION_LEN 44
#define GOSSIP_UPD_LOAD_LEN 32
#define GOSSIP_UPD_FORECAST_LEN 40
#define GOSSIP_UPD_HINT_LEN 48
#define GOSSIP_UPD_ORDER_LEN 16
#define GOSSIP_UPD_ASK_LEN 40
#define GOSSIP_HINT_TTL_MAX 3600     /* seconds */
#define GOSSIP_FC_HORIZON_MAX 3600   /* seconds */
#define GOSSIP_LOAD_F_DRAINED 0x0001 /* the node left the ingress set */
/* Drained still, and about to enter the ingress set: its warm-up, when
 * the owners hint it their sessions (daemon/hints.h). */
#define GOSSIP_LOAD_F_JOINING 0x0002
#define GOSSIP_LOAD_F_KNOWN (GOSSIP_LOAD_F_DRAINED | GOSSIP_LOAD_F_JOINING)

enum gossip_msg_type {
	GOSSIP_MSG_PING = 1,
	GOSSIP_MSG_ACK = 2,
	GOSSIP_MSG_PING_REQ = 3,
	GOSSIP_MSG_NACK = 4,
	GOSSIP_MSG_SYNC = 5,
	GOSSIP_MSG_GOSSIP = 6,
};

enum gossip_update_kind {
	GOSSIP_UPD_MEMBER = 1,
	GOSSIP_UPD_SESSION = 2,
	GOSSIP_UPD_LOAD = 3,
	GOSSIP_UPD_FORECAST = 4,
	GOSSIP_UPD_HINT = 5,
	GOSSIP_UPD_ORDER = 6,
	GOSSIP_UPD_ASK = 7,
};

enum gossip_state {
	GOSSIP_ALIVE = 0,
	GOSSIP_SUSPECT = 1,
	GOSSIP_DEAD = 2,
	GOSSIP_LEFT = 3,
	GOSSIP_STATE_NONE = 255, /* not in the table (events only) */
};

enum gossip_session_op {
	GOSSIP_SESSION_ESTABLISHED = 1,
	GOSSIP_SESSION_CLOSED = 2,
};

/* A gossip endpoint: address (IPv4 v4-mapped) and port in host order. */
struct gossip_addr {
	struct flow_addr ip;
	uint16_t port;
};

struct gossip_member_update {
	uint16_t node;
	uint8_t state; /* enum gossip_state, never NONE */
	uint32_t incarnation;
	uint16_t from; /* the node that reports this state */
	struct gossip_addr addr;
};

struct gossip_session_update {
	uint16_t owner;
	uint8_t op; /* enum gossip_session_op */
	uint32_t epoch;
	struct flow_key key;
};

struct gossip_load_update {
	uint16_t node;
	uint16_t cpu_permille;
	uint16_t mem_permille;
	uint16_t flags; /* GOSSIP_LOAD_F_* */
	uint64_t seq;	/* newer report, higher seq */
	uint64_t bandwidth_bps;
	uint32_t sessions;
};

/* A node's load forecast: mean <= hi, cpu and mem <= 1000 permille. */
struct gossip_forecast_update {
	uint16_t node;
	uint16_t horizon_s; /* 1..GOSSIP_FC_HORIZON_MAX */
	uint16_t cpu_permille, cpu_hi;
	uint16_t mem_permille, mem_hi;
	uint64_t seq; /* newer forecast, higher seq */
	uint64_t bandwidth_bps, bandwidth_hi_bps;
};

/* A migration hint: a session of owner's that may reach the receiver. */
/* A hint to a joining node (GOSSIP_LOAD_F_JOINING): not a prediction
 * of this session's move but of the joiner's share of every session. */
#define GOSSIP_HINT_F_JOIN 0x01
#define GOSSIP_HINT_F_KNOWN GOSSIP_HINT_F_JOIN

struct gossip_hint_update {
	uint16_t owner;
	uint16_t p_permille; /* 0: withdrawn; else 1..1000 */
	uint16_t ttl_s;	     /* 0..GOSSIP_HINT_TTL_MAX */
	uint8_t flags;	     /* GOSSIP_HINT_F_* (a byte once reserved) */
	uint32_t epoch;	     /* the session's, as its owner holds it */
	struct flow_key key;
};

/* An operator's order, from the node it was given to (from: the
 * datagram's sender) to the node it is for. */
enum gossip_order_op {
	GOSSIP_ORDER_DRAIN = 1,	  /* leave the ingress set */
	GOSSIP_ORDER_UNDRAIN = 2, /* rejoin it */
};

struct gossip_order_update {
	uint16_t node; /* whom it is for */
	uint16_t from;
	uint8_t op;  /* enum gossip_order_op */
	uint64_t id; /* the sender's, the same in every copy */
};

/* Directory: a home asks who owns a session it was sent and does not
 * know; its owner answers with the record (asker: the datagram's
 * sender). */
struct gossip_ask_update {
	uint16_t asker;
	struct flow_key key;
};

struct gossip_update {
	uint8_t kind; /* enum gossip_update_kind */
	union {
		struct gossip_member_update member;
		struct gossip_session_update session;
		struct gossip_load_update load;
		struct gossip_forecast_update forecast;
		struct gossip_hint_update hint;
		struct gossip_order_update order;
		struct gossip_ask_update ask;
	};
};

/* One datagram, decoded or to encode. */
struct gossip_msg {
	uint8_t type; /* enum gossip_msg_type */
	uint16_t sender;
	uint32_t incarnation;
	uint64_t seq;
	uint32_t probe_seq;		/* ping, ack, ping-req, nack */
	uint16_t target;		/* ping, ping-req */
	struct gossip_addr target_addr; /* ping-req */
	uint8_t sync_flags;		/* sync */
	uint16_t n_updates;
	struct gossip_update updates[GOSSIP_MAX_UPDATES];
};

/* Why a datagram was refused; each has a counter. */
enum gossip_rx_reason {
	GOSSIP_RX_OK = 0,
	GOSSIP_RX_SHORT,     /* shorter than header + tag, or than its body */
	GOSSIP_RX_OVERSIZE,  /* above GOSSIP_DGRAM_MAX */
	GOSSIP_RX_MAGIC,     /* not a gossip datagram */
	GOSSIP_RX_VERSION,   /* unknown version */
	GOSSIP_RX_TYPE,	     /* unknown message type */
	GOSSIP_RX_MODE,	     /* encrypted vs plain differs from ours */
	GOSSIP_RX_LENGTH,    /* body length does not match the datagram */
	GOSSIP_RX_AUTH,	     /* tag does not verify: forged or wrong key */
	GOSSIP_RX_MALFORMED, /* body does not parse */
	GOSSIP_RX_REPLAY,    /* sequence already seen or too old */
	GOSSIP_RX_SELF,	     /* our own node id as sender */
	GOSSIP_RX_NOMEM,     /* no memory to track the sender */
	GOSSIP_RX_REASONS,
};

const char *gossip_rx_reason_name(enum gossip_rx_reason r);

/* Whether an update's fields are within their bounds (as decoding
 * requires of what it accepts). */
bool gossip_codec_update_valid(const struct gossip_update *u);

/* Bytes an update of this kind takes on the wire, 0 for an unknown kind. */
size_t gossip_codec_update_size(uint8_t kind);

/* Header, fixed part, update count and tag of a message of this type. */
size_t gossip_codec_overhead(const struct gossip_auth *a, uint8_t type);

/*
 * Encode and seal msg into buf. Returns the datagram length, -EINVAL for
 * a message that has an invalid field, -EMSGSIZE when it does not fit in
 * cap or in GOSSIP_DGRAM_MAX.
 */
int gossip_codec_encode(const struct gossip_auth *a, const struct gossip_msg *m,
			uint8_t *buf, size_t cap);

/*
 * Verify and decode one datagram into m. Returns GOSSIP_RX_OK or the
 * reason it was refused; m is undefined on refusal. *unknown counts
 * updates of unknown kinds that were skipped. Replay is not checked here
 * (see gossip_replay_accept): the caller checks it once decoding has
 * succeeded, so a datagram refused for any reason leaves no trace.
 */
enum gossip_rx_reason gossip_codec_decode(const struct gossip_auth *a,
					  const uint8_t *buf, size_t len,
					  struct gossip_msg *m,
					  uint32_t *unknown);

#endif /* STEER_GOSSIP_CODEC_H */
