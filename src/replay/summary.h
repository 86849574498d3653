/* SPDX-License-Identifier: GPL-2.0-only */
/* The human summary of a replay: what happened to every packet and flow. */
#ifndef STEER_SUMMARY_H
#define STEER_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "core/cluster.h"
#include "fastpath/fastpath.h"
#include "replay/flowstats.h"

struct replay_summary {
	uint64_t packets;
	uint64_t duration_ns;
	uint64_t pass_local; /* this node's own flows */
	uint64_t pass_notip;
	uint64_t steered;
	uint64_t to_backend;
	uint64_t dropped;
	uint64_t *by_node;    /* packets steered, by node id */
	uint64_t *by_backend; /* packets sent, by backend id */
};

int summary_init(struct replay_summary *s);
void summary_free(struct replay_summary *s);
void summary_count(struct replay_summary *s, const struct fp_result *r);
void summary_print(const struct replay_summary *s, const struct cluster *c,
		   struct fastpath *fp, const struct flowstats *fs,
		   const char *in_name, FILE *out);

#endif /* STEER_SUMMARY_H */
