// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop: timer order, periodic re-arm, cancellation, file events
 * on a socketpair, stopping from a callback, signals through signalfd.
 * Nothing here passes or fails on how long anything took: only the order
 * and the number of callbacks count. Loops are bounded by a number of
 * rounds so that a broken loop fails instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <cmocka.h>

#include "util/evloop.h"

#define MAX_ROUNDS 10000

struct rec {
	struct evloop *el;
	int order[64];
	int n;
	int64_t ids[8];
	int stop_after; /* evloop_stop() when n reaches it; 0: never */
	int sp[2];
	char got[64];
	size_t got_len;
	uint32_t last_events;
};

static int setup(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));

	if (!r)
		return -1;
	r->el = evloop_new();
	r->sp[0] = r->sp[1] = -1;
	if (!r->el) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rec *r = *state;

	evloop_free(r->el);
	if (r->sp[0] >= 0)
		close(r->sp[0]);
	if (r->sp[1] >= 0)
		close(r->sp[1]);
	free(r);
	return 0;
}

static void note(struct rec *r, int v)
{
	if (r->n < 64)
		r->order[r->n++] = v;
	if (r->stop_after && r->n == r->stop_after)
		evloop_stop(r->el);
}

/* Each timer's arg is its tag; the record is reached through a global. */
static struct rec *cur;

static void on_timer(struct evloop *el, int64_t id, void *arg)
{
	note(cur, (int)(intptr_t)arg);
}

/* Run rounds until n callbacks were recorded; fails past MAX_ROUNDS. */
static void run_until(struct rec *r, int n)
{
	int i;

	for (i = 0; i < MAX_ROUNDS && r->n < n; i++)
		assert_true(evloop_run_once(r->el, 50) >= 0);
	assert_true(r->n >= n);
}

static void test_timers_fire_in_order(void **state)
{
	struct rec *r = cur = *state;

	/* Added out of order; two due at once fire in the order added. */
	assert_true(evloop_timer_add(r->el, 30, 0, on_timer, (void *)3) > 0);
	assert_true(evloop_timer_add(r->el, 10, 0, on_timer, (void *)1) > 0);
	assert_true(evloop_timer_add(r->el, 20, 0, on_timer, (void *)2) > 0);
	assert_true(evloop_timer_add(r->el, 20, 0, on_timer, (void *)22) > 0);
	assert_true(evloop_timer_add(r->el, 0, 0, on_timer, (void *)0) > 0);
	run_until(r, 5);
	assert_int_equal(r->n, 5);
	assert_int_equal(r->order[0], 0);
	assert_int_equal(r->order[1], 1);
	assert_int_equal(r->order[2], 2);
	assert_int_equal(r->order[3], 22);
	assert_int_equal(r->order[4], 3);
	/* One-shot timers are gone once fired. */
	assert_int_equal(evloop_run_once(r->el, 0), 0);
	assert_int_equal(r->n, 5);
}

static void on_periodic(struct evloop *el, int64_t id, void *arg)
{
	struct rec *r = arg;

	note(r, 7);
	if (r->n == 4)
		assert_int_equal(evloop_timer_del(el, id), 0);
}

static void test_periodic_rearms_until_cancelled(void **state)
{
	struct rec *r = *state;
	int i;

	assert_true(evloop_timer_add(r->el, 1, 1, on_periodic, r) > 0);
	run_until(r, 4);
	/* Cancelled from its own callback at the fourth run: no fifth. */
	for (i = 0; i < 5; i++)
		evloop_run_once(r->el, 5);
	assert_int_equal(r->n, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(r->order[i], 7);
}

static void on_cancel_other(struct evloop *el, int64_t id, void *arg)
{
	struct rec *r = arg;

	note(r, 1);
	/* The second timer is due in the same pass: it must not run. */
	assert_int_equal(evloop_timer_del(el, r->ids[1]), 0);
}

static void on_must_not_run(struct evloop *el, int64_t id, void *arg)
{
	note(arg, 99);
}

static void test_cancel(void **state)
{
	struct rec *r = *state;
	int64_t far;
	int i;

	r->ids[0] = evloop_timer_add(r->el, 0, 0, on_cancel_other, r);
	r->ids[1] = evloop_timer_add(r->el, 0, 0, on_must_not_run, r);
	far = evloop_timer_add(r->el, 5, 0, on_must_not_run, r);
	assert_true(r->ids[0] > 0 && r->ids[1] > r->ids[0] && far > r->ids[1]);
	assert_int_equal(evloop_timer_del(r->el, far), 0);
	assert_int_equal(evloop_timer_del(r->el, far), -ENOENT);
	assert_int_equal(evloop_timer_del(r->el, 12345), -ENOENT);
	run_until(r, 1);
	for (i = 0; i < 3; i++)
		evloop_run_once(r->el, 10);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->order[0], 1);
}

static void on_readable(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct rec *r = arg;
	ssize_t n;

	r->last_events = events;
	n = read(fd, r->got + r->got_len, sizeof(r->got) - r->got_len);
	if (n > 0)
		r->got_len += (size_t)n;
	if (n == 0) {
		note(r, 0); /* end of stream */
		assert_int_equal(evloop_fd_del(el, fd), 0);
		return;
	}
	note(r, (int)n);
}

static void on_writable(struct evloop *el, int fd, uint32_t events, void *arg)
{
	struct rec *r = arg;

	assert_true(events & EVLOOP_WRITE);
	assert_int_equal(write(fd, "hello", 5), 5);
	/* Written once: stop asking, or this would fire every round. */
	assert_int_equal(evloop_fd_mod(el, fd, 0), 0);
	note(r, 100);
}

static void test_fd_events(void **state)
{
	struct rec *r = *state;
	int i;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, r->sp), 0);
	assert_int_equal(
		evloop_fd_add(r->el, r->sp[0], EVLOOP_READ, on_readable, r), 0);
	assert_int_equal(
		evloop_fd_add(r->el, r->sp[0], EVLOOP_READ, on_readable, r),
		-EEXIST);
	assert_int_equal(evloop_fd_add(r->el, -1, EVLOOP_READ, on_readable, r),
			 -EINVAL);
	assert_int_equal(evloop_fd_mod(r->el, 999, EVLOOP_READ), -ENOENT);
	assert_int_equal(
		evloop_fd_add(r->el, r->sp[1], EVLOOP_WRITE, on_writable, r),
		0);
	run_until(r, 2); /* the write, then the read of it */
	assert_int_equal(r->order[0], 100);
	assert_int_equal(r->order[1], 5);
	assert_int_equal(r->got_len, 5);
	assert_memory_equal(r->got, "hello", 5);
	assert_true(r->last_events & EVLOOP_READ);

	/* Nothing more to read or write: rounds run no callback. */
	for (i = 0; i < 3; i++)
		assert_int_equal(evloop_run_once(r->el, 0), 0);

	/* The peer hangs up: readable with the error bit, read gives 0. */
	assert_int_equal(evloop_fd_del(r->el, r->sp[1]), 0);
	assert_int_equal(evloop_fd_del(r->el, r->sp[1]), -ENOENT);
	close(r->sp[1]);
	r->sp[1] = -1;
	run_until(r, 3);
	assert_int_equal(r->order[2], 0);
	assert_true(r->last_events & EVLOOP_ERROR);
	assert_int_equal(evloop_fd_del(r->el, r->sp[0]), -ENOENT);
}

static void on_stop(struct evloop *el, int64_t id, void *arg)
{
	note(arg, 1);
	evloop_stop(el);
}

static void test_stop_from_callback(void **state)
{
	struct rec *r = cur = *state;

	/* Both due in one pass: the stop keeps the second from running. */
	assert_true(evloop_timer_add(r->el, 0, 0, on_stop, r) > 0);
	assert_true(evloop_timer_add(r->el, 0, 0, on_timer, (void *)2) > 0);
	assert_int_equal(evloop_run(r->el), 0);
	assert_int_equal(r->n, 1);
	/* The loop can run again; the second timer is still there. */
	assert_true(evloop_timer_add(r->el, 1, 0, on_stop, r) > 0);
	assert_int_equal(evloop_run(r->el), 0);
	assert_int_equal(r->n, 3);
	assert_int_equal(r->order[1], 2);
	assert_int_equal(r->order[2], 1);
	/* A stop before run returns at once. */
	evloop_stop(r->el);
	assert_int_equal(evloop_run(r->el), 0);
	assert_int_equal(r->n, 3);
}

static void on_signal(struct evloop *el, int signo, void *arg)
{
	struct rec *r = arg;

	note(r, signo);
	if (signo == SIGTERM)
		evloop_stop(el);
}

static void test_signals(void **state)
{
	struct rec *r = *state;
	sigset_t now;

	assert_int_equal(evloop_signal_add(r->el, SIGHUP, on_signal, r), 0);
	assert_int_equal(evloop_signal_add(r->el, SIGTERM, on_signal, r), 0);
	assert_int_equal(evloop_signal_add(r->el, SIGHUP, on_signal, r),
			 -EEXIST);
	assert_int_equal(evloop_signal_add(r->el, SIGKILL, on_signal, r),
			 -EINVAL);
	assert_int_equal(evloop_signal_add(r->el, 0, on_signal, r), -EINVAL);
	/* Blocked while the loop holds them, so raise() only queues them. */
	assert_int_equal(raise(SIGHUP), 0);
	run_until(r, 1);
	assert_int_equal(r->order[0], SIGHUP);
	assert_int_equal(raise(SIGTERM), 0);
	assert_int_equal(evloop_run(r->el), 0);
	assert_int_equal(r->n, 2);
	assert_int_equal(r->order[1], SIGTERM);

	/* Freeing the loop gives the signals back. */
	evloop_free(r->el);
	r->el = evloop_new();
	assert_non_null(r->el);
	assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &now), 0);
	assert_false(sigismember(&now, SIGHUP));
	assert_false(sigismember(&now, SIGTERM));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timers_fire_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_periodic_rearms_until_cancelled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fd_events, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_from_callback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_signals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
