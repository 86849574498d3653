/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A deterministic network simulator for gossip: N nodes (real gossip
 * code) on a virtual clock, datagrams delivered after a random delay or
 * lost by per-link loss and partitions, all drawn from a seeded PRNG, so
 * every run is the same and nothing depends on the machine's speed.
 * Shared by tests/unit/gossip_sim_test.c and the ownership benchmark
 * (bench/gossip/ownership_sim.c). Checks fail through cmocka's asserts.
 *
 * Every loop is bounded in simulated time, and the event loop fails when
 * a node asks to run again at the same instant or datagrams pile up, so
 * a bug fails instead of hanging.
 */
#ifndef STEER_TESTS_GOSSIP_SIM_H
#define STEER_TESTS_GOSSIP_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "gossip/gossip.h"

#define MAXN 256
#define NONE UINT64_MAX
/* Datagrams in flight at once: far above any sane protocol's. */
#define SIM_MAX_INFLIGHT 100000
/* sim_until_all() checks its bound this often (times are exact). */
#define STEP_MS 10

struct pkt {
	uint64_t at;
	uint64_t serial; /* ties broken by send order: determinism */
	struct pkt *next_free;
	uint16_t src, dst;
	uint16_t len;
	uint8_t data[GOSSIP_DGRAM_MAX];
};

struct sim;

struct snode {
	struct sim *s;
	struct gossip *g;
	uint16_t idx;
	bool up;
	int group;
	uint64_t next;
};

typedef bool (*node_pred)(struct sim *s, uint32_t i, const void *arg);

struct sim {
	uint64_t now;
	uint64_t rng;
	uint32_t n;
	double loss;
	uint32_t delay_min, delay_jitter;
	struct snode nodes[MAXN];
	struct pkt **heap;
	uint32_t heap_n, heap_cap;
	struct pkt *free_pkts;
	uint64_t serial;
	uint64_t sent, dropped;
	/* Events seen through the callbacks. */
	uint32_t false_dead; /* a node that is up marked dead by another */
	uint32_t suspects;
	uint32_t dead_of[MAXN + 1]; /* dead events about node id */
	uint32_t suspect_of[MAXN + 1];
	struct gossip_key key;
	bool trace;
	/* sim_until_all(): pred is checked after every event of a node. */
	node_pred watch;
	const void *watch_arg;
	uint64_t *watch_times;
	uint64_t watch_start;
	/* Datagrams to node strip_dst lose any update about strip_key. */
	bool strip;
	uint16_t strip_dst;
	struct flow_key strip_key;
	struct gossip_auth auth;
	struct gossip_msg msg;
	uint64_t stripped;
	/* Bytes sent (datagrams as sealed), by all nodes. */
	uint64_t bytes;
	/* Session events seen, by all nodes. */
	uint64_t session_events;
	/* sim_new_cfg(): adjusts each node's configuration. */
	void (*cfg_hook)(struct gossip_config *c, void *arg);
	void *cfg_arg;
	/* Hint events seen, by all nodes. */
	uint64_t hint_events;
	/* Optional: each node's hint events. */
	void (*on_hint)(struct sim *s, uint32_t i,
			const struct gossip_hint_update *h);
	/* Optional: each node's orders. */
	void (*on_order)(struct sim *s, uint32_t i,
			 const struct gossip_order_update *o);
	/* Optional: each node's session events. */
	void (*on_session)(struct sim *s, uint32_t i,
			   const struct gossip_session_info *si);
};

extern uint64_t seed_shift; /* added to every seed (sweeps) */

/* Node idx's gossip address (10.0.0.idx+1, the gossip port). */
void addr_of(uint16_t idx, struct gossip_addr *a);
/* n nodes (at most MAXN) on gossip_config_default(), the daemon's. */
struct sim *sim_new(uint32_t n, uint64_t seed);
/* The same, each node's configuration passed through hook first. */
struct sim *sim_new_cfg(uint32_t n, uint64_t seed,
			void (*hook)(struct gossip_config *c, void *arg),
			void *arg);
void sim_free(struct sim *s);
/* After an event of node i: its deadline, and the watched predicate. */
void sim_after(struct sim *s, uint32_t i);
/* Run the event loop until time `until`. */
void sim_run(struct sim *s, uint64_t until);
/* Every node but the first joins through the first. */
void sim_join_all(struct sim *s);
bool sees_all_alive(struct sim *s, uint32_t i);
/* Print median and max of the n per-node times (ms). */
void print_figure(const char *what, uint64_t *t, uint32_t n);
/*
 * Run until pred holds for every up node (or the bound passes); times[i]
 * gets when node i first satisfied it, relative to now. Returns the
 * number of nodes that never did.
 */
uint32_t sim_until_all(struct sim *s, node_pred pred, const void *arg,
		       uint64_t bound_ms, uint64_t *times);
/* Compact the times of up nodes to the front; returns their count. */
uint32_t up_times(struct sim *s, uint64_t *times, uint64_t *out);
bool pred_alive(struct sim *s, uint32_t i, const void *arg);
/* Join all and wait (bounded) until all see all alive; prints `what`. */
void join_and_converge(struct sim *s, uint64_t bound, const char *what);
/* Session key i: 198.18.x.y:10000+i -> 198.19.0.1:443, TCP. */
void make_key(struct flow_key *k, uint32_t i);

#endif /* STEER_TESTS_GOSSIP_SIM_H */
