/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exception datagrams a cell holds back while the state of their shard is
 * on its way: a cell that restarted is primary of shards whose flows its
 * mirrors hold, and deciding a flow before their hand-back arrives could
 * pick another backend for a live connection. A shard waits until its
 * hand-back ends or its deadline passes; its datagrams wait with it, up to
 * a fixed number (beyond: dropped and counted, TCP sends again), and are
 * handed to the caller, in arrival order, when the shard is released.
 */
#ifndef STEER_CELL_HOLD_H
#define STEER_CELL_HOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "steer_kern_user.h"

#define HOLD_MAX 1024	    /* datagrams held at most */
#define HOLD_DGRAM_MAX 2048 /* longer ones are not held (dropped) */

struct hold_stats {
	uint64_t held;	   /* datagrams held */
	uint64_t released; /* ... handed back to the caller */
	uint64_t dropped;  /* not held: full, or too long */
	uint64_t waits;	   /* shards that waited */
	uint64_t timeouts; /* ... released by their deadline */
};

struct hold;

/* NULL with errno ENOMEM. */
struct hold *hold_new(void);
void hold_free(struct hold *h);

/* Shard waits until hold_done() or deadline_ms (the caller's clock). */
void hold_wait(struct hold *h, uint32_t shard, uint64_t deadline_ms);
bool hold_waiting(const struct hold *h, uint32_t shard);
/* Shard's state is here: it waits no more. */
void hold_done(struct hold *h, uint32_t shard);

/* Keep a copy of datagram dg of shard (waiting). 0, or -ENOSPC when
 * dropped (counted). */
int hold_put(struct hold *h, uint32_t shard, const uint8_t *dg, size_t len);

/*
 * Release the shards whose deadline is past now_ms, then hand every
 * datagram of a shard no longer waiting to fn, oldest first (fn may
 * hold again: it is not called twice for one datagram in one call).
 */
void hold_release(struct hold *h, uint64_t now_ms,
		  void (*fn)(void *arg, uint8_t *dg, size_t len), void *arg);

/* Shards waiting now. */
uint32_t hold_waiting_count(const struct hold *h);
const struct hold_stats *hold_stats(const struct hold *h);

#endif /* STEER_CELL_HOLD_H */
