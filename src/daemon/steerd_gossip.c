// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/steerd_gossip.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "gossip/gossip_auth.h"
#include "util/log.h"

#define MOD "gossip"
#define SG_RX_BURST 64 /* datagrams read per wake-up of a socket */
#define SG_DGRAM_MAX 65536

struct steerd_gossip {
	struct evloop *el;
	struct gossip *node;
	int fd4, fd6;
	int64_t timer;
	uint64_t armed_at; /* deadline the timer is set for; 0: none */
	struct steerd_gossip_stats st;
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

static uint64_t sg_now(void *ctx)
{
	return evloop_now_ms();
}

static void sg_sockaddr(const struct gossip_addr *a,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (flow_addr_is_v4(&a->ip)) {
		struct sockaddr_in *s4 = (void *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		s4->sin_addr.s_addr = a->ip.w[3];
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		memcpy(&s6->sin6_addr, a->ip.b, 16);
		*len = sizeof(*s6);
	}
}

static int sg_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	struct steerd_gossip *g = ctx;
	struct sockaddr_storage ss;
	socklen_t slen;
	int fd = flow_addr_is_v4(&to->ip) ? g->fd4 : g->fd6;

	if (fd < 0)
		return -EAFNOSUPPORT;
	sg_sockaddr(to, &ss, &slen);
	if (sendto(fd, buf, len, MSG_DONTWAIT, (struct sockaddr *)&ss, slen) <
	    0) {
		g->st.tx_err++;
		return -errno;
	}
	return 0;
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

static void sg_from(const struct sockaddr_storage *ss, struct gossip_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		flow_addr_set_v4(&a->ip, s4->sin_addr.s_addr);
		a->port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		memcpy(a->ip.b, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
	}
}

static void sg_on_read(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct steerd_gossip *g = arg;
	static uint8_t buf[SG_DGRAM_MAX];
	struct sockaddr_storage ss;
	struct gossip_addr from;
	socklen_t slen;
	ssize_t n;
	int i;

	for (i = 0; i < SG_RX_BURST; i++) {
		slen = sizeof(ss);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&ss, &slen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				g->st.rx_err++;
			break;
		}
		g->st.rx_dgrams++;
		sg_from(&ss, &from);
		gossip_recv(g->node, buf, (size_t)n, &from); /* counts bad */
	}
	steerd_gossip_kick(g);
}

/* A socket bound to addr:port; fd or -errno. */
static int sg_socket(const struct flow_addr *addr, uint16_t port)
{
	struct gossip_addr ga = {.ip = *addr, .port = port};
	struct sockaddr_storage ss;
	socklen_t slen;
	int one = 1, fd, v4 = flow_addr_is_v4(addr), buf = 4 << 20;

	fd = socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!v4)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* Bursts of anti-entropy must not be dropped by a small buffer. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	sg_sockaddr(&ga, &ss, &slen);
	if (bind(fd, (struct sockaddr *)&ss, slen)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int sg_sockets(struct steerd_gossip *g, const struct cluster_node *me,
		      uint16_t port, char *err, size_t errlen)
{
	if (me->ep.has_v4) {
		g->fd4 = sg_socket(&me->ep.addr4, port);
		if (g->fd4 < 0) {
			snprintf(err, errlen, "gossip socket on port %u: %s",
				 port, strerror(-g->fd4));
			return g->fd4;
		}
		if (evloop_fd_add(g->el, g->fd4, EVLOOP_READ, sg_on_read, g))
			return -ENOMEM;
	}
	if (me->ep.has_v6) {
		g->fd6 = sg_socket(&me->ep.addr6, port);
		if (g->fd6 < 0) {
			snprintf(err, errlen,
				 "gossip socket (IPv6) on port %u: %s", port,
				 strerror(-g->fd6));
			return g->fd6;
		}
		if (evloop_fd_add(g->el, g->fd6, EVLOOP_READ, sg_on_read, g))
			return -ENOMEM;
	}
	return 0;
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

static int sg_node_new(struct steerd_gossip *g, const struct cluster *c,
		       const struct steerd_conf *conf,
		       const struct gossip_events *ev, char *err, size_t errlen)
{
	const struct cluster_node *me = cluster_self(c);
	struct gossip_io io = {.ctx = g, .now_ms = sg_now, .send = sg_send};
	struct gossip_config gc;
	struct timeval tv;
	int ret;

	gossip_config_default(&gc);
	gc.self_id = me->ep.id;
	sg_addr_of(&me->ep, &me->ep, conf->gossip_port, &gc.self);
	ret = gossip_key_from_file(&gc.key, conf->key_file);
	if (ret) {
		snprintf(err, errlen, "%s: %s", conf->key_file,
			 ret == -EINVAL ? "a cluster key is 32 raw bytes or 64 "
					  "hex digits"
					: strerror(-ret));
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

struct steerd_gossip *steerd_gossip_start(struct evloop *el,
					  const struct cluster *c,
					  const struct steerd_conf *conf,
					  const struct gossip_events *ev,
					  char *err, size_t errlen)
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
	g->fd4 = g->fd6 = -1;
	ret = sg_sockets(g, cluster_self(c), conf->gossip_port, err, errlen);
	if (!ret)
		ret = sg_node_new(g, c, conf, ev, err, errlen);
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
		/* The leave goes out at once; later rounds are not waited
		 * for: members that miss it find us dead instead. */
		if (!gossip_leave(g->node))
			gossip_tick(g->node);
		gossip_free(g->node);
	}
	if (g->timer > 0)
		evloop_timer_del(g->el, g->timer);
	if (g->fd4 >= 0) {
		evloop_fd_del(g->el, g->fd4);
		close(g->fd4);
	}
	if (g->fd6 >= 0) {
		evloop_fd_del(g->el, g->fd6);
		close(g->fd6);
	}
	free(g);
}

struct gossip *steerd_gossip_node(struct steerd_gossip *g)
{
	return g->node;
}

const struct steerd_gossip_stats *
steerd_gossip_stats(const struct steerd_gossip *g)
{
	return &g->st;
}
