/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP program's flow telemetry maps (steer_kern_user.h): the slots of
 * the flows tracked in detail (steer_ftele) and the candidates its
 * sampling named since the last round (steer_tele_cand). A flow's rule
 * points at its slot (xdp_maps_rule_tele()). Each call is one or a few
 * map operations; src/node/xdp_tele.h decides which flows get slots.
 */
#ifndef STEER_XDP_TELE_MAPS_H
#define STEER_XDP_TELE_MAPS_H

#include <stdint.h>

#include "steer_kern_user.h"
#include "xdp/xdp_prog.h"

/* Zero slot i, its generation set to gen: 0 or -errno. */
int xdp_tele_slot_reset(struct xdp_prog *x, uint32_t i, uint32_t gen);

/* Slots 0..n-1 into out[] (n <= STEER_XDP_TELE_SLOTS): 0 or -errno. */
int xdp_tele_slots_read(struct xdp_prog *x, struct steer_flow_tele *out,
			uint32_t n);

/*
 * Take the candidates: each flow the sampling named and how many times,
 * removed from the map as read, at most max of them into keys[]/samples[].
 * The number taken, or -errno.
 */
int xdp_tele_cands_take(struct xdp_prog *x, struct flow_key *keys,
			uint32_t *samples, uint32_t max);

#endif /* STEER_XDP_TELE_MAPS_H */
