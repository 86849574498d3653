/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pinned maps that outlive the daemon. A loader names a directory on the
 * bpf filesystem; every map of its object is pinned there by name, and a
 * later load reuses what it finds, so a daemon that crashed and starts
 * again keeps its flows, counters and the events queued while it was
 * down. A pinned map that no longer fits the object (a new layout) is
 * removed and made anew, with a warning.
 */
#ifndef STEER_BPF_PIN_H
#define STEER_BPF_PIN_H

#include <bpf/libbpf.h>

/*
 * Before bpf_object__load(): make sure dir exists on a bpf filesystem
 * (mounting /sys/fs/bpf when nothing is mounted there), then point every
 * map of obj at dir/<map name>. Returns 0, -EINVAL when dir is not under
 * a bpf filesystem, -ENAMETOOLONG, or the -errno of mount/mkdir.
 */
int bpf_pin_prepare(struct bpf_object *obj, const char *dir);

/*
 * Remove the pins of dir that do not match obj's maps (type, key and
 * value size, capacity, flags), so that a load reuses only the good ones.
 * Returns how many were removed, or -errno.
 */
int bpf_pin_prune(struct bpf_object *obj, const char *dir);

/* Unlink every pin in dir and dir itself; 0 also when dir is absent. */
int bpf_pin_remove(const char *dir);

#endif /* STEER_BPF_PIN_H */
