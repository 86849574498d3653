/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerd's own config file, in the conf syntax (util/conf.h):
 *
 *   cluster-file cluster.conf        (required; the cluster description)
 *   admin-socket /run/steer/steerd.sock
 *   interface eth0                   (the fabric interface; XDP attaches here)
 *   mode cell                        (cell | host)
 *   gossip-port 6091                 (UDP; 6091: see cluster.h's ports)
 *   cluster-key-file /etc/steer/cluster.key
 *   log-level info                   (error | warn | info | debug)
 *   bpf-pin-dir /sys/fs/bpf/steer/eth0  (maps that outlive a crash)
 *   cgroup /sys/fs/cgroup            (host mode: where the servers run)
 *   xdp on                           (off: a host that steers nothing)
 *   high-water 800                   (permille: forecast load called high)
 *   low-water 600                    (permille: low again; high-water - 200)
 *   auto-drain off                   (on: drain past the high-water mark)
 *   drain-hook /etc/steer/drain      (run on drain/undrain: daemon/drain.h)
 *   cpu-load machine                 (cgroup: the CPU the 'cgroup' uses)
 *   forecast-refit 10                (samples, 1 a second, between refits)
 *   hints on                         (host mode: hint sessions likely to move)
 *   hint-threshold 300               (permille: the score that is hinted)
 *   hint-ttl 30                      (seconds a hint lives)
 *   cache-dir /var/lib/steer/eth0    (the header cache's L2, LMDB)
 *   cache-l1 16384                   (hinted sessions in the fast path)
 *   cache-l1-min 500                 (permille: L1 from this probability)
 *   drain-udp keep                   (move: a drained node's UDP sessions
 *                                     go to the node with most headroom)
 *   http-listen 127.0.0.1:9646       (metrics and status page; off)
 *
 * Why two files: the cluster description is the same text on every node
 * but its 'self' line, and steer-replay reads it as it is, so steerd points
 * at it instead of repeating it; the daemon's keys (a socket path, an
 * interface, a key file) mean nothing to a replay. Parsing one file with
 * both tables is not possible without weakening both: the conf reader
 * rejects unknown directives, which is what catches typos.
 *
 * Relative paths (cluster-file, cluster-key-file, admin-socket) are taken
 * from the directory of the steerd file, so a config and its cluster
 * description can move together. Each directive may appear once.
 */
#ifndef STEER_STEERD_CONF_H
#define STEER_STEERD_CONF_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "fastpath/fastpath.h"
#include "gossip/gossip_codec.h"
#include "node/phc.h"
#include "util/log.h"

#define STEERD_ADMIN_SOCKET_DEFAULT "/run/steer/steerd.sock"
/* Not 7946, serf's and memberlist's: see CLUSTER_CELL_CTL_PORT_DEFAULT. */
#define STEERD_GOSSIP_PORT_DEFAULT GOSSIP_PORT
#define STEERD_SUN_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define STEERD_IFNAME_MAX 16	/* IFNAMSIZ */

struct steerd_conf {
	char path[PATH_MAX];			/* this file, as given */
	char cluster_file[PATH_MAX];		/* resolved */
	char admin_socket[STEERD_SUN_PATH_MAX]; /* resolved, NUL-terminated */
	char interface[STEERD_IFNAME_MAX];	/* "": none (userspace only) */
	enum fp_mode mode;
	uint16_t gossip_port;	 /* host order */
	char key_file[PATH_MAX]; /* resolved; "": none */
	enum log_level log_level;
	int has_log_level;	/* log-level was given */
	char pin_dir[PATH_MAX]; /* "": XDP_PROG_PIN_ROOT/<interface> */
	char cgroup[PATH_MAX];	/* "": the first cgroup2 mount */
	bool xdp_off;		/* run without the XDP program */
	uint16_t high_water;	/* permille of CPU and memory a node's forecast
				   may reach before its sessions score as
				   leaving (steerctl migrations) */
	uint16_t low_water;	/* permille: below it, a node drained by its
				   forecast comes back */
	bool auto_drain;	/* drain past the high-water mark */
	char drain_hook[PATH_MAX]; /* "": none */
	bool cpu_of_cgroup;	   /* the node's CPU load: its cgroup's */
	uint32_t forecast_refit;   /* samples between the forecasts' refits */
	bool hints;		   /* host mode: send migration hints */
	uint16_t hint_threshold;   /* permille */
	uint16_t hint_ttl_s;
	uint16_t join_warmup_s;	  /* undrained: hinted this long first */
	char cache_dir[PATH_MAX]; /* "": STEERD_CACHE_DIR_ROOT/<interface> */
	uint32_t cache_l1;
	uint16_t cache_l1_min;	      /* permille */
	bool drain_udp_move;	      /* drained: UDP sessions to the target */
	uint32_t flow_table_size;     /* entries per flow table; 0: auto */
	struct sockaddr_storage http; /* AF_UNSPEC: no HTTP server */
};

/*
 * Flow tables: the XDP program's (IPv4 and IPv6, each preallocated, about
 * 200 bytes of kernel memory per entry for the two) and a cell's flow
 * table (104 bytes an entry) hold flow-table-size entries each. 'auto'
 * (the default) gives them 1/64 of the machine's memory at
 * STEERD_FLOW_BYTES a flow, at least STEERD_FLOW_TABLE_FLOOR and at most
 * STEERD_FLOW_TABLE_CEIL (24 GiB: 1,572,864 flows). A full table refuses
 * new entries (counted); no entry is evicted to make room.
 */
#define STEERD_FLOW_TABLE_MIN 1024u
#define STEERD_FLOW_TABLE_MAX (1u << 26)
#define STEERD_FLOW_TABLE_FLOOR (1u << 20)
#define STEERD_FLOW_TABLE_CEIL (1u << 24)
#define STEERD_FLOW_BYTES 256u

/*
 * This node's state directory (the header cache's files, the replay
 * windows): cache-dir, or STEERD_CACHE_DIR_ROOT/<interface>, made (0700)
 * when missing. 0, -ENOENT without either, -errno.
 */
int steerd_state_dir(const struct steerd_conf *c, char *out, size_t len);

/* auto's size for a machine of mem_bytes (0: read /proc/meminfo). */
uint32_t steerd_flow_table_auto(uint64_t mem_bytes);
/* The size c asks for, auto resolved. */
uint32_t steerd_flow_table_size(const struct steerd_conf *c);

#define STEERD_HINT_THRESHOLD_DEFAULT 300
#define STEERD_HINT_TTL_DEFAULT 30
#define STEERD_JOIN_WARMUP_DEFAULT 3
#define STEERD_JOIN_WARMUP_MAX 60
#define STEERD_CACHE_DIR_ROOT "/var/lib/steer"

#define STEERD_FORECAST_REFIT_DEFAULT 10

#define STEERD_HIGH_WATER_DEFAULT 800

/*
 * Read the steerd file at path into c (defaults for what it leaves out).
 * Returns 0; -EINVAL with "FILE:LINE: ..." in err for a bad file (a
 * missing cluster-file is reported at line 0 as "FILE: no 'cluster-file'
 * directive"); the negative errno of open/read with "PATH: strerror".
 * c is fully written in every case.
 */
int steerd_conf_load(struct steerd_conf *c, const char *path, char *err,
		     size_t errlen);

/* The same from len bytes of text; path names it and anchors paths. */
int steerd_conf_load_buf(struct steerd_conf *c, const char *path,
			 const char *text, size_t len, char *err,
			 size_t errlen);

/* "error", "warn", "info", "debug" → level; -EINVAL for anything else. */
int steerd_log_level_parse(const char *s, enum log_level *out);
const char *steerd_log_level_name(enum log_level l);
const char *steerd_mode_name(enum fp_mode m);

#endif /* STEER_STEERD_CONF_H */
