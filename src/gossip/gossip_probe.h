/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SWIM failure detection with Lifeguard's refinements.
 *
 * Round robin: each probe interval one member (randomised round robin)
 * gets a ping; without an ack by the probe timeout it gets a second ping
 * and k others are asked to ping it for us (ping-req), answering with its
 * ack or a nack; without any ack one more probe timeout later the member
 * is suspected.
 *
 * Suspects are probed again out of turn (verification), in slots of
 * their own so the round robin never waits: by the member that raised
 * the suspicion, one interval later, and at once by about `verifiers`
 * of the members that hear of it. A verification that fails confirms the
 * suspicion (Lifeguard's independent confirmations, which shorten its
 * timeout); every ping to a suspect carries the suspicion itself
 * (Lifeguard's buddy system), so a live suspect learns of it from the
 * ping and refutes it in the ack.
 *
 * Local health (Lifeguard): a score that grows when our probes fail with
 * helpers missing their nacks (or with no helper at all) and when we are
 * suspected ourselves, and shrinks with every ack; it stretches our probe
 * interval and timeouts, so a slow or cut-off node stops accusing
 * healthy ones.
 */
#ifndef STEER_GOSSIP_PROBE_H
#define STEER_GOSSIP_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/gossip_codec.h"

struct gossip;

#define GOSSIP_MAX_RELAYS 16
/* Slot 0 is the round robin's, the others verify suspects. */
#define GOSSIP_PROBE_SLOTS 5

/* A ping we send on behalf of a member that asked with ping-req. */
struct gossip_relay {
	bool used;
	struct gossip_addr requester;
	uint32_t req_seq;
	uint32_t my_seq;
	uint64_t deadline; /* send a nack then */
};

struct gossip_probe_slot {
	bool active;
	bool indirect;
	uint16_t target;
	uint32_t inc; /* the target's incarnation when the probe began */
	uint32_t seq;
	uint64_t timeout_at; /* direct wait over: ping again, ping-req */
	uint64_t end_at;     /* no ack by then: failed */
	uint32_t nack_expect;
	uint32_t nack_got;
};

struct gossip_probe {
	struct gossip_probe_slot slot[GOSSIP_PROBE_SLOTS];
	uint64_t next_at;     /* next round-robin probe */
	uint64_t verify_next; /* earliest verify_at among members */
	uint32_t next_seq;
	uint16_t *order; /* this round's targets, shuffled */
	uint32_t n_order;
	uint32_t pos;
	uint32_t cap_order;
	struct gossip_relay relays[GOSSIP_MAX_RELAYS];
};

void gossip_probe_free(struct gossip_probe *p);
void gossip_probe_tick(struct gossip *g);
uint64_t gossip_probe_deadline(const struct gossip *g);

/* Verify member id (a suspect) by a probe at `at` (io clock). */
void gossip_probe_verify_at(struct gossip *g, uint16_t id, uint64_t at);

void gossip_probe_on_ping(struct gossip *g, const struct gossip_msg *m,
			  const struct gossip_addr *from);
void gossip_probe_on_ack(struct gossip *g, const struct gossip_msg *m);
void gossip_probe_on_nack(struct gossip *g, const struct gossip_msg *m);
void gossip_probe_on_ping_req(struct gossip *g, const struct gossip_msg *m,
			      const struct gossip_addr *from);

/* Lifeguard local health score changes, clamped to [0, max_health]. */
void gossip_health_add(struct gossip *g, int delta);
/* ms stretched by the local health: ms * (health + 1). */
uint64_t gossip_health_scaled(const struct gossip *g, uint32_t ms);

#endif /* STEER_GOSSIP_PROBE_H */
