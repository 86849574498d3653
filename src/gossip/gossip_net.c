// SPDX-License-Identifier: GPL-2.0-only
/*
 * Gossip over UDP sockets (see gossip_net.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#include "gossip/gossip_net.h"

#define NET_LOG "gossip"
/* Room for a burst of pushes from every member at once. */
#define NET_RCVBUF (4 << 20)

struct gossip_net {
	int fd;
	int family;
	struct gossip_net_counters ctr;
	struct log_ratelimit rl;
	/* One byte more than the largest datagram: longer ones show. */
	uint8_t buf[GOSSIP_DGRAM_MAX + 1];
};

/* Socket address for a on a socket of this family; length or -errno. */
static int to_sockaddr(int family, const struct gossip_addr *a,
		       struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		if (!flow_addr_is_v4(&a->ip))
			return -EAFNOSUPPORT;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		s4->sin_addr.s_addr = a->ip.w[3];
		return (int)sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(a->port);
	memcpy(s6->sin6_addr.s6_addr, a->ip.b, 16);
	return (int)sizeof(*s6);
}

/* Returns 0, or -EAFNOSUPPORT for another family. */
static int from_sockaddr(const struct sockaddr_storage *ss,
			 struct gossip_addr *a)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	memset(a, 0, sizeof(*a));
	switch (ss->ss_family) {
	case AF_INET:
		flow_addr_set_v4(&a->ip, s4->sin_addr.s_addr);
		a->port = ntohs(s4->sin_port);
		return 0;
	case AF_INET6:
		memcpy(a->ip.b, s6->sin6_addr.s6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		return 0;
	default:
		return -EAFNOSUPPORT;
	}
}

struct gossip_net *gossip_net_open(const struct gossip_addr *addr)
{
	struct sockaddr_storage ss;
	struct gossip_net *n;
	int zero = 0, buf = NET_RCVBUF, len, err;

	if (!addr) {
		errno = EINVAL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	n->family = flow_addr_is_v4(&addr->ip) ? AF_INET : AF_INET6;
	n->fd = socket(n->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (n->fd < 0)
		goto err_free;
	/* Best effort: a dual-stack socket, a large receive buffer. */
	if (n->family == AF_INET6)
		(void)setsockopt(n->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
				 sizeof(zero));
	(void)setsockopt(n->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	len = to_sockaddr(n->family, addr, &ss);
	if (bind(n->fd, (struct sockaddr *)&ss, (socklen_t)len))
		goto err_close;
	return n;

err_close:
	err = errno;
	close(n->fd);
	errno = err;
err_free:
	err = errno;
	free(n);
	errno = err;
	return NULL;
}

void gossip_net_close(struct gossip_net *n)
{
	if (!n)
		return;
	close(n->fd);
	free(n);
}

int gossip_net_fd(const struct gossip_net *n)
{
	return n->fd;
}

int gossip_net_local(const struct gossip_net *n, struct gossip_addr *out)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(n->fd, (struct sockaddr *)&ss, &len))
		return -errno;
	return from_sockaddr(&ss, out);
}

uint64_t gossip_net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t io_now(void *ctx)
{
	(void)ctx;
	return gossip_net_now_ms();
}

static int io_send(void *ctx, const struct gossip_addr *to, const void *buf,
		   size_t len)
{
	return gossip_net_send(ctx, to, buf, len);
}

void gossip_net_io(struct gossip_net *n, struct gossip_io *io)
{
	memset(io, 0, sizeof(*io));
	io->ctx = n;
	io->now_ms = io_now;
	io->send = io_send;
}

int gossip_net_send(struct gossip_net *n, const struct gossip_addr *to,
		    const void *buf, size_t len)
{
	struct sockaddr_storage ss;
	int sl = to_sockaddr(n->family, to, &ss), err;
	char a[64];

	if (sl < 0) {
		n->ctr.tx_err++;
		return sl;
	}
	for (;;) {
		if (sendto(n->fd, buf, len, 0, (struct sockaddr *)&ss,
			   (socklen_t)sl) >= 0) {
			n->ctr.tx++;
			n->ctr.tx_bytes += len;
			return 0;
		}
		if (errno != EINTR)
			break;
	}
	err = errno;
	n->ctr.tx_err++;
	/* A full socket buffer is loss, which the protocol copes with. */
	if (err != EAGAIN && err != EWOULDBLOCK)
		log_warn_rl(&n->rl, NET_LOG, "send to %s: %s",
			    gossip_addr_format(to, a, sizeof(a)),
			    strerror(err));
	return -err;
}

int gossip_net_recv(struct gossip_net *n, struct gossip *g, uint32_t max)
{
	struct sockaddr_storage ss;
	struct gossip_addr from;
	socklen_t sl;
	ssize_t len;
	uint32_t got = 0;
	int err;

	while (got < max) {
		sl = sizeof(ss);
		/* MSG_TRUNC: the real length, so an oversized one shows. */
		len = recvfrom(n->fd, n->buf, sizeof(n->buf), MSG_TRUNC,
			       (struct sockaddr *)&ss, &sl);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			err = errno;
			n->ctr.rx_err++;
			log_warn_rl(&n->rl, NET_LOG, "receive: %s",
				    strerror(err));
			return got ? (int)got : -err;
		}
		got++;
		if ((size_t)len > GOSSIP_DGRAM_MAX) {
			n->ctr.rx_trunc++;
			continue;
		}
		if (from_sockaddr(&ss, &from)) {
			n->ctr.rx_err++;
			continue;
		}
		n->ctr.rx++;
		n->ctr.rx_bytes += (uint64_t)len;
		gossip_recv(g, n->buf, (size_t)len, &from);
	}
	return (int)got;
}

const struct gossip_net_counters *
gossip_net_counters(const struct gossip_net *n)
{
	return &n->ctr;
}

static int parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int gossip_addr_parse(const char *s, uint16_t default_port,
		      struct gossip_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port = NULL, *end, *colon;
	struct in_addr v4;
	size_t len;

	if (!s || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->port = default_port;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] && end[1] != ':'))
			return -EINVAL;
		if (end[1] == ':')
			port = end + 2;
		s++;
		len = (size_t)(end - s);
	} else {
		colon = strchr(s, ':');
		/* One colon: IPv4 and a port; more: a bare IPv6 address. */
		if (colon && !strchr(colon + 1, ':')) {
			port = colon + 1;
			len = (size_t)(colon - s);
		} else {
			len = strlen(s);
		}
	}
	if (!len || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = 0;
	if (port && parse_port(port, &out->port))
		return -EINVAL;
	if (inet_pton(AF_INET, host, &v4) == 1) {
		flow_addr_set_v4(&out->ip, v4.s_addr);
		return 0;
	}
	if (inet_pton(AF_INET6, host, out->ip.b) == 1)
		return 0;
	return -EINVAL;
}

char *gossip_addr_format(const struct gossip_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!len)
		return buf;
	if (flow_addr_is_v4(&a->ip)) {
		inet_ntop(AF_INET, &a->ip.w[3], ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, a->port);
	} else {
		inet_ntop(AF_INET6, a->ip.b, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, a->port);
	}
	return buf;
}
