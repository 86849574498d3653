/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-flow statistics of a replay: every flow seen, however long the
 * capture, unlike the FSC, which forgets idle and evicted flows. Grows
 * as needed (open addressing, load <= 1/2).
 */
#ifndef STEER_FLOWSTATS_H
#define STEER_FLOWSTATS_H

#include <stdint.h>
#include <stdio.h>

#include <steer/flow.h>
#include <steer/rule.h>

struct flowstat {
	struct flow_key key;
	uint64_t packets;
	uint64_t bytes; /* IP bytes of the (inner) packets */
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t dropped;
	uint16_t target; /* node or backend of the last packet sent on */
	uint16_t owner;
	uint16_t mirror[STEER_MAX_MIRRORS];
	uint8_t rf;
	uint8_t action; /* enum steer_action of the last packet */
	uint8_t used;
};

struct flowstats {
	struct flowstat *slots;
	uint32_t cap; /* power of two */
	uint32_t count;
};

int flowstats_init(struct flowstats *fs);
void flowstats_free(struct flowstats *fs);

/* The stat of k, created zeroed on first sight; NULL with ENOMEM. */
struct flowstat *flowstats_get(struct flowstats *fs, const struct flow_key *k);

/* Write every flow as CSV with a header line; 0 or -errno. */
int flowstats_write_csv(const struct flowstats *fs, FILE *out);

#endif /* STEER_FLOWSTATS_H */
