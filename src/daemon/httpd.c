// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/httpd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "daemon/admin.h"
#include "daemon/host.h"
#include "daemon/jsonw.h"
#include "daemon/metrics.h"
#include "daemon/steerd.h"
#include "util/evloop.h"
#include "util/log.h"

#define MOD "httpd"
#define HTTPD_TICK_MS 1000
#define HTTPD_RUN_MAX 8 /* MHD_run() rounds while it has work at once */

struct httpd {
	struct evloop *el;
	struct steerd *d;
	struct MHD_Daemon *mhd;
	int epfd;
	int64_t timer;
	struct httpd_stats st;
};

/* What /api/ answers: the admin commands that change nothing. */
static const char *const httpd_api_cmds[] = {
	"version",    "nodes", "counters", "shards", "forecast",
	"migrations", "cache", "latency",  "tables", NULL,
};

static void httpd_run(struct httpd *h)
{
	MHD_UNSIGNED_LONG_LONG t;
	int i;

	for (i = 0; i < HTTPD_RUN_MAX; i++) {
		MHD_run(h->mhd);
		if (MHD_get_timeout(h->mhd, &t) != MHD_YES || t > 0)
			break;
	}
}

static void httpd_on_fd(struct evloop *el, int fd, uint32_t events, void *arg)
{
	httpd_run(arg);
}

static void httpd_on_tick(struct evloop *el, int64_t id, void *arg)
{
	httpd_run(arg);
}

static enum MHD_Result httpd_send(struct MHD_Connection *conn,
				  unsigned int status, const char *type,
				  char *body, size_t len, bool must_free)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body,
		must_free ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!r) {
		if (must_free)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result httpd_text(struct MHD_Connection *conn,
				  unsigned int status, const char *msg)
{
	return httpd_send(conn, status, "text/plain; charset=utf-8",
			  (char *)msg, strlen(msg), false);
}

/* The admin answer to cmd, as malloc'd JSON; NULL when it failed. */
static char *httpd_admin(struct httpd *h, const char *cmd, size_t *len)
{
	struct jsonw w;
	char line[32];
	char *out = NULL;

	snprintf(line, sizeof(line), "%s", cmd);
	jsonw_init(&w);
	if (!admin_handle(h->d, line, &w)) {
		out = w.buf;
		*len = w.len;
		w.buf = NULL;
	}
	jsonw_free(&w);
	return out;
}

static bool httpd_api_allowed(const char *cmd)
{
	const char *const *p;

	for (p = httpd_api_cmds; *p; p++)
		if (!strcmp(*p, cmd))
			return true;
	return false;
}

static enum MHD_Result httpd_api(struct httpd *h, struct MHD_Connection *conn,
				 const char *cmd)
{
	size_t len = 0;
	char *body;

	if (!httpd_api_allowed(cmd)) {
		h->st.not_found++;
		return httpd_text(conn, MHD_HTTP_NOT_FOUND,
				  "no such read-only command\n");
	}
	body = httpd_admin(h, cmd, &len);
	if (!body) {
		/* An error answer (cache in cell mode, say) is still JSON. */
		static const char none[] = "{\"ok\":false}";

		return httpd_send(conn, MHD_HTTP_OK, "application/json",
				  (char *)none, sizeof(none) - 1, false);
	}
	return httpd_send(conn, MHD_HTTP_OK, "application/json", body, len,
			  true);
}

/* steer_build_info, ahead of the rest. */
static char *httpd_metrics_head(struct httpd *h)
{
	const struct steerd_world *w = h->d->world;
	char *s = NULL;

	if (asprintf(&s,
		     "# HELP steer_build_info steerd's version, cluster, node "
		     "and mode\n# TYPE steer_build_info gauge\n"
		     "steer_build_info{version=\"%s\",cluster=\"%s\","
		     "node=\"%s\",mode=\"%s\"} 1\n",
		     STEERD_VERSION, w->cluster.name,
		     cluster_self(&w->cluster)->ep.name,
		     steerd_mode_name(w->conf.mode)) < 0)
		return NULL;
	return s;
}

static enum MHD_Result httpd_metrics(struct httpd *h,
				     struct MHD_Connection *conn)
{
	static const char *const cmds[] = {"counters", "latency", "forecast",
					   "cache"};
	struct metrics_doc docs[4];
	struct metrics_out out;
	char *json[4] = {NULL}, *head, err[160];
	unsigned int n = 0, i;
	size_t len;
	int ret;

	for (i = 0; i < 4; i++) {
		/* cache answers only in host mode: left out elsewhere */
		if (i == 3 && !h->d->host)
			continue;
		json[i] = httpd_admin(h, cmds[i], &len);
		if (json[i])
			docs[n++].json = json[i];
	}
	head = httpd_metrics_head(h);
	ret = head ? metrics_render(docs, n, head, &out, err, sizeof(err))
		   : -ENOMEM;
	for (i = 0; i < 4; i++)
		free(json[i]);
	free(head);
	if (ret) {
		h->st.errors++;
		log_warn(MOD, "/metrics: %s",
			 ret == -ENOMEM ? "out of memory" : err);
		return httpd_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "the metrics could not be made\n");
	}
	h->st.metrics_scrapes++;
	return httpd_send(conn, MHD_HTTP_OK,
			  "text/plain; version=0.0.4; charset=utf-8", out.text,
			  out.len, true);
}

static enum MHD_Result httpd_on_request(void *cls, struct MHD_Connection *conn,
					const char *url, const char *method,
					const char *version,
					const char *upload_data,
					size_t *upload_data_size, void **req)
{
	struct httpd *h = cls;

	h->st.requests++;
	if (strcmp(method, MHD_HTTP_METHOD_GET) &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD)) {
		h->st.bad_method++;
		return httpd_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	}
	if (!strcmp(url, "/metrics"))
		return httpd_metrics(h, conn);
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		return httpd_send(conn, MHD_HTTP_OK, "text/html; charset=utf-8",
				  (char *)httpd_status_html,
				  httpd_status_html_len, false);
	if (!strncmp(url, "/api/", 5))
		return httpd_api(h, conn, url + 5);
	h->st.not_found++;
	return httpd_text(conn, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void httpd_log(void *cls, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void httpd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = '\0';
	log_warn(MOD, "%s", msg);
}

struct httpd *httpd_new(struct evloop *el, struct steerd *d,
			const struct sockaddr_storage *addr, char *err,
			size_t errlen)
{
	const union MHD_DaemonInfo *info;
	unsigned int flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	struct httpd *h = calloc(1, sizeof(*h));
	int e;

	if (!h) {
		snprintf(err, errlen, "http: out of memory");
		return NULL;
	}
	h->el = el;
	h->d = d;
	h->epfd = -1;
	h->timer = -1;
	if (addr->ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h->mhd = MHD_start_daemon(
		flags, 0, NULL, NULL, httpd_on_request, h,
		MHD_OPTION_EXTERNAL_LOGGER, httpd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)addr,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONN_MAX,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_TIMEOUT_S,
		MHD_OPTION_END);
	if (!h->mhd) {
		e = errno ? errno : EADDRINUSE;
		snprintf(err, errlen, "http-listen: cannot listen: %s",
			 strerror(e));
		goto fail;
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	h->epfd = info ? info->epoll_fd : -1;
	e = h->epfd < 0
		    ? EINVAL
		    : -evloop_fd_add(el, h->epfd, EVLOOP_READ, httpd_on_fd, h);
	if (!e) {
		h->timer = evloop_timer_add(el, HTTPD_TICK_MS, HTTPD_TICK_MS,
					    httpd_on_tick, h);
		e = h->timer < 0 ? (int)-h->timer : 0;
	}
	if (e) {
		snprintf(err, errlen, "http: event loop: %s", strerror(e));
		goto fail;
	}
	return h;
fail:
	httpd_free(h);
	errno = e;
	return NULL;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	if (h->timer > 0)
		evloop_timer_del(h->el, h->timer);
	if (h->epfd >= 0)
		evloop_fd_del(h->el, h->epfd);
	if (h->mhd)
		MHD_stop_daemon(h->mhd);
	free(h);
}

const struct httpd_stats *httpd_stats(const struct httpd *h)
{
	return &h->st;
}

uint16_t httpd_port(const struct httpd *h)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}
