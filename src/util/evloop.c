// SPDX-License-Identifier: GPL-2.0-only
#include "util/evloop.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/epoll.h>
#include <sys/signalfd.h>

#define EVLOOP_BATCH 64

struct evloop_fd {
	evloop_fd_fn fn;
	void *arg;
	uint32_t mask;
	uint32_t gen; /* bumped by every add, so stale events are told apart */
	bool used;
};

struct evloop_timer {
	int64_t id;
	uint64_t due; /* ms, CLOCK_MONOTONIC */
	uint64_t period;
	uint64_t round; /* last timer pass it fired in (or was added in) */
	evloop_timer_fn fn;
	void *arg;
};

struct evloop_sig {
	evloop_signal_fn fn;
	void *arg;
};

struct evloop {
	int epfd;
	bool stop;
	struct evloop_fd *fds; /* indexed by descriptor */
	int nfds;
	struct evloop_timer *timers; /* unsorted: loops hold a handful */
	size_t ntimers, cap_timers;
	int64_t next_id;
	uint64_t round;
	int sigfd;
	sigset_t sigs;
	sigset_t old_mask; /* valid when sigfd >= 0 */
	struct evloop_sig sig[_NSIG];
};

uint64_t evloop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t evloop_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct evloop *evloop_new(void)
{
	struct evloop *el = calloc(1, sizeof(*el));

	if (!el)
		return NULL;
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (el->epfd < 0) {
		free(el);
		return NULL;
	}
	el->sigfd = -1;
	el->next_id = 1;
	sigemptyset(&el->sigs);
	return el;
}

/* Take back the signals: drop those pending, restore the mask. */
static void evloop_signals_release(struct evloop *el)
{
	struct signalfd_siginfo si;

	if (el->sigfd < 0)
		return;
	while (read(el->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	close(el->sigfd);
	el->sigfd = -1;
	sigprocmask(SIG_SETMASK, &el->old_mask, NULL);
}

void evloop_free(struct evloop *el)
{
	if (!el)
		return;
	evloop_signals_release(el);
	close(el->epfd);
	free(el->fds);
	free(el->timers);
	free(el);
}

static uint32_t evloop_mask_to_epoll(uint32_t mask)
{
	return (mask & EVLOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	       (mask & EVLOOP_WRITE ? EPOLLOUT : 0);
}

static int evloop_fds_grow(struct evloop *el, int fd)
{
	int n = el->nfds ? el->nfds : 64;
	struct evloop_fd *p;

	while (n <= fd)
		n *= 2;
	p = realloc(el->fds, (size_t)n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + el->nfds, 0, (size_t)(n - el->nfds) * sizeof(*p));
	el->fds = p;
	el->nfds = n;
	return 0;
}

static bool evloop_fd_watched(const struct evloop *el, int fd)
{
	return fd >= 0 && fd < el->nfds && el->fds[fd].used;
}

int evloop_fd_add(struct evloop *el, int fd, uint32_t mask, evloop_fd_fn fn,
		  void *arg)
{
	struct epoll_event ev = {0};
	struct evloop_fd *f;
	int ret;

	if (fd < 0 || !fn || (mask & ~(EVLOOP_READ | EVLOOP_WRITE)))
		return -EINVAL;
	if (evloop_fd_watched(el, fd))
		return -EEXIST;
	if (fd >= el->nfds) {
		ret = evloop_fds_grow(el, fd);
		if (ret)
			return ret;
	}
	f = &el->fds[fd];
	ev.events = evloop_mask_to_epoll(mask);
	ev.data.u64 = (uint64_t)(f->gen + 1) << 32 | (uint32_t)fd;
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	f->gen++;
	f->fn = fn;
	f->arg = arg;
	f->mask = mask;
	f->used = true;
	return 0;
}

int evloop_fd_mod(struct evloop *el, int fd, uint32_t mask)
{
	struct epoll_event ev = {0};
	struct evloop_fd *f;

	if (mask & ~(EVLOOP_READ | EVLOOP_WRITE))
		return -EINVAL;
	if (!evloop_fd_watched(el, fd))
		return -ENOENT;
	f = &el->fds[fd];
	if (f->mask == mask)
		return 0;
	ev.events = evloop_mask_to_epoll(mask);
	ev.data.u64 = (uint64_t)f->gen << 32 | (uint32_t)fd;
	if (epoll_ctl(el->epfd, EPOLL_CTL_MOD, fd, &ev))
		return -errno;
	f->mask = mask;
	return 0;
}

int evloop_fd_del(struct evloop *el, int fd)
{
	if (!evloop_fd_watched(el, fd))
		return -ENOENT;
	/* A descriptor already closed has left the epoll set by itself. */
	epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
	el->fds[fd].used = false;
	el->fds[fd].fn = NULL;
	el->fds[fd].arg = NULL;
	return 0;
}

int64_t evloop_timer_add(struct evloop *el, uint64_t delay_ms,
			 uint64_t period_ms, evloop_timer_fn fn, void *arg)
{
	struct evloop_timer *t;

	if (!fn)
		return -EINVAL;
	if (el->ntimers == el->cap_timers) {
		size_t cap = el->cap_timers ? 2 * el->cap_timers : 8;

		t = realloc(el->timers, cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		el->timers = t;
		el->cap_timers = cap;
	}
	t = &el->timers[el->ntimers++];
	t->id = el->next_id++;
	t->due = evloop_now_ms() + delay_ms;
	t->period = period_ms;
	/* Not eligible in a pass already running: no loops of zero delays. */
	t->round = el->round;
	t->fn = fn;
	t->arg = arg;
	return t->id;
}

static struct evloop_timer *evloop_timer_find(struct evloop *el, int64_t id)
{
	size_t i;

	for (i = 0; i < el->ntimers; i++)
		if (el->timers[i].id == id)
			return &el->timers[i];
	return NULL;
}

int evloop_timer_del(struct evloop *el, int64_t id)
{
	struct evloop_timer *t = evloop_timer_find(el, id);

	if (!t)
		return -ENOENT;
	/* Order is by (due, id), never by position, so moving one is fine. */
	*t = el->timers[--el->ntimers];
	return 0;
}

static void evloop_sigfd_read(struct evloop *el, int fd, uint32_t events,
			      void *arg)
{
	struct signalfd_siginfo si;
	int signo;

	while (!el->stop && read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		signo = (int)si.ssi_signo;
		if (signo > 0 && signo < _NSIG && el->sig[signo].fn)
			el->sig[signo].fn(el, signo, el->sig[signo].arg);
	}
}

int evloop_signal_add(struct evloop *el, int signo, evloop_signal_fn fn,
		      void *arg)
{
	sigset_t one, next = el->sigs;
	int fd, ret;

	if (signo <= 0 || signo >= _NSIG || signo == SIGKILL ||
	    signo == SIGSTOP || !fn)
		return -EINVAL;
	if (el->sig[signo].fn)
		return -EEXIST;
	sigaddset(&next, signo);
	sigemptyset(&one);
	sigaddset(&one, signo);
	fd = signalfd(el->sigfd, &next, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (el->sigfd < 0) {
		ret = evloop_fd_add(el, fd, EVLOOP_READ, evloop_sigfd_read,
				    NULL);
		if (ret) {
			close(fd);
			return ret;
		}
		if (sigprocmask(SIG_BLOCK, &one, &el->old_mask)) {
			ret = -errno;
			evloop_fd_del(el, fd);
			close(fd);
			return ret;
		}
		el->sigfd = fd;
	} else if (sigprocmask(SIG_BLOCK, &one, NULL)) {
		/* The signalfd watches one signal more: harmless, no fn. */
		return -errno;
	}
	el->sigs = next;
	el->sig[signo].fn = fn;
	el->sig[signo].arg = arg;
	return 0;
}

void evloop_stop(struct evloop *el)
{
	el->stop = true;
}

/* The earliest timer not yet run in this pass, by (due, id). */
static struct evloop_timer *evloop_timer_first(struct evloop *el, bool pass)
{
	struct evloop_timer *best = NULL, *t;
	size_t i;

	for (i = 0; i < el->ntimers; i++) {
		t = &el->timers[i];
		if (pass && t->round == el->round)
			continue;
		if (!best || t->due < best->due ||
		    (t->due == best->due && t->id < best->id))
			best = t;
	}
	return best;
}

static int evloop_timers_run(struct evloop *el)
{
	uint64_t now = evloop_now_ms();
	struct evloop_timer *t;
	evloop_timer_fn fn;
	void *arg;
	int64_t id;
	int ran = 0;

	el->round++;
	while (!el->stop) {
		t = evloop_timer_first(el, true);
		if (!t || t->due > now)
			break;
		fn = t->fn;
		arg = t->arg;
		id = t->id;
		if (t->period) {
			t->round = el->round;
			t->due += t->period;
			if (t->due <= now)
				t->due = now + t->period;
		} else {
			evloop_timer_del(el, id);
		}
		/* t may move or vanish from here on: fn may add or delete. */
		fn(el, id, arg);
		ran++;
	}
	return ran;
}

/* How long epoll may sleep: the caller's bound, cut to the next timer. */
static int evloop_wait_ms(struct evloop *el, int timeout_ms)
{
	struct evloop_timer *t = evloop_timer_first(el, false);
	uint64_t now, left;

	if (!t)
		return timeout_ms;
	now = evloop_now_ms();
	left = t->due > now ? t->due - now : 0;
	if (left > INT_MAX)
		left = INT_MAX;
	if (timeout_ms < 0 || (uint64_t)timeout_ms > left)
		return (int)left;
	return timeout_ms;
}

static uint32_t evloop_events_from_epoll(uint32_t ev)
{
	return (ev & (EPOLLIN | EPOLLRDHUP) ? EVLOOP_READ : 0) |
	       (ev & EPOLLOUT ? EVLOOP_WRITE : 0) |
	       (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP) ? EVLOOP_ERROR : 0);
}

static int evloop_once(struct evloop *el, int timeout_ms)
{
	struct epoll_event ev[EVLOOP_BATCH];
	struct evloop_fd *f;
	int i, n, fd, ran = 0;
	uint32_t gen;

	if (el->stop)
		return 0;
	n = epoll_wait(el->epfd, ev, EVLOOP_BATCH,
		       evloop_wait_ms(el, timeout_ms));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n && !el->stop; i++) {
		fd = (int)(uint32_t)ev[i].data.u64;
		gen = (uint32_t)(ev[i].data.u64 >> 32);
		if (!evloop_fd_watched(el, fd) || el->fds[fd].gen != gen)
			continue; /* removed by an earlier callback */
		f = &el->fds[fd];
		f->fn(el, fd, evloop_events_from_epoll(ev[i].events), f->arg);
		ran++;
	}
	return ran + evloop_timers_run(el);
}

int evloop_run_once(struct evloop *el, int timeout_ms)
{
	int ret = evloop_once(el, timeout_ms);

	el->stop = false;
	return ret;
}

int evloop_run(struct evloop *el)
{
	int ret = 0;

	while (!el->stop) {
		ret = evloop_once(el, -1);
		if (ret < 0)
			break;
	}
	el->stop = false;
	return ret < 0 ? ret : 0;
}
