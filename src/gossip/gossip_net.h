/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Gossip over UDP: the socket glue between a gossip node and the
 * network, for IPv4 and IPv6. It owns one non-blocking UDP socket; its
 * io (gossip_net_io) sends with sendto() and reads CLOCK_MONOTONIC in
 * milliseconds (the clock of util/evloop's timers), and
 * gossip_net_recv() drains the socket into gossip_recv().
 *
 * A daemon plugs it into its event loop:
 *
 *	net = gossip_net_open(&bind_addr);
 *	gossip_net_io(net, &io);
 *	g = gossip_new(&cfg, &io, &ev);
 *	on EVLOOP_READ of gossip_net_fd(net): gossip_net_recv(net, g, 64);
 *	after every gossip call: re-arm a timer for gossip_next_deadline(g)
 *	and run gossip_tick(g) when it fires.
 *
 * Addresses are struct gossip_addr: IPv4 as v4-mapped IPv6, port in host
 * order. A socket bound to an IPv6 address (the wildcard :: included)
 * also carries IPv4 unless the system forbids it (bindv6only); one bound
 * to IPv4 reaches IPv4 peers only.
 */
#ifndef STEER_GOSSIP_NET_H
#define STEER_GOSSIP_NET_H

#include <stddef.h>
#include <stdint.h>

#include "gossip/gossip.h"

struct gossip_net;

struct gossip_net_counters {
	uint64_t rx;	   /* datagrams handed to gossip_recv() */
	uint64_t rx_trunc; /* larger than GOSSIP_DGRAM_MAX: dropped */
	uint64_t rx_err;   /* recvfrom() errors other than EAGAIN */
	uint64_t tx;	   /* datagrams sent */
	uint64_t tx_err;   /* sendto() failures (incl. family mismatch) */
	uint64_t rx_bytes; /* UDP payload bytes of the datagrams in rx */
	uint64_t tx_bytes; /* UDP payload bytes of the datagrams in tx */
};

/*
 * Open a UDP socket bound to addr (port 0: an ephemeral port; see
 * gossip_net_local). Returns NULL with errno EINVAL (NULL addr), or the
 * errno of socket() or bind() (EADDRINUSE, EADDRNOTAVAIL, EAFNOSUPPORT
 * when the kernel has no IPv6, ...).
 */
struct gossip_net *gossip_net_open(const struct gossip_addr *addr);

/* Close the socket and free n; NULL is fine. Remove the descriptor from
 * any event loop first. */
void gossip_net_close(struct gossip_net *n);

/* The socket, to watch for reading. */
int gossip_net_fd(const struct gossip_net *n);

/* The address the socket is bound to, the chosen port included.
 * Returns 0 or the negative errno of getsockname(). */
int gossip_net_local(const struct gossip_net *n, struct gossip_addr *out);

/* Fill io for gossip_new(): sends go out through n. n must outlive the
 * node. */
void gossip_net_io(struct gossip_net *n, struct gossip_io *io);

/*
 * Read up to max datagrams (or until the socket is empty) and hand each
 * to gossip_recv(g) with its source address. A refused datagram is the
 * node's business (its counters); this counts only socket errors.
 * Returns how many were read, or a negative errno when the first read
 * failed for another reason than an empty socket.
 */
int gossip_net_recv(struct gossip_net *n, struct gossip *g, uint32_t max);

/* Send one datagram (the io's send): 0 or a negative errno (-EAGAIN
 * when the socket buffer is full, -EAFNOSUPPORT for an IPv6 peer on an
 * IPv4 socket). */
int gossip_net_send(struct gossip_net *n, const struct gossip_addr *to,
		    const void *buf, size_t len);

const struct gossip_net_counters *
gossip_net_counters(const struct gossip_net *n);

/* Milliseconds on CLOCK_MONOTONIC (the io's now_ms). */
uint64_t gossip_net_now_ms(void);

/*
 * Parse a numeric address: "192.0.2.1", "192.0.2.1:7946", "2001:db8::1",
 * "[2001:db8::1]:7946" (no name resolution; a missing port is
 * default_port). Returns 0 or -EINVAL.
 */
int gossip_addr_parse(const char *s, uint16_t default_port,
		      struct gossip_addr *out);

/* Write "192.0.2.1:7946" or "[2001:db8::1]:7946" into buf (NUL
 * terminated, truncated to len); returns buf. 64 bytes always suffice. */
char *gossip_addr_format(const struct gossip_addr *a, char *buf, size_t len);

#endif /* STEER_GOSSIP_NET_H */
