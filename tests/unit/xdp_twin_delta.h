/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For the tests that hold the XDP program and its userspace twin equal
 * (xdp_test, xdp_guard_test): what the twin counted over a packet, in
 * the XDP program's counter layout.
 */
#ifndef STEER_TEST_XDP_TWIN_DELTA_H
#define STEER_TEST_XDP_TWIN_DELTA_H

#include <string.h>

#include "fastpath/fastpath.h"
#include "steer_kern_user.h"

/* The twin's counters that moved over one packet, in the XDP layout. */
static inline void xdp_twin_delta(const struct fp_counters *a,
				  const struct fp_counters *b,
				  struct steer_xdp_stats *d)
{
	int i;

	memset(d, 0, sizeof(*d));
	d->rx_packets = b->rx_packets - a->rx_packets;
	d->rx_bytes = b->rx_bytes - a->rx_bytes;
	d->notip = b->notip - a->notip;
	d->decap = b->decap - a->decap;
	for (i = 0; i < STEER_ACT__MAX; i++)
		d->action[i] = b->action[i] - a->action[i];
	for (i = 0; i < PERR__MAX; i++)
		d->parse_err[i] = b->parse_err[i] - a->parse_err[i];
	for (i = 0; i < STEER_DROP__MAX; i++)
		d->drop[i] = b->drop[i] - a->drop[i];
	d->miss = b->miss - a->miss;
	d->exc_in = b->exc_in - a->exc_in;
	d->close_to_cell = b->close_to_cell - a->close_to_cell;
	d->tele_tick = b->tele_tick - a->tele_tick;
	d->tele_cand = b->tele_cand - a->tele_cand;
	d->tx_bytes = b->tx_bytes - a->tx_bytes;
	d->dir_rerouted = b->dir_rerouted - a->dir_rerouted;
	d->dir_asked = b->dir_asked - a->dir_asked;
	d->guard_over = b->guard_over - a->guard_over;
	d->guard_src_over = b->guard_src_over - a->guard_src_over;
	d->guard_stateless = b->guard_stateless - a->guard_stateless;
	d->guard_direct = b->guard_direct - a->guard_direct;
}

#endif /* STEER_TEST_XDP_TWIN_DELTA_H */
