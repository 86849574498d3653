// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/cell.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <sys/time.h>
#include <unistd.h>

#include <steer/gue.h>
#include <steer/parse.h>

#include "cell/cellmsg.h"
#include "cell/director.h"
#include "cell/health.h"
#include "cell/hold.h"
#include "cell/query.h"
#include "cell/repl.h"
#include "cell/shards.h"
#include "daemon/host.h"
#include "daemon/steerd.h"
#include "gossip/gossip_auth.h"
#include "state/flowtab.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"

#define MOD "cell"
#define CELL_RX_BURST 64
#define CELL_DGRAM_MAX 65536
#define CELL_FLOWS_DEFAULT (1u << 20)
/* For this long after a start, the shards this cell becomes primary of
 * wait for their mirrors' hand-back, each at most CELL_PULL_WAIT_MS. */
#define CELL_PULL_WINDOW_MS 5000u
#define CELL_PULL_WAIT_MS 1000u
/* For this long after a shard's primary changed, its other cells may
 * still hold flows this cell has no record of yet: a flow's first packet
 * (UDP, a SYN) is asked about too, not only mid-flow TCP. */
#define CELL_MOVED_ASK_MS 5000u
/* An exception that already waited for the other cells' answers. */
#define CELL_EXC_ASKED 1u

struct cell {
	struct evloop *el;
	const struct steerd_world *w;
	struct steerd_gossip *g;
	struct xdp_prog *xdp;
	struct flowtab *ft;
	struct repl *repl;
	struct health *health;
	struct gossip_auth auth;
	struct cellmsg_replay replay;
	struct cellmsg_counters ctl_rx;
	struct shard_map *shards;
	struct host_tmpls tmpls;
	int ifindex;
	int exc_fd;  /* exceptions in: UDP on the GUE port */
	int ctl_fd;  /* RULE in and out: UDP on CELLMSG_PORT */
	int fwd_fd4; /* to GUE variant 1 backends */
	int fwd_fd6;
	int raw_fd[2][2]; /* IP-in-IP: [outer v6][inner v6] */
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
	/* The mirroring director's predictor (NULL: the configuration). */
	const struct director_predictor *predictor;
	uint64_t started_ms; /* evloop clock */
	uint64_t swept_ms;   /* the fast path's rules, last swept */
	uint64_t pulled[STEER_SHARDS / 64]; /* shards handed back */
	/* Per shard, the cell a hand-back is expected from: the next in
	 * rank among the others not known dead (see cell_pull_wait). */
	struct shard_map *expect;
	struct cell_stats st;
};

const struct cell_stats *cell_stats(const struct cell *c)
{
	return &c->st;
}

struct xdp_prog *cell_xdp(struct cell *c)
{
	return c->xdp;
}

const struct host_tmpls *cell_tmpls(const struct cell *c)
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

static uint16_t cell_self(const struct cell *c)
{
	return cluster_self(&c->w->cluster)->ep.id;
}

static void cell_sockaddr(const struct flow_addr *a, uint16_t port,
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
static const struct flow_addr *cell_addr_of(const struct cell *c,
					    const struct cluster_endpoint *ep)
{
	const struct cluster_endpoint *me = &cluster_self(&c->w->cluster)->ep;

	if (me->has_v4 && ep->has_v4)
		return &ep->addr4;
	if (me->has_v6 && ep->has_v6)
		return &ep->addr6;
	return NULL;
}

/* A UDP socket bound to this node's address and port: fd or -errno. */
static int cell_udp_bound(const struct cell *c, uint16_t port)
{
	const struct cluster_endpoint *me = &cluster_self(&c->w->cluster)->ep;
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

/* --- rules: cell -> fast-path node -> XDP -------------------------- */

/* The fast path's clock of rule use (steer_rule.used). */
static uint32_t cell_rule_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint32_t)(((uint64_t)ts.tv_sec * 1000000000ull +
			   (uint64_t)ts.tv_nsec) >>
			  STEER_RULE_USED_SHIFT);
}

/* How often the fast path's rules are swept: every half of the shortest
 * idle timeout, 1 .. 30 s. */
static uint64_t cell_sweep_every_ms(const struct cluster_fsc *f)
{
	uint64_t every = f->udp_timeout_ms;

	if (f->tcp_timeout_ms < every)
		every = f->tcp_timeout_ms;
	if (f->other_timeout_ms < every)
		every = f->other_timeout_ms;
	every /= 2;
	return every < 1000 ? 1000 : every > 30000 ? 30000 : every;
}

/*
 * Send cell message m to node `to`'s control port, stamped as this cell's
 * next datagram. 0, or -EINVAL (no such node, no address of its family,
 * a message the codec refuses) or the socket's -errno.
 */
static int cell_ctl_send(struct cell *c, uint16_t to, struct cellmsg *m)
{
	const struct cluster_node *n = cluster_node_by_id(&c->w->cluster, to);
	const struct flow_addr *a = n ? cell_addr_of(c, &n->ep) : NULL;
	uint8_t buf[CELLMSG_DGRAM_MAX];
	struct sockaddr_storage ss;
	socklen_t slen;
	int len;

	if (!a)
		return -EINVAL;
	m->sender = cell_self(c);
	m->incarnation = c->incarnation;
	m->seq = ++c->seq;
	len = cellmsg_encode(&c->auth, m, buf, sizeof(buf));
	if (len < 0)
		return len;
	cell_sockaddr(a, CELLMSG_PORT, &ss, &slen);
	if (sendto(c->ctl_fd, buf, (size_t)len, MSG_DONTWAIT,
		   (struct sockaddr *)&ss, slen) != len)
		return -errno;
	return 0;
}

struct cell_sweep {
	struct cell *c;
	uint32_t now;
	uint64_t every_ms;
	struct cellmsg_touch *touch; /* by node index: uses to report */
};

/* Report the uses gathered for node index i to that cell (this one: at
 * once). */
static void cell_touch_flush(struct cell_sweep *sw, uint32_t i)
{
	struct cell *c = sw->c;
	const struct cluster_node *n = &c->w->cluster.nodes[i];
	struct cellmsg m = {.type = CELLMSG_TOUCH};
	uint32_t k;

	if (!sw->touch[i].count)
		return;
	if (n->ep.id == cell_self(c)) {
		for (k = 0; k < sw->touch[i].count; k++)
			c->st.touched += !flowtab_seen(
				c->ft, &sw->touch[i].keys[k], cell_now_ms());
		sw->touch[i].count = 0;
		return;
	}
	m.touch = sw->touch[i];
	sw->touch[i].count = 0;
	if (cell_ctl_send(c, n->ep.id, &m))
		c->st.touch_tx_err++;
	else
		c->st.touch_tx++;
}

/* A rule in use: its flow's primary cell (by this node's map) hears. */
static void cell_touch_add(struct cell_sweep *sw, const struct flow_key *k)
{
	struct cell *c = sw->c;
	uint16_t to = c->shards->cell[flowtab_shard_of(c->ft, k)][0];
	const struct cluster_node *n = cluster_node_by_id(&c->w->cluster, to);
	uint32_t i;

	if (!n || !sw->touch)
		return;
	i = (uint32_t)(n - c->w->cluster.nodes);
	sw->touch[i].keys[sw->touch[i].count++] = *k;
	if (sw->touch[i].count == CELLMSG_TOUCH_MAX)
		cell_touch_flush(sw, i);
}

/*
 * A BACKEND rule no packet met for longer than its flow's timeout goes:
 * the next packet asks the cell again, which still holds the state. One
 * that met packets since the last sweep is reported to the flow's cell,
 * which sees none of them and would idle the flow out.
 */
static int cell_rule_idle(const struct flow_key *k, const struct steer_rule *r,
			  void *arg)
{
	struct cell_sweep *sw = arg;
	const struct cluster_fsc *f = &sw->c->w->cluster.fsc;
	uint64_t idle_ns = (uint64_t)(uint32_t)(sw->now - r->used)
			   << STEER_RULE_USED_SHIFT;
	uint32_t ms = k->proto == STEER_IPPROTO_TCP   ? f->tcp_timeout_ms
		      : k->proto == STEER_IPPROTO_UDP ? f->udp_timeout_ms
						      : f->other_timeout_ms;

	if (r->action != STEER_ACT_BACKEND)
		return 0;
	if (idle_ns <= (uint64_t)ms * 1000000) {
		/* The stamp's unit is 2^30 ns: one more covers it. */
		if (idle_ns <=
		    (sw->every_ms * 1000000) + (1ull << STEER_RULE_USED_SHIFT))
			cell_touch_add(sw, k);
		return 0;
	}
	if (!xdp_maps_flow_del(sw->c->xdp, k))
		sw->c->st.rules_expired++;
	return 0;
}

/* A full walk of the rules, every cell_sweep_every_ms(). */
static void cell_rules_sweep(struct cell *c)
{
	const struct cluster *cl = &c->w->cluster;
	struct cell_sweep sw = {.c = c,
				.now = cell_rule_now(),
				.every_ms = cell_sweep_every_ms(&cl->fsc)};
	uint64_t now = evloop_now_ms();
	uint32_t i;

	if (now - c->swept_ms < sw.every_ms)
		return;
	c->swept_ms = now;
	sw.touch = calloc(cl->n_nodes, sizeof(*sw.touch));
	xdp_maps_flow_foreach(c->xdp, cell_rule_idle, &sw);
	for (i = 0; sw.touch && i < cl->n_nodes; i++)
		cell_touch_flush(&sw, i);
	free(sw.touch);
}

/* Install a RULE in this node's fast path. */
static void cell_rule_install(struct cell *c, const struct cellmsg_rule *r)
{
	struct steer_rule rule;

	memset(&rule, 0, sizeof(rule));
	rule.action = r->action;
	rule.owner = r->primary;
	rule.epoch = r->epoch;
	rule.tmpl = xdp_maps_tmpl_backend(r->backend);
	rule.mirror[0] = r->mirror[0];
	rule.mirror[1] = r->mirror[1];
	rule.rf = r->rf;
	rule.used = cell_rule_now();
	if (xdp_maps_rule_set(c->xdp, &r->key, &rule))
		c->st.rules_rx_err++;
	else
		c->st.rules_rx++;
}

static void cell_rule_of(const struct flowtab_rec *rec, struct cellmsg_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->key = rec->key;
	r->version = rec->version;
	r->epoch = rec->epoch;
	r->backend = rec->backend;
	r->primary = rec->primary;
	r->mirror[0] = rec->mirror[0];
	r->mirror[1] = rec->mirror[1];
	r->action = STEER_ACT_BACKEND;
	r->rf = rec->rf;
}

/* Tell fast-path node `to` the flow's rule (or install it, if that is
 * this node). */
static void cell_rule_send(struct cell *c, uint16_t to,
			   const struct flowtab_rec *rec)
{
	struct cellmsg m = {.type = CELLMSG_RULE};

	cell_rule_of(rec, &m.rule);
	if (to == cell_self(c))
		cell_rule_install(c, &m.rule);
	else if (cell_ctl_send(c, to, &m))
		c->st.rules_tx_err++;
	else
		c->st.rules_tx++;
}

/* A fast path's report of rules in use: the flows do not idle out. */
static void cell_touch_apply(struct cell *c, const struct cellmsg_touch *t)
{
	uint32_t i, now = cell_now_ms();

	c->st.touch_rx++;
	for (i = 0; i < t->count; i++)
		c->st.touched += !flowtab_seen(c->ft, &t->keys[i], now);
}

/* A mirrored packet: its record merges by the version rule. */
static void cell_mirror_apply(struct cell *c, const struct cellmsg_mirror *mm)
{
	struct flowtab_rec rec;
	int ret;

	c->st.mirror_rx++;
	repl_rec_from_wire(&mm->rec, &rec);
	ret = flowtab_apply(c->ft, &rec, cell_now_ms());
	if (ret > 0)
		c->st.mirror_applied++;
	else if (ret < 0)
		c->st.mirror_rx_err++;
}

/* Another cell asks whether this one holds flow k's state: the record,
 * or none. */
static void cell_query_answer(struct cell *c, uint16_t from,
			      const struct flow_key *k)
{
	const struct flowtab_rec *rec = flowtab_lookup(c->ft, k);
	struct cellmsg m = {.type = CELLMSG_ANSWER};

	c->st.query_rx++;
	m.ans.key = *k;
	if (rec) {
		m.ans.found = 1;
		repl_rec_to_wire(rec, &m.ans.rec);
		m.ans.rec.key = *k;
	}
	if (cell_ctl_send(c, from, &m))
		c->st.answer_tx_err++;
}

static void cell_query_send(void *arg, const struct flow_key *k, uint16_t to);
static void cell_query_release(void *arg, uint8_t *dg, size_t len, bool found);

/* A cell's answer to this one's question: its record merges by the
 * version rule; the flow waits no more once one came (query_run). */
static void cell_answer_apply(struct cell *c, uint16_t from,
			      const struct cellmsg_answer *a)
{
	struct flowtab_rec rec;

	c->st.answer_rx++;
	if (a->found) {
		repl_rec_from_wire(&a->rec, &rec);
		if (flowtab_apply(c->ft, &rec, cell_now_ms()) < 0)
			c->st.answer_refused++;
	}
	query_answer(c->query, &a->key, from, a->found);
	query_run(c->query, evloop_now_ms(), cell_query_send,
		  cell_query_release, c);
}

static void cell_on_ctl(struct evloop *el, int fd, uint32_t events, void *arg)
{
	static uint8_t buf[CELL_DGRAM_MAX];
	struct cell *c = arg;
	enum cellmsg_rx_reason r;
	struct cellmsg m;
	ssize_t n;
	int i;

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
}

/* --- the exception path ---------------------------------------------- */

/* Send the inner IP packet to backend b as its encapsulation asks. */
static void cell_forward(struct cell *c, const struct cluster_backend *b,
			 const uint8_t *ip, size_t len, int inner_v6)
{
	const struct flow_addr *a = cell_addr_of(c, &b->ep);
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd, v6;

	if (!a) {
		c->st.fwd_err++;
		return;
	}
	v6 = !flow_addr_is_v4(a);
	if (b->encap == STEER_TMPL_GUE1) {
		/* GUE variant 1: the inner packet is the UDP payload. */
		cell_sockaddr(a, ntohs(b->port), &ss, &slen);
		fd = v6 ? c->fwd_fd6 : c->fwd_fd4;
	} else {
		/* IP-in-IP: the kernel writes the outer header. */
		cell_sockaddr(a, 0, &ss, &slen);
		fd = c->raw_fd[v6][inner_v6];
		if (fd < 0) {
			fd = socket(v6 ? AF_INET6 : AF_INET,
				    SOCK_RAW | SOCK_CLOEXEC,
				    inner_v6 ? IPPROTO_IPV6 : IPPROTO_IPIP);
			c->raw_fd[v6][inner_v6] = fd;
		}
	}
	if (fd < 0 ||
	    sendto(fd, ip, len, MSG_DONTWAIT, (struct sockaddr *)&ss, slen) < 0)
		c->st.fwd_err++;
	else
		c->st.fwd++;
}

/* The cluster's service of the fast path's service index svc (the
 * services with backends, in file order), or NULL. */
static const struct cluster_service *cell_service(const struct cell *c,
						  uint16_t svc)
{
	const struct cluster *cl = &c->w->cluster;
	uint32_t i, n = 0;

	for (i = 0; i < cl->n_services; i++) {
		if (!cl->services[i].n_backends)
			continue;
		if (n++ == svc)
			return &cl->services[i];
	}
	return NULL;
}

static uint32_t cell_rf_of(const struct cell *c, uint16_t svc)
{
	const struct cluster_service *s = cell_service(c, svc);

	return s ? cluster_service_rf(&c->w->cluster, s)
		 : c->w->cluster.replication;
}

static uint8_t cell_mirror_mode(const struct cell *c, uint16_t svc)
{
	const struct cluster_service *s = cell_service(c, svc);

	return s ? s->mirror_pkts : CLUSTER_MIRROR_STATE;
}

/* The profile of flow k of service svc, of a shard this cell is primary
 * of, as the shard map has it now: the mirroring director's. */
static void cell_profile(const struct cell *c, const uint16_t *cells,
			 const struct flow_key *k, uint16_t svc,
			 uint16_t *primary, uint16_t *mirror, uint8_t *rf)
{
	uint16_t ranked[1 + STEER_MAX_MIRRORS];
	struct director_flow f = {.key = k,
				  .service = svc,
				  .rf_config = (uint8_t)cell_rf_of(c, svc),
				  .ranked = ranked,
				  .n_ranked = c->shards->rf};
	uint32_t i;

	ranked[0] = cell_self(c);
	for (i = 1; i < 1 + STEER_MAX_MIRRORS; i++)
		ranked[i] = cells[i];
	if (f.n_ranked > 1 + STEER_MAX_MIRRORS)
		f.n_ranked = 1 + STEER_MAX_MIRRORS;
	director_profile(c->predictor, &f, primary, mirror, rf);
}

/*
 * A copy this cell holds as a mirror, of a shard it is now primary of
 * (its primary died): this cell adopts it, with the mirrors of today's
 * map, at a newer version that goes to them.
 */
static const struct flowtab_rec *cell_adopt(struct cell *c,
					    const struct flowtab_rec *rec,
					    const uint16_t *cells, uint32_t now)
{
	struct flowtab_rec r = *rec;

	cell_profile(c, cells, &r.key, r.service, &r.primary, r.mirror, &r.rf);
	r.version = rec->version + 1;
	if (flowtab_apply(c->ft, &r, now) <= 0)
		return rec;
	rec = flowtab_lookup(c->ft, &r.key);
	if (rec && c->repl)
		repl_record(c->repl, rec);
	c->st.adopted++;
	return rec;
}

/* The state of flow k: found, or created with a backend (*created).
 * NULL: none. */
static const struct flowtab_rec *
cell_flow(struct cell *c, const struct flow_key *k, uint32_t now, bool *created)
{
	const struct flowtab_rec *rec = flowtab_lookup(c->ft, k);
	uint64_t h = flow_hash(k, &c->w->secret);
	const uint16_t *cells = c->shards->cell[shard_of_hash(h)];
	struct flowtab_params p = {.epoch = c->incarnation};
	int err;

	if (rec && rec->primary != cell_self(c) && cells[0] == cell_self(c))
		return cell_adopt(c, rec, cells, now);
	if (rec)
		return rec;
	err = fastpath_backend_pick(c->w->fp, k, h, &p.service, &p.backend);
	if (err) {
		if (err == -ENOENT)
			c->st.no_service++;
		else
			c->st.no_backend++;
		return NULL;
	}
	cell_profile(c, cells, k, p.service, &p.primary, p.mirror, &p.rf);
	rec = flowtab_create(c->ft, k, &p, now);
	if (!rec) {
		c->st.table_full += errno == ENOSPC;
		return NULL;
	}
	c->st.flows_created++;
	*created = true;
	return rec;
}

/*
 * Packet mirroring: the packet's head and the flow's record after it, to
 * each mirror cell of the flow, as one MIRROR datagram each.
 */
static void cell_mirror_send(struct cell *c, const struct flowtab_rec *rec,
			     const uint8_t *ip, size_t ilen)
{
	struct cellmsg m = {.type = CELLMSG_MIRROR};
	uint32_t i;

	repl_rec_to_wire(rec, &m.mir.rec);
	m.mir.orig_len = (uint16_t)(ilen > 65535 ? 65535 : ilen);
	m.mir.cap_len =
		(uint16_t)(ilen < CELLMSG_MIRROR_CAP ? ilen
						     : CELLMSG_MIRROR_CAP);
	memcpy(m.mir.pkt, ip, m.mir.cap_len);
	for (i = 0; i + 1 < rec->rf && i < STEER_MAX_MIRRORS; i++) {
		if (cell_ctl_send(c, rec->mirror[i], &m))
			c->st.mirror_tx_err++;
		else
			c->st.mirror_tx++;
	}
}

/* Does this packet go to the mirrors, by its service's mode? */
static bool cell_mirror_wanted(uint8_t mode, bool changed, uint8_t tcp_flags)
{
	if (mode == CLUSTER_MIRROR_ALL)
		return true;
	return mode == CLUSTER_MIRROR_STATE &&
	       (changed ||
		(tcp_flags & (STEER_TCP_SYN | STEER_TCP_FIN | STEER_TCP_RST)));
}

/*
 * A flow without state in a shard whose state is on its way back to this
 * restarted cell: its datagram waits (true), to be run when it arrives.
 */
static bool cell_held(struct cell *c, const struct flow_key *k,
		      const uint8_t *dg, size_t len)
{
	uint32_t shard = flowtab_shard_of(c->ft, k);

	if (!hold_waiting(c->hold, shard) || flowtab_lookup(c->ft, k))
		return false;
	hold_put(c->hold, shard, dg, len);
	return true;
}

/*
 * A new flow of a shard another cell is primary of, by this cell's map:
 * only the primary decides (it alone has the shard's state), so the
 * datagram goes on to it, once more at most (maps that disagree for a
 * moment must not bounce it for ever; then this cell decides). True when
 * relayed.
 */
static bool cell_relayed(struct cell *c, const struct flow_key *k, uint8_t *dg,
			 size_t len)
{
	struct steer_gue_priv *pd =
		(struct steer_gue_priv *)(dg + sizeof(struct steer_guehdr));
	uint32_t shard = flowtab_shard_of(c->ft, k);
	uint16_t to = c->shards->cell[shard][0];
	const struct cluster_node *n;
	const struct flow_addr *a;
	struct sockaddr_storage ss;
	socklen_t slen;

	if (to == cell_self(c) || to == STEER_NODE_NONE || pd->hops >= 2 ||
	    flowtab_lookup(c->ft, k))
		return false;
	n = cluster_node_by_id(&c->w->cluster, to);
	a = n ? cell_addr_of(c, &n->ep) : NULL;
	if (!a)
		return false;
	pd->hops++;
	cell_sockaddr(a, ntohs(c->w->cluster.gue_port), &ss, &slen);
	if (sendto(c->exc_fd, dg, len, MSG_DONTWAIT, (struct sockaddr *)&ss,
		   slen) < 0)
		c->st.relay_err++;
	else
		c->st.relayed++;
	return true;
}

/* Is c among the live cells of the map? */
static bool cell_is_live(const struct cell *c, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < c->n_live; i++)
		if (c->live[i] == id)
			return true;
	return false;
}

/* Add id to ids[0..*n) unless it is this cell, not live, there already or
 * the list is full. */
static void cell_ask_add(const struct cell *c, uint16_t *ids, uint32_t *n,
			 uint16_t id)
{
	uint32_t i;

	if (id == cell_self(c) || *n == QUERY_ASK_MAX || !cell_is_live(c, id))
		return;
	for (i = 0; i < *n; i++)
		if (ids[i] == id)
			return;
	ids[(*n)++] = id;
}

/*
 * The cells that may hold a flow of shard: its mirrors, its cells of the
 * map before (the previous primary and mirrors), then every other live
 * cell, QUERY_ASK_MAX at most. Returns how many.
 */
static uint32_t cell_ask_list(const struct cell *c, uint32_t shard,
			      uint16_t *ids)
{
	uint32_t i, n = 0;

	for (i = 0; i < 1 + STEER_MAX_MIRRORS; i++)
		cell_ask_add(c, ids, &n, c->shards->cell[shard][i]);
	for (i = 0; i < 1 + STEER_MAX_MIRRORS; i++)
		cell_ask_add(c, ids, &n, c->prev->cell[shard][i]);
	for (i = 0; i < c->n_live; i++)
		cell_ask_add(c, ids, &n, c->live[i]);
	return n;
}

static void cell_query_send(void *arg, const struct flow_key *k, uint16_t to)
{
	struct cell *c = arg;
	struct cellmsg m = {.type = CELLMSG_QUERY};

	m.query = *k;
	if (cell_ctl_send(c, to, &m))
		c->st.query_tx_err++;
	else
		c->st.query_tx++;
}

/*
 * A flow this cell holds no record of, from a packet that is not a
 * flow's first (TCP without SYN), or not known to be (UDP and others) in
 * a shard whose primary changed a moment ago: another cell may hold it, and deciding it again could move
 * a live connection to another backend. The datagram waits while the
 * cells that may hold it are asked (true); false: decide now (a first
 * packet, or nobody to ask).
 */
static bool cell_asked(struct cell *c, const struct pkt_meta *m,
		       const uint8_t *dg, size_t len)
{
	uint32_t shard = flowtab_shard_of(c->ft, &m->key), n, i;
	uint16_t ids[QUERY_ASK_MAX];
	bool tcp = m->key.proto == STEER_IPPROTO_TCP;
	int ret;

	/* A SYN opens a connection: new. A UDP flow's first packet looks
	 * like any other: new unless its shard just moved. */
	if (tcp && (m->tcp_flags & STEER_TCP_SYN))
		return false;
	if (!tcp && evloop_now_ms() - c->moved_ms[shard] > CELL_MOVED_ASK_MS)
		return false;
	if (flowtab_lookup(c->ft, &m->key))
		return false;
	n = cell_ask_list(c, shard, ids);
	if (!n)
		return false;
	ret = query_hold(c->query, &m->key, ids, n, dg, len, evloop_now_ms());
	for (i = 0; ret == 1 && i < n; i++)
		cell_query_send(c, &m->key, ids[i]);
	return true;
}

/*
 * One exception datagram: GUE header, steer's private data, the inner IP
 * packet. A frame is made of the inner packet behind a dummy Ethernet
 * header, so the one parser keys it as the fast path did. flags:
 * CELL_EXC_ASKED when the other cells were asked about it already.
 */
static void cell_exception(struct cell *c, uint8_t *dg, size_t len,
			   uint8_t *frame, uint32_t now, uint32_t flags)
{
	const struct steer_guehdr *g = (const void *)dg;
	const struct steer_gue_priv *pd = (const void *)(g + 1);
	const struct flowtab_rec *rec;
	const struct cluster_backend *b;
	struct parse_cfg pc = {.gue_port = 0, .max_encap = 0};
	size_t hdr = sizeof(*g) + sizeof(*pd), ilen;
	bool created = false, changed;
	struct pkt_meta m;
	uint8_t *ip = dg + hdr, mode;

	c->st.exc_rx++;
	if (len <= hdr || STEER_GUE_VER(g->vch) != 0 ||
	    STEER_GUE_HLEN(g->vch) != STEER_GUE_PRIV_WORDS ||
	    pd->magic != STEER_GUE_PRIV_MAGIC ||
	    !(pd->flags & STEER_GUE_F_EXCEPTION) || len - hdr > 65535) {
		c->st.exc_bad++;
		return;
	}
	ilen = len - hdr;
	memset(frame, 0, sizeof(struct steer_ethhdr));
	((struct steer_ethhdr *)frame)->proto =
		htons((ip[0] >> 4) == 6 ? STEER_ETH_P_IPV6 : STEER_ETH_P_IP);
	memcpy(frame + sizeof(struct steer_ethhdr), ip, ilen);
	if (parse_packet(frame, frame + sizeof(struct steer_ethhdr) + ilen, &pc,
			 &m)) {
		c->st.exc_parse++;
		return;
	}
	if (cell_held(c, &m.key, dg, len) || cell_relayed(c, &m.key, dg, len))
		return;
	if (!(flags & CELL_EXC_ASKED) && cell_asked(c, &m, dg, len))
		return;
	rec = cell_flow(c, &m.key, now, &created);
	if (!rec)
		return;
	changed = flowtab_touch(c->ft, &m.key, (uint32_t)ilen, m.tcp_flags,
				now) == 1;
	rec = flowtab_lookup(c->ft, &m.key);
	if (!rec)
		return;
	mode = cell_mirror_mode(c, rec->service);
	if (cell_mirror_wanted(mode, created || changed, m.tcp_flags))
		cell_mirror_send(c, rec, ip, ilen);
	/* A closing flow's last packets come this way (the fast path dropped
	 * its rule with the FIN or RST), and so do all of an ALL service. */
	if (mode != CLUSTER_MIRROR_ALL && rec->state != FLOWTAB_ST_CLOSING)
		cell_rule_send(c, ntohs(pd->origin), rec);
	b = cluster_backend_by_id(&c->w->cluster, rec->backend);
	if (b)
		cell_forward(c, b, ip, ilen, m.family == 6);
	else
		c->st.no_backend++;
}

static void cell_on_exception(struct evloop *el, int fd, uint32_t events,
			      void *arg)
{
	static uint8_t dg[CELL_DGRAM_MAX];
	/* The frame starts STEER_FRAME_ALIGN_OFF into an aligned buffer. */
	static uint8_t frame[CELL_DGRAM_MAX + 64] __attribute__((aligned(8)));
	struct cell *c = arg;
	uint32_t now = cell_now_ms();
	ssize_t n;
	int i;

	for (i = 0; i < CELL_RX_BURST; i++) {
		n = recv(fd, dg, sizeof(dg), MSG_DONTWAIT);
		if (n < 0)
			break;
		cell_exception(c, dg, (size_t)n, frame + STEER_FRAME_ALIGN_OFF,
			       now, 0);
	}
}

/* A held datagram whose shard's state is here (or waited long enough). */
static void cell_held_run(void *arg, uint8_t *dg, size_t len)
{
	static uint8_t frame[HOLD_DGRAM_MAX + 64] __attribute__((aligned(8)));

	cell_exception(arg, dg, len, frame + STEER_FRAME_ALIGN_OFF,
		       cell_now_ms(), 0);
}

/* A datagram whose flow the other cells were asked about: its record is
 * here now (found), or nobody had one and it is decided. */
static void cell_query_release(void *arg, uint8_t *dg, size_t len, bool found)
{
	static uint8_t frame[QUERY_DGRAM_MAX + 64] __attribute__((aligned(8)));

	(void)found;
	cell_exception(arg, dg, len, frame + STEER_FRAME_ALIGN_OFF,
		       cell_now_ms(), CELL_EXC_ASKED);
}

/* --- shards ------------------------------------------------------------ */

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
		hold_release(c->hold, evloop_now_ms(), cell_held_run, c);
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
	const struct cluster *cl = &c->w->cluster;
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
		    (c->g &&
		     !gossip_member_get(steerd_gossip_node(c->g), id, &mi) &&
		     (mi.state == GOSSIP_DEAD || mi.state == GOSSIP_LEFT)))
			continue;
		ids[n++] = id;
	}
	for (s = 0; s < STEER_SHARDS; s++)
		old[s] = c->expect->cell[s][0];
	err = shard_map_build(c->expect, ids, n, 1, &c->w->secret);
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
static void cell_shards_rebuild(struct cell *c)
{
	const struct cluster *cl = &c->w->cluster;
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
		    (c->g && !c->down[i] &&
		     !gossip_member_get(steerd_gossip_node(c->g), id, &mi) &&
		     cell_gossip_live(mi.state)))
			ids[n++] = id;
	}
	if (shard_map_build(c->shards, ids, n, (uint8_t)cluster_rf_max(cl),
			    &c->w->secret))
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
	n = cluster_node_by_id(&c->w->cluster, m->id);
	if (n && cell_gossip_live(m->state))
		c->down[n - c->w->cluster.nodes] = 0;
	cell_shards_rebuild(c);
}

void cell_gossip_events(struct cell *c, struct gossip_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ctx = c;
	ev->member = cell_on_member;
}

void cell_gossip_attach(struct cell *c, struct steerd_gossip *g)
{
	c->g = g;
	cell_shards_rebuild(c);
}

/* --- backends' health --------------------------------------------------- */

/*
 * Every service picks among its healthy backends only: flows that have a
 * state keep theirs, new flows avoid the dead ones. The fast path's
 * services are the cluster's services with backends, in file order.
 */
static void cell_backends_apply(struct cell *c)
{
	const struct cluster *cl = &c->w->cluster;
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
		if (fastpath_service_backends_set(c->w->fp, (uint16_t)svc, t,
						  n))
			log_warn(MOD, "service '%s': cannot set its backends",
				 s->name);
		free(t);
		svc++;
	}
}

static void cell_on_health(void *arg, uint16_t backend, bool up)
{
	cell_backends_apply(arg);
}

/* One check per backend: its address, the port of its first TCP service. */
static int cell_health_targets(struct cell *c)
{
	const struct cluster *cl = &c->w->cluster;
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

/* --- life cycle ---------------------------------------------------------- */

static void cell_on_tick(struct evloop *el, int64_t id, void *arg)
{
	struct cell *c = arg;

	xdp_maps_alive(c->xdp);
	host_tmpls_refresh(&c->tmpls, &c->w->cluster, c->xdp);
	/* The whole table once a second: idle flows go within a second of
	 * their timeout. */
	flowtab_expire(c->ft, cell_now_ms(),
		       flowtab_capacity(c->ft) / (1000 / CELL_TICK_MS) + 1);
	hold_release(c->hold, evloop_now_ms(), cell_held_run, c);
	query_run(c->query, evloop_now_ms(), cell_query_send,
		  cell_query_release, c);
	cell_rules_sweep(c);
}

static void cell_on_netlink(struct evloop *el, int fd, uint32_t events,
			    void *arg)
{
	struct cell *c = arg;

	host_tmpls_refresh(&c->tmpls, &c->w->cluster, c->xdp);
}

/* Configuration, services and templates of the XDP program. */
static int cell_program(struct cell *c)
{
	const struct cluster *cl = &c->w->cluster;
	int err;

	err = host_cfg_program(c->xdp, c->w, STEER_XDP_MODE_CELL);
	if (!err)
		err = host_svcs_program(c->xdp, cl, true);
	if (!err)
		err = host_tmpls_targets(&c->tmpls, cl, c->xdp,
					 HOST_TMPLS_SELF | HOST_TMPLS_BACKENDS);
	if (!err)
		host_tmpls_refresh(&c->tmpls, cl, c->xdp);
	return err;
}

int cell_world_set(struct cell *c, const struct steerd_world *w)
{
	uint8_t *down = calloc(w->cluster.n_nodes, 1);
	const struct cluster_node *n;
	uint32_t i;
	int err;

	if (!down)
		return -ENOMEM;
	/* A cell known down stays down across a reload (by id). */
	for (i = 0; i < c->w->cluster.n_nodes; i++) {
		n = cluster_node_by_id(&w->cluster,
				       c->w->cluster.nodes[i].ep.id);
		if (n && c->down[i])
			down[n - w->cluster.nodes] = 1;
	}
	free(c->down);
	c->down = down;
	c->w = w;
	err = cell_program(c);
	if (!err)
		err = repl_world_set(c->repl, &w->cluster, NULL);
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

static int cell_sockets(struct cell *c, char *err, size_t errlen)
{
	c->exc_fd = cell_udp_bound(c, ntohs(c->w->cluster.gue_port));
	if (c->exc_fd < 0) {
		snprintf(err, errlen, "exception socket: %s",
			 strerror(-c->exc_fd));
		return c->exc_fd;
	}
	c->ctl_fd = cell_udp_bound(c, CELLMSG_PORT);
	if (c->ctl_fd < 0) {
		snprintf(err, errlen, "control socket on port %u: %s",
			 CELLMSG_PORT, strerror(-c->ctl_fd));
		return c->ctl_fd;
	}
	c->fwd_fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	c->fwd_fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
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
	const struct cluster_node *n = cluster_node_by_id(&c->w->cluster, id);

	if (!n)
		return;
	c->down[n - c->w->cluster.nodes] = !up;
	cell_shards_rebuild(c);
}

/* A record the table changed goes to the flow's mirrors. */
static void cell_on_flow_change(const struct flowtab_rec *r, void *arg)
{
	struct cell *c = arg;

	if (c->repl)
		repl_record(c->repl, r);
}

static int cell_repl_new(struct cell *c, char *err, size_t errlen)
{
	const struct cluster_endpoint *me = &cluster_self(&c->w->cluster)->ep;
	struct repl_cfg rc = {
		.el = c->el,
		.auth = &c->auth,
		.ft = c->ft,
		.self_id = me->id,
		.incarnation = c->incarnation,
		.listen = me->has_v4 ? me->addr4 : me->addr6,
		.port = REPL_PORT,
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
			 REPL_PORT, strerror(errno));
		return ret;
	}
	ret = repl_world_set(c->repl, &c->w->cluster, NULL);
	if (ret)
		snprintf(err, errlen, "replication: %s", strerror(-ret));
	return ret;
}

static int cell_state_new(struct cell *c, char *err, size_t errlen)
{
	const struct cluster *cl = &c->w->cluster;
	struct flowtab_cfg fc;
	struct gossip_key key;
	struct timeval tv;
	uint64_t margin;
	int ret;

	if (!c->w->conf.key_file[0]) {
		snprintf(err, errlen,
			 "%s: mode cell needs 'cluster-key-file': its control "
			 "messages are authenticated",
			 c->w->conf.path);
		return -EINVAL;
	}
	ret = gossip_key_from_file(&key, c->w->conf.key_file);
	if (!ret)
		ret = gossip_auth_init(&c->auth, &key, false);
	memset(&key, 0, sizeof(key));
	if (ret) {
		snprintf(err, errlen, "%s: %s", c->w->conf.key_file,
			 strerror(-ret));
		return ret;
	}
	cellmsg_replay_init(&c->replay);
	flowtab_cfg_default(&fc, CELL_FLOWS_DEFAULT);
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
	fc.secret = c->w->secret;
	fc.self_id = cluster_self(cl)->ep.id;
	fc.on_change = cell_on_flow_change;
	fc.on_change_arg = c;
	c->ft = flowtab_new(&fc);
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

static int cell_xdp_load(struct cell *c, char *err, size_t errlen)
{
	const struct steerd_conf *conf = &c->w->conf;
	struct xdp_prog_opts xo = {0};
	char dir[PATH_MAX];
	int ret;

	if (conf->pin_dir[0])
		snprintf(dir, sizeof(dir), "%s/xdp", conf->pin_dir);
	else
		snprintf(dir, sizeof(dir), "%s/%s/xdp", XDP_PROG_PIN_ROOT,
			 conf->interface);
	xo.pin_dir = dir;
	c->xdp = xdp_prog_open(&xo);
	if (!c->xdp) {
		snprintf(err, errlen, "XDP program: %s", strerror(errno));
		return -errno;
	}
	ret = cell_program(c);
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

struct cell *cell_start(struct evloop *el, const struct steerd_world *w,
			char *err, size_t errlen)
{
	struct cell *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->el = el;
	c->w = w;
	c->exc_fd = c->ctl_fd = c->fwd_fd4 = c->fwd_fd6 = -1;
	memset(c->raw_fd, 0xff, sizeof(c->raw_fd));
	c->tmpls.nl_fd = c->tmpls.mon_fd = -1;
	c->ifindex = (int)if_nametoindex(w->conf.interface);
	if (!c->ifindex) {
		snprintf(err, errlen,
			 "%s: mode cell needs an existing "
			 "'interface' ('%s')",
			 w->conf.path, w->conf.interface);
		ret = -ENODEV;
		goto fail;
	}
	ret = host_tmpls_init(&c->tmpls, c->ifindex);
	if (ret) {
		snprintf(err, errlen, "%s: %s", w->conf.interface,
			 strerror(-ret));
		goto fail;
	}
	ret = cell_state_new(c, err, errlen);
	if (!ret)
		ret = cell_xdp_load(c, err, errlen);
	if (!ret)
		ret = cell_sockets(c, err, errlen);
	if (ret)
		goto fail;
	cell_accept_local(w->conf.interface);
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
	cell_fd_close(c, c->tmpls.mon_fd, 1);
	c->tmpls.mon_fd = -1;
	cell_fd_close(c, c->exc_fd, 1);
	cell_fd_close(c, c->ctl_fd, 1);
	cell_fd_close(c, c->fwd_fd4, 0);
	cell_fd_close(c, c->fwd_fd6, 0);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			cell_fd_close(c, c->raw_fd[i][j], 0);
	xdp_prog_close(c->xdp);
	host_tmpls_free(&c->tmpls);
	repl_free(c->repl);
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
