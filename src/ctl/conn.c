// SPDX-License-Identifier: GPL-2.0-only
#include "ctl/conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#define CONN_RETRY_NS (10 * 1000 * 1000)
#define CONN_BUF_MIN 4096

static uint64_t conn_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for ev or the deadline passes. */
static int conn_wait(struct conn *c, short ev)
{
	struct pollfd pfd = {.fd = c->fd, .events = ev};
	uint64_t now;
	int n;

	for (;;) {
		now = conn_now_ms();
		if (now >= c->deadline_ms)
			return -ETIMEDOUT;
		n = poll(&pfd, 1, (int)(c->deadline_ms - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ETIMEDOUT;
		/* Ready, or an error the next send or recv reports. */
		return 0;
	}
}

int conn_open(struct conn *c, const char *path, int timeout_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const struct timespec pause = {.tv_nsec = CONN_RETRY_NS};
	int ret;

	c->fd = -1;
	if (!path[0])
		return -ENOENT;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	c->deadline_ms =
		conn_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	for (;;) {
		if (!connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)))
			return 0;
		if (errno == EINTR)
			continue;
		/* A Unix socket says EAGAIN, not EINPROGRESS, while the
		 * listener's backlog is full: try again until the deadline. */
		if (errno == EAGAIN && conn_now_ms() < c->deadline_ms) {
			nanosleep(&pause, NULL);
			continue;
		}
		ret = errno == EAGAIN ? -ETIMEDOUT : -errno;
		conn_close(c);
		return ret;
	}
}

static int conn_send_all(struct conn *c, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int ret;

	while (off < len) {
		n = send(c->fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = conn_wait(c, POLLOUT);
		if (ret)
			return ret;
	}
	return 0;
}

/* Read until a newline; buf grows up to max + 1 bytes and a NUL. */
static int conn_recv_line(struct conn *c, size_t max, char **ans, size_t *len)
{
	size_t have = 0, cap = 0;
	char *buf = NULL, *p, *nl;
	ssize_t n;
	int ret;

	for (;;) {
		if (have == cap) {
			if (cap > max) {
				ret = -EMSGSIZE;
				goto fail;
			}
			cap = cap ? cap * 2 : CONN_BUF_MIN;
			if (cap > max + 1)
				cap = max + 1;
			p = realloc(buf, cap + 1);
			if (!p) {
				ret = -ENOMEM;
				goto fail;
			}
			buf = p;
		}
		n = recv(c->fd, buf + have, cap - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = conn_wait(c, POLLIN);
			if (ret)
				goto fail;
			continue;
		}
		if (n < 0) {
			ret = -errno;
			goto fail;
		}
		if (n == 0) {
			ret = -ECONNRESET;
			goto fail;
		}
		nl = memchr(buf + have, '\n', (size_t)n);
		have += (size_t)n;
		if (!nl)
			continue;
		if ((size_t)(nl - buf) > max) {
			ret = -EMSGSIZE;
			goto fail;
		}
		*nl = '\0';
		*ans = buf;
		*len = (size_t)(nl - buf);
		return 0;
	}
fail:
	free(buf);
	return ret;
}

int conn_request(struct conn *c, const char *req, size_t max, char **ans,
		 size_t *len)
{
	size_t n = strlen(req);
	char *line = malloc(n + 1);
	int ret;

	if (!line)
		return -ENOMEM;
	memcpy(line, req, n);
	line[n] = '\n';
	ret = conn_send_all(c, line, n + 1);
	free(line);
	if (ret)
		return ret;
	/* Nothing more to ask: steerd answers, then closes its end. */
	shutdown(c->fd, SHUT_WR);
	return conn_recv_line(c, max, ans, len);
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
