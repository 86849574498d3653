/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where this node's packets to an address go, as the kernel sees it: the
 * FIB's route (output interface, gateway) and the neighbour table's MAC
 * of the next hop (the address itself on the link, else the gateway).
 * Templates to other nodes are built from this, so they follow the
 * kernel when a route or a neighbour changes; a monitor socket says when
 * that happens. rtnetlink through libmnl (messages built and parsed by
 * it); the sockets are plain file descriptors the caller polls and closes.
 */
#ifndef STEER_NEXTHOP_H
#define STEER_NEXTHOP_H

#include <stdbool.h>
#include <stdint.h>

#include <steer/flow.h>

struct nh_result {
	int ifindex;	      /* output interface */
	bool via_gateway;     /* next hop is a router, not the address */
	struct flow_addr gw;  /* the gateway, when via_gateway */
	struct flow_addr src; /* preferred source; zero if the FIB has none */
	uint8_t mac[6];	      /* of the next hop */
};

/* A NETLINK_ROUTE socket for queries: fd, or -errno. */
int nh_open(void);

/*
 * Resolve dst (v4-mapped for IPv4). Returns 0 with out filled,
 * -ENETUNREACH without a route (or a route that is not unicast),
 * -EAGAIN when the next hop's MAC is not known yet (nothing has been sent
 * to it, or it does not answer), -errno of the socket.
 */
int nh_resolve(int fd, const struct flow_addr *dst, struct nh_result *out);

/* MAC address of interface ifindex: 0 or -errno. */
int nh_if_mac(int ifindex, uint8_t mac[6]);

/*
 * A socket that turns readable when a route or a neighbour changes
 * (RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE): fd or -errno.
 * nh_monitor_drain() empties it; the caller then resolves again.
 */
int nh_monitor_open(void);
void nh_monitor_drain(int fd);

#endif /* STEER_NEXTHOP_H */
