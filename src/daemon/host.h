/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Host mode: every node terminates its own sessions, and steers the
 * packets of sessions other nodes hold to them.
 *
 *   kernel (sock_ops: TCP established/closed; XDP: first packet of a UDP
 *   session of a service) --ring--> host --announce/close--> gossip
 *   gossip (another node's session learnt, closed, moved)
 *       --> host --> XDP steer_flows: flow -> STEER to its owner
 *
 * Sessions belong to the services of the cluster description that have
 * no backends (all passive TCP connections when it lists none). A
 * session's epoch is a Lamport clock over wall-clock seconds: max(now,
 * the epoch gossip knows for that flow + 1), so a 5-tuple used again on
 * another node wins over its old owner.
 *
 * The node of an owner that is declared dead keeps its sessions in the
 * fast path for a grace period (a restarting daemon does not cost its
 * host's connections); after it, they are dropped from steer_flows.
 *
 * Ownership by directory (the cluster's 'ownership directory'): gossip
 * sends each session's record to its homes only (gossip/gossip_dir.h);
 * steer_shards holds every shard's first two homes, rewritten when the
 * live members change, so the fast path sends a packet of a session this
 * node does not know to its home; a home's fast path reports the nodes
 * it re-routed for, which gossip teaches the record.
 *
 * On a start after a crash, the pinned maps still hold the node's own
 * sessions (steer_socks, steer_udp) and everyone else's (steer_flows):
 * the own ones are announced again, the rest is confirmed by gossip.
 */
#ifndef STEER_HOST_H
#define STEER_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "node/node_tmpl.h"
#include "daemon/steerd_gossip.h"
#include "gossip/gossip.h"
#include "util/evloop.h"

#define HOST_TICK_MS 1000
#define HOST_DEAD_GRACE_MS (120 * 1000)
/* Directory: rules a start found pinned are checked against the records
 * this long after (two refreshes of the owners). */
#define HOST_RECONCILE_MS (60 * 1000)

struct steerd_world;

struct host_stats {
	uint64_t ev_tcp_up; /* sock_ops events */
	uint64_t ev_tcp_down;
	uint64_t ev_udp_new; /* XDP events */
	uint64_t ev_ignored; /* not a service's */
	uint64_t ev_bad;     /* malformed event records */
	uint64_t announced;  /* sessions announced as ours */
	uint64_t closed;     /* sessions we closed (TCP close, UDP idle) */
	uint64_t flows_set;  /* steer_flows writes */
	uint64_t flows_del;
	uint64_t flow_errors;	  /* steer_flows writes that failed */
	uint64_t flow_table_full; /* ... of them, because it was full */
	uint64_t grace_dropped;	  /* flows of owners dead past the grace */
	uint64_t reannounced;	  /* own sessions announced again at start */
	uint64_t ev_teach;	  /* directory: XDP re-routed a packet here */
	uint64_t ev_hint_teach;	  /* ... a packet from a header cache came */
	uint64_t teach_failed;	  /* ... and no record was there to teach */
	uint64_t ev_ask;	  /* directory: nobody here knew a session */
	uint64_t ask_failed;	  /* ... and the ask was not sent (rate) */
	uint64_t homes_written;	  /* directory: steer_shards rewritten */
	uint64_t homes_errors;
	uint64_t reconciled;	/* pinned rules without a record, dropped */
	uint64_t udp_moved;	/* own UDP sessions moved to a target */
	uint64_t udp_taken;	/* UDP sessions another node moved here */
	uint64_t hints_in;	/* hints received (gossip checked the owner) */
	uint64_t hints_refused; /* expired on arrival */
};

struct host;

typedef void (*host_session_fn)(const struct flow_key *k, void *arg);

/* fn for every session of this node (TCP of the services from sock_ops,
 * UDP from XDP); returns how many. */
uint32_t host_sessions_foreach(struct host *h, host_session_fn fn, void *arg);

/*
 * Drained, with 'drain-udp move': this node's UDP sessions become node
 * to's (no socket state to carry): each record re-announced with to as
 * owner and a newer epoch, told to `to` directly (which takes it into
 * its steer_udp), and steered there from here on. Returns how many.
 */
uint32_t host_udp_move(struct host *h, uint16_t to);

/* fn(k, ctx) when a session of this node closes (after gossip heard). */
void host_close_hook(struct host *h, host_session_fn fn, void *ctx);

/* fn(ctx, from, op) when another node passes on an operator's order for
 * this one (enum gossip_order_op: drain, undrain). */
typedef void (*host_order_fn)(void *ctx, uint16_t from, uint8_t op);
void host_order_hook(struct host *h, host_order_fn fn, void *ctx);

/*
 * Load and attach the XDP program on the world's interface (unless
 * 'xdp off') and the sock_ops program on its cgroup, program the maps,
 * start the ring reader and the timer. NULL with errno set and the
 * reason in err.
 */
struct host *host_start(struct evloop *el, const struct steerd_world *w,
			char *err, size_t errlen);

/* The callbacks gossip must be started with (ctx is h). */
void host_gossip_events(struct host *h, struct gossip_events *ev);

/* Gossip runs: announce the sessions this node holds (after a restart). */
void host_gossip_attach(struct host *h, struct steerd_gossip *g);

/* A reloaded world: services, MTU and templates follow it. 0 or -errno. */
int host_world_set(struct host *h, const struct steerd_world *w);

/* Detach the programs and unpin (a clean stop), free. NULL is fine. */
void host_stop(struct host *h);

const struct host_stats *host_stats(const struct host *h);
const struct node_tmpls *host_tmpls(const struct host *h);
/* NULL with 'xdp off'. */
struct xdp_prog *host_xdp(struct host *h);
struct sockops *host_sockops(struct host *h);
/* The predictive header cache: hints received (NULL before the start). */
struct phc *host_phc(struct host *h);

#endif /* STEER_HOST_H */
