// SPDX-License-Identifier: GPL-2.0-only
/* Outgoing datagrams of one socket, sent together: see sendq.h. */
#include "cell/sendq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

struct sendq {
	unsigned n;  /* datagrams queued */
	size_t used; /* bytes of buf they take */
	struct mmsghdr msg[SENDQ_MAX];
	struct iovec iov[SENDQ_MAX];
	struct sockaddr_storage addr[SENDQ_MAX];
	uint64_t *sent[SENDQ_MAX];
	uint64_t *failed[SENDQ_MAX];
	uint8_t buf[SENDQ_BYTES];
};

static void sendq_count(uint64_t *counter)
{
	if (counter)
		(*counter)++;
}

struct sendq *sendq_new(void)
{
	struct sendq *q = malloc(sizeof(*q));

	if (!q)
		return NULL;
	q->n = 0;
	q->used = 0;
	return q;
}

void sendq_free(struct sendq *q)
{
	free(q);
}

unsigned sendq_len(const struct sendq *q)
{
	return q->n;
}

unsigned sendq_flush(struct sendq *q, int fd)
{
	unsigned i = 0, end, ok = 0;
	int r;

	/* sendmmsg() stops at the first datagram the kernel refuses and
	 * reports the ones before it (the error itself is lost when there
	 * are any): that one failed, the rest go in the next call. */
	while (i < q->n) {
		r = sendmmsg(fd, q->msg + i, q->n - i, MSG_DONTWAIT);
		end = i + (r > 0 ? (unsigned)r : 0);
		for (; i < end; i++, ok++)
			sendq_count(q->sent[i]);
		if (i < q->n)
			sendq_count(q->failed[i++]);
	}
	q->n = 0;
	q->used = 0;
	return ok;
}

void sendq_put(struct sendq *q, int fd, const void *buf, size_t len,
	       const struct sockaddr *sa, socklen_t salen, uint64_t *sent,
	       uint64_t *failed)
{
	struct mmsghdr *m;
	unsigned i;

	if (salen > sizeof(q->addr[0])) {
		sendq_count(failed);
		return;
	}
	if (len > SENDQ_BYTES) {
		sendq_flush(q, fd);
		if (sendto(fd, buf, len, MSG_DONTWAIT, sa, salen) ==
		    (ssize_t)len)
			sendq_count(sent);
		else
			sendq_count(failed);
		return;
	}
	if (q->n == SENDQ_MAX || SENDQ_BYTES - q->used < len)
		sendq_flush(q, fd);
	i = q->n++;
	memcpy(q->buf + q->used, buf, len);
	memcpy(&q->addr[i], sa, salen);
	q->iov[i].iov_base = q->buf + q->used;
	q->iov[i].iov_len = len;
	q->used += len;
	m = &q->msg[i];
	memset(m, 0, sizeof(*m));
	m->msg_hdr.msg_name = &q->addr[i];
	m->msg_hdr.msg_namelen = salen;
	m->msg_hdr.msg_iov = &q->iov[i];
	m->msg_hdr.msg_iovlen = 1;
	q->sent[i] = sent;
	q->failed[i] = failed;
}
