/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The XDP fast path's life cycle: load bpf/steer_xdp.bpf.c (libbpf
 * skeleton) with its maps pinned in a directory (bpf_pin.h), attach it to
 * an interface (native mode, generic as a fallback), detach and unpin.
 * A daemon killed without detaching leaves its program working on the
 * interface and its maps pinned: the next start reuses the maps (flows,
 * counters, queued events) and swaps its program in for the stale one
 * in one step (XDP_FLAGS_REPLACE), so the fast path never stops. A
 * foreign XDP program on the interface is left alone (-EBUSY).
 */
#ifndef STEER_XDP_PROG_H
#define STEER_XDP_PROG_H

#include <stdint.h>

#define XDP_PROG_PIN_ROOT "/sys/fs/bpf/steer" /* default: <root>/<ifname> */
#define XDP_PROG_NAME "steer_xdp" /* how a stale program is recognised */

struct xdp_prog_opts {
	const char *pin_dir; /* NULL: maps are not pinned */
	uint32_t max_flows;  /* steer_flows entries; 0: STEER_XDP_MAX_FLOWS */
	uint32_t max_tmpls;  /* steer_tmpls entries; 0: STEER_XDP_MAX_TMPLS */
};

struct xdp_prog;

/*
 * Open and load the program and its maps (nothing attached). NULL with
 * errno set: EPERM without the privileges, EINVAL for a verifier
 * rejection (the log says why), ENOMEM.
 */
struct xdp_prog *xdp_prog_open(const struct xdp_prog_opts *opts);

/*
 * Attach to ifindex, native mode first, generic if the driver has none
 * (logged). Replaces a steer program already there (a crashed run);
 * -EBUSY when another XDP program is attached, -EALREADY when this one
 * is attached somewhere, -ENODEV for a bad ifindex, -errno of the kernel
 * otherwise.
 */
int xdp_prog_attach(struct xdp_prog *x, int ifindex);

/* Detach and unpin; 0 when nothing was attached. */
int xdp_prog_detach(struct xdp_prog *x);

/* Detach if attached, then free everything. NULL is fine. */
void xdp_prog_close(struct xdp_prog *x);

/* The program's fd (BPF_PROG_TEST_RUN, bpftool), and the map fds. */
int xdp_prog_fd(const struct xdp_prog *x);
int xdp_prog_map_fd(const struct xdp_prog *x, const char *map_name);

/* Interface attached to (0: none), and whether generic mode was used. */
int xdp_prog_ifindex(const struct xdp_prog *x);
int xdp_prog_is_generic(const struct xdp_prog *x);

/*
 * Remove a steer program left on ifname and the pins in pin_dir (NULL:
 * none) by a run that did not detach. 0 also when there was nothing;
 * -EBUSY when the attached program is not steer's.
 */
int xdp_prog_cleanup_stale(const char *pin_dir, const char *ifname);

#endif /* STEER_XDP_PROG_H */
