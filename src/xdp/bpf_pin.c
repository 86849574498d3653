// SPDX-License-Identifier: GPL-2.0-only
#include "xdp/bpf_pin.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "util/log.h"

#define MOD "bpf"
#define BPFFS_MAGIC 0xcafe4a11
#define BPFFS_MOUNT "/sys/fs/bpf"

static int bpf_pin_bpffs(const char *dir)
{
	struct statfs st;

	if (strncmp(dir, BPFFS_MOUNT "/", sizeof(BPFFS_MOUNT)) != 0) {
		log_err(MOD, "%s is not under %s", dir, BPFFS_MOUNT);
		return -EINVAL;
	}
	if (!statfs(BPFFS_MOUNT, &st) && st.f_type == BPFFS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_MOUNT, "bpf", 0, "mode=0700")) {
		log_err(MOD, "cannot mount bpffs on %s: %s", BPFFS_MOUNT,
			strerror(errno));
		return -errno;
	}
	log_info(MOD, "mounted bpffs on %s", BPFFS_MOUNT);
	return 0;
}

/* mkdir -p, mode 0700. */
static int bpf_pin_mkdirs(const char *dir)
{
	char path[PATH_MAX];
	size_t i, n = strlen(dir);

	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) && errno != EEXIST) {
			log_err(MOD, "cannot create %s: %s", path,
				strerror(errno));
			return -errno;
		}
		path[i] = dir[i];
	}
	return 0;
}

static int bpf_pin_path(char *out, size_t len, const char *dir,
			const struct bpf_map *m)
{
	if (snprintf(out, len, "%s/%s", dir, bpf_map__name(m)) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* Maps libbpf makes itself (.rodata, .bss) are the object's, not state. */
static int bpf_pin_is_state(const struct bpf_map *m)
{
	return !strchr(bpf_map__name(m), '.');
}

int bpf_pin_prepare(struct bpf_object *obj, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int err;

	err = bpf_pin_bpffs(dir);
	if (!err)
		err = bpf_pin_mkdirs(dir);
	if (err)
		return err;
	bpf_object__for_each_map(m, obj)
	{
		if (!bpf_pin_is_state(m))
			continue;
		err = bpf_pin_path(path, sizeof(path), dir, m);
		if (!err)
			err = bpf_map__set_pin_path(m, path);
		if (err)
			return err;
	}
	return 0;
}

static int bpf_pin_fits(int fd, const struct bpf_map *m)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.type == bpf_map__type(m) &&
	       info.key_size == bpf_map__key_size(m) &&
	       info.value_size == bpf_map__value_size(m) &&
	       info.max_entries == bpf_map__max_entries(m) &&
	       info.map_flags == bpf_map__map_flags(m);
}

int bpf_pin_prune(struct bpf_object *obj, const char *dir)
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int fd, removed = 0;

	bpf_object__for_each_map(m, obj)
	{
		if (!bpf_pin_is_state(m) ||
		    bpf_pin_path(path, sizeof(path), dir, m))
			continue;
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		if (!bpf_pin_fits(fd, m)) {
			log_warn(MOD, "%s does not fit this program: made anew",
				 path);
			if (unlink(path) == 0)
				removed++;
		}
		close(fd);
	}
	return removed;
}

int bpf_pin_remove(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
		    (int)sizeof(path))
			unlink(path);
	}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}
