// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/steerd_gossip.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "daemon/replay_store.h"
#include "gossip/gossip_auth.h"
#include "gossip/gossip_net.h"
#include "util/log.h"

#define MOD "gossip"
#define SG_RX_BURST 64 /* datagrams read per wake-up of a socket */

struct steerd_gossip {
	struct evloop *el;
	struct gossip *node;
	struct gossip_net *net;
	int64_t timer;
	uint64_t armed_at;	    /* deadline the timer is set for; 0: none */
	char replay_path[PATH_MAX]; /* "": windows not kept */
};

const char *steerd_gossip_state_name(enum gossip_state s)
{
	switch (s) {
	case GOSSIP_ALIVE:
		return "alive";
	case GOSSIP_SUSPECT:
		return "suspect";
	case GOSSIP_DEAD:
		return "dead";
	case GOSSIP_LEFT:
		return "left";
	default:
		return "unknown";
	}
}

static void sg_on_timer(struct evloop *el, int64_t id, void *arg);

void steerd_gossip_kick(struct steerd_gossip *g)
{
	uint64_t dl = gossip_next_deadline(g->node), now = evloop_now_ms();

	if (g->timer > 0 && g->armed_at == dl)
		return;
	if (g->timer > 0)
		evloop_timer_del(g->el, g->timer);
	g->timer = evloop_timer_add(g->el, dl > now ? dl - now : 0, 0,
				    sg_on_timer, g);
	g->armed_at = g->timer > 0 ? dl : 0;
}

static void sg_on_timer(struct evloop *el, int64_t id, void *arg)
{
	struct steerd_gossip *g = arg;

	g->timer = 0;
	g->armed_at = 0;
	gossip_tick(g->node);
	steerd_gossip_kick(g);
}

static void sg_on_read(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct steerd_gossip *g = arg;

	/* Refused datagrams are the node's business (its counters). */
	gossip_net_recv(g->net, g->node, SG_RX_BURST);
	steerd_gossip_kick(g);
}

/* Where node ep listens: IPv4 when this node has it, else IPv6. */
static int sg_addr_of(const struct cluster_endpoint *me,
		      const struct cluster_endpoint *ep, uint16_t port,
		      struct gossip_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->port = port;
	if (me->has_v4 && ep->has_v4)
		a->ip = ep->addr4;
	else if (me->has_v6 && ep->has_v6)
		a->ip = ep->addr6;
	else
		return -EAFNOSUPPORT;
	return 0;
}

/* Host mode: how sessions spread, from the cluster description. */
static void sg_ownership(struct gossip_config *gc, const struct cluster *c,
			 const struct steerd_conf *conf,
			 const struct steer_hash_secret *secret)
{
	if (conf->mode != FP_MODE_HOST || c->ownership != CLUSTER_OWN_DIRECTORY)
		return;
	gc->ownership = GOSSIP_OWN_DIRECTORY;
	gc->dir_homes = c->dir_homes;
	gc->dir_secret = *secret;
}

static int sg_node_new(struct steerd_gossip *g, const struct cluster *c,
		       const struct steerd_conf *conf,
		       const struct steer_hash_secret *secret,
		       const struct gossip_events *ev, char *err, size_t errlen)
{
	const struct cluster_node *me = cluster_self(c);
	struct gossip_config gc;
	struct gossip_io io;
	struct timeval tv;
	int ret;

	gossip_config_default(&gc);
	gc.self_id = me->ep.id;
	sg_ownership(&gc, c, conf, secret);
	sg_addr_of(&me->ep, &me->ep, conf->gossip_port, &gc.self);
	g->net = gossip_net_open(&gc.self);
	if (!g->net) {
		ret = -errno;
		snprintf(err, errlen, "gossip socket on port %u: %s",
			 conf->gossip_port, strerror(errno));
		return ret;
	}
	ret = evloop_fd_add(g->el, gossip_net_fd(g->net), EVLOOP_READ,
			    sg_on_read, g);
	if (ret) {
		snprintf(err, errlen, "gossip socket: %s", strerror(-ret));
		return ret;
	}
	gossip_net_io(g->net, &io);
	ret = gossip_key_from_file(&gc.key, conf->key_file);
	if (ret) {
		snprintf(err, errlen, "%s: %s", conf->key_file,
			 gossip_key_strerror(ret));
		return ret;
	}
	/* Sequence numbers must grow across restarts: start at now in us. */
	gettimeofday(&tv, NULL);
	gc.seq_start = (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
	g->node = gossip_new(&gc, &io, ev);
	memset(&gc.key, 0, sizeof(gc.key));
	if (!g->node) {
		ret = -errno;
		snprintf(err, errlen, "gossip: %s", strerror(errno));
		return ret;
	}
	return 0;
}

static int sg_join(struct steerd_gossip *g, const struct cluster *c,
		   uint16_t port)
{
	const struct cluster_node *me = cluster_self(c);
	struct gossip_addr *seeds = calloc(c->n_nodes, sizeof(*seeds));
	uint32_t i, n = 0;
	int ret;

	if (!seeds)
		return -ENOMEM;
	for (i = 0; i < c->n_nodes; i++)
		if (i != c->self &&
		    !sg_addr_of(&me->ep, &c->nodes[i].ep, port, &seeds[n]))
			n++;
	ret = n ? gossip_join(g->node, seeds, n) : 0;
	free(seeds);
	return ret;
}

/* The replay windows of before a restart, as floors (replay_store.h). */
static void sg_replay_restore(struct steerd_gossip *g,
			      const struct steerd_conf *conf)
{
	char dir[PATH_MAX - sizeof(REPLAY_STORE_FILE) - 1];
	uint32_t bad;
	int ret = steerd_state_dir(conf, dir, sizeof(dir));

	if (ret) {
		log_warn(MOD,
			 "no state directory (%s): gossip's replay "
			 "windows are not kept across a restart",
			 strerror(-ret));
		return;
	}
	snprintf(g->replay_path, sizeof(g->replay_path), "%s/%s", dir,
		 REPLAY_STORE_FILE);
	ret = replay_store_load(g->node, g->replay_path, &bad);
	if (ret < 0)
		log_warn(MOD, "%s: %s: replay windows start empty",
			 g->replay_path,
			 ret == -EINVAL ? "not a replay file" : strerror(-ret));
	else if (ret || bad)
		log_info(MOD,
			 "%s: replay floors of %d senders restored, %u "
			 "bad lines skipped",
			 g->replay_path, ret, bad);
}

void steerd_gossip_save(struct steerd_gossip *g)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(1, 1);
	int ret;

	if (!g || !g->replay_path[0])
		return;
	ret = replay_store_save(g->node, g->replay_path);
	if (ret)
		log_warn_rl(&rl, MOD, "%s: %s", g->replay_path, strerror(-ret));
}

struct steerd_gossip *
steerd_gossip_start(struct evloop *el, const struct cluster *c,
		    const struct steerd_conf *conf,
		    const struct steer_hash_secret *secret,
		    const struct gossip_events *ev, char *err, size_t errlen)
{
	struct steerd_gossip *g;
	int ret;

	if (!conf->key_file[0]) {
		snprintf(err, errlen,
			 "%s: gossip needs 'cluster-key-file': every datagram "
			 "is authenticated",
			 conf->path);
		errno = EINVAL;
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->el = el;
	ret = sg_node_new(g, c, conf, secret, ev, err, errlen);
	if (!ret) {
		ret = sg_join(g, c, conf->gossip_port);
		if (ret)
			snprintf(err, errlen, "gossip join: %s",
				 strerror(-ret));
	}
	if (ret) {
		steerd_gossip_stop(g);
		errno = -ret;
		return NULL;
	}
	sg_replay_restore(g, conf);
	steerd_gossip_kick(g);
	log_info(MOD, "node %u gossiping on port %u with %u other nodes",
		 cluster_self(c)->ep.id, conf->gossip_port, c->n_nodes - 1);
	return g;
}

void steerd_gossip_stop(struct steerd_gossip *g)
{
	if (!g)
		return;
	if (g->node) {
		steerd_gossip_save(g);
		/* The leave goes out at once; later rounds are not waited
		 * for: members that miss it find us dead instead. */
		if (!gossip_leave(g->node))
			gossip_tick(g->node);
		gossip_free(g->node);
	}
	if (g->timer > 0)
		evloop_timer_del(g->el, g->timer);
	if (g->net) {
		evloop_fd_del(g->el, gossip_net_fd(g->net));
		gossip_net_close(g->net);
	}
	free(g);
}

struct gossip *steerd_gossip_node(struct steerd_gossip *g)
{
	return g->node;
}

const struct gossip_net_counters *
steerd_gossip_net_counters(const struct steerd_gossip *g)
{
	return gossip_net_counters(g->net);
}
