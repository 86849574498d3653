// SPDX-License-Identifier: GPL-2.0-only
/*
 * daemon/service against a notification socket of our own: READY with
 * its STATUS, RELOADING with a monotonic time, STOPPING, STATUS alone;
 * watchdog pings at half of WATCHDOG_USEC from the loop's timer, none
 * asked without it; without NOTIFY_SOCKET nothing is sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "daemon/service.h"
#include "util/evloop.h"

struct fx {
	char path[64];
	int fd;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	if (!f)
		return -1;
	snprintf(f->path, sizeof(f->path), "/tmp/service_test.%ld",
		 (long)getpid());
	unlink(f->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	setenv("NOTIFY_SOCKET", f->path, 1);
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	close(f->fd);
	unlink(f->path);
	free(f);
	return 0;
}

/* The next datagram, "" when there is none. */
static const char *next_msg(const struct fx *f)
{
	static char buf[512];
	ssize_t n = recv(f->fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_messages(void **state)
{
	struct fx *f = *state;
	const char *m;

	service_ready("serving: cluster 'lab'");
	assert_string_equal(next_msg(f), "READY=1\nSTATUS=serving: cluster "
					 "'lab'");
	service_ready(NULL);
	assert_string_equal(next_msg(f), "READY=1");
	service_reloading();
	m = next_msg(f);
	assert_true(!strncmp(m, "RELOADING=1\nMONOTONIC_USEC=", 27));
	assert_true(strtoull(m + 27, NULL, 10) > 0);
	service_stopping();
	assert_string_equal(next_msg(f), "STOPPING=1\nSTATUS=stopping");
	service_status("%d flows", 7);
	assert_string_equal(next_msg(f), "STATUS=7 flows");
	assert_string_equal(next_msg(f), "");
}

static void test_silent_without_socket(void **state)
{
	struct fx *f = *state;

	unsetenv("NOTIFY_SOCKET");
	service_ready("x");
	service_stopping();
	assert_string_equal(next_msg(f), "");
}

static void test_watchdog(void **state)
{
	struct fx *f = *state;
	struct evloop *el = evloop_new();
	int pings = 0, i;

	assert_non_null(el);
	assert_int_equal(service_watchdog_start(el), 0); /* none asked */
	setenv("WATCHDOG_USEC", "40000", 1); /* 40 ms: pings at 20 */
	assert_true(service_watchdog_start(el) > 0);
	for (i = 0; i < 20 && pings < 3; i++) {
		evloop_run_once(el, 30);
		while (!strcmp(next_msg(f), "WATCHDOG=1"))
			pings++;
	}
	assert_true(pings >= 3);
	evloop_free(el);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_messages, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_silent_without_socket,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_watchdog, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
