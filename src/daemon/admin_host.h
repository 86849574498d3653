/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the admin socket shows of host mode and gossip, beside the fast
 * path's own answers (admin.c): the XDP program's and the sock_ops
 * program's counters, the host module's, the gossip node's; the
 * templates the kernel's next hops gave. Cell mode (admin_cell.h) shows
 * its XDP program and its templates with the same functions.
 */
#ifndef STEER_ADMIN_HOST_H
#define STEER_ADMIN_HOST_H

#include <stdbool.h>

#include "daemon/jsonw.h"

struct steerd;
struct node_tmpls;
struct xdp_prog;

/* Objects "xdp", "sockops", "host", "gossip" of what runs. */
void admin_host_counters(struct steerd *d, struct jsonw *w);

/*
 * Objects "xdp", "xdp_action", "xdp_parse_err", "xdp_drop": the counters
 * of program x; nothing when they cannot be read. cell adds to "xdp"
 * "exceptions_in" (exception GUE this node's cell received) and
 * "close_to_cell" (FIN/RST this fast path sent to a flow's cell).
 */
void admin_host_xdp(struct jsonw *w, struct xdp_prog *x, bool cell);

/*
 * Array "templates": one object per template t holds (host mode: one per
 * other node). With targets (cell mode), each also says what it reaches
 * ("node", "self" or "backend"), its slot in steer_tmpls, its kind and
 * port.
 */
void admin_host_templates(struct steerd *d, const struct node_tmpls *t,
			  bool targets, struct jsonw *w);

#endif /* STEER_ADMIN_HOST_H */
