// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/admin.h"
#include "daemon/admin_cache.h"
#include "daemon/admin_latency.h"
#include "daemon/httpd.h"
#include "daemon/admin_cell.h"
#include "daemon/admin_host.h"
#include "daemon/steerd_gossip.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "core/tmpl_build.h"
#include "cell/cell.h"
#include "daemon/host.h"
#include "daemon/steerd.h"
#include "daemon/dataplane.h"
#include "daemon/migrations.h"
#include "daemon/node_fc.h"
#include "fastpath/fsc.h"
#include "util/evloop.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"

#define MOD "admin"
#define ADMIN_ERR_MAX 256
#define ADMIN_FORECAST_FLOWS 32 /* sessions steerctl forecast lists */

/* --- Commands ------------------------------------------------------- */

/*
 * A command: argv[0..argc) are the words after its name, their number
 * within the table's bounds. Returns 0 after writing the result's members
 * into w; -EINVAL for a usage error: a word that does not fit the usage
 * (a keyword, an integer's form or range, an address), checked before
 * anything about the daemon's state so a malformed request is a usage
 * error wherever it is sent; another -errno for a well-formed request
 * that cannot be done here or now (no cell runs, no such flow, a node
 * name the cluster does not declare). Either way the message is in err.
 */
typedef int (*admin_cmd_fn)(struct steerd *d, int argc, char **argv,
			    struct jsonw *w, char *err, size_t errlen);

struct admin_cmd {
	const char *name;
	admin_cmd_fn fn;
	int min_args, max_args; /* words after the command */
	const char *usage;
	const char *help;
};

static const struct admin_cmd admin_cmds[];

/* Write a usage error's message; returns -EINVAL for
 * `return admin_usage(...)`. */
static int admin_usage(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int admin_usage(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Write the message of a request that cannot be done; returns -EIO for
 * `return admin_err(...)`. */
static int admin_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int admin_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EIO;
}

static void admin_addr_str(const struct flow_addr *a, char *buf, size_t len)
{
	if (flow_addr_is_v4(a))
		inet_ntop(AF_INET, &a->w[3], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, a->b, buf, (socklen_t)len);
}

static void admin_mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
		 m[3], m[4], m[5]);
}

static bool admin_mac_zero(const uint8_t *m)
{
	return !(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]);
}

static const char *admin_proto_name(uint8_t p, char *buf, size_t len)
{
	switch (p) {
	case STEER_IPPROTO_TCP:
		return "tcp";
	case STEER_IPPROTO_UDP:
		return "udp";
	case STEER_IPPROTO_ICMP:
		return "icmp";
	case STEER_IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", p);
	return buf;
}

/* Decimal digits only, min..max. */
static int admin_parse_u32(const char *s, uint32_t min, uint32_t max,
			   uint32_t *out)
{
	unsigned long long v = 0;

	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -EINVAL;
	v = strtoull(s, NULL, 10);
	if (v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int admin_parse_addr(const char *s, struct flow_addr *a, int *family)
{
	__be32 v4;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, &v4) == 1) {
		flow_addr_set_v4(a, v4);
		*family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1 && !flow_addr_is_v4(a)) {
		*family = 6;
		return 0;
	}
	return -EINVAL;
}

int admin_parse_key(const char *cmd, char **argv, struct flow_key *k, char *err,
		    size_t errlen)
{
	uint32_t v;
	int fs, fd;

	memset(k, 0, sizeof(*k));
	if (!strcmp(argv[0], "tcp"))
		k->proto = STEER_IPPROTO_TCP;
	else if (!strcmp(argv[0], "udp"))
		k->proto = STEER_IPPROTO_UDP;
	else if (!admin_parse_u32(argv[0], 1, 255, &v))
		k->proto = (uint8_t)v;
	else
		goto bad_proto;
	if (admin_parse_addr(argv[1], &k->src, &fs))
		return admin_usage(err, errlen,
				   "%s: source expects an IPv4 or IPv6 address",
				   cmd);
	if (admin_parse_addr(argv[3], &k->dst, &fd))
		return admin_usage(err, errlen,
				   "%s: destination expects an IPv4 or IPv6 "
				   "address",
				   cmd);
	if (fs != fd)
		return admin_usage(err, errlen,
				   "%s: source and destination are of two "
				   "address families",
				   cmd);
	if (admin_parse_u32(argv[2], 0, 65535, &v))
		return admin_usage(err, errlen,
				   "%s: source port expects an integer in "
				   "0..65535",
				   cmd);
	k->sport = htons((uint16_t)v);
	if (admin_parse_u32(argv[4], 0, 65535, &v))
		return admin_usage(err, errlen,
				   "%s: destination port expects an integer in "
				   "0..65535",
				   cmd);
	k->dport = htons((uint16_t)v);
	return 0;
bad_proto:
	return admin_usage(
		err, errlen,
		"%s: protocol expects tcp, udp or a number in 1..255", cmd);
}

void admin_key_write(struct jsonw *w, const struct flow_key *k)
{
	char a[INET6_ADDRSTRLEN], p[8];

	jsonw_str(w, "proto", admin_proto_name(k->proto, p, sizeof(p)));
	admin_addr_str(&k->src, a, sizeof(a));
	jsonw_str(w, "src", a);
	jsonw_u64(w, "sport", ntohs(k->sport));
	admin_addr_str(&k->dst, a, sizeof(a));
	jsonw_str(w, "dst", a);
	jsonw_u64(w, "dport", ntohs(k->dport));
}

static int cmd_version(struct steerd *d, int argc, char **argv, struct jsonw *w,
		       char *err, size_t errlen)
{
	const struct steerd_world *wd = d->world;
	const struct cluster_node *self = cluster_self(&wd->cluster);

	jsonw_str(w, "steerd", STEERD_VERSION);
	jsonw_u64(w, "protocol", ADMIN_PROTO_VERSION);
	jsonw_str(w, "cluster", wd->cluster.name);
	jsonw_str(w, "self", self->ep.name);
	jsonw_u64(w, "self_id", self->ep.id);
	jsonw_str(w, "mode", steerd_mode_name(wd->conf.mode));
	jsonw_str_opt(w, "interface", wd->conf.interface);
	jsonw_u64(w, "gossip_port", wd->conf.gossip_port);
	jsonw_bool(w, "keyed", wd->keyed);
	jsonw_str(w, "config", d->config);
	jsonw_str(w, "cluster_file", wd->conf.cluster_file);
	jsonw_u64(w, "generation", d->st.generation);
	jsonw_str_opt(w, "last_reload_error", d->last_error);
	jsonw_u64(w, "uptime_ms", evloop_now_ms() - d->start_ms);
	return 0;
}

static int cmd_help(struct steerd *d, int argc, char **argv, struct jsonw *w,
		    char *err, size_t errlen)
{
	const struct admin_cmd *c;

	jsonw_arr_open(w, "commands");
	for (c = admin_cmds; c->name; c++) {
		jsonw_obj_open(w, NULL);
		jsonw_str(w, "name", c->name);
		jsonw_str(w, "usage", c->usage);
		jsonw_str(w, "help", c->help);
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
	return 0;
}

static int cmd_nodes(struct steerd *d, int argc, char **argv, struct jsonw *w,
		     char *err, size_t errlen)
{
	const struct cluster *c = &d->world->cluster;
	struct steerd_node_info info;
	char buf[INET6_ADDRSTRLEN];
	uint32_t i;

	jsonw_arr_open(w, "nodes");
	for (i = 0; i < c->n_nodes; i++) {
		const struct cluster_endpoint *ep = &c->nodes[i].ep;

		memset(&info, 0, sizeof(info)); /* what a provider leaves */
		if (d->nodes.node_info(d->nodes.ctx, ep->id, &info))
			info = (struct steerd_node_info){.state = "unknown"};
		jsonw_obj_open(w, NULL);
		jsonw_u64(w, "id", ep->id);
		jsonw_str(w, "name", ep->name);
		buf[0] = '\0';
		if (ep->has_v4)
			admin_addr_str(&ep->addr4, buf, sizeof(buf));
		jsonw_str_opt(w, "address", buf);
		buf[0] = '\0';
		if (ep->has_v6)
			admin_addr_str(&ep->addr6, buf, sizeof(buf));
		jsonw_str_opt(w, "address6", buf);
		buf[0] = '\0';
		if (!admin_mac_zero(ep->mac))
			admin_mac_str(ep->mac, buf, sizeof(buf));
		jsonw_str_opt(w, "mac", buf);
		jsonw_str_opt(w, "via", ep->via);
		jsonw_bool(w, "self", i == c->self);
		jsonw_str(w, "state", info.state);
		jsonw_u64(w, "incarnation", info.incarnation);
		jsonw_u64(w, "load", info.load);
		jsonw_bool(w, "drained", info.drained);
		jsonw_bool(w, "joining", info.joining);
		if (info.fc_horizon_s) {
			jsonw_u64(w, "fc_horizon_s", info.fc_horizon_s);
			jsonw_u64(w, "fc_load", info.fc_cpu);
			jsonw_u64(w, "fc_load_hi", info.fc_cpu_hi);
		}
		jsonw_obj_close(w);
	}
	jsonw_arr_close(w);
	return 0;
}

struct admin_flows {
	struct jsonw *w;
	const struct cluster *c;
	uint32_t limit, shown;
};

static int admin_flow_one(const struct dp_flow *f, void *arg)
{
	struct admin_flows *a = arg;
	const struct cluster_backend *b;
	struct jsonw *w = a->w;
	int i;

	if (a->shown == a->limit)
		return 1;
	jsonw_obj_open(w, NULL);
	admin_key_write(w, &f->key);
	jsonw_str(w, "action", fastpath_action_name(f->action));
	jsonw_u64(w, "owner", f->owner);
	if (f->backend != STEER_NODE_NONE) {
		b = cluster_backend_by_id(a->c, f->backend);
		if (b)
			jsonw_str(w, "backend", b->ep.name);
		else
			jsonw_strf(w, "backend", "%u", f->backend);
	}
	jsonw_arr_open(w, "mirrors");
	for (i = 0; i + 1 < f->rf && i < STEER_MAX_MIRRORS; i++)
		jsonw_u64(w, NULL, f->mirror[i]);
	jsonw_arr_close(w);
	jsonw_u64(w, "epoch", f->epoch);
	if (f->state)
		jsonw_str(w, "state", f->state);
	if (f->idle_ms >= 0)
		jsonw_u64(w, "idle_ms", (uint64_t)f->idle_ms);
	if (f->has_counts) {
		jsonw_u64(w, "packets", f->packets);
		jsonw_u64(w, "bytes", f->bytes);
	}
	jsonw_obj_close(w);
	a->shown++;
	return 0;
}

/* The flows of this node's data plane (dataplane.h). */
static void admin_rules_write(struct steerd *d, uint32_t limit, struct jsonw *w)
{
	struct admin_flows a = {
		.w = w, .c = &d->world->cluster, .limit = limit};

	jsonw_u64(w, "count", dp_flow_count(d));
	jsonw_u64(w, "capacity", dp_flow_capacity(d));
	jsonw_u64(w, "limit", limit);
	jsonw_arr_open(w, "flows");
	dp_flow_walk(d, admin_flow_one, &a);
	jsonw_arr_close(w);
	jsonw_u64(w, "shown", a.shown);
	jsonw_str(w, "source", dp_source(d));
}

/* [limit N] of a listing; 0, or an error said in err. */
static int admin_parse_limit(const char *cmd, int argc, char **argv,
			     uint32_t *limit, char *err, size_t errlen)
{
	*limit = ADMIN_FLOWS_DEFAULT;
	if (argc == 1 || (argc == 2 && strcmp(argv[0], "limit")))
		return admin_usage(err, errlen, "usage: %s [limit N]", cmd);
	if (argc == 2 && admin_parse_u32(argv[1], 1, ADMIN_FLOWS_MAX, limit))
		return admin_usage(err, errlen,
				   "%s: 'limit' expects an integer in 1..%u",
				   cmd, ADMIN_FLOWS_MAX);
	return 0;
}

static int cmd_flows(struct steerd *d, int argc, char **argv, struct jsonw *w,
		     char *err, size_t errlen)
{
	uint32_t limit;
	int ret = admin_parse_limit("flows", argc, argv, &limit, err, errlen);

	if (ret)
		return ret;
	if (d->cell) /* Cell mode: the flow states this cell holds. */
		admin_cell_flows(d, limit, w);
	else
		admin_rules_write(d, limit, w);
	return 0;
}

static int cmd_rules(struct steerd *d, int argc, char **argv, struct jsonw *w,
		     char *err, size_t errlen)
{
	uint32_t limit;
	int ret = admin_parse_limit("rules", argc, argv, &limit, err, errlen);

	if (!ret)
		admin_rules_write(d, limit, w);
	return ret;
}

struct admin_sessions {
	struct jsonw *w;
	const struct cluster *c;
	uint32_t limit, shown;
};

static int admin_session_one(const struct gossip_session_info *si,
			     uint64_t age_ms, void *arg)
{
	struct admin_sessions *a = arg;
	const struct cluster_node *n = cluster_node_by_id(a->c, si->owner);

	if (a->shown >= a->limit)
		return 1;
	jsonw_obj_open(a->w, NULL);
	admin_key_write(a->w, &si->key);
	jsonw_str_opt(a->w, "owner", n ? n->ep.name : NULL);
	jsonw_str(a->w, "state",
		  si->state == GOSSIP_SESSION_ESTABLISHED ? "established"
							  : "closed");
	jsonw_u64(a->w, "epoch", si->epoch);
	jsonw_u64(a->w, "age_ms", age_ms);
	jsonw_obj_close(a->w);
	a->shown++;
	return 0;
}

static int cmd_sessions(struct steerd *d, int argc, char **argv,
			struct jsonw *w, char *err, size_t errlen)
{
	struct admin_sessions a = {
		.w = w, .c = &d->world->cluster, .limit = ADMIN_FLOWS_DEFAULT};
	struct gossip *g;
	int ret;

	ret = admin_parse_limit("sessions", argc, argv, &a.limit, err, errlen);
	if (ret)
		return ret;
	if (!d->gossip)
		return admin_err(err, errlen,
				 "sessions: no gossip runs (mode cell without "
				 "a cluster key)");
	g = steerd_gossip_node(d->gossip);
	jsonw_u64(w, "established", gossip_session_count(g, true));
	jsonw_u64(w, "held", gossip_session_count(g, false));
	jsonw_arr_open(w, "sessions");
	gossip_session_walk(g, admin_session_one, &a);
	jsonw_arr_close(w);
	jsonw_u64(w, "shown", a.shown);
	return 0;
}

static const char *admin_tmpl_kind(uint8_t kind)
{
	switch (kind) {
	case STEER_TMPL_GUE0:
		return "gue0";
	case STEER_TMPL_GUE1:
		return "gue1";
	case STEER_TMPL_IPIP:
		return "ipip";
	}
	return "none";
}

/*
 * The template to ep, as fp_cluster_build() makes it (same spec, same
 * builder), described from its bytes: what the fast path writes.
 */
static void admin_tmpl_write(struct jsonw *w, const struct cluster *c,
			     const char *target,
			     const struct cluster_endpoint *ep,
			     enum steer_tmpl_kind kind, __be16 dport)
{
	const struct cluster_endpoint *me = &cluster_self(c)->ep;
	struct tmpl_spec s = {.kind = kind, .dport = dport, .origin = me->id};
	struct steer_tmpl t;
	struct flow_addr a;
	char buf[INET6_ADDRSTRLEN];
	size_t ip = 14, l4;
	int ok = 0;

	memcpy(s.src_mac, me->mac, 6);
	memcpy(s.dst_mac, cluster_next_hop_mac(c, ep), 6);
	if (me->has_v4 && ep->has_v4) {
		s.saddr = me->addr4;
		s.daddr = ep->addr4;
		ok = 1;
	} else if (me->has_v6 && ep->has_v6) {
		s.saddr = me->addr6;
		s.daddr = ep->addr6;
		ok = 1;
	}
	jsonw_obj_open(w, NULL);
	jsonw_str(w, "target", target);
	jsonw_str(w, "name", ep->name);
	jsonw_u64(w, "id", ep->id);
	if (!ok || tmpl_build(&t, &s)) {
		jsonw_str(w, "kind", "none");
		jsonw_str(w, "error",
			  "no address family shared with this node");
		jsonw_obj_close(w);
		return;
	}
	jsonw_str(w, "kind", admin_tmpl_kind(t.kind));
	jsonw_u64(w, "family", t.family);
	memset(&a, 0, sizeof(a));
	if (t.family == 4) {
		flow_addr_set_v4(&a, 0);
		memcpy(&a.w[3], t.hdr + ip + 12, 4);
		admin_addr_str(&a, buf, sizeof(buf));
		jsonw_str(w, "src", buf);
		memcpy(&a.w[3], t.hdr + ip + 16, 4);
		admin_addr_str(&a, buf, sizeof(buf));
		jsonw_str(w, "dst", buf);
		l4 = ip + 20;
	} else {
		memcpy(a.b, t.hdr + ip + 8, 16);
		admin_addr_str(&a, buf, sizeof(buf));
		jsonw_str(w, "src", buf);
		memcpy(a.b, t.hdr + ip + 24, 16);
		admin_addr_str(&a, buf, sizeof(buf));
		jsonw_str(w, "dst", buf);
		l4 = ip + 40;
	}
	admin_mac_str(t.hdr + 6, buf, sizeof(buf));
	jsonw_str(w, "src_mac", buf);
	admin_mac_str(t.hdr, buf, sizeof(buf));
	jsonw_str(w, "dst_mac", buf);
	if (t.kind == STEER_TMPL_GUE0 || t.kind == STEER_TMPL_GUE1)
		jsonw_u64(w, "dport",
			  (uint32_t)t.hdr[l4 + 2] << 8 | t.hdr[l4 + 3]);
	jsonw_u64(w, "len", t.len);
	jsonw_obj_close(w);
}

static int cmd_templates(struct steerd *d, int argc, char **argv,
			 struct jsonw *w, char *err, size_t errlen)
{
	const struct cluster *c = &d->world->cluster;
	uint32_t i;

	if (d->host || d->cell) {
		/* What the kernel's next hops made, in the XDP map. */
		admin_host_templates(
			d, d->host ? host_tmpls(d->host) : cell_tmpls(d->cell),
			d->cell != NULL, w);
		return 0;
	}
	jsonw_arr_open(w, "templates");
	for (i = 0; i < c->n_nodes; i++)
		if (i != c->self)
			admin_tmpl_write(w, c, "node", &c->nodes[i].ep,
					 STEER_TMPL_GUE0, c->gue_port);
	for (i = 0; i < c->n_backends; i++)
		admin_tmpl_write(w, c, "backend", &c->backends[i].ep,
				 c->backends[i].encap, c->backends[i].port);
	jsonw_arr_close(w);
	return 0;
}

/* The userspace fast path's counters: shown only when it is the data
 * plane (no XDP program runs; dataplane.h). */
static void admin_fastpath_counters(struct steerd *d, struct jsonw *w)
{
	const struct fp_counters *fc = fastpath_counters(d->world->fp);
	struct fsc *f = fastpath_fsc(d->world->fp);
	struct fsc_stats fs;
	int i;

	jsonw_obj_open(w, "fastpath");
	jsonw_u64(w, "rx_packets", fc->rx_packets);
	jsonw_u64(w, "rx_bytes", fc->rx_bytes);
	jsonw_u64(w, "notip", fc->notip);
	jsonw_u64(w, "decap", fc->decap);
	jsonw_u64(w, "new_flows", fc->new_flows);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "action");
	for (i = STEER_ACT_NONE + 1; i < STEER_ACT__MAX; i++)
		jsonw_u64(w, fastpath_action_name((uint8_t)i), fc->action[i]);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "parse_err");
	for (i = 1; i < PERR__MAX; i++)
		jsonw_u64(w, fastpath_parse_err_name(i), fc->parse_err[i]);
	jsonw_obj_close(w);
	jsonw_obj_open(w, "drop");
	for (i = STEER_DROP_NONE + 1; i < STEER_DROP__MAX; i++)
		jsonw_u64(w, fastpath_drop_name((enum steer_drop)i),
			  fc->drop[i]);
	jsonw_obj_close(w);
	fsc_get_stats(f, &fs);
	jsonw_obj_open(w, "fsc");
	jsonw_u64(w, "capacity", fsc_capacity(f));
	jsonw_u64(w, "count", fsc_count(f));
	jsonw_u64(w, "memory", fsc_memory(f));
	jsonw_u64(w, "hits", fs.hits);
	jsonw_u64(w, "misses", fs.misses);
	jsonw_u64(w, "inserts", fs.inserts);
	jsonw_u64(w, "updates", fs.updates);
	jsonw_u64(w, "evictions", fs.evictions);
	jsonw_u64(w, "expired", fs.expired);
	jsonw_u64(w, "deletes", fs.deletes);
	jsonw_obj_close(w);
}

static int cmd_counters(struct steerd *d, int argc, char **argv,
			struct jsonw *w, char *err, size_t errlen)
{
	const struct admin_stats *as = admin_stats(d->admin);

	if (!strcmp(dp_source(d), "userspace"))
		admin_fastpath_counters(d, w);
	jsonw_obj_open(w, "daemon");
	jsonw_u64(w, "generation", d->st.generation);
	jsonw_u64(w, "reloads_failed", d->st.reloads_failed);
	jsonw_u64(w, "flows_carried", d->st.flows_carried);
	jsonw_u64(w, "swept", d->st.expired);
	jsonw_obj_close(w);
	if (as) {
		jsonw_obj_open(w, "admin");
		jsonw_u64(w, "requests", as->requests);
		jsonw_u64(w, "errors", as->errors);
		jsonw_u64(w, "accepted", as->accepted);
		jsonw_u64(w, "rejected", as->rejected);
		jsonw_u64(w, "too_long", as->too_long);
		jsonw_u64(w, "clients", as->clients);
		jsonw_obj_close(w);
	}
	if (d->http) {
		const struct httpd_stats *hs = httpd_stats(d->http);

		jsonw_obj_open(w, "http");
		jsonw_u64(w, "requests", hs->requests);
		jsonw_u64(w, "metrics_scrapes", hs->metrics_scrapes);
		jsonw_u64(w, "not_found", hs->not_found);
		jsonw_u64(w, "bad_method", hs->bad_method);
		jsonw_u64(w, "errors", hs->errors);
		jsonw_obj_close(w);
	}
	if (d->cell)
		admin_cell_counters(d, w);
	admin_host_counters(d, w);
	return 0;
}

static int cmd_shards(struct steerd *d, int argc, char **argv, struct jsonw *w,
		      char *err, size_t errlen)
{
	uint32_t shard;

	if (argc == 1 && admin_parse_u32(argv[0], 0, STEER_SHARDS - 1, &shard))
		return admin_usage(err, errlen,
				   "shards: the shard expects an integer in "
				   "0..%u",
				   STEER_SHARDS - 1);
	if (!d->cell)
		return admin_err(err, errlen,
				 "shards: no cell runs here (mode cell with a "
				 "cluster key)");
	admin_cell_shards(d, argc ? (int32_t)shard : -1, w);
	return 0;
}

/* A node id, or a node name, that the cluster declares. */
static int admin_parse_owner(const struct cluster *c, const char *s,
			     uint16_t *out)
{
	const struct cluster_node *n;
	uint32_t v;

	if (!admin_parse_u32(s, 0, CLUSTER_ID_MAX, &v))
		n = cluster_node_by_id(c, (uint16_t)v);
	else
		n = cluster_node_by_name(c, s);
	if (!n)
		return -ENOENT;
	*out = n->ep.id;
	return 0;
}

static int cmd_flow_set(struct steerd *d, int argc, char **argv,
			struct jsonw *w, char *err, size_t errlen)
{
	struct flow_key k;
	uint16_t owner;
	uint32_t epoch;
	int ret;

	ret = admin_parse_key("flow-set", argv, &k, err, errlen);
	if (ret)
		return ret;
	if (admin_parse_u32(argv[6], 0, UINT32_MAX, &epoch))
		return admin_usage(
			err, errlen,
			"flow-set: epoch expects an integer in 0..%u",
			UINT32_MAX);
	/* A word that names no node is not malformed: the cluster's to say. */
	if (admin_parse_owner(&d->world->cluster, argv[5], &owner))
		return admin_err(err, errlen,
				 "flow-set: owner expects a node id or name of "
				 "the cluster");
	ret = dp_flow_set(d, &k, owner, epoch);
	if (ret == -ENOENT)
		return admin_err(err, errlen,
				 "flow-set: no template to node %u", owner);
	if (ret)
		return admin_err(err, errlen, "flow-set: %s", strerror(-ret));
	jsonw_obj_open(w, "flow");
	admin_key_write(w, &k);
	jsonw_obj_close(w);
	jsonw_u64(w, "owner", owner);
	jsonw_u64(w, "epoch", epoch);
	return 0;
}

static int cmd_flow_del(struct steerd *d, int argc, char **argv,
			struct jsonw *w, char *err, size_t errlen)
{
	struct flow_key k;
	int ret;

	ret = admin_parse_key("flow-del", argv, &k, err, errlen);
	if (ret)
		return ret;
	ret = dp_flow_del(d, &k);
	if (ret)
		return admin_err(err, errlen, "flow-del: %s",
				 ret == -ENOENT ? "no such flow"
						: strerror(-ret));
	jsonw_obj_open(w, "flow");
	admin_key_write(w, &k);
	jsonw_obj_close(w);
	return 0;
}

static int cmd_forecast(struct steerd *d, int argc, char **argv,
			struct jsonw *w, char *err, size_t errlen)
{
	if (argc == 1 && strcmp(argv[0], "series"))
		return admin_usage(err, errlen,
				   "forecast: expected nothing or 'series', "
				   "not '%.32s'",
				   argv[0]);
	if (!d->nfc)
		return admin_err(err, errlen, "forecast: none kept");
	if (argc == 1)
		node_fc_write_series(d->nfc, w);
	else
		node_fc_write(d->nfc, w, ADMIN_FORECAST_FLOWS);
	return 0;
}

/* drain / undrain: this node leaves or rejoins the ingress set. */
static int cmd_drain_any(struct steerd *d, struct jsonw *w, char *err,
			 size_t errlen, enum drain_why why)
{
	int ret = steerd_drain(d, why);

	if (ret == -EOPNOTSUPP)
		return admin_err(err, errlen,
				 "%s: host mode only (a cell-mode node's "
				 "ingress is its fast path's)",
				 why ? "drain" : "undrain");
	jsonw_bool(w, "changed", ret == 0);
	drain_write(&d->drain, w, evloop_now_ms());
	return 0;
}

/* A node of the cluster by name or id; NULL when there is none. */
static const struct cluster_node *admin_node(struct steerd *d, const char *s)
{
	const struct cluster *c = &d->world->cluster;
	uint32_t id;

	if (!admin_parse_u32(s, 0, STEER_NODE_NONE - 1, &id))
		return cluster_node_by_id(c, (uint16_t)id);
	return cluster_node_by_name(c, s);
}

/*
 * drain NODE / undrain NODE for another node: the order goes to it by
 * gossip (authenticated with the cluster key), and it drains as if its
 * own operator had asked; gossip's load reports then show it drained.
 */
static int cmd_drain_order(struct steerd *d, const char *node, uint8_t op,
			   struct jsonw *w, char *err, size_t errlen)
{
	const char *cmd = op == GOSSIP_ORDER_DRAIN ? "drain" : "undrain";
	const struct cluster_node *n = admin_node(d, node);
	int ret;

	if (!n)
		return admin_err(err, errlen,
				 "%s: no node '%.32s' in the cluster", cmd,
				 node);
	if (n->ep.id == cluster_self(&d->world->cluster)->ep.id)
		return cmd_drain_any(d, w, err, errlen,
				     op == GOSSIP_ORDER_DRAIN ? DRAIN_OPERATOR
							      : DRAIN_NONE);
	if (!d->host)
		return admin_err(err, errlen,
				 "%s: host mode only (a cell-mode node's "
				 "ingress is its fast path's)",
				 cmd);
	if (!d->gossip)
		return admin_err(err, errlen, "%s: no gossip runs here", cmd);
	ret = gossip_order_send(steerd_gossip_node(d->gossip), n->ep.id, op);
	if (ret == -EHOSTUNREACH || ret == -ENOENT)
		return admin_err(err, errlen, "%s: %s is not a live member",
				 cmd, n->ep.name);
	if (ret)
		return admin_err(err, errlen, "%s: %s", cmd, strerror(-ret));
	jsonw_str(w, "ordered", cmd);
	jsonw_str(w, "node", n->ep.name);
	jsonw_u64(w, "id", n->ep.id);
	return 0;
}

static int cmd_drain(struct steerd *d, int argc, char **argv, struct jsonw *w,
		     char *err, size_t errlen)
{
	if (argc == 1 && !strcmp(argv[0], "status")) {
		drain_write(&d->drain, w, evloop_now_ms());
		return 0;
	}
	if (argc == 1)
		return cmd_drain_order(d, argv[0], GOSSIP_ORDER_DRAIN, w, err,
				       errlen);
	return cmd_drain_any(d, w, err, errlen, DRAIN_OPERATOR);
}

static int cmd_undrain(struct steerd *d, int argc, char **argv, struct jsonw *w,
		       char *err, size_t errlen)
{
	if (argc == 1)
		return cmd_drain_order(d, argv[0], GOSSIP_ORDER_UNDRAIN, w, err,
				       errlen);
	return cmd_drain_any(d, w, err, errlen, DRAIN_NONE);
}

static int cmd_cache(struct steerd *d, int argc, char **argv, struct jsonw *w,
		     char *err, size_t errlen)
{
	return admin_cache(d, argc, argv, w, err, errlen);
}

/* tables: the flow tables' size and how full they are. */
static int cmd_tables(struct steerd *d, int argc, char **argv, struct jsonw *w,
		      char *err, size_t errlen)
{
	struct xdp_prog *x = d->host   ? host_xdp(d->host)
			     : d->cell ? cell_xdp(d->cell)
				       : NULL;
	struct xdp_maps_occupancy o;
	int ret;

	if (!x)
		return admin_err(err, errlen, "tables: no XDP program here");
	ret = xdp_maps_occupancy(x, &o);
	if (ret)
		return admin_err(err, errlen, "tables: %s", strerror(-ret));
	jsonw_u64(w, "size", o.size);
	jsonw_u64(w, "flows4", o.flows4);
	jsonw_u64(w, "flows6", o.flows6);
	jsonw_double(w, "used_pct",
		     o.size ? 100.0 *
				      (double)(o.flows4 > o.flows6 ? o.flows4
								   : o.flows6) /
				      o.size
			    : 0);
	if (d->host)
		jsonw_u64(w, "full_refusals",
			  host_stats(d->host)->flow_table_full);
	if (d->cell) {
		const struct flowtab *t = cell_flowtab(d->cell);

		jsonw_u64(w, "full_refusals", cell_stats(d->cell)->rules_full);
		jsonw_u64(w, "cell_capacity", flowtab_capacity(t));
		jsonw_u64(w, "cell_flows", flowtab_count(t));
	}
	return 0;
}

static int cmd_migrations(struct steerd *d, int argc, char **argv,
			  struct jsonw *w, char *err, size_t errlen)
{
	int ret;

	if (argc == 1 && strcmp(argv[0], "all"))
		return admin_usage(err, errlen,
				   "migrations: expected nothing or 'all', "
				   "not '%.32s'",
				   argv[0]);
	ret = migrations_write(d, w, argc ? UINT32_MAX : MIGRATIONS_SHOWN, err,
			       errlen);
	return ret == -EINVAL ? -EIO : ret; /* never a usage error */
}

/* The same reload as SIGHUP's, answered with its outcome. */
static int cmd_reload(struct steerd *d, int argc, char **argv, struct jsonw *w,
		      char *err, size_t errlen)
{
	uint64_t t0 = evloop_now_ms();

	log_info(MOD, "reload asked: reloading %s", d->config);
	if (steerd_reload(d))
		return admin_err(err, errlen,
				 "reload failed, keeping the running config: "
				 "%s",
				 d->last_error);
	jsonw_u64(w, "generation", d->st.generation);
	jsonw_u64(w, "flows_carried", d->st.flows_carried);
	jsonw_u64(w, "ms", evloop_now_ms() - t0);
	return 0;
}

static const struct admin_cmd admin_cmds[] = {
	{"version", cmd_version, 0, 0, "version",
	 "daemon version, cluster, this node, config generation"},
	{"help", cmd_help, 0, 0, "help", "the commands"},
	{"nodes", cmd_nodes, 0, 0, "nodes",
	 "the cluster's nodes and their gossip state"},
	{"flows", cmd_flows, 0, 2, "flows [limit N]",
	 "host mode: the flows this node's data plane steers (the XDP "
	 "program's); cell mode: the cell's flow table (default limit 100)"},
	{"rules", cmd_rules, 0, 2, "rules [limit N]",
	 "the rules of this node's data plane (the XDP program's flow maps; "
	 "in cell mode, the fast path's BACKEND rules) (default limit 100)"},
	{"sessions", cmd_sessions, 0, 2, "sessions [limit N]",
	 "sessions gossip knows: owner, state, epoch, age (default limit "
	 "100)"},
	{"templates", cmd_templates, 0, 0, "templates",
	 "encapsulation templates to every node and backend"},
	{"counters", cmd_counters, 0, 0, "counters",
	 "fast-path, flow-state cache, daemon and admin counters; XDP, "
	 "sock_ops, host, cell and gossip counters where they run"},
	{"shards", cmd_shards, 0, 1, "shards [N]",
	 "cell mode: the shard map (live cells, shards per cell), or the "
	 "cells of shard N in order"},
	{"latency", admin_latency, 0, 0, "latency",
	 "latency histograms (cell mode: the exception path, replication "
	 "acknowledgements): count, median, 99th percentile, buckets"},
	{"tables", cmd_tables, 0, 0, "tables",
	 "the flow tables: entries each (flow-table-size), the rules the "
	 "XDP program's IPv4 and IPv6 tables hold, writes refused because a "
	 "table was full; in cell mode the cell's table too"},
	{"migrations", cmd_migrations, 0, 1, "migrations [all]",
	 "host mode: this node's busiest sessions (32, or every one tracked) "
	 "with the probability that each migrates within a minute, why, and "
	 "the node with the most forecast headroom to go to"},
	{"forecast", cmd_forecast, 0, 1, "forecast [series]",
	 "this node's load (CPU, memory, bandwidth received and sent, "
	 "sessions, new sessions/s, exception pps) as series: the "
	 "last value, forecasts 10 s and 60 s ahead, the model offered and "
	 "each model's recent error; then host mode's busiest TCP sessions "
	 "(rates, RTT and its trend, retransmissions) and the busiest flows "
	 "its XDP program steers (rates, packet sizes, gaps between "
	 "packets); with 'series', every "
	 "series' samples kept (the last 10 minutes)"},
	{"cache", cmd_cache, 0, 6,
	 "cache [invalidate all|node ID|PROTO SRC SPORT DST DPORT]",
	 "host mode: the predictive header cache (hinted sessions: in the "
	 "fast path, on disk; placements, evictions, hits) and the hints "
	 "this node sent; 'invalidate' forgets entries"},
	{"drain", cmd_drain, 0, 1, "drain [status|NODE]",
	 "host mode: this node (or NODE, by name or id: the order goes to it "
	 "by gossip) leaves the ingress set (its drain-hook runs; gossip "
	 "tells the others; its sessions keep reaching it through them); "
	 "'status' only shows this node's state"},
	{"undrain", cmd_undrain, 0, 1, "undrain [NODE]",
	 "host mode: this node (or NODE) rejoins the ingress set (its "
	 "drain-hook runs)"},
	{"flow-set", cmd_flow_set, 7, 7,
	 "flow-set PROTO SRC SPORT DST DPORT OWNER EPOCH",
	 "steer a flow to node OWNER (epoch EPOCH) on this node's data plane"},
	{"reload", cmd_reload, 0, 0, "reload",
	 "read the config and the cluster description again, as SIGHUP does; "
	 "a bad one is refused and the running one kept"},
	{"flow-del", cmd_flow_del, 5, 5, "flow-del PROTO SRC SPORT DST DPORT",
	 "forget a flow on this node's data plane (cell mode, on the flow's "
	 "primary cell: its record on the cells and its rules on every fast "
	 "path too)"},
	{NULL, NULL, 0, 0, NULL, NULL},
};

/* Split line into blank-separated words; -E2BIG past max, -EINVAL for a
 * byte that is not printable ASCII. */
static int admin_split(char *line, char **argv, int max, int *argc)
{
	char *p = line;
	int n = 0;

	for (; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -EINVAL;
		else if ((unsigned char)*p >= 0x7f)
			return -EINVAL;
	for (p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			break;
		if (n == max)
			return -E2BIG;
		argv[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	*argc = n;
	return 0;
}

/* {"ok":false,"error":msg}, with "usage":true for a usage error. */
static void admin_answer_error(struct jsonw *w, const char *msg, bool usage)
{
	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_bool(w, "ok", false);
	jsonw_str(w, "error", msg);
	if (usage)
		jsonw_bool(w, "usage", true);
	jsonw_obj_close(w);
}

static int admin_dispatch(struct steerd *d, char *line, struct jsonw *w,
			  char *err, size_t errlen)
{
	char *argv[ADMIN_MAX_WORDS];
	const struct admin_cmd *c;
	int argc = 0, ret;

	ret = admin_split(line, argv, ADMIN_MAX_WORDS, &argc);
	if (ret == -EINVAL)
		return admin_usage(err, errlen,
				   "request holds a byte that is not printable "
				   "ASCII");
	if (ret)
		return admin_usage(err, errlen, "more than %d words",
				   ADMIN_MAX_WORDS);
	if (!argc)
		return admin_usage(err, errlen, "empty request");
	for (c = admin_cmds; c->name; c++)
		if (!strcmp(c->name, argv[0]))
			break;
	if (!c->name)
		return admin_usage(err, errlen,
				   "unknown command '%.40s' (try 'help')",
				   argv[0]);
	if (argc - 1 < c->min_args || argc - 1 > c->max_args)
		return admin_usage(err, errlen, "usage: %s", c->usage);
	jsonw_reset(w);
	jsonw_obj_open(w, NULL);
	jsonw_bool(w, "ok", true);
	jsonw_obj_open(w, "result");
	ret = c->fn(d, argc - 1, argv + 1, w, err, errlen);
	if (ret)
		return ret;
	jsonw_obj_close(w);
	jsonw_obj_close(w);
	return 0;
}

int admin_handle(struct steerd *d, char *line, struct jsonw *w)
{
	char err[ADMIN_ERR_MAX] = "";
	int ret;

	ret = admin_dispatch(d, line, w, err, sizeof(err));
	if (!ret) {
		ret = jsonw_finish(w);
		if (ret == -ENOMEM) {
			snprintf(err, sizeof(err), "out of memory");
		} else if (ret) {
			/* A structure error of the handler's (jsonw.h): a
			 * bug, said as one, not as a shortage of memory. */
			snprintf(err, sizeof(err),
				 "internal error: the answer could not be "
				 "written (%s)",
				 strerror(-ret));
			ret = -EIO;
		}
	}
	if (ret) {
		admin_answer_error(w, err[0] ? err : "bad request",
				   ret == -EINVAL);
		if (jsonw_finish(w))
			return -ENOMEM;
		return -EINVAL;
	}
	return 0;
}
