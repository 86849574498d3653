// SPDX-License-Identifier: GPL-2.0-only
#include "cell/health.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/log.h"

#define MOD "health"

struct health_check {
	struct health *h;
	struct health_target t;
	bool up;
	uint32_t streak; /* results in a row against the state */
	int fd;		 /* the connect in flight, -1: none */
	uint64_t started_ms;
};

struct health {
	struct health_cfg cfg;
	struct health_check *c;
	size_t n;
	int64_t timer;
	struct health_stats st;
};

static void health_result(struct health_check *c, bool ok)
{
	struct health *h = c->h;

	if (c->fd >= 0) {
		evloop_fd_del(h->cfg.el, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	h->st.failures += !ok;
	if (ok == c->up) {
		c->streak = 0;
		return;
	}
	if (++c->streak < (ok ? h->cfg.rise : h->cfg.fall))
		return;
	c->up = ok;
	c->streak = 0;
	h->st.changes++;
	h->st.down += ok ? (uint32_t)-1 : 1;
	log_info(MOD, "backend %u is %s", c->t.backend, ok ? "up" : "down");
	if (h->cfg.on_change)
		h->cfg.on_change(h->cfg.arg, c->t.backend, ok);
}

static void health_on_fd(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct health_check *c = arg;
	socklen_t len = sizeof(int);
	int err = 0;

	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	health_result(c, !err && !(events & EVLOOP_ERROR));
}

static void health_start(struct health_check *c)
{
	struct health *h = c->h;
	struct sockaddr_storage ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (flow_addr_is_v4(&c->t.addr)) {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->t.port);
		s4->sin_addr.s_addr = c->t.addr.w[3];
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (void *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->t.port);
		memcpy(&s6->sin6_addr, c->t.addr.b, 16);
		len = sizeof(*s6);
	}
	h->st.checks++;
	c->started_ms = evloop_now_ms();
	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (c->fd < 0) {
		health_result(c, false);
		return;
	}
	if (connect(c->fd, (struct sockaddr *)&ss, len) == 0) {
		health_result(c, true);
		return;
	}
	if (errno != EINPROGRESS ||
	    evloop_fd_add(h->cfg.el, c->fd, EVLOOP_WRITE, health_on_fd, c))
		health_result(c, false);
}

static void health_on_tick(struct evloop *el, int64_t id, void *arg)
{
	struct health *h = arg;
	uint64_t now = evloop_now_ms();
	size_t i;

	for (i = 0; i < h->n; i++) {
		struct health_check *c = &h->c[i];

		if (c->fd >= 0 && now - c->started_ms >= h->cfg.timeout_ms)
			health_result(c, false); /* no answer in time */
		if (c->fd < 0)
			health_start(c);
	}
}

struct health *health_new(const struct health_cfg *cfg)
{
	struct health *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->cfg = *cfg;
	if (!h->cfg.interval_ms)
		h->cfg.interval_ms = 1000;
	if (!h->cfg.timeout_ms || h->cfg.timeout_ms > h->cfg.interval_ms)
		h->cfg.timeout_ms = h->cfg.interval_ms / 2;
	if (!h->cfg.fall)
		h->cfg.fall = 3;
	if (!h->cfg.rise)
		h->cfg.rise = 2;
	h->timer = evloop_timer_add(cfg->el, h->cfg.interval_ms,
				    h->cfg.interval_ms, health_on_tick, h);
	if (h->timer < 0) {
		errno = (int)-h->timer;
		free(h);
		return NULL;
	}
	return h;
}

static void health_checks_free(struct health *h)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->c[i].fd >= 0) {
			evloop_fd_del(h->cfg.el, h->c[i].fd);
			close(h->c[i].fd);
		}
	free(h->c);
	h->c = NULL;
	h->n = 0;
}

void health_free(struct health *h)
{
	if (!h)
		return;
	health_checks_free(h);
	if (h->timer > 0)
		evloop_timer_del(h->cfg.el, h->timer);
	free(h);
}

int health_targets_set(struct health *h, const struct health_target *t,
		       size_t n)
{
	struct health_check *c = calloc(n ? n : 1, sizeof(*c));
	size_t i, j;

	if (!c)
		return -ENOMEM;
	h->st.down = 0;
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++)
			if (t[j].backend == t[i].backend) {
				free(c);
				return -EINVAL;
			}
		c[i].h = h;
		c[i].t = t[i];
		c[i].fd = -1;
		c[i].up = true;
		for (j = 0; j < h->n; j++)
			if (h->c[j].t.backend == t[i].backend)
				c[i].up = h->c[j].up; /* kept: its state too */
		h->st.down += !c[i].up;
	}
	health_checks_free(h);
	h->c = c;
	h->n = n;
	return 0;
}

bool health_up(const struct health *h, uint16_t backend)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->c[i].t.backend == backend)
			return h->c[i].up;
	return true;
}

const struct health_stats *health_stats(const struct health *h)
{
	return &h->st;
}
