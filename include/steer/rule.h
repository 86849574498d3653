/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * What the fast path does with a flow: the rewriting rule cached per flow
 * by the XDP program and by its userspace twin, and the mirroring profile
 * that travels with it. Shared by kernel and userspace: fixed-width only.
 */
#ifndef STEER_RULE_H
#define STEER_RULE_H

#include "compiler.h"

enum steer_action {
	STEER_ACT_NONE = 0,	 /* empty slot / no decision yet */
	STEER_ACT_LOCAL = 1,	 /* this node owns the flow: to the stack */
	STEER_ACT_STEER = 2,	 /* GUE variant 0 to the owner node */
	STEER_ACT_BACKEND = 3,	 /* rewriting rule: encapsulate to a backend */
	STEER_ACT_EXCEPTION = 4, /* to the primary cell's exception path */
	STEER_ACT_DROP = 5,
	/* Host mode: a session predicted to migrate here, from the
	 * predictive header cache (a hint of its owner): GUE to the owner
	 * with the hint flag. Never written over a rule a record gave. */
	STEER_ACT_HINT = 6,
	STEER_ACT__MAX
};

#define STEER_NODE_NONE 0xffff
#define STEER_MAX_MIRRORS 2 /* mirror cells held in a fast-path entry */

/*
 * A rule: 24 bytes. owner is the owner node (host mode) or primary cell
 * (cell mode); tmpl indexes the template table (one per node, backend or
 * predicted (flow, target) pair). rf counts the primary, so rf - 1 of
 * mirror[] are valid. used (cell mode's BACKEND rules, host mode's HINT
 * rules): when a packet last
 * met the rule, in units of 2^30 ns of the coarse monotonic clock
 * (STEER_RULE_USED_SHIFT), written by the fast path only when it changes;
 * the daemon drops rules idle past the flow's timeout. tele: 0, or the
 * flow's telemetry slot + 1 when the daemon tracks it in detail (the XDP
 * program's steer_ftele; src/node/xdp_tele.h), set by the daemon only.
 */
#define STEER_RULE_USED_SHIFT 30
struct steer_rule {
	__u32 epoch;
	__u16 owner;
	__u16 tmpl;
	__u16 mirror[STEER_MAX_MIRRORS];
	__u8 action; /* enum steer_action */
	__u8 rf;
	__be16 sport; /* outer UDP source port from the flow hash; 0: none
			 stored, the fast path computes it */
	__u32 used;
	__u32 tele;
};

#endif /* STEER_RULE_H */
