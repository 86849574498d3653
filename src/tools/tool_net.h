/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small socket and clock helpers shared by the lab's traffic tools
 * (steer-echo, steer-traffic). Not part of the steer library.
 *
 * The lab's line protocol, spoken over TCP and UDP alike:
 *   request  "ID SEQ\n"          (decimal; the client's flow id, sequence)
 *   answer   "HOST ID SEQ\n"     (the echo, prefixed by the answering host)
 * A TCP request line is at most TOOL_LINE_MAX bytes with its newline; a
 * UDP request is one datagram of the same form.
 */
#ifndef STEER_TOOL_NET_H
#define STEER_TOOL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define TOOL_LINE_MAX 128
#define TOOL_HOST_MAX 32 /* host name bytes including the NUL */

/* CLOCK_MONOTONIC in ns. */
uint64_t tool_now_ns(void);

/*
 * Parse a numeric IPv4 or IPv6 address and a port into ss. Returns 0, or
 * -EINVAL for anything that is not a numeric address.
 */
int tool_addr_parse(const char *s, uint16_t port, struct sockaddr_storage *ss,
		    socklen_t *len);

/* "ADDR" or "[ADDR]" and the port of ss, into buf (at least 64 bytes). */
const char *tool_addr_str(const struct sockaddr_storage *ss, char *buf,
			  size_t len);

int tool_fd_nonblock(int fd);

/*
 * Raise the soft limit of open files to at least want (up to the hard
 * limit). Returns 0, or -EMFILE when the hard limit is lower than want.
 */
int tool_nofile_raise(unsigned long want);

/*
 * Parse an unsigned decimal in [min, max] from s (the whole string).
 * Returns 0 or -EINVAL.
 */
int tool_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * Parse an answer line "HOST ID SEQ" (without its newline) of len bytes.
 * host gets the NUL-terminated name. Returns 0, or -EINVAL for a line not
 * of that form (name too long, missing or non-decimal numbers).
 */
int tool_answer_parse(const char *line, size_t len, char *host, uint32_t *id,
		      uint32_t *seq);

#endif /* STEER_TOOL_NET_H */
