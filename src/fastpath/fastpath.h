/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The userspace fast path: the same decisions as the XDP program, on
 * packets in memory (pcap replay, simulation, benchmarks).
 *
 *   parse -> tunnel addressed to this node? decapsulate, parse the inner
 *         -> FSC lookup by the inner flow
 *            miss: owner = Maglev over the nodes; owner is this node and
 *                  the flow matches a service: backend = Maglev over the
 *                  service's backends (BACKEND); owner is this node:
 *                  LOCAL; otherwise STEER to the owner. The mirroring
 *                  profile: replication - 1 mirror cells by rendezvous
 *                  hashing over the other nodes. Cached in the FSC.
 *         -> LOCAL: pass to the stack; STEER: GUE variant 0 to the owner
 *            (hop count + 1); BACKEND: the backend's template.
 *
 * Every packet ends in exactly one verdict and bumps exactly one of: an
 * action counter, a parse-error counter, a drop-reason counter or notip.
 */
#ifndef STEER_FASTPATH_H
#define STEER_FASTPATH_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include <steer/decide.h>
#include <steer/hash.h>
#include <steer/parse.h>
#include <steer/rule.h>
#include <steer/tmpl.h>

#include "fastpath/fsc.h"

enum fp_verdict {
	FP_PASS = 0, /* to this node's stack */
	FP_TX,	     /* out of the interface, as rewritten */
	FP_DROP,
};

struct fp_counters {
	uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t notip;
	uint64_t decap;
	uint64_t new_flows;
	uint64_t action[STEER_ACT__MAX]; /* packets per action carried out */
	uint64_t parse_err[PERR__MAX];
	uint64_t drop[STEER_DROP__MAX];
	uint64_t miss;	 /* flows without a rule */
	uint64_t exc_in; /* exception GUE to this cell, passed up whole */
	uint64_t close_to_cell; /* FIN/RST sent to the flow's cell */
	uint64_t tele_tick;	/* steered packets of untracked rules sent on */
	uint64_t tele_cand;	/* of those, 1 in STEER_TELE_SAMPLE: sampled */
	uint64_t tx_bytes;	/* frames sent on (FP_TX), bytes */
	uint64_t dir_rerouted;	/* directory: unknown sessions to a home */
	uint64_t dir_asked;  /* directory: a home asked who owns a session (the
			      twin has no daemon and no rate: every drop) */
	uint64_t guard_over; /* flood guard: misses above the budget */
	uint64_t guard_src_over;  /* ... within it, above their source's */
	uint64_t guard_stateless; /* of both, sent on without state */
	uint64_t guard_direct;	  /* ... of those, to the backend directly */
};

/*
 * Where the owner of a new flow comes from. Cell mode: computed (Maglev
 * over the nodes; the offline model of replay and benchmarks). Host mode:
 * the node whose kernel holds the socket, learnt from session events and
 * gossip through fastpath_flow_set(); a flow nobody announced is new and
 * belongs to this node's stack. Cell node: the XDP program of a cell-mode
 * node, decision for decision: rules come from the cells
 * (fastpath_rule_set()), a service's flow without one goes to its
 * shard's cell (fastpath_shards_set()) as exception GUE, a closing flow
 * of a CLOSE_VIA_CELL service too. Host mode with a directory
 * (fp_config.dir): a service's flow nobody announced goes to its home
 * (fastpath_shards_set() holds the homes), as the XDP program's does;
 * the twin holds no sockets, so only a TCP SYN is this node's own.
 */
enum fp_mode {
	FP_MODE_CELL = 0,
	FP_MODE_HOST = 1,
	FP_MODE_CELL_NODE = 2,
};

/*
 * The flood guard (decide.h), as the XDP program's configuration has it
 * (steer_xdp_cfg.guard*). The twin is one CPU, its clock the now_ms it
 * is given, and it keeps the budgets of 1,024 sources (one per slot of a
 * source hash: a collision starts the newcomer afresh).
 */
struct fp_guard {
	uint8_t policy; /* enum steer_guard_policy */
	uint64_t cost_ns, cap_ns;
	uint64_t src_cost_ns, src_cap_ns; /* 0: no source budget */
};

struct fp_config {
	enum fp_mode mode;
	uint16_t self_id;
	struct flow_addr self_addr;  /* v4-mapped; all zero if none */
	struct flow_addr self_addr6; /* all zero if none */
	__be16 gue_port;
	uint8_t max_encap;    /* tunnels peeled at most (<= STEER_MAX_ENCAP) */
	uint32_t mtu;	      /* largest L3 packet the fabric carries */
	uint32_t maglev_size; /* prime; 0: 65537 */
	uint8_t replication; /* copies of flow state: 1 + mirror cells (<= 3) */
	bool dir;	     /* host mode: ownership is a directory of homes */
	struct fp_guard guard;
	struct fsc_cfg fsc;
	struct steer_hash_secret secret;
};

/* A node or a backend: its id, weight and the template to reach it. */
struct fp_target {
	uint16_t id;
	uint32_t weight;
	struct steer_tmpl tmpl; /* unused for this node itself */
};

struct fp_service {
	uint8_t proto;
	struct flow_addr vip;
	__be16 port;   /* 0: any */
	uint8_t flags; /* STEER_SVC_F_* (decide.h) */
};

/*
 * A packet in a buffer with headroom bytes writable in front of data:
 * encapsulation moves data back, decapsulation forward.
 */
struct fp_pkt {
	uint8_t *data;
	uint32_t len;
	uint32_t headroom;
};

struct fp_result {
	enum fp_verdict verdict;
	enum steer_drop drop; /* with FP_DROP */
	int8_t parse_err;     /* with STEER_DROP_PARSE: enum parse_err */
	uint8_t action;	      /* enum steer_action carried out */
	uint8_t new_flow;     /* this packet created the FSC entry */
	uint8_t has_key;
	uint16_t owner;
	uint16_t target; /* FP_TX: id of the node or backend sent to */
	uint16_t mirror[STEER_MAX_MIRRORS]; /* the flow's mirror cells */
	uint8_t rf;	     /* replication factor: 1 + mirrors */
	struct flow_key key; /* the (inner) flow, when has_key */
	uint32_t l3_len;     /* bytes of the inner IP packet */
};

struct fastpath;

/* NULL with errno set (EINVAL for a bad config, ENOMEM). */
struct fastpath *fastpath_new(const struct fp_config *cfg);
void fastpath_free(struct fastpath *fp);

/*
 * Replace the node set (this node included, by its id). Nodes with weight
 * 0 own no new flows. Flows already cached keep their owner. Returns 0,
 * -EINVAL (duplicate ids, this node's template missing is fine), -ENOMEM;
 * on error the previous node set stays in force.
 */
int fastpath_set_nodes(struct fastpath *fp, const struct fp_target *nodes,
		       size_t n);

/*
 * Add a service and its backends. Returns the service index, -EINVAL for
 * more than 65535 templates in all or a bad spec, -ENOSPC past 256
 * services, -ENOMEM.
 */
int fastpath_add_service(struct fastpath *fp, const struct fp_service *svc,
			 const struct fp_target *backends, size_t n);

/*
 * Record that node owner owns flow k since epoch (host mode: a session
 * announced by gossip; either mode: a migration). The flow steers to
 * owner, or stays local when owner is this node. Returns 0, -ENOENT when
 * owner has no template (unknown node), -EINVAL for STEER_NODE_NONE.
 */
int fastpath_flow_set(struct fastpath *fp, const struct flow_key *k,
		      uint16_t owner, uint32_t epoch, uint32_t now_ms);

/*
 * Flow k gets rule action (LOCAL, STEER or HINT to node id, BACKEND to
 * backend id): a cell's rule (cell node), a hint (host mode), as
 * xdp_maps_rule_set() gives the XDP program. 0, -ENOENT when id has no template, -EINVAL for another
 * action.
 */
int fastpath_rule_set(struct fastpath *fp, const struct flow_key *k,
		      uint8_t action, uint16_t id, uint32_t epoch,
		      uint32_t now_ms);

/* Cell node: the cells of every shard, sh[0 .. STEER_SHARDS-1]. */
void fastpath_shards_set(struct fastpath *fp, const struct steer_shard *sh);

/* Cell node: is this node's daemon gone (its shards' misses then go to
 * their first mirror)? */
void fastpath_daemon_gone_set(struct fastpath *fp, int gone);

/*
 * Service svc's Maglev table (*size entries: the backend id of each
 * slot, STEER_NODE_NONE for none), for the XDP program's steer_ring.
 * NULL for no such service. Valid until its backends change.
 */
const uint16_t *fastpath_service_table(const struct fastpath *fp, uint16_t svc,
				       uint32_t *size);

/* A new flood guard configuration; the budgets keep what they hold. */
void fastpath_guard_set(struct fastpath *fp, const struct fp_guard *g);

/* Forget flow k (session closed). 0, or -ENOENT if it was not cached. */
int fastpath_flow_del(struct fastpath *fp, const struct flow_key *k);

/*
 * Service svc (index, in the order added) now picks among t[0..n-1] only
 * (ids and weights; templates unused): the healthy subset of the
 * backends it was added with. 0, -EINVAL for an unknown service or a
 * backend it was not added with, -ENOMEM; on error nothing changes.
 */
int fastpath_service_backends_set(struct fastpath *fp, uint16_t svc,
				  const struct fp_target *t, size_t n);

/*
 * The backend a new flow k of a service gets (cell mode's exception
 * path): the service k's destination matches (an exact port before port
 * 0) and the backend its Maglev table gives for hash, k's flow hash.
 * Returns 0 with *svc (index, in the order added) and *backend (id),
 * -ENOENT when k is not a service's, -EHOSTUNREACH when the service has
 * no backend.
 */
int fastpath_backend_pick(const struct fastpath *fp, const struct flow_key *k,
			  uint64_t hash, uint16_t *svc, uint16_t *backend);

/* One packet. Never fails: the outcome is in r and the counters. */
void fastpath_process(struct fastpath *fp, struct fp_pkt *p, uint32_t now_ms,
		      struct fp_result *r);

/* Up to FP_BURST packets at once, with the FSC sets prefetched. */
#define FP_BURST 32
void fastpath_process_burst(struct fastpath *fp, struct fp_pkt *pkts, size_t n,
			    uint32_t now_ms, struct fp_result *r);

const struct fp_counters *fastpath_counters(const struct fastpath *fp);
struct fsc *fastpath_fsc(struct fastpath *fp);
const char *fastpath_drop_name(enum steer_drop d);
const char *fastpath_parse_err_name(int perr);
const char *fastpath_action_name(uint8_t action);

#endif /* STEER_FASTPATH_H */
