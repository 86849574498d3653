// SPDX-License-Identifier: GPL-2.0-only
/*
 * A socket's send queue: nothing leaves before a flush or a full queue,
 * what leaves keeps its order, every datagram moves exactly one of its
 * counters, and one the kernel refuses does not stop the ones behind it.
 * Real UDP sockets on the loopback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cell/sendq.h"

struct fx {
	struct sendq *q;
	int tx;			/* sends */
	int rx;			/* receives, bound to to */
	struct sockaddr_in to;	/* rx's address */
	struct sockaddr_in bad; /* port 0: the kernel refuses it */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	socklen_t len = sizeof(f->to);
	int buf = 4 << 20;

	if (!f)
		return -1;
	f->q = sendq_new();
	f->tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	f->rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	f->to.sin_family = AF_INET;
	f->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(f->rx, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (!f->q || f->tx < 0 || f->rx < 0 ||
	    bind(f->rx, (struct sockaddr *)&f->to, sizeof(f->to)) ||
	    getsockname(f->rx, (struct sockaddr *)&f->to, &len))
		return -1;
	f->bad = f->to;
	f->bad.sin_port = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sendq_free(f->q);
	close(f->tx);
	close(f->rx);
	free(f);
	return 0;
}

static void put(struct fx *f, const struct sockaddr_in *to, uint8_t tag,
		size_t len, uint64_t *sent, uint64_t *failed)
{
	static uint8_t dg[SENDQ_BYTES + 16];

	memset(dg, tag, len);
	sendq_put(f->q, f->tx, dg, len, (const struct sockaddr *)to,
		  sizeof(*to), sent, failed);
}

/* The next datagram rx holds: its first byte, its length in *len; -1
 * when none waits. */
static int got(struct fx *f, size_t *len)
{
	static uint8_t dg[SENDQ_BYTES + 16];
	ssize_t n = recv(f->rx, dg, sizeof(dg), MSG_DONTWAIT);

	if (n < 0)
		return -1;
	if (len)
		*len = (size_t)n;
	return n ? dg[0] : 0;
}

static void test_order_and_counts(void **state)
{
	struct fx *f = *state;
	uint64_t sent = 0, failed = 0;
	size_t len;
	int i;

	for (i = 0; i < 5; i++)
		put(f, &f->to, (uint8_t)(10 + i), 100 + (size_t)i, &sent,
		    &failed);
	/* Queued, not sent, not counted. */
	assert_int_equal(sendq_len(f->q), 5);
	assert_int_equal(got(f, NULL), -1);
	assert_int_equal(sent + failed, 0);
	assert_int_equal(sendq_flush(f->q, f->tx), 5);
	assert_int_equal(sendq_len(f->q), 0);
	assert_int_equal(sent, 5);
	assert_int_equal(failed, 0);
	for (i = 0; i < 5; i++) {
		assert_int_equal(got(f, &len), 10 + i);
		assert_int_equal(len, 100 + (size_t)i);
	}
	assert_int_equal(got(f, NULL), -1);
	/* An empty queue sends nothing. */
	assert_int_equal(sendq_flush(f->q, f->tx), 0);
}

static void test_refused_in_the_middle(void **state)
{
	struct fx *f = *state;
	uint64_t sent = 0, failed = 0, bad_sent = 0, bad_failed = 0;

	put(f, &f->to, 1, 20, &sent, &failed);
	put(f, &f->bad, 2, 20, &bad_sent, &bad_failed);
	put(f, &f->to, 3, 20, &sent, &failed);
	put(f, &f->bad, 4, 20, &bad_sent, &bad_failed);
	put(f, &f->bad, 5, 20, NULL, NULL); /* counters may be NULL */
	put(f, &f->to, 6, 20, &sent, NULL);
	assert_int_equal(sendq_flush(f->q, f->tx), 3);
	assert_int_equal(sent, 3);
	assert_int_equal(failed, 0);
	assert_int_equal(bad_sent, 0);
	assert_int_equal(bad_failed, 2);
	assert_int_equal(got(f, NULL), 1);
	assert_int_equal(got(f, NULL), 3);
	assert_int_equal(got(f, NULL), 6);
	assert_int_equal(got(f, NULL), -1);
	/* A socket that refuses everything: every datagram failed. */
	put(f, &f->to, 7, 20, &sent, &failed);
	put(f, &f->to, 8, 20, &sent, &failed);
	assert_int_equal(sendq_flush(f->q, -1), 0);
	assert_int_equal(sent, 3);
	assert_int_equal(failed, 2);
}

static void test_full_queue_sends_first(void **state)
{
	struct fx *f = *state;
	uint64_t sent = 0, failed = 0;
	int i;

	for (i = 0; i < SENDQ_MAX; i++)
		put(f, &f->to, (uint8_t)i, 10, &sent, &failed);
	assert_int_equal(sendq_len(f->q), SENDQ_MAX);
	assert_int_equal(got(f, NULL), -1);
	/* One more: the full queue leaves first, the new one waits. */
	put(f, &f->to, 0xee, 10, &sent, &failed);
	assert_int_equal(sendq_len(f->q), 1);
	assert_int_equal(sent, SENDQ_MAX);
	for (i = 0; i < SENDQ_MAX; i++)
		assert_int_equal(got(f, NULL), i);
	assert_int_equal(got(f, NULL), -1);
	sendq_flush(f->q, f->tx);
	assert_int_equal(got(f, NULL), 0xee);
	assert_int_equal(sent, SENDQ_MAX + 1);
	assert_int_equal(failed, 0);
}

static void test_bytes_bound_and_long(void **state)
{
	struct fx *f = *state;
	uint64_t sent = 0, failed = 0;
	size_t len;

	/* Two of 40,000 bytes do not fit together: the first leaves when
	 * the second comes. */
	put(f, &f->to, 1, 40000, &sent, &failed);
	put(f, &f->to, 2, 40000, &sent, &failed);
	assert_int_equal(sendq_len(f->q), 1);
	assert_int_equal(got(f, &len), 1);
	assert_int_equal(len, 40000);
	/* As long as the queue: it waits alone (UDP will refuse it). */
	put(f, &f->to, 3, SENDQ_BYTES, &sent, &failed);
	assert_int_equal(sendq_len(f->q), 1);
	assert_int_equal(got(f, NULL), 2);
	assert_int_equal(sent, 2);
	/* Longer than the queue: the queue leaves, then it, at once. */
	put(f, &f->to, 4, SENDQ_BYTES + 1, &sent, &failed);
	assert_int_equal(sendq_len(f->q), 0);
	assert_int_equal(got(f, NULL), -1);
	assert_int_equal(sent, 2);
	assert_int_equal(failed, 2);
	/* An address longer than any: refused, nothing queued. */
	sendq_put(f->q, f->tx, "x", 1, (const struct sockaddr *)&f->to,
		  sizeof(struct sockaddr_storage) + 1, &sent, &failed);
	assert_int_equal(sendq_len(f->q), 0);
	assert_int_equal(failed, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order_and_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refused_in_the_middle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_sends_first,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_bound_and_long,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
