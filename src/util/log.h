/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one logging module: levels, a module tag per line, printf-checked,
 * and a rate limiter for hot paths (bad packets, bad datagrams).
 */
#ifndef STEER_LOG_H
#define STEER_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Lines above this level are dropped; default LOG_INFO. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/* Lines start with the UTC time, RFC 3339 to the millisecond
 * ("2026-12-07T22:10:09.123Z "; off by default: the daemon turns it on
 * unless journald, which stamps lines itself, takes them). */
void log_set_timestamps(bool on);

/* Lines start with a syslog priority, "<3>" for errors to "<7>" for
 * debug, as journald reads them on a service's stderr (off by default). */
void log_set_level_prefixes(bool on);

/* Is stderr the stream systemd connected to journald? True when
 * $JOURNAL_STREAM ("DEV:INO") names stderr's device and inode, as
 * systemd.exec(5) documents; false for a stream merely inherited from a
 * service (a shell redirecting it elsewhere keeps the variable). */
bool log_stderr_is_journal(void);

void log_msg(enum log_level lvl, const char *mod, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(mod, ...) log_msg(LOG_ERR, mod, __VA_ARGS__)
#define log_warn(mod, ...) log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_info(mod, ...) log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)

/*
 * Token bucket: at most burst lines, refilled at per_sec lines a second.
 * log_ratelimit_ok() returns 1 when a line may be printed now; suppressed
 * lines are counted and reported by the next line that gets through.
 */
struct log_ratelimit {
	uint32_t per_sec;
	uint32_t burst;
	double tokens;
	uint64_t last_ns;
	uint64_t suppressed;
};

#define LOG_RATELIMIT_INIT(rate, b)                                            \
	{                                                                      \
		.per_sec = (rate), .burst = (b), .tokens = (b)                 \
	}

int log_ratelimit_ok(struct log_ratelimit *rl);

#define log_warn_rl(rl, mod, ...)                                              \
	do {                                                                   \
		if (log_ratelimit_ok(rl))                                      \
			log_msg(LOG_WARN, mod, __VA_ARGS__);                   \
	} while (0)

#endif /* STEER_LOG_H */
