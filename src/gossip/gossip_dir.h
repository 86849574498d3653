/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ownership by directory (gossip_config.ownership GOSSIP_OWN_DIRECTORY):
 * instead of flooding every session to every node, each session's record
 * lives on its homes, the dir_homes live members (alive or suspect)
 * ranked first by rendezvous hashing of the session's shard (flow hash &
 * (STEER_SHARDS - 1), the secret the cluster's), the same ranking the
 * fast path's shard map holds.
 *
 *   owner:  a change of its own session -> the session's homes, direct
 *           (GOSSIP datagrams of session updates, authenticated like
 *           all gossip, not passed on by their receivers)
 *   owner:  every dir_refresh_ms, and shortly after the live set
 *           changes (a home died or joined) or a live member's
 *           incarnation does (it may have restarted with an empty
 *           table), every established session it owns -> its homes
 *           again: the directory's anti-entropy, and how a new home
 *           learns its shards
 *   home:   a packet of a session re-routed through it -> the ingress is
 *           taught the record (gossip_dir_teach) and told of its later
 *           changes (up to GOSSIP_DIR_TAUGHT nodes per record)
 *   all:    a record not owned here and neither changed nor received
 *           again for dir_expire_ms is forgotten (the session callback
 *           sees it closed), so homes that lost a shard and ingresses
 *           taught long ago let go
 *
 * Records keep the merge rule of the flooded table; the anti-entropy
 * push-pull still carries members, loads and forecasts, but no sessions.
 * Memory per node: its own sessions, dir_homes / N of everyone's, and
 * what it was taught.
 */
#ifndef STEER_GOSSIP_DIR_H
#define STEER_GOSSIP_DIR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/hrw.h"
#include "gossip/gossip_codec.h"

struct gossip;

/* Records waiting in the outbox at most. */
#define GOSSIP_DIR_OUT_MAX (1u << 20)
/* A change of the live set waits this long for more before the rehome. */
#define GOSSIP_DIR_REHOME_MS 100
/* Orders remembered (their copies refused). */
#define GOSSIP_ORDERS_SEEN 16

struct gossip_dir_out {
	uint16_t to;
	uint8_t copy; /* copies of one update go in different datagrams */
	struct gossip_update u; /* a session record, a hint or an order */
};

struct gossip_dir {
	struct gossip_dir_out *q; /* outbox, sent at the next push */
	uint32_t n, cap;
	struct hrw_node *live; /* live members, ourselves included */
	uint32_t n_live, cap_live;
	bool live_stale;
	uint64_t next_refresh;
	uint64_t rehome_at; /* UINT64_MAX: no rehome waits */
	/* Orders received lately, so that copies apply once. */
	struct {
		uint16_t from;
		uint64_t id;
	} orders_seen[GOSSIP_ORDERS_SEEN];
	uint32_t orders_next;
	/* Asks: a token bucket of GOSSIP_ASK_RATE a second. */
	uint32_t ask_tokens;
	uint64_t ask_at; /* when the bucket was last filled */
};

bool gossip_dir_on(const struct gossip *g);
void gossip_dir_init(struct gossip *g);
void gossip_dir_free(struct gossip_dir *d);

/* A session of ours changed (u): to its homes. */
void gossip_dir_own(struct gossip *g, const struct gossip_session_update *u);
/* A record held here changed (u): to the nodes it was taught. */
void gossip_dir_changed(struct gossip *g,
			const struct gossip_session_update *u);
/* A member became live or stopped being live, or restarted. */
void gossip_dir_live_changed(struct gossip *g);

/* Refresh, rehome and expiry, when due. */
void gossip_dir_tick(struct gossip *g);
uint64_t gossip_dir_deadline(const struct gossip *g);
/* Send the outbox (called with the push). */
void gossip_dir_flush(struct gossip *g);

/* A received hint (its datagram's sender is g->rx_sender): 1 when the
 * hint callback saw it, 0 when refused (counted). */
int gossip_hint_apply(struct gossip *g, const struct gossip_hint_update *h);

/* A received order: 1 when the order callback saw it; 0 for a copy of
 * one seen, or refused (not for us, or not from its sender: counted). */
int gossip_order_apply(struct gossip *g, const struct gossip_order_update *o);

/* A received ask: 1 when it was about a session of ours (answered: the
 * record to its homes and the asker), 0 otherwise; refused (counted)
 * unless the asker sent it. */
int gossip_ask_apply(struct gossip *g, const struct gossip_ask_update *a);

#endif /* STEER_GOSSIP_DIR_H */
