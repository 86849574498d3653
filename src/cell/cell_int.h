/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Cell mode's insides, shared by its three files (cell.c, exception.c,
 * agent.c; see cell.h): the cell itself and what one role calls of
 * another. Nothing outside src/cell/ includes this.
 */
#ifndef STEER_CELL_INT_H
#define STEER_CELL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <steer/parse.h>

#include "cell/cell.h"
#include "cell/director.h"
#include "cell/predictor.h"
#include "cell/sendq.h"
#include "gossip/gossip_auth.h"
#include "xdp/xdp_prog.h"

#define CELL_RX_BURST 64     /* datagrams read per wake-up and socket */
#define CELL_DGRAM_MAX 65536 /* the longest datagram read */

struct cell {
	struct evloop *el;
	struct cell_world w;
	struct gossip *g; /* NULL until gossip runs */
	struct xdp_prog *xdp;
	struct flowtab *ft;
	struct repl *repl;
	struct health *health;
	struct gossip_auth auth;
	struct cellmsg_replay replay;
	struct cellmsg_counters ctl_rx;
	struct shard_map *shards;
	struct node_tmpls tmpls;
	int ifindex;
	int exc_fd;  /* exceptions in: UDP on the GUE port */
	int ctl_fd;  /* RULE in and out: UDP, the cluster's cell_ctl_port */
	int fwd_fd4; /* to GUE variant 1 backends */
	int fwd_fd6;
	int raw_fd[2][2]; /* IP-in-IP: [outer v6][inner v6] */
	/* What a burst sends (cell_batch_begin), per socket: ctl_fd,
	 * fwd_fd4/fwd_fd6, raw_fd. */
	struct sendq *sq_ctl;
	struct sendq *sq_fwd[2];
	struct sendq *sq_raw[2][2];
	uint32_t batch; /* open batches: datagrams wait while > 0 */
	int64_t timer;
	uint64_t seq;
	uint32_t incarnation;
	uint8_t *down;	     /* by node index: its replication streams broke */
	struct hold *hold;   /* exceptions of shards awaiting hand-back */
	struct query *query; /* flows asked about before deciding them */
	struct shard_map *prev; /* the map before the last one */
	uint64_t *moved_ms;	/* per shard: its primary last changed */
	uint16_t *live;		/* the cells of the map, this one too */
	uint32_t n_live;
	/* The mirroring director's predictor (NULL: the configuration);
	 * &pred.dp once the cell runs: the cluster's replication-policy. */
	const struct director_predictor *predictor;
	struct cell_predictor pred;
	uint64_t started_ms; /* evloop clock */
	uint64_t swept_ms;   /* the fast path's rules, last swept */
	uint64_t pulled[STEER_SHARDS / 64]; /* shards handed back */
	/* Per shard, the cell a hand-back is expected from: the next in
	 * rank among the others not known dead (see cell_pull_wait). */
	struct shard_map *expect;
	struct cell_stats st;
};

/* cell.c */
uint16_t cell_self(const struct cell *c);
void cell_sockaddr(const struct flow_addr *a, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len);
/* Node n's address of this node's family (NULL: none). */
const struct flow_addr *cell_addr_of(const struct cell *c,
				     const struct cluster_endpoint *n);
int cell_ctl_send(struct cell *c, uint16_t to, struct cellmsg *m);
/* cell_ctl_send() through the control socket's queue (cell_send()), and
 * counted (a message that cannot be addressed or encoded: *failed at
 * once). */
void cell_ctl_queue(struct cell *c, uint16_t to, struct cellmsg *m,
		    uint64_t *sent, uint64_t *failed);
void cell_shards_rebuild(struct cell *c);

/* agent.c */
uint64_t cell_sweep_every_ms(const struct cluster_fsc *f);
void cell_rules_sweep(struct cell *c);
void cell_rule_install(struct cell *c, const struct cellmsg_rule *r);

/* exception.c */
/*
 * Within a batch (begin ... end, nested: the outermost end counts), the
 * datagrams cell_send() and cell_ctl_queue() are given wait in their
 * socket's queue; the outermost end sends every queue (the control
 * socket's first: rules reach the fast paths before the packets reach
 * the backends). Outside a batch they go at once.
 */
void cell_batch_begin(struct cell *c);
void cell_batch_end(struct cell *c);
/* buf to ss on fd through its queue q; *sent or *failed (either may be
 * NULL) counts it once the kernel took or refused it. */
void cell_send(struct cell *c, struct sendq *q, int fd, const void *buf,
	       size_t len, const struct sockaddr_storage *ss, socklen_t slen,
	       uint64_t *sent, uint64_t *failed);
void cell_on_exception(struct evloop *el, int fd, uint32_t events, void *arg);
void cell_touch_apply(struct cell *c, const struct cellmsg_touch *t);
void cell_mirror_apply(struct cell *c, const struct cellmsg_mirror *mm);
void cell_query_answer(struct cell *c, uint16_t from, const struct flow_key *k);
void cell_answer_apply(struct cell *c, uint16_t from,
		       const struct cellmsg_answer *a);
/* Datagrams held for a hand-back or a query whose wait is over run. */
void cell_held_run(void *arg, uint8_t *dg, size_t len);
void cell_query_send(void *arg, const struct flow_key *k, uint16_t to);
void cell_query_release(void *arg, uint8_t *dg, size_t len, bool found);
const struct flowtab_rec *cell_adopt(struct cell *c,
				     const struct flowtab_rec *rec,
				     const uint16_t *cells, uint32_t now);
/* Flow rec of this cell gets its service's replication (the predictor
 * raised it), at a newer version that goes to its mirrors. 0, or -1 when
 * it has that many copies already (too few live cells), is not this
 * cell's any more, or could not be applied. */
int cell_raise(struct cell *c, const struct flowtab_rec *rec, uint32_t now);
/* The configured replication of service svc's flows. */
uint32_t cell_rf_of(const struct cell *c, uint16_t svc);
/* Is rec's backend the one the hash picks for it now? */
bool cell_pick_is(const struct cell *c, const struct flowtab_rec *rec);

#endif /* STEER_CELL_INT_H */
