// SPDX-License-Identifier: GPL-2.0-only
#include "node/node_load.h"

#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/evloop.h"
#include "xdp/xdp_maps.h"

/* Busy permille since the last call; 0 on the first or on failure. */
static uint16_t node_load_cpu(struct node_load *l)
{
	uint64_t v[8] = {0}, total = 0, idle, dt, di;
	FILE *f = fopen("/proc/stat", "re");
	uint16_t pm = 0;
	int n, i;

	if (!f)
		return 0;
	n = fscanf(f,
		   "cpu %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		   " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return 0;
	for (i = 0; i < 8; i++)
		total += v[i];
	idle = v[3] + v[4]; /* idle + iowait */
	dt = total - l->cpu_total;
	di = idle - l->cpu_idle;
	if (l->cpu_total && dt && di <= dt)
		pm = (uint16_t)((dt - di) * 1000 / dt);
	l->cpu_total = total;
	l->cpu_idle = idle;
	return pm;
}

/* Busy permille of the machine's CPUs the cgroup at dir used since the
 * last call (cpu.stat's usage_usec); 0 on the first or on failure. */
static uint16_t node_load_cpu_cgroup(struct node_load *l, const char *dir)
{
	char path[PATH_MAX + 16], key[32];
	uint64_t v, usage = 0, now = evloop_now_ns() / 1000, du, dt;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	uint16_t pm = 0;
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cpu.stat", dir);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (!found && fscanf(f, "%31s %" SCNu64, key, &v) == 2)
		if (!strcmp(key, "usage_usec")) {
			usage = v;
			found = 1;
		}
	fclose(f);
	if (!found)
		return 0;
	du = usage - l->cg_usage_us;
	dt = now - l->cg_at_us;
	if (l->cg_at_us && usage >= l->cg_usage_us && dt && ncpu > 0) {
		v = du * 1000 / (dt * (uint64_t)ncpu);
		pm = (uint16_t)(v > 1000 ? 1000 : v);
	}
	l->cg_usage_us = usage;
	l->cg_at_us = now;
	return pm;
}

static uint16_t node_load_mem(void)
{
	uint64_t total = 0, avail = 0, v;
	char key[64];
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %" SCNu64 " kB", key, &v) == 2) {
		if (!strcmp(key, "MemTotal:"))
			total = v;
		else if (!strcmp(key, "MemAvailable:"))
			avail = v;
	}
	fclose(f);
	return total && avail <= total
		       ? (uint16_t)((total - avail) * 1000 / total)
		       : 0;
}

/* Bytes the stack sent through interface ifindex (0 on failure). */
static uint64_t node_load_if_tx(int ifindex)
{
	char name[IF_NAMESIZE], path[96];
	uint64_t v = 0;
	FILE *f;

	if (ifindex <= 0 || !if_indextoname((unsigned)ifindex, name))
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_bytes",
		 name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%" SCNu64, &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Per second from two readings of a counter ms apart (0 when it went
 * back: a reset, or no reading before). */
static double node_load_rate(uint64_t before, uint64_t now, bool span,
			     uint64_t ms)
{
	if (!span || now < before)
		return 0;
	return (double)(now - before) * 1000.0 / (double)ms;
}

void node_load_measure(struct node_load *l, struct xdp_prog *x,
		       struct sockops *so)
{
	struct steer_xdp_stats xs;
	struct steer_sock_stats ss;
	uint64_t now = evloop_now_ms(), bps = 0, new_total = 0, exc = 0;
	uint64_t tx, out_bps = 0;
	uint32_t sessions = l->udp_sessions;
	bool span = l->at_ms && now > l->at_ms;

	if (x && !xdp_maps_stats_read(x, &xs)) {
		bps = (uint64_t)(8 * node_load_rate(l->rx_bytes, xs.rx_bytes,
						    span, now - l->at_ms));
		l->rx_bytes = xs.rx_bytes;
		tx = xs.tx_bytes + node_load_if_tx(xdp_prog_ifindex(x));
		out_bps = (uint64_t)(8 * node_load_rate(l->tx_bytes, tx, span,
							now - l->at_ms));
		l->tx_bytes = tx;
		new_total += xs.udp_new;
		exc = xs.action[STEER_ACT_EXCEPTION];
	}
	if (so && !sockops_stats_read(so, &ss)) {
		if (ss.up >= ss.down)
			sessions += (uint32_t)(ss.up - ss.down);
		new_total += ss.up;
	}
	l->new_per_s =
		node_load_rate(l->new_total, new_total, span, now - l->at_ms);
	l->exception_pps =
		node_load_rate(l->exc_total, exc, span, now - l->at_ms);
	l->new_total = new_total;
	l->exc_total = exc;
	l->cpu_permille = l->cpu_cgroup && l->cpu_cgroup[0]
				  ? node_load_cpu_cgroup(l, l->cpu_cgroup)
				  : node_load_cpu(l);
	l->mem_permille = node_load_mem();
	l->bandwidth_bps = bps;
	l->bandwidth_out_bps = out_bps;
	l->sessions = sessions;
	l->at_ms = now;
}

void node_load_report(struct node_load *l, struct xdp_prog *x,
		      struct sockops *so, struct gossip *g)
{
	node_load_measure(l, x, so);
	gossip_load_report(g, l->cpu_permille, l->mem_permille,
			   l->bandwidth_bps, l->sessions);
}
