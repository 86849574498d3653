// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-workload: a replayed real workload against the lab's service.
 *
 *   steer-workload --target ADDR --port P --shape FILE --sizes FILE
 *                  [--rate R] [--step-ms MS] [--scale D] [--max-bytes B]
 *                  [--max-conns N] [--duration S] [--seed X] [--csv FILE]
 *
 * New TCP connections arrive as a Poisson process whose rate follows a
 * real load series: in step i (each --step-ms long) the rate is R times
 * shape[i] over the series' mean (a link-load file of
 * data/workloads/link_load, one value per line; it repeats when the run
 * is longer). Each connection carries a flow size drawn from a published
 * flow-size distribution (an hpcc-format CDF of
 * data/workloads/flow_size_cdfs: "bytes cdf_percent" per line, linear in
 * between), divided by D and capped at B so a lab of namespaces on a
 * small machine can carry it. The bytes go as request lines of the lab's
 * echo protocol (tools/tool_net.h); the connection closes when every
 * line is answered, or after 10 s.
 *
 * At most N connections are open at once; an arrival beyond is counted
 * as dropped. Bounded in time (--duration, default 60 s) and count.
 * Prints a summary; --csv writes per step: connections started, bytes
 * requested. Exit 0; 1 when it cannot start; 2 for bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "forecast/eval.h"
#include "tools/tool_net.h"
#include "util/size_cdf.h"

#define WL_CONN_TIMEOUT_NS 10000000000ull
#define WL_LINE_BYTES 12 /* "ID SEQ\n" with ids and sequences of 5 digits */

struct wl_conn {
	int fd;
	uint32_t id;
	uint32_t lines, answered;
	uint64_t off; /* bytes of the lines sent */
	uint64_t start_ns;
};

struct wl {
	struct sockaddr_storage to;
	socklen_t to_len;
	double *shape, shape_mean;
	size_t n_shape;
	struct size_cdf cdf;
	double rate, scale;
	uint32_t step_ms, max_bytes, max_conns, duration_s;
	uint64_t rng;
	struct wl_conn *conns;
	uint32_t open;
	int ep;
	/* tallies */
	uint64_t started, done, failed, dropped, timed_out, bytes;
	uint64_t *step_started, *step_bytes;
	size_t n_steps;
};

static double wl_uniform(struct wl *w)
{
	return rng_uniform(&w->rng);
}

/* A flow size from the CDF, scaled, capped. */
static uint32_t wl_size(struct wl *w)
{
	double s = size_cdf_draw(&w->cdf, wl_uniform(w)) / w->scale;

	if (s < WL_LINE_BYTES)
		s = WL_LINE_BYTES;
	return s > w->max_bytes ? w->max_bytes : (uint32_t)s;
}

static int wl_shape_read(struct wl *w, const char *path)
{
	size_t bad, i;
	double sum = 0;

	if (eval_series_read(path, &w->shape, &w->n_shape, &bad))
		return -EINVAL;
	for (i = 0; i < w->n_shape; i++)
		sum += w->shape[i];
	w->shape_mean = w->n_shape ? sum / (double)w->n_shape : 0;
	return w->shape_mean > 0 ? 0 : -EINVAL;
}

/* Connections per second in step i. */
static double wl_rate(const struct wl *w, size_t step)
{
	return w->rate * w->shape[step % w->n_shape] / w->shape_mean;
}

static void wl_close(struct wl *w, struct wl_conn *c, uint64_t *tally)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	w->open--;
	(*tally)++;
}

static void wl_start(struct wl *w, size_t step, uint64_t now)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT};
	struct wl_conn *c = NULL;
	uint32_t i, size;

	for (i = 0; i < w->max_conns && !c; i++)
		if (w->conns[i].fd < 0)
			c = &w->conns[i];
	if (!c) {
		w->dropped++;
		return;
	}
	c->fd = socket(w->to.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0 ||
	    (connect(c->fd, (struct sockaddr *)&w->to, w->to_len) &&
	     errno != EINPROGRESS)) {
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		w->failed++;
		return;
	}
	size = wl_size(w);
	c->id = (uint32_t)(w->started % 100000);
	c->lines = (size + WL_LINE_BYTES - 1) / WL_LINE_BYTES;
	c->off = 0;
	c->answered = 0;
	c->start_ns = now;
	ev.data.ptr = c;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev);
	w->open++;
	w->started++;
	w->bytes += size;
	if (step < w->n_steps) {
		w->step_started[step]++;
		w->step_bytes[step] += size;
	}
}

/* Write what the socket takes of the connection's lines: line j is the
 * 12 bytes from 12 j on, so a partial send resumes mid-line. */
static int wl_write(struct wl_conn *c)
{
	char buf[4096 + WL_LINE_BYTES];
	uint64_t total = (uint64_t)c->lines * WL_LINE_BYTES;
	uint32_t j;
	size_t n, skip;
	ssize_t k;

	while (c->off < total) {
		j = (uint32_t)(c->off / WL_LINE_BYTES);
		skip = c->off % WL_LINE_BYTES;
		for (n = 0; j < c->lines && n + WL_LINE_BYTES <= 4096; j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "%05u %05u\n", c->id, j % 100000);
		k = send(c->fd, buf + skip, n - skip, MSG_NOSIGNAL);
		if (k < 0)
			return errno == EAGAIN ? 0 : -1;
		c->off += (uint64_t)k;
		if ((size_t)k < n - skip)
			return 0;
	}
	return 0;
}

/* Count the answers (lines) read. */
static int wl_read(struct wl_conn *c)
{
	char buf[8192];
	ssize_t k, i;

	for (;;) {
		k = recv(c->fd, buf, sizeof(buf), 0);
		if (k == 0)
			return -1;
		if (k < 0)
			return errno == EAGAIN ? 0 : -1;
		for (i = 0; i < k; i++)
			c->answered += buf[i] == '\n';
	}
}

static void wl_event(struct wl *w, struct wl_conn *c, uint32_t events)
{
	if ((events & (EPOLLERR | EPOLLHUP)) ||
	    ((events & EPOLLOUT) && wl_write(c)) ||
	    ((events & EPOLLIN) && wl_read(c)))
		return wl_close(w, c, &w->failed);
	if (c->answered >= c->lines)
		wl_close(w, c, &w->done);
}

static void wl_timeouts(struct wl *w, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < w->max_conns; i++)
		if (w->conns[i].fd >= 0 &&
		    now - w->conns[i].start_ns > WL_CONN_TIMEOUT_NS)
			wl_close(w, &w->conns[i], &w->timed_out);
}

static void wl_run(struct wl *w)
{
	uint64_t t0 = tool_now_ns(), now = t0, next = t0,
		 end = t0 + (uint64_t)w->duration_s * 1000000000ull;
	struct epoll_event evs[64];
	int n, i;

	while (now < end) {
		size_t step = (size_t)((now - t0) / 1000000 / w->step_ms);

		while (next <= now) {
			double r = wl_rate(w, step);

			wl_start(w, step, now);
			/* Exponential gaps at this step's rate. */
			next += (uint64_t)(-log(wl_uniform(w)) /
					   (r > 0.01 ? r : 0.01) * 1e9);
		}
		n = epoll_wait(w->ep, evs, 64, 5);
		for (i = 0; i < n; i++)
			wl_event(w, evs[i].data.ptr, evs[i].events);
		now = tool_now_ns();
		wl_timeouts(w, now);
	}
}

static void wl_csv(const struct wl *w, const char *path)
{
	FILE *f = fopen(path, "we");
	size_t i;

	if (!f)
		return;
	fprintf(f, "step,started,bytes\n");
	for (i = 0; i < w->n_steps; i++)
		fprintf(f, "%zu,%llu,%llu\n", i,
			(unsigned long long)w->step_started[i],
			(unsigned long long)w->step_bytes[i]);
	fclose(f);
}

static int wl_usage(void)
{
	fprintf(stderr,
		"usage: steer-workload --target ADDR --port P --shape FILE "
		"--sizes FILE\n"
		"                      [--rate R] [--step-ms MS] [--scale D] "
		"[--max-bytes B]\n"
		"                      [--max-conns N] [--duration S] [--seed X] "
		"[--csv FILE]\n"
		"defaults: --rate 20 --step-ms 1000 --scale 100 --max-bytes "
		"262144 --max-conns 256 --duration 60\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"target", 1, 0, 't'},
					     {"port", 1, 0, 'p'},
					     {"shape", 1, 0, 'S'},
					     {"sizes", 1, 0, 'z'},
					     {"rate", 1, 0, 'r'},
					     {"step-ms", 1, 0, 'm'},
					     {"scale", 1, 0, 'd'},
					     {"max-bytes", 1, 0, 'b'},
					     {"max-conns", 1, 0, 'n'},
					     {"duration", 1, 0, 'D'},
					     {"seed", 1, 0, 's'},
					     {"csv", 1, 0, 'c'},
					     {0, 0, 0, 0}};
	static struct wl w = {.rate = 20,
			      .scale = 100,
			      .step_ms = 1000,
			      .max_bytes = 262144,
			      .max_conns = 256,
			      .duration_s = 60,
			      .rng = 1};
	const char *target = NULL, *shape = NULL, *sizes = NULL, *csv = NULL;
	uint32_t port = 0, i;
	size_t line;
	int o, ret;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		uint32_t v = 0;

		switch (o) {
		case 't':
			target = optarg;
			break;
		case 'S':
			shape = optarg;
			break;
		case 'z':
			sizes = optarg;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'r':
		case 'd':
			if (tool_parse_u32(optarg, 1, 1000000, &v))
				return wl_usage();
			*(o == 'r' ? &w.rate : &w.scale) = v;
			break;
		case 'p':
			if (tool_parse_u32(optarg, 1, 65535, &port))
				return wl_usage();
			break;
		case 'm':
			if (tool_parse_u32(optarg, 10, 3600000, &w.step_ms))
				return wl_usage();
			break;
		case 'b':
			if (tool_parse_u32(optarg, WL_LINE_BYTES, 1u << 30,
					   &w.max_bytes))
				return wl_usage();
			break;
		case 'n':
			if (tool_parse_u32(optarg, 1, 65536, &w.max_conns))
				return wl_usage();
			break;
		case 'D':
			if (tool_parse_u32(optarg, 1, 86400, &w.duration_s))
				return wl_usage();
			break;
		case 's':
			if (tool_parse_u32(optarg, 0, UINT32_MAX, &v))
				return wl_usage();
			w.rng = v;
			break;
		default:
			return wl_usage();
		}
	}
	if (!target || !port || !shape || !sizes ||
	    tool_addr_parse(target, (uint16_t)port, &w.to, &w.to_len))
		return wl_usage();
	if (wl_shape_read(&w, shape)) {
		fprintf(stderr, "steer-workload: %s: not a load series\n",
			shape);
		return 1;
	}
	if ((ret = size_cdf_read(sizes, &w.cdf, &line))) {
		fprintf(stderr, "steer-workload: %s%s%.0zu: %s\n", sizes,
			line ? ", line " : "", line,
			ret == -EINVAL ? "not a size CDF (bytes percent, "
					 "percents rising to 100)"
				       : strerror(-ret));
		return 1;
	}
	w.n_steps = (size_t)w.duration_s * 1000 / w.step_ms + 1;
	w.conns = calloc(w.max_conns, sizeof(*w.conns));
	w.step_started = calloc(w.n_steps, sizeof(uint64_t));
	w.step_bytes = calloc(w.n_steps, sizeof(uint64_t));
	w.ep = epoll_create1(EPOLL_CLOEXEC);
	if (!w.conns || !w.step_started || !w.step_bytes || w.ep < 0 ||
	    tool_nofile_raise(w.max_conns + 64)) {
		fprintf(stderr, "steer-workload: cannot start: %s\n",
			strerror(errno));
		return 1;
	}
	for (i = 0; i < w.max_conns; i++)
		w.conns[i].fd = -1;
	wl_run(&w);
	for (i = 0; i < w.max_conns; i++)
		if (w.conns[i].fd >= 0)
			wl_close(&w, &w.conns[i], &w.timed_out);
	printf("steer-workload: started %llu done %llu failed %llu "
	       "timed_out %llu dropped %llu bytes %llu\n",
	       (unsigned long long)w.started, (unsigned long long)w.done,
	       (unsigned long long)w.failed, (unsigned long long)w.timed_out,
	       (unsigned long long)w.dropped, (unsigned long long)w.bytes);
	if (csv)
		wl_csv(&w, csv);
	free(w.conns);
	free(w.step_started);
	free(w.step_bytes);
	free(w.shape);
	size_cdf_free(&w.cdf);
	close(w.ep);
	return 0;
}
