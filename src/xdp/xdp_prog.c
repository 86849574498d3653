// SPDX-License-Identifier: GPL-2.0-only
#include "xdp/xdp_prog.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "steer_kern_user.h"
#include "steer_xdp.skel.h"
#include "util/log.h"
#include "xdp/bpf_pin.h"

#define MOD "xdp"

struct xdp_prog {
	struct steer_xdp_bpf *skel;
	char pin_dir[PATH_MAX]; /* "": maps not pinned */
	int ifindex;
	uint32_t attach_flags; /* XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE */
};

/* libbpf's messages go to the one log, one line each. */
__attribute__((format(printf, 2, 0))) static int
xdp_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	enum log_level lvl = level == LIBBPF_WARN   ? LOG_WARN
			     : level == LIBBPF_INFO ? LOG_INFO
						    : LOG_DEBUG;
	char *msg, *line, *save = NULL;
	va_list aq;
	int n;

	if (lvl > log_get_level())
		return 0;
	/* A verifier log comes as one message of any length, its verdict
	 * at the end: size it, then log it line by line. */
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0 || !(msg = malloc((size_t)n + 1)))
		return 0;
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	for (line = strtok_r(msg, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "libbpf: ", 8))
			line += 8; /* the log tag says it already */
		log_msg(lvl, "libbpf", "%s", line);
	}
	free(msg);
	return 0;
}

/* Open and size the skeleton, point its maps at their pins. */
static int xdp_prog_skel_open(struct xdp_prog *x,
			      const struct xdp_prog_opts *opts)
{
	int err;

	x->skel = steer_xdp_bpf__open();
	if (!x->skel) {
		err = -errno;
		log_err(MOD, "cannot open the XDP object: %s", strerror(-err));
		return err;
	}
	if (opts && opts->max_flows) {
		bpf_map__set_max_entries(x->skel->maps.steer_flows,
					 opts->max_flows);
		bpf_map__set_max_entries(x->skel->maps.steer_flows4,
					 opts->max_flows);
	}
	if (opts && opts->max_tmpls)
		bpf_map__set_max_entries(x->skel->maps.steer_tmpls,
					 opts->max_tmpls);
	if (!x->pin_dir[0])
		return 0;
	err = bpf_pin_prepare(x->skel->obj, x->pin_dir);
	if (err)
		return err;
	bpf_pin_prune(x->skel->obj, x->pin_dir);
	return 0;
}

struct xdp_prog *xdp_prog_open(const struct xdp_prog_opts *opts)
{
	struct xdp_prog *x;
	int err;

	libbpf_set_print(xdp_libbpf_print);
	x = calloc(1, sizeof(*x));
	if (!x)
		return NULL;
	if (opts && opts->pin_dir &&
	    snprintf(x->pin_dir, sizeof(x->pin_dir), "%s", opts->pin_dir) >=
		    (int)sizeof(x->pin_dir)) {
		log_err(MOD, "pin directory '%s' is too long", opts->pin_dir);
		err = -ENAMETOOLONG;
		goto err_free;
	}
	err = xdp_prog_skel_open(x, opts);
	if (err)
		goto err_destroy;
	err = steer_xdp_bpf__load(x->skel);
	if (err) {
		log_err(MOD, "cannot load the XDP program: %s%s",
			strerror(-err),
			err == -EACCES
				? " (rejected by the verifier, see above)"
				: "");
		goto err_destroy;
	}
	if (x->pin_dir[0])
		log_info(MOD, "maps pinned in %s", x->pin_dir);
	return x;

err_destroy:
	steer_xdp_bpf__destroy(x->skel);
err_free:
	free(x);
	errno = -err == EACCES ? EINVAL : -err;
	return NULL;
}

int xdp_prog_fd(const struct xdp_prog *x)
{
	return bpf_program__fd(x->skel->progs.steer_xdp);
}

int xdp_prog_map_fd(const struct xdp_prog *x, const char *map_name)
{
	const struct bpf_map *m =
		bpf_object__find_map_by_name(x->skel->obj, map_name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int xdp_prog_ifindex(const struct xdp_prog *x)
{
	return x->ifindex;
}

int xdp_prog_is_generic(const struct xdp_prog *x)
{
	return x->attach_flags == XDP_FLAGS_SKB_MODE;
}

/* Name of the program with this id, "" when it is gone. */
static void xdp_prog_name_of(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info;
	uint32_t ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	name[0] = '\0';
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(name, len, "%s", info.name);
	close(fd);
}

/*
 * The steer program attached to ifindex, if any: 0 with *id 0 when none,
 * *id and *flags (its mode) for a steer program, -EBUSY for another.
 */
static int xdp_prog_attached(int ifindex, uint32_t *id, uint32_t *flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char name[BPF_OBJ_NAME_LEN];
	int err;

	*id = 0;
	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	if (!q.prog_id)
		return 0;
	xdp_prog_name_of(q.prog_id, name, sizeof(name));
	if (strcmp(name, XDP_PROG_NAME) != 0) {
		log_err(MOD,
			"ifindex %d runs another XDP program (id %u, '%s')",
			ifindex, q.prog_id, name);
		return -EBUSY;
	}
	*id = q.prog_id;
	*flags = q.attach_mode == XDP_ATTACHED_SKB ? XDP_FLAGS_SKB_MODE
						   : XDP_FLAGS_DRV_MODE;
	return 0;
}

int xdp_prog_cleanup_stale(const char *pin_dir, const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname), err;
	uint32_t id, flags;

	if (ifindex) {
		err = xdp_prog_attached(ifindex, &id, &flags);
		if (err)
			return err;
		if (id && (err = bpf_xdp_detach(ifindex, flags, NULL)))
			return err;
	}
	return pin_dir ? bpf_pin_remove(pin_dir) : 0;
}

/* Put our program in place of the stale one, in one step. */
static int xdp_prog_replace(struct xdp_prog *x, int ifindex, uint32_t old_id,
			    uint32_t flags)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, o);
	int old_fd = bpf_prog_get_fd_by_id(old_id), err;

	if (old_fd < 0)
		return -errno;
	o.old_prog_fd = old_fd;
	log_warn(MOD, "ifindex %d: replacing a stale steer program (id %u)",
		 ifindex, old_id);
	err = bpf_xdp_attach(ifindex, xdp_prog_fd(x), flags | XDP_FLAGS_REPLACE,
			     &o);
	close(old_fd);
	if (!err)
		x->attach_flags = flags;
	return err;
}

int xdp_prog_attach(struct xdp_prog *x, int ifindex)
{
	char ifname[IF_NAMESIZE];
	int fd = xdp_prog_fd(x), err;
	uint32_t old_id, old_flags;

	if (x->ifindex)
		return -EALREADY;
	if (!if_indextoname((unsigned)ifindex, ifname)) {
		log_err(MOD, "no interface with index %d", ifindex);
		return -ENODEV;
	}
	err = xdp_prog_attached(ifindex, &old_id, &old_flags);
	if (err)
		return err;
	if (old_id) {
		err = xdp_prog_replace(x, ifindex, old_id, old_flags);
	} else {
		x->attach_flags = XDP_FLAGS_DRV_MODE;
		err = bpf_xdp_attach(ifindex, fd, x->attach_flags, NULL);
		if (err) {
			log_info(MOD, "%s: no native XDP (%s), using generic",
				 ifname, strerror(-err));
			x->attach_flags = XDP_FLAGS_SKB_MODE;
			err = bpf_xdp_attach(ifindex, fd, x->attach_flags,
					     NULL);
		}
	}
	if (err) {
		log_err(MOD, "%s: cannot attach XDP: %s", ifname,
			strerror(-err));
		return err;
	}
	x->ifindex = ifindex;
	log_info(MOD, "%s: steer XDP attached (%s mode)", ifname,
		 xdp_prog_is_generic(x) ? "generic" : "native");
	return 0;
}

int xdp_prog_detach(struct xdp_prog *x)
{
	int err = 0;

	if (x->ifindex) {
		err = bpf_xdp_detach(x->ifindex, x->attach_flags, NULL);
		if (err)
			log_err(MOD, "ifindex %d: cannot detach XDP: %s",
				x->ifindex, strerror(-err));
		x->ifindex = 0;
	}
	if (x->pin_dir[0])
		bpf_pin_remove(x->pin_dir);
	return err;
}

void xdp_prog_close(struct xdp_prog *x)
{
	if (!x)
		return;
	xdp_prog_detach(x);
	steer_xdp_bpf__destroy(x->skel);
	free(x);
}
