// SPDX-License-Identifier: GPL-2.0-only
/*
 * Health checks against real sockets on loopback: a backend whose port
 * listens stays up, one whose port refuses goes down after `fall`
 * failures, and comes back after `rise` successes once it listens again;
 * every change is reported once.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cell/health.h"

struct ht {
	struct evloop *el;
	struct health *h;
	int lfd;       /* listens: backend 1's port */
	uint16_t port; /* backend 1 */
	uint16_t dead; /* a port nobody listens on: backend 2 */
	int changes[3];
	bool last_up[3];
};

static void ht_on_change(void *arg, uint16_t backend, bool up)
{
	struct ht *t = arg;

	if (backend < 3) {
		t->changes[backend]++;
		t->last_up[backend] = up;
	}
}

/* A TCP socket bound to 127.0.0.1:port (0: any), listening or not. */
static int ht_socket(uint16_t *port, bool listening)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(*port);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	if (listening)
		assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static int ht_setup(void **state)
{
	struct ht *t = calloc(1, sizeof(*t));
	struct health_cfg cfg = {.interval_ms = 20,
				 .timeout_ms = 10,
				 .fall = 3,
				 .rise = 2,
				 .on_change = ht_on_change};
	int dfd;

	if (!t)
		return -1;
	t->el = evloop_new();
	cfg.el = t->el;
	cfg.arg = t;
	t->h = health_new(&cfg);
	if (!t->el || !t->h)
		return -1;
	t->lfd = ht_socket(&t->port, true);
	fcntl(t->lfd, F_SETFL, O_NONBLOCK);
	/* Bound, never listening: connects to it are refused. */
	dfd = ht_socket(&t->dead, false);
	close(dfd);
	*state = t;
	return 0;
}

static int ht_teardown(void **state)
{
	struct ht *t = *state;

	health_free(t->h);
	evloop_free(t->el);
	if (t->lfd >= 0)
		close(t->lfd);
	free(t);
	return 0;
}

static void ht_targets(struct ht *t)
{
	struct health_target tg[2];

	memset(tg, 0, sizeof(tg));
	tg[0].backend = 1;
	flow_addr_set_v4(&tg[0].addr, htonl(INADDR_LOOPBACK));
	tg[0].port = t->port;
	tg[1].backend = 2;
	flow_addr_set_v4(&tg[1].addr, htonl(INADDR_LOOPBACK));
	tg[1].port = t->dead;
	assert_int_equal(health_targets_set(t->h, tg, 2), 0);
}

/* Run the loop for ms milliseconds; the listener accepts as a server
 * would (a full backlog would make the checks time out). */
static void ht_run(struct ht *t, uint64_t ms)
{
	uint64_t end = evloop_now_ms() + ms;
	int fd;

	while (evloop_now_ms() < end) {
		evloop_run_once(t->el, 5);
		while (t->lfd >= 0 &&
		       (fd = accept4(t->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
			close(fd);
	}
}

static void test_up_and_down(void **state)
{
	struct ht *t = *state;

	ht_targets(t);
	assert_true(health_up(t->h, 1));
	assert_true(health_up(t->h, 2)); /* optimistic start */
	ht_run(t, 400);
	assert_true(health_up(t->h, 1));
	assert_false(health_up(t->h, 2));
	assert_int_equal(t->changes[1], 0);
	assert_int_equal(t->changes[2], 1);
	assert_false(t->last_up[2]);
	assert_int_equal(health_stats(t->h)->down, 1);
	assert_true(health_up(t->h, 99)); /* not checked: up */
}

static void test_recovers(void **state)
{
	struct ht *t = *state;
	uint16_t port = t->dead;
	int fd;

	ht_targets(t);
	ht_run(t, 400);
	assert_false(health_up(t->h, 2));
	fd = ht_socket(&port, true); /* backend 2 listens now */
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ht_run(t, 200); /* 10 checks: within its backlog, none accepted */
	assert_true(health_up(t->h, 2));
	assert_int_equal(t->changes[2], 2);
	assert_true(t->last_up[2]);
	assert_int_equal(health_stats(t->h)->down, 0);
	close(fd);
	/* Backend 1 stops listening: down too. */
	close(t->lfd);
	t->lfd = -1;
	ht_run(t, 400);
	assert_false(health_up(t->h, 1));
}

/* A backend kept across new targets keeps its state; dupes refused. */
static void test_targets_kept(void **state)
{
	struct ht *t = *state;
	struct health_target dup[2];

	ht_targets(t);
	ht_run(t, 400);
	assert_false(health_up(t->h, 2));
	ht_targets(t);
	assert_false(health_up(t->h, 2));
	memset(dup, 0, sizeof(dup));
	dup[0].backend = dup[1].backend = 4;
	assert_int_equal(health_targets_set(t->h, dup, 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_up_and_down, ht_setup,
						ht_teardown),
		cmocka_unit_test_setup_teardown(test_recovers, ht_setup,
						ht_teardown),
		cmocka_unit_test_setup_teardown(test_targets_kept, ht_setup,
						ht_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
