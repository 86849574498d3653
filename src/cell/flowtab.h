/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Flow table of a cell (cell mode): the authoritative state of the flows
 * this cell is primary for, and the replicas of the flows it mirrors.
 *
 * The unit of state is struct flowtab_rec, which replication copies to the
 * mirrors as it is. Every record carries a version; the merge rule, the
 * same on every cell, is: a record whose version is higher than the one
 * held replaces it, an equal or lower one is ignored. A close is a record
 * too (state FLOWTAB_ST_CLOSED) and obeys the same rule, so a mirror never
 * applies an older version of a flow over a newer one, whatever order
 * records arrive in. Closed records stay as tombstones for
 * closed_timeout_ms so that an older record arriving late (a resync
 * snapshot taken before the close) cannot bring the flow back.
 *
 * Versions come from a clock: (ms since the Unix epoch << 16) | counter,
 * raised Lamport-style above every version the table has issued or
 * applied. So versions keep growing across restarts of a primary (its
 * wall clock has moved on, and a restarted cell usually resyncs from its
 * mirrors first, which raises the clock too), a mirror promoted to
 * primary issues versions above those its former primary sent, and up to
 * 65,536 changes per millisecond stay ordered (beyond that the counter
 * borrows from the next milliseconds: still monotonic). The clock is read
 * when the caller's now has moved since the last reading, or after 4,096
 * versions, not for every version.
 *
 * Memory is fixed at creation: capacity entries of 104 bytes (the record
 * and the table's links), one 4-byte bucket per entry, and per-shard list
 * heads and counts; nothing is allocated per insert. When every entry is
 * in use, create and apply fail with -ENOSPC after reclaiming expired
 * tombstones: live state is never evicted, because a cell that silently
 * dropped a flow would break the connection it carries.
 *
 * Each flow belongs to a shard, flow_hash(key, secret) & (FLOWTAB_SHARDS
 * - 1), the unit replication and resync work on; the entries of a shard
 * form a list, so a shard is walked in time proportional to its flows.
 *
 * Time: the now arguments and the record's created_ms/last_ms are one
 * 32-bit wrapping millisecond clock. Records applied from another cell
 * must carry times on this table's clock: either every cell uses the low
 * 32 bits of CLOCK_REALTIME, or replication rebases the primary's times
 * on receipt (tombstones age by their last_ms, and a promoted mirror
 * expires flows by theirs). Comparisons are modulo 2^32, so
 * flowtab_expire() must visit every entry at least once every 24 days.
 *
 * Not thread-safe: one table per thread, or a lock around every call.
 */
#ifndef STEER_FLOWTAB_H
#define STEER_FLOWTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>
#include <steer/hash.h>
#include <steer/rule.h>

#include "steer_kern_user.h"

/*
 * Shards of the flow space: the fast path's (steer_shards), so a flow's
 * shard here is the one whose cell the fast path sends its misses to.
 */
#define FLOWTAB_SHARDS STEER_SHARDS

#define FLOWTAB_MAX_CAPACITY (1u << 28)
#define FLOWTAB_MAX_RF (1 + STEER_MAX_MIRRORS) /* the primary and mirrors */

/* rec->state. 0 is never in a record: it marks a free entry. */
enum flowtab_state {
	FLOWTAB_ST_NEW = 1, /* created; TCP: handshake not seen ending */
	FLOWTAB_ST_ESTABLISHED = 2, /* TCP: a segment without SYN seen */
	FLOWTAB_ST_CLOSING = 3,	    /* TCP: FIN or RST seen */
	FLOWTAB_ST_CLOSED = 4,	    /* closed or expired: a tombstone */
};

/*
 * The state of one flow, replicated as it is: fixed-width fields, no
 * implicit padding. The key is in network byte order (as parsed); every
 * other field is in host order, which the replication codec converts.
 * Counters and times wrap.
 */
struct flowtab_rec {
	struct flow_key key; /* pad bytes zero */
	uint64_t version;    /* > 0 and < 2^63; see the merge rule above */
	uint32_t epoch;	     /* owner epoch of the primary */
	uint32_t created_ms;
	uint32_t last_ms; /* last packet, or the close for a tombstone */
	uint32_t packets;
	uint32_t bytes;
	uint16_t backend;		    /* backend id */
	uint16_t service;		    /* service index */
	uint16_t primary;		    /* primary cell */
	uint16_t mirror[STEER_MAX_MIRRORS]; /* STEER_NODE_NONE when unused */
	uint8_t rf;	   /* replication factor, counting the primary: 1..3 */
	uint8_t state;	   /* enum flowtab_state */
	uint8_t tcp_flags; /* OR of the TCP flags seen */
	uint8_t reserved[7]; /* zero */
};

_Static_assert(sizeof(struct flowtab_rec) == 88, "a flow record is 88 bytes");

/* What the primary decides when it creates a flow. */
struct flowtab_params {
	uint32_t epoch;
	uint16_t backend;
	uint16_t service;
	uint16_t primary;
	uint16_t mirror[STEER_MAX_MIRRORS];
	uint8_t rf; /* 1..FLOWTAB_MAX_RF */
};

struct flowtab_cfg {
	uint32_t capacity; /* flows; rounded up to a power of two >= 64 */
	/* The cluster's flow hash secret: shards must agree across nodes. */
	struct steer_hash_secret secret;
	/*
	 * This cell. flowtab_expire() idles out only the flows whose primary
	 * is self_id (all of them for STEER_NODE_NONE): a mirror cannot tell
	 * an idle flow from one whose primary had no state change to send,
	 * so replicas leave on the primary's close record or by resync.
	 */
	uint16_t self_id;
	/* Idle timeouts (at most 2^31 - 1 ms). */
	uint32_t tcp_timeout_ms;	 /* TCP established */
	uint32_t tcp_closing_timeout_ms; /* TCP closing (FIN or RST seen) */
	uint32_t tcp_opening_timeout_ms; /* TCP new; 0: the closing one */
	/*
	 * Under pressure (flowtab_pressure_set()): a TCP flow still new
	 * whose record nothing refreshed since its first packet (no packet,
	 * no flowtab_seen()): a half-open connection, as a SYN flood leaves
	 * them, idles out after this instead; 0: never.
	 */
	uint32_t tcp_halfopen_timeout_ms;
	uint32_t udp_timeout_ms;
	uint32_t other_timeout_ms;
	uint32_t closed_timeout_ms; /* how long a tombstone stays */
	/* Version clock, ms since the Unix epoch; NULL: CLOCK_REALTIME. */
	uint64_t (*clock_ms)(void *arg);
	void *clock_arg;
	/*
	 * Optional: called with every record this table changes itself
	 * (create, a touch that changes the state, close, expiry), that is
	 * every record replication must send. Not called for apply or
	 * delete. The callback must not change the table.
	 */
	void (*on_change)(const struct flowtab_rec *r, void *arg);
	void *on_change_arg;
	/*
	 * Optional: a live flow of this cell (see self_id) ends: a FIN or
	 * RST makes it closing, or it is closed or idles out first. Called
	 * once, with its record as it ended (last_ms that packet, the
	 * close, or its last packet or use when it idled out), with
	 * on_change_arg. It must not change the table.
	 */
	void (*on_end)(const struct flowtab_rec *r, void *arg);
};

struct flowtab_stats {
	uint64_t lookups;
	uint64_t hits;
	uint64_t created;
	uint64_t applied;	   /* records that replaced or added state */
	uint64_t ignored_older;	   /* records not newer than the one held */
	uint64_t full;		   /* -ENOSPC: create or apply with no room */
	uint64_t invalid;	   /* records refused with -EINVAL */
	uint64_t state_changes;	   /* touches that bumped the version */
	uint64_t closed;	   /* flowtab_close() */
	uint64_t expired;	   /* live flows closed by idle timeout */
	uint64_t reclaimed;	   /* tombstones freed */
	uint64_t deleted;	   /* flowtab_delete() */
	uint64_t halfopen_expired; /* ... of expired, half-open under
				      pressure */
};

struct flowtab;

/* Walk callback: non-zero stops the walk and is returned by it. */
typedef int (*flowtab_walk_fn)(const struct flowtab_rec *r, void *arg);

/*
 * Defaults: 300 s TCP established, 10 s TCP opening/closing, 30 s UDP
 * and other, 10 s tombstones, self_id STEER_NODE_NONE, a zero secret
 * (set the cluster's), the realtime clock, no callback.
 */
void flowtab_cfg_default(struct flowtab_cfg *cfg, uint32_t capacity);

/*
 * A new, empty table. NULL with errno EINVAL (capacity 0 or above
 * FLOWTAB_MAX_CAPACITY, a timeout above 2^31 - 1 ms) or ENOMEM.
 */
struct flowtab *flowtab_new(const struct flowtab_cfg *cfg);
void flowtab_free(struct flowtab *t);

/* The live record of key, or NULL (also for a tombstone). */
const struct flowtab_rec *flowtab_lookup(struct flowtab *t,
					 const struct flow_key *key);

/* The record of key, tombstones included, or NULL. Counts nothing. */
const struct flowtab_rec *flowtab_lookup_any(const struct flowtab *t,
					     const struct flow_key *key);

/*
 * Merge a record from elsewhere (the primary, a resync) by the merge
 * rule. Returns 1 when applied (added, replaced, or turned into a
 * tombstone), 0 when ignored because the record held is as new or newer,
 * -ENOSPC when the flow is not held and no entry is free (the table is
 * unchanged), -EINVAL for an invalid record (version 0 or >= 2^63, state
 * not a flowtab_state, a bad profile, non-zero key padding). A profile is
 * good when primary is a node, rf is 1..FLOWTAB_MAX_RF, the first rf - 1
 * mirrors are nodes and the others STEER_NODE_NONE (steer_rule's rule).
 * Raises the table's version clock to r->version.
 */
int flowtab_apply(struct flowtab *t, const struct flowtab_rec *r, uint32_t now);

/*
 * A new version for a record this cell takes over (it adopts another
 * cell's flow): above floor and above every version the table has issued
 * or applied, from the clock as a create's (never fails). Two cells that
 * take the same record over, each its shard's primary by a map of its
 * own for a moment, so give it different versions (floor + 1 on both
 * would tie, and a tie never merges: both keep their owner's name).
 */
uint64_t flowtab_version_next(struct flowtab *t, uint64_t floor, uint32_t now);

/*
 * The primary creates a flow: state NEW, a fresh version, zero counters,
 * created_ms = last_ms = now. Replaces a tombstone of key. Returns the
 * record, or NULL with errno EEXIST (a live flow of key exists), ENOSPC
 * (no entry free), EINVAL (a bad profile, as for flowtab_apply();
 * non-zero key padding). Calls on_change.
 */
const struct flowtab_rec *flowtab_create(struct flowtab *t,
					 const struct flow_key *key,
					 const struct flowtab_params *p,
					 uint32_t now);

/*
 * Account one packet of len bytes with TCP flags tcp_flags (0 for other
 * protocols) at now: counters, last_ms, tcp_flags, and TCP's state: FIN or
 * RST -> CLOSING; NEW and a segment without SYN -> ESTABLISHED; CLOSING
 * and a SYN without ACK -> NEW (the 5-tuple reused: counters and
 * created_ms start again). Only a state change bumps the version (and
 * calls on_change): counters are not worth a replication message each.
 * Returns 1 when the state changed, 0 when not, -ENOENT when key has no
 * live flow. Meant for the primary; mirrors learn by flowtab_apply().
 */
int flowtab_touch(struct flowtab *t, const struct flow_key *key, uint32_t len,
		  uint8_t tcp_flags, uint32_t now);

/*
 * Packets of key met its rule on a fast path lately (the cell does not see
 * them): last_ms = now when that is later, so the flow does not idle out.
 * No version, no counters, no on_change. 0, or -ENOENT when key has no
 * live flow.
 */
int flowtab_seen(struct flowtab *t, const struct flow_key *key, uint32_t now);

/*
 * The primary closes a flow: it becomes a tombstone (CLOSED, a fresh
 * version, last_ms = now) and on_change is called with the record that
 * tells the mirrors. 0, or -ENOENT when key has no live flow.
 */
int flowtab_close(struct flowtab *t, const struct flow_key *key, uint32_t now);

/*
 * Forget key at once, tombstone or not, without a version: for resync
 * (a flow absent from the primary's snapshot) and administration. 0, or
 * -ENOENT.
 */
int flowtab_delete(struct flowtab *t, const struct flow_key *key);

/*
 * Visit up to budget entries from where the last call stopped. A flow of
 * this cell (see self_id) idle past its timeout becomes a tombstone with
 * a fresh version (on_change tells replication); a tombstone older than
 * closed_timeout_ms is freed. Returns the number of flows expired.
 */
uint32_t flowtab_expire(struct flowtab *t, uint32_t now, uint32_t budget);

/*
 * Visit up to budget entries from where the last call stopped (a cursor
 * of its own, not flowtab_expire()'s), calling fn for each live flow
 * (tombstones skipped). fn must not change the table. Returns the flows
 * visited.
 */
uint32_t flowtab_visit(struct flowtab *t, uint32_t budget,
		       void (*fn)(const struct flowtab_rec *r, void *arg),
		       void *arg);

/* The shard of key: flow_hash(key, secret) & (FLOWTAB_SHARDS - 1). */
uint32_t flowtab_shard_of(const struct flowtab *t, const struct flow_key *key);

/*
 * Call fn for every record of shard, tombstones included (resync must
 * carry closes), in no particular order. fn may apply, touch, close or
 * delete the record it is given, but must not delete another one nor
 * create; records added during the walk may be missed. Returns 0, the
 * first non-zero value of fn, or -EINVAL for shard >= FLOWTAB_SHARDS.
 */
int flowtab_shard_walk(struct flowtab *t, uint32_t shard, flowtab_walk_fn fn,
		       void *arg);

/* Records (live and tombstones) of shard; 0 for a bad shard. */
uint32_t flowtab_shard_count(const struct flowtab *t, uint32_t shard);

uint32_t flowtab_count(const struct flowtab *t); /* live + tombstones */
uint32_t flowtab_tombstones(const struct flowtab *t);
uint32_t flowtab_capacity(const struct flowtab *t);

/*
 * Pressure on (the owner's call, e.g. the table three quarters full):
 * half-open TCP flows idle out after tcp_halfopen_timeout_ms; off: after
 * their usual timeout.
 */
void flowtab_pressure_set(struct flowtab *t, bool on);
bool flowtab_pressure(const struct flowtab *t);
size_t flowtab_memory(const struct flowtab *t); /* every byte it holds */
void flowtab_get_stats(const struct flowtab *t, struct flowtab_stats *st);

#endif /* STEER_FLOWTAB_H */
