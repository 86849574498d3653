// SPDX-License-Identifier: GPL-2.0-only
/*
 * steer-decap: what a backend of a cell-mode service runs. It attaches
 * steer's XDP program to the backend's interface in backend mode: a GUE
 * (variant 0 or 1) or IP-in-IP packet addressed to one of the backend's
 * addresses is stripped and handed to the stack, which finds the service
 * address on lo and answers the client directly (direct server return).
 * This kernel has no ipip or fou module: this program is the decapsulator.
 *
 *   steer-decap --interface IF --addr ADDR [--addr ADDR6] [--gue-port P]
 *               [--pin-dir DIR] [--counters]
 *
 * Runs until SIGINT/SIGTERM, then detaches. A program left by a killed
 * run is replaced. --counters prints the program's counters at exit.
 * Exit status: 0 after a clean stop, 1 when it could not attach, 2 for a
 * usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "fastpath/fastpath.h"
#include "util/log.h"
#include "xdp/xdp_maps.h"
#include "xdp/xdp_prog.h"

struct decap_args {
	const char *ifname;
	const char *pin_dir;
	struct steer_xdp_cfg cfg;
	bool have4, have6, counters;
};

static void decap_usage(FILE *f)
{
	fprintf(f, "usage: steer-decap --interface IF --addr ADDR "
		   "[--addr ADDR6] [--gue-port P]\n"
		   "                   [--pin-dir DIR] [--counters]\n");
}

/* One --addr: IPv4 or IPv6, at most one of each. 0 or -EINVAL. */
static int decap_addr(struct decap_args *a, const char *s)
{
	__be32 v4;

	if (inet_pton(AF_INET, s, &v4) == 1 && !a->have4) {
		flow_addr_set_v4(&a->cfg.self_addr, v4);
		a->have4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->cfg.self_addr6.b) == 1 && !a->have6) {
		a->have6 = true;
		return 0;
	}
	fprintf(stderr,
		"steer-decap: --addr expects one IPv4 and one IPv6 address at "
		"most, got '%s'\n",
		s);
	return -EINVAL;
}

static int decap_args_parse(int argc, char **argv, struct decap_args *a)
{
	static const struct option lopts[] = {
		{"interface", required_argument, NULL, 'i'},
		{"addr", required_argument, NULL, 'a'},
		{"gue-port", required_argument, NULL, 'g'},
		{"pin-dir", required_argument, NULL, 'P'},
		{"counters", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	long v;
	int c;

	memset(a, 0, sizeof(*a));
	a->cfg.gue_port = htons(6080);
	a->cfg.mtu = 1500;
	a->cfg.max_encap = STEER_MAX_ENCAP;
	a->cfg.mode = STEER_XDP_MODE_BACKEND;
	a->cfg.self_id = STEER_NODE_NONE;
	while ((c = getopt_long(argc, argv, "i:a:g:P:ch", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a->ifname = optarg;
			break;
		case 'a':
			if (decap_addr(a, optarg))
				return -EINVAL;
			break;
		case 'g':
			v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 65535) {
				fprintf(stderr,
					"steer-decap: --gue-port expects "
					"1..65535, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			a->cfg.gue_port = htons((uint16_t)v);
			break;
		case 'P':
			a->pin_dir = optarg;
			break;
		case 'c':
			a->counters = true;
			break;
		case 'h':
			decap_usage(stdout);
			exit(0);
		default:
			decap_usage(stderr);
			return -EINVAL;
		}
	}
	if (!a->ifname || (!a->have4 && !a->have6) || optind != argc) {
		decap_usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void decap_counters(struct xdp_prog *x)
{
	struct steer_xdp_stats s;
	int i;

	if (xdp_maps_stats_read(x, &s))
		return;
	fprintf(stderr, "steer-decap: rx %llu decap %llu notip %llu",
		(unsigned long long)s.rx_packets, (unsigned long long)s.decap,
		(unsigned long long)s.notip);
	for (i = 1; i < PERR__MAX; i++)
		if (s.parse_err[i])
			fprintf(stderr, " %s %llu", fastpath_parse_err_name(i),
				(unsigned long long)s.parse_err[i]);
	fputc('\n', stderr);
}

/* Block until SIGINT or SIGTERM. */
static void decap_wait(void)
{
	struct signalfd_siginfo si;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0) {
		sigwaitinfo(&set, NULL);
		return;
	}
	while (read(fd, &si, sizeof(si)) < 0 && errno == EINTR)
		;
	close(fd);
}

int main(int argc, char **argv)
{
	struct xdp_prog_opts xo = {0};
	struct decap_args a;
	struct xdp_prog *x;
	int ifindex, err;

	if (decap_args_parse(argc, argv, &a))
		return 2;
	ifindex = (int)if_nametoindex(a.ifname);
	if (!ifindex) {
		fprintf(stderr, "steer-decap: no interface '%s'\n", a.ifname);
		return 1;
	}
	xo.pin_dir = a.pin_dir;
	x = xdp_prog_open(&xo);
	if (!x) {
		fprintf(stderr,
			"steer-decap: cannot load the XDP program: %s\n",
			strerror(errno));
		return 1;
	}
	err = xdp_maps_cfg_set(x, &a.cfg);
	if (!err)
		err = xdp_prog_attach(x, ifindex);
	if (err) {
		fprintf(stderr, "steer-decap: %s: %s\n", a.ifname,
			strerror(-err));
		xdp_prog_close(x);
		return 1;
	}
	log_info("decap", "%s: stripping tunnels addressed to this backend",
		 a.ifname);
	decap_wait();
	if (a.counters)
		decap_counters(x);
	xdp_prog_close(x);
	return 0;
}
