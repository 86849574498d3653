// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-echo: the lab's TCP and UDP echo server, one process, epoll.
 *
 *   steer-echo --name HOST --listen ADDR [--listen ADDR ...] --port P
 *              [--max-conns N] [--duration S]
 *
 * For every ADDR it listens on TCP and binds UDP at ADDR:P (IP_FREEBIND,
 * so the address may come later). Every request line "ID SEQ" it reads is
 * answered by "HOST ID SEQ" (tools/tool_net.h), so a client sees which
 * host holds its flow. UDP answers leave from the address the datagram
 * was sent to, since each socket is bound to one address.
 *
 * A TCP line longer than TOOL_LINE_MAX closes its connection; a peer that
 * does not read its answers is not read either until it does. At most N
 * connections (default 16384); further ones are accepted and closed.
 * Runs until SIGTERM/SIGINT, or S seconds when given. Prints its counters
 * to stderr on exit. Exit status: 0, 1 when it could not start.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tools/tool_net.h"
#include "util/log.h"

#define ECHO_MAX_LISTEN 16
#define ECHO_OUT_MAX 4096
#define ECHO_REPLY_MAX (TOOL_HOST_MAX + TOOL_LINE_MAX + 1)
#define ECHO_UDP_MAX 512

enum echo_kind { ECHO_TCP_LISTEN, ECHO_UDP, ECHO_CONN, ECHO_SIGNAL };

/* What an epoll event points at; every such struct begins with it. */
struct echo_ref {
	enum echo_kind kind;
	int fd;
};

struct echo_conn {
	struct echo_ref ref;
	uint32_t events; /* what epoll watches now */
	size_t in_len;
	size_t out_off, out_len;
	char in[TOOL_LINE_MAX];
	char out[ECHO_OUT_MAX];
};

struct echo_stats {
	uint64_t accepted, refused, closed, lines, too_long;
	uint64_t udp_in, udp_out, udp_bad, io_errors;
};

struct echo {
	const char *name;
	size_t name_len;
	int ep;
	uint32_t conns, max_conns;
	struct echo_ref refs[2 * ECHO_MAX_LISTEN + 1];
	uint32_t n_refs;
	struct echo_stats st;
	struct log_ratelimit rl;
};

struct echo_opts {
	const char *name;
	const char *listen[ECHO_MAX_LISTEN];
	uint32_t n_listen;
	uint32_t port, max_conns, duration;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: steer-echo --name HOST --listen ADDR [--listen ADDR ...]"
		" --port P\n"
		"                  [--max-conns N] [--duration S]\n");
}

static int echo_watch(struct echo *e, struct echo_ref *r, uint32_t events,
		      int op)
{
	struct epoll_event ev = {.events = events, .data.ptr = r};

	if (epoll_ctl(e->ep, op, r->fd, &ev) < 0)
		return -errno;
	return 0;
}

/* One TCP listener and one UDP socket at addr:port. */
static int echo_bind(struct echo *e, const char *addr, uint16_t port)
{
	static const int types[2] = {SOCK_STREAM, SOCK_DGRAM};
	struct sockaddr_storage ss;
	socklen_t len;
	int i, fd, one = 1;
	char buf[80];

	if (tool_addr_parse(addr, port, &ss, &len)) {
		log_err("echo", "'--listen' expects an IP address, got '%s'",
			addr);
		return -EINVAL;
	}
	for (i = 0; i < 2; i++) {
		fd = socket(ss.ss_family, types[i] | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ss.ss_family == AF_INET6) {
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				   sizeof(one));
			setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one,
				   sizeof(one));
		} else {
			setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one,
				   sizeof(one));
		}
		e->refs[e->n_refs] = (struct echo_ref){
			.kind = i ? ECHO_UDP : ECHO_TCP_LISTEN, .fd = fd};
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
		    (!i && listen(fd, 4096) < 0)) {
			log_err("echo", "%s %s: %s", i ? "udp" : "tcp",
				tool_addr_str(&ss, buf, sizeof(buf)),
				strerror(errno));
			close(fd);
			return -errno;
		}
		if (echo_watch(e, &e->refs[e->n_refs], EPOLLIN, EPOLL_CTL_ADD))
			return -errno;
		e->n_refs++;
	}
	return 0;
}

static void echo_conn_close(struct echo *e, struct echo_conn *c)
{
	close(c->ref.fd);
	free(c);
	e->conns--;
	e->st.closed++;
}

static void echo_accept(struct echo *e, struct echo_ref *l)
{
	struct echo_conn *c;
	int fd, one = 1;

	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				log_warn_rl(&e->rl, "echo", "accept: %s",
					    strerror(errno));
			return;
		}
		c = e->conns < e->max_conns ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			e->st.refused++;
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->ref = (struct echo_ref){.kind = ECHO_CONN, .fd = fd};
		c->events = EPOLLIN;
		if (echo_watch(e, &c->ref, c->events, EPOLL_CTL_ADD)) {
			close(fd);
			free(c);
			continue;
		}
		e->conns++;
		e->st.accepted++;
	}
}

/* Append "NAME " + line + "\n" to buf; returns its length. */
static size_t echo_reply_fmt(const struct echo *e, char *buf, const char *line,
			     size_t len)
{
	memcpy(buf, e->name, e->name_len);
	buf[e->name_len] = ' ';
	memcpy(buf + e->name_len + 1, line, len);
	buf[e->name_len + 1 + len] = '\n';
	return e->name_len + len + 2;
}

/* Answer the complete lines in c->in. Returns -EMSGSIZE for a long line. */
static int echo_conn_lines(struct echo *e, struct echo_conn *c)
{
	char *nl;
	size_t n;

	while ((nl = memchr(c->in, '\n', c->in_len))) {
		n = (size_t)(nl - c->in);
		if (c->out_len + ECHO_REPLY_MAX > sizeof(c->out))
			return 0; /* answer the rest once this is sent */
		c->out_len += echo_reply_fmt(e, c->out + c->out_len, c->in, n);
		memmove(c->in, nl + 1, c->in_len - n - 1);
		c->in_len -= n + 1;
		e->st.lines++;
	}
	if (c->in_len == sizeof(c->in)) {
		e->st.too_long++;
		return -EMSGSIZE;
	}
	return 0;
}

/* Write what is pending. Returns 0, or -errno when the peer is gone. */
static int echo_conn_flush(struct echo *e, struct echo_conn *c)
{
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->ref.fd, c->out + c->out_off,
			 c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return 0;
}

/*
 * Read, answer, write. Reading stops while the answers do not fit the
 * output buffer, so a peer that does not read cannot grow our memory.
 * Returns 0, or a negative value when the connection is to be closed.
 */
static int echo_conn_io(struct echo *e, struct echo_conn *c)
{
	uint32_t want;
	ssize_t n;
	int rc;

	for (;;) {
		rc = echo_conn_flush(e, c);
		if (rc)
			return rc;
		rc = echo_conn_lines(e, c);
		if (rc)
			return rc;
		if (c->out_len || c->in_len == sizeof(c->in))
			break;
		n = recv(c->ref.fd, c->in + c->in_len,
			 sizeof(c->in) - c->in_len, 0);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		c->in_len += (size_t)n;
	}
	want = c->out_len > c->out_off ? EPOLLOUT : EPOLLIN;
	if (want != c->events) {
		c->events = want;
		rc = echo_watch(e, &c->ref, want, EPOLL_CTL_MOD);
	}
	return rc;
}

static void echo_udp(struct echo *e, struct echo_ref *u)
{
	char in[ECHO_UDP_MAX], out[ECHO_UDP_MAX + TOOL_HOST_MAX + 2];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t n;
	size_t len;
	int i;

	/* A bounded batch, so one busy socket cannot starve the others. */
	for (i = 0; i < 64; i++) {
		fl = sizeof(from);
		n = recvfrom(u->fd, in, sizeof(in), MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		e->st.udp_in++;
		len = (size_t)n;
		if (len > sizeof(in) || !len) {
			e->st.udp_bad++;
			continue;
		}
		if (in[len - 1] == '\n')
			len--;
		len = echo_reply_fmt(e, out, in, len);
		if (sendto(u->fd, out, len, 0, (struct sockaddr *)&from, fl) ==
		    (ssize_t)len)
			e->st.udp_out++;
		else
			e->st.io_errors++;
	}
}

static int echo_signal_fd(struct echo *e)
{
	static struct echo_ref ref = {.kind = ECHO_SIGNAL};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	ref.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ref.fd < 0)
		return -errno;
	return echo_watch(e, &ref, EPOLLIN, EPOLL_CTL_ADD);
}

/* Serve until a signal or the deadline (0: none). */
static void echo_run(struct echo *e, uint64_t deadline_ns)
{
	struct epoll_event evs[128];
	struct echo_ref *r;
	int n, i, timeout;
	uint64_t now;

	for (;;) {
		timeout = -1;
		if (deadline_ns) {
			now = tool_now_ns();
			if (now >= deadline_ns)
				return;
			timeout = (int)((deadline_ns - now) / 1000000) + 1;
		}
		n = epoll_wait(e->ep, evs, 128, timeout);
		if (n < 0 && errno != EINTR) {
			log_err("echo", "epoll_wait: %s", strerror(errno));
			return;
		}
		for (i = 0; i < n; i++) {
			r = evs[i].data.ptr;
			switch (r->kind) {
			case ECHO_SIGNAL:
				return;
			case ECHO_TCP_LISTEN:
				echo_accept(e, r);
				break;
			case ECHO_UDP:
				echo_udp(e, r);
				break;
			case ECHO_CONN:
				if (echo_conn_io(e, (struct echo_conn *)r))
					echo_conn_close(e,
							(struct echo_conn *)r);
				break;
			}
		}
	}
}

/* A numeric option in [min, max], or a message naming it. */
static int echo_opt_u32(const char *name, const char *arg, uint32_t min,
			uint32_t max, uint32_t *out)
{
	if (!tool_parse_u32(arg, min, max, out))
		return 0;
	log_err("echo", "'--%s' expects %u..%u, got '%s'", name, min, max, arg);
	return -EINVAL;
}

static int echo_opts_parse(int argc, char **argv, struct echo_opts *o)
{
	static const struct option lopts[] = {
		{"name", required_argument, NULL, 'n'},
		{"listen", required_argument, NULL, 'l'},
		{"port", required_argument, NULL, 'p'},
		{"max-conns", required_argument, NULL, 'm'},
		{"duration", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c, rc = 0;

	o->max_conns = 16384;
	while (!rc && (c = getopt_long(argc, argv, "n:l:p:m:d:h", lopts,
				       NULL)) != -1) {
		switch (c) {
		case 'n':
			o->name = optarg;
			break;
		case 'l':
			if (o->n_listen == ECHO_MAX_LISTEN) {
				log_err("echo", "at most %d '--listen'",
					ECHO_MAX_LISTEN);
				return -EINVAL;
			}
			o->listen[o->n_listen++] = optarg;
			break;
		case 'p':
			rc = echo_opt_u32("port", optarg, 1, 65535, &o->port);
			break;
		case 'm':
			rc = echo_opt_u32("max-conns", optarg, 1, 1u << 20,
					  &o->max_conns);
			break;
		case 'd':
			rc = echo_opt_u32("duration", optarg, 0, 86400,
					  &o->duration);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (rc)
		return rc;
	if (optind != argc || !o->name || !o->n_listen || !o->port) {
		usage(stderr);
		return -EINVAL;
	}
	if (!*o->name || strlen(o->name) >= TOOL_HOST_MAX ||
	    strpbrk(o->name, " \n")) {
		log_err("echo",
			"'--name' expects 1..%d characters without blanks, "
			"got '%s'",
			TOOL_HOST_MAX - 1, o->name);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct echo e = {.rl = LOG_RATELIMIT_INIT(1, 5)};
	struct echo_opts o = {0};
	uint32_t i;
	int rc;

	if (echo_opts_parse(argc, argv, &o))
		return 1;
	e.name = o.name;
	e.name_len = strlen(o.name);
	e.max_conns = o.max_conns;
	if (tool_nofile_raise(o.max_conns + 64))
		log_warn("echo", "cannot raise the open-file limit to %u",
			 o.max_conns + 64);
	e.ep = epoll_create1(EPOLL_CLOEXEC);
	if (e.ep < 0) {
		log_err("echo", "epoll_create1: %s", strerror(errno));
		return 1;
	}
	rc = echo_signal_fd(&e);
	for (i = 0; !rc && i < o.n_listen; i++)
		rc = echo_bind(&e, o.listen[i], (uint16_t)o.port);
	if (rc) {
		log_err("echo", "cannot start: %s", strerror(-rc));
		return 1;
	}
	log_info("echo", "%s serving port %u on %u addresses", e.name, o.port,
		 o.n_listen);
	echo_run(&e,
		 o.duration ? tool_now_ns() + o.duration * 1000000000ull : 0);
	fprintf(stderr,
		"steer-echo %s: accepted %llu refused %llu closed %llu open %u "
		"lines %llu too_long %llu udp_in %llu udp_out %llu udp_bad "
		"%llu io_errors %llu\n",
		e.name, (unsigned long long)e.st.accepted,
		(unsigned long long)e.st.refused,
		(unsigned long long)e.st.closed, e.conns,
		(unsigned long long)e.st.lines,
		(unsigned long long)e.st.too_long,
		(unsigned long long)e.st.udp_in,
		(unsigned long long)e.st.udp_out,
		(unsigned long long)e.st.udp_bad,
		(unsigned long long)e.st.io_errors);
	return 0;
}
