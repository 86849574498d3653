// SPDX-License-Identifier: GPL-2.0-only
/* The cell's life cycle: see cell.h. */
#include "cell/cell_int.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "gossip/gossip.h"
#include "node/node_xdp.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"

#define MOD "cell"
#define CELL_FLOWS_DEFAULT (1u << 20)
/* For this long after a start, the shards this cell becomes primary of
 * wait for their mirrors' hand-back, each at most CELL_PULL_WAIT_MS. */
#define CELL_PULL_WINDOW_MS 5000u
#define CELL_PULL_WAIT_MS 1000u

const struct cell_stats *cell_stats(const struct cell *c)
{
	return &c->st;
}

const struct cell_predictor *cell_predictor(const struct cell *c)
{
	return &c->pred;
}

struct xdp_prog *cell_xdp(struct cell *c)
{
	return c->xdp;
}

const struct node_tmpls *cell_tmpls(const struct cell *c)
{
	return &c->tmpls;
}

uint32_t cell_flow_count(const struct cell *c)
{
	return flowtab_count(c->ft);
}

struct flowtab *cell_flowtab(struct cell *c)
{
	return c->ft;
}

const struct shard_map *cell_shards(const struct cell *c)
{
	return c->shards;
}

const struct cellmsg_counters *cell_ctl_counters(const struct cell *c)
{
	return &c->ctl_rx;
}

const struct repl_stats *cell_repl_stats(const struct cell *c)
{
	return repl_stats(c->repl);
}

const struct repl *cell_repl(const struct cell *c)
{
	return c->repl;
}

const struct hold_stats *cell_hold_stats(const struct cell *c)
{
	return hold_stats(c->hold);
}

const struct query_stats *cell_query_stats(const struct cell *c)
{
	return query_stats(c->query);
}

const struct health_stats *cell_health_stats(const struct cell *c)
{
	return health_stats(c->health);
}

/*
 * The clock of flow records: wall-clock ms (low 32 bits), the one time
 * base every cell shares, so a mirror's copies age right once promoted.
 */
uint32_t cell_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (uint32_t)((uint64_t)tv.tv_sec * 1000u +
			  (uint64_t)tv.tv_usec / 1000u);
}

uint16_t cell_self(const struct cell *c)
{
	return cluster_self(c->w.cluster)->ep.id;
}

void cell_sockaddr(const struct flow_addr *a, uint16_t port,
		   struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (flow_addr_is_v4(a)) {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr.s_addr = a->w[3];
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, a->b, 16);
		*len = sizeof(*s6);
	}
}

/* An address of ep in the family this node speaks first (IPv4). */
const struct flow_addr *cell_addr_of(const struct cell *c,
				     const struct cluster_endpoint *ep)
{
	const struct cluster_endpoint *me = &cluster_self(c->w.cluster)->ep;

	if (me->has_v4 && ep->has_v4)
		return &ep->addr4;
	if (me->has_v6 && ep->has_v6)
		return &ep->addr6;
	return NULL;
}

/* A UDP socket bound to this node's address and port: fd or -errno. */
static int cell_udp_bound(const struct cell *c, uint16_t port)
{
	const struct cluster_endpoint *me = &cluster_self(c->w.cluster)->ep;
	const struct flow_addr *a = me->has_v4 ? &me->addr4 : &me->addr6;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, buf = 4 << 20, err;

	cell_sockaddr(a, port, &ss, &len);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Cell message m as this cell's next datagram to node `to`'s control
 * port: its length in buf, or -EINVAL (no such node, no address of its
 * family, a message the codec refuses).
 */
static int cell_ctl_encode(struct cell *c, uint16_t to, struct cellmsg *m,
			   uint8_t *buf, struct sockaddr_storage *ss,
			   socklen_t *slen)
{
	const struct cluster_node *n = cluster_node_by_id(c->w.cluster, to);
	const struct flow_addr *a = n ? cell_addr_of(c, &n->ep) : NULL;

	if (!a)
		return -EINVAL;
	m->sender = cell_self(c);
	m->incarnation = c->incarnation;
	m->seq = ++c->seq;
	cell_sockaddr(a, ntohs(c->w.cluster->cell_ctl_port), ss, slen);
	return cellmsg_encode(&c->auth, m, buf, CELLMSG_DGRAM_MAX);
}

/*
 * Send cell message m to node `to`'s control port at once, stamped as
 * this cell's next datagram. 0, or -EINVAL (no such node, no address of
 * its family, a message the codec refuses) or the socket's -errno.
 */
int cell_ctl_send(struct cell *c, uint16_t to, struct cellmsg *m)
{
	uint8_t buf[CELLMSG_DGRAM_MAX];
	struct sockaddr_storage ss;
	socklen_t slen;
	int len = cell_ctl_encode(c, to, m, buf, &ss, &slen);

	if (len < 0)
		return len;
	if (sendto(c->ctl_fd, buf, (size_t)len, MSG_DONTWAIT,
		   (struct sockaddr *)&ss, slen) != len)
		return -errno;
	return 0;
}

void cell_ctl_queue(struct cell *c, uint16_t to, struct cellmsg *m,
		    uint64_t *sent, uint64_t *failed)
{
	uint8_t buf[CELLMSG_DGRAM_MAX];
	struct sockaddr_storage ss;
	socklen_t slen;
	int len = cell_ctl_encode(c, to, m, buf, &ss, &slen);

	if (len < 0) {
		if (failed)
			(*failed)++;
		return;
	}
	cell_send(c, c->sq_ctl, c->ctl_fd, buf, (size_t)len, &ss, slen, sent,
		  failed);
}

int cell_flow_forget(struct cell *c, const struct flow_key *k)
{
	const struct cluster *cl = c->w.cluster;
	struct cellmsg m;
	bool found = false;
	uint32_t i;

	/* A tombstone at a fresh version: its mirrors forget it too. */
	if (flowtab_lookup(c->ft, k) && !flowtab_close(c->ft, k, cell_now_ms()))
		found = true;
	if (c->xdp && !xdp_maps_flow_del(c->xdp, k))
		found = true;
	for (i = 0; i < cl->n_nodes; i++) {
		if (cl->nodes[i].ep.id == cell_self(c))
			continue;
		memset(&m, 0, sizeof(m));
		m.type = CELLMSG_RULE_DEL;
		m.del.key = *k;
		if (cell_ctl_send(c, cl->nodes[i].ep.id, &m))
			c->st.rules_tx_err++;
	}
	return found ? 0 : -ENOENT;
}

static void cell_on_ctl(struct evloop *el, int fd, uint32_t events, void *arg)
{
	static uint8_t buf[CELL_DGRAM_MAX];
	struct cell *c = arg;
	enum cellmsg_rx_reason r;
	struct cellmsg m;
	ssize_t n;
	int i;

	/* Answers, and the datagrams they release, leave as one batch. */
	cell_batch_begin(c);
	for (i = 0; i < CELL_RX_BURST; i++) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		r = cellmsg_decode(&c->auth, buf, (size_t)n, &m, NULL, 0);
		if (r == CELLMSG_RX_OK)
			r = cellmsg_replay_accept(&c->replay, &m);
		if (r == CELLMSG_RX_OK && m.type != CELLMSG_RULE &&
		    m.type != CELLMSG_RULE_DEL && m.type != CELLMSG_MIRROR &&
		    m.type != CELLMSG_TOUCH && m.type != CELLMSG_QUERY &&
		    m.type != CELLMSG_ANSWER)
			r = CELLMSG_RX_TYPE; /* not a datagram's */
		cellmsg_counters_add(&c->ctl_rx, r);
		if (r != CELLMSG_RX_OK) {
			c->st.ctl_bad++;
			continue;
		}
		if (m.type == CELLMSG_RULE)
			cell_rule_install(c, &m.rule);
		else if (m.type == CELLMSG_MIRROR)
			cell_mirror_apply(c, &m.mir);
		else if (m.type == CELLMSG_TOUCH)
			cell_touch_apply(c, &m.touch);
		else if (m.type == CELLMSG_QUERY)
			cell_query_answer(c, m.sender, &m.query);
		else if (m.type == CELLMSG_ANSWER)
			cell_answer_apply(c, m.sender, &m.ans);
		else if (!xdp_maps_flow_del(c->xdp, &m.del.key))
			c->st.rules_rx++;
	}
	cell_batch_end(c);
}

struct cell_adopt_walk {
	struct cell *c;
	const uint16_t *cells;
	uint32_t now;
};

static int cell_adopt_one(const struct flowtab_rec *rec, void *arg)
{
	struct cell_adopt_walk *a = arg;

	if (rec->state != FLOWTAB_ST_CLOSED && rec->primary != cell_self(a->c))
		cell_adopt(a->c, rec, a->cells, a->now);
	return 0;
}

/*
 * A mirror handed shard back. If this cell is its primary, the records
 * that name another primary (the mirror's, made while this cell was
 * away) become this cell's at once, so no flow has two owners; the
 * datagrams that waited for them run.
 */
static void cell_on_handback(void *arg, uint16_t shard, uint16_t from)
{
	struct cell *c = arg;
	struct cell_adopt_walk a = {.c = c, .now = cell_now_ms()};

	a.cells = c->shards->cell[shard];
	if (a.cells[0] == cell_self(c))
		flowtab_shard_walk(c->ft, shard, cell_adopt_one, &a);
	/* The cell that held the shard while this one was away is the one
	 * ranked next: its word ends the wait, not another mirror's. */
	if (c->expect->cell[shard][0] == from) {
		c->pulled[shard / 64] |= 1ull << (shard % 64);
		hold_done(c->hold, shard);
		cell_batch_begin(c);
		hold_release(c->hold, evloop_now_ms(), cell_held_run, c);
		cell_batch_end(c);
	}
	log_debug(MOD, "shard %u handed back by cell %u", shard, from);
}

/*
 * Who held each shard while this cell was away: the first in rank among
 * the other cells that gossip does not know dead. One not heard of yet
 * counts (a cell that just started may not know its peers), so a shard
 * waits for the right one rather than for whoever is ranked next among
 * the few known. A shard whose expected cell changes waits again.
 */
static int cell_pull_expect(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	uint16_t *ids = calloc(cl->n_nodes + 1, sizeof(*ids));
	struct gossip_member_info mi;
	uint16_t old[STEER_SHARDS];
	uint32_t i, n = 0, s;
	int err;

	if (!ids)
		return -ENOMEM;
	for (i = 0; i < cl->n_nodes; i++) {
		uint16_t id = cl->nodes[i].ep.id;

		if (id == cell_self(c) || c->down[i] ||
		    (c->g && !gossip_member_get(c->g, id, &mi) &&
		     (mi.state == GOSSIP_DEAD || mi.state == GOSSIP_LEFT)))
			continue;
		ids[n++] = id;
	}
	for (s = 0; s < STEER_SHARDS; s++)
		old[s] = c->expect->cell[s][0];
	err = shard_map_build(c->expect, ids, n, 1, c->w.secret);
	free(ids);
	if (err)
		return err;
	for (s = 0; s < STEER_SHARDS; s++)
		if (old[s] != c->expect->cell[s][0])
			c->pulled[s / 64] &= ~(1ull << (s % 64));
	return 0;
}

/*
 * Soon after a start, the shards this cell is primary of wait for a
 * mirror's hand-back before they decide new flows: from the first shard
 * map on, where this cell may be alone (its peers not heard of yet) and
 * primary of every shard, and again at each new map, for
 * CELL_PULL_WAIT_MS each time, all within CELL_PULL_WINDOW_MS of the
 * start. Without mirrors configured there is nothing to wait for.
 */
static void cell_pull_wait(struct cell *c)
{
	uint64_t now = evloop_now_ms();
	uint32_t s;

	if (now - c->started_ms > CELL_PULL_WINDOW_MS || c->shards->rf < 2 ||
	    cell_pull_expect(c))
		return;
	for (s = 0; s < STEER_SHARDS; s++)
		if (c->shards->cell[s][0] == cell_self(c) &&
		    !(c->pulled[s / 64] >> (s % 64) & 1))
			hold_wait(c->hold, s, now + CELL_PULL_WAIT_MS);
}

static bool cell_gossip_live(enum gossip_state st)
{
	return st == GOSSIP_ALIVE || st == GOSSIP_SUSPECT;
}

/*
 * The map changed from old: it becomes the previous map (whose cells may
 * hold flows of shards they no longer own, see cell_ask), and the
 * shards whose primary changed are stamped.
 */
static void cell_shards_moved(struct cell *c, const struct shard_map *old)
{
	uint64_t now = evloop_now_ms();
	uint32_t s;

	if (!memcmp(old->cell, c->shards->cell, sizeof(old->cell)))
		return;
	for (s = 0; s < STEER_SHARDS; s++)
		if (old->cell[s][0] != c->shards->cell[s][0])
			c->moved_ms[s] = now;
	*c->prev = *old;
}

/* The cells: the members gossip holds alive (this node among them). */
void cell_shards_rebuild(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	uint16_t *ids = calloc(cl->n_nodes + 1, sizeof(*ids));
	struct steer_shard *prim = calloc(STEER_SHARDS, sizeof(*prim));
	struct shard_map *old = malloc(sizeof(*old));
	struct gossip_member_info mi;
	uint32_t i, n = 0;

	if (!ids || !prim || !old)
		goto out;
	*old = *c->shards;
	for (i = 0; i < cl->n_nodes; i++) {
		uint16_t id = cl->nodes[i].ep.id;

		/* Gossip's members not known dead, but those replication
		 * finds down: a killed cell is known there at once (its
		 * streams reset), a hung one in REPL_DEAD_MS; gossip's
		 * suspicion (a probe or two lost on a busy machine) is not
		 * enough to move shards, its verdict is. */
		if (id == cell_self(c) ||
		    (c->g && !c->down[i] && !gossip_member_get(c->g, id, &mi) &&
		     cell_gossip_live(mi.state)))
			ids[n++] = id;
	}
	if (shard_map_build(c->shards, ids, n, (uint8_t)cluster_rf_max(cl),
			    c->w.secret))
		goto out;
	cell_shards_moved(c, old);
	free(c->live);
	c->live = ids;
	c->n_live = n;
	ids = NULL;
	shard_map_primaries(c->shards, prim);
	if (xdp_maps_shards_set(c->xdp, prim))
		log_warn(MOD, "cannot write the shard map");
	if (c->repl)
		repl_shards_set(c->repl, c->shards);
	cell_pull_wait(c);
	c->st.shard_maps++;
	log_info(MOD, "%u cells live: primary of %u shards, mirror of %u", n,
		 shard_map_count(c->shards, cell_self(c), 0),
		 shard_map_count(c->shards, cell_self(c), 1));
out:
	free(ids);
	free(prim);
	free(old);
}

static void cell_on_member(void *ctx, const struct gossip_member_info *m,
			   enum gossip_state old)
{
	struct cell *c = ctx;
	const struct cluster_node *n;

	if (cell_gossip_live(m->state) == cell_gossip_live(old))
		return;
	/* Back from the dead by gossip's word: a new life, streams too. */
	n = cluster_node_by_id(c->w.cluster, m->id);
	if (n && cell_gossip_live(m->state))
		c->down[n - c->w.cluster->nodes] = 0;
	cell_shards_rebuild(c);
}

void cell_gossip_events(struct cell *c, struct gossip_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ctx = c;
	ev->member = cell_on_member;
}

void cell_gossip_attach(struct cell *c, struct gossip *g)
{
	c->g = g;
	cell_shards_rebuild(c);
}

/*
 * Every service picks among its healthy backends only: flows that have a
 * state keep theirs, new flows avoid the dead ones. The fast path's
 * services are the cluster's services with backends, in file order.
 */
static void cell_raise_sweep(struct cell *c, uint32_t budget, bool pick_only);

/* The services' live backends into the fast path; the picks may have
 * changed, so flows of one copy whose backend is not the pick any more
 * are raised at once. */
static int cell_rings(struct cell *c);

static void cell_backends_apply(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	struct fp_target *t;
	uint32_t i, j, n, svc = 0;

	for (i = 0; i < cl->n_services; i++) {
		const struct cluster_service *s = &cl->services[i];

		if (!s->n_backends)
			continue;
		t = calloc(s->n_backends, sizeof(*t));
		if (!t)
			return;
		for (j = 0, n = 0; j < s->n_backends; j++) {
			const struct cluster_backend *b =
				&cl->backends[s->backends[j]];

			if (!c->health || health_up(c->health, b->ep.id)) {
				t[n].id = b->ep.id;
				t[n++].weight = b->weight;
			}
		}
		if (fastpath_service_backends_set(c->w.fp, (uint16_t)svc, t, n))
			log_warn(MOD, "service '%s': cannot set its backends",
				 s->name);
		free(t);
		svc++;
	}
	if (c->xdp)
		cell_rings(c);
	if (c->ft)
		cell_raise_sweep(c, flowtab_capacity(c->ft), true);
}

static void cell_on_health(void *arg, uint16_t backend, bool up)
{
	cell_backends_apply(arg);
}

/* One check per backend: its address, the port of its first TCP service. */
static int cell_health_targets(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	struct health_target *t = calloc(cl->n_backends + 1, sizeof(*t));
	uint32_t i, j, k, n = 0;
	int err;

	if (!t)
		return -ENOMEM;
	for (i = 0; i < cl->n_backends; i++) {
		const struct cluster_backend *b = &cl->backends[i];
		const struct flow_addr *a = cell_addr_of(c, &b->ep);

		for (j = 0; a && j < cl->n_services; j++) {
			const struct cluster_service *s = &cl->services[j];

			if (s->proto != STEER_IPPROTO_TCP || !s->port)
				continue;
			for (k = 0; k < s->n_backends; k++)
				if (s->backends[k] == i)
					break;
			if (k == s->n_backends)
				continue;
			t[n].backend = b->ep.id;
			t[n].addr = *a;
			t[n++].port = ntohs(s->port);
			break;
		}
	}
	err = health_targets_set(c->health, t, n);
	free(t);
	return err;
}

/* Flows of one copy the predictor raises, gathered by a walk of at most
 * as many entries. */
#define CELL_RAISE_BATCH 1024

struct cell_raise_walk {
	struct cell *c;
	uint32_t now, n;
	bool pick_only; /* only flows whose backend is not the pick */
	struct {
		struct flow_key key;
		uint8_t why; /* enum cp_raise */
	} v[CELL_RAISE_BATCH];
};

static void cell_raise_visit(const struct flowtab_rec *r, void *arg)
{
	struct cell_raise_walk *w = arg;
	struct cell *c = w->c;
	bool pick_ok;
	enum cp_raise why;

	if (r->rf != 1 || r->primary != cell_self(c))
		return;
	pick_ok = cell_pick_is(c, r);
	if (w->pick_only && pick_ok)
		return;
	why = cell_predictor_raise(&c->pred, r,
				   (uint8_t)cell_rf_of(c, r->service), pick_ok,
				   w->now);
	if (why != CP_KEEP) {
		w->v[w->n].key = r->key;
		w->v[w->n++].why = (uint8_t)why;
	}
}

/*
 * Replication-policy predicted: flows of one copy that live on, or whose
 * backend stopped being the pick, get their service's replication. Walks
 * `budget` entries (the tick: the table once a second; after a reload:
 * all of it at once, pick_only, before a cell's death can find a flow
 * the successor would decide elsewhere).
 */
static void cell_raise_sweep(struct cell *c, uint32_t budget, bool pick_only)
{
	static struct cell_raise_walk w;
	const struct flowtab_rec *r;
	uint32_t i, step;

	if (c->w.cluster->repl_policy != CLUSTER_REPL_PREDICTED)
		return;
	w.c = c;
	w.now = cell_now_ms();
	w.pick_only = pick_only;
	while (budget) {
		step = budget < CELL_RAISE_BATCH ? budget : CELL_RAISE_BATCH;
		budget -= step;
		w.n = 0;
		flowtab_visit(c->ft, step, cell_raise_visit, &w);
		for (i = 0; i < w.n; i++) {
			r = flowtab_lookup(c->ft, &w.v[i].key);
			if (!r || cell_raise(c, r, w.now))
				continue;
			if (w.v[i].why == CP_REDERIVE)
				c->pred.rederive++;
			else if (w.v[i].why == CP_AT_RISK)
				c->pred.at_risk++;
			else
				c->pred.promoted++;
		}
	}
}

static void cell_on_tick(struct evloop *el, int64_t id, void *arg)
{
	struct cell *c = arg;

	xdp_maps_alive(c->xdp);
	node_tmpls_refresh(&c->tmpls, c->w.cluster, c->xdp);
	/* Three quarters full: half-open flows (a SYN flood's) go sooner. */
	flowtab_pressure_set(c->ft, flowtab_count(c->ft) >=
					    flowtab_capacity(c->ft) / 4 * 3);
	/* The whole table once a second: idle flows go within a second of
	 * their timeout. */
	flowtab_expire(c->ft, cell_now_ms(),
		       flowtab_capacity(c->ft) / (1000 / CELL_TICK_MS) + 1);
	/* Suspected by the others: at risk, every flow gets its mirrors. */
	if (cell_predictor_health(&c->pred,
				  c->g ? gossip_counters(c->g)->refutes : 0,
				  evloop_now_ms()))
		cell_raise_sweep(c, flowtab_capacity(c->ft), false);
	cell_raise_sweep(c, flowtab_capacity(c->ft) / (1000 / CELL_TICK_MS) + 1,
			 false);
	/* What waited and is released now leaves as one batch. */
	cell_batch_begin(c);
	hold_release(c->hold, evloop_now_ms(), cell_held_run, c);
	query_run(c->query, evloop_now_ms(), cell_query_send,
		  cell_query_release, c);
	cell_batch_end(c);
	cell_rules_sweep(c);
}

static void cell_on_netlink(struct evloop *el, int fd, uint32_t events,
			    void *arg)
{
	struct cell *c = arg;

	node_tmpls_refresh(&c->tmpls, c->w.cluster, c->xdp);
}

/* The services' Maglev tables into the XDP program's rings: the flood
 * guard sends guarded new flows to their backends by them. */
static int cell_rings(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	uint32_t i, n = 0;
	int err;

	for (i = 0; i < cl->n_services; i++)
		n += cl->services[i].n_backends != 0;
	err = node_xdp_rings(c->xdp, c->w.fp, n);
	if (err)
		log_warn(MOD, "the services' rings: %s", strerror(-err));
	return err;
}

/* Configuration, services and templates of the XDP program. */
static int cell_program(struct cell *c)
{
	const struct cluster *cl = c->w.cluster;
	int err;

	err = node_xdp_cfg(c->xdp, c->w.cluster, c->w.secret,
			   STEER_XDP_MODE_CELL);
	if (!err)
		err = node_xdp_svcs(c->xdp, cl, true);
	if (!err)
		err = node_tmpls_targets(&c->tmpls, cl, c->xdp,
					 NODE_TMPLS_SELF | NODE_TMPLS_BACKENDS);
	if (!err)
		node_tmpls_refresh(&c->tmpls, cl, c->xdp);
	return err;
}

int cell_world_set(struct cell *c, const struct cell_world *w)
{
	uint8_t *down = calloc(w->cluster->n_nodes, 1);
	const struct cluster_node *n;
	uint32_t i;
	int err;

	if (!down)
		return -ENOMEM;
	/* A cell known down stays down across a reload (by id). */
	for (i = 0; i < c->w.cluster->n_nodes; i++) {
		n = cluster_node_by_id(w->cluster,
				       c->w.cluster->nodes[i].ep.id);
		if (n && c->down[i])
			down[n - w->cluster->nodes] = 1;
	}
	free(c->down);
	c->down = down;
	c->w = *w;
	cell_predictor_world(&c->pred, w->cluster);
	err = cell_program(c);
	if (!err)
		err = repl_world_set(c->repl, w->cluster, NULL);
	if (!err)
		err = cell_health_targets(c);
	if (!err)
		cell_backends_apply(c);
	if (!err)
		cell_shards_rebuild(c);
	return err;
}

/*
 * The kernel drops a packet whose source is one of its own addresses
 * unless accept_local says otherwise; a miss this cell sends itself is
 * such a packet.
 */
static void cell_accept_local(const char *ifname)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local",
		 ifname);
	f = fopen(path, "we");
	if (!f || fputs("1\n", f) < 0)
		log_warn(MOD,
			 "%s: cannot set accept_local: misses this cell "
			 "sends itself are dropped",
			 ifname);
	if (f)
		fclose(f);
}

/* A queue per socket the exception path sends on: 0 or -ENOMEM. */
static int cell_sendqs_new(struct cell *c)
{
	int i, j, bad;

	c->sq_ctl = sendq_new();
	bad = !c->sq_ctl;
	for (i = 0; i < 2; i++) {
		c->sq_fwd[i] = sendq_new();
		bad |= !c->sq_fwd[i];
		for (j = 0; j < 2; j++) {
			c->sq_raw[i][j] = sendq_new();
			bad |= !c->sq_raw[i][j];
		}
	}
	return bad ? -ENOMEM : 0;
}

static int cell_sockets(struct cell *c, char *err, size_t errlen)
{
	c->exc_fd = cell_udp_bound(c, ntohs(c->w.cluster->gue_port));
	if (c->exc_fd < 0) {
		snprintf(err, errlen, "exception socket: %s",
			 strerror(-c->exc_fd));
		return c->exc_fd;
	}
	/* Receipt times, for the exception path's latency (a histogram
	 * only: a kernel that says no costs nothing else). */
	if (setsockopt(c->exc_fd, SOL_SOCKET, SO_TIMESTAMPNS, &(int){1},
		       sizeof(int)))
		log_warn(MOD, "exception socket: no receipt times: %s",
			 strerror(errno));
	c->ctl_fd = cell_udp_bound(c, ntohs(c->w.cluster->cell_ctl_port));
	if (c->ctl_fd < 0) {
		snprintf(err, errlen, "control socket on port %u: %s",
			 ntohs(c->w.cluster->cell_ctl_port),
			 strerror(-c->ctl_fd));
		return c->ctl_fd;
	}
	c->fwd_fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c->fwd_fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (cell_sendqs_new(c)) {
		snprintf(err, errlen, "send queues: out of memory");
		return -ENOMEM;
	}
	if (evloop_fd_add(c->el, c->exc_fd, EVLOOP_READ, cell_on_exception,
			  c) ||
	    evloop_fd_add(c->el, c->ctl_fd, EVLOOP_READ, cell_on_ctl, c)) {
		snprintf(err, errlen, "event loop: out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Replication says a cell's streams broke, or work again. */
static void cell_on_peer(void *arg, uint16_t id, bool up)
{
	struct cell *c = arg;
	const struct cluster_node *n = cluster_node_by_id(c->w.cluster, id);

	if (!n)
		return;
	c->down[n - c->w.cluster->nodes] = !up;
	cell_shards_rebuild(c);
}

/* A record the table changed goes to the flow's mirrors. */
static void cell_on_flow_change(const struct flowtab_rec *r, void *arg)
{
	struct cell *c = arg;

	if (c->repl)
		repl_record(c->repl, r);
}

/* A flow of this cell ended: the state prediction engine learns it. */
static void cell_on_flow_end(const struct flowtab_rec *r, void *arg)
{
	struct cell *c = arg;

	if (c->pred.spe)
		cell_predictor_end(&c->pred, r);
}

static int cell_repl_new(struct cell *c, char *err, size_t errlen)
{
	const struct cluster_endpoint *me = &cluster_self(c->w.cluster)->ep;
	struct repl_cfg rc = {
		.el = c->el,
		.auth = &c->auth,
		.ft = c->ft,
		.self_id = me->id,
		.incarnation = c->incarnation,
		.listen = me->has_v4 ? me->addr4 : me->addr6,
		.port = ntohs(c->w.cluster->repl_port),
		.now_ms = cell_now_ms,
		.on_peer = cell_on_peer,
		.on_peer_arg = c,
		.on_handback = cell_on_handback,
	};
	int ret;

	c->repl = repl_new(&rc);
	if (!c->repl) {
		ret = -errno;
		snprintf(err, errlen, "replication socket on port %u: %s",
			 rc.port, strerror(errno));
		return ret;
	}
	ret = repl_world_set(c->repl, c->w.cluster, NULL);
	if (ret)
		snprintf(err, errlen, "replication: %s", strerror(-ret));
	return ret;
}

static int cell_state_new(struct cell *c, const struct cell_opts *o, char *err,
			  size_t errlen)
{
	const struct cluster *cl = c->w.cluster;
	struct flowtab_cfg fc;
	struct gossip_key key;
	struct timeval tv;
	uint64_t margin;
	int ret;

	if (!o->key_file || !o->key_file[0]) {
		snprintf(err, errlen,
			 "%s: mode cell needs 'cluster-key-file': its control "
			 "messages are authenticated",
			 o->conf_path);
		return -EINVAL;
	}
	ret = gossip_key_from_file(&key, o->key_file);
	if (ret) {
		snprintf(err, errlen, "%s: %s", o->key_file,
			 gossip_key_strerror(ret));
		return ret;
	}
	ret = gossip_auth_init(&c->auth, &key, false);
	memset(&key, 0, sizeof(key));
	if (ret) {
		snprintf(err, errlen, "%s: %s", o->key_file, strerror(-ret));
		return ret;
	}
	cellmsg_replay_init(&c->replay);
	flowtab_cfg_default(&fc, o->flows ? o->flows : CELL_FLOWS_DEFAULT);
	/* The cell sees a flow's first packets and its close only (the fast
	 * path has the rule in between): the fast paths report the rules in
	 * use every sweep (TOUCH), so a flow idles out its timeout after its
	 * last report, two sweeps of margin added. */
	margin = 2 * cell_sweep_every_ms(&cl->fsc);
	fc.tcp_timeout_ms = fc.tcp_opening_timeout_ms =
		cl->fsc.tcp_timeout_ms + margin;
	fc.udp_timeout_ms = cl->fsc.udp_timeout_ms + margin;
	fc.other_timeout_ms = cl->fsc.other_timeout_ms + margin;
	/* A close it does see: FIN and RST come through the cell. */
	fc.tcp_closing_timeout_ms = cl->fsc.tcp_closing_timeout_ms;
	/* A live connection's rule is reported in use within a sweep of
	 * its first packets: one never reported, two sweeps on, is
	 * half-open (it goes then when the table is under pressure). */
	fc.tcp_halfopen_timeout_ms = (uint32_t)margin + 1000;
	fc.secret = *c->w.secret;
	fc.self_id = cluster_self(cl)->ep.id;
	fc.on_change = cell_on_flow_change;
	fc.on_end = cell_on_flow_end;
	fc.on_change_arg = c;
	c->ft = flowtab_new(&fc);
	if (cell_predictor_init(&c->pred, cl)) {
		snprintf(err, errlen, "state prediction engine: %s",
			 strerror(ENOMEM));
		return -ENOMEM;
	}
	c->predictor = &c->pred.dp;
	c->shards = calloc(1, sizeof(*c->shards));
	c->down = calloc(cl->n_nodes, 1);
	c->hold = hold_new();
	c->expect = calloc(1, sizeof(*c->expect));
	c->query = query_new();
	c->prev = calloc(1, sizeof(*c->prev));
	c->moved_ms = calloc(STEER_SHARDS, sizeof(*c->moved_ms));
	c->started_ms = evloop_now_ms();
	if (!c->ft || !c->shards || !c->down || !c->hold || !c->expect ||
	    !c->query || !c->prev || !c->moved_ms) {
		snprintf(err, errlen, "flow state: %s", strerror(errno));
		return -ENOMEM;
	}
	/* Sequences and epochs must grow across restarts. */
	gettimeofday(&tv, NULL);
	c->seq = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	c->incarnation = (uint32_t)tv.tv_sec;
	return cell_repl_new(c, err, errlen);
}

static int cell_xdp_load(struct cell *c, const struct cell_opts *conf,
			 char *err, size_t errlen)
{
	struct xdp_prog_opts xo = {0};
	char dir[PATH_MAX];
	int ret;

	if (conf->pin_dir && conf->pin_dir[0])
		snprintf(dir, sizeof(dir), "%s/xdp", conf->pin_dir);
	else
		snprintf(dir, sizeof(dir), "%s/%s/xdp", XDP_PROG_PIN_ROOT,
			 conf->interface);
	xo.pin_dir = dir;
	xo.max_flows = conf->flows;
	c->xdp = xdp_prog_open(&xo);
	if (!c->xdp) {
		snprintf(err, errlen, "XDP program: %s", strerror(errno));
		return -errno;
	}
	ret = cell_program(c);
	/* The rings; a reload writes them with the backends' health
	 * (cell_backends_apply()). A ring not written yet names no backend:
	 * its guarded flows go to the cell. */
	if (!ret)
		ret = cell_rings(c);
	if (ret) {
		snprintf(err, errlen, "XDP maps: %s", strerror(-ret));
		return ret;
	}
	if (conf->xdp_off) {
		log_warn(MOD, "xdp off: %s steers nothing", conf->interface);
		return 0;
	}
	ret = xdp_prog_attach(c->xdp, c->ifindex);
	if (ret)
		snprintf(err, errlen, "XDP on %s: %s", conf->interface,
			 strerror(-ret));
	return ret;
}

static int cell_health_new(struct cell *c, char *err, size_t errlen)
{
	struct health_cfg hc = {.el = c->el,
				.interval_ms = 1000,
				.timeout_ms = 500,
				.fall = 3,
				.rise = 2,
				.on_change = cell_on_health,
				.arg = c};
	int ret;

	c->health = health_new(&hc);
	if (!c->health) {
		snprintf(err, errlen, "health checks: %s", strerror(errno));
		return -errno;
	}
	ret = cell_health_targets(c);
	if (ret)
		snprintf(err, errlen, "health checks: %s", strerror(-ret));
	return ret;
}

struct cell *cell_start(struct evloop *el, const struct cell_opts *o,
			const struct cell_world *w, char *err, size_t errlen)
{
	struct cell *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->el = el;
	c->w = *w;
	c->exc_fd = c->ctl_fd = c->fwd_fd4 = c->fwd_fd6 = -1;
	memset(c->raw_fd, 0xff, sizeof(c->raw_fd));
	c->tmpls.nl_fd = c->tmpls.mon_fd = -1;
	c->ifindex = (int)if_nametoindex(o->interface);
	if (!c->ifindex) {
		snprintf(err, errlen,
			 "%s: mode cell needs an existing "
			 "'interface' ('%s')",
			 o->conf_path, o->interface);
		ret = -ENODEV;
		goto fail;
	}
	ret = node_tmpls_init(&c->tmpls, c->ifindex);
	if (ret) {
		snprintf(err, errlen, "%s: %s", o->interface, strerror(-ret));
		goto fail;
	}
	ret = cell_state_new(c, o, err, errlen);
	if (!ret)
		ret = cell_xdp_load(c, o, err, errlen);
	if (!ret)
		ret = cell_sockets(c, err, errlen);
	if (ret)
		goto fail;
	cell_accept_local(o->interface);
	ret = cell_health_new(c, err, errlen);
	if (ret)
		goto fail;
	if (c->tmpls.mon_fd >= 0)
		evloop_fd_add(el, c->tmpls.mon_fd, EVLOOP_READ, cell_on_netlink,
			      c);
	c->timer = evloop_timer_add(el, CELL_TICK_MS, CELL_TICK_MS,
				    cell_on_tick, c);
	if (c->timer < 0) {
		ret = (int)c->timer;
		snprintf(err, errlen, "timer: %s", strerror(-ret));
		goto fail;
	}
	cell_shards_rebuild(c); /* alone until gossip says otherwise */
	return c;
fail:
	cell_stop(c);
	errno = -ret;
	return NULL;
}

static void cell_fd_close(struct cell *c, int fd, int watched)
{
	if (fd < 0)
		return;
	if (watched)
		evloop_fd_del(c->el, fd);
	close(fd);
}

void cell_stop(struct cell *c)
{
	int i, j;

	if (!c)
		return;
	if (c->timer > 0)
		evloop_timer_del(c->el, c->timer);
	/* First: closing its streams tells the cell its peers are gone,
	 * which rebuilds the shard map into the XDP maps still open. */
	repl_free(c->repl);
	c->repl = NULL;
	cell_fd_close(c, c->tmpls.mon_fd, 1);
	c->tmpls.mon_fd = -1;
	cell_fd_close(c, c->exc_fd, 1);
	cell_fd_close(c, c->ctl_fd, 1);
	cell_fd_close(c, c->fwd_fd4, 0);
	cell_fd_close(c, c->fwd_fd6, 0);
	sendq_free(c->sq_ctl);
	for (i = 0; i < 2; i++) {
		sendq_free(c->sq_fwd[i]);
		for (j = 0; j < 2; j++) {
			cell_fd_close(c, c->raw_fd[i][j], 0);
			sendq_free(c->sq_raw[i][j]);
		}
	}
	xdp_prog_close(c->xdp);
	node_tmpls_free(&c->tmpls);
	cell_predictor_free(&c->pred);
	health_free(c->health);
	hold_free(c->hold);
	query_free(c->query);
	free(c->prev);
	free(c->moved_ms);
	free(c->live);
	free(c->expect);
	flowtab_free(c->ft);
	free(c->shards);
	free(c->down);
	cellmsg_replay_free(&c->replay);
	gossip_auth_wipe(&c->auth);
	free(c);
}
