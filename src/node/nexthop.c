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

#include <libmnl/libmnl.h>

#define NH_BUF 8192
#define NH_REQ 128 /* a query: headers and one address */
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

/* The answer nh_talk() waits for, and what it made of it. */
struct nh_want {
	uint16_t type;
	mnl_cb_t parse;
	void *data;
	bool found;
	int ret;
};

/* mnl_cb_run()'s data callback: the first message of the wanted type is
 * the answer; others are passed over. */
static int nh_pick(const struct nlmsghdr *nlh, void *data)
{
	struct nh_want *w = data;

	if (nlh->nlmsg_type != w->type)
		return MNL_CB_OK;
	w->found = true;
	w->ret = w->parse(nlh, w->data);
	/* A malformed answer is an error, not "no answer". */
	if (w->ret == MNL_CB_ERROR)
		w->ret = -EBADMSG;
	return MNL_CB_STOP;
}

/*
 * Send request nlh and read its one answer of type want, handing it to
 * parse (data: its argument). A datagram of an earlier query (a late
 * answer, another sequence number) is skipped. Returns parse's MNL_CB_*
 * result (>= 0), or -errno from an NLMSG_ERROR (an acknowledgement
 * without the answer: -ENOENT), or of the socket (-ETIMEDOUT when the
 * kernel kept silent past SO_RCVTIMEO).
 */
static int nh_talk(int fd, struct nlmsghdr *nlh, uint16_t want, mnl_cb_t parse,
		   void *data)
{
	static uint32_t seq;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	struct nh_want ctx = {.type = want, .parse = parse, .data = data};
	char buf[NH_BUF];
	ssize_t r;
	int ret;

	nlh->nlmsg_seq = ++seq;
	if (sendto(fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		r = recv(fd, buf, sizeof(buf), 0);
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		ret = mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq, 0, nh_pick,
				 &ctx);
		if (ret < 0 && errno == EPROTO)
			continue; /* a late answer to an old query (mnl_cb_run()
				   * says EPROTO for another sequence number) */
		if (ret < 0)
			return -errno;
		if (ctx.found)
			return ctx.ret;
		if (ret == MNL_CB_STOP)
			return -ENOENT; /* acknowledged, no answer */
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

/* What a route answer is read into. */
struct nh_route_ctx {
	struct nh_result *out;
	int family;
	size_t alen;
	bool unicast;
};

static int nh_route_attr(const struct nlattr *a, void *data)
{
	struct nh_route_ctx *c = data;
	struct nh_result *out = c->out;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			out->ifindex = (int)mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (len == c->alen) {
			out->via_gateway = true;
			nh_addr_get(&out->gw, c->family,
				    mnl_attr_get_payload(a));
		}
		break;
	case RTA_PREFSRC:
		if (len == c->alen)
			nh_addr_get(&out->src, c->family,
				    mnl_attr_get_payload(a));
		break;
	}
	return MNL_CB_OK;
}

static int nh_route_parse(const struct nlmsghdr *nlh, void *data)
{
	struct nh_route_ctx *c = data;
	const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*rt))
		return MNL_CB_ERROR;
	c->unicast = rt->rtm_type == RTN_UNICAST;
	if (!c->unicast)
		return MNL_CB_STOP;
	return mnl_attr_parse(nlh, sizeof(*rt), nh_route_attr, c);
}

/* The route to dst: output interface, gateway, preferred source. */
static int nh_route(int fd, const struct flow_addr *dst, struct nh_result *out)
{
	char req[NH_REQ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct nh_route_ctx c = {.out = out};
	struct rtmsg *rt;
	const void *raw;
	int err;

	c.family = nh_family(dst, &raw, &c.alen);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
	rt->rtm_family = (unsigned char)c.family;
	rt->rtm_dst_len = (unsigned char)(c.alen * 8);
	mnl_attr_put(nlh, RTA_DST, c.alen, raw);
	err = nh_talk(fd, nlh, RTM_NEWROUTE, nh_route_parse, &c);
	/* The kernel answers a blackhole route with EINVAL and a prohibit
	 * route with EACCES: no way there either. */
	if (err < 0)
		return err == -ENETUNREACH || err == -EHOSTUNREACH ||
				       err == -ENOENT || err == -EINVAL ||
				       err == -EACCES
			       ? -ENETUNREACH
			       : err;
	if (!c.unicast)
		return -ENETUNREACH; /* local, blackhole, unreachable */
	return out->ifindex ? 0 : -ENETUNREACH;
}

static int nh_neigh_attr(const struct nlattr *a, void *data)
{
	uint8_t *mac = data;

	if (mnl_attr_get_type(a) == NDA_LLADDR &&
	    mnl_attr_get_payload_len(a) == 6) {
		memcpy(mac, mnl_attr_get_payload(a), 6);
		return MNL_CB_STOP;
	}
	return MNL_CB_OK;
}

static int nh_neigh_parse(const struct nlmsghdr *nlh, void *data)
{
	const struct ndmsg *nd = mnl_nlmsg_get_payload(nlh);

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*nd))
		return MNL_CB_ERROR;
	if (!(nd->ndm_state & NH_NUD_USABLE))
		return MNL_CB_OK; /* no MAC to use */
	/* MNL_CB_STOP once the MAC is found; OK when there is none. */
	return mnl_attr_parse(nlh, sizeof(*nd), nh_neigh_attr, data);
}

/* MAC of neighbour addr on ifindex, when the kernel has a usable one. */
static int nh_neigh(int fd, const struct flow_addr *addr, int ifindex,
		    uint8_t mac[6])
{
	char req[NH_REQ];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct ndmsg *nd;
	const void *raw;
	size_t alen;
	int family = nh_family(addr, &raw, &alen), err;

	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = (unsigned char)family;
	nd->ndm_ifindex = ifindex;
	mnl_attr_put(nlh, NDA_DST, alen, raw);
	err = nh_talk(fd, nlh, RTM_NEWNEIGH, nh_neigh_parse, mac);
	if (err < 0)
		return err == -ENOENT ? -EAGAIN : err;
	return err == MNL_CB_STOP ? 0 : -EAGAIN;
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
