// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/steerd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "cell/cell.h"
#include "daemon/admin.h"
#include "daemon/dataplane.h"
#include "daemon/hints.h"
#include "daemon/host.h"
#include "daemon/httpd.h"
#include "daemon/migrations.h"
#include "daemon/node_fc.h"
#include "daemon/service.h"
#include "daemon/steerd_gossip.h"
#include "fastpath/fp_cluster.h"
#include "fastpath/fsc.h"
#include "gossip/gossip_auth.h"
#include "util/log.h"

#define MOD "steerd"

uint32_t steerd_now_ms(void)
{
	return (uint32_t)evloop_now_ms();
}

/*
 * The flow-hash secret from the cluster key: SipHash-1-3 keyed by the
 * key's first half, over a label and the second half, once per word of
 * the secret. A PRF of a 256-bit random key: the secret reveals nothing
 * of the key the gossip authenticates with.
 */
static void steerd_secret_from_key(const struct gossip_key *k,
				   struct steer_hash_secret *s)
{
	struct steer_hash_secret kk;
	__u64 w[3];

	memcpy(&kk.k0, k->b, 8);
	memcpy(&kk.k1, k->b + 8, 8);
	memcpy(&w[1], k->b + 16, 8);
	memcpy(&w[2], k->b + 24, 8);
	w[0] = 0x737465657231ull; /* "steer1": flow-hash word 0 */
	s->k0 = steer_siphash13(w, 3, &kk);
	w[0] = 0x737465657232ull; /* "steer2": flow-hash word 1 */
	s->k1 = steer_siphash13(w, 3, &kk);
	memset(&kk, 0, sizeof(kk));
	memset(w, 0, sizeof(w));
}

/*
 * Without a cluster key: derived from the cluster name exactly as
 * steer-replay does without --secret, so a lab daemon and a replay of
 * the same cluster agree on owners. Anyone who knows the name knows it.
 */
static void steerd_secret_from_name(const char *name,
				    struct steer_hash_secret *s)
{
	static const struct steer_hash_secret zero = {0, 0};
	__u64 w[4] = {0};

	memcpy(w, name, strnlen(name, sizeof(w) - 1));
	s->k0 = steer_siphash13(w, 4, &zero);
	w[0] ^= s->k0;
	s->k1 = steer_siphash13(w, 4, &zero);
}

static int steerd_world_secret(struct steerd_world *w, char *err, size_t errlen)
{
	struct gossip_key k;
	int ret;

	if (!w->conf.key_file[0]) {
		steerd_secret_from_name(w->cluster.name, &w->secret);
		return 0;
	}
	ret = gossip_key_from_file(&k, w->conf.key_file);
	if (ret) {
		snprintf(err, errlen, "%s: %s", w->conf.key_file,
			 gossip_key_strerror(ret));
		return ret;
	}
	steerd_secret_from_key(&k, &w->secret);
	memset(&k, 0, sizeof(k));
	w->keyed = true;
	return 0;
}

void steerd_world_free(struct steerd_world *w)
{
	fastpath_free(w->fp);
	cluster_free(&w->cluster);
	memset(w, 0, sizeof(*w));
}

/*
 * In cell mode the gossip and the cell's control socket are both UDP on
 * this node's address: gossip-port (this file) must not be the cluster's
 * cell control port or GUE port (the cell's exception socket).
 */
static int steerd_world_ports_check(const struct steerd_world *w, char *err,
				    size_t errlen)
{
	const char *which = NULL;

	if (w->conf.mode != FP_MODE_CELL)
		return 0;
	if (w->conf.gossip_port == ntohs(w->cluster.cell_ctl_port))
		which = "cell control port ('cell-ports')";
	else if (w->conf.gossip_port == ntohs(w->cluster.gue_port))
		which = "GUE port ('gue-port')";
	if (!which)
		return 0;
	snprintf(err, errlen,
		 "%s: 'gossip-port' %u is the cluster's %s: a cell takes both "
		 "in UDP",
		 w->conf.path, w->conf.gossip_port, which);
	return -EINVAL;
}

int steerd_world_load(struct steerd_world *w, const char *path, char *err,
		      size_t errlen)
{
	int ret;

	memset(w, 0, sizeof(*w));
	ret = steerd_conf_load(&w->conf, path, err, errlen);
	if (!ret)
		ret = cluster_load(&w->cluster, w->conf.cluster_file, err,
				   errlen);
	if (!ret)
		ret = steerd_world_ports_check(w, err, errlen);
	if (!ret)
		ret = steerd_world_secret(w, err, errlen);
	if (!ret) {
		w->fp = fp_cluster_build(&w->cluster, &w->secret, err, errlen);
		if (!w->fp)
			ret = -errno;
	}
	if (ret) {
		steerd_world_free(w);
		return ret;
	}
	return 0;
}

static int steerd_node_static(void *ctx, uint16_t id,
			      struct steerd_node_info *out);

static void steerd_log_level_apply(struct steerd *d)
{
	if (d->cli_log_level >= 0)
		log_set_level((enum log_level)d->cli_log_level);
	else if (d->world->conf.has_log_level)
		log_set_level(d->world->conf.log_level);
	else
		log_set_level(LOG_INFO);
}

static void steerd_world_announce(const struct steerd_world *w)
{
	const struct cluster_node *self = cluster_self(&w->cluster);

	log_info(MOD,
		 "cluster '%s', this node '%s' (id %u), %u nodes, %u "
		 "backends, %u services, mode %s",
		 w->cluster.name, self->ep.name, self->ep.id,
		 w->cluster.n_nodes, w->cluster.n_backends,
		 w->cluster.n_services, steerd_mode_name(w->conf.mode));
	if (!w->keyed)
		log_warn(MOD, "no cluster-key-file: the flow-hash secret comes "
			      "from the cluster name, which anyone can aim "
			      "collisions at");
}

static struct drain_self steerd_drain_self(const struct steerd *d)
{
	const struct cluster_node *self = cluster_self(&d->world->cluster);

	return (struct drain_self){.id = self->ep.id, .name = self->ep.name};
}

/* What this node's load reports say of its drain state. */
static void steerd_drain_tell(struct steerd *d)
{
	if (!d->gossip)
		return;
	gossip_drained_set(steerd_gossip_node(d->gossip), drain_is(&d->drain));
	gossip_joining_set(steerd_gossip_node(d->gossip),
			   drain_joining(&d->drain));
}

int steerd_drain(struct steerd *d, enum drain_why why)
{
	struct drain_self me = steerd_drain_self(d);
	int err;

	if (!d->host)
		return -EOPNOTSUPP;
	err = drain_set(&d->drain, &d->world->conf, &me, why, evloop_now_ms());
	steerd_drain_tell(d);
	return err;
}

/* A drained node's sessions are about to arrive elsewhere: hinted at
 * once, before the drain-hook moves the operator's routing. */
static void steerd_on_drain_change(void *arg)
{
	struct steerd *d = arg;

	if (drain_is(&d->drain) && !drain_joining(&d->drain) &&
	    d->world->conf.drain_udp_move)
		host_udp_move(d->host, migrations_target(d));
	hints_tick(d->hints, d);
}

/* Another node passed on an operator's drain or undrain of this one. */
static void steerd_on_order(void *arg, uint16_t from, uint8_t op)
{
	struct steerd *d = arg;
	enum drain_why why =
		op == GOSSIP_ORDER_DRAIN ? DRAIN_OPERATOR : DRAIN_NONE;
	int ret = steerd_drain(d, why);

	log_info(MOD, "%s ordered by node %u: %s", why ? "drain" : "undrain",
		 from, ret ? "no change" : "done");
}

static void steerd_on_close(const struct flow_key *k, void *arg)
{
	struct steerd *d = arg;

	hints_closed(d->hints, d, k);
}

/* Every refit's forecast goes out with gossip (the other nodes' view of
 * this one's headroom), and may drain this node. */
static void steerd_publish(struct steerd *d, const struct drain_self *me)
{
	struct gossip_forecast_update f;

	if (!d->gossip || node_fc_samples(d->nfc) % node_fc_refit(d->nfc) ||
	    node_fc_forecast(d->nfc, NODE_FC_PUBLISH_AHEAD, &f))
		return;
	if (d->host) {
		drain_forecast(&d->drain, &d->world->conf, me, f.cpu_permille,
			       f.mem_permille, evloop_now_ms());
		steerd_drain_tell(d);
	}
	if (!gossip_forecast_report(steerd_gossip_node(d->gossip), &f))
		steerd_gossip_kick(d->gossip);
}

/* A sample of this node's load into its series (host or cell mode's XDP
 * counters, host mode's sessions), then the migration hints it implies. */
static void steerd_on_forecast(struct evloop *el, int64_t id, void *arg)
{
	struct steerd *d = arg;
	struct drain_self me = steerd_drain_self(d);

	if (node_fc_refit(d->nfc) != d->world->conf.forecast_refit)
		node_fc_refit_set(d->nfc, d->world->conf.forecast_refit);
	node_fc_sample(
		d->nfc, dp_xdp_prog(d), d->host ? host_sockops(d->host) : NULL,
		d->world->conf.cpu_of_cgroup ? d->world->conf.cgroup : NULL);
	drain_poll(&d->drain, &d->world->conf, &me, evloop_now_ms());
	steerd_drain_tell(d);
	steerd_publish(d, &me);
	steerd_gossip_save(d->gossip);
	hints_tick(d->hints, d);
}

static void steerd_on_sweep(struct evloop *el, int64_t id, void *arg)
{
	struct steerd *d = arg;
	struct fsc *f = fastpath_fsc(d->world->fp);
	uint32_t budget = fsc_capacity(f) / 50;

	/* The whole cache about every 50 sweeps (5 s at 100 ms). */
	if (budget < 1024)
		budget = 1024;
	d->st.expired += fsc_expire(f, steerd_now_ms(), budget);
}

static void steerd_on_signal(struct evloop *el, int signo, void *arg)
{
	struct steerd *d = arg;

	if (signo == SIGHUP) {
		log_info(MOD, "SIGHUP: reloading %s", d->config);
		steerd_reload(d);
		return;
	}
	log_info(MOD, "%s: stopping", signo == SIGINT ? "SIGINT" : "SIGTERM");
	evloop_stop(el);
}

static int steerd_signals_take(struct steerd *d, char *err, size_t errlen)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	size_t i;
	int ret;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		ret = evloop_signal_add(d->el, sigs[i], steerd_on_signal, d);
		if (ret) {
			snprintf(err, errlen, "signal %d: %s", sigs[i],
				 strerror(-ret));
			return ret;
		}
	}
	/* A client gone mid-answer must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int steerd_node_gossip(void *ctx, uint16_t id,
			      struct steerd_node_info *out)
{
	struct steerd *d = ctx;
	struct gossip_member_info m;

	if (gossip_member_get(steerd_gossip_node(d->gossip), id, &m))
		return -ENOENT;
	out->state = steerd_gossip_state_name(m.state);
	out->incarnation = m.incarnation;
	out->load = m.has_load ? m.load.cpu_permille : 0;
	out->fc_horizon_s = m.has_forecast ? m.forecast.horizon_s : 0;
	out->fc_cpu = m.has_forecast ? m.forecast.cpu_permille : 0;
	out->fc_cpu_hi = m.has_forecast ? m.forecast.cpu_hi : 0;
	out->drained = m.has_load && (m.load.flags & GOSSIP_LOAD_F_DRAINED);
	out->joining = m.has_load && (m.load.flags & GOSSIP_LOAD_F_JOINING);
	return 0;
}

/* What a cell runs on, from the world. */
static const struct cell_world *steerd_cell_world(const struct steerd_world *w,
						  struct cell_world *cw)
{
	cw->cluster = &w->cluster;
	cw->secret = &w->secret;
	cw->fp = w->fp;
	return cw;
}

/* Mode host and gossip: what runs beside the admin socket. */
static int steerd_modules_start(struct steerd *d, char *err, size_t errlen)
{
	const struct steerd_world *w = d->world;
	struct gossip_events ev = {0};

	if (w->conf.mode == FP_MODE_HOST) {
		d->host = host_start(d->el, w, err, errlen);
		if (!d->host)
			return -errno;
		host_gossip_events(d->host, &ev);
	} else if (w->conf.key_file[0]) {
		struct cell_opts co = {
			.conf_path = w->conf.path,
			.interface = w->conf.interface,
			.pin_dir = w->conf.pin_dir,
			.key_file = w->conf.key_file,
			.xdp_off = w->conf.xdp_off,
			.flows = steerd_flow_table_size(&w->conf)};
		struct cell_world cw;

		d->cell = cell_start(d->el, &co, steerd_cell_world(w, &cw), err,
				     errlen);
		if (!d->cell)
			return -errno;
		cell_gossip_events(d->cell, &ev);
	} else {
		/* Without a key nothing can be authenticated: no data plane,
		 * the fast path is this process's own (admin, tests). */
		log_warn(MOD, "mode cell without 'cluster-key-file': no XDP, "
			      "no cell, no gossip");
		return 0;
	}
	d->gossip = steerd_gossip_start(d->el, &w->cluster, &w->conf,
					&w->secret, &ev, err, errlen);
	if (!d->gossip)
		return -errno;
	if (d->host) {
		host_gossip_attach(d->host, d->gossip);
		d->hints = hints_new();
		if (!d->hints) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		host_close_hook(d->host, steerd_on_close, d);
		host_order_hook(d->host, steerd_on_order, d);
		d->drain.on_change = steerd_on_drain_change;
		d->drain.on_change_ctx = d;
	}
	if (d->cell)
		cell_gossip_attach(d->cell, steerd_gossip_node(d->gossip));
	struct steerd_node_provider p = {.node_info = steerd_node_gossip,
					 .ctx = d};
	steerd_node_provider_set(d, &p);
	return 0;
}

/* The HTTP server, when http-listen asks for one. */
static int steerd_http_start(struct steerd *d, char *err, size_t errlen)
{
	const struct sockaddr_storage *a = &d->world->conf.http;

	if (a->ss_family == AF_UNSPEC)
		return 0;
	d->http = httpd_new(d->el, d, a, err, errlen);
	if (!d->http)
		return -errno;
	log_info(MOD, "metrics and status page on port %u",
		 httpd_port(d->http));
	return 0;
}

int steerd_init(struct steerd *d, const struct steerd_opts *o, char *err,
		size_t errlen)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->sweep_timer = d->fc_timer = -1;
	drain_init(&d->drain);
	steerd_node_provider_set(d, NULL);
	d->cli_log_level = o->log_level;
	if (strlen(o->config) >= sizeof(d->config)) {
		snprintf(err, errlen, "%.64s...: path too long", o->config);
		return -ENAMETOOLONG;
	}
	snprintf(d->config, sizeof(d->config), "%s", o->config);
	d->world = calloc(1, sizeof(*d->world));
	if (!d->world) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ret = steerd_world_load(d->world, o->config, err, errlen);
	if (ret)
		goto fail;
	d->st.generation = 1;
	steerd_log_level_apply(d);
	if (o->admin_path && strlen(o->admin_path) >= sizeof(d->admin_path)) {
		snprintf(err, errlen, "%s: path too long for a socket",
			 o->admin_path);
		ret = -ENAMETOOLONG;
		goto fail;
	}
	snprintf(d->admin_path, sizeof(d->admin_path), "%s",
		 o->admin_path ? o->admin_path : d->world->conf.admin_socket);
	d->el = evloop_new();
	if (!d->el) {
		ret = -errno;
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		goto fail;
	}
	d->admin = admin_new(d->el, d, d->admin_path, err, errlen);
	if (!d->admin) {
		ret = -errno;
		goto fail;
	}
	ret = steerd_http_start(d, err, errlen);
	if (ret)
		goto fail;
	d->sweep_timer = evloop_timer_add(d->el, STEERD_SWEEP_MS,
					  STEERD_SWEEP_MS, steerd_on_sweep, d);
	if (d->sweep_timer < 0) {
		ret = (int)d->sweep_timer;
		snprintf(err, errlen, "sweep timer: %s", strerror(-ret));
		goto fail;
	}
	if (o->signals) {
		ret = steerd_signals_take(d, err, errlen);
		if (ret)
			goto fail;
	}
	ret = steerd_modules_start(d, err, errlen);
	if (ret)
		goto fail;
	d->nfc = node_fc_new();
	d->fc_timer = d->nfc ? evloop_timer_add(d->el, NODE_FC_PERIOD_MS,
						NODE_FC_PERIOD_MS,
						steerd_on_forecast, d)
			     : -ENOMEM;
	if (d->fc_timer < 0) {
		ret = (int)d->fc_timer;
		snprintf(err, errlen, "forecasts: %s", strerror(-ret));
		goto fail;
	}
	d->start_ms = evloop_now_ms();
	steerd_world_announce(d->world);
	return 0;
fail:
	steerd_fini(d);
	return ret;
}

int steerd_run(struct steerd *d)
{
	log_info(MOD, "steerd %s running, admin socket %s", STEERD_VERSION,
		 d->admin_path);
	return evloop_run(d->el);
}

void steerd_stop(struct steerd *d)
{
	evloop_stop(d->el);
}

void steerd_fini(struct steerd *d)
{
	/* Gossip first: the leave goes out while the fast path still
	 * steers; then the programs come off the interface and cgroup. */
	steerd_gossip_stop(d->gossip);
	d->gossip = NULL;
	drain_fini(&d->drain);
	steerd_node_provider_set(d, NULL);
	host_stop(d->host);
	d->host = NULL;
	hints_free(d->hints);
	d->hints = NULL;
	cell_stop(d->cell);
	d->cell = NULL;
	if (d->fc_timer >= 0)
		evloop_timer_del(d->el, d->fc_timer);
	d->fc_timer = -1;
	node_fc_free(d->nfc);
	d->nfc = NULL;
	httpd_free(d->http);
	d->http = NULL;
	admin_free(d->admin);
	d->admin = NULL;
	evloop_free(d->el);
	d->el = NULL;
	if (d->world) {
		steerd_world_free(d->world);
		free(d->world);
		d->world = NULL;
	}
}

/* What a reload may not change; err names the first such key. */
static int steerd_reload_check(const struct steerd *d,
			       const struct steerd_world *nw, char *err,
			       size_t errlen)
{
	const struct steerd_conf *o = &d->world->conf, *n = &nw->conf;
	const struct cluster_node *os = cluster_self(&d->world->cluster);
	const struct cluster_node *ns = cluster_self(&nw->cluster);
	const char *key = NULL;

	if (strcmp(o->admin_socket, n->admin_socket))
		key = "admin-socket";
	else if (strcmp(o->interface, n->interface))
		key = "interface";
	else if (o->gossip_port != n->gossip_port)
		key = "gossip-port";
	else if (o->mode != n->mode)
		key = "mode";
	else if (strcmp(o->key_file, n->key_file))
		key = "cluster-key-file";
	else if (strcmp(o->pin_dir, n->pin_dir))
		key = "bpf-pin-dir";
	else if (strcmp(o->cgroup, n->cgroup))
		key = "cgroup";
	else if (o->xdp_off != n->xdp_off)
		key = "xdp";
	else if (strcmp(o->cache_dir, n->cache_dir))
		key = "cache-dir";
	else if (o->cache_l1 != n->cache_l1 ||
		 o->cache_l1_min != n->cache_l1_min)
		key = "cache-l1";
	else if (o->flow_table_size != n->flow_table_size)
		key = "flow-table-size";
	else if (memcmp(&o->http, &n->http, sizeof(o->http)))
		key = "http-listen";
	if (key) {
		snprintf(err, errlen, "%s: '%s' changed: restart steerd for it",
			 n->path, key);
		return -EINVAL;
	}
	if (d->world->cluster.cell_ctl_port != nw->cluster.cell_ctl_port ||
	    d->world->cluster.repl_port != nw->cluster.repl_port) {
		snprintf(err, errlen,
			 "%s: 'cell-ports' changed: restart steerd for it (and "
			 "every node: they must agree)",
			 n->cluster_file);
		return -EINVAL;
	}
	if (os->ep.id != ns->ep.id) {
		snprintf(err, errlen,
			 "%s: this node changed from id %u to id %u: restart "
			 "steerd for it",
			 n->cluster_file, os->ep.id, ns->ep.id);
		return -EINVAL;
	}
	if (d->world->cluster.ownership != nw->cluster.ownership ||
	    d->world->cluster.dir_homes != nw->cluster.dir_homes) {
		snprintf(err, errlen,
			 "%s: 'ownership' changed: restart steerd for it (and "
			 "every node: they must agree)",
			 n->cluster_file);
		return -EINVAL;
	}
	return 0;
}

struct steerd_carry {
	struct fastpath *to;
	uint32_t now;
	uint64_t carried;
};

static int steerd_carry_one(const struct fsc_entry *e, void *arg)
{
	struct steerd_carry *c = arg;
	struct flow_key k;

	if (e->action != STEER_ACT_LOCAL && e->action != STEER_ACT_STEER)
		return 0;
	fsc_entry_key(e, &k);
	/* An owner gone from the cluster: decided again on the next packet. */
	if (!fastpath_flow_set(c->to, &k, e->owner, e->epoch, c->now))
		c->carried++;
	return 0;
}

int steerd_reload(struct steerd *d)
{
	struct steerd_world *nw = calloc(1, sizeof(*nw));
	struct steerd_carry carry = {.now = steerd_now_ms()};
	uint64_t t0 = evloop_now_ms();
	char err[sizeof(d->last_error)] = "";
	int ret;

	service_reloading();
	if (!nw) {
		ret = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	ret = steerd_world_load(nw, d->config, err, sizeof(err));
	if (!ret)
		ret = steerd_reload_check(d, nw, err, sizeof(err));
	if (ret)
		goto fail;
	if (d->cell) {
		struct cell_world cw;

		ret = cell_world_set(d->cell, steerd_cell_world(nw, &cw));
		if (ret) {
			snprintf(err, sizeof(err), "cell mode: %s",
				 strerror(-ret));
			cell_world_set(d->cell,
				       steerd_cell_world(d->world, &cw));
			goto fail;
		}
	}
	if (d->host) {
		ret = host_world_set(d->host, nw);
		if (ret) {
			snprintf(err, sizeof(err), "host mode: %s",
				 strerror(-ret));
			host_world_set(d->host, d->world);
			goto fail;
		}
	}
	carry.to = nw->fp;
	fsc_foreach(fastpath_fsc(d->world->fp), steerd_carry_one, &carry);
	steerd_world_free(d->world);
	free(d->world);
	d->world = nw;
	d->st.generation++;
	d->st.flows_carried = carry.carried;
	d->last_error[0] = '\0';
	steerd_log_level_apply(d);
	log_info(MOD,
		 "reloaded %s in %llu ms (generation %llu, %llu flows "
		 "carried)",
		 d->config, (unsigned long long)(evloop_now_ms() - t0),
		 (unsigned long long)d->st.generation,
		 (unsigned long long)carry.carried);
	steerd_world_announce(nw);
	service_ready("serving: reloaded");
	return 0;
fail:
	if (nw) {
		steerd_world_free(nw);
		free(nw);
	}
	d->st.reloads_failed++;
	snprintf(d->last_error, sizeof(d->last_error), "%s", err);
	log_err(MOD, "reload failed, keeping the running config: %s", err);
	service_ready("serving: the last reload failed, see the log");
	return ret;
}

static int steerd_node_static(void *ctx, uint16_t id,
			      struct steerd_node_info *out)
{
	out->state = "static";
	out->incarnation = 0;
	out->load = 0;
	return 0;
}

void steerd_node_provider_set(struct steerd *d,
			      const struct steerd_node_provider *p)
{
	if (p) {
		d->nodes = *p;
	} else {
		d->nodes.node_info = steerd_node_static;
		d->nodes.ctx = NULL;
	}
}

struct fastpath *steerd_fastpath(struct steerd *d)
{
	return d->world->fp;
}
