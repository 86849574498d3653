// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-synflood: the lab's new-flow generator. Sends N TCP SYNs, each of
 * a new flow (source ports 1024, 1025, ...), from this host's IPv4
 * address to a service, as fast as it can or at --rate per second, for
 * at most --seconds, through a raw socket (sendmmsg, 32 at a time). Nothing answers them here: the
 * backends' SYN-ACKs reach this host's stack, which resets them. For
 * benchmarks of how many new flows per second the cells take.
 *
 * With --sources CIDR instead of --src, a flood as an attacker sends
 * one: each SYN from a random address of the IPv4 prefix (/8 to /30) and
 * a random port, with a random sequence number (--seed X, default 1,
 * makes the sequence repeatable); N up to 100,000,000. The answers go to
 * those addresses (the lab routes them nowhere).
 *
 *   steer-synflood --src A|--sources CIDR --target VIP --port P
 *                  [--count N] [--rate R] [--seconds S] [--seed X]
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
#include <stdlib.h>
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

/* Random sources: a prefix (network order) and a generator's state. */
struct sf_random {
	uint32_t net, mask;
	uint64_t state;
};

static uint64_t sf_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int sf_prefix(const char *s, struct sf_random *r)
{
	char buf[32], *slash, *end;
	struct in_addr a;
	long bits;

	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -1;
	slash = strchr(buf, '/');
	if (!slash)
		return -1;
	*slash++ = 0;
	bits = strtol(slash, &end, 10);
	if (end == slash || *end || bits < 8 || bits > 30 ||
	    inet_pton(AF_INET, buf, &a) != 1)
		return -1;
	r->mask = htonl(~0u << (32 - bits));
	r->net = a.s_addr & r->mask;
	return 0;
}

/* SYN i: IPv4 + TCP headers, checksums and all; from a random source,
 * port and sequence when rnd is given. */
static void sf_build(struct sf_pkt *p, uint32_t src, uint32_t dst,
		     uint16_t dport, uint32_t i, struct sf_random *rnd)
{
	uint64_t x = rnd ? sf_next(&rnd->state) : 0;

	uint32_t sum;

	memset(p, 0, sizeof(*p));
	p->ver_ihl = 0x45;
	p->tot_len = htons(sizeof(*p));
	p->id = htons((uint16_t)i);
	p->ttl = 64;
	p->proto = IPPROTO_TCP;
	p->saddr = rnd ? rnd->net | ((uint32_t)x & ~rnd->mask) : src;
	p->daddr = dst;
	p->csum = sf_fold(sf_sum(p, 20, 0));
	p->sport = htons((uint16_t)(1024 + (rnd ? (x >> 32) : i) % SF_PORTS));
	p->dport = dport;
	p->seq = htonl(rnd ? (uint32_t)(x >> 16) : 0x53000000u + i);
	p->doff = 5 << 4;
	p->flags = 0x02;
	p->win = htons(64240);
	/* Pseudo-header: addresses, protocol, TCP length. */
	sum = sf_sum(&p->saddr, 8, 0) + htons(IPPROTO_TCP) + htons(20);
	p->tcsum = sf_fold(sf_sum(&p->sport, 20, sum));
}

/* Sleep for most of ns when it is more than 100 us. */
static void sf_nap(uint64_t ns)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)(ns - 50000)};

	if (ns <= 100000)
		return;
	if (ns >= 1000000000ull)
		ts = (struct timespec){.tv_sec = 0, .tv_nsec = 999999999};
	nanosleep(&ts, NULL);
}

static int sf_usage(void)
{
	fprintf(stderr, "usage: steer-synflood --src A|--sources CIDR --target "
			"VIP --port P [--count N] [--rate R] [--seconds S] "
			"[--seed X]\n");
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
		{"sources", required_argument, NULL, 'c'},
		{"seed", required_argument, NULL, 'x'},
		{NULL, 0, NULL, 0},
	};
	struct sf_random rnd = {0}, *rp = NULL;
	uint32_t seed = 1;
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
		    (c == 'n' &&
		     tool_parse_u32(optarg, 1, 100000000, &count)) ||
		    (c == 'c' && sf_prefix(optarg, &rnd)) ||
		    (c == 'x' &&
		     tool_parse_u32(optarg, 0, UINT32_MAX, &seed)) ||
		    (c == 'r' && tool_parse_u32(optarg, 0, 10000000, &rate)) ||
		    (c == 'S' && tool_parse_u32(optarg, 1, 60, &secs)) ||
		    c == '?')
			return sf_usage();
	}
	if (rnd.mask)
		rp = &rnd;
	rnd.state = seed;
	/* One source or random ones; one source's ports run out at
	 * SF_PORTS. */
	if (!src.s_addr == !rp || !dst.s_addr || !port ||
	    (!rp && count > SF_PORTS))
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
		/* Paced: SYN i leaves no earlier than i / rate s in (asleep
		 * while that is far, so the pace costs no CPU). */
		while (rate && now - t0 < (uint64_t)i * 1000000000ull / rate) {
			sf_nap(t0 + (uint64_t)i * 1000000000ull / rate - now);
			now = tool_now_ns();
			if (now >= end)
				break;
		}
		k = count - i < SF_BATCH ? count - i : SF_BATCH;
		for (j = 0; j < k; j++) {
			sf_build(&p[j], src.s_addr, dst.s_addr,
				 htons((uint16_t)port), i + j, rp);
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
