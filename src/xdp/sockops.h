/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sock_ops program's life cycle (bpf/steer_sockops.bpf.c): load it
 * with its maps pinned in a directory (bpf_pin.h), attach it to the
 * cgroup the node's servers run in, detach and unpin.
 *
 * It is attached as one of many (BPF_F_ALLOW_MULTI), so it coexists with
 * other sock_ops programs. A daemon killed without detaching leaves its
 * program attached and counting: the next start attaches its own first
 * and then detaches every stale steer_sockops of the cgroup, so no
 * connection goes unseen in between (one seen twice is harmless: the
 * daemon's session table is keyed by flow).
 */
#ifndef STEER_SOCKOPS_H
#define STEER_SOCKOPS_H

#include "steer_kern_user.h"

#define SOCKOPS_PROG_NAME "steer_sockops"

struct sockops;

/*
 * Load the program (nothing attached). pin_dir NULL: no pins. NULL with
 * errno set: EPERM without the privileges, EINVAL for a verifier
 * rejection, ENOMEM.
 */
struct sockops *sockops_open(const char *pin_dir);

/*
 * Attach to the cgroup v2 directory at path and detach stale steer
 * programs from it. -ENOENT for a missing cgroup, -EALREADY when
 * attached, -errno of the kernel otherwise (EPERM: an exclusive program
 * holds the cgroup).
 */
int sockops_attach(struct sockops *s, const char *cgroup_path);

/* Detach and unpin; 0 when not attached. */
int sockops_detach(struct sockops *s);

/* Detach if attached, then free everything. NULL is fine. */
void sockops_close(struct sockops *s);

/* steer_socks (live sessions), steer_sock_ev (the ring), steer_sock_st. */
int sockops_map_fd(const struct sockops *s, const char *name);

/*
 * Every live session of steer_socks with its telemetry, read in batches
 * (one system call per SOCKOPS_BATCH sessions). fn returns 0 to go on.
 * Returns what fn returned to stop, 0, or -errno. A session opened or
 * closed meanwhile may be missed or seen twice.
 */
#define SOCKOPS_BATCH 1024
typedef int (*sockops_sess_fn)(const struct flow_key *k,
			       const struct steer_sock_tele *t, void *arg);
int sockops_sessions_foreach(struct sockops *s, sockops_sess_fn fn, void *arg);

/* The tally summed over the CPUs; 0 or -errno. */
int sockops_stats_read(struct sockops *s, struct steer_sock_stats *sum);

#endif /* STEER_SOCKOPS_H */
