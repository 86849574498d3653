/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steerd's side of a service manager's protocol (sd_notify(3), systemd's
 * Type=notify): READY once it serves, RELOADING then READY around a
 * reload, STOPPING when it begins to stop, WATCHDOG pings from the event
 * loop, and a STATUS line for `systemctl status`. Without $NOTIFY_SOCKET
 * (a daemon started by hand, by the lab or by a test) every function
 * does nothing.
 */
#ifndef STEER_SERVICE_H
#define STEER_SERVICE_H

#include <stdint.h>

#include "util/evloop.h"

/* READY=1 with status as the STATUS= line (NULL: none). */
void service_ready(const char *status);

/* RELOADING=1 with the CLOCK_MONOTONIC time the reload began, as
 * Type=notify-reload wants; service_ready() ends the reload. */
void service_reloading(void);

/* STOPPING=1: the manager waits for the exit from now on. */
void service_stopping(void);

/* A STATUS= line alone, printf-style. */
void service_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * When the manager asks for watchdog pings ($WATCHDOG_USEC for this
 * process), send WATCHDOG=1 every half of that period from a timer of el,
 * so a loop that stops turning stops the pings. Returns the timer's id
 * (> 0), 0 when no watchdog is asked for, or -ENOMEM.
 */
int64_t service_watchdog_start(struct evloop *el);

#endif /* STEER_SERVICE_H */
