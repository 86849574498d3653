/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the admin socket shows of host mode and gossip, beside the fast
 * path's own answers (admin.c): the XDP program's and the sock_ops
 * program's counters, the host module's, the gossip node's; the
 * templates the kernel's next hops gave.
 */
#ifndef STEER_ADMIN_HOST_H
#define STEER_ADMIN_HOST_H

#include "daemon/jsonw.h"

struct steerd;

/* Objects "xdp", "sockops", "host", "gossip" of what runs. */
void admin_host_counters(struct steerd *d, struct jsonw *w);

/* Array "templates" of host mode (one per other node). */
void admin_host_templates(struct steerd *d, struct jsonw *w);

#endif /* STEER_ADMIN_HOST_H */
