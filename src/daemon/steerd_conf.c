// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/steerd_conf.h"

#include "gossip/gossip_codec.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/conf.h"
#include "xdp/xdp_prog.h"

static const char *const level_names[] = {"error", "warn", "info", "debug",
					  NULL};
static const char *const mode_names[] = {"cell", "host", NULL};

enum {
	SEEN_CLUSTER,
	SEEN_ADMIN,
	SEEN_IFACE,
	SEEN_MODE,
	SEEN_GOSSIP,
	SEEN_KEY,
	SEEN_LEVEL,
	SEEN_PIN,
	SEEN_CGROUP,
	SEEN_XDP,
	SEEN_HWM,
	SEEN_LWM,
	SEEN_AUTO_DRAIN,
	SEEN_DRAIN_HOOK,
	SEEN_CPU_LOAD,
	SEEN_REFIT,
	SEEN_HINTS,
	SEEN_HINT_THRESHOLD,
	SEEN_HINT_TTL,
	SEEN_JOIN_WARMUP,
	SEEN_CACHE_DIR,
	SEEN_CACHE_L1,
	SEEN_CACHE_L1_MIN,
	SEEN_DRAIN_UDP,
	SEEN_FLOW_TABLE,
	SEEN_HTTP,
	SEEN__MAX
};

struct steerd_conf_ctx {
	struct steerd_conf *c;
	char dir[PATH_MAX]; /* of the steerd file, with a trailing '/' */
	unsigned int seen[SEEN__MAX]; /* line of each directive, 0: absent */
};

int steerd_log_level_parse(const char *s, enum log_level *out)
{
	int i;

	for (i = 0; level_names[i]; i++) {
		if (!strcmp(s, level_names[i])) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *steerd_log_level_name(enum log_level l)
{
	return (unsigned int)l <= LOG_DEBUG ? level_names[l] : "?";
}

const char *steerd_mode_name(enum fp_mode m)
{
	return m == FP_MODE_HOST ? "host" : "cell";
}

/* One value, once: the checks every directive here shares. */
static int steerd_once(struct steerd_conf_ctx *x, struct conf_line *l,
		       int which)
{
	if (x->seen[which])
		return conf_errorf(l, "'%s' given twice (first at line %u)",
				   l->argv[0], x->seen[which]);
	x->seen[which] = l->lineno;
	return conf_expect_nargs(l, 1);
}

/*
 * A path: absolute as it is, relative from the steerd file's directory.
 * what names the value in messages; max bounds the result with its NUL.
 */
static int steerd_path(struct steerd_conf_ctx *x, struct conf_line *l,
		       char *out, size_t max)
{
	const char *w = l->argv[1];
	int n;

	if (w[0] == '/')
		n = snprintf(out, max, "%s", w);
	else
		n = snprintf(out, max, "%s%s", x->dir, w);
	if (n < 0 || (size_t)n >= max)
		return conf_expect(l, l->argv[0], "a shorter path", w);
	return 0;
}

static int h_cluster_file(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;

	return steerd_once(x, l, SEEN_CLUSTER)
		       ?: steerd_path(x, l, x->c->cluster_file,
				      sizeof(x->c->cluster_file));
}

static int h_admin_socket(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int ret = steerd_once(x, l, SEEN_ADMIN);

	if (ret)
		return ret;
	ret = steerd_path(x, l, x->c->admin_socket, sizeof(x->c->admin_socket));
	if (ret)
		return conf_expect(l, "admin-socket",
				   "a path of at most 107 bytes", l->argv[1]);
	return 0;
}

static int h_interface(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	const char *w;
	int ret = steerd_once(x, l, SEEN_IFACE);

	if (ret)
		return ret;
	w = l->argv[1];
	/* The kernel's dev_valid_name(): no '/', ':', white space, '.' or
	 * '..' alone. */
	if (strlen(w) >= STEERD_IFNAME_MAX || strpbrk(w, "/: \t\n\v\f\r") ||
	    !strcmp(w, ".") || !strcmp(w, ".."))
		return conf_expect(l, "interface",
				   "an interface name of at most 15 bytes", w);
	strcpy(x->c->interface, w);
	return 0;
}

static int h_mode(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int m, ret = steerd_once(x, l, SEEN_MODE);

	if (ret)
		return ret;
	ret = conf_parse_enum(l, "mode", l->argv[1], mode_names, &m);
	if (!ret)
		x->c->mode = m ? FP_MODE_HOST : FP_MODE_CELL;
	return ret;
}

static int h_gossip_port(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t port;
	int ret = steerd_once(x, l, SEEN_GOSSIP);

	if (ret)
		return ret;
	ret = conf_parse_u32(l, "gossip-port", l->argv[1], 1, 65535, &port);
	if (!ret)
		x->c->gossip_port = (uint16_t)port;
	return ret;
}

static int h_key_file(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;

	return steerd_once(x, l, SEEN_KEY)
		       ?: steerd_path(x, l, x->c->key_file,
				      sizeof(x->c->key_file));
}

static int h_log_level(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int lvl, ret = steerd_once(x, l, SEEN_LEVEL);

	if (ret)
		return ret;
	ret = conf_parse_enum(l, "log-level", l->argv[1], level_names, &lvl);
	if (!ret) {
		x->c->log_level = (enum log_level)lvl;
		x->c->has_log_level = 1;
	}
	return ret;
}

/* A path on the bpf filesystem: absolute, under /sys/fs/bpf/. */
static int h_bpf_pin_dir(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int ret = steerd_once(x, l, SEEN_PIN);

	if (ret)
		return ret;
	if (strncmp(l->argv[1], "/sys/fs/bpf/", 12) || strstr(l->argv[1], ".."))
		return conf_expect(l, "bpf-pin-dir",
				   "a directory under /sys/fs/bpf/",
				   l->argv[1]);
	return steerd_path(x, l, x->c->pin_dir, sizeof(x->c->pin_dir));
}

static int h_cgroup(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int ret = steerd_once(x, l, SEEN_CGROUP);

	if (ret)
		return ret;
	if (l->argv[1][0] != '/')
		return conf_expect(l, "cgroup", "an absolute path", l->argv[1]);
	return steerd_path(x, l, x->c->cgroup, sizeof(x->c->cgroup));
}

static int h_xdp(struct conf_line *l, void *ctx)
{
	static const char *const names[] = {"on", "off", NULL};
	struct steerd_conf_ctx *x = ctx;
	int v, ret = steerd_once(x, l, SEEN_XDP);

	if (ret)
		return ret;
	ret = conf_parse_enum(l, "xdp", l->argv[1], names, &v);
	if (!ret)
		x->c->xdp_off = v == 1;
	return ret;
}

static int h_high_water(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_once(x, l, SEEN_HWM);

	if (ret)
		return ret;
	ret = conf_parse_u32(l, "high-water", l->argv[1], 1, 1000, &v);
	if (!ret)
		x->c->high_water = (uint16_t)v;
	return ret;
}

static int h_low_water(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_once(x, l, SEEN_LWM);

	if (ret)
		return ret;
	ret = conf_parse_u32(l, "low-water", l->argv[1], 0, 999, &v);
	if (!ret)
		x->c->low_water = (uint16_t)v;
	return ret;
}

static int h_auto_drain(struct conf_line *l, void *ctx)
{
	static const char *const names[] = {"off", "on", NULL};
	struct steerd_conf_ctx *x = ctx;
	int v, ret = steerd_once(x, l, SEEN_AUTO_DRAIN);

	if (ret)
		return ret;
	ret = conf_parse_enum(l, "auto-drain", l->argv[1], names, &v);
	if (!ret)
		x->c->auto_drain = v == 1;
	return ret;
}

/* An absolute path to a program this daemon may run. */
static int h_drain_hook(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int ret = steerd_once(x, l, SEEN_DRAIN_HOOK);

	if (ret)
		return ret;
	if (l->argv[1][0] != '/')
		return conf_expect(l, "drain-hook", "an absolute path",
				   l->argv[1]);
	ret = steerd_path(x, l, x->c->drain_hook, sizeof(x->c->drain_hook));
	if (!ret && access(x->c->drain_hook, X_OK))
		return conf_errorf(l, "drain-hook '%s': %s", l->argv[1],
				   strerror(errno));
	return ret;
}

static int h_cpu_load(struct conf_line *l, void *ctx)
{
	static const char *const names[] = {"machine", "cgroup", NULL};
	struct steerd_conf_ctx *x = ctx;
	int v, ret = steerd_once(x, l, SEEN_CPU_LOAD);

	if (ret)
		return ret;
	ret = conf_parse_enum(l, "cpu-load", l->argv[1], names, &v);
	if (!ret)
		x->c->cpu_of_cgroup = v == 1;
	return ret;
}

static int h_forecast_refit(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_once(x, l, SEEN_REFIT);

	if (ret)
		return ret;
	ret = conf_parse_u32(l, "forecast-refit", l->argv[1], 1, 60, &v);
	if (!ret)
		x->c->forecast_refit = v;
	return ret;
}

static int h_hints(struct conf_line *l, void *ctx)
{
	static const char *const names[] = {"off", "on", NULL};
	struct steerd_conf_ctx *x = ctx;
	int v, ret = steerd_once(x, l, SEEN_HINTS);

	if (!ret)
		ret = conf_parse_enum(l, "hints", l->argv[1], names, &v);
	if (!ret)
		x->c->hints = v == 1;
	return ret;
}

/* A number within bounds, once, into a uint32_t or uint16_t field. */
static int steerd_num(struct steerd_conf_ctx *x, struct conf_line *l, int which,
		      uint32_t lo, uint32_t hi, uint32_t *v)
{
	int ret = steerd_once(x, l, which);

	return ret ?: conf_parse_u32(l, l->argv[0], l->argv[1], lo, hi, v);
}

static int h_hint_threshold(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_num(x, l, SEEN_HINT_THRESHOLD, 1, 1000, &v);

	if (!ret)
		x->c->hint_threshold = (uint16_t)v;
	return ret;
}

static int h_hint_ttl(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_num(x, l, SEEN_HINT_TTL, 2, GOSSIP_HINT_TTL_MAX, &v);

	if (!ret)
		x->c->hint_ttl_s = (uint16_t)v;
	return ret;
}

static int h_join_warmup(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_num(x, l, SEEN_JOIN_WARMUP, 0, STEERD_JOIN_WARMUP_MAX,
			     &v);

	if (!ret)
		x->c->join_warmup_s = (uint16_t)v;
	return ret;
}

static int h_cache_dir(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;

	return steerd_once(x, l, SEEN_CACHE_DIR)
		       ?: steerd_path(x, l, x->c->cache_dir,
				      sizeof(x->c->cache_dir));
}

static int h_cache_l1(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;

	return steerd_num(x, l, SEEN_CACHE_L1, 1, 1u << 20, &x->c->cache_l1);
}

static int h_cache_l1_min(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	uint32_t v;
	int ret = steerd_num(x, l, SEEN_CACHE_L1_MIN, 1, 1000, &v);

	if (!ret)
		x->c->cache_l1_min = (uint16_t)v;
	return ret;
}

static int h_drain_udp(struct conf_line *l, void *ctx)
{
	static const char *const names[] = {"keep", "move", NULL};
	struct steerd_conf_ctx *x = ctx;
	int v, ret = steerd_once(x, l, SEEN_DRAIN_UDP);

	if (!ret)
		ret = conf_parse_enum(l, "drain-udp", l->argv[1], names, &v);
	if (!ret)
		x->c->drain_udp_move = v == 1;
	return ret;
}

static int h_flow_table(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;

	if (l->argc == 2 && !strcmp(l->argv[1], "auto")) {
		x->c->flow_table_size = 0;
		return steerd_once(x, l, SEEN_FLOW_TABLE);
	}
	return steerd_num(x, l, SEEN_FLOW_TABLE, STEERD_FLOW_TABLE_MIN,
			  STEERD_FLOW_TABLE_MAX, &x->c->flow_table_size);
}

uint32_t steerd_flow_table_auto(uint64_t mem_bytes)
{
	unsigned long long kb = 0;
	char line[128];
	uint64_t n;
	FILE *f;

	if (!mem_bytes && (f = fopen("/proc/meminfo", "r"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				break;
		fclose(f);
		mem_bytes = (uint64_t)kb * 1024;
	}
	n = mem_bytes / 64 / STEERD_FLOW_BYTES;
	if (n < STEERD_FLOW_TABLE_FLOOR)
		n = STEERD_FLOW_TABLE_FLOOR;
	if (n > STEERD_FLOW_TABLE_CEIL)
		n = STEERD_FLOW_TABLE_CEIL;
	return (uint32_t)n;
}

int steerd_state_dir(const struct steerd_conf *c, char *out, size_t len)
{
	int n;

	if (c->cache_dir[0]) {
		n = snprintf(out, len, "%s", c->cache_dir);
	} else if (!c->interface[0]) {
		return -ENOENT;
	} else {
		if (mkdir(STEERD_CACHE_DIR_ROOT, 0755) && errno != EEXIST)
			return -errno;
		n = snprintf(out, len, "%s/%s", STEERD_CACHE_DIR_ROOT,
			     c->interface);
	}
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (mkdir(out, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

uint32_t steerd_flow_table_size(const struct steerd_conf *c)
{
	return c->flow_table_size ? c->flow_table_size
				  : steerd_flow_table_auto(0);
}

/* ADDR:PORT or [ADDR6]:PORT; port 0: the kernel picks one (steerd logs
 * it). */
static int steerd_http_addr(const char *w, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	const char *colon = strrchr(w, ':');
	char host[INET6_ADDRSTRLEN + 2];
	size_t hl = colon ? (size_t)(colon - w) : 0;
	char *end;
	unsigned long port;

	if (!colon || !hl || hl >= sizeof(host) || !colon[1])
		return -EINVAL;
	port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || colon[1] == '+' || colon[1] == '-')
		return -EINVAL;
	memcpy(host, w, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &s6->sin6_addr) == 1
			       ? 0
			       : -EINVAL;
	}
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &s4->sin_addr) == 1 ? 0 : -EINVAL;
}

static int h_http_listen(struct conf_line *l, void *ctx)
{
	struct steerd_conf_ctx *x = ctx;
	int ret = steerd_once(x, l, SEEN_HTTP);

	if (ret)
		return ret;
	if (!strcmp(l->argv[1], "off")) {
		x->c->http.ss_family = AF_UNSPEC;
		return 0;
	}
	if (steerd_http_addr(l->argv[1], &x->c->http))
		return conf_expect(l, "http-listen",
				   "off, ADDR:PORT or [ADDR6]:PORT",
				   l->argv[1]);
	return 0;
}

static const struct conf_directive steerd_directives[] = {
	{"cluster-file", h_cluster_file, "PATH: the cluster description"},
	{"admin-socket", h_admin_socket,
	 "PATH: the admin socket (" STEERD_ADMIN_SOCKET_DEFAULT ")"},
	{"interface", h_interface, "IFNAME: the fabric interface"},
	{"mode", h_mode, "cell|host: who owns new flows (cell)"},
	{"gossip-port", h_gossip_port, "PORT: UDP port of the gossip (6091)"},
	{"cluster-key-file", h_key_file,
	 "PATH: the 32-byte cluster key (raw or 64 hex digits)"},
	{"log-level", h_log_level, "error|warn|info|debug (info)"},
	{"bpf-pin-dir", h_bpf_pin_dir,
	 "PATH: where the BPF maps are pinned (" XDP_PROG_PIN_ROOT "/IFNAME)"},
	{"cgroup", h_cgroup,
	 "PATH: cgroup v2 of the node's servers (the cgroup2 mount)"},
	{"xdp", h_xdp,
	 "on|off: attach the fast path (on); off keeps gossip and "
	 "sessions, steering nothing"},
	{"high-water", h_high_water,
	 "PERMILLE: forecast CPU or memory load past which a node's "
	 "sessions score as likely to migrate (800)"},
	{"low-water", h_low_water,
	 "PERMILLE: forecast load at or below which a node drained by its "
	 "forecast comes back (high-water - 200)"},
	{"auto-drain", h_auto_drain,
	 "on|off: drain this node when its forecast passes the high-water "
	 "mark (off)"},
	{"drain-hook", h_drain_hook,
	 "PATH: run as 'PATH drain|undrain ID NAME WHY' when this node "
	 "leaves or rejoins the ingress set"},
	{"cpu-load", h_cpu_load,
	 "machine|cgroup: a node's CPU load is the machine's (machine), or "
	 "what its servers' cgroup uses of the machine's CPUs"},
	{"forecast-refit", h_forecast_refit,
	 "SAMPLES: the load forecasts are refit, and published, every "
	 "SAMPLES seconds (10)"},
	{"hints", h_hints,
	 "on|off: hint this node's sessions likely to migrate to the "
	 "nodes likely to receive them (on)"},
	{"hint-threshold", h_hint_threshold,
	 "PERMILLE: a session's migration score from which it is hinted "
	 "(300)"},
	{"hint-ttl", h_hint_ttl,
	 "SECONDS: how long a hint lives at its receivers (30)"},
	{"join-warmup", h_join_warmup,
	 "SECONDS: an undrained node tells the others it joins and waits "
	 "this long for their hints before it rejoins the ingress set (3; "
	 "0: at once)"},
	{"cache-dir", h_cache_dir,
	 "PATH: the header cache's second level, on disk "
	 "(" STEERD_CACHE_DIR_ROOT "/IFNAME)"},
	{"cache-l1", h_cache_l1,
	 "N: hinted sessions the header cache keeps in the fast path "
	 "(16384)"},
	{"cache-l1-min", h_cache_l1_min,
	 "PERMILLE: a hint's probability from which it is kept in the "
	 "fast path, not only on disk (500)"},
	{"drain-udp", h_drain_udp,
	 "keep|move: a drained node's UDP sessions stay its own (keep), or "
	 "move to the node with the most forecast headroom (move: for "
	 "services whose UDP state the server does not hold)"},
	{"flow-table-size", h_flow_table,
	 "N|auto: entries of each flow table, the XDP program's (IPv4, IPv6) "
	 "and a cell's (auto: 1/64 of the machine's memory at 256 bytes a "
	 "flow, 1 Mi to 16 Mi; a restart applies a change)"},
	{"http-listen", h_http_listen,
	 "off|ADDR:PORT|[ADDR6]:PORT: serve Prometheus metrics (/metrics) "
	 "and the status page (/) there (off; keep it on loopback or a "
	 "management network: it has no authentication)"},
	{NULL, NULL, NULL},
};

static void steerd_conf_defaults(struct steerd_conf *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	strcpy(c->admin_socket, STEERD_ADMIN_SOCKET_DEFAULT);
	c->mode = FP_MODE_CELL;
	c->gossip_port = STEERD_GOSSIP_PORT_DEFAULT;
	c->log_level = LOG_INFO;
	c->high_water = STEERD_HIGH_WATER_DEFAULT;
	c->forecast_refit = STEERD_FORECAST_REFIT_DEFAULT;
	c->hints = true;
	c->hint_threshold = STEERD_HINT_THRESHOLD_DEFAULT;
	c->hint_ttl_s = STEERD_HINT_TTL_DEFAULT;
	c->join_warmup_s = STEERD_JOIN_WARMUP_DEFAULT;
	c->cache_l1 = PHC_L1_DEFAULT;
	c->cache_l1_min = PHC_L1_MIN_DEFAULT;
}

static void steerd_conf_dir(struct steerd_conf_ctx *x, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;

	if (n >= sizeof(x->dir))
		n = 0;
	memcpy(x->dir, path, n);
	x->dir[n] = '\0';
}

static int steerd_conf_any(struct steerd_conf *c, const char *path,
			   const char *text, size_t len, char *err,
			   size_t errlen)
{
	struct steerd_conf_ctx x = {.c = c};
	int ret;

	steerd_conf_defaults(c, path);
	steerd_conf_dir(&x, path);
	if (text)
		ret = conf_parse_buf(path, text, len, steerd_directives, &x,
				     err, errlen);
	else
		ret = conf_parse_file(path, steerd_directives, &x, err, errlen);
	if (ret)
		return ret;
	if (!x.seen[SEEN_LWM])
		c->low_water = c->high_water > 200 ? c->high_water - 200 : 0;
	if (c->low_water >= c->high_water) {
		snprintf(err, errlen,
			 "%s:%u: low-water %u is not below high-water %u", path,
			 x.seen[SEEN_LWM], c->low_water, c->high_water);
		return -EINVAL;
	}
	if (c->cpu_of_cgroup && !c->cgroup[0]) {
		snprintf(err, errlen,
			 "%s:%u: cpu-load cgroup needs a 'cgroup' directive",
			 path, x.seen[SEEN_CPU_LOAD]);
		return -EINVAL;
	}
	if (!x.seen[SEEN_CLUSTER]) {
		snprintf(err, errlen, "%s: no 'cluster-file' directive", path);
		return -EINVAL;
	}
	return 0;
}

int steerd_conf_load(struct steerd_conf *c, const char *path, char *err,
		     size_t errlen)
{
	return steerd_conf_any(c, path, NULL, 0, err, errlen);
}

int steerd_conf_load_buf(struct steerd_conf *c, const char *path,
			 const char *text, size_t len, char *err, size_t errlen)
{
	return steerd_conf_any(c, path, text ? text : "", len, err, errlen);
}
