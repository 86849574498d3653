/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerctl's end of the admin socket (see src/daemon/admin.h): connect,
 * send one request line, read one answer line, all before one deadline.
 */
#ifndef STEER_CTL_CONN_H
#define STEER_CTL_CONN_H

#include <stddef.h>
#include <stdint.h>

struct conn {
	int fd;
	uint64_t deadline_ms; /* CLOCK_MONOTONIC */
};

/*
 * Connect to the Unix stream socket at path; the deadline for this and
 * every later conn_request() is timeout_ms from now. Returns 0, or
 * -ENAMETOOLONG (path does not fit a sockaddr_un), -ETIMEDOUT (the
 * daemon's backlog stayed full), or connect(2)'s error: -ENOENT,
 * -ECONNREFUSED, -EACCES, ... On error c holds nothing to close.
 */
int conn_open(struct conn *c, const char *path, int timeout_ms);

/*
 * Send req (one line, without its newline) and read the answer line.
 * On success *ans is a malloc'd, NUL-terminated copy of it without its
 * newline, *len bytes long. Returns 0, or -ETIMEDOUT (the deadline
 * passed), -ECONNRESET (the daemon closed the connection before a whole
 * line), -EMSGSIZE (the answer grew past max bytes), -ENOMEM, or
 * send(2)'s and recv(2)'s errors (-EPIPE, ...).
 */
int conn_request(struct conn *c, const char *req, size_t max, char **ans,
		 size_t *len);

/* Close the connection; a closed or failed-to-open c is fine. */
void conn_close(struct conn *c);

#endif /* STEER_CTL_CONN_H */
