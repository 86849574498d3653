/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Dissemination queue: updates waiting to ride on outgoing datagrams.
 * Each is sent a limited number of times (lambda * log(N+1), decided by
 * the caller); membership updates go first, then sessions, then load
 * reports, and within a class the least sent (the newest first among
 * the never sent) first. A newer update about the same subject (member,
 * flow, load of a node) replaces the one queued. When the queue is full
 * the most sent item of the lowest class is dropped: anti-entropy
 * repairs what it carried.
 *
 * An item may also be marked for an immediate push: the node sends such
 * items at once to a few members instead of waiting for the next gossip
 * round (gossip_dissem_take_push), and they stay queued for piggy-backing
 * until their transmissions, pushes included, reach the limit.
 *
 * Every operation costs O(1) per item it touches, whatever the queue
 * holds (a burst of sessions can fill it): items sit in one list per
 * (class, transmissions) and a hash on the subject finds the one an
 * update replaces.
 */
#ifndef STEER_GOSSIP_DISSEM_H
#define STEER_GOSSIP_DISSEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gossip/gossip_codec.h"

#define GOSSIP_DISSEM_CLASSES 3
/* Transmissions counted per item: a larger limit acts as this one. */
#define GOSSIP_DISSEM_TX_MAX 64

struct gossip_dissem_item {
	struct gossip_update u;
	uint32_t prev, next;   /* in its (class, transmits) list */
	uint32_t pprev, pnext; /* in its class's push list, if push */
	uint32_t hnext;	       /* subject hash chain */
	uint32_t hash;
	uint32_t stamp; /* the fill that last took it */
	uint8_t cls;
	uint8_t transmits;
	bool push; /* waiting for an immediate push */
	bool used;
};

struct gossip_dissem_list {
	uint32_t head, tail;
};

struct gossip_dissem {
	struct gossip_dissem_item *v; /* pool: used items and a free list */
	uint32_t cap;
	uint32_t n;	 /* items queued */
	uint32_t n_push; /* items with push set */
	uint32_t free_head;
	size_t bytes; /* wire size of the items queued */
	struct gossip_dissem_list tx[GOSSIP_DISSEM_CLASSES]
				    [GOSSIP_DISSEM_TX_MAX];
	struct gossip_dissem_list pushq[GOSSIP_DISSEM_CLASSES];
	uint32_t *htab; /* subject hash -> first item */
	uint32_t hsize; /* power of two, twice cap */
	uint32_t max_items;
	uint32_t stamp;
	uint64_t dropped;
};

void gossip_dissem_init(struct gossip_dissem *d, uint32_t max_items);
void gossip_dissem_free(struct gossip_dissem *d);

/*
 * Queue u (replacing an item about the same subject, whose pending push
 * carries over); with push, mark it for an immediate push. Returns 0 or
 * -ENOMEM (u is then not queued).
 */
int gossip_dissem_push(struct gossip_dissem *d, const struct gossip_update *u,
		       bool push);

/*
 * Take up to max items marked for push into out, members first, then
 * oldest first (a burst keeps its order), clear their mark and count
 * `sends` transmissions for each; an item sent limit times leaves the
 * queue. Returns how many were taken; the rest stay marked.
 */
uint32_t gossip_dissem_take_push(struct gossip_dissem *d,
				 struct gossip_update *out, uint32_t max,
				 uint32_t sends, uint32_t limit);

/*
 * Copy up to max updates that fit in room bytes of wire encoding into
 * out, best first; each copied item counts one transmission, and an item
 * sent limit times leaves the queue. Returns how many were copied.
 */
uint16_t gossip_dissem_fill(struct gossip_dissem *d, struct gossip_update *out,
			    uint16_t max, size_t room, uint32_t limit);

#endif /* STEER_GOSSIP_DISSEM_H */
