/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Draining (host mode): this node leaves the ingress set ahead of an
 * overload, or when the operator says so, and comes back when it may.
 * steer does not own the routing that spreads clients over the nodes, so
 * leaving and coming back is a hook the operator provides (steerd's
 * 'drain-hook PATH'): run as `PATH drain|undrain NODE_ID NODE_NAME WHY`
 * on every change, in the background, killed after DRAIN_HOOK_MAX_MS. It
 * withdraws or announces the node's route (a BGP session, a router's
 * multipath route: in the lab, lab/drain_hook.sh). Gossip says it in
 * every load report (GOSSIP_LOAD_F_DRAINED), so the other nodes take the
 * node out of their migration targets, and its sessions score as leaving.
 *
 * A drained node keeps its sessions: their packets, now arriving at the
 * other nodes, are steered back to it by the rules gossip gave them.
 *
 * Why a node is drained:
 *   operator   `steerctl drain` until `steerctl undrain`
 *   forecast   'auto-drain on': the load forecast NODE_FC_PUBLISH_AHEAD
 *              seconds ahead (CPU or memory, the mean) passed the
 *              high-water mark; undrained when the forecast is back at or
 *              below the low-water mark, and not before DRAIN_MIN_MS
 *              (hysteresis: a drained node's load falls by itself)
 *
 * Rejoining (with hints on and 'join-warmup S' above 0): an undrain
 * first makes the node *joining* for S seconds, drained still, and
 * gossip says so (GOSSIP_LOAD_F_JOINING); the owners hint it all their
 * sessions (daemon/hints.h), since once it is back in the ingress set it
 * takes a share of every node's sessions and nobody can tell which. Then
 * the undrain completes and the hook runs. A drain meanwhile cancels it.
 */
#ifndef STEER_DAEMON_DRAIN_H
#define STEER_DAEMON_DRAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "daemon/jsonw.h"
#include "daemon/steerd_conf.h"

#define DRAIN_HOOK_MAX_MS 30000
#define DRAIN_MIN_MS 30000

enum drain_why {
	DRAIN_NONE = 0,
	DRAIN_OPERATOR,
	DRAIN_FORECAST,
};

struct drain_stats {
	uint64_t drains, undrains;
	uint64_t auto_drains, auto_undrains;
	uint64_t hooks_run, hooks_ok, hooks_failed, hooks_killed;
	uint64_t joins, joins_cancelled; /* warm-ups begun; cut short */
};

struct drain {
	enum drain_why why;
	uint64_t since_ms; /* of the last change */
	pid_t hook_pid;	   /* 0: none running */
	uint64_t hook_start_ms;
	int hook_status;     /* of the last finished: exit code, -signal */
	bool hook_pending;   /* a change came while a hook ran */
	bool joining;	     /* undrained, warming up: drained still */
	uint64_t join_at_ms; /* when the warm-up ends */
	/* Called on every change of state before the hook runs (the
	 * migration hints go out before the routing moves). */
	void (*on_change)(void *ctx);
	void *on_change_ctx;
	struct drain_stats st;
};

/* The node this daemon runs as, for the hook's arguments. */
struct drain_self {
	uint16_t id;
	const char *name;
};

void drain_init(struct drain *dr);

/*
 * Drain for why, or undrain (DRAIN_NONE). A change of state runs the hook
 * (after the one running, if any, has finished). 0, or -EALREADY when
 * the state was already that (an operator's drain of a node drained by
 * the forecast becomes the operator's; an undrain of a joining node).
 * An undrain with a warm-up (above) begins it and returns 0: drain_poll()
 * completes it. A drain cancels a warm-up.
 */
int drain_set(struct drain *dr, const struct steerd_conf *c,
	      const struct drain_self *self, enum drain_why why,
	      uint64_t now_ms);

/*
 * The forecast's say: cpu and mem are the forecast means (permille). With
 * 'auto-drain on', drains past the high-water mark, undrains a forecast
 * drain at or below the low-water mark after DRAIN_MIN_MS.
 */
void drain_forecast(struct drain *dr, const struct steerd_conf *c,
		    const struct drain_self *self, uint16_t cpu, uint16_t mem,
		    uint64_t now_ms);

/* Reap a finished hook, kill one past DRAIN_HOOK_MAX_MS, run a pending
 * one, complete a warm-up that has run its time. Call on a timer. */
void drain_poll(struct drain *dr, const struct steerd_conf *c,
		const struct drain_self *self, uint64_t now_ms);

bool drain_is(const struct drain *dr);
/* Drained, and warming up to rejoin. */
bool drain_joining(const struct drain *dr);
const char *drain_why_name(enum drain_why w);
void drain_write(const struct drain *dr, struct jsonw *w, uint64_t now_ms);

/* Kill and reap a hook still running (the daemon stops). */
void drain_fini(struct drain *dr);

#endif /* STEER_DAEMON_DRAIN_H */
