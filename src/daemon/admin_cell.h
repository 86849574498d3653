/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the admin socket shows of cell mode (daemon/cell.h), when steerd
 * runs a cell (d->cell): its counters, the records of its flow table and
 * its shard map. The XDP program's counters and the templates are shown
 * as host mode shows them (admin_host.h). Each function writes members
 * of the answer's "result" object; none fails.
 */
#ifndef STEER_ADMIN_CELL_H
#define STEER_ADMIN_CELL_H

#include <stdint.h>

#include "daemon/jsonw.h"

struct steerd;

/* Objects "xdp" (and xdp_*), "cell", "flowtab", "cell_ctl_rx". */
void admin_cell_counters(struct steerd *d, struct jsonw *w);

/*
 * "count", "tombstones", "capacity", "limit", then array "flows": up to
 * limit records of the flow table, shard by shard, tombstones included
 * (state "closed"): the flow, its state, backend, primary, mirrors and
 * rf (the mirroring profile), version, epoch, age and idle time in ms;
 * then "shown".
 */
void admin_cell_flows(struct steerd *d, uint32_t limit, struct jsonw *w);

/*
 * The shard map. shard < 0: a summary (live cells, rf, how many shards
 * this cell is primary and mirror of) and array "cells", one object per
 * live cell with its counts. shard >= 0 (below STEER_SHARDS): that
 * shard's cells in order (primary first), and the records this cell
 * holds of it.
 */
void admin_cell_shards(struct steerd *d, int32_t shard, struct jsonw *w);

#endif /* STEER_ADMIN_CELL_H */
