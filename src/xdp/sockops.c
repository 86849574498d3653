// SPDX-License-Identifier: GPL-2.0-only
#include "xdp/sockops.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "steer_sockops.skel.h"
#include "util/log.h"
#include "xdp/bpf_pin.h"

#define MOD "sockops"
#define SOCKOPS_MAX_PROGS 64 /* programs of a cgroup looked at */

struct sockops {
	struct steer_sockops_bpf *skel;
	char pin_dir[PATH_MAX]; /* "": not pinned */
	int cg_fd;		/* -1: not attached */
	char cg_path[PATH_MAX];
};

struct sockops *sockops_open(const char *pin_dir)
{
	struct sockops *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	s->cg_fd = -1;
	if (pin_dir && snprintf(s->pin_dir, sizeof(s->pin_dir), "%s",
				pin_dir) >= (int)sizeof(s->pin_dir)) {
		err = -ENAMETOOLONG;
		goto err_free;
	}
	s->skel = steer_sockops_bpf__open();
	if (!s->skel) {
		err = -errno;
		log_err(MOD, "cannot open the sock_ops object: %s",
			strerror(-err));
		goto err_free;
	}
	if (s->pin_dir[0]) {
		err = bpf_pin_prepare(s->skel->obj, s->pin_dir);
		if (err)
			goto err_destroy;
		bpf_pin_prune(s->skel->obj, s->pin_dir);
	}
	err = steer_sockops_bpf__load(s->skel);
	if (err) {
		log_err(MOD, "cannot load the sock_ops program: %s",
			strerror(-err));
		goto err_destroy;
	}
	return s;

err_destroy:
	steer_sockops_bpf__destroy(s->skel);
err_free:
	free(s);
	errno = -err == EACCES ? EINVAL : -err;
	return NULL;
}

/* Is program id a steer sock_ops program (by its name)? */
static int sockops_is_ours(uint32_t id)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), ours = 0;

	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		ours = !strcmp(info.name, SOCKOPS_PROG_NAME);
	close(fd);
	return ours;
}

/* Detach every steer program on the cgroup but ours. */
static void sockops_detach_stale(struct sockops *s)
{
	uint32_t ids[SOCKOPS_MAX_PROGS], cnt = SOCKOPS_MAX_PROGS, flags = 0;
	uint32_t self = 0, i;
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = bpf_program__fd(s->skel->progs.steer_sockops);

	memset(&info, 0, sizeof(info));
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		self = info.id;
	if (bpf_prog_query(s->cg_fd, BPF_CGROUP_SOCK_OPS, 0, &flags, ids, &cnt))
		return;
	for (i = 0; i < cnt; i++) {
		int old;

		if (ids[i] == self || !sockops_is_ours(ids[i]))
			continue;
		old = bpf_prog_get_fd_by_id(ids[i]);
		if (old < 0)
			continue;
		if (bpf_prog_detach2(old, s->cg_fd, BPF_CGROUP_SOCK_OPS))
			log_warn(MOD, "cannot detach stale program %u: %s",
				 ids[i], strerror(errno));
		else
			log_warn(MOD,
				 "%s: detached a stale steer program "
				 "(id %u)",
				 s->cg_path, ids[i]);
		close(old);
	}
}

int sockops_attach(struct sockops *s, const char *cgroup_path)
{
	int fd = bpf_program__fd(s->skel->progs.steer_sockops), err;

	if (s->cg_fd >= 0)
		return -EALREADY;
	snprintf(s->cg_path, sizeof(s->cg_path), "%s", cgroup_path);
	s->cg_fd = open(cgroup_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->cg_fd < 0) {
		err = -errno;
		log_err(MOD, "cgroup %s: %s", cgroup_path, strerror(-err));
		return err;
	}
	if (bpf_prog_attach(fd, s->cg_fd, BPF_CGROUP_SOCK_OPS,
			    BPF_F_ALLOW_MULTI)) {
		err = -errno;
		log_err(MOD, "cannot attach to %s: %s", cgroup_path,
			strerror(-err));
		close(s->cg_fd);
		s->cg_fd = -1;
		return err;
	}
	sockops_detach_stale(s);
	log_info(MOD, "%s: steer sock_ops attached", cgroup_path);
	return 0;
}

int sockops_detach(struct sockops *s)
{
	int fd = bpf_program__fd(s->skel->progs.steer_sockops), err = 0;

	if (s->cg_fd >= 0) {
		if (bpf_prog_detach2(fd, s->cg_fd, BPF_CGROUP_SOCK_OPS)) {
			err = -errno;
			log_err(MOD, "cannot detach from %s: %s", s->cg_path,
				strerror(-err));
		}
		close(s->cg_fd);
		s->cg_fd = -1;
	}
	if (s->pin_dir[0])
		bpf_pin_remove(s->pin_dir);
	return err;
}

void sockops_close(struct sockops *s)
{
	if (!s)
		return;
	sockops_detach(s);
	steer_sockops_bpf__destroy(s->skel);
	free(s);
}

int sockops_map_fd(const struct sockops *s, const char *name)
{
	const struct bpf_map *m =
		bpf_object__find_map_by_name(s->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

struct sockops_batch {
	struct flow_key keys[SOCKOPS_BATCH];
	struct steer_sock_tele vals[SOCKOPS_BATCH];
};

int sockops_sessions_foreach(struct sockops *s, sockops_sess_fn fn, void *arg)
{
	int fd = sockops_map_fd(s, "steer_socks"), ret = 0, err;
	struct sockops_batch *b;
	struct flow_key out;
	void *in = NULL;
	uint32_t n, i;

	if (fd < 0)
		return fd;
	b = malloc(sizeof(*b));
	if (!b)
		return -ENOMEM;
	do {
		n = SOCKOPS_BATCH;
		err = bpf_map_lookup_batch(fd, in, &out, b->keys, b->vals, &n,
					   NULL);
		if (err && errno != ENOENT) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n && !ret; i++)
			ret = fn(&b->keys[i], &b->vals[i], arg);
		in = &out;
	} while (!err && !ret);
	free(b);
	return ret;
}

int sockops_stats_read(struct sockops *s, struct steer_sock_stats *sum)
{
	int fd = sockops_map_fd(s, "steer_sock_st"), ncpu, c;
	struct steer_sock_stats *per;
	uint32_t zero = 0;

	ncpu = libbpf_num_possible_cpus();
	if (fd < 0 || ncpu <= 0)
		return fd < 0 ? fd : ncpu;
	per = calloc((size_t)ncpu, sizeof(*per));
	if (!per)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &zero, per)) {
		free(per);
		return -errno;
	}
	memset(sum, 0, sizeof(*sum));
	for (c = 0; c < ncpu; c++) {
		sum->up += per[c].up;
		sum->down += per[c].down;
		sum->ev_lost += per[c].ev_lost;
		sum->table_full += per[c].table_full;
	}
	free(per);
	return 0;
}
