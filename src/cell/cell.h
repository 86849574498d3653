/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cell mode (docs/architecture.md, "Cell mode"): every node is a fast-path
 * node and an exception-path cell of an L4 load balancer with direct
 * server return. Three roles, a file each:
 *   cell.c       the cell's life cycle: sockets, XDP program, shard map
 *                (gossip and replication say which cells live), backends'
 *                health, the control socket's dispatch
 *   exception.c  the exception path: a flow's state found, asked of the
 *                other cells or decided, replicated and mirrored; the rule
 *                to the fast-path node; the packet to its backend
 *   agent.c      the fast-path node's rule agent: rules from cells into
 *                XDP, idle rules swept, rules in use reported (TOUCH)
 *
 *   fast path (XDP): a service's flow without a rule -> GUE, exception
 *       flag, to the primary cell of its shard (steer_shards)
 *   cell (here): the exception GUE, read whole from a UDP socket on the
 *       GUE port -> the flow's state (flowtab), created on its first
 *       packet with a backend from the service's Maglev table -> RULE to
 *       the fast-path node it came from (cell-ports) -> the packet to
 *       the backend (UDP for GUE variant 1, a raw socket for IP-in-IP)
 *   fast path, on a RULE: steer_flows(4)[flow] = BACKEND, the backend's
 *       template (steer_tmpls at 4096 + backend id)
 *
 * The shard map follows gossip: the live members are the cells, ranked
 * per shard by rendezvous hashing (cell/shards.h); it is rebuilt when a
 * member changes state and written to steer_shards.
 *
 * Every record the table changes goes to the flow's mirror cells
 * (cell/repl.h); a mirror holds the copies, so when its primary dies and
 * the shard map makes it the shard's primary, a flow's next miss finds
 * its state (the same backend) there.
 *
 * A cell is given what it runs on (struct cell_world, struct cell_opts):
 * it knows no daemon type.
 */
#ifndef STEER_CELL_H
#define STEER_CELL_H

#include <stdint.h>

#include "cell/cellmsg.h"
#include "cell/health.h"
#include "cell/hold.h"
#include "cell/query.h"
#include "cell/repl.h"
#include "cell/shards.h"
#include "node/node_tmpl.h"
#include "daemon/steerd_gossip.h"
#include "util/hist.h"
#include "gossip/gossip.h"
#include "cell/flowtab.h"
#include "util/evloop.h"

#define CELL_TICK_MS 100

/*
 * What a cell runs on, the cluster as loaded: kept by pointer until the
 * next cell_world_set() or cell_stop().
 */
struct cell_world {
	const struct cluster *cluster;
	const struct steer_hash_secret *secret; /* the flow hash's */
	/* The services' backends and their Maglev tables: new flows pick
	 * here; health checks set who is eligible. */
	struct fastpath *fp;
};

/* What a cell is started with, read at the start only. */
struct cell_opts {
	const char *conf_path; /* for error messages */
	const char *interface; /* the fabric interface: XDP, sockets */
	const char *pin_dir;   /* the XDP maps' pins ("": the default) */
	const char *key_file;  /* the cluster key (required) */
	bool xdp_off;	       /* load the maps, attach nothing */
	uint32_t flows; /* flow table entries, the cell's and XDP's (0: 1 Mi) */
};

struct cell_stats {
	uint64_t exc_rx;	/* exception datagrams read */
	uint64_t exc_bad;	/* not GUE with steer's exception data */
	uint64_t exc_foreign;	/* ... from no node of the cluster: refused */
	uint64_t exc_parse;	/* inner packet that does not parse */
	uint64_t no_service;	/* inner flow of no service */
	uint64_t no_backend;	/* service without a backend */
	uint64_t table_full;	/* flow state table full */
	uint64_t flows_created; /* new flows this cell decided */
	uint64_t fwd;		/* packets sent on to a backend */
	uint64_t fwd_err;	/* ... that the socket refused */
	uint64_t rules_tx;	/* RULE sent to fast-path nodes */
	uint64_t rules_tx_err;
	uint64_t rules_rx;     /* RULE installed in this node's XDP */
	uint64_t rules_rx_err; /* ... that the map refused */
	uint64_t rules_full;   /* ... of them, because it was full */
	uint64_t ctl_bad;      /* control datagrams refused (see ctl_rx) */
	uint64_t shard_maps;   /* shard maps built */
	uint64_t adopted;      /* copies adopted from a dead primary */
	uint64_t mirror_tx;    /* MIRROR datagrams sent to mirror cells */
	uint64_t mirror_tx_err;
	uint64_t mirror_rx;	 /* MIRROR datagrams received */
	uint64_t mirror_applied; /* ... whose record was newer */
	uint64_t mirror_rx_err;	 /* ... whose record the table refused */
	uint64_t rules_expired;	 /* fast-path rules idle past their timeout */
	uint64_t touch_tx;	 /* TOUCH reports of rules in use sent */
	uint64_t touch_tx_err;
	uint64_t touch_rx;  /* TOUCH reports received */
	uint64_t touched;   /* flows they (or this node's own) kept alive */
	uint64_t relayed;   /* new flows sent on to their shard's primary */
	uint64_t relay_err; /* ... that the socket refused */
	uint64_t query_tx;  /* QUERY sent: a flow's state asked of a cell */
	uint64_t query_tx_err;
	uint64_t query_rx;	 /* QUERY received (each answered) */
	uint64_t answer_tx_err;	 /* ANSWER the socket refused */
	uint64_t answer_rx;	 /* ANSWER received */
	uint64_t answer_refused; /* ... whose record the table refused */
	/* Sent on to the backend the hash picks, no state made: the fast
	 * path's flood guard said so (GUARDED), or the table was full. */
	uint64_t guarded;
	uint64_t full_stateless;
	/* Exception datagrams: from the kernel's receipt (SO_TIMESTAMPNS)
	 * to the end of their burst, when what they caused was sent. */
	struct hist exc_latency;
};

struct cell;
struct cell_predictor;

/*
 * Load and attach the XDP program in cell mode on o's interface, open the
 * sockets, start the timer. NULL with errno set and the reason in err.
 */
struct cell *cell_start(struct evloop *el, const struct cell_opts *o,
			const struct cell_world *w, char *err, size_t errlen);

/* The callbacks gossip must be started with (ctx is c). */
void cell_gossip_events(struct cell *c, struct gossip_events *ev);

/* Gossip runs: the shard map follows its members from now on. */
void cell_gossip_attach(struct cell *c, struct gossip *g);

/* A reloaded world: services, backends, templates. 0 or -errno. */
int cell_world_set(struct cell *c, const struct cell_world *w);

/*
 * An operator forgets flow k: the cell's record becomes a tombstone (its
 * mirrors hear), this node's rule goes, and every other node is told to
 * drop its rule (RULE_DEL). The flow's next packet is a miss, decided
 * again. Meant for the flow's primary cell: a mirror's tombstone goes to
 * the record's mirrors, not back to its primary. 0, or -ENOENT when
 * neither the cell nor this node held it (the other nodes are told all
 * the same).
 */
int cell_flow_forget(struct cell *c, const struct flow_key *k);

/*
 * A burst of n exception datagrams as the exception socket reads them
 * (GUE header, steer's private data, the inner IP packet; dg[i] of
 * len[i] bytes, changed in place): what the cell does with each burst it
 * reads. What they make it send (rules, mirrors, the packets to their
 * backends) goes out with one sendmmsg() per socket at the end, before
 * this returns. For a benchmark driving the exception path without the
 * socket in front of it.
 */
void cell_exception_burst(struct cell *c, uint8_t **dg, const size_t *len,
			  unsigned n);

/* Detach and unpin, close, free. NULL is fine. */
void cell_stop(struct cell *c);

const struct cell_stats *cell_stats(const struct cell *c);
/* The mirroring director's learned predictor (cell/predictor.h). */
const struct cell_predictor *cell_predictor(const struct cell *c);
struct xdp_prog *cell_xdp(struct cell *c);
const struct node_tmpls *cell_tmpls(const struct cell *c);
/* Live flows and tombstones in the state table. */
uint32_t cell_flow_count(const struct cell *c);
/* The state table and the shard map, for the admin socket. */
struct flowtab *cell_flowtab(struct cell *c);
const struct shard_map *cell_shards(const struct cell *c);
/* Counters of control datagrams received, by reason. */
const struct cellmsg_counters *cell_ctl_counters(const struct cell *c);
const struct repl_stats *cell_repl_stats(const struct cell *c);
/* Replication itself, for its chains (cell/repl.h). */
const struct repl *cell_repl(const struct cell *c);
const struct health_stats *cell_health_stats(const struct cell *c);
const struct hold_stats *cell_hold_stats(const struct cell *c);
const struct query_stats *cell_query_stats(const struct cell *c);

/* The clock of flow records: wall-clock ms, low 32 bits (every cell's). */
uint32_t cell_now_ms(void);

#endif /* STEER_CELL_H */
