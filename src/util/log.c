// SPDX-License-Identifier: GPL-2.0-only
#include "util/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/time.h>

static enum log_level log_level = LOG_INFO;
static bool log_stamps, log_prefixes;

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

void log_set_level_prefixes(bool on)
{
	log_prefixes = on;
}

bool log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	if (!env || sscanf(env, "%llu:%llu%c", &dev, &ino, &end) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

/* RFC 3339, UTC, to the millisecond: lines of several daemons (one per
 * node of a lab) merge into one timeline. */
static void log_stamp(void)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ ",
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		tm.tm_min, tm.tm_sec, (long)tv.tv_usec / 1000);
}

/* sd-daemon(3)'s "<N>" prefix: the syslog priority journald files the
 * line under. */
static int log_syslog_priority(enum log_level lvl)
{
	static const int prio[] = {3, 4, 6, 7}; /* err, warning, info, debug */

	return prio[lvl];
}

void log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_level)
		return;
	if (log_prefixes)
		fprintf(stderr, "<%d>", log_syslog_priority(lvl));
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
