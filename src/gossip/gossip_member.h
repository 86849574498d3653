/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Member table and SWIM state rules: a member moves alive -> suspect ->
 * dead, or to left when it says goodbye; a higher incarnation number
 * (only ever raised by the member itself) brings it back to alive. A
 * suspicion of ourselves is refuted by raising our own incarnation.
 * Suspicion times out after a Lifeguard timeout that shrinks, on a log
 * scale, as independent members confirm it. A node declares a suspect
 * dead on its own timer only once its own probe of it has failed (when
 * the timeout comes first, it probes it then): a node that missed the
 * refutation does not turn it into a death, and the death of a member
 * that is really gone comes from the nodes that failed to reach it.
 */
#ifndef STEER_GOSSIP_MEMBER_H
#define STEER_GOSSIP_MEMBER_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/gossip.h"

#define GOSSIP_MAX_CONFIRM 8

struct gossip_member {
	uint16_t id;
	uint8_t state; /* enum gossip_state */
	uint32_t incarnation;
	struct gossip_addr addr;
	uint64_t state_ms;	   /* when state last changed */
	uint64_t suspect_start_ms; /* suspect: when the suspicion began */
	uint64_t suspect_deadline; /* suspect: when it becomes dead */
	uint16_t confirm[GOSSIP_MAX_CONFIRM]; /* distinct suspecters */
	uint8_t n_confirm;
	bool self_confirmed;	/* suspect: our own probe of it failed */
	uint64_t sync_reply_ms; /* last anti-entropy answer to it */
	uint64_t told_ms;	/* last time we told it it is suspect/dead */
	uint64_t verify_at;	/* suspect: probe it then (0: no) */
	bool has_load;
	struct gossip_load_update load;
	bool has_forecast;
	struct gossip_forecast_update forecast;
};

/* Sorted by id; pointers are valid until the next insert or remove. */
struct gossip_members {
	struct gossip_member *v;
	uint32_t n;
	uint32_t cap;
};

void gossip_members_free(struct gossip_members *t);
struct gossip_member *gossip_members_find(const struct gossip_members *t,
					  uint16_t id);
/* Insert a zeroed member with this id (which must be absent); NULL and
 * errno ENOMEM on failure. */
struct gossip_member *gossip_members_insert(struct gossip_members *t,
					    uint16_t id);
void gossip_members_remove(struct gossip_members *t, uint16_t id);

/* Members that are alive or suspect, ourselves included. */
uint32_t gossip_members_live(const struct gossip_members *t);

/*
 * Merge one member update into the table by the SWIM rules. A change is
 * queued for dissemination (and for an immediate push: see
 * gossip_enqueue) and reported to the member callback; a confirmation
 * of a suspicion already held is queued too, pushed only when it is
 * ours. Returns 1 when the table changed, 0 when the update was stale
 * or a repeat, -ENOMEM when a new member could not be added (nothing
 * changed).
 */
int gossip_member_apply(struct gossip *g, const struct gossip_member_update *u);

/* Our own probe of member id, which had incarnation inc when the probe
 * began, failed: suspect it, or confirm our suspicion. Nothing happens
 * when it has moved on to a higher incarnation meanwhile. */
void gossip_member_suspect(struct gossip *g, uint16_t id, uint32_t inc);

/*
 * A datagram from member id said its incarnation is inc: a member only
 * ever raises its own, so a higher one than we hold means it is alive
 * there (a refutation we missed). When we hold it suspect or dead at
 * that very incarnation it does not know: tell it (at most once per
 * probe interval) so that it refutes. Left members are left alone.
 */
void gossip_member_heard(struct gossip *g, uint16_t id, uint32_t inc,
			 const struct gossip_addr *from);

/* Merge a load report; returns 1 when it is newer than the one held. */
/* A newer forecast of a member: kept and passed on. 1 if applied. */
int gossip_member_forecast_apply(struct gossip *g,
				 const struct gossip_forecast_update *f);
int gossip_member_load_apply(struct gossip *g,
			     const struct gossip_load_update *l);

/* Expire suspicions into dead, forget long-dead members. */
void gossip_member_timers(struct gossip *g);

/* The update describing member m as we know it. */
void gossip_member_to_update(const struct gossip *g,
			     const struct gossip_member *m,
			     struct gossip_member_update *u);

void gossip_member_info_fill(const struct gossip_member *m,
			     struct gossip_member_info *out);

#endif /* STEER_GOSSIP_MEMBER_H */
