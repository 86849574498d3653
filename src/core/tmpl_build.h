/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Building templates (include/steer/tmpl.h) for a target: outer Ethernet
 * addresses, outer IP addresses and, for GUE, the destination port and
 * this node's id. Everything per packet is left zero for
 * steer_tmpl_apply() to fill.
 */
#ifndef STEER_TMPL_BUILD_H
#define STEER_TMPL_BUILD_H

#include <stdint.h>

#include <steer/flow.h>
#include <steer/tmpl.h>

struct tmpl_spec {
	enum steer_tmpl_kind kind;
	uint8_t src_mac[6];	/* this node's interface */
	uint8_t dst_mac[6];	/* the target's, or the gateway's */
	struct flow_addr saddr; /* IPv4 as v4-mapped; family from daddr */
	struct flow_addr daddr;
	__be16 dport;	 /* GUE kinds: UDP destination port */
	uint16_t origin; /* GUE0: this node's id */
	uint8_t ttl;	 /* 0: 64 */
};

/*
 * Fill t from spec. Returns 0, or -EINVAL for an unknown kind or when
 * saddr and daddr are not of one family.
 */
int tmpl_build(struct steer_tmpl *t, const struct tmpl_spec *spec);

#endif /* STEER_TMPL_BUILD_H */
