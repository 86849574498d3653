/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerd's PID file (--pid-file): written once the process that will
 * serve exists, removed on a clean exit, and held with a lock for the
 * daemon's life, so a second steerd given the same file refuses to start
 * while the first lives, and a file left by a crash (nobody holds its
 * lock) is simply taken over.
 */
#ifndef STEER_PIDFILE_H
#define STEER_PIDFILE_H

#include <stddef.h>

struct pidfile {
	int fd; /* -1: none */
	char path[4096];
};

/*
 * Create or open path, lock it and write this process's PID. Returns 0;
 * -EEXIST when a live process holds it (err names its PID as the file
 * says); -ENAMETOOLONG; or the errno of open/lock/write (err says which).
 * On failure pf->fd is -1 and pidfile_remove() is a no-op.
 */
int pidfile_take(struct pidfile *pf, const char *path, char *err,
		 size_t errlen);

/* Remove the file and release the lock; a no-op after a failed take. */
void pidfile_remove(struct pidfile *pf);

#endif /* STEER_PIDFILE_H */
