// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/privs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <cap-ng.h>
#include <linux/capability.h>

/*
 * What steerd does after start, and the capability each thing needs.
 * When in doubt a capability is kept: a missing one shows only in the
 * lab, as a data plane that half works.
 */
static const int privs_kept[] = {
	/* XDP detached at stop, the sock_ops program detached from its
	 * cgroup, rtnetlink; the drain-hook's route changes. */
	CAP_NET_ADMIN,
	/* The cell's IP-in-IP forwarding sockets, opened on first use. */
	CAP_NET_RAW,
	/* Sockets a reload or a cell may bind to a port below 1024. */
	CAP_NET_BIND_SERVICE,
	/* bpf() on the maps and programs it holds. */
	CAP_BPF,
	CAP_PERFMON,
	/* Kernels before 5.8 (no CAP_BPF) gate bpf() on it; a drain-hook
	 * such as the lab's enters a network namespace (setns, mount). */
	CAP_SYS_ADMIN,
};

#define PRIVS_N_KEPT (sizeof(privs_kept) / sizeof(privs_kept[0]))

/* Names of the kept capabilities the process holds, "none" for none. */
static void privs_names(const bool *have, char *buf, size_t len)
{
	size_t i, off = 0;
	const char *name;

	buf[0] = '\0';
	for (i = 0; i < PRIVS_N_KEPT; i++) {
		if (!have[i])
			continue;
		name = capng_capability_to_name((unsigned)privs_kept[i]);
		off += (size_t)snprintf(buf + off, off < len ? len - off : 0,
					"%s%s", off ? "," : "",
					name ? name : "?");
	}
	if (!off)
		snprintf(buf, len, "none");
}

int privs_drop(char *kept, size_t keptlen, char *err, size_t errlen)
{
	bool have[PRIVS_N_KEPT], bounds;
	capng_select_t set;
	size_t i;
	int ret;

	snprintf(kept, keptlen, "all");
	if (capng_get_caps_process()) {
		snprintf(err, errlen,
			 "cannot read this process's capabilities");
		return -EIO;
	}
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE) {
		snprintf(kept, keptlen, "none");
		return 0;
	}
	/* Only what it has can be kept: capset refuses to add. */
	for (i = 0; i < PRIVS_N_KEPT; i++)
		have[i] = capng_have_capability(CAPNG_PERMITTED,
						(unsigned)privs_kept[i]) == 1;
	bounds = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 1;
	set = bounds ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS;
	capng_clear(set);
	for (i = 0; i < PRIVS_N_KEPT; i++)
		if (have[i] &&
		    capng_update(CAPNG_ADD,
				 CAPNG_EFFECTIVE | CAPNG_PERMITTED |
					 (bounds ? CAPNG_BOUNDING_SET : 0),
				 (unsigned)privs_kept[i])) {
			snprintf(err, errlen, "capability %d unknown here",
				 privs_kept[i]);
			return -EINVAL;
		}
	ret = capng_apply(set);
	if (ret) {
		snprintf(err, errlen, "cannot drop capabilities (libcap-ng %d)",
			 ret);
		return -EPERM;
	}
	privs_names(have, kept, keptlen);
	return 0;
}
