/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The predictive header cache's second level (node/phc.h): hinted
 * sessions on disk, in an LMDB environment of their own. Key: the flow
 * key (40 bytes, as the fast path keys it); value (24 bytes, little
 * endian): version 1 u8, 0 u8, owner u16, probability u16 (permille),
 * 0 u16, epoch u32, expiry u64 (wall-clock ms), 0 u32.
 *
 * Writes are gathered and committed together (phc_store_commit), one
 * transaction, synced: LMDB's copy-on-write B+tree means a process
 * killed at any point leaves the last committed state, never a torn one,
 * so a restarted daemon warms its first level from what is here. A value
 * that does not decode (another version, a truncated write of some other
 * program) is skipped and counted, never trusted.
 */
#ifndef STEER_NODE_PHC_STORE_H
#define STEER_NODE_PHC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>

#define PHC_VALUE_LEN 24
#define PHC_VALUE_VERSION 1

/* One cached session, as both levels hold it. */
struct phc_entry {
	struct flow_key key;
	uint16_t owner;
	uint16_t p_permille; /* 1..1000 */
	uint32_t epoch;
	uint64_t expires_ms; /* wall clock */
};

/* Encode e's value into out[PHC_VALUE_LEN]. */
void phc_value_encode(const struct phc_entry *e, uint8_t *out);
/* Decode a value into e (key untouched): 0, or -EBADMSG for a wrong
 * length, version, a nonzero pad, owner STEER_NODE_NONE or p outside
 * 1..1000. */
int phc_value_decode(const void *v, size_t len, struct phc_entry *e);

struct phc_store;

/*
 * Open (creating) the environment in directory dir with a map of
 * map_bytes. NULL with errno and the reason in err.
 */
struct phc_store *phc_store_open(const char *dir, size_t map_bytes, char *err,
				 size_t errlen);
void phc_store_close(struct phc_store *s);

/* Gather a write or a delete for the next commit (-ENOMEM). */
int phc_store_put(struct phc_store *s, const struct phc_entry *e);
int phc_store_del(struct phc_store *s, const struct flow_key *k);
/* Write what was gathered in one transaction: 0 or -errno (-ENOSPC: the
 * map is full; nothing of this batch was written). */
int phc_store_commit(struct phc_store *s);

/*
 * Call fn for every entry that decodes (those that do not are counted in
 * *bad when bad is not NULL). fn returns 0 to go on. Returns 0, fn's
 * nonzero value, or -errno.
 */
typedef int (*phc_store_fn)(const struct phc_entry *e, void *arg);
int phc_store_walk(struct phc_store *s, phc_store_fn fn, void *arg,
		   uint64_t *bad);

/* Entries held (committed). */
uint64_t phc_store_count(struct phc_store *s);

#endif /* STEER_NODE_PHC_STORE_H */
