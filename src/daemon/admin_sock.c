// SPDX-License-Identifier: GPL-2.0-only
/*
 * The admin socket: a Unix stream socket, one JSON request per line in,
 * one JSON answer per line out (admin_handle, admin.c), non-blocking on
 * the daemon's loop, bounded in clients, request and answer size.
 */
#include "daemon/admin.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "daemon/steerd.h"
#include "util/evloop.h"
#include "util/log.h"

#define MOD "admin"

struct admin_client {
	struct admin *a;
	int fd;
	char in[ADMIN_REQ_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off, out_cap;
	bool eof;     /* the client will send nothing more */
	bool closing; /* close once the answers are out */
	struct admin_client *next;
};

struct admin {
	struct evloop *el;
	struct steerd *d;
	int fd;
	char path[STEERD_SUN_PATH_MAX];
	dev_t dev; /* of the socket file this server made */
	ino_t ino;
	struct admin_client *clients;
	struct admin_stats st;
	struct jsonw w; /* reused for every answer */
};

static void admin_client_close(struct admin_client *cl)
{
	struct admin *a = cl->a;
	struct admin_client **pp;

	for (pp = &a->clients; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	evloop_fd_del(a->el, cl->fd);
	close(cl->fd);
	free(cl->out);
	free(cl);
	a->st.clients--;
}

static int admin_out_append(struct admin_client *cl, const char *s, size_t n)
{
	size_t need = cl->out_len + n;
	char *p;

	if (need > ADMIN_OUT_MAX)
		return -ENOBUFS;
	if (need > cl->out_cap) {
		size_t cap = cl->out_cap ? cl->out_cap : 4096;

		while (cap < need)
			cap *= 2;
		p = realloc(cl->out, cap);
		if (!p)
			return -ENOMEM;
		cl->out = p;
		cl->out_cap = cap;
	}
	memcpy(cl->out + cl->out_len, s, n);
	cl->out_len += n;
	return 0;
}

static int admin_answer(struct admin_client *cl, char *line)
{
	static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}";
	struct admin *a = cl->a;
	int ret;

	a->st.requests++;
	ret = admin_handle(a->d, line, &a->w);
	if (ret)
		a->st.errors++;
	if (ret == -ENOMEM)
		ret = admin_out_append(cl, oom, sizeof(oom) - 1);
	else
		ret = admin_out_append(cl, a->w.buf, a->w.len);
	if (!ret)
		ret = admin_out_append(cl, "\n", 1);
	return ret;
}

static void admin_too_long(struct admin_client *cl)
{
	static const char msg[] = "{\"ok\":false,\"error\":\"request too "
				  "long\",\"usage\":true}\n";
	struct admin *a = cl->a;

	a->st.requests++;
	a->st.errors++;
	a->st.too_long++;
	cl->in_len = 0;
	cl->closing = true;
	if (admin_out_append(cl, msg, sizeof(msg) - 1))
		cl->out_len = cl->out_off; /* nothing more to say */
}

/* Answer every whole line read; 0 or -errno to drop the client. */
static int admin_lines(struct admin_client *cl)
{
	char *start = cl->in, *nl;
	size_t left = cl->in_len;
	int ret;

	while (!cl->closing && (nl = memchr(start, '\n', left))) {
		*nl = '\0';
		if (nl > start && nl[-1] == '\r')
			nl[-1] = '\0';
		ret = admin_answer(cl, start);
		if (ret)
			return ret;
		left -= (size_t)(nl + 1 - start);
		start = nl + 1;
	}
	memmove(cl->in, start, left);
	cl->in_len = left;
	if (cl->closing)
		return 0;
	if (cl->in_len == sizeof(cl->in)) {
		admin_too_long(cl);
	} else if (cl->eof && cl->in_len) {
		/* A last request without its newline: answer it too. */
		cl->in[cl->in_len] = '\0';
		if (cl->in[cl->in_len - 1] == '\r')
			cl->in[cl->in_len - 1] = '\0';
		cl->in_len = 0;
		return admin_answer(cl, cl->in);
	}
	return 0;
}

/* Send what is queued; 0 when all out, 1 when the socket is full. */
static int admin_flush(struct admin_client *cl)
{
	ssize_t n;

	while (cl->out_off < cl->out_len) {
		n = send(cl->fd, cl->out + cl->out_off,
			 cl->out_len - cl->out_off,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n <= 0)
			return -errno; /* gone: EPIPE, ECONNRESET */
		cl->out_off += (size_t)n;
	}
	cl->out_off = cl->out_len = 0;
	return 0;
}

static int admin_read(struct admin_client *cl)
{
	ssize_t n;

	for (;;) {
		size_t room = sizeof(cl->in) - cl->in_len;

		if (!room || cl->eof)
			return 0;
		n = recv(cl->fd, cl->in + cl->in_len, room, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0)
			return -errno;
		if (n == 0) {
			cl->eof = true;
			return 0;
		}
		cl->in_len += (size_t)n;
		if (memchr(cl->in + cl->in_len - n, '\n', (size_t)n) ||
		    cl->in_len == sizeof(cl->in))
			return 0;
	}
}

static void admin_on_client(struct evloop *el, int fd, uint32_t events,
			    void *arg)
{
	struct admin_client *cl = arg;
	int ret = 0;

	if (events & EVLOOP_READ)
		ret = admin_read(cl);
	if (!ret)
		ret = admin_lines(cl);
	if (!ret)
		ret = admin_flush(cl);
	if (ret < 0 || (ret == 0 && (cl->closing || cl->eof))) {
		admin_client_close(cl);
		return;
	}
	/* Answers pending: wait for room, read nothing more until then. */
	evloop_fd_mod(el, fd, ret ? EVLOOP_WRITE : EVLOOP_READ);
}

static void admin_on_accept(struct evloop *el, int fd, uint32_t events,
			    void *arg)
{
	struct admin *a = arg;
	struct admin_client *cl;
	int c;

	for (;;) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn(MOD, "accept: %s", strerror(errno));
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		cl = a->st.clients < ADMIN_MAX_CLIENTS ? calloc(1, sizeof(*cl))
						       : NULL;
		if (!cl) {
			a->st.rejected++;
			close(c);
			continue;
		}
		cl->a = a;
		cl->fd = c;
		if (evloop_fd_add(el, c, EVLOOP_READ, admin_on_client, cl)) {
			a->st.rejected++;
			close(c);
			free(cl);
			continue;
		}
		cl->next = a->clients;
		a->clients = cl;
		a->st.clients++;
		a->st.accepted++;
	}
}

/* Is somebody accepting on path? Then it is not ours to replace. */
static bool admin_path_live(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return live;
}

static int admin_listen(struct admin *a, const char *path, char *err,
			size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char dir[STEERD_SUN_PATH_MAX], *slash;
	struct stat st;
	mode_t old;
	int ret;

	if (strlen(path) >= sizeof(sa.sun_path) || !path[0]) {
		snprintf(err, errlen, "%s: path too long for a socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST) {
			ret = -errno;
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return ret;
		}
	}
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket",
				 path);
			return -EEXIST;
		}
		if (admin_path_live(path)) {
			snprintf(err, errlen,
				 "%s: another steerd is listening there", path);
			return -EADDRINUSE;
		}
		unlink(path); /* stale: its daemon is gone */
	}
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0)
		goto fail;
	old = umask(0117); /* 0660: the daemon's user and group */
	ret = bind(a->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(a->fd, 64) || stat(path, &st))
		goto fail;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	snprintf(a->path, sizeof(a->path), "%s", path);
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return ret;
}

struct admin *admin_new(struct evloop *el, struct steerd *d, const char *path,
			char *err, size_t errlen)
{
	struct admin *a = calloc(1, sizeof(*a));
	int ret;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->el = el;
	a->d = d;
	a->fd = -1;
	jsonw_init(&a->w);
	ret = admin_listen(a, path, err, errlen);
	if (!ret) {
		ret = evloop_fd_add(el, a->fd, EVLOOP_READ, admin_on_accept, a);
		if (ret)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
	}
	if (ret) {
		admin_free(a);
		errno = -ret;
		return NULL;
	}
	return a;
}

void admin_free(struct admin *a)
{
	struct stat st;

	if (!a)
		return;
	while (a->clients)
		admin_client_close(a->clients);
	if (a->fd >= 0) {
		evloop_fd_del(a->el, a->fd);
		close(a->fd);
		/* Someone may have replaced it meanwhile: leave theirs. */
		if (a->path[0] && !stat(a->path, &st) && st.st_dev == a->dev &&
		    st.st_ino == a->ino)
			unlink(a->path);
	}
	jsonw_free(&a->w);
	free(a);
}

const struct admin_stats *admin_stats(const struct admin *a)
{
	return a ? &a->st : NULL;
}
