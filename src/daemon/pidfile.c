// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/file.h>
#include <sys/stat.h>

/* The PID the file says, or 0 when it says none. */
static pid_t pidfile_read(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long v;

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	v = strtol(buf, NULL, 10);
	return v > 0 && v <= 0x7fffffff ? (pid_t)v : 0;
}

/* Is fd still the file at path? A holder unlinks it before letting go of
 * the lock, so a file opened just before that is one nobody will see. */
static int pidfile_same(int fd, const char *path)
{
	struct stat a, b;

	if (fstat(fd, &a) || stat(path, &b))
		return 0;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int pidfile_write(int fd)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) || pwrite(fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

int pidfile_take(struct pidfile *pf, const char *path, char *err, size_t errlen)
{
	pid_t other;
	int ret;

	pf->fd = -1;
	if (strlen(path) >= sizeof(pf->path)) {
		snprintf(err, errlen, "--pid-file: path too long");
		return -ENAMETOOLONG;
	}
	snprintf(pf->path, sizeof(pf->path), "%s", path);
	pf->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (pf->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (flock(pf->fd, LOCK_EX | LOCK_NB)) {
		ret = errno == EWOULDBLOCK ? -EEXIST : -errno;
		other = pidfile_read(pf->fd);
		if (ret == -EEXIST && other)
			snprintf(err, errlen,
				 "%s: steerd already runs (PID %ld)", path,
				 (long)other);
		else if (ret == -EEXIST)
			snprintf(err, errlen, "%s: held by another process",
				 path);
		else
			snprintf(err, errlen, "%s: lock: %s", path,
				 strerror(-ret));
		goto fail;
	}
	if (!pidfile_same(pf->fd, path)) {
		ret = -EEXIST;
		snprintf(err, errlen, "%s: replaced while being taken", path);
		goto fail;
	}
	ret = pidfile_write(pf->fd);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	close(pf->fd);
	pf->fd = -1;
	return ret;
}

void pidfile_remove(struct pidfile *pf)
{
	if (pf->fd < 0)
		return;
	/* Unlinked while still locked: a successor never finds our file
	 * unlocked with our PID in it. */
	unlink(pf->path);
	close(pf->fd);
	pf->fd = -1;
}
