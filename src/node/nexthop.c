// SPDX-License-Identifier: GPL-2.0-only
#include "node/nexthop.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define NH_BUF 8192
#define NH_NUD_USABLE                                                          \
	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT |   \
	 NUD_NOARP)

int nh_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = 1};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	/* A query never waits long for the kernel. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

static void nh_attr_put(struct nlmsghdr *n, size_t max, int type,
			const void *data, size_t len)
{
	struct rtattr *rta = (void *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len) > max)
		return;
	rta->rta_type = (unsigned short)type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_SPACE(len);
}

/*
 * Send request n and read the one answer of type want into buf. Returns
 * the answer, NULL with *err set (-errno from an NLMSG_ERROR, or of the
 * socket).
 */
static struct nlmsghdr *nh_talk(int fd, struct nlmsghdr *n, int want, char *buf,
				size_t len, int *err)
{
	static __u32 seq;
	struct nlmsghdr *h;
	ssize_t r;

	n->nlmsg_seq = ++seq;
	if (send(fd, n, n->nlmsg_len, 0) < 0) {
		*err = -errno;
		return NULL;
	}
	for (;;) {
		r = recv(fd, buf, len, 0);
		if (r < 0) {
			*err = errno == EAGAIN ? -ETIMEDOUT : -errno;
			return NULL;
		}
		for (h = (void *)buf; NLMSG_OK(h, (size_t)r);
		     h = NLMSG_NEXT(h, r)) {
			if (h->nlmsg_seq != n->nlmsg_seq)
				continue; /* a late answer to an old query */
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				*err = e->error ? e->error : -ENOENT;
				return NULL;
			}
			if (h->nlmsg_type == want)
				return h;
		}
	}
}

static int nh_family(const struct flow_addr *a, const void **raw, size_t *len)
{
	if (flow_addr_is_v4(a)) {
		*raw = &a->w[3];
		*len = 4;
		return AF_INET;
	}
	*raw = a->b;
	*len = 16;
	return AF_INET6;
}

static void nh_addr_get(struct flow_addr *a, int family, const void *raw)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET)
		flow_addr_set_v4(a, *(const __be32 *)raw);
	else
		memcpy(a->b, raw, 16);
}

/* The route to dst: output interface, gateway, preferred source. */
static int nh_route(int fd, const struct flow_addr *dst, struct nh_result *out)
{
	struct {
		struct nlmsghdr n;
		struct rtmsg r;
		char attrs[64];
	} req;
	char buf[NH_BUF];
	struct nlmsghdr *h;
	struct rtattr *a;
	struct rtmsg *rt;
	const void *raw;
	size_t alen;
	int family = nh_family(dst, &raw, &alen), err = 0, len;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.r));
	req.n.nlmsg_type = RTM_GETROUTE;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.r.rtm_family = (unsigned char)family;
	req.r.rtm_dst_len = (unsigned char)(alen * 8);
	nh_attr_put(&req.n, sizeof(req), RTA_DST, raw, alen);
	h = nh_talk(fd, &req.n, RTM_NEWROUTE, buf, sizeof(buf), &err);
	/* The kernel answers a blackhole route with EINVAL and a prohibit
	 * route with EACCES: no way there either. */
	if (!h)
		return err == -ENETUNREACH || err == -EHOSTUNREACH ||
				       err == -ENOENT || err == -EINVAL ||
				       err == -EACCES
			       ? -ENETUNREACH
			       : err;
	rt = NLMSG_DATA(h);
	if (rt->rtm_type != RTN_UNICAST)
		return -ENETUNREACH; /* local, blackhole, unreachable */
	len = (int)RTM_PAYLOAD(h);
	for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_OIF)
			out->ifindex = *(int *)RTA_DATA(a);
		else if (a->rta_type == RTA_GATEWAY) {
			out->via_gateway = true;
			nh_addr_get(&out->gw, family, RTA_DATA(a));
		} else if (a->rta_type == RTA_PREFSRC)
			nh_addr_get(&out->src, family, RTA_DATA(a));
	}
	return out->ifindex ? 0 : -ENETUNREACH;
}

/* MAC of neighbour addr on ifindex, when the kernel has a usable one. */
static int nh_neigh(int fd, const struct flow_addr *addr, int ifindex,
		    uint8_t mac[6])
{
	struct {
		struct nlmsghdr n;
		struct ndmsg nd;
		char attrs[64];
	} req;
	char buf[NH_BUF];
	struct nlmsghdr *h;
	struct ndmsg *nd;
	struct rtattr *a;
	const void *raw;
	size_t alen;
	int family = nh_family(addr, &raw, &alen), err = 0, len;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(req.nd));
	req.n.nlmsg_type = RTM_GETNEIGH;
	req.n.nlmsg_flags = NLM_F_REQUEST;
	req.nd.ndm_family = (unsigned char)family;
	req.nd.ndm_ifindex = ifindex;
	nh_attr_put(&req.n, sizeof(req), NDA_DST, raw, alen);
	h = nh_talk(fd, &req.n, RTM_NEWNEIGH, buf, sizeof(buf), &err);
	if (!h)
		return err == -ENOENT ? -EAGAIN : err;
	nd = NLMSG_DATA(h);
	if (!(nd->ndm_state & NH_NUD_USABLE))
		return -EAGAIN;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*nd)));
	for (a = (void *)((char *)nd + NLMSG_ALIGN(sizeof(*nd)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
			memcpy(mac, RTA_DATA(a), 6);
			return 0;
		}
	}
	return -EAGAIN;
}

int nh_resolve(int fd, const struct flow_addr *dst, struct nh_result *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = nh_route(fd, dst, out);
	if (err)
		return err;
	return nh_neigh(fd, out->via_gateway ? &out->gw : dst, out->ifindex,
			out->mac);
}

int nh_if_mac(int ifindex, uint8_t mac[6])
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	if (!if_indextoname((unsigned)ifindex, ifr.ifr_name))
		err = -ENODEV;
	else if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

int nh_monitor_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups =
			RTMGRP_NEIGH | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	return fd;
}

void nh_monitor_drain(int fd)
{
	char buf[NH_BUF];

	/* Bounded: a flood of changes is read again at the next wake-up. */
	for (int i = 0; i < 64; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}
