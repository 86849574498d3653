// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-synflood: the lab's new-flow generator. Sends N TCP SYNs, each of
 * a new flow (source ports 1024, 1025, ...), from this host's IPv4
 * address to a service, as fast as it can or at --rate per second, for
 * at most --seconds, through a raw socket (sendmmsg, 32 at a time). Nothing answers them here: the
 * backends' SYN-ACKs reach this host's stack, which resets them. For
 * benchmarks of how many new flows per second the cells take.
 *
 *   steer-synflood --src A --target VIP --port P [--count N] [--rate R]
 *                  [--seconds S]
 *
 * Prints "sent N seconds T rate R" (R SYNs per second). Exit 0 when it
 * ran, 1 on bad arguments or without a raw socket (needs CAP_NET_RAW).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "tools/tool_net.h"

#define SF_PORTS 64000u /* source ports 1024 .. 65023 */
#define SF_BATCH 32u	/* SYNs per sendmmsg() */

struct sf_pkt {
	uint8_t ver_ihl, tos;
	uint16_t tot_len, id, frag;
	uint8_t ttl, proto;
	uint16_t csum;
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff, flags;
	uint16_t win, tcsum, urg;
} __attribute__((packed));

static uint16_t sf_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t sf_sum(const void *p, size_t len, uint32_t sum)
{
	const uint16_t *w = p;

	for (; len > 1; len -= 2)
		sum += *w++;
	return sum;
}

/* SYN i: IPv4 + TCP headers, checksums and all. */
static void sf_build(struct sf_pkt *p, uint32_t src, uint32_t dst,
		     uint16_t dport, uint32_t i)
{
	uint32_t sum;

	memset(p, 0, sizeof(*p));
	p->ver_ihl = 0x45;
	p->tot_len = htons(sizeof(*p));
	p->id = htons((uint16_t)i);
	p->ttl = 64;
	p->proto = IPPROTO_TCP;
	p->saddr = src;
	p->daddr = dst;
	p->csum = sf_fold(sf_sum(p, 20, 0));
	p->sport = htons((uint16_t)(1024 + i % SF_PORTS));
	p->dport = dport;
	p->seq = htonl(0x53000000u + i);
	p->doff = 5 << 4;
	p->flags = 0x02;
	p->win = htons(64240);
	/* Pseudo-header: addresses, protocol, TCP length. */
	sum = sf_sum(&p->saddr, 8, 0) + htons(IPPROTO_TCP) + htons(20);
	p->tcsum = sf_fold(sf_sum(&p->sport, 20, sum));
}

static int sf_usage(void)
{
	fprintf(stderr, "usage: steer-synflood --src A --target VIP --port P "
			"[--count N] [--rate R] [--seconds S]\n");
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"src", required_argument, NULL, 's'},
		{"target", required_argument, NULL, 't'},
		{"port", required_argument, NULL, 'p'},
		{"count", required_argument, NULL, 'n'},
		{"rate", required_argument, NULL, 'r'},
		{"seconds", required_argument, NULL, 'S'},
		{NULL, 0, NULL, 0},
	};
	uint32_t count = 60000, rate = 0, secs = 5, port = 0, sent = 0, i;
	struct in_addr src = {0}, dst = {0};
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct mmsghdr mm[SF_BATCH];
	struct iovec iov[SF_BATCH];
	struct sf_pkt p[SF_BATCH];
	uint64_t t0, end, now;
	uint32_t j, k;
	int c, fd, n, one = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if ((c == 's' && inet_pton(AF_INET, optarg, &src) != 1) ||
		    (c == 't' && inet_pton(AF_INET, optarg, &dst) != 1) ||
		    (c == 'p' && tool_parse_u32(optarg, 1, 65535, &port)) ||
		    (c == 'n' && tool_parse_u32(optarg, 1, SF_PORTS, &count)) ||
		    (c == 'r' && tool_parse_u32(optarg, 0, 10000000, &rate)) ||
		    (c == 'S' && tool_parse_u32(optarg, 1, 60, &secs)) ||
		    c == '?')
			return sf_usage();
	}
	if (!src.s_addr || !dst.s_addr || !port)
		return sf_usage();
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one))) {
		fprintf(stderr, "steer-synflood: raw socket: %s\n",
			strerror(errno));
		return 1;
	}
	to.sin_addr = dst;
	t0 = tool_now_ns();
	end = t0 + (uint64_t)secs * 1000000000ull;
	for (i = 0; i < count; i += k) {
		now = tool_now_ns();
		if (now >= end)
			break;
		/* Paced: SYN i leaves no earlier than i / rate s in. */
		while (rate && now - t0 < (uint64_t)i * 1000000000ull / rate) {
			now = tool_now_ns();
			if (now >= end)
				break;
		}
		k = count - i < SF_BATCH ? count - i : SF_BATCH;
		for (j = 0; j < k; j++) {
			sf_build(&p[j], src.s_addr, dst.s_addr,
				 htons((uint16_t)port), i + j);
			iov[j].iov_base = &p[j];
			iov[j].iov_len = sizeof(p[j]);
			mm[j].msg_hdr =
				(struct msghdr){.msg_name = &to,
						.msg_namelen = sizeof(to),
						.msg_iov = &iov[j],
						.msg_iovlen = 1};
		}
		n = sendmmsg(fd, mm, k, 0);
		if (n > 0)
			sent += (uint32_t)n;
	}
	now = tool_now_ns();
	printf("sent %u seconds %.3f rate %.0f\n", sent, (now - t0) / 1e9,
	       sent / ((now - t0) / 1e9));
	close(fd);
	return 0;
}
