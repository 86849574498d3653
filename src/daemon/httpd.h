/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerd's HTTP server (http-listen in steerd's file; off by default):
 *
 *   GET /metrics    Prometheus text exposition (daemon/metrics.h)
 *   GET /           the status page, which reads /api/ every second
 *   GET /api/CMD    the admin socket's JSON answer to CMD, for the
 *                   read-only commands only (version, nodes, counters,
 *                   shards, forecast, migrations, cache, latency, tables)
 *
 * Anything else is 404, a method but GET or HEAD 405. There is no
 * authentication and nothing can be changed through it; keep it on
 * loopback or a management network.
 *
 * libmicrohttpd runs inside steerd's event loop (its epoll descriptor is
 * one of the loop's, and its timeouts a timer), so the answers are made
 * on the loop's thread like the admin socket's: no locks, and a slow
 * client costs a connection slot (HTTPD_CONN_MAX), not the loop.
 */
#ifndef STEER_HTTPD_H
#define STEER_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define HTTPD_CONN_MAX 32
#define HTTPD_TIMEOUT_S 10

struct evloop;
struct steerd;
struct httpd;

struct httpd_stats {
	uint64_t requests;
	uint64_t not_found;	  /* 404 */
	uint64_t bad_method;	  /* 405 */
	uint64_t errors;	  /* 500: an answer could not be made */
	uint64_t metrics_scrapes; /* /metrics answered */
};

/* Listen on addr; NULL with errno and the reason in err. */
struct httpd *httpd_new(struct evloop *el, struct steerd *d,
			const struct sockaddr_storage *addr, char *err,
			size_t errlen);
void httpd_free(struct httpd *h);
const struct httpd_stats *httpd_stats(const struct httpd *h);
/* The port it listens on (the one asked for, or the kernel's for 0). */
uint16_t httpd_port(const struct httpd *h);

/* The status page (generated from src/daemon/status.html at build). */
extern const char httpd_status_html[];
extern const size_t httpd_status_html_len;

#endif /* STEER_HTTPD_H */
