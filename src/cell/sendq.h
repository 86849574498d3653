/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Outgoing datagrams of one socket, queued and sent together: a cell
 * answers a burst of exception datagrams with a RULE, a forwarded packet
 * and mirrors each, and one sendmmsg() per socket and burst costs far
 * less than a sendto() per datagram. A queue holds copies (the caller's
 * buffers are reused at once), in order, bounded in entries and bytes;
 * a full queue is sent before the next datagram joins it. Each datagram
 * carries the two counters the caller keeps for it: exactly one of them
 * moves once the kernel accepted or refused it.
 */
#ifndef STEER_CELL_SENDQ_H
#define STEER_CELL_SENDQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define SENDQ_MAX 64	   /* datagrams queued at most */
#define SENDQ_BYTES 65536u /* bytes queued at most */

struct sendq;

/* An empty queue; NULL with errno ENOMEM. */
struct sendq *sendq_new(void);
/* Frees what it still holds unsent, uncounted. NULL is fine. */
void sendq_free(struct sendq *q);

/*
 * Queue a copy of buf[0, len) to sa, for socket fd (every datagram of a
 * queue goes out on the same socket). A full queue (SENDQ_MAX datagrams,
 * or no room for len bytes) is sent first. A datagram longer than
 * SENDQ_BYTES goes out at once, after the queue. *sent or *failed (either
 * may be NULL) grows by one when the kernel took or refused it; an
 * address longer than a sockaddr_storage counts as refused at once.
 */
void sendq_put(struct sendq *q, int fd, const void *buf, size_t len,
	       const struct sockaddr *sa, socklen_t salen, uint64_t *sent,
	       uint64_t *failed);

/*
 * Send every queued datagram on fd, in order, with as few sendmmsg()
 * calls as the kernel allows: a datagram it refuses counts as failed and
 * the ones behind it are still sent (none is tried twice). The queue is
 * empty after. Returns how many the kernel took.
 */
unsigned sendq_flush(struct sendq *q, int fd);

/* Datagrams waiting. */
unsigned sendq_len(const struct sendq *q);

#endif /* STEER_CELL_SENDQ_H */
