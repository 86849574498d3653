// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-traffic: the lab's client. Keeps K long-lived TCP connections (and
 * optionally U UDP flows) to a service address open, exchanging a small
 * request and its echo on each every T ms, and reports per flow whether it
 * survived and its longest gap.
 *
 *   steer-traffic --target ADDR --port P [--conns K] [--udp U]
 *                 [--interval MS] [--duration S] [--connect-timeout S]
 *                 [--stall MS] [--csv FILE] [--ready FILE] [--quiet]
 *                 [--gaps FILE] [--gap-min MS]
 *
 * Phases, all bounded: connect (every TCP connection at once, at most
 * connect-timeout s); traffic (duration s); drain (at most stall ms, for the
 * echoes in flight). The whole run lasts at most connect-timeout +
 * duration + stall.
 *
 * A TCP connection has at most one request in flight: the next one leaves
 * T ms after the previous one, or when its echo arrives if that is later,
 * so a connection that stalls sends nothing more. A UDP flow sends every
 * T ms whatever came back. The gap of a request is the time from its send
 * to its echo; a request unanswered at the end counts until the end.
 *
 * Per flow the outcome is one of:
 *   failed    never established (connect error or timeout)
 *   broken    error or end of stream from the server (a reset when the
 *             flow lands on a host that has no socket for it)
 *   stalled   no error, but a request of its has waited at least stall ms
 *             at the end (TCP), or no echo in the last stall ms (UDP)
 *   survived  all else
 * moved: answers came from more than one host (the answer names its host).
 *
 * Output (stdout): one summary line per protocol,
 *   connections K established E survived S broken B stalled X moved M
 *     longest_gap_ms G bytes_tx T bytes_rx R
 *   udp_flows U survived S stalled X moved M longest_gap_ms G ...
 * then one "host NAME connections N broken B" line per first answering
 * host; with --csv, one row per flow. --ready FILE is written once the
 * connect phase is over ("established E"), so a script can time a change.
 * --gaps FILE: one row per wait of gap-min ms or more (default 100) as it
 * ends, "id,proto,family,local_port,start_ms,end_ms", the times in ms of
 * the realtime clock (what `date +%s%3N` prints), so a script can line them
 * up with the moments it caused a fault; a wait still open when the run
 * ends (a stalled flow) has end_ms -1, a broken flow's last wait no row.
 * Exit status 0, whatever the flows did; 1 when it could not run (bad
 * arguments, no sockets, the CSV cannot be written).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tools/tool_net.h"
#include "util/log.h"

#define TR_MAX_FLOWS 60000
#define TR_MAX_HOSTS 64
#define TR_SIGNAL_TOKEN UINT64_MAX
#define MS 1000000ull

enum tr_state {
	TR_CONNECTING,
	TR_OPEN,
	TR_FAILED,
	TR_BROKEN,
	TR_STALLED,
	TR_SURVIVED,
};

static const char *const tr_state_names[] = {
	"connecting", "open", "failed", "broken", "stalled", "survived"};

struct tr_flow {
	int fd;
	bool udp;
	bool awaiting; /* a TCP request is in flight */
	uint8_t state;
	uint16_t lport;
	int err; /* errno of the failure or break; -1: end of stream */
	uint32_t id, seq, sent, echoed, bad, host_changes;
	uint64_t next_send, unanswered_since, last_echo, broken_at;
	uint64_t gap_max;
	uint64_t gap_max_at; /* when the longest wait began */
	uint64_t bytes_tx, bytes_rx;
	char first_host[TOOL_HOST_MAX];
	char last_host[TOOL_HOST_MAX];
	size_t rx_len;
	char rx[TOOL_HOST_MAX + TOOL_LINE_MAX];
	size_t tx_off, tx_len;
	char tx[32];
};

struct tr_opts {
	const char *target, *csv, *ready, *gaps;
	uint32_t port, conns, udp, interval_ms, duration_s, connect_s, stall_ms;
	uint32_t gap_min_ms;
	bool quiet;
};

struct tr {
	struct tr_opts o;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	int ep, sig_fd;
	struct tr_flow *flows;
	uint32_t n_flows;
	uint64_t t_start, t_end; /* of the traffic phase */
	FILE *gaps;		 /* --gaps, or NULL */
	int64_t real_off;	 /* realtime minus monotonic clock, ns */
	bool stop;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: steer-traffic --target ADDR --port P [--conns K] "
		"[--udp U]\n"
		"                     [--interval MS] [--duration S] "
		"[--connect-timeout S]\n"
		"                     [--stall MS] [--csv FILE] [--ready FILE] "
		"[--quiet]\n"
		"                     [--gaps FILE] [--gap-min MS]\n"
		"defaults: --conns 200 --udp 0 --interval 100 --duration 10 "
		"--connect-timeout 5 --stall 1000 --gap-min 100\n");
}

static int tr_watch(struct tr *t, struct tr_flow *f, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events,
				 .data.u64 = (uint64_t)(f - t->flows)};

	if (epoll_ctl(t->ep, op, f->fd, &ev) < 0)
		return -errno;
	return 0;
}

static void tr_flow_lport(struct tr_flow *f)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(f->fd, (struct sockaddr *)&ss, &len))
		return;
	f->lport = ntohs(ss.ss_family == AF_INET6
				 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				 : ((struct sockaddr_in *)&ss)->sin_port);
}

/* The flow is over for good: err -1 is end of stream. */
static void tr_flow_end(struct tr_flow *f, uint8_t state, int err, uint64_t now)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->state = state;
	f->err = err;
	f->broken_at = now;
	f->awaiting = false;
}

/* Start a flow: TCP connects in the background, UDP is open at once. */
static int tr_flow_open(struct tr *t, struct tr_flow *f)
{
	int one = 1;

	f->fd = socket(t->dst.ss_family,
		       (f->udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK, 0);
	if (f->fd < 0)
		return -errno;
	if (!f->udp)
		setsockopt(f->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	f->state = f->udp ? TR_OPEN : TR_CONNECTING;
	if (connect(f->fd, (struct sockaddr *)&t->dst, t->dst_len) < 0 &&
	    errno != EINPROGRESS) {
		tr_flow_end(f, TR_FAILED, errno, tool_now_ns());
		return 0;
	}
	if (f->udp)
		tr_flow_lport(f);
	return tr_watch(t, f, f->udp ? EPOLLIN : EPOLLOUT, EPOLL_CTL_ADD);
}

static void tr_connected(struct tr *t, struct tr_flow *f)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		tr_flow_end(f, TR_FAILED, err, tool_now_ns());
		return;
	}
	f->state = TR_OPEN;
	tr_flow_lport(f);
	if (tr_watch(t, f, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD))
		tr_flow_end(f, TR_FAILED, errno, tool_now_ns());
}

/* A wait of f from start to end (0: still open) into the --gaps file. */
static void tr_gap_log(const struct tr *t, const struct tr_flow *f,
		       uint64_t start, uint64_t end)
{
	if (!t->gaps || (end && end - start < t->o.gap_min_ms * MS))
		return;
	fprintf(t->gaps, "%u,%s,%d,%u,%.1f,", f->id, f->udp ? "udp" : "tcp",
		t->dst.ss_family == AF_INET6 ? 6 : 4, f->lport,
		(double)((int64_t)start + t->real_off) / MS);
	if (end)
		fprintf(t->gaps, "%.1f\n",
			(double)((int64_t)end + t->real_off) / MS);
	else
		fputs("-1\n", t->gaps);
}

/* An answer for f: account it, note its host, time its gap. */
static void tr_answer(const struct tr *t, struct tr_flow *f, const char *line,
		      size_t len, uint64_t now)
{
	char host[TOOL_HOST_MAX];
	uint32_t id, seq;

	if (tool_answer_parse(line, len, host, &id, &seq) || id != f->id ||
	    seq > f->seq) {
		f->bad++;
		return;
	}
	f->echoed++;
	f->last_echo = now;
	if (!f->first_host[0]) {
		memcpy(f->first_host, host, sizeof(host));
	} else if (strcmp(f->last_host, host)) {
		f->host_changes++;
	}
	memcpy(f->last_host, host, sizeof(host));
	/* A late UDP answer to an older request does not end the wait. */
	if (seq != f->seq || !f->unanswered_since)
		return;
	tr_gap_log(t, f, f->unanswered_since, now);
	if (now - f->unanswered_since > f->gap_max) {
		f->gap_max = now - f->unanswered_since;
		f->gap_max_at = f->unanswered_since;
	}
	f->unanswered_since = 0;
	if (!f->udp) {
		f->awaiting = false;
		if (f->next_send < now)
			f->next_send = now;
	}
}

/* Answers split into lines; a line longer than the buffer is bad input. */
static void tr_tcp_read(const struct tr *t, struct tr_flow *f, uint64_t now)
{
	char *nl;
	ssize_t n;
	size_t len;

	for (;;) {
		n = recv(f->fd, f->rx + f->rx_len, sizeof(f->rx) - f->rx_len,
			 0);
		if (n == 0) {
			tr_flow_end(f, TR_BROKEN, -1, now);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				tr_flow_end(f, TR_BROKEN, errno, now);
			return;
		}
		f->bytes_rx += (uint64_t)n;
		f->rx_len += (size_t)n;
		while ((nl = memchr(f->rx, '\n', f->rx_len))) {
			len = (size_t)(nl - f->rx);
			tr_answer(t, f, f->rx, len, now);
			memmove(f->rx, nl + 1, f->rx_len - len - 1);
			f->rx_len -= len + 1;
		}
		if (f->rx_len == sizeof(f->rx)) {
			f->bad++;
			f->rx_len = 0;
		}
	}
}

static void tr_udp_read(const struct tr *t, struct tr_flow *f, uint64_t now)
{
	char buf[TOOL_HOST_MAX + TOOL_LINE_MAX];
	ssize_t n;
	size_t len;
	int i;

	for (i = 0; i < 64; i++) {
		n = recv(f->fd, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0) {
			/* ICMP errors of a connected UDP socket: counted. */
			if (errno != EAGAIN && errno != EINTR)
				f->bad++;
			return;
		}
		f->bytes_rx += (uint64_t)n;
		len = (size_t)n;
		if (len > sizeof(buf) || !len) {
			f->bad++;
			continue;
		}
		if (buf[len - 1] == '\n')
			len--;
		tr_answer(t, f, buf, len, now);
	}
}

/* Write what is left of the TCP request; EPOLLOUT until it is gone. */
static void tr_tcp_flush(struct tr *t, struct tr_flow *f, uint64_t now)
{
	ssize_t n;

	while (f->tx_off < f->tx_len) {
		n = send(f->fd, f->tx + f->tx_off, f->tx_len - f->tx_off,
			 MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			tr_flow_end(f, TR_BROKEN, errno, now);
			return;
		}
		f->tx_off += (size_t)n;
		f->bytes_tx += (uint64_t)n;
	}
	if (tr_watch(t, f,
		     EPOLLIN | EPOLLRDHUP |
			     (f->tx_off < f->tx_len ? EPOLLOUT : 0),
		     EPOLL_CTL_MOD))
		tr_flow_end(f, TR_BROKEN, errno, now);
}

static void tr_send(struct tr *t, struct tr_flow *f, uint64_t now)
{
	uint64_t ivl = t->o.interval_ms * MS;
	ssize_t n;

	f->seq++;
	f->tx_len = (size_t)snprintf(f->tx, sizeof(f->tx), "%u %u\n", f->id,
				     f->seq);
	f->tx_off = 0;
	f->sent++;
	if (!f->unanswered_since)
		f->unanswered_since = now;
	f->next_send += ivl;
	if (f->next_send <= now)
		f->next_send = now + ivl; /* no burst to catch up */
	if (!f->udp) {
		f->awaiting = true;
		tr_tcp_flush(t, f, now);
		return;
	}
	n = send(f->fd, f->tx, f->tx_len, 0);
	if (n > 0)
		f->bytes_tx += (uint64_t)n;
	else
		f->bad++;
}

static void tr_event(struct tr *t, const struct epoll_event *ev, uint64_t now)
{
	struct tr_flow *f;

	if (ev->data.u64 == TR_SIGNAL_TOKEN) {
		t->stop = true;
		return;
	}
	f = &t->flows[ev->data.u64];
	if (f->fd < 0)
		return;
	if (f->state == TR_CONNECTING) {
		tr_connected(t, f);
		return;
	}
	if (f->udp) {
		tr_udp_read(t, f, now);
		return;
	}
	if (ev->events & EPOLLERR) {
		socklen_t len = sizeof(int);
		int err = 0;

		getsockopt(f->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		tr_flow_end(f, TR_BROKEN, err ? err : EIO, now);
		return;
	}
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP))
		tr_tcp_read(t, f, now);
	if (f->fd >= 0 && (ev->events & EPOLLOUT))
		tr_tcp_flush(t, f, now);
}

/* Wait for events until the deadline or the earliest wake, ms >= 0. */
static void tr_poll(struct tr *t, uint64_t wake)
{
	struct epoll_event evs[256];
	uint64_t now = tool_now_ns();
	int n, i, timeout = 0;

	if (wake > now)
		timeout = (int)((wake - now + MS - 1) / MS);
	n = epoll_wait(t->ep, evs, 256, timeout);
	now = tool_now_ns();
	for (i = 0; i < n; i++)
		tr_event(t, &evs[i], now);
}

static uint32_t tr_count(const struct tr *t, bool udp, uint8_t state)
{
	uint32_t i, n = 0;

	for (i = 0; i < t->n_flows; i++)
		n += t->flows[i].udp == udp && t->flows[i].state == state;
	return n;
}

/* Connect phase: every TCP connection, until all are settled or timeout. */
static int tr_connect_all(struct tr *t)
{
	uint64_t deadline;
	uint32_t i;
	int rc;

	for (i = 0; i < t->n_flows; i++) {
		rc = tr_flow_open(t, &t->flows[i]);
		if (rc) {
			log_err("traffic", "socket: %s", strerror(-rc));
			return rc;
		}
	}
	deadline = tool_now_ns() + t->o.connect_s * 1000 * MS;
	while (!t->stop && tr_count(t, false, TR_CONNECTING) &&
	       tool_now_ns() < deadline)
		tr_poll(t, deadline);
	for (i = 0; i < t->n_flows; i++)
		if (t->flows[i].state == TR_CONNECTING)
			tr_flow_end(&t->flows[i], TR_FAILED, ETIMEDOUT,
				    tool_now_ns());
	return 0;
}

/* Traffic phase: requests on schedule, answers as they come. */
static void tr_run(struct tr *t)
{
	uint64_t now, wake, ivl = t->o.interval_ms * MS;
	struct tr_flow *f;
	uint32_t i;

	t->t_start = tool_now_ns();
	t->t_end = t->t_start + t->o.duration_s * 1000 * MS;
	/* Spread the first requests over one interval. */
	for (i = 0; i < t->n_flows; i++)
		t->flows[i].next_send = t->t_start + ivl * i / t->n_flows;
	for (;;) {
		now = tool_now_ns();
		if (t->stop || now >= t->t_end)
			break;
		wake = t->t_end;
		for (i = 0; i < t->n_flows; i++) {
			f = &t->flows[i];
			if (f->state != TR_OPEN || f->awaiting)
				continue;
			if (f->next_send <= now)
				tr_send(t, f, now);
			if (f->fd >= 0 && !f->awaiting && f->next_send < wake)
				wake = f->next_send;
		}
		tr_poll(t, wake);
	}
	t->t_end = tool_now_ns();
}

/* Drain phase, then each open flow's outcome at the end. */
static void tr_finish(struct tr *t)
{
	uint64_t stall = t->o.stall_ms * MS, deadline, now;
	struct tr_flow *f;
	bool waiting = true;
	uint32_t i;

	deadline = t->t_end + stall;
	while (!t->stop && waiting && tool_now_ns() < deadline) {
		waiting = false;
		for (i = 0; i < t->n_flows && !waiting; i++)
			waiting = t->flows[i].state == TR_OPEN &&
				  t->flows[i].unanswered_since;
		if (waiting)
			tr_poll(t, deadline);
	}
	now = tool_now_ns();
	for (i = 0; i < t->n_flows; i++) {
		f = &t->flows[i];
		if (f->state != TR_OPEN)
			continue;
		if (f->unanswered_since &&
		    now - f->unanswered_since > f->gap_max) {
			f->gap_max = now - f->unanswered_since;
			f->gap_max_at = f->unanswered_since;
		}
		if (f->unanswered_since)
			tr_gap_log(t, f, f->unanswered_since, 0);
		if (f->udp)
			f->state = f->last_echo + stall >= t->t_end
					   ? TR_SURVIVED
					   : TR_STALLED;
		else
			f->state = f->unanswered_since &&
						   now - f->unanswered_since >=
							   stall
					   ? TR_STALLED
					   : TR_SURVIVED;
		close(f->fd);
		f->fd = -1;
	}
}

struct tr_sum {
	uint32_t n, established, survived, broken, stalled, moved;
	uint64_t gap_max, bytes_tx, bytes_rx;
};

static void tr_sum(const struct tr *t, bool udp, struct tr_sum *s)
{
	const struct tr_flow *f;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < t->n_flows; i++) {
		f = &t->flows[i];
		if (f->udp != udp)
			continue;
		s->n++;
		s->established += f->state != TR_FAILED;
		s->survived += f->state == TR_SURVIVED;
		s->broken += f->state == TR_BROKEN;
		s->stalled += f->state == TR_STALLED;
		s->moved += f->host_changes > 0;
		/* A broken flow's last wait was cut short by the break. */
		if (f->state != TR_BROKEN && f->gap_max > s->gap_max)
			s->gap_max = f->gap_max;
		s->bytes_tx += f->bytes_tx;
		s->bytes_rx += f->bytes_rx;
	}
}

static void tr_print_hosts(const struct tr *t)
{
	static char names[TR_MAX_HOSTS][TOOL_HOST_MAX];
	uint32_t conns[TR_MAX_HOSTS] = {0}, broken[TR_MAX_HOSTS] = {0};
	const struct tr_flow *f;
	uint32_t i, h, n = 0;

	for (i = 0; i < t->n_flows; i++) {
		f = &t->flows[i];
		if (f->udp || !f->first_host[0])
			continue;
		for (h = 0; h < n && strcmp(names[h], f->first_host); h++)
			;
		if (h == n) {
			if (n == TR_MAX_HOSTS)
				continue;
			memcpy(names[n++], f->first_host, TOOL_HOST_MAX);
		}
		conns[h]++;
		broken[h] += f->state == TR_BROKEN;
	}
	for (h = 0; h < n; h++)
		printf("host %s connections %u broken %u\n", names[h], conns[h],
		       broken[h]);
}

static void tr_report(const struct tr *t)
{
	struct tr_sum s;

	tr_sum(t, false, &s);
	if (s.n)
		printf("connections %u established %u survived %u broken %u "
		       "stalled %u moved %u longest_gap_ms %llu bytes_tx %llu "
		       "bytes_rx %llu\n",
		       s.n, s.established, s.survived, s.broken, s.stalled,
		       s.moved, (unsigned long long)(s.gap_max / MS),
		       (unsigned long long)s.bytes_tx,
		       (unsigned long long)s.bytes_rx);
	tr_sum(t, true, &s);
	if (s.n)
		printf("udp_flows %u survived %u stalled %u moved %u "
		       "longest_gap_ms %llu bytes_tx %llu bytes_rx %llu\n",
		       s.n, s.survived, s.stalled, s.moved,
		       (unsigned long long)(s.gap_max / MS),
		       (unsigned long long)s.bytes_tx,
		       (unsigned long long)s.bytes_rx);
	tr_print_hosts(t);
	fflush(stdout);
}

static const char *tr_err_str(int err)
{
	if (!err)
		return "";
	if (err < 0)
		return "end of stream";
	return strerror(err);
}

static int tr_csv_write(const struct tr *t, const char *path)
{
	const struct tr_flow *f;
	uint32_t i;
	FILE *out;
	int rc;

	out = fopen(path, "w");
	if (!out)
		return -errno;
	fprintf(out, "id,proto,family,local_port,state,error,first_host,"
		     "last_host,host_changes,sent,echoed,bad,bytes_tx,bytes_rx,"
		     "longest_gap_ms,longest_gap_at_ms,broken_at_ms\n");
	for (i = 0; i < t->n_flows; i++) {
		f = &t->flows[i];
		fprintf(out,
			"%u,%s,%d,%u,%s,%s,%s,%s,%u,%u,%u,%u,%llu,%llu,%.1f,%.1f,",
			f->id, f->udp ? "udp" : "tcp",
			t->dst.ss_family == AF_INET6 ? 6 : 4, f->lport,
			tr_state_names[f->state], tr_err_str(f->err),
			f->first_host, f->last_host, f->host_changes, f->sent,
			f->echoed, f->bad, (unsigned long long)f->bytes_tx,
			(unsigned long long)f->bytes_rx,
			(double)f->gap_max / MS,
			f->gap_max_at >= t->t_start
				? (double)(f->gap_max_at - t->t_start) / MS
				: 0.0);
		if (f->state == TR_BROKEN && f->broken_at >= t->t_start)
			fprintf(out, "%.1f\n",
				(double)(f->broken_at - t->t_start) / MS);
		else
			fputc('\n', out);
	}
	rc = ferror(out) ? -EIO : 0;
	if (fclose(out) && !rc)
		rc = -errno;
	return rc;
}

static int tr_ready_write(const struct tr *t, const char *path)
{
	uint32_t est = tr_count(t, false, TR_OPEN);
	char tmp[4096];
	FILE *out;

	/* Written aside and renamed, so a watcher never sees half of it. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	out = fopen(tmp, "w");
	if (!out)
		return -errno;
	fprintf(out, "established %u\n", est);
	if (fclose(out) || rename(tmp, path))
		return -errno;
	return 0;
}

static int tr_opt_u32(const char *name, const char *arg, uint32_t min,
		      uint32_t max, uint32_t *out)
{
	if (!tool_parse_u32(arg, min, max, out))
		return 0;
	log_err("traffic", "'--%s' expects %u..%u, got '%s'", name, min, max,
		arg);
	return -EINVAL;
}

static int tr_opts_parse(int argc, char **argv, struct tr_opts *o)
{
	static const struct option lopts[] = {
		{"target", required_argument, NULL, 't'},
		{"port", required_argument, NULL, 'p'},
		{"conns", required_argument, NULL, 'k'},
		{"udp", required_argument, NULL, 'u'},
		{"interval", required_argument, NULL, 'i'},
		{"duration", required_argument, NULL, 'd'},
		{"connect-timeout", required_argument, NULL, 'c'},
		{"stall", required_argument, NULL, 's'},
		{"csv", required_argument, NULL, 'o'},
		{"ready", required_argument, NULL, 'r'},
		{"quiet", no_argument, NULL, 'q'},
		{"gaps", required_argument, NULL, 'g'},
		{"gap-min", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	int c, idx, rc = 0;

	*o = (struct tr_opts){.conns = 200,
			      .interval_ms = 100,
			      .duration_s = 10,
			      .connect_s = 5,
			      .stall_ms = 1000,
			      .gap_min_ms = 100};
	while (!rc && (c = getopt_long(argc, argv, "t:p:k:u:i:d:c:s:o:r:qg:m:h",
				       lopts, &idx)) != -1) {
		switch (c) {
		case 't':
			o->target = optarg;
			break;
		case 'p':
			rc = tr_opt_u32("port", optarg, 1, 65535, &o->port);
			break;
		case 'k':
			rc = tr_opt_u32("conns", optarg, 0, TR_MAX_FLOWS,
					&o->conns);
			break;
		case 'u':
			rc = tr_opt_u32("udp", optarg, 0, TR_MAX_FLOWS,
					&o->udp);
			break;
		case 'i':
			rc = tr_opt_u32("interval", optarg, 1, 60000,
					&o->interval_ms);
			break;
		case 'd':
			rc = tr_opt_u32("duration", optarg, 1, 3600,
					&o->duration_s);
			break;
		case 'c':
			rc = tr_opt_u32("connect-timeout", optarg, 1, 60,
					&o->connect_s);
			break;
		case 's':
			rc = tr_opt_u32("stall", optarg, 1, 60000,
					&o->stall_ms);
			break;
		case 'o':
			o->csv = optarg;
			break;
		case 'r':
			o->ready = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'g':
			o->gaps = optarg;
			break;
		case 'm':
			rc = tr_opt_u32("gap-min", optarg, 1, 60000,
					&o->gap_min_ms);
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
	if (optind != argc || !o->target || !o->port) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->conns && !o->udp) {
		log_err("traffic",
			"nothing to do: '--conns' and '--udp' are 0");
		return -EINVAL;
	}
	if (o->conns + o->udp > TR_MAX_FLOWS) {
		log_err("traffic", "at most %d flows in all", TR_MAX_FLOWS);
		return -EINVAL;
	}
	return 0;
}

static int tr_signals(struct tr *t)
{
	struct epoll_event ev = {.events = EPOLLIN,
				 .data.u64 = TR_SIGNAL_TOKEN};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	t->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (t->sig_fd < 0 || epoll_ctl(t->ep, EPOLL_CTL_ADD, t->sig_fd, &ev))
		return -errno;
	return 0;
}

static int tr_init(struct tr *t)
{
	uint32_t i;
	int rc;

	if (tool_addr_parse(t->o.target, (uint16_t)t->o.port, &t->dst,
			    &t->dst_len)) {
		log_err("traffic", "'--target' expects an IP address, got '%s'",
			t->o.target);
		return -EINVAL;
	}
	t->n_flows = t->o.conns + t->o.udp;
	rc = tool_nofile_raise(t->n_flows + 32);
	if (rc) {
		log_err("traffic", "cannot open %u files: %s", t->n_flows + 32,
			strerror(-rc));
		return rc;
	}
	t->flows = calloc(t->n_flows, sizeof(*t->flows));
	if (!t->flows)
		return -ENOMEM;
	for (i = 0; i < t->n_flows; i++) {
		t->flows[i].fd = -1;
		t->flows[i].id = i;
		t->flows[i].udp = i >= t->o.conns;
	}
	t->ep = epoll_create1(EPOLL_CLOEXEC);
	if (t->ep < 0)
		return -errno;
	if (t->o.gaps) {
		struct timespec rt;

		clock_gettime(CLOCK_REALTIME, &rt);
		t->real_off = (int64_t)((uint64_t)rt.tv_sec * 1000 * MS +
					(uint64_t)rt.tv_nsec) -
			      (int64_t)tool_now_ns();
		t->gaps = fopen(t->o.gaps, "w");
		if (!t->gaps) {
			rc = -errno;
			log_err("traffic", "%s: %s", t->o.gaps, strerror(-rc));
			return rc;
		}
		fputs("id,proto,family,local_port,start_ms,end_ms\n", t->gaps);
	}
	return tr_signals(t);
}

int main(int argc, char **argv)
{
	struct tr t = {.ep = -1, .sig_fd = -1};
	char buf[80];
	int rc;

	if (tr_opts_parse(argc, argv, &t.o))
		return 1;
	rc = tr_init(&t);
	if (!rc)
		rc = tr_connect_all(&t);
	if (rc) {
		log_err("traffic", "cannot run: %s", strerror(-rc));
		return 1;
	}
	if (!t.o.quiet)
		fprintf(stderr,
			"steer-traffic: %s tcp %u (established %u) udp %u, "
			"every %u ms for %u s\n",
			tool_addr_str(&t.dst, buf, sizeof(buf)), t.o.conns,
			tr_count(&t, false, TR_OPEN), t.o.udp, t.o.interval_ms,
			t.o.duration_s);
	if (t.o.ready && (rc = tr_ready_write(&t, t.o.ready)))
		log_warn("traffic", "%s: %s", t.o.ready, strerror(-rc));
	tr_run(&t);
	tr_finish(&t);
	tr_report(&t);
	if (t.gaps && (ferror(t.gaps) | fclose(t.gaps))) {
		log_err("traffic", "%s: cannot write", t.o.gaps);
		return 1;
	}
	if (t.o.csv && (rc = tr_csv_write(&t, t.o.csv))) {
		log_err("traffic", "%s: %s", t.o.csv, strerror(-rc));
		return 1;
	}
	free(t.flows);
	return 0;
}
