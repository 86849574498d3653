/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerd: one daemon per node. It reads its config and the cluster
 * description, builds the fast path of this node, and runs the event loop
 * that carries the admin socket, the flow-state cache expiry sweep, and
 * the signals: SIGINT/SIGTERM stop it cleanly, SIGHUP reloads the config.
 *
 * Everything built from one config is a "world": the parsed files, the
 * flow-hash secret and the fast path. A reload builds a whole new world
 * first and swaps it in only when every step succeeded, so a bad new
 * config leaves the running one untouched. Flows the old fast path had
 * cached with an owner (LOCAL or STEER) are carried into the new one
 * with their owner and epoch, so a reload never moves a flow; flows sent
 * to a backend are decided again on their next packet (Maglev keeps most
 * on the same backend).
 *
 * Mode host adds the host module (XDP fast path, sock_ops session
 * events, the flows of other nodes' sessions: daemon/host.h) and gossip
 * (daemon/steerd_gossip.h), which then provides the nodes' state. Gossip
 * also runs in cell mode when a cluster key is given.
 */
#ifndef STEER_STEERD_H
#define STEER_STEERD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <steer/hash.h>

#include "daemon/drain.h"
#include "daemon/steerd_conf.h"
#include "core/cluster.h"
#include "fastpath/fastpath.h"
#include "util/evloop.h"
#include "util/version.h"

#define STEERD_VERSION STEER_VERSION
#define STEERD_SWEEP_MS 100 /* FSC expiry sweep period */

struct steerd_world {
	struct steerd_conf conf;
	struct cluster cluster;
	struct steer_hash_secret secret;
	bool keyed; /* secret from the cluster key, not the cluster name */
	struct fastpath *fp;
};

/*
 * What the gossip knows about a node. state is a static string ("alive",
 * "suspect", "dead", ...); until gossip plugs in, every node reads
 * "static", incarnation 0, load 0.
 */
struct steerd_node_info {
	const char *state;
	uint64_t incarnation;
	uint32_t load; /* the node's own load report, 0..1000 per mille */
	/* Its forecast of its CPU load `fc_horizon_s` ahead, mean and the
	 * 95% interval's upper end, per mille (fc_horizon_s 0: none). */
	uint32_t fc_horizon_s, fc_cpu, fc_cpu_hi;
	bool drained; /* out of the ingress set, as its load reports say */
	bool joining; /* drained, warming up to rejoin it */
};

struct steerd_node_provider {
	/* 0 with *out filled, or -ENOENT when id is unknown to it. */
	int (*node_info)(void *ctx, uint16_t id, struct steerd_node_info *out);
	void *ctx;
};

struct steerd_opts {
	const char *config;	/* the steerd file */
	int log_level;		/* from the command line; -1: the file's */
	bool signals;		/* take SIGINT, SIGTERM, SIGHUP */
	const char *admin_path; /* override of admin-socket (tests); NULL */
};

struct steerd_stats {
	uint64_t generation; /* worlds loaded, the first included */
	uint64_t reloads_failed;
	uint64_t expired;	/* FSC entries freed by the sweep */
	uint64_t flows_carried; /* by the last reload */
};

struct admin;
struct httpd;
struct host;
struct cell;
struct steerd_gossip;

struct node_fc;

struct steerd {
	struct evloop *el;
	struct steerd_world *world;
	struct admin *admin;
	struct httpd *http; /* http-listen: metrics, status page; NULL */
	int64_t sweep_timer;
	char config[PATH_MAX];
	int cli_log_level; /* -1: none */
	char admin_path[STEERD_SUN_PATH_MAX];
	uint64_t start_ms;
	struct steerd_stats st;
	char last_error[512]; /* of the last failed reload */
	struct steerd_node_provider nodes;
	struct host *host; /* mode host: XDP, sock_ops, sessions */
	struct cell *cell; /* mode cell (with a key): XDP, exceptions */
	struct steerd_gossip *gossip; /* with a cluster key, or mode host */
	struct node_fc *nfc;	      /* this node's load series, forecasts */
	int64_t fc_timer;
	struct drain drain;  /* host mode: out of the ingress set? */
	struct hints *hints; /* host mode: migration hints sent */
};

/* Host mode: drain this node (why) or undrain it (DRAIN_NONE), gossip
 * told. 0, -EALREADY, -EOPNOTSUPP in cell mode. */
int steerd_drain(struct steerd *d, enum drain_why why);

/*
 * Load and build a world from the steerd file at path. Returns 0, or a
 * negative errno with the reason in err: -EINVAL for a bad steerd file,
 * cluster description or key file ("FILE:LINE: ..." where there is a
 * line), the errno of reading a file, or of building the fast path.
 * On failure w is left empty and steerd_world_free() is safe.
 */
int steerd_world_load(struct steerd_world *w, const char *path, char *err,
		      size_t errlen);
void steerd_world_free(struct steerd_world *w);

/*
 * Start the daemon: load the world, create the loop, open the admin
 * socket, arm the sweep and, with o->signals, take the signals. Returns
 * 0; -EINVAL for a config error (err has "FILE:LINE: ..."); another
 * negative errno when a resource cannot be had (err says which). On
 * failure everything is released and d may be passed to steerd_fini().
 */
int steerd_init(struct steerd *d, const struct steerd_opts *o, char *err,
		size_t errlen);

/* Run the loop until SIGINT/SIGTERM or steerd_stop(). 0 or -errno. */
int steerd_run(struct steerd *d);
void steerd_stop(struct steerd *d);

/*
 * Read the config again and swap the new world in. Returns 0, or a
 * negative errno with the old world kept, the reason logged and kept in
 * d->last_error. Keys that need a restart (admin-socket, interface,
 * gossip-port, mode) must not change: a reload changing one fails.
 */
int steerd_reload(struct steerd *d);

/* Close the socket (removing its file), free the world and the loop. */
void steerd_fini(struct steerd *d);

/* Replace the node provider (gossip); NULL restores the static one. */
void steerd_node_provider_set(struct steerd *d,
			      const struct steerd_node_provider *p);

/* The fast path in force; for the admin socket and for tests. */
struct fastpath *steerd_fastpath(struct steerd *d);

/* The daemon's clock for the fast path: CLOCK_MONOTONIC ms, wrapping. */
uint32_t steerd_now_ms(void);

#endif /* STEER_STEERD_H */
