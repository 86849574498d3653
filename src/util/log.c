// SPDX-License-Identifier: GPL-2.0-only
#include "util/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <sys/time.h>
#include <stdio.h>
#include <time.h>

static enum log_level log_level = LOG_INFO;
static bool log_stamps;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_set_timestamps(bool on)
{
	log_stamps = on;
}

/* Wall-clock time, UTC, to the millisecond: lines of several daemons
 * (one per node of a lab) merge into one timeline. */
static void log_stamp(void)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	fprintf(stderr, "%02d:%02d:%02d.%03ld ", tm.tm_hour, tm.tm_min,
		tm.tm_sec, (long)tv.tv_usec / 1000);
}

void log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level)
		return;
	if (log_stamps)
		log_stamp();
	fprintf(stderr, "%s: %s: ", level_names[lvl], mod);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int log_ratelimit_ok(struct log_ratelimit *rl)
{
	uint64_t t = now_ns();

	if (rl->last_ns)
		rl->tokens += (double)(t - rl->last_ns) * rl->per_sec / 1e9;
	rl->last_ns = t;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	if (rl->tokens < 1.0) {
		rl->suppressed++;
		return 0;
	}
	rl->tokens -= 1.0;
	if (rl->suppressed) {
		log_msg(LOG_WARN, "log", "%llu similar lines suppressed",
			(unsigned long long)rl->suppressed);
		rl->suppressed = 0;
	}
	return 1;
}
