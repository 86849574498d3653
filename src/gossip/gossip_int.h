/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The node object, shared by the gossip modules (not part of the API).
 */
#ifndef STEER_GOSSIP_INT_H
#define STEER_GOSSIP_INT_H

#include "util/log.h"

#include "gossip/gossip.h"
#include "gossip/gossip_dir.h"
#include "gossip/gossip_dissem.h"
#include "gossip/gossip_member.h"
#include "gossip/gossip_probe.h"
#include "gossip/gossip_session.h"

#define GOSSIP_LOG "gossip"
#define GOSSIP_DISSEM_MAX 8192
/* Fresh updates sent by one push, to each target: a larger burst goes
 * out over successive pushes, push_delay_ms apart. */
#define GOSSIP_PUSH_MAX 128
#define GOSSIP_MAX_FANOUT 16
/* Datagrams to each peer in one gossip round at most. */
#define GOSSIP_ROUND_MAX_DGRAMS 8

struct gossip {
	struct gossip_config cfg;
	struct gossip_io io;
	struct gossip_events ev;
	struct gossip_auth auth;
	struct gossip_replay replay;
	struct gossip_counters ctr;
	struct gossip_hists hists;
	struct log_ratelimit rl;
	uint64_t rng;
	uint64_t tx_seq;
	uint64_t now; /* io clock at the start of the current call */
	uint32_t health;
	bool leaving;
	bool drained; /* said in our load reports (gossip_drained_set) */
	bool ingress_joining; /* the same (gossip_joining_set) */

	struct gossip_members members; /* ourselves included */
	struct gossip_probe probe;
	struct gossip_dissem dissem;
	struct gossip_sessions sessions;
	struct gossip_dir dir;

	struct gossip_addr *seeds;
	uint32_t n_seeds;
	bool joining;
	uint64_t next_join;
	uint64_t next_gossip;
	uint64_t next_sync;
	uint64_t next_member; /* earliest suspicion deadline or reap */
	uint64_t next_expire;
	uint64_t push_at; /* UINT64_MAX: nothing waits for a push */
	/* Who told us the news waiting for the push (not pushed back to
	 * it); our own id when it is ours. rx_sender: the sender of the
	 * datagram being handled, our own id outside gossip_recv(). */
	uint16_t push_skip;
	uint16_t rx_sender;
	uint64_t next_stranger_sync;
	uint32_t sync_cursor;

	struct gossip_msg tx;
	struct gossip_msg rx;
	uint8_t buf[GOSSIP_DGRAM_MAX];
	struct gossip_update push_buf[GOSSIP_PUSH_MAX];
};

uint64_t gossip_rand(struct gossip *g);
/* Uniform in [0, n); n > 0. */
uint32_t gossip_rand_below(struct gossip *g, uint32_t n);

/* Prepare g->tx as an empty message of this type from us. */
struct gossip_msg *gossip_msg_start(struct gossip *g, uint8_t type);
/*
 * Fill the rest of g->tx with queued updates (when piggyback), encode and
 * send it to `to`. Returns 0 or a negative errno (counted).
 */
int gossip_msg_send(struct gossip *g, const struct gossip_addr *to,
		    bool piggyback);

/*
 * Queue an update for dissemination (a full queue is counted). With
 * push, it is news: it goes to push_fanout members within push_delay_ms
 * rather than waiting for a gossip round. What an anti-entropy exchange
 * brings is pushed too: a member that joined through us, a partition's
 * news; members that knew it already pass nothing on, so it costs one
 * push.
 */
void gossip_enqueue(struct gossip *g, const struct gossip_update *u, bool push);
/* Send what waits for a push if it is due (see gossip_enqueue). */
void gossip_push_flush(struct gossip *g);
/* Transmissions per update: retransmit_mult * ceil(log10(N + 1)). */
uint32_t gossip_retransmit_limit(const struct gossip *g);

/* Up to max random members (not us, none in skip) in states accepted by
 * the mask (1 << state); returns how many were written. */
uint32_t gossip_pick_members(struct gossip *g, uint16_t *out, uint32_t max,
			     uint32_t state_mask, uint16_t skip);

/* Merge one received update of any kind; returns 1 when state changed. */
int gossip_apply_update(struct gossip *g, const struct gossip_update *u);

#endif /* STEER_GOSSIP_INT_H */
