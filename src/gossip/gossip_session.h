/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The gossiped session table: flow key -> owner, epoch, established or
 * closed. Merge rule (the same on every node, so all converge): a higher
 * epoch wins; at equal epochs a close beats an establish, then the higher
 * owner id wins. Closed entries stay as tombstones for a while so a late
 * copy of the establish cannot bring the session back.
 */
#ifndef STEER_GOSSIP_SESSION_H
#define STEER_GOSSIP_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/hash.h>

#include "gossip/gossip.h"

#define GOSSIP_DIR_TAUGHT 4 /* taught nodes remembered per record */

struct gossip_session {
	struct gossip_session *next;
	struct gossip_session_info info;
	uint64_t changed_ms;
	uint64_t seen_ms; /* changed, or the same record received again */
	/* Directory: nodes this home taught the record (STEER_NODE_NONE:
	 * free), told of its changes; the oldest gives way. */
	uint16_t taught[GOSSIP_DIR_TAUGHT];
	uint8_t taught_next;
};

struct gossip_sessions {
	struct gossip_session **b;
	uint32_t nb; /* power of two */
	uint32_t n;
	uint32_t n_established;
	struct steer_hash_secret secret;
};

int gossip_sessions_init(struct gossip_sessions *s, uint64_t seed);
void gossip_sessions_free(struct gossip_sessions *s);

const struct gossip_session *
gossip_sessions_find(const struct gossip_sessions *s, const struct flow_key *k);

/*
 * Merge u at time now. Returns 1 when the table changed (*out then holds
 * the new entry), 0 when u lost to what is held (the same record again
 * marks the entry seen), -ENOMEM.
 */
int gossip_sessions_apply(struct gossip_sessions *s,
			  const struct gossip_session_update *u, uint64_t now,
			  struct gossip_session_info *out);

/* Drop entry k (no tombstone); 0 or -ENOENT. */
int gossip_sessions_remove(struct gossip_sessions *s, const struct flow_key *k);

/* Drop tombstones older than ttl_ms. */
void gossip_sessions_expire(struct gossip_sessions *s, uint64_t now,
			    uint64_t ttl_ms);

/*
 * Walk: returns the entry after prev (NULL: start at bucket *bucket),
 * moving *bucket on; NULL at the end of the table (*bucket is reset).
 */
const struct gossip_session *
gossip_sessions_next(const struct gossip_sessions *s, uint32_t *bucket,
		     const struct gossip_session *prev);

void gossip_session_to_update(const struct gossip_session *e,
			      struct gossip_session_update *u);

#endif /* STEER_GOSSIP_SESSION_H */
