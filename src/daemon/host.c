// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/host.h"

#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "node/node_load.h"
#include "node/phc.h"
#include "daemon/steerd.h"
#include "node/node_xdp.h"
#include "util/log.h"
#include "xdp/sockops.h"
#include "xdp/xdp_maps.h"

#define MOD "host"

struct host {
	struct evloop *el;
	const struct steerd_world *w;
	struct steerd_gossip *g; /* NULL until attached */
	struct xdp_prog *xdp;
	struct sockops *so;
	struct ring_buffer *rb;
	int rb_fd;
	int ifindex; /* 0: not attached ('xdp off') */
	int64_t timer;
	struct node_tmpls tmpls;
	struct node_load load;
	uint64_t *dead_since; /* by node index: ms, 0 while alive */
	/* Directory: each shard's first two homes, as steer_shards holds
	 * them; rewritten (homes_timer) after the live members change. */
	struct steer_shard *homes;
	int64_t homes_timer;
	int64_t reconcile_timer;
	struct phc *phc; /* the predictive header cache (hints received) */
	host_session_fn on_close; /* an own session closed (hints) */
	void *on_close_ctx;
	host_order_fn on_order; /* an operator's order from another node */
	void *on_order_ctx;
	struct host_stats st;
};

const struct host_stats *host_stats(const struct host *h)
{
	return &h->st;
}

const struct node_tmpls *host_tmpls(const struct host *h)
{
	return &h->tmpls;
}

struct xdp_prog *host_xdp(struct host *h)
{
	return h->xdp;
}

struct sockops *host_sockops(struct host *h)
{
	return h->so;
}

static uint16_t host_self_id(const struct host *h)
{
	return cluster_self(&h->w->cluster)->ep.id;
}

/* Is k a session of one of the node's own services? */
static int host_is_service(const struct host *h, const struct flow_key *k)
{
	const struct cluster *c = &h->w->cluster;
	uint32_t i, any = 0;

	for (i = 0; i < c->n_services; i++) {
		const struct cluster_service *s = &c->services[i];

		if (s->n_backends)
			continue;
		any = 1;
		if (s->proto == k->proto &&
		    !memcmp(&s->vip, &k->dst, sizeof(s->vip)) &&
		    (!s->port || s->port == k->dport))
			return 1;
	}
	return !any && k->proto == STEER_IPPROTO_TCP;
}

/* Does the cluster list services the nodes terminate (no backends)? */
static bool host_has_services(const struct cluster *c)
{
	uint32_t i;

	for (i = 0; i < c->n_services; i++)
		if (!c->services[i].n_backends)
			return true;
	return false;
}

/* max(wall-clock seconds, the epoch gossip knows for k + 1). */
static uint32_t host_epoch(const struct host *h, const struct flow_key *k)
{
	struct gossip_session_info si;
	uint32_t now = (uint32_t)time(NULL);

	if (h->g && !gossip_session_lookup(steerd_gossip_node(h->g), k, &si) &&
	    si.epoch >= now)
		return si.epoch + 1;
	return now;
}

static void host_announce(struct host *h, const struct flow_key *k)
{
	if (!h->g)
		return;
	if (!gossip_session_announce(steerd_gossip_node(h->g), k,
				     host_self_id(h), host_epoch(h, k)))
		h->st.announced++;
	steerd_gossip_kick(h->g);
}

static void host_close(struct host *h, const struct flow_key *k)
{
	struct gossip_session_info si;
	struct gossip *gn;

	if (!h->g)
		return;
	gn = steerd_gossip_node(h->g);
	/* Close what we announced: at its epoch a close wins. A session
	 * that moved on (another owner, a later epoch) is left alone. */
	if (gossip_session_lookup(gn, k, &si) || si.owner != host_self_id(h))
		return;
	if (!gossip_session_close(gn, k, si.owner, si.epoch))
		h->st.closed++;
	if (h->on_close)
		h->on_close(k, h->on_close_ctx);
	steerd_gossip_kick(h->g);
}

void host_order_hook(struct host *h, host_order_fn fn, void *ctx)
{
	h->on_order = fn;
	h->on_order_ctx = ctx;
}

void host_close_hook(struct host *h, host_session_fn fn, void *ctx)
{
	h->on_close = fn;
	h->on_close_ctx = ctx;
}

static bool host_dir(const struct host *h)
{
	return h->w->cluster.ownership == CLUSTER_OWN_DIRECTORY;
}

/* Directory: this node, a home, re-routed a packet from ev->origin, or
 * took one from its header cache (HINT_TEACH). */
static void host_teach(struct host *h, const struct steer_sess_ev *ev)
{
	if (ev->type == STEER_SESS_EV_HINT_TEACH)
		h->st.ev_hint_teach++;
	else
		h->st.ev_teach++;
	if (!h->g)
		return;
	if (gossip_dir_teach(steerd_gossip_node(h->g), &ev->key, ev->origin))
		h->st.teach_failed++;
	steerd_gossip_kick(h->g);
}

/* Directory: this node, a home, was sent a session nobody here knows. */
static void host_ask(struct host *h, const struct steer_sess_ev *ev)
{
	h->st.ev_ask++;
	if (!h->g)
		return;
	if (gossip_dir_ask(steerd_gossip_node(h->g), &ev->key))
		h->st.ask_failed++;
	steerd_gossip_kick(h->g);
}

static int host_on_event(void *ctx, void *data, size_t len)
{
	const struct steer_sess_ev *ev = data;
	struct host *h = ctx;

	if (len < sizeof(*ev)) {
		h->st.ev_bad++;
		return 0;
	}
	if (ev->type == STEER_SESS_EV_TEACH ||
	    ev->type == STEER_SESS_EV_HINT_TEACH) {
		host_teach(h, ev);
		return 0;
	}
	if (ev->type == STEER_SESS_EV_ASK) {
		host_ask(h, ev);
		return 0;
	}
	switch (ev->type) {
	case STEER_SESS_EV_TCP_UP:
		h->st.ev_tcp_up++;
		break;
	case STEER_SESS_EV_TCP_DOWN:
		h->st.ev_tcp_down++;
		break;
	case STEER_SESS_EV_UDP_NEW:
		h->st.ev_udp_new++;
		break;
	default:
		h->st.ev_bad++;
		return 0;
	}
	if (!host_is_service(h, &ev->key)) {
		h->st.ev_ignored++;
		return 0;
	}
	if (ev->type == STEER_SESS_EV_UDP_NEW)
		h->load.udp_sessions++;
	if (ev->type == STEER_SESS_EV_TCP_DOWN)
		host_close(h, &ev->key);
	else
		host_announce(h, &ev->key);
	return 0;
}

static void host_on_ring(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct host *h = arg;

	ring_buffer__consume(h->rb);
}

/* A session gossip learnt: steer it to its owner, or stop steering it. */
static void host_on_session(void *ctx, const struct gossip_session_info *s)
{
	struct host *h = ctx;
	int err;

	if (s->state == GOSSIP_SESSION_ESTABLISHED &&
	    s->owner != host_self_id(h)) {
		if (h->phc)
			phc_read_use(h->phc, &s->key, evloop_now_ms());
		err = xdp_maps_flow_set(h->xdp, &s->key, s->owner, s->epoch);
		if (err)
			h->st.flow_errors++;
		else
			h->st.flows_set++;
		if (err == -E2BIG) /* full: no rule gives way to a new one */
			h->st.flow_table_full++;
		return;
	}
	/* A UDP session another node moved here: this node's stack's. */
	if (s->state == GOSSIP_SESSION_ESTABLISHED &&
	    s->key.proto == STEER_IPPROTO_UDP && host_is_service(h, &s->key) &&
	    !xdp_maps_udp_add(h->xdp, &s->key)) {
		h->st.udp_taken++;
		h->load.udp_sessions++;
	}
	if (h->phc)
		phc_invalidate_flow(h->phc, &s->key);
	if (!xdp_maps_flow_del(h->xdp, &s->key))
		h->st.flows_del++;
}

struct host_move {
	struct host *h;
	uint16_t to;
	uint32_t n;
};

static int host_udp_move_one(const struct flow_key *k,
			     const struct steer_udp_seen *v, void *arg)
{
	struct host_move *m = arg;
	struct host *h = m->h;
	struct gossip *g = steerd_gossip_node(h->g);

	if (!host_is_service(h, k) ||
	    gossip_session_announce(g, k, m->to, host_epoch(h, k)))
		return 0;
	/* The new owner learns it at once, whoever homes the record. */
	gossip_session_tell(g, k, m->to);
	xdp_maps_udp_del(h->xdp, k);
	if (h->load.udp_sessions)
		h->load.udp_sessions--;
	m->n++;
	return 0;
}

uint32_t host_udp_move(struct host *h, uint16_t to)
{
	struct host_move m = {.h = h, .to = to};

	if (!h->g || to == STEER_NODE_NONE || to == host_self_id(h)) {
		log_warn(MOD, "drained: no node to move UDP sessions to");
		return 0;
	}
	xdp_maps_udp_foreach(h->xdp, host_udp_move_one, &m);
	h->st.udp_moved += m.n;
	if (m.n)
		log_info(MOD, "%u UDP sessions moved to node %u", m.n, to);
	steerd_gossip_kick(h->g);
	return m.n;
}

/* Homes are tried again this long after gossip had not joined yet. */
#define HOST_HOMES_RETRY_MS 100
/*
 * After the members change, the fast path keeps the homes it has this
 * long before it takes the new ones: the owners send their records to
 * the new homes GOSSIP_DIR_REHOME_MS after the change, so a new first
 * home is never asked about a UDP flow before it holds the flow's record
 * (it would claim the flow: a second owner). Nodes' views of the members
 * differ by a dissemination round or two on top.
 */
#define HOST_HOMES_SETTLE_MS 500

/*
 * Directory: every shard's homes into steer_shards, once gossip has
 * joined (before, the homes a restarted daemon finds pinned are better
 * than the guesses of a node that knows only itself). Returns 0,
 * -EAGAIN (not yet), or the map's error.
 */
static int host_homes_write(struct host *h)
{
	struct gossip *g = h->g ? steerd_gossip_node(h->g) : NULL;
	uint16_t ids[2];
	uint32_t s, n;
	int err;

	if (!g || !gossip_joined(g))
		return -EAGAIN;
	for (s = 0; s < STEER_SHARDS; s++) {
		n = gossip_dir_shard_homes(g, s, ids, 2);
		h->homes[s].cell[0] = n > 0 ? ids[0] : STEER_NODE_NONE;
		h->homes[s].cell[1] = n > 1 ? ids[1] : STEER_NODE_NONE;
	}
	err = xdp_maps_shards_set(h->xdp, h->homes);
	if (err)
		h->st.homes_errors++;
	else
		h->st.homes_written++;
	return err;
}

/*
 * Before gossip has joined: a fresh map (all zero) says "no homes"
 * (STEER_NODE_NONE: unknown sessions pass to this node's stack, as
 * without a directory); a pinned one is left as the last run wrote it.
 */
static int host_homes_init(struct host *h)
{
	struct steer_shard first;
	uint32_t s;
	int err = xdp_maps_shard_get(h->xdp, 0, &first);

	if (err || first.cell[0] || first.cell[1])
		return err;
	for (s = 0; s < STEER_SHARDS; s++)
		h->homes[s].cell[0] = h->homes[s].cell[1] = STEER_NODE_NONE;
	return xdp_maps_shards_set(h->xdp, h->homes);
}

static void host_on_homes(struct evloop *el, int64_t id, void *arg);

static void host_homes_later(struct host *h, uint64_t ms)
{
	if (h->homes_timer)
		return;
	h->homes_timer = evloop_timer_add(h->el, ms, 0, host_on_homes, h);
	if (h->homes_timer < 0)
		h->homes_timer = 0;
}

static void host_on_homes(struct evloop *el, int64_t id, void *arg)
{
	struct host *h = arg;

	h->homes_timer = 0;
	if (host_homes_write(h) == -EAGAIN)
		host_homes_later(h, HOST_HOMES_RETRY_MS);
}

/* The header cache's half in the fast path: HINT rules. */
static int host_phc_install(void *ctx, const struct phc_entry *e)
{
	struct host *h = ctx;

	return xdp_maps_hint_set(h->xdp, &e->key, e->owner, e->epoch);
}

static void host_phc_remove(void *ctx, const struct flow_key *k)
{
	struct host *h = ctx;

	xdp_maps_hint_del(h->xdp, k);
}

static uint32_t host_phc_stamp(void *ctx, const struct flow_key *k)
{
	struct host *h = ctx;
	struct steer_rule r;

	return xdp_maps_rule_get(h->xdp, k, &r) || r.action != STEER_ACT_HINT
		       ? 0
		       : r.used;
}

static uint64_t host_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A hint from a session's owner: into the header cache. */
static void host_on_hint(void *ctx, const struct gossip_hint_update *u)
{
	struct host *h = ctx;
	struct phc_entry e = {.key = u->key,
			      .owner = u->owner,
			      .p_permille = u->p_permille,
			      .epoch = u->epoch};

	h->st.hints_in++;
	if (!h->phc || u->owner == host_self_id(h))
		return;
	e.expires_ms = host_wall_ms() + (uint64_t)u->ttl_s * 1000;
	if ((u->flags & GOSSIP_HINT_F_JOIN ? phc_hint_join : phc_hint)(
		    h->phc, &e, evloop_now_ms(), host_wall_ms()))
		h->st.hints_refused++;
}

struct phc *host_phc(struct host *h)
{
	return h->phc;
}

/* A HINT rule a pinned map kept that the warmed cache does not hold. */
static int host_stale_hint(const struct flow_key *k, const struct steer_rule *r,
			   void *arg)
{
	struct host *h = arg;
	struct phc_entry e;

	if (r->action == STEER_ACT_HINT && phc_l1_get(h->phc, k, &e))
		xdp_maps_flow_del(h->xdp, k);
	return 0;
}

/* The cache: its directory (the interface's under the default root),
 * warmed from disk; then the fast path's HINT rules are the cache's. */
static int host_phc_open(struct host *h, char *err, size_t errlen)
{
	const struct steerd_conf *c = &h->w->conf;
	struct phc_config pc = {.l1_max = c->cache_l1,
				.l1_min_permille = c->cache_l1_min};
	struct phc_ops ops = {.ctx = h,
			      .install = host_phc_install,
			      .remove = host_phc_remove,
			      .stamp = host_phc_stamp};

	int ret = steerd_state_dir(c, pc.dir, sizeof(pc.dir));

	if (ret) {
		snprintf(err, errlen, "state directory (cache-dir): %s",
			 strerror(-ret));
		return ret;
	}
	h->phc = phc_open(&pc, &ops, evloop_now_ms(), host_wall_ms(), err,
			  errlen);
	if (!h->phc)
		return -errno;
	xdp_maps_flow_foreach(h->xdp, host_stale_hint, h);
	return 0;
}

static void host_on_member(void *ctx, const struct gossip_member_info *m,
			   enum gossip_state old)
{
	struct host *h = ctx;
	const struct cluster *c = &h->w->cluster;
	const struct cluster_node *n = cluster_node_by_id(c, m->id);
	uint32_t i;

	/* Gossip may not be called from its callback: the homes are
	 * rewritten from the loop, once the records had time to move. */
	if (host_dir(h))
		host_homes_later(h, HOST_HOMES_SETTLE_MS);
	if (!n)
		return;
	i = (uint32_t)(n - c->nodes);
	if (m->state == GOSSIP_DEAD || m->state == GOSSIP_LEFT) {
		if (!h->dead_since[i])
			h->dead_since[i] = evloop_now_ms();
	} else {
		h->dead_since[i] = 0;
	}
}

static void host_on_order(void *ctx, const struct gossip_order_update *o)
{
	struct host *h = ctx;

	if (h->on_order)
		h->on_order(h->on_order_ctx, o->from, o->op);
}

void host_gossip_events(struct host *h, struct gossip_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ctx = h;
	ev->session = host_on_session;
	ev->member = host_on_member;
	ev->hint = host_on_hint;
	ev->order = host_on_order;
}

struct host_walk {
	struct host *h;
	uint64_t now_ns;
	uint64_t idle_ns;
	uint16_t owner;
	uint64_t n;
};

struct host_each {
	host_session_fn fn;
	void *arg;
	uint32_t n;
};

static int host_each_udp(const struct flow_key *k,
			 const struct steer_udp_seen *v, void *arg)
{
	struct host_each *e = arg;

	e->n++;
	e->fn(k, e->arg);
	return 0;
}

uint32_t host_sessions_foreach(struct host *h, host_session_fn fn, void *arg)
{
	int fd = sockops_map_fd(h->so, "steer_socks");
	struct host_each e = {.fn = fn, .arg = arg};
	struct flow_key k, next;
	int have = !bpf_map_get_next_key(fd, NULL, &k);

	while (have) {
		have = !bpf_map_get_next_key(fd, &k, &next);
		if (host_is_service(h, &k)) {
			e.n++;
			fn(&k, arg);
		}
		k = next;
	}
	xdp_maps_udp_foreach(h->xdp, host_each_udp, &e);
	return e.n;
}

static void host_reannounce(const struct flow_key *k, void *arg)
{
	host_announce(arg, k);
}

static int host_stale_rule(const struct flow_key *k, const struct steer_rule *r,
			   void *arg)
{
	struct host_walk *w = arg;
	struct gossip_session_info si;

	if (r->action != STEER_ACT_STEER)
		return 0;
	if (!gossip_session_lookup(steerd_gossip_node(w->h->g), k, &si) &&
	    si.state == GOSSIP_SESSION_ESTABLISHED)
		return 0;
	if (!xdp_maps_flow_del(w->h->xdp, k))
		w->n++;
	return 0;
}

/*
 * Directory, a while after a start: the rules the pinned map kept that
 * no record backs (sessions that closed while this daemon was away, or
 * taught before it): a later packet goes to the session's home again.
 */
static void host_on_reconcile(struct evloop *el, int64_t id, void *arg)
{
	struct host *h = arg;
	struct host_walk w = {.h = h};

	h->reconcile_timer = 0;
	xdp_maps_flow_foreach(h->xdp, host_stale_rule, &w);
	h->st.reconciled += w.n;
	if (w.n)
		log_info(MOD,
			 "%llu rules from before this start had no "
			 "record: dropped",
			 (unsigned long long)w.n);
}

void host_gossip_attach(struct host *h, struct steerd_gossip *g)
{
	uint32_t n;

	h->g = g;
	if (host_dir(h)) {
		host_homes_later(h, 0);
		h->reconcile_timer = evloop_timer_add(h->el, HOST_RECONCILE_MS,
						      0, host_on_reconcile, h);
		if (h->reconcile_timer < 0)
			h->reconcile_timer = 0;
	}
	n = host_sessions_foreach(h, host_reannounce, h);
	h->st.reannounced += n;
	if (n)
		log_info(MOD,
			 "announced %u sessions this node held before it "
			 "started",
			 n);
}

static int host_udp_idle(const struct flow_key *k,
			 const struct steer_udp_seen *v, void *arg)
{
	struct host_walk *w = arg;

	if (v->last_ns + w->idle_ns > w->now_ns)
		return 0;
	xdp_maps_udp_del(w->h->xdp, k);
	host_close(w->h, k);
	if (w->h->load.udp_sessions)
		w->h->load.udp_sessions--;
	w->n++;
	return 0;
}

static int host_flow_of_dead(const struct flow_key *k,
			     const struct steer_rule *r, void *arg)
{
	struct host_walk *w = arg;

	if (r->owner == w->owner && !xdp_maps_flow_del(w->h->xdp, k))
		w->n++;
	return 0;
}

/* Flows of owners dead for longer than the grace: stop steering them. */
static void host_grace(struct host *h, uint64_t now)
{
	const struct cluster *c = &h->w->cluster;
	uint32_t i;

	for (i = 0; i < c->n_nodes; i++) {
		struct host_walk w = {.h = h, .owner = c->nodes[i].ep.id};

		if (!h->dead_since[i] ||
		    now - h->dead_since[i] < HOST_DEAD_GRACE_MS)
			continue;
		xdp_maps_flow_foreach(h->xdp, host_flow_of_dead, &w);
		h->st.grace_dropped += w.n;
		if (w.n)
			log_info(MOD,
				 "node %u dead for %u s: %llu flows no "
				 "longer steered to it",
				 w.owner, HOST_DEAD_GRACE_MS / 1000,
				 (unsigned long long)w.n);
		h->dead_since[i] = now; /* look again one grace later */
	}
}

static void host_on_tick(struct evloop *el, int64_t id, void *arg)
{
	struct host *h = arg;
	struct host_walk w = {
		.h = h,
		.now_ns = evloop_now_ns(),
		.idle_ns = (uint64_t)h->w->cluster.fsc.udp_timeout_ms * 1000000,
	};

	node_tmpls_refresh(&h->tmpls, &h->w->cluster, h->xdp);
	xdp_maps_udp_foreach(h->xdp, host_udp_idle, &w);
	host_grace(h, evloop_now_ms());
	if (h->phc)
		phc_tick(h->phc, evloop_now_ms(), host_wall_ms());
	if (h->g) {
		h->load.cpu_cgroup =
			h->w->conf.cpu_of_cgroup ? h->w->conf.cgroup : NULL;
		node_load_report(&h->load, h->xdp, h->so,
				 steerd_gossip_node(h->g));
		steerd_gossip_kick(h->g);
	}
}

static void host_on_netlink(struct evloop *el, int fd, uint32_t events,
			    void *arg)
{
	struct host *h = arg;

	node_tmpls_refresh(&h->tmpls, &h->w->cluster, h->xdp);
}

/* The program's configuration and services, from the world. */
static int host_program(struct host *h)
{
	const struct cluster *c = &h->w->cluster;
	int err = 0;

	/* Directory: the homes before the program looks for them. */
	if (host_dir(h) && host_homes_write(h) == -EAGAIN)
		err = host_homes_init(h);
	if (!err)
		err = node_xdp_cfg(h->xdp, &h->w->cluster, &h->w->secret,
				   STEER_XDP_MODE_HOST);
	/* The services the nodes terminate: UDP sessions are found in
	 * XDP. */
	if (!err)
		err = node_xdp_svcs(h->xdp, c, false);
	return err;
}

int host_world_set(struct host *h, const struct steerd_world *w)
{
	uint64_t *dead = calloc(w->cluster.n_nodes + 1, sizeof(*dead));
	int err;

	if (!dead)
		return -ENOMEM;
	free(h->dead_since);
	h->dead_since = dead;
	h->w = w;
	err = host_program(h);
	if (err)
		return err;
	err = node_tmpls_nodes(&h->tmpls, &w->cluster, h->xdp);
	if (err)
		return err;
	node_tmpls_refresh(&h->tmpls, &w->cluster, h->xdp);
	return 0;
}

/* The cgroup given, or the first cgroup v2 mount. */
static int host_cgroup(const struct steerd_conf *conf, char *out, size_t len)
{
	char dev[256], dir[PATH_MAX], type[64];
	FILE *f;
	int found = 0;

	if (conf->cgroup[0]) {
		snprintf(out, len, "%s", conf->cgroup);
		return 0;
	}
	f = fopen("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while (!found &&
	       fscanf(f, "%255s %4095s %63s %*[^\n]", dev, dir, type) == 3)
		if (!strcmp(type, "cgroup2")) {
			snprintf(out, len, "%s", dir);
			found = 1;
		}
	fclose(f);
	return found ? 0 : -ENOENT;
}

static int host_pin_dir(const struct steerd_conf *conf, const char *sub,
			char *out, size_t len)
{
	const char *base = conf->pin_dir;
	char def[PATH_MAX];

	if (!base[0]) {
		snprintf(def, sizeof(def), "%s/%s", XDP_PROG_PIN_ROOT,
			 conf->interface);
		base = def;
	}
	return snprintf(out, len, "%s/%s", base, sub) < (int)len
		       ? 0
		       : -ENAMETOOLONG;
}

/* The programs, loaded with their pins, and attached. */
static int host_programs(struct host *h, char *err, size_t errlen)
{
	const struct steerd_conf *conf = &h->w->conf;
	struct xdp_prog_opts xo = {0};
	char xdir[PATH_MAX], sdir[PATH_MAX], cg[PATH_MAX];
	int ret;

	ret = host_pin_dir(conf, "xdp", xdir, sizeof(xdir));
	if (!ret)
		ret = host_pin_dir(conf, "sockops", sdir, sizeof(sdir));
	if (!ret)
		ret = host_cgroup(conf, cg, sizeof(cg));
	if (ret) {
		snprintf(err, errlen, "%s: no usable bpf-pin-dir or cgroup: %s",
			 conf->path, strerror(-ret));
		return ret;
	}
	xo.pin_dir = xdir;
	xo.max_flows = steerd_flow_table_size(conf);
	h->xdp = xdp_prog_open(&xo);
	if (!h->xdp) {
		snprintf(err, errlen, "XDP program: %s", strerror(errno));
		return -errno;
	}
	h->so = sockops_open(sdir);
	if (!h->so) {
		snprintf(err, errlen, "sock_ops program: %s", strerror(errno));
		return -errno;
	}
	ret = host_program(h);
	if (!ret)
		ret = sockops_attach(h->so, cg);
	if (ret) {
		snprintf(err, errlen, "sock_ops on %s: %s", cg, strerror(-ret));
		return ret;
	}
	if (conf->xdp_off) {
		log_warn(MOD, "xdp off: %s steers nothing", conf->interface);
		return 0;
	}
	ret = xdp_prog_attach(h->xdp, h->ifindex);
	if (ret)
		snprintf(err, errlen, "XDP on %s: %s", conf->interface,
			 strerror(-ret));
	return ret;
}

static int host_rings(struct host *h, char *err, size_t errlen)
{
	int xfd = xdp_prog_map_fd(h->xdp, "steer_events");
	int sfd = sockops_map_fd(h->so, "steer_sock_ev");
	int ret;

	h->rb = ring_buffer__new(xfd, host_on_event, h, NULL);
	if (!h->rb) {
		snprintf(err, errlen, "event ring: %s", strerror(errno));
		return -errno;
	}
	ret = ring_buffer__add(h->rb, sfd, host_on_event, h);
	if (!ret)
		ret = evloop_fd_add(h->el, ring_buffer__epoll_fd(h->rb),
				    EVLOOP_READ, host_on_ring, h);
	if (ret)
		snprintf(err, errlen, "event ring: %s", strerror(-ret));
	return ret;
}

struct host *host_start(struct evloop *el, const struct steerd_world *w,
			char *err, size_t errlen)
{
	struct host *h = calloc(1, sizeof(*h));
	int ret;

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->el = el;
	h->w = w;
	h->tmpls.nl_fd = h->tmpls.mon_fd = -1;
	h->homes = calloc(STEER_SHARDS, sizeof(*h->homes));
	if (!h->homes) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
		goto fail;
	}
	if (host_dir(h) && !host_has_services(&w->cluster)) {
		snprintf(err, errlen,
			 "%s: 'ownership directory' needs the services the "
			 "nodes terminate (service lines without backends)",
			 w->conf.cluster_file);
		ret = -EINVAL;
		goto fail;
	}
	if (!w->conf.interface[0]) {
		snprintf(err, errlen, "%s: mode host needs 'interface'",
			 w->conf.path);
		ret = -EINVAL;
		goto fail;
	}
	h->ifindex = (int)if_nametoindex(w->conf.interface);
	if (!h->ifindex) {
		snprintf(err, errlen, "%s: no interface '%s'", w->conf.path,
			 w->conf.interface);
		ret = -ENODEV;
		goto fail;
	}
	ret = node_tmpls_init(&h->tmpls, h->ifindex);
	if (ret) {
		snprintf(err, errlen, "%s: %s", w->conf.interface,
			 strerror(-ret));
		goto fail;
	}
	ret = host_programs(h, err, errlen);
	if (!ret)
		ret = host_world_set(h, w);
	if (!ret)
		ret = host_phc_open(h, err, errlen);
	if (!ret)
		ret = host_rings(h, err, errlen);
	if (!ret && h->tmpls.mon_fd >= 0)
		ret = evloop_fd_add(el, h->tmpls.mon_fd, EVLOOP_READ,
				    host_on_netlink, h);
	if (!ret) {
		h->timer = evloop_timer_add(el, HOST_TICK_MS, HOST_TICK_MS,
					    host_on_tick, h);
		if (h->timer < 0)
			ret = (int)h->timer;
	}
	if (ret) {
		if (!err[0])
			snprintf(err, errlen, "host mode: %s", strerror(-ret));
		goto fail;
	}
	return h;
fail:
	host_stop(h);
	errno = -ret;
	return NULL;
}

void host_stop(struct host *h)
{
	if (!h)
		return;
	if (h->timer > 0)
		evloop_timer_del(h->el, h->timer);
	if (h->homes_timer > 0)
		evloop_timer_del(h->el, h->homes_timer);
	if (h->reconcile_timer > 0)
		evloop_timer_del(h->el, h->reconcile_timer);
	if (h->tmpls.mon_fd >= 0)
		evloop_fd_del(h->el, h->tmpls.mon_fd);
	if (h->rb) {
		evloop_fd_del(h->el, ring_buffer__epoll_fd(h->rb));
		ring_buffer__free(h->rb);
	}
	phc_close(h->phc);
	sockops_close(h->so);
	xdp_prog_close(h->xdp);
	node_tmpls_free(&h->tmpls);
	free(h->dead_since);
	free(h->homes);
	free(h);
}
