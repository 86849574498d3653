// SPDX-License-Identifier: GPL-2.0-only
#include "daemon/service.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "util/log.h"

#define MOD "service"

/* sd_notify() is itself a no-op without $NOTIFY_SOCKET; a failure to
 * tell the manager is logged once and otherwise ignored: steerd serves
 * the same either way. */
static void service_send(const char *msg)
{
	static int warned;
	int ret = sd_notify(0, msg);

	if (ret < 0 && !warned) {
		warned = 1;
		log_warn(MOD, "cannot notify the service manager: %s",
			 strerror(-ret));
	}
}

void service_ready(const char *status)
{
	char msg[256];

	if (status)
		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	else
		snprintf(msg, sizeof(msg), "READY=1");
	service_send(msg);
}

void service_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull +
			 (unsigned long long)ts.tv_nsec / 1000);
	service_send(msg);
}

void service_stopping(void)
{
	service_send("STOPPING=1\nSTATUS=stopping");
}

void service_status(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n = snprintf(msg, sizeof(msg), "STATUS=");

	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	service_send(msg);
}

static void service_on_watchdog(struct evloop *el, int64_t id, void *arg)
{
	service_send("WATCHDOG=1");
}

int64_t service_watchdog_start(struct evloop *el)
{
	uint64_t usec, ms;
	int64_t id;

	if (sd_watchdog_enabled(0, &usec) <= 0)
		return 0;
	ms = usec / 2000;
	if (!ms)
		ms = 1;
	id = evloop_timer_add(el, ms, ms, service_on_watchdog, NULL);
	if (id > 0)
		log_info(MOD, "watchdog: a ping every %llu ms",
			 (unsigned long long)ms);
	return id;
}
