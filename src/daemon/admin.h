/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The admin socket: a Unix stream socket steerctl talks to.
 *
 * Protocol (version 1). A request is one line of printable ASCII words
 * separated by blanks, ended by '\n' (a '\r' before it is ignored), at
 * most ADMIN_REQ_MAX bytes with the newline:
 *
 *   version
 *   help
 *   nodes
 *   flows [limit N]
 *   sessions [limit N]
 *   templates
 *   counters
 *   shards [N]
 *   flow-set PROTO SRC SPORT DST DPORT OWNER EPOCH
 *   flow-del PROTO SRC SPORT DST DPORT
 *
 * PROTO is tcp, udp or a protocol number 1..255; SRC and DST are IPv4 or
 * IPv6 addresses of one family; OWNER is a node id or name.
 *
 * Each request gets exactly one answer: one line of JSON ended by '\n'
 * (newline-delimited JSON; strings never hold a raw newline):
 *
 *   {"ok":true,"result":{...}}
 *   {"ok":false,"error":"flows: 'limit' expects an integer in 1..100000",
 *    "usage":true}
 *   {"ok":false,"error":"flow-del: no such flow"}
 *
 * "usage":true marks a usage error: the request does not fit a command's
 * usage (an unknown command, a wrong number of words, a word that is not
 * the keyword, integer, address or port its place expects, a request
 * that is empty, too long or not printable ASCII). The words are checked
 * before the daemon's state, so a malformed request is a usage error on
 * every node. Other errors (a well-formed request that cannot be done
 * here or now: no cell runs, no such flow, a name the cluster does not
 * declare) carry no "usage" member. steerctl exits 2 for the first, 1
 * for the others.
 *
 * A value that is absent (a node without an IPv6 address, a template
 * without a UDP port, no reload error) is JSON null, never "".
 *
 * A client may send any number of requests on one connection; answers
 * come in order. A request longer than ADMIN_REQ_MAX gets the error
 * "request too long" and the connection is closed after it (the rest of
 * the line cannot be told from the next request). At most
 * ADMIN_MAX_CLIENTS connections are served at once; one more is closed
 * at once. A client that goes away mid-answer costs nothing but the
 * answer. The socket file is created mode 0660 and removed on shutdown.
 */
#ifndef STEER_ADMIN_H
#define STEER_ADMIN_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/jsonw.h"

#define ADMIN_PROTO_VERSION 1
#define ADMIN_REQ_MAX 1024
#define ADMIN_MAX_CLIENTS 64
#define ADMIN_MAX_WORDS 16
#define ADMIN_FLOWS_DEFAULT 100
#define ADMIN_FLOWS_MAX 100000
/* Answers queued to one slow client beyond this close it. */
#define ADMIN_OUT_MAX (64u << 20)

struct steerd;
struct evloop;

struct admin_stats {
	uint64_t requests;
	uint64_t errors;   /* requests answered with ok:false */
	uint64_t accepted; /* connections */
	uint64_t rejected; /* connections over ADMIN_MAX_CLIENTS */
	uint64_t too_long; /* requests over ADMIN_REQ_MAX */
	uint32_t clients;  /* connected now */
};

struct admin;

/*
 * Listen on path and serve requests from loop el against daemon d. A
 * stale socket file (nobody accepting on it) is replaced; a live one is
 * -EADDRINUSE ("another steerd is running"). The parent directory is
 * created (mode 0755) when missing. Returns NULL with errno set and the
 * reason in err.
 */
struct admin *admin_new(struct evloop *el, struct steerd *d, const char *path,
			char *err, size_t errlen);

/* Close every client and the socket, and remove the socket file if it is
 * still the one this server created. NULL is fine. */
void admin_free(struct admin *a);

const struct admin_stats *admin_stats(const struct admin *a);

/*
 * Answer one request (line, without its newline; modified in place) into
 * out as a whole JSON document. Never fails: errors are answers. Returns
 * 0 for an ok answer, -EINVAL for an error answer, -ENOMEM when even the
 * error answer could not be written (out is then unusable: the caller
 * sends a fixed "out of memory" answer). A handler whose answer jsonw
 * refuses (a structure error, jsonw.h) answers "internal error: ...".
 */
int admin_handle(struct steerd *d, char *line, struct jsonw *out);

struct flow_key;

/* PROTO SRC SPORT DST DPORT from argv[0..4] into k: 0, or -EINVAL with
 * "cmd: ..." in err. */
int admin_parse_key(const char *cmd, char **argv, struct flow_key *k, char *err,
		    size_t errlen);

/* Members proto, src, sport, dst, dport of k: for the admin_* modules. */
void admin_key_write(struct jsonw *w, const struct flow_key *k);

#endif /* STEER_ADMIN_H */
