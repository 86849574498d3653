/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Health checks of backends: a TCP connect to each backend's address and
 * service port every interval, bounded by a timeout. A backend goes down
 * after `fall` failures in a row and comes back after `rise` successes in
 * a row; every change is reported. Backends start up, so a cell decides
 * flows at once after it starts.
 *
 * Non-blocking connects on the caller's event loop; one check in flight
 * per backend at most.
 */
#ifndef STEER_CELL_HEALTH_H
#define STEER_CELL_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/flow.h>

#include "util/evloop.h"

struct health_target {
	uint16_t backend; /* id */
	struct flow_addr addr;
	uint16_t port; /* host order */
};

struct health_cfg {
	struct evloop *el;
	uint32_t interval_ms; /* 1000 */
	uint32_t timeout_ms;  /* 500 */
	uint32_t fall;	      /* 3 */
	uint32_t rise;	      /* 2 */
	void (*on_change)(void *arg, uint16_t backend, bool up);
	void *arg;
};

struct health_stats {
	uint64_t checks;
	uint64_t failures;
	uint64_t changes;
	uint32_t down; /* backends down now */
};

struct health;

/* NULL with errno set (ENOMEM, or the loop's error for the timer). */
struct health *health_new(const struct health_cfg *cfg);
void health_free(struct health *h);

/*
 * Check these targets from now on (backend ids unique). A backend kept
 * keeps its state; a new one starts up. 0, -EINVAL, -ENOMEM.
 */
int health_targets_set(struct health *h, const struct health_target *t,
		       size_t n);

/* Is backend id up? A backend not checked is. */
bool health_up(const struct health *h, uint16_t backend);

const struct health_stats *health_stats(const struct health *h);

#endif /* STEER_CELL_HEALTH_H */
