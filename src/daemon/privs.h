/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Capabilities: once its BPF programs are loaded and attached, steerd
 * keeps only those it still uses (privs.c lists each with its reason) in
 * its effective, permitted and bounding sets, and clears its inheritable
 * and ambient ones. The bounding set also bounds what a drain-hook it
 * spawns as root can have.
 */
#ifndef STEER_PRIVS_H
#define STEER_PRIVS_H

#include <stddef.h>

/*
 * Drop every capability but the kept ones. A process without any
 * capability (steerd run by a user, as the tests do) is left as it is;
 * one without CAP_SETPCAP keeps its bounding set. Returns 0 and writes
 * the kept ones' names, comma-separated, to kept ("none" for none); or
 * -EPERM / -errno when the sets could not be changed (err says why).
 */
int privs_drop(char *kept, size_t keptlen, char *err, size_t errlen);

#endif /* STEER_PRIVS_H */
